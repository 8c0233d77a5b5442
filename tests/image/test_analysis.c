/*
 * test_analysis.c - the analysis of memory images (src/image/analysis.c)
 * on small in-memory sources whose figures are known by hand.
 *
 * A test source implements struct mv_image_ops over a list of content
 * ids: id 0 is a zero page; any other id is a page whose first word is
 * the id and whose rest is, by id % 3, a repeated pattern (LZ4 <= 1 KiB),
 * 1.5 KiB of random bytes and zeros (<= 2 KiB) or 4 KiB of random bytes
 * (does not compress). Extents end every `ext` pages and where the
 * mergeable flag changes. The crafted set (three images):
 *
 *   A at 0x100000: 0 1 1 2 3 1 0 4    all mergeable
 *   B at 0x200000: 1 2 5 5 0 6        all mergeable
 *   C at 0x0:      1 1 7 1 2          the first three mergeable
 *
 * Each expected figure below is worked out in the comment beside it.
 */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

#include "image/analysis.h"
#include "image/source.h"
#include "support/mvtest.h"

struct tsrc {
	const int *ids;
	int n;
	const int *merge; /* per page, NULL: all mergeable */
	int ext;          /* pages per extent at most */
	uint64_t base;
	int fail_at; /* next fails once this many pages were given, -1 never */
	int fail_read;
	int pos;
	int *reads; /* counts mv_image_read calls, if not NULL */
	uint8_t *buf;
};

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill_page(int id, uint8_t *p)
{
	memset(p, 0, MV_PAGE_SIZE);
	if (!id)
		return;
	uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)id + 1;
	switch (id % 3) {
	case 1:
		for (int i = 0; i < (int)MV_PAGE_SIZE; i++)
			p[i] = (uint8_t)(id + (i & 15));
		break;
	case 2:
		for (int i = 0; i < 1536; i += 8) {
			uint64_t w = xs(&s);
			memcpy(p + i, &w, 8);
		}
		break;
	default:
		for (int i = 0; i < (int)MV_PAGE_SIZE; i += 8) {
			uint64_t w = xs(&s);
			memcpy(p + i, &w, 8);
		}
	}
	uint64_t w = (uint64_t)id;
	memcpy(p, &w, 8);
}

static int merge_of(const struct tsrc *t, int i)
{
	return t->merge ? t->merge[i] : 1;
}

static int t_next(struct mv_image *img, struct mv_image_extent *e,
		  struct mv_error *err)
{
	struct tsrc *t = img->priv;
	if (t->pos >= t->n)
		return 0;
	if (t->fail_at >= 0 && t->pos >= t->fail_at)
		return mv_error_set(err, MV_ENOENT, img->name, 0, "",
				    "process exited while it was read");
	int n = 1;
	while (t->pos + n < t->n && n < t->ext &&
	       merge_of(t, t->pos + n) == merge_of(t, t->pos))
		n++;
	for (int k = 0; k < n; k++)
		fill_page(t->ids[t->pos + k], t->buf + k * MV_PAGE_SIZE);
	e->addr = t->base + (uint64_t)t->pos * MV_PAGE_SIZE;
	e->npages = (uint64_t)n;
	e->bytes = t->buf;
	e->flags = merge_of(t, t->pos) ? MV_IMAGE_MERGEABLE | MV_IMAGE_ANON
				       : MV_IMAGE_ANON;
	t->pos += n;
	return 1;
}

static int t_read(struct mv_image *img, uint64_t addr, uint8_t *page,
		  struct mv_error *err)
{
	struct tsrc *t = img->priv;
	if (t->reads)
		(*t->reads)++;
	uint64_t i = (addr - t->base) / MV_PAGE_SIZE;
	if (t->fail_read || addr < t->base || i >= (uint64_t)t->n)
		return mv_error_set(err, MV_EIO, img->name, 0, "",
				    "cannot read page 0x%llx",
				    (unsigned long long)addr);
	fill_page(t->ids[i], page);
	return 0;
}

static void t_close(struct mv_image *img)
{
	struct tsrc *t = img->priv;
	free(t->buf);
	free(t);
}

static const struct mv_image_ops t_ops = {t_next, t_read, t_close};

static struct mv_image *tsrc_open(const char *name, const int *ids, int n,
				  const int *merge, int ext, uint64_t base)
{
	struct mv_image *img = calloc(1, sizeof *img);
	struct tsrc *t = calloc(1, sizeof *t);
	assert_non_null(img);
	assert_non_null(t);
	t->ids = ids;
	t->n = n;
	t->merge = merge;
	t->ext = ext;
	t->base = base;
	t->fail_at = -1;
	t->buf = malloc((size_t)ext * MV_PAGE_SIZE);
	assert_non_null(t->buf);
	img->ops = &t_ops;
	img->kind = MV_IMAGE_RAW;
	img->priv = t;
	snprintf(img->name, sizeof img->name, "%s", name);
	return img;
}

static const int A[] = {0, 1, 1, 2, 3, 1, 0, 4};
static const int B[] = {1, 2, 5, 5, 0, 6};
static const int C[] = {1, 1, 7, 1, 2};
static const int C_MERGE[] = {1, 1, 1, 0, 0};
#define N(x) ((int)(sizeof(x) / sizeof((x)[0])))

/* The crafted set analysed with opts (and key function, if not NULL). */
static struct mv_analysis *crafted(const struct mv_analysis_opts *o, int ext,
				   mv_analysis_key_fn key)
{
	struct mv_analysis *a = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_analysis_create(o, &a), 0);
	if (key)
		mv_analysis_set_key_fn(a, key);
	mvt_ok(mv_analysis_add(a, tsrc_open("A", A, N(A), NULL, ext, 0x100000),
			       &err),
	       &err, "add A");
	mvt_ok(mv_analysis_add(a, tsrc_open("B", B, N(B), NULL, ext, 0x200000),
			       &err),
	       &err, "add B");
	mvt_ok(mv_analysis_add(a, tsrc_open("C", C, N(C), C_MERGE, ext, 0),
			       &err),
	       &err, "add C");
	mvt_ok(mv_analysis_finish(a, &err), &err, "finish");
	assert_int_equal(mv_analysis_images(a), 3);
	return a;
}

static void check_counts(const struct mv_image_figures *f, uint64_t pages,
			 uint64_t mergeable, uint64_t zero, uint64_t distinct,
			 uint64_t intra, uint64_t inter)
{
	assert_int_equal(f->pages, pages);
	assert_int_equal(f->mergeable, mergeable);
	assert_int_equal(f->zero, zero);
	assert_int_equal(f->distinct, distinct);
	assert_int_equal(f->dup_intra, intra);
	assert_int_equal(f->dup_inter, inter);
}

static void check_ksm(const struct mv_image_figures *f, uint64_t shared,
		      uint64_t sharing, uint64_t zero)
{
	assert_int_equal(f->ksm_pages_shared, shared);
	assert_int_equal(f->ksm_pages_sharing, sharing);
	assert_int_equal(f->ksm_zero_pages, zero);
}

static void check_esx(const struct mv_image_figures *f, uint64_t shared,
		      uint64_t saved, uint64_t shared_salted,
		      uint64_t saved_salted)
{
	assert_int_equal(f->esx_shared, shared);
	assert_int_equal(f->esx_saved, saved);
	assert_int_equal(f->esx_shared_salted, shared_salted);
	assert_int_equal(f->esx_saved_salted, saved_salted);
}

static void test_counts_zero_intra_and_inter_duplicates(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.compress_every = 1};
	struct mv_analysis *a = crafted(&o, 3, NULL);
	/* A: contents 0 1 2 3 4; intra 8-5; inter 0 (2) + 1 (3) + 2 (1) */
	check_counts(mv_analysis_figures(a, 0), 8, 8, 2, 5, 3, 6);
	/* B: 1 2 5 0 6; intra 1 (5); inter 1 + 2 + 0 */
	check_counts(mv_analysis_figures(a, 1), 6, 6, 1, 5, 1, 3);
	/* C: 1 7 2; intra 2 (1 thrice); inter 1 (3) + 2 (1) */
	check_counts(mv_analysis_figures(a, 2), 5, 3, 0, 3, 2, 4);
	/* contents 0..7 */
	check_counts(mv_analysis_total(a), 19, 17, 3, 8, 6, 13);
	assert_null(mv_analysis_figures(a, 3));
	mv_analysis_destroy(a);
}

static void
test_esx_shares_zero_pages_and_salting_keeps_images_apart(void **state)
{
	(void)state;
	struct mv_analysis *a = crafted(NULL, 3, NULL);
	/*
	 * Unsalted: 0 (3 pages), 1 (7), 2 (3), 5 (2) shared: 15 pages, 11
	 * saved; the frame is the first occurrence's. Salted: A 0 (2) and
	 * 1 (3); B 5 (2) and its lone zero page; C 1 (3).
	 */
	check_esx(mv_analysis_figures(a, 0), 6, 3, 5, 3);
	check_esx(mv_analysis_figures(a, 1), 5, 4, 3, 1);
	check_esx(mv_analysis_figures(a, 2), 4, 4, 3, 2);
	check_esx(mv_analysis_total(a), 15, 11, 11, 6);
	mv_analysis_destroy(a);
}

static void test_ksm_default_merges_each_group_into_one_page(void **state)
{
	(void)state;
	struct mv_analysis *a = crafted(NULL, 3, NULL);
	/*
	 * Mergeable groups: 0 {A A B}, 1 {A A A B C C}, 2 {A B}, 5 {B B}
	 * (C's last two pages are not mergeable). One KSM page each, held
	 * by the first page's image: A 0, 1, 2; B 5.
	 */
	check_ksm(mv_analysis_figures(a, 0), 3, 1 + 2, 0);
	check_ksm(mv_analysis_figures(a, 1), 1, 1 + 1 + 1 + 1, 0);
	check_ksm(mv_analysis_figures(a, 2), 0, 2, 0);
	check_ksm(mv_analysis_total(a), 4, 2 + 5 + 1 + 1, 0);
	mv_analysis_destroy(a);
}

static void
test_ksm_max_page_sharing_two_splits_groups_into_chains(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.max_page_sharing = 2};
	struct mv_analysis *a = crafted(&o, 3, NULL);
	/*
	 * 0 {A A | B}: one chain (A), B's page alone stays unshared.
	 * 1 {A A | A B | C C}: heads A, A, C; sharing A, B, C.
	 * 2 {A B}: head A. 5 {B B}: head B.
	 */
	check_ksm(mv_analysis_figures(a, 0), 1 + 2 + 1, 1 + 1, 0);
	check_ksm(mv_analysis_figures(a, 1), 1, 1 + 1 + 1, 0);
	check_ksm(mv_analysis_figures(a, 2), 1, 1, 0);
	check_ksm(mv_analysis_total(a), 6, 6, 0);
	mv_analysis_destroy(a);
}

static void test_ksm_max_page_sharing_three(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.max_page_sharing = 3};
	struct mv_analysis *a = crafted(&o, 3, NULL);
	/*
	 * 0 {A A B}: head A. 1 {A A A | B C C}: heads A, B.
	 * 2 {A B}: head A. 5 {B B}: head B.
	 */
	check_ksm(mv_analysis_figures(a, 0), 3, 1 + 2, 0);
	check_ksm(mv_analysis_figures(a, 1), 2, 1 + 1 + 1, 0);
	check_ksm(mv_analysis_figures(a, 2), 0, 2, 0);
	check_ksm(mv_analysis_total(a), 5, 8, 0);
	mv_analysis_destroy(a);
}

static void test_ksm_use_zero_pages_maps_zero_pages_apart(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.max_page_sharing = 2,
				     .use_zero_pages = 1};
	struct mv_analysis *a = crafted(&o, 3, NULL);
	/* as with max_page_sharing 2, without content 0's KSM page */
	check_ksm(mv_analysis_figures(a, 0), 3, 1, 2);
	check_ksm(mv_analysis_figures(a, 1), 1, 3, 1);
	check_ksm(mv_analysis_figures(a, 2), 1, 1, 0);
	check_ksm(mv_analysis_total(a), 5, 5, 3);
	/* ESX does not depend on KSM's settings */
	check_esx(mv_analysis_total(a), 15, 11, 11, 6);
	mv_analysis_destroy(a);
}

static int lz4_of(int id)
{
	uint8_t p[MV_PAGE_SIZE];
	char d[MV_PAGE_SIZE];
	fill_page(id, p);
	int n = LZ4_compress_default((const char *)p, d, MV_PAGE_SIZE,
				     MV_PAGE_SIZE);
	return n > 0 ? n : (int)MV_PAGE_SIZE;
}

static int zstd_of(int id)
{
	uint8_t p[MV_PAGE_SIZE];
	char d[MV_PAGE_SIZE];
	fill_page(id, p);
	size_t n = ZSTD_compress(d, MV_PAGE_SIZE, p, MV_PAGE_SIZE, 3);
	return ZSTD_isError(n) ? (int)MV_PAGE_SIZE : (int)n;
}

static void check_compression(const struct mv_image_figures *f, const int *ids,
			      int n)
{
	uint64_t hist[3] = {0}, lz4 = 0, zstd = 0;
	for (int i = 0; i < n; i++) {
		int s = lz4_of(ids[i]);
		hist[s <= 1024 ? 0 : s <= 2048 ? 1 : 2]++;
		lz4 += (uint64_t)s;
		zstd += (uint64_t)zstd_of(ids[i]);
	}
	assert_int_equal(f->sampled, n);
	assert_int_equal(f->lz4_hist[0], hist[0]);
	assert_int_equal(f->lz4_hist[1], hist[1]);
	assert_int_equal(f->lz4_hist[2], hist[2]);
	assert_int_equal(f->lz4_bytes, lz4);
	assert_int_equal(f->zstd_bytes, zstd);
}

static void test_compression_histogram_weights_contents_by_pages(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.compress_every = 1};
	struct mv_analysis *a = crafted(&o, 3, NULL);
	/* by id % 3: 0 and 1 4 7 small, 2 5 medium, 3 6 incompressible */
	const struct mv_image_figures *f = mv_analysis_figures(a, 0);
	assert_int_equal(f->lz4_hist[0], 6);
	assert_int_equal(f->lz4_hist[1], 1);
	assert_int_equal(f->lz4_hist[2], 1);
	f = mv_analysis_figures(a, 1);
	assert_int_equal(f->lz4_hist[0], 2);
	assert_int_equal(f->lz4_hist[1], 3);
	assert_int_equal(f->lz4_hist[2], 1);
	f = mv_analysis_figures(a, 2);
	assert_int_equal(f->lz4_hist[0], 4);
	assert_int_equal(f->lz4_hist[1], 1);
	assert_int_equal(f->lz4_hist[2], 0);
	f = mv_analysis_total(a);
	assert_int_equal(f->lz4_hist[0], 12);
	assert_int_equal(f->lz4_hist[1], 5);
	assert_int_equal(f->lz4_hist[2], 2);
	/* and the bytes are LZ4's and zstd's own, page by page */
	check_compression(mv_analysis_figures(a, 0), A, N(A));
	check_compression(mv_analysis_figures(a, 1), B, N(B));
	check_compression(mv_analysis_figures(a, 2), C, N(C));
	mv_analysis_destroy(a);
}

/* Keys that are the page's id: the sample is then known in advance. */
static void id_key(const void *page, uint64_t key[2])
{
	uint64_t id;
	memcpy(&id, page, 8);
	key[0] = id;
	key[1] = id * 7;
}

struct seen {
	int n;
	int sampled[16];
	uint64_t pages;
};

static int note_sampled(const struct mv_content_info *c, void *ctx)
{
	struct seen *s = ctx;
	s->sampled[s->n++] = c->lz4_size >= 0;
	if (c->lz4_size >= 0)
		s->pages += c->pages;
	assert_true((c->lz4_size >= 0) == (c->zstd_size >= 0));
	return 0;
}

static void test_sample_takes_one_content_in_n_by_its_key(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.compress_every = 4};
	struct mv_analysis *a = crafted(&o, 3, id_key);
	struct seen s = {0};
	assert_int_equal(mv_analysis_contents(a, note_sampled, &s), 0);
	assert_int_equal(s.n, 8);
	/* the zero content is always compressed (its pages are counted
	 * exactly, however its key falls); the others one in 4 by key */
	assert_int_equal(s.sampled[0], 1);
	for (int id = 1; id < 8; id++)
		assert_int_equal(s.sampled[id], id % 4 == 0);
	/* the 3 zero pages and content 4's one page in A */
	const struct mv_image_figures *t = mv_analysis_total(a);
	assert_int_equal(t->sampled, 4);
	assert_int_equal(s.pages, 4);
	/* the estimate: zero pages once each, content 4 standing for the 4
	 * contents of its stratum */
	assert_int_equal(t->lz4_hist[0] + t->lz4_hist[1] + t->lz4_hist[2],
			 3 + 4);
	mv_analysis_destroy(a);
}

/* Contents 11 and 12 (and 13 and 14) forced to one key: a collision. */
static void colliding_key(const void *page, uint64_t key[2])
{
	uint64_t id;
	memcpy(&id, page, 8);
	if (id == 11 || id == 12)
		id = 11;
	if (id == 13 || id == 14)
		id = 13;
	key[0] = id;
	key[1] = id;
}

static void test_same_key_with_other_bytes_is_a_distinct_content(void **state)
{
	(void)state;
	/* 12 meets 11 in the same extent, in an earlier extent (read
	 * again) and in another image; 14 meets 13 only across images */
	static const int X[] = {11, 12, 11, 12, 13, 12};
	static const int Y[] = {12, 14, 11, 14};
	int reads = 0;
	struct mv_analysis *a = NULL;
	struct mv_error err = {0};
	struct mv_analysis_opts o = {.compress_every = 1};
	assert_int_equal(mv_analysis_create(&o, &a), 0);
	mv_analysis_set_key_fn(a, colliding_key);
	struct mv_image *x = tsrc_open("X", X, N(X), NULL, 2, 0);
	struct mv_image *y = tsrc_open("Y", Y, N(Y), NULL, 2, 0x10000);
	((struct tsrc *)x->priv)->reads = &reads;
	mvt_ok(mv_analysis_add(a, x, &err), &err, "add X");
	mvt_ok(mv_analysis_add(a, y, &err), &err, "add Y");
	mvt_ok(mv_analysis_finish(a, &err), &err, "finish");
	/* X: 11 12 13 distinct; Y: 12 14 11 */
	check_counts(mv_analysis_figures(a, 0), 6, 6, 0, 3, 3, 5);
	check_counts(mv_analysis_figures(a, 1), 4, 4, 0, 3, 1, 2);
	check_counts(mv_analysis_total(a), 10, 10, 0, 4, 4, 7);
	/* 11: 3 pages, 12: 4, 14: 2 shared; 13 alone */
	check_esx(mv_analysis_total(a), 9, 6, 2 + 3 + 2, 1 + 2 + 1);
	check_ksm(mv_analysis_total(a), 3, 6, 0);
	/* the compares outside the extent at hand went to the image */
	assert_true(reads > 0);
	mv_analysis_destroy(a);
}

struct order {
	int n;
	uint64_t hash[16];
	int first_image[16];
	uint64_t first_addr[16], pages[16];
	int zero[16];
};

static int note_order(const struct mv_content_info *c, void *ctx)
{
	struct order *o = ctx;
	assert_true(o->n < 16);
	o->hash[o->n] = c->hash;
	o->first_image[o->n] = c->first_image;
	o->first_addr[o->n] = c->first_addr;
	o->pages[o->n] = c->pages;
	o->zero[o->n] = c->zero;
	uint64_t sum = 0;
	for (int i = 0; i < c->nimages; i++) {
		sum += c->copies[i];
		if (i)
			assert_true(c->image[i] > c->image[i - 1]);
		assert_int_equal(c->naddrs[i], c->copies[i] < MV_CONTENT_ADDRS
						       ? (int)c->copies[i]
						       : MV_CONTENT_ADDRS);
	}
	assert_int_equal(sum, c->pages);
	o->n++;
	return 0;
}

static void test_contents_in_order_of_first_occurrence(void **state)
{
	(void)state;
	struct mv_analysis *a = crafted(NULL, 3, NULL);
	struct order o = {0};
	assert_int_equal(mv_analysis_contents(a, note_order, &o), 0);
	/* ids 0..7 first occur in that order in A, B, C */
	static const int first_image[] = {0, 0, 0, 0, 0, 1, 1, 2};
	static const uint64_t first_addr[] = {0x100000, 0x101000, 0x103000,
					      0x104000, 0x107000, 0x202000,
					      0x205000, 0x2000};
	static const uint64_t pages[] = {3, 7, 3, 1, 1, 2, 1, 1};
	assert_int_equal(o.n, 8);
	for (int id = 0; id < 8; id++) {
		uint8_t p[MV_PAGE_SIZE];
		fill_page(id, p);
		assert_int_equal(o.hash[id], mv_page_hash(p));
		assert_int_equal(o.first_image[id], first_image[id]);
		assert_int_equal(o.first_addr[id], first_addr[id]);
		assert_int_equal(o.pages[id], pages[id]);
		assert_int_equal(o.zero[id], id == 0);
	}
	mv_analysis_destroy(a);
}

static int stop_at_third(const struct mv_content_info *c, void *ctx)
{
	(void)c;
	return ++*(int *)ctx == 3 ? 42 : 0;
}

static void test_contents_stops_when_the_callback_says_so(void **state)
{
	(void)state;
	struct mv_analysis *a = crafted(NULL, 3, NULL);
	int n = 0;
	assert_int_equal(mv_analysis_contents(a, stop_at_third, &n), 42);
	assert_int_equal(n, 3);
	mv_analysis_destroy(a);
}

struct top {
	int n;
	uint64_t pages[8];
	int zero[8];
	int nimages[8];
	uint64_t addr0[8][3]; /* first image's addresses */
	int naddr0[8];
};

static int note_top(const struct mv_content_info *c, void *ctx)
{
	struct top *t = ctx;
	t->pages[t->n] = c->pages;
	t->zero[t->n] = c->zero;
	t->nimages[t->n] = c->nimages;
	t->naddr0[t->n] = c->naddrs[0];
	memcpy(t->addr0[t->n], c->addrs, sizeof t->addr0[0]);
	t->n++;
	return 0;
}

static void test_top_ranks_by_pages_then_first_occurrence(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.top = 5};
	struct mv_analysis *a = crafted(&o, 3, NULL);
	struct top t = {0};
	assert_int_equal(mv_analysis_top(a, note_top, &t), 0);
	/* 1 (7 pages), 0 and 2 (3 each, 0 first), 5 (2): four shared */
	assert_int_equal(t.n, 4);
	assert_int_equal(t.pages[0], 7);
	assert_int_equal(t.pages[1], 3);
	assert_int_equal(t.zero[1], 1);
	assert_int_equal(t.pages[2], 3);
	assert_int_equal(t.zero[2], 0);
	assert_int_equal(t.pages[3], 2);
	/* content 1: in A, B and C; A's pages at 1, 2 and 5 */
	assert_int_equal(t.nimages[0], 3);
	assert_int_equal(t.naddr0[0], 3);
	assert_int_equal(t.addr0[0][0], 0x101000);
	assert_int_equal(t.addr0[0][1], 0x102000);
	assert_int_equal(t.addr0[0][2], 0x105000);
	/* content 5: B only, pages 2 and 3 */
	assert_int_equal(t.nimages[3], 1);
	assert_int_equal(t.naddr0[3], 2);
	assert_int_equal(t.addr0[3][0], 0x202000);
	assert_int_equal(t.addr0[3][1], 0x203000);
	mv_analysis_destroy(a);

	o.top = 1;
	a = crafted(&o, 3, NULL);
	memset(&t, 0, sizeof t);
	assert_int_equal(mv_analysis_top(a, note_top, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.pages[0], 7);
	mv_analysis_destroy(a);
}

static void test_same_input_gives_the_same_figures(void **state)
{
	(void)state;
	struct mv_analysis_opts o = {.compress_every = 2, .top = 3};
	/* the extent size changes where compares read; never the figures */
	struct mv_analysis *a = crafted(&o, 3, NULL);
	struct mv_analysis *b = crafted(&o, 3, NULL);
	struct mv_analysis *c = crafted(&o, 1, NULL);
	for (int i = -1; i < 3; i++) {
		const struct mv_image_figures *fa = i < 0 ? mv_analysis_total(a)
							  : mv_analysis_figures(
								    a, i);
		const struct mv_image_figures *fb = i < 0 ? mv_analysis_total(b)
							  : mv_analysis_figures(
								    b, i);
		const struct mv_image_figures *fc = i < 0 ? mv_analysis_total(c)
							  : mv_analysis_figures(
								    c, i);
		assert_memory_equal(fa, fb, sizeof *fa);
		assert_memory_equal(fa, fc, sizeof *fa);
	}
	struct order oa = {0}, ob = {0};
	assert_int_equal(mv_analysis_contents(a, note_order, &oa), 0);
	assert_int_equal(mv_analysis_contents(c, note_order, &ob), 0);
	assert_memory_equal(&oa, &ob, sizeof oa);
	mv_analysis_destroy(a);
	mv_analysis_destroy(b);
	mv_analysis_destroy(c);
}

static void test_many_distinct_pages_grow_the_table(void **state)
{
	(void)state;
	/* 5000 contents, each twice: growth keeps every content findable */
	enum { D = 5000 };
	int *ids = malloc(2 * D * sizeof *ids);
	assert_non_null(ids);
	for (int i = 0; i < D; i++)
		ids[i] = ids[D + i] = 100 + i;
	struct mv_analysis *a = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_analysis_create(NULL, &a), 0);
	mvt_ok(mv_analysis_add(a, tsrc_open("big", ids, 2 * D, NULL, 64, 0),
			       &err),
	       &err, "add");
	mvt_ok(mv_analysis_finish(a, &err), &err, "finish");
	check_counts(mv_analysis_total(a), 2 * D, 2 * D, 0, D, D, 0);
	check_ksm(mv_analysis_total(a), D, D, 0);
	mv_analysis_destroy(a);
	free(ids);
}

static void test_source_failing_mid_read_fails_the_analysis(void **state)
{
	(void)state;
	struct mv_analysis *a = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_analysis_create(NULL, &a), 0);
	mvt_ok(mv_analysis_add(a, tsrc_open("A", A, N(A), NULL, 2, 0), &err),
	       &err, "add A");
	struct mv_image *b = tsrc_open("pid 4242 (qemu)", B, N(B), NULL, 2, 0);
	((struct tsrc *)b->priv)->fail_at = 4;
	assert_int_equal(mv_analysis_add(a, b, &err), MV_ENOENT);
	assert_string_equal(err.file, "pid 4242 (qemu)");
	/* no figures from a failed analysis, and no more images */
	memset(&err, 0, sizeof err);
	assert_int_equal(mv_analysis_finish(a, &err), MV_EINVAL);
	assert_true(err.msg[0] != '\0');
	assert_int_equal(
		mv_analysis_add(a, tsrc_open("C", C, N(C), NULL, 2, 0), &err),
		MV_EINVAL);
	mv_analysis_destroy(a); /* closes all three */
}

static void test_unreadable_first_occurrence_fails_the_analysis(void **state)
{
	(void)state;
	struct mv_analysis *a = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_analysis_create(NULL, &a), 0);
	struct mv_image *x = tsrc_open("X", A, N(A), NULL, 1, 0);
	((struct tsrc *)x->priv)->fail_read = 1;
	/* A's second 1 is compared with its first, one extent back */
	assert_int_equal(mv_analysis_add(a, x, &err), MV_EIO);
	assert_string_equal(err.file, "X");
	mv_analysis_destroy(a);
}

static void test_create_rejects_max_page_sharing_below_two(void **state)
{
	(void)state;
	struct mv_analysis *a = NULL;
	struct mv_analysis_opts o = {.max_page_sharing = 1};
	assert_int_equal(mv_analysis_create(&o, &a), MV_EINVAL);
	assert_null(a);
	o = (struct mv_analysis_opts){.top = -1};
	assert_int_equal(mv_analysis_create(&o, &a), MV_EINVAL);
	/* an analysis of nothing is empty, not an error */
	assert_int_equal(mv_analysis_create(NULL, &a), 0);
	struct mv_error err = {0};
	assert_int_equal(mv_analysis_finish(a, &err), 0);
	assert_int_equal(mv_analysis_total(a)->pages, 0);
	mv_analysis_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_zero_intra_and_inter_duplicates),
		cmocka_unit_test(
			test_esx_shares_zero_pages_and_salting_keeps_images_apart),
		cmocka_unit_test(
			test_ksm_default_merges_each_group_into_one_page),
		cmocka_unit_test(
			test_ksm_max_page_sharing_two_splits_groups_into_chains),
		cmocka_unit_test(test_ksm_max_page_sharing_three),
		cmocka_unit_test(test_ksm_use_zero_pages_maps_zero_pages_apart),
		cmocka_unit_test(
			test_compression_histogram_weights_contents_by_pages),
		cmocka_unit_test(test_sample_takes_one_content_in_n_by_its_key),
		cmocka_unit_test(
			test_same_key_with_other_bytes_is_a_distinct_content),
		cmocka_unit_test(test_contents_in_order_of_first_occurrence),
		cmocka_unit_test(test_contents_stops_when_the_callback_says_so),
		cmocka_unit_test(test_top_ranks_by_pages_then_first_occurrence),
		cmocka_unit_test(test_same_input_gives_the_same_figures),
		cmocka_unit_test(test_many_distinct_pages_grow_the_table),
		cmocka_unit_test(
			test_source_failing_mid_read_fails_the_analysis),
		cmocka_unit_test(
			test_unreadable_first_occurrence_fails_the_analysis),
		cmocka_unit_test(
			test_create_rejects_max_page_sharing_below_two),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
