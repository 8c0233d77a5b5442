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
 *            (mv_cluster_migrations_step): the <migrate> events due, in
 *            time and file order, start (mv_sim_move_start), then every
 *            move in progress advances by the step (mv_sim_move_run), in
 *            the order they started;
 *   phase 3: DRS (stage 3), not built.
 *
 * Every host has the cluster's step and duration (mv_cluster_apply), so
 * the hosts' clocks agree after every step. A set stop flag (SIGINT,
 * SIGTERM) stops the step between hosts with MV_ECANCELED, as it stops
 * mv_sim_step between VMs.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"

int mv_cluster_create(struct mv_cluster_scenario *cs, int verify,
		      struct mv_cluster **out, struct mv_error *err)
{
	*out = NULL;
	struct mv_cluster *c = calloc(1, sizeof *c);
	if (c) {
		c->sim = calloc((size_t)cs->nhosts, sizeof *c->sim);
		c->mig = calloc((size_t)cs->nevents + 1, sizeof *c->mig);
	}
	if (!c || !c->sim || !c->mig) {
		if (c) {
			free(c->sim);
			free(c->mig);
		}
		free(c);
		mv_cluster_scenario_free(cs);
		return mv_error_set(err, MV_ENOMEM, cs->source, 0, NULL,
				    "out of memory");
	}
	c->cs = cs;
	c->verify = verify;
	c->nhosts = cs->nhosts;
	for (int h = 0; h < cs->nhosts; h++) {
		struct mv_scenario *sc = cs->host[h].sc;
		cs->host[h].sc = NULL; /* the simulator owns it now */
		int rc = mv_sim_create(sc, verify, &c->sim[h], err);
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
	for (int h = 0; h < c->nhosts; h++)
		mv_sim_destroy(c->sim[h]);
	free(c->sim);
	mv_cluster_scenario_free(c->cs);
	free(c);
}

void mv_cluster_set_stop(struct mv_cluster *c,
			 const volatile sig_atomic_t *stop)
{
	c->stop = stop;
	for (int h = 0; h < c->nhosts; h++)
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
		    !strcmp(c->cs->event[c->mig[k].event].vm_name, name))
			return 1;
	return 0;
}

/*
 * Phase 2: start each due <migrate> event, then advance every move in
 * progress by the step in the order they started. An event whose VM is
 * not running on its `from` host then (an earlier move aborted, or is
 * still going, or the VM was OOM-killed) does not start, and a move that
 * aborts (the destination out of frames, the VM killed) leaves the VM on
 * its source: both are reported, neither ends the run.
 */
int mv_cluster_migrations_step(struct mv_cluster *c, struct mv_error *err)
{
	(void)err;
	while (c->next_event < c->cs->nevents &&
	       c->cs->event[c->next_event].at_ns <= c->now_ns) {
		const struct mv_cluster_event *e = &c->cs->event[c->next_event];
		struct mv_cluster_migration *g = &c->mig[c->nmig++];
		g->event = c->next_event++;
		g->from = e->from;
		g->to = e->to;
		g->start_ns = c->now_ns;
		struct mv_sim *src = c->sim[e->from];
		int i = running_slot(src, e->vm_name);
		if (i < 0 || moving(c, e->vm_name)) {
			snprintf(g->why, sizeof g->why,
				 "%s was not running on %s then", e->vm_name,
				 c->cs->host[e->from].name);
			continue;
		}
		struct mv_error me = {0};
		if (mv_sim_move_start(src, i, c->sim[e->to], &c->cs->migrate,
				      &g->move, &me)) {
			g->move = NULL;
			mv_error_format(&me, g->why, sizeof g->why);
		}
	}
	for (int k = 0; k < c->nmig; k++) {
		struct mv_cluster_migration *g = &c->mig[k];
		if (!g->move || mv_sim_move_state(g->move) != MV_MIG_ACTIVE)
			continue;
		struct mv_error me = {0};
		if (mv_sim_move_run(g->move, c->cs->step_ns, &me))
			mv_error_format(&me, g->why, sizeof g->why);
	}
	return 0;
}

int mv_cluster_step(struct mv_cluster *c, struct mv_error *err)
{
	for (int h = 0; h < c->nhosts; h++) {
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
	c->now_ns = c->sim[0]->now_ns;
	c->steps++;
	return mv_cluster_migrations_step(c, err);
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
	return rc;
}
