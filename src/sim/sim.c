/*
 * sim.c - the deterministic discrete-time simulator.
 *
 * Time advances in fixed steps (scenario step, default 10 ms). In each step
 * the VMs' guests run in VM order, each issuing its workloads' accesses for
 * the step through the one access path; then the host's free-memory state
 * is updated. Every stats interval a sample of every figure is stored for
 * the report; every active window each VM's true active set is closed.
 * With verification on, every invariant of every layer is checked after
 * every step (tests do this; `memvisor run --verify` too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memvisor/sim.h"

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mv_sim_destroy(struct mv_sim *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nvms; i++) {
		if (s->guest)
			mv_guest_destroy(s->guest[i]);
		if (s->vm)
			mv_vm_destroy(s->vm[i]);
	}
	for (int i = 0; i < s->nsamples; i++)
		free(s->samples[i].vm);
	free(s->samples);
	free(s->guest);
	free(s->vm);
	mv_host_destroy(s->host);
	mv_scenario_free(s->sc);
	free(s);
}

static int take_sample(struct mv_sim *s)
{
	if (s->nsamples == s->cap_samples) {
		int cap = s->cap_samples ? 2 * s->cap_samples : 64;
		struct mv_sample *n = realloc(s->samples, (size_t)cap * sizeof *n);
		if (!n)
			return MV_ENOMEM;
		s->samples = n;
		s->cap_samples = cap;
	}
	struct mv_sample *sm = &s->samples[s->nsamples];
	sm->vm = calloc((size_t)s->nvms, sizeof *sm->vm);
	if (!sm->vm)
		return MV_ENOMEM;
	sm->t_ns = s->now_ns;
	sm->host_free = s->host->nfree;
	sm->memstate = s->memstate.state;
	for (int i = 0; i < s->nvms; i++) {
		struct mv_sample_vm *v = &sm->vm[i];
		struct mv_vm_usage u;
		mv_vm_usage(s->vm[i], &u);
		memcpy(v->state, u.state, sizeof v->state);
		v->granted = u.granted;
		v->consumed = u.consumed;
		v->touched = u.touched;
		/* before the first window closes, the set so far */
		v->active_true = s->now_ns < s->sc->active_window_ns
					 ? s->vm[i]->window_accessed
					 : u.active_true;
		memcpy(v->faults, s->vm[i]->ctr.faults, sizeof v->faults);
		v->stall_ns = mv_vm_stall_ns(s->vm[i]);
		mv_guest_progress(s->guest[i], &v->demanded, &v->done);
		mv_guest_stats(s->guest[i], &v->guest);
	}
	s->nsamples++;
	return 0;
}

int mv_sim_create(struct mv_scenario *sc, int verify, struct mv_sim **out,
		  struct mv_error *err)
{
	*out = NULL;
	struct mv_sim *s = calloc(1, sizeof *s);
	if (!s) {
		mv_scenario_free(sc);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	}
	s->sc = sc;
	s->verify = verify;
	int rc = mv_host_create(&sc->host, &s->host, err);
	if (rc) {
		if (err && !err->file[0])
			snprintf(err->file, sizeof err->file, "%s", sc->source);
		mv_sim_destroy(s);
		return rc;
	}
	s->vm = calloc((size_t)sc->nvms, sizeof *s->vm);
	s->guest = calloc((size_t)sc->nvms, sizeof *s->guest);
	if (!s->vm || !s->guest) {
		mv_sim_destroy(s);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	}
	s->nvms = sc->nvms;
	for (int i = 0; i < sc->nvms; i++) {
		rc = mv_vm_create(s->host, &sc->vms[i].vm, i, &s->vm[i], err);
		if (!rc && verify && mv_vm_enable_verify(s->vm[i]))
			rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
		if (!rc)
			rc = mv_guest_create(s->vm[i], &sc->vms[i].guest,
					     mv_mix64(sc->seed ^ mv_mix64((uint64_t)i + 1)),
					     &s->guest[i], err);
		if (rc) {
			mv_sim_destroy(s);
			return rc;
		}
	}
	mv_memstate_init(&s->memstate, &sc->host.thresholds);
	s->min_free = s->host->nfree;
	s->next_sample_ns = 0;
	s->next_window_ns = sc->active_window_ns;
	rc = take_sample(s);
	if (rc) {
		mv_sim_destroy(s);
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	}
	s->next_sample_ns = sc->stats_interval_ns;
	*out = s;
	return 0;
}

int mv_sim_check(const struct mv_sim *s, struct mv_error *err)
{
	int rc = mv_host_check(s->host, err);
	if (rc)
		return rc;
	/* every frame's refcount equals the guest pages mapping it */
	uint32_t *refs = calloc(s->host->nframes, sizeof *refs);
	if (!refs)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	for (int i = 0; i < s->nvms; i++) {
		const struct mv_vm *vm = s->vm[i];
		if ((rc = mv_vm_check(vm, err)) != 0 ||
		    (rc = mv_guest_check(s->guest[i], err)) != 0) {
			free(refs);
			return rc;
		}
		for (mv_gppn_t g = 0; g < vm->npages; g++)
			if (vm->pmap[g].state == MV_PS_PRIVATE ||
			    vm->pmap[g].state == MV_PS_SHARED)
				refs[vm->pmap[g].mpn]++;
	}
	for (uint64_t m = 1; m < s->host->nframes; m++) {
		if (refs[m] != s->host->refcount[m]) {
			rc = mv_error_set(err, MV_EINVAL, NULL, 0, "host",
					  "frame %llu has refcount %u but %u "
					  "guest pages map it",
					  (unsigned long long)m,
					  s->host->refcount[m], refs[m]);
			break;
		}
	}
	free(refs);
	return rc;
}

int mv_sim_step(struct mv_sim *s, struct mv_error *err)
{
	uint64_t dt = s->sc->step_ns;
	for (int i = 0; i < s->nvms; i++)
		mv_guest_run(s->guest[i], s->now_ns, dt);
	s->now_ns += dt;
	s->steps++;

	enum mv_memstate st = mv_memstate_update(&s->memstate,
						 mv_host_free_fraction(s->host));
	s->state_ns[st] += dt;
	if (s->host->nfree < s->min_free)
		s->min_free = s->host->nfree;

	if (s->now_ns >= s->next_window_ns) {
		for (int i = 0; i < s->nvms; i++)
			mv_vm_close_window(s->vm[i]);
		s->next_window_ns += s->sc->active_window_ns;
	}
	if (s->now_ns >= s->next_sample_ns ||
	    s->now_ns >= s->sc->duration_ns) {
		int rc = take_sample(s);
		if (rc)
			return mv_error_set(err, rc, NULL, 0, "", "out of memory");
		s->next_sample_ns += s->sc->stats_interval_ns;
	}
	if (s->verify)
		return mv_sim_check(s, err);
	return 0;
}

int mv_sim_run(struct mv_sim *s, void (*progress)(double, void *), void *ctx,
	       struct mv_error *err)
{
	double t0 = wall_now();
	uint64_t total = s->sc->duration_ns;
	uint64_t every = total / 100 ? total / 100 : 1, next = every;
	while (s->now_ns < total) {
		int rc = mv_sim_step(s, err);
		if (rc) {
			s->wall_s = wall_now() - t0;
			return rc;
		}
		if (progress && s->now_ns >= next) {
			progress((double)s->now_ns / (double)total, ctx);
			next += every;
		}
	}
	s->wall_s = wall_now() - t0;
	if (progress)
		progress(1.0, ctx);
	return 0;
}
