/* memvisor.h - the whole public API of libmemvisor. */
#ifndef MEMVISOR_H
#define MEMVISOR_H
#include "memvisor/core.h"
#include "memvisor/host.h"
#include "memvisor/vm.h"
#include "memvisor/mmu.h"
#include "memvisor/reclaim.h"
#include "memvisor/guest.h"
#include "memvisor/policy.h"
#include "memvisor/image.h"
#include "memvisor/sim.h"
#include "memvisor/cluster.h"
#include "memvisor/report.h"
#include "memvisor/plan.h"
#endif
