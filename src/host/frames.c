/*
 * frames.c - the host's machine memory: frames with real bytes.
 *
 * One anonymous mmap (MAP_NORESERVE) the size of the simulated host holds
 * every frame's bytes; the kernel gives this process real memory only for
 * frames something writes, so an idle 64 GiB host costs nothing. Frames are
 * split into NUMA nodes of equal size. Each node hands out never-used frames
 * in address order (its `fresh` mark) and recycles freed ones LIFO from a
 * stack, so allocation and freeing are O(1) and need no initialisation pass
 * over the whole host.
 *
 * Frame 0 is the zero frame: all zeros, never written, never freed. Every
 * zero-shared guest page maps it, as ESX maps zero pages to one machine
 * page and Linux KSM (use_zero_pages) to the kernel's zero page. Its
 * descriptor is the zero page's.
 *
 * Descriptors (host.h). fdesc is a second MAP_NORESERVE array, 8 bytes a
 * frame, backed only where frames were used. Invariant: the arena page of
 * a frame with a descriptor is all zeros. It holds because a frame takes a
 * descriptor either never written (a fresh frame) or after its page is
 * dropped with MADV_DONTNEED (which reads back as zeros), and nothing
 * writes it until mv_host_frame_write / _overwrite make it BYTES again.
 * MV_FRAME_WRITTEN says which frames need the drop: it is set whenever a
 * frame is (or is freed as) BYTES, so a frame fresh from the arena or one
 * that never left descriptor form costs no system call.
 *
 * The arena is advised MADV_NOHUGEPAGE: with descriptors most frames are
 * never written, and the few that are (page tables, compression-cache
 * frames, trace data) lie scattered, so a 2 MiB page per written 4 KiB
 * would multiply the memory they cost. Not advising it is not enough: a
 * system whose transparent huge pages are "always" (the machines here)
 * backs a written 4 KiB with 2 MiB all the same.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memvisor/host.h"
#include "memvisor/vm.h"

#define HUGE_BYTES (2u << 20) /* an x86-64 transparent huge page */

/* The frame words' bytes: 3 a frame and one more, which the 4-byte load
 * of the last word reads (mv_frame_word). */
static size_t frame_words_bytes(uint64_t nframes)
{
	return nframes * MV_FRAME_WORD_BYTES + 1;
}

int mv_host_create(const struct mv_host_config *cfg, struct mv_host **out,
		   struct mv_error *err)
{
	*out = NULL;
	if (cfg->mem_bytes < 16 * MV_MIB || cfg->mem_bytes % MV_PAGE_SIZE)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host/memory",
				    "must be at least 16 MiB and a multiple "
				    "of 4 KiB");
	/* 2^28 + 1 frames at most: a pmap entry holds 29 bits of frame */
	_Static_assert(1024 * MV_GIB / MV_PAGE_SIZE + 1 <= MV_PME_MPN_MAX,
		       "frame numbers fit a pmap entry");
	if (cfg->mem_bytes > 1024 * MV_GIB)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host/memory",
				    "at most 1 TiB is supported");
	if (cfg->nodes < 1 || cfg->nodes > MV_MAX_NODES)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host/numa",
				    "nodes must be 1..%d", MV_MAX_NODES);

	struct mv_host *h = calloc(1, sizeof *h);
	if (!h)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	h->cfg = *cfg;
	/* The zero frame comes on top of the host's memory, as the kernel's
	 * zero page does: guests can use every configured byte. */
	h->nframes = cfg->mem_bytes / MV_PAGE_SIZE + 1;
	h->nnodes = cfg->nodes;
	h->frame = mv_dense_alloc(frame_words_bytes(h->nframes));
	void *a = mmap(NULL, h->nframes * MV_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	void *d = mmap(NULL, h->nframes * sizeof *h->fdesc,
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!h->frame || a == MAP_FAILED || d == MAP_FAILED) {
		if (a != MAP_FAILED)
			munmap(a, h->nframes * MV_PAGE_SIZE);
		if (d != MAP_FAILED)
			munmap(d, h->nframes * sizeof *h->fdesc);
		mv_dense_free(h->frame, frame_words_bytes(h->nframes));
		free(h);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "host/memory",
				    "cannot map %llu bytes for frames",
				    (unsigned long long)cfg->mem_bytes);
	}
	/* not enough to leave it unadvised where the system's THP mode is
	 * "always": say so */
	madvise(a, h->nframes * MV_PAGE_SIZE, MADV_NOHUGEPAGE);
	/* The frame words (mv_dense_alloc) and descriptors are the
	 * opposite: 4 and 8 bytes a frame, read at random frames on every
	 * fault, free, scan and write of a recycled frame, and backed from
	 * each node's start up (frames are handed out in address order
	 * before any is recycled). In 4 KiB pages each such read cost a TLB
	 * miss as well as a cache miss; in 2 MiB pages the descriptors of
	 * 256 Ki frames share one TLB entry. */
	if (h->nframes * sizeof *h->fdesc >= HUGE_BYTES)
		madvise(d, h->nframes * sizeof *h->fdesc, MADV_HUGEPAGE);
	h->arena = a;
	h->fdesc = d;
	/* Nobody may ever write the zero frame: make that a crash, not a
	 * silent corruption of every zero-shared page. */
	mprotect(h->arena, MV_PAGE_SIZE, PROT_READ);

	uint64_t usable = h->nframes - 1;
	uint64_t per = usable / (uint64_t)h->nnodes;
	uint64_t first = 1;
	for (int i = 0; i < h->nnodes; i++) {
		struct mv_host_node *n = &h->node[i];
		n->first = first;
		n->nframes = (i == h->nnodes - 1) ? usable - per * (uint64_t)i
						  : per;
		n->nfree = n->nframes;
		n->fresh = n->first;
		/* sized for every frame, backed to its high-water mark */
		n->stack = mv_sparse_alloc(n->nframes * sizeof *n->stack);
		if (!n->stack) {
			mv_host_destroy(h);
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		}
		first += n->nframes;
	}
	h->nfree = usable;
	/* pinned; never tracked further */
	mv_frame_word_set(h, MV_ZERO_MPN, 1 | MV_FRAME_SHARED);
	h->fdesc[MV_ZERO_MPN] = MV_DESC_ZERO_PAGE;
	int rc = mv_hugetlb_reserve(h, err);
	if (rc) {
		mv_host_destroy(h);
		return rc;
	}
	*out = h;
	return 0;
}

void mv_host_destroy(struct mv_host *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->nnodes; i++)
		mv_sparse_free(h->node[i].stack,
			       h->node[i].nframes * sizeof *h->node[i].stack);
	if (h->arena)
		munmap(h->arena, h->nframes * MV_PAGE_SIZE);
	if (h->fdesc)
		munmap(h->fdesc, h->nframes * sizeof *h->fdesc);
	mv_dense_free(h->frame, frame_words_bytes(h->nframes));
	free(h->over);
	mv_hugetlb_destroy(h);
	free(h);
}

static mv_mpn_t node_alloc(struct mv_host *h, struct mv_host_node *n)
{
	mv_mpn_t mpn;
	if (n->nstack)
		mpn = n->stack[--n->nstack];
	else if (n->fresh < n->first + n->nframes)
		mpn = (mv_mpn_t)n->fresh++;
	else
		return MV_MPN_NONE;
	/* a free frame nobody maps; only WRITTEN survives freeing */
	assert((mv_frame_word(h, mpn) & ~MV_FRAME_WRITTEN) == 0);
	n->nfree--;
	h->nfree--;
	h->allocs++;
	mv_frame_word_set(h, mpn, mv_frame_word(h, mpn) | (1));
	/* the frame this node hands out next, a random one once frames are
	 * recycled: its word and descriptor are read and written as soon as
	 * it is taken. A hint only, read by nothing. */
	if (n->nstack) {
		mv_mpn_t next = n->stack[n->nstack - 1];
		__builtin_prefetch(
			h->frame + (size_t)next * MV_FRAME_WORD_BYTES, 1);
		__builtin_prefetch(&h->fdesc[next], 1);
	}
	return mpn;
}

mv_mpn_t mv_host_frame_alloc(struct mv_host *h, int node)
{
	if (node < 0 || node >= h->nnodes)
		node = 0;
	for (int i = 0; i < h->nnodes; i++) {
		int k = (node + i) % h->nnodes;
		struct mv_host_node *n = &h->node[k];
		if (n->nfree) {
			if (i)
				h->remote_allocs++;
			return node_alloc(h, n);
		}
	}
	return MV_MPN_NONE;
}

mv_mpn_t mv_host_frame_alloc_node(struct mv_host *h, int node)
{
	assert(node >= 0 && node < h->nnodes);
	return node_alloc(h, &h->node[node]);
}

static struct mv_frame_over *over_find(const struct mv_host *h, mv_mpn_t mpn)
{
	for (uint32_t i = 0; i < h->nover; i++)
		if (h->over[i].mpn == mpn)
			return &h->over[i];
	return NULL;
}

uint64_t mv_host_frame_refs_over(const struct mv_host *h, mv_mpn_t mpn)
{
	const struct mv_frame_over *o = over_find(h, mpn);
	return o ? o->extra : 0;
}

/* One more reference on a frame whose count field is full. */
static void over_get(struct mv_host *h, mv_mpn_t mpn)
{
	struct mv_frame_over *o = over_find(h, mpn);
	if (!o) {
		if (mv_array_room(&h->over, &h->cap_over, h->nover,
				  sizeof *h->over, 4))
			abort(); /* out of memory mid-step */
		o = &h->over[h->nover++];
		o->mpn = mpn;
		o->extra = 0;
	}
	o->extra++;
}

/* One reference fewer on a frame whose count field is full: from the
 * overflow while it has any, else from the field. */
static void over_put(struct mv_host *h, mv_mpn_t mpn)
{
	struct mv_frame_over *o = over_find(h, mpn);
	if (!o) {
		mv_frame_word_set(h, mpn, mv_frame_word(h, mpn) - 1);
		return;
	}
	if (--o->extra == 0)
		*o = h->over[--h->nover];
}

void mv_host_frame_get(struct mv_host *h, mv_mpn_t mpn)
{
	if (mpn == MV_ZERO_MPN)
		return;
	/* only a frame in use gains a mapping */
	assert(mpn < h->nframes);
	assert(mv_frame_word(h, mpn) & MV_FRAME_REFS);
	if ((mv_frame_word(h, mpn) & MV_FRAME_REFS) == MV_FRAME_REFS)
		over_get(h, mpn);
	else
		mv_frame_word_set(h, mpn, mv_frame_word(h, mpn) + 1);
	if (mv_frame_word(h, mpn) & MV_FRAME_SHARED) {
		h->shared_refs++;
		if (h->ref_hook) {
			uint64_t r = mv_host_frame_refs(h, mpn);
			h->ref_hook(h->ref_ctx, mpn, r - 1, r);
		}
	}
}

void mv_host_frame_set_shared(struct mv_host *h, mv_mpn_t mpn, int on)
{
	assert(mpn != MV_ZERO_MPN && mpn < h->nframes &&
	       (mv_frame_word(h, mpn) & MV_FRAME_REFS));
	int was = !!(mv_frame_word(h, mpn) & MV_FRAME_SHARED);
	if (was == !!on)
		return;
	if (on) {
		mv_frame_word_set(h, mpn,
				  mv_frame_word(h, mpn) | (MV_FRAME_SHARED));
		h->shared_frames++;
		h->shared_refs += mv_host_frame_refs(h, mpn);
	} else {
		mv_frame_word_set(h, mpn,
				  mv_frame_word(h, mpn) & ~(MV_FRAME_SHARED));
		h->shared_frames--;
		h->shared_refs -= mv_host_frame_refs(h, mpn);
	}
}

void mv_host_frame_put(struct mv_host *h, mv_mpn_t mpn)
{
	if (mpn == MV_ZERO_MPN)
		return;
	/* a refcount never goes below zero: a put without its get */
	assert(mpn < h->nframes);
	assert(mv_frame_word(h, mpn) & MV_FRAME_REFS);
	uint32_t shared = mv_frame_word(h, mpn) & MV_FRAME_SHARED;
	uint64_t before = shared ? mv_host_frame_refs(h, mpn) : 0;
	if ((mv_frame_word(h, mpn) & MV_FRAME_REFS) == MV_FRAME_REFS)
		over_put(h, mpn);
	else
		mv_frame_word_set(h, mpn, mv_frame_word(h, mpn) - 1);
	if (shared) {
		h->shared_refs--;
		if (h->ref_hook)
			h->ref_hook(h->ref_ctx, mpn, before, before - 1);
	}
	if (mv_frame_word(h, mpn) & MV_FRAME_REFS)
		return;
	if (shared)
		h->shared_frames--;
	/* a BYTES frame may have been written by anyone holding it; the
	 * count is zero, the other flags go */
	mv_frame_word_set(h, mpn,
			  h->fdesc[mpn] == MV_DESC_BYTES
				  ? MV_FRAME_WRITTEN
				  : mv_frame_word(h, mpn) & MV_FRAME_WRITTEN);
	h->fdesc[mpn] = MV_DESC_BYTES;
	struct mv_host_node *n = &h->node[mv_host_frame_node(h, mpn)];
	n->stack[n->nstack++] = mpn;
	if (n->nstack > n->stack_hw)
		n->stack_hw = n->nstack;
	n->nfree++;
	h->nfree++;
	h->frees++;
}

const uint8_t *mv_host_frame_read(const struct mv_host *h, mv_mpn_t mpn,
				  uint8_t *buf)
{
	mv_desc_t d = h->fdesc[mpn];
	/* a zero descriptor's arena page is all zeros (the invariant) */
	if (d == MV_DESC_BYTES || d == MV_DESC_ZERO_PAGE)
		return mv_host_frame(h, mpn);
	mv_content_fill(buf, d);
	return buf;
}

uint8_t *mv_host_frame_overwrite(struct mv_host *h, mv_mpn_t mpn)
{
	assert(mpn != MV_ZERO_MPN && mpn < h->nframes);
	h->fdesc[mpn] = MV_DESC_BYTES;
	mv_frame_word_set(h, mpn, mv_frame_word(h, mpn) | (MV_FRAME_WRITTEN));
	return mv_host_frame(h, mpn);
}

void mv_host_frame_copy(struct mv_host *h, mv_mpn_t to, mv_mpn_t from)
{
	mv_desc_t d = mv_host_frame_desc(h, from);
	if (d != MV_DESC_BYTES)
		mv_host_frame_set_desc(h, to, d);
	else
		memcpy(mv_host_frame_overwrite(h, to), mv_host_frame(h, from),
		       MV_PAGE_SIZE);
}

uint8_t *mv_host_frame_write(struct mv_host *h, mv_mpn_t mpn)
{
	mv_desc_t d = h->fdesc[mpn];
	uint8_t *p = mv_host_frame_overwrite(h, mpn);
	/* the arena page of a descriptor frame is zeros: G(zero) already */
	if (d != MV_DESC_BYTES && d != MV_DESC_ZERO_PAGE)
		mv_content_fill(p, d);
	return p;
}

void mv_host_frame_set_desc(struct mv_host *h, mv_mpn_t mpn, mv_desc_t d)
{
	assert(mpn != MV_ZERO_MPN && mpn < h->nframes);
	assert(d != MV_DESC_BYTES);
	if (mv_frame_word(h, mpn) & MV_FRAME_WRITTEN) {
		/* the one system call of the transition: the page reads back
		 * as zeros and costs no memory until written again */
		madvise(mv_host_frame(h, mpn), MV_PAGE_SIZE, MADV_DONTNEED);
		mv_frame_word_set(h, mpn,
				  mv_frame_word(h, mpn) & ~(MV_FRAME_WRITTEN));
		h->drops++;
	}
	h->fdesc[mpn] = d;
}

int mv_host_check(const struct mv_host *h, struct mv_error *err)
{
	uint64_t total_free = 0;
	for (int i = 0; i < h->nnodes; i++) {
		const struct mv_host_node *n = &h->node[i];
		uint64_t nf = n->nstack + (n->first + n->nframes - n->fresh);
		if (nf != n->nfree)
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, "host",
				"node %d: %llu frames on free lists "
				"but nfree is %llu",
				i, (unsigned long long)nf,
				(unsigned long long)n->nfree);
		for (uint64_t k = 0; k < n->nstack; k++)
			if (mv_frame_word(h, n->stack[k]) & MV_FRAME_REFS)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, "host",
					"free frame %u has refcount %llu",
					n->stack[k],
					(unsigned long long)mv_host_frame_refs(
						h, n->stack[k]));
		total_free += n->nfree;
	}
	if (total_free != h->nfree)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host",
				    "free frames %llu != nfree %llu",
				    (unsigned long long)total_free,
				    (unsigned long long)h->nfree);
	uint64_t in_use = 0, sf = 0, sr = 0;
	for (uint64_t m = 1; m < h->nframes; m++) {
		uint64_t refs = mv_host_frame_refs(h, (mv_mpn_t)m);
		in_use += refs != 0;
		if (refs && (mv_frame_word(h, m) & MV_FRAME_SHARED)) {
			sf++;
			sr += refs;
		}
		/* freeing resets the descriptor: a free frame is BYTES */
		if (refs == 0 && h->fdesc[m] != MV_DESC_BYTES)
			return mv_error_set(err, MV_EINVAL, NULL, 0, "host",
					    "free frame %llu has descriptor "
					    "%016llx",
					    (unsigned long long)m,
					    (unsigned long long)h->fdesc[m]);
	}
	for (uint32_t i = 0; i < h->nover; i++) {
		const struct mv_frame_over *o = &h->over[i];
		if (o->mpn >= h->nframes || !o->extra ||
		    (mv_frame_word(h, o->mpn) & MV_FRAME_REFS) != MV_FRAME_REFS)
			return mv_error_set(err, MV_EINVAL, NULL, 0, "host",
					    "overflow count of frame %u "
					    "without a full count field",
					    o->mpn);
	}
	if (sf != h->shared_frames || sr != h->shared_refs)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host",
				    "%llu sharing frames with %llu mappings, "
				    "counted %llu with %llu",
				    (unsigned long long)sf,
				    (unsigned long long)sr,
				    (unsigned long long)h->shared_frames,
				    (unsigned long long)h->shared_refs);
	if (h->fdesc[MV_ZERO_MPN] != MV_DESC_ZERO_PAGE)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host",
				    "the zero frame lost its descriptor");
	if (in_use + h->nfree != h->nframes - 1)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "host",
				    "%llu frames in use + %llu free != %llu",
				    (unsigned long long)in_use,
				    (unsigned long long)h->nfree,
				    (unsigned long long)(h->nframes - 1));
	return 0;
}

void mv_host_books(const struct mv_host *h, struct mv_books *b)
{
	b->host_frames += h->nframes;
	mv_books_add(b, "hypervisor", "host.frame", MV_FRAME_WORD_BYTES,
		     h->nframes);
	mv_books_add(b, "hypervisor", "host.refs-over", sizeof *h->over,
		     h->cap_over);
	mv_books_add(b, "hypervisor", "host.fdesc", sizeof *h->fdesc,
		     h->nframes);
	mv_books_add(b, "hypervisor", "host.hugetlb",
		     sizeof *h->hugetlb.run + sizeof *h->hugetlb.mapped,
		     h->hugetlb.total);
	/* sparse (core.h): the deepest each node's stack was */
	for (int i = 0; i < h->nnodes; i++)
		mv_books_add(b, "hypervisor", "host.free-stack",
			     sizeof *h->node[i].stack, h->node[i].stack_hw);
}

/* ---- aligned runs of frames (2 MiB host pages: docs/largepages.md) ---- */

/* Are frames [b, b + MV_RUN_FRAMES) of node n all free? */
static int run_free(const struct mv_host *h, const struct mv_host_node *n,
		    uint64_t b)
{
	if (b < n->first || b + MV_RUN_FRAMES > n->first + n->nframes)
		return 0;
	for (uint64_t m = b; m < b + MV_RUN_FRAMES && m < n->fresh; m++)
		if (mv_frame_word(h, m) & MV_FRAME_REFS)
			return 0;
	return 1;
}

/* Take the free run at b off node n's free lists, refcount 1 each. */
static void run_take(struct mv_host *h, struct mv_host_node *n, uint64_t b)
{
	uint64_t end = b + MV_RUN_FRAMES;
	uint64_t below = n->fresh < end ? n->fresh : end; /* stacked part */
	if (below > b) {
		uint64_t k = 0;
		for (uint64_t i = 0; i < n->nstack; i++)
			if (n->stack[i] < b || n->stack[i] >= below)
				n->stack[k++] = n->stack[i];
		assert(n->nstack - k == below - b);
		n->nstack = k;
	}
	if (n->fresh < end) {
		/* never-used frames skipped to reach the alignment stay
		 * free, on the stack */
		for (uint64_t m = n->fresh; m < b; m++)
			n->stack[n->nstack++] = (mv_mpn_t)m;
		if (n->nstack > n->stack_hw)
			n->stack_hw = n->nstack;
		n->fresh = end;
	}
	for (uint64_t m = b; m < end; m++) {
		assert((mv_frame_word(h, m) & ~MV_FRAME_WRITTEN) == 0);
		mv_frame_word_set(h, m, mv_frame_word(h, m) | (1));
	}
	n->nfree -= MV_RUN_FRAMES;
	h->nfree -= MV_RUN_FRAMES;
	h->allocs += MV_RUN_FRAMES;
}

/* A free aligned run in node n: the never-used frames first (no stack
 * to search), then a block of recycled free frames; 0 if none. */
static uint64_t node_run(const struct mv_host *h, const struct mv_host_node *n)
{
	if (n->nfree < MV_RUN_FRAMES)
		return 0;
	uint64_t a = (n->fresh + MV_RUN_FRAMES - 1) &
		     ~(uint64_t)(MV_RUN_FRAMES - 1);
	if (run_free(h, n, a))
		return a;
	for (uint64_t b = (n->first + MV_RUN_FRAMES - 1) &
			  ~(uint64_t)(MV_RUN_FRAMES - 1);
	     b < n->fresh; b += MV_RUN_FRAMES)
		if (run_free(h, n, b))
			return b;
	return 0;
}

mv_mpn_t mv_host_frame_alloc_run_node(struct mv_host *h, int node)
{
	assert(node >= 0 && node < h->nnodes);
	struct mv_host_node *n = &h->node[node];
	uint64_t b = node_run(h, n);
	if (!b)
		return MV_MPN_NONE;
	run_take(h, n, b);
	return (mv_mpn_t)b;
}

mv_mpn_t mv_host_frame_alloc_run(struct mv_host *h, int node)
{
	if (node < 0 || node >= h->nnodes)
		node = 0;
	for (int i = 0; i < h->nnodes; i++) {
		mv_mpn_t b = mv_host_frame_alloc_run_node(h, (node + i) %
								     h->nnodes);
		if (b != MV_MPN_NONE) {
			if (i)
				h->remote_allocs += MV_RUN_FRAMES;
			return b;
		}
	}
	return MV_MPN_NONE;
}
