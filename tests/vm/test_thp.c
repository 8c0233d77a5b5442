/* Tests of transparent huge pages: the host's aligned runs, the THP
 * fault, khugepaged's collapse and the split (docs/largepages.md). */
#include <string.h>

#include "support/mvtest.h"

static void check_ok(const struct mv_host *h, const struct mv_vm *vm)
{
	struct mv_error err = {0};
	int rc = mv_host_check(h, &err);
	mvt_ok(rc, &err, "host check");
	if (vm) {
		rc = mv_vm_check(vm, &err);
		mvt_ok(rc, &err, "vm check");
	}
}

static void test_run_is_aligned_and_keeps_the_free_lists(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1); /* frames 1..4096 */
	uint64_t free0 = h->nfree;
	mv_mpn_t a = mv_host_frame_alloc_run(h, 0);
	assert_int_equal(a, 512); /* frame 0 is the zero frame */
	assert_int_equal(h->nfree, free0 - 512);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(mv_host_frame_refs(h, a + i), 1);
	/* the frames skipped for the alignment are still free */
	mv_mpn_t f = mv_host_frame_alloc(h, 0);
	assert_true(f >= 1 && f < 512);
	check_ok(h, NULL);
	/* the rest of the host in runs: 1024..3584, then none */
	mv_mpn_t runs[8];
	int n = 0;
	while ((runs[n] = mv_host_frame_alloc_run(h, 0)) != MV_MPN_NONE)
		n++;
	assert_int_equal(n, 6);
	assert_int_equal(runs[5], 3584);
	check_ok(h, NULL);
	/* one freed run comes back as a run (off the free stack) */
	for (unsigned i = 0; i < 512; i++)
		mv_host_frame_put(h, runs[2] + i);
	/* a block with one frame in use is no run */
	for (unsigned i = 1; i < 512; i++)
		mv_host_frame_put(h, runs[3] + i);
	assert_int_equal(mv_host_frame_alloc_run(h, 0), runs[2]);
	check_ok(h, NULL);
	assert_int_equal(mv_host_frame_alloc_run(h, 0), MV_MPN_NONE);
	mv_host_destroy(h);
}

/* A page's content hash, whatever its state (resident pages only). */
static uint64_t page_hash(const struct mv_vm *vm, mv_gppn_t g)
{
	uint8_t buf[MV_PAGE_SIZE];
	return mv_page_hash(mv_vm_page_read(vm, g, buf));
}

static void test_first_touch_of_a_pristine_region_maps_2m(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 16, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	assert_int_equal(mv_vm_thp_enable(vm), 0);
	uint64_t free0 = h->nfree;
	uint8_t *p = mv_vm_access_bytes(vm, 5, 1);
	assert_non_null(p);
	memset(p, 0xab, MV_PAGE_SIZE);
	mv_vm_wrote(vm, 5);
	assert_int_equal(vm->ctr.thp_fault_alloc, 1);
	assert_int_equal(vm->region[0], MV_REGION_HUGE);
	assert_int_equal(vm->thp_huge, 1);
	assert_int_equal(mv_vm_thp_bytes(vm), 2 * MV_MIB);
	assert_int_equal(vm->count[MV_PS_PRIVATE], 512);
	assert_int_equal(h->nfree, free0 - 512);
	assert_int_equal(vm->pmap[0].mpn % 512, 0);
	assert_int_equal(vm->ctr.faults[MV_FAULT_ZERO_FILL], 1);
	assert_int_equal(vm->ctr.stall_ns[MV_FAULT_ZERO_FILL],
			 512 * h->cfg.lat.zero_fill);
	/* the other pages read as zeros and fault no more */
	assert_non_null(mv_vm_access(vm, 300, 0));
	assert_int_equal(page_hash(vm, 300), mv_zero_page_hash());
	assert_int_equal(vm->ctr.faults[MV_FAULT_ZERO_FILL], 1);
	check_ok(h, vm);
	/* a region already touched in 4 KiB stays small */
	vm->thp_fault = 0;
	assert_non_null(mv_vm_access(vm, 512 + 3, 1));
	vm->thp_fault = 1;
	assert_non_null(mv_vm_access(vm, 512 + 4, 1));
	assert_int_equal(vm->region[1], MV_REGION_SMALL);
	assert_int_equal(vm->ctr.thp_fault_alloc, 1);
	check_ok(h, vm);
	mv_vm_destroy(vm);
	check_ok(h, NULL);
	assert_int_equal(h->nfree, free0);
	mv_host_destroy(h);
}

static void test_no_free_run_falls_back_to_4k(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	/* every other frame in use: plenty free, no aligned run */
	mv_mpn_t keep[4096];
	uint64_t n = 0;
	mv_mpn_t f;
	while ((f = mv_host_frame_alloc(h, 0)) != MV_MPN_NONE)
		keep[n++] = f;
	for (uint64_t i = 0; i < n; i += 2)
		mv_host_frame_put(h, keep[i]);
	struct mv_vm *vm = mvt_vm(h, "a", 8, 0);
	assert_int_equal(mv_vm_thp_enable(vm), 0);
	assert_non_null(mv_vm_access(vm, 0, 1));
	assert_int_equal(vm->ctr.thp_fault_fallback, 1);
	assert_int_equal(vm->ctr.thp_fault_alloc, 0);
	assert_int_equal(vm->count[MV_PS_PRIVATE], 1);
	assert_int_equal(vm->region[0], MV_REGION_SMALL);
	check_ok(h, vm);
	mv_vm_destroy(vm);
	for (uint64_t i = 1; i < n; i += 2)
		mv_host_frame_put(h, keep[i]);
	mv_host_destroy(h);
}

static void test_split_before_a_page_leaves_the_huge_page(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 16, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	assert_int_equal(mv_vm_thp_enable(vm), 0);
	assert_non_null(mv_vm_access(vm, 0, 1));
	assert_non_null(mv_vm_access(vm, 512, 1));
	mv_mpn_t base = vm->pmap[0].mpn;
	/* ballooned: split, the other 511 pages keep their frames */
	mv_vm_balloon_page(vm, 7);
	assert_int_equal(vm->ctr.thp_split_page, 1);
	assert_int_equal(vm->region[0], MV_REGION_SMALL);
	assert_int_equal(vm->thp_huge, 1);
	assert_int_equal(vm->pmap[8].mpn, base + 8);
	assert_int_equal(vm->count[MV_PS_PRIVATE], 1023);
	check_ok(h, vm);
	/* mapped to the zero frame (zero-page sharing): split too */
	mv_host_frame_put(h, vm->pmap[600].mpn);
	mv_pmap_set(vm, 600, MV_PS_ZERO, MV_ZERO_MPN);
	assert_int_equal(vm->ctr.thp_split_page, 2);
	assert_int_equal(vm->thp_huge, 0);
	check_ok(h, vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_collapse_copies_bytes_under_max_ptes_none(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 16, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	/* 4 KiB pages first: 100 of region 0 with bytes or descriptors */
	uint64_t want[100];
	for (mv_gppn_t g = 0; g < 100; g++) {
		if (g % 3 == 0) {
			assert_non_null(mv_vm_access(vm, g, 1));
			mv_vm_set_desc(vm, g,
				       mv_desc_make(MV_DESC_DATA, 20, g + 1));
		} else {
			uint8_t *p = mv_vm_access_bytes(vm, g, 1);
			for (unsigned i = 0; i < MV_PAGE_SIZE; i++)
				p[i] = (uint8_t)(g * 7 + i);
			mv_vm_wrote(vm, g);
		}
		want[g] = page_hash(vm, g);
	}
	/* and a page of region 1 ballooned: that one never collapses */
	assert_non_null(mv_vm_access(vm, 600, 1));
	mv_vm_balloon_page(vm, 601);
	assert_int_equal(mv_vm_thp_enable(vm), 0);
	assert_int_equal(vm->region[0], MV_REGION_SMALL);
	assert_int_equal(vm->region[2], MV_REGION_PRISTINE);
	/* 412 unbacked pages: above a max_ptes_none of 100 */
	assert_int_equal(mv_vm_thp_collapse(vm, 0, 100), 0);
	assert_int_equal(mv_vm_thp_collapse(vm, 1, 511), 0);
	assert_int_equal(mv_vm_thp_collapse(vm, 2, 511), 0); /* pristine */
	uint64_t free0 = h->nfree;
	assert_int_equal(mv_vm_thp_collapse(vm, 0, 511), 1);
	assert_int_equal(vm->ctr.thp_collapse_alloc, 1);
	assert_int_equal(vm->region[0], MV_REGION_HUGE);
	/* 100 old frames freed, 512 taken: the unbacked pages now cost */
	assert_int_equal(h->nfree, free0 - 512 + 100);
	for (mv_gppn_t g = 0; g < 100; g++)
		assert_int_equal(page_hash(vm, g), want[g]);
	assert_int_equal(page_hash(vm, 400), mv_zero_page_hash());
	check_ok(h, vm); /* every page against what the guest wrote */
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

static void test_khugepaged_scans_at_its_rate(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(128, 1);
	struct mv_vm *vms[2] = {mvt_vm(h, "a", 16, 0), mvt_vm(h, "b", 16, 1)};
	for (int v = 0; v < 2; v++) {
		for (mv_gppn_t g = 0; g < vms[v]->npages; g += 64)
			assert_non_null(mv_vm_access(vms[v], g, 1));
		assert_int_equal(mv_vm_thp_enable(vms[v]), 0);
	}
	struct mv_thp_config c;
	mv_thp_config_default(&c);
	c.enabled = MV_THP_ALWAYS;
	c.pages_to_scan = 1024; /* two regions a scan */
	c.scan_sleep_ns = MV_NS_PER_S;
	struct mv_khugepaged k;
	mv_khugepaged_init(&k, &c);
	mv_khugepaged_run(&k, vms, 2, MV_NS_PER_S / 2);
	assert_int_equal(vms[0]->thp_huge, 0);
	mv_khugepaged_run(&k, vms, 2, MV_NS_PER_S);
	assert_int_equal(vms[0]->thp_huge, 2);
	mv_khugepaged_run(&k, vms, 2, 5 * MV_NS_PER_S);
	/* 10 regions in 5 scans: all 8 of a, 2 of b */
	assert_int_equal(vms[0]->thp_huge, 8);
	assert_int_equal(vms[1]->thp_huge, 2);
	assert_int_equal(k.pages_scanned, 10 * 512);
	for (int v = 0; v < 2; v++) {
		check_ok(h, vms[v]);
		mv_vm_destroy(vms[v]);
	}
	mv_host_destroy(h);
}

static void test_esx_large_pages_are_marked_until_broken(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 16, 0);
	assert_int_equal(mv_vm_thp_enable(vm), 0);
	vm->lpage_esx = 1;
	assert_non_null(mv_vm_access(vm, 0, 1));
	assert_non_null(mv_vm_access(vm, 1500, 1));
	/* sharing and compression pass large pages by */
	for (mv_gppn_t g = 0; g < 512; g++)
		assert_true(vm->pmap[g].flags & MV_PME_LARGE);
	assert_false(vm->pmap[600].flags & MV_PME_LARGE);
	check_ok(h, vm);
	assert_int_equal(mv_vm_thp_split_all(vm), 2);
	assert_int_equal(vm->ctr.thp_split_page, 2);
	assert_int_equal(vm->thp_huge, 0);
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		assert_false(vm->pmap[g].flags & MV_PME_LARGE);
	assert_int_equal(vm->count[MV_PS_PRIVATE], 1024);
	check_ok(h, vm);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_is_aligned_and_keeps_the_free_lists),
		cmocka_unit_test(test_first_touch_of_a_pristine_region_maps_2m),
		cmocka_unit_test(test_no_free_run_falls_back_to_4k),
		cmocka_unit_test(test_split_before_a_page_leaves_the_huge_page),
		cmocka_unit_test(
			test_collapse_copies_bytes_under_max_ptes_none),
		cmocka_unit_test(test_khugepaged_scans_at_its_rate),
		cmocka_unit_test(test_esx_large_pages_are_marked_until_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
