/*
 * hostio.h - what the agent reads and writes on the host itself, outside
 * libvirt: /proc/meminfo, a QEMU process's RSS and the accessed bits of its
 * guest RAM, KSM's sysfs (agent layer). No DAMON: that sysfs is one
 * system-wide interface other software on a host already uses.
 */
#ifndef MEMVISOR_AGENT_HOSTIO_H
#define MEMVISOR_AGENT_HOSTIO_H

#include <stdint.h>
#include <sys/types.h>

/* /proc/meminfo's figures the agent uses, in KiB. */
struct mv_agent_meminfo {
	uint64_t total, available, free, buffers, cached;
};

/* Read path (/proc/meminfo); 0, or -errno. */
int mv_agent_meminfo_read(const char *path, struct mv_agent_meminfo *m);

/* The PID in dir/NAME.pid (libvirt's QEMU driver writes it); 0 or -errno. */
int mv_agent_pidfile_read(const char *dir, const char *name, pid_t *pid);

/* VmRSS of /proc/PID/status in KiB; 0 or -errno. */
int mv_agent_rss_read(pid_t pid, uint64_t *kib);

/*
 * The guest RAM mapping of QEMU process pid in /proc/PID/smaps: the
 * mapping whose size is closest to guest_kib among those at least that
 * big and without a file (anonymous or memfd), else the largest such one.
 * Its size and Referenced, in KiB. 0, -ENOENT (no such mapping), -errno.
 */
int mv_agent_refs_read(pid_t pid, uint64_t guest_kib, uint64_t *size_kib,
		       uint64_t *referenced_kib);
/*
 * The same mapping's smaps line `field` (with its colon: "Rss:",
 * "Referenced:"), in KiB; mv_agent_refs_read is this with "Referenced:".
 */
int mv_agent_guest_ram_read(pid_t pid, uint64_t guest_kib, const char *field,
			    uint64_t *size_kib, uint64_t *value_kib);
/* Clear the process's accessed bits (write 1 to /proc/PID/clear_refs). */
int mv_agent_refs_clear(pid_t pid);

/* KSM's tunables the agent may set, as in sysfs. */
enum mv_ksm_knob {
	MV_KSM_RUN = 0,
	MV_KSM_PAGES_TO_SCAN,
	MV_KSM_SLEEP_MILLISECS,
	MV_KSM_KNOB_COUNT
};

/* KSM's counters (sysfs names), read each interval. */
struct mv_ksm_counters {
	uint64_t pages_shared, pages_sharing, pages_unshared, pages_volatile,
		full_scans;
};

/*
 * KSM's sysfs directory: each knob's value when opened, so that whatever
 * the agent changes goes back on mv_ksm_restore.
 */
struct mv_ksm {
	char dir[256];
	int present;                       /* the directory was readable */
	uint64_t saved[MV_KSM_KNOB_COUNT]; /* values before the agent */
	uint64_t value[MV_KSM_KNOB_COUNT]; /* values now */
	int changed[MV_KSM_KNOB_COUNT];    /* the agent wrote it */
};

const char *mv_ksm_knob_name(enum mv_ksm_knob k);
/* Read dir's knobs (dir: /sys/kernel/mm/ksm); 0, or -errno (present 0). */
int mv_ksm_open(struct mv_ksm *k, const char *dir);
int mv_ksm_counters_read(const struct mv_ksm *k, struct mv_ksm_counters *c);
/* Write a knob if its value differs; 0 or -errno. */
int mv_ksm_set(struct mv_ksm *k, enum mv_ksm_knob knob, uint64_t v);
/* Put back every knob the agent changed; 0, or the first -errno. */
int mv_ksm_restore(struct mv_ksm *k);

#endif
