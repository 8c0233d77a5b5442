/*
 * virt.c - libvirt, through its C API (libvirt-dev), for the agent.
 *
 * Per interval the agent lists the running domains
 * (virConnectListAllDomains) and reads of each: virDomainGetInfo (its
 * <memory>, the balloon's size), virDomainMemoryStats (the balloon
 * driver's statistics: actual, unused, available, usable, disk_caches,
 * swap in/out, faults, and the QEMU process's RSS as libvirt reads it),
 * virDomainGetMemoryParameters (<memtune>), virDomainGetMetadata
 * (memvisor's <mv:memvisor><mv:shares> in urn:memvisor:domain:1, as the
 * scenario format has it, docs/scenario.md). It changes a guest with
 * virDomainSetMemoryFlags(VIR_DOMAIN_AFFECT_LIVE) (the balloon target)
 * and virDomainSetMemoryStatsPeriod (how often the guest reports).
 *
 * All of this works unchanged on qemu:///system and on libvirt's test
 * driver (test:///default, or test:///FILE with a <node> of domains),
 * which runs in-process: that is what the tests drive. libvirt's default
 * error handler prints to stderr; it is replaced by a silent one and each
 * failure is reported by the agent, once, in its log.
 *
 * Reconnection: a connection whose daemon went away reads as not alive
 * (virConnectIsAlive, after the failed call); the next check closes it
 * and tries to reopen it, then waits 1 s, 2 s, 4 s ... up to 30 s between
 * attempts, so a restarting libvirtd is picked up within 30 s of its
 * return without a busy loop while it is down.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/virt.h"

#define MV_NS "urn:memvisor:domain:1"

struct mv_virt {
	char *uri;
	virConnectPtr conn;
	double next_try_s, backoff_s;
};

static void quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static void last_error(char *msg, size_t n)
{
	const char *m = virGetLastErrorMessage();
	snprintf(msg, n, "%s", m && *m ? m : "unknown libvirt error");
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

int mv_virt_open(const char *uri, struct mv_virt **out, char *msg, size_t msgn)
{
	virSetErrorFunc(NULL, quiet);
	struct mv_virt *v = calloc(1, sizeof *v);
	if (!v) {
		snprintf(msg, msgn, "out of memory");
		return -1;
	}
	v->uri = uri ? strdup(uri) : NULL;
	v->conn = virConnectOpen(uri);
	if (!v->conn) {
		last_error(msg, msgn);
		free(v->uri);
		free(v);
		return -1;
	}
	v->backoff_s = 1;
	*out = v;
	return 0;
}

void mv_virt_close(struct mv_virt *v)
{
	if (!v)
		return;
	if (v->conn)
		virConnectClose(v->conn);
	free(v->uri);
	free(v);
}

int mv_virt_check(struct mv_virt *v, double now_s, const char **event,
		  char *msg, size_t msgn)
{
	*event = NULL;
	if (v->conn && virConnectIsAlive(v->conn) == 1)
		return 1;
	if (v->conn) {
		virConnectClose(v->conn);
		v->conn = NULL;
		v->backoff_s = 1;
		v->next_try_s = now_s;
		*event = "connection-lost";
		snprintf(msg, msgn, "the connection to %s is gone",
			 v->uri ? v->uri : "libvirt");
	}
	if (now_s < v->next_try_s)
		return 0;
	v->conn = virConnectOpen(v->uri);
	if (v->conn) {
		*event = "reconnected";
		snprintf(msg, msgn, "reconnected to %s",
			 v->uri ? v->uri : "libvirt");
		v->backoff_s = 1;
		return 1;
	}
	if (!*event) {
		*event = "reconnect-failed";
		last_error(msg, msgn);
	}
	v->next_try_s = now_s + v->backoff_s;
	v->backoff_s = v->backoff_s * 2 > 30 ? 30 : v->backoff_s * 2;
	return 0;
}

int mv_virt_list(struct mv_virt *v, struct mv_virt_list *l, char *msg,
		 size_t msgn)
{
	memset(l, 0, sizeof *l);
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(v->conn, &doms,
					 VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (n < 0) {
		last_error(msg, msgn);
		return -1;
	}
	l->n = n;
	l->dom = (void **)doms;
	return 0;
}

void mv_virt_list_free(struct mv_virt_list *l)
{
	for (int i = 0; i < l->n; i++)
		virDomainFree(l->dom[i]);
	free(l->dom);
	memset(l, 0, sizeof *l);
}

int mv_virt_ident(struct mv_virt_list *l, int i, struct mv_virt_dom *d)
{
	virDomainPtr dom = l->dom[i];
	memset(d, 0, sizeof *d);
	const char *name = virDomainGetName(dom);
	if (!name || virDomainGetUUIDString(dom, d->uuid) < 0)
		return -1;
	snprintf(d->name, sizeof d->name, "%s", name);
	d->id = (int)virDomainGetID(dom);
	return 0;
}

/* <mv:shares> in memvisor's metadata: low/normal/high = 5/10/20 per MiB
 * of memory, or a number of shares; 0 if absent or unreadable. */
static uint64_t parse_shares(const char *xml, uint64_t max_kib)
{
	xmlDocPtr doc = xmlReadMemory(
		xml, (int)strlen(xml), "metadata.xml", NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return 0;
	uint64_t shares = 0;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next) {
		/* libvirt hands the element back without its namespace */
		if (c->type != XML_ELEMENT_NODE ||
		    (c->ns && strcmp((const char *)c->ns->href, MV_NS)) ||
		    strcmp((const char *)c->name, "shares"))
			continue;
		xmlChar *t = xmlNodeGetContent(c);
		const char *s = (const char *)t;
		uint64_t mib = max_kib / 1024;
		if (!s)
			break;
		while (*s == ' ' || *s == '\n' || *s == '\t')
			s++;
		if (!strncmp(s, "low", 3))
			shares = 5 * mib;
		else if (!strncmp(s, "normal", 6))
			shares = 10 * mib;
		else if (!strncmp(s, "high", 4))
			shares = 20 * mib;
		else
			shares = strtoull(s, NULL, 10);
		xmlFree(t);
		break;
	}
	xmlFreeDoc(doc);
	return shares;
}

static void read_memtune(virDomainPtr dom, struct mv_virt_dom *d)
{
	int n = 0;
	if (virDomainGetMemoryParameters(dom, NULL, &n, 0) < 0 || n <= 0)
		return;
	virTypedParameterPtr p = calloc((size_t)n, sizeof *p);
	if (!p)
		return;
	if (virDomainGetMemoryParameters(dom, p, &n, 0) == 0) {
		unsigned long long v;
		d->memtune_ok = 1;
		if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_MEMORY_HARD_LIMIT,
					    &v) == 1 &&
		    v != VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
			d->hard_limit = v;
		if (virTypedParamsGetULLong(p, n, VIR_DOMAIN_MEMORY_SOFT_LIMIT,
					    &v) == 1 &&
		    v != VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
			d->soft_limit = v;
		if (virTypedParamsGetULLong(
			    p, n, VIR_DOMAIN_MEMORY_MIN_GUARANTEE, &v) == 1 &&
		    v != VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)
			d->min_guarantee = v;
	}
	virTypedParamsClear(p, n);
	free(p);
}

int mv_virt_read(struct mv_virt_list *l, int i, struct mv_virt_dom *d)
{
	virDomainPtr dom = l->dom[i];
	/* everything but the identity is read anew */
	struct mv_virt_dom id = *d;
	memset(d, 0, sizeof *d);
	memcpy(d->name, id.name, sizeof d->name);
	memcpy(d->uuid, id.uuid, sizeof d->uuid);
	d->id = id.id;
	virDomainInfo info;
	if (virDomainGetInfo(dom, &info) < 0) {
		last_error(d->err, sizeof d->err);
		return -1;
	}
	d->max_kib = info.maxMem;
	d->actual_kib = info.memory;

	virDomainMemoryStatStruct st[VIR_DOMAIN_MEMORY_STAT_NR];
	int n = virDomainMemoryStats(dom, st, VIR_DOMAIN_MEMORY_STAT_NR, 0);
	if (n < 0) {
		last_error(d->err, sizeof d->err);
	} else {
		d->stats_ok = 1;
		for (int k = 0; k < n; k++) {
			uint64_t v = st[k].val;
			switch (st[k].tag) {
			case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
				d->actual_kib = v;
				break;
			case VIR_DOMAIN_MEMORY_STAT_UNUSED:
				d->unused = v;
				d->have_unused = 1;
				break;
			case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
				d->available = v;
				d->have_available = 1;
				break;
			case VIR_DOMAIN_MEMORY_STAT_USABLE:
				d->usable = v;
				d->have_usable = 1;
				break;
			case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES:
				d->disk_caches = v;
				break;
			case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
				d->swap_in = v;
				break;
			case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
				d->swap_out = v;
				break;
			case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT:
				d->major_fault = v;
				break;
			case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT:
				d->minor_fault = v;
				break;
			case VIR_DOMAIN_MEMORY_STAT_RSS:
				d->rss = v;
				d->have_rss = 1;
				break;
			case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
				d->last_update = v;
				break;
			default:
				break;
			}
		}
	}
	read_memtune(dom, d);
	char *md = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, MV_NS,
					VIR_DOMAIN_AFFECT_LIVE);
	if (md) {
		d->shares = parse_shares(md, d->max_kib);
		free(md);
	}
	return 0;
}

char *mv_virt_xml(struct mv_virt_list *l, int i, int inactive)
{
	virDomainPtr dom = l->dom[i];
	unsigned flags = 0;
	if (inactive && virDomainIsPersistent(dom) == 1)
		flags = VIR_DOMAIN_XML_INACTIVE;
	return virDomainGetXMLDesc(dom, flags);
}

static xmlDocPtr read_xml(const char *xml)
{
	return xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR |
				     XML_PARSE_NOWARNING);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

int mv_virt_balloon_info(const char *xml, int *has_balloon)
{
	*has_balloon = 0;
	xmlDocPtr doc = read_xml(xml);
	if (!doc)
		return 0;
	xmlNodePtr b = child(child(xmlDocGetRootElement(doc), "devices"),
			     "memballoon");
	int period = 0;
	if (b) {
		xmlChar *model = xmlGetProp(b, (const xmlChar *)"model");
		*has_balloon = !model || strcmp((const char *)model, "none");
		xmlFree(model);
		xmlNodePtr s = child(b, "stats");
		xmlChar *p = s ? xmlGetProp(s, (const xmlChar *)"period")
			       : NULL;
		if (p)
			period = atoi((const char *)p);
		xmlFree(p);
	}
	xmlFreeDoc(doc);
	return period;
}

uint64_t mv_virt_current_memory(const char *xml)
{
	xmlDocPtr doc = read_xml(xml);
	if (!doc)
		return 0;
	xmlNodePtr c = child(xmlDocGetRootElement(doc), "currentMemory");
	uint64_t kib = 0;
	if (c) {
		xmlChar *t = xmlNodeGetContent(c);
		xmlChar *u = xmlGetProp(c, (const xmlChar *)"unit");
		uint64_t v = t ? strtoull((const char *)t, NULL, 10) : 0;
		/* libvirt writes KiB; other units scaled */
		const char *unit = u ? (const char *)u : "KiB";
		if (!strcmp(unit, "KiB") || !strcmp(unit, "k") ||
		    !strcmp(unit, "K"))
			kib = v;
		else if (!strcmp(unit, "MiB") || !strcmp(unit, "M"))
			kib = v * 1024;
		else if (!strcmp(unit, "GiB") || !strcmp(unit, "G"))
			kib = v * 1024 * 1024;
		else if (!strcmp(unit, "b") || !strcmp(unit, "bytes"))
			kib = v / 1024;
		xmlFree(t);
		xmlFree(u);
	}
	xmlFreeDoc(doc);
	return kib;
}

static int set_period(virDomainPtr dom, int period_s, char *msg, size_t n)
{
	if (virDomainSetMemoryStatsPeriod(dom, period_s,
					  VIR_DOMAIN_AFFECT_LIVE) < 0) {
		last_error(msg, n);
		return -1;
	}
	return 0;
}

static int set_memory(virDomainPtr dom, uint64_t kib, char *msg, size_t n)
{
	if (virDomainSetMemoryFlags(dom, (unsigned long)kib,
				    VIR_DOMAIN_AFFECT_LIVE) < 0) {
		last_error(msg, n);
		return -1;
	}
	return 0;
}

int mv_virt_set_period(struct mv_virt_list *l, int i, int period_s, char *msg,
		       size_t msgn)
{
	return set_period(l->dom[i], period_s, msg, msgn);
}

int mv_virt_set_memory(struct mv_virt_list *l, int i, uint64_t kib, char *msg,
		       size_t msgn)
{
	return set_memory(l->dom[i], kib, msg, msgn);
}

static virDomainPtr by_uuid(struct mv_virt *v, const char *uuid, char *msg,
			    size_t n)
{
	virDomainPtr d = v->conn ? virDomainLookupByUUIDString(v->conn, uuid)
				 : NULL;
	if (!d)
		last_error(msg, n);
	return d;
}

int mv_virt_set_memory_uuid(struct mv_virt *v, const char *uuid, uint64_t kib,
			    char *msg, size_t msgn)
{
	virDomainPtr d = by_uuid(v, uuid, msg, msgn);
	if (!d)
		return -1;
	int rc = set_memory(d, kib, msg, msgn);
	virDomainFree(d);
	return rc;
}

int mv_virt_set_period_uuid(struct mv_virt *v, const char *uuid, int period_s,
			    char *msg, size_t msgn)
{
	virDomainPtr d = by_uuid(v, uuid, msg, msgn);
	if (!d)
		return -1;
	int rc = set_period(d, period_s, msg, msgn);
	virDomainFree(d);
	return rc;
}
