/*
 * pack.c - the byte writer and reader of memvisor/pack.h.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/core.h"
#include "memvisor/pack.h"

void mv_pack_put(struct mv_pack *w, const void *p, size_t n)
{
	if (w->nomem || !n)
		return;
	if (w->cap - w->n < n) {
		size_t cap = w->cap ? w->cap : 1 << 16;
		while (cap - w->n < n)
			cap *= 2;
		uint8_t *b = realloc(w->b, cap);
		if (!b) {
			w->nomem = 1;
			return;
		}
		w->b = b;
		w->cap = cap;
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

int mv_unpack_fail(struct mv_unpack *r, const char *what)
{
	if (!r->bad)
		r->bad = what;
	r->left = 0;
	return MV_EINVAL;
}

int mv_unpack_get(struct mv_unpack *r, void *p, size_t n, const char *what)
{
	if (r->bad || r->left < n)
		return mv_unpack_fail(r, what);
	if (n)
		memcpy(p, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

int mv_unpack_dense(struct mv_unpack *r, void *p, size_t n, const char *what)
{
	if (r->bad || r->left < n)
		return mv_unpack_fail(r, what);
	static const uint8_t zero[MV_PAGE_SIZE];
	uint8_t *d = p;
	for (size_t o = 0; o < n; o += MV_PAGE_SIZE) {
		size_t k = n - o < MV_PAGE_SIZE ? n - o : MV_PAGE_SIZE;
		if (memcmp(r->p + o, zero, k))
			memcpy(d + o, r->p + o, k);
	}
	r->p += n;
	r->left -= n;
	return 0;
}
