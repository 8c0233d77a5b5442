/*
 * outset.c - a set of output files that appear complete or not at all.
 *
 * Each file is written to "DIR/NAME.tmp.XXXXXX" (mkstemp, so two runs
 * writing the same directory do not collide) and renamed to DIR/NAME once
 * every file of the set is written, flushed and synced. rename(2) within a
 * directory is atomic, so a reader sees the old file or the whole new one;
 * a failure before the renames leaves DIR as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/views.h"

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

FILE *mv_outset_open(struct mv_outset *o, const char *name,
		     struct mv_error *err)
{
	if (o->n == o->cap) {
		int cap = o->cap ? 2 * o->cap : 8;
		struct mv_outfile *f = realloc(o->f, (size_t)cap * sizeof *f);
		if (!f) {
			mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
			return NULL;
		}
		o->f = f;
		o->cap = cap;
	}
	struct mv_outfile *f = &o->f[o->n];
	f->final = o->dir ? join(o->dir, "/", name) : join("", "", name);
	f->tmp = f->final ? join(f->final, "", ".tmp.XXXXXX") : NULL;
	if (!f->final || !f->tmp) {
		free(f->final);
		free(f->tmp);
		mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
		return NULL;
	}
	int fd = mkstemp(f->tmp);
	if (fd < 0) {
		mv_error_set(err, MV_EIO, f->final, 0, "", "cannot create: %s",
			     strerror(errno));
		free(f->final);
		free(f->tmp);
		return NULL;
	}
	/* mkstemp makes 0600; these are ordinary files. */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	FILE *fp = fdopen(fd, "w");
	if (!fp) {
		mv_error_set(err, MV_EIO, f->final, 0, "", "%s", strerror(errno));
		close(fd);
		unlink(f->tmp);
		free(f->final);
		free(f->tmp);
		return NULL;
	}
	o->n++;
	return fp;
}

int mv_outset_close(struct mv_outset *o, FILE *f, int rc,
		    struct mv_error *err)
{
	int saved = errno;
	if (fflush(f) != 0 || ferror(f)) {
		saved = errno;
		rc = rc ? rc : MV_EIO;
	}
	if (fsync(fileno(f)) != 0 && !rc) {
		saved = errno;
		rc = MV_EIO;
	}
	if (fclose(f) != 0 && !rc) {
		saved = errno;
		rc = MV_EIO;
	}
	if (rc)
		mv_error_set(err, rc, o->n ? o->f[o->n - 1].final : o->dir, 0,
			     "", "write error: %s",
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
		if (lstat(o->f[i].final, &st) == 0 && S_ISDIR(st.st_mode))
			return mv_error_set(err, MV_EIO, o->f[i].final, 0, "",
					    "is a directory");
	}
	for (int i = 0; i < o->n; i++) {
		if (rename(o->f[i].tmp, o->f[i].final) != 0)
			return mv_error_set(err, MV_EIO, o->f[i].final, 0, "",
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
		free(o->f[i].tmp);
		free(o->f[i].final);
	}
	free(o->f);
	memset(o, 0, sizeof *o);
}

void mv_view_vm_file(const char *vm_name, const char *ext, char *buf,
		     size_t n)
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

uint64_t mv_view_vm_pages(const struct mv_sample_vm *v)
{
	uint64_t n = 0;
	for (int k = 0; k < MV_PS_COUNT; k++)
		n += v->state[k];
	return n;
}

int mv_report_outdir_prepare(const char *dir, struct mv_error *err)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return mv_error_set(err, MV_EINVAL, dir, 0, "",
					    "not a directory");
		if (access(dir, W_OK | X_OK) != 0)
			return mv_error_set(err, MV_EINVAL, dir, 0, "",
					    "cannot write: %s", strerror(errno));
		return 0;
	}
	/* One level, like mkdir(1): a missing parent is more likely a typo. */
	if (mkdir(dir, 0777) != 0)
		return mv_error_set(err, MV_EINVAL, dir, 0, "",
				    "cannot create directory: %s",
				    strerror(errno));
	return 0;
}

int mv_view_write_dir(const char *dir, const struct mv_sim *s,
		      const char *ext, mv_view_fn fn, struct mv_error *err)
{
	struct mv_outset o;
	mv_outset_init(&o, dir);
	int rc = 0;
	for (int i = -1; i < s->nvms && !rc; i++) {
		char name[128];
		if (i < 0)
			snprintf(name, sizeof name, "host.%s", ext);
		else
			mv_view_vm_file(s->sc->vms[i].vm.name, ext, name,
					sizeof name);
		/* Names that differ only in replaced characters ("a/b",
		 * "a_b") would share a file: number the later one. */
		for (int k = 0, suffix = i + 1; k < o.n; k++) {
			const char *other = strrchr(o.f[k].final, '/') + 1;
			if (!strcmp(other, name)) {
				char base[96];
				mv_view_vm_file(s->sc->vms[i].vm.name, "", base,
						sizeof base);
				snprintf(name, sizeof name, "%s%d.%s", base,
					 suffix++, ext);
				k = -1; /* check the new name again */
			}
		}
		FILE *f = mv_outset_open(&o, name, err);
		if (!f) {
			rc = err ? err->code : MV_EIO;
			break;
		}
		rc = mv_outset_close(&o, f, fn(f, s, i), err);
	}
	if (!rc)
		rc = mv_outset_commit(&o, err);
	mv_outset_free(&o);
	return rc;
}

int mv_report_write_file(const char *path,
			 int (*fn)(FILE *f, const void *ctx), const void *ctx,
			 struct mv_error *err)
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
