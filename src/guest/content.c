/*
 * content.c - deterministic page contents.
 *
 * What a page holds decides what sharing and compression can do with it,
 * so each content class is generated from a key, the same key always giving
 * the same bytes:
 *
 *   zero    all zeros (freshly zeroed memory, reserved heap)
 *   os      page i of a named OS image: identical in every VM booting the
 *           same image, as kernel text and shared libraries are; about 8%
 *           of image pages are all zero (padding, .bss), the rest compress
 *           roughly 2:1 like machine code
 *   app     page i of a named application, the same way, no zero pages
 *   data    private data; `compressibility` is the fraction of 64-byte
 *           blocks that repeat an earlier block of the page (what LZ4
 *           turns into a short match), the rest is random
 *   random  incompressible bytes
 */
#include <string.h>

#include "memvisor/guest.h"

#define BLOCK 64
#define NBLOCKS (MV_PAGE_SIZE / BLOCK)

static void fill_random(uint8_t *page, struct mv_rng *r, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = mv_rng_next(r);
		memcpy(page + off + i, &v, 8);
	}
}

/* Blocks are random with probability 1 - c, else a copy of an earlier one. */
static void fill_blocks(uint8_t *page, struct mv_rng *r, double c)
{
	uint64_t thresh = (uint64_t)(c * 18446744073709551615.0);
	fill_random(page, r, 0, BLOCK);
	for (size_t b = 1; b < NBLOCKS; b++) {
		if (c > 0 && mv_rng_next(r) <= thresh) {
			size_t from = (size_t)mv_rng_below(r, b);
			memcpy(page + b * BLOCK, page + from * BLOCK, BLOCK);
		} else {
			fill_random(page, r, b * BLOCK, BLOCK);
		}
	}
}

void mv_content_fill(uint8_t *page, enum mv_content c, uint64_t name_hash,
		     uint64_t index, uint64_t key, double compressibility)
{
	struct mv_rng r;
	switch (c) {
	case MV_CONTENT_ZERO:
		memset(page, 0, MV_PAGE_SIZE);
		return;
	case MV_CONTENT_OS:
	case MV_CONTENT_APP: {
		uint64_t seed = mv_mix64(name_hash ^ mv_mix64(index + c));
		if (c == MV_CONTENT_OS && seed % 100 < 8) {
			memset(page, 0, MV_PAGE_SIZE);
			return;
		}
		mv_rng_seed(&r, seed);
		fill_blocks(page, &r, c == MV_CONTENT_OS ? 0.55 : 0.45);
		return;
	}
	case MV_CONTENT_DATA:
		mv_rng_seed(&r, mv_mix64(key) ^ 0xda7a);
		fill_blocks(page, &r, compressibility);
		return;
	case MV_CONTENT_RANDOM:
	default:
		mv_rng_seed(&r, mv_mix64(key) ^ 0x7a2d);
		fill_random(page, &r, 0, MV_PAGE_SIZE);
		return;
	}
}
