/*
 * reclaim.h - how a hypervisor takes memory back from VMs.
 *
 * Three modules, each owning one mechanism of DESIGN.md, all working on
 * real page bytes and changing the pmap only through mv_pmap_set:
 *
 *   share.c    transparent page sharing (ESX) / KSM (Linux): a scanner
 *              hashes pages (XXH3), matches them through a global table,
 *              compares all 4096 bytes and maps equal pages to one
 *              read-only frame (MV_FRAME_SHARED); zero pages to the zero
 *              frame. Writes break sharing in the vm fault path (COW).
 *   swap.c     hypervisor swapping: one real swap file per VM, real I/O.
 *   zcache.c   memory compression: LZ4 into a per-VM cache of 2 KiB
 *              halves of host frames, spilling to the swap file; and the
 *              per-VM reclaimer that picks random victims and sends them
 *              through compression to swap, as ESX does.
 *
 * Ballooning needs the guest's cooperation and so lives in the guest
 * layer (the driver, mv_guest_balloon_*); its hypervisor half is
 * mv_vm_balloon_page in the vm layer.
 */
#ifndef MEMVISOR_RECLAIM_H
#define MEMVISOR_RECLAIM_H

#include "memvisor/vm.h"

/* ---- page sharing ------------------------------------------------------- */

struct mv_share_config {
	int enabled;            /* default 1 */
	uint32_t pages_to_scan; /* KSM pages_to_scan: pages per wake-up; default
				   100 */
	uint64_t sleep_ns;  /* KSM sleep_millisecs: between wake-ups; default 20
			       ms */
	/* ESX's Mem.ShareScanTime: every page of the sharing VMs once in
	 * this time, pages passed over counted as ESX counts a VM's size
	 * (not only candidates, as KSM's pages_to_scan): each wake-up
	 * advances pages x sleep / scan_time; 0 (default): pages_to_scan */
	uint64_t scan_time_ns;
	int use_zero_pages; /* map all-zero pages to the zero frame; default 1
			     */
	int hints;          /* remember unshared pages' hashes (ESX hints /
			       KSM unstable tree); default 1 */
	uint64_t page_cost_ns; /* simulated CPU cost per page scanned; default
				  250 */
	/* ESX's Mem.ShareForceSalting (VMware KB 2097593): 0 = every VM
	 * shares with every other (the salt is ignored); 1 = VMs share
	 * with VMs of the same sched.mem.pshare.salt, those without one
	 * all together; 2 = the same, but a VM without a salt shares only
	 * with itself (its vc.uuid is its salt). Default 0. */
	uint64_t salting;
	int merge_across_nodes; /* KSM merge_across_nodes: 1 (default) merges
				   equal pages whatever node their frames
				   are on; 0 only pages on the same node,
				   one copy per node (ESX's rule) */
	/* share before swap: the hypervisor offers each page it is about to
	 * compress or swap to page sharing first, and a page that shares
	 * (or is all zero) is reclaimed without I/O; "the system always
	 * attempts to share a page before paging it out to disk"
	 * (Waldspurger 2002, section 4.3). KSM has no such step. Default 0. */
	int before_swap;
};

void mv_share_config_default(struct mv_share_config *c);

/* Counters named as Linux shows them in /sys/kernel/mm/ksm/. */
struct mv_share_stats {
	uint64_t pages_shared;   /* sharing frames in use */
	uint64_t pages_sharing;  /* guest pages mapping them, beyond one per
				    frame: pages saved */
	uint64_t pages_unshared; /* unique pages remembered as hints */
	uint64_t pages_volatile; /* private pages that changed between their
				    last two scans (a gauge, as in KSM) */
	uint64_t volatile_seen;  /* visits that found a page changed, cumulative
				  */
	uint64_t zero_pages;     /* guest pages mapped to the zero frame */
	uint64_t full_scans;     /* passes over all VMs' pages */
	uint64_t pages_scanned;
	uint64_t
		hash_collisions; /* equal hash, different bytes: never shared */
	uint64_t merges;         /* pages merged into a sharing frame */
	uint64_t sim_cpu_ns; /* simulated CPU: pages_scanned x page_cost_ns */
	uint64_t cpu_ns; /* measured CPU time of the scanner (this machine) */
};

struct mv_sharer;

int mv_share_create(struct mv_host *h, const struct mv_share_config *c,
		    struct mv_sharer **out, struct mv_error *err);
/* Forgets every VM; does not unshare (VMs free their own frames). */
void mv_share_destroy(struct mv_sharer *s);
/* Add its books (the table, the per-frame generations) to b. */
void mv_share_books(const struct mv_sharer *s, struct mv_books *b);
/* Scan this VM's pages too (skipped if vm->cfg.sharing is 0). */
int mv_share_add_vm(struct mv_sharer *s, struct mv_vm *vm);
/* Scan vm no more: it leaves the host (live migration). MV_EINVAL if it
 * was not added. */
int mv_share_remove_vm(struct mv_sharer *s, struct mv_vm *vm);
/* Put an added VM, before the first scan, into salt group `group` (ESX's
 * sched.mem.pshare.salt): pages share only within a group; 0 is every
 * VM's group until set. MV_EINVAL if vm is not added, or scanning began
 * and has visited vm (a VM arriving by live migration it has not). */
int mv_share_set_salt(struct mv_sharer *s, struct mv_vm *vm, uint32_t group);
/* Run the scanner for dt_ns of simulated time: one batch of
 * pages_to_scan per sleep_ns (with scan_time_ns, the batch's share of a
 * lap). Returns pages scanned (with scan_time_ns, passed over too). */
uint64_t mv_share_run(struct mv_sharer *s, uint64_t dt_ns);
/* Scan exactly n pages, round-robin over VMs' pages (tests, bench). */
uint64_t mv_share_scan(struct mv_sharer *s, uint64_t n);
/*
 * Scan one page of an added VM now, out of the scanner's order (share
 * before swap): 1 if it was shared or mapped to the zero frame (its frame
 * is freed or now shared), 0 if it is still a private page or was not a
 * candidate (not private, pinned, large, or its VM does not share).
 */
int mv_share_page(struct mv_sharer *s, struct mv_vm *vm, mv_gppn_t g);
void mv_share_stats(const struct mv_sharer *s, struct mv_share_stats *st);
/* The same in O(VMs) for a run's series: the gauges that need a walk of
 * every page (pages_unshared, pages_volatile) are left 0. */
void mv_share_series(const struct mv_sharer *s, struct mv_share_stats *st);
/* Table consistency: every entry's frame and hash still valid. */
int mv_share_check(const struct mv_sharer *s, struct mv_error *err);

/*
 * KSM's view of the same sharing (Documentation/admin-guide/mm/ksm.rst):
 * a KSM page maps at most max_page_sharing pages (default 256), so a
 * content with more sharers is a chain of KSM pages. From the sharing
 * frames in use: the KSM pages (pages_shared) and further mappings
 * (pages_sharing) KSM would count, stable_node_chains (contents past the
 * limit) and stable_node_dups (their KSM pages); general_profit, bytes:
 * (pages_sharing + zero pages) x 4 KiB minus 64 bytes of rmap_item for
 * every page KSM tracks (shared, sharing, unshared, volatile).
 */
struct mv_ksm_view {
	uint64_t max_page_sharing;
	uint64_t pages_shared, pages_sharing;
	uint64_t stable_node_chains, stable_node_dups;
	int64_t general_profit;
};
#define MV_KSM_MAX_PAGE_SHARING 256
#define MV_KSM_RMAP_ITEM_BYTES 64 /* 64-bit: ksm.rst */
void mv_share_ksm_view(const struct mv_sharer *s,
		       const struct mv_share_stats *st,
		       uint64_t max_page_sharing, struct mv_ksm_view *out);

/* ---- hypervisor swap file ----------------------------------------------- */

struct mv_swap_stats {
	uint64_t slots, used;   /* file size in pages, pages in it */
	uint64_t writes, reads; /* pages written (swap-out), read (swap-in) */
	uint64_t write_errors, read_errors;
	uint64_t disk_bytes; /* disk the file's pages take, as allocated:
				grows in 1 MiB extents as slots are first
				used (4 KiB when a disk too full for the
				extent takes the page alone), shrinks as
				extents empty (holes punched); without
				fallocate, fs_bytes */
	uint64_t fs_bytes;   /* what the filesystem says the file takes
				(st_blocks * 512 when the stats are read):
				disk_bytes plus its own metadata (extent
				tree blocks), which varies with where the
				blocks landed, so it is not reported */
};

struct mv_swapfile;

/*
 * Create the VM's swap file in `dir` with no name (O_TMPFILE, or mkstemp
 * and unlink at once): nothing is left on disk however the process ends.
 * `slots` pages long (ESX: configured memory minus reservation), sparse:
 * disk is allocated as slots are first written, so a disk smaller than
 * the file fails a swap-out with MV_ENOSPC (nothing lost), not power-on.
 * Registers itself as the VM's backing store for MV_PS_SWAPPED.
 */
int mv_swapfile_create(struct mv_vm *vm, const char *dir, uint64_t slots,
		       struct mv_swapfile **out, struct mv_error *err);
/*
 * The same, as the file `dir`/`vm-name`.vswp, for a scenario that keeps its
 * swap files (O_EXCL: an existing file is an error, MV_EINVAL).
 */
int mv_swapfile_create_named(struct mv_vm *vm, const char *dir, uint64_t slots,
			     struct mv_swapfile **out, struct mv_error *err);
/*
 * The same, as a file of its own name in `dir` (DIR/NAME-XXXXXX.vswp):
 * for a swap file on shared storage that another process will open when
 * its VM moves there (mv_swapfile_pack, _adopt). Removed by
 * mv_swapfile_destroy unless keep.
 */
int mv_swapfile_create_shared(struct mv_vm *vm, const char *dir,
			      uint64_t slots, struct mv_swapfile **out,
			      struct mv_error *err);
/* Close the file; a named one is removed unless keep. */
void mv_swapfile_destroy(struct mv_swapfile *sf, int keep);
struct mv_pack;
struct mv_unpack;
/*
 * A named file's books as bytes (its path, slot count, free slots, the
 * slots' descriptors, bitmaps, counts and statistics), for the process
 * its VM moves to: MV_EINVAL for a file without a name, MV_ENOMEM.
 */
int mv_swapfile_pack(const struct mv_swapfile *sf, struct mv_pack *w);
/*
 * The file mv_swapfile_pack described, opened by its path (shared
 * storage) with those books, as vm's backing store for its swapped
 * pages; the sender must not remove it (mv_swapfile_destroy(sf, 1)).
 * MV_EINVAL for bytes short or wrong, MV_ENOENT/MV_EIO when it cannot be
 * opened, MV_ENOMEM.
 */
int mv_swapfile_adopt(struct mv_vm *vm, struct mv_unpack *r,
		      struct mv_swapfile **out, struct mv_error *err);
/* Remove every file of mv_swapfile_create_shared and _adopt still open
 * in this process (the first 1024): async-signal-safe, for a process that
 * a signal ends before it could close them. */
void mv_swapfile_unlink_shared(void);
/*
 * The file, on shared storage, goes with its VM to another host (a live
 * migration): from now on it is vm's (pages in, by vm's pmap slots) and
 * its swap-ins cost vm's host's latency. The pages in it stay; its
 * counts of reads, writes and errors start again at zero, as a new
 * file's would, so that a host's figures count only its own I/O.
 */
void mv_swapfile_attach(struct mv_swapfile *sf, struct mv_vm *vm);
/* The backing store a VM's swapped pages are read through (vm's own
 * while the file is vm's): another VM may borrow it to read the same
 * slots (a migration's destination, until the file is attached). */
void mv_swapfile_lend(const struct mv_vm *owner, struct mv_vm *vm);
/*
 * Swap out private page gppn: write its bytes, free its frame, mark it
 * swapped. On an I/O error or a full file the page stays resident and
 * unchanged; returns MV_EIO / MV_ENOSPC (err says which file and why).
 */
int mv_swapfile_out(struct mv_swapfile *sf, mv_gppn_t gppn,
		    struct mv_error *err);
/* Swap out bytes of a page that is not resident (compression cache
 * eviction), whose descriptor is d (MV_DESC_BYTES: none): on success the
 * page is marked swapped. */
int mv_swapfile_out_bytes(struct mv_swapfile *sf, mv_gppn_t gppn,
			  const uint8_t *bytes, mv_desc_t d,
			  struct mv_error *err);
void mv_swapfile_stats(const struct mv_swapfile *sf, struct mv_swap_stats *st);
/* Host memory its books take (free-slot stack, in-use bitmap). */
uint64_t mv_swapfile_overhead_bytes(const struct mv_swapfile *sf);
/* Add its books (free-slot stack, in-use and extent bitmaps) to b. */
void mv_swapfile_books(const struct mv_swapfile *sf, struct mv_books *b);
/* Its name, or "DIR/NAME.vswp (deleted)" for a file without one. */
const char *mv_swapfile_path(const struct mv_swapfile *sf);
/* Tests: make the n-th next I/O (1 = the next one) fail with `code`
 * (MV_EIO or MV_ENOSPC), as a failing disk would. */
void mv_swapfile_inject_error(struct mv_swapfile *sf, uint64_t nth, int code);

/* ---- compression cache and the per-VM reclaimer ------------------------- */

struct mv_zcache_stats {
	uint64_t capacity_frames; /* cache size limit (frames of host memory) */
	uint64_t frames;          /* host frames the cache holds now */
	uint64_t pages;           /* compressed pages in it */
	uint64_t bytes;           /* compressed bytes in it */
	uint64_t compressed;      /* pages compressed into the cache (ZIP) */
	uint64_t decompressed;    /* pages decompressed on access (UNZIP) */
	uint64_t rejected;        /* did not fit in 2 KiB: sent to swap */
	uint64_t evicted;         /* oldest entries sent to swap when full */
};

struct mv_zcache;

/*
 * A compression cache for vm of at most cache_bytes (ESX default: 10% of
 * the VM's memory), spilling to `spill`. cache_bytes 0 turns compression
 * off: mv_reclaim_pages then swaps directly. Registers itself as the VM's
 * backing store for MV_PS_COMPRESSED.
 */
int mv_zcache_create(struct mv_vm *vm, uint64_t cache_bytes,
		     struct mv_swapfile *spill, struct mv_zcache **out,
		     struct mv_error *err);
void mv_zcache_destroy(struct mv_zcache *z);
/*
 * Reclaim private page gppn: compress it with LZ4; if it fits in half a
 * page keep it in the cache (evicting the oldest entries to swap when the
 * cache is full), else write it to the swap file. *state gets
 * MV_PS_COMPRESSED or MV_PS_SWAPPED. On failure the page stays resident.
 */
int mv_zcache_out(struct mv_zcache *z, mv_gppn_t gppn, int *state,
		  struct mv_error *err);
void mv_zcache_stats(const struct mv_zcache *z, struct mv_zcache_stats *st);
/* Host memory its books take (per frame and per slot arrays), not the
 * cache frames themselves (those are in mv_zcache_stats.frames). */
uint64_t mv_zcache_overhead_bytes(const struct mv_zcache *z);
/* Add its books (per cache frame and per slot arrays) to b. */
void mv_zcache_books(const struct mv_zcache *z, struct mv_books *b);
/* Host frames the cache holds: up to max written to out; returns count. */
uint64_t mv_zcache_frames(const struct mv_zcache *z, mv_mpn_t *out,
			  uint64_t max);
/* The cache's own books (slots, frames, FIFO) agree; 0 or MV_EINVAL. */
int mv_zcache_check(const struct mv_zcache *z, struct mv_error *err);

/*
 * Take n pages from a VM without the guest's knowledge: victims chosen at
 * random among its private (unpinned) pages, as ESX does, each compressed
 * or swapped (through z if not NULL, else straight to sf). Returns pages
 * reclaimed in *done; stops early at an I/O error (returned).
 */
int mv_reclaim_pages(struct mv_vm *vm, struct mv_zcache *z,
		     struct mv_swapfile *sf, struct mv_rng *rng, uint64_t n,
		     uint64_t *done, struct mv_error *err);

/*
 * Free `frames` host frames from a VM the same way. A compressed page
 * frees half a frame on average (two share one) and sometimes none (the
 * cache may keep the victim's own frame), so this reclaims pages in rounds
 * until the host's free count has grown by `frames`, the VM has nothing
 * left to give, or an I/O error stops it. *pages gets the pages reclaimed,
 * *freed the frames freed.
 */
int mv_reclaim_frames(struct mv_vm *vm, struct mv_zcache *z,
		      struct mv_swapfile *sf, struct mv_rng *rng,
		      uint64_t frames, uint64_t *pages, uint64_t *freed,
		      struct mv_error *err);

#endif
