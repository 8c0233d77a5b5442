/*
 * plan.h - `memvisor plan`: is this overcommit ratio safe? (docs/plan.md)
 *
 * A plan runs one scenario at several overcommit ratios, measures each run
 * as a struct mv_plan_point (a flat value: the command's worker processes
 * send it back through a pipe) and judges it against service-level
 * objectives (SLOs): every VM's stall, hypervisor swap-in rate and
 * progress. From the points it finds the highest safe ratio and the knee.
 */
#ifndef MEMVISOR_PLAN_H
#define MEMVISOR_PLAN_H

#include <stdio.h>

#include "memvisor/sim.h"

/* What an SLO bounds, per VM: the worst VM decides. */
enum mv_slo_metric {
	MV_SLO_STALL = 0, /* vCPU time stalled on hypervisor faults, % */
	MV_SLO_SWAPIN,    /* hypervisor swap-ins of the VM, pages/s */
	MV_SLO_PROGRESS,  /* accesses done / demanded, % */
	MV_SLO_METRIC_COUNT
};

#define MV_SLO_MAX 8

struct mv_slo {
	enum mv_slo_metric metric;
	int below;    /* 1: "metric<limit" holds; 0: "metric>limit" */
	double limit; /* in the metric's unit: % or pages/s */
};

struct mv_slo_set {
	int n;
	struct mv_slo slo[MV_SLO_MAX];
};

/* The defaults (docs/plan.md says where each comes from). */
#define MV_SLO_DEFAULT "stall<1%,swapin<1/s,progress>95%"

/*
 * Parse "stall<1%,swapin<10/s,progress>99%": comma-separated NAME<LIMIT
 * or NAME>LIMIT, stall and progress in % (the sign required), swapin in
 * /s; each metric at most once. MV_EINVAL with err (field "--slo") naming
 * the part that is wrong.
 */
int mv_slo_parse(const char *text, struct mv_slo_set *out,
		 struct mv_error *err);
/* "stall<1%" as the user would write it. */
void mv_slo_format(const struct mv_slo *s, char *buf, size_t n);
/* "stall", "swapin", "progress". */
const char *mv_slo_metric_name(enum mv_slo_metric m);

enum mv_plan_by {
	MV_PLAN_BY_HOST = 0, /* host memory = configured / ratio */
	MV_PLAN_BY_VMS, /* copies of the VMs until configured/host ~ ratio */
};

/* Saved memory per mechanism, in struct mv_plan_point.saved_mib. */
enum {
	MV_SAVED_SHARE = 0,
	MV_SAVED_BALLOON,
	MV_SAVED_ZIP,
	MV_SAVED_SWAP,
	MV_SAVED_COUNT
};

#define MV_PLAN_NAME 64

/* One ratio's run as the plan reads it. */
struct mv_plan_point {
	double ratio;      /* as asked */
	double overcommit; /* configured / host memory, as run */
	uint64_t host_bytes, configured_bytes;
	int nvms;
	uint64_t sim_ns;
	double saved_mib[MV_SAVED_COUNT];     /* averaged over the samples */
	double state_frac[MV_MEMSTATE_COUNT]; /* of simulated time */
	double swapin_per_s;       /* hypervisor swap-ins, all VMs, pages/s */
	double guest_swapin_per_s; /* the guests' own swap-ins, pages/s */
	/* per metric, the worst VM: its value (% or pages/s) and name */
	double worst[MV_SLO_METRIC_COUNT];
	char worst_vm[MV_SLO_METRIC_COUNT][MV_PLAN_NAME];
	/* a VM with a leak workload whose memory still grew in the last
	 * stats interval ("" if none), and how fast (MiB/s) */
	char growing_vm[MV_PLAN_NAME];
	double growing_mib_s;
	/* 0, or the run failed: why */
	int rc;
	char error[320];
};

/*
 * Shape scenario sc for ratio r: by host, the host's memory becomes
 * configured / r (rounded down to a page); by vms, the VMs are repeated
 * in order (copies named NAME~2, NAME~3, ...) up to the count whose
 * configured memory over the host's is closest to r. MV_EINVAL with err
 * when the host would be too small or the VMs too many.
 */
int mv_plan_shape(struct mv_scenario *sc, enum mv_plan_by by, double r,
		  struct mv_error *err);

/* Measure a finished run into p (p->ratio kept). */
void mv_plan_measure(const struct mv_sim *s, struct mv_plan_point *p);

/* The first SLO p fails (index into set), or -1 when p is safe. */
int mv_plan_failed(const struct mv_plan_point *p, const struct mv_slo_set *set);

/*
 * The knee of the sweep (docs/plan.md): the ratio index whose hypervisor
 * swap-in rate (or, when no run swapped in, worst stall) lies farthest
 * below the chord from the first to the last point (Kneedle, Satopaa et
 * al. 2011); -1 when the curve is flat or has fewer than 3 points. *by
 * gets the metric it used.
 */
int mv_plan_knee(const struct mv_plan_point *p, int n, enum mv_slo_metric *by);

/* The highest ratio index at and below which every point is safe; -1. */
int mv_plan_highest_safe(const struct mv_plan_point *p, int n,
			 const struct mv_slo_set *set);

/* What the plan was asked, for the reports. */
struct mv_plan_info {
	const char *scenario_name, *scenario_path;
	enum mv_plan_by by;
	uint64_t seed;
	const struct mv_slo_set *slo;
	/* estimator time constants (s) the run is compared with */
	double sampler_tau_s, share_period_s;
};

/* The sweep as a text table and its verdict. */
int mv_report_plan_text(FILE *f, const struct mv_plan_info *in,
			const struct mv_plan_point *p, int n);
/* The sweep as JSON (docs/plan.md). */
int mv_report_plan_json(FILE *f, const struct mv_plan_info *in,
			const struct mv_plan_point *p, int n);
/* The sweep as an SVG chart. */
int mv_report_plan_svg(FILE *f, const struct mv_plan_info *in,
		       const struct mv_plan_point *p, int n);

/* The estimators' time constants of scenario sc, in seconds: the active
 * sampler's slow average and one full sharing scan of the VMs' memory. */
void mv_plan_time_constants(const struct mv_scenario *sc, double *sampler_tau_s,
			    double *share_period_s);

#endif
