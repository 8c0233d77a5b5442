/*
 * zcache.c - memory compression (ESX 4.1) and the per-VM reclaimer.
 *
 * Before the hypervisor swaps a page it tries to compress it (VMware,
 * "Understanding Memory Resource Management in VMware vSphere 5.0",
 * section 3.4; "What's New in VMware vSphere 4.1"): if LZ4 makes it 2 KiB
 * or less it stays in memory, in the VM's compression cache, and a later
 * access costs a decompression (microseconds) instead of a disk read
 * (a hundred microseconds to milliseconds). Otherwise it goes to the
 * VM's swap file. The cache is bounded (ESX default: 10% of the VM's
 * memory); when it is full its oldest page is moved to the swap file to
 * make room.
 *
 * Layout. The cache is made of host frames, each cut into two 2 KiB
 * halves; a slot is one half (slot s = half s & 1 of cache frame s >> 1),
 * so compressed data lives in real host memory, counts against the host's
 * free memory, and two compressed pages share one frame. A compressed page's
 * pmap entry holds its slot number. Per slot the cache keeps the compressed
 * length (0 = free), the owning GPPN and its place in a FIFO list in
 * insertion order, which is the eviction order.
 *
 * Frames are taken on demand up to capacity = cache_bytes / 4096 and
 * given back to the host as soon as both halves are empty. A frame with one
 * free half sits on the `half` set and is filled first, so the cache never
 * holds two half-empty frames it could have merged by placement. Hence, when
 * the cache holds `capacity` frames and none has a free half, every frame is
 * full: evicting the oldest slot always leaves exactly one free half to
 * reuse, never an empty frame.
 *
 * When the cache needs a new frame and the host has none free (reclaim runs
 * exactly when memory is short), the victim's own frame becomes the cache
 * frame: its bytes are already compressed on the stack, so nothing is lost
 * and the host's free memory never goes down because of compression.
 *
 * Content descriptors (host.h). page_out materialises the page and
 * compresses it with real LZ4 whatever its form: the compressed size
 * decides whether it is kept and it takes its half of a cache frame
 * exactly as before, so capacity, eviction and the host's free memory
 * are the same. A page whose frame has a descriptor keeps only the
 * descriptor and that size in its slot (desc[s]); its half is never
 * written, and page_in gives the new frame the descriptor again. A BYTES
 * page keeps its compressed bytes and is decompressed with real LZ4.
 *
 * No byte is lost: a page changes state only after its bytes are in their
 * new place; an evicted page's compressed copy is freed only after its swap
 * write succeeded; a failed decompression keeps the slot.
 *
 * mv_reclaim_pages picks victims at random, as ESX does for hypervisor
 * swapping (Waldspurger, OSDI 2002, section 3.3): random choice needs no
 * access tracking and avoids the pathologies of LRU against a guest that
 * runs its own LRU.
 */
#include <assert.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "reclaim/zcache.h"

#define HALF (MV_PAGE_SIZE / 2)
#define NIL UINT32_MAX

struct mv_zcache {
	struct mv_vm *vm;
	struct mv_host *host;
	struct mv_swapfile *spill; /* may be NULL: then nothing can spill */
	uint64_t capacity;         /* frames */
	uint64_t nslots;           /* 2 * capacity */
	/* Per-frame and per-slot arrays are sparse (core.h): sized for the
	 * capacity, written only for the frames below `fresh` (and their
	 * slots), as cache frames are first used in order. */
	uint64_t fresh;   /* cache frames >= fresh never used */
	mv_mpn_t *frame;  /* per cache frame: host frame or NONE */
	uint32_t *unused; /* cache frames used before, now without a host
			     frame, LIFO */
	uint64_t nunused, unused_hw;
	uint32_t *half;     /* cache frames with exactly one half used */
	uint32_t *half_pos; /* where each frame is in half[] */
	uint64_t nhalf;
	uint16_t *len;         /* per slot: compressed bytes, 0 = free */
	mv_desc_t *desc;       /* per slot: the page's descriptor; BYTES: the
				  half holds the compressed bytes */
	mv_gppn_t *owner;      /* per slot */
	uint32_t *prev, *next; /* FIFO of used slots, oldest at head */
	uint32_t head, tail;
	struct mv_zcache_stats st;
	uint64_t frames_reused;
};

static uint8_t *slot_bytes(const struct mv_zcache *z, uint32_t s)
{
	return mv_host_frame(z->host, z->frame[s >> 1]) + (s & 1) * HALF;
}

#ifndef NDEBUG
/* Is cache frame f on the list of frames with one half used? (asserts) */
static int on_half(const struct mv_zcache *z, uint32_t f)
{
	return z->half_pos[f] < z->nhalf && z->half[z->half_pos[f]] == f;
}
#endif

static void half_add(struct mv_zcache *z, uint32_t f)
{
	assert(!on_half(z, f));
	z->half_pos[f] = (uint32_t)z->nhalf;
	z->half[z->nhalf++] = f;
}

static void half_remove(struct mv_zcache *z, uint32_t f)
{
	assert(on_half(z, f));
	uint32_t i = z->half_pos[f], last = z->half[--z->nhalf];
	z->half[i] = last;
	z->half_pos[last] = i;
}

static void fifo_append(struct mv_zcache *z, uint32_t s)
{
	z->prev[s] = z->tail;
	z->next[s] = NIL;
	if (z->tail != NIL)
		z->next[z->tail] = s;
	else
		z->head = s;
	z->tail = s;
}

static void fifo_unlink(struct mv_zcache *z, uint32_t s)
{
	if (z->prev[s] != NIL)
		z->next[z->prev[s]] = z->next[s];
	else
		z->head = z->next[s];
	if (z->next[s] != NIL)
		z->prev[z->next[s]] = z->prev[s];
	else
		z->tail = z->prev[s];
}

/* Free slot s; a frame left empty goes back to the host. */
static void slot_free(struct mv_zcache *z, uint32_t s)
{
	uint32_t f = s >> 1;
	/* a slot freed twice, or a half freed that holds nothing: the books
	 * below would go wrong (pages, bytes, a frame given back in use) */
	assert(s < z->nslots && z->len[s] != 0);
	assert(z->frame[f] != MV_MPN_NONE && z->st.pages > 0);
	/* its frame is half used exactly when the other half is free */
	assert(on_half(z, f) == !z->len[s ^ 1]);
	fifo_unlink(z, s);
	z->st.pages--;
	z->st.bytes -= z->len[s];
	z->len[s] = 0;
	if (z->len[s ^ 1]) {
		half_add(z, f);
		return;
	}
	half_remove(z, f);
	mv_host_frame_put(z->host, z->frame[f]);
	z->frame[f] = MV_MPN_NONE;
	z->unused[z->nunused++] = f;
	if (z->nunused > z->unused_hw)
		z->unused_hw = z->nunused;
	z->st.frames--;
}

/* Is s a live slot holding gppn's page? */
static int slot_valid(const struct mv_zcache *z, uint32_t s, mv_gppn_t gppn)
{
	return s < z->nslots && z->len[s] && z->owner[s] == gppn;
}

/* Decompress slot s into dst (4096 bytes): LZ4, or G(desc) materialised
 * for a descriptor page; 0 or MV_EIO. */
static int slot_decompress(const struct mv_zcache *z, uint32_t s, uint8_t *dst)
{
	if (z->desc[s] != MV_DESC_BYTES) {
		mv_content_fill(dst, z->desc[s]);
		return 0;
	}
	int n = LZ4_decompress_safe((const char *)slot_bytes(z, s), (char *)dst,
				    z->len[s], MV_PAGE_SIZE);
	return n == (int)MV_PAGE_SIZE ? 0 : MV_EIO;
}

/* Backing store: fault on a compressed page. */
static int zc_page_in(void *ctx, struct mv_vm *vm, mv_gppn_t gppn, mv_mpn_t mpn,
		      uint64_t *ns)
{
	struct mv_zcache *z = ctx;
	uint32_t s = vm->pmap[gppn].mpn;
	if (!slot_valid(z, s, gppn))
		return MV_EIO;
	if (z->desc[s] != MV_DESC_BYTES)
		mv_host_frame_set_desc(z->host, mpn, z->desc[s]);
	else if (slot_decompress(z, s, mv_host_frame_overwrite(z->host, mpn)))
		return MV_EIO; /* the slot stays: nothing is lost */
	slot_free(z, s);
	z->st.decompressed++;
	*ns = z->host->cfg.lat.decompress;
	return 0;
}

static int zc_peek(void *ctx, const struct mv_vm *vm, mv_gppn_t gppn,
		   uint8_t *dst)
{
	const struct mv_zcache *z = ctx;
	uint32_t s = vm->pmap[gppn].mpn;
	if (!slot_valid(z, s, gppn))
		return MV_EIO;
	return slot_decompress(z, s, dst);
}

static void zc_discard(void *ctx, struct mv_vm *vm, mv_gppn_t gppn)
{
	struct mv_zcache *z = ctx;
	uint32_t s = vm->pmap[gppn].mpn;
	if (slot_valid(z, s, gppn))
		slot_free(z, s);
}

int mv_zcache_create(struct mv_vm *vm, uint64_t cache_bytes,
		     struct mv_swapfile *spill, struct mv_zcache **out,
		     struct mv_error *err)
{
	*out = NULL;
	uint64_t cap = cache_bytes / MV_PAGE_SIZE;
	/* slots 2 * cap - 1 at most, in a pmap entry's 29 bits */
	if (cap > (MV_PME_MPN_MAX + 1ull) / 2)
		return mv_error_set(err, MV_EINVAL, vm->cfg.source,
				    vm->cfg.source_line, "compression cache",
				    "%llu bytes is too large",
				    (unsigned long long)cache_bytes);
	struct mv_zcache *z = calloc(1, sizeof *z);
	if (!z)
		return mv_error_set(err, MV_ENOMEM, NULL, 0,
				    "compression cache", "out of memory");
	z->vm = vm;
	z->host = vm->host;
	z->spill = spill;
	z->capacity = cap;
	z->nslots = 2 * cap;
	z->head = z->tail = NIL;
	size_t nf = cap ? cap : 1, ns = 2 * nf;
	z->frame = mv_sparse_alloc(nf * sizeof *z->frame);
	z->unused = mv_sparse_alloc(nf * sizeof *z->unused);
	z->half = mv_sparse_alloc(nf * sizeof *z->half);
	z->half_pos = mv_sparse_alloc(nf * sizeof *z->half_pos); /* zeroed:
								   on_half */
	z->len = mv_sparse_alloc(ns * sizeof *z->len); /* zeroed: free */
	z->desc = mv_sparse_alloc(ns * sizeof *z->desc);
	z->owner = mv_sparse_alloc(ns * sizeof *z->owner);
	z->prev = mv_sparse_alloc(ns * sizeof *z->prev);
	z->next = mv_sparse_alloc(ns * sizeof *z->next);
	if (!z->frame || !z->unused || !z->half || !z->half_pos || !z->len ||
	    !z->desc || !z->owner || !z->prev || !z->next) {
		mv_zcache_destroy(z);
		return mv_error_set(err, MV_ENOMEM, NULL, 0,
				    "compression cache",
				    "out of memory for %llu frames",
				    (unsigned long long)cap);
	}
	z->st.capacity_frames = cap;
	vm->backing[MV_PS_COMPRESSED] = (struct mv_backing_ops){
		.page_in = zc_page_in,
		.peek = zc_peek,
		.discard = zc_discard,
		.ctx = z,
	};
	*out = z;
	return 0;
}

/*
 * Give the cache's frames back to the host. Touches neither the VM nor its
 * pmap, so it may run before or after mv_vm_destroy; the VM must not fault
 * on a compressed page afterwards.
 */
void mv_zcache_destroy(struct mv_zcache *z)
{
	if (!z)
		return;
	if (z->frame)
		for (uint64_t f = 0; f < z->fresh; f++)
			if (z->frame[f] != MV_MPN_NONE)
				mv_host_frame_put(z->host, z->frame[f]);
	uint64_t nf = z->capacity ? z->capacity : 1, ns = 2 * nf;
	mv_sparse_free(z->frame, nf * sizeof *z->frame);
	mv_sparse_free(z->unused, nf * sizeof *z->unused);
	mv_sparse_free(z->half, nf * sizeof *z->half);
	mv_sparse_free(z->half_pos, nf * sizeof *z->half_pos);
	mv_sparse_free(z->len, ns * sizeof *z->len);
	mv_sparse_free(z->desc, ns * sizeof *z->desc);
	mv_sparse_free(z->owner, ns * sizeof *z->owner);
	mv_sparse_free(z->prev, ns * sizeof *z->prev);
	mv_sparse_free(z->next, ns * sizeof *z->next);
	free(z);
}

static int no_spill(const struct mv_zcache *z, mv_gppn_t gppn,
		    struct mv_error *err)
{
	return mv_error_set(err, MV_ENOSPC, z->vm->cfg.name, 0,
			    "compression cache",
			    "page %llu must go to swap but the VM has no swap "
			    "file",
			    (unsigned long long)gppn);
}

/* Move the oldest compressed page to the swap file; its slot is freed
 * only once the write succeeded. */
static int evict_oldest(struct mv_zcache *z, struct mv_error *err)
{
	uint8_t page[MV_PAGE_SIZE];
	uint32_t s = z->head;
	mv_gppn_t g = z->owner[s];
	if (slot_decompress(z, s, page))
		return mv_error_set(err, MV_EIO, z->vm->cfg.name, 0,
				    "compression cache",
				    "page %llu: compressed copy is corrupt",
				    (unsigned long long)g);
	if (!z->spill)
		return no_spill(z, g, err);
	int rc = mv_swapfile_out_bytes(z->spill, g, page, z->desc[s], err);
	if (rc)
		return rc;
	slot_free(z, s);
	z->st.evicted++;
	return 0;
}

int mv_zcache_out(struct mv_zcache *z, mv_gppn_t gppn, int *state,
		  struct mv_error *err)
{
	struct mv_vm *vm = z->vm;
	if (gppn >= vm->npages)
		return mv_error_set(err, MV_EINVAL, vm->cfg.name, 0,
				    "compression cache",
				    "page %llu is outside the VM (%llu pages)",
				    (unsigned long long)gppn,
				    (unsigned long long)vm->npages);
	struct mv_pme *e = &vm->pmap[gppn];
	if (e->state != MV_PS_PRIVATE || (e->flags & MV_PME_PINNED))
		return mv_error_set(err, MV_EINVAL, vm->cfg.name, 0,
				    "compression cache",
				    "page %llu is %s%s, not private",
				    (unsigned long long)gppn,
				    e->flags & MV_PME_PINNED ? "pinned " : "",
				    mv_page_state_name(e->state));
	mv_mpn_t old = e->mpn;
	mv_desc_t d = mv_host_frame_desc(z->host, old);
	int rc, n = 0;
	char buf[HALF];
	uint8_t page[MV_PAGE_SIZE];

	/* the real bytes, compressed for real, whatever the frame's form */
	if (z->capacity)
		n = LZ4_compress_default(
			(const char *)mv_host_frame_read(z->host, old, page),
			buf, MV_PAGE_SIZE, HALF);
	if (n <= 0) {
		/* does not fit in half a page (or compression is off) */
		if (z->capacity)
			z->st.rejected++;
		rc = z->spill ? mv_swapfile_out(z->spill, gppn, err)
			      : no_spill(z, gppn, err);
		if (!rc)
			*state = MV_PS_SWAPPED;
		return rc;
	}
	/* full: every frame has both halves used; make one half free */
	if (!z->nhalf && !z->nunused && z->fresh == z->capacity) {
		rc = evict_oldest(z, err);
		if (rc)
			return rc;
	}
	uint32_t s;
	int reused = 0;
	if (z->nhalf) {
		uint32_t f = z->half[z->nhalf - 1];
		half_remove(z, f);
		s = z->len[2 * f] ? 2 * f + 1 : 2 * f;
	} else {
		/* frames freed before first (LIFO), then never-used ones in
		 * order: the order of a stack that started with them all */
		uint32_t f = z->nunused ? z->unused[--z->nunused]
					: (uint32_t)z->fresh++;
		mv_mpn_t m = mv_host_frame_alloc(z->host, vm->home_node);
		if (m == MV_MPN_NONE) {
			m = old; /* its bytes are safe in buf */
			reused = 1;
			z->frames_reused++;
		}
		z->frame[f] = m;
		z->st.frames++;
		half_add(z, f);
		s = 2 * f;
	}
	assert(z->len[s] == 0); /* the half taken is free */
	/* a descriptor page keeps its descriptor and its size: its half is
	 * taken but not written. A BYTES page's compressed bytes go into the
	 * half, which makes the cache frame BYTES (a reused victim frame
	 * may still carry the victim's descriptor) */
	z->desc[s] = d;
	if (d == MV_DESC_BYTES) {
		mv_host_frame_overwrite(z->host, z->frame[s >> 1]);
		memcpy(slot_bytes(z, s), buf, (size_t)n);
	}
	z->len[s] = (uint16_t)n;
	z->owner[s] = gppn;
	fifo_append(z, s);
	z->st.pages++;
	z->st.bytes += (uint64_t)n;
	z->st.compressed++;
	mv_pmap_set(vm, gppn, MV_PS_COMPRESSED, s);
	if (!reused)
		mv_host_frame_put(z->host, old);
	*state = MV_PS_COMPRESSED;
	return 0;
}

void mv_zcache_stats(const struct mv_zcache *z, struct mv_zcache_stats *st)
{
	*st = z->st;
}

uint64_t mv_zcache_frames(const struct mv_zcache *z, mv_mpn_t *out,
			  uint64_t max)
{
	uint64_t n = 0;
	for (uint64_t f = 0; f < z->fresh; f++)
		if (z->frame[f] != MV_MPN_NONE) {
			if (n < max)
				out[n] = z->frame[f];
			n++;
		}
	return n;
}

uint64_t mv_zcache_frames_reused(const struct mv_zcache *z)
{
	return z->frames_reused;
}

int mv_zcache_check(const struct mv_zcache *z, struct mv_error *err)
{
	const char *name = z->vm->cfg.name;
	uint64_t frames = 0, pages = 0, bytes = 0, nhalf = 0, fifo = 0;
	for (uint64_t f = 0; f < z->fresh; f++) {
		int used = !!z->len[2 * f] + !!z->len[2 * f + 1];
		if ((z->frame[f] == MV_MPN_NONE) != (used == 0))
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, name,
				"compression cache frame %llu: %d "
				"halves used, host frame %s",
				(unsigned long long)f, used,
				z->frame[f] == MV_MPN_NONE ? "none" : "held");
		if (used == 1 && (z->half_pos[f] >= z->nhalf ||
				  z->half[z->half_pos[f]] != f))
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "compression cache frame %llu has "
					    "a free half but is not on the "
					    "half-free set",
					    (unsigned long long)f);
		if (used) {
			frames++;
			uint64_t r = mv_host_frame_refs(z->host, z->frame[f]);
			if (r != 1)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"compression cache frame %u has "
					"refcount %llu",
					z->frame[f], (unsigned long long)r);
		}
		nhalf += used == 1;
	}
	for (uint64_t s = 0; s < 2 * z->fresh; s++) {
		if (!z->len[s])
			continue;
		pages++;
		bytes += z->len[s];
		const struct mv_pme *e = &z->vm->pmap[z->owner[s]];
		if (e->state != MV_PS_COMPRESSED || e->mpn != s)
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "compression cache slot %llu holds "
					    "page %llu, which is %s in slot %u",
					    (unsigned long long)s,
					    (unsigned long long)z->owner[s],
					    mv_page_state_name(e->state),
					    e->mpn);
	}
	for (uint32_t s = z->head; s != NIL && fifo <= pages; s = z->next[s])
		fifo++;
	if (frames != z->st.frames || pages != z->st.pages ||
	    bytes != z->st.bytes || nhalf != z->nhalf || fifo != pages ||
	    frames + z->nunused + (z->capacity - z->fresh) != z->capacity ||
	    pages != z->vm->count[MV_PS_COMPRESSED])
		return mv_error_set(
			err, MV_EINVAL, NULL, 0, name,
			"compression cache books disagree: frames "
			"%llu/%llu, pages %llu/%llu (pmap %llu, "
			"fifo %llu), bytes %llu/%llu",
			(unsigned long long)frames,
			(unsigned long long)z->st.frames,
			(unsigned long long)pages,
			(unsigned long long)z->st.pages,
			(unsigned long long)z->vm->count[MV_PS_COMPRESSED],
			(unsigned long long)fifo, (unsigned long long)bytes,
			(unsigned long long)z->st.bytes);
	return 0;
}

/* ---- the per-VM reclaimer ----------------------------------------------- */

static int reclaimable(const struct mv_pme *e)
{
	return e->state == MV_PS_PRIVATE &&
	       !(e->flags & (MV_PME_PINNED | MV_PME_LARGE));
}

static int reclaim_one(struct mv_vm *vm, struct mv_zcache *z,
		       struct mv_swapfile *sf, mv_gppn_t g,
		       struct mv_error *err)
{
	int state;
	/* share before swap: a page that shares or is all zero needs no
	 * I/O (its frame is freed or shared now) */
	if (vm->share_first && mv_share_page(vm->share_first, vm, g))
		return 0;
	/* the interval model's writes since the page was last observed
	 * happen before its bytes are stored */
	mv_vm_observe(vm, g);
	if (z && z->capacity)
		return mv_zcache_out(z, g, &state, err);
	if (sf)
		return mv_swapfile_out(sf, g, err);
	return mv_error_set(err, MV_EINVAL, vm->cfg.name, 0, "reclaim",
			    "neither a compression cache nor a swap file");
}

/*
 * Random victims: up to 8n + 64 uniform draws over all the VM's pages,
 * taking each private, unpinned, small page drawn. A VM with few such pages
 * would waste most draws, so once that budget is spent one sweep from a
 * random start takes the remaining ones in order: n pages are reclaimed
 * whenever the VM has n reclaimable pages, in O(8n + 64 + pages) at worst.
 */
int mv_reclaim_pages(struct mv_vm *vm, struct mv_zcache *z,
		     struct mv_swapfile *sf, struct mv_rng *rng, uint64_t n,
		     uint64_t *done, struct mv_error *err)
{
	uint64_t got = 0;
	int rc = 0;
	*done = 0;
	if (!n || !vm->npages)
		return 0;
	if (!(z && z->capacity) && !sf)
		return reclaim_one(vm, z, sf, 0, err);
	uint64_t budget = 8 * n + 64;
	mv_gppn_t start = 0;
	for (uint64_t t = 0; t < budget + vm->npages && got < n; t++) {
		if (t == budget)
			start = mv_rng_below(rng, vm->npages);
		mv_gppn_t g = t < budget ? mv_rng_below(rng, vm->npages)
					 : (start + t - budget) % vm->npages;
		if (!reclaimable(&vm->pmap[g]))
			continue;
		rc = reclaim_one(vm, z, sf, g, err);
		if (rc)
			goto out;
		got++;
	}
out:
	*done = got;
	return rc;
}

int mv_reclaim_frames(struct mv_vm *vm, struct mv_zcache *z,
		      struct mv_swapfile *sf, struct mv_rng *rng,
		      uint64_t frames, uint64_t *pages, uint64_t *freed,
		      struct mv_error *err)
{
	const uint64_t before = vm->host->nfree;
	int rc = 0;
	*pages = *freed = 0;
	while (*freed < frames) {
		uint64_t done = 0;
		rc = mv_reclaim_pages(vm, z, sf, rng, frames - *freed, &done,
				      err);
		*pages += done;
		*freed = vm->host->nfree > before ? vm->host->nfree - before
						  : 0;
		if (rc || !done)
			break;
	}
	return rc;
}

uint64_t mv_zcache_overhead_bytes(const struct mv_zcache *z)
{
	uint64_t nf = z->capacity ? z->capacity : 1;
	return sizeof *z +
	       nf * (sizeof *z->frame + sizeof *z->unused + sizeof *z->half +
		     sizeof *z->half_pos) +
	       2 * nf *
		       (sizeof *z->len + sizeof *z->desc + sizeof *z->owner +
			sizeof *z->prev + sizeof *z->next);
}

/* Sparse arrays (core.h), counted to their high-water marks: the frames
 * ever used (`fresh`; half[] holds at most that many), their 2 slots each,
 * and the deepest the stack of unused frames was. */
void mv_zcache_books(const struct mv_zcache *z, struct mv_books *b)
{
	uint64_t nf = z->fresh, ns = 2 * nf;
	mv_books_add(b, "hypervisor", "zcache.frame", sizeof *z->frame, nf);
	mv_books_add(b, "hypervisor", "zcache.unused", sizeof *z->unused,
		     z->unused_hw);
	mv_books_add(b, "hypervisor", "zcache.half", sizeof *z->half, nf);
	mv_books_add(b, "hypervisor", "zcache.half-pos", sizeof *z->half_pos,
		     nf);
	mv_books_add(b, "hypervisor", "zcache.len", sizeof *z->len, ns);
	mv_books_add(b, "hypervisor", "zcache.desc", sizeof *z->desc, ns);
	mv_books_add(b, "hypervisor", "zcache.owner", sizeof *z->owner, ns);
	mv_books_add(b, "hypervisor", "zcache.fifo", sizeof *z->prev, ns);
	mv_books_add(b, "hypervisor", "zcache.fifo", sizeof *z->next, ns);
}
