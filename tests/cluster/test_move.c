/* Tests of a running VM's live migration between two simulators
 * (src/cluster/move.c, docs/cluster.md sections 2-3): the guest keeps
 * running on its source during pre-copy, arrives in a new slot of the
 * destination with its guest model, sampler and counters, every page's
 * bytes checked (verification on: mv_sim_move_run compares every page,
 * and mv_sim_check runs after every step of both simulators), its
 * source slot gone with its frames freed; the same run twice is the same;
 * a destination too small aborts and the VM runs on at its source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

#define GUEST                                                                  \
	"<metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"             \
	"<mv:guest os='linux' image='debian-12' image-size='4MiB'/>"           \
	"</mv:memvisor></metadata>"

/* The source: a busy VM (slot 0) and a quiet one. */
static const char *src_xml =
	"<scenario name='esx01' seed='7' duration='3s' step='10ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>96</memory></host>"
	" <vm><domain type='kvm'><name>busy</name>"
	"  <memory unit='MiB'>32</memory>" GUEST "</domain>"
	"  <workload kind='steady' dist='zipf' size='8MiB' rate='40k' "
	"write-ratio='0.3'/>"
	"  <workload kind='steady' size='2MiB' rate='5k' write-ratio='0.5' "
	"content='random'/>"
	" </vm>"
	" <vm><domain type='kvm'><name>quiet</name>"
	"  <memory unit='MiB'>16</memory>" GUEST "</domain>"
	"  <workload kind='idle' size='4MiB' content='app' app='sql'/>"
	" </vm>"
	"</scenario>";

/* The destination: one VM of its own, on a host of `mib` MiB. */
static char *dst_xml(int mib)
{
	static char buf[1024];
	snprintf(buf, sizeof buf,
		 "<scenario name='esx02' seed='7' duration='3s' step='10ms' "
		 "stats-interval='500ms' active-window='1s'>"
		 " <host><memory unit='MiB'>%d</memory></host>"
		 " <vm><domain type='kvm'><name>other</name>"
		 "  <memory unit='MiB'>8</memory>" GUEST "</domain>"
		 "  <workload kind='idle' size='1MiB'/>"
		 " </vm>"
		 "</scenario>",
		 mib);
	return buf;
}

/* A source whose host is too small for its VM: the host compresses and
 * swaps part of it (no balloon driver, so the host itself reclaims). */
static const char *tight_xml =
	"<scenario name='esx03' seed='9' duration='3s' step='10ms' "
	"stats-interval='500ms' active-window='1s'>"
	" <host><memory unit='MiB'>28</memory></host>"
	" <vm><domain type='kvm'><name>big</name>"
	"  <memory unit='MiB'>48</memory>"
	"  <devices><memballoon model='none'/></devices>" GUEST "</domain>"
	"  <workload kind='steady' size='32MiB' rate='20k' write-ratio='0.3' "
	"content='app' app='sql'/>"
	" </vm>"
	"</scenario>";

static struct mv_sim *load(const char *xml, const char *name,
			   enum mv_access_model model)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, name, ".", &sc, &err), &err,
	       "mv_scenario_load_string");
	sc->access_model = model;
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 1, &s, &err), &err, "mv_sim_create");
	return s;
}

static void step(struct mv_sim *s)
{
	struct mv_error err = {0};
	mvt_ok(mv_sim_step(s, &err), &err, "mv_sim_step");
}

static uint64_t done_of(const struct mv_sim *s, int i)
{
	uint64_t demanded, done;
	mv_guest_progress(s->guest[i], &demanded, &done);
	return done;
}

/* A migration at 64 MiB/s: the busy VM's memory takes several steps. */
static void config(struct mv_migrate_config *c)
{
	mv_migrate_config_default(c);
	c->bandwidth = 64.0 * MV_MIB;
}

/* Start moving src's VM 0 to dst at 64 MiB/s. */
static struct mv_sim_move *start(struct mv_sim *src, struct mv_sim *dst)
{
	struct mv_migrate_config c;
	config(&c);
	struct mv_error err = {0};
	struct mv_sim_move *m = NULL;
	mvt_ok(mv_sim_move_start(src, 0, dst, &c, &m, &err), &err,
	       "mv_sim_move_start");
	return m;
}

/*
 * Both simulators run 0.5 s; the busy VM moves while both keep stepping
 * (the move advanced after both stepped, as the cluster step does), then
 * both run to the end. *src and *dst are the finished simulators,
 * *resent the pages the dirty rounds sent.
 */
static void run_move(enum mv_access_model model, struct mv_sim **src_out,
		     struct mv_sim **dst_out, uint64_t *resent)
{
	struct mv_sim *src = load(src_xml, "src.xml", model);
	struct mv_sim *dst = load(dst_xml(96), "dst.xml", model);
	while (src->now_ns < MV_NS_PER_S / 2) {
		step(src);
		step(dst);
	}
	struct mv_error err = {0};
	struct mv_sim_move *m = start(src, dst);
	assert_int_equal(mv_sim_move_dst_index(m), -1);
	uint64_t done_before = done_of(src, 0), src_held = 0;
	uint64_t free_before = 0;
	int steps = 0;
	while (mv_sim_move_state(m) == MV_MIG_ACTIVE) {
		assert_true(++steps < 300);
		step(src);
		step(dst);
		/* what the VM holds on its source just before it goes */
		src_held = src->vm[0]->count[MV_PS_PRIVATE];
		free_before = src->host->nfree;
		mvt_ok(mv_sim_move_run(m, src->sc->step_ns, &err), &err,
		       "mv_sim_move_run");
	}
	assert_int_equal(mv_sim_move_state(m), MV_MIG_DONE);
	assert_true(steps > 2); /* pre-copy took several steps */
	/* the guest ran on its source during pre-copy */
	int k = mv_sim_move_dst_index(m);
	assert_int_equal(k, 1);
	assert_int_equal(dst->nvms, 2);
	assert_int_equal(dst->sc->nvms, 2);
	assert_string_equal(dst->sc->vms[k].vm.name, "busy");
	uint64_t done_arrived = done_of(dst, k);
	assert_true(done_arrived > done_before);
	const struct mv_migration *mig = mv_sim_move_migration(m);
	assert_true(mig->nrounds >= 2);
	*resent = 0; /* pages sent again after the bulk round */
	for (int r = 1; r < mig->nrounds; r++)
		*resent += mig->round[r].pages;
	assert_true(mig->bytes > 0);
	assert_null(mig->src);
	/* the source slot: gone, its objects freed, its frames back */
	assert_true(mv_sim_vm_gone(src, 0));
	assert_true(mv_sim_vm_down(src, 0));
	assert_null(src->vm[0]);
	assert_null(src->guest[0]);
	assert_null(src->swap[0]);
	assert_null(src->zcache[0]);
	assert_string_equal(src->moved[0].to, "esx02");
	assert_int_equal(src->moved[0].left_ns, src->now_ns);
	assert_true(src_held > 1000);
	assert_true(src->host->nfree >= free_before + src_held);
	/* the destination slot: arrived, holding frames */
	assert_true(dst->moved[k].arrived);
	assert_string_equal(dst->moved[k].from, "esx01");
	assert_non_null(dst->vm[k]);
	assert_true(dst->vm[k]->host == dst->host);
	assert_true(dst->vm[k]->count[MV_PS_PRIVATE] > 1000);
	assert_non_null(dst->swap[k]);
	assert_non_null(dst->zcache[k]);
	/* the downtime is the vCPU's lost time */
	assert_true(dst->vm[k]->stall_pending_ns >= mig->downtime_ns ||
		    mig->downtime_ns < src->sc->step_ns);
	mv_sim_move_free(m);
	/* both run on to the end, checked after every step */
	while (src->now_ns < src->sc->duration_ns) {
		step(src);
		step(dst);
	}
	assert_true(done_of(dst, k) > done_arrived);
	/* samples: taken before the arrival one slot, after it two */
	assert_int_equal(dst->samples[0].nvms, 1);
	assert_int_equal(dst->samples[dst->nsamples - 1].nvms, 2);
	assert_true(dst->samples[dst->nsamples - 1].vm[k].done > 0);
	assert_int_equal(src->samples[src->nsamples - 1].vm[0].done, 0);
	struct mv_error e = {0};
	mvt_ok(mv_sim_check(src, &e), &e, "mv_sim_check src");
	mvt_ok(mv_sim_check(dst, &e), &e, "mv_sim_check dst");
	*src_out = src;
	*dst_out = dst;
}

static void test_exact_guest_moves_and_runs_on(void **state)
{
	(void)state;
	struct mv_sim *src, *dst;
	uint64_t resent;
	run_move(MV_MODEL_EXACT, &src, &dst, &resent);
	assert_int_equal(dst->interval_guests, 0);
	assert_true(resent > 100);
	mv_sim_destroy(dst);
	mv_sim_destroy(src);
}

/* The interval model: the guest moves too, and the log holds its lazy
 * writes (mv_guest_log_writes), which the exact model makes at once. */
static void test_interval_guest_moves_and_runs_on(void **state)
{
	(void)state;
	struct mv_sim *src, *dst;
	uint64_t resent, exact;
	run_move(MV_MODEL_INTERVAL, &src, &dst, &resent);
	assert_true(mv_guest_uses_interval(dst->guest[1]));
	assert_int_equal(dst->interval_guests, 2);
	mv_sim_destroy(dst);
	mv_sim_destroy(src);
	/* the lazy writes are in the log: the dirty rounds send about what
	 * the exact model's writes make them send */
	run_move(MV_MODEL_EXACT, &src, &dst, &exact);
	assert_true(resent > 100);
	assert_true((double)resent > 0.8 * (double)exact &&
		    (double)resent < 1.25 * (double)exact);
	mv_sim_destroy(dst);
	mv_sim_destroy(src);
}

/* The same scenarios and move twice: the same samples, pages and bytes. */
static void test_the_same_move_twice_is_the_same_run(void **state)
{
	(void)state;
	for (int model = MV_MODEL_EXACT; model <= MV_MODEL_INTERVAL; model++) {
		struct mv_sim *a, *b, *c, *d;
		uint64_t x, y;
		run_move((enum mv_access_model)model, &a, &b, &x);
		run_move((enum mv_access_model)model, &c, &d, &y);
		assert_int_equal(x, y);
		mvt_assert_same_run(a, c);
		mvt_assert_same_run(b, d);
		mv_sim_destroy(a);
		mv_sim_destroy(b);
		mv_sim_destroy(c);
		mv_sim_destroy(d);
	}
}

/*
 * A destination too small for the VM: the move aborts with MV_EAGAIN,
 * the VM runs on at its source, and the destination has every frame it
 * took back (the same as a twin destination that saw no move).
 */
static void test_destination_too_small_aborts_and_the_vm_runs_on(void **state)
{
	(void)state;
	struct mv_sim *src = load(src_xml, "src.xml", MV_MODEL_EXACT);
	struct mv_sim *dst = load(dst_xml(16), "dst.xml", MV_MODEL_EXACT);
	struct mv_sim *twin = load(dst_xml(16), "dst.xml", MV_MODEL_EXACT);
	while (src->now_ns < MV_NS_PER_S / 2) {
		step(src);
		step(dst);
		step(twin);
	}
	struct mv_error err = {0};
	struct mv_sim_move *m = start(src, dst);
	int rc = 0, steps = 0;
	while (!rc && mv_sim_move_state(m) == MV_MIG_ACTIVE) {
		assert_true(++steps < 300);
		step(src);
		step(dst);
		step(twin);
		rc = mv_sim_move_run(m, src->sc->step_ns, &err);
	}
	assert_int_equal(rc, MV_EAGAIN);
	assert_int_equal(mv_sim_move_state(m), MV_MIG_ABORTED);
	assert_int_equal(mv_sim_move_dst_index(m), -1);
	assert_non_null(strstr(err.msg, "out of memory"));
	assert_false(mv_sim_vm_down(src, 0));
	assert_non_null(src->vm[0]);
	assert_null(src->vm[0]->dirty_log);
	assert_int_equal(dst->nvms, 1);
	assert_int_equal(dst->host->nfree, twin->host->nfree);
	mv_sim_move_free(m);
	uint64_t done = done_of(src, 0);
	while (src->now_ns < src->sc->duration_ns) {
		step(src);
		step(dst);
		step(twin);
	}
	assert_true(done_of(src, 0) > done);
	mvt_assert_same_run(dst, twin);
	mv_sim_destroy(src);
	mv_sim_destroy(dst);
	mv_sim_destroy(twin);
}

/*
 * A VM whose host compressed and swapped part of it: those pages are
 * read back to cross (a real decompression, a real read of the swap
 * file), every byte arrives, and its compression cache and swap file on
 * the source go with its slot.
 */
static void
test_compressed_and_swapped_pages_cross_and_their_stores_go(void **state)
{
	(void)state;
	struct mv_sim *src = load(tight_xml, "tight.xml", MV_MODEL_EXACT);
	struct mv_sim *dst = load(dst_xml(96), "dst.xml", MV_MODEL_EXACT);
	while (src->now_ns < 2 * MV_NS_PER_S) {
		step(src);
		step(dst);
	}
	const struct mv_vm *vm = src->vm[0];
	assert_true(vm->count[MV_PS_COMPRESSED] + vm->count[MV_PS_SWAPPED] >
		    100);
	struct mv_error err = {0};
	struct mv_sim_move *m = start(src, dst);
	int steps = 0;
	while (mv_sim_move_state(m) == MV_MIG_ACTIVE) {
		assert_true(++steps < 300);
		step(src);
		step(dst);
		mvt_ok(mv_sim_move_run(m, src->sc->step_ns, &err), &err,
		       "mv_sim_move_run");
	}
	assert_int_equal(mv_sim_move_state(m), MV_MIG_DONE);
	const struct mv_migration *mig = mv_sim_move_migration(m);
	uint64_t readback = 0;
	for (int r = 0; r < mig->nrounds; r++)
		readback += mig->round[r].readback;
	assert_true(readback > 100);
	/* the source: its stores went with the slot, and only the zero
	 * frame and the hypervisor's own frames are in use */
	assert_null(src->zcache[0]);
	assert_null(src->swap[0]);
	struct mv_error e = {0};
	mvt_ok(mv_sim_check(src, &e), &e, "mv_sim_check src");
	assert_true(src->host->nfree + 16 >= mv_sim_usable_frames(src));
	const struct mv_vm *v = dst->vm[mv_sim_move_dst_index(m)];
	assert_int_equal(v->count[MV_PS_COMPRESSED] + v->count[MV_PS_SWAPPED],
			 0);
	mv_sim_move_free(m);
	while (dst->now_ns < dst->sc->duration_ns) {
		step(src);
		step(dst);
	}
	mv_sim_destroy(src);
	mv_sim_destroy(dst);
}

/* Refusals: the same simulator, a slot out of range, hosts not in step. */
static void test_bad_moves_are_refused(void **state)
{
	(void)state;
	struct mv_sim *src = load(src_xml, "src.xml", MV_MODEL_EXACT);
	struct mv_sim *dst = load(dst_xml(96), "dst.xml", MV_MODEL_EXACT);
	struct mv_migrate_config c;
	config(&c);
	struct mv_error err = {0};
	struct mv_sim_move *m = NULL;
	assert_int_equal(mv_sim_move_start(src, 0, src, &c, &m, &err),
			 MV_EINVAL);
	assert_int_equal(mv_sim_move_start(src, 2, dst, &c, &m, &err),
			 MV_EINVAL);
	step(src);
	assert_int_equal(mv_sim_move_start(src, 0, dst, &c, &m, &err),
			 MV_EINVAL);
	assert_non_null(strstr(err.msg, "same step"));
	assert_null(m);
	mv_sim_destroy(src);
	mv_sim_destroy(dst);
}

/* Whole report the way f is written, in a malloc'd string. */
static char *report(int (*fn)(FILE *, const struct mv_sim *),
		    const struct mv_sim *s)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(fn(f, s), 0);
	fclose(f);
	return buf;
}

/* The host reports (text, JSON, CSV, SVG) of both simulators name the
 * move, and every VM's series is written, the arrival's from when it
 * arrived. */
static void test_reports_name_the_move(void **state)
{
	(void)state;
	struct mv_sim *src, *dst;
	uint64_t resent;
	run_move(MV_MODEL_EXACT, &src, &dst, &resent);
	char *t = report(mv_report_text, src);
	assert_non_null(strstr(t, "live migration"));
	assert_non_null(strstr(t, "left at"));
	assert_non_null(strstr(t, "to esx02"));
	free(t);
	t = report(mv_report_text, dst);
	assert_non_null(strstr(t, "arrived at"));
	assert_non_null(strstr(t, "from esx01"));
	free(t);
	t = report(mv_report_json, src);
	assert_non_null(strstr(t, "\"left_to\": \"esx02\""));
	free(t);
	t = report(mv_report_json, dst);
	assert_non_null(strstr(t, "\"arrived_from\": \"esx01\""));
	free(t);
	const struct mv_sim *both[] = {src, dst};
	for (int h = 0; h < 2; h++)
		for (int i = -1; i < both[h]->nvms; i++) {
			char *buf = NULL;
			size_t n = 0;
			FILE *f = open_memstream(&buf, &n);
			assert_int_equal(mv_report_csv_vm(f, both[h], i), 0);
			assert_int_equal(mv_report_svg_vm(f, both[h], i), 0);
			fclose(f);
			assert_true(n > 100);
			free(buf);
		}
	mv_sim_destroy(dst);
	mv_sim_destroy(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_guest_moves_and_runs_on),
		cmocka_unit_test(test_interval_guest_moves_and_runs_on),
		cmocka_unit_test(test_the_same_move_twice_is_the_same_run),
		cmocka_unit_test(
			test_destination_too_small_aborts_and_the_vm_runs_on),
		cmocka_unit_test(
			test_compressed_and_swapped_pages_cross_and_their_stores_go),
		cmocka_unit_test(test_bad_moves_are_refused),
		cmocka_unit_test(test_reports_name_the_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
