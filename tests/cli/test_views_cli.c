/*
 * test_views_cli.c - the operator views as a user runs them: `memvisor
 * dommemstat`, `memvisor run --csv DIR` and `memvisor run --svg DIR`.
 *
 * Runs the built binary through /bin/sh with stdout and stderr sent to
 * files in a scratch directory, and checks what scripts rely on: the exact
 * listing shape, exit statuses, one error line, and that output
 * directories hold complete files only. The live screen (run --top) is
 * driven through tmux (send-keys, capture-pane) when tmux is installed:
 * it shows the host line and a row per VM, pauses (simulated time stands
 * still), sorts on a key, and q stops the run early with a report.
 *
 * The binary: $MV_BIN if set, else $MV_BUILD/memvisor, else derived from
 * this program's path (BUILD/tests/cli/x -> BUILD/memvisor).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/mvtest.h"

static char g_bin[4096];
static char *g_dir;

struct out {
	int status;
	char text[65536], err[4096];
};

/* Run `memvisor ARGS` (a shell word list) and capture its output. */
static void mv(struct out *o, const char *fmt, ...)
{
	char args[2048], cmd[8192], po[600], pe[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(po, sizeof po, "%s/.out", g_dir);
	snprintf(pe, sizeof pe, "%s/.err", g_dir);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s </dev/null >'%s' 2>'%s'",
		 g_dir, g_bin, args, po, pe);
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

static void write_file(const char *name, const char *text)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char scenario[] =
	"<scenario name=\"t\" seed=\"7\" duration=\"6s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory></host>\n"
	"  <vm count=\"2\">\n"
	"    <domain type=\"kvm\"><name>vm</name><memory unit=\"MiB\">48"
	"</memory><devices><memballoon model=\"virtio\"><stats period=\"2\"/>"
	"</memballoon></devices></domain>\n"
	"    <workload kind=\"steady\" size=\"20MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\" content=\"data\"/>\n"
	"  </vm>\n"
	"  <vm>\n"
	"    <domain type=\"kvm\"><name>quiet</name><memory unit=\"MiB\">16"
	"</memory></domain>\n"
	"    <workload kind=\"steady\" size=\"4MiB\" rate=\"5k\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

static int setup(void **state)
{
	(void)state;
	mvt_memvisor_bin(g_bin, sizeof g_bin);
	g_dir = mvt_tmpdir("mvviews");
	write_file("s.xml", scenario);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mvt_rm_tree(g_dir), 0);
	free(g_dir);
	return 0;
}

/* ---------------------------------------------------------------- */

static const char *const dms_order[] = {
	"actual",      "swap_in",     "swap_out",        "major_fault",
	"minor_fault", "unused",      "available",       "usable",
	"last_update", "disk_caches", "hugetlb_pgalloc", "hugetlb_pgfail",
	"rss",
};

/* Every line is "name value"; return the value of `name` or -1. */
static long long field(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; *p;) {
		if (!strncmp(p, name, n) && p[n] == ' ')
			return atoll(p + n + 1);
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -1;
}

static void test_dommemstat_listing(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "dommemstat s.xml vm-1");
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "");
	/* libvirt's 13 lines, in its order, "name value". */
	const char *p = o.text;
	for (size_t i = 0; i < sizeof dms_order / sizeof *dms_order; i++) {
		size_t n = strlen(dms_order[i]);
		if (strncmp(p, dms_order[i], n) || p[n] != ' ')
			fail_msg("line %zu: expected %s, got:\n%s", i,
				 dms_order[i], o.text);
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	assert_string_equal(p, "");
	assert_int_equal(field(o.text, "actual"), 48 * 1024);
	/* libvirt's epoch seconds: the run starts 2026-01-01 00:00 UTC; the
	 * guest reported at boot (0.01 s), then 2 s after each report: the
	 * last before the end (6 s) at 4.01 s */
	assert_int_equal(field(o.text, "last_update"), 1767225600 + 4);
	assert_true(field(o.text, "minor_fault") >=
		    field(o.text, "major_fault"));
	assert_true(field(o.text, "rss") > 20 * 1024 / 2);

	/* Halfway between two reports: the guest's figures are the older. */
	mv(&o, "dommemstat --at 3s --sim-seconds s.xml vm-2");
	assert_int_equal(o.status, 0);
	assert_int_equal(field(o.text, "last_update"), 2);
	mv(&o, "dommemstat --at 3s --epoch 1000 s.xml vm-2");
	assert_int_equal(o.status, 0);
	assert_int_equal(field(o.text, "last_update"), 1002);

	/* No stats period: the boot's report, which QEMU keeps. */
	mv(&o, "dommemstat s.xml quiet --at=5s");
	assert_int_equal(o.status, 0);
	assert_int_equal(field(o.text, "actual"), 16 * 1024);
	assert_int_equal(field(o.text, "last_update"), 1767225600);
	assert_true(field(o.text, "unused") > 0);
	assert_true(field(o.text, "unused") < 16 * 1024);
}

static void test_dommemstat_errors(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "dommemstat s.xml nosuch");
	assert_int_equal(o.status, 2);
	assert_string_equal(o.err,
			    "memvisor: dommemstat: no VM named 'nosuch' in "
			    "s.xml (its VMs: vm-1, vm-2, quiet)\n");
	assert_string_equal(o.text, "");
	mv(&o, "dommemstat --at 7s s.xml vm-1");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--at");
	mv(&o, "dommemstat --at soon s.xml vm-1");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--at");
	mv(&o, "dommemstat --epoch yesterday s.xml vm-1");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--epoch");
	assert_string_equal(o.text, "");
	mv(&o, "dommemstat --epoch 253402300800 s.xml vm-1");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--epoch");
	mv(&o, "dommemstat s.xml");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "SCENARIO and VM");
	mv(&o, "dommemstat missing.xml vm-1");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "missing.xml");
	mv(&o, "dommemstat --help");
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.text, "usage: memvisor dommemstat"));
	mv(&o, "help dommemstat");
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.text, "--at"));
}

static int exists(const char *name)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	return access(p, F_OK) == 0;
}

static void test_run_csv(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "run -q --csv series s.xml");
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "");
	assert_non_null(strstr(o.text, "vm-1")); /* the report still prints */
	const char *files[] = {"series/host.csv", "series/vm-vm-1.csv",
			       "series/vm-vm-2.csv", "series/vm-quiet.csv"};
	for (int i = 0; i < 4; i++)
		if (!exists(files[i]))
			fail_msg("%s missing", files[i]);
	char p[600], text[8192];
	snprintf(p, sizeof p, "%s/series/vm-quiet.csv", g_dir);
	mvt_read_file(p, text, sizeof text);
	assert_int_equal(strncmp(text, "time_s,MEMSZ,GRANT,", 19), 0);
	int rows = 0;
	for (char *c = text; *c; c++)
		rows += *c == '\n';
	assert_int_equal(rows, 1 + 7); /* header, t = 0..6 s */
	/* Only the finished files: no temporary left behind. */
	snprintf(p, sizeof p, "%s/series", g_dir);
	DIR *d = opendir(p);
	assert_non_null(d);
	int nfiles = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		assert_null(strstr(e->d_name, ".tmp"));
		nfiles++;
	}
	closedir(d);
	assert_int_equal(nfiles, 4);

	/* Again into the same directory: replaced, nothing else left. */
	mv(&o, "run -q --json --duration 2s --csv series s.xml");
	assert_int_equal(o.status, 0);
	mv(&o, "run -q --csv nosuch/dir s.xml");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--csv");
	assert_false(exists("nosuch"));
	mv(&o, "run -q --csv s.xml s.xml");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "not a directory");
	mv(&o, "run --csv");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--csv");
	mv(&o, "run --help");
	assert_non_null(strstr(o.text, "--csv DIR"));
}

static void test_run_svg(void **state)
{
	(void)state;
	struct out o;
	mv(&o, "run -q --duration 3s --svg charts --csv charts s.xml");
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "");
	const char *files[] = {"charts/host.svg", "charts/vm-vm-1.svg",
			       "charts/vm-quiet.svg", "charts/host.csv"};
	for (int i = 0; i < 4; i++) {
		char p[600], text[256];
		snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
		mvt_read_file(p, text, sizeof text);
		if (i < 3 && strncmp(text, "<?xml", 5))
			fail_msg("%s does not start as XML: %.40s", files[i],
				 text);
	}
	mv(&o, "run -q --svg '' s.xml");
	assert_int_equal(o.status, 2);
	one_error_line(&o, "--svg");
}

/* tmux on a private server (-L) so a user's sessions are never touched;
 * a new one for each session (tmux_server++), since a server just told to
 * exit may still hold its socket when the next session starts ("server
 * exited unexpectedly"). */
static int tmux_server;

static int tmux(const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "tmux -L mvtest%d-%d %s", (int)getpid(),
		 tmux_server, args);
	return system(cmd);
}

/* The pane's text, polled until it contains `needle` (or 10 s pass). */
static int pane_has(const char *needle, char *buf, size_t n)
{
	char p[600];
	snprintf(p, sizeof p, "%s/.pane", g_dir);
	for (int i = 0; i < 200; i++) {
		tmux("capture-pane -p -t top > '%s'", p);
		mvt_read_file(p, buf, n);
		if (strstr(buf, needle))
			return 1;
		usleep(50000);
	}
	return 0;
}

/* After a tmux test, passed or failed: no server, no run left behind. */
static int tmux_teardown(void **state)
{
	(void)state;
	tmux("kill-server 2> /dev/null");
	tmux_server++;
	return 0;
}

static void test_run_top_in_tmux(void **state)
{
	(void)state;
	if (system("command -v tmux > /dev/null 2>&1") != 0)
		skip();
	char big[sizeof scenario + 16];
	snprintf(big, sizeof big, "%s", scenario);
	memcpy(strstr(big, "duration=\"6s\""), "duration=\"9m\"", 13);
	write_file("long.xml", big);
	assert_int_equal(tmux("new-session -d -s top -x 150 -y 20 "
			      "\"cd '%s' && '%s' run --top -o report.txt "
			      "long.xml; echo \\$? > exit.txt; sleep 60\"",
			      g_dir, g_bin),
			 0);
	char a[8192], b[8192];
	if (!pane_has("PMEM /MiB", a, sizeof a))
		fail_msg("no screen:\n%s", a);
	assert_non_null(strstr(a, "PMEM /MiB: 64.0 total"));
	assert_non_null(strstr(a, " vm-1 "));
	assert_non_null(strstr(a, " quiet "));
	/* Paused: the simulated time stands still. */
	tmux("send-keys -t top p");
	if (!pane_has("[PAUSED]", a, sizeof a))
		fail_msg("no pause:\n%s", a);
	usleep(400000);
	pane_has("[PAUSED]", b, sizeof b);
	assert_int_equal(strncmp(a, b, strcspn(a, "\n")), 0);
	/* Sort by MEMSZ: the 48 MiB VMs above the 16 MiB one. */
	tmux("send-keys -t top m");
	if (!pane_has("*MEMSZ", a, sizeof a))
		fail_msg("no sort:\n%s", a);
	assert_true(strstr(a, " vm-2 ") < strstr(a, " quiet "));
	tmux("send-keys -t top n");
	if (!pane_has("*NAME", a, sizeof a))
		fail_msg("no name sort:\n%s", a);
	assert_true(strstr(a, " quiet ") < strstr(a, " vm-1 "));
	/* q: the run stops early and the report is written. */
	tmux("send-keys -t top q");
	char p[600], text[4096];
	snprintf(p, sizeof p, "%s/exit.txt", g_dir);
	for (int i = 0; i < 100 && !exists("exit.txt"); i++)
		usleep(50000);
	usleep(100000);
	mvt_read_file(p, text, sizeof text);
	tmux("kill-server");
	tmux_server++;
	assert_string_equal(text, "0\n");
	snprintf(p, sizeof p, "%s/report.txt", g_dir);
	mvt_read_file(p, text, sizeof text);
	assert_non_null(strstr(text, "run summary"));
}

/*
 * At 80 and 132 columns the screen fits: the sort column's header (the
 * default NAME, then SWCUR after `s`) and STALL% are on it, no line runs
 * past the edge, and q still ends the run with a report.
 */
static void top_at_width(int width)
{
	assert_int_equal(tmux("new-session -d -s top -x %d -y 20 "
			      "\"cd '%s' && '%s' run --top -o report%d.txt "
			      "long.xml; echo \\$? > exit%d.txt; sleep 60\"",
			      width, g_dir, g_bin, width, width),
			 0);
	char a[8192];
	if (!pane_has("*NAME", a, sizeof a))
		fail_msg("no header at %d columns:\n%s", width, a);
	assert_non_null(strstr(a, "STALL%"));
	assert_non_null(strstr(a, " vm-1 "));
	tmux("send-keys -t top s");
	if (!pane_has("*SWCUR", a, sizeof a))
		fail_msg("no SWCUR sort at %d columns:\n%s", width, a);
	assert_non_null(strstr(a, "STALL%"));
	/* A line cut at the edge would fill the pane's last column. */
	for (char *l = a; *l;) {
		size_t len = strcspn(l, "\n");
		if ((int)len >= width)
			fail_msg("line fills all %d columns: %.*s", width,
				 (int)len, l);
		l += len + (l[len] == '\n');
	}
	tmux("send-keys -t top q");
	char name[32];
	snprintf(name, sizeof name, "exit%d.txt", width);
	for (int i = 0; i < 100 && !exists(name); i++)
		usleep(50000);
	usleep(100000);
	tmux("kill-server");
	tmux_server++;
	char p[600], text[64];
	snprintf(p, sizeof p, "%s/%s", g_dir, name);
	mvt_read_file(p, text, sizeof text);
	assert_string_equal(text, "0\n");
}

static void test_run_top_fits_80_and_132_columns(void **state)
{
	(void)state;
	if (system("command -v tmux > /dev/null 2>&1") != 0)
		skip();
	char big[sizeof scenario + 16];
	snprintf(big, sizeof big, "%s", scenario);
	memcpy(strstr(big, "duration=\"6s\""), "duration=\"9m\"", 13);
	write_file("long.xml", big);
	top_at_width(80);
	top_at_width(132);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dommemstat_listing),
		cmocka_unit_test(test_dommemstat_errors),
		cmocka_unit_test(test_run_csv),
		cmocka_unit_test(test_run_svg),
		cmocka_unit_test_teardown(test_run_top_in_tmux, tmux_teardown),
		cmocka_unit_test_teardown(test_run_top_fits_80_and_132_columns,
					  tmux_teardown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
