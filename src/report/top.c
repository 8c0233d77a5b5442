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
	case MV_TOP_SORT_MEMSZ: return mv_view_vm_pages(v);
	case MV_TOP_SORT_GRANT: return v->granted;
	case MV_TOP_SORT_ACTV: return v->active_est;
	case MV_TOP_SORT_MCTLSZ: return v->guest.balloon_pages;
	case MV_TOP_SORT_SWCUR: return v->state[MV_PS_SWAPPED];
	case MV_TOP_SORT_CACHEUSD: return v->zcache.frames;
	default: return 0;
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

static const char *const columns[] = {
	"MEMSZ", "GRANT", "SZTGT", "TCHD", "ACTV", "SHRD", "ZERO",
	"SHRDSVD", "MCTLSZ", "MCTLTGT", "SWCUR", "CACHEUSD", "STALL%",
};
#define NCOLS (int)(sizeof columns / sizeof *columns)

static int top_text(FILE *out, const struct mv_sim *s,
		    const struct mv_sample *now, int sort, int paused)
{
	const struct mv_scenario *sc = s->sc;
	uint64_t usable = mv_sim_usable_frames(s);
	fprintf(out, "memvisor top - %s   t = %.1f s of %.1f s%s\n", sc->name,
		(double)now->t_ns / MV_NS_PER_S,
		(double)sc->duration_ns / MV_NS_PER_S,
		paused ? "   [PAUSED]" : "");
	fprintf(out,
		"PMEM /MiB: %.1f total, %.1f free (%.1f%%)   state: %s   "
		"sharing saves %.1f MiB\n",
		(double)sc->host.mem_bytes / (double)MV_MIB,
		mv_pages_mib(now->host_free),
		mv_pct((double)now->host_free, (double)usable),
		mv_memstate_name(now->memstate),
		mv_pages_mib(mv_share_saved_pages(&now->share)));
	fputs("keys: n m g a b s z sort (name MEMSZ GRANT ACTV MCTLSZ SWCUR "
	      "CACHEUSD), p pause, q quit\n\n",
	      out);

	int namew = 4;
	for (int i = 0; i < s->nvms; i++) {
		int w = (int)strlen(sc->vms[i].vm.name);
		if (w > namew)
			namew = w;
	}
	if (namew > 24)
		namew = 24;
	/* The sort column is marked with '*' before its name. */
	fprintf(out, "%s%-*s", sort == MV_TOP_SORT_NAME ? "*" : " ", namew,
		"NAME");
	for (int c = 0; c < NCOLS; c++) {
		int marked = sort != MV_TOP_SORT_NAME &&
			     !strcmp(columns[c], sorts[sort].name);
		char label[16];
		snprintf(label, sizeof label, "%s%s", marked ? "*" : "",
			 columns[c]);
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
		const uint64_t pages[] = {
			mv_view_vm_pages(v),
			v->granted,
			sztgt,
			v->active_true,
			v->active_est,
			v->state[MV_PS_SHARED] + v->state[MV_PS_ZERO],
			v->state[MV_PS_ZERO],
			v->shared_saved,
			v->guest.balloon_pages,
			v->balloon_target,
			v->state[MV_PS_SWAPPED],
			v->zcache.frames,
		};
		fprintf(out, " %-*.*s", namew, namew, sc->vms[idx[r]].vm.name);
		for (int c = 0; c < NCOLS - 1; c++)
			fprintf(out, "  %8.1f", mv_pages_mib(pages[c]));
		fprintf(out, "  %8.1f\n",
			mv_pct((double)v->stall_ns, (double)now->t_ns));
	}
	free(idx);
	return ferror(out) ? MV_EIO : 0;
}

int mv_report_top(FILE *out, const struct mv_sim *s, int sort, int paused)
{
	if (sort < 0 || sort >= MV_TOP_SORT_COUNT)
		sort = MV_TOP_SORT_NAME;
	struct mv_sample now;
	int rc = mv_run_snapshot(s, &now);
	if (!rc)
		rc = top_text(out, s, &now, sort, paused);
	free(now.vm);
	return rc;
}
