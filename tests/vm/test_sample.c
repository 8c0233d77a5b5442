/*
 * Tests of active-memory sampling (src/vm/sample.c): the estimator of
 * Waldspurger, OSDI 2002, section 5.3, against the true set of pages a
 * synthetic guest touches.
 */
#include <math.h>
#include <stdlib.h>

#include "support/mvtest.h"

#define PERIOD (30 * MV_NS_PER_S)

struct fix {
	struct mv_host *h;
	struct mv_vm *vm;
	uint64_t now;
};

static void fix_init(struct fix *f, uint64_t mib, uint64_t seed)
{
	f->h = mvt_host(mib + 16, 1);
	f->vm = mvt_vm(f->h, "a", mib, 0);
	struct mv_active_config c;
	mv_active_config_default(&c);
	assert_int_equal(mv_vm_active_configure(f->vm, &c, seed, 0), 0);
	f->now = 0;
}

static void fix_fini(struct fix *f)
{
	mv_vm_destroy(f->vm);
	mv_host_destroy(f->h);
}

/*
 * One sampling period of a guest that touches pages [lo, hi) (every page,
 * spread over the period in 10 steps, as a guest loops over its working
 * set); ends with the tick that closes the period. Returns the estimate.
 */
static uint64_t run_period(struct fix *f, uint64_t lo, uint64_t hi)
{
	for (int step = 0; step < 10; step++) {
		for (uint64_t g = lo + (uint64_t)step; g < hi; g += 10)
			assert_non_null(mv_vm_access(f->vm, g, g & 1));
		f->now += PERIOD / 10;
		mv_vm_active_tick(f->vm, f->now);
	}
	return mv_vm_active_estimate(f->vm);
}

static uint64_t count_sampled(const struct mv_vm *vm)
{
	uint64_t n = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		n += (vm->pmap[g].flags & MV_PME_SAMPLED) != 0;
	return n;
}

static void test_each_period_marks_n_distinct_pages(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 1);
	assert_int_equal(f.vm->active.n, 100);
	assert_int_equal(count_sampled(f.vm), 100);
	/* a tick inside the period changes nothing */
	mv_vm_active_tick(f.vm, PERIOD - 1);
	assert_int_equal(f.vm->active.periods, 0);
	mv_vm_active_tick(f.vm, PERIOD);
	assert_int_equal(f.vm->active.periods, 1);
	/* the old marks are gone, exactly n new ones set */
	assert_int_equal(count_sampled(f.vm), 100);
	assert_int_equal(f.vm->active.period_end_ns, 2 * PERIOD);
	/* a step spanning several periods keeps the boundaries on the grid */
	mv_vm_active_tick(f.vm, 5 * PERIOD + 7);
	assert_int_equal(f.vm->active.period_end_ns, 6 * PERIOD);
	fix_fini(&f);
}

static void
test_touching_a_sampled_page_counts_once_and_keeps_the_window(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 2);
	mv_gppn_t g = f.vm->active.sample[0];
	mv_gppn_t other = g == 0 ? 1 : 0;
	/* an unsampled page, already accessed: the common case */
	if (!(f.vm->pmap[other].flags & MV_PME_SAMPLED)) {
		mv_vm_access(f.vm, other, 1);
		mv_vm_access(f.vm, other, 0);
		assert_int_equal(f.vm->active.touched, 0);
	}
	uint64_t win = f.vm->window_accessed;
	mv_vm_access(f.vm, g, 1); /* first touch: fault path */
	assert_int_equal(f.vm->active.touched, 1);
	assert_int_equal(f.vm->window_accessed, win + 1);
	assert_false(f.vm->pmap[g].flags & MV_PME_SAMPLED);
	mv_vm_access(f.vm, g, 0); /* fast path, mark gone: no recount */
	mv_vm_access(f.vm, g, 1);
	assert_int_equal(f.vm->active.touched, 1);
	assert_int_equal(f.vm->window_accessed, win + 1);
	fix_fini(&f);
}

static void test_sampled_page_touched_on_the_fast_path_is_counted(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 4, 3);
	/* make every page resident, then start a fresh period */
	for (mv_gppn_t g = 0; g < f.vm->npages; g++)
		mv_vm_access(f.vm, g, 1);
	mv_vm_active_tick(f.vm, PERIOD);
	assert_int_equal(f.vm->active.touched, 0);
	uint64_t faults = f.vm->ctr.faults[MV_FAULT_ZERO_FILL];
	for (uint32_t i = 0; i < 10; i++)
		mv_vm_access(f.vm, f.vm->active.sample[i], 0);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_ZERO_FILL], faults);
	assert_int_equal(f.vm->active.touched, 10);
	fix_fini(&f);
}

static void test_idle_vm_estimates_zero(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 4);
	/* touched once at boot, then idle */
	for (mv_gppn_t g = 0; g < f.vm->npages; g++)
		mv_vm_access(f.vm, g, 1);
	for (int p = 0; p < 40; p++)
		run_period(&f, 0, 0);
	assert_true(f.vm->active.last == 0.0);
	assert_true(f.vm->active.fast < 1e-9);
	/* the boot period (f = 1) has decayed out of the slow average:
	 * 0.74^39 < 1e-5 */
	assert_true(mv_vm_active_estimate(f.vm) < f.vm->npages / 50);
	fix_fini(&f);
}

static void
test_steady_working_set_is_estimated_within_sampling_error(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 5);
	uint64_t ws = f.vm->npages / 4;
	double sum = 0;
	int np = 0;
	for (int p = 0; p < 40; p++) {
		uint64_t est = run_period(&f, 0, ws);
		mv_vm_close_window(f.vm);
		assert_int_equal(f.vm->active_true, ws);
		if (p >= 10) {
			sum += (double)est;
			np++;
		}
	}
	/* n = 100, f = 0.25: one period's f has sd sqrt(f(1-f)/n) = 0.043;
	 * the max of three averages leans high, never far */
	double mean = sum / np / (double)f.vm->npages;
	assert_true(mean > 0.22 && mean < 0.36);
	fix_fini(&f);
}

static void
test_estimate_follows_an_increase_fast_and_decays_slowly(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 6);
	uint64_t np = f.vm->npages, small = np / 10, big = np * 6 / 10;
	for (int p = 0; p < 20; p++)
		run_period(&f, 0, small);
	assert_true(mv_vm_active_estimate(f.vm) < np * 2 / 10);
	/* working set grows sixfold: within one period the fast average
	 * (gain 0.9) has 9/10 of the step, 0.1 + 0.9 * 0.5 = 0.55 (one
	 * period's f has sd 0.05 at f = 0.6) */
	uint64_t e1 = run_period(&f, 0, big);
	assert_true(e1 > np * 45 / 100);
	for (int p = 0; p < 20; p++)
		run_period(&f, 0, big);
	/* and shrinks back: three periods later the slow average (gain
	 * 0.26) still holds 0.1 + 0.5 * 0.74^3 = 0.30 of memory, the fast
	 * one has followed */
	for (int p = 0; p < 3; p++)
		run_period(&f, 0, small);
	uint64_t e3 = mv_vm_active_estimate(f.vm);
	assert_true(e3 > np * 23 / 100);
	assert_true(f.vm->active.fast < 0.2);
	/* it does decay: 30 periods on, 0.1 + 0.5 * 0.74^30 = 0.10 */
	for (int p = 0; p < 30; p++)
		run_period(&f, 0, small);
	assert_true(mv_vm_active_estimate(f.vm) < np * 18 / 100);
	fix_fini(&f);
}

static void test_current_period_shows_an_increase_before_it_ends(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 7);
	for (int p = 0; p < 10; p++)
		run_period(&f, 0, 0);
	assert_int_equal(mv_vm_active_estimate(f.vm), 0);
	/* the whole VM touched early in a period */
	for (mv_gppn_t g = 0; g < f.vm->npages; g++)
		mv_vm_access(f.vm, g, 0);
	mv_vm_active_tick(f.vm, f.now + PERIOD / 3);
	/* fast average with this period's t/n = 1 folded in: 0.9 */
	assert_int_equal(mv_vm_active_estimate(f.vm), f.vm->npages * 9 / 10);
	fix_fini(&f);
}

/* Waldspurger 2002, figure 6: after the toucher stops, the estimate (the
 * slow average) keeps 0.74 per 30 s period of what lay above the
 * background; the fast average has dropped to it within a period. */
static void test_slow_average_keeps_074_per_period_after_a_drop(void **state)
{
	(void)state;
	struct mv_active_sampler a = {0};
	mv_active_config_default(&a.cfg);
	mv_active_fold(&a, 0.6);
	for (int k = 1; k <= 10; k++) {
		mv_active_fold(&a, 0.1);
		assert_true(fabs(a.slow - (0.1 + 0.5 * pow(0.74, k))) < 1e-12);
		assert_true(fabs(a.fast - (0.1 + 0.5 * pow(0.1, k))) < 1e-12);
		/* no sample: the estimate is the larger average */
		assert_true(mv_active_estimate(&a) == a.slow);
	}
}

/* The interval model's rates: pages [0, npages / 2) at 1 access/s. */
static double half_at_one_per_s(void *ctx, const struct mv_vm *vm, mv_gppn_t g,
				double *wr)
{
	(void)ctx;
	*wr = 0;
	return g < vm->npages / 2 ? 1.0 : 0.0;
}

static void
test_interval_model_counts_resident_touches_part_way_through(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 9);
	for (int p = 0; p < 10; p++)
		run_period(&f, 0, 0);
	assert_int_equal(mv_vm_active_estimate(f.vm), 0);
	/* no events: half the VM, resident, accessed once a second */
	f.vm->rate_of = half_at_one_per_s;
	uint64_t start = f.now;
	mv_vm_active_tick(f.vm, start + 100 * MV_NS_PER_MS);
	uint64_t early = mv_vm_active_estimate(f.vm);
	mv_vm_active_tick(f.vm, start + 10 * MV_NS_PER_S);
	uint64_t mid = mv_vm_active_estimate(f.vm);
	/* 0.1 s in: each page drawn touched with p = 1 - e^-0.1 = 0.095;
	 * 10 s in, all but e^-10 of them: 0.9 x 0.5 of memory, give or take
	 * the sample's sd of 0.05 */
	assert_true(early < f.vm->npages / 10);
	assert_true(mid > f.vm->npages * 35 / 100);
	/* the count is a query: the sample is unchanged until the end */
	assert_int_equal(f.vm->active.touched, 0);
	assert_int_equal(count_sampled(f.vm), 100);
	/* and the end of the period counts what the middle showed, or more */
	mv_vm_active_tick(f.vm, start + PERIOD);
	assert_true(mv_vm_active_estimate(f.vm) >= mid);
	f.vm->rate_of = NULL;
	fix_fini(&f);
}

static void test_sample_covers_a_vm_smaller_than_n(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 8);
	struct mv_active_config c;
	mv_active_config_default(&c);
	c.pages = 1000000;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 8, 0), 0);
	assert_int_equal(f.vm->active.n, f.vm->npages);
	assert_int_equal(count_sampled(f.vm), f.vm->npages);
	run_period(&f, 0, f.vm->npages / 2);
	/* every page sampled: the figure is exact */
	assert_int_equal(mv_vm_active_estimate(f.vm), f.vm->npages / 2);
	/* back to 100: only 100 marks remain */
	c.pages = 100;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 8, f.now), 0);
	assert_int_equal(count_sampled(f.vm), 100);
	fix_fini(&f);
}

/*
 * <sampling phase>: the first period ends phase after the start, the
 * others every period after it (a replay's periods ending when the
 * measured ones did); a phase longer than the period is refused.
 */
static void test_phase_ends_the_first_period_early(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 16, 8);
	struct mv_active_config c;
	mv_active_config_default(&c);
	c.pages = 1000000; /* every page: the fractions are exact */
	c.phase_ns = 10 * MV_NS_PER_S;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 8, 0), 0);
	for (mv_gppn_t g = 0; g < f.vm->npages / 2; g++)
		assert_non_null(mv_vm_access(f.vm, g, 0));
	mv_vm_active_tick(f.vm, 10 * MV_NS_PER_S - 1);
	assert_int_equal(f.vm->active.periods, 0);
	mv_vm_active_tick(f.vm, 10 * MV_NS_PER_S);
	assert_int_equal(f.vm->active.periods, 1);
	assert_true(f.vm->active.last == 0.5);
	/* the next one a whole period later, at 40 s, not at 30 or 20 */
	mv_vm_active_tick(f.vm, 40 * MV_NS_PER_S - 1);
	assert_int_equal(f.vm->active.periods, 1);
	mv_vm_active_tick(f.vm, 40 * MV_NS_PER_S);
	assert_int_equal(f.vm->active.periods, 2);
	assert_true(f.vm->active.last == 0);
	c.phase_ns = c.period_ns + 1;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 8, 0), MV_EINVAL);
	fix_fini(&f);
}

static void test_same_seed_same_estimates(void **state)
{
	(void)state;
	uint64_t est[3];
	uint64_t seeds[3] = {9, 9, 10};
	for (int k = 0; k < 3; k++) {
		struct fix f;
		fix_init(&f, 16, seeds[k]);
		for (int p = 0; p < 5; p++)
			run_period(&f, 0, f.vm->npages / 3);
		est[k] = mv_vm_active_estimate(f.vm);
		fix_fini(&f);
	}
	assert_int_equal(est[0], est[1]);
	assert_int_not_equal(est[0], est[2]);
}

static void test_configure_rejects_zero_size_period_and_bad_gains(void **state)
{
	(void)state;
	struct fix f;
	fix_init(&f, 4, 11);
	struct mv_active_config c;
	mv_active_config_default(&c);
	c.pages = 0;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 1, 0), MV_EINVAL);
	mv_active_config_default(&c);
	c.period_ns = 0;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 1, 0), MV_EINVAL);
	mv_active_config_default(&c);
	c.fast_gain = 0;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 1, 0), MV_EINVAL);
	c.fast_gain = 1.5;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 1, 0), MV_EINVAL);
	mv_active_config_default(&c);
	c.slow_gain = NAN;
	assert_int_equal(mv_vm_active_configure(f.vm, &c, 1, 0), MV_EINVAL);
	/* the old sampler is untouched by a rejected configuration */
	assert_int_equal(count_sampled(f.vm), 100);
	fix_fini(&f);
}

/* Pack a's carried state; the bytes in *buf, their count returned. */
static size_t carry_bytes(const struct mv_vm *a, uint8_t **buf)
{
	struct mv_pack w = {0};
	assert_int_equal(mv_vm_carry_pack(a, &w), 0);
	*buf = w.b;
	return w.n;
}

static int carry_into(struct mv_vm *b, const uint8_t *buf, size_t n,
		      struct mv_error *err)
{
	struct mv_unpack r = {.p = buf, .left = n};
	return mv_vm_carry_unpack(b, &r, err);
}

/*
 * What a live migration carries besides the pages (src/vm/carry.c): a VM
 * that takes a's packed state estimates, samples and counts as a does,
 * now and after another period of the same accesses; a cut or altered
 * buffer is refused naming its part and changes nothing.
 */
static void test_carried_state_makes_another_vm_sample_as_this_one(
	void **state)
{
	(void)state;
	struct fix a;
	fix_init(&a, 8, 3);
	run_period(&a, 0, 700);
	for (uint64_t g = 100; g < 400; g += 3) /* a part period */
		assert_non_null(mv_vm_access(a.vm, g, 1));
	a.now += PERIOD / 3;
	mv_vm_active_tick(a.vm, a.now);
	struct mv_vm *b = mvt_vm(a.h, "b", 8, 1);
	struct mv_active_config c;
	mv_active_config_default(&c);
	assert_int_equal(mv_vm_active_configure(b, &c, 99, 0), 0);

	uint8_t *buf;
	size_t n = carry_bytes(a.vm, &buf);
	struct mv_error err = {0};
	/* cut anywhere, or a sampled page past the VM: refused, b as it was */
	struct mv_vm_counters before = b->ctr;
	for (size_t cut = 0; cut < n; cut += cut < 64 ? 1 : n / 97 + 1) {
		assert_int_equal(carry_into(b, buf, cut, &err), MV_EINVAL);
		assert_non_null(strstr(err.msg, "cut or altered"));
	}
	assert_memory_equal(&b->ctr, &before, sizeof before);
	assert_int_not_equal(b->active.rng.s[0], a.vm->active.rng.s[0]);
	size_t at = 16 + a.vm->npages + sizeof(struct mv_active_sampler);
	uint8_t keep[sizeof(mv_gppn_t)];
	memcpy(keep, buf + at, sizeof keep);
	memset(buf + at, 0xff, sizeof keep);
	assert_int_equal(carry_into(b, buf, n, &err), MV_EINVAL);
	assert_non_null(strstr(err.msg, "active-memory sample"));
	memcpy(buf + at, keep, sizeof keep);

	assert_int_equal(carry_into(b, buf, n, &err), 0);
	free(buf);
	assert_memory_equal(&b->ctr, &a.vm->ctr, sizeof b->ctr);
	assert_int_equal(b->active.n, a.vm->active.n);
	assert_memory_equal(b->active.sample, a.vm->active.sample,
			    a.vm->active.n * sizeof *b->active.sample);
	assert_int_equal(b->window_accessed, a.vm->window_accessed);
	assert_true(b->window_accessed > 0);
	assert_int_equal(b->window_cap, a.vm->window_cap);
	for (mv_gppn_t g = 0; g < b->npages; g++)
		assert_int_equal(b->pmap[g].flags & 5u,
				 a.vm->pmap[g].flags & 5u);
	assert_int_equal(mv_vm_active_estimate(b), mv_vm_active_estimate(a.vm));
	/* both run on alike: the same estimates, the same next sample */
	struct fix bf = {.h = a.h, .vm = b, .now = a.now};
	for (int p = 0; p < 2; p++)
		assert_int_equal(run_period(&bf, 50, 2000),
				 run_period(&a, 50, 2000));
	assert_memory_equal(b->active.sample, a.vm->active.sample,
			    a.vm->active.n * sizeof *b->active.sample);
	assert_int_equal(count_sampled(b), count_sampled(a.vm));
	mv_vm_destroy(b);
	fix_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_period_marks_n_distinct_pages),
		cmocka_unit_test(
			test_touching_a_sampled_page_counts_once_and_keeps_the_window),
		cmocka_unit_test(
			test_sampled_page_touched_on_the_fast_path_is_counted),
		cmocka_unit_test(test_idle_vm_estimates_zero),
		cmocka_unit_test(
			test_steady_working_set_is_estimated_within_sampling_error),
		cmocka_unit_test(
			test_estimate_follows_an_increase_fast_and_decays_slowly),
		cmocka_unit_test(
			test_slow_average_keeps_074_per_period_after_a_drop),
		cmocka_unit_test(
			test_interval_model_counts_resident_touches_part_way_through),
		cmocka_unit_test(
			test_current_period_shows_an_increase_before_it_ends),
		cmocka_unit_test(test_sample_covers_a_vm_smaller_than_n),
		cmocka_unit_test(test_phase_ends_the_first_period_early),
		cmocka_unit_test(test_same_seed_same_estimates),
		cmocka_unit_test(
			test_configure_rejects_zero_size_period_and_bad_gains),
		cmocka_unit_test(
			test_carried_state_makes_another_vm_sample_as_this_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
