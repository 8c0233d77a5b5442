/*
 * memvisor/pack.h - state as bytes, for a VM that moves between
 * processes (issue 17: hosts over MPI ranks; docs/cluster.md, section 5).
 *
 * Both ends run the same binary on the same kind of machine, so plain
 * structs go as their bytes; pointers never go (each part's packer clears
 * them and its unpacker rebuilds them). A writer grows one buffer; a
 * reader takes bytes off the front and fails, naming the part, when fewer
 * are left than a part needs: once bad, every later read fails too, so an
 * unpacker checks once at the end and never reads past the buffer.
 */
#ifndef MEMVISOR_PACK_H
#define MEMVISOR_PACK_H

#include <stddef.h>
#include <stdint.h>

struct mv_pack {
	uint8_t *b;
	size_t n, cap;
	int nomem; /* a put failed: b holds what came before */
};

struct mv_unpack {
	const uint8_t *p;
	size_t left;
	const char *bad; /* the first part that was short or wrong */
};

/* Append n bytes of p (nothing once nomem is set). */
void mv_pack_put(struct mv_pack *w, const void *p, size_t n);
/* n bytes into p: 0, or MV_EINVAL (r->bad = what) when fewer are left. */
int mv_unpack_get(struct mv_unpack *r, void *p, size_t n, const char *what);
/* Mark r bad (what: the part found wrong, kept if one was already);
 * MV_EINVAL. */
int mv_unpack_fail(struct mv_unpack *r, const char *what);
/* n bytes into p, a zeroed dense array (mv_dense_alloc): its 4 KiB pieces
 * that are all zero are not written, so they stay unbacked. */
int mv_unpack_dense(struct mv_unpack *r, void *p, size_t n, const char *what);

#endif
