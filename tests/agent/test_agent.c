/*
 * Tests of `memvisor agent` and `memvisor record` against libvirt's own
 * test driver, which runs in this process: no daemon, no guests. The
 * driver keeps a domain's balloon statistics in step with its
 * currentMemory (unused = half of it), takes setmem and reports
 * <memtune> and <metadata>, so the agent's whole path - list, read,
 * decide, setmem, log - runs as on a real host. test:///default is one
 * state shared by every connection of the process, which lets a test
 * look at what the agent changed, and add or remove guests while it
 * runs. KSM is a scratch directory (--ksm-dir): the real one is never
 * written.
 */
#include <dirent.h>
#include <jansson.h>
#include <libvirt/libvirt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/virt.h"
#include "support/mvtest.h"

#define MIB_KIB 1024ull

static char *ksm_dir(void)
{
	char *dir = mvt_tmpdir("mvksm");
	static const char *const files[][2] = {{"run", "0"},
					       {"pages_to_scan", "100"},
					       {"sleep_millisecs", "20"},
					       {"pages_shared", "0"},
					       {"pages_sharing", "0"},
					       {"pages_unshared", "0"},
					       {"pages_volatile", "0"},
					       {"full_scans", "0"}};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
		FILE *f = fopen(path, "w");
		fprintf(f, "%s\n", files[i][1]);
		fclose(f);
	}
	return dir;
}

/* The test driver's default domain "test": its balloon actual, KiB. */
static uint64_t default_actual(void)
{
	virConnectPtr c = virConnectOpen("test:///default");
	assert_non_null(c);
	virDomainPtr d = virDomainLookupByName(c, "test");
	assert_non_null(d);
	virDomainInfo info;
	assert_int_equal(virDomainGetInfo(d, &info), 0);
	virDomainFree(d);
	virConnectClose(c);
	return info.memory;
}

/* Agent options for a test: a scratch KSM, no summary, fast intervals. */
static void opts(struct mv_agent_opts *o, const char *uri, const char *ksm)
{
	mv_agent_opts_default(o);
	o->uri = uri;
	o->ksm_dir = ksm;
	o->interval_ns = 20 * MV_NS_PER_MS;
	o->pid_dir = "/nonexistent";
}

/* Run the agent with its JSON log in memory; the log's lines parsed. */
static json_t *run(struct mv_agent_opts *o)
{
	char *buf = NULL;
	size_t n = 0;
	o->json_log = open_memstream(&buf, &n);
	char msg[512];
	int rc = mv_agent_run(o, msg, sizeof msg);
	fclose(o->json_log);
	if (rc)
		fail_msg("agent: %s", msg);
	json_t *lines = json_array();
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t e;
		json_t *j = json_loads(line, 0, &e);
		if (!j)
			fail_msg("not JSON: %s", line);
		json_array_append_new(lines, j);
	}
	free(buf);
	return lines;
}

static const char *str(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static long long num(json_t *j, const char *k)
{
	return json_integer_value(json_object_get(j, k));
}

/* Decision lines of guest `name` (events left out). */
static int decisions(json_t *lines, const char *name, json_t **out, int max)
{
	int n = 0;
	size_t i;
	json_t *j;
	json_array_foreach(lines, i, j)
	{
		if (json_object_get(j, "event") ||
		    strcmp(str(j, "guest"), name))
			continue;
		if (n < max)
			out[n] = j;
		n++;
	}
	return n;
}

static int has_event(json_t *lines, const char *event, const char *guest,
		     long long *interval)
{
	size_t i;
	json_t *j;
	json_array_foreach(lines, i, j)
	{
		if (!strcmp(str(j, "event"), event) &&
		    (!guest || !strcmp(str(j, "guest"), guest))) {
			if (interval)
				*interval = num(j, "interval");
			return 1;
		}
	}
	return 0;
}

static void test_connect_list_and_read_the_test_driver(void **state)
{
	(void)state;
	struct mv_virt *v;
	char msg[256];
	assert_int_equal(mv_virt_open("test:///default", &v, msg, sizeof msg),
			 0);
	struct mv_virt_list l;
	assert_int_equal(mv_virt_list(v, &l, msg, sizeof msg), 0);
	assert_int_equal(l.n, 1);
	struct mv_virt_dom d;
	assert_int_equal(mv_virt_ident(&l, 0, &d), 0);
	assert_string_equal(d.name, "test");
	assert_int_equal(mv_virt_read(&l, 0, &d), 0);
	assert_int_equal(d.max_kib, 8 * 1024 * MIB_KIB);
	assert_true(d.stats_ok && d.have_unused && d.have_rss);
	assert_int_equal(d.unused, d.actual_kib / 2);
	char *xml = mv_virt_xml(&l, 0, 0);
	int balloon;
	assert_int_equal(mv_virt_balloon_info(xml, &balloon), 0);
	assert_true(balloon);
	assert_int_equal(mv_virt_current_memory(xml), d.actual_kib);
	free(xml);

	/* the guest goes away between the list and the read: the read
	 * fails with libvirt's reason, nothing else does */
	virConnectPtr c = virConnectOpen("test:///default");
	virDomainPtr dom = virDomainLookupByName(c, "test");
	char *def = virDomainGetXMLDesc(dom, 0);
	assert_int_equal(virDomainDestroy(dom), 0);
	assert_int_equal(mv_virt_read(&l, 0, &d), 0); /* info still there */
	assert_false(d.stats_ok);
	assert_true(strlen(d.err) > 0);
	assert_true(mv_virt_set_memory(&l, 0, 1000000, msg, sizeof msg) < 0);
	assert_true(strlen(msg) > 0);
	mv_virt_list_free(&l);
	assert_int_equal(mv_virt_list(v, &l, msg, sizeof msg), 0);
	assert_int_equal(l.n, 0);
	mv_virt_list_free(&l);
	/* back for the other tests */
	assert_int_equal(virDomainCreate(dom), 0);
	virDomainFree(dom);
	free(def);
	virConnectClose(c);
	mv_virt_close(v);
}

static void test_shares_and_memtune_come_from_the_domain(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvnode");
	char path[512], uri[600];
	snprintf(path, sizeof path, "%s/node.xml", dir);
	FILE *f = fopen(path, "w");
	fputs("<node><memory>16777216</memory>"
	      "<domain type='test'><name>g</name><memory>1048576</memory>"
	      "<memtune><soft_limit>262144</soft_limit>"
	      "<hard_limit>786432</hard_limit></memtune>"
	      "<metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	      "<mv:shares>high</mv:shares></mv:memvisor></metadata>"
	      "<os><type>hvm</type></os>"
	      "<devices><memballoon model='virtio'/></devices></domain>"
	      "<domain type='test'><name>n</name><memory>1048576</memory>"
	      "<os><type>hvm</type></os>"
	      "<devices><memballoon model='none'/></devices></domain>"
	      "</node>",
	      f);
	fclose(f);
	snprintf(uri, sizeof uri, "test://%s", path);
	struct mv_virt *v;
	char msg[256];
	assert_int_equal(mv_virt_open(uri, &v, msg, sizeof msg), 0);
	struct mv_virt_list l;
	assert_int_equal(mv_virt_list(v, &l, msg, sizeof msg), 0);
	assert_int_equal(l.n, 2);
	for (int i = 0; i < 2; i++) {
		struct mv_virt_dom d;
		assert_int_equal(mv_virt_ident(&l, i, &d), 0);
		assert_int_equal(mv_virt_read(&l, i, &d), 0);
		if (!strcmp(d.name, "g")) {
			assert_int_equal(d.shares, 20 * 1024); /* high */
			assert_int_equal(d.soft_limit, 262144);
			assert_int_equal(d.hard_limit, 786432);
		} else {
			assert_int_equal(d.shares, 0);
			assert_int_equal(d.hard_limit, 0);
			assert_false(d.have_unused); /* no balloon */
		}
	}
	mv_virt_list_free(&l);
	mv_virt_close(v);
	mvt_rmdir(dir);
}

/*
 * test:///default's one guest (8 GiB, 2 GiB current, 1 GiB RSS) on a
 * 1060 MiB budget: 36 MiB free, 3.4%, the soft state: the balloon
 * inflates. --dry-run says so and changes nothing; without it the guest
 * shrinks (by at most 5% of 8 GiB an interval, the next interval reading
 * what the last one set); --restore-on-exit puts it back at its
 * currentMemory.
 */
static void test_dry_run_changes_nothing_and_the_real_run_does(void **state)
{
	(void)state;
	char *ksm = ksm_dir();
	uint64_t before = default_actual();
	struct mv_agent_opts o;
	opts(&o, "test:///default", ksm);
	o.host_memory_kib = 1060 * MIB_KIB;
	o.duration_ns = 100 * MV_NS_PER_MS;
	o.dry_run = 1;
	json_t *lines = run(&o);
	json_t *d[16];
	int n = decisions(lines, "test", d, 16);
	assert_true(n >= 3);
	for (int i = 0; i < n && i < 16; i++) {
		assert_string_equal(str(d[i], "reason"), "reclaim");
		assert_true(json_is_true(json_object_get(d[i], "change")));
		assert_true(json_is_false(json_object_get(d[i], "applied")));
		assert_int_equal(num(d[i], "actual_kib"), before);
	}
	json_decref(lines);
	assert_int_equal(default_actual(), before);
	/* nor KSM: the scratch knobs as they were */
	char path[512], buf[32];
	snprintf(path, sizeof path, "%s/run", ksm);
	mvt_read_file(path, buf, sizeof buf);
	assert_string_equal(buf, "0\n");

	o.dry_run = 0;
	o.restore_on_exit = 1;
	lines = run(&o);
	n = decisions(lines, "test", d, 16);
	assert_true(n >= 3);
	uint64_t step = 8 * 1024 * MIB_KIB / 20;
	for (int i = 0; i < n && i < 16; i++) {
		/* every change made, none failed */
		assert_int_equal(json_is_true(json_object_get(d[i], "applied")),
				 json_is_true(json_object_get(d[i], "change")));
		assert_true(i ||
			    json_is_true(json_object_get(d[i], "applied")));
		long long moved = num(d[i], "actual_kib") -
				  num(d[i], "target_kib");
		/* the host is short by less than a step: it asks for that */
		if (i == 0)
			assert_true(moved > 0);
		assert_true(moved >= 0 && moved <= (long long)step);
		if (i)
			assert_int_equal(num(d[i], "actual_kib"),
					 num(d[i - 1], "target_kib"));
		/* never below its use plus 20% */
		assert_true(num(d[i], "target_kib") >= num(d[i], "floor_kib"));
	}
	/* the last line says how it ended and what putting back took */
	json_t *last = json_array_get(lines, json_array_size(lines) - 1);
	assert_string_equal(str(last, "event"), "exit");
	assert_non_null(
		strstr(str(last, "message"), "finished after interval"));
	assert_non_null(strstr(str(last, "message"), "took 0."));
	json_decref(lines);
	/* back where it was, as another connection sees it */
	assert_int_equal(default_actual(), before);
	mvt_rmdir(ksm);
}

/* The test's hook between intervals: a guest comes and goes. */
static void churn(void *ctx, const struct mv_agent_view *v)
{
	(void)ctx;
	virConnectPtr c = virConnectOpen("test:///default");
	if (v->interval == 1) {
		virDomainPtr d = virDomainCreateXML(
			c,
			"<domain type='test'><name>extra</name>"
			"<memory>524288</memory><os><type>hvm</type></os>"
			"<devices><memballoon model='virtio'/></devices>"
			"</domain>",
			0);
		assert_non_null(d);
		virDomainFree(d);
	}
	if (v->interval == 3) {
		virDomainPtr d = virDomainLookupByName(c, "extra");
		assert_non_null(d);
		assert_int_equal(virDomainDestroy(d), 0);
		virDomainFree(d);
	}
	if (v->interval == 4) {
		/* stopped and started between two intervals: a new ID */
		virDomainPtr d = virDomainLookupByName(c, "test");
		assert_non_null(d);
		assert_int_equal(virDomainDestroy(d), 0);
		assert_int_equal(virDomainCreate(d), 0);
		virDomainFree(d);
	}
	virConnectClose(c);
}

static void
test_guests_appearing_leaving_and_restarting_are_logged(void **state)
{
	(void)state;
	char *ksm = ksm_dir();
	struct mv_agent_opts o;
	opts(&o, "test:///default", ksm);
	o.duration_ns = 100 * MV_NS_PER_MS;
	o.on_interval = churn;
	json_t *lines = run(&o);
	long long at = 0;
	assert_true(has_event(lines, "guest-appeared", "extra", &at));
	assert_int_equal(at, 2);
	assert_true(has_event(lines, "guest-gone", "extra", &at));
	assert_int_equal(at, 4);
	assert_true(has_event(lines, "guest-restarted", "test", &at));
	assert_int_equal(at, 5);
	assert_false(has_event(lines, "guest-gone", "test", NULL));
	json_t *d[8];
	assert_int_equal(decisions(lines, "extra", d, 8), 2);
	/* the other guest was decided on in every interval */
	assert_true(decisions(lines, "test", d, 8) >= 5);
	json_decref(lines);
	mvt_rmdir(ksm);
}

static void test_ksm_is_tuned_and_restored(void **state)
{
	(void)state;
	char *ksm = ksm_dir();
	struct mv_agent_opts o;
	opts(&o, "test:///default", ksm);
	o.host_memory_kib = 1060 * MIB_KIB; /* committed near total */
	o.duration_ns = 60 * MV_NS_PER_MS;
	o.dry_run = 0;
	json_t *lines = run(&o);
	/* it ran KSM, boosting the scan by 300 an interval */
	size_t i;
	json_t *j;
	int boosts = 0;
	json_array_foreach(lines, i, j)
	{
		if (!strcmp(str(j, "event"), "ksm") &&
		    strstr(str(j, "message"), "run 1, pages_to_scan 400"))
			boosts++;
	}
	assert_int_equal(boosts, 1);
	json_decref(lines);
	char path[512], buf[32];
	snprintf(path, sizeof path, "%s/run", ksm);
	mvt_read_file(path, buf, sizeof buf);
	assert_string_equal(buf, "0\n");
	snprintf(path, sizeof path, "%s/pages_to_scan", ksm);
	mvt_read_file(path, buf, sizeof buf);
	assert_string_equal(buf, "100\n");
	/* put the guest back (no --restore-on-exit here) */
	virConnectPtr c = virConnectOpen("test:///default");
	virDomainPtr d = virDomainLookupByName(c, "test");
	virDomainSetMemoryFlags(d, 2097152, VIR_DOMAIN_AFFECT_LIVE);
	virDomainFree(d);
	virConnectClose(c);
	mvt_rmdir(ksm);
}

/* Run the memvisor binary; its exit status, stderr into err. */
static int memvisor(const char *args, char *err, size_t n)
{
	char bin[4096], cmd[8192], path[] = "/tmp/mvagent-err.XXXXXX";
	mvt_memvisor_bin(bin, sizeof bin);
	int fd = mkstemp(path);
	close(fd);
	snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>%s", bin, args, path);
	int rc = system(cmd);
	mvt_read_file(path, err, n);
	unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int lines_in(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_bad_uri_and_bad_options_exit_2_with_one_line(void **state)
{
	(void)state;
	char err[2048];
	assert_int_equal(memvisor("agent --connect nosuch:///x --once "
				  "--no-ksm",
				  err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "memvisor: agent: cannot connect to "
				    "'nosuch:///x'"));
	/* and no log file left behind */
	unlink("/tmp/mvagent-nolog.json");
	assert_int_equal(memvisor("agent --connect nosuch:///x --once "
				  "--json-log /tmp/mvagent-nolog.json",
				  err, sizeof err),
			 2);
	assert_int_equal(access("/tmp/mvagent-nolog.json", F_OK), -1);
	assert_int_equal(memvisor("agent --interval 0", err, sizeof err), 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "--interval"));
	assert_int_equal(memvisor("agent --bogus", err, sizeof err), 2);
	assert_int_equal(lines_in(err), 1);
	assert_int_equal(memvisor("agent --host-memory lots", err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "--host-memory: not a size: 'lots'"));
	assert_int_equal(memvisor("agent --host-memory 1.2X", err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "not a size: '1.2X'"));
	assert_int_equal(memvisor("agent --host-memory 0.5M", err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "'0.5M' is below 1 MiB"));
	assert_int_equal(memvisor("record --host-memory 1.2.3G --duration 1s "
				  "-o /tmp/x.xml",
				  err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "not a size: '1.2.3G'"));
	/* a sampling period the replay's step cannot hold */
	assert_int_equal(memvisor("record --sample-period 5ms --duration 1s "
				  "-o /tmp/x.xml",
				  err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "--sample-period: '5ms' is below"));
	/* a decimal budget: 1.2G = 1258291.2 KiB, rounded down to a KiB */
	char log[] = "/tmp/mvagent-12g.XXXXXX", args[256], buf[65536];
	close(mkstemp(log));
	snprintf(args, sizeof args,
		 "agent -c test:///default --once --dry-run --no-ksm "
		 "--host-memory 1.2G --json-log %s",
		 log);
	assert_int_equal(memvisor(args, err, sizeof err), 0);
	mvt_read_file(log, buf, sizeof buf);
	unlink(log);
	assert_non_null(strstr(buf, "\"host_total_kib\":1258291,"));
	assert_int_equal(memvisor("record --duration 1s", err, sizeof err), 2);
	assert_int_equal(lines_in(err), 1);
	assert_non_null(strstr(err, "-o FILE"));
	assert_int_equal(memvisor("record -c nosuch:///x --duration 1s -o "
				  "/tmp/x.xml",
				  err, sizeof err),
			 2);
	assert_int_equal(lines_in(err), 1);
	assert_int_equal(memvisor("agent --help", err, sizeof err), 0);
	assert_int_equal(memvisor("help record", err, sizeof err), 0);
}

static void test_record_writes_a_scenario_run_can_load(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvrec");
	char args[1024], err[1024], path[600];
	snprintf(args, sizeof args,
		 "record -c test:///default --duration 1s --interval 200ms "
		 "-o %s/host.xml",
		 dir);
	assert_int_equal(memvisor(args, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/host-test.csv", dir);
	size_t n = 0;
	char *csv = mvt_slurp(path, &n);
	assert_non_null(csv);
	assert_non_null(strstr(csv, "Memory usage [KB]"));
	assert_non_null(strstr(csv, "Guest RAM RSS [KB];\tQEMU overhead [KB]"));
	assert_true(lines_in(csv) >= 6); /* header and 5 samples or more */
	free(csv);
	snprintf(path, sizeof path, "%s/host.xml", dir);
	struct mv_scenario *sc = NULL;
	struct mv_error e = {0};
	int rc = mv_scenario_load(path, &sc, &e);
	mvt_ok(rc, &e, "load the recorded scenario");
	assert_int_equal(sc->nvms, 1);
	/* replayed as the agent runs a host: balloons only, at its rate (5%
	 * of 8 GiB per 200 ms interval), the guest's OS image its disk
	 * caches (the test driver says 256 MiB) */
	assert_int_equal(sc->reclaim.balloon_only, 1);
	assert_int_equal(sc->host.budget_bytes, 0);
	assert_true(sc->vms[0].guest.balloon_rate == 2 * MV_GIB / MV_PAGE_SIZE);
	assert_int_equal(sc->vms[0].guest.os_bytes, 256 * MV_MIB);
	/* active memory as the agent measures it: every page (the 8 GiB
	 * guest's 2M capped at the scenario's 1M), once its 30 s */
	assert_int_equal(sc->sampling.pages, 1000000);
	assert_true(sc->sampling.period_ns == 30 * MV_NS_PER_S);
	mv_scenario_free(sc);
	/* a budget below the guests' memory: the machine holds them all and
	 * the policy manages the budget */
	snprintf(args, sizeof args,
		 "record -c test:///default --duration 1s --interval 500ms "
		 "--host-memory 1.5G --sample-period 5s -o %s/budget.xml",
		 dir);
	assert_int_equal(memvisor(args, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/budget.xml", dir);
	mvt_ok(mv_scenario_load(path, &sc, &e), &e, "load budget.xml");
	assert_int_equal(sc->host.budget_bytes, 3 * MV_GIB / 2);
	assert_int_equal(sc->host.mem_bytes, 8 * MV_GIB);
	assert_true(sc->sampling.period_ns == 5 * MV_NS_PER_S);
	mv_scenario_free(sc);
	snprintf(args, sizeof args, "run --duration 1s %s/host.xml", dir);
	assert_int_equal(memvisor(args, err, sizeof err), 0);
	/* simulated beside measured: the replay's balloon is the one the
	 * test driver's guest had (8 GiB - 2 GiB current = 6144 MiB) */
	char bin[4096], cmd[8192];
	mvt_memvisor_bin(bin, sizeof bin);
	snprintf(cmd, sizeof cmd,
		 "MEMVISOR=%s scripts/agent-compare.py %s/host.xml %s/csv > "
		 "%s/table.md",
		 bin, dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/table.md", dir);
	char *table = mvt_slurp(path, &n);
	assert_non_null(table);
	assert_non_null(strstr(table, "| test | "));
	assert_non_null(strstr(table, "| 6144.0 | 6144.0 | 0.0 (0%) |"));
	free(table);
	mvt_rm_tree(dir);
	free(dir);
}

/*
 * The agent's cost with 200 guests on the test driver (a <node> file of
 * 200 domains, the tenth with a reservation, every fourth idle-sized),
 * under pressure so that balloons move: CPU per interval and RSS, from
 * the agent's own summary, printed as a note.
 */
static void test_two_hundred_guests_cost(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mv200");
	char path[512];
	snprintf(path, sizeof path, "%s/node.xml", dir);
	FILE *f = fopen(path, "w");
	fputs("<node><memory>268435456</memory>\n", f);
	for (int i = 0; i < 200; i++)
		fprintf(f,
			"<domain type='test'><name>vm%03d</name>"
			"<memory>1048576</memory>%s"
			"<os><type>hvm</type></os><devices>"
			"<memballoon model='virtio'/></devices></domain>\n",
			i,
			i % 10 == 0 ? "<memtune><soft_limit>786432"
				      "</soft_limit></memtune>"
				    : "");
	fputs("</node>\n", f);
	fclose(f);
	char *ksm = ksm_dir();
	char bin[4096], cmd[8192], out[600];
	mvt_memvisor_bin(bin, sizeof bin);
	snprintf(out, sizeof out, "%s/summary.txt", dir);
	/* 200 x 512 MiB RSS = 100 GiB on a 101 GiB budget: soft */
	snprintf(cmd, sizeof cmd,
		 "%s agent -c test://%s --host-memory 101G --interval 100ms "
		 "--duration 2s --ksm-dir %s --json-log %s/log.json > %s",
		 bin, path, ksm, dir, out);
	assert_int_equal(system(cmd), 0);
	char sum[2048];
	mvt_read_file(out, sum, sizeof sum);
	assert_non_null(strstr(sum, "200 guests at most"));
	const char *cost = strstr(sum, "cost: ");
	assert_non_null(cost);
	double ms = 0, rss = 0;
	assert_int_equal(sscanf(cost,
				"cost: %lf ms CPU per interval (user + "
				"system), max RSS %lf MiB",
				&ms, &rss),
			 2);
	const char *made = strstr(sum, "balloon changes: ");
	int changes = made ? atoi(made + 17) : 0;
	assert_true(changes > 0);
	printf("note: 200 guests on test:///FILE: %.2f ms CPU per interval, "
	       "max RSS %.1f MiB, %d balloon changes in 20 intervals\n",
	       ms, rss, changes);
	mvt_rm_tree(dir);
	free(dir);
	mvt_rmdir(ksm);
}

/*
 * libvirtd killed and restarted under the agent. The test starts a
 * libvirtd of its own (root only; skipped otherwise): its sockets in a
 * scratch directory, no driver modules loaded (LIBVIRT_DRIVER_DIR names
 * an empty one), so it serves only the test driver, to
 * test+unix:///default?socket=DIR/libvirt-sock, and touches nothing of
 * any other libvirtd on the machine. It is stopped by its PID.
 */
struct daemon {
	char dir[256];
	pid_t pid;
};

static void daemon_start(struct daemon *d)
{
	char conf[300], sock[300], log[300], empty[300], pidf[300];
	snprintf(conf, sizeof conf, "%s/libvirtd.conf", d->dir);
	snprintf(sock, sizeof sock, "%s/libvirt-sock", d->dir);
	snprintf(log, sizeof log, "%s/libvirtd.out", d->dir);
	snprintf(empty, sizeof empty, "%s/empty", d->dir);
	snprintf(pidf, sizeof pidf, "%s/libvirtd.pid", d->dir);
	unlink(sock);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		setenv("LIBVIRT_DRIVER_DIR", empty, 1);
		freopen(log, "a", stdout);
		freopen(log, "a", stderr);
		execlp("libvirtd", "libvirtd", "--config", conf, "--pid-file",
		       pidf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(sock, F_OK); i++)
		usleep(50000);
	assert_int_equal(access(sock, F_OK), 0);
}

static void daemon_stop(struct daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

static struct daemon g_daemon;

static void restart_daemon(void *ctx, const struct mv_agent_view *v)
{
	(void)ctx;
	if (v->interval == 3)
		daemon_stop(&g_daemon);
	if (v->interval == 8)
		daemon_start(&g_daemon);
}

static void test_agent_reconnects_when_libvirtd_restarts(void **state)
{
	(void)state;
	if (geteuid() != 0 || system("command -v libvirtd >/dev/null 2>&1")) {
		printf("SKIP: libvirtd reconnection needs root and libvirtd\n");
		skip();
	}
	char *dir = mvt_tmpdir("mvlvd");
	snprintf(g_daemon.dir, sizeof g_daemon.dir, "%s", dir);
	char path[512];
	snprintf(path, sizeof path, "%s/empty", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/libvirtd.conf", dir);
	FILE *f = fopen(path, "w");
	fprintf(f,
		"unix_sock_dir = \"%s\"\nauth_unix_rw = \"none\"\n"
		"auth_unix_ro = \"none\"\nlog_outputs = \"3:file:%s/log\"\n",
		dir, dir);
	fclose(f);
	signal(SIGPIPE, SIG_IGN); /* as the command does */
	daemon_start(&g_daemon);
	char uri[600];
	snprintf(uri, sizeof uri, "test+unix:///default?socket=%s/libvirt-sock",
		 dir);
	char *ksm = ksm_dir();
	struct mv_agent_opts o;
	opts(&o, uri, ksm);
	o.interval_ns = 100 * MV_NS_PER_MS;
	o.duration_ns = 3 * MV_NS_PER_S;
	o.on_interval = restart_daemon;
	json_t *lines = run(&o);
	daemon_stop(&g_daemon);
	long long lost = 0, back = 0;
	assert_true(has_event(lines, "connection-lost", NULL, &lost));
	assert_true(has_event(lines, "reconnected", NULL, &back));
	assert_true(lost >= 4 && lost < 8);
	assert_true(back > 8);
	/* decisions again after the reconnection */
	size_t i;
	json_t *j;
	int after = 0;
	json_array_foreach(lines, i, j)
	{
		if (!json_object_get(j, "event") && num(j, "interval") > back)
			after++;
	}
	assert_true(after > 0);
	json_decref(lines);
	mvt_rm_tree(dir);
	free(dir);
	mvt_rmdir(ksm);
}

/* --top on a terminal (script(1) gives it one): the screen draws, the
 * agent ends at its duration and the summary follows the screen. */
static void test_top_screen_runs_and_the_summary_follows(void **state)
{
	(void)state;
	if (system("command -v script >/dev/null 2>&1")) {
		printf("SKIP: no script(1) to give --top a terminal\n");
		skip();
	}
	char bin[4096], cmd[8400], path[] = "/tmp/mvagent-top.XXXXXX";
	mvt_memvisor_bin(bin, sizeof bin);
	int fd = mkstemp(path);
	close(fd);
	snprintf(cmd, sizeof cmd,
		 "TERM=xterm script -qec '%s agent -c test:///default --top "
		 "--interval 100ms --duration 300ms --no-ksm' %s >/dev/null "
		 "2>&1",
		 bin, path);
	assert_int_equal(system(cmd), 0);
	size_t n = 0;
	char *out = mvt_slurp(path, &n);
	unlink(path);
	assert_non_null(out);
	const char *head = strstr(out, "TARGET");
	const char *sum = strstr(out, "memvisor agent: 3 intervals");
	assert_non_null(head);
	assert_non_null(sum);
	assert_true(head < sum);
	free(out);
}

/*
 * A real guest's stats (tests/kvm's idle guest in a test_agent_guests.sh run):
 * QEMU's actual is current, unused and available come every stats
 * period (2 s), so every other sample while the balloon inflates pairs a
 * new actual with old stats. Its use did not change: the recorded use
 * must not swing by the balloon's step, as actual - unused does.
 */
static void test_record_use_is_of_one_stats_snapshot(void **state)
{
	(void)state;
	static const uint64_t actual[] = {524288, 498076, 471864, 445652,
					  231764, 231764, 231764};
	static const uint64_t avail[] = {481296, 481296, 428872, 428872,
					 188772, 188772, 188772};
	static const uint64_t unused[] = {453684, 453684, 401480, 401480,
					  161292, 161292, 161292};
	size_t n = sizeof actual / sizeof actual[0];
	/* the kernel's 42 MiB outside MemTotal, from the samples at rest
	 * (not the stale ones' 16780, as often among the moving ones) */
	uint64_t out = mv_agent_outside_kib(actual, avail, n);
	assert_int_equal(out, 42992);
	static const uint64_t use[] = {70604, 70604, 70384, 70384,
				       70472, 70472, 70472};
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mv_agent_use_kib(524288, actual[i], avail[i],
						  unused[i], out),
				 use[i]);
	assert_int_equal(actual[1] - unused[1], 44392); /* the old swing */
	/* no available (no stats of it): actual - unused; never above the
	 * memory, 0 rather than negative */
	assert_int_equal(mv_agent_use_kib(524288, 400000, 0, 300000, out),
			 100000);
	assert_int_equal(mv_agent_use_kib(1000, 400000, 0, 300000, 0), 1000);
	assert_int_equal(mv_agent_use_kib(524288, 400000, 0, 500000, 0), 0);
	assert_int_equal(mv_agent_outside_kib(actual, unused, 0), 0);
}

/* What a sampler sees of uniform accesses at rate r over a set of s
 * pages in T: s (1 - exp(-r T / s)) distinct pages. */
static double touched_by(double r, double s, double t)
{
	return s * -expm1(-r * t / s);
}

static void test_record_access_rate_gives_back_what_was_measured(void **state)
{
	(void)state;
	/* periods of one rate over sets that moved: each gives it back */
	double set[] = {81920, 60000, 17000, 81920, 0};
	double acc[5];
	for (int i = 0; i < 4; i++)
		acc[i] = touched_by(16000, set[i], 5);
	acc[4] = 500; /* an empty set: no period */
	double r = mv_record_access_rate(acc, set, 5, 5);
	assert_true(fabs(r - 16000) < 0.01);
	/* one odd period does not move it */
	acc[2] = touched_by(1000, set[2], 5);
	assert_true(fabs(mv_record_access_rate(acc, set, 4, 5) - 16000) < 0.01);
	assert_true(fabs(mv_record_access_rate(acc, set, 3, 5) - 16000) < 0.01);
	/* two periods as far off either way: the lower rate */
	double a2[] = {touched_by(1000, 1000, 1), touched_by(3000, 1000, 1)};
	double s2[] = {1000, 1000};
	assert_true(fabs(mv_record_access_rate(a2, s2, 2, 1) - 1000) < 0.01);
	/* a guest busy, then idle (a test_agent_guests.sh run): 5 periods
	 * of 5 s found 0.595 of its 512 MiB accessed while it rewrote 318
	 * MiB, then 9 found 0.099 with 67 MiB in use. Their middle rate,
	 * 4874 a second, would show 82 MiB of the busy 318 accessed; the
	 * busy periods' 51590 shows it all, and the idle part's 67 MiB
	 * where 51 were measured */
	double ab[14], sb[14];
	for (int i = 0; i < 14; i++) {
		sb[i] = i < 5 ? 81408 : 17152;
		ab[i] = (i < 5 ? 0.595 : 0.099) * 131072;
	}
	double rb = mv_record_access_rate(ab, sb, 14, 5);
	assert_true(fabs(rb - 81408 / 5.0 * -log1p(-0.595 * 131072 / 81408)) <
		    1);
	assert_true(touched_by(rb, 81408, 5) > 0.99 * 0.595 * 131072);
	/* more accessed than the set (the kernel's pages, the OS image):
	 * every page of the set but one page's worth, s ln(s + 1) / T */
	double big[] = {5000}, s1[] = {1000};
	assert_true(fabs(mv_record_access_rate(big, s1, 1, 2) -
			 1000 * log(1001) / 2) < 1e-6);
	/* a longer period: the same pages touched over more time */
	assert_true(fabs(mv_record_access_rate(acc, set, 2, 10) - 8000) < 0.01);
	double zero[] = {0};
	assert_true(mv_record_access_rate(zero, s1, 1, 5) == 0);
	assert_true(mv_record_access_rate(acc, set, 0, 5) == 0);
	assert_true(mv_record_access_rate(acc, set, 4, 0) == 0);
}

static void test_record_skips_stats_reports_from_before_the_start(void **state)
{
	(void)state;
	/* a test_agent_guests.sh run's idle guest: its first two samples
	 * carried a report of 1.5 s before the first (its 300 MiB file
	 * still there: 372 MiB in use), the third a fresh one (68 MiB) */
	uint64_t t[] = {1796575181562, 1796575182562, 1796575183563,
			1796575184562};
	uint64_t u[] = {1796575180, 1796575180, 1796575183, 1796575183};
	assert_int_equal(mv_record_fresh_row(t, u, 4), 2);
	/* a report made in the first sample's second may be after it */
	uint64_t u1[] = {1796575181, 1796575181, 1796575183, 1796575183};
	assert_int_equal(mv_record_fresh_row(t, u1, 4), 0);
	/* no report says its time, or every one is old: as recorded */
	uint64_t u0[] = {0, 0, 0, 0};
	assert_int_equal(mv_record_fresh_row(t, u0, 4), 0);
	uint64_t uold[] = {1796575100, 1796575100, 1796575100, 1796575100};
	assert_int_equal(mv_record_fresh_row(t, uold, 4), 0);
	assert_int_equal(mv_record_fresh_row(t, u, 0), 0);
}

/*
 * The replay's sampling phase: the first measured period end after the
 * recording's start, modulo the period, to the replay's 10 ms step; none
 * when nothing ended after the start or the ends are on the replay's grid.
 */
static void
test_record_sampling_phase_follows_the_measured_periods(void **state)
{
	(void)state;
	/* the agent's periods of 5 s ended 1.004 s, 6.004 s, ... after the
	 * recording's first sample (and one before it, left out) */
	uint64_t t0 = 1796576237000ull;
	uint64_t ends[] = {t0 + 11004, t0 + 1004, t0 - 3996, t0 + 6004};
	assert_int_equal(mv_record_sampling_phase(ends, 4, t0, 5000, 10), 1000);
	ends[1] = t0 + 1006; /* rounds up */
	assert_int_equal(mv_record_sampling_phase(ends, 4, t0, 5000, 10), 1010);
	/* first end 6.004 s: 1.004 s into the grid all the same */
	assert_int_equal(mv_record_sampling_phase(ends + 3, 1, t0, 5000, 10),
			 1000);
	/* on the replay's own grid (5 s, 10 s...): no phase */
	uint64_t grid[] = {t0 + 5002, t0 + 10002};
	assert_int_equal(mv_record_sampling_phase(grid, 2, t0, 5000, 10), 0);
	uint64_t late[] = {t0 + 9998};
	assert_int_equal(mv_record_sampling_phase(late, 1, t0, 5000, 10), 0);
	/* nothing measured after the start */
	assert_int_equal(mv_record_sampling_phase(ends + 2, 1, t0, 5000, 10),
			 0);
	assert_int_equal(mv_record_sampling_phase(NULL, 0, t0, 5000, 10), 0);
}

/*
 * A sample's use from the stats report made nearest it: reports every 2 s
 * read by samples every second, each up to 2 s old when read; the first
 * report with no time ends the search; none with a time gives the first.
 */
static void test_record_takes_use_from_the_nearest_report(void **state)
{
	(void)state;
	uint64_t t = 1796576240000ull; /* the sample, at second ...240.0 */
	/* its own report from ...238 (238.5 on average), the next sample's
	 * from ...240 (240.5): the next one's is nearer */
	uint64_t s1[] = {1796576238, 1796576240, 1796576240, 1796576242};
	assert_int_equal(mv_record_nearest_report(t, s1, 4), 1);
	/* its own report is the nearest */
	uint64_t s2[] = {1796576239, 1796576241, 1796576243};
	assert_int_equal(mv_record_nearest_report(t + 200, s2, 3), 0);
	/* a report without a time ends the search */
	uint64_t s3[] = {1796576238, 0, 1796576240};
	assert_int_equal(mv_record_nearest_report(t, s3, 3), 0);
	uint64_t s4[] = {0, 1796576240};
	assert_int_equal(mv_record_nearest_report(t, s4, 2), 0);
	assert_int_equal(mv_record_nearest_report(t, s4, 0), 0);
}

/*
 * record's -o is renamed into place with its series beside it: a FIFO
 * (as a device would be, -o /dev/null as root) is refused before
 * anything is recorded, one line, exit 2, and stays what it was.
 */
/* memvisor record of the test driver for 1 s into out: its exit status,
 * stderr in err. */
static int record_to(const char *out, char *err, size_t n)
{
	char args[1024];
	snprintf(args, sizeof args,
		 "record -c test:///default --duration 1s --interval 500ms "
		 "-o %s",
		 out);
	return memvisor(args, err, n);
}

static void test_record_never_replaces_what_is_not_a_regular_file(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvrecfifo");
	char err[1024], path[600];
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(record_to(path, err, sizeof err), 2);
	assert_non_null(strstr(err, "--output"));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(lines_in(err), 1);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	snprintf(path, sizeof path, "%s/fifo-host.csv", dir);
	assert_int_equal(access(path, F_OK), -1);
	mvt_rmdir(dir);
}

/* dir/name holds "theirs\n", as the test wrote it. */
static void assert_theirs(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	size_t n = 0;
	char *s = mvt_slurp(path, &n);
	assert_non_null(s);
	assert_string_equal(s, "theirs\n");
	free(s);
}

/* Entries of dir, "." and ".." left out. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/*
 * The scenario and its series appear all or none (report/outset.c): a
 * series that cannot be written (its name is a directory) fails the run
 * with nothing written, not the host's series alone; and each file goes
 * through a temporary name of its own, so FILE.tmp, someone else's,
 * stays as it was, and none is left behind.
 */
static void test_record_writes_all_its_files_or_none(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvrecset");
	char out[600], err[1024], path[600];
	snprintf(out, sizeof out, "%s/host.xml", dir);
	snprintf(path, sizeof path, "%s/host.xml.tmp", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("theirs\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/host-test.csv", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(record_to(out, err, sizeof err), 1);
	assert_non_null(strstr(err, "host-test.csv"));
	assert_int_equal(lines_in(err), 1);
	assert_int_equal(entries(dir), 2); /* host.xml.tmp, host-test.csv */
	assert_theirs(dir, "host.xml.tmp");
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(record_to(out, err, sizeof err), 0);
	/* host.xml, its two series and host.xml.tmp, as it was */
	assert_int_equal(entries(dir), 4);
	assert_theirs(dir, "host.xml.tmp");
	snprintf(path, sizeof path, "%s/host-host.csv", dir);
	assert_int_equal(access(path, F_OK), 0);
	struct mv_scenario *sc = NULL;
	struct mv_error e = {0};
	mvt_ok(mv_scenario_load(out, &sc, &e), &e, "load host.xml");
	assert_int_equal(sc->nvms, 1);
	mv_scenario_free(sc);
	mvt_rm_tree(dir);
	free(dir);
}

/* The first data row's "Memory usage [KB]" of a recorded series. */
static double first_usage_kib(const char *csv)
{
	const char *row = strchr(csv, '\n');
	assert_non_null(row);
	const char *f = strchr(row + 1, ';'); /* provisioned */
	assert_non_null(f);
	f = strchr(f + 1, ';'); /* usage */
	assert_non_null(f);
	return strtod(f + 1, NULL);
}

static void test_record_takes_the_rate_from_the_agents_log(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvreclog");
	char args[1024], err[1024], path[600], log[600];
	/* the agent's log: the test guest's periods measured 25% and 35%
	 * of its 8 GiB accessed; a line without "accessed" (a period still
	 * running), another guest's, an event line and a line cut short
	 * (the agent still writing) do not count */
	snprintf(log, sizeof log, "%s/agent.jsonl", dir);
	FILE *f = fopen(log, "w");
	assert_non_null(f);
	const char *u = "6695eb01-f6a4-8304-79aa-97f2502e193f";
	fprintf(f,
		"{\"t\":1.0,\"interval\":1,\"event\":\"guest-appeared\","
		"\"guest\":\"test\",\"message\":\"x\"}\n"
		"{\"t\":1.0,\"guest\":\"test\",\"uuid\":\"%s\","
		"\"accessed\":null}\n"
		"{\"t\":2.0,\"guest\":\"test\",\"uuid\":\"%s\","
		"\"accessed\":0.25}\n"
		"{\"t\":2.0,\"guest\":\"other\",\"uuid\":\"00000000-0000-0000-"
		"0000-000000000000\",\"accessed\":0.9}\n"
		"{\"t\":3.0,\"guest\":\"test\",\"uuid\":\"%s\","
		"\"accessed\":0.35}\n"
		"{\"t\":4.0,\"guest\":\"test\",\"uuid\":\"%s\",\"accessed\":0."
		"9",
		u, u, u, u);
	fclose(f);
	snprintf(args, sizeof args,
		 "record -c test:///default --duration 1s --interval 500ms "
		 "--sample-period 5s --agent-log %s -o %s/host.xml",
		 log, dir);
	assert_int_equal(memvisor(args, err, sizeof err), 0);
	size_t n = 0;
	snprintf(path, sizeof path, "%s/host-test.csv", dir);
	char *csv = mvt_slurp(path, &n);
	assert_non_null(csv);
	double set = first_usage_kib(csv) / 4; /* the test guest's use */
	free(csv);
	assert_true(set > 0);
	double acc[] = {0.25 * 8 * MV_GIB / MV_PAGE_SIZE,
			0.35 * 8 * MV_GIB / MV_PAGE_SIZE};
	double sets[] = {set, set};
	double r = mv_record_access_rate(acc, sets, 2, 5);
	assert_true(r > 1);
	char want[64];
	snprintf(want, sizeof want, "rate=\"%.0f\"", r);
	snprintf(path, sizeof path, "%s/host.xml", dir);
	char *xml = mvt_slurp(path, &n);
	assert_non_null(xml);
	assert_non_null(strstr(xml, want));
	assert_non_null(strstr(xml, "fitted to 2 sampling periods"));
	free(xml);
	/* without the log, nothing measured (the test driver has no QEMU):
	 * the agent's fallback, all of the use active every period */
	snprintf(args, sizeof args,
		 "record -c test:///default --duration 1s --interval 500ms "
		 "--sample-period 5s -o %s/self.xml",
		 dir);
	assert_int_equal(memvisor(args, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/self.xml", dir);
	xml = mvt_slurp(path, &n);
	assert_non_null(xml);
	snprintf(want, sizeof want, "rate=\"%.0f\"", set * log1p(set) / 5);
	assert_non_null(strstr(xml, want));
	assert_non_null(strstr(xml, "no accessed bits measured"));
	free(xml);
	/* a log that cannot be read: one line, exit 1, no scenario */
	snprintf(args, sizeof args,
		 "record -c test:///default --duration 1s --interval 500ms "
		 "--agent-log %s/nosuch.jsonl -o %s/none.xml",
		 dir, dir);
	assert_int_equal(memvisor(args, err, sizeof err), 1);
	assert_non_null(strstr(err, "--agent-log"));
	assert_non_null(strstr(err, "nosuch.jsonl"));
	assert_int_equal(lines_in(err), 1);
	snprintf(path, sizeof path, "%s/none.xml", dir);
	assert_int_equal(access(path, F_OK), -1);
	mvt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_list_and_read_the_test_driver),
		cmocka_unit_test(test_shares_and_memtune_come_from_the_domain),
		cmocka_unit_test(
			test_dry_run_changes_nothing_and_the_real_run_does),
		cmocka_unit_test(
			test_guests_appearing_leaving_and_restarting_are_logged),
		cmocka_unit_test(test_ksm_is_tuned_and_restored),
		cmocka_unit_test(
			test_bad_uri_and_bad_options_exit_2_with_one_line),
		cmocka_unit_test(test_record_writes_a_scenario_run_can_load),
		cmocka_unit_test(test_record_writes_all_its_files_or_none),
		cmocka_unit_test(test_record_use_is_of_one_stats_snapshot),
		cmocka_unit_test(
			test_record_access_rate_gives_back_what_was_measured),
		cmocka_unit_test(
			test_record_takes_the_rate_from_the_agents_log),
		cmocka_unit_test(
			test_record_sampling_phase_follows_the_measured_periods),
		cmocka_unit_test(test_record_takes_use_from_the_nearest_report),
		cmocka_unit_test(
			test_record_never_replaces_what_is_not_a_regular_file),
		cmocka_unit_test(
			test_record_skips_stats_reports_from_before_the_start),
		cmocka_unit_test(test_two_hundred_guests_cost),
		cmocka_unit_test(test_top_screen_runs_and_the_summary_follows),
		cmocka_unit_test(test_agent_reconnects_when_libvirtd_restarts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
