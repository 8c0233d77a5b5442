/*
 * core.h - units, errors, the deterministic RNG and page hashing.
 *
 * The lowest layer of memvisor: nothing here knows about hosts, VMs or
 * guests. Everything above uses these types for sizes (bytes, pages), time
 * (nanoseconds of simulated time) and errors (a negative MV_E* code plus a
 * struct mv_error naming the file, line and field of bad input).
 */
#ifndef MEMVISOR_CORE_H
#define MEMVISOR_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define MV_VERSION "0.1.0"

#define MV_PAGE_SHIFT 12
#define MV_PAGE_SIZE (1u << MV_PAGE_SHIFT)
#define MV_KIB 1024ull
#define MV_MIB (1024ull * 1024)
#define MV_GIB (1024ull * 1024 * 1024)

#define MV_NS_PER_US 1000ull
#define MV_NS_PER_MS 1000000ull
#define MV_NS_PER_S 1000000000ull

#if defined(__GNUC__)
#define mv_likely(x) __builtin_expect(!!(x), 1)
#define mv_unlikely(x) __builtin_expect(!!(x), 0)
#else
#define mv_likely(x) (x)
#define mv_unlikely(x) (x)
#endif

/*
 * Keep loads whose values are thrown away: a batch of them read ahead of
 * the work that needs them, so that their cache and TLB misses overlap
 * (a software prefetch that misses the TLB waits for its page walk where
 * it stands; docs/engine.md, "Misses in batches"). The compiler cannot
 * see that such loads matter; this makes their sum an input of an empty
 * asm statement.
 */
#if defined(__GNUC__)
#define mv_keep_loads(sum) __asm__ volatile("" : : "r"(sum))
#else
#define mv_keep_loads(sum) ((void)(sum))
#endif

/* Error codes: functions that can fail return 0 or one of these. */
enum {
	MV_OK = 0,
	MV_EINVAL = -1,    /* bad input: the mv_error says where */
	MV_ENOMEM = -2,    /* the process (not the simulated host) ran out */
	MV_EIO = -3,       /* real I/O failed */
	MV_ENOSPC = -4,    /* a real disk is full */
	MV_ENOENT = -5,    /* a named file or object does not exist */
	MV_EAGAIN = -6,    /* simulated resource exhausted; retry later */
	MV_ECANCELED = -7, /* stopped on request (a signal) before done */
	MV_ERANGE = -8,    /* a well-formed number past what is taken */
};

/*
 * An error for the user: "file:line: field: message". file and field may be
 * empty and line 0 when they do not apply.
 */
struct mv_error {
	int code;
	int line;
	char file[256];
	char field[64];
	char msg[256];
};

/* Fill err (if not NULL) and return code; printf-style message. */
int mv_error_set(struct mv_error *err, int code, const char *file, int line,
		 const char *field, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* The same with the message's arguments as a va_list (readers' fail()). */
int mv_error_vset(struct mv_error *err, int code, const char *file, int line,
		  const char *field, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
/*
 * Clocks, in seconds: mv_wall_s() monotonic wall time (how long a run
 * took), mv_cpu_s() this thread's CPU time (per-core figures that stay
 * meaningful on a machine busy with other work).
 */
double mv_wall_s(void);
double mv_cpu_s(void);
/* Format err as one line without a newline; returns buf. */
const char *mv_error_format(const struct mv_error *err, char *buf, size_t n);
/* A short name for an error code ("invalid input", "I/O error", ...). */
const char *mv_strerror(int code);
/* What a stat(2) mode names, for messages: "a regular file", "a
 * directory", "a FIFO", "a character device", "a block device", "a
 * socket", "a symbolic link". */
const char *mv_file_kind(unsigned mode);

/*
 * Sizes and durations as users write them.
 * mv_parse_size: "8GiB", "512 MiB", "4096", with the unit names libvirt's
 * virScaleInteger takes, in any case (b/byte/bytes, KB=1000, K/KiB=1024,
 * MB, M/MiB, GB, G/GiB, TB, T/TiB, PB, P/PiB, EB, E/EiB); a bare
 * number is multiplied by default_unit. Returns MV_EINVAL on anything else,
 * including negative numbers and trailing garbage, and MV_ERANGE for a
 * well-formed size of 2^64 bytes or more (callers say "too large", not
 * "not a size"); *out is left alone on failure.
 */
int mv_parse_size(const char *s, const char *unit, uint64_t default_unit,
		  uint64_t *out);
/*
 * mv_parse_size's syntax, without a default unit, where a fraction of a
 * unit is meant ("1.2G", "0.5GiB"): the bytes rounded down to a multiple
 * of granule (1 or 0: to a byte). MV_EINVAL, MV_ERANGE as mv_parse_size.
 */
int mv_parse_size_round(const char *s, uint64_t granule, uint64_t *out);
/* libvirt unit name (virScaleInteger) -> multiplier, 0 if unknown;
 * NULL or "" -> default_unit. */
uint64_t mv_unit_multiplier(const char *unit, uint64_t default_unit);
/* "300s", "5m", "10ms", "250us", "2h"; bare number = seconds. MV_EINVAL
 * otherwise, MV_ERANGE at or past MV_DURATION_MAX_NS (well-formed but too
 * long); *ns is left alone on failure. */
#define MV_DURATION_MAX_NS 1.8e19 /* about 570 years: 2^64 ns */
int mv_parse_duration(const char *s, uint64_t *ns);
/* Decimal with optional '%' (divided by 100) or plain fraction; 0..max. */
int mv_parse_fraction(const char *s, double *out);
/* Non-negative decimal with optional k/M/G suffix (x1000); e.g. "200k". */
int mv_parse_rate(const char *s, double *out);
/* Strict unsigned integer. */
int mv_parse_u64(const char *s, uint64_t *out);
/* Value of a hexadecimal digit (either case), -1 for anything else. */
int mv_hex_digit(int c);

/* Format bytes as "1.50 GiB" / "512.0 MiB" / "12 KiB" into buf. */
const char *mv_format_bytes(uint64_t bytes, char *buf, size_t n);

/*
 * Deterministic RNG: xoshiro256** seeded through splitmix64. Every random
 * choice in a simulation comes from one of these, seeded from the scenario
 * seed, so the same seed gives the same run byte for byte.
 */
struct mv_rng {
	uint64_t s[4];
};

void mv_rng_seed(struct mv_rng *r, uint64_t seed);

static inline uint64_t mv_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t mv_rng_next(struct mv_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = mv_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = mv_rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire). */
static inline uint64_t mv_rng_below(struct mv_rng *r, uint64_t n)
{
	__uint128_t m = (__uint128_t)mv_rng_next(r) * n;
	uint64_t l = (uint64_t)m;
	if (mv_unlikely(l < n)) {
		uint64_t t = -n % n;
		while (l < t) {
			m = (__uint128_t)mv_rng_next(r) * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* Uniform double in [0, 1). */
static inline double mv_rng_double(struct mv_rng *r)
{
	return (double)(mv_rng_next(r) >> 11) * 0x1.0p-53;
}

/* splitmix64 step: a good 64-bit mixer for deriving seeds from keys. */
static inline uint64_t mv_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * Zipf(s) over ranks 1..n by rejection-inversion (Hormann & Derflinger,
 * "Rejection-inversion to generate variates from monotone discrete
 * distributions", 1996): O(1) per sample, no tables, any n.
 */
struct mv_zipf {
	uint64_t n;
	double s;
	double h_x1, h_n, cut;
};

int mv_zipf_init(struct mv_zipf *z, uint64_t n, double s);
/* Rank in [0, n): 0 is the most popular. */
uint64_t mv_zipf_next(const struct mv_zipf *z, struct mv_rng *r);

/* Greatest common divisor (Euclid); mv_gcd(a, 0) = a. A stride m scatters
 * 0..n-1 as i -> i * m mod n, a permutation, exactly when mv_gcd(m, n) is
 * 1. */
static inline uint64_t mv_gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* XXH3-64 of one 4 KiB page (libxxhash). */
uint64_t mv_page_hash(const void *page);
/* XXH3-64 of arbitrary bytes. */
uint64_t mv_hash(const void *p, size_t n);
/* Hash of a page of zeros, computed once. */
uint64_t mv_zero_page_hash(void);
/* Non-zero if the page is all zeros (fast word scan). */
int mv_page_is_zero(const void *page);

/* A fixed-size bitmap. */
struct mv_bitmap {
	uint64_t nbits;
	uint64_t *words;
};

int mv_bitmap_init(struct mv_bitmap *b, uint64_t nbits);
void mv_bitmap_free(struct mv_bitmap *b);
static inline int mv_bitmap_test(const struct mv_bitmap *b, uint64_t i)
{
	return (int)((b->words[i >> 6] >> (i & 63)) & 1);
}
static inline void mv_bitmap_set(struct mv_bitmap *b, uint64_t i)
{
	b->words[i >> 6] |= 1ull << (i & 63);
}
static inline void mv_bitmap_clear(struct mv_bitmap *b, uint64_t i)
{
	b->words[i >> 6] &= ~(1ull << (i & 63));
}
void mv_bitmap_zero(struct mv_bitmap *b);
uint64_t mv_bitmap_count(const struct mv_bitmap *b);

/*
 * Books: the simulator's own metadata, in bytes by structure (element
 * size x count). A structure a layer adds is one mv_books_add line in
 * that layer's *_books function, next to its other arrays. Items with the
 * same group and name add up (one per VM becomes one line). Groups:
 * "hypervisor" (what ESX would keep: frames, pmap, sharing table,
 * compression and swap maps), "guest" (the guest OS model's own books),
 * "mmu" (the MMU model's tables and TLBs), "verify" (--verify's
 * checksums), "series" (the sampled statistics).
 *
 * The count is what the structure can have made resident:
 *  - an array written across its whole length (or read-written at any
 *    index: the pmap, the host's per-frame arrays, a hash table) counts
 *    as allocated, the same expressions as its allocation;
 *  - a sparse array (mv_sparse_alloc: sized for the most it may need,
 *    MAP_NORESERVE, written only from its start up to a high-water mark
 *    the owner keeps: free stacks, the swap file's and the compression
 *    cache's per-slot arrays) counts element size x that high-water mark.
 *    Its pages past the mark were never written, so the kernel never
 *    backed them; the mark rounds up to at most one 4 KiB page per array.
 *    A high-water mark never goes down: pages written once stay resident.
 */
#define MV_BOOKS_MAX 64

struct mv_books_item {
	const char
		*group;   /* "hypervisor", "guest", "mmu", "verify", "series" */
	const char *name; /* "<layer>.<structure>": "vm.pmap" */
	uint64_t elem;    /* bytes per element (the first one added) */
	uint64_t count;   /* elements, summed */
	uint64_t bytes;   /* elem x count, summed */
};

struct mv_books {
	int n;
	int dropped;          /* items past MV_BOOKS_MAX (a bug: raise it) */
	uint64_t guest_pages; /* configured guest pages (the per-page base) */
	uint64_t host_frames; /* host frames, the zero frame included */
	struct mv_books_item item[MV_BOOKS_MAX];
};

/*
 * Zeroed memory for an array of up to `bytes` that is written from its
 * start up to a high-water mark (see the books above): an anonymous
 * MAP_NORESERVE mapping, so only pages written cost memory. NULL when
 * out of address space. mv_sparse_free takes the same size.
 */
void *mv_sparse_alloc(uint64_t bytes);
void mv_sparse_free(void *p, uint64_t bytes);

/*
 * Zeroed memory for a large array read and written at random indexes (the
 * pmap, a guest's page tables and page books): an anonymous mapping
 * advised MADV_HUGEPAGE, so that on a host of hundreds of GiB each random
 * access is not also a TLB miss and a page walk (docs/engine.md,
 * "Production scale"). Such an array is written across its length, so the
 * 2 MiB pages cost at most one partly used page at its end. NULL when
 * out of memory; mv_dense_free takes the same size.
 */
void *mv_dense_alloc(uint64_t bytes);
void mv_dense_free(void *p, uint64_t bytes);

/*
 * A growing array: make room at index n of the array at *(void **)pp,
 * *cap elements of size bytes. When n reaches *cap the array doubles
 * (from `first` elements). 0, or -1 out of memory with the array and
 * *cap unchanged. mv_array_trim gives an emptied array (n == 0) back
 * when it grew past keep elements, so that a passing peak does not stay
 * allocated; it grows again from `first` when next used.
 */
int mv_array_room(void *pp, size_t *cap, size_t n, size_t size, size_t first);
void mv_array_trim(void *pp, size_t *cap, size_t n, size_t keep);

/* Add count elements of elem bytes as group/name (static strings). */
void mv_books_add(struct mv_books *b, const char *group, const char *name,
		  uint64_t elem, uint64_t count);
/* The item group/name, or NULL. */
const struct mv_books_item *mv_books_find(const struct mv_books *b,
					  const char *group, const char *name);
/* Bytes of a group (NULL: all groups). */
uint64_t mv_books_bytes(const struct mv_books *b, const char *group);
/* Words a bitmap allocated (mv_bitmap_init's count), for books. */
static inline uint64_t mv_bitmap_words(const struct mv_bitmap *b)
{
	return b->words ? (b->nbits + 63) / 64 + 1 : 0;
}

#endif
