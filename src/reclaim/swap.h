/*
 * swap.h - reclaim-layer internals of the swap file, for tests and the
 * invariant checks (not part of the public API yet).
 */
#ifndef MEMVISOR_RECLAIM_SWAP_H
#define MEMVISOR_RECLAIM_SWAP_H

#include "memvisor/reclaim.h"

/* The swap file's books: every swapped page of the VM names its own live
 * slot, and the slots in use are exactly those. */
int mv_swapfile_check(const struct mv_swapfile *sf, struct mv_error *err);

#endif
