/* Tests of the vm layer: the pmap, its counters and the fault path. */
#include <string.h>

#include "support/mvtest.h"

static void assert_counts_add_up(const struct mv_vm *vm)
{
	uint64_t sum = 0;
	for (int s = 0; s < MV_PS_COUNT; s++)
		sum += vm->count[s];
	assert_int_equal(sum, vm->npages);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
}

static void test_pmap_entry_is_9_bytes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct mv_pme), 9);
	/* the state's 7 values fit its 3 bits; sharing's flags are 5-7 */
	assert_true(MV_PS_COUNT <= 8);
	assert_int_equal(MV_PME_SEEN | MV_PME_HINT | MV_PME_VOLATILE, 0xe0);
	assert_int_equal(MV_PME_MPN_MAX, (1u << 29) - 1);
}

/*
 * The packed entry at its limits: the largest frame or slot number beside
 * every state, every field at its all-ones value beside an entry of
 * zeros, at 9-byte strides (so fields straddle words and cache lines):
 * a field that spills into its neighbour, or a number cut short, shows.
 */
static void test_pme_fields_hold_their_limits_side_by_side(void **state)
{
	(void)state;
	struct mv_pme e[8];
	memset(e, 0, sizeof e);
	assert_int_equal(sizeof e, 72);
	for (int st = 0; st < MV_PS_COUNT; st++) {
		struct mv_pme *p = &e[1 + st % 6];
		p->mpn = MV_PME_MPN_MAX;
		p->state = (unsigned)st;
		assert_int_equal(p->mpn, MV_PME_MPN_MAX);
		assert_int_equal(p->state, st);
		p->mpn = 0; /* the state stays */
		assert_int_equal(p->state, st);
		p->mpn = MV_PME_MPN_MAX;
		p->state = 0; /* the number stays */
		assert_int_equal(p->mpn, MV_PME_MPN_MAX);
		p->mpn = MV_PME_MPN_MAX - (unsigned)st;
		p->state = (unsigned)st;
		p->cksum = UINT32_MAX;
		p->flags = 0xff;
		/* its neighbours, and the entries outside, untouched */
		assert_int_equal(e[0].mpn, 0);
		assert_int_equal(e[7].state, 0);
		assert_int_equal(e[7].cksum, 0);
		memset(p, 0, sizeof *p);
	}
	/* all ones beside all zeros, both orders */
	for (int i = 0; i < 8; i += 2) {
		e[i].mpn = MV_PME_MPN_MAX;
		e[i].state = MV_PS_BALLOONED;
		e[i].cksum = UINT32_MAX;
		e[i].flags = 0xff;
	}
	for (int i = 0; i < 8; i++) {
		int ones = i % 2 == 0;
		assert_int_equal(e[i].mpn, ones ? MV_PME_MPN_MAX : 0);
		assert_int_equal(e[i].state, ones ? MV_PS_BALLOONED : 0);
		assert_int_equal(e[i].cksum, ones ? UINT32_MAX : 0);
		assert_int_equal(e[i].flags, ones ? 0xff : 0);
	}
}

/*
 * The pmap holds the largest slot a swap file may have in a VM's last
 * page, and the creation of a swap file or compression cache whose slot
 * numbers would not fit 29 bits is refused, not cut short.
 */
static void test_pmap_holds_the_largest_slot_and_refuses_more(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "big", 8, 0);
	mv_gppn_t last = vm->npages - 1;
	mv_pmap_set(vm, last, MV_PS_SWAPPED, MV_PME_MPN_MAX);
	mv_pmap_set(vm, last - 1, MV_PS_COMPRESSED, MV_PME_MPN_MAX - 1);
	assert_int_equal(vm->pmap[last].mpn, MV_PME_MPN_MAX);
	assert_int_equal(vm->pmap[last].state, MV_PS_SWAPPED);
	assert_int_equal(vm->pmap[last - 1].mpn, MV_PME_MPN_MAX - 1);
	assert_int_equal(vm->pmap[last - 1].state, MV_PS_COMPRESSED);
	assert_int_equal(vm->count[MV_PS_SWAPPED], 1);
	assert_int_equal(vm->count[MV_PS_COMPRESSED], 1);
	mv_pmap_set(vm, last, MV_PS_UNTOUCHED, 0);
	mv_pmap_set(vm, last - 1, MV_PS_UNTOUCHED, 0);
	assert_int_equal(vm->pmap[last].state, MV_PS_UNTOUCHED);
	assert_counts_add_up(vm);

	struct mv_error err = {0};
	char *dir = mvt_tmpdir("mvpme");
	struct mv_swapfile *sf = NULL;
	assert_int_equal(
		mv_swapfile_create(vm, dir, MV_PME_MPN_MAX + 2ull, &sf, &err),
		MV_EINVAL);
	assert_null(sf);
	struct mv_zcache *z = NULL;
	uint64_t too_big = ((MV_PME_MPN_MAX + 1ull) / 2 + 1) * MV_PAGE_SIZE;
	assert_int_equal(mv_zcache_create(vm, too_big, NULL, &z, &err),
			 MV_EINVAL);
	assert_null(z);
	mvt_rmdir(dir);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/*
 * The stamp keeps 2 s units in 16 bits and reads back relative to now:
 * exact (to 2 s) up to 36 h 24 min old, older stamps read younger by a
 * multiple of that span, never older than it, never after now.
 */
static void test_stamp_reads_back_relative_to_now(void **state)
{
	(void)state;
	uint16_t e = 0;
	const uint64_t span = MV_STAMP_SPAN_S; /* 131072 s */
	assert_int_equal(span, 131072);
	mv_stamp_set(&e, 0);
	assert_int_equal(mv_stamp_s(e, 0), 0);
	assert_int_equal(mv_stamp_s(e, 7), 0);
	mv_stamp_set(&e, 1001); /* rounded down to 2 s */
	assert_int_equal(mv_stamp_s(e, 1001), 1000);
	assert_int_equal(mv_stamp_s(e, 5000), 1000);
	/* a day later, and across the 16-bit wrap of the units */
	uint64_t t = 3 * span + 12345 * 2;
	mv_stamp_set(&e, t);
	assert_int_equal(mv_stamp_s(e, t), t);
	assert_int_equal(mv_stamp_s(e, t + 86400), t);
	assert_int_equal(mv_stamp_s(e, t + span - 2), t);
	/* older than the span: read younger, by one span */
	assert_int_equal(mv_stamp_s(e, t + span), t + span);
	assert_int_equal(mv_stamp_s(e, t + span + 10 * 3600), t + span);
	assert_int_equal(mv_stamp_s(e, t + span + 40 * 3600),
			 t + 2 * span); /* 76 h 24 min old */
	for (uint64_t now = t; now < t + 4 * span; now += 9999) {
		uint64_t r = mv_stamp_s(e, now);
		assert_true(r <= now && now - r < span);
		assert_int_equal((r - t) % span, 0);
	}
	/* set after now (a clock that went back): never read after now */
	mv_stamp_set(&e, t + 100);
	assert_true(mv_stamp_s(e, t) <= t);
	assert_int_equal(mv_stamp_s(e, t), t + 100 - span);
	mv_stamp_set(&e, 10);
	assert_int_equal(mv_stamp_s(e, 4), 0); /* before time 0 */
}

static void test_new_vm_is_all_untouched_and_costs_no_frames(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	uint64_t free0 = h->nfree;
	struct mv_vm *vm = mvt_vm(h, "a", 64, 0); /* bigger than the host */
	assert_int_equal(vm->npages, 64 * MV_MIB / MV_PAGE_SIZE);
	assert_int_equal(vm->count[MV_PS_UNTOUCHED], vm->npages);
	assert_int_equal(h->nfree, free0);
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_first_touch_zero_fills_a_frame_and_charges_it(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	/* dirty a frame so a missing zero fill would show */
	mv_mpn_t m = mv_host_frame_alloc(h, 0);
	memset(mv_host_frame(h, m), 0x5a, MV_PAGE_SIZE);
	mv_host_frame_put(h, m);

	uint8_t *p = mv_vm_access_bytes(vm, 3, 0);
	assert_non_null(p);
	assert_true(mv_page_is_zero(p));
	assert_int_equal(vm->pmap[3].state, MV_PS_PRIVATE);
	assert_int_equal(vm->pmap[3].mpn, m);
	assert_int_equal(vm->ctr.faults[MV_FAULT_ZERO_FILL], 1);
	assert_int_equal(vm->ctr.stall_ns[MV_FAULT_ZERO_FILL],
			 h->cfg.lat.zero_fill);
	assert_int_equal(vm->stall_pending_ns, h->cfg.lat.zero_fill);
	/* second access: fast path, no fault */
	assert_ptr_equal(mv_vm_access_bytes(vm, 3, 1), p);
	assert_int_equal(vm->ctr.faults[MV_FAULT_ZERO_FILL], 1);
	assert_int_equal(vm->count[MV_PS_PRIVATE], 1);
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mv_host_destroy(h);
}

/* Make gppn b of vm share a's frame, as page sharing would. */
static void share(struct mv_vm *vm, mv_gppn_t a, mv_gppn_t b)
{
	mv_mpn_t m = vm->pmap[a].mpn;
	mv_host_frame_put(vm->host, vm->pmap[b].mpn);
	mv_host_frame_get(vm->host, m);
	mv_frame_word_set(vm->host, m,
			  mv_frame_word(vm->host, m) | (MV_FRAME_SHARED));
	mv_pmap_set(vm, a, MV_PS_SHARED, m);
	mv_pmap_set(vm, b, MV_PS_SHARED, m);
}

static void test_cow_write_breaks_sharing_and_keeps_bytes(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	for (mv_gppn_t g = 0; g < 2; g++) {
		uint8_t *p = mv_vm_access_bytes(vm, g, 1);
		memset(p, 0x77, MV_PAGE_SIZE);
		mv_vm_wrote(vm, g);
	}
	share(vm, 0, 1);
	mv_mpn_t shared = vm->pmap[0].mpn;
	assert_int_equal(mv_host_frame_refs(h, shared), 2);
	assert_int_equal(vm->count[MV_PS_SHARED], 2);
	assert_counts_add_up(vm);

	/* a read stays on the shared frame */
	assert_ptr_equal(mv_vm_access_bytes(vm, 1, 0),
			 mv_host_frame(h, shared));
	/* a write copies: new frame, same bytes, refcount drops */
	uint8_t *w = mv_vm_access_bytes(vm, 1, 1);
	assert_ptr_not_equal(w, mv_host_frame(h, shared));
	assert_int_equal(vm->ctr.faults[MV_FAULT_COW], 1);
	assert_int_equal(mv_host_frame_refs(h, shared), 1);
	assert_int_equal(w[100], 0x77);
	w[100] = 1;
	mv_vm_wrote(vm, 1);
	assert_int_equal(mv_host_frame(h, shared)[100], 0x77);
	assert_int_equal(vm->count[MV_PS_PRIVATE], 1);
	assert_int_equal(vm->count[MV_PS_SHARED], 1);
	assert_counts_add_up(vm);
	/* the last sharer writing takes the frame over: no copy */
	uint64_t free0 = h->nfree;
	assert_ptr_equal(mv_vm_access_bytes(vm, 0, 1),
			 mv_host_frame(h, shared));
	assert_int_equal(h->nfree, free0);
	assert_int_equal(vm->ctr.faults[MV_FAULT_COW], 2);
	assert_int_equal(vm->pmap[0].state, MV_PS_PRIVATE);
	assert_false(mv_host_frame_flags(h, shared) & MV_FRAME_SHARED);
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mv_host_destroy(h);
}

static void test_write_to_zero_shared_page_copies_from_zero_frame(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	mv_pmap_set(vm, 5, MV_PS_ZERO, MV_ZERO_MPN);
	uint64_t free0 = h->nfree;
	assert_ptr_equal(mv_vm_access_bytes(vm, 5, 0),
			 mv_host_frame(h, MV_ZERO_MPN));
	assert_int_equal(h->nfree, free0);
	uint8_t *w = mv_vm_access_bytes(vm, 5, 1);
	assert_true(mv_page_is_zero(w));
	w[0] = 9;
	assert_int_equal(h->nfree, free0 - 1);
	assert_int_equal(vm->ctr.faults[MV_FAULT_COW], 1);
	assert_true(mv_page_is_zero(mv_host_frame(h, MV_ZERO_MPN)));
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_full_host_makes_the_access_wait(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 32, 0);
	uint64_t n = h->nfree;
	for (mv_gppn_t g = 0; g < n; g++)
		assert_non_null(mv_vm_access_bytes(vm, g, 1));
	assert_int_equal(h->nfree, 0);
	assert_null(mv_vm_access_bytes(vm, n, 1));
	assert_int_equal(vm->pmap[n].state, MV_PS_UNTOUCHED);
	assert_int_equal(vm->ctr.faults[MV_FAULT_ALLOC_WAIT], 1);
	/* blocked by policy even with memory free */
	mv_vm_balloon_page(vm, 0);
	assert_int_equal(h->nfree, 1);
	vm->alloc_blocked = 1;
	assert_null(mv_vm_access_bytes(vm, n, 1));
	vm->alloc_blocked = 0;
	assert_non_null(mv_vm_access_bytes(vm, n, 1));
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_balloon_releases_the_frame(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	uint8_t *p = mv_vm_access_bytes(vm, 7, 1);
	p[0] = 1;
	mv_vm_wrote(vm, 7);
	uint64_t free0 = h->nfree;
	mv_vm_balloon_page(vm, 7);
	assert_int_equal(h->nfree, free0 + 1);
	assert_int_equal(vm->count[MV_PS_BALLOONED], 1);
	assert_counts_add_up(vm);
	/* touching it after deflation is a zero fill */
	p = mv_vm_access_bytes(vm, 7, 0);
	assert_true(mv_page_is_zero(p));
	assert_int_equal(vm->ctr.faults[MV_FAULT_ZERO_FILL], 2);
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_check_detects_a_changed_guest_byte(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	uint8_t *p = mv_vm_access_bytes(vm, 2, 1);
	memset(p, 3, MV_PAGE_SIZE);
	mv_vm_wrote(vm, 2);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	p[1234] ^= 1; /* a bug that changes a byte behind the guest's back */
	struct mv_error err = {0};
	assert_int_equal(mv_vm_check(vm, &err), MV_EINVAL);
	assert_non_null(strstr(err.msg, "page 2"));
	p[1234] ^= 1;
	/* and a counter that drifted */
	vm->count[MV_PS_PRIVATE]++;
	assert_int_equal(mv_vm_check(vm, &err), MV_EINVAL);
	vm->count[MV_PS_PRIVATE]--;
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_active_window_counts_distinct_pages(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	for (int i = 0; i < 100; i++)
		mv_vm_access_bytes(vm, (mv_gppn_t)(i % 10), i & 1);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 10);
	mv_vm_access_bytes(vm, 1, 0);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 1);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* A device's read (a guest disk write's DMA) brings a page in but is no
 * guest access: no accessed bit, no ended sample, no read counted. */
static void test_dma_read_faults_in_but_is_no_guest_access(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	uint8_t *p = mv_vm_dma_read(vm, 2); /* untouched: a zero fill */
	assert_non_null(p);
	assert_int_equal(vm->pmap[2].state, MV_PS_PRIVATE);
	assert_int_equal(vm->ctr.faults[MV_FAULT_ZERO_FILL], 1);
	vm->pmap[2].flags |= MV_PME_SAMPLED;
	assert_ptr_equal(mv_vm_dma_read(vm, 2), p); /* resident */
	assert_true(vm->pmap[2].flags & MV_PME_SAMPLED);
	assert_false(vm->pmap[2].flags & MV_PME_ACCESSED);
	assert_int_equal(vm->active.touched, 0);
	assert_int_equal(vm->ctr.reads, 0);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 0);
	/* the guest's own read of it is seen */
	mv_vm_access(vm, 2, 0);
	assert_int_equal(vm->active.touched, 1);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 1);
	assert_counts_add_up(vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_usage_counts_shared_frames_fractionally(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	for (mv_gppn_t g = 0; g < 4; g++)
		mv_vm_access_bytes(vm, g, 1);
	share(vm, 0, 1);
	mv_host_frame_put(h, vm->pmap[2].mpn);
	mv_pmap_set(vm, 2, MV_PS_ZERO, MV_ZERO_MPN);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	struct mv_vm_usage u;
	mv_vm_usage(vm, &u);
	assert_int_equal(u.granted, 4);
	assert_int_equal(u.touched, 4);
	assert_int_equal(u.state[MV_PS_SHARED], 2);
	assert_int_equal(u.state[MV_PS_ZERO], 1);
	assert_int_equal(u.consumed, 2); /* 1 private + 2 x 1/2 shared */
	assert_int_equal(u.shared_saved, 2);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* vm's private page g now maps sharing frame m, as page sharing merges */
static void merge_into(struct mv_vm *vm, mv_gppn_t g, mv_mpn_t m)
{
	mv_mpn_t old = vm->pmap[g].mpn;
	mv_host_frame_get(vm->host, m);
	mv_pmap_set(vm, g, MV_PS_SHARED, m);
	mv_host_frame_put(vm->host, old);
}

/* Consumed's shared part, sum of k / r over each frame a VM maps k times
 * at refcount r, rounded half up, computed exactly (refcounts <= 8 here:
 * 840 is a multiple of each). */
static uint64_t exact_shared_part(const struct mv_vm *vm)
{
	uint64_t num = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		if (vm->pmap[g].state == MV_PS_SHARED) {
			uint32_t r = (uint32_t)mv_host_frame_refs(
				vm->host, vm->pmap[g].mpn);
			assert_true(r >= 1 && r <= 8);
			num += 840 / r;
		}
	return (2 * num + 840) / (2 * 840);
}

static void assert_shared_parts(struct mv_vm **vm, int n)
{
	for (int i = 0; i < n; i++) {
		if (!vm[i])
			continue;
		assert_true(mv_owners_check(vm[i]));
		assert_int_equal(mv_vm_check(vm[i], NULL), 0);
		assert_int_equal(mv_vm_shared_part(vm[i]),
				 exact_shared_part(vm[i]));
	}
}

/* Three VMs of 4 touched pages each on h; vm[0]'s page 0 made a
 * sharing frame, which is returned. */
static mv_mpn_t three_vms_one_shared(struct mv_host *h, struct mv_vm **vm)
{
	for (int i = 0; i < 3; i++) {
		vm[i] = mvt_vm(h, "v", 1, i);
		for (mv_gppn_t g = 0; g < 4; g++)
			mv_vm_access_bytes(vm[i], g, 1);
	}
	mv_mpn_t m = vm[0]->pmap[0].mpn;
	mv_host_frame_set_shared(h, m, 1);
	mv_pmap_set(vm[0], 0, MV_PS_SHARED, m);
	return m;
}

/* A VM's shared part moves when another VM maps or unmaps its frames,
 * and a half rounds up (refcount 2: 1/2; 2 of 4: 1/2). */
static void test_shared_part_follows_other_vms_refcounts(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm[3];
	mv_mpn_t m = three_vms_one_shared(h, vm);
	assert_int_equal(mv_vm_shared_part(vm[0]), 1); /* 1/1 */
	for (mv_gppn_t g = 0; g < 3; g++)
		merge_into(vm[1], g, m);
	merge_into(vm[2], 0, m);
	assert_int_equal(mv_host_frame_refs(h, m), 5);
	assert_shared_parts(vm, 3);
	assert_int_equal(mv_vm_shared_part(vm[0]), 0); /* 1/5 */
	assert_int_equal(mv_vm_shared_part(vm[1]), 1); /* 3/5 */
	/* a copy-on-write in vm 1: 4 left, vm 1 holds 2/4, a tie */
	mv_vm_access_bytes(vm[1], 1, 1);
	assert_int_equal(mv_host_frame_refs(h, m), 4);
	assert_shared_parts(vm, 3);
	assert_int_equal(mv_vm_shared_part(vm[1]), 1);
	assert_int_equal(mv_vm_shared_part(vm[2]), 0);
	/* vm 1 gone: vm 0 and vm 2 hold 1/2 each */
	mv_vm_destroy(vm[1]);
	vm[1] = NULL;
	assert_shared_parts(vm, 3);
	assert_int_equal(mv_vm_shared_part(vm[0]), 1);
	assert_int_equal(mv_vm_shared_part(vm[2]), 1);
	/* the balloon takes vm 2's page: vm 0 alone on the frame */
	mv_vm_balloon_page(vm[2], 0);
	assert_shared_parts(vm, 3);
	assert_int_equal(mv_vm_shared_part(vm[2]), 0);
	mv_vm_destroy(vm[0]);
	mv_vm_destroy(vm[2]);
	assert_null(h->owners); /* the last VM freed the table */
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mv_host_destroy(h);
}

/* A teardown of every VM (mv_sim_destroy's): the owners table goes
 * first, and each VM's destroy still gives back every frame, shared
 * ones included, without the table. */
static void test_teardown_without_owners_frees_every_frame(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm[3];
	mv_mpn_t m = three_vms_one_shared(h, vm);
	merge_into(vm[1], 0, m);
	merge_into(vm[2], 1, m);
	merge_into(vm[2], 2, m);
	assert_int_equal(mv_host_frame_refs(h, m), 4);
	mv_owners_detach_host(h);
	assert_null(h->owners);
	for (int i = 0; i < 3; i++)
		mv_vm_destroy(vm[i]);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_destroy(h);
}

/* Random merges, copy-on-write breaks, balloon and sharing frames
 * taken over, over 4 VMs and 8 frames: every VM's shared part stays
 * exact after every change, whatever the order of changes. */
static void test_shared_part_stays_exact_under_random_changes(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm[4];
	for (int i = 0; i < 4; i++)
		vm[i] = mvt_vm(h, "v", 1, i);
	mv_mpn_t frame[8] = {0};
	struct mv_rng r;
	mv_rng_seed(&r, 12);
	for (int step = 0; step < 4000; step++) {
		struct mv_vm *v = vm[mv_rng_below(&r, 4)];
		mv_gppn_t g = mv_rng_below(&r, 32);
		int f = (int)(mv_rng_below(&r, 8));
		struct mv_pme *e = &v->pmap[g];
		switch (mv_rng_below(&r, 4)) {
		case 0: /* merge a private page into frame f (or make it f) */
			if (!mv_vm_access_bytes(v, g, 1))
				break;
			if (!frame[f] || !mv_host_frame_refs(h, frame[f]) ||
			    !(mv_host_frame_flags(h, frame[f]) &
			      MV_FRAME_SHARED)) {
				frame[f] = e->mpn;
				mv_host_frame_set_shared(h, e->mpn, 1);
				mv_pmap_set(v, g, MV_PS_SHARED, e->mpn);
			} else if (mv_host_frame_refs(h, frame[f]) < 8) {
				merge_into(v, g, frame[f]);
			}
			break;
		case 1: /* a write: copy-on-write or take-over */
			mv_vm_access_bytes(v, g, 1);
			break;
		case 2:
			if (e->state == MV_PS_SHARED)
				mv_vm_balloon_page(v, g);
			break;
		default: /* a read: nothing moves */
			mv_vm_access_bytes(v, g, 0);
			break;
		}
		if (step % 16 == 0)
			assert_shared_parts(vm, 4);
	}
	assert_shared_parts(vm, 4);
	for (int i = 0; i < 4; i++)
		mv_vm_destroy(vm[i]);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mv_host_destroy(h);
}

/* Closing a window clears the accessed bits of the pages listed in it;
 * past the list's bound (64 pages here) the window overflows
 * and is closed by a pass over every page, and the next window lists
 * again. */
static void test_window_list_clears_listed_pages_and_overflows(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 1, 0); /* 256 pages */
	assert_int_equal(mv_vm_window_cap_max(vm), 64);
	for (mv_gppn_t g = 0; g < 64; g++)
		mv_vm_access_bytes(vm, (g * 37) % 256, 0);
	assert_true(mv_vm_window_listed(vm));
	assert_int_equal(vm->window_cap, 64);
	for (uint64_t i = 0; i < 64; i++)
		assert_int_equal(vm->window_list[i], (i * 37) % 256);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 64);
	for (mv_gppn_t g = 0; g < 256; g++)
		assert_false(vm->pmap[g].flags & MV_PME_ACCESSED);
	/* 200 pages: the list stops at 64 and the window overflows */
	for (mv_gppn_t g = 0; g < 200; g++)
		mv_vm_access_bytes(vm, g, g & 1);
	assert_false(mv_vm_window_listed(vm));
	assert_int_equal(vm->window_cap, 64);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 200);
	for (mv_gppn_t g = 0; g < 256; g++)
		assert_false(vm->pmap[g].flags & MV_PME_ACCESSED);
	/* listed again, and a page accessed twice is listed once */
	mv_vm_access_bytes(vm, 250, 0);
	mv_vm_access_bytes(vm, 250, 1);
	assert_true(mv_vm_window_listed(vm));
	assert_int_equal(vm->window_accessed, 1);
	mv_vm_close_window(vm);
	assert_int_equal(vm->active_true, 1);
	assert_false(vm->pmap[250].flags & MV_PME_ACCESSED);
	struct mv_books b = {0};
	mv_vm_books(vm, &b);
	assert_int_equal(
		mv_books_find(&b, "hypervisor", "vm.window-list")->bytes,
		64 * 4);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_config_rejects_impossible_sizes(void **state)
{
	(void)state;
	struct mv_vm_config c;
	struct mv_error err = {0};
	mv_vm_config_default(&c, "x", 64 * MV_MIB);
	assert_int_equal(mv_vm_config_check(&c, &err), 0);
	assert_int_equal(c.shares, 640);
	c.mem_bytes = 64 * MV_MIB + 1024;
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	mv_vm_config_default(&c, "x", 64 * MV_MIB);
	c.current_bytes = 128 * MV_MIB;
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
	mv_vm_config_default(&c, "x", 64 * MV_MIB);
	c.reservation_bytes = 32 * MV_MIB;
	c.limit_bytes = 16 * MV_MIB;
	assert_int_equal(mv_vm_config_check(&c, &err), MV_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmap_entry_is_9_bytes),
		cmocka_unit_test(
			test_pme_fields_hold_their_limits_side_by_side),
		cmocka_unit_test(
			test_pmap_holds_the_largest_slot_and_refuses_more),
		cmocka_unit_test(test_stamp_reads_back_relative_to_now),
		cmocka_unit_test(
			test_new_vm_is_all_untouched_and_costs_no_frames),
		cmocka_unit_test(
			test_first_touch_zero_fills_a_frame_and_charges_it),
		cmocka_unit_test(test_cow_write_breaks_sharing_and_keeps_bytes),
		cmocka_unit_test(
			test_write_to_zero_shared_page_copies_from_zero_frame),
		cmocka_unit_test(test_full_host_makes_the_access_wait),
		cmocka_unit_test(test_balloon_releases_the_frame),
		cmocka_unit_test(test_check_detects_a_changed_guest_byte),
		cmocka_unit_test(test_active_window_counts_distinct_pages),
		cmocka_unit_test(
			test_dma_read_faults_in_but_is_no_guest_access),
		cmocka_unit_test(test_usage_counts_shared_frames_fractionally),
		cmocka_unit_test(test_shared_part_follows_other_vms_refcounts),
		cmocka_unit_test(
			test_teardown_without_owners_frees_every_frame),
		cmocka_unit_test(
			test_shared_part_stays_exact_under_random_changes),
		cmocka_unit_test(
			test_window_list_clears_listed_pages_and_overflows),
		cmocka_unit_test(test_config_rejects_impossible_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
