/*
 * workloads.c - <workload> elements: in a scenario's <vm> and in a
 * domain's memvisor metadata (<mv:workload>), read the same way, and the
 * address traces of trace workloads and the usage traces of usage
 * workloads (docs/usage.md), each loaded once per file per scenario.
 *
 * Reading is in two steps: mv_workload_elem_add reads the element on its
 * own (docs/scenario.md, "Workloads"); mv_workloads_finish, once the VM is
 * known, names the unnamed ones, loads traces and checks each workload
 * against the VM's memory and the scenario's duration
 * (mv_workload_config_check).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "memvisor/image.h"
#include "sim/loader.h"

/* The typed attributes of <workload>; the others are read in code. */
#define WL(name, kind, member)                                                 \
	MV_XPROP(name, kind, struct mv_workload_config, member)
static const struct mv_xprop workload_props[] = {
	WL("name", MV_XP_NAME, name),
	WL("zipf-s", MV_XP_POSITIVE, zipf_s),
	WL("size", MV_XP_SIZE, size_bytes),
	WL("rate", MV_XP_RATE, rate),
	WL("write-ratio", MV_XP_FRACTION, write_ratio),
	WL("compressibility", MV_XP_FRACTION, compressibility),
	WL("start", MV_XP_DURATION, start_ns),
	WL("stop", MV_XP_DURATION, stop_ns),
	WL("phase", MV_XP_DURATION, phase_ns),
	WL("region", MV_XP_SIZE, region_bytes),
	WL("leak-max", MV_XP_SIZE, leak_max_bytes),
	WL("start-row", MV_XP_U64, usage_start_row),
	WL("speedup", MV_XP_POSITIVE, usage_speedup),
	WL("sampled", MV_XP_BOOL, sampled),
	WL("cpu", MV_XP_FRACTION, cpu),
	{0},
};
#undef WL
static const char *const workload_other[] = {"kind", "dist",   "content",
					     "app",  "leak",   "trace",
					     "file", "format", NULL};

/* The attributes only kind="usage" reads. */
static const char *const usage_only[] = {"file", "format", "start-row",
					 "speedup"};
#define NUSAGE_ONLY (sizeof usage_only / sizeof *usage_only)

/* kind="usage": the usage trace and its format; the set follows it. */
static int parse_usage_attrs(const struct mv_xsrc *s, const xmlNode *n,
			     struct mv_workload_config *w)
{
	const char *v = mv_xml_attr(n, "file");
	if (!v)
		return mv_xml_fail(s, n, "workload/file",
				   "is required with kind=\"usage\" (a per-VM "
				   "usage trace: docs/usage.md)");
	if (strlen(v) >= sizeof w->trace_file)
		return mv_xml_fail(s, n, "workload/file", "path is too long");
	snprintf(w->trace_file, sizeof w->trace_file, "%s", v);
	if (!(v = mv_xml_attr(n, "format")))
		return mv_xml_fail(s, n, "workload/format",
				   "is required with kind=\"usage\" "
				   "(bitbrains, google)");
	if (mv_usage_format_parse(v, &w->usage_format) != 0)
		return mv_xml_fail(s, n, "workload/format",
				   "unknown usage trace format '%s' "
				   "(bitbrains, google)",
				   v);
	/* the set is what the trace says, accessed uniformly */
	static const char *const unused[] = {"dist", "zipf-s"};
	for (size_t k = 0; k < sizeof unused / sizeof *unused; k++)
		if (mv_xml_attr(n, unused[k])) {
			char f[32];
			snprintf(f, sizeof f, "workload/%s", unused[k]);
			return mv_xml_fail(s, n, f,
					   "is not used with kind=\"usage\": "
					   "the set follows the trace and is "
					   "accessed uniformly");
		}
	return 0;
}

/* kind="trace": the trace file, and no attribute the trace decides. */
static int parse_trace_attrs(const struct mv_xsrc *s, const xmlNode *n,
			     struct mv_workload_config *w)
{
	/* the size is what the trace touches (mv_workloads_finish) */
	const char *v = mv_xml_attr(n, "trace");
	if (!v)
		return mv_xml_fail(s, n, "workload/trace",
				   "is required with kind=\"trace\" (an "
				   "address trace: valgrind lackey output "
				   "or memvisor's binary format)");
	if (mv_xml_attr(n, "size"))
		return mv_xml_fail(s, n, "workload/size",
				   "a trace workload's size is the pages its "
				   "trace touches");
	if (strlen(v) >= sizeof w->trace_file)
		return mv_xml_fail(s, n, "workload/trace", "path is too long");
	/* the trace says which page and whether it is written */
	static const char *const unused[] = {"dist", "zipf-s", "write-ratio"};
	for (size_t k = 0; k < sizeof unused / sizeof *unused; k++)
		if (mv_xml_attr(n, unused[k])) {
			char f[32];
			snprintf(f, sizeof f, "workload/%s", unused[k]);
			return mv_xml_fail(s, n, f,
					   "is not used with kind=\"trace\": "
					   "the trace says which pages are "
					   "read and written");
		}
	snprintf(w->trace_file, sizeof w->trace_file, "%s", v);
	return 0;
}

/* leak="1MiB" or "1MiB/s": bytes per second. */
static int parse_leak(const struct mv_xsrc *s, const xmlNode *n, const char *v,
		      struct mv_workload_config *w)
{
	char b[64];
	size_t len = strlen(v);
	if (len >= sizeof b)
		return mv_xml_fail(s, n, "workload/leak", "value is too long");
	memcpy(b, v, len + 1);
	while (len && b[len - 1] == ' ')
		b[--len] = '\0';
	if (len >= 2 && strcmp(b + len - 2, "/s") == 0)
		b[len - 2] = '\0';
	uint64_t bytes;
	if (mv_parse_size(b, NULL, 1, &bytes) != 0)
		return mv_xml_fail(s, n, "workload/leak",
				   "'%s' is not a size per second (e.g. 1MiB)",
				   v);
	w->leak_bytes_per_s = (double)bytes;
	return 0;
}

/*
 * <content profile="FILE"/>, the only child a workload may have (in the
 * workload's own namespace: <mv:content> in <mv:workload>): the mix of a
 * real image (image.h, content profiles) in place of content=. Loaded in
 * mv_workloads_finish.
 */
static int parse_content_elem(const struct mv_xsrc *s, const xmlNode *n,
			      struct mv_workload_config *w)
{
	static const char *const attrs[] = {"profile", NULL};
	static const char *const instead[] = {"content", "app",
					      "compressibility"};
	const xmlNode *seen = NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		char a[128], b[128];
		if (c->ns != n->ns || strcmp((const char *)c->name, "content"))
			return mv_xml_fail(s, c, "workload",
					   "unexpected element %s in %s",
					   mv_xml_label(c, a, sizeof a),
					   mv_xml_label(n, b, sizeof b));
		if (seen)
			return mv_xml_fail_duplicate(s, c, seen,
						     "workload/content");
		seen = c;
		int rc = mv_xml_check_leaf(s, c, "workload/content", attrs);
		if (rc)
			return rc;
		const char *v = mv_xml_attr(c, "profile");
		if (!v || !*v)
			return mv_xml_fail(s, c, "workload/content/profile",
					   "is required (a profile written "
					   "by memvisor analyze --profile)");
		if (strlen(v) >= sizeof w->profile_file)
			return mv_xml_fail(s, c, "workload/content/profile",
					   "path is too long");
		for (size_t k = 0; k < sizeof instead / sizeof *instead; k++)
			if (mv_xml_attr(n, instead[k])) {
				char f[32];
				snprintf(f, sizeof f, "workload/%s",
					 instead[k]);
				return mv_xml_fail(s, n, f,
						   "is not used with a "
						   "<content profile>: the "
						   "profile says what the "
						   "pages hold");
			}
		snprintf(w->profile_file, sizeof w->profile_file, "%s", v);
	}
	return 0;
}

/*
 * Read one workload element into w (defaults for what is absent). Checks
 * that need the VM (size against its memory) come later in
 * mv_workloads_finish.
 */
static int parse_workload(const struct mv_xsrc *s, const xmlNode *n,
			  struct mv_workload_config *w)
{
	int rc = mv_xml_check_props(s, n, "workload", workload_props,
				    workload_other, 0);
	if (rc)
		return rc;
	mv_workload_config_default(w);
	snprintf(w->source, sizeof w->source, "%s", s->file);
	w->source_line = mv_xml_line(n);
	if ((rc = parse_content_elem(s, n, w)))
		return rc;

	const char *v;
	if ((v = mv_xml_attr(n, "kind")) && mv_wl_kind_parse(v, &w->kind) != 0)
		return mv_xml_fail(s, n, "workload/kind",
				   "unknown kind '%s' (steady, idle, phased, "
				   "leak, trace, usage)",
				   v);
	for (size_t k = 0; w->kind != MV_WL_USAGE && k < NUSAGE_ONLY; k++)
		if (mv_xml_attr(n, usage_only[k])) {
			char f[32];
			snprintf(f, sizeof f, "workload/%s", usage_only[k]);
			return mv_xml_fail(s, n, f,
					   "is only used with kind=\"usage\"");
		}
	if (w->kind == MV_WL_USAGE && (rc = parse_usage_attrs(s, n, w)))
		return rc;
	if (w->kind == MV_WL_TRACE) {
		if ((rc = parse_trace_attrs(s, n, w)))
			return rc;
	} else if (mv_xml_attr(n, "trace")) {
		return mv_xml_fail(s, n, "workload/trace",
				   "is only used with kind=\"trace\"");
	} else if (!mv_xml_attr(n, "size") && !w->profile_file[0]) {
		return mv_xml_fail(s, n, "workload/size", "is required");
	}
	if ((v = mv_xml_attr(n, "dist"))) {
		if (strcmp(v, "uniform") == 0)
			w->dist = MV_DIST_UNIFORM;
		else if (strcmp(v, "zipf") == 0)
			w->dist = MV_DIST_ZIPF;
		else
			return mv_xml_fail(s, n, "workload/dist",
					   "unknown distribution '%s' "
					   "(uniform, zipf)",
					   v);
	}
	if (w->kind == MV_WL_IDLE)
		w->rate = 10; /* unless rate= says otherwise */
	if ((v = mv_xml_attr(n, "content")) &&
	    mv_content_parse(v, &w->content) != 0)
		return mv_xml_fail(s, n, "workload/content",
				   "unknown content '%s' "
				   "(zero, os, app, data, random)",
				   v);
	if ((v = mv_xml_attr(n, "app"))) {
		if (w->content != MV_CONTENT_APP)
			return mv_xml_fail(s, n, "workload/app",
					   "is only used with content=\"app\"");
		if ((rc = mv_xml_name(s, n, "workload/app", v, w->content_name,
				      sizeof w->content_name)))
			return rc;
	}
	if ((v = mv_xml_attr(n, "leak")) && (rc = parse_leak(s, n, v, w)))
		return rc;
	return mv_xml_props(s, n, "workload", workload_props, w);
}

/* Append the workload element n to g (loader.h). */
int mv_workload_elem_add(const struct mv_xsrc *s, const xmlNode *n,
			 struct mv_guest_config *g)
{
	if (g->nworkloads >= MV_MAX_WORKLOADS)
		return mv_xml_fail(s, n, "workload",
				   "a VM has at most %d workloads",
				   MV_MAX_WORKLOADS);
	int rc = parse_workload(s, n, &g->workload[g->nworkloads]);
	if (rc)
		return rc;
	g->nworkloads++;
	return 0;
}

/*
 * The file a workload names (field: "workload/trace", ...), relative to
 * base_dir, into path: a readable regular file, with its stat in *st for
 * loading each file once however the scenario spells its path. what says
 * which workloads need a scenario ("trace workloads").
 */
static int named_file(const char *base_dir, const char *name,
		      const struct mv_workload_config *w, const char *field,
		      const char *what, char *path, size_t n, struct stat *st,
		      struct mv_error *err)
{
	if (!base_dir)
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    field, "%s are read with a scenario", what);
	if (mv_path_join(base_dir, name, path, n) != 0)
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    field, "path is too long");
	if (stat(path, st) != 0 || access(path, R_OK) != 0) {
		int e = errno;
		return mv_error_set(
			err, e == ENOENT || e == ENOTDIR ? MV_ENOENT : MV_EIO,
			w->source, w->source_line, field,
			"cannot open '%s': %s", path, strerror(e));
	}
	if (!S_ISREG(st->st_mode))
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    field, "'%s' is not a regular file", path);
	return 0;
}

/*
 * The trace of trace workload w, loaded once per file for the scenario
 * (relative to base_dir; NULL: no scenario to hold it, an error). Its
 * size becomes the pages the trace touches.
 */
static int load_trace(struct mv_scenario *sc, const char *base_dir,
		      struct mv_workload_config *w, struct mv_error *err)
{
	char path[1024];
	struct stat st;
	int rc = named_file(base_dir, w->trace_file, w, "workload/trace",
			    "trace workloads", path, sizeof path, &st, err);
	if (rc)
		return rc;
	/* one copy per file, however the scenario spells its path */
	const struct mv_access_trace *t = NULL;
	for (int i = 0; i < sc->ntraces && !t; i++)
		if (sc->traces[i]->dev == (uint64_t)st.st_dev &&
		    sc->traces[i]->ino == (uint64_t)st.st_ino)
			t = sc->traces[i];
	if (!t) {
		struct mv_access_trace **a = realloc(
			sc->traces, (size_t)(sc->ntraces + 1) * sizeof *a);
		if (!a)
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		sc->traces = a;
		struct mv_access_trace *nt;
		rc = mv_access_trace_load(path, &nt, err);
		if (rc)
			return rc; /* names the trace's own file and line */
		nt->dev = (uint64_t)st.st_dev;
		nt->ino = (uint64_t)st.st_ino;
		sc->traces[sc->ntraces++] = nt;
		t = nt;
	}
	w->trace = t;
	w->size_bytes = t->npages * MV_PAGE_SIZE;
	return 0;
}

/*
 * The profile of workload w, loaded once per file for the scenario
 * (relative to base_dir). Without a size, the workload is the image's.
 */
static int load_profile(struct mv_scenario *sc, const char *base_dir,
			struct mv_workload_config *w, struct mv_error *err)
{
	char path[1024];
	struct stat st;
	int rc = named_file(base_dir, w->profile_file, w,
			    "workload/content/profile", "profiles", path,
			    sizeof path, &st, err);
	if (rc)
		return rc;
	const struct mv_profile *p = NULL;
	for (int i = 0; i < sc->nprofiles && !p; i++)
		if (sc->profiles[i]->dev == (uint64_t)st.st_dev &&
		    sc->profiles[i]->ino == (uint64_t)st.st_ino)
			p = sc->profiles[i];
	if (!p) {
		struct mv_profile **a = realloc(
			sc->profiles, (size_t)(sc->nprofiles + 1) * sizeof *a);
		if (!a)
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		sc->profiles = a;
		struct mv_profile *np;
		rc = mv_profile_load(path, &np, err);
		if (rc)
			return rc; /* names the profile's file and field */
		sc->profiles[sc->nprofiles++] = np;
		p = np;
	}
	w->profile = p;
	if (!w->size_bytes)
		w->size_bytes = p->pages * MV_PAGE_SIZE;
	return 0;
}

/*
 * The usage trace of usage workload w, loaded once per file and format
 * for the scenario (relative to base_dir; NULL: no scenario to hold it).
 */
static int load_usage(struct mv_scenario *sc, const char *base_dir,
		      struct mv_workload_config *w, struct mv_error *err)
{
	char path[1024];
	struct stat st;
	int rc = named_file(base_dir, w->trace_file, w, "workload/file",
			    "usage workloads", path, sizeof path, &st, err);
	if (rc)
		return rc;
	const struct mv_usage_trace *u = NULL;
	for (int i = 0; i < sc->nusage && !u; i++)
		if (sc->usage[i]->dev == (uint64_t)st.st_dev &&
		    sc->usage[i]->ino == (uint64_t)st.st_ino &&
		    sc->usage[i]->format == w->usage_format)
			u = sc->usage[i];
	if (!u) {
		struct mv_usage_trace **a = realloc(
			sc->usage, (size_t)(sc->nusage + 1) * sizeof *a);
		if (!a)
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
		sc->usage = a;
		struct mv_usage_trace *nu;
		rc = mv_usage_trace_load(path, w->usage_format, &nu, err);
		if (rc)
			return rc; /* names the trace's own file and line */
		nu->dev = (uint64_t)st.st_dev;
		nu->ino = (uint64_t)st.st_ino;
		sc->usage[sc->nusage++] = nu;
		u = nu;
	}
	w->usage = u;
	return 0;
}

/*
 * A usage workload's trace must cover the time it runs: from start-row,
 * (end - start) * speedup of trace time, end being its stop or the
 * scenario's end. No silent holding of the last row.
 */
static int usage_covers(const struct mv_scenario *sc,
			const struct mv_workload_config *w,
			struct mv_error *err)
{
	const struct mv_usage_trace *u = w->usage;
	if (w->usage_start_row >= u->nrows)
		return mv_error_set(err, MV_EINVAL, w->source, w->source_line,
				    "workload/start-row",
				    "is %llu, but '%s' has %llu rows (0 is "
				    "the first)",
				    (unsigned long long)w->usage_start_row,
				    u->path, (unsigned long long)u->nrows);
	uint64_t end = w->stop_ns && w->stop_ns < sc->duration_ns
			       ? w->stop_ns
			       : sc->duration_ns;
	if (end <= w->start_ns)
		return 0; /* refused below: starts after the end */
	double need = (double)(end - w->start_ns) * w->usage_speedup;
	double have = (double)(u->t_ns[u->nrows - 1] -
			       u->t_ns[w->usage_start_row]);
	if (need <= have)
		return 0;
	char a[32], b[32], c[32];
	return mv_error_set(
		err, MV_EINVAL, w->source, w->source_line, "workload/file",
		"'%s' covers %s from row %llu, but the workload runs %s at "
		"speedup %g (%s of the trace)",
		u->path, mv_xml_duration_str((uint64_t)have, a, sizeof a),
		(unsigned long long)w->usage_start_row,
		mv_xml_duration_str(end - w->start_ns, b, sizeof b),
		w->usage_speedup,
		mv_xml_duration_str((uint64_t)need, c, sizeof c));
}

/*
 * A trace workload's pages, and with an MMU model the page tables its
 * addresses need (sparse programs need many), must fit in the VM.
 */
static int trace_fits(const struct mv_vm_spec *spec,
		      const struct mv_workload_config *w, struct mv_error *err)
{
	const struct mv_access_trace *t = w->trace;
	uint64_t tables = spec->guest.mmu ? t->table_pages : 0;
	if ((t->npages + tables) * MV_PAGE_SIZE <= spec->vm.mem_bytes)
		return 0;
	char a[32], b[32];
	return mv_error_set(
		err, MV_EINVAL, w->source, w->source_line, "workload/trace",
		"the trace touches %llu pages%s%llu page-table pages: %s, "
		"more than the VM's memory (%s)",
		(unsigned long long)t->npages,
		tables ? " and its addresses need " : "",
		(unsigned long long)tables,
		mv_format_bytes((t->npages + tables) * MV_PAGE_SIZE, a,
				sizeof a),
		mv_format_bytes(spec->vm.mem_bytes, b, sizeof b));
}

/*
 * Name the unnamed workloads "workload-N" (N: position in the VM's list),
 * load the traces of trace workloads, refuse duplicate names, and check
 * each against the VM and the scenario.
 */
int mv_workloads_finish(struct mv_scenario *sc, const char *base_dir,
			struct mv_vm_spec *spec, struct mv_error *err)
{
	struct mv_guest_config *g = &spec->guest;
	for (int i = 0; i < g->nworkloads; i++) {
		struct mv_workload_config *w = &g->workload[i];
		int rc = w->kind == MV_WL_TRACE && !w->trace
				 ? load_trace(sc, base_dir, w, err)
				 : 0;
		if (!rc && w->trace)
			rc = trace_fits(spec, w, err);
		if (!rc && w->profile_file[0] && !w->profile)
			rc = load_profile(sc, base_dir, w, err);
		if (!rc && w->kind == MV_WL_USAGE && !w->usage)
			rc = load_usage(sc, base_dir, w, err);
		if (!rc && w->usage)
			rc = usage_covers(sc, w, err);
		if (rc)
			return rc;
	}
	for (int i = 0; i < g->nworkloads; i++) {
		struct mv_workload_config *w = &g->workload[i];
		if (!w->name[0])
			snprintf(w->name, sizeof w->name, "workload-%d", i + 1);
	}
	for (int i = 0; i < g->nworkloads; i++) {
		struct mv_workload_config *w = &g->workload[i];
		for (int j = 0; j < i; j++)
			if (strcmp(g->workload[j].name, w->name) == 0)
				return mv_error_set(
					err, MV_EINVAL, w->source,
					w->source_line, "workload/name",
					"duplicate workload name '%s' in VM "
					"'%s' (first at %s:%d)",
					w->name, spec->vm.name,
					g->workload[j].source,
					g->workload[j].source_line);
		int rc = mv_workload_config_check(w, spec->vm.mem_bytes, err);
		if (rc)
			return rc;
		if (w->start_ns >= sc->duration_ns) {
			char a[32], b[32];
			return mv_error_set(
				err, MV_EINVAL, w->source, w->source_line,
				"workload/start",
				"starts at %s, after the scenario ends (%s)",
				mv_xml_duration_str(w->start_ns, a, sizeof a),
				mv_xml_duration_str(sc->duration_ns, b,
						    sizeof b));
		}
	}
	return 0;
}
