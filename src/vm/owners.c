/*
 * owners.c - who maps each sharing frame, so that each VM's consumed
 * memory (a shared page counts 1/refcount) is kept up to date as
 * refcounts change, instead of summed over the VM's shared pages at
 * every ask.
 *
 * Each VM keeps shared_acc = sum over its SHARED pages of Q(rc), rc the
 * refcount of the page's frame and Q(r) = ceil(2^64 / r), in 128-bit
 * fixed point. It changes when a page of the VM maps or unmaps a shared
 * frame (mv_pmap_set) and when the refcount of a frame the VM maps
 * changes (the host's ref_hook, called by mv_host_frame_get and _put on
 * a sharing frame): then every VM that maps the frame k times moves by
 * k x (Q(new) - Q(old)). The host's owners table says which VMs map a
 * frame and how many times: one entry per (frame, VM) pair with a page
 * of the VM in state SHARED on the frame, open addressing on the frame
 * number, so all of a frame's entries lie in the probe run from its home
 * slot (linear probing, backward-shift deletion). Integer sums do not
 * depend on order: shared_acc equals the sum recomputed from the pmap to
 * the last bit (mv_vm_check verifies it).
 *
 * The shared part of consumed is shared_acc / 2^64 rounded half up. Each
 * Q(r) is above 2^64 / r by less than 1 unit, so with n shared pages the
 * fixed-point sum exceeds the exact rational sum S by less than n / 2^64:
 * the result is round-half-up of S exactly (a tie, S = j + 1/2, rounds
 * up as it should), except when S lies within n / 2^64 below a half
 * integer without reaching it, which needs the least common multiple of
 * the refcounts present to exceed 2^64 / n (> 2^32 for any VM here).
 * The sum it replaces added doubles in page order; its rounding error
 * could put a sum on the other side of a half, so the two can differ by
 * one page in such a case, and then this one is the exact one.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/vm.h"

/* Entries are 8 bytes: a VM's slot in 10 bits (a scenario has at most
 * 1024 VMs) and its count in 22; a VM with more pages than that on one
 * frame has more than one entry for it (every entry of the frame is
 * counted, so that changes nothing). */
#define OWN_VI_BITS 10
#define OWN_K_BITS 22
#define OWN_K_MAX ((1u << OWN_K_BITS) - 1)
struct own_entry {
	uint32_t mpn; /* 0 (the zero frame, never SHARED): empty */
	uint32_t vk;  /* the VM's slot in vms[] << OWN_K_BITS | its pages
			 in state SHARED on mpn */
};

static inline uint32_t own_vi(const struct own_entry *t)
{
	return t->vk >> OWN_K_BITS;
}

static inline uint32_t own_k(const struct own_entry *t)
{
	return t->vk & OWN_K_MAX;
}

struct mv_owners {
	struct own_entry *tab;
	uint64_t mask; /* table size - 1 (a power of 2) */
	uint64_t n;    /* entries in use */
	struct mv_vm **vms;
	uint32_t nvms;  /* slots used (some may be NULL) */
	size_t cap_vms; /* room in vms */
	uint32_t live;  /* VMs attached */
};

/* ceil(2^64 / r): a page's share of a frame of refcount r, in 2^-64 */
static inline mv_u128 q_of(uint32_t r)
{
	return r ? (mv_u128)(UINT64_MAX / r) + 1 : 0;
}

static inline uint64_t home(const struct mv_owners *o, uint32_t mpn)
{
	return mv_mix64(mpn) & o->mask;
}

static void owners_ref(void *ctx, mv_mpn_t mpn, uint32_t from, uint32_t to)
{
	struct mv_owners *o = ctx;
	mv_u128 d = q_of(to) - q_of(from); /* modulo 2^128: a fall too */
	for (uint64_t i = home(o, mpn); o->tab[i].mpn; i = (i + 1) & o->mask)
		if (o->tab[i].mpn == mpn)
			o->vms[own_vi(&o->tab[i])]
				->shared_acc += d * own_k(&o->tab[i]);
}

static int owners_grow(struct mv_owners *o)
{
	uint64_t size = (o->mask + 1) * 2;
	struct own_entry *t = calloc(size, sizeof *t);
	if (!t)
		return MV_ENOMEM;
	struct own_entry *old = o->tab;
	uint64_t old_size = o->mask + 1;
	o->tab = t;
	o->mask = size - 1;
	for (uint64_t j = 0; j < old_size; j++) {
		if (!old[j].mpn)
			continue;
		uint64_t i = home(o, old[j].mpn);
		while (t[i].mpn)
			i = (i + 1) & o->mask;
		t[i] = old[j];
	}
	free(old);
	return 0;
}

/* Remove slot i, moving later entries of its run back (no tombstones). */
static void owners_remove(struct mv_owners *o, uint64_t i)
{
	uint64_t j = i;
	for (;;) {
		o->tab[i].mpn = 0;
		for (;;) {
			j = (j + 1) & o->mask;
			if (!o->tab[j].mpn)
				goto done;
			uint64_t h = home(o, o->tab[j].mpn);
			/* j's entry may move to i unless its home lies in
			 * (i, j] cyclically */
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j))
				break;
		}
		o->tab[i] = o->tab[j];
		i = j;
	}
done:
	o->n--;
}

void mv_owners_change(struct mv_vm *vm, mv_mpn_t mpn, int d)
{
	struct mv_owners *o = vm->host->owners;
	uint32_t r = (uint32_t)mv_host_frame_refs(vm->host, mpn);
	if (d > 0)
		vm->shared_acc += q_of(r);
	else
		vm->shared_acc -= q_of(r);
	uint64_t i = home(o, mpn);
	for (; o->tab[i].mpn; i = (i + 1) & o->mask) {
		struct own_entry *t = &o->tab[i];
		if (t->mpn != mpn || own_vi(t) != vm->owner_slot)
			continue;
		if (d > 0 && own_k(t) == OWN_K_MAX)
			continue; /* full: another entry */
		if (d > 0) {
			t->vk++;
			return;
		}
		t->vk--;
		if (!own_k(t))
			owners_remove(o, i);
		return;
	}
	if (d < 0)
		abort(); /* unmapping a frame the VM was not listed on: a bug */
	o->tab[i] = (struct own_entry){mpn, vm->owner_slot << OWN_K_BITS | 1};
	/* at most two thirds full: runs stay short */
	if (++o->n * 3 > (o->mask + 1) * 2 && owners_grow(o))
		abort(); /* out of memory mid-step: no way back */
}

int mv_owners_attach(struct mv_vm *vm)
{
	struct mv_host *h = vm->host;
	struct mv_owners *o = h->owners;
	if (!o) {
		o = calloc(1, sizeof *o);
		if (!o)
			return MV_ENOMEM;
		o->mask = 1023;
		o->tab = calloc(o->mask + 1, sizeof *o->tab);
		if (!o->tab) {
			free(o);
			return MV_ENOMEM;
		}
		h->owners = o;
		h->ref_hook = owners_ref;
		h->ref_ctx = o;
	}
	uint32_t slot = 0;
	while (slot < o->nvms && o->vms[slot])
		slot++;
	if (slot >= 1u << OWN_VI_BITS)
		return MV_EINVAL; /* more VMs on one host than an entry names */
	if (mv_array_room(&o->vms, &o->cap_vms, slot, sizeof *o->vms, 8)) {
		if (!o->live)
			mv_owners_detach_host(h);
		return MV_ENOMEM;
	}
	if (slot == o->nvms)
		o->nvms++;
	o->vms[slot] = vm;
	o->live++;
	vm->owner_slot = slot;
	vm->shared_acc = 0;
	return 0;
}

void mv_owners_detach_host(struct mv_host *h)
{
	struct mv_owners *o = h->owners;
	if (!o)
		return;
	free(o->tab);
	free(o->vms);
	free(o);
	h->owners = NULL;
	h->ref_hook = NULL;
	h->ref_ctx = NULL;
}

void mv_owners_detach(struct mv_vm *vm)
{
	struct mv_owners *o = vm->host->owners;
	if (!o)
		return;
	o->vms[vm->owner_slot] = NULL;
	if (--o->live == 0)
		mv_owners_detach_host(vm->host);
}

uint64_t mv_vm_shared_part(const struct mv_vm *vm)
{
	return (uint64_t)((vm->shared_acc + ((mv_u128)1 << 63)) >> 64);
}

int mv_owners_check(const struct mv_vm *vm)
{
	mv_u128 acc = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		if (vm->pmap[g].state == MV_PS_SHARED)
			acc += q_of(
				mv_host_frame_refs(vm->host, vm->pmap[g].mpn));
	return acc == vm->shared_acc;
}

double mv_vm_shared_part_walk(const struct mv_vm *vm)
{
	double s = 0;
	for (mv_gppn_t g = 0; g < vm->npages; g++)
		if (vm->pmap[g].state == MV_PS_SHARED)
			s += 1.0 / (double)mv_host_frame_refs(vm->host,
							      vm->pmap[g].mpn);
	return s;
}

void mv_owners_books(const struct mv_host *h, struct mv_books *b)
{
	const struct mv_owners *o = h->owners;
	if (!o)
		return;
	mv_books_add(b, "hypervisor", "vm.owners", sizeof *o->tab, o->mask + 1);
	mv_books_add(b, "hypervisor", "vm.owner-vms", sizeof *o->vms,
		     o->cap_vms);
}
