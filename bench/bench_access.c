/*
 * bench_access.c - throughput of the one access path, on this machine.
 *
 * Prints, single core:
 *   - resident accesses/s: mv_vm_access() on pages already private (the
 *     fast path every guest access takes), random pages of a 256 MiB VM,
 *     reading or writing one word of the page as the guest model does;
 *   - first-touch faults/s: mv_vm_access() on untouched pages (trap,
 *     frame allocation, 4 KiB zero fill, pmap update), once on host
 *     memory never used (the kernel faults it into this process too) and
 *     once on recycled frames;
 *   - memcpy of 4 KiB pages (GB/s and pages/s) as the machine's reference,
 *     measured in the same run, and first touch / memcpy per page.
 * Ours (first touch on recycled frames, resident accesses) and the
 * reference (memcpy) run in alternating rounds (bench.h), MV_BENCH_ROUNDS
 * of each; figures are the medians over the rounds with their spread
 * (lowest-highest), the ratio the median of the rounds' own ratios.
 * Goal (issue 2): at least 20 million resident accesses per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/memvisor.h"
#include "bench.h"

/* The rounds' state: the VM, the page orders and each round's figures. */
struct bench {
	struct mv_vm *vm;
	uint64_t npages;
	const uint64_t *order;
	const uint32_t *idx;
	uint8_t *a, *b;
	volatile uint64_t sink;
	double touch_ns[MV_BENCH_MAX_ROUNDS];  /* first touch, recycled */
	double racc[MV_BENCH_MAX_ROUNDS];      /* resident accesses/s */
	double memcpy_ns[MV_BENCH_MAX_ROUNDS]; /* one 4 KiB page copied */
};

#define RESIDENT 20000000ull /* resident accesses per round */
#define IDX_MASK ((1u << 20) - 1)

/* Ours: first touch of every page on recycled frames (each page given to
 * the balloon first, which frees its frame), then resident accesses to
 * random pages, 1 in 4 a write. */
static void ours(void *ctx, int k)
{
	struct bench *b = ctx;
	for (uint64_t i = 0; i < b->npages; i++)
		mv_vm_balloon_page(b->vm, i);
	double t0 = mv_wall_s();
	for (uint64_t i = 0; i < b->npages; i++)
		b->sink += mv_vm_access(b->vm, b->order[i], 1)[0];
	b->touch_ns[k] = (mv_wall_s() - t0) * 1e9 / (double)b->npages;

	t0 = mv_wall_s();
	for (uint64_t i = 0; i < RESIDENT; i++) {
		uint32_t g = b->idx[i & IDX_MASK];
		int write = (i & 3) == 0;
		uint8_t *p = mv_vm_access(b->vm, g, write);
		uint64_t off = (i * 8) & (MV_PAGE_SIZE - 8);
		if (write)
			memcpy(p + off, &i, 8);
		else
			b->sink += p[off];
	}
	b->racc[k] = (double)RESIDENT / (mv_wall_s() - t0);
}

/* The reference: memcpy of 4 KiB pages between two buffers of the VM's
 * size, in the same random order, twice over. */
static void ref(void *ctx, int k)
{
	struct bench *b = ctx;
	const int passes = 2;
	double t0 = mv_wall_s();
	for (int r = 0; r < passes; r++)
		for (uint64_t i = 0; i < b->npages; i++)
			memcpy(b->b + b->order[i] * MV_PAGE_SIZE,
			       b->a + b->order[(i + (uint64_t)(k + r)) %
					       b->npages] *
					       MV_PAGE_SIZE,
			       MV_PAGE_SIZE);
	b->memcpy_ns[k] = (mv_wall_s() - t0) * 1e9 /
			  ((double)passes * (double)b->npages);
	b->sink += b->b[12345];
}

int main(void)
{
	const uint64_t mib = 256, npages = mib * MV_MIB / MV_PAGE_SIZE;
	struct mv_host *h = mv_bench_host(mib + 16, 1);
	struct bench b = {.vm = mv_bench_vm(h, "bench", mib), .npages = npages};

	/* first touch: every page of the VM, in a random order */
	uint64_t *order = malloc(npages * sizeof *order);
	struct mv_rng r;
	mv_rng_seed(&r, 1);
	for (uint64_t i = 0; i < npages; i++)
		order[i] = i;
	for (uint64_t i = npages - 1; i > 0; i--) {
		uint64_t j = mv_rng_below(&r, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	b.order = order;
	/* once only: host memory never used before can be met only once */
	double t0 = mv_wall_s();
	for (uint64_t i = 0; i < npages; i++)
		b.sink += mv_vm_access(b.vm, order[i], 1)[0];
	double ft = mv_wall_s() - t0;

	uint32_t *idx = malloc((IDX_MASK + 1) * sizeof *idx);
	for (uint64_t i = 0; i <= IDX_MASK; i++)
		idx[i] = (uint32_t)mv_rng_below(&r, npages);
	b.idx = idx;
	b.a = malloc(mib * MV_MIB);
	b.b = malloc(mib * MV_MIB);
	memset(b.a, 1, mib * MV_MIB);
	memset(b.b, 2, mib * MV_MIB);

	const int n = MV_BENCH_ROUNDS;
	mv_bench_alternate(n, ours, ref, &b);

	double racc = mv_bench_median(b.racc, n), ftps = (double)npages / ft;
	struct mv_bench_ratio q = mv_bench_compare(b.touch_ns, b.memcpy_ns, n);
	printf("access path, single core, VM of %llu MiB (%llu pages); %d "
	       "rounds of ours and memcpy alternating,\n"
	       " median (lowest-highest) of the rounds\n",
	       (unsigned long long)mib, (unsigned long long)npages, n);
	printf("  resident accesses      %10.1f M/s   (%.1f ns each; ",
	       racc / 1e6, 1e9 / racc);
	mv_bench_print_spread(stdout, b.racc, n, 1e-6, "%.1f-%.1f M/s");
	printf("; goal >= 20 M/s: %s)\n", racc >= 20e6 ? "met" : "NOT met");
	printf("  first-touch faults     %10.2f M/s   (%.1f ns each; host "
	       "memory never used before,\n"
	       "                                          once: includes this "
	       "process's own kernel page faults)\n",
	       ftps / 1e6, 1e9 / ftps);
	printf("  first-touch faults     %10.2f M/s   (%.1f ns each, ",
	       1e3 / q.ours, q.ours);
	mv_bench_print_spread(stdout, b.touch_ns, n, 1, "%.0f-%.0f");
	printf("; recycled frames)\n");
	printf("  memcpy 4 KiB pages     %10.2f M/s   (%.2f GB/s, %.1f ns "
	       "each, ",
	       1e3 / q.ref, MV_PAGE_SIZE / q.ref, q.ref);
	mv_bench_print_spread(stdout, b.memcpy_ns, n, 1, "%.0f-%.0f");
	printf(") reference\n");
	printf("  first touch vs memcpy  %10.2f x    (%.2f-%.2f over the "
	       "rounds; zero fill + bookkeeping\n"
	       "                                          per page / one page "
	       "copy)\n",
	       q.ratio, q.lo, q.hi);
	free(b.a);
	free(b.b);
	free(idx);
	free(order);
	mv_vm_destroy(b.vm);
	mv_host_destroy(h);
	return b.sink == 42 ? 1 : 0;
}
