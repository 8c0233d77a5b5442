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

#include "report/summary.h"
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

/* A three-host cluster: h1 overcommitted, h2 comfortable, h3 one VM;
 * the balancer on line 3, extra from line 7. */
static char *three_hosts_drs(const char *net, const char *drs,
			     const char *extra)
{
	char *x = malloc(16384);
	assert_non_null(x);
	snprintf(x, 16384,
		 "<cluster name='t' seed='11' duration='2s' step='10ms'>\n"
		 "<network bandwidth='%s' latency='50us'/>\n"
		 "%s\n"
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
		 net, drs, vm_xml("a1", 128, 100), vm_xml("a2", 128, 90),
		 vm_xml("b1", 128, 60), vm_xml("c1", 64, 20), extra);
	return x;
}

static char *three_hosts(const char *extra)
{
	return three_hosts_drs("1Gbit/s", "<drs>none</drs>", extra);
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
	/* one file for two hosts: their VMs' names need a prefix */
	f = fopen(cl, "w");
	assert_non_null(f);
	fprintf(f, "<cluster><host name='x' file='one.xml'/>"
		   "<host name='y' file='one.xml'/></cluster>\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(mv_cluster_load(cl, &cs, &err), MV_EINVAL);
	assert_non_null(strstr(err.msg, "unique in a cluster"));
	f = fopen(cl, "w");
	assert_non_null(f);
	fprintf(f, "<cluster><host name='x' file='one.xml' vm-prefix='x-'/>"
		   "<host name='y' file='one.xml' vm-prefix='y-'/>"
		   "</cluster>\n");
	assert_int_equal(fclose(f), 0);
	mvt_ok(mv_cluster_load(cl, &cs, &err), &err, "load with prefixes");
	assert_string_equal(cs->host[0].sc->vms[0].vm.name, "x-v1");
	assert_string_equal(cs->host[1].sc->vms[0].vm.name, "y-v1");
	mv_cluster_scenario_free(cs);
	unlink(cl);
	unlink(path);
	mvt_rmdir(dir);
}

/*
 * The hosts' own figures add up to the VMs': every VM's stall and
 * swap-ins are counted once, on the host where they happened (a VM's
 * counters go with it when it moves; a host keeps what its VMs did
 * before they left). No VM of c may have been killed.
 */
static struct mv_cluster_report *collect(const struct mv_cluster *c)
{
	struct mv_cluster_report *r = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_report_cluster_collect(c, MV_CREPORT_ALL, &r, &err), &err,
	       "collect");
	assert_non_null(r);
	return r;
}

static void assert_hosts_add_up(const struct mv_cluster *c)
{
	struct mv_cluster_report *r = collect(c);
	uint64_t host_stall = 0, host_swapin = 0, vm_stall = 0, vm_swapin = 0;
	for (int h = 0; h < c->nhosts; h++) {
		host_stall += r->host[h].fig.stall_ns;
		host_swapin += r->host[h].fig.swap_in;
		for (int i = 0; i < c->sim[h]->nvms; i++) {
			const struct mv_vm *vm = c->sim[h]->vm[i];
			if (!vm)
				continue;
			vm_stall += mv_vm_stall_ns(vm);
			vm_swapin += vm->ctr.faults[MV_FAULT_SWAPIN];
		}
	}
	mv_report_cluster_free(r);
	assert_int_equal(host_stall, vm_stall);
	assert_int_equal(host_swapin, vm_swapin);
}

/* Cluster x (case i) fails to load with one error: MV_EINVAL naming
 * c.xml, line and field, with word in its message; nothing loaded. */
static void assert_load_fails(const char *x, size_t i, int line,
			      const char *field, const char *word)
{
	struct mv_cluster_scenario *cs = NULL;
	struct mv_error err = {0};
	int rc = mv_cluster_load_string(x, "c.xml", "", &cs, &err);
	if (rc != MV_EINVAL || err.line != line || strcmp(err.field, field) ||
	    strcmp(err.file, "c.xml") || !strstr(err.msg, word))
		fail_msg("case %zu: rc %d %s:%d: %s: %s", i, rc, err.file,
			 err.line, err.field, err.msg);
	assert_null(cs);
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
		{"<maintenance host='h1' at='1s'/>\n", 7, "maintenance",
		 "needs DRS"},
		{"<host name='h5' file='x.xml' vm-prefix=''/>\n", 7,
		 "host/vm-prefix", "must not be empty"},
		{"<host name='h5'><scenario><host><memory unit='MiB'>8"
		 "</memory></host></scenario></host>\n",
		 7, "host/memory", "at least 16 MiB"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *x = three_hosts(cases[i].extra);
		assert_load_fails(x, i, cases[i].line, cases[i].field,
				  cases[i].word);
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
		{"<cluster><storage swap='nfs'/></cluster>", "storage/swap",
		 "'shared'"},
		{"<cluster>\n<drs level='6'/></cluster>", "drs/level",
		 "migration threshold"},
		{"<cluster>\n<drs level='3' interval='0s'/></cluster>",
		 "drs/interval", "above zero"},
		{"<cluster>\n<drs level='3' idle-demand='120%'/></cluster>",
		 "drs/idle-demand", "percentage"},
		{"<cluster>\n<drs level='3' cost-benefit='maybe'/></cluster>",
		 "drs/cost-benefit", "on or off"},
		{"<cluster>\n<drs level='3' min-goodness='-1'/></cluster>",
		 "drs/min-goodness", "from 0"},
		{"<cluster>\n<drs level='3'>none</drs></cluster>", "drs",
		 "give one"},
		{"<cluster>\n<drs>some</drs></cluster>", "drs", "write none"},
		{"<cluster duration='1m'>\n<drs level='3'/>"
		 "<host name='a'><scenario><host><memory unit='MiB'>64"
		 "</memory></host><vm><domain type='kvm'><name>v</name>"
		 "<memory unit='MiB'>16</memory></domain></vm></scenario>"
		 "</host></cluster>",
		 "drs/interval", "DRS would never run"},
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
	struct mv_cluster_report *r = collect(c);
	assert_int_equal(mv_report_cluster_text(f, c, r), 0);
	assert_int_equal(mv_report_cluster_json(f, c, r), 0);
	mv_report_cluster_free(r);
	fclose(f);
	char *out = malloc(n + 1), *o = out;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!strstr(line, "\"wall_s\""))
			o += sprintf(o, "%s\n", line);
	free(buf);
	return out;
}

/* Every running VM's sampler marks at most its sample's pages, and its
 * active estimate is at most its size (a moved VM's too). */
static void assert_samplers_sane(const struct mv_cluster *c)
{
	for (int h = 0; h < c->nhosts; h++)
		for (int i = 0; i < c->sim[h]->nvms; i++) {
			const struct mv_vm *vm = c->sim[h]->vm[i];
			if (mv_sim_vm_down(c->sim[h], i))
				continue;
			uint64_t marked = 0;
			for (mv_gppn_t g = 0; g < vm->npages; g++)
				marked += !!(vm->pmap[g].flags &
					     MV_PME_SAMPLED);
			if (marked > vm->active.n ||
			    mv_vm_active_estimate(vm) > vm->npages)
				fail_msg("host %d VM %d: %llu marked, sample "
					 "%u, estimate %llu of %llu pages",
					 h, i, (unsigned long long)marked,
					 vm->active.n,
					 (unsigned long long)
						 mv_vm_active_estimate(vm),
					 (unsigned long long)vm->npages);
		}
}

/* Cluster x run again (verify on or off) reports exactly o. */
static void assert_runs_again_as(const char *x, int verify, const char *o)
{
	struct mv_cluster *d = run_cluster(x, verify);
	char *o2 = outputs(d);
	assert_string_equal(o, o2);
	free(o2);
	mv_cluster_destroy(d);
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
	struct mv_cluster_report *ra = collect(a);
	mvt_ok(mv_report_cluster_csv(dir, a, ra, &err), &err, "csv");
	mv_report_cluster_free(ra);
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
	assert_hosts_add_up(c);
	/* the reports say it */
	char *o = outputs(c);
	assert_non_null(strstr(o, "live migrations"));
	assert_non_null(strstr(o, "\"migrations\": ["));
	assert_non_null(strstr(o, "\"state\": \"done\""));
	/* the same again */
	assert_runs_again_as(x, 1, o);
	free(o);
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

/* <maintenance> with DRS: the host must exist, enter once, and take no
 * <migrate> after; each error names line and field. */
static void test_maintenance_events_are_checked(void **state)
{
	(void)state;
	static const struct {
		const char *extra;
		int line;
		const char *field, *word;
	} cases[] = {
		{"<maintenance host='h9' at='1s'/>\n", 7, "maintenance/host",
		 "no host named"},
		{"<maintenance host='h1' at='2s'/>\n", 7, "maintenance/at",
		 "not before the end"},
		{"<maintenance host='h1' at='1s'/>\n"
		 "<maintenance host='h1' at='1500ms'/>\n",
		 8, "maintenance/host", "already at line 7"},
		{"<maintenance host='h2' at='100ms'/>\n"
		 "<migrate vm='a1' from='h1' to='h2' at='1s'/>\n",
		 8, "migrate/to", "maintenance mode then (line 7)"},
		/* at the same time, whatever the order in the file */
		{"<migrate vm='a1' from='h1' to='h2' at='1s'/>\n"
		 "<maintenance host='h2' at='1s'/>\n",
		 7, "migrate/to", "maintenance mode then (line 8)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *x = three_hosts_drs("1Gbit/s", "<drs level='1'/>",
					  cases[i].extra);
		assert_load_fails(x, i, cases[i].line, cases[i].field,
				  cases[i].word);
		free(x);
	}
	/* a <migrate> before the host enters is fine */
	char *x = three_hosts_drs("1Gbit/s", "<drs level='1'/>",
				  "<maintenance host='h2' at='1s'/>\n"
				  "<migrate vm='a1' from='h1' to='h2' "
				  "at='100ms'/>\n");
	struct mv_cluster_scenario *cs = load(x);
	assert_int_equal(cs->nevents, 2);
	assert_int_equal(cs->event[0].kind, MV_CEV_MIGRATE);
	assert_int_equal(cs->event[1].kind, MV_CEV_MAINTENANCE);
	assert_int_equal(cs->event[1].from, 1);
	assert_int_equal(cs->drs_level, 1);
	mv_cluster_scenario_free(cs);
	free(x);
}

/*
 * DRS in a run (docs/cluster.md, section 4): h1 holds two VMs whose
 * working sets exceed its memory; at level 3 with a 500 ms interval DRS
 * moves VMs off h1 (one, or both to the two other hosts), every page
 * checked at the switch-over and every step (verify on); the runs are
 * kept with their imbalance; the same run twice is the same; with DRS
 * none nothing moves.
 */
static void test_drs_moves_vms_off_a_contended_host(void **state)
{
	(void)state;
	char *x = three_hosts_drs("10Gbit/s",
				  "<drs level='3' interval='500ms'/>", "");
	struct mv_cluster *c = run_cluster(x, 1);
	/* at 0.5, 1 and 1.5 s; none at the run's last step (2 s) */
	assert_int_equal(c->ndrs, 3);
	assert_int_equal(c->drs[0].t_ns, 500 * MV_NS_PER_MS);
	assert_int_equal(c->drs[0].level, 3);
	assert_true(c->drs[0].imbalance > c->drs[0].target);
	int moved = 0;
	for (int k = 0; k < c->nmig; k++) {
		const struct mv_cluster_migration *g = &c->mig[k];
		assert_int_equal(g->event, -1);
		assert_int_equal(g->from, 0);
		assert_true(g->priority >= 2 && g->priority <= 3);
		assert_true(g->imbalance_after < g->imbalance_before);
		assert_true(g->benefit_ns > g->cost_ns);
		assert_non_null(strstr(g->reason, "balance memory"));
		if (strcmp(mv_cluster_migration_state(g), "done"))
			fail_msg("migration %d: %s (%s)", k,
				 mv_cluster_migration_state(g), g->why);
		moved++;
	}
	assert_true(moved >= 1);
	assert_samplers_sane(c);
	assert_true(c->drs[0].moves + c->drs[1].moves == moved);
	assert_true(c->drs[c->ndrs - 1].imbalance < c->drs[0].imbalance);
	assert_true(c->sim[0]->verify_checks > 0);
	/* h1 holds one VM fewer at the end */
	int on_h1 = 0;
	for (int i = 0; i < c->sim[0]->nvms; i++)
		on_h1 += !mv_sim_vm_down(c->sim[0], i);
	assert_int_equal(on_h1, 2 - moved);
	mv_cluster_destroy(c);
	/* the same run twice is the same (without the slow checks) */
	c = run_cluster(x, 0);
	char *o = outputs(c);
	assert_non_null(strstr(o, "DRS runs"));
	assert_non_null(strstr(o, "DRS p"));
	assert_non_null(strstr(o, "\"by\": \"drs\""));
	assert_non_null(strstr(o, "\"runs\": ["));
	assert_runs_again_as(x, 0, o);
	free(o);
	mv_cluster_destroy(c);
	free(x);
	/* without DRS, nothing moves */
	x = three_hosts("");
	c = run_cluster(x, 0);
	assert_int_equal(c->nmig, 0);
	assert_int_equal(c->ndrs, 0);
	mv_cluster_destroy(c);
	free(x);
}

/*
 * <maintenance>: at level 1 (mandatory moves only) DRS evacuates h1 as
 * soon as it enters maintenance mode, and no balancing move is made; the
 * VMs run on at their destinations; the host is reported empty.
 */
static void test_maintenance_mode_evacuates_the_host(void **state)
{
	(void)state;
	char *x = three_hosts_drs("1Gbit/s", "<drs level='1' interval='1s'/>",
				  "<maintenance host='h1' at='300ms'/>\n");
	struct mv_cluster *c = run_cluster(x, 1);
	assert_int_equal(c->nmig, 2);
	for (int k = 0; k < 2; k++) {
		const struct mv_cluster_migration *g = &c->mig[k];
		assert_int_equal(g->priority, 1);
		assert_int_equal(g->from, 0);
		assert_true(g->to == 1 || g->to == 2);
		assert_int_equal(g->start_ns, 300 * MV_NS_PER_MS);
		assert_non_null(strstr(g->reason, "maintenance mode"));
		if (strcmp(mv_cluster_migration_state(g), "done"))
			fail_msg("migration %d: %s (%s)", k,
				 mv_cluster_migration_state(g), g->why);
	}
	const struct mv_cluster_maintenance *m = &c->maint[0];
	assert_true(m->on);
	assert_int_equal(m->at_ns, 300 * MV_NS_PER_MS);
	assert_int_equal(m->evacuated, 2);
	assert_true(m->done_ns > m->at_ns);
	assert_int_equal(m->held, 0);
	for (int i = 0; i < c->sim[0]->nvms; i++)
		assert_true(mv_sim_vm_down(c->sim[0], i));
	assert_samplers_sane(c);
	assert_false(c->maint[1].on);
	char *o = outputs(c);
	assert_non_null(strstr(o, "maintenance mode: h1 from 0.300 s, 2 VMs "
				  "moved off; empty at"));
	free(o);
	mv_cluster_destroy(c);
	free(x);
}

/*
 * A destination that runs out of memory mid-migration (issue 17's
 * faults): a1 (about 100 MiB in use) goes to a 48 MiB host that holds a
 * small VM; the move aborts with the reason, a1 runs on at its source
 * with every page intact (verify on), the destination's frames are its
 * own VM's again, the run goes on.
 */
static void test_destination_out_of_memory_aborts_the_move(void **state)
{
	(void)state;
	char extra[2048];
	snprintf(extra, sizeof extra,
		 "<host name='h4'><scenario><host><memory unit='MiB'>48"
		 "</memory></host>%s</scenario></host>\n"
		 "<migrate vm='a1' from='h1' to='h4' at='200ms'/>\n",
		 vm_xml("d1", 32, 4));
	char *x = three_hosts(extra);
	struct mv_cluster *c = run_cluster(x, 1);
	assert_int_equal(c->now_ns, 2 * MV_NS_PER_S);
	assert_int_equal(c->nmig, 1);
	const struct mv_cluster_migration *g = &c->mig[0];
	assert_string_equal(mv_cluster_migration_state(g), "aborted");
	if (!strstr(g->why, "destination host is out of memory"))
		fail_msg("why: %s", g->why);
	assert_false(mv_sim_vm_down(c->sim[0], 0));
	assert_int_equal(c->sim[3]->nvms, 1);
	assert_int_equal(c->sim[3]->nincoming, 0);
	assert_true(mv_sim_free_frames(c->sim[3]) >
		    mv_sim_usable_frames(c->sim[3]) / 4);
	assert_true(c->sim[0]->verify_checks > 0);
	char *o = outputs(c);
	assert_non_null(strstr(o, "aborted"));
	free(o);
	mv_cluster_destroy(c);
	free(x);
}

/*
 * A host without VMs (a spare, or one just added) is a host of the
 * cluster: it runs, reports, and takes a VM by <migrate>, checked every
 * step; a scenario run alone still needs a VM.
 */
static void test_an_empty_host_takes_migrated_vms(void **state)
{
	(void)state;
	char *x = three_hosts(
		"<host name='spare'><scenario><host><memory unit='MiB'>512"
		"</memory></host></scenario></host>\n"
		"<migrate vm='a1' from='h1' to='spare' at='200ms'/>\n");
	struct mv_cluster *c = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_cluster_create(load(x), 1, &c, &err), &err, "create");
	assert_int_equal(c->nhosts, 4);
	assert_int_equal(c->sim[3]->nvms, 0);
	mvt_ok(mv_cluster_run(c, NULL, NULL, &err), &err, "run");
	assert_string_equal(mv_cluster_migration_state(&c->mig[0]), "done");
	assert_int_equal(c->sim[3]->nvms, 1);
	assert_false(mv_sim_vm_down(c->sim[3], 0));
	assert_string_equal(c->sim[3]->sc->vms[0].vm.name, "a1");
	assert_true(c->sim[3]->verify_checks > 0);
	char *o = outputs(c);
	assert_non_null(strstr(o, "=== host spare"));
	free(o);
	mv_cluster_destroy(c);
	free(x);
	/* alone, the same host is refused */
	struct mv_scenario *sc = NULL;
	assert_int_equal(mv_scenario_load_string(
				 "<scenario><host><memory unit='MiB'>512"
				 "</memory></host></scenario>",
				 "s.xml", "", &sc, &err),
			 MV_EINVAL);
	assert_non_null(strstr(err.msg, "at least one <vm>"));
	assert_null(sc);
}

/* vm_xml's VM with XML inserted after its <memory> element. */
static char *vm_xml_with(const char *name, int mib, const char *add)
{
	const char *v = vm_xml(name, mib, 8);
	const char *cut = strstr(v, "</memory>") + strlen("</memory>");
	char *x = malloc(strlen(v) + strlen(add) + 1);
	assert_non_null(x);
	sprintf(x, "%.*s%s%s", (int)(cut - v), v, add, cut);
	return x;
}

/* The i-th of the cluster's own VMs is vm, placed on host (-1: none). */
static void assert_placed(const struct mv_cluster_scenario *cs, int i,
			  const char *vm, int host)
{
	assert_true(i < cs->nplaced);
	assert_string_equal(cs->placed[i].vm, vm);
	assert_int_equal(cs->placed[i].host, host);
}

/*
 * Placement reads a VM as DRS does (mv_cluster_drs_vm): a limit bounds
 * what it can demand (placement used to raise a limit below the VM's
 * memory to that memory), and only the hosts with the NUMA nodes its
 * <numatune> names are considered, whatever their load.
 */
static void test_placement_reads_limits_and_numa_nodes(void **state)
{
	(void)state;
	char *pin = vm_xml_with("pin", 64,
				"<numatune><memory mode='strict' "
				"nodeset='1'/></numatune>");
	char *lim = vm_xml_with("lim", 512,
				"<memtune><hard_limit unit='MiB'>16"
				"</hard_limit><min_guarantee unit='MiB'>8"
				"</min_guarantee></memtune>");
	char *x = malloc(16384);
	assert_non_null(x);
	snprintf(x, 16384,
		 "<cluster name='t' seed='11' duration='200ms' step='10ms'>\n"
		 "<drs level='1' interval='200ms'/>\n"
		 "<host name='flat'><scenario><host><memory unit='MiB'>256"
		 "</memory></host>%s</scenario></host>\n"
		 "<host name='numa'><scenario><host><memory unit='MiB'>1024"
		 "</memory><numa nodes='2'/></host>%s</scenario></host>\n"
		 "%s\n%s\n%s\n</cluster>\n",
		 vm_xml("x1", 64, 8), vm_xml("y1", 512, 8), pin,
		 vm_xml("free", 64, 8), lim);
	struct mv_cluster_scenario *cs = load(x);
	assert_int_equal(cs->nplaced, 3);
	/* pin names node 1: only 'numa' has it, though 'flat' would be
	 * less loaded with it (128/256 against 576/1024) */
	assert_placed(cs, 0, "pin", 1);
	/* free names none: 'flat' (128/256 against 640/1024) */
	assert_placed(cs, 1, "free", 0);
	/* lim may hold only 16 MiB: 'flat' (144/256 against 592/1024);
	 * its 512 MiB would have gone to 'numa' (640/256, 1088/1024) */
	assert_placed(cs, 2, "lim", 0);
	const struct mv_scenario *sc = cs->host[0].sc;
	struct mv_drs_vm d;
	mv_cluster_drs_vm(&sc->vms[sc->nvms - 1].vm, 0, &d);
	assert_int_equal(d.configured, 512 * MV_MIB / MV_PAGE_SIZE);
	assert_int_equal(d.limit, 16 * MV_MIB / MV_PAGE_SIZE);
	assert_int_equal(d.reservation, 8 * MV_MIB / MV_PAGE_SIZE);
	mv_cluster_scenario_free(cs);
	/* each runs where it was placed */
	struct mv_cluster *c = run_cluster(x, 1);
	assert_string_equal(c->sim[1]->sc->vms[1].vm.name, "pin");
	assert_true(c->sim[1]->vm[1]->ctr.reads > 0);
	assert_string_equal(c->sim[0]->sc->vms[2].vm.name, "lim");
	assert_true(c->sim[0]->vm[2]->ctr.reads > 0);
	mv_cluster_destroy(c);
	free(x);
	free(pin);
	free(lim);
}

/*
 * The cluster's own <vm>s: DRS places each at power-on, in file order, on
 * the host with the lowest load with it among those that admit its
 * reservation; one that no host admits is not powered on. Each placed VM
 * runs on its host (checked every step) and is in the reports. Bad
 * placements name their line.
 */
static void test_drs_places_the_clusters_vms_at_power_on(void **state)
{
	(void)state;
	char extra[4096];
	/* big reserves 600 MiB: more than any host has */
	char *big = vm_xml_with("big", 1024,
				"<memtune><min_guarantee unit='MiB'>600"
				"</min_guarantee></memtune>");
	snprintf(extra, sizeof extra, "%s\n%s\n%s\n", vm_xml("n1", 128, 8),
		 vm_xml("n2", 64, 8), big);
	free(big);
	char *x = three_hosts_drs("1Gbit/s", "<drs level='3' interval='1s'/>",
				  extra);
	struct mv_cluster_scenario *cs = load(x);
	assert_int_equal(cs->nplaced, 3);
	/* h1 128 MiB holds 256 configured, h2 512 holds 128, h3 256 holds
	 * 64 (demand: all of it): n1 (128) goes to h2 (256/512 against
	 * h3's 192/256), n2 (64) to h3 (128/256 against h2's 320/512) */
	assert_placed(cs, 0, "n1", 1);
	assert_placed(cs, 1, "n2", 2);
	assert_placed(cs, 2, "big", -1);
	assert_int_equal(cs->placed[0].line, 7);
	mv_cluster_scenario_free(cs);
	struct mv_cluster *c = run_cluster(x, 1);
	assert_int_equal(c->sim[1]->nvms, 2);
	assert_string_equal(c->sim[1]->sc->vms[1].vm.name, "n1");
	assert_false(mv_sim_vm_down(c->sim[1], 1));
	assert_true(c->sim[1]->vm[1]->ctr.reads > 0);
	assert_string_equal(c->sim[2]->sc->vms[1].vm.name, "n2");
	char *o = outputs(c);
	assert_non_null(strstr(o, "initial placement"));
	assert_non_null(strstr(o, "not powered on: no host admits"));
	assert_non_null(strstr(o, "\"powered_on\": false"));
	free(o);
	mv_cluster_destroy(c);
	free(x);

	/* without DRS, with count=, or a name already on a host */
	char one[1100];
	snprintf(one, sizeof one, "%s\n", vm_xml("n1", 64, 8));
	x = three_hosts(one);
	assert_load_fails(x, 0, 7, "vm", "<drs level");
	free(x);
	snprintf(one, sizeof one, "<vm count='2'>%s\n",
		 vm_xml("n1", 64, 8) + 4);
	x = three_hosts_drs("1Gbit/s", "<drs level='3'/>", one);
	assert_load_fails(x, 1, 7, "vm/count", "its own <vm>");
	free(x);
	/* b1 is on h2, where it would go; a1 on h1, where it would not */
	snprintf(one, sizeof one, "%s\n", vm_xml("b1", 64, 8));
	x = three_hosts_drs("1Gbit/s", "<drs level='3'/>", one);
	assert_load_fails(x, 2, 7, "vm/name", "also on host 'h2'");
	free(x);
	snprintf(one, sizeof one, "%s\n", vm_xml("a1", 64, 8));
	x = three_hosts_drs("1Gbit/s", "<drs level='3'/>", one);
	assert_load_fails(x, 3, 7, "vm/name", "also on host 'h1'");
	free(x);
	/* a VM not powered on keeps its name, and cannot be moved */
	char two[4096];
	const char *res = "<memtune><min_guarantee unit='GiB'>1"
			  "</min_guarantee></memtune>";
	big = vm_xml_with("n9", 2048, res);
	snprintf(two, sizeof two, "%s\n%s\n", big, vm_xml("n9", 64, 8));
	x = three_hosts_drs("1Gbit/s", "<drs level='3'/>", two);
	assert_load_fails(x, 4, 8, "vm/name", "also at line 7");
	free(x);
	snprintf(two, sizeof two,
		 "%s\n<migrate vm='n9' from='h1' to='h2' at='1s'/>\n", big);
	x = three_hosts_drs("1Gbit/s", "<drs level='3'/>", two);
	assert_load_fails(x, 5, 8, "migrate/vm", "not powered on");
	free(x);
	free(big);
}

/* Cluster x, run 3 s instead of 2. */
static char *longer(char *x)
{
	char *d = strstr(x, "duration='2s'");
	assert_non_null(d);
	d[10] = '3';
	return x;
}

/* Pages a finished migration sent as swap slots, and read back. */
static void sent(const struct mv_cluster_migration *g, uint64_t *refs,
		 uint64_t *readback, uint64_t *bytes)
{
	const struct mv_migration *m = mv_sim_move_migration(g->move);
	*refs = *readback = 0;
	for (int r = 0; r < m->nrounds; r++) {
		*refs += m->round[r].swap_refs;
		*readback += m->round[r].readback;
	}
	*bytes = m->bytes;
}

/*
 * <storage swap="shared">: the overcommitted h1's a1 moves to h2 with its
 * swap file: its swapped pages cross as slots, are not read back, and
 * are swapped in on h2 from the same file; every page is checked at the
 * switch-over and every step; the same run with host-local swap (not
 * checked: faster) reads them back and sends more bytes.
 */
static void test_shared_swap_moves_the_swap_file_with_the_vm(void **state)
{
	(void)state;
	/* at 1.5 s h1 has begun to swap; the run goes on to 3 s */
	const char *move = "<migrate vm='a1' from='h1' to='h2' at='1500ms'/>\n";
	char *x = longer(three_hosts_drs(
		"1Gbit/s", "<drs>none</drs><storage swap='shared'/>", move));
	struct mv_cluster *c = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_cluster_create(load(x), 1, &c, &err), &err, "create");
	while (c->nmig < 1)
		mvt_ok(mv_cluster_step(c, &err), &err, "step");
	const struct mv_swapfile *file = c->sim[0]->swap[0];
	while (mv_sim_move_state(c->mig[0].move) == MV_MIG_ACTIVE)
		mvt_ok(mv_cluster_step(c, &err), &err, "step");
	assert_string_equal(mv_cluster_migration_state(&c->mig[0]), "done");
	assert_int_equal(mv_sim_move_dst_index(c->mig[0].move), 1);
	/* the file is h2's now, holding the pages the VM left in it */
	assert_ptr_equal(c->sim[1]->swap[1], file);
	assert_null(c->sim[0]->swap[0]);
	uint64_t swapped = c->sim[1]->vm[1]->count[MV_PS_SWAPPED];
	assert_true(swapped > 0);
	struct mv_swap_stats st;
	mv_swapfile_stats(file, &st);
	assert_int_equal(st.used, swapped);
	assert_int_equal(st.reads, 0);
	mvt_ok(mv_cluster_run(c, NULL, NULL, &err), &err, "run");
	assert_true(c->sim[0]->verify_checks > 0);
	mv_swapfile_stats(file, &st);
	assert_true(st.reads > 0); /* swapped in on h2, from the file */
	assert_hosts_add_up(c);
	uint64_t refs, readback, bytes;
	sent(&c->mig[0], &refs, &readback, &bytes);
	assert_true(refs > 0);
	char *o = outputs(c);
	assert_non_null(strstr(o, "swap files on shared storage"));
	assert_non_null(strstr(o, "\"swap_storage\": \"shared\""));
	free(o);
	mv_cluster_destroy(c);
	free(x);

	/* host-local swap: read back and sent as pages */
	x = longer(three_hosts_drs("1Gbit/s", "<drs>none</drs>", move));
	c = run_cluster(x, 0);
	assert_string_equal(mv_cluster_migration_state(&c->mig[0]), "done");
	uint64_t lrefs, lreadback, lbytes;
	sent(&c->mig[0], &lrefs, &lreadback, &lbytes);
	assert_int_equal(lrefs, 0);
	assert_true(lreadback > readback);
	assert_true(lbytes > bytes);
	mv_cluster_destroy(c);
	free(x);
}

/* x with <swap keep='yes' dir=...> in h2's and h3's <host>: d2, d3. */
static char *kept_swap(char *x, const char *d2, const char *d3)
{
	char *y = malloc(strlen(x) + 1024);
	assert_non_null(y);
	const char *dirs[] = {NULL, d2, d3};
	const char *p = x;
	char *o = y;
	for (int h = 0; h < 3; h++) {
		const char *m = strstr(p, "</memory></host>");
		assert_non_null(m);
		m += strlen("</memory>");
		memcpy(o, p, (size_t)(m - p));
		o += m - p;
		if (dirs[h])
			o += sprintf(o, "<swap keep='yes' dir='%s'/>", dirs[h]);
		p = m;
	}
	strcpy(o, p);
	free(x);
	return y;
}

/* Is dir/name there? Removed if so. */
static int take_file(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return unlink(path) == 0;
}

/*
 * <swap keep="yes"> keeps the files of the VMs a host holds at the end; a
 * VM that leaves takes its file off the host it left (as a vMotion
 * removes the source's .vswp), so it can come back: b1 goes h2 -> h3 ->
 * h2 and ends with its file on h2 only (a file left on h3 made its return
 * fail with "File exists").
 */
static void test_kept_swap_files_follow_their_vms(void **state)
{
	(void)state;
	char d2[] = "/tmp/mv-keep2-XXXXXX", d3[] = "/tmp/mv-keep3-XXXXXX";
	assert_non_null(mkdtemp(d2));
	assert_non_null(mkdtemp(d3));
	const char *moves =
		"<migrate vm='b1' from='h2' to='h3' at='300ms'/>\n"
		"<migrate vm='b1' from='h3' to='h2' at='1500ms'/>\n";
	char *x = kept_swap(longer(three_hosts(moves)), d2, d3);
	struct mv_cluster *c = run_cluster(x, 1);
	assert_int_equal(c->nmig, 2);
	int done = !strcmp(mv_cluster_migration_state(&c->mig[0]), "done") &&
		   !strcmp(mv_cluster_migration_state(&c->mig[1]), "done");
	mv_cluster_destroy(c);
	free(x);
	int b1_home = take_file(d2, "b1.vswp");
	int b1_left = take_file(d3, "b1.vswp");
	int c1_home = take_file(d3, "c1.vswp");
	assert_int_equal(rmdir(d2), 0);
	assert_int_equal(rmdir(d3), 0);
	assert_true(done);
	assert_true(b1_home);
	assert_false(b1_left);
	assert_true(c1_home);

	/* one directory for two hosts: refused on host-local storage (the
	 * file of a VM arriving would meet the one it left), taken shared */
	x = kept_swap(three_hosts(moves), "/tmp", "/tmp/");
	struct mv_cluster_scenario *cs = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_cluster_load_string(x, "c.xml", "", &cs, &err),
			 MV_EINVAL);
	assert_int_equal(err.line, 6);
	assert_string_equal(err.field, "swap/dir");
	assert_non_null(strstr(err.msg, "hosts 'h2' and 'h3'"));
	free(x);
	x = kept_swap(three_hosts_drs("1Gbit/s",
				      "<drs>none</drs><storage swap='shared'/>",
				      moves),
		      "/tmp", "/tmp/");
	mv_cluster_scenario_free(load(x));
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
		cmocka_unit_test(test_maintenance_events_are_checked),
		cmocka_unit_test(test_drs_moves_vms_off_a_contended_host),
		cmocka_unit_test(test_maintenance_mode_evacuates_the_host),
		cmocka_unit_test(
			test_destination_out_of_memory_aborts_the_move),
		cmocka_unit_test(
			test_shared_swap_moves_the_swap_file_with_the_vm),
		cmocka_unit_test(test_an_empty_host_takes_migrated_vms),
		cmocka_unit_test(test_drs_places_the_clusters_vms_at_power_on),
		cmocka_unit_test(test_placement_reads_limits_and_numa_nodes),
		cmocka_unit_test(test_kept_swap_files_follow_their_vms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
