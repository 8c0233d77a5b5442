/*
 * test_mmu.c - the MMU model: walk reference counts, shadow exits,
 * agreement of the three modes on a trace, invalidation, trace parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/mmu.h"
#include "support/mvtest.h"

struct fix {
	struct mv_host *h;
	struct mv_vm *vm;
	struct mv_mmu *m;
	struct mv_mmu_proc *p;
};

static void setup(struct fix *f, enum mv_mmu_mode mode, int g2m, int h2m,
		  int caches)
{
	f->h = mvt_host(160, 1);
	f->vm = mvt_vm(f->h, "t", 64, 0);
	struct mv_mmu_config c;
	mv_mmu_config_default(&c, mode);
	c.guest_2m = g2m;
	c.host_2m = h2m;
	if (!caches)
		for (int i = 0; i < 3; i++)
			c.pwc[i] = c.npwc[i] = 0;
	struct mv_error err = {0};
	mvt_ok(mv_mmu_create(f->vm, &c, &f->m, &err), &err, "mv_mmu_create");
	assert_int_equal(mv_mmu_proc_create(f->m, &f->p), 0);
}

static void teardown_fix(struct fix *f)
{
	mv_mmu_destroy(f->m);
	mv_vm_destroy(f->vm);
	struct mv_error err = {0};
	mvt_ok(mv_host_check(f->h, &err), &err, "mv_host_check");
	mv_host_destroy(f->h);
}

static uint64_t total_exits(const struct mv_mmu *m)
{
	uint64_t n = 0;
	for (int i = 0; i < MV_EXIT_COUNT; i++)
		n += mv_mmu_counters(m)->exits[i];
	return n;
}

/* References of a TLB miss with every TLB and walk cache empty, all
 * mappings (guest, EPT, shadow) already in place. */
static uint64_t cold_walk_refs(enum mv_mmu_mode mode, int g2m, int h2m,
			       int caches)
{
	struct fix f;
	setup(&f, mode, g2m, h2m, caches);
	const uint64_t gva = 0x7f1234567000ull;
	assert_non_null(mv_mmu_access(f.m, gva, 1, 0, NULL));
	mv_mmu_flush(f.m);
	uint64_t walks = mv_mmu_counters(f.m)->walks;
	uint64_t exits = total_exits(f.m);
	assert_non_null(mv_mmu_access(f.m, gva, 0, 0, NULL));
	assert_int_equal(mv_mmu_counters(f.m)->walks, walks + 1);
	assert_int_equal(total_exits(f.m), exits);
	uint64_t refs = mv_mmu_counters(f.m)->last_walk_refs;
	teardown_fix(&f);
	return refs;
}

static void test_native_cold_walk_reads_one_entry_per_level(void **state)
{
	(void)state;
	assert_int_equal(cold_walk_refs(MV_MMU_NATIVE, 0, 0, 1), 4);
	assert_int_equal(cold_walk_refs(MV_MMU_NATIVE, 1, 0, 1), 3);
}

static void test_shadow_cold_walk_is_one_dimensional(void **state)
{
	(void)state;
	assert_int_equal(cold_walk_refs(MV_MMU_SHADOW, 0, 0, 1), 4);
	/* a 2 MiB shadow leaf needs 2 MiB in both dimensions */
	assert_int_equal(cold_walk_refs(MV_MMU_SHADOW, 1, 0, 1), 4);
	assert_int_equal(cold_walk_refs(MV_MMU_SHADOW, 0, 1, 1), 4);
	assert_int_equal(cold_walk_refs(MV_MMU_SHADOW, 1, 1, 1), 3);
}

/* Lg x (Ln + 1) + Ln (Bhargava et al., ASPLOS 2008). */
static void test_nested_cold_walk_makes_24_references(void **state)
{
	(void)state;
	assert_int_equal(cold_walk_refs(MV_MMU_NESTED, 0, 0, 0), 24);
	assert_int_equal(cold_walk_refs(MV_MMU_NESTED, 1, 0, 0), 3 * 5 + 4);
	assert_int_equal(cold_walk_refs(MV_MMU_NESTED, 0, 1, 0), 4 * 4 + 3);
	assert_int_equal(cold_walk_refs(MV_MMU_NESTED, 1, 1, 0), 3 * 4 + 3);
}

/*
 * With the EPT walk caches on, a cold walk still starts empty but the
 * guest's table pages and the data page lie in one 2 MiB guest-physical
 * run, so after the first nested walk (4) the EPT PDE cache leaves one
 * reference per nested walk: 4 + 1 + 3 x (1 + 1) + 1 = 12.
 */
static void test_nested_walk_caches_shorten_the_cold_walk(void **state)
{
	(void)state;
	assert_int_equal(cold_walk_refs(MV_MMU_NESTED, 0, 0, 1), 12);
}

static void test_warm_walk_caches_leave_the_last_level(void **state)
{
	(void)state;
	for (int mode = 0; mode < MV_MMU_MODES; mode++) {
		struct fix f;
		setup(&f, (enum mv_mmu_mode)mode, 0, 0, 1);
		const uint64_t a = 0x400000, b = 0x401000;
		assert_non_null(mv_mmu_access(f.m, a, 0, 0, NULL));
		assert_non_null(mv_mmu_access(f.m, b, 0, 0, NULL));
		mv_mmu_flush(f.m);
		assert_non_null(mv_mmu_access(f.m, a, 0, 0, NULL));
		assert_non_null(mv_mmu_access(f.m, b, 0, 0, NULL));
		/* PDE cache hit: read the PTE; nested adds the EPT PTE of
		 * the data page (its EPT PDE is cached too) */
		assert_int_equal(mv_mmu_counters(f.m)->last_walk_refs,
				 mode == MV_MMU_NESTED ? 2 : 1);
		teardown_fix(&f);
	}
}

static void test_tlb_hit_needs_no_walk(void **state)
{
	(void)state;
	struct fix f;
	setup(&f, MV_MMU_NESTED, 0, 0, 1);
	assert_non_null(mv_mmu_access(f.m, 0x1000, 1, 0, NULL));
	const struct mv_mmu_counters *c = mv_mmu_counters(f.m);
	uint64_t walks = c->walks, hits = c->l1_hits;
	for (int i = 0; i < 100; i++)
		assert_non_null(
			mv_mmu_access(f.m, 0x1000 + 8 * i, i & 1, 0, NULL));
	assert_int_equal(c->walks, walks);
	assert_int_equal(c->l1_hits, hits + 100);
	/* the TLB key keeps 36 bits of page number: an address past 2^48
	 * must not alias page 1 */
	assert_null(mv_mmu_access(f.m, (1ull << 48) + 0x1000, 0, 0, NULL));
	teardown_fix(&f);
}

static void test_shadow_pt_write_is_exactly_one_exit(void **state)
{
	(void)state;
	struct fix f;
	setup(&f, MV_MMU_SHADOW, 0, 0, 1);
	assert_non_null(mv_mmu_access(f.m, 0x400000, 0, 0, NULL));
	mv_gppn_t g;
	assert_int_equal(mv_mmu_guest_alloc(f.m, 0, &g), 0);
	const struct mv_mmu_counters *c = mv_mmu_counters(f.m);
	uint64_t before = total_exits(f.m), ptw = c->exits[MV_EXIT_PT_WRITE];
	/* same page table as 0x400000: it is shadowed, so protected */
	assert_int_equal(mv_mmu_map(f.m, 0x401000, g), 0);
	assert_int_equal(total_exits(f.m), before + 1);
	assert_int_equal(c->exits[MV_EXIT_PT_WRITE], ptw + 1);
	struct mv_mmu_xlate xl;
	assert_non_null(mv_mmu_access(f.m, 0x401000, 0, 0, &xl));
	assert_int_equal(xl.gppn, g);
	teardown_fix(&f);
}

static void test_nested_pt_write_causes_no_exit(void **state)
{
	(void)state;
	struct fix f;
	setup(&f, MV_MMU_NESTED, 0, 0, 1);
	assert_non_null(mv_mmu_access(f.m, 0x400000, 0, 0, NULL));
	mv_gppn_t g;
	assert_int_equal(mv_mmu_guest_alloc(f.m, 0, &g), 0);
	uint64_t before = total_exits(f.m);
	assert_int_equal(mv_mmu_map(f.m, 0x401000, g), 0);
	assert_int_equal(mv_mmu_unmap(f.m, 0x400000), 0);
	assert_int_equal(total_exits(f.m), before);
	teardown_fix(&f);
}

static void test_shadow_remap_is_seen_after_unmap(void **state)
{
	(void)state;
	struct fix f;
	setup(&f, MV_MMU_SHADOW, 0, 0, 1);
	struct mv_mmu_xlate xl;
	assert_non_null(mv_mmu_access(f.m, 0x400000, 0, 0, &xl));
	mv_gppn_t old = xl.gppn, g;
	assert_int_equal(mv_mmu_guest_alloc(f.m, 0, &g), 0);
	assert_int_equal(mv_mmu_unmap(f.m, 0x400000), 0);
	assert_int_equal(mv_mmu_counters(f.m)->exits[MV_EXIT_INVLPG], 1);
	assert_int_equal(mv_mmu_map(f.m, 0x400000, g), 0);
	assert_non_null(mv_mmu_access(f.m, 0x400000, 0, 0, &xl));
	assert_int_equal(xl.gppn, g);
	assert_true(xl.gppn != old);
	teardown_fix(&f);
}

static void
test_context_switch_exits_only_in_shadow_and_keeps_tags(void **state)
{
	(void)state;
	for (int mode = 0; mode < MV_MMU_MODES; mode++) {
		struct fix f;
		setup(&f, (enum mv_mmu_mode)mode, 0, 0, 1);
		struct mv_mmu_proc *q;
		assert_non_null(mv_mmu_access(f.m, 0x1000, 0, 0, NULL));
		assert_int_equal(mv_mmu_proc_create(f.m, &q), 0);
		assert_non_null(mv_mmu_access(f.m, 0x1000, 0, 0, NULL));
		uint64_t cr3 = mv_mmu_counters(f.m)->exits[MV_EXIT_CR3];
		uint64_t walks = mv_mmu_counters(f.m)->walks;
		mv_mmu_switch(f.m, f.p);
		/* PCID-tagged: the first process's entry survived */
		struct mv_mmu_xlate x1, x2;
		assert_non_null(mv_mmu_access(f.m, 0x1000, 0, 0, &x1));
		assert_int_equal(mv_mmu_counters(f.m)->walks, walks);
		mv_mmu_switch(f.m, q);
		assert_non_null(mv_mmu_access(f.m, 0x1000, 0, 0, &x2));
		assert_true(x1.gppn != x2.gppn);
		assert_int_equal(mv_mmu_counters(f.m)->exits[MV_EXIT_CR3],
				 cr3 + (mode == MV_MMU_SHADOW ? 2 : 0));
		teardown_fix(&f);
	}
}

/* A process the host has no frame for (its shadow root) leaves nothing
 * behind: no PCID used, no guest table page held; it can be made later. */
static void test_failed_process_creation_leaves_nothing(void **state)
{
	(void)state;
	struct fix f;
	setup(&f, MV_MMU_SHADOW, 0, 0, 1);
	uint64_t tables = mv_mmu_counters(f.m)->guest_pt_pages;
	/* take every free host frame */
	mv_mpn_t *held = malloc(f.h->nframes * sizeof *held);
	assert_non_null(held);
	uint64_t n = 0;
	mv_mpn_t mpn;
	while ((mpn = mv_host_frame_alloc(f.h, 0)) != MV_MPN_NONE)
		held[n++] = mpn;
	struct mv_mmu_proc *q = NULL;
	for (int i = 0; i < 10; i++)
		assert_int_equal(mv_mmu_proc_create(f.m, &q), MV_EAGAIN);
	assert_null(q);
	assert_int_equal(mv_mmu_counters(f.m)->guest_pt_pages, tables);
	while (n)
		mv_host_frame_put(f.h, held[--n]);
	free(held);
	assert_int_equal(mv_mmu_proc_create(f.m, &q), 0);
	assert_int_equal(mv_mmu_counters(f.m)->guest_pt_pages, tables + 1);
	/* the new process works */
	mv_mmu_switch(f.m, q);
	assert_non_null(mv_mmu_access(f.m, 0x1000, 1, 0, NULL));
	assert_int_equal(mv_mmu_proc_destroy(f.m, q), 0);
	assert_int_equal(mv_mmu_counters(f.m)->guest_pt_pages, tables);
	teardown_fix(&f);
}

/*
 * Unmapping a 2 MiB guest page drops every TLB entry it left: on 4 KiB
 * host pages it is cached as separate 4 KiB entries, and a remap of the
 * same address to another run must not find the old ones.
 */
static void test_unmapping_a_2m_page_drops_all_its_entries(void **state)
{
	(void)state;
	static const enum mv_mmu_mode modes[] = {MV_MMU_NESTED, MV_MMU_NATIVE,
						 MV_MMU_SHADOW};
	for (int i = 0; i < 3; i++) {
		struct fix f;
		setup(&f, modes[i], 1, 0, 1);
		const uint64_t gva = 0x40000000; /* 2 MiB aligned */
		mv_gppn_t a, b;
		assert_int_equal(mv_mmu_guest_alloc(f.m, 1, &a), 0);
		assert_int_equal(mv_mmu_guest_alloc(f.m, 1, &b), 0);
		assert_int_equal(mv_mmu_map(f.m, gva, a), 0);
		struct mv_mmu_xlate xl;
		for (uint64_t k = 0; k < 8; k++) {
			assert_non_null(
				mv_mmu_access(f.m, gva + k * 4096, 0, 0, &xl));
			assert_int_equal(xl.gppn, a + k);
		}
		assert_int_equal(mv_mmu_unmap(f.m, gva), 0);
		assert_int_equal(mv_mmu_map(f.m, gva, b), 0);
		for (uint64_t k = 0; k < 8; k++) {
			assert_non_null(
				mv_mmu_access(f.m, gva + k * 4096, 0, 0, &xl));
			assert_int_equal(xl.gppn, b + k);
		}
		teardown_fix(&f);
	}
}

static void test_untagged_tlb_is_flushed_on_every_switch(void **state)
{
	(void)state;
	struct fix f;
	f.h = mvt_host(160, 1);
	f.vm = mvt_vm(f.h, "t", 64, 0);
	struct mv_mmu_config c;
	mv_mmu_config_default(&c, MV_MMU_NESTED);
	c.tagged = 0;
	struct mv_error err = {0};
	mvt_ok(mv_mmu_create(f.vm, &c, &f.m, &err), &err, "mv_mmu_create");
	struct mv_mmu_proc *q;
	assert_int_equal(mv_mmu_proc_create(f.m, &f.p), 0);
	assert_non_null(mv_mmu_access(f.m, 0x1000, 0, 0, NULL));
	assert_int_equal(mv_mmu_proc_create(f.m, &q), 0);
	mv_mmu_switch(f.m, f.p);
	uint64_t walks = mv_mmu_counters(f.m)->walks;
	assert_non_null(mv_mmu_access(f.m, 0x1000, 0, 0, NULL));
	assert_int_equal(mv_mmu_counters(f.m)->walks, walks + 1);
	teardown_fix(&f);
}

/* Move guest page g to a new frame as a reclaim mechanism would. */
static mv_mpn_t hv_move_page(struct mv_vm *vm, mv_gppn_t g)
{
	mv_mpn_t n = mv_host_frame_alloc(vm->host, 0);
	assert_true(n != MV_MPN_NONE);
	mv_mpn_t old = vm->pmap[g].mpn;
	uint8_t buf[MV_PAGE_SIZE];
	memcpy(mv_host_frame_overwrite(vm->host, n),
	       mv_host_frame_read(vm->host, old, buf), MV_PAGE_SIZE);
	mv_host_frame_put(vm->host, old);
	mv_pmap_set(vm, g, MV_PS_PRIVATE, n);
	return n;
}

static void check_invalidation(enum mv_mmu_mode mode, int g2m, int h2m)
{
	struct fix f;
	setup(&f, mode, g2m, h2m, 1);
	const uint64_t gva = 0x10000000 + 5 * MV_PAGE_SIZE;
	struct mv_mmu_xlate xl;
	uint8_t *p = mv_mmu_access(f.m, gva, 1, 0, &xl);
	assert_non_null(p);
	*p = 0xab;
	/* a neighbour in the same 2 MiB run, cached too */
	assert_non_null(mv_mmu_access(f.m, gva + MV_PAGE_SIZE, 0, 0, NULL));
	mv_mpn_t n = hv_move_page(f.vm, xl.gppn);
	assert_true(mv_mmu_counters(f.m)->invalidations >= 1);
	p = mv_mmu_access(f.m, gva, 0, 0, &xl);
	assert_non_null(p);
	assert_int_equal(xl.mpn, n);
	assert_int_equal(*p, 0xab);
	p = mv_mmu_access(f.m, gva + MV_PAGE_SIZE, 1, 0, &xl);
	assert_int_equal(xl.mpn, f.vm->pmap[xl.gppn].mpn);
	if (h2m && g2m && mode != MV_MMU_NATIVE)
		assert_int_equal(mv_mmu_counters(f.m)->large_splits, 1);
	teardown_fix(&f);
}

static void test_hypervisor_remap_invalidates_translations(void **state)
{
	(void)state;
	for (int mode = 0; mode < MV_MMU_MODES; mode++)
		for (int big = 0; big < 2; big++)
			check_invalidation((enum mv_mmu_mode)mode, big, big);
}

/* Moving a guest page-table page (here the PML4) must not break walks:
 * nested mode caches its host frame in the walk caches. */
static void test_moving_a_guest_table_page_keeps_translations(void **state)
{
	(void)state;
	for (int mode = 0; mode < MV_MMU_MODES; mode++) {
		struct fix f;
		setup(&f, (enum mv_mmu_mode)mode, 0, 0, 1);
		struct mv_mmu_xlate a, b;
		uint8_t *p = mv_mmu_access(f.m, 0x600000, 1, 0, &a);
		*p = 0x5a;
		hv_move_page(f.vm, mv_mmu_proc_cr3(f.p));
		hv_move_page(f.vm, a.gppn);
		/* a neighbour needs a walk through the moved PML4 */
		assert_non_null(mv_mmu_access(f.m, 0x40000000, 1, 0, NULL));
		p = mv_mmu_access(f.m, 0x600000, 0, 0, &b);
		assert_int_equal(b.gppn, a.gppn);
		assert_int_equal(b.mpn, f.vm->pmap[a.gppn].mpn);
		assert_int_equal(*p, 0x5a);
		teardown_fix(&f);
	}
}

/* A write to a page the hypervisor shares must break sharing (COW). */
static void test_write_to_shared_page_faults_through_the_vm(void **state)
{
	(void)state;
	for (int mode = MV_MMU_SHADOW; mode < MV_MMU_MODES; mode++) {
		struct fix f;
		setup(&f, (enum mv_mmu_mode)mode, 0, 0, 1);
		struct mv_mmu_xlate xl;
		uint8_t *p = mv_mmu_access(f.m, 0x5000, 1, 0, &xl);
		mv_vm_page_bytes(f.vm, xl.gppn); /* bytes written below */
		*p = 7;
		/* the hypervisor shares the page: one more reference on its
		 * frame, state shared (read-only) */
		mv_host_frame_get(f.h, xl.mpn);
		mv_pmap_set(f.vm, xl.gppn, MV_PS_SHARED, xl.mpn);
		uint64_t cow = f.vm->ctr.faults[MV_FAULT_COW];
		p = mv_mmu_access(f.m, 0x5000, 0, 0, NULL);
		assert_int_equal(*p, 7);
		assert_int_equal(f.vm->ctr.faults[MV_FAULT_COW], cow);
		struct mv_mmu_xlate x2;
		p = mv_mmu_access(f.m, 0x5000, 1, 0, &x2);
		assert_int_equal(f.vm->ctr.faults[MV_FAULT_COW], cow + 1);
		assert_true(x2.mpn != xl.mpn);
		assert_int_equal(*p, 7);
		mv_host_frame_put(f.h, xl.mpn);
		teardown_fix(&f);
	}
}

/* ----------------------------------------------------------- traces */

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = malloc(512);
	snprintf(path, 512, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

/* A lackey-style trace: code, a stack, a heap with random hops. */
static char *make_trace(const char *dir, int n)
{
	char *path = malloc(512);
	snprintf(path, 512, "%s/synthetic.lackey", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "==123== Lackey, an example Valgrind tool\n");
	struct mv_rng r;
	mv_rng_seed(&r, 42);
	uint64_t pc = 0x400000, sp = 0x7ffd0000f000ull;
	for (int i = 0; i < n; i++) {
		pc += 4 + mv_rng_below(&r, 8);
		if (mv_rng_below(&r, 50) == 0)
			pc = 0x400000 + mv_rng_below(&r, 1 << 20);
		fprintf(fp, "I  %08llx,%d\n", (unsigned long long)pc, 4);
		uint64_t k = mv_rng_below(&r, 4);
		uint64_t a = k == 0 ? sp - mv_rng_below(&r, 16384)
				    : 0x5555000000ull +
					      mv_rng_below(&r, 24 << 20);
		static const char kinds[] = "LSML";
		fprintf(fp, " %c %09llx,%d\n", kinds[mv_rng_below(&r, 4)],
			(unsigned long long)a, 8);
	}
	fprintf(fp, "==123== \n");
	fclose(fp);
	return path;
}

static void replay_agree(const char *path, int big)
{
	struct fix f[MV_MMU_MODES];
	struct mv_trace *t[MV_MMU_MODES];
	struct mv_error err = {0};
	for (int i = 0; i < MV_MMU_MODES; i++) {
		setup(&f[i], (enum mv_mmu_mode)i, big, big, 1);
		/* checksums of every page: walkers' A/D updates included */
		assert_int_equal(mv_vm_enable_verify(f[i].vm), 0);
		mvt_ok(mv_trace_open(path, &t[i], &err), &err, "open");
	}
	struct mv_trace_rec rec;
	uint64_t n = 0;
	while (mv_trace_next(t[0], &rec, &err) == 1) {
		struct mv_mmu_xlate xl[MV_MMU_MODES];
		uint8_t v[MV_MMU_MODES];
		int write = rec.kind == MV_TR_STORE || rec.kind == MV_TR_MODIFY;
		for (int i = 0; i < MV_MMU_MODES; i++) {
			uint8_t *p = mv_mmu_access(f[i].m, rec.addr, write,
						   rec.kind == MV_TR_INSTR,
						   &xl[i]);
			assert_non_null(p);
			assert_int_equal(xl[i].mpn,
					 f[i].vm->pmap[xl[i].gppn].mpn);
			if (write) {
				*p = (uint8_t)(rec.addr * 7);
				mv_vm_wrote(f[i].vm, xl[i].gppn);
			}
			v[i] = *p;
		}
		for (int i = 1; i < MV_MMU_MODES; i++) {
			assert_int_equal(xl[i].gppn, xl[0].gppn);
			assert_int_equal(v[i], v[0]);
		}
		n++;
	}
	assert_true(n > 1000);
	/* the modes differ in cost, not in result */
	assert_true(mv_mmu_counters(f[MV_MMU_NESTED].m)->walk_refs >
		    mv_mmu_counters(f[MV_MMU_NATIVE].m)->walk_refs);
	assert_true(total_exits(f[MV_MMU_SHADOW].m) >
		    total_exits(f[MV_MMU_NESTED].m));
	for (int i = 0; i < MV_MMU_MODES; i++) {
		mvt_ok(mv_vm_check(f[i].vm, &err), &err, "mv_vm_check");
		mv_trace_close(t[i]);
		teardown_fix(&f[i]);
	}
}

static void test_three_modes_agree_on_every_access_of_a_trace(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvmmu");
	char *path = make_trace(dir, 4000);
	replay_agree(path, 0);
	replay_agree(path, 1);
	free(path);
	mvt_rmdir(dir);
}

/* A real trace: 60,000 accesses of python3 (lackey, binary format). */
static void test_three_modes_agree_on_a_real_python_trace(void **state)
{
	(void)state;
	replay_agree("tests/data/mmu/python3-60k.mvtr", 0);
	replay_agree("tests/data/mmu/python3-60k.mvtr", 1);
}

static void expect_bad(const char *dir, const char *text, int line,
		       const char *words)
{
	char *path = write_file(dir, "bad.lackey", text);
	struct mv_trace *t;
	struct mv_error err = {0};
	mvt_ok(mv_trace_open(path, &t, &err), &err, "open");
	struct mv_trace_rec r;
	int rc;
	while ((rc = mv_trace_next(t, &r, &err)) == 1)
		;
	assert_int_equal(rc, MV_EINVAL);
	assert_int_equal(err.line, line);
	assert_string_equal(err.field, "trace");
	assert_string_equal(err.file, path);
	if (!strstr(err.msg, words))
		fail_msg("'%s' does not say '%s'", err.msg, words);
	mv_trace_close(t);
	free(path);
}

static void test_bad_trace_lines_name_file_and_line(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvmmu");
	const char *ok = "==1== hi\nI  0400d7d4,8\n";
	char buf[256];
	struct {
		const char *line, *words;
	} cases[] = {
		{" X 0400d7d4,8\n", "expected an access"},
		{" L 04zz,8\n", "expected ','"},
		{" L ,8\n", "hex address"},
		{" L 0400d7d4\n", "expected ','"},
		{" L 0400d7d4,\n", "decimal size"},
		{" L 0400d7d4,8x\n", "decimal size"},
		{" L 0400d7d4,0\n", "1..4096"},
		{" L 1000000000000,8\n", "48-bit"},
		{"\n", "empty line"},
		{" L0400d7d4,8\n", "space"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s S 1000,4\n", ok, cases[i].line);
		expect_bad(dir, buf, 3, cases[i].words);
	}
	mvt_rmdir(dir);
}

static void test_binary_trace_round_trips(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvmmu");
	char *path = make_trace(dir, 3000);
	char bin[600];
	snprintf(bin, sizeof bin, "%s/t.mvtr", dir);
	struct mv_error err = {0};
	uint64_t n = 0;
	mvt_ok(mv_trace_convert(path, bin, &n, &err), &err, "convert");
	assert_int_equal(n, 6000);
	struct mv_trace *a, *b;
	mvt_ok(mv_trace_open(path, &a, &err), &err, "open");
	mvt_ok(mv_trace_open(bin, &b, &err), &err, "open");
	struct mv_trace_rec x, y;
	uint64_t k = 0;
	while (mv_trace_next(a, &x, &err) == 1) {
		assert_int_equal(mv_trace_next(b, &y, &err), 1);
		assert_int_equal(x.addr, y.addr);
		assert_int_equal(x.size, y.size);
		assert_int_equal(x.kind, y.kind);
		k++;
	}
	assert_int_equal(mv_trace_next(b, &y, &err), 0);
	assert_int_equal(k, n);
	mv_trace_close(a);
	mv_trace_close(b);
	/* a truncated binary trace is an error naming the record */
	FILE *fp = fopen(bin, "ab");
	putc(0x20 | MV_TR_LOAD, fp);
	fclose(fp);
	mvt_ok(mv_trace_open(bin, &b, &err), &err, "open");
	int rc;
	while ((rc = mv_trace_next(b, &y, &err)) == 1)
		;
	assert_int_equal(rc, MV_EINVAL);
	assert_int_equal(err.line, (int)n + 1);
	mv_trace_close(b);
	free(path);
	mvt_rmdir(dir);
}

static void test_replay_counts_every_access(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("mvmmu");
	char *path = write_file(
		dir, "t.lackey",
		"I  00400ffe,4\n L 7ff000398,8\n S 7ff000398,8\n"
		" M 0421c7f0,4\n");
	struct fix f;
	setup(&f, MV_MMU_NATIVE, 0, 0, 1);
	struct mv_trace *t;
	struct mv_error err = {0};
	mvt_ok(mv_trace_open(path, &t, &err), &err, "open");
	mvt_ok(mv_trace_replay(f.m, t, 0, &err), &err, "replay");
	const struct mv_mmu_counters *c = mv_mmu_counters(f.m);
	/* the fetch crosses a page: two accesses */
	assert_int_equal(c->accesses, 5);
	assert_int_equal(c->fetches, 2);
	assert_int_equal(c->writes, 2);
	assert_int_equal(c->guest_faults, 4);
	mv_trace_close(t);
	teardown_fix(&f);
	free(path);
	mvt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_native_cold_walk_reads_one_entry_per_level),
		cmocka_unit_test(test_shadow_cold_walk_is_one_dimensional),
		cmocka_unit_test(test_nested_cold_walk_makes_24_references),
		cmocka_unit_test(test_nested_walk_caches_shorten_the_cold_walk),
		cmocka_unit_test(test_warm_walk_caches_leave_the_last_level),
		cmocka_unit_test(test_tlb_hit_needs_no_walk),
		cmocka_unit_test(test_shadow_pt_write_is_exactly_one_exit),
		cmocka_unit_test(test_nested_pt_write_causes_no_exit),
		cmocka_unit_test(test_shadow_remap_is_seen_after_unmap),
		cmocka_unit_test(
			test_context_switch_exits_only_in_shadow_and_keeps_tags),
		cmocka_unit_test(test_untagged_tlb_is_flushed_on_every_switch),
		cmocka_unit_test(test_failed_process_creation_leaves_nothing),
		cmocka_unit_test(
			test_unmapping_a_2m_page_drops_all_its_entries),
		cmocka_unit_test(
			test_hypervisor_remap_invalidates_translations),
		cmocka_unit_test(
			test_moving_a_guest_table_page_keeps_translations),
		cmocka_unit_test(
			test_write_to_shared_page_faults_through_the_vm),
		cmocka_unit_test(
			test_three_modes_agree_on_every_access_of_a_trace),
		cmocka_unit_test(test_three_modes_agree_on_a_real_python_trace),
		cmocka_unit_test(test_bad_trace_lines_name_file_and_line),
		cmocka_unit_test(test_binary_trace_round_trips),
		cmocka_unit_test(test_replay_counts_every_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
