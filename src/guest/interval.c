/*
 * interval.c - the interval access model (docs/engine.md, "The interval
 * access model").
 *
 * The exact model makes every access of every workload, one by one. Here
 * every page v of a workload's process is accessed as a Poisson process of
 * rate lambda(v) = rate x q(rank(v)), q the workload's rank distribution
 * (uniform or Zipf, as pick() in workload.c draws it; the rank of a page
 * is the inverse of gwork_scatter's permutation), a fraction write-ratio
 * of them writes. The OS's touches of its image (os-rate, Zipf over the
 * image) are one more such process. Only accesses that cost something
 * become events:
 *
 *   - the first access of a page of a (new) set: Exp(lambda) from the
 *     start of the process or of the phase;
 *   - the next access of a page in guest swap, or dropped from the page
 *     cache: Exp(lambda) from the swap-out;
 *   - the next access of a page the hypervisor swapped or compressed:
 *     Exp(lambda) from the page-out; the next write of a page it shared
 *     or mapped to the zero frame: Exp(lambda x write-ratio). The vm
 *     layer's on_invalidate hook tells of those changes.
 *
 * Poisson processes are memoryless, so drawing the next access when a
 * page enters such a state gives the exact distribution of that access.
 * Events are 32-bit entries (workload:4 | vpn:28; workload 15 is the OS,
 * vpn its image page) in a timing wheel of one bucket per step, 4096
 * buckets, and an overflow list moved into the wheel as it wraps
 * (Varghese and Lauck, SOSP 1987). An event fires through the exact
 * model's own touch (guest_touch, guest_os_touch): faults, real bytes,
 * the same writes. An event whose page no longer needs anything when it
 * fires (it was paged in by another path, released, its process exited)
 * is dropped.
 *
 * A step: the workloads do what is not an access (populate, leak, phase
 * moves, usage growth) as in the exact model; the events due in the step
 * get a place in it (a hash of the entry and the step); those placed
 * within the fraction of the step the vCPU ran fire in that order, the
 * rest move to the next step. An event that cannot get memory ends the
 * step for the guest: it waits out the rest (alloc_wait), and the events
 * left move on. Demanded accesses grow by rate x dt; done by the fraction
 * run before any wait.
 *
 * Resident private pages get no events. Whoever observes them draws:
 * the active sampler (src/vm/sample.c, through vm->rate_of), the guest's
 * reclaim clock (giv_referenced), page sharing and reclamation before
 * they read a page's bytes (vm->on_observe: a write since the page's last
 * observation, kept in stamp[page] (2 s units, mv_stamp_s), is made
 * then, through guest_touch), and the true active set (pages seen
 * accessed, plus the expected number of the others, giv_active_pages).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "guest/guest.h"

#define NBUCKETS 4096 /* the first level: one step a bucket */
#define NLAPS 4096    /* the second: one lap of the first a bucket */
#define OS_WORK 15u
#define VPN_BITS 28
#define VPN_MASK ((1u << VPN_BITS) - 1)

struct bucket {
	uint32_t *e;
	size_t n, cap;
};

struct lap_bucket {
	uint64_t *e; /* step << 32 | entry */
	size_t n, cap;
};

struct fire {
	double u; /* place in the step, 0..1 */
	uint32_t e;
};

struct giv_work {
	uint64_t inv; /* inverse of the workload's perm modulo its set size */
	double h;     /* Zipf: sum of k^-s for k = 1..ws; 0: uniform */
	int started;
	uint64_t phase; /* phased: the set events were drawn for */
};

/* A workload's rates as the active-set sums last saw them: when they
 * change, its pages' contributions are computed again. */
struct giv_key {
	int running;
	uint64_t phase, ws;
	double rate, t; /* t: the window's time it ran (Zipf sets only) */
};

/*
 * The true active set's sums (giv_active_pages), kept as pages change.
 * Per guest page, act[p] is what the page adds to the expectation over
 * resident pages with a rate: 0 (not resident, or no rate); ACT_UNIFORM
 * | w for a page of a uniform set w (every such page has the same
 * probability: counted in nuni[w], times that probability when asked);
 * else the probability 1 - exp(-lambda T) in units of 2^-31 (Zipf sets
 * and the OS image), summed in zsum. A page whose state, use or owner
 * changed is marked (dirty bit, dirty list) and computed again when the
 * set is next asked for (by the list; when more were marked than it
 * holds, by the bits).
 */
#define ACT_UNIFORM 0x80000000u
#define ACT_SCALE 2147483648.0 /* 2^31 */
struct giv_act {
	uint32_t *act;   /* per guest page */
	uint64_t *dirty; /* bit per guest page: in list[] */
	uint32_t *list;  /* the marked pages */
	uint64_t nlist, cap_list;
	int overflow;  /* a page went unlisted: recompute every page */
	int built;     /* the sums hold (else recompute every page) */
	uint64_t zsum; /* sum of the Zipf and OS pages' act */
	uint64_t nuni[MV_MAX_WORKLOADS];
	struct giv_key key[MV_MAX_WORKLOADS];
	double os_t; /* the window the OS pages' act was drawn for */
};

struct giv {
	uint64_t step_ns;
	double dt_s;
	struct bucket b[NBUCKETS];
	struct lap_bucket lap[NLAPS];
	uint64_t *over; /* step << 32 | entry, past the second level */
	size_t nover, cap_over;
	uint64_t end;   /* the step the run ends at: later events never fire */
	uint64_t cur;   /* the next step to drain */
	uint64_t floor; /* the first step an event may be put in */
	double now_s;   /* simulated time of what happens now */
	struct mv_rng rng;
	struct giv_work w[MV_MAX_WORKLOADS];
	double os_h;
	struct fire *fire;
	size_t nfire, cap_fire;
	struct giv_act a;
	/* per guest page, the time the page's bytes were last known (it
	 * became private, or was observed): 2 s units, mv_stamp_s */
	uint16_t *stamp;
};

/* ---- rates --------------------------------------------------------------- */

static double zipf_norm(uint64_t n, double s)
{
	double h = 0;
	for (uint64_t k = n; k >= 1; k--) /* small terms first */
		h += pow((double)k, -s);
	return h;
}

/* x with x * m = 1 modulo n (m and n coprime). */
static uint64_t inverse_mod(uint64_t m, uint64_t n)
{
	if (n <= 1)
		return 0;
	int64_t t = 0, nt = 1;
	int64_t r = (int64_t)n, nr = (int64_t)(m % n);
	while (nr) {
		int64_t q = r / nr, x;
		x = t - q * nt;
		t = nt;
		nt = x;
		x = r - q * nr;
		r = nr;
		nr = x;
	}
	return (uint64_t)(t < 0 ? t + (int64_t)n : t);
}

/* Accesses per second of OS image page idx. */
static double os_rate(const struct mv_guest *g, uint64_t idx)
{
	if (!g->os_pages || idx >= g->os_pages || g->cfg.os_rate <= 0)
		return 0;
	return g->cfg.os_rate * pow((double)(idx + 1), -0.99) / g->iv->os_h;
}

/* The first page of a phased set now (0 without phases). */
static uint64_t phase_base(const struct gwork *w)
{
	if (w->cfg.kind != MV_WL_PHASED || w->phase == UINT64_MAX)
		return 0;
	return (w->phase * w->ws) % w->region;
}

/* Accesses per second of page vpn of workload wi's process now. */
static double wl_rate(const struct mv_guest *g, unsigned wi, uint64_t vpn)
{
	const struct gwork *w = &g->work[wi];
	const struct giv_work *x = &g->iv->w[wi];
	if (!gwork_running(w, g->now_ns) || !(w->cfg.rate > 0))
		return 0;
	if (w->cfg.kind == MV_WL_USAGE)
		return vpn < w->uset ? w->cfg.rate / (double)w->uset : 0;
	uint64_t o = vpn;
	if (w->cfg.kind == MV_WL_PHASED)
		o = (vpn + w->region - phase_base(w)) % w->region;
	if (o >= w->ws)
		return 0; /* leaked pages, pages outside the phase */
	if (!x->h)
		return w->cfg.rate / (double)w->ws;
	uint64_t r = (o * x->inv) % w->ws;
	return w->cfg.rate * pow((double)(r + 1), -w->cfg.zipf_s) / x->h;
}

/* Access and write rates of guest page p, by what the guest uses it for. */
static double page_rate(const struct mv_guest *g, mv_gppn_t p, double *wr)
{
	enum gkind k = gpage_kind(g, p);
	*wr = 0;
	if (k == GK_CACHE)
		return os_rate(g, gpage_index(g, p));
	if (k != GK_ANON)
		return 0;
	const struct gwork *w = &g->work[gpage_owner(g, p)];
	double lam = wl_rate(g, gpage_owner(g, p), gpage_index(g, p));
	*wr = lam * w->cfg.write_ratio;
	return lam;
}

/* ---- the wheel ----------------------------------------------------------- */

/* Out of memory mid-step: there is no way back. */
static void room(void *pp, size_t *cap, size_t n, size_t size, size_t first)
{
	if (mv_array_room(pp, cap, n, size, first))
		abort();
}

static void bucket_add(struct bucket *b, uint32_t e)
{
	room(&b->e, &b->cap, b->n, sizeof *b->e, 16);
	b->e[b->n++] = e;
}

/*
 * A drained bucket that grew past TRIM_CAP entries gives its array back:
 * a bucket's peak (the first-touch storm of a boot) would otherwise stay
 * allocated in all 4096 + 4096 buckets for the rest of the run. It grows
 * again by doubling when it fills.
 */
#define TRIM_CAP 64

static void lap_add(struct lap_bucket *b, uint64_t v)
{
	room(&b->e, &b->cap, b->n, sizeof *b->e, 16);
	b->e[b->n++] = v;
}

/*
 * File entry e for step: in the first level when it falls within the
 * next NBUCKETS steps, else in the second (one bucket per lap of the
 * first, NLAPS laps ahead), else in the overflow list. An event after
 * the run's end is dropped: it would never fire (its draw was made all
 * the same, so what does fire is unchanged).
 */
static void push(struct giv *iv, uint64_t step, uint32_t e)
{
	if (step < iv->floor)
		step = iv->floor;
	if (step >= iv->end)
		return;
	if (step - iv->cur < NBUCKETS) {
		bucket_add(&iv->b[step % NBUCKETS], e);
		return;
	}
	if (step >= UINT32_MAX)
		return; /* past any run: never */
	uint64_t v = step << 32 | e;
	if (step / NBUCKETS - iv->cur / NBUCKETS < NLAPS) {
		lap_add(&iv->lap[step / NBUCKETS % NLAPS], v);
		return;
	}
	room(&iv->over, &iv->cap_over, iv->nover, sizeof *iv->over, 256);
	iv->over[iv->nover++] = v;
}

/*
 * The first level turned to a new lap at iv->cur: bring in the lap's
 * bucket of the second level, whose events all fall in this lap (Varghese
 * and Lauck's hierarchical wheel), in the order they were filed; at a turn
 * of the second level, the overflow list first. O(events moved), where
 * one list of every far event would be read at every lap.
 */
static void refill(struct giv *iv)
{
	uint64_t lap = iv->cur / NBUCKETS;
	if (lap % NLAPS == 0 && iv->nover) {
		size_t k = 0;
		for (size_t i = 0; i < iv->nover; i++) {
			uint64_t step = iv->over[i] >> 32;
			if (step / NBUCKETS - lap < NLAPS)
				lap_add(&iv->lap[step / NBUCKETS % NLAPS],
					iv->over[i]);
			else
				iv->over[k++] = iv->over[i];
		}
		iv->nover = k;
	}
	struct lap_bucket *b = &iv->lap[lap % NLAPS];
	for (size_t i = 0; i < b->n; i++)
		bucket_add(&iv->b[(b->e[i] >> 32) % NBUCKETS],
			   (uint32_t)b->e[i]);
	b->n = 0;
	mv_array_trim(&b->e, &b->cap, b->n, TRIM_CAP);
}

/* Draw the next event of entry e at rate lam from from_s. */
static void schedule(struct giv *iv, uint32_t e, double lam, double from_s)
{
	if (!(lam > 0))
		return;
	double t = from_s - log1p(-mv_rng_double(&iv->rng)) / lam;
	double step = t / iv->dt_s;
	if (step < 4e9)
		push(iv, (uint64_t)step, e);
}

static uint32_t entry(unsigned wi, uint64_t vpn)
{
	return (uint32_t)wi << VPN_BITS | (uint32_t)vpn;
}

static double unit_hash(uint64_t a, uint64_t b)
{
	uint64_t h = mv_mix64(mv_mix64(a) ^ (b * 0x9e3779b97f4a7c15ull));
	return (double)(h >> 11) * 0x1.0p-53;
}

/* ---- hooks the vm layer calls -------------------------------------------- */

static void on_invalidate(void *ctx, struct mv_vm *vm, mv_gppn_t p)
{
	struct mv_guest *g = ctx;
	struct giv *iv = g->iv;
	struct mv_pme *e = &vm->pmap[p];
	enum gkind k = gpage_kind(g, p);
	giv_page_changed(g, p);
	switch (e->state) {
	case MV_PS_PRIVATE:
		mv_stamp_set(&iv->stamp[p],
			     (uint64_t)iv->now_s); /* bytes now */
		return;
	case MV_PS_SWAPPED:
	case MV_PS_COMPRESSED:
		if (k == GK_CACHE)
			schedule(iv, entry(OS_WORK, gpage_index(g, p)),
				 os_rate(g, gpage_index(g, p)), iv->now_s);
		else if (k == GK_ANON)
			schedule(iv,
				 entry(gpage_owner(g, p), gpage_index(g, p)),
				 wl_rate(g, gpage_owner(g, p),
					 gpage_index(g, p)),
				 iv->now_s);
		return;
	case MV_PS_SHARED:
	case MV_PS_ZERO:
		if (k == GK_ANON) { /* the cache is only read */
			double wr;
			page_rate(g, p, &wr);
			schedule(iv,
				 entry(gpage_owner(g, p), gpage_index(g, p)),
				 wr, iv->now_s);
		}
		return;
	default:
		return;
	}
}

/* The sampler's view: a workload it does not see (sampled="no") touches
 * none of its sampled pages. */
static double rate_of(void *ctx, const struct mv_vm *vm, mv_gppn_t p,
		      double *wr)
{
	(void)vm;
	const struct mv_guest *g = ctx;
	if (gpage_kind(g, p) == GK_ANON &&
	    !g->work[gpage_owner(g, p)].cfg.sampled) {
		*wr = 0;
		return 0;
	}
	return page_rate(g, p, wr);
}

/* An access made on the model's behalf: the exact model's. */
static int model_touch(struct mv_guest *g, unsigned wi, uint64_t vpn, int write)
{
	return guest_touch(g, &g->work[wi], vpn, write, 0);
}

/* Writes applied at most at one observation: 4 per 8-byte word of the
 * page, so nearly every word was written at least once. */
#define WRITES_MAX 2048

/* A Poisson variate of mean m: by inversion (m small), else normal. */
static uint64_t poisson(struct mv_rng *r, double m)
{
	if (!(m > 0))
		return 0;
	if (m > 64) {
		double u1 = mv_rng_double(r), u2 = mv_rng_double(r);
		double z = sqrt(-2 * log1p(-u1)) * cos(6.283185307179586 * u2);
		double k = floor(m + sqrt(m) * z + 0.5);
		return k > 0 ? (uint64_t)k : 0;
	}
	double u = mv_rng_double(r), pk = exp(-m), cdf = pk;
	uint64_t k = 0;
	while (u > cdf && k < 1000) {
		k++;
		pk *= m / (double)k;
		cdf += pk;
	}
	return k;
}

static void on_observe(void *ctx, struct mv_vm *vm, mv_gppn_t p)
{
	struct mv_guest *g = ctx;
	struct mv_pme *e = &vm->pmap[p];
	if (e->state != MV_PS_PRIVATE || gpage_kind(g, p) != GK_ANON)
		return;
	uint64_t now = (uint64_t)g->iv->now_s;
	uint16_t *st = &g->iv->stamp[p];
	double d = (double)now - (double)mv_stamp_s(*st, now);
	mv_stamp_set(st, now);
	if (!(d > 0))
		return; /* observed already this second: no rate needed */
	double wr;
	page_rate(g, p, &wr);
	if (!(wr > 0))
		return;
	/* the writes a Poisson process of rate wr made in d, each a word at
	 * a random offset as in the exact model: a hot page written many
	 * times since ends up as random (and as incompressible) as there;
	 * past WRITES_MAX the page is that already */
	struct mv_rng r;
	mv_rng_seed(&r, mv_mix64(p ^ ((uint64_t)vm->id << 40)) ^
				mv_mix64(now + 0x0b5eull));
	uint64_t k = poisson(&r, wr * d);
	if (k > WRITES_MAX)
		k = WRITES_MAX;
	unsigned wi = gpage_owner(g, p);
	uint64_t vpn = gpage_index(g, p);
	for (uint64_t i = 0; i < k;) {
		int rc = model_touch(g, wi, vpn, 1);
		i++;
		if (rc == 0 && i < k)
			i += guest_write_again(g, &g->work[wi], vpn, k - i);
	}
}

/*
 * Before on_observe or rate_of of each of pages p[0..n): the page's kind,
 * owner and index, and the page-table entry a private anonymous page's
 * first write will read (touch), random addresses, read here together so
 * that their misses overlap. Nothing read is kept.
 */
static void look_ahead(void *ctx, const struct mv_vm *vm, const mv_gppn_t *p,
		       unsigned n)
{
	const struct mv_guest *g = ctx;
	uint32_t sink = 0;
	for (unsigned k = 0; k < n; k++) {
		uint32_t x = gpage_index(g, p[k]);
		sink += x;
		if (gpage_kind(g, p[k]) != GK_ANON ||
		    vm->pmap[p[k]].state != MV_PS_PRIVATE)
			continue;
		const struct gwork *w = &g->work[gpage_owner(g, p[k])];
		sink += g->proc[w->proc].pte[x];
	}
	mv_keep_loads(sink);
}

/* The vm's hooks into guest g. */
static void hook(struct mv_vm *vm, struct mv_guest *g)
{
	vm->on_invalidate = on_invalidate;
	vm->invalidate_ctx = g;
	vm->rate_of = rate_of;
	vm->on_observe = on_observe;
	vm->look_ahead = look_ahead;
	vm->rate_ctx = g;
}

/* ---- events ---------------------------------------------------------------
 */

/* Fire entry e: 0, or MV_EAGAIN when the guest could not get memory. */
static int fire(struct mv_guest *g, uint32_t e)
{
	unsigned wi = e >> VPN_BITS;
	uint64_t x = e & VPN_MASK;
	const struct mv_pme *pmap = g->vm->pmap;
	if (wi == OS_WORK) {
		if (!os_rate(g, x))
			return 0;
		uint32_t c = g->cache[x];
		if (c && pmap[c - 1].state != MV_PS_SWAPPED &&
		    pmap[c - 1].state != MV_PS_COMPRESSED)
			return 0; /* resident: nothing to do */
		return guest_os_touch(g, x, x);
	}
	if ((int)wi >= g->nwork || !wl_rate(g, wi, x))
		return 0;
	const struct gwork *w = &g->work[wi];
	uint32_t pte = g->proc[wi].pte[x];
	int write = mv_rng_double(&g->iv->rng) < w->cfg.write_ratio;
	if (pte && !(pte & PTE_SWAP)) {
		unsigned st = pmap[pte - 1].state;
		/* untouched: a page that crossed a live migration as zeros
		 * (giv_retake); it needs a write as a zero page does */
		if (st == MV_PS_SHARED || st == MV_PS_ZERO ||
		    st == MV_PS_UNTOUCHED)
			write = 1;
		else if (st != MV_PS_SWAPPED && st != MV_PS_COMPRESSED)
			return 0; /* stale */
	}
	return model_touch(g, wi, x, write);
}

/* First-access events for the pages of workload wi's set that its
 * process has not touched: at its start, and at each phase. */
static void schedule_set(struct mv_guest *g, unsigned wi)
{
	struct giv *iv = g->iv;
	struct gwork *w = &g->work[wi];
	struct giv_work *x = &iv->w[wi];
	if (!gwork_running(w, g->now_ns) || w->exited)
		return;
	enum mv_wl_kind k = w->cfg.kind;
	if (k != MV_WL_STEADY && k != MV_WL_LEAK && k != MV_WL_PHASED)
		return; /* idle populates, usage grows by writing */
	if (x->started && (k != MV_WL_PHASED || x->phase == w->phase))
		return;
	x->started = 1;
	x->phase = w->phase;
	uint64_t base = phase_base(w);
	const uint32_t *pte = g->proc[wi].pte;
	for (uint64_t i = 0; i < w->ws; i++) {
		uint64_t v = k == MV_WL_PHASED ? (base + i) % w->region : i;
		if (!pte[v])
			schedule(iv, entry(wi, v), wl_rate(g, wi, v),
				 iv->now_s);
	}
}

static int fire_less(const struct fire *x, const struct fire *y)
{
	return x->u < y->u || (x->u == y->u && x->e < y->e);
}

/* Sort a step's events by place, then entry: a total order, so the
 * same result as qsort with its comparison, without a call per
 * comparison (qsort's was 5% of a large run). Quicksort on the middle
 * element, the smaller side first by recursion, insertion below 16. */
static void fire_sort(struct fire *a, size_t n)
{
	while (n > 16) {
		struct fire p = a[n / 2];
		size_t i = 0, j = n - 1;
		for (;;) {
			while (fire_less(&a[i], &p))
				i++;
			while (fire_less(&p, &a[j]))
				j--;
			if (i >= j)
				break;
			struct fire t = a[i];
			a[i++] = a[j];
			a[j--] = t;
		}
		/* a[0..j] <= p <= a[j+1..n-1] */
		size_t left = j + 1;
		if (left < n - left) {
			fire_sort(a, left);
			a += left;
			n -= left;
		} else {
			fire_sort(a + left, n - left);
			n = left;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct fire t = a[i];
		size_t j = i;
		for (; j > 0 && fire_less(&t, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

static void fire_add(struct giv *iv, double u, uint32_t e)
{
	room(&iv->fire, &iv->cap_fire, iv->nfire, sizeof *iv->fire, 256);
	iv->fire[iv->nfire++] = (struct fire){u, e};
}

/* The rate entry e's event is drawn at: the page's accesses, or its
 * writes while it is shared or a zero page. */
static double entry_rate(const struct mv_guest *g, uint32_t e)
{
	unsigned wi = e >> VPN_BITS;
	uint64_t x = e & VPN_MASK;
	if (wi == OS_WORK)
		return os_rate(g, x);
	if ((int)wi >= g->nwork)
		return 0;
	double lam = wl_rate(g, wi, x);
	uint32_t pte = g->proc[wi].pte[x];
	if (pte && !(pte & PTE_SWAP)) {
		unsigned st = g->vm->pmap[pte - 1].state;
		if (st == MV_PS_SHARED || st == MV_PS_ZERO)
			lam *= g->work[wi].cfg.write_ratio;
	}
	return lam;
}

/*
 * Events due while the vCPU did not run: the page's accesses pause with
 * the program and resume with it, and a Poisson process has no memory, so
 * the next access is drawn again from when the vCPU runs next (start_s).
 * One that falls within the fraction f of step c fires in it.
 */
static void redraw(struct mv_guest *g, uint32_t e, double start_s, uint64_t c,
		   double f, int may_fire)
{
	struct giv *iv = g->iv;
	double lam = entry_rate(g, e);
	if (!(lam > 0))
		return; /* stale */
	double t = start_s - log1p(-mv_rng_double(&iv->rng)) / lam;
	double u = t / iv->dt_s - (double)c;
	if (!may_fire) {
		if (t / iv->dt_s < 4e9)
			push(iv, (uint64_t)(t / iv->dt_s), e);
		return;
	}
	if (u < f) {
		fire_add(iv, u > 0 ? u : 0, e);
		return;
	}
	/* past the run: again from the next step's start */
	double next = (double)(c + 1) * iv->dt_s;
	t = next - log1p(-mv_rng_double(&iv->rng)) / lam;
	if (t / iv->dt_s < 4e9)
		push(iv, (uint64_t)(t / iv->dt_s), e);
}

/* Take the events due up to step c out of the wheel: those of step c at
 * their place in it, fired when it is within the fraction f the vCPU
 * ran; the others (of steps the vCPU did not run, or past f) drawn
 * again. */
static void collect(struct mv_guest *g, uint64_t c, double f)
{
	struct giv *iv = g->iv;
	iv->nfire = 0;
	while (iv->cur <= c) {
		struct bucket *b = &iv->b[iv->cur % NBUCKETS];
		uint64_t step = iv->cur;
		size_t n = b->n;
		b->n = 0;
		iv->cur++;
		iv->floor = iv->cur;
		for (size_t i = 0; i < n; i++) {
			uint32_t e = b->e[i];
			double u = unit_hash(e, c);
			if (step == c && u < f)
				fire_add(iv, u, e);
			else
				redraw(g, e,
				       (double)(step == c ? c + 1 : c) *
					       iv->dt_s,
				       c, f, step < c);
		}
		mv_array_trim(&b->e, &b->cap, b->n, TRIM_CAP);
		if (iv->cur % NBUCKETS == 0)
			refill(iv);
	}
	fire_sort(iv->fire, iv->nfire);
}

/* Events whose reads are made together, ahead of firing them. */
#define FIRE_BATCH 16

/* The slot (page-table entry or cache index) event e's fire() reads
 * first, or NULL when it reads none. */
static const uint32_t *fire_slot(const struct mv_guest *g, uint32_t e)
{
	unsigned wi = e >> VPN_BITS;
	uint64_t x = e & VPN_MASK;
	if (wi == OS_WORK)
		return x < g->os_pages ? &g->cache[x] : NULL;
	if ((int)wi >= g->nwork || x >= g->proc[wi].nvpages)
		return NULL;
	return &g->proc[wi].pte[x];
}

/*
 * Read, ahead of firing them, what events i to i + n - 1 of the step
 * will read: their slots, then the pmap entries those name. Events are
 * in random pages, and these misses were most of a step's time. They
 * used to be software prefetches 8 and 16 events ahead, but a prefetch
 * that misses the TLB (nearly all of them, in arrays of hundreds of
 * MiB) waited for its page walk where it stood, so the walks, one an
 * event, did not overlap. Here the loads of a batch are independent
 * and a few instructions apart: their walks and misses overlap. The
 * values read are thrown away (fire() reads again what earlier events
 * of the batch may have changed); nothing that fires depends on them.
 */
static void warm_fire(const struct mv_guest *g, size_t i, size_t n)
{
	const struct giv *iv = g->iv;
	if (n > iv->nfire - i)
		n = iv->nfire - i;
	uint32_t v[FIRE_BATCH];
	for (size_t k = 0; k < n; k++) {
		const uint32_t *slot = fire_slot(g, iv->fire[i + k].e);
		v[k] = slot ? *slot : 0;
	}
	uint32_t sink = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned wi = iv->fire[i + k].e >> VPN_BITS;
		if (v[k] && !(wi != OS_WORK && (v[k] & PTE_SWAP)) &&
		    v[k] - 1 < g->npages)
			sink += g->vm->pmap[v[k] - 1].state;
	}
	mv_keep_loads(sink);
}

void giv_step(struct mv_guest *g, uint64_t now_ns, double dt_s, double progress,
	      uint64_t os_want)
{
	struct giv *iv = g->iv;
	uint64_t c = now_ns / iv->step_ns;
	iv->now_s = (double)now_ns / 1e9;
	iv->floor = c > iv->cur ? c : iv->cur;
	for (int i = 0; i < g->nwork; i++) {
		g->work[i].step_n = 0;
		guest_run_work(g, &g->work[i], now_ns, dt_s, progress);
		schedule_set(g, (unsigned)i);
	}
	collect(g, c, progress);
	/*
	 * As in the exact model, an access that cannot get memory ends its
	 * own workload's slice (the rest is waited out, alloc_wait) and the
	 * OS's ends the OS's without a wait; the others go on. stop[i]: the
	 * place in the step where workload i (OS_WORK: the OS) stopped.
	 */
	double stop[OS_WORK + 1];
	for (unsigned i = 0; i <= OS_WORK; i++)
		stop[i] = progress;
	for (size_t i = 0; i < iv->nfire; i++) {
		if (i % FIRE_BATCH == 0)
			warm_fire(g, i, FIRE_BATCH);
		double u = iv->fire[i].u;
		uint32_t e = iv->fire[i].e;
		unsigned wi = e >> VPN_BITS;
		double next = (double)(c + 1) * iv->dt_s;
		if (u >= stop[wi]) {
			/* its program waits: the page's accesses resume
			 * with it, drawn again (the exact model's lost
			 * accesses are not made later either) */
			redraw(g, e, next, c, progress, 0);
			continue;
		}
		iv->now_s = ((double)c + u) * iv->dt_s;
		if (fire(g, e) == 0)
			continue;
		redraw(g, e, next, c, progress, 0);
		stop[wi] = u;
		if (wi == OS_WORK)
			continue;
		uint64_t ns = (uint64_t)((progress - u) * (double)iv->step_ns);
		if (ns > g->wait_left_ns)
			ns = g->wait_left_ns;
		g->wait_left_ns -= ns;
		mv_vm_charge_wait(g->vm, ns);
	}
	double made = (double)os_want * stop[OS_WORK];
	for (int i = 0; i < g->nwork; i++) {
		double ran = progress > 0 ? stop[i] / progress : 0;
		g->work[i].done += (uint64_t)((double)g->work[i].step_n * ran +
					      0.5);
		made += (double)g->work[i].step_n * ran;
	}
	g->os_done += (uint64_t)((double)os_want * stop[OS_WORK] + 0.5);
	/* the accesses made without events still cost their NUMA latency */
	mv_vm_numa_accesses(g->vm, made - (double)iv->nfire);
	iv->now_s = (double)(c + 1) * iv->dt_s;
}

void giv_swapped_out(struct mv_guest *g, uint32_t owner, uint64_t vpn)
{
	schedule(g->iv, entry(owner, vpn), wl_rate(g, owner, vpn),
		 g->iv->now_s);
}

void giv_cache_dropped(struct mv_guest *g, uint64_t idx)
{
	schedule(g->iv, entry(OS_WORK, idx), os_rate(g, idx), g->iv->now_s);
}

uint32_t giv_now_ms(const struct mv_guest *g)
{
	return (uint32_t)(g->iv->now_s * 1e3);
}

/* Touched since the hand last passed p (or p joined the clock)? A draw
 * with the page's rate over that time (the guest's clock keeps it). */
int giv_referenced(struct mv_guest *g, uint32_t p, int k, uint32_t passed_ms)
{
	uint32_t now = giv_now_ms(g);
	double d = (double)(now - passed_ms) / 1e3;
	double wr, lam = page_rate(g, p, &wr);
	if (!(lam > 0) || !(d > 0))
		return 0;
	return unit_hash(p ^ ((uint64_t)k << 40), now) < -expm1(-lam * d);
}

/* ---- the true active set --------------------------------------------------
 */

/*
 * The true active set of the window_s seconds up to now_ns: a page
 * accessed in the window through any path (an event, a fault, the boot,
 * a growing set, the guest's own reads) counts 1, as in the exact model;
 * a resident page not seen counts the probability that its process
 * touched it, 1 - exp(-lambda x T), T the window or the time the process
 * ran in it. A page not resident and not seen was not accessed (the
 * access would have faulted). Called before the window's bits are
 * cleared. This is the reference, O(pages); giv_active_pages keeps the
 * same sum as pages change.
 */
double giv_active_pages_walk(const struct mv_guest *g, uint64_t now_ns,
			     double window_s)
{
	const struct mv_pme *pmap = g->vm->pmap;
	double sum = 0;
	for (uint64_t p = 0; p < g->npages; p++) {
		const struct mv_pme *e = &pmap[p];
		if (e->flags & MV_PME_ACCESSED) {
			sum += 1;
			continue;
		}
		if (e->state != MV_PS_PRIVATE && e->state != MV_PS_SHARED &&
		    e->state != MV_PS_ZERO)
			continue;
		double wr, lam = page_rate(g, p, &wr);
		if (!(lam > 0))
			continue;
		double t = window_s;
		if (gpage_kind(g, p) == GK_ANON) {
			const struct gwork *w = &g->work[gpage_owner(g, p)];
			double ran = (double)(now_ns - w->cfg.start_ns) / 1e9;
			if (ran < t)
				t = ran;
		}
		sum += -expm1(-lam * t);
	}
	return sum;
}

/* The part of the window workload wi ran: the window, or less since its
 * start. */
static double work_t(const struct mv_guest *g, unsigned wi, uint64_t now_ns,
		     double window_s)
{
	double ran = (double)(now_ns - g->work[wi].cfg.start_ns) / 1e9;
	return ran < window_s ? ran : window_s;
}

/* Every page of workload wi's set has the same rate (uniform, usage). */
static int work_uniform(const struct mv_guest *g, unsigned wi)
{
	return !g->iv->w[wi].h || g->work[wi].cfg.kind == MV_WL_USAGE;
}

/* What page p adds to the sums now (struct giv_act). */
static uint32_t act_of(const struct mv_guest *g, mv_gppn_t p, uint64_t now_ns,
		       double window_s)
{
	const struct mv_pme *e = &g->vm->pmap[p];
	if (e->state != MV_PS_PRIVATE && e->state != MV_PS_SHARED &&
	    e->state != MV_PS_ZERO)
		return 0;
	double wr, lam = page_rate(g, p, &wr);
	if (!(lam > 0))
		return 0;
	double t = window_s;
	if (gpage_kind(g, p) == GK_ANON) {
		unsigned wi = gpage_owner(g, p);
		if (work_uniform(g, wi))
			return ACT_UNIFORM | wi;
		t = work_t(g, wi, now_ns, window_s);
	}
	double q = -expm1(-lam * t) * ACT_SCALE + 0.5;
	if (!(q >= 1))
		return 0;
	return q >= ACT_SCALE ? ACT_UNIFORM - 1 : (uint32_t)q;
}

static void act_add(struct giv_act *a, uint32_t v, int sign)
{
	if (v & ACT_UNIFORM)
		a->nuni[v & ~ACT_UNIFORM] += (uint64_t)(int64_t)sign;
	else
		a->zsum += (uint64_t)(int64_t)sign * v;
}

static void act_update(struct mv_guest *g, mv_gppn_t p, uint64_t now_ns,
		       double window_s)
{
	struct giv_act *a = &g->iv->a;
	uint32_t v = act_of(g, p, now_ns, window_s);
	if (v == a->act[p])
		return;
	act_add(a, a->act[p], -1);
	act_add(a, v, +1);
	a->act[p] = v;
}

/* The most pages the dirty list holds: a sixteenth of the guest's. */
static uint64_t act_list_max(const struct mv_guest *g)
{
	return g->npages / 16 > 64 ? g->npages / 16 : 64;
}

void giv_page_changed(struct mv_guest *g, mv_gppn_t p)
{
	struct giv_act *a = &g->iv->a;
	uint64_t bit = 1ull << (p % 64);
	if (!a->built || (a->dirty[p / 64] & bit))
		return;
	a->dirty[p / 64] |= bit;
	if (a->overflow)
		return;
	if (a->nlist == a->cap_list) {
		uint64_t max = act_list_max(g);
		uint64_t cap = a->cap_list ? 2 * a->cap_list : 64;
		if (cap > max)
			cap = max;
		uint32_t *n = cap > a->cap_list
				      ? realloc(a->list, cap * sizeof *n)
				      : NULL;
		if (!n) {
			a->overflow = 1; /* the bits are read instead */
			return;
		}
		a->list = n;
		a->cap_list = cap;
	}
	a->list[a->nlist++] = (uint32_t)p;
}

static struct giv_key work_key(const struct mv_guest *g, unsigned wi,
			       uint64_t now_ns, double window_s)
{
	const struct gwork *w = &g->work[wi];
	struct giv_key k = {
		.running = gwork_running(w, g->now_ns),
		.phase = w->phase,
		.ws = w->ws,
		.rate = w->cfg.rate,
		.t = work_uniform(g, wi) ? 0 : work_t(g, wi, now_ns, window_s),
	};
	return k;
}

static int key_equal(const struct giv_key *x, const struct giv_key *y)
{
	return x->running == y->running && x->phase == y->phase &&
	       x->ws == y->ws && x->rate == y->rate && x->t == y->t;
}

/* Bring the sums up to now: every page if they do not hold, else the
 * marked pages, the pages of each workload whose rates changed, and the
 * OS image's pages if the window changed. */
static void act_refresh(struct mv_guest *g, uint64_t now_ns, double window_s)
{
	struct giv_act *a = &g->iv->a;
	if (!a->built) {
		memset(a->nuni, 0, sizeof a->nuni);
		a->zsum = 0;
		for (uint64_t p = 0; p < g->npages; p++) {
			uint32_t v = act_of(g, p, now_ns, window_s);
			if (v != a->act[p]) /* a page of 0s stays unbacked */
				a->act[p] = v;
			act_add(a, v, +1);
		}
		for (int i = 0; i < g->nwork; i++)
			a->key[i] = work_key(g, (unsigned)i, now_ns, window_s);
		a->os_t = window_s;
		memset(a->dirty, 0, (g->npages + 63) / 64 * sizeof *a->dirty);
		a->nlist = 0;
		a->built = 1;
		a->overflow = 0;
		return;
	}
	if (!a->overflow) {
		for (uint64_t i = 0; i < a->nlist; i++) {
			uint32_t p = a->list[i];
			a->dirty[p / 64] &= ~(1ull << (p % 64));
			act_update(g, p, now_ns, window_s);
		}
	} else { /* more marked than listed: the marks, a word at a time */
		for (uint64_t w = 0; w < (g->npages + 63) / 64; w++) {
			for (uint64_t m = a->dirty[w]; m; m &= m - 1)
				act_update(g,
					   w * 64 +
						   (uint64_t)__builtin_ctzll(m),
					   now_ns, window_s);
			a->dirty[w] = 0;
		}
	}
	a->nlist = 0;
	a->overflow = 0;
	for (int i = 0; i < g->nwork; i++) {
		struct giv_key k = work_key(g, (unsigned)i, now_ns, window_s);
		if (key_equal(&k, &a->key[i]))
			continue;
		a->key[i] = k;
		const struct gproc *pr = &g->proc[i];
		for (uint64_t v = 0; v < pr->nvpages; v++)
			if (pr->pte[v] && !(pr->pte[v] & PTE_SWAP))
				act_update(g, pr->pte[v] - 1, now_ns, window_s);
	}
	if (a->os_t != window_s) {
		a->os_t = window_s;
		for (uint64_t x = 0; x < g->os_pages; x++)
			if (g->cache[x])
				act_update(g, g->cache[x] - 1, now_ns,
					   window_s);
	}
}

/*
 * giv_active_pages_walk's sum, in O(pages changed): the pages seen
 * (the vm's window list: every page whose accessed bit was set in the
 * window) count 1; the resident others their probability, which is the
 * sums over every resident page with a rate (kept as pages change) less
 * what the seen ones add to them. The sum differs from the walk's only
 * by the order of its additions and by rounding each Zipf and OS page's
 * probability to 2^-32 (at most pages / 2^31 in all). When the window's
 * list overflowed, the seen pages are found by their accessed bits.
 */
double giv_active_pages(struct mv_guest *g, uint64_t now_ns, double window_s)
{
	struct giv_act *a = &g->iv->a;
	const struct mv_vm *vm = g->vm;
	act_refresh(g, now_ns, window_s);
	uint64_t nuni[MV_MAX_WORKLOADS];
	memcpy(nuni, a->nuni, sizeof nuni);
	uint64_t z = a->zsum;
	int listed = mv_vm_window_listed(vm);
	uint64_t n = listed ? vm->window_accessed : g->npages;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t p = listed ? vm->window_list[i] : i;
		if (!listed && !(vm->pmap[p].flags & MV_PME_ACCESSED))
			continue;
		uint32_t v = a->act[p];
		if (v & ACT_UNIFORM)
			nuni[v & ~ACT_UNIFORM]--;
		else
			z -= v;
	}
	double sum = (double)vm->window_accessed + (double)z / ACT_SCALE;
	for (int i = 0; i < g->nwork; i++) {
		if (!nuni[i])
			continue;
		const struct gwork *w = &g->work[i];
		double n = w->cfg.kind == MV_WL_USAGE ? (double)w->uset
						      : (double)w->ws;
		double lam = w->cfg.rate / n;
		sum += (double)nuni[i] *
		       -expm1(-lam * work_t(g, (unsigned)i, now_ns, window_s));
	}
	return sum;
}

/* ---- life -----------------------------------------------------------------
 */

int giv_create(struct mv_guest *g, uint64_t step_ns, uint64_t end_ns)
{
	for (int i = 0; i < g->nwork; i++)
		if (g->proc[i].nvpages > VPN_MASK)
			return 0; /* too large for an entry: stays exact */
	if (g->os_pages > VPN_MASK || g->vm->on_invalidate)
		return 0;
	struct giv *iv = calloc(1, sizeof *iv);
	if (!iv)
		return MV_ENOMEM;
	iv->a.act = calloc(g->npages, sizeof *iv->a.act);
	iv->a.dirty = calloc((g->npages + 63) / 64, sizeof *iv->a.dirty);
	iv->stamp = calloc(g->npages, sizeof *iv->stamp);
	if (!iv->a.act || !iv->a.dirty || !iv->stamp) {
		free(iv->a.act);
		free(iv->a.dirty);
		free(iv->stamp);
		free(iv);
		return MV_ENOMEM;
	}
	iv->step_ns = step_ns;
	/* the last step runs [end - step, end): events from end on never fire
	 */
	iv->end = end_ns ? (end_ns + step_ns - 1) / step_ns : UINT64_MAX;
	iv->dt_s = (double)step_ns / 1e9;
	mv_rng_seed(&iv->rng, mv_mix64(g->seed ^ 0x1e7e4a1ull));
	for (int i = 0; i < g->nwork; i++) {
		struct gwork *w = &g->work[i];
		w->interval = 1;
		iv->w[i].phase = UINT64_MAX;
		iv->w[i].inv = inverse_mod(w->perm, w->ws);
		if (w->cfg.dist == MV_DIST_ZIPF && w->cfg.kind != MV_WL_USAGE)
			iv->w[i].h = zipf_norm(w->ws, w->cfg.zipf_s);
	}
	if (g->os_pages)
		iv->os_h = zipf_norm(g->os_pages, 0.99);
	g->iv = iv;
	hook(g->vm, g);
	return 0;
}

/*
 * The dirty log's view of the lazy writes (live migration): the model
 * makes a resident page's writes when the page is observed, at the
 * stamps' resolution (2 s), so a log synced more often would miss them.
 * A page written at rate w was written in the last dt with probability
 * 1 - exp(-w dt): it is logged so (a draw from the page, the VM and the
 * time, as on_observe's), its bytes made when it is next observed, as
 * the model makes them anyway. scale: the vCPU's share of the step.
 */
uint64_t giv_log_writes(struct mv_guest *g, uint64_t now_ns, double dt_s)
{
	struct mv_vm *vm = g->vm;
	uint64_t n = 0;
	if (!vm->dirty_log || !(dt_s > 0))
		return 0;
	for (mv_gppn_t p = 0; p < g->npages; p++) {
		if (vm->pmap[p].state != MV_PS_PRIVATE ||
		    gpage_kind(g, p) != GK_ANON ||
		    (vm->dirty_log[p >> 6] >> (p & 63) & 1))
			continue;
		double wr;
		page_rate(g, p, &wr);
		if (!(wr > 0) || unit_hash(p ^ ((uint64_t)vm->id << 40),
					   now_ns) >= -expm1(-wr * dt_s))
			continue;
		vm->dirty_log[p >> 6] |= UINT64_C(1) << (p & 63);
		n++;
	}
	return n;
}

void giv_hook(struct mv_guest *g)
{
	hook(g->vm, g);
}

/*
 * The guest moved from old to g->vm (live migration), its hooks on g->vm
 * (giv_hook): every page is taken as changed. The destination holds each
 * page private (its bytes known now), ballooned, or untouched when it
 * crossed as zeros. A page zero or shared on the source has its write
 * event already (it fires on the untouched page: fire); a private page
 * that crossed as zeros gets one now, as a page mapped to the zero
 * frame does.
 */
void giv_retake(struct mv_guest *g, const uint64_t *was_private)
{
	struct giv *iv = g->iv;
	struct mv_vm *vm = g->vm;
	for (mv_gppn_t p = 0; p < g->npages; p++) {
		on_invalidate(g, vm, p);
		if (vm->pmap[p].state != MV_PS_UNTOUCHED ||
		    !(was_private[p / 64] >> (p % 64) & 1) ||
		    gpage_kind(g, p) != GK_ANON)
			continue;
		double wr;
		page_rate(g, p, &wr);
		schedule(iv, entry(gpage_owner(g, p), gpage_index(g, p)), wr,
			 iv->now_s);
	}
}

void giv_books(const struct mv_guest *g, struct mv_books *b)
{
	const struct giv *iv = g->iv;
	uint64_t ev = 0, lap = 0;
	for (int i = 0; i < NBUCKETS; i++)
		ev += iv->b[i].cap;
	for (int i = 0; i < NLAPS; i++)
		lap += iv->lap[i].cap;
	mv_books_add(b, "guest", "interval.wheel", sizeof *iv->b[0].e, ev);
	mv_books_add(b, "guest", "interval.laps", sizeof *iv->lap[0].e, lap);
	mv_books_add(b, "guest", "interval.overflow", sizeof *iv->over,
		     iv->cap_over);
	mv_books_add(b, "guest", "interval.fire", sizeof *iv->fire,
		     iv->cap_fire);
	mv_books_add(b, "guest", "interval.active", sizeof *iv->a.act,
		     g->npages);
	mv_books_add(b, "guest", "interval.active-dirty", sizeof *iv->a.dirty,
		     (g->npages + 63) / 64);
	mv_books_add(b, "guest", "interval.active-list", sizeof *iv->a.list,
		     iv->a.cap_list);
	mv_books_add(b, "guest", "interval.stamp", sizeof *iv->stamp,
		     g->npages);
}

void giv_destroy(struct giv *iv)
{
	if (!iv)
		return;
	for (int i = 0; i < NBUCKETS; i++)
		free(iv->b[i].e);
	for (int i = 0; i < NLAPS; i++)
		free(iv->lap[i].e);
	free(iv->over);
	free(iv->fire);
	free(iv->a.act);
	free(iv->a.dirty);
	free(iv->a.list);
	free(iv->stamp);
	free(iv);
}

/* ---- as bytes (pack.c) ---------------------------------------------------
 *
 * struct giv whole, its pointers cleared (each array is rebuilt with the
 * capacity it had, so the books read the same), then the arrays: every
 * bucket's and lap's events, the overflow list, the fire list, the
 * active set's list of pages to compute again, its per-page sums and
 * dirty bits, the stamps.
 */
/* Clear h's array pointers (a copy, or a struct just read). */
static void clear_arrays(struct giv *h)
{
	for (int i = 0; i < NBUCKETS; i++)
		h->b[i].e = NULL;
	for (int i = 0; i < NLAPS; i++)
		h->lap[i].e = NULL;
	h->over = NULL;
	h->fire = NULL;
	h->a.act = NULL;
	h->a.dirty = NULL;
	h->a.list = NULL;
	h->stamp = NULL;
}

void giv_pack(const struct mv_guest *g, struct mv_pack *w)
{
	const struct giv *iv = g->iv;
	struct giv *h = malloc(sizeof *h);
	if (!h) {
		w->nomem = 1;
		return;
	}
	memcpy(h, iv, sizeof *h);
	clear_arrays(h);
	for (int i = 0; i < MV_MAX_WORKLOADS; i++) {
		/* field by field: a key's padding was never written
		 * (work_key's is a stack struct's) */
		const struct giv_key *x = &iv->a.key[i];
		struct giv_key k;
		memset(&k, 0, sizeof k);
		k.running = x->running;
		k.phase = x->phase;
		k.ws = x->ws;
		k.rate = x->rate;
		k.t = x->t;
		memcpy(&h->a.key[i], &k, sizeof k);
	}
	mv_pack_put(w, h, sizeof *h);
	free(h);
	for (int i = 0; i < NBUCKETS; i++)
		mv_pack_put(w, iv->b[i].e, iv->b[i].n * sizeof *iv->b[i].e);
	for (int i = 0; i < NLAPS; i++)
		mv_pack_put(w, iv->lap[i].e, iv->lap[i].n * sizeof *iv->lap[i].e);
	mv_pack_put(w, iv->over, iv->nover * sizeof *iv->over);
	for (size_t i = 0; i < iv->nfire; i++) {
		/* field by field: a struct fire's padding is never written */
		struct fire f;
		memset(&f, 0, sizeof f);
		f.u = iv->fire[i].u;
		f.e = iv->fire[i].e;
		mv_pack_put(w, &f, sizeof f);
	}
	mv_pack_put(w, iv->a.list, iv->a.nlist * sizeof *iv->a.list);
	mv_pack_put(w, iv->a.act, g->npages * sizeof *iv->a.act);
	mv_pack_put(w, iv->a.dirty, (g->npages + 63) / 64 * sizeof *iv->a.dirty);
	mv_pack_put(w, iv->stamp, g->npages * sizeof *iv->stamp);
}

/* An array of cap elements of size bytes at *pp, its first n read from
 * r: 0, MV_EINVAL or MV_ENOMEM. */
static int unpack_array(struct mv_unpack *r, void *pp, size_t n, size_t cap,
			size_t size, const char *what)
{
	if (n > cap || cap > ((size_t)1 << 40) / size)
		return mv_unpack_fail(r, what);
	if (!cap)
		return 0;
	if (r->left < n * size)
		return mv_unpack_fail(r, what);
	void *a = malloc(cap * size);
	if (!a)
		return MV_ENOMEM;
	*(void **)pp = a;
	return mv_unpack_get(r, a, n * size, what);
}

int giv_unpack(struct mv_guest *g, struct mv_unpack *r)
{
	struct giv *iv = calloc(1, sizeof *iv);
	if (!iv)
		return MV_ENOMEM;
	if (mv_unpack_get(r, iv, sizeof *iv, "interval model")) {
		free(iv);
		return MV_EINVAL;
	}
	/* nothing of the sender's: every array is rebuilt below */
	clear_arrays(iv);
	g->iv = iv;
	if (!iv->step_ns || !(iv->dt_s > 0))
		return mv_unpack_fail(r, "interval model's step");
	int rc = 0;
	for (int i = 0; !rc && i < NBUCKETS; i++)
		rc = unpack_array(r, &iv->b[i].e, iv->b[i].n, iv->b[i].cap,
				  sizeof *iv->b[i].e, "interval model's wheel");
	for (int i = 0; !rc && i < NLAPS; i++)
		rc = unpack_array(r, &iv->lap[i].e, iv->lap[i].n,
				  iv->lap[i].cap, sizeof *iv->lap[i].e,
				  "interval model's laps");
	if (!rc)
		rc = unpack_array(r, &iv->over, iv->nover, iv->cap_over,
				  sizeof *iv->over,
				  "interval model's overflow");
	if (!rc)
		rc = unpack_array(r, &iv->fire, iv->nfire, iv->cap_fire,
				  sizeof *iv->fire,
				  "interval model's fire list");
	if (!rc)
		rc = unpack_array(r, &iv->a.list, iv->a.nlist, iv->a.cap_list,
				  sizeof *iv->a.list,
				  "interval model's active list");
	if (rc)
		return rc;
	iv->a.act = calloc(g->npages, sizeof *iv->a.act);
	iv->a.dirty = calloc((g->npages + 63) / 64, sizeof *iv->a.dirty);
	iv->stamp = calloc(g->npages, sizeof *iv->stamp);
	if (!iv->a.act || !iv->a.dirty || !iv->stamp)
		return MV_ENOMEM;
	mv_unpack_get(r, iv->a.act, g->npages * sizeof *iv->a.act,
		    "interval model's active sums");
	mv_unpack_get(r, iv->a.dirty, (g->npages + 63) / 64 * sizeof *iv->a.dirty,
		    "interval model's active bits");
	return mv_unpack_get(r, iv->stamp, g->npages * sizeof *iv->stamp,
			   "interval model's stamps");
}
