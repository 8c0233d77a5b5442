/*
 * profile_write.c - writing a content profile from an analysis: the
 * classes of image i (profile.c explains the format and its use), found
 * by one pass over mv_analysis_contents and a hash table of signatures.
 * Printed by hand into memory, written only when complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/profile.h"

struct wclass {
	struct mv_profile_class c;
	int n;         /* images in the signature */
	uint64_t *sig; /* n pairs: image, copies */
};

struct writer {
	int image, nimages;
	uint64_t set;
	uint64_t zero_pages;  /* counted from the contents */
	uint64_t class_pages; /* pages of this image in its classes */
	uint64_t lz4_pages[MV_PROFILE_BUCKETS];
	uint64_t set_lz4[MV_PROFILE_BUCKETS];
	uint64_t *pairs; /* scratch: one signature */
	struct wclass *cls;
	int ncls;
	size_t capcls;
	uint32_t *table; /* open addressing: class index + 1 */
	uint64_t tsize;
	struct mv_error *err;
};

static int cmp_pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int bad_content(struct writer *w, const char *what)
{
	return mv_error_set(w->err, MV_EINVAL, NULL, 0, "profile",
			    "the analysis gave a content with %s", what);
}

/* The class with signature pairs[0..2n), created if new. */
static struct wclass *find_class(struct writer *w, int n, uint64_t key)
{
	if ((uint64_t)(w->ncls + 1) * 2 > w->tsize) {
		uint64_t ns = w->tsize ? w->tsize * 2 : 1024;
		uint32_t *t = calloc(ns, sizeof *t);
		if (!t)
			return NULL;
		for (int i = 0; i < w->ncls; i++) {
			uint64_t h = w->cls[i].c.key & (ns - 1);
			while (t[h])
				h = (h + 1) & (ns - 1);
			t[h] = (uint32_t)i + 1;
		}
		free(w->table);
		w->table = t;
		w->tsize = ns;
	}
	size_t bytes = (size_t)n * 2 * sizeof(uint64_t);
	uint64_t h = key & (w->tsize - 1);
	for (; w->table[h]; h = (h + 1) & (w->tsize - 1)) {
		struct wclass *c = &w->cls[w->table[h] - 1];
		if (c->c.key == key && c->n == n &&
		    memcmp(c->sig, w->pairs, bytes) == 0)
			return c;
	}
	if (mv_array_room(&w->cls, &w->capcls, (size_t)w->ncls, sizeof *w->cls,
			  64))
		return NULL;
	struct wclass *c = &w->cls[w->ncls];
	memset(c, 0, sizeof *c);
	if (!(c->sig = malloc(bytes)))
		return NULL;
	memcpy(c->sig, w->pairs, bytes);
	c->n = n;
	c->c.key = key;
	w->table[h] = (uint32_t)++w->ncls;
	return c;
}

static int take_content(const struct mv_content_info *ci, void *ctx)
{
	struct writer *w = ctx;
	int n = ci->nimages;
	if (n < 1 || n > w->nimages)
		return bad_content(w, "no images or too many");
	for (int k = 0; k < n; k++) {
		if (ci->image[k] < 0 || ci->image[k] >= w->nimages ||
		    ci->copies[k] == 0)
			return bad_content(w, "a bad image or no copies");
		w->pairs[2 * k] = (uint64_t)ci->image[k];
		w->pairs[2 * k + 1] = ci->copies[k];
	}
	qsort(w->pairs, (size_t)n, 2 * sizeof(uint64_t), cmp_pair);
	uint64_t here = 0;
	for (int k = 0; k < n; k++) {
		if (k && w->pairs[2 * k] == w->pairs[2 * k - 2])
			return bad_content(w, "an image listed twice");
		if (w->pairs[2 * k] == (uint64_t)w->image)
			here = w->pairs[2 * k + 1];
	}
	uint64_t key = mv_hash(w->pairs, (size_t)n * 2 * sizeof(uint64_t));
	/* the key the analysis kept, not the hash of a page read again: a
	 * live process's page may change between two profiles' passes */
	w->set = mv_mix64(w->set ^ mv_mix64(ci->key + key));
	int b = ci->lz4_size >= 0 ? mv_profile_bucket(ci->lz4_size) : -1;
	if (b >= 0)
		w->lz4_pages[b] += here;
	if (ci->zero) {
		w->zero_pages += here;
		return 0;
	}
	if (b >= 0)
		w->set_lz4[b]++;
	if (!here)
		return 0;
	struct wclass *c = find_class(w, n, key);
	if (!c)
		return mv_error_set(w->err, MV_ENOMEM, NULL, 0, "profile",
				    "out of memory");
	c->c.contents++;
	c->c.copies = here;
	w->class_pages += here;
	if (b >= 0) {
		c->c.lz4[b]++;
		c->c.lz4_total++;
	}
	return 0;
}

static void put_hist(FILE *f, const uint64_t *h)
{
	fputc('[', f);
	for (int b = 0; b < MV_PROFILE_BUCKETS; b++)
		fprintf(f, "%s%llu", b ? ", " : "", (unsigned long long)h[b]);
	fputc(']', f);
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_profile(FILE *f, const struct writer *w, const char *name,
			uint64_t pages)
{
	fprintf(f,
		"{\n  \"schema\": \"%s\",\n  \"image\": ", MV_PROFILE_SCHEMA);
	put_string(f, name ? name : "");
	fprintf(f,
		",\n  \"set\": \"%016llx\",\n  \"images\": %d,\n"
		"  \"index\": %d,\n  \"pages\": %llu,\n"
		"  \"zero_pages\": %llu,\n  \"lz4_bucket_bytes\": %d,\n"
		"  \"lz4_pages\": ",
		(unsigned long long)w->set, w->nimages, w->image,
		(unsigned long long)pages, (unsigned long long)w->zero_pages,
		MV_PROFILE_BUCKET_BYTES);
	put_hist(f, w->lz4_pages);
	fputs(",\n  \"set_lz4\": ", f);
	put_hist(f, w->set_lz4);
	fputs(",\n  \"classes\": [", f);
	for (int i = 0; i < w->ncls; i++) {
		const struct wclass *c = &w->cls[i];
		fputs(i ? ",\n    {\"images\": [" : "\n    {\"images\": [", f);
		for (int k = 0; k < c->n; k++)
			fprintf(f, "%s%llu", k ? ", " : "",
				(unsigned long long)c->sig[2 * k]);
		fputs("], \"copies\": [", f);
		for (int k = 0; k < c->n; k++)
			fprintf(f, "%s%llu", k ? ", " : "",
				(unsigned long long)c->sig[2 * k + 1]);
		fprintf(f, "], \"contents\": %llu, \"lz4\": ",
			(unsigned long long)c->c.contents);
		put_hist(f, c->c.lz4);
		fputc('}', f);
	}
	fputs(w->ncls ? "\n  ]\n}\n" : "]\n}\n", f);
}

static int oom(struct mv_error *err)
{
	return mv_error_set(err, MV_ENOMEM, NULL, 0, "profile",
			    "out of memory");
}

/* Write image `image` of a finished analysis as a profile to f. */
int mv_profile_write(const struct mv_analysis *a, int image, const char *name,
		     FILE *f, struct mv_error *err)
{
	struct writer w = {.image = image, .err = err};
	w.nimages = mv_analysis_images(a);
	if (image < 0 || image >= w.nimages)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "profile",
				    "image %d is not one of the %d analysed",
				    image, w.nimages);
	const struct mv_image_figures *fig = mv_analysis_figures(a, image);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = NULL;
	int rc;
	w.pairs = malloc((size_t)w.nimages * 2 * sizeof(uint64_t));
	if (!w.pairs) {
		rc = oom(err);
		goto out;
	}
	rc = mv_analysis_contents(a, take_content, &w);
	if (rc > 0) /* not ours: the analysis's own stop */
		rc = MV_EINVAL;
	if (rc)
		goto out;
	if (w.zero_pages + w.class_pages != fig->pages ||
	    w.zero_pages != fig->zero) {
		rc = mv_error_set(
			err, MV_EINVAL, NULL, 0, "profile",
			"the contents of image %d hold %llu pages "
			"(%llu zero), its figures %llu (%llu zero)",
			image,
			(unsigned long long)(w.zero_pages + w.class_pages),
			(unsigned long long)w.zero_pages,
			(unsigned long long)fig->pages,
			(unsigned long long)fig->zero);
		goto out;
	}
	if (!(m = open_memstream(&buf, &len))) {
		rc = oom(err);
		goto out;
	}
	put_profile(m, &w, name, fig->pages);
	rc = fclose(m);
	m = NULL;
	if (rc != 0) {
		rc = oom(err);
		goto out;
	}
	if (fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
		rc = mv_error_set(err, MV_EIO, NULL, 0, "profile",
				  "cannot write the profile: %s",
				  strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (m)
		fclose(m);
	free(buf);
	for (int i = 0; i < w.ncls; i++)
		free(w.cls[i].sig);
	free(w.cls);
	free(w.table);
	free(w.pairs);
	return rc;
}
