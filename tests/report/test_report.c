/*
 * test_report.c - the text and JSON reports of a real (small) run.
 *
 * A simulator is built from a scenario string and run; the reports are
 * written to memory (open_memstream) and checked: the text names every VM
 * and shows configured sizes, the free-memory-over-time table has at most
 * 20 rows including the first and last sample, the JSON is valid and its
 * counts agree with the simulator's own (page states add up to the
 * configured size at every sample, totals are sums), strings are escaped,
 * and the only difference between two identical runs is the measured
 * figures on the wall-clock line. A second scenario overcommits a small
 * host enough that every reclamation mechanism works, and checks that the
 * reclamation figures agree with the page states and with each other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvjson.h"
#include "support/mvtest.h"

static const char scenario_xml[] =
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

/*
 * 144 MiB of VMs on a 64 MiB host: identical OS images (the default guest)
 * for page sharing, and 20 MiB working sets that do not fit beside them.
 * Two VMs have a balloon driver; the third has none, so the policy must
 * compress and swap it: every mechanism works in this run.
 */
static const char reclaim_xml[] =
	"<scenario name=\"r\" seed=\"11\" duration=\"8s\" step=\"10ms\" "
	"stats-interval=\"1s\">\n"
	"  <host><memory unit=\"MiB\">64</memory>\n"
	"    <sharing enabled=\"yes\" pages-to-scan=\"100\" sleep=\"20ms\"/>\n"
	"    <compression enabled=\"yes\" cache=\"10%\"/>\n"
	"    <balloon max=\"65%\"/>\n"
	"    <reclaim enabled=\"yes\" period=\"1s\"/>\n"
	"  </host>\n"
	"  <vm count=\"2\">\n"
	"    <domain type=\"kvm\"><name>vm</name><memory "
	"unit=\"MiB\">48</memory></domain>\n"
	"    <workload kind=\"steady\" size=\"20MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\" content=\"data\"/>\n"
	"  </vm>\n"
	"  <vm>\n"
	"    <domain type=\"kvm\"><name>noballoon</name><memory "
	"unit=\"MiB\">48</memory>\n"
	"      <devices><memballoon model=\"none\"/></devices></domain>\n"
	"    <workload kind=\"steady\" size=\"20MiB\" rate=\"20k\" "
	"write-ratio=\"0.3\" content=\"data\"/>\n"
	"  </vm>\n"
	"</scenario>\n";

/* Build and run a simulator from xml; stats_interval_ns overrides if != 0. */
static struct mv_sim *run_sim(const char *xml, uint64_t stats_interval_ns)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "test.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	if (stats_interval_ns)
		sc->stats_interval_ns = stats_interval_ns;
	struct mv_sim *sim = NULL;
	mvt_ok(mv_sim_create(sc, 0, &sim, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(sim, NULL, NULL, &err), &err, "mv_sim_run");
	return sim;
}

typedef int (*report_fn)(FILE *, const struct mv_sim *);

static char *report(report_fn fn, const struct mv_sim *sim, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(fn(f, sim), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

static struct mvj *json_of(const struct mv_sim *sim)
{
	size_t n;
	char *text = report(mv_report_json, sim, &n);
	char err[256];
	struct mvj *doc = mvj_parse(text, n, err, sizeof err);
	if (!doc)
		fail_msg("invalid JSON: %s\n%s", err, text);
	free(text);
	return doc;
}

/* Lines of text starting with prefix. */
static int count_prefixed_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

static void test_text_report_names_every_vm_and_its_size(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(scenario_xml, 0);
	char *text = report(mv_report_text, sim, NULL);
	assert_int_equal(sim->nvms, 2);
	for (int i = 0; i < sim->nvms; i++) {
		char row[80];
		/* Each table has one row per VM, starting with its name. */
		snprintf(row, sizeof row, "\n  %s ", sim->vm[i]->cfg.name);
		int rows = 0;
		for (const char *p = text; (p = strstr(p, row)) != NULL; p++)
			rows++;
		if (rows < 4)
			fail_msg("VM %s has %d table rows in:\n%s",
				 sim->vm[i]->cfg.name, rows, text);
	}
	assert_non_null(strstr(text, "48.0"));
	assert_non_null(strstr(text, "96.0 MiB configured in 2 VMs"));
	assert_non_null(strstr(text, "overcommit 1.50:1"));
	assert_non_null(strstr(text, "scenario     t"));
	assert_non_null(strstr(text, "seed         7"));
	/* measured figures are not in the report (mv_report_measured) */
	assert_int_equal(count_prefixed_lines(text, "wall:"), 0);
	assert_non_null(strstr(text, "Free memory over time"));
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++) {
		char line[32];
		snprintf(line, sizeof line, "\n  %-6s ",
			 mv_memstate_name((enum mv_memstate)k));
		assert_non_null(strstr(text, line));
	}
	free(text);
	mv_sim_destroy(sim);
}

static void
test_free_memory_table_has_at_most_20_evenly_spaced_rows(void **state)
{
	(void)state;
	/* 100 ms stats over 5 s: 51 samples, more than the table shows. */
	struct mv_sim *sim = run_sim(scenario_xml, 100 * MV_NS_PER_MS);
	assert_true(sim->nsamples > 20);
	char *text = report(mv_report_text, sim, NULL);
	const char *tab = strstr(text, "Free memory over time");
	assert_non_null(tab);
	tab = strchr(strchr(tab, '\n') + 1, '\n') + 1; /* skip the heading */
	int rows = 0;
	double first = -1, last = -1, second = -1, prev = -1, gap = -1;
	for (const char *p = tab; *p;) {
		double t;
		if (sscanf(p, " %lf", &t) != 1)
			break;
		if (rows == 0)
			first = t;
		if (rows == 1)
			second = t;
		if (rows >= 2) /* rows a whole number of intervals apart */
			gap = t - prev;
		prev = t;
		last = t;
		rows++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	/* 51 samples: 0, 3, ..., 48 (0.3 s apart), then the last: 18 rows */
	assert_int_equal(rows, 18);
	assert_true(second - first > 0.299 && second - first < 0.301);
	assert_true(gap > 0 && gap < 0.301);
	assert_true(first == (double)sim->samples[0].t_ns / 1e9);
	assert_true(last == (double)sim->samples[sim->nsamples - 1].t_ns / 1e9);
	free(text);
	mv_sim_destroy(sim);
}

static uint64_t state_sum(const struct mvj *states)
{
	assert_non_null(states);
	assert_int_equal(states->type, MVJ_OBJECT);
	assert_int_equal(states->n, MV_PS_COUNT);
	uint64_t sum = 0;
	for (size_t k = 0; k < states->n; k++) {
		assert_true(states->item[k]->is_uint);
		sum += states->item[k]->uint;
	}
	return sum;
}

static void test_json_page_states_add_up_to_configured_size(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(scenario_xml, 0);
	struct mvj *doc = json_of(sim);
	const uint64_t pages48 = 48 * MV_MIB / MV_PAGE_SIZE;

	assert_string_equal(mvj_get(doc, "schema")->string, "memvisor-run/1");
	const struct mvj *vms = mvj_get(doc, "vms");
	assert_non_null(vms);
	assert_int_equal(vms->n, 2);
	for (size_t i = 0; i < vms->n; i++) {
		const struct mvj *vm = vms->item[i];
		assert_string_equal(mvj_get(vm, "name")->string,
				    sim->vm[i]->cfg.name);
		assert_int_equal(mvj_uint(vm, "config.configured_pages"),
				 pages48);
		assert_int_equal(mvj_uint(vm, "config.configured_bytes"),
				 48 * MV_MIB);
		assert_int_equal(state_sum(mvj_path(vm, "final.state_pages")),
				 pages48);
		/* Bytes are pages times the page size, field by field. */
		const struct mvj *sp = mvj_path(vm, "final.state_pages");
		const struct mvj *sb = mvj_path(vm, "final.state_bytes");
		for (size_t k = 0; k < sp->n; k++)
			assert_int_equal(sb->item[k]->uint,
					 sp->item[k]->uint * MV_PAGE_SIZE);
		/* The final figures are the last sample's. */
		const struct mv_sample_vm
			*last = &sim->samples[sim->nsamples - 1].vm[i];
		assert_int_equal(mvj_uint(vm, "final.granted_pages"),
				 last->granted);
		assert_int_equal(mvj_uint(vm, "final.faults.zero_fill"),
				 last->faults[MV_FAULT_ZERO_FILL]);
		assert_int_equal(mvj_uint(vm, "final.accesses_done"),
				 last->done);
		assert_int_equal(mvj_uint(vm, "final.stall_ns"),
				 last->stall_ns);
	}

	const struct mvj *series = mvj_get(doc, "series");
	assert_non_null(series);
	assert_int_equal(series->n, (size_t)sim->nsamples);
	for (size_t k = 0; k < series->n; k++) {
		const struct mvj *sm = series->item[k];
		assert_int_equal(mvj_uint(sm, "t_ns"), sim->samples[k].t_ns);
		assert_int_equal(mvj_uint(sm, "host_free_pages"),
				 sim->samples[k].host_free);
		const struct mvj *svms = mvj_get(sm, "vms");
		assert_int_equal(svms->n, 2);
		for (size_t i = 0; i < svms->n; i++)
			assert_int_equal(state_sum(mvj_get(svms->item[i],
							   "state_pages")),
					 pages48);
	}

	/* Totals are sums over the VMs. */
	uint64_t granted = 0;
	for (size_t i = 0; i < vms->n; i++)
		granted += mvj_uint(vms->item[i], "final.granted_bytes");
	assert_int_equal(mvj_uint(doc, "totals.granted_bytes"), granted);
	uint64_t saved = 0;
	for (size_t i = 0; i < vms->n; i++)
		saved += mvj_uint(vms->item[i], "final.shared_saved_bytes");
	assert_true(saved > 0); /* zero pages at least */
	assert_int_equal(mvj_uint(doc, "totals.shared_saved_bytes"), saved);
	assert_int_equal(mvj_uint(doc, "totals.configured_pages"), 2 * pages48);
	assert_int_equal(mvj_uint(doc, "run.configured_bytes"), 96 * MV_MIB);
	assert_true(mvj_uint(doc, "host.free.min_pages") <=
		    mvj_uint(doc, "host.free.final_pages"));

	/* Time in each free-memory state adds up to the simulated time. */
	const struct mvj *st = mvj_path(doc, "host.free.state_ns");
	assert_int_equal(st->n, MV_MEMSTATE_COUNT);
	uint64_t t = 0;
	for (size_t k = 0; k < st->n; k++)
		t += st->item[k]->uint;
	assert_int_equal(t, mvj_uint(doc, "run.simulated_ns"));

	mvj_free(doc);
	mv_sim_destroy(sim);
}

static void test_json_escapes_quotes_backslashes_and_control_bytes(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(scenario_xml, 0);
	/* Names come from files users write: anything can be in them. */
	snprintf(sim->sc->name, sizeof sim->sc->name,
		 "a\"b\\c\td\n\x01\x7f \xc3\xa9 \xff end");
	struct mvj *doc = json_of(sim);
	const struct mvj *name = mvj_path(doc, "scenario.name");
	assert_non_null(name);
	/* Valid UTF-8 passes through; an invalid byte becomes U+FFFD. */
	assert_string_equal(name->string,
			    "a\"b\\c\td\n\x01\x7f \xc3\xa9 \xef\xbf\xbd end");
	mvj_free(doc);
	mv_sim_destroy(sim);
}

/* Pretend the measured figures of a run were these. */
static void set_measured(struct mv_sim *sim, double wall_s, uint64_t cpu_ns)
{
	sim->wall_s = wall_s;
	sim->samples[sim->nsamples - 1].share.cpu_ns = cpu_ns;
}

static void test_reports_differ_only_in_the_wall_clock(void **state)
{
	(void)state;
	struct mv_sim *a = run_sim(scenario_xml, 0);
	struct mv_sim *b = run_sim(scenario_xml, 0);
	set_measured(a, 1.25, 12345678);
	set_measured(b, 1.25, 12345678);
	char *ja = report(mv_report_json, a, NULL);
	char *jb = report(mv_report_json, b, NULL);
	assert_string_equal(ja, jb);
	assert_non_null(strstr(
		ja, "\n  \"wall_s\": 1.25, \"sharing_cpu_ns\": 12345678,\n"));
	char *ta = report(mv_report_text, a, NULL);
	char *tb = report(mv_report_text, b, NULL);
	assert_string_equal(ta, tb);
	assert_null(strstr(ta, "wall"));
	free(ta);
	ta = report(mv_report_measured, a, NULL);
	assert_string_equal(
		ta, "wall: 1.250 s; sharing scanner measured CPU 12.3 ms\n");
	free(ja);
	free(jb);
	free(ta);
	free(tb);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* text without the lines that contain needle; owned by the caller. */
static char *without_lines(const char *text, const char *needle)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	assert_non_null(out);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text + 1) : strlen(text);
		const char *hit = strstr(text, needle);
		if (!hit || hit >= text + len) {
			memcpy(o, text, len);
			o += len;
		}
		text += len;
	}
	*o = '\0';
	return out;
}

static void test_measured_figures_are_only_on_the_wall_line(void **state)
{
	(void)state;
	/* Two real runs: their measured figures differ, nothing else does. */
	struct mv_sim *a = run_sim(reclaim_xml, 0);
	struct mv_sim *b = run_sim(reclaim_xml, 0);
	char *ja = report(mv_report_json, a, NULL);
	char *jb = report(mv_report_json, b, NULL);
	char *sa = without_lines(ja, "\"wall_s\"");
	char *sb = without_lines(jb, "\"wall_s\"");
	assert_string_equal(sa, sb);
	/* One line dropped, holding both figures; the rest is still JSON. */
	const char *line = strstr(ja, "\n  \"wall_s\": ");
	assert_non_null(line);
	const char *eol = strchr(line + 1, '\n');
	const char *cpu = strstr(ja, "\"sharing_cpu_ns\": ");
	assert_true(cpu > line && cpu < eol);
	assert_int_equal(strlen(ja) - strlen(sa), (size_t)(eol - line));
	assert_null(strstr(sa, "\"cpu_ns\""));
	assert_null(strstr(sa, "\"sharing_cpu_ns\""));
	char err[256];
	struct mvj *doc = mvj_parse(sa, strlen(sa), err, sizeof err);
	if (!doc)
		fail_msg("JSON without the wall line is invalid: %s", err);
	mvj_free(doc);

	/* The text report has no measured figure: two runs, same bytes. */
	char *ta = report(mv_report_text, a, NULL);
	char *tb = report(mv_report_text, b, NULL);
	assert_string_equal(ta, tb);
	assert_null(strstr(ta, "measured"));
	assert_int_equal(count_prefixed_lines(ta, "wall: "), 0);
	/* They are on their own line, apart (`run --timing`). */
	char *ua = report(mv_report_measured, a, NULL);
	char *ub = report(mv_report_measured, b, NULL);
	assert_int_equal(count_prefixed_lines(ua, "wall: "), 1);
	assert_non_null(strstr(ua, "; sharing scanner measured CPU "));
	assert_non_null(strchr(ua, '\n'));
	assert_string_equal(strchr(ua, '\n'), "\n");
	free(ja);
	free(jb);
	free(sa);
	free(sb);
	free(ta);
	free(tb);
	free(ua);
	free(ub);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* A cumulative counter at path never goes down from sample to sample. */
static void assert_not_decreasing(const struct mvj *prev, const struct mvj *cur,
				  const char *path)
{
	uint64_t p = mvj_uint(prev, path), c = mvj_uint(cur, path);
	assert_true(p != UINT64_MAX && c != UINT64_MAX);
	if (c < p)
		fail_msg("%s went down from %llu to %llu", path,
			 (unsigned long long)p, (unsigned long long)c);
}

/* Checks every VM-figures object must pass, wherever it appears. */
static void check_vm_reclaim_figures(const struct mvj *v, uint64_t configured)
{
	assert_int_equal(state_sum(mvj_get(v, "state_pages")), configured);
	uint64_t swapped = mvj_uint(v, "state_pages.swapped");
	uint64_t compressed = mvj_uint(v, "state_pages.compressed");
	/* Every swapped page has a slot, every compressed one a cache entry. */
	assert_int_equal(mvj_uint(v, "swap.used"), swapped);
	assert_true(mvj_uint(v, "swap.used") <= mvj_uint(v, "swap.slots"));
	assert_int_equal(mvj_uint(v, "zcache.pages"), compressed);
	uint64_t frames = mvj_uint(v, "zcache.frames");
	assert_true(frames <= mvj_uint(v, "zcache.capacity_frames"));
	assert_true(mvj_uint(v, "zcache.bytes") <= frames * MV_PAGE_SIZE);
	/* Two compressed pages at most per frame (2 KiB halves). */
	assert_true(compressed <= 2 * frames);
	/* The balloon's pages are ballooned in the pmap (and maybe more). */
	assert_true(mvj_uint(v, "guest.balloon_pages") <=
		    mvj_uint(v, "state_pages.ballooned"));
	assert_int_equal(mvj_uint(v, "balloon_target_bytes"),
			 mvj_uint(v, "balloon_target_pages") * MV_PAGE_SIZE);
	assert_int_equal(mvj_uint(v, "reclaim_wanted_bytes"),
			 mvj_uint(v, "reclaim_wanted_pages") * MV_PAGE_SIZE);
	/* Rejected and evicted pages went to the swap file. */
	assert_true(mvj_uint(v, "zcache.evicted") +
			    mvj_uint(v, "zcache.rejected") <=
		    mvj_uint(v, "swap.writes"));
}

static const char *const cumulative_vm[] = {
	"zcache.compressed", "zcache.decompressed", "zcache.rejected",
	"zcache.evicted",    "swap.writes",         "swap.reads",
	"swap.write_errors", "swap.read_errors",
};
static const char *const cumulative_sharing[] = {
	"sharing.full_scans",      "sharing.pages_scanned",
	"sharing.hash_collisions", "sharing.merges",
	"sharing.sim_cpu_ns",
};

static void test_json_reclaim_figures_agree_with_page_states(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(reclaim_xml, 0);
	struct mvj *doc = json_of(sim);
	const uint64_t pages48 = 48 * MV_MIB / MV_PAGE_SIZE;
	assert_int_equal(sim->nvms, 3);
	const uint64_t cost = mvj_uint(doc,
				       "host.reclaim.sharing.page_cost_ns");
	assert_int_equal(cost, sim->sc->reclaim.share.page_cost_ns);

	const struct mvj *series = mvj_get(doc, "series");
	assert_int_equal(series->n, (size_t)sim->nsamples);
	for (size_t k = 0; k < series->n; k++) {
		const struct mvj *sm = series->item[k];
		const struct mv_sample *s = &sim->samples[k];
		const struct mvj *sh = mvj_get(sm, "sharing");
		assert_non_null(sh);
		assert_null(mvj_get(sh, "cpu_ns"));
		assert_int_equal(mvj_uint(sh, "pages_sharing"),
				 s->share.pages_sharing);
		assert_int_equal(mvj_uint(sh, "zero_pages"),
				 s->share.zero_pages);
		assert_int_equal(mvj_uint(sh, "sim_cpu_ns"),
				 mvj_uint(sh, "pages_scanned") * cost);
		const struct mvj *vms = mvj_get(sm, "vms");
		assert_int_equal(vms->n, 3);
		/* Every guest page in the shared state maps a sharing frame,
		 * and every sharing frame is mapped (KSM's pages_shared +
		 * pages_sharing). A frame whose other sharers left is mapped
		 * once until written (as a KSM page), so pages_sharing may
		 * fall below pages_shared. */
		uint64_t mapped = 0;
		for (size_t i = 0; i < vms->n; i++)
			mapped += mvj_uint(vms->item[i], "state_pages.shared");
		assert_int_equal(mvj_uint(sh, "pages_shared") +
					 mvj_uint(sh, "pages_sharing"),
				 mapped);
		for (size_t i = 0; i < vms->n; i++) {
			const struct mvj *v = vms->item[i];
			check_vm_reclaim_figures(v, pages48);
			assert_int_equal(mvj_uint(v, "zcache.compressed"),
					 s->vm[i].zcache.compressed);
			assert_int_equal(mvj_uint(v, "swap.writes"),
					 s->vm[i].swap.writes);
			assert_int_equal(mvj_uint(v, "balloon_target_pages"),
					 s->vm[i].balloon_target);
			assert_int_equal(mvj_uint(v, "reclaim_wanted_pages"),
					 s->vm[i].reclaim_wanted);
			if (k == 0)
				continue;
			const struct mvj *pv =
				mvj_get(series->item[k - 1], "vms")->item[i];
			for (size_t c = 0; c < 8; c++)
				assert_not_decreasing(pv, v, cumulative_vm[c]);
		}
		if (k > 0)
			for (size_t c = 0; c < 5; c++)
				assert_not_decreasing(series->item[k - 1], sm,
						      cumulative_sharing[c]);
	}

	/* The final figures: the last sample's, and totals are sums. */
	const struct mvj *vms = mvj_get(doc, "vms");
	const struct mvj *last = series->item[series->n - 1];
	uint64_t zip = 0, sww = 0, target = 0, ballooned = 0;
	for (size_t i = 0; i < vms->n; i++) {
		const struct mvj *f = mvj_path(vms->item[i], "final");
		check_vm_reclaim_figures(f, pages48);
		zip += mvj_uint(f, "zcache.compressed");
		sww += mvj_uint(f, "swap.writes");
		target += mvj_uint(f, "balloon_target_pages");
		ballooned += mvj_uint(f, "guest.balloon_pages");
	}
	assert_int_equal(mvj_uint(doc, "totals.zcache.compressed"), zip);
	assert_int_equal(mvj_uint(doc, "totals.swap.writes"), sww);
	assert_int_equal(mvj_uint(doc, "totals.balloon_target_pages"), target);
	assert_int_equal(mvj_uint(doc, "totals.guest.balloon_pages"),
			 ballooned);
	check_vm_reclaim_figures(mvj_get(doc, "totals"), 3 * pages48);

	/* Every mechanism worked: else the checks above prove little. If the
	 * policy changes so that one does not, make the scenario harsher. */
	if (ballooned == 0 || zip == 0 || sww == 0)
		fail_msg("scenario no longer reclaims by every mechanism: "
			 "balloon %llu, compressed %llu, swapped %llu pages",
			 (unsigned long long)ballooned, (unsigned long long)zip,
			 (unsigned long long)sww);

	/* Host sharing: the last sample's, and what it saves. */
	const struct mvj *sh = mvj_path(doc, "host.sharing");
	uint64_t sharing = mvj_uint(sh, "pages_sharing");
	assert_int_equal(sharing, mvj_uint(last, "sharing.pages_sharing"));
	assert_int_equal(mvj_uint(sh, "pages_scanned"),
			 mvj_uint(last, "sharing.pages_scanned"));
	/* Three VMs boot the same OS image: sharing finds it (the balloons
	 * may take the two ballooning guests' copies later on) */
	uint64_t most = 0;
	for (size_t k = 0; k < series->n; k++) {
		uint64_t x = mvj_uint(series->item[k], "sharing.pages_sharing");
		most = x > most ? x : most;
	}
	assert_true(most > 0);
	assert_true(mvj_uint(sh, "merges") > 0);
	uint64_t saved = sharing + mvj_uint(sh, "zero_pages");
	assert_int_equal(mvj_uint(doc, "host.sharing_saved_pages"), saved);
	assert_int_equal(mvj_uint(doc, "host.sharing_saved_bytes"),
			 saved * MV_PAGE_SIZE);
	const struct mvj *frac = mvj_path(doc, "host.sharing_sim_cpu_fraction");
	assert_non_null(frac);
	assert_true(frac->number > 0 && frac->number < 1);

	assert_int_equal(mvj_uint(doc, "io_errors"), 0);
	assert_string_equal(mvj_get(doc, "last_io_error")->string, "");
	assert_true(mvj_get(doc, "sharing_cpu_ns")->is_uint);
	assert_true(mvj_path(doc, "host.reclaim.enabled")->boolean);

	mvj_free(doc);
	mv_sim_destroy(sim);
}

/* The numbers of the table row starting with "  name ", under title. */
static int table_row_u64(const char *text, const char *title, const char *name,
			 uint64_t *v, int n)
{
	const char *p = strstr(text, title);
	assert_non_null(p);
	char row[80];
	snprintf(row, sizeof row, "\n  %s ", name);
	p = strstr(p, row);
	assert_non_null(p);
	p += strlen(row);
	int got = 0;
	while (got < n) {
		char *end;
		unsigned long long x = strtoull(p, &end, 10);
		if (end == p || (*end != ' ' && *end != '\n'))
			break;
		v[got++] = x;
		p = end;
	}
	return got;
}

static void test_text_report_shows_reclamation_as_esxtop_does(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(reclaim_xml, 0);
	char *text = report(mv_report_text, sim, NULL);
	static const char *const expect[] = {
		"\nVM reclamation (MiB",
		"MCTLSZ",
		"MCTLTGT",
		"COMPRESSED",
		"CACHESZ",
		"CACHEUSD",
		"SWCUR",
		"SHRDSVD",
		"\nVM reclamation activity",
		" ZIP ",
		" UNZIP ",
		" REJECT ",
		" EVICT ",
		" SWW ",
		" SWR ",
		"ZIP/s",
		"UNZIP/s",
		"SWW/s",
		"SWR/s",
		"\nHost page sharing (",
		"\n  pages_shared ",
		"\n  pages_sharing ",
		"\n  pages_unshared ",
		"\n  pages_volatile ",
		"\n  volatile_seen ",
		"\n  zero_pages ",
		"\n  full_scans ",
		"\n  pages_scanned ",
		"\n  merges ",
		"\n  hash_collisions ",
		"\n  memory saved ",
		"\n  scanner CPU ",
		"\n  reclaim      policy every 1 s",
		"\n  sharing      100 pages every 20 ms",
	};
	for (size_t k = 0; k < sizeof expect / sizeof expect[0]; k++)
		if (!strstr(text, expect[k]))
			fail_msg("no '%s' in:\n%s", expect[k], text);
	assert_null(strstr(text, "swap I/O errors"));

	/* Every table keeps its TOTAL row; nothing is wider than 100. */
	assert_true(count_prefixed_lines(text, "  TOTAL ") >= 7);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 100)
			fail_msg("line of %zu columns: %.*s", len, (int)len, p);
		p += len + (nl != NULL);
	}

	/* The activity TOTAL row is the sum of the VMs' counters. */
	const struct mv_sample *last = &sim->samples[sim->nsamples - 1];
	uint64_t want[6] = {0}, got[6];
	for (int i = 0; i < sim->nvms; i++) {
		want[0] += last->vm[i].zcache.compressed;
		want[1] += last->vm[i].zcache.decompressed;
		want[2] += last->vm[i].zcache.rejected;
		want[3] += last->vm[i].zcache.evicted;
		want[4] += last->vm[i].swap.writes;
		want[5] += last->vm[i].swap.reads;
	}
	assert_int_equal(table_row_u64(text, "\nVM reclamation activity",
				       "TOTAL", got, 6),
			 6);
	for (int c = 0; c < 6; c++)
		assert_int_equal(got[c], want[c]);

	/* Memory saved by sharing, as the JSON gives it, in MiB. */
	char line[128];
	snprintf(line, sizeof line, "\n  %-15s %12.1f  MiB", "memory saved",
		 (double)(last->share.pages_sharing + last->share.zero_pages) *
			 MV_PAGE_SIZE / (double)MV_MIB);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof line, "\n  %-15s %12llu  ", "pages_sharing",
		 (unsigned long long)last->share.pages_sharing);
	assert_non_null(strstr(text, line));
	free(text);
	mv_sim_destroy(sim);
}

static void test_swap_io_errors_are_reported_with_the_last_one(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(scenario_xml, 0);
	char *text = report(mv_report_text, sim, NULL);
	assert_null(strstr(text, "swap I/O errors"));
	free(text);

	sim->io_errors = 3;
	snprintf(sim->last_io_error, sizeof sim->last_io_error,
		 "/tmp/run/vm-1.vswp: swap: write: No space left on device");
	text = report(mv_report_text, sim, NULL);
	assert_non_null(strstr(text, "\nswap I/O errors: 3 on swap-out, 0 on "
				     "swap-in (nothing lost; last swap-out "
				     "error: /tmp/run/vm-1.vswp: swap: write: "
				     "No space left on device)\n"));
	free(text);
	/* a failed swap-in is counted by the VM and shown too */
	sim->vm[0]->ctr.page_in_errors = 2;
	sim->swap_full = 4;
	text = report(mv_report_text, sim, NULL);
	assert_non_null(strstr(text, "\nswap I/O errors: 3 on swap-out, 2 on "
				     "swap-in"));
	assert_non_null(strstr(text, "\nswap files full: 4 times"));
	free(text);
	struct mvj *doc = json_of(sim);
	assert_int_equal(mvj_uint(doc, "io_errors"), 3);
	assert_string_equal(mvj_get(doc, "last_io_error")->string,
			    sim->last_io_error);
	mvj_free(doc);
	mv_sim_destroy(sim);
}

static void test_sharing_off_shows_as_off_and_zero(void **state)
{
	(void)state;
	char xml[sizeof reclaim_xml + 16];
	const char *on = "<sharing enabled=\"yes\"";
	const char *at = strstr(reclaim_xml, on);
	assert_non_null(at);
	snprintf(xml, sizeof xml, "%.*s<sharing enabled=\"no\"%s",
		 (int)(at - reclaim_xml), reclaim_xml, at + strlen(on));
	struct mv_sim *sim = run_sim(xml, 0);
	char *text = report(mv_report_text, sim, NULL);
	assert_non_null(strstr(text, "\nHost page sharing: off\n"));
	assert_non_null(strstr(text, "\n  sharing      off\n"));
	assert_null(strstr(text, "sharing scanner measured CPU"));
	free(text);
	struct mvj *doc = json_of(sim);
	assert_false(mvj_path(doc, "host.reclaim.sharing.enabled")->boolean);
	assert_int_equal(mvj_uint(doc, "host.sharing.pages_scanned"), 0);
	assert_int_equal(mvj_uint(doc, "host.sharing_saved_pages"), 0);
	assert_int_equal(mvj_uint(doc, "sharing_cpu_ns"), 0);
	mvj_free(doc);
	mv_sim_destroy(sim);
}

static void test_report_without_samples_reads_the_live_objects(void **state)
{
	(void)state;
	/* At the end of a run the live objects are where the last sample
	 * found them; a report built from them says the same. */
	struct mv_sim *sim = run_sim(reclaim_xml, 0);
	struct mvj *sampled = json_of(sim);
	int n = sim->nsamples;
	sim->nsamples = 0;
	struct mvj *live = json_of(sim);
	sim->nsamples = n;

	static const char *const same[] = {
		"state_pages.compressed",
		"state_pages.swapped",
		"state_pages.ballooned",
		"balloon_target_pages",
		"reclaim_wanted_pages",
		"zcache.capacity_frames",
		"zcache.frames",
		"zcache.pages",
		"zcache.compressed",
		"zcache.evicted",
		"swap.slots",
		"swap.used",
		"swap.writes",
		"swap.reads",
		"guest.balloon_pages",
	};
	for (int i = 0; i < sim->nvms; i++) {
		char path[96];
		for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
			snprintf(path, sizeof path, "vms.%d.final.%s", i,
				 same[k]);
			assert_int_equal(mvj_uint(live, path),
					 mvj_uint(sampled, path));
		}
	}
	assert_int_equal(mvj_uint(live, "host.sharing.pages_sharing"),
			 mvj_uint(sampled, "host.sharing.pages_sharing"));
	assert_int_equal(mvj_uint(live, "host.sharing.pages_scanned"),
			 mvj_uint(sampled, "host.sharing.pages_scanned"));
	mvj_free(sampled);
	mvj_free(live);
	mv_sim_destroy(sim);
}

static void test_report_write_error_is_reported(void **state)
{
	(void)state;
	struct mv_sim *sim = run_sim(scenario_xml, 0);
	FILE *f = fopen("/dev/full", "w");
	if (!f) {
		mv_sim_destroy(sim);
		skip();
	}
	setvbuf(f, NULL, _IONBF, 0); /* fail on the first write */
	assert_int_equal(mv_report_text(f, sim), MV_EIO);
	clearerr(f);
	assert_int_equal(mv_report_json(f, sim), MV_EIO);
	fclose(f);
	mv_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_report_names_every_vm_and_its_size),
		cmocka_unit_test(
			test_free_memory_table_has_at_most_20_evenly_spaced_rows),
		cmocka_unit_test(
			test_json_page_states_add_up_to_configured_size),
		cmocka_unit_test(
			test_json_escapes_quotes_backslashes_and_control_bytes),
		cmocka_unit_test(test_reports_differ_only_in_the_wall_clock),
		cmocka_unit_test(
			test_measured_figures_are_only_on_the_wall_line),
		cmocka_unit_test(
			test_json_reclaim_figures_agree_with_page_states),
		cmocka_unit_test(
			test_text_report_shows_reclamation_as_esxtop_does),
		cmocka_unit_test(
			test_swap_io_errors_are_reported_with_the_last_one),
		cmocka_unit_test(test_sharing_off_shows_as_off_and_zero),
		cmocka_unit_test(
			test_report_without_samples_reads_the_live_objects),
		cmocka_unit_test(test_report_write_error_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
