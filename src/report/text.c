/*
 * text.c - the plain-text summary of a run, for operators.
 *
 * The layout follows what ESX and KVM operators already read: a header
 * (scenario, host, overcommit ratio), per-VM tables with esxtop's memory
 * columns (MEMSZ, GRANT, consumed, touched, active, zero, shared, private;
 * then reclamation now: MCTLSZ/MCTLTGT balloon, compressed pages and the
 * cache's CACHESZ/CACHEUSD, SWCUR, SHRDSVD; and reclamation work over the
 * run: ZIP/UNZIP, swap writes/reads and esxtop's per-second rates), faults
 * and stall time per VM, the guest's own view in virsh dommemstat terms,
 * the host's page-sharing counters in KSM's sysfs names, and the host's
 * free memory: min / avg / final, time per free-memory state and free
 * memory over time.
 *
 * Every memory column is in MiB with one decimal, so columns line up and
 * can be compared down and across. Every figure is a deterministic
 * function of the scenario and seed; the measured figures (wall-clock time,
 * the sharing scanner's measured CPU) are not in it but on their own
 * "wall:" line (mv_report_measured; `run --timing` prints it on standard
 * error). The sharing scanner's CPU in its own block is the simulated
 * cost, which is deterministic. The "swap I/O errors" line, printed only
 * if there were any, quotes the last error, which names the swap file and
 * so the run directory.
 */
#include <stdio.h>
#include <string.h>

#include "memvisor/report.h"
#include "report/summary.h"

#define CELL 24 /* longest formatted cell */
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
		snprintf(buf, n, "%llu s",
			 (unsigned long long)(ns / MV_NS_PER_S));
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
	struct mv_vm_view v;
	mv_sim_vm_view(s, i, &v);
	return v.name;
}

static uint64_t vm_configured_pages(const struct mv_sim *s, int i)
{
	struct mv_vm_view v;
	mv_sim_vm_view(s, i, &v);
	return v.pages;
}

static const char *memstate_name(enum mv_memstate st)
{
	return (unsigned)st < MV_MEMSTATE_COUNT ? mv_memstate_name(st) : "?";
}

/* One line per mechanism of the host's reclamation settings. */
static void print_reclaim_config(FILE *out, const struct mv_scenario *sc)
{
	const struct mv_reclaim_config *rc = &sc->reclaim;
	char a[48], b[48];
	if (rc->enabled)
		fprintf(out, "  %-12s policy every %s%s; balloon up to %.0f%%",
			"reclaim", fmt_duration(rc->balance_ns, a, sizeof a),
			rc->on_state_change ? " and on state changes" : "",
			100.0 * rc->balloon_max);
	else
		fprintf(out, "  %-12s policy off", "reclaim");
	if (rc->compression)
		fprintf(out, "; compression cache %.0f%%",
			100.0 * rc->zcache_fraction);
	else
		fputs("; compression off", out);
	fputc('\n', out);
	fprintf(out, "  %-12s %s free-memory states; idle memory tax %.0f%%",
		"allocation", mv_memstate_model_name(rc->memstate_model),
		100.0 * rc->idle_tax);
	for (int i = 0; i < rc->ntax_changes; i++)
		fprintf(out, ", %.0f%% from %s", 100.0 * rc->tax_change[i].rate,
			fmt_duration(rc->tax_change[i].at_ns, a, sizeof a));
	fputc('\n', out);
	if (rc->share.enabled && rc->share.scan_time_ns)
		fprintf(out, "  %-12s every page once in %s, a batch every %s",
			"sharing",
			fmt_duration(rc->share.scan_time_ns, a, sizeof a),
			fmt_duration(rc->share.sleep_ns, b, sizeof b));
	else if (rc->share.enabled)
		fprintf(out, "  %-12s %lu pages every %s", "sharing",
			(unsigned long)rc->share.pages_to_scan,
			fmt_duration(rc->share.sleep_ns, b, sizeof b));
	if (rc->share.enabled)
		fprintf(out, "%s%s\n",
			rc->share.use_zero_pages
				? ", zero pages to the zero frame"
				: "",
			rc->share.salting == 2   ? "; salted: within each VM "
						   "and salt group only"
			: rc->share.salting == 1 ? "; salted: within each "
						   "salt group only"
						 : "");
	else
		fprintf(out, "  %-12s off\n", "sharing");
	if (rc->swap_dir[0])
		fprintf(out, "  %-12s %s%s\n", "swap files", rc->swap_dir,
			rc->keep_swap ? " (kept)" : "");
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
		fprintf(out, " (of %s)",
			fmt_duration(sc->duration_ns, a, sizeof a));
	fputc('\n', out);
	fprintf(out, "  %-12s %llu\n", "seed", (unsigned long long)sc->seed);
	fprintf(out,
		"  %-12s %s (%.1f MiB, %d NUMA node%s, swap on %s, "
		"swap files %.1f MiB on disk)\n",
		"host", sc->host.name[0] ? sc->host.name : "(unnamed)",
		(double)sc->host.mem_bytes / (double)MV_MIB, sc->host.nodes,
		sc->host.nodes == 1 ? "" : "s",
		sc->host.swap_device == MV_SWAP_HDD ? "HDD" : "SSD",
		(double)r->total.swap.disk_bytes / (double)MV_MIB);
	if (sc->host.preset[0])
		fprintf(out, "  %-12s %s (docs/presets.md)\n", "preset",
			sc->host.preset);
	fprintf(out,
		"  %-12s %.1f MiB configured in %d VM%s, overcommit %.2f:1",
		"VM memory", (double)r->configured_bytes / (double)MV_MIB,
		r->present, r->present == 1 ? "" : "s", r->overcommit);
	if (r->left)
		fprintf(out, " at the end (%d more left by live migration)",
			r->left);
	fputc('\n', out);
	print_reclaim_config(out, sc);
	if (s->verify)
		fprintf(out,
			"  %-12s on: %llu invariant checks (one per step), "
			"%llu pages (%.1f MiB) compared\n"
			"  %-12s with what the guest last wrote; nothing "
			"differed\n",
			"verify", (unsigned long long)s->verify_checks,
			(unsigned long long)s->verify_pages,
			(double)s->verify_pages * MV_PAGE_SIZE / (double)MV_MIB,
			"");
	else
		fprintf(out, "  %-12s off\n", "verify");
	/* only when it is not the reference model, so that an exact run's
	 * report stays what it always was */
	if (s->model == MV_MODEL_INTERVAL)
		fprintf(out,
			"  %-12s interval (%d of %d guests; about %.3g "
			"accesses estimated)\n",
			"access model", s->interval_guests, s->nvms,
			s->est_accesses);
	uint64_t rerr = 0;
	for (int i = 0; i < s->nvms; i++) {
		struct mv_vm_view v;
		mv_sim_vm_view(s, i, &v);
		rerr += v.page_in_errors;
	}
	if (s->io_errors || rerr)
		fprintf(out,
			"swap I/O errors: %llu on swap-out, %llu on swap-in "
			"(nothing lost; last swap-out error: %s)\n",
			(unsigned long long)s->io_errors,
			(unsigned long long)rerr,
			s->last_io_error[0] ? s->last_io_error : "none");
	if (s->swap_full)
		fprintf(out,
			"swap files full: %llu times a VM's swap file "
			"(bounded by swap_hard_limit) could take no more\n",
			(unsigned long long)s->swap_full);
}

static void print_memory(FILE *out, const struct mv_sim *s,
			 const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"MEMSZ", "GRANT", "CONSUMED", "TOUCHED", "ACTIVE",
		"ACTV",  "ZERO",  "SHARED",   "PRIVATE",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 9);
	table_header(&t, "VM memory (MiB; ACTIVE is the true active set, "
			 "ACTV the sampled estimate as esxtop shows it)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total
						   : &r->final->vm[i];
		cell_mib(cell[0],
			 tot ? r->total_configured : vm_configured_pages(s, i));
		cell_mib(cell[1], v->granted);
		cell_mib(cell[2], v->consumed);
		cell_mib(cell[3], v->touched);
		cell_mib(cell[4], v->active_true);
		cell_mib(cell[5], v->active_est);
		cell_mib(cell[6], v->state[MV_PS_ZERO]);
		cell_mib(cell[7], v->state[MV_PS_SHARED]);
		cell_mib(cell[8], v->state[MV_PS_PRIVATE]);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

static void print_reclaim(FILE *out, const struct mv_sim *s,
			  const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"MCTLSZ", "MCTLTGT", "COMPRESSED", "CACHESZ",   "CACHEUSD",
		"SWCUR",  "SHRDSVD", "ZERO",       "UNTOUCHED",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 9);
	table_header(&t, "VM reclamation (MiB, at the end; esxtop's names)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total
						   : &r->final->vm[i];
		/* The guest's balloon, not pmap BALLOONED: that also counts
		 * deflated pages the guest has not touched again. */
		cell_mib(cell[0], v->guest.balloon_pages);
		cell_mib(cell[1], v->balloon_target);
		cell_mib(cell[2], v->state[MV_PS_COMPRESSED]);
		cell_mib(cell[3], v->zcache.capacity_frames);
		cell_mib(cell[4], v->zcache.frames);
		cell_mib(cell[5], v->state[MV_PS_SWAPPED]);
		cell_mib(cell[6], v->shared_saved);
		cell_mib(cell[7], v->state[MV_PS_ZERO]);
		cell_mib(cell[8], v->state[MV_PS_UNTOUCHED]);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
	fputs("  MCTLSZ/MCTLTGT: balloon size/target; COMPRESSED: guest pages "
	      "in the compression\n"
	      "  cache, which holds CACHEUSD of host memory (at most CACHESZ); "
	      "SWCUR: pages in the\n"
	      "  swap file; SHRDSVD: saved by page sharing (GRANT minus what "
	      "the VM holds\n"
	      "  for its private and shared pages; CONSUMED adds its "
	      "compression cache)\n",
	      out);
}

/* Cumulative reclamation work and esxtop's average rates (MiB/s). */
static void print_activity(FILE *out, const struct mv_sim *s,
			   const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"ZIP", "UNZIP", "REJECT",  "EVICT", "SWW",
		"SWR", "ZIP/s", "UNZIP/s", "SWW/s", "SWR/s",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 10);
	for (int c = 6; c < 10; c++)
		t.width[c] = 7;
	table_header(&t, "VM reclamation activity (pages over the run; "
			 "*/s: MiB/s averaged over the run)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total
						   : &r->final->vm[i];
		const uint64_t count[] = {
			v->zcache.compressed, v->zcache.decompressed,
			v->zcache.rejected,   v->zcache.evicted,
			v->swap.writes,       v->swap.reads,
		};
		for (int c = 0; c < 6; c++)
			cell_u64(cell[c], count[c]);
		const uint64_t rate[] = {
			v->zcache.compressed,
			v->zcache.decompressed,
			v->swap.writes,
			v->swap.reads,
		};
		for (int c = 0; c < 4; c++)
			snprintf(cell[6 + c], CELL, "%.2f",
				 mv_per_s(mv_pages_mib(rate[c]), r->sim_ns));
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
	fputs("  ZIP/UNZIP: pages compressed into / decompressed from the "
	      "cache; REJECT: did not\n"
	      "  fit in 2 KiB, swapped instead; EVICT: cache to swap; "
	      "SWW/SWR: swap file writes/reads\n",
	      out);
}

static void print_faults(FILE *out, const struct mv_sim *s,
			 const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"ZERO-FILL", "COW",        "DECOMPRESS",
		"SWAP-IN",   "ALLOC-WAIT", "TOTAL",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 6);
	table_header(&t, "VM faults (hypervisor-level, counts)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total
						   : &r->final->vm[i];
		uint64_t sum = 0;
		for (int k = 0; k < MV_FAULT_COUNT; k++) {
			cell_u64(cell[k], v->faults[k]);
			sum += v->faults[k];
		}
		cell_u64(cell[MV_FAULT_COUNT], sum);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

/* Transparent huge pages, as /proc/meminfo and /proc/vmstat show them
 * (docs/largepages.md); only when THP is on for some VM. */
static void print_thp(FILE *out, const struct mv_sim *s,
		      const struct mv_run_summary *r, int namew)
{
	static const char *const head[] = {
		"AnonHugePages", "fault_alloc",    "fault_fallback",
		"split_page",    "collapse_alloc", "collapse_failed",
	};
	static const char *const esx[] = {"LARGE", "ALLOCATED", "FALLBACK",
					  "BROKEN"};
	if (!r->total.thp)
		return;
	struct table t;
	char cell[MAX_COLS][CELL];
	int e = r->total.lpage_esx; /* ESX's: no khugepaged columns */
	table_init(&t, out, namew, e ? esx : head, e ? 4 : 6);
	table_header(&t, e ? "Large pages (ESX; MiB backed, counts)"
			   : "Transparent huge pages (MiB; thp_* counts)");
	for (int i = 0; i <= s->nvms; i++) {
		int tot = i == s->nvms;
		const struct mv_sample_vm *v = tot ? &r->total
						   : &r->final->vm[i];
		cell_mib(cell[0], v->thp_huge * MV_RUN_FRAMES);
		cell_u64(cell[1], v->thp_fault_alloc);
		cell_u64(cell[2], v->thp_fault_fallback);
		cell_u64(cell[3], v->thp_split_page);
		cell_u64(cell[4], v->thp_collapse_alloc);
		cell_u64(cell[5], v->thp_collapse_alloc_failed);
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
		const struct mv_sample_vm *v = tot ? &r->total
						   : &r->final->vm[i];
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

static const struct mv_mmu *vm_mmu(const struct mv_sim *s, int i)
{
	struct mv_vm_view v;
	mv_sim_vm_view(s, i, &v);
	return v.mmu;
}

/*
 * Address translation, for VMs with an MMU model: how the TLBs did, what
 * a walk cost, the VM exits, the tables' memory and the vCPU time it all
 * took (the cycle estimate at the model's clock). Counts over the run.
 */
static void print_mmu(FILE *out, const struct mv_sim *s,
		      const struct mv_run_summary *r, int namew)
{
	int any = 0;
	for (int i = 0; i < s->nvms; i++)
		any |= vm_mmu(s, i) != NULL;
	if (!any)
		return;
	static const char *const head[] = {
		"MODE",      "PAGES",     "ACCESSES", "L1MISS%",
		"L2MISS%",   "REFS/WALK", "EXITS",    "GPT(MiB)",
		"HVPT(MiB)", "XLAT(ms)",  "XLAT%",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, head, 11);
	t.width[2] = 12;
	table_header(&t,
		     "Address translation (PAGES guest/host; GPT the guest's "
		     "page tables, HVPT the EPT or shadow tables; XLAT the "
		     "vCPU time translation took)");
	for (int i = 0; i < s->nvms; i++) {
		const struct mv_mmu *m = vm_mmu(s, i);
		if (!m)
			continue;
		const struct mv_mmu_config *c = mv_mmu_get_config(m);
		const struct mv_mmu_counters *k = mv_mmu_counters(m);
		uint64_t exits = 0;
		for (int e = 0; e < MV_EXIT_COUNT; e++)
			exits += k->exits[e];
		double acc = (double)k->accesses;
		snprintf(cell[0], CELL, "%s", mv_mmu_mode_name(c->mode));
		snprintf(cell[1], CELL, "%s/%s", c->guest_2m ? "2m" : "4k",
			 c->host_2m ? "2m" : "4k");
		cell_u64(cell[2], k->accesses);
		snprintf(cell[3], CELL, "%.2f%%",
			 mv_pct((double)k->l1_misses, acc));
		snprintf(cell[4], CELL, "%.2f%%",
			 mv_pct((double)k->l2_misses, acc));
		snprintf(cell[5], CELL, "%.2f",
			 k->walks ? (double)k->walk_refs / (double)k->walks
				  : 0.0);
		cell_u64(cell[6], exits);
		cell_mib(cell[7], k->guest_pt_pages);
		cell_mib(cell[8], k->ept_pages + k->shadow_pages);
		uint64_t ns = r->final->vm[i].xlat_ns;
		snprintf(cell[9], CELL, "%.1f",
			 (double)ns / (double)MV_NS_PER_MS);
		cell_pct(cell[10], mv_pct((double)ns, (double)r->sim_ns));
		table_row(&t, vm_name(s, i), cell);
	}

	static const char *const ehead[] = {
		"PT-WRITE", "SHADOW-PF", "GUEST-PF",
		"CR3",      "INVLPG",    "EPT-VIOL",
	};
	table_init(&t, out, namew, ehead, MV_EXIT_COUNT);
	table_header(&t, "VM exits by cause (shadow: PT-WRITE to a "
			 "write-protected guest table, SHADOW-PF hidden fault, "
			 "GUEST-PF reflected, CR3 and INVLPG trapped; nested: "
			 "EPT-VIOL)");
	for (int i = 0; i < s->nvms; i++) {
		const struct mv_mmu *m = vm_mmu(s, i);
		if (!m)
			continue;
		for (int e = 0; e < MV_EXIT_COUNT; e++)
			cell_u64(cell[e], mv_mmu_counters(m)->exits[e]);
		table_row(&t, vm_name(s, i), cell);
	}
}

/*
 * NUMA (docs/numa.md), on a host of more than one node: each node's size,
 * free memory and numastat counters; per VM its placement, home node
 * (esxtop NHN), its resident memory local and remote to its vCPUs (NLMEM,
 * NRMEM, N%L) and its allocations' numastat sums.
 */
static void print_numa(FILE *out, const struct mv_sim *s, int namew)
{
	const struct mv_host *h = s->host;
	if (!h || h->nnodes < 2)
		return;
	static const char *const nhead[] = {
		"SIZE",         "FREE",           "numa_hit",   "numa_miss",
		"numa_foreign", "interleave_hit", "local_node", "other_node",
	};
	struct table t;
	char cell[MAX_COLS][CELL];
	table_init(&t, out, namew, nhead, 8);
	table_header(&t, "NUMA nodes (MiB; numastat's counters in pages; "
			 "the VM column is the node)");
	for (int k = 0; k < h->nnodes; k++) {
		const struct mv_numastat *n = &h->numastat[k];
		char name[16];
		snprintf(name, sizeof name, "node%d", k);
		cell_mib(cell[0], h->node[k].nframes);
		cell_mib(cell[1], h->node[k].nfree);
		cell_u64(cell[2], n->numa_hit);
		cell_u64(cell[3], n->numa_miss);
		cell_u64(cell[4], n->numa_foreign);
		cell_u64(cell[5], n->interleave_hit);
		cell_u64(cell[6], n->local_node);
		cell_u64(cell[7], n->other_node);
		table_row(&t, name, cell);
	}
	static const char *const vhead[] = {
		"MODE",     "NHN",       "N%L",       "NLMEM",   "NRMEM",
		"numa_hit", "numa_miss", "BIND-FAIL", "RMT-ACC", "NUMA(ms)",
	};
	table_init(&t, out, namew, vhead, 10);
	t.width[8] = 11;
	t.width[0] = 11;
	table_header(&t, "NUMA per VM (esxtop's NHN home node, N%L local "
			 "memory, NLMEM/NRMEM MiB local/remote to its vCPUs; "
			 "BIND-FAIL strict allocations its nodes could not "
			 "serve; RMT-ACC accesses to remote frames, NUMA their "
			 "extra latency as stall)");
	int failed = 0;
	for (int i = 0; i < s->nvms; i++) {
		struct mv_vm_view v;
		mv_sim_vm_view(s, i, &v);
		if (!v.vm)
			continue;
		const struct mv_vm *vm = v.vm;
		uint64_t res = 0;
		for (int k = 0; k < h->nnodes; k++)
			res += vm->numa.node_pages[k];
		snprintf(cell[0], CELL, "%s",
			 mv_numa_mode_name(vm->cfg.numa.mode));
		snprintf(cell[1], CELL, "%d", vm->home_node);
		cell_pct(cell[2],
			 mv_pct((double)vm->numa.local_pages, (double)res));
		cell_mib(cell[3], vm->numa.local_pages);
		cell_mib(cell[4], res - vm->numa.local_pages);
		cell_u64(cell[5], vm->ctr.numastat.numa_hit);
		cell_u64(cell[6], vm->ctr.numastat.numa_miss);
		cell_u64(cell[7], vm->ctr.numa_bind_failed);
		cell_u64(cell[8], vm->ctr.remote_accesses);
		snprintf(cell[9], CELL, "%.1f",
			 (double)vm->ctr.numa_ns / (double)MV_NS_PER_MS);
		table_row(&t, v.name, cell);
		failed |= vm->ctr.numa_bind_failed != 0;
	}
	for (int i = 0; i < s->nvms; i++) {
		struct mv_vm_view v;
		mv_sim_vm_view(s, i, &v);
		if (v.vm && v.vm->ctr.numa_home_moves)
			fprintf(out,
				"  %s: home node moved %llu time%s by the "
				"rebalancer (esxtop NMIG), now node %d\n",
				v.name,
				(unsigned long long)v.vm->ctr.numa_home_moves,
				v.vm->ctr.numa_home_moves == 1 ? "" : "s",
				v.vm->home_node);
	}
	for (int i = 0; failed && i < s->nvms; i++) {
		struct mv_vm_view v;
		char a[48];
		mv_sim_vm_view(s, i, &v);
		if (!v.vm || !v.vm->ctr.numa_bind_failed)
			continue;
		const struct mv_sim_oom *o = &s->oom[i];
		uint64_t nf = v.vm->ctr.numa_bind_failed;
		fprintf(out,
			"  %s: %llu allocation%s found its %s nodeset full",
			v.name, (unsigned long long)nf, nf == 1 ? "" : "s",
			mv_numa_mode_name(v.vm->cfg.numa.mode));
		if (o->killed && o->constraint == MV_OOM_MEMORY_POLICY)
			fprintf(out,
				"; OOM-killed at %s (CONSTRAINT_MEMORY_POLICY):"
				" reclaim on its nodes freed nothing, QEMU "
				"held %.1f MiB of their %.1f MiB\n",
				fmt_duration(o->at_ns, a, sizeof a),
				mv_pages_mib(o->held_pages),
				mv_pages_mib(o->max_pages));
		else
			fputs("; reclaim on its nodes made room each time\n",
			      out);
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
		const struct mv_guest_stats *g = tot ? &r->total.guest
						     : &r->final->vm[i].guest;
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
		const struct mv_guest_stats *g = tot ? &r->total.guest
						     : &r->final->vm[i].guest;
		cell_u64(cell[0], g->swap_in);
		cell_u64(cell[1], g->swap_out);
		cell_u64(cell[2], g->major_fault);
		cell_u64(cell[3], g->minor_fault);
		cell_u64(cell[4], g->oom_kills);
		table_row(&t, tot ? "TOTAL" : vm_name(s, i), cell);
	}
}

/* The sharing scanner's counters at the end, named as in /sys/kernel/mm/ksm. */
static void print_sharing(FILE *out, const struct mv_sim *s,
			  const struct mv_run_summary *r)
{
	const struct mv_share_stats *st = &r->final->share;
	if (!s->sc->reclaim.share.enabled) {
		fprintf(out, "\nHost page sharing: off\n");
		return;
	}
	fprintf(out, "\nHost page sharing (at the end; KSM's names)\n");
	const struct {
		const char *name;
		uint64_t v;
		const char *what;
	} row[] = {
		{"pages_shared", st->pages_shared, "sharing frames in use"},
		{"pages_sharing", st->pages_sharing,
		 "guest pages mapping them, beyond one per frame"},
		{"pages_unshared", st->pages_unshared,
		 "unique pages remembered as hints"},
		{"pages_volatile", st->pages_volatile,
		 "pages that changed between their last two scans"},
		{"volatile_seen", st->volatile_seen,
		 "scans that found a page changed, cumulative"},
		{"zero_pages", st->zero_pages,
		 "guest pages mapped to the zero frame"},
		{"full_scans", st->full_scans, "passes over all VMs' pages"},
		{"pages_scanned", st->pages_scanned,
		 "pages hashed, cumulative"},
		{"merges", st->merges, "pages merged into a sharing frame"},
		{"hash_collisions", st->hash_collisions,
		 "equal hash, different bytes: never shared"},
	};
	for (size_t k = 0; k < sizeof row / sizeof row[0]; k++)
		fprintf(out, "  %-15s %12llu  %s\n", row[k].name,
			(unsigned long long)row[k].v, row[k].what);
	fprintf(out,
		"  %-15s %12.1f  MiB: (pages_sharing + zero_pages) x 4 KiB\n",
		"memory saved", mv_pages_mib(mv_share_saved_pages(st)));
	fprintf(out, "  %-15s %12.1f  ms simulated, %.2f%% of one core\n",
		"scanner CPU", (double)st->sim_cpu_ns / (double)MV_NS_PER_MS,
		mv_pct((double)st->sim_cpu_ns, (double)r->sim_ns));
	if (!s->sc->reclaim.memtune_cgroup || !s->sharer)
		return;
	/* a KVM host: the figures as /sys/kernel/mm/ksm shows them */
	struct mv_ksm_view k;
	mv_share_ksm_view(s->sharer, st, MV_KSM_MAX_PAGE_SHARING, &k);
	fprintf(out,
		"  as KSM counts them, max_page_sharing %llu: pages_shared "
		"%llu, pages_sharing %llu,\n"
		"  stable_node_chains %llu, stable_node_dups %llu; "
		"general_profit %lld bytes (%.1f MiB)\n",
		(unsigned long long)k.max_page_sharing,
		(unsigned long long)k.pages_shared,
		(unsigned long long)k.pages_sharing,
		(unsigned long long)k.stable_node_chains,
		(unsigned long long)k.stable_node_dups,
		(long long)k.general_profit,
		(double)k.general_profit / (double)MV_MIB);
}

/*
 * <host preset="kvm">: each VM's cgroup as libvirt sets it from
 * <memtune> (memory.max, memory.high, memory.swap.max), what its QEMU
 * holds beyond guest memory, and the OOM kills.
 */
static void print_cgroup(FILE *out, const struct mv_sim *s, int namew)
{
	char a[48];
	if (!s->sc->reclaim.memtune_cgroup)
		return;
	fprintf(out, "\ncgroup v2 (libvirt <memtune> on KVM; MiB; max = "
		     "hard_limit, high = soft_limit)\n");
	fprintf(out, "  %-*s %10s %10s %10s %10s  %s\n", namew, "VM", "mem.max",
		"mem.high", "swap.max", "QEMU ovhd", "event");
	for (int i = 0; i < s->nvms; i++) {
		const struct mv_vm_config *c = &s->sc->vms[i].vm;
		char mx[16], hi[16], sw[16];
		snprintf(mx, sizeof mx, "%.1f",
			 (double)c->limit_bytes / MV_MIB);
		snprintf(hi, sizeof hi, "%.1f",
			 (double)c->soft_limit_bytes / MV_MIB);
		snprintf(sw, sizeof sw, "%.1f",
			 (double)c->swap_max_bytes / MV_MIB);
		fprintf(out, "  %-*s %10s %10s %10s %10.1f  ", namew,
			vm_name(s, i),
			c->limit_bytes == MV_LIMIT_NONE ? "max" : mx,
			c->soft_limit_bytes ? hi : "max",
			c->swap_max_bytes == UINT64_MAX ? "max" : sw,
			(double)s->sc->vms[i].guest.vmm_bytes / MV_MIB);
		const struct mv_sim_oom *o = &s->oom[i];
		if (o->killed && o->constraint == MV_OOM_MEMORY_POLICY)
			fprintf(out,
				"OOM-killed at %s: its strict nodeset full "
				"(NUMA section)\n",
				fmt_duration(o->at_ns, a, sizeof a));
		else if (o->killed)
			fprintf(out,
				"OOM-killed at %s: QEMU held %.1f MiB "
				"above memory.max, nothing left to reclaim\n",
				fmt_duration(o->at_ns, a, sizeof a),
				(double)(o->held_pages - o->max_pages) *
					MV_PAGE_SIZE / MV_MIB);
		else
			fputs("-\n", out);
	}
}

/*
 * The hugetlbfs pool, as /proc/meminfo prints it, and the VMs it could not
 * back (libvirt's start failure); only with <host><hugepages>.
 */
static void print_hugetlb(FILE *out, const struct mv_sim *s)
{
	const struct mv_hugetlb *p = &s->host->hugetlb;
	if (!s->sc->host.hugepages_pool)
		return;
	fprintf(out,
		"\nHuge pages (hugetlbfs pool)\n"
		"  HugePages_Total: %6llu\n  HugePages_Free:  %6llu\n"
		"  HugePages_Rsvd:  %6d\n  HugePages_Surp:  %6d\n"
		"  Hugepagesize:    %6u kB\n",
		(unsigned long long)p->total, (unsigned long long)p->free, 0, 0,
		MV_RUN_FRAMES * MV_PAGE_SIZE / 1024);
	for (int k = 0; s->host->nnodes > 1 && k < s->host->nnodes; k++)
		fprintf(out, "  Node %d HugePages_Free: %llu of %llu\n", k,
			(unsigned long long)p->node_free[k],
			(unsigned long long)p->node_total[k]);
	for (int i = 0; i < s->nvms; i++) {
		char msg[256];
		if (!s->start[i].failed)
			continue;
		mv_sim_start_error(s, i, msg, sizeof msg);
		fprintf(out, "  VM '%s' failed to start: %s\n", vm_name(s, i),
			msg);
	}
}

static void print_host(FILE *out, const struct mv_sim *s,
		       const struct mv_run_summary *r)
{
	double usable = (double)r->usable_frames;
	fprintf(out, "\nHost free memory (%% of %.1f MiB usable)\n",
		mv_pages_mib(r->usable_frames));
	fprintf(out, "  %-6s %10.1f MiB %6.1f%%\n", "min",
		mv_pages_mib(r->free_min), mv_pct((double)r->free_min, usable));
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
	fprintf(out, "  %-6s %s\n", "final", memstate_name(r->final->memstate));

	fprintf(out, "\nFree memory over time\n");
	fprintf(out, "  %10s %10s %7s  %-5s  %s\n", "TIME(s)", "FREE(MiB)",
		"FREE%", "STATE", "FREE");
	if (s->nsamples <= 0 || !s->samples) {
		fprintf(out, "  (no samples: the run was shorter than one "
			     "stats interval)\n");
		return;
	}
	/* every stride-th sample, so rows are a whole number of stats
	 * intervals apart, and always the last one */
	int n = s->nsamples, stride = 1;
	while ((n - 1) / stride + 1 + ((n - 1) % stride != 0) > SERIES_ROWS)
		stride++;
	for (int idx = 0; idx < n;
	     idx = idx < n - 1 && idx + stride > n - 1 ? n - 1 : idx + stride) {
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

/* Measured, not simulated: both figures differ between runs. */
int mv_report_measured(FILE *out, const struct mv_sim *s)
{
	struct mv_run_summary r;
	int rc = mv_run_summary_init(&r, s);
	if (rc)
		return rc;
	fprintf(out, "wall: %.3f s", s->wall_s);
	if (s->sc->reclaim.share.enabled)
		fprintf(out, "; sharing scanner measured CPU %.1f ms",
			(double)r.final->share.cpu_ns / (double)MV_NS_PER_MS);
	fputc('\n', out);
	mv_run_summary_free(&r);
	return ferror(out) ? MV_EIO : 0;
}

int mv_report_books(FILE *out, const struct mv_sim *s, const char *when)
{
	struct mv_books b;
	mv_sim_books(s, &b);
	double pages = b.guest_pages ? (double)b.guest_pages : 1;
	fprintf(out, "books: %s guest-pages %llu host-frames %llu\n", when,
		(unsigned long long)b.guest_pages,
		(unsigned long long)b.host_frames);
	for (int i = 0; i < b.n; i++) {
		const struct mv_books_item *it = &b.item[i];
		fprintf(out,
			"books: %s %s %s %llu x %llu = %llu B %.2f B/page\n",
			when, it->group, it->name, (unsigned long long)it->elem,
			(unsigned long long)it->count,
			(unsigned long long)it->bytes,
			(double)it->bytes / pages);
	}
	static const char *const groups[] = {"hypervisor", "guest", "mmu",
					     "verify", "series"};
	for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) {
		uint64_t bytes = mv_books_bytes(&b, groups[g]);
		fprintf(out, "books: %s total %s %llu B %.2f B/page\n", when,
			groups[g], (unsigned long long)bytes,
			(double)bytes / pages);
	}
	return ferror(out) ? MV_EIO : 0;
}

/* VMs that arrived or left by live migration (src/cluster/move.c); a
 * VM that left shows zeros from then on: it is not here. Nothing when
 * none moved. */
static void print_moves(FILE *out, const struct mv_sim *s, int namew)
{
	int any = 0;
	char a[48];
	for (int i = 0; s->moved && i < s->nvms; i++) {
		const struct mv_sim_moved *m = &s->moved[i];
		if (!m->arrived && !m->gone)
			continue;
		if (!any++)
			fputs("\nlive migration\n", out);
		fprintf(out, "  %-*s", namew, vm_name(s, i));
		if (m->arrived)
			fprintf(out, " arrived at %s from %s",
				fmt_duration(m->arrived_ns, a, sizeof a),
				m->from);
		if (m->gone)
			fprintf(out, "%s left at %s to %s",
				m->arrived ? ";" : "",
				fmt_duration(m->left_ns, a, sizeof a), m->to);
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
	print_cgroup(out, s, namew);
	print_moves(out, s, namew);
	if (s->nvms > 0 && r.final->vm) {
		print_memory(out, s, &r, namew);
		print_reclaim(out, s, &r, namew);
		print_activity(out, s, &r, namew);
		print_faults(out, s, &r, namew);
		print_thp(out, s, &r, namew);
		print_progress(out, s, &r, namew);
		print_mmu(out, s, &r, namew);
		print_guest(out, s, &r, namew);
		print_numa(out, s, namew);
	}
	print_sharing(out, s, &r);
	print_hugetlb(out, s);
	print_host(out, s, &r);

	mv_run_summary_free(&r);
	return ferror(out) ? MV_EIO : 0;
}
