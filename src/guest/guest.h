/*
 * guest/guest.h - the guest OS model's internal state (layer-internal).
 */
#ifndef MV_GUEST_INTERNAL_H
#define MV_GUEST_INTERNAL_H

#include <string.h>

#include "guest/workload.h"
#include "memvisor/pack.h"

/* What the guest kernel uses a guest-physical page for. */
enum gkind {
	GK_FREE = 0, /* on the free list (stale contents) */
	GK_ZEROED,   /* windows: on the zeroed list */
	GK_CACHE,    /* page cache: page `index` of the OS image */
	GK_ANON,     /* anonymous memory of process `owner` at vpn `index` */
	GK_BALLOON,  /* held by the balloon driver */
	GK_PTABLE,   /* a page-table page (with an MMU model) */
	GK_HUGE,     /* part of a 2 MiB page of the hugetlbfs pool */
	GK_KERNEL,   /* boot-time kernel structure sized to configured memory
			(struct page array, hash tables): wired */
	GK_COUNT
};

/*
 * A guest page's byte in kind[]: its kind (3 bits), its owner (4 bits:
 * the process, a workload, MV_MAX_WORKLOADS of them; 0 for the page
 * cache) and GREF. set_kind changes the kind and clears GREF; the owner
 * stays until the page's use is set again (gpage_set_use).
 */
#define GKIND_MASK 0x07u
#define GOWNER_SHIFT 3
#define GOWNER_MASK 0x78u
#define GREF 0x80 /* referenced since the clock hand last passed */
_Static_assert(GK_COUNT <= GKIND_MASK + 1, "a kind fits in 3 bits");
_Static_assert(MV_MAX_WORKLOADS <= (GOWNER_MASK >> GOWNER_SHIFT) + 1,
	       "a workload number fits in the owner bits");

/* Processes and the OS image are at most GPAGE_INDEX_LIMIT pages (1 TiB),
 * checked at creation (the interval model's events keep 28 bits). */
#define GPAGE_INDEX_LIMIT (1ull << 28)

/*
 * A per-page array of numbers, 3 bytes each when every number it will
 * hold is below 2^24 (a guest of at most 64 GiB: the clock links; a
 * process or image of at most 64 GiB: the page's index), else 4. An
 * element is read and written as the 4 bytes at its start, masked
 * (little-endian), so the array has a byte past its last element. Dense
 * (mv_dense_alloc): resident where written.
 */
struct gnum {
	uint8_t *b;
	uint64_t n;    /* elements */
	uint32_t w;    /* bytes an element: 3 or 4 */
	uint32_t mask; /* 2^(8w) - 1 */
};
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "gnum reads an element as a little-endian word");

/* Make a of n elements, each at most max; 0 or MV_ENOMEM. */
int gnum_alloc(struct gnum *a, uint64_t n, uint64_t max);
void gnum_free(struct gnum *a);

static inline uint32_t gnum_get(const struct gnum *a, uint64_t i)
{
	uint32_t v;
	memcpy(&v, a->b + i * a->w, sizeof v);
	return v & a->mask;
}

static inline void gnum_set(struct gnum *a, uint64_t i, uint32_t v)
{
	uint8_t *q = a->b + i * a->w;
	uint32_t o;
	memcpy(&o, q, sizeof o);
	o = (o & ~a->mask) | v;
	memcpy(q, &o, sizeof o);
}

/* pte: 0 = never mapped; PTE_SWAP|slot = in guest swap; else gppn + 1. */
#define PTE_SWAP 0x80000000u

struct gproc {
	uint64_t nvpages;
	uint32_t *pte;
	uint64_t rss;
	uint32_t
		*hrun; /* hugetlbfs: per 2 MiB of the process, first page + 1 */
};

/*
 * The balloon driver's pace, as VMware's vmmemctl for Linux keeps it
 * (drivers/misc/vmw_balloon.c, Linux 2.6.34 to 4.19, one cycle a second):
 * while the guest has free pages, non-sleeping allocations, up to
 * balloon-rate (16384 pages a cycle there); once the guest must reclaim to
 * give a page, sleeping allocations at rate_alloc pages a cycle, which
 * starts at 2048 (<mv:guest balloon-reclaim-rate>), halves (to at least 512)
 * when the guest has nothing left to give, and grows by 16 a cycle the driver
 * used all of it.
 */
#define BALLOON_RATE_ALLOC_MIN 512.0
#define BALLOON_RATE_ALLOC_INC 16.0

struct mv_guest {
	struct mv_guest_config cfg;
	struct mv_vm *vm;
	uint64_t npages;
	uint64_t seed;
	uint8_t *kind;     /* enum gkind | owner | GREF, per gppn */
	struct gnum index; /* per gppn: the vpn in its owner's process, or
			      the OS image page */
	uint64_t nkind[GK_COUNT];

	/* The free list (LIFO), GK_FREE pages: nfree pages, the freed ones
	 * stacked in free[] on top of nfresh never-used ones, handed out
	 * lowest first from fresh (skipping the hugetlbfs pool, [hole_lo,
	 * hole_hi)), the order a list that started full gave. free[],
	 * zeroed[] and balloon[] are sparse (core.h), counted to their
	 * high-water marks. */
	uint32_t *free;
	uint64_t nfree, nfresh, fresh, hole_lo, hole_hi, free_hw;
	unsigned free_warm; /* pops left before warm_free reads ahead */
	uint32_t *zeroed; /* windows zeroed list, GK_ZEROED pages */
	uint64_t nzeroed, zeroed_hw;

	/* page cache of the OS image: index -> gppn + 1 */
	uint64_t os_pages;
	uint64_t os_hash;
	uint32_t *cache;
	struct mv_zipf os_zipf;
	struct mv_rng os_rng;
	double os_credit;

	/* guest swap device: slots of real bytes, or of a descriptor */
	uint64_t swap_slots;
	uint8_t *swap;        /* swap_slots * 4 KiB, MAP_NORESERVE; the bytes
				 of a slot whose descriptor is BYTES */
	mv_desc_t *swap_desc; /* per slot: what was written (BYTES: bytes);
				 sparse, slots below swap_fresh written */
	uint32_t *swap_free;  /* freed slots (LIFO, sparse) on top of the
				 never-used ones, swap_fresh upward */
	uint64_t nswap_free;  /* free slots, freed and never used */
	uint64_t swap_fresh, swap_free_hw;

	int nproc;
	struct gproc proc[MV_MAX_WORKLOADS];
	int nwork;
	struct gwork work[MV_MAX_WORKLOADS];

	/* balloon driver */
	uint32_t *balloon; /* pages held, a stack (sparse) */
	uint64_t balloon_hw;
	uint64_t balloon_target;
	double balloon_credit;
	double balloon_rate_alloc;  /* pages/s when the guest must reclaim:
				       BALLOON_RATE_ALLOC_* below */
	double balloon_slow_credit; /* of balloon_rate_alloc */
	uint64_t balloon_inflated, balloon_deflated; /* lifetime pages */
	uint64_t fpr_next_ns; /* free page reporting: the next pass */

	/* reclaim clocks: one circular list per kind for GK_CACHE and
	 * GK_ANON (as Linux keeps its file and anon LRU lists), so finding a
	 * victim costs O(pages passed over), not O(guest pages) */
	struct gnum link;        /* per gppn: next at 2p, prev at 2p + 1 */
	uint32_t hand[GK_COUNT]; /* LNIL: empty list */
	/* the clocks' times, with the interval model (guest.c, "The
	 * clocks' times"): per gppn on a clock, its time less its
	 * predecessor's; per clock, the hand's and the last page's */
	uint16_t *passed;
	uint32_t hand_ms[GK_COUNT], tail_ms[GK_COUNT];
	struct gbig {
		uint32_t *key, *val; /* open addressing, BIG_NONE: empty */
		uint64_t n, cap;
	} big; /* the differences too large for passed[] */
	double zero_credit;
	int booted;
	/* boot-time kernel structures: kboot pages, sized at creation from
	 * the configured memory; the first kboot_struct of them the page
	 * frame array, the rest hash tables; kboot_done allocated so far */
	uint64_t kboot, kboot_struct, kboot_done;
	uint64_t bfreed_done; /* boot-freed pages written so far */
	const volatile sig_atomic_t
		*stop;      /* the sim's stop flag, read by the boot */
	uint64_t boot_next; /* next OS page to load at boot */
	struct mv_guest_stats st;
	uint64_t os_demanded, os_done;
	volatile uint64_t sink; /* reads land here so they really happen */

	/* address translation (cfg.mmu): one MMU process per workload */
	struct mv_mmu *mmu;
	struct mv_mmu_proc *mproc[MV_MAX_WORKLOADS];
	struct mv_mmu_proc *cur_proc; /* the address space loaded (CR3) */
	int cur_work;          /* the workload running now (page faults) */
	uint64_t mmu_ns;       /* translation time already charged */
	uint64_t wait_left_ns; /* this step: run time not yet waited out */
	/* hugetlbfs pool (mmu_cfg.guest_2m): free 2 MiB pages, a stack of
	 * their first guest pages; reserved at boot, never swapped */
	uint32_t *hpool;
	uint64_t nhpool, hpool_runs;

	/* the interval access model (interval.c); NULL: exact */
	struct giv *iv;
	uint64_t now_ns; /* the step running now */
};

/* What guest page p is used for, and by whom. */
static inline enum gkind gpage_kind(const struct mv_guest *g, uint64_t p)
{
	return (enum gkind)(g->kind[p] & GKIND_MASK);
}

static inline uint32_t gpage_owner(const struct mv_guest *g, uint64_t p)
{
	return (g->kind[p] & GOWNER_MASK) >> GOWNER_SHIFT;
}

static inline uint32_t gpage_index(const struct mv_guest *g, uint64_t p)
{
	return gnum_get(&g->index, p);
}

/* pack.c: a guest's state as bytes (mv_guest_pack), with memvisor/pack.h's
 * writer and reader. */

/* guest.c, for pack.c: allocate g's page stacks (free, zeroed, balloon),
 * page cache map and swap device (slots, descriptors, free stack) for
 * its npages, os_pages and swap_slots, as creation does; 0 or MV_ENOMEM
 * (mv_guest_destroy frees what was allocated). */
int guest_alloc_lists(struct mv_guest *g);

/* guest.c, for interval.c: the exact model's operations it fires. */
int guest_touch(struct mv_guest *g, struct gwork *w, uint64_t vpn, int write,
		int fetch);
/* Up to n more writes by w to its page vpn, which it has just written,
 * made together where each would only make a new version of a generated
 * page; how many were made (0: call guest_touch for the next). */
uint64_t guest_write_again(struct mv_guest *g, struct gwork *w, uint64_t vpn,
			   uint64_t n);
/* Make OS image page idx resident (a major fault if it was dropped) and
 * read a byte of it; 0 or MV_EAGAIN. */
int guest_os_touch(struct mv_guest *g, uint64_t idx, uint64_t i);
void guest_run_work(struct mv_guest *g, struct gwork *w, uint64_t now_ns,
		    double dt_s, double progress);

/* interval.c */
int giv_create(struct mv_guest *g, uint64_t step_ns, uint64_t end_ns);
/* Log the resident pages the model wrote, lazily, in the dt_s up to
 * now_ns (a draw per page); the pages logged. */
uint64_t giv_log_writes(struct mv_guest *g, uint64_t now_ns, double dt_s);
void giv_destroy(struct giv *iv);
/* Append the interval model's state (pack.c): its events, the active
 * set's sums, the stamps, its random stream. */
void giv_pack(const struct mv_guest *g, struct mv_pack *w);
/* Read what giv_pack wrote into a new g->iv, not hooked into g->vm yet:
 * 0, MV_EINVAL (r->bad says what) or MV_ENOMEM. */
int giv_unpack(struct mv_guest *g, struct mv_unpack *r);
/* Hook the interval model into g->vm (which has no guest's hooks). */
void giv_hook(struct mv_guest *g);
/* g was unpacked on g->vm, a copy of VM old (live migration), and
 * hooked: every page taken as changed. */
void giv_retake(struct mv_guest *g, const uint64_t *was_private);
/* Add the interval model's books (clock times, events) to b. */
void giv_books(const struct mv_guest *g, struct mv_books *b);
/* The step's workloads and OS accesses: events due before progress. */
void giv_step(struct mv_guest *g, uint64_t now_ns, double dt_s, double progress,
	      uint64_t os_want);
/* The guest swapped page vpn of process owner out / dropped cache page
 * idx: its next access is an event. */
void giv_swapped_out(struct mv_guest *g, uint32_t owner, uint64_t vpn);
void giv_cache_dropped(struct mv_guest *g, uint64_t idx);
/* The reclaim clock's hand passes p (of clock k) with its referenced bit
 * clear: was it touched since passed_ms, when the hand last passed it or
 * it joined the clock? (a draw) */
int giv_referenced(struct mv_guest *g, uint32_t p, int k, uint32_t passed_ms);
/* Simulated time now, in ms modulo 2^32: the clocks' times. */
uint32_t giv_now_ms(const struct mv_guest *g);
/* The true active set of the window_s seconds up to now_ns, before the
 * window's accessed bits are cleared (interval.c). */
double giv_active_pages(struct mv_guest *g, uint64_t now_ns, double window_s);
/* The same by a walk over every page: the reference (tests, --verify). */
double giv_active_pages_walk(const struct mv_guest *g, uint64_t now_ns,
			     double window_s);
/* Page p's state, use or owner changed: its part of the active set's
 * sums is computed again when next asked (set_kind, on_invalidate). */
void giv_page_changed(struct mv_guest *g, mv_gppn_t p);

#endif
