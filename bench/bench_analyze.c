/*
 * bench_analyze.c - how fast `memvisor analyze` reads a memory image, next
 * to the bandwidth of memcmp and XXH3 over the same bytes in the same run.
 *
 * The image: MIB MiB (default 2048; argv[1] to change it) in memory, read
 * through an in-memory page source in 64 MiB extents (as the file readers
 * hand out their mmap window). Its pages are a fixed mix from a seeded
 * generator: 30% zero pages, 20% copies of one of 512 common pages, 25%
 * random bytes (each distinct) and 25% text-like pages (distinct,
 * compressible to about a third).
 *
 * Measured single core (thread CPU time), in alternating rounds (bench.h):
 *   - ours: the whole analysis (zero detection, XXH3-128 key, table,
 *     byte compare of every duplicate with its first occurrence, finish)
 *     with compression off (compress_every 2^32 - 1: no content sampled),
 *     and the same with the default sample of one distinct page in 16
 *     compressed with LZ4 and zstd;
 *   - references over the same bytes: XXH3-128 of every page (the key
 *     function the analysis uses), zero detection plus that hash (the
 *     goal's "zero detection plus hashing" alone), and memcmp of every
 *     64 MiB chunk with a copy of it.
 * Figures are GB/s of image bytes (1 GB = 1e9 bytes), medians over the
 * rounds, and ratios ours/reference as medians of the per-round ratios
 * with their spread. Goal (issue 14): at least 2 GB/s per core for the
 * analysis without compression.
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

#include "bench.h"
#include "image/analysis.h"
#include "image/source.h"
#include "memvisor/memvisor.h"

#define REPS MV_BENCH_ROUNDS
#define EXTENT_PAGES (64u * MV_MIB / MV_PAGE_SIZE)
#define COMMON 512
#define GOAL_GBS 2.0

/* ---- the image and its in-memory source ------------------------------ */

struct image {
	uint8_t *bytes;
	uint64_t npages;
};

struct cursor {
	const struct image *im;
	uint64_t pos;
};

static int mem_next(struct mv_image *img, struct mv_image_extent *e,
		    struct mv_error *err)
{
	(void)err;
	struct cursor *c = img->priv;
	if (c->pos >= c->im->npages)
		return 0;
	uint64_t n = c->im->npages - c->pos;
	n = n < EXTENT_PAGES ? n : EXTENT_PAGES;
	e->addr = c->pos * MV_PAGE_SIZE;
	e->npages = n;
	e->bytes = c->im->bytes + c->pos * MV_PAGE_SIZE;
	e->flags = MV_IMAGE_MERGEABLE;
	c->pos += n;
	return 1;
}

static int mem_read(struct mv_image *img, uint64_t addr, uint8_t *page,
		    struct mv_error *err)
{
	struct cursor *c = img->priv;
	if (addr / MV_PAGE_SIZE >= c->im->npages)
		return mv_error_set(err, MV_EIO, img->name, 0, "",
				    "no page at 0x%llx",
				    (unsigned long long)addr);
	memcpy(page, c->im->bytes + addr, MV_PAGE_SIZE);
	return 0;
}

static void mem_close(struct mv_image *img)
{
	free(img->priv);
}

static const struct mv_image_ops mem_ops = {mem_next, mem_read, mem_close};

static struct mv_image *mem_open(const struct image *im)
{
	struct mv_image *img = calloc(1, sizeof *img);
	struct cursor *c = calloc(1, sizeof *c);
	if (!img || !c)
		mv_bench_die("calloc", NULL);
	c->im = im;
	img->ops = &mem_ops;
	img->kind = MV_IMAGE_RAW;
	img->priv = c;
	snprintf(img->name, sizeof img->name, "bench image");
	return img;
}

static void random_page(uint8_t *p, uint64_t *s)
{
	for (size_t i = 0; i < MV_PAGE_SIZE; i += 8) {
		uint64_t w = mv_mix64((*s)++);
		memcpy(p + i, &w, 8);
	}
}

/* Words from a small vocabulary with the page's number in it: distinct
 * pages that LZ4 brings to about a third. */
static void text_page(uint8_t *p, uint64_t g, uint64_t *s)
{
	static const char *const words[] = {
		"memory ", "page ",     "share ",  "guest ",
		"host ",   "frame ",    "zero ",   "balloon ",
		"swap ",   "compress ", "kernel ", "the ",
		"of ",     "and ",      "to ",     "a ",
	};
	size_t n = 0;
	n += (size_t)snprintf((char *)p, MV_PAGE_SIZE,
			      "page %llu: ", (unsigned long long)g);
	while (n < MV_PAGE_SIZE) {
		uint64_t r = mv_mix64((*s)++);
		const char *w = words[r & 15];
		size_t l = strlen(w);
		if (r >> 60 == 0) { /* a number now and then */
			char num[24];
			l = (size_t)snprintf(num, sizeof num, "%llu ",
					     (unsigned long long)(r >> 40));
			w = num;
			for (size_t k = 0; k < l && n < MV_PAGE_SIZE; k++)
				p[n++] = (uint8_t)w[k];
			continue;
		}
		for (size_t k = 0; k < l && n < MV_PAGE_SIZE; k++)
			p[n++] = (uint8_t)w[k];
	}
}

struct mix {
	uint64_t zero, common, random, text;
};

static struct mix fill_image(struct image *im)
{
	struct mix m = {0};
	static uint8_t common[COMMON][MV_PAGE_SIZE];
	uint64_t s = 0x5eed;
	for (int i = 0; i < COMMON; i++)
		text_page(common[i], 1000000000ull + (uint64_t)i, &s);
	for (uint64_t g = 0; g < im->npages; g++) {
		uint8_t *p = im->bytes + g * MV_PAGE_SIZE;
		uint64_t r = mv_mix64(g ^ 0xabcdef) % 100;
		if (r < 30) {
			memset(p, 0, MV_PAGE_SIZE);
			m.zero++;
		} else if (r < 50) {
			memcpy(p, common[mv_mix64(g) % COMMON], MV_PAGE_SIZE);
			m.common++;
		} else if (r < 75) {
			random_page(p, &s);
			m.random++;
		} else {
			text_page(p, g, &s);
			m.text++;
		}
	}
	return m;
}

/* ---- rounds ------------------------------------------------------------ */

struct rounds {
	struct image im;
	uint8_t *chunk; /* one extent's copy, for memcmp */
	uint64_t sink;
	double plain[REPS], sampled[REPS];     /* ours, GB/s */
	double xxh[REPS], zx[REPS], cmp[REPS]; /* references, GB/s */
	struct mv_image_figures fig;           /* of the last round */
};

static double gbs(const struct rounds *x, double seconds)
{
	return (double)x->im.npages * MV_PAGE_SIZE / seconds / 1e9;
}

static double analyse(struct rounds *x, unsigned every)
{
	struct mv_analysis_opts o = {.compress_every = every};
	struct mv_analysis *a;
	struct mv_error err = {0};
	double t0 = mv_cpu_s();
	if (mv_analysis_create(&o, &a))
		mv_bench_die("mv_analysis_create", NULL);
	if (mv_analysis_add(a, mem_open(&x->im), &err))
		mv_bench_die("mv_analysis_add", &err);
	if (mv_analysis_finish(a, &err))
		mv_bench_die("mv_analysis_finish", &err);
	double t = mv_cpu_s() - t0;
	x->fig = *mv_analysis_total(a);
	mv_analysis_destroy(a);
	return t;
}

static void ours(void *ctx, int k)
{
	struct rounds *x = ctx;
	x->plain[k] = gbs(x, analyse(x, 0xffffffffu));
	x->sampled[k] = gbs(x, analyse(x, MV_ANALYSIS_COMPRESS_EVERY));
}

static void key128(const void *p, uint64_t key[2])
{
#ifdef HAVE_WIDE
	static int wide = -1;
	if (wide < 0) {
		__builtin_cpu_init();
		wide = __builtin_cpu_supports("avx2");
	}
	if (wide) {
		XXH128_hash_t h = XXH3_128bits_dispatch(p, MV_PAGE_SIZE);
		__asm__ volatile("vzeroupper" ::: "memory");
		key[0] = h.low64;
		key[1] = h.high64;
		return;
	}
#endif
	XXH128_hash_t h = XXH3_128bits(p, MV_PAGE_SIZE);
	key[0] = h.low64;
	key[1] = h.high64;
}

static void refs(void *ctx, int k)
{
	struct rounds *x = ctx;
	const uint8_t *b = x->im.bytes;
	uint64_t n = x->im.npages, acc = 0, key[2];

	double t0 = mv_cpu_s();
	for (uint64_t g = 0; g < n; g++) {
		key128(b + g * MV_PAGE_SIZE, key);
		acc ^= key[0];
	}
	x->xxh[k] = gbs(x, mv_cpu_s() - t0);

	t0 = mv_cpu_s();
	for (uint64_t g = 0; g < n; g++) {
		const uint8_t *p = b + g * MV_PAGE_SIZE;
		if (mv_page_is_zero(p))
			continue;
		key128(p, key);
		acc ^= key[1];
	}
	x->zx[k] = gbs(x, mv_cpu_s() - t0);

	double t = 0;
	for (uint64_t g = 0; g < n; g += EXTENT_PAGES) {
		uint64_t m = n - g < EXTENT_PAGES ? n - g : EXTENT_PAGES;
		memcpy(x->chunk, b + g * MV_PAGE_SIZE, m * MV_PAGE_SIZE);
		t0 = mv_cpu_s();
		acc += memcmp(x->chunk, b + g * MV_PAGE_SIZE,
			      m * MV_PAGE_SIZE) != 0;
		t += mv_cpu_s() - t0;
	}
	x->cmp[k] = gbs(x, t);
	x->sink ^= acc;
}

static void line(const char *what, const double *v)
{
	printf("  %-46s %6.2f GB/s (", what, mv_bench_median(v, REPS));
	mv_bench_print_spread(stdout, v, REPS, 1, "%.2f-%.2f");
	printf(")\n");
}

static void ratio(const char *what, const double *a, const double *b)
{
	struct mv_bench_ratio r = mv_bench_compare(a, b, REPS);
	printf("  %-46s ", what);
	mv_bench_print_ratio(stdout, &r);
	printf("\n");
}

int main(int argc, char **argv)
{
	uint64_t mib = 2048;
	if (argc > 1 && (mv_parse_u64(argv[1], &mib) || mib < 64)) {
		fprintf(stderr, "usage: bench_analyze [MiB >= 64]\n");
		return 2;
	}
	static struct rounds x;
	x.im.npages = mib * MV_MIB / MV_PAGE_SIZE;
	x.im.bytes = malloc(x.im.npages * MV_PAGE_SIZE);
	x.chunk = malloc((size_t)EXTENT_PAGES * MV_PAGE_SIZE);
	if (!x.im.bytes || !x.chunk)
		mv_bench_die("malloc", NULL);
	struct mix m = fill_image(&x.im);
	mv_bench_alternate(REPS, ours, refs, &x);

	const struct mv_image_figures *f = &x.fig;
	printf("analysis of a %llu MiB image in memory (%llu pages: %.0f%% "
	       "zero, %.0f%% copies of %d\n pages, %.0f%% random, %.0f%% "
	       "text-like), single core (thread CPU time), %d rounds of\n "
	       "ours and the references alternating; median (lowest-highest)\n",
	       (unsigned long long)mib, (unsigned long long)x.im.npages,
	       100.0 * (double)m.zero / (double)x.im.npages,
	       100.0 * (double)m.common / (double)x.im.npages, COMMON,
	       100.0 * (double)m.random / (double)x.im.npages,
	       100.0 * (double)m.text / (double)x.im.npages, REPS);
	line("analysis, no compression", x.plain);
	line("analysis, LZ4+zstd of 1 distinct page in 16", x.sampled);
	line("XXH3-128 of every page (the analysis's key)", x.xxh);
	line("zero detection + XXH3-128 of the others", x.zx);
	line("memcmp of every 64 MiB chunk with a copy", x.cmp);
	ratio("analysis / (zero detection + XXH3-128)", x.plain, x.zx);
	ratio("analysis / XXH3-128 of every page", x.plain, x.xxh);
	ratio("analysis / memcmp", x.plain, x.cmp);
	printf(" figures: %llu distinct contents, %llu zero, KSM "
	       "pages_sharing %llu, LZ4 sample %llu pages (ratio %.2f)\n",
	       (unsigned long long)f->distinct, (unsigned long long)f->zero,
	       (unsigned long long)f->ksm_pages_sharing,
	       (unsigned long long)f->sampled,
	       f->lz4_bytes ? (double)f->sampled * MV_PAGE_SIZE /
				      (double)f->lz4_bytes
			    : 0.0);
	size_t cb = mv_analysis_content_bytes(), sb = mv_analysis_slot_bytes();
	printf(" memory per distinct page: %zu bytes of entry + 2-4 slots of "
	       "%zu bytes (table at most\n half full) = %zu-%zu bytes; this "
	       "image: %.1f MiB at most for %llu contents\n",
	       cb, sb, cb + 2 * sb, cb + 4 * sb,
	       (double)f->distinct * (double)(cb + 4 * sb) / (double)MV_MIB,
	       (unsigned long long)f->distinct);
	double v = mv_bench_median(x.plain, REPS);
	printf(" goal: >= %.1f GB/s per core without compression: %s (%.2f "
	       "GB/s)\n",
	       GOAL_GBS, v >= GOAL_GBS ? "met" : "NOT met", v);
	free(x.im.bytes);
	free(x.chunk);
	return x.sink == 42 ? 1 : 0;
}
