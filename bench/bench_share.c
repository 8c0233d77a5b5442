/*
 * bench_share.c - page sharing scan throughput, on this machine.
 *
 * Prints, single core, on a 256 MiB VM (65536 pages):
 *   - scan of pages that match nothing (every page distinct random bytes):
 *     the first full pass, in which every page is hashed, looked up and
 *     inserted as a hint (ESX hints / KSM unstable tree), and the second
 *     pass, in which every page is unchanged and finds its own hint;
 *   - scan of pages that all match (every page the same non-zero bytes):
 *     one pass that merges them all into one sharing frame (hash, lookup,
 *     full compare, remap, frame freed);
 *   - the same run's references on the same pages: XXH3-64 of every page
 *     (XXH3_64bits, the hash the scanner uses) and memcmp of every page
 *     with a copy of it (what a full compare costs).
 * Figures are pages/s and GB/s of page bytes (1 GB = 1e9 bytes, 4096 bytes
 * per page), and the ratio scan/XXH3: the share of the hash's speed the
 * rest of the scanner leaves. The scans and the references run in
 * alternating rounds (bench.h), MV_BENCH_ROUNDS of each: figures are the
 * medians over the rounds, the ratio the median of the rounds' own ratios
 * with their spread (lowest-highest).
 * Goal (issue 3): at least 1.5 million pages/s (6 GB/s) per core on pages
 * that match nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#if defined(__x86_64__) && defined(__GNUC__)
#define XXH_DISPATCH_DISABLE_REPLACE
#include <xxh_x86dispatch.h>
#define HAVE_WIDE 1
#endif

#include "memvisor/memvisor.h"
#include "bench.h"

#define MIB 256
#define REPS MV_BENCH_ROUNDS
#define GOAL_PAGES_PER_S 1.5e6

/* The guest writes every page: distinct random bytes (seed != 0) or,
 * with distinct 0, the same non-zero bytes everywhere. */
static void fill_vm(struct mv_vm *vm, int distinct, uint64_t seed)
{
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		uint64_t *w = (uint64_t *)mv_vm_access_bytes(vm, g, 1);
		if (!w)
			mv_bench_die("guest write", NULL);
		uint64_t key = distinct ? seed ^ (g << 20) : seed;
		for (size_t i = 0; i < MV_PAGE_SIZE / 8; i++)
			w[i] = mv_mix64(key + i);
		mv_vm_wrote(vm, g);
	}
}

static struct mv_sharer *new_sharer(struct mv_host *h, struct mv_vm *vm)
{
	struct mv_share_config c;
	mv_share_config_default(&c);
	struct mv_sharer *s;
	struct mv_error err = {0};
	if (mv_share_create(h, &c, &s, &err))
		mv_bench_die("mv_share_create", &err);
	if (mv_share_add_vm(s, vm))
		mv_bench_die("mv_share_add_vm", NULL);
	return s;
}

/* Time one scan of exactly n pages; the result is checked by the caller. */
static double timed_scan(struct mv_sharer *s, uint64_t n)
{
	double t0 = mv_cpu_s();
	uint64_t done = mv_share_scan(s, n);
	double t = mv_cpu_s() - t0;
	if (done != n)
		mv_bench_die("mv_share_scan scanned fewer pages than asked",
			     NULL);
	return t;
}

/* XXH3-64 of one page as libxxhash's XXH3_64bits (baseline SSE2). */
static uint64_t hash_lib(const void *p)
{
	return XXH3_64bits(p, MV_PAGE_SIZE);
}

/* The same hash through XXH3_64bits_dispatch (AVX2/AVX-512 where the CPU
 * has them), followed by VZEROUPPER, as share.c calls it. */
static int have_wide(void)
{
#ifdef HAVE_WIDE
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

static uint64_t hash_wide(const void *p)
{
#ifdef HAVE_WIDE
	uint64_t h = XXH3_64bits_dispatch(p, MV_PAGE_SIZE);
	__asm__ volatile("vzeroupper" ::: "memory");
	return h;
#else
	return hash_lib(p);
#endif
}

/* A hash of every page of vm, in scan order. */
static double timed_hash(const struct mv_vm *vm, uint64_t (*fn)(const void *),
			 uint64_t *sink)
{
	double t0 = mv_cpu_s();
	uint64_t acc = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		acc ^= fn(mv_host_frame(vm->host, vm->pmap[g].mpn));
	double t = mv_cpu_s() - t0;
	*sink ^= acc;
	return t;
}

/* memcmp of every page of vm with its copy in `copy`. */
static double timed_memcmp(const struct mv_vm *vm, const uint8_t *copy,
			   uint64_t *sink)
{
	double t0 = mv_cpu_s();
	uint64_t diff = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		diff += memcmp(mv_host_frame(vm->host, vm->pmap[g].mpn),
			       copy + g * MV_PAGE_SIZE, MV_PAGE_SIZE) != 0;
	double t = mv_cpu_s() - t0;
	if (diff)
		mv_bench_die("page copy differs", NULL);
	*sink ^= diff;
	return t;
}

static void copy_vm(const struct mv_vm *vm, uint8_t *copy)
{
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		memcpy(copy + g * MV_PAGE_SIZE,
		       mv_host_frame(vm->host, vm->pmap[g].mpn), MV_PAGE_SIZE);
}

/* The same run's references on the same pages, one round each: rates in
 * pages/s. */
struct refs {
	double lib[REPS], wide[REPS], cmp[REPS];
};

/* The rounds of one kind of pages: the VM, its copy, the scans' rates. */
struct rounds {
	struct mv_host *h;
	struct mv_vm *vm;
	const uint8_t *copy;
	int wide;
	uint64_t sink;
	double first[REPS], second[REPS]; /* distinct pages: both passes */
	double merge[REPS];               /* identical pages: one pass */
	struct refs r;
};

static void refs_measure(struct rounds *x, int k)
{
	double np = (double)x->vm->npages;
	x->r.lib[k] = np / timed_hash(x->vm, hash_lib, &x->sink);
	x->r.wide[k] = x->wide ? np / timed_hash(x->vm, hash_wide, &x->sink)
			       : x->r.lib[k];
	x->r.cmp[k] = np / timed_memcmp(x->vm, x->copy, &x->sink);
}

/* Distinct pages, ours: a new sharer (it forgets every hint: a true
 * first pass), then a second pass that finds every page's own hint. */
static void distinct_scans(void *ctx, int k)
{
	struct rounds *x = ctx;
	uint64_t np = x->vm->npages;
	struct mv_sharer *s = new_sharer(x->h, x->vm);
	x->first[k] = (double)np / timed_scan(s, np);
	struct mv_share_stats st;
	mv_share_stats(s, &st);
	if (st.pages_unshared != np || st.merges != 0)
		mv_bench_die("distinct pages: not every page became a hint",
			     NULL);
	x->second[k] = (double)np / timed_scan(s, np);
	mv_share_stats(s, &st);
	if (st.pages_unshared != np || st.pages_volatile != 0)
		mv_bench_die("distinct pages: second pass changed the hints",
			     NULL);
	mv_share_destroy(s);
}

static void distinct_refs(void *ctx, int k)
{
	refs_measure(ctx, k);
}

/* Identical pages, ours: every write breaks the previous round's
 * sharing, then one pass merges them all into one frame. */
static void merge_scan(void *ctx, int k)
{
	struct rounds *x = ctx;
	uint64_t np = x->vm->npages;
	fill_vm(x->vm, 0, 0x1dea);
	struct mv_sharer *s = new_sharer(x->h, x->vm);
	x->merge[k] = (double)np / timed_scan(s, np);
	struct mv_share_stats st;
	mv_share_stats(s, &st);
	if (st.pages_shared != 1 || st.pages_sharing != np - 1)
		mv_bench_die("identical pages: not all merged into one frame",
			     NULL);
	mv_share_destroy(s);
}

/* The references on the same bytes, each page on a frame of its own. */
static void merge_refs(void *ctx, int k)
{
	struct rounds *x = ctx;
	fill_vm(x->vm, 0, 0x1dea);
	refs_measure(x, k);
}

static void line(const char *what, const double *rate)
{
	double pps = mv_bench_median(rate, REPS);
	printf("  %-38s %6.2f M pages/s %6.2f GB/s", what, pps / 1e6,
	       pps * MV_PAGE_SIZE / 1e9);
}

static void scan_line(const char *what, const double *rate,
		      const struct refs *r)
{
	line(what, rate);
	struct mv_bench_ratio a = mv_bench_compare(rate, r->lib, REPS);
	struct mv_bench_ratio b = mv_bench_compare(rate, r->wide, REPS);
	printf("  scan/XXH3 %.2f (%.2f-%.2f)  scan/XXH3-wide %.2f "
	       "(%.2f-%.2f)\n",
	       a.ratio, a.lo, a.hi, b.ratio, b.lo, b.hi);
}

static void refs_print(const struct refs *r, int wide)
{
	line("XXH3_64bits (libxxhash, SSE2)", r->lib);
	printf("\n");
	if (wide) {
		line("XXH3_64bits_dispatch (AVX2/AVX-512)", r->wide);
		printf("  (the scanner's hash)\n");
	}
	line("memcmp of each page with a copy", r->cmp);
	printf("\n");
}

int main(void)
{
	struct mv_host *h = mv_bench_host(MIB + 16, 1);
	struct mv_vm *vm = mv_bench_vm(h, "bench", MIB);
	const uint64_t np = vm->npages;
	uint8_t *copy = malloc(np * MV_PAGE_SIZE);
	if (!copy)
		mv_bench_die("malloc", NULL);
	int wide = have_wide();

	/* ---- pages that match nothing ---- */
	static struct rounds r1, r2;
	r1 = (struct rounds){.h = h, .vm = vm, .copy = copy, .wide = wide};
	fill_vm(vm, 1, 0x5eed);
	copy_vm(vm, copy);
	mv_bench_alternate(REPS, distinct_scans, distinct_refs, &r1);

	/* ---- pages that all match ---- */
	r2 = (struct rounds){.h = h, .vm = vm, .copy = copy, .wide = wide};
	fill_vm(vm, 0, 0x1dea);
	copy_vm(vm, copy);
	mv_bench_alternate(REPS, merge_scan, merge_refs, &r2);

	printf("page sharing scan, single core (thread CPU time), VM of %d MiB "
	       "(%llu pages), %d rounds of scan and\n references alternating, "
	       "median of the rounds; ratios: median (lowest-highest)\n",
	       MIB, (unsigned long long)np, REPS);
	printf(" pages that match nothing (distinct random bytes):\n");
	scan_line("scan, first pass (hint inserted)", r1.first, &r1.r);
	scan_line("scan, second pass (own hint found)", r1.second, &r1.r);
	refs_print(&r1.r, wide);
	printf(" pages that all match (one content, all merged into one "
	       "frame):\n");
	scan_line("scan, one pass (hash+compare+merge)", r2.merge, &r2.r);
	refs_print(&r2.r, wide);
	double pps = mv_bench_median(r1.first, REPS);
	printf(" goal: >= %.1f M pages/s (%.1f GB/s) on pages that match "
	       "nothing, first pass: %s (%.2f M pages/s)\n",
	       GOAL_PAGES_PER_S / 1e6, GOAL_PAGES_PER_S * MV_PAGE_SIZE / 1e9,
	       pps >= GOAL_PAGES_PER_S ? "met" : "NOT met", pps / 1e6);

	free(copy);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	return (r1.sink ^ r2.sink) == 42 ? 1 : 0;
}
