/*
 * raw.h - a file read as runs of pages (layer internal): raw RAM is one run
 * at file offset 0; an ELF dump or core is one run per PT_LOAD segment
 * (elf.c). raw.c reads the runs through a sliding mmap window.
 */
#ifndef MV_IMAGE_RAW_H
#define MV_IMAGE_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "image/source.h"

/* How much of a run one extent maps at most: the window. */
#define MV_IMAGE_WINDOW (64ull * 1024 * 1024)

/*
 * One run: file bytes [off, off + len) are the bytes of the addresses
 * [addr, addr + len). len need not be whole pages: a last partial page is
 * padded with zeros. idx names the run in messages (the program header).
 */
struct mv_image_run {
	uint64_t addr;
	uint64_t off;
	uint64_t len;
	unsigned idx;
};

/*
 * Make img read the nrun runs (malloc'd; taken over, even on failure) of
 * the file open on fd, in the order given. Every run must be non-empty,
 * inside the file and start at a page-aligned addr (the caller checked);
 * runs overlapping in the address space are MV_EINVAL ("segments N and M
 * overlap at 0x..."). On success img owns fd and the ops are set; kind is
 * the caller's.
 */
int mv_image_runs_attach(struct mv_image *img, int fd, struct mv_image_run *run,
			 size_t nrun, struct mv_error *err);

#endif
