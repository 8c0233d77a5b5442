/*
 * vm.h - a virtual machine's guest-physical memory: the pmap.
 *
 * The pmap maps every guest-physical page number (GPPN) of a VM to one of
 * the page states of DESIGN.md, in 16 bytes per page. State counters are
 * kept in step with every transition, so "how many pages are shared" is
 * O(1) and the counts always add up to the configured size.
 *
 * All guest memory accesses come through mv_vm_access(): a resident page in
 * the right state is a few loads and returns its frame; anything else is a
 * fault (mv_vm_fault) that the hypervisor resolves and charges to the VM as
 * stall time: first touch (zero fill), copy-on-write break, or a page-in
 * from a backing store the reclaim layer registers (compression cache, swap
 * file). The VM layer itself knows nothing of how pages are compressed or
 * swapped; it only routes faults and keeps the books.
 */
#ifndef MEMVISOR_VM_H
#define MEMVISOR_VM_H

#include "memvisor/host.h"
#include "memvisor/pack.h"

typedef uint64_t mv_gppn_t;
/* 128-bit unsigned: fixed-point sums of shares (src/vm/owners.c) */
__extension__ typedef unsigned __int128 mv_u128;

enum mv_page_state {
	MV_PS_UNTOUCHED = 0, /* never accessed: no frame, reads as zeros */
	MV_PS_PRIVATE,       /* own frame, refcount 1 */
	MV_PS_SHARED,        /* frame with refcount > 1 (or a hint), COW */
	MV_PS_ZERO,          /* mapped to the host's zero frame, COW */
	MV_PS_COMPRESSED,    /* slot in the VM's compression cache */
	MV_PS_SWAPPED,       /* slot in the VM's swap file */
	MV_PS_BALLOONED,     /* given up by the guest's balloon driver */
	MV_PS_COUNT
};

/* Short names used in reports and JSON ("untouched", "private", ...). */
const char *mv_page_state_name(enum mv_page_state s);

/* Per-page flags. */
enum {
	MV_PME_ACCESSED = 1u << 0, /* touched in the current active window */
	MV_PME_DIRTY = 1u << 1,    /* content may have changed since the last
				      sharing scan: every guest write, and
				      every other change of its bytes
				      (mv_vm_content_changed). Page sharing
				      trusts a hash it stored only while
				      this is clear (src/reclaim/share.c) */
	MV_PME_SAMPLED = 1u << 2,  /* in the active-memory sample (policy) */
	MV_PME_LARGE = 1u << 3,    /* backed by part of a 2 MiB mapping */
	MV_PME_PINNED = 1u << 4,   /* never reclaimed (hugetlbfs-style) */
	/* page sharing's own (src/reclaim/share.c), cleared when a VM is
	 * added to a sharer: */
	MV_PME_SEEN = 1u << 5,     /* cksum holds the hash of the last visit */
	MV_PME_HINT = 1u << 6,     /* the sharing table holds a hint for the
				      page under a hash whose low 32 bits
				      are cksum */
	MV_PME_VOLATILE = 1u << 7, /* changed between its last two visits */
};

/*
 * One pmap entry: 9 bytes (issue 12's metadata budget), packed. The
 * frame or slot number and the state share one 32-bit word: 29 bits of
 * number (MV_PME_MPN_MAX: frames of a host of up to 2 TiB, and the slots
 * of a swap file or compression cache, which their creation bounds) and
 * the 3 bits of the state. The entries lie at 9-byte strides, so one in
 * about seven straddles a cache line; x86-64 reads unaligned words at no
 * cost within a line. Nothing takes the address of a field. The interval
 * model's time of a page's last observation, which was a 16-bit field
 * here, is the model's own (src/guest/interval.c, `interval.stamp`).
 */
#define MV_PME_MPN_BITS 29
#define MV_PME_MPN_MAX ((1u << MV_PME_MPN_BITS) - 1)
struct mv_pme {
	uint32_t mpn : MV_PME_MPN_BITS; /* frame when resident; slot when
					   compressed/swapped */
	uint32_t state : 3;             /* enum mv_page_state */
	uint32_t cksum; /* page sharing's: low 32 bits of the page's hash */
	uint8_t flags;  /* MV_PME_* */
} __attribute__((packed));

_Static_assert(sizeof(struct mv_pme) == 9, "9-byte pmap entries");
_Static_assert(MV_PS_COUNT <= 8, "the state fits its 3 bits");

/*
 * A stamp: a time in simulated seconds, kept in units of 2 s in 16 bits,
 * so it wraps every 2^17 s (36 h 24 min). It is read relative to now:
 * the stored value is taken as the latest time at or before now (rounded
 * down to 2 s) with those low 16 bits, so a stamp up to 36 h old reads
 * exactly (to 2 s), and an older one reads as younger than it is, by a
 * multiple of 36 h 24 min: at most 36 h old. Users that must not confuse
 * an old page for a recent one refresh stamps more often than that (the
 * sampler or a scan over every page once a day does). A stamp set "in the
 * future" (after now) reads as now - (2^17 s - the difference).
 */
#define MV_STAMP_UNIT_S 2u
#define MV_STAMP_SPAN_S (MV_STAMP_UNIT_S << 16)

static inline void mv_stamp_set(uint16_t *st, uint64_t now_s)
{
	*st = (uint16_t)(now_s / MV_STAMP_UNIT_S);
}

static inline uint64_t mv_stamp_s(uint16_t st, uint64_t now_s)
{
	uint64_t now_u = now_s / MV_STAMP_UNIT_S;
	uint64_t age_u = (uint16_t)((uint16_t)now_u - st);
	if (age_u > now_u)
		return 0; /* before time 0: the wrap of a young clock */
	return (now_u - age_u) * MV_STAMP_UNIT_S;
}

/* Hypervisor-level fault kinds. */
enum mv_fault_kind {
	MV_FAULT_ZERO_FILL = 0, /* first touch, or touch after the balloon */
	MV_FAULT_COW,           /* write to a shared or zero page */
	MV_FAULT_DECOMPRESS,    /* access to a compressed page */
	MV_FAULT_SWAPIN,        /* access to a swapped page */
	MV_FAULT_ALLOC_WAIT,    /* no free frame: the vCPU waited */
	MV_FAULT_COUNT
};

const char *mv_fault_name(enum mv_fault_kind k);

/*
 * NUMA placement of guest memory (docs/numa.md): libvirt's <numatune>
 * modes. NONE is the host's own rule (ESX, Linux's default policy): the
 * node the vCPUs run on first, then the others.
 */
enum mv_numa_mode {
	MV_NUMA_NONE = 0,
	MV_NUMA_PREFERRED,   /* the nodeset's first node, then the others */
	MV_NUMA_STRICT,      /* only the nodeset (MPOL_BIND): may fail */
	MV_NUMA_INTERLEAVE,  /* nodeset node gppn mod n, then the others */
	MV_NUMA_RESTRICTIVE, /* only the nodeset (cpuset.mems): may fail */
	MV_NUMA_MODE_COUNT
};

/* libvirt's name of a mode ("strict", ...; "none" for MV_NUMA_NONE). */
const char *mv_numa_mode_name(enum mv_numa_mode m);

/* A placement: mode and the nodes it names (bit i: node i). */
struct mv_numa_policy {
	uint8_t mode;    /* enum mv_numa_mode */
	uint8_t nodeset; /* 0: every node */
};

/* Guest NUMA cells (<cpu><numa><cell>), in guest-physical order. */
#define MV_MAX_CELLS 8

struct mv_numa_cell {
	uint64_t bytes; /* its guest-physical range's size */
	/* <numatune><memnode cellid=...>: where its vCPUs run (the
	 * nodeset's first node) and its placement; node -1 and mode NONE
	 * without one (the VM's home node and policy) */
	int node;
	struct mv_numa_policy policy;
};

/* Configuration, as libvirt <domain> XML or .vmx describe it. */
struct mv_vm_config {
	char name[64];
	uint64_t mem_bytes;         /* <memory>: configured size */
	uint64_t current_bytes;     /* <currentMemory>: balloon starts at mem -
				       current */
	uint64_t limit_bytes;       /* memtune hard_limit; default mem_bytes */
	uint64_t reservation_bytes; /* memtune min_guarantee; default 0 */
	uint64_t soft_limit_bytes;  /* memtune soft_limit: reclaim target under
				       contention (docs/scenario.md); 0 = none */
	uint64_t swap_max_bytes; /* memtune swap_hard_limit - hard_limit: most
				    hypervisor swap; UINT64_MAX = unbounded */
	uint64_t
		balloon_max_bytes; /* .vmx sched.mem.maxmemctl: most the balloon
				      may hold; UINT64_MAX = the host's bound */
	uint64_t shares;           /* default 10 per MiB of configured memory */
	int balloon_driver;        /* <memballoon model!='none'> */
	int stats_period_s;        /* <memballoon><stats period=N>; 0 = off */
	int sharing;               /* 0 with <memoryBacking><nosharepages/> */
	int hugepages;             /* <memoryBacking><hugepages/> */
	int locked;                /* <memoryBacking><locked/> or <hugepages/>:
				      held in host RAM (mlock, hugetlbfs),
				      never swapped or compressed by the
				      hypervisor */
	int home_node;             /* <numatune>; -1 = chosen by the host */
	/* sched.mem.pshare.salt (.vmx) or <mv:sharing salt> (domain): the
	 * VM's page-sharing salt under salting (mv_share_config.salting);
	 * "" = none given */
	char pshare_salt[64];
	struct mv_numa_policy numa; /* <numatune><memory mode nodeset> */
	int ncells;                 /* guest NUMA cells; 0 = none */
	struct mv_numa_cell cell[MV_MAX_CELLS];
	char source[256]; /* file the VM came from, for errors */
	int source_line;
};

/* limit_bytes without a limit: cgroup v2's memory.max "max" (a KVM
 * domain without <hard_limit> under <host preset="kvm">) */
#define MV_LIMIT_NONE (UINT64_MAX / MV_PAGE_SIZE * MV_PAGE_SIZE)

/* Fill defaults derived from mem_bytes (call after setting it). */
void mv_vm_config_default(struct mv_vm_config *c, const char *name,
			  uint64_t mem_bytes);
/* Validate: sizes page-aligned and consistent; MV_EINVAL with field. */
int mv_vm_config_check(const struct mv_vm_config *c, struct mv_error *err);

struct mv_vm;

/*
 * A backing store for non-resident pages (compression cache, swap file).
 * page_in gives the newly allocated frame mpn the page's content (its
 * descriptor, or its bytes through mv_host_frame_overwrite), frees its
 * slot and returns the latency to charge in *ns; peek copies the page's
 * materialised bytes into dst without changing anything (used by the
 * invariant checker); discard frees the slot of a page whose contents the
 * guest gave up (balloon). page_in and peek return 0 or a negative MV_E*
 * code. The vm layer changes the page's state after page_in / discard.
 */
struct mv_backing_ops {
	int (*page_in)(void *ctx, struct mv_vm *vm, mv_gppn_t gppn,
		       mv_mpn_t mpn, uint64_t *ns);
	int (*peek)(void *ctx, const struct mv_vm *vm, mv_gppn_t gppn,
		    uint8_t *dst);
	void (*discard)(void *ctx, struct mv_vm *vm, mv_gppn_t gppn);
	void *ctx;
};

/* Counters a VM accumulates over its life. */
struct mv_vm_counters {
	uint64_t reads, writes; /* accesses noted (mv_vm_note_access); with
				   an MMU model a TLB fill's access to the
				   page is noted too */
	uint64_t faults[MV_FAULT_COUNT];
	uint64_t stall_ns[MV_FAULT_COUNT];
	uint64_t remote_frames; /* frames allocated off the node where the
				   page's vCPUs run */
	/* numastat(8)'s counters for this VM's guest frames, summed over
	 * nodes (src/vm/numa.c says when each moves) */
	struct mv_numastat numastat;
	uint64_t numa_bind_failed; /* strict/restrictive allocations that
				      found their nodeset full */
	uint64_t remote_accesses;  /* guest accesses to a frame off the node
				      their vCPUs run on */
	uint64_t numa_ns;          /* their extra latency, charged as stall */
	uint64_t numa_migrated;    /* pages moved to their vCPUs' node */
	uint64_t numa_migrate_ns;  /* the moves' copies, charged as stall */
	uint64_t numa_home_moves;  /* home-node changes by the rebalancer
				      (esxtop NMIG) */
	uint64_t balloon_pages;    /* pages given to the balloon */
	uint64_t balloon_frames;   /* of those, pages that released a frame */
	uint64_t page_in_errors;   /* reads back from swap/cache that failed */
	uint64_t xlat_ns;          /* vCPU time spent translating addresses:
				      TLB misses, walks, VM exits (MMU model) */
	/* transparent huge pages (src/vm/thp.c), /proc/vmstat's names */
	uint64_t thp_fault_alloc, thp_fault_fallback;
	uint64_t thp_collapse_alloc, thp_collapse_alloc_failed;
	uint64_t thp_split_page;
};

/*
 * Active-memory sampling (src/vm/sample.c), as ESX estimates each VM's
 * working set (Waldspurger, "Memory Resource Management in VMware ESX
 * Server", OSDI 2002, section 5.3 "Measuring Idle Memory"): at the start of
 * each period n of the VM's pages are chosen uniformly at random and marked
 * MV_PME_SAMPLED; the next guest access to such a page (any path) clears
 * the mark and counts it; at the period's end f = touched / n. A slow and a
 * fast exponentially-weighted moving average of f are kept, plus the fast
 * one with the current period's partial count folded in; the estimate is
 * the largest of the three.
 */
struct mv_active_config {
	uint32_t pages;     /* sample size n per period; default 100 */
	uint64_t period_ns; /* sampling period; default 30 s */
	double fast_gain;   /* weight of a new period in the fast average */
	double slow_gain;   /* ... and in the slow average */
	/* when the first period ends, after the sampler starts (0: one
	 * period); later ones every period_ns. A replay of a recording sets
	 * it so that its periods end when the measured ones did. */
	uint64_t phase_ns;
};

/* Defaults: 100 pages per 30 s (the paper's), gains 0.9 fast, 0.26 slow (Fig.
 * 6). */
void mv_active_config_default(struct mv_active_config *c);

struct mv_active_sampler {
	struct mv_active_config cfg;
	struct mv_rng rng;
	mv_gppn_t *sample; /* pages of the current period */
	uint32_t n;        /* how many (min(cfg.pages, npages)) */
	uint64_t touched;  /* t: sampled pages touched this period */
	uint64_t period_end_ns;
	uint64_t now_ns;   /* the last tick: how far into the period */
	uint64_t periods;  /* periods completed */
	double last;       /* f of the last completed period */
	double fast, slow; /* moving averages of f */
};

struct mv_sharer;

struct mv_vm {
	struct mv_vm_config cfg;
	int id;
	/* Backed by the host's hugetlbfs pool (src/vm/hugetlb.c): every page
	 * private and pinned on a pool run from start to end (here, in the
	 * padding after id: the VM's overhead figure stays what it was) */
	int hugetlb;
	struct mv_host *host;
	uint64_t npages;             /* configured size in pages */
	struct mv_pme *pmap;         /* npages entries */
	uint64_t count[MV_PS_COUNT]; /* pages per state; sums to npages */
	/* consumed's shared part, kept as refcounts change: the sum over
	 * the SHARED pages of ceil(2^64 / refcount) (src/vm/owners.c) */
	mv_u128 shared_acc;
	uint32_t owner_slot; /* the VM's slot in the host's owners table */
	/* While the dirty log is on, a page moving into or out of its swap
	 * slot is logged too (mv_vm_dirty_log_swap: a migration with shared
	 * swap storage, whose destination holds the page's slot, not its
	 * bytes). Here, in the hole beside owner_slot: the VM's overhead
	 * figure stays what it was. */
	uint32_t log_swap;
	/* share before swap (<sharing before-swap>): the host's page sharing,
	 * offered each page hypervisor reclaim picks before it is compressed
	 * or swapped (mv_reclaim_pages); NULL: straight to compression/swap */
	struct mv_sharer *share_first;
	struct mv_vm_counters ctr;
	int home_node;
	int alloc_blocked; /* set by policy in the low state */
	/* NUMA (src/vm/numa.c): the cells' guest-physical ends, where their
	 * vCPUs run and their placement (one cell, the whole VM, without
	 * <cpu><numa>); the resident pages per node of their frame */
	struct mv_vm_numa {
		int ncells;
		uint64_t cell_end[MV_MAX_CELLS];
		int8_t cell_node[MV_MAX_CELLS];
		struct mv_numa_policy cell_policy[MV_MAX_CELLS];
		uint64_t node_pages[MV_MAX_NODES];
		uint64_t local_pages; /* NLMEM: resident on their vCPUs' node */
		/* the access check (mv_vm_note_access): frames [local_first,
		 * local_first + local_frames) are local to every vCPU of the
		 * VM; others go out of line to mv_vm_numa_remote */
		uint32_t local_first, local_frames;
		uint64_t remote_ns; /* extra cost of a remote access */
		double carry;       /* mv_vm_numa_accesses' fraction */
		mv_gppn_t mig_next; /* where the migration scan resumes */
		double mig_credit;  /* pages it may still move */
	} numa;
	/* Dirty logging for live migration (mv_vm_dirty_log_start): one
	 * bit per page, set by every change of the page's content, as
	 * KVM's dirty log; NULL while off. (Here, in the padding
	 * alloc_blocked left beside home_node: the VM's overhead figure
	 * stays what it was.) */
	uint64_t *dirty_log;
	uint64_t stall_pending_ns; /* stall charged, not yet consumed */

	/* True active set: pages first touched in the current window. */
	uint64_t window_accessed;
	/* The pages whose MV_PME_ACCESSED bit went 0 -> 1 in this window, in
	 * that order: window_list[0 .. window_accessed) while window_accessed
	 * <= window_cap, so closing the window (and the interval model's
	 * active set) visits only them. window_cap grows by doubling up to
	 * mv_vm_window_cap_max (an eighth of the pages): a window that
	 * accessed more overflows the list, and is closed by a pass over
	 * every page. */
	uint32_t *window_list;
	uint64_t window_cap;
	uint64_t active_true; /* pages accessed in the last window */
	/* Estimated active set: what the hypervisor can know by sampling. */
	struct mv_active_sampler active;

	struct mv_backing_ops backing[MV_PS_COUNT]; /* by state */
	/* Called whenever a page's mapping changes (MMU invalidation). */
	void (*on_invalidate)(void *ctx, struct mv_vm *vm, mv_gppn_t gppn);
	void *invalidate_ctx;

	/*
	 * The interval access model (src/guest/interval.c): the guest says
	 * how often a page is accessed and written (per second), so an
	 * observer of a resident page the model keeps no events for can draw
	 * whether it was touched; observe is called by page sharing and
	 * reclamation before they read a page's bytes at now_ns, and applies
	 * the writes the page had since it was last observed (the model's
	 * interval.stamp, in simulated seconds). All NULL in the exact model.
	 */
	double (*rate_of)(void *ctx, const struct mv_vm *vm, mv_gppn_t gppn,
			  double *write_rate);
	void (*on_observe)(void *ctx, struct mv_vm *vm, mv_gppn_t gppn);
	/* Reads, changing nothing, what observing each of the n pages or
	 * asking its rates will read first at random addresses (the
	 * guest's books of the page, its entry in its process's page
	 * table), so that a caller about to do so for them all has the
	 * misses overlap (mv_vm_look_ahead). */
	void (*look_ahead)(void *ctx, const struct mv_vm *vm,
			   const mv_gppn_t *gppn, unsigned n);
	void *rate_ctx;

	/* Verification: XXH3 of what the guest last wrote, per page. */
	uint64_t *expect; /* NULL unless verification is on */

	/* Transparent huge pages (src/vm/thp.c, docs/largepages.md): one
	 * enum mv_region byte per 2 MiB region of guest-physical memory;
	 * NULL while THP is off for the VM (the default) */
	uint8_t *region;
	uint64_t nregions; /* ceil(npages / MV_RUN_FRAMES) */
	uint64_t thp_huge; /* regions now MV_REGION_HUGE */
	int thp_fault;     /* first touch of a pristine region takes 2 MiB */
	/* ESX's large pages instead of Linux's THP: a huge region's pages
	 * carry MV_PME_LARGE, so page sharing and compression pass them
	 * by until the region is broken (docs/largepages.md) */
	int lpage_esx;
};

/*
 * Transparent huge pages in the host (Linux's transhuge.rst; memvisor's
 * design: docs/largepages.md). A region is MV_RUN_FRAMES guest pages,
 * 2 MiB-aligned in guest-physical memory.
 */
enum mv_region {
	MV_REGION_PRISTINE = 0, /* never faulted in: may be backed whole */
	MV_REGION_SMALL,        /* 4 KiB mappings */
	MV_REGION_HUGE          /* all pages private, on one aligned run */
};
enum mv_thp_enabled { MV_THP_NEVER, MV_THP_MADVISE, MV_THP_ALWAYS };
enum mv_thp_defrag {
	MV_THP_DEFRAG_ALWAYS,
	MV_THP_DEFRAG_DEFER,
	MV_THP_DEFRAG_DEFER_MADVISE,
	MV_THP_DEFRAG_MADVISE,
	MV_THP_DEFRAG_NEVER
};
/* /sys/kernel/mm/transparent_hugepage and its khugepaged directory */
struct mv_thp_config {
	enum mv_thp_enabled enabled; /* default never (memvisor's) */
	enum mv_thp_defrag defrag;   /* default madvise; no compaction */
	uint32_t pages_to_scan;      /* khugepaged: 4096 (HPAGE_PMD_NR * 8) */
	uint64_t scan_sleep_ns;      /* khugepaged: 10 s */
	uint32_t max_ptes_none;      /* khugepaged: 511 (HPAGE_PMD_NR - 1) */
};
void mv_thp_config_default(struct mv_thp_config *c);
/* Names as sysfs shows them ("always", "madvise", "never", "defer",
 * "defer+madvise"); parse: 0 or MV_EINVAL. */
const char *mv_thp_enabled_name(enum mv_thp_enabled e);
const char *mv_thp_defrag_name(enum mv_thp_defrag d);
int mv_thp_enabled_parse(const char *s, enum mv_thp_enabled *out);
int mv_thp_defrag_parse(const char *s, enum mv_thp_defrag *out);

/* Turn THP on for vm: regions already touched are SMALL. MV_ENOMEM. */
int mv_vm_thp_enable(struct mv_vm *vm);
/* Fault path: gppn is untouched; if its region is pristine, back the
 * region with a run and return gppn's frame (NULL: a 4 KiB fault). */
uint8_t *mv_vm_thp_fault(struct mv_vm *vm, mv_gppn_t gppn, int write, int note);
/* mv_pmap_set's: page gppn goes to state st (keeps the regions). */
void mv_vm_thp_note(struct mv_vm *vm, mv_gppn_t gppn, enum mv_page_state st);
/*
 * Static huge pages (src/vm/hugetlb.c, docs/largepages.md): back every
 * page of vm (THP's region array on, mv_vm_thp_enable) with runs of the
 * host's hugetlbfs pool, all at once, as QEMU preallocates a hugetlbfs
 * guest. MV_ENOMEM, and nothing taken, when the pool has fewer free pages
 * than the VM's 2 MiB regions; *need gets that number.
 */
int mv_vm_hugetlb_back(struct mv_vm *vm, uint64_t *need);
/* Give a hugetlbfs VM's runs back to the pool; its pages become
 * untouched (the VM stopped). */
void mv_vm_hugetlb_release(struct mv_vm *vm);

/* Split huge region r into 4 KiB mappings (thp_split_page; ESX: a
 * broken large page). */
void mv_vm_thp_split(struct mv_vm *vm, uint64_t r);
/* Split every huge region (ESX breaking its large pages when memory is
 * tight); returns how many. */
uint64_t mv_vm_thp_split_all(struct mv_vm *vm);
/* khugepaged's collapse of region r: 1 collapsed, 0 not eligible under
 * max_ptes_none, MV_ENOMEM no free aligned run. */
int mv_vm_thp_collapse(struct mv_vm *vm, uint64_t r, uint32_t max_ptes_none);
/* Huge regions: every page private on frame run + i, the run aligned;
 * the count right. 0 or MV_EINVAL naming the region (mv_vm_check). */
int mv_vm_thp_check(const struct mv_vm *vm, struct mv_error *err);
/* AnonHugePages of the VM, in bytes. */
static inline uint64_t mv_vm_thp_bytes(const struct mv_vm *vm)
{
	return vm->thp_huge * MV_RUN_FRAMES * MV_PAGE_SIZE;
}

/* khugepaged over a set of VMs: scan_sleep between scans of
 * pages_to_scan pages, round robin over the VMs' regions. */
struct mv_khugepaged {
	struct mv_thp_config cfg;
	uint64_t next_ns; /* the next scan */
	int vm;           /* where the last scan stopped */
	uint64_t region;
	uint64_t pages_scanned, full_scans; /* sysfs's counters */
};
void mv_khugepaged_init(struct mv_khugepaged *k, const struct mv_thp_config *c);
/* Run every scan due by now_ns over vms[0..n) (NULL entries skipped). */
void mv_khugepaged_run(struct mv_khugepaged *k, struct mv_vm *const *vms, int n,
		       uint64_t now_ns);

int mv_vm_create(struct mv_host *h, const struct mv_vm_config *cfg, int id,
		 struct mv_vm **out, struct mv_error *err);
/* Frees every frame the VM holds. */
void mv_vm_destroy(struct mv_vm *vm);

/* Turn on per-page checksums of guest writes (tests, --verify). */
int mv_vm_enable_verify(struct mv_vm *vm);

/* NUMA (src/vm/numa.c, docs/numa.md). Set up the cells from the config
 * and the home node (mv_vm_create does). */
void mv_vm_numa_setup(struct mv_vm *vm);
/* The cell guest page gppn is in (0 without cells). */
int mv_vm_numa_cell(const struct mv_vm *vm, mv_gppn_t gppn);

/* The node the vCPUs that use page gppn run on. */
static inline int mv_vm_numa_node(const struct mv_vm *vm, mv_gppn_t gppn)
{
	return vm->numa.ncells == 1
		       ? vm->numa.cell_node[0]
		       : vm->numa.cell_node[mv_vm_numa_cell(vm, gppn)];
}

/* A frame for page gppn by its cell's placement, numastat counted;
 * MV_MPN_NONE when the host (or, strict, the nodeset) has none. */
mv_mpn_t mv_vm_numa_alloc(struct mv_vm *vm, mv_gppn_t gppn);
/* The same for an aligned 2 MiB run (THP, ESX large pages) of the region
 * of gppn, interleaved per run; MV_MPN_NONE when no allowed node has a
 * free aligned run. */
mv_mpn_t mv_vm_numa_alloc_run(struct mv_vm *vm, mv_gppn_t gppn);
/* The host nodes a strict or restrictive placement confines some of the
 * VM's memory to (the union over its cells); 0 when none is bound. */
unsigned mv_vm_numa_bound_nodes(const struct mv_vm *vm);
/* Page gppn starts (delta 1) or stops (-1) being resident on frame mpn:
 * the per-node books (mv_pmap_set calls it). */
void mv_vm_numa_resident(struct mv_vm *vm, mv_gppn_t gppn, mv_mpn_t mpn,
			 int delta);
/* n accesses to resident pages the interval model makes without events:
 * charged as remote in the proportion of the VM's resident pages that
 * are remote (uniform over them), the fraction carried to the next. */
void mv_vm_numa_accesses(struct mv_vm *vm, double n);
/*
 * Migration toward the vCPUs' node for dt_ns of simulated time at the
 * host's migrate-rate: move resident private pages whose frame is remote
 * (placement none or preferred only) to a frame on their vCPUs' node, the
 * 4096 bytes copied (a descriptor frame by its descriptor), each charged
 * as a copy-on-write copy (lat.cow). Returns the pages moved.
 */
uint64_t mv_vm_numa_migrate(struct mv_vm *vm, uint64_t dt_ns);
/* Recount the per-node books from the pmap: 1 if they agree. */
/* ESX's rebalance period: "every two seconds by default" (vSphere
 * Resource Management, "Dynamic Load Balancing and Page Migration") */
#define MV_NUMA_REBALANCE_NS (2 * MV_NS_PER_S)
/*
 * One pass of ESX's NUMA rebalancer over the VMs (NULL or killed ones
 * skipped by the caller passing NULL): at most one VM whose home node is
 * overcommitted gets the least loaded node as its new home, its vCPUs'
 * node and where its new memory comes from (docs/numa.md states the
 * rule). Returns the index of the VM moved, or -1.
 */
int mv_numa_rebalance(struct mv_vm *const *vms, int n);
/* Make node the VM's home node (cells without their own node follow):
 * the local books recounted, NMIG counted. */
void mv_vm_numa_set_home(struct mv_vm *vm, int node);
int mv_vm_numa_check(const struct mv_vm *vm);

/* Slow path of mv_vm_access: resolve a fault; NULL if the VM must wait. */
uint8_t *mv_vm_fault(struct mv_vm *vm, mv_gppn_t gppn, int write);

/*
 * A device reads guest page gppn (the DMA of a guest's disk write): the
 * hypervisor brings the page in if it reclaimed it (double paging: the
 * fault and its cost are the VM's), but the read is not the guest's, so
 * it sets no accessed bit and ends no active-memory sample (ESX traps
 * only the guest's own accesses to a sampled page). Returns the frame as
 * mv_vm_access does; NULL if the VM must wait.
 */
uint8_t *mv_vm_dma_read(struct mv_vm *vm, mv_gppn_t gppn);

/*
 * Note an access to resident page gppn: the true active window, the
 * active-memory sample, the dirty bit a write sets, the read and write
 * counters. The one place these move, whichever path saw the access: the
 * fast path (mv_vm_access), the fault path (mv_vm_fault) and, with an MMU
 * model, a TLB hit that never reaches the pmap (the guest notes it, as
 * hardware sets the accessed and dirty bits). The window and the sample
 * are tested with one compare of the flags byte the fast path loads
 * anyway: only a page not yet accessed in this window, or a sampled page,
 * leaves the common case (the equivalent of ESX's trap on a sampled page,
 * whose mapping it invalidated).
 */
/* The window list is full: grow it (or let it overflow) and add gppn. */
void mv_vm_window_grow(struct mv_vm *vm, mv_gppn_t gppn);

/* Is the window's list complete (every page accessed in it, listed)? */
static inline int mv_vm_window_listed(const struct mv_vm *vm)
{
	return vm->window_accessed <= vm->window_cap;
}

/*
 * Dirty logging (live migration, src/cluster/migrate.c), as KVM's
 * KVM_MEM_LOG_DIRTY_PAGES: while on, every change of a page's content
 * (a write access, mv_vm_content_changed) sets the page's bit. The
 * migration reads and clears the log at each round (sync) and clears a
 * page's bit when it reads the page to send it (KVM_CLEAR_DIRTY_LOG).
 */
static inline void mv_vm_log_dirty(struct mv_vm *vm, mv_gppn_t gppn)
{
	if (mv_unlikely(vm->dirty_log != NULL))
		vm->dirty_log[gppn >> 6] |= UINT64_C(1) << (gppn & 63);
}
/* Start logging (an empty log); 0 or MV_ENOMEM. Already on: 0. */
int mv_vm_dirty_log_start(struct mv_vm *vm);
/* Stop logging and free the log (log_swap ends with it). */
void mv_vm_dirty_log_stop(struct mv_vm *vm);
/* While the log is on, also log every page that enters or leaves the
 * swapped state (its slot changes though its bytes do not). */
static inline void mv_vm_dirty_log_swap(struct mv_vm *vm)
{
	vm->log_swap = 1;
}
/* Move the log's bits into `into` (ceil(npages / 64) words, overwritten)
 * and clear the log; returns how many pages were logged. */
uint64_t mv_vm_dirty_log_sync(struct mv_vm *vm, uint64_t *into);
/* Words of a log: ceil(npages / 64). */
static inline uint64_t mv_vm_dirty_log_words(const struct mv_vm *vm)
{
	return (vm->npages + 63) / 64;
}

/* An access to page gppn's frame is remote: count and charge it. */
void mv_vm_numa_remote(struct mv_vm *vm, mv_gppn_t gppn);

/* Is frame mpn local to every vCPU of vm, so an access to it costs no
 * NUMA check? One subtract and compare (the zero frame and every frame
 * on a one-node host pass); a frame outside goes to mv_vm_numa_remote. */
static inline int mv_vm_frame_local(const struct mv_vm *vm, mv_mpn_t mpn)
{
	return mpn - vm->numa.local_first < vm->numa.local_frames;
}

static inline void mv_vm_note_access(struct mv_vm *vm, mv_gppn_t gppn,
				     int write)
{
	struct mv_pme *e = &vm->pmap[gppn];
	unsigned f = e->flags;
	if (mv_unlikely(!mv_vm_frame_local(vm, e->mpn)))
		mv_vm_numa_remote(vm, gppn);
	if (mv_unlikely((f & (MV_PME_ACCESSED | MV_PME_SAMPLED)) !=
			MV_PME_ACCESSED)) {
		if (!(f & MV_PME_ACCESSED)) {
			if (mv_likely(vm->window_accessed < vm->window_cap))
				vm->window_list[vm->window_accessed] =
					(uint32_t)gppn;
			else
				mv_vm_window_grow(vm, gppn);
			vm->window_accessed++;
		}
		if (f & MV_PME_SAMPLED)
			vm->active.touched++;
		f = (f | MV_PME_ACCESSED) & ~(unsigned)MV_PME_SAMPLED;
		e->flags = (uint8_t)f;
	}
	if (write) {
		e->flags = (uint8_t)(f | MV_PME_DIRTY);
		mv_vm_log_dirty(vm, gppn);
		vm->ctr.writes++;
	} else {
		vm->ctr.reads++;
	}
}

/*
 * The one access path: make guest page gppn resident and, for a write,
 * private (breaking sharing first), and return its frame's arena page.
 * The arena holds the page's bytes only for a BYTES frame (and zeros for
 * a zero descriptor); a frame with another descriptor reads as zeros
 * there. So a caller that reads the content uses mv_vm_page_read, one
 * that writes bytes mv_vm_page_bytes, and a writer of generated content
 * mv_vm_set_desc. NULL means the VM could not get a frame (host out of
 * memory or allocation blocked): the caller retries later; the wait has
 * been charged. Never NULL for a resident private page.
 */
static inline uint8_t *mv_vm_access(struct mv_vm *vm, mv_gppn_t gppn, int write)
{
	struct mv_pme *e = &vm->pmap[gppn];
	unsigned st = e->state;
	if (mv_likely(st == MV_PS_PRIVATE ||
		      (!write && (st == MV_PS_SHARED || st == MV_PS_ZERO)))) {
		mv_vm_note_access(vm, gppn, write);
		return mv_host_frame(vm->host, e->mpn);
	}
	return mv_vm_fault(vm, gppn, write);
}

/*
 * mv_vm_access for a caller that reads or writes the page's bytes through
 * the pointer it returns (tests, tools): a frame with a descriptor other
 * than zero is made BYTES first, materialised once into the arena (where
 * it then costs memory). The guest model uses mv_vm_access and the
 * descriptor calls below instead.
 */
static inline uint8_t *mv_vm_access_bytes(struct mv_vm *vm, mv_gppn_t gppn,
					  int write)
{
	uint8_t *p = mv_vm_access(vm, gppn, write);
	if (p) {
		mv_desc_t d = mv_host_frame_desc(vm->host, vm->pmap[gppn].mpn);
		if (d != MV_DESC_BYTES && (write || d != MV_DESC_ZERO_PAGE))
			p = mv_host_frame_write(vm->host, vm->pmap[gppn].mpn);
	}
	return p;
}

/*
 * Stall the guest itself caused (its own major faults wait for its disk):
 * the vCPU loses it as it loses the hypervisor's, at the next steps.
 */
static inline void mv_vm_charge_guest(struct mv_vm *vm, uint64_t ns)
{
	vm->stall_pending_ns += ns;
}

/*
 * The vCPU runs for a step of dt_ns: consume the stall pending against it
 * and return the fraction of the step left to run (0..1).
 */
static inline double mv_vm_run_fraction(struct mv_vm *vm, uint64_t dt_ns)
{
	if (vm->stall_pending_ns >= dt_ns) {
		vm->stall_pending_ns -= dt_ns;
		return 0.0;
	}
	double run = (double)(dt_ns - vm->stall_pending_ns) / (double)dt_ns;
	vm->stall_pending_ns = 0;
	return run;
}

/* Verification: expect[gppn] = XXH3 of the page's materialised bytes. */
void mv_vm_wrote_slow(struct mv_vm *vm, mv_gppn_t gppn);

/* Page sharing or reclamation is about to read gppn's bytes: with the
 * interval model, the writes it had since it was last observed happen
 * first. */
static inline void mv_vm_observe(struct mv_vm *vm, mv_gppn_t gppn)
{
	if (mv_unlikely(vm->on_observe != NULL))
		vm->on_observe(vm->rate_ctx, vm, gppn);
}

/* The n pages will be observed, or their rates asked, next: their first
 * misses are taken together now (a hint: nothing changes). */
static inline void mv_vm_look_ahead(const struct mv_vm *vm,
				    const mv_gppn_t *gppn, unsigned n)
{
	if (mv_unlikely(vm->look_ahead != NULL))
		vm->look_ahead(vm->rate_ctx, vm, gppn, n);
}

/*
 * Page gppn's bytes changed without a guest write the vm layer noted: the
 * balloon took the page (it comes back as zeros), the MMU's walker set
 * accessed or dirty bits in a guest page table through the EPT. Sets
 * MV_PME_DIRTY, as a write does. Every path that changes a guest page's
 * content goes through a write access (mv_vm_note_access) or this.
 */
static inline void mv_vm_content_changed(struct mv_vm *vm, mv_gppn_t gppn)
{
	vm->pmap[gppn].flags |= MV_PME_DIRTY;
	mv_vm_log_dirty(vm, gppn);
}

/* Record that the guest finished writing gppn (updates the checksum). */
static inline void mv_vm_wrote(struct mv_vm *vm, mv_gppn_t gppn)
{
	if (mv_unlikely(vm->expect != NULL))
		mv_vm_wrote_slow(vm, gppn);
}

/* The descriptor of resident page gppn's frame (MV_DESC_BYTES: bytes). */
static inline mv_desc_t mv_vm_page_desc(const struct mv_vm *vm, mv_gppn_t gppn)
{
	return mv_host_frame_desc(vm->host, vm->pmap[gppn].mpn);
}

/* Resident page gppn's bytes: the arena, or materialised into buf. */
static inline const uint8_t *mv_vm_page_read(const struct mv_vm *vm,
					     mv_gppn_t gppn, uint8_t *buf)
{
	return mv_host_frame_read(vm->host, vm->pmap[gppn].mpn, buf);
}

/*
 * Private page gppn (after a write access) is about to get arbitrary
 * bytes: make its frame BYTES (materialising its descriptor once) and
 * return the arena page to write. The caller then calls mv_vm_wrote.
 */
static inline uint8_t *mv_vm_page_bytes(struct mv_vm *vm, mv_gppn_t gppn)
{
	return mv_host_frame_write(vm->host, vm->pmap[gppn].mpn);
}

/* Private page gppn (after a write access) now holds G(d): the guest
 * wrote generated content, or a new version. Updates the checksum. */
static inline void mv_vm_set_desc(struct mv_vm *vm, mv_gppn_t gppn, mv_desc_t d)
{
	if (mv_vm_page_desc(vm, gppn) != d)
		mv_host_frame_set_desc(vm->host, vm->pmap[gppn].mpn, d);
	mv_vm_wrote(vm, gppn);
}

/*
 * Record time a vCPU spent waiting after an access returned NULL (the rest
 * of its time slice). Counted as stall, not carried into the next slice:
 * the work it could not do is already lost.
 */
void mv_vm_charge_wait(struct mv_vm *vm, uint64_t ns);

/* Charge time the vCPU spent on address translation (an MMU model's). */
void mv_vm_charge_xlat(struct mv_vm *vm, uint64_t ns);

/*
 * Change a page's state and frame/slot, keeping the counters. Does not
 * touch refcounts or bytes: the caller (fault path, reclaim layer) owns
 * those. Calls the invalidation hook.
 */
void mv_pmap_set(struct mv_vm *vm, mv_gppn_t gppn, enum mv_page_state st,
		 uint32_t mpn_or_slot);

/*
 * Give a page to the balloon: drop its frame or backing slot and mark it
 * ballooned. The guest promised not to touch it until the balloon deflates;
 * if it does, the access is a zero-fill fault. A hugetlbfs page
 * (MV_PME_PINNED) keeps its frame and state: QEMU discards nothing.
 */
void mv_vm_balloon_page(struct mv_vm *vm, mv_gppn_t gppn);

/*
 * The VM's process let the page go (QEMU exited, or the host discarded a
 * page the guest reported free): drop its frame or backing slot; the page
 * is untouched again, and an access reads zeros (a zero-fill fault).
 * A hugetlbfs page (MV_PME_PINNED) is left as it is.
 */
void mv_vm_release_page(struct mv_vm *vm, mv_gppn_t gppn);

/* Host memory the hypervisor spends on this VM's books (the pmap and, when
 * verifying, the checksums): esxtop's OVHD, as far as memvisor has one. */
uint64_t mv_vm_overhead_bytes(const struct mv_vm *vm);
/* Add the VM's books (pmap, active-memory sample; --verify's checksums
 * as group "verify") to b, and its pages to b->guest_pages. */
void mv_vm_books(const struct mv_vm *vm, struct mv_books *b);

/* Close the active window: active_true = pages touched in it; reset.
 * Clears the accessed bits of the listed pages, or of every page when
 * the list overflowed. */
void mv_vm_close_window(struct mv_vm *vm);
/* The most entries the window list may grow to: an eighth of the pages
 * (at most half a byte a page), and at least 64. */
uint64_t mv_vm_window_cap_max(const struct mv_vm *vm);

/*
 * What a VM knows besides its pages' bytes and states, as bytes (carry.c):
 * the pages' ACCESSED and SAMPLED marks, the active-memory sampler (its
 * random stream, sample and averages) and the active window (list,
 * count, last window's total), the counters and the stall not yet
 * consumed. A live migration's destination VM takes it in place of its
 * own at the switch-over. pack appends to w (0 or MV_ENOMEM); unpack
 * reads it off r into vm, which must have as many pages, and changes vm
 * only when all of it is there and sound (else MV_EINVAL naming the part).
 */
int mv_vm_carry_pack(const struct mv_vm *vm, struct mv_pack *w);
int mv_vm_carry_unpack(struct mv_vm *vm, struct mv_unpack *r,
		       struct mv_error *err);

/*
 * Set the VM's sampler (size, period, gains) and its seed, and start the
 * first period at now_ns. mv_vm_create starts one with the defaults, seeded
 * from the VM's id. MV_EINVAL for a zero size or period or a gain outside
 * (0, 1]; MV_ENOMEM.
 */
int mv_vm_active_configure(struct mv_vm *vm, const struct mv_active_config *c,
			   uint64_t seed, uint64_t now_ns);
/* Advance the sampler to now_ns: close every period that ended, start the
 * next. Cheap when no period ended (one compare); call it every step. */
void mv_vm_active_tick(struct mv_vm *vm, uint64_t now_ns);
/* Estimated active fraction of configured memory (0..1): max of the slow
 * average, the fast average and the fast average with this period so far. */
double mv_vm_active_fraction(const struct mv_vm *vm);
/* The same in pages (of the configured size): esxtop's ACTV. */
uint64_t mv_vm_active_estimate(const struct mv_vm *vm);
/*
 * The estimator alone, for a sampler whose touched / n the caller measures
 * another way (memvisor agent: the Referenced pages of a QEMU process's
 * guest RAM). mv_active_fold ends a period whose touched fraction was f;
 * mv_active_estimate is the estimate from the averages and the current
 * period's touched / n (n = 0: no current count, the averages alone). Only
 * cfg's gains, n, touched and the averages are used.
 */
void mv_active_fold(struct mv_active_sampler *a, double f);
double mv_active_estimate(const struct mv_active_sampler *a);
/* Free the sampler's page list (mv_vm_destroy does it). */
void mv_vm_active_free(struct mv_vm *vm);

/*
 * The host's owners table (src/vm/owners.c): which VMs map each sharing
 * frame, how many times. mv_vm_create attaches the VM, mv_vm_destroy
 * detaches it (the last one frees the table); mv_pmap_set reports each
 * page that maps (d = +1) or unmaps (-1) a frame in state SHARED.
 * mv_owners_detach_host frees the table at once: for a teardown of
 * every VM of the host (mv_sim_destroy), whose mv_vm_destroy then
 * skips the table, its sums going with the VMs.
 */
int mv_owners_attach(struct mv_vm *vm);
void mv_owners_detach(struct mv_vm *vm);
void mv_owners_detach_host(struct mv_host *h);
void mv_owners_change(struct mv_vm *vm, mv_mpn_t mpn, int d);
/* The table's books (once per host). */
void mv_owners_books(const struct mv_host *h, struct mv_books *b);
/* Consumed's shared part: the sum over the VM's shared pages of
 * 1/refcount, rounded half up (O(1); owners.c says how exact). */
uint64_t mv_vm_shared_part(const struct mv_vm *vm);
/* Checks: shared_acc equals its sum recomputed from the pmap (1, else
 * 0); and the sum of 1/refcount as doubles in page order, the reference
 * the O(pages) walk used to give. O(pages), for tests and mv_vm_check. */
int mv_owners_check(const struct mv_vm *vm);
double mv_vm_shared_part_walk(const struct mv_vm *vm);

/* Figures an operator reads, derived from the state counts (O(1)). */
struct mv_vm_usage {
	uint64_t configured; /* pages */
	uint64_t granted;    /* private + shared + zero: guest pages backed by a
				frame */
	uint64_t consumed; /* frames the VM accounts for: private + shared share
			    */
	uint64_t touched;  /* not untouched and not ballooned */
	uint64_t active_true;  /* pages accessed in the last active window */
	uint64_t shared_saved; /* granted - consumed */
	uint64_t state[MV_PS_COUNT];
};
void mv_vm_usage(const struct mv_vm *vm, struct mv_vm_usage *u);

/* Total stall charged over all fault kinds (ns). */
uint64_t mv_vm_stall_ns(const struct mv_vm *vm);

/*
 * Invariant check: state counts add up; resident pages' frames are in use;
 * every page's current bytes hash to what the guest last wrote (if
 * verification is on). 0 or MV_EINVAL with a message naming the page.
 */
int mv_vm_check(const struct mv_vm *vm, struct mv_error *err);

#endif
