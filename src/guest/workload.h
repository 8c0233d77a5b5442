/*
 * guest/workload.h - a guest process's workload: which of its pages it
 * touches, when, and how (layer-internal).
 *
 * A workload decides; the guest kernel (guest.c) carries out. The workload
 * owns the address picking (a uniform or Zipf rank scattered over the
 * working set by a multiplier coprime with its size), the phases of a
 * phased set, the growth of a leak, the cursor of a trace, the set of a
 * usage workload following its usage trace, and the credit
 * that turns a rate into a whole number of accesses per step. It asks the
 * guest, through struct gwork_ops, to touch or release one page of its
 * process; it never sees guest pages, frames or the vm layer.
 */
#ifndef MV_GUEST_WORKLOAD_H
#define MV_GUEST_WORKLOAD_H

#include "memvisor/guest.h"

struct gwork {
	struct mv_workload_config cfg;
	int proc;
	uint64_t ws;     /* working-set pages */
	uint64_t region; /* pages the set moves in (phased) */
	uint64_t perm;   /* multiplier scattering ranks over the set */
	struct mv_zipf zipf;
	struct mv_rng rng;
	double credit; /* fractional accesses carried between steps */
	double leak_credit;
	uint64_t leaked;    /* leak: pages leaked so far */
	uint64_t leak_max;  /* pages */
	uint64_t populated; /* idle: pages populated so far */
	int exited;         /* the process has exited (stop time) */
	uint64_t phase;     /* phased: current phase (UINT64_MAX: none yet) */
	uint64_t name_hash; /* app content */
	uint64_t demanded, done;
	uint64_t tpos; /* trace: the next record */
	uint64_t uset; /* usage: pages of the set now, vpns [0, uset) */
	uint64_t urow; /* usage: cursor into the trace's rows */
	/* interval model: no access loop; step_n is the accesses the step
	 * would have made (done adds what the vCPU ran of them) */
	int interval;
	uint64_t step_n;
};

/*
 * What a workload asks of its guest. touch: access page vpn of the
 * workload's process (0, or nonzero when the vCPU must wait); release: the
 * process gives page vpn back (0, or nonzero to retry in a later step);
 * wait: the vCPU was blocked for ns of the rest of this step.
 */
struct gwork_ops {
	int (*touch)(void *ctx, struct gwork *w, uint64_t vpn, int write,
		     int fetch);
	int (*release)(void *ctx, struct gwork *w, uint64_t vpn);
	void (*wait)(void *ctx, uint64_t ns);
};

/*
 * Set up workload i of a guest of guest_pages pages from c; huge: the
 * guest backs workloads with 2 MiB pages. *nvpages: the pages its process
 * needs. 0, or MV_EINVAL (a trace workload without a trace or with 2 MiB
 * pages, a set too large, a bad Zipf exponent).
 */
int gwork_init(struct gwork *w, int i, const struct mv_workload_config *c,
	       uint64_t guest_pages, int huge, uint64_t seed,
	       uint64_t *nvpages);

/* A multiplier m with gcd(m, n) == 1, so i -> i * m mod n is a bijection
 * of [0, n); deterministic in (n, seed). */
uint64_t gwork_coprime_mult(uint64_t n, uint64_t seed);

/* The working-set page of rank r (0 <= r < ws): a bijection of the set. */
static inline uint64_t gwork_scatter(const struct gwork *w, uint64_t r)
{
	return (r * w->perm) % w->ws;
}

/* The virtual address of page vpn of w's process. */
uint64_t gwork_gva(const struct gwork *w, uint64_t vpn);

/* The page of w's process at gva: 0, or -1 outside the process (of
 * nvpages pages). */
int gwork_vpn(const struct gwork *w, uint64_t nvpages, uint64_t gva,
	      uint64_t *vpn);

/* Whole units of add due now; the fraction carries over in *credit (a
 * rate per second times a step's length is rarely a whole number). */
static inline uint64_t credit_take(double *credit, double add)
{
	*credit += add;
	uint64_t n = (uint64_t)*credit;
	*credit -= (double)n;
	return n;
}

/* The process runs at now_ns: started and not exited. */
int gwork_running(const struct gwork *w, uint64_t now_ns);

/* The process must exit at now_ns (its stop time has come). */
int gwork_stopping(const struct gwork *w, uint64_t now_ns);

/* A step the vCPU could not run: the accesses it owed are still demanded. */
void gwork_skip(struct gwork *w, double dt_s);

/*
 * Usage workloads: the pages w's set should hold at now_ns (the trace's
 * fraction at that time, times the workload's size, rounded to nearest).
 */
uint64_t gwork_usage_target(struct gwork *w, uint64_t now_ns);

/*
 * Run one step of dt_s at now_ns of which the vCPU ran the fraction
 * progress: populate (idle), leak, move the phase, grow or shrink the set
 * to the usage trace's (usage), then make the step's
 * accesses through ops. Stops at the first access the guest cannot make
 * (the rest of the step is waited out through ops->wait).
 */
void gwork_step(struct gwork *w, uint64_t now_ns, double dt_s, double progress,
		const struct gwork_ops *ops, void *ctx);

#endif
