/*
 * examples/scale/: the production-scale scenarios of issue 12, written by
 * scripts/gen-scale.py. Each loads (nothing is powered on: the largest
 * is a 1 TiB host) with the host, VM count, configured memory (1.3:1),
 * duration and the sharing scan rate of ESX's Mem.ShareScanTime (every
 * guest page once in 60 min) the issue asks for, and what makes the host
 * reclaim (every VM fills memory during the run, some VMs have no balloon
 * driver); and running the script again writes the same bytes as the
 * files in the repository.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

struct scale {
	const char *name;
	uint64_t host_gib;
	int nvms;
	uint64_t duration_s;
};

static const struct scale g_scale[] = {
	{"host16g", 16, 8, 600},
	{"host128g", 128, 32, 600},
	{"host256", 256, 64, 3600},
	{"datacenter", 1024, 150, 86400},
};

static void test_scale_examples_load_with_the_issue_figures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof g_scale / sizeof *g_scale; i++) {
		const struct scale *c = &g_scale[i];
		char path[256];
		snprintf(path, sizeof path, "examples/scale/%s.xml", c->name);
		struct mv_scenario *sc = NULL;
		struct mv_error err = {0};
		mvt_ok(mv_scenario_load(path, &sc, &err), &err, path);
		assert_int_equal(sc->host.mem_bytes, c->host_gib * MV_GIB);
		assert_int_equal(sc->nvms, c->nvms);
		assert_int_equal(sc->duration_ns, c->duration_s * MV_NS_PER_S);
		uint64_t guest = 0, windows = 0, driverless = 0;
		for (int v = 0; v < sc->nvms; v++) {
			uint64_t b = sc->vms[v].vm.mem_bytes;
			assert_true(b >= 2 * MV_GIB && b <= 64 * MV_GIB);
			int nw = sc->vms[v].guest.nworkloads;
			assert_true(nw >= 2);
			/* the last one fills memory once, from a start on */
			const struct mv_workload_config
				*f = &sc->vms[v].guest.workload[nw - 1];
			assert_string_equal(f->name, "files");
			assert_int_equal(f->kind, MV_WL_LEAK);
			assert_true(f->start_ns > 0 && f->leak_max_bytes > 0);
			driverless += !sc->vms[v].vm.balloon_driver;
			guest += b;
			windows += sc->vms[v].guest.flavour == MV_GUEST_WINDOWS;
		}
		/* 1.3:1 in whole GiB (21 GiB on 16: 1.31) */
		double ratio = (double)guest / (double)sc->host.mem_bytes;
		assert_true(ratio > 1.28 && ratio < 1.32);
		assert_true(windows > 0 && windows < (uint64_t)sc->nvms);
		assert_true(driverless > 0 && driverless < (uint64_t)sc->nvms);
		/* every guest page once in 60 min (Mem.ShareScanTime) */
		const struct mv_share_config *sh = &sc->reclaim.share;
		assert_true(sh->enabled);
		assert_int_equal(sh->scan_time_ns, 3600 * MV_NS_PER_S);
		assert_int_equal(sh->sleep_ns, 20 * MV_NS_PER_MS);
		assert_true(sc->reclaim.enabled && sc->reclaim.compression);
		mv_scenario_free(sc);
	}
}

static void
test_regenerating_the_scale_examples_gives_the_same_files(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("scale");
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "python3 scripts/gen-scale.py '%s' >/dev/null 2>&1", dir);
	if (system(cmd) != 0) {
		mvt_rmdir(dir);
		skip(); /* no python3 */
	}
	for (size_t i = 0; i < sizeof g_scale / sizeof *g_scale; i++) {
		char a[512], b[512];
		snprintf(a, sizeof a, "examples/scale/%s.xml", g_scale[i].name);
		snprintf(b, sizeof b, "%s/%s.xml", dir, g_scale[i].name);
		size_t na, nb;
		char *x = mvt_slurp(a, &na), *y = mvt_slurp(b, &nb);
		assert_non_null(x);
		assert_non_null(y);
		if (na != nb || memcmp(x, y, na))
			fail_msg("%s differs from what scripts/gen-scale.py "
				 "writes now: rerun it",
				 a);
		free(x);
		free(y);
	}
	mvt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_scale_examples_load_with_the_issue_figures),
		cmocka_unit_test(
			test_regenerating_the_scale_examples_gives_the_same_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
