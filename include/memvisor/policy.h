/*
 * policy.h - decisions from figures: free-memory states.
 *
 * The policy layer sees snapshots of host and VM figures and returns
 * decisions; it knows nothing of the simulator, so the same code could
 * drive a real host. This file holds the free-memory state machine; the
 * allocation policy (shares, reservation, limit, idle memory tax) and the
 * active-memory estimator join it here.
 */
#ifndef MEMVISOR_POLICY_H
#define MEMVISOR_POLICY_H

#include "memvisor/host.h"

enum mv_memstate {
	MV_MEMSTATE_HIGH = 0, /* page sharing only */
	MV_MEMSTATE_SOFT,     /* + ballooning */
	MV_MEMSTATE_HARD,     /* + compression and swapping */
	MV_MEMSTATE_LOW,      /* + block allocations */
	MV_MEMSTATE_COUNT
};

const char *mv_memstate_name(enum mv_memstate s);

/*
 * Hysteresis: entering a worse state happens as soon as free memory falls
 * below its threshold; leaving it needs free memory above the threshold of
 * the state above plus `margin` (a fraction of host memory), so a host
 * hovering at a threshold does not flap.
 */
struct mv_memstate_machine {
	struct mv_thresholds t;
	double margin;
	enum mv_memstate state;
};

void mv_memstate_init(struct mv_memstate_machine *m,
		      const struct mv_thresholds *t);
/* Feed the current free fraction; returns the (possibly new) state. */
enum mv_memstate mv_memstate_update(struct mv_memstate_machine *m,
				    double free_fraction);


/* ---- what to take back from whom ---------------------------------------- */

/* One VM as the policy sees it; memory in pages. */
struct mv_policy_vm {
	uint64_t size;           /* configured */
	uint64_t consumed;       /* machine memory it holds (incl. its compression cache) */
	uint64_t reservation;    /* never reclaimed below this */
	uint64_t limit;          /* never allowed above this */
	uint64_t shares;
	int balloon;             /* has a balloon driver */
	uint64_t balloon_size;   /* pages in the balloon now */
	uint64_t balloon_max;    /* most the balloon may hold */
	uint64_t balloon_min;    /* the user's own target (libvirt currentMemory) */
	uint64_t balloon_step;   /* pages the driver can move in one period */
	double balloon_yield;    /* host frames freed per page ballooned, as
				    measured last period (a guest's never-
				    touched free pages free nothing); 0..1 */
};

struct mv_policy_host {
	uint64_t total;          /* usable machine pages */
	uint64_t free;           /* free machine pages */
	enum mv_memstate state;
	struct mv_thresholds t;
	double margin;           /* hysteresis, fraction of total */
};

/* The decision for one VM for the coming period. */
struct mv_policy_action {
	uint64_t balloon_target; /* pages the balloon should hold */
	uint64_t swap_pages;     /* pages to compress or swap now */
	int block_alloc;         /* low state: no new memory for anyone */
	uint64_t reclaim;        /* pages the policy wants back (report) */
};

/*
 * The actions of the free-memory states (ESX): VMs over their limit are
 * reclaimed to it in any state (balloon if they have one, else swap);
 * below the high threshold the host wants free memory back up to
 * high + 2 x margin (one margin past where the state is left), taken from
 * the VMs in proportion to what they hold above
 * their reservation; soft uses the balloon only; hard adds compression and
 * swapping for what the balloon cannot deliver within the period (all of
 * it for VMs without a driver); low also blocks allocations. In high with
 * memory to spare, balloons deflate. One call per policy period.
 */
void mv_policy_plan(const struct mv_policy_host *h, int nvms,
		    const struct mv_policy_vm *vm, struct mv_policy_action *out);

#endif
