/*
 * test_report.c - the text and JSON reports of a real (small) run.
 *
 * A simulator is built from a scenario string and run; the reports are
 * written to memory (open_memstream) and checked: the text names every VM
 * and shows configured sizes, the free-memory-over-time table has at most
 * 20 rows including the first and last sample, the JSON is valid and its
 * counts agree with the simulator's own (page states add up to the
 * configured size at every sample, totals are sums), strings are escaped,
 * and the only difference between two identical runs is the wall clock.
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
	assert_int_equal(count_prefixed_lines(text, "wall:"), 1);
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

static void test_free_memory_table_has_at_most_20_rows_first_and_last(
	void **state)
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
	double first = -1, last = -1;
	for (const char *p = tab; *p;) {
		double t;
		if (sscanf(p, " %lf", &t) != 1)
			break;
		if (rows == 0)
			first = t;
		last = t;
		rows++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	assert_int_equal(rows, 20);
	assert_true(first == (double)sim->samples[0].t_ns / 1e9);
	assert_true(last ==
		    (double)sim->samples[sim->nsamples - 1].t_ns / 1e9);
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
		assert_int_equal(mvj_uint(vm, "config.configured_pages"), pages48);
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
		const struct mv_sample_vm *last =
			&sim->samples[sim->nsamples - 1].vm[i];
		assert_int_equal(mvj_uint(vm, "final.granted_pages"),
				 last->granted);
		assert_int_equal(mvj_uint(vm, "final.faults.zero_fill"),
				 last->faults[MV_FAULT_ZERO_FILL]);
		assert_int_equal(mvj_uint(vm, "final.accesses_done"), last->done);
		assert_int_equal(mvj_uint(vm, "final.stall_ns"), last->stall_ns);
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
			assert_int_equal(
				state_sum(mvj_get(svms->item[i], "state_pages")),
				pages48);
	}

	/* Totals are sums over the VMs. */
	uint64_t granted = 0;
	for (size_t i = 0; i < vms->n; i++)
		granted += mvj_uint(vms->item[i], "final.granted_bytes");
	assert_int_equal(mvj_uint(doc, "totals.granted_bytes"), granted);
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

static void test_json_escapes_quotes_backslashes_and_control_bytes(
	void **state)
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

static void test_reports_differ_only_in_the_wall_clock(void **state)
{
	(void)state;
	struct mv_sim *a = run_sim(scenario_xml, 0);
	struct mv_sim *b = run_sim(scenario_xml, 0);
	a->wall_s = 1.25;
	b->wall_s = 1.25;
	char *ja = report(mv_report_json, a, NULL);
	char *jb = report(mv_report_json, b, NULL);
	assert_string_equal(ja, jb);
	assert_non_null(strstr(ja, "\n  \"wall_s\": 1.25,\n"));
	char *ta = report(mv_report_text, a, NULL);
	char *tb = report(mv_report_text, b, NULL);
	assert_string_equal(ta, tb);
	assert_non_null(strstr(ta, "\nwall: 1.250 s\n"));
	free(ja);
	free(jb);
	free(ta);
	free(tb);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
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
			test_free_memory_table_has_at_most_20_rows_first_and_last),
		cmocka_unit_test(test_json_page_states_add_up_to_configured_size),
		cmocka_unit_test(
			test_json_escapes_quotes_backslashes_and_control_bytes),
		cmocka_unit_test(test_reports_differ_only_in_the_wall_clock),
		cmocka_unit_test(test_report_write_error_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
