/*
 * analysis.h - the analysis's layer-internal hooks (image layer and its
 * tests only).
 *
 * The content table is keyed by XXH3-128 and compares all 4096 bytes
 * before it counts a page as a copy. A real XXH3-128 collision is not
 * something a test can produce, so tests replace the key function with
 * one that sends two different pages to the same key and check that the
 * byte compare keeps them apart.
 */
#ifndef MV_IMAGE_ANALYSIS_H
#define MV_IMAGE_ANALYSIS_H

#include "memvisor/image.h"

/* The table key of one non-zero page: key[0] the low, key[1] the high
 * 64 bits of its XXH3-128. */
typedef void (*mv_analysis_key_fn)(const void *page, uint64_t key[2]);

/* Use fn instead of XXH3-128 (before the first mv_analysis_add). */
void mv_analysis_set_key_fn(struct mv_analysis *a, mv_analysis_key_fn fn);

/* Bytes the analysis keeps per distinct content: its table entry plus
 * its share of the hash index at the given load (slots per content). */
size_t mv_analysis_content_bytes(void);
size_t mv_analysis_slot_bytes(void);

#endif
