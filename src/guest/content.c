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
 *
 * A page of a content profile (mv_content_fill_profile, the profile's
 * layout in src/image/profile.c) is all zeros or a function of its key
 * that LZ4 compresses into a given 256-byte bucket: its first r of 64
 * blocks are random and the rest zeros (one LZ4 match), so LZ4 writes
 * 64 r bytes and a few. r starts at the bucket's
 * middle; the page is compressed with real LZ4 to check, and r moves
 * outward one block at a time until the page lands in its bucket: one
 * compression a page, and the bytes depend only on the key and bucket.
 */
#include <string.h>

#include <lz4.h>

#include "memvisor/guest.h"
#include "memvisor/image.h"

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

#define PBLOCKS ((int)NBLOCKS)

/*
 * Page from key with exactly r random blocks (1..PBLOCKS), the first r,
 * each a function of key and its index; zeros after them (a partly used
 * page). LZ4 finds a run of zeros at its second probe in it however fast
 * its match finder is skipping through the literals before; a repeat of
 * a random block it can miss (its probes must fall 64 bytes apart), and
 * random blocks scattered among repeats made its size jump by hundreds
 * of bytes between neighbouring r, leaving buckets no page could hit.
 */
static void fill_profile_blocks(uint8_t *page, uint64_t key, int r)
{
	struct mv_rng rng;
	for (int b = 0; b < r; b++) {
		mv_rng_seed(&rng, mv_mix64(key ^ 0x9f0f11e5ull) + (uint64_t)b);
		fill_random(page, &rng, (size_t)b * BLOCK, BLOCK);
	}
	memset(page + (size_t)r * BLOCK, 0, MV_PAGE_SIZE - (size_t)r * BLOCK);
}

int mv_content_lz4_size(const uint8_t *page)
{
	char out[LZ4_COMPRESSBOUND(MV_PAGE_SIZE)];
	return LZ4_compress_default((const char *)page, out, MV_PAGE_SIZE,
				    (int)sizeof out);
}

void mv_content_fill_profile(uint8_t *page, const struct mv_profile_page *d)
{
	if (d->zero) {
		memset(page, 0, MV_PAGE_SIZE);
		return;
	}
	int want = d->bucket;
	/* LZ4 writes 64 bytes and a little per random block */
	int r0 = (want * MV_PROFILE_BUCKET_BYTES +
		  MV_PROFILE_BUCKET_BYTES / 2) /
		 BLOCK;
	r0 = r0 < 1 ? 1 : r0 > PBLOCKS ? PBLOCKS : r0;
	/* r0, r0 + 1, r0 - 1, r0 + 2...: the first r that lands wins (r0
	 * does, with the LZ4 we know; another LZ4 may differ) */
	int best = r0, best_off = 1 << 30;
	for (int k = 0; k < 2 * PBLOCKS; k++) {
		int r = r0 + (k % 2 ? (k + 1) / 2 : -(k / 2));
		if (r < 1 || r > PBLOCKS)
			continue;
		fill_profile_blocks(page, d->key, r);
		int size = mv_content_lz4_size(page);
		int b = mv_profile_bucket(size);
		if (b == want)
			return;
		int lo = want * MV_PROFILE_BUCKET_BYTES;
		int off = b < want ? lo - size
				   : size - lo - MV_PROFILE_BUCKET_BYTES;
		if (off < best_off) {
			best_off = off;
			best = r;
		}
	}
	fill_profile_blocks(page, d->key, best); /* the nearest LZ4 gets */
}
