/*
 * bitmap.c - fixed-size bitmaps.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/core.h"

int mv_bitmap_init(struct mv_bitmap *b, uint64_t nbits)
{
	b->nbits = nbits;
	b->words = calloc((nbits + 63) / 64 + 1, sizeof *b->words);
	return b->words ? 0 : MV_ENOMEM;
}

void mv_bitmap_free(struct mv_bitmap *b)
{
	free(b->words);
	b->words = NULL;
	b->nbits = 0;
}

void mv_bitmap_zero(struct mv_bitmap *b)
{
	memset(b->words, 0, ((b->nbits + 63) / 64) * sizeof *b->words);
}

uint64_t mv_bitmap_count(const struct mv_bitmap *b)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < (b->nbits + 63) / 64; i++)
		n += (uint64_t)__builtin_popcountll(b->words[i]);
	return n;
}
