/*
 * zcache.h - reclaim-layer internals of the compression cache, for tests
 * and the invariant checks (not part of the public API yet).
 */
#ifndef MEMVISOR_RECLAIM_ZCACHE_H
#define MEMVISOR_RECLAIM_ZCACHE_H

#include "memvisor/reclaim.h"

/* Cache frames that were the victim's own frame because the host had no
 * free frame (see zcache.c). */
uint64_t mv_zcache_frames_reused(const struct mv_zcache *z);

#endif
