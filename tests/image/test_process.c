/*
 * Tests of live processes as page sources (src/image/process.c) and of
 * KSM's counting rules (src/image/ksmrules.c), ending with the check
 * against the kernel's own KSM: three python3 processes opt in with
 * prctl(PR_SET_MEMORY_MERGE), ksmd merges them, and what memvisor predicts
 * from their pages must be within 5% of the pages_sharing ksmd reports.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image/ksmrules.h"
#include "image/source.h"
#include "support/mvtest.h"

/* ---- KSM's counting rules ------------------------------------------- */

static void
test_ksm_counts_one_ksm_page_per_group_up_to_max_sharing(void **state)
{
	(void)state;
	/* singles merge with nothing; k pages: 1 KSM page, k - 1 sharing */
	uint64_t g[] = {1, 2, 3, 256};
	uint64_t shared = 0, sharing = 0;
	mv_ksm_count(g, 4, 256, &shared, &sharing);
	assert_int_equal(shared, 3);
	assert_int_equal(sharing, 1 + 2 + 255);
	/* 257: a full KSM page and one page left alone (no partner) */
	uint64_t g257 = 257;
	shared = sharing = 0;
	mv_ksm_count(&g257, 1, 256, &shared, &sharing);
	assert_int_equal(shared, 1);
	assert_int_equal(sharing, 255);
	/* 258: a second KSM page of the same content on the chain */
	uint64_t g258 = 258;
	shared = sharing = 0;
	mv_ksm_count(&g258, 1, 256, &shared, &sharing);
	assert_int_equal(shared, 2);
	assert_int_equal(sharing, 256);
	/* 1000 = 3 * 256 + 232 */
	uint64_t g1000 = 1000;
	shared = sharing = 0;
	mv_ksm_count(&g1000, 1, 256, &shared, &sharing);
	assert_int_equal(shared, 4);
	assert_int_equal(sharing, 3 * 255 + 231);
	/* the counts add to what the caller passed in */
	mv_ksm_count(&g258, 1, 2, &shared, &sharing);
	assert_int_equal(shared, 4 + 129);
	assert_int_equal(sharing, 3 * 255 + 231 + 129);
	/* max_page_sharing below 2 is KSM's floor, 2 */
	shared = sharing = 0;
	mv_ksm_count(&g258, 1, 0, &shared, &sharing);
	assert_int_equal(shared, 129);
	assert_int_equal(sharing, 129);
}

/* ---- a child with known pages ---------------------------------------- */

#define PG 4096

/* The areas the child maps, sent back to the test through a pipe. */
struct child_areas {
	uint64_t merge;  /* 8 pages, MADV_MERGEABLE: see child_main */
	uint64_t plain;  /* 2 private anonymous pages, not mergeable */
	uint64_t file;   /* 2 pages of a file, MAP_PRIVATE, read */
	uint64_t shared; /* 1 MAP_SHARED anonymous page, written */
};

static void fill_unique(uint8_t *p, int seed)
{
	for (int i = 0; i < PG; i++)
		p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/*
 * The merge area: pages 0-3 all 0xa1 (duplicates), 4 unique, 5 written
 * with zeros (an anonymous page of zeros), 6 only read (maps the shared
 * zero page), 7 never touched (not present).
 */
static void child_main(int wfd, const char *file)
{
	struct child_areas a;
	uint8_t *m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *s = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = open(file, O_RDONLY);
	uint8_t *f = fd < 0 ? MAP_FAILED
			    : mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED || p == MAP_FAILED || s == MAP_FAILED ||
	    f == MAP_FAILED || madvise(m, 8 * PG, MADV_MERGEABLE) != 0)
		_exit(3);
	/* no huge pages: each page keeps its own pagemap word */
	madvise(m, 8 * PG, MADV_NOHUGEPAGE);
	madvise(p, 2 * PG, MADV_NOHUGEPAGE);
	memset(m, 0xa1, 4 * PG);
	fill_unique(m + 4 * PG, 4);
	m[5 * PG] = 1; /* allocate the page, then zero it */
	memset(m + 5 * PG, 0, PG);
	volatile uint8_t sink = ((volatile uint8_t *)m)[6 * PG];
	(void)sink;
	memset(p, 0xb2, 2 * PG);
	memset(s, 0xd4, PG);
	sink = ((volatile uint8_t *)f)[0] + ((volatile uint8_t *)f)[PG];
	a.merge = (uintptr_t)m;
	a.plain = (uintptr_t)p;
	a.file = (uintptr_t)f;
	a.shared = (uintptr_t)s;
	if (write(wfd, &a, sizeof a) != (ssize_t)sizeof a)
		_exit(4);
	for (;;)
		pause();
}

/* Fork the child; fills its areas. */
static pid_t start_child(const char *file, struct child_areas *a)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* dies with the test: a failed assertion ends the test
		 * before its stop_child */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() == 1)
			_exit(5);
		close(fds[0]);
		child_main(fds[1], file);
	}
	close(fds[1]);
	ssize_t n = read(fds[0], a, sizeof *a);
	close(fds[0]);
	if (n != (ssize_t)sizeof *a) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the child did not set up its pages");
	}
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A file of 2 pages of 0xc3 in dir; returns its path (static). */
static const char *make_file(const char *dir)
{
	static char path[512];
	uint8_t page[PG];
	memset(page, 0xc3, PG);
	snprintf(path, sizeof path, "%s/pages", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, page, PG), PG);
	assert_int_equal(write(fd, page, PG), PG);
	close(fd);
	return path;
}

/* What came back for one area: per page, flags + 1 (0: not yielded), the
 * bytes, and the extent holding the page. */
struct seen {
	uint64_t base;
	int npages;
	int got[8];
	uint8_t bytes[8][PG];
	uint64_t ext_addr[8], ext_pages[8];
};

static void record(struct seen *s, const struct mv_image_extent *e)
{
	for (uint64_t i = 0; i < e->npages; i++) {
		uint64_t a = e->addr + i * PG;
		if (a < s->base || a >= s->base + (uint64_t)s->npages * PG)
			continue;
		int j = (int)((a - s->base) / PG);
		assert_int_equal(s->got[j], 0); /* each page once */
		s->got[j] = (int)e->flags + 1;
		memcpy(s->bytes[j], e->bytes + i * PG, PG);
		s->ext_addr[j] = e->addr;
		s->ext_pages[j] = e->npages;
	}
}

static int all_bytes(const uint8_t *p, uint8_t v)
{
	for (int i = 0; i < PG; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * Does a read fault on private anonymous memory map the kernel's shared
 * zero page here? Two pages read: the same PFN in our pagemap. Some
 * kernels allocate a page instead (seen on a 6.18 guest kernel: two
 * different PFNs, both mapped exclusively); a page only read is then an
 * anonymous page like any other.
 */
static int read_faults_map_the_zero_page(void)
{
	volatile uint8_t *p = mmap(NULL, 2 * PG, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	madvise((void *)p, 2 * PG, MADV_NOHUGEPAGE);
	(void)p[0];
	(void)p[PG];
	uint64_t w[2] = {0, 0};
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, w, sizeof w, (off_t)((uintptr_t)p / PG * 8)),
			 (ssize_t)sizeof w);
	close(fd);
	munmap((void *)p, 2 * PG);
	uint64_t pfn = (1ull << 55) - 1;
	return (w[0] & pfn) != 0 && (w[0] & pfn) == (w[1] & pfn);
}

static void test_a_child_s_pages_come_back_with_ksm_s_flags(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mv-process");
	const char *file = make_file(dir);
	struct child_areas a;
	pid_t pid = start_child(file, &a);

	struct mv_image *img = NULL;
	struct mv_error err = {0};
	int rc = mv_image_open_pid(pid, &img, &err);
	if (rc) {
		stop_child(pid);
		mvt_ok(rc, &err, "mv_image_open_pid");
	}
	assert_int_equal(mv_image_kind(img), MV_IMAGE_PROCESS);
	char want[64];
	snprintf(want, sizeof want, "pid %d (", pid);
	assert_non_null(strstr(mv_image_name(img), want));

	static struct seen m, p, f, s;
	memset(&m, 0, sizeof m);
	memset(&p, 0, sizeof p);
	memset(&f, 0, sizeof f);
	memset(&s, 0, sizeof s);
	m.base = a.merge, m.npages = 8;
	p.base = a.plain, p.npages = 2;
	f.base = a.file, f.npages = 2;
	s.base = a.shared, s.npages = 1;
	struct mv_image_extent e;
	uint64_t pages = 0;
	while ((rc = mv_image_next(img, &e, &err)) == 1) {
		assert_int_equal(e.addr % PG, 0);
		assert_true(e.npages >= 1 && e.npages <= 1024);
		pages += e.npages;
		record(&m, &e);
		record(&p, &e);
		record(&f, &e);
		record(&s, &e);
	}
	if (rc) {
		stop_child(pid);
		mvt_ok(rc, &err, "mv_image_next");
	}
	assert_true(pages > 13);

	const int AM = (int)(MV_IMAGE_ANON | MV_IMAGE_MERGEABLE) + 1;
	/* duplicates, unique, written zeros: anonymous and mergeable, in
	 * one run of six pages */
	for (int j = 0; j < 4; j++) {
		assert_int_equal(m.got[j], AM);
		assert_true(all_bytes(m.bytes[j], 0xa1));
	}
	uint8_t u[PG];
	fill_unique(u, 4);
	assert_int_equal(m.got[4], AM);
	assert_memory_equal(m.bytes[4], u, PG);
	assert_int_equal(m.got[5], AM);
	assert_true(all_bytes(m.bytes[5], 0));
	assert_int_equal(m.ext_addr[0], a.merge);
	/* read only: the shared zero page, which KSM leaves alone; where
	 * the kernel allocates a page on a read fault, an anonymous page */
	int zp = read_faults_map_the_zero_page();
	if (!zp)
		printf("note: read faults here allocate a page instead of "
		       "mapping the shared zero page: a page only read is "
		       "anonymous\n");
	assert_int_equal(m.ext_pages[0], zp ? 6 : 7);
	assert_int_equal(m.got[6], zp ? 0 + 1 : AM);
	assert_true(all_bytes(m.bytes[6], 0));
	/* never touched: not present, not yielded */
	assert_int_equal(m.got[7], 0);
	/* private anonymous outside the mergeable area */
	for (int j = 0; j < 2; j++) {
		assert_int_equal(p.got[j], (int)MV_IMAGE_ANON + 1);
		assert_true(all_bytes(p.bytes[j], 0xb2));
	}
	/* page cache of a file, and shared anonymous memory (shmem) */
	for (int j = 0; j < 2; j++) {
		assert_int_equal(f.got[j], 0 + 1);
		assert_true(all_bytes(f.bytes[j], 0xc3));
	}
	assert_int_equal(s.got[0], 0 + 1);
	assert_true(all_bytes(s.bytes[0], 0xd4));

	/* a page read again has the same bytes */
	uint8_t page[PG];
	mvt_ok(mv_image_read(img, a.merge + 4 * PG, page, &err), &err,
	       "mv_image_read");
	assert_memory_equal(page, u, PG);
	mv_image_close(img);
	stop_child(pid);
	mvt_rmdir(dir);
}

static void assert_error_names_pid(const struct mv_error *err, int pid,
				   const char *words)
{
	char buf[600], who[32];
	mv_error_format(err, buf, sizeof buf);
	snprintf(who, sizeof who, "pid %d", pid);
	if (!strstr(buf, who) || !strstr(buf, words))
		fail_msg("error \"%s\" should name %s and say \"%s\"", buf, who,
			 words);
}

static void test_a_pid_that_does_not_exist_is_a_clear_error(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0); /* gone from /proc */
	struct mv_image *img = (struct mv_image *)1;
	struct mv_error err = {0};
	assert_int_equal(mv_image_open_pid(pid, &img, &err), MV_ENOENT);
	assert_null(img);
	assert_error_names_pid(&err, pid, "no process has pid");

	assert_int_equal(mv_image_open_pid(0, &img, &err), MV_EINVAL);
	assert_error_names_pid(&err, 0, "not a process id");
	assert_int_equal(mv_image_open_pid(-7, &img, &err), MV_EINVAL);
}

static void test_a_process_that_exited_before_open_is_reported(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* a zombie until reaped: /proc/PID is there, its memory is not */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 500; i++) {
		char st[256] = "";
		mvt_read_file(path, st, sizeof st);
		char *r = strrchr(st, ')');
		if (r && r[1] && r[2] == 'Z')
			break;
		usleep(2000);
	}
	struct mv_image *img = NULL;
	struct mv_error err = {0};
	int rc = mv_image_open_pid(pid, &img, &err);
	waitpid(pid, NULL, 0);
	assert_int_equal(rc, MV_ENOENT);
	assert_null(img);
	assert_error_names_pid(&err, pid, "has exited");
}

static void test_a_process_that_exits_mid_read_is_an_error(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mv-process");
	struct child_areas a;
	pid_t pid = start_child(make_file(dir), &a);
	struct mv_image *img = NULL;
	struct mv_error err = {0};
	int rc = mv_image_open_pid(pid, &img, &err);
	if (rc) {
		stop_child(pid);
		mvt_ok(rc, &err, "mv_image_open_pid");
	}
	struct mv_image_extent e;
	assert_int_equal(mv_image_next(img, &e, &err), 1);
	stop_child(pid); /* killed and reaped between two extents */
	while ((rc = mv_image_next(img, &e, &err)) == 1)
		;
	assert_int_equal(rc, MV_ENOENT);
	assert_error_names_pid(&err, pid, "exited while being read");
	uint8_t page[PG];
	assert_int_equal(mv_image_read(img, a.merge, page, &err), MV_ENOENT);
	assert_error_names_pid(&err, pid, "exited while being read");
	mv_image_close(img);
	mvt_rmdir(dir);
}

/* Another user's process: a child turned nobody opens its parent. */
static void test_reading_another_user_s_process_needs_root(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: process permissions: the test must run as root "
		       "to become another user\n");
		skip();
	}
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		struct mv_error err = {0};
		struct mv_image *img = NULL;
		char buf[600] = "setuid failed";
		if (setgid(65534) == 0 && setuid(65534) == 0) {
			int rc = mv_image_open_pid(parent, &img, &err);
			snprintf(buf, sizeof buf, "%d ", rc);
			size_t n = strlen(buf);
			mv_error_format(&err, buf + n, sizeof buf - n);
		}
		ssize_t w = write(fds[1], buf, strlen(buf) + 1);
		_exit(w > 0 ? 0 : 1);
	}
	close(fds[1]);
	char buf[600] = "";
	ssize_t n = read(fds[0], buf, sizeof buf - 1);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	assert_true(n > 0);
	char want[700];
	snprintf(want, sizeof want, "%d ", MV_EINVAL);
	char who[32];
	snprintf(who, sizeof who, "pid %d: ", parent);
	if (strncmp(buf, want, strlen(want)) != 0 || !strstr(buf, who) ||
	    !strstr(buf, "/mem") ||
	    !strstr(buf, "needs root (or CAP_SYS_PTRACE)"))
		fail_msg("nobody opening pid %d: \"%s\"", parent, buf);
}

/*
 * Without CAP_SYS_ADMIN pagemap hides PFNs (they read as 0), so the zero
 * page cannot be told apart: a page only read counts as anonymous, and
 * every written page still does (a PFN of 0 is not taken for the zero
 * page). A child turned nobody reads itself (always allowed).
 */
static void test_without_pfns_a_read_only_page_counts_as_anonymous(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: hidden PFNs: the test must run as root to "
		       "become another user\n");
		skip();
	}
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		int got[2] = {-1, -1};
		uint8_t *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED && setgid(65534) == 0 &&
		    setuid(65534) == 0) {
			/* dumpable again, or /proc/self/mem stays root's */
			prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
			madvise(m, 2 * PG, MADV_NOHUGEPAGE);
			volatile uint8_t sink = ((volatile uint8_t *)m)[0];
			(void)sink;
			m[PG] = 5;
			struct mv_image *img = NULL;
			struct mv_error err = {0};
			struct mv_image_extent e;
			if (mv_image_open_pid(getpid(), &img, &err) == 0) {
				while (mv_image_next(img, &e, &err) == 1)
					for (int j = 0; j < 2; j++) {
						uint64_t a = (uintptr_t)m +
							     (uint64_t)j * PG;
						if (a >= e.addr &&
						    a < e.addr + e.npages * PG)
							got[j] = (int)e.flags;
					}
				mv_image_close(img);
			}
		}
		ssize_t w = write(fds[1], got, sizeof got);
		_exit(w == (ssize_t)sizeof got ? 0 : 1);
	}
	close(fds[1]);
	int got[2] = {-2, -2};
	ssize_t n = read(fds[0], got, sizeof got);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	assert_int_equal(n, sizeof got);
	assert_int_equal(got[0], MV_IMAGE_ANON);
	assert_int_equal(got[1], MV_IMAGE_ANON);
}

static void test_a_kernel_thread_has_no_user_memory(void **state)
{
	(void)state;
	char st[256] = "";
	mvt_read_file("/proc/2/stat", st, sizeof st);
	if (!strstr(st, "(kthreadd)")) {
		printf("SKIP: kernel thread: pid 2 is not kthreadd here\n");
		skip();
	}
	struct mv_image *img = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_image_open_pid(2, &img, &err), MV_EINVAL);
	assert_error_names_pid(&err, 2, "kernel thread");
}

/* ---- checked against the kernel's KSM -------------------------------- */

#define KSM "/sys/kernel/mm/ksm/"
#define NPROC 3

/*
 * What the KSM test changed, to put back on every way out: the settings
 * as they were, the processes it started. A failed assert longjmps out of
 * the test; cmocka then runs the teardown; a signal or exit runs the same
 * restore (it only uses calls safe in a signal handler).
 */
/*
 * KSM's settings are one per system: every test of ours that changes them
 * (this one, tests/kvm/test_ksm.sh) holds this lock from saving them to
 * putting them back, so that two never interleave (A saves, B saves A's,
 * A restores, B puts A's back: KSM left running).
 */
#define MV_KSM_LOCK "/run/memvisor-ksm.lock"
static const char *const ksm_knobs[] = {"pages_to_scan", "sleep_millisecs",
					"smart_scan", "run"};
#define NKNOBS (sizeof ksm_knobs / sizeof ksm_knobs[0])
static struct {
	int lock_fd; /* MV_KSM_LOCK held from the save to the restore, or 0 */
	int saved;
	char value[NKNOBS][32];
	uint64_t base_merged; /* pages_shared + pages_sharing before */
	pid_t pid[NPROC];
	int stdout_fd[NPROC];
} ksm;

static int sys_write(const char *knob, const char *value)
{
	char path[128];
	snprintf(path, sizeof path, KSM "%s", knob);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* A number from a sysfs or proc file, or UINT64_MAX. Signal safe. */
static uint64_t read_u64(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UINT64_MAX;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return UINT64_MAX;
	uint64_t v = 0;
	int digits = 0;
	for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(buf[i] - '0');
		digits++;
	}
	return digits ? v : UINT64_MAX;
}

static uint64_t ksm_u64(const char *knob)
{
	char path[128];
	snprintf(path, sizeof path, KSM "%s", knob);
	return read_u64(path);
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

/*
 * Kill the processes the test started (their KSM pages go with them) and
 * put every setting back. ksmd frees an exited process's entries (and
 * lowers pages_shared/pages_sharing) only when it next scans, so it runs
 * briefly, up to 10 s, until the counters are back where they were.
 */
static void ksm_restore(void)
{
	int killed = 0;
	for (int i = 0; i < NPROC; i++) {
		if (ksm.pid[i] > 0) {
			kill(ksm.pid[i], SIGKILL);
			waitpid(ksm.pid[i], NULL, 0);
			ksm.pid[i] = 0;
			killed = 1;
		}
		if (ksm.stdout_fd[i] > 0) {
			close(ksm.stdout_fd[i]);
			ksm.stdout_fd[i] = 0;
		}
	}
	if (!ksm.saved)
		return;
	if (killed) {
		sys_write("run", "1");
		for (int i = 0; i < 1000; i++) {
			uint64_t m = ksm_u64("pages_shared") +
				     ksm_u64("pages_sharing");
			if (m <= ksm.base_merged)
				break;
			sleep_ms(10);
		}
	}
	for (size_t k = 0; k < NKNOBS; k++) /* run last */
		sys_write(ksm_knobs[k], ksm.value[k]);
	ksm.saved = 0;
	if (ksm.lock_fd > 0) {
		close(ksm.lock_fd); /* releases the lock */
		ksm.lock_fd = 0;
	}
}

/* Take MV_KSM_LOCK, waiting up to 5 minutes; 0 or -1. */
static int ksm_lock(void)
{
	int fd = open(MV_KSM_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 3000; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			ksm.lock_fd = fd;
			return 0;
		}
		sleep_ms(100);
	}
	close(fd);
	return -1;
}

static void ksm_on_signal(int sig)
{
	ksm_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int ksm_teardown(void **state)
{
	(void)state;
	ksm_restore();
	return 0;
}

/* Why the KSM test cannot run here, or NULL. */
static const char *ksm_skip_reason(void)
{
	if (access(KSM "run", F_OK) != 0)
		return "this kernel has no KSM (/sys/kernel/mm/ksm absent)";
	if (geteuid() != 0 || access(KSM "run", W_OK) != 0)
		return "changing KSM's settings needs root";
	if (access("/proc/self/ksm_merging_pages", R_OK) != 0)
		return "no /proc/PID/ksm_merging_pages (kernel before 6.1)";
	const char *path = getenv("PATH");
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
	for (char *d = strtok(buf, ":"); d; d = strtok(NULL, ":")) {
		char exe[4200];
		snprintf(exe, sizeof exe, "%s/python3", d);
		if (access(exe, X_OK) == 0)
			return NULL;
	}
	return "no python3 on PATH to run the processes KSM merges";
}

/*
 * Each process opts in to KSM first (prctl PR_SET_MEMORY_MERGE marks every
 * area, present and future), then does what a real program does at start:
 * imports modules and builds data. ASLR is off and the hash seed fixed,
 * so the three lay out their memory alike, as identical VMs booted from
 * one image do.
 */
static const char ksm_script[] =
	"import ctypes, sys, time\n"
	"libc = ctypes.CDLL(None, use_errno=True)\n"
	"if libc.prctl(67, 1, 0, 0, 0) != 0:\n"
	"    print('prctl failed', ctypes.get_errno(), flush=True)\n"
	"    sys.exit(1)\n"
	"import json, email, email.parser, http.client, xml.dom.minidom\n"
	"import decimal, argparse, csv, collections, fractions, statistics\n"
	"import difflib, textwrap, urllib.parse, logging, unittest\n"
	"z = 0\n"
	"strs = ['memvisor-ksm-%06d' % z for _ in range(200000)]\n"
	"table = {'key%d' % i: [i, str(i), i / 7] for i in range(30000)}\n"
	"doc = xml.dom.minidom.parseString('<a>' + '<b c=\"1\"/>' * 2000 +"
	" '</a>')\n"
	"blob = json.dumps(table)\n"
	"print('ready', flush=True)\n"
	"time.sleep(600)\n";

static void ksm_start_processes(void)
{
	for (int i = 0; i < NPROC; i++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			dup2(fds[1], 1);
			close(fds[0]);
			close(fds[1]);
			personality(ADDR_NO_RANDOMIZE);
			setenv("PYTHONHASHSEED", "0", 1);
			setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
			execlp("python3", "python3", "-S", "-c", ksm_script,
			       (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		ksm.pid[i] = pid;
		ksm.stdout_fd[i] = fds[0];
	}
	/* wait for every "ready", 40 s at most */
	for (int i = 0; i < NPROC; i++) {
		char line[128] = "";
		size_t len = 0;
		while (!strchr(line, '\n')) {
			struct pollfd p = {ksm.stdout_fd[i], POLLIN, 0};
			if (poll(&p, 1, 40000) != 1)
				fail_msg("python3 process %d not ready in 40 s",
					 ksm.pid[i]);
			ssize_t n = read(ksm.stdout_fd[i], line + len,
					 sizeof line - 1 - len);
			if (n <= 0)
				fail_msg("python3 process %d exited: %s",
					 ksm.pid[i], line);
			len += (size_t)n;
			line[len] = '\0';
		}
		if (strncmp(line, "ready", 5) != 0)
			fail_msg("python3 process %d: %s", ksm.pid[i], line);
	}
}

static uint64_t merging_pages(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ksm_merging_pages", pid);
	return read_u64(path);
}

/* One mergeable page: where it is and its hash. */
struct mpage {
	uint64_t hash;
	uint64_t addr;
	int img;
};

static int mpage_cmp(const void *a, const void *b)
{
	const struct mpage *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->img != y->img)
		return x->img - y->img;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct prediction {
	uint64_t mergeable, zero, groups, largest, shared, sharing;
	uint64_t sharing_unlimited; /* were there no max_page_sharing */
};

/*
 * What KSM would make of the processes' mergeable pages: group them by
 * XXH3, split every hash group by comparing all 4096 bytes (re-read with
 * mv_image_read), and count each content group with KSM's rules.
 */
static void predict(struct mv_image **img, int n, unsigned max_sharing,
		    int use_zero_pages, struct prediction *pr)
{
	size_t cap = 1 << 16, np = 0;
	struct mpage *pg = malloc(cap * sizeof *pg);
	assert_non_null(pg);
	struct mv_error err = {0};
	for (int i = 0; i < n; i++) {
		struct mv_image_extent e;
		int rc;
		while ((rc = mv_image_next(img[i], &e, &err)) == 1) {
			if (!(e.flags & MV_IMAGE_MERGEABLE))
				continue;
			for (uint64_t j = 0; j < e.npages; j++) {
				if (np == cap) {
					cap *= 2;
					pg = realloc(pg, cap * sizeof *pg);
					assert_non_null(pg);
				}
				const uint8_t *b = e.bytes + j * PG;
				pg[np].hash = mv_page_hash(b);
				pg[np].addr = e.addr + j * PG;
				pg[np].img = i;
				np++;
			}
		}
		mvt_ok(rc, &err, "mv_image_next");
	}
	qsort(pg, np, sizeof *pg, mpage_cmp);
	memset(pr, 0, sizeof *pr);
	pr->mergeable = np;
	uint64_t *sizes = malloc((np + 1) * sizeof *sizes);
	uint8_t *taken = calloc(np + 1, 1);
	static uint8_t rep[PG], other[PG];
	assert_true(sizes && taken);
	size_t ngroups = 0;
	for (size_t i = 0; i < np;) {
		size_t end = i;
		while (end < np && pg[end].hash == pg[i].hash)
			end++;
		/* split the hash group into groups of equal bytes */
		for (size_t r = i; r < end; r++) {
			if (taken[r])
				continue;
			mvt_ok(mv_image_read(img[pg[r].img], pg[r].addr, rep,
					     &err),
			       &err, "mv_image_read");
			uint64_t k = 1;
			taken[r] = 1;
			for (size_t o = r + 1; o < end; o++) {
				if (taken[o])
					continue;
				mvt_ok(mv_image_read(img[pg[o].img], pg[o].addr,
						     other, &err),
				       &err, "mv_image_read");
				if (memcmp(rep, other, PG) == 0) {
					taken[o] = 1;
					k++;
				}
			}
			if (mv_page_is_zero(rep)) {
				pr->zero += k;
				if (use_zero_pages)
					continue; /* mapped to the zero page */
			}
			sizes[ngroups++] = k;
			if (k > pr->largest)
				pr->largest = k;
		}
		i = end;
	}
	pr->groups = ngroups;
	mv_ksm_count(sizes, ngroups, max_sharing, &pr->shared, &pr->sharing);
	uint64_t unused = 0;
	mv_ksm_count(sizes, ngroups, ~0u, &unused, &pr->sharing_unlimited);
	free(sizes);
	free(taken);
	free(pg);
}

static void test_prediction_matches_the_kernel_s_ksm(void **state)
{
	(void)state;
	const char *why = ksm_skip_reason();
	if (why) {
		printf("SKIP: KSM comparison: %s\n", why);
		skip();
	}
	if (ksm_lock() != 0) {
		printf("SKIP: KSM comparison: another test held " MV_KSM_LOCK
		       " for 5 minutes\n");
		skip();
	}
	double t0 = mv_wall_s();
	/* the settings this test changes, saved before anything else */
	for (size_t k = 0; k < NKNOBS; k++) {
		char path[128];
		snprintf(path, sizeof path, KSM "%s", ksm_knobs[k]);
		mvt_read_file(path, ksm.value[k], sizeof ksm.value[k]);
		ksm.value[k][strcspn(ksm.value[k], "\n")] = '\0';
		assert_true(ksm.value[k][0] != '\0');
	}
	ksm.base_merged = ksm_u64("pages_shared") + ksm_u64("pages_sharing");
	uint64_t base_shared = ksm_u64("pages_shared");
	uint64_t base_sharing = ksm_u64("pages_sharing");
	unsigned max_sharing = (unsigned)ksm_u64("max_page_sharing");
	int use_zero = ksm_u64("use_zero_pages") == 1;
	ksm.saved = 1;
	signal(SIGINT, ksm_on_signal);
	signal(SIGTERM, ksm_on_signal);
	signal(SIGALRM, ksm_on_signal);
	alarm(120); /* a hung kernel or python: restore and die */

	ksm_start_processes();
	double t_ready = mv_wall_s();

	/* scan fast, everything: smart_scan would skip pages that did not
	 * merge in earlier scans */
	uint64_t scans0 = ksm_u64("full_scans");
	assert_int_equal(sys_write("run", "0"), 0);
	assert_int_equal(sys_write("pages_to_scan", "1000"), 0);
	assert_int_equal(sys_write("sleep_millisecs", "10"), 0);
	sys_write("smart_scan", "0"); /* absent before 6.7 */
	assert_int_equal(sys_write("run", "1"), 0);

	/* at least 3 full scans, and then the processes' merged pages the
	 * same at the end of two scans in a row */
	uint64_t last_scan = scans0, last_sum = UINT64_MAX, sum = 0;
	for (;;) {
		if (mv_wall_s() - t_ready > 40)
			fail_msg("KSM not settled after 40 s (%llu scans)",
				 (unsigned long long)(last_scan - scans0));
		sleep_ms(20);
		uint64_t scans = ksm_u64("full_scans");
		if (scans == last_scan)
			continue;
		last_scan = scans;
		sum = 0;
		for (int i = 0; i < NPROC; i++)
			sum += merging_pages(ksm.pid[i]);
		if (scans >= scans0 + 3 && sum == last_sum)
			break;
		last_sum = sum;
	}
	/* stop scanning; the merges stay (run=2 would undo them) */
	assert_int_equal(sys_write("run", "0"), 0);
	double t_merged = mv_wall_s();

	uint64_t merging[NPROC];
	sum = 0;
	for (int i = 0; i < NPROC; i++)
		sum += merging[i] = merging_pages(ksm.pid[i]);
	uint64_t g_shared = ksm_u64("pages_shared") - base_shared;
	uint64_t g_sharing = ksm_u64("pages_sharing") - base_sharing;

	struct mv_image *img[NPROC];
	struct mv_error err = {0};
	for (int i = 0; i < NPROC; i++)
		mvt_ok(mv_image_open_pid(ksm.pid[i], &img[i], &err), &err,
		       "mv_image_open_pid");
	struct prediction pr;
	predict(img, NPROC, max_sharing, use_zero, &pr);
	for (int i = 0; i < NPROC; i++)
		mv_image_close(img[i]);

	/*
	 * The kernel's figure for these processes: when nothing else uses
	 * KSM, the global pages_sharing grew by exactly what they merged
	 * (their ksm_merging_pages sum to pages_shared + pages_sharing).
	 * Otherwise KSM pages may be shared with other processes: compare
	 * shared + sharing with the sum of ksm_merging_pages.
	 */
	int alone = g_shared + g_sharing == sum;
	uint64_t kernel = alone ? g_sharing : sum;
	uint64_t mine = alone ? pr.sharing : pr.shared + pr.sharing;
	double error = kernel ? ((double)mine - (double)kernel) / kernel : 1;
	printf("note: KSM check: KSM merged %llu+%llu+%llu pages of the "
	       "processes in %llu full scans, %.1f s\n",
	       (unsigned long long)merging[0], (unsigned long long)merging[1],
	       (unsigned long long)merging[2],
	       (unsigned long long)(last_scan - scans0), t_merged - t_ready);
	/* the table docs/analyze.md quotes */
	printf("note: KSM check: processes | mergeable pages (zero) | largest "
	       "group | KSM %s | memvisor | error | pages_shared: KSM, "
	       "memvisor | memvisor without max_page_sharing\n",
	       alone ? "pages_sharing" : "merging pages");
	printf("note: KSM check: %d python3 | %llu (%llu) | %llu | %llu | "
	       "%llu | %+.2f%% | %llu, %llu | %llu\n",
	       NPROC, (unsigned long long)pr.mergeable,
	       (unsigned long long)pr.zero, (unsigned long long)pr.largest,
	       (unsigned long long)kernel, (unsigned long long)mine,
	       100 * error, (unsigned long long)g_shared,
	       (unsigned long long)pr.shared,
	       (unsigned long long)(alone ? pr.sharing_unlimited
					  : pr.sharing_unlimited + pr.shared));
	printf("note: KSM check: %.1f s in all\n", mv_wall_s() - t0);
	assert_true(kernel > 0);
	assert_true(error <= 0.05 && error >= -0.05);
	alarm(0);
}

/* An argument runs only the tests whose names match it (a cmocka glob):
 * test_process 'test_prediction*' for the KSM check alone. */
int main(int argc, char **argv)
{
	atexit(ksm_restore);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_ksm_counts_one_ksm_page_per_group_up_to_max_sharing),
		cmocka_unit_test(
			test_a_child_s_pages_come_back_with_ksm_s_flags),
		cmocka_unit_test(
			test_a_pid_that_does_not_exist_is_a_clear_error),
		cmocka_unit_test(
			test_a_process_that_exited_before_open_is_reported),
		cmocka_unit_test(
			test_a_process_that_exits_mid_read_is_an_error),
		cmocka_unit_test(
			test_reading_another_user_s_process_needs_root),
		cmocka_unit_test(
			test_without_pfns_a_read_only_page_counts_as_anonymous),
		cmocka_unit_test(test_a_kernel_thread_has_no_user_memory),
		cmocka_unit_test_teardown(
			test_prediction_matches_the_kernel_s_ksm, ksm_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
