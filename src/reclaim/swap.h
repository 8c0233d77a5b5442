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

/* Its descriptor (tests read the file through it: it may have no name). */
int mv_swapfile_fd(const struct mv_swapfile *sf);
/*
 * A new file in dir without a name: O_TMPFILE (if try_tmpfile and the
 * filesystem has it), else mkstemp + unlink. The descriptor, or -1 with
 * errno set. Exposed so tests can take the fallback path.
 */
int mv_swapfile_open_unnamed(const char *dir, int try_tmpfile);

#endif
