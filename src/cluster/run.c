/*
 * run.c - a cluster run in one process: one simulator per host, stepped
 * in lockstep (docs/cluster.md, section 2, "The synchronous step").
 *
 * One cluster step:
 *   phase 1: every host's mv_sim_step, hosts in index order. A host's
 *            step reads nothing of another host, so a host runs exactly
 *            as it would alone with the same scenario and seed (the
 *            tests compare the two), and phase 1 is the unit a later
 *            stage spreads over MPI ranks;
 *   phase 2: the cross-host events, in a fixed order
 *            (mv_cluster_migrations_step): the events due, in time and
 *            file order (a <migrate> starts a move, mv_sim_move_start;
 *            a <maintenance> puts its host in maintenance mode), then
 *            every move in progress advances by the step
 *            (mv_sim_move_run), in the order they started;
 *   phase 3: DRS (mv_cluster_drs_step, docs/cluster.md section 4): at
 *            every interval, the cluster's figures gathered from every
 *            host in index order go to mv_drs_decide, and the moves it
 *            decides start at once, in its order; between intervals,
 *            while a host in maintenance mode holds VMs, a run of the
 *            mandatory moves only whenever a migration slot may have
 *            freed. Moves started in phase 3 first advance in the next
 *            step's phase 2.
 *
 * Every host has the cluster's step and duration (mv_cluster_apply), so
 * the hosts' clocks agree after every step. A set stop flag (SIGINT,
 * SIGTERM) stops the step between hosts with MV_ECANCELED, as it stops
 * mv_sim_step between VMs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"
#include "memvisor/pack.h"

int mv_cluster_create(struct mv_cluster_scenario *cs, int verify,
		      struct mv_cluster **out, struct mv_error *err)
{
	return mv_cluster_create_on(cs, verify, NULL, out, err);
}

/* More than one rank: refuse what would move a VM between hosts. */
/* How many ranks comm has (1 for none). */
static int ranks_of(const struct mv_comm *comm)
{
	return comm ? mv_comm_size(comm) : 1;
}

/* Are the hosts over more than one rank? */
static int ranks(const struct mv_cluster *c)
{
	return ranks_of(c->comm) > 1;
}

/* The rank simulating host h. */
static int host_rank(const struct mv_cluster *c, int h)
{
	return c->comm ? mv_comm_host_rank(h, c->nhosts,
					   mv_comm_size(c->comm))
		       : 0;
}

int mv_cluster_create_on(struct mv_cluster_scenario *cs, int verify,
			 struct mv_comm *comm, struct mv_cluster **out,
			 struct mv_error *err)
{
	*out = NULL;
	int first = 0, count = cs->nhosts, rc = 0;
	if (comm) {
		rc = mv_comm_hosts(comm, cs->nhosts, &first, &count, err);
		if (rc) {
			mv_cluster_scenario_free(cs);
			return rc;
		}
	}
	struct mv_cluster *c = calloc(1, sizeof *c);
	int nvms = 0;
	for (int h = 0; h < cs->nhosts; h++)
		nvms += cs->host[h].sc->nvms;
	if (c) {
		c->cs = cs;
		c->nhosts = cs->nhosts;
		c->comm = comm;
		c->first = first;
		c->count = count;
		c->sim = calloc((size_t)cs->nhosts, sizeof *c->sim);
		c->maint = calloc((size_t)cs->nhosts, sizeof *c->maint);
		c->vm_names = calloc((size_t)nvms + 1, sizeof *c->vm_names);
		/* every VM's name, copied: DRS keeps per-VM figures by it */
		c->drs_stall_base = calloc((size_t)nvms + 1,
					   sizeof *c->drs_stall_base);
		c->running = calloc((size_t)cs->nhosts, sizeof *c->running);
		c->staying = calloc((size_t)cs->nhosts, sizeof *c->staying);
	}
	if (!c || !c->sim || !c->maint || !c->vm_names || !c->drs_stall_base ||
	    !c->running || !c->staying) {
		if (c)
			mv_cluster_destroy(c);
		else
			mv_cluster_scenario_free(cs);
		return mv_error_set(err, MV_ENOMEM, cs->source, 0, NULL,
				    "out of memory");
	}
	c->verify = verify;
	c->drs_next_ns = cs->drs.interval_ns;
	for (int h = 0; h < cs->nhosts; h++) {
		struct mv_scenario *sc = cs->host[h].sc;
		for (int i = 0; i < sc->nvms; i++)
			snprintf(c->vm_names[c->nvm_names++],
				 sizeof c->vm_names[0], "%s",
				 sc->vms[i].vm.name);
		if (!mv_cluster_local(c, h))
			continue; /* another rank's: its scenario stays here */
		cs->host[h].sc = NULL; /* the simulator owns it now */
		/* a moving VM's file is opened by the destination's rank */
		if (ranks_of(comm) > 1 && cs->migrate.shared_swap)
			sc->reclaim.swap_names = 1;
		rc = mv_sim_create(sc, verify, &c->sim[h], err);
		if (rc) {
			mv_cluster_destroy(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void mv_cluster_destroy(struct mv_cluster *c)
{
	if (!c)
		return;
	/* a move still in progress cancels against both simulators */
	for (int k = 0; k < c->nmig; k++)
		mv_sim_move_free(c->mig[k].move);
	free(c->mig);
	for (int h = 0; c->sim && h < c->nhosts; h++)
		mv_sim_destroy(c->sim[h]);
	free(c->sim);
	free(c->maint);
	free(c->drs);
	free(c->vm_names);
	free(c->drs_stall_base);
	free(c->running);
	free(c->staying);
	mv_cluster_scenario_free(c->cs);
	free(c);
}

void mv_cluster_set_stop(struct mv_cluster *c,
			 const volatile sig_atomic_t *stop)
{
	c->stop = stop;
	for (int h = c->first; h < c->first + c->count; h++)
		c->sim[h]->stop = stop;
}

/* The slot of the VM named `name` running on s, or -1. */
static int running_slot(const struct mv_sim *s, const char *name)
{
	for (int i = 0; i < s->nvms; i++)
		if (!mv_sim_vm_down(s, i) &&
		    !strcmp(s->sc->vms[i].vm.name, name))
			return i;
	return -1;
}

/* Is a move of the VM named `name` in progress? */
static int moving(const struct mv_cluster *c, const char *name)
{
	for (int k = 0; k < c->nmig; k++)
		if (c->mig[k].move &&
		    mv_sim_move_state(c->mig[k].move) == MV_MIG_ACTIVE &&
		    !strcmp(c->mig[k].vm, name))
			return 1;
	return 0;
}

/* A new entry at the end of c->mig, zeroed; NULL out of memory. */
static struct mv_cluster_migration *mig_append(struct mv_cluster *c)
{
	if (mv_array_room(&c->mig, &c->cap_mig, (size_t)c->nmig, sizeof *c->mig,
			  8))
		return NULL;
	struct mv_cluster_migration *g = &c->mig[c->nmig++];
	memset(g, 0, sizeof *g);
	return g;
}

/* VM `name`'s spec as this process has it (a local host's simulator's,
 * or another rank's host's scenario, loaded here too); NULL if none. */
static const struct mv_vm_spec *find_spec(const struct mv_cluster *c,
					  const char *name)
{
	for (int h = 0; h < c->nhosts; h++) {
		const struct mv_scenario *sc =
			c->sim[h] ? c->sim[h]->sc : c->cs->host[h].sc;
		for (int j = 0; sc && j < sc->nvms; j++)
			if (!strcmp(sc->vms[j].vm.name, name))
				return &sc->vms[j];
	}
	return NULL;
}

/* Start moving slot i of host `from` to host `to` as g (i means
 * something on from's rank only): g->why says why not, g->move stays
 * NULL. */
static void start_move(struct mv_cluster *c, struct mv_cluster_migration *g,
		       int i)
{
	struct mv_error me = {0};
	g->start_ns = c->now_ns;
	if (c->maint[g->to].on) {
		snprintf(g->why, sizeof g->why,
			 "%s is in maintenance mode: it takes no VM",
			 c->cs->host[g->to].name);
		return;
	}
	if (ranks(c)) {
		const struct mv_vm_spec *spec =
			c->sim[g->to] ? find_spec(c, g->vm) : NULL;
		if (mv_sim_move_start_ranks(c->comm, c->sim[g->from], i,
					    host_rank(c, g->from),
					    c->sim[g->to], host_rank(c, g->to),
					    spec, &c->cs->migrate, &g->move,
					    g->why, sizeof g->why))
			g->move = NULL;
		return;
	}
	if (mv_sim_move_start(c->sim[g->from], i, c->sim[g->to],
			      &c->cs->migrate, &g->move, &me)) {
		g->move = NULL;
		mv_error_format(&me, g->why, sizeof g->why);
	}
}

/* The slot of the VM named `name` running on host h, or -1, on every
 * rank (h's rank looks). */
static int slot_running(const struct mv_cluster *c, int h, const char *name)
{
	int32_t i = c->sim[h] ? running_slot(c->sim[h], name) : -1;
	if (ranks(c)) {
		struct mv_error e = {0};
		mv_comm_must(c->comm,
			     mv_comm_bcast_from(c->comm, host_rank(c, h), &i,
						sizeof i, &e),
			     &e);
	}
	return i;
}

/* A <migrate> event due now. */
static int migrate_event(struct mv_cluster *c, int k)
{
	const struct mv_cluster_event *e = &c->cs->event[k];
	struct mv_cluster_migration *g = mig_append(c);
	if (!g)
		return MV_ENOMEM;
	g->event = k;
	snprintf(g->vm, sizeof g->vm, "%s", e->vm_name);
	g->from = e->from;
	g->to = e->to;
	g->start_ns = c->now_ns;
	int i = slot_running(c, e->from, e->vm_name);
	if (i < 0 || moving(c, e->vm_name)) {
		snprintf(g->why, sizeof g->why,
			 "%s was not running on %s then", e->vm_name,
			 c->cs->host[e->from].name);
		return 0;
	}
	start_move(c, g, i);
	return 0;
}

/*
 * Phase 2: carry out each due event (a <migrate> starts a move, a
 * <maintenance> puts its host in maintenance mode for DRS's next run),
 * then advance every move in progress by the step in the order they
 * started. An event whose VM is not running on its `from` host then (an
 * earlier move aborted, or is still going, or the VM was OOM-killed) does
 * not start, and a move that aborts (the destination out of frames, the
 * VM killed) leaves the VM on its source: both are reported, neither ends
 * the run. A move that completes lets DRS run again for a host in
 * maintenance mode.
 */
int mv_cluster_migrations_step(struct mv_cluster *c, struct mv_error *err)
{
	while (c->next_event < c->cs->nevents &&
	       c->cs->event[c->next_event].at_ns <= c->now_ns) {
		int k = c->next_event++;
		const struct mv_cluster_event *e = &c->cs->event[k];
		if (e->kind == MV_CEV_MAINTENANCE) {
			c->maint[e->from].on = 1;
			c->maint[e->from].at_ns = e->at_ns;
			c->drs_kick = 1;
		} else if (migrate_event(c, k)) {
			return mv_error_set(err, MV_ENOMEM, c->cs->source, 0,
					    NULL, "out of memory");
		}
	}
	for (int k = 0; k < c->nmig; k++) {
		struct mv_cluster_migration *g = &c->mig[k];
		if (!g->move || mv_sim_move_state(g->move) != MV_MIG_ACTIVE)
			continue;
		struct mv_error me = {0};
		if (mv_sim_move_run(g->move, c->cs->step_ns, &me))
			mv_error_format(&me, g->why, sizeof g->why);
		/* between ranks, the source's figures and why to all */
		mv_sim_move_sync(g->move, g->why, sizeof g->why);
		if (mv_sim_move_state(g->move) == MV_MIG_ABORTED &&
		    c->maint[g->from].on)
			snprintf(c->maint[g->from].unplaced,
				 sizeof c->maint[g->from].unplaced,
				 "the move of %.40s to %.40s aborted: %.140s",
				 g->vm,
				 c->cs->host[g->to].name, g->why);
		if (mv_sim_move_state(g->move) != MV_MIG_DONE)
			continue;
		/* a slot freed: an evacuation may go on. Not after an abort:
		 * DRS would decide the same move again at once (the
		 * destination out of memory); the next interval retries */
		c->drs_kick = 1;
		if (c->maint[g->from].on)
			c->maint[g->from].evacuated++;
	}
	return 0;
}

/* ---- phase 3: DRS -------------------------------------------------- */

void mv_cluster_drs_vm(const struct mv_vm_config *cfg, int host,
		       struct mv_drs_vm *d)
{
	memset(d, 0, sizeof *d);
	d->host = host;
	d->configured = cfg->mem_bytes / MV_PAGE_SIZE;
	d->limit = cfg->limit_bytes / MV_PAGE_SIZE;
	if (d->limit > d->configured)
		d->limit = d->configured;
	d->reservation = cfg->reservation_bytes / MV_PAGE_SIZE;
	if (d->reservation > d->limit)
		d->reservation = d->limit;
	d->shares = cfg->shares ? cfg->shares : 1;
}

/* Every rank's len bytes at mine to every rank, in rank order (which is
 * host order): *all is their malloc'd concatenation, or mine itself with
 * one rank (free *all only when it is not mine); *n its length. */
static void to_all(const struct mv_cluster *c, void *mine, size_t len,
		   void **all, size_t *n)
{
	*all = mine;
	*n = len;
	if (ranks(c)) {
		struct mv_error e = {0};
		mv_comm_must(
			c->comm,
			mv_comm_allgather_bytes(c->comm, mine, len, all, n, &e),
			&e);
	}
}

/* Is a host in maintenance mode? */
static int any_maintenance(const struct mv_cluster *c)
{
	for (int h = 0; h < c->nhosts; h++)
		if (c->maint[h].on)
			return 1;
	return 0;
}

/* c->running and c->staying of every host, on every rank: each rank
 * counts its own hosts' VMs, then the counts go to all. */
static void census(struct mv_cluster *c)
{
	int32_t *mine = calloc((size_t)c->count * 2 + 1, sizeof *mine);
	if (!mine)
		mv_comm_fail_oom(c->comm);
	for (int h = c->first; h < c->first + c->count; h++) {
		const struct mv_sim *s = c->sim[h];
		int32_t *x = &mine[2 * (h - c->first)];
		for (int i = 0; i < s->nvms; i++) {
			if (mv_sim_vm_down(s, i))
				continue;
			x[0]++;
			x[1] += !moving(c, s->sc->vms[i].vm.name);
		}
	}
	void *v;
	size_t len;
	to_all(c, mine, (size_t)c->count * 2 * sizeof *mine, &v, &len);
	const int32_t *all = v;
	for (int h = 0; h < c->nhosts && (size_t)h * 2 < len / sizeof *all;
	     h++) {
		c->running[h] = all[2 * h];
		c->staying[h] = all[2 * h + 1];
	}
	if (v != mine)
		free(v);
	free(mine);
}

/* Does a host in maintenance mode still hold a VM not moving away? */
static int evacuation_pending(const struct mv_cluster *c)
{
	for (int h = 0; h < c->nhosts; h++)
		if (c->maint[h].on && c->staying[h])
			return 1;
	return 0;
}

/* The index of name in c->vm_names (every VM of the cluster is there). */
static int vm_index(const struct mv_cluster *c, const char *name)
{
	for (int v = 0; v < c->nvm_names; v++)
		if (!strcmp(c->vm_names[v], name))
			return v;
	return -1;
}

/* The standard deviation of slot i's active estimate over s's samples
 * since t0 (pages; 0 with fewer than two). */
static uint64_t active_sd(const struct mv_sim *s, int i, uint64_t t0)
{
	double n = 0, sum = 0, sq = 0;
	for (int k = s->nsamples - 1; k >= 0 && s->samples[k].t_ns > t0; k--) {
		if (i >= s->samples[k].nvms)
			break; /* it arrived after: samples before are not its */
		double x = (double)s->samples[k].vm[i].active_est;
		n++;
		sum += x;
		sq += x * x;
	}
	if (n < 2)
		return 0;
	double var = (sq - sum * sum / n) / n;
	return var > 0 ? (uint64_t)llround(sqrt(var)) : 0;
}

/* Pages per second the guest of slot i writes: its running workloads'
 * access rates times their write ratios (an upper bound on the pages it
 * dirties: a page written twice is sent once). */
static double write_rate(const struct mv_sim *s, int i)
{
	struct mv_vm_view v;
	mv_sim_vm_view(s, i, &v);
	double r = 0;
	for (int w = 0; w < v.guest->nworkloads; w++) {
		const struct mv_workload_config *wl = &v.guest->workload[w];
		if (wl->start_ns <= s->now_ns &&
		    (!wl->stop_ns || s->now_ns < wl->stop_ns))
			r += wl->rate * wl->write_ratio;
	}
	return r;
}

/* A VM's stall waiting for memory the host reclaimed (cumulative, ns):
 * pages read back from the compression cache or swap, and frames waited
 * for; not first touches or copy-on-write, which happen on any host. */
static uint64_t contention_stall(const struct mv_vm *vm)
{
	return vm->ctr.stall_ns[MV_FAULT_DECOMPRESS] +
	       vm->ctr.stall_ns[MV_FAULT_SWAPIN] +
	       vm->ctr.stall_ns[MV_FAULT_ALLOC_WAIT];
}

/* Where DRS's VM k lives: host and slot. */
struct drs_where {
	int host, slot, name;
};

/* One host's VM as DRS sees it, as it goes between ranks. */
struct drs_rec {
	struct mv_drs_vm d;
	struct drs_where w;
};

/* This process's hosts' figures for DRS into w: per host, its capacity
 * (u64), its running VMs (u32), then a struct drs_rec for each, in slot
 * order. */
static void drs_pack(struct mv_cluster *c, struct mv_pack *w, int interval)
{
	for (int h = c->first; h < c->first + c->count; h++) {
		const struct mv_sim *s = c->sim[h];
		uint64_t capacity = mv_sim_usable_frames(s);
		uint32_t n = 0;
		for (int i = 0; i < s->nvms; i++)
			n += !mv_sim_vm_down(s, i);
		mv_pack_put(w, &capacity, sizeof capacity);
		mv_pack_put(w, &n, sizeof n);
		for (int i = 0; i < s->nvms; i++) {
			if (mv_sim_vm_down(s, i))
				continue;
			const struct mv_vm *vm = s->vm[i];
			const char *name = s->sc->vms[i].vm.name;
			struct mv_sample_vm now;
			mv_sim_sample_vm(s, i, &now);
			struct drs_rec x;
			memset(&x, 0, sizeof x);
			struct mv_drs_vm *d = &x.d;
			mv_cluster_drs_vm(&vm->cfg, h, d);
			/* demand: active plus a part of the idle consumed
			 * memory (PercentIdleMBInMemDemand) */
			d->active = now.active_est;
			if (now.consumed > now.active_est)
				d->active += (uint64_t)llround(
					c->cs->drs_idle_demand *
					(double)(now.consumed - now.active_est));
			if (d->active > d->configured)
				d->active = d->configured;
			d->active_sd = active_sd(s, i, c->drs_last_ns);
			d->overhead = (now.overhead_bytes + MV_PAGE_SIZE - 1) /
				      MV_PAGE_SIZE;
			d->zero_pages = now.state[MV_PS_UNTOUCHED] +
					now.state[MV_PS_ZERO] +
					now.state[MV_PS_BALLOONED];
			d->ref_pages = c->cs->migrate.shared_swap
					       ? now.state[MV_PS_SWAPPED]
					       : 0;
			d->send_pages =
				vm->npages - d->zero_pages - d->ref_pages;
			d->write_rate = write_rate(s, i);
			int v = vm_index(c, name); /* every VM is named */
			uint64_t st = contention_stall(vm);
			if (v >= 0) {
				d->stall_ns = st - c->drs_stall_base[v];
				if (interval)
					c->drs_stall_base[v] = st;
			}
			d->migrating = moving(c, name);
			x.w = (struct drs_where){h, i, v};
			mv_pack_put(w, &x, sizeof x);
		}
	}
}

/* The cluster's figures for mv_drs_decide (docs/cluster.md, section 4,
 * "What the driver passes"), in host and slot order, on every rank:
 * each rank packs its own hosts', and the records go to all. The number
 * of VMs, or -1 out of memory. */
static int drs_gather(struct mv_cluster *c, struct mv_drs_host *hosts,
		      struct mv_drs_vm *vms, struct drs_where *where,
		      int interval)
{
	struct mv_pack w = {0};
	drs_pack(c, &w, interval);
	if (w.nomem) {
		free(w.b);
		return -1;
	}
	void *all;
	size_t len;
	to_all(c, w.b, w.n, &all, &len);
	struct mv_unpack r = {.p = all, .left = len};
	int n = 0;
	for (int h = 0; h < c->nhosts; h++) {
		uint64_t capacity = 0;
		uint32_t count = 0;
		mv_unpack_get(&r, &capacity, sizeof capacity, "capacity");
		mv_unpack_get(&r, &count, sizeof count, "VMs");
		hosts[h].capacity = capacity;
		hosts[h].name = c->cs->host[h].name;
		hosts[h].maintenance = c->maint[h].on;
		hosts[h].migrations = 0;
		for (int k = 0; k < c->nmig; k++) {
			const struct mv_cluster_migration *g = &c->mig[k];
			if (g->move &&
			    mv_sim_move_state(g->move) == MV_MIG_ACTIVE &&
			    (g->from == h || g->to == h))
				hosts[h].migrations++;
		}
		for (uint32_t k = 0; k < count && !r.bad; k++) {
			struct drs_rec x;
			if (n >= c->nvm_names) {
				mv_unpack_fail(&r, "VMs");
				break;
			}
			if (mv_unpack_get(&r, &x, sizeof x, "VM"))
				break;
			if (x.w.name < 0)
				continue; /* cannot be: every VM is named */
			vms[n] = x.d;
			where[n] = x.w;
			n++;
		}
	}
	if (all != w.b)
		free(all);
	free(w.b);
	if (r.bad || r.left) {
		struct mv_error e = {0};
		mv_error_set(&e, MV_EINVAL, NULL, 0, "",
			     "DRS's figures of the hosts: %s is short or "
			     "wrong",
			     r.bad ? r.bad : "the end");
		mv_comm_fail(c->comm, &e);
	}
	return n;
}

int mv_cluster_drs_step(struct mv_cluster *c, struct mv_error *err)
{
	const struct mv_cluster_scenario *cs = c->cs;
	/* none at the run's last step: a move started then would only be
	 * reported as in progress */
	if (!cs->drs_level || c->now_ns >= cs->duration_ns)
		return 0;
	int interval = c->now_ns >= c->drs_next_ns;
	if (interval)
		c->drs_next_ns += cs->drs.interval_ns;
	int mandatory = !interval && c->drs_kick && evacuation_pending(c);
	c->drs_kick = 0;
	if (!interval && !mandatory)
		return 0;
	int rc = MV_ENOMEM;
	struct mv_drs_host *hosts = calloc((size_t)c->nhosts, sizeof *hosts);
	struct mv_drs_vm *vms = calloc((size_t)c->nvm_names + 1, sizeof *vms);
	struct drs_where *where = calloc((size_t)c->nvm_names + 1,
					 sizeof *where);
	struct mv_drs_result r = {0};
	struct mv_drs_config cfg = cs->drs;
	if (!interval)
		cfg.level = 1;
	if (!hosts || !vms || !where ||
	    mv_array_room(&c->drs, &c->cap_drs, (size_t)c->ndrs, sizeof *c->drs,
			  8))
		goto out;
	int nvms = drs_gather(c, hosts, vms, where, interval);
	if (nvms < 0)
		goto out;
	if (interval)
		c->drs_last_ns = c->now_ns;
	if ((rc = mv_drs_decide(&cfg, hosts, c->nhosts, vms, nvms, &r, err)))
		goto out;
	struct mv_cluster_drs_run *run = &c->drs[c->ndrs];
	*run = (struct mv_cluster_drs_run){
		.t_ns = c->now_ns,
		.level = cfg.level,
		.imbalance = r.imbalance,
		.target = r.target,
		.imbalance_after = r.imbalance_after,
		.priority = r.priority,
		.unplaced = r.unplaced,
		.dropped_goodness = r.dropped_goodness,
		.dropped_cost_benefit = r.dropped_cost_benefit,
		.dropped_admission = r.dropped_admission,
		.dropped_concurrency = r.dropped_concurrency,
	};
	for (int k = 0; k < r.nmove; k++) {
		const struct mv_drs_move *m = &r.move[k];
		const struct drs_where *w = &where[m->vm];
		if (m->dst < 0) {
			snprintf(c->maint[m->src].unplaced,
				 sizeof c->maint[m->src].unplaced, "%s",
				 m->reason);
			continue;
		}
		if (m->queued) {
			run->queued++;
			continue;
		}
		struct mv_cluster_migration *g = mig_append(c);
		if (!g) {
			rc = MV_ENOMEM;
			goto out;
		}
		g->event = -1;
		snprintf(g->vm, sizeof g->vm, "%s", c->vm_names[w->name]);
		g->from = m->src;
		g->to = m->dst;
		g->priority = m->priority;
		g->imbalance_before = m->imbalance_before;
		g->imbalance_after = m->imbalance_after;
		g->cost_ns = m->cost_ns;
		g->benefit_ns = m->benefit_ns;
		snprintf(g->reason, sizeof g->reason, "%s", m->reason);
		start_move(c, g, w->slot);
		run->moves += g->move != NULL;
	}
	/* a mandatory-only run that started nothing is not worth a row */
	if (interval || run->moves)
		c->ndrs++;
	rc = 0;
out:
	if (rc == MV_ENOMEM)
		mv_error_set(err, MV_ENOMEM, cs->source, 0, NULL,
			     "out of memory");
	mv_drs_result_free(&r);
	free(hosts);
	free(vms);
	free(where);
	return rc;
}

/* At the end of the run: each maintenance host's VMs still there, and
 * when it emptied. */
static void maintenance_end(struct mv_cluster *c)
{
	for (int h = 0; h < c->nhosts; h++)
		if (c->maint[h].on)
			c->maint[h].held = c->running[h];
}

int mv_cluster_step(struct mv_cluster *c, struct mv_error *err)
{
	for (int h = c->first; h < c->first + c->count; h++) {
		if (c->stop && *c->stop)
			return MV_ECANCELED;
		struct mv_sim *s = c->sim[h];
		double t0 = mv_wall_s();
		int rc = mv_sim_step(s, err);
		s->wall_s += mv_wall_s() - t0;
		if (rc) {
			/* say which host, unless the message names it
			 * already (a file of its own) */
			if (rc != MV_ECANCELED && err && err->msg[0]) {
				char msg[sizeof err->msg];
				memcpy(msg, err->msg, sizeof msg);
				snprintf(err->msg, sizeof err->msg,
					 "host %.60s: %.180s",
					 c->cs->host[h].name, msg);
			}
			return rc;
		}
	}
	c->now_ns = c->sim[c->first]->now_ns;
	c->steps++;
	int rc = mv_cluster_migrations_step(c, err);
	if (!rc && any_maintenance(c))
		census(c);
	if (!rc)
		rc = mv_cluster_drs_step(c, err);
	for (int h = 0; !rc && h < c->nhosts; h++)
		if (c->maint[h].on && !c->maint[h].done_ns &&
		    !c->running[h])
			c->maint[h].done_ns = c->now_ns;
	return rc;
}

int mv_cluster_run(struct mv_cluster *c,
		   void (*progress)(const struct mv_cluster *, void *),
		   void *ctx, struct mv_error *err)
{
	double t0 = mv_wall_s();
	int rc = 0;
	while (!rc && c->now_ns < c->cs->duration_ns) {
		rc = mv_cluster_step(c, err);
		if (!rc && progress)
			progress(c, ctx);
	}
	c->wall_s = mv_wall_s() - t0;
	maintenance_end(c);
	return rc;
}
