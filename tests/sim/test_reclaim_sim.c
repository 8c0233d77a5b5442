/*
 * All four reclamation mechanisms at work in one simulated host, end to
 * end: every invariant (including every guest byte) checked after every
 * step, each mechanism seen doing something, same seed same run, and a
 * failing swap file losing nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/mvtest.h"

/*
 * 72 MiB host, three 48 MiB VMs booting one image: two with balloon
 * drivers, one without (it can only be compressed and swapped). Their
 * working sets together need more than the host has.
 */
static const char *busy =
	"<scenario name='busy' seed='7' duration='3s' step='20ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>72</memory>"
	"  <sharing pages-to-scan='400' sleep='10ms'/>"
	"  <compression cache='10%'/>"
	"  <reclaim period='200ms'/>"
	" </host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>bal</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='8MiB' "
	"swap='32MiB' balloon-rate='16MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' dist='zipf' size='22MiB' rate='40k' "
	"write-ratio='0.3' content='data' compressibility='0.6'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>nob</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='8MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='steady' size='28MiB' rate='40k' write-ratio='0.3' "
	"content='data' compressibility='0.6'/>"
	" </vm>"
	"</scenario>";

static struct mv_sim *sim_from(const char *xml, int verify)
{
	return mvt_sim(xml, "busy.xml", verify);
}

static void run(struct mv_sim *s)
{
	mvt_sim_run(s);
}

static void test_every_mechanism_works_and_no_byte_changes(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(busy, 1); /* checks every byte every step */
	/* the swap files are open but have no names: a killed run leaves
	 * nothing behind */
	struct stat st;
	assert_int_equal(stat(s->run_dir, &st), -1);
	run(s);
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	struct mv_share_stats sh;
	mv_sim_share_stats(s, &sh);
	assert_true(sh.merges > 0); /* the common image was shared */
	assert_true(sh.zero_pages + sh.pages_sharing > 0);
	uint64_t ballooned = 0, zipped = 0, written = 0, read = 0, unzipped = 0;
	for (int v = 0; v < s->nvms; v++) {
		ballooned += s->vm[v]->ctr.balloon_pages;
		zipped += last->vm[v].zcache.compressed;
		unzipped += last->vm[v].zcache.decompressed;
		written += last->vm[v].swap.writes;
		read += last->vm[v].swap.reads;
	}
	assert_true(ballooned > 0);
	assert_int_equal(s->vm[2]->ctr.balloon_pages, 0); /* no driver */
	assert_true(zipped > 0 && unzipped > 0);
	assert_true(written > 0 && read > 0);
	assert_int_equal(s->io_errors, 0);
	mv_sim_destroy(s);
}

static void test_same_seed_same_run_with_reclamation(void **state)
{
	(void)state;
	struct mv_sim *a = sim_from(busy, 0), *b = sim_from(busy, 0);
	run(a);
	run(b);
	mvt_assert_same_run(a, b);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* A swap file that fails now and then: the run goes on, the errors are
 * counted and reported, and no guest byte changes (verify is on). */
/*
 * <reclaim on-state-change>: with ESX's 15 s period the policy would first
 * act at 15 s, long after the host fell below high; the trigger plans as
 * the state changes, so the host spends less time below soft and the
 * balloons start within the first seconds. Every invariant holds.
 */
static void test_a_state_change_triggers_a_plan(void **state)
{
	(void)state;
	const char *slow = "<reclaim period='200ms'/>";
	char *xml[2];
	uint64_t low[2], ballooned[2];
	for (int k = 0; k < 2; k++) {
		const char *with = k ? "<reclaim period='15s' "
				       "on-state-change='yes'/>"
				     : "<reclaim period='15s'/>";
		const char *at = strstr(busy, slow);
		assert_non_null(at);
		size_t n = strlen(busy) + strlen(with);
		xml[k] = malloc(n);
		assert_non_null(xml[k]);
		snprintf(xml[k], n, "%.*s%s%s", (int)(at - busy), busy, with,
			 at + strlen(slow));
		struct mv_sim *s = sim_from(xml[k], 1);
		run(s);
		assert_int_equal(s->sc->reclaim.on_state_change, k);
		low[k] = s->state_ns[MV_MEMSTATE_HARD] +
			 s->state_ns[MV_MEMSTATE_LOW];
		ballooned[k] = 0;
		for (int i = 0; i < s->nvms; i++)
			ballooned[k] += s->vm[i]->ctr.balloon_pages;
		mv_sim_destroy(s);
		free(xml[k]);
	}
	/* without the trigger nothing is planned in a 3 s run */
	assert_int_equal(ballooned[0], 0);
	assert_true(ballooned[1] > 0);
	assert_true(low[1] < low[0]);
}

static void test_failing_swap_file_loses_nothing(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(busy, 1);
	for (int v = 0; v < s->nvms; v++)
		mv_swapfile_inject_error(s->swap[v], 3, MV_EIO);
	mv_swapfile_inject_error(s->swap[2], 1, MV_ENOSPC);
	run(s);
	assert_true(s->io_errors > 0);
	assert_non_null(strstr(s->last_io_error, ".vswp"));
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	uint64_t failed = 0;
	for (int v = 0; v < s->nvms; v++)
		failed += last->vm[v].swap.write_errors;
	assert_true(failed > 0);
	/* the report says so */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(mv_report_text(f, s), 0);
	fclose(f);
	assert_non_null(strstr(buf, "swap I/O errors"));
	free(buf);
	mv_sim_destroy(s);
}

/*
 * <mv:guest balloon-start>: until the guest has loaded its balloon driver
 * the host cannot balloon it (Windows loads vmmemctl late in its boot,
 * Waldspurger 2002, section 6.3) and reclaims by swapping; with
 * <sharing before-swap> the zero and duplicate pages among the victims
 * are shared instead of written. Every invariant (and byte) holds.
 */
static void
test_a_late_balloon_driver_leaves_boot_to_swap_and_sharing(void **state)
{
	(void)state;
	const char *from = "balloon-rate='16MiB'/>";
	/* without it the balloons first move between 2 and 2.5 s */
	const char *to = "balloon-rate='16MiB' balloon-start='4s'/>";
	const char *sh_from = "<sharing pages-to-scan='400' sleep='10ms'/>";
	const char *sh_to = "<sharing pages-to-scan='400' sleep='10ms' "
			    "before-swap='yes'/>";
	const char *a = strstr(busy, sh_from), *b = strstr(busy, from);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	size_t n = strlen(busy) + strlen(to) + strlen(sh_to) + 1;
	char *xml = malloc(n);
	assert_non_null(xml);
	snprintf(xml, n, "%.*s%s%.*s%s%s", (int)(a - busy), busy, sh_to,
		 (int)(b - (a + strlen(sh_from))), a + strlen(sh_from), to,
		 b + strlen(from));
	char *d = strstr(xml, "duration='3s'"); /* 8 s: the same length */
	assert_non_null(d);
	d[10] = '8';
	struct mv_sim *s = sim_from(xml, 1);
	assert_int_equal(s->sc->reclaim.share.before_swap, 1);
	const uint64_t start = 4 * MV_NS_PER_S;
	assert_int_equal(s->sc->vms[0].guest.balloon_start_ns, start);
	struct mv_error err = {0};
	uint64_t early = 0;
	while (s->now_ns < start) {
		mvt_ok(mv_sim_step(s, &err), &err, "mv_sim_step");
		for (int i = 0; i < s->nvms; i++)
			early += s->vm[i]->ctr.balloon_pages;
	}
	assert_int_equal(early, 0);
	run(s);
	uint64_t ballooned = 0;
	for (int i = 0; i < s->nvms; i++)
		ballooned += s->vm[i]->ctr.balloon_pages;
	assert_true(ballooned > 0); /* once the drivers are up */
	mv_sim_destroy(s);
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_every_mechanism_works_and_no_byte_changes),
		cmocka_unit_test(test_same_seed_same_run_with_reclamation),
		cmocka_unit_test(test_failing_swap_file_loses_nothing),
		cmocka_unit_test(test_a_state_change_triggers_a_plan),
		cmocka_unit_test(
			test_a_late_balloon_driver_leaves_boot_to_swap_and_sharing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
