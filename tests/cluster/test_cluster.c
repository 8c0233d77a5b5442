/*
 * Tests of the <cluster> scenario and the cluster run in one process
 * (src/cluster/scenario.c, src/cluster/run.c, src/report/cluster.c;
 * docs/cluster.md, section 2): bad input names file, line and field;
 * hosts inline and by file take the cluster's seed (derived per host),
 * duration and step; <migrate> events are checked and kept in time order;
 * the lockstep leaves every host's run exactly as it is alone; two runs
 * give the same reports byte for byte; the CSV has a host column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/mvtest.h"

/* One inline VM of `mib` MiB named name with a steady workload. */
static const char *vm_xml(const char *name, int mib, int wl_mib)
{
	static char buf[8][1024];
	static int k;
	char *p = buf[k++ & 7];
	snprintf(p, sizeof buf[0],
		 "<vm><domain type='kvm'><name>%s</name>"
		 "<memory unit='MiB'>%d</memory>"
		 "<metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		 "<mv:guest os='linux' image='debian-12' image-size='16MiB'/>"
		 "</mv:memvisor></metadata></domain>"
		 "<workload name='w' kind='steady' size='%dMiB' "
		 "rate='100k' dist='uniform' write-ratio='30%%' content='data' "
		 "compressibility='0.5'/></vm>",
		 name, mib, wl_mib);
	return p;
}

/* A three-host cluster: h1 overcommitted, h2 comfortable, h3 one VM. */
static char *three_hosts(const char *extra)
{
	char *x = malloc(16384);
	assert_non_null(x);
	snprintf(x, 16384,
		 "<cluster name='t' seed='11' duration='2s' step='10ms'>\n"
		 "<network bandwidth='1Gbit/s' latency='50us'/>\n"
		 "<drs>none</drs>\n"
		 "<host name='h1'><scenario duration='1h' seed='99'>"
		 "<host><memory unit='MiB'>128</memory></host>%s%s"
		 "</scenario></host>\n"
		 "<host name='h2'><scenario>"
		 "<host><memory unit='MiB'>512</memory></host>%s"
		 "</scenario></host>\n"
		 "<host name='h3'><scenario>"
		 "<host><memory unit='MiB'>256</memory></host>%s"
		 "</scenario></host>\n"
		 "%s</cluster>\n",
		 vm_xml("a1", 128, 100), vm_xml("a2", 128, 90),
		 vm_xml("b1", 128, 60), vm_xml("c1", 64, 20), extra);
	return x;
}

static struct mv_cluster_scenario *load(const char *xml)
{
	struct mv_cluster_scenario *cs = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_cluster_load_string(xml, "c.xml", "", &cs, &err), &err,
	       "cluster load");
	return cs;
}

static void test_cluster_settings_replace_the_hosts(void **state)
{
	(void)state;
	char *x = three_hosts("");
	struct mv_cluster_scenario *cs = load(x);
	assert_int_equal(cs->nhosts, 3);
	assert_string_equal(cs->name, "t");
	assert_true(cs->bandwidth == 1e9 / 8);
	assert_true(cs->migrate.bandwidth == cs->bandwidth);
	assert_int_equal(cs->latency_ns, 50 * MV_NS_PER_US);
	for (int h = 0; h < 3; h++) {
		const struct mv_scenario *sc = cs->host[h].sc;
		assert_int_equal(sc->duration_ns, 2 * MV_NS_PER_S);
		assert_int_equal(sc->step_ns, 10 * MV_NS_PER_MS);
		assert_int_equal(sc->seed, mv_cluster_host_seed(11, h));
		assert_string_equal(sc->name, cs->host[h].name);
	}
	/* host 0 keeps the cluster seed; the others differ from it and
	 * from each other, and depend on nothing but seed and index */
	assert_int_equal(mv_cluster_host_seed(11, 0), 11);
	assert_true(mv_cluster_host_seed(11, 1) != 11);
	assert_true(mv_cluster_host_seed(11, 1) != mv_cluster_host_seed(11, 2));
	assert_true(mv_cluster_host_seed(11, 1) != mv_cluster_host_seed(12, 1));
	mv_cluster_scenario_free(cs);
	free(x);
}

static void test_host_by_file_is_relative_to_the_cluster_file(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvcluster");
	char path[512], cl[512];
	snprintf(path, sizeof path, "%s/one.xml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"<scenario seed='5'><host><memory unit='MiB'>256</memory>"
		"</host>%s</scenario>\n",
		vm_xml("v1", 64, 20));
	assert_int_equal(fclose(f), 0);
	snprintf(cl, sizeof cl, "%s/c.xml", dir);
	f = fopen(cl, "w");
	assert_non_null(f);
	fprintf(f, "<cluster seed='3'><host name='x' file='one.xml'/>"
		   "</cluster>\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(mv_cluster_file_is(cl), 1);
	assert_int_equal(mv_cluster_file_is(path), 0);
	struct mv_cluster_scenario *cs = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_cluster_load(cl, &cs, &err), &err, "load by file");
	assert_string_equal(cs->host[0].file, path);
	assert_int_equal(cs->host[0].sc->seed, 3);
	mv_cluster_scenario_free(cs);
	unlink(cl);
	unlink(path);
	mvt_rmdir(dir);
}

/* Each bad cluster: the line and field of its one error, a word of it. */
static void test_bad_cluster_input_names_line_and_field(void **state)
{
	(void)state;
	static const struct {
		const char *extra; /* added to three_hosts' cluster */
		int line;
		const char *field, *word;
	} cases[] = {
		{"<drs level='3'/>\n", 7, "drs", "duplicate"},
		{"<bogus/>\n", 7, "cluster", "unknown"},
		{"<host name='h2' file='x.xml'/>\n", 7, "host/name",
		 "duplicate host name"},
		{"<host name='h4'><scenario><host><memory unit='MiB'>256"
		 "</memory></host>" /* b1 again */
		 "<vm><domain type='kvm'><name>b1</name><memory unit='MiB'>"
		 "64</memory></domain></vm></scenario></host>\n",
		 7, "vm/name", "unique in a cluster"},
		{"<migrate vm='zz' from='h1' to='h2' at='1s'/>\n", 7,
		 "migrate/vm", "no VM named"},
		{"<migrate vm='a1' from='h2' to='h3' at='1s'/>\n", 7,
		 "migrate/from", "is on host 'h1'"},
		{"<migrate vm='a1' from='h1' to='h9' at='1s'/>\n", 7,
		 "migrate/to", "no host named"},
		{"<migrate vm='a1' from='h1' to='h1' at='1s'/>\n", 7,
		 "migrate/to", "the host it leaves"},
		{"<migrate vm='a1' from='h1' to='h2' at='2s'/>\n", 7,
		 "migrate/at", "not before the end"},
		{"<migrate vm='a1' from='h1' to='h2' at='1s'/>\n"
		 "<migrate vm='a1' from='h1' to='h3' at='1500ms'/>\n",
		 8, "migrate/from", "moved there by line 7"},
		{"<host name='h5'/>\n", 7, "host/file", "needs file="},
		{"<host name='h5'><scenario><host><memory unit='MiB'>8"
		 "</memory></host></scenario></host>\n",
		 7, "host/memory", "at least 16 MiB"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *x = three_hosts(cases[i].extra);
		struct mv_cluster_scenario *cs = NULL;
		struct mv_error err = {0};
		int rc = mv_cluster_load_string(x, "c.xml", "", &cs, &err);
		if (rc != MV_EINVAL || err.line != cases[i].line ||
		    strcmp(err.field, cases[i].field) ||
		    strcmp(err.file, "c.xml") ||
		    !strstr(err.msg, cases[i].word))
			fail_msg("case %zu: rc %d %s:%d: %s: %s", i, rc,
				 err.file, err.line, err.field, err.msg);
		assert_null(cs);
		free(x);
	}
	/* the cluster element's own settings */
	static const struct {
		const char *xml, *field, *word;
	} own[] = {
		{"<cluster step='0s'><host name='a' file='x'/></cluster>",
		 "cluster/step", "above zero"},
		{"<cluster><network bandwidth='fast'/></cluster>",
		 "network/bandwidth", "not a bandwidth"},
		{"<cluster><migration on-limit='pray'/></cluster>",
		 "migration/on-limit", "auto-converge"},
		{"<cluster><drs>none</drs></cluster>", "host", "at least one"},
		{"<cluster><storage swap='shared'/></cluster>", "storage",
		 "not built yet"},
		{"<cluster>\n<drs level='2' interval='300s'/></cluster>",
		 "drs/level", "DRS is not built yet"},
		{"<scenario/>", "cluster", "expected <cluster>"},
	};
	for (size_t i = 0; i < sizeof own / sizeof *own; i++) {
		struct mv_cluster_scenario *cs = NULL;
		struct mv_error err = {0};
		int rc = mv_cluster_load_string(own[i].xml, "c.xml", "", &cs,
						&err);
		if (rc != MV_EINVAL || err.line < 1 ||
		    strcmp(err.field, own[i].field) ||
		    !strstr(err.msg, own[i].word))
			fail_msg("own %zu: rc %d %s:%d: %s: %s", i, rc,
				 err.file, err.line, err.field, err.msg);
		assert_null(cs);
	}
}

static void test_migrate_events_are_kept_in_time_order(void **state)
{
	(void)state;
	char *x = three_hosts(
		"<migrate vm='a1' from='h2' to='h3' at='1500ms'/>\n"
		"<migrate vm='a1' from='h1' to='h2' at='1s'/>\n"
		"<migrate vm='c1' from='h3' to='h1' at='1s'/>\n");
	struct mv_cluster_scenario *cs = load(x);
	assert_int_equal(cs->nevents, 3);
	assert_string_equal(cs->event[0].vm_name, "a1");
	assert_int_equal(cs->event[0].from, 0);
	assert_int_equal(cs->event[0].to, 1);
	assert_int_equal(cs->event[0].at_ns, MV_NS_PER_S);
	assert_int_equal(cs->event[0].vm, 0);
	assert_string_equal(cs->event[1].vm_name, "c1"); /* file order */
	assert_int_equal(cs->event[1].line, 9);
	assert_string_equal(cs->event[2].vm_name, "a1");
	assert_int_equal(cs->event[2].from, 1);
	mv_cluster_scenario_free(cs);
	free(x);
}

static struct mv_cluster *run_cluster(const char *xml, int verify)
{
	struct mv_cluster *c = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_cluster_create(load(xml), verify, &c, &err), &err,
	       "cluster create");
	mvt_ok(mv_cluster_run(c, NULL, NULL, &err), &err, "cluster run");
	return c;
}

/* The lockstep changes nothing: each host's run, sample by sample and
 * byte by byte, is the run of its scenario alone with the same seed. */
static void test_each_host_runs_as_it_would_alone(void **state)
{
	(void)state;
	char *x = three_hosts("");
	struct mv_cluster *c = run_cluster(x, 0);
	assert_int_equal(c->now_ns, 2 * MV_NS_PER_S);
	assert_int_equal(c->steps, 200);
	struct mv_cluster_scenario *alone = load(x);
	for (int h = 0; h < c->nhosts; h++) {
		struct mv_sim *s = NULL;
		struct mv_error err = {0};
		struct mv_scenario *sc = alone->host[h].sc;
		alone->host[h].sc = NULL;
		mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "alone");
		mvt_sim_run(s);
		assert_int_equal(s->sc->seed, c->sim[h]->sc->seed);
		mvt_assert_same_run(c->sim[h], s);
		/* and the reports say so */
		char *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		FILE *fa = open_memstream(&a, &na),
		     *fb = open_memstream(&b, &nb);
		assert_int_equal(mv_report_text(fa, c->sim[h]), 0);
		assert_int_equal(mv_report_text(fb, s), 0);
		fclose(fa);
		fclose(fb);
		assert_string_equal(a, b);
		free(a);
		free(b);
		mv_sim_destroy(s);
	}
	/* the overcommitted host did reclaim: the test has teeth */
	assert_true(c->sim[0]->state_ns[MV_MEMSTATE_HIGH] < c->sim[0]->now_ns);
	mv_cluster_scenario_free(alone);
	mv_cluster_destroy(c);
	free(x);
}

/* The report, JSON and CSV of a run, wall-clock lines dropped. */
static char *outputs(const struct mv_cluster *c)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_int_equal(mv_report_cluster_text(f, c), 0);
	assert_int_equal(mv_report_cluster_json(f, c), 0);
	fclose(f);
	char *out = malloc(n + 1), *o = out;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!strstr(line, "\"wall_s\""))
			o += sprintf(o, "%s\n", line);
	free(buf);
	return out;
}

static void test_cluster_runs_are_deterministic(void **state)
{
	(void)state;
	char *x = three_hosts("");
	struct mv_cluster *a = run_cluster(x, 0), *b = run_cluster(x, 0);
	char *oa = outputs(a), *ob = outputs(b);
	assert_string_equal(oa, ob);
	assert_non_null(strstr(oa, "\"schema\": \"memvisor-cluster/1\""));
	assert_non_null(strstr(oa, "=== host h2"));
	free(oa);
	free(ob);
	/* the CSV: every host's rows with its name first */
	char *dir = mvt_tmpdir("mvclcsv");
	struct mv_error err = {0};
	mvt_ok(mv_report_cluster_csv(dir, a, &err), &err, "csv");
	char path[512];
	snprintf(path, sizeof path, "%s/host.csv", dir);
	char *csv = mvt_slurp(path, NULL);
	assert_non_null(csv);
	assert_int_equal(strncmp(csv, "host,time_s,PMEM,", 17), 0);
	assert_non_null(strstr(csv, "\nh3,"));
	free(csv);
	unlink(path);
	snprintf(path, sizeof path, "%s/vm.csv", dir);
	csv = mvt_slurp(path, NULL);
	assert_non_null(csv);
	assert_int_equal(strncmp(csv, "host,vm,time_s,MEMSZ,", 21), 0);
	assert_non_null(strstr(csv, "\nh1,a2,"));
	free(csv);
	unlink(path);
	mvt_rmdir(dir);
	mv_cluster_destroy(a);
	mv_cluster_destroy(b);
	free(x);
}

/*
 * <migrate> in a run: a1 leaves the overcommitted h1 for h2 at 0.5 s and
 * runs on there; a2 goes to h3 and back. Every page is checked at each
 * switch-over and every step (verify on); the hosts' frames follow the
 * VMs; a second run is the same; an event whose VM is elsewhere then is
 * reported, not fatal.
 */
static void test_migrate_moves_running_vms(void **state)
{
	(void)state;
	char *x = three_hosts(
		"<migrate vm='a1' from='h1' to='h2' at='200ms'/>\n"
		"<migrate vm='a2' from='h1' to='h3' at='200ms'/>\n"
		"<migrate vm='a2' from='h3' to='h1' at='1s'/>\n");
	struct mv_cluster *c = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_cluster_create(load(x), 1, &c, &err), &err, "create");
	/* step to a1's arrival, then on to the end: it runs on h2 */
	while (c->nmig < 1 ||
	       mv_sim_move_state(c->mig[0].move) == MV_MIG_ACTIVE)
		mvt_ok(mv_cluster_step(c, &err), &err, "step");
	assert_int_equal(mv_sim_move_dst_index(c->mig[0].move), 1);
	const struct mv_vm_counters *ctr = &c->sim[1]->vm[1]->ctr;
	uint64_t at_arrival = ctr->reads + ctr->writes;
	mvt_ok(mv_cluster_run(c, NULL, NULL, &err), &err, "run");
	assert_true(c->sim[1]->vm[1]->ctr.reads + c->sim[1]->vm[1]->ctr.writes >
		    at_arrival);
	assert_int_equal(c->nmig, 3);
	for (int k = 0; k < 3; k++) {
		const struct mv_cluster_migration *g = &c->mig[k];
		assert_non_null(g->move);
		if (strcmp(mv_cluster_migration_state(g), "done"))
			fail_msg("migration %d: %s (%s)", k,
				 mv_cluster_migration_state(g), g->why);
		const struct mv_migration *m = mv_sim_move_migration(g->move);
		assert_true(m->nrounds >= 1);
		assert_true(m->pages > 0);
		assert_true(m->downtime_ns > 0);
	}
	assert_int_equal(c->mig[0].start_ns, 200 * MV_NS_PER_MS);
	assert_int_equal(c->mig[2].start_ns, MV_NS_PER_S);
	/* a1 is gone from h1 and runs on h2; a2 is back on h1 */
	struct mv_sim *h1 = c->sim[0], *h2 = c->sim[1], *h3 = c->sim[2];
	assert_true(mv_sim_vm_gone(h1, 0));
	assert_true(mv_sim_vm_gone(h1, 1));
	assert_int_equal(h1->nvms, 3);
	assert_false(mv_sim_vm_down(h1, 2));
	assert_string_equal(h1->sc->vms[2].vm.name, "a2");
	assert_int_equal(h2->nvms, 2);
	assert_string_equal(h2->sc->vms[1].vm.name, "a1");
	assert_false(mv_sim_vm_down(h2, 1));
	assert_true(mv_sim_vm_gone(h3, 1));
	assert_true(c->sim[0]->verify_checks > 0);
	/* the reports say it */
	char *o = outputs(c);
	assert_non_null(strstr(o, "live migrations"));
	assert_non_null(strstr(o, "\"migrations\": ["));
	assert_non_null(strstr(o, "\"state\": \"done\""));
	/* the same again */
	struct mv_cluster *d = run_cluster(x, 1);
	char *o2 = outputs(d);
	assert_string_equal(o, o2);
	free(o);
	free(o2);
	mv_cluster_destroy(d);
	mv_cluster_destroy(c);
	free(x);

	/* an event whose VM is still on its way is not started, and said */
	x = three_hosts("<migrate vm='a1' from='h1' to='h2' at='500ms'/>\n"
			"<migrate vm='a1' from='h2' to='h3' at='510ms'/>\n");
	c = run_cluster(x, 0);
	assert_int_equal(c->nmig, 2);
	assert_string_equal(mv_cluster_migration_state(&c->mig[1]),
			    "not started");
	assert_non_null(strstr(c->mig[1].why, "not running on h2"));
	mv_cluster_destroy(c);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_settings_replace_the_hosts),
		cmocka_unit_test(
			test_host_by_file_is_relative_to_the_cluster_file),
		cmocka_unit_test(test_bad_cluster_input_names_line_and_field),
		cmocka_unit_test(test_migrate_events_are_kept_in_time_order),
		cmocka_unit_test(test_migrate_moves_running_vms),
		cmocka_unit_test(test_each_host_runs_as_it_would_alone),
		cmocka_unit_test(test_cluster_runs_are_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
