/*
 * hugetlb.c - the host's hugetlbfs pool: static 2 MiB pages reserved at
 * boot, as vm.nr_hugepages reserves them (Linux's
 * Documentation/admin-guide/mm/hugetlbpage.rst), for the VMs whose domain
 * asks for <memoryBacking><hugepages/> (docs/largepages.md).
 *
 * Reserving takes count aligned runs of MV_RUN_FRAMES free frames
 * (mv_host_frame_alloc_run) out of the host's memory before any VM runs:
 * the pool's pages are in use for the host (MemFree does not count them)
 * and free only for hugetlbfs (HugePages_Free). Linux spreads
 * nr_hugepages over the nodes with memory, one page per node in turn
 * (hstate's next_nid_to_alloc); so does the pool, a node that is full
 * passing its turn to the next. A run keeps one reference on each of its
 * frames all along: the pool's while free, the VM mapping's once taken,
 * so no frame of the pool ever returns to the host's free lists.
 */
#include <stdlib.h>

#include "memvisor/host.h"

static int by_frame(const void *a, const void *b)
{
	mv_mpn_t x = *(const mv_mpn_t *)a, y = *(const mv_mpn_t *)b;
	return (x > y) - (x < y);
}

/* The first free run at or after p->cursor[k] (of node k, or of any node
 * for k = MV_MAX_NODES), moving the cursor there; p->total if none. */
static uint64_t next_free(const struct mv_host *h, struct mv_hugetlb *p, int k)
{
	uint64_t i = p->cursor[k];
	while (i < p->total &&
	       (p->mapped[i] ||
		(k < MV_MAX_NODES && mv_host_frame_node(h, p->run[i]) != k)))
		i++;
	p->cursor[k] = i;
	return i;
}

int mv_hugetlb_reserve(struct mv_host *h, struct mv_error *err)
{
	struct mv_hugetlb *p = &h->hugetlb;
	uint64_t n = h->cfg.hugepages;
	if (!n)
		return 0;
	p->run = calloc(n, sizeof *p->run);
	p->mapped = calloc(n, sizeof *p->mapped);
	if (!p->run || !p->mapped)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	for (uint64_t i = 0; i < n; i++) {
		mv_mpn_t run = mv_host_frame_alloc_run(
			h, (int)(i % (uint64_t)h->nnodes));
		if (run == MV_MPN_NONE)
			return mv_error_set(
				err, MV_EINVAL, NULL, h->cfg.hugepages_line,
				"host/hugepages/count",
				"%llu 2 MiB pages do not fit in the host's "
				"memory: only %llu aligned 2 MiB blocks are "
				"free",
				(unsigned long long)n, (unsigned long long)i);
		int node = mv_host_frame_node(h, run);
		p->run[i] = run;
		p->node_total[node]++;
		p->node_free[node]++;
	}
	/* boot-time reservations are not remote allocations */
	h->remote_allocs = 0;
	p->total = p->free = n;
	qsort(p->run, n, sizeof *p->run, by_frame);
	return 0;
}

mv_mpn_t mv_hugetlb_alloc(struct mv_host *h, int node, unsigned mapped)
{
	struct mv_hugetlb *p = &h->hugetlb;
	if (!p->free)
		return MV_MPN_NONE;
	uint64_t pick = node >= 0 && node < h->nnodes ? next_free(h, p, node)
						      : p->total;
	if (pick == p->total)
		pick = next_free(h, p, MV_MAX_NODES); /* any node's */
	p->mapped[pick] = (uint16_t)mapped;
	p->free--;
	p->node_free[mv_host_frame_node(h, p->run[pick])]--;
	return p->run[pick];
}

void mv_hugetlb_free(struct mv_host *h, mv_mpn_t run)
{
	struct mv_hugetlb *p = &h->hugetlb;
	const mv_mpn_t *at = bsearch(&run, p->run, p->total, sizeof *p->run,
				     by_frame);
	if (!at || !p->mapped[at - p->run])
		return;
	uint64_t i = (uint64_t)(at - p->run);
	p->mapped[i] = 0;
	p->free++;
	p->node_free[mv_host_frame_node(h, run)]++;
	for (int k = 0; k <= MV_MAX_NODES; k++)
		if (p->cursor[k] > i)
			p->cursor[k] = i;
}

void mv_hugetlb_refs(const struct mv_host *h, uint32_t *refs)
{
	const struct mv_hugetlb *p = &h->hugetlb;
	for (uint64_t i = 0; i < p->total; i++)
		for (unsigned k = p->mapped[i]; k < MV_RUN_FRAMES; k++)
			refs[p->run[i] + k]++;
}

void mv_hugetlb_destroy(struct mv_host *h)
{
	free(h->hugetlb.run);
	free(h->hugetlb.mapped);
}
