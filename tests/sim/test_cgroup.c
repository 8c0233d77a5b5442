/*
 * <host preset="kvm">: libvirt's <memtune> as cgroup v2 applies it to a
 * guest's QEMU (src/sim/domain.c reads it, src/policy/plan.c and
 * src/sim/sim.c enforce it). A hard_limit (memory.max) that forgets
 * QEMU's own overhead gets the VM OOM-killed once nothing more can be
 * reclaimed, and the host gets its memory back; one that counts it runs;
 * soft_limit (memory.high) reclaims down to it without a kill; no
 * hard_limit means no limit; min_guarantee is refused as libvirt's QEMU
 * driver refuses it; KSM's own view (max_page_sharing, general_profit)
 * is computed from the sharing frames.
 */
#include <stdio.h>
#include <string.h>

#include "support/mvtest.h"

/* One 64 MiB VM with 24 MiB of QEMU overhead touching 48 MiB; its
 * <memtune> is MEMTUNE; swap bounded by it. */
static const char *fmt =
	"<scenario name='cgroup' seed='5' duration='6s' step='20ms' "
	"stats-interval='1s' active-window='5s'>"
	" <host preset='kvm'><memory unit='MiB'>1024</memory></host>"
	" <vm>"
	"  <domain type='kvm'><name>g</name><memory unit='MiB'>64</memory>"
	"   <memtune>%s</memtune>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB' "
	"overhead='24MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='48MiB' rate='50k' write-ratio='0.3' "
	"content='data'/>"
	" </vm>"
	"</scenario>";

static char *xml_of(const char *memtune)
{
	static char xml[2048];
	snprintf(xml, sizeof xml, fmt, memtune);
	return xml;
}

static struct mv_sim *run(const char *memtune)
{
	struct mv_sim *s = mvt_sim(xml_of(memtune), "cgroup.xml", 1);
	mvt_sim_run(s);
	return s;
}

/* Frames the VM holds now (its pages' frames, whole or shared). */
static uint64_t held_mib(const struct mv_sim *s)
{
	const struct mv_sample_vm *v = &s->samples[s->nsamples - 1].vm[0];
	return v->consumed * MV_PAGE_SIZE / MV_MIB;
}

static void test_a_hard_limit_that_forgets_qemu_is_oom_killed(void **state)
{
	(void)state;
	/* memory.max = the guest's RAM, no swap: 48 MiB touched + 24 MiB
	 * of QEMU cannot fit, and nothing can be swapped */
	struct mv_sim *s = run(
		"<hard_limit unit='MiB'>64</hard_limit>"
		"<swap_hard_limit unit='MiB'>64</swap_hard_limit>");
	assert_int_equal(s->oom[0].killed, 1);
	assert_true(s->oom[0].at_ns > 0 && s->oom[0].at_ns < 6000000000ull);
	assert_true(s->oom[0].held_pages > s->oom[0].max_pages);
	assert_int_equal(s->oom[0].max_pages, 64 * 256);
	/* it stopped: its memory is the host's again, nothing runs */
	assert_int_equal(s->vm[0]->count[MV_PS_UNTOUCHED], s->vm[0]->npages);
	assert_int_equal(held_mib(s), 0);
	assert_int_equal(s->host->nfree, mv_host_usable_frames(s->host));
	mv_sim_destroy(s);

	/* the same limit plus QEMU's overhead: no kill */
	s = run("<hard_limit unit='MiB'>96</hard_limit>"
		"<swap_hard_limit unit='MiB'>96</swap_hard_limit>");
	assert_int_equal(s->oom[0].killed, 0);
	assert_true(held_mib(s) >= 48);
	mv_sim_destroy(s);
}

static void test_swap_lets_the_kernel_reclaim_below_memory_max(void **state)
{
	(void)state;
	/* swap allowed: the kernel swaps the guest down under memory.max
	 * (guest + QEMU <= 64 MiB) instead of killing it */
	struct mv_sim *s = run("<hard_limit unit='MiB'>64</hard_limit>");
	assert_int_equal(s->oom[0].killed, 0);
	assert_true(held_mib(s) + 24 <= 64 + 2);
	const struct mv_sample_vm *v = &s->samples[s->nsamples - 1].vm[0];
	assert_true(v->swap.writes + v->zcache.compressed > 0);
	mv_sim_destroy(s);
}

static void test_soft_limit_is_memory_high_reclaimed_never_killed(void **state)
{
	(void)state;
	struct mv_sim *s = run("<soft_limit unit='MiB'>48</soft_limit>");
	/* no hard_limit: memory.max is "max" */
	assert_int_equal(s->vm[0]->cfg.limit_bytes, MV_LIMIT_NONE);
	/* memory.high 48 MiB, 24 MiB of it QEMU's: the guest is swapped
	 * down to about 24 MiB */
	assert_int_equal(s->oom[0].killed, 0);
	assert_true(held_mib(s) + 24 <= 48 + 2);
	mv_sim_destroy(s);
	/* no swap at all (swap_hard_limit = the guest's size: memory.swap.max
	 * 0): memory.high cannot be met, and still nothing is killed */
	s = run("<soft_limit unit='MiB'>48</soft_limit>"
		"<swap_hard_limit unit='MiB'>64</swap_hard_limit>");
	assert_int_equal(s->oom[0].killed, 0);
	assert_true(held_mib(s) + 24 > 48);
	mv_sim_destroy(s);
	/* without any memtune: memory.max "max", nothing is reclaimed */
	s = run("");
	assert_int_equal(s->oom[0].killed, 0);
	assert_true(held_mib(s) >= 48);
	mv_sim_destroy(s);
}

static void test_min_guarantee_is_refused_as_libvirt_refuses_it(void **state)
{
	(void)state;
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_equal(
		mv_scenario_load_string(
			xml_of("<min_guarantee unit='MiB'>64</min_guarantee>"),
			"cgroup.xml", ".", &sc, &err),
		MV_EINVAL);
	assert_string_equal(err.field, "memtune/min_guarantee");
	assert_non_null(strstr(err.msg, "not supported by QEMU"));
	assert_int_equal(err.line, 1);
}

static void test_ksm_view_chains_past_max_page_sharing(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 16, 0);
	/* 600 copies of one page: KSM needs 3 KSM pages (256 + 256 + 88) */
	for (mv_gppn_t g = 0; g < 600; g++) {
		uint8_t *p = mv_vm_access_bytes(vm, g, 1);
		memset(p, 0x5a, MV_PAGE_SIZE);
		mv_vm_wrote(vm, g);
	}
	struct mv_share_config c;
	mv_share_config_default(&c);
	struct mv_sharer *sh = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_share_create(h, &c, &sh, &err), &err, "create");
	assert_int_equal(mv_share_add_vm(sh, vm), 0);
	mv_share_scan(sh, 600);
	struct mv_share_stats st;
	mv_share_stats(sh, &st);
	assert_int_equal(st.pages_shared, 1);
	assert_int_equal(st.pages_sharing, 599);
	struct mv_ksm_view k;
	mv_share_ksm_view(sh, &st, 256, &k);
	assert_int_equal(k.pages_shared, 3);
	assert_int_equal(k.pages_sharing, 597);
	assert_int_equal(k.stable_node_chains, 1);
	assert_int_equal(k.stable_node_dups, 3);
	/* 597 pages saved, 600 + unshared + volatile rmap_items of 64 B */
	assert_int_equal(k.general_profit,
			 597 * 4096 - (int64_t)(600 + st.pages_unshared +
						st.pages_volatile) *
					      64);
	mv_share_destroy(sh);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_a_hard_limit_that_forgets_qemu_is_oom_killed),
		cmocka_unit_test(
			test_swap_lets_the_kernel_reclaim_below_memory_max),
		cmocka_unit_test(
			test_soft_limit_is_memory_high_reclaimed_never_killed),
		cmocka_unit_test(
			test_min_guarantee_is_refused_as_libvirt_refuses_it),
		cmocka_unit_test(test_ksm_view_chains_past_max_page_sharing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
