/*
 * The allocation policy end to end in the simulator: Waldspurger's idle
 * memory tax experiment (OSDI 2002, section 5.4, figure 7), scaled down
 * from examples/paper/idle-tax.xml, and admission control.
 *
 * Two VMs with equal shares on a host that cannot hold both: one idle
 * after touching its memory, one running a working set bigger than half
 * the host. The paper: with a tax of 0% both converge to the same
 * allocation; raising the tax to 75% moves memory from the idle VM to the
 * active one. And its definition: the tax rate is the largest fraction of
 * a VM's idle pages that may be reclaimed from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

/* 96 MiB host, two 64 MiB VMs; "idle" touches 44 MiB and rests, "busy"
 * wants 56 MiB plus its OS image. The tax sees the sampled active set:
 * sampled every 2 s instead of ESX's 30 s, so that the idle VM's estimate
 * decays within the scaled-down run. */
static const char
	*fmt = "<scenario name='idle-tax' seed='5' duration='40s' step='10ms' "
	       "stats-interval='5s' active-window='4s'>"
	       " <host><memory unit='MiB'>96</memory><sharing enabled='no'/>"
	       "  <idle-tax rate='%s'/><sampling period='2s'/></host>"
	       " <vm><domain type='kvm'><name>idle</name><memory "
	       "unit='MiB'>64</memory>"
	       "  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	       "   <mv:guest os='windows' image='win2000' image-size='4MiB' "
	       "balloon-rate='16MiB'/>"
	       "  </mv:memvisor></metadata></domain>"
	       "  <workload kind='idle' size='44MiB' content='data'/></vm>"
	       " <vm><domain type='kvm'><name>busy</name><memory "
	       "unit='MiB'>64</memory>"
	       "  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	       "   <mv:guest os='linux' image='linux-2.4' image-size='4MiB' "
	       "balloon-rate='16MiB'/>"
	       "  </mv:memvisor></metadata></domain>"
	       "  <workload kind='steady' size='56MiB' rate='50k' "
	       "write-ratio='30%%' content='data'/></vm>"
	       "</scenario>";

struct outcome {
	double idle_mib, busy_mib; /* consumed at the end */
	double idle_active_mib;    /* the idle VM's true active set */
};

static struct outcome run_with_tax(const char *tax)
{
	char xml[4096];
	snprintf(xml, sizeof xml, fmt, tax);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "idle-tax.xml", ".", &sc, &err),
	       &err, "mv_scenario_load_string");
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	struct mv_vm_usage ui, ub;
	mv_vm_usage(s->vm[0], &ui);
	mv_vm_usage(s->vm[1], &ub);
	struct outcome o = {
		.idle_mib = (double)ui.consumed * MV_PAGE_SIZE / MV_MIB,
		.busy_mib = (double)ub.consumed * MV_PAGE_SIZE / MV_MIB,
		.idle_active_mib = (double)ui.active_true * MV_PAGE_SIZE /
				   MV_MIB,
	};
	mv_sim_destroy(s);
	return o;
}

static void
test_idle_tax_moves_memory_from_the_idle_vm_to_the_busy_one(void **state)
{
	(void)state;
	struct outcome t0 = run_with_tax("0%"), t75 = run_with_tax("75%");
	print_message("tax 0%%: idle %.1f busy %.1f; tax 75%%: idle %.1f "
		      "(active %.1f) busy %.1f MiB\n",
		      t0.idle_mib, t0.busy_mib, t75.idle_mib,
		      t75.idle_active_mib, t75.busy_mib);
	/* tax 0%: pure share-based isolation, the same allocation */
	assert_true(t0.idle_mib > 30 && t0.busy_mib > 30);
	double gap = t0.busy_mib - t0.idle_mib;
	if (gap < 0)
		gap = -gap;
	assert_true(gap < 0.05 * (t0.idle_mib + t0.busy_mib));
	/* tax 75%: memory moved from the idle VM to the busy one */
	assert_true(t75.busy_mib > t0.busy_mib + 8);
	assert_true(t75.idle_mib < t0.idle_mib - 8);
	/* ... but at most 75% of the idle VM's idle pages: it keeps its
	 * active set and a quarter of the rest of its tax-0 allocation */
	double keep = t75.idle_active_mib +
		      0.25 * (t0.idle_mib - t75.idle_active_mib);
	assert_true(t75.idle_mib >= keep - 1.0);
}

/* The scenario with the tax at 0% and <change at> to 75%, as a simulator. */
static struct mv_sim *sim_with_change(const char *at)
{
	char xml[4096], change[128];
	snprintf(xml, sizeof xml, fmt, "0%");
	snprintf(change, sizeof change,
		 "<idle-tax rate='0%%'><change at='%s' rate='75%%'/>"
		 "</idle-tax>",
		 at);
	const char *old = "<idle-tax rate='0%'/>";
	char *p = strstr(xml, old);
	assert_non_null(p);
	assert_true(strlen(xml) + strlen(change) < sizeof xml);
	memmove(p + strlen(change), p + strlen(old),
		strlen(p + strlen(old)) + 1);
	memcpy(p, change, strlen(change));
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "change.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	return s;
}

static double consumed_mib(struct mv_sim *s, int i)
{
	struct mv_vm_usage u;
	mv_vm_usage(s->vm[i], &u);
	return (double)u.consumed * MV_PAGE_SIZE / MV_MIB;
}

/* <idle-tax><change>: the run is the tax-0% run until the change (the
 * same seed, the same steps), then memory moves from the idle VM to the
 * busy one, as in the paper's figure 7. */
static void
test_a_tax_raised_mid_run_moves_memory_after_the_change(void **state)
{
	(void)state;
	struct mv_sim *a = sim_with_change("20s"), *b = sim_with_change("39s");
	struct mv_error err = {0};
	while (a->now_ns < 20 * MV_NS_PER_S) {
		mvt_ok(mv_sim_step(a, &err), &err, "mv_sim_step");
		mvt_ok(mv_sim_step(b, &err), &err, "mv_sim_step");
	}
	for (int i = 0; i < 2; i++)
		assert_true(consumed_mib(a, i) == consumed_mib(b, i));
	double idle0 = consumed_mib(a, 0), busy0 = consumed_mib(a, 1);
	while (a->now_ns < a->sc->duration_ns) {
		mvt_ok(mv_sim_step(a, &err), &err, "mv_sim_step");
		mvt_ok(mv_sim_step(b, &err), &err, "mv_sim_step");
	}
	print_message("at the change: idle %.1f busy %.1f; 20 s later: idle "
		      "%.1f busy %.1f MiB (tax 0%% until 39 s: idle %.1f)\n",
		      idle0, busy0, consumed_mib(a, 0), consumed_mib(a, 1),
		      consumed_mib(b, 0));
	assert_true(consumed_mib(a, 0) < idle0 - 8);
	assert_true(consumed_mib(a, 1) > busy0 + 8);
	assert_true(consumed_mib(a, 0) < consumed_mib(b, 0) - 8);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* <memstate model> reaches the simulator: under vSphere 6 a host whose
 * free memory stays below 400% of minFree spends its time in clear, and
 * the lines are the model's for the host's size. */
static void test_the_scenario_state_model_drives_the_simulator(void **state)
{
	(void)state;
	char xml[4096];
	snprintf(xml, sizeof xml, fmt, "75%");
	char *at = strstr(xml, "<sampling");
	assert_non_null(at);
	const char *model = "<memstate model='vsphere6'/>";
	memmove(at + strlen(model), at, strlen(at) + 1);
	memcpy(at, model, strlen(model));
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "v6.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	sc->duration_ns = 20 * MV_NS_PER_S;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mvt_ok(mv_sim_run(s, NULL, NULL, &err), &err, "mv_sim_run");
	double line[MV_MEMSTATE_COUNT];
	mv_memstate_lines(MV_MEMSTATE_VSPHERE6, &s->sc->host.thresholds,
			  96 * MV_MIB, line);
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		assert_true(s->memstate.line[k] == line[k]);
	assert_true(s->state_ns[MV_MEMSTATE_CLEAR] > 5 * MV_NS_PER_S);
	mv_sim_destroy(s);
}

/* A VM whose reservation does not fit in the unreserved memory is not
 * powered on; the error names it and the figures. */
static void
test_a_vm_whose_reservation_cannot_be_met_does_not_power_on(void **state)
{
	(void)state;
	const char *xml =
		"<scenario>\n"
		"  <host><memory unit='MiB'>256</memory></host>\n"
		"  <vm count='2'>\n"
		"    <domain><name>db</name><memory unit='MiB'>192</memory>\n"
		"      <memtune><min_guarantee "
		"unit='MiB'>160</min_guarantee></memtune>\n"
		"    </domain>\n"
		"  </vm>\n"
		"</scenario>\n";
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "adm.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	struct mv_sim *s = NULL;
	int rc = mv_sim_create(sc, 0, &s, &err);
	char buf[512];
	mv_error_format(&err, buf, sizeof buf);
	assert_int_equal(rc, MV_EINVAL);
	assert_null(s);
	assert_string_equal(err.file, "adm.xml");
	assert_int_equal(err.line, 4);
	assert_string_equal(err.field, "memtune/min_guarantee");
	if (!strstr(err.msg, "VM 'db-2' cannot power on: it reserves 160.0 MiB "
			     "but only 96.0 MiB of the host's 256.0 MiB is "
			     "unreserved"))
		fail_msg("got \"%s\"", buf);
	/* one of them fits */
	sc = NULL;
	const char *one =
		"<scenario><host><memory unit='MiB'>256</memory></host>"
		"<vm><domain><name>db</name><memory unit='MiB'>192</memory>"
		"<memtune><min_guarantee "
		"unit='MiB'>160</min_guarantee></memtune>"
		"</domain></vm></scenario>";
	mvt_ok(mv_scenario_load_string(one, "adm.xml", ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mv_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_idle_tax_moves_memory_from_the_idle_vm_to_the_busy_one),
		cmocka_unit_test(
			test_a_tax_raised_mid_run_moves_memory_after_the_change),
		cmocka_unit_test(
			test_the_scenario_state_model_drives_the_simulator),
		cmocka_unit_test(
			test_a_vm_whose_reservation_cannot_be_met_does_not_power_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
