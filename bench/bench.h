/*
 * bench.h - comparing memvisor with a reference in the same benchmark run.
 *
 * A ratio of two figures measured at different moments swings with
 * whatever else the machine does in between (bench_compress's ours/lz4
 * once ranged 0.83-1.53 in quiet runs). So the two are measured in
 * alternating rounds, ours then the reference, round after round, each
 * round's ratio taken from its own pair, and the figure printed is the
 * median of the per-round ratios with their spread (lowest-highest): a
 * load that comes and goes hits one round's pair, not the whole figure,
 * and the spread says how far to trust it.
 *
 * It also holds the set-up every benchmark of the engine repeats: a host
 * and a VM on it, the program stopping with one line on any error.
 *
 * Header only: each benchmark is one program built from one file.
 */
#ifndef MEMVISOR_BENCH_H
#define MEMVISOR_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "memvisor/memvisor.h"

#define MV_BENCH_ROUNDS 7 /* rounds of ours and of the reference */
#define MV_BENCH_MAX_ROUNDS 15

/* Stop the benchmark: "PROGRAM: what: error" on stderr, exit 1. */
static inline void mv_bench_die(const char *what, const struct mv_error *err)
{
	char buf[600];
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		err ? mv_error_format(err, buf, sizeof buf) : "failed");
	exit(1);
}

/* A host of mib MiB on nodes NUMA nodes, the rest as by default. */
static inline struct mv_host *mv_bench_host(uint64_t mib, int nodes)
{
	struct mv_host_config hc;
	mv_host_config_default(&hc);
	hc.mem_bytes = mib * MV_MIB;
	hc.nodes = nodes;
	struct mv_error err = {0};
	struct mv_host *h = NULL;
	if (mv_host_create(&hc, &h, &err))
		mv_bench_die("mv_host_create", &err);
	return h;
}

/* A VM called name of mib MiB on h, the rest as by default. */
static inline struct mv_vm *mv_bench_vm(struct mv_host *h, const char *name,
					uint64_t mib)
{
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, name, mib * MV_MIB);
	struct mv_error err = {0};
	struct mv_vm *vm = NULL;
	if (mv_vm_create(h, &vc, 0, &vm, &err))
		mv_bench_die("mv_vm_create", &err);
	return vm;
}

/* One measurement: round k of ours or of the reference, into ctx. */
typedef void (*mv_bench_round_fn)(void *ctx, int k);

/* Run ours(ctx, k) and ref(ctx, k) alternately, k = 0 .. rounds-1. */
static inline void mv_bench_alternate(int rounds, mv_bench_round_fn ours,
				      mv_bench_round_fn ref, void *ctx)
{
	for (int k = 0; k < rounds; k++) {
		ours(ctx, k);
		ref(ctx, k);
	}
}

static inline int mv_bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of v[0..n-1] (the upper one for even n); v is left as is. */
static inline double mv_bench_median(const double *v, int n)
{
	double s[MV_BENCH_MAX_ROUNDS];
	if (n <= 0 || n > MV_BENCH_MAX_ROUNDS)
		return 0;
	for (int i = 0; i < n; i++)
		s[i] = v[i];
	qsort(s, (size_t)n, sizeof *s, mv_bench_cmp_double);
	return s[n / 2];
}

/* A comparison over n rounds: medians of each side and of the ratios. */
struct mv_bench_ratio {
	int n;
	double ours, ref; /* medians of the figures */
	double ratio;     /* median of the per-round ours/ref */
	double lo, hi;    /* lowest and highest per-round ratio */
};

/* Compare figures of the same kind (both rates, or both times) round by
 * round: ratio k is ours[k] / ref[k]. */
static inline struct mv_bench_ratio mv_bench_compare(const double *ours,
						     const double *ref, int n)
{
	struct mv_bench_ratio r = {.n = n};
	double q[MV_BENCH_MAX_ROUNDS];
	if (n <= 0 || n > MV_BENCH_MAX_ROUNDS)
		return r;
	for (int k = 0; k < n; k++)
		q[k] = ref[k] > 0 ? ours[k] / ref[k] : 0;
	r.ours = mv_bench_median(ours, n);
	r.ref = mv_bench_median(ref, n);
	r.ratio = mv_bench_median(q, n);
	r.lo = r.hi = q[0];
	for (int k = 1; k < n; k++) {
		r.lo = q[k] < r.lo ? q[k] : r.lo;
		r.hi = q[k] > r.hi ? q[k] : r.hi;
	}
	return r;
}

/* "1.02 (median of 7 rounds, 0.97-1.08)" */
static inline void mv_bench_print_ratio(FILE *f, const struct mv_bench_ratio *r)
{
	fprintf(f, "%.2f (median of %d rounds, %.2f-%.2f)", r->ratio, r->n,
		r->lo, r->hi);
}

/* The spread of one figure over n rounds: "lowest-highest". */
static inline void mv_bench_print_spread(FILE *f, const double *v, int n,
					 double scale, const char *fmt)
{
	double lo = v[0], hi = v[0];
	for (int k = 1; k < n; k++) {
		lo = v[k] < lo ? v[k] : lo;
		hi = v[k] > hi ? v[k] : hi;
	}
	fprintf(f, fmt, lo * scale, hi * scale);
}

#endif
