/*
 * The guest's fault counters as libvirt reports them, on every shipped
 * example: minor_fault is Linux's PGFAULT, which counts every fault, so it
 * is never below major_fault (PGMAJFAULT). Each example runs for its first
 * EXAMPLE_S simulated seconds (boot, first pressure), the whole of it when
 * shorter; a cluster's hosts each.
 *
 * Run from the source root: reads examples/.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

#define EXAMPLE_S 15

static void check_scenario(const char *path, struct mv_scenario *sc)
{
	struct mv_error err = {0};
	uint64_t end = sc->duration_ns;
	if (end > EXAMPLE_S * MV_NS_PER_S)
		end = EXAMPLE_S * MV_NS_PER_S;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, path);
	while (s->now_ns < end)
		mvt_ok(mv_sim_step(s, &err), &err, path);
	uint64_t majors = 0;
	for (int i = 0; i < s->nvms; i++) {
		struct mv_guest_stats g;
		mv_guest_stats(s->guest[i], &g);
		if (g.minor_fault < g.major_fault)
			fail_msg("%s: %s: minor_fault %llu < major_fault %llu",
				 path, s->sc->vms[i].vm.name,
				 (unsigned long long)g.minor_fault,
				 (unsigned long long)g.major_fault);
		majors += g.major_fault;
	}
	/* every example's VM boots an OS image: some faults were major (a
	 * cluster's spare host has no VM) */
	if (!majors && s->nvms)
		fail_msg("%s: no major fault at all", path);
	mv_sim_destroy(s);
}

/* A scenario, or each host of a <cluster> (docs/cluster.md). */
static void check_example(const char *path)
{
	struct mv_error err = {0};
	if (mv_cluster_file_is(path)) {
		struct mv_cluster_scenario *cs = NULL;
		mvt_ok(mv_cluster_load(path, &cs, &err), &err, path);
		for (int h = 0; h < cs->nhosts; h++) {
			check_scenario(path, cs->host[h].sc);
			cs->host[h].sc = NULL; /* the simulator freed it */
		}
		mv_cluster_scenario_free(cs);
		return;
	}
	struct mv_scenario *sc = NULL;
	mvt_ok(mv_scenario_load(path, &sc, &err), &err, path);
	check_scenario(path, sc);
}

static void test_minor_faults_include_major_ones_on_every_example(void **state)
{
	(void)state;
	const char *pats[] = {"examples/*.xml", "examples/reclaim/*.xml",
			      "examples/paper/*.xml"};
	int n = 0;
	for (size_t k = 0; k < sizeof pats / sizeof *pats; k++) {
		glob_t gl;
		if (glob(pats[k], 0, NULL, &gl) != 0)
			continue;
		for (size_t i = 0; i < gl.gl_pathc; i++, n++)
			check_example(gl.gl_pathv[i]);
		globfree(&gl);
	}
	assert_true(n >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_minor_faults_include_major_ones_on_every_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
