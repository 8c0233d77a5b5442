/* Tests of the host layer: the frame pool. */
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

static void test_new_host_has_every_frame_free(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	assert_int_equal(mv_host_usable_frames(h), 16 * MV_MIB / MV_PAGE_SIZE);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	assert_true(mv_host_free_fraction(h) == 1.0);
	assert_true(mv_page_is_zero(mv_host_frame(h, MV_ZERO_MPN)));
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_destroy(h);
}

static void test_alloc_and_put_keep_counts_and_recycle_lifo(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	uint64_t n = h->nfree;
	mv_mpn_t a = mv_host_frame_alloc(h, 0);
	mv_mpn_t b = mv_host_frame_alloc(h, 0);
	assert_int_not_equal(a, MV_ZERO_MPN);
	assert_int_not_equal(a, b);
	assert_int_equal(h->nfree, n - 2);
	assert_int_equal(mv_host_frame_refs(h, a), 1);
	mv_host_frame_get(h, a);
	assert_int_equal(mv_host_frame_refs(h, a), 2);
	mv_host_frame_put(h, a);
	assert_int_equal(h->nfree, n - 2);
	mv_host_frame_put(h, a);
	assert_int_equal(h->nfree, n - 1);
	assert_int_equal(mv_host_frame_alloc(h, 0), a); /* LIFO reuse */
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_frame_put(h, a);
	mv_host_frame_put(h, b);
	assert_int_equal(h->nfree, n);
	mv_host_destroy(h);
}

static void test_full_host_returns_none(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 2);
	uint64_t n = h->nfree;
	for (uint64_t i = 0; i < n; i++)
		assert_int_not_equal(mv_host_frame_alloc(h, 1), MV_MPN_NONE);
	assert_int_equal(h->nfree, 0);
	assert_int_equal(mv_host_frame_alloc(h, 0), MV_MPN_NONE);
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_destroy(h);
}

static void test_numa_prefers_home_node_then_falls_back(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 2);
	uint64_t per = h->node[1].nframes;
	for (uint64_t i = 0; i < per; i++) {
		mv_mpn_t m = mv_host_frame_alloc(h, 1);
		assert_int_equal(mv_host_frame_node(h, m), 1);
	}
	assert_int_equal(h->remote_allocs, 0);
	mv_mpn_t m = mv_host_frame_alloc(h, 1);
	assert_int_equal(mv_host_frame_node(h, m), 0);
	assert_int_equal(h->remote_allocs, 1);
	mv_host_destroy(h);
}

static void test_frames_hold_real_bytes(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	mv_mpn_t a = mv_host_frame_alloc(h, 0);
	mv_mpn_t b = mv_host_frame_alloc(h, 0);
	memset(mv_host_frame(h, a), 0xab, MV_PAGE_SIZE);
	memset(mv_host_frame(h, b), 0xcd, MV_PAGE_SIZE);
	assert_int_equal(mv_host_frame(h, a)[4095], 0xab);
	assert_int_equal(mv_host_frame(h, b)[0], 0xcd);
	assert_true(mv_page_is_zero(mv_host_frame(h, MV_ZERO_MPN)));
	mv_host_destroy(h);
}

static void test_impossible_host_sizes_are_errors(void **state)
{
	(void)state;
	struct mv_host_config c;
	struct mv_host *h = NULL;
	struct mv_error err = {0};
	mv_host_config_default(&c);
	c.mem_bytes = 8 * MV_MIB;
	assert_int_equal(mv_host_create(&c, &h, &err), MV_EINVAL);
	assert_string_equal(err.field, "host/memory");
	c.mem_bytes = 16 * MV_MIB + 100;
	assert_int_equal(mv_host_create(&c, &h, &err), MV_EINVAL);
	c.mem_bytes = 16 * MV_MIB;
	c.nodes = 9;
	assert_int_equal(mv_host_create(&c, &h, &err), MV_EINVAL);
	assert_null(h);
}

static void test_check_catches_a_corrupted_free_list(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	mv_mpn_t a = mv_host_frame_alloc(h, 0);
	mv_host_frame_put(h, a);
	mv_frame_word_set(h, a,
			  mv_frame_word(h, a) |
				  (1)); /* a free frame that claims a user */
	struct mv_error err = {0};
	assert_int_equal(mv_host_check(h, &err), MV_EINVAL);
	mv_frame_word_set(h, a, mv_frame_word(h, a) & ~(MV_FRAME_REFS));
	mv_host_destroy(h);
}

/*
 * A frame with a descriptor holds G(d) without its arena page being
 * written: reading materialises into the caller's buffer, writing makes
 * it BYTES once, and taking a descriptor again drops the written page
 * (it reads as zeros); freeing resets the descriptor.
 */
static void test_a_descriptor_frame_is_materialised_never_stored(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	mv_desc_t d = mv_desc_make(MV_DESC_DATA, 16, 12345);
	uint8_t want[MV_PAGE_SIZE], buf[MV_PAGE_SIZE];
	mv_content_fill(want, d);
	assert_false(mv_page_is_zero(want));
	assert_int_equal(mv_host_frame_desc(h, MV_ZERO_MPN), MV_DESC_ZERO_PAGE);

	mv_mpn_t m = mv_host_frame_alloc(h, 0);
	assert_int_equal(mv_host_frame_desc(h, m), MV_DESC_BYTES);
	mv_host_frame_set_desc(h, m, d);
	assert_int_equal(h->drops, 0); /* a fresh frame: nothing to drop */
	const uint8_t *p = mv_host_frame_read(h, m, buf);
	assert_ptr_equal(p, buf);
	assert_memory_equal(p, want, MV_PAGE_SIZE);
	assert_true(mv_page_is_zero(mv_host_frame(h, m))); /* unwritten */

	/* a writer of bytes gets G(d) in the arena, once */
	uint8_t *w = mv_host_frame_write(h, m);
	assert_ptr_equal(w, mv_host_frame(h, m));
	assert_memory_equal(w, want, MV_PAGE_SIZE);
	assert_int_equal(mv_host_frame_desc(h, m), MV_DESC_BYTES);
	assert_ptr_equal(mv_host_frame_read(h, m, buf), mv_host_frame(h, m));
	w[7] ^= 0x55;

	/* a descriptor again: the written page is dropped */
	mv_host_frame_set_desc(h, m, MV_DESC_ZERO_PAGE);
	assert_int_equal(h->drops, 1);
	assert_true(mv_page_is_zero(mv_host_frame(h, m)));
	assert_ptr_equal(mv_host_frame_read(h, m, buf), mv_host_frame(h, m));

	/* freed: BYTES again; the same frame comes back (LIFO) */
	mv_host_frame_put(h, m);
	assert_int_equal(mv_host_frame_desc(h, m), MV_DESC_BYTES);
	assert_int_equal(mv_host_frame_alloc(h, 0), m);
	mv_host_frame_put(h, m);
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_destroy(h);
}

/* Versions: same class and parameter, another key; zero stays zero. */
static void
test_a_written_descriptor_is_a_new_version_of_its_class(void **state)
{
	(void)state;
	mv_desc_t d = mv_desc_make(MV_DESC_PROFILE, 9, 77);
	mv_desc_t v1 = mv_desc_version(d, 1), v2 = mv_desc_version(d, 2);
	assert_true(v1 != d && v2 != d && v1 != v2);
	assert_int_equal(mv_desc_class(v1), MV_DESC_PROFILE);
	assert_int_equal(mv_desc_param(v1), 9);
	assert_int_equal(mv_desc_version(d, 1), v1); /* a function */
	assert_int_equal(mv_desc_version(MV_DESC_ZERO_PAGE, 0),
			 MV_DESC_ZERO_PAGE);
	/* the LZ4 size of a profile page stays in its bucket */
	uint8_t a[MV_PAGE_SIZE], b[MV_PAGE_SIZE];
	mv_content_fill(a, d);
	mv_content_fill(b, v1);
	assert_int_equal((mv_content_lz4_size(a) - 1) / MV_DESC_BUCKET_BYTES,
			 9);
	assert_int_equal((mv_content_lz4_size(b) - 1) / MV_DESC_BUCKET_BYTES,
			 9);
	assert_memory_not_equal(a, b, MV_PAGE_SIZE);
}

/*
 * G's definition, word by word (src/host/content.c): sixteen 32-bit lane
 * keys from splitmix64 of the seed, word l of row r the lowbias32 hash of
 * k[l] + r * 0x9e3779b9, rows 0-63 the blocks, word b of rows 64-67 block
 * b's coin (low 16 bits below c 2^16: a copy of block (high 16 bits x b)
 * / 2^16, made in block order). The library computes rows in vectors, in
 * the clone its CPU picks: this scalar reference must give the same
 * bytes.
 */
static uint32_t ref_word(const uint32_t *k, uint32_t r, unsigned l)
{
	uint32_t x = k[l] + r * 0x9e3779b9u;
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	return x ^ (x >> 16);
}

static void ref_fill(uint8_t *page, mv_desc_t d)
{
	enum mv_desc_class c = mv_desc_class(d);
	uint64_t seed = mv_mix64(mv_desc_key(d) ^ ((uint64_t)c << 56));
	double f = c == MV_DESC_OS       ? 0.55
		   : c == MV_DESC_APP    ? 0.45
		   : c == MV_DESC_RANDOM ? 0
					 : mv_desc_param(d) / 64.0;
	if (c == MV_DESC_OS && seed % 100 < 8) {
		memset(page, 0, MV_PAGE_SIZE);
		return;
	}
	uint32_t k[16];
	for (int i = 0; i < 8; i++) {
		uint64_t w = mv_mix64(seed +
				      (uint64_t)i * 0x9e3779b97f4a7c15ull);
		k[2 * i] = (uint32_t)w;
		k[2 * i + 1] = (uint32_t)(w >> 32);
	}
	for (uint32_t r = 0; r < 64; r++)
		for (unsigned l = 0; l < 16; l++) {
			uint32_t w = ref_word(k, r, l);
			memcpy(page + r * 64 + l * 4, &w, 4);
		}
	uint32_t cut = (uint32_t)(f * 65536.0);
	for (uint32_t b = 1; b < 64; b++) {
		uint32_t u = ref_word(k, 64 + b / 16, b % 16);
		if ((u & 0xffff) < cut)
			memcpy(page + b * 64,
			       page + (((u >> 16) * b) >> 16) * 64, 64);
	}
}

static void test_generated_pages_are_the_bytes_of_the_reference(void **state)
{
	(void)state;
	static const struct {
		enum mv_desc_class c;
		unsigned param;
	} kind[] = {{MV_DESC_OS, 0},    {MV_DESC_APP, 0},   {MV_DESC_DATA, 0},
		    {MV_DESC_DATA, 19}, {MV_DESC_DATA, 45}, {MV_DESC_DATA, 64},
		    {MV_DESC_RANDOM, 0}};
	uint8_t got[MV_PAGE_SIZE], want[MV_PAGE_SIZE];
	for (size_t k = 0; k < sizeof kind / sizeof kind[0]; k++)
		for (uint64_t key = 1; key <= 300; key++) {
			mv_desc_t d = mv_desc_make(kind[k].c, kind[k].param,
						   mv_mix64(key) >> 10);
			mv_content_fill(got, d);
			ref_fill(want, d);
			assert_memory_equal(got, want, MV_PAGE_SIZE);
		}
}

/*
 * The 3-byte frame words at their limits: the host's last frame (its
 * word read by a 4-byte load that ends in the pad byte) and its
 * neighbour, every flag set, a count taken by real references to the
 * field's top and one past it into the overflow table and back down to
 * free. A word written wider than 3 bytes, a count that carries into
 * the flags, or an overflow not kept would show in the neighbour, the
 * flags or the count.
 */
static void test_frame_words_at_their_limits(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	mv_mpn_t last = (mv_mpn_t)(h->nframes - 1), prev = last - 1;
	const uint32_t flags = MV_FRAME_SHARED | MV_FRAME_WRITTEN |
			       MV_FRAME_MARK | MV_FRAME_MARK_DUP;
	assert_int_equal(flags | MV_FRAME_REFS, (1u << 24) - 1);
	/* a whole word of ones beside a word of zeros, both ways */
	uint32_t wp = mv_frame_word(h, prev), wl = mv_frame_word(h, last);
	mv_frame_word_set(h, last, flags | MV_FRAME_REFS);
	assert_int_equal(mv_frame_word(h, last), flags | MV_FRAME_REFS);
	assert_int_equal(mv_frame_word(h, prev), wp);
	mv_frame_word_set(h, prev, flags | MV_FRAME_REFS);
	assert_int_equal(mv_frame_word(h, last), flags | MV_FRAME_REFS);
	mv_frame_word_set(h, last, wl);
	assert_int_equal(mv_frame_word(h, last), wl);
	assert_int_equal(mv_frame_word(h, prev), flags | MV_FRAME_REFS);
	mv_frame_word_set(h, prev, wp);
	assert_int_equal(mv_host_check(h, NULL), 0);

	/* frames are handed out lowest first: take them all, so the last
	 * one is in use; free the others */
	uint64_t n = h->nframes - 1;
	mv_mpn_t *m = calloc(n, sizeof *m);
	assert_non_null(m);
	for (uint64_t i = 0; i < n; i++)
		m[i] = mv_host_frame_alloc(h, 0);
	mv_mpn_t a = MV_MPN_NONE, b = MV_MPN_NONE;
	for (uint64_t i = 0; i < n; i++) {
		if (m[i] == last)
			a = m[i];
		else if (m[i] == prev)
			b = m[i];
		else
			mv_host_frame_put(h, m[i]);
	}
	free(m);
	assert_int_equal(a, last);
	assert_int_equal(b, prev);
	mv_host_frame_set_shared(h, a, 1);
	for (uint64_t r = 1; r < MV_FRAME_REFS; r++)
		mv_host_frame_get(h, a);
	assert_int_equal(mv_host_frame_refs(h, a), MV_FRAME_REFS);
	assert_int_equal(h->nover, 0); /* the field at its top, no more */
	mv_host_frame_get(h, a);
	assert_int_equal(h->nover, 1);
	assert_int_equal(mv_host_frame_refs(h, a), MV_FRAME_REFS + 1ull);
	assert_int_equal(mv_host_frame_refs_over(h, a), 1);
	assert_int_equal(mv_host_frame_flags(h, a), MV_FRAME_SHARED);
	assert_int_equal(mv_host_frame_refs(h, b), 1);
	assert_int_equal(mv_host_frame_flags(h, b), 0);
	assert_int_equal(h->shared_refs, MV_FRAME_REFS + 1ull);
	assert_int_equal(mv_host_check(h, NULL), 0);
	for (uint64_t r = 0; r < MV_FRAME_REFS; r++)
		mv_host_frame_put(h, a);
	assert_int_equal(h->nover, 0);
	assert_int_equal(mv_host_frame_refs(h, a), 1);
	assert_true(mv_host_frame_flags(h, a) & MV_FRAME_SHARED);
	mv_host_frame_put(h, a);
	assert_false(mv_host_frame_in_use(h, a));
	assert_int_equal(h->shared_refs, 0);
	assert_int_equal(mv_host_frame_refs(h, b), 1);
	mv_host_frame_put(h, b);
	assert_int_equal(h->nfree, h->nframes - 1);
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_destroy(h);
}

/*
 * The share of blocks that repeat an earlier block of their page is the
 * class's c (os 0.55, app 0.45, data param/64), and no block of a random
 * page repeats: a coin cut at the wrong bits, or copies from the wrong
 * blocks, moves every page's LZ4 size.
 */
static void test_generated_pages_repeat_blocks_at_their_rate(void **state)
{
	(void)state;
	static const struct {
		enum mv_desc_class c;
		unsigned param;
		double want;
	} kind[] = {{MV_DESC_APP, 0, 0.45},
		    {MV_DESC_DATA, 16, 0.25},
		    {MV_DESC_DATA, 48, 0.75},
		    {MV_DESC_RANDOM, 0, 0}};
	uint8_t p[MV_PAGE_SIZE];
	for (size_t k = 0; k < sizeof kind / sizeof kind[0]; k++) {
		int repeats = 0, blocks = 0;
		for (uint64_t key = 1; key <= 400; key++) {
			mv_content_fill(
				p, mv_desc_make(kind[k].c, kind[k].param, key));
			for (size_t b = 1; b < MV_PAGE_SIZE / 64; b++, blocks++)
				for (size_t a = 0; a < b; a++)
					if (!memcmp(p + a * 64, p + b * 64,
						    64)) {
						repeats++;
						break;
					}
		}
		double got = (double)repeats / blocks;
		assert_true(got > kind[k].want - 0.02 &&
			    got < kind[k].want + 0.02);
	}
}

/*
 * A count past the 20 bits of the frame word goes on in the overflow
 * table and comes back exactly: the flags beside it never change, the
 * sharing gauges follow, and the frame is freed only at zero. The field
 * is set just below its top by hand here; the next test takes it there
 * by real references.
 */
static void test_refcount_past_20_bits_overflows_exactly(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	mv_mpn_t a = mv_host_frame_alloc(h, 0);
	mv_mpn_t b = mv_host_frame_alloc(h, 0);
	uint64_t top = MV_FRAME_REFS;
	mv_frame_word_set(h, a,
			  (mv_frame_word(h, a) & ~MV_FRAME_REFS) |
				  (MV_FRAME_REFS - 1));
	mv_host_frame_set_shared(h, a, 1);
	assert_int_equal(h->shared_refs, top - 1);
	for (int i = 0; i < 3; i++)
		mv_host_frame_get(h, a);
	mv_host_frame_get(h, b); /* its neighbour is untouched */
	assert_int_equal(mv_host_frame_refs(h, a), top + 2);
	assert_int_equal(mv_host_frame_refs(h, b), 2);
	assert_int_equal(h->nover, 1);
	assert_true(mv_host_frame_flags(h, a) & MV_FRAME_SHARED);
	assert_int_equal(h->shared_refs, top + 2);
	assert_int_equal(mv_host_check(h, NULL), 0);
	struct mv_books bk = {0};
	mv_host_books(h, &bk);
	assert_int_equal(
		mv_books_find(&bk, "hypervisor", "host.refs-over")->count,
		h->cap_over);
	for (int i = 0; i < 3; i++)
		mv_host_frame_put(h, a);
	assert_int_equal(mv_host_frame_refs(h, a), top - 1);
	assert_int_equal(h->nover, 0);
	assert_true(mv_host_frame_flags(h, a) & MV_FRAME_SHARED);
	assert_int_equal(h->shared_refs, top - 1);
	assert_int_equal(mv_host_check(h, NULL), 0);
	/* an overflow count without a full field is caught */
	mv_host_frame_get(h, a);
	mv_host_frame_get(h, a);
	mv_frame_word_set(h, a, mv_frame_word(h, a) - 1);
	assert_int_equal(mv_host_check(h, NULL), MV_EINVAL);
	mv_frame_word_set(h, a, mv_frame_word(h, a) + 1);
	mv_host_frame_put(h, a);
	/* back down to one, then free */
	mv_host_frame_set_shared(h, a, 0);
	mv_frame_word_set(h, a, (mv_frame_word(h, a) & ~MV_FRAME_REFS) | 1);
	mv_host_frame_put(h, a);
	assert_int_equal(mv_host_frame_refs(h, a), 0);
	mv_host_frame_put(h, b);
	mv_host_frame_put(h, b);
	assert_int_equal(h->shared_frames, 0);
	assert_int_equal(h->shared_refs, 0);
	assert_int_equal(mv_host_check(h, NULL), 0);
	mv_host_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_host_has_every_frame_free),
		cmocka_unit_test(
			test_generated_pages_are_the_bytes_of_the_reference),
		cmocka_unit_test(
			test_generated_pages_repeat_blocks_at_their_rate),
		cmocka_unit_test(
			test_alloc_and_put_keep_counts_and_recycle_lifo),
		cmocka_unit_test(test_full_host_returns_none),
		cmocka_unit_test(test_numa_prefers_home_node_then_falls_back),
		cmocka_unit_test(test_frames_hold_real_bytes),
		cmocka_unit_test(test_impossible_host_sizes_are_errors),
		cmocka_unit_test(test_check_catches_a_corrupted_free_list),
		cmocka_unit_test(test_refcount_past_20_bits_overflows_exactly),
		cmocka_unit_test(test_frame_words_at_their_limits),
		cmocka_unit_test(
			test_a_descriptor_frame_is_materialised_never_stored),
		cmocka_unit_test(
			test_a_written_descriptor_is_a_new_version_of_its_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
