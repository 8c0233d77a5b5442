/*
 * dommemstat.c - a VM's memory the way `virsh dommemstat` lists it.
 *
 * libvirt's QEMU driver builds the list from two sources (libvirt
 * src/qemu/qemu_driver.c qemuDomainMemoryStatsInternal and
 * qemu_monitor_json.c qemuMonitorJSONGetMemoryStats): first "actual", the
 * balloon's current size from QEMU's query-balloon, then the guest's own
 * statistics as the virtio-balloon driver last reported them (QEMU's
 * guest-stats property: swap in/out, faults, free, total and available
 * memory, the time of the report, disk caches, hugetlb counts), then "rss"
 * of the QEMU process from /proc. virsh prints them in that order. The
 * guest's part exists only when statistics polling is on (<memballoon>
 * <stats period='N'/>, N > 0) and is only as fresh as the last report;
 * actual and rss are read at the moment of the call.
 *
 * Units follow libvirt: sizes in KiB (QEMU reports bytes, libvirt divides
 * by 1024), fault and hugetlb figures are counts, last_update is seconds.
 * Real libvirt's last_update is wall-clock epoch seconds (QEMU stamps each
 * report with g_get_real_time); computed here it is simulated seconds
 * since the start of the run, and mv_dommemstat_set_epoch puts the start
 * at a stated moment, so listings stay reproducible.
 */
#include <stdlib.h>

#include "memvisor/report.h"
#include "report/summary.h"

#define KIB_PER_PAGE (MV_PAGE_SIZE / 1024)

static const char *const dms_names[MV_DMS_COUNT] = {
	[MV_DMS_ACTUAL] = "actual",
	[MV_DMS_SWAP_IN] = "swap_in",
	[MV_DMS_SWAP_OUT] = "swap_out",
	[MV_DMS_MAJOR_FAULT] = "major_fault",
	[MV_DMS_MINOR_FAULT] = "minor_fault",
	[MV_DMS_UNUSED] = "unused",
	[MV_DMS_AVAILABLE] = "available",
	[MV_DMS_USABLE] = "usable",
	[MV_DMS_LAST_UPDATE] = "last_update",
	[MV_DMS_DISK_CACHES] = "disk_caches",
	[MV_DMS_HUGETLB_PGALLOC] = "hugetlb_pgalloc",
	[MV_DMS_HUGETLB_PGFAIL] = "hugetlb_pgfail",
	[MV_DMS_RSS] = "rss",
};

const char *mv_dms_name(enum mv_dms_tag t)
{
	return (unsigned)t < MV_DMS_COUNT ? dms_names[t] : "?";
}

static void put(struct mv_dommemstat *d, enum mv_dms_tag t, uint64_t v)
{
	d->val[t] = v;
	d->present |= 1u << t;
}

void mv_dommemstat_compute(const struct mv_sample_vm *now,
			   const struct mv_guest_stats *reported,
			   uint64_t reported_ns, struct mv_dommemstat *d)
{
	*d = (struct mv_dommemstat){0};
	/*
	 * actual: memory the balloon leaves the guest (QEMU's query-balloon
	 * "actual" = ram size - pages the driver has acknowledged). The
	 * driver's own count, read now: a page it has deflated is the
	 * guest's again even before the guest touches it.
	 */
	uint64_t configured = 0;
	for (int k = 0; k < MV_PS_COUNT; k++)
		configured += now->state[k];
	uint64_t balloon = now->guest.balloon_pages;
	put(d, MV_DMS_ACTUAL,
	    (configured > balloon ? configured - balloon : 0) * KIB_PER_PAGE);
	if (reported) {
		const struct mv_guest_stats *g = reported;
		put(d, MV_DMS_SWAP_IN, g->swap_in * KIB_PER_PAGE);
		put(d, MV_DMS_SWAP_OUT, g->swap_out * KIB_PER_PAGE);
		put(d, MV_DMS_MAJOR_FAULT, g->major_fault);
		put(d, MV_DMS_MINOR_FAULT, g->minor_fault);
		/* MemFree: nothing in it, not even clean cache. */
		put(d, MV_DMS_UNUSED, g->free_pages * KIB_PER_PAGE);
		/* MemTotal: Linux's balloon driver takes inflated pages out of
		 * totalram (adjust_managed_page_count). */
		put(d, MV_DMS_AVAILABLE, g->available_pages * KIB_PER_PAGE);
		/*
		 * MemAvailable (si_mem_available): free plus the page cache it
		 * could drop without I/O. Our guest keeps no reserve and no
		 * watermark, so none is subtracted.
		 */
		put(d, MV_DMS_USABLE,
		    (g->free_pages + g->cache_pages) * KIB_PER_PAGE);
		put(d, MV_DMS_LAST_UPDATE, reported_ns / MV_NS_PER_S);
		put(d, MV_DMS_DISK_CACHES, g->cache_pages * KIB_PER_PAGE);
		/* 2 MiB pages allocated to the hugetlbfs pool (Linux >= 4.20
		 * reports them): the pool of <mv:mmu pages='2m'>, else 0 */
		put(d, MV_DMS_HUGETLB_PGALLOC, g->hugetlb_pgalloc);
		put(d, MV_DMS_HUGETLB_PGFAIL, g->hugetlb_pgfail);
	}
	/*
	 * rss: what the QEMU process has resident. A page mapped to a frame
	 * of its own or to a KSM-shared frame counts (RSS counts every
	 * mapping of a shared page); a page on the host's zero frame does not
	 * (the kernel's zero page is not counted in RSS), nor a compressed,
	 * swapped, ballooned or untouched one.
	 */
	put(d, MV_DMS_RSS,
	    (now->state[MV_PS_PRIVATE] + now->state[MV_PS_SHARED]) *
		    KIB_PER_PAGE);
}

int mv_dommemstat_live(const struct mv_sim *s, int vm,
		       const struct mv_guest_stats *reported,
		       uint64_t reported_ns, struct mv_dommemstat *d)
{
	if (vm < 0 || vm >= s->nvms)
		return MV_EINVAL;
	struct mv_sample now;
	int rc = mv_run_snapshot(s, &now);
	if (rc)
		return rc;
	mv_dommemstat_compute(&now.vm[vm], reported, reported_ns, d);
	free(now.vm);
	return 0;
}

void mv_dommemstat_set_epoch(struct mv_dommemstat *d, uint64_t epoch_s)
{
	if (d->present & (1u << MV_DMS_LAST_UPDATE))
		d->val[MV_DMS_LAST_UPDATE] += epoch_s;
}

int mv_report_dommemstat(FILE *out, const struct mv_dommemstat *d)
{
	for (int t = 0; t < MV_DMS_COUNT; t++)
		if (d->present & (1u << t))
			fprintf(out, "%s %llu\n", dms_names[t],
				(unsigned long long)d->val[t]);
	return ferror(out) ? MV_EIO : 0;
}
