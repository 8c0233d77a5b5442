/*
 * Tests of usage traces and usage workloads: the reader (src/sim/usage.c)
 * in both formats and on bad input; the workload (src/guest/workload.c)
 * whose set follows a tiny hand-written trace over simulated time, seen
 * through recording gwork_ops; the scenario's <workload kind="usage">
 * (src/sim/workloads.c) and examples/bitbrains.xml; the command's one
 * error line and exit status 2 on a bad trace. Run from the source root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/workload.h"
#include "support/mvtest.h"

#define HDR                                                                    \
	"Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU "   \
	"usage [MHZ];\tCPU usage [%];\tMemory capacity provisioned "           \
	"[KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\tDisk write " \
	"throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork "    \
	"transmitted throughput [KB/s]\n"
#define ROW(ts, prov, used)                                                    \
	ts ";\t2;\t5851.9989;\t87.78;\t1.5;\t" prov ";\t" used                 \
	   ";\t160.8;\t21.7;\t0.26;\t1.46\n"

static struct mv_usage_trace *parse_ok(const char *text, enum mv_usage_format f)
{
	struct mv_usage_trace *u = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_usage_trace_parse(text, strlen(text), "t.csv", f, &u, &err),
	       &err, "mv_usage_trace_parse");
	assert_non_null(u);
	return u;
}

/* text must be refused at line `line`, column `field`, message with part. */
static void parse_bad(const char *text, enum mv_usage_format f, int line,
		      const char *field, const char *part)
{
	struct mv_usage_trace *u = (struct mv_usage_trace *)&u;
	struct mv_error err = {0};
	int rc = mv_usage_trace_parse(text, strlen(text), "t.csv", f, &u, &err);
	if (rc != MV_EINVAL || err.line != line ||
	    strcmp(err.field, field) != 0 || !strstr(err.msg, part) ||
	    strcmp(err.file, "t.csv") != 0)
		fail_msg(
			"want t.csv:%d: %s: ...%s...; got rc %d, %s:%d: %s: %s",
			line, field, part, rc, err.file, err.line, err.field,
			err.msg);
	assert_null(u);
}

/* ------------------------------------------------------------ reader */

static void test_bitbrains_rows_give_time_and_fraction_used(void **state)
{
	(void)state;
	/* the published files: seconds under an "[ms]" header */
	struct mv_usage_trace *u = parse_ok(
		HDR ROW("1372629804", "8000.0", "800.0")
			ROW("1372630104", "8000.0", "4000")
				ROW("1372630404", "8000", "0.0"),
		MV_USAGE_BITBRAINS);
	assert_int_equal(u->nrows, 3);
	assert_int_equal(u->t_ns[0], 0);
	assert_int_equal(u->t_ns[1], 300 * MV_NS_PER_S);
	assert_int_equal(u->t_ns[2], 600 * MV_NS_PER_S);
	assert_true(u->frac[0] == 0.1);
	assert_true(u->frac[1] == 0.5);
	assert_true(u->frac[2] == 0.0);
	assert_int_equal(u->provisioned_kib, 8000);
	mv_usage_trace_free(u);
	/* real milliseconds, CRLF line ends, no final newline */
	u = parse_ok(
		"Timestamp [ms];Memory usage [KB];Memory capacity "
		"provisioned [KB]\r\n1372629804000;1;4\r\n1372629805500;3;4",
		MV_USAGE_BITBRAINS);
	assert_int_equal(u->nrows, 2);
	assert_int_equal(u->t_ns[1], 1500 * 1000000ull);
	assert_true(u->frac[0] == 0.25 && u->frac[1] == 0.75);
	mv_usage_trace_free(u);
}

static void test_google_rows_are_300_s_apart(void **state)
{
	(void)state;
	struct mv_usage_trace *u = parse_ok("58.7 10\n58.2\t50.0\n  1 100 \n",
					    MV_USAGE_GOOGLE);
	assert_int_equal(u->nrows, 3);
	assert_int_equal(u->t_ns[2], 600 * MV_NS_PER_S);
	assert_true(u->frac[0] == 0.1 && u->frac[1] == 0.5 &&
		    u->frac[2] == 1.0);
	assert_int_equal(u->provisioned_kib, 0);
	mv_usage_trace_free(u);
}

static void test_bad_bitbrains_input_names_line_and_column(void **state)
{
	(void)state;
	const enum mv_usage_format B = MV_USAGE_BITBRAINS;
	parse_bad("Timestamp [ms];\tCPU cores;\tMemory usage [KB]\n", B, 1,
		  "header", "no column 'Memory capacity provisioned [KB]'");
	parse_bad("1372629804;\t2;\t8000;\t800\n", B, 1, "header",
		  "no column 'Timestamp [ms]'");
	parse_bad(HDR ROW("1372629804", "8000", "800")
			  ROW("1372630104", "8000", "8o0"),
		  B, 3, "Memory usage [KB]", "'8o0' is not a number");
	parse_bad(HDR ROW("1372629804", "8000", "800")
			  ROW("1372630104", "", "800"),
		  B, 3, "Memory capacity provisioned [KB]", "is empty");
	parse_bad(HDR ROW("1372629804", "8000", "nan"), B, 2,
		  "Memory usage [KB]", "is not a number");
	parse_bad(HDR ROW("1372629804", "8000", "-1"), B, 2,
		  "Memory usage [KB]", "is negative");
	parse_bad(HDR ROW("13726x9804", "8000", "1"), B, 2, "Timestamp [ms]",
		  "is not a whole number");
	parse_bad(HDR ROW("1372629804", "8000", "800")
			  ROW("1372630104", "8000", "800")
				  ROW("1372630104", "8000", "800"),
		  B, 4, "Timestamp [ms]",
		  "1372630104 is not after the previous row's 1372630104");
	parse_bad(HDR ROW("1372629804", "8000", "800")
			  ROW("1372629504", "8000", "800"),
		  B, 3, "Timestamp [ms]", "is not after the previous row's");
	parse_bad(HDR ROW("1372629804", "8000", "8001"), B, 2,
		  "Memory usage [KB]", "8001 KB is more than the 8000 KB");
	parse_bad(HDR ROW("1372629804", "0", "0"), B, 2,
		  "Memory capacity provisioned [KB]", "greater than 0");
	parse_bad(HDR "1372629804;\t2;\t1\n", B, 2, "row",
		  "expected 11 fields as in the header, got 3");
	parse_bad(HDR ROW("1372629804", "8000", "1") "\n" ROW("1372630104",
							      "8000", "1"),
		  B, 3, "row", "empty line");
	parse_bad(HDR, B, 1, "row", "no rows");
	parse_bad("", B, 0, "row", "no rows");
	char nul[] = HDR "1372629804;\t2\0;\t1\n";
	struct mv_usage_trace *u = NULL;
	struct mv_error err = {0};
	assert_int_equal(
		mv_usage_trace_parse(nul, sizeof nul - 1, "t.csv", B, &u, &err),
		MV_EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void test_bad_google_input_names_line_and_column(void **state)
{
	(void)state;
	const enum mv_usage_format G = MV_USAGE_GOOGLE;
	parse_bad("10 20\n30\n", G, 2, "row", "expected two numbers");
	parse_bad("10 20\n30 40 50\n", G, 2, "row", "expected two numbers");
	parse_bad("10 20\n30 4o\n", G, 2, "memory %", "'4o' is not a number");
	parse_bad("x 20\n", G, 1, "cpu %", "'x' is not a number");
	parse_bad("10 100.5\n", G, 1, "memory %", "above 100");
	parse_bad("10 -0.5\n", G, 1, "memory %", "negative");
}

static void test_usage_trace_at_interpolates_linearly(void **state)
{
	(void)state;
	struct mv_usage_trace *u = parse_ok("0 10\n0 50\n0 20\n",
					    MV_USAGE_GOOGLE);
	uint64_t row = 0, s = MV_NS_PER_S;
	assert_true(mv_usage_trace_at(u, 0, &row) == 0.1);
	assert_float_equal(mv_usage_trace_at(u, 150 * s, &row), 0.3, 1e-12);
	assert_int_equal(row, 0);
	assert_true(mv_usage_trace_at(u, 300 * s, &row) == 0.5);
	assert_int_equal(row, 1);
	assert_true(mv_usage_trace_at(u, 600 * s, &row) == 0.2);
	assert_true(mv_usage_trace_at(u, 9000 * s, &row) == 0.2);
	/* a cursor ahead of the time starts over */
	assert_float_equal(mv_usage_trace_at(u, 150 * s, &row), 0.3, 1e-12);
	mv_usage_trace_free(u);
}

/* ---------------------------------------------------------- workload */

/* A guest of one process: which of its pages are resident. */
struct rec {
	uint8_t res[1000];
	uint64_t touches, writes, releases, beyond;
};

static int rec_touch(void *ctx, struct gwork *w, uint64_t vpn, int write,
		     int fetch)
{
	struct rec *r = ctx;
	(void)fetch;
	assert_true(vpn < 1000);
	/* growth touches page uset; accesses pages below it */
	if (vpn > w->uset || (vpn == w->uset && r->res[vpn]))
		r->beyond++;
	r->res[vpn] = 1;
	r->touches++;
	r->writes += write != 0;
	return 0;
}

static int rec_release(void *ctx, struct gwork *w, uint64_t vpn)
{
	struct rec *r = ctx;
	(void)w;
	assert_true(vpn < 1000 && r->res[vpn]);
	r->res[vpn] = 0;
	r->releases++;
	return 0;
}

static void rec_wait(void *ctx, uint64_t ns)
{
	(void)ctx;
	(void)ns;
}

static const struct gwork_ops rec_ops = {rec_touch, rec_release, rec_wait};

/* The set is exactly pages [0, n). */
static void assert_set(const struct rec *r, uint64_t n)
{
	uint64_t k = 0;
	for (uint64_t v = 0; v < 1000; v++) {
		if (r->res[v] != (v < n))
			fail_msg("page %llu is %s; want the set [0, %llu)",
				 (unsigned long long)v,
				 r->res[v] ? "resident" : "not resident",
				 (unsigned long long)n);
		k += r->res[v];
	}
	assert_int_equal(k, n);
}

static void init_usage(struct gwork *w, const struct mv_usage_trace *u,
		       double rate, uint64_t start_row, double speedup)
{
	struct mv_workload_config c;
	mv_workload_config_default(&c);
	snprintf(c.name, sizeof c.name, "u");
	c.kind = MV_WL_USAGE;
	c.usage = u;
	c.size_bytes = 1000 * MV_PAGE_SIZE;
	c.rate = rate;
	c.usage_start_row = start_row;
	c.usage_speedup = speedup;
	uint64_t nv = 0;
	memset(w, 0, sizeof *w);
	assert_int_equal(gwork_init(w, 0, &c, 4096, 0, 7, &nv), 0);
	assert_int_equal(nv, 1000);
}

static void test_usage_set_follows_the_trace_over_time(void **state)
{
	(void)state;
	/* 10%, 50%, 20% of 1000 pages at 0, 300 and 600 s */
	struct mv_usage_trace *u = parse_ok("0 10\n0 50\n0 20\n",
					    MV_USAGE_GOOGLE);
	struct gwork w;
	struct rec *r = calloc(1, sizeof *r);
	assert_non_null(r);
	init_usage(&w, u, 0, 0, 1);
	static const uint64_t at_s[] = {0, 150, 300, 450, 600, 1200};
	static const uint64_t want[] = {100, 300, 500, 350, 200, 200};
	for (int i = 0; i < 6; i++) {
		gwork_step(&w, at_s[i] * MV_NS_PER_S, 150, 1.0, &rec_ops, r);
		assert_int_equal(w.uset, want[i]);
		assert_set(r, want[i]);
	}
	/* grown to 500 once: 500 written pages; shrunk by 300 */
	assert_int_equal(r->touches, 500);
	assert_int_equal(r->writes, 500);
	assert_int_equal(r->releases, 300);

	/* from row 1 at twice the trace's speed, starting at 100 s */
	memset(r, 0, sizeof *r);
	init_usage(&w, u, 0, 1, 2);
	w.cfg.start_ns = 100 * MV_NS_PER_S;
	static const uint64_t at2_s[] = {100, 175, 250, 400};
	static const uint64_t want2[] = {500, 350, 200, 200};
	for (int i = 0; i < 4; i++) {
		gwork_step(&w, at2_s[i] * MV_NS_PER_S, 75, 1.0, &rec_ops, r);
		assert_set(r, want2[i]);
	}
	free(r);
	mv_usage_trace_free(u);
}

static void test_usage_accesses_stay_inside_the_current_set(void **state)
{
	(void)state;
	struct mv_usage_trace *u = parse_ok("0 0\n0 40\n0 5\n0 0\n",
					    MV_USAGE_GOOGLE);
	struct gwork w;
	struct rec *r = calloc(1, sizeof *r);
	assert_non_null(r);
	init_usage(&w, u, 1000, 0, 1);
	uint64_t accesses = 0;
	for (uint64_t t = 0; t <= 900; t += 10) {
		uint64_t before = r->touches;
		gwork_step(&w, t * MV_NS_PER_S, 10, 1.0, &rec_ops, r);
		accesses += r->touches - before;
		uint64_t n = 0;
		for (int v = 0; v < 1000; v++)
			n += r->res[v];
		assert_int_equal(n, w.uset);
	}
	assert_int_equal(r->beyond, 0);
	assert_true(accesses > 10000); /* the set was accessed */
	/* at 900 s the set is empty: no access made */
	assert_int_equal(w.uset, 0);
	uint64_t before = r->touches;
	gwork_step(&w, 900 * MV_NS_PER_S, 10, 1.0, &rec_ops, r);
	assert_int_equal(r->touches, before);
	free(r);
	mv_usage_trace_free(u);
}

/* ---------------------------------------------------------- scenario */

static char *g_dir;

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", g_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *scenario(const char *duration, const char *attrs)
{
	static char xml[2048];
	snprintf(xml, sizeof xml,
		 "<scenario duration=\"%s\" step=\"1s\">\n"
		 "  <host><memory unit=\"MiB\">256</memory></host>\n"
		 "  <vm>\n"
		 "    <domain><name>v</name><memory unit=\"MiB\">64</memory>"
		 "</domain>\n"
		 "    <workload kind=\"usage\" size=\"32MiB\" %s/>\n"
		 "  </vm>\n"
		 "</scenario>\n",
		 duration, attrs);
	return xml;
}

static void load_bad(const char *duration, const char *attrs, int code,
		     const char *file, int line, const char *field,
		     const char *part)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string(scenario(duration, attrs), "t.xml",
					 g_dir, &sc, &err);
	char where[600];
	snprintf(where, sizeof where, "%s%s%s", file[0] == '/' ? "" : g_dir,
		 file[0] == '/' ? "" : "/", file);
	const char *want_file = strcmp(file, "t.xml") == 0 ? "t.xml" : where;
	if (rc != code || err.line != line || strcmp(err.field, field) ||
	    strcmp(err.file, want_file) || !strstr(err.msg, part))
		fail_msg("%s: want %s:%d: %s: ...%s...; got rc %d, %s:%d: "
			 "%s: %s",
			 attrs, want_file, line, field, part, rc, err.file,
			 err.line, err.field, err.msg);
	assert_null(sc);
}

static void test_scenario_reads_usage_workloads(void **state)
{
	(void)state;
	write_file("g.txt", "1 10\n1 50\n1 20\n");
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(
		       scenario("10m", "file=\"g.txt\" format=\"google\" "
				       "start-row=\"1\" speedup=\"0.5\""),
		       "t.xml", g_dir, &sc, &err),
	       &err, "load");
	const struct mv_workload_config *w = &sc->vms[0].guest.workload[0];
	assert_int_equal(w->kind, MV_WL_USAGE);
	assert_non_null(w->usage);
	assert_int_equal(w->usage->nrows, 3);
	assert_int_equal(w->usage_start_row, 1);
	assert_true(w->usage_speedup == 0.5);
	assert_int_equal(sc->nusage, 1);
	mv_scenario_free(sc);
	write_file("bad.txt", "1 10\n1 5O\n");
	load_bad("5m", "file=\"g.txt\"", MV_EINVAL, "t.xml", 5,
		 "workload/format", "is required");
	load_bad("5m", "format=\"google\"", MV_EINVAL, "t.xml", 5,
		 "workload/file", "is required");
	load_bad("5m", "file=\"g.txt\" format=\"azure\"", MV_EINVAL, "t.xml", 5,
		 "workload/format", "unknown usage trace format 'azure'");
	load_bad("5m", "file=\"g.txt\" format=\"google\" dist=\"zipf\"",
		 MV_EINVAL, "t.xml", 5, "workload/dist", "not used");
	load_bad("5m", "file=\"g.txt\" format=\"google\" speedup=\"0\"",
		 MV_EINVAL, "t.xml", 5, "workload/speedup", "");
	load_bad("5m", "file=\"g.txt\" format=\"google\" start-row=\"3\"",
		 MV_EINVAL, "t.xml", 5, "workload/start-row", "has 3 rows");
	/* 10 min of a trace that covers 10 min from row 0, 5 from row 1 */
	load_bad("10m", "file=\"g.txt\" format=\"google\" start-row=\"1\"",
		 MV_EINVAL, "t.xml", 5, "workload/file",
		 "covers 5m from row 1");
	load_bad("6m", "file=\"g.txt\" format=\"google\" speedup=\"2\"",
		 MV_EINVAL, "t.xml", 5, "workload/file", "at speedup 2");
	load_bad("5m", "file=\"none.txt\" format=\"google\"", MV_ENOENT,
		 "t.xml", 5, "workload/file", "cannot open");
	/* a bad row is the trace's own file and line */
	load_bad("5m", "file=\"bad.txt\" format=\"google\"", MV_EINVAL,
		 "bad.txt", 2, "memory %", "'5O' is not a number");
	/* usage-only attributes with another kind */
	struct mv_scenario *s2 = NULL;
	assert_int_equal(
		mv_scenario_load_string(
			"<scenario duration=\"1m\"><host><memory unit=\"MiB\">"
			"256</memory></host><vm><domain><name>v</name><memory "
			"unit=\"MiB\">64</memory></domain><workload "
			"size=\"1MiB\""
			" speedup=\"2\"/></vm></scenario>",
			"t.xml", g_dir, &s2, &err),
		MV_EINVAL);
	assert_string_equal(err.field, "workload/speedup");
	assert_non_null(strstr(err.msg, "only used with kind=\"usage\""));
}

static void test_bitbrains_example_loads_at_1_5_to_1(void **state)
{
	(void)state;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load("examples/bitbrains.xml", &sc, &err), &err,
	       "examples/bitbrains.xml");
	assert_int_equal(sc->nvms, 24);
	assert_true(sc->duration_ns >= 86400 * MV_NS_PER_S);
	uint64_t vm_bytes = 0;
	for (int i = 0; i < sc->nvms; i++) {
		const struct mv_vm_spec *v = &sc->vms[i];
		vm_bytes += v->vm.mem_bytes;
		assert_int_equal(v->guest.nworkloads, 1);
		const struct mv_workload_config *w = &v->guest.workload[0];
		assert_int_equal(w->kind, MV_WL_USAGE);
		assert_int_equal(w->usage_format, MV_USAGE_BITBRAINS);
		assert_int_equal(w->usage->nrows, 576); /* two days */
	}
	assert_int_equal(sc->nusage, 24);
	double over = (double)vm_bytes / (double)sc->host.mem_bytes;
	assert_true(over > 1.49 && over < 1.51);
	mv_scenario_free(sc);
}

static void test_run_with_a_bad_trace_prints_one_line_and_exits_2(void **state)
{
	(void)state;
	char bin[512];
	mvt_memvisor_bin(bin, sizeof bin);
	if (access(bin, X_OK) != 0)
		fail_msg("%s: not found (set MV_BIN)", bin);
	write_file("b.csv", HDR ROW("1372629804", "8000", "800")
				    ROW("1372629504", "8000", "800"));
	write_file("s.xml", scenario("5m", "file=\"b.csv\" "
					   "format=\"bitbrains\""));
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "'%s' run '%s/s.xml' >'%s/out' 2>'%s/err'",
		 bin, g_dir, g_dir, g_dir);
	int ws = system(cmd);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 2);
	char path[600], want[700];
	snprintf(path, sizeof path, "%s/out", g_dir);
	char *out = mvt_slurp(path, NULL);
	assert_non_null(out);
	assert_string_equal(out, ""); /* no partial output */
	free(out);
	snprintf(path, sizeof path, "%s/err", g_dir);
	char *e = mvt_slurp(path, NULL);
	assert_non_null(e);
	snprintf(want, sizeof want,
		 "memvisor: %s/b.csv:3: Timestamp [ms]: 1372629504 is not "
		 "after the previous row's 1372629804\n",
		 g_dir);
	assert_string_equal(e, want);
	free(e);
}

static int setup(void **state)
{
	(void)state;
	g_dir = mvt_tmpdir("mvusage");
	return g_dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	mvt_rmdir(g_dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_bitbrains_rows_give_time_and_fraction_used),
		cmocka_unit_test(test_google_rows_are_300_s_apart),
		cmocka_unit_test(
			test_bad_bitbrains_input_names_line_and_column),
		cmocka_unit_test(test_bad_google_input_names_line_and_column),
		cmocka_unit_test(test_usage_trace_at_interpolates_linearly),
		cmocka_unit_test(test_usage_set_follows_the_trace_over_time),
		cmocka_unit_test(
			test_usage_accesses_stay_inside_the_current_set),
		cmocka_unit_test(test_scenario_reads_usage_workloads),
		cmocka_unit_test(test_bitbrains_example_loads_at_1_5_to_1),
		cmocka_unit_test(
			test_run_with_a_bad_trace_prints_one_line_and_exits_2),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
