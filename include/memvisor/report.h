/*
 * report.h - what a run looks like to an operator: the summary table and
 * the JSON document (schema in docs/json.md).
 */
#ifndef MEMVISOR_REPORT_H
#define MEMVISOR_REPORT_H

#include <stdio.h>
#include "memvisor/sim.h"

/*
 * The aligned text summary: host, per-VM table, free memory over time.
 * Deterministic: the same scenario and seed give the same bytes.
 */
int mv_report_text(FILE *out, const struct mv_sim *s);
/* The measured figures, one "wall: ..." line: wall-clock time, scanner CPU. */
int mv_report_measured(FILE *out, const struct mv_sim *s);
/*
 * The simulator's books now (mv_sim_books), one line per structure and
 * a total per group, each line starting "books: WHEN " (WHEN: "start"
 * after power-on, "end" after the run); docs/engine.md, "Production
 * scale", 4, gives the format, which make bench-scale parses.
 */
int mv_report_books(FILE *out, const struct mv_sim *s, const char *when);
/* The whole run as one JSON document (docs/json.md). */
int mv_report_json(FILE *out, const struct mv_sim *s);

/*
 * The libvirt listing of `virsh dommemstat` (docs/views.md), in libvirt's
 * order: the tags of virDomainMemoryStatTags as QEMU's driver returns
 * them. Values in KiB except the fault and hugetlb counts and last_update
 * (simulated seconds since the start of the run, until set_epoch).
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
	int reported;     /* the guest's report is in it (last_update is
			     its time; else 0, as QEMU's "none yet") */
};

/* "actual", "swap_in", ... as virsh prints them. */
const char *mv_dms_name(enum mv_dms_tag t);

/*
 * The guest's reports as QEMU keeps them: Linux's virtio_balloon reports
 * once when it probes the device, during the guest's boot (init_vqs primes
 * the stats queue with update_balloon_stats), and QEMU keeps that report
 * whatever the polling interval; then QEMU asks again period_ns after
 * each report it received (guest-stats-polling-interval, <stats
 * period='N'/>; 0: never). memvisor takes the probe's report at the end
 * of the step in which the guest's boot completes.
 */
struct mv_dms_reports {
	uint64_t period_ns;
	int have;                   /* a report was received */
	struct mv_guest_stats last; /* the last one */
	uint64_t last_ns, next_ns;
};
void mv_dms_reports_init(struct mv_dms_reports *r, uint64_t period_ns);
/* After each simulator step: take VM vm's report if one is due. */
void mv_dms_reports_step(struct mv_dms_reports *r, const struct mv_sim *s,
			 int vm);

/*
 * The listing, from a VM's state now and the guest's last report, as
 * libvirt's qemuDomainMemoryStatsInternal builds it: without a balloon
 * device (balloon_dev 0: <memballoon model='none'>) only rss; with one,
 * actual (read now), the guest's fields from `reported` (taken at
 * reported_ns; NULL: none received yet, only last_update 0, QEMU's "never
 * updated"), and rss (read now).
 */
void mv_dommemstat_compute(const struct mv_sample_vm *now, int balloon_dev,
			   const struct mv_guest_stats *reported,
			   uint64_t reported_ns, struct mv_dommemstat *d);
/* Same with `now` taken from the live simulator's VM number vm and the
 * reports r kept for it (its balloon device from its configuration). */
int mv_dommemstat_live(const struct mv_sim *s, int vm,
		       const struct mv_dms_reports *r, struct mv_dommemstat *d);
/*
 * last_update as libvirt reports it, seconds since the Unix epoch: the
 * simulation's start is epoch_s (the default: 2026-01-01 00:00:00 UTC; the
 * largest: 9999-12-31 23:59:59). Without it, simulated seconds. A
 * last_update of 0 (no report yet) stays 0.
 */
#define MV_DMS_EPOCH_DEFAULT 1767225600ull
#define MV_DMS_EPOCH_MAX 253402300799ull
void mv_dommemstat_set_epoch(struct mv_dommemstat *d, uint64_t epoch_s);
/* `name value` lines, as virsh prints them. */
int mv_report_dommemstat(FILE *out, const struct mv_dommemstat *d);

/*
 * Views written to a directory (docs/views.md): host.EXT and vm-NAME.EXT
 * per VM. Files appear complete or not at all (temporary names, renamed
 * when every file is written); the directory is created (one level) only
 * when they are. outdir_check, before a run: dir is a writable directory,
 * or missing with a writable parent; MV_EINVAL with err (file dir, field
 * opt) if not.
 */
int mv_report_outdir_check(const char *dir, const char *opt,
			   struct mv_error *err);
/*
 * What an output path names (symbolic links followed): nothing yet, a
 * regular file (both replaced by rename), or a FIFO or character device
 * (written in place, never replaced).
 */
enum { MV_OUT_CREATE, MV_OUT_REPLACE, MV_OUT_IN_PLACE };
/*
 * Check, before a run, that path can take an output file: one of the
 * MV_OUT_* kinds, or MV_EINVAL with err (file path, field opt) for a
 * directory, a socket, a block device, a missing or unwritable directory.
 * target (if not NULL, n bytes) gets the path with symbolic links
 * followed: the file that will be written or replaced.
 */
int mv_report_output_check(const char *path, const char *opt, char *target,
			   size_t n, struct mv_error *err);
/*
 * The file names a --csv/--svg set writes for scenario sc (host.EXT, then
 * vm-NAME.EXT per VM, numbered where two names would be one file), as
 * mv_report_csv and mv_report_svg name them: a NULL-terminated malloc'd
 * array (NULL when out of memory), freed with mv_report_view_names_free.
 */
char **mv_report_view_names(const struct mv_scenario *sc, const char *ext);
void mv_report_view_names_free(char **names);
/*
 * One file the same way: fn(f, ctx) writes into a temporary file beside
 * path (path.tmp.XXXXXX), renamed over path only when complete (a FIFO or
 * character device is written in place; a symbolic link is followed and
 * its target replaced); on error path is untouched, the temporary file
 * removed and err names path.
 */
int mv_report_write_file(const char *path, int (*fn)(FILE *f, const void *ctx),
			 const void *ctx, struct mv_error *err);

/* Time series, one row per stats interval (esxtop column names). */
int mv_report_csv_host(FILE *out, const struct mv_sim *s);
int mv_report_csv_vm(FILE *out, const struct mv_sim *s, int vm);
int mv_report_csv(const char *dir, const struct mv_sim *s,
		  struct mv_error *err);

/* Charts (SVG): vm -1 is the host's free memory and states. */
int mv_report_svg_vm(FILE *out, const struct mv_sim *s, int vm);
int mv_report_svg(const char *dir, const struct mv_sim *s,
		  struct mv_error *err);

/*
 * The live screen's text (`run --top`): host lines, a key line, then a
 * header and one esxtop-like row per VM (MiB), sorted by `sort` (largest
 * first; the name alphabetically), the sort column marked with '*'. No
 * line is wider than `width` characters (<= 0: no limit) unless a VM name
 * and the sort column alone are: columns that do not fit are left out,
 * the sort column last and STALL% next to last.
 */
enum mv_top_sort {
	MV_TOP_SORT_NAME = 0,
	MV_TOP_SORT_MEMSZ,
	MV_TOP_SORT_GRANT,
	MV_TOP_SORT_ACTV,
	MV_TOP_SORT_MCTLSZ,
	MV_TOP_SORT_SWCUR,
	MV_TOP_SORT_CACHEUSD,
	MV_TOP_SORT_COUNT
};
/* The sort a key selects (n m g a b s z, either case), or -1. */
int mv_top_sort_for_key(int key);
/* The simulator as it is now (a fresh snapshot, O(pages)). */
int mv_report_top(FILE *out, const struct mv_sim *s, int sort, int paused,
		  int width);

/*
 * A cluster run (docs/cluster.md): the text report (a summary of the
 * hosts, then each host's report as mv_report_text prints it), the JSON
 * document ({"schema", "cluster": {...}, "hosts": [each host's run
 * document]}) and the CSV set (mv_report_cluster_csv_names: host.csv,
 * every host's samples with a host column; vm.csv, every VM's with host
 * and vm columns), all or none.
 */
struct mv_cluster;
/*
 * After the run, on every rank (collective: each rank renders the parts
 * of its hosts and rank 0 gathers them, docs/cluster.md section 5): what
 * the reports below print. Rank 0 gets *out; the other ranks NULL. The
 * parts are rendered only for the outputs asked (MV_CREPORT_*).
 */
struct mv_cluster_report;
enum {
	MV_CREPORT_TEXT = 1,
	MV_CREPORT_JSON = 2,
	MV_CREPORT_CSV = 4,
	MV_CREPORT_SVG = 8,
	MV_CREPORT_ALL = 15
};
int mv_report_cluster_collect(const struct mv_cluster *c, unsigned what,
			      struct mv_cluster_report **out,
			      struct mv_error *err);
void mv_report_cluster_free(struct mv_cluster_report *r);
/* What --verify checked over every host: invariant checks, pages. */
void mv_report_cluster_verified(const struct mv_cluster_report *r,
				uint64_t *checks, uint64_t *pages);
int mv_report_cluster_text(FILE *out, const struct mv_cluster *c,
			   const struct mv_cluster_report *r);
int mv_report_cluster_json(FILE *out, const struct mv_cluster *c,
			   const struct mv_cluster_report *r);
extern const char *const mv_report_cluster_csv_names[];
int mv_report_cluster_csv(const char *dir, const struct mv_cluster *c,
			  const struct mv_cluster_report *r,
			  struct mv_error *err);
/*
 * The charts (--svg DIR), all or none: each host's as one host's run
 * draws them, HOST-host.svg and HOST-vm-NAME.svg for each of its VM
 * slots at the end (those a VM left or came to included), rendered where
 * the host ran.
 */
int mv_report_cluster_svg(const char *dir, const struct mv_cluster *c,
			  const struct mv_cluster_report *r,
			  struct mv_error *err);
/* The chart names of the hosts' VMs at power-on (HOST-host.svg,
 * HOST-vm-NAME.svg), to check before a run; NULL-terminated, freed with
 * mv_report_view_names_free; NULL out of memory. */
struct mv_cluster_scenario;
char **mv_report_cluster_svg_names(const struct mv_cluster_scenario *cs);

#endif
