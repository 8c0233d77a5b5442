/*
 * The content-profile round trip on real memory: three python3 processes
 * (the same stdlib modules and tables, and a random dict of their own),
 * their gcore ELF cores analysed by `memvisor analyze -P`, and a scenario
 * of three VMs built from the three profiles must share and compress
 * within 5% of what the analysis measured on the cores (issue 14).
 * tests/image/test_profile.c proves the same on synthetic raw images.
 *
 * The pipeline is scripts/profile-roundtrip.sh, which prints the table
 * docs/analyze.md quotes; this program is both the test that runs it and
 * the script's measuring tool for the simulated side:
 *
 *     test_profile_real --measure SCENARIO.xml
 *
 * runs the scenario and prints, one "name value" line each, the figures of
 * the simulated VMs measured as the synthetic round trip measures them:
 * the sharing scanner's zero pages and pages saved, and the LZ4 size of
 * every workload page (the page bytes are simulator state, not reachable
 * through the CLI).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/guest.h"
#include "memvisor/guest.h"
#include "memvisor/image.h"
#include "memvisor/reclaim.h"
#include "memvisor/sim.h"
#include "support/mvtest.h"

/* ---- the measuring tool ------------------------------------------------- */

/*
 * Run the scenario at path and print the simulated figures to stdout.
 * Returns the exit status: 0, or 2 (the error on stderr) when the scenario
 * cannot be loaded or run, or a workload page is not in memory (the round
 * trip needs every page resident: no host pressure).
 */
static int measure(const char *path)
{
	struct mv_scenario *sc = NULL;
	struct mv_sim *s = NULL;
	struct mv_error err = {0};
	if (mv_scenario_load(path, &sc, &err) != 0 ||
	    mv_sim_create(sc, 0, &s, &err) != 0 ||
	    mv_sim_run(s, NULL, NULL, &err) != 0) {
		fprintf(stderr, "measure: %s:%d: %s: %s\n",
			err.file[0] ? err.file : path, err.line, err.field,
			err.msg);
		if (s)
			mv_sim_destroy(s);
		return 2;
	}
	struct mv_share_stats st;
	mv_sim_share_stats(s, &st);
	uint64_t hist[3] = {0}, bytes = 0, pages = 0;
	for (int i = 0; i < s->nvms; i++) {
		struct mv_guest *g = s->guest[i];
		struct gproc *pr = &g->proc[0];
		for (uint64_t v = 0; v < pr->nvpages; v++) {
			uint32_t pte = pr->pte[v];
			const uint8_t *b = pte && !(pte & PTE_SWAP)
						   ? mv_vm_access_bytes(
							     s->vm[i], pte - 1,
							     0)
						   : NULL;
			if (!b) {
				fprintf(stderr,
					"measure: %s: vm %d page %llu not "
					"resident\n",
					path, i, (unsigned long long)v);
				mv_sim_destroy(s);
				return 2;
			}
			int z = mv_content_lz4_size(b);
			hist[z <= 1024 ? 0 : z <= 2048 ? 1 : 2]++;
			bytes += (uint64_t)z;
			pages++;
		}
	}
	printf("pages %llu\n", (unsigned long long)pages);
	printf("full_scans %llu\n", (unsigned long long)st.full_scans);
	printf("zero %llu\n", (unsigned long long)st.zero_pages);
	printf("saved %llu\n",
	       (unsigned long long)(st.pages_sharing + st.zero_pages));
	printf("lz4_1k %llu\n", (unsigned long long)hist[0]);
	printf("lz4_2k %llu\n", (unsigned long long)hist[1]);
	printf("lz4_more %llu\n", (unsigned long long)hist[2]);
	printf("lz4_bytes %llu\n", (unsigned long long)bytes);
	mv_sim_destroy(s);
	return 0;
}

/* ---- the test ------------------------------------------------------------
 */

/* Is prog an executable on PATH? */
static int on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
	for (char *d = strtok(buf, ":"); d; d = strtok(NULL, ":")) {
		char exe[4200];
		snprintf(exe, sizeof exe, "%s/%s", d, prog);
		if (access(exe, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* Why the round trip cannot run here, or NULL. */
static const char *skip_reason(void)
{
	if (geteuid() != 0)
		return "reading the python3 processes (gcore, analyze --pid) "
		       "needs root (ptrace)";
	if (!on_path("gcore") || !on_path("gdb"))
		return "no gdb/gcore on PATH (scripts/deps.sh installs gdb)";
	if (!on_path("python3"))
		return "no python3 on PATH to run the processes";
	if (!on_path("setarch"))
		return "no setarch on PATH";
	if (access("scripts/profile-roundtrip.sh", X_OK) != 0)
		return "not run from the source root "
		       "(scripts/profile-roundtrip.sh)";
	return NULL;
}

/*
 * One row of the script's table: "| quantity | analyze | simulated |
 * +e.ee% |". Returns 1 and the error in percent for a row with figures.
 */
static int row_error(const char *line, double *pct)
{
	if (line[0] != '|' || strstr(line, "---") || strstr(line, "quantity"))
		return 0;
	const char *last = strrchr(line, '%');
	if (!last)
		return 0;
	const char *p = last;
	while (p > line && p[-1] != '|')
		p--;
	*pct = strtod(p, NULL);
	return 1;
}

/*
 * Run scripts/profile-roundtrip.sh (arg: "" for gcore cores, "--pid" for
 * the live processes), echo its table (make check keeps it in the test's
 * log, a one-line note in its summary), and fail on any figure more than
 * 5% off or a failed step.
 */
static void roundtrip(const char *arg, const char *what)
{
	char self[4096], bin[4096], cmd[9000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	assert_true(n > 0);
	self[n] = '\0';
	mvt_memvisor_bin(bin, sizeof bin);
	snprintf(
		cmd, sizeof cmd,
		"MEMVISOR='%s' MV_MEASURE='%s' scripts/profile-roundtrip.sh %s",
		bin, self, arg);
	double t0 = mv_wall_s();
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[512];
	int rows = 0, bad = 0;
	double worst = 0;
	while (fgets(line, sizeof line, f)) {
		printf("  %s", line); /* the table, in the test's log */
		double e;
		if (row_error(line, &e)) {
			rows++;
			if (fabs(e) > fabs(worst))
				worst = e;
			bad += fabs(e) > 5.0;
		}
	}
	int rc = pclose(f);
	printf("note: profile round trip (%s): %d figures, worst error "
	       "%+.2f%%, %.1f s\n",
	       what, rows, worst, mv_wall_s() - t0);
	if (rc != 0)
		fail_msg("scripts/profile-roundtrip.sh %s: exit status %d", arg,
			 WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
	assert_int_equal(bad, 0);
	assert_int_equal(rows, 6); /* zero, saved, three LZ4 buckets, bytes */
}

static void
test_vms_built_from_real_cores_share_and_compress_as_the_cores(void **state)
{
	(void)state;
	const char *why = skip_reason();
	if (why) {
		printf("SKIP: profile round trip on real cores: %s\n", why);
		skip();
	}
	roundtrip("", "gcore cores");
}

/* The same with the processes analysed live (memvisor analyze --pid):
 * they run on while the profiles are written. */
static void
test_vms_built_from_live_processes_share_and_compress_as_them(void **state)
{
	(void)state;
	const char *why = skip_reason();
	if (why) {
		printf("SKIP: profile round trip on live processes: %s\n", why);
		skip();
	}
	roundtrip("--pid", "live processes");
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--measure") == 0)
		return measure(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--measure SCENARIO.xml]\n",
			argv[0]);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_vms_built_from_real_cores_share_and_compress_as_the_cores),
		cmocka_unit_test(
			test_vms_built_from_live_processes_share_and_compress_as_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
