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
 * Times are CPU time of the benchmark thread. The virtualised modes
 * (shadow, nested) and native, the reference, run in alternating rounds
 * (bench.h), MV_BENCH_ROUNDS of each: figures are the medians over the
 * rounds with their spread (lowest-highest), and each mode's ratio to
 * native the median of the rounds' own ratios.
 * Goal (issue 5): at least 50 million TLB-hit accesses per second.
 */
#include <stdio.h>
#include <stdlib.h>

#include "memvisor/memvisor.h"
#include "memvisor/mmu.h"
#include "bench.h"

#define REGION_PAGES 16384u /* 64 MiB */
#define BASE_GVA 0x7f0000000000ull

struct rig {
	struct mv_host *h;
	struct mv_vm *vm;
	struct mv_mmu *m;
};

static void rig_make(struct rig *r, enum mv_mmu_mode mode, int caches)
{
	r->h = mv_bench_host(256, 1);
	r->vm = mv_bench_vm(r->h, "bench", 128);
	struct mv_error err = {0};
	struct mv_mmu_config mc;
	mv_mmu_config_default(&mc, mode);
	if (!caches)
		for (int i = 0; i < 3; i++)
			mc.pwc[i] = mc.npwc[i] = 0;
	struct mv_mmu_proc *p;
	if (mv_mmu_create(r->vm, &mc, &r->m, &err) ||
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

/* Each mode's figures, one per round (accesses/s, walks/s). */
struct modes {
	const uint64_t *order;
	volatile uint64_t sink;
	double hit[MV_MMU_MODES][MV_BENCH_MAX_ROUNDS];
	double miss[MV_MMU_MODES][MV_BENCH_MAX_ROUNDS];
	double cold[MV_MMU_MODES][MV_BENCH_MAX_ROUNDS];
	double walk_share[MV_MMU_MODES], refs[MV_MMU_MODES],
		cold_refs[MV_MMU_MODES];
};

#define NHIT 20000000ull
#define NMISS 1000000ull
#define NCOLD 50000ull

/* One round of one mode: TLB hits, TLB misses, cold walks. */
static void measure(struct modes *x, int mode, int k)
{
	struct rig r;
	rig_make(&r, (enum mv_mmu_mode)mode, 1);

	/* TLB hits: 32 pages fit the 64-entry L1 DTLB */
	for (uint64_t i = 0; i < 32; i++)
		x->sink += *mv_mmu_access(r.m, BASE_GVA + i * MV_PAGE_SIZE, 0,
					  0, NULL);
	uint64_t walks = mv_mmu_counters(r.m)->walks;
	double t0 = mv_cpu_s();
	for (uint64_t i = 0; i < NHIT; i++)
		x->sink += *mv_mmu_access(
			r.m, BASE_GVA + (i & 31) * MV_PAGE_SIZE + (i & 4088), 0,
			0, NULL);
	x->hit[mode][k] = (double)NHIT / (mv_cpu_s() - t0);
	if (mv_mmu_counters(r.m)->walks != walks)
		fprintf(stderr, "bench_mmu: TLB-hit loop walked\n");

	/* TLB misses: random pages of the region */
	uint64_t w0 = mv_mmu_counters(r.m)->walks;
	uint64_t refs0 = mv_mmu_counters(r.m)->walk_refs;
	t0 = mv_cpu_s();
	for (uint64_t i = 0; i < NMISS; i++)
		x->sink += *mv_mmu_access(r.m, x->order[i % REGION_PAGES], 0, 0,
					  NULL);
	x->miss[mode][k] = (double)NMISS / (mv_cpu_s() - t0);
	uint64_t nw = mv_mmu_counters(r.m)->walks - w0;
	x->walk_share[mode] = (double)nw / (double)NMISS;
	x->refs[mode] = (double)(mv_mmu_counters(r.m)->walk_refs - refs0) /
			(double)(nw ? nw : 1);
	rig_free(&r);

	/* cold walks: flush everything before each access */
	rig_make(&r, (enum mv_mmu_mode)mode, 0);
	refs0 = mv_mmu_counters(r.m)->walk_refs;
	t0 = mv_cpu_s();
	for (uint64_t i = 0; i < NCOLD; i++) {
		mv_mmu_flush(r.m);
		x->sink += *mv_mmu_access(r.m, x->order[i % REGION_PAGES], 0, 0,
					  NULL);
	}
	x->cold[mode][k] = (double)NCOLD / (mv_cpu_s() - t0);
	x->cold_refs[mode] = (double)(mv_mmu_counters(r.m)->walk_refs - refs0) /
			     (double)NCOLD;
	rig_free(&r);
}

/* Ours: the virtualised modes (shadow, nested); the reference: native. */
static void virtualised(void *ctx, int k)
{
	for (int mode = 0; mode < MV_MMU_MODES; mode++)
		if (mode != MV_MMU_NATIVE)
			measure(ctx, mode, k);
}

static void native(void *ctx, int k)
{
	measure(ctx, MV_MMU_NATIVE, k);
}

int main(void)
{
	static struct modes x;
	uint64_t *order = malloc(REGION_PAGES * sizeof *order);
	struct mv_rng rng;
	mv_rng_seed(&rng, 7);
	for (uint64_t i = 0; i < REGION_PAGES; i++)
		order[i] = BASE_GVA +
			   mv_rng_below(&rng, REGION_PAGES) * MV_PAGE_SIZE +
			   8 * mv_rng_below(&rng, 512);
	x.order = order;
	const int n = MV_BENCH_ROUNDS;
	mv_bench_alternate(n, virtualised, native, &x);

	printf("MMU model, single core (thread CPU time); %d rounds of shadow+"
	       "nested and native alternating,\n median (lowest-highest) of "
	       "the rounds\n",
	       n);
	for (int mode = 0; mode < MV_MMU_MODES; mode++) {
		const char *name = mv_mmu_mode_name((enum mv_mmu_mode)mode);
		printf("%-6s TLB-hit %6.1f M accesses/s ", name,
		       mv_bench_median(x.hit[mode], n) / 1e6);
		mv_bench_print_spread(stdout, x.hit[mode], n, 1e-6,
				      "(%.0f-%.0f)");
		printf(" | TLB-miss %5.1f M accesses/s ",
		       mv_bench_median(x.miss[mode], n) / 1e6);
		mv_bench_print_spread(stdout, x.miss[mode], n, 1e-6,
				      "(%.1f-%.1f)");
		printf(" (%.0f%% walk, %.2f refs/walk) | cold walk %5.2f M "
		       "walks/s ",
		       100.0 * x.walk_share[mode], x.refs[mode],
		       mv_bench_median(x.cold[mode], n) / 1e6);
		mv_bench_print_spread(stdout, x.cold[mode], n, 1e-6,
				      "(%.2f-%.2f)");
		printf(" (%.0f refs)\n", x.cold_refs[mode]);
	}
	for (int mode = 0; mode < MV_MMU_MODES; mode++) {
		if (mode == MV_MMU_NATIVE)
			continue;
		struct mv_bench_ratio h = mv_bench_compare(
			x.hit[mode], x.hit[MV_MMU_NATIVE], n);
		struct mv_bench_ratio m = mv_bench_compare(
			x.miss[mode], x.miss[MV_MMU_NATIVE], n);
		struct mv_bench_ratio c = mv_bench_compare(
			x.cold[mode], x.cold[MV_MMU_NATIVE], n);
		printf("%s/native: TLB-hit %.2f (%.2f-%.2f), TLB-miss %.2f "
		       "(%.2f-%.2f), cold walk %.2f (%.2f-%.2f)\n",
		       mv_mmu_mode_name((enum mv_mmu_mode)mode), h.ratio, h.lo,
		       h.hi, m.ratio, m.lo, m.hi, c.ratio, c.lo, c.hi);
	}
	free(order);
	return x.sink == 42 ? 1 : 0;
}
