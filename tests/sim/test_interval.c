/*
 * The interval access model against the exact one (docs/engine.md, "The
 * interval access model", "Agreement"). Each example runs in both models
 * with the same seed; the headline figures must agree:
 *
 *   - memory saved by each mechanism, averaged over the run's samples
 *     (page sharing: pages_sharing + zero pages; ballooning: balloon
 *     size; compression: pages compressed; swapping: pages in the swap
 *     files), within 5% of the larger of the two, or 5% of the host's
 *     memory when both are small against it (a mechanism that saves
 *     nothing in one model must save next to nothing in the other);
 *   - time in each free-memory state, within 5% of the run;
 *   - the hypervisor swap-in rate (pages per second over the run), within
 *     10% of the larger (not 5%: the exact model's own rate moves by 8%
 *     with the seed alone), or 5 pages/s;
 *   - the worst VM's stall, within 5% of the larger, or 0.1% of the run.
 *
 * Durations are shortened where noted (the demo to 120 s, sharing.xml to
 * 60 s, the paper's examples to 300 s) to keep the test near a minute;
 * the figures each pair gave are printed as notes. Full-length figures:
 * docs/engine.md, "Agreement". Run from the source root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"
#include "support/mvtest.h"

struct figures {
	double shared, balloon, compressed, swapped; /* pages, run average */
	double state_s[MV_MEMSTATE_COUNT];
	double swapin_per_s;
	double worst_stall_s;
	double duration_s, host_pages;
	int interval_guests;
};

static struct mv_sim *run(const char *path, enum mv_access_model m,
			  uint64_t duration_ns)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load(path, &sc, &err), &err, path);
	sc->access_model = m;
	if (duration_ns)
		sc->duration_ns = duration_ns;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	return s;
}

static void measure(const struct mv_sim *s, struct figures *f)
{
	memset(f, 0, sizeof *f);
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_sample *sm = &s->samples[k];
		f->shared += (double)(sm->share.pages_sharing +
				      sm->share.zero_pages);
		for (int i = 0; i < s->nvms; i++) {
			const struct mv_sample_vm *v = &sm->vm[i];
			f->balloon += (double)v->guest.balloon_pages;
			f->compressed += (double)v->state[MV_PS_COMPRESSED];
			f->swapped += (double)v->state[MV_PS_SWAPPED];
		}
	}
	double n = s->nsamples ? s->nsamples : 1;
	f->shared /= n;
	f->balloon /= n;
	f->compressed /= n;
	f->swapped /= n;
	f->duration_s = (double)s->now_ns / 1e9;
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		f->state_s[k] = (double)s->state_ns[k] / 1e9;
	double swapin = 0;
	for (int i = 0; i < s->nvms; i++) {
		swapin += (double)s->vm[i]->ctr.faults[MV_FAULT_SWAPIN];
		double st = (double)mv_vm_stall_ns(s->vm[i]) / 1e9;
		if (st > f->worst_stall_s)
			f->worst_stall_s = st;
	}
	f->swapin_per_s = swapin / f->duration_s;
	f->host_pages = (double)mv_sim_usable_frames(s);
	f->interval_guests = s->interval_guests;
}

/* |a - b| within rel of the larger, or within floor. */
static int near(double a, double b, double rel, double floor)
{
	double d = fabs(a - b), m = fmax(fabs(a), fabs(b));
	return d <= rel * m || d <= floor;
}

#define CHECK(name, a, b, rel, floor)                                          \
	do {                                                                   \
		if (!near((a), (b), (rel), (floor))) {                         \
			printf("note: %s: %s exact %.4g, interval %.4g\n",     \
			       path, (name), (a), (b));                        \
			bad++;                                                 \
		}                                                              \
	} while (0)

/* Run path in both models (duration_ns: 0 keeps the scenario's); the
 * headline figures agree within the bounds above. */
static int agree(const char *path, uint64_t duration_ns)
{
	struct mv_sim *se = run(path, MV_MODEL_EXACT, duration_ns);
	struct mv_sim *si = run(path, MV_MODEL_INTERVAL, duration_ns);
	assert_int_equal(se->model, MV_MODEL_EXACT);
	assert_int_equal(si->model, MV_MODEL_INTERVAL);
	struct figures e, i;
	measure(se, &e);
	measure(si, &i);
	assert_true(i.interval_guests > 0);
	printf("note: %s (%.0f s): saved MiB sharing %.1f/%.1f balloon "
	       "%.1f/%.1f compressed %.1f/%.1f swapped %.1f/%.1f; "
	       "swap-in/s %.1f/%.1f; worst stall s %.3f/%.3f; "
	       "s in high %.2f/%.2f soft %.2f/%.2f hard %.2f/%.2f low "
	       "%.2f/%.2f (exact/interval)\n",
	       path, e.duration_s, e.shared / 256, i.shared / 256,
	       e.balloon / 256, i.balloon / 256, e.compressed / 256,
	       i.compressed / 256, e.swapped / 256, i.swapped / 256,
	       e.swapin_per_s, i.swapin_per_s, e.worst_stall_s, i.worst_stall_s,
	       e.state_s[MV_MEMSTATE_HIGH], i.state_s[MV_MEMSTATE_HIGH],
	       e.state_s[MV_MEMSTATE_SOFT], i.state_s[MV_MEMSTATE_SOFT],
	       e.state_s[MV_MEMSTATE_HARD], i.state_s[MV_MEMSTATE_HARD],
	       e.state_s[MV_MEMSTATE_LOW], i.state_s[MV_MEMSTATE_LOW]);
	int bad = 0;
	double host = 0.05 * e.host_pages;
	CHECK("sharing saved", e.shared, i.shared, 0.05, host);
	CHECK("ballooned", e.balloon, i.balloon, 0.05, host);
	CHECK("compressed", e.compressed, i.compressed, 0.05, host);
	CHECK("swapped", e.swapped, i.swapped, 0.05, host);
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		CHECK(mv_memstate_name((enum mv_memstate)k), e.state_s[k],
		      i.state_s[k], 0, 0.05 * e.duration_s);
	/* 10%: the exact model's own rate moves by 8% with the seed alone
	 * (compression.xml, seeds 5, 6, 7: 95.9, 103.3, 95.2 pages/s) */
	CHECK("swap-in rate", e.swapin_per_s, i.swapin_per_s, 0.10, 5);
	/* 10% too: the exact model's own worst stall moves by more with the
	 * seed alone (compression.xml, seeds 5, 6, 7: 1.787, 1.934, 1.519 s,
	 * with the sampler's gains of Waldspurger's figure 6) */
	CHECK("worst stall", e.worst_stall_s, i.worst_stall_s, 0.10,
	      0.001 * e.duration_s);
	mv_sim_destroy(se);
	mv_sim_destroy(si);
	return bad;
}

static void test_demo_agrees(void **st)
{
	(void)st;
	/* the first 120 s of 300: first touches, sharing, the leak; the
	 * balloon episode at 240 s is the ballooning example's too */
	assert_int_equal(agree("examples/overcommit.xml", 120 * MV_NS_PER_S),
			 0);
}

static void test_reclaim_examples_agree(void **st)
{
	(void)st;
	int bad = agree("examples/reclaim/sharing.xml", 60 * MV_NS_PER_S);
	bad += agree("examples/reclaim/ballooning.xml", 0);
	bad += agree("examples/reclaim/compression.xml", 0);
	bad += agree("examples/reclaim/swapping.xml", 0);
	assert_int_equal(bad, 0);
}

static void test_paper_examples_agree(void **st)
{
	(void)st;
	/* 300 s of 600: memory moves from about 240 s */
	int bad = agree("examples/paper/idle-tax-0.xml", 300 * MV_NS_PER_S);
	bad += agree("examples/paper/idle-tax.xml", 300 * MV_NS_PER_S);
	assert_int_equal(bad, 0);
}

/* Every kind of workload the interval model runs, guest swap, host
 * pressure (ballooning, compression, swapping) and sharing, small. */
static const char *mixed =
	"<scenario name='mixed' seed='11' duration='6s' step='10ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>80</memory><numa nodes='2'/>"
	"  <sampling period='1s'/></host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>lin</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB' "
	"swap='64MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='virtio'/></devices></domain>"
	"  <workload kind='steady' dist='zipf' size='12MiB' rate='40k' "
	"write-ratio='0.3' content='data' compressibility='0.6'/>"
	"  <workload kind='phased' size='4MiB' region='16MiB' phase='1s' "
	"rate='20k' content='random'/>"
	"  <workload kind='leak' size='1MiB' rate='1k' leak='4MiB' "
	"leak-max='8MiB' stop='5s'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>win</name><memory unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='windows' image='win2019' image-size='4MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='idle' size='8MiB' content='app' app='sql'/>"
	"  <workload kind='steady' size='4MiB' rate='5k' write-ratio='0.5' "
	"content='app' app='sql' start='2s'/>"
	" </vm>"
	"</scenario>";

static struct mv_sim *mixed_sim(enum mv_access_model m, int verify)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(mixed, "mixed.xml", ".", &sc, &err),
	       &err, "mv_scenario_load_string");
	sc->access_model = m;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, verify, &s, &err), &err, "mv_sim_create");
	mvt_sim_run(s);
	return s;
}

/* The whole text report, in a malloc'd string. */
static char *report(const struct mv_sim *s)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(mv_report_text(f, s), 0);
	fclose(f);
	return buf;
}

/* Every invariant of every layer (and every page's bytes against what
 * the guest last wrote) holds after every step of an interval run, and
 * the run did what the interval model is for: faults happened, guests
 * swapped, the host reclaimed. */
static void test_invariants_hold_in_the_interval_model(void **st)
{
	(void)st;
	struct mv_sim *s = mixed_sim(MV_MODEL_INTERVAL, 1);
	assert_int_equal(s->model, MV_MODEL_INTERVAL);
	assert_int_equal(s->interval_guests, 3);
	assert_int_equal(s->verify_checks, 600);
	uint64_t zero_fill = 0, done = 0, demanded = 0;
	for (int i = 0; i < s->nvms; i++) {
		zero_fill += s->vm[i]->ctr.faults[MV_FAULT_ZERO_FILL];
		uint64_t d, k;
		mv_guest_progress(s->guest[i], &d, &k);
		demanded += d;
		done += k;
	}
	assert_true(zero_fill > 10000);
	assert_true(done > demanded / 2 && done <= demanded);
	assert_true(s->min_free < s->host->nframes / 20);
	mv_sim_destroy(s);
}

/* Every kind of set whose rates move (a usage set growing and shrinking
 * each second, a phased set, a Zipf set starting late, a leak that
 * stops) and the OS image's pages, under host pressure without a
 * balloon: the hypervisor swaps and compresses. */
static const char *moving =
	"<scenario name='moving' seed='5' duration='8s' step='10ms' "
	"stats-interval='1s' active-window='2s'>"
	" <host><memory unit='MiB'>28</memory></host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>v</name><memory unit='MiB'>40</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB' "
	"os-rate='2k' swap='32MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='usage' file='traces/bitbrains/2013-7/8.csv' "
	"format='bitbrains' size='32MiB' rate='5k' speedup='600'/>"
	"  <workload kind='steady' dist='zipf' size='8MiB' rate='20k' "
	"write-ratio='0.3' start='3s'/>"
	"  <workload kind='phased' size='2MiB' region='8MiB' phase='1s' "
	"rate='10k'/>"
	"  <workload kind='leak' size='1MiB' rate='1k' leak='2MiB' "
	"stop='5s'/>"
	" </vm>"
	"</scenario>";

/* The true active set the interval model keeps as pages change equals,
 * after every step (the window not closed yet), the walk over every
 * page it replaces, to rounding; and it is what the windows close on. */
static void test_active_set_kept_equals_the_walk(void **st)
{
	(void)st;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(moving, "moving.xml", "examples", &sc,
				       &err),
	       &err, "mv_scenario_load_string");
	sc->access_model = MV_MODEL_INTERVAL;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	assert_int_equal(s->interval_guests, 2);
	double win = (double)sc->active_window_ns / 1e9;
	int steps = 0;
	double seen = 0;
	while (s->now_ns < sc->duration_ns) {
		mvt_ok(mv_sim_step(s, &err), &err, "mv_sim_step");
		for (int i = 0; i < s->nvms; i++) {
			double x = mv_guest_active_pages(s->guest[i], s->now_ns,
							 win);
			double r = mv_guest_active_pages_walk(s->guest[i],
							      s->now_ns, win);
			if (fabs(x - r) >
			    1e-6 + (double)s->vm[i]->npages / 2147483648.0)
				fail_msg("step %d vm %d: kept %.6f, walk %.6f",
					 steps, i, x, r);
			seen += x;
		}
		steps++;
	}
	assert_true(seen > 1000);
	/* the host paged guest pages out and in behind the guests' backs */
	assert_true(s->vm[0]->ctr.faults[MV_FAULT_SWAPIN] +
			    s->vm[0]->ctr.faults[MV_FAULT_DECOMPRESS] >
		    100);
	mv_sim_destroy(s);
}

/* Same seed, same run: every sample, every page's bytes, and the text
 * report byte for byte. */
static void test_two_interval_runs_are_identical(void **st)
{
	(void)st;
	struct mv_sim *a = mixed_sim(MV_MODEL_INTERVAL, 0);
	struct mv_sim *b = mixed_sim(MV_MODEL_INTERVAL, 0);
	mvt_assert_same_run(a, b);
	char *ra = report(a), *rb = report(b);
	assert_string_equal(ra, rb);
	assert_non_null(strstr(ra, "access model interval (3 of 3 guests"));
	free(ra);
	free(rb);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* The elements of one structure of the simulator's books. */
static uint64_t books_count(const struct mv_sim *s, const char *name)
{
	struct mv_books b;
	mv_sim_books(s, &b);
	uint64_t n = 0;
	for (int i = 0; i < b.n; i++)
		if (!strcmp(b.item[i].name, name))
			n += b.item[i].count;
	return n;
}

/* The mixed scenario at a 1 ms step (the timing wheel turns a lap every
 * 4096 steps, so events move down from its second level), run for
 * duration_ns and stepped to 6 s. */
static struct mv_sim *mixed_1ms(uint64_t duration_ns)
{
	/* the Zipf set 10^4 times slower: its cold pages' first accesses fall
	 * seconds to hours ahead */
	char *xml = strdup(mixed);
	assert_non_null(xml);
	char *r = strstr(xml, "rate='40k'");
	assert_non_null(r);
	memcpy(r, "rate='4.0'", 10);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "mixed.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	free(xml);
	sc->access_model = MV_MODEL_INTERVAL;
	sc->step_ns = MV_NS_PER_S / 1000;
	sc->duration_ns = duration_ns;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	while (s->now_ns < 6 * MV_NS_PER_S)
		mvt_ok(mv_sim_step(s, &err), &err, "mv_sim_step");
	return s;
}

/* Events drawn past the end of a run are dropped, not kept (a day's run
 * would hold one for every cold page): a run that ends at 6 s is, up to
 * 6 s, the same run as one that goes on for ten hours, sample for sample
 * and byte for byte. */
static void test_events_past_the_end_change_nothing(void **st)
{
	(void)st;
	struct mv_sim *a = mixed_1ms(6 * MV_NS_PER_S);
	struct mv_sim *b = mixed_1ms(36000 * MV_NS_PER_S);
	assert_int_equal(a->nsamples, 13); /* at 0, then every 500 ms */
	mvt_assert_same_run(a, b);
	/* both filed events a lap or more ahead (those of the short run came
	 * down to the first level and fired), the long run past the second
	 * level too */
	assert_true(books_count(a, "interval.laps") > 0);
	assert_int_equal(books_count(a, "interval.overflow"), 0);
	assert_true(books_count(b, "interval.overflow") > 0);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* The default is exact for a run this small, and an exact run's report
 * does not name the model (every existing output stays as it was); the
 * estimate is the rates times the running times plus the OS's rate. */
static void test_auto_is_exact_for_small_runs(void **st)
{
	(void)st;
	struct mv_sim *s = mixed_sim(MV_MODEL_AUTO, 0);
	assert_int_equal(s->model, MV_MODEL_EXACT);
	assert_int_equal(s->interval_guests, 0);
	/* 2 x (40k x 6 + 20k x 6 + 1k x 5) + 10 x 6 + 5k x 4, and the
	 * guests' os-rate (default) x 6 s each */
	double os = 3 * s->sc->vms[0].guest.os_rate * 6;
	assert_float_equal(s->est_accesses, 2 * 365e3 + 60 + 20e3 + os, 1);
	char *r = report(s);
	assert_null(strstr(r, "access model"));
	free(r);
	mv_sim_destroy(s);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(mixed, "mixed.xml", ".", &sc, &err),
	       &err, "mv_scenario_load_string");
	sc->duration_ns = 200 * MV_NS_PER_S; /* about 7.5e7 accesses */
	assert_true(mv_scenario_est_accesses(sc) > MV_EXACT_MAX_ACCESSES);
	mv_scenario_free(sc);
}

/* Guests with an MMU model replay access by access in any model. */
static void test_mmu_guests_stay_exact(void **st)
{
	(void)st;
	struct mv_guest_config g;
	mv_guest_config_default(&g);
	assert_true(mv_guest_interval_capable(&g));
	g.mmu = 1;
	assert_false(mv_guest_interval_capable(&g));
	g.mmu = 0;
	g.nworkloads = 1;
	mv_workload_config_default(&g.workload[0]);
	g.workload[0].kind = MV_WL_TRACE;
	assert_false(mv_guest_interval_capable(&g));
}

/* A guest whose second workload starts 70 s after its first must
 * reclaim: its clocks then hold pages that joined more than 65.5 s apart
 * (guest.c, "The clocks' times": their differences go to the map). */
static const char *late =
	"<scenario name='late' seed='3' duration='90s' step='100ms' "
	"stats-interval='10s' active-window='10s'>"
	" <host><memory unit='MiB'>64</memory></host>"
	" <vm>"
	"  <domain type='kvm'><name>v</name><memory unit='MiB'>24</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB' "
	"os-rate='1k' swap='32MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='steady' size='12MiB' rate='5k' write-ratio='0.2'/>"
	"  <workload kind='steady' size='12MiB' rate='20k' start='70s'/>"
	" </vm>"
	"</scenario>";

/* The reclaim clocks' times, 2 bytes a page (differences from the page
 * before, the large ones in a map), add up after every step (--verify's
 * mv_guest_check) while the hand turns over pages that joined 70 s
 * apart, and while pages leave the clocks from their middles. */
static void test_clock_times_hold_across_long_gaps(void **st)
{
	(void)st;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(late, "late.xml", "examples", &sc, &err),
	       &err, "mv_scenario_load_string");
	sc->access_model = MV_MODEL_INTERVAL;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 1, &s, &err), &err, "mv_sim_create");
	assert_int_equal(s->interval_guests, 1);
	const struct mv_guest *g = s->guest[0];
	uint64_t most = 0;
	while (s->now_ns < sc->duration_ns) {
		mvt_ok(mv_sim_step(s, &err), &err, "mv_sim_step");
		if (g->big.n > most)
			most = g->big.n;
	}
	printf("note: %llu checks, at most %llu large differences, %llu "
	       "pages swapped out\n",
	       (unsigned long long)s->verify_checks, (unsigned long long)most,
	       (unsigned long long)g->st.swap_out);
	assert_true(s->verify_checks > 0);
	assert_true(most > 0);
	assert_true(g->st.swap_out > 0); /* the hand turned */
	mv_sim_destroy(s);
	/* pages leave the clocks from anywhere in them: sets that shrink,
	 * move and stop (dropping the difference of a page leaving from
	 * the middle fails here) */
	mvt_ok(mv_scenario_load_string(moving, "moving.xml", "examples", &sc,
				       &err),
	       &err, "mv_scenario_load_string");
	sc->access_model = MV_MODEL_INTERVAL;
	mvt_ok(mv_sim_create(sc, 1, &s, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	assert_true(s->verify_checks > 0);
	mv_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invariants_hold_in_the_interval_model),
		cmocka_unit_test(test_clock_times_hold_across_long_gaps),
		cmocka_unit_test(test_active_set_kept_equals_the_walk),
		cmocka_unit_test(test_two_interval_runs_are_identical),
		cmocka_unit_test(test_events_past_the_end_change_nothing),
		cmocka_unit_test(test_auto_is_exact_for_small_runs),
		cmocka_unit_test(test_mmu_guests_stay_exact),
		cmocka_unit_test(test_demo_agrees),
		cmocka_unit_test(test_reclaim_examples_agree),
		cmocka_unit_test(test_paper_examples_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
