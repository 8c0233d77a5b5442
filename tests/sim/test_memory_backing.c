/*
 * <memoryBacking><locked/> and <hugepages/> end to end (src/sim/domain.c
 * reads them, src/sim/sim.c obeys them): on a host short of memory, a
 * locked VM's pages stay in host RAM (never compressed nor swapped by the
 * hypervisor, as mlock keeps QEMU's memory out of host swap), and a VM on
 * hugetlbfs pages is neither swapped nor shared; the other VMs still
 * are.
 */
#include <stdio.h>
#include <string.h>

#include "support/mvtest.h"

/*
 * 72 MiB host, three 48 MiB VMs booting one image, none with a balloon
 * driver (so hypervisor swapping and compression are the only ways
 * back); the third VM's memory backing is BACKING.
 */
static const char *busy_fmt =
	"<scenario name='backing' seed='7' duration='3s' step='20ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>72</memory>"
	"  <sharing pages-to-scan='400' sleep='10ms'/>"
	"  <compression cache='10%%'/>"
	"  <reclaim period='200ms'/>"
	" </host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>free</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='8MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='steady' size='24MiB' rate='40k' write-ratio='0.3' "
	"content='data' compressibility='0.6'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>pinned</name><memory unit='MiB'>48</memory>"
	"   <memoryBacking>%s</memoryBacking>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='8MiB'/>"
	"   </mv:memvisor></metadata>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='steady' size='24MiB' rate='40k' write-ratio='0.3' "
	"content='data' compressibility='0.6'/>"
	" </vm>"
	"</scenario>";

/* Run the scenario with the third VM's backing. */
static struct mv_sim *run_with(const char *backing)
{
	static char xml[4096];
	snprintf(xml, sizeof xml, busy_fmt, backing);
	struct mv_sim *s = mvt_sim(xml, "backing.xml", 0);
	mvt_sim_run(s);
	return s;
}

/* Pages VM v had compressed or written to swap, over the run. */
static uint64_t reclaimed(const struct mv_sim *s, int v)
{
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	return last->vm[v].zcache.compressed + last->vm[v].swap.writes;
}

static void test_locked_vm_is_never_swapped_or_compressed(void **state)
{
	(void)state;
	/* without <locked/> the third VM is reclaimed like the others ... */
	struct mv_sim *s = run_with("");
	assert_true(reclaimed(s, 2) > 0);
	mv_sim_destroy(s);
	/* ... with it, never; the others give the memory back */
	s = run_with("<locked/>");
	assert_int_equal(s->vm[2]->cfg.locked, 1);
	assert_int_equal(reclaimed(s, 2), 0);
	assert_true(reclaimed(s, 0) + reclaimed(s, 1) > 0);
	assert_int_equal(s->io_errors, 0);
	mv_sim_destroy(s);
}

static void test_hugepages_vm_is_neither_swapped_nor_shared(void **state)
{
	(void)state;
	struct mv_sim *s = run_with("<hugepages/>");
	assert_int_equal(reclaimed(s, 2), 0);
	assert_int_equal(s->vm[2]->cfg.sharing, 0);
	/* the other two share the image between them, not with it */
	struct mv_share_stats sh;
	mv_sim_share_stats(s, &sh);
	assert_true(sh.merges > 0);
	assert_true(reclaimed(s, 0) + reclaimed(s, 1) > 0);
	mv_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locked_vm_is_never_swapped_or_compressed),
		cmocka_unit_test(
			test_hugepages_vm_is_neither_swapped_nor_shared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
