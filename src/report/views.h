/*
 * views.h - helpers shared by the file views (CSV, SVG), report-layer
 * internal.
 *
 * A view writes several files into one directory. None may be left half
 * written: each regular file is written to a temporary name beside its
 * final one, and only when every file is complete are they renamed into
 * place; on any error the temporary files are removed and the directory
 * keeps what it had. FIFOs and character devices are written in place,
 * symbolic links followed (outset.c); the directory itself is created
 * only when its files are written.
 */
#ifndef MEMVISOR_REPORT_VIEWS_H
#define MEMVISOR_REPORT_VIEWS_H

#include <stdio.h>

#include "memvisor/sim.h"

struct mv_outfile {
	char *path;  /* as asked for (DIR/name) */
	char *final; /* what it names, symbolic links followed */
	char *tmp;   /* NULL once renamed, or when written in place */
};

struct mv_outset {
	const char *dir;
	int n;
	size_t cap; /* room in f */
	struct mv_outfile *f;
};

/* dir NULL: names are paths of their own. */
void mv_outset_init(struct mv_outset *o, const char *dir);
/* Open DIR/name for writing (its temporary file, or in place for a FIFO
 * or a character device); NULL with err set. */
FILE *mv_outset_open(struct mv_outset *o, const char *name,
		     struct mv_error *err);
/* Flush, sync and close f (the last file opened); 0 or MV_EIO. */
int mv_outset_close(struct mv_outset *o, FILE *f, int rc, struct mv_error *err);
/* Rename every temporary file to its final name. */
int mv_outset_commit(struct mv_outset *o, struct mv_error *err);
/* Remove the temporary files not yet renamed; free everything. */
void mv_outset_free(struct mv_outset *o);

/* Writes the view of VM vm (-1: the host) to f; 0 or an MV_E* code. */
typedef int (*mv_view_fn)(FILE *f, const struct mv_sim *s, int vm);
/* host.EXT and vm-NAME.EXT for every VM into dir, all or none. */
int mv_view_write_dir(const char *dir, const struct mv_sim *s, const char *ext,
		      mv_view_fn fn, struct mv_error *err);

/* The files names[] (NULL-terminated) into dir, all or none, file k
 * written by fn[k](f, ctx). */
int mv_view_write_set(const char *dir, const char *const *names,
		      int (*const *fn)(FILE *, const void *), const void *ctx,
		      struct mv_error *err);
/* n files into dir, all or none: file k is names[k], its bytes data[k]
 * (len[k] of them). */
int mv_view_write_bytes(const char *dir, const char *const *names, int n,
			const char *const *data, const size_t *len,
			struct mv_error *err);

/*
 * CSV rows of one host's samples (csv.c): host NULL, the columns of
 * host.csv; else a first column `host` holding it (a cluster's host.csv).
 * header: the header line first.
 */
int mv_csv_host_rows(FILE *out, const struct mv_sim *s, const char *host,
		     int header);
/* The same for VM vm: with host, columns `host` and `vm` first. */
int mv_csv_vm_rows(FILE *out, const struct mv_sim *s, int vm, const char *host,
		   int header);

/* "vm-NAME.ext" with characters unsafe in a file name replaced by '_'. */
void mv_view_vm_file(const char *vm_name, const char *ext, char *buf, size_t n);

/* Configured pages of VM i (from its sample's page states). */
uint64_t mv_view_vm_pages(const struct mv_sample_vm *v);
/* VM slot vm's figures in sample sm: zeros when the sample was taken
 * before the VM arrived by live migration (it has fewer slots). */
const struct mv_sample_vm *mv_view_sample_vm(const struct mv_sample *sm,
					     int vm);

#endif
