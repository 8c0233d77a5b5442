/* Tests of DRS's decision logic (src/cluster/drs.c, docs/cluster.md
 * section 4): entitlements, the imbalance and its priority, greedy moves
 * that only ever lower the imbalance, the threshold levels, MinGoodness
 * and cost-benefit, admission control, the per-host migration limit,
 * maintenance mode, initial placement, and determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/drs.h"
#include "support/mvtest.h"

#define MAXV 32

struct cl {
	struct mv_drs_host h[8];
	struct mv_drs_vm v[MAXV];
	int nh, nv;
};

static void hosts(struct cl *c, int n, uint64_t cap)
{
	memset(c, 0, sizeof(*c));
	c->nh = n;
	for (int i = 0; i < n; i++)
		c->h[i].capacity = cap;
}

/* A VM of 1000 pages on host h, `active` of them active, `stall` ns of
 * stall over the last interval; no reservation or limit, 1000 shares. */
static struct mv_drs_vm *vm(struct cl *c, int h, uint64_t active,
			    uint64_t stall)
{
	assert_true(c->nv < MAXV);
	struct mv_drs_vm *v = &c->v[c->nv++];
	memset(v, 0, sizeof(*v));
	v->host = h;
	v->configured = 1000;
	v->limit = 1000;
	v->shares = 1000;
	v->active = active;
	v->send_pages = 800;
	v->zero_pages = 200;
	v->write_rate = 1000;
	v->stall_ns = stall;
	return v;
}

static void decide(const struct mv_drs_config *k, const struct cl *c,
		   struct mv_drs_result *r)
{
	struct mv_error err = {0};
	mvt_ok(mv_drs_decide(k, c->h, c->nh, c->v, c->nv, r, &err), &err,
	       "mv_drs_decide");
}

/* Host 0 holds six busy, stalled VMs (load 1.8); hosts 1..3 one each. */
static void overloaded(struct cl *c)
{
	hosts(c, 4, 1000);
	for (int i = 0; i < 6; i++)
		vm(c, 0, 300, MV_NS_PER_S);
	for (int h = 1; h < 4; h++)
		vm(c, h, 300, 0);
}

static void test_priority_and_target_follow_kb_1007485(void **state)
{
	(void)state;
	/* 6 - ceil(I / 0.1 * sqrt(N)): 2 hosts at 0.282 -> ceil(3.99) = 4 */
	assert_int_equal(mv_drs_priority(0.282, 2), 2);
	assert_int_equal(mv_drs_priority(0.05, 4), 5);  /* ceil(1) */
	assert_int_equal(mv_drs_priority(0.051, 4), 4); /* ceil(1.02) */
	assert_int_equal(mv_drs_priority(2.0, 4), 2);   /* never 1 */
	assert_int_equal(mv_drs_priority(0, 4), 6);     /* nothing to do */
	/* the target is where the priority passes the level */
	for (int level = 2; level <= 5; level++) {
		double t = mv_drs_target(level, 9);
		assert_true(fabs(t - 0.1 * (5 - level) / 3) < 1e-12);
		assert_true(mv_drs_priority(t * 1.001 + 1e-9, 9) <= level);
		if (t > 0)
			assert_true(mv_drs_priority(t * 0.999, 9) > level);
	}
	assert_true(isinf(mv_drs_target(1, 9)));
}

static void
test_entitlement_is_demand_bounded_then_divided_by_shares(void **state)
{
	(void)state;
	struct cl c;
	uint64_t e[MAXV];
	/* room for every demand: active + overhead, within its bounds */
	hosts(&c, 1, 5000);
	vm(&c, 0, 300, 0)->overhead = 20;
	vm(&c, 0, 100, 0)->reservation = 400;
	vm(&c, 0, 900, 0)->limit = 500;
	mv_drs_entitlements(c.h, c.nh, c.v, c.nv, e);
	assert_int_equal(e[0], 320);
	assert_int_equal(e[1], 400);
	assert_int_equal(e[2], 500);
	/* contention: 2000 pages wanted of 1000, shares 2:1 */
	hosts(&c, 1, 1000);
	vm(&c, 0, 1000, 0)->shares = 2000;
	vm(&c, 0, 1000, 0)->shares = 1000;
	mv_drs_entitlements(c.h, c.nh, c.v, c.nv, e);
	assert_int_equal(e[0], 666);
	assert_int_equal(e[1], 333);
	/* a reservation is a floor; a VM whose share exceeds its demand is
	 * capped and the others share what it leaves */
	hosts(&c, 1, 1000);
	vm(&c, 0, 1000, 0)->shares = 1;
	c.v[0].reservation = 600;
	vm(&c, 0, 100, 0)->shares = 5000;
	vm(&c, 0, 1000, 0)->shares = 1000;
	mv_drs_entitlements(c.h, c.nh, c.v, c.nv, e);
	assert_int_equal(e[1], 100);
	assert_true(e[0] >= 600);
	assert_true(e[0] + e[1] + e[2] <= 1000);
	assert_true(e[0] + e[1] + e[2] >= 997);
	assert_true(e[2] > e[0] - 600);
}

static void test_migration_cost_follows_the_precopy_rounds(void **state)
{
	(void)state;
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	k.bandwidth = 4104.0 * 1000; /* 1000 full pages per second */
	struct cl c;
	hosts(&c, 1, 1000);
	struct mv_drs_vm *v = vm(&c, 0, 0, 0);
	v->send_pages = 1000;
	v->zero_pages = 0;
	v->write_rate = 0; /* idle: one bulk round, no downtime */
	struct mv_drs_cost m = mv_drs_migration_cost(v, &k);
	assert_int_equal(m.rounds, 1);
	assert_int_equal(m.pages, 1000);
	assert_int_equal(m.total_ns, MV_NS_PER_S);
	assert_int_equal(m.downtime_ns, 0);
	assert_true(m.converged);
	/* half the link's rate: rounds of 500, 250, ... pages until the
	 * rest (<= 300 pages) fits 300 ms */
	v->write_rate = 500;
	m = mv_drs_migration_cost(v, &k);
	assert_int_equal(m.rounds, 2);   /* 1000, then 500 */
	assert_int_equal(m.pages, 1750); /* and 250 stopped */
	assert_int_equal(m.downtime_ns, 250 * MV_NS_PER_MS);
	assert_true(m.converged);
	/* faster than the link: the round limit ends it, past the limit */
	v->write_rate = 2000;
	m = mv_drs_migration_cost(v, &k);
	assert_int_equal(m.rounds, k.max_rounds);
	assert_false(m.converged);
	assert_true(m.downtime_ns > k.downtime_limit_ns);
}

static void test_benefit_is_stall_removed_minus_stall_added(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 2, 1000);
	vm(&c, 0, 700, MV_NS_PER_S); /* host 0: 1400 pages, excess 0.4 */
	vm(&c, 0, 700, MV_NS_PER_S);
	vm(&c, 1, 500, 0); /* host 1: no excess, no stall */
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 1);
	/* 2 s of stall at load 1.4: 1/1.4 s per unit of load; moving a
	 * 700-page VM takes 0.7 of it off (1 s) and brings host 1 to 1.2,
	 * below the contention load (1.4, host 0's): nothing added */
	assert_int_equal(r.move[0].vm, 0);
	assert_int_equal(r.move[0].dst, 1);
	assert_true(llabs((long long)r.move[0].benefit_ns - 1000000000ll) <= 2);
	mv_drs_result_free(&r);
	/* a VM whose demand varies by half of it: half the benefit */
	c.v[0].active_sd = c.v[1].active_sd = 350;
	decide(&k, &c, &r);
	assert_true(llabs((long long)r.move[0].benefit_ns - 500000000ll) <= 2);
	mv_drs_result_free(&r);
}

static void test_balanced_cluster_makes_no_move(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 4, 1000);
	for (int h = 0; h < 4; h++) {
		vm(&c, h, 300, MV_NS_PER_S);
		vm(&c, h, 300, MV_NS_PER_S);
	}
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	for (int level = 1; level <= 5; level++) {
		k.level = level;
		k.cost_benefit = 0;
		k.min_goodness_step = 0;
		struct mv_drs_result r;
		decide(&k, &c, &r);
		assert_int_equal(r.nmove, 0);
		assert_true(r.imbalance < 1e-9);
		mv_drs_result_free(&r);
	}
}

static void test_overloaded_host_moves_only_ever_lower_imbalance(void **state)
{
	(void)state;
	struct cl c;
	overloaded(&c);
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_true(fabs(r.load[0] - 1.8) < 1e-12);
	assert_true(r.nmove > 0);
	double last = r.imbalance;
	for (int i = 0; i < r.nmove; i++) {
		const struct mv_drs_move *m = &r.move[i];
		assert_int_equal(m->src, 0);
		assert_true(m->dst > 0);
		assert_true(m->priority >= 2 && m->priority <= k.level);
		assert_true(m->imbalance_before == last);
		assert_true(m->imbalance_after < m->imbalance_before);
		assert_true(m->goodness > 0);
		assert_true(m->benefit_ns > m->cost_ns);
		assert_non_null(strstr(m->reason, "balance memory"));
		last = m->imbalance_after;
	}
	assert_true(r.imbalance_after == last);
	assert_true(r.imbalance_after < r.imbalance);
	/* it stops at loads 0.9, 0.6, 0.6, 0.6: no move lowers that */
	assert_int_equal(r.nmove, 3);
	assert_true(r.dropped_goodness > 0);
	mv_drs_result_free(&r);
}

static void test_level_1_makes_only_mandatory_moves(void **state)
{
	(void)state;
	struct cl c;
	overloaded(&c);
	c.h[3].maintenance = 1;
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	k.level = 1;
	k.cost_benefit = 0;
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 1);
	assert_int_equal(r.move[0].priority, 1);
	assert_int_equal(r.move[0].src, 3);
	assert_int_equal(r.move[0].vm, 8);
	assert_true(r.move[0].dst == 1 || r.move[0].dst == 2);
	mv_drs_result_free(&r);
	k.level = 2;
	decide(&k, &c, &r);
	assert_true(r.nmove > 1);
	mv_drs_result_free(&r);
}

static void test_higher_level_makes_at_least_as_many_moves(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 4, 1000);
	for (int i = 0; i < 10; i++)
		vm(&c, 0, 60 + 10 * i, MV_NS_PER_S);
	vm(&c, 1, 200, 0);
	for (int cb = 0; cb <= 1; cb++) {
		struct mv_drs_config k;
		mv_drs_config_default(&k);
		k.cost_benefit = cb;
		int prev = -1;
		for (int level = 1; level <= 5; level++) {
			k.level = level;
			struct mv_drs_result r;
			decide(&k, &c, &r);
			assert_true(r.nmove >= prev);
			if (level == 5 && !cb)
				assert_true(r.nmove > 0);
			/* a lower target, the same greedy path further */
			if (level == 5 && !cb) {
				struct mv_drs_result r3;
				k.level = 3;
				decide(&k, &c, &r3);
				assert_true(r.nmove > r3.nmove);
				for (int i = 0; i < r3.nmove; i++) {
					assert_int_equal(r.move[i].vm,
							 r3.move[i].vm);
					assert_int_equal(r.move[i].dst,
							 r3.move[i].dst);
				}
				assert_true(r.imbalance_after <
					    r3.imbalance_after);
				mv_drs_result_free(&r3);
			}
			prev = r.nmove;
			mv_drs_result_free(&r);
		}
	}
}

static void test_move_costing_more_than_it_gains_is_dropped(void **state)
{
	(void)state;
	struct cl c;
	overloaded(&c);
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	/* 100 KB/s: a VM takes ~33 s to move; each removes well under a
	 * second of stall from host 0 */
	k.bandwidth = 100e3;
	for (int i = 0; i < 6; i++)
		c.v[i].stall_ns = 10 * MV_NS_PER_MS;
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 0);
	assert_true(r.dropped_cost_benefit > 0);
	assert_true(r.priority <= k.level); /* it would have balanced */
	mv_drs_result_free(&r);
	/* the same with the filter off (KB 1017291's CostBenefit = 0) */
	k.cost_benefit = 0;
	decide(&k, &c, &r);
	assert_true(r.nmove > 0);
	assert_true(r.move[0].cost_ns > r.move[0].benefit_ns);
	assert_non_null(strstr(r.move[0].reason, "cost-benefit off"));
	mv_drs_result_free(&r);
	/* and a VM that does not stall gives no benefit: no move */
	k.cost_benefit = 1;
	k.bandwidth = 10e9 / 8;
	for (int i = 0; i < 6; i++)
		c.v[i].stall_ns = 0;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 0);
	mv_drs_result_free(&r);
}

static void test_min_goodness_drops_moves_that_barely_help(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 2, 1000);
	vm(&c, 0, 500, MV_NS_PER_S);
	vm(&c, 0, 510, MV_NS_PER_S);
	vm(&c, 1, 990, 0);
	/* host 0 1010, host 1 990: any move makes it worse */
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	k.level = 5;
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 0);
	assert_true(r.dropped_goodness > 0);
	mv_drs_result_free(&r);
	/* a move that helps, by less than a whole step's fraction */
	hosts(&c, 2, 100000);
	vm(&c, 0, 1000, MV_NS_PER_S)->configured = 60000;
	c.v[0].limit = 60000;
	c.v[0].active = 51000;
	vm(&c, 0, 10, MV_NS_PER_S);
	vm(&c, 1, 500, 0);
	k.cost_benefit = 0;
	k.min_goodness_step = 0;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 1); /* the 10-page VM: tiny goodness */
	assert_int_equal(r.move[0].vm, 1);
	double g = r.move[0].goodness;
	mv_drs_result_free(&r);
	k.min_goodness_step = 1.5 * g / (0.1 / sqrt(2.0));
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 0);
	assert_true(r.dropped_goodness > 0);
	mv_drs_result_free(&r);
}

static void
test_admission_control_refuses_overflowing_reservations(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 3, 1000);
	for (int i = 0; i < 5; i++)
		vm(&c, 0, 300, MV_NS_PER_S)->reservation = 200;
	vm(&c, 1, 0, 0)->reservation = 900; /* host 1: nearly all reserved */
	vm(&c, 2, 950, 0);
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	k.level = 5;
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_true(r.nmove > 0);
	assert_true(r.dropped_admission > 0);
	for (int i = 0; i < r.nmove; i++)
		assert_int_equal(r.move[i].dst, 2);
	mv_drs_result_free(&r);
	/* power-on: host 1's load is the lowest (0.92 against 0.97 and
	 * 0.99 with the new VM), but it cannot reserve 150 more */
	hosts(&c, 3, 1000);
	vm(&c, 0, 970, 0);
	vm(&c, 1, 0, 0)->reservation = 900;
	vm(&c, 2, 950, 0);
	struct mv_drs_vm n = c.v[0];
	n.active = 20;
	n.reservation = 20;
	assert_int_equal(mv_drs_place(c.h, c.nh, c.v, c.nv, &n), 1);
	n.reservation = 150;
	assert_int_equal(mv_drs_place(c.h, c.nh, c.v, c.nv, &n), 2);
	n.configured = n.limit = 2000;
	n.reservation = 1001; /* more than any host has */
	assert_int_equal(mv_drs_place(c.h, c.nh, c.v, c.nv, &n), -1);
	c.h[1].maintenance = 1; /* takes no new VM */
	n.reservation = 20;
	int h = mv_drs_place(c.h, c.nh, c.v, c.nv, &n);
	assert_true(h == 0 || h == 2);
}

static void test_maintenance_mode_evacuates_every_vm(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 3, 1000);
	for (int i = 0; i < 4; i++)
		vm(&c, 0, 100 + 50 * i, 0);
	vm(&c, 1, 300, 0);
	vm(&c, 2, 100, 0);
	c.h[0].maintenance = 1;
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	struct mv_drs_result r;
	decide(&k, &c, &r);
	int seen[4] = {0};
	int mandatory = 0;
	for (int i = 0; i < r.nmove; i++) {
		const struct mv_drs_move *m = &r.move[i];
		assert_int_not_equal(m->dst, 0);
		if (m->priority != 1)
			continue;
		mandatory++;
		assert_int_equal(m->src, 0);
		assert_true(m->dst == 1 || m->dst == 2);
		assert_false(m->queued);
		assert_non_null(strstr(m->reason, "maintenance"));
		seen[m->vm]++;
	}
	assert_int_equal(mandatory, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(seen[i], 1);
	/* largest first: VM 3 (250 pages) goes to the emptier host 2 */
	assert_int_equal(r.move[0].vm, 3);
	assert_int_equal(r.move[0].dst, 2);
	assert_int_equal(r.unplaced, 0);
	mv_drs_result_free(&r);
}

static void test_maintenance_mode_reports_vms_no_host_admits(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 2, 1000);
	vm(&c, 0, 100, 0)->reservation = 700;
	vm(&c, 0, 100, 0)->reservation = 200;
	vm(&c, 1, 100, 0)->reservation = 500;
	c.h[0].maintenance = 1;
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 2);
	assert_int_equal(r.unplaced, 1);
	assert_int_equal(r.move[0].vm, 0); /* larger first: fits nowhere */
	assert_int_equal(r.move[0].dst, -1);
	assert_int_equal(r.move[0].priority, 1);
	assert_non_null(strstr(r.move[0].reason, "no host admits"));
	assert_int_equal(r.move[1].vm, 1);
	assert_int_equal(r.move[1].dst, 1);
	mv_drs_result_free(&r);
}

static void test_migrations_per_host_are_limited(void **state)
{
	(void)state;
	struct cl c;
	overloaded(&c);
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	k.max_per_host = 1;
	struct mv_drs_result r;
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 1); /* host 0's one slot */
	assert_true(r.dropped_concurrency > 0);
	mv_drs_result_free(&r);
	c.h[0].migrations = 1; /* already busy: nothing more now */
	decide(&k, &c, &r);
	assert_int_equal(r.nmove, 0);
	mv_drs_result_free(&r);
	/* mandatory moves past the limit are queued, not dropped */
	c.h[0].migrations = 0;
	c.h[0].maintenance = 1;
	k.max_per_host = 2;
	decide(&k, &c, &r);
	int queued = 0, mandatory = 0;
	for (int i = 0; i < r.nmove; i++)
		if (r.move[i].priority == 1) {
			mandatory++;
			queued += r.move[i].queued;
			assert_int_equal(r.move[i].queued, i >= 2);
		}
	assert_int_equal(mandatory, 6);
	assert_int_equal(queued, 4);
	mv_drs_result_free(&r);
}

static void test_same_input_gives_the_same_decisions(void **state)
{
	(void)state;
	struct cl c;
	hosts(&c, 6, 1000);
	for (int i = 0; i < 24; i++)
		vm(&c, i % 3, 50 + (uint64_t)(i * 37) % 300,
		   (uint64_t)(i % 5) * MV_NS_PER_S)
			->reservation = (uint64_t)(i % 4) * 20;
	c.h[2].maintenance = 1;
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	k.level = 5;
	struct mv_drs_result a, b;
	decide(&k, &c, &a);
	decide(&k, &c, &b);
	assert_true(a.nmove > 0);
	assert_int_equal(a.nmove, b.nmove);
	assert_memory_equal(a.move, b.move, a.nmove * sizeof(*a.move));
	assert_memory_equal(a.entitlement, b.entitlement,
			    c.nv * sizeof(*a.entitlement));
	assert_true(a.imbalance_after == b.imbalance_after);
	mv_drs_result_free(&a);
	mv_drs_result_free(&b);
}

static void test_bad_input_is_one_error_naming_the_field(void **state)
{
	(void)state;
	struct cl c;
	overloaded(&c);
	struct mv_drs_config k;
	mv_drs_config_default(&k);
	struct mv_drs_result r;
	struct mv_error err = {0};
	k.level = 6;
	assert_int_equal(mv_drs_decide(&k, c.h, c.nh, c.v, c.nv, &r, &err),
			 MV_EINVAL);
	assert_string_equal(err.field, "drs/level");
	k.level = 3;
	c.v[2].host = 9;
	assert_int_equal(mv_drs_decide(&k, c.h, c.nh, c.v, c.nv, &r, &err),
			 MV_EINVAL);
	assert_string_equal(err.field, "vm/host");
	c.v[2].host = 0;
	c.v[2].reservation = 2000;
	assert_int_equal(mv_drs_decide(&k, c.h, c.nh, c.v, c.nv, &r, &err),
			 MV_EINVAL);
	assert_string_equal(err.field, "vm/reservation");
	assert_null(r.move);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_and_target_follow_kb_1007485),
		cmocka_unit_test(
			test_entitlement_is_demand_bounded_then_divided_by_shares),
		cmocka_unit_test(
			test_migration_cost_follows_the_precopy_rounds),
		cmocka_unit_test(
			test_benefit_is_stall_removed_minus_stall_added),
		cmocka_unit_test(test_balanced_cluster_makes_no_move),
		cmocka_unit_test(
			test_overloaded_host_moves_only_ever_lower_imbalance),
		cmocka_unit_test(test_level_1_makes_only_mandatory_moves),
		cmocka_unit_test(
			test_higher_level_makes_at_least_as_many_moves),
		cmocka_unit_test(
			test_move_costing_more_than_it_gains_is_dropped),
		cmocka_unit_test(
			test_min_goodness_drops_moves_that_barely_help),
		cmocka_unit_test(
			test_admission_control_refuses_overflowing_reservations),
		cmocka_unit_test(test_maintenance_mode_evacuates_every_vm),
		cmocka_unit_test(
			test_maintenance_mode_reports_vms_no_host_admits),
		cmocka_unit_test(test_migrations_per_host_are_limited),
		cmocka_unit_test(test_same_input_gives_the_same_decisions),
		cmocka_unit_test(test_bad_input_is_one_error_naming_the_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
