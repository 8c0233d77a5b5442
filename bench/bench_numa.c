/*
 * bench_numa.c - the NUMA check's cost on the access path, in
 * instructions (docs/numa.md, "The cost on the hot path").
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *       build/bench/bench_numa NODES ACCESSES
 *
 * A 96 MiB VM on a host of 160 MiB in NODES nodes (1: no access is
 * remote; 2: the VM spills a sixth of its pages to node 1) is touched
 * whole, then ACCESSES random resident reads and writes of one byte go
 * through mv_vm_access. The instructions of a run with ACCESSES 0 are the
 * setup: the difference over ACCESSES is the cost of one access. Prints
 * a checksum of the bytes read and the remote accesses counted.
 */
#include <stdio.h>
#include <stdlib.h>

#include "memvisor/memvisor.h"
#include "bench.h"

int main(int argc, char **argv)
{
	int nodes = argc > 1 ? atoi(argv[1]) : 1;
	long n = argc > 2 ? atol(argv[2]) : 4000000;
	struct mv_host *h = mv_bench_host(160, nodes);
	struct mv_vm *vm = mv_bench_vm(h, "bench", 96);
	for (uint64_t g = 0; g < vm->npages; g++)
		mv_vm_access(vm, g, 1);
	uint64_t x = 88172645463325252ull, sum = 0;
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint8_t *p = mv_vm_access(vm, x % vm->npages, (x >> 40) & 1);
		sum += p[x & (MV_PAGE_SIZE - 1)];
	}
	printf("checksum %llu remote accesses %llu\n", (unsigned long long)sum,
	       (unsigned long long)vm->ctr.remote_accesses);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	return 0;
}
