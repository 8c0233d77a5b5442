/*
 * ksmrules.h - KSM's counting rules (layer internal): how many KSM pages
 * and sharing mappings Linux's ksmd makes of groups of identical pages.
 * The analysis (analysis.c) and the KSM comparison test call the same
 * function, so the figure checked against the kernel is the one printed.
 */
#ifndef MV_IMAGE_KSMRULES_H
#define MV_IMAGE_KSMRULES_H

#include <stddef.h>
#include <stdint.h>

/* KSM's default /sys/kernel/mm/ksm/max_page_sharing. */
#define MV_KSM_MAX_PAGE_SHARING 256

/*
 * Add to *shared and *sharing (KSM's pages_shared and pages_sharing) what
 * ksmd makes of n groups of mergeable pages, group i holding group_sizes[i]
 * pages of one content. The caller leaves out the zero group when KSM's
 * use_zero_pages is set (those pages map the zero page instead: KSM's
 * ksm_zero_pages). max_page_sharing below 2 counts as 2, KSM's own floor.
 */
void mv_ksm_count(const uint64_t *group_sizes, size_t n,
		  unsigned max_page_sharing, uint64_t *shared,
		  uint64_t *sharing);

#endif
