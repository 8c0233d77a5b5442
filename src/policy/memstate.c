/*
 * memstate.c - the host's free-memory state, in three models.
 *
 * ESX 4.1 ("Understanding Memory Resource Management in VMware ESX 4.1"):
 * the high threshold (Mem.MinFreePct) is 6% of host memory, and soft,
 * hard and low sit at about 4%, 2% and 1% (64%, 32% and 16% of minFree).
 *
 * vSphere 5 made minFree a sliding scale so that big hosts do not keep
 * gigabytes idle (F. Denneman, "Mem.MinFreePct sliding scale function",
 * 2011): 6% of the first 4 GiB, 4% of 4-12 GiB, 2% of 12-28 GiB and 1% of
 * the rest; a 96 GiB host keeps 1597.4 MiB (Denneman rounds to 1597.6),
 * a 128 GiB host about 1925 MiB. high = minFree; soft, hard and low are
 * 64%, 32% and 16% of it.
 *
 * vSphere 6 added a fifth state, clear (D. Epping, "What happens at which
 * vSphere memory state?", 2015): high is now 400% of minFree, clear 100%,
 * soft 64%, hard 32%, low 16%. Between 400% and 100% large pages become
 * candidates for breaking; below 100% (clear) the host breaks them and
 * calls page sharing actively, before any ballooning.
 *
 * A state is entered as soon as free memory drops below its line. To
 * leave it, free memory must rise above the line of the better state plus
 * a margin (a sixth of minFree: 1% of host memory under ESX 4.1's 6%), so
 * a host hovering at a threshold does not flap between states.
 */
#include <string.h>

#include "memvisor/policy.h"

static const char *const names[MV_MEMSTATE_COUNT] = {"high", "clear", "soft",
						     "hard", "low"};

static const char *const model_names[MV_MEMSTATE_MODEL_COUNT] = {
	"esx41", "vsphere5", "vsphere6"};

const char *mv_memstate_name(enum mv_memstate s)
{
	return (unsigned)s < MV_MEMSTATE_COUNT ? names[s] : "?";
}

const char *mv_memstate_model_name(enum mv_memstate_model m)
{
	return (unsigned)m < MV_MEMSTATE_MODEL_COUNT ? model_names[m] : "?";
}

int mv_memstate_model_parse(const char *s, enum mv_memstate_model *out)
{
	for (int i = 0; i < MV_MEMSTATE_MODEL_COUNT; i++)
		if (strcmp(s, model_names[i]) == 0) {
			*out = (enum mv_memstate_model)i;
			return 0;
		}
	return -1;
}

double mv_memstate_min_free(uint64_t host_bytes)
{
	static const struct {
		uint64_t upto; /* GiB: the band ends here */
		double pct;
	} band[] = {{4, 0.06}, {12, 0.04}, {28, 0.02}, {UINT64_MAX, 0.01}};
	double mem = (double)host_bytes, from = 0, sum = 0;
	for (size_t i = 0; i < sizeof band / sizeof band[0] && mem > from;
	     i++) {
		double to = band[i].upto == UINT64_MAX
				    ? mem
				    : (double)band[i].upto * (double)MV_GIB;
		if (to > mem)
			to = mem;
		sum += (to - from) * band[i].pct;
		from = to;
	}
	return sum;
}

void mv_memstate_lines(enum mv_memstate_model model,
		       const struct mv_thresholds *esx41, uint64_t host_bytes,
		       double line[MV_MEMSTATE_COUNT])
{
	memset(line, 0, MV_MEMSTATE_COUNT * sizeof line[0]);
	if (model == MV_MEMSTATE_ESX41) {
		line[MV_MEMSTATE_HIGH] = esx41->high;
		line[MV_MEMSTATE_SOFT] = esx41->soft;
		line[MV_MEMSTATE_HARD] = esx41->hard;
		line[MV_MEMSTATE_LOW] = esx41->low;
		return;
	}
	double mf = host_bytes ? mv_memstate_min_free(host_bytes) /
					 (double)host_bytes
			       : 0;
	line[MV_MEMSTATE_HIGH] = mf;
	if (model == MV_MEMSTATE_VSPHERE6) {
		line[MV_MEMSTATE_HIGH] = 4.0 * mf;
		line[MV_MEMSTATE_CLEAR] = mf;
	}
	line[MV_MEMSTATE_SOFT] = 0.64 * mf;
	line[MV_MEMSTATE_HARD] = 0.32 * mf;
	line[MV_MEMSTATE_LOW] = 0.16 * mf;
}

void mv_memstate_init(struct mv_memstate_machine *m,
		      enum mv_memstate_model model,
		      const struct mv_thresholds *esx41, uint64_t host_bytes)
{
	m->model = model;
	mv_memstate_lines(model, esx41, host_bytes, m->line);
	/* minFree is the high line but under vSphere 6 (400% of it) */
	double min_free = model == MV_MEMSTATE_VSPHERE6
				  ? m->line[MV_MEMSTATE_CLEAR]
				  : m->line[MV_MEMSTATE_HIGH];
	m->margin = min_free / 6.0;
	m->state = MV_MEMSTATE_HIGH;
}

/* The state above s that the model has (clear is skipped without it). */
static enum mv_memstate better(const struct mv_memstate_machine *m,
			       enum mv_memstate s)
{
	int b = (int)s - 1;
	while (b > MV_MEMSTATE_HIGH && !(m->line[b] > 0))
		b--;
	return (enum mv_memstate)b;
}

double mv_memstate_exit_line(const struct mv_memstate_machine *m,
			     enum mv_memstate s)
{
	return m->line[better(m, s)] + m->margin;
}

double mv_memstate_goal(const struct mv_memstate_machine *m)
{
	return mv_memstate_exit_line(m, MV_MEMSTATE_SOFT) + m->margin;
}

enum mv_memstate mv_memstate_update(struct mv_memstate_machine *m,
				    double free_fraction)
{
	/* go down as far as free memory says */
	enum mv_memstate s = m->state;
	for (int w = MV_MEMSTATE_LOW; w > (int)s; w--)
		if (m->line[w] > 0 && free_fraction < m->line[w]) {
			s = (enum mv_memstate)w;
			break;
		}
	/* go up one state at a time, each needing the margin */
	while (s > MV_MEMSTATE_HIGH &&
	       free_fraction >= mv_memstate_exit_line(m, s))
		s = better(m, s);
	m->state = s;
	return s;
}
