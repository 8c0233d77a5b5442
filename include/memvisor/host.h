/*
 * host.h - machine memory: frames (MPNs) holding real page bytes.
 *
 * A host owns one mmap'd arena sized to the simulated machine memory
 * (MAP_NORESERVE: a frame costs real memory only once something writes it),
 * split into NUMA nodes of equal size. Each frame has a reference count: 0 is
 * free, 1 is private to one guest page, >1 is shared copy-on-write. Frame 0
 * is the host's one zero frame; it is never freed or written and its
 * refcount is not tracked (any number of zero-shared pages may map it).
 * Free frames are kept per node on LIFO stacks, so recently freed (cache
 * warm) frames are reused first, as allocators do.
 *
 * Content descriptors (src/host/content.c). A frame whose content is a
 * pure function of a 64-bit descriptor holds the descriptor instead of
 * bytes: fdesc[mpn] != MV_DESC_BYTES. Its arena page is then never
 * written and stays all zeros (never touched, or dropped with
 * MADV_DONTNEED when the frame took its descriptor), so it costs this
 * process no memory. Whoever needs the bytes materialises them
 * (mv_host_frame_read); whoever writes arbitrary bytes makes the frame
 * BYTES first (mv_host_frame_write, mv_host_frame_overwrite).
 */
#ifndef MEMVISOR_HOST_H
#define MEMVISOR_HOST_H

#include <string.h>

#include "memvisor/core.h"

typedef uint32_t mv_mpn_t;

/*
 * A content descriptor: class:3 | param:7 | key:54. The page's bytes are
 * G(desc) (mv_content_fill) and nothing else. Class 0 is no descriptor:
 * the bytes are in the arena.
 */
typedef uint64_t mv_desc_t;

enum mv_desc_class {
	MV_DESC_BYTES = 0,  /* the arena holds the bytes */
	MV_DESC_ZERO = 1,   /* all zeros */
	MV_DESC_OS = 2,     /* page of an OS image; about 8% all zeros */
	MV_DESC_APP = 3,    /* page of an application */
	MV_DESC_DATA = 4,   /* private data; param: compressibility/64 */
	MV_DESC_RANDOM = 5, /* incompressible */
	MV_DESC_PROFILE = 6 /* a content profile's page; param: LZ4 bucket */
};

#define MV_DESC_KEY_BITS 54
#define MV_DESC_KEY_MASK ((UINT64_C(1) << MV_DESC_KEY_BITS) - 1)
/* The zero page's descriptor (class zero, param and key 0). */
#define MV_DESC_ZERO_PAGE ((mv_desc_t)MV_DESC_ZERO << 61)
/* Bytes of one LZ4 bucket of a profile page (image.h's buckets). */
#define MV_DESC_BUCKET_BYTES 256

static inline mv_desc_t mv_desc_make(enum mv_desc_class c, unsigned param,
				     uint64_t key)
{
	return (mv_desc_t)c << 61 | (mv_desc_t)(param & 127) << 54 |
	       (key & MV_DESC_KEY_MASK);
}

static inline enum mv_desc_class mv_desc_class(mv_desc_t d)
{
	return (enum mv_desc_class)(d >> 61);
}

static inline unsigned mv_desc_param(mv_desc_t d)
{
	return (unsigned)(d >> 54) & 127;
}

static inline uint64_t mv_desc_key(mv_desc_t d)
{
	return d & MV_DESC_KEY_MASK;
}

/* A guest write of value v to a descriptor page: a new version, the same
 * class and parameter under key H54(key, v). Zero pages stay zero only
 * for v == 0; the caller turns them into bytes otherwise. Inline: the
 * interval model chains thousands of them on a hot page. */
static inline mv_desc_t mv_desc_version(mv_desc_t d, uint64_t v)
{
	if (mv_desc_class(d) == MV_DESC_ZERO)
		return d;
	uint64_t key = mv_mix64(mv_desc_key(d) ^ mv_mix64(v ^ 0x7e55ull));
	return mv_desc_make(mv_desc_class(d), mv_desc_param(d), key);
}

/* Write G(d) (4096 bytes) to page; d is not MV_DESC_BYTES. */
void mv_content_fill(uint8_t *page, mv_desc_t d);
/* LZ4 (default level) size of a 4 KiB page. */
int mv_content_lz4_size(const uint8_t *page);
#define MV_MPN_NONE UINT32_MAX
#define MV_ZERO_MPN 0u
#define MV_MAX_NODES 8

/*
 * Each frame has one 24-bit word (3 bytes of host->frame, read and written
 * with mv_frame_word and mv_frame_word_set): its reference count in the
 * low MV_FRAME_REFS_BITS bits and the MV_FRAME_* flags in the high four.
 * A count that reaches MV_FRAME_REFS (2^20 - 1) stays there and the rest
 * goes to a small overflow table, as ESX keeps a 16-bit count per shared
 * frame and an overflow table for larger ones (Waldspurger 2002, section
 * 4): a frame with 2^20 mappings is 4 GiB of guest pages holding one
 * content (the zero frame's count is not kept), rare enough that a linear
 * search is no cost. Read counts with mv_host_frame_refs, flags with
 * mv_host_frame_flags.
 */
#define MV_FRAME_REFS_BITS 20
#define MV_FRAME_REFS ((1u << MV_FRAME_REFS_BITS) - 1)
/* a page-sharing frame: read-only, mapped copy-on-write by every guest
 * page that holds it; cleared when the frame is freed */
#define MV_FRAME_SHARED (1u << 20)
/* the arena page may hold bytes (and this process's memory): set when
 * the frame was last handed out as BYTES; cleared when its page is
 * dropped on taking a descriptor */
#define MV_FRAME_WRITTEN (1u << 21)
/* page sharing's, set only inside one of its calls (counting the
 * table's entries per frame) and cleared before it returns */
#define MV_FRAME_MARK (1u << 22)
#define MV_FRAME_MARK_DUP (1u << 23)
#define MV_FRAME_WORD_BYTES 3

/* Fault latencies charged to a VM as stall time (ns). */
struct mv_latency {
	uint64_t zero_fill;   /* first touch: trap, allocate, zero 4 KiB */
	uint64_t cow;         /* copy-on-write break: trap, allocate, copy */
	uint64_t decompress;  /* compression-cache hit */
	uint64_t swapin_ssd;  /* hypervisor swap-in from an SSD */
	uint64_t swapin_hdd;  /* hypervisor swap-in from a disk */
	uint64_t guest_major; /* guest-level disk read (guest swap, page cache)
			       */
	uint64_t
		remote_numa; /* extra cost of a fault served by a remote node */
};

enum mv_swap_device { MV_SWAP_SSD, MV_SWAP_HDD };

/* Free-memory thresholds as fractions of host memory (see policy layer). */
struct mv_thresholds {
	double high, soft, hard, low;
};

struct mv_host_config {
	char name[64];
	/* <host preset>: the ESX version whose defaults the host took
	 * (esx41, esx5, esx6, esx8; docs/presets.md); "" = none */
	char preset[8];
	uint64_t mem_bytes; /* machine memory */
	/* <budget>: the memory the policy manages (free = budget - what is
	 * in use, at least 0), as `memvisor agent --host-memory`; 0: all */
	uint64_t budget_bytes;
	int nodes; /* NUMA nodes, 1..MV_MAX_NODES */
	/* <numa local-latency= remote-ratio=>: a memory reference to the
	 * local node, and how much longer one to another node takes; an
	 * access to a remote frame is charged local x (ratio - 1) more
	 * (81 ns and 1.74: Intel Memory Latency Checker on a two-socket
	 * Cascade Lake server, 80.8 ns local and 140.4 ns remote; the
	 * source and the others that bracket it are in docs/numa.md) */
	uint64_t numa_local_ns;
	double numa_remote_ratio;
	/* <numa migrate-rate=>: pages per second each VM's remote pages move
	 * to the node their vCPUs run on (ESX's NUMA migration, Linux's
	 * automatic NUMA balancing); 0 (default): off */
	double numa_migrate_rate;
	/* <numa rebalance=>: ESX's NUMA rebalancer, every
	 * MV_NUMA_REBALANCE_NS a VM whose home node is overcommitted may
	 * get another home node (src/vm/numa.c); 0 (default): off */
	int numa_rebalance;
	struct mv_latency lat;
	enum mv_swap_device swap_device;
	struct mv_thresholds thresholds;
	/* <hugepages size="2M" count=N>: a hugetlbfs pool of N 2 MiB pages
	 * reserved at boot (vm.nr_hugepages), spread over the nodes as
	 * Linux spreads it; hugepages_pool 0 = no element (docs/largepages.md)
	 */
	int hugepages_pool;
	uint64_t hugepages;
	int hugepages_line; /* the element's line, for errors */
};

/* Defaults: ESX 4.1 thresholds, latencies of a current server with SSD. */
void mv_host_config_default(struct mv_host_config *c);

struct mv_host_node {
	uint64_t first, nframes; /* frames [first, first + nframes) */
	uint64_t nfree;
	uint64_t fresh;  /* frames >= fresh were never handed out */
	mv_mpn_t *stack; /* freed frames, LIFO (sparse: core.h) */
	uint64_t nstack;
	uint64_t stack_hw; /* most frames the stack ever held */
};

/* numastat(8)'s per-node counters, in pages (docs/numa.md): moved by the
 * vm layer at each guest frame allocation (src/vm/numa.c) */
struct mv_numastat {
	uint64_t numa_hit;       /* wanted this node, got it */
	uint64_t numa_miss;      /* wanted another node, got this one */
	uint64_t numa_foreign;   /* wanted this node, got another */
	uint64_t interleave_hit; /* interleave wanted this node, got it */
	uint64_t local_node;     /* got this node, vCPUs on this node */
	uint64_t other_node;     /* got this node, vCPUs on another */
};

/*
 * The hugetlbfs pool (src/host/hugetlb.c): runs of MV_RUN_FRAMES frames
 * taken at boot, each frame holding one reference for as long as the pool
 * has it. A run handed to a VM keeps its references, now the VM's
 * mappings'; mapped[i] says how many of run i's leading frames a guest
 * maps (0 while free: QEMU rounds a guest's RAM up to the page size, so
 * the last run may be mapped in part).
 */
struct mv_hugetlb {
	uint64_t total, free; /* HugePages_Total, HugePages_Free */
	mv_mpn_t *run;        /* total runs' first frames */
	uint16_t *mapped;     /* per run; 0 = free in the pool */
	uint64_t node_total[MV_MAX_NODES], node_free[MV_MAX_NODES];
	uint64_t alloc_fail; /* VMs that found the pool short */
	/* run[] is sorted by frame; every run below cursor[k] of node k (of
	 * any node for k = MV_MAX_NODES) is in use: allocation is amortised
	 * O(1) per run */
	uint64_t cursor[MV_MAX_NODES + 1];
};

struct mv_host {
	struct mv_host_config cfg;
	uint64_t nframes; /* including the zero frame */
	uint8_t *arena;   /* nframes * 4 KiB of real bytes */
	/* per frame, MV_FRAME_WORD_BYTES little-endian bytes: refcount |
	 * MV_FRAME_* flags (mv_frame_word); one byte more at the end, so
	 * the last word reads as a 4-byte load */
	uint8_t *frame;
	/* counts above MV_FRAME_REFS: frame over[i].mpn has MV_FRAME_REFS +
	 * over[i].extra references (extra > 0); nover in use, cap_over room */
	struct mv_frame_over {
		mv_mpn_t mpn;
		uint64_t extra;
	} * over;
	uint32_t nover;
	size_t cap_over;
	mv_desc_t *fdesc; /* per frame: its descriptor or MV_DESC_BYTES
			     (MAP_NORESERVE: untouched entries are free) */
	int nnodes;
	struct mv_host_node node[MV_MAX_NODES];
	uint64_t nfree;         /* over all nodes */
	uint64_t allocs, frees; /* lifetime counters */
	uint64_t remote_allocs; /* allocations served by a non-preferred node */
	struct mv_numastat numastat[MV_MAX_NODES];
	uint64_t drops; /* arena pages dropped (MADV_DONTNEED) when a written
			   frame took a descriptor */
	/* Sharing frames (MV_FRAME_SHARED, the zero frame aside) and the
	 * mappings they hold, kept as flags and refcounts change, so the
	 * figures KSM reports (pages_shared, pages_sharing) cost O(1) */
	uint64_t shared_frames, shared_refs;
	/* Called when a sharing frame's refcount changes (from, to), by
	 * mv_host_frame_get and _put: the vm layer's owners table
	 * (src/vm/owners.c) keeps each VM's consumed memory with it. */
	void (*ref_hook)(void *ctx, mv_mpn_t mpn, uint32_t from, uint32_t to);
	void *ref_ctx;
	struct mv_owners *owners;  /* the vm layer's, NULL without VMs */
	struct mv_hugetlb hugetlb; /* empty without <hugepages> */
};

/* Reserve the configured hugetlbfs pool (mv_host_create calls it); MV_EINVAL
 * naming host/hugepages/count when the host cannot hold it. */
int mv_hugetlb_reserve(struct mv_host *h, struct mv_error *err);
/* A free pool run, from node if it has one, of which the taker maps the
 * first `mapped` frames (1..MV_RUN_FRAMES); MV_MPN_NONE if the pool is
 * empty. */
mv_mpn_t mv_hugetlb_alloc(struct mv_host *h, int node, unsigned mapped);
/* Give run back to the pool (its frames keep their one reference). */
void mv_hugetlb_free(struct mv_host *h, mv_mpn_t run);
/* Add one to refs[m] for every pool frame no guest page maps. */
void mv_hugetlb_refs(const struct mv_host *h, uint32_t *refs);
void mv_hugetlb_destroy(struct mv_host *h);

/* Make mpn a sharing frame (on) or a private one again (off). */
void mv_host_frame_set_shared(struct mv_host *h, mv_mpn_t mpn, int on);

/* Create a host; MV_EINVAL for impossible sizes (err says which field). */
int mv_host_create(const struct mv_host_config *cfg, struct mv_host **out,
		   struct mv_error *err);
void mv_host_destroy(struct mv_host *h);

/*
 * Allocate a frame, preferring node `node` (-1: any), falling back to the
 * others in order. Refcount becomes 1. It is a BYTES frame whose contents
 * are whatever it held before (callers set a descriptor, or zero or copy).
 * Returns MV_MPN_NONE when the host is full.
 */
mv_mpn_t mv_host_frame_alloc(struct mv_host *h, int node);
/*
 * A 2 MiB host page: MV_RUN_FRAMES free frames, contiguous, the first a
 * multiple of MV_RUN_FRAMES (2 MiB-aligned), preferring node `node` (-1:
 * any), each allocated as mv_host_frame_alloc does. Never-used frames
 * first, then a block of freed ones; no frame in use is moved (no
 * compaction). Returns the first frame, MV_MPN_NONE when no node has a
 * free aligned block (docs/largepages.md).
 */
#define MV_RUN_FRAMES 512u
mv_mpn_t mv_host_frame_alloc_run(struct mv_host *h, int node);
/* A 2 MiB host page on node `node` only; MV_MPN_NONE when it has no free
 * aligned block. Counts nothing as remote: the caller's placement policy
 * does (src/vm/numa.c). */
mv_mpn_t mv_host_frame_alloc_run_node(struct mv_host *h, int node);
/* Allocate a frame on node `node` only; MV_MPN_NONE when it has none
 * free. Counts nothing as remote: the caller's placement policy does. */
mv_mpn_t mv_host_frame_alloc_node(struct mv_host *h, int node);
/* Take one more reference on a frame in use. */
void mv_host_frame_get(struct mv_host *h, mv_mpn_t mpn);
/* Drop a reference; the frame returns to its node's free list at zero,
 * its descriptor reset to MV_DESC_BYTES. */
void mv_host_frame_put(struct mv_host *h, mv_mpn_t mpn);

static inline uint8_t *mv_host_frame(const struct mv_host *h, mv_mpn_t mpn)
{
	return h->arena + ((uint64_t)mpn << MV_PAGE_SHIFT);
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the 3-byte frame words are read as little-endian 4-byte loads"
#endif

/* Frame mpn's word (refcount | MV_FRAME_* flags): one unaligned 4-byte
 * load, the byte above the word masked off. */
static inline uint32_t mv_frame_word(const struct mv_host *h, mv_mpn_t mpn)
{
	uint32_t w;
	memcpy(&w, h->frame + (size_t)mpn * MV_FRAME_WORD_BYTES, sizeof w);
	return w & ((1u << 8 * MV_FRAME_WORD_BYTES) - 1);
}

/* Set frame mpn's word to w (below 2^24); the next frame's is untouched. */
static inline void mv_frame_word_set(struct mv_host *h, mv_mpn_t mpn,
				     uint32_t w)
{
	memcpy(h->frame + (size_t)mpn * MV_FRAME_WORD_BYTES, &w,
	       MV_FRAME_WORD_BYTES);
}

/* References above MV_FRAME_REFS held by frame mpn (the overflow). */
uint64_t mv_host_frame_refs_over(const struct mv_host *h, mv_mpn_t mpn);

/* Frame mpn's reference count: 0 free, 1 private, more shared. */
static inline uint64_t mv_host_frame_refs(const struct mv_host *h, mv_mpn_t mpn)
{
	uint32_t r = mv_frame_word(h, mpn) & MV_FRAME_REFS;
	return r == MV_FRAME_REFS ? r + mv_host_frame_refs_over(h, mpn) : r;
}

/* Is frame mpn in use (a count above zero)? One load and a mask. */
static inline int mv_host_frame_in_use(const struct mv_host *h, mv_mpn_t mpn)
{
	return (mv_frame_word(h, mpn) & MV_FRAME_REFS) != 0;
}

/* Frame mpn's MV_FRAME_* flags. */
static inline uint32_t mv_host_frame_flags(const struct mv_host *h,
					   mv_mpn_t mpn)
{
	return mv_frame_word(h, mpn) & ~MV_FRAME_REFS;
}

static inline mv_desc_t mv_host_frame_desc(const struct mv_host *h,
					   mv_mpn_t mpn)
{
	return h->fdesc[mpn];
}

/*
 * The frame's 4096 bytes: the arena for a BYTES frame (and for a zero
 * descriptor, whose arena page is all zeros), else G(desc) materialised
 * into buf (4096 bytes, the caller's). The arena is never written.
 */
const uint8_t *mv_host_frame_read(const struct mv_host *h, mv_mpn_t mpn,
				  uint8_t *buf);
/* Make the frame BYTES, materialising its descriptor into the arena once;
 * return the arena, to be written. Not the zero frame. */
uint8_t *mv_host_frame_write(struct mv_host *h, mv_mpn_t mpn);
/* Make the frame BYTES without materialising (the caller writes what it
 * will read back: a copy, a read from disk, a cache frame's halves). */
uint8_t *mv_host_frame_overwrite(struct mv_host *h, mv_mpn_t mpn);
/* Give frame `to` the content of frame `from`: its descriptor (equal
 * descriptors are equal bytes), else a copy of its 4096 bytes. */
void mv_host_frame_copy(struct mv_host *h, mv_mpn_t to, mv_mpn_t from);
/* Give the frame descriptor d (not MV_DESC_BYTES): its content is G(d).
 * An arena page that may hold bytes is dropped (MADV_DONTNEED). */
void mv_host_frame_set_desc(struct mv_host *h, mv_mpn_t mpn, mv_desc_t d);

static inline int mv_host_frame_node(const struct mv_host *h, mv_mpn_t mpn)
{
	for (int i = h->nnodes - 1; i > 0; i--)
		if (mpn >= h->node[i].first)
			return i;
	return 0;
}

/* Frames available to guests (the zero frame excluded). */
static inline uint64_t mv_host_usable_frames(const struct mv_host *h)
{
	return h->nframes - 1;
}

/* Free memory as a fraction of host memory, 0..1. */
static inline double mv_host_free_fraction(const struct mv_host *h)
{
	return (double)h->nfree / (double)mv_host_usable_frames(h);
}

/* Check free lists and counters against refcounts; 0 or MV_EINVAL. */
int mv_host_check(const struct mv_host *h, struct mv_error *err);
/* Add the host's books (per-frame arrays, free stacks) to b. */
void mv_host_books(const struct mv_host *h, struct mv_books *b);

#endif
