/*
 * outset.c - output files that appear complete or not at all, and that
 * never replace what is not a regular file.
 *
 * A regular file (or a name that does not exist yet) is written to
 * "NAME.tmp.XXXXXX" beside it (mkstemp, so two runs writing the same
 * directory do not collide) and renamed to NAME once every file of the set
 * is written, flushed and synced. rename(2) within a directory is atomic,
 * so a reader sees the old file or the whole new one; a failure before the
 * renames leaves the directory as it was.
 *
 * Renaming over anything else would destroy it: as root, `-o /dev/null`
 * once replaced the system's /dev/null with a regular file. So the path is
 * looked at first (mv_report_output_check):
 *   - a symbolic link is followed, as GNU tools follow it, and the rules
 *     below apply to its target; the rename replaces the target, never the
 *     link, so the link stays a link;
 *   - a character device or a FIFO is opened and written in place (no
 *     temporary, no rename: a reader of a FIFO sees the bytes as they
 *     come);
 *   - a directory, a socket and a block device are refused (a report has no
 *     business on a disk's raw device).
 * The same check runs before a simulation starts, so a typo in an output
 * path costs no run.
 *
 * A replaced file keeps its permission bits (and, when run as root, its
 * owner and group): the temporary file is given them before the rename,
 * so `-o report.txt` over a 0600 file leaves a 0600 file. As with any
 * atomic replacement (GNU sed -i, rsync, editors that save by rename), the
 * new file is a new inode: a hard link to the old file keeps the old
 * content, and extended attributes and ACLs are not copied.
 *
 * The names of a --csv/--svg set are known before the run from the
 * scenario's VM names (mv_report_view_names), so the CLI can check each
 * file, and that no two outputs are one file, before simulating.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memvisor/report.h"
#include "report/views.h"

#define MAX_LINK_HOPS 40 /* as the kernel's MAXSYMLINKS */

void mv_outset_init(struct mv_outset *o, const char *dir)
{
	memset(o, 0, sizeof *o);
	o->dir = dir;
}

static char *join(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s%s", a, b, c);
	return p;
}

/* The directory part of path into buf ("." if it has none). */
static void dir_of(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(buf, n, ".");
	else if (slash == path)
		snprintf(buf, n, "/");
	else
		snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

/*
 * Follow path through symbolic links to what it names in the end: target
 * gets that path, *st its lstat and *exists 0 if nothing is there yet.
 * -1 with errno on failure (ELOOP, ENAMETOOLONG, lstat's errors).
 */
static int resolve(const char *path, char *target, size_t n, struct stat *st,
		   int *exists)
{
	char cur[PATH_MAX];
	if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int hop = 0;; hop++) {
		if (lstat(cur, st) != 0) {
			if (errno != ENOENT)
				return -1;
			*exists = 0;
			break;
		}
		*exists = 1;
		if (!S_ISLNK(st->st_mode))
			break;
		if (hop == MAX_LINK_HOPS) {
			errno = ELOOP;
			return -1;
		}
		char link[PATH_MAX], dir[PATH_MAX];
		ssize_t k = readlink(cur, link, sizeof link - 1);
		if (k < 0)
			return -1;
		link[k] = '\0';
		dir_of(cur, dir, sizeof dir);
		int len = link[0] == '/' ? snprintf(cur, sizeof cur, "%s", link)
					 : snprintf(cur, sizeof cur, "%s/%s",
						    dir, link);
		if (len >= (int)sizeof cur) {
			errno = ENAMETOOLONG;
			return -1;
		}
	}
	if (snprintf(target, n, "%s", cur) >= (int)n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A directory we may create files in and rename files within. */
static int dir_writable(const char *dir, const char *path, const char *opt,
			struct mv_error *err)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return mv_error_set(err, MV_EINVAL, path, 0, opt,
				    "directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return mv_error_set(err, MV_EINVAL, path, 0, opt,
				    "%s is not a directory", dir);
	if (access(dir, W_OK | X_OK) != 0)
		return mv_error_set(err, MV_EINVAL, path, 0, opt,
				    "cannot write in directory %s: %s", dir,
				    strerror(errno));
	return 0;
}

int mv_report_output_check(const char *path, const char *opt, char *target,
			   size_t n, struct mv_error *err)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	int exists;
	if (!target) {
		target = buf;
		n = sizeof buf;
	}
	if (resolve(path, target, n, &st, &exists) != 0)
		return mv_error_set(err, MV_EINVAL, path, 0, opt, "%s",
				    strerror(errno));
	if (exists && S_ISDIR(st.st_mode))
		return mv_error_set(err, MV_EINVAL, path, 0, opt,
				    "is a directory");
	if (exists && S_ISSOCK(st.st_mode))
		return mv_error_set(err, MV_EINVAL, path, 0, opt,
				    "is a socket: cannot write to it");
	if (exists && S_ISBLK(st.st_mode))
		return mv_error_set(err, MV_EINVAL, path, 0, opt,
				    "is a block device: refusing to write "
				    "over it");
	if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		if (access(target, W_OK) != 0)
			return mv_error_set(err, MV_EINVAL, path, 0, opt,
					    "cannot write: %s",
					    strerror(errno));
		return MV_OUT_IN_PLACE;
	}
	dir_of(target, dir, sizeof dir);
	int rc = dir_writable(dir, path, opt, err);
	if (rc)
		return rc;
	return exists ? MV_OUT_REPLACE : MV_OUT_CREATE;
}

int mv_report_outdir_check(const char *dir, const char *opt,
			   struct mv_error *err)
{
	struct stat st;
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) &&
	    stat(dir, &st) != 0) {
		/* mkdir(2) would fail on the link only after the run */
		char link[PATH_MAX];
		ssize_t k = readlink(dir, link, sizeof link - 1);
		link[k > 0 ? k : 0] = '\0';
		return mv_error_set(err, MV_EINVAL, dir, 0, opt,
				    "is a symbolic link to '%s', which %s: "
				    "make the directory first",
				    link,
				    errno == ENOENT ? "does not exist"
						    : strerror(errno));
	}
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return mv_error_set(err, MV_EINVAL, dir, 0, opt,
					    "is %s, not a directory",
					    mv_file_kind(st.st_mode));
		if (access(dir, W_OK | X_OK) != 0)
			return mv_error_set(err, MV_EINVAL, dir, 0, opt,
					    "cannot write: %s",
					    strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return mv_error_set(err, MV_EINVAL, dir, 0, opt, "%s",
				    strerror(errno));
	/* Created when the files are written, one level, like mkdir(1): a
	 * missing parent is more likely a typo. */
	char parent[PATH_MAX];
	char trimmed[PATH_MAX];
	snprintf(trimmed, sizeof trimmed, "%s", dir);
	for (size_t k = strlen(trimmed); k > 1 && trimmed[k - 1] == '/'; k--)
		trimmed[k - 1] = '\0';
	dir_of(trimmed, parent, sizeof parent);
	return dir_writable(parent, dir, opt, err);
}

static void outfile_free(struct mv_outfile *f)
{
	free(f->path);
	free(f->final);
	free(f->tmp);
	memset(f, 0, sizeof *f);
}

FILE *mv_outset_open(struct mv_outset *o, const char *name,
		     struct mv_error *err)
{
	if (mv_array_room(&o->f, &o->cap, (size_t)o->n, sizeof *o->f, 8)) {
		mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
		return NULL;
	}
	struct mv_outfile *f = &o->f[o->n];
	memset(f, 0, sizeof *f);
	char target[PATH_MAX];
	f->path = o->dir ? join(o->dir, "/", name) : join("", "", name);
	if (!f->path) {
		mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
		return NULL;
	}
	int kind = mv_report_output_check(f->path, "", target, sizeof target,
					  err);
	if (kind < 0) {
		outfile_free(f);
		return NULL;
	}
	f->final = join("", "", target);
	f->tmp = kind == MV_OUT_IN_PLACE ? NULL
					 : join(target, "", ".tmp.XXXXXX");
	if (!f->final || (kind != MV_OUT_IN_PLACE && !f->tmp)) {
		outfile_free(f);
		mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
		return NULL;
	}
	int fd;
	if (kind == MV_OUT_IN_PLACE) {
		/* A FIFO waits here for its reader (a signal ends the wait:
		 * the handlers are installed without SA_RESTART). */
		fd = open(f->final, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	} else {
		fd = mkstemp(f->tmp);
		struct stat old;
		if (fd >= 0 && kind == MV_OUT_REPLACE &&
		    stat(f->final, &old) == 0) {
			/* the file it replaces: its mode, and as root its
			 * owner (a user cannot give a file away) */
			if (geteuid() == 0)
				(void)fchown(fd, old.st_uid, old.st_gid);
			(void)fchmod(fd, old.st_mode & 07777);
		} else if (fd >= 0) {
			/* mkstemp makes 0600; a new file is an ordinary one */
			mode_t mask = umask(0);
			umask(mask);
			(void)fchmod(fd, 0666 & ~mask);
		}
	}
	if (fd < 0) {
		mv_error_set(err, MV_EIO, f->path, 0, "", "cannot %s: %s",
			     f->tmp ? "create" : "open", strerror(errno));
		outfile_free(f);
		return NULL;
	}
	FILE *fp = fdopen(fd, "w");
	if (!fp) {
		mv_error_set(err, MV_EIO, f->path, 0, "", "%s",
			     strerror(errno));
		close(fd);
		if (f->tmp)
			unlink(f->tmp);
		outfile_free(f);
		return NULL;
	}
	o->n++;
	return fp;
}

int mv_outset_close(struct mv_outset *o, FILE *f, int rc, struct mv_error *err)
{
	const struct mv_outfile *of = o->n ? &o->f[o->n - 1] : NULL;
	int saved = errno;
	if (fflush(f) != 0 || ferror(f)) {
		saved = errno;
		rc = rc ? rc : MV_EIO;
	}
	/* Only what will be renamed needs its bytes on disk first; a FIFO
	 * or a device cannot be synced (EINVAL). */
	if (of && of->tmp && fsync(fileno(f)) != 0 && !rc) {
		saved = errno;
		rc = MV_EIO;
	}
	if (fclose(f) != 0 && !rc) {
		saved = errno;
		rc = MV_EIO;
	}
	if (rc)
		mv_error_set(err, rc, of ? of->path : o->dir, 0, "",
			     "write error: %s",
			     rc == MV_EIO && saved ? strerror(saved)
						   : mv_strerror(rc));
	return rc;
}

int mv_outset_commit(struct mv_outset *o, struct mv_error *err)
{
	/* What rename would refuse, refused before any file moves, so a
	 * set is not left half old and half new for a foreseeable reason. */
	for (int i = 0; i < o->n; i++) {
		struct stat st;
		if (o->f[i].tmp && lstat(o->f[i].final, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			return mv_error_set(err, MV_EIO, o->f[i].path, 0, "",
					    "is a directory");
	}
	for (int i = 0; i < o->n; i++) {
		if (!o->f[i].tmp)
			continue; /* written in place */
		if (rename(o->f[i].tmp, o->f[i].final) != 0)
			return mv_error_set(err, MV_EIO, o->f[i].path, 0, "",
					    "cannot rename into place: %s",
					    strerror(errno));
		free(o->f[i].tmp);
		o->f[i].tmp = NULL;
	}
	return 0;
}

void mv_outset_free(struct mv_outset *o)
{
	for (int i = 0; i < o->n; i++) {
		if (o->f[i].tmp)
			unlink(o->f[i].tmp);
		outfile_free(&o->f[i]);
	}
	free(o->f);
	memset(o, 0, sizeof *o);
}

void mv_view_vm_file(const char *vm_name, const char *ext, char *buf, size_t n)
{
	snprintf(buf, n, "vm-%s.%s", vm_name, ext);
	/* libvirt names may hold '/' or spaces; keep file names portable. */
	size_t stop = strlen(buf) - strlen(ext) - 1;
	for (size_t i = 3; i < stop; i++) {
		char c = buf[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			 c == '.';
		if (!ok)
			buf[i] = '_';
	}
}

const struct mv_sample_vm *mv_view_sample_vm(const struct mv_sample *sm, int vm)
{
	static const struct mv_sample_vm none;
	return vm < sm->nvms ? &sm->vm[vm] : &none;
}

uint64_t mv_view_vm_pages(const struct mv_sample_vm *v)
{
	uint64_t n = 0;
	for (int k = 0; k < MV_PS_COUNT; k++)
		n += v->state[k];
	return n;
}

char **mv_report_view_names(const struct mv_scenario *sc, const char *ext)
{
	char **names = calloc((size_t)sc->nvms + 2, sizeof *names);
	if (!names)
		return NULL;
	for (int i = -1; i < sc->nvms; i++) {
		char name[128];
		if (i < 0)
			snprintf(name, sizeof name, "host.%s", ext);
		else
			mv_view_vm_file(sc->vms[i].vm.name, ext, name,
					sizeof name);
		/* Names that differ only in replaced characters ("a/b",
		 * "a_b") would share a file: number the later one. */
		for (int k = 0, suffix = i + 1; k < i + 1; k++) {
			if (!strcmp(names[k], name)) {
				char base[96];
				mv_view_vm_file(sc->vms[i].vm.name, "", base,
						sizeof base);
				snprintf(name, sizeof name, "%s%d.%s", base,
					 suffix++, ext);
				k = -1; /* check the new name again */
			}
		}
		names[i + 1] = strdup(name);
		if (!names[i + 1]) {
			mv_report_view_names_free(names);
			return NULL;
		}
	}
	return names;
}

void mv_report_view_names_free(char **names)
{
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
}

/*
 * Files names[0..n-1] into dir, all or none: file k written by
 * each(f, ctx, k). The directory appears with its files: a run that fails
 * leaves no empty folder behind.
 */
static int write_files(const char *dir, const char *const *names, int n,
		       int (*each)(FILE *f, const void *ctx, int k),
		       const void *ctx, struct mv_error *err)
{
	int made = 0;
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || mkdir(dir, 0777) != 0)
			return mv_error_set(err, MV_EIO, dir, 0, "",
					    "cannot create directory: %s",
					    strerror(errno));
		made = 1;
	}
	struct mv_outset o;
	mv_outset_init(&o, dir);
	int rc = 0;
	for (int k = 0; k < n && !rc; k++) {
		FILE *f = mv_outset_open(&o, names[k], err);
		if (!f) {
			rc = err ? err->code : MV_EIO;
			break;
		}
		rc = mv_outset_close(&o, f, each(f, ctx, k), err);
	}
	if (!rc)
		rc = mv_outset_commit(&o, err);
	mv_outset_free(&o);
	if (rc && made)
		rmdir(dir);
	return rc;
}

struct view_job {
	const struct mv_sim *s;
	mv_view_fn fn;
};

/* File k of a view: the host (k 0), then VM k - 1. */
static int view_file(FILE *f, const void *ctx, int k)
{
	const struct view_job *j = ctx;
	return j->fn(f, j->s, k - 1);
}

int mv_view_write_dir(const char *dir, const struct mv_sim *s, const char *ext,
		      mv_view_fn fn, struct mv_error *err)
{
	char **names = mv_report_view_names(s->sc, ext);
	if (!names)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	struct view_job j = {s, fn};
	int rc = write_files(dir, (const char *const *)names, s->nvms + 1,
			     view_file, &j, err);
	mv_report_view_names_free(names);
	return rc;
}

struct set_job {
	int (*const *fn)(FILE *, const void *);
	const void *ctx;
};

static int set_file(FILE *f, const void *ctx, int k)
{
	const struct set_job *j = ctx;
	return j->fn[k](f, j->ctx);
}

int mv_view_write_set(const char *dir, const char *const *names,
		      int (*const *fn)(FILE *, const void *), const void *ctx,
		      struct mv_error *err)
{
	int n = 0;
	while (names[n])
		n++;
	struct set_job j = {fn, ctx};
	return write_files(dir, names, n, set_file, &j, err);
}

struct bytes_job {
	const char *const *data;
	const size_t *len;
};

static int bytes_file(FILE *f, const void *ctx, int k)
{
	const struct bytes_job *j = ctx;
	return j->len[k] && fwrite(j->data[k], 1, j->len[k], f) != j->len[k]
		       ? MV_EIO
		       : 0;
}

int mv_view_write_bytes(const char *dir, const char *const *names, int n,
			const char *const *data, const size_t *len,
			struct mv_error *err)
{
	struct bytes_job j = {data, len};
	return write_files(dir, names, n, bytes_file, &j, err);
}

int mv_report_write_file(const char *path, int (*fn)(FILE *f, const void *ctx),
			 const void *ctx, struct mv_error *err)
{
	struct mv_outset o;
	mv_outset_init(&o, NULL);
	FILE *f = mv_outset_open(&o, path, err);
	int rc = f ? mv_outset_close(&o, f, fn(f, ctx), err)
		   : (err ? err->code : MV_EIO);
	if (!rc)
		rc = mv_outset_commit(&o, err);
	mv_outset_free(&o);
	return rc;
}
