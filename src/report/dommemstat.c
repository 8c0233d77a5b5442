/*
 * dommemstat.c - a VM's memory the way `virsh dommemstat` lists it.
 *
 * libvirt's QEMU driver builds the list from three sources (libvirt
 * src/qemu/qemu_driver.c qemuDomainMemoryStatsInternal and
 * qemu_monitor_json.c qemuMonitorJSONGetMemoryStats): first "actual", the
 * balloon's current size from QEMU's query-balloon, then the guest's own
 * statistics as the virtio-balloon driver last reported them (QEMU's
 * guest-stats property: swap in/out, faults, free, total and available
 * memory, the time of the report, disk caches, hugetlb counts), then "rss"
 * of the QEMU process from /proc. virsh prints them in that order. A VM
 * without a balloon device has rss alone. The guest's part is only as
 * fresh as its last report: one when its driver probes the device at
 * boot, then one every N seconds with <memballoon><stats period='N'/>
 * (mv_dms_reports); before the first, QEMU's values are unset (-1, which
 * libvirt leaves out) and its last-update 0. actual and rss are read at
 * the moment of the call.
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

void mv_dms_reports_init(struct mv_dms_reports *r, uint64_t period_ns)
{
	*r = (struct mv_dms_reports){.period_ns = period_ns};
}

void mv_dms_reports_step(struct mv_dms_reports *r, const struct mv_sim *s,
			 int vm)
{
	if (mv_sim_vm_gone(s, vm) || !s->vm[vm]->cfg.balloon_driver)
		return;
	if (r->have ? !r->period_ns || s->now_ns < r->next_ns
		    : !mv_guest_booted(s->guest[vm]))
		return;
	mv_guest_stats(s->guest[vm], &r->last);
	r->have = 1;
	r->last_ns = s->now_ns;
	/* QEMU's timer restarts when a report arrives
	 * (virtio_balloon_receive_stats) */
	r->next_ns = s->now_ns + r->period_ns;
}

void mv_dommemstat_compute(const struct mv_sample_vm *now, int balloon_dev,
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
	if (balloon_dev)
		put(d, MV_DMS_ACTUAL,
		    (configured > balloon ? configured - balloon : 0) *
			    KIB_PER_PAGE);
	if (balloon_dev && !reported)
		put(d, MV_DMS_LAST_UPDATE, 0); /* QEMU: "not updated yet" */
	if (balloon_dev && reported) {
		const struct mv_guest_stats *g = reported;
		d->reported = 1;
		/* PSWPIN, PSWPOUT: pages; the driver sends bytes
		 * (pages_to_bytes), libvirt divides by 1024 */
		put(d, MV_DMS_SWAP_IN, g->swap_in * KIB_PER_PAGE);
		put(d, MV_DMS_SWAP_OUT, g->swap_out * KIB_PER_PAGE);
		/* PGMAJFAULT, PGFAULT (every fault): counts, as sent */
		put(d, MV_DMS_MAJOR_FAULT, g->major_fault);
		put(d, MV_DMS_MINOR_FAULT, g->minor_fault);
		/* MemFree: nothing in it, not even clean cache. */
		put(d, MV_DMS_UNUSED, g->free_pages * KIB_PER_PAGE);
		/* MemTotal: without the balloon, and on Linux without the
		 * boot-time structures (mv_guest_stats) */
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
	 * rss: what the QEMU process has resident (VmRSS). A page mapped to
	 * a frame of its own or to a KSM-shared frame counts (RSS counts
	 * every mapping of a shared page); a page on the host's zero frame
	 * does not (the kernel's zero page is not counted in RSS), nor a
	 * compressed, swapped, ballooned or untouched one. The process's own
	 * memory outside guest RAM (<mv:guest overhead>: QEMU's heap, TCG's
	 * translation buffer) is resident too.
	 */
	put(d, MV_DMS_RSS,
	    (now->state[MV_PS_PRIVATE] + now->state[MV_PS_SHARED] +
	     now->vmm_pages) *
		    KIB_PER_PAGE);
}

int mv_dommemstat_live(const struct mv_sim *s, int vm,
		       const struct mv_dms_reports *r, struct mv_dommemstat *d)
{
	if (vm < 0 || vm >= s->nvms || mv_sim_vm_gone(s, vm))
		return MV_EINVAL;
	struct mv_sample now;
	int rc = mv_run_snapshot(s, &now);
	if (rc)
		return rc;
	int have = r && r->have;
	mv_dommemstat_compute(&now.vm[vm], s->vm[vm]->cfg.balloon_driver,
			      have ? &r->last : NULL, have ? r->last_ns : 0, d);
	free(now.vm);
	return 0;
}

void mv_dommemstat_set_epoch(struct mv_dommemstat *d, uint64_t epoch_s)
{
	if (d->reported)
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
