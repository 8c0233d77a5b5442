/*
 * virt.h - the agent's view of libvirt (agent layer; the only file that
 * includes libvirt's headers). A connection that reopens itself with a
 * backoff, and per domain the figures the policy needs, read with
 * libvirt's C API.
 */
#ifndef MEMVISOR_AGENT_VIRT_H
#define MEMVISOR_AGENT_VIRT_H

#include <stdint.h>

struct mv_virt;

/*
 * Open uri (NULL: libvirt's default). 0, or -1 with msg filled (one line,
 * libvirt's own reason). libvirt's errors are kept quiet on stderr: the
 * caller logs what matters.
 */
int mv_virt_open(const char *uri, struct mv_virt **out, char *msg, size_t msgn);
void mv_virt_close(struct mv_virt *v);

/*
 * Is the connection alive? If not, try to reopen it, at most once per
 * backoff (1 s doubling to 30 s, from now_s); 1 alive, 0 not (yet). *event
 * is set to "connection-lost", "reconnected" or "reconnect-failed" when
 * something happened (NULL otherwise), msg to libvirt's reason.
 */
int mv_virt_check(struct mv_virt *v, double now_s, const char **event,
		  char *msg, size_t msgn);

/* One running domain, as the agent reads it each interval. KiB. */
struct mv_virt_dom {
	char name[128];
	char uuid[40];
	int id;
	uint64_t max_kib;    /* virDomainGetInfo maxMem */
	uint64_t actual_kib; /* balloon actual (stats), else info memory */
	/* balloon stats (virDomainMemoryStats); have_* says which came */
	int stats_ok;
	int have_unused, have_available, have_usable, have_rss;
	uint64_t unused, available, usable, disk_caches, swap_in, swap_out,
		major_fault, minor_fault, rss;
	uint64_t last_update; /* the stats report's time, s since the epoch
				 (QEMU's; 0: not reported) */
	/* <memtune>: 0 = not set (unlimited) */
	uint64_t hard_limit, soft_limit, min_guarantee;
	int memtune_ok;
	uint64_t shares; /* memvisor metadata; 0 = not set */
	char err[200];   /* the last failed read, for the log */
};

/* Opaque handle of a listed domain (a virDomainPtr). */
struct mv_virt_list {
	int n;
	void **dom;
};

/* The running domains; 0, or -1 with msg. Free with mv_virt_list_free. */
int mv_virt_list(struct mv_virt *v, struct mv_virt_list *l, char *msg,
		 size_t msgn);
void mv_virt_list_free(struct mv_virt_list *l);

/* Name and UUID of domain i; 0 or -1. */
int mv_virt_ident(struct mv_virt_list *l, int i, struct mv_virt_dom *d);
/* Everything else of domain i: 0, or -1 with d->err (what failed). A
 * failed stats read is not a failure of the whole: stats_ok says. */
int mv_virt_read(struct mv_virt_list *l, int i, struct mv_virt_dom *d);

/*
 * The domain's XML: live, or the persistent definition (inactive) when
 * there is one and `inactive` is set. malloc'd, NULL on failure.
 */
char *mv_virt_xml(struct mv_virt_list *l, int i, int inactive);

/* The balloon's stats period from the live XML (<stats period>; 0 if not
 * given); *has_balloon 1 if it has a balloon (model not 'none'). */
int mv_virt_balloon_info(const char *xml, int *has_balloon);
/* <currentMemory> of a domain XML in KiB; 0 if absent. */
uint64_t mv_virt_current_memory(const char *xml);

/* The same two calls on the running domain with this UUID (on exit, when
 * the interval's list is gone); 0 or -1 with msg. */
int mv_virt_set_memory_uuid(struct mv_virt *v, const char *uuid, uint64_t kib,
			    char *msg, size_t msgn);
int mv_virt_set_period_uuid(struct mv_virt *v, const char *uuid, int period_s,
			    char *msg, size_t msgn);

/* virDomainSetMemoryStatsPeriod (live); 0 or -1 with msg. */
int mv_virt_set_period(struct mv_virt_list *l, int i, int period_s, char *msg,
		       size_t msgn);
/* virDomainSetMemoryFlags(VIR_DOMAIN_AFFECT_LIVE); 0 or -1 with msg. */
int mv_virt_set_memory(struct mv_virt_list *l, int i, uint64_t kib, char *msg,
		       size_t msgn);

#endif
