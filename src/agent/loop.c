/*
 * loop.c - `memvisor agent`: every interval, read the host and its
 * running guests, decide (decide.c, over src/policy), act, log.
 *
 * One interval:
 *   1. the connection: alive, or reopened with a backoff (virt.c); while
 *      it is down the interval only logs and waits, changing nothing;
 *   2. the running domains (listed anew: a guest that appeared is set up -
 *      its <currentMemory>, balloon and stats period, QEMU's PID - and one
 *      that is gone is dropped, both logged);
 *   3. per guest: libvirt's figures (virt.c), the QEMU process's RSS and
 *      the accessed pages of its guest RAM (hostio.c) folded into ESX's
 *      estimator (mv_active_fold / mv_active_estimate, the sampler's own),
 *      or, without a PID or with a failed read, the guest's own figure
 *      (actual - usable, or - unused) in the same estimator, said in the
 *      log as active_source;
 *   4. the host: /proc/meminfo's MemAvailable, or the --host-memory
 *      budget minus the guests' RSS; KSM's counters;
 *   5. mv_agent_decide, then setmem for each guest whose target moved
 *      (not with --dry-run) and KSM's knobs (not with --dry-run or
 *      --no-ksm); one JSON line per guest per interval;
 *   6. sleep to the next interval on the monotonic clock; a signal ends
 *      the sleep and the loop, never an interval half done.
 * On exit: with --restore-on-exit each guest back to the <currentMemory>
 * it had when first seen; the stats periods the agent set and every KSM
 * knob it wrote back to what they were; a summary.
 *
 * Faults never stop the loop: a failed read leaves that guest out of the
 * interval's changes (it keeps its balloon: nothing is ever set below a
 * reservation because nothing is set at all), a failed setmem is logged
 * and retried next interval from fresh figures.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/hostio.h"
#include "agent/virt.h"
#include "memvisor/vm.h"

void mv_agent_opts_default(struct mv_agent_opts *o)
{
	memset(o, 0, sizeof *o);
	o->interval_ns = MV_NS_PER_S;
	o->sample_ns = 30 * MV_NS_PER_S;
	o->ksm_dir = "/sys/kernel/mm/ksm";
	o->pid_dir = "/run/libvirt/qemu";
	o->meminfo = "/proc/meminfo";
	mv_agent_config_default(&o->cfg);
}

/* Intervals over which a guest's memory outside MemTotal is taken. */
#define OUTSIDE_SAMPLES 32

/* A guest the agent knows, by UUID, across intervals. */
struct guest {
	char uuid[40], name[128];
	uint64_t seen;        /* the last interval it was listed in */
	uint64_t current_kib; /* <currentMemory> at first sight */
	int has_balloon;
	int period0;    /* its stats period at first sight */
	int period_set; /* the agent changed it */
	pid_t pid;      /* QEMU's, 0 unknown */
	int dom_id;     /* libvirt's domain ID: a new one, a new process */
	struct mv_active_sampler est;
	double period_start_s;
	enum mv_agent_active_src src;
	int warned_src;    /* the fallback was logged */
	double guest_frac; /* mv_agent_stats_used_kib / memory */
	double accessed;   /* the period that ended this interval: its
			      fraction touched; < 0: none ended */
	/* its memory outside MemTotal (mv_agent_outside_kib) from the
	 * last OUTSIDE_SAMPLES intervals' actual and available, oldest
	 * first */
	uint64_t s_actual[OUTSIDE_SAMPLES], s_avail[OUTSIDE_SAMPLES];
	int ns;
	uint64_t outside_kib;
	/* this interval */
	int ok; /* read and in the decision */
	struct mv_virt_dom d;
	int li; /* index in the interval's list */
};

struct agent {
	const struct mv_agent_opts *o;
	struct mv_virt *virt;
	struct mv_ksm ksm;
	int ksm_tune;
	struct mv_agent_policy policy;
	struct guest *g;
	int ng;
	size_t cap; /* room in g */
	uint64_t interval;
	double t0;
	/* the summary's figures */
	uint64_t appeared, gone, changes, failed, read_failed, reconnects, lost,
		inflate_kib, deflate_kib, proposed, restored;
	int max_guests;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write one JSON object as a line of the log, and free it. */
static void log_json(struct agent *a, json_t *j)
{
	if (a->o->json_log) {
		json_dumpf(j, a->o->json_log,
			   JSON_COMPACT | JSON_REAL_PRECISION(13));
		fputc('\n', a->o->json_log);
	}
	json_decref(j);
}

/* An event line: {"t", "interval", "event", "guest"?, "message"}. */
static void log_event(struct agent *a, const char *event, const char *guest,
		      const char *msg)
{
	json_t *j = json_object();
	json_object_set_new(j, "t", json_real(wall_s()));
	json_object_set_new(j, "interval",
			    json_integer((json_int_t)a->interval));
	json_object_set_new(j, "event", json_string(event));
	if (guest)
		json_object_set_new(j, "guest", json_string(guest));
	if (msg)
		json_object_set_new(j, "message", json_string(msg));
	log_json(a, j);
}

static struct guest *find(struct agent *a, const char *uuid)
{
	for (int i = 0; i < a->ng; i++)
		if (!strcmp(a->g[i].uuid, uuid))
			return &a->g[i];
	return NULL;
}

/* A new sampling history for g, starting now with a clear. */
static void restart_estimator(struct guest *g, double now)
{
	memset(&g->est, 0, sizeof g->est);
	mv_active_config_default(&g->est.cfg); /* the sampler's gains */
	g->period_start_s = now;
	/* the measurement, in a dry run too: accessed bits are the
	 * kernel's aging state, not a setting */
	if (g->pid)
		mv_agent_refs_clear(g->pid);
}

/* A guest seen for the first time: what the agent must remember. */
static struct guest *add(struct agent *a, struct mv_virt_list *l, int i,
			 const struct mv_virt_dom *id)
{
	if (mv_array_room(&a->g, &a->cap, (size_t)a->ng, sizeof *a->g, 16))
		return NULL;
	struct guest *g = &a->g[a->ng++];
	memset(g, 0, sizeof *g);
	snprintf(g->uuid, sizeof g->uuid, "%s", id->uuid);
	snprintf(g->name, sizeof g->name, "%s", id->name);
	char *live = mv_virt_xml(l, i, 0);
	if (live) {
		g->period0 = mv_virt_balloon_info(live, &g->has_balloon);
		g->current_kib = mv_virt_current_memory(live);
		free(live);
	}
	/* the administrator's setting is the persistent definition's */
	char *cfg = mv_virt_xml(l, i, 1);
	if (cfg) {
		uint64_t c = mv_virt_current_memory(cfg);
		if (c)
			g->current_kib = c;
		free(cfg);
	}
	if (mv_agent_pidfile_read(a->o->pid_dir, g->name, &g->pid))
		g->pid = 0;
	g->dom_id = id->id;
	restart_estimator(g, mono_s());
	a->appeared++;
	char msg[160];
	snprintf(msg, sizeof msg,
		 "currentMemory %llu KiB, balloon %s, stats period %d s, "
		 "QEMU pid %ld",
		 (unsigned long long)g->current_kib,
		 g->has_balloon ? "yes" : "none", g->period0, (long)g->pid);
	log_event(a, "guest-appeared", g->name, msg);

	/* the guest reports every interval (at least 1 s) */
	int want = (int)((a->o->interval_ns + MV_NS_PER_S - 1) / MV_NS_PER_S);
	if (g->has_balloon && g->period0 != want && !a->o->dry_run) {
		char err[200];
		if (mv_virt_set_period(l, i, want, err, sizeof err) == 0)
			g->period_set = 1;
		else
			log_event(a, "stats-period-failed", g->name, err);
	}
	return g;
}

/*
 * The guest's active fraction this interval: accessed pages of its RAM
 * as seen from the host, else its own statistics; both through ESX's
 * estimator, a period every sample_ns.
 */
static void measure(struct agent *a, struct guest *g, double now)
{
	struct mv_active_sampler *e = &g->est;
	const struct mv_virt_dom *d = &g->d;
	int period_end = now - g->period_start_s >=
			 (double)a->o->sample_ns / 1e9;
	uint64_t size, ref;
	enum mv_agent_active_src src = MV_AGENT_ACTIVE_NONE;
	g->guest_frac = 0;
	g->accessed = -1;
	if (d->stats_ok && (d->have_usable || d->have_unused) && d->max_kib) {
		uint64_t spare = d->have_usable ? d->usable : d->unused;
		uint64_t used = mv_agent_stats_used_kib(
			d->actual_kib, d->have_available ? d->available : 0,
			spare);
		g->guest_frac = (double)used / (double)d->max_kib;
	}
	if (g->pid &&
	    mv_agent_refs_read(g->pid, d->max_kib, &size, &ref) == 0 && size) {
		e->n = (uint32_t)(size / 4);
		e->touched = ref / 4;
		src = MV_AGENT_ACTIVE_REFERENCED;
	} else if (d->stats_ok && (d->have_usable || d->have_unused) &&
		   d->max_kib) {
		e->n = 1000;
		e->touched = (uint64_t)(g->guest_frac * 1000 + 0.5);
		src = MV_AGENT_ACTIVE_GUEST;
	} else {
		e->n = 0;
		e->touched = 0;
	}
	if (src != g->src && src != MV_AGENT_ACTIVE_REFERENCED &&
	    !g->warned_src) {
		log_event(
			a, "active-fallback", g->name,
			src == MV_AGENT_ACTIVE_GUEST
				? "no accessed bits from the host (no QEMU PID "
				  "or smaps unreadable): the guest's own "
				  "statistics"
				: "neither accessed bits nor guest "
				  "statistics: counted as idle");
		g->warned_src = 1;
	}
	g->src = src;
	if (period_end && e->n) {
		g->accessed = (double)e->touched / (double)e->n;
		mv_active_fold(e, g->accessed);
		e->touched = 0;
		g->period_start_s = now;
		if (src == MV_AGENT_ACTIVE_REFERENCED)
			mv_agent_refs_clear(g->pid);
	}
}

/*
 * Add this interval's actual and available to g's samples and take its
 * memory outside MemTotal from them, as `record` does from all of its.
 */
static void sample_outside(struct guest *g)
{
	const struct mv_virt_dom *d = &g->d;
	if (!d->stats_ok || !d->have_available)
		return;
	if (g->ns == OUTSIDE_SAMPLES) {
		memmove(g->s_actual, g->s_actual + 1,
			(OUTSIDE_SAMPLES - 1) * sizeof g->s_actual[0]);
		memmove(g->s_avail, g->s_avail + 1,
			(OUTSIDE_SAMPLES - 1) * sizeof g->s_avail[0]);
		g->ns--;
	}
	g->s_actual[g->ns] = d->actual_kib;
	g->s_avail[g->ns++] = d->available;
	g->outside_kib = mv_agent_outside_kib(g->s_actual, g->s_avail,
					      (size_t)g->ns);
}

/* The decision's view of guest g. */
static void guest_in(const struct guest *g, struct mv_agent_guest_in *in)
{
	const struct mv_virt_dom *d = &g->d;
	memset(in, 0, sizeof *in);
	in->max_kib = d->max_kib;
	in->current_kib = g->current_kib ? g->current_kib : d->max_kib;
	in->actual_kib = d->actual_kib;
	in->balloon = g->has_balloon;
	in->stats = d->stats_ok && d->have_unused;
	in->unused_kib = d->unused;
	in->available_kib = d->have_available ? d->available : 0;
	in->outside_kib = g->outside_kib;
	in->rss_kib = d->rss;
	in->reservation_kib = d->min_guarantee ? d->min_guarantee
					       : d->soft_limit;
	in->limit_kib = d->hard_limit;
	in->shares = d->shares ? d->shares : 10 * (d->max_kib / 1024);
	in->active = mv_active_estimate(&g->est);
	/* before its first sampling period has ended, a guest measured from
	 * the host has seconds of accesses at most: its own figure is the
	 * floor, so that a busy guest is not taxed as idle at start */
	if (g->est.periods == 0 && g->guest_frac > in->active)
		in->active = g->guest_frac;
}

static json_t *decision_json(const struct agent *a, const struct guest *g,
			     const struct mv_agent_guest_in *in,
			     const struct mv_agent_guest_out *out,
			     const struct mv_agent_host_in *h,
			     enum mv_memstate st, int applied, const char *err)
{
	json_t *j = json_object();
#define SET(k, v) json_object_set_new(j, k, v)
#define KIB(k, v) SET(k, json_integer((json_int_t)(v)))
	SET("t", json_real(wall_s()));
	SET("interval", json_integer((json_int_t)a->interval));
	SET("guest", json_string(g->name));
	SET("uuid", json_string(g->uuid));
	SET("state", json_string(mv_memstate_name(st)));
	KIB("host_total_kib", h->total_kib);
	KIB("host_free_kib", h->free_kib);
	KIB("max_kib", in->max_kib);
	KIB("current_kib", in->current_kib);
	KIB("actual_kib", in->actual_kib);
	KIB("target_kib", out->target_kib);
	KIB("plan_kib", out->plan_kib);
	KIB("floor_kib", out->floor_kib);
	SET("unused_kib",
	    in->stats ? json_integer((json_int_t)in->unused_kib) : json_null());
	SET("rss_kib",
	    in->rss_kib ? json_integer((json_int_t)in->rss_kib) : json_null());
	KIB("reservation_kib", in->reservation_kib);
	SET("limit_kib", in->limit_kib ? json_integer((json_int_t)in->limit_kib)
				       : json_null());
	KIB("shares", in->shares);
	SET("active", json_real(in->active));
	SET("active_source", json_string(mv_agent_active_src_name(g->src)));
	SET("accessed",
	    g->accessed >= 0 ? json_real(g->accessed) : json_null());
	SET("rho", isfinite(out->rho) ? json_real(out->rho) : json_null());
	SET("reason", json_string(mv_agent_reason_name(out->reason)));
	SET("change", json_boolean(out->change));
	SET("applied", json_boolean(applied));
	SET("dry_run", json_boolean(a->o->dry_run));
	SET("error", err ? json_string(err) : json_null());
#undef KIB
#undef SET
	return j;
}

/* The host's side of the interval's inputs. */
static int host_in(struct agent *a, const struct mv_agent_guest_in *in, int n,
		   struct mv_agent_host_in *h)
{
	memset(h, 0, sizeof *h);
	uint64_t rss = 0;
	for (int i = 0; i < n; i++)
		rss += in[i].rss_kib ? in[i].rss_kib : in[i].actual_kib;
	h->committed_kib = rss;
	if (a->o->host_memory_kib) {
		h->total_kib = a->o->host_memory_kib;
		h->free_kib = h->total_kib > rss ? h->total_kib - rss : 0;
		h->mem_free_kib = h->free_kib;
	} else {
		struct mv_agent_meminfo m;
		if (mv_agent_meminfo_read(a->o->meminfo, &m))
			return -1;
		h->total_kib = m.total;
		h->free_kib = m.available;
		h->mem_free_kib = m.free + m.buffers + m.cached;
	}
	h->ksm_pages_to_scan = a->ksm.value[MV_KSM_PAGES_TO_SCAN];
	return 0;
}

static void tune_ksm(struct agent *a, const struct mv_agent_ksm_out *k)
{
	if (!a->ksm_tune || a->o->dry_run)
		return;
	uint64_t before[MV_KSM_KNOB_COUNT];
	memcpy(before, a->ksm.value, sizeof before);
	/* as ksmtuned: stopping writes run alone; starting sets the scan
	 * rate first */
	int rc = 0;
	if (k->run) {
		rc = mv_ksm_set(&a->ksm, MV_KSM_PAGES_TO_SCAN,
				k->pages_to_scan);
		if (!rc)
			rc = mv_ksm_set(&a->ksm, MV_KSM_SLEEP_MILLISECS,
					k->sleep_millisecs);
	}
	if (!rc)
		rc = mv_ksm_set(&a->ksm, MV_KSM_RUN, (uint64_t)k->run);
	char msg[400];
	if (rc) {
		snprintf(msg, sizeof msg,
			 "cannot write %s: %s; KSM left alone from now on",
			 a->ksm.dir, strerror(-rc));
		log_event(a, "ksm-failed", NULL, msg);
		a->ksm_tune = 0;
		return;
	}
	if (memcmp(before, a->ksm.value, sizeof before)) {
		snprintf(msg, sizeof msg,
			 "run %llu, pages_to_scan %llu, sleep_millisecs %llu",
			 (unsigned long long)a->ksm.value[MV_KSM_RUN],
			 (unsigned long long)a->ksm.value[MV_KSM_PAGES_TO_SCAN],
			 (unsigned long long)
				 a->ksm.value[MV_KSM_SLEEP_MILLISECS]);
		log_event(a, "ksm", NULL, msg);
	}
}

/* Drop the guests not listed this interval. */
static void sweep(struct agent *a)
{
	int k = 0;
	for (int i = 0; i < a->ng; i++) {
		if (a->g[i].seen == a->interval) {
			a->g[k++] = a->g[i];
			continue;
		}
		log_event(a, "guest-gone", a->g[i].name,
			  "no longer running: forgotten");
		a->gone++;
	}
	a->ng = k;
}

static void interval(struct agent *a)
{
	const struct mv_agent_opts *o = a->o;
	double now = mono_s();
	char msg[256];
	const char *ev;
	struct mv_agent_view view = {.interval = a->interval,
				     .dry_run = o->dry_run};
	int alive = mv_virt_check(a->virt, now, &ev, msg, sizeof msg);
	if (ev) {
		log_event(a, ev, NULL, msg);
		if (!strcmp(ev, "reconnected"))
			a->reconnects++;
		if (!strcmp(ev, "connection-lost"))
			a->lost++;
	}
	if (!alive) {
		if (o->on_interval)
			o->on_interval(o->ctx, &view);
		return;
	}
	view.connected = 1;
	struct mv_virt_list l;
	if (mv_virt_list(a->virt, &l, msg, sizeof msg)) {
		log_event(a, "list-failed", NULL, msg);
		return;
	}
	int n = 0;
	for (int i = 0; i < l.n; i++) {
		struct mv_virt_dom id;
		if (mv_virt_ident(&l, i, &id))
			continue; /* gone between the list and now */
		struct guest *g = find(a, id.uuid);
		if (!g && !(g = add(a, &l, i, &id)))
			continue;
		g->seen = a->interval;
		g->li = i;
		g->d = id;
		g->ok = mv_virt_read(&l, i, &g->d) == 0;
		if (!g->ok) {
			a->read_failed++;
			log_event(a, "read-failed", g->name, g->d.err);
			continue;
		}
		if (!g->d.stats_ok) {
			a->read_failed++;
			log_event(a, "stats-failed", g->name, g->d.err);
		}
		if (g->d.id != g->dom_id) {
			/* started again under the same UUID: a new QEMU
			 * process, its history of accesses gone */
			g->dom_id = g->d.id;
			if (mv_agent_pidfile_read(o->pid_dir, g->name, &g->pid))
				g->pid = 0;
			restart_estimator(g, now);
			g->ns = 0; /* a new kernel's reservations */
			log_event(a, "guest-restarted", g->name,
				  "a new domain ID: a new QEMU process, its "
				  "active-memory history started again");
		}
		if (!g->d.have_rss && g->pid) {
			uint64_t r;
			if (!mv_agent_rss_read(g->pid, &r))
				g->d.rss = r;
		}
		measure(a, g, now);
		sample_outside(g);
		n++;
	}
	sweep(a);
	if (a->ng > a->max_guests)
		a->max_guests = a->ng;

	struct mv_agent_guest_in *in = calloc((size_t)n + 1, sizeof *in);
	struct mv_agent_guest_out *out = calloc((size_t)n + 1, sizeof *out);
	struct guest **who = calloc((size_t)n + 1, sizeof *who);
	struct mv_agent_row *rows = calloc((size_t)n + 1, sizeof *rows);
	if (!in || !out || !who || !rows)
		goto done;
	n = 0;
	for (int i = 0; i < a->ng; i++)
		if (a->g[i].ok) {
			who[n] = &a->g[i];
			guest_in(&a->g[i], &in[n++]);
		}
	struct mv_agent_host_in h;
	if (host_in(a, in, n, &h)) {
		log_event(a, "meminfo-failed", NULL, o->meminfo);
		goto done;
	}
	struct mv_agent_ksm_out k;
	enum mv_memstate st = mv_agent_decide(&a->policy, &h, n, in, out, &k);
	for (int i = 0; i < n; i++) {
		int applied = 0;
		const char *err = NULL;
		if (out[i].change) {
			if (o->dry_run) {
				a->proposed++;
			} else if (mv_virt_set_memory(&l, who[i]->li,
						      out[i].target_kib, msg,
						      sizeof msg) == 0) {
				applied = 1;
				a->changes++;
				if (out[i].target_kib < in[i].actual_kib)
					a->inflate_kib += in[i].actual_kib -
							  out[i].target_kib;
				else
					a->deflate_kib += out[i].target_kib -
							  in[i].actual_kib;
			} else {
				err = msg;
				a->failed++;
			}
		}
		log_json(a, decision_json(a, who[i], &in[i], &out[i], &h, st,
					  applied, err));
		struct mv_agent_row *r = &rows[i];
		snprintf(r->name, sizeof r->name, "%s", who[i]->name);
		r->max_kib = in[i].max_kib;
		r->actual_kib = in[i].actual_kib;
		r->target_kib = out[i].target_kib;
		r->rss_kib = in[i].rss_kib;
		r->unused_kib = in[i].stats ? in[i].unused_kib : 0;
		r->reservation_kib = in[i].reservation_kib;
		r->limit_kib = in[i].limit_kib;
		r->shares = in[i].shares;
		r->active = in[i].active;
		r->src = who[i]->src;
		r->reason = out[i].reason;
		r->applied = applied;
		r->failed = err != NULL;
	}
	if (o->cfg.ksm)
		tune_ksm(a, &k);
	struct mv_ksm_counters kc;
	if (mv_ksm_counters_read(&a->ksm, &kc))
		memset(&kc, 0, sizeof kc);
	view.state = st;
	view.host_total_kib = h.total_kib;
	view.host_free_kib = h.free_kib;
	view.ksm_run = (int)a->ksm.value[MV_KSM_RUN];
	view.ksm_pages_to_scan = a->ksm.value[MV_KSM_PAGES_TO_SCAN];
	view.ksm_pages_sharing = kc.pages_sharing;
	view.n = n;
	view.row = rows;
	if (o->on_interval)
		o->on_interval(o->ctx, &view);
done:
	if (o->json_log)
		fflush(o->json_log);
	free(in);
	free(out);
	free(who);
	free(rows);
	mv_virt_list_free(&l);
}

/* Sleep until t (monotonic seconds), or a signal. */
static void sleep_until(double t, volatile sig_atomic_t *stop)
{
	while (!(stop && *stop)) {
		double now = mono_s();
		if (now >= t)
			return;
		double d = t - now;
		struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
		if (nanosleep(&ts, NULL) == 0)
			return;
		if (errno != EINTR)
			return;
	}
}

static void restore(struct agent *a)
{
	const struct mv_agent_opts *o = a->o;
	char msg[256];
	for (int i = 0; i < a->ng; i++) {
		struct guest *g = &a->g[i];
		if (o->restore_on_exit && !o->dry_run && g->current_kib &&
		    g->has_balloon) {
			if (mv_virt_set_memory_uuid(a->virt, g->uuid,
						    g->current_kib, msg,
						    sizeof msg) == 0)
				a->restored++;
			else
				log_event(a, "restore-failed", g->name, msg);
		}
		if (g->period_set &&
		    mv_virt_set_period_uuid(a->virt, g->uuid, g->period0, msg,
					    sizeof msg))
			log_event(a, "restore-failed", g->name, msg);
	}
	if (mv_ksm_restore(&a->ksm))
		log_event(a, "ksm-restore-failed", NULL, a->ksm.dir);
}

static void summary(const struct agent *a, double elapsed)
{
	FILE *f = a->o->summary;
	if (!f)
		return;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	uint64_t n = a->interval ? a->interval : 1;
	fprintf(f,
		"memvisor agent: %llu intervals in %.1f s, %d guests at most "
		"(%llu appeared, %llu gone)%s\n",
		(unsigned long long)a->interval, elapsed, a->max_guests,
		(unsigned long long)a->appeared, (unsigned long long)a->gone,
		a->o->dry_run ? ", dry run" : "");
	if (a->o->dry_run)
		fprintf(f, "  balloon changes: %llu proposed, none made\n",
			(unsigned long long)a->proposed);
	else
		fprintf(f,
			"  balloon changes: %llu made (inflated %.1f MiB, "
			"deflated %.1f MiB), %llu failed\n",
			(unsigned long long)a->changes, a->inflate_kib / 1024.0,
			a->deflate_kib / 1024.0, (unsigned long long)a->failed);
	if (a->o->restore_on_exit)
		fprintf(f, "  restored to currentMemory: %llu guests\n",
			(unsigned long long)a->restored);
	fprintf(f,
		"  faults: %llu reads failed, %llu connections lost, %llu "
		"reconnected\n",
		(unsigned long long)a->read_failed, (unsigned long long)a->lost,
		(unsigned long long)a->reconnects);
	if (a->ksm.present)
		fprintf(f, "  KSM: %s\n",
			!a->o->cfg.ksm ? "left alone (--no-ksm)"
			: a->o->dry_run
				? "left alone (dry run)"
				: "tuned; every knob written is back to its "
				  "value at start");
	fprintf(f,
		"  cost: %.3f ms CPU per interval (user + system), max RSS "
		"%.1f MiB\n",
		cpu * 1e3 / (double)n, ru.ru_maxrss / 1024.0);
}

int mv_agent_run(const struct mv_agent_opts *o, char *msg, size_t msgn)
{
	struct agent a = {.o = o};
	char why[256];
	if (mv_virt_open(o->uri, &a.virt, why, sizeof why)) {
		snprintf(msg, msgn, "agent: cannot connect to '%s': %s",
			 o->uri ? o->uri : "(libvirt default)", why);
		return -1;
	}
	mv_agent_policy_init(&a.policy, &o->cfg);
	if (mv_ksm_open(&a.ksm, o->ksm_dir) == 0)
		a.ksm_tune = o->cfg.ksm;
	double t0 = mono_s(), next = t0;
	double interval_s = (double)o->interval_ns / 1e9;
	while (!(o->stop && *o->stop)) {
		a.interval++;
		interval(&a);
		if (o->once)
			break;
		next += interval_s;
		/* --duration T: the intervals starting before T */
		if (o->duration_ns &&
		    next - t0 >= (double)o->duration_ns / 1e9 - 1e-9)
			break;
		sleep_until(next, o->stop);
	}
	double t_stop = mono_s();
	restore(&a);
	char done[160];
	snprintf(done, sizeof done,
		 "%s after interval %llu; putting back what it changed took "
		 "%.3f s",
		 o->stop && *o->stop ? "stopped by a signal" : "finished",
		 (unsigned long long)a.interval, mono_s() - t_stop);
	log_event(&a, "exit", NULL, done);
	if (o->json_log)
		fflush(o->json_log);
	summary(&a, mono_s() - t0);
	free(a.g);
	mv_virt_close(a.virt);
	return 0;
}
