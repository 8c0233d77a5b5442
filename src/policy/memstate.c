/*
 * memstate.c - the host's free-memory state (ESX: high, soft, hard, low).
 *
 * ESX 4.1 (VMware, "Understanding Memory Resource Management in VMware
 * vSphere 4.1") sets the high threshold at 6% of host memory and soft, hard
 * and low at 4%, 2% and 1%. A state is entered as soon as free memory drops
 * below its threshold. To leave it free memory must rise above the next
 * better state's threshold plus a margin (default 1% of host memory), so a
 * host hovering at a threshold does not flap between states.
 */
#include "memvisor/policy.h"

static const char *const names[MV_MEMSTATE_COUNT] = {"high", "soft", "hard",
						     "low"};

const char *mv_memstate_name(enum mv_memstate s)
{
	return (unsigned)s < MV_MEMSTATE_COUNT ? names[s] : "?";
}

void mv_memstate_init(struct mv_memstate_machine *m,
		      const struct mv_thresholds *t)
{
	m->t = *t;
	m->margin = 0.01;
	m->state = MV_MEMSTATE_HIGH;
}

/* Threshold below which state s is entered (s > HIGH). */
static double enter_below(const struct mv_thresholds *t, enum mv_memstate s)
{
	switch (s) {
	case MV_MEMSTATE_SOFT: return t->soft;
	case MV_MEMSTATE_HARD: return t->hard;
	case MV_MEMSTATE_LOW: return t->low;
	default: return 2.0;
	}
}

enum mv_memstate mv_memstate_update(struct mv_memstate_machine *m,
				    double free_fraction)
{
	/* go down as far as free memory says */
	enum mv_memstate s = m->state;
	while (s + 1 < MV_MEMSTATE_COUNT &&
	       free_fraction < enter_below(&m->t, (enum mv_memstate)(s + 1)))
		s++;
	/* go up one state at a time, each needing the margin */
	while (s > MV_MEMSTATE_HIGH &&
	       free_fraction >= (s == MV_MEMSTATE_SOFT
					 ? m->t.high
					 : enter_below(&m->t, (enum mv_memstate)(s - 1))) +
					m->margin)
		s--;
	m->state = s;
	return s;
}
