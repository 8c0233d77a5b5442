/* Tests of live migration between two hosts in one process
 * (src/cluster/migrate.c, docs/cluster.md): pre-copy rounds over the dirty
 * log, zero pages as a flag, compressed and swapped pages read back,
 * stop-and-copy, auto-converge, the abort when the destination is full,
 * and every page's bytes the same on both sides. */
#include <stdlib.h>
#include <string.h>

#include "reclaim/swap.h"
#include "support/mvtest.h"

#define STEP_NS MV_NS_PER_MS
#define NO_PAGE ((mv_gppn_t)-1)

/* Guest page g gets random bytes (a write through the one access path). */
static void write_bytes(struct mv_vm *vm, mv_gppn_t g, struct mv_rng *r)
{
	uint64_t *p = (uint64_t *)mv_vm_access_bytes(vm, g, 1);
	assert_non_null(p);
	for (unsigned i = 0; i < MV_PAGE_SIZE / 8; i++)
		p[i] = mv_rng_next(r);
	mv_vm_wrote(vm, g);
}

/* Guest page g gets generated content (a descriptor) of param/64
 * compressibility. */
static void write_desc(struct mv_vm *vm, mv_gppn_t g, unsigned param,
		       uint64_t key)
{
	assert_non_null(mv_vm_access(vm, g, 1));
	mv_vm_set_desc(vm, g, mv_desc_make(MV_DESC_DATA, param, key));
}

/*
 * A VM whose pages are: every 10th untouched, every 10th + 1 touched
 * but zero, every 10th + 2 random bytes, the rest generated content.
 * Returns the pages that are not zeros.
 */
static uint64_t fill(struct mv_vm *vm, struct mv_rng *r)
{
	uint64_t nonzero = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		switch (g % 10) {
		case 0:
			break;
		case 1:
			assert_non_null(mv_vm_access(vm, g, 1));
			break;
		case 2:
			write_bytes(vm, g, r);
			nonzero++;
			break;
		default:
			write_desc(vm, g, 48, g * 7919 + 1);
			nonzero++;
		}
	}
	return nonzero;
}

/* Run the migration in 1 ms steps, the guest writing `per_step` random
 * pages (times 1 - throttle) between them, until it ends. */
static int migrate(struct mv_migration *m, double per_step, struct mv_rng *r,
		   uint64_t max_steps)
{
	struct mv_error err = {0};
	double carry = 0;
	int rc = 0;
	for (uint64_t s = 0; s < max_steps && m->state == MV_MIG_ACTIVE; s++) {
		carry += per_step * (100 - m->throttle_pct) / 100.0;
		for (; carry >= 1; carry -= 1)
			write_bytes(m->src, mv_rng_below(r, m->src->npages), r);
		rc = mv_migrate_step(m, STEP_NS, &err);
		if (rc)
			break;
	}
	return rc;
}

static void assert_checks(const struct mv_vm *vm)
{
	struct mv_error err = {0};
	mvt_ok(mv_vm_check(vm, &err), &err, "mv_vm_check");
	mvt_ok(mv_host_check(vm->host, &err), &err, "mv_host_check");
}

static void test_dirty_log_records_every_content_change(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "a", 4, 0);
	struct mv_rng r;
	mv_rng_seed(&r, 1);
	write_bytes(vm, 5, &r); /* before logging: not logged */
	assert_int_equal(mv_vm_dirty_log_start(vm), 0);
	uint64_t *log = calloc(mv_vm_dirty_log_words(vm), sizeof *log);
	assert_non_null(mv_vm_access(vm, 5, 0)); /* a read */
	assert_non_null(mv_vm_access(vm, 6, 0)); /* a zero-fill read */
	assert_int_equal(mv_vm_dirty_log_sync(vm, log), 0);
	write_bytes(vm, 7, &r);
	write_desc(vm, 70, 10, 3);
	write_bytes(vm, 5, &r);
	mv_vm_balloon_page(vm, 100);
	mv_vm_release_page(vm, 6);
	assert_int_equal(mv_vm_dirty_log_sync(vm, log), 5);
	const mv_gppn_t want[] = {5, 6, 7, 70, 100};
	for (unsigned i = 0; i < 5; i++)
		assert_true(log[want[i] >> 6] >> (want[i] & 63) & 1);
	/* the sync cleared the log */
	assert_int_equal(mv_vm_dirty_log_sync(vm, log), 0);
	mv_vm_dirty_log_stop(vm);
	write_bytes(vm, 8, &r);
	assert_null(vm->dirty_log);
	free(log);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* An idle VM: one bulk round, an empty stop-and-copy, zero pages sent as
 * flags (untouched ones take no frame there), every byte the same. */
static void test_idle_vm_moves_in_one_round_with_zero_pages_as_flags(void **s)
{
	(void)s;
	struct mv_host *a = mvt_host(64, 1), *b = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(a, "web", 16, 3);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	struct mv_rng r;
	mv_rng_seed(&r, 7);
	uint64_t nonzero = fill(vm, &r);
	uint64_t b_free = b->nfree;
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	struct mv_migration *m = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_migrate_start(vm, b, &c, &m, &err), &err, "start");
	assert_non_null(vm->dirty_log);
	assert_int_equal(migrate(m, 0, &r, 100000), 0);
	assert_int_equal(m->state, MV_MIG_DONE);
	assert_true(m->converged);
	assert_int_equal(m->nrounds, 2);
	const struct mv_migrate_round *r0 = &m->round[0];
	assert_int_equal(r0->pages, vm->npages);
	assert_int_equal(r0->zero, vm->npages - nonzero);
	assert_int_equal(r0->readback, 0);
	assert_int_equal(r0->bytes,
			 nonzero * MV_MIG_PAGE_WIRE +
				 (vm->npages - nonzero) * MV_MIG_ZERO_WIRE);
	/* 128 MiB/s: the bulk round takes its bytes' time */
	uint64_t want_ns = (uint64_t)((double)r0->bytes * 1e9 / c.bandwidth);
	assert_true(r0->ns + 1 >= want_ns && r0->ns <= want_ns + 1);
	assert_int_equal(m->round[1].pages, 0);
	assert_int_equal(m->downtime_ns, 0);
	assert_null(vm->dirty_log);
	assert_int_equal(mv_migrate_verify(m), 0);
	struct mv_vm *dst = mv_migrate_take(m);
	assert_int_equal(dst->count[MV_PS_PRIVATE], nonzero);
	assert_int_equal(dst->count[MV_PS_UNTOUCHED], vm->npages - nonzero);
	assert_int_equal(b->nfree, b_free - nonzero);
	assert_checks(dst); /* with the source's checksums */
	assert_checks(vm);
	mv_migrate_destroy(m);
	mv_vm_destroy(vm);
	assert_int_equal(a->nfree, mv_host_usable_frames(a));
	mv_vm_destroy(dst);
	assert_int_equal(b->nfree, b_free);
	mv_host_destroy(a);
	mv_host_destroy(b);
}

/* The guest writes while pages go: what it changed goes again, rounds
 * shrink to the downtime limit, and not a byte is lost. */
static void test_pages_written_during_precopy_are_sent_again(void **state)
{
	(void)state;
	struct mv_host *a = mvt_host(64, 1), *b = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(a, "db", 32, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	struct mv_rng r;
	mv_rng_seed(&r, 11);
	fill(vm, &r);
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	c.downtime_limit_ns = 5 * MV_NS_PER_MS;
	struct mv_migration *m = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_migrate_start(vm, b, &c, &m, &err), &err, "start");
	/* 2 pages a millisecond: 8 MiB/s against 128 MiB/s */
	assert_int_equal(migrate(m, 2, &r, 100000), 0);
	assert_int_equal(m->state, MV_MIG_DONE);
	assert_true(m->converged);
	assert_true(m->nrounds >= 3);
	assert_true(m->pages > vm->npages);
	for (int i = 1; i < m->nrounds; i++)
		assert_true(m->round[i].pages < m->round[i - 1].pages);
	assert_true(m->downtime_ns <= c.downtime_limit_ns);
	assert_true(m->downtime_ns > 0);
	assert_int_equal(mv_migrate_verify(m), 0);
	struct mv_vm *dst = mv_migrate_take(m);
	assert_checks(dst);
	/* and the check finds a byte changed behind the migration's back */
	uint8_t *p = mv_vm_access_bytes(dst, 2, 1);
	p[100] ^= 1;
	assert_int_not_equal(mv_vm_check(dst, NULL), 0);
	mv_vm_destroy(dst);
	mv_migrate_destroy(m);
	mv_vm_destroy(vm);
	mv_host_destroy(a);
	mv_host_destroy(b);
}

/*
 * vm (checked, filled by `fill`, r seeded) with a swap file in dir and a
 * compression cache of 64 pages, and every 5th of its first 600 pages
 * reclaimed through them: some compressed, some swapped (both kinds
 * asserted). The pages reclaimed.
 */
static uint64_t reclaimed(struct mv_vm *vm, struct mv_rng *r, const char *dir,
			  struct mv_swapfile **sf, struct mv_zcache **z)
{
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	mv_rng_seed(r, 3);
	fill(vm, r);
	struct mv_error err = {0};
	mvt_ok(mv_swapfile_create(vm, dir, vm->npages, sf, &err), &err,
	       "mv_swapfile_create");
	mvt_ok(mv_zcache_create(vm, 64 * MV_PAGE_SIZE, *sf, z, &err), &err,
	       "mv_zcache_create");
	uint64_t out = 0;
	for (mv_gppn_t g = 2; g < 600; g += 5) { /* bytes and descriptors */
		int st;
		mvt_ok(mv_zcache_out(*z, g, &st, &err), &err, "mv_zcache_out");
		out++;
	}
	uint64_t ncomp = vm->count[MV_PS_COMPRESSED];
	uint64_t nswap = vm->count[MV_PS_SWAPPED];
	assert_true(ncomp > 0 && nswap > 0);
	assert_int_equal(ncomp + nswap, out);
	return out;
}

/* Free what a migration of reclaimed()'s vm left, vm and its dir too. */
static void unreclaimed(struct mv_vm *dst, struct mv_migration *m,
			struct mv_vm *vm, struct mv_swapfile *sf,
			struct mv_zcache *z, char *dir)
{
	mv_vm_destroy(dst);
	mv_migrate_destroy(m);
	mv_zcache_destroy(z);
	mv_swapfile_destroy(sf, 0);
	mv_vm_destroy(vm);
	mvt_rmdir(dir);
}

/* Compressed and swapped pages are read back (real LZ4, a real read of
 * the swap file) without coming back into the source's memory. */
static void test_compressed_and_swapped_pages_are_read_back(void **state)
{
	(void)state;
	struct mv_host *a = mvt_host(64, 1), *b = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(a, "batch", 8, 0);
	struct mv_rng r;
	char *dir = mvt_tmpdir("mvmigrate");
	struct mv_error err = {0};
	struct mv_swapfile *sf = NULL;
	struct mv_zcache *z = NULL;
	uint64_t out = reclaimed(vm, &r, dir, &sf, &z);
	uint64_t ncomp = vm->count[MV_PS_COMPRESSED];
	uint64_t nswap = vm->count[MV_PS_SWAPPED];
	uint64_t a_free = a->nfree;
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	struct mv_migration *m = NULL;
	mvt_ok(mv_migrate_start(vm, b, &c, &m, &err), &err, "start");
	assert_int_equal(migrate(m, 0, &r, 100000), 0);
	assert_int_equal(m->state, MV_MIG_DONE);
	assert_int_equal(m->round[0].readback, out);
	/* the source's memory did not change: the pages stayed out */
	assert_int_equal(a->nfree, a_free);
	assert_int_equal(vm->count[MV_PS_COMPRESSED], ncomp);
	assert_int_equal(vm->count[MV_PS_SWAPPED], nswap);
	/* the read-back took its latency on the migration's clock */
	const struct mv_latency *lat = &a->cfg.lat;
	uint64_t wire_ns = (uint64_t)((double)m->round[0].bytes * 1e9 /
				      c.bandwidth);
	uint64_t rb_ns = ncomp * lat->decompress + nswap * lat->swapin_ssd;
	assert_true(m->round[0].ns + 2 >= wire_ns + rb_ns &&
		    m->round[0].ns <= wire_ns + rb_ns + 2);
	assert_int_equal(mv_migrate_verify(m), 0);
	struct mv_vm *dst = mv_migrate_take(m);
	assert_checks(dst);
	assert_checks(vm);
	unreclaimed(dst, m, vm, sf, z, dir);
	mv_host_destroy(a);
	mv_host_destroy(b);
}

/*
 * With the swap file on shared storage (<storage swap="shared">) a swapped
 * page crosses as its slot, without being read back; a page that changes
 * slot during the pre-copy (swapped in, or swapped out) is sent again; at
 * the end the destination holds the source's slots, reads them through the
 * file, and once the file is attached to it swaps them in with their
 * bytes. An aborted migration leaves every slot the source's.
 */
static void test_shared_swap_sends_slots_and_the_file_follows(void **state)
{
	(void)state;
	struct mv_host *a = mvt_host(64, 1), *b = mvt_host(64, 1);
	struct mv_host *tiny = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(a, "batch", 32, 0);
	struct mv_rng r;
	char *dir = mvt_tmpdir("mvmigrate");
	struct mv_error err = {0};
	struct mv_swapfile *sf = NULL;
	struct mv_zcache *z = NULL;
	reclaimed(vm, &r, dir, &sf, &z);
	uint64_t ncomp = vm->count[MV_PS_COMPRESSED];
	uint64_t nswap = vm->count[MV_PS_SWAPPED];
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	c.shared_swap = 1;

	/* a destination too small: the abort leaves the slots as they were */
	struct mv_migration *m = NULL;
	mvt_ok(mv_migrate_start(vm, tiny, &c, &m, &err), &err, "start");
	assert_int_equal(migrate(m, 0, &r, 100000), MV_EAGAIN);
	assert_int_equal(m->state, MV_MIG_ABORTED);
	mv_migrate_destroy(m);
	assert_int_equal(vm->log_swap, 0);
	assert_int_equal(vm->count[MV_PS_SWAPPED], nswap);
	mvt_ok(mv_swapfile_check(sf, &err), &err, "mv_swapfile_check");
	assert_checks(vm);

	mvt_ok(mv_migrate_start(vm, b, &c, &m, &err), &err, "start");
	/* the bulk round sends the swapped pages first seen as slots */
	mvt_ok(mv_migrate_step(m, STEP_NS, &err), &err, "run");
	assert_int_equal(m->state, MV_MIG_ACTIVE);
	/* behind the round's cursor, pages change slot: one swapped page
	 * comes in, one resident page goes out */
	mv_gppn_t in = NO_PAGE, out = NO_PAGE;
	for (mv_gppn_t g = 0; g < m->cursor && g < vm->npages; g++) {
		if (in == NO_PAGE && vm->pmap[g].state == MV_PS_SWAPPED)
			in = g;
		if (out == NO_PAGE && g % 10 >= 2 &&
		    vm->pmap[g].state == MV_PS_PRIVATE)
			out = g;
	}
	assert_true(in != NO_PAGE && out != NO_PAGE);
	assert_non_null(mv_vm_access(vm, in, 0));
	assert_int_equal(vm->pmap[in].state, MV_PS_PRIVATE);
	mvt_ok(mv_swapfile_out(sf, out, &err), &err, "mv_swapfile_out");
	assert_int_equal(migrate(m, 0, &r, 100000), 0);
	assert_int_equal(m->state, MV_MIG_DONE);
	/* round 0: the swapped pages as slots, only the compressed ones
	 * read back; round 1: the two pages that changed slot */
	assert_int_equal(m->round[0].readback, ncomp);
	assert_true(m->round[0].swap_refs >= nswap - 1);
	assert_true(m->nrounds >= 2);
	uint64_t later_refs = 0;
	for (int i = 1; i < m->nrounds; i++)
		later_refs += m->round[i].swap_refs;
	assert_int_equal(later_refs, 1); /* `out`, now swapped */
	assert_int_equal(mv_migrate_verify(m), 0);
	struct mv_vm *dst = mv_migrate_take(m);
	assert_int_equal(dst->count[MV_PS_SWAPPED], vm->count[MV_PS_SWAPPED]);
	/* the file goes with the VM: its pages come in on the destination */
	mv_swapfile_attach(sf, dst);
	mvt_ok(mv_swapfile_check(sf, &err), &err, "mv_swapfile_check");
	uint64_t swapped = dst->count[MV_PS_SWAPPED];
	for (mv_gppn_t g = 0; g < dst->npages; g++)
		if (dst->pmap[g].state == MV_PS_SWAPPED)
			assert_non_null(mv_vm_access(dst, g, 0));
	struct mv_swap_stats st;
	mv_swapfile_stats(sf, &st);
	assert_int_equal(st.reads, swapped);
	assert_int_equal(st.used, 0);
	assert_checks(dst);
	unreclaimed(dst, m, vm, sf, z, dir);
	mv_host_destroy(a);
	mv_host_destroy(b);
	mv_host_destroy(tiny);
}

/* A VM of `mib` MiB on a, checked and filled by `fill` (r seeded with
 * seed), being migrated to b under c. */
static struct mv_migration *start_filled(struct mv_host *a, struct mv_host *b,
					 uint64_t mib, uint64_t seed,
					 const struct mv_migrate_config *c,
					 struct mv_rng *r)
{
	struct mv_vm *vm = mvt_vm(a, "big", mib, 0);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	mv_rng_seed(r, seed);
	fill(vm, r);
	struct mv_migration *m = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_migrate_start(vm, b, c, &m, &err), &err, "start");
	return m;
}

/* A destination that runs out of frames: the migration aborts, gives its
 * frames back, and the VM runs on at the source, unchanged. */
static void
test_destination_out_of_memory_aborts_and_the_source_runs_on(void **state)
{
	(void)state;
	struct mv_host *a = mvt_host(64, 1), *b = mvt_host(16, 1);
	uint64_t b_free = b->nfree;
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	struct mv_rng r;
	struct mv_migration *m = start_filled(a, b, 32, 5, &c, &r);
	struct mv_vm *vm = m->src;
	struct mv_error err = {0};
	int rc = 0;
	for (int i = 0; i < 100000 && m->state == MV_MIG_ACTIVE && !rc; i++)
		rc = mv_migrate_step(m, STEP_NS, &err);
	assert_int_equal(rc, MV_EAGAIN);
	assert_int_equal(m->state, MV_MIG_ABORTED);
	assert_non_null(strstr(err.msg, "out of memory"));
	assert_null(mv_migrate_dst(m));
	assert_null(vm->dirty_log);
	assert_int_equal(b->nfree, b_free);
	assert_null(mv_migrate_take(m));
	assert_checks(vm);
	/* the source still runs and writes */
	write_bytes(vm, 9, &r);
	assert_checks(vm);
	mv_migrate_destroy(m);
	mv_vm_destroy(vm);
	mv_host_destroy(a);
	mv_host_destroy(b);
}

/* Two migrations' figures are the same, to the clock's last bit. */
static void assert_same_figures(const struct mv_migration *x,
				const struct mv_migration *y)
{
	assert_int_equal(x->state, y->state);
	assert_int_equal(x->abort_gppn, y->abort_gppn);
	assert_int_equal(x->nrounds, y->nrounds);
	for (int i = 0; i < x->nrounds; i++) {
		const struct mv_migrate_round *a = &x->round[i],
					      *b = &y->round[i];
		assert_int_equal(a->pages, b->pages);
		assert_int_equal(a->zero, b->zero);
		assert_int_equal(a->readback, b->readback);
		assert_int_equal(a->swap_refs, b->swap_refs);
		assert_int_equal(a->bytes, b->bytes);
		assert_int_equal(a->start_ns, b->start_ns);
		assert_int_equal(a->ns, b->ns);
		assert_int_equal(a->throttle_pct, b->throttle_pct);
	}
	assert_true(x->clock_ns == y->clock_ns);
	assert_int_equal(x->pages, y->pages);
	assert_int_equal(x->bytes, y->bytes);
	assert_int_equal(x->period_bytes, y->period_bytes);
	assert_int_equal(x->period_dirty, y->period_dirty);
	assert_int_equal(x->period_start_ns, y->period_start_ns);
	assert_int_equal(x->dirty_high, y->dirty_high);
	assert_int_equal(x->converged, y->converged);
	assert_int_equal(x->downtime_ns, y->downtime_ns);
	assert_int_equal(x->throttle_pct, y->throttle_pct);
}

/*
 * Migrate a 24 MiB VM to a 22 MiB host, the guest writing 3 random pages
 * a millisecond, in steps of step_ns (each ms the writes come first).
 * With steps shorter than any page's wire time, each outbox holds at most
 * one page (but the stop-and-copy's): the destination answers page by
 * page, as stage 1's synchronous migration wrote them. Returns the
 * migration (aborted); *after is 1 if an outbox was answered "failed at
 * j" with records after j (the source took them back).
 */
static struct mv_migration *oom_mid_round(struct mv_host *a, struct mv_host *b,
					  uint64_t step_ns, size_t out_max,
					  int *after)
{
	uint64_t b_free = b->nfree;
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	c.bandwidth = 16.0 * MV_MIB;
	c.downtime_limit_ns = 20 * MV_NS_PER_MS;
	c.max_rounds = 12;
	struct mv_rng r;
	struct mv_migration *m = start_filled(a, b, 24, 5, &c, &r);
	if (out_max)
		m->out_max = out_max;
	struct mv_vm *vm = m->src;
	struct mv_error err = {0};
	int rc = 0;
	*after = 0;
	while (m->state == MV_MIG_ACTIVE && !rc) {
		if (!m->more && m->now_ns % MV_NS_PER_MS == 0)
			for (int k = 0; k < 3; k++)
				write_bytes(vm, mv_rng_below(&r, vm->npages),
					    &r);
		/* mv_migrate_step's parts, to see the destination's answer;
		 * after a full outbox, the rest of the slice */
		rc = mv_migrate_run(m, m->more ? 0 : step_ns, &err);
		if (rc || !m->out_len)
			continue;
		uint64_t failed = 0;
		struct mv_error in_err = {0};
		int arc = mv_migrate_in_apply(m->loop, m->out, m->out_len,
					      &failed, &in_err);
		if (arc) {
			assert_int_equal(arc, MV_EAGAIN);
			assert_non_null(strstr(in_err.msg, "out of memory"));
			assert_true(failed < m->nout);
			*after |= failed + 1 < m->nout;
		}
		rc = mv_migrate_applied(m, arc, failed, &err);
	}
	assert_int_equal(rc, MV_EAGAIN);
	assert_non_null(strstr(err.msg, "out of memory"));
	assert_int_equal(m->nout, 0); /* the outbox is emptied */
	assert_null(mv_migrate_dst(m));
	assert_null(vm->dirty_log);
	assert_int_equal(b->nfree, b_free);
	assert_checks(vm);
	return m;
}

/*
 * The destination runs out of frames in the middle of a dirty round,
 * with many pages in the outbox after the one it had no frame for: the
 * source takes those back and reports the abort page and every figure
 * (each round's pages, bytes, zeros and time, the clock, the totals, the
 * auto-converge period) exactly as a migration answered page by page
 * does.
 */
static void
test_destination_out_of_memory_mid_round_reports_what_a_page_by_page_migration_does(
	void **state)
{
	(void)state;
	struct mv_host *a[3], *b[3];
	for (int i = 0; i < 3; i++) {
		a[i] = mvt_host(64, 1);
		b[i] = mvt_host(22, 1);
	}
	int after_batched, after_paged, after_parts;
	struct mv_migration *batched = oom_mid_round(a[0], b[0], STEP_NS, 0,
						     &after_batched);
	/* 400 ns: less than a zero page's 536 ns on the wire at 16 MiB/s */
	struct mv_migration *paged = oom_mid_round(a[1], b[1], 400, 0,
						   &after_paged);
	/* an outbox full after 5 pages of bytes: every slice in parts */
	struct mv_migration *parts = oom_mid_round(
		a[2], b[2], STEP_NS, 5 * (MV_MIG_REC_HEADER + MV_PAGE_SIZE),
		&after_parts);
	assert_true(after_batched);
	assert_false(after_paged);
	/* mid-round, in a dirty round */
	assert_true(batched->nrounds >= 2);
	assert_true(batched->round[batched->nrounds - 1].pages > 0);
	assert_int_equal(batched->throttle_pct, 0);
	assert_same_figures(batched, paged);
	assert_same_figures(batched, parts);
	struct mv_migration *all[3] = {batched, paged, parts};
	for (int i = 0; i < 3; i++) {
		struct mv_vm *v = all[i]->src;
		mv_migrate_destroy(all[i]);
		mv_vm_destroy(v);
		mv_host_destroy(a[i]);
		mv_host_destroy(b[i]);
	}
}

/* The byte offset of each record of buf[0..len) into off (at most n). */
static uint64_t record_offsets(const uint8_t *buf, size_t len, size_t *off,
			       uint64_t n)
{
	uint64_t k = 0;
	for (size_t o = 0; o < len && k < n; k++) {
		off[k] = o;
		o += MV_MIG_REC_HEADER +
		     (buf[o + 4] == MV_MIG_REC_BYTES ? MV_PAGE_SIZE : 0);
	}
	return k;
}

/* buf (a copy of an outbox) with byte `at` set to x, applied: refused at
 * record `want` with MV_EINVAL, and nothing applied. */
static void assert_refused(struct mv_migration_in *in, const uint8_t *buf,
			   size_t len, size_t at, uint8_t x, uint64_t want,
			   const char *why)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	memcpy(p, buf, len);
	if (at < len)
		p[at] = x;
	uint64_t free0 = in->vm->host->nfree, failed = 99999;
	struct mv_error err = {0};
	assert_int_equal(mv_migrate_in_apply(in, p, len, &failed, &err),
			 MV_EINVAL);
	assert_int_equal(failed, want);
	assert_string_equal(err.field, "migration record");
	assert_non_null(strstr(err.msg, why));
	assert_int_equal(in->records, 0);
	assert_int_equal(in->vm->count[MV_PS_PRIVATE], 0);
	assert_int_equal(in->vm->host->nfree, free0);
	free(p);
}

/*
 * A record buffer cut short, or with a record's magic, kind, page or
 * descriptor damaged, is refused with an error naming the record, and
 * nothing of it is applied; the intact buffer then applies. Delivered
 * damaged, the source aborts at that record's page; the VM runs on.
 */
static void
test_a_bad_or_truncated_record_buffer_is_refused_unapplied(void **state)
{
	(void)state;
	struct mv_host *a = mvt_host(64, 1), *b = mvt_host(64, 1);
	uint64_t b_free = b->nfree;
	struct mv_migrate_config c;
	mv_migrate_config_default(&c);
	struct mv_rng r;
	struct mv_migration *m = start_filled(a, b, 4, 7, &c, &r);
	struct mv_vm *vm = m->src;
	struct mv_error err = {0};
	mvt_ok(mv_migrate_run(m, 2 * STEP_NS, &err), &err, "run");
	size_t len = m->out_len;
	uint64_t n = m->nout;
	assert_true(n > 20);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	memcpy(buf, m->out, len);
	size_t off[32];
	assert_int_equal(record_offsets(buf, len, off, 32), 32);
	/* records in page order: 0 untouched, 1 zero, 2 bytes, 3 a
	 * descriptor */
	assert_int_equal(buf[off[0] + 4], MV_MIG_REC_ZERO);
	assert_int_equal(buf[off[2] + 4], MV_MIG_REC_BYTES);
	assert_int_equal(buf[off[3] + 4], MV_MIG_REC_DESC);
	struct mv_migration_in *in = m->loop;
	assert_refused(in, buf, off[2] + MV_MIG_REC_HEADER + 100, len, 0, 2,
		       "truncated payload");
	assert_refused(in, buf, off[5] + 10, len, 0, 5, "truncated header");
	assert_refused(in, buf, len - 1, len, 0, n - 1, "truncated");
	assert_refused(in, buf, len, off[4], 'X', 4, "not a record");
	assert_refused(in, buf, len, off[6] + 4, 77, 6, "unknown kind");
	assert_refused(in, buf, len, off[7] + 6, 1, 7, "unknown kind");
	/* page 0's record names a page past the VM's */
	assert_refused(in, buf, len, off[0] + 15, 1, 0, "page beyond");
	/* page 3's descriptor made "bytes", which a descriptor never is */
	uint8_t *d = malloc(len);
	assert_non_null(d);
	memcpy(d, buf, len);
	for (int i = 0; i < 8; i++)
		d[off[3] + 16 + i] = (uint8_t)((mv_desc_t)MV_DESC_BYTES >> 8 * i);
	assert_refused(in, d, len, len, 0, 3, "bad descriptor");
	/* intact, it applies */
	uint64_t failed = 0;
	mvt_ok(mv_migrate_in_apply(in, buf, len, &failed, &err), &err, "apply");
	assert_int_equal(in->records, n);
	mvt_ok(mv_migrate_applied(m, 0, 0, &err), &err, "applied");
	assert_int_equal(m->nout, 0);
	/* the next outbox arrives damaged: the source aborts at the page of
	 * the record refused, and its figures are those before that page */
	mvt_ok(mv_migrate_run(m, 2 * STEP_NS, &err), &err, "run");
	assert_true(m->nout > 10);
	mv_gppn_t bad_page = m->sent[10].gppn;
	uint64_t pages_before = m->pages - m->nout + 10;
	size_t off2[11];
	assert_int_equal(record_offsets(m->out, m->out_len, off2, 11), 11);
	m->out[off2[10]] = 'X';
	int rc = mv_migrate_in_apply(in, m->out, m->out_len, &failed, &err);
	assert_int_equal(rc, MV_EINVAL);
	assert_int_equal(failed, 10);
	assert_int_equal(mv_migrate_applied(m, rc, failed, &err), MV_EINVAL);
	assert_int_equal(m->state, MV_MIG_ABORTED);
	assert_int_equal(m->abort_gppn, bad_page);
	assert_int_equal(m->pages, pages_before);
	assert_non_null(strstr(err.msg, "refused"));
	assert_null(mv_migrate_dst(m));
	assert_int_equal(b->nfree, b_free);
	assert_null(vm->dirty_log);
	assert_checks(vm);
	free(d);
	free(buf);
	mv_migrate_destroy(m);
	mv_vm_destroy(vm);
	mv_host_destroy(a);
	mv_host_destroy(b);
}

/* An outbox that fills up (here after 3 pages of bytes) goes in parts:
 * the migration, its stop-and-copy too, ends with the same figures, to
 * the clock's last bit, and not a byte lost. */
static void test_a_full_outbox_goes_in_parts_with_the_same_figures(void **s)
{
	(void)s;
	struct mv_migration *m[2];
	struct mv_host *a[2], *b[2];
	for (int i = 0; i < 2; i++) {
		a[i] = mvt_host(64, 1);
		b[i] = mvt_host(64, 1);
		struct mv_migrate_config c;
		mv_migrate_config_default(&c);
		c.downtime_limit_ns = 5 * MV_NS_PER_MS;
		c.max_rounds = 4; /* a stop-and-copy of many pages */
		struct mv_rng r;
		m[i] = start_filled(a[i], b[i], 32, 11, &c, &r);
		if (i)
			m[i]->out_max = 3 * (MV_MIG_REC_HEADER + MV_PAGE_SIZE);
		/* 40 pages a millisecond: 160 MiB/s against 128 */
		assert_int_equal(migrate(m[i], 40, &r, 100000), 0);
		assert_int_equal(m[i]->state, MV_MIG_DONE);
		assert_int_equal(m[i]->more, 0);
		assert_int_equal(mv_migrate_verify(m[i]), 0);
	}
	assert_false(m[0]->converged);
	assert_true(m[0]->round[m[0]->nrounds - 1].pages > 100);
	assert_same_figures(m[0], m[1]);
	/* the parts were small: the stop-and-copy's outbox needed more */
	assert_true(m[1]->out_cap < m[0]->out_cap);
	for (int i = 0; i < 2; i++) {
		struct mv_vm *dst = mv_migrate_take(m[i]);
		assert_checks(dst);
		struct mv_vm *v = m[i]->src;
		mv_vm_destroy(dst);
		mv_migrate_destroy(m[i]);
		mv_vm_destroy(v);
		mv_host_destroy(a[i]);
		mv_host_destroy(b[i]);
	}
}

/* A guest that dirties faster than the link never fits the limit: without
 * auto-converge the migration stops at max_rounds with a downtime past the
 * limit; with it, QEMU's throttle rises until it fits. */
static void test_dirty_rate_above_bandwidth_needs_the_round_limit_or_a_throttle(
	void **state)
{
	(void)state;
	struct mv_rng r;
	for (int ac = 0; ac <= 1; ac++) {
		struct mv_host *a = mvt_host(64, 1), *b = mvt_host(64, 1);
		struct mv_vm *vm = mvt_vm(a, "hot", 16, 0);
		mv_rng_seed(&r, 9);
		fill(vm, &r);
		struct mv_migrate_config c;
		mv_migrate_config_default(&c);
		c.bandwidth = 16.0 * MV_MIB; /* 4 pages a millisecond */
		c.downtime_limit_ns = 30 * MV_NS_PER_MS;
		c.auto_converge = ac;
		/* the throttle rises every second period of >= 1 s: give it
		 * the rounds to get there */
		c.max_rounds = 60;
		struct mv_migration *m = NULL;
		struct mv_error err = {0};
		mvt_ok(mv_migrate_start(vm, b, &c, &m, &err), &err, "start");
		/* 6 random pages a millisecond: 24 MiB/s over 16 */
		assert_int_equal(migrate(m, 6, &r, 1000000), 0);
		assert_int_equal(m->state, MV_MIG_DONE);
		if (!ac) {
			assert_false(m->converged);
			assert_int_equal(m->nrounds, c.max_rounds + 1);
			assert_true(m->downtime_ns > c.downtime_limit_ns);
		} else {
			assert_true(m->converged);
			assert_true(m->nrounds <= c.max_rounds);
			assert_true(m->round[m->nrounds - 1].throttle_pct >=
				    c.throttle_initial_pct);
			assert_true(m->downtime_ns <= c.downtime_limit_ns);
		}
		assert_int_equal(mv_migrate_verify(m), 0);
		mv_migrate_destroy(m);
		mv_vm_destroy(vm);
		mv_host_destroy(a);
		mv_host_destroy(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_log_records_every_content_change),
		cmocka_unit_test(
			test_idle_vm_moves_in_one_round_with_zero_pages_as_flags),
		cmocka_unit_test(
			test_pages_written_during_precopy_are_sent_again),
		cmocka_unit_test(
			test_compressed_and_swapped_pages_are_read_back),
		cmocka_unit_test(
			test_shared_swap_sends_slots_and_the_file_follows),
		cmocka_unit_test(
			test_destination_out_of_memory_aborts_and_the_source_runs_on),
		cmocka_unit_test(
			test_destination_out_of_memory_mid_round_reports_what_a_page_by_page_migration_does),
		cmocka_unit_test(
			test_a_bad_or_truncated_record_buffer_is_refused_unapplied),
		cmocka_unit_test(
			test_a_full_outbox_goes_in_parts_with_the_same_figures),
		cmocka_unit_test(
			test_dirty_rate_above_bandwidth_needs_the_round_limit_or_a_throttle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
