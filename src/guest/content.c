/*
 * content.c - the guest's page contents, as descriptors.
 *
 * A workload's pages are generated (src/host/content.c): the guest says
 * which page it means by a descriptor built from the content class, the
 * image or application name and page index (OS, APP: the same in every
 * VM), or the VM, process and page key (DATA, RANDOM: private), and the
 * compressibility; a content profile's page by its key and LZ4 bucket.
 * The frame then holds the descriptor and its bytes are materialised only
 * where something reads them (hashing, compare, LZ4, swap I/O).
 */
#include "memvisor/guest.h"
#include "memvisor/image.h"

_Static_assert(MV_PROFILE_BUCKET_BYTES == MV_DESC_BUCKET_BYTES &&
		       MV_PROFILE_BUCKETS ==
			       MV_PAGE_SIZE / MV_DESC_BUCKET_BYTES,
	       "profile buckets and the generator's agree");

mv_desc_t mv_content_desc(enum mv_content c, uint64_t name_hash, uint64_t index,
			  uint64_t key, double compressibility)
{
	switch (c) {
	case MV_CONTENT_OS:
	case MV_CONTENT_APP:
		return mv_desc_make(
			c == MV_CONTENT_OS ? MV_DESC_OS : MV_DESC_APP, 0,
			mv_mix64(name_hash ^ mv_mix64(index + c)));
	case MV_CONTENT_DATA: {
		double q = compressibility * 64.0 + 0.5;
		unsigned param = q < 0 ? 0 : q > 64 ? 64 : (unsigned)q;
		return mv_desc_make(MV_DESC_DATA, param, mv_mix64(key));
	}
	case MV_CONTENT_RANDOM:
		return mv_desc_make(MV_DESC_RANDOM, 0, mv_mix64(key));
	case MV_CONTENT_ZERO:
	default:
		return MV_DESC_ZERO_PAGE;
	}
}

mv_desc_t mv_content_profile_desc(const struct mv_profile_page *d)
{
	if (d->zero)
		return MV_DESC_ZERO_PAGE;
	return mv_desc_make(MV_DESC_PROFILE, (unsigned)d->bucket, d->key);
}

void mv_content_page(uint8_t *page, enum mv_content c, uint64_t name_hash,
		     uint64_t index, uint64_t key, double compressibility)
{
	mv_content_fill(page, mv_content_desc(c, name_hash, index, key,
					      compressibility));
}

void mv_content_fill_profile(uint8_t *page, const struct mv_profile_page *d)
{
	mv_content_fill(page, mv_content_profile_desc(d));
}
