/*
 * analysis.c - what page sharing (KSM, ESX TPS) and compression would make
 * of the pages of real memory images.
 *
 * Every page of every added image goes through one pass:
 *
 *  1. Zero detection: the page's 64-bit words ORed eight at a time
 *     (mv_page_is_zero), stopping at the first non-zero block. Zero pages
 *     are exact by construction and all belong to one content, which is
 *     never hashed nor compared.
 *  2. Key: XXH3-128 of the 4096 bytes (libxxhash, its AVX2 code where
 *     the CPU has it). 128 bits make a chance
 *     collision in the table practically impossible, but the key only
 *     finds candidates:
 *  3. Lookup in one table of distinct contents (open addressing, linear
 *     probing, home slot = the key's low bits, slots of 8 bytes: 32 bits
 *     of the key as a tag and the content's index). Every content whose
 *     key matches is compared byte for byte with the page, against the
 *     content's first occurrence: in the extent at hand if it lies there,
 *     else read again from its image (mv_image_read). Only equal bytes
 *     make the page a copy, as KSM (memcmp_pages) and ESX (a full compare
 *     after the hash match) do before they share; a key match with other
 *     bytes is a distinct content with the same key (probing goes on).
 *     That is why the analysis keeps every image open until it is
 *     destroyed.
 *  4. The page is counted in its content's entry for its image (copies,
 *     mergeable copies, the first MV_CONTENT_ADDRS addresses). A
 *     content's entries form a list in the order the images were added.
 *
 * A new content that is chosen for the compression sample is compressed
 * at once, while its bytes are at hand: LZ4 (LZ4_compress_default,
 * acceleration 1, the setting of ESX's and zswap's LZ4) and zstd level 3
 * (zstd's default), each into a 4 KiB buffer; a page that does not fit is
 * counted as 4096 bytes, as a compression cache would keep it
 * uncompressed. The sample is stratified: the zero content (one content,
 * often most of an image's pages) is always compressed and counts with its
 * pages exactly; of the others, one content in compress_every, chosen by
 * its key (key mod compress_every == 0): the key is uniform and fixed by
 * the bytes, so that part is unbiased and the same on every run, and each
 * content it picks stands for compress_every contents like it: its pages
 * count compress_every times in the histogram and byte totals, which so
 * estimate the whole image (exact with compress_every 1). `sampled` counts
 * the pages actually compressed.
 *
 * mv_analysis_finish applies the sharing rules to each content's entries:
 *
 *  - KSM (mm/ksm.c, rules in ksmrules.c), on the mergeable pages, all
 *    images one host: a group
 *    of k identical mergeable pages becomes KSM pages of at most
 *    max_page_sharing mappings each (stable-node chains): k / mps full
 *    pages, and the r = k % mps left over share one more KSM page if
 *    r >= 2; a single page left over has nothing to merge with and stays
 *    unshared. pages_shared counts the KSM pages, pages_sharing the other
 *    mappings (each a page saved). With use_zero_pages the zero pages map
 *    the kernel's zero page instead: ksm_zero_pages, no KSM page.
 *    Per image: the group's mergeable pages are taken in the order the
 *    images were added and cut into chains in that order; a chain's KSM
 *    page belongs to the image of the chain's first page (for a group
 *    that is not split: the image of first occurrence), each other
 *    mapping counts as pages_sharing of its own image.
 *  - ESX TPS, on every page: a content with two or more pages, and every
 *    zero page (ESX maps them all to one zero frame), is shared; it is
 *    backed by one frame, so saved = shared - 1 per content. Without
 *    salting all images are one sharing domain and that frame belongs to
 *    the image of first occurrence; with per-VM salting each image is a
 *    domain of its own.
 *  - dup_inter: the pages of a content found in two or more images.
 *
 * Memory: O(distinct contents). Each holds one struct content (72 bytes:
 * key, its first image's entry with three addresses, list links and the
 * two sample sizes) and two to four 8-byte slots (the table is at most
 * half full, and at least a quarter after it doubles): 88-104 bytes per
 * distinct page (bench_analyze prints it), plus a 48-byte entry for
 * every further image a content occurs in. Pages are never kept.
 * Everything happens in the order of the input, so the figures, the
 * contents' order and the sample are the same on every run.
 */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>
#if defined(__x86_64__) && defined(__GNUC__)
#define XXH_DISPATCH_DISABLE_REPLACE /* call the _dispatch names by name */
#include <xxh_x86dispatch.h>
#define HAVE_WIDE 1
#endif

#include "image/analysis.h"
#include "image/ksmrules.h"
#include "image/source.h"

#define ZSTD_LEVEL 3
#define NONE UINT32_MAX

/* One image's pages of one content. */
struct occ {
	uint64_t copies;                 /* pages of the image holding it */
	uint64_t mergeable;              /* of which KSM may merge */
	uint64_t addr[MV_CONTENT_ADDRS]; /* the first ones read */
	int32_t image;
	uint32_t next; /* pool index of the next image's entry, 0: none */
};

struct content {
	uint64_t key[2];  /* XXH3-128: low, high */
	struct occ first; /* the image of first occurrence */
	uint32_t last;    /* pool index of the newest entry, 0: first */
	int16_t lz4;      /* compressed sizes if sampled, else -1 */
	int16_t zstd;
};

struct slot {
	uint32_t tag; /* key[1]'s low 32 bits */
	uint32_t id;  /* content index + 1, 0: empty */
};

struct mv_analysis {
	struct mv_analysis_opts o;
	mv_analysis_key_fn key_fn;

	struct mv_image **img;
	struct mv_image_figures *fig;
	int nimg;
	size_t capimg, capfig; /* allocated entries of img and fig */

	struct content *c;
	uint32_t nc;
	size_t capc;
	struct occ *pool; /* entries beyond the first image; [0] unused */
	uint32_t npool;
	size_t cappool;
	struct slot *slot;
	uint32_t mask;
	uint32_t zero_id; /* the zero content, NONE until a zero page */

	struct mv_image_figures total;
	uint32_t *top; /* after finish: the most shared, in rank order */
	int ntop;
	int finished, failed;

	/* the extent being read: a first occurrence in it needs no read */
	int cur_img;
	uint64_t ext_addr, ext_pages;
	const uint8_t *ext_bytes;

	ZSTD_CCtx *zc;
	uint8_t page[MV_PAGE_SIZE];
	char dst[MV_PAGE_SIZE];
};

static void xxh3_key(const void *page, uint64_t key[2])
{
	XXH128_hash_t h = XXH3_128bits(page, MV_PAGE_SIZE);
	key[0] = h.low64;
	key[1] = h.high64;
}

/*
 * The same key through libxxhash's run-time dispatch (AVX2/AVX-512 where
 * the CPU has them: the same values, more bandwidth), followed by
 * VZEROUPPER so that later SSE code pays no state transition: see the
 * scanner's hash in src/reclaim/share.c for the measurements.
 */
#ifdef HAVE_WIDE
static void xxh3_key_wide(const void *page, uint64_t key[2])
{
	XXH128_hash_t h = XXH3_128bits_dispatch(page, MV_PAGE_SIZE);
	__asm__ volatile("vzeroupper" ::
				 : "memory", "xmm0", "xmm1", "xmm2", "xmm3",
				   "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
				   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
				   "xmm14", "xmm15");
	key[0] = h.low64;
	key[1] = h.high64;
}
#endif

static mv_analysis_key_fn default_key(void)
{
#ifdef HAVE_WIDE
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return xxh3_key_wide;
#endif
	return xxh3_key;
}

void mv_analysis_set_key_fn(struct mv_analysis *a, mv_analysis_key_fn fn)
{
	a->key_fn = fn ? fn : default_key();
}

size_t mv_analysis_content_bytes(void)
{
	return sizeof(struct content);
}

size_t mv_analysis_slot_bytes(void)
{
	return sizeof(struct slot);
}

int mv_analysis_create(const struct mv_analysis_opts *o,
		       struct mv_analysis **out)
{
	*out = NULL;
	struct mv_analysis_opts d = {0};
	if (o)
		d = *o;
	if (!d.max_page_sharing)
		d.max_page_sharing = MV_ANALYSIS_MAX_PAGE_SHARING;
	if (!d.compress_every)
		d.compress_every = MV_ANALYSIS_COMPRESS_EVERY;
	/* KSM refuses max_page_sharing < 2: a KSM page has two mappings */
	if (d.max_page_sharing < 2 || d.top < 0)
		return MV_EINVAL;
	struct mv_analysis *a = calloc(1, sizeof *a);
	if (!a)
		return MV_ENOMEM;
	a->o = d;
	a->key_fn = default_key();
	a->zero_id = NONE;
	a->cur_img = -1;
	a->mask = 1023;
	a->slot = calloc((size_t)a->mask + 1, sizeof *a->slot);
	a->npool = 1; /* index 0 means "none" */
	a->zc = ZSTD_createCCtx();
	if (!a->slot || !a->zc) {
		mv_analysis_destroy(a);
		return MV_ENOMEM;
	}
	*out = a;
	return 0;
}

void mv_analysis_destroy(struct mv_analysis *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->nimg; i++)
		mv_image_close(a->img[i]);
	free(a->img);
	free(a->fig);
	free(a->c);
	free(a->pool);
	free(a->slot);
	free(a->top);
	ZSTD_freeCCtx(a->zc);
	free(a);
}

static int nomem(struct mv_error *err)
{
	return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
			    "out of memory for the table of distinct pages");
}

/* Double the table and put every hashed content back, in index order. */
static int grow_table(struct mv_analysis *a)
{
	uint32_t n = (a->mask + 1) * 2;
	if (n == 0)
		return MV_ENOMEM;
	struct slot *s = calloc(n, sizeof *s);
	if (!s)
		return MV_ENOMEM;
	for (uint32_t id = 0; id < a->nc; id++) {
		if (id == a->zero_id)
			continue;
		uint32_t i = (uint32_t)a->c[id].key[0] & (n - 1);
		while (s[i].id)
			i = (i + 1) & (n - 1);
		s[i].tag = (uint32_t)a->c[id].key[1];
		s[i].id = id + 1;
	}
	free(a->slot);
	a->slot = s;
	a->mask = n - 1;
	return 0;
}

static int16_t lz4_size(struct mv_analysis *a, const uint8_t *p)
{
	int n = LZ4_compress_default((const char *)p, a->dst, MV_PAGE_SIZE,
				     MV_PAGE_SIZE);
	return (int16_t)(n > 0 ? n : (int)MV_PAGE_SIZE);
}

static int16_t zstd_size(struct mv_analysis *a, const uint8_t *p)
{
	size_t n = ZSTD_compressCCtx(a->zc, a->dst, MV_PAGE_SIZE, p,
				     MV_PAGE_SIZE, ZSTD_LEVEL);
	return (int16_t)(ZSTD_isError(n) || n > MV_PAGE_SIZE ? MV_PAGE_SIZE
							     : n);
}

static void occ_init(struct occ *o, int im, uint64_t addr, int mergeable)
{
	memset(o, 0, sizeof *o);
	o->copies = 1;
	o->mergeable = mergeable ? 1 : 0;
	o->addr[0] = addr;
	o->image = im;
}

/* A new content whose first page is p at addr of image im: its index. */
static int new_content(struct mv_analysis *a, const uint64_t key[2], int im,
		       uint64_t addr, const uint8_t *p, int mergeable,
		       uint32_t *id)
{
	if (a->nc + 1 >= NONE ||
	    mv_array_room(&a->c, &a->capc, a->nc, sizeof *a->c, 4096))
		return MV_ENOMEM;
	struct content *c = &a->c[a->nc];
	c->key[0] = key[0];
	c->key[1] = key[1];
	occ_init(&c->first, im, addr, mergeable);
	c->last = 0;
	c->lz4 = c->zstd = -1;
	if (key[0] % a->o.compress_every == 0 || mv_page_is_zero(p)) {
		c->lz4 = lz4_size(a, p);
		c->zstd = zstd_size(a, p);
	}
	a->fig[im].distinct++;
	*id = a->nc++;
	return 0;
}

/* Another page (p at addr of image im) of content id. */
static int note_copy(struct mv_analysis *a, uint32_t id, int im, uint64_t addr,
		     int mergeable)
{
	struct content *c = &a->c[id];
	struct occ *o = c->last ? &a->pool[c->last] : &c->first;
	if (o->image == im) {
		if (o->copies < MV_CONTENT_ADDRS)
			o->addr[o->copies] = addr;
		o->copies++;
		o->mergeable += mergeable ? 1 : 0;
		a->fig[im].dup_intra++;
		return 0;
	}
	if (a->npool + 1 >= NONE ||
	    mv_array_room(&a->pool, &a->cappool, a->npool, sizeof *a->pool,
			  1024))
		return MV_ENOMEM;
	o = c->last ? &a->pool[c->last] : &c->first;
	uint32_t k = a->npool++;
	occ_init(&a->pool[k], im, addr, mergeable);
	o->next = k;
	c->last = k;
	a->fig[im].distinct++;
	return 0;
}

/* 1 if page p holds the bytes of content id, 0 if not, or a negative
 * MV_E* when its first occurrence cannot be read again. */
static int same_bytes(struct mv_analysis *a, uint32_t id, const uint8_t *p,
		      struct mv_error *err)
{
	const struct occ *f = &a->c[id].first;
	uint64_t addr = f->addr[0];
	if (f->image == a->cur_img && addr >= a->ext_addr &&
	    (addr - a->ext_addr) / MV_PAGE_SIZE < a->ext_pages)
		return memcmp(a->ext_bytes + (addr - a->ext_addr), p,
			      MV_PAGE_SIZE) == 0;
	int rc = mv_image_read(a->img[f->image], addr, a->page, err);
	if (rc)
		return rc;
	return memcmp(a->page, p, MV_PAGE_SIZE) == 0;
}

static int add_page(struct mv_analysis *a, int im, uint64_t addr,
		    const uint8_t *p, int mergeable, struct mv_error *err)
{
	struct mv_image_figures *fig = &a->fig[im];
	uint64_t key[2];
	uint32_t id;
	int rc;
	fig->pages++;
	fig->mergeable += mergeable ? 1 : 0;
	if (mv_page_is_zero(p)) {
		fig->zero++;
		if (a->zero_id != NONE)
			return note_copy(a, a->zero_id, im, addr, mergeable);
		xxh3_key(p, key);
		rc = new_content(a, key, im, addr, p, mergeable, &id);
		if (!rc)
			a->zero_id = id;
		return rc;
	}
	a->key_fn(p, key);
	uint32_t tag = (uint32_t)key[1];
	uint32_t i = (uint32_t)key[0] & a->mask;
	for (; a->slot[i].id; i = (i + 1) & a->mask) {
		const struct slot *s = &a->slot[i];
		const struct content *c = &a->c[s->id - 1];
		if (s->tag != tag || c->key[0] != key[0] || c->key[1] != key[1])
			continue;
		rc = same_bytes(a, s->id - 1, p, err);
		if (rc < 0)
			return rc;
		if (rc)
			return note_copy(a, s->id - 1, im, addr, mergeable);
		/* same key, other bytes: a distinct content, probe on */
	}
	rc = new_content(a, key, im, addr, p, mergeable, &id);
	if (rc)
		return rc;
	a->slot[i].tag = tag;
	a->slot[i].id = id + 1;
	/* hashed contents at most half the slots */
	if ((uint64_t)(a->nc + 1) * 2 > (uint64_t)a->mask + 1)
		return grow_table(a);
	return 0;
}

/* Make room for one more image: its figures and its place in img. */
static int add_image_slot(struct mv_analysis *a, struct mv_image *img)
{
	size_t n = (size_t)a->nimg;
	if (mv_array_room(&a->img, &a->capimg, n, sizeof *a->img, 8) ||
	    mv_array_room(&a->fig, &a->capfig, n, sizeof *a->fig, 8))
		return MV_ENOMEM;
	a->img[a->nimg] = img;
	memset(&a->fig[a->nimg], 0, sizeof a->fig[0]);
	a->nimg++;
	return 0;
}

int mv_analysis_add(struct mv_analysis *a, struct mv_image *img,
		    struct mv_error *err)
{
	if (add_image_slot(a, img)) {
		mv_image_close(img);
		a->failed = 1;
		return nomem(err);
	}
	if (a->finished || a->failed) {
		a->failed = 1;
		return mv_error_set(err, MV_EINVAL, mv_image_name(img), 0, "",
				    a->finished ? "analysis already finished"
						: "an earlier image failed");
	}
	int im = a->nimg - 1;
	struct mv_image_extent e;
	int rc;
	a->cur_img = im;
	while ((rc = mv_image_next(img, &e, err)) == 1) {
		a->ext_addr = e.addr;
		a->ext_pages = e.npages;
		a->ext_bytes = e.bytes;
		int mergeable = (e.flags & MV_IMAGE_MERGEABLE) != 0;
		for (uint64_t k = 0; k < e.npages; k++) {
			rc = add_page(a, im, e.addr + k * MV_PAGE_SIZE,
				      e.bytes + k * MV_PAGE_SIZE, mergeable,
				      err);
			if (rc)
				break;
		}
		if (rc)
			break;
	}
	a->cur_img = -1;
	a->ext_bytes = NULL;
	if (rc == MV_ENOMEM && (!err || !err->msg[0]))
		nomem(err);
	if (rc < 0)
		a->failed = 1;
	return rc < 0 ? rc : 0;
}

int mv_analysis_images(const struct mv_analysis *a)
{
	return a->nimg;
}

const struct mv_image_figures *mv_analysis_figures(const struct mv_analysis *a,
						   int image)
{
	return image >= 0 && image < a->nimg ? &a->fig[image] : NULL;
}

const struct mv_image_figures *mv_analysis_total(const struct mv_analysis *a)
{
	return &a->total;
}

const struct mv_image *mv_analysis_image(const struct mv_analysis *a, int image)
{
	return image >= 0 && image < a->nimg ? a->img[image] : NULL;
}

static const struct occ *occ_next(const struct mv_analysis *a,
				  const struct occ *o)
{
	return o->next ? &a->pool[o->next] : NULL;
}

/* The pages KSM merges of a group of k: all but a last single page left
 * over by the chains (mv_ksm_count's rule, per position). */
static uint64_t ksm_merged(uint64_t k, unsigned mps)
{
	uint64_t rem = k % mps;
	return k - rem + (rem >= 2 ? rem : 0);
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* KSM pages and sharing mappings of one content, to each image and the
 * total: positions [0, merged) of the group in image order are merged, a
 * chain head every mps positions. */
static void ksm_content(struct mv_analysis *a, const struct content *c,
			uint64_t km)
{
	unsigned mps = a->o.max_page_sharing;
	uint64_t merged = ksm_merged(km, mps), pos = 0;
	mv_ksm_count(&km, 1, mps, &a->total.ksm_pages_shared,
		     &a->total.ksm_pages_sharing);
	for (const struct occ *o = &c->first; o && pos < merged;
	     o = occ_next(a, o)) {
		uint64_t s = pos, e = pos + o->mergeable;
		pos = e;
		if (e > merged)
			e = merged;
		if (e <= s)
			continue;
		uint64_t h = ceil_div(e, mps) - ceil_div(s, mps);
		a->fig[o->image].ksm_pages_shared += h;
		a->fig[o->image].ksm_pages_sharing += (e - s) - h;
	}
}

static int lz4_bucket(int size)
{
	return size <= 1024 ? 0 : size <= 2048 ? 1 : 2;
}

/* pages of sampled content c, standing for w times as many (the zero
 * content: 1; the others: compress_every) */
static void add_sample(struct mv_image_figures *f, const struct content *c,
		       uint64_t pages, uint64_t w)
{
	f->lz4_hist[lz4_bucket(c->lz4)] += pages * w;
	f->sampled += pages;
	f->lz4_bytes += (uint64_t)c->lz4 * pages * w;
	f->zstd_bytes += (uint64_t)c->zstd * pages * w;
}

static void finish_content(struct mv_analysis *a, uint32_t id)
{
	const struct content *c = &a->c[id];
	int zero = id == a->zero_id;
	uint64_t w = zero ? 1 : a->o.compress_every;
	uint64_t k = 0, km = 0;
	int nocc = 0;
	for (const struct occ *o = &c->first; o; o = occ_next(a, o)) {
		k += o->copies;
		km += o->mergeable;
		nocc++;
	}
	struct mv_image_figures *t = &a->total;
	for (const struct occ *o = &c->first; o; o = occ_next(a, o)) {
		struct mv_image_figures *f = &a->fig[o->image];
		if (nocc >= 2)
			f->dup_inter += o->copies;
		if (zero || k >= 2) {
			f->esx_shared += o->copies;
			f->esx_saved += o->copies - (o == &c->first);
		}
		if (zero || o->copies >= 2) {
			f->esx_shared_salted += o->copies;
			f->esx_saved_salted += o->copies - 1;
			t->esx_shared_salted += o->copies;
			t->esx_saved_salted += o->copies - 1;
		}
		if (zero && a->o.use_zero_pages)
			f->ksm_zero_pages += o->mergeable;
		if (c->lz4 >= 0)
			add_sample(f, c, o->copies, w);
	}
	if (nocc >= 2)
		t->dup_inter += k;
	if (zero || k >= 2) {
		t->esx_shared += k;
		t->esx_saved += k - 1;
	}
	if (zero && a->o.use_zero_pages)
		t->ksm_zero_pages += km;
	else
		ksm_content(a, c, km);
	if (c->lz4 >= 0)
		add_sample(t, c, k, w);
}

static uint64_t content_pages(const struct mv_analysis *a, uint32_t id)
{
	uint64_t k = 0;
	for (const struct occ *o = &a->c[id].first; o; o = occ_next(a, o))
		k += o->copies;
	return k;
}

struct rank {
	uint64_t pages;
	uint32_t id;
};

static int rank_cmp(const void *x, const void *y)
{
	const struct rank *p = x, *q = y;
	if (p->pages != q->pages)
		return p->pages > q->pages ? -1 : 1;
	return (p->id > q->id) - (p->id < q->id);
}

/* The opts.top most shared contents (two pages or more), in rank order. */
static int find_top(struct mv_analysis *a)
{
	if (!a->o.top)
		return 0;
	uint32_t n = 0;
	for (uint32_t id = 0; id < a->nc; id++)
		n += content_pages(a, id) >= 2;
	struct rank *r = malloc(((size_t)n + 1) * sizeof *r);
	if (!r)
		return MV_ENOMEM;
	n = 0;
	for (uint32_t id = 0; id < a->nc; id++) {
		uint64_t k = content_pages(a, id);
		if (k >= 2)
			r[n++] = (struct rank){k, id};
	}
	qsort(r, n, sizeof *r, rank_cmp);
	a->ntop = n < (uint32_t)a->o.top ? (int)n : a->o.top;
	a->top = malloc(((size_t)a->ntop + 1) * sizeof *a->top);
	if (!a->top) {
		free(r);
		return MV_ENOMEM;
	}
	for (int i = 0; i < a->ntop; i++)
		a->top[i] = r[i].id;
	free(r);
	return 0;
}

int mv_analysis_finish(struct mv_analysis *a, struct mv_error *err)
{
	if (a->failed || a->finished)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "",
				    a->failed ? "an image failed: no figures"
					      : "analysis already finished");
	struct mv_image_figures *t = &a->total;
	memset(t, 0, sizeof *t);
	for (int i = 0; i < a->nimg; i++) {
		const struct mv_image_figures *f = &a->fig[i];
		t->pages += f->pages;
		t->mergeable += f->mergeable;
		t->zero += f->zero;
		t->dup_intra += f->dup_intra;
	}
	t->distinct = a->nc;
	for (uint32_t id = 0; id < a->nc; id++)
		finish_content(a, id);
	if (find_top(a)) {
		a->failed = 1;
		return nomem(err);
	}
	a->finished = 1;
	return 0;
}

/*
 * The caller's view of content id: per-image arrays in buffers of
 * a->nimg entries, and its XXH3-64, read again from the first occurrence
 * (the table keeps only the XXH3-128 key).
 */
struct info_buf {
	int *image, *naddrs;
	uint64_t *copies, *addrs;
};

static int info_alloc(const struct mv_analysis *a, struct info_buf *b)
{
	size_t n = (size_t)a->nimg + 1;
	b->image = malloc(n * sizeof *b->image);
	b->naddrs = malloc(n * sizeof *b->naddrs);
	b->copies = malloc(n * sizeof *b->copies);
	b->addrs = malloc(n * MV_CONTENT_ADDRS * sizeof *b->addrs);
	return b->image && b->naddrs && b->copies && b->addrs ? 0 : MV_ENOMEM;
}

static void info_free(struct info_buf *b)
{
	free(b->image);
	free(b->naddrs);
	free(b->copies);
	free(b->addrs);
}

static int info_fill(const struct mv_analysis *a, uint32_t id,
		     struct info_buf *b, struct mv_content_info *ci)
{
	const struct content *c = &a->c[id];
	memset(ci, 0, sizeof *ci);
	ci->zero = id == a->zero_id;
	ci->lz4_size = c->lz4;
	ci->zstd_size = c->zstd;
	ci->first_image = c->first.image;
	ci->first_addr = c->first.addr[0];
	ci->key = c->key[0];
	int n = 0;
	for (const struct occ *o = &c->first; o; o = occ_next(a, o), n++) {
		b->image[n] = o->image;
		b->copies[n] = o->copies;
		b->naddrs[n] = o->copies < MV_CONTENT_ADDRS ? (int)o->copies
							    : MV_CONTENT_ADDRS;
		memcpy(&b->addrs[(size_t)n * MV_CONTENT_ADDRS], o->addr,
		       sizeof o->addr);
		ci->pages += o->copies;
	}
	ci->nimages = n;
	ci->image = b->image;
	ci->copies = b->copies;
	ci->naddrs = b->naddrs;
	ci->addrs = b->addrs;
	if (ci->zero) {
		ci->hash = mv_zero_page_hash();
		return 0;
	}
	/* mv_image_read changes only the reader's own state */
	struct mv_analysis *rw = (struct mv_analysis *)a;
	int rc = mv_image_read(rw->img[c->first.image], c->first.addr[0],
			       rw->page, NULL);
	if (rc)
		return rc;
	ci->hash = mv_page_hash(rw->page);
	return 0;
}

static int each_content(const struct mv_analysis *a, const uint32_t *ids,
			uint32_t n,
			int (*fn)(const struct mv_content_info *c, void *ctx),
			void *ctx)
{
	struct info_buf b;
	int rc = info_alloc(a, &b);
	for (uint32_t i = 0; !rc && i < n; i++) {
		struct mv_content_info ci;
		rc = info_fill(a, ids ? ids[i] : i, &b, &ci);
		if (!rc)
			rc = fn(&ci, ctx);
	}
	info_free(&b);
	return rc;
}

int mv_analysis_contents(const struct mv_analysis *a,
			 int (*fn)(const struct mv_content_info *c, void *ctx),
			 void *ctx)
{
	return each_content(a, NULL, a->nc, fn, ctx);
}

int mv_analysis_top(const struct mv_analysis *a,
		    int (*fn)(const struct mv_content_info *c, void *ctx),
		    void *ctx)
{
	if (!a->finished)
		return MV_EINVAL;
	return each_content(a, a->top, (uint32_t)a->ntop, fn, ctx);
}
