/*
 * Tests of the hypervisor swap file (src/reclaim/swap.c): real files in a
 * temporary directory, real I/O, injected and real I/O errors; after each
 * failure the page must be exactly where and what it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reclaim/swap.h"
#include "support/mvtest.h"

/* ---- fixtures ----------------------------------------------------------- */

struct fx {
	char *dir;
	struct mv_host *h;
	struct mv_vm *vm;
	struct mv_swapfile *sf;
};

static void fx_open(struct fx *f, uint64_t vm_mib, uint64_t slots)
{
	struct mv_error err = {0};
	f->dir = mvt_tmpdir("mvswap");
	f->h = mvt_host(32, 1);
	f->vm = mvt_vm(f->h, "web01", vm_mib, 0);
	assert_int_equal(mv_vm_enable_verify(f->vm), 0);
	mvt_ok(mv_swapfile_create(f->vm, f->dir, slots, &f->sf, &err), &err,
	       "mv_swapfile_create");
}

static void fx_check(const struct fx *f)
{
	struct mv_error err = {0};
	mvt_ok(mv_vm_check(f->vm, &err), &err, "mv_vm_check");
	mvt_ok(mv_swapfile_check(f->sf, &err), &err, "mv_swapfile_check");
	mvt_ok(mv_host_check(f->h, &err), &err, "mv_host_check");
}

static void fx_close(struct fx *f)
{
	mv_swapfile_destroy(f->sf, 0);
	mv_vm_destroy(f->vm);
	assert_int_equal(f->h->nfree, mv_host_usable_frames(f->h));
	mv_host_destroy(f->h);
	mvt_rmdir(f->dir);
}

/* The guest writes random bytes (keyed) to page g; a copy goes to shadow. */
static void write_page(struct mv_vm *vm, mv_gppn_t g, uint64_t key,
		       uint8_t *shadow)
{
	uint8_t *p = mv_vm_access(vm, g, 1);
	assert_non_null(p);
	mv_content_fill(p, MV_CONTENT_RANDOM, 0, 0, key, 0);
	mv_vm_wrote(vm, g);
	if (shadow)
		memcpy(shadow, p, MV_PAGE_SIZE);
}

static struct mv_swap_stats stats(const struct mv_swapfile *sf)
{
	struct mv_swap_stats st;
	mv_swapfile_stats(sf, &st);
	return st;
}

/* ---- swap-out and swap-in ----------------------------------------------- */

static void test_swap_out_then_access_gives_back_the_same_bytes(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[MV_PAGE_SIZE], file[MV_PAGE_SIZE];
	fx_open(&f, 8, 2048);
	write_page(f.vm, 5, 42, shadow);
	uint64_t nfree = f.h->nfree;

	mvt_ok(mv_swapfile_out(f.sf, 5, &err), &err, "mv_swapfile_out");
	assert_int_equal(f.vm->pmap[5].state, MV_PS_SWAPPED);
	assert_int_equal(f.vm->count[MV_PS_SWAPPED], 1);
	assert_int_equal(f.h->nfree, nfree + 1); /* the frame went back */
	struct mv_swap_stats st = stats(f.sf);
	assert_int_equal(st.used, 1);
	assert_int_equal(st.writes, 1);
	/* the bytes really are in the file, at slot * 4096 */
	uint32_t slot = f.vm->pmap[5].mpn;
	int fd = open(mv_swapfile_path(f.sf), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, file, MV_PAGE_SIZE,
			       (off_t)slot * MV_PAGE_SIZE),
			 MV_PAGE_SIZE);
	close(fd);
	assert_memory_equal(file, shadow, MV_PAGE_SIZE);
	fx_check(&f);

	uint64_t stall = f.vm->stall_pending_ns;
	uint8_t *p = mv_vm_access(f.vm, 5, 0);
	assert_non_null(p);
	assert_memory_equal(p, shadow, MV_PAGE_SIZE);
	assert_int_equal(f.vm->pmap[5].state, MV_PS_PRIVATE);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_SWAPIN], 1);
	assert_int_equal(f.vm->ctr.stall_ns[MV_FAULT_SWAPIN],
			 f.h->cfg.lat.swapin_ssd);
	assert_int_equal(f.vm->stall_pending_ns - stall,
			 f.h->cfg.lat.swapin_ssd);
	assert_int_equal(f.h->nfree, nfree); /* a frame was taken again */
	st = stats(f.sf);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.reads, 1);
	fx_check(&f);
	fx_close(&f);
}

static void test_swap_in_from_a_disk_charges_the_hdd_latency(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 16);
	f.h->cfg.swap_device = MV_SWAP_HDD;
	write_page(f.vm, 1, 1, NULL);
	mvt_ok(mv_swapfile_out(f.sf, 1, &err), &err, "mv_swapfile_out");
	assert_non_null(mv_vm_access(f.vm, 1, 1));
	assert_int_equal(f.vm->ctr.stall_ns[MV_FAULT_SWAPIN],
			 f.h->cfg.lat.swapin_hdd);
	fx_close(&f);
}

static void test_many_pages_swap_out_and_in_in_any_order(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	enum { N = 512 };
	static uint8_t shadow[N][MV_PAGE_SIZE];
	fx_open(&f, 4, N);
	for (mv_gppn_t g = 0; g < N; g++)
		write_page(f.vm, g, 1000 + g, shadow[g]);
	struct mv_rng r;
	mv_rng_seed(&r, 7);
	for (int round = 0; round < 4; round++) {
		for (mv_gppn_t g = 0; g < N; g++)
			if (f.vm->pmap[g].state == MV_PS_PRIVATE &&
			    mv_rng_below(&r, 2))
				mvt_ok(mv_swapfile_out(f.sf, g, &err), &err,
				       "mv_swapfile_out");
		fx_check(&f);
		for (mv_gppn_t g = 0; g < N; g++)
			if (mv_rng_below(&r, 3) == 0) {
				uint8_t *p = mv_vm_access(f.vm, g, 0);
				assert_non_null(p);
				assert_memory_equal(p, shadow[g], MV_PAGE_SIZE);
			}
		fx_check(&f);
	}
	assert_int_equal(stats(f.sf).used, f.vm->count[MV_PS_SWAPPED]);
	for (mv_gppn_t g = 0; g < N; g++)
		assert_memory_equal(mv_vm_access(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	assert_int_equal(stats(f.sf).used, 0);
	fx_close(&f);
}

/* ---- the file ----------------------------------------------------------- */

static void test_swap_file_is_dir_name_vswp_preallocated_and_removed(
	void **state)
{
	(void)state;
	struct fx f;
	struct stat sb;
	char want[512];
	fx_open(&f, 8, 300);
	snprintf(want, sizeof want, "%s/web01.vswp", f.dir);
	assert_string_equal(mv_swapfile_path(f.sf), want);
	assert_int_equal(stat(want, &sb), 0);
	assert_int_equal(sb.st_size, 300 * MV_PAGE_SIZE);
	assert_true((uint64_t)sb.st_blocks * 512 >= 300 * MV_PAGE_SIZE);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stats(f.sf).slots, 300);
	mv_swapfile_destroy(f.sf, 0);
	assert_int_equal(stat(want, &sb), -1);
	assert_int_equal(errno, ENOENT);

	/* keep = 1 leaves the file for inspection */
	struct mv_error err = {0};
	mvt_ok(mv_swapfile_create(f.vm, f.dir, 4, &f.sf, &err), &err,
	       "mv_swapfile_create");
	mv_swapfile_destroy(f.sf, 1);
	assert_int_equal(stat(want, &sb), 0);
	assert_int_equal(sb.st_size, 4 * MV_PAGE_SIZE);
	assert_int_equal(unlink(want), 0);
	f.sf = NULL;
	fx_close(&f);
}

static void test_creating_the_swap_file_twice_fails_and_names_it(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 8, 16);
	struct mv_swapfile *again = (struct mv_swapfile *)&f;
	assert_int_equal(mv_swapfile_create(f.vm, f.dir, 16, &again, &err),
			 MV_EINVAL);
	assert_null(again);
	assert_string_equal(err.file, mv_swapfile_path(f.sf));
	assert_string_equal(err.field, "swap");
	assert_non_null(strstr(err.msg, strerror(EEXIST)));
	/* the first file still works and is still the VM's backing store */
	write_page(f.vm, 2, 2, shadow);
	mvt_ok(mv_swapfile_out(f.sf, 2, &err), &err, "mv_swapfile_out");
	assert_memory_equal(mv_vm_access(f.vm, 2, 0), shadow, MV_PAGE_SIZE);
	fx_close(&f);
}

static void test_swap_file_in_a_missing_directory_fails(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "db", 4, 0);
	struct mv_swapfile *sf;
	struct mv_error err = {0};
	assert_int_equal(mv_swapfile_create(vm, "/nonexistent/memvisor", 8,
					    &sf, &err),
			 MV_ENOENT);
	assert_string_equal(err.file, "/nonexistent/memvisor/db.vswp");
	assert_null(vm->backing[MV_PS_SWAPPED].page_in);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* ---- errors: nothing is lost -------------------------------------------- */

static void assert_write_error_keeps_page(int code)
{
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 8, 16);
	write_page(f.vm, 3, 3, shadow);
	mv_mpn_t mpn = f.vm->pmap[3].mpn;
	uint64_t nfree = f.h->nfree;

	mv_swapfile_inject_error(f.sf, 1, code);
	assert_int_equal(mv_swapfile_out(f.sf, 3, &err), code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.file, mv_swapfile_path(f.sf));
	assert_string_equal(err.field, "swap");
	assert_non_null(strstr(err.msg, strerror(code == MV_EIO ? EIO
								 : ENOSPC)));
	assert_int_equal(f.vm->pmap[3].state, MV_PS_PRIVATE);
	assert_int_equal(f.vm->pmap[3].mpn, mpn);
	assert_memory_equal(mv_host_frame(f.h, mpn), shadow, MV_PAGE_SIZE);
	assert_int_equal(f.h->nfree, nfree);
	struct mv_swap_stats st = stats(f.sf);
	assert_int_equal(st.write_errors, 1);
	assert_int_equal(st.writes, 0);
	assert_int_equal(st.used, 0);
	fx_check(&f);
	/* the disk recovered: the same page swaps out now */
	mvt_ok(mv_swapfile_out(f.sf, 3, &err), &err, "mv_swapfile_out");
	assert_memory_equal(mv_vm_access(f.vm, 3, 0), shadow, MV_PAGE_SIZE);
	fx_close(&f);
}

static void test_write_error_leaves_the_page_resident_and_unchanged(
	void **state)
{
	(void)state;
	assert_write_error_keeps_page(MV_EIO);
}

static void test_full_disk_on_write_leaves_the_page_resident(void **state)
{
	(void)state;
	assert_write_error_keeps_page(MV_ENOSPC);
}

static void test_injected_error_hits_only_the_nth_io(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 16);
	for (mv_gppn_t g = 0; g < 4; g++)
		write_page(f.vm, g, g, NULL);
	mv_swapfile_inject_error(f.sf, 3, MV_EIO);
	assert_int_equal(mv_swapfile_out(f.sf, 0, &err), 0);
	assert_int_equal(mv_swapfile_out(f.sf, 1, &err), 0);
	assert_int_equal(mv_swapfile_out(f.sf, 2, &err), MV_EIO);
	assert_int_equal(mv_swapfile_out(f.sf, 3, &err), 0);
	assert_int_equal(f.vm->pmap[2].state, MV_PS_PRIVATE);
	assert_int_equal(stats(f.sf).used, 3);
	fx_check(&f);
	fx_close(&f);
}

static void test_read_error_keeps_the_page_swapped_and_a_retry_works(
	void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 8, 16);
	write_page(f.vm, 6, 6, shadow);
	mvt_ok(mv_swapfile_out(f.sf, 6, &err), &err, "mv_swapfile_out");
	uint32_t slot = f.vm->pmap[6].mpn;
	uint64_t nfree = f.h->nfree;

	mv_swapfile_inject_error(f.sf, 1, MV_EIO);
	assert_null(mv_vm_access(f.vm, 6, 0));
	assert_int_equal(f.vm->pmap[6].state, MV_PS_SWAPPED);
	assert_int_equal(f.vm->pmap[6].mpn, slot);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_SWAPIN], 0);
	assert_int_equal(f.vm->ctr.page_in_errors, 1);
	assert_int_equal(f.h->nfree, nfree); /* the frame for it went back */
	struct mv_swap_stats st = stats(f.sf);
	assert_int_equal(st.read_errors, 1);
	assert_int_equal(st.used, 1);
	fx_check(&f);

	uint8_t *p = mv_vm_access(f.vm, 6, 0);
	assert_non_null(p);
	assert_memory_equal(p, shadow, MV_PAGE_SIZE);
	assert_int_equal(stats(f.sf).used, 0);
	fx_close(&f);
}

static void test_full_swap_file_returns_enospc_and_loses_nothing(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[6][MV_PAGE_SIZE];
	fx_open(&f, 8, 4);
	for (mv_gppn_t g = 0; g < 6; g++)
		write_page(f.vm, g, 100 + g, shadow[g]);
	for (mv_gppn_t g = 0; g < 4; g++)
		mvt_ok(mv_swapfile_out(f.sf, g, &err), &err, "mv_swapfile_out");
	assert_int_equal(mv_swapfile_out(f.sf, 4, &err), MV_ENOSPC);
	assert_string_equal(err.file, mv_swapfile_path(f.sf));
	assert_non_null(strstr(err.msg, "full"));
	assert_int_equal(f.vm->pmap[4].state, MV_PS_PRIVATE);
	assert_int_equal(stats(f.sf).used, 4);
	assert_int_equal(stats(f.sf).write_errors, 0);
	fx_check(&f);
	/* a swap-in frees a slot, which the next swap-out reuses */
	assert_non_null(mv_vm_access(f.vm, 1, 0));
	mvt_ok(mv_swapfile_out(f.sf, 4, &err), &err, "mv_swapfile_out");
	for (mv_gppn_t g = 0; g < 6; g++)
		assert_memory_equal(mv_vm_access(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

/*
 * A real I/O error from the kernel, without root: a file size limit
 * (RLIMIT_FSIZE) makes pwrite past it fail with EFBIG, as a failing disk
 * would fail a write.
 */
static void test_a_real_write_error_from_the_kernel_loses_nothing(
	void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[8][MV_PAGE_SIZE];
	struct rlimit old, lim;
	fx_open(&f, 8, 8);
	for (mv_gppn_t g = 0; g < 8; g++)
		write_page(f.vm, g, 300 + g, shadow[g]);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 4 * MV_PAGE_SIZE;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc[8];
	for (mv_gppn_t g = 0; g < 8; g++)
		rc[g] = mv_swapfile_out(f.sf, g, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);
	for (mv_gppn_t g = 0; g < 4; g++)
		assert_int_equal(rc[g], 0);
	for (mv_gppn_t g = 4; g < 8; g++) {
		assert_int_equal(rc[g], MV_EIO);
		assert_int_equal(f.vm->pmap[g].state, MV_PS_PRIVATE);
	}
	assert_non_null(strstr(err.msg, strerror(EFBIG)));
	assert_int_equal(stats(f.sf).write_errors, 4);
	fx_check(&f);
	for (mv_gppn_t g = 0; g < 8; g++)
		assert_memory_equal(mv_vm_access(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

/*
 * A real full disk: a 64 KiB tmpfs cannot hold a 128 KiB swap file, so
 * creation fails with ENOSPC and leaves no partial file. Needs mount(2)
 * (root in the test's namespace); skipped where that is not allowed.
 */
static void test_a_disk_too_small_fails_creation_and_leaves_no_file(
	void **state)
{
	(void)state;
	char *d = mvt_tmpdir("mvswap");
	if (geteuid() != 0 || mount("tmpfs", d, "tmpfs", 0, "size=64k")) {
		mvt_rmdir(d);
		skip();
		return;
	}
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "big", 4, 0);
	struct mv_swapfile *sf = NULL, *small = NULL;
	struct mv_error err = {0}, err2 = {0};
	char path[512];
	struct stat sb;
	snprintf(path, sizeof path, "%s/big.vswp", d);
	int rc = mv_swapfile_create(vm, d, 32, &sf, &err);
	int exists = stat(path, &sb) == 0;
	int rc2 = mv_swapfile_create(vm, d, 8, &small, &err2);
	mv_swapfile_destroy(small, 0);
	umount(d);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	mvt_rmdir(d);
	assert_int_equal(rc, MV_ENOSPC);
	assert_null(sf);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, strerror(ENOSPC)));
	assert_false(exists);
	assert_int_equal(rc2, 0); /* a file that fits is fine */
}

/* ---- state rules -------------------------------------------------------- */

static void test_only_private_unpinned_pages_can_be_swapped(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 16);
	assert_int_equal(mv_swapfile_out(f.sf, 9, &err), MV_EINVAL);
	assert_int_equal(f.vm->pmap[9].state, MV_PS_UNTOUCHED);
	write_page(f.vm, 9, 9, NULL);
	f.vm->pmap[9].flags |= MV_PME_PINNED;
	assert_int_equal(mv_swapfile_out(f.sf, 9, &err), MV_EINVAL);
	assert_int_equal(f.vm->pmap[9].state, MV_PS_PRIVATE);
	assert_int_equal(mv_swapfile_out(f.sf, f.vm->npages, &err), MV_EINVAL);
	/* out_bytes is for compressed pages only */
	uint8_t page[MV_PAGE_SIZE] = {0};
	f.vm->pmap[9].flags = 0;
	assert_int_equal(mv_swapfile_out_bytes(f.sf, 9, page, &err),
			 MV_EINVAL);
	assert_int_equal(stats(f.sf).used, 0);
	fx_check(&f);
	fx_close(&f);
}

static void test_ballooning_a_swapped_page_frees_its_slot(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 16);
	write_page(f.vm, 4, 4, NULL);
	write_page(f.vm, 5, 5, NULL);
	mvt_ok(mv_swapfile_out(f.sf, 4, &err), &err, "mv_swapfile_out");
	uint32_t slot = f.vm->pmap[4].mpn;
	mv_vm_balloon_page(f.vm, 4);
	assert_int_equal(f.vm->pmap[4].state, MV_PS_BALLOONED);
	assert_int_equal(stats(f.sf).used, 0);
	fx_check(&f);
	/* the freed slot is the next one used */
	mvt_ok(mv_swapfile_out(f.sf, 5, &err), &err, "mv_swapfile_out");
	assert_int_equal(f.vm->pmap[5].mpn, slot);
	/* the ballooned page comes back as zeros */
	assert_true(mv_page_is_zero(mv_vm_access(f.vm, 4, 0)));
	fx_check(&f);
	fx_close(&f);
}

static void test_reclaim_without_a_cache_swaps_random_private_pages(
	void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	static uint8_t shadow[256][MV_PAGE_SIZE];
	fx_open(&f, 4, 1024);
	for (mv_gppn_t g = 0; g < 256; g++)
		write_page(f.vm, g, 500 + g, shadow[g]);
	struct mv_rng r;
	mv_rng_seed(&r, 3);
	uint64_t done = 0;
	mvt_ok(mv_reclaim_pages(f.vm, NULL, f.sf, &r, 40, &done, &err), &err,
	       "mv_reclaim_pages");
	assert_int_equal(done, 40);
	assert_int_equal(f.vm->count[MV_PS_SWAPPED], 40);
	assert_int_equal(stats(f.sf).writes, 40);
	fx_check(&f);
	/* an I/O error stops it at once, reporting what was done */
	mv_swapfile_inject_error(f.sf, 3, MV_EIO);
	assert_int_equal(mv_reclaim_pages(f.vm, NULL, f.sf, &r, 10, &done,
					  &err),
			 MV_EIO);
	assert_int_equal(done, 2);
	assert_int_equal(f.vm->count[MV_PS_SWAPPED], 42);
	fx_check(&f);
	for (mv_gppn_t g = 0; g < 256; g++)
		assert_memory_equal(mv_vm_access(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_out_then_access_gives_back_the_same_bytes),
		cmocka_unit_test(test_swap_in_from_a_disk_charges_the_hdd_latency),
		cmocka_unit_test(test_many_pages_swap_out_and_in_in_any_order),
		cmocka_unit_test(test_swap_file_is_dir_name_vswp_preallocated_and_removed),
		cmocka_unit_test(test_creating_the_swap_file_twice_fails_and_names_it),
		cmocka_unit_test(test_swap_file_in_a_missing_directory_fails),
		cmocka_unit_test(test_write_error_leaves_the_page_resident_and_unchanged),
		cmocka_unit_test(test_full_disk_on_write_leaves_the_page_resident),
		cmocka_unit_test(test_injected_error_hits_only_the_nth_io),
		cmocka_unit_test(test_read_error_keeps_the_page_swapped_and_a_retry_works),
		cmocka_unit_test(test_full_swap_file_returns_enospc_and_loses_nothing),
		cmocka_unit_test(test_a_real_write_error_from_the_kernel_loses_nothing),
		cmocka_unit_test(test_a_disk_too_small_fails_creation_and_leaves_no_file),
		cmocka_unit_test(test_only_private_unpinned_pages_can_be_swapped),
		cmocka_unit_test(test_ballooning_a_swapped_page_frees_its_slot),
		cmocka_unit_test(test_reclaim_without_a_cache_swaps_random_private_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
