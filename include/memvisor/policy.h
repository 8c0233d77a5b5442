/*
 * policy.h - decisions from figures: free-memory states and who gives
 * memory back.
 *
 * The policy layer sees snapshots of host and VM figures and returns
 * decisions; it knows nothing of the simulator, so the same code could
 * drive a real host. It holds the free-memory state machine (three
 * selectable models: ESX 4.1, vSphere 5, vSphere 6) and the allocation
 * policy (limit, reservation, shares, idle memory tax, min-funding
 * revocation) that turns a host's need for free memory into balloon and
 * swap targets per VM.
 */
#ifndef MEMVISOR_POLICY_H
#define MEMVISOR_POLICY_H

#include "memvisor/host.h"

/* Ordered from most free memory to least. */
enum mv_memstate {
	MV_MEMSTATE_HIGH = 0, /* page sharing only */
	MV_MEMSTATE_CLEAR,    /* vSphere 6 only: sharing called actively */
	MV_MEMSTATE_SOFT,     /* + ballooning */
	MV_MEMSTATE_HARD,     /* + compression and swapping */
	MV_MEMSTATE_LOW,      /* + block allocations */
	MV_MEMSTATE_COUNT
};

const char *mv_memstate_name(enum mv_memstate s);

/* Where the thresholds come from (docs/policy.md has the table). */
enum mv_memstate_model {
	MV_MEMSTATE_ESX41 = 0, /* fixed fractions of host memory: 6/4/2/1% */
	MV_MEMSTATE_VSPHERE5,  /* sliding-scale minFree; soft/hard/low 64/32/16%
				*/
	MV_MEMSTATE_VSPHERE6,  /* + clear: high 400%, clear 100% of minFree */
	MV_MEMSTATE_MODEL_COUNT
};

const char *mv_memstate_model_name(enum mv_memstate_model m);
/* "esx41", "vsphere5", "vsphere6" -> model; 0, or -1 if unknown. */
int mv_memstate_model_parse(const char *s, enum mv_memstate_model *out);

/*
 * vSphere 5's minFree for a host of host_bytes (bytes): 6% of the first
 * 4 GiB, 4% of 4-12 GiB, 2% of 12-28 GiB, 1% of the rest.
 */
double mv_memstate_min_free(uint64_t host_bytes);

/*
 * The thresholds of a model as fractions of host memory. line[s] for
 * s > HIGH: the state is entered when free memory falls below it; 0 = the
 * model has no such state (clear before vSphere 6). line[HIGH]: the high
 * threshold, above which the host is in the high state again. `esx41`
 * gives the ESX 4.1 model's fractions (the scenario's <thresholds>); the
 * other models ignore it.
 */
void mv_memstate_lines(enum mv_memstate_model model,
		       const struct mv_thresholds *esx41, uint64_t host_bytes,
		       double line[MV_MEMSTATE_COUNT]);

/*
 * Hysteresis: entering a worse state happens as soon as free memory falls
 * below its line; leaving it needs free memory above the line of the
 * better state plus `margin` (a fraction of host memory: a sixth of
 * minFree, 1% of host memory under ESX 4.1's 6%), so a host hovering at a
 * threshold does not flap.
 */
struct mv_memstate_machine {
	enum mv_memstate_model model;
	double line[MV_MEMSTATE_COUNT];
	double margin;
	enum mv_memstate state;
};

void mv_memstate_init(struct mv_memstate_machine *m,
		      enum mv_memstate_model model,
		      const struct mv_thresholds *esx41, uint64_t host_bytes);
/* Feed the current free fraction; returns the (possibly new) state. */
enum mv_memstate mv_memstate_update(struct mv_memstate_machine *m,
				    double free_fraction);
/* Free fraction at which state s (> HIGH) is left for the better one. */
double mv_memstate_exit_line(const struct mv_memstate_machine *m,
			     enum mv_memstate s);
/* Free fraction the reclaim aims at: one margin past where soft is left. */
double mv_memstate_goal(const struct mv_memstate_machine *m);

/* ---- allocation: shares, idle memory tax, min-funding revocation -------- */

/*
 * Waldspurger's adjusted shares-per-page ratio rho = S / (P * (f + k *
 * (1 - f))), k = 1 / (1 - tax): shares S, pages allocated P, active
 * fraction f. Under contention memory is taken first from the VM with the
 * smallest rho. P = 0 gives +infinity (nothing to take). mv_policy_plan's
 * P is a VM's allocation as ESX counts it: consumed + shared_saved, every
 * guest page backed by a frame (granted), shared or on the zero frame.
 */
double mv_policy_rho(uint64_t shares, uint64_t pages, double active,
		     double tax);

/* The highest idle memory tax accepted (k = 1 / (1 - tax) stays finite). */
#define MV_IDLE_TAX_MAX 0.99

/* ---- what to take back from whom ---------------------------------------- */

/* One VM as the policy sees it; memory in pages. */
struct mv_policy_vm {
	uint64_t size;         /* configured */
	uint64_t consumed;     /* machine memory it holds (incl. its compression
				  cache) */
	uint64_t shared_saved; /* guest pages it maps that page sharing saves:
				  granted - consumed (shared pages beyond its
				  part of their frames, and pages on the zero
				  frame, whole) */
	uint64_t reservation;  /* never reclaimed below this */
	uint64_t limit;        /* never allowed above this */
	uint64_t shares;
	double active;             /* f: fraction of its allocation P (below)
				      that is in active use, 0..1 */
	int balloon;               /* has a balloon driver */
	uint64_t balloon_size;     /* pages in the balloon now */
	uint64_t balloon_unbacked; /* pages the balloon gave back that the
				      guest has not touched since: still
				      without a frame */
	uint64_t balloon_max;      /* most the balloon may hold */
	uint64_t
		balloon_min; /* the user's own target (libvirt currentMemory) */
	uint64_t balloon_step; /* pages the driver can move in one period */
	double balloon_yield;  /* host frames freed per page ballooned, as
				  measured last period (a guest's never-
				  touched free pages free nothing); 0..1 */
	/* cgroup v2 (libvirt on KVM, <host preset="kvm">): the kernel, not
	 * the balloon, reclaims a VM above memory.max (limit) or memory.high
	 * (high, 0 = none), by swapping its pages in any state */
	int cgroup;
	uint64_t high;
};

struct mv_policy_host {
	uint64_t total; /* usable machine pages */
	uint64_t free;  /* free machine pages */
	enum mv_memstate state;
	double goal;     /* free fraction to reclaim to (mv_memstate_goal) */
	double soft;     /* free fraction below which soft is entered */
	double margin;   /* hysteresis, fraction of total */
	double idle_tax; /* 0..MV_IDLE_TAX_MAX */
};

/* The decision for one VM for the coming period. */
struct mv_policy_action {
	uint64_t balloon_target; /* pages the balloon should hold */
	uint64_t swap_pages;     /* pages to compress or swap now */
	int block_alloc;         /* low state: no new memory for anyone */
	uint64_t reclaim;        /* pages the policy wants back (report) */
	double rho;              /* adjusted shares per page before the plan */
};

/*
 * Targets and actions (ESX). Each VM's target allocation comes from
 * min-funding revocation over the VMs' allocations (P: consumed +
 * shared_saved) plus free memory above the goal: memory goes from the VM
 * with the smallest rho first, each VM's rho rising as it gives, never
 * below its reservation (machine memory: consumed stays at or above it,
 * as the limit bounds consumed from above); a VM whose balloon took
 * pages from it asks for them back (those returned that its guest has not
 * touched yet included: they hold no frame but are the VM's). VMs over their
 * limit are reclaimed to it in any state (balloon if they have one, else swap;
 * under cgroup, swap only, down to memory.high too).
 * In soft and worse VMs above their target give the difference: soft by balloon
 * only; hard adds compression and swapping for what the balloon cannot deliver
 * within the period (all of it for VMs without a driver); low also blocks
 * allocations. In high and clear nothing but limit excess is taken, and
 * the balloons of VMs below their target deflate as far as free memory
 * allows, down to a margin below the soft line (their use of it brings
 * the host into soft, where the others give). One call per policy period.
 */
void mv_policy_plan(const struct mv_policy_host *h, int nvms,
		    const struct mv_policy_vm *vm,
		    struct mv_policy_action *out);

#endif
