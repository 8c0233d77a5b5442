/*
 * test_cli.c - the memvisor command as users run it.
 *
 * Runs the built binary (posix_spawn, stdout and stderr captured to files)
 * and checks what a user or a script relies on: --version and --help, exit
 * statuses (0 ok, 1 run failed, 2 usage / bad input), that every error is
 * exactly one line on stderr naming the file (and line) at fault, that the
 * text report names every VM, that --json is valid JSON, that the same seed
 * gives the same bytes (the wall-clock line aside), and that --output never
 * leaves a half-written file.
 *
 * The binary: $MV_BIN if set, else $MV_BUILD/memvisor, else derived from
 * this program's path (BUILD/tests/cli/test_cli -> BUILD/memvisor), else
 * build/memvisor. Tests run from the repository root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memvisor/mpi.h"
#include "support/mvjson.h"
#include "support/mvtest.h"

extern char **environ;

static char g_bin[4096];
static char g_dir[256]; /* scratch directory for scenarios and outputs */

struct result {
	int status; /* exit status, or 128 + signal */
	char *out, *err;
	size_t nout, nerr;
};

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static const char *scratch(const char *name)
{
	static char buf[4][512];
	static int k;
	char *p = buf[k++ & 3];
	snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
	return p;
}

/* Run argv (argv[0] is the program) with stdin from /dev/null. */
static void run_prog(const char *const *argv, struct result *r)
{
	char outp[512], errp[512];
	snprintf(outp, sizeof outp, "%s/.stdout", g_dir);
	snprintf(errp, sizeof errp, "%s/.stderr", g_dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, outp,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, errp,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			      environ);
	posix_spawn_file_actions_destroy(&fa);
	memset(r, 0, sizeof *r);
	if (rc != 0) {
		r->status = 127;
		r->out = calloc(1, 1);
		r->err = calloc(1, 1);
		return;
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	r->out = mvt_slurp(outp, &r->nout);
	r->err = mvt_slurp(errp, &r->nerr);
	assert_non_null(r->out);
	assert_non_null(r->err);
}

/* Run memvisor with up to 8 arguments (NULL-terminated). */
static void mv(struct result *r, const char *a1, ...)
{
	const char *argv[12] = {g_bin};
	int n = 1;
	va_list ap;
	va_start(ap, a1);
	for (const char *a = a1; a && n < 11; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	run_prog(argv, r);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* stderr is exactly one line starting with "memvisor: ". */
static void assert_one_error_line(const struct result *r)
{
	if (count_lines(r->err) != 1 || strncmp(r->err, "memvisor: ", 10))
		fail_msg("expected one 'memvisor: ' line on stderr, got:\n%s",
			 r->err);
	assert_int_equal(r->err[r->nerr - 1], '\n');
}

/* Drop every line containing `needle` (the measured figures' line). */
static char *without_lines(const char *s, const char *needle)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s + 1) : strlen(s);
		char *line = strndup(s, len);
		if (!strstr(line, needle)) {
			memcpy(o, s, len);
			o += len;
		}
		free(line);
		s += len;
	}
	*o = '\0';
	return out;
}

static const char small_scenario[] =
	"<scenario name=\"t\" seed=\"7\" duration=\"5s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory></host>\n"
	"  <vm count=\"2\">\n"
	"    <domain type=\"kvm\"><name>vm</name><memory "
	"unit=\"MiB\">48</memory></domain>\n"
	"    <workload kind=\"steady\" size=\"8MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

static const char *small_path(void)
{
	const char *p = scratch("small.xml");
	write_file(p, small_scenario);
	return p;
}

static struct mvj *parse_json_or_fail(const struct result *r)
{
	char err[256];
	struct mvj *doc = mvj_parse(r->out, r->nout, err, sizeof err);
	if (!doc)
		fail_msg("invalid JSON: %s", err);
	return doc;
}

/* ---------------------------------------------------------------- */

static void test_version_prints_name_and_version(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "--version", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "memvisor " MV_VERSION "\n");
	assert_string_equal(r.err, "");
	result_free(&r);
}

static void test_help_lists_the_run_command(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "run SCENARIO"));
	assert_non_null(strstr(r.out, "help"));
	assert_string_equal(r.err, "");
	result_free(&r);

	mv(&r, "help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "run SCENARIO"));
	result_free(&r);

	const char *const *forms[] = {
		(const char *const[]){"help", "run", NULL},
		(const char *const[]){"run", "--help", NULL},
		(const char *const[]){"run", "-h", NULL},
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		mv(&r, forms[i][0], forms[i][1], NULL);
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "usage: memvisor run"));
		assert_non_null(strstr(r.out, "--json"));
		assert_non_null(strstr(r.out, "--seed"));
		assert_string_equal(r.err, "");
		result_free(&r);
	}
}

static void test_unknown_option_exits_2_with_one_line(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "run", "--x", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_string_equal(
		r.err,
		"memvisor: unknown option '--x' (see memvisor run --help)\n");
	assert_string_equal(r.out, "");
	result_free(&r);

	mv(&r, "run", "--bogus=3", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "'--bogus'"));
	result_free(&r);

	mv(&r, "run", "--json=yes", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_string_equal(r.err,
			    "memvisor: option '--json' takes no argument "
			    "(see memvisor run --help)\n");
	result_free(&r);

	mv(&r, "run", "-Z", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "'-Z'"));
	result_free(&r);

	mv(&r, "--frobnicate", NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "'--frobnicate'"));
	result_free(&r);
}

static void test_unknown_command_and_missing_arguments_exit_2(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "frobnicate", NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "frobnicate"));
	result_free(&r);

	mv(&r, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	result_free(&r);

	mv(&r, "run", NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "SCENARIO"));
	result_free(&r);

	mv(&r, "run", small_path(), small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	result_free(&r);

	mv(&r, "run", "--seed", NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "--seed"));
	result_free(&r);

	mv(&r, "help", "frobnicate", NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	result_free(&r);
}

static void test_bad_option_values_exit_2_naming_the_option(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "run", "--seed", "12x", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "--seed"));
	assert_non_null(strstr(r.err, "12x"));
	result_free(&r);

	mv(&r, "run", "--duration", "soon", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "--duration"));
	result_free(&r);

	mv(&r, "run", "--duration", "0s", small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	result_free(&r);
}

static void test_missing_scenario_file_exits_2_naming_it(void **state)
{
	(void)state;
	struct result r;
	const char *path = scratch("no-such-scenario.xml");
	mv(&r, "run", path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, path));
	assert_string_equal(r.out, "");
	result_free(&r);
}

static void test_malformed_scenario_exits_2_naming_file_and_line(void **state)
{
	(void)state;
	struct result r;
	const char *path = scratch("bad-value.xml");
	write_file(path, "<scenario name=\"bad\" seed=\"1\" duration=\"5s\">\n"
			 "  <host>\n"
			 "    <memory unit=\"MiB\">lots</memory>\n"
			 "  </host>\n"
			 "</scenario>\n");
	mv(&r, "run", path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	char where[600];
	snprintf(where, sizeof where, "%s:3", path);
	if (!strstr(r.err, where))
		fail_msg("expected '%s' in: %s", where, r.err);
	assert_string_equal(r.out, "");
	result_free(&r);

	/* Not even XML. */
	path = scratch("bad-xml.xml");
	write_file(path, "<scenario name=\"x\">\n  <host>\n</scenario>\n");
	mv(&r, "run", path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	snprintf(where, sizeof where, "%s:", path);
	if (!strstr(r.err, where))
		fail_msg("expected '%s' in: %s", where, r.err);
	result_free(&r);
}

static void test_small_scenario_prints_a_table_with_both_vms(void **state)
{
	(void)state;
	struct result r;
	const char *path = small_path();
	/* The VM names come from the loader; learn them from the JSON. */
	mv(&r, "run", "--json", path, NULL);
	assert_int_equal(r.status, 0);
	struct mvj *doc = parse_json_or_fail(&r);
	const struct mvj *vms = mvj_get(doc, "vms");
	assert_non_null(vms);
	assert_int_equal(vms->n, 2);
	char names[2][64];
	for (int i = 0; i < 2; i++) {
		const struct mvj *name = mvj_get(vms->item[i], "name");
		assert_non_null(name);
		assert_int_equal(name->type, MVJ_STRING);
		snprintf(names[i], sizeof names[i], "%s", name->string);
	}
	assert_string_not_equal(names[0], names[1]);
	mvj_free(doc);
	result_free(&r);

	mv(&r, "run", path, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, ""); /* no progress bar: not a terminal */
	for (int i = 0; i < 2; i++) {
		char row[160];
		snprintf(row, sizeof row, "\n  %s ", names[i]);
		if (!strstr(r.out, row))
			fail_msg("no table row for %s in:\n%s", names[i],
				 r.out);
	}
	assert_non_null(strstr(r.out, "MEMSZ"));
	assert_non_null(strstr(r.out, "48.0"));
	assert_non_null(strstr(r.out, "TOTAL"));
	assert_null(strstr(r.out, "wall:")); /* measured: only with --timing */
	assert_non_null(strstr(r.out, "overcommit 1.50:1"));
	result_free(&r);
}

static void test_json_output_is_valid_json_with_schema(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "run", "--json", small_path(), NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	struct mvj *doc = parse_json_or_fail(&r);
	const struct mvj *schema = mvj_get(doc, "schema");
	assert_non_null(schema);
	assert_string_equal(schema->string, "memvisor-run/1");
	assert_int_equal(mvj_uint(doc, "scenario.seed"), 7);
	assert_int_equal(mvj_uint(doc, "host.mem_bytes"), 64 * MV_MIB);
	assert_non_null(mvj_path(doc, "series.0.vms.1.state_pages"));
	mvj_free(doc);

	/* A second opinion, if python3 is on this machine. */
	const char *json_path = scratch("out.json");
	write_file(json_path, r.out);
	result_free(&r);
	const char *py[] = {
		"python3",
		"-c",
		"import json,sys; json.load(open(sys.argv[1], "
		"encoding='utf-8'))",
		json_path,
		NULL,
	};
	run_prog(py, &r);
	if (r.status != 127)
		assert_int_equal(r.status, 0);
	result_free(&r);
}

static void test_same_seed_gives_identical_output_but_wall_clock(void **state)
{
	(void)state;
	struct result a, b;
	const char *path = small_path();
	mv(&a, "run", "--json", "--seed", "42", path, NULL);
	mv(&b, "run", "--json", "--seed", "42", path, NULL);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	/* The measured figures (wall clock, sharing scanner CPU) share one
	 * line, the only one dropped. */
	char *ja = without_lines(a.out, "\"wall_s\"");
	assert_int_equal(count_lines(a.out) - 1, count_lines(ja));
	assert_null(strstr(ja, "\"sharing_cpu_ns\""));
	assert_non_null(strstr(a.out, "\"sharing_cpu_ns\""));
	char *jb = without_lines(b.out, "\"wall_s\"");
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
	result_free(&a);
	result_free(&b);

	mv(&a, "run", "--seed", "42", path, NULL);
	mv(&b, "run", "--seed", "42", path, NULL);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.out, b.out); /* text: nothing measured */
	result_free(&a);
	result_free(&b);
}

/* --timing: the measured figures on stderr, the report unchanged. */
static void test_timing_prints_measured_figures_on_stderr_only(void **state)
{
	(void)state;
	struct result a, b;
	const char *path = small_path();
	mv(&a, "run", "--seed", "42", path, NULL);
	mv(&b, "run", "--timing", "--seed", "42", path, NULL);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	assert_string_equal(a.out, b.out);
	assert_string_equal(a.err, "");
	assert_true(strncmp(b.err, "wall: ", 6) == 0);
	assert_int_equal(count_lines(b.err), 1);
	result_free(&a);
	result_free(&b);
}

static void test_seed_and_duration_override_the_scenario(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "run", "--json", "--seed", "99", "--duration", "2s",
	   small_path(), NULL);
	assert_int_equal(r.status, 0);
	struct mvj *doc = parse_json_or_fail(&r);
	assert_int_equal(mvj_uint(doc, "scenario.seed"), 99);
	assert_int_equal(mvj_uint(doc, "scenario.duration_ns"),
			 2 * MV_NS_PER_S);
	assert_int_equal(mvj_uint(doc, "run.simulated_ns"), 2 * MV_NS_PER_S);
	mvj_free(doc);
	result_free(&r);

	/* Options may follow the scenario, too. */
	mv(&r, "run", small_path(), "--quiet", "--duration=1s", "--json", NULL);
	assert_int_equal(r.status, 0);
	doc = parse_json_or_fail(&r);
	assert_int_equal(mvj_uint(doc, "run.simulated_ns"), MV_NS_PER_S);
	mvj_free(doc);
	result_free(&r);
}

static void test_verify_runs_the_invariant_checks_and_succeeds(void **state)
{
	(void)state;
	struct result r;
	mv(&r, "run", "--verify", "--json", "--duration", "2s", small_path(),
	   NULL);
	if (r.status != 0)
		fail_msg("exit %d: %s", r.status, r.err);
	struct mvj *doc = parse_json_or_fail(&r);
	const struct mvj *v = mvj_path(doc, "run.verify");
	assert_non_null(v);
	assert_int_equal(v->type, MVJ_BOOL);
	assert_true(v->boolean);
	mvj_free(doc);
	result_free(&r);
}

/* --interval: the report names the model (text and JSON); --exact, and
 * the default for a run this small, do not; both at once is a usage
 * error. */
static void test_exact_and_interval_choose_the_access_model(void **state)
{
	(void)state;
	struct result r, e;
	const char *path = small_path();
	mv(&r, "run", "--interval", "--seed", "42", path, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\n  access model interval ("));
	mv(&e, "run", "--exact", "--seed", "42", path, NULL);
	assert_int_equal(e.status, 0);
	assert_null(strstr(e.out, "access model"));
	struct result d;
	mv(&d, "run", "--seed", "42", path, NULL);
	assert_string_equal(d.out, e.out);
	result_free(&d);
	result_free(&e);
	result_free(&r);

	mv(&r, "run", "--interval", "--json", "--duration", "2s", path, NULL);
	assert_int_equal(r.status, 0);
	struct mvj *doc = parse_json_or_fail(&r);
	const struct mvj *m = mvj_path(doc, "run.access_model");
	assert_non_null(m);
	assert_string_equal(m->string, "interval");
	mvj_free(doc);
	result_free(&r);

	mv(&r, "run", "--exact", "--interval", path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "--exact and --interval"));
	result_free(&r);
}

static int dir_has_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	int found = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			found++;
	if (d)
		closedir(d);
	return found;
}

static void test_output_file_is_complete_and_leaves_no_temporary(void **state)
{
	(void)state;
	struct result r;
	const char *out = scratch("report.json");
	mv(&r, "run", "--json", "-o", out, small_path(), NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	size_t n;
	char *text = mvt_slurp(out, &n);
	assert_non_null(text);
	char err[256];
	struct mvj *doc = mvj_parse(text, n, err, sizeof err);
	if (!doc)
		fail_msg("invalid JSON in %s: %s", out, err);
	mvj_free(doc);
	free(text);
	assert_int_equal(dir_has_prefix(g_dir, "report.json.tmp"), 0);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_true(st.st_mode & S_IRUSR);
	result_free(&r);

	/* An impossible destination: bad input found before the run, and
	 * nothing left behind. */
	const char *bad = scratch("no-such-dir/report.txt");
	mv(&r, "run", "--output", bad, small_path(), NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--output"));
	assert_one_error_line(&r);
	assert_int_equal(access(bad, F_OK), -1);
	result_free(&r);
}

/*
 * A run that fails on bad input (a .vmx VM with a bad memsize) leaves an
 * existing report untouched and no temporary next to it: the report is
 * only ever replaced by a complete one.
 */
static void test_failed_run_keeps_the_previous_output_file(void **state)
{
	(void)state;
	struct result r;
	const char *out = scratch("kept.txt");
	write_file(out, "previous report\n");
	write_file(scratch("bad.vmx"), "displayName = \"odd\"\n"
				       "memsize = \"1023\"\n");
	const char *sc = scratch("bad-vmx.xml");
	write_file(sc, "<scenario>\n"
		       "  <host><memory unit='GiB'>1</memory></host>\n"
		       "  <vm file='bad.vmx'/>\n"
		       "</scenario>\n");
	mv(&r, "run", "-o", out, sc, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "bad.vmx:2: memsize: "));
	char *text = mvt_slurp(out, NULL);
	assert_non_null(text);
	assert_string_equal(text, "previous report\n");
	free(text);
	assert_int_equal(dir_has_prefix(g_dir, "kept.txt.tmp"), 0);
	result_free(&r);
}

static void test_write_error_on_stdout_exits_1(void **state)
{
	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "'%s' run '%s' >/dev/full 2>'%s/.full'; "
		 "exit $?",
		 g_bin, small_path(), g_dir);
	int ws = system(cmd);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 1);
	char path[512];
	snprintf(path, sizeof path, "%s/.full", g_dir);
	char *err = mvt_slurp(path, NULL);
	assert_non_null(err);
	assert_int_equal(count_lines(err), 1);
	assert_int_equal(strncmp(err, "memvisor: ", 10), 0);
	free(err);
}

/* ---------------------------------------------------------------- */

/* ---- <cluster> files (docs/cluster.md) ------------------------------ */

/* A two-host cluster: small.xml by file, and one host inline. */
static const char *cluster_path(const char *extra)
{
	small_path();
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "<cluster name=\"c\" seed=\"3\" duration=\"2s\">\n"
		 "  <host name=\"a\" file=\"small.xml\"/>\n"
		 "  <host name=\"b\"><scenario>\n"
		 "    <host><memory unit=\"MiB\">64</memory></host>\n"
		 "    <vm><domain type=\"kvm\"><name>solo</name><memory "
		 "unit=\"MiB\">32</memory></domain>\n"
		 "    <workload kind=\"steady\" size=\"8MiB\" rate=\"5k\"/>"
		 "</vm>\n"
		 "  </scenario></host>\n%s"
		 "</cluster>\n",
		 extra);
	const char *p = scratch("cluster.xml");
	write_file(p, xml);
	return p;
}

/*
 * Four hosts that move VMs every way a cluster does: a <migrate> from a
 * to d (between ranks under 2 and 4), one from a to b (one rank's two
 * hosts under 2, two ranks under 4), and c in maintenance mode, which DRS
 * evacuates; extra goes before the hosts, d has d_mib MiB.
 */
static const char *moving_cluster_path(const char *extra, int d_mib)
{
	static const char *const vms[4][2] = {
		{"va1", "va2"}, {"vb", NULL}, {"vc", NULL}, {NULL, NULL}};
	char xml[4096];
	int n = snprintf(xml, sizeof xml,
			 "<cluster name=\"c4\" seed=\"5\" duration=\"3s\">\n"
			 "  <drs level=\"3\" interval=\"1s\"/>\n"
			 "  <migrate vm=\"va1\" from=\"a\" to=\"d\" "
			 "at=\"500ms\"/>\n"
			 "  <migrate vm=\"va2\" from=\"a\" to=\"b\" "
			 "at=\"600ms\"/>\n"
			 "  <maintenance host=\"c\" at=\"1200ms\"/>\n%s",
			 extra);
	for (int h = 0; h < 4; h++) {
		n += snprintf(xml + n, sizeof xml - (size_t)n,
			      "  <host name=\"%c\"><scenario>\n"
			      "    <host><memory unit=\"MiB\">%d</memory>"
			      "</host>\n",
			      'a' + h, h == 3 ? d_mib : 96);
		for (int k = 0; k < 2 && vms[h][k]; k++)
			n += snprintf(xml + n, sizeof xml - (size_t)n,
				      "    <vm><domain type=\"kvm\"><name>%s"
				      "</name><memory unit=\"MiB\">32</memory>"
				      "</domain>\n"
				      "    <workload kind=\"steady\" "
				      "size=\"12MiB\" rate=\"20k\" "
				      "write-ratio=\"0.3\"/></vm>\n",
				      vms[h][k]);
		n += snprintf(xml + n, sizeof xml - (size_t)n,
			      "  </scenario></host>\n");
	}
	snprintf(xml + n, sizeof xml - (size_t)n, "</cluster>\n");
	const char *p = scratch("moving.xml");
	write_file(p, xml);
	return p;
}

static void test_cluster_runs_and_reports_every_host(void **state)
{
	(void)state;
	struct result r;
	char path[512], csv[512];
	snprintf(path, sizeof path, "%s", cluster_path(""));
	snprintf(csv, sizeof csv, "%s", scratch("ccsv"));
	mv(&r, "run", "--json", "--csv", csv, path, NULL);
	assert_int_equal(r.status, 0);
	struct mvj *doc = parse_json_or_fail(&r);
	const struct mvj *schema = mvj_get(doc, "schema");
	assert_string_equal(schema->string, "memvisor-cluster/1");
	const struct mvj *hosts = mvj_get(doc, "hosts");
	assert_non_null(hosts);
	assert_int_equal(hosts->n, 2);
	mvj_free(doc);
	char *again = NULL;
	struct result b;
	mv(&b, "run", "--json", path, NULL);
	assert_int_equal(b.status, 0);
	char *ja = without_lines(r.out, "\"wall_s\"");
	again = without_lines(b.out, "\"wall_s\"");
	assert_string_equal(ja, again); /* same seed, same bytes */
	free(ja);
	free(again);
	char p[600];
	snprintf(p, sizeof p, "%s/host.csv", csv);
	char *text = mvt_slurp(p, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\nb,"));
	free(text);
	result_free(&r);
	result_free(&b);
	mv(&r, "run", path, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "cluster summary"));
	assert_non_null(strstr(r.out, "=== host b (inline, seed "));
	result_free(&r);
}

static void test_bad_cluster_exits_2_and_writes_nothing(void **state)
{
	(void)state;
	struct result r;
	char out[512]; /* scratch()'s buffers turn over */
	snprintf(out, sizeof out, "%s", scratch("cluster-out.txt"));
	unlink(out);
	static const char *const bad[][2] = {
		{"  <drs level=\"7\"/>\n", ":8: drs/level: "},
		{"  <host name=\"a\" file=\"small.xml\"/>\n",
		 ":8: host/name: "},
		{"  <migrate vm=\"solo\" from=\"a\" to=\"b\" at=\"1s\"/>\n",
		 ":8: migrate/from: "},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *path = cluster_path(bad[i][0]);
		mv(&r, "run", "-o", out, path, NULL);
		assert_int_equal(r.status, 2);
		assert_one_error_line(&r);
		if (!strstr(r.err, "cluster.xml") || !strstr(r.err, bad[i][1]))
			fail_msg("case %zu: %s", i, r.err);
		assert_int_equal(access(out, F_OK), -1);
		result_free(&r);
	}
	/* --duration ending the run before an event: as in the file */
	mv(&r, "run", "--duration", "500ms", "-o", out,
	   cluster_path("  <migrate vm=\"solo\" from=\"b\" to=\"a\" "
			"at=\"1s\"/>\n"),
	   NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	if (!strstr(r.err, ":8: migrate/at: ") ||
	    !strstr(r.err, "(500ms, --duration)"))
		fail_msg("--duration: %s", r.err);
	assert_int_equal(access(out, F_OK), -1);
	result_free(&r);
	/* --books is one host's internals */
	mv(&r, "run", "--books", cluster_path(""), NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "--books: not available for a"));
	result_free(&r);
}

/*
 * Started by mpirun with several ranks (Open MPI's environment, set here
 * as mpirun sets it): only a cluster's hosts spread over ranks (the
 * mpirun runs are tests/cluster/test_mpi.c's); one host's scenario would
 * run whole on every rank and write the same files at once, so run
 * refuses before MPI starts: exit 2, rank 0 says why in one line, the
 * others say nothing, no output.
 */
static void test_one_host_under_several_mpi_ranks_is_refused(void **state)
{
	(void)state;
	struct result r;
	char out[512];
	snprintf(out, sizeof out, "%s", scratch("ranks-out.txt"));
	unlink(out);
	setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
	for (int rank = 0; rank < 2; rank++) {
		char rs[8];
		snprintf(rs, sizeof rs, "%d", rank);
		setenv("OMPI_COMM_WORLD_RANK", rs, 1);
		mv(&r, "run", "-o", out, small_path(), NULL);
		assert_int_equal(r.status, 2);
		if (rank == 0) {
			assert_one_error_line(&r);
			assert_non_null(strstr(r.err, "mpirun with 2 ranks"));
			assert_non_null(strstr(r.err, "is one host"));
		} else {
			assert_string_equal(r.err, "");
		}
		assert_int_equal(access(out, F_OK), -1);
		result_free(&r);
	}
	/* one rank is a plain run */
	setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
	setenv("OMPI_COMM_WORLD_RANK", "0", 1);
	mv(&r, "run", "-o", out, cluster_path(""), NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(access(out, F_OK), 0);
	result_free(&r);
	unsetenv("OMPI_COMM_WORLD_SIZE");
	unsetenv("OMPI_COMM_WORLD_RANK");
	unlink(out);
}

/* memvisor under `mpirun -np np` (as root, past the cores: the flags
 * these machines need), with up to 8 arguments after the binary. */
static void mpirun_mv(struct result *r, int np, const char *a1, ...)
{
	char n[8];
	snprintf(n, sizeof n, "%d", np);
	const char *argv[20] = {"mpirun", "--allow-run-as-root",
				"--oversubscribe", "-np", n, g_bin};
	int k = 6;
	va_list ap;
	va_start(ap, a1);
	for (const char *a = a1; a && k < 19; a = va_arg(ap, const char *))
		argv[k++] = a;
	va_end(ap);
	argv[k] = NULL;
	/* Open MPI's own allocations are not ours to report (make asan);
	 * memvisor's own runs elsewhere keep the leak check */
	int had = getenv("ASAN_OPTIONS") != NULL;
	setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
	run_prog(argv, r);
	if (!had)
		unsetenv("ASAN_OPTIONS");
}

/* The file at path without its lines holding needle (wall_s). */
static char *slurp_without(const char *path, const char *needle)
{
	char *t = mvt_slurp(path, NULL);
	assert_non_null(t);
	char *u = without_lines(t, needle);
	free(t);
	return u;
}

/* Why the mpirun runs cannot be made here, printed as a SKIP line; 0 when
 * they can. */
static int mpirun_missing(void)
{
	const char *why =
		!mv_comm_built_with_mpi ? "built without Open MPI"
		: system("command -v mpirun >/dev/null 2>&1")
			? "mpirun not on PATH (apt-get install openmpi-bin)"
			: NULL;
	if (why)
		printf("SKIP: mpirun runs: %s\n", why);
	return why != NULL;
}

/* Point TMPDIR at dir (the runs' swap files go there); the old value,
 * malloc'd or NULL, is for tmpdir_restore. */
static char *tmpdir_set(const char *dir)
{
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", dir, 1);
	return saved;
}

static void tmpdir_restore(char *saved)
{
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
}

/*
 * The report of `memvisor run --verify path` (without its wall-clock
 * lines) as one process, after checking that 2 ranks write the same
 * bytes to txt; `what` names the case in a failure. The caller frees it.
 */
static char *report_as_one_and_two_ranks(const char *path, const char *txt,
					 const char *what)
{
	struct result r;
	char *one = NULL;
	for (int np = 0; np <= 2; np += 2) {
		unlink(txt);
		if (np)
			mpirun_mv(&r, np, "run", "-q", "--verify", "-o", txt,
				  path, NULL);
		else
			mv(&r, "run", "-q", "--verify", "-o", txt, path, NULL);
		if (r.status != 0)
			fail_msg("%s, -np %d: status %d: %s", what, np,
				 r.status, r.err);
		result_free(&r);
		char *t = slurp_without(txt, "wall");
		assert_non_null(strstr(t, "nothing differed"));
		if (!np) {
			one = t;
			continue;
		}
		if (strcmp(t, one))
			fail_msg("%s, -np %d: the report differs from one "
				 "process's",
				 what, np);
		free(t);
	}
	return one;
}

/*
 * A cluster's hosts over MPI ranks (docs/cluster.md, section 5): a
 * cluster that moves VMs between ranks, as one process and under 1, 2 and
 * 4 ranks, writes the same report, JSON (but its measured wall_s), CSV
 * and SVG charts, byte for byte; a move aborted by its destination too, and a swap
 * file on shared storage that goes with its VM to another rank; more
 * ranks than hosts are refused with one line from rank 0 and no output.
 * Skipped, saying why,
 * without Open MPI in the build or mpirun on PATH.
 */
static void test_a_cluster_over_mpi_ranks_writes_the_same_outputs(
	void **state)
{
	(void)state;
	if (mpirun_missing())
		return;
	struct result r;
	char path[512], txt[512], json[512], csv[512], svg[512];
	snprintf(path, sizeof path, "%s", moving_cluster_path("", 96));
	char *ref[2] = {NULL, NULL};
	char *ref_csv[2] = {NULL, NULL};
	static const char *const csv_names[] = {"host.csv", "vm.csv"};
	/* one process, then 1, 2 and 4 ranks: the moves go between ranks
	 * as messages; with --verify every guest byte is checked after
	 * every step on every host, the moved VMs' on arrival */
	static const int nps[] = {0, 1, 2, 4};
	for (int x = 0; x < 4; x++) {
		int np = nps[x];
		snprintf(txt, sizeof txt, "%s", scratch("mpi.txt"));
		snprintf(json, sizeof json, "%s", scratch("mpi.json"));
		snprintf(csv, sizeof csv, "%s", scratch("mpicsv"));
		snprintf(svg, sizeof svg, "%s", scratch(np ? "mpisvg" : "svg1"));
		unlink(txt);
		unlink(json);
		mvt_rm_tree(csv);
		mvt_rm_tree(svg);
		if (np) {
			mpirun_mv(&r, np, "run", "-q", "--verify", "-o", txt,
				  path, NULL);
			assert_int_equal(r.status, 0);
			result_free(&r);
			mpirun_mv(&r, np, "run", "-q", "--json", "-o", json,
				  "--csv", csv, "--svg", svg, path, NULL);
		} else {
			mv(&r, "run", "-q", "--verify", "-o", txt, path, NULL);
			assert_int_equal(r.status, 0);
			result_free(&r);
			mv(&r, "run", "-q", "--json", "-o", json, "--csv", csv,
			   "--svg", svg, path, NULL);
		}
		if (r.status != 0)
			fail_msg("-np %d: status %d: %s", np, r.status, r.err);
		result_free(&r);
		char *t = slurp_without(txt, "wall"),
		     *j = slurp_without(json, "wall_s");
		assert_non_null(t);
		assert_non_null(strstr(t, "=== host d"));
		assert_non_null(strstr(t, "nothing differed"));
		if (!np) {
			/* the three moves were made: they are worth comparing */
			const char *m = strstr(t, "live migrations");
			assert_non_null(m);
			for (const char *vm = "va1\0va2\0vc\0"; *vm;
			     vm += strlen(vm) + 1) {
				char row[64];
				snprintf(row, sizeof row, "\n  %-3s ", vm);
				const char *at = strstr(m, row);
				if (!at)
					fail_msg("no migration row for %s", vm);
				const char *eol = strchr(at + 1, '\n');
				const char *done = strstr(at, " done ");
				if (!done || (eol && done > eol))
					fail_msg("the move of %s is not done",
						 vm);
			}
			ref[0] = t;
			ref[1] = j;
		} else {
			if (strcmp(t, ref[0]) || strcmp(j, ref[1]))
				fail_msg("-np %d: the report or JSON differs "
					 "from one process's",
					 np);
			free(t);
			free(j);
		}
		for (int k = 0; k < 2; k++) {
			char f[600];
			snprintf(f, sizeof f, "%s/%s", csv, csv_names[k]);
			char *c = mvt_slurp(f, NULL);
			assert_non_null(c);
			if (!np) {
				ref_csv[k] = c;
				continue;
			}
			if (strcmp(c, ref_csv[k]))
				fail_msg("-np %d: %s differs", np, csv_names[k]);
			free(c);
		}
		/* the charts: every host's and every VM slot's */
		static const char *const charts[] = {
			"a-host.svg",   "a-vm-va1.svg", "a-vm-va2.svg",
			"a-vm-vc.svg",  "b-host.svg",   "b-vm-vb.svg",
			"b-vm-va2.svg", "c-host.svg",   "c-vm-vc.svg",
			"d-host.svg",   "d-vm-va1.svg"};
		for (size_t k = 0; np && k < sizeof charts / sizeof *charts;
		     k++) {
			char f1[600], f2[600];
			snprintf(f1, sizeof f1, "%s/%s", scratch("svg1"),
				 charts[k]);
			snprintf(f2, sizeof f2, "%s/%s", svg, charts[k]);
			char *a = mvt_slurp(f1, NULL), *b = mvt_slurp(f2, NULL);
			if (!a || !b || !strstr(a, "</svg>") || strcmp(a, b))
				fail_msg("-np %d: %s missing or different", np,
					 charts[k]);
			free(a);
			free(b);
		}
	}
	for (int k = 0; k < 2; k++) {
		free(ref[k]);
		free(ref_csv[k]);
	}
	/* a destination that runs out of memory mid-migration, on another
	 * rank: the move aborts, the VM runs on at its source, not a byte
	 * lost, and the report is the same */
	snprintf(path, sizeof path, "%s",
		 moving_cluster_path("  <migrate vm=\"vb\" from=\"b\" "
				     "to=\"d\" at=\"700ms\"/>\n",
				     28));
	char *one = report_as_one_and_two_ranks(path, txt, "an aborted move");
	const char *row = strstr(one, "\n  vb   b      d ");
	assert_non_null(row);
	assert_non_null(strstr(row, " aborted "));
	assert_non_null(strstr(row, "the destination host is out of memory"));
	free(one);
	/* 3 ranks for 2 hosts */
	snprintf(path, sizeof path, "%s", cluster_path(""));
	unlink(txt);
	mpirun_mv(&r, 3, "run", "-q", "-o", txt, path, NULL);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.err, "memvisor: -np: 3 ranks for 2 hosts"));
	assert_null(strstr(strstr(r.err, "3 ranks for") + 1, "3 ranks for"));
	assert_int_equal(access(txt, F_OK), -1);
	result_free(&r);
	/* a swap file on shared storage goes with its VM between ranks:
	 * the busy host swaps, the moved VM's swapped pages go as their
	 * slots, and the destination's rank opens the file and reads them
	 * (every page checked); the same report, and no file left behind */
	char tmpdir[512];
	snprintf(tmpdir, sizeof tmpdir, "%s", scratch("swaptmp"));
	mvt_rm_tree(tmpdir);
	assert_int_equal(mkdir(tmpdir, 0700), 0);
	snprintf(path, sizeof path, "%s", scratch("shared.xml"));
	write_file(path,
		   "<cluster name=\"ss\" seed=\"3\" duration=\"3s\">\n"
		   "  <storage swap=\"shared\"/>\n"
		   "  <drs>none</drs>\n"
		   "  <migrate vm=\"db-1\" from=\"busy\" to=\"spare\" "
		   "at=\"1s\"/>\n"
		   "  <host name=\"busy\"><scenario>\n"
		   "    <host><memory unit=\"MiB\">40</memory><sharing "
		   "enabled=\"no\"/><compression enabled=\"no\"/></host>\n"
		   "    <vm count=\"2\"><domain type=\"kvm\"><name>db</name>"
		   "<memory unit=\"MiB\">32</memory><devices><memballoon "
		   "model=\"none\"/></devices></domain>\n"
		   "    <workload kind=\"steady\" dist=\"zipf\" "
		   "size=\"24MiB\" rate=\"20k\" write-ratio=\"30%\"/></vm>\n"
		   "  </scenario></host>\n"
		   "  <host name=\"spare\"><scenario><host><memory "
		   "unit=\"MiB\">96</memory></host></scenario></host>\n"
		   "</cluster>\n");
	char *saved_tmp = tmpdir_set(tmpdir);
	mv(&r, "run", "-q", "--json", path, NULL);
	assert_int_equal(r.status, 0);
	const char *refs = strstr(r.out, "\"swap_refs\": ");
	assert_non_null(refs); /* the bulk round's */
	assert_true(atoi(refs + strlen("\"swap_refs\": ")) > 0);
	result_free(&r);
	one = report_as_one_and_two_ranks(path, txt, "shared swap");
	free(one);
	tmpdir_restore(saved_tmp);
	DIR *d = opendir(tmpdir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			fail_msg("%s left in %s", e->d_name, tmpdir);
	closedir(d);
}

/* The child of `parent` whose environment says OMPI_COMM_WORLD_RANK=rank,
 * or -1; *ticks its CPU time so far (clock ticks). */
static pid_t rank_child(pid_t parent, int rank, long *ticks)
{
	DIR *d = opendir("/proc");
	pid_t found = -1;
	char want[40];
	snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
	for (struct dirent *e; d && found < 0 && (e = readdir(d));) {
		char p[300], buf[1024];
		int pid = atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(p, sizeof p, "/proc/%d/stat", pid);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* after "(comm)": state ppid ... utime (14th) stime (15th) */
		const char *a = strrchr(buf, ')');
		int ppid = 0;
		unsigned long ut = 0, st = 0;
		if (!a || sscanf(a + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u "
					 "%*u %*u %lu %lu",
				 &ppid, &ut, &st) != 3 ||
		    ppid != parent)
			continue;
		snprintf(p, sizeof p, "/proc/%d/environ", pid);
		size_t len = 0;
		char *env = mvt_slurp(p, &len);
		for (size_t k = 0; env && k < len; k += strlen(env + k) + 1)
			if (!strcmp(env + k, want)) {
				found = pid;
				*ticks = (long)(ut + st);
			}
		free(env);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * Stage 5 of issue 17: a rank that dies mid-run (SIGKILL to rank 1 of 4,
 * started here, once it has run 1.5 s of CPU) ends the run: mpirun says
 * which rank died, every other rank says in one line that it was ended
 * and wrote nothing, mpirun's status is not 0, and no output exists.
 */
static void test_a_dead_rank_ends_the_run_with_a_line_from_every_rank(
	void **state)
{
	(void)state;
	if (mpirun_missing())
		return;
	/* the moving cluster for long enough that it is killed mid-run, its
	 * swap files on shared storage: named files, in a directory of the
	 * test's own, which the ranks a signal ends must remove */
	char *xml = mvt_slurp(
		moving_cluster_path("  <storage swap=\"shared\"/>\n", 96),
		NULL);
	assert_non_null(xml);
	char *d = strstr(xml, "duration=\"3s\"");
	assert_non_null(d);
	char path[512], txt[512], errp[512];
	snprintf(path, sizeof path, "%s", scratch("long.xml"));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%.*sduration=\"1h\"%s", (int)(d - xml), xml,
		d + strlen("duration=\"3s\""));
	fclose(f);
	free(xml);
	snprintf(txt, sizeof txt, "%s", scratch("dead.txt"));
	snprintf(errp, sizeof errp, "%s", scratch("dead.err"));
	unlink(txt);
	const char *argv[] = {"mpirun", "--allow-run-as-root",
			      "--oversubscribe", "-np", "4", g_bin, "run",
			      "-q", "-o", txt, path, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errp,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char tmpdir[512];
	snprintf(tmpdir, sizeof tmpdir, "%s", scratch("deadtmp"));
	mvt_rm_tree(tmpdir);
	assert_int_equal(mkdir(tmpdir, 0700), 0);
	char *saved_tmp = tmpdir_set(tmpdir);
	int had = getenv("ASAN_OPTIONS") != NULL;
	setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
	/* mpirun sends SIGTERM, then SIGKILL after odls_base_sigkill_timeout
	 * (1 s by default): on a loaded machine 4 oversubscribed ranks may
	 * not all be scheduled within it to print their lines */
	setenv("OMPI_MCA_odls_base_sigkill_timeout", "10", 1);
	pid_t pid;
	int rc = posix_spawnp(&pid, "mpirun", &fa, NULL, (char *const *)argv,
			      environ);
	unsetenv("OMPI_MCA_odls_base_sigkill_timeout");
	if (!had)
		unsetenv("ASAN_OPTIONS");
	tmpdir_restore(saved_tmp);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(rc, 0);
	/* rank 1, once it has run 1.5 s of CPU (past MPI's start, whose
	 * polling takes CPU too, and the loading: stepping) */
	pid_t r1 = -1;
	long ticks = 0, hz = sysconf(_SC_CLK_TCK);
	for (int k = 0; k < 1200; k++) {
		r1 = rank_child(pid, 1, &ticks);
		if (r1 > 0 && ticks >= 3 * hz / 2)
			break;
		usleep(50000);
	}
	if (r1 <= 0 || ticks < 3 * hz / 2) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		char *e = mvt_slurp(errp, NULL);
		fail_msg("rank 1 of mpirun %d never ran 1.5 s (%s, %ld ticks); "
			 "mpirun said: %s",
			 (int)pid, r1 > 0 ? "found" : "not found", ticks,
			 e ? e : "(nothing)");
	}
	assert_int_equal(kill(r1, SIGKILL), 0);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	char *err = mvt_slurp(errp, NULL);
	assert_non_null(err);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) == 0)
		fail_msg("mpirun's status %d after rank 1 died: %s", ws, err);
	for (int r = 0; r < 4; r++) {
		char line[120];
		snprintf(line, sizeof line,
			 "memvisor: rank %d of 4: ended by SIGTERM", r);
		const char *at = strstr(err, line);
		if (r == 1 ? at != NULL : at == NULL)
			fail_msg("rank %d's line %s: %s", r,
				 r == 1 ? "printed" : "missing", err);
	}
	assert_non_null(strstr(err, "rank 1"));
	assert_non_null(strstr(err, "signal 9"));
	assert_int_equal(access(txt, F_OK), -1);
	free(err);
	/* the other ranks removed their files; rank 1's (host b's VMs: vb,
	 * and va2 or vc if they had arrived) are left by SIGKILL itself */
	DIR *dd = opendir(tmpdir);
	assert_non_null(dd);
	for (struct dirent *e; (e = readdir(dd));)
		if (e->d_name[0] != '.' && strncmp(e->d_name, "vb-", 3) &&
		    strncmp(e->d_name, "va2-", 4) &&
		    strncmp(e->d_name, "vc-", 3))
			fail_msg("%s left in %s", e->d_name, tmpdir);
	closedir(dd);
}

static void test_cluster_output_must_be_a_regular_file(void **state)
{
	(void)state;
	struct result r;
	char path[512], small[512], fifo[512];
	snprintf(path, sizeof path, "%s", cluster_path(""));
	snprintf(small, sizeof small, "%s", scratch("small.xml"));
	snprintf(fifo, sizeof fifo, "%s", scratch("cfifo"));
	/* a directory is refused before anything runs */
	mv(&r, "run", "-o", g_dir, path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "--output"));
	result_free(&r);
	/* the cluster file itself, and a host's file, are inputs */
	mv(&r, "run", "-o", path, path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	result_free(&r);
	mv(&r, "run", "-o", small, path, NULL);
	assert_int_equal(r.status, 2);
	assert_one_error_line(&r);
	assert_non_null(strstr(r.err, "refusing to write over it"));
	result_free(&r);
	/* a FIFO is written in place, never replaced */
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int fd = open(fifo, O_RDWR | O_NONBLOCK); /* a reader, so no block */
	assert_true(fd >= 0);
	mv(&r, "run", "--duration", "100ms", "-o", fifo, path, NULL);
	assert_int_equal(r.status, 0);
	struct stat st;
	assert_int_equal(stat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	close(fd);
	unlink(fifo);
	result_free(&r);
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof g_dir, "%s/mvcli.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return mvt_rm_tree(g_dir);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	if (access(g_bin, X_OK) != 0) {
		fprintf(stderr,
			"test_cli: %s: not found or not executable "
			"(set MV_BIN)\n",
			g_bin);
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_prints_name_and_version),
		cmocka_unit_test(test_help_lists_the_run_command),
		cmocka_unit_test(test_unknown_option_exits_2_with_one_line),
		cmocka_unit_test(
			test_unknown_command_and_missing_arguments_exit_2),
		cmocka_unit_test(
			test_bad_option_values_exit_2_naming_the_option),
		cmocka_unit_test(test_missing_scenario_file_exits_2_naming_it),
		cmocka_unit_test(
			test_malformed_scenario_exits_2_naming_file_and_line),
		cmocka_unit_test(
			test_small_scenario_prints_a_table_with_both_vms),
		cmocka_unit_test(test_json_output_is_valid_json_with_schema),
		cmocka_unit_test(
			test_same_seed_gives_identical_output_but_wall_clock),
		cmocka_unit_test(
			test_timing_prints_measured_figures_on_stderr_only),
		cmocka_unit_test(test_seed_and_duration_override_the_scenario),
		cmocka_unit_test(
			test_verify_runs_the_invariant_checks_and_succeeds),
		cmocka_unit_test(
			test_exact_and_interval_choose_the_access_model),
		cmocka_unit_test(
			test_output_file_is_complete_and_leaves_no_temporary),
		cmocka_unit_test(
			test_failed_run_keeps_the_previous_output_file),
		cmocka_unit_test(test_write_error_on_stdout_exits_1),
		cmocka_unit_test(test_cluster_runs_and_reports_every_host),
		cmocka_unit_test(test_bad_cluster_exits_2_and_writes_nothing),
		cmocka_unit_test(test_cluster_output_must_be_a_regular_file),
		cmocka_unit_test(test_one_host_under_several_mpi_ranks_is_refused),
		cmocka_unit_test(
			test_a_cluster_over_mpi_ranks_writes_the_same_outputs),
		cmocka_unit_test(
			test_a_dead_rank_ends_the_run_with_a_line_from_every_rank),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
