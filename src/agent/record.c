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
 *                   actual - unused) plus the rest of what was measured
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/hostio.h"
#include "agent/virt.h"

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
};

struct row {
	uint64_t t_ms;
	uint64_t v[NCOLS];
};

struct rguest {
	char uuid[40], name[128];
	char *xml;
	uint64_t first_ms;
	struct row *rows;
	size_t n, cap;
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
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 64;
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static struct rguest *guest_for(struct rec *r, struct mv_virt_list *l, int i,
				const struct mv_virt_dom *id, uint64_t t)
{
	for (int k = 0; k < r->ng; k++)
		if (!strcmp(r->g[k].uuid, id->uuid))
			return &r->g[k];
	size_t cap = (size_t)r->cap;
	if (grow((void **)&r->g, &cap, (size_t)r->ng, sizeof *r->g))
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
		if (grow((void **)&g->rows, &g->cap, g->n, sizeof *g->rows))
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
		rss_sum += d.rss ? d.rss : d.actual_kib;
	}
	mv_virt_list_free(&l);
	if (grow((void **)&r->h, &r->caph, r->nh, sizeof *r->h))
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

static int write_guest_csv(const char *path, const struct rguest *g,
			   uint64_t end_ms)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
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
		for (int c = 0; c < NCOLS; c++)
			fprintf(f, ";\t%" PRIu64, w->v[c]);
		fputc('\n', f);
	}
	return fclose(f) ? -errno : 0;
}

static int write_host_csv(const char *path, const struct rec *r)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
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
	return fclose(f) ? -errno : 0;
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

static int write_all(const struct mv_record_opts *o, const struct rec *r,
		     char *msg, size_t msgn)
{
	uint64_t t0 = r->nh ? r->h[0].t_ms : 0;
	uint64_t end = r->nh ? r->h[r->nh - 1].t_ms : 0;
	uint64_t dur_s = (end - t0) / 1000;
	if (dur_s < 1)
		dur_s = 1;
	char path[4096], tmp[4200];
	side_path(o->output, "host.csv", path, sizeof path);
	int rc = write_host_csv(path, r);
	if (rc) {
		snprintf(msg, msgn, "record: cannot write '%s': %s", path,
			 strerror(-rc));
		return -2;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", o->output);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(msg, msgn, "record: cannot write '%s': %s", tmp,
			 strerror(errno));
		return -2;
	}
	char host[64] = "host", pattern[4096];
	side_path(o->output, "*.csv", pattern, sizeof pattern);
	gethostname(host, sizeof host - 1);
	fprintf(f,
		"<?xml version=\"1.0\"?>\n"
		"<!-- memvisor record: %d guests, %" PRIu64
		" s from %s; series in %s -->\n"
		"<scenario name=\"recorded\" seed=\"1\" duration=\"%" PRIu64
		"s\" stats-interval=\"%" PRIu64 "ms\">\n"
		"  <host name=\"%s\">\n"
		"    <memory unit=\"KiB\">%" PRIu64 "</memory>\n"
		"  </host>\n",
		r->ng, dur_s, o->uri ? o->uri : "libvirt's default URI",
		base_name(pattern), dur_s,
		(uint64_t)(o->interval_ns >= MV_NS_PER_MS
				   ? o->interval_ns / MV_NS_PER_MS
				   : 1),
		host, r->total_kib);
	for (int k = 0; k < r->ng; k++) {
		const struct rguest *g = &r->g[k];
		if (!g->n)
			continue;
		char fn[160], suffix[200];
		file_name(g->name, fn, sizeof fn);
		snprintf(suffix, sizeof suffix, "%s.csv", fn);
		side_path(o->output, suffix, path, sizeof path);
		rc = write_guest_csv(path, g, end);
		if (rc) {
			fclose(f);
			unlink(tmp);
			snprintf(msg, msgn, "record: cannot write '%s': %s",
				 path, strerror(-rc));
			return -2;
		}
		uint64_t start_s = (g->rows[0].t_ms - t0 + 999) / 1000;
		fprintf(f, "  <vm>\n%s\n", body(g->xml));
		fprintf(f,
			"    <workload name=\"recorded\" kind=\"usage\" "
			"format=\"bitbrains\" file=\"%s\" size=\"%" PRIu64
			"KiB\" rate=\"1k\" start=\"%" PRIu64 "s\"/>\n  </vm>\n",
			base_name(path), g->rows[0].v[C_PROVISIONED] / 4 * 4,
			start_s);
	}
	fputs("</scenario>\n", f);
	if (fclose(f) || rename(tmp, o->output)) {
		snprintf(msg, msgn, "record: cannot write '%s': %s", o->output,
			 strerror(errno));
		unlink(tmp);
		return -2;
	}
	return 0;
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
	}
	free(r.g);
	free(r.h);
	return rc;
}
