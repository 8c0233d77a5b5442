/*
 * text.c - the plain-text summary of a run, for operators.
 *
 * The layout follows what ESX and KVM operators already read: a header
 * (scenario, host, overcommit ratio), per-VM tables with esxtop's memory
 * columns (MEMSZ, GRANT, consumed, touched, active, zero, shared, private;
 * then balloon, compressed and swapped), faults and stall time per VM, the
 * guest's own view in virsh dommemstat terms, and the host's free memory:
 * min / avg / final, time per free-memory state and free memory over time.
 *
 * Every memory column is in MiB with one decimal, so columns line up and
 * can be compared down and across. Every figure except the "wall:" line is
 * a deterministic function of the scenario and seed; the wall-clock time is
 * alone on a line starting with "wall:" so tests can filter it.
 */
#include <stdio.h>
#include <string.h>

#include "memvisor/report.h"
#include "report/summary.h"

#define CELL 24        /* longest formatted cell */
#define MAX_COLS 12
#define SERIES_ROWS 20 /* at most this many rows of free memory over time */
#define BAR_WIDTH 40   /* '#' characters for 100% free */

/* The fault table has one column per kind; a new kind needs a column. */
_Static_assert(MV_FAULT_COUNT == 5, "fault columns out of date");

/* One table: a title, column headings and widths, rows of cells. */
struct table {
	FILE *out;
	int namew; /* width of the first (VM name) column */
	int ncols;
	const char *head[MAX_COLS];
	int width[MAX_COLS];
};

static void table_init(struct table *t, FILE *out, int namew,
		       const char *const *head, int ncols)
{
	t->out = out;
	t->namew = namew;
	t->ncols = ncols;
	for (int c = 0; c < ncols; c++) {
		t->head[c] = head[c];
		int w = (int)strlen(head[c]);
		t->width[c] = w < 8 ? 8 : w;
	}
}

static void table_header(const struct table *t, const char *title)
{
	fprintf(t->out, "\n%s\n", title);
	fprintf(t->out, "  %-*s", t->namew, "VM");
	int total = 2 + t->namew;
	for (int c = 0; c < t->ncols; c++) {
		fprintf(t->out, " %*s", t->width[c], t->head[c]);
		total += 1 + t->width[c];
	}
	fputc('\n', t->out);
	fputs("  ", t->out);
	for (int i = 2; i < total; i++)
		fputc('-', t->out);
	fputc('\n', t->out);
}

static void table_row(const struct table *t, const char *name,
		      char cell[][CELL])
{
	fprintf(t->out, "  %-*s", t->namew, name);
	for (int c = 0; c < t->ncols; c++)
		fprintf(t->out, " %*s", t->width[c], cell[c]);
	fputc('\n', t->out);
}

static void cell_mib(char *cell, uint64_t pages)
{
	snprintf(cell, CELL, "%.1f", mv_pages_mib(pages));
}

static void cell_u64(char *cell, uint64_t v)
{
	snprintf(cell, CELL, "%llu", (unsigned long long)v);
}

static void cell_pct(char *cell, double pct)
{
	snprintf(cell, CELL, "%.1f%%", pct);
}

/* "5 s", "10 ms", "250 us", or "1.500 s" for durations that are not round. */
static const char *fmt_duration(uint64_t ns, char *buf, size_t n)
{
	if (ns >= MV_NS_PER_S && ns % MV_NS_PER_S == 0)
		snprintf(buf, n, "%llu s", (unsigned long long)(ns / MV_NS_PER_S));
	else if (ns >= MV_NS_PER_MS && ns % MV_NS_PER_MS == 0 &&
		 ns < MV_NS_PER_S)
		snprintf(buf, n, "%llu ms",
			 (unsigned long long)(ns / MV_NS_PER_MS));
	else if (ns >= MV_NS_PER_US && ns % MV_NS_PER_US == 0 &&
		 ns < MV_NS_PER_MS)
		snprintf(buf, n, "%llu us",
			 (unsigned long long)(ns / MV_NS_PER_US));
	else
		snprintf(buf, n, "%.3f s", (double)ns / (double)MV_NS_PER_S);
	return buf;
}

static const char *vm_name(const struct mv_sim *s, int i)
{
	if (s->vm && s->vm[i])
		return s->vm[i]->cfg.name;
	return s->sc->vms[i].vm.name;
}

static uint64_t vm_configured_pages(const struct mv_sim *s, int i)
{
	if (s->vm && s->vm[i])
		return s->vm[i]->npages;
	return s->sc->vms[i].vm.mem_bytes / MV_PAGE_SIZE;
}

static const char *memstate_name(enum mv_memstate st)
{
	return (unsigned)st < MV_MEMSTATE_COUNT ? mv_memstate_name(st) : "?";
}

static void print_header(FILE *out, const struct mv_sim *s,
			 const struct mv_run_summary *r)
{
	const struct mv_scenario *sc = s->sc;
	char a[48], b[48], c[48];

	fprintf(out, "memvisor %s run summary\n\n", MV_VERSION);
	fprintf(out, "  %-12s %s", "scenario", sc->name);
	if (sc->source[0])
		fprintf(out, "  (%s)", sc->source);
	fputc('\n', out);
	fprintf(out, "  %-12s %s in %llu steps of %s; stats every %s",
		"simulated", fmt_duration(r->sim_ns, a, sizeof a),
		(unsigned long long)s->steps,
		fmt_duration(sc->step_ns, b, sizeof b),
		fmt_duration(sc->stats_interval_ns, c, sizeof c));
	if (r->sim_ns != sc->duration_ns)
		fprintf(out, " (of %s)", fmt_duration(sc->duration_ns, a, sizeof a));
	fputc('\n', out);
	fprintf(out, "  %-12s %llu\n", "seed", (unsigned long long)sc->seed);
	fprintf(out, "  %-12s %s (%.1f MiB, %d NUMA node%s, swap on %s)\n",
		"host", sc->host.name[0] ? sc->host.name : "(unnamed)",
		(double)sc->host.mem_bytes / (double)MV_MIB, sc->host.nodes,
		sc->host.nodes == 1 ? "" : "s",
		sc->host.swap_device == MV_SWAP_HDD ? "HDD" : "SSD");
	fprintf(out,
		"  %-12s %.1f MiB configured in %d VM%s, overcommit %.2f:1\n",
		"VM memory", (double)r->configured_bytes / (double)MV_MIB,
		s->nvms, s->nvms == 1 ? "" : "s", r->overcommit);
	fprintf(out, "  %-12s %s\n", "verify", s->verify ? "on" : "off");
	fprintf(out, "wall: %.3f s\n", s->wall_s);
}

static void print_memory(FILE *out, const struct mv_sim *s,
			 const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"MEMSZ", "GRANT", "CONSUMED", "TOUCHED", "ACTIVE",
		"ZERO",  "SHARED", "PRIVATE",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 8);
	table_header(&t, "VM memory (MiB; ACTIVE is the true active set)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total : &r->final->vm[i];
		cell_mib(cell[0], tot ? r->total_configured
				      : vm_configured_pages(s, i));
		cell_mib(cell[1], v->granted);
		cell_mib(cell[2], v->consumed);
		cell_mib(cell[3], v->touched);
		cell_mib(cell[4], v->active_true);
		cell_mib(cell[5], v->state[MV_PS_ZERO]);
		cell_mib(cell[6], v->state[MV_PS_SHARED]);
		cell_mib(cell[7], v->state[MV_PS_PRIVATE]);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

static void print_reclaim(FILE *out, const struct mv_sim *s,
			  const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"BALLOON", "COMPRESSED", "SWAPPED", "UNTOUCHED", "SAVED",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 5);
	table_header(&t, "VM reclamation (MiB; SAVED = GRANT - CONSUMED, "
			 "by page sharing)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total : &r->final->vm[i];
		cell_mib(cell[0], v->state[MV_PS_BALLOONED]);
		cell_mib(cell[1], v->state[MV_PS_COMPRESSED]);
		cell_mib(cell[2], v->state[MV_PS_SWAPPED]);
		cell_mib(cell[3], v->state[MV_PS_UNTOUCHED]);
		cell_mib(cell[4], v->granted > v->consumed
					  ? v->granted - v->consumed
					  : 0);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

static void print_faults(FILE *out, const struct mv_sim *s,
			 const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"ZERO-FILL", "COW", "DECOMPRESS", "SWAP-IN", "ALLOC-WAIT", "TOTAL",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 6);
	table_header(&t, "VM faults (hypervisor-level, counts)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total : &r->final->vm[i];
		uint64_t sum = 0;
		for (int k = 0; k < MV_FAULT_COUNT; k++) {
			cell_u64(cell[k], v->faults[k]);
			sum += v->faults[k];
		}
		cell_u64(cell[MV_FAULT_COUNT], sum);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

static void print_progress(FILE *out, const struct mv_sim *s,
			   const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"STALL(ms)", "STALL%", "DEMANDED", "DONE", "PROGRESS",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 5);
	t.width[2] = t.width[3] = 12;
	table_header(&t, "VM stall and progress (STALL% of simulated time; "
			 "accesses done / demanded)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total : &r->final->vm[i];
		snprintf(cell[0], CELL, "%.1f",
			 (double)v->stall_ns / (double)MV_NS_PER_MS);
		/* The total row's stall is the mean over VMs. */
		double vm_ns = (double)r->sim_ns * (tot ? s->nvms : 1);
		cell_pct(cell[1], mv_pct((double)v->stall_ns, vm_ns));
		cell_u64(cell[2], v->demanded);
		cell_u64(cell[3], v->done);
		if (v->demanded)
			cell_pct(cell[4],
				 mv_pct((double)v->done, (double)v->demanded));
		else
			snprintf(cell[4], CELL, "-");
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

static void print_guest(FILE *out, const struct mv_sim *s,
			const struct mv_run_summary *r, int namew)
{
	static const char *const mem_head[] = {
		"AVAILABLE", "UNUSED", "USED", "CACHES", "ANON", "BALLOON",
	};
	static const char *const act_head[] = {
		"SWAP-IN", "SWAP-OUT", "MAJFLT", "MINFLT", "OOM",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, mem_head, 6);
	table_header(&t, "Guest memory (guest's view as in virsh dommemstat; "
			 "MiB; USED = AVAILABLE - UNUSED)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_guest_stats *g =
			tot ? &r->total.guest : &r->final->vm[i].guest;
		cell_mib(cell[0], g->available_pages);
		cell_mib(cell[1], g->free_pages);
		cell_mib(cell[2], g->available_pages > g->free_pages
					  ? g->available_pages - g->free_pages
					  : 0);
		cell_mib(cell[3], g->cache_pages);
		cell_mib(cell[4], g->anon_pages);
		cell_mib(cell[5], g->balloon_pages);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}

	table_init(&t, out, namew, act_head, 5);
	t.width[3] = 12;
	table_header(&t, "Guest paging (counts; SWAP-IN/OUT are pages of the "
			 "guest's own swap)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_guest_stats *g =
			tot ? &r->total.guest : &r->final->vm[i].guest;
		cell_u64(cell[0], g->swap_in);
		cell_u64(cell[1], g->swap_out);
		cell_u64(cell[2], g->major_fault);
		cell_u64(cell[3], g->minor_fault);
		cell_u64(cell[4], g->oom_kills);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

static void print_host(FILE *out, const struct mv_sim *s,
		       const struct mv_run_summary *r)
{
	double usable = (double)r->usable_frames;
	fprintf(out, "\nHost free memory (%% of %.1f MiB usable)\n",
		mv_pages_mib(r->usable_frames));
	fprintf(out, "  %-6s %10.1f MiB %6.1f%%\n", "min",
		mv_pages_mib(r->free_min),
		mv_pct((double)r->free_min, usable));
	fprintf(out, "  %-6s %10.1f MiB %6.1f%%\n", "avg",
		r->free_avg * MV_PAGE_SIZE / (double)MV_MIB,
		mv_pct(r->free_avg, usable));
	fprintf(out, "  %-6s %10.1f MiB %6.1f%%\n", "final",
		mv_pages_mib(r->free_final),
		mv_pct((double)r->free_final, usable));

	fprintf(out, "\nTime in free-memory state\n");
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		fprintf(out, "  %-6s %10.3f s %7.1f%%\n",
			mv_memstate_name((enum mv_memstate)k),
			(double)s->state_ns[k] / (double)MV_NS_PER_S,
			mv_pct((double)s->state_ns[k], (double)r->sim_ns));
	fprintf(out, "  %-6s %s\n", "final",
		memstate_name(r->final->memstate));

	fprintf(out, "\nFree memory over time\n");
	fprintf(out, "  %10s %10s %7s  %-5s  %s\n", "TIME(s)", "FREE(MiB)",
		"FREE%", "STATE", "FREE");
	if (s->nsamples <= 0 || !s->samples) {
		fprintf(out, "  (no samples: the run was shorter than one "
			     "stats interval)\n");
		return;
	}
	int n = s->nsamples;
	int rows = n < SERIES_ROWS ? n : SERIES_ROWS;
	int prev = -1;
	for (int k = 0; k < rows; k++) {
		/* Evenly spaced, first and last always included. */
		int idx = rows == 1 ? n - 1
				    : (int)(((int64_t)k * (n - 1) +
					     (rows - 1) / 2) /
					    (rows - 1));
		if (idx == prev)
			continue;
		prev = idx;
		const struct mv_sample *sm = &s->samples[idx];
		double pct = mv_pct((double)sm->host_free, usable);
		int bar = (int)(pct * BAR_WIDTH / 100.0 + 0.5);
		if (bar > BAR_WIDTH)
			bar = BAR_WIDTH;
		fprintf(out, "  %10.3f %10.1f %6.1f%%  %-5s  ",
			(double)sm->t_ns / (double)MV_NS_PER_S,
			mv_pages_mib(sm->host_free), pct,
			memstate_name(sm->memstate));
		for (int b = 0; b < bar; b++)
			fputc('#', out);
		fputc('\n', out);
	}
}

int mv_report_text(FILE *out, const struct mv_sim *s)
{
	struct mv_run_summary r;
	int rc = mv_run_summary_init(&r, s);
	if (rc)
		return rc;

	int namew = (int)strlen("TOTAL");
	for (int i = 0; i < s->nvms; i++) {
		int len = (int)strlen(vm_name(s, i));
		if (len > namew)
			namew = len;
	}

	print_header(out, s, &r);
	if (s->nvms > 0 && r.final->vm) {
		print_memory(out, s, &r, namew);
		print_reclaim(out, s, &r, namew);
		print_faults(out, s, &r, namew);
		print_progress(out, s, &r, namew);
		print_guest(out, s, &r, namew);
	}
	print_host(out, s, &r);

	mv_run_summary_free(&r);
	return ferror(out) ? MV_EIO : 0;
}
