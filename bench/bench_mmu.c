/*
 * bench_mmu.c - translation throughput of the MMU model, on this machine.
 *
 * Prints, single core, for native, shadow and nested translation (4 KiB
 * pages, default Skylake-SP TLBs):
 *   - TLB-hit accesses/s: mv_mmu_access() over 32 pages already in the L1
 *     DTLB (every access an L1 hit), reading one byte of the page;
 *   - TLB-miss accesses/s: random pages of a 64 MiB mapped region, ten
 *     times the L2 TLB's reach, so nearly every access walks (page-walk
 *     caches warm, mappings, EPT and shadow tables in place: no exits);
 *   - cold walks/s: the same access after emptying every TLB and cache,
 *     i.e. a full 4-reference (native, shadow) or 24-reference (nested
 *     without walk caches) walk, flush cost included.
 * Times are CPU time of the benchmark thread.
 * Goal (issue 5): at least 50 million TLB-hit accesses per second.
 */
#include <stdio.h>
#include <stdlib.h>

#include "memvisor/memvisor.h"
#include "memvisor/mmu.h"

#define REGION_PAGES 16384u /* 64 MiB */
#define BASE_GVA 0x7f0000000000ull

struct rig {
	struct mv_host *h;
	struct mv_vm *vm;
	struct mv_mmu *m;
};

static void rig_make(struct rig *r, enum mv_mmu_mode mode, int caches)
{
	struct mv_host_config hc;
	mv_host_config_default(&hc);
	hc.mem_bytes = 256 * MV_MIB;
	struct mv_error err;
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, "bench", 128 * MV_MIB);
	struct mv_mmu_config mc;
	mv_mmu_config_default(&mc, mode);
	if (!caches)
		for (int i = 0; i < 3; i++)
			mc.pwc[i] = mc.npwc[i] = 0;
	struct mv_mmu_proc *p;
	if (mv_host_create(&hc, &r->h, &err) ||
	    mv_vm_create(r->h, &vc, 0, &r->vm, &err) ||
	    mv_mmu_create(r->vm, &mc, &r->m, &err) ||
	    mv_mmu_proc_create(r->m, &p)) {
		fprintf(stderr, "bench_mmu: setup failed: %s\n", err.msg);
		exit(1);
	}
	for (uint64_t i = 0; i < REGION_PAGES; i++)
		if (!mv_mmu_access(r->m, BASE_GVA + i * MV_PAGE_SIZE, 1, 0,
				   NULL))
			exit(1);
}

static void rig_free(struct rig *r)
{
	mv_mmu_destroy(r->m);
	mv_vm_destroy(r->vm);
	mv_host_destroy(r->h);
}

int main(void)
{
	volatile uint64_t sink = 0;
	uint64_t *order = malloc(REGION_PAGES * sizeof *order);
	struct mv_rng rng;
	mv_rng_seed(&rng, 7);
	for (uint64_t i = 0; i < REGION_PAGES; i++)
		order[i] = BASE_GVA + mv_rng_below(&rng, REGION_PAGES) *
					      MV_PAGE_SIZE +
			   8 * mv_rng_below(&rng, 512);
	for (int mode = 0; mode < MV_MMU_MODES; mode++) {
		struct rig r;
		rig_make(&r, (enum mv_mmu_mode)mode, 1);
		const char *name = mv_mmu_mode_name((enum mv_mmu_mode)mode);

		/* TLB hits: 32 pages fit the 64-entry L1 DTLB */
		const uint64_t nhit = 50000000;
		for (uint64_t i = 0; i < 32; i++)
			sink += *mv_mmu_access(r.m, BASE_GVA + i * MV_PAGE_SIZE,
					       0, 0, NULL);
		uint64_t walks = mv_mmu_counters(r.m)->walks;
		double t0 = mv_cpu_s();
		for (uint64_t i = 0; i < nhit; i++)
			sink += *mv_mmu_access(
				r.m, BASE_GVA + (i & 31) * MV_PAGE_SIZE + (i & 4088),
				0, 0, NULL);
		double hit_s = mv_cpu_s() - t0;
		if (mv_mmu_counters(r.m)->walks != walks)
			fprintf(stderr, "bench_mmu: TLB-hit loop walked\n");

		/* TLB misses: random pages of the region */
		const uint64_t nmiss = 2000000;
		uint64_t w0 = mv_mmu_counters(r.m)->walks;
		uint64_t refs0 = mv_mmu_counters(r.m)->walk_refs;
		t0 = mv_cpu_s();
		for (uint64_t i = 0; i < nmiss; i++)
			sink += *mv_mmu_access(r.m, order[i % REGION_PAGES], 0,
					       0, NULL);
		double miss_s = mv_cpu_s() - t0;
		uint64_t nw = mv_mmu_counters(r.m)->walks - w0;
		double refs = (double)(mv_mmu_counters(r.m)->walk_refs - refs0) /
			      (double)(nw ? nw : 1);
		rig_free(&r);

		/* cold walks: flush everything before each access */
		rig_make(&r, (enum mv_mmu_mode)mode, 0);
		const uint64_t ncold = 100000;
		refs0 = mv_mmu_counters(r.m)->walk_refs;
		t0 = mv_cpu_s();
		for (uint64_t i = 0; i < ncold; i++) {
			mv_mmu_flush(r.m);
			sink += *mv_mmu_access(r.m, order[i % REGION_PAGES], 0,
					       0, NULL);
		}
		double cold_s = mv_cpu_s() - t0;
		double cold_refs =
			(double)(mv_mmu_counters(r.m)->walk_refs - refs0) /
			(double)ncold;
		rig_free(&r);

		printf("%-6s TLB-hit %6.1f M accesses/s | TLB-miss %5.1f M "
		       "accesses/s (%.0f%% walk, %.2f refs/walk) | cold walk "
		       "%5.2f M walks/s (%.0f refs)\n",
		       name, (double)nhit / hit_s / 1e6,
		       (double)nmiss / miss_s / 1e6,
		       100.0 * (double)nw / (double)nmiss, refs,
		       (double)ncold / cold_s / 1e6, cold_refs);
	}
	free(order);
	return sink == 42 ? 1 : 0;
}
