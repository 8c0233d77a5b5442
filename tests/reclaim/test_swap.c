/*
 * Tests of the hypervisor swap file (src/reclaim/swap.c): real files in a
 * temporary directory, real I/O, injected and real I/O errors; after each
 * failure the page must be exactly where and what it was. The files have
 * no names and take disk only as pages are swapped: tests on small
 * filesystems (tmpfs) and of whole runs, killed or not, check both.
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
#include <sys/wait.h>
#include <time.h>
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
	uint8_t *p = mv_vm_access_bytes(vm, g, 1);
	assert_non_null(p);
	mv_content_page(p, MV_CONTENT_RANDOM, 0, 0, key, 0);
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
	assert_int_equal(pread(mv_swapfile_fd(f.sf), file, MV_PAGE_SIZE,
			       (off_t)slot * MV_PAGE_SIZE),
			 MV_PAGE_SIZE);
	assert_memory_equal(file, shadow, MV_PAGE_SIZE);
	fx_check(&f);

	uint64_t stall = f.vm->stall_pending_ns;
	uint8_t *p = mv_vm_access_bytes(f.vm, 5, 0);
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
	assert_non_null(mv_vm_access_bytes(f.vm, 1, 1));
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
				uint8_t *p = mv_vm_access_bytes(f.vm, g, 0);
				assert_non_null(p);
				assert_memory_equal(p, shadow[g], MV_PAGE_SIZE);
			}
		fx_check(&f);
	}
	assert_int_equal(stats(f.sf).used, f.vm->count[MV_PS_SWAPPED]);
	for (mv_gppn_t g = 0; g < N; g++)
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	assert_int_equal(stats(f.sf).used, 0);
	fx_close(&f);
}

/* ---- the file ----------------------------------------------------------- */

/* Entries in dir other than . and .. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Disk the file takes, in whole MiB (the filesystem's own metadata, a few
 * KiB, rounded away; at least 1 if it takes anything). */
static uint64_t disk_mib(const struct mv_swapfile *sf)
{
	uint64_t b = stats(sf).fs_bytes;
	assert_true(b % MV_PAGE_SIZE == 0 || b % 512 == 0);
	/* what memvisor says it allocated: whole MiB here */
	assert_int_equal(stats(sf).disk_bytes,
			 (b + (MV_MIB / 2)) / MV_MIB * MV_MIB);
	return (b + (MV_MIB / 2)) / MV_MIB;
}

static void test_swap_file_has_no_name_and_is_sparse(void **state)
{
	(void)state;
	struct fx f;
	struct stat sb;
	char want[512];
	fx_open(&f, 8, 300);
	snprintf(want, sizeof want, "%s/web01.vswp (deleted)", f.dir);
	assert_string_equal(mv_swapfile_path(f.sf), want);
	assert_int_equal(dir_entries(f.dir), 0); /* nothing to leave behind */
	assert_int_equal(fstat(mv_swapfile_fd(f.sf), &sb), 0);
	assert_int_equal(sb.st_nlink, 0);
	assert_int_equal(sb.st_size, 300 * MV_PAGE_SIZE);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_blocks, 0); /* sparse: no disk yet */
	assert_int_equal(stats(f.sf).disk_bytes, 0);
	assert_int_equal(stats(f.sf).fs_bytes, 0);
	assert_int_equal(stats(f.sf).slots, 300);
	fx_close(&f);
}

/*
 * Disk is taken in 1 MiB extents as slots are first written: 256 pages
 * swapped take 1 MiB, the 257th a second; pages swapped in and out again
 * reuse their slots and take nothing more.
 */
static void test_disk_use_grows_only_with_pages_swapped(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 2048);
	for (mv_gppn_t g = 0; g < 300; g++)
		write_page(f.vm, g, 700 + g, NULL);
	assert_int_equal(stats(f.sf).disk_bytes, 0);
	mvt_ok(mv_swapfile_out(f.sf, 0, &err), &err, "mv_swapfile_out");
	assert_true(stats(f.sf).fs_bytes >= MV_MIB);
	assert_int_equal(disk_mib(f.sf), 1);
	for (mv_gppn_t g = 1; g < 256; g++)
		mvt_ok(mv_swapfile_out(f.sf, g, &err), &err, "mv_swapfile_out");
	assert_int_equal(disk_mib(f.sf), 1);
	mvt_ok(mv_swapfile_out(f.sf, 256, &err), &err, "mv_swapfile_out");
	assert_int_equal(disk_mib(f.sf), 2);
	uint64_t before = stats(f.sf).fs_bytes;
	for (int round = 0; round < 3; round++) {
		for (mv_gppn_t g = 0; g < 257; g++)
			assert_non_null(mv_vm_access_bytes(f.vm, g, 0));
		for (mv_gppn_t g = 0; g < 257; g++)
			mvt_ok(mv_swapfile_out(f.sf, g, &err), &err,
			       "mv_swapfile_out");
	}
	assert_int_equal(stats(f.sf).fs_bytes, before);
	assert_int_equal(stats(f.sf).disk_bytes, 2 * MV_MIB);
	/* the file's logical size never changed: 2048 slots */
	struct stat sb;
	assert_int_equal(fstat(mv_swapfile_fd(f.sf), &sb), 0);
	assert_int_equal(sb.st_size, 2048 * MV_PAGE_SIZE);
	fx_check(&f);
	fx_close(&f);
}

static void
test_disk_blocks_are_given_back_when_pages_come_back_in(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 2048);
	for (mv_gppn_t g = 0; g < 600; g++)
		write_page(f.vm, g, 900 + g, NULL);
	for (mv_gppn_t g = 0; g < 600; g++)
		mvt_ok(mv_swapfile_out(f.sf, g, &err), &err, "mv_swapfile_out");
	struct stat sb;
	assert_int_equal(fstat(mv_swapfile_fd(f.sf), &sb), 0);
	uint64_t full = (uint64_t)sb.st_blocks * 512;
	assert_true(full >= 3 * MV_MIB); /* three extents */
	/* the first two extents come back in whole, the third keeps one */
	for (mv_gppn_t g = 0; g < 599; g++)
		assert_non_null(mv_vm_access_bytes(f.vm, g, 0));
	assert_int_equal(fstat(mv_swapfile_fd(f.sf), &sb), 0);
	assert_true((uint64_t)sb.st_blocks * 512 <= full - 2 * MV_MIB);
	assert_true(sb.st_blocks > 0);
	assert_int_equal(sb.st_size, 2048 * MV_PAGE_SIZE);
	/* a punched extent takes pages again */
	mvt_ok(mv_swapfile_out(f.sf, 0, &err), &err, "mv_swapfile_out");
	assert_non_null(mv_vm_access_bytes(f.vm, 0, 0));
	assert_non_null(mv_vm_access_bytes(f.vm, 599, 0));
	assert_int_equal(fstat(mv_swapfile_fd(f.sf), &sb), 0);
	assert_int_equal(sb.st_blocks, 0);
	fx_check(&f);
	fx_close(&f);
}

/* The guest writes generated content G(d) into page g. */
static void write_desc(struct mv_vm *vm, mv_gppn_t g, mv_desc_t d)
{
	assert_non_null(mv_vm_access(vm, g, 1));
	mv_vm_set_desc(vm, g, d);
}

static void
test_a_descriptor_page_is_written_as_its_bytes_and_checked_back(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t want[MV_PAGE_SIZE], file[MV_PAGE_SIZE];
	fx_open(&f, 8, 2048);
	mv_desc_t d = mv_desc_make(MV_DESC_DATA, 20, 31337);
	mv_content_fill(want, d);
	write_desc(f.vm, 3, d);
	write_desc(f.vm, 4, d);
	mvt_ok(mv_swapfile_out(f.sf, 3, &err), &err, "mv_swapfile_out");
	mvt_ok(mv_swapfile_out(f.sf, 4, &err), &err, "mv_swapfile_out");
	uint32_t slot = f.vm->pmap[3].mpn;
	int fd = mv_swapfile_fd(f.sf);
	assert_int_equal(
		pread(fd, file, MV_PAGE_SIZE, (off_t)slot * MV_PAGE_SIZE),
		MV_PAGE_SIZE);
	assert_memory_equal(file, want, MV_PAGE_SIZE); /* real bytes */
	fx_check(&f);

	/* back in: the frame takes the descriptor, its arena unwritten */
	assert_non_null(mv_vm_access(f.vm, 3, 0));
	assert_int_equal(f.vm->pmap[3].state, MV_PS_PRIVATE);
	assert_int_equal(mv_vm_page_desc(f.vm, 3), d);
	assert_true(mv_page_is_zero(mv_host_frame(f.h, f.vm->pmap[3].mpn)));

	/* bytes in the file that are not G(d): an I/O error, page kept */
	uint32_t s4 = f.vm->pmap[4].mpn;
	file[100] ^= 1;
	assert_int_equal(
		pwrite(fd, file, MV_PAGE_SIZE, (off_t)s4 * MV_PAGE_SIZE),
		MV_PAGE_SIZE);
	assert_null(mv_vm_access(f.vm, 4, 0));
	assert_int_equal(f.vm->ctr.page_in_errors, 1);
	assert_int_equal(stats(f.sf).read_errors, 1);
	assert_int_equal(f.vm->pmap[4].state, MV_PS_SWAPPED);
	file[100] ^= 1;
	assert_int_equal(
		pwrite(fd, file, MV_PAGE_SIZE, (off_t)s4 * MV_PAGE_SIZE),
		MV_PAGE_SIZE);
	assert_non_null(mv_vm_access(f.vm, 4, 0));
	assert_int_equal(mv_vm_page_desc(f.vm, 4), d);
	fx_check(&f);
	fx_close(&f);
}

/* Where O_TMPFILE is missing: mkstemp, unlinked before it is returned. */
static void test_the_mkstemp_fallback_leaves_no_name_either(void **state)
{
	(void)state;
	char *d = mvt_tmpdir("mvswap");
	for (int try_tmpfile = 0; try_tmpfile < 2; try_tmpfile++) {
		int fd = mv_swapfile_open_unnamed(d, try_tmpfile);
		assert_true(fd >= 0);
		assert_int_equal(dir_entries(d), 0);
		struct stat sb;
		assert_int_equal(fstat(fd, &sb), 0);
		assert_int_equal(sb.st_nlink, 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		assert_int_equal(pwrite(fd, "page", 4, 4096), 4);
		assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		close(fd);
	}
	assert_int_equal(mv_swapfile_open_unnamed("/nonexistent/mv", 0), -1);
	assert_int_equal(errno, ENOENT);
	mvt_rmdir(d);
}

/* A scenario that keeps its swap files gets DIR/NAME.vswp, sparse too. */
static void
test_a_kept_swap_file_is_dir_name_vswp_and_removed_unless_kept(void **state)
{
	(void)state;
	struct fx f;
	struct stat sb;
	struct mv_error err = {0};
	char want[512];
	fx_open(&f, 8, 300);
	mv_swapfile_destroy(f.sf, 0);
	mvt_ok(mv_swapfile_create_named(f.vm, f.dir, 300, &f.sf, &err), &err,
	       "mv_swapfile_create_named");
	snprintf(want, sizeof want, "%s/web01.vswp", f.dir);
	assert_string_equal(mv_swapfile_path(f.sf), want);
	assert_int_equal(stat(want, &sb), 0);
	assert_int_equal(sb.st_size, 300 * MV_PAGE_SIZE);
	assert_int_equal(sb.st_blocks, 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	mv_swapfile_destroy(f.sf, 0);
	assert_int_equal(stat(want, &sb), -1);
	assert_int_equal(errno, ENOENT);

	/* keep = 1 leaves the file for inspection, with its pages */
	uint8_t shadow[MV_PAGE_SIZE], file[MV_PAGE_SIZE];
	mvt_ok(mv_swapfile_create_named(f.vm, f.dir, 4, &f.sf, &err), &err,
	       "mv_swapfile_create_named");
	write_page(f.vm, 1, 11, shadow);
	mvt_ok(mv_swapfile_out(f.sf, 1, &err), &err, "mv_swapfile_out");
	uint32_t slot = f.vm->pmap[1].mpn;
	mv_swapfile_destroy(f.sf, 1);
	f.sf = NULL;
	assert_int_equal(stat(want, &sb), 0);
	assert_int_equal(sb.st_size, 4 * MV_PAGE_SIZE);
	int fd = open(want, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(
		pread(fd, file, MV_PAGE_SIZE, (off_t)slot * MV_PAGE_SIZE),
		MV_PAGE_SIZE);
	close(fd);
	assert_memory_equal(file, shadow, MV_PAGE_SIZE);
	assert_int_equal(unlink(want), 0);
	fx_close(&f);
}

static void
test_creating_a_kept_swap_file_twice_fails_and_names_it(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	uint8_t shadow[MV_PAGE_SIZE];
	fx_open(&f, 8, 16);
	mv_swapfile_destroy(f.sf, 0);
	mvt_ok(mv_swapfile_create_named(f.vm, f.dir, 16, &f.sf, &err), &err,
	       "mv_swapfile_create_named");
	struct mv_swapfile *again = (struct mv_swapfile *)&f;
	assert_int_equal(
		mv_swapfile_create_named(f.vm, f.dir, 16, &again, &err),
		MV_EINVAL);
	assert_null(again);
	assert_string_equal(err.file, mv_swapfile_path(f.sf));
	assert_string_equal(err.field, "swap");
	assert_non_null(strstr(err.msg, strerror(EEXIST)));
	/* the first file still works and is still the VM's backing store */
	write_page(f.vm, 2, 2, shadow);
	mvt_ok(mv_swapfile_out(f.sf, 2, &err), &err, "mv_swapfile_out");
	assert_memory_equal(mv_vm_access_bytes(f.vm, 2, 0), shadow,
			    MV_PAGE_SIZE);
	/* files without names never collide */
	struct mv_swapfile *other = NULL;
	struct mv_vm *vm2 = mvt_vm(f.h, "web01", 4, 1);
	mvt_ok(mv_swapfile_create(vm2, f.dir, 16, &other, &err), &err,
	       "mv_swapfile_create");
	mv_swapfile_destroy(other, 0);
	mv_vm_destroy(vm2);
	fx_close(&f);
}

static void test_swap_file_in_a_missing_directory_fails(void **state)
{
	(void)state;
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "db", 4, 0);
	struct mv_swapfile *sf;
	struct mv_error err = {0};
	assert_int_equal(
		mv_swapfile_create(vm, "/nonexistent/memvisor", 8, &sf, &err),
		MV_ENOENT);
	assert_string_equal(err.file,
			    "/nonexistent/memvisor/db.vswp (deleted)");
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
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
	assert_non_null(
		strstr(err.msg, strerror(code == MV_EIO ? EIO : ENOSPC)));
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
	assert_memory_equal(mv_vm_access_bytes(f.vm, 3, 0), shadow,
			    MV_PAGE_SIZE);
	fx_close(&f);
}

static void
test_write_error_leaves_the_page_resident_and_unchanged(void **state)
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

static void
test_read_error_keeps_the_page_swapped_and_a_retry_works(void **state)
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
	assert_null(mv_vm_access_bytes(f.vm, 6, 0));
	assert_int_equal(f.vm->pmap[6].state, MV_PS_SWAPPED);
	assert_int_equal(f.vm->pmap[6].mpn, slot);
	assert_int_equal(f.vm->ctr.faults[MV_FAULT_SWAPIN], 0);
	assert_int_equal(f.vm->ctr.page_in_errors, 1);
	assert_int_equal(f.h->nfree, nfree); /* the frame for it went back */
	struct mv_swap_stats st = stats(f.sf);
	assert_int_equal(st.read_errors, 1);
	assert_int_equal(st.used, 1);
	fx_check(&f);

	uint8_t *p = mv_vm_access_bytes(f.vm, 6, 0);
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
	assert_non_null(mv_vm_access_bytes(f.vm, 1, 0));
	mvt_ok(mv_swapfile_out(f.sf, 4, &err), &err, "mv_swapfile_out");
	for (mv_gppn_t g = 0; g < 6; g++)
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

/*
 * A real I/O error from the kernel, without root: a file size limit
 * (RLIMIT_FSIZE) makes pwrite past it fail with EFBIG, as a failing disk
 * would fail a write.
 */
static void test_a_real_write_error_from_the_kernel_loses_nothing(void **state)
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
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

/* A tmpfs of `size` (mount option) at a new directory; NULL (the test
 * skips) where mount(2) is not allowed. */
static char *small_fs(const char *size)
{
	char *d = mvt_tmpdir("mvswap");
	char opts[64];
	snprintf(opts, sizeof opts, "size=%s", size);
	if (geteuid() != 0 || mount("tmpfs", d, "tmpfs", 0, opts)) {
		mvt_rmdir(d);
		return NULL;
	}
	return d;
}

static void small_fs_free(char *d)
{
	umount(d);
	mvt_rmdir(d);
}

/*
 * A real full disk: a 4 MiB VM's swap file on a 64 KiB tmpfs. The VM powers
 * on (the file is sparse); swap-outs succeed while the disk has room, then
 * fail with ENOSPC before writing anything, and every page is still there.
 */
static void
test_a_vm_larger_than_the_disk_powers_on_and_a_full_disk_loses_nothing(
	void **state)
{
	(void)state;
	char *d = small_fs("64k");
	if (!d) {
		skip();
		return;
	}
	enum { N = 32 };
	static uint8_t shadow[N][MV_PAGE_SIZE];
	struct mv_host *h = mvt_host(16, 1);
	struct mv_vm *vm = mvt_vm(h, "big", 4, 0);
	struct mv_swapfile *sf = NULL;
	struct mv_error err = {0};
	char want[512];
	snprintf(want, sizeof want, "%s/big.vswp (deleted)", d);
	int rc = mv_swapfile_create(vm, d, 1024, &sf, &err);
	if (rc)
		small_fs_free(d);
	mvt_ok(rc, &err, "mv_swapfile_create (4 MiB file on a 64 KiB disk)");
	for (mv_gppn_t g = 0; g < N; g++)
		write_page(vm, g, 900 + g, shadow[g]);
	int ok = 0, full = 0, other = 0;
	struct mv_error last = {0};
	for (mv_gppn_t g = 0; g < N; g++) {
		rc = mv_swapfile_out(sf, g, &err);
		if (rc == 0)
			ok++;
		else if (rc == MV_ENOSPC) {
			full++;
			last = err;
			assert_int_equal(vm->pmap[g].state, MV_PS_PRIVATE);
		} else
			other++;
	}
	struct mv_swap_stats st;
	mv_swapfile_stats(sf, &st);
	struct mv_error cerr = {0};
	int check = mv_swapfile_check(sf, &cerr) || mv_vm_check(vm, &cerr);
	int same = 1;
	for (mv_gppn_t g = 0; g < N; g++) {
		const uint8_t *p = mv_vm_access_bytes(vm, g, 0);
		same &= p && memcmp(p, shadow[g], MV_PAGE_SIZE) == 0;
	}
	mv_swapfile_destroy(sf, 0);
	int left = dir_entries(d);
	small_fs_free(d);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
	assert_int_equal(other, 0);
	assert_true(ok >= 8 && ok <= 16); /* the disk was used to its end */
	assert_int_equal(full, N - ok);
	assert_int_equal(st.write_errors, (uint64_t)full);
	assert_true(st.fs_bytes <= 64 * 1024);
	assert_int_equal(st.disk_bytes, (uint64_t)ok * MV_PAGE_SIZE);
	assert_string_equal(last.file, want);
	assert_non_null(strstr(last.msg, strerror(ENOSPC)));
	assert_int_equal(check, 0);
	assert_true(same);
	assert_int_equal(left, 0);
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
	assert_int_equal(
		mv_swapfile_out_bytes(f.sf, 9, page, MV_DESC_BYTES, &err),
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
	assert_true(mv_page_is_zero(mv_vm_access_bytes(f.vm, 4, 0)));
	fx_check(&f);
	fx_close(&f);
}

static void
test_reclaim_without_a_cache_swaps_random_private_pages(void **state)
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
	assert_int_equal(
		mv_reclaim_pages(f.vm, NULL, f.sf, &r, 10, &done, &err),
		MV_EIO);
	assert_int_equal(done, 2);
	assert_int_equal(f.vm->count[MV_PS_SWAPPED], 42);
	fx_check(&f);
	for (mv_gppn_t g = 0; g < 256; g++)
		assert_memory_equal(mv_vm_access_bytes(f.vm, g, 0), shadow[g],
				    MV_PAGE_SIZE);
	fx_close(&f);
}

/* ---- whole runs --------------------------------------------------------- */

/*
 * One 48 MiB VM without a balloon driver on a 24 MiB host, compression off:
 * it must be swapped. A second VM stays small and is never swapped.
 */
static const char *swapping =
	"<scenario name='swapping' seed='3' duration='3s' step='20ms' "
	"stats-interval='250ms' active-window='1s'>"
	" <host><memory unit='MiB'>24</memory>"
	"  <compression enabled='no'/>"
	"  <reclaim period='200ms'/>"
	" </host>"
	" <vm>"
	"  <domain type='kvm'><name>big</name><memory unit='MiB'>48</memory>"
	"   <devices><memballoon model='none'/></devices></domain>"
	"  <workload kind='steady' size='30MiB' rate='40k' write-ratio='0.3' "
	"content='data'/>"
	" </vm>"
	" <vm>"
	"  <domain type='kvm'><name>idle</name><memory unit='MiB'>16</memory>"
	"   <memtune><min_guarantee "
	"unit='MiB'>16</min_guarantee></memtune></domain>"
	" </vm>"
	"</scenario>";

/* The report's disk figure is the files' real disk use, which follows the
 * pages swapped: it never falls and is at most the extents written. */
static void test_a_run_reports_the_swap_files_real_disk_use(void **state)
{
	(void)state;
	struct mv_sim *s = mvt_sim(swapping, "swapping.xml", 0);
	mvt_sim_run(s);
	uint64_t prev = 0, max_used = 0;
	for (int k = 0; k < s->nsamples; k++) {
		const struct mv_swap_stats *sw = &s->samples[k].vm[0].swap;
		assert_true(sw->disk_bytes >= prev);
		prev = sw->disk_bytes;
		if (sw->used > max_used)
			max_used = sw->used;
		assert_int_equal(s->samples[k].vm[1].swap.disk_bytes, 0);
	}
	const struct mv_swap_stats
		*last = &s->samples[s->nsamples - 1].vm[0].swap;
	assert_true(max_used > 1000); /* it did swap, several MiB */
	assert_true(last->disk_bytes >= max_used * MV_PAGE_SIZE);
	uint64_t extents = (last->writes + 255) / 256;
	assert_true(last->disk_bytes <= extents * MV_MIB + 64 * 1024);
	assert_true(last->disk_bytes < last->slots * MV_PAGE_SIZE);
	/* the filesystem holds at least what memvisor allocated */
	assert_true(last->fs_bytes >= last->disk_bytes);

	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	assert_non_null(f);
	assert_int_equal(mv_report_text(f, s), 0);
	fclose(f);
	char want[96];
	snprintf(want, sizeof want, "swap files %.1f MiB on disk)\n",
		 (double)last->disk_bytes / (double)MV_MIB);
	if (!strstr(text, want))
		fail_msg("no '%s' in the report:\n%s", want, text);
	free(text);
	mv_sim_destroy(s);
}

/* Run `memvisor run -q ARGS` with TMPDIR=tmpdir, its output to
 * outdir/out; the child's pid. */
static pid_t spawn_memvisor(const char *tmpdir, const char *outdir,
			    const char *scenario, const char *duration)
{
	char bin[4096], out[4096];
	mvt_memvisor_bin(bin, sizeof bin);
	snprintf(out, sizeof out, "%s/out", outdir);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		setenv("TMPDIR", tmpdir, 1);
		if (duration)
			execl(bin, bin, "run", "-q", "--duration", duration,
			      scenario, (char *)NULL);
		else
			execl(bin, bin, "run", "-q", scenario, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Remove what a failed run left in dir (files and one level of
 * directories), so a failing test does not leave gigabytes either. */
static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[4096];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (unlink(p) != 0) {
			empty_dir(p);
			rmdir(p);
		}
	}
	closedir(d);
}

/*
 * Issue 11, defect 9: a run killed while the VMs power on (SIGKILL, which
 * nothing can catch, and SIGTERM and SIGINT) leaves nothing in TMPDIR: the
 * swap files never have names and there is no run directory. Six kills at
 * random points of the first 600 ms of examples/overcommit.xml, or as soon
 * as anything appears in TMPDIR.
 */
static void
test_a_run_killed_during_power_on_leaves_nothing_in_tmpdir(void **state)
{
	(void)state;
	static const int sig[] = {SIGKILL, SIGTERM, SIGKILL,
				  SIGINT,  SIGKILL, SIGKILL};
	char *tmp = mvt_tmpdir("mvswap-tmp");
	char *outdir = mvt_tmpdir("mvswap-out");
	struct mv_rng r;
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	mv_rng_seed(&r, seed);
	char log[512] = "";
	int bad = 0;
	for (int k = 0; k < 6 && !bad; k++) {
		/* stratified on a square scale: the kills crowd the first
		 * milliseconds, where a fast disk sees the files made */
		double u = (k + (double)mv_rng_below(&r, 1000) / 1000.0) / 6.0;
		unsigned ms = (unsigned)(600.0 * u * u);
		pid_t pid = spawn_memvisor(tmp, outdir,
					   "examples/overcommit.xml", NULL);
		/* the moment anything shows in TMPDIR is the worst one */
		unsigned t = 0;
		for (; t < ms * 2 && !dir_entries(tmp); t++)
			usleep(500);
		kill(pid, sig[k]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		int n = dir_entries(tmp);
		size_t len = strlen(log);
		snprintf(log + len, sizeof log - len,
			 " %s after about %u ms: %d left;", strsignal(sig[k]),
			 t / 2, n);
		/* it was still powering on or running, not finished: killed,
		 * or stopped by its handler with 128 + the signal */
		int stopped = WIFSIGNALED(status)
				      ? WTERMSIG(status) == sig[k]
				      : WIFEXITED(status) &&
						WEXITSTATUS(status) ==
							128 + sig[k];
		if (!stopped || n)
			bad = 1;
		empty_dir(tmp);
	}
	mvt_rmdir(tmp);
	empty_dir(outdir);
	mvt_rmdir(outdir);
	if (bad)
		fail_msg("seed %llu:%s", (unsigned long long)seed, log);
}

/*
 * Issue 11, defect 10: swap files take disk only as pages are swapped, so
 * two 48 MiB VMs power on and run with TMPDIR on a 1 MiB filesystem (they
 * used to preallocate 96 MiB there and fail, status 1).
 */
static void test_vms_larger_than_the_free_disk_power_on_and_run(void **state)
{
	(void)state;
	static const char xml[] =
		"<scenario name='t' seed='7' duration='2s' step='10ms' "
		"stats-interval='1s'>\n"
		"  <host><memory unit='MiB'>64</memory></host>\n"
		"  <vm count='2'>\n"
		"    <domain type='kvm'><name>vm</name><memory "
		"unit='MiB'>48</memory></domain>\n"
		"    <workload kind='steady' size='8MiB' rate='20k' "
		"write-ratio='0.3'/>\n"
		"  </vm>\n"
		"</scenario>\n";
	char *tmp = small_fs("1m");
	if (!tmp) {
		skip();
		return;
	}
	char *outdir = mvt_tmpdir("mvswap-out");
	char scenario[4096], out[4096], text[8192];
	snprintf(scenario, sizeof scenario, "%s/small.xml", outdir);
	FILE *f = fopen(scenario, "w");
	assert_non_null(f);
	fputs(xml, f);
	fclose(f);
	pid_t pid = spawn_memvisor(tmp, outdir, scenario, NULL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	int left = dir_entries(tmp);
	small_fs_free(tmp);
	snprintf(out, sizeof out, "%s/out", outdir);
	mvt_read_file(out, text, sizeof text);
	unlink(out);
	unlink(scenario);
	mvt_rmdir(outdir);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("memvisor run: status %d:\n%s", status, text);
	assert_non_null(strstr(text, "swap files 0.0 MiB on disk)"));
	assert_int_equal(left, 0);
}

/*
 * The per-slot arrays are sparse (core.h): books count the slots handed
 * out (desc) and the deepest the free stack was, not the file's size.
 * 10 pages out: 10 slots; all back in: the stack holds 10; 4 out again
 * reuse freed slots: neither mark moves; the host's free stack is
 * counted the same way.
 */
static void test_books_count_slots_to_their_high_water_marks(void **state)
{
	(void)state;
	struct fx f;
	struct mv_error err = {0};
	fx_open(&f, 8, 1024);
	struct mv_books b = {0};
	mv_swapfile_books(f.sf, &b);
	assert_int_equal(mv_books_find(&b, "hypervisor", "swap.desc")->count,
			 0);
	for (mv_gppn_t g = 0; g < 10; g++) {
		write_page(f.vm, g, g + 1, NULL);
		mvt_ok(mv_swapfile_out(f.sf, g, &err), &err, "out");
	}
	for (mv_gppn_t g = 0; g < 10; g++)
		assert_non_null(mv_vm_access_bytes(f.vm, g, 0));
	for (mv_gppn_t g = 0; g < 4; g++)
		mvt_ok(mv_swapfile_out(f.sf, g, &err), &err, "out");
	b = (struct mv_books){0};
	mv_swapfile_books(f.sf, &b);
	assert_int_equal(mv_books_find(&b, "hypervisor", "swap.desc")->count,
			 10);
	assert_int_equal(
		mv_books_find(&b, "hypervisor", "swap.free-stack")->count, 10);
	assert_int_equal(
		mv_books_find(&b, "hypervisor", "swap.free-stack")->bytes, 40);
	/* host: each first swap-out's frame was taken again by the next
	 * page's write (depth 1), the swap-ins emptied the stack, and the 4
	 * last swap-outs left 4 on it: the deepest */
	b = (struct mv_books){0};
	mv_host_books(f.h, &b);
	assert_int_equal(f.h->node[0].nstack, 4);
	assert_int_equal(f.h->node[0].stack_hw, 4);
	assert_int_equal(
		mv_books_find(&b, "hypervisor", "host.free-stack")->count, 4);
	fx_check(&f);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_books_count_slots_to_their_high_water_marks),
		cmocka_unit_test(
			test_swap_out_then_access_gives_back_the_same_bytes),
		cmocka_unit_test(
			test_swap_in_from_a_disk_charges_the_hdd_latency),
		cmocka_unit_test(test_many_pages_swap_out_and_in_in_any_order),
		cmocka_unit_test(test_swap_file_has_no_name_and_is_sparse),
		cmocka_unit_test(
			test_disk_blocks_are_given_back_when_pages_come_back_in),
		cmocka_unit_test(
			test_a_descriptor_page_is_written_as_its_bytes_and_checked_back),
		cmocka_unit_test(test_disk_use_grows_only_with_pages_swapped),
		cmocka_unit_test(
			test_the_mkstemp_fallback_leaves_no_name_either),
		cmocka_unit_test(
			test_a_kept_swap_file_is_dir_name_vswp_and_removed_unless_kept),
		cmocka_unit_test(
			test_creating_a_kept_swap_file_twice_fails_and_names_it),
		cmocka_unit_test(test_swap_file_in_a_missing_directory_fails),
		cmocka_unit_test(
			test_write_error_leaves_the_page_resident_and_unchanged),
		cmocka_unit_test(
			test_full_disk_on_write_leaves_the_page_resident),
		cmocka_unit_test(test_injected_error_hits_only_the_nth_io),
		cmocka_unit_test(
			test_read_error_keeps_the_page_swapped_and_a_retry_works),
		cmocka_unit_test(
			test_full_swap_file_returns_enospc_and_loses_nothing),
		cmocka_unit_test(
			test_a_real_write_error_from_the_kernel_loses_nothing),
		cmocka_unit_test(
			test_a_vm_larger_than_the_disk_powers_on_and_a_full_disk_loses_nothing),
		cmocka_unit_test(
			test_only_private_unpinned_pages_can_be_swapped),
		cmocka_unit_test(test_ballooning_a_swapped_page_frees_its_slot),
		cmocka_unit_test(
			test_reclaim_without_a_cache_swaps_random_private_pages),
		cmocka_unit_test(
			test_a_run_reports_the_swap_files_real_disk_use),
		cmocka_unit_test(
			test_a_run_killed_during_power_on_leaves_nothing_in_tmpdir),
		cmocka_unit_test(
			test_vms_larger_than_the_free_disk_power_on_and_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
