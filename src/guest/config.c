/*
 * config.c - guest and workload configuration: defaults, validation and
 * the names users write for flavours, workload kinds and content classes.
 *
 * The defaults describe a small general-purpose Linux guest: a 256 MiB OS
 * image (kernel, libraries, daemons: what `free` shows as used plus cache
 * on an idle server) touched 2000 times a second, 1 GiB of guest swap, and
 * for Windows a zero page thread clearing 100 MiB/s (25600 pages/s). A
 * workload by default is a steady, uniformly accessed working set of
 * private data, 20% writes, half compressible, 10000 page accesses a second.
 * The scenario loader (src/sim/scenario.c) starts from these and overrides
 * what the user wrote; docs/scenario.md lists them for users.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "memvisor/guest.h"

static const char *const flavour_names[] = {"linux", "windows"};
static const char *const kind_names[MV_WL_COUNT] = {"steady", "idle",  "phased",
						    "leak",   "trace", "usage"};
static const char *const content_names[MV_CONTENT_COUNT] = {"zero", "os", "app",
							    "data", "random"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Index of s in names[0..n) ignoring case, or -1. */
static int lookup(const char *s, const char *const *names, int n)
{
	if (!s)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *mv_guest_flavour_name(enum mv_guest_flavour f)
{
	return (unsigned)f < NELEM(flavour_names) ? flavour_names[f] : "?";
}

/* "linux" or "windows" (any case); MV_EINVAL otherwise. */
int mv_guest_flavour_parse(const char *s, enum mv_guest_flavour *out)
{
	int i = lookup(s, flavour_names, (int)NELEM(flavour_names));
	if (i < 0)
		return MV_EINVAL;
	*out = (enum mv_guest_flavour)i;
	return 0;
}

const char *mv_wl_kind_name(enum mv_wl_kind k)
{
	return (unsigned)k < MV_WL_COUNT ? kind_names[k] : "?";
}

/* "steady", "idle", "phased", "leak", "trace" or "usage" (any case);
 * MV_EINVAL otherwise. */
int mv_wl_kind_parse(const char *s, enum mv_wl_kind *out)
{
	int i = lookup(s, kind_names, MV_WL_COUNT);
	if (i < 0)
		return MV_EINVAL;
	*out = (enum mv_wl_kind)i;
	return 0;
}

const char *mv_content_name(enum mv_content c)
{
	return (unsigned)c < MV_CONTENT_COUNT ? content_names[c] : "?";
}

/* "zero", "os", "app", "data" or "random" (any case); MV_EINVAL otherwise. */
int mv_content_parse(const char *s, enum mv_content *out)
{
	int i = lookup(s, content_names, MV_CONTENT_COUNT);
	if (i < 0)
		return MV_EINVAL;
	*out = (enum mv_content)i;
	return 0;
}

/* A Linux guest with a 256 MiB image, 1 GiB swap and no workloads. */
void mv_guest_config_default(struct mv_guest_config *g)
{
	memset(g, 0, sizeof *g);
	g->flavour = MV_GUEST_LINUX;
	strcpy(g->os_image, "linux-generic");
	g->os_bytes = 256 * MV_MIB;
	g->os_rate = 2000;
	g->boot_structures = 0;
	g->swap_bytes = MV_GIB;
	g->zero_rate = 25600;    /* 100 MiB/s of 4 KiB pages */
	g->balloon_rate = 16384; /* 64 MiB/s */
	/* 8 MiB/s: vmw_balloon.c's VMW_BALLOON_RATE_ALLOC_MAX (guest/guest.h)
	 */
	g->balloon_reclaim_rate = 2048;
	g->nworkloads = 0;
}

/*
 * A steady uniform workload of private data; size_bytes stays 0 (the user
 * must give it). Idle workloads default to 10 accesses/s instead of 10000:
 * the loader applies that when it knows the kind.
 */
int mv_access_trace_find(const struct mv_access_trace *t, uint64_t page,
			 uint64_t *index)
{
	uint64_t lo = 0, hi = t->npages;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (t->page[mid] <= page)
			lo = mid;
		else
			hi = mid;
	}
	*index = lo;
	return t->npages && t->page[lo] == page ? 0 : -1;
}

void mv_workload_config_default(struct mv_workload_config *w)
{
	memset(w, 0, sizeof *w);
	w->kind = MV_WL_STEADY;
	w->dist = MV_DIST_UNIFORM;
	w->zipf_s = 0.99;
	w->size_bytes = 0;
	w->rate = 10000;
	w->write_ratio = 0.2;
	w->sampled = 1;
	w->content = MV_CONTENT_DATA;
	w->compressibility = 0.5;
	w->start_ns = 0;
	w->phase_ns = 60 * MV_NS_PER_S;
	w->region_bytes = 0;
	w->leak_bytes_per_s = 0;
	w->leak_max_bytes = 0;
	w->usage_speedup = 1;
}

static int wl_err(const struct mv_workload_config *w, struct mv_error *err,
		  const char *field, const char *msg)
{
	return mv_error_set(err, MV_EINVAL, w->source, w->source_line, field,
			    "%s", msg);
}

/*
 * Validate w for a VM of vm_bytes: a name; known kind, distribution and
 * content; size > 0, page-aligned and <= the VM; rate, leak >= 0; write
 * ratio and compressibility in 0..1; zipf-s > 0; an application name for
 * content "app"; a phase > 0 for phased workloads; stop (if given) after
 * start; region (if given) and leak-max page-aligned, region >= size (both
 * may exceed the VM: they are virtual address space). Returns 0 or
 * MV_EINVAL with err at w->source:w->source_line, field "workload/<attr>".
 */
int mv_workload_config_check(const struct mv_workload_config *w,
			     uint64_t vm_bytes, struct mv_error *err)
{
	char b[32];
	if (w->name[0] == '\0')
		return wl_err(w, err, "workload/name", "must not be empty");
	if ((unsigned)w->kind >= MV_WL_COUNT)
		return wl_err(w, err, "workload/kind", "unknown kind");
	if (w->dist != MV_DIST_UNIFORM && w->dist != MV_DIST_ZIPF)
		return wl_err(w, err, "workload/dist", "unknown distribution");
	if ((unsigned)w->content >= MV_CONTENT_COUNT)
		return wl_err(w, err, "workload/content", "unknown content");
	if (!(w->zipf_s > 0) || !isfinite(w->zipf_s))
		return wl_err(w, err, "workload/zipf-s",
			      "must be greater than 0");
	if (w->size_bytes == 0)
		return wl_err(w, err, "workload/size",
			      "must be greater than 0");
	if (w->size_bytes % MV_PAGE_SIZE)
		return wl_err(w, err, "workload/size",
			      "must be a multiple of 4 KiB");
	if (w->size_bytes > vm_bytes)
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    "workload/size",
				    "exceeds the VM's memory (%s)",
				    mv_format_bytes(vm_bytes, b, sizeof b));
	if (!(w->rate >= 0) || !isfinite(w->rate))
		return wl_err(w, err, "workload/rate",
			      "must be a non-negative number");
	if (!(w->write_ratio >= 0 && w->write_ratio <= 1))
		return wl_err(w, err, "workload/write-ratio",
			      "must be between 0 and 1");
	if (!(w->compressibility >= 0 && w->compressibility <= 1))
		return wl_err(w, err, "workload/compressibility",
			      "must be between 0 and 1");
	if (w->content == MV_CONTENT_APP && w->content_name[0] == '\0')
		return wl_err(w, err, "workload/app",
			      "is required with content=\"app\"");
	if (w->kind == MV_WL_TRACE && (!w->trace || !w->trace->nrec))
		return wl_err(w, err, "workload/trace",
			      "a trace workload needs a trace with accesses");
	if (w->kind == MV_WL_USAGE && (!w->usage || !w->usage->nrows))
		return wl_err(w, err, "workload/file",
			      "a usage workload needs a usage trace with rows");
	if (!(w->usage_speedup > 0) || !isfinite(w->usage_speedup))
		return wl_err(w, err, "workload/speedup",
			      "must be greater than 0");
	if (w->kind == MV_WL_PHASED && w->phase_ns == 0)
		return wl_err(w, err, "workload/phase",
			      "must be greater than 0");
	if (w->stop_ns && w->stop_ns <= w->start_ns)
		return wl_err(w, err, "workload/stop", "must be after start");
	/* region and leak-max are virtual: they may exceed the VM, the
	 * guest then pages (the default phased region, 4x size, does). */
	if (w->region_bytes) {
		if (w->region_bytes % MV_PAGE_SIZE)
			return wl_err(w, err, "workload/region",
				      "must be a multiple of 4 KiB");
		if (w->region_bytes < w->size_bytes)
			return wl_err(w, err, "workload/region",
				      "must not be smaller than size");
	}
	if (!(w->leak_bytes_per_s >= 0) || !isfinite(w->leak_bytes_per_s))
		return wl_err(w, err, "workload/leak",
			      "must be a non-negative number");
	if (w->leak_max_bytes % MV_PAGE_SIZE)
		return wl_err(w, err, "workload/leak-max",
			      "must be a multiple of 4 KiB");
	return 0;
}
