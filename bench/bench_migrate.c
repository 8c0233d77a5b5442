/*
 * bench_migrate.c - live migration of one VM against the guest's dirtying
 * rate and the link's bandwidth (docs/cluster.md, stage 1's figure).
 *
 * One 256 MiB VM on a 1 GiB host: a tenth of its pages untouched, a tenth
 * touched but zero, a tenth random bytes, the rest generated content. It
 * migrates to a second 1 GiB host in one process (src/cluster/migrate.c)
 * while a writer puts random bytes into uniformly random pages at the
 * given rate (times 1 - throttle) between the migration's 1 ms steps: the
 * worst case for pre-copy, no hot set. Downtime limit 300 ms and 30
 * rounds (the defaults); each case without and with auto-converge where
 * the two differ. Every migration's pages are compared by XXH3 on both
 * sides; a difference fails the program.
 *
 * Prints a Markdown table. Everything in it is simulated time and counts,
 * the same on every run and machine. Then, unless --table is given (as
 * docs/cluster.md's generated table is made), the machine-dependent part:
 * the pages the migrations sent per second of this thread's CPU time
 * inside mv_migrate_step (each page read back, copied into a record of
 * the outbox, applied on the destination and, at the end, checked),
 * against memcpy of 4 KiB pages measured in the same run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memvisor/memvisor.h"
#include "bench.h"

#define VM_MIB 256
#define STEP_NS MV_NS_PER_MS

static double sent_pages, run_ns; /* over every migration, for the rate */

static double cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void write_bytes(struct mv_vm *vm, mv_gppn_t g, struct mv_rng *r)
{
	uint64_t *p = (uint64_t *)mv_vm_access_bytes(vm, g, 1);
	for (unsigned i = 0; p && i < MV_PAGE_SIZE / 8; i++)
		p[i] = mv_rng_next(r);
}

static struct mv_vm *make_vm(struct mv_host *h, struct mv_rng *r)
{
	struct mv_vm *vm = mv_bench_vm(h, "vm", VM_MIB);
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		if (g % 10 == 0)
			continue;
		if (g % 10 == 2) {
			write_bytes(vm, g, r);
		} else if (mv_vm_access(vm, g, 1) && g % 10 != 1) {
			mv_vm_set_desc(vm, g,
				       mv_desc_make(MV_DESC_DATA, 32, g + 1));
		}
	}
	return vm;
}

/* One migration at `mibps` MiB/s of guest writes over `bw_mibps` MiB/s. */
static void one(double bw_mibps, double mibps, int ac)
{
	struct mv_rng r;
	mv_rng_seed(&r, 42);
	struct mv_host *a = mv_bench_host(1024, 1), *b = mv_bench_host(1024, 1);
	struct mv_vm *vm = make_vm(a, &r);
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	c.bandwidth = bw_mibps * MV_MIB;
	c.auto_converge = ac;
	struct mv_migration *m = NULL;
	struct mv_error err = {0};
	if (mv_migrate_start(vm, b, &c, &m, &err)) {
		fprintf(stderr, "bench_migrate: %s\n", err.msg);
		exit(1);
	}
	double per_step = mibps * MV_MIB / MV_PAGE_SIZE * STEP_NS / 1e9;
	double carry = 0;
	while (m->state == MV_MIG_ACTIVE) {
		carry += per_step * (100 - m->throttle_pct) / 100.0;
		for (; carry >= 1; carry -= 1)
			write_bytes(vm, mv_rng_below(&r, vm->npages), &r);
		double t = cpu_ns();
		int rc = mv_migrate_step(m, STEP_NS, &err);
		run_ns += cpu_ns() - t;
		if (rc) {
			fprintf(stderr, "bench_migrate: %s\n", err.msg);
			exit(1);
		}
	}
	uint64_t bad = mv_migrate_verify(m);
	if (bad) {
		fprintf(stderr, "bench_migrate: %llu pages differ\n",
			(unsigned long long)bad);
		exit(1);
	}
	sent_pages += m->pages;
	int thr = 0;
	for (int i = 0; i < m->nrounds; i++)
		if (m->round[i].throttle_pct > thr)
			thr = m->round[i].throttle_pct;
	printf("| %.0f | %.0f | %s | %d | %.0f | %.1f | %.1f | %.0f | %s | "
	       "%d |\n",
	       bw_mibps, mibps, ac ? "on" : "off", m->nrounds,
	       (double)m->pages / (double)vm->npages * 100,
	       (double)m->bytes / MV_MIB, m->clock_ns / 1e9,
	       (double)m->downtime_ns / 1e6, m->converged ? "yes" : "no", thr);
	mv_migrate_destroy(m);
	mv_vm_destroy(vm);
	mv_host_destroy(a);
	mv_host_destroy(b);
}

/* memcpy of 4 KiB pages through a 64 MiB pair of buffers, pages/s. */
static double memcpy_pages_per_s(void)
{
	enum { N = 64 * 1024 * 1024 / MV_PAGE_SIZE };
	char *a = malloc((size_t)N * MV_PAGE_SIZE);
	char *b = malloc((size_t)N * MV_PAGE_SIZE);
	if (!a || !b) {
		fprintf(stderr, "bench_migrate: out of memory\n");
		exit(1);
	}
	memset(a, 1, (size_t)N * MV_PAGE_SIZE);
	memset(b, 2, (size_t)N * MV_PAGE_SIZE);
	double best = 0;
	for (int round = 0; round < 5; round++) {
		double t = cpu_ns();
		for (size_t i = 0; i < N; i++)
			memcpy(b + ((i * 7919) % N) * MV_PAGE_SIZE,
			       a + i * MV_PAGE_SIZE, MV_PAGE_SIZE);
		double r = N / ((cpu_ns() - t) / 1e9);
		if (r > best)
			best = r;
	}
	free(a);
	free(b);
	return best;
}

int main(int argc, char **argv)
{
	int table_only = argc > 1 && !strcmp(argv[1], "--table");
	if (argc > 1 && !table_only) {
		fprintf(stderr, "usage: bench_migrate [--table]\n");
		return 2;
	}
	clock_t t0 = clock();
	if (!table_only)
		printf("live migration (pre-copy) of one %d MiB VM, simulated "
		       "figures (docs/cluster.md):\n",
		       VM_MIB);
	printf("| bandwidth MiB/s | dirtying MiB/s | auto-converge | "
	       "rounds | pages sent, %% of the VM | MiB sent | "
	       "total s | downtime ms | within 300 ms | throttle %% |\n");
	printf("|---:|---:|---|---:|---:|---:|---:|---:|---|---:|\n");
	static const double bw[] = {128, 1192}; /* QEMU's default, 10 Gb/s */
	static const double rate[] = {0, 8, 32, 96, 160};
	for (unsigned i = 0; i < 2; i++)
		for (unsigned j = 0; j < sizeof rate / sizeof *rate; j++) {
			if (bw[i] > 128 && rate[j] < 32)
				continue;
			one(bw[i], rate[j], 0);
			if (rate[j] >= bw[i])
				one(bw[i], rate[j], 1);
		}
	if (!table_only) {
		double mig = sent_pages / (run_ns / 1e9);
		double ref = memcpy_pages_per_s();
		printf("migration, pages sent  %6.2f M pages/s (%.2f GB/s; "
		       "read "
		       "back, copied, checked)\n",
		       mig / 1e6, mig * MV_PAGE_SIZE / 1e9);
		printf("memcpy 4 KiB pages     %6.2f M pages/s (%.2f GB/s) "
		       "reference\n",
		       ref / 1e6, ref * MV_PAGE_SIZE / 1e9);
		printf("migration / memcpy     %6.2f x\n", mig / ref);
	}
	fprintf(stderr, "bench_migrate: %.1f s CPU\n",
		(double)(clock() - t0) / CLOCKS_PER_SEC);
	return 0;
}
