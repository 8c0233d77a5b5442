/*
 * Tests of the file readers of memory images (src/image/elf.c, raw.c):
 * ELF guest dumps (QEMU's dump-guest-memory layout: notes, then PT_LOADs
 * at unaligned file offsets addressed by p_paddr), process cores (p_vaddr,
 * p_filesz < p_memsz), raw RAM files, the 64 MiB mmap window, and bad
 * input, one clear error each. The files are written here with <elf.h> in
 * a mkdtemp directory; one test takes a real core of a child process with
 * gdb's gcore (skipped, saying why, without gdb).
 */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/raw.h"
#include "memvisor/image.h"
#include "support/mvtest.h"

#define PG MV_PAGE_SIZE

/* Page bytes that differ with seed in every 8-byte word; seed 0: zeros. */
static void fill_page(uint8_t *p, unsigned seed)
{
	for (unsigned i = 0; i < PG; i += 8) {
		uint64_t v = seed ? seed * 0x9E3779B97F4A7C15ull + i : 0;
		memcpy(p + i, &v, 8);
	}
}

/* A PT_LOAD to write: page i of it is fill_page(seed ? seed + i : 0). */
struct load {
	uint64_t paddr, vaddr, filesz, memsz;
	unsigned seed;
};

struct note {
	const char *name;
	uint32_t type;
	uint32_t descsz;
};

/* Header tweaks for bad input. */
struct tweak {
	int elfclass, data, type; /* 0: keep */
	int xnum;                 /* e_phnum = PN_XNUM, count in shdr 0 */
};

static void write_all(int fd, const void *buf, size_t n, uint64_t off)
{
	assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
}

/*
 * Write an ET_CORE file at path: a PT_NOTE with notes, then the loads'
 * bytes one after the other (file offsets not page-aligned, as QEMU and
 * gcore write them); off[i] gets load i's file offset.
 */
static void write_elf(const char *path, const struct note *notes, int nnotes,
		      const struct load *loads, int nloads,
		      const struct tweak *tw, uint64_t *off)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	int nph = 1 + nloads;
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = tw && tw->elfclass ? tw->elfclass : ELFCLASS64;
	eh.e_ident[EI_DATA] = tw && tw->data ? tw->data : ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = tw && tw->type ? tw->type : ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)nph;
	uint8_t nbuf[8192] = {0};
	size_t nlen = 0;
	for (int i = 0; i < nnotes; i++) {
		Elf64_Nhdr h = {(Elf64_Word)strlen(notes[i].name) + 1,
				notes[i].descsz, notes[i].type};
		memcpy(nbuf + nlen, &h, sizeof h);
		nlen += sizeof h;
		memset(nbuf + nlen, 0, 64);
		memcpy(nbuf + nlen, notes[i].name, h.n_namesz - 1);
		nlen += (h.n_namesz + 3) & ~3u;
		memset(nbuf + nlen, 0x5a, notes[i].descsz);
		nlen += (notes[i].descsz + 3) & ~3u;
		assert_true(nlen < sizeof nbuf - 200);
	}
	Elf64_Phdr ph[16];
	memset(ph, 0, sizeof ph);
	assert_true(nph <= 16);
	uint64_t at = sizeof eh + nph * sizeof(Elf64_Phdr);
	ph[0] = (Elf64_Phdr){.p_type = PT_NOTE,
			     .p_offset = at,
			     .p_filesz = nlen,
			     .p_align = 1};
	write_all(fd, nbuf, nlen, at);
	at += nlen;
	uint8_t page[PG];
	for (int i = 0; i < nloads; i++) {
		const struct load *l = &loads[i];
		ph[1 + i] = (Elf64_Phdr){.p_type = PT_LOAD,
					 .p_flags = PF_R,
					 .p_offset = at,
					 .p_vaddr = l->vaddr,
					 .p_paddr = l->paddr,
					 .p_filesz = l->filesz,
					 .p_memsz = l->memsz,
					 .p_align = 1};
		if (off)
			off[i] = at;
		for (uint64_t b = 0; l->seed && b < l->filesz; b += PG) {
			fill_page(page, l->seed + (unsigned)(b / PG));
			uint64_t n = l->filesz - b < PG ? l->filesz - b : PG;
			write_all(fd, page, n, at + b);
		}
		at += l->filesz;
	}
	assert_int_equal(ftruncate(fd, (off_t)at), 0);
	if (tw && tw->xnum) {
		Elf64_Shdr sh;
		memset(&sh, 0, sizeof sh);
		sh.sh_info = (Elf64_Word)nph;
		eh.e_phnum = PN_XNUM;
		eh.e_shoff = at;
		eh.e_shentsize = sizeof sh;
		eh.e_shnum = 1;
		write_all(fd, &sh, sizeof sh, at);
	}
	write_all(fd, &eh, sizeof eh, 0);
	write_all(fd, ph, nph * sizeof(Elf64_Phdr), sizeof eh);
	close(fd);
}

/* What one page read back should be. */
struct want {
	uint64_t addr;
	unsigned seed;
	uint64_t len; /* bytes of it in the file (the rest reads as zeros) */
};

/* The expected pages of loads, addressed by p_paddr or p_vaddr. */
static int wants_of(const struct load *loads, int n, int by_paddr,
		    struct want *w, int max)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		for (uint64_t b = 0; b < loads[i].filesz; b += PG) {
			assert_true(k < max);
			w[k].addr = (by_paddr ? loads[i].paddr
					      : loads[i].vaddr) +
				    b;
			w[k].seed = loads[i].seed + (unsigned)(b / PG);
			w[k].len = loads[i].filesz - b < PG
					   ? loads[i].filesz - b
					   : PG;
			k++;
		}
	return k;
}

static void expect_page(const uint8_t *got, const struct want *w,
			const char *how)
{
	uint8_t page[PG];
	fill_page(page, w->seed);
	memset(page + w->len, 0, PG - w->len);
	if (memcmp(got, page, PG) != 0)
		fail_msg("%s: the page at 0x%llx differs", how,
			 (unsigned long long)w->addr);
}

static struct mv_image *open_ok(const char *path)
{
	struct mv_image *img = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_image_open(path, &img, &err), &err, path);
	assert_string_equal(mv_image_name(img), path);
	return img;
}

/* Every page of img comes back as w[0..n), in order, and again through
 * mv_image_read; then the end. */
static void expect_pages(struct mv_image *img, const struct want *w, int n)
{
	struct mv_image_extent e;
	struct mv_error err = {0};
	int k = 0, rc;
	uint8_t page[PG];
	while ((rc = mv_image_next(img, &e, &err)) == 1) {
		assert_int_equal(e.flags & MV_IMAGE_MERGEABLE,
				 MV_IMAGE_MERGEABLE);
		assert_true(e.npages > 0);
		for (uint64_t i = 0; i < e.npages; i++, k++) {
			assert_true(k < n);
			assert_int_equal(e.addr + i * PG, w[k].addr);
			expect_page(e.bytes + i * PG, &w[k], "next");
		}
	}
	mvt_ok(rc, &err, "mv_image_next");
	assert_int_equal(k, n);
	assert_int_equal(mv_image_next(img, &e, &err), 0);
	for (int i = n - 1; i >= 0; i--) {
		memset(page, 0xee, sizeof page);
		mvt_ok(mv_image_read(img, w[i].addr, page, &err), &err,
		       "mv_image_read");
		expect_page(page, &w[i], "mv_image_read");
	}
}

static const struct note qemu_notes[] = {
	{"CORE", NT_PRSTATUS, 336},
	{"QEMU", 0, 432},
	{"CORE", NT_PRSTATUS, 336},
	{"QEMU", 0, 432},
};

static const struct note gcore_notes[] = {
	{"CORE", NT_PRPSINFO, 136}, {"CORE", NT_PRSTATUS, 336},
	{"CORE", NT_FPREGSET, 512}, {"CORE", NT_SIGINFO, 128},
	{"CORE", NT_AUXV, 368},     {"CORE", NT_FILE, 1659},
};

static void
test_guest_dump_pages_come_back_at_their_guest_physical_address(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/guest.elf", dir);
	const struct load loads[] = {
		{0x0, 0, 2 * PG, 2 * PG, 10},
		{0x100000, 0, 3 * PG, 3 * PG, 20},
		{0x7ff00000, 0, PG, PG, 30},
	};
	write_elf(path, qemu_notes, 4, loads, 3, NULL, NULL);
	struct mv_image *img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_GUEST_ELF);
	struct want w[8];
	int n = wants_of(loads, 3, 1, w, 8);
	assert_int_equal(n, 6);
	expect_pages(img, w, n);
	mv_image_close(img);
	mvt_rmdir(dir);
}

static void
test_dump_without_qemu_notes_is_a_guest_by_its_physical_addresses(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/old-qemu.elf", dir);
	/* QEMU before its "QEMU" notes: CORE NT_PRSTATUS only */
	const struct load loads[] = {
		{0x0, 0, PG, PG, 1},
		{0x200000, 0, PG, PG, 2},
	};
	write_elf(path, qemu_notes, 1, loads, 2, NULL, NULL);
	struct mv_image *img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_GUEST_ELF);
	struct want w[4];
	expect_pages(img, w, wants_of(loads, 2, 1, w, 4));
	mv_image_close(img);
	mvt_rmdir(dir);
}

static void
test_process_core_is_read_by_vaddr_without_the_unwritten_tail(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/core", dir);
	/* the middle one: one page written of four (the kernel and gcore
	 * leave out what they do not dump) */
	const struct load loads[] = {
		{0, 0x400000, 2 * PG, 2 * PG, 40},
		{0, 0x7f0000000000, PG, 4 * PG, 50},
		{0, 0x7ffd00000000, 3 * PG, 3 * PG, 60},
	};
	write_elf(path, gcore_notes, 6, loads, 3, NULL, NULL);
	struct mv_image *img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_CORE_ELF);
	struct want w[8];
	int n = wants_of(loads, 3, 0, w, 8);
	assert_int_equal(n, 6);
	expect_pages(img, w, n);
	/* the pages beyond p_filesz are not in the image */
	uint8_t page[PG];
	struct mv_error err = {0};
	assert_int_equal(mv_image_read(img, 0x7f0000001000, page, &err),
			 MV_ENOENT);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "0x7f0000001000"));
	mv_image_close(img);

	/* no notes that decide: all p_paddr 0 -> a process core */
	write_elf(path, qemu_notes, 1, loads, 3, NULL, NULL);
	img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_CORE_ELF);
	mv_image_close(img);
	mvt_rmdir(dir);
}

static void test_partial_last_page_is_padded_with_zeros(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/guest.elf", dir);
	const struct load loads[] = {
		{0x1000, 0, 2 * PG + 100, 3 * PG, 70},
		{0x10000, 0, 100, PG, 80},
		{0x20000, 0, PG, PG, 90},
	};
	write_elf(path, qemu_notes, 2, loads, 3, NULL, NULL);
	struct mv_image *img = open_ok(path);
	struct want w[8];
	int n = wants_of(loads, 3, 1, w, 8);
	assert_int_equal(n, 5);
	expect_pages(img, w, n);
	mv_image_close(img);
	mvt_rmdir(dir);
}

static void
test_program_header_count_from_section_zero_when_pn_xnum(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/xnum.elf", dir);
	const struct load loads[] = {
		{0x0, 0, PG, PG, 3},
		{0x3000, 0, PG, PG, 4},
	};
	struct tweak tw = {.xnum = 1};
	write_elf(path, qemu_notes, 2, loads, 2, &tw, NULL);
	struct mv_image *img = open_ok(path);
	struct want w[4];
	expect_pages(img, w, wants_of(loads, 2, 1, w, 4));
	mv_image_close(img);
	mvt_rmdir(dir);
}

static void test_raw_file_pages_are_at_their_file_offsets(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/ram.bin", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	struct want w[5];
	uint8_t page[PG];
	for (int i = 0; i < 5; i++) {
		w[i] = (struct want){(uint64_t)i * PG, i == 2 ? 0 : 100 + i,
				     PG};
		fill_page(page, w[i].seed);
		write_all(fd, page, PG, (uint64_t)i * PG);
	}
	close(fd);
	struct mv_image *img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_RAW);
	expect_pages(img, w, 5);
	mv_image_close(img);
	mvt_rmdir(dir);
}

/* Pages 0, 16383, 16384 and the last of a run of 16384 + 3 pages hold
 * patterns (the rest: holes, zeros); off is the run's file offset. */
static const uint64_t big_marked[] = {0, 16383, 16384, 16386};

static void mark_big(int fd, uint64_t off)
{
	uint8_t page[PG];
	for (int i = 0; i < 4; i++) {
		fill_page(page, 500 + i);
		write_all(fd, page, PG, off + big_marked[i] * PG);
	}
}

/* img yields 16384 + 3 pages from addr base: a full 64 MiB window, then
 * the rest; the marked pages hold their patterns, the others zeros. */
static void expect_big(struct mv_image *img, uint64_t base)
{
	struct mv_image_extent e;
	struct mv_error err = {0};
	uint8_t zero[PG] = {0};
	uint64_t k = 0;
	int extents = 0, rc;
	while ((rc = mv_image_next(img, &e, &err)) == 1) {
		extents++;
		assert_true(e.npages <= MV_IMAGE_WINDOW / PG);
		assert_int_equal(e.addr, base + k * PG);
		for (uint64_t i = 0; i < e.npages; i++, k++) {
			struct want w = {base + k * PG, 0, PG};
			for (int m = 0; m < 4; m++)
				if (big_marked[m] == k)
					w.seed = 500 + m;
			if (w.seed)
				expect_page(e.bytes + i * PG, &w, "next");
			else if (memcmp(e.bytes + i * PG, zero, PG))
				fail_msg("page %llu is not zero",
					 (unsigned long long)k);
		}
	}
	mvt_ok(rc, &err, "mv_image_next");
	assert_int_equal(k, 16387);
	assert_int_equal(extents, 2);
	uint8_t page[PG];
	for (int m = 0; m < 4; m++) {
		struct want w = {base + big_marked[m] * PG, 500 + m, PG};
		mvt_ok(mv_image_read(img, w.addr, page, &err), &err, "read");
		expect_page(page, &w, "mv_image_read");
	}
}

static void test_runs_longer_than_the_window_come_back_whole(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	/* raw: sparse, 64 MiB + 3 pages */
	snprintf(path, sizeof path, "%s/big.raw", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16387 * (off_t)PG), 0);
	mark_big(fd, 0);
	close(fd);
	struct mv_image *img = open_ok(path);
	expect_big(img, 0);
	mv_image_close(img);
	/* ELF: the same run at an unaligned file offset */
	snprintf(path, sizeof path, "%s/big.elf", dir);
	const struct load loads[] = {
		{0x100000000, 0, 16387 * (uint64_t)PG, 16387 * (uint64_t)PG, 0},
	};
	uint64_t off[1];
	write_elf(path, qemu_notes, 2, loads, 1, NULL, off);
	assert_true(off[0] % PG != 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	mark_big(fd, off[0]);
	close(fd);
	img = open_ok(path);
	expect_big(img, 0x100000000);
	mv_image_close(img);
	mvt_rmdir(dir);
}

/* Opening path fails with MV_EINVAL naming it, with part in the message. */
static void expect_bad(const char *path, const char *part)
{
	struct mv_image *img = (struct mv_image *)1;
	struct mv_error err = {0};
	char buf[700];
	int rc = mv_image_open(path, &img, &err);
	mv_error_format(&err, buf, sizeof buf);
	if (rc != MV_EINVAL || strcmp(err.file, path) != 0 ||
	    !strstr(err.msg, part) || img != NULL)
		fail_msg("%s: expected MV_EINVAL with \"%s\", got rc %d: %s",
			 path, part, rc, buf);
	printf("note: %s\n", buf);
}

static void
test_bad_files_fail_with_one_clear_error_naming_the_file(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	const struct load loads[] = {
		{0x0, 0, 2 * PG, 2 * PG, 10},
		{0x100000, 0, 3 * PG, 3 * PG, 20},
		{0x7ff00000, 0, PG, PG, 30},
	};
	uint64_t off[3];

	snprintf(path, sizeof path, "%s/truncated.elf", dir);
	write_elf(path, qemu_notes, 4, loads, 3, NULL, off);
	assert_int_equal(truncate(path, (off_t)(off[2] + PG / 2)), 0);
	expect_bad(path, "truncated: segment 3 (PT_LOAD");

	snprintf(path, sizeof path, "%s/overlap.elf", dir);
	const struct load ov[] = {
		{0x0, 0, 2 * PG, 2 * PG, 10},
		{0x100000, 0, PG, PG, 20},
		{0x1000, 0, PG, PG, 30},
	};
	write_elf(path, qemu_notes, 4, ov, 3, NULL, NULL);
	expect_bad(path, "segments 1 and 3 overlap at 0x1000");

	snprintf(path, sizeof path, "%s/elf32", dir);
	write_elf(path, qemu_notes, 4, loads, 3,
		  &(struct tweak){.elfclass = ELFCLASS32}, NULL);
	expect_bad(path, "32-bit ELF");

	snprintf(path, sizeof path, "%s/bigendian.elf", dir);
	write_elf(path, qemu_notes, 4, loads, 3,
		  &(struct tweak){.data = ELFDATA2MSB}, NULL);
	expect_bad(path, "big-endian ELF");

	snprintf(path, sizeof path, "%s/a.out", dir);
	write_elf(path, qemu_notes, 4, loads, 3,
		  &(struct tweak){.type = ET_EXEC}, NULL);
	expect_bad(path, "ET_EXEC (an executable) is not a memory image");

	snprintf(path, sizeof path, "%s/unaligned.elf", dir);
	const struct load ua[] = {{0x1800, 0, PG, PG, 10}};
	write_elf(path, qemu_notes, 4, ua, 1, NULL, NULL);
	expect_bad(path, "segment 1: address 0x1800 is not 4 KiB-aligned");

	snprintf(path, sizeof path, "%s/noload.elf", dir);
	const struct load nl[] = {{0x1000, 0, 0, PG, 10}};
	write_elf(path, qemu_notes, 4, nl, 1, NULL, NULL);
	expect_bad(path, "no PT_LOAD segment holds bytes");

	snprintf(path, sizeof path, "%s/header.elf", dir);
	write_elf(path, qemu_notes, 4, loads, 3, NULL, NULL);
	assert_int_equal(truncate(path, 40), 0);
	expect_bad(path, "shorter than the 64-byte ELF header");

	snprintf(path, sizeof path, "%s/phdrs.elf", dir);
	write_elf(path, qemu_notes, 4, loads, 3, NULL, NULL);
	assert_int_equal(truncate(path, 64 + 56 + 10), 0);
	expect_bad(path, "the 4 program headers at offset 64 go past the end");

	snprintf(path, sizeof path, "%s/odd.raw", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, PG + 1), 0);
	close(fd);
	expect_bad(path, "4097 bytes is not a multiple of 4096");

	snprintf(path, sizeof path, "%s/empty", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	expect_bad(path, "empty file");

	snprintf(path, sizeof path, "%s/guest.kdump", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	write_all(fd, "KDUMP   ", 8, 0);
	assert_int_equal(ftruncate(fd, 4 * PG), 0);
	close(fd);
	expect_bad(path, "compressed kdump");

	snprintf(path, sizeof path, "%s/subdir", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	expect_bad(path, "not a regular file");
	assert_int_equal(rmdir(path), 0);
	mvt_rmdir(dir);
}

static void test_read_of_an_address_not_in_the_image_is_enoent(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvimg");
	char path[512];
	snprintf(path, sizeof path, "%s/guest.elf", dir);
	const struct load loads[] = {
		{0x10000, 0, 2 * PG, 2 * PG, 10},
		{0x20000, 0, PG, PG, 20},
	};
	write_elf(path, qemu_notes, 2, loads, 2, NULL, NULL);
	struct mv_image *img = open_ok(path);
	uint8_t page[PG];
	struct mv_error err = {0};
	static const uint64_t nowhere[] = {
		0, 0xf000, 0x12000, 0x11800, 0x21000, UINT64_MAX & ~0xfffull};
	for (size_t i = 0; i < sizeof nowhere / sizeof nowhere[0]; i++)
		assert_int_equal(mv_image_read(img, nowhere[i], page, &err),
				 MV_ENOENT);
	mv_image_close(img);
	mvt_rmdir(dir);
}

/*
 * A gcore of a child whose page at a known address holds a pattern. Not
 * under AddressSanitizer: a forked ASan process maps terabytes of shadow
 * memory, and gdb's gcore dumped 78 GB of it here before the disk was
 * full. The dump is also capped at 1 GiB (ulimit -f), so a process larger
 * than this small child fails the test instead of filling the disk.
 */
#if defined(__SANITIZE_ADDRESS__)
#define MVT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MVT_ASAN 1
#endif
#endif

static void test_real_gcore_of_a_child_holds_its_page_at_its_vaddr(void **state)
{
	(void)state;
#ifdef MVT_ASAN
	printf("SKIP: under AddressSanitizer a core of the child would hold "
	       "its shadow memory (terabytes mapped); the normal build runs "
	       "this test\n");
	skip();
#endif
	if (system("command -v gcore >/dev/null 2>&1") != 0) {
		printf("SKIP: gcore not installed (Debian package gdb)\n");
		skip();
	}
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		fill_page(p + PG, 4242);
		uint64_t a = (uint64_t)(uintptr_t)(p + PG);
		if (write(pfd[1], &a, sizeof a) != sizeof a)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	uint64_t addr = 0;
	assert_int_equal(read(pfd[0], &addr, sizeof addr), sizeof addr);
	close(pfd[0]);
	char *dir = mvt_tmpdir("mvimg");
	char cmd[1200], path[512], log[700];
	snprintf(log, sizeof log, "%s/gcore.log", dir);
	snprintf(cmd, sizeof cmd,
		 "ulimit -f 1048576; gcore -o %s/core %d >%s 2>&1", dir,
		 (int)pid, log);
	int rc = system(cmd);
	snprintf(path, sizeof path, "%s/core.%d", dir, (int)pid);
	struct stat st;
	if (rc != 0 || stat(path, &st) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		char out[400];
		mvt_read_file(log, out, sizeof out);
		mvt_rmdir(dir);
		printf("SKIP: gcore could not dump the child (ptrace "
		       "refused?): %s\n",
		       out);
		skip();
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	struct mv_image *img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_CORE_ELF);
	struct mv_image_extent e;
	struct mv_error err = {0};
	struct want w = {addr, 4242, PG};
	int found = 0;
	uint64_t pages = 0, last = 0;
	while ((rc = mv_image_next(img, &e, &err)) == 1) {
		pages += e.npages;
		last = e.addr;
		if (addr >= e.addr && addr - e.addr < e.npages * PG) {
			expect_page(e.bytes + (addr - e.addr), &w, "gcore");
			found = 1;
		}
	}
	mvt_ok(rc, &err, "mv_image_next");
	assert_true(found);
	uint8_t page[PG];
	mvt_ok(mv_image_read(img, addr, page, &err), &err, "mv_image_read");
	expect_page(page, &w, "gcore mv_image_read");
	printf("note: gcore of pid %d: %llu pages, %lld bytes, the pattern "
	       "at 0x%llx (last extent at 0x%llx)\n",
	       (int)pid, (unsigned long long)pages, (long long)st.st_size,
	       (unsigned long long)addr, (unsigned long long)last);
	mv_image_close(img);
	mvt_rmdir(dir);
}

/*
 * A real QEMU dump (dump-guest-memory, the format `virsh dump --memory-only
 * --format=elf` writes) of a 64 MiB PC stopped before its first
 * instruction: a guest dump whose RAM reads as zeros and whose BIOS ROM at
 * guest-physical 0xfffc0000 holds SeaBIOS's bios-256k.bin, byte for byte.
 */
static void
test_real_qemu_dump_holds_the_bios_at_its_guest_address(void **state)
{
	(void)state;
	const char *bios = "/usr/share/seabios/bios-256k.bin";
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0 ||
	    access(bios, R_OK) != 0) {
		printf("SKIP: qemu-system-x86_64 or %s missing (Debian package "
		       "qemu-system-x86)\n",
		       bios);
		skip();
	}
	char *dir = mvt_tmpdir("mvqemu");
	char cmd[2048], path[512];
	snprintf(path, sizeof path, "%s/guest.elf", dir);
	/* the monitor on stdin: dump, wait for the file, quit */
	snprintf(cmd, sizeof cmd,
		 "(echo 'dump-guest-memory %s'; i=0; while [ ! -s %s ] && "
		 "[ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.5; "
		 "echo quit) | timeout 60 qemu-system-x86_64 -M pc -m 64 -S "
		 "-display none -nodefaults -monitor stdio >%s/qemu.log 2>&1",
		 path, path, dir);
	int rc = system(cmd);
	struct stat st;
	if (rc != 0 || stat(path, &st) != 0) {
		char out[400] = "";
		snprintf(cmd, sizeof cmd, "%s/qemu.log", dir);
		mvt_read_file(cmd, out, sizeof out);
		mvt_rmdir(dir);
		fail_msg("qemu could not dump: %s", out);
	}
	uint8_t *rom = malloc(256 * 1024);
	assert_non_null(rom);
	FILE *f = fopen(bios, "rb");
	assert_non_null(f);
	assert_int_equal(fread(rom, 1, 256 * 1024, f), 256 * 1024);
	fclose(f);

	struct mv_image *img = open_ok(path);
	assert_int_equal(mv_image_kind(img), MV_IMAGE_GUEST_ELF);
	struct mv_image_extent e;
	struct mv_error err = {0};
	uint64_t pages = 0, rom_pages = 0, ram_nonzero = 0;
	while ((rc = mv_image_next(img, &e, &err)) == 1) {
		for (uint64_t i = 0; i < e.npages; i++) {
			uint64_t a = e.addr + i * PG;
			const uint8_t *b = e.bytes + i * PG;
			pages++;
			if (a >= 0xfffc0000ull) {
				assert_memory_equal(
					b, rom + (a - 0xfffc0000ull), PG);
				rom_pages++;
			} else if (a >= 0x100000) {
				/* RAM above 1 MiB: never written */
				for (int k = 0; k < (int)PG; k++)
					if (b[k]) {
						ram_nonzero++;
						break;
					}
			}
		}
	}
	mvt_ok(rc, &err, "mv_image_next");
	assert_int_equal(rom_pages, 64);
	assert_int_equal(ram_nonzero, 0);
	assert_true(pages >= 64 * 256);
	uint8_t page[PG];
	mvt_ok(mv_image_read(img, 0xffffe000ull, page, &err), &err,
	       "mv_image_read");
	assert_memory_equal(page, rom + 0x3e000, PG);
	printf("note: QEMU dump of a 64 MiB PC: %llu pages, the 256 KiB BIOS "
	       "at 0xfffc0000\n",
	       (unsigned long long)pages);
	free(rom);
	mv_image_close(img);
	mvt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_guest_dump_pages_come_back_at_their_guest_physical_address),
		cmocka_unit_test(
			test_dump_without_qemu_notes_is_a_guest_by_its_physical_addresses),
		cmocka_unit_test(
			test_process_core_is_read_by_vaddr_without_the_unwritten_tail),
		cmocka_unit_test(
			test_real_qemu_dump_holds_the_bios_at_its_guest_address),
		cmocka_unit_test(test_partial_last_page_is_padded_with_zeros),
		cmocka_unit_test(
			test_program_header_count_from_section_zero_when_pn_xnum),
		cmocka_unit_test(test_raw_file_pages_are_at_their_file_offsets),
		cmocka_unit_test(
			test_runs_longer_than_the_window_come_back_whole),
		cmocka_unit_test(
			test_bad_files_fail_with_one_clear_error_naming_the_file),
		cmocka_unit_test(
			test_read_of_an_address_not_in_the_image_is_enoent),
		cmocka_unit_test(
			test_real_gcore_of_a_child_holds_its_page_at_its_vaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
