/*
 * Tests of the policy layer: the three free-memory state models (published
 * thresholds, hysteresis), min-funding revocation with the idle memory
 * tax, and the reclaim plan.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

static const struct mv_thresholds esx41 = {0.06, 0.04, 0.02, 0.01};

static void test_states_follow_esx41_thresholds(void **state)
{
	(void)state;
	struct mv_memstate_machine m;
	mv_memstate_init(&m, MV_MEMSTATE_ESX41, &esx41, 0);
	assert_int_equal(mv_memstate_update(&m, 0.50), MV_MEMSTATE_HIGH);
	assert_int_equal(mv_memstate_update(&m, 0.061), MV_MEMSTATE_HIGH);
	assert_int_equal(mv_memstate_update(&m, 0.039), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 0.019), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.009), MV_MEMSTATE_LOW);
	/* straight from high to low in one update */
	mv_memstate_init(&m, MV_MEMSTATE_ESX41, &esx41, 0);
	assert_int_equal(mv_memstate_update(&m, 0.001), MV_MEMSTATE_LOW);
	assert_string_equal(mv_memstate_name(MV_MEMSTATE_HARD), "hard");
}

static void test_states_do_not_flap_at_a_threshold(void **state)
{
	(void)state;
	struct mv_memstate_machine m;
	mv_memstate_init(&m, MV_MEMSTATE_ESX41, &esx41, 0);
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
	struct mv_policy_host h = {.total = 100000,
				   .free = free,
				   .state = st,
				   .goal = 0.08,
				   .soft = 0.04,
				   .margin = 0.01,
				   .idle_tax = 0.75};
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

static void
test_balloon_is_capped_and_deflates_with_memory_to_spare(void **state)
{
	(void)state;
	struct mv_policy_vm v[1] = {pvm(3000, 0, 1)};
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

/*
 * Pages a balloon gave back that the guest has not touched yet hold no
 * frame, so they show as free memory; the VM they went back to is still
 * entitled to them. Were they counted as free for anyone, the next period
 * would deflate an idle VM's balloon with them: memory just taken from the
 * idle VM handed back to it while the busy VM is still growing into it.
 */
static void test_returned_balloon_pages_stay_with_their_vm(void **state)
{
	(void)state;
	/* idle: 40 000 pages, 5% active, 3000 in its balloon; busy: 50 000,
	 * all active, its balloon just gave 2000 back; 10% free (the goal is
	 * 8%: the 2000 returned pages are the surplus) */
	struct mv_policy_vm v[2] = {pvm(40000, 0, 1), pvm(50000, 0, 1)};
	for (int i = 0; i < 2; i++) {
		v[i].size = v[i].limit = 60000;
		v[i].balloon_max = 39000;
	}
	v[0].active = 0.05;
	v[0].balloon_size = 3000;
	v[1].active = 1.0;
	v[1].balloon_unbacked = 2000;
	struct mv_policy_host h = phost(10000, MV_MEMSTATE_HIGH);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].balloon_target, 3000);
	/* the same free memory without the busy VM's claim goes to the idle
	 * one: its balloon deflates */
	v[1].balloon_unbacked = 0;
	mv_policy_plan(&h, 2, v, a);
	assert_true(a[0].balloon_target < 3000);
}

/* ---- state models ------------------------------------------------------ */

#define MIB(x) ((double)(x) * (double)MV_MIB)

/*
 * vSphere 5's sliding minFree against published figures: F. Denneman
 * ("Mem.MinFreePct sliding scale function", 2011) gives 1597.6 MB for a
 * 96 GB host (the bands sum to 1597.44 MiB; his per-band figures carry
 * rounding); the 128 GB host is quoted at about 1925 MB; J. Griffiths
 * ("Memory management in ESXi 6") lists 72 GB -> 1349.56 MB and 144 GB ->
 * 2086.84 MB on a 899 MB base for the first 28 GB, so the increments
 * above 28 GiB must match exactly.
 */
static void test_vsphere5_min_free_matches_published_figures(void **state)
{
	(void)state;
	double mf96 = mv_memstate_min_free(96 * MV_GIB) / MIB(1);
	double mf128 = mv_memstate_min_free(128 * MV_GIB) / MIB(1);
	assert_true(fabs(mf96 - 1597.6) < 0.25);
	assert_true(fabs(mf128 - 1925.0) < 0.25);
	assert_true(fabs(mv_memstate_min_free(4 * MV_GIB) / MIB(1) - 245.76) <
		    1e-6);
	double mf28 = mv_memstate_min_free(28 * MV_GIB) / MIB(1);
	assert_true(fabs(mf28 - 901.12) < 1e-6);
	assert_true(fabs(mv_memstate_min_free(72 * MV_GIB) / MIB(1) - mf28 -
			 (1349.56 - 899)) < 1e-6);
	assert_true(fabs(mv_memstate_min_free(144 * MV_GIB) / MIB(1) - mf28 -
			 (2086.84 - 899)) < 1e-6);
	/* a small host is all in the first band: 6% */
	assert_true(fabs(mv_memstate_min_free(2 * MV_GIB) / MIB(2048) - 0.06) <
		    1e-12);
}

/* The thresholds table of docs/policy.md, for a 96 GiB host, in MiB. */
static void test_thresholds_table_for_a_96_gib_host(void **state)
{
	(void)state;
	const uint64_t host = 96 * MV_GIB;
	const double mib = (double)host / MIB(1);
	double l[MV_MEMSTATE_COUNT];
	struct {
		enum mv_memstate_model m;
		double high, clear, soft, hard, low;
	} want[] = {
		{MV_MEMSTATE_ESX41, 5898.24, 0, 3932.16, 1966.08, 983.04},
		{MV_MEMSTATE_VSPHERE5, 1597.44, 0, 1022.36, 511.18, 255.59},
		{MV_MEMSTATE_VSPHERE6, 6389.76, 1597.44, 1022.36, 511.18,
		 255.59},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		mv_memstate_lines(want[i].m, &esx41, host, l);
		assert_true(fabs(l[MV_MEMSTATE_HIGH] * mib - want[i].high) <
			    0.01);
		assert_true(fabs(l[MV_MEMSTATE_CLEAR] * mib - want[i].clear) <
			    0.01);
		assert_true(fabs(l[MV_MEMSTATE_SOFT] * mib - want[i].soft) <
			    0.01);
		assert_true(fabs(l[MV_MEMSTATE_HARD] * mib - want[i].hard) <
			    0.01);
		assert_true(fabs(l[MV_MEMSTATE_LOW] * mib - want[i].low) <
			    0.01);
	}
}

static void test_model_names_parse_both_ways(void **state)
{
	(void)state;
	enum mv_memstate_model m;
	for (int i = 0; i < MV_MEMSTATE_MODEL_COUNT; i++) {
		assert_int_equal(mv_memstate_model_parse(
					 mv_memstate_model_name(
						 (enum mv_memstate_model)i),
					 &m),
				 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(mv_memstate_model_parse("esx5", &m), -1);
	assert_string_equal(mv_memstate_name(MV_MEMSTATE_CLEAR), "clear");
}

/* The ESX 4.1 and vSphere 5 models never report clear. */
static void test_four_state_models_skip_clear(void **state)
{
	(void)state;
	struct mv_memstate_machine m;
	mv_memstate_init(&m, MV_MEMSTATE_VSPHERE5, &esx41, 128 * MV_GIB);
	double mf = mv_memstate_min_free(128 * MV_GIB) / (double)(128 * MV_GIB);
	assert_true(fabs(m.margin - mf / 6) < 1e-12);
	assert_int_equal(mv_memstate_update(&m, 0.99 * mf), MV_MEMSTATE_HIGH);
	assert_int_equal(mv_memstate_update(&m, 0.63 * mf), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 0.31 * mf), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.15 * mf), MV_MEMSTATE_LOW);
	/* low -> hard needs 32% + margin; hard -> soft 64% + margin */
	assert_int_equal(mv_memstate_update(&m, 0.33 * mf), MV_MEMSTATE_LOW);
	assert_int_equal(mv_memstate_update(&m, 0.50 * mf), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.70 * mf), MV_MEMSTATE_HARD);
	assert_int_equal(mv_memstate_update(&m, 0.81 * mf), MV_MEMSTATE_SOFT);
	/* soft -> high straight, past minFree + margin */
	assert_int_equal(mv_memstate_update(&m, 1.10 * mf), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 1.17 * mf), MV_MEMSTATE_HIGH);
	/* the reclaim aims one margin further */
	assert_true(fabs(mv_memstate_goal(&m) - (mf + 2 * mf / 6)) < 1e-12);
	mv_memstate_init(&m, MV_MEMSTATE_ESX41, &esx41, 128 * MV_GIB);
	assert_true(fabs(mv_memstate_goal(&m) - 0.08) < 1e-12);
}

/* vSphere 6: clear below 100% of minFree, left only above 400% + margin. */
static void test_vsphere6_enters_clear_before_soft(void **state)
{
	(void)state;
	struct mv_memstate_machine m;
	mv_memstate_init(&m, MV_MEMSTATE_VSPHERE6, &esx41, 128 * MV_GIB);
	double mf = mv_memstate_min_free(128 * MV_GIB) / (double)(128 * MV_GIB);
	/* between 400% and 100% of minFree a host in high stays there */
	assert_int_equal(mv_memstate_update(&m, 2.0 * mf), MV_MEMSTATE_HIGH);
	assert_int_equal(mv_memstate_update(&m, 0.99 * mf), MV_MEMSTATE_CLEAR);
	assert_int_equal(mv_memstate_update(&m, 0.63 * mf), MV_MEMSTATE_SOFT);
	/* soft is left for clear at minFree + margin, not for high */
	assert_int_equal(mv_memstate_update(&m, 1.1 * mf), MV_MEMSTATE_SOFT);
	assert_int_equal(mv_memstate_update(&m, 1.2 * mf), MV_MEMSTATE_CLEAR);
	assert_int_equal(mv_memstate_update(&m, 3.9 * mf), MV_MEMSTATE_CLEAR);
	assert_int_equal(mv_memstate_update(&m, 4.2 * mf), MV_MEMSTATE_HIGH);
	/* the goal is past where soft is left: minFree + 2 margins */
	assert_true(fabs(mv_memstate_goal(&m) - (mf + 2 * mf / 6)) < 1e-12);
	/* clear reclaims nothing */
	struct mv_policy_vm v[1] = {pvm(8000, 0, 1)};
	struct mv_policy_host h = phost(500, MV_MEMSTATE_CLEAR);
	struct mv_policy_action a[1];
	mv_policy_plan(&h, 1, v, a);
	assert_int_equal(a[0].reclaim, 0);
	assert_int_equal(a[0].balloon_target, 0);
}

/* ---- min-funding revocation with the idle memory tax -------------------- */

static void test_rho_follows_waldspurgers_formula(void **state)
{
	(void)state;
	/* k = 4: an idle page costs four active ones */
	assert_true(fabs(mv_policy_rho(1000, 1000, 0.1, 0.75) - 1.0 / 3.7) <
		    1e-12);
	assert_true(fabs(mv_policy_rho(1000, 1000, 0.9, 0.75) - 1.0 / 1.3) <
		    1e-12);
	/* no tax: plain shares per page, whatever f */
	assert_true(fabs(mv_policy_rho(1000, 500, 0.0, 0.0) - 2.0) < 1e-12);
	assert_true(isinf(mv_policy_rho(1000, 0, 0.5, 0.75)));
}

/* Cost in active-page equivalents of P pages with A of them active. */
static double cost(double p, double a, double k)
{
	return p <= a ? p : a + k * (p - a);
}

static void test_idle_vm_gives_first_under_the_tax(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 0, 1)};
	v[0].active = 0.1;
	v[1].active = 0.9;
	struct mv_policy_action a[2];
	/* 4000 wanted (goal 8%, free 4%): all from the idle VM */
	struct mv_policy_host h = phost(4000, MV_MEMSTATE_SOFT);
	mv_policy_plan(&h, 2, v, a);
	assert_true(a[0].rho < a[1].rho);
	assert_int_equal(a[0].reclaim, 4000);
	assert_int_equal(a[1].reclaim, 0);
	/* 8000 wanted: the idle VM gives until the rhos meet (at 3200
	 * pages held), then both give, keeping them equal */
	h = phost(0, MV_MEMSTATE_SOFT);
	mv_policy_plan(&h, 2, v, a);
	assert_true(llabs((long long)(a[0].reclaim + a[1].reclaim) - 8000) <=
		    2);
	assert_true(a[0].reclaim > a[1].reclaim);
	double p0 = 8000.0 - (double)a[0].reclaim,
	       p1 = 8000.0 - (double)a[1].reclaim;
	double c0 = cost(p0, 800, 4), c1 = cost(p1, 7200, 4);
	assert_true(fabs(c0 - c1) / c1 < 0.002); /* equal rho (equal shares) */
	/* tax 0%: pure proportional share, f does not matter */
	h = phost(4000, MV_MEMSTATE_SOFT);
	h.idle_tax = 0;
	mv_policy_plan(&h, 2, v, a);
	assert_true(fabs(a[0].rho - a[1].rho) < 1e-12);
	assert_true(llabs((long long)a[0].reclaim - 2000) <= 1);
	assert_true(llabs((long long)a[1].reclaim - 2000) <= 1);
}

static void test_without_tax_vms_end_at_equal_pages_per_share(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 0), pvm(8000, 0, 0)};
	v[1].shares = 3000;
	struct mv_policy_host h = phost(0, MV_MEMSTATE_HARD);
	h.idle_tax = 0;
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	/* 8000 wanted; 16000 held -> 8000 left at 1:3: 2000 and 6000 */
	assert_true(llabs((long long)a[0].reclaim - 6000) <= 1);
	assert_true(llabs((long long)a[1].reclaim - 2000) <= 1);
	assert_int_equal(a[0].swap_pages, a[0].reclaim);
}

/*
 * Waldspurger: "The tax rate specifies the maximum fraction of idle pages
 * that may be reclaimed from a client." A VM with 2000 active and 8000
 * idle pages against a fully active one with the same shares, on a host
 * where share-based isolation gives each 10000 pages: at the tax rate t
 * the partly idle VM gives exactly t * 8000, the active one nothing.
 */
static void test_tax_rate_is_the_fraction_of_idle_pages_reclaimed(void **state)
{
	(void)state;
	const double taxes[] = {0.25, 0.5, 0.75, 0.9};
	for (size_t i = 0; i < sizeof taxes / sizeof taxes[0]; i++) {
		struct mv_policy_vm v[2] = {pvm(10000, 0, 0), pvm(10000, 0, 0)};
		v[0].active = 0.2;
		v[1].active = 1.0;
		uint64_t take = (uint64_t)(taxes[i] * 8000 + 0.5);
		/* free 0 and the goal at `take` pages: that much is needed */
		struct mv_policy_host h = phost(0, MV_MEMSTATE_HARD);
		h.goal = (double)take / (double)h.total;
		h.idle_tax = taxes[i];
		struct mv_policy_action a[2];
		mv_policy_plan(&h, 2, v, a);
		assert_true(llabs((long long)a[0].reclaim - (long long)take) <=
			    1);
		assert_int_equal(a[1].reclaim, 0);
		/* asked for more than that, the active VM gives too */
		h.goal = (double)(take + 2000) / (double)h.total;
		mv_policy_plan(&h, 2, v, a);
		assert_true(a[1].reclaim > 0);
	}
}

/* A VM with no shares gives first, and all it can above its reservation,
 * before a VM with shares gives anything; without contention it keeps
 * what it holds. */
static void test_a_vm_without_shares_gives_first(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 1000, 0), pvm(8000, 0, 0)};
	v[0].shares = 0;
	struct mv_policy_action a[2];
	struct mv_policy_host h = phost(0, MV_MEMSTATE_HARD);
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].reclaim, 7000);
	assert_int_equal(a[1].reclaim, 1000);
	v[1].shares = 0;
	h = phost(20000, MV_MEMSTATE_HIGH);
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].reclaim + a[1].reclaim, 0);
}

/* Random hosts: min-funding never takes a VM below its reservation, takes
 * what is needed, and leaves every VM that gave at one rho level, with
 * VMs that gave nothing at or above it. */
static void test_revocation_keeps_reservations_and_levels_rho(void **state)
{
	(void)state;
	struct mv_rng rng;
	mv_rng_seed(&rng, 7);
	for (int round = 0; round < 300; round++) {
		int n = 1 + (int)mv_rng_below(&rng, 6);
		struct mv_policy_vm v[6];
		struct mv_policy_action a[6];
		uint64_t avail = 0;
		for (int i = 0; i < n; i++) {
			v[i] = pvm(1000 + mv_rng_below(&rng, 9000), 0, 0);
			v[i].reservation = mv_rng_below(&rng,
							v[i].consumed + 1);
			v[i].shares = mv_rng_below(&rng, 5000);
			v[i].active = (double)mv_rng_below(&rng, 101) / 100.0;
			avail += v[i].consumed - v[i].reservation;
		}
		struct mv_policy_host h = phost(mv_rng_below(&rng, 8000),
						MV_MEMSTATE_HARD);
		h.idle_tax = (double)mv_rng_below(&rng, 100) / 100.0;
		double k = 1.0 / (1.0 - h.idle_tax);
		uint64_t need = 8000 - h.free, sum = 0;
		mv_policy_plan(&h, n, v, a);
		double level = 0; /* cost per share of the VMs that gave */
		for (int i = 0; i < n; i++) {
			assert_true(a[i].reclaim <=
				    v[i].consumed - v[i].reservation);
			sum += a[i].reclaim;
		}
		uint64_t want = need < avail ? need : avail;
		assert_true(llabs((long long)sum - (long long)want) <= n);
		for (int i = 0; i < n; i++) {
			double p = (double)(v[i].consumed - a[i].reclaim);
			double c = cost(p, v[i].active * (double)v[i].consumed,
					k);
			if (a[i].reclaim > 1 &&
			    p > (double)v[i].reservation + 1 &&
			    v[i].shares > 0 && c / (double)v[i].shares > level)
				level = c / (double)v[i].shares;
		}
		for (int i = 0; i < n && need < avail; i++) {
			if (a[i].reclaim > 1 || !v[i].shares)
				continue;
			double c = cost((double)v[i].consumed,
					v[i].active * (double)v[i].consumed, k);
			/* gave nothing: it was at or below the level already */
			assert_true(c / (double)v[i].shares <=
				    level * 1.01 + 1e-3);
		}
	}
}

/*
 * P is the VM's allocation as ESX counts it (Waldspurger 2002, section
 * 6.3: "As a result of sharing, the aggregate allocation to all VMs
 * approaches 1200 MB, exceeding the total amount of machine memory"):
 * its pages on shared frames and on the zero frame count. Two VMs with the
 * same shares, the same machine memory and the same active pages: the one
 * mapping 6000 more pages through page sharing (a guest whose free memory
 * is all zero pages) holds the larger allocation at the lower rho, and
 * gives first. Counting only consumed memory, both would give the same.
 */
static void test_shared_pages_count_in_the_allocation(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 0, 1)};
	v[0].size = v[1].size = v[0].limit = v[1].limit = 20000;
	v[0].balloon_max = v[1].balloon_max = 13000;
	v[0].shared_saved = 6000;
	/* 2000 active pages each: f is of the allocation */
	v[0].active = 2000.0 / 14000.0;
	v[1].active = 2000.0 / 8000.0;
	struct mv_policy_host h = phost(1000, MV_MEMSTATE_SOFT);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	assert_true(a[0].rho < a[1].rho);
	assert_true(fabs(a[0].rho - mv_policy_rho(1000, 14000, 2000.0 / 14000.0,
						  0.75)) < 1e-12);
	assert_true(a[0].reclaim > 0);
	assert_true(a[0].reclaim > a[1].reclaim + 1000);
	/* all of it: free goes from 1000 to the goal (8000) */
	assert_true(llabs((long long)(a[0].reclaim + a[1].reclaim) - 7000) <=
		    2);
}

/*
 * The limit and the reservation stay bounds on machine memory (vSphere:
 * "an upper bound on the amount of physical RAM that the host can
 * allocate", "a guaranteed lower bound on the amount of physical RAM that
 * the host reserves"): shared pages neither push a VM over its limit nor
 * let the plan take it below its reservation in frames.
 */
static void test_limit_and_reservation_bound_consumed_memory(void **state)
{
	(void)state;
	struct mv_policy_vm v[2] = {pvm(8000, 0, 1), pvm(8000, 8000, 1)};
	v[0].shared_saved = 6000; /* 14 000 allocated, 8000 consumed */
	v[0].limit = 9000;
	struct mv_policy_host h = phost(50000, MV_MEMSTATE_HIGH);
	struct mv_policy_action a[2];
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[0].reclaim, 0);
	assert_int_equal(a[0].balloon_target, 0);
	/* VM 1 reserves all it consumes and maps 6000 shared pages on top:
	 * in hard state with nothing free it still gives nothing; VM 0
	 * gives the 8000 missing below the goal, all it consumes */
	v[0].limit = 10000;
	v[1].shared_saved = 6000;
	h = phost(0, MV_MEMSTATE_HARD);
	mv_policy_plan(&h, 2, v, a);
	assert_int_equal(a[1].reclaim, 0);
	assert_int_equal(a[1].swap_pages, 0);
	assert_true(a[0].reclaim >= 7999);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_follow_esx41_thresholds),
		cmocka_unit_test(test_states_do_not_flap_at_a_threshold),
		cmocka_unit_test(test_high_state_takes_nothing),
		cmocka_unit_test(test_soft_state_balloons_only),
		cmocka_unit_test(
			test_hard_state_swaps_what_the_balloon_cannot_deliver),
		cmocka_unit_test(
			test_a_balloon_that_frees_nothing_is_not_counted_on),
		cmocka_unit_test(test_reservation_is_never_reclaimed),
		cmocka_unit_test(test_limit_is_enforced_in_any_state),
		cmocka_unit_test(
			test_balloon_is_capped_and_deflates_with_memory_to_spare),
		cmocka_unit_test(
			test_returned_balloon_pages_stay_with_their_vm),
		cmocka_unit_test(
			test_vsphere5_min_free_matches_published_figures),
		cmocka_unit_test(test_thresholds_table_for_a_96_gib_host),
		cmocka_unit_test(test_model_names_parse_both_ways),
		cmocka_unit_test(test_four_state_models_skip_clear),
		cmocka_unit_test(test_vsphere6_enters_clear_before_soft),
		cmocka_unit_test(test_rho_follows_waldspurgers_formula),
		cmocka_unit_test(test_idle_vm_gives_first_under_the_tax),
		cmocka_unit_test(
			test_without_tax_vms_end_at_equal_pages_per_share),
		cmocka_unit_test(
			test_tax_rate_is_the_fraction_of_idle_pages_reclaimed),
		cmocka_unit_test(test_a_vm_without_shares_gives_first),
		cmocka_unit_test(
			test_revocation_keeps_reservations_and_levels_rho),
		cmocka_unit_test(test_shared_pages_count_in_the_allocation),
		cmocka_unit_test(
			test_limit_and_reservation_bound_consumed_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
