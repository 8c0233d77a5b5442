/*
 * carry.c - what a VM knows besides its pages, as bytes: the part of a
 * live migration's switch-over that is not memory (docs/cluster.md,
 * section 3; src/cluster/move.c).
 *
 * The pages' contents and states cross by migrate.c's records; this is
 * the rest of the VM, which the destination VM takes in place of its own:
 *
 *   header   magic, npages (the destination VM must have as many)
 *   marks    a byte a page: the ACCESSED and SAMPLED flags
 *   sampler  struct mv_active_sampler, its pointer cleared, then its n
 *            sampled pages
 *   window   window_accessed, window_cap, active_true, then the listed
 *            pages (min(accessed, cap) of them)
 *   counters struct mv_vm_counters, stall_pending_ns
 *
 * Unpacking checks every count against the VM's geometry and the bytes
 * left and every page number against npages before it changes the VM;
 * a short or altered buffer is MV_EINVAL naming the part.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/vm.h"

#define CARRY_MAGIC "MVVMCAR1"

static const uint8_t marks = MV_PME_ACCESSED | MV_PME_SAMPLED;

int mv_vm_carry_pack(const struct mv_vm *vm, struct mv_pack *w)
{
	mv_pack_put(w, CARRY_MAGIC, 8);
	mv_pack_put(w, &vm->npages, sizeof vm->npages);
	uint8_t buf[4096];
	for (mv_gppn_t g = 0; g < vm->npages;) {
		size_t k = 0;
		for (; k < sizeof buf && g < vm->npages; k++, g++)
			buf[k] = vm->pmap[g].flags & marks;
		mv_pack_put(w, buf, k);
	}
	struct mv_active_sampler a = vm->active;
	a.sample = NULL;
	mv_pack_put(w, &a, sizeof a);
	if (vm->active.sample)
		mv_pack_put(w, vm->active.sample,
			    vm->active.n * sizeof *vm->active.sample);
	uint64_t win[3] = {vm->window_accessed, vm->window_cap,
			   vm->active_true};
	mv_pack_put(w, win, sizeof win);
	uint64_t listed = win[0] < win[1] ? win[0] : win[1];
	if (listed)
		mv_pack_put(w, vm->window_list, listed * sizeof *vm->window_list);
	mv_pack_put(w, &vm->ctr, sizeof vm->ctr);
	mv_pack_put(w, &vm->stall_pending_ns, sizeof vm->stall_pending_ns);
	return w->nomem ? MV_ENOMEM : 0;
}

/* Are the k page numbers at r's front (each `size` bytes) below n? */
static int pages_below(const struct mv_unpack *r, uint64_t k, size_t size,
		       uint64_t n)
{
	for (uint64_t i = 0; i < k; i++) {
		uint64_t v = 0;
		memcpy(&v, r->p + i * size, size);
		if (v >= n)
			return 0;
	}
	return 1;
}

int mv_vm_carry_unpack(struct mv_vm *vm, struct mv_unpack *r,
		       struct mv_error *err)
{
	char magic[8];
	uint64_t npages = 0;
	struct mv_active_sampler a = {0};
	uint64_t win[3] = {0};
	mv_gppn_t *sample = NULL;
	uint32_t *list = NULL;
	const uint8_t *flags = NULL;
	if (!mv_unpack_get(r, magic, sizeof magic, "its header") &&
	    memcmp(magic, CARRY_MAGIC, sizeof magic))
		mv_unpack_fail(r, "its header (not a VM's carried state)");
	if (!mv_unpack_get(r, &npages, sizeof npages, "its header") &&
	    npages != vm->npages)
		mv_unpack_fail(r, "its size (another VM's pages)");
	if (!r->bad && r->left >= vm->npages) {
		flags = r->p;
		r->p += vm->npages;
		r->left -= vm->npages;
	} else {
		mv_unpack_fail(r, "the pages' marks");
	}
	if (!mv_unpack_get(r, &a, sizeof a, "the active-memory sampler") &&
	    (a.n > vm->npages || a.n > a.cfg.pages ||
	     r->left < a.n * sizeof *sample ||
	     !pages_below(r, a.n, sizeof *sample, vm->npages)))
		mv_unpack_fail(r, "the active-memory sample");
	if (!r->bad && !(sample = malloc((a.n ? a.n : 1) * sizeof *sample)))
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	mv_unpack_get(r, sample, a.n * sizeof *sample, "the active sample");
	uint64_t listed = 0;
	if (!mv_unpack_get(r, win, sizeof win, "the active window")) {
		listed = win[0] < win[1] ? win[0] : win[1];
		if (win[1] > mv_vm_window_cap_max(vm) || win[0] > vm->npages ||
		    win[2] > vm->npages ||
		    r->left < listed * sizeof *list ||
		    !pages_below(r, listed, sizeof *list, vm->npages))
			mv_unpack_fail(r, "the active window");
	}
	if (!r->bad && win[1] &&
	    !(list = malloc(win[1] * sizeof *list))) {
		free(sample);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "", "out of memory");
	}
	mv_unpack_get(r, list, listed * sizeof *list, "the active window");
	struct mv_vm_counters ctr;
	uint64_t stall;
	mv_unpack_get(r, &ctr, sizeof ctr, "the counters");
	mv_unpack_get(r, &stall, sizeof stall, "the counters");
	if (r->bad) {
		free(sample);
		free(list);
		return mv_error_set(err, MV_EINVAL, NULL, 0, "migration",
				    "VM %s: its carried state is cut or "
				    "altered at %s",
				    vm->cfg.name, r->bad);
	}
	/* the source's marks replace the VM's own (its sampler marked a
	 * first sample when it was made; kept, those pages would count as
	 * touched against the source's sample) */
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		vm->pmap[g].flags =
			(uint8_t)((vm->pmap[g].flags & ~marks) | flags[g]);
	free(vm->active.sample);
	a.sample = sample;
	vm->active = a;
	free(vm->window_list);
	vm->window_list = list;
	vm->window_cap = win[1];
	vm->window_accessed = win[0];
	vm->active_true = win[2];
	vm->ctr = ctr;
	vm->stall_pending_ns = stall;
	return 0;
}
