/*
 * comm.c - the parts of the MPI layer (include/memvisor/mpi.h) that do not
 * depend on the build: the partition of hosts over ranks, the ranks mpirun
 * started, and the fault path.
 *
 * Partition (docs/cluster.md, section 5): host h of H on rank h * R / H in
 * integer arithmetic, so each rank owns one contiguous range, ranks in host
 * order, and the ranges differ in length by at most one. Rank r's first
 * host is the least h with h * R >= r * H, i.e. ceil(r * H / R).
 */
#include <stdio.h>
#include <stdlib.h>

#include "memvisor/mpi.h"

int mv_comm_host_rank(int host, int hosts, int ranks)
{
	return (int)((long long)host * ranks / hosts);
}

static int first_host(int rank, int hosts, int ranks)
{
	return (int)(((long long)rank * hosts + ranks - 1) / ranks);
}

int mv_comm_hosts(const struct mv_comm *c, int hosts, int *first, int *count,
		  struct mv_error *err)
{
	int r = mv_comm_rank(c), n = mv_comm_size(c);

	if (hosts < 1)
		return mv_error_set(err, MV_EINVAL, "", 0, "hosts",
				    "a cluster needs at least one host, not %d",
				    hosts);
	if (n > hosts)
		return mv_error_set(err, MV_EINVAL, "", 0, "-np",
				    "%d ranks for %d hosts: mpirun -np must be "
				    "at most the number of hosts",
				    n, hosts);
	*first = first_host(r, hosts, n);
	*count = first_host(r + 1, hosts, n) - *first;
	return 0;
}

int mv_comm_launched_ranks(int *rank)
{
	const char *np = getenv("OMPI_COMM_WORLD_SIZE");
	const char *r = getenv("OMPI_COMM_WORLD_RANK");
	int n = np ? atoi(np) : 1;

	*rank = r ? atoi(r) : 0;
	return n > 1 ? n : 1;
}

_Noreturn void mv_comm_fail(struct mv_comm *c, const struct mv_error *err)
{
	char line[640];

	(void)c;
	fprintf(stderr, "memvisor: %s\n",
		mv_error_format(err, line, sizeof(line)));
	fflush(stderr);
	exit(1);
}

_Noreturn void mv_comm_fail_oom(struct mv_comm *c)
{
	struct mv_error e = {0};
	mv_error_set(&e, MV_ENOMEM, NULL, 0, "", "out of memory");
	mv_comm_fail(c, &e);
}
