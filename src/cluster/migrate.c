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
 *
 * The wire: the source and the destination only talk through bytes, so
 * that they can be processes apart (issue 17, hosts over MPI ranks). The
 * source side (struct mv_migration) reads each page it sends into a
 * record of its outbox (cluster.h has the format: a 24-byte header, the
 * page's 4096 bytes only when they must go); the destination side (struct
 * mv_migration_in) applies the records in order (mv_migrate_in_apply) and
 * answers: all applied, or the index of the record it had no frame for.
 * The figures must be those of a migration that wrote each page on the
 * destination as it read it (stage 1 did): one that had aborted at that
 * page. So the source keeps, until the answer, what each record cost it
 * (struct mv_mig_sent) and its figures at the start of each segment of
 * the outbox (the call, and each round begun in it: struct
 * mv_mig_checkpoint); an answer "failed at j" takes the figures back to
 * the segment of j and adds the records before j again, in their order
 * (the clock is a sum of doubles: the same additions in the same order
 * give the same clock), then aborts there. A page that cannot be read back
 * stops the source where it is, and the abort waits for the answer too:
 * a record before it the destination had no frame for comes first.
 * Verification compares the source's XXH3 of every page with those the
 * destination computes (mv_migrate_in_hashes), the answer a process
 * apart would send.
 *
 * What the source does to its own VM for a record past j (the interval
 * model's writes made as it reads a page, a log sync at a round's end
 * within the same call) is not undone: only the migration's figures are.
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

/*
 * Read source page g as it would be sent: its kind, and its descriptor
 * (*d) or bytes (*bytes, the arena or buf). A non-resident page is read
 * back (*readback_ns its latency), except a swapped page when the swap
 * file is on shared storage (shared_swap): its slot goes, in *d. 0 or
 * MV_EIO.
 */
static int read_page(const struct mv_vm *vm, mv_gppn_t g, int shared_swap,
		     enum mv_mig_rec_kind *kind, mv_desc_t *d,
		     const uint8_t **bytes, uint8_t *buf, uint64_t *readback_ns)
{
	const struct mv_pme *e = &vm->pmap[g];
	const struct mv_host *h = vm->host;
	*readback_ns = 0;
	switch ((enum mv_page_state)e->state) {
	case MV_PS_UNTOUCHED:
	case MV_PS_ZERO:
		*kind = MV_MIG_REC_ZERO;
		return 0;
	case MV_PS_BALLOONED:
		*kind = MV_MIG_REC_BALLOON;
		return 0;
	case MV_PS_PRIVATE:
	case MV_PS_SHARED:
		*d = mv_host_frame_desc(h, e->mpn);
		if (*d == MV_DESC_ZERO_PAGE) {
			*kind = MV_MIG_REC_ZERO;
			return 0;
		}
		if (*d != MV_DESC_BYTES) {
			*kind = MV_MIG_REC_DESC;
			return 0;
		}
		*bytes = mv_host_frame(h, e->mpn);
		break;
	case MV_PS_SWAPPED:
		if (shared_swap) {
			*kind = MV_MIG_REC_SWAPREF;
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
	*kind = mv_page_is_zero(*bytes) ? MV_MIG_REC_ZERO : MV_MIG_REC_BYTES;
	return 0;
}

/* The page's bytes wherever they are, hashed (verification). */
static int hash_page(const struct mv_vm *vm, mv_gppn_t g, uint64_t *hash)
{
	uint8_t buf[MV_PAGE_SIZE];
	enum mv_mig_rec_kind kind;
	mv_desc_t d = MV_DESC_BYTES;
	const uint8_t *bytes = NULL;
	uint64_t ns;
	int rc = read_page(vm, g, 0, &kind, &d, &bytes, buf, &ns);
	if (rc)
		return rc;
	if (kind == MV_MIG_REC_DESC)
		bytes = mv_host_frame_read(vm->host, vm->pmap[g].mpn, buf);
	*hash = kind == MV_MIG_REC_ZERO || kind == MV_MIG_REC_BALLOON
			? mv_zero_page_hash()
			: mv_page_hash(bytes);
	return 0;
}

/* ---- the wire: records (cluster.h has the format) ---------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A record's header, read back. */
struct rec {
	enum mv_mig_rec_kind kind;
	uint64_t gppn, arg;
	size_t payload; /* bytes after the header */
};

/*
 * Append a record's header to the outbox; the payload's room (payload
 * bytes) follows it, returned for the caller to fill. NULL out of memory.
 */
static uint8_t *out_append(struct mv_migration *m, enum mv_mig_rec_kind kind,
			   uint64_t gppn, uint64_t arg, size_t payload)
{
	size_t need = m->out_len + MV_MIG_REC_HEADER + payload;
	if (need > m->out_cap) {
		size_t cap = m->out_cap ? m->out_cap : 64 * 1024;
		while (cap < need)
			cap *= 2;
		uint8_t *p = realloc(m->out, cap);
		if (!p)
			return NULL;
		m->out = p;
		m->out_cap = cap;
	}
	uint8_t *p = m->out + m->out_len;
	memcpy(p, "MVMR", 4);
	p[4] = (uint8_t)kind;
	p[5] = p[6] = p[7] = 0;
	put64(p + 8, gppn);
	put64(p + 16, arg);
	m->out_len = need;
	return p + MV_MIG_REC_HEADER;
}

/*
 * Record idx at buf[off..len), checked against destination VM v: 0 and
 * *r, or MV_EINVAL with err naming the record and what is wrong.
 */
static int rec_parse(const struct mv_vm *v, const uint8_t *buf, size_t len,
		     size_t off, uint64_t idx, struct rec *r,
		     struct mv_error *err)
{
	const uint8_t *p = buf + off;
	const char *why = NULL;
	if (len - off < MV_MIG_REC_HEADER)
		why = "truncated header";
	else if (memcmp(p, "MVMR", 4))
		why = "not a record (no \"MVMR\")";
	else if (p[4] >= MV_MIG_REC_KINDS || p[5] || p[6] || p[7])
		why = "unknown kind";
	if (why)
		goto bad;
	r->kind = (enum mv_mig_rec_kind)p[4];
	r->gppn = get64(p + 8);
	r->arg = get64(p + 16);
	r->payload = r->kind == MV_MIG_REC_BYTES ? MV_PAGE_SIZE : 0;
	if (r->kind == MV_MIG_REC_CHECKSUMS) {
		if (r->gppn != v->npages || r->arg)
			why = "checksums not one per page of the VM";
		else
			r->payload = (size_t)v->npages * 8;
	} else if (r->gppn >= v->npages) {
		why = "page beyond the VM";
	} else if (r->kind == MV_MIG_REC_DESC
			   ? r->arg == MV_DESC_BYTES ||
				     r->arg == MV_DESC_ZERO_PAGE
		   : r->kind == MV_MIG_REC_SWAPREF ? r->arg > UINT32_MAX
						   : r->arg != 0) {
		why = "bad descriptor or slot";
	}
	if (!why && len - off - MV_MIG_REC_HEADER < r->payload)
		why = "truncated payload";
	if (!why)
		return 0;
bad:
	return mv_error_set(err, MV_EINVAL, NULL, 0, "migration record",
			    "record %llu (byte %zu of %zu): %s",
			    (unsigned long long)idx, off, len, why);
}

/* ---- the destination side ---------------------------------------------- */

/* Destination page g takes what was sent. 0, or MV_EAGAIN: no frame. */
static int write_page(struct mv_vm *v, mv_gppn_t g, enum mv_mig_rec_kind kind,
		      mv_desc_t d, const uint8_t *bytes)
{
	struct mv_pme *e = &v->pmap[g];
	struct mv_host *h = v->host;
	int resident = e->state == MV_PS_PRIVATE;
	if (kind == MV_MIG_REC_ZERO || kind == MV_MIG_REC_BALLOON ||
	    kind == MV_MIG_REC_SWAPREF) {
		/* a slot of the shared swap file, which the destination VM
		 * reads through the source's (mv_swapfile_lend) until the
		 * file comes with it */
		enum mv_page_state st = kind == MV_MIG_REC_ZERO
						? MV_PS_UNTOUCHED
					: kind == MV_MIG_REC_SWAPREF
						? MV_PS_SWAPPED
						: MV_PS_BALLOONED;
		uint32_t slot = kind == MV_MIG_REC_SWAPREF ? (uint32_t)d : 0;
		if (resident)
			mv_host_frame_put(h, e->mpn);
		if (e->state != st || e->mpn != slot)
			mv_pmap_set(v, g, st, slot);
		return 0;
	}
	mv_mpn_t mpn = resident ? e->mpn : mv_vm_numa_alloc(v, g);
	if (mpn == MV_MPN_NONE)
		return MV_EAGAIN;
	if (kind == MV_MIG_REC_DESC) {
		if (mv_host_frame_desc(h, mpn) != d)
			mv_host_frame_set_desc(h, mpn, d);
	} else {
		memcpy(mv_host_frame_overwrite(h, mpn), bytes, MV_PAGE_SIZE);
	}
	if (!resident)
		mv_pmap_set(v, g, MV_PS_PRIVATE, mpn);
	return 0;
}

int mv_migrate_in_create(struct mv_host *dst_host,
			 const struct mv_vm_config *cfg, int id, int verify,
			 struct mv_migration_in **out, struct mv_error *err)
{
	*out = NULL;
	struct mv_migration_in *in = calloc(1, sizeof *in);
	if (!in)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	int rc = mv_vm_create(dst_host, cfg, id, &in->vm, err);
	if (!rc && verify && mv_vm_enable_verify(in->vm))
		rc = mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	if (rc) {
		mv_migrate_in_destroy(in);
		return rc;
	}
	*out = in;
	return 0;
}

int mv_migrate_in_apply(struct mv_migration_in *in, const uint8_t *buf,
			size_t len, uint64_t *failed, struct mv_error *err)
{
	struct mv_vm *v = in->vm;
	struct rec r;
	uint64_t n = 0;
	size_t off;
	*failed = 0;
	if (!v)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration record",
				    "no destination VM to apply records to");
	/* all checked first: a bad buffer changes nothing */
	for (off = 0; off < len; off += MV_MIG_REC_HEADER + r.payload, n++) {
		int rc = rec_parse(v, buf, len, off, n, &r, err);
		if (rc) {
			*failed = n;
			return rc;
		}
	}
	n = 0;
	for (off = 0; off < len; off += MV_MIG_REC_HEADER + r.payload, n++) {
		rec_parse(v, buf, len, off, n, &r, NULL);
		const uint8_t *pay = buf + off + MV_MIG_REC_HEADER;
		if (r.kind == MV_MIG_REC_CHECKSUMS) {
			for (mv_gppn_t g = 0; v->expect && g < v->npages; g++)
				v->expect[g] = get64(pay + 8 * g);
		} else if (write_page(v, r.gppn, r.kind, r.arg, pay)) {
			*failed = n;
			return mv_error_set(
				err, MV_EAGAIN, NULL, 0, "migration",
				"VM %s, page %llu: the destination "
				"host is out of memory",
				v->cfg.name, (unsigned long long)r.gppn);
		}
		in->records++;
	}
	return 0;
}

int mv_migrate_in_hashes(const struct mv_migration_in *in, uint64_t *hash)
{
	if (!in->vm)
		return MV_EIO;
	for (mv_gppn_t g = 0; g < in->vm->npages; g++)
		if (hash_page(in->vm, g, &hash[g]))
			return MV_EIO;
	return 0;
}

struct mv_vm *mv_migrate_in_take(struct mv_migration_in *in)
{
	struct mv_vm *v = in->vm;
	in->vm = NULL;
	return v;
}

void mv_migrate_in_destroy(struct mv_migration_in *in)
{
	if (!in)
		return;
	mv_vm_destroy(in->vm);
	free(in);
}

/* ---- the source side --------------------------------------------------- */

static struct mv_migrate_round *round_now(struct mv_migration *m)
{
	return &m->round[m->nrounds - 1];
}

/* A segment of the outbox starts: the figures now. 0 or MV_ENOMEM. */
static int checkpoint(struct mv_migration *m)
{
	if (mv_array_room(&m->ck, &m->cap_ck, m->nck, sizeof *m->ck, 8))
		return MV_ENOMEM;
	m->ck[m->nck++] = (struct mv_mig_checkpoint){
		.first = m->nout,
		.round = *round_now(m),
		.nrounds = m->nrounds,
		.throttle_pct = m->throttle_pct,
		.dirty_high = m->dirty_high,
		.converged = m->converged,
		.state = m->state,
		.clock_ns = m->clock_ns,
		.period_start_ns = m->period_start_ns,
		.period_dirty = m->period_dirty,
		.period_bytes = m->period_bytes,
		.downtime_ns = m->downtime_ns,
		.pages = m->pages,
		.bytes = m->bytes,
	};
	return 0;
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
	return checkpoint(m);
}

/* The outbox is answered (or moot): empty it. */
static void out_clear(struct mv_migration *m)
{
	m->out_len = 0;
	m->nout = 0;
	m->nck = 0;
	m->read_failed = 0;
}

/* Give up: the destination's frames go back, the source runs on. */
static int migrate_abort(struct mv_migration *m, int code, mv_gppn_t g,
			 const char *why, struct mv_error *err)
{
	m->state = MV_MIG_ABORTED;
	m->abort_gppn = g;
	if (m->nrounds) /* the round ends where it stopped */
		round_now(m)->ns = (uint64_t)(m->clock_ns -
					      (double)round_now(m)->start_ns);
	snprintf(m->abort_reason, sizeof m->abort_reason, "%s", why);
	if (m->loop)
		mv_vm_destroy(mv_migrate_in_take(m->loop));
	mv_vm_dirty_log_stop(m->src);
	m->throttle_pct = 0;
	out_clear(m);
	return mv_error_set(err, code, NULL, 0, "migration",
			    "VM %s, page %llu: %s; aborted, the VM runs on "
			    "its source host",
			    m->src->cfg.name, (unsigned long long)g, why);
}

/* A record's cost in the figures (a page's; the checksums cost none). */
static void account(struct mv_migration *m, const struct mv_mig_sent *s)
{
	if (!s->wire)
		return;
	struct mv_migrate_round *r = round_now(m);
	r->pages++;
	r->zero += s->wire == MV_MIG_ZERO_WIRE;
	r->swap_refs += s->swap_ref;
	r->readback += s->readback;
	r->bytes += s->wire;
	m->pages++;
	m->bytes += s->wire;
	m->period_bytes += s->wire;
}

/* Record s (its header and payload already in the outbox) is kept until
 * the answer. 0 or MV_ENOMEM. */
static int sent_add(struct mv_migration *m, const struct mv_mig_sent *s)
{
	if (mv_array_room(&m->sent, &m->cap_sent, m->nout, sizeof *m->sent,
			  256))
		return MV_ENOMEM;
	m->sent[m->nout++] = *s;
	return 0;
}

/* Take the figures back to what they were just before record j was read
 * (see "The wire" at the top). */
static void rollback(struct mv_migration *m, uint64_t j)
{
	size_t k = m->nck;
	while (k > 1 && m->ck[k - 1].first > j)
		k--;
	const struct mv_mig_checkpoint *c = &m->ck[k - 1];
	m->nrounds = c->nrounds;
	*round_now(m) = c->round;
	m->throttle_pct = c->throttle_pct;
	m->dirty_high = c->dirty_high;
	m->converged = c->converged;
	m->state = c->state;
	m->clock_ns = c->clock_ns;
	m->period_start_ns = c->period_start_ns;
	m->period_dirty = c->period_dirty;
	m->period_bytes = c->period_bytes;
	m->downtime_ns = c->downtime_ns;
	m->pages = c->pages;
	m->bytes = c->bytes;
	for (uint64_t i = c->first; i < j; i++) {
		account(m, &m->sent[i]);
		m->clock_ns += m->sent[i].cost_ns;
	}
}

/* Send page g (read it, clear its log bit, put its record in the
 * outbox); *cost_ns gets the time it took. 0, or the abort's code; a
 * page that cannot be read back sets read_failed (the caller stops). */
static int send_page(struct mv_migration *m, mv_gppn_t g, double *cost_ns,
		     struct mv_error *err)
{
	uint8_t buf[MV_PAGE_SIZE];
	enum mv_mig_rec_kind kind;
	mv_desc_t d = MV_DESC_BYTES;
	const uint8_t *bytes = NULL;
	uint64_t readback_ns;
	struct mv_vm *src = m->src;
	/* the interval model applies the writes the page had by now */
	mv_vm_observe(src, g);
	src->dirty_log[g >> 6] &= ~(UINT64_C(1) << (g & 63));
	if (read_page(src, g, m->cfg.shared_swap, &kind, &d, &bytes, buf,
		      &readback_ns)) {
		m->read_failed = 1;
		m->read_failed_gppn = g;
		*cost_ns = 0;
		return 0;
	}
	int has_arg = kind == MV_MIG_REC_DESC || kind == MV_MIG_REC_SWAPREF;
	uint8_t *pay = out_append(m, kind, g, has_arg ? d : 0,
				  kind == MV_MIG_REC_BYTES ? MV_PAGE_SIZE : 0);
	unsigned wire = kind == MV_MIG_REC_ZERO || kind == MV_MIG_REC_BALLOON
				? MV_MIG_ZERO_WIRE
			: kind == MV_MIG_REC_SWAPREF ? MV_MIG_SWAPREF_WIRE
						     : MV_MIG_PAGE_WIRE;
	struct mv_mig_sent s = {
		.gppn = g,
		.cost_ns = (double)wire * 1e9 / m->cfg.bandwidth +
			   (double)readback_ns,
		.wire = wire,
		.swap_ref = kind == MV_MIG_REC_SWAPREF,
		.readback = readback_ns > 0,
	};
	if (!pay || sent_add(m, &s))
		return migrate_abort(m, MV_ENOMEM, g, "out of memory", err);
	if (kind == MV_MIG_REC_BYTES)
		memcpy(pay, bytes, MV_PAGE_SIZE);
	account(m, &s);
	*cost_ns = s.cost_ns;
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

/* Send every page of the round (until one cannot be read back); 0 or the
 * abort's code. */
static int send_pass(struct mv_migration *m, double end_ns,
		     struct mv_error *err)
{
	mv_gppn_t g;
	while (m->clock_ns < end_ns && (g = pass_next(m)) < m->src->npages) {
		if (m->out_len >= m->out_max ||
		    m->nout >= MV_MIG_OUTBOX_RECORDS) {
			m->more = 1; /* the rest after the answer */
			return 0;
		}
		double cost;
		int rc = send_page(m, g, &cost, err);
		if (rc || m->read_failed)
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

/* The source's per-page checksums, as the stop-and-copy's last record
 * (with verification on). 0 or MV_ENOMEM. */
static int send_checksums(struct mv_migration *m)
{
	const struct mv_vm *src = m->src;
	if (!src->expect)
		return 0;
	uint8_t *pay = out_append(m, MV_MIG_REC_CHECKSUMS, src->npages, 0,
				  (size_t)src->npages * 8);
	struct mv_mig_sent s = {.gppn = 0};
	if (!pay || sent_add(m, &s))
		return MV_ENOMEM;
	for (mv_gppn_t g = 0; g < src->npages; g++)
		put64(pay + 8 * g, src->expect[g]);
	return 0;
}

/* The stop-and-copy's set goes (what is left of it, after a full
 * outbox), then the migration is done. */
static int stop_and_copy_send(struct mv_migration *m, struct mv_error *err)
{
	int rc = send_pass(m, 1e300, err);
	if (rc || m->read_failed || m->more)
		return rc;
	if (send_checksums(m))
		return migrate_abort(m, MV_ENOMEM, 0, "out of memory", err);
	m->stopping = 0;
	struct mv_migrate_round *r = round_now(m);
	r->ns = (uint64_t)(m->clock_ns - m->stop_start_ns);
	m->downtime_ns = r->ns;
	m->state = MV_MIG_DONE;
	m->throttle_pct = 0;
	mv_vm_dirty_log_stop(m->src);
	return 0;
}

/* The VM stops; the last set goes. */
static int stop_and_copy(struct mv_migration *m, struct mv_error *err)
{
	int rc = round_new(m);
	if (rc)
		return migrate_abort(m, rc, 0, "out of memory", err);
	m->stopping = 1;
	m->stop_start_ns = m->clock_ns;
	return stop_and_copy_send(m, err);
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
	if (m->state != MV_MIG_ACTIVE || m->read_failed)
		return 0;
	if (checkpoint(m))
		return migrate_abort(m, MV_ENOMEM, 0, "out of memory", err);
	m->now_ns += dt_ns;
	/* a migration that fell behind the caller (never: it always works
	 * until the end of the slice, or stopped at a full outbox, which
	 * this call goes on from) resumes at the slice's start */
	if (!m->more && m->clock_ns < (double)(m->now_ns - dt_ns))
		m->clock_ns = (double)(m->now_ns - dt_ns);
	m->more = 0;
	if (m->stopping)
		return stop_and_copy_send(m, err);
	while (m->clock_ns < (double)m->now_ns) {
		int rc = send_pass(m, (double)m->now_ns, err);
		if (rc || m->read_failed || m->more)
			return rc;
		if (pass_next(m) < m->src->npages)
			break; /* the slice is used up */
		rc = round_end(m, err);
		if (rc || m->state != MV_MIG_ACTIVE)
			return rc;
	}
	return 0;
}

int mv_migrate_applied(struct mv_migration *m, int rc, uint64_t failed,
		       struct mv_error *err)
{
	if (m->state == MV_MIG_ABORTED) { /* cancelled meanwhile */
		out_clear(m);
		return 0;
	}
	if (rc) {
		if (failed > m->nout)
			failed = m->nout;
		mv_gppn_t g = failed < m->nout ? m->sent[failed].gppn : 0;
		rollback(m, failed);
		return migrate_abort(m, rc, g,
				     rc == MV_EAGAIN
					     ? "the destination host is out "
					       "of memory"
					     : "the destination refused its "
					       "record",
				     err);
	}
	if (m->read_failed)
		return migrate_abort(m, MV_EIO, m->read_failed_gppn,
				     "cannot read the page back from its "
				     "compression cache or swap file",
				     err);
	out_clear(m);
	return 0;
}

int mv_migrate_deliver(struct mv_migration *m, struct mv_migration_in *in,
		       struct mv_error *err)
{
	if (m->state == MV_MIG_ABORTED || (!m->out_len && !m->read_failed))
		return 0;
	uint64_t failed = 0;
	struct mv_error in_err = {0};
	int rc = mv_migrate_in_apply(in, m->out, m->out_len, &failed, &in_err);
	return mv_migrate_applied(m, rc, failed, err);
}

int mv_migrate_step(struct mv_migration *m, uint64_t dt_ns,
		    struct mv_error *err)
{
	int rc = mv_migrate_run(m, dt_ns, err);
	if (rc || !m->loop)
		return rc;
	while ((rc = mv_migrate_deliver(m, m->loop, err)) == 0 && m->more)
		rc = mv_migrate_run(m, 0, err);
	return rc;
}

int mv_migrate_src_start(struct mv_vm *src, const struct mv_migrate_config *cfg,
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
	m->out_max = MV_MIG_OUTBOX_BYTES;
	m->words = mv_vm_dirty_log_words(src);
	m->pass = malloc(m->words * sizeof *m->pass);
	int rc = m->pass ? 0 : MV_ENOMEM;
	if (!rc)
		rc = mv_vm_dirty_log_start(src);
	/* the destination holds swapped pages as their slots: a page that
	 * changes slot is sent again */
	if (!rc && cfg->shared_swap)
		mv_vm_dirty_log_swap(src);
	if (!rc)
		rc = round_new(m);
	if (rc) {
		mv_migrate_destroy(m);
		return mv_error_set(err, rc, NULL, 0, "", "out of memory");
	}
	/* the bulk round: every page */
	memset(m->pass, 0xff, m->words * sizeof *m->pass);
	if (src->npages & 63)
		m->pass[m->words - 1] = (UINT64_C(1) << (src->npages & 63)) - 1;
	m->state = MV_MIG_ACTIVE;
	*out = m;
	return 0;
}

int mv_migrate_start(struct mv_vm *src, struct mv_host *dst_host,
		     const struct mv_migrate_config *cfg,
		     struct mv_migration **out, struct mv_error *err)
{
	struct mv_migration *m;
	int rc = mv_migrate_src_start(src, cfg, &m, err);
	if (rc)
		return rc;
	rc = mv_migrate_in_create(dst_host, &src->cfg, src->id,
				  src->expect != NULL, &m->loop, err);
	if (rc) {
		mv_migrate_destroy(m);
		return rc;
	}
	/* one process: the destination reads the slots it is sent through
	 * the source's file until the file comes with the VM */
	if (cfg->shared_swap)
		mv_swapfile_lend(src, m->loop->vm);
	*out = m;
	return 0;
}

uint64_t mv_migrate_verify_hashes(const struct mv_migration *m,
				  const uint64_t *hash)
{
	if (m->state != MV_MIG_DONE)
		return m->src->npages;
	uint64_t bad = 0;
	for (mv_gppn_t g = 0; g < m->src->npages; g++) {
		uint64_t a;
		if (hash_page(m->src, g, &a) || a != hash[g])
			bad++;
	}
	return bad;
}

uint64_t mv_migrate_verify(const struct mv_migration *m)
{
	if (m->state != MV_MIG_DONE || !m->loop || !m->loop->vm)
		return m->src->npages;
	uint64_t *hash = malloc(m->src->npages * sizeof *hash);
	uint64_t bad = m->src->npages; /* unless both sides could be read */
	if (hash && !mv_migrate_in_hashes(m->loop, hash))
		bad = mv_migrate_verify_hashes(m, hash);
	free(hash);
	return bad;
}

int mv_migrate_cancel(struct mv_migration *m, const char *why,
		      struct mv_error *err)
{
	if (m->state != MV_MIG_ACTIVE)
		return 0;
	return migrate_abort(m, MV_ECANCELED, 0, why, err);
}

struct mv_vm *mv_migrate_dst(const struct mv_migration *m)
{
	return m->loop ? m->loop->vm : NULL;
}

struct mv_vm *mv_migrate_take(struct mv_migration *m)
{
	if (m->state != MV_MIG_DONE || !m->loop)
		return NULL;
	return mv_migrate_in_take(m->loop);
}

void mv_migrate_destroy(struct mv_migration *m)
{
	if (!m)
		return;
	if (m->state == MV_MIG_ACTIVE)
		mv_vm_dirty_log_stop(m->src);
	mv_migrate_in_destroy(m->loop);
	free(m->pass);
	free(m->round);
	free(m->out);
	free(m->sent);
	free(m->ck);
	free(m);
}
