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
 *            (mv_cluster_migrations_step): the <migrate> events due and
 *            the migrations in progress. Moving a running VM between two
 *            simulators is not wired in yet, so a cluster with <migrate>
 *            events is refused at create and phase 2 has nothing to do;
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
	if (cs->nevents) {
		const struct mv_cluster_event *e = &cs->event[0];
		int rc = mv_error_set(
			err, MV_EINVAL, cs->source, e->line, "migrate",
			"moving a running VM between hosts is not wired into "
			"the cluster run yet (docs/cluster.md, \"Status\"); "
			"remove the <migrate> elements");
		mv_cluster_scenario_free(cs);
		return rc;
	}
	struct mv_cluster *c = calloc(1, sizeof *c);
	if (c)
		c->sim = calloc((size_t)cs->nhosts, sizeof *c->sim);
	if (!c || !c->sim) {
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

/*
 * Phase 2. Where the lead wires the moves in: start each event
 * c->cs->event[c->next_event ...] whose at_ns <= c->now_ns
 * (mv_sim_move_start(c->sim[e->from], <the VM's slot there>,
 * c->sim[e->to], &c->cs->migrate, ...)), then advance every move in
 * progress by the step (mv_sim_move_run), in the order they started,
 * and collect the finished ones for the report. Today create refuses
 * events, so there is nothing to do.
 */
int mv_cluster_migrations_step(struct mv_cluster *c, struct mv_error *err)
{
	if (c->next_event < c->cs->nevents &&
	    c->cs->event[c->next_event].at_ns <= c->now_ns)
		return mv_error_set(err, MV_EINVAL, c->cs->source,
				    c->cs->event[c->next_event].line, "migrate",
				    "not wired in yet");
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
