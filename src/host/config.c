/*
 * config.c - the host configuration's defaults.
 *
 * Thresholds are the free-memory states of VMware ESX 4.1 ("Understanding
 * Memory Resource Management in VMware vSphere 5.0" and the ESX 4.1
 * Resource Management Guide): high 6%, soft 4%, hard 2%, low 1% of host
 * memory. Latencies are those of a current two-socket server with an SSD
 * for hypervisor swap: a zero-fill fault costs about as much as a trap plus
 * clearing 4 KiB, a COW break a trap plus a 4 KiB copy, an LZ4
 * decompression of one page some microseconds, an SSD read around 100 us
 * and a disk seek several milliseconds. The loader (src/sim/scenario.c)
 * overrides any of them from the scenario's <host> element.
 */
#include <string.h>

#include "memvisor/host.h"

/* Fill c with every default; mem_bytes stays 0 (the user must give it). */
void mv_host_config_default(struct mv_host_config *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->name, "host");
	c->mem_bytes = 0;
	c->nodes = 1;
	c->numa_local_ns = 81;
	c->numa_remote_ratio = 1.74;
	c->lat.zero_fill = 2 * MV_NS_PER_US;
	c->lat.cow = 3 * MV_NS_PER_US;
	c->lat.decompress = 12 * MV_NS_PER_US;
	c->lat.swapin_ssd = 120 * MV_NS_PER_US;
	c->lat.swapin_hdd = 8 * MV_NS_PER_MS;
	c->lat.guest_major = 150 * MV_NS_PER_US;
	c->lat.remote_numa = 1 * MV_NS_PER_US;
	c->swap_device = MV_SWAP_SSD;
	c->thresholds.high = 0.06;
	c->thresholds.soft = 0.04;
	c->thresholds.hard = 0.02;
	c->thresholds.low = 0.01;
}
