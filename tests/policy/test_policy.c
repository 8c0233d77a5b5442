/* Tests of the policy layer: free-memory states and the reclaim plan. */
#include <string.h>

#include "support/mvtest.h"

static const struct mv_thresholds esx41 = {0.06, 0.04, 0.02, 0.01};

static void test_states_follow_esx41_thresholds(void **state)
{
	(void)state;
	struct mv_memstate_machine m;
	mv_memstate_init(&m, &esx41);
	assert_int_equal(mv_memstate_update(&m, 0.50), MV_MEMSTATE_HIGH);
	assert_int_equal(mv_memstate_update(&m, 0.061), MV_MEMSTATE_HIGH);
	assert_int_equal(mv_memstate_update(&m, 0.039), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 0.019), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.009), MV_MEMSTATE_LOW);
	/* straight from high to low in one update */
	mv_memstate_init(&m, &esx41);
	assert_int_equal(mv_memstate_update(&m, 0.001), MV_MEMSTATE_LOW);
	assert_string_equal(mv_memstate_name(MV_MEMSTATE_HARD), "hard");
}

static void test_states_do_not_flap_at_a_threshold(void **state)
{
	(void)state;
	struct mv_memstate_machine m;
	mv_memstate_init(&m, &esx41);
	assert_int_equal(mv_memstate_update(&m, 0.0399), MV_MEMSTATE_SOFT);
	/* back just above soft's threshold: still soft (margin 1%) */
	assert_int_equal(mv_memstate_update(&m, 0.0401), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 0.0399), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 0.065), MV_MEMSTATE_SOFT);
	/* leaving soft needs high + margin = 7% */
	assert_int_equal(mv_memstate_update(&m, 0.071), MV_MEMSTATE_HIGH);
	/* hard -> soft needs soft + margin = 5% */
	assert_int_equal(mv_memstate_update(&m, 0.015), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.045), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.051), MV_MEMSTATE_SOFT);
}

static struct mv_policy_vm pvm(uint64_t consumed, uint64_t reservation,
			       int balloon)
{
	struct mv_policy_vm v;
	memset(&v, 0, sizeof v);
	v.size = 10000;
	v.consumed = consumed;
	v.reservation = reservation;
	v.limit = 10000;
	v.shares = 1000;
	v.balloon = balloon;
	v.balloon_max = 6500;
	v.balloon_step = 100000;
	v.balloon_yield = 1.0;
	return v;
}

static struct mv_policy_host phost(uint64_t free, enum mv_memstate st)
{
	struct mv_policy_host h = {.total = 100000, .free = free, .state = st,
				   .t = esx41, .margin = 0.01};
	return h;
}

static void test_high_state_takes_nothing(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 0, 0)};
	struct mv_policy_host h = phost(6500, MV_MEMSTATE_HIGH);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(a[i].reclaim, 0);
		assert_int_equal(a[i].swap_pages, 0);
		assert_int_equal(a[i].balloon_target, 0);
		assert_false(a[i].block_alloc);
	}
}

static void test_soft_state_balloons_only(void **state)
{
	(void)state;
	/* free 3%: goal high + 2 margins = 8%: 5000 pages wanted */
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 0, 0)};
	struct mv_policy_host h = phost(3000, MV_MEMSTATE_SOFT);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].reclaim, 2500);
	assert_int_equal(a[0].balloon_target, 2500);
	assert_int_equal(a[0].swap_pages, 0);
	/* no driver: nothing until hard */
	assert_int_equal(a[1].reclaim, 2500);
	assert_int_equal(a[1].swap_pages, 0);
}

static void test_hard_state_swaps_what_the_balloon_cannot_deliver(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 0, 0)};
	v[0].balloon_step = 500; /* the driver moves 500 pages a period */
	struct mv_policy_host h = phost(1000, MV_MEMSTATE_HARD);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	/* goal 8000 free: 7000 wanted, 3500 each */
	assert_int_equal(a[0].balloon_target, 3500);
	assert_int_equal(a[0].swap_pages, 3000);
	assert_int_equal(a[1].swap_pages, 3500);
	assert_false(a[0].block_alloc);
	h.state = MV_MEMSTATE_LOW;
	mv_policy_plan(&h, 2, v, a);
	assert_true(a[0].block_alloc && a[1].block_alloc);
}

/* A balloon that ate never-touched guest pages freed no frames: the policy
 * must not count on it and swaps instead. */
static void test_a_balloon_that_frees_nothing_is_not_counted_on(void **state)
{
	(void)state;
	struct mv_policy_vm v[1] = {pvm(8000, 0, 1)};
	v[0].balloon_step = 500;
	v[0].balloon_yield = 0.2; /* one page in five held a frame */
	struct mv_policy_host h = phost(1000, MV_MEMSTATE_HARD);
	struct mv_policy_action a[1];
	mv_policy_plan(&h, 1, v, a);
	assert_int_equal(a[0].reclaim, 7000);
	assert_int_equal(a[0].balloon_target, 6500); /* 65% cap */
	assert_int_equal(a[0].swap_pages, 7000 - 100);
}

static void test_reservation_is_never_reclaimed(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 8000, 0), pvm(8000, 2000, 0)};
	struct mv_policy_host h = phost(1000, MV_MEMSTATE_HARD);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].reclaim, 0);
	assert_int_equal(a[0].swap_pages, 0);
	assert_int_equal(a[1].reclaim, 6000); /* capped at 8000 - 2000 */
}

static void test_limit_is_enforced_in_any_state(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 0, 0)};
	v[0].limit = 5000;
	v[1].limit = 6000;
	struct mv_policy_host h = phost(50000, MV_MEMSTATE_HIGH);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].balloon_target, 3000);
	assert_int_equal(a[0].swap_pages, 0);
	assert_int_equal(a[1].swap_pages, 2000);
}

static void test_balloon_is_capped_and_deflates_with_memory_to_spare(void **state)
{
	(void)state;
	struct mv_policy_vm v[1] = {pvm(9000, 0, 1)};
	v[0].balloon_size = 6000;
	struct mv_policy_host h = phost(0, MV_MEMSTATE_SOFT);
	struct mv_policy_action a[1];
	mv_policy_plan(&h, 1, v, a);
	assert_int_equal(a[0].balloon_target, 6500); /* 65% cap */
	h = phost(30000, MV_MEMSTATE_HIGH);
	v[0].balloon_min = 1000;
	mv_policy_plan(&h, 1, v, a);
	assert_int_equal(a[0].balloon_target, 1000); /* down to currentMemory */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_follow_esx41_thresholds),
		cmocka_unit_test(test_states_do_not_flap_at_a_threshold),
		cmocka_unit_test(test_high_state_takes_nothing),
		cmocka_unit_test(test_soft_state_balloons_only),
		cmocka_unit_test(test_hard_state_swaps_what_the_balloon_cannot_deliver),
		cmocka_unit_test(test_a_balloon_that_frees_nothing_is_not_counted_on),
		cmocka_unit_test(test_reservation_is_never_reclaimed),
		cmocka_unit_test(test_limit_is_enforced_in_any_state),
		cmocka_unit_test(test_balloon_is_capped_and_deflates_with_memory_to_spare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
