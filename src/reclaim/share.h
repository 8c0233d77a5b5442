/*
 * share.h - page sharing internals the reclaim layer's tests may reach.
 *
 * The public API is in include/memvisor/reclaim.h. This header lets a test
 * replace the page hash, so that it can force every page into the same
 * hash-table key and prove that a hash match alone never shares pages
 * whose bytes differ, scan exactly one full pass, and see how full the
 * table is.
 */
#ifndef MEMVISOR_RECLAIM_SHARE_H
#define MEMVISOR_RECLAIM_SHARE_H

#include "memvisor/reclaim.h"

typedef uint64_t (*mv_share_hash_fn)(const void *page);

/*
 * Tests only: hash pages with fn instead of XXH3 (NULL restores XXH3).
 * Call it before the first scan: keys already in the table were made with
 * the old function and simply stop matching.
 */
void mv_share_set_hash(struct mv_sharer *s, mv_share_hash_fn fn);

/*
 * Scan to the end of the current full scan (from the start of the first
 * VM, one whole pass): tests, and one-pass analysis of memory images.
 * Returns pages scanned.
 */
uint64_t mv_share_scan_lap(struct mv_sharer *s);

/* Tests only: entries in the table (live or not yet found dead) and its
 * capacity, to show that it stays bounded. */
void mv_share_table_usage(const struct mv_sharer *s, uint64_t *used,
			  uint64_t *capacity);

#endif
