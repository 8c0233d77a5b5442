/*
 * usage.c - per-VM usage traces: how much memory a real VM used, row by
 * row, read for usage workloads (docs/usage.md).
 *
 * Two public formats:
 *
 *   bitbrains  the GWA-T-12 Bitbrains traces of the Grid Workloads Archive
 *              (TU Delft): one CSV per VM, a header naming the columns,
 *              fields separated by ";" and padded with tabs, a row every
 *              300 s. Three columns are read, found by their names in the
 *              header: "Timestamp [ms]", "Memory capacity provisioned [KB]"
 *              and "Memory usage [KB]"; the others must be there in every
 *              row (the count must match) but are not read. The header
 *              says milliseconds, but the published files hold seconds
 *              (1372629804 is 2013-07-01): a first timestamp below 10^11
 *              (1973 in ms, year 5138 in s) is read as seconds, the file's
 *              other rows in the same unit.
 *   google     per-VM series cut from the Google 2011 cluster trace (as in
 *              GCD_VMs of HiPro-IT's copy): one row per line, "CPU% MEM%"
 *              separated by blanks, no header, no timestamps; row i is at
 *              i * 300 s.
 *
 * What is kept per row: its time since the first row and the memory in
 * use as a fraction of the memory provisioned (bitbrains: usage over the
 * row's own provisioned capacity; google: MEM% / 100).
 *
 * Nothing is clamped or skipped: a missing column, a field that is not a
 * number, a timestamp not after the previous row's, usage above the
 * capacity provisioned or outside 0..100% is an error naming the file, the
 * line and the column. (Real files do have such rows: 88 of the 500 VMs of
 * Bitbrains' rnd/2013-7 report usage above provisioned in some row, 13 go
 * back in time; scripts/cut-traces.sh picks windows without them.)
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/readers.h"

#define ROW_NS (300 * MV_NS_PER_S) /* the google format's row interval */
#define MAX_ROWS 10000000u         /* ~95 years of 300 s rows */
#define MAX_FIELDS 64
#define SECONDS_BELOW 100000000000ull /* 10^11 */

/* The columns a bitbrains file must have, by their header names. */
enum { COL_TIME, COL_PROV, COL_USED, NCOLS };
static const char *const col_names[NCOLS] = {
	"Timestamp [ms]",
	"Memory capacity provisioned [KB]",
	"Memory usage [KB]",
};

struct reader {
	const char *file;
	int line;
	struct mv_error *err;
	struct mv_usage_trace *u;
	size_t cap_t, cap_f; /* allocated rows of u->t_ns and u->frac */
};

static int bad(struct reader *r, const char *field, const char *fmt,
	       const char *arg)
{
	return mv_error_set(r->err, MV_EINVAL, r->file, r->line, field, fmt,
			    arg);
}

/* Trim blanks (spaces, tabs, CR) at both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* The field [s, e) as a finite number >= 0, all of it. */
static int number(struct reader *r, const char *field, const char *s,
		  const char *e, double *out)
{
	char b[64];
	size_t n = (size_t)(e - s);
	if (n == 0)
		return bad(r, field, "is empty%s", "");
	if (n >= sizeof b)
		return bad(r, field, "'%.40s...' is not a number", s);
	memcpy(b, s, n);
	b[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod(b, &end);
	if (*end || end == b || !isfinite(v) || isnan(v) || errno == ERANGE)
		return bad(r, field, "'%s' is not a number", b);
	if (v < 0)
		return bad(r, field, "'%s' is negative", b);
	*out = v;
	return 0;
}

/* The field [s, e) as a whole number of at most 19 digits. */
static int whole(struct reader *r, const char *field, const char *s,
		 const char *e, uint64_t *out)
{
	uint64_t v = 0;
	if (s == e)
		return bad(r, field, "is empty%s", "");
	if (e - s > 19)
		return bad(r, field, "'%.40s' is too large", s);
	for (const char *p = s; p < e; p++) {
		if (*p < '0' || *p > '9') {
			char b[48];
			snprintf(b, sizeof b, "%.*s",
				 (int)(e - s < 40 ? e - s : 40), s);
			return bad(r, field, "'%s' is not a whole number", b);
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* Append a row (time since the first row, fraction used). */
static int push(struct reader *r, uint64_t t_ns, double frac)
{
	struct mv_usage_trace *u = r->u;
	if (u->nrows == r->cap_f && r->cap_f >= MAX_ROWS)
		return bad(r, "", "more than 10000000 rows%s", "");
	if (mv_array_room(&u->t_ns, &r->cap_t, u->nrows, sizeof *u->t_ns,
			  1024) ||
	    mv_array_room(&u->frac, &r->cap_f, u->nrows, sizeof *u->frac, 1024))
		return mv_error_set(r->err, MV_ENOMEM, r->file, r->line, "",
				    "out of memory");
	u->t_ns[u->nrows] = t_ns;
	u->frac[u->nrows] = frac;
	u->nrows++;
	return 0;
}

/* Split [s, e) at ';' into at most MAX_FIELDS trimmed fields; -1 if more. */
static int split(const char *s, const char *e, const char **fs, const char **fe)
{
	int n = 0;
	for (;;) {
		const char *q = memchr(s, ';', (size_t)(e - s));
		if (!q)
			q = e;
		if (n == MAX_FIELDS)
			return -1;
		fs[n] = s;
		fe[n] = q;
		trim(&fs[n], &fe[n]);
		n++;
		if (q == e)
			return n;
		s = q + 1;
	}
}

static int bitbrains_header(struct reader *r, const char *s, const char *e,
			    int *nf, int col[NCOLS])
{
	const char *fs[MAX_FIELDS], *fe[MAX_FIELDS];
	int n = split(s, e, fs, fe);
	if (n < 0)
		return bad(r, "header", "more than 64 columns%s", "");
	for (int c = 0; c < NCOLS; c++) {
		col[c] = -1;
		for (int i = 0; i < n && col[c] < 0; i++)
			if ((size_t)(fe[i] - fs[i]) == strlen(col_names[c]) &&
			    memcmp(fs[i], col_names[c], strlen(col_names[c])) ==
				    0)
				col[c] = i;
		if (col[c] < 0)
			return bad(
				r, "header",
				"no column '%s' (a GWA-T-12 Bitbrains "
				"header: \"Timestamp [ms];\\tCPU cores;...\")",
				col_names[c]);
	}
	*nf = n;
	return 0;
}

static int bitbrains_row(struct reader *r, const char *s, const char *e, int nf,
			 const int col[NCOLS], uint64_t *t0, uint64_t *scale)
{
	const char *fs[MAX_FIELDS], *fe[MAX_FIELDS];
	int n = split(s, e, fs, fe);
	if (n != nf) {
		char m[96];
		snprintf(m, sizeof m,
			 "expected %d fields as in the header, got %s%d", nf,
			 n < 0 ? "more than " : "", n < 0 ? MAX_FIELDS : n);
		return bad(r, "row", "%s", m);
	}
	uint64_t ts = 0;
	double prov = 0, used = 0;
	int rc;
	if ((rc = whole(r, col_names[COL_TIME], fs[col[COL_TIME]],
			fe[col[COL_TIME]], &ts)) ||
	    (rc = number(r, col_names[COL_PROV], fs[col[COL_PROV]],
			 fe[col[COL_PROV]], &prov)) ||
	    (rc = number(r, col_names[COL_USED], fs[col[COL_USED]],
			 fe[col[COL_USED]], &used)))
		return rc;
	if (prov <= 0)
		return bad(r, col_names[COL_PROV], "must be greater than 0%s",
			   "");
	if (used > prov) {
		char m[128];
		snprintf(m, sizeof m,
			 "%.0f KB is more than the %.0f KB "
			 "provisioned",
			 used, prov);
		return bad(r, col_names[COL_USED], "%s", m);
	}
	struct mv_usage_trace *u = r->u;
	if (u->nrows == 0) {
		*t0 = ts;
		/* the published files hold seconds under an "[ms]" header */
		*scale = ts < SECONDS_BELOW ? MV_NS_PER_S : 1000000ull;
	}
	if (u->nrows && ts <= *t0 + u->t_ns[u->nrows - 1] / *scale) {
		char m[96];
		snprintf(m, sizeof m,
			 "%llu is not after the previous row's %llu",
			 (unsigned long long)ts,
			 (unsigned long long)(*t0 +
					      u->t_ns[u->nrows - 1] / *scale));
		return bad(r, col_names[COL_TIME], "%s", m);
	}
	if (ts < *t0 || (ts - *t0) > UINT64_MAX / *scale)
		return bad(r, col_names[COL_TIME], "is out of range%s", "");
	if (prov / 1024 > (double)(UINT64_MAX >> 20))
		return bad(r, col_names[COL_PROV], "is too large%s", "");
	if ((uint64_t)prov > u->provisioned_kib)
		u->provisioned_kib = (uint64_t)prov;
	return push(r, (ts - *t0) * *scale, used / prov);
}

static int google_row(struct reader *r, const char *s, const char *e)
{
	const char *f[3], *fe[3];
	int n = 0;
	const char *p = s;
	while (p < e) {
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (p == e)
			break;
		if (n == 3)
			break;
		f[n] = p;
		while (p < e && !isspace((unsigned char)*p))
			p++;
		fe[n++] = p;
	}
	if (n != 2 || p < e)
		return bad(r, "row",
			   "expected two numbers, CPU %% and memory %%%s", "");
	double cpu = 0, mem = 0;
	int rc;
	if ((rc = number(r, "cpu %", f[0], fe[0], &cpu)) ||
	    (rc = number(r, "memory %", f[1], fe[1], &mem)))
		return rc;
	if (mem > 100)
		return bad(r, "memory %", "is above 100%s", "");
	return push(r, r->u->nrows * ROW_NS, mem / 100);
}

int mv_usage_trace_parse(const char *text, size_t len, const char *file,
			 enum mv_usage_format f, struct mv_usage_trace **out,
			 struct mv_error *err)
{
	*out = NULL;
	if ((unsigned)f >= MV_USAGE_FORMAT_COUNT)
		return mv_error_set(err, MV_EINVAL, file, 0, "format",
				    "unknown usage trace format");
	struct mv_usage_trace *u = calloc(1, sizeof *u);
	if (!u)
		return mv_error_set(err, MV_ENOMEM, file, 0, "",
				    "out of memory");
	snprintf(u->path, sizeof u->path, "%s", file);
	u->format = f;
	struct reader r = {.file = file, .err = err, .u = u};
	int nf = 0, col[NCOLS] = {0};
	uint64_t t0 = 0, scale = 1;
	int rc = 0;
	const char *p = text, *end = text + len;
	if (memchr(text, '\0', len)) {
		const char *z = memchr(text, '\0', len);
		for (const char *q = text; q < z; q++)
			r.line += *q == '\n';
		r.line++;
		rc = bad(&r, "", "NUL byte in a text trace%s", "");
	}
	while (!rc && p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *next = e ? e + 1 : end;
		if (!e)
			e = end;
		r.line++;
		const char *s = p;
		trim(&s, &e);
		if (s == e)
			rc = bad(&r, "row", "empty line%s", "");
		else if (f == MV_USAGE_GOOGLE)
			rc = google_row(&r, s, e);
		else if (r.line == 1)
			rc = bitbrains_header(&r, s, e, &nf, col);
		else
			rc = bitbrains_row(&r, s, e, nf, col, &t0, &scale);
		p = next;
	}
	if (!rc && u->nrows == 0)
		rc = mv_error_set(err, MV_EINVAL, file, r.line, "row",
				  "the trace holds no rows");
	if (rc) {
		mv_usage_trace_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

int mv_usage_trace_load(const char *path, enum mv_usage_format f,
			struct mv_usage_trace **out, struct mv_error *err)
{
	*out = NULL;
	char *buf;
	size_t len;
	if (mv_read_file(path, &buf, &len) != 0) {
		int e = errno;
		return mv_error_set(err, e == ENOENT ? MV_ENOENT : MV_EIO, path,
				    0, "file", "cannot read: %s", strerror(e));
	}
	int rc = mv_usage_trace_parse(buf, len, path, f, out, err);
	free(buf);
	return rc;
}

void mv_usage_trace_free(struct mv_usage_trace *u)
{
	if (!u)
		return;
	free(u->t_ns);
	free(u->frac);
	free(u);
}
