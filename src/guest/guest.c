/*
 * guest.c - the guest operating system: free list, page cache, anonymous
 * memory, its own swap, and the workloads of its processes.
 *
 * The guest owns the meaning of guest-physical pages; the hypervisor (vm
 * layer) owns what backs them. Every time the guest reads or writes a page's
 * bytes it goes through mv_vm_access(), which may fault (first touch, COW,
 * page-in) or return NULL when the VM cannot get memory. The guest treats a
 * NULL as a stalled vCPU: it undoes the half-done operation, so its books
 * stay exact, and tries again in a later step.
 *
 * Under guest memory pressure the kernel frees pages the way Linux does:
 * clean page cache first (a clock over cache pages with referenced bits),
 * then anonymous pages, which it writes to its own swap device. The
 * guest's swap is the guest's business: the hypervisor sees it only as
 * reads of the victim page (which may itself be hypervisor-swapped: the
 * "double paging" problem) and writes on swap-in.
 *
 * What each process does (which pages, when, phases, leaks, traces) is its
 * workload's business (workload.c); the guest carries out the touches and
 * releases a workload asks for (struct gwork_ops).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest/guest.h"
#include "memvisor/image.h"

/* ---- page bookkeeping --------------------------------------------------- */

#define LNIL UINT32_MAX

static int on_clock(enum gkind k)
{
	return k == GK_CACHE || k == GK_ANON;
}

/* The clock links (struct gnum link: next at 2p, prev at 2p + 1). */
static uint32_t next_of(const struct mv_guest *g, uint32_t p)
{
	return gnum_get(&g->link, 2 * (uint64_t)p);
}

static uint32_t prev_of(const struct mv_guest *g, uint32_t p)
{
	return gnum_get(&g->link, 2 * (uint64_t)p + 1);
}

static void set_next(struct mv_guest *g, uint32_t p, uint32_t n)
{
	gnum_set(&g->link, 2 * (uint64_t)p, n);
}

static void set_prev(struct mv_guest *g, uint32_t p, uint32_t n)
{
	gnum_set(&g->link, 2 * (uint64_t)p + 1, n);
}

/*
 * The clocks' times, for the interval model: when the hand last passed a
 * page or it joined its clock, in ms of simulated time (giv_now_ms),
 * what giv_referenced draws over. Round a clock from its hand these
 * times only grow (a page gets the time now as it joins behind the hand
 * or the hand passes it), so a page keeps 2 bytes: its time less its
 * predecessor's, modulo 2^32, in passed[]; the hand's own time and the
 * last page's are kept per clock (hand_ms, tail_ms), and the differences
 * of PASSED_BIG or more (65.5 s or more between neighbours, or a time
 * that went back) in the map `big`, keyed by page: at most one per
 * 65.5 s of the times a clock spans. The arithmetic is modulo 2^32, so
 * every time read back is the one written. Without the interval model
 * (passed NULL) nothing here moves; pages already on a clock when it
 * starts have time 0, as the hand's and the last page's.
 */
#define PASSED_BIG UINT16_MAX
#define BIG_NONE UINT32_MAX

static uint64_t big_home(const struct gbig *m, uint32_t k)
{
	return mv_mix64(k) & (m->cap - 1);
}

/* The slot of key k, or the empty one it would go in (m->cap > 0). */
static uint64_t big_find(const struct gbig *m, uint32_t k)
{
	uint64_t i = big_home(m, k);
	while (m->key[i] != k && m->key[i] != BIG_NONE)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void big_put(struct gbig *m, uint32_t k, uint32_t v)
{
	if (2 * (m->n + 1) > m->cap) { /* at most half full */
		struct gbig o = *m;
		m->cap = o.cap ? 2 * o.cap : 64;
		m->key = malloc(m->cap * sizeof *m->key);
		m->val = malloc(m->cap * sizeof *m->val);
		if (!m->key || !m->val)
			abort(); /* out of memory mid-step: no way back */
		memset(m->key, 0xff, m->cap * sizeof *m->key);
		for (uint64_t i = 0; i < o.cap; i++) {
			if (o.key[i] == BIG_NONE)
				continue;
			uint64_t j = big_find(m, o.key[i]);
			m->key[j] = o.key[i];
			m->val[j] = o.val[i];
		}
		free(o.key);
		free(o.val);
	}
	uint64_t i = big_find(m, k);
	if (m->key[i] == BIG_NONE) {
		m->key[i] = k;
		m->n++;
	}
	m->val[i] = v;
}

/* Remove key k, moving back the entries after it that may move (linear
 * probing without tombstones). */
static void big_del(struct gbig *m, uint32_t k)
{
	if (!m->cap)
		return;
	uint64_t mask = m->cap - 1, i = big_find(m, k), j = i;
	if (m->key[i] != k)
		return;
	m->n--;
	for (;;) {
		m->key[i] = BIG_NONE;
		for (;;) {
			j = (j + 1) & mask;
			if (m->key[j] == BIG_NONE)
				return;
			/* stays unless its home is outside (i, j] */
			uint64_t h = big_home(m, m->key[j]);
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		m->key[i] = m->key[j];
		m->val[i] = m->val[j];
		i = j;
	}
}

/* Page p's time less its predecessor's. */
static uint32_t passed_get(const struct mv_guest *g, uint32_t p)
{
	uint16_t d = g->passed[p];
	return d != PASSED_BIG ? d : g->big.val[big_find(&g->big, p)];
}

static void passed_set(struct mv_guest *g, uint32_t p, uint32_t d)
{
	if (d >= PASSED_BIG)
		big_put(&g->big, p, d);
	else if (g->passed[p] == PASSED_BIG)
		big_del(&g->big, p);
	g->passed[p] = d < PASSED_BIG ? (uint16_t)d : PASSED_BIG;
}

/* p joins kind k's clock behind the hand, h (LNIL: it is empty). */
static void time_add(struct mv_guest *g, enum gkind k, uint32_t p, uint32_t h)
{
	uint32_t now = giv_now_ms(g);
	passed_set(g, p, h == LNIL ? 0 : now - g->tail_ms[k]);
	if (h == LNIL)
		g->hand_ms[k] = now;
	g->tail_ms[k] = now;
}

/* p, followed by n, leaves kind k's clock. */
static void time_del(struct mv_guest *g, enum gkind k, uint32_t p, uint32_t n)
{
	if (n != p) {
		if (g->hand[k] == p)
			g->hand_ms[k] += passed_get(g, n);
		else if (g->hand[k] == n) /* p is the last */
			g->tail_ms[k] -= passed_get(g, p);
		else
			passed_set(g, n, passed_get(g, n) + passed_get(g, p));
	}
	passed_set(g, p, 0);
}

/* Insert p just behind kind k's hand: it is visited last. */
static void clock_add(struct mv_guest *g, enum gkind k, uint32_t p)
{
	uint32_t h = g->hand[k];
	if (g->passed)
		time_add(g, k, p, h); /* not referenced before it came */
	if (h == LNIL) {
		set_next(g, p, p);
		set_prev(g, p, p);
		g->hand[k] = p;
		return;
	}
	uint32_t t = prev_of(g, h);
	set_next(g, t, p);
	set_prev(g, p, t);
	set_next(g, p, h);
	set_prev(g, h, p);
}

static void clock_del(struct mv_guest *g, enum gkind k, uint32_t p)
{
	uint32_t n = next_of(g, p);
	if (g->passed)
		time_del(g, k, p, n);
	if (n == p) {
		g->hand[k] = LNIL;
		return;
	}
	uint32_t t = prev_of(g, p);
	set_next(g, t, n);
	set_prev(g, n, t);
	if (g->hand[k] == p)
		g->hand[k] = n;
}

static void set_kind(struct mv_guest *g, mv_gppn_t p, enum gkind k)
{
	enum gkind old = gpage_kind(g, p);
	if (old != k) {
		if (on_clock(old))
			clock_del(g, old, (uint32_t)p);
		if (on_clock(k))
			clock_add(g, k, (uint32_t)p);
	}
	assert(g->nkind[old] > 0); /* the per-kind counts never go below zero */
	g->nkind[old]--;
	g->nkind[k]++;
	g->kind[p] = (uint8_t)((g->kind[p] & GOWNER_MASK) | k);
	if (g->iv)
		giv_page_changed(g, p);
}

static enum gkind kind_of(const struct mv_guest *g, mv_gppn_t p)
{
	return gpage_kind(g, p);
}

/* Page p is page `index` of process `owner` (0 for the OS image). */
static void set_use(struct mv_guest *g, mv_gppn_t p, uint32_t owner,
		    uint64_t index)
{
	g->kind[p] = (uint8_t)((g->kind[p] & ~GOWNER_MASK) |
			       owner << GOWNER_SHIFT);
	gnum_set(&g->index, p, (uint32_t)index);
}

/* Raise a sparse array's high-water mark to n elements. */
static void raise_hw(uint64_t *hw, uint64_t n)
{
	if (n > *hw)
		*hw = n;
}

/* Put p on top of the free list (its kind already GK_FREE). */
static void free_stack(struct mv_guest *g, mv_gppn_t p)
{
	uint64_t i = g->nfree - g->nfresh;
	g->free[i] = (uint32_t)p;
	g->nfree++;
	raise_hw(&g->free_hw, i + 1);
}

/* The page the free list hands out next (g->nfree > 0). */
static mv_gppn_t free_top(const struct mv_guest *g)
{
	uint64_t i = g->nfree - g->nfresh;
	return i ? g->free[i - 1] : g->fresh;
}

/* Take free_top off the free list. */
static void free_pop(struct mv_guest *g)
{
	if (g->nfree-- == g->nfresh) {
		g->nfresh--;
		if (++g->fresh == g->hole_lo)
			g->fresh = g->hole_hi;
	}
}

static void free_push(struct mv_guest *g, mv_gppn_t p)
{
	set_kind(g, p, GK_FREE);
	free_stack(g, p);
}

static void zeroed_push(struct mv_guest *g, mv_gppn_t p)
{
	g->zeroed[g->nzeroed++] = (uint32_t)p;
	raise_hw(&g->zeroed_hw, g->nzeroed);
}

/* A free guest swap slot (g->nswap_free > 0): the last freed, else the
 * lowest never used. */
static uint32_t swap_slot_take(struct mv_guest *g)
{
	uint64_t i = g->nswap_free - (g->swap_slots - g->swap_fresh);
	g->nswap_free--;
	return i ? g->swap_free[i - 1] : (uint32_t)g->swap_fresh++;
}

static void swap_slot_free(struct mv_guest *g, uint32_t slot)
{
	uint64_t i = g->nswap_free - (g->swap_slots - g->swap_fresh);
	g->swap_free[i] = slot;
	g->nswap_free++;
	raise_hw(&g->swap_free_hw, i + 1);
}

/*
 * Write a page's whole contents as the guest does (memcpy): src's bytes.
 * The frame holds bytes from then on.
 */
static int write_page(struct mv_guest *g, mv_gppn_t p, const uint8_t *src)
{
	if (!mv_vm_access(g->vm, p, 1))
		return MV_EAGAIN;
	memcpy(mv_vm_page_bytes(g->vm, p), src, MV_PAGE_SIZE);
	mv_vm_wrote(g->vm, p);
	return 0;
}

/*
 * Write a page's whole contents with generated content G(d) (memset for
 * zeros, a program's fill): the hypervisor sees the write; the frame
 * holds the descriptor, and no byte of the arena is written.
 */
static int write_desc(struct mv_guest *g, mv_gppn_t p, mv_desc_t d)
{
	if (!mv_vm_access(g->vm, p, 1))
		return MV_EAGAIN;
	mv_vm_set_desc(g->vm, p, d);
	return 0;
}

static int fill_page(struct mv_guest *g, mv_gppn_t p, enum mv_content c,
		     uint64_t name_hash, uint64_t index, uint64_t key,
		     double compressibility)
{
	return write_desc(
		g, p,
		mv_content_desc(c, name_hash, index, key, compressibility));
}

/* ---- reclaim inside the guest ------------------------------------------- */

static void drop_cache_page(struct mv_guest *g, mv_gppn_t p)
{
	g->cache[gpage_index(g, p)] = 0;
	free_push(g, p);
	if (g->iv)
		giv_cache_dropped(g, gpage_index(g, p));
}

/* With an MMU model: clear process `owner`'s hardware entry for vpn. */
static int unmap_vpn(struct mv_guest *g, uint32_t owner, uint64_t vpn)
{
	if (!g->mmu)
		return 0;
	int rc = mv_mmu_unmap_proc(g->mmu, g->mproc[owner],
				   gwork_gva(&g->work[owner], vpn));
	return rc == MV_EINVAL ? 0 : rc; /* EINVAL: not mapped (yet) */
}

/* Write an anonymous page to guest swap and free it. */
static int swap_out(struct mv_guest *g, mv_gppn_t p)
{
	if (!g->nswap_free)
		return MV_EAGAIN;
	/* the kernel unmaps the page before it writes it out (try_to_unmap) */
	int rc = unmap_vpn(g, gpage_owner(g, p), gpage_index(g, p));
	if (rc)
		return rc;
	/* the guest's disk write reads the page by DMA: the hypervisor must
	 * bring it in first if it reclaimed it, but no guest access is
	 * seen (the process touched it last, as the clock decided) */
	uint8_t *src = mv_vm_dma_read(g->vm, p);
	if (!src)
		return MV_EAGAIN;
	uint32_t slot = swap_slot_take(g);
	/* generated content is stored as its descriptor, bytes as bytes */
	g->swap_desc[slot] = mv_vm_page_desc(g->vm, p);
	if (g->swap_desc[slot] == MV_DESC_BYTES)
		memcpy(g->swap + (uint64_t)slot * MV_PAGE_SIZE, src,
		       MV_PAGE_SIZE);
	struct gproc *pr = &g->proc[gpage_owner(g, p)];
	pr->pte[gpage_index(g, p)] = PTE_SWAP | slot;
	pr->rss--;
	g->st.swap_out++;
	free_push(g, p);
	if (g->iv)
		giv_swapped_out(g, gpage_owner(g, p), gpage_index(g, p));
	return 0;
}

/*
 * Free one page by the clock algorithm: a referenced page gets a second
 * chance; clean cache is taken before anonymous memory (two sweeps).
 */
/* Move kind k's hand on a page: the page it was on is now the last, its
 * time now; returns that page's time before (the interval model's). */
static uint32_t clock_pass(struct mv_guest *g, enum gkind k)
{
	uint32_t p = g->hand[k], n = next_of(g, p);
	g->hand[k] = n;
	if (!g->passed)
		return 0;
	uint32_t was = g->hand_ms[k], now = giv_now_ms(g);
	if (n != p) {
		g->hand_ms[k] = was + passed_get(g, n);
		passed_set(g, p, now - g->tail_ms[k]);
	} else {
		g->hand_ms[k] = now;
	}
	g->tail_ms[k] = now;
	return was;
}

static int reclaim_one(struct mv_guest *g)
{
	for (int pass = 0; pass < 2; pass++) {
		enum gkind want = pass == 0 ? GK_CACHE : GK_ANON;
		if (!g->nkind[want] || (want == GK_ANON && !g->nswap_free))
			continue;
		/* two turns of the clock: the first may only clear bits */
		for (uint64_t n = 0; n <= 2 * g->nkind[want]; n++) {
			mv_gppn_t p = g->hand[want];
			uint32_t passed = clock_pass(g, want);
			if (g->kind[p] & GREF) {
				g->kind[p] &= (uint8_t)~GREF;
				continue;
			}
			/* the interval model sets no bit on a resident page:
			 * drawn as the hand passes */
			if (g->iv &&
			    giv_referenced(g, (uint32_t)p, want, passed))
				continue;
			if (want == GK_CACHE) {
				drop_cache_page(g, p);
				return 0;
			}
			return swap_out(g, p);
		}
	}
	return MV_EAGAIN;
}

/* Pages of the free list whose books are read together, ahead. */
#define FREE_WARM 16

/*
 * Read the books of the next FREE_WARM pages the free list hands out:
 * their pmap entries, then their frames' descriptors, write_desc's two
 * loads once the page is written (a random page, once pages are
 * recycled). A software prefetch of the next page alone, as before,
 * waited for its page walk where it stood on this machine (the arrays
 * are hundreds of MiB), so nothing overlapped; these loads are
 * independent and a few instructions apart, so their misses do. The
 * values are thrown away: a hint only, nothing depends on it (pages
 * freed meanwhile go on top, and are read when handed out).
 */
static void warm_free(const struct mv_guest *g)
{
	uint64_t top = g->nfree - g->nfresh;
	uint64_t n = top < FREE_WARM ? top : FREE_WARM;
	const struct mv_pme *pmap = g->vm->pmap;
	const struct mv_host *h = g->vm->host;
	uint32_t mpn[FREE_WARM];
	for (uint64_t k = 0; k < n; k++) {
		const struct mv_pme *e = &pmap[g->free[top - 1 - k]];
		mpn[k] = e->state == MV_PS_PRIVATE ? e->mpn : MV_MPN_NONE;
	}
	mv_desc_t sink = 0;
	for (uint64_t k = 0; k < n; k++)
		if (mpn[k] < h->nframes)
			sink += h->fdesc[mpn[k]];
	mv_keep_loads(sink);
}

/* Take a page off the free lists (windows: zeroed first); *zeroed says
 * whether its contents are known to be zero already. */
static int take_free(struct mv_guest *g, mv_gppn_t *out, int *zeroed)
{
	if (g->nzeroed) {
		*out = g->zeroed[--g->nzeroed];
		*zeroed = 1;
		return 0;
	}
	if (g->nfree) {
		*out = free_top(g);
		free_pop(g);
		*zeroed = 0;
		if (g->free_warm == 0) {
			warm_free(g);
			g->free_warm = FREE_WARM;
		}
		g->free_warm--;
		return 0;
	}
	return MV_EAGAIN;
}

static int alloc_page(struct mv_guest *g, mv_gppn_t *out, int *zeroed)
{
	while (take_free(g, out, zeroed) != 0) {
		int rc = reclaim_one(g);
		if (rc)
			return rc;
	}
	return 0;
}

/* Put a page taken with alloc_page back (an operation was abandoned). */
static void unalloc_page(struct mv_guest *g, mv_gppn_t p, int zeroed)
{
	if (zeroed)
		zeroed_push(g, p);
	else
		free_stack(g, p);
}

int mv_guest_alloc_page(struct mv_guest *g, mv_gppn_t *out)
{
	int zeroed;
	int rc = alloc_page(g, out, &zeroed);
	if (rc == 0)
		set_kind(g, *out, GK_BALLOON);
	return rc;
}

/* ---- page cache and anonymous faults ------------------------------------ */

/*
 * Readahead: a major fault is one disk request, and the kernel reads more
 * than the faulting page with it (docs/ballooning.md, "Faults and
 * readahead"). The page cache reads a window of read_ahead_kb = 128 KiB
 * (Linux's default, VM_READAHEAD_PAGES): from the page on for a
 * sequential read (the boot's, mm/readahead.c), around it for a random
 * one (filemap_fault's read-around, do_sync_mmap_readahead: ra_pages/2
 * before it). A swap-in reads the 2^page-cluster = 8 pages of the
 * process's aligned window that are in guest swap (vm.page-cluster 3,
 * swap_vma_readahead). The faulting page may make room by reclaim; the
 * others take only free pages (readahead never evicts to make room for
 * itself here), and stop at the first one the VM cannot back.
 */
#define READAHEAD_PAGES 32
#define SWAP_CLUSTER_PAGES 8

/* Read OS image page idx into free page p: its page cache entry. 0, or
 * MV_EAGAIN when the VM cannot back p now. */
static int cache_insert(struct mv_guest *g, uint64_t idx, mv_gppn_t p)
{
	int rc = fill_page(g, p, MV_CONTENT_OS, g->os_hash, idx, 0, 0);
	if (rc)
		return rc;
	set_kind(g, p, GK_CACHE);
	set_use(g, p, 0, idx);
	g->cache[idx] = (uint32_t)p + 1;
	return 0;
}

/* The readahead part of a page-cache fault: the window's other pages,
 * from the free list only. */
static void cache_readahead(struct mv_guest *g, uint64_t idx, uint64_t lo,
			    uint64_t hi)
{
	for (uint64_t j = lo; j < hi; j++) {
		if (j == idx || g->cache[j])
			continue;
		mv_gppn_t q;
		int zeroed;
		if (take_free(g, &q, &zeroed))
			return;
		if (cache_insert(g, j, q)) {
			unalloc_page(g, q, zeroed);
			return;
		}
		g->st.readahead_pages++;
	}
}

/*
 * Make OS image page `idx` resident in the page cache: a major fault, one
 * disk request that brings its readahead window (sequential: the boot's
 * read of the image; else the read-around of a random miss).
 */
static int cache_fill(struct mv_guest *g, uint64_t idx, int sequential,
		      mv_gppn_t *out)
{
	mv_gppn_t p;
	int zeroed;
	int rc = alloc_page(g, &p, &zeroed);
	if (rc)
		return rc;
	rc = cache_insert(g, idx, p);
	if (rc) {
		unalloc_page(g, p, zeroed);
		return rc;
	}
	uint64_t lo = idx;
	if (!sequential)
		lo = idx > READAHEAD_PAGES / 2 ? idx - READAHEAD_PAGES / 2 : 0;
	uint64_t hi = lo + READAHEAD_PAGES;
	cache_readahead(g, idx, lo, hi < g->os_pages ? hi : g->os_pages);
	/* PGFAULT counts every fault, PGMAJFAULT those that waited on I/O */
	g->st.major_fault++;
	g->st.minor_fault++;
	mv_vm_charge_guest(g->vm, g->vm->host->cfg.lat.guest_major);
	*out = p;
	return 0;
}

/* The kernel clears a new page of w's process, then the program fills it
 * at vpn: one pass of writes with the final bytes. */
static int fill_anon(struct mv_guest *g, struct gwork *w, uint64_t vpn,
		     mv_gppn_t p)
{
	if (w->cfg.profile) { /* a real image's mix: image.h, profiles */
		struct mv_profile_page d;
		mv_profile_page(w->cfg.profile, vpn, &d);
		return write_desc(g, p, mv_content_profile_desc(&d));
	}
	uint64_t key = mv_mix64(g->seed ^ ((uint64_t)w->proc << 40) ^ vpn);
	return fill_page(g, p, w->cfg.content, w->name_hash, vpn, key,
			 w->cfg.compressibility);
}

/* Map page p at vpn of w's process. */
static void anon_map(struct mv_guest *g, struct gwork *w, uint64_t vpn,
		     mv_gppn_t p)
{
	struct gproc *pr = &g->proc[w->proc];
	set_kind(g, p, GK_ANON);
	set_use(g, p, (uint32_t)w->proc, vpn);
	pr->pte[vpn] = (uint32_t)p + 1;
	pr->rss++;
}

/* Read vpn of w's process back from its guest swap slot into free page p
 * and map it (PSWPIN). 0, or MV_EAGAIN when the VM cannot back p now. */
static int swap_read(struct mv_guest *g, struct gwork *w, uint64_t vpn,
		     mv_gppn_t p)
{
	uint32_t slot = g->proc[w->proc].pte[vpn] & ~PTE_SWAP;
	int rc = g->swap_desc[slot] != MV_DESC_BYTES
			 ? write_desc(g, p, g->swap_desc[slot])
			 : write_page(g, p,
				      g->swap + (uint64_t)slot * MV_PAGE_SIZE);
	if (rc)
		return rc;
	swap_slot_free(g, slot);
	g->st.swap_in++;
	anon_map(g, w, vpn, p);
	return 0;
}

/*
 * Swap readahead: the other pages of vpn's aligned window of
 * SWAP_CLUSTER_PAGES that are in guest swap, read with the same request
 * into free pages. Linux leaves them in the swap cache and maps each on
 * its next touch (a minor fault); memvisor maps them now, so those minor
 * faults are not counted.
 */
static void swap_readahead(struct mv_guest *g, struct gwork *w, uint64_t vpn)
{
	const struct gproc *pr = &g->proc[w->proc];
	uint64_t lo = vpn & ~(uint64_t)(SWAP_CLUSTER_PAGES - 1);
	for (uint64_t v = lo; v < lo + SWAP_CLUSTER_PAGES && v < pr->nvpages;
	     v++) {
		if (v == vpn || !(pr->pte[v] & PTE_SWAP))
			continue;
		mv_gppn_t q;
		int zeroed;
		if (take_free(g, &q, &zeroed))
			return;
		if (swap_read(g, w, v, q)) {
			unalloc_page(g, q, zeroed);
			return;
		}
		g->st.readahead_pages++;
	}
}

/*
 * Resolve a process page: map a fresh page (minor fault: zeroed by the
 * kernel unless it came from the zeroed list, then initialised with the
 * workload's content) or read it back from guest swap with its readahead
 * window (major fault, one disk request). Every fault counts in
 * minor_fault (Linux's PGFAULT), the major ones in major_fault too.
 */
static int anon_fault(struct mv_guest *g, struct gwork *w, uint64_t vpn,
		      mv_gppn_t *out)
{
	uint32_t pte = g->proc[w->proc].pte[vpn];
	mv_gppn_t p;
	int zeroed;
	int rc = alloc_page(g, &p, &zeroed);
	if (rc) {
		if (rc == MV_EAGAIN && !g->nkind[GK_CACHE] && !g->nswap_free)
			g->st.oom_kills++;
		return rc;
	}
	if (pte & PTE_SWAP) {
		rc = swap_read(g, w, vpn, p);
		if (rc) {
			unalloc_page(g, p, zeroed);
			return rc;
		}
		swap_readahead(g, w, vpn);
		g->st.major_fault++;
		mv_vm_charge_guest(g->vm, g->vm->host->cfg.lat.guest_major);
	} else {
		if (!zeroed || w->cfg.content != MV_CONTENT_ZERO) {
			rc = fill_anon(g, w, vpn, p);
			if (rc) {
				unalloc_page(g, p, zeroed);
				return rc;
			}
		}
		anon_map(g, w, vpn, p);
	}
	g->st.minor_fault++;
	*out = p;
	return 0;
}

/*
 * Process i gives page vpn back (munmap, exit): the guest gets the page;
 * the hypervisor is not told and keeps backing it. 0, or MV_EAGAIN when
 * its page-table entry cannot be cleared now (nothing changed). A 2 MiB
 * hugetlbfs page is not given back by the 4 KiB: release_huge at exit.
 */
static int release_vpn(struct mv_guest *g, int i, uint64_t vpn)
{
	struct gproc *pr = &g->proc[i];
	uint32_t pte = pr->pte[vpn];
	if (!pte || pr->hrun)
		return 0;
	if (pte & PTE_SWAP) {
		swap_slot_free(g, pte & ~PTE_SWAP);
	} else {
		int rc = unmap_vpn(g, (uint32_t)i, vpn);
		if (rc)
			return rc;
		free_push(g, pte - 1);
		pr->rss--;
	}
	pr->pte[vpn] = 0;
	return 0;
}

/*
 * A fault in a hugetlbfs process: the kernel takes a 2 MiB page from the
 * pool, clears it (clear_huge_page: all 512 pages are written, so the
 * hypervisor backs them all), the program fills it, and one PS entry maps
 * it. The pool was sized for every workload at boot.
 */
static int huge_fault(struct mv_guest *g, struct gwork *w, uint64_t vpn)
{
	struct gproc *pr = &g->proc[w->proc];
	uint64_t r = vpn / MV_LARGE_PAGES;
	uint64_t v0 = r * MV_LARGE_PAGES;
	if (pr->hrun[r]) /* allocated before; the entry was not written */
		return mv_mmu_map(g->mmu, gwork_gva(w, v0), pr->hrun[r] - 1);
	if (!g->nhpool)
		return MV_ENOMEM; /* cannot happen: the pool fits every set */
	mv_gppn_t base = g->hpool[g->nhpool - 1];
	for (uint64_t k = 0; k < MV_LARGE_PAGES; k++) {
		int rc = v0 + k < pr->nvpages
				 ? fill_anon(g, w, v0 + k, base + k)
				 : write_desc(g, base + k, MV_DESC_ZERO_PAGE);
		if (rc)
			return rc; /* the page stays in the pool */
	}
	g->nhpool--;
	for (uint64_t k = 0; k < MV_LARGE_PAGES; k++) {
		set_use(g, base + k, (uint32_t)w->proc, v0 + k);
		if (v0 + k < pr->nvpages) {
			pr->pte[v0 + k] = (uint32_t)(base + k) + 1;
			pr->rss++;
		}
	}
	pr->hrun[r] = (uint32_t)base + 1;
	g->st.minor_fault++;
	return mv_mmu_map(g->mmu, gwork_gva(w, v0), base);
}

/* Process i exits: unmap its 2 MiB pages and put them back in the pool. */
static int release_huge(struct mv_guest *g, int i)
{
	struct gproc *pr = &g->proc[i];
	uint64_t runs = (pr->nvpages + MV_LARGE_PAGES - 1) / MV_LARGE_PAGES;
	for (uint64_t r = 0; r < runs; r++) {
		if (!pr->hrun[r])
			continue;
		uint64_t v0 = r * MV_LARGE_PAGES;
		int rc = unmap_vpn(g, (uint32_t)i, v0);
		if (rc)
			return rc;
		for (uint64_t v = v0;
		     v < v0 + MV_LARGE_PAGES && v < pr->nvpages; v++)
			if (pr->pte[v]) {
				pr->pte[v] = 0;
				pr->rss--;
			}
		g->hpool[g->nhpool++] = pr->hrun[r] - 1;
		pr->hrun[r] = 0;
	}
	return 0;
}

/*
 * The guest's page-fault handler for the MMU model: the current workload
 * touched gva, which its page tables do not map. Resolve the page as
 * without an MMU (anon_fault), then write the entry.
 */
static int mmu_fault(void *ctx, uint64_t gva, int write)
{
	(void)write;
	struct mv_guest *g = ctx;
	struct gwork *w = &g->work[g->cur_work];
	struct gproc *pr = &g->proc[w->proc];
	uint64_t vpn;
	if (gwork_vpn(w, pr->nvpages, gva, &vpn))
		return MV_EINVAL; /* outside the process: SIGSEGV */
	/* the tables first (they may make room by swapping a page out),
	 * then the page: a page being mapped is never the victim */
	uint64_t first = pr->hrun ? vpn & ~(uint64_t)(MV_LARGE_PAGES - 1) : vpn;
	int rc = mv_mmu_prepare(g->mmu, gwork_gva(w, first));
	if (rc)
		return rc;
	if (pr->hrun)
		return huge_fault(g, w, vpn);
	uint32_t pte = pr->pte[vpn];
	mv_gppn_t p;
	if (pte && !(pte & PTE_SWAP)) {
		p = pte - 1; /* mapped before, entry not written yet */
	} else if ((rc = anon_fault(g, w, vpn, &p))) {
		return rc;
	}
	return mv_mmu_map(g->mmu, gwork_gva(w, vpn), p);
}

/* A page for a page table: kernel memory, never on a reclaim clock. */
static int mmu_alloc_table(void *ctx, mv_gppn_t *out)
{
	struct mv_guest *g = ctx;
	int zeroed;
	int rc = alloc_page(g, out, &zeroed);
	if (rc == 0)
		set_kind(g, *out, GK_PTABLE);
	return rc;
}

static void mmu_free_table(void *ctx, mv_gppn_t p)
{
	free_push(ctx, p);
}

/* The program reads the 8 bytes at b in guest page p (accessed): a
 * descriptor page's bytes are not materialised for it, its descriptor
 * stands for them (the value only feeds the sink). */
static void read_word(struct mv_guest *g, mv_gppn_t p, const uint8_t *b)
{
	mv_desc_t d = mv_vm_page_desc(g->vm, p);
	uint64_t v = d;
	if (d == MV_DESC_BYTES)
		memcpy(&v, b, 8);
	g->sink += v;
}

/*
 * The program reads or writes the 8 bytes at b in guest page p. A write
 * to a page with a descriptor makes a new version of it (the same class,
 * another key: mv_desc_version), where a write to bytes replaces one
 * word; either way its hash changes, sharing breaks, and its LZ4 size
 * stays that of its class. Zeros written to a zero page change nothing;
 * another value written to one gives bytes (its arena page is zeros).
 */
static void use_word(struct mv_guest *g, struct gwork *w, mv_gppn_t p,
		     uint8_t *b, int write)
{
	if (!write) {
		read_word(g, p, b);
		return;
	}
	uint64_t v = w->cfg.content == MV_CONTENT_ZERO ? 0
						       : mv_rng_next(&w->rng);
	mv_desc_t d = mv_vm_page_desc(g->vm, p);
	if (w->cfg.profile) {
		/* a profile's page keeps the image's bytes: the write stores
		 * them again (a descriptor stays as it is) */
		if (d == MV_DESC_BYTES) {
			memcpy(&v, b, 8);
			memcpy(b, &v, 8);
		}
	} else if (d == MV_DESC_BYTES || (d == MV_DESC_ZERO_PAGE && v != 0)) {
		mv_vm_page_bytes(g->vm, p); /* b is in that arena page */
		memcpy(b, &v, 8);
	} else if (d != MV_DESC_ZERO_PAGE) {
		mv_vm_set_desc(g->vm, p, mv_desc_version(d, v));
		return;
	}
	mv_vm_wrote(g->vm, p);
}

/*
 * A workload the sampler does not see (sampled="no"): if its access to
 * page p counted p as a touched sampled page (the count moved from
 * before), take the count back and mark p sampled again, so p stays in
 * the sample, untouched. One access notes one page.
 */
static void unsee_page(struct mv_vm *vm, mv_gppn_t p, uint64_t before)
{
	if (vm->active.touched == before)
		return;
	vm->active.touched = before;
	vm->pmap[p].flags |= MV_PME_SAMPLED;
}

static void unsee(struct mv_vm *vm, const struct gwork *w, mv_gppn_t p,
		  uint64_t before)
{
	if (mv_likely(w->cfg.sampled))
		return;
	unsee_page(vm, p, before);
}

/*
 * One access through the MMU model: the hardware translates the address
 * (TLBs, walk, exits); a missing mapping is a page fault that mmu_fault
 * resolves. The hypervisor's books see the access as mv_vm_access would
 * note it: a TLB hit does not pass through the pmap, as on hardware, but
 * the simulator's true active set and dirty bits must still see it
 * (mv_vm_note_access, the vm layer's one place for them).
 */
static int touch_mmu(struct mv_guest *g, struct gwork *w, uint64_t vpn,
		     int write, int fetch)
{
	uint64_t off = mv_rng_below(&w->rng, MV_PAGE_SIZE / 8) * 8;
	struct mv_mmu_xlate xl;
	uint64_t before = g->vm->active.touched;
	uint8_t *b = mv_mmu_access(g->mmu, gwork_gva(w, vpn) + off, write,
				   fetch, &xl);
	if (!b)
		return MV_EAGAIN;
	g->kind[xl.gppn] |= GREF;
	mv_vm_note_access(g->vm, xl.gppn, write);
	unsee(g->vm, w, xl.gppn, before);
	use_word(g, w, xl.gppn, b, write);
	return 0;
}

/*
 * One access by a workload to page vpn of its process; 0 or MV_EAGAIN.
 * fetch: an instruction fetch (a trace's), which only the MMU model tells
 * apart (its instruction TLB).
 */
static int touch(struct mv_guest *g, struct gwork *w, uint64_t vpn, int write,
		 int fetch)
{
	if (g->mmu)
		return touch_mmu(g, w, vpn, write, fetch);
	uint64_t before = g->vm->active.touched; /* the fault's write too */
	struct gproc *pr = &g->proc[w->proc];
	uint32_t pte = pr->pte[vpn];
	mv_gppn_t p;
	if (pte && !(pte & PTE_SWAP)) {
		p = pte - 1;
	} else {
		int rc = anon_fault(g, w, vpn, &p);
		if (rc)
			return rc;
	}
	g->kind[p] |= GREF;
	uint8_t *b = mv_vm_access(g->vm, p, write);
	if (!b)
		return MV_EAGAIN;
	unsee(g->vm, w, p, before);
	uint64_t off = mv_rng_below(&w->rng, MV_PAGE_SIZE / 8) * 8;
	use_word(g, w, p, b + off, write);
	return 0;
}

int guest_touch(struct mv_guest *g, struct gwork *w, uint64_t vpn, int write,
		int fetch)
{
	return touch(g, w, vpn, write, fetch);
}

/*
 * n writes to page vpn right after one: what n calls of touch(g, w, vpn,
 * 1, 0) would do, where the page is private, resident and local, already
 * accessed and dirty, and holds a generated page (a descriptor other than
 * zero) that w's writes version (not zeros, not a profile's bytes). Then
 * each of those calls only draws the word's offset and value from w's
 * generator, counts a write, and versions the descriptor
 * (mv_desc_version): the flags, the dirty log, the page's kind and the
 * sampler's count are as the first write left them. So the versions are
 * chained here and the frame takes the last one, once; the verify
 * checksum (mv_vm_wrote, by mv_vm_set_desc) is that of the last, as
 * after the last of the n calls. Anything else: 0, and the caller
 * touches.
 */
uint64_t guest_write_again(struct mv_guest *g, struct gwork *w, uint64_t vpn,
			   uint64_t n)
{
	if (g->mmu || w->cfg.content == MV_CONTENT_ZERO || w->cfg.profile ||
	    !w->cfg.sampled)
		return 0;
	uint32_t pte = g->proc[w->proc].pte[vpn];
	if (!pte || (pte & PTE_SWAP))
		return 0;
	mv_gppn_t p = pte - 1;
	struct mv_vm *vm = g->vm;
	const struct mv_pme *e = &vm->pmap[p];
	mv_desc_t d = mv_vm_page_desc(vm, p);
	if (e->state != MV_PS_PRIVATE ||
	    (e->flags & (MV_PME_ACCESSED | MV_PME_SAMPLED | MV_PME_DIRTY)) !=
		    (MV_PME_ACCESSED | MV_PME_DIRTY) ||
	    !mv_vm_frame_local(vm, e->mpn) || d == MV_DESC_BYTES ||
	    mv_desc_class(d) == MV_DESC_ZERO || !(g->kind[p] & GREF))
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		(void)mv_rng_below(&w->rng, MV_PAGE_SIZE / 8); /* the word */
		d = mv_desc_version(d, mv_rng_next(&w->rng));
	}
	vm->ctr.writes += n;
	mv_vm_set_desc(vm, p, d);
	return n;
}

/* ---- creation ------------------------------------------------------------ */

static uint64_t str_hash(const char *s)
{
	return mv_hash(s, strlen(s));
}

/* Workload i and its process: the page tables the kernel keeps for it. */
static int work_init(struct mv_guest *g, int i,
		     const struct mv_workload_config *c)
{
	uint64_t nv;
	int huge = g->cfg.mmu && g->cfg.mmu_cfg.guest_2m;
	int rc = gwork_init(&g->work[i], i, c, g->npages, huge, g->seed, &nv);
	if (rc)
		return rc;
	struct gproc *pr = &g->proc[i];
	pr->nvpages = nv;
	if (nv > GPAGE_INDEX_LIMIT)
		return MV_EINVAL; /* the page index: mv_guest_create says so */
	pr->pte = mv_dense_alloc(nv * sizeof *pr->pte);
	if (huge) {
		pr->hrun = calloc((nv + MV_LARGE_PAGES - 1) / MV_LARGE_PAGES,
				  sizeof *pr->hrun);
		if (!pr->hrun)
			return MV_ENOMEM;
	}
	return pr->pte ? 0 : MV_ENOMEM;
}

/*
 * hugetlbfs: reserve at boot the 2 MiB pages every workload can use, the
 * highest aligned runs of guest memory, out of the free list. MV_E2BIG
 * when they and the OS image do not fit (MV_EINVAL).
 */
static int reserve_huge(struct mv_guest *g)
{
	uint64_t runs = 0;
	for (int i = 0; i < g->nproc; i++)
		runs += (g->proc[i].nvpages + MV_LARGE_PAGES - 1) /
			MV_LARGE_PAGES;
	uint64_t top = g->npages & ~(uint64_t)(MV_LARGE_PAGES - 1);
	/* leave the OS image, the boot structures and 2 MiB of kernel
	 * memory (page tables) */
	if (runs * MV_LARGE_PAGES + g->os_pages + g->kboot + MV_LARGE_PAGES >
	    top)
		return MV_EINVAL;
	g->hpool = malloc((runs + 1) * sizeof *g->hpool);
	if (!g->hpool)
		return MV_ENOMEM;
	uint64_t low = top - runs * MV_LARGE_PAGES;
	for (uint64_t r = 0; r < runs; r++)
		g->hpool[r] = (uint32_t)(low + r * MV_LARGE_PAGES);
	g->nhpool = g->hpool_runs = runs;
	/* the free list keeps the rest (nothing was allocated yet), lowest
	 * pages still handed out first */
	assert(g->nfree == g->npages && g->nfresh == g->npages);
	for (uint64_t p = low; p < top; p++)
		g->kind[p] = GK_HUGE;
	g->nkind[GK_HUGE] = top - low;
	g->nkind[GK_FREE] = g->nfree = g->nfresh = g->npages - (top - low);
	g->hole_lo = low;
	g->hole_hi = top;
	if (g->fresh == low)
		g->fresh = top;
	return 0;
}

/*
 * The kernel's boot-time structures, sized to the memory it boots with
 * (<memory>, whatever the balloon takes later), as a number of pages
 * (docs/ballooning.md, "What the guest kernel sizes at boot"):
 *   - the page frame array: Linux's struct page, 64 bytes per 4 KiB page
 *     (mem_map, 1.56%); Windows' PFN database, 48 bytes an entry on x64;
 *   - Linux's large system hashes (alloc_large_system_hash, 8-byte
 *     buckets, rounded up to a power of two): the dentry cache, one bucket
 *     per 8 KiB (dhash_entries scale 13), and the inode cache, one per
 *     16 KiB (scale 14).
 * Written at boot (the array initialised, the hashes zeroed), never
 * freed, never on a reclaim clock: the balloon cannot take them.
 */
static uint64_t pow2_ceil(uint64_t x)
{
	uint64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

static void size_boot_structures(struct mv_guest *g)
{
	uint64_t n = g->npages;
	uint64_t entry = g->cfg.flavour == MV_GUEST_WINDOWS ? 48 : 64;
	g->kboot_struct = (n * entry + MV_PAGE_SIZE - 1) / MV_PAGE_SIZE;
	uint64_t hash = 0;
	if (g->cfg.flavour == MV_GUEST_LINUX && n >= 4)
		hash = pow2_ceil(n / 2) * 8 + pow2_ceil(n / 4) * 8;
	g->kboot = g->kboot_struct + (hash + MV_PAGE_SIZE - 1) / MV_PAGE_SIZE;
	if (!g->cfg.boot_structures)
		g->kboot = g->kboot_struct = 0;
}

/* Allocate and write the boot structures not yet there; 0 or MV_EAGAIN
 * (resumed by the next boot call). */
static int boot_structures(struct mv_guest *g)
{
	while (g->kboot_done < g->kboot) {
		mv_gppn_t p;
		int zeroed;
		int rc = alloc_page(g, &p, &zeroed);
		if (rc)
			return rc;
		uint64_t i = g->kboot_done;
		rc = i < g->kboot_struct
			     ? fill_page(
				       g, p, MV_CONTENT_DATA, 0, i,
				       mv_mix64(g->seed ^ 0x6b626f6f74ull ^ i),
				       0.875)
			     : write_desc(g, p, MV_DESC_ZERO_PAGE);
		if (rc) {
			unalloc_page(g, p, zeroed);
			return rc;
		}
		set_kind(g, p, GK_KERNEL);
		g->kboot_done++;
	}
	return 0;
}

/*
 * <mv:guest boot-freed>: what the boot wrote and freed before anything
 * ran (the kernel's decompression, the initramfs, early allocations),
 * left free with its stale contents in frames the host backs. Linux hands
 * such pages out last: boot memory goes to the tail of the free lists
 * (__free_pages_core frees it with FPI_TO_TAIL), and what the kernel
 * itself allocated and freed sits in its unmovable pageblocks, whose free
 * lists a movable allocation - a process's page, the page cache, the
 * balloon's alloc_page - takes from only when its own are empty
 * (__rmqueue: __rmqueue_smallest for the migratetype asked, then
 * __rmqueue_fallback). So they are the highest never-used pages here: the
 * free list hands out every page freed at run time first (LIFO: the
 * per-cpu lists and the heads of the buddy lists), then never-used pages
 * lowest first, these last. The boot's writes are not accesses the
 * sampler sees (nothing had run). 0 or MV_EAGAIN (resumed by the next
 * boot call).
 */
static int boot_freed(struct mv_guest *g)
{
	uint64_t n = g->cfg.boot_freed_bytes / MV_PAGE_SIZE;
	if (n > g->nfresh)
		n = g->nfresh;
	/* the never-used pages, highest first, past the hugetlbfs pool */
	uint64_t p = g->npages;
	for (uint64_t i = 0; i < g->bfreed_done; p--)
		if (p - 1 < g->hole_lo || p - 1 >= g->hole_hi)
			i++;
	for (; g->bfreed_done < n; p--) {
		mv_gppn_t q = p - 1;
		if (q >= g->hole_lo && q < g->hole_hi)
			continue;
		uint64_t before = g->vm->active.touched;
		int rc = fill_page(
			g, q, MV_CONTENT_DATA, 0, g->bfreed_done,
			mv_mix64(g->seed ^ 0x6266726565ull ^ g->bfreed_done),
			0.875);
		if (rc)
			return rc;
		unsee_page(g->vm, q, before);
		g->bfreed_done++;
	}
	return 0;
}

int gnum_alloc(struct gnum *a, uint64_t n, uint64_t max)
{
	a->w = max < 1u << 24 ? 3 : 4;
	a->mask = a->w == 3 ? (1u << 24) - 1 : UINT32_MAX;
	a->n = n;
	a->b = mv_dense_alloc(n * a->w + 1);
	return a->b ? 0 : MV_ENOMEM;
}

void gnum_free(struct gnum *a)
{
	if (a->b)
		mv_dense_free(a->b, a->n * a->w + 1);
	a->b = NULL;
}

/* The pages' index array, once the processes' sizes are known: the
 * largest index is an OS image page or a vpn of a process, rounded up
 * to its 2 MiB runs (hugetlbfs sets a whole run's pages). */
static int alloc_index(struct mv_guest *g)
{
	uint64_t max = g->os_pages;
	for (int i = 0; i < g->nproc; i++) {
		uint64_t nv = (g->proc[i].nvpages + MV_LARGE_PAGES - 1) /
			      MV_LARGE_PAGES * MV_LARGE_PAGES;
		if (nv > max)
			max = nv;
	}
	return gnum_alloc(&g->index, g->npages, max);
}

int guest_alloc_lists(struct mv_guest *g)
{
	g->free = mv_sparse_alloc(g->npages * sizeof *g->free);
	g->zeroed = mv_sparse_alloc(g->npages * sizeof *g->zeroed);
	g->balloon = mv_sparse_alloc(g->npages * sizeof *g->balloon);
	g->cache = calloc(g->os_pages + 1, sizeof *g->cache);
	g->swap_free = mv_sparse_alloc(g->swap_slots * sizeof *g->swap_free);
	g->swap_desc = mv_sparse_alloc(g->swap_slots * sizeof *g->swap_desc);
	if (g->swap_slots) {
		void *s = mmap(NULL, g->swap_slots * MV_PAGE_SIZE,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			       0);
		g->swap = s == MAP_FAILED ? NULL : s;
	}
	return !g->free || !g->zeroed || !g->balloon || !g->cache ||
			       !g->swap_free || !g->swap_desc ||
			       (g->swap_slots && !g->swap)
		       ? MV_ENOMEM
		       : 0;
}

int mv_guest_create(struct mv_vm *vm, const struct mv_guest_config *cfg,
		    uint64_t seed, struct mv_guest **out, struct mv_error *err)
{
	*out = NULL;
	struct mv_guest *g = calloc(1, sizeof *g);
	if (!g)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	g->cfg = *cfg;
	g->balloon_rate_alloc = cfg->balloon_reclaim_rate; /* as it starts */
	g->vm = vm;
	g->seed = seed;
	g->npages = vm->npages;
	g->kind = mv_dense_alloc(g->npages);
	int nolink = gnum_alloc(&g->link, 2 * g->npages,
				g->npages ? g->npages - 1 : 0);
	for (int k = 0; k < GK_COUNT; k++)
		g->hand[k] = LNIL;
	g->os_pages = cfg->os_bytes / MV_PAGE_SIZE;
	if (g->os_pages > g->npages / 2)
		g->os_pages = g->npages / 2;
	g->swap_slots = cfg->swap_bytes / MV_PAGE_SIZE;
	int nolists = guest_alloc_lists(g);
	if (!g->kind || nolink || nolists) {
		mv_guest_destroy(g);
		return mv_error_set(err, MV_ENOMEM, vm->cfg.source,
				    vm->cfg.source_line, "guest",
				    "cannot allocate the guest model");
	}
	g->nswap_free = g->swap_slots; /* all never used, lowest first */

	/* all memory starts free, never used; lowest pages handed out first */
	g->nkind[GK_FREE] = g->nfree = g->nfresh = g->npages;
	size_boot_structures(g);

	/* <currentMemory> below <memory>: the balloon starts inflated */
	if (vm->cfg.balloon_driver && vm->cfg.current_bytes < vm->cfg.mem_bytes)
		g->balloon_target = (vm->cfg.mem_bytes -
				     vm->cfg.current_bytes) /
				    MV_PAGE_SIZE;
	if (g->os_pages > GPAGE_INDEX_LIMIT) {
		mv_guest_destroy(g);
		return mv_error_set(
			err, MV_EINVAL, vm->cfg.source, vm->cfg.source_line,
			"guest",
			"OS image of %llu pages, more than the guest "
			"model's %llu (1 TiB)",
			(unsigned long long)g->os_pages,
			(unsigned long long)GPAGE_INDEX_LIMIT);
	}
	g->os_hash = str_hash(cfg->os_image);
	mv_rng_seed(&g->os_rng, mv_mix64(seed + 0x05));
	if (g->os_pages && mv_zipf_init(&g->os_zipf, g->os_pages, 0.99)) {
		mv_guest_destroy(g);
		return mv_error_set(err, MV_EINVAL, NULL, 0, "guest",
				    "bad OS image");
	}
	if (cfg->mmu) {
		struct mv_error e = {0};
		int rc = mv_mmu_create(vm, &cfg->mmu_cfg, &g->mmu, &e);
		if (rc) {
			mv_guest_destroy(g);
			return mv_error_set(err, rc, vm->cfg.source,
					    vm->cfg.source_line, "mmu",
					    "%s: %s", e.field, e.msg);
		}
		struct mv_mmu_guest_ops ops = {.ctx = g,
					       .alloc_table = mmu_alloc_table,
					       .free_table = mmu_free_table,
					       .fault = mmu_fault};
		mv_mmu_set_guest(g->mmu, &ops);
	}
	g->nwork = g->nproc = cfg->nworkloads;
	for (int i = 0; i < cfg->nworkloads; i++) {
		int rc = work_init(g, i, &cfg->workload[i]);
		if (rc) {
			const struct mv_workload_config *c = &cfg->workload[i];
			uint64_t nv = g->proc[i].nvpages;
			mv_guest_destroy(g);
			if (nv > GPAGE_INDEX_LIMIT)
				return mv_error_set(
					err, MV_EINVAL, c->source,
					c->source_line, "workload",
					"workload '%s' spans %llu pages, "
					"more than the guest model's %llu "
					"(1 TiB) a process",
					c->name, (unsigned long long)nv,
					(unsigned long long)GPAGE_INDEX_LIMIT);
			if (c->kind == MV_WL_TRACE && rc == MV_EINVAL)
				return mv_error_set(
					err, rc, c->source, c->source_line,
					"workload/trace",
					"trace workload '%s' needs a loaded "
					"trace "
					"and 4 KiB guest pages (<mv:mmu "
					"pages='4k'>): it keeps the program's "
					"own "
					"addresses",
					c->name);
			return mv_error_set(err, rc, c->source, c->source_line,
					    "workload",
					    "cannot set up workload "
					    "'%s': %s",
					    c->name, mv_strerror(rc));
		}
	}
	if (alloc_index(g)) {
		mv_guest_destroy(g);
		return mv_error_set(err, MV_ENOMEM, vm->cfg.source,
				    vm->cfg.source_line, "guest",
				    "cannot allocate the guest model");
	}
	if (cfg->mmu && cfg->mmu_cfg.guest_2m) {
		int rc = reserve_huge(g);
		if (rc) {
			mv_guest_destroy(g);
			return mv_error_set(
				err, rc, vm->cfg.source, vm->cfg.source_line,
				"mmu/pages",
				rc == MV_EINVAL
					? "the workloads' 2 MiB pages and the "
					  "OS image do not fit in the VM's "
					  "memory"
					: "out of memory");
		}
	}
	*out = g;
	return 0;
}

uint64_t mv_guest_log_writes(struct mv_guest *g, uint64_t now_ns,
			     uint64_t dt_ns)
{
	return g->iv ? giv_log_writes(g, now_ns, (double)dt_ns / 1e9) : 0;
}

void mv_guest_destroy(struct mv_guest *g)
{
	if (!g)
		return;
	mv_mmu_destroy(g->mmu);
	if (g->iv) { /* the vm outlives its guest */
		g->vm->on_invalidate = NULL;
		g->vm->invalidate_ctx = NULL;
		g->vm->rate_of = NULL;
		g->vm->on_observe = NULL;
		g->vm->look_ahead = NULL;
		g->vm->rate_ctx = NULL;
	}
	giv_destroy(g->iv);
	for (int i = 0; i < MV_MAX_WORKLOADS; i++) {
		mv_dense_free(g->proc[i].pte,
			      g->proc[i].nvpages * sizeof *g->proc[i].pte);
		free(g->proc[i].hrun);
	}
	free(g->hpool);
	if (g->swap)
		munmap(g->swap, g->swap_slots * MV_PAGE_SIZE);
	mv_sparse_free(g->swap_free, g->swap_slots * sizeof *g->swap_free);
	mv_sparse_free(g->swap_desc, g->swap_slots * sizeof *g->swap_desc);
	free(g->cache);
	mv_sparse_free(g->zeroed, g->npages * sizeof *g->zeroed);
	mv_sparse_free(g->balloon, g->npages * sizeof *g->balloon);
	mv_sparse_free(g->free, g->npages * sizeof *g->free);
	gnum_free(&g->index);
	mv_dense_free(g->kind, g->npages);
	gnum_free(&g->link);
	mv_dense_free(g->passed, g->npages * sizeof *g->passed);
	free(g->big.key);
	free(g->big.val);
	free(g);
}

/* ---- the balloon driver -------------------------------------------------- */

void mv_guest_balloon_set_target(struct mv_guest *g, uint64_t pages)
{
	g->balloon_target = pages < g->npages ? pages : g->npages;
}

uint64_t mv_guest_balloon_target(const struct mv_guest *g)
{
	return g->balloon_target;
}

uint64_t mv_guest_balloon_size(const struct mv_guest *g)
{
	return g->nkind[GK_BALLOON];
}

/*
 * Move the balloon up to n pages toward its target. Inflating allocates
 * like any guest allocation (so it may drop cache or swap: the guest picks
 * what to give up), then tells the hypervisor, which frees the frame.
 * Deflating gives pages back to the free list; the hypervisor backs them
 * again only when the guest touches them.
 */
/* n: the non-sleeping pages due; slow: the sleeping ones (a credit). */
static void run_balloon(struct mv_guest *g, uint64_t n, double slow)
{
	uint64_t size = g->nkind[GK_BALLOON];
	g->balloon_slow_credit += slow;
	int slow_used = 0;
	for (; n && size < g->balloon_target; n--, size++) {
		int must_reclaim = !g->nzeroed && !g->nfree;
		if (must_reclaim) {
			if (g->balloon_slow_credit < 1)
				break;
			g->balloon_slow_credit -= 1;
			slow_used = 1;
		}
		mv_gppn_t p;
		if (mv_guest_alloc_page(g, &p) != 0) {
			/* the guest has nothing more to give */
			double lo = g->cfg.balloon_reclaim_rate <
						    BALLOON_RATE_ALLOC_MIN
					    ? g->cfg.balloon_reclaim_rate
					    : BALLOON_RATE_ALLOC_MIN;
			g->balloon_rate_alloc =
				g->balloon_rate_alloc / 2 > lo
					? g->balloon_rate_alloc / 2
					: lo;
			g->balloon_slow_credit = 0;
			return;
		}
		g->balloon[size] = (uint32_t)p;
		raise_hw(&g->balloon_hw, size + 1);
		mv_vm_balloon_page(g->vm, p);
		g->balloon_inflated++;
	}
	if (slow_used && g->balloon_slow_credit < 1) {
		/* the sleeping pace was all used: +16 a cycle */
		double r = g->balloon_rate_alloc +
			   BALLOON_RATE_ALLOC_INC * slow /
				   g->balloon_rate_alloc;
		g->balloon_rate_alloc = r < g->cfg.balloon_reclaim_rate
						? r
						: g->cfg.balloon_reclaim_rate;
	}
	if (size >= g->balloon_target || !slow_used)
		g->balloon_slow_credit = 0; /* a credit is not saved up */
	for (; n && size > g->balloon_target; n--) {
		mv_gppn_t p = g->balloon[--size];
		free_push(g, p);
		g->balloon_deflated++;
	}
}

/* ---- running ------------------------------------------------------------- */

int mv_guest_boot(struct mv_guest *g)
{
	/* the kernel sizes its structures to the memory it finds */
	int brc = boot_structures(g);
	if (!brc)
		brc = boot_freed(g);
	if (brc)
		return brc;
	/* the driver claims the initial balloon before anything else runs */
	if (g->vm->cfg.balloon_driver)
		run_balloon(g, g->balloon_target, (double)g->balloon_target);
	/* read the OS image into the page cache */
	while (g->boot_next < g->os_pages) {
		if ((g->boot_next & 4095) == 0 && g->stop && *g->stop)
			return MV_ECANCELED; /* resumed by the next call */
		mv_gppn_t p;
		int rc = g->cache[g->boot_next]
				 ? 0 /* read ahead with an earlier page */
				 : cache_fill(g, g->boot_next, 1, &p);
		if (rc)
			return rc;
		g->boot_next++;
	}
	g->booted = 1;
	return 0;
}

int mv_guest_booted(const struct mv_guest *g)
{
	return g->booted;
}

int mv_guest_interval_capable(const struct mv_guest_config *cfg)
{
	/* a workload index and the OS share 4 bits in the model's events */
	if (cfg->mmu || cfg->nworkloads >= MV_MAX_WORKLOADS)
		return 0;
	for (int i = 0; i < cfg->nworkloads; i++)
		if (cfg->workload[i].kind == MV_WL_TRACE)
			return 0;
	return 1;
}

double mv_guest_active_pages(struct mv_guest *g, uint64_t now_ns,
			     double window_s)
{
	return g->iv ? giv_active_pages(g, now_ns, window_s) : 0;
}

double mv_guest_active_pages_walk(const struct mv_guest *g, uint64_t now_ns,
				  double window_s)
{
	return g->iv ? giv_active_pages_walk(g, now_ns, window_s) : 0;
}

int mv_guest_uses_interval(const struct mv_guest *g)
{
	return g->iv != NULL;
}

int mv_guest_use_interval(struct mv_guest *g, uint64_t step_ns, uint64_t end_ns)
{
	if (g->iv || !mv_guest_interval_capable(&g->cfg))
		return 0;
	g->passed = mv_dense_alloc(g->npages * sizeof *g->passed);
	if (!g->passed)
		return MV_ENOMEM;
	int rc = giv_create(g, step_ns, end_ns);
	if (!g->iv) { /* failed, or stays exact */
		mv_dense_free(g->passed, g->npages * sizeof *g->passed);
		g->passed = NULL;
	}
	return rc;
}

void mv_guest_set_stop(struct mv_guest *g, const volatile sig_atomic_t *stop)
{
	g->stop = stop;
}

int guest_os_touch(struct mv_guest *g, uint64_t idx, uint64_t i)
{
	uint32_t c = g->cache[idx];
	mv_gppn_t p;
	if (c) {
		p = c - 1;
	} else if (cache_fill(g, idx, 0, &p) != 0) {
		return MV_EAGAIN;
	}
	g->kind[p] |= GREF;
	const uint8_t *b = mv_vm_access(g->vm, p, 0);
	if (!b)
		return MV_EAGAIN;
	read_word(g, p, b + ((i * 64) & (MV_PAGE_SIZE - 1)));
	return 0;
}

/* The OS's own accesses to its image (kernel text, libraries). */
static void run_os(struct mv_guest *g, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx = mv_zipf_next(&g->os_zipf, &g->os_rng);
		if (guest_os_touch(g, idx, i))
			return;
		g->os_done++;
	}
}

/*
 * Windows' zero page thread runs at priority 0, "only when no other
 * threads are runnable" (Waldspurger, OSDI 2002, p. 9): it gets the VM's
 * idle CPU time, what the running workloads' cpu shares leave
 * (docs/sampling.md). 1 with no workload that says it uses CPU.
 */
static double idle_share(const struct mv_guest *g, uint64_t now_ns)
{
	double busy = 0;
	for (int i = 0; i < g->nwork; i++)
		if (g->work[i].cfg.cpu > 0 &&
		    gwork_running(&g->work[i], now_ns))
			busy += g->work[i].cfg.cpu;
	return busy >= 1 ? 0 : 1 - busy;
}

/* Windows' zero page thread: clear freed pages in the background. */
static void run_zeroer(struct mv_guest *g, uint64_t n)
{
	while (n-- && g->nfree) {
		mv_gppn_t p = free_top(g);
		if (write_desc(g, p, MV_DESC_ZERO_PAGE) != 0)
			return;
		free_pop(g);
		set_kind(g, p, GK_ZEROED);
		zeroed_push(g, p);
	}
}

/*
 * With an MMU model, run workload w's process: create its address space
 * on first use (a PML4 page), and switch CR3 to it.
 */
static int switch_to(struct mv_guest *g, struct gwork *w)
{
	struct mv_mmu_proc **p = &g->mproc[w->proc];
	if (!*p) {
		int rc = mv_mmu_proc_create(g->mmu, p);
		if (rc)
			return rc;
		g->cur_proc = *p;
	}
	if (g->cur_proc != *p) {
		mv_mmu_switch(g->mmu, *p);
		g->cur_proc = *p;
	}
	g->cur_work = (int)(w - g->work);
	return 0;
}

/* Process i exits: all its memory goes back to the guest, its page tables
 * too. 0, or nonzero to retry while the VM has no frame. */
static int exit_process(struct mv_guest *g, struct gwork *w)
{
	struct gproc *pr = &g->proc[w->proc];
	for (uint64_t v = 0; v < pr->nvpages; v++)
		if (release_vpn(g, w->proc, v))
			return -1;
	if (pr->hrun && release_huge(g, w->proc))
		return -1;
	if (g->mmu && g->mproc[w->proc]) {
		if (mv_mmu_proc_destroy(g->mmu, g->mproc[w->proc]))
			return -1;
		if (g->cur_proc == g->mproc[w->proc])
			g->cur_proc = NULL;
		g->mproc[w->proc] = NULL;
	}
	w->exited = 1;
	return 0;
}

static int work_touch(void *ctx, struct gwork *w, uint64_t vpn, int write,
		      int fetch)
{
	return touch(ctx, w, vpn, write, fetch);
}

static int work_release(void *ctx, struct gwork *w, uint64_t vpn)
{
	return release_vpn(ctx, w->proc, vpn);
}

/* One vCPU: its workloads together wait at most the time it ran in this
 * step. */
static void work_wait(void *ctx, uint64_t ns)
{
	struct mv_guest *g = ctx;
	if (ns > g->wait_left_ns)
		ns = g->wait_left_ns;
	g->wait_left_ns -= ns;
	mv_vm_charge_wait(g->vm, ns);
}

static const struct gwork_ops work_ops = {
	.touch = work_touch,
	.release = work_release,
	.wait = work_wait,
};

static void run_work(struct mv_guest *g, struct gwork *w, uint64_t now_ns,
		     double dt_s, double progress)
{
	if (!gwork_running(w, now_ns))
		return;
	if (gwork_stopping(w, now_ns)) {
		exit_process(g, w);
		return;
	}
	if (g->mmu && switch_to(g, w))
		return;
	gwork_step(w, now_ns, dt_s, progress, &work_ops, g);
}

void guest_run_work(struct mv_guest *g, struct gwork *w, uint64_t now_ns,
		    double dt_s, double progress)
{
	run_work(g, w, now_ns, dt_s, progress);
}

/*
 * Free page reporting (<memballoon freePageReporting='on'>; Linux
 * mm/page_reporting.c with virtio-balloon's VIRTIO_BALLOON_F_REPORTING,
 * QEMU hw/virtio/virtio-balloon.c). The guest tells the host which of
 * its free pages it may discard; QEMU discards them (MADV_DONTNEED), so
 * the host's footprint of a guest shrinks when the guest frees memory,
 * instead of staying at its high-water mark. Linux reports free blocks
 * of order page_reporting_order and above (pageblock_order by default:
 * 2 MiB of 4 KiB pages on x86-64), PAGE_REPORTING_DELAY = 2 s after free
 * pages of that order appeared. The guest keeps the page free; touching
 * it again is a zero-fill fault on the host.
 *
 * The model: every 2 s each aligned run of 512 guest pages that are all
 * on the free list is a free 2 MiB block; each of its pages that the
 * host still backs (a frame, a compressed or swapped copy) is released
 * (mv_vm_release_page). Linux's buddy allocator would have merged such
 * a run into one order-9 block; memvisor's free list is a stack, so a
 * run is free only if all its pages are, as a buddy block is. Linux also
 * bounds one pass to about a sixteenth of a free area's blocks (its
 * budget) and comes back; memvisor reports every such block per pass.
 * Windows' zeroed list is not reported (the Windows balloon driver has
 * no free page reporting).
 */
#define FPR_ORDER_PAGES 512u /* pageblock_order 9: 2 MiB */
#define FPR_DELAY_NS (2 * MV_NS_PER_S)

static void free_page_report(struct mv_guest *g)
{
	struct mv_vm *vm = g->vm;
	g->st.fpr_passes++;
	for (mv_gppn_t b = 0; b + FPR_ORDER_PAGES <= g->npages;
	     b += FPR_ORDER_PAGES) {
		mv_gppn_t p = b;
		while (p < b + FPR_ORDER_PAGES && kind_of(g, p) == GK_FREE)
			p++;
		if (p < b + FPR_ORDER_PAGES)
			continue;
		for (p = b; p < b + FPR_ORDER_PAGES; p++) {
			enum mv_page_state st = vm->pmap[p].state;
			/* hugetlbfs pages: not modelled (docs/largepages.md) */
			if (st == MV_PS_UNTOUCHED || st == MV_PS_BALLOONED ||
			    (vm->pmap[p].flags & MV_PME_PINNED))
				continue;
			mv_vm_release_page(vm, p);
			g->st.fpr_reported++;
		}
	}
}

int mv_guest_run(struct mv_guest *g, uint64_t now_ns, uint64_t dt_ns)
{
	struct mv_vm *vm = g->vm;
	/* a vCPU stalled in the hypervisor makes no progress meanwhile */
	double progress = mv_vm_run_fraction(vm, dt_ns);
	double dt_s = (double)dt_ns / 1e9;
	g->now_ns = now_ns;
	if (!g->booted) {
		if (progress > 0)
			mv_guest_boot(g);
		for (int i = 0; i < g->nwork; i++)
			gwork_skip(&g->work[i], dt_s);
		return 0;
	}
	if (g->cfg.free_page_reporting && now_ns >= g->fpr_next_ns) {
		free_page_report(g);
		g->fpr_next_ns = now_ns + FPR_DELAY_NS;
	}
	uint64_t os_want = credit_take(&g->os_credit, g->cfg.os_rate * dt_s);
	g->os_demanded += os_want;
	if (progress > 0) {
		g->wait_left_ns = (uint64_t)((double)dt_ns * progress);
		if (g->iv) {
			giv_step(g, now_ns, dt_s, progress,
				 g->os_pages ? os_want : 0);
		} else {
			if (g->os_pages)
				run_os(g,
				       (uint64_t)((double)os_want * progress +
						  0.5));
			for (int i = 0; i < g->nwork; i++)
				run_work(g, &g->work[i], now_ns, dt_s,
					 progress);
		}
		if (g->vm->cfg.balloon_driver &&
		    g->balloon_target != g->nkind[GK_BALLOON])
			run_balloon(g,
				    credit_take(&g->balloon_credit,
						g->cfg.balloon_rate * dt_s *
							progress),
				    g->balloon_rate_alloc * dt_s * progress);
		if (g->cfg.flavour == MV_GUEST_WINDOWS) {
			double zr = g->cfg.zero_rate * idle_share(g, now_ns);
			run_zeroer(g, credit_take(&g->zero_credit,
						  zr * dt_s * progress));
		}
		if (g->mmu) {
			/* what translation cost the vCPU this step */
			uint64_t ns = mv_mmu_cycles_ns(g->mmu,
						       mv_mmu_cycles(g->mmu));
			mv_vm_charge_xlat(vm, ns - g->mmu_ns);
			g->mmu_ns = ns;
		}
	} else {
		for (int i = 0; i < g->nwork; i++)
			gwork_skip(&g->work[i], dt_s);
	}
	return 0;
}

/* ---- reporting and checking --------------------------------------------- */

void mv_guest_stats(const struct mv_guest *g, struct mv_guest_stats *s)
{
	*s = g->st;
	s->free_pages = g->nkind[GK_FREE] + g->nkind[GK_ZEROED];
	s->cache_pages = g->nkind[GK_CACHE];
	s->anon_pages = g->nkind[GK_ANON];
	s->balloon_pages = g->nkind[GK_BALLOON];
	s->kernel_pages = g->nkind[GK_PTABLE] + g->nkind[GK_KERNEL];
	/* a hugetlbfs page in use is the process's memory; the pool's free
	 * pages are neither free nor anyone's (HugePages_Free) */
	s->anon_pages += (g->hpool_runs - g->nhpool) * MV_LARGE_PAGES;
	s->hugetlb_pgalloc = g->hpool_runs;
	/*
	 * MemTotal (totalram_pages): Linux's balloon driver takes inflated
	 * pages out of it (adjust_managed_page_count), and the boot-time
	 * structures never were in it: memblock allocated the struct page
	 * array and the early hash tables before the buddy allocator took
	 * over the rest (memblock_free_all), as /proc/meminfo's MemTotal
	 * below the configured size shows. A Windows guest's figure (what
	 * virtio-win's balloon service reports) was not checked: it keeps
	 * its PFN database in.
	 */
	s->available_pages = g->npages - g->nkind[GK_BALLOON];
	if (g->cfg.flavour == MV_GUEST_LINUX)
		s->available_pages -= g->nkind[GK_KERNEL];
}

void mv_guest_progress(const struct mv_guest *g, uint64_t *demanded,
		       uint64_t *done)
{
	uint64_t d = g->os_demanded, k = g->os_done;
	for (int i = 0; i < g->nwork; i++) {
		d += g->work[i].demanded;
		k += g->work[i].done;
	}
	*demanded = d;
	*done = k;
}

/* One leaf entry of process `proc` against the guest's books. */
struct map_check {
	const struct mv_guest *g;
	int proc;
	uint64_t vpn, hw; /* the first disagreement */
};

static int check_mapping(void *ctx, uint64_t gva, mv_gppn_t gppn, int large)
{
	struct map_check *c = ctx;
	const struct gproc *pr = &c->g->proc[c->proc];
	uint64_t n = large ? MV_LARGE_PAGES : 1;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t vpn;
		if (gwork_vpn(&c->g->work[c->proc], pr->nvpages,
			      gva + (k << 12), &vpn)) {
			if (large)
				continue; /* a 2 MiB page's tail past the end */
			c->vpn = vpn;
			c->hw = gppn + k;
			return 1;
		}
		uint32_t pte = pr->pte[vpn];
		if (large && !pte)
			continue; /* hugetlbfs: not yet given to the program */
		if (!pte || (pte & PTE_SWAP) || gppn + k != pte - 1) {
			c->vpn = vpn;
			c->hw = gppn + k;
			return 1;
		}
	}
	return 0;
}

/*
 * The hardware page tables agree with the kernel's books: every page
 * table page is one the MMU model counts, and every entry maps the page
 * the process has resident there (an entry may be missing: it is written
 * on the next fault).
 */
static int check_mmu(const struct mv_guest *g, struct mv_error *err)
{
	const char *name = g->vm->cfg.name;
	uint64_t tables = mv_mmu_counters(g->mmu)->guest_pt_pages;
	if (tables != g->nkind[GK_PTABLE])
		return mv_error_set(
			err, MV_EINVAL, NULL, 0, name,
			"guest holds %llu page-table pages, the MMU "
			"model %llu",
			(unsigned long long)g->nkind[GK_PTABLE],
			(unsigned long long)tables);
	for (int i = 0; i < g->nproc; i++) {
		if (!g->mproc[i])
			continue;
		struct map_check c = {g, i, 0, 0};
		if (mv_mmu_mappings(g->mmu, g->mproc[i], check_mapping, &c))
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, name,
				"process %d page %llu: page tables map guest "
				"page %llu, the kernel's books do not",
				i, (unsigned long long)c.vpn,
				(unsigned long long)c.hw);
	}
	return 0;
}

int mv_guest_check(const struct mv_guest *g, struct mv_error *err)
{
	const char *name = g->vm->cfg.name;
	uint64_t n[GK_COUNT] = {0};
	for (uint64_t p = 0; p < g->npages; p++) {
		enum gkind k = kind_of(g, p);
		if (k >= GK_COUNT)
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "guest page %llu has bad kind %d",
					    (unsigned long long)p, k);
		n[k]++;
		if (k == GK_ANON) {
			const struct gproc *pr = &g->proc[gpage_owner(g, p)];
			if (gpage_owner(g, p) >= (uint32_t)g->nproc ||
			    gpage_index(g, p) >= pr->nvpages ||
			    pr->pte[gpage_index(g, p)] != p + 1)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"anonymous guest page %llu is "
					"not mapped by its owner",
					(unsigned long long)p);
		} else if (k == GK_CACHE) {
			if (gpage_index(g, p) >= g->os_pages ||
			    g->cache[gpage_index(g, p)] != p + 1)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"cache page %llu is not in the "
					"page cache index",
					(unsigned long long)p);
		}
	}
	for (int k = 0; k < GK_COUNT; k++)
		if (n[k] != g->nkind[k])
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "guest page kind %d: %llu pages, "
					    "counter %llu",
					    k, (unsigned long long)n[k],
					    (unsigned long long)g->nkind[k]);
	/* each reclaim clock is a ring of exactly its kind's pages */
	for (int k = GK_CACHE; k <= GK_ANON; k++) {
		uint64_t len = 0;
		uint32_t h = g->hand[k], p = h;
		if (h != LNIL)
			do {
				if (kind_of(g, p) != (enum gkind)k ||
				    prev_of(g, next_of(g, (uint32_t)p)) != p)
					return mv_error_set(
						err, MV_EINVAL, NULL, 0, name,
						"guest reclaim clock %d is "
						"broken "
						"at page %u",
						k, p);
				p = next_of(g, (uint32_t)p);
			} while (p != h && ++len <= n[k]);
		if (h != LNIL)
			len++;
		if (len != n[k])
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "guest reclaim clock %d holds %llu "
					    "pages, %llu are of its kind",
					    k, (unsigned long long)len,
					    (unsigned long long)n[k]);
		if (h == LNIL || !g->passed)
			continue;
		/* its times, from the hand's, add up to the last page's */
		uint32_t t = g->hand_ms[k];
		for (p = next_of(g, h); p != h; p = next_of(g, p))
			t += passed_get(g, p);
		if (t != g->tail_ms[k])
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "guest reclaim clock %d: its last "
					    "page's time is %u ms, %u kept",
					    k, t, g->tail_ms[k]);
	}
	if (g->passed) { /* a page's large difference is in the map */
		uint64_t nbig = 0;
		for (uint64_t p = 0; p < g->npages; p++)
			if (g->passed[p] == PASSED_BIG) {
				uint64_t i = big_find(&g->big, (uint32_t)p);
				if (g->big.key[i] != p ||
				    g->big.val[i] < PASSED_BIG)
					return mv_error_set(
						err, MV_EINVAL, NULL, 0, name,
						"guest page %llu: its clock "
						"time is not in the map",
						(unsigned long long)p);
				nbig++;
			}
		if (nbig != g->big.n)
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "guest clock times: %llu pages in "
					    "the map, %llu kept",
					    (unsigned long long)nbig,
					    (unsigned long long)g->big.n);
	}
	if (g->nfree != n[GK_FREE] || g->nzeroed != n[GK_ZEROED])
		return mv_error_set(err, MV_EINVAL, NULL, 0, name,
				    "guest free lists hold %llu + %llu pages, "
				    "%llu + %llu are free",
				    (unsigned long long)g->nfree,
				    (unsigned long long)g->nzeroed,
				    (unsigned long long)n[GK_FREE],
				    (unsigned long long)n[GK_ZEROED]);
	uint64_t fresh = 0;
	for (uint64_t p = g->fresh; p < g->npages; p++)
		if (p < g->hole_lo || p >= g->hole_hi)
			fresh++;
	if (fresh != g->nfresh || g->nfresh > g->nfree)
		return mv_error_set(err, MV_EINVAL, NULL, 0, name,
				    "guest free list: %llu never-used pages "
				    "from %llu, %llu counted",
				    (unsigned long long)fresh,
				    (unsigned long long)g->fresh,
				    (unsigned long long)g->nfresh);
	for (uint64_t i = 0; i < g->nfree; i++) {
		uint64_t p = i < g->nfree - g->nfresh
				     ? g->free[i]
				     : g->fresh + (i - (g->nfree - g->nfresh));
		if (g->fresh < g->hole_lo && p >= g->hole_lo)
			p += g->hole_hi - g->hole_lo; /* past the pool */
		if (p >= g->npages || kind_of(g, p) != GK_FREE)
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, name,
				"guest free list holds a used page");
	}
	for (uint64_t i = 0; i < n[GK_BALLOON]; i++) {
		uint32_t p = g->balloon[i];
		/* a hugetlbfs page stays backed (mv_vm_balloon_page) */
		if (p >= g->npages || kind_of(g, p) != GK_BALLOON ||
		    (g->vm->pmap[p].state != MV_PS_BALLOONED &&
		     !(g->vm->pmap[p].flags & MV_PME_PINNED)))
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, name,
				"balloon entry %llu (page %u) is not a "
				"ballooned page",
				(unsigned long long)i, p);
	}
	uint64_t swapped = 0, rss = 0;
	for (int i = 0; i < g->nproc; i++) {
		const struct gproc *pr = &g->proc[i];
		uint64_t r = 0;
		for (uint64_t v = 0; v < pr->nvpages; v++) {
			uint32_t pte = pr->pte[v];
			if (!pte)
				continue;
			if (pte & PTE_SWAP) {
				swapped++;
			} else if (pte - 1 >= g->npages ||
				   kind_of(g, pte - 1) !=
					   (pr->hrun ? GK_HUGE : GK_ANON) ||
				   gpage_index(g, pte - 1) != v) {
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, name,
					"process %d page %llu maps a "
					"page it does not own",
					i, (unsigned long long)v);
			} else {
				r++;
			}
		}
		if (r != pr->rss)
			return mv_error_set(err, MV_EINVAL, NULL, 0, name,
					    "process %d rss %llu, maps %llu", i,
					    (unsigned long long)pr->rss,
					    (unsigned long long)r);
		rss += r;
	}
	if (g->nkind[GK_HUGE] != g->hpool_runs * MV_LARGE_PAGES)
		return mv_error_set(
			err, MV_EINVAL, NULL, 0, name,
			"hugetlbfs pool: %llu pages of %llu 2 MiB pages",
			(unsigned long long)g->nkind[GK_HUGE],
			(unsigned long long)g->hpool_runs);
	if (swapped + g->nswap_free != g->swap_slots)
		return mv_error_set(err, MV_EINVAL, NULL, 0, name,
				    "guest swap: %llu used + %llu free != %llu",
				    (unsigned long long)swapped,
				    (unsigned long long)g->nswap_free,
				    (unsigned long long)g->swap_slots);
	(void)rss;
	return g->mmu ? check_mmu(g, err) : 0;
}

const struct mv_mmu *mv_guest_mmu(const struct mv_guest *g)
{
	return g->mmu;
}

void mv_guest_books(const struct mv_guest *g, struct mv_books *b)
{
	uint64_t n = g->npages;
	mv_books_add(b, "guest", "guest.kind", sizeof *g->kind, n);
	mv_books_add(b, "guest", "guest.page", g->index.w, g->index.n);
	mv_books_add(b, "guest", "guest.clock", g->link.w, g->link.n);
	/* sparse (core.h): to their high-water marks */
	mv_books_add(b, "guest", "guest.free", sizeof *g->free, g->free_hw);
	mv_books_add(b, "guest", "guest.zeroed", sizeof *g->zeroed,
		     g->zeroed_hw);
	mv_books_add(b, "guest", "guest.balloon", sizeof *g->balloon,
		     g->balloon_hw);
	mv_books_add(b, "guest", "guest.cache", sizeof *g->cache,
		     g->os_pages + 1);
	mv_books_add(b, "guest", "guest.swap-free", sizeof *g->swap_free,
		     g->swap_free_hw);
	mv_books_add(b, "guest", "guest.swap-desc", sizeof *g->swap_desc,
		     g->swap_fresh);
	for (int i = 0; i < g->nproc; i++) {
		const struct gproc *pr = &g->proc[i];
		mv_books_add(b, "guest", "guest.pte", sizeof *pr->pte,
			     pr->nvpages);
		if (pr->hrun)
			mv_books_add(b, "guest", "guest.hrun", sizeof *pr->hrun,
				     (pr->nvpages + MV_LARGE_PAGES - 1) /
					     MV_LARGE_PAGES);
	}
	if (g->hpool)
		mv_books_add(b, "guest", "guest.hpool", sizeof *g->hpool,
			     g->hpool_runs + 1);
	if (g->passed) {
		mv_books_add(b, "guest", "interval.clock", sizeof *g->passed,
			     g->npages);
		mv_books_add(b, "guest", "interval.clock-big",
			     sizeof *g->big.key + sizeof *g->big.val,
			     g->big.cap);
	}
	if (g->iv)
		giv_books(g, b);
}
