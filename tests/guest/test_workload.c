/*
 * Tests of the workloads (src/guest/workload.c) on their own: the scatter
 * of ranks over a working set, and what a step asks of its guest, seen
 * through a recording struct gwork_ops instead of a guest kernel.
 */
#include <stdlib.h>
#include <string.h>

#include "guest/workload.h"
#include "support/mvtest.h"

/* Every page of a set of n pages is the scatter of exactly one rank. */
static void assert_scatter_is_bijection(uint64_t n, uint64_t seed)
{
	struct gwork w = {.ws = n, .perm = gwork_coprime_mult(n, seed)};
	if (mv_gcd(w.perm, n) != 1)
		fail_msg("n=%llu seed=%llu: multiplier %llu shares %llu with n",
			 (unsigned long long)n, (unsigned long long)seed,
			 (unsigned long long)w.perm,
			 (unsigned long long)mv_gcd(w.perm, n));
	uint8_t *hit = calloc(n, 1);
	assert_non_null(hit);
	for (uint64_t r = 0; r < n; r++) {
		uint64_t v = gwork_scatter(&w, r);
		assert_true(v < n);
		if (hit[v])
			fail_msg("n=%llu seed=%llu: page %llu reached twice",
				 (unsigned long long)n,
				 (unsigned long long)seed,
				 (unsigned long long)v);
		hit[v] = 1;
	}
	free(hit);
}

static void test_scatter_is_a_bijection_for_every_set_size(void **state)
{
	(void)state;
	/* multiples of 3, 23, 587 and 40503 = 3 x 23 x 587 (the candidate
	 * that is not a prime), 150 MiB (38400 pages, examples/sweep.xml's
	 * php-fpm) and 96 MiB (examples/trace.xml), powers of 2, primes
	 * (some of them candidates themselves), 1 and 2 */
	static const uint64_t sizes[] = {
		1,        2,
		3,        4,
		5,        6,
		7,        8,
		9,        12,
		23,       46,
		69,       587,
		1174,     1200,
		1761,     13501,
		40503,    81006,
		121509,   38400,
		24576,    51200,
		76800,    1024,
		4096,     65536,
		131072,   1u << 20,
		7919,     15838,
		23757,    104729,
		209458,   1000003,
		15485863, 2 * 3 * 5 * 7 * 11 * 13 * 17};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (uint64_t seed = 0; seed < (sizes[i] < 200000 ? 16 : 5);
		     seed++)
			assert_scatter_is_bijection(sizes[i], seed);
	/* and every size up to 3000 */
	for (uint64_t n = 1; n <= 3000; n++)
		for (uint64_t seed = 0; seed < 5; seed++)
			assert_scatter_is_bijection(n, seed);
}

static void
test_multiplier_is_deterministic_and_varies_with_the_seed(void **state)
{
	(void)state;
	uint64_t n = 38400;
	int differ = 0;
	for (uint64_t seed = 0; seed < 5; seed++) {
		assert_int_equal(gwork_coprime_mult(n, seed),
				 gwork_coprime_mult(n, seed));
		differ += gwork_coprime_mult(n, seed) !=
			  gwork_coprime_mult(n, seed + 1);
	}
	assert_true(differ >= 3);
	/* a set the old test already scattered keeps its multiplier */
	assert_int_equal(gwork_coprime_mult(65536, 1), 40503);
}

/* A guest that records what a workload asks of it. */
struct rec {
	uint8_t *touched; /* per vpn */
	uint64_t touches, releases, waits, wait_ns;
	uint64_t fail_after; /* touches that succeed, then all fail */
};

static int rec_touch(void *ctx, struct gwork *w, uint64_t vpn, int write,
		     int fetch)
{
	(void)w;
	(void)write;
	(void)fetch;
	struct rec *r = ctx;
	if (r->touches >= r->fail_after)
		return MV_EAGAIN;
	r->touches++;
	r->touched[vpn] = 1;
	return 0;
}

static int rec_release(void *ctx, struct gwork *w, uint64_t vpn)
{
	(void)w;
	struct rec *r = ctx;
	r->touched[vpn] = 0;
	r->releases++;
	return 0;
}

static void rec_wait(void *ctx, uint64_t ns)
{
	struct rec *r = ctx;
	r->waits++;
	r->wait_ns += ns;
}

static const struct gwork_ops rec_ops = {rec_touch, rec_release, rec_wait};

static uint64_t count_touched(const struct rec *r, uint64_t n)
{
	uint64_t k = 0;
	for (uint64_t v = 0; v < n; v++)
		k += r->touched[v];
	return k;
}

/* Set up workload i from c in a guest of 65536 pages. */
static void work_up(struct gwork *w, int i, const struct mv_workload_config *c,
		    struct rec *r, uint64_t *nv)
{
	memset(w, 0, sizeof *w);
	assert_int_equal(gwork_init(w, i, c, 65536, 0, 99, nv), 0);
	memset(r, 0, sizeof *r);
	r->touched = calloc(*nv, 1);
	assert_non_null(r->touched);
	r->fail_after = UINT64_MAX;
}

static void test_steady_sets_of_every_shape_are_touched_whole(void **state)
{
	(void)state;
	/* 1200 pages at index 1 got 40503 mod 1200 = 903 = 3 x 301 before
	 * the fix, and touched 400 pages; index 0..4 tries each candidate */
	static const uint64_t pages[] = {1200, 38400 / 8, 1761,
					 552,  1587,      4096};
	for (int i = 0; i < 6; i++) {
		for (int zipf = 0; zipf < 2; zipf++) {
			struct mv_workload_config c;
			mv_workload_config_default(&c);
			c.size_bytes = pages[i] * MV_PAGE_SIZE;
			c.dist = zipf ? MV_DIST_ZIPF : MV_DIST_UNIFORM;
			c.rate = zipf ? 4e6 : 1e5;
			struct gwork w;
			struct rec r;
			uint64_t nv;
			work_up(&w, i, &c, &r, &nv);
			assert_int_equal(nv, pages[i]);
			gwork_step(&w, 0, 1.0, 1.0, &rec_ops, &r);
			assert_int_equal(r.touches, (uint64_t)c.rate);
			assert_int_equal(w.done, (uint64_t)c.rate);
			if (count_touched(&r, nv) != pages[i])
				fail_msg("workload %d (%s) of %llu pages "
					 "touched "
					 "%llu",
					 i, zipf ? "zipf" : "uniform",
					 (unsigned long long)pages[i],
					 (unsigned long long)count_touched(&r,
									   nv));
			free(r.touched);
		}
	}
}

static void test_blocked_step_waits_out_the_rest_and_trace_retries(void **state)
{
	(void)state;
	struct mv_access_trace t = {0};
	uint32_t rec[4] = {0 << 2 | MV_TR_LOAD, 1 << 2 | MV_TR_STORE,
			   2 << 2 | MV_TR_INSTR, 1 << 2 | MV_TR_MODIFY};
	uint64_t pg[3] = {0x400, 0x401, 0x7ff0};
	t.rec = rec;
	t.nrec = 4;
	t.page = pg;
	t.npages = 3;
	struct mv_workload_config c;
	mv_workload_config_default(&c);
	c.kind = MV_WL_TRACE;
	c.trace = &t;
	c.rate = 1000;
	struct gwork w;
	struct rec r;
	uint64_t nv;
	work_up(&w, 0, &c, &r, &nv);
	assert_int_equal(nv, 3);
	assert_int_equal(gwork_gva(&w, 2), 0x7ff0ull << 12);
	r.fail_after = 6; /* of 10 accesses owed in 10 ms */
	gwork_step(&w, 0, 0.010, 1.0, &rec_ops, &r);
	assert_int_equal(w.done, 6);
	assert_int_equal(w.demanded, 10);
	assert_int_equal(r.waits, 1);
	/* 4 accesses left at 1000/s */
	assert_true(r.wait_ns + 1 >= 4 * MV_NS_PER_MS &&
		    r.wait_ns <= 4 * MV_NS_PER_MS);
	/* the access that failed (record 6 % 4 = 2) is made first next time */
	assert_int_equal(w.tpos, 2);
	r.fail_after = UINT64_MAX;
	gwork_step(&w, 10 * MV_NS_PER_MS, 0.010, 1.0, &rec_ops, &r);
	assert_int_equal(w.done, 16);
	assert_int_equal(count_touched(&r, nv), 3);
	free(r.touched);
}

static void test_phased_set_releases_what_it_leaves_behind(void **state)
{
	(void)state;
	struct mv_workload_config c;
	mv_workload_config_default(&c);
	c.kind = MV_WL_PHASED;
	c.size_bytes = 100 * MV_PAGE_SIZE;
	c.region_bytes = 400 * MV_PAGE_SIZE;
	c.phase_ns = MV_NS_PER_S;
	c.rate = 1e5;
	struct gwork w;
	struct rec r;
	uint64_t nv;
	work_up(&w, 0, &c, &r, &nv);
	assert_int_equal(nv, 400);
	gwork_step(&w, 0, 0.5, 1.0, &rec_ops, &r);
	for (uint64_t v = 0; v < 400; v++)
		assert_int_equal(r.touched[v], v < 100);
	gwork_step(&w, MV_NS_PER_S, 0.5, 1.0, &rec_ops, &r);
	assert_int_equal(r.releases, 100);
	for (uint64_t v = 0; v < 400; v++)
		assert_int_equal(r.touched[v], v >= 100 && v < 200);
	free(r.touched);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_scatter_is_a_bijection_for_every_set_size),
		cmocka_unit_test(
			test_multiplier_is_deterministic_and_varies_with_the_seed),
		cmocka_unit_test(
			test_steady_sets_of_every_shape_are_touched_whole),
		cmocka_unit_test(
			test_blocked_step_waits_out_the_rest_and_trace_retries),
		cmocka_unit_test(
			test_phased_set_releases_what_it_leaves_behind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
