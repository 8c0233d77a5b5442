/*
 * report.h - what a run looks like to an operator: the summary table and
 * the JSON document (schema in docs/json.md).
 */
#ifndef MEMVISOR_REPORT_H
#define MEMVISOR_REPORT_H

#include <stdio.h>
#include "memvisor/sim.h"

/* The aligned text summary: host, per-VM table, free memory over time. */
int mv_report_text(FILE *out, const struct mv_sim *s);
/* The whole run as one JSON document (docs/json.md). */
int mv_report_json(FILE *out, const struct mv_sim *s);

/*
 * The libvirt listing of `virsh dommemstat` (docs/views.md), in libvirt's
 * order: the tags of virDomainMemoryStatTags as QEMU's driver returns
 * them. Values in KiB except the fault and hugetlb counts and last_update
 * (simulated seconds since the start of the run).
 */
enum mv_dms_tag {
	MV_DMS_ACTUAL = 0,
	MV_DMS_SWAP_IN,
	MV_DMS_SWAP_OUT,
	MV_DMS_MAJOR_FAULT,
	MV_DMS_MINOR_FAULT,
	MV_DMS_UNUSED,
	MV_DMS_AVAILABLE,
	MV_DMS_USABLE,
	MV_DMS_LAST_UPDATE,
	MV_DMS_DISK_CACHES,
	MV_DMS_HUGETLB_PGALLOC,
	MV_DMS_HUGETLB_PGFAIL,
	MV_DMS_RSS,
	MV_DMS_COUNT
};

struct mv_dommemstat {
	uint64_t val[MV_DMS_COUNT];
	unsigned present; /* bit (1u << tag) set for each tag reported */
};

/* "actual", "swap_in", ... as virsh prints them. */
const char *mv_dms_name(enum mv_dms_tag t);

/*
 * The listing from a VM's state now (`now`: actual and rss, always there)
 * and the guest's last balloon-driver report (`reported`, taken at
 * reported_ns; NULL when the stats period is 0: no guest fields).
 */
void mv_dommemstat_compute(const struct mv_sample_vm *now,
			   const struct mv_guest_stats *reported,
			   uint64_t reported_ns, struct mv_dommemstat *d);
/* Same with `now` taken from the live simulator's VM number vm. */
int mv_dommemstat_live(const struct mv_sim *s, int vm,
		       const struct mv_guest_stats *reported,
		       uint64_t reported_ns, struct mv_dommemstat *d);
/* `name value` lines, as virsh prints them. */
int mv_report_dommemstat(FILE *out, const struct mv_dommemstat *d);

#endif
