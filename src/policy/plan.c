/*
 * plan.c - which VM gives back how much memory, and by which mechanism.
 *
 * The free-memory state decides the mechanisms (ESX 4.1, "Understanding
 * Memory Resource Management in VMware ESX 4.1"): high - page sharing only
 * (it runs all the time, outside this function); soft - ballooning; hard -
 * ballooning plus compression and swapping; low - all of that plus no VM
 * may allocate. Independently of the state, a VM above its limit is
 * reclaimed down to it.
 *
 * How much each VM gives is the allocation policy's question. Until the
 * shares / idle-memory-tax policy is built, the amount wanted is split in
 * proportion to what each VM holds above its reservation, so a VM at its
 * reservation gives nothing and the reservation is never breached.
 * Balloons deflate when free memory is well above the high threshold,
 * but never below the size the user asked for (libvirt's currentMemory:
 * on KVM that is the administrator's setting, not the policy's).
 */
#include <string.h>

#include "memvisor/policy.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void mv_policy_plan(const struct mv_policy_host *h, int nvms,
		    const struct mv_policy_vm *vm, struct mv_policy_action *out)
{
	/* aim one margin past the line where the host leaves the state
	 * (high + margin), so that memory the VMs keep touching while the
	 * reclaim is under way does not hold the host just below it */
	uint64_t goal = (uint64_t)((h->t.high + 2 * h->margin) *
				   (double)h->total + 0.5);
	uint64_t need = 0;
	if (h->state != MV_MEMSTATE_HIGH && goal > h->free)
		need = goal - h->free;

	/* what each VM could give above its reservation and limit excess */
	uint64_t weight_sum = 0;
	for (int i = 0; i < nvms; i++) {
		uint64_t floor = vm[i].reservation;
		uint64_t over = vm[i].consumed > vm[i].limit
					? vm[i].consumed - vm[i].limit
					: 0;
		uint64_t held = vm[i].consumed - over;
		weight_sum += held > floor ? held - floor : 0;
	}

	uint64_t surplus = h->free > goal + (uint64_t)(h->margin * (double)h->total)
				   ? h->free - goal
				   : 0;
	uint64_t balloons = 0;
	for (int i = 0; i < nvms; i++)
		balloons += vm[i].balloon_size;

	for (int i = 0; i < nvms; i++) {
		const struct mv_policy_vm *v = &vm[i];
		struct mv_policy_action *a = &out[i];
		memset(a, 0, sizeof *a);
		uint64_t over = v->consumed > v->limit ? v->consumed - v->limit : 0;
		uint64_t held = v->consumed - over;
		uint64_t w = held > v->reservation ? held - v->reservation : 0;
		uint64_t share = weight_sum
			? (uint64_t)((double)need * (double)w / (double)weight_sum + 0.5)
			: 0;
		if (share > w)
			share = w;
		uint64_t want = over + share;
		a->reclaim = want;
		a->balloon_target = v->balloon_size;

		if (v->balloon && (over || h->state >= MV_MEMSTATE_SOFT)) {
			a->balloon_target = min_u64(v->balloon_size + want,
						    v->balloon_max);
		} else if (v->balloon && surplus && balloons &&
			   h->state == MV_MEMSTATE_HIGH) {
			/* memory to spare: let balloons go, in proportion */
			uint64_t give = (uint64_t)((double)surplus *
						   (double)v->balloon_size /
						   (double)balloons);
			a->balloon_target = v->balloon_size - min_u64(give, v->balloon_size);
			/* never below what the user set (currentMemory) */
			if (a->balloon_target < v->balloon_min)
				a->balloon_target = v->balloon_min;
		}
		/* what the balloon will not deliver this period: it moves at
		 * most balloon_step pages, and only balloon_yield of those
		 * hold a frame */
		uint64_t by_balloon = 0;
		if (v->balloon && a->balloon_target > v->balloon_size)
			by_balloon = (uint64_t)(v->balloon_yield *
						(double)min_u64(a->balloon_target -
								v->balloon_size,
								v->balloon_step));
		uint64_t rest = want > by_balloon ? want - by_balloon : 0;
		if (h->state >= MV_MEMSTATE_HARD)
			a->swap_pages = rest;
		else if (over && !v->balloon)
			a->swap_pages = over; /* limit enforcement in any state */
		a->block_alloc = h->state == MV_MEMSTATE_LOW;
	}
}
