/*
 * Tests of a guest model as bytes (src/guest/pack.c): a guest packed,
 * destroyed and unpacked onto its VM runs on exactly as its twin that
 * never was; a buffer cut short or altered is refused.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"
#include "support/mvtest.h"

#define STEP_NS (10 * MV_NS_PER_MS)

/* A VM of 16 MiB with verification on, its guest, and the time. */
struct rig {
	uint64_t now;
	struct mv_host *host;
	struct mv_vm *vm;
	struct mv_guest *g;
};

/*
 * The guest: a steady set of 24 MiB, half writes, that the guest must
 * swap (its default content: pages of bytes in swap), a Zipf set of
 * generated data, an OS image, and a balloon driver that moves fast.
 */
static struct mv_workload_config *add_wl(struct mv_guest_config *gc,
					 const char *name, enum mv_wl_kind k,
					 uint64_t mib, double rate,
					 double write_ratio)
{
	struct mv_workload_config *w = &gc->workload[gc->nworkloads++];
	mv_workload_config_default(w);
	snprintf(w->name, sizeof w->name, "%s", name);
	w->kind = k;
	w->size_bytes = mib * MV_MIB;
	w->rate = rate;
	w->write_ratio = write_ratio;
	return w;
}

static void config(struct mv_guest_config *gc, enum mv_guest_flavour f)
{
	mv_guest_config_default(gc);
	gc->flavour = f;
	gc->os_bytes = 2 * MV_MIB;
	gc->swap_bytes = 32 * MV_MIB;
	gc->balloon_rate = gc->balloon_reclaim_rate = 20000;
	add_wl(gc, "steady", MV_WL_STEADY, 24, 50000, 0.5);
	struct mv_workload_config *w = add_wl(gc, "zipf", MV_WL_PHASED, 2,
					      20000, 0.2);
	w->dist = MV_DIST_ZIPF;
	w->phase_ns = 300 * MV_NS_PER_MS;
	w->content = MV_CONTENT_DATA;
}

static void rig_up(struct rig *r, const struct mv_guest_config *gc,
		   int interval)
{
	struct mv_error err = {0};
	r->now = 0;
	r->host = mvt_host(64, 1);
	r->vm = mvt_vm(r->host, "g", 16, 0);
	assert_int_equal(mv_vm_enable_verify(r->vm), 0);
	mvt_ok(mv_guest_create(r->vm, gc, 1234, &r->g, &err), &err,
	       "mv_guest_create");
	if (interval) {
		assert_int_equal(mv_guest_use_interval(r->g, STEP_NS, 0), 0);
		assert_true(mv_guest_uses_interval(r->g));
	}
}

static void rig_down(struct rig *r)
{
	mv_guest_destroy(r->g);
	mv_vm_destroy(r->vm);
	mv_host_destroy(r->host);
}

/*
 * The workloads write generated contents (descriptors); give every 5th
 * resident anonymous page bytes of its own, as a program writing
 * arbitrary data does, so that the guest swaps pages of bytes too.
 */
static void write_bytes(struct rig *r)
{
	for (mv_gppn_t p = 0; p < r->vm->npages; p += 5) {
		if (gpage_kind(r->g, p) != GK_ANON ||
		    r->vm->pmap[p].state != MV_PS_PRIVATE ||
		    !mv_vm_access(r->vm, p, 1))
			continue;
		memset(mv_vm_page_bytes(r->vm, p), (int)(p * 31 + 7), 64);
		mv_vm_wrote(r->vm, p);
	}
}

/* Steps from..to of a run: the balloon inflates to 4 MiB at step 40
 * and deflates at step 120; pages of bytes at steps 20 and 30. */
static void rig_run(struct rig *r, int from, int to)
{
	for (int i = from; i < to; i++) {
		if (i == 20 || i == 30)
			write_bytes(r);
		if (i == 40)
			mv_guest_balloon_set_target(r->g, 1024);
		if (i == 120)
			mv_guest_balloon_set_target(r->g, 0);
		/* the hypervisor looks at a few pages (sharing's or
		 * reclamation's scan): the interval model makes their
		 * writes since they were last looked at */
		for (uint64_t k = 0; k < 16; k++)
			mv_vm_observe(r->vm, ((uint64_t)i * 131 + k * 257) %
						     r->vm->npages);
		mv_guest_run(r->g, r->now, STEP_NS);
		r->now += STEP_NS;
	}
	struct mv_error err = {0};
	mvt_ok(mv_vm_check(r->vm, &err), &err, "mv_vm_check");
	mvt_ok(mv_guest_check(r->g, &err), &err, "mv_guest_check");
}

static void pack(const struct mv_guest *g, void **buf, size_t *len)
{
	struct mv_error err = {0};
	mvt_ok(mv_guest_pack(g, buf, len, &err), &err, "mv_guest_pack");
	assert_true(*len > sizeof(struct mv_guest));
}

/* Pack r's guest into *buf and destroy it. */
static void pack_away(struct rig *r, void **buf, size_t *len)
{
	pack(r->g, buf, len);
	mv_guest_destroy(r->g);
	r->g = NULL;
}

/* Pack r's guest, destroy it, make it again from the bytes. */
static void repack(struct rig *r)
{
	void *buf;
	size_t len;
	pack_away(r, &buf, &len);
	struct mv_error err = {0};
	mvt_ok(mv_guest_unpack(buf, len, r->vm, &r->g, &err), &err,
	       "mv_guest_unpack");
	free(buf);
}

/* Every page the same: its state, and a resident page's bytes. */
static void assert_same_pages(const struct rig *a, const struct rig *b)
{
	static uint8_t pa[MV_PAGE_SIZE], pb[MV_PAGE_SIZE];
	uint64_t resident = 0;
	for (mv_gppn_t p = 0; p < a->vm->npages; p++) {
		unsigned st = a->vm->pmap[p].state;
		assert_int_equal(st, b->vm->pmap[p].state);
		if (st != MV_PS_PRIVATE && st != MV_PS_SHARED)
			continue;
		resident++;
		assert_int_equal(
			mv_hash(mv_vm_page_read(a->vm, p, pa), MV_PAGE_SIZE),
			mv_hash(mv_vm_page_read(b->vm, p, pb), MV_PAGE_SIZE));
	}
	assert_true(resident > a->vm->npages / 2);
}

/* The random streams' next outputs: the OS's and every workload's. */
static void assert_same_streams(const struct mv_guest *a,
				const struct mv_guest *b)
{
	struct mv_rng x = a->os_rng, y = b->os_rng;
	for (int k = 0; k < 4; k++)
		assert_int_equal(mv_rng_next(&x), mv_rng_next(&y));
	for (int i = 0; i < a->nwork; i++) {
		x = a->work[i].rng;
		y = b->work[i].rng;
		for (int k = 0; k < 4; k++)
			assert_int_equal(mv_rng_next(&x), mv_rng_next(&y));
	}
}

/* The twins agree: statistics, progress, every page, the true active
 * set (the interval model's sums), the random streams, and the two
 * guests packed again (the interval model's events and stream
 * included). */
static void assert_twins(const struct rig *a, const struct rig *b)
{
	struct mv_guest_stats sa, sb;
	mv_guest_stats(a->g, &sa);
	mv_guest_stats(b->g, &sb);
	assert_memory_equal(&sa, &sb, sizeof sa);
	uint64_t da, ka, db, kb;
	mv_guest_progress(a->g, &da, &ka);
	mv_guest_progress(b->g, &db, &kb);
	assert_int_equal(da, db);
	assert_int_equal(ka, kb);
	assert_true(ka > 0);
	assert_same_pages(a, b);
	assert_true(mv_guest_active_pages(a->g, a->now, 1.0) ==
		    mv_guest_active_pages(b->g, b->now, 1.0));
	assert_same_streams(a->g, b->g);
	void *pa, *pb;
	size_t la, lb;
	pack(a->g, &pa, &la);
	pack(b->g, &pb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

/*
 * Two identical guests run 100 steps (the balloon inflating, the guest
 * swapping); one is packed, destroyed and unpacked onto its VM; both run
 * 150 more (the balloon deflates). Everything must agree: statistics,
 * progress, every page, the random streams, and the two guests packed
 * again (the interval model's events and stream included).
 */
static void run_twins(enum mv_guest_flavour f, int interval)
{
	struct mv_guest_config gc;
	config(&gc, f);
	struct rig a, b;
	rig_up(&a, &gc, interval);
	rig_up(&b, &gc, interval);
	rig_run(&a, 0, 100);
	rig_run(&b, 0, 100);
	/* what the buffer must carry is there */
	struct mv_guest_stats st;
	mv_guest_stats(b.g, &st);
	assert_true(st.swap_out > 500);
	assert_true(st.balloon_pages == 1024);
	uint64_t bytes = 0;
	for (uint64_t s = 0; s < b.g->swap_fresh; s++)
		bytes += b.g->swap_desc[s] == MV_DESC_BYTES;
	assert_true(bytes > 100);
	if (f == MV_GUEST_WINDOWS)
		assert_true(b.g->zeroed_hw > 0);
	repack(&b);
	assert_int_equal(mv_guest_uses_interval(b.g), interval);
	struct mv_guest_stats sa, sb;
	mv_guest_stats(a.g, &sa);
	mv_guest_stats(b.g, &sb);
	assert_memory_equal(&sa, &sb, sizeof sa);
	rig_run(&a, 100, 250);
	rig_run(&b, 100, 250);
	assert_twins(&a, &b);
	mv_guest_stats(b.g, &sb);
	assert_true(sb.swap_in > 100);
	assert_int_equal(sb.balloon_pages, 0);
	assert_true(!interval || mv_guest_active_pages(b.g, b.now, 1.0) > 0);
	rig_down(&a);
	rig_down(&b);
}

static void test_an_unpacked_guest_runs_on_as_its_twin_exact(void **state)
{
	(void)state;
	run_twins(MV_GUEST_LINUX, 0);
}

static void
test_an_unpacked_guest_runs_on_as_its_twin_interval_windows(void **state)
{
	(void)state;
	run_twins(MV_GUEST_WINDOWS, 1);
}

/* Unpacking buf (len bytes) onto r's VM fails with MV_EINVAL, a message
 * holding `says`, no guest, and leaves the VM without hooks. */
static void refused(struct rig *r, const void *buf, size_t len,
		    const char *says)
{
	struct mv_error err = {0};
	struct mv_guest *g = (struct mv_guest *)buf; /* not NULL */
	assert_int_equal(mv_guest_unpack(buf, len, r->vm, &g, &err), MV_EINVAL);
	assert_null(g);
	if (!strstr(err.msg, says))
		fail_msg("'%s' does not say '%s'", err.msg, says);
	assert_null(r->vm->on_invalidate);
}

static void test_a_cut_or_altered_buffer_is_refused(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	config(&gc, MV_GUEST_LINUX);
	struct rig r;
	rig_up(&r, &gc, 1);
	rig_run(&r, 0, 60);
	void *buf;
	size_t len;
	pack_away(&r, &buf, &len);
	uint8_t *b = buf;
	refused(&r, b, 0, "shorter than its header");
	refused(&r, b, 20, "shorter than its header");
	refused(&r, b, len / 2, "truncated");
	refused(&r, b, len - 1, "truncated");
	b[0] ^= 0x20;
	refused(&r, b, len, "bad magic");
	b[0] ^= 0x20;
	/* a byte of a page table, of the interval model's stamps */
	b[len / 3] ^= 1;
	refused(&r, b, len, "hash does not match");
	b[len / 3] ^= 1;
	b[len - 5] ^= 0x80;
	refused(&r, b, len, "hash does not match");
	b[len - 5] ^= 0x80;
	/* longer than it says */
	uint8_t *longer = malloc(len + 8);
	memcpy(longer, b, len);
	memset(longer + len, 0, 8);
	refused(&r, longer, len + 8, "longer than its header says");
	free(longer);
	/* onto a VM of another size */
	struct mv_vm *other = mvt_vm(r.host, "other", 8, 1);
	struct mv_error err = {0};
	struct mv_guest *g = NULL;
	assert_int_equal(mv_guest_unpack(b, len, other, &g, &err), MV_EINVAL);
	assert_null(g);
	assert_non_null(strstr(err.msg, "another size"));
	mv_vm_destroy(other);
	/* the buffer itself was whole all along */
	mvt_ok(mv_guest_unpack(b, len, r.vm, &r.g, &err), &err,
	       "mv_guest_unpack");
	assert_non_null(r.vm->on_invalidate);
	/* a second guest onto the same VM: its hooks are taken */
	assert_int_equal(mv_guest_unpack(b, len, r.vm, &g, &err), MV_EINVAL);
	assert_null(g);
	free(buf);
	rig_run(&r, 60, 80);
	rig_down(&r);
}

/*
 * Workloads that read files the simulator loaded (here a usage trace
 * and an address trace made in memory) go as which files they read; the
 * receiver gives its own configuration, naming the same files, and the
 * guest runs on as its twin. Without it, or with other files, the
 * unpack is refused.
 */
static void test_loaded_files_come_from_the_receivers_config(void **state)
{
	(void)state;
	static uint64_t t_ns[3] = {0, MV_NS_PER_S, 2 * MV_NS_PER_S};
	static double frac[3] = {0.2, 0.9, 0.4};
	struct mv_usage_trace u = {
		.path = "u.csv", .nrows = 3, .t_ns = t_ns, .frac = frac};
	static uint64_t page[64];
	static uint32_t rec[1000];
	for (int i = 0; i < 64; i++)
		page[i] = 0x400 + 3 * (uint64_t)i;
	for (int k = 0; k < 1000; k++)
		rec[k] = (uint32_t)((k * 7) % 64) << 2 |
			 (k % 4 == 2 ? MV_TR_STORE : MV_TR_LOAD);
	struct mv_access_trace t = {.path = "t.trace",
				    .nrec = 1000,
				    .rec = rec,
				    .npages = 64,
				    .page = page};
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = MV_MIB;
	struct mv_workload_config *w = add_wl(&gc, "usage", MV_WL_USAGE, 8,
					      5000, 0.3);
	w->usage = &u;
	snprintf(w->trace_file, sizeof w->trace_file, "u.csv");
	w = add_wl(&gc, "trace", MV_WL_TRACE, 0, 20000, 0);
	w->trace = &t;
	snprintf(w->trace_file, sizeof w->trace_file, "t.trace");
	struct rig a, b;
	rig_up(&a, &gc, 0);
	rig_up(&b, &gc, 0);
	rig_run(&a, 0, 100);
	rig_run(&b, 0, 100);
	void *buf;
	size_t len;
	pack_away(&b, &buf, &len);
	struct mv_error err = {0};
	struct mv_guest *g = NULL;
	assert_int_equal(mv_guest_unpack(buf, len, b.vm, &g, &err), MV_EINVAL);
	assert_null(g);
	assert_non_null(strstr(err.msg, "'usage' reads a usage trace"));
	assert_non_null(strstr(err.msg, "not given the receiver's"));
	struct mv_guest_config other = gc;
	snprintf(other.workload[1].trace_file,
		 sizeof other.workload[1].trace_file, "other.trace");
	assert_int_equal(mv_guest_unpack_with(buf, len, b.vm, &other, &g, &err),
			 MV_EINVAL);
	assert_null(g);
	assert_non_null(strstr(err.msg, "'trace' reads an address trace"));
	assert_non_null(strstr(err.msg, "names other files"));
	mvt_ok(mv_guest_unpack_with(buf, len, b.vm, &gc, &b.g, &err), &err,
	       "mv_guest_unpack_with");
	free(buf);
	assert_ptr_equal(b.g->work[0].cfg.usage, &u);
	assert_ptr_equal(b.g->work[1].cfg.trace, &t);
	assert_ptr_equal(b.g->cfg.workload[1].trace, &t);
	rig_run(&a, 100, 200);
	rig_run(&b, 100, 200);
	assert_twins(&a, &b);
	/* the usage set followed the trace down from its peak */
	assert_true(b.g->work[0].uset > 0 &&
		    b.g->work[0].uset < 0.9 * 8 * MV_MIB / MV_PAGE_SIZE);
	assert_true(b.g->work[1].tpos > 0);
	rig_down(&a);
	rig_down(&b);
}

/*
 * A buffer whose hash matches but whose counts are wrong (as a buggy
 * sender's would be) is refused by the counts' checks: the guest's
 * struct starts after the 48-byte header, whose hash (at byte 40) covers
 * everything after it.
 */
#define HEADER_BYTES 48
#define HEADER_HASH 40

static void set_and_rehash(uint8_t *b, size_t len, size_t field, const void *v,
			   size_t n)
{
	memcpy(b + HEADER_BYTES + field, v, n);
	uint64_t h = mv_hash(b + HEADER_BYTES, len - HEADER_BYTES);
	memcpy(b + HEADER_HASH, &h, sizeof h);
}

static void test_wrong_counts_under_a_good_hash_are_refused(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	config(&gc, MV_GUEST_LINUX);
	struct rig r;
	rig_up(&r, &gc, 1);
	rig_run(&r, 0, 50);
	void *buf;
	size_t len;
	pack(r.g, &buf, &len);
	const struct mv_guest *g = r.g;
	struct {
		size_t at, n;
		uint64_t v;
		const char *says;
	} cases[] = {
		{offsetof(struct mv_guest, nfree), 8, g->npages + 1,
		 "bad free list"},
		{offsetof(struct mv_guest, nzeroed), 8, g->npages + 1,
		 "bad zeroed list"},
		{offsetof(struct mv_guest, swap_fresh), 8, g->swap_slots + 1,
		 "bad swap"},
		{offsetof(struct mv_guest, big.cap), 8, 3, "bad clock times"},
		{offsetof(struct mv_guest, nwork), sizeof(int), 17,
		 "bad workloads"},
		{offsetof(struct mv_guest, proc[0].nvpages), 8,
		 GPAGE_INDEX_LIMIT + 1, "bad processes"},
	};
	mv_guest_destroy(r.g);
	r.g = NULL;
	uint8_t *b = malloc(len);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(b, buf, len);
		set_and_rehash(b, len, cases[i].at, &cases[i].v, cases[i].n);
		refused(&r, b, len, cases[i].says);
	}
	/* one more page table entry than the bytes hold: cut short */
	memcpy(b, buf, len);
	uint64_t nv = gc.workload[1].size_bytes / MV_PAGE_SIZE + 4096;
	set_and_rehash(b, len, offsetof(struct mv_guest, proc[1].nvpages), &nv,
		       sizeof nv);
	refused(&r, b, len, "bad");
	free(b);
	struct mv_error err = {0};
	mvt_ok(mv_guest_unpack(buf, len, r.vm, &r.g, &err), &err,
	       "mv_guest_unpack");
	free(buf);
	rig_run(&r, 50, 60);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_an_unpacked_guest_runs_on_as_its_twin_exact),
		cmocka_unit_test(
			test_an_unpacked_guest_runs_on_as_its_twin_interval_windows),
		cmocka_unit_test(test_a_cut_or_altered_buffer_is_refused),
		cmocka_unit_test(
			test_loaded_files_come_from_the_receivers_config),
		cmocka_unit_test(
			test_wrong_counts_under_a_good_hash_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
