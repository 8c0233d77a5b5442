/*
 * json.c - the whole run as one JSON document (schema: docs/json.md).
 *
 * Written by hand with a tiny streaming writer: the document is a tree of
 * objects and arrays whose shape is fixed by the schema, so a DOM library
 * would add a dependency and nothing else. The writer keeps, per nesting
 * level, whether anything was written yet (for commas) and whether the
 * container is "inline" (printed on one line: the per-VM entries of the time
 * series, so a long run stays readable with one line per VM per sample).
 *
 * Units are never implicit: memory is given both in pages ("_pages") and in
 * bytes ("_bytes"), time in nanoseconds ("_ns") and, where handy, seconds
 * ("_s"), fractions as 0..1 ("_fraction"). Counts are integers. Strings are
 * escaped per RFC 8259, and bytes that are not valid UTF-8 are replaced by
 * U+FFFD so the output is always valid JSON. The measured figures, the
 * wall-clock time and the sharing scanner's measured CPU, are the only
 * non-deterministic ones and share one line: "wall_s", "sharing_cpu_ns".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"
#include "memvisor/report.h"
#include "memvisor/plan.h"
#include "report/summary.h"

#define JW_MAX_DEPTH 16

_Static_assert(MV_PS_COUNT == 7, "page-state keys out of date");
_Static_assert(MV_FAULT_COUNT == 5, "fault keys out of date");
_Static_assert(MV_MEMSTATE_COUNT == 5, "memstate keys out of date");
/* Every field is written (cpu_ns on the wall_s line only): a new field
 * needs a key. */
_Static_assert(sizeof(struct mv_share_stats) == 12 * sizeof(uint64_t),
	       "sharing keys out of date");
_Static_assert(sizeof(struct mv_zcache_stats) == 8 * sizeof(uint64_t),
	       "zcache keys out of date");
/* (fs_bytes is not written: it varies with the filesystem's layout) */
_Static_assert(sizeof(struct mv_swap_stats) == 8 * sizeof(uint64_t),
	       "swap keys out of date");

/* Keys are part of the schema: fixed here, not taken from name functions. */
static const char *const state_key[MV_PS_COUNT] = {
	"untouched",  "private", "shared",    "zero",
	"compressed", "swapped", "ballooned",
};
static const char *const fault_key[MV_FAULT_COUNT] = {
	"zero_fill", "cow", "decompress", "swap_in", "alloc_wait",
};
static const char *const memstate_key[MV_MEMSTATE_COUNT] = {
	"high", "clear", "soft", "hard", "low",
};

struct jw {
	FILE *f;
	int depth;
	int count[JW_MAX_DEPTH]; /* members written at each level */
	int inl[JW_MAX_DEPTH];   /* level printed on one line */
};

static void jw_indent(struct jw *w)
{
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Separator before a member of the current container. */
static void jw_sep(struct jw *w)
{
	if (w->depth == 0)
		return;
	if (w->count[w->depth]++)
		fputc(',', w->f);
	if (w->inl[w->depth]) {
		if (w->count[w->depth] > 1)
			fputc(' ', w->f);
	} else {
		jw_indent(w);
	}
}

/* Decode one UTF-8 sequence at p (n bytes left); its length or 0 if bad. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void jw_string(struct jw *w, const char *s)
{
	FILE *f = w->f;
	if (!s) {
		fputs("null", f);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	fputc('"', f);
	while (n > 0) {
		unsigned c = *p;
		size_t len = 1;
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc((int)c, f);
			} else if ((len = utf8_len(p, n)) != 0) {
				fwrite(p, 1, len, f);
			} else {
				fputs("\\ufffd", f);
				len = 1;
			}
		}
		p += len;
		n -= len;
	}
	fputc('"', f);
}

static void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	if (key) {
		jw_string(w, key);
		fputs(": ", w->f);
	}
}

static void jw_begin(struct jw *w, const char *key, char open, int inl)
{
	jw_key(w, key);
	fputc(open, w->f);
	int parent_inl = w->inl[w->depth];
	w->depth++;
	w->count[w->depth] = 0;
	w->inl[w->depth] = inl || parent_inl;
}

static void jw_end(struct jw *w, char close)
{
	int had = w->count[w->depth] > 0, inl = w->inl[w->depth];
	w->depth--;
	if (had && !inl)
		jw_indent(w);
	fputc(close, w->f);
}

static void jw_obj(struct jw *w, const char *key, int inl)
{
	jw_begin(w, key, '{', inl);
}
static void jw_obj_end(struct jw *w)
{
	jw_end(w, '}');
}
static void jw_arr(struct jw *w, const char *key, int inl)
{
	jw_begin(w, key, '[', inl);
}
static void jw_arr_end(struct jw *w)
{
	jw_end(w, ']');
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

static void jw_i64(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	fprintf(w->f, "%lld", (long long)v);
}

/* Shortest decimal that reads back as the same double; null if not finite. */
static void jw_double(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	if (!isfinite(v)) {
		fputs("null", w->f);
		return;
	}
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, w->f);
}

/*
 * The next member goes on the line of the previous one, even in a
 * multi-line container: keeps the measured figures on the one line that
 * readers comparing runs drop.
 */
static void jw_u64_same_line(struct jw *w, const char *key, uint64_t v)
{
	int inl = w->inl[w->depth];
	w->inl[w->depth] = 1;
	jw_u64(w, key, v);
	w->inl[w->depth] = inl;
}

static void jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_string(w, v);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

/* A memory quantity: "<key>_pages" and "<key>_bytes". */
static void jw_mem(struct jw *w, const char *key, uint64_t pages)
{
	char k[64];
	snprintf(k, sizeof k, "%s_pages", key);
	jw_u64(w, k, pages);
	snprintf(k, sizeof k, "%s_bytes", key);
	jw_u64(w, k, pages * MV_PAGE_SIZE);
}

/* One VM's figures at one sample (also used for the final and totals). */
static void write_sample_vm(struct jw *w, const struct mv_sample_vm *v)
{
	jw_obj(w, "state_pages", 1);
	for (int k = 0; k < MV_PS_COUNT; k++)
		jw_u64(w, state_key[k], v->state[k]);
	jw_obj_end(w);
	jw_obj(w, "state_bytes", 1);
	for (int k = 0; k < MV_PS_COUNT; k++)
		jw_u64(w, state_key[k], v->state[k] * MV_PAGE_SIZE);
	jw_obj_end(w);
	jw_mem(w, "granted", v->granted);
	jw_mem(w, "consumed", v->consumed);
	jw_mem(w, "shared_saved", v->shared_saved);
	jw_mem(w, "swap_target", v->swap_target);
	jw_u64(w, "overhead_bytes", v->overhead_bytes);
	jw_mem(w, "touched", v->touched);
	jw_mem(w, "active_true", v->active_true);
	jw_mem(w, "active_est", v->active_est);
	jw_obj(w, "faults", 1);
	for (int k = 0; k < MV_FAULT_COUNT; k++)
		jw_u64(w, fault_key[k], v->faults[k]);
	jw_obj_end(w);
	jw_u64(w, "stall_ns", v->stall_ns);
	jw_u64(w, "xlat_ns", v->xlat_ns);
	if (v->thp && v->lpage_esx) {
		/* ESX's large pages: backed now, allocated, broken */
		jw_obj(w, "large_pages", 1);
		jw_u64(w, "large_bytes",
		       v->thp_huge * MV_RUN_FRAMES * MV_PAGE_SIZE);
		jw_u64(w, "large_pages", v->thp_huge);
		jw_u64(w, "allocated", v->thp_fault_alloc);
		jw_u64(w, "fallback", v->thp_fault_fallback);
		jw_u64(w, "broken", v->thp_split_page);
		jw_obj_end(w);
	} else if (v->thp) {
		/* /proc/meminfo's AnonHugePages, /proc/vmstat's thp_* */
		jw_obj(w, "thp", 1);
		jw_u64(w, "anon_huge_bytes",
		       v->thp_huge * MV_RUN_FRAMES * MV_PAGE_SIZE);
		jw_u64(w, "thp_fault_alloc", v->thp_fault_alloc);
		jw_u64(w, "thp_fault_fallback", v->thp_fault_fallback);
		jw_u64(w, "thp_collapse_alloc", v->thp_collapse_alloc);
		jw_u64(w, "thp_collapse_alloc_failed",
		       v->thp_collapse_alloc_failed);
		jw_u64(w, "thp_split_page", v->thp_split_page);
		jw_obj_end(w);
	}
	jw_u64(w, "accesses_demanded", v->demanded);
	jw_u64(w, "accesses_done", v->done);

	const struct mv_guest_stats *g = &v->guest;
	jw_obj(w, "guest", 1);
	jw_mem(w, "swap_in", g->swap_in);
	jw_mem(w, "swap_out", g->swap_out);
	jw_u64(w, "major_fault", g->major_fault);
	jw_u64(w, "minor_fault", g->minor_fault);
	jw_mem(w, "readahead", g->readahead_pages);
	jw_mem(w, "free", g->free_pages);
	jw_mem(w, "cache", g->cache_pages);
	jw_mem(w, "anon", g->anon_pages);
	jw_mem(w, "kernel", g->kernel_pages);
	jw_mem(w, "balloon", g->balloon_pages);
	jw_mem(w, "available", g->available_pages);
	jw_mem(w, "used",
	       g->available_pages > g->free_pages
		       ? g->available_pages - g->free_pages
		       : 0);
	jw_u64(w, "oom_kills", g->oom_kills);
	jw_obj_end(w);

	jw_mem(w, "balloon_target", v->balloon_target);
	jw_mem(w, "reclaim_wanted", v->reclaim_wanted);
	const struct mv_zcache_stats *z = &v->zcache;
	jw_obj(w, "zcache", 1);
	jw_u64(w, "capacity_frames", z->capacity_frames);
	jw_u64(w, "frames", z->frames);
	jw_u64(w, "pages", z->pages);
	jw_u64(w, "bytes", z->bytes);
	jw_u64(w, "compressed", z->compressed);
	jw_u64(w, "decompressed", z->decompressed);
	jw_u64(w, "rejected", z->rejected);
	jw_u64(w, "evicted", z->evicted);
	jw_obj_end(w);
	const struct mv_swap_stats *sw = &v->swap;
	jw_obj(w, "swap", 1);
	jw_u64(w, "slots", sw->slots);
	jw_u64(w, "used", sw->used);
	jw_u64(w, "writes", sw->writes);
	jw_u64(w, "reads", sw->reads);
	jw_u64(w, "write_errors", sw->write_errors);
	jw_u64(w, "read_errors", sw->read_errors);
	jw_u64(w, "disk_bytes", sw->disk_bytes);
	jw_obj_end(w);
}

/* Page-sharing counters, all but the measured cpu_ns (not deterministic). */
static void write_sharing(struct jw *w, const struct mv_share_stats *st,
			  int inl)
{
	jw_obj(w, "sharing", inl);
	jw_u64(w, "pages_shared", st->pages_shared);
	jw_u64(w, "pages_sharing", st->pages_sharing);
	jw_u64(w, "pages_unshared", st->pages_unshared);
	jw_u64(w, "pages_volatile", st->pages_volatile);
	jw_u64(w, "volatile_seen", st->volatile_seen);
	jw_u64(w, "zero_pages", st->zero_pages);
	jw_u64(w, "full_scans", st->full_scans);
	jw_u64(w, "pages_scanned", st->pages_scanned);
	jw_u64(w, "hash_collisions", st->hash_collisions);
	jw_u64(w, "merges", st->merges);
	jw_u64(w, "sim_cpu_ns", st->sim_cpu_ns);
	jw_obj_end(w);
}

static const char *memstate_str(enum mv_memstate st)
{
	return (unsigned)st < MV_MEMSTATE_COUNT ? memstate_key[st] : "unknown";
}

static void write_scenario(struct jw *w, const struct mv_sim *s)
{
	const struct mv_scenario *sc = s->sc;
	jw_obj(w, "scenario", 0);
	jw_str(w, "name", sc->name);
	jw_str(w, "source", sc->source);
	jw_u64(w, "seed", sc->seed);
	jw_u64(w, "duration_ns", sc->duration_ns);
	jw_u64(w, "step_ns", sc->step_ns);
	jw_u64(w, "stats_interval_ns", sc->stats_interval_ns);
	jw_u64(w, "active_window_ns", sc->active_window_ns);
	jw_u64(w, "sampling_pages", sc->sampling.pages);
	jw_u64(w, "sampling_period_ns", sc->sampling.period_ns);
	jw_obj_end(w);
}

/* numastat(8)'s counters, in pages. */
static void write_numastat(struct jw *w, const struct mv_numastat *n)
{
	jw_u64(w, "numa_hit", n->numa_hit);
	jw_u64(w, "numa_miss", n->numa_miss);
	jw_u64(w, "numa_foreign", n->numa_foreign);
	jw_u64(w, "interleave_hit", n->interleave_hit);
	jw_u64(w, "local_node", n->local_node);
	jw_u64(w, "other_node", n->other_node);
}

/* The host's NUMA nodes: size, free memory, numastat (docs/numa.md). */
static void write_nodes(struct jw *w, const struct mv_host *h)
{
	jw_arr(w, "nodes", 0);
	for (int k = 0; h && k < h->nnodes; k++) {
		jw_obj(w, NULL, 1);
		jw_i64(w, "node", k);
		jw_mem(w, "size", h->node[k].nframes);
		jw_mem(w, "free", h->node[k].nfree);
		write_numastat(w, &h->numastat[k]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* A VM's NUMA figures (docs/numa.md): placement, esxtop's, numastat's. */
static void write_vm_numa(struct jw *w, const struct mv_vm *vm)
{
	jw_obj(w, "numa", 0);
	if (vm) {
		uint64_t res = 0;
		for (int k = 0; k < vm->host->nnodes; k++)
			res += vm->numa.node_pages[k];
		jw_str(w, "mode", mv_numa_mode_name(vm->cfg.numa.mode));
		jw_i64(w, "home_node", vm->home_node);
		jw_i64(w, "cells", vm->numa.ncells);
		jw_mem(w, "local", vm->numa.local_pages);
		jw_mem(w, "remote", res - vm->numa.local_pages);
		jw_double(w, "local_fraction",
			  res ? (double)vm->numa.local_pages / (double)res : 1);
		jw_arr(w, "node_pages", 1);
		for (int k = 0; k < vm->host->nnodes; k++)
			jw_u64(w, NULL, vm->numa.node_pages[k]);
		jw_arr_end(w);
		write_numastat(w, &vm->ctr.numastat);
		jw_u64(w, "bind_failed", vm->ctr.numa_bind_failed);
		jw_u64(w, "remote_frames", vm->ctr.remote_frames);
		jw_u64(w, "accesses", vm->ctr.reads + vm->ctr.writes);
		jw_u64(w, "remote_accesses", vm->ctr.remote_accesses);
		jw_u64(w, "stall_ns", vm->ctr.numa_ns);
		jw_u64(w, "migrated_pages", vm->ctr.numa_migrated);
		jw_u64(w, "migrate_ns", vm->ctr.numa_migrate_ns);
		jw_u64(w, "home_moves", vm->ctr.numa_home_moves);
	}
	jw_obj_end(w);
}

/* The hugetlbfs pool as /proc/meminfo shows it (and, per node,
 * /sys/devices/system/node/nodeN/hugepages/hugepages-2048kB), with the
 * VMs that found it short; only with <hugepages> (docs/largepages.md). */
static void write_hugetlb(struct jw *w, const struct mv_sim *s)
{
	const struct mv_hugetlb *p = &s->host->hugetlb;
	if (!s->sc->host.hugepages_pool)
		return;
	jw_obj(w, "hugetlb", 0);
	jw_u64(w, "HugePages_Total", p->total);
	jw_u64(w, "HugePages_Free", p->free);
	/* preallocated guests fault every reserved page in at start */
	jw_u64(w, "HugePages_Rsvd", 0);
	jw_u64(w, "HugePages_Surp", 0);
	jw_u64(w, "Hugepagesize_kB", MV_RUN_FRAMES * MV_PAGE_SIZE / 1024);
	jw_u64(w, "Hugetlb_kB", p->total * MV_RUN_FRAMES * MV_PAGE_SIZE / 1024);
	jw_u64(w, "start_failures", p->alloc_fail);
	jw_arr(w, "nodes", 0);
	for (int k = 0; k < s->host->nnodes; k++) {
		jw_obj(w, NULL, 1);
		jw_i64(w, "node", k);
		jw_u64(w, "nr_hugepages", p->node_total[k]);
		jw_u64(w, "free_hugepages", p->node_free[k]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static void write_host(struct jw *w, const struct mv_sim *s,
		       const struct mv_run_summary *r)
{
	const struct mv_host_config *h = &s->sc->host;
	jw_obj(w, "host", 0);
	jw_str(w, "name", h->name);
	if (h->preset[0])
		jw_str(w, "preset", h->preset);
	jw_u64(w, "mem_bytes", h->mem_bytes);
	jw_u64(w, "page_size_bytes", MV_PAGE_SIZE);
	jw_mem(w, "usable", r->usable_frames);
	jw_i64(w, "numa_nodes", h->nodes);
	write_nodes(w, s->host);
	write_hugetlb(w, s);
	jw_str(w, "swap_device", h->swap_device == MV_SWAP_HDD ? "hdd" : "ssd");
	/* the lines in use: the state model derives them from minFree
	 * unless it is ESX 4.1's (then they are <thresholds>) */
	jw_str(w, "memstate_model", mv_memstate_model_name(s->memstate.model));
	jw_obj(w, "thresholds_fraction", 1);
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		jw_double(w, memstate_key[k], s->memstate.line[k]);
	jw_obj_end(w);
	jw_double(w, "idle_tax", s->sc->reclaim.idle_tax);
	/* <idle-tax><change>: the tax set while the host runs */
	jw_arr(w, "idle_tax_changes", 1);
	for (int i = 0; i < s->sc->reclaim.ntax_changes; i++) {
		const struct mv_tax_change *t = &s->sc->reclaim.tax_change[i];
		jw_obj(w, NULL, 1);
		jw_u64(w, "at_ns", t->at_ns);
		jw_double(w, "rate", t->rate);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj(w, "latency_ns", 1);
	jw_u64(w, "zero_fill", h->lat.zero_fill);
	jw_u64(w, "cow", h->lat.cow);
	jw_u64(w, "decompress", h->lat.decompress);
	jw_u64(w, "swapin_ssd", h->lat.swapin_ssd);
	jw_u64(w, "swapin_hdd", h->lat.swapin_hdd);
	jw_u64(w, "guest_major", h->lat.guest_major);
	jw_u64(w, "remote_numa", h->lat.remote_numa);
	jw_obj_end(w);

	double usable = (double)r->usable_frames;
	jw_obj(w, "free", 0);
	jw_mem(w, "min", r->free_min);
	jw_double(w, "min_fraction", usable > 0 ? r->free_min / usable : 0);
	jw_double(w, "avg_pages", r->free_avg);
	jw_double(w, "avg_bytes", r->free_avg * MV_PAGE_SIZE);
	jw_double(w, "avg_fraction", usable > 0 ? r->free_avg / usable : 0);
	jw_mem(w, "final", r->free_final);
	jw_double(w, "final_fraction", usable > 0 ? r->free_final / usable : 0);
	jw_str(w, "final_state", memstate_str(r->final->memstate));
	jw_obj(w, "state_ns", 1);
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		jw_u64(w, memstate_key[k], s->state_ns[k]);
	jw_obj_end(w);
	jw_obj_end(w);

	const struct mv_reclaim_config *rc = &s->sc->reclaim;
	jw_obj(w, "reclaim", 0);
	jw_bool(w, "enabled", rc->enabled);
	jw_u64(w, "period_ns", rc->balance_ns);
	jw_bool(w, "on_state_change", rc->on_state_change);
	jw_bool(w, "compression", rc->compression);
	jw_double(w, "compression_cache_fraction", rc->zcache_fraction);
	jw_double(w, "balloon_max_fraction", rc->balloon_max);
	jw_str(w, "swap_dir", rc->swap_dir);
	jw_bool(w, "keep_swap", rc->keep_swap);
	jw_obj(w, "sharing", 1);
	jw_bool(w, "enabled", rc->share.enabled);
	jw_u64(w, "pages_to_scan", rc->share.pages_to_scan);
	jw_u64(w, "sleep_ns", rc->share.sleep_ns);
	if (rc->share.scan_time_ns)
		jw_u64(w, "scan_time_ns", rc->share.scan_time_ns);
	jw_bool(w, "use_zero_pages", rc->share.use_zero_pages);
	jw_bool(w, "merge_across_nodes", rc->share.merge_across_nodes);
	jw_bool(w, "hints", rc->share.hints);
	jw_u64(w, "page_cost_ns", rc->share.page_cost_ns);
	jw_u64(w, "salting", rc->share.salting);
	jw_obj_end(w);
	jw_obj_end(w);

	/* The scanner's counters at the end, and what they come to. */
	const struct mv_share_stats *st = &r->final->share;
	write_sharing(w, st, 0);
	jw_mem(w, "sharing_saved", mv_share_saved_pages(st));
	jw_double(w, "sharing_sim_cpu_fraction",
		  r->sim_ns ? (double)st->sim_cpu_ns / (double)r->sim_ns : 0);
	if (s->sc->reclaim.memtune_cgroup && s->sharer) {
		/* a KVM host: as /sys/kernel/mm/ksm counts them */
		struct mv_ksm_view k;
		mv_share_ksm_view(s->sharer, st, MV_KSM_MAX_PAGE_SHARING, &k);
		jw_obj(w, "ksm", 1);
		jw_u64(w, "max_page_sharing", k.max_page_sharing);
		jw_u64(w, "pages_shared", k.pages_shared);
		jw_u64(w, "pages_sharing", k.pages_sharing);
		jw_u64(w, "stable_node_chains", k.stable_node_chains);
		jw_u64(w, "stable_node_dups", k.stable_node_dups);
		jw_i64(w, "general_profit", k.general_profit);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void write_workload(struct jw *w, const struct mv_workload_config *wl)
{
	jw_obj(w, NULL, 1);
	jw_str(w, "name", wl->name);
	jw_str(w, "kind", mv_wl_kind_name(wl->kind));
	jw_str(w, "distribution",
	       wl->dist == MV_DIST_ZIPF ? "zipf" : "uniform");
	if (wl->dist == MV_DIST_ZIPF)
		jw_double(w, "zipf_s", wl->zipf_s);
	jw_u64(w, "size_bytes", wl->size_bytes);
	jw_double(w, "rate_per_s", wl->rate);
	jw_double(w, "write_ratio", wl->write_ratio);
	jw_str(w, "content", mv_content_name(wl->content));
	if (wl->content_name[0])
		jw_str(w, "content_name", wl->content_name);
	jw_double(w, "compressibility", wl->compressibility);
	jw_u64(w, "start_ns", wl->start_ns);
	if (wl->stop_ns)
		jw_u64(w, "stop_ns", wl->stop_ns);
	if (wl->cpu > 0)
		jw_double(w, "cpu", wl->cpu);
	if (wl->kind == MV_WL_PHASED) {
		jw_u64(w, "phase_ns", wl->phase_ns);
		jw_u64(w, "region_bytes", wl->region_bytes);
	}
	if (wl->kind == MV_WL_LEAK) {
		jw_double(w, "leak_bytes_per_s", wl->leak_bytes_per_s);
		jw_u64(w, "leak_max_bytes", wl->leak_max_bytes);
	}
	if (wl->kind == MV_WL_TRACE) {
		jw_str(w, "trace_file", wl->trace_file);
		jw_u64(w, "trace_records", wl->trace ? wl->trace->nrec : 0);
	}
	jw_obj_end(w);
}

/* The MMU model's configuration and counters at the end; null if none. */
static void write_mmu(struct jw *w, const struct mv_mmu *m)
{
	if (!m) {
		jw_key(w, "mmu");
		fputs("null", w->f);
		return;
	}
	const struct mv_mmu_config *c = mv_mmu_get_config(m);
	const struct mv_mmu_counters *k = mv_mmu_counters(m);
	jw_obj(w, "mmu", 0);
	jw_str(w, "mode", mv_mmu_mode_name(c->mode));
	jw_str(w, "guest_page", c->guest_2m ? "2m" : "4k");
	jw_str(w, "host_page", c->host_2m ? "2m" : "4k");
	jw_bool(w, "tagged", c->tagged);
	jw_u64(w, "accesses", k->accesses);
	jw_u64(w, "writes", k->writes);
	jw_u64(w, "l1_hits", k->l1_hits);
	jw_u64(w, "l1_misses", k->l1_misses);
	jw_u64(w, "l2_hits", k->l2_hits);
	jw_u64(w, "l2_misses", k->l2_misses);
	jw_u64(w, "walks", k->walks);
	jw_u64(w, "walk_refs", k->walk_refs);
	jw_u64(w, "walk_refs_nested", k->walk_refs_nested);
	jw_u64(w, "pwc_hits", k->pwc_hits);
	jw_u64(w, "npwc_hits", k->npwc_hits);
	jw_u64(w, "guest_faults", k->guest_faults);
	jw_u64(w, "pt_writes", k->pt_writes);
	jw_obj(w, "exits", 1);
	for (int e = 0; e < MV_EXIT_COUNT; e++)
		jw_u64(w, mv_exit_cause_name((enum mv_exit_cause)e),
		       k->exits[e]);
	jw_obj_end(w);
	jw_u64(w, "invalidations", k->invalidations);
	jw_u64(w, "tlb_flushes", k->tlb_flushes);
	jw_u64(w, "large_splits", k->large_splits);
	jw_mem(w, "guest_page_tables", k->guest_pt_pages);
	jw_mem(w, "ept_tables", k->ept_pages);
	jw_mem(w, "shadow_tables", k->shadow_pages);
	jw_mem(w, "shadow_tables_peak", k->shadow_pages_peak);
	jw_u64(w, "cycles_l2", k->cycles_l2);
	jw_u64(w, "cycles_walk", k->cycles_walk);
	jw_u64(w, "cycles_exit", k->cycles_exit);
	jw_u64(w, "cpu_mhz", c->cpu_mhz);
	jw_obj_end(w);
}

/* Live migration (src/cluster/move.c): a VM that arrived says from where
 * and when; one that left, where to and when (its figures from then on
 * are zeros: it is not here). Nothing for a VM that did neither. */
static void write_moved(struct jw *w, const struct mv_sim *s, int i)
{
	const struct mv_sim_moved *m = s->moved ? &s->moved[i] : NULL;
	if (m && m->arrived) {
		jw_str(w, "arrived_from", m->from);
		jw_u64(w, "arrived_ns", m->arrived_ns);
	}
	if (m && m->gone) {
		jw_str(w, "left_to", m->to);
		jw_u64(w, "left_ns", m->left_ns);
	}
}

static void write_vms(struct jw *w, const struct mv_sim *s,
		      const struct mv_run_summary *r)
{
	jw_arr(w, "vms", 0);
	for (int i = 0; i < s->nvms; i++) {
		struct mv_vm_view view;
		mv_sim_vm_view(s, i, &view);
		const struct mv_vm_config *c = view.cfg;
		const struct mv_guest_config *g = view.guest;
		static const struct mv_sample_vm none;
		const struct mv_sample_vm *v = r->final->vm ? &r->final->vm[i]
							    : &none;

		jw_obj(w, NULL, 0);
		jw_i64(w, "id", i);
		jw_str(w, "name", c->name);
		jw_obj(w, "config", 0);
		jw_mem(w, "configured", c->mem_bytes / MV_PAGE_SIZE);
		jw_u64(w, "current_bytes", c->current_bytes);
		jw_u64(w, "limit_bytes", c->limit_bytes);
		jw_u64(w, "reservation_bytes", c->reservation_bytes);
		jw_u64(w, "shares", c->shares);
		jw_bool(w, "balloon_driver", c->balloon_driver);
		jw_i64(w, "stats_period_s", c->stats_period_s);
		jw_bool(w, "sharing", c->sharing);
		if (c->pshare_salt[0])
			jw_str(w, "pshare_salt", c->pshare_salt);
		if (s->sc->reclaim.memtune_cgroup) {
			/* cgroup v2: memory.high, QEMU's own memory */
			jw_u64(w, "soft_limit_bytes", c->soft_limit_bytes);
			jw_u64(w, "qemu_overhead_bytes", g->vmm_bytes);
		}
		/* the OOM kill (null while it runs) where one can happen: a
		 * cgroup's memory.max, a strict nodeset */
		if (s->sc->reclaim.memtune_cgroup ||
		    (view.vm && mv_vm_numa_bound_nodes(view.vm))) {
			const struct mv_sim_oom *o = &s->oom[i];
			if (o->killed) {
				jw_u64(w, "oom_killed_ns", o->at_ns);
				jw_str(w, "oom_constraint",
				       mv_oom_constraint_name(
					       (enum mv_oom_constraint)
						       o->constraint));
			} else {
				jw_double(w, "oom_killed_ns", NAN);
				jw_double(w, "oom_constraint", NAN);
			}
		}
		jw_bool(w, "hugepages", c->hugepages);
		if (s->sc->host.hugepages_pool && c->hugepages) {
			/* null: started, its memory all from the pool */
			char msg[256];
			mv_sim_start_error(s, i, msg, sizeof msg);
			if (s->start[i].failed)
				jw_str(w, "start_error", msg);
			else
				jw_null(w, "start_error");
		}
		jw_i64(w, "home_node", view.home_node);
		jw_str(w, "source", c->source);
		jw_obj_end(w);
		write_moved(w, s, i);

		jw_obj(w, "guest_config", 0);
		jw_str(w, "flavour", mv_guest_flavour_name(g->flavour));
		jw_str(w, "os_image", g->os_image);
		jw_u64(w, "os_bytes", g->os_bytes);
		jw_double(w, "os_rate_per_s", g->os_rate);
		jw_u64(w, "swap_bytes", g->swap_bytes);
		jw_double(w, "zero_rate_pages_per_s", g->zero_rate);
		jw_arr(w, "workloads", 0);
		for (int k = 0; k < g->nworkloads && k < MV_MAX_WORKLOADS; k++)
			write_workload(w, &g->workload[k]);
		jw_arr_end(w);
		jw_obj_end(w);

		jw_obj(w, "final", 0);
		write_sample_vm(w, v);
		jw_obj_end(w);
		jw_double(w, "stall_fraction",
			  r->sim_ns ? (double)v->stall_ns / (double)r->sim_ns
				    : 0);
		jw_double(w, "progress_fraction",
			  v->demanded ? (double)v->done / (double)v->demanded
				      : 1);
		write_mmu(w, view.mmu);
		write_vm_numa(w, view.vm);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void write_series(struct jw *w, const struct mv_sim *s,
			 const struct mv_run_summary *r)
{
	double usable = (double)r->usable_frames;
	jw_arr(w, "series", 0);
	for (int k = 0; k < s->nsamples && s->samples; k++) {
		const struct mv_sample *sm = &s->samples[k];
		jw_obj(w, NULL, 0);
		jw_u64(w, "t_ns", sm->t_ns);
		jw_double(w, "t_s", (double)sm->t_ns / (double)MV_NS_PER_S);
		jw_mem(w, "host_free", sm->host_free);
		jw_double(w, "host_free_fraction",
			  usable > 0 ? sm->host_free / usable : 0);
		jw_str(w, "memstate", memstate_str(sm->memstate));
		write_sharing(w, &sm->share, 1);
		jw_arr(w, "vms", 0);
		for (int i = 0; i < sm->nvms && sm->vm; i++) {
			jw_obj(w, NULL, 1);
			write_sample_vm(w, &sm->vm[i]);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* One run's document, as an object at w's place (docs/json.md). */
static int write_run(struct jw *w, const struct mv_sim *s)
{
	struct mv_run_summary r;
	int rc = mv_run_summary_init(&r, s);
	if (rc)
		return rc;
	jw_obj(w, NULL, 0);
	jw_str(w, "schema", "memvisor-run/1");
	jw_str(w, "generator", "memvisor " MV_VERSION);
	write_scenario(w, s);
	write_host(w, s, &r);

	jw_obj(w, "run", 0);
	jw_u64(w, "simulated_ns", r.sim_ns);
	jw_u64(w, "steps", s->steps);
	jw_bool(w, "verify", s->verify);
	if (s->model == MV_MODEL_INTERVAL) { /* absent: exact */
		jw_str(w, "access_model", "interval");
		jw_i64(w, "interval_guests", s->interval_guests);
	}
	if (s->verify) {
		jw_u64(w, "verify_checks", s->verify_checks);
		jw_u64(w, "verify_pages", s->verify_pages);
	}
	jw_i64(w, "samples", s->nsamples);
	jw_i64(w, "vm_count", s->nvms);
	jw_u64(w, "configured_bytes", r.configured_bytes);
	jw_double(w, "overcommit_ratio", r.overcommit);
	jw_obj_end(w);
	jw_u64(w, "io_errors", s->io_errors);
	jw_u64(w, "swap_full", s->swap_full);
	jw_str(w, "last_io_error", s->last_io_error);
	/* Alone on their line: the two figures that differ between runs. */
	jw_double(w, "wall_s", s->wall_s);
	jw_u64_same_line(w, "sharing_cpu_ns", r.final->share.cpu_ns);

	write_vms(w, s, &r);
	if (s->nvms > 0 && r.final->vm) {
		jw_obj(w, "totals", 0);
		jw_mem(w, "configured", r.total_configured);
		write_sample_vm(w, &r.total);
		jw_obj_end(w);
	}
	write_series(w, s, &r);
	jw_obj_end(w);
	mv_run_summary_free(&r);
	return 0;
}

int mv_report_json(FILE *out, const struct mv_sim *s)
{
	struct jw w = {.f = out};
	int rc = write_run(&w, s);
	if (rc)
		return rc;
	fputc('\n', out);
	return ferror(out) ? MV_EIO : 0;
}

/* ---- a cluster run (docs/cluster.md) ----------------------------------- */

static void write_cluster_host(struct jw *w, const char *name,
			       const struct mv_cluster_host_figures *f)
{
	jw_obj(w, NULL, 0);
	jw_str(w, "name", name);
	jw_i64(w, "vm_count", f->nvms);
	jw_u64(w, "memory_bytes", f->mem_bytes);
	jw_u64(w, "configured_bytes", f->configured_bytes);
	jw_double(w, "overcommit_ratio", f->overcommit);
	jw_mem(w, "consumed", f->consumed);
	jw_mem(w, "shared_saved", f->shared_saved);
	jw_mem(w, "ballooned", f->ballooned);
	jw_mem(w, "swapped", f->swapped);
	jw_mem(w, "compressed", f->compressed);
	jw_u64(w, "stall_ns", f->stall_ns);
	jw_u64(w, "swap_in_pages", f->swap_in);
	jw_mem(w, "free_min", f->free_min);
	jw_obj(w, "memstate_ns", 1);
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		jw_u64(w, memstate_key[k], f->state_ns[k]);
	jw_obj_end(w);
	jw_obj_end(w);
}

/* A live migration as it ran: who started it, its state and the
 * migration's figures. */
static void write_cluster_migration(struct jw *w, const struct mv_cluster *c,
				    const struct mv_cluster_migration *g)
{
	jw_obj(w, NULL, 0);
	jw_str(w, "vm", g->vm);
	jw_str(w, "from", c->cs->host[g->from].name);
	jw_str(w, "to", c->cs->host[g->to].name);
	jw_str(w, "by", g->event >= 0 ? "migrate" : "drs");
	if (g->event < 0) {
		jw_i64(w, "priority", g->priority);
		jw_double(w, "imbalance_before", g->imbalance_before);
		jw_double(w, "imbalance_after", g->imbalance_after);
		jw_u64(w, "cost_ns", g->cost_ns);
		jw_u64(w, "benefit_ns", g->benefit_ns);
		jw_str(w, "decision", g->reason);
	}
	jw_u64(w, "start_ns", g->start_ns);
	jw_str(w, "state", mv_cluster_migration_state(g));
	if (g->why[0])
		jw_str(w, "reason", g->why);
	if (g->move) {
		const struct mv_migration *m = mv_sim_move_migration(g->move);
		jw_i64(w, "rounds", m->nrounds);
		jw_u64(w, "pages_sent", m->pages);
		jw_u64(w, "bytes_sent", m->bytes);
		jw_u64(w, "time_ns", m->now_ns);
		if (m->state == MV_MIG_DONE) {
			jw_u64(w, "downtime_ns", m->downtime_ns);
			jw_bool(w, "converged", m->converged);
		}
		jw_i64(w, "throttle_pct", m->throttle_pct);
		jw_arr(w, "round", 0);
		for (int r = 0; r < m->nrounds; r++) {
			const struct mv_migrate_round *x = &m->round[r];
			jw_obj(w, NULL, 1);
			jw_u64(w, "pages", x->pages);
			jw_u64(w, "zero", x->zero);
			jw_u64(w, "readback", x->readback);
			jw_u64(w, "swap_refs", x->swap_refs);
			jw_u64(w, "bytes", x->bytes);
			jw_u64(w, "start_ns", x->start_ns);
			jw_u64(w, "ns", x->ns);
			jw_i64(w, "throttle_pct", x->throttle_pct);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

/* "drs": the balancer's settings (level 0: none), its runs, and the
 * hosts in maintenance mode. */
static void write_cluster_drs(struct jw *w, const struct mv_cluster *c)
{
	const struct mv_cluster_scenario *cs = c->cs;
	jw_obj(w, "drs", 0);
	jw_i64(w, "level", cs->drs_level);
	if (cs->drs_level) {
		jw_u64(w, "interval_ns", cs->drs.interval_ns);
		jw_i64(w, "max_per_host", cs->drs.max_per_host);
		jw_double(w, "min_goodness_step", cs->drs.min_goodness_step);
		jw_bool(w, "cost_benefit", cs->drs.cost_benefit);
		jw_i64(w, "max_moves", cs->drs.max_moves);
	}
	jw_arr(w, "runs", 0);
	for (int k = 0; k < c->ndrs; k++) {
		const struct mv_cluster_drs_run *d = &c->drs[k];
		jw_obj(w, NULL, 1);
		jw_u64(w, "t_ns", d->t_ns);
		jw_i64(w, "level", d->level);
		jw_double(w, "imbalance", d->imbalance);
		if (!isinf(d->target))
			jw_double(w, "target", d->target);
		jw_double(w, "imbalance_after", d->imbalance_after);
		jw_i64(w, "priority", d->priority);
		jw_i64(w, "moves", d->moves);
		jw_i64(w, "queued", d->queued);
		jw_i64(w, "unplaced", d->unplaced);
		jw_u64(w, "dropped_goodness", d->dropped_goodness);
		jw_u64(w, "dropped_cost_benefit", d->dropped_cost_benefit);
		jw_u64(w, "dropped_admission", d->dropped_admission);
		jw_u64(w, "dropped_concurrency", d->dropped_concurrency);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_arr(w, "maintenance", 0);
	for (int h = 0; h < c->nhosts; h++) {
		const struct mv_cluster_maintenance *m = &c->maint[h];
		if (!m->on)
			continue;
		jw_obj(w, NULL, 1);
		jw_str(w, "host", cs->host[h].name);
		jw_u64(w, "at_ns", m->at_ns);
		jw_i64(w, "evacuated", m->evacuated);
		if (m->done_ns)
			jw_u64(w, "empty_ns", m->done_ns);
		else
			jw_i64(w, "held", m->held);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static void write_cluster(struct jw *w, const struct mv_cluster *c,
			  const struct mv_cluster_host_figures *f)
{
	const struct mv_cluster_scenario *cs = c->cs;
	jw_obj(w, "cluster", 0);
	jw_str(w, "name", cs->name);
	jw_str(w, "source", cs->source);
	jw_u64(w, "seed", cs->seed);
	jw_u64(w, "duration_ns", cs->duration_ns);
	jw_u64(w, "step_ns", cs->step_ns);
	jw_u64(w, "simulated_ns", c->now_ns);
	jw_u64(w, "steps", c->steps);
	jw_obj(w, "network", 1);
	jw_double(w, "bandwidth_bytes_per_s", cs->bandwidth);
	jw_u64(w, "latency_ns", cs->latency_ns);
	jw_obj_end(w);
	jw_obj(w, "migration", 1);
	jw_u64(w, "downtime_limit_ns", cs->migrate.downtime_limit_ns);
	jw_i64(w, "max_rounds", cs->migrate.max_rounds);
	jw_str(w, "on_limit",
	       cs->migrate.auto_converge ? "auto-converge" : "stop");
	jw_str(w, "swap_storage", cs->migrate.shared_swap ? "shared" : "local");
	jw_obj_end(w);
	write_cluster_drs(w, c);
	jw_arr(w, "placements", 0);
	for (int k = 0; k < cs->nplaced; k++) {
		const struct mv_cluster_placement *p = &cs->placed[k];
		jw_obj(w, NULL, 1);
		jw_str(w, "vm", p->vm);
		if (p->host >= 0)
			jw_str(w, "host", cs->host[p->host].name);
		jw_bool(w, "powered_on", p->host >= 0);
		jw_i64(w, "line", p->line);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_i64(w, "host_count", c->nhosts);
	jw_arr(w, "host_summary", 0);
	for (int h = 0; h < c->nhosts; h++)
		write_cluster_host(w, cs->host[h].name, &f[h]);
	jw_arr_end(w);
	jw_arr(w, "migrations", 0);
	for (int k = 0; k < c->nmig; k++)
		write_cluster_migration(w, c, &c->mig[k]);
	jw_arr_end(w);
	jw_double(w, "wall_s", c->wall_s);
	jw_obj_end(w);
}

int mv_report_json_cluster_host(FILE *out, const struct mv_sim *s, int index)
{
	/* inside {"hosts": [...]}: depth 2, index members before it */
	struct jw w = {.f = out, .depth = 2};
	w.count[2] = index;
	return write_run(&w, s);
}

int mv_report_cluster_json(FILE *out, const struct mv_cluster *c,
			   const struct mv_cluster_report *r)
{
	if (!r->part[MV_CPART_JSON])
		return MV_EINVAL;
	struct mv_cluster_host_figures *f = malloc(
		((size_t)c->nhosts + 1) * sizeof *f);
	if (!f)
		return MV_ENOMEM;
	for (int h = 0; h < c->nhosts; h++)
		f[h] = r->host[h].fig;
	struct jw w = {.f = out};
	jw_obj(&w, NULL, 0);
	jw_str(&w, "schema", "memvisor-cluster/1");
	jw_str(&w, "generator", "memvisor " MV_VERSION);
	write_cluster(&w, c, f);
	free(f);
	jw_arr(&w, "hosts", 0);
	/* each host's document as the rank that ran it wrote it there */
	fwrite(r->part[MV_CPART_JSON], 1, r->len[MV_CPART_JSON], out);
	w.count[w.depth] = c->nhosts;
	jw_arr_end(&w);
	jw_obj_end(&w);
	fputc('\n', out);
	return ferror(out) ? MV_EIO : 0;
}

/* ---- memvisor plan's sweep (docs/plan.md) ----------------------------- */

static const char *const saved_key[MV_SAVED_COUNT] = {
	"sharing",
	"balloon",
	"compression",
	"swap",
};

/* The worst VM of metric m: {"vm": NAME, "value": V}. */
static void write_worst(struct jw *w, const struct mv_plan_point *p,
			enum mv_slo_metric m, const char *key)
{
	jw_obj(w, key, 1);
	jw_str(w, "vm", p->worst_vm[m]);
	jw_double(w, "value", p->worst[m]);
	jw_obj_end(w);
}

int mv_report_plan_json(FILE *out, const struct mv_plan_info *in,
			const struct mv_plan_point *p, int n)
{
	struct jw w = {.f = out};
	jw_obj(&w, NULL, 0);
	jw_str(&w, "schema", "memvisor-plan/1");
	jw_str(&w, "generator", "memvisor " MV_VERSION);
	jw_str(&w, "scenario", in->scenario_name);
	jw_str(&w, "source", in->scenario_path);
	jw_u64(&w, "seed", in->seed);
	jw_str(&w, "by", in->by == MV_PLAN_BY_HOST ? "host" : "vms");
	jw_arr(&w, "slo", 1);
	for (int k = 0; k < in->slo->n; k++) {
		char b[48];
		mv_slo_format(&in->slo->slo[k], b, sizeof b);
		jw_str(&w, NULL, b);
	}
	jw_arr_end(&w);
	jw_double(&w, "sampler_tau_s", in->sampler_tau_s);
	jw_double(&w, "sharing_scan_s", in->share_period_s);
	jw_arr(&w, "points", 0);
	for (int i = 0; i < n; i++) {
		const struct mv_plan_point *q = &p[i];
		jw_obj(&w, NULL, 0);
		jw_double(&w, "ratio", q->ratio);
		jw_double(&w, "overcommit_ratio", q->overcommit);
		jw_u64(&w, "host_bytes", q->host_bytes);
		jw_u64(&w, "configured_bytes", q->configured_bytes);
		jw_i64(&w, "vm_count", q->nvms);
		jw_u64(&w, "simulated_ns", q->sim_ns);
		jw_obj(&w, "saved_mib", 1);
		for (int m = 0; m < MV_SAVED_COUNT; m++)
			jw_double(&w, saved_key[m], q->saved_mib[m]);
		jw_obj_end(&w);
		jw_obj(&w, "state_fraction", 1);
		for (int st = 0; st < MV_MEMSTATE_COUNT; st++)
			jw_double(&w, memstate_key[st], q->state_frac[st]);
		jw_obj_end(&w);
		jw_double(&w, "swap_in_pages_per_s", q->swapin_per_s);
		jw_double(&w, "guest_swap_in_pages_per_s",
			  q->guest_swapin_per_s);
		write_worst(&w, q, MV_SLO_STALL, "worst_stall_percent");
		write_worst(&w, q, MV_SLO_SWAPIN, "worst_swap_in_pages_per_s");
		write_worst(&w, q, MV_SLO_PROGRESS, "worst_progress_percent");
		int k = mv_plan_failed(q, in->slo);
		jw_bool(&w, "safe", k < 0);
		if (k >= 0) {
			char b[48];
			mv_slo_format(&in->slo->slo[k], b, sizeof b);
			jw_str(&w, "failed_slo", b);
			jw_str(&w, "failed_vm",
			       q->worst_vm[in->slo->slo[k].metric]);
		}
		if (q->growing_vm[0]) {
			jw_str(&w, "growing_vm", q->growing_vm);
			jw_double(&w, "growing_mib_per_s", q->growing_mib_s);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	int safe = mv_plan_highest_safe(p, n, in->slo);
	enum mv_slo_metric kb = MV_SLO_SWAPIN;
	int knee = mv_plan_knee(p, n, &kb);
	/* null: none */
	jw_double(&w, "highest_safe_ratio", safe >= 0 ? p[safe].ratio : NAN);
	jw_double(&w, "knee_ratio", knee >= 0 ? p[knee].ratio : NAN);
	jw_str(&w, "knee_metric", knee >= 0 ? mv_slo_metric_name(kb) : "");
	jw_obj_end(&w);
	fputc('\n', out);
	return ferror(out) ? MV_EIO : 0;
}
