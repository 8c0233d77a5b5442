/*
 * summary.c - the figures both reports print, computed once.
 *
 * Everything is taken from the sampled statistics (sim->samples) and the
 * scenario; the live objects are consulted only when no sample exists, and
 * for the host's usable frame count. The result is a pure function of the
 * run, so it is as deterministic as the run itself.
 */
#include <stdlib.h>
#include <string.h>

#include "report/summary.h"

/* add_vm sums these field by field: a new field needs a line there. */
_Static_assert(sizeof(struct mv_zcache_stats) == 8 * sizeof(uint64_t),
	       "zcache totals out of date");
_Static_assert(sizeof(struct mv_swap_stats) == 8 * sizeof(uint64_t),
	       "swap totals out of date");

/*
 * Build a sample from the live objects (used when the run has none). Any
 * reclamation object may be missing (a simulator that failed half-way
 * through mv_sim_create): its figures are then zero.
 */
int mv_run_snapshot(const struct mv_sim *s, struct mv_sample *out)
{
	memset(out, 0, sizeof *out);
	out->t_ns = s->now_ns;
	out->host_free = mv_sim_free_frames(s);
	out->memstate = s->memstate.state;
	mv_sim_share_stats(s, &out->share);
	if (s->nvms <= 0)
		return 0;
	out->vm = calloc((size_t)s->nvms, sizeof *out->vm);
	if (!out->vm)
		return MV_ENOMEM;
	for (int i = 0; i < s->nvms; i++)
		mv_sim_sample_vm(s, i, &out->vm[i]);
	return 0;
}

static void add_vm(struct mv_sample_vm *t, const struct mv_sample_vm *v)
{
	for (int k = 0; k < MV_PS_COUNT; k++)
		t->state[k] += v->state[k];
	t->granted += v->granted;
	t->consumed += v->consumed;
	t->shared_saved += v->shared_saved;
	t->touched += v->touched;
	t->active_true += v->active_true;
	t->active_est += v->active_est;
	for (int k = 0; k < MV_FAULT_COUNT; k++)
		t->faults[k] += v->faults[k];
	t->stall_ns += v->stall_ns;
	t->xlat_ns += v->xlat_ns;
	t->thp |= v->thp;
	t->lpage_esx |= v->lpage_esx;
	t->thp_huge += v->thp_huge;
	t->thp_fault_alloc += v->thp_fault_alloc;
	t->thp_fault_fallback += v->thp_fault_fallback;
	t->thp_collapse_alloc += v->thp_collapse_alloc;
	t->thp_collapse_alloc_failed += v->thp_collapse_alloc_failed;
	t->thp_split_page += v->thp_split_page;
	t->demanded += v->demanded;
	t->done += v->done;
	t->guest.swap_in += v->guest.swap_in;
	t->guest.swap_out += v->guest.swap_out;
	t->guest.major_fault += v->guest.major_fault;
	t->guest.minor_fault += v->guest.minor_fault;
	t->guest.readahead_pages += v->guest.readahead_pages;
	t->guest.free_pages += v->guest.free_pages;
	t->guest.cache_pages += v->guest.cache_pages;
	t->guest.anon_pages += v->guest.anon_pages;
	t->guest.kernel_pages += v->guest.kernel_pages;
	t->guest.balloon_pages += v->guest.balloon_pages;
	t->guest.available_pages += v->guest.available_pages;
	t->guest.oom_kills += v->guest.oom_kills;
	t->balloon_target += v->balloon_target;
	t->reclaim_wanted += v->reclaim_wanted;
	t->zcache.capacity_frames += v->zcache.capacity_frames;
	t->zcache.frames += v->zcache.frames;
	t->zcache.pages += v->zcache.pages;
	t->zcache.bytes += v->zcache.bytes;
	t->zcache.compressed += v->zcache.compressed;
	t->zcache.decompressed += v->zcache.decompressed;
	t->zcache.rejected += v->zcache.rejected;
	t->zcache.evicted += v->zcache.evicted;
	t->swap.slots += v->swap.slots;
	t->swap.used += v->swap.used;
	t->swap.writes += v->swap.writes;
	t->swap.reads += v->swap.reads;
	t->swap.write_errors += v->swap.write_errors;
	t->swap.read_errors += v->swap.read_errors;
	t->swap.disk_bytes += v->swap.disk_bytes;
	t->swap.fs_bytes += v->swap.fs_bytes;
}

int mv_run_summary_init(struct mv_run_summary *r, const struct mv_sim *s)
{
	memset(r, 0, sizeof *r);
	const struct mv_scenario *sc = s->sc;

	if (s->nsamples > 0 && s->samples) {
		r->final = &s->samples[s->nsamples - 1];
	} else {
		int rc = mv_run_snapshot(s, &r->live);
		if (rc)
			return rc;
		r->final = &r->live;
	}
	r->sim_ns = s->now_ns ? s->now_ns : r->final->t_ns;

	/* Before power-on there is no host yet: the scenario's size less
	 * the zero frame. */
	r->usable_frames = mv_sim_usable_frames(s);
	if (!r->usable_frames && sc && sc->host.mem_bytes >= MV_PAGE_SIZE)
		r->usable_frames = sc->host.mem_bytes / MV_PAGE_SIZE - 1;

	for (int i = 0; sc && i < s->nvms; i++) {
		if (mv_sim_vm_gone(s, i)) {
			r->left++;
			continue;
		}
		struct mv_vm_view v;
		mv_sim_vm_view(s, i, &v);
		r->configured_bytes += v.cfg->mem_bytes;
		r->present++;
	}
	r->total_configured = r->configured_bytes / MV_PAGE_SIZE;
	if (sc && sc->host.mem_bytes)
		r->overcommit = (double)r->configured_bytes /
				(double)sc->host.mem_bytes;

	r->free_final = r->final->host_free;
	/* The simulator tracks the minimum every step; samples may miss it. */
	r->free_min = s->min_free;
	if (s->nsamples > 0 && s->samples) {
		double sum = 0;
		for (int k = 0; k < s->nsamples; k++) {
			sum += (double)s->samples[k].host_free;
			if (s->samples[k].host_free < r->free_min)
				r->free_min = s->samples[k].host_free;
		}
		r->free_avg = sum / s->nsamples;
	} else {
		r->free_avg = (double)r->free_final;
	}
	if (r->free_min > r->free_final)
		r->free_min = r->free_final;

	for (int i = 0; r->final->vm && i < s->nvms; i++)
		add_vm(&r->total, &r->final->vm[i]);
	return 0;
}

void mv_run_summary_free(struct mv_run_summary *r)
{
	free(r->live.vm);
	r->live.vm = NULL;
}
