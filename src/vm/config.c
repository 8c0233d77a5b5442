/*
 * config.c - a VM's configuration: defaults and validation.
 *
 * The fields mirror libvirt's domain XML (formatdomain.html, "Memory
 * Allocation", "Memory Tuning", "Memory Backing", "NUMA Node Tuning",
 * "Memory balloon device") and the ESX resource settings they stand for:
 * hard_limit is the limit, min_guarantee the reservation, shares the
 * weight under contention (ESX default: 10 per MiB of configured memory,
 * "normal"). The loaders (libvirt XML in src/sim/scenario.c) fill a config
 * from mv_vm_config_default and then call mv_vm_config_check, so every
 * source of VMs is held to the same rules. Nothing is rounded or clamped:
 * a size that is not a whole number of 4 KiB pages is an error.
 */
#include <stdio.h>
#include <string.h>

#include "memvisor/vm.h"

/* Largest VM the simulator accepts (the pmap costs 16 bytes per page). */
#define MV_VM_MAX_BYTES (1024 * MV_GIB)

/*
 * Fill c with the defaults for a VM of mem_bytes: fully granted
 * (current = limit = mem), no reservation, normal shares, a virtio balloon
 * (libvirt adds one to every KVM guest unless told model='none'), balloon
 * statistics off, page sharing on, no huge pages, home node chosen by the
 * host. name is copied (truncated to 63 characters; the loader checks the
 * length before calling).
 */
void mv_vm_config_default(struct mv_vm_config *c, const char *name,
			  uint64_t mem_bytes)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name ? name : "");
	c->mem_bytes = mem_bytes;
	c->current_bytes = mem_bytes;
	c->limit_bytes = mem_bytes;
	c->reservation_bytes = 0;
	c->soft_limit_bytes = 0;
	c->swap_max_bytes = UINT64_MAX;
	c->balloon_max_bytes = UINT64_MAX;
	c->shares = 10 * mem_bytes / MV_MIB;
	c->balloon_driver = 1;
	c->stats_period_s = 0;
	c->sharing = 1;
	c->hugepages = 0;
	c->home_node = -1;
}

static int vm_err(const struct mv_vm_config *c, struct mv_error *err,
		  const char *field, const char *msg, uint64_t bytes)
{
	char b[32];
	if (bytes)
		return mv_error_set(err, MV_EINVAL, c->source, c->source_line,
				    field, "%s (%s)", msg,
				    mv_format_bytes(bytes, b, sizeof b));
	return mv_error_set(err, MV_EINVAL, c->source, c->source_line, field,
			    "%s", msg);
}

/*
 * Validate c: a usable name; memory > 0, page-aligned and at most 1 TiB;
 * currentMemory > 0, page-aligned and <= memory; hard_limit > 0 and
 * page-aligned; min_guarantee page-aligned, <= memory and <= hard_limit;
 * soft_limit page-aligned and <= hard_limit; the swap bound page-aligned;
 * switches 0/1; stats period >= 0; home node -1 or a node number.
 * Returns 0 or MV_EINVAL with err at c->source:c->source_line naming the
 * libvirt field ("memory", "currentMemory", "memtune/hard_limit", ...).
 */
int mv_vm_config_check(const struct mv_vm_config *c, struct mv_error *err)
{
	if (c->name[0] == '\0')
		return vm_err(c, err, "name", "must not be empty", 0);
	for (const char *p = c->name; *p; p++) {
		if (*p == '/')
			return vm_err(c, err, "name", "must not contain '/'",
				      0);
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return vm_err(c, err, "name",
				      "must not contain control characters", 0);
	}
	if (c->mem_bytes == 0)
		return vm_err(c, err, "memory", "must be greater than 0", 0);
	if (c->mem_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "memory", "must be a multiple of 4 KiB",
			      0);
	if (c->mem_bytes > MV_VM_MAX_BYTES)
		return vm_err(c, err, "memory", "must be at most 1 TiB", 0);
	if (c->current_bytes == 0)
		return vm_err(c, err, "currentMemory", "must be greater than 0",
			      0);
	if (c->current_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "currentMemory",
			      "must be a multiple of 4 KiB", 0);
	if (c->current_bytes > c->mem_bytes)
		return vm_err(c, err, "currentMemory", "must not exceed memory",
			      c->mem_bytes);
	if (c->limit_bytes == 0)
		return vm_err(c, err, "memtune/hard_limit",
			      "must be greater than 0", 0);
	if (c->limit_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "memtune/hard_limit",
			      "must be a multiple of 4 KiB", 0);
	if (c->reservation_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "memtune/min_guarantee",
			      "must be a multiple of 4 KiB", 0);
	if (c->reservation_bytes > c->mem_bytes)
		return vm_err(c, err, "memtune/min_guarantee",
			      "must not exceed memory", c->mem_bytes);
	if (c->limit_bytes < c->reservation_bytes)
		return vm_err(c, err, "memtune/hard_limit",
			      "must not be below memtune/min_guarantee",
			      c->reservation_bytes);
	if (c->soft_limit_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "memtune/soft_limit",
			      "must be a multiple of 4 KiB", 0);
	if (c->soft_limit_bytes > c->limit_bytes)
		return vm_err(c, err, "memtune/soft_limit",
			      "must not exceed memtune/hard_limit",
			      c->limit_bytes);
	if (c->swap_max_bytes != UINT64_MAX && c->swap_max_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "memtune/swap_hard_limit",
			      "must be a multiple of 4 KiB", 0);
	if (c->balloon_max_bytes != UINT64_MAX &&
	    c->balloon_max_bytes % MV_PAGE_SIZE)
		return vm_err(c, err, "sched.mem.maxmemctl",
			      "must be a multiple of 4 KiB", 0);
	if (c->balloon_driver != 0 && c->balloon_driver != 1)
		return vm_err(c, err, "memballoon/model", "must be 0 or 1", 0);
	if (c->stats_period_s < 0)
		return vm_err(c, err, "memballoon/stats",
			      "period must not be negative", 0);
	if (c->sharing != 0 && c->sharing != 1)
		return vm_err(c, err, "memoryBacking/nosharepages",
			      "must be 0 or 1", 0);
	if (c->hugepages != 0 && c->hugepages != 1)
		return vm_err(c, err, "memoryBacking/hugepages",
			      "must be 0 or 1", 0);
	if (c->home_node < -1 || c->home_node >= MV_MAX_NODES)
		return mv_error_set(err, MV_EINVAL, c->source, c->source_line,
				    "numatune/memory",
				    "home node %d is not a NUMA node (0..%d)",
				    c->home_node, MV_MAX_NODES - 1);
	return 0;
}
