/*
 * workload.c - what a guest process does with its memory: the workloads.
 *
 * Each workload is one process of the guest with a working set of ws pages.
 * Per step it owes rate * dt accesses (fractions carried as credit); the
 * vCPU's progress (what the hypervisor's stalls left of the step) scales
 * what it makes. Which page: a rank drawn uniformly or from a Zipf
 * distribution, scattered over the set by i -> i * perm mod ws, so the hot
 * ranks of a Zipf set are spread over the process's pages rather than
 * packed at its start. perm is coprime with ws, so the scatter is a
 * bijection and every page of the set is reachable.
 *
 * The kinds: steady (the set above); idle (populates its set once, then
 * makes its few accesses); phased (the set slides by ws pages through a
 * region every phase, freeing what it leaves behind, as a batch job drops
 * its last buffer); leak (a steady set plus pages written once and never
 * freed, at leak_bytes_per_s up to leak_max); trace (a real program's page
 * accesses replayed in order, over and over, from an address trace);
 * usage (a set that grows and shrinks with a real VM's memory usage over
 * time, from a per-VM usage trace: docs/usage.md).
 *
 * A usage workload's set is a prefix of its process, pages [0, uset):
 * when the trace's usage rises the set grows at its top, each new page
 * written (the program fills what it allocates); when it falls the top
 * pages are released to the guest's free list, as a program frees or
 * unmaps memory: the guest has them back, the hypervisor still backs them
 * until one of its mechanisms takes them. Between the trace's rows the
 * usage is interpolated linearly. Accesses pick a page of the current set
 * uniformly.
 *
 * The workload decides, the guest kernel (guest.c) carries out: it touches
 * and releases pages through struct gwork_ops, and never sees guest pages,
 * frames or the vm layer. All randomness comes from the workload's RNG,
 * seeded from the guest's seed and the workload's index.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "guest/workload.h"

/*
 * With an MMU model, page vpn of a workload's process is mapped at this
 * virtual address (where Linux's mmap area lies on x86-64), so a process's
 * pages share upper-level tables as a real heap or mapping does; a trace
 * workload's pages at the program's own addresses.
 */
#define GVA_BASE 0x7f0000000000ull

/* The guest's page-table entries keep the top bit for "in swap". */
#define VPAGES_MAX 0x80000000u

uint64_t gwork_gva(const struct gwork *w, uint64_t vpn)
{
	if (w->cfg.trace)
		return w->cfg.trace->page[vpn] << 12;
	return GVA_BASE + (vpn << 12);
}

int gwork_vpn(const struct gwork *w, uint64_t nvpages, uint64_t gva,
	      uint64_t *vpn)
{
	if (w->cfg.trace)
		return mv_access_trace_find(w->cfg.trace, gva >> 12, vpn);
	*vpn = (gva - GVA_BASE) >> 12;
	return gva >= GVA_BASE && *vpn < nvpages ? 0 : -1;
}

static const char *const usage_formats[MV_USAGE_FORMAT_COUNT] = {"bitbrains",
								 "google"};

const char *mv_usage_format_name(enum mv_usage_format f)
{
	return (unsigned)f < MV_USAGE_FORMAT_COUNT ? usage_formats[f] : "?";
}

/* "bitbrains" or "google" (any case); MV_EINVAL otherwise. */
int mv_usage_format_parse(const char *s, enum mv_usage_format *out)
{
	for (int i = 0; s && i < MV_USAGE_FORMAT_COUNT; i++)
		if (strcasecmp(s, usage_formats[i]) == 0) {
			*out = (enum mv_usage_format)i;
			return 0;
		}
	return MV_EINVAL;
}

double mv_usage_trace_at(const struct mv_usage_trace *u, uint64_t tau_ns,
			 uint64_t *row)
{
	uint64_t i = *row < u->nrows ? *row : 0;
	if (u->t_ns[i] > tau_ns)
		i = 0; /* the cursor is ahead: start over */
	while (i + 1 < u->nrows && u->t_ns[i + 1] <= tau_ns)
		i++;
	*row = i;
	if (i + 1 >= u->nrows || tau_ns <= u->t_ns[i])
		return u->frac[i];
	double x = (double)(tau_ns - u->t_ns[i]) /
		   (double)(u->t_ns[i + 1] - u->t_ns[i]);
	return u->frac[i] + (u->frac[i + 1] - u->frac[i]) * x;
}

/*
 * The candidates, the first tried chosen by the seed: large primes, and
 * 40503 = 3 x 23 x 587, which is not one. Each is kept only if it is
 * coprime with n (once the only test was n % m, true of a prime alone:
 * a set of 150 MiB, 38400 pages, got 40503 mod 38400 = 2103 = 3 x 701 and
 * touched a third of itself). The candidates stay so that every set they
 * already scattered correctly keeps its order, and its figures.
 */
static const uint64_t mults[] = {2654435761ull, 40503ull, 104729ull, 7919ull,
				 15485863ull};
#define NMULTS (sizeof mults / sizeof mults[0])

uint64_t gwork_coprime_mult(uint64_t n, uint64_t seed)
{
	if (n <= 2)
		return 1;
	for (size_t i = 0; i < NMULTS; i++) {
		uint64_t m = mults[(i + seed) % NMULTS] % n;
		if (mv_gcd(m, n) == 1)
			return m;
	}
	/* none is (n is a multiple of every prime above): step from the
	 * seed's choice to the next coprime, which exists (1 is one) */
	uint64_t m = mults[seed % NMULTS] % n;
	while (mv_gcd(m, n) != 1)
		m = (m + 1) % n;
	return m;
}

int gwork_init(struct gwork *w, int i, const struct mv_workload_config *c,
	       uint64_t guest_pages, int huge, uint64_t seed, uint64_t *nvpages)
{
	w->cfg = *c;
	w->proc = i;
	w->ws = (c->size_bytes + MV_PAGE_SIZE - 1) / MV_PAGE_SIZE;
	if (w->ws == 0)
		w->ws = 1;
	w->region = w->ws;
	w->phase = UINT64_MAX;
	uint64_t nv = w->ws;
	if (c->kind == MV_WL_PHASED) {
		w->region = c->region_bytes ? c->region_bytes / MV_PAGE_SIZE
					    : 4 * w->ws;
		if (w->region < w->ws)
			w->region = w->ws;
		nv = w->region;
	} else if (c->kind == MV_WL_TRACE) {
		if (!c->trace || !c->trace->nrec || huge)
			return MV_EINVAL; /* 2 MiB pages: a linear layout only
					   */
		w->ws = nv = c->trace->npages;
	} else if (c->kind == MV_WL_USAGE) {
		/* release gives back 4 KiB pages: a linear 4 KiB layout */
		if (!c->usage || !c->usage->nrows || huge ||
		    c->usage_start_row >= c->usage->nrows)
			return MV_EINVAL;
		w->urow = c->usage_start_row;
	} else if (c->kind == MV_WL_LEAK) {
		w->leak_max = c->leak_max_bytes
				      ? c->leak_max_bytes / MV_PAGE_SIZE
				      : guest_pages;
		nv = w->ws + w->leak_max;
	}
	if (nv >= VPAGES_MAX)
		return MV_EINVAL;
	w->perm = gwork_coprime_mult(w->ws, (uint64_t)i);
	mv_rng_seed(&w->rng, mv_mix64(seed + 0x100 + (uint64_t)i));
	if (c->dist == MV_DIST_ZIPF && mv_zipf_init(&w->zipf, w->ws, c->zipf_s))
		return MV_EINVAL;
	w->name_hash = mv_hash(c->content_name, strlen(c->content_name));
	*nvpages = nv;
	return 0;
}

int gwork_running(const struct gwork *w, uint64_t now_ns)
{
	return now_ns >= w->cfg.start_ns && !w->exited;
}

int gwork_stopping(const struct gwork *w, uint64_t now_ns)
{
	return w->cfg.stop_ns && now_ns >= w->cfg.stop_ns;
}

void gwork_skip(struct gwork *w, double dt_s)
{
	w->demanded += credit_take(&w->credit, w->cfg.rate * dt_s);
}

uint64_t gwork_usage_target(struct gwork *w, uint64_t now_ns)
{
	const struct mv_usage_trace *u = w->cfg.usage;
	uint64_t t = now_ns > w->cfg.start_ns ? now_ns - w->cfg.start_ns : 0;
	double tau = (double)t * w->cfg.usage_speedup +
		     (double)u->t_ns[w->cfg.usage_start_row];
	uint64_t tau_ns = tau >= 18446744073709551615.0 ? UINT64_MAX
							: (uint64_t)tau;
	double f = mv_usage_trace_at(u, tau_ns, &w->urow);
	uint64_t n = (uint64_t)floor(f * (double)w->ws + 0.5);
	return n < w->ws ? n : w->ws;
}

/*
 * Usage: grow the set to the trace's size now (new pages written) or
 * shrink it (the top pages released); -1 when the guest could not touch
 * or release a page now (again next step, from where it stopped).
 */
static int follow_usage(struct gwork *w, uint64_t now_ns,
			const struct gwork_ops *ops, void *ctx)
{
	uint64_t want = gwork_usage_target(w, now_ns);
	for (; w->uset < want; w->uset++)
		if (ops->touch(ctx, w, w->uset, 1, 0))
			return -1;
	for (; w->uset > want; w->uset--)
		if (ops->release(ctx, w, w->uset - 1))
			return -1;
	return 0;
}

static uint64_t pick(struct gwork *w)
{
	if (w->cfg.kind == MV_WL_USAGE)
		return mv_rng_below(&w->rng, w->uset); /* a prefix, uniform */
	uint64_t r = w->cfg.dist == MV_DIST_ZIPF
			     ? mv_zipf_next(&w->zipf, &w->rng)
			     : mv_rng_below(&w->rng, w->ws);
	return gwork_scatter(w, r);
}

/*
 * Phased: the first page of the set in this step's phase. On a new phase,
 * release the pages the old set used and the new one does not; -1 when
 * the guest could not release one now (again next step, phase unchanged).
 */
static int move_phase(struct gwork *w, uint64_t now_ns,
		      const struct gwork_ops *ops, void *ctx, uint64_t *base)
{
	uint64_t phase = (now_ns - w->cfg.start_ns) / w->cfg.phase_ns;
	*base = (phase * w->ws) % w->region;
	if (phase == w->phase)
		return 0;
	if (w->phase != UINT64_MAX) {
		uint64_t old = (w->phase * w->ws) % w->region;
		for (uint64_t i = 0; i < w->ws; i++) {
			uint64_t v = (old + i) % w->region;
			if ((v + w->region - *base) % w->region >= w->ws &&
			    ops->release(ctx, w, v))
				return -1;
		}
	}
	w->phase = phase;
	return 0;
}

/* The access the program makes next: page *vpn, a store, a fetch. */
static void next_access(struct gwork *w, uint64_t base, uint64_t wr,
			uint64_t *vpn, int *write, int *fetch)
{
	const struct mv_access_trace *tr = w->cfg.trace;
	if (tr) {
		/* the program's next access, from the top when done */
		uint32_t rec = tr->rec[w->tpos];
		if (++w->tpos == tr->nrec)
			w->tpos = 0;
		*vpn = rec >> 2;
		*write = (rec & 3) == MV_TR_STORE || (rec & 3) == MV_TR_MODIFY;
		*fetch = (rec & 3) == MV_TR_INSTR;
		return;
	}
	*vpn = pick(w);
	if (w->cfg.kind == MV_WL_PHASED)
		*vpn = (*vpn + base) % w->region;
	*write = w->cfg.write_ratio > 0 && mv_rng_next(&w->rng) <= wr;
	*fetch = 0;
}

void gwork_step(struct gwork *w, uint64_t now_ns, double dt_s, double progress,
		const struct gwork_ops *ops, void *ctx)
{
	/* idle: populate the whole set once, then (almost) nothing */
	while (w->cfg.kind == MV_WL_IDLE && w->populated < w->ws) {
		if (ops->touch(ctx, w, w->populated, 1, 0))
			return;
		w->populated++;
	}
	if (w->cfg.kind == MV_WL_LEAK) {
		uint64_t n = credit_take(&w->leak_credit,
					 w->cfg.leak_bytes_per_s * dt_s *
						 progress / MV_PAGE_SIZE);
		for (; n && w->leaked < w->leak_max; n--, w->leaked++)
			if (ops->touch(ctx, w, w->ws + w->leaked, 1, 0))
				return;
	}
	uint64_t base = 0;
	if (w->cfg.kind == MV_WL_PHASED && w->cfg.phase_ns &&
	    move_phase(w, now_ns, ops, ctx, &base))
		return;
	if (w->cfg.kind == MV_WL_USAGE && follow_usage(w, now_ns, ops, ctx))
		return;
	uint64_t want = credit_take(&w->credit, w->cfg.rate * dt_s);
	uint64_t n = (uint64_t)((double)want * progress + 0.5);
	if (w->cfg.kind == MV_WL_USAGE && w->uset == 0)
		n = 0; /* an empty set: nothing to access */
	w->demanded += want;
	if (w->interval) {
		w->step_n = n; /* interval.c makes the accesses that cost */
		return;
	}
	uint64_t wr = (uint64_t)(w->cfg.write_ratio * 18446744073709551615.0);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t vpn;
		int write, fetch;
		next_access(w, base, wr, &vpn, &write, &fetch);
		if (ops->touch(ctx, w, vpn, write, fetch)) {
			/* blocked for the rest of the slice; a program retries
			 * the access it could not make */
			const struct mv_access_trace *tr = w->cfg.trace;
			if (tr)
				w->tpos = (w->tpos ? w->tpos : tr->nrec) - 1;
			ops->wait(ctx, (uint64_t)((double)(n - i) /
						  w->cfg.rate * 1e9));
			return;
		}
		w->done++;
	}
}
