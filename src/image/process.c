/*
 * process.c - a live process as a source of pages, read the way Linux KSM
 * sees it: /proc/PID/smaps, /proc/PID/pagemap and /proc/PID/mem.
 *
 * smaps lists the process's areas (VMAs), each with the maps line (range,
 * permissions, file) and its VmFlags: "mg" is VM_MERGEABLE, set by
 * madvise(MADV_MERGEABLE) or, on every compatible area, by
 * prctl(PR_SET_MEMORY_MERGE). pagemap holds one 64-bit word per virtual
 * page:
 *
 *	bit 63  present in RAM        bit 62  swapped
 *	bit 61  file page or shared   bit 56  mapped exclusively
 *	        anonymous page        bit 55  soft-dirty
 *	bits 0-54  page frame number (PFN), zero unless the reader has
 *	           CAP_SYS_ADMIN
 *
 * and mem gives the bytes (pread at the virtual address). Only present
 * pages are read, in runs of consecutive present pages with the same
 * flags (at most MV_PROC_RUN pages an extent): swapped and never-touched
 * pages are not in RAM and KSM does not scan them either.
 *
 * Flags, after KSM's rules (mm/ksm.c):
 *   - MV_IMAGE_ANON: an anonymous page of this process: pagemap bit 61
 *     clear, and not the kernel's shared zero page. A page that was only
 *     read maps the zero page; pagemap reports it present with bit 61
 *     clear (the zero page has no struct page KSM could merge), so it is
 *     told apart by its PFN, found at open by reading (not writing) one
 *     fresh page of our own and looking up its PFN in /proc/self/pagemap.
 *     Without CAP_SYS_ADMIN the PFNs read as 0 and zero-page mappings look
 *     like anonymous pages; they are then counted as anonymous.
 *   - MV_IMAGE_MERGEABLE: an anonymous page in an area KSM scans:
 *     VmFlags has "mg", the area is private ('p'), and none of the flags
 *     vma_ksm_compatible() refuses is set (sh, ms: shared; pf: PFN map;
 *     io; de: don't expand; ht: hugetlb; mm: mixed map; dp: droppable).
 *     madvise and prctl refuse to set "mg" on such areas anyway; the
 *     check is for kernels that differ. Anonymous (copied-on-write) pages
 *     of a private file mapping count, as KSM merges them too.
 *
 * [vsyscall] and [vvar] hold no RAM of the process and are skipped, as
 * are areas whose smaps Rss is 0: nothing of theirs is in RAM, and a
 * large reservation would cost a long pagemap walk. Rss does not count
 * zero-page mappings, so those are yielded (flagged neither anonymous nor
 * mergeable) only from areas that hold other resident pages.
 *
 * A live process changes while it is read: the figures are of a moment
 * per page, not of one instant. A page unmapped between its pagemap word
 * and its bytes (mem answers EIO) is passed over as if it had not been
 * present. A process that exits mid-read makes mem and pagemap return
 * nothing: MV_ENOENT "pid N exited while being read". KSM-merged pages
 * read as their content, like any page (their PFN is the KSM page's).
 *
 * Reading another process's pagemap and mem needs ptrace access (root,
 * CAP_SYS_PTRACE, or the same user where Yama allows it); PFNs need
 * CAP_SYS_ADMIN. Sources: Documentation/admin-guide/mm/pagemap.rst,
 * Documentation/filesystems/proc.rst (smaps VmFlags), mm/ksm.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/source.h"

#define MV_PROC_RUN 1024      /* pages an extent holds at most */
#define MV_PROC_PM_BATCH 4096 /* pagemap words read at once */

#define PM_PRESENT (1ull << 63)
#define PM_FILE (1ull << 61)
#define PM_PFN_MASK ((1ull << 55) - 1)

struct proc_vma {
	uint64_t start, end;
	int mergeable; /* KSM scans its anonymous pages */
};

struct proc_src {
	int pid;
	int pagemap_fd, mem_fd;
	struct proc_vma *vma;
	size_t nvma;
	size_t vi;         /* the area next reads */
	uint64_t cur;      /* the next address to look at in it */
	uint64_t zero_pfn; /* the shared zero page's PFN, 0: unknown */
	/* a window of pagemap: words for [pm_addr, pm_addr + pm_n pages) */
	uint64_t pm_addr;
	size_t pm_n;
	uint64_t *pm;
	uint8_t *buf; /* MV_PROC_RUN pages: the bytes of the last extent */
};

/* Non-zero if pid has exited: gone from /proc, or a zombie. */
static int proc_gone(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces and parentheses */
	char *p = strrchr(buf, ')');
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

static int exited(const struct proc_src *s, struct mv_error *err)
{
	char who[32];
	snprintf(who, sizeof who, "pid %d", s->pid);
	return mv_error_set(err, MV_ENOENT, who, 0, "",
			    "pid %d exited while being read", s->pid);
}

/* A whole /proc file in a malloc'd NUL-terminated buffer, or NULL with
 * errno set. */
static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 0, len = 0;
	char *buf = NULL;
	for (;;) {
		/* at least 4096 bytes free: from 64 KiB, doubling */
		if (mv_array_room(&buf, &cap, len + 4095, 1, 1 << 16)) {
			free(buf);
			buf = NULL;
			errno = ENOMEM;
			break;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			buf = NULL;
			errno = e;
			break;
		}
		if (n == 0) {
			buf[len] = '\0';
			break;
		}
		len += (size_t)n;
	}
	int e = errno;
	close(fd);
	errno = e;
	return buf;
}

/* Non-zero if the smaps VmFlags line lists the two-letter flag. */
static int has_vmflag(const char *flags, const char *f)
{
	for (const char *p = flags; *p; p++) {
		if ((p == flags || p[-1] == ' ') && p[0] == f[0] &&
		    p[1] == f[1] && (p[2] == ' ' || p[2] == '\n' || !p[2]))
			return 1;
	}
	return 0;
}

/*
 * KSM scans an area when it is VM_MERGEABLE and vma_ksm_compatible():
 * private, no PFN/IO/mixed map, not hugetlb, not droppable.
 */
static int ksm_scans(char perms_shared, const char *vmflags)
{
	static const char *const refused[] = {"sh", "ms", "pf", "io",
					      "de", "ht", "mm", "dp"};
	if (perms_shared != 'p' || !has_vmflag(vmflags, "mg"))
		return 0;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (has_vmflag(vmflags, refused[i]))
			return 0;
	return 1;
}

static int add_vma(struct proc_src *s, size_t *cap, const struct proc_vma *v)
{
	if (mv_array_room(&s->vma, cap, s->nvma, sizeof *s->vma, 64))
		return MV_ENOMEM;
	s->vma[s->nvma++] = *v;
	return 0;
}

/*
 * The areas of smaps worth reading: those with resident pages, outside
 * [vsyscall] and [vvar]. An area's block is its maps line, then "Key:
 * value" lines ending with VmFlags.
 */
static int parse_smaps(struct proc_src *s, char *text, struct mv_error *err)
{
	size_t cap = 0;
	struct proc_vma v = {0};
	int have = 0, skip = 0;
	uint64_t rss = 0;
	char shared = 's';
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned long long a, b;
		char perms[5];
		int off = 0;
		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s%n", &a, &b, perms,
			   &off) == 3 &&
		    off > 0) {
			const char *path = line + off;
			while (*path == ' ')
				path++;
			v.start = a;
			v.end = b;
			v.mergeable = 0;
			shared = perms[3];
			have = 1;
			rss = 0;
			skip = strncmp(path, "[vsyscall]", 10) == 0 ||
			       strncmp(path, "[vvar", 5) == 0;
			continue;
		}
		if (!have)
			continue;
		if (strncmp(line, "Rss:", 4) == 0) {
			rss = strtoull(line + 4, NULL, 10);
		} else if (strncmp(line, "VmFlags:", 8) == 0) {
			v.mergeable = ksm_scans(shared, line + 8);
			have = 0;
			if (!skip && rss > 0 && v.end > v.start &&
			    add_vma(s, &cap, &v))
				return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
						    "out of memory");
		}
	}
	return 0;
}

/*
 * The PFN of the shared zero page: map a fresh private anonymous page,
 * read it (a read fault maps the zero page, a write would allocate), and
 * look it up in our own pagemap. 0 when PFNs are hidden (no
 * CAP_SYS_ADMIN) or the lookup fails.
 */
static uint64_t zero_page_pfn(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	volatile uint8_t *p = mmap(NULL, (size_t)psz, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	uint64_t pfn = 0, word = 0;
	(void)p[0];
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		off_t at = (off_t)((uintptr_t)p / (uintptr_t)psz * 8);
		if (pread(fd, &word, 8, at) == 8 && (word & PM_PRESENT))
			pfn = word & PM_PFN_MASK;
		close(fd);
	}
	munmap((void *)p, (size_t)psz);
	return pfn;
}

/* The pagemap word of addr (inside area v), reading a new window of
 * pagemap when addr is outside the current one. */
static int pm_word(struct proc_src *s, const struct proc_vma *v, uint64_t addr,
		   uint64_t *word, struct mv_error *err)
{
	if (addr < s->pm_addr || addr >= s->pm_addr + s->pm_n * MV_PAGE_SIZE) {
		uint64_t n = (v->end - addr) / MV_PAGE_SIZE;
		if (n > MV_PROC_PM_BATCH)
			n = MV_PROC_PM_BATCH;
		ssize_t got;
		do
			got = pread(s->pagemap_fd, s->pm, n * 8,
				    (off_t)(addr / MV_PAGE_SIZE * 8));
		while (got < 0 && errno == EINTR);
		if (got < 8) {
			if (proc_gone(s->pid) || got == 0 ||
			    (got < 0 && errno == ESRCH))
				return exited(s, err);
			char who[32];
			snprintf(who, sizeof who, "pid %d", s->pid);
			return mv_error_set(
				err, MV_EIO, who, 0, "pagemap",
				"cannot read the pagemap at 0x%llx: "
				"%s",
				(unsigned long long)addr,
				got < 0 ? strerror(errno) : "short read");
		}
		s->pm_addr = addr;
		s->pm_n = (size_t)got / 8;
	}
	*word = s->pm[(addr - s->pm_addr) / MV_PAGE_SIZE];
	return 0;
}

static uint32_t page_flags(const struct proc_src *s, const struct proc_vma *v,
			   uint64_t word)
{
	if (word & PM_FILE)
		return 0;
	if (s->zero_pfn && (word & PM_PFN_MASK) == s->zero_pfn)
		return 0;
	return MV_IMAGE_ANON | (v->mergeable ? MV_IMAGE_MERGEABLE : 0);
}

/*
 * Read n pages at addr into buf; returns the pages read (a page unmapped
 * since its pagemap word stops the run short: EIO), or a negative MV_E*
 * when the process has gone or mem fails otherwise.
 */
static int64_t read_pages(struct proc_src *s, uint64_t addr, uint64_t n,
			  uint8_t *buf, struct mv_error *err)
{
	uint64_t want = n * MV_PAGE_SIZE, done = 0;
	while (done < want) {
		ssize_t got = pread(s->mem_fd, buf + done, want - done,
				    (off_t)(addr + done));
		if (got > 0) {
			done += (uint64_t)got;
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0 || errno == ESRCH || proc_gone(s->pid))
			return exited(s, err);
		if (errno == EIO || errno == EFAULT)
			break;
		char who[32];
		snprintf(who, sizeof who, "pid %d", s->pid);
		return mv_error_set(err, MV_EIO, who, 0, "mem",
				    "cannot read the page at 0x%llx: %s",
				    (unsigned long long)(addr + done),
				    strerror(errno));
	}
	return (int64_t)(done / MV_PAGE_SIZE);
}

static int proc_next(struct mv_image *img, struct mv_image_extent *e,
		     struct mv_error *err)
{
	struct proc_src *s = img->priv;
	while (s->vi < s->nvma) {
		const struct proc_vma *v = &s->vma[s->vi];
		if (s->cur < v->start)
			s->cur = v->start;
		if (s->cur >= v->end) {
			s->vi++;
			continue;
		}
		uint64_t word;
		int rc = pm_word(s, v, s->cur, &word, err);
		if (rc)
			return rc;
		if (!(word & PM_PRESENT)) {
			s->cur += MV_PAGE_SIZE;
			continue;
		}
		uint32_t flags = page_flags(s, v, word);
		uint64_t start = s->cur, n = 1;
		for (uint64_t a = start + MV_PAGE_SIZE;
		     n < MV_PROC_RUN && a < v->end; a += MV_PAGE_SIZE, n++) {
			if ((rc = pm_word(s, v, a, &word, err)))
				return rc;
			if (!(word & PM_PRESENT) ||
			    page_flags(s, v, word) != flags)
				break;
		}
		int64_t got = read_pages(s, start, n, s->buf, err);
		if (got < 0)
			return (int)got;
		if (got == 0) { /* unmapped since: as if never present */
			s->cur = start + MV_PAGE_SIZE;
			continue;
		}
		s->cur = start + (uint64_t)got * MV_PAGE_SIZE;
		e->addr = start;
		e->npages = (uint64_t)got;
		e->bytes = s->buf;
		e->flags = flags;
		return 1;
	}
	return 0;
}

static int proc_read(struct mv_image *img, uint64_t addr, uint8_t *page,
		     struct mv_error *err)
{
	struct proc_src *s = img->priv;
	int64_t got = read_pages(s, addr, 1, page, err);
	if (got < 0)
		return (int)got;
	if (got == 0) {
		char who[32];
		snprintf(who, sizeof who, "pid %d", s->pid);
		return mv_error_set(err, MV_EIO, who, 0, "mem",
				    "the page at 0x%llx is no longer mapped",
				    (unsigned long long)addr);
	}
	return 0;
}

static void proc_close(struct mv_image *img)
{
	struct proc_src *s = img->priv;
	if (!s)
		return;
	if (s->pagemap_fd >= 0)
		close(s->pagemap_fd);
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	free(s->vma);
	free(s->pm);
	free(s->buf);
	free(s);
	img->priv = NULL;
}

static const struct mv_image_ops proc_ops = {
	.next = proc_next,
	.read = proc_read,
	.close = proc_close,
};

/* The error for a /proc file of pid that would not open (errno set). */
static int open_error(int pid, const char *comm, const char *file,
		      struct mv_error *err)
{
	char who[32];
	snprintf(who, sizeof who, "pid %d", pid);
	if (errno == ENOENT || errno == ESRCH || proc_gone(pid))
		return mv_error_set(err, MV_ENOENT, who, 0, "",
				    "pid %d has exited", pid);
	if (errno == EACCES || errno == EPERM)
		return mv_error_set(err, MV_EINVAL, who, 0, "",
				    "cannot read /proc/%d/%s of pid %d (%s): "
				    "reading another process's memory needs "
				    "root (or CAP_SYS_PTRACE)",
				    pid, file, pid, comm);
	return mv_error_set(err, MV_EIO, who, 0, "",
			    "cannot read /proc/%d/%s: %s", pid, file,
			    strerror(errno));
}

/*
 * The command name and state of pid from /proc/PID/stat: 0, or MV_ENOENT
 * when there is no such process or it has exited (a zombie), MV_EINVAL for
 * a kernel thread (no user memory).
 */
static int proc_stat(int pid, char *comm, size_t n, struct mv_error *err)
{
	char path[64], who[32], buf[1024];
	snprintf(who, sizeof who, "pid %d", pid);
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mv_error_set(err, MV_ENOENT, who, 0, "",
				    "no process has pid %d", pid);
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return mv_error_set(err, MV_ENOENT, who, 0, "",
				    "pid %d has exited", pid);
	buf[len] = '\0';
	char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	if (!l || !r || r < l || r[1] != ' ')
		return mv_error_set(err, MV_EIO, who, 0, "",
				    "cannot parse /proc/%d/stat", pid);
	snprintf(comm, n, "%.*s", (int)(r - l - 1), l + 1);
	char state = r[2];
	if (state == 'Z' || state == 'X')
		return mv_error_set(err, MV_ENOENT, who, 0, "",
				    "pid %d (%s) has exited", pid, comm);
	/* field 9, flags: PF_KTHREAD 0x00200000 */
	unsigned long flags = 0;
	if (sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
	    (flags & 0x00200000ul))
		return mv_error_set(err, MV_EINVAL, who, 0, "",
				    "pid %d (%s) is a kernel thread: it has "
				    "no user memory to read",
				    pid, comm);
	return 0;
}

int mv_image_open_pid(int pid, struct mv_image **out, struct mv_error *err)
{
	*out = NULL;
	char who[32], comm[64], path[64];
	snprintf(who, sizeof who, "pid %d", pid);
	if (pid <= 0)
		return mv_error_set(err, MV_EINVAL, who, 0, "",
				    "%d is not a process id", pid);
	int rc = proc_stat(pid, comm, sizeof comm, err);
	if (rc)
		return rc;

	struct mv_image *img = calloc(1, sizeof *img);
	struct proc_src *s = calloc(1, sizeof *s);
	if (s) {
		s->pagemap_fd = s->mem_fd = -1;
		s->pid = pid;
		s->pm = malloc(MV_PROC_PM_BATCH * sizeof *s->pm);
		s->buf = malloc((size_t)MV_PROC_RUN * MV_PAGE_SIZE);
	}
	if (!img || !s || !s->pm || !s->buf) {
		rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
		goto fail;
	}
	img->ops = &proc_ops;
	img->kind = MV_IMAGE_PROCESS;
	img->priv = s;
	snprintf(img->name, sizeof img->name, "pid %d (%s)", pid, comm);

	/* mem and pagemap first: they say whether we may read at all */
	snprintf(path, sizeof path, "/proc/%d/mem", pid);
	s->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->mem_fd < 0) {
		rc = open_error(pid, comm, "mem", err);
		goto fail;
	}
	snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
	s->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->pagemap_fd < 0) {
		rc = open_error(pid, comm, "pagemap", err);
		goto fail;
	}
	snprintf(path, sizeof path, "/proc/%d/smaps", pid);
	char *smaps = slurp(path);
	if (!smaps) {
		rc = open_error(pid, comm, "smaps", err);
		goto fail;
	}
	rc = parse_smaps(s, smaps, err);
	free(smaps);
	if (rc)
		goto fail;
	if (s->nvma == 0 && proc_gone(pid)) {
		rc = exited(s, err);
		goto fail;
	}
	s->zero_pfn = zero_page_pfn();
	*out = img;
	return 0;
fail:
	if (img && img->priv)
		proc_close(img);
	else if (s) {
		free(s->pm);
		free(s->buf);
		free(s);
	}
	free(img);
	return rc;
}
