/*
 * Static huge pages end to end (docs/largepages.md): the host's hugetlbfs
 * pool (<host><hugepages>) reserved at boot and counted as
 * /proc/meminfo counts it, a <memoryBacking><hugepages/> VM preallocated
 * from it whole or not started at all, and its pages never shared,
 * swapped, compressed or given to the balloon while the host is short, in
 * runs that verify every page's bytes after every step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

/*
 * A host of HOST MiB with a pool of POOL 2 MiB pages; a VM "huge" of
 * HUGE_KIB KiB on hugepages whose balloon starts 4 MiB inflated
 * (currentMemory), and two 48 MiB VMs "free" of one image with busy
 * workloads and balloon drivers, to overcommit the host.
 */
static const char *fmt =
	"<scenario name='hugetlb' seed='5' duration='3s' step='20ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>%d</memory>"
	"  <sharing pages-to-scan='1000' sleep='10ms'/>"
	"  <compression cache='10%%'/>"
	"  <reclaim period='200ms'/>"
	"  <hugepages size='2M' count='%d'/>"
	" </host>"
	" <vm>"
	"  <domain type='kvm'><name>huge</name>"
	"   <memory unit='KiB'>%d</memory>"
	"   <currentMemory unit='KiB'>%d</currentMemory>"
	"   <memoryBacking><hugepages/></memoryBacking>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='6MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='8MiB' rate='40k' write-ratio='0.3' "
	"content='data' compressibility='0.6'/>"
	" </vm>"
	" <vm count='%d'>"
	"  <domain type='kvm'><name>free</name><memory unit='MiB'>48</memory>"
	"   <memoryBacking>%s</memoryBacking>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='6MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='28MiB' rate='40k' write-ratio='0.3' "
	"content='data' compressibility='0.6'/>"
	" </vm>"
	"</scenario>";

static char xml[4096];

static const char *scenario(int host, int pool, int huge_kib, int nfree,
			    const char *free_backing)
{
	snprintf(xml, sizeof xml, fmt, host, pool, huge_kib, huge_kib - 4096,
		 nfree, free_backing);
	return xml;
}

/* The pool has every page it reserved: free ones in it, the others
 * mapped by hugetlbfs VMs' pages, each frame with its one reference. */
static void assert_pool_whole(const struct mv_sim *s)
{
	const struct mv_hugetlb *p = &s->host->hugetlb;
	uint64_t used = 0, nfree = 0;
	for (uint64_t i = 0; i < p->total; i++) {
		assert_int_equal(p->run[i] % MV_RUN_FRAMES, 0);
		for (unsigned k = 0; k < MV_RUN_FRAMES; k++)
			assert_int_equal(
				mv_host_frame_refs(s->host, p->run[i] + k), 1);
		used += p->mapped[i] != 0;
		nfree += p->mapped[i] == 0;
	}
	assert_int_equal(nfree, p->free);
	assert_int_equal(used + p->free, p->total);
	uint64_t nodes = 0;
	for (int k = 0; k < s->host->nnodes; k++)
		nodes += s->host->hugetlb.node_free[k];
	assert_int_equal(nodes, p->free);
}

static void test_pool_is_reserved_at_boot_and_backs_the_vm_whole(void **st)
{
	(void)st;
	/* 17 MiB: eight 2 MiB pages and one of which the VM maps 1 MiB */
	struct mv_sim *s = mvt_sim(scenario(128, 16, 17 * 1024, 1, ""),
				   "hugetlb.xml", 1);
	const struct mv_hugetlb *p = &s->host->hugetlb;
	assert_int_equal(p->total, 16);
	assert_int_equal(p->free, 16 - 9);
	const struct mv_vm *vm = s->vm[0];
	assert_int_equal(vm->hugetlb, 1);
	/* preallocated: every page private and pinned before the guest
	 * runs, 2 MiB regions on aligned runs, the short last one not */
	assert_int_equal(vm->count[MV_PS_PRIVATE], vm->npages);
	assert_int_equal(vm->thp_huge, 8);
	assert_int_equal(vm->region[8], MV_REGION_SMALL);
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		assert_true(vm->pmap[g].flags & MV_PME_PINNED);
		assert_int_equal(
			vm->pmap[g].mpn,
			vm->pmap[g / MV_RUN_FRAMES * MV_RUN_FRAMES].mpn +
				g % MV_RUN_FRAMES);
	}
	/* the pool is not free memory: MemFree lost its 32 MiB at boot */
	assert_true(s->host->nfree <=
		    s->host->nframes - 1 - 16 * MV_RUN_FRAMES);
	assert_pool_whole(s);
	mvt_sim_run(s); /* verified: every frame's references, every step */
	assert_int_equal(p->free, 16 - 9);
	assert_pool_whole(s);
	/* a stopped VM gives its pages back to the pool, whole */
	mv_vm_hugetlb_release(s->vm[0]);
	assert_int_equal(p->free, 16);
	assert_int_equal(s->vm[0]->count[MV_PS_PRIVATE], 0);
	assert_pool_whole(s);
	mv_sim_destroy(s);
}

/* Everything a report printed, in a malloc'd string. */
static char *report(const struct mv_sim *s, int json)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(json ? mv_report_json(f, s) : mv_report_text(f, s), 0);
	fclose(f);
	return buf;
}

static void test_vm_whose_pool_is_short_does_not_start(void **st)
{
	(void)st;
	/* the second 20 MiB hugetlbfs VM needs 10 pages, 6 are left */
	struct mv_sim *s = mvt_sim(
		scenario(128, 16, 20 * 1024, 1, "<hugepages/>"), "short.xml",
		1);
	assert_false(s->start[0].failed);
	assert_true(s->start[1].failed);
	assert_int_equal(s->start[1].need, 24); /* 48 MiB */
	assert_int_equal(s->start[1].free, 6);
	mvt_sim_run(s); /* the run goes on with the VM that started */
	assert_int_equal(s->vm[1]->count[MV_PS_UNTOUCHED], s->vm[1]->npages);
	assert_true(s->vm[0]->ctr.reads + s->vm[0]->ctr.writes > 0);
	assert_int_equal(s->host->hugetlb.free, 6);
	assert_int_equal(s->host->hugetlb.alloc_fail, 1);
	char *t = report(s, 0);
	assert_non_null(strstr(t, "VM 'free' failed to start: internal error: "
				  "process exited while connecting to "
				  "monitor: qemu-system-x86_64: unable to map "
				  "backing store for guest RAM: Cannot "
				  "allocate memory"));
	assert_non_null(strstr(t, "HugePages_Free:       6"));
	free(t);
	char *j = report(s, 1);
	assert_non_null(strstr(j, "\"HugePages_Total\": 16"));
	assert_non_null(strstr(j, "\"start_error\": null"));
	assert_non_null(strstr(j, "\"start_error\": \"internal error"));
	free(j);
	mv_sim_destroy(s);
}

/* Pages VM v had reclaimed by the hypervisor over the run, all ways. */
static uint64_t taken(const struct mv_sim *s, int v)
{
	const struct mv_vm *vm = s->vm[v];
	struct mv_swap_stats sw = {0};
	struct mv_zcache_stats z = {0};
	mv_swapfile_stats(s->swap[v], &sw);
	mv_zcache_stats(s->zcache[v], &z);
	return sw.writes + z.compressed + vm->ctr.balloon_frames +
	       vm->count[MV_PS_SHARED] + vm->count[MV_PS_ZERO];
}

static void test_hugetlb_pages_are_never_taken_under_pressure(void **st)
{
	(void)st;
	/* 96 MiB host less a 16 MiB pool: two busy 48 MiB VMs and the
	 * 16 MiB hugetlbfs one do not fit */
	struct mv_sim *s = mvt_sim(scenario(96, 8, 16 * 1024, 2, ""),
				   "pressure.xml", 1);
	const struct mv_vm *vm = s->vm[0];
	mv_mpn_t first = vm->pmap[0].mpn;
	mvt_sim_run(s); /* verify: every page's bytes, every step */
	assert_true(s->verify_checks > 0);
	assert_int_equal(vm->count[MV_PS_PRIVATE], vm->npages);
	assert_int_equal(taken(s, 0), 0);
	assert_int_equal(vm->pmap[0].mpn, first); /* not even migrated */
	assert_int_equal(vm->thp_huge, vm->npages / MV_RUN_FRAMES);
	/* its guest gave the balloon its 4 MiB: the host got no frame */
	assert_true(vm->ctr.balloon_pages >= 1024);
	assert_int_equal(vm->ctr.balloon_frames, 0);
	/* the others paid for the shortage */
	assert_true(taken(s, 1) + taken(s, 2) > 1000);
	assert_pool_whole(s);
	mv_sim_destroy(s);
}

static void test_hugetlb_runs_repeat(void **st)
{
	(void)st;
	struct mv_sim *a = mvt_sim(scenario(96, 8, 16 * 1024, 2, ""), "a.xml",
				   0);
	mvt_sim_run(a);
	struct mv_sim *b = mvt_sim(scenario(96, 8, 16 * 1024, 2, ""), "b.xml",
				   0);
	mvt_sim_run(b);
	mvt_assert_same_run(a, b);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

/* Loading (or, when the blocks only fail at boot, powering on) fails
 * with one error naming the pool's element. */
static void assert_pool_rejected(const char *host_kids, int at_boot,
				 const char *field)
{
	char x[2048];
	snprintf(x, sizeof x,
		 "<scenario name='p' duration='1s'>\n"
		 " <host><memory unit='MiB'>64</memory>\n"
		 "  %s\n"
		 " </host>\n"
		 " <vm><domain type='kvm'><name>a</name>"
		 "<memory unit='MiB'>16</memory></domain></vm>\n"
		 "</scenario>\n",
		 host_kids);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string(x, "p.xml", ".", &sc, &err);
	if (at_boot) {
		mvt_ok(rc, &err, "load");
		struct mv_sim *s = NULL;
		rc = mv_sim_create(sc, 0, &s, &err);
		assert_null(s);
	}
	assert_int_equal(rc, MV_EINVAL);
	assert_string_equal(err.field, field);
	assert_int_equal(err.line, 3);
	if (!at_boot)
		mv_scenario_free(sc);
}

static void test_pool_that_cannot_fit_is_an_input_error(void **st)
{
	(void)st;
	/* more than the host's memory */
	assert_pool_rejected("<hugepages size='2M' count='33'/>", 0,
			     "host/hugepages/count");
	/* 64 MiB, but the zero frame leaves 31 aligned blocks */
	assert_pool_rejected("<hugepages count='32'/>", 1,
			     "host/hugepages/count");
	assert_pool_rejected("<hugepages size='1G' count='1'/>", 0,
			     "host/hugepages/size");
	assert_pool_rejected("<hugepages size='2048KiB'/>", 0,
			     "host/hugepages/count");
}

static void test_pool_is_spread_over_the_nodes_in_turn(void **st)
{
	(void)st;
	/* a 20 MiB hugetlbfs VM homed on node 1 takes node 1's five pages
	 * and five more from node 0 */
	struct mv_sim *s = mvt_sim(
		"<scenario name='n' duration='100ms'>"
		" <host><memory unit='MiB'>128</memory><numa nodes='2'/>"
		"  <hugepages count='11'/></host>"
		" <vm><domain type='kvm'><name>a</name>"
		"  <memory unit='MiB'>20</memory>"
		"  <memoryBacking><hugepages/></memoryBacking>"
		"  <numatune><memory mode='preferred' nodeset='1'/></numatune>"
		" </domain></vm>"
		"</scenario>",
		"nodes.xml", 1);
	const struct mv_hugetlb *p = &s->host->hugetlb;
	assert_int_equal(p->node_total[0], 6);
	assert_int_equal(p->node_total[1], 5);
	assert_int_equal(p->node_free[0], 1);
	assert_int_equal(p->node_free[1], 0);
	assert_int_equal(s->vm[0]->ctr.remote_frames, 5 * MV_RUN_FRAMES);
	mvt_sim_run(s);
	assert_pool_whole(s);
	mv_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_pool_is_reserved_at_boot_and_backs_the_vm_whole),
		cmocka_unit_test(test_vm_whose_pool_is_short_does_not_start),
		cmocka_unit_test(
			test_hugetlb_pages_are_never_taken_under_pressure),
		cmocka_unit_test(test_pool_is_spread_over_the_nodes_in_turn),
		cmocka_unit_test(test_hugetlb_runs_repeat),
		cmocka_unit_test(test_pool_that_cannot_fit_is_an_input_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
