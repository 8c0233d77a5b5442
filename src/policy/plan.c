/*
 * plan.c - how much memory each VM should hold, and how to get there.
 *
 * The free-memory state decides the mechanisms (VMware, "Understanding
 * Memory Resource Management in VMware ESX 4.1"): high and clear - page
 * sharing only (it runs all the time, outside this function); soft -
 * ballooning; hard - ballooning plus compression and swapping; low - all
 * of that plus no VM may allocate. Independently of the state, a VM above
 * its limit is reclaimed down to it.
 *
 * How much each VM should hold is ESX's allocation policy (C. A.
 * Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI
 * 2002, section 5): min-funding revocation on the adjusted shares-per-page
 * ratio
 *
 *     rho = S / (P * (f + k * (1 - f))),   k = 1 / (1 - tax)
 *
 * P is the VM's allocation as the paper counts it, its shared pages
 * included ("As a result of sharing, the aggregate allocation to all VMs
 * approaches 1200 MB, exceeding the total amount of machine memory",
 * section 6.3): every guest page backed by a frame, on a shared frame or
 * the zero frame too (vSphere's granted; consumed = granted - shared_saved).
 * Memory is taken from the VM with the smallest rho; as it gives, its P
 * falls and its rho rises, until it meets the next VM's. Done page by
 * page this ends where every VM that gave has the same rho (a water
 * level), every VM that gave nothing a higher one; plan() finds that
 * level by bisection. The memory shared out is what the VMs hold now plus
 * the free memory above the goal, and each VM asks for what it holds plus
 * what its balloon took from it (and gave back but the guest has not
 * touched yet): a VM squeezed by its balloon (a busy one) is then
 * entitled to grow back at the expense of a VM with a lower rho (an idle
 * one), the way ESX moves memory from idle to active VMs.
 *
 * Cost in active-page units: the active pages A = f * P are held fixed
 * while P falls (an idle page costs k, an active one 1), so a VM stripped
 * to its active set pays the plain 1 per page, and at most the fraction
 * `tax` of a VM's idle pages goes to a fully active competitor with the
 * same shares per page, as the paper says of the tax rate. Pages a VM
 * would get back above what it holds count at its own mix f. No VM goes
 * below its reservation. With tax 0 (k = 1) this is pure proportional
 * share: the VMs end at equal P / S.
 *
 * Getting there: in soft and worse, VMs above their target give the
 * difference (balloon, then compression and swapping in hard). In high and
 * clear nothing is taken, but balloons of VMs below their target deflate
 * by what free memory allows down to a margin below the soft line: their
 * guests use the pages, free memory falls, and in soft the VMs above
 * target give. A
 * balloon never deflates below the size the user asked for (libvirt's
 * currentMemory: on KVM that is the administrator's setting).
 */
#include <math.h>
#include <string.h>

#include "memvisor/policy.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

double mv_policy_rho(uint64_t shares, uint64_t pages, double active, double tax)
{
	if (!pages)
		return INFINITY;
	double f = clamp01(active);
	double k = 1.0 / (1.0 - tax);
	return (double)shares / ((double)pages * (f + k * (1.0 - f)));
}

/* One VM in the allocation, in pages. */
struct fund {
	double held;   /* held under its limit */
	double floor;  /* reservation: never below */
	double want;   /* held plus what its balloon took (under its limit) */
	double active; /* A = f * held, fixed while it gives */
	double mix;    /* f + k (1 - f): cost of a page it gets back */
	double shares;
};

static struct fund fund_of(const struct mv_policy_vm *v, double k)
{
	/* P is the VM's allocation as ESX counts it, its pages on shared
	 * frames and on the zero frame included (granted); the limit and the
	 * reservation bound machine memory (consumed), so in P they stand
	 * shared_saved higher */
	uint64_t saved = v->shared_saved;
	uint64_t cap = v->limit + saved;
	uint64_t held = min_u64(v->consumed + saved, cap);
	/* what its balloon took, and what it gave back that the guest has
	 * not used yet: a deflated Linux guest's pages sit free without a
	 * frame until it needs them, and the VM stays entitled to them
	 * meanwhile (not handed to another VM's balloon next period) */
	uint64_t back = 0, ball = v->balloon_size + v->balloon_unbacked;
	if (v->balloon && ball > v->balloon_min)
		back = ball - v->balloon_min;
	double f = clamp01(v->active);
	struct fund r = {
		.held = (double)held,
		.floor = (double)min_u64(v->reservation + saved, held),
		.want = (double)(held + min_u64(back, cap - held)),
		.active = f * (double)held,
		.mix = f + k * (1.0 - f),
		/* no shares: the last to be served, still ordered by cost */
		.shares = v->shares ? (double)v->shares : 1e-6,
	};
	return r;
}

/* Cost of holding the VM's current pages. */
static double cost_held(const struct fund *v, double k)
{
	return v->active + k * (v->held - v->active);
}

/*
 * Pages VM v should hold at cost-per-share level L (L = 1 / rho): the P
 * with cost(P) = L * S, within [floor, want].
 */
static double target_at(const struct fund *v, double k, double L)
{
	double c = L * v->shares, ch = cost_held(v, k), p;
	if (c <= v->active)
		p = c;
	else if (c <= ch)
		p = v->active + (c - v->active) / k;
	else
		p = v->held + (c - ch) / v->mix;
	if (p > v->want)
		p = v->want;
	if (p < v->floor)
		p = v->floor;
	return p;
}

static double total_at(const struct mv_policy_vm *vm, int n, double k, double L)
{
	double sum = 0;
	for (int i = 0; i < n; i++) {
		struct fund f = fund_of(&vm[i], k);
		sum += target_at(&f, k, L);
	}
	return sum;
}

/*
 * The level at which the VMs' targets add up to `pool` pages. total_at()
 * rises with L, from the reservations at L = 0 to what every VM wants at
 * the highest cost per share; bisection between.
 */
static double allocation_level(const struct mv_policy_vm *vm, int n, double k,
			       double pool)
{
	double hi = 0;
	for (int i = 0; i < n; i++) {
		struct fund f = fund_of(&vm[i], k);
		double c = (cost_held(&f, k) + (f.want - f.held) * f.mix) /
			   f.shares;
		if (c > hi)
			hi = c;
	}
	if (total_at(vm, n, k, hi) <= pool)
		return hi;
	double lo = 0;
	for (int it = 0; it < 100; it++) {
		double mid = 0.5 * (lo + hi);
		if (total_at(vm, n, k, mid) <= pool)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void mv_policy_plan(const struct mv_policy_host *h, int nvms,
		    const struct mv_policy_vm *vm, struct mv_policy_action *out)
{
	double tax = h->idle_tax < 0                 ? 0
		     : h->idle_tax > MV_IDLE_TAX_MAX ? MV_IDLE_TAX_MAX
						     : h->idle_tax;
	double k = 1.0 / (1.0 - tax);
	int reclaiming = h->state >= MV_MEMSTATE_SOFT;

	/* the pages to share out: what the VMs hold, plus free memory above
	 * the goal (one margin past the line where the host leaves soft, so
	 * that memory touched while the reclaim is under way does not hold
	 * the host just below it) - or minus what is missing below it */
	double goal = h->goal * (double)h->total;
	double pool = (double)h->free - goal;
	for (int i = 0; i < nvms; i++)
		pool += fund_of(&vm[i], k).held;
	if (pool < 0)
		pool = 0;
	double level = allocation_level(vm, nvms, k, pool);

	/* free memory the balloons may hand back in high and clear: down to
	 * one margin below the soft line, so that a VM entitled to more
	 * pushes the host into soft, where the VMs above their target give
	 * (the memory pressure that makes ESX revoke from the lowest rho) */
	double room = (double)h->free -
		      (h->soft - h->margin) * (double)h->total;
	double growth = 0;
	for (int i = 0; i < nvms; i++) {
		struct fund f = fund_of(&vm[i], k);
		double t = target_at(&f, k, level);
		if (vm[i].balloon && t > f.held)
			growth += t - f.held;
	}

	for (int i = 0; i < nvms; i++) {
		const struct mv_policy_vm *v = &vm[i];
		struct mv_policy_action *a = &out[i];
		memset(a, 0, sizeof *a);
		uint64_t over = v->consumed > v->limit ? v->consumed - v->limit
						       : 0;
		/* cgroup v2: memory.high is reclaim pressure too, and the
		 * kernel's reclaim, not the balloon, takes either back */
		uint64_t cg = 0;
		if (v->cgroup) {
			if (v->high && v->consumed > v->high &&
			    v->consumed - v->high > over)
				over = v->consumed - v->high;
			cg = over;
			over = 0;
		}
		struct fund f = fund_of(v, k);
		a->rho = mv_policy_rho(v->shares, (uint64_t)f.held, v->active,
				       tax);
		double t = target_at(&f, k, level);
		uint64_t share = 0;
		if (reclaiming && t < f.held)
			share = (uint64_t)(f.held - t + 0.5);
		uint64_t want = over + share;
		a->reclaim = want + cg;
		a->balloon_target = v->balloon_size;

		if (v->balloon && want) {
			a->balloon_target = min_u64(v->balloon_size + want,
						    v->balloon_max);
		} else if (v->balloon && !reclaiming && t > f.held + 0.5 &&
			   room > 0) {
			/* below its target: let its balloon go, by its part
			 * of the room free memory leaves */
			double part = t - f.held;
			if (growth > room)
				part *= room / growth;
			uint64_t give = min_u64((uint64_t)(part + 0.5),
						v->balloon_size);
			a->balloon_target = v->balloon_size - give;
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
						(double)min_u64(
							a->balloon_target -
								v->balloon_size,
							v->balloon_step));
		uint64_t rest = want > by_balloon ? want - by_balloon : 0;
		if (h->state >= MV_MEMSTATE_HARD)
			a->swap_pages = rest;
		else if (over && !v->balloon)
			a->swap_pages =
				over; /* limit enforcement in any state */
		a->swap_pages += cg;
		a->block_alloc = h->state == MV_MEMSTATE_LOW;
	}
}
