/* Tests of the guest layer: content classes, the guest OS model, workloads. */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/guest.h"
#include "support/mvtest.h"

static uint64_t h(const char *s)
{
	return mv_hash(s, strlen(s));
}

static int lz4_size(const uint8_t *page)
{
	static char out[LZ4_COMPRESSBOUND(MV_PAGE_SIZE)];
	return LZ4_compress_default((const char *)page, out, MV_PAGE_SIZE,
				    (int)sizeof out);
}

static void
test_os_pages_are_identical_across_vms_and_differ_by_image(void **state)
{
	(void)state;
	static uint8_t a[MV_PAGE_SIZE], b[MV_PAGE_SIZE], c[MV_PAGE_SIZE];
	int differ = 0, zero = 0;
	for (uint64_t i = 0; i < 200; i++) {
		/* the key (VM, process) must not matter for image pages */
		mv_content_page(a, MV_CONTENT_OS, h("debian-12"), i, 1, 0);
		mv_content_page(b, MV_CONTENT_OS, h("debian-12"), i, 999, 0.9);
		mv_content_page(c, MV_CONTENT_OS, h("win2019"), i, 1, 0);
		assert_memory_equal(a, b, MV_PAGE_SIZE);
		differ += memcmp(a, c, MV_PAGE_SIZE) != 0;
		zero += mv_page_is_zero(a);
	}
	assert_true(differ >= 180);
	assert_true(zero > 4 && zero < 40); /* about 8% padding pages */
}

static void test_data_compressibility_controls_lz4_size(void **state)
{
	(void)state;
	static uint8_t p[MV_PAGE_SIZE];
	int prev = MV_PAGE_SIZE * 2;
	const double cs[] = {0.0, 0.25, 0.5, 0.75, 0.95};
	for (size_t i = 0; i < 5; i++) {
		int total = 0;
		for (uint64_t k = 0; k < 50; k++) {
			mv_content_page(p, MV_CONTENT_DATA, 0, 0, k, cs[i]);
			total += lz4_size(p);
		}
		int avg = total / 50;
		/* roughly (1 - c) of the page stays incompressible */
		double expect = (1.0 - cs[i]) * MV_PAGE_SIZE;
		assert_true(avg < prev);
		assert_true(avg > expect - 300 && avg < expect + 300);
		prev = avg;
	}
	mv_content_page(p, MV_CONTENT_RANDOM, 0, 0, 3, 0);
	assert_true(lz4_size(p) >= (int)MV_PAGE_SIZE);
	mv_content_page(p, MV_CONTENT_ZERO, 0, 0, 3, 0);
	assert_true(mv_page_is_zero(p));
}

static void test_data_pages_are_unique_per_key_and_repeatable(void **state)
{
	(void)state;
	static uint8_t a[MV_PAGE_SIZE], b[MV_PAGE_SIZE];
	mv_content_page(a, MV_CONTENT_DATA, 0, 0, 11, 0.5);
	mv_content_page(b, MV_CONTENT_DATA, 0, 0, 12, 0.5);
	assert_memory_not_equal(a, b, MV_PAGE_SIZE);
	mv_content_page(b, MV_CONTENT_DATA, 0, 0, 11, 0.5);
	assert_memory_equal(a, b, MV_PAGE_SIZE);
}

/* A VM with verification on and a guest with the given workloads. */
struct rig {
	uint64_t now;
	struct mv_host *host;
	struct mv_vm *vm;
	struct mv_guest *g;
};

static void rig_up(struct rig *r, uint64_t host_mib, uint64_t vm_mib,
		   struct mv_guest_config *gc)
{
	struct mv_error err = {0};
	r->now = 0;
	r->host = mvt_host(host_mib, 1);
	r->vm = mvt_vm(r->host, "g", vm_mib, 0);
	assert_int_equal(mv_vm_enable_verify(r->vm), 0);
	mvt_ok(mv_guest_create(r->vm, gc, 1234, &r->g, &err), &err,
	       "mv_guest_create");
}

static void rig_down(struct rig *r)
{
	mv_guest_destroy(r->g);
	mv_vm_destroy(r->vm);
	assert_int_equal(r->host->nfree, mv_host_usable_frames(r->host));
	mv_host_destroy(r->host);
}

static void rig_run(struct rig *r, uint64_t steps)
{
	for (uint64_t i = 0; i < steps; i++) {
		(void)i;
		mv_guest_run(r->g, r->now, 10 * MV_NS_PER_MS);
		r->now += 10 * MV_NS_PER_MS;
		struct mv_error err = {0};
		mvt_ok(mv_vm_check(r->vm, &err), &err, "mv_vm_check");
		mvt_ok(mv_guest_check(r->g, &err), &err, "mv_guest_check");
	}
}

static struct mv_workload_config *
add_wl(struct mv_guest_config *gc, enum mv_wl_kind k, uint64_t mib, double rate)
{
	struct mv_workload_config *w = &gc->workload[gc->nworkloads++];
	mv_workload_config_default(w);
	snprintf(w->name, sizeof w->name, "w%d", gc->nworkloads);
	w->kind = k;
	w->size_bytes = mib * MV_MIB;
	w->rate = rate;
	return w;
}

/* A process that touches 4 MiB of incompressible data and exits at
 * stop_ms, freeing its pages to the guest's free list. */
static void add_exiting(struct mv_guest_config *gc, uint64_t stop_ms)
{
	struct mv_workload_config *w = add_wl(gc, MV_WL_STEADY, 4, 200000);
	w->stop_ns = stop_ms * MV_NS_PER_MS;
	w->compressibility = 0;
}

static void test_boot_reads_the_os_image_into_page_cache(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 4 * MV_MIB;
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	assert_false(mv_guest_booted(r.g));
	rig_run(&r, 1);
	assert_true(mv_guest_booted(r.g));
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.cache_pages, 1024);
	/* one disk request per 128 KiB readahead window, each a fault */
	assert_int_equal(st.major_fault, 1024 / 32);
	assert_int_equal(st.minor_fault, 1024 / 32);
	assert_int_equal(st.readahead_pages, 1024 - 1024 / 32);
	assert_int_equal(st.free_pages, r.vm->npages - 1024);
	assert_int_equal(r.vm->npages - r.vm->count[MV_PS_UNTOUCHED], 1024);
	rig_down(&r);
}

static void test_boot_stops_when_asked_and_continues_later(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 32 * MV_MIB; /* 8192 pages: two stop checks */
	struct rig r;
	rig_up(&r, 96, 64, &gc);
	volatile sig_atomic_t stop = 1;
	mv_guest_set_stop(r.g, &stop);
	/* a stop request: the boot (first step) returns before reading */
	assert_int_equal(mv_guest_boot(r.g), MV_ECANCELED);
	rig_run(&r, 1);
	assert_false(mv_guest_booted(r.g));
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.cache_pages, 0);
	/* cleared: the next call reads the whole image */
	stop = 0;
	assert_int_equal(mv_guest_boot(r.g), 0);
	assert_true(mv_guest_booted(r.g));
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.cache_pages, 8192);
	rig_down(&r);
}

static void test_steady_workload_touches_its_set_and_no_more(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 1 * MV_MIB;
	add_wl(&gc, MV_WL_STEADY, 2, 200000);
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 100); /* 1 s: 200k accesses over 512 pages */
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.anon_pages, 512);
	/* every fault: the 512 first touches and the boot's 8 reads */
	assert_int_equal(st.minor_fault, 512 + 256 / 32);
	assert_int_equal(st.major_fault, 256 / 32);
	uint64_t dem, done;
	mv_guest_progress(r.g, &dem, &done);
	assert_true(done > 0.95 * dem);
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 512 + 256);
	rig_down(&r);
}

/*
 * Workloads whose sizes share factors with the scatter multipliers (1200
 * pages at index 1 once got 40503 mod 1200 = 903 = 3 x 301 and reached a
 * third of its set) still touch every page of their set.
 */
static void test_every_workload_touches_its_whole_set(void **state)
{
	(void)state;
	static const uint64_t pages[] = {256, 1200, 1761, 552};
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	uint64_t want = 0;
	for (int i = 0; i < 4; i++) {
		struct mv_workload_config *w = add_wl(&gc, MV_WL_STEADY, 1,
						      i == 2 ? 2e6 : 1e5);
		w->size_bytes = pages[i] * MV_PAGE_SIZE;
		w->dist = i == 2 ? MV_DIST_ZIPF : MV_DIST_UNIFORM;
		want += pages[i];
	}
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 100); /* 1 s: at least 100k accesses per set */
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.anon_pages, want);
	assert_int_equal(st.minor_fault, want);
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], want);
	rig_down(&r);
}

static void
test_guest_pressure_swaps_to_guest_swap_and_keeps_bytes(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 2 * MV_MIB;
	gc.swap_bytes = 32 * MV_MIB;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_STEADY, 24, 100000);
	w->write_ratio = 0.5;
	struct rig r;
	rig_up(&r, 64, 16, &gc); /* 24 MiB of data in a 16 MiB guest */
	rig_run(&r, 300);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_true(st.swap_out > 1000);
	assert_true(st.swap_in > 100);
	assert_int_equal(st.cache_pages < 512, 1); /* cache dropped first */
	assert_int_equal(st.oom_kills, 0);
	/* the VM never holds more pages than it has */
	assert_true(r.vm->count[MV_PS_PRIVATE] <= r.vm->npages);
	rig_down(&r);
}

/*
 * Generated pages stay descriptors: first touch, writes (new versions),
 * guest swap out and back in. The guest's swap device stores them as
 * descriptors, so not one page of its byte area is resident.
 */
static void
test_generated_pages_stay_descriptors_through_guest_swap(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 2 * MV_MIB;
	gc.swap_bytes = 32 * MV_MIB;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_STEADY, 24, 100000);
	w->write_ratio = 0.5;
	w->content = MV_CONTENT_DATA;
	struct rig r;
	rig_up(&r, 64, 16, &gc);
	rig_run(&r, 300);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_true(st.swap_out > 1000 && st.swap_in > 100);
	uint64_t desc = 0, in_swap = 0;
	for (mv_gppn_t p = 0; p < r.vm->npages; p++)
		if (r.vm->pmap[p].state == MV_PS_PRIVATE)
			desc += mv_desc_class(mv_vm_page_desc(r.vm, p)) ==
				MV_DESC_DATA;
	assert_true(desc > r.vm->npages / 2);
	const struct gproc *pr = &r.g->proc[0];
	for (uint64_t v = 0; v < pr->nvpages; v++)
		if (pr->pte[v] & PTE_SWAP) {
			in_swap++;
			assert_int_equal(
				mv_desc_class(
					r.g->swap_desc[pr->pte[v] & ~PTE_SWAP]),
				MV_DESC_DATA);
		}
	assert_true(in_swap > 1000);
	/* the swap device's bytes were never written */
	size_t n = r.g->swap_slots;
	unsigned char *vec = malloc(n);
	assert_int_equal(mincore(r.g->swap, n * MV_PAGE_SIZE, vec), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(vec[i] & 1, 0);
	free(vec);
	rig_down(&r);
}

static void test_guest_without_swap_counts_oom(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.swap_bytes = 0;
	add_wl(&gc, MV_WL_STEADY, 24, 100000);
	struct rig r;
	rig_up(&r, 64, 16, &gc);
	rig_run(&r, 20);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_true(st.oom_kills > 0);
	assert_int_equal(st.free_pages, 0);
	rig_down(&r);
}

static void test_windows_zeroes_freed_pages_linux_does_not(void **state)
{
	(void)state;
	for (int flav = 0; flav < 2; flav++) {
		struct mv_guest_config gc;
		mv_guest_config_default(&gc);
		gc.flavour = flav ? MV_GUEST_WINDOWS : MV_GUEST_LINUX;
		gc.os_bytes = 0;
		/* a process that exits after 300 ms, freeing 4 MiB */
		add_exiting(&gc, 300);
		struct rig r;
		rig_up(&r, 64, 32, &gc);
		rig_run(&r, 100);
		struct mv_guest_stats st;
		mv_guest_stats(r.g, &st);
		assert_int_equal(st.anon_pages, 0);
		/* the hypervisor still backs the freed pages either way; the
		 * windows guest has cleared them, and, its zero page thread
		 * clearing the whole free list from boot on, every other page
		 * too (why ESX sees Windows VMs touch all memory at boot) */
		uint64_t zero = 0;
		uint8_t buf[MV_PAGE_SIZE];
		for (mv_gppn_t p = 0; p < r.vm->npages; p++)
			if (r.vm->pmap[p].state == MV_PS_PRIVATE)
				zero += mv_page_is_zero(mv_host_frame_read(
					r.host, r.vm->pmap[p].mpn, buf));
		uint64_t touched = flav ? r.vm->npages : 1024;
		assert_int_equal(r.vm->count[MV_PS_PRIVATE], touched);
		assert_int_equal(zero, flav ? touched : 0);
		rig_down(&r);
	}
}

/*
 * Windows' zero page thread runs only in the VM's idle time: a workload
 * that keeps the CPU busy (cpu 1) stops it, cpu 0.5 halves its rate, and
 * the pages freed meanwhile wait on the free list with their contents
 * until the VM is idle again (the spike of the paper's figure 6).
 */
static void test_zero_page_thread_runs_in_idle_time(void **state)
{
	(void)state;
	const double cpu[] = {0, 0.5, 1};
	for (int k = 0; k < 3; k++) {
		struct mv_guest_config gc;
		mv_guest_config_default(&gc);
		gc.flavour = MV_GUEST_WINDOWS;
		gc.os_bytes = 0;
		/* a spinner from 500 ms (the boot's clearing is done by
		 * then) to 1.5 s, and a process that exits at 800 ms */
		struct mv_workload_config *spin = add_wl(&gc, MV_WL_STEADY, 1,
							 1000);
		spin->cpu = cpu[k];
		spin->start_ns = 500 * MV_NS_PER_MS;
		spin->stop_ns = 1500 * MV_NS_PER_MS;
		add_exiting(&gc, 800);
		struct rig r;
		rig_up(&r, 64, 32, &gc);
		rig_run(&r, 50);
		assert_int_equal(r.g->nfree, 0); /* all cleared at boot */
		rig_run(&r, 31);                 /* to 810 ms */
		uint64_t a = r.g->nfree;
		rig_run(&r, 2);
		uint64_t b = r.g->nfree;
		/* 25600 pages/s: 256 per 10 ms step at the full rate */
		uint64_t want = cpu[k] == 0   ? (a < 512 ? a : 512)
				: cpu[k] == 1 ? 0
					      : 256;
		assert_int_equal(a - b, want);
		if (cpu[k] == 1) {
			/* the freed pages kept their bytes until the spinner
			 * exits; then they are all cleared */
			assert_true(a >= 1024);
			uint8_t buf[MV_PAGE_SIZE];
			mv_gppn_t p = r.g->free[r.g->nfree - 1];
			assert_int_equal(r.vm->pmap[p].state, MV_PS_PRIVATE);
			assert_false(mv_page_is_zero(mv_host_frame_read(
				r.host, r.vm->pmap[p].mpn, buf)));
			rig_run(&r, 66); /* to 1.5 s: still spinning */
			assert_int_equal(r.g->nfree, b);
			rig_run(&r, 10);
			assert_int_equal(r.g->nfree, 0);
			assert_true(mv_page_is_zero(mv_host_frame_read(
				r.host, r.vm->pmap[p].mpn, buf)));
		}
		rig_down(&r);
	}
}

static void test_idle_workload_populates_then_rests(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	add_wl(&gc, MV_WL_IDLE, 8, 10);
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 3);
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 2048);
	mv_vm_close_window(r.vm);
	rig_run(&r, 100);
	mv_vm_close_window(r.vm);
	assert_true(r.vm->active_true <= 12); /* 10 accesses/s for 1 s */
	rig_down(&r);
}

static void test_leak_grows_and_stops_at_its_maximum(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_LEAK, 1, 1000);
	w->leak_bytes_per_s = 4 * MV_MIB; /* 1024 pages/s */
	w->leak_max_bytes = 6 * MV_MIB;
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 100);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_true(st.anon_pages >= 256 + 1000 && st.anon_pages <= 256 + 1030);
	rig_run(&r, 200);
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.anon_pages, 256 + 1536);
	rig_down(&r);
}

static void test_phased_working_set_moves(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_PHASED, 2, 100000);
	w->phase_ns = 500 * MV_NS_PER_MS;
	w->region_bytes = 8 * MV_MIB;
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 50);
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 512);
	mv_vm_close_window(r.vm);
	rig_run(&r, 50); /* second phase: a new set; the old one is freed
			  * and its guest-physical pages reused (LIFO) */
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 512);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.anon_pages, 512);
	mv_vm_close_window(r.vm);
	assert_true(r.vm->active_true >= 500);
	/* the new set's contents differ from the old one's: page 0 of the
	 * process now holds vpn 512's data */
	assert_int_equal(st.minor_fault, 1024);
	rig_down(&r);
}

static void test_stall_slows_the_guest_down(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.os_rate = 0;
	add_wl(&gc, MV_WL_STEADY, 1, 10000);
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	r.vm->stall_pending_ns = 25 * MV_NS_PER_MS; /* 2.5 steps of stall */
	rig_run(&r, 10);
	uint64_t dem, done;
	mv_guest_progress(r.g, &dem, &done);
	assert_int_equal(dem, 1000);
	assert_true(done < 0.8 * dem);
	rig_down(&r);
}

static void test_balloon_takes_free_pages_first_and_frees_frames(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_IDLE, 4, 10);
	w->stop_ns = 100 * MV_NS_PER_MS; /* exits: 4 MiB freed, still backed */
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 20);
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 1024);
	uint64_t free0 = r.host->nfree;
	mv_guest_balloon_set_target(r.g, 1024);
	rig_run(&r, 1);
	assert_int_equal(mv_guest_balloon_size(r.g), 1024);
	/* the guest gave its (LIFO) free pages: the ones the exited process
	 * used, so the hypervisor got every frame back */
	assert_int_equal(r.vm->count[MV_PS_BALLOONED], 1024);
	assert_int_equal(r.host->nfree, free0 + 1024);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.balloon_pages, 1024);
	assert_int_equal(st.available_pages, r.vm->npages - 1024);
	assert_int_equal(st.swap_out, 0);
	/* deflate: pages go back to the guest, not to the hypervisor */
	mv_guest_balloon_set_target(r.g, 0);
	rig_run(&r, 1);
	assert_int_equal(mv_guest_balloon_size(r.g), 0);
	assert_int_equal(r.vm->count[MV_PS_BALLOONED], 1024);
	assert_int_equal(r.host->nfree, free0 + 1024);
	rig_down(&r);
}

/*
 * <mv:guest boot-freed>: pages the boot wrote and freed are backed but
 * handed out after everything else, as Linux's boot memory (to the tail,
 * FPI_TO_TAIL) and its unmovable pageblocks (a movable allocation's
 * fallback) are: the balloon takes what a process freed first (frames
 * back), then never-used pages (no frame back), the boot's pages last.
 */
static void test_balloon_takes_boot_freed_pages_last(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
	gc.boot_freed_bytes = 4 << 20;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_IDLE, 4, 10);
	w->stop_ns = 100 * MV_NS_PER_MS; /* exits: 4 MiB freed, still backed */
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 20);
	uint64_t n = r.vm->npages;
	/* the boot's 4 MiB and the process's 4 MiB, both free and backed */
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 2048);
	for (uint64_t p = n - 1024; p < n; p++)
		assert_int_equal(r.g->kind[p] & ~GREF, GK_FREE);
	uint64_t free0 = r.host->nfree;
	mv_guest_balloon_set_target(r.g, 1024);
	rig_run(&r, 1);
	assert_int_equal(r.host->nfree, free0 + 1024); /* the process's */
	/* every never-used page next: no frame back */
	uint64_t never = n - 2048;
	mv_guest_balloon_set_target(r.g, 1024 + never);
	rig_run(&r, 1);
	assert_int_equal(mv_guest_balloon_size(r.g), 1024 + never);
	assert_int_equal(r.host->nfree, free0 + 1024);
	assert_int_equal(r.vm->count[MV_PS_PRIVATE], 1024);
	/* then the boot's, highest first */
	mv_guest_balloon_set_target(r.g, 1024 + never + 16);
	rig_run(&r, 1);
	assert_int_equal(r.host->nfree, free0 + 1024 + 16);
	assert_int_equal(r.g->balloon[1024 + never], n - 1024);
	rig_down(&r);
}

/* The free list hands out never-used pages lowest first and freed ones
 * LIFO before them, as a list that started full did; its sparse arrays
 * count their high-water marks. */
static void test_free_list_order_and_high_water_marks(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	mv_guest_balloon_set_target(r.g, 3);
	rig_run(&r, 1);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(r.g->balloon[i], i); /* fresh, lowest first */
	mv_guest_balloon_set_target(r.g, 1);
	rig_run(&r, 1); /* frees 2, then 1: 1 on top */
	mv_gppn_t p;
	const mv_gppn_t want[] = {1, 2, 3, 4};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mv_guest_alloc_page(r.g, &p), 0);
		assert_int_equal(p, want[i]);
	}
	assert_int_equal(r.g->nfree, r.g->npages - 5);
	struct mv_books b = {0};
	mv_guest_books(r.g, &b);
	assert_int_equal(mv_books_find(&b, "guest", "guest.free")->count, 2);
	assert_int_equal(mv_books_find(&b, "guest", "guest.balloon")->count, 3);
	assert_int_equal(mv_books_find(&b, "guest", "guest.zeroed")->count, 0);
	rig_down(&r);
}

/* gpage keeps a page's index in 28 bits: a process of more pages is
 * refused at creation, with the reason. */
static void test_a_process_over_2_28_pages_is_refused(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_LEAK, 4, 10);
	w->leak_max_bytes = 1ull << 41; /* 2^29 pages */
	struct mv_host *host = mvt_host(64, 1);
	struct mv_vm *vm = mvt_vm(host, "g", 32, 0);
	struct mv_guest *g = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_guest_create(vm, &gc, 1, &g, &err), MV_EINVAL);
	assert_null(g);
	assert_non_null(strstr(err.msg, "1 TiB"));
	w->leak_max_bytes = (1ull << 40) - 4 * MV_MIB; /* exactly 2^28 */
	mvt_ok(mv_guest_create(vm, &gc, 1, &g, &err), &err, "guest");
	mv_guest_destroy(g);
	mv_vm_destroy(vm);
	mv_host_destroy(host);
}

/* Inflate the balloon over the whole guest (dropping its cache, swapping
 * its process out), then deflate it: every page free again. */
static void balloon_through(struct rig *r)
{
	mv_guest_balloon_set_target(r->g, r->vm->npages);
	rig_run(r, 2);
	assert_int_equal(mv_guest_balloon_size(r->g), r->vm->npages);
	mv_guest_balloon_set_target(r->g, 0);
	rig_run(r, 2);
	assert_int_equal(mv_guest_balloon_size(r->g), 0);
}

static void test_a_page_cache_miss_reads_around_it_in_one_fault(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 4 * MV_MIB;
	gc.os_rate = 0; /* only the touch below reads the image */
	gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 1);
	balloon_through(&r);
	struct mv_guest_stats a, b;
	mv_guest_stats(r.g, &a);
	assert_int_equal(a.cache_pages, 0);
	/* a random miss at page 100: read-around, 16 pages before it */
	assert_int_equal(guest_os_touch(r.g, 100, 0), 0);
	mv_guest_stats(r.g, &b);
	assert_int_equal(b.major_fault - a.major_fault, 1);
	assert_int_equal(b.minor_fault - a.minor_fault, 1);
	assert_int_equal(b.cache_pages, 32);
	assert_int_equal(b.readahead_pages - a.readahead_pages, 31);
	for (uint64_t i = 0; i < 1024; i++)
		assert_int_equal(r.g->cache[i] != 0, i >= 84 && i < 116);
	/* a hit in the window: no fault */
	assert_int_equal(guest_os_touch(r.g, 115, 0), 0);
	mv_guest_stats(r.g, &a);
	assert_int_equal(a.major_fault, b.major_fault);
	/* near the start the window is clipped at page 0 */
	assert_int_equal(guest_os_touch(r.g, 3, 0), 0);
	mv_guest_stats(r.g, &b);
	assert_int_equal(b.major_fault - a.major_fault, 1);
	assert_int_equal(b.cache_pages, 64);
	rig_down(&r);
}

static void test_a_swap_in_brings_its_cluster_in_one_fault(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.swap_bytes = 32 * MV_MIB;
	gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_IDLE, 8, 0.001);
	w->content = MV_CONTENT_DATA;
	struct rig r;
	rig_up(&r, 64, 32, &gc);
	rig_run(&r, 5);
	balloon_through(&r);
	const struct gproc *pr = &r.g->proc[0];
	for (uint64_t v = 0; v < 16; v++)
		assert_true(pr->pte[v] & PTE_SWAP);
	struct mv_guest_stats a, b;
	mv_guest_stats(r.g, &a);
	/* page 13: its aligned cluster 8..15 comes in with one request */
	assert_int_equal(guest_touch(r.g, &r.g->work[0], 13, 0, 0), 0);
	mv_guest_stats(r.g, &b);
	assert_int_equal(b.major_fault - a.major_fault, 1);
	assert_int_equal(b.minor_fault - a.minor_fault, 1);
	assert_int_equal(b.swap_in - a.swap_in, 8);
	assert_int_equal(b.readahead_pages - a.readahead_pages, 7);
	for (uint64_t v = 0; v < 16; v++)
		assert_int_equal(!(pr->pte[v] & PTE_SWAP), v >= 8);
	/* their bytes came back: the pages are the workload's data */
	for (uint64_t v = 8; v < 16; v++)
		assert_int_equal(
			mv_desc_class(mv_vm_page_desc(r.vm, pr->pte[v] - 1)),
			MV_DESC_DATA);
	/* touching a page read ahead is no fault at all */
	assert_int_equal(guest_touch(r.g, &r.g->work[0], 9, 0, 0), 0);
	mv_guest_stats(r.g, &a);
	assert_int_equal(a.minor_fault, b.minor_fault);
	struct mv_error err = {0};
	mvt_ok(mv_guest_check(r.g, &err), &err, "mv_guest_check");
	rig_down(&r);
}

/*
 * guest_write_again (the interval model's writes at an observation, made
 * together) leaves the page, the workload's generator and the counters
 * as the same number of guest_touch writes do; where a write would do
 * more than version a generated page (a zero page, content="zero"), it
 * makes none.
 */
static void
test_writes_made_together_are_the_writes_made_one_by_one(void **state)
{
	(void)state;
	struct rig r[2];
	for (int k = 0; k < 2; k++) {
		struct mv_guest_config gc;
		mv_guest_config_default(&gc);
		gc.os_bytes = 0;
		add_wl(&gc, MV_WL_IDLE, 4, 0.001)->content = MV_CONTENT_DATA;
		add_wl(&gc, MV_WL_IDLE, 4, 0.001)->content = MV_CONTENT_ZERO;
		rig_up(&r[k], 64, 32, &gc);
		rig_run(&r[k], 5);
	}
	const uint64_t vpn = 7, n = 300;
	for (int k = 0; k < 2; k++) {
		struct gwork *w = &r[k].g->work[0];
		assert_int_equal(guest_touch(r[k].g, w, vpn, 1, 0), 0);
		if (k == 0)
			for (uint64_t i = 0; i < n; i++)
				assert_int_equal(
					guest_touch(r[k].g, w, vpn, 1, 0), 0);
		else
			assert_int_equal(guest_write_again(r[k].g, w, vpn, n),
					 n);
	}
	mv_gppn_t p[2];
	for (int k = 0; k < 2; k++)
		p[k] = r[k].g->proc[r[k].g->work[0].proc].pte[vpn] - 1;
	mv_desc_t d = mv_vm_page_desc(r[0].vm, p[0]);
	assert_int_equal(mv_desc_class(d), MV_DESC_DATA);
	assert_int_equal(mv_vm_page_desc(r[1].vm, p[1]), d);
	assert_memory_equal(&r[0].g->work[0].rng, &r[1].g->work[0].rng,
			    sizeof(struct mv_rng));
	assert_int_equal(r[0].vm->ctr.writes, r[1].vm->ctr.writes);
	assert_int_equal(r[0].vm->pmap[p[0]].flags, r[1].vm->pmap[p[1]].flags);
	for (int k = 0; k < 2; k++) {
		struct mv_error err = {0};
		mvt_ok(mv_vm_check(r[k].vm, &err), &err, "mv_vm_check");
	}
	/* zeros written to a zero page: not a version, made one by one */
	struct gwork *z = &r[1].g->work[1];
	assert_int_equal(guest_touch(r[1].g, z, vpn, 1, 0), 0);
	assert_int_equal(guest_write_again(r[1].g, z, vpn, n), 0);
	/* a page of bytes (a write replaces a word): none either */
	assert_int_equal(guest_touch(r[1].g, &r[1].g->work[0], 9, 1, 0), 0);
	mv_vm_page_bytes(r[1].vm,
			 r[1].g->proc[r[1].g->work[0].proc].pte[9] - 1);
	assert_int_equal(guest_write_again(r[1].g, &r[1].g->work[0], 9, n), 0);
	for (int k = 0; k < 2; k++)
		rig_down(&r[k]);
}

/*
 * The kernel's boot-time structures are sized to <memory>: a VM booted
 * with 64 MiB and ballooned to 32 has 64 MiB's worth (struct page: 64
 * bytes a page, 256 pages; the dentry and inode hashes, 8 bytes per 8
 * and per 16 KiB: 16 + 8 pages), wired, taken before the balloon and the
 * OS image; the balloon never takes them. Windows' PFN database has 48
 * bytes an entry and no such hashes.
 */
static void test_boot_structures_are_sized_to_configured_memory(void **state)
{
	(void)state;
	struct mv_error err = {0};
	struct mv_host *h = mvt_host(128, 1);
	for (int win = 0; win < 2; win++) {
		struct mv_guest_config gc;
		mv_guest_config_default(&gc);
		gc.boot_structures = 1;
		gc.flavour = win ? MV_GUEST_WINDOWS : MV_GUEST_LINUX;
		gc.os_bytes = 4 * MV_MIB;
		gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
		struct mv_vm_config vc;
		mv_vm_config_default(&vc, "k", 64 * MV_MIB);
		vc.current_bytes = 32 * MV_MIB;
		struct mv_vm *vm;
		mvt_ok(mv_vm_create(h, &vc, 0, &vm, &err), &err, "vm");
		struct mv_guest *g;
		mvt_ok(mv_guest_create(vm, &gc, 1, &g, &err), &err, "guest");
		mv_guest_run(g, 0, 10 * MV_NS_PER_MS);
		assert_true(mv_guest_booted(g));
		struct mv_guest_stats st;
		mv_guest_stats(g, &st);
		uint64_t want = win ? 16384 * 48 / 4096 : 256 + 16 + 8;
		assert_int_equal(st.kernel_pages, want);
		assert_int_equal(st.balloon_pages, 8192);
		assert_int_equal(st.cache_pages, 1024);
		assert_int_equal(st.free_pages, 16384 - 8192 - 1024 - want);
		/* MemTotal: Linux's memblock kept them out of totalram */
		assert_int_equal(st.available_pages,
				 16384 - 8192 - (win ? 0 : want));
		/* the lowest pages, backed by the host: written at boot */
		for (mv_gppn_t p = 0; p < want; p++)
			assert_int_not_equal(vm->pmap[p].state,
					     MV_PS_UNTOUCHED);
		/* the balloon takes everything else, never them */
		mv_guest_balloon_set_target(g, 16384);
		mv_guest_run(g, 10 * MV_NS_PER_MS, 10 * MV_NS_PER_MS);
		mv_guest_stats(g, &st);
		assert_int_equal(st.kernel_pages, want);
		assert_int_equal(st.balloon_pages, 16384 - want);
		mvt_ok(mv_guest_check(g, &err), &err, "check");
		mv_guest_destroy(g);
		mv_vm_destroy(vm);
	}
	/*
	 * Configured at 32 MiB: half the struct pages and hashes. The 64 MiB
	 * VM ballooned to 32 has exactly the difference less left for
	 * programs than this one (the paper's figure 2 overhead): 140 pages
	 * fewer free, the same image cached, the same memory not ballooned.
	 */
	struct mv_guest_stats st[2];
	for (int ballooned = 0; ballooned < 2; ballooned++) {
		struct mv_guest_config gc;
		mv_guest_config_default(&gc);
		gc.boot_structures = 1;
		gc.os_bytes = 4 * MV_MIB;
		gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
		struct mv_vm_config vc;
		mv_vm_config_default(&vc, "c", (ballooned ? 64 : 32) * MV_MIB);
		vc.current_bytes = 32 * MV_MIB;
		struct mv_vm *vm;
		mvt_ok(mv_vm_create(h, &vc, 0, &vm, &err), &err, "vm");
		struct mv_guest *g;
		mvt_ok(mv_guest_create(vm, &gc, 1, &g, &err), &err, "guest");
		mv_guest_run(g, 0, 10 * MV_NS_PER_MS);
		assert_true(mv_guest_booted(g));
		mv_guest_stats(g, &st[ballooned]);
		mv_guest_destroy(g);
		mv_vm_destroy(vm);
	}
	assert_int_equal(st[0].kernel_pages, 128 + 8 + 4);
	assert_int_equal(st[1].kernel_pages, 256 + 16 + 8);
	assert_int_equal(st[0].balloon_pages, 0);
	assert_int_equal(st[1].balloon_pages, 8192);
	assert_int_equal(st[0].cache_pages, st[1].cache_pages);
	assert_int_equal(st[0].free_pages - st[1].free_pages, 140);
	mv_host_destroy(h);
}

static void test_balloon_makes_the_guest_drop_cache_then_swap(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 4 * MV_MIB;
	gc.swap_bytes = 32 * MV_MIB;
	gc.balloon_rate = gc.balloon_reclaim_rate = 1e9;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_IDLE, 24, 10);
	w->content = MV_CONTENT_DATA;
	struct rig r;
	rig_up(&r, 64, 32, &gc); /* 4 MiB cache + 24 MiB anon in 32 MiB */
	rig_run(&r, 5);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.cache_pages, 1024);
	assert_int_equal(st.anon_pages, 6144);
	/* ask for 8 MiB: 1 MiB free, then the cache, then guest swap */
	mv_guest_balloon_set_target(r.g, 2048);
	rig_run(&r, 1);
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.balloon_pages, 2048);
	assert_int_equal(st.free_pages, 0);
	assert_int_equal(st.cache_pages, 0);
	assert_int_equal(st.swap_out, 2048 - 1024 - 1024);
	rig_down(&r);
}

/*
 * vmmemctl's pace: free pages go at balloon-rate, pages the guest must
 * reclaim at balloon-reclaim-rate (here 1000 pages/s: 10 per 10 ms step),
 * and when the guest has nothing left to give that pace halves.
 */
static void test_balloon_slows_down_when_the_guest_must_reclaim(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 4 * MV_MIB;
	gc.swap_bytes = 8 * MV_MIB;
	gc.balloon_rate = 1e9;
	gc.balloon_reclaim_rate = 1000;
	struct mv_workload_config *w = add_wl(&gc, MV_WL_IDLE, 24, 10);
	w->content = MV_CONTENT_DATA;
	struct rig r;
	rig_up(&r, 64, 32, &gc); /* 4 MiB cache + 24 MiB anon in 32 MiB */
	rig_run(&r, 5);
	struct mv_guest_stats st;
	mv_guest_stats(r.g, &st);
	assert_int_equal(st.free_pages, 1024);
	mv_guest_balloon_set_target(r.g, 8192);
	rig_run(&r, 1); /* the 1024 free pages at once, then 10 reclaimed */
	assert_int_equal(mv_guest_balloon_size(r.g), 1024 + 10);
	rig_run(&r, 10); /* at most 10 a step (fewer: swapping stalls it) */
	uint64_t n = mv_guest_balloon_size(r.g);
	assert_true(n <= 1024 + 110 && n >= 1024 + 60);
	/* cache (1024 - 110 left) and 8 MiB of swap (2048 pages) give out
	 * at 1024 + 1024 + 2048 = 4096: then the pace halves */
	rig_run(&r, 400);
	assert_int_equal(mv_guest_balloon_size(r.g), 4096);
	assert_true(r.g->balloon_rate_alloc == 512);
	rig_down(&r);
}

static void
test_balloon_inflates_at_its_rate_and_starts_from_current_memory(void **state)
{
	(void)state;
	struct mv_guest_config gc;
	mv_guest_config_default(&gc);
	gc.os_bytes = 0;
	gc.balloon_rate = 10000; /* pages/s: 100 per 10 ms step */
	struct mv_error err = {0};
	struct mv_host *h = mvt_host(64, 1);
	struct mv_vm_config vc;
	mv_vm_config_default(&vc, "b", 32 * MV_MIB);
	vc.current_bytes = 24 * MV_MIB; /* libvirt currentMemory */
	struct mv_vm *vm;
	mvt_ok(mv_vm_create(h, &vc, 0, &vm, &err), &err, "vm");
	struct mv_guest *g;
	mvt_ok(mv_guest_create(vm, &gc, 1, &g, &err), &err, "guest");
	assert_int_equal(mv_guest_balloon_target(g), 2048);
	mv_guest_run(g, 0, 10 * MV_NS_PER_MS); /* boot claims it at once */
	assert_int_equal(mv_guest_balloon_size(g), 2048);
	mv_guest_balloon_set_target(g, 2048 + 250);
	mv_guest_run(g, 10 * MV_NS_PER_MS, 10 * MV_NS_PER_MS);
	assert_int_equal(mv_guest_balloon_size(g), 2148);
	mv_guest_run(g, 20 * MV_NS_PER_MS, 10 * MV_NS_PER_MS);
	mv_guest_run(g, 30 * MV_NS_PER_MS, 10 * MV_NS_PER_MS);
	assert_int_equal(mv_guest_balloon_size(g), 2298);
	mvt_ok(mv_guest_check(g, &err), &err, "check");
	/* no driver: the target is ignored */
	mv_guest_destroy(g);
	mv_vm_destroy(vm);
	vc.balloon_driver = 0;
	mvt_ok(mv_vm_create(h, &vc, 0, &vm, &err), &err, "vm");
	mvt_ok(mv_guest_create(vm, &gc, 1, &g, &err), &err, "guest");
	mv_guest_balloon_set_target(g, 100);
	mv_guest_run(g, 0, 10 * MV_NS_PER_MS);
	mv_guest_run(g, 10 * MV_NS_PER_MS, 10 * MV_NS_PER_MS);
	assert_int_equal(mv_guest_balloon_size(g), 0);
	mv_guest_destroy(g);
	mv_vm_destroy(vm);
	mv_host_destroy(h);
}

/* A packed per-page array (struct gnum) holds every value it may be
 * given, 3 bytes an element below 2^24 and 4 from there, and writing an
 * element leaves its neighbours, the last one's included, as they were. */
static void test_packed_page_numbers_keep_their_neighbours(void **state)
{
	(void)state;
	const uint64_t max[] = {(1u << 24) - 1, 1u << 24, UINT32_MAX};
	const uint32_t width[] = {3, 4, 4};
	enum { N = 1000 };
	static uint32_t ref[N];
	for (int c = 0; c < 3; c++) {
		struct gnum a = {0};
		memset(ref, 0, sizeof ref);
		assert_int_equal(gnum_alloc(&a, N, max[c]), 0);
		assert_int_equal(a.w, width[c]);
		for (uint64_t i = 0; i < N; i++)
			assert_int_equal(gnum_get(&a, i), 0);
		struct mv_rng rng;
		mv_rng_seed(&rng, 7 + (uint64_t)c);
		for (int k = 0; k < 20000; k++) {
			uint64_t i = mv_rng_next(&rng) % N;
			uint32_t v = k % 3 ? (uint32_t)(mv_rng_next(&rng) %
							(max[c] + 1))
					   : (uint32_t)max[c];
			if (k % 7 == 0)
				i = N - 1; /* the last, beside the pad byte */
			gnum_set(&a, i, v);
			ref[i] = v;
		}
		for (uint64_t i = 0; i < N; i++)
			assert_int_equal(gnum_get(&a, i), ref[i]);
		gnum_free(&a);
		assert_null(a.b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_packed_page_numbers_keep_their_neighbours),
		cmocka_unit_test(
			test_os_pages_are_identical_across_vms_and_differ_by_image),
		cmocka_unit_test(test_data_compressibility_controls_lz4_size),
		cmocka_unit_test(
			test_data_pages_are_unique_per_key_and_repeatable),
		cmocka_unit_test(test_boot_reads_the_os_image_into_page_cache),
		cmocka_unit_test(
			test_boot_stops_when_asked_and_continues_later),
		cmocka_unit_test(
			test_steady_workload_touches_its_set_and_no_more),
		cmocka_unit_test(test_every_workload_touches_its_whole_set),
		cmocka_unit_test(
			test_guest_pressure_swaps_to_guest_swap_and_keeps_bytes),
		cmocka_unit_test(
			test_generated_pages_stay_descriptors_through_guest_swap),
		cmocka_unit_test(test_guest_without_swap_counts_oom),
		cmocka_unit_test(
			test_windows_zeroes_freed_pages_linux_does_not),
		cmocka_unit_test(test_zero_page_thread_runs_in_idle_time),
		cmocka_unit_test(test_idle_workload_populates_then_rests),
		cmocka_unit_test(test_leak_grows_and_stops_at_its_maximum),
		cmocka_unit_test(test_phased_working_set_moves),
		cmocka_unit_test(test_stall_slows_the_guest_down),
		cmocka_unit_test(test_free_list_order_and_high_water_marks),
		cmocka_unit_test(test_a_process_over_2_28_pages_is_refused),
		cmocka_unit_test(
			test_balloon_takes_free_pages_first_and_frees_frames),
		cmocka_unit_test(test_balloon_takes_boot_freed_pages_last),
		cmocka_unit_test(
			test_balloon_makes_the_guest_drop_cache_then_swap),
		cmocka_unit_test(
			test_a_page_cache_miss_reads_around_it_in_one_fault),
		cmocka_unit_test(
			test_a_swap_in_brings_its_cluster_in_one_fault),
		cmocka_unit_test(
			test_writes_made_together_are_the_writes_made_one_by_one),
		cmocka_unit_test(
			test_boot_structures_are_sized_to_configured_memory),
		cmocka_unit_test(
			test_balloon_slows_down_when_the_guest_must_reclaim),
		cmocka_unit_test(
			test_balloon_inflates_at_its_rate_and_starts_from_current_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
