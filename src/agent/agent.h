/*
 * agent.h - `memvisor agent` and `memvisor record`: memvisor's policy on a
 * real libvirt host (agent layer; the cli layer parses the options and
 * calls these). docs/agent.md.
 */
#ifndef MEMVISOR_AGENT_AGENT_H
#define MEMVISOR_AGENT_AGENT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/decide.h"

/* One guest as the live screen (--top) shows it, after an interval. */
struct mv_agent_row {
	char name[128];
	uint64_t max_kib, actual_kib, target_kib, rss_kib, unused_kib,
		reservation_kib, limit_kib, shares;
	double active;
	enum mv_agent_active_src src;
	enum mv_agent_reason reason;
	int applied, failed;
};

struct mv_agent_view {
	uint64_t interval;
	enum mv_memstate state;
	uint64_t host_total_kib, host_free_kib;
	int dry_run, connected;
	int ksm_run;
	uint64_t ksm_pages_to_scan, ksm_pages_sharing;
	int n;
	const struct mv_agent_row *row;
};

struct mv_agent_opts {
	const char *uri;      /* NULL: libvirt's default */
	uint64_t interval_ns; /* between decisions (1 s) */
	uint64_t sample_ns;   /* active-memory sampling period (30 s) */
	uint64_t duration_ns; /* 0: until SIGINT/SIGTERM */
	int once, dry_run, restore_on_exit;
	uint64_t host_memory_kib; /* 0: the host's own /proc/meminfo */
	FILE *json_log;           /* NULL: none */
	const char *ksm_dir;      /* KSM's sysfs directory */
	const char *pid_dir;      /* where libvirt keeps QEMU's NAME.pid */
	const char *meminfo;      /* /proc/meminfo */
	struct mv_agent_config cfg;
	volatile sig_atomic_t *stop; /* set by a signal: finish and exit */
	FILE *summary;               /* the summary on exit (stdout) */
	/* called after each interval (the --top screen); may set *stop */
	void (*on_interval)(void *ctx, const struct mv_agent_view *v);
	void *ctx;
};

void mv_agent_opts_default(struct mv_agent_opts *o);

/*
 * Run the agent until --once, --duration or *stop. 0 when it ran; -1
 * when it could not start (msg: one line, e.g. the URI is unreachable):
 * the caller exits 2.
 */
int mv_agent_run(const struct mv_agent_opts *o, char *msg, size_t msgn);

struct mv_record_opts {
	const char *uri;
	uint64_t interval_ns;
	uint64_t duration_ns;
	uint64_t host_memory_kib; /* 0: MemTotal */
	uint64_t sample_ns; /* the agent's --sample-period (0: its 30 s) */
	const char *output; /* the scenario; series beside it */
	const char *ksm_dir;
	const char *meminfo;
	const char *pid_dir; /* QEMU's NAME.pid (guest RAM's RSS); NULL: none */
	/* the JSON log of an agent running beside the recording: the
	 * accessed fractions it measured; NULL: record measures them itself
	 * (clear_refs and smaps' Referenced, every sample_ns) */
	const char *agent_log;
	volatile sig_atomic_t *stop;
};

/*
 * Of n samples at t_ms (ms since the epoch) whose stats reports were made
 * at stats_s (QEMU's last_update, whole seconds; 0: not reported), the
 * first whose report is not from before the first sample (a second after
 * stats_s still later than t_ms[0]); 0 when none says its time (or none
 * is). `record` takes the use of the samples before it from it.
 */
size_t mv_record_fresh_row(const uint64_t *t_ms, const uint64_t *stats_s,
			   size_t n);

/*
 * Of n stats reports made at stats_s (whole seconds; 0: not reported, and
 * none after it counts), the index of the one made nearest t_ms (ms since
 * the epoch), a report of second s taken as made at s + 0.5 s; the lower
 * of equals; 0 when none says its time. `record` takes a sample's use
 * from the report nearest it among its own and the next three: a report
 * is up to a stats period older than the sample that reads it, so a guest
 * that stopped using memory shows it up to that period late otherwise.
 */
size_t mv_record_nearest_report(uint64_t t_ms, const uint64_t *stats_s,
				size_t n);

/*
 * The access rate (page accesses per second, uniform over the set) with
 * which a usage workload's sampler sees what was measured: in each of n
 * periods of period_s, accessed[i] pages of the guest's RAM had their
 * accessed bit set while its workload's set held set[i] pages. Uniform
 * accesses at rate r touch set (1 - exp(-r T / set)) distinct pages in
 * T, so each period alone gives r_i = set / T * -ln(1 - accessed / set),
 * with accessed at most set^2 / (set + 1) (every page of the set touched
 * in the period, but for one page's worth). Of those, the rate whose
 * touched pages are nearest the measured ones over all periods (least
 * sum of absolute differences; the lower of equals): a guest busy for
 * part of the recording and idle after keeps the rate of its busy part,
 * whose many pages the idle part's rate would leave unseen. Periods whose
 * set is empty give no candidate; 0 when none does.
 */
double mv_record_access_rate(const double *accessed, const double *set,
			     size_t n, double period_s);

/*
 * The replay's <sampling phase>, ms: when its first period should end so
 * that its periods end when the measured ones did. end_ms[0..n) are the
 * ends of measured periods (ms since the epoch, any order), t0_ms the
 * recording's first sample, the replay's time 0. The first end after t0
 * fixes the grid; its distance from t0 modulo the period is rounded to the
 * replay's step. 0 (no phase: the periods end at period, 2 period, ...)
 * when nothing was measured after t0 or the grid is that one already.
 */
uint64_t mv_record_sampling_phase(const uint64_t *end_ms, size_t n,
				  uint64_t t0_ms, uint64_t period_ms,
				  uint64_t step_ms);

/*
 * Record the running guests for duration (or until *stop) and write the
 * scenario and its series. 0; -1 before anything ran (msg: exit 2); -2 a
 * failure writing (msg: exit 1).
 */
int mv_record_run(const struct mv_record_opts *o, char *msg, size_t msgn);

#endif
