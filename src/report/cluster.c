/*
 * cluster.c - the report of a cluster run (docs/cluster.md): a summary
 * table of the hosts, then each host's own report as `memvisor run`
 * prints it for one host; the CSV of every host's samples with a host
 * column. The JSON document is json.c's (mv_report_cluster_json).
 *
 * The per-host figures are computed once (mv_cluster_host_figures, from
 * the run summary the host's own report uses), so the summary table, the
 * JSON's "cluster" object and each host's section print the same numbers.
 * Everything is a deterministic function of the cluster file and seed;
 * the measured figures (wall-clock time, the scanner's measured CPU) are
 * only in the JSON's wall_s lines and in `run --timing`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"
#include "memvisor/report.h"
#include "report/summary.h"
#include "report/views.h"

int mv_cluster_host_figures(const struct mv_sim *s,
			    struct mv_cluster_host_figures *f)
{
	struct mv_run_summary r;
	int rc = mv_run_summary_init(&r, s);
	if (rc)
		return rc;
	memset(f, 0, sizeof *f);
	f->mem_bytes = s->sc->host.mem_bytes;
	f->configured_bytes = r.configured_bytes;
	f->overcommit = r.overcommit;
	f->nvms = r.present;
	f->sim_ns = r.sim_ns;
	f->consumed = r.total.consumed;
	f->shared_saved = r.total.shared_saved;
	f->ballooned = r.total.guest.balloon_pages;
	f->swapped = r.total.state[MV_PS_SWAPPED];
	f->compressed = r.total.state[MV_PS_COMPRESSED];
	/* the host's own: a VM that left counts until it left, one that
	 * came from its arrival (its counters go with it) */
	f->stall_ns = r.total.stall_ns;
	f->swap_in = r.total.swap.reads;
	for (int i = 0; s->moved && i < s->nvms; i++) {
		const struct mv_sim_moved *m = &s->moved[i];
		if (m->gone) {
			f->stall_ns += m->stall_exit_ns;
			f->swap_in += m->swap_in_exit;
		}
		f->stall_ns -= m->stall_base_ns;
	}
	f->free_min = r.free_min;
	memcpy(f->state_ns, s->state_ns, sizeof f->state_ns);
	mv_run_summary_free(&r);
	return 0;
}

/* Host h's record (this process simulates it). */
static int host_record(const struct mv_sim *s, struct mv_cluster_host_record *x)
{
	memset(x, 0, sizeof *x);
	int rc = mv_cluster_host_figures(s, &x->fig);
	x->slots = s->nvms;
	for (int i = 0; i < s->nvms; i++)
		x->present += !mv_sim_vm_gone(s, i);
	x->verify_checks = s->verify_checks;
	x->verify_pages = s->verify_pages;
	return rc;
}

/* The chart names of host `host`'s VM slots: view names (host.svg,
 * vm-NAME.svg) with "HOST-" before them; NULL out of memory. */
static char **svg_names(const char *host, const struct mv_scenario *sc)
{
	char **v = mv_report_view_names(sc, "svg");
	for (int k = 0; v && v[k]; k++) {
		char *p = NULL;
		if (asprintf(&p, "%s-%s", host, v[k]) < 0) {
			mv_report_view_names_free(v);
			return NULL;
		}
		free(v[k]);
		v[k] = p;
	}
	return v;
}

/* Host s's charts as the SVG part holds them (see summary.h). */
static int render_svg(FILE *out, const struct mv_sim *s, const char *host)
{
	char **names = svg_names(host, s->sc);
	if (!names)
		return MV_ENOMEM;
	int rc = 0;
	for (int k = 0; !rc && names[k]; k++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f) {
			rc = MV_ENOMEM;
			break;
		}
		rc = mv_report_svg_vm(f, s, k - 1);
		if (fclose(f) && !rc)
			rc = MV_ENOMEM;
		uint32_t nl = (uint32_t)strlen(names[k]);
		uint64_t l = len;
		if (!rc && (fwrite(&nl, sizeof nl, 1, out) != 1 ||
			    fwrite(names[k], 1, nl, out) != nl ||
			    fwrite(&l, sizeof l, 1, out) != 1 ||
			    (len && fwrite(buf, 1, len, out) != len)))
			rc = MV_EIO;
		free(buf);
	}
	mv_report_view_names_free(names);
	return rc;
}

/* Host h's part `k` (MV_CPART_*), appended to out. */
static int render_part(FILE *out, const struct mv_cluster *c,
		       const struct mv_cluster_host_record *all, int h, int k)
{
	const struct mv_sim *s = c->sim[h];
	const struct mv_cluster_host *H = &c->cs->host[h];
	if (k == MV_CPART_SVG)
		return render_svg(out, s, H->name);
	if (k == MV_CPART_TEXT) {
		fprintf(out, "\n\n=== host %s (%s, seed %llu) ===\n\n", H->name,
			H->file[0] ? H->file : "inline",
			(unsigned long long)H->seed);
		return mv_report_text(out, s);
	}
	if (k == MV_CPART_JSON)
		return mv_report_json_cluster_host(out, s, h);
	if (k == MV_CPART_CSV_HOST)
		return mv_csv_host_rows(out, s, H->name, h == 0);
	/* vm.csv's header comes with the cluster's first VM */
	int before = 0;
	for (int g = 0; g < h; g++)
		before += all[g].slots;
	int rc = 0;
	for (int i = 0; !rc && i < s->nvms; i++)
		rc = mv_csv_vm_rows(out, s, i, H->name, !before && i == 0);
	return rc;
}

void mv_report_cluster_free(struct mv_cluster_report *r)
{
	if (!r)
		return;
	free(r->host);
	for (int k = 0; k < MV_CPARTS; k++)
		free(r->part[k]);
	free(r);
}

static int oom(struct mv_error *err)
{
	return mv_error_set(err, MV_ENOMEM, NULL, 0, NULL, "out of memory");
}

int mv_report_cluster_collect(const struct mv_cluster *c, unsigned what,
			      struct mv_cluster_report **out,
			      struct mv_error *err)
{
	*out = NULL;
	int rank = c->comm ? mv_comm_rank(c->comm) : 0;
	size_t rec = sizeof(struct mv_cluster_host_record);
	struct mv_cluster_report *r = calloc(1, sizeof *r);
	struct mv_cluster_host_record *mine =
		calloc((size_t)c->count + 1, rec);
	if (r)
		r->host = calloc((size_t)c->nhosts, rec);
	if (!r || !mine || !r->host) {
		free(mine);
		mv_report_cluster_free(r);
		return oom(err);
	}
	r->nhosts = c->nhosts;
	int rc = 0;
	for (int k = 0; !rc && k < c->count; k++)
		if (host_record(c->sim[c->first + k], &mine[k]))
			rc = oom(err);
	/* every rank needs every host's slots (vm.csv's header) */
	if (!rc && c->comm)
		rc = mv_comm_gather_hosts(c->comm, c->nhosts, rec, mine,
					  r->host, err);
	else if (!rc)
		memcpy(r->host, mine, (size_t)c->nhosts * rec);
	if (!rc && c->comm)
		rc = mv_comm_bcast(c->comm, r->host, (size_t)c->nhosts * rec,
				   err);
	free(mine);
	static const unsigned needs[MV_CPARTS] = {
		MV_CREPORT_TEXT, MV_CREPORT_JSON, MV_CREPORT_CSV,
		MV_CREPORT_CSV, MV_CREPORT_SVG};
	for (int k = 0; !rc && k < MV_CPARTS; k++) {
		if (!(what & needs[k]))
			continue;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f) {
			rc = oom(err);
			break;
		}
		for (int h = c->first; !rc && h < c->first + c->count; h++)
			if ((rc = render_part(f, c, r->host, h, k)) != 0)
				mv_error_set(err, rc, NULL, 0, NULL,
					     "cannot render host %s's report",
					     c->cs->host[h].name);
		if (fclose(f) && !rc)
			rc = oom(err);
		if (!rc && c->comm) {
			void *all = NULL;
			size_t n = 0;
			rc = mv_comm_gather_bytes(c->comm, buf, len, &all, &n,
						  err);
			free(buf);
			buf = all;
			len = n;
		}
		r->part[k] = buf;
		r->len[k] = len;
	}
	if (rc || rank != 0) {
		mv_report_cluster_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void mv_report_cluster_verified(const struct mv_cluster_report *r,
				uint64_t *checks, uint64_t *pages)
{
	*checks = *pages = 0;
	for (int h = 0; h < r->nhosts; h++) {
		*checks += r->host[h].verify_checks;
		*pages += r->host[h].verify_pages;
	}
}

/* Part k of the report, as collected; MV_EINVAL when it was not. */
static int put_part(FILE *out, const struct mv_cluster_report *r, int k)
{
	if (!r->part[k])
		return MV_EINVAL;
	if (r->len[k] && fwrite(r->part[k], 1, r->len[k], out) != r->len[k])
		return MV_EIO;
	return 0;
}

static void print_cluster_header(FILE *out, const struct mv_cluster *c,
				 const struct mv_cluster_report *r)
{
	const struct mv_cluster_scenario *cs = c->cs;
	int nvms = 0; /* each VM once: its slot where it is (or was last) */
	for (int h = 0; h < c->nhosts; h++)
		nvms += r->host[h].present;
	fprintf(out, "memvisor %s cluster summary\n\n", MV_VERSION);
	fprintf(out, "  %-12s %s  (%s)\n", "cluster", cs->name, cs->source);
	fprintf(out,
		"  %-12s %.3f s in %llu steps of %.3f ms, every host in "
		"lockstep\n",
		"simulated", (double)c->now_ns / MV_NS_PER_S,
		(unsigned long long)c->steps,
		(double)cs->step_ns / MV_NS_PER_MS);
	fprintf(out, "  %-12s %llu (host h's: mv_cluster_host_seed)\n", "seed",
		(unsigned long long)cs->seed);
	fprintf(out, "  %-12s %d host%s, %d VM%s\n", "hosts", c->nhosts,
		c->nhosts == 1 ? "" : "s", nvms, nvms == 1 ? "" : "s");
	fprintf(out,
		"  %-12s %.1f MiB/s per link, latency %.0f us; migration: "
		"downtime limit %.0f ms, %d rounds, on limit %s\n",
		"network", cs->bandwidth / (double)MV_MIB,
		(double)cs->latency_ns / MV_NS_PER_US,
		(double)cs->migrate.downtime_limit_ns / MV_NS_PER_MS,
		cs->migrate.max_rounds,
		cs->migrate.auto_converge ? "auto-converge" : "stop");
	fprintf(out, "  %-12s %s\n", "storage",
		cs->migrate.shared_swap
			? "swap files on shared storage (a migrated VM's "
			  "swapped pages stay in its file)"
			: "swap files on each host's own disk (a migrated "
			  "VM's swapped pages are read back and sent)");
	if (!cs->drs_level) {
		fprintf(out, "  %-12s none\n", "DRS");
		return;
	}
	const struct mv_drs_config *d = &cs->drs;
	fprintf(out,
		"  %-12s level %d (migration threshold), every %.0f s; at "
		"most %d migrations per host, MinGoodness %.2f step, "
		"cost-benefit %s\n",
		"DRS", d->level, (double)d->interval_ns / MV_NS_PER_S,
		d->max_per_host, d->min_goodness_step,
		d->cost_benefit ? "on" : "off");
}

/* The host name column's width: the longest name, at least "TOTAL". */
static int name_width(const struct mv_cluster *c)
{
	int w = (int)strlen("TOTAL");
	for (int h = 0; h < c->nhosts; h++) {
		int len = (int)strlen(c->cs->host[h].name);
		w = len > w ? len : w;
	}
	return w;
}

static void rule(FILE *out, int width)
{
	fputs("  ", out);
	for (int i = 0; i < width; i++)
		fputc('-', out);
	fputc('\n', out);
}

static void print_memory(FILE *out, const struct mv_cluster *c,
			 const struct mv_cluster_report *r, int nw)
{
	static const char head[] = "   VMS   MEMORY   CONFIG  OVERCOMMIT  "
				   "CONSUMED  SHRDSVD   MCTLSZ    SWCUR  "
				   "COMPRESSED   STALL s  SWAP-IN";
	fprintf(out, "\nmemory per host at the end (MiB; STALL and SWAP-IN, "
		     "pages read back from swap: over the run, on the host, "
		     "a moved VM's where they happened)\n");
	fprintf(out, "  %-*s%s\n", nw, "HOST", head);
	rule(out, nw + (int)strlen(head));
	struct mv_cluster_host_figures t = {0};
	for (int h = 0; h <= c->nhosts; h++) {
		const struct mv_cluster_host_figures *x =
			h < c->nhosts ? &r->host[h].fig : &t;
		if (h < c->nhosts) {
			t.nvms += x->nvms;
			t.mem_bytes += x->mem_bytes;
			t.configured_bytes += x->configured_bytes;
			t.consumed += x->consumed;
			t.shared_saved += x->shared_saved;
			t.ballooned += x->ballooned;
			t.swapped += x->swapped;
			t.compressed += x->compressed;
			t.stall_ns += x->stall_ns;
			t.swap_in += x->swap_in;
		} else {
			t.overcommit = t.mem_bytes
					       ? (double)t.configured_bytes /
							 (double)t.mem_bytes
					       : 0;
		}
		fprintf(out,
			"  %-*s %5d %8.1f %8.1f %10.2f:1 %9.1f %8.1f %8.1f "
			"%8.1f %11.1f %9.3f %8llu\n",
			nw, h < c->nhosts ? c->cs->host[h].name : "TOTAL",
			x->nvms, (double)x->mem_bytes / (double)MV_MIB,
			(double)x->configured_bytes / (double)MV_MIB,
			x->overcommit, mv_pages_mib(x->consumed),
			mv_pages_mib(x->shared_saved),
			mv_pages_mib(x->ballooned), mv_pages_mib(x->swapped),
			mv_pages_mib(x->compressed),
			(double)x->stall_ns / MV_NS_PER_S,
			(unsigned long long)x->swap_in);
	}
}

static void print_states(FILE *out, const struct mv_cluster *c,
			 const struct mv_cluster_report *r, int nw)
{
	fprintf(out, "\ntime in each free-memory state (%% of the run)\n");
	fprintf(out, "  %-*s", nw, "HOST");
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		fprintf(out, " %7s", mv_memstate_name((enum mv_memstate)k));
	fprintf(out, "  MIN FREE MiB\n");
	rule(out, nw + 8 * MV_MEMSTATE_COUNT + 14);
	for (int h = 0; h < c->nhosts; h++) {
		fprintf(out, "  %-*s", nw, c->cs->host[h].name);
		for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
			fprintf(out, " %6.1f%%",
				mv_pct((double)r->host[h].fig.state_ns[k],
				       (double)r->host[h].fig.sim_ns));
		fprintf(out, "  %12.1f\n",
			mv_pages_mib(r->host[h].fig.free_min));
	}
}

/* What a migration row says of its state. */
const char *mv_cluster_migration_state(const struct mv_cluster_migration *g)
{
	if (!g->move)
		return "not started";
	switch (mv_sim_move_state(g->move)) {
	case MV_MIG_DONE:
		return "done";
	case MV_MIG_ABORTED:
		return "aborted";
	default:
		return "in progress";
	}
}

/* Who started a move: "migrate" (a <migrate> event) or "DRS pN". */
static const char *mig_by(const struct mv_cluster_migration *g, char *buf,
			  size_t n)
{
	if (g->event >= 0)
		return "migrate";
	snprintf(buf, n, "DRS p%d", g->priority);
	return buf;
}

/* The cluster's own <vm>s and where DRS put them at power-on. */
static void print_placements(FILE *out, const struct mv_cluster *c, int nw)
{
	const struct mv_cluster_scenario *cs = c->cs;
	if (!cs->nplaced)
		return;
	int vw = (int)strlen("VM");
	for (int k = 0; k < cs->nplaced; k++) {
		int len = (int)strlen(cs->placed[k].vm);
		if (len > vw)
			vw = len;
	}
	fprintf(out, "\ninitial placement (DRS at power-on, in file order; "
		     "each VM's demand taken as its configured memory)\n");
	fprintf(out, "  %-*s  %-*s  LINE\n", vw, "VM", nw, "HOST");
	rule(out, vw + nw + 8);
	for (int k = 0; k < cs->nplaced; k++) {
		const struct mv_cluster_placement *p = &cs->placed[k];
		fprintf(out, "  %-*s  %-*s  %4d%s\n", vw, p->vm, nw,
			p->host < 0 ? "-" : cs->host[p->host].name, p->line,
			p->host < 0 ? "  not powered on: no host admits its "
				      "reservation"
				    : "");
	}
}

/* The live migrations as they ran (nothing when there are none). */
static void print_migrations(FILE *out, const struct mv_cluster *c, int nw)
{
	if (!c->nmig)
		return;
	int vw = (int)strlen("VM");
	for (int k = 0; k < c->nmig; k++) {
		int len = (int)strlen(c->mig[k].vm);
		if (len > vw)
			vw = len;
	}
	fprintf(out,
		"\nlive migrations (BY: a <migrate> event, or DRS with the "
		"recommendation's priority; TIME: start to switch-over, "
		"DOWNTIME: the stop-and-copy)\n");
	fprintf(out,
		"  %-*s  %-*s  %-*s  %-7s  %8s  %-11s  %6s  %10s  %8s  %8s  "
		"%11s\n",
		vw, "VM", nw, "FROM", nw, "TO", "BY", "START s", "STATE",
		"ROUNDS", "SENT MiB", "ZERO pg", "TIME s", "DOWNTIME ms");
	rule(out, 2 * nw + vw + 87);
	for (int k = 0; k < c->nmig; k++) {
		const struct mv_cluster_migration *g = &c->mig[k];
		char by[16];
		fprintf(out, "  %-*s  %-*s  %-*s  %-7s  %8.3f  %-11s", vw,
			g->vm, nw, c->cs->host[g->from].name, nw,
			c->cs->host[g->to].name, mig_by(g, by, sizeof by),
			(double)g->start_ns / MV_NS_PER_S,
			mv_cluster_migration_state(g));
		if (g->move) {
			const struct mv_migration *m = mv_sim_move_migration(
				g->move);
			uint64_t zero = 0;
			for (int r = 0; r < m->nrounds; r++)
				zero += m->round[r].zero;
			fprintf(out, "  %6d  %10.1f  %8llu  %8.3f", m->nrounds,
				(double)m->bytes / (1 << 20),
				(unsigned long long)zero,
				(double)m->now_ns / MV_NS_PER_S);
			if (m->state == MV_MIG_DONE)
				fprintf(out, "  %11.1f%s",
					(double)m->downtime_ns / 1e6,
					m->converged ? "" : " (round limit)");
		}
		fputc('\n', out);
		if (g->reason[0])
			fprintf(out, "  %-*s  %s\n", vw, "", g->reason);
		if (g->why[0])
			fprintf(out, "  %-*s  %s\n", vw, "", g->why);
	}
}

/* DRS's runs (nothing without DRS). */
static void print_drs(FILE *out, const struct mv_cluster *c)
{
	if (!c->cs->drs_level)
		return;
	fprintf(out,
		"\nDRS runs (IMBALANCE: the host load standard deviation; "
		"TARGET: the level's; PRI: the imbalance's priority, 6 none; "
		"DROPPED: candidate moves dropped by MinGoodness, "
		"cost-benefit, admission control, migrations at once)\n");
	fprintf(out,
		"  %8s  %5s  %9s  %8s  %3s  %5s  %6s  %8s  %s\n",
		"TIME s", "LEVEL", "IMBALANCE", "TARGET", "PRI", "MOVES",
		"QUEUED", "AFTER", "DROPPED good/cost/adm/conc");
	rule(out, 96);
	for (int k = 0; k < c->ndrs; k++) {
		const struct mv_cluster_drs_run *d = &c->drs[k];
		char target[16];
		if (isinf(d->target))
			snprintf(target, sizeof target, "%8s", "-");
		else
			snprintf(target, sizeof target, "%8.4f", d->target);
		fprintf(out,
			"  %8.3f  %5d  %9.4f  %s  %3d  %5d  %6d  %8.4f  "
			"%llu/%llu/%llu/%llu\n",
			(double)d->t_ns / MV_NS_PER_S, d->level, d->imbalance,
			target, d->priority, d->moves, d->queued,
			d->imbalance_after,
			(unsigned long long)d->dropped_goodness,
			(unsigned long long)d->dropped_cost_benefit,
			(unsigned long long)d->dropped_admission,
			(unsigned long long)d->dropped_concurrency);
	}
	if (!c->ndrs)
		fprintf(out, "  (none: the first interval ends at %.0f s)\n",
			(double)c->cs->drs.interval_ns / MV_NS_PER_S);
	for (int h = 0; h < c->nhosts; h++) {
		const struct mv_cluster_maintenance *m = &c->maint[h];
		if (!m->on)
			continue;
		fprintf(out,
			"  maintenance mode: %s from %.3f s, %d VM%s moved "
			"off; ",
			c->cs->host[h].name, (double)m->at_ns / MV_NS_PER_S,
			m->evacuated, m->evacuated == 1 ? "" : "s");
		if (m->done_ns)
			fprintf(out, "empty at %.3f s (%.3f s to evacuate)\n",
				(double)m->done_ns / MV_NS_PER_S,
				(double)(m->done_ns - m->at_ns) / MV_NS_PER_S);
		else
			fprintf(out, "still holds %d at the end%s%s\n",
				m->held, m->unplaced[0] ? ": " : "",
				m->unplaced);
	}
}

int mv_report_cluster_text(FILE *out, const struct mv_cluster *c,
			   const struct mv_cluster_report *r)
{
	int nw = name_width(c);
	print_cluster_header(out, c, r);
	print_memory(out, c, r, nw);
	print_states(out, c, r, nw);
	print_placements(out, c, nw);
	print_migrations(out, c, nw);
	print_drs(out, c);
	int rc = put_part(out, r, MV_CPART_TEXT);
	if (!rc && ferror(out))
		rc = MV_EIO;
	return rc;
}

/* host.csv: every host's rows, the host's name in a first column. */
static int csv_hosts(FILE *out, const void *ctx)
{
	return put_part(out, ctx, MV_CPART_CSV_HOST);
}

/* vm.csv: every VM's rows, its host's and its own name first. */
static int csv_vms(FILE *out, const void *ctx)
{
	return put_part(out, ctx, MV_CPART_CSV_VM);
}

const char *const mv_report_cluster_csv_names[] = {"host.csv", "vm.csv", NULL};

int mv_report_cluster_csv(const char *dir, const struct mv_cluster *c,
			  const struct mv_cluster_report *r,
			  struct mv_error *err)
{
	(void)c; /* the rows were rendered where the hosts ran */
	int (*const fn[])(FILE *, const void *) = {csv_hosts, csv_vms};
	return mv_view_write_set(dir, mv_report_cluster_csv_names, fn, r, err);
}

char **mv_report_cluster_svg_names(const struct mv_cluster_scenario *cs)
{
	char **all = calloc(1, sizeof *all);
	size_t n = 0;
	for (int h = 0; all && h < cs->nhosts; h++) {
		char **v = svg_names(cs->host[h].name, cs->host[h].sc);
		size_t m = 0;
		while (v && v[m])
			m++;
		char **grown = v ? realloc(all, (n + m + 1) * sizeof *all)
				 : NULL;
		if (!grown) {
			mv_report_view_names_free(v);
			mv_report_view_names_free(all);
			return NULL;
		}
		all = grown;
		memcpy(all + n, v, m * sizeof *v);
		n += m;
		all[n] = NULL;
		free(v); /* its strings are all's now */
	}
	return all;
}

/* The next file of the SVG part at *p (before end): its name (nl bytes)
 * and bytes (len); 0, or -1 when the part is cut short. */
static int svg_next(const char **p, const char *end, const char **name,
		    uint32_t *nl, const char **data, uint64_t *len)
{
	if ((size_t)(end - *p) < sizeof *nl)
		return -1;
	memcpy(nl, *p, sizeof *nl);
	*p += sizeof *nl;
	if ((size_t)(end - *p) < (size_t)*nl + sizeof *len)
		return -1;
	*name = *p;
	*p += *nl;
	memcpy(len, *p, sizeof *len);
	*p += sizeof *len;
	if ((uint64_t)(end - *p) < *len)
		return -1;
	*data = *p;
	*p += *len;
	return 0;
}

int mv_report_cluster_svg(const char *dir, const struct mv_cluster *c,
			  const struct mv_cluster_report *r,
			  struct mv_error *err)
{
	(void)c; /* the charts were drawn where the hosts ran */
	const char *part = r->part[MV_CPART_SVG];
	const char *end = part + r->len[MV_CPART_SVG], *p, *name, *data;
	uint32_t nl;
	uint64_t l;
	if (!part)
		return mv_error_set(err, MV_EINVAL, dir, 0, "--svg",
				    "the charts were not collected");
	/* count the files, then take each one's name and bytes */
	size_t n = 0;
	for (p = part; p < end; n++)
		if (svg_next(&p, end, &name, &nl, &data, &l))
			return mv_error_set(err, MV_EINVAL, dir, 0, "--svg",
					    "the collected charts are cut "
					    "short");
	char **names = calloc(n + 1, sizeof *names);
	const char **bytes = calloc(n + 1, sizeof *bytes);
	size_t *len = calloc(n + 1, sizeof *len);
	int rc = names && bytes && len ? 0 : MV_ENOMEM;
	p = part;
	for (size_t k = 0; !rc && k < n; k++) {
		svg_next(&p, end, &name, &nl, &bytes[k], &l);
		len[k] = (size_t)l;
		if (!(names[k] = strndup(name, nl)))
			rc = MV_ENOMEM;
	}
	if (!rc)
		rc = mv_view_write_bytes(dir, (const char *const *)names,
					 (int)n, bytes, len, err);
	else
		mv_error_set(err, rc, dir, 0, "--svg", "out of memory");
	for (size_t k = 0; names && k < n; k++)
		free(names[k]);
	free(names);
	free(bytes);
	free(len);
	return rc;
}
