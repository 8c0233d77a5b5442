/*
 * drs.h - DRS's decisions for memory, as a pure function of the cluster's
 * figures (docs/cluster.md, section 4). Arrays of hosts and VMs in, a list
 * of migrations out: no simulator, no clock, no randomness; the same
 * input gives the same output, ties broken by index.
 *
 * What it computes, each from a named source (docs/cluster.md, section 4):
 * every VM's entitlement (its demand, active memory plus overhead,
 * bounded by its reservation, limit and size, and divided by shares when
 * the cluster's memory does not cover every demand); every host's
 * normalised entitlement (the sum of its VMs' over its memory); the
 * imbalance, their standard deviation (vSphere's "current host load
 * standard deviation"); the priority of a move from the imbalance
 * (VMware KB 1007485); and a greedy list of single-VM moves, best
 * goodness first, each kept only if it reduces the imbalance by at least
 * MinGoodness and its benefit exceeds its cost (KB 1017291), the target
 * admits the VM's reservation (admission control), and neither host has
 * more than max_per_host migrations at once (vCenter's limits on
 * simultaneous migrations). Hosts entering maintenance mode are
 * evacuated first, with priority-1 moves.
 */
#ifndef MEMVISOR_DRS_H
#define MEMVISOR_DRS_H

#include <stdint.h>

#include "memvisor/core.h"

/* A host as DRS sees it. */
struct mv_drs_host {
	uint64_t capacity; /* pages the host can give its VMs (> 0) */
	int maintenance;   /* entering maintenance mode: every VM leaves, none
			      comes; it is left out of the imbalance */
	int migrations;    /* migrations in progress from or to it */
	const char *name;  /* in the decisions' reasons; NULL: "host N" */
};

/* A powered-on VM as DRS sees it; pages unless said otherwise. */
struct mv_drs_vm {
	int host;             /* index into the hosts */
	uint64_t configured;  /* guest memory */
	uint64_t reservation; /* <= min(limit, configured) */
	uint64_t limit;       /* >= configured: none */
	uint64_t shares;      /* > 0 */
	uint64_t active;      /* the host's active-memory estimate (ACTV) */
	uint64_t active_sd;   /* its standard deviation over the last
				 intervals (risk); 0 if not known */
	uint64_t overhead;    /* OVHD, in pages */
	/* what a migration would send: pages with content (8 + 4096 bytes
	 * each on the wire), pages sent as a zero flag (9 bytes) and, with
	 * the swap file on shared storage, swapped pages sent as their slot
	 * (12 bytes) */
	uint64_t send_pages, zero_pages, ref_pages;
	double write_rate; /* pages the guest dirties per second */
	/* stall charged to it on its host over the last interval (ns; the
	 * vm layer's stall, swap-in waits included) */
	uint64_t stall_ns;
	int migrating; /* already being migrated: not moved again */
};

struct mv_drs_config {
	int level;            /* migration threshold 1..5; default 3 */
	uint64_t interval_ns; /* how often DRS runs: the horizon of a move's
				 benefit; default 300 s */
	/* the migration link and the pre-copy rules (docs/cluster.md,
	 * section 3): bytes per second, downtime limit, round limit */
	double bandwidth;
	uint64_t downtime_limit_ns;
	int max_rounds;
	int max_per_host; /* migrations at once per host; default 8 */
	/* MinGoodness as a fraction of one priority step of KB 1007485's
	 * scale (0.1 / sqrt(hosts)); default 0.1; 0 turns the filter off
	 * (as KB 1017291's MinGoodness = 0) */
	double min_goodness_step;
	int cost_benefit; /* 1 (default): drop a move that costs more than
			     it gains; 0: off (KB 1017291's CostBenefit = 0) */
	int max_moves;    /* load-balancing moves per run; 0: no cap */
};

/* What a migration would cost (the closed form in drs.c). */
struct mv_drs_cost {
	int rounds;           /* pre-copy rounds, the bulk round counted */
	uint64_t pages;       /* pages sent in all rounds and the stop */
	uint64_t bytes;       /* on the wire */
	uint64_t total_ns;    /* start to end */
	uint64_t downtime_ns; /* the stop-and-copy */
	int converged;        /* the rest fit the downtime limit */
};

/* One decision: move VM `vm` from `src` to `dst`. */
struct mv_drs_move {
	int vm, src;
	int dst;      /* -1: no host admits it (maintenance mode only) */
	int priority; /* 1 mandatory (maintenance mode), 2..5 balance */
	int queued;   /* a host already had max_per_host migrations: start
			 it when one ends, as vCenter queues them */
	double imbalance_before, imbalance_after;
	double goodness; /* imbalance_before - imbalance_after */
	uint64_t cost_ns, benefit_ns;
	char reason[256];
};

struct mv_drs_result {
	double imbalance;         /* before the moves */
	double target;            /* target host load standard deviation */
	double imbalance_after;   /* after them */
	int priority;             /* of the imbalance before (6: none) */
	uint64_t *entitlement;    /* per VM (malloc'd) */
	double *load;             /* per host, before (malloc'd; maintenance
				     hosts included) */
	struct mv_drs_move *move; /* malloc'd, nmove entries, in order */
	int nmove;
	int unplaced; /* VMs on maintenance hosts that no host admits */
	/* candidate moves dropped, by filter, summed over the greedy
	 * loop's passes (a candidate is counted once per pass) */
	uint64_t dropped_goodness, dropped_cost_benefit, dropped_admission,
		dropped_concurrency;
};

/* The defaults above: level 3, 300 s, 10 Gbit/s, 300 ms, 30 rounds, 8
 * per host, MinGoodness a tenth of a step, cost-benefit on. */
void mv_drs_config_default(struct mv_drs_config *c);

/* Priority of a move made at `imbalance` among n hosts (KB 1007485):
 * 6 - ceil(imbalance / 0.1 * sqrt(n)), kept within 2..5 for load
 * balancing (1 is for mandatory moves); 6 when imbalance is 0 (none). */
int mv_drs_priority(double imbalance, int n);
/* The target host load standard deviation of a level among n hosts: the
 * imbalance at or below which the priority exceeds the level,
 * 0.1 * (5 - level) / sqrt(n); infinity at level 1. */
double mv_drs_target(int level, int n);

/* Every VM's entitlement in pages (out: nvms entries). Hosts in
 * maintenance mode are left out of the cluster's capacity. */
void mv_drs_entitlements(const struct mv_drs_host *hosts, int nhosts,
			 const struct mv_drs_vm *vms, int nvms, uint64_t *out);

/* What migrating v would cost under c's link and pre-copy rules. */
struct mv_drs_cost mv_drs_migration_cost(const struct mv_drs_vm *v,
					 const struct mv_drs_config *c);

/*
 * DRS's decisions for one run: maintenance-mode evacuations, then load
 * balancing while the imbalance's priority is within the level. 0, or
 * MV_EINVAL (err names the host or VM and the field) on bad input, or
 * MV_ENOMEM. Free out with mv_drs_result_free.
 */
int mv_drs_decide(const struct mv_drs_config *c,
		  const struct mv_drs_host *hosts, int nhosts,
		  const struct mv_drs_vm *vms, int nvms,
		  struct mv_drs_result *out, struct mv_error *err);
void mv_drs_result_free(struct mv_drs_result *r);

/*
 * Initial placement of `v` (its host field ignored) at power-on: the host
 * not in maintenance mode whose normalised entitlement is lowest with v
 * on it, among those whose reservations (plus overhead) still fit with
 * v's; ties to the lower index. -1 if none admits it.
 */
int mv_drs_place(const struct mv_drs_host *hosts, int nhosts,
		 const struct mv_drs_vm *vms, int nvms,
		 const struct mv_drs_vm *v);

#endif
