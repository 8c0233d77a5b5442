/* End-to-end scenario tests of the simulator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/mvtest.h"

static struct mv_sim *sim_from(const char *xml, int verify)
{
	return mvt_sim(xml, "test.xml", verify);
}

static void run(struct mv_sim *s)
{
	mvt_sim_run(s);
}

static const char *mixed =
	"<scenario name='mixed' seed='11' duration='3s' step='10ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>80</memory><numa nodes='2'/></host>"
	" <vm count='2'>"
	"  <domain type='kvm'><name>lin</name><memory unit='MiB'>48</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='linux' image='debian-12' image-size='4MiB' "
	"swap='64MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' dist='zipf' size='12MiB' rate='40k' "
	"write-ratio='0.3'/>"
	"  <workload kind='phased' size='4MiB' region='16MiB' phase='1s' "
	"rate='20k' content='random'/>"
	"  <workload kind='leak' size='1MiB' rate='1k' leak='4MiB' "
	"leak-max='8MiB'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>win</name><memory unit='MiB'>32</memory>"
	"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"    <mv:guest os='windows' image='win2019' image-size='4MiB'/>"
	"   </mv:memvisor></metadata></domain>"
	"  <workload kind='idle' size='8MiB' content='app' app='sql'/>"
	" </vm>"
	"</scenario>";

/* Every invariant of every layer holds after every step (verify = 1). */
static void test_invariants_hold_after_every_step(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(mixed, 1);
	run(s);
	assert_int_equal(s->steps, 300);
	/* the host ran out: what the VMs touch does not fit in 80 MiB */
	assert_true(s->min_free < s->host->nframes / 50);
	mv_sim_destroy(s);
}

/*
 * A stop request (the CLI's SIGINT/SIGTERM flag) is seen between VMs of a
 * step: the first step, which boots every guest, stops before the next VM
 * boots instead of after all of them.
 */
static void test_a_stop_request_ends_the_step_between_vms(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(mixed, 0);
	volatile sig_atomic_t flag = 1;
	s->stop = &flag;
	struct mv_error err = {0};
	assert_int_equal(mv_sim_step(s, &err), MV_ECANCELED);
	assert_int_equal(s->steps, 0);
	for (int i = 0; i < s->nvms; i++)
		assert_false(mv_guest_booted(s->guest[i]));
	flag = 0;
	assert_int_equal(mv_sim_step(s, &err), 0);
	assert_int_equal(s->steps, 1);
	for (int i = 0; i < s->nvms; i++)
		assert_true(mv_guest_booted(s->guest[i]));
	mv_sim_destroy(s);
}

static void test_same_seed_gives_the_same_run(void **state)
{
	(void)state;
	struct mv_sim *a = sim_from(mixed, 0), *b = sim_from(mixed, 0);
	run(a);
	run(b);
	mvt_assert_same_run(a, b);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

static void test_another_seed_gives_another_run(void **state)
{
	(void)state;
	struct mv_sim *a = sim_from(mixed, 0);
	char *xml2 = strdup(mixed);
	memcpy(strstr(xml2, "seed='11'"), "seed='12'", 9);
	struct mv_sim *b = sim_from(xml2, 0);
	free(xml2);
	run(a);
	run(b);
	int differ = 0;
	for (int i = 0; i < a->nsamples; i++)
		differ |= memcmp(a->samples[i].vm, b->samples[i].vm,
				 (size_t)a->nvms * sizeof *a->samples[i].vm) !=
			  0;
	assert_true(differ);
	mv_sim_destroy(a);
	mv_sim_destroy(b);
}

static void test_samples_add_up_and_are_taken_every_interval(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(mixed, 0);
	run(s);
	assert_int_equal(s->nsamples, 7); /* 0, 0.5, ..., 3 s */
	for (int i = 0; i < s->nsamples; i++) {
		const struct mv_sample *sm = &s->samples[i];
		assert_int_equal(sm->t_ns, (uint64_t)i * 500 * MV_NS_PER_MS);
		uint64_t used = 0;
		for (int v = 0; v < s->nvms; v++) {
			uint64_t sum = 0;
			for (int st = 0; st < MV_PS_COUNT; st++)
				sum += sm->vm[v].state[st];
			assert_int_equal(sum, s->vm[v]->npages);
			used += sm->vm[v].state[MV_PS_PRIVATE] +
				sm->vm[v].state[MV_PS_SHARED] +
				sm->vm[v].zcache.frames;
		}
		/* every frame is free or held once: sharing saves pages_sharing
		 */
		assert_int_equal(used - sm->share.pages_sharing + sm->host_free,
				 mv_host_usable_frames(s->host));
	}
	uint64_t t = 0;
	for (int k = 0; k < MV_MEMSTATE_COUNT; k++)
		t += s->state_ns[k];
	assert_int_equal(t, s->sc->duration_ns);
	mv_sim_destroy(s);
}

static void test_full_host_stalls_vms_and_costs_progress(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(mixed, 0);
	run(s);
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	assert_int_equal(last->memstate, MV_MEMSTATE_LOW);
	uint64_t waits = 0;
	for (int v = 0; v < s->nvms; v++)
		waits += last->vm[v].faults[MV_FAULT_ALLOC_WAIT];
	assert_true(waits > 0);
	assert_true(last->vm[0].done < last->vm[0].demanded);
	assert_true(last->vm[0].stall_ns > 0);
	mv_sim_destroy(s);
}

/*
 * A VM whose three workloads all wait for memory waits at most the time
 * it ran: one vCPU, not one per workload (it used to read up to 300%).
 */
static void test_several_blocked_workloads_wait_one_vcpu(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(
		"<scenario seed='2' duration='2s' step='10ms' "
		"stats-interval='1s'>"
		" <host><memory unit='MiB'>48</memory><reclaim enabled='no'/>"
		"  <sharing enabled='no'/></host>"
		" <vm><domain><name>v</name><memory unit='MiB'>256</memory>"
		"  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		"   <mv:guest "
		"image-size='8MiB'/></mv:memvisor></metadata></domain>"
		"  <workload name='a' size='64MiB' rate='20k'/>"
		"  <workload name='b' size='64MiB' rate='20k'/>"
		"  <workload name='c' size='64MiB' rate='20k'/>"
		" </vm></scenario>",
		0);
	run(s);
	const struct mv_sample_vm *v = &s->samples[s->nsamples - 1].vm[0];
	assert_true(v->faults[MV_FAULT_ALLOC_WAIT] > 0);
	assert_true(v->done < v->demanded);
	assert_true(v->stall_ns <= s->sc->duration_ns);
	mv_sim_destroy(s);
}

/*
 * <budget>: the policy manages 96 MiB of a 256 MiB machine, as `memvisor
 * agent --host-memory` does a host. Two VMs hold about 2 x 56 MiB: over
 * the budget, so the state is low and balloons inflate, although the
 * machine has room. With <reclaim balloon-only>, as under the agent,
 * nothing is swapped or compressed, no allocation waits, and no balloon
 * takes a guest below its use + 20% of what it has.
 */
static const char *budget_xml =
	"<scenario seed='5' duration='6s' step='10ms' stats-interval='1s'>"
	" <host><memory unit='MiB'>256</memory>%s%s<sharing enabled='no'/>"
	" </host>"
	" <vm count='2'><domain><name>v</name><memory unit='MiB'>64</memory>"
	"  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"   <mv:guest image-size='4MiB' balloon-rate='8MiB'%s/>"
	"  </mv:memvisor></metadata></domain>"
	"  <workload name='held' kind='idle' size='40MiB' content='random'/>"
	"  <workload name='freed' kind='idle' size='12MiB' content='random' "
	"stop='500ms'/>"
	" </vm></scenario>";

static struct mv_sim *budget_run(const char *budget, const char *reclaim,
				 const char *guest)
{
	char xml[2048];
	snprintf(xml, sizeof xml, budget_xml, budget, reclaim, guest);
	struct mv_sim *s = sim_from(xml, 1);
	run(s);
	return s;
}

static void test_a_budget_below_the_guests_balloons_them_only(void **state)
{
	(void)state;
	struct mv_sim *s = budget_run("", "", "");
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	assert_int_equal(last->memstate, MV_MEMSTATE_HIGH);
	for (int v = 0; v < s->nvms; v++)
		assert_int_equal(last->vm[v].state[MV_PS_BALLOONED], 0);
	mv_sim_destroy(s);

	s = budget_run("<budget unit='MiB'>96</budget>",
		       "<reclaim balloon-only='yes'/>", "");
	assert_int_equal(s->samples[1].memstate, MV_MEMSTATE_LOW);
	last = &s->samples[s->nsamples - 1];
	for (int v = 0; v < s->nvms; v++) {
		const struct mv_sample_vm *m = &last->vm[v];
		assert_true(m->state[MV_PS_BALLOONED] > 0);
		assert_int_equal(m->state[MV_PS_SWAPPED], 0);
		assert_int_equal(m->state[MV_PS_COMPRESSED], 0);
		assert_int_equal(m->faults[MV_FAULT_ALLOC_WAIT], 0);
		/* the floor: use + 20% of what the guest has */
		uint64_t actual = 16384 - m->state[MV_PS_BALLOONED];
		uint64_t used = actual - m->guest.free_pages;
		assert_true(actual + 2048 >= used + actual / 5);
	}
	mv_sim_destroy(s);
}

/*
 * <mv:guest overhead>: QEMU's own memory, in the VM's RSS for memvisor
 * agent. A 160 MiB budget holds the two VMs' ~112 MiB of frames, but not
 * with 32 MiB of overhead each: the policy sees it as theirs and the
 * host's, and balloons.
 */
static void test_overhead_counts_against_the_budget(void **state)
{
	(void)state;
	const char *budget = "<budget unit='MiB'>160</budget>";
	const char *reclaim = "<reclaim balloon-only='yes'/>";
	struct mv_sim *s = budget_run(budget, reclaim, "");
	const struct mv_sample *last = &s->samples[s->nsamples - 1];
	assert_int_equal(last->memstate, MV_MEMSTATE_HIGH);
	assert_int_equal(last->vm[0].state[MV_PS_BALLOONED], 0);
	mv_sim_destroy(s);
	s = budget_run(budget, reclaim, " overhead='32MiB'");
	assert_int_equal(s->samples[1].memstate, MV_MEMSTATE_LOW);
	last = &s->samples[s->nsamples - 1];
	for (int v = 0; v < s->nvms; v++)
		assert_true(last->vm[v].state[MV_PS_BALLOONED] > 0);
	mv_sim_destroy(s);
}

static void test_a_budget_above_memory_is_refused(void **state)
{
	(void)state;
	char xml[2048];
	snprintf(xml, sizeof xml, budget_xml, "<budget unit='MiB'>300</budget>",
		 "", "");
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	assert_int_not_equal(
		mv_scenario_load_string(xml, "b.xml", ".", &sc, &err), 0);
	assert_string_equal(err.field, "host/budget");
	assert_non_null(strstr(err.msg, "exceeds the host's memory"));
	assert_int_equal(err.line, 1);
}

static void test_ample_host_never_waits(void **state)
{
	(void)state;
	const char *xml =
		"<scenario seed='3' duration='2s'>"
		" <host><memory unit='MiB'>256</memory></host>"
		" <vm count='3'><domain type='kvm'><name>v</name><memory "
		"unit='MiB'>64</memory></domain>"
		"  <workload kind='steady' size='16MiB' rate='50k'/></vm>"
		"</scenario>";
	struct mv_sim *s = sim_from(xml, 1);
	run(s);
	for (int v = 0; v < s->nvms; v++) {
		assert_int_equal(s->vm[v]->ctr.faults[MV_FAULT_ALLOC_WAIT], 0);
		uint64_t dem, done;
		mv_guest_progress(s->guest[v], &dem, &done);
		assert_true(done >= 0.97 * (double)dem); /* only fault stalls */
	}
	assert_int_equal(s->state_ns[MV_MEMSTATE_HIGH], s->sc->duration_ns);
	mv_sim_destroy(s);
}

static int mapped(const struct mv_pme *e)
{
	return e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED;
}

static void test_vms_booting_one_image_hold_identical_pages(void **state)
{
	(void)state;
	struct mv_sim *s = sim_from(mixed, 0);
	run(s);
	/* image pages sit in each guest's page cache; count pages of lin-1
	 * whose bytes also appear in lin-2 (what page sharing will find) */
	const struct mv_vm *a = s->vm[0], *b = s->vm[1];
	uint64_t same = 0;
	uint8_t ba[MV_PAGE_SIZE], bb[MV_PAGE_SIZE];
	for (mv_gppn_t g = 0; g < 1024 && g < a->npages; g++)
		if (mapped(&a->pmap[g]) && mapped(&b->pmap[g]) &&
		    memcmp(mv_host_frame_read(s->host, a->pmap[g].mpn, ba),
			   mv_host_frame_read(s->host, b->pmap[g].mpn, bb),
			   MV_PAGE_SIZE) == 0)
			same++;
	assert_true(same > 900); /* the boot loads image pages in order */
	mv_sim_destroy(s);
}

/* This process's resident memory in bytes (/proc/self/statm). */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, res = 0;
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu %llu", &size, &res), 2);
	fclose(f);
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * A 4 GiB host whose guests fill it with generated content (OS images,
 * application and private data, Windows' zeroed pages) holds descriptors,
 * not bytes: this process stays far below the host's size.
 */
static void test_a_host_full_of_generated_content_costs_little_rss(void **state)
{
	(void)state;
	static const char *xml =
		"<scenario name='rss' seed='5' duration='4s' step='10ms'>"
		" <host><memory unit='GiB'>4</memory></host>"
		" <vm count='2'>"
		"  <domain type='kvm'><name>w</name>"
		"   <memory unit='MiB'>2048</memory>"
		"   <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		"    <mv:guest os='windows' image='win2019' "
		"image-size='256MiB' zero-rate='500k'/>"
		"   </mv:memvisor></metadata></domain>"
		"  <workload kind='idle' size='900MiB' compressibility='0.5'/>"
		"  <workload kind='steady' size='400MiB' rate='200k' "
		"write-ratio='0.5' content='app' app='db'/>"
		" </vm>"
		"</scenario>";
	uint64_t before = rss_bytes();
	struct mv_sim *s = sim_from(xml, 0);
	run(s);
	uint64_t used = s->host->nframes - 1 - s->host->nfree;
	/* the guests did fill the host... */
	assert_true(used * MV_PAGE_SIZE > 3 * MV_GIB);
	/* ...and it cost this process less than a tenth of that */
	uint64_t rss = rss_bytes();
	print_message("    note: %llu MiB of the host in use, %llu MiB more "
		      "resident in this process\n",
		      (unsigned long long)(used * MV_PAGE_SIZE / MV_MIB),
		      (unsigned long long)((rss > before ? rss - before : 0) /
					   MV_MIB));
	assert_true(rss - (rss > before ? before : rss) <
		    used * MV_PAGE_SIZE / 10);
	mv_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invariants_hold_after_every_step),
		cmocka_unit_test(
			test_a_host_full_of_generated_content_costs_little_rss),
		cmocka_unit_test(test_a_stop_request_ends_the_step_between_vms),
		cmocka_unit_test(test_same_seed_gives_the_same_run),
		cmocka_unit_test(test_another_seed_gives_another_run),
		cmocka_unit_test(
			test_samples_add_up_and_are_taken_every_interval),
		cmocka_unit_test(test_full_host_stalls_vms_and_costs_progress),
		cmocka_unit_test(test_several_blocked_workloads_wait_one_vcpu),
		cmocka_unit_test(test_ample_host_never_waits),
		cmocka_unit_test(
			test_a_budget_below_the_guests_balloons_them_only),
		cmocka_unit_test(test_a_budget_above_memory_is_refused),
		cmocka_unit_test(test_overhead_counts_against_the_budget),
		cmocka_unit_test(
			test_vms_booting_one_image_hold_identical_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
