/*
 * mv_sim_books: the simulator's metadata by structure, checked against
 * sizes worked out by hand for a small scenario (two 16 MiB VMs on a
 * 64 MiB, two-node host). When a structure changes size or count, its
 * line here changes with it, on purpose: the figures make bench-scale
 * prints must be the real ones.
 */
#include "support/mvtest.h"

static const char *xml =
	"<scenario name='books' seed='3' duration='2s' step='10ms'"
	"  stats-interval='1s'>"
	" <host><memory unit='MiB'>64</memory><numa nodes='2'/>"
	"  <compression cache='25%'/></host>"
	" <vm count='2'><domain type='kvm'><name>vm</name>"
	"  <memory unit='MiB'>16</memory>"
	"  <memtune><min_guarantee unit='MiB'>4</min_guarantee></memtune>"
	"  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
	"   <mv:guest os='linux' image='debian-12' image-size='2MiB'"
	"    swap='8MiB'/>"
	"  </mv:memvisor></metadata></domain>"
	"  <workload kind='steady' size='4MiB' rate='5k'/></vm>"
	"</scenario>";

static void expect(const struct mv_books *b, const char *group,
		   const char *name, uint64_t elem, uint64_t count)
{
	const struct mv_books_item *it = mv_books_find(b, group, name);
	if (!it)
		fail_msg("no %s %s in the books", group, name);
	if (it->elem != elem || it->count != count || it->bytes != elem * count)
		fail_msg("%s: %llu x %llu = %llu B, expected %llu x %llu", name,
			 (unsigned long long)it->elem,
			 (unsigned long long)it->count,
			 (unsigned long long)it->bytes,
			 (unsigned long long)elem, (unsigned long long)count);
}

/*
 * Host: 16384 frames + the zero frame, two nodes of 8192. Each VM: 4096
 * pages; swap file 4096 - 1024 reserved = 3072 slots (12 extents of 256;
 * its bitmaps and extent counters are dense, its per-slot arrays sparse);
 * compression cache 25% = 1024 frames, 2048 half-page slots, all sparse
 * (none used: nothing is compressed); guest OS
 * image 512 pages, guest swap 2048 slots, one process of 1024 pages.
 * Sharing table: it grows with use, from 1024 entries, doubling when live
 * and dead entries pass 3/4 of it until the live ones are at most half:
 * the 2 s run's scan leaves its live entries (hints and sharing frames)
 * between a quarter and 3/4 of 4096 entries.
 */
static void test_books_match_hand_computed_sizes(void **state)
{
	(void)state;
	struct mv_sim *s = mvt_sim(xml, "books.xml", 1);
	mvt_sim_run(s);
	struct mv_books b;
	mv_sim_books(s, &b);
	assert_int_equal(b.dropped, 0);
	assert_int_equal(b.guest_pages, 8192);
	assert_int_equal(b.host_frames, 16385);

	/* refcount and flags in one 3-byte word; no count passes 2^20 - 1 */
	expect(&b, "hypervisor", "host.frame", 3, 16385);
	expect(&b, "hypervisor", "host.refs-over", 16, 0);
	expect(&b, "hypervisor", "host.fdesc", 8, 16385);
	/* sparse arrays (core.h): their high-water marks. The free stacks:
	 * the deepest each node's was; nothing is swapped or compressed in
	 * this run (64 MiB for 32 MiB of guests), so the swap files' and
	 * compression caches' per-slot arrays count nothing */
	expect(&b, "hypervisor", "host.free-stack", 4,
	       s->host->node[0].stack_hw + s->host->node[1].stack_hw);
	uint64_t stack_hw = s->host->node[0].stack_hw +
			    s->host->node[1].stack_hw;
	assert_true(stack_hw >=
			    s->host->node[0].nstack + s->host->node[1].nstack &&
		    stack_hw > 0 && stack_hw <= 16384);
	expect(&b, "hypervisor", "share.table", 12, 4096);
	struct mv_share_stats sh;
	mv_sim_share_stats(s, &sh);
	uint64_t live = sh.pages_shared + sh.pages_unshared;
	assert_true(live > 4096 / 4 && live <= 4096 * 3 / 4);
	expect(&b, "hypervisor", "share.vms", 8, 8);
	expect(&b, "hypervisor", "share.vm-base", 4, 8);
	expect(&b, "hypervisor", "share.vm-salt", 4, 8);
	/* no salt group other than 0: no per-frame salts */
	assert_null(mv_books_find(&b, "hypervisor", "share.frame-salt"));
	expect(&b, "hypervisor", "vm.pmap", 9, 8192);
	/* the window lists: grown by doubling from 64 to what a window
	 * accessed, at most an eighth of the pages */
	uint64_t wl = s->vm[0]->window_cap + s->vm[1]->window_cap;
	assert_true(s->vm[0]->window_cap <= 512 &&
		    s->vm[1]->window_cap <= 512 && wl >= 2 * 64);
	expect(&b, "hypervisor", "vm.window-list", 4, wl);
	/* the owners table: (frame, VM) pairs of shared pages, at most
	 * two thirds full, from 1024 entries; 8 slots for VMs */
	const struct mv_books_item *own = mv_books_find(&b, "hypervisor",
							"vm.owners");
	assert_non_null(own);
	assert_int_equal(own->elem, 8);
	assert_true(own->count >= 1024 && (own->count & (own->count - 1)) == 0);
	assert_true(sh.pages_sharing <= own->count * 2 / 3);
	expect(&b, "hypervisor", "vm.owner-vms", 8, 8);
	expect(&b, "hypervisor", "vm.active-sample", 8, 200);
	expect(&b, "hypervisor", "swap.free-stack", 4, 0);
	expect(&b, "hypervisor", "swap.desc", 8, 0);
	expect(&b, "hypervisor", "swap.extent-used", 2, 24);
	/* (3072 + 63) / 64 + 1 words each; (12 + 63) / 64 + 1 */
	expect(&b, "hypervisor", "swap.inuse-bitmap", 8, 98);
	expect(&b, "hypervisor", "swap.extent-bitmap", 8, 4);
	expect(&b, "hypervisor", "zcache.frame", 4, 0);
	expect(&b, "hypervisor", "zcache.unused", 4, 0);
	expect(&b, "hypervisor", "zcache.half", 4, 0);
	expect(&b, "hypervisor", "zcache.half-pos", 4, 0);
	expect(&b, "hypervisor", "zcache.len", 2, 0);
	expect(&b, "hypervisor", "zcache.desc", 8, 0);
	expect(&b, "hypervisor", "zcache.owner", 8, 0);
	expect(&b, "hypervisor", "zcache.fifo", 4, 0); /* prev, next */
	expect(&b, "verify", "vm.expect", 8, 8192);
	expect(&b, "guest", "guest.kind", 1, 8192);
	/* 3-byte numbers: the guest and its processes under 64 GiB */
	expect(&b, "guest", "guest.page", 3, 8192);
	expect(&b, "guest", "guest.clock", 3, 16384); /* next, prev */
	/* sparse: nothing is freed, zeroed (linux), ballooned or swapped */
	expect(&b, "guest", "guest.free", 4, 0);
	expect(&b, "guest", "guest.zeroed", 4, 0);
	expect(&b, "guest", "guest.balloon", 4, 0);
	expect(&b, "guest", "guest.cache", 4, 2 * 513);
	expect(&b, "guest", "guest.swap-free", 4, 0);
	expect(&b, "guest", "guest.swap-desc", 8, 0);
	expect(&b, "guest", "guest.pte", 4, 2 * 1024);
	/* a sample at power-on and one a second: 3 of 2 VMs' figures */
	expect(&b, "series", "sim.sample-vms", sizeof(struct mv_sample_vm),
	       3 * 2);
	assert_null(mv_books_find(&b, "mmu", "mmu.tlb"));

	/* frame words, free stacks, table, share.vms, vm-base and vm-salt,
	 * pmap, window lists, owners, owner-vms, sample; swap bitmaps; host
	 * descriptors; extent counters */
	uint64_t hyp = 49155 + 4 * stack_hw + 49152 + 64 + 32 + 32 + 73728 +
		       4 * wl + own->bytes + 64 + 1600 + 784 + 32 + 131080 + 48;
	assert_int_equal(mv_books_bytes(&b, "hypervisor"), hyp);
	uint64_t guest = 8192 + 24576 + 49152 + 4104 + 8192;
	assert_int_equal(mv_books_bytes(&b, "guest"), guest);
	assert_int_equal(mv_books_bytes(&b, "verify"), 65536);
	assert_int_equal(mv_books_bytes(&b, NULL),
			 hyp + guest + 65536 + mv_books_bytes(&b, "series"));
	mv_sim_destroy(s);
}

/* Items of the same name add up; a different name is a new line; the
 * list is bounded and says when it was not big enough. */
static void test_books_merge_by_name_and_count_what_does_not_fit(void **state)
{
	(void)state;
	struct mv_books b = {0};
	mv_books_add(&b, "hypervisor", "a.x", 4, 10);
	mv_books_add(&b, "hypervisor", "a.x", 4, 6);
	mv_books_add(&b, "guest", "a.x", 2, 1);
	assert_int_equal(b.n, 2);
	expect(&b, "hypervisor", "a.x", 4, 16);
	expect(&b, "guest", "a.x", 2, 1);
	assert_int_equal(mv_books_bytes(&b, NULL), 66);
	static char names[MV_BOOKS_MAX + 1][16];
	for (int i = 0; i <= MV_BOOKS_MAX; i++) {
		snprintf(names[i], sizeof names[i], "n%d", i);
		mv_books_add(&b, "series", names[i], 1, 1);
	}
	assert_int_equal(b.n, MV_BOOKS_MAX);
	assert_int_equal(b.dropped, 3);
}

/* With an MMU model the model's tables are books of their own group. */
static void test_books_of_an_mmu_model_are_their_own_group(void **state)
{
	(void)state;
	static const char *mmu =
		"<scenario name='m' seed='1' duration='100ms' step='10ms'>"
		" <host><memory unit='MiB'>64</memory></host>"
		" <vm><domain type='kvm'><name>v</name>"
		"  <memory unit='MiB'>16</memory>"
		"  <metadata><mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
		"   <mv:guest image-size='2MiB'/><mv:mmu mode='shadow'/>"
		"  </mv:memvisor></metadata></domain>"
		"  <workload kind='steady' size='4MiB' rate='5k'/></vm>"
		"</scenario>";
	struct mv_sim *s = mvt_sim(mmu, "mmu.xml", 0);
	mvt_sim_run(s);
	struct mv_books b;
	mv_sim_books(s, &b);
	expect(&b, "mmu", "mmu.rmap", 4, 4096);
	expect(&b, "mmu", "mmu.wp", 1, 4096);
	assert_true(mv_books_find(&b, "mmu", "mmu.tlb")->bytes > 0);
	assert_true(mv_books_find(&b, "mmu", "mmu.shadow-pages")->count > 0);
	assert_null(mv_books_find(&b, "verify", "vm.expect"));
	mv_sim_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_books_match_hand_computed_sizes),
		cmocka_unit_test(
			test_books_merge_by_name_and_count_what_does_not_fit),
		cmocka_unit_test(
			test_books_of_an_mmu_model_are_their_own_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
