/* Tests of NUMA placement (src/vm/numa.c): where first touch puts a
 * frame under each <numatune> mode and guest cell, and the counters. */
#include <string.h>

#include "support/mvtest.h"

#define NODE_PAGES 4096 /* mvt_host(32, 2): 16 MiB a node */

static struct mv_vm *numa_vm(struct mv_host *h, uint64_t mib, int id,
			     enum mv_numa_mode mode, unsigned nodeset)
{
	struct mv_vm_config c;
	mv_vm_config_default(&c, "n", mib * MV_MIB);
	c.numa.mode = (uint8_t)mode;
	c.numa.nodeset = (uint8_t)nodeset;
	struct mv_vm *vm;
	struct mv_error err;
	mvt_ok(mv_vm_create(h, &c, id, &vm, &err), &err, "vm");
	return vm;
}

/* Touch pages [0, n); the number that got a frame. */
static uint64_t touch(struct mv_vm *vm, uint64_t n)
{
	uint64_t got = 0;
	for (mv_gppn_t g = 0; g < n; g++)
		got += mv_vm_access(vm, g, 1) != NULL;
	return got;
}

static int node_of(const struct mv_vm *vm, mv_gppn_t g)
{
	return mv_host_frame_node(vm->host, vm->pmap[g].mpn);
}

static void test_default_places_on_the_home_node_round_robin(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *a = numa_vm(h, 4, 0, MV_NUMA_NONE, 0);
	struct mv_vm *b = numa_vm(h, 4, 1, MV_NUMA_NONE, 0);
	assert_int_equal(a->home_node, 0);
	assert_int_equal(b->home_node, 1); /* ESX 4.1: round robin */
	assert_int_equal(touch(a, 1024), 1024);
	assert_int_equal(touch(b, 1024), 1024);
	for (mv_gppn_t g = 0; g < 1024; g++) {
		assert_int_equal(node_of(a, g), 0);
		assert_int_equal(node_of(b, g), 1);
	}
	assert_int_equal(a->ctr.numastat.numa_hit, 1024);
	assert_int_equal(a->ctr.numastat.local_node, 1024);
	assert_int_equal(a->ctr.numastat.numa_miss, 0);
	assert_int_equal(a->numa.local_pages, 1024);
	assert_int_equal(a->numa.node_pages[0], 1024);
	assert_int_equal(h->numastat[1].numa_hit, 1024);
	assert_int_equal(mv_vm_check(a, NULL), 0);
	mv_vm_destroy(a);
	mv_vm_destroy(b);
	mv_host_destroy(h);
}

/* A VM larger than its node: preferred spills to the other node, each
 * spilled page a numa_miss there and a numa_foreign on the home node. */
static void test_preferred_spills_and_counts_miss_and_foreign(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 24, 0, MV_NUMA_PREFERRED, 1u << 0);
	uint64_t n = 6144;
	assert_int_equal(touch(vm, n), n);
	uint64_t on1 = 0;
	for (mv_gppn_t g = 0; g < n; g++)
		on1 += node_of(vm, g) == 1;
	assert_int_equal(on1, n - NODE_PAGES);
	assert_int_equal(vm->ctr.numastat.numa_hit, NODE_PAGES);
	assert_int_equal(vm->ctr.numastat.numa_miss, n - NODE_PAGES);
	assert_int_equal(h->numastat[1].numa_miss, n - NODE_PAGES);
	assert_int_equal(h->numastat[0].numa_foreign, n - NODE_PAGES);
	assert_int_equal(h->numastat[1].other_node, n - NODE_PAGES);
	assert_int_equal(vm->ctr.remote_frames, n - NODE_PAGES);
	assert_int_equal(vm->numa.local_pages, NODE_PAGES);
	assert_int_equal(vm->ctr.numa_bind_failed, 0);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* strict (and restrictive): the nodeset only; full, the access fails
 * though the other node has free memory, and the failure is counted. */
static void test_strict_fails_when_its_nodeset_is_full(void **state)
{
	(void)state;
	const enum mv_numa_mode modes[] = {MV_NUMA_STRICT, MV_NUMA_RESTRICTIVE};
	for (int m = 0; m < 2; m++) {
		struct mv_host *h = mvt_host(32, 2);
		struct mv_vm *vm = numa_vm(h, 24, 1, modes[m], 1u << 0);
		assert_int_equal(vm->home_node, 1); /* id 1: round robin */
		assert_int_equal(touch(vm, 6144), NODE_PAGES);
		for (mv_gppn_t g = 0; g < NODE_PAGES; g++)
			assert_int_equal(node_of(vm, g), 0);
		assert_int_equal(vm->ctr.numa_bind_failed, 6144 - NODE_PAGES);
		assert_int_equal(h->node[1].nfree, NODE_PAGES);
		assert_int_equal(h->node[0].nfree, 0);
		/* the vCPUs run on node 1: every page is remote to them */
		assert_int_equal(vm->ctr.numastat.other_node, NODE_PAGES);
		assert_int_equal(vm->numa.local_pages, 0);
		assert_int_equal(mv_vm_check(vm, NULL), 0);
		mv_vm_destroy(vm);
		mv_host_destroy(h);
	}
}

/* interleave: page g on the nodeset's (g mod n)-th node */
static void test_interleave_alternates_by_guest_page(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 8, 0, MV_NUMA_INTERLEAVE, 3);
	assert_int_equal(touch(vm, 2048), 2048);
	for (mv_gppn_t g = 0; g < 2048; g++)
		assert_int_equal(node_of(vm, g), (int)(g % 2));
	assert_int_equal(vm->ctr.numastat.interleave_hit, 2048);
	assert_int_equal(vm->ctr.numastat.numa_hit, 2048);
	assert_int_equal(vm->ctr.numastat.local_node, 1024);
	assert_int_equal(vm->ctr.numastat.other_node, 1024);
	assert_int_equal(h->numastat[0].interleave_hit, 1024);
	assert_int_equal(vm->numa.local_pages, 1024);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* guest cells: each cell's range on its memnode's node, local to its
 * vCPUs; a cell without a memnode follows the VM (home node 0) */
static void test_cells_map_guest_ranges_to_host_nodes(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm_config c;
	mv_vm_config_default(&c, "cells", 8 * MV_MIB);
	c.ncells = 2;
	c.cell[0].bytes = 4 * MV_MIB;
	c.cell[0].node = -1;
	c.cell[1].bytes = 4 * MV_MIB;
	c.cell[1].node = 1;
	c.cell[1].policy.mode = MV_NUMA_STRICT;
	c.cell[1].policy.nodeset = 1u << 1;
	struct mv_vm *vm;
	struct mv_error err;
	mvt_ok(mv_vm_create(h, &c, 0, &vm, &err), &err, "vm");
	assert_int_equal(touch(vm, 2048), 2048);
	for (mv_gppn_t g = 0; g < 2048; g++) {
		assert_int_equal(mv_vm_numa_cell(vm, g), g < 1024 ? 0 : 1);
		assert_int_equal(node_of(vm, g), g < 1024 ? 0 : 1);
	}
	assert_int_equal(vm->numa.local_pages, 2048);
	assert_int_equal(vm->ctr.remote_frames, 0);
	assert_int_equal(vm->ctr.numastat.numa_hit, 2048);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* the books follow every state change: balloon, COW, sharing */
static void test_books_follow_frees_and_check_catches_drift(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 24, 0, MV_NUMA_PREFERRED, 1);
	touch(vm, 6144);
	for (mv_gppn_t g = 0; g < 6144; g += 3)
		mv_vm_balloon_page(vm, g);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	uint64_t res = vm->numa.node_pages[0] + vm->numa.node_pages[1];
	assert_int_equal(res, vm->count[MV_PS_PRIVATE]);
	vm->numa.local_pages++;
	assert_int_not_equal(mv_vm_check(vm, NULL), 0);
	vm->numa.local_pages--;
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* Every access to a remote frame costs local x (ratio - 1) more: 60 ns
 * by default (81 ns x 0.74), counted and charged as stall; local frames,
 * the zero frame and a one-node host cost nothing. */
static void test_remote_accesses_are_counted_and_charged(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 24, 0, MV_NUMA_PREFERRED, 1);
	assert_int_equal(vm->numa.remote_ns, 60);
	uint64_t n = 6144;
	touch(vm, n); /* the first touches: charged as faults */
	uint64_t acc0 = vm->ctr.remote_accesses, ns0 = vm->ctr.numa_ns;
	uint64_t pend0 = vm->stall_pending_ns;
	for (int round = 0; round < 3; round++)
		for (mv_gppn_t g = 0; g < n; g++)
			assert_non_null(mv_vm_access(vm, g, round == 1));
	uint64_t remote = n - NODE_PAGES;
	assert_int_equal(vm->ctr.remote_accesses - acc0, 3 * remote);
	assert_int_equal(vm->ctr.numa_ns - ns0, 3 * remote * 60);
	assert_int_equal(vm->stall_pending_ns - pend0, 3 * remote * 60);
	mv_vm_destroy(vm);

	/* the zero frame is on no node: reading it is never remote */
	vm = numa_vm(h, 4, 1, MV_NUMA_NONE, 0);
	mv_pmap_set(vm, 7, MV_PS_ZERO, MV_ZERO_MPN);
	assert_non_null(mv_vm_access(vm, 7, 0));
	assert_int_equal(vm->ctr.remote_accesses, 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);

	h = mvt_host(32, 1);
	vm = numa_vm(h, 8, 3, MV_NUMA_NONE, 0);
	touch(vm, 2048);
	touch(vm, 2048);
	assert_int_equal(vm->ctr.remote_accesses, 0);
	assert_int_equal(vm->ctr.numa_ns, 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* The interval model's accesses without events: remote in the
 * proportion of resident pages that are remote, the rest carried. */
static void test_bulk_accesses_follow_the_remote_fraction(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 8, 0, MV_NUMA_INTERLEAVE, 3);
	touch(vm, 2000); /* 1000 local, 1000 remote */
	uint64_t acc0 = vm->ctr.remote_accesses;
	mv_vm_numa_accesses(vm, 1001);
	assert_int_equal(vm->ctr.remote_accesses - acc0, 500);
	mv_vm_numa_accesses(vm, 1);
	assert_int_equal(vm->ctr.remote_accesses - acc0, 501);
	assert_int_equal(vm->ctr.numa_ns, vm->ctr.remote_accesses * 60);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* Migration toward the home node: at the rate, real bytes copied (the
 * verification checksums still match), charged, books exact; strict and
 * interleaved pages stay. */
static void test_migration_moves_remote_pages_home_at_the_rate(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	h->cfg.numa_migrate_rate = 1000; /* pages per second */
	struct mv_vm *fill = numa_vm(h, 12, 0, MV_NUMA_NONE, 0);
	assert_int_equal(touch(fill, 3072), 3072);
	struct mv_vm *vm = numa_vm(h, 8, 2, MV_NUMA_NONE, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	for (mv_gppn_t g = 0; g < 2048; g++) {
		uint8_t *p = mv_vm_access_bytes(vm, g, 1);
		assert_non_null(p);
		memset(p, (int)(g * 7 + 1), MV_PAGE_SIZE);
		p[g % MV_PAGE_SIZE] = (uint8_t)g;
		mv_vm_wrote(vm, g);
	}
	assert_int_equal(vm->numa.local_pages, 1024);
	mv_vm_destroy(fill); /* node 0 has room again */
	uint64_t pend = vm->stall_pending_ns;
	assert_int_equal(mv_vm_numa_migrate(vm, 500 * MV_NS_PER_MS), 500);
	assert_int_equal(vm->ctr.numa_migrated, 500);
	assert_int_equal(vm->ctr.numa_migrate_ns, 500 * h->cfg.lat.cow);
	assert_int_equal(vm->stall_pending_ns - pend, 500 * h->cfg.lat.cow);
	assert_int_equal(vm->numa.local_pages, 1524);
	assert_int_equal(mv_vm_check(vm, NULL), 0); /* the bytes moved too */
	assert_int_equal(mv_vm_numa_migrate(vm, MV_NS_PER_S), 524);
	assert_int_equal(mv_vm_numa_migrate(vm, MV_NS_PER_S), 0);
	assert_int_equal(vm->numa.local_pages, 2048);
	assert_int_equal(h->node[1].nfree, NODE_PAGES);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);

	/* interleaved pages are spread on purpose: never moved */
	vm = numa_vm(h, 8, 0, MV_NUMA_INTERLEAVE, 3);
	touch(vm, 1024);
	assert_int_equal(mv_vm_numa_migrate(vm, MV_NS_PER_S), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* Touch the first page of each 2 MiB region in [0, n regions) with THP
 * on; the number of huge pages that came of it. */
static uint64_t touch_runs(struct mv_vm *vm, uint64_t n)
{
	assert_int_equal(mv_vm_thp_enable(vm), 0);
	for (uint64_t r = 0; r < n; r++)
		assert_non_null(mv_vm_access(vm, r * MV_RUN_FRAMES, 1));
	return vm->ctr.thp_fault_alloc;
}

/* THP follows numatune: preferred puts each 2 MiB run on the nodeset's
 * node though the vCPUs run on the other, each run one allocation in
 * numastat (the kernel's zone_statistics counts any order once), 512
 * pages in the per-node books, charged as remote first touches. */
static void test_thp_runs_follow_preferred(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 8, 0, MV_NUMA_PREFERRED, 1u << 1);
	assert_int_equal(vm->home_node, 0);
	vm->numa.cell_node[0] = 0; /* vCPUs on 0, memory preferred on 1 */
	assert_int_equal(touch_runs(vm, 4), 4);
	for (mv_gppn_t g = 0; g < 4 * MV_RUN_FRAMES; g++)
		assert_int_equal(node_of(vm, g), 1);
	assert_int_equal(vm->numa.node_pages[1], 4 * MV_RUN_FRAMES);
	assert_int_equal(vm->numa.local_pages, 0);
	assert_int_equal(vm->ctr.numastat.numa_hit, 4);
	assert_int_equal(vm->ctr.numastat.other_node, 4);
	assert_int_equal(h->numastat[1].numa_hit, 4);
	assert_int_equal(vm->ctr.remote_frames, 4 * MV_RUN_FRAMES);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* interleave spreads 2 MiB runs, region r on node r mod 2 (MPOL_INTERLEAVE
 * with the index in huge pages), each an interleave_hit. */
static void test_thp_runs_interleave_per_run(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 8, 0, MV_NUMA_INTERLEAVE, 3);
	assert_int_equal(touch_runs(vm, 4), 4);
	for (uint64_t r = 0; r < 4; r++)
		for (unsigned i = 0; i < MV_RUN_FRAMES; i += 97)
			assert_int_equal(node_of(vm, r * MV_RUN_FRAMES + i),
					 (int)(r % 2));
	assert_int_equal(vm->numa.node_pages[0], 2 * MV_RUN_FRAMES);
	assert_int_equal(vm->numa.node_pages[1], 2 * MV_RUN_FRAMES);
	assert_int_equal(vm->ctr.numastat.interleave_hit, 4);
	assert_int_equal(h->numastat[1].interleave_hit, 2);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* strict: runs only from the nodeset; with no aligned run left there
 * the fault falls back to 4 KiB pages, still on the nodeset, and a run
 * the nodeset lacks is no bind failure. The other node stays untouched. */
static void test_thp_runs_stay_in_the_strict_nodeset(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm *vm = numa_vm(h, 24, 1, MV_NUMA_STRICT, 1u << 0);
	uint64_t regions = 12, huge = touch_runs(vm, regions);
	assert_true(huge > 0 && huge < regions);
	assert_int_equal(vm->ctr.thp_fault_fallback, regions - huge);
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		if (vm->pmap[g].state == MV_PS_PRIVATE)
			assert_int_equal(node_of(vm, g), 0);
	assert_int_equal(h->node[1].nfree, NODE_PAGES);
	assert_int_equal(vm->ctr.numa_bind_failed, 0);
	assert_int_equal(h->numastat[1].numa_hit + h->numastat[1].numa_miss, 0);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* A 2 MiB region across two guest cells is never huge (each cell is its
 * own memory backend); the regions inside a cell come from its node. */
static void test_thp_region_across_cells_stays_small(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(32, 2);
	struct mv_vm_config c;
	mv_vm_config_default(&c, "cells", 8 * MV_MIB);
	c.ncells = 2;
	c.cell[0] = (struct mv_numa_cell){.bytes = 3 * MV_MIB, .node = 0};
	c.cell[1] = (struct mv_numa_cell){.bytes = 5 * MV_MIB, .node = 1};
	struct mv_vm *vm;
	struct mv_error err;
	mvt_ok(mv_vm_create(h, &c, 0, &vm, &err), &err, "vm");
	assert_int_equal(touch_runs(vm, 4), 3);
	assert_int_equal(vm->region[1], MV_REGION_SMALL);
	assert_int_equal(node_of(vm, 0), 0);
	assert_int_equal(node_of(vm, 2 * MV_RUN_FRAMES), 1);
	assert_int_equal(node_of(vm, 3 * MV_RUN_FRAMES), 1);
	assert_int_equal(vm->numa.local_pages, vm->count[MV_PS_PRIVATE]);
	assert_int_equal(mv_vm_check(vm, NULL), 0);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* ESX's rebalancer: the VM that spilled off an overcommitted home node
 * and has memory on the other node gets that node as its home (NMIG),
 * its local books recounted; migration then brings its pages there; a
 * VM with numatune affinity is never moved; nothing is moved twice. */
static void test_rebalance_moves_a_spilled_vm_home(void **state)
{
	(void)state;
	const enum mv_numa_mode modes[] = {MV_NUMA_NONE, MV_NUMA_PREFERRED};
	for (int m = 0; m < 2; m++) {
		struct mv_host *h = mvt_host(32, 2);
		h->cfg.numa_migrate_rate = 1e6;
		struct mv_vm *vms[3];
		vms[0] = numa_vm(h, 12, 0, MV_NUMA_NONE, 0);
		vms[1] = numa_vm(h, 4, 1, MV_NUMA_NONE, 0);
		vms[2] = numa_vm(h, 12, 2, modes[m], m ? 1u << 0 : 0);
		assert_int_equal(touch(vms[0], 3072), 3072);
		assert_int_equal(touch(vms[1], 1024), 1024);
		assert_int_equal(touch(vms[2], 2048), 2048);
		struct mv_vm *c = vms[2];
		assert_int_equal(c->home_node, 0);
		assert_true(c->numa.node_pages[1] > 1000);
		if (m) { /* affinity: stays */
			assert_int_equal(mv_numa_rebalance(vms, 3), -1);
			assert_int_equal(c->ctr.numa_home_moves, 0);
		} else {
			uint64_t there = c->numa.node_pages[1];
			assert_int_equal(mv_numa_rebalance(vms, 3), 2);
			assert_int_equal(c->home_node, 1);
			assert_int_equal(c->ctr.numa_home_moves, 1);
			assert_int_equal(c->numa.local_pages, there);
			assert_int_equal(mv_vm_check(c, NULL), 0);
			/* a cannot go: 3072 pages do not fit in node 1 */
			assert_int_equal(vms[0]->home_node, 0);
			assert_int_equal(mv_vm_numa_migrate(c, MV_NS_PER_S),
					 2048 - there);
			assert_int_equal(c->numa.local_pages, 2048);
			assert_int_equal(mv_numa_rebalance(vms, 3), -1);
			assert_int_equal(mv_vm_check(c, NULL), 0);
		}
		for (int i = 0; i < 3; i++)
			mv_vm_destroy(vms[i]);
		mv_host_destroy(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_default_places_on_the_home_node_round_robin),
		cmocka_unit_test(
			test_preferred_spills_and_counts_miss_and_foreign),
		cmocka_unit_test(test_strict_fails_when_its_nodeset_is_full),
		cmocka_unit_test(test_interleave_alternates_by_guest_page),
		cmocka_unit_test(test_cells_map_guest_ranges_to_host_nodes),
		cmocka_unit_test(
			test_books_follow_frees_and_check_catches_drift),
		cmocka_unit_test(test_remote_accesses_are_counted_and_charged),
		cmocka_unit_test(test_bulk_accesses_follow_the_remote_fraction),
		cmocka_unit_test(
			test_migration_moves_remote_pages_home_at_the_rate),
		cmocka_unit_test(test_thp_runs_follow_preferred),
		cmocka_unit_test(test_thp_runs_interleave_per_run),
		cmocka_unit_test(test_thp_runs_stay_in_the_strict_nodeset),
		cmocka_unit_test(test_thp_region_across_cells_stays_small),
		cmocka_unit_test(test_rebalance_moves_a_spilled_vm_home),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
