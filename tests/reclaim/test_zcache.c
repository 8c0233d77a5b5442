/*
 * Tests of the compression cache and the per-VM reclaimer
 * (src/reclaim/zcache.c): what goes to the cache and what to swap, two
 * pages per cache frame, the capacity bound and FIFO eviction, errors that
 * lose nothing, random victims, and a long random run checked byte for byte
 * against a shadow copy.
 */
#include <dirent.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reclaim/share.h"
#include "reclaim/swap.h"
#include "reclaim/zcache.h"
#include "support/mvtest.h"

/* ---- fixtures ----------------------------------------------------------- */

struct fx {
	char *dir;
	struct mv_host *h;
	struct mv_vm *vm;
	struct mv_swapfile *sf;
	struct mv_zcache *z;
};

/* A host, a VM with verification on, a swap file of `slots` pages
 * (ALL_PAGES: the VM's size) and a cache of cache_bytes. */
#define ALL_PAGES UINT64_MAX
static void fx_open_slots(struct fx *f, uint64_t host_mib, uint64_t vm_mib,
			  uint64_t cache_bytes, uint64_t slots)
{
	struct mv_error err = {0};
	f->dir = mvt_tmpdir("mvzcache");
	f->h = mvt_host(host_mib, 1);
	f->vm = mvt_vm(f->h, "app01", vm_mib, 0);
	assert_int_equal(mv_vm_enable_verify(f->vm), 0);
	mvt_ok(mv_swapfile_create(f->vm, f->dir,
				  slots == ALL_PAGES ? f->vm->npages : slots,
				  &f->sf, &err),
	       &err, "mv_swapfile_create");
	mvt_ok(mv_zcache_create(f->vm, cache_bytes, f->sf, &f->z, &err), &err,
	       "mv_zcache_create");
}

static void fx_open(struct fx *f, uint64_t host_mib, uint64_t vm_mib,
		    uint64_t cache_bytes)
{
	fx_open_slots(f, host_mib, vm_mib, cache_bytes, ALL_PAGES);
}

static uint64_t cache_frames(const struct mv_zcache *z)
{
	struct mv_zcache_stats st;
	mv_zcache_stats(z, &st);
	return st.frames;
}

/* Every frame is free, held by a VM page or held by the cache. */
static void assert_frames_add_up(const struct fx *f)
{
	assert_int_equal(f->h->nfree + f->vm->count[MV_PS_PRIVATE] +
				 cache_frames(f->z),
			 mv_host_usable_frames(f->h));
}

static void fx_check(const struct fx *f)
{
	struct mv_error err = {0};
	mvt_ok(mv_vm_check(f->vm, &err), &err, "mv_vm_check");
	mvt_ok(mv_zcache_check(f->z, &err), &err, "mv_zcache_check");
	mvt_ok(mv_swapfile_check(f->sf, &err), &err, "mv_swapfile_check");
	mvt_ok(mv_host_check(f->h, &err), &err, "mv_host_check");
	assert_frames_add_up(f);
}

static void fx_close(struct fx *f)
{
	mv_zcache_destroy(f->z);
	mv_swapfile_destroy(f->sf, 0);
	mv_vm_destroy(f->vm);
	assert_int_equal(f->h->nfree, mv_host_usable_frames(f->h));
	mv_host_destroy(f->h);
	mvt_rmdir(f->dir);
}

static struct mv_zcache_stats zstats(const struct mv_zcache *z)
{
	struct mv_zcache_stats st;
	mv_zcache_stats(z, &st);
	return st;
}

static struct mv_swap_stats sstats(const struct mv_swapfile *sf)
{
	struct mv_swap_stats st;
	mv_swapfile_stats(sf, &st);
	return st;
}

/* The guest writes page g: compressible data (LZ4 leaves ~20%) or random. */
static void write_page(struct mv_vm *vm, mv_gppn_t g, int compressible,
		       uint64_t key, uint8_t *shadow)
{
	uint8_t *p = mv_vm_access_bytes(vm, g, 1);
	assert_non_null(p);
	if (compressible)
		mv_content_page(p, MV_CONTENT_DATA, 0, 0, key, 0.8);
	else
		mv_content_page(p, MV_CONTENT_RANDOM, 0, 0, key, 0);
	mv_vm_wrote(vm, g);
	if (shadow)
		memcpy(shadow, p, MV_PAGE_SIZE);
}

static int zout(struct fx *f, mv_gppn_t g)
{
	struct mv_error err = {0};
	int st = -1;
	int rc = mv_zcache_out(f->z, g, &st, &err);
	if (rc == 0)
		assert_int_equal(st, f->vm->pmap[g].state);
	return rc;
}

/* ---- compression -------------------------------------------------------- */

static void test_compressible_pages_go_to_the_cache_two_per_frame(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 32, 8, 1 * MV_MIB);
	assert_int_equal(zstats(f.z).capacity_frames, 256);
	for (mv_gppn_t g = 0; g < 10; g++)
		write_page(f.vm, g, 1, g, NULL);
	uint64_t nfree = f.h->nfree;
	for (mv_gppn_t g = 0; g < 10; g++) {
		assert_int_equal(zout(&f, g), 0);
		assert_int_equal(f.vm->pmap[g].state, MV_PS_COMPRESSED);
		assert_int_equal(cache_frames(f.z), (g + 2) / 2);
	}
	struct mv_zcache_stats st = zstats(f.z);
	assert_int_equal(st.compressed, 10);
	assert_int_equal(st.pages, 10);
	assert_int_equal(st.frames, 5);
	assert_int_equal(st.rejected, 0);
	assert_true(st.bytes > 0 && st.bytes <= 10 * 2048);
	assert_int_equal(f.vm->count[MV_PS_COMPRESSED], 10);
	/* ten frames freed, five taken for the cache */
	assert_int_equal(f.h->nfree, nfree + 5);
	assert_int_equal(sstats(f.sf).writes, 0);
	assert_int_equal(mv_zcache_frames_reused(f.z), 0);
	fx_check(&f);
	fx_close(&f);
}

static void test_incompressible_pages_are_rejected_and_swapped(void **state)
{
	(void)state;
	struct fx f;
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 1 * MV_MIB);
	write_page(f.vm, 7, 0, 7, shadow);
	uint64_t nfree = f.h->nfree;
	assert_int_equal(zout(&f, 7), 0);
	assert_int_equal(f.vm->pmap[7].state, MV_PS_SWAPPED);
	struct mv_zcache_stats st = zstats(f.z);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.compressed, 0);
	assert_int_equal(st.frames, 0);
	assert_int_equal(sstats(f.sf).writes, 1);
	assert_int_equal(f.h->nfree, nfree + 1);
	fx_check(&f);
	assert_memory_equal(mv_vm_access_bytes(f.vm, 7, 0), shadow,
			    MV_PAGE_SIZE);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_SWAPIN], 1);
	fx_close(&f);
}

static void
test_access_decompresses_the_right_bytes_and_charges_it(void **state)
{
	(void)state;
	struct fx f;
	uint8_t shadow[2][MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 1 * MV_MIB);
	write_page(f.vm, 10, 1, 10, shadow[0]);
	write_page(f.vm, 11, 1, 11, shadow[1]);
	assert_int_equal(zout(&f, 10), 0);
	assert_int_equal(zout(&f, 11), 0);
	uint64_t nfree = f.h->nfree;

	uint8_t *p = mv_vm_access_bytes(f.vm, 11, 0);
	assert_non_null(p);
	assert_memory_equal(p, shadow[1], MV_PAGE_SIZE);
	assert_int_equal(f.vm->pmap[11].state, MV_PS_PRIVATE);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_DECOMPRESS], 1);
	assert_int_equal(f.vm->ctr.stall_ns[MV_FAULT_DECOMPRESS],
			 f.h->cfg.lat.decompress);
	assert_int_equal(zstats(f.z).decompressed, 1);
	assert_int_equal(zstats(f.z).pages, 1);
	assert_int_equal(cache_frames(f.z), 1); /* page 10 is still in it */
	assert_int_equal(f.h->nfree, nfree - 1);
	fx_check(&f);

	p = mv_vm_access_bytes(f.vm, 10, 1); /* a write decompresses too */
	assert_non_null(p);
	assert_memory_equal(p, shadow[0], MV_PAGE_SIZE);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_DECOMPRESS], 2);
	/* both halves empty: the frame went back to the host */
	assert_int_equal(cache_frames(f.z), 0);
	assert_int_equal(f.h->nfree, nfree - 1);
	assert_int_equal(zstats(f.z).bytes, 0);
	fx_check(&f);
	fx_close(&f);
}

/*
 * A descriptor page is compressed for real: its LZ4 size is that of its
 * bytes and decides as for bytes; the cache keeps the descriptor and the
 * size, writes nothing to its half, and gives the descriptor back on
 * access; evicted, it goes to swap as its bytes and comes back as its
 * descriptor.
 */
static void
test_a_descriptor_page_keeps_its_descriptor_and_real_size(void **state)
{
	(void)state;
	struct fx f;
	uint8_t bytes[MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 2 * MV_PAGE_SIZE); /* 4 slots */
	mv_desc_t d = mv_content_desc(MV_CONTENT_DATA, 0, 0, 5, 0.8);
	mv_desc_t r = mv_content_desc(MV_CONTENT_RANDOM, 0, 0, 6, 0);
	mv_content_fill(bytes, d);
	for (mv_gppn_t g = 0; g < 6; g++) {
		assert_non_null(mv_vm_access(f.vm, g, 1));
		mv_vm_set_desc(f.vm, g, g == 5 ? r : d);
	}
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(f.vm->pmap[0].state, MV_PS_COMPRESSED);
	assert_int_equal(zstats(f.z).bytes, mv_content_lz4_size(bytes));
	/* the cache's frame was never written */
	mv_mpn_t cache[1];
	assert_int_equal(mv_zcache_frames(f.z, cache, 1), 1);
	assert_true(mv_page_is_zero(mv_host_frame(f.h, cache[0])));
	/* incompressible: rejected on its real size, swapped as bytes */
	assert_int_equal(zout(&f, 5), 0);
	assert_int_equal(f.vm->pmap[5].state, MV_PS_SWAPPED);
	assert_int_equal(zstats(f.z).rejected, 1);
	fx_check(&f);

	assert_non_null(mv_vm_access(f.vm, 0, 0));
	assert_int_equal(mv_vm_page_desc(f.vm, 0), d);
	assert_non_null(mv_vm_access(f.vm, 5, 0));
	assert_int_equal(mv_vm_page_desc(f.vm, 5), r);
	/* five pages through four slots: the oldest is evicted to swap */
	for (mv_gppn_t g = 0; g < 5; g++)
		assert_int_equal(zout(&f, g), 0);
	assert_int_equal(zstats(f.z).evicted, 1);
	assert_int_equal(f.vm->pmap[0].state, MV_PS_SWAPPED);
	fx_check(&f);
	for (mv_gppn_t g = 0; g < 5; g++) {
		assert_non_null(mv_vm_access(f.vm, g, 0));
		assert_int_equal(mv_vm_page_desc(f.vm, g), d);
	}
	fx_check(&f);
	fx_close(&f);
}

/* The slot's bytes really are LZ4 of the page, in a host frame. */
static void test_compressed_bytes_live_in_a_host_frame(void **state)
{
	(void)state;
	struct fx f;
	uint8_t shadow[MV_PAGE_SIZE], out[MV_PAGE_SIZE];
	char cbuf[LZ4_COMPRESSBOUND(MV_PAGE_SIZE)];
	fx_open(&f, 32, 8, 1 * MV_MIB);
	write_page(f.vm, 3, 1, 3, shadow);
	assert_int_equal(zout(&f, 3), 0);
	uint32_t slot = f.vm->pmap[3].mpn;
	int n = LZ4_compress_default((const char *)shadow, cbuf, MV_PAGE_SIZE,
				     sizeof cbuf);
	assert_int_equal(zstats(f.z).bytes, n);
	/* find the cache's one frame: the only frame in use */
	mv_mpn_t m = MV_MPN_NONE;
	for (mv_mpn_t i = 1; i < f.h->nframes; i++)
		if (mv_host_frame_refs(f.h, i))
			m = i;
	assert_int_not_equal(m, MV_MPN_NONE);
	const uint8_t *half = mv_host_frame(f.h, m) + (slot & 1) * 2048;
	assert_memory_equal(half, cbuf, (size_t)n);
	assert_int_equal(LZ4_decompress_safe((const char *)half, (char *)out, n,
					     MV_PAGE_SIZE),
			 MV_PAGE_SIZE);
	assert_memory_equal(out, shadow, MV_PAGE_SIZE);
	fx_close(&f);
}

/* ---- capacity and eviction ---------------------------------------------- */

static void
test_full_cache_evicts_its_oldest_pages_to_swap_in_fifo_order(void **state)
{
	(void)state;
	struct fx f;
	static uint8_t shadow[16][MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 2 * MV_PAGE_SIZE); /* 2 frames: 4 pages */
	for (mv_gppn_t g = 0; g < 16; g++)
		write_page(f.vm, g, 1, 100 + g, shadow[g]);
	for (mv_gppn_t g = 0; g < 10; g++) {
		assert_int_equal(zout(&f, g), 0);
		assert_int_equal(f.vm->pmap[g].state, MV_PS_COMPRESSED);
		assert_true(cache_frames(f.z) <= 2);
		assert_true(zstats(f.z).pages <= 4);
		/* the oldest ones, and only those, are in the swap file */
		for (mv_gppn_t o = 0; o <= g; o++)
			assert_int_equal(f.vm->pmap[o].state,
					 o + 4 <= g ? MV_PS_SWAPPED
						    : MV_PS_COMPRESSED);
		fx_check(&f);
	}
	struct mv_zcache_stats st = zstats(f.z);
	assert_int_equal(st.evicted, 6);
	assert_int_equal(st.compressed, 10);
	assert_int_equal(st.frames, 2);
	assert_int_equal(sstats(f.sf).writes, 6);

	/* an access takes page 7 out; the next page fills its half without
	 * eviction; the one after evicts the oldest, page 6 */
	assert_memory_equal(mv_vm_access_bytes(f.vm, 7, 0), shadow[7],
			    MV_PAGE_SIZE);
	assert_int_equal(zout(&f, 10), 0);
	assert_int_equal(zstats(f.z).evicted, 6);
	assert_int_equal(zout(&f, 11), 0);
	assert_int_equal(zstats(f.z).evicted, 7);
	assert_int_equal(f.vm->pmap[6].state, MV_PS_SWAPPED);
	assert_int_equal(f.vm->pmap[8].state, MV_PS_COMPRESSED);
	assert_int_equal(f.vm->pmap[9].state, MV_PS_COMPRESSED);
	fx_check(&f);
	for (mv_gppn_t g = 0; g < 16; g++)
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

static void
test_failed_eviction_keeps_the_oldest_compressed_and_the_victim(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	static uint8_t shadow[5][MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 1 * MV_PAGE_SIZE); /* 1 frame: 2 pages */
	for (mv_gppn_t g = 0; g < 5; g++)
		write_page(f.vm, g, 1, 200 + g, shadow[g]);
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(zout(&f, 1), 0);
	mv_mpn_t mpn = f.vm->pmap[2].mpn;
	uint64_t nfree = f.h->nfree;
	int code[2] = {MV_EIO, MV_ENOSPC};
	for (int i = 0; i < 2; i++) {
		mv_swapfile_inject_error(f.sf, 1, code[i]);
		int st = -1;
		assert_int_equal(mv_zcache_out(f.z, 2, &st, &err), code[i]);
		assert_string_equal(err.file, mv_swapfile_path(f.sf));
		assert_int_equal(f.vm->pmap[0].state, MV_PS_COMPRESSED);
		assert_int_equal(f.vm->pmap[2].state, MV_PS_PRIVATE);
		assert_int_equal(f.vm->pmap[2].mpn, mpn);
		assert_memory_equal(mv_host_frame(f.h, mpn), shadow[2],
				    MV_PAGE_SIZE);
		assert_int_equal(zstats(f.z).evicted, 0);
		assert_int_equal(zstats(f.z).pages, 2);
		assert_int_equal(f.h->nfree, nfree);
		fx_check(&f);
	}
	for (mv_gppn_t g = 0; g < 5; g++)
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

static void test_eviction_into_a_full_swap_file_loses_nothing(void **state)
{
	(void)state;
	struct fx f;
	static uint8_t shadow[3][MV_PAGE_SIZE];
	fx_open_slots(&f, 32, 8, MV_PAGE_SIZE, 0); /* no room to spill */
	for (mv_gppn_t g = 0; g < 3; g++)
		write_page(f.vm, g, 1, 300 + g, shadow[g]);
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(zout(&f, 1), 0);
	assert_int_equal(zout(&f, 2), MV_ENOSPC);
	assert_int_equal(f.vm->pmap[0].state, MV_PS_COMPRESSED);
	assert_int_equal(f.vm->pmap[2].state, MV_PS_PRIVATE);
	assert_int_equal(zstats(f.z).evicted, 0);
	fx_check(&f);
	for (mv_gppn_t g = 0; g < 3; g++)
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

static void
test_rejected_page_whose_swap_write_fails_stays_resident(void **state)
{
	(void)state;
	struct fx f;
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 1 * MV_MIB);
	write_page(f.vm, 1, 0, 1, shadow);
	mv_swapfile_inject_error(f.sf, 1, MV_EIO);
	assert_int_equal(zout(&f, 1), MV_EIO);
	assert_int_equal(f.vm->pmap[1].state, MV_PS_PRIVATE);
	assert_memory_equal(mv_vm_access_bytes(f.vm, 1, 0), shadow,
			    MV_PAGE_SIZE);
	assert_int_equal(zstats(f.z).rejected, 1);
	fx_check(&f);
	fx_close(&f);
}

static void test_only_private_unpinned_pages_can_be_compressed(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 32, 8, 1 * MV_MIB);
	assert_int_equal(zout(&f, 0), MV_EINVAL); /* untouched */
	write_page(f.vm, 0, 1, 0, NULL);
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(zout(&f, 0), MV_EINVAL); /* already compressed */
	write_page(f.vm, 1, 1, 1, NULL);
	f.vm->pmap[1].flags |= MV_PME_PINNED;
	assert_int_equal(zout(&f, 1), MV_EINVAL);
	assert_int_equal(zout(&f, f.vm->npages), MV_EINVAL);
	assert_int_equal(zstats(f.z).compressed, 1);
	fx_check(&f);
	fx_close(&f);
}

static void test_ballooning_a_compressed_page_releases_its_slot(void **state)
{
	(void)state;
	struct fx f;
	fx_open(&f, 32, 8, 1 * MV_MIB);
	write_page(f.vm, 0, 1, 0, NULL);
	write_page(f.vm, 1, 1, 1, NULL);
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(zout(&f, 1), 0);
	uint64_t nfree = f.h->nfree;
	mv_vm_balloon_page(f.vm, 0);
	assert_int_equal(zstats(f.z).pages, 1);
	assert_int_equal(cache_frames(f.z), 1);
	fx_check(&f);
	mv_vm_balloon_page(f.vm, 1);
	assert_int_equal(zstats(f.z).pages, 0);
	assert_int_equal(cache_frames(f.z), 0);
	assert_int_equal(f.h->nfree, nfree + 1);
	assert_int_equal(f.vm->count[MV_PS_BALLOONED], 2);
	fx_check(&f);
	fx_close(&f);
}

static void test_a_zero_byte_cache_sends_everything_to_swap(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 32, 8, 0);
	assert_int_equal(zstats(f.z).capacity_frames, 0);
	write_page(f.vm, 0, 1, 0, shadow);
	write_page(f.vm, 1, 1, 1, NULL);
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(f.vm->pmap[0].state, MV_PS_SWAPPED);
	assert_int_equal(zstats(f.z).rejected, 0); /* not tried at all */
	struct mv_rng r;
	mv_rng_seed(&r, 1);
	uint64_t done;
	mvt_ok(mv_reclaim_pages(f.vm, f.z, f.sf, &r, 1, &done, &err), &err,
	       "mv_reclaim_pages");
	assert_int_equal(done, 1);
	assert_int_equal(f.vm->pmap[1].state, MV_PS_SWAPPED);
	assert_int_equal(sstats(f.sf).writes, 2);
	fx_check(&f);
	assert_memory_equal(mv_vm_access_bytes(f.vm, 0, 0), shadow,
			    MV_PAGE_SIZE);
	fx_close(&f);
}

static void test_a_cache_without_a_swap_file_cannot_spill(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "noswap", 4, 0);
	struct mv_zcache *z;
	struct mv_error err = {0};
	int st;
	mvt_ok(mv_zcache_create(vm, MV_PAGE_SIZE, NULL, &z, &err), &err,
	       "mv_zcache_create");
	for (mv_gppn_t g = 0; g < 4; g++)
		write_page(vm, g, g != 3, g, NULL);
	assert_int_equal(mv_zcache_out(z, 0, &st, &err), 0);
	assert_int_equal(mv_zcache_out(z, 1, &st, &err), 0);
	assert_int_equal(mv_zcache_out(z, 2, &st, &err), MV_ENOSPC); /* full */
	assert_int_equal(mv_zcache_out(z, 3, &st, &err), MV_ENOSPC); /* big */
	assert_non_null(strstr(err.msg, "no swap file"));
	assert_int_equal(vm->pmap[2].state, MV_PS_PRIVATE);
	assert_int_equal(vm->pmap[3].state, MV_PS_PRIVATE);
	mvt_ok(mv_zcache_check(z, &err), &err, "mv_zcache_check");
	mv_zcache_destroy(z);
	mv_vm_destroy(vm);
	assert_int_equal(h->nfree, mv_host_usable_frames(h));
	mv_host_destroy(h);
}

/* When reclaim runs the host may have no free frame at all: the victim's
 * frame becomes the cache frame, and the next page frees a whole one. */
static void test_a_full_host_compresses_into_the_victims_own_frame(void **state)
{
	(void)state;
	struct fx f;
	static uint8_t shadow[4][MV_PAGE_SIZE];
	fx_open(&f, 16, 32, 1 * MV_MIB); /* VM larger than the host */
	mv_gppn_t g = 0;
	while (f.h->nfree) {
		write_page(f.vm, g, 1, g, g < 4 ? shadow[g] : NULL);
		g++;
	}
	assert_null(mv_vm_access_bytes(f.vm, g, 1));
	assert_int_equal(zout(&f, 0), 0);
	assert_int_equal(f.vm->pmap[0].state, MV_PS_COMPRESSED);
	assert_int_equal(mv_zcache_frames_reused(f.z), 1);
	assert_int_equal(f.h->nfree, 0);
	fx_check(&f);
	assert_int_equal(zout(&f, 1), 0);
	assert_int_equal(f.h->nfree, 1);
	assert_int_equal(cache_frames(f.z), 1);
	fx_check(&f);
	assert_memory_equal(mv_vm_access_bytes(f.vm, 0, 0), shadow[0],
			    MV_PAGE_SIZE);
	/* the host is full again: page 1 cannot come in, and stays put */
	assert_null(mv_vm_access_bytes(f.vm, 1, 0));
	assert_int_equal(f.vm->pmap[1].state, MV_PS_COMPRESSED);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_ALLOC_WAIT], 2);
	fx_check(&f);
	mv_vm_balloon_page(f.vm, 2);
	assert_memory_equal(mv_vm_access_bytes(f.vm, 1, 0), shadow[1],
			    MV_PAGE_SIZE);
	assert_int_equal(cache_frames(f.z), 0);
	assert_int_equal(f.h->nfree, 1);
	fx_check(&f);
	fx_close(&f);
}

/* ---- the reclaimer ------------------------------------------------------ */

/* A fresh 16 MiB VM with every page written, then reclaim n with seed. */
static void reclaim_run(uint64_t seed, uint64_t n, uint8_t *victims)
{
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 64, 16, 1 * MV_MIB);
	for (mv_gppn_t g = 0; g < f.vm->npages; g++)
		write_page(f.vm, g, g & 1, g, NULL);
	struct mv_rng r;
	mv_rng_seed(&r, seed);
	uint64_t done = 0;
	mvt_ok(mv_reclaim_pages(f.vm, f.z, f.sf, &r, n, &done, &err), &err,
	       "mv_reclaim_pages");
	assert_int_equal(done, n);
	assert_int_equal(
		f.vm->count[MV_PS_COMPRESSED] + f.vm->count[MV_PS_SWAPPED], n);
	for (mv_gppn_t g = 0; g < f.vm->npages; g++)
		victims[g] = f.vm->pmap[g].state != MV_PS_PRIVATE;
	fx_check(&f);
	fx_close(&f);
}

/* Compressed pages free half a frame each: asking for frames takes about
 * twice as many compressible pages, and the host gains what was asked. */
static void test_reclaim_frames_frees_what_was_asked(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 64, 16, 1 * MV_MIB);
	for (mv_gppn_t g = 0; g < f.vm->npages; g++)
		write_page(f.vm, g, 1, g, NULL);
	struct mv_rng r;
	mv_rng_seed(&r, 3);
	uint64_t free0 = f.h->nfree, pages = 0, freed = 0;
	mvt_ok(mv_reclaim_frames(f.vm, f.z, f.sf, &r, 100, &pages, &freed,
				 &err),
	       &err, "mv_reclaim_frames");
	assert_true(freed >= 100 && freed <= 101);
	assert_int_equal(f.h->nfree - free0, freed);
	assert_true(pages >= 190 && pages <= 210); /* two per frame */
	assert_int_equal(f.vm->count[MV_PS_COMPRESSED], pages);
	fx_check(&f);
	/* the plain reclaimer takes pages, not frames: 100 pages, ~50 frames */
	free0 = f.h->nfree;
	uint64_t done = 0;
	mvt_ok(mv_reclaim_pages(f.vm, f.z, f.sf, &r, 100, &done, &err), &err,
	       "mv_reclaim_pages");
	assert_int_equal(done, 100);
	assert_true(f.h->nfree - free0 <= 51);
	fx_check(&f);
	fx_close(&f);
}

static void test_reclaim_takes_exactly_n_random_private_pages(void **state)
{
	(void)state;
	enum { PAGES = 16 * 256 };
	static uint8_t a[PAGES], b[PAGES], c[PAGES];
	reclaim_run(1, 300, a);
	reclaim_run(1, 300, b);
	reclaim_run(2, 300, c);
	assert_memory_equal(a, b, PAGES);
	assert_memory_not_equal(a, c, PAGES);
	/* spread over the whole VM, not a run of neighbours */
	uint64_t quarter[4] = {0};
	for (int g = 0; g < PAGES; g++)
		quarter[g / (PAGES / 4)] += a[g];
	for (int q = 0; q < 4; q++)
		assert_true(quarter[q] >= 40 && quarter[q] <= 110);
}

static void test_reclaim_skips_pinned_large_and_non_private_pages(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 32, 8, 1 * MV_MIB);
	/* 64 written pages, all but 6 pinned or large */
	for (mv_gppn_t g = 0; g < 64; g++) {
		write_page(f.vm, g, 1, g, NULL);
		if (g % 10)
			f.vm->pmap[g].flags |= g & 1 ? MV_PME_PINNED
						     : MV_PME_LARGE;
	}
	mv_vm_balloon_page(f.vm, 60); /* not private any more either */
	struct mv_rng r;
	mv_rng_seed(&r, 9);
	uint64_t done = 0;
	mvt_ok(mv_reclaim_pages(f.vm, f.z, f.sf, &r, 10, &done, &err), &err,
	       "mv_reclaim_pages");
	assert_int_equal(done, 6); /* pages 0, 10, ..., 50: all there are */
	for (mv_gppn_t g = 0; g < 64; g++)
		assert_int_equal(f.vm->pmap[g].state, g == 60 ? MV_PS_BALLOONED
						      : g % 10 == 0
							      ? MV_PS_COMPRESSED
							      : MV_PS_PRIVATE);
	/* nothing left to take */
	mvt_ok(mv_reclaim_pages(f.vm, f.z, f.sf, &r, 5, &done, &err), &err,
	       "mv_reclaim_pages");
	assert_int_equal(done, 0);
	fx_check(&f);
	fx_close(&f);
}

static void test_reclaim_stops_at_the_first_io_error(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 32, 8, 1 * MV_MIB);
	for (mv_gppn_t g = 0; g < 100; g++)
		write_page(f.vm, g, 0, g, NULL); /* all go to swap */
	mv_swapfile_inject_error(f.sf, 4, MV_ENOSPC);
	struct mv_rng r;
	mv_rng_seed(&r, 4);
	uint64_t done = 0;
	assert_int_equal(mv_reclaim_pages(f.vm, f.z, f.sf, &r, 20, &done, &err),
			 MV_ENOSPC);
	assert_int_equal(done, 3);
	assert_int_equal(f.vm->count[MV_PS_SWAPPED], 3);
	fx_check(&f);
	/* neither a cache nor a swap file: nothing to reclaim into */
	assert_int_equal(mv_reclaim_pages(f.vm, NULL, NULL, &r, 1, &done, &err),
			 MV_EINVAL);
	assert_int_equal(done, 0);
	fx_close(&f);
}

/* ---- a long random run -------------------------------------------------- */

/*
 * 1 VM of 16 MiB, a 64 KiB cache (32 slots: eviction all the time), a swap
 * file of 3/4 of the VM (so it fills up too), and 120k random operations:
 * guest writes of every content class, reclaim, reads, balloon, and
 * injected write and read errors. The shadow copy is what the guest last
 * wrote; every read must match it, and every 4000 operations every
 * invariant is checked.
 */
static void test_a_long_random_run_never_loses_a_byte(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	f.dir = mvt_tmpdir("mvzcache");
	f.h = mvt_host(24, 1);
	f.vm = mvt_vm(f.h, "soak", 16, 0);
	assert_int_equal(mv_vm_enable_verify(f.vm), 0);
	const uint64_t N = f.vm->npages;
	mvt_ok(mv_swapfile_create(f.vm, f.dir, N * 3 / 4, &f.sf, &err), &err,
	       "mv_swapfile_create");
	mvt_ok(mv_zcache_create(f.vm, 64 * MV_KIB, f.sf, &f.z, &err), &err,
	       "mv_zcache_create");
	uint8_t *shadow = calloc(N, MV_PAGE_SIZE);
	assert_non_null(shadow);
	struct mv_rng r, rr;
	mv_rng_seed(&r, 20240611);
	mv_rng_seed(&rr, 77);
	uint64_t io_errors = 0, waits = 0, reclaimed = 0;

	for (uint64_t op = 0; op < 120000; op++) {
		mv_gppn_t g = mv_rng_below(&r, N);
		uint64_t k = mv_rng_below(&r, 100);
		uint8_t *p;
		if (k < 35) { /* the guest writes a page */
			while (!(p = mv_vm_access_bytes(f.vm, g, 1)))
				waits++;
			uint64_t cls = mv_rng_below(&r, 5);
			if (cls == 0)
				mv_content_page(p, MV_CONTENT_RANDOM, 0, 0, op,
						0);
			else if (cls == 1)
				mv_content_page(p, MV_CONTENT_ZERO, 0, 0, 0, 0);
			else if (cls == 2)
				mv_content_page(p, MV_CONTENT_OS, 0x05, g, 0,
						0);
			else if (cls == 3) /* one word, as workloads write */
				memcpy(p + 8 * mv_rng_below(&r, 512), &op, 8);
			else
				mv_content_page(p, MV_CONTENT_DATA, 0, 0, op,
						mv_rng_double(&r));
			mv_vm_wrote(f.vm, g);
			memcpy(shadow + g * MV_PAGE_SIZE, p, MV_PAGE_SIZE);
		} else if (k < 60) { /* the hypervisor reclaims */
			uint64_t done = 0;
			int rc = mv_reclaim_pages(f.vm, f.z, f.sf, &rr,
						  1 + mv_rng_below(&r, 8),
						  &done, &err);
			reclaimed += done;
			if (rc) {
				assert_true(rc == MV_EIO || rc == MV_ENOSPC);
				io_errors++;
			}
		} else if (k < 94) { /* the guest reads a page */
			while (!(p = mv_vm_access_bytes(f.vm, g, 0)))
				waits++;
			assert_memory_equal(p, shadow + g * MV_PAGE_SIZE,
					    MV_PAGE_SIZE);
		} else if (k < 98) { /* the balloon takes a page */
			mv_vm_balloon_page(f.vm, g);
			memset(shadow + g * MV_PAGE_SIZE, 0, MV_PAGE_SIZE);
		} else { /* the disk fails soon */
			mv_swapfile_inject_error(
				f.sf, 1 + mv_rng_below(&r, 4),
				mv_rng_below(&r, 2) ? MV_EIO : MV_ENOSPC);
		}
		if (op % 4000 == 3999)
			fx_check(&f);
	}
	fx_check(&f);
	struct mv_zcache_stats zs = zstats(f.z);
	struct mv_swap_stats ss = sstats(f.sf);
	print_message(
		"soak: %llu compressed, %llu decompressed, %llu evicted, "
		"%llu rejected, %llu swap-ins, %llu read and %llu write "
		"errors, %llu waits\n",
		(unsigned long long)zs.compressed,
		(unsigned long long)zs.decompressed,
		(unsigned long long)zs.evicted, (unsigned long long)zs.rejected,
		(unsigned long long)ss.reads,
		(unsigned long long)ss.read_errors,
		(unsigned long long)ss.write_errors, (unsigned long long)waits);
	/* every path was taken */
	assert_true(zs.compressed > 1000 && zs.decompressed > 100);
	assert_true(zs.evicted > 100 && zs.rejected > 100);
	assert_true(ss.reads > 100 && ss.read_errors > 10);
	assert_true(ss.write_errors > 10 && io_errors > 10 && waits > 10);
	assert_true(f.vm->count[MV_PS_BALLOONED] > 100);
	assert_true(zs.frames <= zs.capacity_frames);
	assert_true(reclaimed > 10000);
	for (mv_gppn_t g = 0; g < N; g++) {
		if (f.vm->pmap[g].state == MV_PS_BALLOONED)
			continue;
		uint8_t *p;
		int tries = 0;
		while (!(p = mv_vm_access_bytes(f.vm, g, 0)))
			assert_true(++tries < 10);
		assert_memory_equal(p, shadow + g * MV_PAGE_SIZE, MV_PAGE_SIZE);
	}
	fx_check(&f);
	free(shadow);
	fx_close(&f);
}

/* Share before swap (<sharing before-swap>; "the system always attempts to
 * share a page before paging it out to disk", Waldspurger 2002, section
 * 4.3): of the victims, the all-zero pages and those equal to a page
 * already shared are reclaimed by sharing, without a write; only the
 * others reach the swap file. Without it every victim is written. */
static void share_before_swap_run(int share_first, uint64_t *zero,
				  uint64_t *shared, uint64_t *swapped,
				  uint64_t *written)
{
	struct fx f;
	struct mv_error err = {0};
	struct mv_share_config c;
	struct mv_sharer *s = NULL;
	fx_open(&f, 64, 4, 0); /* 1024 pages, no cache: straight to swap */
	mv_share_config_default(&c);
	mvt_ok(mv_share_create(f.h, &c, &s, &err), &err, "mv_share_create");
	assert_int_equal(mv_share_add_vm(s, f.vm), 0);
	/* pages 0..3 hold the same bytes, shared by a scan */
	for (mv_gppn_t g = 0; g < 4; g++)
		write_page(f.vm, g, 1, 7, NULL);
	mv_share_scan_lap(s);
	assert_int_equal(f.vm->count[MV_PS_SHARED], 4);
	/* then 256 pages cleared (a zero page thread), 4 more copies of the
	 * shared bytes, and unique pages in the rest */
	for (mv_gppn_t g = 4; g < 260; g++) {
		uint8_t *p = mv_vm_access_bytes(f.vm, g, 1);
		assert_non_null(p);
		memset(p, 0, MV_PAGE_SIZE);
		mv_vm_wrote(f.vm, g);
	}
	for (mv_gppn_t g = 260; g < 264; g++)
		write_page(f.vm, g, 1, 7, NULL);
	for (mv_gppn_t g = 264; g < f.vm->npages; g++)
		write_page(f.vm, g, 0, g, NULL);
	if (share_first)
		f.vm->share_first = s;
	struct mv_rng r;
	mv_rng_seed(&r, 5);
	uint64_t done = 0, victims = f.vm->count[MV_PS_PRIVATE];
	mvt_ok(mv_reclaim_pages(f.vm, f.z, f.sf, &r, victims, &done, &err),
	       &err, "mv_reclaim_pages");
	assert_int_equal(done, victims);
	assert_int_equal(f.vm->count[MV_PS_PRIVATE], 0);
	mvt_ok(mv_vm_check(f.vm, &err), &err, "mv_vm_check");
	mvt_ok(mv_share_check(s, &err), &err, "mv_share_check");
	mvt_ok(mv_swapfile_check(f.sf, &err), &err, "mv_swapfile_check");
	*zero = f.vm->count[MV_PS_ZERO];
	*shared = f.vm->count[MV_PS_SHARED];
	*swapped = f.vm->count[MV_PS_SWAPPED];
	*written = sstats(f.sf).used;
	/* every page reads back what the guest wrote */
	for (mv_gppn_t g = 4; g < 260; g++) {
		const uint8_t *p = mv_vm_access_bytes(f.vm, g, 0);
		assert_non_null(p);
		assert_true(mv_page_is_zero(p));
	}
	mvt_ok(mv_vm_check(f.vm, &err), &err, "mv_vm_check");
	mv_share_destroy(s);
	fx_close(&f);
}

static void test_share_before_swap_writes_only_unshareable_pages(void **state)
{
	(void)state;
	uint64_t zero, shared, swapped, written;
	share_before_swap_run(1, &zero, &shared, &swapped, &written);
	assert_int_equal(zero, 256);
	assert_int_equal(shared, 8);
	assert_int_equal(swapped, 1024 - 264);
	assert_int_equal(written, 1024 - 264);
	share_before_swap_run(0, &zero, &shared, &swapped, &written);
	assert_int_equal(zero, 0);
	assert_int_equal(shared, 4);
	assert_int_equal(swapped, 1020);
	assert_int_equal(written, 1020);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_compressible_pages_go_to_the_cache_two_per_frame),
		cmocka_unit_test(
			test_incompressible_pages_are_rejected_and_swapped),
		cmocka_unit_test(
			test_a_descriptor_page_keeps_its_descriptor_and_real_size),
		cmocka_unit_test(
			test_access_decompresses_the_right_bytes_and_charges_it),
		cmocka_unit_test(test_compressed_bytes_live_in_a_host_frame),
		cmocka_unit_test(
			test_full_cache_evicts_its_oldest_pages_to_swap_in_fifo_order),
		cmocka_unit_test(
			test_failed_eviction_keeps_the_oldest_compressed_and_the_victim),
		cmocka_unit_test(
			test_eviction_into_a_full_swap_file_loses_nothing),
		cmocka_unit_test(
			test_rejected_page_whose_swap_write_fails_stays_resident),
		cmocka_unit_test(
			test_only_private_unpinned_pages_can_be_compressed),
		cmocka_unit_test(
			test_ballooning_a_compressed_page_releases_its_slot),
		cmocka_unit_test(
			test_a_zero_byte_cache_sends_everything_to_swap),
		cmocka_unit_test(test_a_cache_without_a_swap_file_cannot_spill),
		cmocka_unit_test(
			test_a_full_host_compresses_into_the_victims_own_frame),
		cmocka_unit_test(
			test_reclaim_takes_exactly_n_random_private_pages),
		cmocka_unit_test(test_reclaim_frames_frees_what_was_asked),
		cmocka_unit_test(
			test_reclaim_skips_pinned_large_and_non_private_pages),
		cmocka_unit_test(test_reclaim_stops_at_the_first_io_error),
		cmocka_unit_test(test_a_long_random_run_never_loses_a_byte),
		cmocka_unit_test(
			test_share_before_swap_writes_only_unshareable_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
