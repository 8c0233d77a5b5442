/*
 * elf.c - ELF memory images: QEMU/libvirt guest dumps and process cores.
 *
 * Both are 64-bit little-endian ET_CORE files (others are refused, naming
 * what the file is): a PT_NOTE segment of notes, then PT_LOAD segments
 * whose file bytes are memory. They differ in what the segments' addresses
 * mean:
 *
 *   - a guest dump (`virsh dump --memory-only --format=elf`, QEMU's
 *     dump-guest-memory) holds guest RAM: p_paddr is the guest-physical
 *     address (p_vaddr is 0, or a guest-virtual address with paging);
 *     extents are addressed by p_paddr, kind MV_IMAGE_GUEST_ELF.
 *   - a process core (gdb's gcore, the kernel's core dump) holds a
 *     process's mappings: p_vaddr is the virtual address, p_paddr 0;
 *     extents are addressed by p_vaddr, kind MV_IMAGE_CORE_ELF.
 *
 * Which one a file is comes from its notes, then its addresses:
 *   1. a note named "QEMU" (QEMU writes one per vCPU, with its register
 *      state, since QEMU 1.6) -> guest dump;
 *   2. a "CORE" note only a process has: NT_FILE (the mapped files),
 *      NT_PRPSINFO, NT_AUXV or NT_SIGINFO -> process core (QEMU writes
 *      CORE NT_PRSTATUS per vCPU too, so that one decides nothing);
 *   3. otherwise every PT_LOAD has p_paddr 0 and some p_vaddr is not 0
 *      -> process core; else a guest dump (older QEMU, other dumpers).
 *
 * Bytes beyond p_filesz (p_filesz < p_memsz) are not read. In an
 * executable they would be zeros (.bss), but in a core they are memory the
 * dumper left out: the kernel writes p_filesz 0 for mappings its
 * coredump_filter skips (read-only file-backed text, for instance) and
 * gcore for unmodified read-only file mappings, and QEMU for mappings that
 * are not guest RAM. Counting them as zero pages would report megabytes of
 * library code as zeros; the analysis sees only the pages the file holds.
 * A p_filesz that is not a multiple of 4096 ends in a partial page, padded
 * with zeros.
 *
 * Segment file offsets need not be page-aligned (QEMU and gcore put the
 * memory right after the notes): raw.c maps around them. Segment addresses
 * must be page-aligned; PT_LOADs overlapping in the address space are
 * refused (QEMU's dump-guest-memory -p, with paging, can map one physical
 * page at two virtual addresses: dump without -p). More than 65534
 * program headers (PN_XNUM) are read from section header 0's sh_info, as
 * QEMU and the kernel write them for huge dumps. Extents come in the order
 * of the program headers, which is file order.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/raw.h"

/* Notes are read up to this much per PT_NOTE: those that decide come
 * first, and the rest (NT_FILE of a huge process) need not be read. */
#define NOTES_MAX (16u * 1024 * 1024)

enum note_says { NOTES_NOTHING, NOTES_GUEST, NOTES_PROCESS };

static int elf_fail(struct mv_error *err, const char *path, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int elf_fail(struct mv_error *err, const char *path, const char *field,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mv_error_vset(err, MV_EINVAL, path, 0, field, fmt, ap);
	va_end(ap);
	return MV_EINVAL;
}

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, (char *)buf + got, n - got,
				  (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* What the notes in buf[0..n) say about the kind of file. */
static enum note_says parse_notes(const uint8_t *buf, uint64_t n)
{
	enum note_says says = NOTES_NOTHING;
	uint64_t at = 0;
	while (n - at >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr h;
		memcpy(&h, buf + at, sizeof h);
		uint64_t name = at + sizeof h;
		uint64_t desc = name + (((uint64_t)h.n_namesz + 3) & ~3ull);
		uint64_t next = desc + (((uint64_t)h.n_descsz + 3) & ~3ull);
		if (next > n)
			break; /* a cut note: the ones before it count */
		const char *nm = (const char *)buf + name;
		if (h.n_namesz >= 4 && memcmp(nm, "QEMU", 4) == 0 &&
		    (h.n_namesz == 4 || nm[4] == '\0'))
			return NOTES_GUEST;
		if (h.n_namesz == 5 && memcmp(nm, "CORE", 5) == 0 &&
		    (h.n_type == NT_FILE || h.n_type == NT_PRPSINFO ||
		     h.n_type == NT_AUXV || h.n_type == NT_SIGINFO))
			says = NOTES_PROCESS;
		at = next;
	}
	return says;
}

static const char *elf_type_name(unsigned t)
{
	switch (t) {
	case ET_NONE:
		return "ET_NONE (no file type)";
	case ET_REL:
		return "ET_REL (an object file)";
	case ET_EXEC:
		return "ET_EXEC (an executable)";
	case ET_DYN:
		return "ET_DYN (a shared library or PIE executable)";
	default:
		return "unknown";
	}
}

/* The header checks: 64-bit, little-endian, ET_CORE, a sane phdr table. */
static int check_header(const Elf64_Ehdr *eh, uint64_t fsize, int fd,
			const char *path, uint64_t *phnum, struct mv_error *err)
{
	const unsigned char *id = eh->e_ident;
	if (id[EI_CLASS] == ELFCLASS32)
		return elf_fail(err, path, "e_ident",
				"32-bit ELF (ELFCLASS32): memvisor reads "
				"64-bit little-endian ELF dumps and cores");
	if (id[EI_CLASS] != ELFCLASS64)
		return elf_fail(err, path, "e_ident",
				"bad ELF class %u (64-bit is 2)", id[EI_CLASS]);
	if (id[EI_DATA] == ELFDATA2MSB)
		return elf_fail(err, path, "e_ident",
				"big-endian ELF (ELFDATA2MSB): memvisor reads "
				"64-bit little-endian ELF dumps and cores");
	if (id[EI_DATA] != ELFDATA2LSB)
		return elf_fail(err, path, "e_ident",
				"bad ELF data encoding %u (little-endian is 1)",
				id[EI_DATA]);
	if (fsize < sizeof *eh)
		return elf_fail(err, path, "e_ident",
				"truncated: %llu bytes, shorter than the "
				"64-byte ELF header",
				(unsigned long long)fsize);
	if (eh->e_type != ET_CORE)
		return elf_fail(err, path, "e_type",
				"%s is not a memory image: a memory dump or "
				"core is ET_CORE",
				elf_type_name(eh->e_type));
	*phnum = eh->e_phnum;
	if (eh->e_phnum == PN_XNUM) {
		/* the real count is in section header 0 */
		Elf64_Shdr sh;
		if (eh->e_shoff == 0 || eh->e_shoff > fsize ||
		    fsize - eh->e_shoff < sizeof sh ||
		    read_at(fd, &sh, sizeof sh, eh->e_shoff))
			return elf_fail(err, path, "e_shoff",
					"e_phnum is PN_XNUM but section "
					"header 0, which holds the count, is "
					"not in the file");
		*phnum = sh.sh_info;
	}
	if (*phnum == 0)
		return elf_fail(err, path, "e_phnum",
				"no program headers: no memory in the file");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return elf_fail(err, path, "e_phentsize",
				"program headers of %u bytes (64-bit ELF's "
				"are %zu)",
				eh->e_phentsize, sizeof(Elf64_Phdr));
	if (eh->e_phoff > fsize ||
	    (fsize - eh->e_phoff) / sizeof(Elf64_Phdr) < *phnum)
		return elf_fail(err, path, "e_phoff",
				"truncated: the %llu program headers at "
				"offset %llu go past the end of the file "
				"(%llu bytes)",
				(unsigned long long)*phnum,
				(unsigned long long)eh->e_phoff,
				(unsigned long long)fsize);
	return 0;
}

/* Segment i's file bytes lie inside the file. */
static int check_inside(const Elf64_Phdr *p, uint64_t i, uint64_t fsize,
			const char *path, struct mv_error *err)
{
	if (p->p_offset <= fsize && p->p_filesz <= fsize - p->p_offset)
		return 0;
	return elf_fail(err, path, "p_filesz",
			"truncated: segment %llu (%s, %llu bytes at file "
			"offset %llu) goes past the end of the file (%llu "
			"bytes)",
			(unsigned long long)i,
			p->p_type == PT_NOTE ? "PT_NOTE" : "PT_LOAD",
			(unsigned long long)p->p_filesz,
			(unsigned long long)p->p_offset,
			(unsigned long long)fsize);
}

/* What the PT_NOTE segments say. */
static int read_notes(int fd, const Elf64_Phdr *ph, uint64_t phnum,
		      uint64_t fsize, const char *path, enum note_says *says,
		      struct mv_error *err)
{
	*says = NOTES_NOTHING;
	for (uint64_t i = 0; i < phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_NOTE || p->p_filesz == 0)
			continue;
		int rc = check_inside(p, i, fsize, path, err);
		if (rc)
			return rc;
		size_t n = p->p_filesz < NOTES_MAX ? (size_t)p->p_filesz
						   : NOTES_MAX;
		uint8_t *buf = malloc(n);
		if (!buf)
			return mv_error_set(err, MV_ENOMEM, path, 0, "",
					    "out of memory for the notes");
		if (read_at(fd, buf, n, p->p_offset)) {
			free(buf);
			return mv_error_set(err, MV_EIO, path, 0, "",
					    "cannot read the notes of "
					    "segment %llu: %s",
					    (unsigned long long)i,
					    strerror(errno));
		}
		enum note_says s = parse_notes(buf, n);
		free(buf);
		if (s == NOTES_GUEST) {
			*says = s;
			return 0;
		}
		if (s == NOTES_PROCESS)
			*says = s;
	}
	return 0;
}

/* Rule 3 of the header comment: the addresses decide. */
static enum mv_image_kind kind_by_address(const Elf64_Phdr *ph, uint64_t phnum)
{
	int paddr = 0, vaddr = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		paddr |= ph[i].p_paddr != 0;
		vaddr |= ph[i].p_vaddr != 0;
	}
	return !paddr && vaddr ? MV_IMAGE_CORE_ELF : MV_IMAGE_GUEST_ELF;
}

/* The runs of the PT_LOAD segments with bytes in the file. */
static int collect_runs(const Elf64_Phdr *ph, uint64_t phnum, uint64_t fsize,
			enum mv_image_kind kind, const char *path,
			struct mv_image_run **out, size_t *nout,
			struct mv_error *err)
{
	size_t n = 0;
	for (uint64_t i = 0; i < phnum; i++)
		n += ph[i].p_type == PT_LOAD && ph[i].p_filesz;
	if (n == 0)
		return elf_fail(err, path, "PT_LOAD",
				"no memory in the file: no PT_LOAD segment "
				"holds bytes");
	struct mv_image_run *run = malloc(n * sizeof *run);
	if (!run)
		return mv_error_set(err, MV_ENOMEM, path, 0, "",
				    "out of memory for %zu segments", n);
	const char *field = kind == MV_IMAGE_GUEST_ELF ? "p_paddr" : "p_vaddr";
	n = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD || p->p_filesz == 0)
			continue;
		uint64_t addr = kind == MV_IMAGE_GUEST_ELF ? p->p_paddr
							   : p->p_vaddr;
		int rc = check_inside(p, i, fsize, path, err);
		if (!rc && addr % MV_PAGE_SIZE)
			rc = elf_fail(err, path, field,
				      "segment %llu: address 0x%llx is not "
				      "4 KiB-aligned",
				      (unsigned long long)i,
				      (unsigned long long)addr);
		if (rc) {
			free(run);
			return rc;
		}
		run[n++] = (struct mv_image_run){.addr = addr,
						 .off = p->p_offset,
						 .len = p->p_filesz,
						 .idx = (unsigned)i};
	}
	*out = run;
	*nout = n;
	return 0;
}

int mv_image_open_elf(struct mv_image *img, int fd, const char *path,
		      struct mv_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return mv_error_set(err, MV_EIO, path, 0, "", "cannot stat: %s",
				    strerror(errno));
	uint64_t fsize = (uint64_t)st.st_size;
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof eh);
	size_t head = fsize < sizeof eh ? (size_t)fsize : sizeof eh;
	if (head < EI_NIDENT)
		return elf_fail(err, path, "e_ident",
				"truncated: %llu bytes, shorter than the ELF "
				"identification",
				(unsigned long long)fsize);
	if (read_at(fd, &eh, head, 0))
		return mv_error_set(err, MV_EIO, path, 0, "", "cannot read: %s",
				    strerror(errno));
	uint64_t phnum = 0;
	int rc = check_header(&eh, fsize, fd, path, &phnum, err);
	if (rc)
		return rc;
	Elf64_Phdr *ph = malloc(phnum * sizeof *ph);
	if (!ph)
		return mv_error_set(err, MV_ENOMEM, path, 0, "",
				    "out of memory for %llu program headers",
				    (unsigned long long)phnum);
	if (read_at(fd, ph, phnum * sizeof *ph, eh.e_phoff)) {
		free(ph);
		return mv_error_set(err, MV_EIO, path, 0, "",
				    "cannot read the program headers: %s",
				    strerror(errno));
	}
	enum note_says says;
	rc = read_notes(fd, ph, phnum, fsize, path, &says, err);
	enum mv_image_kind kind = says == NOTES_GUEST ? MV_IMAGE_GUEST_ELF
				  : says == NOTES_PROCESS
					  ? MV_IMAGE_CORE_ELF
					  : kind_by_address(ph, phnum);
	struct mv_image_run *run = NULL;
	size_t nrun = 0;
	if (!rc)
		rc = collect_runs(ph, phnum, fsize, kind, path, &run, &nrun,
				  err);
	free(ph);
	if (rc)
		return rc;
	rc = mv_image_runs_attach(img, fd, run, nrun, err);
	if (rc)
		return rc;
	img->kind = kind;
	return 0;
}
