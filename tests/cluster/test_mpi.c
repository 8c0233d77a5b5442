/* Tests of the MPI layer (include/memvisor/mpi.h, src/cluster/mpi.c,
 * docs/cluster.md section 5): the partition of hosts over ranks, the
 * one-rank mode, and, under real mpirun with 1, 2 and 4 ranks, page-sized
 * messages between hosts, a gather to rank 0 in host order and a broadcast
 * back (and the same bytes by mv_comm_allgather_bytes, and the last rank's
 * by mv_comm_bcast_bytes), whose digest must be the same for every number of ranks and for
 * the process run alone; then the fault paths: more ranks than hosts, a
 * failed MPI call, a rank that dies.
 *
 * This program is also the MPI program: `test_mpi --child MODE HOSTS
 * PAGES` is what the tests start under mpirun. Skipped, with the reason,
 * when the build has no Open MPI or mpirun is not on PATH. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "memvisor/mpi.h"
#include "support/mvtest.h"

#define PAGE 4096

/* ---- the MPI program ---- */

struct host_rec {
	uint64_t host;
	uint64_t received; /* pages received */
	uint64_t acc;      /* XXH64 chain over the received pages' bytes */
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Host h's page i: bytes that depend on (h, i) only, never on the rank. */
static void fill_page(unsigned char *p, int h, int i)
{
	for (int w = 0; w < PAGE / 8; w++) {
		uint64_t v = splitmix(((uint64_t)h << 40) ^
				      ((uint64_t)i << 20) ^ (uint64_t)w);
		memcpy(p + 8 * w, &v, 8);
	}
}

/*
 * Every host sends each of its pages to another host, in one global order
 * (host, then page) that every rank walks: a message between two ranks is
 * MPI_Send/MPI_Recv at the same point of both walks, one within a rank a
 * memcpy. Receivers chain a hash over what they get; the records are
 * gathered to rank 0, broadcast back and checked by each rank against its
 * own; rank 0 prints their digest.
 */
static int child_exchange(struct mv_comm *c, int hosts, int pages, int dead)
{
	struct mv_error err = {0};
	int me = mv_comm_rank(c), n = mv_comm_size(c), first, count;
	unsigned char out[PAGE], in[PAGE];

	int rc = mv_comm_hosts(c, hosts, &first, &count, &err);
	if (rc) {
		if (me == 0)
			fprintf(stderr, "memvisor: %s: %s\n", err.field,
				err.msg);
		mv_comm_finalize(c);
		return 2;
	}
	struct host_rec *mine = calloc((size_t)count, sizeof(*mine));
	struct host_rec *all = calloc((size_t)hosts, sizeof(*all));
	if (!mine || !all)
		return 1;
	for (int k = 0; k < count; k++)
		mine[k].host = (uint64_t)(first + k);
	mv_comm_must(c, mv_comm_barrier(c, &err), &err);
	if (dead && me == 1) {
		fprintf(stderr, "rank 1 dies at %.3f\n", mv_wall_s());
		_exit(3);
	}
	for (int h = 0; h < hosts; h++) {
		for (int i = 0; i < pages; i++) {
			int d = (h + 1 + i % (hosts - 1 ? hosts - 1 : 1)) %
				hosts;
			int rs = mv_comm_host_rank(h, hosts, n);
			int rd = mv_comm_host_rank(d, hosts, n);
			if (rs != me && rd != me)
				continue;
			if (rs == me)
				fill_page(out, h, i);
			if (rs == me && rd == me)
				memcpy(in, out, PAGE);
			else if (rs == me)
				mv_comm_must(c,
					     mv_comm_send(c, rd, h * pages + i,
							  out, PAGE, &err),
					     &err);
			else
				mv_comm_must(c,
					     mv_comm_recv(c, rs, h * pages + i,
							  in, PAGE, &err),
					     &err);
			if (rd == me) {
				struct host_rec *r = &mine[d - first];
				r->acc = XXH64(in, PAGE, r->acc);
				r->received++;
			}
		}
	}
	mv_comm_must(
		c,
		mv_comm_gather_hosts(c, hosts, sizeof(*mine), mine, all, &err),
		&err);
	mv_comm_must(c,
		     mv_comm_bcast(c, all, (size_t)hosts * sizeof(*all), &err),
		     &err);
	if (memcmp(&all[first], mine, (size_t)count * sizeof(*mine)) != 0) {
		fprintf(stderr, "rank %d: gathered records differ\n", me);
		return 1;
	}
	/* every rank's bytes to every rank: the same records, in host
	 * order; then the last rank's to all (a root other than 0) */
	void *cat = NULL;
	size_t len = 0;
	mv_comm_must(c,
		     mv_comm_allgather_bytes(c, mine,
					     (size_t)count * sizeof(*mine),
					     &cat, &len, &err),
		     &err);
	if (len != (size_t)hosts * sizeof(*all) || memcmp(cat, all, len)) {
		fprintf(stderr, "rank %d: allgathered bytes differ\n", me);
		return 1;
	}
	free(cat);
	void *last = me == n - 1 ? mine : NULL;
	len = me == n - 1 ? (size_t)count * sizeof(*mine) : 0;
	mv_comm_must(c, mv_comm_bcast_bytes(c, n - 1, &last, &len, &err), &err);
	int lf = mv_comm_host_rank(hosts - 1, hosts, n), lfirst = hosts;
	for (int h = hosts - 1; h >= 0 && mv_comm_host_rank(h, hosts, n) == lf;
	     h--)
		lfirst = h;
	if (len != (size_t)(hosts - lfirst) * sizeof(*all) ||
	    memcmp(last, &all[lfirst], len)) {
		fprintf(stderr, "rank %d: rank %d's bytes differ\n", me, n - 1);
		return 1;
	}
	if (last != mine)
		free(last);
	if (me == 0)
		printf("digest hosts=%d pages=%d: %016llx\n", hosts, pages,
		       (unsigned long long)XXH64(
			       all, (size_t)hosts * sizeof(*all), 0));
	mv_comm_must(c, mv_comm_barrier(c, &err), &err);
	free(mine);
	free(all);
	mv_comm_finalize(c);
	return 0;
}

/* Rank 1 sends one byte more than rank 0 receives: MPI_ERR_TRUNCATE. */
static int child_truncate(struct mv_comm *c)
{
	struct mv_error err = {0};
	unsigned char buf[PAGE + 1] = {0};

	if (mv_comm_rank(c) == 1)
		mv_comm_must(c, mv_comm_send(c, 0, 7, buf, PAGE + 1, &err),
			     &err);
	else if (mv_comm_rank(c) == 0)
		mv_comm_must(c, mv_comm_recv(c, 1, 7, buf, PAGE, &err), &err);
	mv_comm_must(c, mv_comm_barrier(c, &err), &err);
	mv_comm_finalize(c);
	return 0;
}

static int child_main(int argc, char **argv)
{
	struct mv_comm *c;
	struct mv_error err = {0};

	if (argc != 5)
		return 2;
	mv_comm_must(c, mv_comm_init(&argc, &argv, &c, &err), &err);
	if (strcmp(argv[2], "truncate") == 0)
		return child_truncate(c);
	return child_exchange(c, atoi(argv[3]), atoi(argv[4]),
			      strcmp(argv[2], "dead") == 0);
}

/* ---- the tests ---- */

static char self[PATH_MAX];

/* Why the mpirun tests cannot run here, or NULL. */
static const char *mpi_missing(void)
{
	if (!mv_comm_built_with_mpi)
		return "built without Open MPI (make MPI=0 or no ompi-c)";
	if (system("command -v mpirun >/dev/null 2>&1") != 0)
		return "mpirun not on PATH (apt-get install openmpi-bin)";
	return NULL;
}

/*
 * Run the child with `np` ranks (0: alone, without mpirun); its stdout
 * and stderr in out; returns the exit status and the wall time in *secs.
 */
static int run_child(int np, const char *args, char *out, size_t n,
		     double *secs)
{
	char cmd[PATH_MAX + 256];
	if (np)
		snprintf(cmd, sizeof(cmd),
			 "mpirun --allow-run-as-root --oversubscribe -np %d "
			 "%s --child %s 2>&1",
			 np, self, args);
	else
		snprintf(cmd, sizeof(cmd), "%s --child %s 2>&1", self, args);
	double t0 = mv_wall_s();
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t len = fread(out, 1, n - 1, p);
	out[len] = '\0';
	int st = pclose(p);
	*secs = mv_wall_s() - t0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_host_h_lives_on_rank_h_r_over_h_in_blocks(void **state)
{
	(void)state;
	for (int hosts = 1; hosts <= 40; hosts++)
		for (int ranks = 1; ranks <= hosts; ranks++) {
			int prev = 0, seen = 1;
			assert_int_equal(mv_comm_host_rank(0, hosts, ranks), 0);
			for (int h = 1; h < hosts; h++) {
				int r = mv_comm_host_rank(h, hosts, ranks);
				/* contiguous, in order, no rank skipped */
				assert_true(r == prev || r == prev + 1);
				seen += r != prev;
				prev = r;
			}
			assert_int_equal(seen, ranks);
			assert_int_equal(prev, ranks - 1);
		}
	assert_int_equal(mv_comm_host_rank(5, 16, 4), 1);
	assert_int_equal(mv_comm_host_rank(2, 3, 2), 1);
}

static void test_alone_is_one_rank_without_mpi(void **state)
{
	struct mv_comm *c;
	struct mv_error err = {0};
	struct host_rec mine[3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, all[3];
	int first, count;
	char page[PAGE] = {0};

	(void)state;
	assert_null(getenv("OMPI_COMM_WORLD_SIZE"));
	mvt_ok(mv_comm_init(NULL, NULL, &c, &err), &err, "init");
	assert_int_equal(mv_comm_rank(c), 0);
	assert_int_equal(mv_comm_size(c), 1);
	assert_int_equal(mv_comm_uses_mpi(c), 0);
	mvt_ok(mv_comm_hosts(c, 3, &first, &count, &err), &err, "hosts");
	assert_int_equal(first, 0);
	assert_int_equal(count, 3);
	assert_int_equal(mv_comm_hosts(c, 0, &first, &count, &err), MV_EINVAL);
	/* no other rank, and never a send to oneself */
	assert_int_equal(mv_comm_send(c, 0, 1, page, PAGE, &err), MV_EINVAL);
	assert_non_null(strstr(err.msg, "rank 0 of 1: MPI_Send to rank 0"));
	assert_int_equal(mv_comm_recv(c, 1, 1, page, PAGE, &err), MV_EINVAL);
	mvt_ok(mv_comm_gather_hosts(c, 3, sizeof(mine[0]), mine, all, &err),
	       &err, "gather");
	assert_memory_equal(all, mine, sizeof(mine));
	mvt_ok(mv_comm_bcast(c, all, sizeof(all), &err), &err, "bcast");
	mvt_ok(mv_comm_barrier(c, &err), &err, "barrier");
	mv_comm_finalize(c);
}

/* Without Open MPI, `mpirun -np 2` would run every host twice. */
static void test_build_without_mpi_refuses_several_ranks(void **state)
{
	struct mv_comm *c = NULL;
	struct mv_error err = {0};

	(void)state;
	if (mv_comm_built_with_mpi)
		return; /* there, this environment would start MPI */
	setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
	int rc = mv_comm_init(NULL, NULL, &c, &err);
	unsetenv("OMPI_COMM_WORLD_SIZE");
	assert_int_equal(rc, MV_EINVAL);
	assert_null(c);
	assert_string_equal(err.field, "-np");
	setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
	mvt_ok(mv_comm_init(NULL, NULL, &c, &err), &err, "one rank");
	unsetenv("OMPI_COMM_WORLD_SIZE");
	mv_comm_finalize(c);
}

static void test_digest_is_the_same_for_1_2_and_4_ranks(void **state)
{
	char ref[4096], out[4096], note[256];
	double secs;
	int used;

	(void)state;
	const char *why = mpi_missing();
	if (why) {
		printf("SKIP: mpirun runs: %s\n", why);
		return;
	}
	/* 8 hosts, 64 pages each: 512 page messages */
	assert_int_equal(run_child(0, "exchange 8 64", ref, sizeof(ref), &secs),
			 0);
	assert_true(strncmp(ref, "digest hosts=8 pages=64: ", 25) == 0);
	used = snprintf(note, sizeof(note),
			"note: 8 hosts x 64 pages: alone "
			"%.2f s",
			secs);
	for (int np = 1; np <= 4; np *= 2) {
		int rc = run_child(np, "exchange 8 64", out, sizeof(out),
				   &secs);
		if (rc != 0 || strcmp(out, ref) != 0)
			fail_msg("-np %d: status %d, output:\n%s\nalone:\n%s",
				 np, rc, out, ref);
		used += snprintf(note + used, sizeof(note) - (size_t)used,
				 ", -np %d %.2f s", np, secs);
	}
	printf("%s (wall)\n", note);
}

static void test_more_ranks_than_hosts_names_np(void **state)
{
	char out[8192];
	double secs;

	(void)state;
	if (mpi_missing())
		return;
	assert_int_equal(run_child(4, "exchange 3 4", out, sizeof(out), &secs),
			 2);
	assert_non_null(strstr(out, "memvisor: -np: 4 ranks for 3 hosts"));
	assert_null(strstr(out, "digest"));
}

static void test_failed_call_is_one_line_naming_rank_and_call(void **state)
{
	char out[8192];
	double secs;

	(void)state;
	if (mpi_missing())
		return;
	assert_int_equal(run_child(2, "truncate 2 1", out, sizeof(out), &secs),
			 1);
	const char *l = strstr(out, "memvisor: rank 0 of 2: MPI_Recv from rank "
				    "1, tag 7: MPI_ERR_TRUNCATE");
	if (!l)
		fail_msg("no error line in:\n%s", out);
	assert_null(strstr(l + 1, "memvisor: "));
}

static void test_dead_rank_ends_the_job(void **state)
{
	char out[8192];
	double secs;

	(void)state;
	if (mpi_missing())
		return;
	double t0 = mv_wall_s();
	int rc = run_child(4, "dead 8 64", out, sizeof(out), &secs);
	double end = t0 + secs;
	const char *d = strstr(out, "rank 1 dies at ");
	if (rc == 0 || !d)
		fail_msg("status %d, output:\n%s", rc, out);
	assert_null(strstr(out, "digest"));
	/* the survivors never see an MPI error: mpirun kills them */
	assert_null(strstr(out, "memvisor: rank"));
	printf("note: a dead rank (exit 3): mpirun status %d, job ended "
	       "%.2f s after the death\n",
	       rc, end - atof(d + 15));
	assert_true(secs < 30);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	/* Open MPI's own allocations are not ours to report (make asan) */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_host_h_lives_on_rank_h_r_over_h_in_blocks),
		cmocka_unit_test(test_alone_is_one_rank_without_mpi),
		cmocka_unit_test(test_build_without_mpi_refuses_several_ranks),
		cmocka_unit_test(test_digest_is_the_same_for_1_2_and_4_ranks),
		cmocka_unit_test(test_more_ranks_than_hosts_names_np),
		cmocka_unit_test(
			test_failed_call_is_one_line_naming_rank_and_call),
		cmocka_unit_test(test_dead_rank_ends_the_job),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
