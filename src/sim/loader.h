/*
 * loader.h - what the parts of the scenario loader share (src/sim/):
 * scenario.c reads <scenario>, <host> and <vm>; domain.c a libvirt
 * <domain> and its memvisor metadata; workloads.c the <workload>
 * elements of both and their traces. Not part of the library's API.
 */
#ifndef MEMVISOR_SIM_LOADER_H
#define MEMVISOR_SIM_LOADER_H

#include "memvisor/sim.h"
#include "sim/xmlattr.h"

/* libvirt's "unlimited" for memtune values, in KiB. */
#define MV_LIBVIRT_UNLIMITED_KIB 9007199254740991ull

/* Where things were in a domain, to place errors found later. */
struct mv_domain_lines {
	char file[256];
	int name, memory, current, hard_limit, min_guarantee, memballoon, stats,
		numatune, soft_limit, swap_hard_limit;
};

/*
 * Read a libvirt <domain> element (and its memvisor metadata) into
 * spec->vm and spec->guest for the host of sc, then validate the VM;
 * settings read but not modelled become sc's warnings. dl receives where
 * things were.
 */
int mv_domain_read(const struct mv_xsrc *s, const xmlNode *dom,
		   struct mv_scenario *sc, struct mv_vm_spec *spec,
		   struct mv_domain_lines *dl);

/*
 * Guest defaults that depend on the VM, for every VM source: the OS
 * image named after the flavour, an image size not given at most a
 * quarter of the VM's memory, the MMU's host page size.
 */
void mv_guest_finish(struct mv_vm_spec *spec, int image_given, int size_given);

/*
 * Record a warning for the scenario's user, once per key (later ones are
 * counted): "file:line: <fmt...>". sc NULL: dropped. 0 or MV_ENOMEM.
 */
int mv_scenario_warn(struct mv_scenario *sc, const char *key, const char *file,
		     int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Append the <workload> element n to g (at most MV_MAX_WORKLOADS). */
int mv_workload_elem_add(const struct mv_xsrc *s, const xmlNode *n,
			 struct mv_guest_config *g);

/*
 * Name unnamed workloads "workload-N", load the traces of trace
 * workloads (relative to base_dir; NULL: none may be loaded), refuse
 * duplicate names and check each against the VM and the scenario.
 */
int mv_workloads_finish(struct mv_scenario *sc, const char *base_dir,
			struct mv_vm_spec *spec, struct mv_error *err);

/* A host of a cluster: a scenario without <vm> is allowed (a host DRS or
 * <migrate> fills); a scenario run alone needs one. */
#define MV_LOAD_EMPTY_OK 1u

/*
 * Read a scenario from its <scenario> element root, already parsed (the
 * one of a document, or one inside a <cluster>'s <host>); `name` is the
 * file in errors and the scenario's source, base_dir anchors the files
 * it names; flags MV_LOAD_*. *out set only on success.
 */
int mv_scenario_load_elem(const xmlNode *root, const char *name,
			  const char *base_dir, unsigned flags,
			  struct mv_scenario **out, struct mv_error *err);
/*
 * Add the VMs of one <vm> element vn (of `file`, anchored at base_dir) to
 * sc, checked as the scenario's own are (its host's NUMA nodes, unique
 * names within sc): a <vm> of a cluster, on the host DRS placed it on.
 */
int mv_scenario_add_vm(struct mv_scenario *sc, const xmlNode *vn,
		       const char *file, const char *base_dir,
		       struct mv_error *err);
/* Free what sc holds (VMs, traces, profiles, warnings) and zero it; sc
 * itself stays the caller's. */
void mv_scenario_free_parts(struct mv_scenario *sc);
/* mv_scenario_load with flags MV_LOAD_*. */
int mv_scenario_load_flags(const char *path, unsigned flags,
			   struct mv_scenario **out, struct mv_error *err);

#endif
