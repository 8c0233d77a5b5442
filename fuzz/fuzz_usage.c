/*
 * fuzz_usage.c - libFuzzer harness for the usage-trace reader
 * (mv_usage_trace_parse, src/sim/usage.c: Bitbrains GWA-T-12 CSV or the
 * Google 2011 per-VM rows) and, behind it, a usage workload
 * (src/guest/workload.c) following what the reader accepts.
 *
 * The input's first byte picks the format (even: bitbrains, odd: google),
 * the rest is the trace's text. The reader must return 0, MV_EINVAL or
 * MV_ENOMEM; a rejection must name the file and say what is wrong; an
 * accepted trace must have rows whose times start at 0 and increase
 * strictly and whose fractions lie in 0..1. A workload of 64 pages then
 * follows it for a few steps (through ops that grant every page) and must
 * keep its set within its size. Corpus: fuzz/corpus/usage/.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/workload.h"
#include "memvisor/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int grant(void *ctx, struct gwork *w, uint64_t vpn, int write, int fetch)
{
	(void)ctx;
	(void)write;
	(void)fetch;
	if (vpn >= w->ws)
		abort(); /* a page outside the process */
	return 0;
}

static int give_back(void *ctx, struct gwork *w, uint64_t vpn)
{
	(void)ctx;
	if (vpn >= w->ws)
		abort();
	return 0;
}

static void no_wait(void *ctx, uint64_t ns)
{
	(void)ctx;
	(void)ns;
}

static const struct gwork_ops ops = {grant, give_back, no_wait};

static void follow(const struct mv_usage_trace *u)
{
	struct mv_workload_config c;
	mv_workload_config_default(&c);
	c.kind = MV_WL_USAGE;
	c.usage = u;
	c.size_bytes = 64 * MV_PAGE_SIZE;
	c.rate = 100;
	c.usage_speedup = 1000;
	struct gwork w;
	uint64_t nv;
	memset(&w, 0, sizeof w);
	if (gwork_init(&w, 0, &c, 1024, 0, 1, &nv) != 0)
		abort();
	for (uint64_t t = 0; t < 64; t++) {
		gwork_step(&w, t * 7 * MV_NS_PER_S, 1, 1.0, &ops, NULL);
		if (w.uset > w.ws)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum mv_usage_format f = data[0] & 1 ? MV_USAGE_GOOGLE
					     : MV_USAGE_BITBRAINS;
	struct mv_usage_trace *u = NULL;
	struct mv_error err;
	memset(&err, 0, sizeof err);
	int rc = mv_usage_trace_parse((const char *)data + 1, size - 1,
				      "fuzz.csv", f, &u, &err);
	if (rc == MV_EINVAL &&
	    (strcmp(err.file, "fuzz.csv") != 0 || !err.msg[0] || u))
		abort(); /* an error that does not say where, or a result */
	if (rc != 0 && rc != MV_EINVAL && rc != MV_ENOMEM)
		abort();
	if (rc)
		return 0;
	if (!u || !u->nrows || u->t_ns[0] != 0)
		abort();
	for (uint64_t i = 0; i < u->nrows; i++) {
		if (!(u->frac[i] >= 0 && u->frac[i] <= 1))
			abort(); /* a fraction the reader should have refused */
		if (i && u->t_ns[i] <= u->t_ns[i - 1])
			abort(); /* time that does not move forward */
	}
	follow(u);
	mv_usage_trace_free(u);
	return 0;
}
