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
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"

struct mv_sim_move {
	struct mv_sim *src, *dst;
	int src_index, dst_index;     /* dst_index: -1 until done */
	struct mv_migration *mig;     /* the source side */
	struct mv_migration_in *in;   /* the destination side (in one
					 process, the migration's loop) */
	const struct mv_vm *incoming; /* in dst's incoming list until the
					 VM takes a slot or the move ends */
};

int mv_sim_move_start(struct mv_sim *src, int i, struct mv_sim *dst,
		      const struct mv_migrate_config *cfg,
		      struct mv_sim_move **out, struct mv_error *err)
{
	*out = NULL;
	if (!src || !dst || src == dst || i < 0 || i >= src->nvms)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "needs a VM of one simulator and another "
				    "simulator to move it to");
	const char *name = src->sc->vms[i].vm.name;
	if (mv_sim_vm_down(src, i))
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "VM %s is not running on %s", name,
				    src->sc->name);
	if (src->now_ns != dst->now_ns || src->sc->step_ns != dst->sc->step_ns)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "hosts %s and %s are not at the same "
				    "step",
				    src->sc->name, dst->sc->name);
	if (mv_guest_mmu(src->guest[i]))
		return mv_error_set(err, MV_EINVAL, src->vm[i]->cfg.source, 0,
				    "migration",
				    "VM %s has an MMU model: its migration is "
				    "not modelled yet",
				    name);
	struct mv_sim_move *m = calloc(1, sizeof *m);
	if (!m)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	m->src = src;
	m->dst = dst;
	m->src_index = i;
	m->dst_index = -1;
	int rc = mv_migrate_start(src->vm[i], dst->host, cfg, &m->mig, err);
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

/* What the source VM knew besides its pages goes to v (see the top), as
 * the bytes a move between processes sends (mv_vm_carry_pack). */
static int carry_state(struct mv_vm *v, const struct mv_vm *old,
		       struct mv_error *err)
{
	struct mv_pack w = {0};
	int rc = mv_vm_carry_pack(old, &w);
	if (rc) {
		free(w.b);
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	}
	struct mv_unpack r = {.p = w.b, .left = w.n};
	rc = mv_vm_carry_unpack(v, &r, err);
	free(w.b);
	return rc;
}

/* Undo mv_sim_slot_append's slot k (the last) of s after a failure. */
static void slot_drop(struct mv_sim *s, int k)
{
	mv_sim_slot_clear(s, k);
	s->nvms--;
	s->sc->nvms--;
}

/* The migration is done: the VM moves to a new slot of m->dst. */
static int arrive(struct mv_sim_move *m, struct mv_error *err)
{
	struct mv_sim *src = m->src, *dst = m->dst;
	int i = m->src_index;
	struct mv_vm *old = src->vm[i];
	/* the source host's part of the VM's swap-ins (its file's counts
	 * start again on the destination, or the file goes) */
	struct mv_swap_stats sw = {0};
	if (src->swap[i])
		mv_swapfile_stats(src->swap[i], &sw);
	if ((src->verify || dst->verify) && mv_migrate_verify(m->mig))
		return mv_error_set(
			err, MV_EINVAL, NULL, 0, "migration",
			"VM %s: %llu pages differ on %s after "
			"the migration",
			old->cfg.name,
			(unsigned long long)mv_migrate_verify(m->mig),
			dst->sc->name);
	/* the guest model goes as bytes, as between processes: packed
	 * before anything moves, so a guest that cannot go ends the
	 * migration here, its VM running on at its source */
	void *gbuf;
	size_t glen;
	int rc = mv_guest_pack(src->guest[i], &gbuf, &glen, err);
	if (rc)
		return rc;
	int k = mv_sim_slot_append(dst, &src->sc->vms[i]);
	if (k < 0) {
		free(gbuf);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	}
	struct mv_vm *v = mv_migrate_take(m->mig);
	dst->vm[k] = v;
	if (dst->verify && mv_vm_enable_verify(v))
		rc = MV_ENOMEM;
	/* the destination's large pages, as its own VMs have them */
	if (!rc && (dst->sc->reclaim.thp.enabled != MV_THP_NEVER ||
		    dst->sc->reclaim.large_pages)) {
		v->lpage_esx = dst->sc->reclaim.large_pages;
		if (mv_vm_thp_enable(v))
			rc = MV_ENOMEM;
	}
	if (rc) {
		free(gbuf);
		slot_drop(dst, k);
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	}
	if ((rc = carry_state(v, old, err)) != 0) {
		free(gbuf);
		slot_drop(dst, k);
		return rc;
	}
	/* on shared storage the swap file comes with the VM, its pages
	 * those the destination holds as slots */
	struct mv_swapfile *sf = m->mig->cfg.shared_swap ? src->swap[i] : NULL;
	if ((rc = mv_sim_slot_power_on_with(dst, k, sf, err)) != 0) {
		free(gbuf);
		slot_drop(dst, k);
		return rc;
	}
	if (sf)
		src->swap[i] = NULL;
	dst->moved[k].stall_base_ns = mv_vm_stall_ns(v);
	mv_guest_destroy(src->guest[i]);
	src->guest[i] = NULL;
	struct mv_guest *g;
	/* files it reads (traces, profiles): the destination's own, from
	 * its copy of the VM's configuration */
	rc = mv_guest_unpack_with(gbuf, glen, v, &dst->sc->vms[k].guest, &g,
				  err);
	free(gbuf);
	if (rc) /* the bytes and files were whole: out of memory */
		return rc;
	mv_guest_arrived(g, old);
	dst->guest[k] = g;
	if (mv_guest_uses_interval(g))
		dst->interval_guests++;
	mv_guest_set_stop(g, dst->stop);
	/* the stopped VM's time, lost by its vCPU */
	mv_vm_charge_guest(v, m->mig->downtime_ns);
	dst->period[k] = (struct mv_sim_period){
		.pages = v->ctr.balloon_pages,
		.frames = v->ctr.balloon_frames,
		.yield = 1.0,
	};
	dst->oom[k].bind_seen = v->ctr.numa_bind_failed;
	struct mv_sim_moved *a = &dst->moved[k];
	a->arrived = 1;
	a->arrived_ns = dst->now_ns;
	snprintf(a->from, sizeof a->from, "%s", src->sc->name);
	m->mig->src = NULL; /* freed next */
	struct mv_sim_moved *l = &src->moved[i];
	l->stall_exit_ns = mv_vm_stall_ns(old);
	l->swap_in_exit = sw.reads;
	mv_sim_slot_clear(src, i);
	l->gone = 1;
	l->left_ns = src->now_ns;
	snprintf(l->to, sizeof l->to, "%s", dst->sc->name);
	m->dst_index = k;
	return 0;
}

int mv_sim_move_run(struct mv_sim_move *m, uint64_t dt_ns, struct mv_error *err)
{
	struct mv_migration *mig = m->mig;
	if (mig->state != MV_MIG_ACTIVE)
		return 0;
	int i = m->src_index;
	if (mv_sim_vm_down(m->src, i)) { /* OOM-killed on its source */
		incoming_end(m);
		return mv_migrate_cancel(mig, "the VM was killed on its source",
					 err);
	}
	/* auto-converge: the vCPU ran (100 - throttle)% of the step */
	uint64_t ran = dt_ns - dt_ns * (uint64_t)mig->throttle_pct / 100;
	if (mig->throttle_pct)
		mv_vm_charge_guest(m->src->vm[i], dt_ns - ran);
	/* the interval model's lazy writes of the step, in the log */
	mv_guest_log_writes(m->src->guest[i], m->src->now_ns, ran);
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
	rc = arrive(m, err);
	if (rc) {
		/* the VM runs on at its source: as an abort */
		mv_vm_destroy(mv_migrate_take(mig));
		mig->state = MV_MIG_ABORTED;
	}
	return rc;
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
	mv_migrate_destroy(m->mig);
	free(m);
}
