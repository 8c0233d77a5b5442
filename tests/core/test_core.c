/* Tests of the core layer: units, errors, RNG, Zipf, hashing. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "support/mvtest.h"

static void test_sizes_follow_libvirt_units(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(mv_parse_size("8", "GiB", 1, &v), 0);
	assert_int_equal(v, 8 * MV_GIB);
	assert_int_equal(mv_parse_size("2097152", NULL, MV_KIB, &v), 0);
	assert_int_equal(v, 2 * MV_GIB);
	assert_int_equal(mv_parse_size("512MiB", NULL, 1, &v), 0);
	assert_int_equal(v, 512 * MV_MIB);
	assert_int_equal(mv_parse_size("1 MB", NULL, 1, &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(mv_parse_size("4k", NULL, 1, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(mv_parse_size("1.5GiB", NULL, 1, &v), 0);
	assert_int_equal(v, 3 * MV_GIB / 2);
}

/* 1.2G is 1288490188.8 bytes: mv_parse_size refuses the fraction of a
 * byte, mv_parse_size_round rounds it down to the granule. */
static void test_decimal_sizes_round_down_to_the_granule(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(mv_parse_size("1.2G", NULL, 1, &v), MV_EINVAL);
	assert_int_equal(v, 7);
	assert_int_equal(mv_parse_size_round("1.2G", 1024, &v), 0);
	assert_int_equal(v, 1258291 * MV_KIB);
	assert_int_equal(mv_parse_size_round("1.2G", 1, &v), 0);
	assert_int_equal(v, 1288490188);
	assert_int_equal(mv_parse_size_round("0.5 GiB", 4096, &v), 0);
	assert_int_equal(v, MV_GIB / 2);
	assert_int_equal(mv_parse_size_round("1228M", 1024, &v), 0);
	assert_int_equal(v, 1228 * MV_MIB);
	assert_int_equal(mv_parse_size_round("1.2GB", 1024, &v), 0);
	assert_int_equal(v, 1171875 * MV_KIB);
	static const char *const bad[] = {"1.2X", "1.2.3G", "1,2G",  "-1G",
					  "G",    "1e3M",   "0x10M", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (mv_parse_size_round(bad[i], 1024, &v) != MV_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(mv_parse_size_round("99999999E", 1024, &v), MV_ERANGE);
}

/* Every suffix libvirt's virScaleInteger takes, in the cases users write. */
static void test_every_libvirt_unit_spelling_is_accepted(void **state)
{
	(void)state;
	const uint64_t K = 1000, E2 = 1024;
	static const char *const ok[] = {
		"b",   "B",   "byte", "BYTE", "bytes", "Bytes", "k",   "K",
		"KiB", "kib", "KIB",  "kiB",  "KB",    "kb",    "kB",  "M",
		"m",   "MiB", "mib",  "MIB",  "MB",    "mb",    "G",   "g",
		"GiB", "gib", "GB",   "gb",   "T",     "t",     "TiB", "tib",
		"TB",  "tb",  "P",    "p",    "PiB",   "pib",   "PB",  "pb",
		"E",   "e",   "EiB",  "eib",  "EB",    "eb",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const char *u = ok[i];
		uint64_t want;
		int c = u[0] | 0x20;
		if (c == 'b') {
			want = 1;
		} else {
			uint64_t base = (u[1] == 'b' || u[1] == 'B') ? K : E2;
			int n = (int)(strchr("kmgtpe", c) - "kmgtpe") + 1;
			want = 1;
			while (n--)
				want *= base;
		}
		if (mv_unit_multiplier(u, 0) != want)
			fail_msg("unit '%s': %llu, expected %llu", u,
				 (unsigned long long)mv_unit_multiplier(u, 0),
				 (unsigned long long)want);
	}
	assert_int_equal(mv_unit_multiplier("PiB", 0), 1ull << 50);
	assert_int_equal(mv_unit_multiplier("EB", 0), 1000000000000000000ull);
	/* what virScaleInteger refuses */
	static const char *const bad[] = {"x",  "KiBB", "Kb2", "kibi", "iB",
					  "Ki", "bit",  "Z",   "ZiB",  "K B"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (mv_unit_multiplier(bad[i], 0) != 0)
			fail_msg("unit '%s' should be unknown", bad[i]);
	uint64_t v;
	assert_int_equal(mv_parse_size("2", "gb", 1, &v), 0);
	assert_int_equal(v, 2000000000ull);
	assert_int_equal(mv_parse_size("3 mib", NULL, 1, &v), 0);
	assert_int_equal(v, 3 * MV_MIB);
	assert_int_equal(mv_parse_size("1", "EiB", 1, &v), 0);
	assert_int_equal(v, 1ull << 60);
	/* past 2^64 bytes: well-formed, too large */
	assert_int_equal(mv_parse_size("16", "EiB", 1, &v), MV_ERANGE);
}

static void test_bad_sizes_are_rejected_not_clamped(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(mv_parse_size("-1", NULL, 1, &v), MV_EINVAL);
	assert_int_equal(mv_parse_size("12 parsecs", NULL, 1, &v), MV_EINVAL);
	assert_int_equal(mv_parse_size("", NULL, 1, &v), MV_EINVAL);
	assert_int_equal(mv_parse_size("99999999999", "TiB", 1, &v), MV_ERANGE);
	assert_int_equal(mv_parse_size("1GiB", "MiB", 1, &v), MV_EINVAL);
	assert_int_equal(mv_parse_size("0.1", "b", 1, &v), MV_EINVAL);
	assert_int_equal(mv_parse_size("0x10", NULL, 1, &v), MV_EINVAL);
	assert_int_equal(v, 7);
}

static void test_durations_fractions_and_rates(void **state)
{
	(void)state;
	uint64_t ns;
	double d;
	assert_int_equal(mv_parse_duration("5m", &ns), 0);
	assert_int_equal(ns, 300 * MV_NS_PER_S);
	assert_int_equal(mv_parse_duration("10ms", &ns), 0);
	assert_int_equal(ns, 10 * MV_NS_PER_MS);
	assert_int_equal(mv_parse_duration("30", &ns), 0);
	assert_int_equal(ns, 30 * MV_NS_PER_S);
	assert_int_equal(mv_parse_duration("3 fortnights", &ns), MV_EINVAL);
	assert_int_equal(mv_parse_duration("100000000h", &ns), MV_ERANGE);
	assert_int_equal(mv_parse_fraction("75%", &d), 0);
	assert_true(d == 0.75);
	assert_int_equal(mv_parse_fraction("0.3", &d), 0);
	assert_true(d == 0.3);
	assert_int_equal(mv_parse_fraction("150%", &d), MV_EINVAL);
	assert_int_equal(mv_parse_rate("200k", &d), 0);
	assert_true(d == 200000);
	assert_int_equal(mv_parse_rate("1.5M/s", &d), 0);
	assert_true(d == 1500000);
	assert_int_equal(mv_parse_rate("fast", &d), MV_EINVAL);
}

static void test_error_line_names_file_line_and_field(void **state)
{
	(void)state;
	struct mv_error e;
	char buf[512];
	int rc = mv_error_set(&e, MV_EINVAL, "vm.xml", 12, "memory",
			      "must be a multiple of %d KiB", 4);
	assert_int_equal(rc, MV_EINVAL);
	assert_string_equal(mv_error_format(&e, buf, sizeof buf),
			    "vm.xml:12: memory: must be a multiple of 4 KiB");
	mv_error_set(&e, MV_ENOENT, "x.xml", 0, "", "cannot open");
	assert_string_equal(mv_error_format(&e, buf, sizeof buf),
			    "x.xml: cannot open");
}

static void test_rng_is_deterministic_and_bounded(void **state)
{
	(void)state;
	struct mv_rng a, b;
	mv_rng_seed(&a, 42);
	mv_rng_seed(&b, 42);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(mv_rng_next(&a), mv_rng_next(&b));
	mv_rng_seed(&b, 43);
	assert_int_not_equal(mv_rng_next(&a), mv_rng_next(&b));
	uint64_t hist[10] = {0};
	for (int i = 0; i < 100000; i++) {
		uint64_t v = mv_rng_below(&a, 10);
		assert_true(v < 10);
		hist[v]++;
	}
	for (int i = 0; i < 10; i++)
		assert_true(hist[i] > 9000 && hist[i] < 11000);
	for (int i = 0; i < 1000; i++) {
		double d = mv_rng_double(&a);
		assert_true(d >= 0 && d < 1);
	}
}

/* Zipf(1) over n ranks: P(rank k) = 1 / (k * H_n). */
static void test_zipf_matches_its_distribution(void **state)
{
	(void)state;
	struct mv_zipf z;
	struct mv_rng r;
	const uint64_t n = 1000;
	const int N = 400000;
	assert_int_equal(mv_zipf_init(&z, n, 1.0), 0);
	mv_rng_seed(&r, 1);
	static uint64_t hist[1000];
	memset(hist, 0, sizeof hist);
	for (int i = 0; i < N; i++) {
		uint64_t k = mv_zipf_next(&z, &r);
		assert_true(k < n);
		hist[k]++;
	}
	double hn = 0;
	for (uint64_t k = 1; k <= n; k++)
		hn += 1.0 / (double)k;
	for (uint64_t k = 0; k < 5; k++) {
		double expect = N / ((double)(k + 1) * hn);
		assert_true(hist[k] > 0.95 * expect && hist[k] < 1.05 * expect);
	}
	assert_int_equal(mv_zipf_init(&z, 0, 1.0), MV_EINVAL);
	assert_int_equal(mv_zipf_init(&z, 10, 0), MV_EINVAL);
}

static void test_page_hash_and_zero_detection(void **state)
{
	(void)state;
	static uint8_t a[MV_PAGE_SIZE], b[MV_PAGE_SIZE];
	memset(a, 0, sizeof a);
	assert_true(mv_page_is_zero(a));
	assert_true(mv_page_hash(a) == mv_zero_page_hash());
	a[4095] = 1;
	assert_false(mv_page_is_zero(a));
	assert_true(mv_page_hash(a) != mv_zero_page_hash());
	memcpy(b, a, sizeof a);
	assert_true(mv_page_hash(a) == mv_page_hash(b));
}

static void test_bitmap_counts_bits(void **state)
{
	(void)state;
	struct mv_bitmap b;
	assert_int_equal(mv_bitmap_init(&b, 130), 0);
	mv_bitmap_set(&b, 0);
	mv_bitmap_set(&b, 64);
	mv_bitmap_set(&b, 129);
	assert_int_equal(mv_bitmap_count(&b), 3);
	assert_true(mv_bitmap_test(&b, 129));
	mv_bitmap_clear(&b, 64);
	assert_false(mv_bitmap_test(&b, 64));
	mv_bitmap_zero(&b);
	assert_int_equal(mv_bitmap_count(&b), 0);
	mv_bitmap_free(&b);
}

static void test_hex_digits(void **state)
{
	(void)state;
	const char *d = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		assert_int_equal(mv_hex_digit(d[i]), i);
		assert_int_equal(mv_hex_digit(toupper((unsigned char)d[i])), i);
	}
	/* nothing else, control characters that OR 0x20 into a digit
	 * included */
	const int bad[] = {0,   0x10, 0x19, '/', ':', '@',
			   'G', '`',  'g',  ' ', 255};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(mv_hex_digit(bad[i]), -1);
}

/* The growing array doubles from its first size, keeps what it holds,
 * refuses an impossible size without touching the array, and an emptied
 * array past keep is given back. */
static void test_array_room_doubles_and_trims(void **state)
{
	(void)state;
	uint32_t *a = NULL;
	size_t cap = 0;
	for (size_t n = 0; n < 100; n++) {
		assert_int_equal(mv_array_room(&a, &cap, n, sizeof *a, 4), 0);
		assert_true(cap > n);
		a[n] = (uint32_t)n * 7;
	}
	assert_int_equal(cap, 128); /* 4, 8, ..., 128 */
	for (size_t n = 0; n < 100; n++)
		assert_int_equal(a[n], n * 7);
	uint32_t *was = a;
	size_t huge = SIZE_MAX / 2 + 1;
	assert_int_equal(mv_array_room(&a, &huge, huge, sizeof *a, 4), -1);
	assert_ptr_equal(a, was);
	assert_int_equal(huge, SIZE_MAX / 2 + 1);
	mv_array_trim(&a, &cap, 5, 64); /* not empty: kept */
	assert_ptr_equal(a, was);
	mv_array_trim(&a, &cap, 0, 128); /* not past keep: kept */
	assert_ptr_equal(a, was);
	mv_array_trim(&a, &cap, 0, 64);
	assert_null(a);
	assert_int_equal(cap, 0);
	assert_int_equal(mv_array_room(&a, &cap, 0, sizeof *a, 4), 0);
	assert_int_equal(cap, 4);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_follow_libvirt_units),
		cmocka_unit_test(test_decimal_sizes_round_down_to_the_granule),
		cmocka_unit_test(test_every_libvirt_unit_spelling_is_accepted),
		cmocka_unit_test(test_hex_digits),
		cmocka_unit_test(test_bad_sizes_are_rejected_not_clamped),
		cmocka_unit_test(test_durations_fractions_and_rates),
		cmocka_unit_test(test_error_line_names_file_line_and_field),
		cmocka_unit_test(test_rng_is_deterministic_and_bounded),
		cmocka_unit_test(test_zipf_matches_its_distribution),
		cmocka_unit_test(test_page_hash_and_zero_detection),
		cmocka_unit_test(test_bitmap_counts_bits),
		cmocka_unit_test(test_array_room_doubles_and_trims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
