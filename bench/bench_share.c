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
 * per page), the median of REPS repetitions, and the ratio scan/XXH3: the
 * share of the hash's speed the rest of the scanner leaves.
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

#define MIB 256
#define REPS 5
#define GOAL_PAGES_PER_S 1.5e6

static void die(const char *what, const struct mv_error *err)
{
	char buf[600];
	fprintf(stderr, "bench_share: %s: %s\n", what,
		err ? mv_error_format(err, buf, sizeof buf) : "failed");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* The guest writes every page: distinct random bytes (seed != 0) or,
 * with distinct 0, the same non-zero bytes everywhere. */
static void fill_vm(struct mv_vm *vm, int distinct, uint64_t seed)
{
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		uint64_t *w = (uint64_t *)mv_vm_access(vm, g, 1);
		if (!w)
			die("guest write", NULL);
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
		die("mv_share_create", &err);
	if (mv_share_add_vm(s, vm))
		die("mv_share_add_vm", NULL);
	return s;
}

/* Time one scan of exactly n pages; the result is checked by the caller. */
static double timed_scan(struct mv_sharer *s, uint64_t n)
{
	double t0 = mv_cpu_s();
	uint64_t done = mv_share_scan(s, n);
	double t = mv_cpu_s() - t0;
	if (done != n)
		die("mv_share_scan scanned fewer pages than asked", NULL);
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
		die("page copy differs", NULL);
	*sink ^= diff;
	return t;
}

static void copy_vm(const struct mv_vm *vm, uint8_t *copy)
{
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		memcpy(copy + g * MV_PAGE_SIZE,
		       mv_host_frame(vm->host, vm->pmap[g].mpn), MV_PAGE_SIZE);
}

/* The same run's references on the same pages, one repetition each. */
struct refs {
	double lib[REPS], wide[REPS], cmp[REPS];
	double t_lib, t_wide, t_cmp; /* medians */
};

static void refs_measure(struct refs *r, int k, const struct mv_vm *vm,
			 const uint8_t *copy, int wide, uint64_t *sink)
{
	r->lib[k] = timed_hash(vm, hash_lib, sink);
	r->wide[k] = wide ? timed_hash(vm, hash_wide, sink) : r->lib[k];
	r->cmp[k] = timed_memcmp(vm, copy, sink);
}

static void refs_median(struct refs *r)
{
	r->t_lib = median(r->lib, REPS);
	r->t_wide = median(r->wide, REPS);
	r->t_cmp = median(r->cmp, REPS);
}

static void line(const char *what, uint64_t pages, double t)
{
	double pps = (double)pages / t;
	printf("  %-38s %6.2f M pages/s %6.2f GB/s", what, pps / 1e6,
	       pps * MV_PAGE_SIZE / 1e9);
}

static void scan_line(const char *what, uint64_t pages, double t,
		      const struct refs *r)
{
	line(what, pages, t);
	printf("  scan/XXH3 %.2f  scan/XXH3-wide %.2f\n", r->t_lib / t,
	       r->t_wide / t);
}

static void refs_print(const struct refs *r, uint64_t pages, int wide)
{
	line("XXH3_64bits (libxxhash, SSE2)", pages, r->t_lib);
	printf("\n");
	if (wide) {
		line("XXH3_64bits_dispatch (AVX2/AVX-512)", pages, r->t_wide);
		printf("  (the scanner's hash)\n");
	}
	line("memcmp of each page with a copy", pages, r->t_cmp);
	printf("\n");
}

int main(void)
{
	struct mv_host_config hc;
	mv_host_config_default(&hc);
	hc.mem_bytes = (MIB + 16) * MV_MIB;
	struct mv_error err = {0};
	struct mv_host *h;
	if (mv_host_create(&hc, &h, &err))
		die("mv_host_create", &err);
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, "bench", MIB * MV_MIB);
	struct mv_vm *vm;
	if (mv_vm_create(h, &vc, 0, &vm, &err))
		die("mv_vm_create", &err);
	const uint64_t np = vm->npages;
	uint8_t *copy = malloc(np * MV_PAGE_SIZE);
	if (!copy)
		die("malloc", NULL);
	uint64_t sink = 0;
	int wide = have_wide();

	/* ---- pages that match nothing ---- */
	double first[REPS], second[REPS];
	struct refs r1;
	fill_vm(vm, 1, 0x5eed);
	copy_vm(vm, copy);
	for (int k = 0; k < REPS; k++) {
		/* a new sharer forgets every hint: a true first pass */
		struct mv_sharer *s = new_sharer(h, vm);
		first[k] = timed_scan(s, np);
		struct mv_share_stats st;
		mv_share_stats(s, &st);
		if (st.pages_unshared != np || st.merges != 0)
			die("distinct pages: not every page became a hint", NULL);
		second[k] = timed_scan(s, np);
		mv_share_stats(s, &st);
		if (st.pages_unshared != np || st.pages_volatile != 0)
			die("distinct pages: second pass changed the hints",
			    NULL);
		mv_share_destroy(s);
		refs_measure(&r1, k, vm, copy, wide, &sink);
	}
	double t_first = median(first, REPS), t_second = median(second, REPS);
	refs_median(&r1);

	/* ---- pages that all match ---- */
	double merge[REPS];
	struct refs r2;
	for (int k = 0; k < REPS; k++) {
		/* every write breaks the previous repetition's sharing */
		fill_vm(vm, 0, 0x1dea);
		if (k == 0)
			copy_vm(vm, copy);
		refs_measure(&r2, k, vm, copy, wide, &sink);
		struct mv_sharer *s = new_sharer(h, vm);
		merge[k] = timed_scan(s, np);
		struct mv_share_stats st;
		mv_share_stats(s, &st);
		if (st.pages_shared != 1 || st.pages_sharing != np - 1)
			die("identical pages: not all merged into one frame",
			    NULL);
		mv_share_destroy(s);
	}
	double t_merge = median(merge, REPS);
	refs_median(&r2);

	printf("page sharing scan, single core (thread CPU time), VM of %d MiB "
	       "(%llu pages), median of %d runs\n",
	       MIB, (unsigned long long)np, REPS);
	printf(" pages that match nothing (distinct random bytes):\n");
	scan_line("scan, first pass (hint inserted)", np, t_first, &r1);
	scan_line("scan, second pass (own hint found)", np, t_second, &r1);
	refs_print(&r1, np, wide);
	printf(" pages that all match (one content, all merged into one frame):\n");
	scan_line("scan, one pass (hash+compare+merge)", np, t_merge, &r2);
	refs_print(&r2, np, wide);
	double pps = (double)np / t_first;
	printf(" goal: >= %.1f M pages/s (%.1f GB/s) on pages that match "
	       "nothing, first pass: %s (%.2f M pages/s)\n",
	       GOAL_PAGES_PER_S / 1e6, GOAL_PAGES_PER_S * MV_PAGE_SIZE / 1e9,
	       pps >= GOAL_PAGES_PER_S ? "met" : "NOT met", pps / 1e6);

	free(copy);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	return sink == 42 ? 1 : 0;
}
