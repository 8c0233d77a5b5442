/*
 * NUMA in the simulator (src/sim/sim.c, docs/numa.md): a strict
 * <numatune> VM whose nodeset is full is reclaimed on those nodes and,
 * when that frees nothing (locked memory), OOM-killed with the kernel's
 * CONSTRAINT_MEMORY_POLICY, its memory back to the host; with swap it
 * runs on, paging. ESX's rebalancer gives a spilled VM a new home node.
 */
#include <stdio.h>
#include <string.h>

#include "support/mvtest.h"

/* A 96 MiB VM touching 80 MiB on a host of two 64 MiB nodes, strict to
 * node 0; BACKING is its <memoryBacking>. */
static const char *strict_fmt =
	"<scenario name='strict' seed='3' duration='2s' step='10ms' "
	"stats-interval='1s'>"
	" <host><memory unit='MiB'>128</memory><numa nodes='2'/>"
	"  <sharing enabled='no'/></host>"
	" <vm>"
	"  <domain type='kvm'><name>s</name><memory unit='MiB'>96</memory>"
	"   %s<numatune><memory mode='strict' nodeset='0'/></numatune>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='80MiB' rate='50k' write-ratio='0.3' "
	"content='data'/>"
	" </vm>"
	"</scenario>";

static struct mv_sim *run_strict(const char *backing)
{
	static char xml[2048];
	snprintf(xml, sizeof xml, strict_fmt, backing);
	struct mv_sim *s = mvt_sim(xml, "strict.xml", 1);
	mvt_sim_run(s);
	return s;
}

static void test_strict_locked_vm_is_oom_killed_by_its_policy(void **state)
{
	(void)state;
	struct mv_sim *s = run_strict(
		"<memoryBacking><locked/></memoryBacking>");
	const struct mv_sim_oom *o = &s->oom[0];
	assert_int_equal(o->killed, 1);
	assert_int_equal(o->constraint, MV_OOM_MEMORY_POLICY);
	assert_true(o->at_ns > 0 && o->at_ns < 2000000000ull);
	/* the bound node's frames, which it filled */
	assert_int_equal(o->max_pages, s->host->node[0].nframes);
	assert_true(o->held_pages + 16 >= o->max_pages);
	assert_true(s->vm[0]->ctr.numa_bind_failed >= 1);
	/* node 1 was never touched, and everything is the host's again */
	assert_int_equal(s->host->numastat[1].numa_hit, 0);
	assert_int_equal(s->vm[0]->count[MV_PS_UNTOUCHED], s->vm[0]->npages);
	assert_int_equal(s->host->nfree, mv_host_usable_frames(s->host));
	assert_string_equal(mv_oom_constraint_name(MV_OOM_MEMORY_POLICY),
			    "mempolicy");
	mv_sim_destroy(s);
}

static void test_strict_vm_with_swap_pages_on_its_node(void **state)
{
	(void)state;
	struct mv_sim *s = run_strict("");
	assert_int_equal(s->oom[0].killed, 0);
	struct mv_vm *vm = s->vm[0];
	assert_true(vm->ctr.numa_bind_failed >= 1);
	/* reclaim on node 0 made room: pages went out, none to node 1 */
	assert_true(vm->count[MV_PS_SWAPPED] + vm->count[MV_PS_COMPRESSED] > 0);
	assert_int_equal(vm->numa.node_pages[1], 0);
	assert_int_equal(s->host->numastat[1].numa_hit, 0);
	mv_sim_destroy(s);
}

/* examples/numa/rebalance.xml, 8 s: with <numa rebalance='yes'> the
 * spilled VM c gets node 1 as its home at a 2 s check and migration
 * brings its pages there; as written (off) nothing moves. */
static void test_rebalancer_moves_the_spilled_vm(void **state)
{
	(void)state;
	for (int on = 0; on < 2; on++) {
		struct mv_scenario *sc = NULL;
		struct mv_error err = {0};
		const char *path = "examples/numa/rebalance.xml";
		mvt_ok(mv_scenario_load(path, &sc, &err), &err, path);
		sc->host.numa_rebalance = on;
		struct mv_sim *s = NULL;
		mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, path);
		while (s->now_ns < 8 * MV_NS_PER_S)
			mvt_ok(mv_sim_step(s, &err), &err, path);
		const struct mv_vm *c = s->vm[2];
		assert_int_equal(c->ctr.numa_home_moves, (uint64_t)on);
		assert_int_equal(c->home_node, on ? 1 : 0);
		uint64_t res = c->numa.node_pages[0] + c->numa.node_pages[1];
		if (on)
			assert_int_equal(c->numa.local_pages, res);
		else
			assert_true(c->numa.local_pages < res);
		assert_int_equal(s->vm[0]->ctr.numa_home_moves, 0);
		mvt_ok(mv_sim_check(s, &err), &err, "check");
		mv_sim_destroy(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_strict_locked_vm_is_oom_killed_by_its_policy),
		cmocka_unit_test(test_strict_vm_with_swap_pages_on_its_node),
		cmocka_unit_test(test_rebalancer_moves_the_spilled_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
