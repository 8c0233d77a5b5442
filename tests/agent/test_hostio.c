/*
 * Tests of the agent's host I/O (src/agent/hostio.c) on this very
 * process and on scratch files: accessed pages counted through
 * clear_refs and smaps' Referenced, /proc/meminfo, PID files, and KSM's
 * knobs put back as they were (a scratch directory stands in for
 * /sys/kernel/mm/ksm: the tests never write the real one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/hostio.h"
#include "support/mvtest.h"

static void test_referenced_counts_pages_touched_since_clear(void **state)
{
	(void)state;
	/* a 40 MiB anonymous mapping stands for QEMU's guest RAM */
	size_t len = 40u << 20;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	madvise(m, len, MADV_NOHUGEPAGE);
	memset(m, 1, len); /* all resident */
	assert_int_equal(mv_agent_refs_clear(getpid()), 0);
	/* seen on a 6.18 guest kernel: after clear_refs the TLB kept the
	 * cleared pages' entries, so this process's own accesses set no
	 * accessed bit (0 KiB referenced, also after a 200 ms sleep under
	 * load). Taking write permission away and back flushes them, as a
	 * measured QEMU's own TLB flushes do between the agent's reads */
	assert_int_equal(mprotect(m, len, PROT_READ), 0);
	assert_int_equal(mprotect(m, len, PROT_READ | PROT_WRITE), 0);
	uint64_t size, ref;
	assert_int_equal(mv_agent_refs_read(getpid(), 40 * 1024, &size, &ref),
			 0);
	assert_int_equal(size, 40 * 1024);
	assert_true(ref < 1024); /* cleared */
	/* touch a quarter of it */
	for (size_t i = 0; i < len / 4; i += 4096)
		m[i]++;
	assert_int_equal(mv_agent_refs_read(getpid(), 40 * 1024, &size, &ref),
			 0);
	/* 10 MiB touched: seen 10008 and 10232 KiB on a loaded machine (the
	 * kernel may clear a few accessed bits meanwhile); the bound checks
	 * the count follows what was touched */
	assert_in_range(ref, 10 * 1024 * 95 / 100, 11 * 1024);
	munmap(m, len);
}

/*
 * A real QEMU process (TCG, 256 MiB, no disk: SeaBIOS runs and finds
 * nothing to boot): its guest RAM is found among its mappings by size
 * (TCG's 1 GiB translation buffer and the rest are not it), and
 * clear_refs empties its Referenced count.
 */
static void test_guest_ram_of_a_real_qemu_is_found(void **state)
{
	(void)state;
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		printf("SKIP: no qemu-system-x86_64\n");
		skip();
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execlp("qemu-system-x86_64", "qemu-system-x86_64", "-m", "256",
		       "-display", "none", "-nodefaults", "-machine",
		       "pc,accel=tcg", (char *)NULL);
		_exit(127);
	}
	uint64_t size = 0, ref = 0;
	int rc = -1;
	for (int i = 0; i < 100 && (rc || size != 256 * 1024); i++) {
		usleep(50000);
		rc = mv_agent_refs_read(pid, 256 * 1024, &size, &ref);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(size, 256 * 1024);
	assert_int_equal(mv_agent_refs_clear(pid), 0);
	assert_int_equal(mv_agent_refs_read(pid, 256 * 1024, &size, &ref), 0);
	/* what the BIOS touched in between, at most a few huge pages */
	assert_true(ref <= 8 * 1024);
	uint64_t rss = 0;
	assert_int_equal(mv_agent_rss_read(pid, &rss), 0);
	assert_true(rss > 0);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void test_meminfo_and_pidfile_are_read(void **state)
{
	(void)state;
	struct mv_agent_meminfo mi;
	assert_int_equal(mv_agent_meminfo_read("/proc/meminfo", &mi), 0);
	assert_true(mi.total > 0 && mi.available <= mi.total);
	char *dir = mvt_tmpdir("mvagent");
	char path[512];
	snprintf(path, sizeof path, "%s/guest-1.pid", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	pid_t pid = 0;
	assert_int_equal(mv_agent_pidfile_read(dir, "guest-1", &pid), 0);
	assert_int_equal(pid, getpid());
	assert_true(mv_agent_pidfile_read(dir, "nope", &pid) < 0);
	uint64_t rss = 0;
	assert_int_equal(mv_agent_rss_read(getpid(), &rss), 0);
	assert_true(rss > 0);
	mvt_rmdir(dir);
}

static void put(const char *dir, const char *name, const char *v)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(v, f);
	fclose(f);
}

static uint64_t get(const char *dir, const char *name)
{
	char path[512], buf[64];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	mvt_read_file(path, buf, sizeof buf);
	return strtoull(buf, NULL, 10);
}

static void test_ksm_knobs_go_back_as_they_were(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvksm");
	put(dir, "run", "0\n");
	put(dir, "pages_to_scan", "100\n");
	put(dir, "sleep_millisecs", "20\n");
	struct mv_ksm k;
	assert_int_equal(mv_ksm_open(&k, dir), 0);
	assert_int_equal(mv_ksm_set(&k, MV_KSM_RUN, 1), 0);
	assert_int_equal(mv_ksm_set(&k, MV_KSM_PAGES_TO_SCAN, 400), 0);
	assert_int_equal(get(dir, "run"), 1);
	assert_int_equal(get(dir, "pages_to_scan"), 400);
	/* someone else changed a knob the agent never wrote: left alone */
	put(dir, "sleep_millisecs", "50\n");
	assert_int_equal(mv_ksm_restore(&k), 0);
	assert_int_equal(get(dir, "run"), 0);
	assert_int_equal(get(dir, "pages_to_scan"), 100);
	assert_int_equal(get(dir, "sleep_millisecs"), 50);
	/* counters: absent files are an error, not zeros */
	struct mv_ksm_counters c;
	assert_true(mv_ksm_counters_read(&k, &c) < 0);
	mvt_rmdir(dir);
	/* no such directory: not present, nothing written */
	assert_true(mv_ksm_open(&k, "/nonexistent/ksm") < 0);
	assert_false(k.present);
	assert_true(mv_ksm_set(&k, MV_KSM_RUN, 1) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_referenced_counts_pages_touched_since_clear),
		cmocka_unit_test(test_guest_ram_of_a_real_qemu_is_found),
		cmocka_unit_test(test_meminfo_and_pidfile_are_read),
		cmocka_unit_test(test_ksm_knobs_go_back_as_they_were),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
