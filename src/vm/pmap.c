/*
 * pmap.c - a VM's guest-physical memory map and its fault path.
 *
 * Each VM has one pmap entry per guest-physical page (struct mv_pme, 16
 * bytes). The state counters in struct mv_vm change only in mv_pmap_set, so
 * they cannot drift from the entries. The fault path resolves every access
 * the inline fast path in vm.h cannot:
 *
 *   untouched / ballooned  -> allocate a frame, zero it (first touch): the
 *                             zero descriptor, no bytes written
 *   shared / zero, write   -> allocate a frame, copy (the descriptor; the
 *                             bytes only for a BYTES frame), drop the old
 *                             one (COW);
 *                             a shared frame nobody else maps any more is
 *                             simply taken over
 *   compressed / swapped   -> allocate a frame, let the backing store fill it
 *
 * Each kind is counted and its latency (host config) charged to the VM as
 * stall time. When the host has no free frame, or the policy blocks the VM
 * (free-memory state "low"), the access cannot complete: ALLOC_WAIT is
 * counted and NULL returned. The vCPU then waits out the rest of its time
 * slice; the guest layer, which knows how much of the slice was left,
 * charges that time with mv_vm_charge_wait().
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/vm.h"

static const char *const state_names[MV_PS_COUNT] = {
	"untouched",  "private", "shared",    "zero",
	"compressed", "swapped", "ballooned",
};

const char *mv_page_state_name(enum mv_page_state s)
{
	return (unsigned)s < MV_PS_COUNT ? state_names[s] : "?";
}

static const char *const fault_names[MV_FAULT_COUNT] = {
	"zero_fill", "cow", "decompress", "swap_in", "alloc_wait",
};

const char *mv_fault_name(enum mv_fault_kind k)
{
	return (unsigned)k < MV_FAULT_COUNT ? fault_names[k] : "?";
}

int mv_vm_create(struct mv_host *h, const struct mv_vm_config *cfg, int id,
		 struct mv_vm **out, struct mv_error *err)
{
	*out = NULL;
	int rc = mv_vm_config_check(cfg, err);
	if (rc)
		return rc;
	struct mv_vm *vm = calloc(1, sizeof *vm);
	if (!vm)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	vm->cfg = *cfg;
	vm->id = id;
	vm->host = h;
	vm->npages = cfg->mem_bytes / MV_PAGE_SIZE;
	/* zeroed: every entry starts untouched (state 0) at no cost */
	vm->pmap = mv_dense_alloc(vm->npages * sizeof *vm->pmap);
	if (!vm->pmap) {
		free(vm);
		return mv_error_set(err, MV_ENOMEM, cfg->source,
				    cfg->source_line, "memory",
				    "cannot allocate the pmap");
	}
	/* who maps each sharing frame: consumed memory kept as refcounts
	 * change (owners.c) */
	rc = mv_owners_attach(vm);
	if (rc) {
		mv_dense_free(vm->pmap, vm->npages * sizeof *vm->pmap);
		free(vm);
		return mv_error_set(
			err, rc, cfg->source, cfg->source_line, "memory",
			rc == MV_EINVAL ? "more than 1024 VMs on one host"
					: "cannot allocate the owners table");
	}
	vm->count[MV_PS_UNTOUCHED] = vm->npages;
	/* the active-memory sampler runs from the start with ESX's defaults;
	 * the simulator reconfigures it from the scenario (src/vm/sample.c) */
	struct mv_active_config ac;
	mv_active_config_default(&ac);
	if (mv_vm_active_configure(vm, &ac, mv_mix64((uint64_t)id), 0)) {
		mv_owners_detach(vm);
		mv_dense_free(vm->pmap, vm->npages * sizeof *vm->pmap);
		free(vm);
		return mv_error_set(err, MV_ENOMEM, cfg->source,
				    cfg->source_line, "memory",
				    "cannot allocate the active-memory sample");
	}
	vm->home_node = cfg->home_node >= 0 && cfg->home_node < h->nnodes
				? cfg->home_node
				: id % h->nnodes;
	mv_vm_numa_setup(vm);
	*out = vm;
	return 0;
}

void mv_vm_destroy(struct mv_vm *vm)
{
	if (!vm)
		return;
	/* no owners table: every VM of the host is going (a teardown,
	 * mv_owners_detach_host), and whose pages map what is moot */
	int owned = vm->host->owners != NULL;
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		struct mv_pme *e = &vm->pmap[g];
		if (e->state == MV_PS_SHARED && owned)
			mv_owners_change(vm, e->mpn, -1);
		if (e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED)
			mv_host_frame_put(vm->host, e->mpn);
	}
	mv_owners_detach(vm);
	mv_vm_dirty_log_stop(vm);
	mv_vm_active_free(vm);
	free(vm->window_list);
	mv_dense_free(vm->pmap, vm->npages * sizeof *vm->pmap);
	free(vm->expect);
	free(vm->region);
	free(vm);
}

int mv_vm_dirty_log_start(struct mv_vm *vm)
{
	if (vm->dirty_log)
		return 0;
	vm->dirty_log = calloc(mv_vm_dirty_log_words(vm), sizeof(uint64_t));
	return vm->dirty_log ? 0 : MV_ENOMEM;
}

void mv_vm_dirty_log_stop(struct mv_vm *vm)
{
	free(vm->dirty_log);
	vm->dirty_log = NULL;
	vm->log_swap = 0;
}

uint64_t mv_vm_dirty_log_sync(struct mv_vm *vm, uint64_t *into)
{
	uint64_t n = 0, words = mv_vm_dirty_log_words(vm);
	/* the interval model makes a resident page's writes when the page
	 * is observed: those due by now are made (and logged) first, as
	 * KVM's log holds every write up to the sync (docs/cluster.md,
	 * section 1) */
	if (vm->dirty_log && vm->on_observe)
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			if (vm->pmap[g].state == MV_PS_PRIVATE)
				vm->on_observe(vm->rate_ctx, vm, g);
	for (uint64_t i = 0; i < words; i++) {
		into[i] = vm->dirty_log ? vm->dirty_log[i] : 0;
		n += (uint64_t)__builtin_popcountll(into[i]);
	}
	if (vm->dirty_log)
		memset(vm->dirty_log, 0, words * sizeof(uint64_t));
	return n;
}

int mv_vm_enable_verify(struct mv_vm *vm)
{
	if (vm->expect)
		return 0;
	vm->expect = malloc(vm->npages * sizeof *vm->expect);
	if (!vm->expect)
		return MV_ENOMEM;
	uint64_t z = mv_zero_page_hash();
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		vm->expect[g] = z;
	/* pages already written keep what they hold now */
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		unsigned st = vm->pmap[g].state;
		if (st == MV_PS_PRIVATE || st == MV_PS_SHARED)
			mv_vm_wrote_slow(vm, g);
	}
	return 0;
}

void mv_vm_wrote_slow(struct mv_vm *vm, mv_gppn_t gppn)
{
	uint8_t buf[MV_PAGE_SIZE];
	/* materialised and hashed, never memoised: a descriptor that stops
	 * matching what the guest wrote is caught by mv_vm_check */
	vm->expect[gppn] = mv_page_hash(mv_vm_page_read(vm, gppn, buf));
}

void mv_pmap_set(struct mv_vm *vm, mv_gppn_t gppn, enum mv_page_state st,
		 uint32_t mpn_or_slot)
{
	struct mv_pme *e = &vm->pmap[gppn];
	/* the per-state counts: a page leaves a state that counts it (no
	 * count below zero), and the pages stay the VM's pages in all */
	assert(gppn < vm->npages);
	assert(e->state < MV_PS_COUNT && (unsigned)st < MV_PS_COUNT);
	assert(vm->count[e->state] > 0);
	assert(e->state == st || vm->count[st] < vm->npages);
	/* a resident state names a frame in use; zero, the zero frame */
	assert(st != MV_PS_ZERO || mpn_or_slot == MV_ZERO_MPN);
	/* the entry's 29 bits: the host, swap file and cache creation bound
	 * every frame and slot number below MV_PME_MPN_MAX */
	assert(mpn_or_slot <= MV_PME_MPN_MAX);
	assert((st != MV_PS_PRIVATE && st != MV_PS_SHARED) ||
	       (mpn_or_slot < vm->host->nframes &&
		mv_host_frame_in_use(vm->host, mpn_or_slot)));
	/* a huge page is split before any of its pages leaves it */
	if (mv_unlikely(vm->region != NULL))
		mv_vm_thp_note(vm, gppn, st);
	vm->count[e->state]--;
	vm->count[st]++;
	if (e->state == MV_PS_SHARED)
		mv_owners_change(vm, e->mpn, -1);
	if (st == MV_PS_SHARED)
		mv_owners_change(vm, mpn_or_slot, +1);
	if (e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED)
		mv_vm_numa_resident(vm, gppn, e->mpn, -1);
	if (st == MV_PS_PRIVATE || st == MV_PS_SHARED)
		mv_vm_numa_resident(vm, gppn, mpn_or_slot, +1);
	if (mv_unlikely(vm->log_swap) &&
	    (e->state == MV_PS_SWAPPED || st == MV_PS_SWAPPED))
		mv_vm_log_dirty(vm, gppn);
	e->state = (unsigned)st;
	e->mpn = mpn_or_slot;
	if (vm->on_invalidate)
		vm->on_invalidate(vm->invalidate_ctx, vm, gppn);
}

static void charge(struct mv_vm *vm, enum mv_fault_kind k, uint64_t ns)
{
	vm->ctr.faults[k]++;
	vm->ctr.stall_ns[k] += ns;
	vm->stall_pending_ns += ns;
}

/* A frame for page gppn by its placement (src/vm/numa.c); MV_MPN_NONE ->
 * wait. */
static mv_mpn_t vm_frame_alloc(struct mv_vm *vm, mv_gppn_t gppn)
{
	if (vm->alloc_blocked)
		return MV_MPN_NONE;
	mv_mpn_t mpn = mv_vm_numa_alloc(vm, gppn);
	if (mpn != MV_MPN_NONE &&
	    mv_host_frame_node(vm->host, mpn) != mv_vm_numa_node(vm, gppn)) {
		vm->ctr.remote_frames++;
		vm->stall_pending_ns += vm->host->cfg.lat.remote_numa;
	}
	return mpn;
}

/* The fault; note: whether the access is the guest's (not a device's). */
static uint8_t *fault(struct mv_vm *vm, mv_gppn_t gppn, int write, int note)
{
	struct mv_pme *e = &vm->pmap[gppn];
	const struct mv_latency *lat = &vm->host->cfg.lat;
	unsigned st = e->state;
	enum mv_fault_kind kind;
	uint64_t ns = 0;

	/* A write to a shared frame this page alone still maps: take it
	 * over instead of copying (Linux reuses a KSM page mapped once). */
	if (st == MV_PS_SHARED && mv_host_frame_refs(vm->host, e->mpn) == 1) {
		mv_host_frame_set_shared(vm->host, e->mpn, 0);
		charge(vm, MV_FAULT_COW, lat->zero_fill);
		mv_pmap_set(vm, gppn, MV_PS_PRIVATE, e->mpn);
		mv_vm_note_access(vm, gppn, 1);
		return mv_host_frame(vm->host, e->mpn);
	}
	if (st == MV_PS_UNTOUCHED && mv_unlikely(vm->region != NULL)) {
		uint8_t *p = mv_vm_thp_fault(vm, gppn, write, note);
		if (p)
			return p;
	}
	mv_mpn_t mpn = vm_frame_alloc(vm, gppn);
	if (mpn == MV_MPN_NONE) {
		vm->ctr.faults[MV_FAULT_ALLOC_WAIT]++;
		return NULL;
	}
	struct mv_host *h = vm->host;

	switch (st) {
	case MV_PS_UNTOUCHED:
	case MV_PS_BALLOONED:
		mv_host_frame_set_desc(h, mpn, MV_DESC_ZERO_PAGE);
		kind = MV_FAULT_ZERO_FILL;
		ns = lat->zero_fill;
		break;
	case MV_PS_SHARED:
	case MV_PS_ZERO: {
		/* only writes reach here for these states; equal descriptors
		 * are equal bytes, so a descriptor is copied as itself */
		mv_host_frame_copy(h, mpn, e->mpn);
		mv_host_frame_put(h, e->mpn);
		kind = MV_FAULT_COW;
		ns = lat->cow;
		break;
	}
	case MV_PS_COMPRESSED:
	case MV_PS_SWAPPED: {
		const struct mv_backing_ops *b = &vm->backing[st];
		int rc = b->page_in ? b->page_in(b->ctx, vm, gppn, mpn, &ns)
				    : MV_EIO;
		if (rc) {
			/* the page stays where it is; the access waits and
			 * the guest tries again later */
			mv_host_frame_put(vm->host, mpn);
			vm->ctr.page_in_errors++;
			return NULL;
		}
		kind = st == MV_PS_COMPRESSED ? MV_FAULT_DECOMPRESS
					      : MV_FAULT_SWAPIN;
		break;
	}
	default: /* private: the fast path handles it; keep it correct */
		mv_host_frame_put(vm->host, mpn);
		return mv_vm_access(vm, gppn, write);
	}
	charge(vm, kind, ns);
	mv_pmap_set(vm, gppn, MV_PS_PRIVATE, mpn);
	if (note)
		mv_vm_note_access(vm, gppn, write);
	return mv_host_frame(h, mpn);
}

uint8_t *mv_vm_fault(struct mv_vm *vm, mv_gppn_t gppn, int write)
{
	return fault(vm, gppn, write, 1);
}

uint8_t *mv_vm_dma_read(struct mv_vm *vm, mv_gppn_t gppn)
{
	unsigned st = vm->pmap[gppn].state;
	if (st == MV_PS_PRIVATE || st == MV_PS_SHARED || st == MV_PS_ZERO)
		return mv_host_frame(vm->host, vm->pmap[gppn].mpn);
	return fault(vm, gppn, 0, 0);
}

void mv_vm_charge_xlat(struct mv_vm *vm, uint64_t ns)
{
	vm->ctr.xlat_ns += ns;
	vm->stall_pending_ns += ns;
}

void mv_vm_charge_wait(struct mv_vm *vm, uint64_t ns)
{
	vm->ctr.stall_ns[MV_FAULT_ALLOC_WAIT] += ns;
}

void mv_vm_balloon_page(struct mv_vm *vm, mv_gppn_t gppn)
{
	struct mv_pme *e = &vm->pmap[gppn];
	vm->ctr.balloon_pages++;
	/* a hugetlbfs page (src/vm/hugetlb.c): QEMU discards a 2 MiB page
	 * only once one request has ballooned all its 512 subpages
	 * (balloon_inflate_page's PartiallyBalloonedPage, per request), and
	 * Linux's driver sends at most 256 pages a request
	 * (VIRTIO_BALLOON_ARRAY_PFNS_MAX): the guest gives the page up, the
	 * host keeps its frame */
	if (e->flags & MV_PME_PINNED)
		return;
	if (e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED) {
		vm->ctr.balloon_frames += e->state == MV_PS_PRIVATE ||
					  mv_host_frame_refs(vm->host,
							     e->mpn) == 1;
		mv_host_frame_put(vm->host, e->mpn);
	} else if (e->state == MV_PS_COMPRESSED || e->state == MV_PS_SWAPPED) {
		const struct mv_backing_ops *b = &vm->backing[e->state];
		if (b->discard)
			b->discard(b->ctx, vm, gppn);
	}
	mv_pmap_set(vm, gppn, MV_PS_BALLOONED, 0);
	mv_vm_content_changed(vm, gppn); /* its bytes are gone */
	if (vm->expect)
		vm->expect[gppn] = mv_zero_page_hash();
}

void mv_vm_release_page(struct mv_vm *vm, mv_gppn_t gppn)
{
	struct mv_pme *e = &vm->pmap[gppn];
	/* hugetlbfs: only the pool takes its pages back
	 * (mv_vm_hugetlb_release) */
	if (e->flags & MV_PME_PINNED)
		return;
	if (e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED) {
		mv_host_frame_put(vm->host, e->mpn);
	} else if (e->state == MV_PS_COMPRESSED || e->state == MV_PS_SWAPPED) {
		const struct mv_backing_ops *b = &vm->backing[e->state];
		if (b->discard)
			b->discard(b->ctx, vm, gppn);
	}
	mv_pmap_set(vm, gppn, MV_PS_UNTOUCHED, 0);
	mv_vm_content_changed(vm, gppn);
	if (vm->expect)
		vm->expect[gppn] = mv_zero_page_hash();
}

uint64_t mv_vm_window_cap_max(const struct mv_vm *vm)
{
	if (vm->npages > UINT32_MAX)
		return 0; /* a page number needs more than an entry's 32 bits */
	return vm->npages / 8 > 64 ? vm->npages / 8 : 64;
}

void mv_vm_window_grow(struct mv_vm *vm, mv_gppn_t gppn)
{
	/* only a complete list grows: once a page went unlisted, the window
	 * is closed by the full pass whatever comes after */
	if (vm->window_accessed != vm->window_cap)
		return;
	uint64_t max = mv_vm_window_cap_max(vm);
	if (vm->window_cap >= max)
		return; /* overflow */
	uint64_t cap = vm->window_cap ? 2 * vm->window_cap : 64;
	if (cap > max)
		cap = max;
	uint32_t *n = realloc(vm->window_list, cap * sizeof *n);
	if (!n)
		return; /* overflow: the full pass, no harm done */
	vm->window_list = n;
	vm->window_cap = cap;
	vm->window_list[vm->window_accessed] = (uint32_t)gppn;
}

void mv_vm_close_window(struct mv_vm *vm)
{
	if (mv_vm_window_listed(vm)) {
		for (uint64_t i = 0; i < vm->window_accessed; i++)
			vm->pmap[vm->window_list[i]]
				.flags &= (uint8_t)~MV_PME_ACCESSED;
	} else {
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			vm->pmap[g].flags &= (uint8_t)~MV_PME_ACCESSED;
	}
	vm->active_true = vm->window_accessed;
	vm->window_accessed = 0;
}

void mv_vm_usage(const struct mv_vm *vm, struct mv_vm_usage *u)
{
	memset(u, 0, sizeof *u);
	u->configured = vm->npages;
	memcpy(u->state, vm->count, sizeof u->state);
	u->granted = vm->count[MV_PS_PRIVATE] + vm->count[MV_PS_SHARED] +
		     vm->count[MV_PS_ZERO];
	u->touched = vm->npages - vm->count[MV_PS_UNTOUCHED] -
		     vm->count[MV_PS_BALLOONED];
	u->active_true = vm->active_true;
	/* consumed: a private frame counts whole, a shared frame 1/refcount,
	 * the zero frame nothing (esxtop: consumed = GRANT - SHRDSVD); the
	 * shared part kept as refcounts change (owners.c) */
	u->consumed = vm->count[MV_PS_PRIVATE] + mv_vm_shared_part(vm);
	u->shared_saved = u->granted - u->consumed;
}

uint64_t mv_vm_stall_ns(const struct mv_vm *vm)
{
	uint64_t t = 0;
	for (int k = 0; k < MV_FAULT_COUNT; k++)
		t += vm->ctr.stall_ns[k];
	return t;
}

int mv_vm_check(const struct mv_vm *vm, struct mv_error *err)
{
	const char *name = vm->cfg.name;
	uint64_t count[MV_PS_COUNT] = {0};
	uint64_t sum = 0;
	uint8_t buf[MV_PAGE_SIZE];

	for (int s = 0; s < MV_PS_COUNT; s++)
		sum += vm->count[s];
	if (sum != vm->npages)
		return mv_error_set(
			err, MV_EINVAL, NULL, 0, name,
			"state counts add up to %llu, not %llu pages",
			(unsigned long long)sum,
			(unsigned long long)vm->npages);
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		const struct mv_pme *e = &vm->pmap[g];
		if (e->state >= MV_PS_COUNT)
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "page %llu: bad state %u",
					    (unsigned long long)g, e->state);
		count[e->state]++;
		const uint8_t *bytes = NULL;
		switch (e->state) {
		case MV_PS_PRIVATE:
		case MV_PS_SHARED:
			if (e->mpn == MV_ZERO_MPN ||
			    e->mpn >= vm->host->nframes ||
			    !mv_host_frame_in_use(vm->host, e->mpn))
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"page %llu (%s) maps frame %u which is "
					"not in use",
					(unsigned long long)g,
					mv_page_state_name(e->state), e->mpn);
			if ((e->state == MV_PS_SHARED) !=
			    !!(mv_host_frame_flags(vm->host, e->mpn) &
			       MV_FRAME_SHARED))
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"%s page %llu: frame %u is %sa sharing "
					"frame",
					mv_page_state_name(e->state),
					(unsigned long long)g, e->mpn,
					e->state == MV_PS_SHARED ? "not " : "");
			if (e->state == MV_PS_PRIVATE &&
			    mv_host_frame_refs(vm->host, e->mpn) != 1)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"private page %llu: frame %u has "
					"refcount %llu",
					(unsigned long long)g, e->mpn,
					(unsigned long long)mv_host_frame_refs(
						vm->host, e->mpn));
			/* materialised: a descriptor is checked through its
			 * bytes, never trusted */
			bytes = mv_host_frame_read(vm->host, e->mpn, buf);
			break;
		case MV_PS_ZERO:
			if (e->mpn != MV_ZERO_MPN)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"zero page %llu maps frame %u",
					(unsigned long long)g, e->mpn);
			bytes = mv_host_frame(vm->host, MV_ZERO_MPN);
			break;
		case MV_PS_COMPRESSED:
		case MV_PS_SWAPPED: {
			const struct mv_backing_ops *b = &vm->backing[e->state];
			if (!b->peek)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"page %llu is %s but no "
					"backing store is attached",
					(unsigned long long)g,
					mv_page_state_name(e->state));
			if (b->peek(b->ctx, vm, g, buf))
				return mv_error_set(
					err, MV_EIO, NULL, 0, name,
					"page %llu: cannot read back "
					"from %s store",
					(unsigned long long)g,
					mv_page_state_name(e->state));
			bytes = buf;
			break;
		}
		default:
			break;
		}
		if (vm->expect && e->state != MV_PS_BALLOONED) {
			uint64_t h = bytes ? mv_page_hash(bytes)
					   : mv_zero_page_hash();
			if (h != vm->expect[g])
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"page %llu (%s): contents differ from "
					"what the guest last wrote",
					(unsigned long long)g,
					mv_page_state_name(e->state));
		}
	}
	int rc = mv_vm_thp_check(vm, err);
	if (rc)
		return rc;
	if (!mv_vm_numa_check(vm))
		return mv_error_set(err, MV_EINVAL, NULL, 0, name,
				    "the resident pages per NUMA node disagree "
				    "with the pmap");
	if (!mv_owners_check(vm))
		return mv_error_set(err, MV_EINVAL, NULL, 0, name,
				    "the shared part of consumed memory "
				    "disagrees with the pmap's refcounts");
	for (int s = 0; s < MV_PS_COUNT; s++)
		if (count[s] != vm->count[s])
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "%s pages: counter says %llu, pmap "
					    "has %llu",
					    mv_page_state_name(s),
					    (unsigned long long)vm->count[s],
					    (unsigned long long)count[s]);
	return 0;
}

uint64_t mv_vm_overhead_bytes(const struct mv_vm *vm)
{
	/* not the verification checksums: they are the simulator's, and a
	 * run must report the same with --verify as without */
	return sizeof *vm + vm->npages * sizeof *vm->pmap +
	       (vm->region ? vm->nregions : 0);
}

void mv_vm_books(const struct mv_vm *vm, struct mv_books *b)
{
	b->guest_pages += vm->npages;
	mv_books_add(b, "hypervisor", "vm.pmap", sizeof *vm->pmap, vm->npages);
	mv_books_add(b, "hypervisor", "vm.window-list", sizeof *vm->window_list,
		     vm->window_cap);
	/* mv_vm_active_configure allocates at least one entry */
	mv_books_add(b, "hypervisor", "vm.active-sample",
		     sizeof *vm->active.sample,
		     vm->active.n ? vm->active.n : 1);
	if (vm->expect)
		mv_books_add(b, "verify", "vm.expect", sizeof *vm->expect,
			     vm->npages);
	if (vm->region)
		mv_books_add(b, "hypervisor", "vm.region", 1, vm->nregions);
}
