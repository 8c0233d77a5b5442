/*
 * scenario.c - loading a scenario: one host, its VMs, their guests and
 * workloads, from XML (docs/scenario.md is the user's reference).
 *
 * VMs are described the way operators already describe them: libvirt
 * domain XML exactly as `virsh dumpxml` prints it, inline or in a file of
 * its own (src/sim/domain.c), or a VMware .vmx file (src/sim/vmx.c). The
 * host and the workloads (src/sim/workloads.c) are memvisor's own
 * elements; there an unknown element or attribute is an error, to catch
 * typos. Their attributes are read from property tables (src/sim/xmlattr.c).
 *
 * Errors name the file, the line of the element at fault and a field the
 * user recognises ("memtune/hard_limit", "workload/size"), and the loader
 * stops at the first one. Documents are read safely (xmlattr.h): no
 * network, no entities, nothing printed.
 *
 * Loading goes: parse the <scenario> attributes, the one <host>, then each
 * <vm> in order (its domain, its metadata, its workloads, its clones), and
 * validates each VM through mv_vm_config_check and
 * mv_workload_config_check, the same rules every VM source obeys.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "memvisor/image.h"
#include "memvisor/sim.h"
#include "sim/loader.h"
#include "sim/readers.h"

#define MAX_VMS 1024           /* VMs in one scenario */
#define MAX_VM_COUNT 256       /* clones from one <vm count=N> */
#define MAX_STEPS 100000000ull /* duration / step */
#define MAX_HOST_BYTES (1024 * MV_GIB)
#define MIN_HOST_BYTES (16 * MV_MIB)

struct loader {
	struct mv_scenario *sc;
	const char *base_dir;
	struct mv_error *err;
	size_t cap;     /* allocated entries of sc->vms */
	unsigned flags; /* MV_LOAD_* */
};

static int parse_host_memory(const struct mv_xsrc *s, const xmlNode *n,
			     struct mv_host_config *h)
{
	static const char *const allowed[] = {"unit", NULL};
	int rc = mv_xml_check_leaf(s, n, "host/memory", allowed);
	if (rc || (rc = mv_xml_size_elem(s, n, "host/memory", &h->mem_bytes)))
		return rc;
	if (h->mem_bytes < MIN_HOST_BYTES)
		return mv_xml_fail(s, n, "host/memory",
				   "must be at least 16 MiB");
	if (h->mem_bytes % MV_PAGE_SIZE)
		return mv_xml_fail(s, n, "host/memory",
				   "must be a multiple of 4 KiB");
	if (h->mem_bytes > MAX_HOST_BYTES)
		return mv_xml_fail(s, n, "host/memory",
				   "must be at most 1 TiB");
	return 0;
}

/*
 * <hugepages size="2M" count="N"/>: the host's hugetlbfs pool, N 2 MiB
 * pages reserved at boot (vm.nr_hugepages; docs/largepages.md). Only the
 * x86 2 MiB size is modelled (1 GiB pages are not).
 */
static int parse_hugepages(const struct mv_xsrc *s, const xmlNode *n,
			   struct mv_host_config *h)
{
	static const char *const allowed[] = {"size", "count", NULL};
	int rc = mv_xml_check_leaf(s, n, "host/hugepages", allowed);
	if (rc)
		return rc;
	const char *v = mv_xml_attr(n, "size");
	uint64_t b;
	if (v && (mv_parse_size(v, NULL, MV_KIB, &b) != 0 ||
		  b != MV_RUN_FRAMES * MV_PAGE_SIZE))
		return mv_xml_fail(s, n, "host/hugepages/size",
				   "'%s': only 2M pages are modelled", v);
	v = mv_xml_attr(n, "count");
	if (!v)
		return mv_xml_fail(s, n, "host/hugepages/count", "is required");
	if (mv_parse_u64(v, &h->hugepages) != 0)
		return mv_xml_fail(s, n, "host/hugepages/count",
				   "'%s' is not a number", v);
	h->hugepages_pool = 1;
	h->hugepages_line = mv_xml_line(n);
	return 0;
}

/* <budget unit=...>N</budget>: what the policy manages, <= memory */
static int parse_budget(const struct mv_xsrc *s, const xmlNode *n,
			struct mv_host_config *h)
{
	static const char *const allowed[] = {"unit", NULL};
	int rc = mv_xml_check_leaf(s, n, "host/budget", allowed);
	if (rc ||
	    (rc = mv_xml_size_elem(s, n, "host/budget", &h->budget_bytes)))
		return rc;
	if (h->budget_bytes < MIN_HOST_BYTES)
		return mv_xml_fail(s, n, "host/budget",
				   "must be at least 16 MiB");
	if (h->budget_bytes % MV_PAGE_SIZE)
		return mv_xml_fail(s, n, "host/budget",
				   "must be a multiple of 4 KiB");
	return 0;
}

/* <thresholds high soft hard low>: fractions of host memory, in order */
static int parse_thresholds(const struct mv_xsrc *s, const xmlNode *n,
			    struct mv_thresholds *t)
{
#define T(name, member)                                                        \
	MV_XPROP(name, MV_XP_FRACTION, struct mv_thresholds, member)
	static const struct mv_xprop props[] = {
		T("high", high),
		T("soft", soft),
		T("hard", hard),
		T("low", low),
		{0},
	};
#undef T
	int rc = mv_xml_check_props(s, n, "thresholds", props, NULL, 1);
	if (rc || (rc = mv_xml_props(s, n, "thresholds", props, t)))
		return rc;
	const double *val[4] = {&t->high, &t->soft, &t->hard, &t->low};
	int given[4];
	for (int i = 0; i < 4; i++)
		given[i] = mv_xml_attr(n, props[i].name) != NULL;
	if (!(t->low > 0))
		return mv_xml_fail(s, n, "thresholds/low",
				   "must be greater than 0");
	/* high > soft > hard > low: blame the one the user wrote */
	for (int i = 0; i < 3; i++) {
		if (*val[i] > *val[i + 1])
			continue;
		char field[32];
		if (given[i + 1] || !given[i]) {
			snprintf(field, sizeof field, "thresholds/%s",
				 props[i + 1].name);
			return mv_xml_fail(s, n, field,
					   "must be below %s (%g%%)",
					   props[i].name, *val[i] * 100);
		}
		snprintf(field, sizeof field, "thresholds/%s", props[i].name);
		return mv_xml_fail(s, n, field, "must be above %s (%g%%)",
				   props[i + 1].name, *val[i + 1] * 100);
	}
	return 0;
}

/* <latency zero-fill=... cow=...>: the simulated cost of each fault */
#define LAT(name, member)                                                      \
	MV_XPROP(name, MV_XP_DURATION, struct mv_latency, member)
static const struct mv_xprop latency_props[] = {
	LAT("zero-fill", zero_fill),     LAT("cow", cow),
	LAT("decompress", decompress),   LAT("swap-in-ssd", swapin_ssd),
	LAT("swap-in-hdd", swapin_hdd),  LAT("guest-major", guest_major),
	LAT("remote-numa", remote_numa), {0},
};
#undef LAT

/* <sharing enabled pages-to-scan sleep zero-pages hints page-cost
 * merge-across-nodes before-swap> */
#define SH(name, kind, member)                                                 \
	MV_XPROP(name, kind, struct mv_share_config, member)
static const struct mv_xprop sharing_props[] = {
	SH("enabled", MV_XP_BOOL, enabled),
	SH("pages-to-scan", MV_XP_PAGES, pages_to_scan),
	SH("sleep", MV_XP_DURATION, sleep_ns),
	SH("scan-time", MV_XP_DURATION, scan_time_ns),
	SH("zero-pages", MV_XP_BOOL, use_zero_pages),
	SH("hints", MV_XP_BOOL, hints),
	SH("page-cost", MV_XP_DURATION, page_cost_ns),
	SH("salting", MV_XP_U64, salting),
	SH("merge-across-nodes", MV_XP_BOOL, merge_across_nodes),
	SH("before-swap", MV_XP_BOOL, before_swap),
	{0},
};
#undef SH

/* <thp enabled defrag pages-to-scan scan-sleep max-ptes-none>: Linux's
 * transparent huge pages and khugepaged (docs/largepages.md) */
#define TH(name, kind, member)                                                 \
	MV_XPROP(name, kind, struct mv_thp_config, member)
static const struct mv_xprop thp_props[] = {
	TH("pages-to-scan", MV_XP_PAGES, pages_to_scan),
	TH("scan-sleep", MV_XP_DURATION, scan_sleep_ns),
	{0},
};
#undef TH

static int parse_thp(const struct mv_xsrc *s, const xmlNode *n,
		     struct mv_thp_config *t)
{
	static const char *const other[] = {"enabled", "defrag",
					    "max-ptes-none", NULL};
	int rc = mv_xml_check_props(s, n, "thp", thp_props, other, 1);
	if (rc || (rc = mv_xml_props(s, n, "thp", thp_props, t)))
		return rc;
	const char *v = mv_xml_attr(n, "enabled");
	if (v && mv_thp_enabled_parse(v, &t->enabled))
		return mv_xml_fail(s, n, "thp/enabled",
				   "unknown mode '%s' (always, madvise, "
				   "never)",
				   v);
	v = mv_xml_attr(n, "defrag");
	if (v && mv_thp_defrag_parse(v, &t->defrag))
		return mv_xml_fail(s, n, "thp/defrag",
				   "unknown mode '%s' (always, defer, "
				   "defer+madvise, madvise, never)",
				   v);
	v = mv_xml_attr(n, "max-ptes-none");
	uint64_t x;
	if (v) {
		if (mv_parse_u64(v, &x) != 0 || x >= MV_RUN_FRAMES)
			return mv_xml_fail(s, n, "thp/max-ptes-none",
					   "'%s' is not a number from 0 to "
					   "%u",
					   v, MV_RUN_FRAMES - 1);
		t->max_ptes_none = (uint32_t)x;
	}
	if (mv_xml_attr(n, "scan-sleep") && t->scan_sleep_ns < MV_NS_PER_MS)
		return mv_xml_fail(s, n, "thp/scan-sleep",
				   "must be at least 1ms");
	return 0;
}

/* The <host> children that are plain attribute lists of the reclaim
 * configuration: <compression>, <swap>, <balloon>, <reclaim>,
 * <idle-tax>. */
#define R(name, kind, member)                                                  \
	MV_XPROP(name, kind, struct mv_reclaim_config, member)
static const struct mv_xprop compression_props[] = {
	R("enabled", MV_XP_BOOL, compression),
	R("cache", MV_XP_FRACTION, zcache_fraction),
	{0},
};
static const struct mv_xprop swap_props[] = {
	R("dir", MV_XP_NAME, swap_dir),
	R("keep", MV_XP_BOOL, keep_swap),
	{0},
};
static const struct mv_xprop balloon_props[] = {
	R("max", MV_XP_FRACTION, balloon_max),
	{0},
};
static const struct mv_xprop reclaim_props[] = {
	R("enabled", MV_XP_BOOL, enabled),
	R("period", MV_XP_DURATION, balance_ns),
	R("on-state-change", MV_XP_BOOL, on_state_change),
	R("balloon-only", MV_XP_BOOL, balloon_only),
	{0},
};
static const struct mv_xprop large_pages_props[] = {
	R("enabled", MV_XP_BOOL, large_pages),
	{0},
};
static const struct mv_xprop idle_tax_props[] = {
	R("rate", MV_XP_FRACTION, idle_tax),
	{0},
};
#undef R

/* <sampling pages period>: the active-memory estimator (src/vm/sample.c),
 * ESX's sample size and period (Waldspurger 2002: 100 pages per 30 s). */
#define SA(name, kind, member)                                                 \
	MV_XPROP(name, kind, struct mv_active_config, member)
static const struct mv_xprop sampling_props[] = {
	SA("pages", MV_XP_PAGES, pages),
	SA("period", MV_XP_DURATION, period_ns),
	SA("phase", MV_XP_DURATION, phase_ns),
	{0},
};
#undef SA

/* Read leaf element n whose attributes are all in props into base. */
static int leaf_props(const struct mv_xsrc *s, const xmlNode *n,
		      const char *elem, const struct mv_xprop *props,
		      void *base)
{
	int rc = mv_xml_check_props(s, n, elem, props, NULL, 1);
	return rc ? rc : mv_xml_props(s, n, elem, props, base);
}

/* A tax rate (as written: v) of at most MV_IDLE_TAX_MAX. */
static int check_tax_max(const struct mv_xsrc *s, const xmlNode *n,
			 const char *field, const char *v, double rate)
{
	if (rate > MV_IDLE_TAX_MAX + 1e-12)
		return mv_xml_fail(s, n, field,
				   "'%s' is above 99%% (a 100%% tax would make "
				   "idle memory infinitely expensive)",
				   v);
	return 0;
}

/*
 * <idle-tax rate><change at rate/>...</idle-tax>: the tax at boot and the
 * times it is changed while the host runs (docs/scenario.md). Each change
 * needs both attributes, comes after the one before it and before the end
 * of the run, and keeps the rate at most 99%.
 */
static int parse_idle_tax(const struct mv_xsrc *s, const xmlNode *n,
			  struct mv_reclaim_config *r, uint64_t duration_ns)
{
	char d[32];
	static const char *const names[] = {"at", "rate", NULL};
	int rc = mv_xml_check_props(s, n, "idle-tax", idle_tax_props, NULL, 0);
	if (rc || (rc = mv_xml_props(s, n, "idle-tax", idle_tax_props, r)))
		return rc;
	r->ntax_changes = 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		if (!mv_xml_is_plain(c, "change"))
			return mv_xml_fail_unknown(s, c, "idle-tax");
		if ((rc = mv_xml_check_leaf(s, c, "change", names)))
			return rc;
		if (r->ntax_changes == MV_TAX_CHANGES_MAX)
			return mv_xml_fail(s, c, "idle-tax/change",
					   "more than %d changes",
					   MV_TAX_CHANGES_MAX);
		struct mv_tax_change *t = &r->tax_change[r->ntax_changes];
		const char *at = mv_xml_attr(c, "at");
		const char *rate = mv_xml_attr(c, "rate");
		if (!at)
			return mv_xml_fail(s, c, "change/at", "is required");
		if (!rate)
			return mv_xml_fail(s, c, "change/rate", "is required");
		if (mv_parse_duration(at, &t->at_ns) != 0 || t->at_ns == 0)
			return mv_xml_fail(s, c, "change/at",
					   "'%s' is not a positive duration",
					   at);
		if (r->ntax_changes &&
		    t->at_ns <= r->tax_change[r->ntax_changes - 1].at_ns)
			return mv_xml_fail(s, c, "change/at",
					   "'%s' is not after the change "
					   "before it",
					   at);
		if (t->at_ns >= duration_ns)
			return mv_xml_fail(
				s, c, "change/at",
				"'%s' is not before the end of the "
				"run (scenario/duration %s)",
				at,
				mv_xml_duration_str(duration_ns, d, sizeof d));
		if (mv_parse_fraction(rate, &t->rate) != 0)
			return mv_xml_fail(s, c, "change/rate",
					   "'%s' is not a fraction from 0%% "
					   "to 99%%",
					   rate);
		if ((rc = check_tax_max(s, c, "change/rate", rate, t->rate)))
			return rc;
		r->ntax_changes++;
	}
	return 0;
}

/* <memstate model>: which free-memory state model (docs/policy.md) */
static int parse_memstate(const struct mv_xsrc *s, const xmlNode *n,
			  struct mv_reclaim_config *r)
{
	static const char *const names[] = {"model", NULL};
	int rc = mv_xml_check_leaf(s, n, "memstate", names);
	const char *v;
	if (rc)
		return rc;
	if (!(v = mv_xml_attr(n, "model")))
		return mv_xml_fail(s, n, "memstate/model", "is required");
	if (mv_memstate_model_parse(v, &r->memstate_model) != 0)
		return mv_xml_fail(s, n, "memstate/model",
				   "unknown model '%s' (esx41, vsphere5, "
				   "vsphere6)",
				   v);
	return 0;
}

/* <swap device dir keep> */
static int parse_swap(const struct mv_xsrc *s, const xmlNode *n,
		      struct mv_host_config *h, struct mv_reclaim_config *r)
{
	static const char *const other[] = {"device", NULL};
	int rc = mv_xml_check_props(s, n, "swap", swap_props, other, 1);
	if (rc)
		return rc;
	const char *v = mv_xml_attr(n, "device");
	if (!v)
		;
	else if (strcmp(v, "ssd") == 0)
		h->swap_device = MV_SWAP_SSD;
	else if (strcmp(v, "hdd") == 0)
		h->swap_device = MV_SWAP_HDD;
	else
		return mv_xml_fail(s, n, "swap/device",
				   "unknown device '%s' (ssd, hdd)", v);
	return mv_xml_props(s, n, "swap", swap_props, r);
}

/* <numa nodes local-latency remote-ratio migrate-rate rebalance>
 * (docs/numa.md) */
static const struct mv_xprop numa_props[] = {
	MV_XPROP("local-latency", MV_XP_DURATION, struct mv_host_config,
		 numa_local_ns),
	MV_XPROP("remote-ratio", MV_XP_POSITIVE, struct mv_host_config,
		 numa_remote_ratio),
	MV_XPROP("migrate-rate", MV_XP_RATE, struct mv_host_config,
		 numa_migrate_rate),
	MV_XPROP("rebalance", MV_XP_BOOL, struct mv_host_config,
		 numa_rebalance),
	{0},
};

static int parse_numa(const struct mv_xsrc *s, const xmlNode *n,
		      struct mv_host_config *h)
{
	static const char *const extra[] = {"nodes", NULL};
	int rc = mv_xml_check_props(s, n, "numa", numa_props, extra, 1);
	if (rc || (rc = mv_xml_props(s, n, "numa", numa_props, h)))
		return rc;
	const char *v = mv_xml_attr(n, "nodes");
	uint64_t nodes;
	if (!v)
		return mv_xml_fail(s, n, "numa/nodes", "is required");
	if (mv_parse_u64(v, &nodes) != 0 || nodes < 1 || nodes > MV_MAX_NODES)
		return mv_xml_fail(s, n, "numa/nodes",
				   "'%s' is not a number of nodes between 1 "
				   "and %d",
				   v, MV_MAX_NODES);
	h->nodes = (int)nodes;
	if (h->numa_remote_ratio < 1 || h->numa_remote_ratio > 10)
		return mv_xml_fail(s, n, "numa/remote-ratio",
				   "%g is not between 1 and 10",
				   h->numa_remote_ratio);
	if (h->numa_local_ns > MV_NS_PER_US)
		return mv_xml_fail(s, n, "numa/local-latency",
				   "must be at most 1us");
	return 0;
}

/*
 * The checks of <host> children beyond their attributes' types: required
 * attributes and bounds that depend on other settings.
 */
static int check_host_child(const struct mv_xsrc *s, const xmlNode *c,
			    const char *name, const struct mv_reclaim_config *r,
			    const struct mv_active_config *sampling,
			    uint64_t step_ns)
{
	char d[32];
	if (strcmp(name, "sharing") == 0 && mv_xml_attr(c, "sleep") &&
	    r->share.sleep_ns < MV_NS_PER_MS)
		return mv_xml_fail(s, c, "sharing/sleep",
				   "must be at least 1ms");
	if (strcmp(name, "sharing") == 0 && mv_xml_attr(c, "scan-time") &&
	    r->share.scan_time_ns < r->share.sleep_ns)
		return mv_xml_fail(
			s, c, "sharing/scan-time",
			"must be at least sleep (%s)",
			mv_xml_duration_str(r->share.sleep_ns, d, sizeof d));
	if (strcmp(name, "sharing") == 0 && r->share.salting > 2)
		return mv_xml_fail(s, c, "sharing/salting",
				   "'%s' is not 0, 1 or 2 (ESX "
				   "Mem.ShareForceSalting)",
				   mv_xml_attr(c, "salting"));
	if (strcmp(name, "reclaim") == 0 && mv_xml_attr(c, "period") &&
	    r->balance_ns == 0)
		return mv_xml_fail(s, c, "reclaim/period", "must be positive");
	if (strcmp(name, "idle-tax") == 0) {
		const char *v = mv_xml_attr(c, "rate");
		if (!v)
			return mv_xml_fail(s, c, "idle-tax/rate",
					   "is required");
		return check_tax_max(s, c, "idle-tax/rate", v, r->idle_tax);
	}
	/* periods end on step boundaries: a shorter one would be silently
	 * stretched to a step */
	if (strcmp(name, "sampling") == 0 && mv_xml_attr(c, "period") &&
	    sampling->period_ns < step_ns)
		return mv_xml_fail(s, c, "sampling/period",
				   "must be at least one step (%s)",
				   mv_xml_duration_str(step_ns, d, sizeof d));
	if (strcmp(name, "sampling") == 0 && mv_xml_attr(c, "phase") &&
	    (sampling->phase_ns < step_ns ||
	     sampling->phase_ns > sampling->period_ns))
		return mv_xml_fail(s, c, "sampling/phase",
				   "must be from one step (%s) to the period",
				   mv_xml_duration_str(step_ns, d, sizeof d));
	return 0;
}

/* The children of <host>, in the order docs/scenario.md lists them. */
enum host_child {
	H_MEMORY,
	H_NUMA,
	H_THRESHOLDS,
	H_LATENCY,
	H_SWAP,
	H_SHARING,
	H_COMPRESSION,
	H_BALLOON,
	H_RECLAIM,
	H_MEMSTATE,
	H_IDLE_TAX,
	H_SAMPLING,
	H_BUDGET,
	H_THP,
	H_LARGE_PAGES,
	H_HUGEPAGES,
	H_COUNT
};
static const char *const host_kids[H_COUNT] = {
	[H_MEMORY] = "memory",
	[H_NUMA] = "numa",
	[H_THRESHOLDS] = "thresholds",
	[H_LATENCY] = "latency",
	[H_SWAP] = "swap",
	[H_SHARING] = "sharing",
	[H_COMPRESSION] = "compression",
	[H_BALLOON] = "balloon",
	[H_RECLAIM] = "reclaim",
	[H_MEMSTATE] = "memstate",
	[H_IDLE_TAX] = "idle-tax",
	[H_SAMPLING] = "sampling",
	[H_BUDGET] = "budget",
	[H_THP] = "thp",
	[H_LARGE_PAGES] = "large-pages",
	[H_HUGEPAGES] = "hugepages",
};

/* The children that are plain attribute lists: their table. */
static const struct mv_xprop *const host_kid_props[H_COUNT] = {
	[H_LATENCY] = latency_props,         [H_SHARING] = sharing_props,
	[H_COMPRESSION] = compression_props, [H_BALLOON] = balloon_props,
	[H_RECLAIM] = reclaim_props,         [H_SAMPLING] = sampling_props,
	[H_LARGE_PAGES] = large_pages_props,
};

/*
 * <host preset="esx41|esx5|esx6|esx8|kvm">: the defaults of one ESX
 * version, or libvirt's <memtune> as cgroup v2 applies it on KVM
 * (docs/presets.md gives each value's source). A preset only changes
 * defaults: it is applied before the host's children are read, so any
 * setting the scenario writes (<memstate>, <sharing salting>,
 * <compression>, ...) overrides it.
 */
struct host_preset {
	const char *name;
	enum mv_memstate_model memstate; /* the free-memory states */
	int salting;                     /* Mem.ShareForceSalting */
	int compression;                 /* Mem.MemZipEnable */
	double zcache_fraction;          /* Mem.MemZipMaxPct */
	/* Mem.AllocGuestLargePage: guest memory backed by 2 MiB pages
	 * (ESX 3.5 and later, with a hardware MMU): <large-pages> */
	int large_pages;
	int memtune_cgroup; /* kvm: <memtune> as cgroup v2 */
	/* pages merge only on one NUMA node (ESX shares per node,
	 * VMkernel.Boot.sharePerNode; KSM's merge_across_nodes 1) */
	int per_node;
};
static const struct host_preset host_presets[] = {
	{"esx41", MV_MEMSTATE_ESX41, 0, 1, 0.10, 1, 0, 1},
	{"esx5", MV_MEMSTATE_VSPHERE5, 0, 1, 0.10, 1, 0, 1},
	{"esx6", MV_MEMSTATE_VSPHERE6, 2, 1, 0.10, 1, 0, 1},
	{"esx8", MV_MEMSTATE_VSPHERE6, 2, 1, 0.10, 1, 0, 1},
	/* libvirt/QEMU on Linux with cgroup v2: only what <memtune> means
	 * changes; the host's reclaim stays memvisor's model, KSM unsalted */
	{"kvm", MV_MEMSTATE_ESX41, 0, 1, 0.10, 0, 1, 0},
};
#define NPRESETS (int)(sizeof host_presets / sizeof host_presets[0])

static int apply_preset(const struct mv_xsrc *s, const xmlNode *hn,
			const char *v, struct mv_host_config *h,
			struct mv_reclaim_config *r)
{
	for (int i = 0; i < NPRESETS; i++) {
		const struct host_preset *p = &host_presets[i];
		if (strcmp(v, p->name) != 0)
			continue;
		snprintf(h->preset, sizeof h->preset, "%s", p->name);
		r->memstate_model = p->memstate;
		r->share.salting = (uint64_t)p->salting;
		r->compression = p->compression;
		r->zcache_fraction = p->zcache_fraction;
		r->memtune_cgroup = p->memtune_cgroup;
		r->large_pages = p->large_pages;
		r->share.merge_across_nodes = !p->per_node;
		return 0;
	}
	return mv_xml_fail(s, hn, "host/preset",
			   "unknown preset '%s' (esx41, esx5, esx6, esx8, kvm)",
			   v);
}

/* <host> into sc's host, reclaim and sampling configuration (its
 * scenario attributes already read: step and duration bound some). */
static int parse_host(const struct mv_xsrc *s, const xmlNode *hn,
		      struct mv_scenario *sc)
{
	static const char *const host_attrs[] = {"name", "preset", NULL};
	struct mv_host_config *h = &sc->host;
	struct mv_reclaim_config *r = &sc->reclaim;
	struct mv_active_config *sampling = &sc->sampling;
	uint64_t step_ns = sc->step_ns;
	int rc = mv_xml_check_attrs(s, hn, "host", host_attrs);
	if (rc)
		return rc;
	const char *v = mv_xml_attr(hn, "name");
	if (v &&
	    (rc = mv_xml_name(s, hn, "host/name", v, h->name, sizeof h->name)))
		return rc;
	if ((v = mv_xml_attr(hn, "preset")) &&
	    (rc = apply_preset(s, hn, v, h, r)))
		return rc;
	/* where each table-driven child's values go */
	void *const base[H_COUNT] = {
		[H_LATENCY] = &h->lat, [H_SHARING] = &r->share,
		[H_COMPRESSION] = r,   [H_BALLOON] = r,
		[H_RECLAIM] = r,       [H_SAMPLING] = sampling,
		[H_LARGE_PAGES] = r,
	};
	const xmlNode *seen[H_COUNT] = {0};
	for (const xmlNode *c = hn->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		int k = -1;
		for (int i = 0; i < H_COUNT; i++)
			if (mv_xml_is_plain(c, host_kids[i]))
				k = i;
		if (k < 0)
			return mv_xml_fail_unknown(s, c, "host");
		if (seen[k]) {
			char field[32];
			snprintf(field, sizeof field, "host/%s", host_kids[k]);
			return mv_xml_fail_duplicate(s, c, seen[k], field);
		}
		seen[k] = c;
		if (host_kid_props[k])
			rc = leaf_props(s, c, host_kids[k], host_kid_props[k],
					base[k]);
		else if (k == H_MEMORY)
			rc = parse_host_memory(s, c, h);
		else if (k == H_NUMA)
			rc = parse_numa(s, c, h);
		else if (k == H_BUDGET)
			rc = parse_budget(s, c, h);
		else if (k == H_THP)
			rc = parse_thp(s, c, &r->thp);
		else if (k == H_HUGEPAGES)
			rc = parse_hugepages(s, c, h);
		else if (k == H_THRESHOLDS)
			rc = parse_thresholds(s, c, &h->thresholds);
		else if (k == H_SWAP)
			rc = parse_swap(s, c, h, r);
		else if (k == H_MEMSTATE)
			rc = parse_memstate(s, c, r);
		else if (k == H_IDLE_TAX)
			rc = parse_idle_tax(s, c, r, sc->duration_ns);
		if (!rc)
			rc = check_host_child(s, c, host_kids[k], r, sampling,
					      step_ns);
		if (rc)
			return rc;
	}
	if (!seen[H_MEMORY])
		return mv_xml_fail(s, hn, "host/memory", "is required");
	if (h->budget_bytes > h->mem_bytes)
		return mv_xml_fail(s, seen[H_BUDGET], "host/budget",
				   "exceeds the host's memory");
	/* the zero frame and the alignment of each node's first run aside,
	 * mv_hugetlb_reserve says when the blocks do not fit */
	if (h->hugepages > h->mem_bytes / (MV_RUN_FRAMES * MV_PAGE_SIZE))
		return mv_xml_fail(s, seen[H_HUGEPAGES], "host/hugepages/count",
				   "%llu 2 MiB pages exceed the host's "
				   "memory",
				   (unsigned long long)h->hugepages);
	/* the later models derive every threshold from minFree */
	if (seen[H_THRESHOLDS] && r->memstate_model != MV_MEMSTATE_ESX41)
		return mv_xml_fail(
			s, seen[H_THRESHOLDS], "host/thresholds",
			"only with <memstate model=\"esx41\"/>: %s%s%s "
			"derives its thresholds from the host's "
			"memory",
			mv_memstate_model_name(r->memstate_model),
			h->preset[0] && !seen[H_MEMSTATE]
				? ", the model of preset "
				: "",
			h->preset[0] && !seen[H_MEMSTATE] ? h->preset : "");
	/* Linux's THP or ESX's large pages: one hypervisor's rule (THP
	 * written in the scenario turns a preset's large pages off) */
	if (seen[H_THP] && !seen[H_LARGE_PAGES] &&
	    r->thp.enabled != MV_THP_NEVER)
		r->large_pages = 0;
	if (seen[H_THP] && seen[H_LARGE_PAGES] && r->large_pages &&
	    r->thp.enabled != MV_THP_NEVER)
		return mv_xml_fail(s, seen[H_LARGE_PAGES], "host/large-pages",
				   "ESX's large pages and Linux's <thp> "
				   "cannot both be on");
	return 0;
}

/* Room for n more VMs in sc->vms. */
static int reserve_vms(struct loader *L, int n)
{
	/* doubling from 4 until the n fit */
	while ((size_t)L->sc->nvms + (size_t)n > L->cap)
		if (mv_array_room(&L->sc->vms, &L->cap, L->cap,
				  sizeof *L->sc->vms, 4))
			return mv_error_set(L->err, MV_ENOMEM, NULL, 0, NULL,
					    "out of memory");
	return 0;
}

/*
 * One <vm>: its domain (inline or file=), the scenario's workloads for it,
 * then `count` copies named NAME-1..NAME-N when count > 1.
 */
static void default_name(const char *file, char *out, size_t n);

static int parse_vm(struct loader *L, const struct mv_xsrc *s,
		    const xmlNode *vn)
{
	static const char *const vm_attrs[] = {"count", "file", NULL};
	struct mv_scenario *sc = L->sc;
	int rc = mv_xml_check_attrs(s, vn, "vm", vm_attrs);
	if (rc)
		return rc;
	uint64_t count = 1;
	const char *v = mv_xml_attr(vn, "count");
	if (v &&
	    (mv_parse_u64(v, &count) != 0 || count < 1 || count > MAX_VM_COUNT))
		return mv_xml_fail(s, vn, "vm/count",
				   "'%s' is not a number between 1 and %d", v,
				   MAX_VM_COUNT);
	const xmlNode *dom = NULL;
	for (const xmlNode *c = vn->children; c; c = c->next) {
		if (!mv_xml_is_elem(c) || mv_xml_is_plain(c, "workload"))
			continue;
		if (!mv_xml_is_plain(c, "domain"))
			return mv_xml_fail_unknown(s, c, "vm");
		if (dom)
			return mv_xml_fail_duplicate(s, c, dom, "vm/domain");
		dom = c;
	}
	const char *file = mv_xml_attr(vn, "file");
	if (file && dom)
		return mv_xml_fail(
			s, vn, "vm",
			"give either file=\"...\" or an inline <domain>, "
			"not both");
	if (!file && !dom)
		return mv_xml_fail(s, vn, "vm",
				   "needs an inline <domain> or file=\"...\"");
	if (sc->nvms + (int)count > MAX_VMS)
		return mv_xml_fail(s, vn, "vm/count",
				   "the scenario would have %d VMs; at most %d",
				   sc->nvms + (int)count, MAX_VMS);

	struct mv_vm_spec *spec = calloc(1, sizeof *spec);
	struct mv_domain_lines *dl = calloc(1, sizeof *dl);
	if (!spec || !dl) {
		free(spec);
		free(dl);
		return mv_error_set(s->err, MV_ENOMEM, NULL, 0, NULL,
				    "out of memory");
	}
	if (file) {
		char path[4096];
		char *buf = NULL;
		size_t len = 0;
		xmlDoc *doc = NULL;
		if (!*file)
			rc = mv_xml_fail(s, vn, "vm/file", "must not be empty");
		else if (mv_path_join(L->base_dir, file, path, sizeof path) !=
			 0)
			rc = mv_xml_fail(s, vn, "vm/file", "path is too long");
		else if ((rc = mv_read_input(path, "domain file", s->file,
					     mv_xml_line(vn), "vm/file", &buf,
					     &len, s->err)) != 0)
			;
		else if (mv_vmx_is_path(path)) {
			/* a VMware VM: src/sim/vmx.c */
			char dn[64];
			default_name(path, dn, sizeof dn);
			rc = mv_vmx_parse(buf, len, path, dn, L->sc->host.nodes,
					  spec, s->err);
			if (!rc) {
				mv_guest_finish(spec, 0, 0);
				snprintf(dl->file, sizeof dl->file, "%s",
					 spec->vm.source);
				dl->name = spec->vm.source_line;
			}
		} else if ((rc = mv_xml_parse(buf, len, path, &doc, s->err)) ==
			   0) {
			struct mv_xsrc ds = {path, s->err};
			rc = mv_domain_read(&ds, xmlDocGetRootElement(doc),
					    L->sc, spec, dl);
		}
		free(buf);
		xmlFreeDoc(doc);
	} else {
		rc = mv_domain_read(s, dom, L->sc, spec, dl);
	}
	for (const xmlNode *c = vn->children; !rc && c; c = c->next)
		if (mv_xml_is_plain(c, "workload"))
			rc = mv_workload_elem_add(s, c, &spec->guest);
	if (!rc)
		rc = mv_workloads_finish(sc, L->base_dir, spec, s->err);
	if (!rc)
		rc = reserve_vms(L, (int)count);

	for (int i = 0; !rc && i < (int)count; i++) {
		struct mv_vm_spec *out = &sc->vms[sc->nvms];
		*out = *spec;
		if (count > 1) {
			char nm[128];
			snprintf(nm, sizeof nm, "%s-%d", spec->vm.name, i + 1);
			if (strlen(nm) >= sizeof out->vm.name) {
				rc = mv_error_set(
					s->err, MV_EINVAL, dl->file, dl->name,
					"name",
					"'%s' is longer than %zu characters",
					nm, sizeof out->vm.name - 1);
				break;
			}
			memcpy(out->vm.name, nm, strlen(nm) + 1);
		}
		for (int j = 0; j < sc->nvms; j++)
			if (strcmp(sc->vms[j].vm.name, out->vm.name) == 0) {
				rc = mv_error_set(
					s->err, MV_EINVAL, dl->file, dl->name,
					"name",
					"duplicate VM name '%s' (first in "
					"%s:%d)",
					out->vm.name, sc->vms[j].vm.source,
					sc->vms[j].vm.source_line);
				break;
			}
		if (!rc)
			sc->nvms++;
	}
	free(spec);
	free(dl);
	return rc;
}

#define SC(name, kind, member) MV_XPROP(name, kind, struct mv_scenario, member)
static const struct mv_xprop scenario_props[] = {
	SC("name", MV_XP_NAME, name),
	SC("seed", MV_XP_U64, seed),
	SC("duration", MV_XP_DURATION, duration_ns),
	SC("step", MV_XP_DURATION, step_ns),
	SC("stats-interval", MV_XP_DURATION, stats_interval_ns),
	SC("active-window", MV_XP_DURATION, active_window_ns),
	{0},
};
#undef SC

static int parse_scenario_attrs(const struct mv_xsrc *s, const xmlNode *root,
				struct mv_scenario *sc)
{
	int rc = mv_xml_check_props(s, root, "scenario", scenario_props, NULL,
				    0);
	if (rc || (rc = mv_xml_props(s, root, "scenario", scenario_props, sc)))
		return rc;

	char a[32];
	if (sc->duration_ns == 0)
		return mv_xml_fail(s, root, "scenario/duration",
				   "must be greater than 0");
	if (sc->step_ns == 0)
		return mv_xml_fail(s, root, "scenario/step",
				   "must be greater than 0");
	if (sc->stats_interval_ns < sc->step_ns)
		return mv_xml_fail(
			s, root, "scenario/stats-interval",
			"must be at least one step (%s)",
			mv_xml_duration_str(sc->step_ns, a, sizeof a));
	if (sc->active_window_ns < sc->step_ns)
		return mv_xml_fail(
			s, root, "scenario/active-window",
			"must be at least one step (%s)",
			mv_xml_duration_str(sc->step_ns, a, sizeof a));
	if (sc->duration_ns / sc->step_ns > MAX_STEPS)
		return mv_xml_fail(
			s, root, "scenario/step",
			"the run would take %llu steps; at most %llu "
			"(make the step longer or the duration shorter)",
			(unsigned long long)(sc->duration_ns / sc->step_ns),
			MAX_STEPS);
	return 0;
}

/*
 * VMs without a workload (plain `virsh dumpxml` files) only boot: their
 * OS image is read and touched at its os-rate, nothing else. The report
 * of such a host is calm and says nothing of why: say it once, naming
 * them (docs/scenario.md, "From measurements to workloads").
 */
static int warn_idle_vms(struct mv_scenario *sc, const char *file)
{
	char names[160] = "";
	size_t len = 0;
	int n = 0;
	for (int i = 0; i < sc->nvms; i++) {
		if (sc->vms[i].guest.nworkloads)
			continue;
		const char *nm = sc->vms[i].vm.name;
		if (n < 6 && len + strlen(nm) + 8 < sizeof names)
			len += (size_t)snprintf(names + len, sizeof names - len,
						"%s%s", n ? ", " : "", nm);
		n++;
	}
	if (!n)
		return 0;
	return mv_scenario_warn(
		sc, "no-workload", file, 0,
		"%d VM%s without a workload (%s%s) only boot%s and stay%s "
		"idle, "
		"so the host looks calm; give %s a <workload> from measured "
		"figures: see docs/scenario.md, \"From measurements to "
		"workloads\"",
		n, n == 1 ? "" : "s", names, n > 6 ? ", ..." : "",
		n == 1 ? "s" : "", n == 1 ? "s" : "", n == 1 ? "it" : "them");
}

/*
 * A VM description given where a scenario is expected (`memvisor run
 * web.xml`): say so, and show the scenario that would run it.
 */
static int not_a_scenario(struct mv_error *err, const char *file, int line,
			  const char *what)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	return mv_error_set(err, MV_EINVAL, file, line, "scenario",
			    "this is %s, not a memvisor scenario; wrap it: "
			    "<scenario><host><memory unit='GiB'>16</memory>"
			    "</host><vm file='%s'/></scenario>",
			    what, base);
}

/* Does text look like a .vmx file: its first line `key = ...`? */
static int looks_like_vmx(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	for (;;) {
		while (p < end &&
		       (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (p < end && *p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	const char *k = p;
	while (p < end && (isalnum((unsigned char)*p) || strchr("._:-[]*", *p)))
		p++;
	if (p == k)
		return 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == '=';
}

static int parse_scenario(struct loader *L, const struct mv_xsrc *s,
			  const xmlNode *root)
{
	struct mv_scenario *sc = L->sc;
	if (mv_xml_is_plain(root, "domain"))
		return not_a_scenario(s->err, s->file, mv_xml_line(root),
				      "a libvirt domain");
	if (!mv_xml_is_plain(root, "scenario")) {
		char label[128];
		return mv_xml_fail(s, root, "scenario",
				   "root element is %s, expected <scenario>",
				   mv_xml_label(root, label, sizeof label));
	}
	int rc = parse_scenario_attrs(s, root, sc);
	if (rc)
		return rc;
	const xmlNode *host = NULL;
	int nvm = 0;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		if (mv_xml_is_plain(c, "vm")) {
			nvm++;
		} else if (mv_xml_is_plain(c, "host")) {
			if (host)
				return mv_xml_fail_duplicate(s, c, host,
							     "host");
			host = c;
		} else {
			return mv_xml_fail_unknown(s, c, "scenario");
		}
	}
	if (!host)
		return mv_xml_fail(s, root, "host", "is required");
	/* the host first: VMs are checked against it (NUMA nodes) */
	if ((rc = parse_host(s, host, sc)))
		return rc;
	if (nvm == 0 && !(L->flags & MV_LOAD_EMPTY_OK))
		return mv_xml_fail(s, root, "vm",
				   "at least one <vm> is required (a host "
				   "without VMs runs only in a <cluster>)");
	for (const xmlNode *c = root->children; c; c = c->next)
		if (mv_xml_is_plain(c, "vm") && (rc = parse_vm(L, s, c)))
			return rc;
	return warn_idle_vms(sc, s->file);
}

/* The name of `file` without directory and extension. */
static void default_name(const char *file, char *out, size_t n)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	size_t len = strlen(b);
	const char *dot = strrchr(b, '.');
	if (dot && dot != b)
		len = (size_t)(dot - b);
	if (len == 0) {
		snprintf(out, n, "scenario");
		return;
	}
	if (len >= n)
		len = n - 1;
	memcpy(out, b, len);
	out[len] = '\0';
}

int mv_scenario_load_elem(const xmlNode *root, const char *name,
			  const char *base_dir, unsigned flags,
			  struct mv_scenario **out, struct mv_error *err)
{
	*out = NULL;
	struct mv_scenario *sc = calloc(1, sizeof *sc);
	if (!sc)
		return mv_error_set(err, MV_ENOMEM, name, 0, NULL,
				    "out of memory");
	mv_scenario_default(sc);
	snprintf(sc->source, sizeof sc->source, "%s", name);
	default_name(name, sc->name, sizeof sc->name);
	struct loader L = {sc, base_dir, err, 0, flags};
	struct mv_xsrc s = {name, err};
	int rc = parse_scenario(&L, &s, root);
	if (rc) {
		mv_scenario_free(sc);
		return rc;
	}
	*out = sc;
	return 0;
}

int mv_scenario_add_vm(struct mv_scenario *sc, const xmlNode *vn,
		       const char *file, const char *base_dir,
		       struct mv_error *err)
{
	/* the loader's array holds at least its VMs */
	size_t cap = sc->cap_vms > (size_t)sc->nvms ? sc->cap_vms
						    : (size_t)sc->nvms;
	struct loader L = {sc, base_dir, err, cap, 0};
	struct mv_xsrc s = {file, err};
	int rc = parse_vm(&L, &s, vn);
	sc->cap_vms = L.cap;
	return rc;
}

static int load_buffer(const char *buf, size_t len, const char *name,
		       const char *base_dir, unsigned flags,
		       struct mv_scenario **out, struct mv_error *err)
{
	xmlDoc *doc = NULL;
	int rc;
	if (mv_vmx_is_path(name) || looks_like_vmx(buf, len))
		rc = not_a_scenario(err, name, 1, "a VMware .vmx file");
	else
		rc = mv_xml_parse(buf, len, name, &doc, err);
	if (rc == 0) {
		rc = mv_scenario_load_elem(xmlDocGetRootElement(doc), name,
					   base_dir, flags, out, err);
		xmlFreeDoc(doc);
	}
	return rc;
}

/* ---------------------------------------------------------------- *
 * Public functions.
 * ---------------------------------------------------------------- */

/* Reclamation defaults: ESX's (compression cache 10%, balloon at most
 * 65%) and KSM's (100 pages every 20 ms); policy period 1 s. */
void mv_reclaim_config_default(struct mv_reclaim_config *r)
{
	memset(r, 0, sizeof *r);
	r->enabled = 1;
	r->balance_ns = MV_NS_PER_S;
	mv_share_config_default(&r->share);
	mv_thp_config_default(&r->thp);
	r->compression = 1;
	r->zcache_fraction = 0.10;
	r->balloon_max = 0.65;
	r->swap_dir[0] = '\0';
	r->keep_swap = 0;
	r->memstate_model = MV_MEMSTATE_ESX41;
	r->idle_tax = 0.75; /* ESX's Mem.IdleTax default */
	r->ntax_changes = 0;
}

double mv_reclaim_idle_tax_at(const struct mv_reclaim_config *r,
			      uint64_t now_ns)
{
	double tax = r->idle_tax;
	for (int i = 0; i < r->ntax_changes && r->tax_change[i].at_ns <= now_ns;
	     i++)
		tax = r->tax_change[i].rate;
	return tax;
}

/*
 * Defaults for everything but host memory and VMs: seed 1, 60 s at 10 ms
 * steps, statistics every 10 s, a 60 s true-active window, the default
 * host (mv_host_config_default).
 */
void mv_scenario_default(struct mv_scenario *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "scenario");
	s->seed = 1;
	s->duration_ns = 60 * MV_NS_PER_S;
	s->step_ns = 10 * MV_NS_PER_MS;
	s->stats_interval_ns = 10 * MV_NS_PER_S;
	s->active_window_ns = 60 * MV_NS_PER_S;
	mv_active_config_default(&s->sampling);
	mv_host_config_default(&s->host);
	mv_reclaim_config_default(&s->reclaim);
	s->nvms = 0;
	s->vms = NULL;
}

/*
 * Load the scenario in `path`; domains given by file are found relative to
 * path's directory. *out is set only on success (free with
 * mv_scenario_free). A file that cannot be opened: MV_ENOENT (or MV_EIO)
 * with err->file = path and line 0.
 */
int mv_scenario_load(const char *path, struct mv_scenario **out,
		     struct mv_error *err)
{
	return mv_scenario_load_flags(path, 0, out, err);
}

int mv_scenario_load_flags(const char *path, unsigned flags,
			   struct mv_scenario **out, struct mv_error *err)
{
	struct mv_error dummy;
	if (!err)
		err = &dummy;
	*out = NULL;
	char *buf;
	size_t len;
	if (mv_read_file(path, &buf, &len) != 0) {
		int e = errno;
		return mv_error_set(
			err, e == ENOENT || e == ENOTDIR ? MV_ENOENT : MV_EIO,
			path, 0, NULL, "cannot open: %s", strerror(e));
	}
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (slash && dlen == 0)
		dlen = 1; /* "/scenario.xml" */
	if (dlen >= sizeof dir) {
		free(buf);
		return mv_error_set(err, MV_EINVAL, path, 0, NULL,
				    "path is too long");
	}
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	int rc = load_buffer(buf, len, path, dir, flags, out, err);
	free(buf);
	return rc;
}

/*
 * Load a scenario from the string xml; `name` stands for the file in
 * errors and base_dir (NULL or "" for the current directory) anchors
 * domain files.
 */
int mv_scenario_load_string(const char *xml, const char *name,
			    const char *base_dir, struct mv_scenario **out,
			    struct mv_error *err)
{
	struct mv_error dummy;
	if (!err)
		err = &dummy;
	*out = NULL;
	if (!name || !*name)
		name = "<string>";
	if (!xml)
		return mv_error_set(err, MV_EINVAL, name, 0, NULL,
				    "no scenario text");
	return load_buffer(xml, strlen(xml), name, base_dir ? base_dir : "", 0,
			   out, err);
}

void mv_scenario_free_parts(struct mv_scenario *s)
{
	for (int i = 0; i < s->ntraces; i++)
		mv_access_trace_free(s->traces[i]);
	for (int i = 0; i < s->nusage; i++)
		mv_usage_trace_free(s->usage[i]);
	free(s->usage);
	free(s->warnings);
	free(s->traces);
	for (int i = 0; i < s->nprofiles; i++)
		mv_profile_free(s->profiles[i]);
	free(s->profiles);
	free(s->vms);
	memset(s, 0, sizeof *s);
}

void mv_scenario_free(struct mv_scenario *s)
{
	if (!s)
		return;
	mv_scenario_free_parts(s);
	free(s);
}
