/*
 * bench_pack.c - what a running guest model costs as bytes (issue 17: a
 * VM's guest moves between the processes of a cluster run; src/guest/
 * pack.c).
 *
 * The busy host of examples/cluster-swap.xml (two 512 MiB VMs, a Zipf
 * set of 300 MiB each at 20k accesses/s, a 64 MiB OS image, on a 512 MiB
 * host that swaps) runs 40 simulated seconds, the time that example's
 * VM migrates, with the exact access model and with the interval model.
 * Then the first VM's guest is packed, destroyed and unpacked onto its VM,
 * MV_BENCH_ROUNDS times: the buffer's size, and the median CPU time of
 * mv_guest_pack and of mv_guest_unpack (this thread's), with their range.
 * The guest's books are checked after the last round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "memvisor/memvisor.h"
#include "bench.h"

static const char scenario[] =
	"<scenario name=\"pack\" seed=\"3\" duration=\"40s\" step=\"10ms\">"
	"<host><memory unit=\"MiB\">512</memory><sharing enabled=\"no\"/>"
	"<compression enabled=\"no\"/><swap device=\"ssd\"/></host>"
	"<vm count=\"2\"><domain type=\"kvm\"><name>db</name>"
	"<memory unit=\"MiB\">512</memory>"
	"<metadata><mv:memvisor xmlns:mv=\"urn:memvisor:domain:1\">"
	"<mv:guest os=\"linux\" image=\"debian-12\" image-size=\"64MiB\"/>"
	"</mv:memvisor></metadata>"
	"<devices><memballoon model=\"none\"/></devices></domain>"
	"<workload name=\"db\" kind=\"steady\" dist=\"zipf\" size=\"300MiB\" "
	"rate=\"20k\" write-ratio=\"30%\" content=\"data\" "
	"compressibility=\"0.7\"/></vm></scenario>";

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void one(enum mv_access_model model)
{
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	if (mv_scenario_load_string(scenario, "bench_pack", ".", &sc, &err))
		mv_bench_die("mv_scenario_load_string", &err);
	sc->access_model = model;
	struct mv_sim *s = NULL;
	if (mv_sim_create(sc, 0, &s, &err)) /* takes sc */
		mv_bench_die("mv_sim_create", &err);
	if (mv_sim_run(s, NULL, NULL, &err))
		mv_bench_die("mv_sim_run", &err);
	double pack_ms[MV_BENCH_ROUNDS], unpack_ms[MV_BENCH_ROUNDS];
	size_t len = 0;
	for (int r = 0; r < MV_BENCH_ROUNDS; r++) {
		void *buf;
		double t0 = cpu_ms();
		if (mv_guest_pack(s->guest[0], &buf, &len, &err))
			mv_bench_die("mv_guest_pack", &err);
		double t1 = cpu_ms();
		mv_guest_destroy(s->guest[0]);
		s->guest[0] = NULL;
		double t2 = cpu_ms();
		if (mv_guest_unpack(buf, len, s->vm[0], &s->guest[0], &err))
			mv_bench_die("mv_guest_unpack", &err);
		double t3 = cpu_ms();
		mv_guest_set_stop(s->guest[0], s->stop);
		free(buf);
		pack_ms[r] = t1 - t0;
		unpack_ms[r] = t3 - t2;
	}
	if (mv_guest_check(s->guest[0], &err))
		mv_bench_die("mv_guest_check", &err);
	struct mv_guest_stats st;
	mv_guest_stats(s->guest[0], &st);
	qsort(pack_ms, MV_BENCH_ROUNDS, sizeof *pack_ms, cmp_double);
	qsort(unpack_ms, MV_BENCH_ROUNDS, sizeof *unpack_ms, cmp_double);
	printf("| %s | %s | %zu (%.2f MiB) | %llu | %.2f (%.2f-%.2f) | %.2f "
	       "(%.2f-%.2f) "
	       "|\n",
	       s->vm[0]->cfg.name,
	       mv_guest_uses_interval(s->guest[0]) ? "interval" : "exact", len,
	       (double)len / MV_MIB, (unsigned long long)st.swap_out,
	       pack_ms[MV_BENCH_ROUNDS / 2], pack_ms[0],
	       pack_ms[MV_BENCH_ROUNDS - 1], unpack_ms[MV_BENCH_ROUNDS / 2],
	       unpack_ms[0], unpack_ms[MV_BENCH_ROUNDS - 1]);
	mv_sim_destroy(s);
}

int main(void)
{
	printf("| VM | access model | packed bytes | guest swap-outs | pack ms "
	       "(range) | unpack ms (range) |\n");
	printf("|---|---|---:|---:|---:|---:|\n");
	one(MV_MODEL_EXACT);
	one(MV_MODEL_INTERVAL);
	return 0;
}
