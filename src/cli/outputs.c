/*
 * outputs.c - every file `memvisor run` will write, checked before the
 * run: each can be written, none is a file the run reads, and no two are
 * one file.
 *
 * The outputs are the -o file and each file of the --csv and --svg sets
 * (host.EXT and vm-NAME.EXT: their names follow from the scenario's VM
 * names, mv_report_view_names); `memvisor plan`'s are files of their own
 * (-o, --json, --svg: mv_cli_check_files). The inputs are the scenario, the
 * domain files its <vm file=> name and the traces of its trace workloads.
 *
 * Two paths are one file when both exist and have the same st_dev and
 * st_ino (hard links, symbolic links, "./a" and "a"), or, for what does
 * not exist yet, when their canonical paths are equal: realpath(3) of the
 * longest part that exists, the rest appended. Symbolic links in an output
 * path are followed first, as the writer follows them (report/outset.c).
 * A character device (/dev/null) may take several outputs: it is written
 * in place, nothing is replaced.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "memvisor/cluster.h"
#include "memvisor/report.h"
#include "memvisor/sim.h"

/* One file, as the checks compare it. */
struct file_id {
	char shown[PATH_MAX]; /* as the user gave it (an output's name) */
	char canon[PATH_MAX];
	const char *role; /* "--output", "--csv", "the scenario", ... */
	int exists, chr;
	dev_t dev;
	ino_t ino;
};

struct file_list {
	struct file_id *f;
	int n;
	size_t cap; /* room in f */
};

/*
 * path made absolute with symbolic links and "." and ".." resolved, as
 * far as it exists; the missing components appended as given.
 */
static void canonical(const char *path, char *out, size_t n, int depth)
{
	char buf[PATH_MAX];
	if (realpath(path, buf)) {
		snprintf(out, n, "%s", buf);
		return;
	}
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", path);
	size_t k = strlen(parent);
	while (k > 1 && parent[k - 1] == '/')
		parent[--k] = '\0';
	char *slash = strrchr(parent, '/');
	const char *base = slash ? slash + 1 : parent;
	if (depth > 8) {
		snprintf(out, n, "%s", path);
		return;
	}
	char dir[PATH_MAX];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == parent)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - parent),
			 parent);
	canonical(dir, buf, sizeof buf, depth + 1);
	if (strlen(buf) + strlen(base) + 2 > n) {
		snprintf(out, n, "%s", path);
		return;
	}
	strcpy(out, strcmp(buf, "/") ? buf : "");
	strcat(out, "/");
	strcat(out, base);
}

static struct file_id *add(struct file_list *l, const char *shown,
			   const char *path, const char *role)
{
	if (mv_array_room(&l->f, &l->cap, (size_t)l->n, sizeof *l->f, 16))
		return NULL;
	struct file_id *f = &l->f[l->n++];
	memset(f, 0, sizeof *f);
	snprintf(f->shown, sizeof f->shown, "%s", shown);
	canonical(path, f->canon, sizeof f->canon, 0);
	f->role = role;
	struct stat st;
	if (stat(path, &st) == 0) {
		f->exists = 1;
		f->chr = S_ISCHR(st.st_mode);
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
	return f;
}

static int same(const struct file_id *a, const struct file_id *b)
{
	if (a->exists && b->exists)
		return a->dev == b->dev && a->ino == b->ino;
	return !strcmp(a->canon, b->canon);
}

/* The files the scenario reads: itself, its domain files, its traces. */
static int add_inputs(struct file_list *in, const struct mv_scenario *sc)
{
	if (!add(in, sc->source, sc->source, "the scenario"))
		return -1;
	for (int i = 0; i < sc->nvms; i++) {
		const char *src = sc->vms[i].vm.source;
		if (src[0] && strcmp(src, sc->source) &&
		    !add(in, src, src, "a domain file of the scenario"))
			return -1;
	}
	for (int i = 0; i < sc->ntraces; i++)
		if (!add(in, sc->traces[i]->path, sc->traces[i]->path,
			 "a trace of the scenario"))
			return -1;
	return 0;
}

/*
 * The files of one --csv/--svg set: each checked like -o when the
 * directory exists (a directory where host.csv goes fails now, not after
 * the run), all of them compared with the other outputs.
 */
static int add_names(struct file_list *out, const char *const *names,
		     const char *dir, const char *opt, struct mv_error *err)
{
	struct stat st;
	int have_dir = stat(dir, &st) == 0;
	int rc = 0;
	for (const char *const *nm = names; !rc && *nm; nm++) {
		char path[PATH_MAX], target[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, *nm);
		snprintf(target, sizeof target, "%s", path);
		if (have_dir) {
			rc = mv_report_output_check(path, opt, target,
						    sizeof target, err);
			if (rc > 0)
				rc = 0;
		}
		if (!rc && !add(out, path, target, opt))
			rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					  "out of memory");
	}
	return rc;
}

static int add_set(struct file_list *out, const struct mv_scenario *sc,
		   const char *dir, const char *opt, const char *ext,
		   struct mv_error *err)
{
	char **names = mv_report_view_names(sc, ext);
	if (!names)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	int rc = add_names(out, (const char *const *)names, dir, opt, err);
	mv_report_view_names_free(names);
	return rc;
}

static int compare(const struct mv_scenario *sc, struct file_list *in,
		   struct file_list *out, struct mv_error *err);

/* -o: checked, and added to the outputs. */
static int add_output(struct file_list *out, const char *output,
		      struct mv_error *err)
{
	if (output) {
		char target[PATH_MAX];
		int rc = mv_report_output_check(output, "--output", target,
						sizeof target, err);
		if (rc < 0)
			return rc;
		if (!add(out, output, target, "--output"))
			return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
					    "out of memory");
	}
	return 0;
}

static int check(const struct mv_scenario *sc, const char *output,
		 const char *csv_dir, const char *svg_dir, struct file_list *in,
		 struct file_list *out, struct mv_error *err)
{
	int rc = add_output(out, output, err);
	if (rc)
		return rc;
	if (csv_dir && ((rc = mv_report_outdir_check(csv_dir, "--csv", err)) ||
			(rc = add_set(out, sc, csv_dir, "--csv", "csv", err))))
		return rc;
	if (svg_dir && ((rc = mv_report_outdir_check(svg_dir, "--svg", err)) ||
			(rc = add_set(out, sc, svg_dir, "--svg", "svg", err))))
		return rc;
	return compare(sc, in, out, err);
}

/* No output is an input (in) or another output. */
static int compare_lists(const struct file_list *in,
			 const struct file_list *out, struct mv_error *err)
{
	for (int i = 0; i < out->n; i++) {
		const struct file_id *o = &out->f[i];
		for (int k = 0; k < in->n; k++)
			if (same(o, &in->f[k]))
				return mv_error_set(
					err, MV_EINVAL, o->shown, 0, o->role,
					"is %s ('%s'): refusing to write "
					"over it",
					in->f[k].role, in->f[k].shown);
		for (int k = 0; k < i; k++)
			if (!(o->chr && out->f[k].chr) && same(o, &out->f[k]))
				return mv_error_set(
					err, MV_EINVAL, o->shown, 0, o->role,
					"is also written by %s ('%s'): one "
					"output would overwrite the other",
					out->f[k].role, out->f[k].shown);
	}
	return 0;
}

/* No output is an input of sc or another output. */
static int compare(const struct mv_scenario *sc, struct file_list *in,
		   struct file_list *out, struct mv_error *err)
{
	if (add_inputs(in, sc) != 0)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	return compare_lists(in, out, err);
}

/* Free the lists; the exit status after err's one line, if any. */
static int finish(int rc, struct file_list *in, struct file_list *out,
		  const struct mv_error *err)
{
	free(in->f);
	free(out->f);
	if (!rc)
		return MV_EXIT_OK;
	mv_cli_error(err);
	return rc == MV_ENOMEM ? MV_EXIT_FAILURE : MV_EXIT_USAGE;
}

int mv_cli_check_outputs(const struct mv_scenario *sc, const char *output,
			 const char *csv_dir, const char *svg_dir)
{
	struct file_list in = {0}, out = {0};
	struct mv_error err = {0};
	int rc = check(sc, output, csv_dir, svg_dir, &in, &out, &err);
	return finish(rc, &in, &out, &err);
}

int mv_cli_check_files(const struct mv_scenario *sc, int n,
		       const char *const *paths, const char *const *opts)
{
	struct file_list in = {0}, out = {0};
	struct mv_error err = {0};
	int rc = 0;
	for (int i = 0; !rc && i < n; i++) {
		char target[PATH_MAX];
		if (!paths[i])
			continue;
		rc = mv_report_output_check(paths[i], opts[i], target,
					    sizeof target, &err);
		if (rc > 0)
			rc = 0;
		if (!rc && !add(&out, paths[i], target, opts[i]))
			rc = mv_error_set(&err, MV_ENOMEM, NULL, 0, "",
					  "out of memory");
	}
	if (!rc)
		rc = compare(sc, &in, &out, &err);
	return finish(rc, &in, &out, &err);
}

int mv_cli_check_cluster_outputs(const struct mv_cluster_scenario *cs,
				 const char *output, const char *csv_dir,
				 const char *svg_dir)
{
	struct file_list in = {0}, out = {0};
	struct mv_error err = {0};
	int rc = add_output(&out, output, &err);
	if (!rc && csv_dir &&
	    !(rc = mv_report_outdir_check(csv_dir, "--csv", &err)))
		rc = add_names(&out, mv_report_cluster_csv_names, csv_dir,
			       "--csv", &err);
	if (!rc && svg_dir &&
	    !(rc = mv_report_outdir_check(svg_dir, "--svg", &err))) {
		char **names = mv_report_cluster_svg_names(cs);
		rc = names ? add_names(&out, (const char *const *)names,
				       svg_dir, "--svg", &err)
			   : mv_error_set(&err, MV_ENOMEM, NULL, 0, "",
					  "out of memory");
		mv_report_view_names_free(names);
	}
	if (!rc && !add(&in, cs->source, cs->source, "the cluster file"))
		rc = mv_error_set(&err, MV_ENOMEM, NULL, 0, "",
				  "out of memory");
	for (int h = 0; !rc && h < cs->nhosts; h++)
		if (add_inputs(&in, cs->host[h].sc) != 0)
			rc = mv_error_set(&err, MV_ENOMEM, NULL, 0, "",
					  "out of memory");
	if (!rc)
		rc = compare_lists(&in, &out, &err);
	return finish(rc, &in, &out, &err);
}
