/*
 * books.c - the simulator's metadata in bytes by structure (core.h).
 *
 * Each layer's *_books function adds its arrays with the element size and
 * count its allocation uses; this file only keeps the list, merging items
 * of the same group and name (every VM's pmap is one "vm.pmap" line).
 * The list is small and fixed: adding is a linear search, called a few
 * times per VM when books are asked for, never on a hot path.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memvisor/core.h"

void *mv_sparse_alloc(uint64_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void mv_sparse_free(void *p, uint64_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

int mv_array_room(void *pp, size_t *cap, size_t n, size_t size, size_t first)
{
	if (n < *cap)
		return 0;
	void *p;
	memcpy(&p, pp, sizeof p);
	size_t c = *cap ? 2 * *cap : first;
	if (c < n + 1 || c > SIZE_MAX / size)
		return -1;
	p = realloc(p, c * size);
	if (!p)
		return -1;
	memcpy(pp, &p, sizeof p);
	*cap = c;
	return 0;
}

void mv_array_trim(void *pp, size_t *cap, size_t n, size_t keep)
{
	if (n || *cap <= keep)
		return;
	void *p;
	memcpy(&p, pp, sizeof p);
	free(p);
	p = NULL;
	memcpy(pp, &p, sizeof p);
	*cap = 0;
}

void *mv_dense_alloc(uint64_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (bytes >= 2u << 20)
		madvise(p, bytes, MADV_HUGEPAGE); /* advice: may be refused */
	return p;
}

void mv_dense_free(void *p, uint64_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

void mv_books_add(struct mv_books *b, const char *group, const char *name,
		  uint64_t elem, uint64_t count)
{
	struct mv_books_item *it = (struct mv_books_item *)mv_books_find(
		b, group, name);
	if (!it) {
		if (b->n >= MV_BOOKS_MAX) {
			b->dropped++;
			return;
		}
		it = &b->item[b->n++];
		*it = (struct mv_books_item){
			.group = group, .name = name, .elem = elem};
	}
	it->count += count;
	it->bytes += elem * count;
}

const struct mv_books_item *mv_books_find(const struct mv_books *b,
					  const char *group, const char *name)
{
	for (int i = 0; i < b->n; i++)
		if (strcmp(b->item[i].group, group) == 0 &&
		    strcmp(b->item[i].name, name) == 0)
			return &b->item[i];
	return NULL;
}

uint64_t mv_books_bytes(const struct mv_books *b, const char *group)
{
	uint64_t n = 0;
	for (int i = 0; i < b->n; i++)
		if (!group || strcmp(b->item[i].group, group) == 0)
			n += b->item[i].bytes;
	return n;
}
