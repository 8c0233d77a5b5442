/*
 * move.c - a running VM's live migration from one simulated host (struct
 * mv_sim) to another (docs/cluster.md, sections 2 and 3; stage 2 of
 * issue 17).
 *
 * The memory goes by the mechanism of migrate.c: pre-copy over the
 * source VM's dirty log while the source simulator keeps running the
 * guest, the caller advancing the migration once per simulated step,
 * after both simulators stepped (the cluster step's phase 2). The
 * interval model's writes are made before every log sync
 * (mv_vm_dirty_log_sync observes every resident page first), so the log
 * misses none.
 *
 * While it runs, the auto-converge throttle is the vCPU's lost time:
 * charged to the source VM as stall (mv_vm_charge_guest), throttle% of
 * each step. When the stop-and-copy is done and every page checked (with
 * verification on in either simulator, mv_migrate_verify must find no
 * page that differs), the VM moves:
 *
 *   - the destination simulator appends a slot (mv_sim_slot_append, the
 *     scenario's spec copied) holding the destination VM;
 *   - what the source VM knew that is not page bytes goes with it: its
 *     counters (faults, stall, balloon, THP, NUMA), the active-memory
 *     sampler (its random stream, sample and averages, and the pages'
 *     SAMPLED marks) and the active window (ACCESSED marks, the list,
 *     the count), the stall not yet consumed, as the bytes a move
 *     between processes sends (mv_vm_carry_pack, src/vm/carry.c), and
 *     the verification checksums (migrate.c copies those);
 *   - the guest model (processes, page cache, balloon, guest swap, its
 *     random streams, the interval model's events) goes over whole, as
 *     bytes, as it would between processes: mv_guest_pack before anything
 *     moves, the source's guest destroyed, mv_guest_unpack onto the
 *     destination VM, mv_guest_arrived (the interval model takes every
 *     page as changed);
 *   - the destination host gives it a new swap file (or, on shared
 *     storage, the source's: mv_sim_slot_power_on_with) and compression
 *     cache (its own settings) and page sharing (mv_share_add_vm; sharing is
 *     rebuilt there by the scanner); the policy inputs (shares,
 *     reservation, limit) are the VM's configuration, which the
 *     destination VM copied;
 *   - the downtime is charged to it as stall;
 *   - the source slot is emptied (mv_sim_slot_clear: it leaves the source's
 *     sharing, its swap file and compression cache are freed, whose pages
 *     the migration had read back, then the VM and its frames) and marked
 *     gone, with when and where it went.
 *
 * A destination that runs out of frames aborts the migration: its frames
 * go back, and the VM runs on at its source as if nothing happened (the
 * throttle ends). A guest with an MMU model (its page tables are frames
 * of its host) and a hugetlbfs-backed VM are refused at the start.
 *
 * Between MPI ranks (docs/cluster.md, section 5) the two sides are two
 * processes and the same code runs, split where it already passed bytes:
 * the source rank runs the migration and sends each outbox (one message
 * of its length and one of its bytes), the destination rank applies it
 * and answers (rc, the failed record), as mv_migrate_deliver does in one
 * process; a step ends with the source's state. At switch-over the source
 * sends a shared swap file's books (mv_swapfile_pack; the destination
 * opens the file by its name, mv_swapfile_adopt), the destination sends
 * the pages' XXH3 hashes (verification on), the source
 * the arrival record (below), the destination answers with the slot it
 * gave or why it could not; only then does the source let go of the VM,
 * so a destination that fails at the last moment leaves it running at
 * its source. In one process the arrival record goes through memory.
 * Every other rank follows the move by its figures, which the source rank
 * broadcasts after each step (mv_sim_move_sync): the report is rank 0's,
 * and DRS on every rank must see the same moves in progress.
 *
 * The arrival record: the downtime (u64), the source host's name (64
 * bytes), the bits of the pages private on the source
 * (mv_guest_private_bits, ceil(npages / 64) u64 words), the guest model
 * (u64 length, mv_guest_pack's bytes) and the carried state (u64 length,
 * mv_vm_carry_pack's bytes); native byte order (every rank is this
 * binary on this machine's kind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"
#include "memvisor/pack.h"

/* Which sides of the move this process holds. */
enum move_side {
	SIDE_BOTH, /* both hosts here: one process */
	SIDE_SRC,  /* the source host here, the destination on dst_rank */
	SIDE_DST,  /* the destination here, the source on src_rank */
	SIDE_NONE, /* neither: the move's figures only */
};

struct mv_sim_move {
	enum move_side side;
	struct mv_sim *src, *dst;     /* NULL where not this process's */
	int src_index, dst_index;     /* dst_index: -1 until done */
	/* the source side (SIDE_BOTH, SIDE_SRC); elsewhere a copy of its
	 * figures, as the source rank last broadcast them */
	struct mv_migration *mig;
	struct mv_migration_in *in;   /* the destination side (in one
					 process, the migration's loop) */
	const struct mv_vm *incoming; /* in dst's incoming list until the
					 VM takes a slot or the move ends */
	struct mv_comm *comm;         /* NULL: one process */
	int src_rank, dst_rank;
	const struct mv_vm_spec *spec; /* SIDE_DST: the VM's, this rank's */
	uint64_t swap_in_exit;         /* the source file's reads, at
					  switch-over */
};

/* The tag of a move's messages between its two ranks. Every rank goes
 * through the moves in the same order, one at a time, so the messages of
 * two moves never meet. */
enum { TAG_MOVE = 0x6d76 };

/* What the source sends (struct move_hdr's op). */
enum move_op {
	OP_CANCEL = 1, /* the VM was killed on its source: the move ends */
	OP_BATCH,      /* an outbox of len bytes follows */
	OP_STEP_END,   /* the step's batches are over; arg: the state
			  (bits 0-7) and, for MV_MIG_DONE, whether the
			  page hashes are wanted (bit 8) and the shared
			  swap file's books come first (bit 9) */
	OP_ARRIVE,     /* the arrival record (len bytes) follows */
	OP_DROP,       /* switch-over refused: the VM stays at its source */
};

struct move_hdr {
	uint32_t op, arg;
	uint64_t len;
};

/* The destination's answer to a batch or an arrival. */
struct move_ans {
	int32_t rc;
	int32_t slot;    /* the arrival's slot */
	uint64_t failed; /* the batch's record not applied */
	char msg[sizeof ((struct mv_error *)0)->msg];
};

static void send_to(struct mv_sim_move *m, int rank, const void *p, size_t n)
{
	struct mv_error e = {0};
	if (n)
		mv_comm_must(m->comm,
			     mv_comm_send(m->comm, rank, TAG_MOVE, p, n, &e),
			     &e);
}

/* The source's header of a message to the destination. */
static void send_hdr(struct mv_sim_move *m, uint32_t op, uint32_t arg,
		     uint64_t len)
{
	struct move_hdr h = {op, arg, len};
	send_to(m, m->dst_rank, &h, sizeof h);
}

static void recv_from(struct mv_sim_move *m, int rank, void *p, size_t n)
{
	struct mv_error e = {0};
	if (n)
		mv_comm_must(m->comm,
			     mv_comm_recv(m->comm, rank, TAG_MOVE, p, n, &e),
			     &e);
}

/* Can slot i of src start a move? 0, or MV_EINVAL with err saying why. */
static int src_check(struct mv_sim *src, int i, struct mv_error *err)
{
	const char *name = src->sc->vms[i].vm.name;
	if (mv_sim_vm_down(src, i))
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "VM %s is not running on %s", name,
				    src->sc->name);
	if (mv_guest_mmu(src->guest[i]))
		return mv_error_set(err, MV_EINVAL, src->vm[i]->cfg.source, 0,
				    "migration",
				    "VM %s has an MMU model: its migration is "
				    "not modelled yet",
				    name);
	return 0;
}

int mv_sim_move_start(struct mv_sim *src, int i, struct mv_sim *dst,
		      const struct mv_migrate_config *cfg,
		      struct mv_sim_move **out, struct mv_error *err)
{
	*out = NULL;
	if (!src || !dst || src == dst || i < 0 || i >= src->nvms)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "needs a VM of one simulator and another "
				    "simulator to move it to");
	int rc = src_check(src, i, err);
	if (rc)
		return rc;
	if (src->now_ns != dst->now_ns || src->sc->step_ns != dst->sc->step_ns)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "hosts %s and %s are not at the same "
				    "step",
				    src->sc->name, dst->sc->name);
	struct mv_sim_move *m = calloc(1, sizeof *m);
	if (!m)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	m->side = SIDE_BOTH;
	m->src = src;
	m->dst = dst;
	m->src_index = i;
	m->dst_index = -1;
	rc = mv_migrate_start(src->vm[i], dst->host, cfg, &m->mig, err);
	if (!rc)
		m->in = m->mig->loop;
	if (!rc && mv_sim_incoming_add(dst, m->in->vm))
		rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	if (rc) {
		mv_migrate_destroy(m->mig);
		free(m);
		return rc;
	}
	m->incoming = m->in->vm;
	*out = m;
	return 0;
}

/* The destination VM is no longer in flight (it took a slot, or went). */
static void incoming_end(struct mv_sim_move *m)
{
	if (m->incoming)
		mv_sim_incoming_remove(m->dst, m->incoming);
	m->incoming = NULL;
}

/* Undo mv_sim_slot_append's slot k (the last) of s after a failure. */
static void slot_drop(struct mv_sim *s, int k)
{
	mv_sim_slot_clear(s, k);
	s->nvms--;
	s->sc->nvms--;
}

/* The source's half of the switch-over: the arrival record (see the top)
 * of slot i's VM into w. */
static int depart_pack(struct mv_sim_move *m, struct mv_pack *w,
		       struct mv_error *err)
{
	struct mv_sim *src = m->src;
	int i = m->src_index;
	const struct mv_vm *old = src->vm[i];
	/* the source host's part of the VM's swap-ins (its file's counts
	 * start again on the destination, or the file goes with it) */
	struct mv_swap_stats sw = {0};
	if (src->swap[i])
		mv_swapfile_stats(src->swap[i], &sw);
	m->swap_in_exit = sw.reads;
	void *gbuf;
	size_t glen;
	/* the guest model goes as bytes: a guest that cannot go ends the
	 * migration here, its VM running on at its source */
	int rc = mv_guest_pack(src->guest[i], &gbuf, &glen, err);
	if (rc)
		return rc;
	size_t words = (old->npages + 63) / 64;
	uint64_t *bits = malloc((words ? words : 1) * sizeof *bits);
	struct mv_pack carry = {0};
	rc = bits ? mv_vm_carry_pack(old, &carry) : MV_ENOMEM;
	if (!rc) {
		char from[64] = {0};
		snprintf(from, sizeof from, "%s", src->sc->name);
		uint64_t glen64 = glen, clen = carry.n;
		mv_guest_private_bits(old, bits);
		mv_pack_put(w, &m->mig->downtime_ns, sizeof m->mig->downtime_ns);
		mv_pack_put(w, from, sizeof from);
		mv_pack_put(w, bits, words * sizeof *bits);
		mv_pack_put(w, &glen64, sizeof glen64);
		mv_pack_put(w, gbuf, glen);
		mv_pack_put(w, &clen, sizeof clen);
		mv_pack_put(w, carry.b, carry.n);
		rc = w->nomem ? MV_ENOMEM : 0;
	}
	free(gbuf);
	free(bits);
	free(carry.b);
	if (rc)
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	return 0;
}

/* The source lets go of slot i's VM, which now runs on host `to`. */
static void depart_commit(struct mv_sim_move *m, const char *to)
{
	struct mv_sim *src = m->src;
	int i = m->src_index;
	struct mv_vm *old = src->vm[i];
	mv_guest_destroy(src->guest[i]);
	src->guest[i] = NULL;
	m->mig->src = NULL; /* freed next */
	struct mv_sim_moved *l = &src->moved[i];
	l->stall_exit_ns = mv_vm_stall_ns(old);
	l->swap_in_exit = m->swap_in_exit;
	mv_sim_slot_clear(src, i);
	l->gone = 1;
	l->left_ns = src->now_ns;
	snprintf(l->to, sizeof l->to, "%s", to);
}

/*
 * The destination's half: VM v (all its pages here, taken from the
 * migration) takes a new slot of dst, spec its configuration (this
 * process's copy, whose loaded files its guest reads), from the arrival
 * record rec; sf, in one process, the source's swap file on shared
 * storage. *k is the slot. On failure v is freed (the VM runs on at its
 * source) and err says why.
 */
static int arrive(struct mv_sim *dst, struct mv_vm *v,
		  const struct mv_vm_spec *spec, struct mv_swapfile *sf,
		  const void *rec, size_t len, int *slot, struct mv_error *err)
{
	struct mv_unpack r = {.p = rec, .left = len};
	uint64_t downtime = 0, glen = 0, clen = 0;
	char from[64];
	size_t words = (v->npages + 63) / 64;
	uint64_t *bits = malloc((words ? words : 1) * sizeof *bits);
	if (!bits) {
		mv_vm_destroy(v);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	}
	mv_unpack_get(&r, &downtime, sizeof downtime, "downtime");
	mv_unpack_get(&r, from, sizeof from, "source host");
	mv_unpack_get(&r, bits, words * sizeof *bits, "private pages");
	mv_unpack_get(&r, &glen, sizeof glen, "guest length");
	const uint8_t *gbuf = r.p;
	if (!r.bad && glen > r.left)
		mv_unpack_fail(&r, "guest");
	else if (!r.bad) {
		r.p += glen;
		r.left -= glen;
	}
	mv_unpack_get(&r, &clen, sizeof clen, "carried state length");
	if (r.bad || clen != r.left) {
		free(bits);
		mv_vm_destroy(v);
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "arrival record of VM %s: %s is short or "
				    "wrong",
				    v->cfg.name, r.bad ? r.bad : "its end");
	}
	from[sizeof from - 1] = '\0';
	int k = mv_sim_slot_append(dst, spec);
	if (k < 0) {
		free(bits);
		mv_vm_destroy(v);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	}
	dst->vm[k] = v;
	int rc = 0;
	if (dst->verify && !v->expect && mv_vm_enable_verify(v))
		rc = MV_ENOMEM;
	/* the destination's large pages, as its own VMs have them */
	if (!rc && (dst->sc->reclaim.thp.enabled != MV_THP_NEVER ||
		    dst->sc->reclaim.large_pages)) {
		v->lpage_esx = dst->sc->reclaim.large_pages;
		if (mv_vm_thp_enable(v))
			rc = MV_ENOMEM;
	}
	if (rc)
		rc = mv_error_set(err, rc, NULL, 0, "", "out of memory");
	/* what the source VM knew besides its pages */
	if (!rc)
		rc = mv_vm_carry_unpack(v, &r, err);
	/* on shared storage the swap file comes with the VM, its pages
	 * those the destination holds as slots */
	if (!rc)
		rc = mv_sim_slot_power_on_with(dst, k, sf, err);
	struct mv_guest *g = NULL;
	/* files it reads (traces, profiles): the destination's own, from
	 * its copy of the VM's configuration */
	if (!rc)
		rc = mv_guest_unpack_with(gbuf, (size_t)glen, v,
					  &dst->sc->vms[k].guest, &g, err);
	if (rc) {
		free(bits);
		if (sf)
			dst->swap[k] = NULL; /* still the source's */
		slot_drop(dst, k);
		return rc;
	}
	dst->moved[k].stall_base_ns = mv_vm_stall_ns(v);
	mv_guest_arrived(g, bits);
	free(bits);
	dst->guest[k] = g;
	if (mv_guest_uses_interval(g))
		dst->interval_guests++;
	mv_guest_set_stop(g, dst->stop);
	/* the stopped VM's time, lost by its vCPU */
	mv_vm_charge_guest(v, downtime);
	dst->period[k] = (struct mv_sim_period){
		.pages = v->ctr.balloon_pages,
		.frames = v->ctr.balloon_frames,
		.yield = 1.0,
	};
	dst->oom[k].bind_seen = v->ctr.numa_bind_failed;
	struct mv_sim_moved *a = &dst->moved[k];
	a->arrived = 1;
	a->arrived_ns = dst->now_ns;
	snprintf(a->from, sizeof a->from, "%s", from);
	*slot = k;
	return 0;
}

/* One process: the migration is done, the VM moves to a new slot of
 * m->dst. */
static int switch_over(struct mv_sim_move *m, struct mv_error *err)
{
	struct mv_sim *src = m->src, *dst = m->dst;
	int i = m->src_index;
	uint64_t bad = 0;
	if ((src->verify || dst->verify) && (bad = mv_migrate_verify(m->mig)))
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "VM %s: %llu pages differ on %s after "
				    "the migration",
				    src->vm[i]->cfg.name,
				    (unsigned long long)bad, dst->sc->name);
	struct mv_pack w = {0};
	int rc = depart_pack(m, &w, err);
	if (rc) {
		free(w.b);
		return rc;
	}
	struct mv_swapfile *sf = m->mig->cfg.shared_swap ? src->swap[i] : NULL;
	int k = -1;
	rc = arrive(dst, mv_migrate_take(m->mig), &src->sc->vms[i], sf, w.b,
		    w.n, &k, err);
	free(w.b);
	if (rc)
		return rc;
	if (sf)
		src->swap[i] = NULL;
	depart_commit(m, dst->sc->name);
	m->dst_index = k;
	return 0;
}

/* The source's part of a step: the throttle and the guest's writes. */
static void source_step(struct mv_sim_move *m, uint64_t dt_ns)
{
	struct mv_migration *mig = m->mig;
	int i = m->src_index;
	/* auto-converge: the vCPU ran (100 - throttle)% of the step */
	uint64_t ran = dt_ns - dt_ns * (uint64_t)mig->throttle_pct / 100;
	if (mig->throttle_pct)
		mv_vm_charge_guest(m->src->vm[i], dt_ns - ran);
	/* the interval model's lazy writes of the step, in the log */
	mv_guest_log_writes(m->src->guest[i], m->src->now_ns, ran);
}

static int run_both(struct mv_sim_move *m, uint64_t dt_ns,
		    struct mv_error *err)
{
	struct mv_migration *mig = m->mig;
	if (mv_sim_vm_down(m->src, m->src_index)) { /* OOM-killed there */
		incoming_end(m);
		return mv_migrate_cancel(mig, "the VM was killed on its source",
					 err);
	}
	source_step(m, dt_ns);
	/* the source sends, the destination takes what it can, the source
	 * learns which (an abort at the record the destination had no frame
	 * for, as if it had stopped there) */
	int rc = mv_migrate_run(mig, dt_ns, err);
	while (!rc && (rc = mv_migrate_deliver(mig, m->in, err)) == 0 &&
	       mig->more)
		rc = mv_migrate_run(mig, 0, err); /* the outbox was full */
	if (mig->state != MV_MIG_ACTIVE)
		incoming_end(m);
	if (rc || mig->state != MV_MIG_DONE)
		return rc;
	rc = switch_over(m, err);
	if (rc) {
		/* the VM runs on at its source: as an abort */
		mv_vm_destroy(mv_migrate_take(mig));
		mig->state = MV_MIG_ABORTED;
	}
	return rc;
}

/* The source rank's switch-over (the destination's is dst_switch_over). */
static int src_switch_over(struct mv_sim_move *m, struct mv_error *err)
{
	struct mv_migration *mig = m->mig;
	struct mv_sim *src = m->src;
	int i = m->src_index, rc = 0;
	if (mig->cfg.shared_swap) {
		/* the file on shared storage goes with the VM: its books
		 * first, so that the destination reads its slots (hashes) */
		struct mv_pack w = {0};
		struct mv_error e = {0};
		int prc = mv_swapfile_pack(src->swap[i], &w);
		if (prc) {
			mv_error_set(&e, prc, NULL, 0, "swap",
				     "VM %s's swap file cannot go to another "
				     "rank: %s",
				     src->vm[i]->cfg.name,
				     prc == MV_ENOMEM ? "out of memory"
						      : "it has no name");
			mv_comm_fail(m->comm, &e);
		}
		uint64_t n = w.n;
		send_to(m, m->dst_rank, &n, sizeof n);
		send_to(m, m->dst_rank, w.b, w.n);
		free(w.b);
	}
	if (src->verify) {
		uint64_t n = src->vm[i]->npages;
		uint64_t *hash = malloc((n ? n : 1) * sizeof *hash);
		if (!hash)
			mv_comm_fail_oom(m->comm);
		recv_from(m, m->dst_rank, hash, n * sizeof *hash);
		uint64_t bad = mv_migrate_verify_hashes(mig, hash);
		free(hash);
		if (bad)
			rc = mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
					  "VM %s: %llu pages differ on the "
					  "destination after the migration",
					  src->vm[i]->cfg.name,
					  (unsigned long long)bad);
	}
	struct mv_pack w = {0};
	if (!rc)
		rc = depart_pack(m, &w, err);
	if (rc) {
		free(w.b);
		send_hdr(m, OP_DROP, 0, 0);
		return rc;
	}
	send_hdr(m, OP_ARRIVE, 0, w.n);
	send_to(m, m->dst_rank, w.b, w.n);
	free(w.b);
	struct move_ans a;
	recv_from(m, m->dst_rank, &a, sizeof a);
	if (a.rc) {
		a.msg[sizeof a.msg - 1] = '\0';
		return mv_error_set(err, a.rc, NULL, 0, "", "%s", a.msg);
	}
	if (mig->cfg.shared_swap) {
		/* the destination's now: closed here, not removed */
		mv_swapfile_destroy(src->swap[i], 1);
		src->swap[i] = NULL;
	}
	depart_commit(m, m->dst ? m->dst->sc->name : a.msg);
	m->dst_index = a.slot;
	return 0;
}

static int run_src(struct mv_sim_move *m, uint64_t dt_ns,
		   struct mv_error *err)
{
	struct mv_migration *mig = m->mig;
	if (mv_sim_vm_down(m->src, m->src_index)) {
		send_hdr(m, OP_CANCEL, 0, 0);
		return mv_migrate_cancel(mig, "the VM was killed on its source",
					 err);
	}
	source_step(m, dt_ns);
	/* as run_both, the destination a message away (mv_migrate_deliver's
	 * work split between the two ranks) */
	int rc = mv_migrate_run(mig, dt_ns, err);
	while (!rc) {
		if (mig->state != MV_MIG_ABORTED &&
		    (mig->out_len || mig->read_failed)) {
			send_hdr(m, OP_BATCH, 0, mig->out_len);
			send_to(m, m->dst_rank, mig->out, mig->out_len);
			struct move_ans a;
			recv_from(m, m->dst_rank, &a, sizeof a);
			rc = mv_migrate_applied(mig, a.rc, a.failed, err);
		}
		if (rc || !mig->more)
			break;
		rc = mv_migrate_run(mig, 0, err); /* the outbox was full */
	}
	send_hdr(m, OP_STEP_END,
		 (uint32_t)mig->state | (uint32_t)m->src->verify << 8 |
			 (uint32_t)!!mig->cfg.shared_swap << 9,
		 0);
	if (rc || mig->state != MV_MIG_DONE)
		return rc;
	rc = src_switch_over(m, err);
	if (rc)
		mig->state = MV_MIG_ABORTED; /* the VM runs on at its source */
	return rc;
}

/* The destination side is gone (the move ended without it). */
static void dst_drop(struct mv_sim_move *m)
{
	incoming_end(m);
	mv_migrate_in_destroy(m->in);
	m->in = NULL;
}

/* The shared swap file's books from the source, adopted by the
 * destination VM (mv_swapfile_adopt); a failure ends the run. */
static struct mv_swapfile *dst_adopt(struct mv_sim_move *m)
{
	uint64_t n = 0;
	recv_from(m, m->src_rank, &n, sizeof n);
	uint8_t *b = malloc(n ? n : 1);
	struct mv_error e = {0};
	if (!b)
		mv_comm_fail_oom(m->comm);
	recv_from(m, m->src_rank, b, n);
	struct mv_unpack r = {.p = b, .left = n};
	struct mv_swapfile *sf = NULL;
	if (mv_swapfile_adopt(m->in->vm, &r, &sf, &e))
		mv_comm_fail(m->comm, &e);
	free(b);
	return sf;
}

static void dst_switch_over(struct mv_sim_move *m, int hashes, int shared)
{
	struct mv_migration_in *in = m->in;
	struct mv_swapfile *sf = shared ? dst_adopt(m) : NULL;
	if (hashes) {
		uint64_t n = in->vm->npages;
		uint64_t *hash = malloc((n ? n : 1) * sizeof *hash);
		struct mv_error e = {0};
		int rc = hash ? mv_migrate_in_hashes(in, hash) : MV_ENOMEM;
		if (rc) {
			mv_error_set(&e, rc, NULL, 0, "",
				     "the hashes of VM %s's pages: %s",
				     in->vm->cfg.name,
				     rc == MV_ENOMEM ? "out of memory"
						     : "a page unreadable");
			mv_comm_fail(m->comm, &e);
		}
		send_to(m, m->src_rank, hash, n * sizeof *hash);
		free(hash);
	}
	struct move_hdr h;
	recv_from(m, m->src_rank, &h, sizeof h);
	if (h.op != OP_ARRIVE) {
		mv_swapfile_destroy(sf, 1); /* still the source's */
		dst_drop(m);
		return;
	}
	uint8_t *rec = malloc(h.len ? h.len : 1);
	if (!rec)
		mv_comm_fail_oom(m->comm);
	recv_from(m, m->src_rank, rec, h.len);
	struct move_ans a = {.slot = -1};
	struct mv_error e = {0};
	a.rc = arrive(m->dst, mv_migrate_in_take(in), m->spec, sf, rec,
		      h.len, &a.slot, &e);
	free(rec);
	if (a.rc) {
		mv_error_format(&e, a.msg, sizeof a.msg);
		mv_swapfile_destroy(sf, 1); /* still the source's */
	}
	else
		snprintf(a.msg, sizeof a.msg, "%s", m->dst->sc->name);
	dst_drop(m);
	m->dst_index = a.rc ? -1 : a.slot;
	send_to(m, m->src_rank, &a, sizeof a);
}

static int run_dst(struct mv_sim_move *m)
{
	uint8_t *buf = NULL;
	for (;;) {
		struct move_hdr h;
		recv_from(m, m->src_rank, &h, sizeof h);
		if (h.op == OP_CANCEL) {
			dst_drop(m);
			break;
		}
		if (h.op == OP_BATCH) {
			uint8_t *b = realloc(buf, h.len ? h.len : 1);
			struct move_ans a = {0};
			struct mv_error e = {0};
			if (!b)
				mv_comm_fail_oom(m->comm);
			buf = b;
			recv_from(m, m->src_rank, buf, h.len);
			a.rc = mv_migrate_in_apply(m->in, buf, h.len,
						   &a.failed, &e);
			if (a.rc)
				mv_error_format(&e, a.msg, sizeof a.msg);
			send_to(m, m->src_rank, &a, sizeof a);
			continue;
		}
		/* OP_STEP_END */
		enum mv_migrate_state st = (enum mv_migrate_state)(h.arg & 0xff);
		if (st == MV_MIG_ABORTED)
			dst_drop(m);
		else if (st == MV_MIG_DONE) {
			incoming_end(m); /* it takes a slot, or goes */
			dst_switch_over(m, (int)(h.arg >> 8 & 1),
					(int)(h.arg >> 9 & 1));
		}
		break;
	}
	free(buf);
	return 0;
}

int mv_sim_move_run(struct mv_sim_move *m, uint64_t dt_ns, struct mv_error *err)
{
	if (m->mig->state != MV_MIG_ACTIVE)
		return 0;
	switch (m->side) {
	case SIDE_BOTH:
		return run_both(m, dt_ns, err);
	case SIDE_SRC:
		return run_src(m, dt_ns, err);
	case SIDE_DST:
		return m->in ? run_dst(m) : 0;
	default:
		return 0;
	}
}

/* ---- between ranks ------------------------------------------------- */

/* The source rank's verdict on a move, to every rank. */
struct move_verdict {
	int32_t rc;
	int32_t id; /* the VM's id on its host */
	char why[200];
	struct mv_vm_config cfg;
};

/* A move between ranks, its sides not set yet; NULL out of memory. With
 * figures, it holds a zeroed copy of the migration's, as the ranks that
 * hold neither side keep them. */
static struct mv_sim_move *ranks_move(struct mv_comm *comm, int src_rank,
				      int dst_rank, int figures)
{
	struct mv_sim_move *m = calloc(1, sizeof *m);
	if (!m || (figures && !(m->mig = calloc(1, sizeof *m->mig)))) {
		free(m);
		return NULL;
	}
	m->side = SIDE_NONE;
	m->comm = comm;
	m->src_rank = src_rank;
	m->dst_rank = dst_rank;
	m->src_index = m->dst_index = -1;
	if (figures)
		m->mig->state = MV_MIG_ACTIVE;
	return m;
}

int mv_sim_move_start_ranks(struct mv_comm *comm, struct mv_sim *src, int i,
			    int src_rank, struct mv_sim *dst, int dst_rank,
			    const struct mv_vm_spec *spec,
			    const struct mv_migrate_config *cfg,
			    struct mv_sim_move **out, char *why, size_t nwhy)
{
	*out = NULL;
	int rank = mv_comm_rank(comm);
	struct move_verdict *v = calloc(1, sizeof *v);
	struct mv_error e = {0};
	if (!v)
		mv_comm_fail_oom(comm);
	struct mv_sim_move *m = NULL;
	if (rank == src_rank) {
		if (src_rank == dst_rank) {
			v->rc = mv_sim_move_start(src, i, dst, cfg, &m, &e);
		} else if (!(v->rc = src_check(src, i, &e))) {
			m = ranks_move(comm, src_rank, dst_rank, 0);
			v->rc = m ? mv_migrate_src_start(src->vm[i], cfg,
							 &m->mig, &e)
				  : mv_error_set(&e, MV_ENOMEM, NULL, 0, "",
						 "out of memory");
			if (v->rc) {
				free(m);
				m = NULL;
			}
		}
		if (!v->rc) {
			v->id = src->vm[i]->id;
			v->cfg = src->vm[i]->cfg;
		} else {
			mv_error_format(&e, v->why, sizeof v->why);
		}
	}
	mv_comm_must(comm, mv_comm_bcast_from(comm, src_rank, v, sizeof *v, &e),
		     &e);
	int rc = v->rc;
	if (rc) {
		snprintf(why, nwhy, "%s", v->why);
		free(v);
		return rc;
	}
	if (rank != src_rank) {
		m = ranks_move(comm, src_rank, dst_rank, 1);
		if (!m)
			mv_comm_fail_oom(comm);
	}
	m->comm = comm;
	m->src_rank = src_rank;
	m->dst_rank = dst_rank;
	if (rank == src_rank && src_rank != dst_rank) {
		m->side = SIDE_SRC;
		m->src = src;
		m->src_index = i;
	} else if (rank == dst_rank && src_rank != dst_rank) {
		m->side = SIDE_DST;
		m->dst = dst;
		m->spec = spec;
		if (mv_migrate_in_create(dst->host, &v->cfg, v->id,
					 dst->verify, &m->in, &e) ||
		    mv_sim_incoming_add(dst, m->in->vm)) {
			if (!e.msg[0])
				mv_error_set(&e, MV_ENOMEM, NULL, 0, "",
					     "out of memory");
			mv_comm_fail(comm, &e);
		}
		m->incoming = m->in->vm;
	}
	free(v);
	*out = m;
	return 0;
}

/*
 * The source rank's figures of the migration to every rank: the state,
 * the rounds and totals the report prints, and why (an abort's reason,
 * the source's). Sent as native structs: every rank is this binary.
 */
void mv_sim_move_sync(struct mv_sim_move *m, char *why, size_t nwhy)
{
	if (!m->comm || mv_comm_size(m->comm) < 2)
		return;
	struct mv_migration *g = m->mig;
	struct mv_pack w = {0};
	int mine = mv_comm_rank(m->comm) == m->src_rank;
	if (mine) {
		char text[200] = {0};
		snprintf(text, sizeof text, "%s", why);
		int32_t st = g->state, n = g->nrounds;
		mv_pack_put(&w, &st, sizeof st);
		mv_pack_put(&w, text, sizeof text);
		mv_pack_put(&w, &g->throttle_pct, sizeof g->throttle_pct);
		mv_pack_put(&w, &g->converged, sizeof g->converged);
		mv_pack_put(&w, &g->now_ns, sizeof g->now_ns);
		mv_pack_put(&w, &g->downtime_ns, sizeof g->downtime_ns);
		mv_pack_put(&w, &g->pages, sizeof g->pages);
		mv_pack_put(&w, &g->bytes, sizeof g->bytes);
		mv_pack_put(&w, &n, sizeof n);
		mv_pack_put(&w, g->round, (size_t)n * sizeof *g->round);
	}
	struct mv_error e = {0};
	void *b = w.b;
	size_t len = w.n;
	if (w.nomem)
		mv_error_set(&e, MV_ENOMEM, NULL, 0, "", "out of memory");
	if (w.nomem || mv_comm_bcast_bytes(m->comm, m->src_rank, &b, &len, &e))
		mv_comm_fail(m->comm, &e);
	if (mine) {
		free(w.b);
		return;
	}
	struct mv_unpack r = {.p = b, .left = len};
	int32_t st = 0, n = 0;
	char text[200];
	mv_unpack_get(&r, &st, sizeof st, "state");
	mv_unpack_get(&r, text, sizeof text, "why");
	mv_unpack_get(&r, &g->throttle_pct, sizeof g->throttle_pct, "throttle");
	mv_unpack_get(&r, &g->converged, sizeof g->converged, "converged");
	mv_unpack_get(&r, &g->now_ns, sizeof g->now_ns, "time");
	mv_unpack_get(&r, &g->downtime_ns, sizeof g->downtime_ns, "downtime");
	mv_unpack_get(&r, &g->pages, sizeof g->pages, "pages");
	mv_unpack_get(&r, &g->bytes, sizeof g->bytes, "bytes");
	mv_unpack_get(&r, &n, sizeof n, "rounds");
	if (!r.bad && (n < 0 || (size_t)n * sizeof *g->round != r.left))
		mv_unpack_fail(&r, "rounds");
	if (!r.bad && (size_t)n > g->cap_rounds) {
		void *p = realloc(g->round, (size_t)n * sizeof *g->round);
		if (!p)
			mv_unpack_fail(&r, "rounds (out of memory)");
		else {
			g->round = p;
			g->cap_rounds = (size_t)n;
		}
	}
	mv_unpack_get(&r, g->round, (size_t)n * sizeof *g->round, "rounds");
	free(b);
	if (r.bad) {
		mv_error_set(&e, MV_EINVAL, NULL, 0, "",
			     "rank %d: the figures of a migration from rank "
			     "%d: %s is short or wrong",
			     mv_comm_rank(m->comm), m->src_rank, r.bad);
		mv_comm_fail(m->comm, &e);
	}
	g->state = (enum mv_migrate_state)st;
	g->nrounds = n;
	text[sizeof text - 1] = '\0';
	snprintf(why, nwhy, "%s", text);
}

enum mv_migrate_state mv_sim_move_state(const struct mv_sim_move *m)
{
	return m->mig->state;
}

const struct mv_migration *mv_sim_move_migration(const struct mv_sim_move *m)
{
	return m->mig;
}

int mv_sim_move_dst_index(const struct mv_sim_move *m)
{
	return m->dst_index;
}

void mv_sim_move_free(struct mv_sim_move *m)
{
	if (!m)
		return;
	incoming_end(m);
	mv_migrate_in_destroy(m->side == SIDE_DST ? m->in : NULL);
	if (m->side == SIDE_BOTH || m->side == SIDE_SRC) {
		mv_migrate_destroy(m->mig);
	} else if (m->mig) {
		free(m->mig->round);
		free(m->mig);
	}
	free(m);
}
