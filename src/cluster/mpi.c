/*
 * mpi.c - the MPI layer (include/memvisor/mpi.h): ranks, page messages,
 * gathers to rank 0 and broadcasts, over Open MPI when built with it
 * (MV_HAVE_MPI, set by the Makefile when `pkg-config ompi-c` finds it or
 * with `make MPI=1`), one rank otherwise.
 *
 * One file, two modes at run time: MPI is started only when mpirun launched
 * this process (OMPI_COMM_WORLD_SIZE or PMIX_RANK in the environment). A
 * process started alone, or a build without Open MPI, is one rank: no
 * MPI_Init (Open MPI's singleton start costs 0.5-0.7 s here), collectives
 * are copies, and a message to another rank is an error since there is
 * none; mpirun starting more than one copy of such a build is an error.
 * A message to this rank itself is an error in both modes: a blocking
 * send to oneself can wait forever, and hosts of one rank pass their
 * messages through memory (docs/cluster.md, section 5).
 *
 * Errors: all calls go through a duplicate of MPI_COMM_WORLD with
 * MPI_ERRORS_RETURN, so a failed call comes back here and is reported as
 * "rank R of N: <call> <peer>: <MPI's error string>" instead of Open MPI's
 * default abort. MPI counts are int: a buffer past INT_MAX bytes is
 * MV_ERANGE before any call. A rank that dies is not an MPI error for the
 * others under Open MPI 4.1: mpirun kills them (section 5, "Faults").
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MV_HAVE_MPI
#include <mpi.h>
#endif

#include "memvisor/mpi.h"

#ifdef MV_HAVE_MPI
const int mv_comm_built_with_mpi = 1;
#else
const int mv_comm_built_with_mpi = 0;
#endif

struct mv_comm {
	int rank, size;
	int mpi; /* 1 once MPI_Init has been called */
#ifdef MV_HAVE_MPI
	MPI_Comm comm; /* MPI_COMM_WORLD's duplicate, MPI_ERRORS_RETURN */
#endif
};

int mv_comm_rank(const struct mv_comm *c)
{
	return c->rank;
}

int mv_comm_size(const struct mv_comm *c)
{
	return c->size;
}

int mv_comm_uses_mpi(const struct mv_comm *c)
{
	return c->mpi;
}

#ifdef MV_HAVE_MPI
/* Fill err with the rank, what failed and MPI's words for code rc. */
static int mpi_fail(const struct mv_comm *c, int rc, const char *what,
		    struct mv_error *err)
{
	char s[MPI_MAX_ERROR_STRING];
	int n = 0;

	if (MPI_Error_string(rc, s, &n) != MPI_SUCCESS)
		snprintf(s, sizeof(s), "MPI error %d", rc);
	return mv_error_set(err, MV_EIO, "", 0, "", "rank %d of %d: %s: %s",
			    c->rank, c->size, what, s);
}

static int launched_by_mpirun(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK");
}
#endif

int mv_comm_init(int *argc, char ***argv, struct mv_comm **out,
		 struct mv_error *err)
{
	struct mv_comm *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return mv_error_set(err, MV_ENOMEM, "", 0, "", "out of memory");
	c->size = 1;
#ifdef MV_HAVE_MPI
	if (launched_by_mpirun()) {
		int rc = MPI_Init(argc, argv);

		if (rc == MPI_SUCCESS) {
			c->mpi = 1;
			MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
			MPI_Comm_size(MPI_COMM_WORLD, &c->size);
			rc = MPI_Comm_dup(MPI_COMM_WORLD, &c->comm);
		}
		if (rc == MPI_SUCCESS)
			rc = MPI_Comm_set_errhandler(c->comm,
						     MPI_ERRORS_RETURN);
		if (rc != MPI_SUCCESS) {
			mpi_fail(c, rc, "MPI_Init", err);
			*out = c;
			return MV_EIO;
		}
	}
#else
	/* mpirun -np N of a build without MPI: N runs of every host */
	const char *np = getenv("OMPI_COMM_WORLD_SIZE");
	(void)argc;
	(void)argv;
	if (np && atoi(np) > 1) {
		free(c);
		return mv_error_set(err, MV_EINVAL, "", 0, "-np",
				    "started by mpirun with %s ranks, but "
				    "built without Open MPI (make MPI=1)",
				    np);
	}
#endif
	*out = c;
	return 0;
}

/* A peer must be another existing rank; a length must fit an MPI count. */
static int check_peer(const struct mv_comm *c, const char *what, int peer,
		      size_t len, struct mv_error *err)
{
	if (peer < 0 || peer >= c->size || peer == c->rank)
		return mv_error_set(err, MV_EINVAL, "", 0, "",
				    "rank %d of %d: %s rank %d: not another "
				    "rank of this run",
				    c->rank, c->size, what, peer);
	if (len > INT_MAX)
		return mv_error_set(err, MV_ERANGE, "", 0, "",
				    "rank %d of %d: %s rank %d: %zu bytes is "
				    "past MPI's int count",
				    c->rank, c->size, what, peer, len);
	return 0;
}

int mv_comm_send(struct mv_comm *c, int dest, int tag, const void *buf,
		 size_t len, struct mv_error *err)
{
	int rc = check_peer(c, "MPI_Send to", dest, len, err);

	if (rc)
		return rc;
#ifdef MV_HAVE_MPI
	rc = MPI_Send(buf, (int)len, MPI_BYTE, dest, tag, c->comm);
	if (rc != MPI_SUCCESS) {
		char what[64];

		snprintf(what, sizeof(what), "MPI_Send to rank %d, tag %d",
			 dest, tag);
		return mpi_fail(c, rc, what, err);
	}
#else
	(void)tag;
	(void)buf;
#endif
	return 0;
}

int mv_comm_recv(struct mv_comm *c, int src, int tag, void *buf, size_t len,
		 struct mv_error *err)
{
	int rc = check_peer(c, "MPI_Recv from", src, len, err);

	if (rc)
		return rc;
#ifdef MV_HAVE_MPI
	MPI_Status st;
	int got = 0;
	char what[64];

	snprintf(what, sizeof(what), "MPI_Recv from rank %d, tag %d", src, tag);
	rc = MPI_Recv(buf, (int)len, MPI_BYTE, src, tag, c->comm, &st);
	if (rc != MPI_SUCCESS)
		return mpi_fail(c, rc, what, err);
	MPI_Get_count(&st, MPI_BYTE, &got);
	if ((size_t)got != len)
		return mv_error_set(err, MV_EIO, "", 0, "",
				    "rank %d of %d: %s: %d bytes, expected %zu",
				    c->rank, c->size, what, got, len);
#else
	(void)tag;
	(void)buf;
#endif
	return 0;
}

int mv_comm_gather_hosts(struct mv_comm *c, int hosts, size_t rec,
			 const void *mine, void *all, struct mv_error *err)
{
	int first, count, rc = mv_comm_hosts(c, hosts, &first, &count, err);

	if (rc)
		return rc;
	if ((size_t)hosts * rec > INT_MAX)
		return mv_error_set(err, MV_ERANGE, "", 0, "",
				    "rank %d of %d: MPI_Gatherv: %d records of "
				    "%zu bytes is past MPI's int count",
				    c->rank, c->size, hosts, rec);
	if (!c->mpi) {
		if (rec > 0 && all != mine)
			memmove(all, mine, (size_t)hosts * rec);
		return 0;
	}
#ifdef MV_HAVE_MPI
	int *counts = NULL, *displs = NULL;

	if (c->rank == 0) {
		counts = malloc((size_t)c->size * sizeof(*counts));
		displs = malloc((size_t)c->size * sizeof(*displs));
		if (!counts || !displs) {
			free(counts);
			free(displs);
			return mv_error_set(err, MV_ENOMEM, "", 0, "",
					    "out of memory");
		}
		/* rank r's range starts where rank r-1's ends: host order */
		for (int r = 0, h = 0; r < c->size; r++) {
			displs[r] = h * (int)rec;
			while (h < hosts &&
			       mv_comm_host_rank(h, hosts, c->size) == r)
				h++;
			counts[r] = h * (int)rec - displs[r];
		}
	}
	rc = MPI_Gatherv(mine, count * (int)rec, MPI_BYTE, all, counts, displs,
			 MPI_BYTE, 0, c->comm);
	free(counts);
	free(displs);
	if (rc != MPI_SUCCESS)
		return mpi_fail(c, rc, "MPI_Gatherv to rank 0", err);
#endif
	return 0;
}

/* The tags of mv_comm_gather_bytes' length and bytes. */
enum { TAG_GATHER_LEN = 0x6761, TAG_GATHER_BYTES = 0x6762 };

int mv_comm_gather_bytes(struct mv_comm *c, const void *mine, size_t len,
			 void **all, size_t *all_len, struct mv_error *err)
{
	*all = NULL;
	*all_len = 0;
	if (c->rank != 0) {
		uint64_t n = len;
		int rc = mv_comm_send(c, 0, TAG_GATHER_LEN, &n, sizeof n, err);
		if (!rc && len)
			rc = mv_comm_send(c, 0, TAG_GATHER_BYTES, mine, len,
					  err);
		return rc;
	}
	uint64_t *lens = calloc((size_t)c->size, sizeof *lens);
	if (!lens)
		return mv_error_set(err, MV_ENOMEM, "", 0, "", "out of memory");
	lens[0] = len;
	size_t total = len;
	for (int r = 1; r < c->size; r++) {
		int rc = mv_comm_recv(c, r, TAG_GATHER_LEN, &lens[r],
				      sizeof lens[r], err);
		if (rc) {
			free(lens);
			return rc;
		}
		total += lens[r];
	}
	uint8_t *b = malloc(total ? total : 1);
	if (!b) {
		free(lens);
		return mv_error_set(err, MV_ENOMEM, "", 0, "", "out of memory");
	}
	if (len)
		memcpy(b, mine, len);
	size_t at = len;
	for (int r = 1; r < c->size; r++) {
		int rc = lens[r] ? mv_comm_recv(c, r, TAG_GATHER_BYTES, b + at,
						lens[r], err)
				 : 0;
		if (rc) {
			free(lens);
			free(b);
			return rc;
		}
		at += lens[r];
	}
	free(lens);
	*all = b;
	*all_len = total;
	return 0;
}

int mv_comm_bcast_from(struct mv_comm *c, int root, void *buf, size_t len,
		       struct mv_error *err)
{
	if (len > INT_MAX)
		return mv_error_set(err, MV_ERANGE, "", 0, "",
				    "rank %d of %d: MPI_Bcast: %zu bytes is "
				    "past MPI's int count",
				    c->rank, c->size, len);
	if (!c->mpi)
		return 0;
#ifdef MV_HAVE_MPI
	int rc = MPI_Bcast(buf, (int)len, MPI_BYTE, root, c->comm);

	if (rc != MPI_SUCCESS) {
		char what[48];
		snprintf(what, sizeof what, "MPI_Bcast from rank %d", root);
		return mpi_fail(c, rc, what, err);
	}
#else
	(void)buf;
	(void)root;
#endif
	return 0;
}

int mv_comm_bcast(struct mv_comm *c, void *buf, size_t len,
		  struct mv_error *err)
{
	return mv_comm_bcast_from(c, 0, buf, len, err);
}

int mv_comm_bcast_bytes(struct mv_comm *c, int root, void **buf, size_t *len,
			struct mv_error *err)
{
	uint64_t n = *len;
	int rc = mv_comm_bcast_from(c, root, &n, sizeof n, err);
	if (rc || c->rank == root)
		return rc ? rc : mv_comm_bcast_from(c, root, *buf, *len, err);
	*buf = NULL;
	*len = 0;
	void *b = malloc(n ? (size_t)n : 1);
	if (!b)
		return mv_error_set(err, MV_ENOMEM, "", 0, "",
				    "rank %d of %d: out of memory for %llu "
				    "bytes from rank %d",
				    c->rank, c->size, (unsigned long long)n,
				    root);
	if ((rc = mv_comm_bcast_from(c, root, b, (size_t)n, err))) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = (size_t)n;
	return 0;
}

int mv_comm_allgather_bytes(struct mv_comm *c, const void *mine, size_t len,
			    void **all, size_t *all_len, struct mv_error *err)
{
	int rc = mv_comm_gather_bytes(c, mine, len, all, all_len, err);
	if (!rc)
		rc = mv_comm_bcast_bytes(c, 0, all, all_len, err);
	if (rc && c->rank == 0) {
		free(*all);
		*all = NULL;
		*all_len = 0;
	}
	return rc;
}

int mv_comm_barrier(struct mv_comm *c, struct mv_error *err)
{
	if (!c->mpi)
		return 0;
#ifdef MV_HAVE_MPI
	int rc = MPI_Barrier(c->comm);

	if (rc != MPI_SUCCESS)
		return mpi_fail(c, rc, "MPI_Barrier", err);
#else
	(void)err;
#endif
	return 0;
}

void mv_comm_finalize(struct mv_comm *c)
{
	if (!c)
		return;
#ifdef MV_HAVE_MPI
	if (c->mpi) {
		MPI_Comm_free(&c->comm);
		MPI_Finalize();
	}
#endif
	free(c);
}
