/*
 * Content profiles (src/image/profile.c, profile_write.c, the page bytes
 * in src/guest/content.c, the <content profile> element in
 * src/sim/workloads.c): generated pages land in their LZ4 bucket, a
 * profile survives writing and loading, shared classes give the same
 * contents in every VM, bad profiles and elements are refused naming the
 * file and field, and the round trip: three synthetic images analysed,
 * profiled and simulated as three VMs share and compress within 5% of
 * what the analysis measured on the images.
 * The images are raw files analysed by the real analysis (mv_image_open,
 * mv_analysis_*), every distinct content compressed.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/guest.h"
#include "memvisor/guest.h"
#include "memvisor/image.h"
#include "memvisor/reclaim.h"
#include "memvisor/sim.h"
#include "support/mvtest.h"

#define NIMG 3

/* ---- synthetic images --------------------------------------------------- */

/*
 * Content id -> bytes. Id 0 is the zero page; otherwise id % 4 picks a
 * kind: random bytes, English-like text of a small vocabulary (LZ4 about
 * half), text with long runs of spaces (very compressible), half text
 * half random.
 */
static void content_bytes(uint32_t id, uint8_t *page)
{
	static const char *const words[] = {
		"the",  "memory", "page", "share", "kernel",   "guest",
		"host", "frame",  "zero", "swap",  "balloon",  "of",
		"and",  "a",      "to",   "in",    "compress", "ratio",
		"scan", "merge",  "copy", "write", "read",     "fault"};
	const size_t nw = sizeof words / sizeof *words;
	struct mv_rng r;
	mv_rng_seed(&r, mv_mix64(id * 7919ull + 17));
	if (id == 0) {
		memset(page, 0, MV_PAGE_SIZE);
		return;
	}
	size_t i = 0;
	switch (id % 4) {
	case 0:
		for (; i < MV_PAGE_SIZE; i += 8) {
			uint64_t v = mv_rng_next(&r);
			memcpy(page + i, &v, 8);
		}
		return;
	case 2:
	case 1:
	case 3: {
		size_t end = id % 4 == 3 ? MV_PAGE_SIZE / 2 : MV_PAGE_SIZE;
		while (i < end) {
			const char *w = words[mv_rng_below(&r, nw)];
			size_t len = strlen(w);
			if (id % 4 == 2 && mv_rng_below(&r, 4) == 0)
				len = 0, w = "";
			for (size_t k = 0; k < len && i < end; k++)
				page[i++] = (uint8_t)w[k];
			size_t sp = id % 4 == 2 ? 1 + mv_rng_below(&r, 24) : 1;
			for (size_t k = 0; k < sp && i < end; k++)
				page[i++] = ' ';
			/* a random word-sized token now and then */
			if (id % 4 == 1 && mv_rng_below(&r, 3) == 0)
				for (size_t k = 0; k < 6 && i < end; k++)
					page[i++] = (uint8_t)('a' +
							      mv_rng_below(&r,
									   26));
		}
		for (; i < MV_PAGE_SIZE; i += 8) {
			uint64_t v = mv_rng_next(&r);
			memcpy(page + i, &v, 8);
		}
		return;
	}
	}
}

/* A group of contents: how many, and their copies in each image. */
struct group {
	uint32_t contents;
	uint32_t copies[NIMG];
};

/* zero pages (id 0), intra duplicates, pages shared by 1-2 and 1-2-3,
 * unique pages; every group mixes the four kinds of content_bytes */
static const struct group groups[] = {
	{1, {100, 60, 200}}, /* the zero page */
	{300, {1, 0, 0}},    {50, {3, 0, 0}}, {250, {0, 1, 0}}, {30, {0, 2, 0}},
	{200, {0, 0, 1}},    {20, {0, 0, 5}}, {150, {1, 1, 0}}, {40, {2, 1, 0}},
	{100, {1, 1, 1}},    {30, {1, 2, 3}},
};
#define NGROUPS (sizeof groups / sizeof *groups)

/* Write image `img` as a raw file: its pages in a scrambled order. */
static void write_image(const char *path, int img, uint64_t *npages)
{
	uint64_t n = 0;
	for (size_t g = 0; g < NGROUPS; g++)
		n += (uint64_t)groups[g].contents * groups[g].copies[img];
	uint32_t *ids = malloc(n * sizeof *ids);
	assert_non_null(ids);
	uint64_t k = 0;
	uint32_t id = 0;
	for (size_t g = 0; g < NGROUPS; g++)
		for (uint32_t c = 0; c < groups[g].contents; c++, id++)
			for (uint32_t j = 0; j < groups[g].copies[img]; j++)
				ids[k++] = id;
	struct mv_rng r;
	mv_rng_seed(&r, 99 + (uint64_t)img);
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = mv_rng_below(&r, i + 1);
		uint32_t t = ids[i];
		ids[i] = ids[j];
		ids[j] = t;
	}
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	uint8_t page[MV_PAGE_SIZE];
	for (uint64_t i = 0; i < n; i++) {
		content_bytes(ids[i], page);
		assert_int_equal(fwrite(page, 1, MV_PAGE_SIZE, f),
				 MV_PAGE_SIZE);
	}
	assert_int_equal(fclose(f), 0);
	free(ids);
	*npages = n;
}

/* ---- the analysis ---------------------------------------------------------
 */

static struct mv_analysis *analyze(char paths[NIMG][512])
{
	struct mv_analysis_opts o = {.max_page_sharing = 256,
				     .compress_every = 1};
	struct mv_analysis *a = NULL;
	struct mv_error err = {0};
	assert_int_equal(mv_analysis_create(&o, &a), 0);
	for (int i = 0; i < NIMG; i++) {
		struct mv_image *img;
		mvt_ok(mv_image_open(paths[i], &img, &err), &err,
		       "mv_image_open");
		mvt_ok(mv_analysis_add(a, img, &err), &err, "mv_analysis_add");
	}
	mvt_ok(mv_analysis_finish(a, &err), &err, "mv_analysis_finish");
	return a;
}

/* ---- helpers --------------------------------------------------------------
 */

struct fixture {
	char *dir;
	char img[NIMG][512];
	char prof[NIMG][512];
	uint64_t pages[NIMG];
	struct mv_analysis *a;
};

/* Images, their analysis and their profiles in a fresh directory. */
static void make_fixture(struct fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	fx->dir = mvt_tmpdir("profile");
	for (int i = 0; i < NIMG; i++) {
		snprintf(fx->img[i], sizeof fx->img[i], "%s/img%d.raw", fx->dir,
			 i + 1);
		write_image(fx->img[i], i, &fx->pages[i]);
	}
	fx->a = analyze(fx->img);
	for (int i = 0; i < NIMG; i++) {
		snprintf(fx->prof[i], sizeof fx->prof[i], "%s/vm%d.json",
			 fx->dir, i + 1);
		FILE *f = fopen(fx->prof[i], "w");
		assert_non_null(f);
		struct mv_error err = {0};
		mvt_ok(mv_profile_write(fx->a, i, fx->img[i], f, &err), &err,
		       "mv_profile_write");
		assert_int_equal(fclose(f), 0);
	}
}

static void free_fixture(struct fixture *fx)
{
	mv_analysis_destroy(fx->a);
	mvt_rmdir(fx->dir);
}

static struct mv_profile *load(const char *path)
{
	struct mv_profile *p = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_profile_load(path, &p, &err), &err, "mv_profile_load");
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* ---- tests ----------------------------------------------------------------
 */

static void test_generated_pages_land_in_their_lz4_bucket(void **state)
{
	(void)state;
	uint8_t a[MV_PAGE_SIZE], b[MV_PAGE_SIZE];
	for (int bucket = 0; bucket < MV_PROFILE_BUCKETS; bucket++)
		for (uint64_t key = 1; key <= 40; key++) {
			struct mv_profile_page d = {
				.key = mv_mix64(key * 131 + (uint64_t)bucket),
				.bucket = bucket};
			mv_content_fill_profile(a, &d);
			int size = mv_content_lz4_size(a);
			int got = mv_profile_bucket(size);
			if (got != bucket)
				fail_msg("key %llu: %d bytes, bucket %d, "
					 "wanted %d",
					 (unsigned long long)key, size, got,
					 bucket);
			assert_false(mv_page_is_zero(a));
			mv_content_fill_profile(b, &d); /* deterministic */
			assert_memory_equal(a, b, MV_PAGE_SIZE);
		}
	struct mv_profile_page z = {.zero = 1, .key = 5, .bucket = 7};
	memset(a, 0xff, sizeof a);
	mv_content_fill_profile(a, &z);
	assert_true(mv_page_is_zero(a));
	/* the bucket edges: (256 b, 256 (b + 1)], the last one open */
	assert_int_equal(mv_profile_bucket(256), 0);
	assert_int_equal(mv_profile_bucket(257), 1);
	assert_int_equal(mv_profile_bucket(1024), 3);
	assert_int_equal(mv_profile_bucket(4113), MV_PROFILE_BUCKETS - 1);
}

static void test_profile_written_and_loaded_holds_the_images_mix(void **state)
{
	(void)state;
	struct fixture fx;
	make_fixture(&fx);
	uint64_t set = 0;
	for (int i = 0; i < NIMG; i++) {
		struct mv_profile *p = load(fx.prof[i]);
		assert_int_equal(p->images, NIMG);
		assert_int_equal(p->index, i);
		assert_int_equal(p->pages, fx.pages[i]);
		assert_int_equal(p->zero_pages, groups[0].copies[i]);
		if (i)
			assert_true(p->set == set); /* one analysis, one set */
		set = p->set;
		/* one class per group the image takes part in, with its
		 * contents and copies */
		int want = 0;
		for (size_t g = 1; g < NGROUPS; g++)
			want += groups[g].copies[i] != 0;
		assert_int_equal(p->nclasses, want);
		int c = 0;
		for (size_t g = 1; g < NGROUPS; g++) {
			if (!groups[g].copies[i])
				continue;
			int found = 0;
			for (int k = 0; k < p->nclasses; k++)
				if (p->cls[k].contents == groups[g].contents &&
				    p->cls[k].copies == groups[g].copies[i])
					found++;
			assert_true(found >= 1);
			c++;
		}
		/* every content sampled: the lz4 counts are the contents */
		for (int k = 0; k < p->nclasses; k++)
			assert_int_equal(p->cls[k].lz4_total,
					 p->cls[k].contents);
		uint64_t sampled = 0;
		for (int b = 0; b < MV_PROFILE_BUCKETS; b++)
			sampled += p->lz4_pages[b];
		assert_int_equal(sampled, fx.pages[i]);
		mv_profile_free(p);
	}
	free_fixture(&fx);
}

/* The set of content keys of a profile's pages. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t distinct_keys(const struct mv_profile *p, uint64_t *keys,
			      uint64_t *zero)
{
	uint64_t n = 0;
	*zero = 0;
	for (uint64_t v = 0; v < p->pages; v++) {
		struct mv_profile_page d;
		mv_profile_page(p, v, &d);
		if (d.zero)
			(*zero)++;
		else
			keys[n++] = d.key;
	}
	qsort(keys, n, sizeof *keys, cmp_u64);
	uint64_t u = 0;
	for (uint64_t i = 0; i < n; i++)
		if (!u || keys[u - 1] != keys[i])
			keys[u++] = keys[i];
	return u;
}

static uint64_t common(const uint64_t *a, uint64_t na, const uint64_t *b,
		       uint64_t nb)
{
	uint64_t i = 0, j = 0, n = 0;
	while (i < na && j < nb)
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else
			n++, i++, j++;
	return n;
}

static void
test_profiles_of_one_analysis_share_exactly_the_shared_contents(void **state)
{
	(void)state;
	struct fixture fx;
	make_fixture(&fx);
	struct mv_profile *p[NIMG];
	uint64_t *keys[NIMG], nk[NIMG], zero;
	for (int i = 0; i < NIMG; i++) {
		p[i] = load(fx.prof[i]);
		keys[i] = malloc(p[i]->pages * sizeof(uint64_t));
		assert_non_null(keys[i]);
		nk[i] = distinct_keys(p[i], keys[i], &zero);
		assert_int_equal(zero, groups[0].copies[i]);
		/* distinct non-zero contents of the image */
		uint64_t want = 0;
		for (size_t g = 1; g < NGROUPS; g++)
			want += groups[g].copies[i] ? groups[g].contents : 0;
		assert_int_equal(nk[i], want);
	}
	/* images 1-2 share groups {1,1,0}, {2,1,0} and the 1-2-3 ones */
	for (int i = 0; i < NIMG; i++)
		for (int j = i + 1; j < NIMG; j++) {
			uint64_t want = 0;
			for (size_t g = 1; g < NGROUPS; g++)
				if (groups[g].copies[i] && groups[g].copies[j])
					want += groups[g].contents;
			assert_int_equal(common(keys[i], nk[i], keys[j], nk[j]),
					 want);
		}
	/* half a workload is a sample of the image: its zero fraction */
	for (int i = 0; i < NIMG; i++) {
		uint64_t half = p[i]->pages / 2, z = 0;
		for (uint64_t v = 0; v < half; v++) {
			struct mv_profile_page d;
			mv_profile_page(p[i], v, &d);
			z += (uint64_t)d.zero;
		}
		double want = (double)p[i]->zero_pages * (double)half /
			      (double)p[i]->pages;
		assert_true(fabs((double)z - want) <= 0.05 * want + 1);
	}
	/* a profile of another analysis (another set) shares nothing */
	struct mv_profile *q = load(fx.prof[0]);
	q->set ^= 1;
	uint64_t *qk = malloc(q->pages * sizeof *qk);
	uint64_t nq = distinct_keys(q, qk, &zero);
	assert_int_equal(common(keys[0], nk[0], qk, nq), 0);
	free(qk);
	mv_profile_free(q);
	for (int i = 0; i < NIMG; i++) {
		free(keys[i]);
		mv_profile_free(p[i]);
	}
	free_fixture(&fx);
}

/*
 * Profiles are written one after another from a finished analysis; for a
 * live process the pages may change in between. Image 2's bytes are
 * overwritten after the first profile is written: the second profile
 * must still have the first's set id (built from the keys the analysis
 * kept, not from pages read again), or VMs built from the two would share
 * nothing across them.
 */
static void
test_profiles_agree_on_their_set_when_an_image_changes_after(void **state)
{
	(void)state;
	struct fixture fx;
	make_fixture(&fx);
	struct mv_profile *p0 = load(fx.prof[0]);
	FILE *f = fopen(fx.img[1], "r+b");
	assert_non_null(f);
	uint8_t page[MV_PAGE_SIZE];
	memset(page, 0x5a, sizeof page);
	for (uint64_t i = 0; i < fx.pages[1]; i++)
		assert_int_equal(fwrite(page, 1, sizeof page, f), sizeof page);
	assert_int_equal(fclose(f), 0);
	char path[600];
	snprintf(path, sizeof path, "%s/vm2-after.json", fx.dir);
	f = fopen(path, "w");
	assert_non_null(f);
	struct mv_error err = {0};
	mvt_ok(mv_profile_write(fx.a, 1, fx.img[1], f, &err), &err,
	       "mv_profile_write");
	assert_int_equal(fclose(f), 0);
	struct mv_profile *p1 = load(path);
	if (p1->set != p0->set)
		fail_msg("set %016llx, the first profile's %016llx",
			 (unsigned long long)p1->set,
			 (unsigned long long)p0->set);
	mv_profile_free(p0);
	mv_profile_free(p1);
	free_fixture(&fx);
}

static void expect_bad_profile(const char *dir, const char *text,
			       const char *field, const char *msg)
{
	char path[600];
	snprintf(path, sizeof path, "%s/bad.json", dir);
	write_text(path, text);
	struct mv_profile *p = (struct mv_profile *)1;
	struct mv_error err = {0};
	int rc = mv_profile_load(path, &p, &err);
	if (rc != MV_EINVAL || strcmp(err.field, field) != 0 ||
	    !strstr(err.msg, msg) || strcmp(err.file, path) != 0)
		fail_msg("for %s: rc %d, file %s, field '%s', msg '%s'", text,
			 rc, err.file, err.field, err.msg);
	assert_null(p);
}

#define HIST0 "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"
#define HIST1 "[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"
#define HEAD                                                                   \
	"{\"schema\": \"memvisor-profile/1\", \"image\": \"x\", "              \
	"\"set\": \"00000000000000ab\", \"images\": 2, \"index\": 0, "         \
	"\"lz4_bucket_bytes\": 256, \"lz4_pages\": " HIST0                     \
	", \"set_lz4\": " HIST0 ", "

static void test_bad_profiles_are_refused_naming_file_and_field(void **state)
{
	(void)state;
	char *dir = mvt_tmpdir("badprof");
	char path[600];
	snprintf(path, sizeof path, "%s/good.json", dir);
	write_text(path, HEAD "\"pages\": 3, \"zero_pages\": 1, \"classes\": "
			      "[{\"images\": [0, 1], \"copies\": [2, 1], "
			      "\"contents\": 1, \"lz4\": " HIST1 "}]}");
	struct mv_profile *p = load(path);
	assert_int_equal(p->nclasses, 1);
	assert_int_equal(p->cls[0].copies, 2);
	struct mv_profile_page d;
	int zeros = 0;
	for (uint64_t v = 0; v < 3; v++) {
		mv_profile_page(p, v, &d);
		zeros += d.zero;
		if (!d.zero)
			assert_int_equal(d.bucket, 0);
	}
	assert_int_equal(zeros, 1);
	mv_profile_free(p);

	expect_bad_profile(dir, "{\"schema\": ", "profile", "");
	expect_bad_profile(dir, "[1]", "profile", "not a JSON object");
	expect_bad_profile(dir, "{\"schema\": \"memvisor-profile/2\"}",
			   "schema", "is not");
	expect_bad_profile(dir,
			   HEAD "\"pages\": 3, \"zero_pages\": 1, "
				"\"clases\": []}",
			   "profile", "unknown member 'clases'");
	expect_bad_profile(dir, HEAD "\"zero_pages\": 1, \"classes\": []}",
			   "pages", "is missing");
	expect_bad_profile(dir,
			   HEAD "\"pages\": -3, \"zero_pages\": 1, "
				"\"classes\": []}",
			   "pages", "non-negative integer");
	/* the classes must hold the image's pages */
	expect_bad_profile(dir,
			   HEAD "\"pages\": 4, \"zero_pages\": 1, \"classes\": "
				"[{\"images\": [0, 1], \"copies\": [2, 1], "
				"\"contents\": 1, \"lz4\": " HIST1 "}]}",
			   "classes", "not the image's 4 pages");
	expect_bad_profile(dir,
			   HEAD "\"pages\": 3, \"zero_pages\": 1, \"classes\": "
				"[{\"images\": [1, 0], \"copies\": [2, 1], "
				"\"contents\": 1, \"lz4\": " HIST1 "}]}",
			   "classes[0].images", "ascending");
	expect_bad_profile(dir,
			   HEAD "\"pages\": 3, \"zero_pages\": 1, \"classes\": "
				"[{\"images\": [1], \"copies\": [2], "
				"\"contents\": 1, \"lz4\": " HIST1 "}]}",
			   "classes[0].images", "does not hold this profile");
	expect_bad_profile(dir,
			   HEAD "\"pages\": 3, \"zero_pages\": 1, \"classes\": "
				"[{\"images\": [0], \"copies\": [0], "
				"\"contents\": 1, \"lz4\": " HIST1 "}]}",
			   "classes[0].copies", "positive");
	expect_bad_profile(dir,
			   HEAD "\"pages\": 3, \"zero_pages\": 1, \"classes\": "
				"[{\"images\": [0], \"copies\": [2], "
				"\"contents\": 1, \"lz4\": [1, 2]}]}",
			   "classes[0].lz4", "array of 16");
	snprintf(path, sizeof path, "%s/none.json", dir);
	struct mv_error err = {0};
	assert_int_equal(mv_profile_load(path, &p, &err), MV_ENOENT);
	assert_string_equal(err.file, path);
	assert_int_equal(mv_profile_load(dir, &p, &err), MV_EINVAL);
	mvt_rmdir(dir);
}

static void expect_bad_scenario(const char *dir, const char *workload,
				const char *field, const char *msg)
{
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "<scenario name='p' duration='1s'><host><memory unit='MiB'>"
		 "64</memory></host><vm><domain type='kvm'><name>a</name>"
		 "<memory unit='MiB'>16</memory></domain>%s</vm></scenario>",
		 workload);
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	int rc = mv_scenario_load_string(xml, "p.xml", dir, &sc, &err);
	if (rc == 0 || strcmp(err.field, field) != 0 || !strstr(err.msg, msg))
		fail_msg("for %s: rc %d, field '%s', msg '%s'", workload, rc,
			 err.field, err.msg);
	assert_null(sc);
}

static void test_content_profile_element_is_read_and_checked(void **state)
{
	(void)state;
	struct fixture fx;
	make_fixture(&fx);
	/* size defaults to the image's; one copy per file */
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "<scenario name='p' duration='1s'><host><memory unit='MiB'>"
		 "64</memory></host><vm count='2'><domain type='kvm'><name>a"
		 "</name><memory unit='MiB'>16</memory></domain>"
		 "<workload kind='idle'><content profile='vm1.json'/>"
		 "</workload><workload size='1MiB'><content "
		 "profile='./vm1.json'/></workload></vm></scenario>");
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "p.xml", fx.dir, &sc, &err), &err,
	       "load");
	assert_int_equal(sc->nprofiles, 1);
	const struct mv_workload_config *w = sc->vms[0].guest.workload;
	assert_ptr_equal(w[0].profile, sc->profiles[0]);
	assert_ptr_equal(w[1].profile, sc->profiles[0]);
	assert_int_equal(w[0].size_bytes, fx.pages[0] * MV_PAGE_SIZE);
	assert_int_equal(w[1].size_bytes, MV_MIB);
	mv_scenario_free(sc);
	/* in a domain's metadata: <mv:content> in <mv:workload> */
	snprintf(xml, sizeof xml,
		 "<scenario name='p' duration='1s'><host><memory unit='MiB'>"
		 "64</memory></host><vm><domain type='kvm'><name>a</name>"
		 "<memory unit='MiB'>16</memory><metadata><mv:memvisor "
		 "xmlns:mv='urn:memvisor:domain:1'><mv:workload kind='idle'>"
		 "<mv:content profile='vm2.json'/></mv:workload>"
		 "</mv:memvisor></metadata></domain></vm></scenario>");
	mvt_ok(mv_scenario_load_string(xml, "p.xml", fx.dir, &sc, &err), &err,
	       "load metadata");
	assert_int_equal(sc->vms[0].guest.workload[0].size_bytes,
			 fx.pages[1] * MV_PAGE_SIZE);
	assert_int_equal(sc->profiles[0]->index, 1);
	mv_scenario_free(sc);
	/* a plain <content> in <mv:workload> is not its child */
	snprintf(xml, sizeof xml,
		 "<scenario name='p' duration='1s'><host><memory unit='MiB'>"
		 "64</memory></host><vm><domain type='kvm'><name>a</name>"
		 "<memory unit='MiB'>16</memory><metadata><mv:memvisor "
		 "xmlns:mv='urn:memvisor:domain:1'><mv:workload kind='idle'>"
		 "<content profile='vm2.json'/></mv:workload>"
		 "</mv:memvisor></metadata></domain></vm></scenario>");
	sc = NULL;
	assert_int_equal(
		mv_scenario_load_string(xml, "p.xml", fx.dir, &sc, &err),
		MV_EINVAL);
	assert_non_null(strstr(err.msg, "unexpected element <content>"));

	expect_bad_scenario(fx.dir,
			    "<workload content='data'><content "
			    "profile='vm1.json'/></workload>",
			    "workload/content", "not used with a <content");
	expect_bad_scenario(fx.dir, "<workload><content/></workload>",
			    "workload/content/profile", "is required");
	expect_bad_scenario(fx.dir,
			    "<workload><content profile='vm1.json' x='1'/>"
			    "</workload>",
			    "workload/content", "unknown attribute");
	expect_bad_scenario(fx.dir,
			    "<workload><content profile='vm1.json'/><content "
			    "profile='vm2.json'/></workload>",
			    "workload/content", "duplicate");
	expect_bad_scenario(fx.dir,
			    "<workload><contents profile='vm1.json'/>"
			    "</workload>",
			    "workload", "unexpected element <contents>");
	expect_bad_scenario(fx.dir,
			    "<workload><content profile='nope.json'/>"
			    "</workload>",
			    "workload/content/profile", "cannot open");
	expect_bad_scenario(fx.dir, "<workload/>", "workload/size",
			    "is required");
	/* a bad profile names its own file */
	char path[600];
	snprintf(path, sizeof path, "%s/bad.json", fx.dir);
	write_text(path, "{\"schema\": 1}");
	expect_bad_scenario(fx.dir,
			    "<workload><content profile='bad.json'/>"
			    "</workload>",
			    "schema", "is not");
	free_fixture(&fx);
}

/* Within 5% of want (and exact when want is small). */
static void assert_within_5pct(const char *what, double got, double want)
{
	printf("  %-28s analyze %10.0f  simulated %10.0f  (%+.2f%%)\n", what,
	       want, got, want ? 100.0 * (got - want) / want : 0.0);
	if (fabs(got - want) > 0.05 * want + 0.5)
		fail_msg("%s: simulated %.0f, analyze measured %.0f", what, got,
			 want);
}

static void
test_vms_built_from_profiles_share_and_compress_as_the_images(void **state)
{
	(void)state;
	struct fixture fx;
	make_fixture(&fx);
	char xml[4096];
	size_t n = (size_t)snprintf(
		xml, sizeof xml,
		"<scenario name='roundtrip' seed='3' duration='2s' "
		"step='20ms'><host><memory unit='MiB'>96</memory>"
		"<sharing pages-to-scan='2000' sleep='10ms'/></host>");
	for (int i = 0; i < NIMG; i++)
		n += (size_t)snprintf(
			xml + n, sizeof xml - n,
			"<vm><domain type='kvm'><name>vm%d</name>"
			"<memory unit='MiB'>8</memory><metadata>"
			"<mv:memvisor xmlns:mv='urn:memvisor:domain:1'>"
			"<mv:guest image-size='0'/></mv:memvisor></metadata>"
			"</domain><workload kind='idle' write-ratio='0'>"
			"<content profile='vm%d.json'/></workload></vm>",
			i + 1, i + 1);
	snprintf(xml + n, sizeof xml - n, "</scenario>");
	struct mv_scenario *sc = NULL;
	struct mv_error err = {0};
	mvt_ok(mv_scenario_load_string(xml, "roundtrip.xml", fx.dir, &sc, &err),
	       &err, "load");
	struct mv_sim *s = NULL;
	mvt_ok(mv_sim_create(sc, 0, &s, &err), &err, "mv_sim_create");
	mvt_sim_run(s);
	struct mv_share_stats st;
	mv_sim_share_stats(s, &st);
	assert_true(st.full_scans >= 2);

	/* LZ4 of every workload page of the simulated VMs */
	uint64_t hist[3] = {0}, bytes = 0, pages = 0;
	uint64_t h16[MV_PROFILE_BUCKETS] = {0};
	for (int i = 0; i < s->nvms; i++) {
		struct mv_guest *g = s->guest[i];
		struct gproc *pr = &g->proc[0];
		for (uint64_t v = 0; v < pr->nvpages; v++) {
			uint32_t pte = pr->pte[v];
			assert_true(pte && !(pte & PTE_SWAP));
			const uint8_t *b = mv_vm_access_bytes(s->vm[i], pte - 1,
							      0);
			assert_non_null(b);
			int z = mv_content_lz4_size(b);
			hist[z <= 1024 ? 0 : z <= 2048 ? 1 : 2]++;
			h16[mv_profile_bucket(z)]++;
			bytes += (uint64_t)z;
			pages++;
		}
	}
	const struct mv_image_figures *t = mv_analysis_total(fx.a);
	printf("  round trip, %d images of %llu pages in all:\n", NIMG,
	       (unsigned long long)t->pages);
	assert_int_equal(pages, t->pages);
	assert_within_5pct("zero pages", (double)st.zero_pages,
			   (double)t->zero);
	assert_within_5pct("pages saved by sharing",
			   (double)(st.pages_sharing + st.zero_pages),
			   (double)t->esx_saved);
	assert_within_5pct("LZ4 <= 1 KiB (pages)", (double)hist[0],
			   (double)t->lz4_hist[0]);
	assert_within_5pct("LZ4 <= 2 KiB (pages)", (double)hist[1],
			   (double)t->lz4_hist[1]);
	assert_within_5pct("LZ4 > 2 KiB (pages)", (double)hist[2],
			   (double)t->lz4_hist[2]);
	assert_within_5pct("LZ4 bytes", (double)bytes, (double)t->lz4_bytes);
	/* and bucket by bucket, as the profiles wrote them */
	uint64_t want16[MV_PROFILE_BUCKETS] = {0};
	for (int i = 0; i < NIMG; i++)
		for (int b = 0; b < MV_PROFILE_BUCKETS; b++)
			want16[b] += s->sc->profiles[i]->lz4_pages[b];
	for (int b = 0; b < MV_PROFILE_BUCKETS; b++)
		if (h16[b] > want16[b] + want16[b] / 20 + 1 ||
		    h16[b] + want16[b] / 20 + 1 < want16[b])
			fail_msg("LZ4 bucket %d: simulated %llu pages, the "
				 "profiles %llu",
				 b, (unsigned long long)h16[b],
				 (unsigned long long)want16[b]);
	mv_sim_destroy(s);
	free_fixture(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_pages_land_in_their_lz4_bucket),
		cmocka_unit_test(
			test_profile_written_and_loaded_holds_the_images_mix),
		cmocka_unit_test(
			test_profiles_of_one_analysis_share_exactly_the_shared_contents),
		cmocka_unit_test(
			test_profiles_agree_on_their_set_when_an_image_changes_after),
		cmocka_unit_test(
			test_bad_profiles_are_refused_naming_file_and_field),
		cmocka_unit_test(
			test_content_profile_element_is_read_and_checked),
		cmocka_unit_test(
			test_vms_built_from_profiles_share_and_compress_as_the_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
