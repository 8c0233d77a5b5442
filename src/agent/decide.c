/*
 * decide.c - one interval of the agent's policy: live figures in, balloon
 * targets and KSM settings out.
 *
 * The allocation is ESX's, from src/policy, the code the simulator runs:
 * the free-memory state (with its hysteresis) from the host's free
 * fraction, then mv_policy_plan's min-funding revocation over what each
 * guest holds (its QEMU process's RSS), its shares, its reservation and
 * limit and its active fraction (the idle memory tax), which returns a
 * balloon size per guest. The policy speaks of pages and balloon sizes;
 * libvirt speaks of the balloon's "actual" (the memory the guest has), so
 * target actual = <memory> - balloon size.
 *
 * On top of the plan, the rules a real balloon needs (oVirt MOM's default
 * balloon policy, balloon.rules):
 *   - never below what the guest uses plus a margin: floor = use + 20%
 *     of actual (MOM's min_guest_free_percent), use from one statistics
 *     report (mv_agent_use_kib, as `record` writes it: not actual -
 *     unused, whose actual is read at the call while unused can be a
 *     stats period old); a guest already below it is not inflated
 *     further;
 *   - never below the reservation (memtune min_guarantee or soft_limit),
 *     whatever else says;
 *   - never above the <currentMemory> the administrator set, nor above the
 *     hard_limit;
 *   - at most 5% of the guest's memory per interval (MOM's
 *     max_balloon_change_percent), and no move smaller than 0.25% of its
 *     actual (min_balloon_change_percent) unless it reaches a bound.
 * A guest without a balloon driver, or whose stats could not be read (or
 * report no unused memory: stats period 0), keeps its size: the agent
 * does not guess what it may take from it. It still counts in the plan.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/decide.h"

static const char *const reason_names[MV_AGENT_REASON_COUNT] = {
	[MV_AGENT_HOLD] = "hold",
	[MV_AGENT_RECLAIM] = "reclaim",
	[MV_AGENT_LIMIT] = "limit",
	[MV_AGENT_DEFLATE] = "deflate",
	[MV_AGENT_FLOOR] = "floor",
	[MV_AGENT_RESERVATION] = "reservation",
	[MV_AGENT_NO_BALLOON] = "no-balloon",
	[MV_AGENT_NO_STATS] = "no-stats",
};

const char *mv_agent_reason_name(enum mv_agent_reason r)
{
	return (unsigned)r < MV_AGENT_REASON_COUNT ? reason_names[r] : "?";
}

const char *mv_agent_active_src_name(enum mv_agent_active_src s)
{
	switch (s) {
	case MV_AGENT_ACTIVE_REFERENCED:
		return "host-referenced";
	case MV_AGENT_ACTIVE_GUEST:
		return "guest-stats";
	default:
		return "none";
	}
}

void mv_agent_config_default(struct mv_agent_config *c)
{
	memset(c, 0, sizeof *c);
	c->model = MV_MEMSTATE_ESX41;
	c->idle_tax = 0.75;
	c->max_change = 0.05;
	c->guest_free = 0.20;
	c->min_change = 0.0025;
	c->ksm = 1;
}

void mv_agent_policy_init(struct mv_agent_policy *p,
			  const struct mv_agent_config *cfg)
{
	memset(p, 0, sizeof *p);
	p->cfg = *cfg;
}

#define KIB_PER_PAGE (MV_PAGE_SIZE / 1024)

static uint64_t pages(uint64_t kib)
{
	return kib / KIB_PER_PAGE;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* What the guest uses, from its last statistics report (g->stats). */
static uint64_t use_kib(const struct mv_agent_guest_in *g)
{
	return mv_agent_use_kib(g->max_kib, g->actual_kib, g->available_kib,
				g->unused_kib, g->outside_kib);
}

/* What the guest holds of the host: its QEMU process's RSS, else its use. */
static uint64_t held_kib(const struct mv_agent_guest_in *g)
{
	if (g->rss_kib)
		return g->rss_kib;
	if (g->stats)
		return use_kib(g);
	return g->actual_kib;
}

static void policy_vm(const struct mv_agent_config *c,
		      const struct mv_agent_guest_in *g, struct mv_policy_vm *v)
{
	memset(v, 0, sizeof *v);
	v->size = pages(g->max_kib);
	v->consumed = pages(held_kib(g));
	v->reservation = pages(g->reservation_kib);
	v->limit = g->limit_kib ? pages(g->limit_kib) : UINT64_MAX / 4;
	v->shares = g->shares;
	/* the policy's f is of what the VM holds; ours is of its memory */
	double act = g->active * (double)v->size;
	v->active = v->consumed ? act / (double)v->consumed : 0;
	if (v->active > 1)
		v->active = 1;
	v->balloon = g->balloon && g->stats;
	uint64_t actual = min_u64(g->actual_kib, g->max_kib);
	uint64_t current = min_u64(g->current_kib, g->max_kib);
	v->balloon_size = pages(g->max_kib - actual);
	v->balloon_min = pages(g->max_kib - current);
	v->balloon_max = max_u64(
		pages(g->max_kib - min_u64(g->reservation_kib, g->max_kib)),
		v->balloon_min);
	v->balloon_step = (uint64_t)(c->max_change * (double)v->size);
	v->balloon_yield = 1.0;
}

/* Turn the plan's balloon size into this interval's target actual. */
static void bound(const struct mv_agent_config *c, int reclaiming,
		  const struct mv_agent_guest_in *g, uint64_t balloon_target,
		  struct mv_agent_guest_out *o)
{
	uint64_t actual = g->actual_kib;
	uint64_t bt = balloon_target * KIB_PER_PAGE;
	uint64_t plan = g->max_kib > bt ? g->max_kib - bt : 0;
	o->plan_kib = plan;
	uint64_t t = plan;
	enum mv_agent_reason why = MV_AGENT_HOLD;
	if (t < actual)
		why = g->limit_kib && held_kib(g) > g->limit_kib
			      ? MV_AGENT_LIMIT
			      : MV_AGENT_RECLAIM;
	else if (t > actual)
		why = MV_AGENT_DEFLATE;

	/* the ceiling: the administrator's currentMemory and hard_limit */
	uint64_t ceil = min_u64(g->current_kib, g->max_kib);
	if (g->limit_kib && g->limit_kib < ceil) {
		ceil = g->limit_kib;
		if (t > ceil || actual > ceil)
			why = MV_AGENT_LIMIT;
	}
	if (t > ceil)
		t = ceil;

	/* the floor: use plus the margin (not raised to it: a guest below
	 * is only not inflated), the reservation (always) */
	uint64_t need = use_kib(g) + (uint64_t)(c->guest_free * (double)actual);
	uint64_t res = min_u64(g->reservation_kib, ceil);
	o->floor_kib = min_u64(max_u64(need, res), ceil);
	uint64_t lo = max_u64(min_u64(need, actual), res);
	lo = min_u64(lo, ceil);
	if (t < lo || (reclaiming && t == lo && why != MV_AGENT_DEFLATE)) {
		/* held at a floor while the host wants memory back */
		t = lo;
		why = lo == res && res >= min_u64(need, actual)
			      ? MV_AGENT_RESERVATION
			      : MV_AGENT_FLOOR;
	}

	/* the rate: at most max_change of its memory per interval */
	uint64_t step = (uint64_t)(c->max_change * (double)g->max_kib);
	if (t + step < actual)
		t = actual - step;
	else if (t > actual + step)
		t = actual + step;
	/* and no move too small to be worth a balloon operation, unless it
	 * lands on a bound */
	uint64_t d = t > actual ? t - actual : actual - t;
	if (d && d < (uint64_t)(c->min_change * (double)actual) && t != lo &&
	    t != ceil)
		t = actual;
	o->target_kib = t;
	o->change = t != actual;
	if (!o->change && why != MV_AGENT_FLOOR && why != MV_AGENT_RESERVATION)
		why = MV_AGENT_HOLD;
	o->reason = why;
}

void mv_agent_ksmtuned(const struct mv_agent_host_in *h,
		       struct mv_agent_ksm_out *out)
{
	uint64_t thres = h->total_kib * 20 / 100;
	if (thres < 2048)
		thres = 2048;
	uint64_t sleep = h->total_kib ? 10ull * 16 * 1024 * 1024 / h->total_kib
				      : 10;
	out->sleep_millisecs = sleep < 10 ? 10 : sleep;
	out->pages_to_scan = h->ksm_pages_to_scan;
	if (h->committed_kib + thres < h->total_kib) {
		out->run = 0; /* the guests fit: nothing to merge for */
		return;
	}
	out->run = 1;
	int64_t n = (int64_t)h->ksm_pages_to_scan +
		    (h->mem_free_kib < thres ? 300 : -50);
	out->pages_to_scan = n < 64 ? 64 : n > 1250 ? 1250 : (uint64_t)n;
}

enum mv_memstate mv_agent_decide(struct mv_agent_policy *p,
				 const struct mv_agent_host_in *h, int n,
				 const struct mv_agent_guest_in *g,
				 struct mv_agent_guest_out *out,
				 struct mv_agent_ksm_out *ksm)
{
	const struct mv_agent_config *c = &p->cfg;
	uint64_t total = pages(h->total_kib);
	if (p->total_kib != h->total_kib) {
		struct mv_host_config hc; /* ESX 4.1's default lines */
		mv_host_config_default(&hc);
		mv_memstate_init(&p->memstate, c->model, &hc.thresholds,
				 h->total_kib * 1024);
		p->total_kib = h->total_kib;
	}
	double free_frac = total ? (double)pages(h->free_kib) / (double)total
				 : 0;
	enum mv_memstate st = mv_memstate_update(&p->memstate, free_frac);

	struct mv_policy_vm pv[n > 0 ? n : 1];
	struct mv_policy_action act[n > 0 ? n : 1];
	for (int i = 0; i < n; i++)
		policy_vm(c, &g[i], &pv[i]);
	struct mv_policy_host ph = {
		.total = total,
		.free = pages(h->free_kib),
		.state = st,
		.goal = mv_memstate_goal(&p->memstate),
		.soft = p->memstate.line[MV_MEMSTATE_SOFT],
		.margin = p->memstate.margin,
		.idle_tax = c->idle_tax,
	};
	mv_policy_plan(&ph, n, pv, act);
	for (int i = 0; i < n; i++) {
		struct mv_agent_guest_out *o = &out[i];
		memset(o, 0, sizeof *o);
		o->rho = act[i].rho;
		if (!g[i].balloon || !g[i].stats) {
			o->target_kib = o->plan_kib = g[i].actual_kib;
			o->floor_kib = g[i].reservation_kib;
			o->reason = g[i].balloon ? MV_AGENT_NO_STATS
						 : MV_AGENT_NO_BALLOON;
			continue;
		}
		bound(c, st >= MV_MEMSTATE_SOFT, &g[i], act[i].balloon_target,
		      o);
	}
	if (ksm && c->ksm)
		mv_agent_ksmtuned(h, ksm);
	return st;
}

/* ---- a guest's use from its statistics (the agent's floor, record) --- */

uint64_t mv_agent_use_kib(uint64_t memory, uint64_t actual, uint64_t available,
			  uint64_t unused, uint64_t outside)
{
	uint64_t in = available ? available + outside : actual;
	uint64_t used = in > unused ? in - unused : 0;
	return used < memory ? used : memory;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The most frequent of v[0..n) (sorted in place), the least on a tie. */
static uint64_t mode_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
	uint64_t best = v[0];
	for (size_t i = 0, most = 0; i < n;) {
		size_t j = i;
		while (j < n && v[j] == v[i])
			j++;
		if (j - i > most) {
			most = j - i;
			best = v[i];
		}
		i = j;
	}
	return best;
}

uint64_t mv_agent_outside_kib(const uint64_t *actual, const uint64_t *available,
			      size_t n)
{
	uint64_t *rest = malloc((n ? n : 1) * sizeof *rest),
		 *all = malloc((n ? n : 1) * sizeof *all);
	size_t nr = 0, na = 0;
	uint64_t r = 0;
	if (!rest || !all)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!available[i] || available[i] > actual[i])
			continue;
		all[na++] = actual[i] - available[i];
		if (i && actual[i] == actual[i - 1])
			rest[nr++] = actual[i] - available[i];
	}
	r = nr ? mode_u64(rest, nr) : na ? mode_u64(all, na) : 0;
out:
	free(rest);
	free(all);
	return r;
}

uint64_t mv_agent_stats_used_kib(uint64_t actual, uint64_t available,
				 uint64_t spare)
{
	uint64_t all = available ? available : actual;
	return all > spare ? all - spare : 0;
}
