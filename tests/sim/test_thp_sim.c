/*
 * Transparent huge pages end to end (docs/largepages.md): <host><thp>
 * read and checked, THP faults, khugepaged's collapses and the splits
 * KSM and reclamation force, in runs that verify every page's bytes
 * after every step.
 */
#include <stdio.h>
#include <string.h>

#include "support/mvtest.h"

/*
 * 80 MiB host, two 48 MiB VMs booting one image (KSM merges their common
 * pages), no balloon driver: compression and swapping take memory back.
 * THP is the <host> child THP ("" for none).
 */
static const char *fmt =
	"<scenario name='thp' seed='11' duration='4s' step='20ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>80</memory>"
	"  <sharing pages-to-scan='1000' sleep='10ms'/>"
	"  <reclaim period='200ms'/>"
	"  %s"
	" </host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>vm</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='8MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='steady' size='30MiB' rate='40k' write-ratio='0.3' "
	"content='data' compressibility='0.6'/>"
	" </vm>"
	"</scenario>";

static struct mv_sim *run_with(const char *thp, int verify)
{
	static char xml[4096];
	snprintf(xml, sizeof xml, fmt, thp);
	struct mv_sim *s = mvt_sim(xml, "thp.xml", verify);
	mvt_sim_run(s);
	return s;
}

static void test_thp_faults_collapses_and_splits_keep_bytes(void **state)
{
	(void)state;
	/* verify: every page hashed against what the guest wrote, and
	 * every huge region checked aligned and contiguous, every step */
	struct mv_sim *s = run_with("<thp enabled='always' scan-sleep='100ms' "
				    "pages-to-scan='4096'/>",
				    1);
	uint64_t fa = 0, co = 0, sp = 0;
	for (int i = 0; i < s->nvms; i++) {
		fa += s->vm[i]->ctr.thp_fault_alloc;
		co += s->vm[i]->ctr.thp_collapse_alloc;
		sp += s->vm[i]->ctr.thp_split_page;
	}
	assert_true(fa > 0);
	assert_true(co > 0);
	assert_true(sp > 0); /* KSM and reclamation split huge pages */
	assert_true(s->verify_checks > 0);
	mv_sim_destroy(s);
}

static void test_thp_never_is_the_run_without_it(void **state)
{
	(void)state;
	struct mv_sim *a = run_with("", 0);
	struct mv_sim *b = run_with("<thp enabled='never'/>", 0);
	mvt_assert_same_run(a, b);
	for (int i = 0; i < b->nvms; i++)
		assert_null(b->vm[i]->region);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
	/* and the same seed gives the same THP run */
	a = run_with("<thp enabled='madvise'/>", 0);
	b = run_with("<thp enabled='madvise'/>", 0);
	mvt_assert_same_run(a, b);
	assert_true(a->vm[0]->ctr.thp_fault_alloc > 0);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* Load with <host> child THP; it must fail naming `field`. */
static void bad(const char *thp, const char *field, const char *part)
{
	static char xml[4096];
	snprintf(xml, sizeof xml, fmt, thp);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string(xml, "thp.xml", "examples", &sc, &err);
	char buf[600];
	mv_error_format(&err, buf, sizeof buf);
	if (rc != MV_EINVAL || strcmp(err.field, field) != 0 ||
	    !strstr(err.msg, part) || err.line != 1)
		fail_msg("expected %s: ...%s..., got \"%s\"", field, part, buf);
	assert_null(sc);
}

static void test_bad_thp_settings_name_the_field(void **state)
{
	(void)state;
	bad("<thp enabled='sometimes'/>", "thp/enabled",
	    "unknown mode 'sometimes'");
	bad("<thp defrag='often'/>", "thp/defrag", "unknown mode 'often'");
	bad("<thp max-ptes-none='512'/>", "thp/max-ptes-none", "from 0 to 511");
	bad("<thp scan-sleep='10us'/>", "thp/scan-sleep", "at least 1ms");
	bad("<thp pages-to-scan='0'/>", "thp/pages-to-scan", "");
	bad("<thp enabled='always' khugepaged='yes'/>", "thp", "khugepaged");
	bad("<thp/><thp/>", "host/thp", "");
	bad("<thp enabled='always'/><large-pages enabled='yes'/>",
	    "host/large-pages", "cannot both be on");
}

/*
 * ESX's large pages (VMware KB 1021095): two web servers booted from one
 * image share nothing while their memory sits in large pages; when the
 * leaking VM takes the host out of the high state every large page is
 * broken and the common pages are shared at once.
 */
static const char *esx_xml =
	"<scenario name='esxlp' seed='5' duration='24s' step='50ms' "
	"stats-interval='1s' active-window='5s'>"
	" <host><memory unit='MiB'>104</memory>"
	"  <sharing pages-to-scan='2000' sleep='10ms'/>"
	"  <reclaim period='500ms'/>"
	"  <large-pages enabled='yes'/>"
	" </host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>web</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='16MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='virtio'/></devices></domain>"
	"  <workload kind='steady' size='8MiB' rate='20k' write-ratio='0.1' "
	"content='app' app='nginx-static'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>leaky</name><memory unit='MiB'>64</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='16MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='virtio'/></devices></domain>"
	"  <workload kind='leak' leak='2MiB' size='4MiB' rate='10k' "
	"write-ratio='0.5' content='data' start='5s'/>"
	" </vm>"
	"</scenario>";

static void test_esx_shares_only_after_breaking_large_pages(void **state)
{
	(void)state;
	struct mv_sim *s = mvt_sim(esx_xml, "esx.xml", 1);
	mvt_sim_run(s);
	uint64_t before = UINT64_MAX, after = 0;
	int tight = 0;
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_sample *sm = &s->samples[k];
		uint64_t saved = 0;
		for (int i = 0; i < s->nvms; i++)
			saved += sm->vm[i].shared_saved;
		tight |= sm->memstate != MV_MEMSTATE_HIGH;
		if (sm->t_ns == 4 * MV_NS_PER_S)
			before = saved; /* booted, every page in large pages */
		if (saved > after)
			after = saved;
	}
	uint64_t broken = 0;
	for (int i = 0; i < s->nvms; i++)
		broken += s->vm[i]->ctr.thp_split_page;
	assert_int_equal(before, 0);
	assert_true(after > 4096); /* more than 16 MiB shared */
	assert_true(broken >= 24); /* both web servers' 12 large pages */
	(void)tight;
	mv_sim_destroy(s);
}

/*
 * Translation follows the backing: one VM translating through a nested
 * (EPT) MMU model over a 96 MiB random working set, far beyond the L2
 * TLB's 4 KiB reach; THP is the <host> child THP.
 */
static const char *mmu_fmt =
	"<scenario name='thpmmu' seed='3' duration='3s' step='20ms' "
	"stats-interval='1s' active-window='1s'>"
	" <host><memory unit='MiB'>320</memory>"
	"  <sharing pages-to-scan='2000' sleep='10ms'/>"
	"  %s"
	" </host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>vm</name><memory unit='MiB'>128</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='16MiB'/>"
	"    <mv:mmu mode='nested' pages='4k'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='96MiB' rate='50k' write-ratio='0.2' "
	"content='data' compressibility='0.5'/>"
	" </vm>"
	"</scenario>";

static uint64_t xlat_of(const char *thp, int verify, uint64_t *splits)
{
	static char xml[4096];
	snprintf(xml, sizeof xml, mmu_fmt, thp);
	struct mv_sim *s = mvt_sim(xml, "thpmmu.xml", verify);
	mvt_sim_run(s);
	uint64_t x = 0;
	*splits = 0;
	for (int i = 0; i < s->nvms; i++) {
		x += s->vm[i]->ctr.xlat_ns;
		const struct mv_mmu *m = mv_guest_mmu(s->guest[i]);
		assert_non_null(m);
		*splits += mv_mmu_counters(m)->large_splits;
	}
	mv_sim_destroy(s);
	return x;
}

static void test_translation_follows_the_backing(void **state)
{
	(void)state;
	uint64_t sp_never, sp_always;
	uint64_t never = xlat_of("", 0, &sp_never);
	/* every step verified: bytes, huge regions, EPT against the pmap */
	uint64_t always = xlat_of("<thp enabled='always' scan-sleep='50ms'/>",
				  1, &sp_always);
	assert_int_equal(sp_never, 0);
	assert_true(sp_always > 0); /* KSM split huge pages */
	/* 2 MiB EPT leaves: shorter walks, far less time translating */
	assert_true(always * 2 < never);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_thp_faults_collapses_and_splits_keep_bytes),
		cmocka_unit_test(test_thp_never_is_the_run_without_it),
		cmocka_unit_test(test_bad_thp_settings_name_the_field),
		cmocka_unit_test(test_translation_follows_the_backing),
		cmocka_unit_test(
			test_esx_shares_only_after_breaking_large_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
