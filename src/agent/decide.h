/*
 * decide.h - the agent's decision: one interval's figures in, balloon
 * targets and KSM settings out (agent layer).
 *
 * A pure function of its inputs and of the free-memory state machine it
 * carries from one interval to the next (the hysteresis): no libvirt, no
 * /proc, no clock, so the tests drive it with made-up hosts. The
 * allocation itself is src/policy's (mv_memstate_*, mv_policy_plan), the
 * code the simulator runs; this file only maps a live guest's figures into
 * it and applies the rules a real balloon needs on top (oVirt MOM's: a
 * bounded rate, a free-memory margin in the guest). docs/agent.md.
 */
#ifndef MEMVISOR_AGENT_DECIDE_H
#define MEMVISOR_AGENT_DECIDE_H

#include <stddef.h>
#include <stdint.h>

#include "memvisor/policy.h"

/* Where a guest's active fraction came from (the JSON log's words). */
enum mv_agent_active_src {
	MV_AGENT_ACTIVE_NONE = 0,   /* nothing measured: counted as idle */
	MV_AGENT_ACTIVE_REFERENCED, /* host: clear_refs + smaps Referenced */
	MV_AGENT_ACTIVE_GUEST,      /* guest: (actual - unused) / actual */
};
const char *mv_agent_active_src_name(enum mv_agent_active_src s);

/* One guest in one interval; memory in KiB, as libvirt gives it. */
struct mv_agent_guest_in {
	uint64_t max_kib;         /* <memory>: the most the guest can have */
	uint64_t current_kib;     /* <currentMemory> when the agent first saw
				     it: the administrator's setting, the most
				     the agent deflates to */
	uint64_t actual_kib;      /* the balloon's actual now */
	int balloon;              /* a balloon driver that answers */
	int stats;                /* this interval's guest stats were read and
				     hold unused memory (stats period > 0) */
	uint64_t unused_kib;      /* guest's free memory (stats) */
	uint64_t available_kib;   /* its MemTotal, of the same stats report
				     as unused; 0: not reported */
	uint64_t outside_kib;     /* its memory outside MemTotal
				     (mv_agent_outside_kib) */
	uint64_t rss_kib;         /* QEMU process RSS; 0: unknown */
	uint64_t reservation_kib; /* memtune min_guarantee / soft_limit */
	uint64_t limit_kib;       /* memtune hard_limit; 0: none */
	uint64_t shares;
	double active; /* estimated active fraction of max_kib, 0..1 */
};

struct mv_agent_host_in {
	uint64_t total_kib;     /* MemTotal, or the --host-memory budget */
	uint64_t free_kib;      /* MemAvailable, or budget minus guests' RSS */
	uint64_t mem_free_kib;  /* ksmtuned's free: MemFree + Buffers +
				   Cached (or free_kib under a budget) */
	uint64_t committed_kib; /* the guests' RSS summed (ksmtuned's) */
	uint64_t ksm_pages_to_scan; /* KSM's setting now */
};

struct mv_agent_config {
	enum mv_memstate_model model;
	double idle_tax;   /* ESX's Mem.IdleTax: 0.75 */
	double max_change; /* of max_kib per interval: 0.05 (MOM) */
	double guest_free; /* margin above guest use: 0.20 (MOM) */
	double min_change; /* smaller moves skipped: 0.0025 (MOM) */
	int ksm;           /* tune KSM (ksmtuned's rules) */
};

/* Defaults as above, esx41 states, KSM tuned. */
void mv_agent_config_default(struct mv_agent_config *c);

/* Why a guest's target is what it is (the JSON log's "reason"). */
enum mv_agent_reason {
	MV_AGENT_HOLD = 0,    /* nothing to do */
	MV_AGENT_RECLAIM,     /* host short of memory: balloon inflates */
	MV_AGENT_LIMIT,       /* above its hard_limit */
	MV_AGENT_DEFLATE,     /* memory to give back */
	MV_AGENT_FLOOR,       /* held at use plus the 20% margin */
	MV_AGENT_RESERVATION, /* held at its reservation */
	MV_AGENT_NO_BALLOON,  /* no driver: nothing the agent can do */
	MV_AGENT_NO_STATS,    /* stats failed or period 0: left alone */
	MV_AGENT_REASON_COUNT
};
const char *mv_agent_reason_name(enum mv_agent_reason r);

struct mv_agent_guest_out {
	uint64_t target_kib; /* balloon target (actual) for this interval */
	uint64_t plan_kib;   /* what the policy alone asked for */
	uint64_t floor_kib;  /* the lowest allowed: max(reservation, use +
				margin) */
	int change;          /* target differs from actual: call setmem */
	enum mv_agent_reason reason;
	double rho; /* adjusted shares per page (policy) */
};

struct mv_agent_ksm_out {
	int run;                /* KSM's run: 0 stop, 1 run */
	uint64_t pages_to_scan; /* ksmtuned's npages */
	uint64_t sleep_millisecs;
};

/* The state carried between intervals (the hysteresis). */
struct mv_agent_policy {
	struct mv_agent_config cfg;
	struct mv_memstate_machine memstate;
	uint64_t total_kib; /* the machine is set up for this host size */
};

void mv_agent_policy_init(struct mv_agent_policy *p,
			  const struct mv_agent_config *cfg);

/*
 * One interval: update the free-memory state from h, run mv_policy_plan
 * over the n guests and turn its balloon targets into out[i], then, if
 * the config tunes KSM, ksmtuned's rule into *ksm (may be NULL). Guests
 * with no balloon or no stats keep their size. Returns the state.
 */
enum mv_memstate mv_agent_decide(struct mv_agent_policy *p,
				 const struct mv_agent_host_in *h, int n,
				 const struct mv_agent_guest_in *g,
				 struct mv_agent_guest_out *out,
				 struct mv_agent_ksm_out *ksm);

/*
 * ksmtuned's rule (one pass of its loop): thres = max(20% of total, 2048
 * KiB); committed below total - thres: stop KSM; otherwise run, with
 * pages_to_scan +300 when free is below thres and -50 when not, within
 * [64, 1250], and sleep_millisecs = 10 x 16 GiB / total, at least 10.
 */
void mv_agent_ksmtuned(const struct mv_agent_host_in *h,
		       struct mv_agent_ksm_out *out);

/*
 * The guest's memory outside its MemTotal (the kernel's reservations),
 * from n samples of the balloon's actual and the stats' available (KiB):
 * actual - available, the value most samples with the balloon at rest
 * (actual as in the sample before) agree on, else of all samples; 0 when
 * none has available. actual is QEMU's, current; available comes with the
 * guest's stats, up to a stats period old: while the balloon moves, the
 * two are of different moments.
 */
uint64_t mv_agent_outside_kib(const uint64_t *actual, const uint64_t *available,
			      size_t n);

/*
 * What a guest uses (KiB), from one stats snapshot: available + outside -
 * unused (MemTotal less MemFree, plus what is outside MemTotal), at most
 * memory. Without available: actual - unused (the balloon's actual is then
 * of a later moment than unused when the stats are stale).
 */
uint64_t mv_agent_use_kib(uint64_t memory, uint64_t actual, uint64_t available,
			  uint64_t unused, uint64_t outside);

/*
 * What a guest's own statistics say it uses (KiB), the agent's active
 * memory when the host's accessed bits are missing: available (MemTotal)
 * less spare (usable: MemAvailable, else unused: MemFree), both of one
 * stats report. Not actual - spare: actual also holds the kernel's memory
 * outside MemTotal (42992 KiB of a 512 MiB guest, mv_agent_outside_kib),
 * which is no working set, and is read at the call where spare can be a
 * stats period old. Without available (0): actual - spare. 0 rather than
 * negative.
 */
uint64_t mv_agent_stats_used_kib(uint64_t actual, uint64_t available,
				 uint64_t spare);

#endif
