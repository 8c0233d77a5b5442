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
 */
#ifndef MEMVISOR_HOST_H
#define MEMVISOR_HOST_H

#include "memvisor/core.h"

typedef uint32_t mv_mpn_t;
#define MV_MPN_NONE UINT32_MAX
#define MV_ZERO_MPN 0u
#define MV_MAX_NODES 8

/* Frame flags. */
enum {
	/* a page-sharing frame: read-only, mapped copy-on-write by every
	 * guest page that holds it; cleared when the frame is freed */
	MV_FRAME_SHARED = 1u << 0,
};

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
	uint64_t mem_bytes; /* machine memory */
	int nodes;          /* NUMA nodes, 1..MV_MAX_NODES */
	struct mv_latency lat;
	enum mv_swap_device swap_device;
	struct mv_thresholds thresholds;
};

/* Defaults: ESX 4.1 thresholds, latencies of a current server with SSD. */
void mv_host_config_default(struct mv_host_config *c);

struct mv_host_node {
	uint64_t first, nframes; /* frames [first, first + nframes) */
	uint64_t nfree;
	uint64_t fresh;  /* frames >= fresh were never handed out */
	mv_mpn_t *stack; /* freed frames, LIFO */
	uint64_t nstack;
};

struct mv_host {
	struct mv_host_config cfg;
	uint64_t nframes;   /* including the zero frame */
	uint8_t *arena;     /* nframes * 4 KiB of real bytes */
	uint32_t *refcount; /* per frame */
	uint8_t *fflags;    /* per frame: MV_FRAME_* */
	int nnodes;
	struct mv_host_node node[MV_MAX_NODES];
	uint64_t nfree;         /* over all nodes */
	uint64_t allocs, frees; /* lifetime counters */
	uint64_t remote_allocs; /* allocations served by a non-preferred node */
};

/* Create a host; MV_EINVAL for impossible sizes (err says which field). */
int mv_host_create(const struct mv_host_config *cfg, struct mv_host **out,
		   struct mv_error *err);
void mv_host_destroy(struct mv_host *h);

/*
 * Allocate a frame, preferring node `node` (-1: any), falling back to the
 * others in order. Refcount becomes 1. Contents are whatever the frame held
 * before (callers zero or copy). Returns MV_MPN_NONE when the host is full.
 */
mv_mpn_t mv_host_frame_alloc(struct mv_host *h, int node);
/* Take one more reference on a frame in use. */
void mv_host_frame_get(struct mv_host *h, mv_mpn_t mpn);
/* Drop a reference; the frame returns to its node's free list at zero. */
void mv_host_frame_put(struct mv_host *h, mv_mpn_t mpn);

static inline uint8_t *mv_host_frame(const struct mv_host *h, mv_mpn_t mpn)
{
	return h->arena + ((uint64_t)mpn << MV_PAGE_SHIFT);
}

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
