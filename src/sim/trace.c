/*
 * trace.c - address traces: valgrind lackey text, memvisor's binary
 * format, conversion and replay through an MMU model.
 *
 * Lackey (valgrind --tool=lackey --trace-mem=yes) writes one access per
 * line: "I  ADDR,SIZE" for an instruction fetch, " L ", " S " and " M "
 * for a load, a store and a modify (load and store of one location), the
 * address in hex without 0x and the size in decimal. Lines starting with
 * "==" are valgrind's own messages and are skipped; anything else is an
 * error naming the file and line.
 *
 * The binary format, about 3 bytes per access instead of ~14:
 *
 *   header  the 8 bytes "MVTRACE1"
 *   record  one byte: kind in bits 0-1 (I, L, S, M), size in bits 2-7
 *           (63: the size follows as a LEB128 varint), then the address
 *           minus the previous record's address, zigzag-encoded, as a
 *           LEB128 varint. Consecutive accesses are close, so most deltas
 *           take one or two bytes.
 *
 * Errors in binary traces name the record number in place of a line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memvisor/sim.h"

#define MAGIC "MVTRACE1"
#define MAX_SIZE 4096u

struct mv_trace {
	FILE *f;
	char path[256];
	int binary;
	uint64_t line; /* text: line number; binary: record number */
	uint64_t prev;
	char *buf;
	size_t cap;
};

static int trace_err(struct mv_trace *t, struct mv_error *err, const char *fmt,
		     const char *arg)
{
	mv_error_set(err, MV_EINVAL, t->path, (int)t->line, "trace", fmt, arg);
	return MV_EINVAL;
}

int mv_trace_open(const char *path, struct mv_trace **out, struct mv_error *err)
{
	*out = NULL;
	struct mv_trace *t = calloc(1, sizeof *t);
	if (!t)
		return mv_error_set(err, MV_ENOMEM, path, 0, "trace",
				    "out of memory");
	snprintf(t->path, sizeof t->path, "%s", path);
	t->f = fopen(path, "rb");
	if (!t->f) {
		int e = errno;
		free(t);
		return mv_error_set(err, e == ENOENT ? MV_ENOENT : MV_EIO, path,
				    0, "trace", "cannot open: %s", strerror(e));
	}
	setvbuf(t->f, NULL, _IOFBF, 1 << 20);
	char head[8];
	size_t n = fread(head, 1, sizeof head, t->f);
	if (n == sizeof head && memcmp(head, MAGIC, 8) == 0) {
		t->binary = 1;
	} else {
		rewind(t->f);
	}
	*out = t;
	return 0;
}

void mv_trace_close(struct mv_trace *t)
{
	if (!t)
		return;
	fclose(t->f);
	free(t->buf);
	free(t);
}

static int parse_line(struct mv_trace *t, char *s, struct mv_trace_rec *r,
		      struct mv_error *err)
{
	size_t len = strlen(s);
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	char *p = s;
	while (*p == ' ')
		p++;
	switch (*p) {
	case 'I':
		r->kind = MV_TR_INSTR;
		break;
	case 'L':
		r->kind = MV_TR_LOAD;
		break;
	case 'S':
		r->kind = MV_TR_STORE;
		break;
	case 'M':
		r->kind = MV_TR_MODIFY;
		break;
	case '\0':
		return trace_err(t, err, "empty line%s", "");
	default:
		return trace_err(
			t, err,
			"expected an access (I, L, S or M), got '%.40s'", s);
	}
	p++;
	if (*p != ' ')
		return trace_err(t, err,
				 "expected a space after the kind: '%.40s'", s);
	while (*p == ' ')
		p++;
	uint64_t a = 0;
	int digits = 0;
	for (int v; (v = mv_hex_digit((unsigned char)*p)) >= 0; p++) {
		if (++digits > 16)
			return trace_err(t, err, "address too long: '%.40s'",
					 s);
		a = a << 4 | (uint64_t)v;
	}
	if (!digits)
		return trace_err(t, err, "expected a hex address: '%.40s'", s);
	if (a >> MV_VA_BITS)
		return trace_err(t, err,
				 "address beyond the 48-bit address space: "
				 "'%.40s'",
				 s);
	if (*p != ',')
		return trace_err(t, err, "expected ',' and a size: '%.40s'", s);
	p++;
	uint64_t size = 0;
	digits = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		size = size * 10 + (uint64_t)(*p - '0');
		if (++digits > 6)
			break;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!digits || *p)
		return trace_err(t, err, "expected a decimal size: '%.40s'", s);
	if (size == 0 || size > MAX_SIZE)
		return trace_err(t, err, "size must be 1..4096: '%.40s'", s);
	r->addr = a;
	r->size = (uint32_t)size;
	return 1;
}

static int read_varint(struct mv_trace *t, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		int c = getc(t->f);
		if (c == EOF)
			return -1;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -2;
}

static int next_binary(struct mv_trace *t, struct mv_trace_rec *r,
		       struct mv_error *err)
{
	int b = getc(t->f);
	if (b == EOF)
		return ferror(t->f) ? mv_error_set(err, MV_EIO, t->path, 0,
						   "trace", "read error")
				    : 0;
	t->line++;
	r->kind = (uint8_t)(b & 3);
	uint64_t size = (unsigned)b >> 2, d;
	if (size == 63 && read_varint(t, &size))
		return trace_err(t, err, "truncated record (size)%s", "");
	int rc = read_varint(t, &d);
	if (rc)
		return trace_err(t, err, "%s record (address)",
				 rc == -1 ? "truncated" : "malformed");
	uint64_t a = t->prev + ((d >> 1) ^ (0 - (d & 1)));
	if (a >> MV_VA_BITS)
		return trace_err(t, err,
				 "address beyond the 48-bit address space%s",
				 "");
	if (size == 0 || size > MAX_SIZE)
		return trace_err(t, err, "size must be 1..4096%s", "");
	t->prev = a;
	r->addr = a;
	r->size = (uint32_t)size;
	return 1;
}

int mv_trace_next(struct mv_trace *t, struct mv_trace_rec *r,
		  struct mv_error *err)
{
	if (t->binary)
		return next_binary(t, r, err);
	for (;;) {
		ssize_t n = getline(&t->buf, &t->cap, t->f);
		if (n < 0)
			return ferror(t->f)
				       ? mv_error_set(err, MV_EIO, t->path, 0,
						      "trace", "read error")
				       : 0;
		t->line++;
		if ((size_t)n != strlen(t->buf))
			return trace_err(t, err, "NUL byte in a text trace%s",
					 "");
		if (t->buf[0] == '=' && t->buf[1] == '=')
			continue; /* valgrind's own messages */
		return parse_line(t, t->buf, r, err);
	}
}

static void put_varint(FILE *f, uint64_t v)
{
	while (v >= 0x80) {
		putc((int)(v & 0x7f) | 0x80, f);
		v >>= 7;
	}
	putc((int)v, f);
}

int mv_trace_convert(const char *in, const char *out, uint64_t *records,
		     struct mv_error *err)
{
	struct mv_trace *t;
	int rc = mv_trace_open(in, &t, err);
	if (rc)
		return rc;
	size_t n = strlen(out);
	char *tmp = malloc(n + 16);
	if (!tmp) {
		mv_trace_close(t);
		return mv_error_set(err, MV_ENOMEM, out, 0, "",
				    "out of memory");
	}
	snprintf(tmp, n + 16, "%s.tmpXXXXXX", out);
	int fd = mkstemp(tmp);
	if (fd >= 0) {
		/* mkstemp makes 0600; a trace is an ordinary file */
		mode_t mask = umask(0);
		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		rc = mv_error_set(err, MV_EIO, out, 0, "output",
				  "cannot create: %s", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto done;
	}
	fwrite(MAGIC, 1, 8, f);
	uint64_t prev = 0, count = 0;
	struct mv_trace_rec r;
	while ((rc = mv_trace_next(t, &r, err)) == 1) {
		int sz = r.size < 63 ? (int)r.size : 63;
		putc(sz << 2 | r.kind, f);
		if (sz == 63)
			put_varint(f, r.size);
		int64_t d = (int64_t)(r.addr - prev);
		put_varint(f, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
		prev = r.addr;
		count++;
	}
	if (fclose(f) != 0 && rc == 0)
		rc = mv_error_set(err, MV_EIO, out, 0, "output",
				  "write error: %s", strerror(errno));
	if (rc == 0 && rename(tmp, out) != 0)
		rc = mv_error_set(err, MV_EIO, out, 0, "output",
				  "cannot rename into place: %s",
				  strerror(errno));
	if (rc)
		unlink(tmp);
	else if (records)
		*records = count;
done:
	free(tmp);
	mv_trace_close(t);
	return rc;
}

int mv_trace_replay(struct mv_mmu *m, struct mv_trace *t, uint64_t limit,
		    struct mv_error *err)
{
	struct mv_trace_rec r;
	uint64_t done = 0;
	volatile uint8_t sink = 0;
	struct mv_vm *vm = mv_mmu_vm(m);
	struct mv_mmu_xlate xl;
	int rc = 0;
	while ((!limit || done < limit) &&
	       (rc = mv_trace_next(t, &r, err)) == 1) {
		int write = r.kind == MV_TR_STORE || r.kind == MV_TR_MODIFY;
		int fetch = r.kind == MV_TR_INSTR;
		uint64_t last = r.addr + r.size - 1;
		if ((last >> MV_VA_BITS) || last < r.addr)
			return mv_error_set(
				err, MV_EINVAL, t->path, (int)t->line, "trace",
				"address %llx is beyond the 48-bit address "
				"space of 4-level paging",
				(unsigned long long)r.addr);
		for (uint64_t a = r.addr;; a = (a | (MV_PAGE_SIZE - 1)) + 1) {
			uint8_t *p = mv_mmu_access(m, a, write, fetch, &xl);
			if (!p)
				return mv_error_set(
					err, MV_EAGAIN, t->path, (int)t->line,
					"trace",
					"the VM could not get memory for "
					"address %llx",
					(unsigned long long)a);
			/* real bytes: a load reads, a store writes */
			if (write) {
				/* the page holds bytes from now (p is in
				 * its arena page) */
				mv_vm_page_bytes(vm, xl.gppn);
				*p = (uint8_t)(a ^ sink);
				mv_vm_wrote(vm, xl.gppn);
			} else
				sink ^= *p;
			if ((a >> MV_PAGE_SHIFT) == (last >> MV_PAGE_SHIFT))
				break;
		}
		done++;
	}
	return limit && done >= limit ? 0 : rc;
}

/* ------------------------------------------------- trace workloads */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int mv_access_trace_load(const char *path, struct mv_access_trace **out,
			 struct mv_error *err)
{
	*out = NULL;
	struct mv_trace *t;
	int rc = mv_trace_open(path, &t, err);
	if (rc)
		return rc;
	struct mv_access_trace *a = calloc(1, sizeof *a);
	uint64_t *pages = NULL;
	size_t cap = 0, n = 0;
	if (!a) {
		mv_trace_close(t);
		return mv_error_set(err, MV_ENOMEM, path, 0, "trace",
				    "out of memory");
	}
	snprintf(a->path, sizeof a->path, "%s", path);
	/* every access's page, its kind in bits 0-1, kept in order */
	struct mv_trace_rec r;
	while ((rc = mv_trace_next(t, &r, err)) == 1) {
		/* at most 2^30 accesses held; the call only when full */
		if (n == cap &&
		    (cap >= (1ull << 30) ||
		     mv_array_room(&pages, &cap, n, sizeof *pages, 1 << 16))) {
			rc = mv_error_set(err, MV_ENOMEM, path, 0, "trace",
					  "too many accesses to hold (%llu)",
					  (unsigned long long)n);
			break;
		}
		pages[n++] = (r.addr >> MV_PAGE_SHIFT) << 2 | r.kind;
	}
	mv_trace_close(t);
	if (rc == 0 && n == 0)
		rc = mv_error_set(err, MV_EINVAL, path, 0, "trace",
				  "the trace holds no accesses");
	if (rc == 0) {
		/* the distinct pages, ascending; each access becomes an index
		 */
		a->page = malloc(n * sizeof *a->page);
		a->rec = malloc(n * sizeof *a->rec);
		if (!a->page || !a->rec)
			rc = mv_error_set(err, MV_ENOMEM, path, 0, "trace",
					  "out of memory");
	}
	if (rc == 0) {
		for (uint64_t i = 0; i < n; i++)
			a->page[i] = pages[i] >> 2;
		qsort(a->page, n, sizeof *a->page, cmp_u64);
		uint64_t d = 0;
		for (uint64_t i = 0; i < n; i++)
			if (!d || a->page[i] != a->page[d - 1])
				a->page[d++] = a->page[i];
		a->npages = d;
		/* a table per distinct 2 MiB, 1 GiB and 512 GiB region, and
		 * the PML4 */
		a->table_pages = 1;
		for (int shift = 9; shift <= 27; shift += 9)
			for (uint64_t i = 0; i < d; i++)
				a->table_pages += !i ||
						  a->page[i] >> shift !=
							  a->page[i - 1] >>
								  shift;
		uint64_t *shrunk = realloc(a->page, d * sizeof *a->page);
		if (shrunk)
			a->page = shrunk;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t idx;
			mv_access_trace_find(a, pages[i] >> 2, &idx);
			a->rec[i] = (uint32_t)(idx << 2 | (pages[i] & 3));
		}
		a->nrec = n;
	}
	free(pages);
	if (rc) {
		mv_access_trace_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void mv_access_trace_free(struct mv_access_trace *t)
{
	if (!t)
		return;
	free(t->rec);
	free(t->page);
	free(t);
}
