/*
 * Tests of the agent's decision (src/agent/decide.c): live figures in,
 * balloon targets and KSM settings out, with no libvirt. Each test builds
 * a host and guests in KiB, as libvirt reports them, and checks one rule:
 * the idle memory tax, reservations, limits, MOM's rate and margin,
 * deflation, shares, ksmtuned's KSM rules.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/decide.h"
#include "support/mvtest.h"

#define GIB_KIB 1048576ull
#define MIB_KIB 1024ull

/* A 1 GiB guest at full size, 40% of it in use, all of it resident. */
static struct mv_agent_guest_in guest(double active)
{
	struct mv_agent_guest_in g = {
		.max_kib = GIB_KIB,
		.current_kib = GIB_KIB,
		.actual_kib = GIB_KIB,
		.balloon = 1,
		.stats = 1,
		.unused_kib = GIB_KIB * 6 / 10,
		.rss_kib = GIB_KIB,
		.shares = 10 * 1024, /* 10 per MiB, ESX's normal */
		.active = active,
	};
	return g;
}

/* A host of total KiB with free_frac of it free. */
static struct mv_agent_host_in host(uint64_t total, double free_frac)
{
	struct mv_agent_host_in h = {
		.total_kib = total,
		.free_kib = (uint64_t)(free_frac * (double)total),
		.ksm_pages_to_scan = 100,
	};
	h.mem_free_kib = h.free_kib;
	h.committed_kib = total - h.free_kib;
	return h;
}

static struct mv_agent_policy policy(void)
{
	struct mv_agent_config c;
	mv_agent_config_default(&c);
	struct mv_agent_policy p;
	mv_agent_policy_init(&p, &c);
	return p;
}

/* The guest as the balloon leaves it: actual moves to the target, what
 * it uses stays, RSS follows actual. */
static void apply(struct mv_agent_guest_in *g,
		  const struct mv_agent_guest_out *o)
{
	uint64_t used = g->actual_kib - g->unused_kib;
	g->actual_kib = o->target_kib;
	g->unused_kib = g->actual_kib > used ? g->actual_kib - used : 0;
	g->rss_kib = g->actual_kib;
}

static void test_idle_tax_balloons_the_idle_guest_first(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[2] = {guest(0.05), guest(0.9)};
	struct mv_agent_host_in h = host(3 * GIB_KIB, 0.03);
	struct mv_agent_guest_out o[2];
	assert_int_equal(mv_agent_decide(&p, &h, 2, g, o, NULL),
			 MV_MEMSTATE_SOFT);
	assert_true(o[0].change);
	assert_true(o[0].target_kib < g[0].actual_kib);
	assert_int_equal(o[0].reason, MV_AGENT_RECLAIM);
	assert_false(o[1].change);
	assert_int_equal(o[1].target_kib, g[1].actual_kib);
	/* the idle one's rho is the lower: it pays the tax */
	assert_true(o[0].rho < o[1].rho);
}

static void test_shares_decide_between_two_busy_guests(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[2] = {guest(0.9), guest(0.9)};
	g[0].shares = 20 * 1024; /* high */
	g[1].shares = 5 * 1024;  /* low */
	struct mv_agent_host_in h = host(3 * GIB_KIB, 0.03);
	struct mv_agent_guest_out o[2];
	mv_agent_decide(&p, &h, 2, g, o, NULL);
	assert_false(o[0].change);
	assert_true(o[1].change);
	assert_true(o[1].target_kib < g[1].actual_kib);
	/* swapped shares: the other one gives */
	g[0].shares = 5 * 1024;
	g[1].shares = 20 * 1024;
	p = policy();
	mv_agent_decide(&p, &h, 2, g, o, NULL);
	assert_true(o[0].change);
	assert_false(o[1].change);
}

static void test_balloon_moves_at_most_5_percent_per_interval(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[1] = {guest(0.0)};
	g[0].unused_kib = GIB_KIB * 95 / 100;
	struct mv_agent_host_in h = host(GIB_KIB + GIB_KIB / 100, 0.0);
	struct mv_agent_guest_out o[1];
	for (int i = 0; i < 5; i++) {
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		assert_true(o[0].change);
		/* the policy wants far more than one step */
		assert_true(o[0].plan_kib + GIB_KIB / 20 < g[0].actual_kib);
		assert_int_equal(g[0].actual_kib - o[0].target_kib,
				 (uint64_t)(0.05 * (double)GIB_KIB));
		apply(&g[0], &o[0]);
	}
	/* and deflating too */
	h = host(4 * GIB_KIB, 0.9);
	uint64_t before = g[0].actual_kib;
	mv_agent_decide(&p, &h, 1, g, o, NULL);
	assert_int_equal(o[0].reason, MV_AGENT_DEFLATE);
	assert_int_equal(o[0].target_kib - before,
			 (uint64_t)(0.05 * (double)GIB_KIB));
}

static void test_guest_keeps_its_use_plus_a_20_percent_margin(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[1] = {guest(0.0)};
	g[0].unused_kib = GIB_KIB * 3 / 10; /* uses 70% */
	uint64_t used = g[0].actual_kib - g[0].unused_kib;
	struct mv_agent_host_in h = host(GIB_KIB + GIB_KIB / 100, 0.0);
	struct mv_agent_guest_out o[1];
	for (int i = 0; i < 40; i++) {
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		/* use + 20% of actual, recomputed as actual falls */
		assert_true(o[0].target_kib >=
			    used + (uint64_t)(0.2 * (double)g[0].actual_kib));
		apply(&g[0], &o[0]);
	}
	/* it settled where use is 80% of what it has, not below */
	assert_true(g[0].actual_kib * 8 / 10 <= used + 1);
	assert_true(g[0].actual_kib * 8 / 10 + 0.05 * GIB_KIB >= used);
	assert_int_equal(o[0].reason, MV_AGENT_FLOOR);
	assert_false(o[0].change);
	/* a guest already using more than that is not inflated at all */
	g[0] = guest(0.0);
	g[0].unused_kib = GIB_KIB / 20;
	mv_agent_decide(&p, &h, 1, g, o, NULL);
	assert_false(o[0].change);
	assert_int_equal(o[0].reason, MV_AGENT_FLOOR);
}

/*
 * The floor's use is of one statistics report: available + outside -
 * unused (mv_agent_use_kib, as `record` writes it), not actual - unused,
 * whose actual is read at the call while unused can be a stats period
 * old. The rows are the busy guest of an earlier examples/agent-run (26560;
 * KiB) while its balloon went 512 -> 399 MiB: its use stayed at 321 MiB, actual
 * - unused swung 22 MiB below it.
 */
static void test_floor_takes_use_from_one_stats_report(void **state)
{
	(void)state;
	static const uint64_t actual[] = {524288, 524288, 512528,
					  488328, 462116, 435904,
					  409692, 408724, 408724};
	static const uint64_t avail[] = {481296, 481296, 479248, 465440, 442264,
					 414004, 368336, 365732, 365732};
	static const uint64_t unused[] = {194756, 194756, 193764,
					  180000, 155820, 128540,
					  82908,  79312,  79312};
	size_t n = sizeof actual / sizeof actual[0];
	uint64_t outside = mv_agent_outside_kib(actual, avail, n);
	assert_int_equal(outside, 42992);
	struct mv_agent_policy p = policy();
	struct mv_agent_host_in h = host(4 * GIB_KIB, 0.5);
	struct mv_agent_guest_out o[1];
	for (size_t i = 0; i < n; i++) {
		struct mv_agent_guest_in g[1] = {guest(0.5)};
		g[0].max_kib = g[0].current_kib = 524288;
		g[0].actual_kib = actual[i];
		g[0].available_kib = avail[i];
		g[0].unused_kib = unused[i];
		g[0].outside_kib = outside;
		g[0].rss_kib = 470892;
		g[0].shares = 5120;
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		uint64_t use = avail[i] + outside - unused[i];
		assert_int_equal(use,
				 mv_agent_use_kib(524288, actual[i], avail[i],
						  unused[i], outside));
		assert_in_range(use, 328000, 330000); /* flat */
		assert_int_equal(o[0].floor_kib,
				 use + (uint64_t)(0.2 * (double)actual[i]));
		/* without available, actual - unused: 22 MiB low here */
		g[0].available_kib = 0;
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		assert_int_equal(o[0].floor_kib,
				 actual[i] - unused[i] +
					 (uint64_t)(0.2 * (double)actual[i]));
	}
	assert_int_equal(actual[5] - unused[5], 307364);
}

static void test_reservation_is_never_crossed(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[2] = {guest(0.0), guest(0.0)};
	g[0].unused_kib = g[1].unused_kib = GIB_KIB * 95 / 100;
	g[0].reservation_kib = 900 * MIB_KIB;
	struct mv_agent_host_in h = host(2 * GIB_KIB + GIB_KIB / 50, 0.0);
	struct mv_agent_guest_out o[2];
	int held = 0;
	for (int i = 0; i < 40; i++) {
		mv_agent_decide(&p, &h, 2, g, o, NULL);
		assert_true(o[0].target_kib >= g[0].reservation_kib);
		held |= o[0].reason == MV_AGENT_RESERVATION;
		apply(&g[0], &o[0]);
		apply(&g[1], &o[1]);
	}
	assert_true(held);
	assert_int_equal(g[0].actual_kib, 900 * MIB_KIB);
	/* the other one gave down to its margin */
	assert_true(g[1].actual_kib < 200 * MIB_KIB);
	/* a guest found below its reservation is given memory back */
	g[0].actual_kib = 800 * MIB_KIB;
	g[0].unused_kib = 700 * MIB_KIB;
	mv_agent_decide(&p, &h, 2, g, o, NULL);
	assert_true(o[0].target_kib > g[0].actual_kib);
}

static void test_limit_is_enforced_without_pressure(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[1] = {guest(0.9)};
	g[0].limit_kib = 512 * MIB_KIB;
	struct mv_agent_host_in h = host(8 * GIB_KIB, 0.8);
	struct mv_agent_guest_out o[1];
	mv_agent_decide(&p, &h, 1, g, o, NULL);
	assert_int_equal(mv_memstate_update(&p.memstate, 0.8),
			 MV_MEMSTATE_HIGH);
	assert_true(o[0].change);
	assert_int_equal(o[0].reason, MV_AGENT_LIMIT);
	for (int i = 0; i < 40; i++) {
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		apply(&g[0], &o[0]);
	}
	assert_int_equal(g[0].actual_kib, 512 * MIB_KIB);
	/* and it never deflates above it */
	mv_agent_decide(&p, &h, 1, g, o, NULL);
	assert_false(o[0].change);
}

static void test_balloons_deflate_when_pressure_is_gone(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[1] = {guest(0.5)};
	g[0].actual_kib = GIB_KIB / 2;
	g[0].unused_kib = GIB_KIB / 10;
	g[0].rss_kib = GIB_KIB / 2;
	struct mv_agent_host_in h = host(4 * GIB_KIB, 0.6);
	struct mv_agent_guest_out o[1];
	for (int i = 0; i < 40; i++) {
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		if (g[0].actual_kib < GIB_KIB)
			assert_int_equal(o[0].reason, MV_AGENT_DEFLATE);
		apply(&g[0], &o[0]);
	}
	/* back to its currentMemory, never above */
	assert_int_equal(g[0].actual_kib, GIB_KIB);
	/* one whose administrator set 768 MiB stops there */
	g[0].current_kib = 768 * MIB_KIB;
	g[0].actual_kib = g[0].rss_kib = GIB_KIB / 2;
	g[0].unused_kib = GIB_KIB / 10;
	for (int i = 0; i < 40; i++) {
		mv_agent_decide(&p, &h, 1, g, o, NULL);
		apply(&g[0], &o[0]);
	}
	assert_int_equal(g[0].actual_kib, 768 * MIB_KIB);
}

static void test_guests_without_balloon_or_stats_are_left_alone(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[2] = {guest(0.0), guest(0.0)};
	g[0].balloon = 0;
	g[1].stats = 0;
	struct mv_agent_host_in h = host(2 * GIB_KIB, 0.0);
	struct mv_agent_guest_out o[2];
	mv_agent_decide(&p, &h, 2, g, o, NULL);
	assert_false(o[0].change);
	assert_false(o[1].change);
	assert_int_equal(o[0].reason, MV_AGENT_NO_BALLOON);
	assert_int_equal(o[1].reason, MV_AGENT_NO_STATS);
	assert_string_equal(mv_agent_reason_name(o[1].reason), "no-stats");
}

static void test_free_memory_states_keep_their_hysteresis(void **state)
{
	(void)state;
	struct mv_agent_policy p = policy();
	struct mv_agent_guest_in g[1] = {guest(0.5)};
	struct mv_agent_guest_out o[1];
	struct mv_agent_host_in h = host(4 * GIB_KIB, 0.035);
	assert_int_equal(mv_agent_decide(&p, &h, 1, g, o, NULL),
			 MV_MEMSTATE_SOFT);
	/* above soft's line, below high + margin: still soft */
	h = host(4 * GIB_KIB, 0.065);
	assert_int_equal(mv_agent_decide(&p, &h, 1, g, o, NULL),
			 MV_MEMSTATE_SOFT);
	h = host(4 * GIB_KIB, 0.08);
	assert_int_equal(mv_agent_decide(&p, &h, 1, g, o, NULL),
			 MV_MEMSTATE_HIGH);
}

static void test_ksm_follows_ksmtuned(void **state)
{
	(void)state;
	struct mv_agent_ksm_out k;
	/* 16 GiB host, guests committed far below total - 20%: stopped */
	struct mv_agent_host_in h = {.total_kib = 16 * GIB_KIB,
				     .committed_kib = 4 * GIB_KIB,
				     .mem_free_kib = 12 * GIB_KIB,
				     .ksm_pages_to_scan = 100};
	mv_agent_ksmtuned(&h, &k);
	assert_int_equal(k.run, 0);
	assert_int_equal(k.sleep_millisecs, 10);
	/* committed above total - thres, free below 20%: boost by 300 */
	h.committed_kib = 14 * GIB_KIB;
	h.mem_free_kib = 3 * GIB_KIB;
	mv_agent_ksmtuned(&h, &k);
	assert_int_equal(k.run, 1);
	assert_int_equal(k.pages_to_scan, 400);
	/* up to 1250 at most */
	h.ksm_pages_to_scan = 1100;
	mv_agent_ksmtuned(&h, &k);
	assert_int_equal(k.pages_to_scan, 1250);
	/* free above 20%: decay by 50, down to 64 at least */
	h.mem_free_kib = 4 * GIB_KIB;
	h.ksm_pages_to_scan = 400;
	mv_agent_ksmtuned(&h, &k);
	assert_int_equal(k.run, 1);
	assert_int_equal(k.pages_to_scan, 350);
	h.ksm_pages_to_scan = 100;
	mv_agent_ksmtuned(&h, &k);
	assert_int_equal(k.pages_to_scan, 64);
	/* a smaller host sleeps longer: 10 ms x 16 GiB / 4 GiB */
	h.total_kib = 4 * GIB_KIB;
	mv_agent_ksmtuned(&h, &k);
	assert_int_equal(k.sleep_millisecs, 40);
	/* mv_agent_decide applies it only when told to tune KSM */
	struct mv_agent_config c;
	mv_agent_config_default(&c);
	c.ksm = 0;
	struct mv_agent_policy p;
	mv_agent_policy_init(&p, &c);
	struct mv_agent_guest_in g[1] = {guest(0.5)};
	struct mv_agent_guest_out o[1];
	k.run = 7;
	mv_agent_decide(&p, &h, 1, g, o, &k);
	assert_int_equal(k.run, 7);
}

static void test_stats_used_leaves_out_the_kernels_reservations(void **state)
{
	(void)state;
	/* the idle guest of an earlier examples/agent-run (26560) at its first
	 * samples and at 38 s: MemTotal less MemAvailable of one report, 28764
	 * and 27640 KiB; actual - usable read 71756, 45544 (actual already
	 * moved, the report not) and 70632: its 42992 KiB outside MemTotal, and
	 * a swing with the balloon */
	assert_int_equal(mv_agent_stats_used_kib(524288, 481296, 452532),
			 28764);
	assert_int_equal(mv_agent_stats_used_kib(498076, 481296, 452532),
			 28764);
	assert_int_equal(mv_agent_stats_used_kib(249124, 206132, 178492),
			 27640);
	/* no available: actual less spare; never negative */
	assert_int_equal(mv_agent_stats_used_kib(524288, 0, 452532), 71756);
	assert_int_equal(mv_agent_stats_used_kib(1000, 0, 2000), 0);
	assert_int_equal(mv_agent_stats_used_kib(1000, 500, 2000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_tax_balloons_the_idle_guest_first),
		cmocka_unit_test(test_shares_decide_between_two_busy_guests),
		cmocka_unit_test(
			test_balloon_moves_at_most_5_percent_per_interval),
		cmocka_unit_test(
			test_guest_keeps_its_use_plus_a_20_percent_margin),
		cmocka_unit_test(test_floor_takes_use_from_one_stats_report),
		cmocka_unit_test(test_reservation_is_never_crossed),
		cmocka_unit_test(test_limit_is_enforced_without_pressure),
		cmocka_unit_test(test_balloons_deflate_when_pressure_is_gone),
		cmocka_unit_test(
			test_guests_without_balloon_or_stats_are_left_alone),
		cmocka_unit_test(test_free_memory_states_keep_their_hysteresis),
		cmocka_unit_test(test_ksm_follows_ksmtuned),
		cmocka_unit_test(
			test_stats_used_leaves_out_the_kernels_reservations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
