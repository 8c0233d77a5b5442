/*
 * top.c - the text of the live screen (`memvisor run --top`): a host
 * summary and one row per VM, like esxtop's memory panel (its "m" view:
 * PMEM and state lines on top, then MEMSZ, GRANT, SZTGT, TCHD, ACTV,
 * SHRD, ZERO, SHRDSVD, MCTLSZ, MCTLTGT, SWCUR, CACHEUSD per VM).
 *
 * Only the text is made here, from a sample, so it can be tested without
 * a terminal; the cli layer puts it on the screen with ncurses and reads
 * the keys. Rows are sorted by the chosen column, largest first (the name
 * alphabetically), ties in VM order, so the screen does not flicker
 * between equal rows.
 *
 * The screen is made to fit its width rather than be cut at the edge:
 * when not every column fits, the sort column stays and the others are
 * kept by rank (STALL% first); the key line says how many are hidden and
 * the host line wraps. Column names mean what docs/views.md's table says,
 * as in the text report, the JSON and the CSV.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/report.h"
#include "report/summary.h"
#include "report/views.h"

static const struct {
	int key;
	const char *name;
} sorts[MV_TOP_SORT_COUNT] = {
	[MV_TOP_SORT_NAME] = {'n', "NAME"},
	[MV_TOP_SORT_MEMSZ] = {'m', "MEMSZ"},
	[MV_TOP_SORT_GRANT] = {'g', "GRANT"},
	[MV_TOP_SORT_ACTV] = {'a', "ACTV"},
	[MV_TOP_SORT_MCTLSZ] = {'b', "MCTLSZ"},
	[MV_TOP_SORT_SWCUR] = {'s', "SWCUR"},
	[MV_TOP_SORT_CACHEUSD] = {'z', "CACHEUSD"},
};

int mv_top_sort_for_key(int key)
{
	if (key >= 'A' && key <= 'Z')
		key += 'a' - 'A';
	for (int i = 0; i < MV_TOP_SORT_COUNT; i++)
		if (sorts[i].key == key)
			return i;
	return -1;
}

/* The figure a sort orders by, in pages. */
static uint64_t sort_value(const struct mv_sample_vm *v, int sort)
{
	switch (sort) {
	case MV_TOP_SORT_MEMSZ:
		return mv_view_vm_pages(v);
	case MV_TOP_SORT_GRANT:
		return v->granted;
	case MV_TOP_SORT_ACTV:
		return v->active_est;
	case MV_TOP_SORT_MCTLSZ:
		return v->guest.balloon_pages;
	case MV_TOP_SORT_SWCUR:
		return v->state[MV_PS_SWAPPED];
	case MV_TOP_SORT_CACHEUSD:
		return v->zcache.frames;
	default:
		return 0;
	}
}

struct order_ctx {
	const struct mv_sim *s;
	const struct mv_sample *now;
	int sort;
};

static struct order_ctx g_order; /* qsort has no context argument */

static int by_column(const void *a, const void *b)
{
	int i = *(const int *)a, j = *(const int *)b;
	const struct order_ctx *o = &g_order;
	if (o->sort == MV_TOP_SORT_NAME) {
		int c = strcmp(o->s->sc->vms[i].vm.name,
			       o->s->sc->vms[j].vm.name);
		if (c)
			return c;
	} else {
		uint64_t x = sort_value(&o->now->vm[i], o->sort);
		uint64_t y = sort_value(&o->now->vm[j], o->sort);
		if (x != y)
			return x > y ? -1 : 1;
	}
	return i - j;
}

/*
 * The columns in esxtop's order, each with its rank when the screen is
 * too narrow for all: the sort column is always kept, then the lowest
 * ranks, shown in esxtop's order. STALL% ranks first: it is what the
 * VM's user feels; then size, use and each reclamation mechanism.
 */
enum top_col {
	COL_MEMSZ,
	COL_GRANT,
	COL_SZTGT,
	COL_TCHD,
	COL_ACTV,
	COL_SHRD,
	COL_ZERO,
	COL_SHRDSVD,
	COL_MCTLSZ,
	COL_MCTLTGT,
	COL_SWCUR,
	COL_CACHEUSD,
	COL_STALL,
	NCOLS
};

static const struct {
	const char *name;
	int rank;
} columns[NCOLS] = {
	[COL_MEMSZ] = {"MEMSZ", 1},   [COL_GRANT] = {"GRANT", 3},
	[COL_SZTGT] = {"SZTGT", 9},   [COL_TCHD] = {"TCHD", 7},
	[COL_ACTV] = {"ACTV", 2},     [COL_SHRD] = {"SHRD", 11},
	[COL_ZERO] = {"ZERO", 12},    [COL_SHRDSVD] = {"SHRDSVD", 8},
	[COL_MCTLSZ] = {"MCTLSZ", 5}, [COL_MCTLTGT] = {"MCTLTGT", 10},
	[COL_SWCUR] = {"SWCUR", 4},   [COL_CACHEUSD] = {"CACHEUSD", 6},
	[COL_STALL] = {"STALL%", 0},
};

#define COLW 10 /* every column: a space and nine characters */

/*
 * Mark the columns that fit in width characters after a name column of
 * namew + 1 (width <= 0: all). Returns how many are shown.
 */
static int choose_columns(int width, int namew, int sort, int shown[NCOLS])
{
	int room = width > 0 ? (width - 1 - namew) / COLW : NCOLS;
	int n = 0;
	for (int c = 0; c < NCOLS; c++) {
		shown[c] = sort != MV_TOP_SORT_NAME &&
			   !strcmp(columns[c].name, sorts[sort].name);
		n += shown[c];
	}
	for (int rank = 0; rank < NCOLS && n < room; rank++)
		for (int c = 0; c < NCOLS && n < room; c++)
			if (!shown[c] && columns[c].rank == rank) {
				shown[c] = 1;
				n++;
			}
	return n;
}

/* Print a line, or if it is wider than width, its two halves. */
static void put_split(FILE *out, int width, const char *a, const char *b)
{
	if (width > 0 && (int)(strlen(a) + strlen(b)) > width)
		fprintf(out, "%s\n%s\n", a, b + strspn(b, " "));
	else
		fprintf(out, "%s%s\n", a, b);
}

static int top_text(FILE *out, const struct mv_sim *s,
		    const struct mv_sample *now, int sort, int paused,
		    int width)
{
	const struct mv_scenario *sc = s->sc;
	uint64_t usable = mv_sim_usable_frames(s);
	fprintf(out, "memvisor top - %s   t = %.1f s of %.1f s%s\n", sc->name,
		(double)now->t_ns / MV_NS_PER_S,
		(double)sc->duration_ns / MV_NS_PER_S,
		paused ? "   [PAUSED]" : "");
	char a[160], b[160];
	snprintf(a, sizeof a,
		 "PMEM /MiB: %.1f total, %.1f free (%.1f%%)   state: %s",
		 (double)sc->host.mem_bytes / (double)MV_MIB,
		 mv_pages_mib(now->host_free),
		 mv_pct((double)now->host_free, (double)usable),
		 mv_memstate_name(now->memstate));
	snprintf(b, sizeof b, "   sharing saves %.1f MiB",
		 mv_pages_mib(mv_share_saved_pages(&now->share)));
	put_split(out, width, a, b);

	int namew = 4;
	for (int i = 0; i < s->nvms; i++) {
		int w = (int)strlen(sc->vms[i].vm.name);
		if (w > namew)
			namew = w;
	}
	if (namew > 24)
		namew = 24;
	int shown[NCOLS];
	int n = choose_columns(width, namew, sort, shown);
	fprintf(out, "keys: n m g a b s z sort%s, p pause, q quit",
		width <= 0 || width >= 88
			? " (name MEMSZ GRANT ACTV MCTLSZ SWCUR CACHEUSD)"
			: "");
	if (n < NCOLS)
		fprintf(out, "; %d column%s hidden", NCOLS - n,
			NCOLS - n == 1 ? "" : "s");
	fputs("\n\n", out);

	/* The sort column is marked with '*' before its name. */
	fprintf(out, "%s%-*s", sort == MV_TOP_SORT_NAME ? "*" : " ", namew,
		"NAME");
	for (int c = 0; c < NCOLS; c++) {
		if (!shown[c])
			continue;
		int marked = sort != MV_TOP_SORT_NAME &&
			     !strcmp(columns[c].name, sorts[sort].name);
		char label[16];
		snprintf(label, sizeof label, "%s%s", marked ? "*" : "",
			 columns[c].name);
		fprintf(out, " %9s", label);
	}
	fputc('\n', out);

	int *idx = malloc((size_t)(s->nvms ? s->nvms : 1) * sizeof *idx);
	if (!idx)
		return MV_ENOMEM;
	for (int i = 0; i < s->nvms; i++)
		idx[i] = i;
	g_order = (struct order_ctx){s, now, sort};
	qsort(idx, (size_t)s->nvms, sizeof *idx, by_column);
	for (int r = 0; r < s->nvms; r++) {
		const struct mv_sample_vm *v = &now->vm[idx[r]];
		uint64_t sztgt = v->consumed > v->reclaim_wanted
					 ? v->consumed - v->reclaim_wanted
					 : 0;
		const uint64_t pages[NCOLS] = {
			[COL_MEMSZ] = mv_view_vm_pages(v),
			[COL_GRANT] = v->granted,
			[COL_SZTGT] = sztgt,
			[COL_TCHD] = v->touched,
			[COL_ACTV] = v->active_est,
			[COL_SHRD] = v->state[MV_PS_SHARED] +
				     v->state[MV_PS_ZERO],
			[COL_ZERO] = v->state[MV_PS_ZERO],
			[COL_SHRDSVD] = v->shared_saved,
			[COL_MCTLSZ] = v->guest.balloon_pages,
			[COL_MCTLTGT] = v->balloon_target,
			[COL_SWCUR] = v->state[MV_PS_SWAPPED],
			[COL_CACHEUSD] = v->zcache.frames,
		};
		fprintf(out, " %-*.*s", namew, namew, sc->vms[idx[r]].vm.name);
		for (int c = 0; c < NCOLS; c++) {
			if (!shown[c])
				continue;
			double x = c == COL_STALL ? mv_pct((double)v->stall_ns,
							   (double)now->t_ns)
						  : mv_pages_mib(pages[c]);
			fprintf(out, "  %8.1f", x);
		}
		fputc('\n', out);
	}
	free(idx);
	return ferror(out) ? MV_EIO : 0;
}

int mv_report_top(FILE *out, const struct mv_sim *s, int sort, int paused,
		  int width)
{
	if (sort < 0 || sort >= MV_TOP_SORT_COUNT)
		sort = MV_TOP_SORT_NAME;
	struct mv_sample now;
	int rc = mv_run_snapshot(s, &now);
	if (!rc)
		rc = top_text(out, s, &now, sort, paused, width);
	free(now.vm);
	return rc;
}
