/*
 * content.c - page contents as a function of a descriptor.
 *
 * What a page holds decides what sharing and compression can do with it.
 * Every generated page is G(desc) for a 64-bit descriptor (host.h):
 * class:3 | param:7 | key:54, and G reads nothing else, so a frame can
 * hold the descriptor instead of its 4096 bytes and anyone who needs the
 * bytes materialises them again, the same every time:
 *
 *   zero     all zeros (freshly zeroed memory, reserved heap)
 *   os       page of an OS image (the key hashes image name and index):
 *            identical in every VM booting the same image, as kernel text
 *            and shared libraries are; about 8% of image pages are all
 *            zero (padding, .bss), the rest compress roughly 2:1 like
 *            machine code
 *   app      page of an application, the same way, no zero pages
 *   data     private data; param/64 is the fraction of 64-byte blocks
 *            that repeat an earlier block of the page (what LZ4 turns into
 *            a short match), the rest is random
 *   random   incompressible bytes
 *   profile  a page of a content profile (src/image/profile.c) that LZ4
 *            compresses into the 256-byte bucket param: its first r of 64
 *            blocks are random and the rest zeros (one LZ4 match), so LZ4
 *            writes 64 r bytes and a few. r starts at the bucket's middle;
 *            the page is compressed with real LZ4 to check, and r moves
 *            outward one block at a time until the page lands in its
 *            bucket: the bytes depend only on the key and bucket.
 *
 * Every class seeds xoshiro256** from a hash of the key and the class.
 * A guest write to a descriptor page makes a new version of it
 * (mv_desc_version): the same class and parameter, another key.
 */
#include <assert.h>
#include <string.h>

#include <lz4.h>

#include "memvisor/host.h"

#define BLOCK 64
#define NBLOCKS (MV_PAGE_SIZE / BLOCK)
#define PBLOCKS ((int)NBLOCKS)
/* LZ4 buckets of a profile page, as image.h's mv_profile_bucket. */
#define PROFILE_BUCKETS ((int)(MV_PAGE_SIZE / MV_DESC_BUCKET_BYTES))

mv_desc_t mv_desc_version(mv_desc_t d, uint64_t v)
{
	if (mv_desc_class(d) == MV_DESC_ZERO)
		return d;
	uint64_t key = mv_mix64(mv_desc_key(d) ^ mv_mix64(v ^ 0x7e55ull));
	return mv_desc_make(mv_desc_class(d), mv_desc_param(d), key);
}

/*
 * The generator's mv_rng, seeded as mv_rng_seed does (splitmix64) but
 * inline and returned by value: its address never leaves the generator,
 * so the compiler keeps the state in registers. Seeded through
 * mv_rng_seed, whose call took its address, every store into the page
 * might have changed it, and each output reloaded and stored all of it:
 * half of the time a page took. tests/host/test_frames.c checks the
 * bytes against mv_rng_seed's.
 */
static inline struct mv_rng rng_at(uint64_t seed)
{
	const uint64_t g = 0x9e3779b97f4a7c15ull; /* mv_rng_seed's step */
	struct mv_rng r = {{mv_mix64(seed), mv_mix64(seed + g),
			    mv_mix64(seed + 2 * g), mv_mix64(seed + 3 * g)}};
	return r;
}

static inline void fill_random(uint8_t *page, struct mv_rng *r, size_t off,
			       size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = mv_rng_next(r);
		memcpy(page + off + i, &v, 8);
	}
}

/* Blocks are random with probability 1 - c, else a copy of an earlier one. */
static void fill_blocks(uint8_t *page, uint64_t seed, double c)
{
	struct mv_rng r = rng_at(seed);
	uint64_t thresh = (uint64_t)(c * 18446744073709551615.0);
	fill_random(page, &r, 0, BLOCK);
	for (size_t b = 1; b < NBLOCKS; b++) {
		if (c > 0 && mv_rng_next(&r) <= thresh) {
			size_t from = (size_t)mv_rng_below(&r, b);
			memcpy(page + b * BLOCK, page + from * BLOCK, BLOCK);
		} else {
			fill_random(page, &r, b * BLOCK, BLOCK);
		}
	}
}

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
	for (int b = 0; b < r; b++) {
		struct mv_rng x = rng_at(mv_mix64(key ^ 0x9f0f11e5ull) +
					 (uint64_t)b);
		fill_random(page, &x, (size_t)b * BLOCK, BLOCK);
	}
	memset(page + (size_t)r * BLOCK, 0, MV_PAGE_SIZE - (size_t)r * BLOCK);
}

int mv_content_lz4_size(const uint8_t *page)
{
	char out[LZ4_COMPRESSBOUND(MV_PAGE_SIZE)];
	return LZ4_compress_default((const char *)page, out, MV_PAGE_SIZE,
				    (int)sizeof out);
}

static int bucket_of(int lz4_size)
{
	int b = lz4_size <= 0 ? 0 : (lz4_size - 1) / MV_DESC_BUCKET_BYTES;
	return b < PROFILE_BUCKETS ? b : PROFILE_BUCKETS - 1;
}

static void fill_profile(uint8_t *page, uint64_t key, int want)
{
	/* LZ4 writes 64 bytes and a little per random block */
	int r0 = (want * MV_DESC_BUCKET_BYTES + MV_DESC_BUCKET_BYTES / 2) /
		 BLOCK;
	r0 = r0 < 1 ? 1 : r0 > PBLOCKS ? PBLOCKS : r0;
	/* r0, r0 + 1, r0 - 1, r0 + 2...: the first r that lands wins (r0
	 * does, with the LZ4 we know; another LZ4 may differ) */
	int best = r0, best_off = 1 << 30;
	for (int k = 0; k < 2 * PBLOCKS; k++) {
		int r = r0 + (k % 2 ? (k + 1) / 2 : -(k / 2));
		if (r < 1 || r > PBLOCKS)
			continue;
		fill_profile_blocks(page, key, r);
		int size = mv_content_lz4_size(page);
		int b = bucket_of(size);
		if (b == want)
			return;
		int lo = want * MV_DESC_BUCKET_BYTES;
		int off = b < want ? lo - size
				   : size - lo - MV_DESC_BUCKET_BYTES;
		if (off < best_off) {
			best_off = off;
			best = r;
		}
	}
	fill_profile_blocks(page, key, best); /* the nearest LZ4 gets */
}

void mv_content_fill(uint8_t *page, mv_desc_t d)
{
	struct mv_rng x;
	enum mv_desc_class c = mv_desc_class(d);
	/* the class salts the seed: two classes never share a stream */
	uint64_t seed = mv_mix64(mv_desc_key(d) ^ ((uint64_t)c << 56));
	assert(c != MV_DESC_BYTES);
	switch (c) {
	case MV_DESC_OS:
		if (seed % 100 < 8) { /* padding, .bss */
			memset(page, 0, MV_PAGE_SIZE);
			return;
		}
		fill_blocks(page, seed, 0.55);
		return;
	case MV_DESC_APP:
		fill_blocks(page, seed, 0.45);
		return;
	case MV_DESC_DATA:
		fill_blocks(page, seed, mv_desc_param(d) / 64.0);
		return;
	case MV_DESC_RANDOM:
		x = rng_at(seed);
		fill_random(page, &x, 0, MV_PAGE_SIZE);
		return;
	case MV_DESC_PROFILE:
		fill_profile(page, mv_desc_key(d), (int)mv_desc_param(d));
		return;
	case MV_DESC_ZERO:
	default:
		memset(page, 0, MV_PAGE_SIZE);
		return;
	}
}
