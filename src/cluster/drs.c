/*
 * drs.c - DRS's decision logic for memory (docs/cluster.md, section 4).
 *
 * A pure function of arrays: the cluster driver gathers each host's and
 * VM's figures, calls mv_drs_decide, and starts the migrations it
 * returns. Nothing here reads a simulator or a clock.
 *
 * Entitlement. A VM's demand is its active-memory estimate plus its
 * overhead, bounded below by reservation + overhead and above by
 * min(limit, configured) + overhead. DRS computes entitlements as if the
 * cluster were one host (Gulati et al., VMware Technical Journal 2012):
 * when the demands fit the memory of the hosts not in maintenance mode,
 * each VM is entitled to its demand; when they do not, each gets its
 * lower bound and the rest is divided in proportion to shares, a VM
 * never getting more than its demand (water-filling: a VM whose share
 * exceeds its demand is capped and the others re-divide what it leaves).
 * Integer pages throughout, products in 128 bits: no rounding that could
 * differ between runs.
 *
 * Imbalance. A host's load is the sum of its VMs' entitlements over its
 * capacity; the imbalance is the population standard deviation of the
 * loads of the hosts not in maintenance mode (vSphere's "current host
 * load standard deviation"; the sum in host order, so the same every
 * run). A move made at imbalance I among N hosts has priority
 * 6 - ceil(I / 0.1 * sqrt(N)) (VMware KB 1007485), kept within 2..5
 * because priority 1 is for mandatory moves; moves of priority <= the
 * level are made, so balancing stops at the target 0.1 (5 - level) /
 * sqrt(N).
 *
 * Moves. Mandatory first: every VM on a host entering maintenance mode,
 * largest entitlement first (so the large ones find room), goes to the
 * admitted host whose resulting imbalance is lowest. Then greedily, while
 * the imbalance's priority is within the level: of every (VM, target)
 * pair, the one that lowers the imbalance most (its goodness), among
 * those that pass the filters; ties to the lower VM, then host index.
 * Each move is evaluated by recomputing the imbalance with it made.
 *
 * Filters. MinGoodness: goodness must be positive and at least
 * min_goodness_step times one priority step (0.1 / sqrt(N)). Cost-benefit:
 * the benefit, the stall the move takes off the source over the next
 * interval, minus what it adds on the destination, discounted by the
 * variability of the VM's demand, must exceed the cost, the migration's
 * total time (the VM counted as fully slowed throughout: an upper bound).
 * A host's contention stall (what the VMs waited for reclaimed memory)
 * is modelled as proportional to its load, at the rate (stall per unit
 * of load) it showed over the last interval: moving a VM off takes its
 * share of the demand's stall with it. A destination that showed stall
 * gains at its own rate; one that showed none gains none while its load
 * stays below the contention load, the lowest load at which a host of
 * the cluster showed stall, and past it is priced at the source's rate
 * for the load above. Admission
 * control: the target's reservations plus overheads, with the VM's, fit
 * its capacity.
 * Concurrency: at most max_per_host migrations in progress or decided per
 * host; a balancing move past it is not made, a mandatory one is queued.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"
#include "memvisor/drs.h"

typedef unsigned __int128 u128;

void mv_drs_config_default(struct mv_drs_config *c)
{
	memset(c, 0, sizeof(*c));
	c->level = 3;
	c->interval_ns = 300 * MV_NS_PER_S;
	c->bandwidth = 10e9 / 8; /* 10 Gbit/s */
	c->downtime_limit_ns = 300 * MV_NS_PER_MS;
	c->max_rounds = 30;
	c->max_per_host = 8;
	c->min_goodness_step = 0.1;
	c->cost_benefit = 1;
}

int mv_drs_priority(double imbalance, int n)
{
	if (!(imbalance > 0) || n <= 0)
		return 6;
	double x = imbalance / 0.1 * sqrt((double)n);
	double p = 6.0 - ceil(x);
	return p < 2 ? 2 : (int)p;
}

double mv_drs_target(int level, int n)
{
	if (level <= 1 || n <= 0)
		return INFINITY;
	return 0.1 * (double)(5 - level) / sqrt((double)n);
}

/* ---- entitlement ------------------------------------------------------ */

static uint64_t lo_of(const struct mv_drs_vm *v)
{
	return v->reservation + v->overhead;
}

static uint64_t want_of(const struct mv_drs_vm *v)
{
	uint64_t cap = (v->limit < v->configured ? v->limit : v->configured) +
		       v->overhead;
	uint64_t d = v->active + v->overhead;
	uint64_t lo = lo_of(v);
	return d < lo ? lo : d > cap ? cap : d;
}

void mv_drs_entitlements(const struct mv_drs_host *hosts, int nhosts,
			 const struct mv_drs_vm *vms, int nvms, uint64_t *out)
{
	uint64_t cap = 0, want = 0, lo = 0;
	for (int h = 0; h < nhosts; h++)
		if (!hosts[h].maintenance)
			cap += hosts[h].capacity;
	for (int i = 0; i < nvms; i++) {
		want += want_of(&vms[i]);
		lo += lo_of(&vms[i]);
	}
	if (want <= cap) {
		for (int i = 0; i < nvms; i++)
			out[i] = want_of(&vms[i]);
		return;
	}
	for (int i = 0; i < nvms; i++)
		out[i] = lo_of(&vms[i]);
	if (lo >= cap)
		return;
	uint64_t rest = cap - lo;
	for (;;) {
		u128 shares = 0;
		for (int i = 0; i < nvms; i++)
			if (out[i] < want_of(&vms[i]))
				shares += vms[i].shares;
		if (shares == 0 || rest == 0)
			return;
		/* cap every VM whose share covers its demand, then
		 * re-divide; when none is capped, grant the shares */
		int capped = 0;
		for (int i = 0; i < nvms; i++) {
			uint64_t w = want_of(&vms[i]);
			if (out[i] >= w)
				continue;
			u128 g = (u128)rest * vms[i].shares / shares;
			if (g >= w - out[i])
				capped = 1;
		}
		uint64_t used = 0;
		for (int i = 0; i < nvms; i++) {
			uint64_t w = want_of(&vms[i]);
			if (out[i] >= w)
				continue;
			uint64_t g = (uint64_t)((u128)rest * vms[i].shares /
						shares);
			if (g >= w - out[i]) {
				used += w - out[i];
				out[i] = w;
			} else if (!capped) {
				used += g;
				out[i] += g;
			}
		}
		rest -= used;
		if (!capped)
			return; /* what is left is under a page per VM */
	}
}

/* ---- migration cost --------------------------------------------------- */

/*
 * The pre-copy of docs/cluster.md, section 3, in closed form per round:
 * the bulk round sends every page (zero pages as flags); each later round
 * sends what the guest dirtied during the previous one, write_rate x its
 * time, at most the VM's pages; when that fits the downtime limit at the
 * bandwidth, or after max_rounds rounds, the VM stops and it is sent.
 * The set is a geometric series of ratio write_rate / page rate, as the
 * mechanism's uniform writer makes it (its table in docs/cluster.md).
 */
struct mv_drs_cost mv_drs_migration_cost(const struct mv_drs_vm *v,
					 const struct mv_drs_config *c)
{
	struct mv_drs_cost k = {0};
	double bw = c->bandwidth;
	double all = (double)(v->send_pages + v->zero_pages + v->ref_pages);
	double bytes = (double)v->send_pages * MV_MIG_PAGE_WIRE +
		       (double)v->zero_pages * MV_MIG_ZERO_WIRE +
		       (double)v->ref_pages * MV_MIG_SWAPREF_WIRE;
	double t = bytes / bw, total = t, pages = all;
	double fit = bw * ((double)c->downtime_limit_ns / 1e9);
	k.rounds = 1;
	double set = v->write_rate * t;
	if (set > all)
		set = all;
	while (set * MV_MIG_PAGE_WIRE > fit && k.rounds < c->max_rounds) {
		double b = set * MV_MIG_PAGE_WIRE;
		t = b / bw;
		total += t;
		bytes += b;
		pages += set;
		k.rounds++;
		set = v->write_rate * t;
		if (set > all)
			set = all;
	}
	k.converged = set * MV_MIG_PAGE_WIRE <= fit;
	double down = set * MV_MIG_PAGE_WIRE / bw;
	total += down;
	bytes += set * MV_MIG_PAGE_WIRE;
	pages += set;
	k.pages = (uint64_t)(pages + 0.5);
	k.bytes = (uint64_t)(bytes + 0.5);
	k.total_ns = (uint64_t)(total * 1e9 + 0.5);
	k.downtime_ns = (uint64_t)(down * 1e9 + 0.5);
	return k;
}

/* ---- the cluster's state during one run ------------------------------- */

struct state {
	const struct mv_drs_config *c;
	const struct mv_drs_host *host;
	const struct mv_drs_vm *vm;
	int nhosts, nvms, nactive;
	int *at;            /* each VM's host as moves are decided */
	char *moved;        /* moved in this run */
	uint64_t *ent;      /* entitlements */
	uint64_t *sum;      /* per host: entitlements of its VMs */
	uint64_t *reserved; /* per host: reservations + overheads */
	/* per host: stall per unit of load over the last interval (ns),
	 * from its figures at the start of the run; 0 if it had none */
	double *rate;
	/* the lowest load at which a host showed stall (infinity: none) */
	double contention_load;
	int *busy;    /* per host: migrations in progress or decided */
	double *load; /* per host: sum / capacity */
	struct mv_drs_result *r;
	int cap_move;
};

/* Host h as the reasons name it: its name, or "host N". */
static void host_name(const struct state *s, int h, char *buf, size_t n)
{
	if (s->host[h].name)
		snprintf(buf, n, "%.64s", s->host[h].name);
	else
		snprintf(buf, n, "host %d", h);
}

static double load_of(const struct state *s, int h, uint64_t sum)
{
	return (double)sum / (double)s->host[h].capacity;
}

/* Standard deviation of the active hosts' loads, hosts a and b (or -1)
 * taking la and lb instead; sums in host order. */
static double imbalance(const struct state *s, int a, double la, int b,
			double lb)
{
	if (s->nactive == 0)
		return 0;
	double mean = 0, var = 0;
	for (int h = 0; h < s->nhosts; h++)
		if (!s->host[h].maintenance)
			mean += h == a ? la : h == b ? lb : s->load[h];
	mean /= s->nactive;
	for (int h = 0; h < s->nhosts; h++) {
		if (s->host[h].maintenance)
			continue;
		double d = (h == a ? la : h == b ? lb : s->load[h]) - mean;
		var += d * d;
	}
	return sqrt(var / s->nactive);
}

/* Imbalance with VM i moved from its host to d. */
static double imbalance_moved(const struct state *s, int i, int d)
{
	int a = s->at[i];
	return imbalance(s, a, load_of(s, a, s->sum[a] - s->ent[i]), d,
			 load_of(s, d, s->sum[d] + s->ent[i]));
}

static int admits(const struct state *s, int i, int d)
{
	return s->reserved[d] + lo_of(&s->vm[i]) <= s->host[d].capacity;
}

/* The stall moving VM i to d saves over the next interval (ns; 0 if it
 * adds more than it saves). */
static uint64_t benefit(const struct state *s, int i, int d)
{
	int a = s->at[i];
	if (!(s->rate[a] > 0))
		return 0;
	double moved = (double)s->ent[i] / (double)s->host[a].capacity;
	double saved = s->rate[a] * moved;
	double ld = load_of(s, d, s->sum[d]);
	double ld2 = load_of(s, d, s->sum[d] + s->ent[i]);
	double added;
	if (s->rate[d] > 0)
		added = s->rate[d] * (ld2 - ld);
	else if (ld2 > s->contention_load)
		added = s->rate[a] *
			(ld2 - (ld > s->contention_load ? ld
							: s->contention_load));
	else
		added = 0;
	double b = saved - added;
	uint64_t demand = s->vm[i].active + s->vm[i].overhead;
	if (demand > 0 && s->vm[i].active_sd > 0) {
		double cv = (double)s->vm[i].active_sd / (double)demand;
		b *= cv >= 1 ? 0 : 1 - cv;
	}
	/* the last interval's stall is taken to last the next one (the
	 * same length): the benefit's horizon is one DRS interval */
	return b > 0 ? (uint64_t)(b + 0.5) : 0;
}

static void apply(struct state *s, int i, int d)
{
	int a = s->at[i];
	uint64_t e = s->ent[i], r = lo_of(&s->vm[i]);
	s->sum[a] -= e;
	s->sum[d] += e;
	s->reserved[a] -= r;
	s->reserved[d] += r;
	s->load[a] = load_of(s, a, s->sum[a]);
	s->load[d] = load_of(s, d, s->sum[d]);
	s->busy[a]++;
	s->busy[d]++;
	s->at[i] = d;
	s->moved[i] = 1;
}

static struct mv_drs_move *push(struct state *s)
{
	struct mv_drs_result *r = s->r;
	if (r->nmove == s->cap_move) {
		int n = s->cap_move ? 2 * s->cap_move : 16;
		struct mv_drs_move *m = realloc(r->move, n * sizeof(*m));
		if (!m)
			return NULL;
		r->move = m;
		s->cap_move = n;
	}
	struct mv_drs_move *m = &r->move[r->nmove++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* ---- maintenance mode ------------------------------------------------- */

static int evacuate(struct state *s)
{
	int n = s->nvms;
	for (;;) {
		/* the largest entitlement left on a maintenance host */
		int i = -1;
		for (int j = 0; j < n; j++) {
			if (s->moved[j] || s->vm[j].migrating ||
			    !s->host[s->at[j]].maintenance)
				continue;
			if (i < 0 || s->ent[j] > s->ent[i])
				i = j;
		}
		if (i < 0)
			return 0;
		int a = s->at[i], best = -1;
		double before = imbalance(s, -1, 0, -1, 0), bi = 0;
		for (int d = 0; d < s->nhosts; d++) {
			if (d == a || s->host[d].maintenance ||
			    !admits(s, i, d))
				continue;
			double im = imbalance_moved(s, i, d);
			if (best < 0 || im < bi) {
				best = d;
				bi = im;
			}
		}
		struct mv_drs_move *m = push(s);
		if (!m)
			return MV_ENOMEM;
		m->vm = i;
		m->src = a;
		m->dst = best;
		m->priority = 1;
		m->imbalance_before = before;
		char an[72];
		host_name(s, a, an, sizeof an);
		if (best < 0) {
			m->imbalance_after = before;
			if (s->nactive == 0)
				snprintf(m->reason, sizeof(m->reason),
					 "%s enters maintenance mode: every "
					 "host is in maintenance mode",
					 an);
			else
				snprintf(m->reason, sizeof(m->reason),
					 "%s enters maintenance mode: no "
					 "host admits its reservation and "
					 "overhead (%.1f MiB)",
					 an, (double)lo_of(&s->vm[i]) * MV_PAGE_SIZE / MV_MIB);
			s->moved[i] = 1;
			s->r->unplaced++;
			continue;
		}
		m->queued = s->busy[a] >= s->c->max_per_host ||
			    s->busy[best] >= s->c->max_per_host;
		m->imbalance_after = bi;
		m->goodness = before - bi;
		m->cost_ns = mv_drs_migration_cost(&s->vm[i], s->c).total_ns;
		snprintf(m->reason, sizeof(m->reason),
			 "%s enters maintenance mode: evacuated to the "
			 "admitted host with the lowest imbalance after "
			 "(%.4f)%s",
			 an, bi,
			 m->queued ? "; queued: a host is at its "
				     "migration limit"
				   : "");
		apply(s, i, best);
	}
}

/* ---- load balancing --------------------------------------------------- */

/* The best move at imbalance `now` that passes the filters (c->vm < 0 if
 * none); every candidate a filter drops is counted in the result. */
struct cand {
	int vm, dst;
	double goodness, after;
	uint64_t cost, benefit;
};

static struct cand pick(struct state *s, double now, double min_good)
{
	const struct mv_drs_config *c = s->c;
	struct cand best = {.vm = -1};
	for (int i = 0; i < s->nvms; i++) {
		int a = s->at[i];
		if (s->moved[i] || s->vm[i].migrating || s->host[a].maintenance)
			continue;
		for (int d = 0; d < s->nhosts; d++) {
			if (d == a || s->host[d].maintenance)
				continue;
			struct cand k = {.vm = i, .dst = d};
			k.after = imbalance_moved(s, i, d);
			k.goodness = now - k.after;
			if (!(k.goodness > 0) || k.goodness < min_good) {
				s->r->dropped_goodness++;
				continue;
			}
			if (!admits(s, i, d)) {
				s->r->dropped_admission++;
				continue;
			}
			if (s->busy[a] >= c->max_per_host ||
			    s->busy[d] >= c->max_per_host) {
				s->r->dropped_concurrency++;
				continue;
			}
			k.cost = mv_drs_migration_cost(&s->vm[i], c).total_ns;
			k.benefit = benefit(s, i, d);
			if (c->cost_benefit && k.cost >= k.benefit) {
				s->r->dropped_cost_benefit++;
				continue;
			}
			if (best.vm < 0 || k.goodness > best.goodness)
				best = k;
		}
	}
	return best;
}

static int balance(struct state *s)
{
	const struct mv_drs_config *c = s->c;
	double step = 0.1 / sqrt((double)(s->nactive ? s->nactive : 1));
	double min_good = c->min_goodness_step * step;
	for (int made = 0; !c->max_moves || made < c->max_moves; made++) {
		double now = imbalance(s, -1, 0, -1, 0);
		int pri = mv_drs_priority(now, s->nactive);
		if (pri > c->level)
			return 0;
		struct cand k = pick(s, now, min_good);
		if (k.vm < 0)
			return 0;
		struct mv_drs_move *m = push(s);
		if (!m)
			return MV_ENOMEM;
		m->vm = k.vm;
		m->src = s->at[k.vm];
		m->dst = k.dst;
		m->priority = pri;
		m->imbalance_before = now;
		m->imbalance_after = k.after;
		m->goodness = k.goodness;
		m->cost_ns = k.cost;
		m->benefit_ns = k.benefit;
		int n = snprintf(m->reason, sizeof(m->reason),
				 "balance memory: imbalance %.4f -> %.4f "
				 "(target %.4f, level %d); ",
				 now, k.after,
				 mv_drs_target(c->level, s->nactive), c->level);
		snprintf(m->reason + n, sizeof(m->reason) - (size_t)n,
			 c->cost_benefit ? "cost %.3f s < benefit %.3f s"
					 : "cost %.3f s, benefit %.3f s "
					   "(cost-benefit off)",
			 (double)k.cost / 1e9, (double)k.benefit / 1e9);
		apply(s, k.vm, k.dst);
	}
	return 0;
}

/* ---- input checks ----------------------------------------------------- */

static int check(const struct mv_drs_config *c, const struct mv_drs_host *hosts,
		 int nhosts, const struct mv_drs_vm *vms, int nvms,
		 struct mv_error *err)
{
	if (c->level < 1 || c->level > 5)
		return mv_error_set(err, MV_EINVAL, "", 0, "drs/level",
				    "%d is not a level 1..5", c->level);
	if (!(c->bandwidth > 0) || c->max_rounds < 1 || c->max_per_host < 1 ||
	    c->interval_ns == 0 || !(c->min_goodness_step >= 0))
		return mv_error_set(err, MV_EINVAL, "", 0, "drs",
				    "bandwidth, interval, max_rounds and "
				    "max_per_host must be positive, "
				    "min_goodness_step not negative");
	if (nhosts < 1)
		return mv_error_set(err, MV_EINVAL, "", 0, "drs/hosts",
				    "no host");
	for (int h = 0; h < nhosts; h++)
		if (hosts[h].capacity == 0 || hosts[h].migrations < 0)
			return mv_error_set(err, MV_EINVAL, "", 0,
					    "host/capacity",
					    "host %d: capacity 0 or migrations "
					    "below 0",
					    h);
	for (int i = 0; i < nvms; i++) {
		const struct mv_drs_vm *v = &vms[i];
		uint64_t top = v->limit < v->configured ? v->limit
							: v->configured;
		if (v->host < 0 || v->host >= nhosts)
			return mv_error_set(err, MV_EINVAL, "", 0, "vm/host",
					    "vm %d: host %d is not one of the "
					    "%d hosts",
					    i, v->host, nhosts);
		if (v->shares == 0)
			return mv_error_set(err, MV_EINVAL, "", 0, "vm/shares",
					    "vm %d: shares 0", i);
		if (v->reservation > top)
			return mv_error_set(
				err, MV_EINVAL, "", 0, "vm/reservation",
				"vm %d: reservation %llu pages "
				"above its limit or size %llu",
				i, (unsigned long long)v->reservation,
				(unsigned long long)top);
		if (!(v->write_rate >= 0))
			return mv_error_set(err, MV_EINVAL, "", 0,
					    "vm/write_rate",
					    "vm %d: write rate below 0", i);
	}
	return 0;
}

/* ---- the run ---------------------------------------------------------- */

void mv_drs_result_free(struct mv_drs_result *r)
{
	if (!r)
		return;
	free(r->entitlement);
	free(r->load);
	free(r->move);
	memset(r, 0, sizeof(*r));
}

int mv_drs_decide(const struct mv_drs_config *c,
		  const struct mv_drs_host *hosts, int nhosts,
		  const struct mv_drs_vm *vms, int nvms,
		  struct mv_drs_result *out, struct mv_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = check(c, hosts, nhosts, vms, nvms, err);
	if (rc)
		return rc;
	size_t nv = nvms ? (size_t)nvms : 1, nh = (size_t)nhosts;
	struct state s = {.c = c,
			  .host = hosts,
			  .vm = vms,
			  .nhosts = nhosts,
			  .nvms = nvms,
			  .r = out};
	s.at = malloc(nv * sizeof(*s.at));
	s.moved = calloc(nv, 1);
	s.sum = calloc(nh, sizeof(*s.sum));
	s.reserved = calloc(nh, sizeof(*s.reserved));
	s.rate = calloc(nh, sizeof(*s.rate));
	s.busy = calloc(nh, sizeof(*s.busy));
	s.load = calloc(nh, sizeof(*s.load));
	out->entitlement = calloc(nv, sizeof(*out->entitlement));
	out->load = calloc(nh, sizeof(*out->load));
	rc = MV_ENOMEM;
	if (!s.at || !s.moved || !s.sum || !s.reserved || !s.rate || !s.busy ||
	    !s.load || !out->entitlement || !out->load)
		goto done;
	s.ent = out->entitlement;
	mv_drs_entitlements(hosts, nhosts, vms, nvms, s.ent);
	for (int h = 0; h < nhosts; h++) {
		s.busy[h] = hosts[h].migrations;
		s.nactive += !hosts[h].maintenance;
	}
	for (int i = 0; i < nvms; i++) {
		int h = vms[i].host;
		s.at[i] = h;
		s.sum[h] += s.ent[i];
		s.reserved[h] += lo_of(&vms[i]);
		s.rate[h] += (double)vms[i].stall_ns; /* the host's stall */
	}
	s.contention_load = INFINITY;
	for (int h = 0; h < nhosts; h++) {
		s.load[h] = out->load[h] = load_of(&s, h, s.sum[h]);
		s.rate[h] = s.rate[h] > 0 && s.load[h] > 0
				    ? s.rate[h] / s.load[h]
				    : 0;
		if (s.rate[h] > 0 && s.load[h] < s.contention_load)
			s.contention_load = s.load[h];
	}
	out->imbalance = imbalance(&s, -1, 0, -1, 0);
	out->priority = mv_drs_priority(out->imbalance, s.nactive);
	out->target = mv_drs_target(c->level, s.nactive);
	rc = evacuate(&s);
	if (!rc && c->level > 1)
		rc = balance(&s);
	out->imbalance_after = imbalance(&s, -1, 0, -1, 0);
done:
	free(s.at);
	free(s.moved);
	free(s.sum);
	free(s.reserved);
	free(s.rate);
	free(s.busy);
	free(s.load);
	if (rc)
		mv_drs_result_free(out);
	return rc;
}

int mv_drs_place(const struct mv_drs_host *hosts, int nhosts,
		 const struct mv_drs_vm *vms, int nvms,
		 const struct mv_drs_vm *v)
{
	uint64_t *ent = malloc(((size_t)nvms + 1) * sizeof(*ent));
	struct mv_drs_vm *all = malloc(((size_t)nvms + 1) * sizeof(*all));
	int best = -1;
	if (!ent || !all)
		goto done;
	memcpy(all, vms, (size_t)nvms * sizeof(*all));
	all[nvms] = *v;
	mv_drs_entitlements(hosts, nhosts, all, nvms + 1, ent);
	double bl = 0;
	for (int h = 0; h < nhosts; h++) {
		if (hosts[h].maintenance)
			continue;
		uint64_t sum = ent[nvms], res = lo_of(v);
		for (int i = 0; i < nvms; i++)
			if (vms[i].host == h) {
				sum += ent[i];
				res += lo_of(&vms[i]);
			}
		if (res > hosts[h].capacity)
			continue;
		double l = (double)sum / (double)hosts[h].capacity;
		if (best < 0 || l < bl) {
			best = h;
			bl = l;
		}
	}
done:
	free(ent);
	free(all);
	return best;
}
