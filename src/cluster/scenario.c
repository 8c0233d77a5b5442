/*
 * scenario.c - loading a <cluster> scenario (docs/cluster.md, section 2):
 * several hosts, each a scenario of today, a network, the migration
 * settings, the balancer, and manual <migrate> events.
 *
 *   <cluster name seed duration step>
 *     <network bandwidth="10Gbit/s" latency="100us"/>
 *     <migration downtime-limit="300ms" max-rounds="30"
 *                on-limit="stop|auto-converge"/>
 *     <drs level="1..5" interval="300s"/>   (or <drs>none</drs>)
 *     <host name="esx01" file="hosts/esx.xml"/>
 *     <host name="esx02"><scenario>...</scenario></host>
 *     <host name="esx03" file="hosts/esx.xml" vm-prefix="esx03-"/>
 *     <migrate vm="web1" from="esx01" to="esx02" at="30s"/>
 *     <maintenance host="esx03" at="10m"/>
 *   </cluster>
 *
 * A host by file is loaded with mv_scenario_load (its errors name its own
 * file); an inline host's <scenario> element is read in place by the
 * scenario loader (mv_scenario_load_elem), so its errors name the cluster
 * file and the line inside it. The cluster's seed, duration and step
 * replace the hosts' (each host's seed derived from the cluster seed and
 * the host's index only: mv_cluster_host_seed). Host names are unique,
 * and VM names unique across the cluster (a VM is named by <migrate>, and
 * its swap file is dir/NAME.vswp).
 *
 * <migrate> events are checked in time order (file order among equal
 * times): the VM exists, is on `from` at that time (where the earlier
 * events left it), `to` is another host, and `at` falls within the run.
 * Errors follow the project's rule: the first one, naming file, line and
 * field; nothing is half loaded.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "memvisor/cluster.h"
#include "sim/loader.h"
#include "sim/readers.h"
#include "sim/xmlattr.h"

#define MAX_HOSTS 256
#define MAX_PLACED 4096 /* the cluster's own <vm>s */
#define MAX_EVENTS 4096
#define MAX_STEPS 100000000ull /* duration / step, as a scenario's */

uint64_t mv_cluster_host_seed(uint64_t seed, int h)
{
	if (h == 0)
		return seed;
	return mv_mix64(seed ^ mv_mix64(0xc1a55e7ull + (uint64_t)h));
}

/*
 * A link's bandwidth: a number and a unit, bits as network links are
 * sold ("10Gbit/s", decimal prefixes) or bytes ("1192MiB/s", binary);
 * into bytes per second.
 */
static int parse_bandwidth(const char *v, double *out)
{
	static const struct {
		const char *unit;
		double bytes;
	} units[] = {
		{"bit/s", 1.0 / 8},   {"kbit/s", 1e3 / 8},
		{"Mbit/s", 1e6 / 8},  {"Gbit/s", 1e9 / 8},
		{"B/s", 1},           {"KiB/s", 1024.0},
		{"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0},
	};
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (end == v || errno || !(x > 0) || x > 1e15)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (!strcmp(end, units[i].unit)) {
			*out = x * units[i].bytes;
			return 0;
		}
	return -1;
}

static int parse_attrs(const struct mv_xsrc *s, const xmlNode *n,
		       struct mv_cluster_scenario *cs)
{
	static const char *const allowed[] = {"name", "seed", "duration",
					      "step", NULL};
	int rc = mv_xml_check_attrs(s, n, "cluster", allowed);
	if (rc)
		return rc;
	const char *v;
	if ((v = mv_xml_attr(n, "name")) &&
	    (rc = mv_xml_name(s, n, "cluster/name", v, cs->name,
			      sizeof cs->name)))
		return rc;
	if ((v = mv_xml_attr(n, "seed")) && mv_parse_u64(v, &cs->seed))
		return mv_xml_fail(s, n, "cluster/seed",
				   "'%s' is not an unsigned integer", v);
	if ((v = mv_xml_attr(n, "duration")) &&
	    (mv_parse_duration(v, &cs->duration_ns) || !cs->duration_ns))
		return mv_xml_fail(s, n, "cluster/duration",
				   "'%s' is not a duration above zero (e.g. "
				   "300s, 5m, 2h)",
				   v);
	if ((v = mv_xml_attr(n, "step")) &&
	    (mv_parse_duration(v, &cs->step_ns) || !cs->step_ns))
		return mv_xml_fail(s, n, "cluster/step",
				   "'%s' is not a duration above zero (e.g. "
				   "10ms)",
				   v);
	if (cs->duration_ns / cs->step_ns > MAX_STEPS)
		return mv_xml_fail(
			s, n, "cluster/step",
			"the run would take %llu steps; at most %llu",
			(unsigned long long)(cs->duration_ns / cs->step_ns),
			MAX_STEPS);
	return 0;
}

static int parse_network(const struct mv_xsrc *s, const xmlNode *n,
			 struct mv_cluster_scenario *cs)
{
	static const char *const allowed[] = {"bandwidth", "latency", NULL};
	int rc = mv_xml_check_leaf(s, n, "network", allowed);
	if (rc)
		return rc;
	const char *v;
	if ((v = mv_xml_attr(n, "bandwidth")) &&
	    parse_bandwidth(v, &cs->bandwidth))
		return mv_xml_fail(s, n, "network/bandwidth",
				   "'%s' is not a bandwidth (e.g. 10Gbit/s, "
				   "1Gbit/s, 128MiB/s)",
				   v);
	if ((v = mv_xml_attr(n, "latency")) &&
	    mv_parse_duration(v, &cs->latency_ns))
		return mv_xml_fail(s, n, "network/latency",
				   "'%s' is not a duration (e.g. 100us)", v);
	return 0;
}

/* <storage swap="local|shared">: where the VMs' swap files are. */
static int parse_storage(const struct mv_xsrc *s, const xmlNode *n,
			 struct mv_migrate_config *m)
{
	static const char *const allowed[] = {"swap", NULL};
	int rc = mv_xml_check_leaf(s, n, "storage", allowed);
	if (rc)
		return rc;
	const char *v = mv_xml_attr(n, "swap");
	if (v && strcmp(v, "shared") && strcmp(v, "local"))
		return mv_xml_fail(s, n, "storage/swap",
				   "'%s' is not 'local' (each host's own "
				   "disk, the default) or 'shared' (storage "
				   "every host reaches)",
				   v);
	m->shared_swap = v && strcmp(v, "shared") == 0;
	return 0;
}

static int parse_migration(const struct mv_xsrc *s, const xmlNode *n,
			   struct mv_migrate_config *m)
{
	static const char *const allowed[] = {"downtime-limit", "max-rounds",
					      "on-limit", NULL};
	int rc = mv_xml_check_leaf(s, n, "migration", allowed);
	if (rc)
		return rc;
	const char *v;
	uint64_t u;
	if ((v = mv_xml_attr(n, "downtime-limit")) &&
	    (mv_parse_duration(v, &m->downtime_limit_ns) ||
	     !m->downtime_limit_ns))
		return mv_xml_fail(s, n, "migration/downtime-limit",
				   "'%s' is not a duration above zero (e.g. "
				   "300ms)",
				   v);
	if ((v = mv_xml_attr(n, "max-rounds"))) {
		if (mv_parse_u64(v, &u) || u < 1 || u > 10000)
			return mv_xml_fail(s, n, "migration/max-rounds",
					   "'%s': a whole number from 1 to "
					   "10000",
					   v);
		m->max_rounds = (int)u;
	}
	if ((v = mv_xml_attr(n, "on-limit"))) {
		if (!strcmp(v, "stop"))
			m->auto_converge = 0;
		else if (!strcmp(v, "auto-converge"))
			m->auto_converge = 1;
		else
			return mv_xml_fail(s, n, "migration/on-limit",
					   "'%s': stop or auto-converge", v);
	}
	return 0;
}

/*
 * <drs>none</drs>, <drs level="none"/>, or <drs level="1..5"
 * interval="300s" max-per-host="8" min-goodness="0.1"
 * cost-benefit="on|off" max-moves="0" idle-demand="25%"/>
 * (docs/cluster.md, section 4).
 */
static int parse_drs(const struct mv_xsrc *s, const xmlNode *n,
		     struct mv_cluster_scenario *cs)
{
	static const char *const allowed[] = {
		"level",        "interval",     "max-per-host", "min-goodness",
		"cost-benefit", "max-moves",    "idle-demand",  NULL};
	int rc = mv_xml_check_leaf(s, n, "drs", allowed);
	char text[32];
	if (rc || (rc = mv_xml_text(s, n, "drs", text, sizeof text)))
		return rc;
	const char *level = mv_xml_attr(n, "level");
	if (text[0] && strcmp(text, "none"))
		return mv_xml_fail(s, n, "drs",
				   "'%s': write none, or give level=\"1..5\"",
				   text);
	if (!level && !text[0])
		return mv_xml_fail(s, n, "drs",
				   "is empty: write none, or give "
				   "level=\"1..5\"");
	struct mv_drs_config *d = &cs->drs;
	uint64_t u;
	cs->drs_line = mv_xml_line(n);
	if (!level || !strcmp(level, "none")) {
		cs->drs_level = 0;
	} else if (text[0]) {
		return mv_xml_fail(s, n, "drs",
				   "has level='%s' and the text none: give one",
				   level);
	} else if (mv_parse_u64(level, &u) || u < 1 || u > 5) {
		return mv_xml_fail(s, n, "drs/level",
				   "'%s': a migration threshold from 1 "
				   "(conservative) to 5 (aggressive), or none",
				   level);
	} else {
		cs->drs_level = d->level = (int)u;
	}
	const char *v;
	if ((v = mv_xml_attr(n, "interval")) &&
	    (mv_parse_duration(v, &d->interval_ns) || !d->interval_ns))
		return mv_xml_fail(s, n, "drs/interval",
				   "'%s' is not a duration above zero (e.g. "
				   "300s, 5m)",
				   v);
	if ((v = mv_xml_attr(n, "max-per-host"))) {
		if (mv_parse_u64(v, &u) || u < 1 || u > 128)
			return mv_xml_fail(s, n, "drs/max-per-host",
					   "'%s': a whole number from 1 to 128",
					   v);
		d->max_per_host = (int)u;
	}
	if ((v = mv_xml_attr(n, "max-moves"))) {
		if (mv_parse_u64(v, &u) || u > 100000)
			return mv_xml_fail(s, n, "drs/max-moves",
					   "'%s': a whole number from 0 (no "
					   "cap) to 100000",
					   v);
		d->max_moves = (int)u;
	}
	if ((v = mv_xml_attr(n, "min-goodness"))) {
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		if (end == v || *end || errno || !(x >= 0) || x > 100)
			return mv_xml_fail(s, n, "drs/min-goodness",
					   "'%s': a number from 0 (off) to 100 "
					   "(steps of the priority scale)",
					   v);
		d->min_goodness_step = x;
	}
	if ((v = mv_xml_attr(n, "idle-demand"))) {
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		if (end == v || strcmp(end, "%") || errno || !(x >= 0) ||
		    x > 100)
			return mv_xml_fail(s, n, "drs/idle-demand",
					   "'%s': a percentage from 0%% to "
					   "100%%",
					   v);
		cs->drs_idle_demand = x / 100;
	}
	if ((v = mv_xml_attr(n, "cost-benefit"))) {
		if (!strcmp(v, "on"))
			d->cost_benefit = 1;
		else if (!strcmp(v, "off"))
			d->cost_benefit = 0;
		else
			return mv_xml_fail(s, n, "drs/cost-benefit",
					   "'%s': on or off", v);
	}
	return 0;
}

/* The directory of path ("" for the current one), into dir. */
static int dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	if (slash && len == 0)
		len = 1;
	if (len >= n)
		return -1;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return 0;
}

static int check_names(const struct mv_xsrc *s,
		       const struct mv_cluster_scenario *cs, int h);

/*
 * vm-prefix="esx05-": put it before every VM name of the host's scenario,
 * so that one host file serves several hosts of a cluster (VM names are
 * unique in a cluster).
 */
static int prefix_vms(const struct mv_xsrc *s, const xmlNode *n,
		      struct mv_cluster_host *h)
{
	const char *p = mv_xml_attr(n, "vm-prefix");
	if (!p || !h->sc)
		return 0;
	for (int i = 0; i < h->sc->nvms; i++) {
		char *name = h->sc->vms[i].vm.name;
		size_t size = sizeof h->sc->vms[i].vm.name;
		if (strlen(p) + strlen(name) >= size)
			return mv_xml_fail(s, n, "host/vm-prefix",
					   "'%s' with VM '%s' makes a name "
					   "longer than %zu characters",
					   p, name, size - 1);
		memmove(name + strlen(p), name, strlen(name) + 1);
		memcpy(name, p, strlen(p));
	}
	return 0;
}

/* Host number cs->nhosts: its name (unique), then its scenario. */
static int parse_host(const struct mv_xsrc *s, const xmlNode *n,
		      const char *base_dir, struct mv_cluster_scenario *cs)
{
	struct mv_cluster_host *h = &cs->host[cs->nhosts];
	static const char *const allowed[] = {"name", "file", "vm-prefix",
					      NULL};
	int rc = mv_xml_check_attrs(s, n, "host", allowed);
	if (rc)
		return rc;
	h->line = mv_xml_line(n);
	const char *v = mv_xml_attr(n, "name");
	if (!v)
		return mv_xml_fail(s, n, "host/name", "is required");
	if ((rc = mv_xml_name(s, n, "host/name", v, h->name, sizeof h->name)))
		return rc;
	for (int g = 0; g < cs->nhosts; g++)
		if (!strcmp(cs->host[g].name, h->name))
			return mv_xml_fail(s, n, "host/name",
					   "duplicate host name '%s' (first "
					   "at line %d)",
					   h->name, cs->host[g].line);
	if (h->name[strcspn(h->name, ",\"\n")])
		return mv_xml_fail(s, n, "host/name",
				   "'%s': no comma or quote in a host name "
				   "(the CSV's host column)",
				   h->name);
	const char *prefix = mv_xml_attr(n, "vm-prefix");
	char check[64];
	if (prefix && (rc = mv_xml_name(s, n, "host/vm-prefix", prefix, check,
					sizeof check)))
		return rc;
	const xmlNode *inl = NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		if (!mv_xml_is_plain(c, "scenario"))
			return mv_xml_fail_unknown(s, c, "host");
		if (inl)
			return mv_xml_fail_duplicate(s, c, inl,
						     "host/scenario");
		inl = c;
	}
	const char *file = mv_xml_attr(n, "file");
	if (file && inl)
		return mv_xml_fail(s, inl, "host/scenario",
				   "host '%s' has a file= and an inline "
				   "<scenario>: give one",
				   h->name);
	if (!file && !inl)
		return mv_xml_fail(s, n, "host/file",
				   "host '%s' needs file= or an inline "
				   "<scenario>",
				   h->name);
	if (inl) {
		rc = mv_scenario_load_elem(inl, s->file, base_dir,
					   MV_LOAD_EMPTY_OK, &h->sc, s->err);
	} else {
		if (!file[0] ||
		    mv_path_join(base_dir, file, h->file, sizeof h->file))
			return mv_xml_fail(s, n, "host/file",
					   "'%s': empty or too long", file);
		rc = mv_scenario_load_flags(h->file, MV_LOAD_EMPTY_OK, &h->sc,
					    s->err);
	}
	if (rc)
		return rc;
	snprintf(h->sc->name, sizeof h->sc->name, "%s", h->name);
	return prefix_vms(s, n, h);
}

/* The host named v, or -1 after an error naming field. */
static int host_index(const struct mv_xsrc *s, const xmlNode *n,
		      const struct mv_cluster_scenario *cs, const char *field,
		      const char *v)
{
	if (!v) {
		mv_xml_fail(s, n, field, "is required");
		return -1;
	}
	for (int h = 0; h < cs->nhosts; h++)
		if (!strcmp(cs->host[h].name, v))
			return h;
	mv_xml_fail(s, n, field, "no host named '%s' in the cluster", v);
	return -1;
}

/* The VM named name: its host and index there; 0, or -1. */
static int find_vm(const struct mv_cluster_scenario *cs, const char *name,
		   int *host, int *vm)
{
	for (int h = 0; h < cs->nhosts; h++)
		for (int i = 0; i < cs->host[h].sc->nvms; i++)
			if (!strcmp(cs->host[h].sc->vms[i].vm.name, name)) {
				*host = h;
				*vm = i;
				return 0;
			}
	return -1;
}

/* An event's at="TIME": required, within the run. */
static int parse_at(const struct mv_xsrc *s, const xmlNode *n,
		    const struct mv_cluster_scenario *cs, const char *field,
		    uint64_t *at_ns)
{
	const char *v = mv_xml_attr(n, "at");
	if (!v)
		return mv_xml_fail(s, n, field, "is required");
	if (mv_parse_duration(v, at_ns))
		return mv_xml_fail(s, n, field,
				   "'%s' is not a duration (e.g. 30s, 5m)", v);
	if (*at_ns >= cs->duration_ns) {
		char d[32];
		return mv_xml_fail(
			s, n, field,
			"'%s' is not before the end of the "
			"run (%s)",
			v, mv_xml_duration_str(cs->duration_ns, d, sizeof d));
	}
	return 0;
}

static int parse_migrate(const struct mv_xsrc *s, const xmlNode *n,
			 const struct mv_cluster_scenario *cs,
			 struct mv_cluster_event *e)
{
	static const char *const allowed[] = {"vm", "from", "to", "at", NULL};
	int rc = mv_xml_check_leaf(s, n, "migrate", allowed);
	if (rc)
		return rc;
	e->kind = MV_CEV_MIGRATE;
	e->line = mv_xml_line(n);
	const char *v = mv_xml_attr(n, "vm");
	if (!v)
		return mv_xml_fail(s, n, "migrate/vm", "is required");
	if ((rc = mv_xml_name(s, n, "migrate/vm", v, e->vm_name,
			      sizeof e->vm_name)))
		return rc;
	int home;
	if (find_vm(cs, e->vm_name, &home, &e->vm)) {
		for (int k = 0; k < cs->nplaced; k++)
			if (!strcmp(cs->placed[k].vm, e->vm_name))
				return mv_xml_fail(
					s, n, "migrate/vm",
					"VM '%s' (line %d) is not powered "
					"on: no host admits its reservation",
					v, cs->placed[k].line);
		return mv_xml_fail(s, n, "migrate/vm",
				   "no VM named '%s' in the cluster", v);
	}
	if ((e->from = host_index(s, n, cs, "migrate/from",
				  mv_xml_attr(n, "from"))) < 0 ||
	    (e->to = host_index(s, n, cs, "migrate/to", mv_xml_attr(n, "to"))) <
		    0)
		return MV_EINVAL;
	if (e->from == e->to)
		return mv_xml_fail(s, n, "migrate/to",
				   "'%s' is the host it leaves",
				   cs->host[e->to].name);
	return parse_at(s, n, cs, "migrate/at", &e->at_ns);
}

static int parse_maintenance(const struct mv_xsrc *s, const xmlNode *n,
			     const struct mv_cluster_scenario *cs,
			     struct mv_cluster_event *e)
{
	static const char *const allowed[] = {"host", "at", NULL};
	int rc = mv_xml_check_leaf(s, n, "maintenance", allowed);
	if (rc)
		return rc;
	e->kind = MV_CEV_MAINTENANCE;
	e->line = mv_xml_line(n);
	if (!cs->drs_level)
		return mv_xml_fail(s, n, "maintenance",
				   "needs DRS to evacuate the host: give "
				   "<drs level=\"1..5\"/> (level 1 makes "
				   "only the mandatory moves)");
	if ((e->from = e->to = host_index(s, n, cs, "maintenance/host",
					  mv_xml_attr(n, "host"))) < 0)
		return MV_EINVAL;
	return parse_at(s, n, cs, "maintenance/at", &e->at_ns);
}

static int by_time(const void *a, const void *b)
{
	const struct mv_cluster_event *x = a, *y = b;
	if (x->at_ns != y->at_ns)
		return x->at_ns < y->at_ns ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Where each VM is when each <migrate> starts: on the event's `from`
 * (where the earlier <migrate> events left it; DRS's moves are not known
 * before the run). No <migrate> goes to a host in maintenance mode then,
 * and a host enters maintenance mode once.
 */
static int check_events(const struct mv_xsrc *s, struct mv_cluster_scenario *cs)
{
	qsort(cs->event, (size_t)cs->nevents, sizeof *cs->event, by_time);
	for (int k = 0; k < cs->nevents; k++) {
		const struct mv_cluster_event *e = &cs->event[k];
		for (int j = 0; j < cs->nevents; j++) {
			const struct mv_cluster_event *x = &cs->event[j];
			/* a host is in maintenance mode from its event's
			 * time on, whatever the order in the file */
			if (j == k || x->kind != MV_CEV_MAINTENANCE ||
			    x->from != e->to || x->at_ns > e->at_ns ||
			    (e->kind == MV_CEV_MAINTENANCE && j > k))
				continue;
			if (e->kind == MV_CEV_MAINTENANCE)
				return mv_error_set(
					s->err, MV_EINVAL, s->file, e->line,
					"maintenance/host",
					"host '%s' enters maintenance mode "
					"already at line %d",
					cs->host[e->to].name, x->line);
			return mv_error_set(
				s->err, MV_EINVAL, s->file, e->line,
				"migrate/to",
				"host '%s' is in maintenance mode then "
				"(line %d): it takes no VM",
				cs->host[e->to].name, x->line);
		}
		if (e->kind != MV_CEV_MIGRATE)
			continue;
		int host, vm, line = 0;
		find_vm(cs, e->vm_name, &host, &vm);
		for (int j = 0; j < k; j++)
			if (cs->event[j].kind == MV_CEV_MIGRATE &&
			    !strcmp(cs->event[j].vm_name, e->vm_name)) {
				host = cs->event[j].to;
				line = cs->event[j].line;
			}
		if (host == e->from)
			continue;
		char why[96] = "";
		if (line)
			snprintf(why, sizeof why, " (moved there by line %d)",
				 line);
		return mv_error_set(s->err, MV_EINVAL, s->file, e->line,
				    "migrate/from",
				    "VM '%s' is on host '%s' then%s, not on "
				    "'%s'",
				    e->vm_name, cs->host[host].name, why,
				    cs->host[e->from].name);
	}
	return 0;
}

/* No two VMs of the cluster share a name (host h's against the
 * earlier hosts'), and no name breaks the CSV. */
static int check_names(const struct mv_xsrc *s,
		       const struct mv_cluster_scenario *cs, int h)
{
	const struct mv_cluster_host *H = &cs->host[h];
	for (int i = 0; i < H->sc->nvms; i++) {
		const char *nm = H->sc->vms[i].vm.name;
		if (nm[strcspn(nm, ",\"\n")])
			return mv_error_set(s->err, MV_EINVAL, s->file, H->line,
					    "vm/name",
					    "'%s' of host '%s': no comma or "
					    "quote in a VM name of a cluster "
					    "(the CSV's vm column)",
					    nm, H->name);
		for (int g = 0; g < h; g++)
			for (int j = 0; j < cs->host[g].sc->nvms; j++)
				if (!strcmp(cs->host[g].sc->vms[j].vm.name, nm))
					return mv_error_set(
						s->err, MV_EINVAL, s->file,
						H->line, "vm/name",
						"VM name '%s' of host '%s' is "
						"also on host '%s': VM names "
						"are unique in a cluster",
						nm, H->name, cs->host[g].name);
	}
	return 0;
}

/* Two hosts keeping their swap files (<swap keep="yes">) in one directory
 * on host-local storage: a VM moving between them would need a second
 * file of its name (dir/NAME.vswp) beside the source's, which is removed
 * only after the switch-over. With <storage swap="shared"/> the file
 * goes with the VM and the directory may be shared. */
static int check_swap_dir(const struct mv_xsrc *s,
			  const struct mv_cluster_scenario *cs, int h)
{
	const struct mv_cluster_host *H = &cs->host[h];
	const struct mv_reclaim_config *r = &H->sc->reclaim;
	if (cs->migrate.shared_swap || !r->keep_swap || !r->swap_dir[0])
		return 0;
	char mine[PATH_MAX], other[PATH_MAX];
	const char *a = realpath(r->swap_dir, mine) ? mine : r->swap_dir;
	for (int g = 0; g < h; g++) {
		const struct mv_reclaim_config *o = &cs->host[g].sc->reclaim;
		if (!o->keep_swap || !o->swap_dir[0])
			continue;
		const char *b = realpath(o->swap_dir, other) ? other
							     : o->swap_dir;
		if (!strcmp(a, b))
			return mv_error_set(
				s->err, MV_EINVAL, s->file, H->line, "swap/dir",
				"hosts '%s' and '%s' keep their swap files in "
				"'%s': a VM moving between them would need two "
				"files of one name there; give each host its "
				"own directory, or put the swap files on "
				"shared storage (<storage swap=\"shared\"/>)",
				cs->host[g].name, H->name, r->swap_dir);
	}
	return 0;
}

/* The NUMA nodes a VM's <numatune> names need: the highest named + 1. */
static int nodes_needed(const struct mv_vm_config *v)
{
	unsigned set = v->numa.nodeset;
	for (int c = 0; c < v->ncells; c++)
		set |= v->cell[c].policy.nodeset |
		       (v->cell[c].node >= 0 ? 1u << v->cell[c].node : 0);
	int n = 0;
	while (set >> n)
		n++;
	return n;
}

/* A VM's figures for the placement, before anything ran. */
static void place_vm_figures(const struct mv_vm_config *v, int host,
			     struct mv_drs_vm *d)
{
	mv_cluster_drs_vm(v, host, d);
	/* no VM has run: no active-memory estimate yet, so each is taken to
	 * demand all its memory (docs/cluster.md, "Initial placement") */
	d->active = d->configured;
}

/*
 * The cluster's own <vm>s, in file order: DRS's initial placement
 * (mv_drs_place) on the figures of every VM placed so far, each then read
 * into the chosen host's scenario; a VM no host admits is recorded with
 * host -1 and not powered on (vSphere's admission control).
 */
static int place_vms(const struct mv_xsrc *s, const xmlNode *root,
		     const char *base_dir, int nplace,
		     struct mv_cluster_scenario *cs)
{
	const xmlNode *first = NULL;
	for (const xmlNode *c = root->children; c && !first; c = c->next)
		if (mv_xml_is_plain(c, "vm"))
			first = c;
	if (!cs->drs_level)
		return mv_xml_fail(s, first, "vm",
				   "a <vm> of the cluster is placed by DRS at "
				   "power-on: give <drs level=\"1..5\"> "
				   "(vSphere places no VM in a cluster "
				   "without DRS), or put it in a host's "
				   "scenario");
	cs->placed = calloc((size_t)nplace, sizeof *cs->placed);
	struct mv_drs_host *hosts = calloc((size_t)cs->nhosts, sizeof *hosts);
	int nvms = nplace;
	for (int h = 0; h < cs->nhosts; h++)
		nvms += cs->host[h].sc->nvms;
	struct mv_drs_vm *vms = calloc((size_t)nvms, sizeof *vms);
	struct mv_scenario *scratch = calloc(1, sizeof *scratch);
	int rc = 0;
	if (!cs->placed || !hosts || !vms || !scratch)
		rc = mv_error_set(s->err, MV_ENOMEM, s->file, 0, NULL,
				  "out of memory");
	int n = 0;
	for (int h = 0; !rc && h < cs->nhosts; h++) {
		const struct mv_scenario *sc = cs->host[h].sc;
		hosts[h].capacity = sc->host.mem_bytes / MV_PAGE_SIZE;
		hosts[h].name = cs->host[h].name;
		for (int i = 0; i < sc->nvms; i++)
			place_vm_figures(&sc->vms[i].vm, h, &vms[n++]);
	}
	for (const xmlNode *c = root->children; !rc && c; c = c->next) {
		if (!mv_xml_is_plain(c, "vm"))
			continue;
		if (mv_xml_attr(c, "count")) {
			rc = mv_xml_fail(s, c, "vm/count",
					 "DRS places each VM of the cluster "
					 "on its own: give each its own <vm>");
			break;
		}
		/* its figures, read once against the host with the most
		 * NUMA nodes, for the cluster's duration */
		int wide = 0;
		for (int h = 1; h < cs->nhosts; h++)
			if (cs->host[h].sc->host.nodes >
			    cs->host[wide].sc->host.nodes)
				wide = h;
		mv_scenario_default(scratch);
		scratch->host = cs->host[wide].sc->host;
		scratch->duration_ns = cs->duration_ns;
		scratch->step_ns = cs->step_ns;
		if ((rc = mv_scenario_add_vm(scratch, c, s->file, base_dir,
					     s->err)))
			break;
		const struct mv_vm_config *vc = &scratch->vms[0].vm;
		struct mv_drs_vm v;
		place_vm_figures(vc, -1, &v);
		struct mv_cluster_placement *p = &cs->placed[cs->nplaced++];
		snprintf(p->vm, sizeof p->vm, "%s", vc->name);
		p->line = mv_xml_line(c);
		/* unique in the cluster, placed or not */
		for (int g = 0; !rc && g < cs->nhosts; g++)
			for (int j = 0; !rc && j < cs->host[g].sc->nvms; j++)
				if (!strcmp(cs->host[g].sc->vms[j].vm.name,
					    p->vm))
					rc = mv_xml_fail(
						s, c, "vm/name",
						"VM name '%s' is also on host "
						"'%s': VM names are unique in "
						"a cluster",
						p->vm, cs->host[g].name);
		for (int k = 0; !rc && k < cs->nplaced - 1; k++)
			if (cs->placed[k].host < 0 &&
			    !strcmp(cs->placed[k].vm, p->vm))
				rc = mv_xml_fail(s, c, "vm/name",
						 "VM name '%s' is also at line "
						 "%d: VM names are unique in a "
						 "cluster",
						 p->vm, cs->placed[k].line);
		if (rc)
			break;
		/* only the hosts with the NUMA nodes its <numatune> names */
		int need = nodes_needed(vc);
		for (int h = 0; h < cs->nhosts; h++)
			hosts[h].maintenance = cs->host[h].sc->host.nodes < need;
		p->host = mv_drs_place(hosts, cs->nhosts, vms, n, &v);
		mv_scenario_free_parts(scratch);
		if (p->host < 0)
			continue; /* not powered on: said in the report */
		v.host = p->host;
		vms[n++] = v;
		struct mv_scenario *sc = cs->host[p->host].sc;
		rc = mv_scenario_add_vm(sc, c, s->file, base_dir, s->err);
	}
	free(hosts);
	free(vms);
	mv_scenario_free_parts(scratch);
	free(scratch);
	return rc;
}

/* The elements that may appear once, and where they were first. */
enum { K_NETWORK, K_MIGRATION, K_DRS, K_STORAGE, K_COUNT };
static const char *const once_kids[K_COUNT] = {"network", "migration", "drs",
					       "storage"};

static int parse_cluster(const struct mv_xsrc *s, const xmlNode *root,
			 const char *base_dir, struct mv_cluster_scenario *cs)
{
	if (!mv_xml_is_plain(root, "cluster")) {
		char label[128];
		return mv_xml_fail(s, root, "cluster",
				   "root element is %s, expected <cluster>",
				   mv_xml_label(root, label, sizeof label));
	}
	int rc = parse_attrs(s, root, cs);
	if (rc)
		return rc;
	const xmlNode *first[K_COUNT] = {0};
	int nhosts = 0, nevents = 0, nplace = 0;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (!mv_xml_is_elem(c))
			continue;
		int k = 0;
		while (k < K_COUNT && !mv_xml_is_plain(c, once_kids[k]))
			k++;
		if (k < K_COUNT) {
			if (first[k])
				return mv_xml_fail_duplicate(s, c, first[k],
							     once_kids[k]);
			first[k] = c;
		} else if (mv_xml_is_plain(c, "host")) {
			if (++nhosts > MAX_HOSTS)
				return mv_xml_fail(s, c, "host",
						   "at most %d hosts",
						   MAX_HOSTS);
		} else if (mv_xml_is_plain(c, "vm")) {
			if (++nplace > MAX_PLACED)
				return mv_xml_fail(s, c, "vm",
						   "at most %d VMs placed by "
						   "DRS",
						   MAX_PLACED);
		} else if (mv_xml_is_plain(c, "migrate") ||
			   mv_xml_is_plain(c, "maintenance")) {
			if (++nevents > MAX_EVENTS)
				return mv_xml_fail(s, c, (const char *)c->name,
						   "at most %d events "
						   "(<migrate>, <maintenance>)",
						   MAX_EVENTS);
		} else {
			return mv_xml_fail_unknown(s, c, "cluster");
		}
	}
	if (first[K_STORAGE] &&
	    (rc = parse_storage(s, first[K_STORAGE], &cs->migrate)))
		return rc;
	if ((first[K_NETWORK] &&
	     (rc = parse_network(s, first[K_NETWORK], cs))) ||
	    (first[K_MIGRATION] &&
	     (rc = parse_migration(s, first[K_MIGRATION], &cs->migrate))) ||
	    (first[K_DRS] && (rc = parse_drs(s, first[K_DRS], cs))))
		return rc;
	cs->migrate.bandwidth = cs->bandwidth;
	cs->drs.bandwidth = cs->migrate.bandwidth;
	cs->drs.downtime_limit_ns = cs->migrate.downtime_limit_ns;
	cs->drs.max_rounds = cs->migrate.max_rounds;
	if (nhosts == 0)
		return mv_xml_fail(s, root, "host",
				   "at least one <host> is required");
	cs->host = calloc((size_t)nhosts, sizeof *cs->host);
	cs->event = calloc((size_t)nevents + 1, sizeof *cs->event);
	if (!cs->host || !cs->event)
		return mv_error_set(s->err, MV_ENOMEM, s->file, 0, NULL,
				    "out of memory");
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (!mv_xml_is_plain(c, "host"))
			continue;
		if ((rc = parse_host(s, c, base_dir, cs)))
			return rc;
		cs->nhosts++;
		if ((rc = check_names(s, cs, cs->nhosts - 1)) ||
		    (rc = check_swap_dir(s, cs, cs->nhosts - 1)))
			return rc;
	}
	mv_cluster_apply(cs);
	if (nplace && (rc = place_vms(s, root, base_dir, nplace, cs)))
		return rc;
	for (const xmlNode *c = root->children; c; c = c->next) {
		struct mv_cluster_event *e = &cs->event[cs->nevents];
		if (mv_xml_is_plain(c, "migrate"))
			rc = parse_migrate(s, c, cs, e);
		else if (mv_xml_is_plain(c, "maintenance"))
			rc = parse_maintenance(s, c, cs, e);
		else
			continue;
		if (rc)
			return rc;
		cs->nevents++;
	}
	if ((rc = check_events(s, cs)))
		return rc;
	return mv_cluster_check_times(cs, NULL, s->err);
}

static void cluster_default(struct mv_cluster_scenario *cs, const char *name)
{
	memset(cs, 0, sizeof *cs);
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	size_t len = strcspn(b, ".");
	snprintf(cs->name, sizeof cs->name, "%.*s", len ? (int)len : 7,
		 len ? b : "cluster");
	snprintf(cs->source, sizeof cs->source, "%s", name);
	cs->seed = 1;
	cs->duration_ns = 60 * MV_NS_PER_S;
	cs->step_ns = 10 * MV_NS_PER_MS;
	mv_migrate_config_default(&cs->migrate);
	cs->bandwidth = cs->migrate.bandwidth;
	mv_drs_config_default(&cs->drs);
	cs->drs_idle_demand = 0.25;
}

static int load_buffer(const char *buf, size_t len, const char *name,
		       const char *base_dir, struct mv_cluster_scenario **out,
		       struct mv_error *err)
{
	*out = NULL;
	struct mv_cluster_scenario *cs = calloc(1, sizeof *cs);
	if (!cs)
		return mv_error_set(err, MV_ENOMEM, name, 0, NULL,
				    "out of memory");
	cluster_default(cs, name);
	xmlDoc *doc = NULL;
	int rc = mv_xml_parse(buf, len, name, &doc, err);
	if (!rc) {
		struct mv_xsrc s = {name, err};
		rc = parse_cluster(&s, xmlDocGetRootElement(doc), base_dir, cs);
		xmlFreeDoc(doc);
	}
	if (rc) {
		mv_cluster_scenario_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

/* ---------------------------------------------------------------- *
 * Public functions.
 * ---------------------------------------------------------------- */

void mv_cluster_apply(struct mv_cluster_scenario *cs)
{
	for (int h = 0; h < cs->nhosts; h++) {
		struct mv_cluster_host *H = &cs->host[h];
		H->seed = mv_cluster_host_seed(cs->seed, h);
		if (!H->sc)
			continue;
		H->sc->seed = H->seed;
		H->sc->duration_ns = cs->duration_ns;
		H->sc->step_ns = cs->step_ns;
		/* a host's own stats interval and active window stay, but
		 * never shorter than the cluster's step */
		if (H->sc->stats_interval_ns < cs->step_ns)
			H->sc->stats_interval_ns = cs->step_ns;
		if (H->sc->active_window_ns < cs->step_ns)
			H->sc->active_window_ns = cs->step_ns;
	}
}

int mv_cluster_check_times(const struct mv_cluster_scenario *cs,
			   const char *given, struct mv_error *err)
{
	char d[32], t[32], by[48] = "";
	mv_xml_duration_str(cs->duration_ns, d, sizeof d);
	if (given)
		snprintf(by, sizeof by, ", %s", given);
	for (int k = 0; k < cs->nevents; k++) {
		const struct mv_cluster_event *e = &cs->event[k];
		if (e->at_ns < cs->duration_ns)
			continue;
		return mv_error_set(
			err, MV_EINVAL, cs->source, e->line,
			e->kind == MV_CEV_MIGRATE ? "migrate/at"
						  : "maintenance/at",
			"'%s' is not before the end of the run (%s%s)",
			mv_xml_duration_str(e->at_ns, t, sizeof t), d, by);
	}
	/* level 1 runs for maintenance mode between intervals; a balancing
	 * level only at them */
	if (cs->drs_level >= 2 && cs->drs.interval_ns > cs->duration_ns)
		return mv_error_set(
			err, MV_EINVAL, cs->source, cs->drs_line, "drs/interval",
			"'%s' is longer than the run (%s%s): DRS would never "
			"run",
			mv_xml_duration_str(cs->drs.interval_ns, t, sizeof t),
			d, by);
	return 0;
}

int mv_cluster_load(const char *path, struct mv_cluster_scenario **out,
		    struct mv_error *err)
{
	*out = NULL;
	char *buf, dir[4096];
	size_t len;
	if (dir_of(path, dir, sizeof dir))
		return mv_error_set(err, MV_EINVAL, path, 0, NULL,
				    "path is too long");
	if (mv_read_file(path, &buf, &len) != 0) {
		int e = errno;
		return mv_error_set(
			err, e == ENOENT || e == ENOTDIR ? MV_ENOENT : MV_EIO,
			path, 0, NULL, "cannot open: %s", strerror(e));
	}
	int rc = load_buffer(buf, len, path, dir, out, err);
	free(buf);
	return rc;
}

int mv_cluster_load_string(const char *xml, const char *name,
			   const char *base_dir,
			   struct mv_cluster_scenario **out,
			   struct mv_error *err)
{
	if (!name || !*name)
		name = "<string>";
	return load_buffer(xml, strlen(xml), name, base_dir ? base_dir : "",
			   out, err);
}

void mv_cluster_scenario_free(struct mv_cluster_scenario *cs)
{
	if (!cs)
		return;
	for (int h = 0; h < cs->nhosts; h++)
		mv_scenario_free(cs->host[h].sc);
	/* a host that failed to load mid-way holds nothing */
	free(cs->host);
	free(cs->event);
	free(cs->placed);
	free(cs);
}

int mv_cluster_file_is(const char *path)
{
	char *buf;
	size_t len;
	if (mv_read_file(path, &buf, &len) != 0)
		return 0;
	struct mv_error err = {0};
	xmlDoc *doc = NULL;
	int is = 0;
	if (mv_xml_parse(buf, len, path, &doc, &err) == 0) {
		is = mv_xml_is_plain(xmlDocGetRootElement(doc), "cluster");
		xmlFreeDoc(doc);
	}
	free(buf);
	return is;
}
