/*
 * test_mmu_cli.c - `memvisor mmu` as users run it: help, exit statuses,
 * one-line errors naming file and line, replay output, --convert.
 *
 * The binary: $MV_BIN if set, else the memvisor next to this program's
 * build directory (BUILD/tests/mmu/test_mmu_cli -> BUILD/memvisor).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "support/mvtest.h"

static char g_bin[4096];
static char *g_dir;

struct run {
	int status;
	char out[16384], err[4096];
};

/* Run `memvisor ARGS` (shell words) capturing stdout and stderr. */
static void run(struct run *r, const char *args)
{
	char cmd[8192], out[600], err[600];
	snprintf(out, sizeof out, "%s/stdout", g_dir);
	snprintf(err, sizeof err, "%s/stderr", g_dir);
	snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", g_bin, args, out, err);
	int st = system(cmd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	mvt_read_file(out, r->out, sizeof r->out);
	mvt_read_file(err, r->err, sizeof r->err);
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_help_describes_the_command(void **state)
{
	(void)state;
	struct run r;
	run(&r, "mmu --help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: memvisor mmu"));
	assert_non_null(strstr(r.out, "--page-size"));
	run(&r, "help mmu");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: memvisor mmu"));
	run(&r, "--help");
	assert_non_null(strstr(r.out, "mmu --trace FILE"));
}

static void test_bad_trace_line_is_one_error_line_and_status_2(void **state)
{
	(void)state;
	char path[600], args[800];
	snprintf(path, sizeof path, "%s/bad.lackey", g_dir);
	FILE *f = fopen(path, "w");
	fputs("==7== Lackey\nI  0400d7d4,8\n L 0400d7d4;8\n", f);
	fclose(f);
	struct run r;
	snprintf(args, sizeof args, "mmu --trace %s", path);
	run(&r, args);
	assert_int_equal(r.status, 2);
	assert_int_equal(lines(r.err), 1);
	char want[700];
	snprintf(want, sizeof want, "memvisor: %s:3: trace: ", path);
	assert_int_equal(strncmp(r.err, want, strlen(want)), 0);
	assert_string_equal(r.out, "");
}

/* A trace with no accesses (empty, or only lackey's comments) is refused
 * as a trace workload refuses it, not reported as a table of zeros. */
static void test_empty_trace_is_refused_with_status_2(void **state)
{
	(void)state;
	const char *bodies[] = {"", "==7== Lackey, an example Valgrind tool\n"};
	for (int i = 0; i < 2; i++) {
		char path[600], args[800];
		snprintf(path, sizeof path, "%s/empty%d.lackey", g_dir, i);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bodies[i], f);
		fclose(f);
		struct run r;
		snprintf(args, sizeof args, "mmu --trace %s", path);
		run(&r, args);
		assert_int_equal(r.status, 2);
		assert_int_equal(lines(r.err), 1);
		assert_non_null(strstr(r.err, "holds no accesses"));
		assert_string_equal(r.out, "");
	}
}

static void test_bad_options_are_usage_errors(void **state)
{
	(void)state;
	struct run r;
	const char *bad[] = {
		"mmu --mode fast --trace x",
		"mmu --page-size 3k --trace x",
		"mmu",
		"mmu --trace x --limit 0",
		"mmu --convert onlyone",
		"mmu --trace /nonexistent/trace",
		"mmu --trace x --set foo=1",
		"mmu --trace x --set l2-4k",
		"mmu --trace x --set l2-4k=100x3",
		"mmu --trace x --set pwc=1,2",
		"mmu --trace x --set lat-exit=-1",
		"mmu --trace x --set l2-4k=0x4",
		"mmu --trace x --set =5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		run(&r, bad[i]);
		if (r.status != 2 || lines(r.err) != 1)
			fail_msg("'%s': status %d, stderr '%s'", bad[i],
				 r.status, r.err);
	}
}

/* Table rows (mode lines) of a replay's output. */
static void table_rows(const char *out, char *rows, size_t n)
{
	rows[0] = '\0';
	const char *modes[] = {"native ", "shadow ", "nested "};
	for (const char *l = out; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l + 1) : strlen(l);
		for (int i = 0; i < 3; i++)
			if (!strncmp(l, modes[i], 7))
				strncat(rows, l,
					len < n - strlen(rows) - 1
						? len
						: n - strlen(rows) - 1);
		l += len;
	}
}

static void test_replay_and_convert_give_the_same_figures(void **state)
{
	(void)state;
	const char *sample = "tests/data/mmu/python3-60k.mvtr";
	char args[900], bin[600], rows1[2048], rows2[2048];
	struct run r;
	snprintf(args, sizeof args, "mmu --trace %s --limit 5000", sample);
	run(&r, args);
	assert_int_equal(r.status, 0);
	table_rows(r.out, rows1, sizeof rows1);
	assert_int_equal(lines(rows1), 3);
	/* through lackey text and back */
	snprintf(bin, sizeof bin, "%s/copy.mvtr", g_dir);
	snprintf(args, sizeof args, "mmu --convert %s %s", sample, bin);
	run(&r, args);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "60000 records"));
	snprintf(args, sizeof args, "mmu --trace %s --limit 5000 --mode all",
		 bin);
	run(&r, args);
	assert_int_equal(r.status, 0);
	table_rows(r.out, rows2, sizeof rows2);
	assert_string_equal(rows1, rows2);
	/* one mode only */
	snprintf(args, sizeof args,
		 "mmu --trace %s --limit 5000 --mode nested -p 2m", bin);
	run(&r, args);
	assert_int_equal(r.status, 0);
	table_rows(r.out, rows2, sizeof rows2);
	assert_int_equal(lines(rows2), 1);
	assert_int_equal(strncmp(rows2, "nested  2m/2m", 13), 0);
}

/* The L2 miss rate of a nested replay of the sample, with extra args. */
static double l2_miss(const char *extra)
{
	char args[900], rows[2048];
	struct run r;
	snprintf(args, sizeof args,
		 "mmu --trace tests/data/mmu/python3-60k.mvtr --mode nested %s",
		 extra);
	run(&r, args);
	assert_int_equal(r.status, 0);
	table_rows(r.out, rows, sizeof rows);
	double l1, l2;
	char mode[16], page[16];
	unsigned long long acc;
	assert_int_equal(sscanf(rows, "%15s %15s %llu %lf%% %lf%%", mode, page,
				&acc, &l1, &l2),
			 5);
	return l2;
}

/* --set changes the model: a 64-entry L2 TLB misses more than 1536. */
static void test_set_changes_the_tlb(void **state)
{
	(void)state;
	double dflt = l2_miss(""), same = l2_miss("--set l2-4k=1536x12");
	double small = l2_miss("--set l2-4k=64x4");
	assert_true(dflt == same);
	assert_true(small > 1.3 * dflt);
}

int main(void)
{
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	g_dir = mvt_tmpdir("mvmmucli");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_describes_the_command),
		cmocka_unit_test(
			test_bad_trace_line_is_one_error_line_and_status_2),
		cmocka_unit_test(test_bad_options_are_usage_errors),
		cmocka_unit_test(test_set_changes_the_tlb),
		cmocka_unit_test(test_empty_trace_is_refused_with_status_2),
		cmocka_unit_test(test_replay_and_convert_give_the_same_figures),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	mvt_rmdir(g_dir);
	return rc;
}
