/*
 * hostio.c - the host's own files the agent reads and writes.
 *
 * Host free memory: /proc/meminfo's MemAvailable (the kernel's estimate of
 * what can be allocated without swapping), and MemFree + Buffers + Cached
 * for ksmtuned's rule, which reads those.
 *
 * Active memory, measured from the host as ESX does (Waldspurger 2002,
 * section 5.3) and MOM does not: per QEMU process, writing 1 to
 * /proc/PID/clear_refs clears the accessed bit of every page of the
 * process; /proc/PID/smaps' Referenced for the guest RAM mapping then
 * counts the pages accessed since. QEMU's guest RAM is its one big
 * anonymous (or memfd) mapping, as big as the domain's memory; matching
 * on size finds it among the process's other mappings. The fraction
 * Referenced / size over a sampling period is what ESX's sampler's
 * touched / n estimates, and it goes into the same estimator
 * (mv_active_fold, mv_active_estimate). Under TCG, QEMU touches guest
 * RAM through these page tables, so the bits see every guest access.
 * Under KVM with EPT/NPT a guest access sets the accessed bit of KVM's
 * secondary page table, which clear_refs does not clear and smaps does
 * not read: docs/agent.md says what that means.
 *
 * KSM: the knobs (run, pages_to_scan, sleep_millisecs) are read when the
 * agent starts and every one it writes is written back on exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/hostio.h"

int mv_agent_meminfo_read(const char *path, struct mv_agent_meminfo *m)
{
	memset(m, 0, sizeof *m);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char line[256];
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"MemTotal:", offsetof(struct mv_agent_meminfo, total)},
		{"MemAvailable:", offsetof(struct mv_agent_meminfo, available)},
		{"MemFree:", offsetof(struct mv_agent_meminfo, free)},
		{"Buffers:", offsetof(struct mv_agent_meminfo, buffers)},
		{"Cached:", offsetof(struct mv_agent_meminfo, cached)},
	};
	while (fgets(line, sizeof line, f))
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			size_t n = strlen(keys[i].key);
			if (strncmp(line, keys[i].key, n) == 0)
				*(uint64_t *)((char *)m +
					      keys[i].off) = strtoull(line + n,
								      NULL, 10);
		}
	fclose(f);
	return m->total ? 0 : -EINVAL;
}

int mv_agent_pidfile_read(const char *dir, const char *name, pid_t *pid)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s.pid", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	long v = 0;
	int ok = fscanf(f, "%ld", &v) == 1 && v > 0;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

int mv_agent_rss_read(pid_t pid, uint64_t *kib)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int rc = -EINVAL;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			*kib = strtoull(line + 6, NULL, 10);
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* A mapping header: "start-end perms offset dev inode [path]". */
static int parse_header(const char *line, uint64_t *size_kib, int *anon)
{
	unsigned long long a, b, ino;
	char perms[8];
	int n = 0;
	if (sscanf(line, "%llx-%llx %7s %*s %*s %llu %n", &a, &b, perms, &ino,
		   &n) < 4)
		return 0;
	const char *path = line + n;
	*size_kib = (b - a) / 1024;
	/* no file behind it: anonymous, or a memfd (memory-backend-memfd) */
	*anon = ino == 0 ? (path[0] == '\n' || path[0] == '\0')
			 : strncmp(path, "/memfd:", 7) == 0;
	return 1;
}

int mv_agent_refs_read(pid_t pid, uint64_t guest_kib, uint64_t *size_kib,
		       uint64_t *referenced_kib)
{
	return mv_agent_guest_ram_read(pid, guest_kib, "Referenced:", size_kib,
				       referenced_kib);
}

int mv_agent_guest_ram_read(pid_t pid, uint64_t guest_kib, const char *field,
			    uint64_t *size_kib, uint64_t *value_kib)
{
	size_t flen = strlen(field);
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%ld/smaps", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	uint64_t cur_size = 0, best_size = 0, best_ref = 0, big_size = 0,
		 big_ref = 0;
	int cur_anon = 0, have_best = 0;
	while (fgets(line, sizeof line, f)) {
		uint64_t sz;
		int anon;
		if (line[0] != ' ' && strchr(line, '-') &&
		    parse_header(line, &sz, &anon)) {
			cur_size = sz;
			cur_anon = anon;
			continue;
		}
		if (!cur_anon || strncmp(line, field, flen) != 0)
			continue;
		uint64_t ref = strtoull(line + flen, NULL, 10);
		if (cur_size >= guest_kib &&
		    (!have_best || cur_size < best_size)) {
			best_size = cur_size;
			best_ref = ref;
			have_best = 1;
		}
		if (cur_size > big_size) {
			big_size = cur_size;
			big_ref = ref;
		}
	}
	fclose(f);
	/* closest to the guest's size, within 1/8 of it (alignment, a
	 * guard page); else the largest */
	if (have_best && best_size - guest_kib <= guest_kib / 8) {
		*size_kib = best_size;
		*value_kib = best_ref;
		return 0;
	}
	if (!big_size)
		return -ENOENT;
	*size_kib = big_size;
	*value_kib = big_ref;
	return 0;
}

int mv_agent_refs_clear(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/clear_refs", (long)pid);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return rc;
}

static const char *const knob_names[MV_KSM_KNOB_COUNT] = {
	"run", "pages_to_scan", "sleep_millisecs"};

const char *mv_ksm_knob_name(enum mv_ksm_knob k)
{
	return (unsigned)k < MV_KSM_KNOB_COUNT ? knob_names[k] : "?";
}

static int read_u64(const char *dir, const char *name, uint64_t *v)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int write_u64(const char *dir, const char *name, uint64_t v)
{
	char path[512], buf[32];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", v);
	int rc = write(fd, buf, (size_t)n) == n ? 0 : -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int mv_ksm_open(struct mv_ksm *k, const char *dir)
{
	memset(k, 0, sizeof *k);
	snprintf(k->dir, sizeof k->dir, "%s", dir);
	for (int i = 0; i < MV_KSM_KNOB_COUNT; i++) {
		int rc = read_u64(dir, knob_names[i], &k->saved[i]);
		if (rc)
			return rc;
		k->value[i] = k->saved[i];
	}
	k->present = 1;
	return 0;
}

int mv_ksm_counters_read(const struct mv_ksm *k, struct mv_ksm_counters *c)
{
	memset(c, 0, sizeof *c);
	if (!k->present)
		return -ENOENT;
	int rc = read_u64(k->dir, "pages_shared", &c->pages_shared);
	if (!rc)
		rc = read_u64(k->dir, "pages_sharing", &c->pages_sharing);
	if (!rc)
		rc = read_u64(k->dir, "pages_unshared", &c->pages_unshared);
	if (!rc)
		rc = read_u64(k->dir, "pages_volatile", &c->pages_volatile);
	if (!rc)
		rc = read_u64(k->dir, "full_scans", &c->full_scans);
	return rc;
}

int mv_ksm_set(struct mv_ksm *k, enum mv_ksm_knob knob, uint64_t v)
{
	if (!k->present)
		return -ENOENT;
	if (k->value[knob] == v)
		return 0;
	/* marked before the write: a write that failed half-way is put
	 * back too */
	k->changed[knob] = 1;
	int rc = write_u64(k->dir, knob_names[knob], v);
	if (!rc)
		k->value[knob] = v;
	return rc;
}

int mv_ksm_restore(struct mv_ksm *k)
{
	int first = 0;
	/* run last: the scan rate is back before KSM starts again */
	for (int i = MV_KSM_KNOB_COUNT - 1; i >= 0; i--) {
		if (!k->changed[i])
			continue;
		int rc = write_u64(k->dir, knob_names[i], k->saved[i]);
		if (rc && !first)
			first = rc;
		if (!rc) {
			k->value[i] = k->saved[i];
			k->changed[i] = 0;
		}
	}
	return first;
}
