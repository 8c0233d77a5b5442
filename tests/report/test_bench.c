/*
 * test_bench.c - bench/bench.h, the benchmarks' comparison with a
 * reference: rounds alternate ours, reference, ours, ...; the ratio is
 * the median of the rounds' own ratios with its lowest and highest, so a
 * machine load that changes between rounds, which swung the old
 * figure-against-figure ratios, leaves the comparison where it is.
 */
#include <stdio.h>
#include <string.h>

#include "../bench/bench.h"
#include "support/mvtest.h"

struct trace {
	char order[2 * MV_BENCH_MAX_ROUNDS + 1];
	int n;
};

static void ours(void *ctx, int k)
{
	struct trace *t = ctx;
	t->order[t->n++] = (char)('a' + k);
}

static void ref(void *ctx, int k)
{
	struct trace *t = ctx;
	t->order[t->n++] = (char)('A' + k);
}

static void test_rounds_alternate_ours_then_reference(void **state)
{
	(void)state;
	struct trace t = {0};
	mv_bench_alternate(MV_BENCH_ROUNDS, ours, ref, &t);
	assert_int_equal(MV_BENCH_ROUNDS, 7);
	assert_string_equal(t.order, "aAbBcCdDeEfFgG");
}

static void test_ratio_is_the_median_of_the_rounds_with_its_spread(void **state)
{
	(void)state;
	/* ours/ref per round: 1.0 2.0 0.5 1.5 1.2 -> median 1.2 */
	const double o[] = {10, 40, 5, 30, 12}, r[] = {10, 20, 10, 20, 10};
	struct mv_bench_ratio q = mv_bench_compare(o, r, 5);
	assert_int_equal(q.n, 5);
	assert_true(q.ratio > 1.19 && q.ratio < 1.21);
	assert_true(q.lo > 0.49 && q.lo < 0.51);
	assert_true(q.hi > 1.99 && q.hi < 2.01);
	assert_true(q.ours > 11.9 && q.ours < 12.1); /* median of ours */
	assert_true(q.ref > 9.9 && q.ref < 10.1);
	/* the inputs are left in round order */
	assert_true(o[1] == 40 && r[1] == 20);
}

/*
 * A load that halves the machine's speed in some rounds: each round's
 * pair shares it, so every round's ratio is the true one (0.9), where
 * ours' best against the reference's best of different moments is not.
 */
static void test_a_load_between_rounds_does_not_move_the_ratio(void **state)
{
	(void)state;
	const double speed[] = {1, 0.5, 1, 0.45, 0.9, 0.5, 1};
	double o[7], r[7];
	for (int k = 0; k < 7; k++) {
		o[k] = 900 * speed[k];
		r[k] = 1000 * speed[k]; /* same round: same load */
	}
	struct mv_bench_ratio q = mv_bench_compare(o, r, 7);
	assert_true(q.ratio > 0.899 && q.ratio < 0.901);
	assert_true(q.hi - q.lo < 1e-9);
	/* measured at different moments (ours in round 0, the reference in
	 * round 1) the same code would look 1.8 times as fast */
	assert_true(o[0] / r[1] > 1.7);
}

static void test_median_of_odd_and_even_counts(void **state)
{
	(void)state;
	const double a[] = {3, 1, 2};
	const double b[] = {4, 1, 3, 2};
	assert_true(mv_bench_median(a, 3) == 2);
	assert_true(mv_bench_median(b, 4) == 3); /* the upper middle */
	assert_true(mv_bench_median(a, 0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounds_alternate_ours_then_reference),
		cmocka_unit_test(
			test_ratio_is_the_median_of_the_rounds_with_its_spread),
		cmocka_unit_test(
			test_a_load_between_rounds_does_not_move_the_ratio),
		cmocka_unit_test(test_median_of_odd_and_even_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
