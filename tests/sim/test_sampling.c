/*
 * Scenario tests of active-memory sampling: the estimate each sample holds
 * (esxtop ACTV) against the true active set the simulator measures, for
 * idle, steady and phased guests (docs/sampling.md has the full-size run).
 */
#include <math.h>
#include <stdlib.h>

#include "support/mvtest.h"

/* The true window equals the sampling period, so both measure "pages
 * touched in the last 2 s". 32 MiB VMs = 8192 pages; n = 400. */
static const char *three =
	"<scenario name='sampling' seed='5' duration='60s' step='10ms'"
	"  stats-interval='1s' active-window='2s'>"
	" <host><memory unit='MiB'>160</memory>"
	"  <sampling pages='400' period='2s'/></host>"
	" <vm><domain type='kvm'><name>idle</name><memory "
	"unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='2MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='idle' size='4MiB'/></vm>"
	" <vm><domain type='kvm'><name>steady</name><memory "
	"unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='2MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='12MiB' rate='20k' "
	"write-ratio='0.2'/></vm>"
	" <vm><domain type='kvm'><name>phased</name><memory "
	"unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='2MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='phased' size='6MiB' region='24MiB' phase='10s'"
	"   rate='20k' write-ratio='0.5'/></vm>"
	"</scenario>";

static struct mv_sim *run_three(void)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(three, "test.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	return s;
}

/* Means of the true set and the estimate of VM v over samples at t >= 20 s
 * (the boot is over and has left the slow average: 0.9^9 of it). */
static void means(const struct mv_sim *s, int v, double *tru, double *est)
{
	double a = 0, b = 0;
	int n = 0;
	for (int i = 0; i < s->nsamples; i++) {
		if (s->samples[i].t_ns < 20 * MV_NS_PER_S)
			continue;
		a += (double)s->samples[i].vm[v].active_true;
		b += (double)s->samples[i].vm[v].active_est;
		n++;
	}
	assert_true(n > 30);
	*tru = a / n;
	*est = b / n;
}

static void test_scenario_sampling_settings_reach_every_vm(void **state)
{
	(void)state;
	struct mv_sim *s = run_three();
	for (int v = 0; v < s->nvms; v++) {
		assert_int_equal(s->vm[v]->active.cfg.pages, 400);
		assert_int_equal(s->vm[v]->active.n, 400);
		assert_int_equal(s->vm[v]->active.periods, 30);
	}
	/* seeded per VM: the three samples differ */
	assert_true(s->vm[0]->active.sample[0] != s->vm[1]->active.sample[0] ||
		    s->vm[1]->active.sample[0] != s->vm[2]->active.sample[0]);
	mv_sim_destroy(s);
}

static void test_estimates_track_the_true_active_set(void **state)
{
	(void)state;
	struct mv_sim *s = run_three();
	double npages = (double)s->vm[0]->npages, t, e;

	/* idle: only the guest kernel's own pages (~6%), and little more
	 * estimated */
	means(s, 0, &t, &e);
	assert_true(t < 0.1 * npages);
	assert_true(e < t + 0.05 * npages);

	/* steady 12 MiB of 32 (37.5%, plus the OS): n = 400 gives an sd of
	 * 2.4% of memory per period; the max of three averages leans high */
	means(s, 1, &t, &e);
	assert_true(t > 0.37 * npages && t < 0.5 * npages);
	assert_true(e > 0.95 * t && e < 1.15 * t);
	/* and no single sample is far off */
	for (int i = 0; i < s->nsamples; i++) {
		const struct mv_sample_vm *v = &s->samples[i].vm[1];
		if (s->samples[i].t_ns >= 20 * MV_NS_PER_S)
			assert_true(fabs((double)v->active_est -
					 (double)v->active_true) <
				    0.1 * npages);
	}

	/* phased: the set moves every 10 s; the estimate must not lag
	 * below it (the fast average and the current period see a move
	 * at once), and the slow average keeps it from dropping */
	means(s, 2, &t, &e);
	assert_true(e > 0.9 * t && e < 1.6 * t);
	mv_sim_destroy(s);
}

/* A 16 MiB working set starting 1 s into a 10 s sampling period of a
 * 32 MiB VM. */
static const char *rise =
	"<scenario name='rise' seed='3' duration='40s' step='10ms'"
	"  stats-interval='1s' active-window='10s'>"
	" <host><memory unit='MiB'>64</memory>"
	"  <sampling pages='400' period='10s'/></host>"
	" <vm><domain type='kvm'><name>vm</name><memory "
	"unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='2MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='16MiB' rate='20k' start='21s'/></vm>"
	"</scenario>";

/* Figure 6's rise: the current period's count shows it before the period
 * ends, in the exact model and in the interval model (which draws the
 * touches of resident pages from their rates, part-way through a period
 * too). */
static void test_a_rise_shows_before_the_period_ends(void **state)
{
	(void)state;
	enum mv_access_model models[] = {MV_MODEL_EXACT, MV_MODEL_INTERVAL};
	for (int m = 0; m < 2; m++) {
		struct mv_scenario *sc = NULL;
		struct mv_error err = {0};
		mvt_ok(mv_scenario_load_string(rise, "test.xml", ".", &sc,
					       &err),
		       &err, "mv_scenario_load_string");
		sc->access_model = models[m];
		struct mv_sim *s = NULL;
		mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
		mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
		assert_int_equal(s->model, models[m]);
		double np = (double)s->vm[0]->npages, before = -1, after = -1;
		for (int i = 0; i < s->nsamples; i++) {
			if (s->samples[i].t_ns == 20 * MV_NS_PER_S)
				before = (double)s->samples[i].vm[0].active_est;
			if (s->samples[i].t_ns == 25 * MV_NS_PER_S)
				after = (double)s->samples[i].vm[0].active_est;
		}
		/* half the VM touched: 0.9 of it in the estimate at 25 s,
		 * 5 s before the period ends */
		assert_true(before >= 0 && before < 0.25 * np);
		assert_true(after > 0.4 * np);
		mv_sim_destroy(s);
	}
}

/* A 32 MiB VM running workload WL (its attributes), with access model M. */
static struct mv_sim *run_one(const char *wl, enum mv_access_model m)
{
	char xml[1024];
	snprintf(xml, sizeof xml,
		 "<scenario name='pre' seed='3' duration='12s' step='10ms'"
		 "  stats-interval='1s'>"
		 " <host><memory unit='MiB'>64</memory>"
		 "  <sampling pages='400' period='2s'/></host>"
		 " <vm><domain type='kvm'><name>pre</name><memory "
		 "unit='MiB'>32</memory>"
		 "   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		 "    <mv:guest os='linux' image='debian-12' "
		 "image-size='2MiB'/>"
		 "   </mv:memvisor></metadata></domain>"
		 "  <workload %s/></vm>"
		 "</scenario>",
		 wl);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "test.xml", ".", &sc, &err), &err,
	       "load");
	sc->access_model = m;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mvt_sim_run(s);
	return s;
}

/* The largest estimate (pages) over the run. */
static double max_estimate(const struct mv_sim *s)
{
	double m = 0;
	for (int i = 0; i < s->nsamples; i++)
		if ((double)s->samples[i].vm[0].active_est > m)
			m = (double)s->samples[i].vm[0].active_est;
	return m;
}

/* sampled="no": the writes are not counted, the estimate stays near the
 * OS's own pages; by default the same writes read as 3/4 of the VM. */
static void test_unsampled_writes_leave_the_estimate_idle(void **state)
{
	(void)state;
	const double np = 32.0 * 256;
	const enum mv_access_model models[] = {MV_MODEL_EXACT,
					       MV_MODEL_INTERVAL};
	for (int k = 0; k < 2; k++) {
		enum mv_access_model m = models[k];
		/* 24 of 32 MiB written in the first second, then freed, as
		 * record replays pages touched before a recording began */
		struct mv_sim *seen = run_one(
			"kind='idle' size='24MiB' stop='1s'", m);
		struct mv_sim *unseen = run_one(
			"kind='idle' size='24MiB' stop='1s' sampled='no'", m);
		assert_true(max_estimate(seen) > 0.6 * np);
		assert_true(max_estimate(unseen) < 0.1 * np);
		/* the pages were still written: the true set saw them */
		double tru = 0;
		for (int i = 0; i < unseen->nsamples; i++)
			if ((double)unseen->samples[i].vm[0].active_true > tru)
				tru = (double)unseen->samples[i]
					      .vm[0]
					      .active_true;
		assert_true(tru > 0.6 * np);
		mv_sim_destroy(seen);
		mv_sim_destroy(unseen);
		/* a workload that keeps running: neither its accesses nor
		 * the interval model's draw of the sampled pages at a
		 * period's end count it */
		seen = run_one("kind='steady' size='12MiB' rate='20k'", m);
		unseen = run_one(
			"kind='steady' size='12MiB' rate='20k' sampled='no'",
			m);
		assert_true(max_estimate(seen) > 0.3 * np);
		assert_true(max_estimate(unseen) < 0.1 * np);
		mv_sim_destroy(seen);
		mv_sim_destroy(unseen);
	}
}

static void test_sampled_must_be_yes_or_no(void **state)
{
	(void)state;
	const char *xml =
		"<scenario name='bad' duration='1s'>"
		" <host><memory unit='MiB'>64</memory></host>"
		" <vm><domain type='kvm'><name>v</name><memory "
		"unit='MiB'>32</memory></domain>"
		"  <workload kind='idle' size='4MiB' sampled='maybe'/></vm>"
		"</scenario>";
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_not_equal(
		mv_scenario_load_string(xml, "test.xml", ".", &sc, &err), 0);
	assert_string_equal(err.field, "workload/sampled");
	assert_int_equal(err.line, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_scenario_sampling_settings_reach_every_vm),
		cmocka_unit_test(test_estimates_track_the_true_active_set),
		cmocka_unit_test(test_a_rise_shows_before_the_period_ends),
		cmocka_unit_test(test_unsampled_writes_leave_the_estimate_idle),
		cmocka_unit_test(test_sampled_must_be_yes_or_no),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
