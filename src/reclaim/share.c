/*
 * share.c - transparent page sharing (ESX) / KSM (Linux).
 *
 * A scanner walks the guest-physical pages of every VM added to it, VM by
 * VM and GPPN by GPPN, a few pages per wake-up (KSM: pages_to_scan every
 * sleep_millisecs). A "full scan" is one pass over all added VMs' pages.
 * Only private pages are candidates: pages in any other state (untouched,
 * already shared or zero, compressed, swapped, ballooned), pages backed by
 * a 2 MiB mapping (MV_PME_LARGE: not shared until split) or pinned
 * (MV_PME_PINNED) and every page of a VM with sharing off
 * (<nosharepages/>, sched.mem.pshare.enable = FALSE) are passed over: they
 * move the scan position but are not counted in pages_scanned and cost no
 * simulated CPU, as KSM never visits unmapped addresses.
 *
 * For a candidate the scanner hashes its 4 KiB (XXH3-64), unless it is a
 * hinted page whose bytes have not changed since its last visit: then its
 * hint's key is its hash (page_hash). Then:
 *
 *  1. Zero page (use_zero_pages): hash equal to the zero page's and every
 *     byte zero -> drop the frame and map the host's zero frame
 *     (MV_PS_ZERO), as ESX does and KSM with use_zero_pages. Done on first
 *     sight, volatile or not: re-creating a written zero page costs one
 *     COW fault from the zero frame.
 *  2. Volatility (KSM's checksum): pme->cksum keeps the low 32 bits of the
 *     hash from the page's previous visit, MV_PME_SEEN in pme->flags
 *     says there was one. A page seen before whose checksum changed, or
 *     that the guest wrote since (MV_PME_DIRTY, set by the vm layer on
 *     every write and every other change of the page's bytes, cleared
 *     here), is volatile: counted in
 *     pages_volatile, never offered as a hint and never matched against
 *     hints, because a page that changes between scans would break any
 *     sharing at once. Unlike KSM a page seen for the first time is not
 *     volatile: ESX inserts a hint on the first scan, so identical pages
 *     merge after one full scan instead of two.
 *  3. Lookup of the hash in one global table (open addressing, linear
 *     probing, one entry per 64-bit hash). An entry is either
 *       - SHARED: a sharing frame (MV_FRAME_SHARED), the ESX "shared frame"
 *         / KSM stable tree. Matched by every page, volatile or not (KSM
 *         searches its stable tree first, too). If the frame is still the
 *         one the entry was made for, all 4096 bytes are compared; equal
 *         -> the page maps the frame copy-on-write and its own frame is
 *         freed (a merge); different -> a hash collision: never shared.
 *       - HINT: a page seen once and unique so far (vm, gppn, hash), the
 *         ESX "hint" / KSM unstable tree. Matched only by non-volatile
 *         pages. The hinted page must still be private, unchanged
 *         (its hash is recomputed) and byte-equal; then its frame becomes
 *         the sharing frame, both pages map it and the hint becomes a
 *         SHARED entry. A hint that no longer holds is dropped.
 *     No entry: a non-volatile page becomes a hint (if hints are on).
 *
 * Staleness. The vm layer changes pages without telling the scanner: a
 * write to a shared page copies it (COW), a write by the last sharer takes
 * the frame over (clearing MV_FRAME_SHARED), pages are swapped, compressed
 * and ballooned. The scanner never trusts an entry: a SHARED entry is
 * live only while its frame is flagged, in use, and its content still
 * hashes to the entry's key (shared_live), so a frame freed and later
 * shared again for other bytes does not revive an old entry. That needs
 * no per-frame generation: a sharing frame's bytes never change while it
 * is one (a write copies it, or takes it over and clears the flag), so
 * the frame's own content names its entry. Its hash is the memo's for a
 * descriptor frame, one XXH3 for a BYTES one, and it is only computed
 * where the cheap test (flag, refcount) passes and a lookup's compare
 * failed, or on the rebuilds, the gauges and the check. The two tests
 * agree: a stale entry (h, m) can only meet frame m shared again by an
 * entry of another key h2 (the table has one entry per key, and the
 * lookup of h that makes a hint drops a dead entry of h first), and
 * content hashing to h2 != h is not content hashing to h. A HINT is live
 * only while its page is a private candidate whose pme still names this
 * hint (MV_PME_HINT and cksum equal to the low 32 bits of the entry's
 * hash). Dead entries are removed when a lookup meets them, and all at
 * once whenever live and dead entries would pass 3/4 of the table; only
 * then does it double (until live entries are at most half of it). It
 * starts at TABLE_MIN entries and grows with use, not with the guests'
 * size, so its books are what the scan has found: at most 16 x 8/3 bytes
 * per live entry, at least 16 x 4/3. A page has at most one hint, found
 * again through its cksum: the low 32 bits of a hash are its home bucket,
 * so when a page changes its old hint is deleted before the new one goes
 * in. The table therefore holds at most one entry per live hint and per
 * sharing frame, plus the dead entries of at most one growth period.
 *
 * Salting (ESX's Mem.ShareForceSalting, VMware KB 2097593). Each VM
 * belongs to a salt group (mv_share_set_salt; group 0 unless told); two
 * pages may share only if their bytes and their groups are equal. As ESX
 * does, the salt goes into the key: a page of group k is looked up under
 * hash ^ salt_key(k) (salt_key(0) = 0, so an unsalted host is exactly the
 * scanner above), so pages of different groups never find each other's
 * entries, while the hashing and the full compare before a merge are
 * unchanged. Equal keys and equal bytes imply equal groups (salt_key is a
 * bijection), so every merge stays inside one group. A sharing frame
 * remembers its group (frame_salt, allocated only once a group other
 * than 0 is set) so that its liveness (shared_live) recomputes its key.
 * Zero pages still map the host's one zero frame, whatever the group:
 * saved the same (a frame per zero page) as with a zero frame per group,
 * but for one page per group.
 *
 * Counters (struct mv_share_stats) are named as KSM's in
 * /sys/kernel/mm/ksm/. pages_shared, pages_sharing, pages_unshared and
 * zero_pages are gauges computed on demand from the table and the pmaps,
 * so COW breaks done by the vm layer are always reflected exactly; the
 * others are cumulative. cpu_ns is the thread CPU time measured around the
 * scanning (real, not deterministic); sim_cpu_ns = pages_scanned x
 * page_cost_ns is what the simulation charges (deterministic).
 *
 * Content descriptors (host.h). A frame may hold a descriptor d instead
 * of bytes; its bytes are G(d) (src/host/content.c). The scanner still
 * works on the real 4096 bytes: a descriptor frame's hash is the hash of
 * G(d), materialised, and every compare that decides a merge is a memcmp
 * of materialised bytes, with one exception whose proof is at
 * frames_equal: equal descriptors. Since G is a pure function, its hash
 * is too, and the scanner memoises it (see struct desc_memo).
 *
 * Hot path: a hinted page that has not changed costs one probe sequence
 * (its hint, found through its cksum) and no hash. A page that matches
 * nothing costs one XXH3 of 4 KiB (the
 * AVX2/AVX-512 code where the CPU has it), one probe sequence in a table
 * of 16-byte entries (in huge pages, its slot prefetched while the page
 * before is visited: see scan_pages) and a hint insertion; no allocation
 * (the table grows by doubling, amortised).
 *
 * Sources: C. A. Waldspurger, "Memory Resource Management in VMware ESX
 * Server", OSDI 2002, section 4 (content-based page sharing, hints, full
 * compare, COW); Linux mm/ksm.c and Documentation/admin-guide/mm/ksm.rst
 * (stable and unstable trees, checksum volatility, use_zero_pages,
 * pages_to_scan, sleep_millisecs, the counters); A. Arcangeli, I. Eidus,
 * C. Wright, "Increasing memory density by using KSM", OLS 2009.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "reclaim/share.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define XXH_DISPATCH_DISABLE_REPLACE /* call XXH3_64bits_dispatch by name */
#include <xxh_x86dispatch.h>
#endif

/* pme->flags bits owned by page sharing (vm.h): MV_PME_SEEN (cksum holds
 * the page's hash from its last visit), MV_PME_HINT (the table holds a
 * hint for this page, keyed by a hash whose low 32 bits are cksum),
 * MV_PME_VOLATILE (changed between its last two visits). */
#define AUX_SEEN MV_PME_SEEN
#define AUX_HINT MV_PME_HINT
#define AUX_VOLATILE MV_PME_VOLATILE
#define AUX_ALL (AUX_SEEN | AUX_HINT | AUX_VOLATILE)

/*
 * One table entry, 12 bytes: the full 64-bit hash (the key) and ref.
 * ref 0 is an empty slot (no entry names the zero frame); a SHARED entry
 * has ref = mpn; a HINT entry has REF_HINT | the page's index in one
 * numbering of all the sharer's pages (VM vi's page g is vm_base[vi] + g;
 * hint_ref, hint_page), which is what lets a hint name any page of any
 * VM in 31 bits: the VMs added to one sharer hold at most 2^31 pages
 * (8 TiB; mv_share_add_vm refuses more). Packed to 4-byte alignment: the
 * 64-bit hash is read as two aligned words at worst.
 */
struct share_entry {
	uint64_t hash;
	uint32_t ref;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct share_entry) == 12, "12-byte entries");

#define REF_EMPTY 0u
#define REF_HINT 0x80000000u
#define REF_PAGES_MAX REF_HINT /* pages one sharer numbers */
#define TABLE_MIN 1024u
#define TABLE_MAX (1ull << 32) /* bucket = low 32 bits of the hash */

/*
 * Memoisation of a pure function: hash(G(desc)) depends on nothing but
 * the descriptor (and the hash function, on whose change the memo is
 * cleared), so a hit returns exactly what materialising and hashing
 * would. Direct-mapped, 64 Ki entries (1 MiB): the distinct descriptors
 * a scan meets again are the shared ones (OS and application pages of
 * many VMs), which is what it is for. desc 0 (BYTES) is never stored, so
 * an empty entry matches nothing.
 */
#define MEMO_ENTRIES (1u << 16)
struct desc_memo {
	mv_desc_t desc;
	uint64_t hash;
};

struct mv_sharer {
	struct mv_host *host;
	struct mv_share_config cfg;
	mv_share_hash_fn hash;
	uint64_t zero_hash;           /* hash(zero page) under `hash` */
	struct desc_memo *memo;       /* MEMO_ENTRIES */
	uint8_t buf[2][MV_PAGE_SIZE]; /* materialised pages to compare */

	struct mv_vm **vms;   /* in the order added */
	uint32_t *vm_base;    /* VM i's pages are numbered from vm_base[i] */
	uint32_t *vm_salt;    /* VM i's salt group (0: unsalted) */
	uint32_t *frame_salt; /* a sharing frame's group; NULL: all 0 */
	uint32_t nvms;
	size_t cap_vms, cap_base, cap_salt; /* room in vms, vm_base, vm_salt */
	/* past every page ever numbered: a VM added after one left
	 * (mv_share_remove_vm) gets new numbers, so the leaver's hints
	 * name no page */
	uint64_t base_end;
	uint32_t cur_vm; /* scan position */
	uint64_t cur_gppn;
	uint64_t run_ns; /* simulated time not yet slept off */
	uint64_t scan_carry; /* scan_time: page x ns not yet scanned */

	struct share_entry *tab;
	uint64_t mask; /* capacity - 1 (capacity a power of two) */
	uint64_t used; /* non-empty entries, live or dead */

	struct mv_share_stats st; /* cumulative counters */
};

/*
 * The scanner's hash. libxxhash's XXH3_64bits is built for baseline x86-64
 * (SSE2); the same library exports XXH3_64bits_dispatch (xxHash's
 * xxh_x86dispatch.c), which picks the AVX2 or AVX-512 code of the same
 * function at run time: the same 64-bit values, about 1.5x the bandwidth
 * on 4 KiB pages (bench/bench_share.c prints both). Its wide-vector code
 * returns with the upper halves of the YMM/ZMM registers dirty, and every
 * later legacy-SSE instruction in the process then pays a state transition
 * (measured here: the SSE2 XXH3 fell from 14 to 3.8 GB/s), so each call is
 * followed by VZEROUPPER, as compilers do at the end of AVX functions
 * (Intel 64 and IA-32 Optimization Reference Manual, "Mixing AVX code with
 * SSE code"). VZEROUPPER exists only with AVX: without it, the plain
 * library function.
 */
static uint64_t xxh3_page(const void *page)
{
	return mv_page_hash(page);
}

#if defined(__x86_64__) && defined(__GNUC__)
static uint64_t xxh3_page_wide(const void *page)
{
	uint64_t h = XXH3_64bits_dispatch(page, MV_PAGE_SIZE);
	/* clobbers: built with -mavx the compiler may keep vectors there */
	__asm__ volatile("vzeroupper" ::
				 : "memory", "xmm0", "xmm1", "xmm2", "xmm3",
				   "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
				   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
				   "xmm14", "xmm15");
	return h;
}

static mv_share_hash_fn default_hash(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") ? xxh3_page_wide : xxh3_page;
}
#else
static mv_share_hash_fn default_hash(void)
{
	return xxh3_page;
}
#endif

void mv_share_config_default(struct mv_share_config *c)
{
	memset(c, 0, sizeof *c);
	c->enabled = 1;
	c->pages_to_scan = 100;          /* KSM default */
	c->sleep_ns = 20 * MV_NS_PER_MS; /* KSM default: 5000 pages/s */
	c->use_zero_pages = 1;
	c->hints = 1;
	c->page_cost_ns = 250;
	c->merge_across_nodes = 1;
}

void mv_share_set_hash(struct mv_sharer *s, mv_share_hash_fn fn)
{
	s->hash = fn ? fn : default_hash();
	s->zero_hash = s->hash(mv_host_frame(s->host, MV_ZERO_MPN));
	memset(s->memo, 0, MEMO_ENTRIES * sizeof *s->memo);
	/* the hashes kept for pages (page_hash) were another function's */
	for (uint32_t i = 0; i < s->nvms; i++)
		for (mv_gppn_t g = 0; g < s->vms[i]->npages; g++)
			mv_vm_content_changed(s->vms[i], g);
}

/*
 * merge_across_nodes = 0 (KSM's per-node stable and unstable trees, ESX's
 * per-node sharing; docs/numa.md): the key of frame mpn's content h is h
 * mixed with the frame's node, so equal pages on different nodes have
 * different keys and never meet in the table, and each node keeps its own
 * sharing frame. Every key is made here from a frame's bytes and node:
 * the table, the pages' checksums, hints and the zero test all agree.
 * The zero frame is on no node: its key is its hash.
 */
static int keys_nodeless(const struct mv_sharer *s)
{
	return s->cfg.merge_across_nodes || s->host->nnodes == 1;
}

static uint64_t node_key(const struct mv_sharer *s, mv_mpn_t mpn, uint64_t h)
{
	if (keys_nodeless(s) || mpn == MV_ZERO_MPN)
		return h;
	return h ^ mv_mix64(UINT64_C(0x6e756d61) +
			    (uint64_t)mv_host_frame_node(s->host, mpn));
}

/*
 * The key of frame mpn's 4096 bytes: their hash (a descriptor's through
 * the memo), per node when merge_across_nodes is 0 (node_key),
 * materialising into buf on a memo miss. The memo is a cache of a pure
 * function, so filling it from a const sharer changes no result.
 */
static uint64_t frame_hash_buf(const struct mv_sharer *s, mv_mpn_t mpn,
			       uint8_t *buf)
{
	mv_desc_t d = mv_host_frame_desc(s->host, mpn);
	if (d == MV_DESC_BYTES)
		return node_key(s, mpn, s->hash(mv_host_frame(s->host, mpn)));
	struct desc_memo *m = &s->memo[mv_mix64(d) & (MEMO_ENTRIES - 1)];
	if (m->desc != d) {
		m->hash = s->hash(mv_host_frame_read(s->host, mpn, buf));
		m->desc = d;
	}
	return node_key(s, mpn, m->hash);
}

static uint64_t frame_hash(struct mv_sharer *s, mv_mpn_t mpn)
{
	return frame_hash_buf(s, mpn, s->buf[0]);
}

/* The key a salt group adds to its pages' hashes (0 for group 0). */
static uint64_t salt_key(uint32_t group)
{
	return group ? mv_mix64(group) : 0;
}

/* The salt key of VM vi's pages. */
static uint64_t vm_key(const struct mv_sharer *s, uint32_t vi)
{
	return salt_key(s->vm_salt[vi]);
}

/* The salt key of sharing frame mpn: its group's. */
static uint64_t frame_key(const struct mv_sharer *s, mv_mpn_t mpn)
{
	return s->frame_salt ? salt_key(s->frame_salt[mpn]) : 0;
}

/*
 * Do frames a and b hold the same 4096 bytes?
 *
 * Proof for equal descriptors, answered without a compare: a frame with
 * descriptor d holds G(d) (host.h: its bytes are materialised by
 * mv_content_fill(page, d), which reads d and nothing else, and a frame
 * keeps its descriptor only while nothing writes it: a write makes it
 * BYTES or gives it another descriptor). So two frames with the same d
 * both hold G(d): equal bytes, and sharing them is exact. Every other
 * case (different descriptors, which may still hold equal bytes such as
 * zero pages of an OS image; a BYTES frame on either side) is a memcmp
 * of the materialised bytes, both sides. tests/reclaim/test_share.c
 * forces two different descriptors onto one hash and checks they are not
 * shared.
 */
static int frames_equal(struct mv_sharer *s, mv_mpn_t a, mv_mpn_t b)
{
	mv_desc_t da = mv_host_frame_desc(s->host, a);
	if (da != MV_DESC_BYTES && da == mv_host_frame_desc(s->host, b))
		return 1;
	return memcmp(mv_host_frame_read(s->host, a, s->buf[0]),
		      mv_host_frame_read(s->host, b, s->buf[1]),
		      MV_PAGE_SIZE) == 0;
}

void mv_share_table_usage(const struct mv_sharer *s, uint64_t *used,
			  uint64_t *capacity)
{
	*used = s->used;
	*capacity = s->mask + 1;
}

/* ---- the table ---------------------------------------------------------- */

#define HUGE_BYTES (2u << 20) /* an x86-64 transparent huge page */

/*
 * Zeroed memory for a table of cap entries. Every lookup lands on a random
 * slot, so a table in 4 KiB pages costs a TLB miss on nearly every probe
 * once it is larger than the TLB reaches, and a page fault on first touch
 * of each of its pages during the first full scan. From 2 MiB up (cap is a
 * power of two, so a whole number of huge pages) it is mapped 2 MiB-aligned
 * with MADV_HUGEPAGE, as the host arena is (Documentation/admin-guide/mm/
 * transhuge.rst): one TLB entry and one fault per 2 MiB.
 */
static struct share_entry *tab_alloc(uint64_t cap)
{
	size_t bytes = cap * sizeof(struct share_entry);
	if (bytes < HUGE_BYTES)
		return calloc(cap, sizeof(struct share_entry));
	uint8_t *p = mmap(NULL, bytes + HUGE_BYTES, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* keep the 2 MiB-aligned part, give back the rest */
	size_t head = (HUGE_BYTES - (uintptr_t)p % HUGE_BYTES) % HUGE_BYTES;
	if (head)
		munmap(p, head);
	if (HUGE_BYTES - head)
		munmap(p + head + bytes, HUGE_BYTES - head);
	madvise(p + head, bytes, MADV_HUGEPAGE);
	return (struct share_entry *)(p + head);
}

static void tab_free(struct share_entry *t, uint64_t cap)
{
	size_t bytes = cap * sizeof(struct share_entry);
	if (bytes < HUGE_BYTES)
		free(t);
	else if (t)
		munmap(t, bytes);
}

/* Is this SHARED entry's frame a sharing frame in use (any sharing
 * frame: whether it is still the one the entry made is shared_live)? */
static int shared_frame(const struct mv_sharer *s, const struct share_entry *t)
{
	const struct mv_host *h = s->host;
	mv_mpn_t m = t->ref;
	return m != MV_ZERO_MPN && m < h->nframes &&
	       (mv_frame_word(h, m) & MV_FRAME_SHARED) &&
	       (mv_frame_word(h, m) & MV_FRAME_REFS);
}

/* Is this SHARED entry's frame still the sharing frame it made: a
 * sharing frame whose bytes hash to the entry's key (see the top)? */
static int shared_live(const struct mv_sharer *s, const struct share_entry *t)
{
	uint8_t buf[MV_PAGE_SIZE];
	return shared_frame(s, t) && (frame_hash_buf(s, t->ref, buf) ^
				      frame_key(s, t->ref)) == t->hash;
}

/* Is vm's page g a candidate for sharing at all? */
static int candidate(const struct mv_vm *vm, const struct mv_pme *e)
{
	return vm->cfg.sharing && e->state == MV_PS_PRIVATE &&
	       !(e->flags & (MV_PME_LARGE | MV_PME_PINNED));
}

/* The ref of a hint for VM vi's page g. */
static uint32_t hint_ref(const struct mv_sharer *s, uint32_t vi, mv_gppn_t g)
{
	return REF_HINT | (s->vm_base[vi] + (uint32_t)g);
}

/*
 * The VM (index) and page a HINT entry names: the last VM whose numbering
 * starts at or below its index (a binary search of vm_base). -1 if the
 * index lies past the last VM's pages.
 */
static int64_t hint_page(const struct mv_sharer *s, const struct share_entry *t,
			 mv_gppn_t *g)
{
	uint32_t idx = t->ref & ~REF_HINT, lo = 0, hi = s->nvms;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->vm_base[mid] <= idx)
			lo = mid;
		else
			hi = mid;
	}
	if (!s->nvms || idx - s->vm_base[lo] >= s->vms[lo]->npages)
		return -1;
	*g = idx - s->vm_base[lo];
	return lo;
}

/*
 * The pme this HINT entry belongs to, if it still names the entry
 * (MV_PME_HINT and the same low 32 bits of hash); NULL otherwise. *vi
 * is its VM's index.
 */
static struct mv_pme *hint_owner(const struct mv_sharer *s,
				 const struct share_entry *t, uint32_t *vi)
{
	mv_gppn_t g;
	int64_t v = hint_page(s, t, &g);
	if (v < 0)
		return NULL;
	*vi = (uint32_t)v;
	struct mv_pme *e = &s->vms[v]->pmap[g];
	if (!(e->flags & AUX_HINT) || e->cksum != (uint32_t)t->hash)
		return NULL;
	return e;
}

/* Cheap liveness of a hint (no rehash): its page still a candidate. */
static int hint_live(const struct mv_sharer *s, const struct share_entry *t)
{
	uint32_t vi;
	const struct mv_pme *e = hint_owner(s, t, &vi);
	return e && candidate(s->vms[vi], e);
}

/*
 * Whole-table passes (the gauges, rebuilds) decide a SHARED entry's
 * liveness without hashing: every sharing frame in use has its live entry
 * in the table (entries of live frames are never removed), so a sharing
 * frame named by one entry only is named by its own; only a frame named
 * by two (a stale entry and the frame's new one) needs the hash to tell
 * them apart. mark_frames marks each sharing frame an entry names
 * (MV_FRAME_MARK, and MV_FRAME_MARK_DUP when named again); unmark_frames
 * clears the marks before the call returns. The host's flags are written
 * through the sharer's host pointer: nothing else runs meanwhile.
 */
static void mark_frames(const struct mv_sharer *s)
{
	struct mv_host *h = s->host;
	for (uint64_t i = 0; i <= s->mask; i++) {
		const struct share_entry *t = &s->tab[i];
		if (t->ref == REF_EMPTY || (t->ref & REF_HINT) ||
		    !shared_frame(s, t))
			continue;
		uint32_t w = mv_frame_word(h, t->ref);
		mv_frame_word_set(h, t->ref,
				  w | ((w & MV_FRAME_MARK) ? MV_FRAME_MARK_DUP
							   : MV_FRAME_MARK));
	}
}

static void unmark_frames(const struct mv_sharer *s)
{
	struct mv_host *h = s->host;
	for (uint64_t i = 0; i <= s->mask; i++) {
		const struct share_entry *t = &s->tab[i];
		if (t->ref != REF_EMPTY && !(t->ref & REF_HINT) &&
		    t->ref < h->nframes)
			mv_frame_word_set(
				h, t->ref,
				mv_frame_word(h, t->ref) &
					~(MV_FRAME_MARK | MV_FRAME_MARK_DUP));
	}
}

/* shared_live, between mark_frames and unmark_frames */
static int shared_live_marked(const struct mv_sharer *s,
			      const struct share_entry *t)
{
	if (!shared_frame(s, t))
		return 0;
	if (!(mv_frame_word(s->host, t->ref) & MV_FRAME_MARK_DUP))
		return 1;
	return shared_live(s, t);
}

/* Liveness of any entry, between mark_frames and unmark_frames. */
static int entry_live_marked(const struct mv_sharer *s,
			     const struct share_entry *t)
{
	return (t->ref & REF_HINT) ? hint_live(s, t) : shared_live_marked(s, t);
}

/* Slot of the entry for hash h, or -1. */
static int64_t tab_find(const struct mv_sharer *s, uint64_t h)
{
	const struct share_entry *tab = s->tab;
	uint64_t i = h & s->mask;
	while (tab[i].ref != REF_EMPTY) {
		if (tab[i].hash == h)
			return (int64_t)i;
		i = (i + 1) & s->mask;
	}
	return -1;
}

/* Delete slot i, shifting later entries of the run back (no tombstones). */
static void tab_remove(struct mv_sharer *s, uint64_t i)
{
	struct share_entry *tab = s->tab;
	uint64_t mask = s->mask, j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (tab[j].ref == REF_EMPTY)
			break;
		uint64_t k = tab[j].hash & mask; /* home of entry j */
		/* entry j may move to i only if its home is not in (i, j] */
		int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		tab[i] = tab[j];
		i = j;
	}
	tab[i].ref = REF_EMPTY;
	s->used--;
}

/* Drop an entry found dead; a dead hint no longer names its page. */
static void drop_entry(struct mv_sharer *s, uint64_t i)
{
	if (s->tab[i].ref & REF_HINT) {
		uint32_t vi;
		struct mv_pme *e = hint_owner(s, &s->tab[i], &vi);
		if (e)
			e->flags &= (uint8_t)~AUX_HINT;
	}
	tab_remove(s, i);
}

static void raw_insert(struct share_entry *tab, uint64_t mask,
		       const struct share_entry *t)
{
	uint64_t i = t->hash & mask;
	while (tab[i].ref != REF_EMPTY)
		i = (i + 1) & mask;
	tab[i] = *t;
}

/*
 * Give back the whole 4 KiB pages of table t (cap entries) between entries
 * from and to: their entries are read no more. Only a table mapped on its
 * own (tab_alloc's mmap); the pages read back as zeros if touched again.
 */
static void tab_release(struct share_entry *t, uint64_t cap, uint64_t from,
			uint64_t to)
{
	if (cap * sizeof *t < HUGE_BYTES)
		return;
	uintptr_t a = (uintptr_t)(t + from), b = (uintptr_t)(t + to);
	a = (a + MV_PAGE_SIZE - 1) / MV_PAGE_SIZE * MV_PAGE_SIZE;
	b = b / MV_PAGE_SIZE * MV_PAGE_SIZE;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/*
 * Drop every dead entry and, while the live ones fill more than half of
 * the table, double it. MV_ENOMEM leaves the table as it was.
 *
 * Memory: the old table and the new one used to be resident together
 * (3 times the old table's size when it doubles). The live entries are
 * first packed at the front of the old table, in slot order, and the
 * rest of it given back; the packed entries are then inserted in that
 * same order, the part read given back every 2 MiB. The new table gets
 * the entries in the order, hence the slots, a copy in place would give
 * them, so what later lookups meet (and every report) is unchanged.
 */
static int tab_rebuild(struct mv_sharer *s)
{
	uint64_t cap = s->mask + 1, live = 0;
	/* each entry's liveness, tested once (it reads the pmap or hashes),
	 * before any dead hint's page loses its flag */
	struct mv_bitmap alive;
	if (mv_bitmap_init(&alive, cap))
		return MV_ENOMEM;
	mark_frames(s);
	for (uint64_t i = 0; i < cap; i++)
		if (s->tab[i].ref != REF_EMPTY &&
		    entry_live_marked(s, &s->tab[i])) {
			mv_bitmap_set(&alive, i);
			live++;
		}
	unmark_frames(s);
	uint64_t ncap = cap;
	while ((live + 1) * 2 > ncap && ncap < TABLE_MAX)
		ncap *= 2;
	struct share_entry *nt = NULL;
	if ((live + 1) * 4 > ncap * 3 || !(nt = tab_alloc(ncap))) {
		mv_bitmap_free(&alive); /* at the 2^32 limit: refuse hints */
		return MV_ENOMEM;
	}
	/* pack: entry i moves to slot n <= i, read before it is written */
	uint64_t n = 0;
	for (uint64_t i = 0; i < cap; i++) {
		struct share_entry *t = &s->tab[i];
		if (t->ref == REF_EMPTY)
			continue;
		if (mv_bitmap_test(&alive, i)) {
			s->tab[n++] = *t;
		} else if (t->ref & REF_HINT) {
			uint32_t vi;
			struct mv_pme *e = hint_owner(s, t, &vi);
			if (e)
				e->flags &= (uint8_t)~AUX_HINT;
		}
	}
	mv_bitmap_free(&alive);
	tab_release(s->tab, cap, n, cap);
	const uint64_t chunk = HUGE_BYTES / sizeof *nt;
	for (uint64_t j = 0; j < n; j++) {
		raw_insert(nt, ncap - 1, &s->tab[j]);
		if ((j + 1) % chunk == 0)
			tab_release(s->tab, cap, j + 1 - chunk, j + 1);
	}
	tab_free(s->tab, cap);
	s->tab = nt;
	s->mask = ncap - 1;
	s->used = live;
	return 0;
}

/* Insert a new key (the caller knows it is absent); 0 or MV_ENOMEM. */
static int tab_insert(struct mv_sharer *s, uint64_t h, uint32_t ref)
{
	if ((s->used + 1) * 4 > (s->mask + 1) * 3) {
		int rc = tab_rebuild(s);
		if (rc)
			return rc;
	}
	struct share_entry t = {.hash = h, .ref = ref};
	raw_insert(s->tab, s->mask, &t);
	s->used++;
	return 0;
}

/* Slot of page (vi, g)'s own hint, found through its cksum (the low 32
 * bits of the hint's hash are its home bucket), or -1. */
static int64_t hint_slot(const struct mv_sharer *s, uint32_t vi, mv_gppn_t g,
			 const struct mv_pme *e)
{
	uint32_t ref = hint_ref(s, vi, g);
	for (uint64_t i = e->cksum & s->mask; s->tab[i].ref != REF_EMPTY;
	     i = (i + 1) & s->mask) {
		const struct share_entry *t = &s->tab[i];
		if (t->ref == ref && (uint32_t)t->hash == e->cksum)
			return (int64_t)i;
	}
	return -1;
}

/* Remove page (vi, g)'s own hint. */
static void hint_remove_own(struct mv_sharer *s, uint32_t vi, mv_gppn_t g,
			    struct mv_pme *e)
{
	int64_t i = hint_slot(s, vi, g, e);
	if (i >= 0)
		tab_remove(s, (uint64_t)i);
	e->flags &= (uint8_t)~AUX_HINT;
}

/*
 * The hash of page (vi, g)'s 4096 bytes, as frame_hash would compute it.
 *
 * Memoisation of a pure function, per page: the hash depends on the bytes
 * alone. A hinted page's hint holds the hash of its bytes at its last
 * visit: a visit leaves MV_PME_HINT set only under the hash it computed
 * (a changed page's old hint is removed first, an unchanged page's hint
 * is its own), and every later drop of the hint clears the flag. Its
 * MV_PME_DIRTY is clear only if its bytes have not changed since that
 * visit: the visit clears it, and every path that changes a guest page's
 * bytes sets it (a write access through mv_vm_note_access: guest writes,
 * new descriptors and versions, COW and take-over, the interval model's
 * writes at mv_vm_observe; mv_vm_content_changed: the balloon, the MMU's
 * accessed and dirty bits; mv_share_set_hash for every page, as the
 * function changes). Paths that move a page without changing its bytes
 * (swap and compression out and in, a frame turned BYTES) leave it. So a
 * page with MV_PME_SEEN and MV_PME_HINT and without MV_PME_DIRTY hashes
 * to its hint's key, and its bytes are neither materialised nor hashed
 * again. This decides only what the page is looked up under, as ESX's
 * hint hash tells its scanner a page has not changed since its last
 * look: every merge still follows a compare of the real bytes
 * (frames_equal), and a page that changed is hashed in full.
 * tests/reclaim/test_share.c changes a page on each path and checks that
 * it is hashed again.
 */
static uint64_t page_hash(struct mv_sharer *s, uint32_t vi,
			  const struct mv_vm *vm, mv_gppn_t g)
{
	const struct mv_pme *e = &vm->pmap[g];
	if ((e->flags & (AUX_SEEN | AUX_HINT | MV_PME_DIRTY)) ==
	    (AUX_SEEN | AUX_HINT)) {
		int64_t i = hint_slot(s, vi, g, e);
		if (i >= 0)
			return s->tab[i].hash;
	}
	return frame_hash(s, e->mpn) ^ vm_key(s, vi);
}

/*
 * Would visiting page e change nothing but the scan's count? True for a
 * page that is hinted (MV_PME_HINT), unchanged since the visit that left
 * the hint (MV_PME_SEEN set, MV_PME_DIRTY clear), on a host whose keys do
 * not depend on the frame's node. Then visit(), given the hint's key H
 * (page_hash), does nothing else:
 *  - `changed` is false (the cksum is H's low 32 bits, the bit clear), so
 *    no hint is removed and cksum, SEEN and DIRTY keep their values;
 *  - the zero test compares H with the zero key, both independent of the
 *    frame, so it gives what it gave at the visit that kept the page
 *    private with this H: not a zero page;
 *  - VOLATILE is clear already: the visit that left the hint found the
 *    page unchanged and cleared it;
 *  - tab_find(H) finds the page's own hint: the hint is in the table
 *    under H (every drop of a hint clears MV_PME_HINT), and no two
 *    entries have one key (a key is inserted only when tab_find did not
 *    find it, or after the entry it found was dropped; mv_share_check
 *    requires every entry to be where a lookup of its key finds it), so
 *    the visit returns there, the flag set as it was.
 * So such a page is only counted, with no probe of the
 * table (a random access into up to 2^28 slots: the cost of a lap once
 * most pages are hinted). tests/reclaim/test_share.c compares laps with
 * and without it.
 */
static int unchanged_hinted(const struct mv_sharer *s, const struct mv_pme *e)
{
	return (e->flags & (AUX_SEEN | AUX_HINT | MV_PME_DIRTY)) ==
		       (AUX_SEEN | AUX_HINT) &&
	       keys_nodeless(s);
}

/* ---- merging ------------------------------------------------------------ */

/* Map vm's private page g to sharing frame mpn, freeing its own frame. */
static void merge(struct mv_sharer *s, struct mv_vm *vm, mv_gppn_t g,
		  mv_mpn_t mpn)
{
	mv_mpn_t old = vm->pmap[g].mpn;
	mv_host_frame_get(s->host, mpn);
	mv_pmap_set(vm, g, MV_PS_SHARED, mpn);
	mv_host_frame_put(s->host, old);
	s->st.merges++;
}

/*
 * Is the hinted page of entry t still what the hint says: a private
 * candidate naming this hint, whose bytes still hash to t->hash?
 */
static int hint_holds(struct mv_sharer *s, const struct share_entry *t)
{
	uint32_t vi;
	const struct mv_pme *e = hint_owner(s, t, &vi);
	if (!e || !candidate(s->vms[vi], e))
		return 0;
	return (frame_hash(s, e->mpn) ^ vm_key(s, vi)) == t->hash;
}

/* Turn hinted page of slot i into the sharing frame; return its mpn. */
static mv_mpn_t promote(struct mv_sharer *s, uint64_t i)
{
	struct share_entry *t = &s->tab[i];
	mv_gppn_t g = 0;
	int64_t vi = hint_page(s, t, &g);
	struct mv_vm *vm = s->vms[vi];
	struct mv_pme *e = &vm->pmap[g];
	mv_mpn_t mpn = e->mpn;

	mv_host_frame_set_shared(s->host, mpn, 1);
	if (s->frame_salt)
		s->frame_salt[mpn] = s->vm_salt[vi];
	e->flags &= (uint8_t)~AUX_HINT;
	mv_pmap_set(vm, g, MV_PS_SHARED, mpn);
	/* same key, same slot: the hint becomes the frame's entry */
	t->ref = mpn;
	return mpn;
}

/* Scan one candidate page: vm (index vi), gppn g, whose bytes hash to h. */
static void visit(struct mv_sharer *s, uint32_t vi, struct mv_vm *vm,
		  mv_gppn_t g, uint64_t h)
{
	struct mv_pme *e = &vm->pmap[g];
	int changed = (e->flags & AUX_SEEN) &&
		      (e->cksum != (uint32_t)h || (e->flags & MV_PME_DIRTY));

	s->st.pages_scanned++;
	/* the old hint describes bytes the page no longer has */
	if ((e->flags & AUX_HINT) && changed)
		hint_remove_own(s, vi, g, e);
	e->cksum = (uint32_t)h;
	e->flags |= AUX_SEEN;
	e->flags &= (uint8_t)~MV_PME_DIRTY;

	/* every zero page: the zero descriptor, bytes, or a generated page
	 * that happens to be zero (found by its hash and the compare) */
	if (s->cfg.use_zero_pages &&
	    (h ^ vm_key(s, vi)) == node_key(s, e->mpn, s->zero_hash) &&
	    frames_equal(s, e->mpn, MV_ZERO_MPN)) {
		if (e->flags & AUX_HINT)
			hint_remove_own(s, vi, g, e);
		mv_mpn_t old = e->mpn;
		mv_pmap_set(vm, g, MV_PS_ZERO, MV_ZERO_MPN);
		mv_host_frame_put(s->host, old);
		return;
	}
	if (changed) {
		e->flags |= AUX_VOLATILE;
		s->st.volatile_seen++;
	} else {
		e->flags &= (uint8_t)~AUX_VOLATILE;
	}

	int64_t i = tab_find(s, h);
	if (i >= 0) {
		struct share_entry *t = &s->tab[i];
		if (!(t->ref & REF_HINT)) {
			if (!shared_frame(s, t)) {
				drop_entry(s, (uint64_t)i);
			} else if (frames_equal(s, t->ref, e->mpn)) {
				if (e->flags & AUX_HINT)
					hint_remove_own(s, vi, g, e);
				merge(s, vm, g, t->ref);
				return;
			} else if ((frame_hash(s, t->ref) ^
				    frame_key(s, t->ref)) != t->hash) {
				/* the frame was freed and shared again for
				 * other bytes: a stale entry */
				drop_entry(s, (uint64_t)i);
			} else {
				s->st.hash_collisions++;
				return;
			}
		} else if (t->ref == hint_ref(s, vi, g)) {
			e->flags |= AUX_HINT; /* our own hint: still unique */
			return;
		} else if (changed) {
			return; /* volatile pages do not match hints */
		} else if (!hint_holds(s, t)) {
			drop_entry(s, (uint64_t)i);
		} else {
			mv_gppn_t hg = 0;
			const struct mv_vm *hv = s->vms[hint_page(s, t, &hg)];
			if (!frames_equal(s, hv->pmap[hg].mpn, e->mpn)) {
				s->st.hash_collisions++;
				return;
			}
			if (e->flags & AUX_HINT)
				hint_remove_own(s, vi, g, e);
			/* slot i is unchanged by that removal only if it did
			 * not shift the run: look the key up again */
			i = tab_find(s, h);
			merge(s, vm, g, promote(s, (uint64_t)i));
			return;
		}
	}
	if (changed || !s->cfg.hints)
		return;
	/* a hint of ours under another hash with the same low 32 bits */
	if (e->flags & AUX_HINT)
		hint_remove_own(s, vi, g, e);
	if (tab_insert(s, h, hint_ref(s, vi, g)) == 0)
		e->flags |= AUX_HINT;
}

/* ---- public API --------------------------------------------------------- */

int mv_share_create(struct mv_host *h, const struct mv_share_config *c,
		    struct mv_sharer **out, struct mv_error *err)
{
	*out = NULL;
	if (c->sleep_ns == 0)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "sharing/sleep",
				    "must be more than 0");
	struct mv_sharer *s = calloc(1, sizeof *s);
	if (!s)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	s->host = h;
	s->cfg = *c;
	s->tab = tab_alloc(TABLE_MIN);
	s->mask = TABLE_MIN - 1;
	s->memo = calloc(MEMO_ENTRIES, sizeof *s->memo);
	if (!s->tab || !s->memo) {
		mv_share_destroy(s);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory for the sharing table");
	}
	mv_share_set_hash(s, NULL);
	*out = s;
	return 0;
}

void mv_share_destroy(struct mv_sharer *s)
{
	if (!s)
		return;
	free(s->vms);
	free(s->vm_base);
	free(s->vm_salt);
	free(s->frame_salt);
	tab_free(s->tab, s->mask + 1);
	free(s->memo);
	free(s);
}

int mv_share_add_vm(struct mv_sharer *s, struct mv_vm *vm)
{
	uint64_t base = s->nvms ? (uint64_t)s->vm_base[s->nvms - 1] +
					  s->vms[s->nvms - 1]->npages
				: 0;
	if (base < s->base_end)
		base = s->base_end;
	if (vm->host != s->host || base + vm->npages > REF_PAGES_MAX)
		return MV_EINVAL;
	for (uint32_t i = 0; i < s->nvms; i++)
		if (s->vms[i] == vm)
			return MV_EINVAL;
	if (mv_array_room(&s->vms, &s->cap_vms, s->nvms, sizeof *s->vms, 8) ||
	    mv_array_room(&s->vm_base, &s->cap_base, s->nvms,
			  sizeof *s->vm_base, 8) ||
	    mv_array_room(&s->vm_salt, &s->cap_salt, s->nvms,
			  sizeof *s->vm_salt, 8))
		return MV_ENOMEM;
	/* its flag bits and cksum are page sharing's; forget what a previous
	 * sharer may have left there */
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		vm->pmap[g].flags &= (uint8_t)~AUX_ALL;
		vm->pmap[g].cksum = 0;
	}
	s->vm_base[s->nvms] = (uint32_t)base;
	s->vm_salt[s->nvms] = 0;
	s->vms[s->nvms++] = vm;
	s->base_end = base + vm->npages;
	return 0;
}

/*
 * vm leaves the host (live migration, src/cluster/move.c): the scanner
 * passes it no more, and its hints leave the table. The others keep their
 * numbers (a VM added later gets new ones); the frames it shared go as
 * its pages unmap them (mv_vm_destroy), as for a VM whose pages are
 * released.
 */
int mv_share_remove_vm(struct mv_sharer *s, struct mv_vm *vm)
{
	uint32_t vi = 0;
	while (vi < s->nvms && s->vms[vi] != vm)
		vi++;
	if (vi == s->nvms)
		return MV_EINVAL;
	/* its hints go: the table names only pages of the sharer's VMs
	 * (a removal shifts a later entry into slot i: look at i again) */
	uint64_t lo = s->vm_base[vi], hi = lo + vm->npages;
	for (uint64_t i = 0; i <= s->mask;) {
		uint32_t r = s->tab[i].ref;
		if ((r & REF_HINT) && r != REF_EMPTY && (r & ~REF_HINT) >= lo &&
		    (r & ~REF_HINT) < hi)
			tab_remove(s, i);
		else
			i++;
	}
	size_t after = (size_t)(s->nvms - vi - 1);
	memmove(&s->vms[vi], &s->vms[vi + 1], after * sizeof *s->vms);
	memmove(&s->vm_base[vi], &s->vm_base[vi + 1],
		after * sizeof *s->vm_base);
	memmove(&s->vm_salt[vi], &s->vm_salt[vi + 1],
		after * sizeof *s->vm_salt);
	s->nvms--;
	if (s->cur_vm > vi)
		s->cur_vm--;
	else if (s->cur_vm == vi)
		s->cur_gppn = 0; /* the next VM's first page */
	if (s->cur_vm >= s->nvms)
		s->cur_vm = 0;
	if (vm->share_first == s)
		vm->share_first = NULL;
	return 0;
}

/* Has the scanner visited vm (a page shared, or carrying its marks)? */
static int visited(const struct mv_vm *vm)
{
	if (vm->count[MV_PS_SHARED])
		return 1;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		if (vm->pmap[g].flags & AUX_ALL)
			return 1;
	return 0;
}

/*
 * Put vm (added, not yet scanned) into salt group `group`. Its pages
 * then share only with pages of VMs of the same group.
 */
int mv_share_set_salt(struct mv_sharer *s, struct mv_vm *vm, uint32_t group)
{
	uint32_t vi = 0;
	while (vi < s->nvms && s->vms[vi] != vm)
		vi++;
	/* once scanning began, only a VM the scanner has not visited (one
	 * that arrived by live migration: no page shared, none marked) */
	if (vi == s->nvms || (s->st.pages_scanned && visited(vm)))
		return MV_EINVAL;
	if (group && !s->frame_salt) {
		s->frame_salt = calloc(s->host->nframes, sizeof *s->frame_salt);
		if (!s->frame_salt)
			return MV_ENOMEM;
	}
	s->vm_salt[vi] = group;
	return 0;
}

/* A page the scanner visits (the VM's own sharing switch aside). */
static inline int scan_candidate(const struct mv_pme *e)
{
	return e->state == MV_PS_PRIVATE &&
	       !(e->flags & (MV_PME_LARGE | MV_PME_PINNED));
}

/* The pages of the VMs that share: one lap. */
static uint64_t sharing_pages(const struct mv_sharer *s)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < s->nvms; i++)
		if (s->vms[i]->cfg.sharing)
			total += s->vms[i]->npages;
	return total;
}

/* How many candidates the scanner observes and hashes before visiting. */
#define SCAN_BATCH 16

/* A candidate observed and hashed ahead of its visit. */
struct scan_ahead {
	mv_gppn_t g;
	mv_mpn_t mpn; /* its frame when hashed: another frame, hash again */
	int hashed;   /* 0: it was an unchanged hinted page */
	uint64_t h;
};

/*
 * Observe and hash the candidates from page g of VM vi up to SCAN_BATCH
 * of them, as many as the budget reaches (done and idle counted as the
 * visits will count them, were every candidate still one), into b; then
 * read together what hashing and visiting them will read first at random
 * addresses: descriptors, memo entries, a hinted page's hint, each hash's
 * home slot. Returns how many; *x is the page after the last looked at.
 *
 * The slots are random addresses in up to 2^28 entries, a cache and TLB
 * miss each, the largest part of a lap's time when one was prefetched
 * per candidate: a prefetch that misses the TLB waits for its page walk
 * where it stands (as the interval model's events found, warm_fire), so
 * no two overlapped. Loads a few instructions apart do. The values read
 * are thrown away.
 */
static int scan_ahead(struct mv_sharer *s, uint32_t vi, struct mv_vm *vm,
		      uint64_t g, uint64_t n, uint64_t done, uint64_t idle,
		      uint64_t idle_max, int all, struct scan_ahead *b,
		      uint64_t *x)
{
	const struct mv_pme *pmap = vm->pmap;
	mv_gppn_t c[SCAN_BATCH];
	int m = 0;
	for (; g < vm->npages && done < n && idle < idle_max && m < SCAN_BATCH;
	     g++) {
		if (!scan_candidate(&pmap[g])) {
			idle++;
			done += all;
			continue;
		}
		idle = 0;
		done++;
		c[m++] = g;
	}
	*x = g;
	/* observing a page changes no other page's state */
	mv_vm_look_ahead(vm, c, (unsigned)m);
	for (int k = 0; k < m; k++)
		mv_vm_observe(vm, c[k]);
	/* what hashing them reads: the frames' descriptors and their memo
	 * entries, and a hinted page's hint (page_hash answers from it where
	 * keys depend on the node; visit removes it when the page changed);
	 * a page's observation changes no other page's bytes */
	uint64_t sink = 0;
	for (int k = 0; k < m; k++) {
		const struct mv_pme *e = &pmap[c[k]];
		b[k] = (struct scan_ahead){.g = c[k], .mpn = e->mpn};
		b[k].hashed = !unchanged_hinted(s, e);
		if (!b[k].hashed)
			continue;
		mv_desc_t d = mv_host_frame_desc(s->host, e->mpn);
		sink += s->memo[mv_mix64(d) & (MEMO_ENTRIES - 1)].hash;
		if (e->flags & AUX_HINT)
			sink += s->tab[e->cksum & s->mask].hash;
	}
	for (int k = 0; k < m; k++)
		if (b[k].hashed)
			b[k].h = page_hash(s, vi, vm, c[k]);
	/* then each hash's home slot, where visit looks it up */
	for (int k = 0; k < m; k++)
		if (b[k].hashed)
			sink += s->tab[b[k].h & s->mask].hash;
	mv_keep_loads(sink);
	return m;
}

/* Visit candidate g of VM vi: a is what scan_ahead made of it, or NULL
 * (then it is observed and hashed here). */
static void scan_visit(struct mv_sharer *s, uint32_t vi, struct mv_vm *vm,
		       mv_gppn_t g, const struct scan_ahead *a)
{
	const struct mv_pme *e = &vm->pmap[g];
	if (!a)
		mv_vm_observe(vm, g);
	if (unchanged_hinted(s, e)) {
		s->st.pages_scanned++;
		return;
	}
	uint64_t h = a && a->hashed && a->mpn == e->mpn
			     ? a->h
			     : page_hash(s, vi, vm, g);
	visit(s, vi, vm, g, h);
}

/*
 * Scan up to n candidate pages from the scan position; with to_lap_end,
 * stop when the current full scan completes. Without it, stop early only
 * when a whole lap of pages found no candidate. With all, the pages
 * passed over count towards n as well (scan-time).
 *
 * The candidates are observed and hashed up to SCAN_BATCH ahead of their
 * visits (scan_ahead), in page order, within the budget: the interval
 * model's writes since a page's last look are made (mv_vm_observe) at the
 * same simulated time, in the same order, and on the pages the visits
 * reach, as when each page was observed just before its own visit. A
 * visit changes no other page's bytes (a merge or zero mapping changes
 * only the visited page; promoting or dropping another page's hint
 * changes its state or flags, not its frame), so a hash made ahead is the
 * visit's own unless the page's frame changed meanwhile: then it is
 * hashed again; a page that is no longer a candidate is passed over. What
 * can differ from observing each page just before its visit: a page
 * written since its last look, whose old bytes the visit of an earlier
 * page of the batch matches by its hint, is no longer promoted on those
 * bytes, as its writes came first.
 */
static uint64_t scan_pages(struct mv_sharer *s, uint64_t n, int to_lap_end,
			   int all)
{
	uint64_t total = sharing_pages(s);
	if (n == 0 || total == 0)
		return 0;

	/* idle: pages passed over since the last candidate */
	uint64_t done = 0, idle = 0, idle_max = to_lap_end ? UINT64_MAX : total;
	struct scan_ahead b[SCAN_BATCH];
	for (;;) {
		struct mv_vm *vm = s->vms[s->cur_vm];
		if (vm->cfg.sharing) {
			const struct mv_pme *pmap = vm->pmap;
			uint64_t g = s->cur_gppn, end = vm->npages;
			while (g < end && done < n && idle < idle_max) {
				uint64_t x;
				int m = scan_ahead(s, s->cur_vm, vm, g, n, done,
						   idle, idle_max, all, b, &x);
				for (int k = 0;
				     g < x && done < n && idle < idle_max;
				     g++) {
					const struct mv_pme *e = &pmap[g];
					if (!scan_candidate(e)) {
						idle++;
						done += all;
						continue;
					}
					idle = 0;
					done++;
					while (k < m && b[k].g < g)
						k++;
					/* a page can only stop being a
					 * candidate meanwhile, not become one
					 */
					scan_visit(s, s->cur_vm, vm, g,
						   k < m && b[k].g == g ? &b[k]
									: NULL);
				}
			}
			s->cur_gppn = g;
			if (g < end)
				break; /* n done, or nothing to do */
		}
		s->cur_gppn = 0;
		if (++s->cur_vm == s->nvms) {
			s->cur_vm = 0;
			s->st.full_scans++;
			if (to_lap_end)
				break;
		}
		if (done >= n || idle >= idle_max)
			break;
	}
	return done;
}

/* The scanner's CPU time: measured around each call from outside (a
 * thread CPU clock is a system call, so once per simulator step, not per
 * scan of mv_share_run's loop). */
static void cpu_since(struct mv_sharer *s, double t0)
{
	s->st.cpu_ns += (uint64_t)((mv_cpu_s() - t0) * 1e9);
}

uint64_t mv_share_scan(struct mv_sharer *s, uint64_t n)
{
	double t0 = mv_cpu_s();
	uint64_t done = scan_pages(s, n, 0, 0);
	cpu_since(s, t0);
	return done;
}

int mv_share_page(struct mv_sharer *s, struct mv_vm *vm, mv_gppn_t g)
{
	uint32_t vi = 0;
	while (vi < s->nvms && s->vms[vi] != vm)
		vi++;
	if (vi == s->nvms || !vm->cfg.sharing || g >= vm->npages ||
	    !scan_candidate(&vm->pmap[g]))
		return 0;
	double t0 = mv_cpu_s();
	mv_vm_observe(vm, g);
	visit(s, vi, vm, g, page_hash(s, vi, vm, g));
	cpu_since(s, t0);
	return vm->pmap[g].state != MV_PS_PRIVATE;
}

uint64_t mv_share_scan_lap(struct mv_sharer *s)
{
	double t0 = mv_cpu_s();
	uint64_t done = scan_pages(s, UINT64_MAX, 1, 0);
	cpu_since(s, t0);
	return done;
}

uint64_t mv_share_run(struct mv_sharer *s, uint64_t dt_ns)
{
	if (!s->cfg.enabled)
		return 0;
	uint64_t done = 0;
	s->run_ns += dt_ns;
	if (s->run_ns < s->cfg.sleep_ns)
		return 0;
	double t0 = mv_cpu_s();
	uint64_t total = s->cfg.scan_time_ns ? sharing_pages(s) : 0;
	while (s->run_ns >= s->cfg.sleep_ns) {
		s->run_ns -= s->cfg.sleep_ns;
		uint64_t n = s->cfg.pages_to_scan;
		if (s->cfg.scan_time_ns) {
			/* total pages per scan_time, the remainder carried:
			 * exactly one lap in scan_time */
			unsigned __int128 c = (unsigned __int128)total *
						      s->cfg.sleep_ns +
					      s->scan_carry;
			n = (uint64_t)(c / s->cfg.scan_time_ns);
			s->scan_carry = (uint64_t)(c % s->cfg.scan_time_ns);
		}
		done += scan_pages(s, n, 0, s->cfg.scan_time_ns != 0);
	}
	cpu_since(s, t0);
	return done;
}

/*
 * pages_shared and pages_sharing from the host's counters, kept as
 * sharing frames gain and lose mappings: every sharing frame has exactly
 * one live entry here (mv_share_check compares the two).
 */
void mv_share_series(const struct mv_sharer *s, struct mv_share_stats *st)
{
	*st = s->st;
	st->pages_shared = s->host->shared_frames;
	st->pages_sharing = s->host->shared_refs - s->host->shared_frames;
	st->pages_unshared = st->pages_volatile = 0;
	st->zero_pages = 0;
	for (uint32_t i = 0; i < s->nvms; i++)
		st->zero_pages += s->vms[i]->count[MV_PS_ZERO];
	st->sim_cpu_ns = st->pages_scanned * s->cfg.page_cost_ns;
}

/* The series' figures, then the two gauges only a walk can give: live
 * hints and volatile private pages. */
void mv_share_stats(const struct mv_sharer *s, struct mv_share_stats *st)
{
	mv_share_series(s, st);
	for (uint64_t i = 0; i <= s->mask; i++) {
		const struct share_entry *t = &s->tab[i];
		if (t->ref & REF_HINT)
			st->pages_unshared += (uint64_t)hint_live(s, t);
	}
	for (uint32_t i = 0; i < s->nvms; i++) {
		const struct mv_vm *vm = s->vms[i];
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			st->pages_volatile += vm->pmap[g].state ==
						      MV_PS_PRIVATE &&
					      (vm->pmap[g].flags &
					       AUX_VOLATILE);
	}
}

int mv_share_check(const struct mv_sharer *s, struct mv_error *err)
{
	const struct mv_host *h = s->host;
	uint64_t used = 0;
	int rc = 0;
	uint8_t buf[MV_PAGE_SIZE]; /* materialised: the memo is not trusted */
	/* frames with a live entry, to find duplicates and missing ones */
	struct mv_bitmap has;
	if (mv_bitmap_init(&has, h->nframes))
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "sharing",
				    "out of memory");
	for (uint64_t i = 0; i <= s->mask && !rc; i++) {
		const struct share_entry *t = &s->tab[i];
		if (t->ref == REF_EMPTY)
			continue;
		used++;
		if (tab_find(s, t->hash) != (int64_t)i) {
			rc = mv_error_set(err, MV_EINVAL, NULL, 0, "sharing",
					  "table slot %llu (hash %016llx) is "
					  "not where a lookup finds its key",
					  (unsigned long long)i,
					  (unsigned long long)t->hash);
		} else if (t->ref & REF_HINT) {
			mv_gppn_t g;
			if (hint_page(s, t, &g) < 0)
				rc = mv_error_set(
					err, MV_EINVAL, NULL, 0, "sharing",
					"hint in slot %llu names page %u of "
					"the sharer's VMs, which does not "
					"exist",
					(unsigned long long)i,
					t->ref & ~REF_HINT);
		} else if (t->ref >= h->nframes || t->ref == MV_ZERO_MPN) {
			rc = mv_error_set(err, MV_EINVAL, NULL, 0, "sharing",
					  "entry in slot %llu names frame %u",
					  (unsigned long long)i, t->ref);
		} else if (shared_frame(s, t)) {
			uint64_t fh = node_key(s, t->ref,
					       s->hash(mv_host_frame_read(
						       h, t->ref, buf))) ^
				      frame_key(s, t->ref);
			int64_t j = fh == t->hash ? (int64_t)i
						  : tab_find(s, fh);
			/* another hash: a stale entry if the frame's bytes
			 * name an entry of their own for it, else written */
			if (j < 0 || (s->tab[j].ref & REF_HINT) ||
			    s->tab[j].ref != t->ref)
				rc = mv_error_set(
					err, MV_EINVAL, NULL, 0, "sharing",
					"sharing frame %u no longer hashes to "
					"its entry: a shared frame was written",
					t->ref);
			else if (j != (int64_t)i)
				continue; /* stale */
			else if (mv_bitmap_test(&has, t->ref))
				rc = mv_error_set(
					err, MV_EINVAL, NULL, 0, "sharing",
					"sharing frame %u has two live entries",
					t->ref);
			mv_bitmap_set(&has, t->ref);
		}
	}
	if (!rc && used != s->used)
		rc = mv_error_set(
			err, MV_EINVAL, NULL, 0, "sharing",
			"%llu entries in the table, counter says %llu",
			(unsigned long long)used, (unsigned long long)s->used);
	if (!rc && mv_bitmap_count(&has) != h->shared_frames)
		rc = mv_error_set(err, MV_EINVAL, NULL, 0, "sharing",
				  "%llu sharing frames with a live entry, the "
				  "host counts %llu",
				  (unsigned long long)mv_bitmap_count(&has),
				  (unsigned long long)h->shared_frames);
	for (uint32_t vi = 0; vi < s->nvms && !rc; vi++) {
		const struct mv_vm *vm = s->vms[vi];
		for (mv_gppn_t g = 0; g < vm->npages && !rc; g++) {
			const struct mv_pme *e = &vm->pmap[g];
			if (e->state == MV_PS_SHARED &&
			    (e->mpn >= h->nframes ||
			     !mv_bitmap_test(&has, e->mpn)))
				rc = mv_error_set(
					err, MV_EINVAL, NULL, 0, vm->cfg.name,
					"shared page %llu maps frame %u, which "
					"has no live sharing entry",
					(unsigned long long)g, e->mpn);
			if (rc || !(e->flags & AUX_HINT))
				continue;
			/* the page's hint must be where its cksum says */
			if (hint_slot(s, vi, g, e) < 0)
				rc = mv_error_set(
					err, MV_EINVAL, NULL, 0, vm->cfg.name,
					"page %llu is marked as hinted but the "
					"table has no hint for it",
					(unsigned long long)g);
		}
	}
	if (!rc && (s->nvms ? s->cur_vm >= s->nvms ||
				      s->cur_gppn > s->vms[s->cur_vm]->npages
			    : s->cur_vm != 0))
		rc = mv_error_set(
			err, MV_EINVAL, NULL, 0, "sharing",
			"scan position VM %u page %llu is out of range",
			s->cur_vm, (unsigned long long)s->cur_gppn);
	mv_bitmap_free(&has);
	return rc;
}

void mv_share_ksm_view(const struct mv_sharer *s,
		       const struct mv_share_stats *st,
		       uint64_t max_page_sharing, struct mv_ksm_view *out)
{
	const struct mv_host *h = s->host;
	memset(out, 0, sizeof *out);
	out->max_page_sharing = max_page_sharing;
	for (mv_mpn_t m = 1; m < h->nframes; m++) {
		if (!(mv_frame_word(h, m) & MV_FRAME_SHARED))
			continue;
		uint64_t refs = mv_host_frame_refs(h, m);
		if (!refs)
			continue;
		uint64_t pages = (refs + max_page_sharing - 1) /
				 max_page_sharing;
		out->pages_shared += pages;
		out->pages_sharing += refs - pages;
		if (pages > 1) {
			out->stable_node_chains++;
			out->stable_node_dups += pages;
		}
	}
	uint64_t saved = out->pages_sharing + st->zero_pages;
	uint64_t rmap = out->pages_shared + out->pages_sharing +
			st->pages_unshared + st->pages_volatile;
	out->general_profit = (int64_t)(saved * MV_PAGE_SIZE) -
			      (int64_t)(rmap * MV_KSM_RMAP_ITEM_BYTES);
}

void mv_share_books(const struct mv_sharer *s, struct mv_books *b)
{
	mv_books_add(b, "hypervisor", "share.table", sizeof *s->tab,
		     s->mask + 1);
	mv_books_add(b, "hypervisor", "share.vms", sizeof *s->vms, s->cap_vms);
	mv_books_add(b, "hypervisor", "share.vm-base", sizeof *s->vm_base,
		     s->cap_base);
	mv_books_add(b, "hypervisor", "share.vm-salt", sizeof *s->vm_salt,
		     s->cap_salt);
	if (s->frame_salt)
		mv_books_add(b, "hypervisor", "share.frame-salt",
			     sizeof *s->frame_salt, s->host->nframes);
}
