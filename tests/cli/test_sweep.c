/*
 * test_sweep.c - scripts/sweep.sh on scenarios that name other files, and
 * its exit status.
 *
 * The sweep copies the scenario into a temporary directory, one copy per
 * ratio, so every path attribute the scenario reader resolves against the
 * scenario's folder (<vm file=> and <workload trace=>) must be made
 * absolute, whichever quote style the scenario uses. A run that fails makes
 * the sweep exit 1, as its header says (xargs alone exits 123 or 124), and
 * a scenario memvisor refuses exits 2. Tests run from the repository root;
 * every file is made in this test's own temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/mvtest.h"

static char g_dir[256];
static char g_bin[4096];

static void write_at(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", g_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Run the sweep on g_dir/name at ratios; its exit status, output in out. */
static int sweep(const char *name, const char *ratios, char **out)
{
	char cmd[8192], path[512];
	snprintf(cmd, sizeof cmd,
		 "MEMVISOR='%s' RATIOS='%s' JOBS=1 scripts/sweep.sh '%s/%s' "
		 ">'%s/out' 2>&1",
		 g_bin, ratios, g_dir, name, g_dir);
	int rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	snprintf(path, sizeof path, "%s/out", g_dir);
	*out = mvt_slurp(path, NULL);
	assert_non_null(*out);
	return WEXITSTATUS(rc);
}

static const char domain[] = "<domain type='kvm'><name>d</name>"
			     "<memory unit='MiB'>32</memory></domain>\n";

/* a few accesses in valgrind lackey's text format */
static const char trace[] = "I  0400d7d4,8\n"
			    " L 04222cac,8\n"
			    " S 04222cb0,8\n"
			    "I  0400d7d8,4\n"
			    " M 05000000,8\n";

static void
test_sweep_resolves_file_and_trace_in_either_quote_style(void **state)
{
	(void)state;
	char sub[512];
	snprintf(sub, sizeof sub, "%s/sc", g_dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_at("dom.xml", domain);
	write_at("dom2.xml", "<domain type='kvm'><name>e</name>"
			     "<memory unit='MiB'>32</memory></domain>\n");
	write_at("t.trace", trace);
	write_at("sc/s.xml",
		 "<scenario name='s' seed='1' duration='200ms' step='10ms' "
		 "stats-interval='100ms'>\n"
		 "  <host><memory unit='MiB'>128</memory></host>\n"
		 "  <vm file='../dom.xml'>\n"
		 "    <workload kind='trace' trace='../t.trace' rate='1k'/>\n"
		 "  </vm>\n"
		 "  <vm file=\"../dom2.xml\"/>\n"
		 "</scenario>\n");
	char *out;
	int st = sweep("sc/s.xml", "1.0", &out);
	if (st != 0 || !strstr(out, "| 1.0 |"))
		fail_msg("exit %d:\n%s", st, out);
	free(out);
}

static void test_sweep_exits_1_when_a_run_fails_and_2_on_bad_input(void **state)
{
	(void)state;
	write_at("dom.xml", domain);
	/* a guarantee the host cannot give at ratio 8: power-on fails */
	write_at("g.xml",
		 "<scenario name='g' duration='100ms' step='10ms'>\n"
		 "  <host><memory unit='MiB'>64</memory></host>\n"
		 "  <vm><domain type='kvm'><name>a</name>"
		 "<memory unit='MiB'>48</memory><memtune>"
		 "<min_guarantee unit='MiB'>40</min_guarantee></memtune>"
		 "</domain></vm>\n"
		 "</scenario>\n");
	char *out;
	int st = sweep("g.xml", "1.0 8.0", &out);
	if (st != 1 || !strstr(out, "ratio 8.0"))
		fail_msg("exit %d (expected 1):\n%s", st, out);
	free(out);

	write_at("bad.xml", "<scenario><host/></scenario>\n");
	st = sweep("bad.xml", "1.0", &out);
	if (st != 2)
		fail_msg("exit %d (expected 2):\n%s", st, out);
	free(out);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "%s/mvsweep-test.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return mvt_rm_tree(g_dir);
}

int main(void)
{
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	if (access("scripts/sweep.sh", X_OK) != 0) {
		fprintf(stderr, "test_sweep: run from the repository root\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_sweep_resolves_file_and_trace_in_either_quote_style),
		cmocka_unit_test(
			test_sweep_exits_1_when_a_run_fails_and_2_on_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
