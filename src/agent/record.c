/*
 * record.c - `memvisor record`: a libvirt host's running guests and what
 * they did, as a scenario the simulator replays.
 *
 * Every interval it reads what the agent reads (virt.c: the balloon's
 * statistics, QEMU's RSS; hostio.c: /proc/meminfo, KSM's counters),
 * changing nothing. At the end it writes, for FILE (the -o path, its
 * ".xml" dropped for the others):
 *   FILE            a scenario (docs/scenario.md): the host's memory, one
 *                   <vm> per guest seen with its domain XML as libvirt
 *                   gives it (the persistent definition when there is one)
 *                   and a usage workload (docs/usage.md) that makes the
 *                   simulated guest use what the real one used;
 *   FILE-NAME.csv   per guest, in the GWA-T-12 Bitbrains layout the usage
 *                   reader takes ("Timestamp [ms]", "Memory capacity
 *                   provisioned [KB]", "Memory usage [KB]": <memory>,
 *                   and what the guest used, from one stats snapshot:
 *                   available - unused plus its memory outside MemTotal,
 *                   less its OS image) plus the rest of what was measured
 *                   (the balloon's actual, unused, available, usable,
 *                   disk caches, swap in/out, faults, QEMU's RSS);
 *   FILE-host.csv   the host: MemAvailable (or the --host-memory budget
 *                   minus the guests' RSS) and KSM's counters.
 * No new scenario feature is needed: replay is `memvisor run FILE`. A
 * guest that appeared after the start gets its workload's `start` at its
 * first sample; one that went away keeps its last row to the end (its
 * simulated twin stays powered on: the scenario format has no power-off).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/hostio.h"
#include "agent/virt.h"
#include "report/views.h"

/* One guest's row: the columns after the timestamp, in header order. */
enum {
	C_PROVISIONED,
	C_USAGE,
	C_ACTUAL,
	C_UNUSED,
	C_AVAILABLE,
	C_USABLE,
	C_DISK_CACHES,
	C_SWAP_IN,
	C_SWAP_OUT,
	C_MAJOR_FAULT,
	C_MINOR_FAULT,
	C_RSS,
	C_GUEST_RAM,
	C_OVERHEAD,
	C_STATS_TIME,
	NCOLS
};

static const char *const col_names[NCOLS] = {
	"Memory capacity provisioned [KB]",
	"Memory usage [KB]",
	"Balloon actual [KB]",
	"Unused [KB]",
	"Available [KB]",
	"Usable [KB]",
	"Disk caches [KB]",
	"Swap in [KB]",
	"Swap out [KB]",
	"Major faults",
	"Minor faults",
	"QEMU RSS [KB]",
	"Guest RAM RSS [KB]",
	"QEMU overhead [KB]",
	"Stats time [s]",
};

struct row {
	uint64_t t_ms;
	uint64_t v[NCOLS];
};

/* One sampling period's accessed fraction of the guest's RAM, at its end. */
struct aper {
	uint64_t t_ms;
	double frac;
};

struct rguest {
	char uuid[40], name[128];
	char *xml;
	pid_t pid; /* QEMU's, 0: not known (yet) */
	int id;    /* the domain ID the pid belongs to */
	uint64_t first_ms;
	struct row *rows;
	size_t n, cap;
	size_t fresh;     /* the first row whose stats report is not older than
			     the guest's first sample (fresh_row) */
	struct aper *per; /* the accessed fractions measured */
	size_t np, capp;
	pid_t per_pid;         /* whose accessed bits the period is of */
	uint64_t per_start_ms; /* the period's start, 0: none begun */
};

enum {
	H_AVAILABLE,
	H_SHARED,
	H_SHARING,
	H_UNSHARED,
	H_VOLATILE,
	H_SCANS,
	HCOLS
};
static const char *const host_cols[HCOLS] = {"free [KB]",      "pages_shared",
					     "pages_sharing",  "pages_unshared",
					     "pages_volatile", "full_scans"};

struct hrow {
	uint64_t t_ms;
	uint64_t v[HCOLS];
};

struct rec {
	struct rguest *g;
	int ng, cap;
	struct hrow *h;
	size_t nh, caph;
	uint64_t total_kib;
	int ksm_ran; /* KSM's run was 1 in some sample */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct rguest *guest_for(struct rec *r, struct mv_virt_list *l, int i,
				const struct mv_virt_dom *id, uint64_t t)
{
	for (int k = 0; k < r->ng; k++)
		if (!strcmp(r->g[k].uuid, id->uuid))
			return &r->g[k];
	size_t cap = (size_t)r->cap;
	if (mv_array_room(&r->g, &cap, (size_t)r->ng, sizeof *r->g, 64))
		return NULL;
	r->cap = (int)cap;
	struct rguest *g = &r->g[r->ng];
	memset(g, 0, sizeof *g);
	snprintf(g->uuid, sizeof g->uuid, "%s", id->uuid);
	snprintf(g->name, sizeof g->name, "%s", id->name);
	g->xml = mv_virt_xml(l, i, 1);
	if (!g->xml)
		return NULL;
	g->first_ms = t;
	r->ng++;
	return g;
}

/*
 * What of the guest's RAM QEMU holds (smaps' Rss of the guest RAM
 * mapping) and the rest of QEMU's RSS, its own overhead (TCG's
 * translation buffer, QEMU's heap and code); 0 where not measured.
 */
static void guest_ram(const struct mv_record_opts *o, struct rguest *g,
		      const struct mv_virt_dom *d, struct row *w)
{
	if (!o->pid_dir || !d->rss)
		return;
	if (!g->pid || g->id != d->id) {
		g->id = d->id;
		if (mv_agent_pidfile_read(o->pid_dir, d->name, &g->pid))
			g->pid = 0;
	}
	uint64_t size, ram;
	if (!g->pid ||
	    mv_agent_guest_ram_read(g->pid, d->max_kib, "Rss:", &size, &ram))
		return;
	w->v[C_GUEST_RAM] = ram;
	w->v[C_OVERHEAD] = d->rss > ram ? d->rss - ram : 0;
}

static uint64_t sample_ms(const struct mv_record_opts *o)
{
	return (o->sample_ns ? o->sample_ns : 30 * MV_NS_PER_S) / MV_NS_PER_MS;
}

static void add_period(struct rguest *g, uint64_t t_ms, double frac)
{
	if (mv_array_room(&g->per, &g->capp, g->np, sizeof *g->per, 64))
		return;
	g->per[g->np].t_ms = t_ms;
	g->per[g->np++].frac = frac;
}

/*
 * The accessed bits as the agent reads them, when no agent runs beside
 * (with one, its log has them: clearing them here would cut its periods
 * short): smaps' Referenced of the guest RAM over a sampling period,
 * cleared at each period's start.
 */
static void accessed(const struct mv_record_opts *o, struct rguest *g,
		     const struct mv_virt_dom *d, uint64_t t)
{
	uint64_t size, ref, half = o->interval_ns / MV_NS_PER_MS / 2;
	if (!g->pid)
		return;
	if (g->per_pid != g->pid || !g->per_start_ms) {
		/* a new QEMU process: a new period */
		g->per_pid = g->pid;
		g->per_start_ms = mv_agent_refs_clear(g->pid) ? 0 : t;
		return;
	}
	if (t + half < g->per_start_ms + sample_ms(o))
		return;
	if (mv_agent_refs_read(g->pid, d->max_kib, &size, &ref) == 0 && size)
		add_period(g, t, (double)ref / (double)size);
	g->per_start_ms = mv_agent_refs_clear(g->pid) ? 0 : t;
}

static void sample(struct rec *r, struct mv_virt *v,
		   const struct mv_record_opts *o, const struct mv_ksm *ksm)
{
	char msg[256];
	const char *ev;
	if (!mv_virt_check(v, (double)now_ms() / 1e3, &ev, msg, sizeof msg))
		return;
	struct mv_virt_list l;
	if (mv_virt_list(v, &l, msg, sizeof msg))
		return;
	uint64_t t = now_ms(), rss_sum = 0;
	for (int i = 0; i < l.n; i++) {
		struct mv_virt_dom d;
		if (mv_virt_ident(&l, i, &d))
			continue;
		struct rguest *g = guest_for(r, &l, i, &d, t);
		if (!g || mv_virt_read(&l, i, &d) || !d.max_kib)
			continue;
		/* strictly later than the last row (the reader's rule) */
		if (g->n && g->rows[g->n - 1].t_ms >= t)
			continue;
		if (mv_array_room(&g->rows, &g->cap, g->n, sizeof *g->rows, 64))
			continue;
		struct row *w = &g->rows[g->n++];
		memset(w, 0, sizeof *w);
		w->t_ms = t;
		uint64_t actual = d.actual_kib < d.max_kib ? d.actual_kib
							   : d.max_kib;
		uint64_t used = d.have_unused && actual > d.unused
					? actual - d.unused
					: (d.rss && d.rss < actual ? d.rss
								   : actual);
		w->v[C_PROVISIONED] = d.max_kib;
		w->v[C_USAGE] = used;
		w->v[C_ACTUAL] = d.actual_kib;
		w->v[C_UNUSED] = d.unused;
		w->v[C_AVAILABLE] = d.available;
		w->v[C_USABLE] = d.usable;
		w->v[C_DISK_CACHES] = d.disk_caches;
		w->v[C_SWAP_IN] = d.swap_in;
		w->v[C_SWAP_OUT] = d.swap_out;
		w->v[C_MAJOR_FAULT] = d.major_fault;
		w->v[C_MINOR_FAULT] = d.minor_fault;
		w->v[C_RSS] = d.rss;
		w->v[C_STATS_TIME] = d.last_update;
		guest_ram(o, g, &d, w);
		if (!o->agent_log)
			accessed(o, g, &d, t);
		rss_sum += d.rss ? d.rss : d.actual_kib;
	}
	mv_virt_list_free(&l);
	if (mv_array_room(&r->h, &r->caph, r->nh, sizeof *r->h, 64))
		return;
	struct hrow *h = &r->h[r->nh++];
	memset(h, 0, sizeof *h);
	h->t_ms = t;
	if (o->host_memory_kib) {
		h->v[H_AVAILABLE] = o->host_memory_kib > rss_sum
					    ? o->host_memory_kib - rss_sum
					    : 0;
	} else {
		struct mv_agent_meminfo m;
		if (!mv_agent_meminfo_read(o->meminfo, &m))
			h->v[H_AVAILABLE] = m.available;
	}
	struct mv_ksm now;
	if (!mv_ksm_open(&now, ksm->dir) && now.value[MV_KSM_RUN] == 1)
		r->ksm_ran = 1;
	struct mv_ksm_counters k;
	if (!mv_ksm_counters_read(ksm, &k)) {
		h->v[H_SHARED] = k.pages_shared;
		h->v[H_SHARING] = k.pages_sharing;
		h->v[H_UNSHARED] = k.pages_unshared;
		h->v[H_VOLATILE] = k.pages_volatile;
		h->v[H_SCANS] = k.full_scans;
	}
}

/* FILE without ".xml", then suffix. */
static void side_path(const char *out, const char *suffix, char *buf, size_t n)
{
	size_t len = strlen(out);
	if (len > 4 && !strcmp(out + len - 4, ".xml"))
		len -= 4;
	snprintf(buf, n, "%.*s-%s", (int)len, out, suffix);
}

/* A guest name as a file name: letters, digits, '-', '_', '.'. */
static void file_name(const char *name, char *buf, size_t n)
{
	size_t k = 0;
	for (const char *p = name; *p && k + 1 < n; p++)
		buf[k++] = (char)((*p >= 'a' && *p <= 'z') ||
						  (*p >= 'A' && *p <= 'Z') ||
						  (*p >= '0' && *p <= '9') ||
						  *p == '-' || *p == '_' ||
						  *p == '.'
					  ? *p
					  : '_');
	buf[k] = 0;
}

/* The row's use (KiB): from its stats snapshot, else as sampled. */
static uint64_t row_usage(const struct row *w, uint64_t outside)
{
	if (!w->v[C_UNUSED])
		return w->v[C_USAGE]; /* no stats: QEMU's RSS or actual */
	return mv_agent_use_kib(w->v[C_PROVISIONED], w->v[C_ACTUAL],
				w->v[C_AVAILABLE], w->v[C_UNUSED], outside);
}

/*
 * The first row whose stats report is not from before the guest's first
 * sample (QEMU's last_update, whole seconds: made before it when a
 * second later is still no later). Rows before it take their use from
 * it: the replay writes its first row's set at power-on and its sampler
 * counts those writes, where a report from before the recording can show
 * what the guest had already freed when it began (test_agent_guests.sh:
 * 372 MiB, of which the 300 the guest had written and freed, for the
 * first two samples). 0 when no report says its time.
 */
size_t mv_record_fresh_row(const uint64_t *t_ms, const uint64_t *stats_s,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!stats_s[i])
			return 0;
		if (stats_s[i] * 1000 + 1000 > t_ms[0])
			return i;
	}
	return 0;
}

static size_t fresh_row(const struct rguest *g)
{
	uint64_t *t = malloc((g->n + 1) * sizeof *t),
		 *u = malloc((g->n + 1) * sizeof *u);
	size_t k = 0;
	if (t && u) {
		for (size_t i = 0; i < g->n; i++) {
			t[i] = g->rows[i].t_ms;
			u[i] = g->rows[i].v[C_STATS_TIME];
		}
		k = mv_record_fresh_row(t, u, g->n);
	}
	free(t);
	free(u);
	return k;
}

size_t mv_record_nearest_report(uint64_t t_ms, const uint64_t *stats_s,
				size_t n)
{
	size_t best = 0;
	int64_t best_d = -1;
	for (size_t j = 0; j < n && stats_s[j]; j++) {
		/* a report made in second s was made at s + 0.5 s on average */
		int64_t d = (int64_t)(stats_s[j] * 1000 + 500) - (int64_t)t_ms;
		if (d < 0)
			d = -d;
		if (best_d < 0 || d < best_d) {
			best = j;
			best_d = d;
		}
	}
	return best;
}

/* The row whose stats report gives row i's use: from the first fresh one
 * on, the one of the next few whose report was made nearest row i's time
 * (mv_record_nearest_report). */
static const struct row *use_row(const struct rguest *g, size_t i)
{
	size_t from = i < g->fresh ? g->fresh : i;
	uint64_t s[4];
	size_t n = 0;
	for (; n < 4 && from + n < g->n; n++)
		s[n] = g->rows[from + n].v[C_STATS_TIME];
	return &g->rows[from + mv_record_nearest_report(g->rows[i].t_ms, s, n)];
}

/* The row's usage workload set (KiB): its use less the OS image. */
static uint64_t set_kib(const struct row *w, uint64_t outside_kib,
			uint64_t image_kib)
{
	uint64_t use = row_usage(w, outside_kib);
	return use > image_kib ? use - image_kib : 0;
}

static void write_guest_csv(FILE *f, const struct rguest *g, uint64_t end_ms,
			    uint64_t image_kib, uint64_t outside_kib)
{
	fputs("Timestamp [ms]", f);
	for (int c = 0; c < NCOLS; c++)
		fprintf(f, ";\t%s", col_names[c]);
	fputc('\n', f);
	for (size_t i = 0; i <= g->n; i++) {
		const struct row *w = &g->rows[i < g->n ? i : g->n - 1];
		uint64_t t = w->t_ms;
		if (i == g->n) {
			/* held to the end: the replay must not run past it */
			if (end_ms <= g->rows[g->n - 1].t_ms)
				break;
			t = end_ms;
		}
		fprintf(f, "%" PRIu64, t);
		uint64_t use = set_kib(use_row(g, i < g->n ? i : g->n - 1),
				       outside_kib, image_kib);
		for (int c = 0; c < NCOLS; c++)
			fprintf(f, ";\t%" PRIu64, c != C_USAGE ? w->v[c] : use);
		fputc('\n', f);
	}
}

static void write_host_csv(FILE *f, const struct rec *r)
{
	fputs("Timestamp [ms]", f);
	for (int c = 0; c < HCOLS; c++)
		fprintf(f, ";\t%s", host_cols[c]);
	fputc('\n', f);
	for (size_t i = 0; i < r->nh; i++) {
		fprintf(f, "%" PRIu64, r->h[i].t_ms);
		for (int c = 0; c < HCOLS; c++)
			fprintf(f, ";\t%" PRIu64, r->h[i].v[c]);
		fputc('\n', f);
	}
}

/* Guest g's series, FILE-NAME.csv. */
static void guest_csv_path(const char *out, const struct rguest *g, char *buf,
			   size_t n)
{
	char fn[160], suffix[200];
	file_name(g->name, fn, sizeof fn);
	snprintf(suffix, sizeof suffix, "%s.csv", fn);
	side_path(out, suffix, buf, n);
}

/* err as record's one line in msg; -2. */
static int out_fail(const struct mv_error *err, char *msg, size_t msgn)
{
	char buf[600];
	snprintf(msg, msgn, "record: %s",
		 mv_error_format(err, buf, sizeof buf));
	return -2;
}

/* Open path in the set of outputs; NULL with msg set. */
static FILE *out_open(struct mv_outset *os, const char *path, char *msg,
		      size_t msgn)
{
	struct mv_error err = {0};
	FILE *f = mv_outset_open(os, path, &err);
	if (!f)
		out_fail(&err, msg, msgn);
	return f;
}

/* Close f, the last file out_open opened: 0, or -2 with msg set. */
static int out_close(struct mv_outset *os, FILE *f, char *msg, size_t msgn)
{
	struct mv_error err = {0};
	return mv_outset_close(os, f, 0, &err) ? out_fail(&err, msg, msgn) : 0;
}

/* The domain XML without its declaration, to go inside <vm>. */
static const char *body(const char *xml)
{
	if (!strncmp(xml, "<?xml", 5)) {
		const char *e = strstr(xml, "?>");
		if (e)
			return e + 2;
	}
	return xml;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* What the replay needs of one guest's series, beyond the series. */
struct gfit {
	uint64_t image_kib;   /* the disk caches it always had: its OS image */
	uint64_t touched_kib; /* guest RAM QEMU held at the start beyond use
				 and beyond boot_freed_kib */
	uint64_t boot_freed_kib; /* of that, what its boot left (boot_freed) */
	uint64_t overhead_kib;   /* QEMU's own RSS, the mean over the samples */
	uint64_t outside_kib;    /* its memory outside MemTotal */
};

static uint64_t round_page(uint64_t kib)
{
	return kib / 4 * 4;
}

static void fit(const struct rguest *g, struct gfit *f)
{
	memset(f, 0, sizeof *f);
	uint64_t lo = UINT64_MAX, sum = 0, n = 0;
	for (size_t i = 0; i < g->n; i++) {
		const struct row *w = &g->rows[i];
		if (w->v[C_UNUSED] && w->v[C_DISK_CACHES] < lo)
			lo = w->v[C_DISK_CACHES];
		if (w->v[C_GUEST_RAM]) {
			sum += w->v[C_OVERHEAD];
			n++;
		}
	}
	f->image_kib = lo == UINT64_MAX ? 0 : round_page(lo + 3);
	f->overhead_kib = n ? round_page(sum / n) : 0;
	uint64_t *act = malloc(g->n * sizeof *act),
		 *avail = malloc(g->n * sizeof *avail);
	if (act && avail) {
		for (size_t i = 0; i < g->n; i++) {
			act[i] = g->rows[i].v[C_ACTUAL];
			avail[i] = g->rows[i].v[C_AVAILABLE];
		}
		f->outside_kib = mv_agent_outside_kib(act, avail, g->n);
	}
	free(act);
	free(avail);
	const struct row *w0 = &g->rows[0];
	uint64_t use0 = row_usage(use_row(g, 0), f->outside_kib);
	if (w0->v[C_GUEST_RAM] > use0)
		f->touched_kib = round_page(w0->v[C_GUEST_RAM] - use0);
}

/*
 * Of the guest RAM QEMU held at the start beyond a guest's use, what its
 * boot wrote and freed (<mv:guest boot-freed>, which Linux hands out
 * after everything freed at run time) and what it freed since (the
 * `touched` workload, handed out first). The recording cannot tell them
 * apart in one guest; with two or more guests measured, the boot's share
 * is taken as the least excess among them (a guest that freed nothing
 * since its boot shows only what the boot left: 34.3 MiB for the busy
 * guest of an earlier examples/agent-run (26560), 325720 and 324564 KiB with
 * the 300 MiB the other two wrote and freed); with one, all of it is `touched`.
 */
static void boot_freed(const struct rec *r, struct gfit *gf)
{
	uint64_t least = UINT64_MAX;
	int n = 0;
	for (int k = 0; k < r->ng; k++)
		if (r->g[k].n && r->g[k].rows[0].v[C_GUEST_RAM]) {
			n++;
			if (gf[k].touched_kib < least)
				least = gf[k].touched_kib;
		}
	if (n < 2)
		return;
	for (int k = 0; k < r->ng; k++)
		if (r->g[k].n && r->g[k].rows[0].v[C_GUEST_RAM]) {
			gf[k].boot_freed_kib = least;
			gf[k].touched_kib -= least;
		}
}

/* xml with every `from` replaced by `to`; malloc'd, NULL on failure. */
static char *replace_all(const char *xml, const char *from, const char *to)
{
	size_t n = 0, lf = strlen(from), lt = strlen(to);
	for (const char *p = xml; (p = strstr(p, from)); p += lf)
		n++;
	char *out = malloc(strlen(xml) + n * lt + 1), *w = out;
	if (!out)
		return NULL;
	const char *p = xml;
	for (const char *q; (q = strstr(p, from)); p = q + lf) {
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		memcpy(w, to, lt);
		w += lt;
	}
	strcpy(w, p);
	return out;
}

/*
 * The agent reads a reservation from <memtune> min_guarantee, else
 * soft_limit (QEMU refuses min_guarantee); the simulator's reservation is
 * min_guarantee: a soft_limit alone is written as one. malloc'd.
 */
static char *reservation_as_agent(const char *xml)
{
	if (strstr(xml, "<min_guarantee") || !strstr(xml, "<soft_limit"))
		return strdup(xml);
	char *a = replace_all(xml, "<soft_limit", "<min_guarantee");
	char *b = a ? replace_all(a, "</soft_limit>", "</min_guarantee>")
		    : NULL;
	free(a);
	return b;
}

/*
 * The domain XML with <mv:guest image-size balloon-rate overhead> in memvisor's
 * metadata: in its <memvisor> element (any prefix) when there is one,
 * else a new one. malloc'd; NULL on failure. Unchanged when it already
 * has a <guest>.
 */
static char *with_guest(const char *xml, uint64_t image_kib, uint64_t rate_kib,
			uint64_t vmm_kib, uint64_t boot_freed_kib)
{
	char el[320], attrs[192], bf[64] = "";
	if (boot_freed_kib)
		snprintf(bf, sizeof bf, " boot-freed=\"%" PRIu64 "KiB\"",
			 boot_freed_kib);
	snprintf(attrs, sizeof attrs,
		 "image-size=\"%" PRIu64 "KiB\" balloon-rate=\"%" PRIu64
		 "KiB\" overhead=\"%" PRIu64 "KiB\"%s",
		 image_kib ? image_kib : 4, rate_kib, vmm_kib, bf);
	const char *ns = strstr(xml, "urn:memvisor:domain:1\"");
	size_t len = strlen(xml), at;
	const char *ins;
	if (strstr(xml, "guest image") || strstr(xml, "guest os") ||
	    strstr(xml, "guest balloon"))
		return strdup(xml);
	if (ns) {
		/* the element's own tag: its prefix, then past its '>' */
		const char *lt = ns;
		while (lt > xml && *lt != '<')
			lt--;
		const char *colon = lt + 1;
		while (*colon && *colon != ':' && *colon != ' ' &&
		       *colon != '>')
			colon++;
		int plen = *colon == ':' ? (int)(colon - lt - 1) : 0;
		const char *gt = strchr(ns, '>');
		if (!gt || gt[-1] == '/')
			return strdup(xml); /* empty element: left alone */
		snprintf(el, sizeof el, "<%.*s%sguest %s/>", plen, lt + 1,
			 plen ? ":" : "", attrs);
		ins = gt + 1;
	} else {
		snprintf(el, sizeof el,
			 "<mv:memvisor xmlns:mv=\"urn:memvisor:domain:1\">"
			 "<mv:guest %s/></mv:memvisor>",
			 attrs);
		ins = strstr(xml, "</metadata>");
		if (!ins) {
			char *m = malloc(strlen(el) + 32);
			if (!m)
				return NULL;
			sprintf(m, "<metadata>%s</metadata>", el);
			snprintf(el, sizeof el, "%s", m);
			free(m);
			ins = strstr(xml, "</domain>");
			if (!ins)
				return strdup(xml);
		}
	}
	at = (size_t)(ins - xml);
	char *out = malloc(len + strlen(el) + 1);
	if (!out)
		return NULL;
	memcpy(out, xml, at);
	strcpy(out + at, el);
	strcat(out, xml + at);
	return out;
}

/* What the sampler sees of rate r over set pages in period_s. */
static double seen(double r, double set, double period_s)
{
	return set * -expm1(-r * period_s / set);
}

double mv_record_access_rate(const double *accessed, const double *set,
			     size_t n, double period_s)
{
	double best = 0, best_err = -1;
	if (!(period_s > 0))
		return 0;
	/* each period's own rate is a candidate; the one whose sampler
	 * sees, over all periods, the pages nearest to those measured */
	for (size_t i = 0; i < n; i++) {
		if (!(set[i] >= 1))
			continue;
		double f = accessed[i] > 0 ? accessed[i] / set[i] : 0;
		if (f > set[i] / (set[i] + 1))
			f = set[i] / (set[i] + 1);
		double r = set[i] / period_s * -log1p(-f), err = 0;
		for (size_t k = 0; k < n; k++) {
			if (!(set[k] >= 1))
				continue;
			double want = accessed[k] > 0 ? accessed[k] : 0;
			if (want > set[k] * set[k] / (set[k] + 1))
				want = set[k] * set[k] / (set[k] + 1);
			err += fabs(seen(r, set[k], period_s) - want);
		}
		if (best_err < 0 || err < best_err ||
		    (err == best_err && r < best)) {
			best = r;
			best_err = err;
		}
	}
	return best;
}

uint64_t mv_record_sampling_phase(const uint64_t *end_ms, size_t n,
				  uint64_t t0_ms, uint64_t period_ms,
				  uint64_t step_ms)
{
	uint64_t first = UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (end_ms[i] > t0_ms && end_ms[i] < first)
			first = end_ms[i];
	if (first == UINT64_MAX || !period_ms || !step_ms)
		return 0;
	uint64_t ph = (first - t0_ms) % period_ms;
	ph = (ph + step_ms / 2) / step_ms * step_ms;
	if (ph < step_ms) /* under half a step past the grid's end: on it */
		return 0;
	return ph >= period_ms ? 0 : ph;
}

/* The phase of the periods measured for every guest (above). */
static uint64_t measured_phase(const struct rec *r, uint64_t t0_ms,
			       uint64_t period_ms, uint64_t step_ms)
{
	size_t n = 0;
	for (int k = 0; k < r->ng; k++)
		n += r->g[k].np;
	uint64_t *ends = malloc((n ? n : 1) * sizeof *ends);
	if (!ends)
		return 0;
	n = 0;
	for (int k = 0; k < r->ng; k++)
		for (size_t i = 0; i < r->g[k].np; i++)
			ends[n++] = r->g[k].per[i].t_ms;
	uint64_t ph = mv_record_sampling_phase(ends, n, t0_ms, period_ms,
					       step_ms);
	free(ends);
	return ph;
}

/*
 * The accessed fractions the agent measured beside the recording: in its
 * JSON log, a guest's decision line at the interval a sampling period
 * ended has "accessed" (docs/agent.md). Lines after end_ms (the agent ran
 * on) and a line cut short (the agent still writing) are left out.
 */
static int read_agent_log(const char *path, struct rec *r, uint64_t end_ms)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		const char *uuid = json_string_value(
			json_object_get(j, "uuid"));
		json_t *a = json_object_get(j, "accessed");
		double t = json_number_value(json_object_get(j, "t"));
		uint64_t t_ms = (uint64_t)(t * 1e3 + 0.5);
		if (uuid && json_is_number(a) && t_ms <= end_ms + 500)
			for (int k = 0; k < r->ng; k++)
				if (!strcmp(r->g[k].uuid, uuid))
					add_period(&r->g[k], t_ms,
						   json_number_value(a));
		json_decref(j);
	}
	free(line);
	fclose(f);
	return 0;
}

/*
 * The usage workload's rate (accesses a second) from the accessed
 * fractions measured over each period, against the set the workload held
 * then (the row nearest the period's middle); with none measured (no QEMU
 * PID, smaps unreadable: the test driver), the agent's fallback, every
 * page of the guest's use active in each period (n: the number of
 * periods or rows it came from).
 */
static uint64_t access_rate(const struct rguest *g, const struct gfit *f,
			    uint64_t period_ms, size_t *n)
{
	size_t m = g->np ? g->np : g->n;
	double *acc = malloc(m * sizeof *acc), *set = malloc(m * sizeof *set);
	double rate = 0;
	if (acc && set) {
		size_t w = 0;
		for (size_t i = 0; i < m; i++) {
			if (g->np) {
				uint64_t mid = g->per[i].t_ms > period_ms / 2
						       ? g->per[i].t_ms -
								 period_ms / 2
						       : 0;
				while (w + 1 < g->n &&
				       g->rows[w + 1].t_ms <= mid)
					w++;
				if (w + 1 < g->n && g->rows[w].t_ms < mid &&
				    g->rows[w + 1].t_ms - mid <
					    mid - g->rows[w].t_ms)
					w++;
			} else {
				w = i;
			}
			const struct row *row = &g->rows[w];
			set[i] = (double)set_kib(use_row(g, w), f->outside_kib,
						 f->image_kib) /
				 (MV_PAGE_SIZE / 1024);
			acc[i] = g->np ? g->per[i].frac *
						 (double)row->v[C_PROVISIONED] /
						 (MV_PAGE_SIZE / 1024)
				       : set[i];
		}
		rate = mv_record_access_rate(acc, set, m,
					     (double)period_ms / 1e3);
	}
	free(acc);
	free(set);
	*n = m;
	return rate < 1 ? 1 : (uint64_t)(rate + 0.5);
}

/* Every file of the recording into os; 0, or -2 with msg set. */
static int write_set(const struct mv_record_opts *o, struct rec *r,
		     struct mv_outset *os, char *msg, size_t msgn)
{
	uint64_t t0 = r->nh ? r->h[0].t_ms : 0;
	uint64_t end = r->nh ? r->h[r->nh - 1].t_ms : 0;
	uint64_t dur_s = (end - t0) / 1000;
	if (dur_s < 1)
		dur_s = 1;
	char path[4096];
	int rc = o->agent_log ? read_agent_log(o->agent_log, r, end) : 0;
	if (rc) {
		snprintf(msg, msgn, "record: --agent-log: cannot read '%s': %s",
			 o->agent_log, strerror(-rc));
		return -2;
	}
	side_path(o->output, "host.csv", path, sizeof path);
	FILE *f = out_open(os, path, msg, msgn);
	if (!f)
		return -2;
	write_host_csv(f, r);
	if (out_close(os, f, msg, msgn))
		return -2;
	/* QEMU's own memory is in each guest's RSS, as the agent counts it:
	 * each guest's <mv:guest overhead>, which the simulator counts as
	 * the guest's and the host's (docs/scenario.md) */
	struct gfit *gf = calloc((size_t)r->ng + 1, sizeof *gf);
	if (!gf) {
		snprintf(msg, msgn, "record: out of memory");
		return -2;
	}
	uint64_t ovh = 0;
	for (int k = 0; k < r->ng; k++)
		if (r->g[k].n) {
			r->g[k].fresh = fresh_row(&r->g[k]);
			fit(&r->g[k], &gf[k]);
			ovh += gf[k].overhead_kib;
		}
	boot_freed(r, gf);
	/* the series first: the scenario is the last file of the set */
	for (int k = 0; k < r->ng; k++) {
		if (!r->g[k].n)
			continue;
		guest_csv_path(o->output, &r->g[k], path, sizeof path);
		f = out_open(os, path, msg, msgn);
		if (f) {
			write_guest_csv(f, &r->g[k], end, gf[k].image_kib,
					gf[k].outside_kib);
			rc = out_close(os, f, msg, msgn);
		}
		if (!f || rc) {
			free(gf);
			return -2;
		}
	}
	uint64_t host_kib = round_page(r->total_kib);
	uint64_t step_ms = o->interval_ns >= MV_NS_PER_MS
				   ? o->interval_ns / MV_NS_PER_MS
				   : 1;
	/* the budget (--host-memory) can be below what the guests held:
	 * the agent then sees no free memory; the simulated machine must
	 * still back every page, so its memory is at least all the guests'
	 * and the budget is what its policy manages (<budget>) */
	uint64_t machine_kib = host_kib, all = 0;
	for (int k = 0; k < r->ng; k++)
		if (r->g[k].n)
			all += r->g[k].rows[0].v[C_PROVISIONED];
	if (round_page(all) > machine_kib)
		machine_kib = round_page(all);
	char budget[96] = "";
	if (machine_kib > host_kib)
		snprintf(budget, sizeof budget,
			 "    <budget unit=\"KiB\">%" PRIu64 "</budget>\n",
			 host_kib);
	/* the agent's measurement: every page's accessed bit once a
	 * period, as the sampler with as many pages as the largest guest
	 * has (each VM samples at most its own; the scenario's limit caps
	 * it) */
	uint64_t most = 0;
	for (int k = 0; k < r->ng; k++)
		if (r->g[k].n && r->g[k].rows[0].v[C_PROVISIONED] > most)
			most = r->g[k].rows[0].v[C_PROVISIONED];
	uint64_t spages = most / (MV_PAGE_SIZE / 1024);
	if (spages > 1000000) /* <sampling pages>' most */
		spages = 1000000;
	if (spages < 1)
		spages = 1;
	uint64_t period_ms = sample_ms(o);
	/* to the replay's step (the scenario's default, 10 ms) */
	uint64_t phase_ms = measured_phase(r, t0, period_ms, 10);
	char phase[64] = "";
	if (phase_ms)
		snprintf(phase, sizeof phase, " phase=\"%" PRIu64 "ms\"",
			 phase_ms);
	char host[64] = "host", pattern[4096];
	side_path(o->output, "*.csv", pattern, sizeof pattern);
	gethostname(host, sizeof host - 1);
	f = out_open(os, o->output, msg, msgn);
	if (!f) {
		free(gf);
		return -2;
	}
	fprintf(f,
		"<?xml version=\"1.0\"?>\n"
		"<!-- memvisor record: %d guests, %" PRIu64
		" s from %s; series in %s -->\n"
		"<scenario name=\"recorded\" seed=\"1\" duration=\"%" PRIu64
		"s\" stats-interval=\"%" PRIu64 "ms\">\n"
		"  <host name=\"%s\">\n"
		"    <!-- the guests' QEMU overhead, %" PRIu64
		" KiB in all, is in their <mv:guest overhead> -->\n"
		"    <memory unit=\"KiB\">%" PRIu64 "</memory>\n"
		"%s"
		"    <!-- as under memvisor agent: only balloons reclaim -->\n"
		"    <reclaim balloon-only=\"yes\"/>\n"
		"    <!-- as the agent measures active memory: every page's "
		"accessed bit, once a sampling period (phase: its periods "
		"ended then) -->\n"
		"    <sampling pages=\"%" PRIu64 "\" period=\"%" PRIu64
		"ms\"%s/>\n"
		"%s"
		"  </host>\n",
		r->ng, dur_s, o->uri ? o->uri : "libvirt's default URI",
		base_name(pattern), dur_s, step_ms, host, ovh, machine_kib,
		budget, spages, period_ms, phase,
		r->ksm_ran ? ""
			   : "    <!-- KSM's run was 0 throughout -->\n"
			     "    <sharing enabled=\"no\"/>\n");
	for (int k = 0; k < r->ng; k++) {
		const struct rguest *g = &r->g[k];
		if (!g->n)
			continue;
		guest_csv_path(o->output, g, path, sizeof path);
		/* the agent's rate: 5% of the guest's memory per interval */
		uint64_t rate_kib = round_page(
			(uint64_t)((double)g->rows[0].v[C_PROVISIONED] * 0.05 *
				   1e9 / (double)o->interval_ns));
		char *res = reservation_as_agent(body(g->xml));
		char *xml = res ? with_guest(res, gf[k].image_kib, rate_kib,
					     gf[k].overhead_kib,
					     gf[k].boot_freed_kib)
				: NULL;
		free(res);
		if (!xml) {
			free(gf);
			mv_outset_close(os, f, MV_ENOMEM, NULL);
			snprintf(msg, msgn, "record: cannot write '%s': %s",
				 o->output, "out of memory");
			return -2;
		}
		uint64_t start_s = (g->rows[0].t_ms - t0 + 999) / 1000;
		fprintf(f, "  <vm>\n%s\n", xml);
		free(xml);
		size_t nper;
		uint64_t rate = access_rate(g, &gf[k], period_ms, &nper);
		if (g->np)
			fprintf(f,
				"    <!-- rate: fitted to %zu sampling "
				"periods of the accessed pages %s -->\n",
				nper,
				o->agent_log ? "the agent measured (its log)"
					     : "measured (accessed bits)");
		else
			fprintf(f,
				"    <!-- rate: no accessed bits measured; as "
				"the agent's fallback, all of the guest's use "
				"active (fitted to %zu samples) -->\n",
				nper);
		fprintf(f,
			"    <workload name=\"recorded\" kind=\"usage\" "
			"format=\"bitbrains\" file=\"%s\" size=\"%" PRIu64
			"KiB\" rate=\"%" PRIu64 "\" start=\"%" PRIu64 "s\"/>\n",
			base_name(path), g->rows[0].v[C_PROVISIONED] / 4 * 4,
			rate, start_s);
		/* what QEMU held at the start beyond the guest's use: pages
		 * the guest touched and freed before (its QEMU keeps them
		 * until a balloon takes them), touched then freed again;
		 * written before the recording began, they were not accessed
		 * in it: the sampler does not see these writes, as the
		 * agent's accessed bits did not (docs/agent.md) */
		if (gf[k].touched_kib)
			fprintf(f,
				"    <workload name=\"touched\" kind=\"idle\" "
				"size=\"%" PRIu64 "KiB\" content=\"random\" "
				"sampled=\"no\" "
				"start=\"%" PRIu64 "s\" stop=\"%" PRIu64
				"ms\"/>\n",
				gf[k].touched_kib, start_s,
				start_s * 1000 + step_ms);
		fputs("  </vm>\n", f);
	}
	free(gf);
	fputs("</scenario>\n", f);
	return out_close(os, f, msg, msgn);
}

/*
 * The scenario and its series, all or none (report/outset.c): each is
 * written to a unique temporary name beside it and renamed into place
 * only when every one is complete; on an error the temporaries go and
 * what was there stays.
 */
static int write_all(const struct mv_record_opts *o, struct rec *r, char *msg,
		     size_t msgn)
{
	struct mv_outset os;
	mv_outset_init(&os, NULL);
	int rc = write_set(o, r, &os, msg, msgn);
	struct mv_error err = {0};
	if (!rc && mv_outset_commit(&os, &err))
		rc = out_fail(&err, msg, msgn);
	mv_outset_free(&os);
	return rc;
}

int mv_record_run(const struct mv_record_opts *o, char *msg, size_t msgn)
{
	struct mv_virt *v;
	char why[256];
	if (mv_virt_open(o->uri, &v, why, sizeof why)) {
		snprintf(msg, msgn, "record: cannot connect to '%s': %s",
			 o->uri ? o->uri : "(libvirt default)", why);
		return -1;
	}
	struct rec r = {0};
	struct mv_agent_meminfo m;
	r.total_kib = o->host_memory_kib;
	if (!r.total_kib && !mv_agent_meminfo_read(o->meminfo, &m))
		r.total_kib = m.total;
	struct mv_ksm ksm;
	mv_ksm_open(&ksm, o->ksm_dir); /* absent: no KSM columns filled */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (uint64_t i = 0;; i++) {
		sample(&r, v, o, &ksm);
		if (o->stop && *o->stop)
			break;
		uint64_t next = (i + 1) * o->interval_ns;
		if (next > o->duration_ns)
			break;
		struct timespec ts = {
			start.tv_sec + (time_t)((start.tv_nsec + next) /
						1000000000ull),
			(long)((start.tv_nsec + next) % 1000000000ull)};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR &&
		       !(o->stop && *o->stop))
			;
		if (o->stop && *o->stop)
			break;
	}
	mv_virt_close(v);
	int rc = write_all(o, &r, msg, msgn);
	for (int k = 0; k < r.ng; k++) {
		free(r.g[k].xml);
		free(r.g[k].rows);
		free(r.g[k].per);
	}
	free(r.g);
	free(r.h);
	return rc;
}
