/*
 * summary.h - figures derived from a finished run, shared by the text and
 * JSON reports (report-layer internal).
 *
 * Both reports must print the same numbers, so they are computed once here:
 * the final per-VM sample, the host's free-memory minimum / average / final,
 * totals over all VMs (reclamation counters included) and the overcommit
 * ratio; the host's page-sharing figures are the final sample's `share`.
 * The final sample is the last one the simulator took; if it took none (a
 * run shorter than one stats interval on a simulator that does not sample
 * at the end) it is built from the live host, VM, guest and reclamation
 * objects instead, so a report is never empty.
 */
#ifndef MEMVISOR_REPORT_SUMMARY_H
#define MEMVISOR_REPORT_SUMMARY_H

#include "memvisor/sim.h"

struct mv_run_summary {
	const struct mv_sample *final; /* last sample, or &live */
	struct mv_sample live;         /* owns live.vm when used */
	uint64_t sim_ns;               /* simulated time actually run */
	uint64_t usable_frames;        /* host frames available to guests */
	uint64_t configured_bytes;     /* sum of VM configured memory, of the
					  VMs here at the end */
	int present, left;             /* VMs here at the end; VMs that left
					  by live migration */
	double overcommit;             /* configured / host memory */
	uint64_t free_min, free_final; /* frames */
	double free_avg;               /* frames, mean over samples */
	struct mv_sample_vm total;     /* sum over VMs of the final sample */
	uint64_t total_configured;     /* pages, all VMs */
};

/* Compute the summary; MV_ENOMEM if the live snapshot cannot be built. */
int mv_run_summary_init(struct mv_run_summary *r, const struct mv_sim *s);
void mv_run_summary_free(struct mv_run_summary *r);

/*
 * A sample of the simulator as it is now, built from the live objects
 * (out->vm is malloc'd; free it). Used when a run has no sample yet and by
 * views that stop a run between samples (dommemstat --at).
 */
int mv_run_snapshot(const struct mv_sim *s, struct mv_sample *out);

/* One host of a cluster at the end of its run: the cluster report's
 * summary table and JSON (cluster.c). Pages unless named otherwise. */
struct mv_cluster_host_figures {
	int nvms;
	uint64_t mem_bytes, configured_bytes;
	double overcommit;
	uint64_t sim_ns;
	uint64_t consumed, shared_saved, ballooned, swapped, compressed;
	uint64_t stall_ns; /* all its VMs' */
	uint64_t swap_in;  /* pages read back from swap over the run */
	uint64_t free_min; /* frames */
	uint64_t state_ns[MV_MEMSTATE_COUNT];
};
int mv_cluster_host_figures(const struct mv_sim *s,
			    struct mv_cluster_host_figures *f);

/*
 * What the cluster's reports need of every host, collected on rank 0
 * (mv_report_cluster_collect, report/cluster.c): each host's figures and
 * counts, gathered as fixed records in host order, and the parts that
 * print one host (its text report, its JSON run document, its CSV rows),
 * rendered by the rank that simulates it and gathered as bytes in host
 * order. With one process the same parts are rendered in place, so one
 * process and any number of ranks print the same bytes.
 */
struct mv_cluster_host_record {
	struct mv_cluster_host_figures fig;
	int32_t slots;   /* VM slots at the end (those gone included) */
	int32_t present; /* VMs not gone: each VM counted where it is */
	uint64_t verify_checks, verify_pages;
};
enum {
	MV_CPART_TEXT,
	MV_CPART_JSON,
	MV_CPART_CSV_HOST,
	MV_CPART_CSV_VM,
	MV_CPART_SVG,
	MV_CPARTS
};
struct mv_cluster_report {
	int nhosts;
	struct mv_cluster_host_record *host;
	/* text, JSON, host.csv rows, vm.csv rows, the charts (per file: its
	 * name's length (u32), name, its length (u64), bytes) */
	char *part[MV_CPARTS];
	size_t len[MV_CPARTS];
};
/* json.c: the run document of s at index `index` of the cluster
 * document's "hosts" array, with its separator, as that array holds it. */
int mv_report_json_cluster_host(FILE *out, const struct mv_sim *s, int index);

/* Percent helpers that never divide by zero. */
static inline double mv_pct(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* Average rate per second of a cumulative count over ns of simulated time. */
static inline double mv_per_s(double count, uint64_t ns)
{
	return ns ? count * (double)MV_NS_PER_S / (double)ns : 0.0;
}

/* Page sharing's saving: pages mapped to another VM's frame or to the zero
 * frame instead of a frame of their own. */
static inline uint64_t mv_share_saved_pages(const struct mv_share_stats *st)
{
	return st->pages_sharing + st->zero_pages;
}

/* Pages to MiB (pages are 4 KiB). */
static inline double mv_pages_mib(uint64_t pages)
{
	return (double)pages * MV_PAGE_SIZE / (double)MV_MIB;
}

#endif
