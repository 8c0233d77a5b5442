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
 * The os, app, data and random classes are rows of a counter-based
 * generator (gen_rows below): 64-byte row r of a page is a pure function
 * of the page's seed (a hash of the key and the class) and r, so its 64
 * rows are computed side by side in vector registers rather than one
 * 8-byte output after another. A profile page's blocks are xoshiro256**
 * streams, one per block, as they were calibrated against LZ4. A guest
 * write to a descriptor page makes a new version of it (mv_desc_version):
 * the same class and parameter, another key.
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

/*
 * A profile page's block generator: mv_rng, seeded as mv_rng_seed does
 * (splitmix64) but inline and returned by value, so its address never
 * leaves the generator and the compiler keeps the state in registers.
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

/*
 * The counter-based generator. A page's seed gives sixteen 32-bit lane
 * keys k[0..15] (splitmix64, two lanes per output); word l of row r is
 *
 *   h(k[l] + r * 0x9e3779b9)
 *
 * where h is Wellons' "lowbias32" integer hash (two multiplies, three
 * xor-shifts; hash-prospector, bias 0.17), a bijection of 32-bit words.
 * So within a lane no two rows repeat a word, two pages with different
 * lane keys differ in every row of the lanes that differ, and any row
 * is computed without the ones before it: a row is one 512-bit vector
 * (or two 256-bit, or four 128-bit ones), built for each of those where
 * the compiler and CPU allow (target_clones, chosen at load time), the
 * same integer arithmetic, hence the same bytes, on every one.
 * tests/host/test_frames.c checks the bytes against a scalar reference.
 *
 * It replaced xoshiro256**, whose 8-byte outputs each wait for the one
 * before: 530 to 780 ns a page here, 230 to 250 now (155 for a random
 * page), against about 90 ns for XXH3 of the page; generating pages was
 * the largest cost of the sharing scan (docs/engine.md, section 5).
 */
#define GEN_LANES 16
typedef uint32_t gen_row __attribute__((vector_size(4 * GEN_LANES)));
_Static_assert(sizeof(gen_row) == BLOCK, "a row is a block");

static void gen_keys(uint32_t *k, uint64_t seed)
{
	for (int i = 0; i < GEN_LANES / 2; i++) {
		uint64_t w = mv_mix64(seed +
				      (uint64_t)i * 0x9e3779b97f4a7c15ull);
		k[2 * i] = (uint32_t)w;
		k[2 * i + 1] = (uint32_t)(w >> 32);
	}
}

/* Rows r0 .. r0 + n - 1 of the stream with lane keys k, to out. */
static inline void gen_rows(uint8_t *out, const uint32_t *k, uint32_t r0,
			    size_t n)
{
	gen_row x;
	memcpy(&x, k, sizeof x);
	x += r0 * 0x9e3779b9u;
	for (size_t r = 0; r < n; r++) {
		gen_row v = x;
		v ^= v >> 16;
		v *= 0x7feb352du;
		v ^= v >> 15;
		v *= 0x846ca68bu;
		v ^= v >> 16;
		memcpy(out + r * BLOCK, &v, BLOCK);
		x += 0x9e3779b9u;
	}
}

/*
 * Blocks are random with probability 1 - cut / 2^16, else a copy of an
 * earlier one, chosen uniformly. Rows 0-63 of the stream are the blocks
 * as generated; word b of rows 64-67 decides block b: its low 16 bits
 * below cut make block b a copy, of block (high 16 bits x b) / 2^16.
 * Block 0 stays random. The copies are made in block order after all
 * rows are written, so a copy of a copy copies what its source became;
 * the blocks to copy are gathered first, without a branch on a coin the
 * predictor cannot learn. Vectors stay inside (one passed by value
 * would change the ABI between the clones).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("default", "avx2", "avx512f")))
#endif
static void
gen_page(uint8_t *page, const uint32_t *k, uint32_t cut)
{
	gen_rows(page, k, 0, NBLOCKS);
	if (!cut)
		return;
	uint32_t ctl[NBLOCKS];
	gen_rows((uint8_t *)ctl, k, NBLOCKS, NBLOCKS / GEN_LANES);
	uint8_t to[NBLOCKS], from[NBLOCKS];
	size_t n = 0;
	for (uint32_t b = 1; b < NBLOCKS; b++) {
		to[n] = (uint8_t)b;
		from[n] = (uint8_t)(((ctl[b] >> 16) * b) >> 16);
		n += (ctl[b] & 0xffffu) < cut;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(page + (size_t)to[i] * BLOCK,
		       page + (size_t)from[i] * BLOCK, BLOCK);
}

/* Blocks random with probability 1 - c, else copies (gen_page). */
static void fill_blocks(uint8_t *page, uint64_t seed, double c)
{
	uint32_t k[GEN_LANES];
	gen_keys(k, seed);
	gen_page(page, k, (uint32_t)(c * 65536.0)); /* c in [0, 1] */
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
		fill_blocks(page, seed, 0);
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
