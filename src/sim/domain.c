/*
 * domain.c - libvirt <domain> XML as a VM description, exactly as `virsh
 * dumpxml` prints it, inline in a scenario or in a file of its own.
 *
 * From a domain we read only what concerns memory (formatdomain:
 * <memory>, <currentMemory>, <memtune>, <memoryBacking>, <numatune>, the
 * <memballoon> device) and memvisor's own settings, which live in the
 * domain's <metadata> under the namespace urn:memvisor:domain:1, where
 * libvirt keeps foreign metadata untouched. Everything else in a domain
 * (disks, interfaces, CPU model, ...) is ignored, so real dumps load as
 * they are; memvisor's own elements in the metadata are strict (an
 * unknown element or attribute is an error, to catch typos).
 *
 * A domain becomes a struct mv_vm_spec checked by mv_vm_config_check, the
 * rules every VM source obeys (the .vmx reader is src/sim/vmx.c); an
 * error found by that check is placed on the line of the element it is
 * about (struct mv_domain_lines). docs/scenario.md, "libvirt domains", is
 * the user's reference.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "sim/loader.h"
#include "sim/readers.h"

#define MV_NS_DOMAIN "urn:memvisor:domain:1"

static int in_mv_ns(const xmlNode *n)
{
	return mv_xml_is_elem(n) && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, MV_NS_DOMAIN) == 0;
}

/* An element in memvisor's domain metadata namespace, any prefix. */
static int is_mv(const xmlNode *n, const char *name)
{
	return in_mv_ns(n) && strcmp((const char *)n->name, name) == 0;
}

/*
 * A libvirt nodeset ("0", "1-3", "0,2", "0-3,^1"): its first listed node
 * and the nodes it names, bit i for node i (nodes up to 63; the caller
 * checks them against the host).
 */
static int nodeset_parse(const char *s, int *first, uint64_t *mask)
{
	int got = -1;
	uint64_t in = 0, out = 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ')
			p++;
		int neg = 0;
		if (*p == '^')
			neg = 1, p++;
		if (*p < '0' || *p > '9')
			return MV_EINVAL;
		long a = 0;
		while (*p >= '0' && *p <= '9') {
			a = a * 10 + (*p++ - '0');
			if (a > 1000000)
				return MV_EINVAL;
		}
		long b = a;
		if (*p == '-') {
			if (neg)
				return MV_EINVAL;
			p++;
			if (*p < '0' || *p > '9')
				return MV_EINVAL;
			b = 0;
			while (*p >= '0' && *p <= '9') {
				b = b * 10 + (*p++ - '0');
				if (b > 1000000)
					return MV_EINVAL;
			}
			if (b < a)
				return MV_EINVAL;
		}
		if (!neg && got < 0)
			got = (int)a;
		for (long k = a; k <= b && k < 64; k++) {
			if (neg)
				out |= UINT64_C(1) << k;
			else
				in |= UINT64_C(1) << k;
		}
		if (b >= 64 && !neg)
			in |= UINT64_C(1) << 63; /* beyond any host: rejected */
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return MV_EINVAL;
	}
	if (got < 0 || !(in & ~out))
		return MV_EINVAL;
	*first = got;
	*mask = in & ~out;
	return 0;
}

static int parse_memtune(const struct mv_xsrc *s, const xmlNode *mt,
			 struct mv_vm_config *vm, struct mv_domain_lines *dl)
{
	static const char *const names[] = {"hard_limit", "soft_limit",
					    "swap_hard_limit", "min_guarantee"};
	const xmlNode *seen[4] = {0};
	uint64_t swap_hard = UINT64_MAX;
	for (const xmlNode *c = mt->children; c; c = c->next) {
		for (int i = 0; i < 4; i++) {
			if (!mv_xml_is_plain(c, names[i]))
				continue;
			char field[64];
			snprintf(field, sizeof field, "memtune/%s", names[i]);
			if (seen[i])
				return mv_xml_fail_duplicate(s, c, seen[i],
							     field);
			seen[i] = c;
			uint64_t bytes;
			int rc = mv_xml_size_elem(s, c, field, &bytes);
			if (rc)
				return rc;
			int unlimited = bytes / MV_KIB >=
					MV_LIBVIRT_UNLIMITED_KIB;
			if (i == 0) {
				dl->hard_limit = mv_xml_line(c);
				if (!unlimited)
					vm->limit_bytes = bytes;
			} else if (i == 1) {
				dl->soft_limit = mv_xml_line(c);
				if (!unlimited)
					vm->soft_limit_bytes = bytes;
			} else if (i == 2) {
				dl->swap_hard_limit = mv_xml_line(c);
				if (!unlimited)
					swap_hard = bytes;
			} else {
				dl->min_guarantee = mv_xml_line(c);
				vm->reservation_bytes = bytes;
			}
		}
	}
	/*
	 * swap_hard_limit is memory plus swap (cgroup v1's
	 * memory.memsw.limit_in_bytes; libvirt gives cgroup v2's
	 * memory.swap.max the difference), so what the hypervisor may swap
	 * of this VM is swap_hard_limit - hard_limit.
	 */
	if (swap_hard != UINT64_MAX) {
		char b[32];
		if (swap_hard % MV_PAGE_SIZE)
			return mv_xml_fail(s, seen[2],
					   "memtune/swap_hard_limit",
					   "must be a multiple of 4 KiB");
		if (swap_hard < vm->limit_bytes && seen[0])
			return mv_xml_fail(
				s, seen[2], "memtune/swap_hard_limit",
				"must not be below memtune/hard_limit "
				"(%s): it counts memory plus swap",
				mv_format_bytes(vm->limit_bytes, b, sizeof b));
		if (swap_hard < vm->limit_bytes)
			return mv_xml_fail(
				s, seen[2], "memtune/swap_hard_limit",
				"must not be below the VM's memory (%s, the "
				"limit when there is no memtune/hard_limit): "
				"it counts memory plus swap",
				mv_format_bytes(vm->limit_bytes, b, sizeof b));
		vm->swap_max_bytes = swap_hard - vm->limit_bytes;
	}
	return 0;
}

static int parse_memballoon(const struct mv_xsrc *s, const xmlNode *mb,
			    struct mv_vm_spec *spec, struct mv_domain_lines *dl)
{
	struct mv_vm_config *vm = &spec->vm;
	dl->memballoon = mv_xml_line(mb);
	const char *model = mv_xml_attr(mb, "model");
	/* freePageReporting='on|off' (libvirt 6.9, virtio models): the
	 * guest reports free pages, the host discards them (guest.c) */
	const char *fpr = mv_xml_attr(mb, "freePageReporting");
	if (fpr && strcmp(fpr, "on") && strcmp(fpr, "off"))
		return mv_xml_fail(s, mb, "memballoon/freePageReporting",
				   "'%s' is not on or off", fpr);
	int fpr_on = fpr && strcmp(fpr, "on") == 0;
	if (!model)
		return mv_xml_fail(s, mb, "memballoon/model", "is required");
	if (strcmp(model, "none") == 0)
		vm->balloon_driver = 0;
	else if (strcmp(model, "virtio") == 0 ||
		 strcmp(model, "virtio-transitional") == 0 ||
		 strcmp(model, "virtio-non-transitional") == 0 ||
		 strcmp(model, "xen") == 0)
		vm->balloon_driver = 1;
	else
		return mv_xml_fail(
			s, mb, "memballoon/model",
			"unknown model '%s' (virtio, "
			"virtio-transitional, virtio-non-transitional, "
			"xen, none)",
			model);
	/* no balloon device, nothing to report through */
	spec->guest.free_page_reporting = fpr_on && vm->balloon_driver;
	const xmlNode *stats = NULL;
	for (const xmlNode *c = mb->children; c; c = c->next) {
		if (!mv_xml_is_plain(c, "stats"))
			continue;
		if (stats)
			return mv_xml_fail_duplicate(s, c, stats,
						     "memballoon/stats");
		stats = c;
		dl->stats = mv_xml_line(c);
		const char *p = mv_xml_attr(c, "period");
		uint64_t v;
		if (!p)
			return mv_xml_fail(s, c, "memballoon/stats",
					   "period is required");
		if (mv_parse_u64(p, &v) != 0 || v > INT_MAX)
			return mv_xml_fail(
				s, c, "memballoon/stats",
				"period '%s' is not a whole number of "
				"seconds",
				p);
		vm->stats_period_s = (int)v;
	}
	return 0;
}

/*
 * The mode and nodeset of a <numatune> <memory> or <memnode> (field names
 * it in errors): *pol, and *first the nodeset's first node (-1 when the
 * host chooses: no nodeset, or placement='auto').
 */
static int read_numa_policy(const struct mv_xsrc *s, const xmlNode *c,
			    const char *field, int host_nodes,
			    struct mv_numa_policy *pol, int *first)
{
	static const char *const modes[] = {"preferred", "strict", "interleave",
					    "restrictive"};
	const char *mode = mv_xml_attr(c, "mode");
	*first = -1;
	/* libvirt's default mode is strict */
	pol->mode = MV_NUMA_STRICT;
	pol->nodeset = 0;
	if (mode) {
		size_t i = 0;
		while (i < 4 && strcmp(mode, modes[i]))
			i++;
		if (i == 4)
			return mv_xml_fail(
				s, c, field,
				"unknown mode '%s' (strict, preferred, "
				"interleave, restrictive)",
				mode);
		pol->mode = (uint8_t)(MV_NUMA_PREFERRED + i);
	}
	const char *placement = mv_xml_attr(c, "placement");
	if (placement && strcmp(placement, "static") &&
	    strcmp(placement, "auto"))
		return mv_xml_fail(s, c, field,
				   "unknown placement '%s' (static, auto)",
				   placement);
	/* placement='auto' (numad's advice in libvirt): the host chooses,
	 * whatever nodeset a live dump shows */
	const char *set = mv_xml_attr(c, "nodeset");
	if (!set || (placement && strcmp(placement, "auto") == 0))
		return 0;
	uint64_t mask;
	if (nodeset_parse(set, first, &mask) != 0)
		return mv_xml_fail(s, c, field,
				   "nodeset '%s' is not a list of NUMA nodes "
				   "(e.g. 0, 1-3, 0,2)",
				   set);
	int top = 63;
	while (!(mask & (UINT64_C(1) << top)))
		top--;
	if (*first >= host_nodes || top >= host_nodes)
		return mv_xml_fail(s, c, field,
				   "nodeset '%s' names node %d, but the host "
				   "has %d NUMA node%s",
				   set, *first >= host_nodes ? *first : top,
				   host_nodes, host_nodes == 1 ? "" : "s");
	pol->nodeset = (uint8_t)mask;
	return 0;
}

/*
 * <numatune>: <memory> sets the VM's placement and home node (the
 * nodeset's first node), <memnode cellid=> a guest cell's (its vCPUs then
 * run on that nodeset's first node); cells must come first (<cpu> is read
 * before). Placement is modelled (src/vm/numa.c, docs/numa.md).
 */
static int parse_numatune(const struct mv_xsrc *s, const xmlNode *nt,
			  int host_nodes, struct mv_vm_config *vm,
			  struct mv_domain_lines *dl)
{
	const xmlNode *mem = NULL;
	const xmlNode *cell_seen[MV_MAX_CELLS] = {0};
	int rc, first;
	for (const xmlNode *c = nt->children; c; c = c->next) {
		if (mv_xml_is_plain(c, "memnode")) {
			const char *id = mv_xml_attr(c, "cellid");
			uint64_t k;
			if (!id || mv_parse_u64(id, &k) != 0 ||
			    k >= (uint64_t)vm->ncells)
				return mv_xml_fail(
					s, c, "numatune/memnode",
					"cellid '%s' names no <cpu><numa> "
					"cell (the domain has %d)",
					id ? id : "", vm->ncells);
			if (cell_seen[k])
				return mv_xml_fail_duplicate(
					s, c, cell_seen[k], "numatune/memnode");
			cell_seen[k] = c;
			struct mv_numa_cell *cell = &vm->cell[k];
			if ((rc = read_numa_policy(s, c, "numatune/memnode",
						   host_nodes, &cell->policy,
						   &first)))
				return rc;
			cell->node = first;
			continue;
		}
		if (!mv_xml_is_plain(c, "memory"))
			continue;
		if (mem)
			return mv_xml_fail_duplicate(s, c, mem,
						     "numatune/memory");
		mem = c;
		dl->numatune = mv_xml_line(c);
		if ((rc = read_numa_policy(s, c, "numatune/memory", host_nodes,
					   &vm->numa, &first)))
			return rc;
		if (first >= 0)
			vm->home_node = first;
	}
	return 0;
}

/* The typed attributes of <mv:guest>; os and balloon-rate in code. */
#define G(name, kind, member)                                                  \
	MV_XPROP(name, kind, struct mv_guest_config, member)
static const struct mv_xprop guest_props[] = {
	G("image", MV_XP_NAME, os_image),
	G("image-size", MV_XP_PAGESIZE, os_bytes),
	G("os-rate", MV_XP_RATE, os_rate),
	G("swap", MV_XP_PAGESIZE, swap_bytes),
	G("zero-rate", MV_XP_RATE, zero_rate),
	G("boot-structures", MV_XP_BOOL, boot_structures),
	G("overhead", MV_XP_PAGESIZE, vmm_bytes),
	G("boot-freed", MV_XP_PAGESIZE, boot_freed_bytes),
	G("balloon-start", MV_XP_DURATION, balloon_start_ns),
	{0},
};
#undef G
static const char *const guest_other[] = {"os", "balloon-rate",
					  "balloon-reclaim-rate", NULL};

/* <mv:guest os=... image=... image-size=... os-rate=... swap=... zero-rate=...>
 */
static int parse_guest(const struct mv_xsrc *s, const xmlNode *n,
		       uint64_t mem_bytes, struct mv_guest_config *g,
		       int *image_given, int *size_given)
{
	int rc = mv_xml_check_props(s, n, "guest", guest_props, guest_other, 1);
	if (rc)
		return rc;
	const char *v;
	char b[32];
	if ((v = mv_xml_attr(n, "os")) &&
	    mv_guest_flavour_parse(v, &g->flavour))
		return mv_xml_fail(s, n, "guest/os",
				   "unknown guest OS '%s' (linux, windows)", v);
	if ((rc = mv_xml_props(s, n, "guest", guest_props, g)))
		return rc;
	*image_given = mv_xml_attr(n, "image") != NULL;
	*size_given = mv_xml_attr(n, "image-size") != NULL;
	if (*size_given && g->os_bytes > mem_bytes)
		return mv_xml_fail(s, n, "guest/image-size",
				   "exceeds the VM's memory (%s)",
				   mv_format_bytes(mem_bytes, b, sizeof b));
	if (g->boot_freed_bytes > mem_bytes)
		return mv_xml_fail(s, n, "guest/boot-freed",
				   "exceeds the VM's memory (%s)",
				   mv_format_bytes(mem_bytes, b, sizeof b));
	if ((v = mv_xml_attr(n, "balloon-rate"))) {
		/* a size per second: "64MiB" -> pages/s */
		uint64_t bytes;
		if ((rc = mv_xml_size(s, n, "guest/balloon-rate", v, &bytes)))
			return rc;
		g->balloon_rate = (double)bytes / MV_PAGE_SIZE;
	}
	if ((v = mv_xml_attr(n, "balloon-reclaim-rate"))) {
		uint64_t bytes;
		if ((rc = mv_xml_size(s, n, "guest/balloon-reclaim-rate", v,
				      &bytes)))
			return rc;
		if (bytes < MV_PAGE_SIZE)
			return mv_xml_fail(s, n, "guest/balloon-reclaim-rate",
					   "'%s' is below one page per second",
					   v);
		g->balloon_reclaim_rate = (double)bytes / MV_PAGE_SIZE;
	}
	return 0;
}

/*
 * <mv:mmu mode="native|shadow|nested" pages="4k|2m" tagged="yes|no"
 * host-pages="4k|2m" l2-4k="1536x12" lat-exit="1500" ...>: translate the
 * guest's accesses through an MMU model. The host backs the guest with
 * 2 MiB pages with the domain's <memoryBacking><hugepages/> (hugetlbfs,
 * locked: mv_guest_finish) or with host-pages="2m": transparent huge
 * pages, which the host still breaks up to swap and share.
 */
/* "2m"/"4k" (2M, 2MiB, 4K, 4KiB): 1 for 2 MiB, 0 for 4 KiB, -1 otherwise. */
static int page_size_2m(const char *v)
{
	if (!strcmp(v, "2m") || !strcmp(v, "2M") || !strcmp(v, "2MiB"))
		return 1;
	if (!strcmp(v, "4k") || !strcmp(v, "4K") || !strcmp(v, "4KiB"))
		return 0;
	return -1;
}

static int parse_mmu(const struct mv_xsrc *s, const xmlNode *n,
		     struct mv_guest_config *g)
{
	const char *names[32] = {"mode", "pages", "tagged", "host-pages"};
	int nn = 4;
	for (const char *const *k = mv_mmu_config_keys; *k; k++)
		names[nn++] = *k;
	names[nn] = NULL;
	int rc = mv_xml_check_leaf(s, n, "mmu", names);
	if (rc)
		return rc;
	const char *v = mv_xml_attr(n, "mode");
	enum mv_mmu_mode mode;
	if (!v)
		return mv_xml_fail(s, n, "mmu/mode",
				   "missing (native, shadow or nested)");
	if (mv_mmu_mode_parse(v, &mode))
		return mv_xml_fail(s, n, "mmu/mode",
				   "unknown mode '%s' (native, shadow, nested)",
				   v);
	mv_mmu_config_default(&g->mmu_cfg, mode);
	g->mmu = 1;
	if ((v = mv_xml_attr(n, "pages"))) {
		if (page_size_2m(v) < 0)
			return mv_xml_fail(s, n, "mmu/pages",
					   "'%s' is not a page size (4k, 2m)",
					   v);
		g->mmu_cfg.guest_2m = page_size_2m(v);
	}
	if ((v = mv_xml_attr(n, "host-pages"))) {
		if (page_size_2m(v) < 0)
			return mv_xml_fail(s, n, "mmu/host-pages",
					   "'%s' is not a page size (4k, 2m)",
					   v);
		g->mmu_cfg.host_2m = page_size_2m(v);
	}
	if ((v = mv_xml_attr(n, "tagged")) &&
	    (rc = mv_xml_bool(s, n, "mmu/tagged", v, &g->mmu_cfg.tagged)))
		return rc;
	/* TLB sizes, walk caches, latencies: mv_mmu_config_set's names */
	for (const char *const *k = mv_mmu_config_keys; *k; k++) {
		struct mv_error e = {0};
		if ((v = mv_xml_attr(n, *k)) &&
		    mv_mmu_config_set(&g->mmu_cfg, *k, v, &e)) {
			char field[64];
			snprintf(field, sizeof field, "mmu/%s", *k);
			return mv_xml_fail(s, n, field, "%s", e.msg);
		}
	}
	return 0;
}

/*
 * <mv:memvisor xmlns:mv="urn:memvisor:domain:1"> in the domain's metadata:
 * shares, guest and workloads. Matched by namespace URI, any prefix.
 */
static int parse_memvisor(const struct mv_xsrc *s, const xmlNode *mvn,
			  struct mv_vm_spec *spec, int *image_given,
			  int *size_given)
{
	int rc = mv_xml_check_attrs(s, mvn, "memvisor", NULL);
	if (rc)
		return rc;
	const xmlNode *shares = NULL, *guest = NULL, *mmu = NULL,
		      *sharing = NULL;
	for (const xmlNode *c = mvn->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		if (is_mv(c, "shares")) {
			if (shares)
				return mv_xml_fail_duplicate(s, c, shares,
							     "memvisor/shares");
			shares = c;
			if ((rc = mv_xml_check_leaf(s, c, "memvisor/shares",
						    NULL)))
				return rc;
			char t[64];
			if ((rc = mv_xml_text(s, c, "memvisor/shares", t,
					      sizeof t)))
				return rc;
			uint64_t per_mib = 0, v;
			if (strcmp(t, "low") == 0)
				per_mib = 5;
			else if (strcmp(t, "normal") == 0)
				per_mib = 10;
			else if (strcmp(t, "high") == 0)
				per_mib = 20;
			else if (mv_parse_u64(t, &v) == 0)
				spec->vm.shares = v;
			else
				return mv_xml_fail(
					s, c, "memvisor/shares",
					"'%s' is not low, normal, high or "
					"a number",
					t);
			if (per_mib)
				spec->vm.shares = per_mib * spec->vm.mem_bytes /
						  MV_MIB;
		} else if (is_mv(c, "guest")) {
			if (guest)
				return mv_xml_fail_duplicate(s, c, guest,
							     "guest");
			guest = c;
			if ((rc = parse_guest(s, c, spec->vm.mem_bytes,
					      &spec->guest, image_given,
					      size_given)))
				return rc;
		} else if (is_mv(c, "workload")) {
			if ((rc = mv_workload_elem_add(s, c, &spec->guest)))
				return rc;
		} else if (is_mv(c, "sharing")) {
			/* <mv:sharing salt="NAME"/>: ESX's
			 * sched.mem.pshare.salt (docs/presets.md) */
			static const char *const names[] = {"salt", NULL};
			const char *v = mv_xml_attr(c, "salt");
			if (sharing)
				return mv_xml_fail_duplicate(s, c, sharing,
							     "sharing");
			sharing = c;
			if ((rc = mv_xml_check_leaf(s, c, "sharing", names)))
				return rc;
			if (!v)
				return mv_xml_fail(s, c, "sharing/salt",
						   "is required");
			if ((rc = mv_xml_name(s, c, "sharing/salt", v,
					      spec->vm.pshare_salt,
					      sizeof spec->vm.pshare_salt)))
				return rc;
		} else if (is_mv(c, "mmu")) {
			if (mmu)
				return mv_xml_fail_duplicate(s, c, mmu, "mmu");
			mmu = c;
			if ((rc = parse_mmu(s, c, &spec->guest)))
				return rc;
		} else {
			return mv_xml_fail_unknown(s, c, "memvisor");
		}
	}
	return 0;
}

/* Guest defaults that depend on the VM, for every VM source (loader.h). */
void mv_guest_finish(struct mv_vm_spec *spec, int image_given, int size_given)
{
	struct mv_guest_config *g = &spec->guest;
	/* <memoryBacking><hugepages/>: the host backs the VM with 2 MiB pages
	 */
	g->mmu_cfg.host_2m = g->mmu_cfg.host_2m || spec->vm.hugepages;
	if (!image_given)
		snprintf(g->os_image, sizeof g->os_image, "%s-generic",
			 mv_guest_flavour_name(g->flavour));
	if (!size_given) {
		uint64_t quarter = spec->vm.mem_bytes / 4 / MV_PAGE_SIZE *
				   MV_PAGE_SIZE;
		if (g->os_bytes > quarter)
			g->os_bytes = quarter;
	}
}

/* The libvirt elements we read; everything else in a domain is ignored. */
enum {
	D_NAME,
	D_MEMORY,
	D_CURRENT,
	D_MEMTUNE,
	D_BACKING,
	D_NUMATUNE,
	D_METADATA,
	D_DEVICES,
	D_CPU,
	D_COUNT
};
static const char *const domain_elems[D_COUNT] = {
	"name",     "memory",   "currentMemory", "memtune", "memoryBacking",
	"numatune", "metadata", "devices",       "cpu"};

/*
 * Guest RAM is whole pages: QEMU aligns the RAM size up to the host page
 * size, so a <memory> of 1572863 KiB (libvirt's hugepages-numa-default.xml)
 * is 1572864 KiB of machine memory to back.
 */
static uint64_t page_align_up(uint64_t bytes)
{
	if (bytes > UINT64_MAX - (MV_PAGE_SIZE - 1))
		return bytes; /* too large anyway: mv_vm_config_check says so */
	return (bytes + MV_PAGE_SIZE - 1) / MV_PAGE_SIZE * MV_PAGE_SIZE;
}

/*
 * A domain without <memory> but with guest NUMA cells (<cpu><numa><cell
 * memory=... unit=...>) has their sum as its memory, as libvirt computes
 * it. Returns 0 with *mem, or MV_ENOENT when there are no cells.
 */
static int numa_cells_memory(const struct mv_xsrc *s, const xmlNode *cpu,
			     uint64_t *mem, const xmlNode **at,
			     uint64_t bytes[MV_MAX_CELLS], int *ncells)
{
	uint64_t sum = 0;
	int cells = 0;
	for (const xmlNode *nu = cpu ? cpu->children : NULL; nu;
	     nu = nu->next) {
		if (!mv_xml_is_plain(nu, "numa"))
			continue;
		for (const xmlNode *c = nu->children; c; c = c->next) {
			if (!mv_xml_is_plain(c, "cell"))
				continue;
			const char *v = mv_xml_attr(c, "memory");
			const char *unit = mv_xml_attr(c, "unit");
			uint64_t b;
			if (!v)
				return mv_xml_fail(s, c, "cpu/numa/cell",
						   "memory is required");
			if (unit && mv_unit_multiplier(unit, 0) == 0)
				return mv_xml_fail(s, c, "cpu/numa/cell",
						   "unknown unit '%s'", unit);
			if (mv_parse_size(v, unit, MV_KIB, &b) != 0 ||
			    b > UINT64_MAX - sum)
				return mv_xml_fail(s, c, "cpu/numa/cell",
						   "memory '%s' is not a size",
						   v);
			if (cells == MV_MAX_CELLS)
				return mv_xml_fail(s, c, "cpu/numa/cell",
						   "at most %d cells are "
						   "supported",
						   MV_MAX_CELLS);
			sum += b;
			bytes[cells] = b;
			if (!cells++)
				*at = c;
		}
	}
	*ncells = cells;
	if (!cells)
		return MV_ENOENT;
	*mem = sum;
	return 0;
}

/* The warning for a libvirt setting read but not modelled. */
#define NOT_MODELLED                                                           \
	"%s is read but not modelled; see docs/scenario.md, \"The libvirt "    \
	"domain\""

/*
 * <memoryBacking>: <nosharepages/> turns page sharing off; <locked/>
 * (mlock of the guest's memory) keeps it in host RAM, never swapped or
 * compressed by the hypervisor; <hugepages/> backs it with hugetlbfs
 * pages, which the host neither swaps nor merges (KSM skips hugetlb
 * areas), and maps it with 2 MiB pages for the MMU model.
 */
static void read_backing(const xmlNode *mb, struct mv_vm_config *vm)
{
	for (const xmlNode *c = mb->children; c; c = c->next) {
		if (mv_xml_is_plain(c, "hugepages")) {
			vm->hugepages = 1;
			vm->locked = 1;
			vm->sharing = 0;
		} else if (mv_xml_is_plain(c, "locked")) {
			vm->locked = 1;
		} else if (mv_xml_is_plain(c, "nosharepages")) {
			vm->sharing = 0;
		}
	}
}

/* <memballoon autodeflate='on'>: not modelled (freePageReporting is:
 * parse_memballoon). */
static int warn_balloon_features(const struct mv_xsrc *s, const xmlNode *mb,
				 struct mv_scenario *sc)
{
	static const char *const feats[] = {"autodeflate"};
	for (size_t i = 0; i < sizeof feats / sizeof feats[0]; i++) {
		const char *v = mv_xml_attr(mb, feats[i]);
		char key[64], what[64];
		if (!v || strcmp(v, "off") == 0)
			continue;
		snprintf(key, sizeof key, "memballoon/%s", feats[i]);
		snprintf(what, sizeof what, "<memballoon %s='%s'>", feats[i],
			 v);
		int rc = mv_scenario_warn(sc, key, s->file, mv_xml_line(mb),
					  NOT_MODELLED, what);
		if (rc)
			return rc;
	}
	return 0;
}

/* Read a libvirt <domain> into spec, then validate the VM (loader.h). */
int mv_domain_read(const struct mv_xsrc *s, const xmlNode *dom,
		   struct mv_scenario *sc, struct mv_vm_spec *spec,
		   struct mv_domain_lines *dl)
{
	int host_nodes = sc->host.nodes;
	memset(dl, 0, sizeof *dl);
	snprintf(dl->file, sizeof dl->file, "%s", s->file);
	if (!mv_xml_is_plain(dom, "domain")) {
		char label[128];
		return mv_xml_fail(s, dom, "domain",
				   "root element is %s, expected <domain>",
				   mv_xml_label(dom, label, sizeof label));
	}
	const xmlNode *el[D_COUNT] = {0};
	for (const xmlNode *c = dom->children; c; c = c->next) {
		/* libvirt would ignore it too; it is surely misplaced */
		if (mv_xml_is_plain(c, "workload"))
			return mv_xml_fail(
				s, c, "workload",
				"belongs in <vm> or in the domain's "
				"<metadata><mv:memvisor>, not directly in "
				"<domain>");
		for (int i = 0; i < D_COUNT; i++)
			if (mv_xml_is_plain(c, domain_elems[i])) {
				if (el[i])
					return mv_xml_fail_duplicate(
						s, c, el[i], domain_elems[i]);
				el[i] = c;
			}
	}

	int rc;
	char name[256];
	if (!el[D_NAME])
		return mv_xml_fail(s, dom, "name", "is required");
	if ((rc = mv_xml_text(s, el[D_NAME], "name", name, sizeof name)))
		return rc;
	dl->name = mv_xml_line(el[D_NAME]);
	if (!name[0])
		return mv_xml_fail(s, el[D_NAME], "name", "must not be empty");
	if (strlen(name) >= sizeof spec->vm.name)
		return mv_xml_fail(s, el[D_NAME], "name",
				   "'%s' is longer than %zu characters", name,
				   sizeof spec->vm.name - 1);

	/* guest NUMA cells: their guest-physical ranges, and with no
	 * <memory> its size */
	uint64_t mem, cells_mem = 0, cell_bytes[MV_MAX_CELLS];
	int ncells = 0;
	const xmlNode *cell = NULL;
	rc = numa_cells_memory(s, el[D_CPU], &cells_mem, &cell, cell_bytes,
			       &ncells);
	if (rc && rc != MV_ENOENT)
		return rc;
	if (el[D_MEMORY]) {
		if ((rc = mv_xml_size_elem(s, el[D_MEMORY], "memory", &mem)))
			return rc;
		dl->memory = mv_xml_line(el[D_MEMORY]);
	} else {
		if (!ncells)
			return mv_xml_fail(s, dom, "memory", "is required");
		mem = cells_mem;
		dl->memory = mv_xml_line(cell);
	}
	mem = page_align_up(mem);

	struct mv_vm_config *vm = &spec->vm;
	mv_vm_config_default(vm, name, mem);
	vm->ncells = ncells;
	for (int i = 0; i < ncells; i++) {
		vm->cell[i].bytes = page_align_up(cell_bytes[i]);
		vm->cell[i].node = -1;
	}
	mv_guest_config_default(&spec->guest);
	snprintf(vm->source, sizeof vm->source, "%s", s->file);
	vm->source_line = mv_xml_line(dom);

	if (el[D_CURRENT]) {
		dl->current = mv_xml_line(el[D_CURRENT]);
		if ((rc = mv_xml_size_elem(s, el[D_CURRENT], "currentMemory",
					   &vm->current_bytes)))
			return rc;
		vm->current_bytes = page_align_up(vm->current_bytes);
	}
	if (el[D_MEMTUNE] && (rc = parse_memtune(s, el[D_MEMTUNE], vm, dl)))
		return rc;
	if (el[D_BACKING])
		read_backing(el[D_BACKING], vm);
	/* cgroup v2: without <hard_limit> memory.max is "max" (libvirt
	 * writes none), not the guest's size: QEMU's overhead is above it */
	if (sc->reclaim.memtune_cgroup && !dl->hard_limit)
		vm->limit_bytes = MV_LIMIT_NONE;
	/* libvirt's QEMU driver refuses min_guarantee (qemu_validate.c:
	 * "Parameter 'min_guarantee' not supported by QEMU.") */
	if (sc->reclaim.memtune_cgroup && dl->min_guarantee)
		return mv_error_set(s->err, MV_EINVAL, s->file,
				    dl->min_guarantee, "memtune/min_guarantee",
				    "not supported by QEMU (libvirt refuses "
				    "the domain): it is a VMware ESX setting, "
				    "and this host is <host preset=\"kvm\">");
	/* memory.high under cgroup v2: modelled (docs/presets.md) */
	if (vm->soft_limit_bytes && !sc->reclaim.memtune_cgroup &&
	    (rc = mv_scenario_warn(sc, "memtune/soft_limit", s->file,
				   dl->soft_limit, NOT_MODELLED,
				   "<memtune><soft_limit>")))
		return rc;
	if (el[D_DEVICES]) {
		const xmlNode *mb = NULL;
		for (const xmlNode *c = el[D_DEVICES]->children; c;
		     c = c->next) {
			if (!mv_xml_is_plain(c, "memballoon"))
				continue;
			if (mb)
				return mv_xml_fail_duplicate(s, c, mb,
							     "memballoon");
			mb = c;
			if ((rc = parse_memballoon(s, c, spec, dl)) ||
			    (rc = warn_balloon_features(s, c, sc)))
				return rc;
		}
	}
	if (el[D_NUMATUNE] &&
	    (rc = parse_numatune(s, el[D_NUMATUNE], host_nodes, vm, dl)))
		return rc;

	int image_given = 0, size_given = 0;
	if (el[D_METADATA]) {
		const xmlNode *mvn = NULL;
		for (const xmlNode *c = el[D_METADATA]->children; c;
		     c = c->next) {
			if (!is_mv(c, "memvisor"))
				continue; /* other applications' metadata */
			if (mvn)
				return mv_xml_fail_duplicate(s, c, mvn,
							     "memvisor");
			mvn = c;
			if ((rc = parse_memvisor(s, c, spec, &image_given,
						 &size_given)))
				return rc;
		}
	}
	mv_guest_finish(spec, image_given, size_given);

	rc = mv_vm_config_check(vm, s->err);
	if (rc) {
		/* place the error on the element it is about */
		const struct {
			const char *field;
			int line;
		} at[] = {
			{"name", dl->name},
			{"memory", dl->memory},
			{"currentMemory", dl->current},
			{"memtune/hard_limit", dl->hard_limit},
			{"memtune/min_guarantee", dl->min_guarantee},
			{"memtune/soft_limit", dl->soft_limit},
			{"memtune/swap_hard_limit", dl->swap_hard_limit},
			{"memballoon/model", dl->memballoon},
			{"memballoon/stats", dl->stats},
			{"numatune/memory", dl->numatune},
		};
		for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
			if (at[i].line > 0 &&
			    strcmp(s->err->field, at[i].field) == 0)
				s->err->line = at[i].line;
		return rc;
	}
	return 0;
}

/*
 * One libvirt domain document on its own (readers.h), checked as the
 * scenario loader checks a domain file, its workloads against a scenario
 * of the default duration.
 */
int mv_domain_parse(const char *xml, size_t len, const char *file,
		    int host_nodes, struct mv_vm_spec *spec,
		    struct mv_error *err)
{
	struct mv_error dummy;
	if (!err)
		err = &dummy;
	if (!file || !*file)
		file = "<domain>";
	struct mv_scenario sc;
	mv_scenario_default(&sc);
	sc.host.nodes = host_nodes;
	struct mv_xsrc ds = {file, err};
	struct mv_domain_lines dl;
	xmlDoc *doc = NULL;
	int rc = mv_xml_parse(xml, len, file, &doc, err);
	if (!rc)
		rc = mv_domain_read(&ds, xmlDocGetRootElement(doc), &sc, spec,
				    &dl);
	if (!rc)
		rc = mv_workloads_finish(&sc, NULL, spec, err);
	xmlFreeDoc(doc);
	free(sc.warnings);
	return rc;
}
