/*
 * profile.c - content profiles: one analysed image's content mix as a
 * small JSON file, and what each page of a VM built from it holds.
 *
 * An analysis (analysis.c, through mv_analysis_contents only) knows every
 * distinct content and which images hold how many copies of it. Its
 * signature is that list of (image, copies) pairs, sorted by image; the
 * contents of one signature form a class. The profile of image i is:
 *
 *   - its pages and zero pages;
 *   - every class i takes part in, in the analysis's order of first
 *     occurrence: its images, its copy vector, its number of contents and
 *     the LZ4 bucket counts of its sampled contents. A class of [i] alone
 *     with copies [k] is i's intra-image duplicates of multiplicity k; a
 *     class of several images is listed, identical, in each of their
 *     profiles;
 *   - this image's page-weighted LZ4 histogram (what the VM reproduces)
 *     and the whole analysis's (for a class none of whose contents was
 *     sampled);
 *   - the set id: a hash of every content's key (the analysis's, fixed
 *     when the page was read) and signature, so that profiles of one
 *     analysis agree on their shared classes' keys, even when a live
 *     process changed between the writing of two of them, and profiles
 *     of different analyses never collide.
 *
 * The size is O(classes), never O(pages). The writer (profile_write.c:
 * apart, so that a program that only loads profiles does not link the
 * analysis) prints JSON by hand into memory and writes it only when
 * complete (no partial output); the reader here uses jansson and checks
 * every field.
 *
 * A VM built from a profile (docs/analyze.md, "How a VM reproduces it")
 * lays the image out as zero pages then each class's contents, each
 * repeated copies times; workload page vpn is position (vpn mod pages) *
 * stride mod pages, stride coprime with pages, so a whole workload is a
 * permutation of the image and a part of it a spread-out sample. Content
 * j of a class has key mix(set, class key, j): the same bytes in every VM
 * whose profile lists the class. Its LZ4 bucket is the class histogram's
 * inverse at rank(j) / contents, rank the same kind of scatter over the
 * class's contents, so each bucket gets exactly its share of the class
 * (all of it when every content was sampled) and any part of the class a
 * spread-out sample; the bytes (src/host/content.c) are then made to
 * land there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "image/profile.h"

#define MAX_IMAGES 65536

/* ---- reader ------------------------------------------------------------- */

struct reader {
	const char *path;
	struct mv_error *err;
};

static int rfail(const struct reader *r, const char *field, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));
static int rfail(const struct reader *r, const char *field, const char *fmt,
		 ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = mv_error_vset(r->err, MV_EINVAL, r->path, 0, field, fmt, ap);
	va_end(ap);
	return rc;
}

/* A non-negative integer member; *out = it. */
static int get_u64(const struct reader *r, const json_t *o, const char *key,
		   const char *field, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return rfail(r, field, "is missing");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return rfail(r, field, "is not a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int get_hist(const struct reader *r, const json_t *o, const char *key,
		    const char *field, uint64_t *h, uint64_t *total)
{
	const json_t *a = json_object_get(o, key);
	if (!json_is_array(a) || json_array_size(a) != MV_PROFILE_BUCKETS)
		return rfail(r, field, "is not an array of %d counts",
			     MV_PROFILE_BUCKETS);
	uint64_t t = 0;
	for (size_t b = 0; b < MV_PROFILE_BUCKETS; b++) {
		const json_t *v = json_array_get(a, b);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return rfail(r, field,
				     "bucket %zu is not a non-negative "
				     "integer",
				     b);
		h[b] = (uint64_t)json_integer_value(v);
		t += h[b];
	}
	if (total)
		*total = t;
	return 0;
}

/* Refuse members other than those named (a typo is not ignored). */
static int only_keys(const struct reader *r, json_t *o, const char *field,
		     const char *const *keys)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		const char *const *p = keys;
		while (*p && strcmp(*p, k) != 0)
			p++;
		if (!*p)
			return rfail(r, field, "unknown member '%s'", k);
	}
	return 0;
}

static int read_class(const struct reader *r, const json_t *o, int i,
		      const struct mv_profile *p, struct mv_profile_class *c)
{
	static const char *const keys[] = {"images", "copies", "contents",
					   "lz4", NULL};
	char field[64];
	snprintf(field, sizeof field, "classes[%d]", i);
	if (!json_is_object(o))
		return rfail(r, field, "is not an object");
	int rc = only_keys(r, (json_t *)o, field, keys);
	if (rc)
		return rc;
	const json_t *im = json_object_get(o, "images");
	const json_t *cp = json_object_get(o, "copies");
	size_t n = json_array_size(im);
	snprintf(field, sizeof field, "classes[%d].images", i);
	if (!json_is_array(im) || n == 0 || n > (size_t)p->images)
		return rfail(r, field, "is not an array of 1 to %d images",
			     p->images);
	snprintf(field, sizeof field, "classes[%d].copies", i);
	if (!json_is_array(cp) || json_array_size(cp) != n)
		return rfail(r, field, "is not an array as long as images");
	uint64_t *pairs = malloc(n * 2 * sizeof *pairs);
	if (!pairs)
		return mv_error_set(r->err, MV_ENOMEM, r->path, 0, "profile",
				    "out of memory");
	c->copies = 0;
	for (size_t k = 0; k < n && !rc; k++) {
		const json_t *a = json_array_get(im, k);
		const json_t *b = json_array_get(cp, k);
		json_int_t ai = json_is_integer(a) ? json_integer_value(a) : -1;
		json_int_t bi = json_is_integer(b) ? json_integer_value(b) : 0;
		if (ai < 0 || ai >= p->images ||
		    (k && (uint64_t)ai <= pairs[2 * k - 2])) {
			snprintf(field, sizeof field, "classes[%d].images", i);
			rc = rfail(r, field,
				   "must be ascending image indexes below %d",
				   p->images);
		} else if (bi < 1) {
			rc = rfail(r, field, "must be positive integers");
		}
		pairs[2 * k] = (uint64_t)ai;
		pairs[2 * k + 1] = (uint64_t)bi;
		if (!rc && ai == p->index)
			c->copies = (uint64_t)bi;
	}
	if (!rc && !c->copies) {
		snprintf(field, sizeof field, "classes[%d].images", i);
		rc = rfail(r, field, "does not hold this profile's image (%d)",
			   p->index);
	}
	if (!rc)
		c->key = mv_hash(pairs, n * 2 * sizeof *pairs);
	free(pairs);
	if (rc)
		return rc;
	snprintf(field, sizeof field, "classes[%d].contents", i);
	if ((rc = get_u64(r, o, "contents", field, &c->contents)))
		return rc;
	if (!c->contents)
		return rfail(r, field, "must be positive");
	snprintf(field, sizeof field, "classes[%d].lz4", i);
	if ((rc = get_hist(r, o, "lz4", field, c->lz4, &c->lz4_total)))
		return rc;
	if (c->lz4_total > c->contents)
		return rfail(r, field,
			     "counts more contents (%llu) than the "
			     "class has (%llu)",
			     (unsigned long long)c->lz4_total,
			     (unsigned long long)c->contents);
	return 0;
}

/* A stride for scattering n items: near n / golden ratio, coprime with
 * n, so i -> i * stride mod n is a permutation spreading any prefix. */
static uint64_t scatter_stride(uint64_t n)
{
	uint64_t s = (uint64_t)((double)n * 0.6180339887498949);
	if (!s)
		s = 1;
	while (mv_gcd(s, n) != 1)
		s++;
	return s;
}

static int read_profile(const struct reader *r, json_t *root,
			struct mv_profile *p)
{
	static const char *const keys[] = {
		"schema",    "image",   "set",        "images",
		"index",     "pages",   "zero_pages", "lz4_bucket_bytes",
		"lz4_pages", "set_lz4", "classes",    NULL};
	if (!json_is_object(root))
		return rfail(r, "profile", "is not a JSON object");
	int rc = only_keys(r, root, "profile", keys);
	if (rc)
		return rc;
	const char *s = json_string_value(json_object_get(root, "schema"));
	if (!s || strcmp(s, MV_PROFILE_SCHEMA) != 0)
		return rfail(r, "schema", "is not \"%s\"", MV_PROFILE_SCHEMA);
	if (json_object_get(root, "image") &&
	    !json_is_string(json_object_get(root, "image")))
		return rfail(r, "image", "is not a string");
	s = json_string_value(json_object_get(root, "set"));
	char *end;
	if (!s || strlen(s) != 16 ||
	    (errno = 0, p->set = strtoull(s, &end, 16), *end || errno))
		return rfail(r, "set", "is not 16 hexadecimal digits");
	uint64_t v;
	if ((rc = get_u64(r, root, "images", "images", &v)))
		return rc;
	if (v < 1 || v > MAX_IMAGES)
		return rfail(r, "images", "must be 1 to %d", MAX_IMAGES);
	p->images = (int)v;
	if ((rc = get_u64(r, root, "index", "index", &v)))
		return rc;
	if (v >= (uint64_t)p->images)
		return rfail(r, "index", "must be below images (%d)",
			     p->images);
	p->index = (int)v;
	if ((rc = get_u64(r, root, "pages", "pages", &p->pages)))
		return rc;
	if (!p->pages)
		return rfail(r, "pages", "must be positive");
	if ((rc = get_u64(r, root, "zero_pages", "zero_pages", &p->zero_pages)))
		return rc;
	if ((rc = get_u64(r, root, "lz4_bucket_bytes", "lz4_bucket_bytes", &v)))
		return rc;
	if (v != MV_PROFILE_BUCKET_BYTES)
		return rfail(r, "lz4_bucket_bytes", "must be %d",
			     MV_PROFILE_BUCKET_BYTES);
	if ((rc = get_hist(r, root, "lz4_pages", "lz4_pages", p->lz4_pages,
			   NULL)) ||
	    (rc = get_hist(r, root, "set_lz4", "set_lz4", p->set_lz4,
			   &p->set_lz4_total)))
		return rc;
	json_t *cl = json_object_get(root, "classes");
	if (!json_is_array(cl) || json_array_size(cl) > INT32_MAX)
		return rfail(r, "classes", "is not an array");
	p->nclasses = (int)json_array_size(cl);
	p->cls = calloc((size_t)p->nclasses + 1, sizeof *p->cls);
	if (!p->cls)
		return mv_error_set(r->err, MV_ENOMEM, r->path, 0, "profile",
				    "out of memory");
	uint64_t pos = 0;
	for (int i = 0; i < p->nclasses; i++) {
		struct mv_profile_class *c = &p->cls[i];
		if ((rc = read_class(r, json_array_get(cl, (size_t)i), i, p,
				     c)))
			return rc;
		c->start = pos;
		if (c->contents > (UINT64_MAX - pos) / c->copies)
			return rfail(r, "classes", "hold too many pages");
		pos += c->contents * c->copies;
	}
	if (p->zero_pages > p->pages || pos != p->pages - p->zero_pages)
		return rfail(r, "classes",
			     "hold %llu pages and zero_pages %llu: not the "
			     "image's %llu pages",
			     (unsigned long long)pos,
			     (unsigned long long)p->zero_pages,
			     (unsigned long long)p->pages);
	p->stride = scatter_stride(p->pages);
	for (int i = 0; i < p->nclasses; i++)
		p->cls[i].stride = scatter_stride(p->cls[i].contents);
	return 0;
}

/* Load a profile; bad input: MV_EINVAL naming the file and field. */
int mv_profile_load(const char *path, struct mv_profile **out,
		    struct mv_error *err)
{
	struct reader r = {.path = path, .err = err};
	struct stat st;
	*out = NULL;
	if (stat(path, &st) != 0)
		return mv_error_set(err, errno == ENOENT ? MV_ENOENT : MV_EIO,
				    path, 0, "profile", "cannot open: %s",
				    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return mv_error_set(err, MV_EINVAL, path, 0, "profile",
				    "is not a regular file");
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return mv_error_set(err, MV_EINVAL, path, je.line, "profile",
				    "%s", je.text);
	struct mv_profile *p = calloc(1, sizeof *p);
	if (!p) {
		json_decref(root);
		return mv_error_set(err, MV_ENOMEM, path, 0, "profile",
				    "out of memory");
	}
	snprintf(p->path, sizeof p->path, "%s", path);
	p->dev = (uint64_t)st.st_dev;
	p->ino = (uint64_t)st.st_ino;
	int rc = read_profile(&r, root, p);
	json_decref(root);
	if (rc) {
		mv_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void mv_profile_free(struct mv_profile *p)
{
	if (!p)
		return;
	free(p->cls);
	free(p);
}

/* ---- pages -------------------------------------------------------------- */

/* The bucket of histogram h (total > 0) at (rank + 1/2) / n of its
 * mass. */
static int hist_at(const uint64_t *h, uint64_t total, uint64_t rank, uint64_t n)
{
	uint64_t t = (uint64_t)(((unsigned __int128)(2 * rank + 1) * total) /
				(2 * n));
	for (int b = 0; b < MV_PROFILE_BUCKETS; b++) {
		if (t < h[b])
			return b;
		t -= h[b];
	}
	return MV_PROFILE_BUCKETS - 1;
}

/* What page vpn of a VM built from p holds. */
void mv_profile_page(const struct mv_profile *p, uint64_t vpn,
		     struct mv_profile_page *out)
{
	uint64_t pos = (uint64_t)(((unsigned __int128)(vpn % p->pages) *
				   p->stride) %
				  p->pages);
	memset(out, 0, sizeof *out);
	if (pos < p->zero_pages) {
		out->zero = 1;
		return;
	}
	pos -= p->zero_pages;
	int lo = 0, hi = p->nclasses - 1;
	while (lo < hi) { /* the last class starting at or before pos */
		int mid = lo + (hi - lo + 1) / 2;
		if (p->cls[mid].start <= pos)
			lo = mid;
		else
			hi = mid - 1;
	}
	const struct mv_profile_class *c = &p->cls[lo];
	uint64_t j = (pos - c->start) / c->copies;
	out->key = mv_mix64(p->set ^ mv_mix64(c->key ^ mv_mix64(j)));
	/* rank j among the class's contents by the scatter, then that
	 * fraction of the histogram's mass: every bucket gets its exact
	 * share of the class, and any part of it a spread-out sample */
	uint64_t rank = (uint64_t)(((unsigned __int128)j * c->stride) %
				   c->contents);
	if (c->lz4_total)
		out->bucket = hist_at(c->lz4, c->lz4_total, rank, c->contents);
	else if (p->set_lz4_total)
		out->bucket = hist_at(p->set_lz4, p->set_lz4_total, rank,
				      c->contents);
	else
		out->bucket = MV_PROFILE_BUCKETS - 1; /* nothing sampled */
}
