/*
 * test_paper.c - scripts/paper.sh: the table of memvisor against the ESX
 * paper (docs/paper.md), its evaluator and its exit status.
 *
 * The evaluator runs on fabricated experiment scripts in this test's own
 * temporary directory: rows inside and outside each kind of tolerance
 * (15%, 2x, ±N), malformed rows, a failing script and a script without
 * the `# paper-experiment` line (not run). Then the shipped experiments
 * (examples/paper/) under --check: this test fails when one of their
 * figures leaves its tolerance. Tests run from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/mvtest.h"

static char *g_dir;
static char g_bin[4096];
static int g_case;

/* A new directory for one case, with an experiment script `name` whose
 * body is `body` (after the shebang and the marker, unless marked is 0). */
static void script(char *sub, size_t n, const char *name, int marked,
		   const char *body)
{
	char path[1024];
	snprintf(sub, n, "%s/case%d", g_dir, g_case);
	mkdir(sub, 0700);
	snprintf(path, sizeof path, "%s/%s", sub, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s%s", marked ? "# paper-experiment\n" : "",
		body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
}

/* Run paper.sh [--check] on dir; its exit status, stdout and stderr. */
static int paper(const char *check, const char *dir, char **out, char **err)
{
	char cmd[8192], po[1024], pe[1024];
	snprintf(po, sizeof po, "%s/out%d", g_dir, g_case);
	snprintf(pe, sizeof pe, "%s/err%d", g_dir, g_case);
	snprintf(cmd, sizeof cmd,
		 "MEMVISOR='%s' scripts/paper.sh %s '%s' >'%s' 2>'%s'", g_bin,
		 check, dir, po, pe);
	int rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	*out = mvt_slurp(po, NULL);
	*err = mvt_slurp(pe, NULL);
	assert_non_null(*out);
	assert_non_null(*err);
	g_case++;
	return WEXITSTATUS(rc);
}

/* A row printf(1) prints: experiment, quantity, paper, memvisor, unit,
 * tolerance (source "Fig. 0"). */
#define ROW(q, p, m, unit, tol)                                                \
	"printf 'Exp\\t" q "\\t" p "\\tFig. 0\\t" m "\\t" unit "\\t" tol       \
	"\\n'\n"

static void test_rows_inside_each_kind_of_tolerance_are_ok(void **state)
{
	(void)state;
	char sub[1024], *out, *err;
	script(sub, sizeof sub, "a.sh", 1,
	       ROW("size", "100", "114", "MB", "15%%")
		       ROW("time", "40", "79", "s", "2x")
			       ROW("share", "97", "99.5", "%%", "±3"));
	assert_int_equal(paper("--check", sub, &out, &err), 0);
	assert_non_null(strstr(out, "| experiment | quantity | paper | source "
				    "| memvisor | error | tolerance | ok |"));
	assert_non_null(strstr(out, "| Exp | size | 100 MB | Fig. 0 | 114 MB "
				    "| +14.0% | 15% | ok |"));
	assert_non_null(strstr(out, "| Exp | time | 40 s | Fig. 0 | 79 s | "
				    "1.98x | 2x | ok |"));
	assert_non_null(strstr(out, "| Exp | share | 97% | Fig. 0 | 99.5% | "
				    "+2.5 | ±3 | ok |"));
	assert_null(strstr(out, "OUT"));
	assert_string_equal(err, "");
	free(out);
	free(err);
}

static void
test_a_row_out_of_tolerance_fails_the_check_and_is_named(void **state)
{
	(void)state;
	static const char *const rows[] = {
		ROW("size", "100", "116", "MB", "15%%"),
		ROW("size", "100", "84", "MB", "15%%"),
		ROW("time", "40", "81", "s", "2x"),
		ROW("time", "40", "19", "s", "2x"),
		ROW("share", "0.3", "3.4", "%%", "±3"),
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char sub[1024], body[512], *out, *err;
		snprintf(body, sizeof body, "%s%s",
			 ROW("fine", "10", "10", "MB", "15%%"), rows[i]);
		script(sub, sizeof sub, "a.sh", 1, body);
		/* without --check: the table, OUT in it, status 0 */
		assert_int_equal(paper("", sub, &out, &err), 0);
		assert_non_null(strstr(out, "| OUT |"));
		assert_non_null(strstr(out, "| fine |"));
		free(out);
		free(err);
		assert_int_equal(paper("--check", sub, &out, &err), 1);
		assert_non_null(strstr(out, "| OUT |"));
		assert_non_null(strstr(err, "paper.sh: OUT: "));
		assert_null(strstr(err, "fine"));
		assert_true(strstr(err, ": size:") || strstr(err, ": time:") ||
			    strstr(err, ": share:"));
		free(out);
		free(err);
	}
}

/* A known gap ("gap:" before the tolerance) shows its error and "gap"
 * when outside, does not fail --check, and is named on stderr; inside
 * its tolerance it is an ordinary ok row. */
static void test_a_known_gap_is_shown_but_does_not_fail(void **state)
{
	(void)state;
	char sub[1024], *out, *err;
	script(sub, sizeof sub, "a.sh", 1,
	       ROW("time", "40", "10", "s", "gap:2x")
		       ROW("size", "100", "110", "MB", "gap:15%%"));
	assert_int_equal(paper("--check", sub, &out, &err), 0);
	assert_non_null(strstr(out, "| Exp | time | 40 s | Fig. 0 | 10 s | "
				    "0.25x | 2x | gap |"));
	assert_non_null(strstr(out, "| Exp | size | 100 MB | Fig. 0 | 110 MB "
				    "| +10.0% | 15% | ok |"));
	assert_null(strstr(out, "OUT"));
	assert_non_null(strstr(err, "paper.sh: known gap: "));
	assert_non_null(strstr(err, ": time:"));
	assert_null(strstr(err, ": size:"));
	free(out);
	free(err);
}

static void test_malformed_rows_and_failed_scripts_are_errors(void **state)
{
	(void)state;
	static const struct {
		const char *body, *part;
	} bad[] = {
		{"printf 'Exp\\tq\\t1\\tFig. 0\\t1\\tMB\\n'\n",
		 "expected 7 TAB-separated fields, got 6"},
		{"echo 'a table, not rows'\n", "expected 7 TAB-separated"},
		{ROW("q", "about 100", "1", "MB", "15%%"),
		 "paper value \"about 100\" is not a number"},
		{ROW("q", "100", "n/a", "MB", "15%%"),
		 "memvisor value \"n/a\" is not a number"},
		{ROW("q", "100", "100", "MB", "15"), "tolerance \"15\""},
		{ROW("q", "100", "100", "MB", "1x"), "must be above 1"},
		{ROW("q", "0", "1", "MB", "15%%"), "paper value other than 0"},
		{"printf 'Exp\\t\\t1\\tFig. 0\\t1\\tMB\\t15%%\\n'\n",
		 "field 2 is empty"},
		{":\n", "printed no row"},
		{ROW("q", "100", "100", "MB",
		     "15%%") "echo broken >&2\nexit 3\n",
		 "exited with status 3: broken"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char sub[1024], *out, *err;
		script(sub, sizeof sub, "a.sh", 1, bad[i].body);
		assert_int_equal(paper("--check", sub, &out, &err), 2);
		/* nothing on standard output, one line naming the script */
		assert_string_equal(out, "");
		if (!strstr(err, bad[i].part) || !strstr(err, "a.sh") ||
		    strchr(err, '\n') != err + strlen(err) - 1)
			fail_msg("case %zu: expected one line with '%s', got "
				 "'%s'",
				 i, bad[i].part, err);
		free(out);
		free(err);
	}
}

static void test_only_scripts_with_the_marker_run(void **state)
{
	(void)state;
	char sub[1024], path[2048], *out, *err;
	script(sub, sizeof sub, "a.sh", 1, ROW("q", "10", "10", "MB", "15%%"));
	/* the same directory: a helper script without the marker */
	snprintf(path, sizeof path, "%s/helper.sh", sub);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho 'not a row'\nexit 1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(paper("--check", sub, &out, &err), 0);
	assert_non_null(strstr(out, "| Exp | q |"));
	free(out);
	free(err);
	/* a directory without any experiment is an error */
	snprintf(path, sizeof path, "%s/empty", g_dir);
	mkdir(path, 0700);
	assert_int_equal(paper("", path, &out, &err), 2);
	assert_non_null(strstr(err, "no paper experiment"));
	free(out);
	free(err);
}

/* The shipped experiments, every row within its tolerance. */
static void test_shipped_experiments_are_within_tolerance(void **state)
{
	(void)state;
	char *out, *err;
	int rc = paper("--check", "examples/paper", &out, &err);
	if (rc != 0)
		fail_msg("scripts/paper.sh --check exited %d:\n%s%s", rc, out,
			 err);
	assert_non_null(strstr(out, "| Idle memory tax |"));
	/* figure 8: the four states' time shares, the zero pages shared
	 * before swap at boot, the peak paged to disk and the sharing after
	 * boot (with the VMs' overhead memory out of the 1 GB, no longer a
	 * known gap: docs/paper.md) */
	static const char *const fig8[] = {"high", "soft", "hard", "low"};
	for (size_t i = 0; i < sizeof fig8 / sizeof fig8[0]; i++) {
		char row[128];
		snprintf(row, sizeof row,
			 "| Dynamic reallocation | time in state %s |",
			 fig8[i]);
		assert_non_null(strstr(out, row));
	}
	assert_non_null(strstr(out, "| Dynamic reallocation | zero pages "
				    "shared while the VMs boot (peak) |"));
	assert_non_null(strstr(out, "| Dynamic reallocation | paged to disk, "
				    "peak over the run |"));
	const char *shr = strstr(out, "| Dynamic reallocation | saved by page "
				      "sharing after boot (mean) |");
	assert_non_null(shr);
	const char *eol = strchr(shr, '\n');
	assert_non_null(eol);
	assert_true(eol - shr > 6 && strncmp(eol - 6, "| ok |", 6) == 0);
	/* figure 6's zero page thread: a spike under Windows, none under
	 * Linux (examples/paper/sampling-zpt.sh) */
	assert_non_null(strstr(out, "| Active-memory sampling | Windows: rise "
				    "within 10 s of the toucher's stop (ZPT "
				    "spike) |"));
	assert_non_null(strstr(out, "| Active-memory sampling | Linux: the "
				    "same rise (no spike) |"));
	/* rows below the header's separator */
	int n = 0;
	const char *p = strstr(out, "|---");
	while (p && (p = strstr(p, "| ok |")))
		n++, p++;
	printf("note: %d paper figures within tolerance\n", n);
	free(out);
	free(err);
}

static int setup(void **state)
{
	(void)state;
	g_dir = mvt_tmpdir("mvpaper-test");
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	return g_dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	int rc = mvt_rm_tree(g_dir);
	free(g_dir);
	return rc;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_rows_inside_each_kind_of_tolerance_are_ok),
		cmocka_unit_test(
			test_a_row_out_of_tolerance_fails_the_check_and_is_named),
		cmocka_unit_test(
			test_malformed_rows_and_failed_scripts_are_errors),
		cmocka_unit_test(test_a_known_gap_is_shown_but_does_not_fail),
		cmocka_unit_test(test_only_scripts_with_the_marker_run),
		cmocka_unit_test(test_shipped_experiments_are_within_tolerance),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
