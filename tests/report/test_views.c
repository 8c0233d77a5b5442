/*
 * test_views.c - the operator's views: the dommemstat listing, the CSV
 * time series and the SVG charts.
 *
 * dommemstat is checked on a hand-made sample (every field's unit and
 * source, which fields exist without a stats period, libvirt's order) and
 * on a real run (actual + balloon = configured, rss = resident pages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/report.h"
#include "support/mvtest.h"

static char *render_dms(const struct mv_dommemstat *d)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(mv_report_dommemstat(f, d), 0);
	fclose(f);
	return buf;
}

static void fake_vm(struct mv_sample_vm *v)
{
	memset(v, 0, sizeof *v);
	v->state[MV_PS_UNTOUCHED] = 100;
	v->state[MV_PS_PRIVATE] = 300;
	v->state[MV_PS_SHARED] = 50;
	v->state[MV_PS_ZERO] = 40;
	v->state[MV_PS_COMPRESSED] = 10;
	v->state[MV_PS_SWAPPED] = 12;
	v->state[MV_PS_BALLOONED] = 88; /* 600 pages configured */
	v->guest.balloon_pages = 80;
	v->guest.swap_in = 3;
	v->guest.swap_out = 5;
	v->guest.major_fault = 7;
	v->guest.minor_fault = 1234;
	v->guest.free_pages = 111;
	v->guest.cache_pages = 22;
	v->guest.anon_pages = 333;
	v->guest.available_pages = 520;
}

static void test_dommemstat_fields_units_and_order(void **state)
{
	(void)state;
	struct mv_sample_vm now;
	fake_vm(&now);
	struct mv_guest_stats rep = now.guest;
	rep.free_pages = 99; /* the report is older than `now` */
	struct mv_dommemstat d;
	mv_dommemstat_compute(&now, &rep, 25500000000ull, &d);
	char *s = render_dms(&d);
	assert_string_equal(s, "actual 2080\n"    /* (600 - 80) x 4 KiB */
			       "swap_in 12\n"
			       "swap_out 20\n"
			       "major_fault 7\n"
			       "minor_fault 1234\n"
			       "unused 396\n"      /* the report's 99 pages */
			       "available 2080\n"
			       "usable 484\n"      /* (99 + 22) x 4 */
			       "last_update 25\n"  /* whole seconds */
			       "disk_caches 88\n"
			       "hugetlb_pgalloc 0\n"
			       "hugetlb_pgfail 0\n"
			       "rss 1400\n");      /* (300 + 50) x 4 */
	free(s);
	for (int t = 0; t < MV_DMS_COUNT; t++)
		assert_true(d.present & (1u << t));
	assert_string_equal(mv_dms_name(MV_DMS_LAST_UPDATE), "last_update");
}

static void test_dommemstat_without_stats_period(void **state)
{
	(void)state;
	struct mv_sample_vm now;
	fake_vm(&now);
	struct mv_dommemstat d;
	mv_dommemstat_compute(&now, NULL, 0, &d);
	char *s = render_dms(&d);
	assert_string_equal(s, "actual 2080\nrss 1400\n");
	free(s);
}

static const char stats_xml[] =
	"<scenario name=\"v\" seed=\"3\" duration=\"4s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory></host>\n"
	"  <vm>\n"
	"    <domain type=\"kvm\"><name>a</name><memory "
	"unit=\"MiB\">32</memory><currentMemory unit=\"MiB\">24</currentMemory>"
	"<devices><memballoon model=\"virtio\"><stats period=\"2\"/>"
	"</memballoon></devices></domain>\n"
	"    <workload kind=\"steady\" size=\"6MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

static struct mv_sim *make_sim(const char *xml)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "test.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	struct mv_sim *sim = NULL;
	mvt_ok(mv_sim_create(sc, 0, &sim, &err), &err, "mv_sim_create");
	return sim;
}

static void test_dommemstat_of_a_live_run(void **state)
{
	(void)state;
	struct mv_sim *sim = make_sim(stats_xml);
	struct mv_error err = {0};
	for (int i = 0; i < 150; i++)
		mvt_ok(mv_sim_step(sim, &err), &err, "mv_sim_step");
	struct mv_guest_stats rep;
	mv_guest_stats(sim->guest[0], &rep);
	struct mv_dommemstat d;
	assert_int_equal(mv_dommemstat_live(sim, 0, &rep, sim->now_ns, &d), 0);
	struct mv_vm_usage u;
	mv_vm_usage(sim->vm[0], &u);
	/* currentMemory 24 of 32 MiB: the balloon holds the other 8. */
	assert_int_equal(d.val[MV_DMS_ACTUAL] + rep.balloon_pages * 4,
			 32 * 1024);
	assert_true(rep.balloon_pages > 0);
	assert_int_equal(d.val[MV_DMS_RSS],
			 (u.state[MV_PS_PRIVATE] + u.state[MV_PS_SHARED]) * 4);
	assert_true(d.val[MV_DMS_RSS] > 0);
	assert_int_equal(d.val[MV_DMS_LAST_UPDATE], 1); /* 1.5 s */
	assert_int_equal(d.val[MV_DMS_AVAILABLE], d.val[MV_DMS_ACTUAL]);
	assert_true(d.val[MV_DMS_UNUSED] <= d.val[MV_DMS_USABLE]);
	assert_true(d.val[MV_DMS_USABLE] <= d.val[MV_DMS_AVAILABLE]);
	assert_int_not_equal(mv_dommemstat_live(sim, 1, NULL, 0, &d), 0);
	mv_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dommemstat_fields_units_and_order),
		cmocka_unit_test(test_dommemstat_without_stats_period),
		cmocka_unit_test(test_dommemstat_of_a_live_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
