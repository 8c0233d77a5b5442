/*
 * numa.c - where a VM's guest frames go on a NUMA host, and the books of
 * where they are (docs/numa.md).
 *
 * A VM's guest-physical pages are split into cells (<cpu><numa><cell>, in
 * order; one cell, the whole VM, without them). Each cell has the node its
 * vCPUs run on (its <numatune><memnode>'s nodeset, else the VM's home node)
 * and a placement (the memnode's mode, else <numatune><memory>'s):
 *
 *   none        the vCPUs' node, then the others in order (ESX's home node,
 *               Linux's default policy)
 *   preferred   the vCPUs' node if the nodeset has it, else the nodeset's
 *               lowest node; then the others (MPOL_PREFERRED)
 *   interleave  the nodeset's (gppn mod n)-th node, then the others
 *               (MPOL_INTERLEAVE by offset in the mapping)
 *   strict,     the nodeset's nodes only, the vCPUs' node first: when they
 *   restrictive are full the allocation fails (MPOL_BIND; cpuset.mems)
 *
 * The node tried first is the intended one; each allocation moves the
 * numastat counters as the kernel's zone_statistics does: numa_hit on the
 * node given if intended, else numa_miss on it and numa_foreign on the
 * intended node; local_node or other_node by the vCPUs' node;
 * interleave_hit for an interleaved page on its node. They are kept per
 * node on the host and summed per VM.
 *
 * A failed strict allocation is an OOM of the policy in Linux: the kernel
 * reclaims on those nodes and then kills within the constraint
 * (CONSTRAINT_MEMORY_POLICY), usually the QEMU itself. Here the access
 * waits as for a full host and numa_bind_failed counts it; the simulator
 * then reclaims from the VM on those nodes and, when that frees nothing,
 * OOM-kills it (src/sim/sim.c, numa_oom_check).
 *
 * The resident pages per node of their frame (node_pages) and those on
 * their vCPUs' node (local_pages: esxtop's NLMEM) change only in
 * mv_pmap_set, through mv_vm_numa_resident, so they cannot drift from the
 * pmap; mv_vm_check recounts them.
 */
#include <assert.h>
#include <string.h>

#include "memvisor/vm.h"

static const char *const mode_names[MV_NUMA_MODE_COUNT] = {
	"none", "preferred", "strict", "interleave", "restrictive",
};

const char *mv_numa_mode_name(enum mv_numa_mode m)
{
	return (unsigned)m < MV_NUMA_MODE_COUNT ? mode_names[m] : "?";
}

/* The host's nodes a nodeset names (all of them for an empty one). */
static unsigned node_mask(const struct mv_host *h, unsigned set)
{
	unsigned all = (1u << h->nnodes) - 1;
	return set & all ? set & all : all;
}

/*
 * The access check's range: the frames of the node every vCPU runs on
 * (with the zero frame when that is node 0: it sits just below node 0 and
 * is on no node), all frames on a one-node host, none with cells on
 * several nodes (every access then takes the out-of-line check).
 */
static void local_range(struct mv_vm *vm)
{
	struct mv_vm_numa *n = &vm->numa;
	const struct mv_host *h = vm->host;
	int one = 1;
	for (int i = 1; i < n->ncells; i++)
		one &= n->cell_node[i] == n->cell_node[0];
	if (h->nnodes == 1) {
		n->local_first = 0;
		n->local_frames = UINT32_MAX;
	} else if (!one) {
		n->local_first = 0;
		n->local_frames = 0;
	} else {
		const struct mv_host_node *nd = &h->node[n->cell_node[0]];
		n->local_first = (uint32_t)nd->first;
		n->local_frames = (uint32_t)nd->nframes;
		if (nd->first == 1) {
			n->local_first = 0;
			n->local_frames++;
		}
	}
	double extra = (double)h->cfg.numa_local_ns *
		       (h->cfg.numa_remote_ratio - 1);
	n->remote_ns = extra > 0 ? (uint64_t)(extra + 0.5) : 0;
}

void mv_vm_numa_setup(struct mv_vm *vm)
{
	const struct mv_vm_config *c = &vm->cfg;
	struct mv_vm_numa *n = &vm->numa;
	const struct mv_host *h = vm->host;
	n->ncells = c->ncells > 0 ? c->ncells : 1;
	uint64_t end = 0;
	for (int i = 0; i < n->ncells; i++) {
		const struct mv_numa_cell *cell = c->ncells ? &c->cell[i]
							    : NULL;
		end += cell ? cell->bytes / MV_PAGE_SIZE : vm->npages;
		/* cells beyond <memory> are cut there; the last one reaches
		 * its end whatever the cells add up to (libvirt makes them
		 * add up) */
		n->cell_end[i] = end < vm->npages && i < n->ncells - 1
					 ? end
					 : vm->npages;
		n->cell_node[i] = (int8_t)(cell && cell->node >= 0 &&
							   cell->node <
								   h->nnodes
						   ? cell->node
						   : vm->home_node);
		n->cell_policy[i] = cell && cell->policy.mode != MV_NUMA_NONE
					    ? cell->policy
					    : c->numa;
	}
	local_range(vm);
}

int mv_vm_numa_cell(const struct mv_vm *vm, mv_gppn_t gppn)
{
	int i = 0;
	while (i < vm->numa.ncells - 1 && gppn >= vm->numa.cell_end[i])
		i++;
	return i;
}

/* The n-th (from 0) node of mask. */
static int nth_node(unsigned mask, unsigned n)
{
	for (int k = 0; k < MV_MAX_NODES; k++)
		if (mask & (1u << k) && n-- == 0)
			return k;
	return 0;
}

static int lowest_node(unsigned mask)
{
	return nth_node(mask, 0);
}

static unsigned popcount(unsigned m)
{
	unsigned c = 0;
	for (; m; m &= m - 1)
		c++;
	return c;
}

/* Count an allocation on node got that wanted node want (the kernel's
 * zone_statistics) in n; foreign, in f (the wanted node's). */
static void count_in(struct mv_numastat *n, struct mv_numastat *f, int hit,
		     int interleave, int local)
{
	if (hit) {
		n->numa_hit++;
		n->interleave_hit += interleave != 0;
	} else {
		n->numa_miss++;
		f->numa_foreign++;
	}
	if (local)
		n->local_node++;
	else
		n->other_node++;
}

/* ... on the host's nodes and in the VM's sums. */
static void count(struct mv_vm *vm, int got, int want, int local,
		  int interleave)
{
	struct mv_host *h = vm->host;
	count_in(&h->numastat[got], &h->numastat[want], got == want, interleave,
		 got == local);
	count_in(&vm->ctr.numastat, &vm->ctr.numastat, got == want, interleave,
		 got == local);
	h->remote_allocs += got != want;
}

/*
 * A frame (run 0) or an aligned 2 MiB run of them (run 1) for page gppn
 * by its cell's placement. Interleave picks by the allocation's offset in
 * its own units, gppn for a frame and gppn / 512 for a run, as Linux's
 * get_vma_policy makes the interleave index (addr - vm_start) >>
 * (PAGE_SHIFT + order): THP under MPOL_INTERLEAVE spreads 2 MiB pages.
 * One allocation moves the numastat counters once whatever its size, as
 * the kernel's rmqueue calls zone_statistics(preferred, zone, 1) for any
 * order. A strict frame that finds its nodes full while others have room
 * is counted in numa_bind_failed; a run that cannot be had is not a
 * failure (the fault falls back to small pages).
 */
static mv_mpn_t place(struct mv_vm *vm, mv_gppn_t gppn, int run)
{
	struct mv_host *h = vm->host;
	int c = mv_vm_numa_cell(vm, gppn);
	int local = vm->numa.cell_node[c];
	struct mv_numa_policy p = vm->numa.cell_policy[c];
	unsigned all = (1u << h->nnodes) - 1;
	unsigned set = node_mask(h, p.nodeset);
	unsigned allowed = all;
	int want = local;
	switch ((enum mv_numa_mode)p.mode) {
	case MV_NUMA_STRICT:
	case MV_NUMA_RESTRICTIVE:
		allowed = set;
		/* fall through */
	case MV_NUMA_PREFERRED:
		if (!(set & (1u << local)))
			want = lowest_node(set);
		break;
	case MV_NUMA_INTERLEAVE: {
		mv_gppn_t ilx = run ? gppn / MV_RUN_FRAMES : gppn;
		want = nth_node(set, (unsigned)(ilx % popcount(set)));
		break;
	}
	default:
		break;
	}
	for (int i = 0; i < h->nnodes; i++) {
		int k = (want + i) % h->nnodes;
		if (!(allowed & (1u << k)))
			continue;
		mv_mpn_t mpn = run ? mv_host_frame_alloc_run_node(h, k)
				   : mv_host_frame_alloc_node(h, k);
		if (mpn != MV_MPN_NONE) {
			count(vm, k, want, local, p.mode == MV_NUMA_INTERLEAVE);
			return mpn;
		}
	}
	if (!run && allowed != all && h->nfree)
		vm->ctr.numa_bind_failed++;
	return MV_MPN_NONE;
}

mv_mpn_t mv_vm_numa_alloc(struct mv_vm *vm, mv_gppn_t gppn)
{
	return place(vm, gppn, 0);
}

mv_mpn_t mv_vm_numa_alloc_run(struct mv_vm *vm, mv_gppn_t gppn)
{
	return place(vm, gppn, 1);
}

unsigned mv_vm_numa_bound_nodes(const struct mv_vm *vm)
{
	unsigned m = 0;
	for (int c = 0; c < vm->numa.ncells; c++) {
		struct mv_numa_policy p = vm->numa.cell_policy[c];
		if (p.mode == MV_NUMA_STRICT || p.mode == MV_NUMA_RESTRICTIVE)
			m |= node_mask(vm->host, p.nodeset);
	}
	return m;
}

void mv_vm_numa_resident(struct mv_vm *vm, mv_gppn_t gppn, mv_mpn_t mpn,
			 int delta)
{
	if (mpn == MV_ZERO_MPN)
		return; /* the zero frame is on no node */
	int node = mv_host_frame_node(vm->host, mpn);
	vm->numa.node_pages[node] += (uint64_t)(int64_t)delta;
	if (node == mv_vm_numa_node(vm, gppn))
		vm->numa.local_pages += (uint64_t)(int64_t)delta;
}

void mv_vm_numa_remote(struct mv_vm *vm, mv_gppn_t gppn)
{
	mv_mpn_t mpn = vm->pmap[gppn].mpn;
	if (mpn == MV_ZERO_MPN ||
	    mv_host_frame_node(vm->host, mpn) == mv_vm_numa_node(vm, gppn))
		return;
	vm->ctr.remote_accesses++;
	vm->ctr.numa_ns += vm->numa.remote_ns;
	vm->stall_pending_ns += vm->numa.remote_ns;
}

void mv_vm_numa_accesses(struct mv_vm *vm, double n)
{
	uint64_t res = 0;
	for (int k = 0; k < vm->host->nnodes; k++)
		res += vm->numa.node_pages[k];
	if (!res || res == vm->numa.local_pages || n <= 0)
		return;
	double r = n * (double)(res - vm->numa.local_pages) / (double)res +
		   vm->numa.carry;
	uint64_t whole = (uint64_t)r;
	vm->numa.carry = r - (double)whole;
	vm->ctr.remote_accesses += whole;
	vm->ctr.numa_ns += whole * vm->numa.remote_ns;
	vm->stall_pending_ns += whole * vm->numa.remote_ns;
}

/*
 * Move page g from its remote frame to one on node `to`: the new frame
 * gets the page's content (its descriptor, equal descriptors being equal
 * bytes, or its 4096 bytes copied), the pmap names it, the old frame is
 * freed. 0, or MV_ENOMEM when `to` has no free frame.
 */
static int migrate_page(struct mv_vm *vm, mv_gppn_t g, int to)
{
	struct mv_host *h = vm->host;
	mv_mpn_t old = vm->pmap[g].mpn;
	mv_mpn_t mpn = mv_host_frame_alloc_node(h, to);
	if (mpn == MV_MPN_NONE)
		return MV_ENOMEM;
	mv_host_frame_copy(h, mpn, old);
	mv_pmap_set(vm, g, MV_PS_PRIVATE, mpn);
	mv_host_frame_put(h, old);
	vm->ctr.numa_migrated++;
	vm->ctr.numa_migrate_ns += h->cfg.lat.cow;
	vm->stall_pending_ns += h->cfg.lat.cow;
	return 0;
}

uint64_t mv_vm_numa_migrate(struct mv_vm *vm, uint64_t dt_ns)
{
	const struct mv_host *h = vm->host;
	if (h->cfg.numa_migrate_rate <= 0 || h->nnodes < 2 ||
	    vm->numa.local_pages ==
		    vm->count[MV_PS_PRIVATE] + vm->count[MV_PS_SHARED])
		return 0;
	struct mv_vm_numa *n = &vm->numa;
	n->mig_credit += h->cfg.numa_migrate_rate * (double)dt_ns / 1e9;
	uint64_t budget = (uint64_t)n->mig_credit, moved = 0;
	/* a bounded look per call, so an all-local VM costs little */
	uint64_t look = vm->npages < 16 * budget + 1024 ? vm->npages
							: 16 * budget + 1024;
	for (uint64_t k = 0; k < look && moved < budget; k++) {
		mv_gppn_t g = n->mig_next;
		n->mig_next = g + 1 < vm->npages ? g + 1 : 0;
		const struct mv_pme *e = &vm->pmap[g];
		if (e->state != MV_PS_PRIVATE || (e->flags & MV_PME_PINNED))
			continue;
		int c = mv_vm_numa_cell(vm, g);
		unsigned mode = n->cell_policy[c].mode;
		if (mode != MV_NUMA_NONE && mode != MV_NUMA_PREFERRED)
			continue; /* bound or interleaved on purpose */
		int to = n->cell_node[c];
		if (mv_host_frame_node(h, e->mpn) == to)
			continue;
		if (migrate_page(vm, g, to))
			break; /* the home node is full */
		moved++;
	}
	n->mig_credit -= (double)moved;
	if (n->mig_credit > (double)budget)
		n->mig_credit = (double)budget; /* no hoarding while idle */
	return moved;
}

void mv_vm_numa_set_home(struct mv_vm *vm, int node)
{
	vm->home_node = node;
	mv_vm_numa_setup(vm);
	uint64_t local = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		const struct mv_pme *e = &vm->pmap[g];
		if ((e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED) &&
		    e->mpn != MV_ZERO_MPN)
			local += mv_host_frame_node(vm->host, e->mpn) ==
				 mv_vm_numa_node(vm, g);
	}
	vm->numa.local_pages = local;
	vm->ctr.numa_home_moves++;
}

/* A VM the rebalancer may move: the host chose its node (no numatune,
 * no memnode: ESX does not move a VM with NUMA affinity). */
static int movable(const struct mv_vm *vm)
{
	if (vm->cfg.numa.mode != MV_NUMA_NONE)
		return 0;
	for (int c = 0; c < vm->cfg.ncells; c++)
		if (vm->cfg.cell[c].node >= 0 ||
		    vm->cfg.cell[c].policy.mode != MV_NUMA_NONE)
			return 0;
	return 1;
}

static uint64_t resident(const struct mv_vm *vm)
{
	uint64_t r = 0;
	for (int k = 0; k < vm->host->nnodes; k++)
		r += vm->numa.node_pages[k];
	return r;
}

/*
 * The rule (a simple reading of vSphere's "Dynamic Load Balancing and
 * Page Migration", memory only: memvisor has no CPU load): node k is
 * overcommitted when its VMs' memory off it (what they spilled) exceeds
 * its free frames, so migration alone cannot bring them home. From the
 * most overcommitted node, one VM moves to the node with the most free
 * frames ("changes its home node to the least loaded node"), preferring
 * the VM with the most memory already there ("When it can, the
 * rebalancer moves a virtual machine that already has some memory
 * located on the destination node"), and only if the rest of its memory
 * fits there. Afterwards <numa migrate-rate> moves its pages.
 */
int mv_numa_rebalance(struct mv_vm *const *vms, int n)
{
	const struct mv_host *h = NULL;
	for (int i = 0; i < n && !h; i++)
		h = vms[i] ? vms[i]->host : NULL;
	if (!h || h->nnodes < 2)
		return -1;
	int64_t over[MV_MAX_NODES] = {0};
	for (int k = 0; k < h->nnodes; k++)
		over[k] = -(int64_t)h->node[k].nfree;
	for (int i = 0; i < n; i++)
		if (vms[i])
			over[vms[i]->home_node] +=
				(int64_t)(resident(vms[i]) -
					  vms[i]->numa.local_pages);
	int src = -1, dst = -1;
	for (int k = 0; k < h->nnodes; k++) {
		if (over[k] > 0 && (src < 0 || over[k] > over[src]))
			src = k;
	}
	if (src < 0)
		return -1;
	for (int k = 0; k < h->nnodes; k++)
		if (k != src &&
		    (dst < 0 || h->node[k].nfree > h->node[dst].nfree))
			dst = k;
	int best = -1;
	for (int i = 0; i < n; i++) {
		const struct mv_vm *vm = vms[i];
		if (!vm || vm->home_node != src || !movable(vm) ||
		    !resident(vm))
			continue;
		uint64_t there = vm->numa.node_pages[dst];
		if (resident(vm) - there > h->node[dst].nfree)
			continue; /* would overcommit the destination */
		if (best < 0 || there > vms[best]->numa.node_pages[dst])
			best = i;
	}
	if (best >= 0)
		mv_vm_numa_set_home(vms[best], dst);
	return best;
}

int mv_vm_numa_check(const struct mv_vm *vm)
{
	uint64_t per[MV_MAX_NODES] = {0}, local = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++) {
		const struct mv_pme *e = &vm->pmap[g];
		if ((e->state != MV_PS_PRIVATE && e->state != MV_PS_SHARED) ||
		    e->mpn == MV_ZERO_MPN)
			continue;
		int node = mv_host_frame_node(vm->host, e->mpn);
		per[node]++;
		local += node == mv_vm_numa_node(vm, g);
	}
	for (int k = 0; k < MV_MAX_NODES; k++)
		if (per[k] != vm->numa.node_pages[k])
			return 0;
	return local == vm->numa.local_pages;
}
