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

#endif
