/*
 * A long randomized integrity test of every reclamation mechanism at once
 * (src/reclaim/share.c, swap.c, zcache.c and the balloon's hypervisor half
 * in src/vm/pmap.c): three small VMs with verification on, on a host whose
 * other tenant (a fourth VM, touched once) leaves them frames for two
 * thirds of their pages; one sharer scanning the three, and per VM a swap
 * file and a small compression cache that keeps evicting to it.
 *
 * Thousands of operations drawn from a seeded RNG: guest writes of unique,
 * duplicate (the same few pages in every VM), zero and compressible
 * content and one-word changes, generated content held as a descriptor
 * (unique, the same few descriptors in every VM, new versions of a page's
 * descriptor; a one-word change turns a descriptor page into bytes, a
 * descriptor write turns bytes back), guest reads, sharing scans, hypervisor
 * reclaim (compression, then swap), balloon pages and injected swap I/O
 * errors. When the host has no frame for a guest access the hypervisor
 * reclaims and the guest retries, as in the simulator.
 *
 * The test keeps its own XXH3 of what it last wrote to each page (the
 * vm's `expect` is the engine's record; this one is independent of it).
 * After every operation every invariant is checked: each VM's books and
 * bytes (mv_vm_check reads back compressed and swapped pages too), the
 * host's free lists, the sharing table, each cache and swap file, every
 * frame's reference count recounted from the pmaps and the caches, and
 * the sharing gauges recounted from the pmaps. Every 500 operations the
 * guest reads every page back and compares it with the test's record.
 * Finally the same seed is run again and must end in the same state, page
 * for page (state, frame or slot, bytes) and counter for counter; another
 * seed must not. A second test runs the same operations with a weak page
 * hash, so that the scanner meets equal hashes of different bytes all the
 * time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reclaim/share.h"
#include "reclaim/swap.h"
#include "support/mvtest.h"

#define NVM 3
#define VM_KIB 512        /* 128 pages per VM */
#define HOST_MIB 16       /* the smallest host */
#define FREE_FRAMES 256   /* left by the other tenant for 384 pages */
#define CACHE_BYTES 16384 /* 4 frames, 8 compressed pages, per VM */
#define NPAT 6            /* duplicate contents, the same in every VM */
#define OPS 3000
#define READBACK_EVERY 500
#define MAX_TRIES 200

struct world {
	char *dir;
	struct mv_host *h;
	struct mv_vm *vm[NVM];
	struct mv_swapfile *sf[NVM];
	struct mv_zcache *z[NVM];
	struct mv_vm *tenant; /* holds the rest of the host's memory */
	struct mv_sharer *s;
	struct mv_rng rng;     /* the operations */
	struct mv_rng victims; /* the reclaimer's random victims */
	uint64_t *own[NVM];    /* XXH3 of what the test last wrote, per page */
	uint8_t *pat;          /* NPAT duplicate pages */
	/* what the run did */
	uint64_t waits, io_errors, reclaimed, word_writes, desc_writes;
	uint64_t desc_pages; /* resident pages holding a descriptor other
				than zero, summed over the read-backs */
};

/* A final state: per page (state, frame or slot, own hash, bytes read
 * back) and every deterministic counter. */
struct final {
	uint64_t page[NVM][VM_KIB / 4][4];
	struct mv_zcache_stats zs[NVM];
	struct mv_swap_stats ss[NVM];
	struct mv_share_stats sh;
	struct mv_vm_counters ctr[NVM];
	uint64_t nfree, waits, io_errors, reclaimed, word_writes, desc_writes;
	uint64_t desc_pages;
};

/* Sums over the VMs of a final state. */
struct totals {
	uint64_t compressed, decompressed, evicted, rejected;
	uint64_t swapins, read_errors, write_errors, balloon, cow;
};

static struct totals totals_of(const struct final *f)
{
	struct totals t = {0};
	for (int v = 0; v < NVM; v++) {
		t.compressed += f->zs[v].compressed;
		t.decompressed += f->zs[v].decompressed;
		t.evicted += f->zs[v].evicted;
		t.rejected += f->zs[v].rejected;
		t.swapins += f->ss[v].reads;
		t.read_errors += f->ss[v].read_errors;
		t.write_errors += f->ss[v].write_errors;
		t.balloon += f->ctr[v].balloon_pages;
		t.cow += f->ctr[v].faults[MV_FAULT_COW];
	}
	return t;
}

static void report(uint64_t seed, const struct final *f)
{
	struct totals t = totals_of(f);
	print_message(
		"seed %llu: %llu merges, %llu hash collisions, %llu "
		"compressed, %llu evicted, %llu rejected, %llu swap-ins, "
		"%llu+%llu I/O errors, %llu balloon pages, %llu waits, "
		"%llu reclaimed, %llu word writes, %llu descriptor writes, "
		"%llu descriptor pages read back\n",
		(unsigned long long)seed, (unsigned long long)f->sh.merges,
		(unsigned long long)f->sh.hash_collisions,
		(unsigned long long)t.compressed, (unsigned long long)t.evicted,
		(unsigned long long)t.rejected, (unsigned long long)t.swapins,
		(unsigned long long)t.read_errors,
		(unsigned long long)t.write_errors,
		(unsigned long long)t.balloon, (unsigned long long)f->waits,
		(unsigned long long)f->reclaimed,
		(unsigned long long)f->word_writes,
		(unsigned long long)f->desc_writes,
		(unsigned long long)f->desc_pages);
}

/* ---- setup -------------------------------------------------------------- */

static struct mv_vm *vm_small(struct mv_host *h, const char *name, int id)
{
	struct mv_vm_config c;
	mv_vm_config_default(&c, name, VM_KIB * MV_KIB);
	struct mv_vm *vm = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_vm_create(h, &c, id, &vm, &err), &err, "mv_vm_create");
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	return vm;
}

/*
 * A deliberately weak page hash: XXH3 of the first 256 bytes only. Pages
 * that differ only further on (one-word writes, data pages built from the
 * same first block) then collide, and only the scanner's full compare
 * keeps them apart; with XXH3 of the whole page no collision ever happens
 * and a scanner that shared on the hash alone would pass.
 */
static uint64_t prefix_hash(const void *page)
{
	return mv_hash(page, 256);
}

static void world_open(struct world *w, uint64_t seed, int weak)
{
	struct mv_error err = {0};
	memset(w, 0, sizeof *w);
	w->dir = mvt_tmpdir("mvintegrity");
	w->h = mvt_host(HOST_MIB, 1);
	w->tenant = mvt_vm(w->h, "tenant", HOST_MIB, NVM);
	for (mv_gppn_t g = 0; w->h->nfree > FREE_FRAMES; g++)
		assert_non_null(mv_vm_access_bytes(w->tenant, g, 1));
	struct mv_share_config sc;
	mv_share_config_default(&sc);
	mvt_ok(mv_share_create(w->h, &sc, &w->s, &err), &err,
	       "mv_share_create");
	if (weak)
		mv_share_set_hash(w->s, prefix_hash);
	for (int v = 0; v < NVM; v++) {
		char name[16];
		snprintf(name, sizeof name, "vm%d", v);
		w->vm[v] = vm_small(w->h, name, v);
		mvt_ok(mv_swapfile_create(w->vm[v], w->dir, w->vm[v]->npages,
					  &w->sf[v], &err),
		       &err, "mv_swapfile_create");
		mvt_ok(mv_zcache_create(w->vm[v], CACHE_BYTES, w->sf[v],
					&w->z[v], &err),
		       &err, "mv_zcache_create");
		assert_int_equal(mv_share_add_vm(w->s, w->vm[v]), 0);
		w->own[v] = malloc(w->vm[v]->npages * sizeof *w->own[v]);
		assert_non_null(w->own[v]);
		for (mv_gppn_t g = 0; g < w->vm[v]->npages; g++)
			w->own[v][g] = mv_zero_page_hash(); /* untouched */
	}
	w->pat = malloc(NPAT * MV_PAGE_SIZE);
	assert_non_null(w->pat);
	for (int k = 0; k < NPAT; k++)
		mv_content_page(w->pat + k * MV_PAGE_SIZE, MV_CONTENT_APP,
				0xa99, (uint64_t)k, 0, 0);
	mv_rng_seed(&w->rng, seed);
	mv_rng_seed(&w->victims, seed ^ 0x5eed);
}

static void world_close(struct world *w)
{
	mv_share_destroy(w->s);
	for (int v = 0; v < NVM; v++) {
		mv_zcache_destroy(w->z[v]);
		mv_swapfile_destroy(w->sf[v], 0);
		mv_vm_destroy(w->vm[v]);
		free(w->own[v]);
	}
	mv_vm_destroy(w->tenant);
	assert_int_equal(w->h->nfree, mv_host_usable_frames(w->h));
	mv_host_destroy(w->h);
	mvt_rmdir(w->dir);
	free(w->pat);
}

/* ---- invariants --------------------------------------------------------- */

/*
 * Every frame's refcount is the number of guest pages mapping it plus one
 * if a compression cache holds it; no cache frame is mapped by a page;
 * the sharing gauges agree with a recount from the pmaps.
 */
static void check_frames(const struct world *w)
{
	const struct mv_host *h = w->h;
	uint32_t *ref = calloc(h->nframes, sizeof *ref);
	uint8_t *cache = calloc(h->nframes, 1), *shared = calloc(h->nframes, 1);
	mv_mpn_t *cf = malloc(h->nframes * sizeof *cf);
	assert_true(ref && cache && shared && cf);
	uint64_t zero = 0;
	for (int v = 0; v <= NVM; v++) {
		const struct mv_vm *vm = v < NVM ? w->vm[v] : w->tenant;
		for (mv_gppn_t g = 0; g < vm->npages; g++) {
			const struct mv_pme *e = &vm->pmap[g];
			if (e->state == MV_PS_PRIVATE ||
			    e->state == MV_PS_SHARED)
				ref[e->mpn]++;
			shared[e->mpn] |= e->state == MV_PS_SHARED;
			zero += v < NVM && e->state == MV_PS_ZERO;
		}
		if (v == NVM)
			break;
		uint64_t n = mv_zcache_frames(w->z[v], cf, h->nframes);
		assert_true(n <= h->nframes);
		for (uint64_t i = 0; i < n; i++) {
			if (cache[cf[i]] || ref[cf[i]])
				fail_msg("frame %u held by a cache is also "
					 "mapped or cached twice",
					 cf[i]);
			cache[cf[i]] = 1;
		}
	}
	uint64_t pages_shared = 0, pages_sharing = 0;
	for (uint64_t m = 1; m < h->nframes; m++) {
		uint64_t refs = mv_host_frame_refs(h, (mv_mpn_t)m);
		if (refs != ref[m] + cache[m])
			fail_msg("frame %llu: refcount %llu, mapped by %u "
				 "pages, "
				 "%sin a cache",
				 (unsigned long long)m,
				 (unsigned long long)refs, ref[m],
				 cache[m] ? "" : "not ");
		if (shared[m]) {
			pages_shared++;
			pages_sharing += ref[m] - 1;
		}
	}
	struct mv_share_stats st;
	mv_share_stats(w->s, &st);
	assert_int_equal(st.pages_shared, pages_shared);
	assert_int_equal(st.pages_sharing, pages_sharing);
	assert_int_equal(st.zero_pages, zero);
	free(ref);
	free(cache);
	free(shared);
	free(cf);
}

static void check_all(const struct world *w)
{
	struct mv_error err = {0};
	for (int v = 0; v < NVM; v++) {
		const struct mv_vm *vm = w->vm[v];
		mvt_ok(mv_vm_check(vm, &err), &err, "mv_vm_check");
		mvt_ok(mv_zcache_check(w->z[v], &err), &err, "mv_zcache_check");
		mvt_ok(mv_swapfile_check(w->sf[v], &err), &err,
		       "mv_swapfile_check");
		/* the engine's record and the test's agree */
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			if (vm->expect[g] != w->own[v][g])
				fail_msg("%s page %llu (%s): the vm expects "
					 "%016llx, the test wrote %016llx",
					 vm->cfg.name, (unsigned long long)g,
					 mv_page_state_name(vm->pmap[g].state),
					 (unsigned long long)vm->expect[g],
					 (unsigned long long)w->own[v][g]);
		struct mv_zcache_stats zs;
		mv_zcache_stats(w->z[v], &zs);
		assert_true(zs.frames <= zs.capacity_frames);
		struct mv_swap_stats ss;
		mv_swapfile_stats(w->sf[v], &ss);
		assert_int_equal(ss.used, vm->count[MV_PS_SWAPPED]);
		assert_int_equal(zs.pages, vm->count[MV_PS_COMPRESSED]);
	}
	mvt_ok(mv_host_check(w->h, &err), &err, "mv_host_check");
	mvt_ok(mv_share_check(w->s, &err), &err, "mv_share_check");
	check_frames(w);
}

/* ---- the guest and the hypervisor --------------------------------------- */

/* The hypervisor takes n pages from a random VM (compression, then swap);
 * an injected or real I/O error stops it early and loses nothing. */
static void reclaim(struct world *w, int v, uint64_t n)
{
	struct mv_error err = {0};
	uint64_t done = 0;
	int rc = mv_reclaim_pages(w->vm[v], w->z[v], w->sf[v], &w->victims, n,
				  &done, &err);
	w->reclaimed += done;
	if (rc) {
		if (rc != MV_EIO && rc != MV_ENOSPC)
			mvt_ok(rc, &err, "mv_reclaim_pages");
		w->io_errors++;
	}
}

/* The guest gives page g to the balloon: it reads as zeros from now on. */
static void balloon(struct world *w, int v, mv_gppn_t g)
{
	mv_vm_balloon_page(w->vm[v], g);
	w->own[v][g] = mv_zero_page_hash();
}

/*
 * The guest touches page g. NULL from the access path means no frame for
 * it (the host is overcommitted) or a failed swap-in: the hypervisor
 * reclaims from a random VM and the guest retries; should nothing be
 * reclaimable (every frame shared or cached), a balloon page of another
 * VM frees one.
 */
static uint8_t *touch(struct world *w, int v, mv_gppn_t g, int write)
{
	for (int tries = 0; tries < MAX_TRIES; tries++) {
		uint8_t *p = mv_vm_access(w->vm[v], g, write);
		if (p)
			return p;
		w->waits++;
		int u = (int)mv_rng_below(&w->rng, NVM);
		if (tries % 10 == 9 && u != v)
			balloon(w, u, mv_rng_below(&w->rng, w->vm[u]->npages));
		else
			reclaim(w, u, 1 + mv_rng_below(&w->rng, 4));
	}
	fail_msg("%s page %llu: no access after %d tries", w->vm[v]->cfg.name,
		 (unsigned long long)g, MAX_TRIES);
	return NULL;
}

/* Read page g and compare its bytes (materialised, in whatever form the
 * frame holds them, which the read does not change) with what the test
 * last wrote. */
static void read_verify(struct world *w, int v, mv_gppn_t g)
{
	uint8_t buf[MV_PAGE_SIZE];
	touch(w, v, g, 0);
	uint64_t h = mv_page_hash(mv_vm_page_read(w->vm[v], g, buf));
	if (h != w->own[v][g])
		fail_msg("%s page %llu: read %016llx, wrote %016llx",
			 w->vm[v]->cfg.name, (unsigned long long)g,
			 (unsigned long long)h,
			 (unsigned long long)w->own[v][g]);
}

/* The guest writes page g; the test keeps the hash of what it wrote,
 * computed from its own copy, not from the frame. */
static void guest_write(struct world *w, int v, mv_gppn_t g, uint64_t op)
{
	uint8_t buf[MV_PAGE_SIZE];
	uint64_t kind = mv_rng_below(&w->rng, 8);
	if (kind >= 5) { /* generated content: a descriptor */
		mv_desc_t d;
		if (kind == 5) /* unique private data */
			d = mv_content_desc(MV_CONTENT_DATA, 0, 0,
					    op * NVM + (uint64_t)v,
					    mv_rng_double(&w->rng));
		else if (kind == 6) /* a descriptor every VM may hold */
			d = mv_content_desc(MV_CONTENT_OS, 0x05, 0,
					    mv_rng_below(&w->rng, NPAT), 0);
		else /* the page's next version, if it has a descriptor */
			d = mv_desc_version(
				mv_content_desc(MV_CONTENT_APP, 0x7, g, 0, 0),
				op);
		touch(w, v, g, 1);
		mv_vm_set_desc(w->vm[v], g, d);
		mv_content_fill(buf, d);
		w->own[v][g] = mv_page_hash(buf);
		w->desc_writes++;
		return;
	}
	if (kind == 0) { /* one word of what the page holds */
		read_verify(w, v, g);
		memcpy(buf, mv_vm_page_read(w->vm[v], g, buf), MV_PAGE_SIZE);
		uint64_t word = mv_rng_below(&w->rng,
					     3); /* often 0: may zero */
		memcpy(buf + 8 * mv_rng_below(&w->rng, MV_PAGE_SIZE / 8), &word,
		       8);
		w->word_writes++;
	} else if (kind == 1) { /* unique random bytes */
		mv_content_page(buf, MV_CONTENT_RANDOM, 0, 0,
				op * NVM + (uint64_t)v, 0);
	} else if (kind == 2) { /* a page every VM may hold */
		memcpy(buf, w->pat + mv_rng_below(&w->rng, NPAT) * MV_PAGE_SIZE,
		       MV_PAGE_SIZE);
	} else if (kind == 3) {
		memset(buf, 0, MV_PAGE_SIZE);
	} else { /* private data LZ4 may or may not fit in 2 KiB */
		mv_content_page(buf, MV_CONTENT_DATA, 0, 0,
				op * NVM + (uint64_t)v, mv_rng_double(&w->rng));
	}
	touch(w, v, g, 1);
	memcpy(mv_vm_page_bytes(w->vm[v], g), buf, MV_PAGE_SIZE);
	mv_vm_wrote(w->vm[v], g);
	w->own[v][g] = mv_page_hash(buf);
}

/* The guest reads every page of every VM back. */
static void read_back_all(struct world *w)
{
	for (int v = 0; v < NVM; v++)
		for (mv_gppn_t g = 0; g < w->vm[v]->npages; g++) {
			read_verify(w, v, g);
			unsigned st = w->vm[v]->pmap[g].state;
			mv_desc_t d = mv_vm_page_desc(w->vm[v], g);
			w->desc_pages += (st == MV_PS_PRIVATE ||
					  st == MV_PS_SHARED) &&
					 d != MV_DESC_BYTES &&
					 d != MV_DESC_ZERO_PAGE;
		}
}

/* One operation drawn from the RNG. */
static void step(struct world *w, uint64_t op)
{
	int v = (int)mv_rng_below(&w->rng, NVM);
	mv_gppn_t g = mv_rng_below(&w->rng, w->vm[v]->npages);
	uint64_t k = mv_rng_below(&w->rng, 100);
	if (k < 32)
		guest_write(w, v, g, op);
	else if (k < 52)
		read_verify(w, v, g);
	else if (k < 68)
		mv_share_scan(w->s, 1 + mv_rng_below(&w->rng, 200));
	else if (k < 90)
		reclaim(w, v, 1 + mv_rng_below(&w->rng, 8));
	else if (k < 96)
		balloon(w, v, g);
	else
		mv_swapfile_inject_error(w->sf[v], 1 + mv_rng_below(&w->rng, 4),
					 mv_rng_below(&w->rng, 2) ? MV_EIO
								  : MV_ENOSPC);
}

/* Run OPS operations from seed (with the weak hash if weak); check_every
 * 1 checks after each. */
static void run(uint64_t seed, int weak, int check_every, struct final *out)
{
	struct world w;
	world_open(&w, seed, weak);
	for (uint64_t op = 1; op <= OPS; op++) {
		step(&w, op);
		if (op % (uint64_t)check_every == 0)
			check_all(&w);
		if (op % READBACK_EVERY == 0) {
			read_back_all(&w);
			check_all(&w);
		}
	}
	check_all(&w);

	/* the final state, before the last read-back changes it */
	memset(out, 0, sizeof *out);
	for (int v = 0; v < NVM; v++) {
		assert_int_equal(w.vm[v]->npages, VM_KIB / 4);
		for (mv_gppn_t g = 0; g < w.vm[v]->npages; g++) {
			const struct mv_pme *e = &w.vm[v]->pmap[g];
			out->page[v][g][0] = e->state;
			out->page[v][g][1] = e->mpn;
			out->page[v][g][2] = w.own[v][g];
		}
		mv_zcache_stats(w.z[v], &out->zs[v]);
		mv_swapfile_stats(w.sf[v], &out->ss[v]);
		out->ctr[v] = w.vm[v]->ctr;
	}
	mv_share_stats(w.s, &out->sh);
	out->sh.cpu_ns = 0; /* measured on this machine, not simulated */
	out->nfree = w.h->nfree;
	out->waits = w.waits;
	out->io_errors = w.io_errors;
	out->reclaimed = w.reclaimed;
	/* and the bytes, read back by the guest */
	for (int v = 0; v < NVM; v++)
		for (mv_gppn_t g = 0; g < w.vm[v]->npages; g++) {
			uint8_t buf[MV_PAGE_SIZE];
			read_verify(&w, v, g);
			out->page[v][g][3] = mv_page_hash(
				mv_vm_page_read(w.vm[v], g, buf));
		}
	check_all(&w);

	out->word_writes = w.word_writes;
	out->desc_writes = w.desc_writes;
	out->desc_pages = w.desc_pages;
	report(seed, out);
	world_close(&w);
}

/* The run exercised every mechanism and every error path it claims to. */
static void assert_coverage(const struct final *f)
{
	struct totals t = totals_of(f);
	assert_true(f->sh.merges > 100);
	assert_true(f->sh.volatile_seen > 100);
	assert_true(t.compressed > 500 && t.decompressed > 100);
	assert_true(t.evicted > 100 && t.rejected > 100);
	assert_true(t.swapins > 500 && t.read_errors > 10);
	assert_true(t.write_errors > 10);
	assert_true(t.balloon > 100 && t.cow > 100);
	assert_true(f->word_writes > 100);
	assert_true(f->desc_writes > 300 && f->desc_pages > 100);
	assert_true(f->waits > 30 && f->io_errors > 10);
}

static int same_final(const struct final *a, const struct final *b, int report)
{
	for (int v = 0; v < NVM; v++)
		for (int g = 0; g < VM_KIB / 4; g++)
			if (memcmp(a->page[v][g], b->page[v][g],
				   sizeof a->page[v][g]) != 0) {
				if (report)
					print_error("vm%d page %d differs: "
						    "state %llu/%llu, frame or "
						    "slot %llu/%llu\n",
						    v, g,
						    (unsigned long long)
							    a->page[v][g][0],
						    (unsigned long long)
							    b->page[v][g][0],
						    (unsigned long long)
							    a->page[v][g][1],
						    (unsigned long long)
							    b->page[v][g][1]);
				return 0;
			}
	return memcmp(a, b, sizeof *a) == 0;
}

/* ---- the tests ---------------------------------------------------------- */

static void test_random_operations_never_lose_a_byte_and_a_seed_replays_exactly(
	void **state)
{
	(void)state;
	struct final *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	assert_true(a && b);
	run(20261123, 0, 1, a);
	assert_coverage(a);
	assert_int_equal(a->sh.hash_collisions, 0);
	/* the same seed, checked less often: checks change nothing */
	run(20261123, 0, 100, b);
	assert_true(same_final(a, b, 1));
	/* another seed ends elsewhere: the comparison means something */
	run(7, 0, 100, b);
	assert_false(same_final(a, b, 0));
	free(a);
	free(b);
}

/* With the weak hash, equal hashes of different bytes all the time: only
 * the full compare keeps them apart. */
static void test_colliding_page_hashes_never_share_different_bytes(void **state)
{
	(void)state;
	struct final *f = malloc(sizeof *f);
	assert_non_null(f);
	run(20261123, 1, 1, f);
	assert_coverage(f);
	assert_true(f->sh.hash_collisions > 100);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_random_operations_never_lose_a_byte_and_a_seed_replays_exactly),
		cmocka_unit_test(
			test_colliding_page_hashes_never_share_different_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
