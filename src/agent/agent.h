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
	volatile sig_atomic_t *stop;
};

/*
 * Record the running guests for duration (or until *stop) and write the
 * scenario and its series. 0; -1 before anything ran (msg: exit 2); -2 a
 * failure writing (msg: exit 1).
 */
int mv_record_run(const struct mv_record_opts *o, char *msg, size_t msgn);

#endif
