/*
 * <memballoon freePageReporting='on'> end to end (src/sim/domain.c reads
 * it, src/guest/guest.c reports, src/vm/pmap.c releases): when a guest
 * process exits, the whole 2 MiB blocks of guest memory it freed are
 * handed back within the reporting delay (2 s), so the host's footprint
 * of the guest falls; without it the footprint stays at its high-water
 * mark. A reported page touched again is a zero-fill fault. Checked with
 * the invariant checker on.
 */
#include <stdio.h>
#include <string.h>

#include "support/mvtest.h"

/* A 64 MiB Linux guest; a 40 MiB process runs 0-3 s, a 24 MiB one
 * 6-8 s; its balloon device is BALLOON. */
static const char *fmt =
	"<scenario name='fpr' seed='9' duration='10s' step='20ms' "
	"stats-interval='500ms' active-window='5s'>"
	" <host><memory unit='MiB'>256</memory></host>"
	" <vm>"
	"  <domain type='kvm'><name>g</name><memory unit='MiB'>64</memory>"
	"   <devices>%s</devices>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='40MiB' rate='50k' write-ratio='0.3' "
	"content='data' stop='3s'/>"
	"  <workload kind='steady' size='24MiB' rate='50k' write-ratio='0.3' "
	"content='data' start='6s' stop='8s'/>"
	" </vm>"
	"</scenario>";

static struct mv_sim *run(const char *balloon)
{
	char xml[2048];
	snprintf(xml, sizeof xml, fmt, balloon);
	struct mv_sim *s = mvt_sim(xml, "fpr.xml", 1);
	mvt_sim_run(s);
	return s;
}

/* The VM's frames (MiB) in the sample at t_ns. */
static double held_at(const struct mv_sim *s, uint64_t t_ns)
{
	for (int i = 0; i < s->nsamples; i++)
		if (s->samples[i].t_ns == t_ns)
			return (double)s->samples[i].vm[0].consumed *
			       MV_PAGE_SIZE / MV_MIB;
	fail_msg("no sample at %llu ns", (unsigned long long)t_ns);
	return 0;
}

#define S(x) ((uint64_t)((x)*1e9))

static void test_reported_free_pages_leave_the_host(void **state)
{
	(void)state;
	struct mv_sim *on = run("<memballoon model='virtio' "
				"freePageReporting='on'/>");
	struct mv_sim *off = run("<memballoon model='virtio'/>");
	assert_int_equal(on->sc->vms[0].guest.free_page_reporting, 1);
	/* while the first process runs, both hold its 40 MiB */
	assert_true(held_at(on, S(2.5)) >= 40);
	assert_true(held_at(off, S(2.5)) >= 40);
	/* it exits at 3 s: within the 2 s delay its blocks are reported */
	assert_true(held_at(on, S(5.5)) < held_at(on, S(2.5)) - 30);
	assert_true(held_at(off, S(5.5)) >= held_at(off, S(2.5)) - 1);
	/* the second process grows the footprint again; after it exits
	 * the footprint falls again: not monotonic */
	assert_true(held_at(on, S(7.5)) > held_at(on, S(5.5)) + 15);
	assert_true(held_at(on, S(10)) < held_at(on, S(7.5)) - 15);
	/* off: the high-water mark stays (the second process reuses the
	 * first one's frames) */
	assert_true(held_at(off, S(10)) >= held_at(off, S(2.5)) - 1);

	struct mv_guest_stats gs;
	mv_guest_stats(on->guest[0], &gs);
	assert_true(gs.fpr_reported >= 30 * 256);
	assert_true(gs.fpr_passes >= 4);
	mv_guest_stats(off->guest[0], &gs);
	assert_int_equal(gs.fpr_reported, 0);
	/* the second process found discarded pages: zero-fill faults */
	assert_true(on->vm[0]->ctr.faults[MV_FAULT_ZERO_FILL] >
		    off->vm[0]->ctr.faults[MV_FAULT_ZERO_FILL] + 4 * 256);
	mv_sim_destroy(on);
	mv_sim_destroy(off);
}

static void test_reporting_needs_a_balloon_device_and_on_or_off(void **state)
{
	(void)state;
	struct mv_sim *s = run("<memballoon model='none' "
			       "freePageReporting='on'/>");
	assert_int_equal(s->sc->vms[0].guest.free_page_reporting, 0);
	mv_sim_destroy(s);
	char xml[2048];
	snprintf(xml, sizeof xml, fmt,
		 "<memballoon model='virtio' freePageReporting='yes'/>");
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_equal(
		mv_scenario_load_string(xml, "fpr.xml", ".", &sc, &err),
		MV_EINVAL);
	assert_string_equal(err.field, "memballoon/freePageReporting");
	assert_non_null(strstr(err.msg, "'yes' is not on or off"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reported_free_pages_leave_the_host),
		cmocka_unit_test(
			test_reporting_needs_a_balloon_device_and_on_or_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
