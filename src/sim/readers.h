/*
 * readers.h - the readers of VM descriptions behind the scenario loader,
 * callable on their own (unit tests, the fuzz harnesses in fuzz/).
 *
 * A VM comes either from a libvirt <domain> (src/sim/domain.c) or from
 * a VMware .vmx file (src/sim/vmx.c). Both fill a struct mv_vm_spec: the
 * VM configuration checked by mv_vm_config_check, and the guest OS model
 * at its defaults (plus what the source says about the OS). Bad input is
 * MV_EINVAL with err = "file:line: field: problem", field named as in the
 * source ("memtune/hard_limit", "sched.mem.max").
 */
#ifndef MEMVISOR_SIM_READERS_H
#define MEMVISOR_SIM_READERS_H

#include <stddef.h>

#include "memvisor/sim.h"

/* Largest .vmx or XML file a reader accepts. */
#define MV_READER_MAX_BYTES (64 * MV_MIB)

/*
 * Read a whole regular file into a NUL-terminated malloc'd buffer. -1 with
 * errno set (EISDIR / EINVAL for what is not a regular file, EFBIG above
 * MV_READER_MAX_BYTES): FIFOs and devices are refused so that a scenario
 * naming /dev/stdin cannot hang a run.
 */
int mv_read_file(const char *path, char **buf, size_t *len);

/*
 * Every file a scenario names, read the one way: path must be a readable
 * regular file of at most MV_READER_MAX_BYTES, else MV_ENOENT, MV_EINVAL
 * or MV_EIO with err at (file, line, field) saying what path is ("is a
 * FIFO, not a regular file", "is 65.0 MiB, larger than the 64 MiB limit
 * for a domain file"); what names the file's role. On success *buf (NUL-
 * terminated, malloc'd) and *len hold its bytes.
 */
int mv_read_input(const char *path, const char *what, const char *file,
		  int line, const char *field, char **buf, size_t *len,
		  struct mv_error *err);

/* Does path name a VMware configuration file (".vmx", any case)? */
int mv_vmx_is_path(const char *path);

/*
 * Parse the .vmx text (len bytes, NUL bytes refused) named `file` in
 * errors into spec: the VM configuration (validated) and the guest OS
 * flavour, the rest of spec->guest at its defaults. `default_name` (the
 * file name without extension) is used when there is no displayName;
 * numa.nodeAffinity must name nodes of a host with host_nodes nodes.
 * See docs/scenario.md, "VMware .vmx files".
 */
int mv_vmx_parse(const char *text, size_t len, const char *file,
		 const char *default_name, int host_nodes,
		 struct mv_vm_spec *spec, struct mv_error *err);

/*
 * Parse a libvirt <domain> document (len bytes of XML) named `file` into
 * spec, as the scenario loader reads one from a file, for a host with
 * host_nodes NUMA nodes. Guest defaults that depend on the VM (OS image
 * name and size) are applied.
 */
int mv_domain_parse(const char *xml, size_t len, const char *file,
		    int host_nodes, struct mv_vm_spec *spec,
		    struct mv_error *err);

#endif
