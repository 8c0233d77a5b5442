/*
 * sim.h - scenarios and the deterministic simulator.
 *
 * A scenario is one host and its VMs (libvirt domain XML with memvisor
 * metadata), each with a guest and workloads, plus duration, step and
 * seed. The simulator advances simulated time in fixed steps; in each step
 * every VM's guest runs its workloads, in VM order, through the one access
 * path. Nothing depends on wall-clock time or on iteration order of
 * anything but arrays, so a seed gives the same run byte for byte.
 */
#ifndef MEMVISOR_SIM_H
#define MEMVISOR_SIM_H

#include <signal.h>
#include <stdio.h>

#include "memvisor/guest.h"
#include "memvisor/policy.h"
#include "memvisor/reclaim.h"

struct mv_vm_spec {
	struct mv_vm_config vm;
	struct mv_guest_config guest;
};

/* <idle-tax><change at rate/>: the tax set to `rate` at simulated time
 * `at_ns`, as an administrator changes Mem.IdleTax on a running host
 * (Waldspurger 2002, figure 7: 0% for the first 30 minutes, then 75%). */
#define MV_TAX_CHANGES_MAX 16
struct mv_tax_change {
	uint64_t at_ns; /* > 0, before the end of the run */
	double rate;    /* 0..MV_IDLE_TAX_MAX */
};

/* How the host takes memory back (host-wide, like ESX's advanced settings). */
struct mv_reclaim_config {
	int enabled;         /* <reclaim enabled>: the policy acts; default 1 */
	uint64_t balance_ns; /* <reclaim period>: policy period; default 1 s */
	/* <reclaim on-state-change>: also plan at once when the free-memory
	 * state changed since the last plan, as ESX does between its 15 s
	 * Mem.BalancePeriod plans; default 0 (a 1 s period follows free
	 * memory within a second anyway) */
	int on_state_change;
	/* <reclaim balloon-only>: only balloons take memory back, as on a
	 * libvirt host under `memvisor agent`: no hypervisor swapping or
	 * compression, allocations never blocked, and, as the agent's rule
	 * (MOM's min_guest_free_percent), a balloon never inflated past
	 * the guest's use + 20% of what it has; default 0 */
	int balloon_only;
	struct mv_share_config share; /* <sharing> */
	struct mv_thp_config thp;     /* <thp>: transparent huge pages */
	/* <large-pages enabled>: ESX backs guest memory with large pages
	 * (Mem.AllocGuestLargePage) and breaks them when memory is tight;
	 * default 0 (memvisor's) */
	int large_pages;
	int compression;        /* <compression enabled>; default 1 */
	double zcache_fraction; /* <compression cache>: of each VM's memory; 10%
				 */
	double balloon_max;     /* <balloon max>: of each VM's memory; 65% */
	char swap_dir[256];     /* <swap dir>; "" = a new temporary directory */
	int keep_swap;          /* <swap keep>; default 0 */
	/* not from the file: each swap file gets a name of its own, so that
	 * another process can open it (a cluster over MPI ranks with its
	 * swap files on shared storage, src/cluster/run.c) */
	int swap_names;
	enum mv_memstate_model memstate_model; /* <memstate model>; esx41 */
	double idle_tax; /* <idle-tax rate>: 0..0.99; default 0.75 */
	/* <idle-tax><change>: later rates, strictly increasing in time */
	int ntax_changes;
	struct mv_tax_change tax_change[MV_TAX_CHANGES_MAX];
	/* <host preset="kvm">: libvirt's <memtune> as cgroup v2 applies it
	 * to the guest's QEMU (docs/presets.md): hard_limit = memory.max
	 * over guest memory plus QEMU's overhead, reclaimed by the kernel
	 * and OOM-killed past it; soft_limit = memory.high; min_guarantee
	 * refused. Default 0: memtune as ESX resource settings. */
	int memtune_cgroup;
};

void mv_reclaim_config_default(struct mv_reclaim_config *r);
/* The idle memory tax in force at simulated time now_ns: <idle-tax rate>,
 * or the rate of the last <change> at or before now_ns. */
double mv_reclaim_idle_tax_at(const struct mv_reclaim_config *r,
			      uint64_t now_ns);

/*
 * How guests' workloads access memory (docs/engine.md, "The interval
 * access model"): access by access (the reference), or as per-page Poisson
 * rates with events only where an access costs something. AUTO: exact
 * when the run's estimated accesses are at most MV_EXACT_MAX_ACCESSES.
 */
enum mv_access_model {
	MV_MODEL_AUTO = 0,
	MV_MODEL_EXACT,
	MV_MODEL_INTERVAL,
};
#define MV_EXACT_MAX_ACCESSES 2e7

/* "auto", "exact", "interval". */
const char *mv_access_model_name(enum mv_access_model m);

struct mv_scenario {
	char name[64];
	char source[256]; /* file it was loaded from */
	uint64_t seed;
	uint64_t duration_ns;
	uint64_t step_ns;           /* default 10 ms */
	uint64_t stats_interval_ns; /* default 10 s */
	uint64_t active_window_ns;  /* true active set window; default 60 s */
	/* <host><sampling pages period>: the active-memory estimator (each
	 * VM's, src/vm/sample.c); default 100 pages per 30 s */
	struct mv_active_config sampling;
	struct mv_host_config host;
	struct mv_reclaim_config reclaim;
	enum mv_access_model access_model; /* run --exact/--interval; AUTO */
	int nvms;
	struct mv_vm_spec *vms;
	/* room in vms (mv_array_room): a VM arriving by live migration
	 * appends its spec (mv_sim_move_run); 0 until then */
	size_t cap_vms;
	/* traces loaded for trace workloads (each once; workloads point
	 * into them) */
	int ntraces;
	struct mv_access_trace **traces;
	/* content profiles of <content profile> workloads (each once) */
	int nprofiles;
	struct mv_profile **profiles;
	/* usage traces loaded for usage workloads (each once) */
	int nusage;
	struct mv_usage_trace **usage;
	/* what loading found worth saying but not refusing (settings read
	 * but not modelled, VMs without a workload): one per kind, in the
	 * order found; printed by mv_scenario_print_warnings */
	int nwarnings;
	struct mv_warning *warnings;
};

/* One warning of a loaded scenario: "file:line: text", once per key. */
struct mv_warning {
	char key[64];   /* what it is about ("memtune/soft_limit") */
	char text[320]; /* the first occurrence, as printed */
	int more;       /* further occurrences of the same key */
};

/* Defaults for everything but host memory and VMs. */
void mv_scenario_default(struct mv_scenario *s);
/* Print the scenario's warnings to f, one line each ("memvisor: warning:
 * file:line: ..."); nothing when there are none. */
void mv_scenario_print_warnings(const struct mv_scenario *sc, FILE *f);
/*
 * Load a scenario file (see docs/scenario.md). Domains referenced by file
 * are resolved relative to the scenario's directory. Bad input:
 * MV_EINVAL/MV_ENOENT with err naming file, line and field.
 */
int mv_scenario_load(const char *path, struct mv_scenario **out,
		     struct mv_error *err);
/* Same, from a string; `name` stands for the file in errors. */
int mv_scenario_load_string(const char *xml, const char *name,
			    const char *base_dir, struct mv_scenario **out,
			    struct mv_error *err);
void mv_scenario_free(struct mv_scenario *s);

/* Statistics sampled every stats interval. */
struct mv_sample_vm {
	uint64_t state[MV_PS_COUNT];            /* pages per state */
	uint64_t granted, touched, active_true; /* pages */
	uint64_t consumed;     /* frames it holds: private, its part of shared
				  frames, its compression cache */
	uint64_t shared_saved; /* SHRDSVD: granted minus what it holds for
				  them (sharing and zero pages) */
	uint64_t active_est;   /* pages: sampled estimate (ACTV) */
	uint64_t faults[MV_FAULT_COUNT]; /* cumulative */
	uint64_t stall_ns;               /* cumulative */
	uint64_t xlat_ns;                /* cumulative: address translation
					    (MMU model; 0 without one) */
	uint64_t demanded, done;         /* cumulative accesses */
	struct mv_guest_stats guest;
	uint64_t balloon_target; /* pages */
	uint64_t reclaim_wanted; /* pages the policy asked back last period */
	uint64_t swap_target;    /* SWTGT: swapped pages plus what the
				    policy still wants swapped */
	uint64_t overhead_bytes; /* OVHD: the hypervisor's books for it */
	/* pages of <mv:guest overhead>: the hypervisor process's own memory
	 * outside guest RAM (QEMU's heap, TCG's buffer), resident */
	uint64_t vmm_pages;
	struct mv_zcache_stats zcache;
	struct mv_swap_stats swap;
	/* transparent huge pages (docs/largepages.md); thp 0: THP off for
	 * it (never, or hugetlbfs), and the counts are 0 */
	int thp;
	int lpage_esx;     /* ESX's large pages: the same counts, ESX's names */
	uint64_t thp_huge; /* regions backed by a 2 MiB page: AnonHugePages */
	uint64_t thp_fault_alloc, thp_fault_fallback, thp_collapse_alloc,
		thp_collapse_alloc_failed, thp_split_page; /* cumulative */
};

struct mv_sample {
	uint64_t t_ns;
	/* entries in vm: the simulator's VM slots when it was taken (a VM
	 * arriving by live migration adds one; earlier samples keep theirs) */
	int nvms;
	uint64_t host_free; /* frames */
	enum mv_memstate memstate;
	struct mv_share_stats share;
	struct mv_sample_vm *vm; /* nvms entries, by slot */
};

/* The kernel's OOM constraints memvisor models (enum oom_constraint). */
enum mv_oom_constraint {
	MV_OOM_MEMCG,         /* CONSTRAINT_MEMCG: memory.max */
	MV_OOM_MEMORY_POLICY, /* CONSTRAINT_MEMORY_POLICY: MPOL_BIND */
};
/* "memcg", "mempolicy" (JSON's oom_constraint). */
const char *mv_oom_constraint_name(enum mv_oom_constraint c);

struct mv_sim {
	struct mv_scenario *sc; /* owned */
	struct mv_host *host;
	/* VM slots: the scenario's VMs, then those that arrived by live
	 * migration (mv_sim_move_run), in arrival order; every per-VM array
	 * below has nvms entries and room for cap_vms (mv_array_room) */
	int nvms;
	size_t cap_vms;
	struct mv_vm **vm;
	struct mv_guest **guest;
	uint64_t now_ns;
	uint64_t steps;
	int verify; /* run invariant checks after every step */
	/* the model the run uses (never AUTO), and how many guests use the
	 * interval model (a guest with an MMU model or a trace workload
	 * replays access by access in any case) */
	enum mv_access_model model;
	int interval_guests;
	double est_accesses; /* the estimate AUTO chose by */
	/* when set and nonzero (a signal handler's flag), mv_sim_step
	 * stops between VMs with MV_ECANCELED; the first step boots every
	 * guest and takes seconds on a large host, so each guest's boot
	 * checks it too (every 4096 pages of its OS image) */
	const volatile sig_atomic_t *stop;
	uint64_t verify_checks; /* invariant checks run and passed (one per
				   step with verify on) */
	uint64_t verify_pages;  /* guest pages whose bytes those checks
				   compared with what the guest last wrote */
	struct mv_memstate_machine memstate;
	uint64_t state_ns[MV_MEMSTATE_COUNT]; /* time spent in each state */
	uint64_t min_free;                    /* frames, over the run */
	uint64_t next_sample_ns, next_window_ns;
	int nsamples, cap_samples;
	struct mv_sample *samples;
	double wall_s; /* measured wall-clock time of the run */

	/* reclamation */
	struct mv_sharer *sharer;        /* NULL if sharing is off */
	struct mv_khugepaged khugepaged; /* THP's collapse daemon */
	struct mv_swapfile **swap;       /* per VM */
	struct mv_zcache **zcache;       /* per VM */
	struct mv_policy_action *action; /* per VM, last period */
	struct mv_sim_period {           /* per VM: what the last policy
					    period achieved */
		uint64_t pages, frames;  /* ctr.balloon_* at the last period */
		double yield;            /* balloon frames freed per page */
		uint64_t swap_short;     /* frames the policy asked to compress
					    or swap last period and did not get */
	} * period;
	struct mv_rng reclaim_rng;
	uint64_t next_balance_ns;
	enum mv_memstate balance_state; /* the state after the last plan */
	char run_dir[512];              /* where swap files live */
	int own_run_dir;                /* created by us: removed at the end */
	uint64_t io_errors;             /* swap I/O errors met (nothing lost) */
	uint64_t swap_full;             /* policy periods a VM's swap file was
					   full (swap_hard_limit): not an error */
	char last_io_error[320];
	/* per VM, the OOM kill of its QEMU (killed = 0: running), by the
	 * kernel's constraint (mm/oom_kill.c, constrained_alloc):
	 * MV_OOM_MEMCG, cgroup v2 (<host preset="kvm">), its QEMU stayed
	 * above memory.max when nothing more could be reclaimed;
	 * MV_OOM_MEMORY_POLICY, its strict <numatune> nodeset was full and
	 * reclaim on those nodes freed nothing (docs/numa.md) */
	struct mv_sim_oom {
		int killed;
		int constraint;      /* enum mv_oom_constraint */
		uint64_t at_ns;      /* simulated time of the kill */
		uint64_t held_pages; /* guest frames + QEMU overhead then */
		uint64_t max_pages;  /* memory.max (hard_limit); the bound
					nodes' frames for a policy kill */
		uint64_t bind_seen;  /* the VM's numa_bind_failed answered */
	} * oom;
	/* per VM: a hugetlbfs-backed VM that found the host's pool short
	 * did not start (libvirt's start failure; docs/largepages.md) */
	struct mv_sim_start {
		int failed;
		uint64_t need; /* 2 MiB pages it needed */
		uint64_t free; /* HugePages_Free then */
	} * start;
	/* per VM slot: how the VM came or went by live migration
	 * (src/cluster/move.c, docs/cluster.md). A VM that left keeps its
	 * slot, gone, with its objects freed (vm, guest, swap, zcache NULL):
	 * its samples from then on are zeros. */
	struct mv_sim_moved {
		int gone;            /* it left (its slot is empty) */
		uint64_t left_ns;    /* simulated time it left */
		char to[64];         /* the host it went to (scenario name) */
		int arrived;         /* it came by live migration */
		uint64_t arrived_ns; /* simulated time it arrived */
		char from[64];       /* the host it came from */
		/* for the host's own figures (the VM's counters go with
		 * it): its stall when it arrived (0 if it started here) and
		 * when it left, and its swap file's swap-ins when it left */
		uint64_t stall_base_ns, stall_exit_ns, swap_in_exit;
	} * moved;
	/* VMs arriving by live migration, not yet in a slot: their pages
	 * take this host's frames as they arrive (mv_sim_check counts
	 * them; mv_sim_incoming_add, _remove) */
	int nincoming;
	size_t cap_incoming;
	const struct mv_vm **incoming;
};

/* VM i left this host by live migration: its slot is empty. */
static inline int mv_sim_vm_gone(const struct mv_sim *s, int i)
{
	return s->moved && s->moved[i].gone;
}

/* VM i is not running here: it did not start, it was OOM-killed, or it
 * left by live migration. */
static inline int mv_sim_vm_down(const struct mv_sim *s, int i)
{
	return (s->oom && s->oom[i].killed) ||
	       (s->start && s->start[i].failed) || mv_sim_vm_gone(s, i);
}

/*
 * Append an empty VM slot (every per-VM array grown, the new entries
 * zero, the scenario's spec copied from spec): a VM arriving by live
 * migration takes it. Returns the slot's index, or MV_ENOMEM with
 * nothing changed but room.
 */
int mv_sim_slot_append(struct mv_sim *s, const struct mv_vm_spec *spec);
/*
 * Power on slot i's reclamation for its VM s->vm[i] (already set): its
 * swap file, compression cache, page sharing membership. 0, or an error
 * in err (the objects made so far stay in the slot for
 * mv_sim_slot_clear).
 */
int mv_sim_slot_power_on(struct mv_sim *s, int i, struct mv_error *err);
/*
 * The same with the swap file sf the VM brings (a live migration with the
 * file on shared storage): the slot takes it, and it is attached to the
 * VM (mv_swapfile_attach), only when everything else succeeded; on an
 * error sf is still the caller's.
 */
int mv_sim_slot_power_on_with(struct mv_sim *s, int i, struct mv_swapfile *sf,
			      struct mv_error *err);
/* A VM arriving on s's host by live migration holds frames here before
 * it has a slot: add it (0 or MV_ENOMEM), remove it when it takes a slot
 * or its migration aborts. */
int mv_sim_incoming_add(struct mv_sim *s, const struct mv_vm *vm);
void mv_sim_incoming_remove(struct mv_sim *s, const struct mv_vm *vm);
/* Empty slot i: its VM leaves page sharing; its compression cache, swap
 * file and VM are freed; its guest is not touched (the caller's). The VM
 * left this host (or never came), so its swap file is removed even under
 * <swap keep="yes">, as ESX removes the source's .vswp after a vMotion:
 * keep applies to the files of the VMs a host holds at the end. */
void mv_sim_slot_clear(struct mv_sim *s, int i);

/* The message libvirt gives for a VM that did not start (QEMU's, for a
 * hugetlbfs pool short of pages), into buf. */
void mv_sim_start_error(const struct mv_sim *s, int i, char *buf, size_t n);

/*
 * Build a simulator for a scenario (takes ownership of sc, also on
 * failure). verify != 0 turns on per-page checksums and the invariant check
 * after every step.
 */
int mv_sim_create(struct mv_scenario *sc, int verify, struct mv_sim **out,
		  struct mv_error *err);
void mv_sim_destroy(struct mv_sim *s);

/* The simulated accesses a scenario's run makes, estimated: each running
 * workload's rate times its running time plus each guest's os-rate times
 * the duration. */
double mv_scenario_est_accesses(const struct mv_scenario *sc);

/* One VM's figures now, as a sample holds them. */
void mv_sim_sample_vm(const struct mv_sim *s, int i, struct mv_sample_vm *v);

/*
 * One VM as the reports read it, so they need not walk the simulator's
 * per-VM arrays (vm, guest, swap, zcache, action, period) themselves.
 * Before power-on (or for a VM a failed mv_sim_create never built) the
 * figures come from the scenario and the counters are zero.
 */
struct mv_vm_view {
	const char *name;
	const struct mv_vm_config *cfg;      /* the VM's settings */
	const struct mv_guest_config *guest; /* its guest and workloads */
	uint64_t pages;                      /* configured size in pages */
	int home_node;                       /* NUMA node the host chose */
	uint64_t page_in_errors;             /* failed reads back from swap */
	const struct mv_mmu *mmu;            /* NULL without an MMU model */
	const struct mv_vm *vm;              /* NULL before power-on */
};

/* Fill v with VM i's view (0 <= i < s->nvms). */
void mv_sim_vm_view(const struct mv_sim *s, int i, struct mv_vm_view *v);

/* Host frames VMs may use, and free now (both 0 without a host). */
uint64_t mv_sim_usable_frames(const struct mv_sim *s);
uint64_t mv_sim_free_frames(const struct mv_sim *s);

/*
 * The simulator's metadata now, in bytes by structure (struct mv_books,
 * core.h): every layer's arrays as allocated, element size x count, and
 * the guest pages and host frames to state them per page. b is cleared
 * first. `memvisor run --books` prints it; make bench-scale reads that.
 */
void mv_sim_books(const struct mv_sim *s, struct mv_books *b);

/* Sharing statistics now (zeros if sharing is off). */
void mv_sim_share_stats(const struct mv_sim *s, struct mv_share_stats *st);

/* Advance one step. MV_EINVAL if an invariant check failed (err says). */
int mv_sim_step(struct mv_sim *s, struct mv_error *err);

/*
 * Run to the scenario's duration. progress(s, ctx), when not NULL, is
 * called after every step (s->now_ns of s->sc->duration_ns done): it must
 * be cheap, and decides itself when to show anything (the CLI's progress
 * line reads the wall clock and draws once a second). Stops with
 * MV_ECANCELED when s->stop is set, as mv_sim_step does.
 */
int mv_sim_run(struct mv_sim *s,
	       void (*progress)(const struct mv_sim *, void *), void *ctx,
	       struct mv_error *err);

/* Invariants across all layers: host, every VM, every guest, refcounts. */
int mv_sim_check(const struct mv_sim *s, struct mv_error *err);

/*
 * Address traces: valgrind lackey text ("I  0400d7d4,8", " L 04222cac,8",
 * " S ...", " M ..."; "==pid==" lines skipped) or memvisor's binary format
 * (see trace.c), told apart by the binary format's magic.
 */
/* Record kinds: enum mv_trace_kind (guest.h). */

struct mv_trace_rec {
	uint64_t addr;
	uint32_t size;
	uint8_t kind; /* enum mv_trace_kind */
};

struct mv_trace;

int mv_trace_open(const char *path, struct mv_trace **out,
		  struct mv_error *err);
/* 1 and a record, 0 at the end, or MV_EINVAL / MV_EIO with file:line. */
int mv_trace_next(struct mv_trace *t, struct mv_trace_rec *r,
		  struct mv_error *err);
void mv_trace_close(struct mv_trace *t);
/* Convert any trace to the binary format; OUT replaced only when done. */
int mv_trace_convert(const char *in, const char *out, uint64_t *records,
		     struct mv_error *err);

/*
 * Replay a trace in the current process of m: every record is one access
 * (a modify is one write), and a second one when it crosses a page. At
 * most limit records (0 = all). MV_EAGAIN if the VM ran out of frames.
 */
/*
 * Load a whole trace as page accesses for a trace workload (an access that
 * crosses a page counts for its first page). MV_EINVAL / MV_EIO with
 * file:line for a bad trace, MV_ENOMEM.
 */
int mv_access_trace_load(const char *path, struct mv_access_trace **out,
			 struct mv_error *err);
void mv_access_trace_free(struct mv_access_trace *t);

int mv_trace_replay(struct mv_mmu *m, struct mv_trace *t, uint64_t limit,
		    struct mv_error *err);

/*
 * Per-VM usage traces (src/sim/usage.c, docs/usage.md): Bitbrains GWA-T-12
 * CSV or the Google 2011 per-VM series. Load the file at path in format f;
 * MV_EINVAL with err = "file:line: field: problem" (field: the column's
 * name) for bad input, MV_ENOENT / MV_EIO if it cannot be read, MV_ENOMEM.
 */
int mv_usage_trace_load(const char *path, enum mv_usage_format f,
			struct mv_usage_trace **out, struct mv_error *err);
/* The same from len bytes of text, named `file` in errors. */
int mv_usage_trace_parse(const char *text, size_t len, const char *file,
			 enum mv_usage_format f, struct mv_usage_trace **out,
			 struct mv_error *err);
void mv_usage_trace_free(struct mv_usage_trace *u);

#endif
