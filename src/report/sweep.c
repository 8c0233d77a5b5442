/*
 * sweep.c - `memvisor plan`'s judgement: shape a scenario for a ratio,
 * measure a finished run, check it against the SLOs, find the highest
 * safe ratio and the knee, print the sweep (docs/plan.md).
 *
 * A point is a flat value (no pointers) because the command measures each
 * ratio in its own worker process and sends the point back through a
 * pipe; everything the reports print is in it. Per metric it keeps the
 * worst VM and its value, so a verdict names the VM that failed: an SLO
 * holds for a ratio when it holds for every VM.
 *
 * The knee is Kneedle's (Satopaa, Albrecht, Irwin, Raghavan, "Finding a
 * 'Kneedle' in a Haystack", ICDCS workshops 2011) for an increasing convex
 * curve: with the ratios and the cost both scaled to [0, 1], the point
 * farthest below the chord from the first point to the last, that is the
 * last ratio before the cost starts rising fast. The cost is the
 * hypervisor swap-in rate, or the worst VM's stall when nothing swapped in.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/plan.h"
#include "report/summary.h"

static const char *const metric_name[MV_SLO_METRIC_COUNT] = {
	"stall",
	"swapin",
	"progress",
};
/* The unit an SLO's limit is written in. */
static const char *const metric_unit[MV_SLO_METRIC_COUNT] = {"%", "/s", "%"};

const char *mv_slo_metric_name(enum mv_slo_metric m)
{
	return m < MV_SLO_METRIC_COUNT ? metric_name[m] : "?";
}

void mv_slo_format(const struct mv_slo *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s%c%g%s", metric_name[s->metric],
		 s->below ? '<' : '>', s->limit, metric_unit[s->metric]);
}

/* One "NAME<LIMIT" of length len at p into *s. */
static int slo_one(const char *p, size_t len, struct mv_slo *s,
		   struct mv_error *err)
{
	char part[128];
	if (len == 0 || len >= sizeof part)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "--slo",
				    len ? "'%.40s...' is too long"
					: "an empty SLO (two commas, or a "
					  "comma at an end)",
				    p);
	memcpy(part, p, len);
	part[len] = '\0';
	char *op = strpbrk(part, "<>");
	if (!op)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "--slo",
				    "'%s': expected NAME<LIMIT or NAME>LIMIT "
				    "(e.g. stall<1%%)",
				    part);
	int m;
	for (m = 0; m < MV_SLO_METRIC_COUNT; m++)
		if (strlen(metric_name[m]) == (size_t)(op - part) &&
		    !strncmp(part, metric_name[m], (size_t)(op - part)))
			break;
	if (m == MV_SLO_METRIC_COUNT)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "--slo",
				    "'%s': unknown metric '%.*s' (stall, "
				    "swapin or progress)",
				    part, (int)(op - part), part);
	s->metric = (enum mv_slo_metric)m;
	s->below = *op == '<';
	/* the direction that makes sense: stall and swap-in bounded from
	 * above, progress from below */
	if (s->below != (m != MV_SLO_PROGRESS))
		return mv_error_set(err, MV_EINVAL, NULL, 0, "--slo",
				    "'%s': %s takes '%c' (it must stay %s "
				    "its limit)",
				    part, metric_name[m],
				    m == MV_SLO_PROGRESS ? '>' : '<',
				    m == MV_SLO_PROGRESS ? "above" : "below");
	const char *num = op + 1, *unit = metric_unit[m];
	char *end;
	double v = strtod(num, &end);
	if (end == num || !isfinite(v) || v < 0 || strcmp(end, unit) != 0 ||
	    (unit[0] == '%' && v > 100))
		return mv_error_set(err, MV_EINVAL, NULL, 0, "--slo",
				    "'%s': the limit must be a number%s "
				    "followed by '%s' (e.g. %s%c%s%s)",
				    part, unit[0] == '%' ? " 0..100" : " >= 0",
				    unit, metric_name[m], *op,
				    m == MV_SLO_SWAPIN ? "10" : "1", unit);
	s->limit = v;
	return 0;
}

int mv_slo_parse(const char *text, struct mv_slo_set *out, struct mv_error *err)
{
	memset(out, 0, sizeof *out);
	const char *p = text;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (out->n == MV_SLO_MAX)
			return mv_error_set(err, MV_EINVAL, NULL, 0, "--slo",
					    "more than %d SLOs", MV_SLO_MAX);
		struct mv_slo *s = &out->slo[out->n];
		int rc = slo_one(p, len, s, err);
		if (rc)
			return rc;
		for (int k = 0; k < out->n; k++)
			if (out->slo[k].metric == s->metric)
				return mv_error_set(err, MV_EINVAL, NULL, 0,
						    "--slo",
						    "%s is given twice",
						    metric_name[s->metric]);
		out->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* ---- shaping the scenario for one ratio ---------------------------- */

#define MAX_PLAN_VMS 1024 /* the scenario reader's own limit */

static uint64_t configured(const struct mv_scenario *sc)
{
	uint64_t b = 0;
	for (int i = 0; i < sc->nvms; i++)
		b += sc->vms[i].vm.mem_bytes;
	return b;
}

/* The VMs repeated in order: copy k (k >= 1) of VM i is NAME~(k+1). */
static int repeat_vms(struct mv_scenario *sc, int n, struct mv_error *err)
{
	int base = sc->nvms;
	struct mv_vm_spec *v = realloc(sc->vms, (size_t)n * sizeof *v);
	if (!v)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, NULL,
				    "out of memory");
	sc->vms = v;
	for (int i = base; i < n; i++) {
		v[i] = v[i % base];
		char nm[sizeof v[i].vm.name + 16];
		snprintf(nm, sizeof nm, "%s~%d", v[i % base].vm.name,
			 i / base + 1);
		if (strlen(nm) >= sizeof v[i].vm.name)
			return mv_error_set(err, MV_EINVAL, NULL, 0, "--by",
					    "copy name '%s' is too long", nm);
		memcpy(v[i].vm.name, nm, strlen(nm) + 1);
	}
	sc->nvms = n;
	return 0;
}

int mv_plan_shape(struct mv_scenario *sc, enum mv_plan_by by, double r,
		  struct mv_error *err)
{
	uint64_t conf = configured(sc);
	if (by == MV_PLAN_BY_HOST) {
		uint64_t host = (uint64_t)((double)conf / r);
		host -= host % MV_PAGE_SIZE;
		if (host < 64 * MV_MIB)
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, "--ratios",
				"ratio %g leaves the host %llu "
				"MiB (at least 64 MiB)",
				r, (unsigned long long)(host / MV_MIB));
		sc->host.mem_bytes = host;
		return 0;
	}
	/* by vms: the count whose ratio is closest to r (ties: fewer) */
	double host = (double)sc->host.mem_bytes;
	int best = 1;
	double best_d = INFINITY, sum = 0;
	for (int n = 1; n <= MAX_PLAN_VMS; n++) {
		sum += (double)sc->vms[(n - 1) % sc->nvms].vm.mem_bytes;
		double d = fabs(sum / host - r);
		if (d < best_d) {
			best_d = d;
			best = n;
		}
		if (sum / host > r)
			break;
	}
	if (best < sc->nvms) {
		sc->nvms = best; /* fewer VMs than the scenario has */
		return 0;
	}
	return best > sc->nvms ? repeat_vms(sc, best, err) : 0;
}

/* ---- measuring a run ----------------------------------------------- */

static int has_leak(const struct mv_guest_config *g)
{
	for (int k = 0; k < g->nworkloads; k++)
		if (g->workload[k].kind == MV_WL_LEAK &&
		    g->workload[k].leak_bytes_per_s > 0)
			return 1;
	return 0;
}

/* Mean over the samples of what each mechanism saves, MiB. */
static void saved(const struct mv_sim *s, double *mib)
{
	memset(mib, 0, MV_SAVED_COUNT * sizeof *mib);
	if (s->nsamples <= 0)
		return;
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_sample *sm = &s->samples[k];
		mib[MV_SAVED_SHARE] += mv_pages_mib(
			mv_share_saved_pages(&sm->share));
		for (int i = 0; i < s->nvms; i++) {
			const struct mv_sample_vm *v = &sm->vm[i];
			mib[MV_SAVED_BALLOON] += mv_pages_mib(
				v->guest.balloon_pages);
			uint64_t c = v->state[MV_PS_COMPRESSED];
			/* what compression saves after paying its cache */
			if (c > v->zcache.frames)
				mib[MV_SAVED_ZIP] += mv_pages_mib(
					c - v->zcache.frames);
			mib[MV_SAVED_SWAP] += mv_pages_mib(
				v->state[MV_PS_SWAPPED]);
		}
	}
	for (int m = 0; m < MV_SAVED_COUNT; m++)
		mib[m] /= s->nsamples;
}

void mv_plan_measure(const struct mv_sim *s, struct mv_plan_point *p)
{
	double ratio = p->ratio;
	memset(p, 0, sizeof *p);
	p->ratio = ratio;
	struct mv_run_summary r;
	if (mv_run_summary_init(&r, s) != 0) {
		p->rc = MV_ENOMEM;
		snprintf(p->error, sizeof p->error, "out of memory");
		return;
	}
	p->overcommit = r.overcommit;
	p->host_bytes = s->sc->host.mem_bytes;
	p->configured_bytes = r.configured_bytes;
	p->nvms = s->nvms;
	p->sim_ns = r.sim_ns;
	saved(s, p->saved_mib);
	for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
		p->state_frac[st] = r.sim_ns ? (double)s->state_ns[st] /
						       (double)r.sim_ns
					     : 0;
	p->swapin_per_s = mv_per_s((double)r.total.faults[MV_FAULT_SWAPIN],
				   r.sim_ns);
	p->guest_swapin_per_s = mv_per_s((double)r.total.guest.swap_in,
					 r.sim_ns);
	p->worst[MV_SLO_STALL] = -1;
	p->worst[MV_SLO_SWAPIN] = -1;
	p->worst[MV_SLO_PROGRESS] = INFINITY;
	for (int i = 0; i < s->nvms; i++) {
		const struct mv_sample_vm *v = &r.final->vm[i];
		struct mv_vm_view view;
		mv_sim_vm_view(s, i, &view);
		double val[MV_SLO_METRIC_COUNT] = {
			mv_pct((double)v->stall_ns, (double)r.sim_ns),
			mv_per_s((double)v->faults[MV_FAULT_SWAPIN], r.sim_ns),
			v->demanded
				? mv_pct((double)v->done, (double)v->demanded)
				: 100.0,
		};
		for (int m = 0; m < MV_SLO_METRIC_COUNT; m++) {
			int worse = m == MV_SLO_PROGRESS ? val[m] < p->worst[m]
							 : val[m] > p->worst[m];
			if (worse) {
				p->worst[m] = val[m];
				snprintf(p->worst_vm[m], MV_PLAN_NAME, "%s",
					 view.name);
			}
		}
		/* a leak still growing: its guest's anonymous memory rose
		 * over the last stats interval */
		if (s->nsamples >= 2 && has_leak(view.guest) &&
		    !p->growing_vm[0]) {
			const struct mv_sample
				*a = &s->samples[s->nsamples - 2];
			const struct mv_sample
				*b = &s->samples[s->nsamples - 1];
			uint64_t x = a->vm[i].guest.anon_pages;
			uint64_t y = b->vm[i].guest.anon_pages;
			if (y > x && b->t_ns > a->t_ns) {
				snprintf(p->growing_vm, MV_PLAN_NAME, "%s",
					 view.name);
				p->growing_mib_s = mv_per_s(mv_pages_mib(y - x),
							    b->t_ns - a->t_ns);
			}
		}
	}
	mv_run_summary_free(&r);
}

/* ---- verdicts -------------------------------------------------------- */

int mv_plan_failed(const struct mv_plan_point *p, const struct mv_slo_set *set)
{
	for (int k = 0; k < set->n; k++) {
		const struct mv_slo *s = &set->slo[k];
		double v = p->worst[s->metric];
		if (s->below ? !(v < s->limit) : !(v > s->limit))
			return k;
	}
	return -1;
}

int mv_plan_highest_safe(const struct mv_plan_point *p, int n,
			 const struct mv_slo_set *set)
{
	int best = -1;
	for (int i = 0; i < n && !p[i].rc && mv_plan_failed(&p[i], set) < 0;
	     i++)
		best = i;
	return best;
}

int mv_plan_knee(const struct mv_plan_point *p, int n, enum mv_slo_metric *by)
{
	if (n < 3)
		return -1;
	int swaps = 0;
	for (int i = 0; i < n; i++)
		swaps |= p[i].swapin_per_s > 0;
	*by = swaps ? MV_SLO_SWAPIN : MV_SLO_STALL;
	double x0 = p[0].ratio, x1 = p[n - 1].ratio;
	double y0, y1;
#define COST(i) (swaps ? p[i].swapin_per_s : p[i].worst[MV_SLO_STALL])
	y0 = COST(0);
	y1 = COST(n - 1);
	if (!(x1 > x0) || !(y1 > y0))
		return -1; /* flat or falling: no knee */
	int knee = -1;
	double best = 0;
	for (int i = 1; i < n - 1; i++) {
		double xn = (p[i].ratio - x0) / (x1 - x0);
		double yn = (COST(i) - y0) / (y1 - y0);
		if (xn - yn > best + 1e-12) {
			best = xn - yn;
			knee = i;
		}
	}
#undef COST
	return knee;
}

void mv_plan_time_constants(const struct mv_scenario *sc, double *sampler_tau_s,
			    double *share_period_s)
{
	/* an EWMA of gain g per period P falls to 1/e of a step after
	 * P / -ln(1 - g) */
	double g = sc->sampling.slow_gain;
	double period = (double)sc->sampling.period_ns / MV_NS_PER_S;
	*sampler_tau_s = g > 0 && g < 1 ? period / -log(1 - g) : period;
	const struct mv_share_config *sh = &sc->reclaim.share;
	double pages = (double)configured(sc) / MV_PAGE_SIZE;
	*share_period_s = sh->enabled && sh->pages_to_scan
				  ? pages / sh->pages_to_scan *
					    ((double)sh->sleep_ns / MV_NS_PER_S)
				  : 0;
}

/* ---- the text report ------------------------------------------------- */

static const char *const saved_name[MV_SAVED_COUNT] = {"share", "balloon",
						       "zip", "swap"};

/* "UNSAFE swapin web-1 40.2/s" or "SAFE". */
static void verdict(const struct mv_plan_point *p, const struct mv_slo_set *set,
		    char *buf, size_t n)
{
	int k = mv_plan_failed(p, set);
	if (k < 0) {
		snprintf(buf, n, "SAFE");
		return;
	}
	const struct mv_slo *s = &set->slo[k];
	char slo[48];
	mv_slo_format(s, slo, sizeof slo);
	snprintf(buf, n, "UNSAFE %s: %s %.*f%s", slo, p->worst_vm[s->metric],
		 s->metric == MV_SLO_SWAPIN ? 1 : 2, p->worst[s->metric],
		 metric_unit[s->metric]);
}

int mv_report_plan_text(FILE *f, const struct mv_plan_info *in,
			const struct mv_plan_point *p, int n)
{
	const struct mv_plan_point *p0 = &p[0];
	fprintf(f, "plan: %s (%s), seed %llu, %g s simulated per ratio\n",
		in->scenario_name, in->scenario_path,
		(unsigned long long)in->seed, (double)p0->sim_ns / MV_NS_PER_S);
	if (in->by == MV_PLAN_BY_HOST)
		fprintf(f,
			"overcommit by host memory: %d VMs, %.0f MiB "
			"configured; the host shrinks to configured / "
			"ratio\n",
			p0->nvms, (double)p0->configured_bytes / MV_MIB);
	else
		fprintf(f,
			"overcommit by VMs: host %.0f MiB; the scenario's VMs "
			"repeated (NAME~2, ...) to the count closest to the "
			"ratio\n",
			(double)p0->host_bytes / MV_MIB);
	fputs("SLOs (every VM):", f);
	for (int k = 0; k < in->slo->n; k++) {
		char b[48];
		mv_slo_format(&in->slo->slo[k], b, sizeof b);
		fprintf(f, " %s", b);
	}
	fputs("\n\n", f);

	fprintf(f, "%5s %5s %4s %6s |", "ratio", "run", "VMs", "host");
	for (int m = 0; m < MV_SAVED_COUNT; m++)
		fprintf(f, " %7s", saved_name[m]);
	fputs(" |", f);
	for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
		fprintf(f, " %5s", mv_memstate_name(st));
	fprintf(f, " | %8s %8s | %-14s %-14s | %s\n", "swapin/s", "guest/s",
		"worst stall", "worst progress", "verdict");
	fprintf(f, "%5s %5s %4s %6s |", "", "", "", "MiB");
	for (int m = 0; m < MV_SAVED_COUNT; m++)
		fprintf(f, " %7s", "MiB");
	fputs(" |", f);
	for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
		fprintf(f, " %5s", "%");
	fprintf(f, " | %8s %8s | %-14s %-14s |\n", "pages/s", "pages/s", "% VM",
		"% VM");
	for (int i = 0; i < n; i++) {
		const struct mv_plan_point *q = &p[i];
		if (q->rc) {
			fprintf(f, "%5.2f  run failed: %s\n", q->ratio,
				q->error);
			continue;
		}
		fprintf(f, "%5.2f %5.2f %4d %6.0f |", q->ratio, q->overcommit,
			q->nvms, (double)q->host_bytes / MV_MIB);
		for (int m = 0; m < MV_SAVED_COUNT; m++)
			fprintf(f, " %7.0f", q->saved_mib[m]);
		fputs(" |", f);
		for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
			fprintf(f, " %5.1f", 100 * q->state_frac[st]);
		char st[400], pr[400], v[160]; /* %f of any double fits */
		snprintf(st, sizeof st, "%.2f %s", q->worst[MV_SLO_STALL],
			 q->worst_vm[MV_SLO_STALL]);
		snprintf(pr, sizeof pr, "%.1f %s", q->worst[MV_SLO_PROGRESS],
			 q->worst_vm[MV_SLO_PROGRESS]);
		verdict(q, in->slo, v, sizeof v);
		fprintf(f, " | %8.1f %8.1f | %-14s %-14s | %s\n",
			q->swapin_per_s, q->guest_swapin_per_s, st, pr, v);
	}
	fputc('\n', f);

	int safe = mv_plan_highest_safe(p, n, in->slo);
	if (safe >= 0)
		fprintf(f,
			"highest safe ratio: %.2f (every ratio up to it meets "
			"every SLO)\n",
			p[safe].ratio);
	else
		fprintf(f, "highest safe ratio: none (%.2f already fails)\n",
			p[0].ratio);
	enum mv_slo_metric kb = MV_SLO_SWAPIN;
	int knee = mv_plan_knee(p, n, &kb);
	if (knee >= 0)
		fprintf(f,
			"knee: %.2f (the %s curve lies farthest below the "
			"chord from %.2f to %.2f: beyond it, it rises "
			"fastest)\n",
			p[knee].ratio,
			kb == MV_SLO_SWAPIN ? "hypervisor swap-in"
					    : "worst stall",
			p[0].ratio, p[n - 1].ratio);
	else
		fputs("knee: none (swap-in and stall do not rise over the "
		      "sweep)\n",
		      f);

	double run_s = (double)p0->sim_ns / MV_NS_PER_S;
	if (run_s < in->sampler_tau_s)
		fprintf(f,
			"warning: each run (%g s) is shorter than the active-"
			"memory sampler's slow average (time constant %.0f "
			"s): idle memory is still being found at the end\n",
			run_s, in->sampler_tau_s);
	if (run_s < in->share_period_s)
		fprintf(f,
			"warning: each run (%g s) is shorter than one sharing "
			"scan of the VMs' memory (%.0f s): sharing has not "
			"found everything\n",
			run_s, in->share_period_s);
	for (int i = 0; i < n; i++)
		if (p[i].growing_vm[0]) {
			fprintf(f,
				"warning: VM %s leaks and was still growing at "
				"the end (%.2f MiB/s over the last stats "
				"interval at ratio %.2f, first such ratio): a "
				"longer run would need more memory\n",
				p[i].growing_vm, p[i].growing_mib_s,
				p[i].ratio);
			break;
		}
	return ferror(f) ? MV_EIO : 0;
}
