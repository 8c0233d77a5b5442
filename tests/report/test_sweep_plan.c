/*
 * test_sweep_plan.c - `memvisor plan`'s judgement (src/report/sweep.c):
 * SLO parsing and its errors, shaping a scenario for a ratio by host or by
 * VMs, the verdict naming the worst VM, the highest safe ratio and the
 * knee.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/plan.h"
#include "support/mvtest.h"

static void test_slo_parse_reads_the_issue_example(void **state)
{
	(void)state;
	struct mv_slo_set s;
	struct mv_error err = {0};
	assert_int_equal(
		mv_slo_parse("stall<1%,swapin<10/s,progress>99%", &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.slo[0].metric, MV_SLO_STALL);
	assert_true(s.slo[0].below);
	assert_true(fabs(s.slo[0].limit - 1) < 1e-12);
	assert_int_equal(s.slo[1].metric, MV_SLO_SWAPIN);
	assert_true(fabs(s.slo[1].limit - 10) < 1e-12);
	assert_int_equal(s.slo[2].metric, MV_SLO_PROGRESS);
	assert_false(s.slo[2].below);
	char b[48];
	mv_slo_format(&s.slo[2], b, sizeof b);
	assert_string_equal(b, "progress>99%");
	assert_int_equal(mv_slo_parse(MV_SLO_DEFAULT, &s, &err), 0);
}

static void test_slo_parse_names_the_part_that_is_wrong(void **state)
{
	(void)state;
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"stall<1", "followed by '%'"},
		{"stall<1%,", "empty SLO"},
		{"latency<5ms", "unknown metric 'latency'"},
		{"stall>1%", "stall takes '<'"},
		{"progress<99%", "progress takes '>'"},
		{"swapin<10", "followed by '/s'"},
		{"stall<150%", "0..100"},
		{"stall<1%,stall<2%", "stall is given twice"},
		{"stall=1%", "expected NAME<LIMIT"},
		{"swapin<-1/s", ">= 0"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct mv_slo_set s;
		struct mv_error err = {0};
		assert_int_equal(mv_slo_parse(bad[i].text, &s, &err),
				 MV_EINVAL);
		assert_string_equal(err.field, "--slo");
		if (!strstr(err.msg, bad[i].says))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].text, err.msg,
				 bad[i].says);
	}
}

static const char scenario[] =
	"<scenario name='s' seed='1' duration='1s'>\n"
	"  <host><memory unit='MiB'>256</memory></host>\n"
	"  <vm count='2'><domain type='kvm'><name>a</name>"
	"<memory unit='MiB'>64</memory></domain></vm>\n"
	"  <vm><domain type='kvm'><name>b</name>"
	"<memory unit='MiB'>128</memory></domain></vm>\n"
	"</scenario>\n";

static struct mv_scenario *load(void)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(scenario, "s.xml", ".", &sc, &err), &err,
	       "load");
	return sc;
}

static void
test_shape_by_host_sets_memory_to_configured_over_ratio(void **state)
{
	(void)state;
	struct mv_scenario *sc = load();
	struct mv_error err = {0};
	assert_int_equal(mv_plan_shape(sc, MV_PLAN_BY_HOST, 1.6, &err), 0);
	/* 256 MiB configured / 1.6 = 160 MiB */
	assert_int_equal(sc->host.mem_bytes, 160 * MV_MIB);
	assert_int_equal(sc->nvms, 3);
	/* a host below 64 MiB is refused, naming --ratios */
	assert_int_equal(mv_plan_shape(sc, MV_PLAN_BY_HOST, 8, &err),
			 MV_EINVAL);
	assert_string_equal(err.field, "--ratios");
	mv_scenario_free(sc);
}

static void test_shape_by_vms_repeats_the_vms_in_order(void **state)
{
	(void)state;
	struct mv_scenario *sc = load();
	struct mv_error err = {0};
	/* host 256 MiB; 2.0 needs 512 MiB: a-1 a-2 b a-1~2 a-2~2 b~2 */
	assert_int_equal(mv_plan_shape(sc, MV_PLAN_BY_VMS, 2.0, &err), 0);
	assert_int_equal(sc->host.mem_bytes, 256 * MV_MIB);
	assert_int_equal(sc->nvms, 6);
	assert_string_equal(sc->vms[3].vm.name, "a-1~2");
	assert_string_equal(sc->vms[5].vm.name, "b~2");
	assert_int_equal(sc->vms[5].vm.mem_bytes, 128 * MV_MIB);
	mv_scenario_free(sc);

	/* 0.5 is 128 MiB: fewer VMs than the scenario has */
	sc = load();
	assert_int_equal(mv_plan_shape(sc, MV_PLAN_BY_VMS, 0.5, &err), 0);
	assert_int_equal(sc->nvms, 2);
	mv_scenario_free(sc);
}

static void test_shaped_scenario_runs(void **state)
{
	(void)state;
	struct mv_scenario *sc = load();
	struct mv_error err = {0};
	assert_int_equal(mv_plan_shape(sc, MV_PLAN_BY_VMS, 1.5, &err), 0);
	struct mv_sim *sim = NULL;
	mvt_ok(mv_sim_create(sc, 0, &sim, &err), &err, "create");
	mvt_sim_run(sim);
	struct mv_plan_point p = {.ratio = 1.5};
	mv_plan_measure(sim, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.nvms, 5);
	assert_true(fabs(p.overcommit - 384.0 / 256) < 1e-9);
	assert_true(p.worst[MV_SLO_PROGRESS] <= 100);
	assert_true(p.worst_vm[MV_SLO_STALL][0] != '\0');
	mv_sim_destroy(sim);
}

/* n points at ratios 1.0, 1.1, ... with these swap-in rates */
static void points(struct mv_plan_point *p, int n, const double *swapin)
{
	memset(p, 0, (size_t)n * sizeof *p);
	for (int i = 0; i < n; i++) {
		p[i].ratio = 1.0 + 0.1 * i;
		p[i].swapin_per_s = swapin[i];
		p[i].worst[MV_SLO_SWAPIN] = swapin[i] / 2;
		p[i].worst[MV_SLO_PROGRESS] = 100;
		snprintf(p[i].worst_vm[MV_SLO_SWAPIN], MV_PLAN_NAME, "vm%d", i);
	}
}

static void test_verdict_names_the_first_failed_slo(void **state)
{
	(void)state;
	struct mv_slo_set set;
	struct mv_error err = {0};
	assert_int_equal(mv_slo_parse("stall<1%,swapin<10/s", &set, &err), 0);
	static const double sw[] = {0, 0, 30, 40, 50};
	struct mv_plan_point p[5];
	points(p, 5, sw);
	assert_int_equal(mv_plan_failed(&p[1], &set), -1);
	assert_int_equal(mv_plan_failed(&p[2], &set), 1); /* 15/s >= 10/s */
	p[1].worst[MV_SLO_STALL] = 1.0;                   /* not < 1% */
	assert_int_equal(mv_plan_failed(&p[1], &set), 0);
	/* the highest safe ratio: all below it safe */
	assert_int_equal(mv_plan_highest_safe(p, 5, &set), 0);
	p[1].worst[MV_SLO_STALL] = 0.5;
	assert_int_equal(mv_plan_highest_safe(p, 5, &set), 1);
}

static void test_knee_is_the_point_farthest_below_the_chord(void **state)
{
	(void)state;
	/* flat, then rising: the knee is the last flat point */
	static const double hockey[] = {0, 0, 0, 0, 10, 30, 60};
	struct mv_plan_point p[7];
	enum mv_slo_metric by;
	points(p, 7, hockey);
	assert_int_equal(mv_plan_knee(p, 7, &by), 3);
	assert_int_equal(by, MV_SLO_SWAPIN);
	/* nothing rises: no knee */
	static const double flat[] = {0, 0, 0, 0, 0, 0, 0};
	points(p, 7, flat);
	assert_int_equal(mv_plan_knee(p, 7, &by), -1);
	/* without swap-in the stall decides */
	for (int i = 0; i < 7; i++)
		p[i].worst[MV_SLO_STALL] = i < 5 ? 0.3 : 3.0 * (i - 4);
	assert_int_equal(mv_plan_knee(p, 7, &by), 4);
	assert_int_equal(by, MV_SLO_STALL);
	/* fewer than three points: no knee */
	assert_int_equal(mv_plan_knee(p, 2, &by), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slo_parse_reads_the_issue_example),
		cmocka_unit_test(test_slo_parse_names_the_part_that_is_wrong),
		cmocka_unit_test(
			test_shape_by_host_sets_memory_to_configured_over_ratio),
		cmocka_unit_test(test_shape_by_vms_repeats_the_vms_in_order),
		cmocka_unit_test(test_shaped_scenario_runs),
		cmocka_unit_test(test_verdict_names_the_first_failed_slo),
		cmocka_unit_test(
			test_knee_is_the_point_farthest_below_the_chord),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
