/*
 * test_analyze_cli.c - `memvisor analyze` as a user runs it: the text and
 * JSON reports of raw memory images with known figures, --top, the KSM
 * options, the outputs (-o, --json=FILE) and bad input (one error line
 * naming the file or PID, exit 2, nothing on stdout).
 *
 * Two raw images are written into this test's own mkdtemp directory,
 * page by page from content ids (0: zero page; n: a page made from n):
 *
 *   a.raw: 0 1 1 2 0 3
 *   b.raw: 1 2 0 4
 *
 * Every page of a file is mergeable, so KSM's groups are 0 {a a b},
 * 1 {a a b}, 2 {a b}: 3 KSM pages and 5 sharing with the defaults.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/mvjson.h"
#include "support/mvtest.h"

static char g_bin[4096];
static char *g_dir;

struct out {
	int status;
	char text[65536], err[4096];
};

/* Run `memvisor analyze ARGS` (a shell word list) in the scratch dir. */
static void mv(struct out *o, const char *fmt, ...)
{
	char args[2048], cmd[8192], po[600], pe[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(po, sizeof po, "%s/.out", g_dir);
	snprintf(pe, sizeof pe, "%s/.err", g_dir);
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && '%s' analyze %s </dev/null >'%s' 2>'%s'", g_dir,
		 g_bin, args, po, pe);
	int ws = system(cmd);
	o->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
	mvt_read_file(po, o->text, sizeof o->text);
	mvt_read_file(pe, o->err, sizeof o->err);
}

static void one_error_line(const struct out *o, const char *needle)
{
	const char *nl = strchr(o->err, '\n');
	if (strncmp(o->err, "memvisor: ", 10) || !nl || nl[1] ||
	    !strstr(o->err, needle))
		fail_msg("expected one 'memvisor: ...%s...' line, got:\n%s",
			 needle, o->err);
}

static void bad_input(const struct out *o, const char *needle)
{
	assert_int_equal(o->status, 2);
	one_error_line(o, needle);
	if (o->text[0])
		fail_msg("expected nothing on stdout, got:\n%s", o->text);
}

static void fill_page(int id, unsigned char *p)
{
	memset(p, 0, 4096);
	if (!id)
		return;
	uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)id;
	for (int i = 0; i < 4096; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		/* half the bytes repeat: compressible, not trivially */
		p[i] = (i & 1) ? (unsigned char)(s >> 56) : (unsigned char)id;
	}
}

static void write_image(const char *name, const int *ids, int n)
{
	char path[600];
	unsigned char p[4096];
	snprintf(path, sizeof path, "%s/%s", g_dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < n; i++) {
		fill_page(ids[i], p);
		assert_int_equal(fwrite(p, 1, sizeof p, f), sizeof p);
	}
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	static const int a[] = {0, 1, 1, 2, 0, 3}, b[] = {1, 2, 0, 4};
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	g_dir = mvt_tmpdir("mvanalyze");
	write_image("a.raw", a, 6);
	write_image("b.raw", b, 4);
	char path[600];
	snprintf(path, sizeof path, "%s/odd.raw", g_dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite("not a page", 1, 10, f), 10);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof path, "%s/dir", g_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mvt_rm_tree(g_dir), 0);
	free(g_dir);
	return 0;
}

static struct mvj *parse(const char *text)
{
	char err[256];
	struct mvj *j = mvj_parse(text, strlen(text), err, sizeof err);
	if (!j)
		fail_msg("not JSON (%s):\n%s", err, text);
	return j;
}

static struct mvj *parse_file(const char *name)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", g_dir, name);
	char *text = mvt_slurp(path, NULL);
	assert_non_null(text);
	struct mvj *j = parse(text);
	free(text);
	return j;
}

static void test_json_figures_of_two_raw_images(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "--json --compress-every 1 a.raw b.raw");
	assert_int_equal(o.status, 0);
	struct mvj *j = parse(o.text);
	/* a: contents 0 1 2 3; b: 1 2 0 4; 0, 1 and 2 in both */
	assert_int_equal(mvj_uint(j, "images.0.figures.pages"), 6);
	assert_int_equal(mvj_uint(j, "images.0.figures.zero"), 2);
	assert_int_equal(mvj_uint(j, "images.0.figures.distinct"), 4);
	assert_int_equal(mvj_uint(j, "images.0.figures.dup_intra"), 2);
	assert_int_equal(mvj_uint(j, "images.0.figures.dup_inter"), 5);
	assert_int_equal(mvj_uint(j, "images.1.figures.dup_inter"), 3);
	assert_string_equal(mvj_path(j, "images.1.kind")->string, "raw");
	assert_int_equal(mvj_uint(j, "total.pages"), 10);
	assert_int_equal(mvj_uint(j, "total.mergeable"), 10);
	assert_int_equal(mvj_uint(j, "total.zero"), 3);
	assert_int_equal(mvj_uint(j, "total.distinct"), 5);
	assert_int_equal(mvj_uint(j, "total.dup_intra"), 2);
	assert_int_equal(mvj_uint(j, "total.dup_inter"), 8);
	assert_int_equal(mvj_uint(j, "total.ksm_pages_shared"), 3);
	assert_int_equal(mvj_uint(j, "total.ksm_pages_sharing"), 5);
	assert_int_equal(mvj_uint(j, "total.ksm_zero_pages"), 0);
	/* ESX: 0, 1 (3 pages each) and 2 (2) shared; salted a's 0 and 1
	 * and b's lone zero page */
	assert_int_equal(mvj_uint(j, "total.esx_shared"), 8);
	assert_int_equal(mvj_uint(j, "total.esx_saved"), 5);
	assert_int_equal(mvj_uint(j, "total.esx_shared_salted"), 5);
	assert_int_equal(mvj_uint(j, "total.esx_saved_salted"), 2);
	assert_int_equal(mvj_uint(j, "total.sampled"), 10);
	assert_int_equal(mvj_uint(j, "settings.compress_every"), 1);
	uint64_t h = mvj_uint(j, "total.lz4_hist.0") +
		     mvj_uint(j, "total.lz4_hist.1") +
		     mvj_uint(j, "total.lz4_hist.2");
	assert_int_equal(h, 10);
	assert_null(mvj_get(j, "top"));
	mvj_free(j);
}

static void test_ksm_options_change_the_ksm_figures_only(void **state)
{
	(void)state;
	struct out o;
	/* chains of two: 0 {a a | b}, 1 {a a | b}, 2 {a b} */
	mv(&o, "--json --max-page-sharing 2 a.raw b.raw");
	assert_int_equal(o.status, 0);
	struct mvj *j = parse(o.text);
	assert_int_equal(mvj_uint(j, "total.ksm_pages_shared"), 3);
	assert_int_equal(mvj_uint(j, "total.ksm_pages_sharing"), 3);
	assert_int_equal(mvj_uint(j, "settings.max_page_sharing"), 2);
	assert_int_equal(mvj_uint(j, "total.esx_saved"), 5);
	mvj_free(j);
	/* zero pages to the zero page: 1 and 2 remain */
	mv(&o, "--json --use-zero-pages a.raw b.raw");
	assert_int_equal(o.status, 0);
	j = parse(o.text);
	assert_int_equal(mvj_uint(j, "total.ksm_pages_shared"), 2);
	assert_int_equal(mvj_uint(j, "total.ksm_pages_sharing"), 3);
	assert_int_equal(mvj_uint(j, "total.ksm_zero_pages"), 3);
	assert_int_equal(mvj_uint(j, "images.0.figures.ksm_zero_pages"), 2);
	assert_true(mvj_path(j, "settings.use_zero_pages")->boolean);
	mvj_free(j);
}

static void test_top_lists_contents_with_images_and_addresses(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "--json --top 2 a.raw b.raw");
	assert_int_equal(o.status, 0);
	struct mvj *j = parse(o.text);
	const struct mvj *top = mvj_get(j, "top");
	assert_non_null(top);
	assert_int_equal(top->n, 2);
	/* 0 and 1 have three pages each; 0 occurs first */
	assert_true(mvj_path(j, "top.0.zero")->boolean);
	assert_int_equal(mvj_uint(j, "top.0.pages"), 3);
	assert_string_equal(mvj_path(j, "top.0.images.0.addresses.1")->string,
			    "0x4000");
	assert_int_equal(mvj_uint(j, "top.0.images.1.image"), 1);
	assert_false(mvj_path(j, "top.1.zero")->boolean);
	assert_string_equal(mvj_path(j, "top.1.images.0.addresses.0")->string,
			    "0x1000");
	assert_string_equal(mvj_path(j, "top.1.images.1.addresses.0")->string,
			    "0x0");
	mvj_free(j);
	/* the text lists the same, with the file names */
	mv(&o, "--top 2 a.raw b.raw");
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.text, "Most shared contents (top 2)"));
	assert_non_null(strstr(o.text, "3 pages, hash "));
	assert_non_null(strstr(o.text, "a.raw: 2 pages at 0x0 0x4000"));
	assert_non_null(strstr(o.text, "b.raw: 1 page at 0x0"));
}

static void test_text_report_has_every_section(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "a.raw b.raw");
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "");
	static const char *const want[] = {
		"memvisor analyze: 2 inputs, 10 pages",
		"zero%  intra%  inter%",
		"KSM, on the mergeable pages (max_page_sharing 256, "
		"use_zero_pages 0)",
		"pages_shared pages_sharing",
		"ESX page sharing",
		"salted",
		"one other distinct page in 16",
		"LZ4 ratio zstd ratio",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(o.text, want[i]))
			fail_msg("no '%s' in:\n%s", want[i], o.text);
	/* the total row: 10 pages, 30% zero, 20% intra, 80% inter */
	assert_non_null(strstr(o.text, "total"));
	assert_non_null(strstr(o.text, "30.00   20.00   80.00"));
	/* the same input, the same report */
	char first[sizeof o.text];
	memcpy(first, o.text, sizeof first);
	mv(&o, "a.raw b.raw");
	assert_string_equal(o.text, first);
}

static void test_outputs_go_to_files_when_complete(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "-o report.txt --json=report.json a.raw");
	assert_int_equal(o.status, 0);
	assert_string_equal(o.text, "");
	char path[600], text[65536];
	snprintf(path, sizeof path, "%s/report.txt", g_dir);
	mvt_read_file(path, text, sizeof text);
	assert_non_null(strstr(text, "memvisor analyze: 1 input, 6 pages"));
	struct mvj *j = parse_file("report.json");
	assert_int_equal(mvj_uint(j, "total.pages"), 6);
	mvj_free(j);
	/* --json alone with -o: the JSON goes to the file */
	mv(&o, "--json -o only.json b.raw");
	assert_int_equal(o.status, 0);
	j = parse_file("only.json");
	assert_int_equal(mvj_uint(j, "total.pages"), 4);
	mvj_free(j);
}

/* --profile: the Nth goes to the Nth input; each is a profile the
 * scenario reader loads, with that input's pages and zero pages. */
static void test_profiles_are_written_per_input(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "--profile pa.json -P pb.json a.raw b.raw");
	assert_int_equal(o.status, 0);
	const char *name[] = {"pa.json", "pb.json"};
	const int pages[] = {6, 4}, zero[] = {2, 1};
	for (int i = 0; i < 2; i++) {
		struct mvj *j = parse_file(name[i]);
		assert_int_equal(mvj_uint(j, "index"), i);
		assert_int_equal(mvj_uint(j, "pages"), pages[i]);
		assert_int_equal(mvj_uint(j, "zero_pages"), zero[i]);
		mvj_free(j);
		char path[600];
		snprintf(path, sizeof path, "%s/%s", g_dir, name[i]);
		struct mv_profile *p = NULL;
		struct mv_error err = {0};
		mvt_ok(mv_profile_load(path, &p, &err), &err,
		       "mv_profile_load");
		mv_profile_free(p);
	}
	/* more profiles than inputs: exit 2, nothing written */
	mv(&o, "-P x.json -P y.json a.raw");
	bad_input(&o, "--profile: 2 profiles for 1 input");
	char path[600];
	snprintf(path, sizeof path, "%s/x.json", g_dir);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_bad_files_exit_2_naming_the_file(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "a.raw missing.raw");
	bad_input(&o, "missing.raw");
	mv(&o, "a.raw dir");
	bad_input(&o, "dir");
	/* the second image is not a whole number of pages: nothing of the
	 * first is printed */
	mv(&o, "a.raw odd.raw");
	bad_input(&o, "odd.raw");
	mv(&o, "--json a.raw odd.raw");
	bad_input(&o, "odd.raw");
	/* an output that cannot be written is refused before reading */
	mv(&o, "-o dir a.raw");
	bad_input(&o, "dir");
}

static void test_a_pid_that_does_not_exist_exits_2(void **state)
{
	(void)state;
	/* a child that has exited and been waited for */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	struct out o;
	char needle[32];
	snprintf(needle, sizeof needle, "%d", (int)pid);
	mv(&o, "a.raw --pid %d", (int)pid);
	bad_input(&o, needle);
}

static void test_images_and_processes_mix_in_the_order_given(void **state)
{
	(void)state;
	/* a child with pages of its own: the same file's pages twice */
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char buf[64 * 4096];
		memset(buf, 0x5a, sizeof buf);
		if (write(ready[1], "", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	char c;
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1); /* its pages are in */
	close(ready[0]);
	struct out o;
	mv(&o, "--json b.raw --pid %d a.raw", (int)pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (o.status == 2 && strstr(o.err, "root"))
		skip(); /* no ptrace access to another process here */
	assert_int_equal(o.status, 0);
	struct mvj *j = parse(o.text);
	assert_string_equal(mvj_path(j, "images.0.kind")->string, "raw");
	assert_string_equal(mvj_path(j, "images.1.kind")->string, "process");
	assert_string_equal(mvj_path(j, "images.2.kind")->string, "raw");
	char name[32];
	snprintf(name, sizeof name, "pid %d", (int)pid);
	assert_non_null(strstr(mvj_path(j, "images.1.name")->string, name));
	/* the child's 64 pages of 0x5a are one content */
	assert_true(mvj_uint(j, "images.1.figures.pages") >= 64);
	assert_true(mvj_uint(j, "images.1.figures.dup_intra") >= 63);
	assert_int_equal(mvj_uint(j, "total.pages"),
			 mvj_uint(j, "images.0.figures.pages") +
				 mvj_uint(j, "images.1.figures.pages") +
				 mvj_uint(j, "images.2.figures.pages"));
	mvj_free(j);
}

static void test_bad_options_exit_2(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "");
	bad_input(&o, "missing IMAGE");
	mv(&o, "--max-page-sharing 1 a.raw");
	bad_input(&o, "--max-page-sharing");
	mv(&o, "--compress-every 0 a.raw");
	bad_input(&o, "--compress-every");
	mv(&o, "--top x a.raw");
	bad_input(&o, "--top");
	mv(&o, "--pid 0");
	bad_input(&o, "--pid");
	mv(&o, "--frobnicate a.raw");
	bad_input(&o, "--frobnicate");
	mv(&o, "a.raw --top");
	bad_input(&o, "--top");
	/* one process twice would share its pages with themselves */
	mv(&o, "--pid %d --pid %d", (int)getpid(), (int)getpid());
	bad_input(&o, "given twice");
}

/* After "--" every argument is an image, even one named like an option:
 * none is dropped (the report would say fewer inputs than given). */
static void test_images_after_double_dash_are_read(void **state)
{
	(void)state;
	char path[600];
	snprintf(path, sizeof path, "%s/-b.raw", g_dir);
	char from[600];
	snprintf(from, sizeof from, "%s/b.raw", g_dir);
	assert_int_equal(link(from, path), 0);
	struct out o;
	mv(&o, "--json a.raw -- -b.raw");
	assert_int_equal(o.status, 0);
	struct mvj *j = parse(o.text);
	assert_int_equal(mvj_uint(j, "total.pages"), 10);
	mvj_free(j);
	mv(&o, "--json -- -b.raw");
	assert_int_equal(o.status, 0);
	j = parse(o.text);
	assert_int_equal(mvj_uint(j, "total.pages"), 4);
	mvj_free(j);
	assert_int_equal(unlink(path), 0);
}

static void test_help_describes_the_options(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "--help");
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.text, "usage: memvisor analyze"));
	assert_non_null(strstr(o.text, "--max-page-sharing"));
	assert_non_null(strstr(o.text, "--compress-every"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_figures_of_two_raw_images),
		cmocka_unit_test(test_ksm_options_change_the_ksm_figures_only),
		cmocka_unit_test(
			test_top_lists_contents_with_images_and_addresses),
		cmocka_unit_test(test_text_report_has_every_section),
		cmocka_unit_test(test_outputs_go_to_files_when_complete),
		cmocka_unit_test(test_profiles_are_written_per_input),
		cmocka_unit_test(test_bad_files_exit_2_naming_the_file),
		cmocka_unit_test(test_a_pid_that_does_not_exist_exits_2),
		cmocka_unit_test(
			test_images_and_processes_mix_in_the_order_given),
		cmocka_unit_test(test_bad_options_exit_2),
		cmocka_unit_test(test_images_after_double_dash_are_read),
		cmocka_unit_test(test_help_describes_the_options),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
