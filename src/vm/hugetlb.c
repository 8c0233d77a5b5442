/*
 * hugetlb.c - a VM backed by static huge pages: libvirt's
 * <memoryBacking><hugepages/>, QEMU's guest RAM on a hugetlbfs file
 * (docs/largepages.md).
 *
 * libvirt starts QEMU with memory-backend-file on the hugetlbfs mount and
 * prealloc=yes, so the whole guest is faulted in, 2 MiB page by 2 MiB
 * page, before the guest runs; the mmap of the file already reserves
 * every page from the pool (hugetlb_reserve_pages), and fails with ENOMEM
 * when the pool is short: QEMU's "unable to map backing store for guest
 * RAM: Cannot allocate memory", and the domain does not start. So here:
 * either every 2 MiB region of the VM gets a pool run, or none does.
 *
 * A backed region's 512 pages are private, in order, on the run's frames,
 * with zero content (a hugetlb fault clears the page), and carry
 * MV_PME_PINNED: page sharing (KSM does not scan hugetlb VMAs), the
 * compression and swap reclaimers (hugetlb pages are never swapped) and
 * NUMA migration pass them by, so no page ever leaves the private state
 * and the region stays one 2 MiB mapping for the MMU model (EPT 2 MiB
 * leaves). The region bytes are THP's (src/vm/thp.c); thp_fault stays off.
 * QEMU rounds the RAM block up to the page size: a last region shorter
 * than 2 MiB takes a whole run, of which it maps its pages only (that
 * region is SMALL: no 2 MiB leaf covers memory the guest does not have).
 */
#include "memvisor/vm.h"

int mv_vm_hugetlb_back(struct mv_vm *vm, uint64_t *need)
{
	struct mv_host *h = vm->host;
	*need = vm->nregions;
	if (h->hugetlb.free < vm->nregions) {
		h->hugetlb.alloc_fail++;
		return MV_ENOMEM;
	}
	vm->hugetlb = 1;
	vm->thp_fault = 0;
	for (uint64_t r = 0; r < vm->nregions; r++) {
		mv_gppn_t base = r * MV_RUN_FRAMES;
		unsigned n = vm->npages - base < MV_RUN_FRAMES
				     ? (unsigned)(vm->npages - base)
				     : MV_RUN_FRAMES;
		mv_mpn_t run = mv_hugetlb_alloc(h, vm->home_node, n);
		if (mv_host_frame_node(h, run) != vm->home_node)
			vm->ctr.remote_frames += n;
		for (unsigned i = 0; i < MV_RUN_FRAMES; i++)
			mv_host_frame_set_desc(h, run + i, MV_DESC_ZERO_PAGE);
		for (unsigned i = 0; i < n; i++) {
			mv_pmap_set(vm, base + i, MV_PS_PRIVATE, run + i);
			vm->pmap[base + i].flags |= MV_PME_PINNED;
		}
		vm->region[r] = n == MV_RUN_FRAMES ? MV_REGION_HUGE
						   : MV_REGION_SMALL;
		vm->thp_huge += n == MV_RUN_FRAMES;
	}
	return 0;
}

void mv_vm_hugetlb_release(struct mv_vm *vm)
{
	if (!vm->hugetlb)
		return;
	for (uint64_t r = 0; r < vm->nregions; r++) {
		mv_gppn_t base = r * MV_RUN_FRAMES;
		mv_mpn_t run = vm->pmap[base].mpn;
		/* the pool takes the 2 MiB page whole: no split to count */
		if (vm->region[r] == MV_REGION_HUGE)
			vm->thp_huge--;
		vm->region[r] = MV_REGION_SMALL;
		for (mv_gppn_t g = base;
		     g < base + MV_RUN_FRAMES && g < vm->npages; g++) {
			vm->pmap[g].flags &= (uint8_t)~MV_PME_PINNED;
			mv_pmap_set(vm, g, MV_PS_UNTOUCHED, 0);
			mv_vm_content_changed(vm, g);
			if (vm->expect)
				vm->expect[g] = mv_zero_page_hash();
		}
		mv_hugetlb_free(vm->host, run);
	}
	vm->hugetlb = 0;
}
