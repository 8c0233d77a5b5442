/*
 * Tests of page sharing (src/reclaim/share.c): merging identical pages,
 * zero pages, COW breaks, hash collisions, volatility, VMs and pages that
 * must not be shared, the scan rate, and a long randomized run checked
 * against a shadow copy of every page.
 */
#include <stdlib.h>
#include <string.h>

#include "reclaim/share.h"
#include "support/mvtest.h"

/* ---- helpers ------------------------------------------------------------ */

/* Deterministic page contents for a seed (never all zero). */
static void make_page(uint8_t *p, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p;
	for (size_t i = 0; i < MV_PAGE_SIZE / 8; i++)
		w[i] = mv_mix64(seed * 0x10001 + i) | 1;
}

/* The guest writes the page of `seed` into vm's page g. */
static void write_seed(struct mv_vm *vm, mv_gppn_t g, uint64_t seed)
{
	uint8_t *p = mv_vm_access_bytes(vm, g, 1);
	assert_non_null(p);
	make_page(p, seed);
	mv_vm_wrote(vm, g);
}

static void write_zero(struct mv_vm *vm, mv_gppn_t g)
{
	uint8_t *p = mv_vm_access_bytes(vm, g, 1);
	assert_non_null(p);
	memset(p, 0, MV_PAGE_SIZE);
	mv_vm_wrote(vm, g);
}

static int page_is_seed(struct mv_vm *vm, mv_gppn_t g, uint64_t seed)
{
	uint8_t want[MV_PAGE_SIZE];
	make_page(want, seed);
	return memcmp(mv_vm_access_bytes(vm, g, 0), want, MV_PAGE_SIZE) == 0;
}

static struct mv_vm *vm_verified(struct mv_host *h, const char *name,
				 uint64_t mib, int id)
{
	struct mv_vm *vm = mvt_vm(h, name, mib, id);
	assert_int_equal(mv_vm_enable_verify(vm), 0);
	return vm;
}

static struct mv_sharer *sharer(struct mv_host *h, struct mv_vm **vms, int n,
				const struct mv_share_config *c)
{
	struct mv_share_config def;
	mv_share_config_default(&def);
	struct mv_sharer *s = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_share_create(h, c ? c : &def, &s, &err), &err,
	       "mv_share_create");
	for (int i = 0; i < n; i++)
		assert_int_equal(mv_share_add_vm(s, vms[i]), 0);
	return s;
}

/* Tear down what a test built: sharer, VMs, host. */
static void destroy_all(struct mv_sharer *s, struct mv_vm **vms, int n,
			struct mv_host *h)
{
	mv_share_destroy(s);
	for (int i = 0; i < n; i++)
		mv_vm_destroy(vms[i]);
	mv_host_destroy(h);
}

static struct mv_share_stats stats(const struct mv_sharer *s)
{
	struct mv_share_stats st;
	mv_share_stats(s, &st);
	return st;
}

/* Complete `laps` full scans (the first from the current position). */
static void full_scans(struct mv_sharer *s, uint64_t laps)
{
	uint64_t want = stats(s).full_scans + laps;
	for (uint64_t i = 0; i < laps; i++)
		mv_share_scan_lap(s);
	assert_int_equal(stats(s).full_scans, want);
}

/*
 * Every book agrees with a recount from the pmaps: VM checks (counts and
 * bytes), the host's free lists, each frame's refcount, the sharer's
 * table and its gauges.
 */
static void assert_books(const struct mv_sharer *s, struct mv_vm **vms, int n)
{
	struct mv_host *h = vms[0]->host;
	struct mv_error err = {0};
	for (int i = 0; i < n; i++)
		mvt_ok(mv_vm_check(vms[i], &err), &err, "mv_vm_check");
	mvt_ok(mv_host_check(h, &err), &err, "mv_host_check");
	mvt_ok(mv_share_check(s, &err), &err, "mv_share_check");

	uint32_t *ref = calloc(h->nframes, sizeof *ref);
	uint8_t *shared = calloc(h->nframes, 1);
	assert_non_null(ref);
	assert_non_null(shared);
	uint64_t zero = 0;
	for (int i = 0; i < n; i++)
		for (mv_gppn_t g = 0; g < vms[i]->npages; g++) {
			const struct mv_pme *e = &vms[i]->pmap[g];
			if (e->state == MV_PS_PRIVATE ||
			    e->state == MV_PS_SHARED)
				ref[e->mpn]++;
			if (e->state == MV_PS_SHARED)
				shared[e->mpn] = 1;
			zero += e->state == MV_PS_ZERO;
		}
	uint64_t pages_shared = 0, pages_sharing = 0;
	for (uint64_t m = 1; m < h->nframes; m++) {
		if (ref[m] != mv_host_frame_refs(h, (mv_mpn_t)m))
			fail_msg(
				"frame %llu: refcount %llu, mapped by %u pages",
				(unsigned long long)m,
				(unsigned long long)mv_host_frame_refs(
					h, (mv_mpn_t)m),
				ref[m]);
		if (shared[m]) {
			pages_shared++;
			pages_sharing += ref[m] - 1;
		}
	}
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.pages_shared, pages_shared);
	assert_int_equal(st.pages_sharing, pages_sharing);
	assert_int_equal(st.zero_pages, zero);
	assert_int_equal(st.sim_cpu_ns, st.pages_scanned * 250);
	free(ref);
	free(shared);
}

/* ---- merging ------------------------------------------------------------ */

static void test_identical_pages_in_two_vms_merge_into_one_frame(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	for (mv_gppn_t g = 0; g < 100; g++) {
		write_seed(vms[0], g, g); /* same in both VMs */
		write_seed(vms[1], g, g);
		write_seed(vms[0], 100 + g, 1000 + g); /* unique */
		write_seed(vms[1], 100 + g, 2000 + g);
	}
	write_seed(vms[0], 300, 7); /* a third copy of page 7 */
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	uint64_t free0 = h->nfree;

	full_scans(s, 1);

	struct mv_share_stats st = stats(s);
	assert_int_equal(st.merges, 101);
	assert_int_equal(st.pages_shared, 100);
	assert_int_equal(st.pages_sharing, 101);
	assert_int_equal(st.pages_unshared, 200);
	assert_int_equal(st.hash_collisions, 0);
	assert_int_equal(st.pages_scanned, 401);
	assert_int_equal(h->nfree, free0 + 101);
	for (mv_gppn_t g = 0; g < 100; g++) {
		assert_int_equal(vms[0]->pmap[g].state, MV_PS_SHARED);
		assert_int_equal(vms[1]->pmap[g].state, MV_PS_SHARED);
		assert_int_equal(vms[0]->pmap[g].mpn, vms[1]->pmap[g].mpn);
		assert_true(page_is_seed(vms[0], g, g));
		assert_true(page_is_seed(vms[1], g, g));
		assert_int_equal(vms[0]->pmap[100 + g].state, MV_PS_PRIVATE);
		assert_int_equal(vms[1]->pmap[100 + g].state, MV_PS_PRIVATE);
	}
	assert_int_equal(vms[0]->pmap[300].mpn, vms[0]->pmap[7].mpn);
	assert_int_equal(mv_host_frame_refs(h, vms[0]->pmap[7].mpn), 3);
	assert_books(s, vms, 2);

	/* a second pass finds nothing new and changes nothing */
	full_scans(s, 1);
	assert_int_equal(stats(s).merges, 101);
	assert_int_equal(stats(s).pages_volatile, 0);
	assert_int_equal(h->nfree, free0 + 101);
	assert_books(s, vms, 2);

	/* destroying the sharer does not unshare; VMs free their frames */
	mv_share_destroy(s);
	assert_true(page_is_seed(vms[1], 7, 7));
	mv_vm_destroy(vms[0]);
	mv_vm_destroy(vms[1]);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mvt_ok(mv_host_check(h, NULL), NULL, "mv_host_check");
	mv_host_destroy(h);
}

static void
test_write_to_a_shared_page_breaks_sharing_and_keeps_bytes(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	for (mv_gppn_t g = 0; g < 10; g++) {
		write_seed(vms[0], g, g);
		write_seed(vms[1], g, g);
	}
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	full_scans(s, 1);
	assert_int_equal(stats(s).pages_sharing, 10);
	mv_mpn_t m = vms[1]->pmap[5].mpn;
	uint64_t cow0 = vms[0]->ctr.faults[MV_FAULT_COW];

	write_seed(vms[0], 5, 555); /* COW through the one access path */
	assert_int_equal(vms[0]->ctr.faults[MV_FAULT_COW], cow0 + 1);
	assert_int_equal(vms[0]->pmap[5].state, MV_PS_PRIVATE);
	assert_int_not_equal(vms[0]->pmap[5].mpn, m);
	assert_true(page_is_seed(vms[0], 5, 555));
	assert_true(page_is_seed(vms[1], 5, 5)); /* the other VM: old bytes */
	assert_int_equal(vms[1]->pmap[5].state, MV_PS_SHARED);
	assert_int_equal(mv_host_frame_refs(h, m), 1);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.pages_shared, 10);
	assert_int_equal(st.pages_sharing, 9);
	assert_books(s, vms, 2);

	/* the next scans see the new bytes as volatile, then as a hint */
	full_scans(s, 2);
	assert_int_equal(stats(s).volatile_seen, 1);
	assert_int_equal(stats(s).pages_volatile, 0); /* quiet since */
	assert_true(page_is_seed(vms[0], 5, 555));
	assert_books(s, vms, 2);

	destroy_all(s, vms, 2, h);
}

static void test_the_last_sharer_takes_the_frame_over_and_the_table_stays_exact(
	void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	const uint64_t X = 11, Z = 22;
	write_seed(vms[0], 0, X);
	write_seed(vms[1], 0, X);
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	full_scans(s, 1);
	mv_mpn_t f = vms[0]->pmap[0].mpn;
	assert_int_equal(vms[1]->pmap[0].mpn, f);
	assert_true(mv_host_frame_flags(h, f) & MV_FRAME_SHARED);

	write_seed(vms[0], 0, 100); /* COW: a's private copy */
	write_seed(vms[1], 0, Z);   /* refcount 1: b takes f over */
	assert_int_equal(vms[1]->pmap[0].state, MV_PS_PRIVATE);
	assert_int_equal(vms[1]->pmap[0].mpn, f);
	assert_false(mv_host_frame_flags(h, f) & MV_FRAME_SHARED);
	assert_int_equal(stats(s).pages_shared, 0);
	assert_books(s, vms, 2); /* the dead entry for X is allowed */

	/* b's page is volatile once, then a hint; a copy of Z in a merges
	 * with it and f becomes a sharing frame again, for other bytes */
	full_scans(s, 2);
	write_seed(vms[0], 1, Z);
	full_scans(s, 1);
	assert_int_equal(vms[0]->pmap[1].mpn, f);
	assert_int_equal(vms[1]->pmap[0].state, MV_PS_SHARED);
	assert_true(mv_host_frame_flags(h, f) & MV_FRAME_SHARED);
	assert_int_equal(stats(s).pages_shared, 1); /* not the old X entry */
	assert_books(s, vms, 2);

	/* a new copy of X must not match the old X entry, which names f */
	write_seed(vms[0], 2, X);
	full_scans(s, 1);
	assert_int_equal(vms[0]->pmap[2].state, MV_PS_PRIVATE);
	assert_int_not_equal(vms[0]->pmap[2].mpn, f);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.hash_collisions, 0);
	assert_int_equal(st.pages_shared, 1);
	assert_int_equal(st.pages_sharing, 1);
	assert_true(page_is_seed(vms[0], 2, X));
	assert_books(s, vms, 2);

	destroy_all(s, vms, 2, h);
}

/* ---- zero pages --------------------------------------------------------- */

static void
test_zero_pages_map_the_zero_frame_and_a_write_gets_a_private_copy(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {vm_verified(h, "a", 8, 0)};
	for (mv_gppn_t g = 0; g < 20; g++)
		write_zero(vms[0], g);
	write_seed(vms[0], 20, 1);
	assert_non_null(
		mv_vm_access_bytes(vms[0], 21, 0)); /* read: zero filled */
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	uint64_t free0 = h->nfree;

	full_scans(s, 1);
	for (mv_gppn_t g = 0; g < 20; g++) {
		assert_int_equal(vms[0]->pmap[g].state, MV_PS_ZERO);
		assert_int_equal(vms[0]->pmap[g].mpn, MV_ZERO_MPN);
	}
	assert_int_equal(vms[0]->pmap[21].state, MV_PS_ZERO);
	assert_int_equal(vms[0]->pmap[20].state, MV_PS_PRIVATE);
	assert_int_equal(h->nfree, free0 + 21);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.zero_pages, 21);
	assert_int_equal(st.pages_shared, 0);
	assert_int_equal(st.merges, 0);
	assert_books(s, vms, 1);

	/* a write to one zero page gets a private zeroed copy */
	uint8_t *p = mv_vm_access_bytes(vms[0], 3, 1);
	assert_non_null(p);
	assert_true(mv_page_is_zero(p));
	p[100] = 0x42;
	mv_vm_wrote(vms[0], 3);
	assert_int_equal(vms[0]->pmap[3].state, MV_PS_PRIVATE);
	assert_true(mv_page_is_zero(mv_vm_access_bytes(vms[0], 4, 0)));
	assert_true(mv_page_is_zero(mv_host_frame(h, MV_ZERO_MPN)));
	assert_int_equal(stats(s).zero_pages, 20);
	assert_books(s, vms, 1);
	mv_share_destroy(s);

	/* without use_zero_pages zero pages share an ordinary frame */
	struct mv_share_config c;
	mv_share_config_default(&c);
	c.use_zero_pages = 0;
	write_zero(vms[0], 3);
	write_zero(vms[0], 30);
	write_zero(vms[0], 31);
	s = sharer(h, vms, 1, &c);
	full_scans(s, 1);
	st = stats(s);
	assert_int_equal(st.pages_shared, 1);
	assert_int_equal(st.pages_sharing, 2);
	assert_int_equal(vms[0]->pmap[30].state, MV_PS_SHARED);
	assert_int_equal(vms[0]->pmap[30].mpn, vms[0]->pmap[31].mpn);
	assert_int_not_equal(vms[0]->pmap[30].mpn, MV_ZERO_MPN);
	assert_books(s, vms, 1);

	destroy_all(s, vms, 1, h);
}

/* ---- never share different bytes ---------------------------------------- */

static uint64_t constant_hash(const void *page)
{
	(void)page;
	return 0x1234567890abcdefull;
}

static void
test_pages_with_equal_hashes_but_different_bytes_are_never_shared(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	for (mv_gppn_t g = 0; g < 10; g++) {
		write_seed(vms[0], g, 50 + g);
		write_seed(vms[1], g, 50 + g);
	}
	write_zero(vms[1], 10);
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	mv_share_set_hash(s, constant_hash); /* every page collides */
	full_scans(s, 1);

	/* a0 became the one hint, a1..a9 collided with it; b0 merged with
	 * a0, b1..b9 collided with the sharing frame; b10 is all zero */
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.merges, 1);
	assert_int_equal(st.hash_collisions, 18);
	assert_int_equal(st.pages_shared, 1);
	assert_int_equal(st.zero_pages, 1);
	for (int v = 0; v < 2; v++)
		for (mv_gppn_t g = 0; g < 10; g++) {
			assert_true(page_is_seed(vms[v], g, 50 + g));
			assert_int_equal(vms[v]->pmap[g].state,
					 g == 0 ? MV_PS_SHARED : MV_PS_PRIVATE);
		}
	full_scans(s, 3);
	assert_int_equal(stats(s).merges, 1);
	assert_books(s, vms, 2);

	destroy_all(s, vms, 2, h);
}

/* The guest writes generated content G(d) into vm's page g. */
static void write_desc(struct mv_vm *vm, mv_gppn_t g, mv_desc_t d)
{
	assert_non_null(mv_vm_access(vm, g, 1));
	mv_vm_set_desc(vm, g, d);
}

/* An OS-image descriptor whose generated page is all zeros (about 8%). */
static mv_desc_t zero_os_desc(void)
{
	uint8_t p[MV_PAGE_SIZE];
	for (uint64_t k = 1;; k++) {
		mv_desc_t d = mv_desc_make(MV_DESC_OS, 0, mv_mix64(k));
		mv_content_fill(p, d);
		if (mv_page_is_zero(p))
			return d;
	}
}

static void
test_different_descriptors_on_one_hash_are_never_shared(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	/* same class and parameter, different keys: different bytes */
	mv_desc_t da = mv_desc_make(MV_DESC_DATA, 32, 1001);
	mv_desc_t db = mv_desc_make(MV_DESC_DATA, 32, 1002);
	write_desc(vms[0], 0, da);
	write_desc(vms[1], 0, db);
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	mv_share_set_hash(s, constant_hash); /* both on one hash */
	full_scans(s, 2);

	struct mv_share_stats st = stats(s);
	assert_int_equal(st.merges, 0);
	assert_true(st.hash_collisions >= 1);
	assert_int_equal(vms[0]->pmap[0].state, MV_PS_PRIVATE);
	assert_int_equal(vms[1]->pmap[0].state, MV_PS_PRIVATE);
	/* still descriptors: nothing was written to the arena */
	assert_int_equal(mv_vm_page_desc(vms[0], 0), da);
	assert_int_equal(mv_vm_page_desc(vms[1], 0), db);
	assert_books(s, vms, 2);
	destroy_all(s, vms, 2, h);
}

static void
test_equal_descriptors_share_one_frame_that_keeps_its_descriptor(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	mv_desc_t d = mv_desc_make(MV_DESC_APP, 0, 777);
	mv_desc_t z = zero_os_desc();
	uint8_t g_d[MV_PAGE_SIZE];
	mv_content_fill(g_d, d);
	write_desc(vms[0], 0, d);
	write_desc(vms[1], 0, d);
	/* b1 holds the same bytes as BYTES: shared after a real compare */
	uint8_t *p = mv_vm_access_bytes(vms[1], 1, 1);
	memcpy(p, g_d, MV_PAGE_SIZE);
	mv_vm_wrote(vms[1], 1);
	/* a generated OS page that happens to be zero is found as zero */
	write_desc(vms[0], 2, z);
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	full_scans(s, 2);

	assert_int_equal(vms[0]->pmap[0].state, MV_PS_SHARED);
	assert_int_equal(vms[1]->pmap[0].state, MV_PS_SHARED);
	assert_int_equal(vms[1]->pmap[1].state, MV_PS_SHARED);
	assert_int_equal(vms[0]->pmap[0].mpn, vms[1]->pmap[0].mpn);
	assert_int_equal(vms[1]->pmap[1].mpn, vms[1]->pmap[0].mpn);
	assert_int_equal(vms[0]->pmap[2].state, MV_PS_ZERO);
	assert_int_equal(stats(s).merges, 2);
	assert_int_equal(stats(s).hash_collisions, 0);
	/* the sharing frame kept its descriptor (a0 was hinted first) */
	assert_int_equal(mv_vm_page_desc(vms[0], 0), d);
	/* a write breaks sharing: a new version, of the same class */
	assert_non_null(mv_vm_access(vms[1], 0, 1));
	assert_int_equal(mv_vm_page_desc(vms[1], 0), d); /* COW: copied */
	mv_vm_set_desc(vms[1], 0, mv_desc_version(d, 42));
	assert_int_equal(mv_desc_class(mv_vm_page_desc(vms[1], 0)),
			 MV_DESC_APP);
	assert_true(mv_vm_page_desc(vms[1], 0) != d);
	assert_int_equal(vms[1]->pmap[0].state, MV_PS_PRIVATE);
	assert_books(s, vms, 2);
	destroy_all(s, vms, 2, h);
}

static void test_a_page_changed_behind_its_hint_is_never_shared(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	write_seed(vms[1], 0, 77);
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	full_scans(s, 1);
	assert_int_equal(stats(s).pages_unshared, 1); /* b0 is a hint */

	/* change b0's bytes without the access path: no dirty bit, and the
	 * scanner does not see it before it meets the hint again */
	mv_host_frame(h, vms[1]->pmap[0].mpn)[9] ^= 0xff;
	mv_vm_wrote(vms[1], 0);
	write_seed(vms[0], 0, 77);
	assert_int_equal(mv_share_scan(s, 1), 1); /* a0 meets b0's hint */

	assert_int_equal(vms[0]->pmap[0].state, MV_PS_PRIVATE);
	assert_int_equal(vms[1]->pmap[0].state, MV_PS_PRIVATE);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.merges, 0);
	/* refused by the recomputed hash, before any byte compare */
	assert_int_equal(st.hash_collisions, 0);
	assert_int_equal(st.pages_unshared,
			 1); /* a0 took the stale one's key */
	assert_true(page_is_seed(vms[0], 0, 77));
	assert_books(s, vms, 2);

	destroy_all(s, vms, 2, h);
}

/* ---- volatility --------------------------------------------------------- */

static void
test_pages_written_between_scans_are_volatile_and_not_hinted(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {vm_verified(h, "a", 8, 0)};
	for (mv_gppn_t g = 0; g < 10; g++)
		write_seed(vms[0], g, 300 + g);
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	full_scans(s, 1);
	assert_int_equal(stats(s).pages_unshared, 10); /* first sight: hints */
	assert_int_equal(stats(s).pages_volatile, 0);

	for (mv_gppn_t g = 0; g < 4; g++)
		write_seed(vms[0], g, 400 + g); /* new bytes */
	write_seed(vms[0], 4, 304);             /* same bytes, but written */
	full_scans(s, 1);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.pages_volatile, 5);
	assert_int_equal(st.pages_unshared, 5);
	assert_int_equal(st.pages_scanned, 20);
	assert_books(s, vms, 1);

	/* quiet since the last scan: hinted again */
	full_scans(s, 1);
	assert_int_equal(stats(s).pages_volatile, 0); /* a gauge, as in KSM */
	assert_int_equal(stats(s).volatile_seen, 5);
	assert_int_equal(stats(s).pages_unshared, 10);

	/* two pages made equal while volatile do not merge through hints */
	write_seed(vms[0], 0, 999);
	write_seed(vms[0], 1, 999);
	full_scans(s, 1);
	assert_int_equal(stats(s).merges, 0);
	full_scans(s, 1);
	assert_int_equal(stats(s).merges, 1);
	assert_int_equal(vms[0]->pmap[0].mpn, vms[0]->pmap[1].mpn);
	assert_books(s, vms, 1);

	destroy_all(s, vms, 1, h);
}

static void test_a_volatile_page_still_merges_with_a_sharing_frame(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {vm_verified(h, "a", 8, 0)};
	write_seed(vms[0], 0, 1);
	write_seed(vms[0], 1, 2);
	write_seed(vms[0], 2, 2);
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	full_scans(s, 1);
	assert_int_equal(stats(s).merges, 1);

	write_seed(vms[0], 0, 2); /* page 0 changes to the shared bytes */
	full_scans(s, 1);
	assert_int_equal(stats(s).volatile_seen, 1);
	assert_int_equal(stats(s).pages_volatile, 0); /* shared now */
	assert_int_equal(stats(s).merges, 2);
	assert_int_equal(vms[0]->pmap[0].mpn, vms[0]->pmap[1].mpn);
	assert_int_equal(stats(s).pages_sharing, 2);
	assert_books(s, vms, 1);

	destroy_all(s, vms, 1, h);
}

/* ---- what must not be shared -------------------------------------------- */

static void test_vms_with_sharing_disabled_are_never_touched(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm_config c;
	mv_vm_config_default(&c, "nosharepages", 8 * MV_MIB);
	c.sharing = 0;
	struct mv_vm *off = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_vm_create(h, &c, 1, &off, &err), &err, "mv_vm_create");
	assert_int_equal(mv_vm_enable_verify(off), 0);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0), off};
	for (mv_gppn_t g = 0; g < 10; g++) {
		write_seed(vms[0], g, g);
		write_seed(off, g, g);
		write_seed(off, 10 + g, 5); /* duplicates inside it */
		write_zero(off, 20 + g);
	}
	struct mv_pme before[30];
	memcpy(before, off->pmap, sizeof before);
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	full_scans(s, 3);

	assert_memory_equal(off->pmap, before, sizeof before);
	assert_int_equal(off->count[MV_PS_PRIVATE], 30);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.merges, 0);
	assert_int_equal(st.zero_pages, 0);
	assert_int_equal(st.pages_scanned, 30); /* a's 10 pages, 3 times */
	assert_books(s, vms, 2);

	mv_share_destroy(s);
	mv_vm_destroy(vms[0]);
	mv_vm_destroy(off);
	mv_host_destroy(h);
}

static void test_large_and_pinned_pages_are_not_shared_until_split(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {vm_verified(h, "a", 8, 0)};
	for (mv_gppn_t g = 0; g < 8; g++) {
		write_seed(vms[0], g, 9);
		vms[0]->pmap[g].flags |= g < 4 ? MV_PME_LARGE : MV_PME_PINNED;
	}
	write_zero(vms[0], 8);
	vms[0]->pmap[8].flags |= MV_PME_LARGE;
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	full_scans(s, 2);
	for (mv_gppn_t g = 0; g < 9; g++)
		assert_int_equal(vms[0]->pmap[g].state, MV_PS_PRIVATE);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.pages_scanned, 0);
	assert_int_equal(st.merges + st.zero_pages, 0);

	/* split the large mapping: now its pages are candidates */
	for (mv_gppn_t g = 0; g < 9; g++)
		vms[0]->pmap[g].flags &= (uint8_t)~MV_PME_LARGE;
	full_scans(s, 1);
	st = stats(s);
	assert_int_equal(st.merges, 3);
	assert_int_equal(st.zero_pages, 1);
	for (mv_gppn_t g = 4; g < 8; g++)
		assert_int_equal(vms[0]->pmap[g].state, MV_PS_PRIVATE);
	assert_books(s, vms, 1);

	destroy_all(s, vms, 1, h);
}

/* ---- rate, bounds, configuration, the checker --------------------------- */

static void
test_run_with_defaults_scans_5000_pages_per_simulated_second(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {mvt_vm(h, "a", 8, 0)};
	for (mv_gppn_t g = 0; g < vms[0]->npages; g++)
		write_seed(vms[0], g, 5000 + g);
	struct mv_sharer *s = sharer(h, vms, 1, NULL);

	assert_int_equal(mv_share_run(s, MV_NS_PER_S), 5000);
	struct mv_share_stats st = stats(s);
	assert_int_equal(st.pages_scanned, 5000);
	assert_int_equal(st.full_scans, 2); /* 2048 pages a lap */
	assert_int_equal(st.sim_cpu_ns, 5000 * 250);
	/* half a sleep period does nothing; the other half one batch */
	assert_int_equal(mv_share_run(s, 10 * MV_NS_PER_MS), 0);
	assert_int_equal(mv_share_run(s, 10 * MV_NS_PER_MS), 100);
	assert_int_equal(mv_share_scan(s, 7), 7);
	assert_int_equal(stats(s).pages_scanned, 5107);
	mv_share_destroy(s);

	/* enabled = 0 (KSM run = 0): the scanner sleeps */
	struct mv_share_config c;
	mv_share_config_default(&c);
	c.enabled = 0;
	s = sharer(h, vms, 1, &c);
	assert_int_equal(mv_share_run(s, 10 * MV_NS_PER_S), 0);
	assert_int_equal(stats(s).pages_scanned, 0);
	destroy_all(s, vms, 1, h);
}

/*
 * scan-time (ESX's Mem.ShareScanTime): every page of the sharing VMs once
 * in that time, the pages passed over (untouched, shared, zero) counted,
 * so a lap takes scan_time whatever the candidates; with pages_to_scan
 * (KSM) only candidates count and a lap of few candidates is short.
 */
static void
test_scan_time_takes_a_lap_in_that_time_whatever_is_passed_over(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[2] = {mvt_vm(h, "a", 4, 0), mvt_vm(h, "b", 4, 1)};
	for (mv_gppn_t g = 0; g < 100; g++) /* 100 candidates of 2048 */
		write_seed(vms[g % 2], 3 * g, 9000 + g);
	struct mv_share_config c;
	mv_share_config_default(&c);
	c.scan_time_ns = MV_NS_PER_S; /* 2048 pages a second: 40.96 a wake */
	struct mv_sharer *s = sharer(h, vms, 2, &c);
	uint64_t passed = 0;
	for (int k = 0; k < 49; k++)
		passed += mv_share_run(s, 20 * MV_NS_PER_MS);
	assert_int_equal(stats(s).full_scans, 0);
	passed += mv_share_run(s, 20 * MV_NS_PER_MS);
	assert_int_equal(passed, 2048);
	assert_int_equal(stats(s).full_scans, 1);
	assert_int_equal(stats(s).pages_scanned, 100);
	/* half a second more: half a lap, the candidates of the first VM */
	assert_int_equal(mv_share_run(s, MV_NS_PER_S / 2), 1024);
	assert_int_equal(stats(s).full_scans, 1);
	assert_int_equal(stats(s).pages_scanned, 150);
	assert_int_equal(mv_share_run(s, MV_NS_PER_S / 2), 1024);
	assert_int_equal(stats(s).full_scans, 2);
	mv_share_destroy(s);

	/* the same rate as KSM's pages_to_scan: 41 candidates a wake, so
	 * the 100 in 3 wakes, and 20 laps in the second */
	c.scan_time_ns = 0;
	c.pages_to_scan = 41;
	s = sharer(h, vms, 2, &c);
	assert_int_equal(mv_share_run(s, MV_NS_PER_S), 50 * 41);
	assert_int_equal(stats(s).full_scans, 20);
	destroy_all(s, vms, 2, h);
}

static void test_scan_returns_at_once_when_nothing_is_a_candidate(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {mvt_vm(h, "a", 8, 0)};
	struct mv_sharer *s = sharer(h, NULL, 0, NULL);
	assert_int_equal(mv_share_scan(s, 100), 0); /* no VM */
	assert_int_equal(mv_share_add_vm(s, vms[0]), 0);
	assert_int_equal(mv_share_add_vm(s, vms[0]), MV_EINVAL);
	assert_int_equal(mv_share_scan(s, 100), 0); /* all untouched */
	write_seed(vms[0], 2000, 1);
	assert_int_equal(mv_share_scan(s, 100), 100); /* one page, 100 times */
	assert_books(s, vms, 1);
	destroy_all(s, vms, 1, h);
}

/*
 * A hint names its page by one numbering of all the sharer's VMs (VM i's
 * pages from the sum of the earlier VMs' sizes): hints of the second and
 * third VMs find their pages, and one more VM that would take the
 * numbering past 2^31 pages is refused before anything is touched.
 */
static void
test_hints_name_pages_of_every_vm_and_the_numbering_is_bounded(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[3] = {mvt_vm(h, "a", 8, 0), mvt_vm(h, "b", 4, 1),
				mvt_vm(h, "c", 8, 2)};
	struct mv_sharer *s = sharer(h, vms, 3, NULL);
	write_seed(vms[1], 5, 42);
	write_seed(vms[2], 1000, 42);
	write_seed(vms[2], 2047, 43); /* the last page numbered */
	write_seed(vms[1], 1023, 43); /* the last page of VM b */
	full_scans(s, 1);
	assert_int_equal(vms[1]->pmap[5].state, MV_PS_SHARED);
	assert_int_equal(vms[2]->pmap[1000].state, MV_PS_SHARED);
	assert_int_equal(vms[2]->pmap[2047].state, MV_PS_SHARED);
	assert_int_equal(vms[1]->pmap[1023].state, MV_PS_SHARED);
	assert_int_equal(stats(s).pages_shared, 2);
	assert_books(s, vms, 3);
	/* 2048 + 1024 + 2048 pages are numbered: a VM of the rest plus one
	 * does not fit (never scanned: its pmap is not there) */
	struct mv_vm big = {.host = h};
	big.npages = (UINT64_C(1) << 31) - (2048 + 1024 + 2048) + 1;
	assert_int_equal(mv_share_add_vm(s, &big), MV_EINVAL);
	assert_books(s, vms, 3);
	destroy_all(s, vms, 3, h);
}

static void test_the_table_stays_bounded_when_pages_keep_changing(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {mvt_vm(h, "a", 8, 0)};
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	uint64_t used, cap;
	for (int round = 0; round < 40; round++) {
		for (mv_gppn_t g = 0; g < vms[0]->npages; g++)
			write_seed(vms[0], g, (uint64_t)round << 20 | g);
		full_scans(s, 2); /* volatile, then a new hint each */
		mv_share_table_usage(s, &used, &cap);
		assert_true(used <= vms[0]->npages);
		assert_true(cap <= 4 * vms[0]->npages);
		/* round 0's hints were never volatile */
		assert_int_equal(stats(s).volatile_seen,
				 (uint64_t)round * vms[0]->npages);
		assert_int_equal(stats(s).pages_volatile, 0);
	}
	assert_int_equal(stats(s).pages_unshared, vms[0]->npages);
	assert_books(s, vms, 1);
	destroy_all(s, vms, 1, h);
}

/*
 * The table grows with use, not with the guests' size: adding a VM
 * allocates nothing, and after a scan of n distinct pages (n hints) it is
 * the power of two that holds them between a quarter and 3/4 full.
 */
static void test_the_table_grows_with_the_hints_it_holds(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {mvt_vm(h, "a", 32, 0)};
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	uint64_t used, cap;
	mv_share_table_usage(s, &used, &cap);
	assert_int_equal(used, 0);
	assert_int_equal(cap, 1024); /* TABLE_MIN, 8192 guest pages */
	for (mv_gppn_t g = 0; g < 3000; g++)
		write_seed(vms[0], g, 7000 + g);
	full_scans(s, 1);
	mv_share_table_usage(s, &used, &cap);
	assert_int_equal(used, 3000);
	/* doubled at 769 and 1537 entries; 3000 is 73% of 4096 */
	assert_int_equal(cap, 4096);
	for (mv_gppn_t g = 3000; g < 3100; g++)
		write_seed(vms[0], g, 7000 + g);
	full_scans(s, 1); /* the 3073rd entry doubles it */
	mv_share_table_usage(s, &used, &cap);
	assert_int_equal(used, 3100);
	assert_int_equal(cap, 8192);
	assert_int_equal(stats(s).pages_unshared, 3100);
	assert_books(s, vms, 1);
	destroy_all(s, vms, 1, h);
}

/*
 * A table of 2 MiB or more is rebuilt through its own memory: the live
 * entries packed at its front, the rest given back, the packed part given
 * back as it is inserted (tab_rebuild). Every hint survives the rebuild
 * that doubles it from 2^18 entries, those in the parts given back too,
 * and a second VM's copies of pages from all over the first all merge.
 */
static void test_a_large_table_keeps_every_hint_across_a_rebuild(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(2048, 1);
	struct mv_vm *vms[2] = {mvt_vm(h, "a", 1024, 0), mvt_vm(h, "b", 64, 0)};
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	const mv_gppn_t n = 250000, copies = 16384;
	for (mv_gppn_t g = 0; g < n; g++)
		write_desc(vms[0], g,
			   mv_desc_make(MV_DESC_DATA, 32, 100000 + g));
	full_scans(s, 1);
	uint64_t used, cap;
	mv_share_table_usage(s, &used, &cap);
	assert_int_equal(used, n);
	/* 196608 entries (3/4 of 2^18, 3 MiB) rebuilt it into 2^19 */
	assert_int_equal(cap, 1u << 19);
	for (mv_gppn_t g = 0; g < copies; g++)
		write_desc(vms[1], g,
			   mv_desc_make(MV_DESC_DATA, 32, 100000 + g * 15));
	full_scans(s, 1);
	assert_int_equal(stats(s).pages_shared, copies);
	assert_int_equal(stats(s).pages_sharing, copies);
	assert_int_equal(stats(s).pages_volatile, 0);
	assert_books(s, vms, 2);
	destroy_all(s, vms, 2, h);
}

static void test_create_rejects_a_zero_sleep(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_share_config c;
	mv_share_config_default(&c);
	assert_int_equal(c.pages_to_scan, 100);
	assert_int_equal(c.sleep_ns, 20 * MV_NS_PER_MS);
	assert_int_equal(c.page_cost_ns, 250);
	assert_true(c.enabled && c.use_zero_pages && c.hints);
	c.sleep_ns = 0;
	struct mv_sharer *s = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_share_create(h, &c, &s, &err), MV_EINVAL);
	assert_null(s);
	assert_string_equal(err.field, "sharing/sleep");
	mv_host_destroy(h);
}

static void
test_check_finds_a_written_sharing_frame_and_an_unknown_one(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {mvt_vm(h, "a", 8, 0)};
	write_seed(vms[0], 0, 1);
	write_seed(vms[0], 1, 1);
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	full_scans(s, 1);
	struct mv_error err = {0};
	assert_int_equal(mv_share_check(s, &err), 0);
	mv_mpn_t m = vms[0]->pmap[0].mpn;
	mv_host_frame(h, m)[0] ^= 1;
	assert_int_equal(mv_share_check(s, &err), MV_EINVAL);
	assert_non_null(strstr(err.msg, "written"));
	mv_host_frame(h, m)[0] ^= 1;
	assert_int_equal(mv_share_check(s, &err), 0);

	/* a sharing frame made behind the scanner's back */
	write_seed(vms[0], 5, 2);
	write_seed(vms[0], 6, 3);
	mv_mpn_t a = vms[0]->pmap[5].mpn;
	mv_frame_word_set(h, a, mv_frame_word(h, a) | (MV_FRAME_SHARED));
	mv_pmap_set(vms[0], 5, MV_PS_SHARED, a);
	assert_int_equal(mv_share_check(s, &err), MV_EINVAL);
	assert_non_null(strstr(err.msg, "no live sharing entry"));
	destroy_all(s, vms, 1, h);
}

/* ---- the hash kept for an unchanged page --------------------------------- */

static uint64_t hash_calls;

static uint64_t counting_hash(const void *page)
{
	hash_calls++;
	return mv_page_hash(page);
}

/* Calls of the hash function during one full scan. */
static uint64_t hashes_in_a_lap(struct mv_sharer *s)
{
	uint64_t before = hash_calls;
	full_scans(s, 1);
	return hash_calls - before;
}

/* The page of `seed` with its last 3/4 zero: LZ4 fits it in the cache. */
static void write_quarter(struct mv_vm *vm, mv_gppn_t g, uint64_t seed)
{
	uint8_t *p = mv_vm_access_bytes(vm, g, 1);
	assert_non_null(p);
	make_page(p, seed);
	memset(p + MV_PAGE_SIZE / 4, 0, MV_PAGE_SIZE / 4 * 3);
	mv_vm_wrote(vm, g);
}

/*
 * A hinted page whose bytes did not change is looked up under its hint's
 * hash without hashing it again; every path that changes its bytes makes
 * the scanner hash it again: a stale hash would leave a ballooned page
 * that came back as zeros private, and a page rewritten to equal another
 * one unshared.
 */
static void
test_the_scanner_hashes_a_page_again_only_when_its_bytes_changed(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[1] = {vm_verified(h, "a", 8, 0)};
	struct mv_vm *vm = vms[0];
	struct mv_zcache *z;
	struct mv_error err = {0};
	mvt_ok(mv_zcache_create(vm, 4 * MV_PAGE_SIZE, NULL, &z, &err), &err,
	       "mv_zcache_create");
	for (mv_gppn_t g = 0; g < 6; g++)
		write_quarter(vm, g, 1 + g);
	struct mv_sharer *s = sharer(h, vms, 1, NULL);
	mv_share_set_hash(s, counting_hash);
	assert_int_equal(hashes_in_a_lap(s), 6);
	assert_int_equal(hashes_in_a_lap(s), 0); /* all hinted, unchanged */

	/* a guest write: hashed when volatile, hashed again when hinted */
	write_quarter(vm, 0, 100);
	assert_int_equal(hashes_in_a_lap(s), 1);
	assert_int_equal(hashes_in_a_lap(s), 1);
	assert_int_equal(hashes_in_a_lap(s), 0);

	/* compressed and read back: the same bytes in another frame keep
	 * their hash */
	int st;
	mvt_ok(mv_zcache_out(z, 1, &st, &err), &err, "mv_zcache_out");
	assert_int_equal(st, MV_PS_COMPRESSED);
	assert_non_null(mv_vm_access(vm, 1, 0));
	assert_int_equal(vm->pmap[1].state, MV_PS_PRIVATE);
	assert_int_equal(hashes_in_a_lap(s), 0);

	/* generated content written by the guest: a descriptor never seen */
	assert_non_null(mv_vm_access(vm, 3, 1));
	mv_vm_set_desc(vm, 3, mv_desc_make(MV_DESC_DATA, 32, 4242));
	assert_int_equal(hashes_in_a_lap(s), 1);

	/* the balloon took page 2; read again, it is zeros: a zero page */
	mv_vm_balloon_page(vm, 2);
	assert_non_null(mv_vm_access(vm, 2, 0));
	full_scans(s, 1);
	assert_int_equal(vm->pmap[2].state, MV_PS_ZERO);

	/* page 4 rewritten with page 5's bytes: volatile once, then shared */
	write_quarter(vm, 4, 6);
	full_scans(s, 2);
	assert_int_equal(vm->pmap[4].state, MV_PS_SHARED);
	assert_int_equal(vm->pmap[5].state, MV_PS_SHARED);
	assert_int_equal(vm->pmap[4].mpn, vm->pmap[5].mpn);

	/* another hash function: no kept hash holds, every page is hashed */
	mv_share_set_hash(s, counting_hash);
	uint64_t private = vm->count[MV_PS_PRIVATE];
	assert_int_equal(private, 3); /* pages 0, 1 and 3 */
	assert_int_equal(hashes_in_a_lap(s), private);
	/* volatile, so not hinted: hashed again, page 3's descriptor
	 * through the memo */
	assert_int_equal(hashes_in_a_lap(s), private - 1);
	assert_int_equal(hashes_in_a_lap(s), 0);
	assert_books(s, vms, 1);
	mvt_ok(mv_zcache_check(z, &err), &err, "mv_zcache_check");
	mv_share_destroy(s);
	mv_zcache_destroy(z);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* ---- a long randomized run ---------------------------------------------- */

#define NPAT 12

static void
test_random_writes_scans_and_cow_breaks_never_change_a_byte(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(48, 1);
	struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1)};
	const uint64_t np = vms[0]->npages;
	struct mv_sharer *s = sharer(h, vms, 2, NULL);
	uint8_t *pat = malloc(NPAT * MV_PAGE_SIZE);
	uint8_t *shadow = calloc(2 * np, MV_PAGE_SIZE); /* untouched = zeros */
	assert_non_null(pat);
	assert_non_null(shadow);
	for (int k = 0; k < NPAT; k++)
		make_page(pat + k * MV_PAGE_SIZE, 70000 + (uint64_t)k);
	memset(pat, 0, MV_PAGE_SIZE); /* pattern 0: zeros */

	struct mv_rng r;
	mv_rng_seed(&r, 2024);
	uint64_t max_shared = 0, max_zero = 0, writes_to_shared = 0;
	for (int op = 1; op <= 200000; op++) {
		int v = (int)mv_rng_below(&r, 2);
		mv_gppn_t g = mv_rng_below(&r, np);
		struct mv_vm *vm = vms[v];
		uint8_t *sh = shadow + ((uint64_t)v * np + g) * MV_PAGE_SIZE;
		uint64_t k = mv_rng_below(&r, 100);
		if (k < 40) { /* write a whole page from a small set */
			writes_to_shared += vm->pmap[g].state == MV_PS_SHARED;
			const uint8_t *src = pat + mv_rng_below(&r, NPAT) *
							   MV_PAGE_SIZE;
			uint8_t *p = mv_vm_access_bytes(vm, g, 1);
			assert_non_null(p);
			memcpy(p, src, MV_PAGE_SIZE);
			memcpy(sh, src, MV_PAGE_SIZE);
			mv_vm_wrote(vm, g);
		} else if (k < 55) { /* change one word */
			writes_to_shared += vm->pmap[g].state == MV_PS_SHARED;
			uint64_t off = mv_rng_below(&r, MV_PAGE_SIZE / 8) * 8;
			uint64_t w = mv_rng_below(&r, 4); /* often rewrites */
			uint8_t *p = mv_vm_access_bytes(vm, g, 1);
			assert_non_null(p);
			memcpy(p + off, &w, 8);
			memcpy(sh + off, &w, 8);
			mv_vm_wrote(vm, g);
		} else if (k < 75) { /* read and compare */
			const uint8_t *p = mv_vm_access_bytes(vm, g, 0);
			assert_non_null(p);
			assert_memory_equal(p, sh, MV_PAGE_SIZE);
		} else if (k < 98) { /* scan */
			mv_share_scan(s, 1 + mv_rng_below(&r, 100));
		} else { /* the guest gives the page to the balloon */
			mv_vm_balloon_page(vm, g);
			memset(sh, 0, MV_PAGE_SIZE);
		}
		if (op % 5000 == 0) {
			assert_books(s, vms, 2);
			struct mv_share_stats st = stats(s);
			if (st.pages_shared > max_shared)
				max_shared = st.pages_shared;
			if (st.zero_pages > max_zero)
				max_zero = st.zero_pages;
		}
	}
	assert_books(s, vms, 2);
	for (int v = 0; v < 2; v++)
		for (mv_gppn_t g = 0; g < np; g++) {
			const uint8_t *p = mv_vm_access_bytes(vms[v], g, 0);
			assert_non_null(p);
			assert_memory_equal(p,
					    shadow + ((uint64_t)v * np + g) *
							     MV_PAGE_SIZE,
					    MV_PAGE_SIZE);
		}
	/* the run exercised what it claims to */
	struct mv_share_stats st = stats(s);
	assert_true(st.merges > 1000);
	assert_true(max_shared > 5);
	assert_true(max_zero > 100);
	assert_true(st.volatile_seen > 1000);
	assert_true(st.full_scans > 10);
	assert_true(writes_to_shared > 1000);
	assert_int_equal(st.hash_collisions, 0);

	mv_share_destroy(s);
	mv_vm_destroy(vms[0]);
	mv_vm_destroy(vms[1]);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mv_host_destroy(h);
	free(pat);
	free(shadow);
}

/*
 * A lap (mv_share_scan_lap, which passes over unchanged hinted pages
 * without probing the table) leaves every page, frame and count as
 * visiting each page in the same order through mv_share_page (a full
 * visit of every candidate) does: two copies of one world, the same
 * writes between laps, compared after each.
 */
struct world {
	struct mv_host *h;
	struct mv_vm *vms[2];
	struct mv_sharer *s;
};

static void world_make(struct world *w)
{
	w->h = mvt_host(48, 1);
	w->vms[0] = mvt_vm(w->h, "a", 4, 0);
	w->vms[1] = mvt_vm(w->h, "b", 4, 1);
	w->s = sharer(w->h, w->vms, 2, NULL);
}

static void world_write(struct world *w, int v, mv_gppn_t g, uint64_t seed)
{
	if (seed == 0)
		write_zero(w->vms[v], g);
	else
		write_seed(w->vms[v], g, seed);
}

static void
test_a_lap_leaves_every_page_as_visiting_each_page_does(void **state)
{
	(void)state;
	struct world lap, each;
	world_make(&lap);
	world_make(&each);
	const uint64_t np = lap.vms[0]->npages;
	struct mv_rng r;
	mv_rng_seed(&r, 77);
	uint64_t passed = 0; /* unchanged hinted pages met by the laps */
	for (int round = 0; round < 12; round++) {
		/* few distinct pages, so hints, merges and breaks; some
		 * rounds write little, so most pages stay unchanged */
		int writes = round % 3 == 2 ? 20 : 600;
		for (int k = 0; k < writes; k++) {
			int v = (int)mv_rng_below(&r, 2);
			mv_gppn_t g = mv_rng_below(&r, np);
			uint64_t seed = mv_rng_below(&r, 40);
			if (seed >= 20)
				seed = 1000 + 2 * np * (uint64_t)v +
				       g; /* unique */
			world_write(&lap, v, g, seed);
			world_write(&each, v, g, seed);
		}
		for (int v = 0; v < 2; v++)
			for (mv_gppn_t g = 0; g < np; g++) {
				const struct mv_pme *e = &lap.vms[v]->pmap[g];
				passed += e->state == MV_PS_PRIVATE &&
					  (e->flags &
					   (MV_PME_SEEN | MV_PME_HINT |
					    MV_PME_DIRTY)) ==
						  (MV_PME_SEEN | MV_PME_HINT);
			}
		full_scans(lap.s, 1);
		for (int v = 0; v < 2; v++)
			for (mv_gppn_t g = 0; g < np; g++)
				mv_share_page(each.s, each.vms[v], g);
		for (int v = 0; v < 2; v++)
			for (mv_gppn_t g = 0; g < np; g++) {
				const struct mv_pme *a = &lap.vms[v]->pmap[g];
				const struct mv_pme *b = &each.vms[v]->pmap[g];
				if (a->state != b->state || a->mpn != b->mpn ||
				    a->flags != b->flags ||
				    a->cksum != b->cksum)
					fail_msg("round %d, VM %d page %llu: "
						 "state %d/%d frame %u/%u "
						 "flags %#x/%#x",
						 round, v,
						 (unsigned long long)g,
						 a->state, b->state, a->mpn,
						 b->mpn, a->flags, b->flags);
			}
		struct mv_share_stats sa = stats(lap.s), sb = stats(each.s);
		assert_int_equal(sa.pages_scanned, sb.pages_scanned);
		assert_int_equal(sa.merges, sb.merges);
		assert_int_equal(sa.volatile_seen, sb.volatile_seen);
		assert_int_equal(sa.pages_shared, sb.pages_shared);
		assert_int_equal(sa.zero_pages, sb.zero_pages);
		uint64_t ua, ca, ub, cb;
		mv_share_table_usage(lap.s, &ua, &ca);
		mv_share_table_usage(each.s, &ub, &cb);
		assert_int_equal(ua, ub);
		assert_books(lap.s, lap.vms, 2);
	}
	/* the laps met many pages they could pass over */
	assert_true(passed > np);
	assert_true(stats(lap.s).merges > 100);
	destroy_all(lap.s, lap.vms, 2, lap.h);
	destroy_all(each.s, each.vms, 2, each.h);
}

/* What the scanner asked of the observe hooks, in order. */
struct observed {
	struct mv_vm *vms[2];
	int announced[2][1024]; /* by look_ahead, not yet observed */
	int order[4096][2];     /* (VM, page) in the order observed */
	int n;
};

static void log_before(void *ctx, const struct mv_vm *vm, const mv_gppn_t *p,
		       unsigned n)
{
	struct observed *o = ctx;
	int v = vm == o->vms[1];
	for (unsigned k = 0; k < n; k++)
		o->announced[v][p[k]] = 1;
}

static void log_observe(void *ctx, struct mv_vm *vm, mv_gppn_t g)
{
	struct observed *o = ctx;
	int v = vm == o->vms[1];
	if (!o->announced[v][g])
		fail_msg("VM %d page %llu observed unannounced", v,
			 (unsigned long long)g);
	o->announced[v][g] = 0;
	assert_true(o->n < 4096);
	o->order[o->n][0] = v;
	o->order[o->n][1] = (int)g;
	o->n++;
}

/*
 * The scanner observes pages (the interval model's writes since the last
 * look, mv_vm_observe) ahead of visiting them, in batches: every
 * candidate it scans is observed once, in scan order, each announced
 * first (look_ahead), and no page past what the scan reaches, since
 * the next scan is at a later time and would see other writes. With
 * pages-to-scan counting candidates, n candidates a scan.
 */
static void
test_the_scan_observes_exactly_the_pages_it_scans_in_order(void **state)
{
	(void)state;
	struct world w;
	world_make(&w);
	static struct observed o;
	memset(&o, 0, sizeof o);
	const uint64_t np = w.vms[0]->npages;
	assert_true(np <= 1024);
	for (int v = 0; v < 2; v++) {
		o.vms[v] = w.vms[v];
		w.vms[v]->on_observe = log_observe;
		w.vms[v]->look_ahead = log_before;
		w.vms[v]->rate_ctx = &o;
		/* candidates far apart and in runs: some batches end on the
		 * budget, some on a VM's end */
		for (mv_gppn_t g = 0; g < np; g++)
			if (g % 7 == 0 || (g > 500 && g < 540))
				world_write(&w, v, g,
					    g % 3 ? 5000 + g + np * (unsigned)v
						  : 3);
	}
	const uint64_t budgets[] = {1, 37, 16, 200, 5, 300, 17, 90};
	int laps = 0, seen = 0;
	for (size_t b = 0; b < sizeof budgets / sizeof *budgets; b++) {
		uint64_t scanned = stats(w.s).pages_scanned;
		int first = o.n;
		assert_int_equal(mv_share_scan(w.s, budgets[b]), budgets[b]);
		/* each candidate the scan counted was visited */
		assert_int_equal(stats(w.s).pages_scanned - scanned,
				 budgets[b]);
		/* and observed; a page observed but not counted is one a
		 * visit earlier in its batch merged (it was hinted) */
		int extra = o.n - first - (int)budgets[b];
		assert_true(extra >= 0);
		for (int q = first; q < o.n; q++)
			extra -= w.vms[o.order[q][0]]
					 ->pmap[o.order[q][1]]
					 .state != MV_PS_PRIVATE;
		assert_true(extra <= 0);
		/* in scan order, each page once a lap, nothing ahead */
		for (int q = seen ? seen : 1; q < o.n; q++) {
			int a = o.order[q - 1][0] * 1024 + o.order[q - 1][1];
			int c = o.order[q][0] * 1024 + o.order[q][1];
			if (c <= a)
				laps++;
		}
		seen = o.n;
	}
	/* 666 candidates: past the end of the first lap (360) once,
	 * of the second (fewer: the pages merged) once more */
	assert_int_equal(laps, 2);
	assert_true(o.n >= 666);
	assert_true(stats(w.s).merges > 0);
	for (int i = 0; i < 2; i++)
		w.vms[i]->on_observe = NULL, w.vms[i]->look_ahead = NULL;
	assert_books(w.s, w.vms, 2);
	destroy_all(w.s, w.vms, 2, w.h);
}

/*
 * Salting (ESX Mem.ShareForceSalting): VMs in different salt groups never
 * share, even pages with the same bytes; inside a group, and inside one
 * VM, pages still merge after the full compare; zero pages still go to
 * the zero frame; a frame freed by one group and shared again by another
 * keeps the table exact.
 */
static void test_salted_vms_share_only_within_their_group(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm *vms[3] = {vm_verified(h, "a", 8, 0),
				vm_verified(h, "b", 8, 1),
				vm_verified(h, "c", 8, 2)};
	for (mv_gppn_t g = 0; g < 50; g++)
		for (int v = 0; v < 3; v++)
			write_seed(vms[v], g, g); /* same bytes in all three */
	write_seed(vms[0], 60, 3);                /* a copy inside a */
	write_zero(vms[2], 70);
	struct mv_sharer *s = sharer(h, vms, 3, NULL);
	/* a and c in group 7, b alone in group 9 */
	assert_int_equal(mv_share_set_salt(s, vms[0], 7), 0);
	assert_int_equal(mv_share_set_salt(s, vms[1], 9), 0);
	assert_int_equal(mv_share_set_salt(s, vms[2], 7), 0);
	uint64_t free0 = h->nfree;

	full_scans(s, 2);

	struct mv_share_stats st = stats(s);
	/* a+c: 50 frames shared, 51 pages saved (a's page 60 too); b: none */
	assert_int_equal(st.pages_shared, 50);
	assert_int_equal(st.pages_sharing, 51);
	assert_int_equal(st.zero_pages, 1);
	assert_int_equal(h->nfree, free0 + 52);
	for (mv_gppn_t g = 0; g < 50; g++) {
		assert_int_equal(vms[0]->pmap[g].mpn, vms[2]->pmap[g].mpn);
		assert_int_equal(vms[1]->pmap[g].state, MV_PS_PRIVATE);
		assert_true(page_is_seed(vms[1], g, g));
	}
	assert_int_equal(vms[2]->pmap[70].state, MV_PS_ZERO);
	assert_books(s, vms, 3);

	/* c and a write their copies of page 5 away: the frame is freed
	 * (a takes it over); b's bytes stay alone in group 9 */
	write_seed(vms[2], 5, 500);
	write_seed(vms[0], 5, 501);
	full_scans(s, 3);
	assert_int_equal(vms[1]->pmap[5].state, MV_PS_PRIVATE);
	assert_books(s, vms, 3);

	/* scanning began: the groups are fixed */
	assert_int_equal(mv_share_set_salt(s, vms[1], 7), MV_EINVAL);
	destroy_all(s, vms, 3, h);
}

/* One salt group for all (salt_key(0) = 0): exactly the unsalted scan. */
static void test_one_salt_group_shares_as_an_unsalted_host(void **state)
{
	(void)state;
	uint64_t saved[2];
	for (int salted = 0; salted < 2; salted++) {
		struct mv_host *h = mvt_host(64, 1);
		struct mv_vm *vms[2] = {vm_verified(h, "a", 8, 0),
					vm_verified(h, "b", 8, 1)};
		for (mv_gppn_t g = 0; g < 40; g++) {
			write_seed(vms[0], g, g % 30);
			write_seed(vms[1], g, g % 20);
		}
		struct mv_sharer *s = sharer(h, vms, 2, NULL);
		if (salted) {
			assert_int_equal(mv_share_set_salt(s, vms[0], 4), 0);
			assert_int_equal(mv_share_set_salt(s, vms[1], 4), 0);
		}
		full_scans(s, 2);
		saved[salted] = stats(s).pages_sharing;
		assert_books(s, vms, 2);
		destroy_all(s, vms, 2, h);
	}
	assert_int_equal(saved[0], 50);
	assert_int_equal(saved[1], saved[0]);
}

/*
 * merge_across_nodes (docs/numa.md): VMs homed on two nodes write the same
 * real bytes into two pages each. Merged across nodes, one frame holds
 * the four pages; with 0, each node keeps its own copy shared by its two
 * pages, on that node. Bytes and books hold either way.
 */
static void test_merge_across_nodes_zero_keeps_a_copy_per_node(void **state)
{
	(void)state;
	for (int across = 1; across >= 0; across--) {
		struct mv_host *h = mvt_host(64, 2);
		struct mv_vm *vms[2] = {vm_verified(h, "a", 4, 0),
					vm_verified(h, "b", 4, 1)};
		for (int i = 0; i < 2; i++) {
			write_seed(vms[i], 0, 77);
			write_seed(vms[i], 1, 77);
			write_seed(vms[i], 2, 100 + (uint64_t)i);
		}
		struct mv_share_config c;
		mv_share_config_default(&c);
		c.merge_across_nodes = across;
		struct mv_sharer *s = sharer(h, vms, 2, &c);
		full_scans(s, 2);
		struct mv_share_stats st = stats(s);
		assert_int_equal(st.pages_shared, across ? 1 : 2);
		assert_int_equal(st.pages_sharing, across ? 3 : 2);
		for (int i = 0; i < 2; i++) {
			const struct mv_pme *e = vms[i]->pmap;
			assert_int_equal(e[0].state, MV_PS_SHARED);
			assert_int_equal(e[0].mpn, e[1].mpn);
			assert_int_equal(e[2].state, MV_PS_PRIVATE);
			if (!across)
				assert_int_equal(
					mv_host_frame_node(h, e[0].mpn), i);
			assert_true(page_is_seed(vms[i], 0, 77));
			assert_true(page_is_seed(vms[i], 1, 77));
		}
		assert_int_equal(vms[0]->pmap[0].mpn == vms[1]->pmap[0].mpn,
				 across);
		assert_books(s, vms, 2);
		destroy_all(s, vms, 2, h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_identical_pages_in_two_vms_merge_into_one_frame),
		cmocka_unit_test(
			test_write_to_a_shared_page_breaks_sharing_and_keeps_bytes),
		cmocka_unit_test(
			test_the_last_sharer_takes_the_frame_over_and_the_table_stays_exact),
		cmocka_unit_test(
			test_zero_pages_map_the_zero_frame_and_a_write_gets_a_private_copy),
		cmocka_unit_test(
			test_pages_with_equal_hashes_but_different_bytes_are_never_shared),
		cmocka_unit_test(
			test_a_page_changed_behind_its_hint_is_never_shared),
		cmocka_unit_test(
			test_the_scanner_hashes_a_page_again_only_when_its_bytes_changed),
		cmocka_unit_test(
			test_pages_written_between_scans_are_volatile_and_not_hinted),
		cmocka_unit_test(
			test_a_volatile_page_still_merges_with_a_sharing_frame),
		cmocka_unit_test(
			test_vms_with_sharing_disabled_are_never_touched),
		cmocka_unit_test(
			test_large_and_pinned_pages_are_not_shared_until_split),
		cmocka_unit_test(
			test_run_with_defaults_scans_5000_pages_per_simulated_second),
		cmocka_unit_test(
			test_scan_time_takes_a_lap_in_that_time_whatever_is_passed_over),
		cmocka_unit_test(
			test_scan_returns_at_once_when_nothing_is_a_candidate),
		cmocka_unit_test(
			test_hints_name_pages_of_every_vm_and_the_numbering_is_bounded),
		cmocka_unit_test(
			test_the_table_stays_bounded_when_pages_keep_changing),
		cmocka_unit_test(test_the_table_grows_with_the_hints_it_holds),
		cmocka_unit_test(
			test_a_large_table_keeps_every_hint_across_a_rebuild),
		cmocka_unit_test(test_create_rejects_a_zero_sleep),
		cmocka_unit_test(test_salted_vms_share_only_within_their_group),
		cmocka_unit_test(
			test_one_salt_group_shares_as_an_unsalted_host),
		cmocka_unit_test(
			test_different_descriptors_on_one_hash_are_never_shared),
		cmocka_unit_test(
			test_equal_descriptors_share_one_frame_that_keeps_its_descriptor),
		cmocka_unit_test(
			test_check_finds_a_written_sharing_frame_and_an_unknown_one),
		cmocka_unit_test(
			test_random_writes_scans_and_cow_breaks_never_change_a_byte),
		cmocka_unit_test(
			test_a_lap_leaves_every_page_as_visiting_each_page_does),
		cmocka_unit_test(
			test_merge_across_nodes_zero_keeps_a_copy_per_node),
		cmocka_unit_test(
			test_the_scan_observes_exactly_the_pages_it_scans_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
