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
 *     measured in the same run.
 * Goal (issue 2): at least 20 million resident accesses per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/memvisor.h"

static struct mv_vm *make_vm(struct mv_host **hp, uint64_t mib)
{
	struct mv_host_config hc;
	mv_host_config_default(&hc);
	hc.mem_bytes = (mib + 16) * MV_MIB;
	struct mv_error err;
	struct mv_host *h;
	if (mv_host_create(&hc, &h, &err))
		exit(1);
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, "bench", mib * MV_MIB);
	struct mv_vm *vm;
	if (mv_vm_create(h, &vc, 0, &vm, &err))
		exit(1);
	*hp = h;
	return vm;
}

int main(void)
{
	const uint64_t mib = 256, npages = mib * MV_MIB / MV_PAGE_SIZE;
	struct mv_host *h;
	struct mv_vm *vm = make_vm(&h, mib);
	volatile uint64_t sink = 0;

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
	double t0 = mv_wall_s();
	for (uint64_t i = 0; i < npages; i++)
		sink += mv_vm_access(vm, order[i], 1)[0];
	double ft = mv_wall_s() - t0;
	/* again on frames the host has already backed: give every page to
	 * the balloon (frees its frame) and touch them all again */
	for (uint64_t i = 0; i < npages; i++)
		mv_vm_balloon_page(vm, i);
	t0 = mv_wall_s();
	for (uint64_t i = 0; i < npages; i++)
		sink += mv_vm_access(vm, order[i], 1)[0];
	double ft2 = mv_wall_s() - t0;

	/* resident accesses: precomputed random pages, 1 in 4 a write */
	const uint64_t N = 50000000, M = 1 << 20;
	uint32_t *idx = malloc(M * sizeof *idx);
	for (uint64_t i = 0; i < M; i++)
		idx[i] = (uint32_t)mv_rng_below(&r, npages);
	t0 = mv_wall_s();
	for (uint64_t i = 0; i < N; i++) {
		uint32_t g = idx[i & (M - 1)];
		int write = (i & 3) == 0;
		uint8_t *p = mv_vm_access(vm, g, write);
		uint64_t off = (i * 8) & (MV_PAGE_SIZE - 8);
		if (write)
			memcpy(p + off, &i, 8);
		else
			sink += p[off];
	}
	double rt = mv_wall_s() - t0;

	/* reference: memcpy of 4 KiB pages between two 256 MiB buffers */
	uint8_t *a = malloc(mib * MV_MIB), *b = malloc(mib * MV_MIB);
	memset(a, 1, mib * MV_MIB);
	memset(b, 2, mib * MV_MIB);
	const int rounds = 8;
	t0 = mv_wall_s();
	for (int k = 0; k < rounds; k++)
		for (uint64_t i = 0; i < npages; i++)
			memcpy(b + order[i] * MV_PAGE_SIZE,
			       a + order[(i + k) % npages] * MV_PAGE_SIZE,
			       MV_PAGE_SIZE);
	double mt = mv_wall_s() - t0;
	sink += b[12345];
	double mpages = (double)rounds * (double)npages / mt;

	double racc = (double)N / rt, ftps = (double)npages / ft;
	double ftps2 = (double)npages / ft2;
	printf("access path, single core, VM of %llu MiB (%llu pages)\n",
	       (unsigned long long)mib, (unsigned long long)npages);
	printf("  resident accesses      %10.1f M/s   (%.1f ns each; goal >= 20 M/s: %s)\n",
	       racc / 1e6, 1e9 / racc, racc >= 20e6 ? "met" : "NOT met");
	printf("  first-touch faults     %10.2f M/s   (%.1f ns each; host memory never used before:\n"
	       "                                          includes this process's own kernel page faults)\n",
	       ftps / 1e6, 1e9 / ftps);
	printf("  first-touch faults     %10.2f M/s   (%.1f ns each; recycled frames)\n",
	       ftps2 / 1e6, 1e9 / ftps2);
	printf("  memcpy 4 KiB pages     %10.2f M/s   (%.2f GB/s) reference\n",
	       mpages / 1e6, mpages * MV_PAGE_SIZE / 1e9);
	printf("  first touch vs memcpy  %10.2f x    (zero fill + bookkeeping per page / one page copy)\n",
	       mpages / ftps2);
	free(a);
	free(b);
	free(idx);
	free(order);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	return sink == 42 ? 1 : 0;
}
