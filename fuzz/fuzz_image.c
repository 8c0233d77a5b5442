/*
 * fuzz_image.c - libFuzzer harness for the file readers of memory images
 * (mv_image_open, src/image/elf.c and raw.c: ELF guest dumps and process
 * cores, raw RAM), through a memfd (the readers take a path).
 *
 * Opening must return 0, MV_EINVAL (with the path, a field or not, and a
 * message), MV_EIO or MV_ENOMEM. An opened image must be of a file kind
 * and yield extents of at least one page at page-aligned addresses, every
 * byte readable (a SIGBUS from a window past the end of the file is a
 * finding), each extent's first and last page read back byte for byte by
 * mv_image_read, and the next call after the end must say the end again.
 * Corpus: fuzz/corpus/image/ (small guest dumps, cores, raw RAM).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memvisor/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_page(struct mv_image *img, uint64_t addr,
		       const uint8_t *bytes)
{
	uint8_t page[MV_PAGE_SIZE];
	struct mv_error err;
	memset(&err, 0, sizeof err);
	if (mv_image_read(img, addr, page, &err) != 0 ||
	    memcmp(page, bytes, MV_PAGE_SIZE) != 0)
		abort(); /* a page the reader gave cannot be read again */
}

static void read_all(const char *path, size_t size)
{
	struct mv_image *img = NULL;
	struct mv_error err;
	memset(&err, 0, sizeof err);
	int rc = mv_image_open(path, &img, &err);
	if (rc == MV_EINVAL) {
		if (img || strcmp(err.file, path) != 0 || !err.msg[0])
			abort(); /* an error that does not say where */
		return;
	}
	if (rc == MV_EIO || rc == MV_ENOMEM)
		return;
	if (rc != 0 || !img)
		abort();
	enum mv_image_kind k = mv_image_kind(img);
	if (k != MV_IMAGE_GUEST_ELF && k != MV_IMAGE_CORE_ELF &&
	    k != MV_IMAGE_RAW)
		abort();
	struct mv_image_extent e;
	uint64_t pages = 0;
	volatile uint8_t sink = 0;
	while ((rc = mv_image_next(img, &e, &err)) == 1) {
		if (e.npages == 0 || !e.bytes || e.addr % MV_PAGE_SIZE ||
		    !(e.flags & MV_IMAGE_MERGEABLE))
			abort();
		pages += e.npages;
		/* at most every page of the file once per program header
		 * (segments may share file bytes at other addresses) */
		if (pages > (size / 56 + 1) * (size / MV_PAGE_SIZE + 1))
			abort();
		for (uint64_t i = 0; i < e.npages * MV_PAGE_SIZE; i += 512)
			sink ^= e.bytes[i];
		check_page(img, e.addr, e.bytes);
		uint64_t last = (e.npages - 1) * MV_PAGE_SIZE;
		check_page(img, e.addr + last, e.bytes + last);
	}
	(void)sink;
	if (rc != 0 && rc != MV_EIO)
		abort();
	if (rc == 0 && mv_image_next(img, &e, &err) != 0)
		abort(); /* the end is the end */
	mv_image_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("image", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	read_all(path, size);
	close(fd);
	return 0;
}
