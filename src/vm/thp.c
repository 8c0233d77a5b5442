/*
 * thp.c - transparent huge pages in the host: a VM's guest-physical 2 MiB
 * regions backed by one aligned run of 512 host frames (docs/largepages.md).
 *
 * Linux's rules (Documentation/admin-guide/mm/transhuge.rst,
 * mm/huge_memory.c, mm/khugepaged.c): the first touch of an aligned,
 * wholly unbacked 2 MiB region maps a huge page when one is free
 * (thp_fault_alloc, else thp_fault_fallback); khugepaged collapses a
 * region mapped with small pages when at most max_ptes_none of them are
 * unbacked, copying the others into a new huge page (thp_collapse_alloc);
 * a huge page is split (thp_split_page) before any of its pages is
 * shared, swapped, compressed or ballooned. The frames stay 4 KiB frames
 * of the host; a region's byte says whether they form one huge page.
 * A run comes from the node the VM's NUMA placement picks (src/vm/numa.c,
 * docs/numa.md), as alloc_hugepage_vma follows the VMA's mempolicy; a
 * region across two guest cells is never huge.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/vm.h"

static const char *const enabled_names[] = {"never", "madvise", "always"};
static const char *const defrag_names[] = {"always", "defer", "defer+madvise",
					   "madvise", "never"};

void mv_thp_config_default(struct mv_thp_config *c)
{
	c->enabled = MV_THP_NEVER;
	c->defrag = MV_THP_DEFRAG_MADVISE;
	c->pages_to_scan = MV_RUN_FRAMES * 8;
	c->scan_sleep_ns = 10 * MV_NS_PER_S;
	c->max_ptes_none = MV_RUN_FRAMES - 1;
}

const char *mv_thp_enabled_name(enum mv_thp_enabled e)
{
	return (unsigned)e < 3 ? enabled_names[e] : "?";
}

const char *mv_thp_defrag_name(enum mv_thp_defrag d)
{
	return (unsigned)d < 5 ? defrag_names[d] : "?";
}

int mv_thp_enabled_parse(const char *s, enum mv_thp_enabled *out)
{
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(s, enabled_names[i]) == 0) {
			*out = (enum mv_thp_enabled)i;
			return 0;
		}
	return MV_EINVAL;
}

int mv_thp_defrag_parse(const char *s, enum mv_thp_defrag *out)
{
	for (unsigned i = 0; i < 5; i++)
		if (strcmp(s, defrag_names[i]) == 0) {
			*out = (enum mv_thp_defrag)i;
			return 0;
		}
	return MV_EINVAL;
}

int mv_vm_thp_enable(struct mv_vm *vm)
{
	if (vm->region)
		return 0;
	vm->nregions = (vm->npages + MV_RUN_FRAMES - 1) / MV_RUN_FRAMES;
	vm->region = calloc(vm->nregions ? vm->nregions : 1, 1);
	if (!vm->region)
		return MV_ENOMEM;
	/* a partial last region can never be one huge page */
	if (vm->npages % MV_RUN_FRAMES)
		vm->region[vm->nregions - 1] = MV_REGION_SMALL;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		if (vm->pmap[g].state != MV_PS_UNTOUCHED)
			vm->region[g / MV_RUN_FRAMES] = MV_REGION_SMALL;
	/* nor can a region across two guest NUMA cells: each cell is its
	 * own memory backend in QEMU, placed by its own policy */
	for (int c = 0; c + 1 < vm->numa.ncells; c++)
		if (vm->numa.cell_end[c] % MV_RUN_FRAMES)
			vm->region[vm->numa.cell_end[c] / MV_RUN_FRAMES] =
				MV_REGION_SMALL;
	vm->thp_fault = 1;
	return 0;
}

void mv_vm_thp_split(struct mv_vm *vm, uint64_t r)
{
	if (vm->region[r] != MV_REGION_HUGE)
		return;
	/* the frames stay; only the one 2 MiB mapping becomes 512 */
	vm->region[r] = MV_REGION_SMALL;
	if (vm->lpage_esx)
		for (unsigned i = 0; i < MV_RUN_FRAMES; i++)
			vm->pmap[r * MV_RUN_FRAMES + i]
				.flags &= (uint8_t)~MV_PME_LARGE;
	vm->thp_huge--;
	vm->ctr.thp_split_page++;
	/* an MMU model drops its 2 MiB mapping of the region */
	if (vm->on_invalidate)
		vm->on_invalidate(vm->invalidate_ctx, vm, r * MV_RUN_FRAMES);
}

uint64_t mv_vm_thp_split_all(struct mv_vm *vm)
{
	uint64_t n = 0;
	for (uint64_t r = 0; vm->thp_huge && r < vm->nregions; r++)
		if (vm->region[r] == MV_REGION_HUGE) {
			mv_vm_thp_split(vm, r);
			n++;
		}
	return n;
}

void mv_vm_thp_note(struct mv_vm *vm, mv_gppn_t gppn, enum mv_page_state st)
{
	uint64_t r = gppn / MV_RUN_FRAMES;
	if (vm->region[r] == MV_REGION_PRISTINE) {
		if (st != MV_PS_UNTOUCHED)
			vm->region[r] = MV_REGION_SMALL;
	} else if (vm->region[r] == MV_REGION_HUGE && st != MV_PS_PRIVATE) {
		mv_vm_thp_split(vm, r);
	}
}

/* Map region r's pages, in order, to the run's frames (made private). */
static void map_run(struct mv_vm *vm, uint64_t r, mv_mpn_t run)
{
	mv_gppn_t base = r * MV_RUN_FRAMES;
	for (unsigned i = 0; i < MV_RUN_FRAMES; i++) {
		mv_pmap_set(vm, base + i, MV_PS_PRIVATE, run + i);
		if (vm->lpage_esx)
			vm->pmap[base + i].flags |= MV_PME_LARGE;
	}
	vm->region[r] = MV_REGION_HUGE;
	vm->thp_huge++;
}

/*
 * A 2 MiB run for region r by its cell's NUMA placement (src/vm/numa.c:
 * the node the policy picks, interleaved per run, numastat counted);
 * frames off the node its vCPUs run on are counted and charged as
 * vm_frame_alloc does for one frame (src/vm/pmap.c).
 */
static mv_mpn_t run_alloc(struct mv_vm *vm, uint64_t r)
{
	mv_gppn_t base = r * MV_RUN_FRAMES;
	mv_mpn_t run = mv_vm_numa_alloc_run(vm, base);
	if (run != MV_MPN_NONE &&
	    mv_host_frame_node(vm->host, run) != mv_vm_numa_node(vm, base)) {
		vm->ctr.remote_frames += MV_RUN_FRAMES;
		vm->stall_pending_ns += MV_RUN_FRAMES *
					vm->host->cfg.lat.remote_numa;
	}
	return run;
}

uint8_t *mv_vm_thp_fault(struct mv_vm *vm, mv_gppn_t gppn, int write, int note)
{
	uint64_t r = gppn / MV_RUN_FRAMES;
	if (!vm->thp_fault || vm->region[r] != MV_REGION_PRISTINE ||
	    vm->alloc_blocked)
		return NULL;
	struct mv_host *h = vm->host;
	mv_mpn_t run = run_alloc(vm, r);
	if (run == MV_MPN_NONE) {
		vm->ctr.thp_fault_fallback++;
		vm->region[r] = MV_REGION_SMALL;
		return NULL;
	}
	/* every page of the huge page is cleared: zero content */
	for (unsigned i = 0; i < MV_RUN_FRAMES; i++)
		mv_host_frame_set_desc(h, run + i, MV_DESC_ZERO_PAGE);
	map_run(vm, r, run);
	vm->ctr.thp_fault_alloc++;
	/* one trap; 512 pages cleared, each at the zero-fill latency */
	uint64_t ns = MV_RUN_FRAMES * h->cfg.lat.zero_fill;
	vm->ctr.faults[MV_FAULT_ZERO_FILL]++;
	vm->ctr.stall_ns[MV_FAULT_ZERO_FILL] += ns;
	vm->stall_pending_ns += ns;
	if (note)
		mv_vm_note_access(vm, gppn, write);
	return mv_host_frame(h, vm->pmap[gppn].mpn);
}

int mv_vm_thp_collapse(struct mv_vm *vm, uint64_t r, uint32_t max_ptes_none)
{
	if (vm->region[r] != MV_REGION_SMALL ||
	    (r + 1) * MV_RUN_FRAMES > vm->npages)
		return 0;
	mv_gppn_t base = r * MV_RUN_FRAMES;
	uint32_t none = 0;
	for (unsigned i = 0; i < MV_RUN_FRAMES; i++) {
		const struct mv_pme *e = &vm->pmap[base + i];
		if (e->state == MV_PS_UNTOUCHED || e->state == MV_PS_ZERO)
			none++; /* pte_none, or the zero page */
		else if (e->state != MV_PS_PRIVATE ||
			 (e->flags & MV_PME_PINNED))
			return 0; /* swapped, shared, ballooned: left alone */
	}
	if (none > max_ptes_none)
		return 0;
	struct mv_host *h = vm->host;
	mv_mpn_t run = run_alloc(vm, r);
	if (run == MV_MPN_NONE) {
		vm->ctr.thp_collapse_alloc_failed++;
		return MV_ENOMEM;
	}
	for (unsigned i = 0; i < MV_RUN_FRAMES; i++) {
		mv_gppn_t g = base + i;
		struct mv_pme *e = &vm->pmap[g];
		mv_mpn_t to = run + i;
		if (e->state != MV_PS_PRIVATE) {
			mv_host_frame_set_desc(h, to, MV_DESC_ZERO_PAGE);
			continue;
		}
		/* the page's content as of now, copied as it is */
		mv_vm_observe(vm, g);
		mv_host_frame_copy(h, to, e->mpn);
		mv_host_frame_put(h, e->mpn);
	}
	map_run(vm, r, run);
	vm->ctr.thp_collapse_alloc++;
	return 1;
}

void mv_khugepaged_init(struct mv_khugepaged *k, const struct mv_thp_config *c)
{
	memset(k, 0, sizeof *k);
	k->cfg = *c;
	k->next_ns = c->scan_sleep_ns;
}

/* One scan: pages_to_scan pages' worth of regions, from where the last
 * one stopped (each region visited counts HPAGE_PMD_NR pages, as
 * khugepaged_scan_mm_slot's progress does). */
static void scan(struct mv_khugepaged *k, struct mv_vm *const *vms, int n)
{
	uint64_t progress = 0;
	int idle = 0; /* VMs in a row with no regions */
	while (progress < k->cfg.pages_to_scan && idle <= n) {
		if (k->vm >= n) {
			k->vm = 0;
			k->region = 0;
			k->full_scans++;
		}
		struct mv_vm *vm = vms[k->vm];
		if (!vm || !vm->region || k->region >= vm->nregions) {
			idle += !vm || !vm->region || !vm->nregions;
			k->vm++;
			k->region = 0;
			continue;
		}
		idle = 0;
		mv_vm_thp_collapse(vm, k->region++, k->cfg.max_ptes_none);
		progress += MV_RUN_FRAMES;
		k->pages_scanned += MV_RUN_FRAMES;
	}
}

void mv_khugepaged_run(struct mv_khugepaged *k, struct mv_vm *const *vms, int n,
		       uint64_t now_ns)
{
	if (k->cfg.enabled == MV_THP_NEVER || n <= 0)
		return;
	while (k->next_ns <= now_ns) {
		scan(k, vms, n);
		k->next_ns += k->cfg.scan_sleep_ns;
	}
}

int mv_vm_thp_check(const struct mv_vm *vm, struct mv_error *err)
{
	if (!vm->region)
		return 0;
	uint64_t huge = 0;
	for (uint64_t r = 0; r < vm->nregions; r++) {
		if (vm->region[r] > MV_REGION_HUGE)
			return mv_error_set(
				err, MV_EINVAL, NULL, 0, vm->cfg.name,
				"region %llu: bad "
				"state %u",
				(unsigned long long)r, vm->region[r]);
		mv_gppn_t base = r * MV_RUN_FRAMES;
		for (unsigned i = 0; i < MV_RUN_FRAMES && base + i < vm->npages;
		     i++) {
			const struct mv_pme *e = &vm->pmap[base + i];
			int ok =
				vm->region[r] == MV_REGION_PRISTINE
					? e->state == MV_PS_UNTOUCHED
				: vm->region[r] == MV_REGION_HUGE
					? e->state == MV_PS_PRIVATE &&
						  e->mpn == vm->pmap[base].mpn +
								    i &&
						  vm->pmap[base].mpn %
								  MV_RUN_FRAMES ==
							  0
					: 1;
			/* ESX's: large exactly on huge regions */
			if (vm->lpage_esx &&
			    !!(e->flags & MV_PME_LARGE) !=
				    (vm->region[r] == MV_REGION_HUGE))
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, vm->cfg.name,
					"region %llu: page %llu is %smarked "
					"large",
					(unsigned long long)r,
					(unsigned long long)(base + i),
					e->flags & MV_PME_LARGE ? "" : "not ");
			if (!ok)
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, vm->cfg.name,
					"%s region %llu: page %llu is %s on "
					"frame %u",
					vm->region[r] == MV_REGION_HUGE
						? "huge"
						: "pristine",
					(unsigned long long)r,
					(unsigned long long)(base + i),
					mv_page_state_name(e->state), e->mpn);
		}
		huge += vm->region[r] == MV_REGION_HUGE;
	}
	if (huge != vm->thp_huge)
		return mv_error_set(err, MV_EINVAL, NULL, 0, vm->cfg.name,
				    "%llu huge regions, counted %llu",
				    (unsigned long long)huge,
				    (unsigned long long)vm->thp_huge);
	return 0;
}
