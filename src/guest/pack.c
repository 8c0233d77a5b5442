/*
 * pack.c - a running guest model as bytes, and back (issue 17: a VM's
 * guest moves between the processes of a cluster run over MPI ranks,
 * docs/cluster.md sections 2, 3 and 5).
 *
 * Both ends run the same binary on the same machine, so the plain-data
 * parts go as their struct bytes: struct mv_guest whole, its pointers
 * cleared before it is written (no address of the sender is ever sent),
 * then what each pointer held, in a fixed order:
 *
 *   header     magic "MVGUEST1", version, total length, npages, and a
 *              hash of everything after the header (mv_hash)
 *   guest      struct mv_guest, pointers NULL (its workloads' struct
 *              gwork and both configurations inside it)
 *   files      a byte per workload: the loaded files it reads
 *   pages      kind[] (a byte a page), the index and clock links (struct
 *              gnum: n x w + 1 bytes each)
 *   stacks     the used prefixes of free[], zeroed[], balloon[]: a page
 *              stack is written up to its top, never past it; each is
 *              allocated again with the capacity creation gives it, and
 *              its high-water mark (the books' figure) comes with the
 *              struct
 *   cache      the page cache map, os_pages + 1 entries
 *   swap       the descriptors of the slots ever written (below
 *              swap_fresh), the bytes of those whose descriptor is BYTES,
 *              the freed slots' stack up to its top
 *   processes  every process's page table (pte[nvpages])
 *   clocks     passed[] and the map `big` (interval model only)
 *   interval   struct giv and its arrays (interval.c, giv_pack)
 *
 * Dense arrays are read back a 4 KiB piece at a time, all-zero pieces
 * left unwritten, so pages never touched stay unbacked as they were.
 *
 * Not packed: `stop` (the receiver's, mv_guest_set_stop), `vm` (the
 * receiver's), `sink`. Refused: a guest with an MMU model (its page
 * tables are frames of its host; migration refuses those too).
 *
 * Files the simulator loaded (an address trace, a usage trace, a content
 * profile) are the loader's, not the guest's: a workload's pointers to
 * them are not sent, only which it had (a byte a workload, after the
 * struct). The receiver, which loaded the same scenario, gives its own
 * copy of the VM's guest configuration (mv_guest_unpack_with), whose
 * workloads must name the same files; mv_guest_unpack, given none,
 * refuses such a guest.
 *
 * Unpacking checks every count that sizes a read or an allocation
 * against the guest's geometry and the bytes left, and the hash first: a
 * truncated or altered buffer is MV_EINVAL with what was wrong, never a
 * read past its end.
 */
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"

#define PACK_MAGIC "MVGUEST1"
#define PACK_VERSION 1u

struct pack_header {
	char magic[8];
	uint32_t version;
	uint32_t guest_size; /* sizeof (struct mv_guest): same binary */
	uint64_t len;        /* the whole buffer, header included */
	uint64_t npages;
	uint32_t interval; /* 1: the interval model's parts follow */
	uint32_t pad;
	uint64_t hash; /* mv_hash of the bytes after the header */
};

/* A guest with an MMU model stays where it is. */
static int packable(const struct mv_guest *g, struct mv_error *err)
{
	if (g->mmu || g->cfg.mmu)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "guest",
				    "VM %s: a guest with an MMU model cannot "
				    "be packed (its page tables are frames of "
				    "its host)",
				    g->vm ? g->vm->cfg.name : "?");
	return 0;
}

/* What a workload reads that the simulator loaded: LOADED_* bits. */
enum { LOADED_TRACE = 1, LOADED_USAGE = 2, LOADED_PROFILE = 4 };

static uint8_t loaded_bits(const struct mv_workload_config *c)
{
	return (uint8_t)((c->trace ? LOADED_TRACE : 0) |
			 (c->usage ? LOADED_USAGE : 0) |
			 (c->profile ? LOADED_PROFILE : 0));
}

static const char *loaded_name(uint8_t bits)
{
	return bits & LOADED_TRACE   ? "an address trace"
	       : bits & LOADED_USAGE ? "a usage trace"
				     : "a content profile";
}

/*
 * Workload i of g reads the files of `bits`, which the sender had
 * loaded: take the receiver's own (c, the same workload of the VM's
 * configuration as the receiver loaded it), checked to name the same
 * files. NULL, or what is wrong.
 */
static const char *take_loaded(struct mv_guest *g, int i, uint8_t bits,
			       const struct mv_workload_config *c)
{
	struct mv_workload_config *a = &g->cfg.workload[i],
				  *b = &g->work[i].cfg;
	if (!c)
		return "not given the receiver's configuration";
	if (loaded_bits(c) != bits || strcmp(c->name, b->name) ||
	    strcmp(c->trace_file, b->trace_file) ||
	    strcmp(c->profile_file, b->profile_file))
		return "the receiver's configuration names other files";
	a->trace = b->trace = c->trace;
	a->usage = b->usage = c->usage;
	a->profile = b->profile = c->profile;
	return NULL;
}

/* c with the loaded files' pointers cleared (the bytes say which it
 * had: loaded_bits). */
static void clear_loaded(struct mv_workload_config *c)
{
	c->trace = NULL;
	c->profile = NULL;
	c->usage = NULL;
}

/* Clear every pointer of h (a copy of a guest, or one just read): none
 * goes in the bytes, none is taken from them. */
static void clear_pointers(struct mv_guest *h)
{
	h->vm = NULL;
	h->kind = NULL;
	h->index.b = h->link.b = NULL;
	h->free = h->zeroed = h->balloon = h->cache = h->swap_free = NULL;
	h->swap = NULL;
	h->swap_desc = NULL;
	for (int i = 0; i < MV_MAX_WORKLOADS; i++) {
		h->proc[i].pte = NULL;
		h->proc[i].hrun = NULL;
		h->mproc[i] = NULL;
		clear_loaded(&h->cfg.workload[i]);
		clear_loaded(&h->work[i].cfg);
	}
	h->passed = NULL;
	h->big.key = h->big.val = NULL;
	h->stop = NULL;
	h->sink = 0;
	h->mmu = NULL;
	h->cur_proc = NULL;
	h->hpool = NULL;
	h->iv = NULL;
}

static void put_guest(const struct mv_guest *g, struct mv_pack *w)
{
	struct mv_guest *h = malloc(sizeof *h);
	if (!h) {
		w->nomem = 1;
		return;
	}
	memcpy(h, g, sizeof *h);
	clear_pointers(h);
	mv_pack_put(w, h, sizeof *h);
	free(h);
}

int mv_guest_pack(const struct mv_guest *g, void **buf, size_t *len,
		  struct mv_error *err)
{
	*buf = NULL;
	*len = 0;
	int rc = packable(g, err);
	if (rc)
		return rc;
	struct mv_pack w = {0};
	struct pack_header hd = {.version = PACK_VERSION,
				 .guest_size = sizeof(struct mv_guest),
				 .npages = g->npages,
				 .interval = g->iv != NULL};
	memcpy(hd.magic, PACK_MAGIC, sizeof hd.magic);
	mv_pack_put(&w, &hd, sizeof hd);
	put_guest(g, &w);
	uint8_t bits[MV_MAX_WORKLOADS] = {0};
	for (int i = 0; i < g->nwork; i++)
		bits[i] = loaded_bits(&g->work[i].cfg);
	mv_pack_put(&w, bits, sizeof bits);
	mv_pack_put(&w, g->kind, g->npages);
	mv_pack_put(&w, g->index.b, g->index.n * g->index.w + 1);
	mv_pack_put(&w, g->link.b, g->link.n * g->link.w + 1);
	mv_pack_put(&w, g->free, (g->nfree - g->nfresh) * sizeof *g->free);
	mv_pack_put(&w, g->zeroed, g->nzeroed * sizeof *g->zeroed);
	mv_pack_put(&w, g->balloon, g->nkind[GK_BALLOON] * sizeof *g->balloon);
	mv_pack_put(&w, g->cache, (g->os_pages + 1) * sizeof *g->cache);
	mv_pack_put(&w, g->swap_desc, g->swap_fresh * sizeof *g->swap_desc);
	for (uint64_t s = 0; s < g->swap_fresh; s++)
		if (g->swap_desc[s] == MV_DESC_BYTES)
			mv_pack_put(&w, g->swap + s * MV_PAGE_SIZE, MV_PAGE_SIZE);
	mv_pack_put(&w, g->swap_free,
		  (g->nswap_free - (g->swap_slots - g->swap_fresh)) *
			  sizeof *g->swap_free);
	for (int i = 0; i < g->nproc; i++)
		mv_pack_put(&w, g->proc[i].pte,
			  g->proc[i].nvpages * sizeof *g->proc[i].pte);
	if (g->passed) {
		mv_pack_put(&w, g->passed, g->npages * sizeof *g->passed);
		mv_pack_put(&w, g->big.key, g->big.cap * sizeof *g->big.key);
		mv_pack_put(&w, g->big.val, g->big.cap * sizeof *g->big.val);
	}
	if (g->iv)
		giv_pack(g, &w);
	if (w.nomem) {
		free(w.b);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "guest",
				    "out of memory packing the guest");
	}
	struct pack_header *h = (struct pack_header *)w.b;
	h->len = w.n;
	h->hash = mv_hash(w.b + sizeof *h, w.n - sizeof *h);
	*buf = w.b;
	*len = w.n;
	return 0;
}

/* The counts that size what follows the struct, against the guest's
 * geometry: NULL, or the field found wrong. */
static const char *check_counts(const struct mv_guest *g)
{
	uint64_t n = g->npages;
	if (g->nwork < 0 || g->nwork > MV_MAX_WORKLOADS ||
	    g->nproc != g->nwork || g->cfg.nworkloads != g->nwork)
		return "workloads";
	if (g->cfg.mmu)
		return "mmu";
	if ((g->index.w != 3 && g->index.w != 4) || g->index.n != n ||
	    (g->link.w != 3 && g->link.w != 4) || g->link.n != 2 * n)
		return "page arrays";
	if (g->nfresh > g->nfree || g->nfree > n || g->free_hw > n ||
	    g->nfree - g->nfresh > g->free_hw)
		return "free list";
	if (g->nzeroed > g->zeroed_hw || g->zeroed_hw > n)
		return "zeroed list";
	if (g->nkind[GK_BALLOON] > g->balloon_hw || g->balloon_hw > n)
		return "balloon";
	uint64_t os = g->cfg.os_bytes / MV_PAGE_SIZE;
	if (g->os_pages != (os < n / 2 ? os : n / 2))
		return "page cache";
	if (g->swap_slots != g->cfg.swap_bytes / MV_PAGE_SIZE ||
	    g->swap_fresh > g->swap_slots || g->nswap_free > g->swap_slots ||
	    g->nswap_free < g->swap_slots - g->swap_fresh ||
	    g->swap_free_hw > g->swap_slots ||
	    g->nswap_free - (g->swap_slots - g->swap_fresh) > g->swap_free_hw)
		return "swap";
	for (int i = 0; i < g->nproc; i++)
		if (g->proc[i].nvpages > GPAGE_INDEX_LIMIT)
			return "processes";
	if (2 * g->big.n > g->big.cap || (g->big.cap & (g->big.cap - 1)) ||
	    g->big.cap > 4 * n + 64)
		return "clock times";
	return NULL;
}

/* Allocate and read g's arrays (all NULL before): 0, MV_EINVAL (r->bad)
 * or MV_ENOMEM. */
static int get_arrays(struct mv_guest *g, struct mv_unpack *r, int interval)
{
	uint64_t n = g->npages;
	g->kind = mv_dense_alloc(n);
	int nomem = !g->kind;
	uint64_t ib = g->index.n * g->index.w + 1,
		 lb = g->link.n * g->link.w + 1;
	g->index.b = mv_dense_alloc(ib);
	g->link.b = mv_dense_alloc(lb);
	nomem |= guest_alloc_lists(g) != 0;
	for (int i = 0; i < g->nproc; i++) {
		g->proc[i].pte = mv_dense_alloc(g->proc[i].nvpages *
						sizeof *g->proc[i].pte);
		nomem |= !g->proc[i].pte;
	}
	if (interval)
		g->passed = mv_dense_alloc(n * sizeof *g->passed);
	if (g->big.cap) {
		g->big.key = malloc(g->big.cap * sizeof *g->big.key);
		g->big.val = malloc(g->big.cap * sizeof *g->big.val);
	}
	if (nomem || !g->index.b || !g->link.b || (interval && !g->passed) ||
	    (g->big.cap && (!g->big.key || !g->big.val)))
		return MV_ENOMEM;
	mv_unpack_dense(r, g->kind, n, "page kinds");
	mv_unpack_dense(r, g->index.b, ib, "page index");
	mv_unpack_dense(r, g->link.b, lb, "clock links");
	mv_unpack_get(r, g->free, (g->nfree - g->nfresh) * sizeof *g->free,
		    "free list");
	mv_unpack_get(r, g->zeroed, g->nzeroed * sizeof *g->zeroed,
		    "zeroed list");
	mv_unpack_get(r, g->balloon, g->nkind[GK_BALLOON] * sizeof *g->balloon,
		    "balloon");
	mv_unpack_get(r, g->cache, (g->os_pages + 1) * sizeof *g->cache,
		    "page cache");
	mv_unpack_get(r, g->swap_desc, g->swap_fresh * sizeof *g->swap_desc,
		    "swap descriptors");
	for (uint64_t s = 0; !r->bad && s < g->swap_fresh; s++)
		if (g->swap_desc[s] == MV_DESC_BYTES)
			mv_unpack_get(r, g->swap + s * MV_PAGE_SIZE, MV_PAGE_SIZE,
				    "swap slots");
	mv_unpack_get(r, g->swap_free,
		    (g->nswap_free - (g->swap_slots - g->swap_fresh)) *
			    sizeof *g->swap_free,
		    "swap slot stack");
	for (int i = 0; i < g->nproc; i++)
		mv_unpack_dense(r, g->proc[i].pte,
			      g->proc[i].nvpages * sizeof *g->proc[i].pte,
			      "page tables");
	if (interval) {
		mv_unpack_dense(r, g->passed, n * sizeof *g->passed,
			      "clock times");
		mv_unpack_get(r, g->big.key, g->big.cap * sizeof *g->big.key,
			    "clock times");
		mv_unpack_get(r, g->big.val, g->big.cap * sizeof *g->big.val,
			    "clock times");
	}
	return r->bad ? MV_EINVAL : 0;
}

static int unpack(const void *buf, size_t len, struct mv_vm *vm,
		  const struct mv_guest_config *files, struct mv_guest **out,
		  struct mv_error *err)
{
	*out = NULL;
	struct pack_header hd;
	struct mv_unpack r = {.p = buf, .left = len};
	const char *bad = NULL;
	if (mv_unpack_get(&r, &hd, sizeof hd, "header"))
		bad = "shorter than its header";
	else if (memcmp(hd.magic, PACK_MAGIC, sizeof hd.magic))
		bad = "not a packed guest (bad magic)";
	else if (hd.version != PACK_VERSION ||
		 hd.guest_size != sizeof(struct mv_guest))
		bad = "packed by another version of memvisor";
	else if (hd.len != len)
		bad = hd.len > len ? "truncated"
				   : "longer than its header says";
	else if (hd.interval > 1)
		bad = "a bad header";
	else if (hd.npages != vm->npages)
		bad = "a guest of another size than the VM";
	else if (mv_hash(r.p, r.left) != hd.hash)
		bad = "corrupted (its hash does not match)";
	else if (vm->on_invalidate)
		bad = "the VM has a guest's hooks already";
	if (bad)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "guest",
				    "VM %s: packed guest of %zu bytes: %s",
				    vm->cfg.name, len, bad);
	struct mv_guest *g = calloc(1, sizeof *g);
	if (!g)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	mv_unpack_get(&r, g, sizeof *g, "guest");
	/* the struct came with its pointers NULL: each is rebuilt */
	int interval = hd.interval != 0;
	clear_pointers(g);
	g->vm = vm;
	uint8_t bits[MV_MAX_WORKLOADS] = {0};
	mv_unpack_get(&r, bits, sizeof bits, "loaded files");
	const char *wrong = r.bad ? NULL : check_counts(g);
	for (int i = 0; !r.bad && !wrong && i < g->nwork; i++) {
		if (!bits[i])
			continue;
		const char *no = take_loaded(g, i, bits[i],
					     files && i < files->nworkloads
						     ? &files->workload[i]
						     : NULL);
		if (no) {
			const struct mv_workload_config *c = &g->work[i].cfg;
			mv_error_set(
				err, MV_EINVAL, c->source, c->source_line,
				"workload",
				"VM %s: packed guest's workload '%s' reads "
				"%s the sender loaded: %s",
				vm->cfg.name, c->name, loaded_name(bits[i]),
				no);
			mv_guest_destroy(g);
			return MV_EINVAL;
		}
	}
	int rc = r.bad   ? MV_EINVAL
		 : wrong ? mv_unpack_fail(&r, wrong)
			 : get_arrays(g, &r, interval);
	if (!rc && interval)
		rc = giv_unpack(g, &r);
	if (!rc && r.left)
		rc = mv_unpack_fail(&r, "bytes past the end");
	if (rc) {
		g->vm = vm;
		mv_guest_destroy(g);
		if (rc == MV_ENOMEM)
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		return mv_error_set(err, MV_EINVAL, NULL, 0, "guest",
				    "VM %s: packed guest of %zu bytes: bad %s",
				    vm->cfg.name, len, r.bad);
	}
	if (g->iv)
		giv_hook(g);
	*out = g;
	return 0;
}

void mv_guest_arrived(struct mv_guest *g, const uint64_t *was_private)
{
	if (g->iv)
		giv_retake(g, was_private);
}

void mv_guest_private_bits(const struct mv_vm *vm, uint64_t *bits)
{
	memset(bits, 0, (vm->npages + 63) / 64 * sizeof *bits);
	for (mv_gppn_t p = 0; p < vm->npages; p++)
		if (vm->pmap[p].state == MV_PS_PRIVATE)
			bits[p / 64] |= UINT64_C(1) << (p % 64);
}

int mv_guest_unpack(const void *buf, size_t len, struct mv_vm *vm,
		    struct mv_guest **out, struct mv_error *err)
{
	return unpack(buf, len, vm, NULL, out, err);
}

int mv_guest_unpack_with(const void *buf, size_t len, struct mv_vm *vm,
			 const struct mv_guest_config *files,
			 struct mv_guest **out, struct mv_error *err)
{
	return unpack(buf, len, vm, files, out, err);
}
