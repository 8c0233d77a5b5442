/*
 * migrate.c - live migration of one VM's memory to another host, pre-copy,
 * on the real page bytes (docs/cluster.md, "Live migration").
 *
 * The algorithm is QEMU's RAM migration (docs/devel/migration,
 * migration/ram.c) and Xen's and vMotion's pre-copy (Clark et al., "Live
 * Migration of Virtual Machines", NSDI 2005):
 *
 *   1. The source VM's dirty log is turned on (KVM_MEM_LOG_DIRTY_PAGES):
 *      from now on every change of a page's content sets its bit
 *      (mv_vm_log_dirty, called by the write path and
 *      mv_vm_content_changed).
 *   2. Round 0, the bulk round: every page, in guest-physical order.
 *   3. At the end of each round the log is synced into the next round's
 *      set and cleared (migration_bitmap_sync). A page's bit is also
 *      cleared as the page is read for sending (KVM_CLEAR_DIRTY_LOG, one
 *      page at a time): a write after that read sets it again, so the
 *      page goes again next round; a write before it is in what is sent.
 *   4. If the set fits the downtime limit at the bandwidth the last round
 *      measured (pending bytes <= bandwidth x downtime-limit, QEMU's
 *      switchover test), or max_rounds rounds were made, the VM stops and
 *      the set is sent: stop-and-copy. The time that takes is the
 *      downtime.
 *   5. Auto-converge (QEMU's migration_trigger_throttle): once a period of
 *      at least 1 s has passed at a sync, if the bytes the guest dirtied in
 *      it exceed trigger% of the bytes sent in it, for the second time,
 *      the throttle goes to initial% (then +increment%, at most max%).
 *      The caller charges the throttle to the vCPU as stall.
 *
 * What each page costs and becomes (docs/cluster.md has the table): a page
 * that reads as zeros (untouched, zero, ballooned, or resident bytes that
 * are all zero) crosses as a 9-byte flag and takes no frame on the
 * destination; any other page crosses as 8 + 4096 bytes and takes a
 * private frame there, holding the source's descriptor (equal descriptors
 * are equal bytes) or a copy of its bytes. A compressed or swapped page is
 * read back first through its backing store's peek (a real LZ4
 * decompression, a real read of the swap file), charged the host's
 * decompress or swap-in latency on the migration's clock; the source's
 * memory does not change. With the swap file on shared storage
 * (cfg.shared_swap) a swapped page goes as its slot instead, and the dirty
 * log also logs a page that enters or leaves its slot (mv_vm_dirty_log_swap),
 * so that it is sent again. Shared pages go as their bytes, once per guest
 * page: sharing is lost with the source and rebuilt by the destination's
 * scanner.
 *
 * Invariant: a page the destination holds equals the source's page as it
 * was when last read, and a page changed since then has its log bit set;
 * so after the stop-and-copy (the VM stopped, every logged page sent)
 * every destination page equals its source page. mv_migrate_verify checks
 * it byte for byte through XXH3.
 *
 * Time: the migration keeps its own clock (clock_ns), which runs ahead of
 * the caller's while a page is being sent; mv_migrate_run(dt) sends pages
 * until the clock passes the end of the caller's slice, so how much is
 * sent does not depend on the slice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/cluster.h"

void mv_migrate_config_default(struct mv_migrate_config *c)
{
	memset(c, 0, sizeof *c);
	c->bandwidth = 128.0 * MV_MIB;
	c->downtime_limit_ns = 300 * MV_NS_PER_MS;
	c->max_rounds = 30;
	c->auto_converge = 0;
	c->throttle_trigger_pct = 50;
	c->throttle_initial_pct = 20;
	c->throttle_increment_pct = 10;
	c->throttle_max_pct = 99;
}

/* How a page crosses. */
enum wire { WIRE_ZERO, WIRE_BALLOON, WIRE_DESC, WIRE_BYTES, WIRE_SWAPREF };

/*
 * Read source page g as it would be sent: its kind, and its descriptor
 * (*d) or bytes (*bytes, the arena or buf). A non-resident page is read
 * back (*readback_ns its latency), except a swapped page when the swap
 * file is on shared storage (shared_swap): its slot goes, in *d. 0 or
 * MV_EIO.
 */
static int read_page(const struct mv_vm *vm, mv_gppn_t g, int shared_swap,
		     enum wire *kind, mv_desc_t *d, const uint8_t **bytes,
		     uint8_t *buf, uint64_t *readback_ns)
{
	const struct mv_pme *e = &vm->pmap[g];
	const struct mv_host *h = vm->host;
	*readback_ns = 0;
	switch ((enum mv_page_state)e->state) {
	case MV_PS_UNTOUCHED:
	case MV_PS_ZERO:
		*kind = WIRE_ZERO;
		return 0;
	case MV_PS_BALLOONED:
		*kind = WIRE_BALLOON;
		return 0;
	case MV_PS_PRIVATE:
	case MV_PS_SHARED:
		*d = mv_host_frame_desc(h, e->mpn);
		if (*d == MV_DESC_ZERO_PAGE) {
			*kind = WIRE_ZERO;
			return 0;
		}
		if (*d != MV_DESC_BYTES) {
			*kind = WIRE_DESC;
			return 0;
		}
		*bytes = mv_host_frame(h, e->mpn);
		break;
	case MV_PS_SWAPPED:
		if (shared_swap) {
			*kind = WIRE_SWAPREF;
			*d = e->mpn;
			return 0;
		}
		/* fall through */
	case MV_PS_COMPRESSED: {
		const struct mv_backing_ops *b = &vm->backing[e->state];
		if (!b->peek || b->peek(b->ctx, vm, g, buf))
			return MV_EIO;
		*readback_ns = e->state == MV_PS_COMPRESSED
				       ? h->cfg.lat.decompress
			       : h->cfg.swap_device == MV_SWAP_HDD
				       ? h->cfg.lat.swapin_hdd
				       : h->cfg.lat.swapin_ssd;
		*bytes = buf;
		break;
	}
	default:
		return MV_EIO;
	}
	*kind = mv_page_is_zero(*bytes) ? WIRE_ZERO : WIRE_BYTES;
	return 0;
}

/* The page's bytes wherever they are, hashed (verification). */
static int hash_page(const struct mv_vm *vm, mv_gppn_t g, uint64_t *hash)
{
	uint8_t buf[MV_PAGE_SIZE];
	enum wire kind;
	mv_desc_t d = MV_DESC_BYTES;
	const uint8_t *bytes = NULL;
	uint64_t ns;
	int rc = read_page(vm, g, 0, &kind, &d, &bytes, buf, &ns);
	if (rc)
		return rc;
	if (kind == WIRE_DESC)
		bytes = mv_host_frame_read(vm->host, vm->pmap[g].mpn, buf);
	*hash = kind == WIRE_ZERO || kind == WIRE_BALLOON ? mv_zero_page_hash()
							  : mv_page_hash(bytes);
	return 0;
}

/* Destination page g takes what was sent. 0, or MV_EAGAIN: no frame. */
static int write_page(struct mv_vm *v, mv_gppn_t g, enum wire kind, mv_desc_t d,
		      const uint8_t *bytes)
{
	struct mv_pme *e = &v->pmap[g];
	struct mv_host *h = v->host;
	int resident = e->state == MV_PS_PRIVATE;
	if (kind == WIRE_ZERO || kind == WIRE_BALLOON ||
	    kind == WIRE_SWAPREF) {
		/* a slot of the shared swap file, which the destination VM
		 * reads through the source's (mv_swapfile_lend) until the
		 * file comes with it */
		enum mv_page_state st = kind == WIRE_ZERO  ? MV_PS_UNTOUCHED
					: kind == WIRE_SWAPREF ? MV_PS_SWAPPED
							       : MV_PS_BALLOONED;
		uint32_t slot = kind == WIRE_SWAPREF ? (uint32_t)d : 0;
		if (resident)
			mv_host_frame_put(h, e->mpn);
		if (e->state != st || e->mpn != slot)
			mv_pmap_set(v, g, st, slot);
		return 0;
	}
	mv_mpn_t mpn = resident ? e->mpn : mv_vm_numa_alloc(v, g);
	if (mpn == MV_MPN_NONE)
		return MV_EAGAIN;
	if (kind == WIRE_DESC) {
		if (mv_host_frame_desc(h, mpn) != d)
			mv_host_frame_set_desc(h, mpn, d);
	} else {
		memcpy(mv_host_frame_overwrite(h, mpn), bytes, MV_PAGE_SIZE);
	}
	if (!resident)
		mv_pmap_set(v, g, MV_PS_PRIVATE, mpn);
	return 0;
}

static struct mv_migrate_round *round_now(struct mv_migration *m)
{
	return &m->round[m->nrounds - 1];
}

static int round_new(struct mv_migration *m)
{
	if (mv_array_room(&m->round, &m->cap_rounds, (size_t)m->nrounds,
			  sizeof *m->round, 8))
		return MV_ENOMEM;
	struct mv_migrate_round *r = &m->round[m->nrounds++];
	memset(r, 0, sizeof *r);
	r->start_ns = (uint64_t)m->clock_ns;
	r->throttle_pct = m->throttle_pct;
	m->cursor = 0;
	return 0;
}

/* Give up: the destination's frames go back, the source runs on. */
static int migrate_abort(struct mv_migration *m, int code, mv_gppn_t g,
			 const char *why, struct mv_error *err)
{
	m->state = MV_MIG_ABORTED;
	m->abort_gppn = g;
	if (m->nrounds) /* the round ends where it stopped */
		round_now(m)->ns =
			(uint64_t)(m->clock_ns - (double)round_now(m)->start_ns);
	snprintf(m->abort_reason, sizeof m->abort_reason, "%s", why);
	mv_vm_destroy(m->dst);
	m->dst = NULL;
	mv_vm_dirty_log_stop(m->src);
	m->throttle_pct = 0;
	return mv_error_set(err, code, NULL, 0, "migration",
			    "VM %s, page %llu: %s; aborted, the VM runs on "
			    "its source host",
			    m->src->cfg.name, (unsigned long long)g, why);
}

/* Send page g (read it, clear its log bit, write it on the destination);
 * *cost_ns gets the time it took. 0 or the abort's code. */
static int send_page(struct mv_migration *m, mv_gppn_t g, double *cost_ns,
		     struct mv_error *err)
{
	uint8_t buf[MV_PAGE_SIZE];
	enum wire kind;
	mv_desc_t d = MV_DESC_BYTES;
	const uint8_t *bytes = NULL;
	uint64_t readback_ns;
	struct mv_vm *src = m->src;
	/* the interval model applies the writes the page had by now */
	mv_vm_observe(src, g);
	src->dirty_log[g >> 6] &= ~(UINT64_C(1) << (g & 63));
	if (read_page(src, g, m->cfg.shared_swap, &kind, &d, &bytes, buf,
		      &readback_ns))
		return migrate_abort(m, MV_EIO, g,
				     "cannot read the page back from its "
				     "compression cache or swap file",
				     err);
	if (write_page(m->dst, g, kind, d, bytes))
		return migrate_abort(m, MV_EAGAIN, g,
				     "the destination host is out of memory",
				     err);
	unsigned wire = kind == WIRE_ZERO || kind == WIRE_BALLOON
				? MV_MIG_ZERO_WIRE
			: kind == WIRE_SWAPREF ? MV_MIG_SWAPREF_WIRE
					       : MV_MIG_PAGE_WIRE;
	struct mv_migrate_round *r = round_now(m);
	r->pages++;
	r->zero += wire == MV_MIG_ZERO_WIRE;
	r->swap_refs += kind == WIRE_SWAPREF;
	r->readback += readback_ns > 0;
	r->bytes += wire;
	m->pages++;
	m->bytes += wire;
	m->period_bytes += wire;
	*cost_ns = (double)wire * 1e9 / m->cfg.bandwidth + (double)readback_ns;
	return 0;
}

/* The next page of the round at or after the cursor, or npages. */
static mv_gppn_t pass_next(const struct mv_migration *m)
{
	uint64_t i = m->cursor >> 6;
	if (i >= m->words)
		return m->src->npages;
	uint64_t w = m->pass[i] & (~UINT64_C(0) << (m->cursor & 63));
	while (!w) {
		if (++i >= m->words)
			return m->src->npages;
		w = m->pass[i];
	}
	return (i << 6) + (uint64_t)__builtin_ctzll(w);
}

/* Send every page of the round; 0 or the abort's code. */
static int send_pass(struct mv_migration *m, double end_ns,
		     struct mv_error *err)
{
	mv_gppn_t g;
	while (m->clock_ns < end_ns && (g = pass_next(m)) < m->src->npages) {
		double cost;
		int rc = send_page(m, g, &cost, err);
		if (rc)
			return rc;
		m->pass[g >> 6] &= ~(UINT64_C(1) << (g & 63));
		m->cursor = g + 1;
		m->clock_ns += cost;
	}
	return 0;
}

/* QEMU's auto-converge test at a sync that found `dirty` pages. */
static void throttle_update(struct mv_migration *m, uint64_t dirty)
{
	const struct mv_migrate_config *c = &m->cfg;
	m->period_dirty += dirty;
	if (m->clock_ns - (double)m->period_start_ns < 1e9)
		return;
	if (c->auto_converge &&
	    (double)m->period_dirty * MV_PAGE_SIZE >
		    (double)m->period_bytes * c->throttle_trigger_pct / 100.0 &&
	    ++m->dirty_high >= 2) {
		m->dirty_high = 0;
		m->throttle_pct = m->throttle_pct == 0
					  ? c->throttle_initial_pct
					  : m->throttle_pct +
						    c->throttle_increment_pct;
		if (m->throttle_pct > c->throttle_max_pct)
			m->throttle_pct = c->throttle_max_pct;
	}
	m->period_start_ns = (uint64_t)m->clock_ns;
	m->period_dirty = m->period_bytes = 0;
}

/* The VM stops; the last set goes. */
static int stop_and_copy(struct mv_migration *m, struct mv_error *err)
{
	int rc = round_new(m);
	if (rc)
		return migrate_abort(m, rc, 0, "out of memory", err);
	double start = m->clock_ns;
	rc = send_pass(m, 1e300, err);
	if (rc)
		return rc;
	struct mv_migrate_round *r = round_now(m);
	r->ns = (uint64_t)(m->clock_ns - start);
	m->downtime_ns = r->ns;
	m->state = MV_MIG_DONE;
	m->throttle_pct = 0;
	mv_vm_dirty_log_stop(m->src);
	if (m->src->expect && m->dst->expect)
		memcpy(m->dst->expect, m->src->expect,
		       m->src->npages * sizeof *m->src->expect);
	return 0;
}

/* A round ended: sync the log, then stop or go on. */
static int round_end(struct mv_migration *m, struct mv_error *err)
{
	struct mv_migrate_round *r = round_now(m);
	r->ns = (uint64_t)(m->clock_ns - (double)r->start_ns);
	uint64_t dirty = mv_vm_dirty_log_sync(m->src, m->pass);
	throttle_update(m, dirty);
	/* QEMU's switchover test, at the bandwidth the round achieved */
	double bw = r->ns > 0 ? (double)r->bytes * 1e9 / (double)r->ns
			      : m->cfg.bandwidth;
	double pending = (double)dirty * MV_MIG_PAGE_WIRE;
	if (pending <= bw * (double)m->cfg.downtime_limit_ns / 1e9) {
		m->converged = 1;
		return stop_and_copy(m, err);
	}
	if (m->nrounds >= m->cfg.max_rounds)
		return stop_and_copy(m, err);
	int rc = round_new(m);
	return rc ? migrate_abort(m, rc, 0, "out of memory", err) : 0;
}

int mv_migrate_run(struct mv_migration *m, uint64_t dt_ns, struct mv_error *err)
{
	if (m->state != MV_MIG_ACTIVE)
		return 0;
	m->now_ns += dt_ns;
	/* a migration that fell behind the caller (never: it always works
	 * until the end of the slice) resumes at the slice's start */
	if (m->clock_ns < (double)(m->now_ns - dt_ns))
		m->clock_ns = (double)(m->now_ns - dt_ns);
	while (m->clock_ns < (double)m->now_ns) {
		int rc = send_pass(m, (double)m->now_ns, err);
		if (rc)
			return rc;
		if (pass_next(m) < m->src->npages)
			break; /* the slice is used up */
		rc = round_end(m, err);
		if (rc || m->state != MV_MIG_ACTIVE)
			return rc;
	}
	return 0;
}

int mv_migrate_start(struct mv_vm *src, struct mv_host *dst_host,
		     const struct mv_migrate_config *cfg,
		     struct mv_migration **out, struct mv_error *err)
{
	*out = NULL;
	if (src->hugetlb)
		return mv_error_set(err, MV_EINVAL, src->cfg.source, 0,
				    "migration",
				    "VM %s is backed by hugetlbfs: its "
				    "migration is not modelled yet",
				    src->cfg.name);
	if (!(cfg->bandwidth > 0) || cfg->max_rounds < 1)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "bandwidth must be above 0 and "
				    "max-rounds at least 1");
	if (src->dirty_log)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "VM %s is already being migrated",
				    src->cfg.name);
	struct mv_migration *m = calloc(1, sizeof *m);
	if (!m)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	m->cfg = *cfg;
	m->src = src;
	m->words = mv_vm_dirty_log_words(src);
	m->pass = malloc(m->words * sizeof *m->pass);
	int rc = m->pass ? 0 : MV_ENOMEM;
	if (!rc)
		rc = mv_vm_create(dst_host, &src->cfg, src->id, &m->dst, err);
	if (!rc && src->expect && mv_vm_enable_verify(m->dst))
		rc = MV_ENOMEM;
	if (!rc)
		rc = mv_vm_dirty_log_start(src);
	if (!rc && cfg->shared_swap) {
		/* the destination holds swapped pages as their slots: a page
		 * that changes slot is sent again */
		mv_vm_dirty_log_swap(src);
		mv_swapfile_lend(src, m->dst);
	}
	if (!rc)
		rc = round_new(m);
	if (rc) {
		mv_migrate_destroy(m);
		return rc == MV_ENOMEM ? mv_error_set(err, rc, NULL, 0, "",
						      "out of memory")
				       : rc;
	}
	/* the bulk round: every page */
	memset(m->pass, 0xff, m->words * sizeof *m->pass);
	if (src->npages & 63)
		m->pass[m->words - 1] = (UINT64_C(1) << (src->npages & 63)) - 1;
	m->state = MV_MIG_ACTIVE;
	*out = m;
	return 0;
}

uint64_t mv_migrate_verify(const struct mv_migration *m)
{
	if (m->state != MV_MIG_DONE || !m->dst)
		return m->src->npages;
	uint64_t bad = 0;
	for (mv_gppn_t g = 0; g < m->src->npages; g++) {
		uint64_t a, b;
		if (hash_page(m->src, g, &a) || hash_page(m->dst, g, &b) ||
		    a != b)
			bad++;
	}
	return bad;
}

int mv_migrate_cancel(struct mv_migration *m, const char *why,
		      struct mv_error *err)
{
	if (m->state != MV_MIG_ACTIVE)
		return 0;
	return migrate_abort(m, MV_ECANCELED, 0, why, err);
}

struct mv_vm *mv_migrate_take(struct mv_migration *m)
{
	if (m->state != MV_MIG_DONE)
		return NULL;
	struct mv_vm *v = m->dst;
	m->dst = NULL;
	return v;
}

void mv_migrate_destroy(struct mv_migration *m)
{
	if (!m)
		return;
	if (m->state == MV_MIG_ACTIVE)
		mv_vm_dirty_log_stop(m->src);
	mv_vm_destroy(m->dst);
	free(m->pass);
	free(m->round);
	free(m);
}
