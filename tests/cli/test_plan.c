/*
 * test_plan.c - `memvisor plan` as a user runs it: help, bad arguments
 * (one line naming the argument, exit 2, nothing written), outputs
 * checked before the runs, the same output for every -j, --by vms, and
 * the sweep monotonic where it must be on the shipped examples
 * (docs/plan.md, "Monotonic"). Tests run from the repository root; files
 * go to this test's own temporary directory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/mvjson.h"
#include "support/mvtest.h"

static char *g_dir;
static char g_bin[4096];

struct out {
	int status;
	char *so, *se; /* standard output, standard error */
};

static void out_free(struct out *o)
{
	free(o->so);
	free(o->se);
}

/* Run `memvisor plan ARGS` (a shell fragment). */
static void plan(struct out *o, const char *args)
{
	char cmd[8192], p1[512], p2[512];
	snprintf(p1, sizeof p1, "%s/so", g_dir);
	snprintf(p2, sizeof p2, "%s/se", g_dir);
	snprintf(cmd, sizeof cmd, "'%s' plan %s >'%s' 2>'%s'", g_bin, args, p1,
		 p2);
	int rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	o->status = WEXITSTATUS(rc);
	o->so = mvt_slurp(p1, NULL);
	o->se = mvt_slurp(p2, NULL);
	assert_non_null(o->so);
	assert_non_null(o->se);
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Exit 2, one line on stderr that contains what, nothing on stdout. */
static void bad(const char *args, const char *what)
{
	struct out o;
	plan(&o, args);
	if (o.status != 2 || lines(o.se) != 1 || !strstr(o.se, what) || o.so[0])
		fail_msg("plan %s: status %d, stderr '%s', stdout '%.80s'",
			 args, o.status, o.se, o.so);
	out_free(&o);
}

static void test_plan_help(void **state)
{
	(void)state;
	struct out o;
	plan(&o, "--help");
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.so, "--slo"));
	assert_non_null(strstr(o.so, "--by host|vms"));
	assert_non_null(strstr(o.so, "-j, --jobs"));
	/* every default SLO is stated with its source */
	assert_non_null(strstr(o.so, "swapin<1/s    no sustained"));
	assert_non_null(strstr(o.so, "Performance Best\n"));
	assert_non_null(strstr(o.so, "stall<1%      memvisor's own"));
	assert_non_null(strstr(o.so, "progress>95%  memvisor's own"));
	out_free(&o);
}

static void test_plan_bad_arguments_are_one_line_and_exit_2(void **state)
{
	(void)state;
	bad("--slo 'stall<1' examples/sweep.xml", "--slo");
	bad("--slo 'latency<1ms' examples/sweep.xml", "unknown metric");
	bad("--slo 'stall<1%,stall<2%' examples/sweep.xml", "twice");
	bad("--ratios 2.0:1.0:0.1 examples/sweep.xml", "--ratios");
	bad("--ratios 1.0,x examples/sweep.xml", "--ratios");
	bad("--ratios 1.2,1.1 examples/sweep.xml", "--ratios");
	bad("--by disks examples/sweep.xml", "--by");
	bad("-j 0 examples/sweep.xml", "--jobs");
	bad("--nope examples/sweep.xml", "--nope");
	bad("", "expected one SCENARIO");
	bad("no-such.xml", "no-such.xml");
	/* a ratio that leaves too small a host: bad input, exit 2 */
	bad("--duration 100ms --ratios 100 examples/sweep.xml", "ratio 100");
}

static void test_plan_refuses_outputs_before_running(void **state)
{
	(void)state;
	char args[2048];
	/* the scenario itself */
	bad("-o examples/sweep.xml examples/sweep.xml", "refusing to write");
	/* two outputs on one file */
	snprintf(args, sizeof args,
		 "--json %s/a --svg %s/a --duration 1s examples/sweep.xml",
		 g_dir, g_dir);
	bad(args, "one output would overwrite the other");
	/* a directory */
	snprintf(args, sizeof args, "-o %s examples/sweep.xml", g_dir);
	bad(args, "--output");
}

static const char small[] =
	"<scenario name='small' seed='3' duration='6s' step='10ms' "
	"stats-interval='1s'>\n"
	"  <host><memory unit='MiB'>256</memory></host>\n"
	"  <vm><domain type='kvm'><name>a</name>"
	"<memory unit='MiB'>128</memory></domain>\n"
	"    <workload kind='steady' size='100MiB' rate='5k' "
	"write-ratio='30%'/></vm>\n"
	"  <vm><domain type='kvm'><name>b</name>"
	"<memory unit='MiB'>128</memory></domain>\n"
	"    <workload kind='leak' size='40MiB' rate='2k' leak='4MiB' "
	"write-ratio='20%'/></vm>\n"
	"</scenario>\n";

static void write_small(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/small.xml", g_dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(small, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_plan_output_is_the_same_for_every_j(void **state)
{
	(void)state;
	write_small();
	char args[2048];
	struct out a, b;
	snprintf(args, sizeof args,
		 "-j 1 --ratios 1.0:3.0:0.5 --json %s/j1.json %s/small.xml",
		 g_dir, g_dir);
	plan(&a, args);
	snprintf(args, sizeof args,
		 "-j 4 --ratios 1.0:3.0:0.5 --json %s/j4.json -o %s/j4.txt "
		 "%s/small.xml",
		 g_dir, g_dir, g_dir);
	plan(&b, args);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	/* -o: the report in the file, nothing on standard output */
	assert_string_equal(b.so, "");
	char t[512];
	snprintf(t, sizeof t, "%s/j4.txt", g_dir);
	char *report = mvt_slurp(t, NULL);
	assert_non_null(report);
	assert_string_equal(a.so, report);
	free(report);
	char p[512], q[512], buf1[1 << 16], buf2[1 << 16];
	snprintf(p, sizeof p, "%s/j1.json", g_dir);
	snprintf(q, sizeof q, "%s/j4.json", g_dir);
	mvt_read_file(p, buf1, sizeof buf1);
	mvt_read_file(q, buf2, sizeof buf2);
	assert_true(buf1[0] != '\0');
	assert_string_equal(buf1, buf2);
	/* five ratios, each a row with a verdict */
	assert_non_null(strstr(a.so, "overcommit by host memory"));
	assert_non_null(strstr(a.so, " 3.00  3.00 "));
	assert_non_null(strstr(a.so, "highest safe ratio"));
	assert_non_null(strstr(a.so, "knee"));
	/* b leaks and 6 s do not reach its end */
	assert_non_null(strstr(a.so, "VM b leaks and was still growing"));
	out_free(&a);
	out_free(&b);
}

static void test_plan_by_vms_adds_copies(void **state)
{
	(void)state;
	write_small();
	char args[2048];
	struct out o;
	snprintf(args, sizeof args,
		 "--by vms --ratios 1.0,2.0 --svg %s/s.svg --json %s/v.json "
		 "%s/small.xml",
		 g_dir, g_dir, g_dir);
	plan(&o, args);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.so, "overcommit by VMs"));
	/* 2.0 over the 256 MiB host: four 128 MiB VMs */
	assert_non_null(strstr(o.so, " 2.00  2.00    4    256 |"));
	char p[512];
	snprintf(p, sizeof p, "%s/v.json", g_dir);
	char *text = mvt_slurp(p, NULL);
	assert_non_null(text);
	struct mvj *j = mvj_parse(text, strlen(text), NULL, 0);
	assert_non_null(j);
	assert_string_equal(mvj_path(j, "by")->string, "vms");
	assert_int_equal(mvj_uint(j, "points.1.vm_count"), 4);
	mvj_free(j);
	free(text);
	snprintf(p, sizeof p, "%s/s.svg", g_dir);
	text = mvt_slurp(p, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "</svg>"));
	assert_non_null(strstr(text, "copies of the VMs"));
	free(text);
	out_free(&o);
}

static void test_plan_stopped_by_sigterm_writes_nothing(void **state)
{
	(void)state;
	char cmd[8192], p[512], st[64];
	snprintf(p, sizeof p, "%s/stopped.txt", g_dir);
	/* to the command alone: it stops its workers too */
	snprintf(cmd, sizeof cmd,
		 "'%s' plan -j 2 -o '%s' examples/sweep.xml 2>/dev/null & "
		 "pid=$!; sleep 1; kill -TERM $pid; wait $pid; "
		 "echo $? > '%s/status'",
		 g_bin, p, g_dir);
	assert_int_equal(system(cmd), 0);
	char sp[512];
	snprintf(sp, sizeof sp, "%s/status", g_dir);
	mvt_read_file(sp, st, sizeof st);
	assert_string_equal(st, "143\n");
	assert_int_equal(access(p, F_OK), -1);
}

static double num(const struct mvj *j, const char *path)
{
	const struct mvj *v = mvj_path(j, path);
	if (!v || v->type != MVJ_NUMBER)
		fail_msg("no number at %s", path);
	return v->number;
}

/*
 * The sweep's promises (docs/plan.md, "Monotonic"): as the ratio rises,
 * hypervisor swap-in and the time in low never fall; the time in hard or
 * low falls by at most one percentage point (a hard episode under a
 * second that an earlier balloon shortens); the worst VM's stall never
 * falls once the hypervisor swaps in (before that it is the guests'
 * first-touch and copy-on-write faults, and ballooning moves cost into
 * guest paging).
 */
static void check_monotonic(const char *args)
{
	char a[2048], p[512];
	snprintf(p, sizeof p, "%s/mono.json", g_dir);
	snprintf(a, sizeof a, "-j 2 --json %s %s", p, args);
	struct out o;
	plan(&o, a);
	assert_int_equal(o.status, 0);
	char *text = mvt_slurp(p, NULL);
	assert_non_null(text);
	struct mvj *j = mvj_parse(text, strlen(text), NULL, 0);
	assert_non_null(j);
	const struct mvj *pts = mvj_get(j, "points");
	assert_non_null(pts);
	assert_true(pts->n >= 3);
	int swapping = 0;
	double prev_sw = -1, prev_low = -1, prev_hl = -1, prev_st = -1;
	for (size_t i = 0; i < pts->n; i++) {
		const struct mvj *q = pts->item[i];
		double r = num(q, "ratio");
		double sw = num(q, "swap_in_pages_per_s");
		double low = 100 * num(q, "state_fraction.low");
		double hl = 100 * num(q, "state_fraction.hard") + low;
		double st = num(q, "worst_stall_percent.value");
		if (sw < prev_sw)
			fail_msg("%s: swap-in falls at %g: %g < %g", args, r,
				 sw, prev_sw);
		if (low < prev_low)
			fail_msg("%s: time in low falls at %g", args, r);
		if (hl < prev_hl - 1.0)
			fail_msg("%s: time in hard/low falls at %g: %g%% < "
				 "%g%%",
				 args, r, hl, prev_hl);
		if (swapping && st < prev_st)
			fail_msg("%s: stall falls at %g: %g < %g", args, r, st,
				 prev_st);
		swapping |= sw > 0;
		prev_sw = sw;
		prev_low = low;
		prev_hl = hl;
		prev_st = st;
	}
	assert_true(swapping); /* the sweep reaches swapping */
	mvj_free(j);
	free(text);
	out_free(&o);
}

static void test_plan_is_monotonic_on_the_sweep_example(void **state)
{
	(void)state;
	check_monotonic("examples/sweep.xml");
}

static void test_plan_is_monotonic_on_the_domain_xml_example(void **state)
{
	(void)state;
	check_monotonic("--ratios 2.0:3.5:0.25 examples/plan-domains.xml");
}

static int setup(void **state)
{
	(void)state;
	g_dir = mvt_tmpdir("mvplan-test");
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
		cmocka_unit_test(test_plan_help),
		cmocka_unit_test(
			test_plan_bad_arguments_are_one_line_and_exit_2),
		cmocka_unit_test(test_plan_refuses_outputs_before_running),
		cmocka_unit_test(test_plan_output_is_the_same_for_every_j),
		cmocka_unit_test(test_plan_by_vms_adds_copies),
		cmocka_unit_test(test_plan_stopped_by_sigterm_writes_nothing),
		cmocka_unit_test(test_plan_is_monotonic_on_the_sweep_example),
		cmocka_unit_test(
			test_plan_is_monotonic_on_the_domain_xml_example),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
