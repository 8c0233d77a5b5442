/*
 * <host preset> and page-sharing salting end to end (src/sim/scenario.c
 * applies the preset, src/sim/sim.c puts each VM in its salt group,
 * src/reclaim/share.c shares only inside a group): a current ESXi preset
 * never shares a frame between two VMs unless they carry the same
 * sched.mem.pshare.salt; ESX 4.1 and 5.x share across VMs; a setting the
 * scenario writes overrides the preset; bad presets and salting values
 * are one clear error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

/*
 * Three 32 MiB VMs on a roomy host running the same application (its
 * pages identical in every VM); the host element is HOST, the first two
 * VMs' metadata gets SALT.
 */
static const char *fmt =
	"<scenario name='presets' seed='3' duration='4s' step='20ms' "
	"stats-interval='1s' active-window='1s'>"
	" %s<memory unit='MiB'>256</memory>"
	"  <sharing pages-to-scan='2000' sleep='10ms'%s/>%s"
	" </host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>web</name><memory unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB'/>%s"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='8MiB' rate='20k' write-ratio='0' "
	"content='app' "
	"app='nginx'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>db</name><memory unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='8MiB' rate='20k' write-ratio='0' "
	"content='app' "
	"app='nginx'/>"
	" </vm>"
	"</scenario>";

static char *xml_of(const char *host, const char *sharing, const char *extra,
		    const char *salt)
{
	static char xml[4096];
	snprintf(xml, sizeof xml, fmt, host, sharing, extra, salt);
	return xml;
}

static struct mv_sim *run(const char *host, const char *sharing,
			  const char *salt)
{
	/* the salting tests leave the ESX presets' large pages out: in the
	 * high state they would keep every page from sharing (tested below) */
	struct mv_sim *s = mvt_sim(
		xml_of(host, sharing, "<large-pages enabled='no'/>", salt),
		"presets.xml", 0);
	mvt_sim_run(s);
	return s;
}

/*
 * The guest pages mapping a sharing frame that a page of an earlier VM
 * maps too, and the pairs of VMs (i, j) that share a frame: pair[i][j].
 */
static uint64_t inter_vm_frames(const struct mv_sim *s, int pair[3][3])
{
	uint64_t nframes = s->host->nframes, n = 0;
	int *owner = malloc(nframes * sizeof *owner);
	assert_non_null(owner);
	for (uint64_t m = 0; m < nframes; m++)
		owner[m] = -1;
	memset(pair, 0, 9 * sizeof pair[0][0]);
	for (int i = 0; i < s->nvms; i++)
		for (mv_gppn_t g = 0; g < s->vm[i]->npages; g++) {
			const struct mv_pme *e = &s->vm[i]->pmap[g];
			if (e->state != MV_PS_SHARED)
				continue;
			if (owner[e->mpn] < 0) {
				owner[e->mpn] = i;
			} else if (owner[e->mpn] != i) {
				pair[owner[e->mpn]][i] = 1;
				n++;
			}
		}
	free(owner);
	return n;
}

static uint64_t pages_saved(const struct mv_sim *s)
{
	struct mv_share_stats st;
	mv_sim_share_stats(s, &st);
	return st.pages_sharing;
}

static void test_esx8_shares_no_frame_between_vms(void **state)
{
	(void)state;
	int pair[3][3];
	struct mv_sim *plain = run("<host>", "", "");
	struct mv_sim *esx8 = run("<host preset='esx8'>", "", "");
	assert_int_equal(esx8->sc->reclaim.share.salting, 2);
	assert_int_equal(esx8->sc->reclaim.memstate_model,
			 MV_MEMSTATE_VSPHERE6);
	assert_string_equal(esx8->sc->host.preset, "esx8");
	/* unsalted: the application's 2048 pages are held once for 3 VMs */
	assert_true(inter_vm_frames(plain, pair) >= 2048);
	assert_true(pages_saved(plain) >= 2 * 2048);
	/* salted per VM: not one frame between two VMs, and the saving is
	 * only what each VM has twice inside itself */
	assert_int_equal(inter_vm_frames(esx8, pair), 0);
	assert_true(pages_saved(esx8) + 2 * 2048 <= pages_saved(plain));
	mv_sim_destroy(plain);
	mv_sim_destroy(esx8);
}

static void test_esx41_and_esx5_share_between_vms_as_before(void **state)
{
	(void)state;
	struct mv_sim *plain = run("<host>", "", "");
	struct mv_sim *esx41 = run("<host preset='esx41'>", "", "");
	struct mv_sim *esx5 = run("<host preset='esx5'>", "", "");
	assert_int_equal(esx41->sc->reclaim.memstate_model, MV_MEMSTATE_ESX41);
	assert_int_equal(esx5->sc->reclaim.memstate_model,
			 MV_MEMSTATE_VSPHERE5);
	/* no salting: the same scan as a host without a preset (the state
	 * lines do not matter on a host this roomy) */
	assert_int_equal(pages_saved(esx41), pages_saved(plain));
	assert_int_equal(pages_saved(esx5), pages_saved(plain));
	mv_sim_destroy(plain);
	mv_sim_destroy(esx41);
	mv_sim_destroy(esx5);
}

static void test_a_shared_salt_opts_vms_into_one_group(void **state)
{
	(void)state;
	int pair[3][3];
	/* the two web VMs carry salt 'web' (sched.mem.pshare.salt) */
	struct mv_sim *s = run("<host preset='esx6'>", "",
			       "<mv:sharing salt='web'/>");
	assert_string_equal(s->vm[0]->cfg.pshare_salt, "web");
	assert_true(inter_vm_frames(s, pair) >= 2048);
	assert_true(pair[0][1] || pair[1][0]);
	assert_false(pair[0][2] || pair[2][0] || pair[1][2] || pair[2][1]);
	mv_sim_destroy(s);
}

static void test_salting_1_groups_the_vms_without_a_salt(void **state)
{
	(void)state;
	int pair[3][3];
	/* web-1 and web-2 salted 'web'; db has none, alone in group 0 */
	struct mv_sim *s = run("<host>", " salting='1'",
			       "<mv:sharing salt='web'/>");
	inter_vm_frames(s, pair);
	assert_true(pair[0][1] || pair[1][0]);
	assert_false(pair[0][2] || pair[2][0] || pair[1][2] || pair[2][1]);
	mv_sim_destroy(s);
	/* no salt anywhere: under 1 all three are one group */
	s = run("<host>", " salting='1'", "");
	assert_true(inter_vm_frames(s, pair) >= 2048);
	assert_true(pair[0][2] || pair[2][0]);
	mv_sim_destroy(s);
}

static void test_a_written_setting_overrides_the_preset(void **state)
{
	(void)state;
	int pair[3][3];
	struct mv_sim *plain = run("<host>", "", "");
	/* Mem.ShareForceSalting = 0 on an ESXi 8 host: inter-VM TPS back */
	struct mv_sim *s = run("<host preset='esx8'>", " salting='0'", "");
	assert_true(inter_vm_frames(s, pair) >= 2048);
	assert_int_equal(pages_saved(s), pages_saved(plain));
	mv_sim_destroy(s);
	mv_sim_destroy(plain);
	/* <memstate> and <compression> written next to a preset win too */
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml_of("<host preset='esx8'>", "",
					      "<memstate model='esx41'/>"
					      "<compression enabled='no'/>",
					      ""),
				       "presets.xml", ".", &sc, &err),
	       &err, "load");
	assert_int_equal(sc->reclaim.memstate_model, MV_MEMSTATE_ESX41);
	assert_int_equal(sc->reclaim.compression, 0);
	assert_int_equal(sc->reclaim.share.salting, 2);
	mv_scenario_free(sc);
}

/*
 * The ESX presets back guests with large pages (Mem.AllocGuestLargePage):
 * on this roomy host, always in the high state, none is broken, so page
 * sharing saves nothing; kvm leaves them off, and a written <large-pages>
 * or <thp> wins over the preset.
 */
static void test_esx_presets_back_guests_with_large_pages(void **state)
{
	(void)state;
	struct mv_sim *s = mvt_sim(xml_of("<host preset='esx41'>", "", "", ""),
				   "presets.xml", 1);
	assert_true(s->sc->reclaim.large_pages);
	mvt_sim_run(s);
	assert_int_equal(pages_saved(s), 0);
	mv_sim_destroy(s);
	const char *off[][2] = {
		{"<host preset='kvm'>", ""},
		{"<host preset='esx8'>", "<large-pages enabled='no'/>"},
		{"<host preset='esx6'>", "<thp enabled='always'/>"},
	};
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
		struct mv_scenario *sc = NULL;
		struct mv_error err = {0};
		mvt_ok(mv_scenario_load_string(
			       xml_of(off[i][0], "", off[i][1], ""),
			       "presets.xml", ".", &sc, &err),
		       &err, "load");
		assert_int_equal(sc->reclaim.large_pages, 0);
		mv_scenario_free(sc);
	}
}

/* Load xml and expect one error naming field with text in it. */
static void expect_error(const char *xml, const char *field, const char *text)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_equal(
		mv_scenario_load_string(xml, "presets.xml", ".", &sc, &err),
		MV_EINVAL);
	assert_null(sc);
	assert_string_equal(err.field, field);
	if (!strstr(err.msg, text))
		fail_msg("'%s' does not say '%s'", err.msg, text);
}

static void test_bad_presets_and_salting_are_clear_errors(void **state)
{
	(void)state;
	expect_error(xml_of("<host preset='esx7'>", "", "", ""), "host/preset",
		     "unknown preset 'esx7' (esx41, esx5, esx6");
	expect_error(xml_of("<host>", " salting='3'", "", ""),
		     "sharing/salting", "'3' is not 0, 1 or 2");
	expect_error(xml_of("<host preset='esx6'>", "",
			    "<thresholds high='8%'/>", ""),
		     "host/thresholds", "vsphere6, the model of preset esx6");
	expect_error(xml_of("<host>", "", "", "<mv:sharing/>"), "sharing/salt",
		     "is required");
	expect_error(xml_of("<host>", "", "", "<mv:sharing salt=''/>"),
		     "sharing/salt", "");
}

/* scan-time (Mem.ShareScanTime) is read, and is no shorter than sleep */
static void test_scan_time_is_read_and_bounded_by_sleep(void **state)
{
	(void)state;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(
		       xml_of("<host>", " scan-time='60m'", "", ""),
		       "presets.xml", ".", &sc, &err),
	       &err, "load");
	assert_int_equal(sc->reclaim.share.scan_time_ns, 3600 * MV_NS_PER_S);
	mv_scenario_free(sc);
	expect_error(xml_of("<host>", " scan-time='5ms'", "", ""),
		     "sharing/scan-time", "must be at least sleep (10ms)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esx8_shares_no_frame_between_vms),
		cmocka_unit_test(
			test_esx41_and_esx5_share_between_vms_as_before),
		cmocka_unit_test(test_a_shared_salt_opts_vms_into_one_group),
		cmocka_unit_test(test_salting_1_groups_the_vms_without_a_salt),
		cmocka_unit_test(test_a_written_setting_overrides_the_preset),
		cmocka_unit_test(test_bad_presets_and_salting_are_clear_errors),
		cmocka_unit_test(test_scan_time_is_read_and_bounded_by_sleep),
		cmocka_unit_test(test_esx_presets_back_guests_with_large_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
