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
 *     5% of the larger, or 5 pages/s when both are below 100;
 *   - the worst VM's stall, within 5% of the larger, or 0.1% of the run.
 *
 * The examples are run with shorter durations where noted, so that the
 * whole test takes under a minute on the reference machine; the figures
 * each pair gave are printed as notes. Run from the source root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define CHECK(name, a, b, rel, floor)                                        \
	do {                                                                 \
		if (!near((a), (b), (rel), (floor))) {                       \
			printf("note: %s: %s exact %.4g, interval %.4g\n",   \
			       path, (name), (a), (b));                      \
			bad++;                                               \
		}                                                            \
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
	       e.swapin_per_s, i.swapin_per_s, e.worst_stall_s,
	       i.worst_stall_s, e.state_s[MV_MEMSTATE_HIGH],
	       i.state_s[MV_MEMSTATE_HIGH], e.state_s[MV_MEMSTATE_SOFT],
	       i.state_s[MV_MEMSTATE_SOFT], e.state_s[MV_MEMSTATE_HARD],
	       i.state_s[MV_MEMSTATE_HARD], e.state_s[MV_MEMSTATE_LOW],
	       i.state_s[MV_MEMSTATE_LOW]);
	int bad = 0;
	double host = 0.05 * e.host_pages;
	CHECK("sharing saved", e.shared, i.shared, 0.05, host);
	CHECK("ballooned", e.balloon, i.balloon, 0.05, host);
	CHECK("compressed", e.compressed, i.compressed, 0.05, host);
	CHECK("swapped", e.swapped, i.swapped, 0.05, host);
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		CHECK(mv_memstate_name((enum mv_memstate)k), e.state_s[k],
		      i.state_s[k], 0, 0.05 * e.duration_s);
	CHECK("swap-in rate", e.swapin_per_s, i.swapin_per_s, 0.05, 5);
	CHECK("worst stall", e.worst_stall_s, i.worst_stall_s, 0.05,
	      0.001 * e.duration_s);
	mv_sim_destroy(se);
	mv_sim_destroy(si);
	return bad;
}

static void test_demo_agrees(void **st)
{
	(void)st;
	assert_int_equal(agree("examples/overcommit.xml", 0), 0);
}

static void test_reclaim_examples_agree(void **st)
{
	(void)st;
	int bad = agree("examples/reclaim/sharing.xml", 0);
	bad += agree("examples/reclaim/ballooning.xml", 0);
	bad += agree("examples/reclaim/compression.xml", 0);
	bad += agree("examples/reclaim/swapping.xml", 0);
	assert_int_equal(bad, 0);
}

static void test_paper_examples_agree(void **st)
{
	(void)st;
	int bad = agree("examples/paper/idle-tax-0.xml", 0);
	bad += agree("examples/paper/idle-tax.xml", 0);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_agrees),
		cmocka_unit_test(test_reclaim_examples_agree),
		cmocka_unit_test(test_paper_examples_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
