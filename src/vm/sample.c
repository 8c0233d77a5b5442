/*
 * sample.c - active-memory estimation by statistical sampling, as ESX does.
 *
 * Source: C. A. Waldspurger, "Memory Resource Management in VMware ESX
 * Server", OSDI 2002, section 5.3 "Measuring Idle Memory". The hypervisor
 * cannot see a guest's working set; it estimates it without guest help:
 *
 *   - at the start of each sampling period, n of the VM's "physical" pages
 *     are chosen at random, uniformly (the paper's default: 100 pages per
 *     30 s period);
 *   - each is invalidated so the next guest access traps and counts it. In
 *     ESX that is a dropped TLB / shadow mapping and a minor fault; here the
 *     page is marked MV_PME_SAMPLED and mv_vm_note_access() (inline in
 *     vm.h, on every access path) counts and clears the mark. A page without
 *     the mark costs nothing extra: the fast path already compares the flags
 *     byte for the accessed bit, and the sampled bit joins that one compare;
 *   - at the period's end the touched fraction f = t / n is the estimate of
 *     the fraction of memory in active use.
 *
 * Smoothing, also from the paper: "separate exponentially-weighted moving
 * averages with different gain parameters" (after Kim and Noble's work on
 * balancing stability and agility in network estimators): a slow average
 * for a smooth, stable estimate, a fast one that adapts quickly to working
 * set changes, and a version of the fast average that incorporates the
 * counts of the current period so far, so a sudden increase shows up before
 * the period ends. ESX uses the maximum of the three: quick to believe that
 * a VM needs more memory, slow to believe that it needs less (reclaiming
 * from a VM that is in fact active costs far more than leaving it a little
 * idle memory). Neither the paper nor VMware's documents give the gains
 * (vSphere's resource management guide says only that the estimates
 * "respond rapidly to increases in working set size and more slowly to
 * decreases"); ours are read off the paper's figure 6, whose curves show
 * the slow average keeping about 0.74 of what lies above the background
 * per 30 s period (slow gain 0.26) and the estimate following a rise in
 * the toucher's memory within a period (fast gain 0.9: the current
 * period's count shows 90% of a step as soon as the sampled pages are
 * touched). docs/sampling.md has the figures and the check.
 *
 * The sample is drawn over all configured pages, untouched and ballooned
 * ones included, as in ESX: f is a fraction of the VM's configured memory.
 * Pages are drawn without replacement (a page drawn twice would count once
 * and bias f down). Everything is seeded from the VM, so a run repeats.
 */
#include <math.h>
#include <stdlib.h>

#include "memvisor/vm.h"

void mv_active_config_default(struct mv_active_config *c)
{
	c->pages = 100;
	c->period_ns = 30 * MV_NS_PER_S;
	c->fast_gain = 0.9;  /* Fig. 6: a rise followed within a period */
	c->slow_gain = 0.26; /* Fig. 6: 0.74 kept per period */
	c->phase_ns = 0;
}

/* Drop the marks of pages of the current sample not touched yet. */
static void clear_sample(struct mv_vm *vm)
{
	struct mv_active_sampler *a = &vm->active;
	for (uint32_t i = 0; i < a->n; i++)
		vm->pmap[a->sample[i]].flags &= (uint8_t)~MV_PME_SAMPLED;
}

/* Draw a new sample and open a period that ends at end_ns. */
static void start_period(struct mv_vm *vm, uint64_t end_ns)
{
	struct mv_active_sampler *a = &vm->active;
	clear_sample(vm);
	a->n = a->cfg.pages < vm->npages ? a->cfg.pages : (uint32_t)vm->npages;
	if (a->n == vm->npages) {
		for (uint32_t i = 0; i < a->n; i++) {
			a->sample[i] = i;
			vm->pmap[i].flags |= MV_PME_SAMPLED;
		}
	} else {
		/* Rejection on the mark itself: n <= npages / 2 in any
		 * sensible configuration, so few redraws. */
		for (uint32_t i = 0; i < a->n; i++) {
			mv_gppn_t g;
			do
				g = mv_rng_below(&a->rng, vm->npages);
			while (vm->pmap[g].flags & MV_PME_SAMPLED);
			a->sample[i] = g;
			vm->pmap[g].flags |= MV_PME_SAMPLED;
		}
	}
	a->touched = 0;
	a->period_end_ns = end_ns;
}

/*
 * The interval model keeps no events for resident pages: a sampled page
 * not seen touched is drawn touched with the probability its access rate
 * gives over the time t_s since the period began, 1 - exp(-lambda t_s), by
 * a hash of the page and the period (not the sampler's generator, whose
 * draws pick the next sample). The same uniform decides at any t_s, so a
 * page drawn touched part-way through a period is drawn touched at its
 * end: the current period's count grows as the exact model's does.
 */
static int drawn_touched(const struct mv_vm *vm, mv_gppn_t g, double t_s)
{
	const struct mv_active_sampler *a = &vm->active;
	double wr, lam = vm->rate_of(vm->rate_ctx, vm, g, &wr);
	uint64_t h = mv_mix64(mv_mix64(g ^ ((uint64_t)vm->id << 40)) ^
			      a->periods * 0x9e3779b97f4a7c15ull);
	double u = (double)(h >> 11) * 0x1.0p-53;
	return u < 1 - exp(-lam * t_s);
}

/* The length of the current period: the first is phase_ns when set. */
static uint64_t period_len(const struct mv_active_sampler *a)
{
	return a->periods == 0 && a->cfg.phase_ns ? a->cfg.phase_ns
						  : a->cfg.period_ns;
}

/*
 * Which of sampled pages i0 to i0 + 63 (those there are) are not yet seen
 * touched, bit k for page i0 + k. Their flags are read together, before
 * any page is drawn, then what drawing them will read: random addresses,
 * whose misses overlap only when the loads are independent and near, not
 * one between two draws.
 */
static uint64_t still_sampled(const struct mv_vm *vm, uint32_t i0)
{
	const struct mv_active_sampler *a = &vm->active;
	uint32_t m = a->n - i0 < 64 ? a->n - i0 : 64;
	uint64_t still = 0;
	for (uint32_t k = 0; k < m; k++)
		if (vm->pmap[a->sample[i0 + k]].flags & MV_PME_SAMPLED)
			still |= 1ull << k;
	/* and what their rates will read (the interval model's books) */
	mv_gppn_t p[64];
	unsigned n = 0;
	for (uint64_t s = still; s; s &= s - 1)
		p[n++] = a->sample[i0 + __builtin_ctzll(s)];
	mv_vm_look_ahead(vm, p, n);
	return still;
}

/* At the period's end: the sampled pages drawn touched are counted. */
static void draw_untouched(struct mv_vm *vm)
{
	struct mv_active_sampler *a = &vm->active;
	double period_s = (double)period_len(a) / 1e9;
	for (uint32_t i0 = 0; i0 < a->n; i0 += 64) {
		for (uint64_t m = still_sampled(vm, i0); m; m &= m - 1) {
			mv_gppn_t g = a->sample[i0 + __builtin_ctzll(m)];
			if (drawn_touched(vm, g, period_s)) {
				vm->pmap[g].flags &= (uint8_t)~MV_PME_SAMPLED;
				a->touched++;
			}
		}
	}
}

/* Part-way through a period: the count so far, drawn pages included,
 * without changing the sample (a query, not an event). */
static uint64_t touched_so_far(const struct mv_vm *vm)
{
	const struct mv_active_sampler *a = &vm->active;
	uint64_t start = a->period_end_ns - period_len(a);
	if (!vm->rate_of || a->now_ns <= start)
		return a->touched;
	double t_s = (double)(a->now_ns - start) / 1e9;
	uint64_t t = a->touched;
	for (uint32_t i0 = 0; i0 < a->n; i0 += 64)
		for (uint64_t m = still_sampled(vm, i0); m; m &= m - 1)
			if (drawn_touched(vm,
					  a->sample[i0 + __builtin_ctzll(m)],
					  t_s))
				t++;
	return t;
}

/* Fold the period just ended into the averages. */
static void end_period(struct mv_active_sampler *a)
{
	mv_active_fold(a, a->n ? (double)a->touched / (double)a->n : 0.0);
}

void mv_active_fold(struct mv_active_sampler *a, double f)
{
	if (a->periods == 0) {
		/* no history: start both averages at the first figure rather
		 * than at zero, which would read as "idle" for many periods */
		a->fast = a->slow = f;
	} else {
		a->fast += a->cfg.fast_gain * (f - a->fast);
		a->slow += a->cfg.slow_gain * (f - a->slow);
	}
	a->last = f;
	a->periods++;
}

int mv_vm_active_configure(struct mv_vm *vm, const struct mv_active_config *c,
			   uint64_t seed, uint64_t now_ns)
{
	if (c->pages == 0 || c->period_ns == 0 || !(c->fast_gain > 0) ||
	    c->fast_gain > 1 || !(c->slow_gain > 0) || c->slow_gain > 1 ||
	    c->phase_ns > c->period_ns)
		return MV_EINVAL;
	uint32_t n = c->pages < vm->npages ? c->pages : (uint32_t)vm->npages;
	mv_gppn_t *sample = malloc((n ? n : 1) * sizeof *sample);
	if (!sample)
		return MV_ENOMEM;
	struct mv_active_sampler *a = &vm->active;
	if (a->sample) {
		clear_sample(vm);
		free(a->sample);
	}
	*a = (struct mv_active_sampler){.cfg = *c, .sample = sample};
	mv_rng_seed(&a->rng, seed);
	start_period(vm, now_ns + (c->phase_ns ? c->phase_ns : c->period_ns));
	return 0;
}

void mv_vm_active_tick(struct mv_vm *vm, uint64_t now_ns)
{
	struct mv_active_sampler *a = &vm->active;
	a->now_ns = now_ns;
	if (mv_likely(now_ns < a->period_end_ns) || !a->sample)
		return;
	if (vm->rate_of)
		draw_untouched(vm);
	end_period(a);
	/* keep period boundaries on the grid even if a step spans several */
	uint64_t end = a->period_end_ns + a->cfg.period_ns;
	while (end <= now_ns)
		end += a->cfg.period_ns;
	start_period(vm, end);
}

/* The estimate with t sampled pages touched so far this period. */
static double estimate(const struct mv_active_sampler *a, uint64_t t)
{
	double cur = a->n ? (double)t / (double)a->n : 0.0;
	if (a->periods == 0)
		return cur; /* only this period's count exists yet */
	double m = a->slow > a->fast ? a->slow : a->fast;
	if (a->n == 0)
		return m;
	double with_cur = a->fast + a->cfg.fast_gain * (cur - a->fast);
	return with_cur > m ? with_cur : m;
}

double mv_active_estimate(const struct mv_active_sampler *a)
{
	return estimate(a, a->touched);
}

double mv_vm_active_fraction(const struct mv_vm *vm)
{
	if (vm->active.n == 0)
		return 0.0;
	return estimate(&vm->active, touched_so_far(vm));
}

uint64_t mv_vm_active_estimate(const struct mv_vm *vm)
{
	return (uint64_t)llround(mv_vm_active_fraction(vm) *
				 (double)vm->npages);
}

void mv_vm_active_free(struct mv_vm *vm)
{
	free(vm->active.sample);
	vm->active.sample = NULL;
	vm->active.n = 0;
}
