/*
 * hash.c - page hashing (XXH3 from libxxhash) and zero detection.
 */
#include <string.h>
#include <xxhash.h>

#include "memvisor/core.h"

uint64_t mv_page_hash(const void *page)
{
	return XXH3_64bits(page, MV_PAGE_SIZE);
}

uint64_t mv_hash(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

uint64_t mv_zero_page_hash(void)
{
	static const uint8_t zero[MV_PAGE_SIZE];
	static uint64_t h;
	static int done;
	if (!done) {
		h = XXH3_64bits(zero, sizeof zero);
		done = 1;
	}
	return h;
}

int mv_page_is_zero(const void *page)
{
	const uint64_t *w = page;
	for (size_t i = 0; i < MV_PAGE_SIZE / 8; i += 8) {
		uint64_t acc = w[i] | w[i + 1] | w[i + 2] | w[i + 3] |
			       w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
		if (acc)
			return 0;
	}
	return 1;
}
