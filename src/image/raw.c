/*
 * raw.c - raw RAM files, and the reading of any file as runs of pages.
 *
 * A raw RAM file (a guest's memory-backend-file, a /dev/shm backing, the
 * output of `dd` from a RAM disk) is pages and nothing else: page i at
 * file offset i * 4096, its address the file offset. The size must be a
 * non-zero multiple of 4096. A few well-known formats that are not raw
 * memory but would pass that test are refused by their magic: the
 * compressed kdump of `virsh dump --format=kdump-*` ("KDUMP   "),
 * makedumpfile's flattened format, and a libvirt save image (`virsh dump`
 * without --memory-only, `virsh save`).
 *
 * Reading (shared with elf.c through raw.h): the file is a list of runs
 * (raw: one; ELF: one per PT_LOAD segment with bytes in the file), read in
 * the order given. Each mv_image_next maps at most MV_IMAGE_WINDOW (64 MiB)
 * of the current run read-only with MADV_SEQUENTIAL and unmaps the previous
 * window first, so a 100 GiB dump never holds more than 64 MiB of address
 * space. A run's file offset need not be page-aligned (gcore and QEMU
 * write segment data right after the notes): the window starts at the
 * page boundary below and the extent's bytes at the offset inside it, so
 * nothing is copied. Only a last partial page of a run is copied, into a
 * page of the reader padded with zeros.
 *
 * mv_image_read finds the run holding an address by binary search over the
 * runs sorted by address, and pread()s the one page: the analysis re-reads
 * pages long after their window is gone. Before each window the file size
 * is checked again: a file truncated while being read is MV_EIO, not a
 * SIGBUS on the mapping (a truncation racing with one window can still
 * fault; memory images are not expected to shrink).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/raw.h"

struct runs {
	int fd;
	struct mv_image_run *run;    /* in reading order */
	struct mv_image_run *sorted; /* by address, for mv_image_read */
	size_t nrun;
	size_t cur; /* next() position: run and offset */
	uint64_t pos;
	uint64_t end; /* the file must hold this many bytes */
	void *map;    /* the current window, or NULL */
	size_t maplen;
	size_t pagesz;             /* the system's, for mmap offsets */
	uint8_t pad[MV_PAGE_SIZE]; /* a last partial page, zero-padded */
};

/* Bytes of addresses a run spans: whole pages. */
static uint64_t run_span(const struct mv_image_run *r)
{
	return (r->len + MV_PAGE_SIZE - 1) & ~(uint64_t)(MV_PAGE_SIZE - 1);
}

/* Read n bytes at off; returns the bytes read (short only at EOF), or -1. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (char *)buf + got, n - got,
				  (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void unmap_window(struct runs *s)
{
	if (s->map)
		munmap(s->map, s->maplen);
	s->map = NULL;
	s->maplen = 0;
}

static int runs_next(struct mv_image *img, struct mv_image_extent *e,
		     struct mv_error *err)
{
	struct runs *s = img->priv;
	unmap_window(s);
	while (s->cur < s->nrun && s->pos >= s->run[s->cur].len) {
		s->cur++;
		s->pos = 0;
	}
	if (s->cur == s->nrun)
		return 0;
	const struct mv_image_run *r = &s->run[s->cur];
	uint64_t left = r->len - s->pos;
	uint64_t off = r->off + s->pos;
	struct stat st;
	if (fstat(s->fd, &st) != 0 || (uint64_t)st.st_size < s->end)
		return mv_error_set(err, MV_EIO, img->name, 0, "",
				    "the file shrank while being read "
				    "(now %lld bytes, %llu expected)",
				    (long long)st.st_size,
				    (unsigned long long)s->end);
	e->addr = r->addr + s->pos;
	e->flags = MV_IMAGE_MERGEABLE;
	if (left < MV_PAGE_SIZE) {
		ssize_t k = pread_full(s->fd, s->pad, left, off);
		if (k != (ssize_t)left)
			return mv_error_set(err, MV_EIO, img->name, 0, "",
					    "cannot read %llu bytes at offset "
					    "%llu: %s",
					    (unsigned long long)left,
					    (unsigned long long)off,
					    k < 0 ? strerror(errno)
						  : "end of file");
		memset(s->pad + left, 0, MV_PAGE_SIZE - left);
		e->npages = 1;
		e->bytes = s->pad;
		s->pos = r->len;
		return 1;
	}
	uint64_t n = left & ~(uint64_t)(MV_PAGE_SIZE - 1);
	if (n > MV_IMAGE_WINDOW)
		n = MV_IMAGE_WINDOW;
	size_t delta = (size_t)(off % s->pagesz);
	void *map = mmap(NULL, delta + n, PROT_READ, MAP_PRIVATE, s->fd,
			 (off_t)(off - delta));
	if (map == MAP_FAILED)
		return mv_error_set(err, errno == ENOMEM ? MV_ENOMEM : MV_EIO,
				    img->name, 0, "",
				    "cannot map %llu bytes at offset %llu: %s",
				    (unsigned long long)n,
				    (unsigned long long)off, strerror(errno));
	madvise(map, delta + n, MADV_SEQUENTIAL);
	s->map = map;
	s->maplen = delta + n;
	e->npages = n / MV_PAGE_SIZE;
	e->bytes = (const uint8_t *)map + delta;
	s->pos += n;
	return 1;
}

static int runs_read(struct mv_image *img, uint64_t addr, uint8_t *page,
		     struct mv_error *err)
{
	struct runs *s = img->priv;
	/* the last run starting at or below addr */
	size_t lo = 0, hi = s->nrun;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->sorted[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct mv_image_run *r = lo ? &s->sorted[lo - 1] : NULL;
	if (!r || addr % MV_PAGE_SIZE || addr - r->addr >= run_span(r))
		return mv_error_set(err, MV_ENOENT, img->name, 0, "",
				    "no page at 0x%llx in the file",
				    (unsigned long long)addr);
	uint64_t in = addr - r->addr;
	size_t n = r->len - in < MV_PAGE_SIZE ? (size_t)(r->len - in)
					      : MV_PAGE_SIZE;
	ssize_t k = pread_full(s->fd, page, n, r->off + in);
	if (k != (ssize_t)n)
		return mv_error_set(err, MV_EIO, img->name, 0, "",
				    "cannot read the page at 0x%llx (file "
				    "offset %llu): %s",
				    (unsigned long long)addr,
				    (unsigned long long)(r->off + in),
				    k < 0 ? strerror(errno) : "end of file");
	memset(page + n, 0, MV_PAGE_SIZE - n);
	return 0;
}

static void runs_close(struct mv_image *img)
{
	struct runs *s = img->priv;
	if (!s)
		return;
	unmap_window(s);
	close(s->fd);
	free(s->run);
	free(s->sorted);
	free(s);
	img->priv = NULL;
}

static const struct mv_image_ops runs_ops = {
	.next = runs_next,
	.read = runs_read,
	.close = runs_close,
};

static int by_addr(const void *a, const void *b)
{
	const struct mv_image_run *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int mv_image_runs_attach(struct mv_image *img, int fd, struct mv_image_run *run,
			 size_t nrun, struct mv_error *err)
{
	struct runs *s = calloc(1, sizeof *s);
	struct mv_image_run *sorted = malloc(nrun * sizeof *sorted);
	if (!s || !sorted) {
		free(s);
		free(sorted);
		free(run);
		return mv_error_set(err, MV_ENOMEM, img->name, 0, "",
				    "out of memory for %zu segments", nrun);
	}
	memcpy(sorted, run, nrun * sizeof *sorted);
	qsort(sorted, nrun, sizeof *sorted, by_addr);
	for (size_t i = 0; i < nrun; i++) {
		const struct mv_image_run *r = &sorted[i];
		if (r->addr > UINT64_MAX - run_span(r) + 1 && run_span(r)) {
			mv_error_set(err, MV_EINVAL, img->name, 0, "PT_LOAD",
				     "segment %u: 0x%llx + %llu bytes runs "
				     "past the end of the address space",
				     r->idx, (unsigned long long)r->addr,
				     (unsigned long long)r->len);
			goto fail;
		}
		if (i &&
		    r->addr - sorted[i - 1].addr < run_span(&sorted[i - 1])) {
			unsigned a = sorted[i - 1].idx, b = r->idx;
			mv_error_set(err, MV_EINVAL, img->name, 0, "PT_LOAD",
				     "segments %u and %u overlap at 0x%llx",
				     a < b ? a : b, a < b ? b : a,
				     (unsigned long long)r->addr);
			goto fail;
		}
		if (r->off + r->len > s->end)
			s->end = r->off + r->len;
	}
	long ps = sysconf(_SC_PAGESIZE);
	s->fd = fd;
	s->run = run;
	s->sorted = sorted;
	s->nrun = nrun;
	s->pagesz = ps > 0 ? (size_t)ps : MV_PAGE_SIZE;
	img->ops = &runs_ops;
	img->priv = s;
	return 0;
fail:
	free(s);
	free(sorted);
	free(run);
	return MV_EINVAL;
}

/* Formats that a raw reader would otherwise take for memory. */
static const struct {
	const char *magic;
	size_t len;
	const char *what;
} not_raw[] = {
	{"KDUMP   ", 8,
	 "a compressed kdump file (virsh dump "
	 "--format=kdump-*): dump with --format=elf"},
	{"makedumpfile", 12,
	 "makedumpfile's flattened format: "
	 "rearrange it with makedumpfile -R, or dump "
	 "with virsh dump --memory-only --format=elf"},
	{"LibvirtQemudSave", 16,
	 "a libvirt save image (virsh save, or "
	 "virsh dump without --memory-only): dump "
	 "with virsh dump --memory-only "
	 "--format=elf"},
	{"LibvirtQemudPart", 16, "a partial libvirt save image"},
};

int mv_image_open_raw(struct mv_image *img, int fd, const char *path,
		      struct mv_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return mv_error_set(err, MV_EIO, path, 0, "", "cannot stat: %s",
				    strerror(errno));
	uint64_t size = (uint64_t)st.st_size;
	if (size == 0)
		return mv_error_set(err, MV_EINVAL, path, 0, "size",
				    "empty file: a raw RAM image holds at "
				    "least one 4096-byte page");
	if (size % MV_PAGE_SIZE)
		return mv_error_set(err, MV_EINVAL, path, 0, "size",
				    "%llu bytes is not a multiple of 4096: "
				    "not ELF (no ELF magic), and a raw RAM "
				    "image is whole 4 KiB pages",
				    (unsigned long long)size);
	char head[16] = {0};
	if (pread_full(fd, head, sizeof head, 0) < 0)
		return mv_error_set(err, MV_EIO, path, 0, "", "cannot read: %s",
				    strerror(errno));
	for (size_t i = 0; i < sizeof not_raw / sizeof not_raw[0]; i++)
		if (memcmp(head, not_raw[i].magic, not_raw[i].len) == 0)
			return mv_error_set(err, MV_EINVAL, path, 0, "magic",
					    "not a memory image: %s",
					    not_raw[i].what);
	struct mv_image_run *run = malloc(sizeof *run);
	if (!run)
		return mv_error_set(err, MV_ENOMEM, path, 0, "",
				    "out of memory");
	*run = (struct mv_image_run){.addr = 0, .off = 0, .len = size};
	int rc = mv_image_runs_attach(img, fd, run, 1, err);
	if (rc)
		return rc;
	img->kind = MV_IMAGE_RAW;
	return 0;
}
