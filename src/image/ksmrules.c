/*
 * ksmrules.c - what Linux KSM (mm/ksm.c) makes of groups of identical
 * mergeable pages.
 *
 * ksmd merges a page into a KSM page (a "stable node") when it finds
 * another page of the same content; every later page of that content maps
 * the same KSM page. pages_shared counts KSM pages, pages_sharing the
 * mappings beyond the first of each (the pages saved). A KSM page takes
 * at most max_page_sharing mappings (default 256): past that, ksmd starts
 * another KSM page of the same content (a "dup" on a "stable node chain"),
 * but only when two more pages meet in the unstable tree, so a group of k
 * pages makes k / max full KSM pages, one more if k % max >= 2, and leaves
 * a last single page unmerged:
 *
 *	k = 257, max = 256: 1 KSM page, 255 sharing, 1 page unmerged
 *	k = 258, max = 256: 2 KSM pages, 255 + 1 sharing
 *
 * A group of one page merges with nothing. The zero page is no exception
 * unless use_zero_pages is set (the caller then leaves that group out).
 * Source: mm/ksm.c (stable_tree_search, chain_prune, stable_tree_insert)
 * and Documentation/admin-guide/mm/ksm.rst.
 */
#include "image/ksmrules.h"

void mv_ksm_count(const uint64_t *group_sizes, size_t n,
		  unsigned max_page_sharing, uint64_t *shared,
		  uint64_t *sharing)
{
	uint64_t max = max_page_sharing < 2 ? 2 : max_page_sharing;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = group_sizes[i];
		uint64_t full = k / max, rest = k % max;
		*shared += full;
		*sharing += full * (max - 1);
		if (rest >= 2) {
			*shared += 1;
			*sharing += rest - 1;
		}
	}
}
