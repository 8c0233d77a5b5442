/*
 * cluster.h - several hosts: live migration of a VM's memory between
 * hosts (docs/cluster.md). Stage 1 of issue 17: the migration mechanism
 * between two host instances in one process, on the real page bytes.
 *
 * Pre-copy, as QEMU and vMotion do it: every page is sent once (the bulk
 * round), then, round after round, the pages the guest changed meanwhile
 * (the source VM's dirty log, as KVM's), until what is left fits in the
 * downtime limit at the measured bandwidth, or a round limit is reached;
 * then the VM stops and the rest is sent (stop-and-copy). With
 * auto-converge the vCPUs are throttled as QEMU throttles them. A page of
 * zeros is sent as a flag; compressed and swapped pages are read back
 * first (their bytes, without faulting them into the source).
 *
 * Stage 2 (front end): a <cluster> scenario of several hosts, each a
 * scenario of today (src/cluster/scenario.c), and the cluster run that
 * steps one simulator per host in lockstep (src/cluster/run.c).
 */
#ifndef MEMVISOR_CLUSTER_H
#define MEMVISOR_CLUSTER_H

#include <signal.h>

#include "memvisor/drs.h"
#include "memvisor/sim.h"
#include "memvisor/mpi.h"
#include "memvisor/vm.h"

/* Bytes a page costs on the wire: QEMU's 8-byte header (offset and
 * flags) and the page, or, for a page of zeros, the header with
 * RAM_SAVE_FLAG_ZERO and one byte (migration/ram.c, save_zero_page). */
#define MV_MIG_PAGE_HEADER 8u
#define MV_MIG_PAGE_WIRE (MV_MIG_PAGE_HEADER + MV_PAGE_SIZE)
#define MV_MIG_ZERO_WIRE (MV_MIG_PAGE_HEADER + 1u)
/* A swapped page when the swap file is on shared storage: the header and
 * its 4-byte slot; the destination reads the file itself (vSphere,
 * "Swap File Location": only a host-local swap file's pages must cross
 * the network). memvisor's wire, not QEMU's. */
#define MV_MIG_SWAPREF_WIRE (MV_MIG_PAGE_HEADER + 4u)

struct mv_migrate_config {
	/* bytes per second the migration may use: QEMU's max-bandwidth,
	 * default 128 MiB/s (MAX_THROTTLE, migration/options.c) */
	double bandwidth;
	/* QEMU's downtime-limit: default 300 ms
	 * (DEFAULT_MIGRATE_SET_DOWNTIME) */
	uint64_t downtime_limit_ns;
	/* rounds (the bulk round counted) after which the VM is stopped and
	 * the rest sent whatever the downtime: 30, Xen's limit (Clark et
	 * al., NSDI 2005); QEMU has none */
	int max_rounds;
	/* QEMU's auto-converge capability: throttle the vCPUs when the
	 * guest dirties more than trigger% of what is sent, in two periods
	 * of at least 1 s; initial 20%, +10 each such period after, at most
	 * 99% (migration/options.c's defaults) */
	int auto_converge;
	int throttle_trigger_pct, throttle_initial_pct;
	int throttle_increment_pct, throttle_max_pct;
	/* the source's swap file is on storage both hosts reach
	 * (<storage swap="shared">): swapped pages go as their slots, are
	 * not read back, and the file goes with the VM */
	int shared_swap;
};

/* QEMU's defaults above, auto-converge off. */
void mv_migrate_config_default(struct mv_migrate_config *c);

/* One pass over the pages to send: the bulk round (0) or a dirty round. */
struct mv_migrate_round {
	uint64_t pages;    /* pages sent */
	uint64_t zero;     /* of those, as a zero flag */
	uint64_t readback; /* of those, read back from the compression
			      cache or the swap file first */
	uint64_t swap_refs; /* of those, as their slot in the shared swap
			       file */
	uint64_t bytes;    /* on the wire */
	uint64_t start_ns; /* on the migration's clock */
	uint64_t ns;       /* how long it took */
	int throttle_pct;  /* the vCPU throttle during it */
};

enum mv_migrate_state {
	MV_MIG_ACTIVE,  /* pre-copy: the source runs */
	MV_MIG_DONE,    /* stopped, sent, the destination holds the VM */
	MV_MIG_ABORTED, /* the destination is gone; the source runs on */
};

/*
 * The wire between the two sides (migrate.c, "The wire"): the source's
 * outbox is a run of records, each a fixed 24-byte header, little-endian,
 *
 *   bytes 0-3   "MVMR"
 *   byte  4     kind (MV_MIG_REC_*), bytes 5-7 zero
 *   bytes 8-15  the guest page (gppn); for CHECKSUMS, how many follow
 *   bytes 16-23 the page's descriptor (DESC) or swap slot (SWAPREF),
 *               else 0
 *
 * followed by the page's 4096 bytes (BYTES) or 8 bytes per checksum
 * (CHECKSUMS). No pointers: a record can go as it is to another process
 * (mv_comm_send).
 */
#define MV_MIG_REC_HEADER 24u
/* The source stops adding pages to its outbox past this many bytes or
 * records (mv_migration's more): the stop-and-copy of a large VM goes in
 * parts, not as one copy of its memory, and an outbox that stays in the
 * cache costs less to fill and apply (bench_migrate: 16 MiB sent 16%
 * fewer pages per CPU second than stage 1's direct copy, 1 MiB 10%,
 * 256 KiB no better). */
#define MV_MIG_OUTBOX_BYTES (1u << 20)
#define MV_MIG_OUTBOX_RECORDS (1u << 18)
enum mv_mig_rec_kind {
	MV_MIG_REC_ZERO,    /* a page of zeros */
	MV_MIG_REC_BALLOON, /* a ballooned page (reads as zeros) */
	MV_MIG_REC_DESC,    /* generated content: its descriptor */
	MV_MIG_REC_BYTES,   /* the page's bytes */
	MV_MIG_REC_SWAPREF, /* its slot in the shared swap file */
	/* at the stop-and-copy with verification on: the source's per-page
	 * checksums, which the destination VM takes */
	MV_MIG_REC_CHECKSUMS,
	MV_MIG_REC_KINDS
};

/* What a record of the outbox cost the source, kept until the destination
 * answers: enough to take the source's figures back to any record. */
struct mv_mig_sent {
	mv_gppn_t gppn;
	double cost_ns;   /* on the migration's clock */
	uint32_t wire;    /* bytes on the wire (MV_MIG_*_WIRE) */
	uint8_t swap_ref; /* sent as its slot */
	uint8_t readback; /* read back first */
};

/* The source's figures as they were at the start of a segment of the
 * outbox (a call of mv_migrate_run, or a round begun in it). */
struct mv_mig_checkpoint {
	uint64_t first;                /* the segment's first record */
	struct mv_migrate_round round; /* the round in progress */
	int nrounds, throttle_pct, dirty_high, converged;
	enum mv_migrate_state state;
	double clock_ns;
	uint64_t period_start_ns, period_dirty, period_bytes;
	uint64_t downtime_ns, pages, bytes;
};

struct mv_migration_in;

/*
 * The source side of a migration: the rounds, the pass over the pages,
 * the source VM's dirty log, the clock and the throttle. It does not
 * touch the destination: each page sent is a record of its outbox, which
 * the destination side applies (mv_migrate_in_apply) and answers
 * (mv_migrate_applied).
 */
struct mv_migration {
	struct mv_migrate_config cfg;
	struct mv_vm *src; /* the caller's; dirty-logged while active */
	/* one process (mv_migrate_start): the destination side, the
	 * migration's, that mv_migrate_step hands the outbox to; NULL when
	 * the caller keeps it (mv_migrate_src_start) */
	struct mv_migration_in *loop;
	enum mv_migrate_state state;
	uint64_t now_ns;  /* the migration's clock: time since it started */
	double clock_ns;  /* how far it has worked: ahead of now_ns while
			     a page is on its way */
	uint64_t *pass;   /* the pages this round still sends (bits) */
	uint64_t words;   /* of pass: ceil(npages / 64) */
	mv_gppn_t cursor; /* the next page the round considers */
	int nrounds;
	size_t cap_rounds;              /* room in round (mv_array_room) */
	struct mv_migrate_round *round; /* nrounds; the last is in progress */
	/* auto-converge (QEMU's migration_trigger_throttle) */
	int throttle_pct;
	int dirty_high;           /* periods the guest dirtied too fast */
	uint64_t period_start_ns; /* the current period's */
	uint64_t period_dirty;    /* pages logged in it */
	uint64_t period_bytes;    /* bytes sent in it */
	uint64_t downtime_ns;     /* the stop-and-copy's, once done */
	int converged;            /* stopped because the rest fitted the
				     limit (not because of max_rounds) */
	uint64_t pages, bytes;    /* sent, over all rounds */
	uint64_t abort_gppn;      /* the page an abort failed on */
	char abort_reason[160];
	/* the outbox: records not yet answered (see the wire above) */
	uint8_t *out;
	size_t out_len, out_cap;
	size_t out_max;           /* MV_MIG_OUTBOX_BYTES (tests lower it) */
	uint64_t nout;            /* records in it */
	struct mv_mig_sent *sent; /* nout: what each cost the source */
	size_t cap_sent;
	struct mv_mig_checkpoint *ck; /* nck segments of the outbox */
	size_t nck, cap_ck;
	/* a page that could not be read back: the source stopped there and
	 * aborts once the destination answered for the records before it */
	int read_failed;
	mv_gppn_t read_failed_gppn;
	/* the outbox filled up before the slice's end: once it is answered,
	 * mv_migrate_run(m, 0) goes on from there */
	int more;
	int stopping;         /* the stop-and-copy is under way */
	double stop_start_ns; /* when it began, on the clock */
};

/* The destination side: the destination VM, which takes the records. */
struct mv_migration_in {
	struct mv_vm *vm; /* the side's until taken (mv_migrate_in_take) */
	uint64_t records; /* applied, over every call */
};

/*
 * Start migrating src (on its host) to host dst_host, both sides in this
 * process: the destination VM (same configuration and id, nothing mapped)
 * is created and src's dirty log turned on. MV_EINVAL for a VM that
 * cannot move yet (hugetlbfs backed), MV_ENOMEM; err says which.
 */
int mv_migrate_start(struct mv_vm *src, struct mv_host *dst_host,
		     const struct mv_migrate_config *cfg,
		     struct mv_migration **out, struct mv_error *err);
/* The source side alone (the destination side is the caller's to make,
 * with mv_migrate_in_create): as mv_migrate_start otherwise. */
int mv_migrate_src_start(struct mv_vm *src, const struct mv_migrate_config *cfg,
			 struct mv_migration **out, struct mv_error *err);
/*
 * Advance the source side by dt_ns of simulated time, while the source
 * runs: send what the bandwidth allows, reading back non-resident pages
 * as it goes (their read time is the migration's), each page a record
 * appended to the outbox (m->out, m->out_len). When a round ends and the
 * rest fits the downtime limit (or max_rounds is reached), the VM stops
 * and the rest is sent: the state becomes MV_MIG_DONE and downtime_ns is
 * what the caller charges the VM, once the destination has taken it all
 * (mv_migrate_applied). A full outbox ends the call early (m->more): once
 * it is answered, mv_migrate_run(m, 0) goes on where it stopped, until
 * m->more stays 0. A page that cannot be read back ends the call there.
 * 0, or MV_ENOMEM (aborted).
 */
int mv_migrate_run(struct mv_migration *m, uint64_t dt_ns,
		   struct mv_error *err);
/*
 * The destination's answer to the outbox: rc 0 (every record applied),
 * or rc < 0 and record `failed` not applied (nor any after it;
 * MV_EAGAIN: out of frames). The outbox is emptied. On a failure, or
 * after a page that could not be read back, the migration aborts as if
 * it had stopped at that record: every figure (rounds, clock, totals) as
 * they were when it was read, the destination's frames freed (one
 * process), src's log off; returns the abort's code (MV_EAGAIN out of
 * frames, MV_EIO unreadable, MV_EINVAL a record refused) with err saying
 * which page. Else 0.
 */
int mv_migrate_applied(struct mv_migration *m, int rc, uint64_t failed,
		       struct mv_error *err);
/* One process: the outbox applied by destination side `in` and its
 * answer to m (mv_migrate_applied); what a transport between two processes
 * would do. 0 or the abort's code. */
int mv_migrate_deliver(struct mv_migration *m, struct mv_migration_in *in,
		       struct mv_error *err);
/* One process: mv_migrate_run, then mv_migrate_deliver to m->loop; 0 or
 * the abort's code. */
int mv_migrate_step(struct mv_migration *m, uint64_t dt_ns,
		    struct mv_error *err);
/*
 * After MV_MIG_DONE, one process: compare every guest page's bytes,
 * materialised, on both sides (compressed and swapped source pages read
 * back) by XXH3. Returns the pages that differ (0: not a byte lost).
 */
uint64_t mv_migrate_verify(const struct mv_migration *m);
/* The same against the destination's hashes (mv_migrate_in_hashes):
 * the pages that differ, all of them if m is not done. */
uint64_t mv_migrate_verify_hashes(const struct mv_migration *m,
				  const uint64_t *hash);
/* End an active migration as an abort (the destination's frames freed,
 * the source runs on): MV_ECANCELED with err saying why; 0 if it was not
 * active. */
int mv_migrate_cancel(struct mv_migration *m, const char *why,
		      struct mv_error *err);
/* One process: the destination VM while it is being built, else NULL. */
struct mv_vm *mv_migrate_dst(const struct mv_migration *m);
/* After MV_MIG_DONE, one process: hand the destination VM to the
 * caller. */
struct mv_vm *mv_migrate_take(struct mv_migration *m);
/* Free the migration (and a destination VM not taken); src's log off. */
void mv_migrate_destroy(struct mv_migration *m);

/*
 * The destination side: a VM of configuration cfg and id `id` on dst_host,
 * nothing mapped, with per-page checksums if `verify` (the source has
 * them). MV_ENOMEM.
 */
int mv_migrate_in_create(struct mv_host *dst_host,
			 const struct mv_vm_config *cfg, int id, int verify,
			 struct mv_migration_in **out, struct mv_error *err);
/*
 * Apply the len bytes of records in buf, in order (the whole buffer is
 * checked first: a bad or truncated record is MV_EINVAL, err naming it
 * and *failed its index, and nothing is applied). MV_EAGAIN when the
 * destination host has no frame for a page: *failed is that record's
 * index, the records before it applied. 0 when all were.
 */
int mv_migrate_in_apply(struct mv_migration_in *in, const uint8_t *buf,
			size_t len, uint64_t *failed, struct mv_error *err);
/* XXH3 of each destination page's bytes (npages of them) into hash: the
 * answer for mv_migrate_verify_hashes. 0 or MV_EIO. */
int mv_migrate_in_hashes(const struct mv_migration_in *in, uint64_t *hash);
/* The VM, the caller's from now on (NULL if taken or gone). */
struct mv_vm *mv_migrate_in_take(struct mv_migration_in *in);
/* Free the side and its VM if not taken. NULL is allowed. */
void mv_migrate_in_destroy(struct mv_migration_in *in);

/* ---- the <cluster> scenario (src/cluster/scenario.c) ------------------ */

/* One <host> of a cluster: a scenario of today, by file or inline. */
struct mv_cluster_host {
	char name[64];
	char file[256];         /* the host's scenario file; "" when inline */
	int line;               /* of the <host> element */
	uint64_t seed;          /* mv_cluster_host_seed(cluster seed, index) */
	struct mv_scenario *sc; /* owned; NULL once a cluster run took it */
};

/*
 * A timed event of the cluster file, kept in time order (file order among
 * equal times):
 *   <migrate vm="NAME" from="HOST" to="HOST" at="TIME"/>: a manual live
 *   migration, checked at load (the VM is on `from` at `at`, given the
 *   earlier <migrate> events);
 *   <maintenance host="HOST" at="TIME"/>: the host enters maintenance
 *   mode; DRS evacuates it (needs a <drs level>).
 */
enum mv_cluster_event_kind { MV_CEV_MIGRATE, MV_CEV_MAINTENANCE };
struct mv_cluster_event {
	enum mv_cluster_event_kind kind;
	char vm_name[64]; /* <migrate> */
	int vm;         /* the VM's index in its first host's scenario */
	int from, to;   /* host indexes (<maintenance>: from is the host) */
	uint64_t at_ns; /* simulated time: starts at the first step at or
			   after it */
	int line;       /* of the element */
};

/* <drs>: the balancer (docs/cluster.md, section 4). */
struct mv_cluster_scenario {
	char name[64];
	char source[256];              /* the cluster file */
	uint64_t seed;                 /* default 1 */
	uint64_t duration_ns, step_ns; /* default 60 s, 10 ms: every host's */
	double bandwidth;              /* <network bandwidth>, bytes/s per
					  link (also migrate.bandwidth) */
	uint64_t latency_ns;           /* <network latency> */
	struct mv_migrate_config migrate; /* <migration> */
	int drs_level;                    /* 0: none; else drs.level */
	int drs_line;                     /* of the <drs> element (0: none) */
	struct mv_drs_config drs;         /* <drs level interval ...>; its
					     link and pre-copy rules are
					     migrate's */
	/* of a VM's idle consumed memory, the part counted in its demand
	 * (vSphere 6.5's PercentIdleMBInMemDemand, default 25%): demand =
	 * active + idle_demand x (consumed - active) */
	double drs_idle_demand;
	int nhosts;
	struct mv_cluster_host *host;
	int nevents;
	struct mv_cluster_event *event;
	/* the cluster's own <vm>s, in file order: each powered on at the
	 * start on the host DRS's initial placement chose (mv_drs_place),
	 * its spec added to that host's scenario; host -1: no host admitted
	 * its reservation, and it was not powered on */
	int nplaced;
	struct mv_cluster_placement {
		char vm[64];
		int host;
		int line; /* of the <vm> element */
	} *placed;
};

/*
 * Host h's seed in a cluster of seed `seed`: the cluster seed itself for
 * host 0 (a one-host cluster runs as its scenario would with that seed),
 * a splitmix64 mix of the seed and h for the others. Nothing else (file,
 * name, rank) enters it.
 */
uint64_t mv_cluster_host_seed(uint64_t seed, int h);

/*
 * Load a cluster file (docs/cluster.md, section 2): its hosts' scenarios
 * (files relative to the cluster file's directory, or inline), with the
 * cluster's seed (derived per host), duration and step put into each.
 * Bad input: MV_EINVAL/MV_ENOENT with err naming file, line and field.
 */
int mv_cluster_load(const char *path, struct mv_cluster_scenario **out,
		    struct mv_error *err);
/* The same from a string; `name` stands for the file in errors. */
int mv_cluster_load_string(const char *xml, const char *name,
			   const char *base_dir,
			   struct mv_cluster_scenario **out,
			   struct mv_error *err);
void mv_cluster_scenario_free(struct mv_cluster_scenario *cs);
/* Is the file at path an XML document whose root is <cluster>? (1/0; a
 * file that cannot be read or parsed is 0: its loader says why.) */
int mv_cluster_file_is(const char *path);
/* Put seed, duration and step into every host's scenario (after the
 * caller changed the cluster's, e.g. run --seed, --duration). */
void mv_cluster_apply(struct mv_cluster_scenario *cs);
/* A VM's configuration as DRS sees it (drs.h): on `host`, its memory,
 * limit (at most its memory), reservation (at most its limit) and
 * shares; the figures from its run (active, overhead, ...) zero. */
void mv_cluster_drs_vm(const struct mv_vm_config *cfg, int host,
		       struct mv_drs_vm *d);
/*
 * The run's duration against what happens in it: every event before the
 * end, and a balancing DRS's interval (level 2..5) not longer than the
 * run. MV_EINVAL with err
 * naming the file, the element's line and field; `given` says where the
 * duration came from when not from the file (e.g. "--duration"), or NULL.
 */
int mv_cluster_check_times(const struct mv_cluster_scenario *cs,
			   const char *given, struct mv_error *err);

/* ---- the cluster run (src/cluster/run.c) -------------------------------- */

/*
 * A live migration of the run (phase 2): a <migrate> event, started at the
 * first step at or after its time, or a DRS decision (phase 3), started at
 * once; moved by mv_sim_move_*, kept to the end for the report. A move
 * still in progress at the end of the run is reported as such; an event
 * that could not start (its VM not running on `from` then) keeps why.
 */
struct mv_cluster_migration {
	int event;                /* index into cs->event; -1: DRS's */
	char vm[64];              /* its name */
	int from, to;             /* host indexes */
	uint64_t start_ns;        /* simulated time it started */
	struct mv_sim_move *move; /* NULL if it could not start */
	char why[200];            /* an abort's or a refusal's reason */
	/* DRS's: the decision's priority (1 mandatory: maintenance mode;
	 * 2..5 balancing), the imbalance it was made at and leads to, its
	 * cost and benefit, and the decision's reason */
	int priority;
	double imbalance_before, imbalance_after;
	uint64_t cost_ns, benefit_ns;
	char reason[256];
};

/*
 * One run of DRS (phase 3): every `interval` with the cluster's level,
 * and, between them, whenever a host in maintenance mode still holds VMs
 * and a migration slot may have freed (mandatory moves only, level 1);
 * those are kept only when they start a move.
 */
struct mv_cluster_drs_run {
	uint64_t t_ns;
	int level;        /* the level it ran at */
	double imbalance; /* host load standard deviation before */
	double target;    /* the level's target */
	double imbalance_after;
	int priority; /* of the imbalance before (6: none) */
	int moves;    /* migrations it started */
	int queued;   /* mandatory moves waiting for a migration slot */
	int unplaced; /* VMs of maintenance hosts no host admits */
	uint64_t dropped_goodness, dropped_cost_benefit, dropped_admission,
		dropped_concurrency;
};

/* A host's maintenance mode in the run. */
struct mv_cluster_maintenance {
	int on;              /* entering or in maintenance mode */
	uint64_t at_ns;      /* when it was asked */
	uint64_t done_ns;    /* when its last VM left (0: not yet) */
	int evacuated;       /* VMs moved off it since */
	int held;            /* running VMs on it at the end */
	char unplaced[256];  /* the last reason a VM of it found no host */
};

/* A <migrate>'s state as the reports name it: "done", "aborted", "in
 * progress" (the run ended first) or "not started" (src/report/cluster.c). */
const char *mv_cluster_migration_state(const struct mv_cluster_migration *g);

struct mv_cluster {
	struct mv_cluster_scenario *cs;   /* owned; its hosts' sc moved into
					     sim[h]->sc */
	int nmig;                         /* started (or refused) moves */
	size_t cap_mig;                   /* room in mig (mv_array_room) */
	struct mv_cluster_migration *mig;
	int nhosts;
	struct mv_sim **sim; /* one per host, in index order */
	uint64_t now_ns, steps;
	int next_event; /* the first event not yet carried out */
	struct mv_cluster_maintenance *maint; /* per host */
	/* DRS (phase 3): the next interval's run, whether a mandatory-only
	 * run is due (a host entered maintenance mode, or a migration
	 * ended), the runs kept, and each VM's stall at the last interval
	 * (by the VM's index in vm_names) */
	uint64_t drs_next_ns;
	int drs_kick;
	int ndrs;
	size_t cap_drs;
	struct mv_cluster_drs_run *drs;
	int nvm_names;
	char (*vm_names)[64];     /* every VM of the cluster, host order
				     (copies: a scenario's VM array moves
				     when a VM arrives) */
	uint64_t *drs_stall_base; /* per vm_names entry */
	uint64_t drs_last_ns;     /* the last interval run's time */
	int verify;
	const volatile sig_atomic_t *stop; /* every host's sim->stop */
	double wall_s;                     /* measured: the whole run */
	/* MPI ranks (docs/cluster.md, section 5): this process simulates
	 * hosts [first, first + count), sim[h] NULL for the others; comm
	 * NULL: one process, every host */
	struct mv_comm *comm;
	int first, count;
	/* per host, every rank's copy: the VMs running there and, of those,
	 * not moving away (for maintenance mode: refreshed every step
	 * while a host is in it) */
	int *running, *staying;
};

/*
 * Build one simulator per host (power-on), taking ownership of cs (also
 * on failure). verify as mv_sim_create's.
 */
int mv_cluster_create(struct mv_cluster_scenario *cs, int verify,
		      struct mv_cluster **out, struct mv_error *err);
/*
 * The same on MPI ranks: this rank builds only its hosts (mv_comm_hosts'
 * range; comm NULL or one rank: every host). A move between hosts of
 * two ranks goes as MPI messages between them (mv_sim_move_start_ranks);
 * DRS gathers every host's figures on every rank and decides the same
 * moves on each. A swap file on shared storage does not go between ranks
 * yet: with more than one rank, such a cluster that moves VMs is
 * MV_EINVAL naming -np. comm stays the caller's.
 */
int mv_cluster_create_on(struct mv_cluster_scenario *cs, int verify,
			 struct mv_comm *comm, struct mv_cluster **out,
			 struct mv_error *err);
/* Is host h simulated by this process? */
static inline int mv_cluster_local(const struct mv_cluster *c, int h)
{
	return h >= c->first && h < c->first + c->count;
}
void mv_cluster_destroy(struct mv_cluster *c);
/* Set the stop flag of every host's simulator. */
void mv_cluster_set_stop(struct mv_cluster *c,
			 const volatile sig_atomic_t *stop);
/*
 * One cluster step: phase 1, every host's mv_sim_step in index order;
 * phase 2, the migrations (mv_cluster_migrations_step). MV_ECANCELED when
 * the stop flag is set, or a host's error (err says which host).
 */
int mv_cluster_step(struct mv_cluster *c, struct mv_error *err);
/* Phase 2 of a step: carry out the due events (<migrate> starts a move,
 * <maintenance> puts a host in maintenance mode) and advance the moves in
 * progress, in the order they started. */
int mv_cluster_migrations_step(struct mv_cluster *c, struct mv_error *err);
/* Phase 3: DRS, when due (struct mv_cluster_drs_run); starts the moves
 * it decides. 0, or MV_ENOMEM. */
int mv_cluster_drs_step(struct mv_cluster *c, struct mv_error *err);
/* Run to the duration; progress(c, ctx) after every step, as mv_sim_run. */
int mv_cluster_run(struct mv_cluster *c,
		   void (*progress)(const struct mv_cluster *, void *),
		   void *ctx, struct mv_error *err);
/*
 * A running VM's move from one simulated host to another (src/cluster/
 * move.c, docs/cluster.md sections 2-3): the memory by mv_migrate_* while
 * the source simulator runs the guest; then the guest model, sampler,
 * counters and policy inputs go with the VM to a new slot of the
 * destination, and its slot on the source is left gone.
 */
struct mv_sim_move;
/*
 * Start moving VM slot i of src to dst (another simulator at the same
 * time and step). MV_EINVAL, err saying why: a VM not running, hosts not
 * in step, a guest with an MMU model, a hugetlbfs-backed VM; MV_ENOMEM.
 */
int mv_sim_move_start(struct mv_sim *src, int i, struct mv_sim *dst,
		      const struct mv_migrate_config *cfg,
		      struct mv_sim_move **out, struct mv_error *err);
/*
 * Advance the move by dt_ns: once per simulated step, after both
 * simulators stepped. 0 while in progress and when done
 * (mv_sim_move_state MV_MIG_DONE: the VM runs on dst as slot
 * mv_sim_move_dst_index, its src slot gone). An abort returns its code
 * with err saying why (MV_EAGAIN: the destination ran out of frames;
 * MV_ECANCELED: the VM was killed on its source; MV_EINVAL: with
 * verification on, pages differ) and the state MV_MIG_ABORTED: the VM
 * runs on at its source. Nothing more happens once done or aborted.
 */
int mv_sim_move_run(struct mv_sim_move *m, uint64_t dt_ns,
		    struct mv_error *err);
/*
 * Between MPI ranks (docs/cluster.md, section 6): every rank calls this,
 * in the same order, for a move from host src (simulated by rank
 * src_rank) to host dst (rank dst_rank); src and i mean something only
 * on src_rank, dst and spec (the VM's spec, this rank's copy, its files
 * loaded here) only on dst_rank, NULL elsewhere. The source rank decides
 * and tells every rank: 0 and *out a move that holds this rank's side of
 * it (both when src_rank is dst_rank, neither on the other ranks, which
 * follow its figures), or the refusal's code with why saying why on
 * every rank. A failed MPI call or a destination out of memory ends the
 * run (mv_comm_fail).
 */
int mv_sim_move_start_ranks(struct mv_comm *comm, struct mv_sim *src, int i,
			    int src_rank, struct mv_sim *dst, int dst_rank,
			    const struct mv_vm_spec *spec,
			    const struct mv_migrate_config *cfg,
			    struct mv_sim_move **out, char *why, size_t nwhy);
/*
 * After every rank's mv_sim_move_run of the step (a no-op on ranks that
 * hold neither side): the source rank's figures (state, rounds, totals)
 * and `why` to every rank. Nothing in one process.
 */
void mv_sim_move_sync(struct mv_sim_move *m, char *why, size_t nwhy);
enum mv_migrate_state mv_sim_move_state(const struct mv_sim_move *m);
/* Its migration's figures (rounds, bytes, downtime); src and dst are
 * NULL once done. */
const struct mv_migration *mv_sim_move_migration(const struct mv_sim_move *m);
/* The VM's slot on the destination once done, else -1. */
int mv_sim_move_dst_index(const struct mv_sim_move *m);
void mv_sim_move_free(struct mv_sim_move *m);

#endif
