/*
 * memvisor/mpi.h - the MPI layer a cluster run uses: hosts over ranks
 * (docs/cluster.md, section 5).
 *
 * One small interface, two builds: src/cluster/mpi.c over Open MPI when the
 * Makefile finds it (`pkg-config ompi-c`; `make MPI=0` or `MPI=1` to
 * choose), src/cluster/mpi_none.c otherwise, which is one rank and nothing
 * else. The MPI build also runs as one rank without calling MPI_Init when
 * the process was not started by mpirun (no OMPI_COMM_WORLD_SIZE or
 * PMIX_RANK in its environment): `memvisor run` alone stays quiet and does
 * not pay Open MPI's singleton start (0.5-0.7 s here).
 *
 * Partition: host h of H lives on rank h * R / H (contiguous blocks, in
 * rank order), so the hosts a rank owns are one range and a gather of
 * per-host records in rank order is a gather in host order.
 *
 * Errors: the communicator is a duplicate of MPI_COMM_WORLD with
 * MPI_ERRORS_RETURN; every call returns 0 or a negative MV_E* code with the
 * rank, the call and MPI's own words in err. mv_comm_fail is the fault path.
 * A rank that dies outright is not seen as an error by the others under
 * Open MPI 4.1: mpirun kills the whole job (docs/cluster.md, section 5).
 */
#ifndef MEMVISOR_MPI_H
#define MEMVISOR_MPI_H

#include <stddef.h>

#include "memvisor/core.h"

struct mv_comm;

/* 1 when this build has Open MPI (src/cluster/mpi.c), 0 for the stub. */
extern const int mv_comm_built_with_mpi;

/*
 * Start: MPI_Init (and the error-returning communicator) when launched by
 * mpirun, else one rank without MPI. *out is the caller's to finalize.
 */
int mv_comm_init(int *argc, char ***argv, struct mv_comm **out,
		 struct mv_error *err);
/* This process's rank, the number of ranks, whether MPI was started. */
/* How many processes mpirun started with this one, and this one's rank,
 * from Open MPI's environment, without MPI_Init (1 and rank 0 when not
 * started by mpirun). */
int mv_comm_launched_ranks(int *rank);
int mv_comm_rank(const struct mv_comm *c);
int mv_comm_size(const struct mv_comm *c);
int mv_comm_uses_mpi(const struct mv_comm *c);

/* The rank owning host `host` of `hosts` over `ranks` (h * R / H). */
int mv_comm_host_rank(int host, int hosts, int ranks);
/*
 * The hosts this rank owns: [*first, *first + *count). More ranks than
 * hosts is bad input (MV_EINVAL naming -np): a rank with no host.
 */
int mv_comm_hosts(const struct mv_comm *c, int hosts, int *first, int *count,
		  struct mv_error *err);

/*
 * Point to point, blocking: len bytes to/from another rank (never this
 * one: messages between hosts of one rank go through memory). recv fails
 * unless exactly len bytes arrive with that tag from that rank.
 */
int mv_comm_send(struct mv_comm *c, int dest, int tag, const void *buf,
		 size_t len, struct mv_error *err);
int mv_comm_recv(struct mv_comm *c, int src, int tag, void *buf, size_t len,
		 struct mv_error *err);

/*
 * Gather fixed-size per-host records to rank 0 in host order: `mine` holds
 * this rank's hosts' records (mv_comm_hosts' range, rec bytes each); on rank
 * 0 `all` receives hosts * rec bytes (ignored on other ranks).
 */
int mv_comm_gather_hosts(struct mv_comm *c, int hosts, size_t rec,
			 const void *mine, void *all, struct mv_error *err);
/*
 * Gather each rank's len bytes at mine to rank 0, in rank order (so, for
 * per-host pieces, in host order): on rank 0 *all gets a malloc'd buffer
 * of the concatenation and *all_len its length; on the others NULL and 0.
 * Each rank sends its length, then its bytes (when any), to rank 0.
 */
int mv_comm_gather_bytes(struct mv_comm *c, const void *mine, size_t len,
			 void **all, size_t *all_len, struct mv_error *err);
/* Rank 0's len bytes of buf copied to every rank's buf. */
int mv_comm_bcast(struct mv_comm *c, void *buf, size_t len,
		  struct mv_error *err);
/* The same from rank root. */
int mv_comm_bcast_from(struct mv_comm *c, int root, void *buf, size_t len,
		       struct mv_error *err);
/* Rank root's *len bytes at *buf to every rank: the length, then the
 * bytes; on the others *buf becomes a malloc'd copy (the caller's to
 * free) and *len its length. */
int mv_comm_bcast_bytes(struct mv_comm *c, int root, void **buf, size_t *len,
			struct mv_error *err);
/* mv_comm_gather_bytes, then its result broadcast: every rank's *all is a
 * malloc'd concatenation of every rank's bytes in rank order. */
int mv_comm_allgather_bytes(struct mv_comm *c, const void *mine, size_t len,
			    void **all, size_t *all_len, struct mv_error *err);
int mv_comm_barrier(struct mv_comm *c, struct mv_error *err);

/* Orderly end (MPI_Finalize when started); frees c. NULL is allowed. */
void mv_comm_finalize(struct mv_comm *c);

/*
 * The fault path, after a failed mv_comm_* call: one line
 * "memvisor: <err's message>" on stderr and exit status 1, without
 * MPI_Finalize (which would wait for a peer that is gone); mpirun then ends
 * the other ranks. The one exit below the cli layer, because every caller
 * must leave MPI the same way.
 */
_Noreturn void mv_comm_fail(struct mv_comm *c, const struct mv_error *err);
/* mv_comm_fail with "out of memory": where a rank cannot go on alone. */
_Noreturn void mv_comm_fail_oom(struct mv_comm *c);
/* mv_comm_fail when rc (an mv_comm_* call's) is not 0. */
static inline void mv_comm_must(struct mv_comm *c, int rc,
				const struct mv_error *err)
{
	if (rc)
		mv_comm_fail(c, err);
}

#endif
