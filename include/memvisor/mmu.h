/*
 * mmu.h - address translation in front of a VM: x86-64 guest page tables,
 * native / shadow / nested (2-D) walks, TLBs and page-walk caches.
 *
 * An MMU model is attached to one VM (struct mv_vm). The guest OS builds
 * real 4-level x86-64 page tables (64-bit entries: P, RW, US, A, D, PS,
 * frame number; Intel SDM Vol. 3A, 4.5) in guest-physical pages of that VM,
 * one tree per guest process (its CR3). Every access mv_mmu_access() makes
 * goes GVA -> GPA -> HPA as hardware and hypervisor do it:
 *
 *   native  no virtualization: the hardware walks the guest tables (1-D,
 *           4 references for a cold 4 KiB miss); guest-physical = machine.
 *   nested  EPT/NPT: the hardware walks the guest tables and translates
 *           every guest-physical address it touches (each table page and
 *           the final page) through the VM's nested table, itself 4-level
 *           in host frames: 4 x (4 + 1) + 4 = 24 references cold (Bhargava
 *           et al., ASPLOS 2008). The nested table is filled from the pmap
 *           on EPT violations, which go through the VM's fault path.
 *   shadow  the hypervisor keeps GVA -> HPA shadow tables per guest CR3 in
 *           host frames; the hardware walks those (1-D). Guest page-table
 *           pages that a shadow was built from are write-protected: each
 *           guest write to one is a VM exit that updates the shadow.
 *
 * TLBs (L1 instruction, L1 data, shared L2; each with separate 4 KiB and
 * 2 MiB arrays) are set-associative with LRU and tagged by VPID and PCID.
 * Upper-level page-walk caches (PML4E, PDPTE, PDE) exist for the guest (or
 * shadow) dimension and, in nested mode, for the EPT dimension. When the
 * hypervisor changes a page's mapping (mv_pmap_set: sharing, swapping,
 * balloon, COW) the vm layer calls the invalidation hook this model
 * installs, and the model does what a hypervisor must: clear the EPT entry
 * or zap the shadow entries, and flush what the TLBs may hold.
 */
#ifndef MEMVISOR_MMU_H
#define MEMVISOR_MMU_H

#include <stdio.h>

#include "memvisor/vm.h"

/* x86-64 paging-structure entry bits (Intel SDM Vol. 3A, Table 4-19). */
#define MV_PTE_P (1ull << 0)
#define MV_PTE_RW (1ull << 1)
#define MV_PTE_US (1ull << 2)
#define MV_PTE_A (1ull << 5)
#define MV_PTE_D (1ull << 6)
#define MV_PTE_PS (1ull << 7)
#define MV_PTE_ADDR 0x000ffffffffff000ull
/* EPT entry bits (SDM Vol. 3C, 29.3.2): read, write, execute; bit 7 PS. */
#define MV_EPT_R (1ull << 0)
#define MV_EPT_W (1ull << 1)
#define MV_EPT_X (1ull << 2)

#define MV_VA_BITS 48       /* 4-level paging */
#define MV_LARGE_PAGES 512u /* 4 KiB pages in a 2 MiB page */

enum mv_mmu_mode { MV_MMU_NATIVE, MV_MMU_SHADOW, MV_MMU_NESTED, MV_MMU_MODES };

const char *mv_mmu_mode_name(enum mv_mmu_mode m);
/* "native" / "shadow" / "nested" -> mode; MV_EINVAL otherwise. */
int mv_mmu_mode_parse(const char *s, enum mv_mmu_mode *out);

/* Why the guest left the CPU (VM exits), by cause. */
enum mv_exit_cause {
	MV_EXIT_PT_WRITE, /* shadow: write to a write-protected guest PT page */
	MV_EXIT_SHADOW_FAULT, /* shadow: hidden fault, shadow entry filled */
	MV_EXIT_GUEST_PF, /* shadow: true guest #PF, reflected to the guest */
	MV_EXIT_CR3,      /* shadow: MOV to CR3 (context switch) */
	MV_EXIT_INVLPG,   /* shadow: guest INVLPG */
	MV_EXIT_EPT_VIOLATION, /* nested: GPA not mapped (or read-only) in EPT
				*/
	MV_EXIT_COUNT
};

const char *mv_exit_cause_name(enum mv_exit_cause c);

/* One TLB array: sets x ways entries; sets a power of two; 0 ways = none. */
struct mv_tlb_geom {
	uint32_t sets, ways;
};

enum { MV_TLB_L1I, MV_TLB_L1D, MV_TLB_L2, MV_TLB_LEVELS };
enum { MV_PG_4K, MV_PG_2M, MV_PG_SIZES };

struct mv_mmu_config {
	enum mv_mmu_mode mode;
	int guest_2m; /* the guest maps its data with 2 MiB pages (PS PDEs) */
	int host_2m;  /* the hypervisor backs the guest with 2 MiB pages */
	int tagged;   /* VPID + PCID tags; 0: every switch flushes the TLBs */
	struct mv_tlb_geom tlb[MV_TLB_LEVELS][MV_PG_SIZES];
	uint32_t pwc[3];  /* guest/shadow PML4E, PDPTE, PDE cache entries */
	uint32_t npwc[3]; /* nested (EPT) PML4E, PDPTE, PDE cache entries */
	/* Cycle estimate (cycles). */
	uint32_t lat_l2_hit;   /* an L1 miss that hits the L2 TLB */
	uint32_t lat_walk_ref; /* one page-walk memory reference */
	uint32_t lat_exit;     /* one VM exit: round trip plus handler */
	double base_cpi;       /* cycles per instruction without translation */
	uint32_t cpu_mhz;      /* core clock, to turn cycles into time */
};

/*
 * Defaults: TLBs of an Intel Skylake-SP core, Intel 64 and IA-32
 * Architectures Optimization Reference Manual (248966-045), Table 2-15.
 */
void mv_mmu_config_default(struct mv_mmu_config *c, enum mv_mmu_mode mode);

/*
 * Set one parameter by name, as `memvisor mmu --set KEY=VALUE` and the
 * attributes of <mv:mmu> give it:
 *   l1i-4k l1i-2m l1d-4k l1d-2m l2-4k l2-2m   TLB array: ENTRIESxWAYS
 *                               ("1536x12"; entries / ways a power of
 *                               two, ways <= 64) or 0 for none
 *   pwc npwc                    walk caches, guest and EPT dimension:
 *                               PML4E,PDPTE,PDE entries ("2,4,32")
 *   lat-l2 lat-walk lat-exit    cycles: L2 TLB hit, walk reference, exit
 *   cpu-mhz                     clock turning cycles into time
 * MV_EINVAL with the key as the field for an unknown key or bad value.
 */
int mv_mmu_config_set(struct mv_mmu_config *c, const char *key,
		      const char *value, struct mv_error *err);
/* The keys mv_mmu_config_set knows, NULL-terminated. */
extern const char *const mv_mmu_config_keys[];

struct mv_mmu_counters {
	uint64_t accesses, fetches, writes;
	uint64_t l1_hits, l1_misses, l2_hits, l2_misses;
	uint64_t walks, walk_refs; /* hardware walks (restarts included) */
	uint64_t walk_refs_nested; /* of walk_refs, EPT entries read */
	uint64_t walk_hist[32];    /* walks by references made */
	uint64_t last_walk_refs;   /* references of the latest walk */
	uint64_t pwc_hits, npwc_hits;
	uint64_t guest_faults; /* demand-paging faults in the guest */
	uint64_t pt_writes;    /* guest page-table entry writes */
	uint64_t exits[MV_EXIT_COUNT];
	uint64_t invalidations;  /* hook calls that dropped a mapping */
	uint64_t tlb_flushes;    /* whole-VM or whole-PCID flushes */
	uint64_t large_splits;   /* 2 MiB host mappings split */
	uint64_t guest_pt_pages; /* guest page-table pages now */
	uint64_t ept_pages;      /* EPT table pages (host frames) */
	uint64_t shadow_pages, shadow_pages_peak; /* shadow table pages */
	uint64_t cycles_l2, cycles_walk, cycles_exit;
};

struct mv_mmu;
struct mv_mmu_proc; /* a guest process: its CR3 and PCID */

/*
 * Attach an MMU model to vm (installs vm->on_invalidate; a VM has at most
 * one). MV_EINVAL with a field name for a bad configuration.
 */
int mv_mmu_create(struct mv_vm *vm, const struct mv_mmu_config *c,
		  struct mv_mmu **out, struct mv_error *err);
/* Detach and free the model's host frames (EPT, shadow tables). */
void mv_mmu_destroy(struct mv_mmu *m);

/*
 * The guest kernel that owns the VM's guest-physical memory (the guest
 * layer). Without one, the model's own small kernel is used: page-table
 * pages and demand-paged data come from a bump allocator over the VM's
 * pages (what `memvisor mmu` replays use). With one:
 *   alloc_table  a guest page for a new page-table page (the model clears
 *                it); 0 or an MV_E* code (MV_EAGAIN: try again later)
 *   free_table   a page-table page the model no longer uses
 *   fault        the guest's page-fault handler for the current process:
 *                it must map gva (mv_mmu_map) or fail with an MV_E* code;
 *                the faulting access is then retried, as an instruction is
 */
struct mv_mmu_guest_ops {
	void *ctx;
	int (*alloc_table)(void *ctx, mv_gppn_t *out);
	void (*free_table)(void *ctx, mv_gppn_t gppn);
	int (*fault)(void *ctx, uint64_t gva, int write);
};

/* Install the guest kernel (before the first process is created). */
void mv_mmu_set_guest(struct mv_mmu *m, const struct mv_mmu_guest_ops *ops);

/* A new guest process with an empty PML4 (a new guest page); current. */
int mv_mmu_proc_create(struct mv_mmu *m, struct mv_mmu_proc **out);
/*
 * The process exits: its page-table pages go back to the guest kernel,
 * its shadow tables (shadow mode) to the host, its TLB entries are
 * flushed. MV_EAGAIN (nothing changed) when a table page cannot be read
 * because the VM has no frame for it now.
 */
int mv_mmu_proc_destroy(struct mv_mmu *m, struct mv_mmu_proc *p);
/* Context switch: MOV CR3 (an exit in shadow mode; a flush untagged). */
void mv_mmu_switch(struct mv_mmu *m, struct mv_mmu_proc *p);
/* The guest-physical page holding p's PML4 (its CR3). */
mv_gppn_t mv_mmu_proc_cr3(const struct mv_mmu_proc *p);

/*
 * The guest kernel maps gva (page aligned; 2 MiB aligned with guest_2m) to
 * gppn in the current process, writing the entries and any new table
 * pages into guest memory. 0, MV_EINVAL (bad address), MV_ENOMEM (guest
 * out of pages) or MV_EAGAIN (the VM could not get a frame).
 */
int mv_mmu_map(struct mv_mmu *m, uint64_t gva, mv_gppn_t gppn);
/*
 * Create the page tables the current process needs to map gva, without
 * the leaf entry: a kernel allocates them before the data page (Linux's
 * do_anonymous_page), so making room for a table cannot take the page.
 */
int mv_mmu_prepare(struct mv_mmu *m, uint64_t gva);
/* The guest kernel unmaps gva: clears the leaf entry, then INVLPG. */
int mv_mmu_unmap(struct mv_mmu *m, uint64_t gva);
/*
 * Same in process p, current or not (the kernel reclaiming another
 * process's page: its entry is cleared and that PCID's entries for gva
 * flushed; only the current process's INVLPG is a shadow-mode exit).
 */
int mv_mmu_unmap_proc(struct mv_mmu *m, struct mv_mmu_proc *p, uint64_t gva);
/*
 * Every leaf entry of p's page tables, read without side effects: fn(ctx,
 * gva, first guest page, large) for each; a table page that is not
 * resident is skipped. Stops at fn's first non-zero return, returned.
 */
int mv_mmu_mappings(const struct mv_mmu *m, const struct mv_mmu_proc *p,
		    int (*fn)(void *ctx, uint64_t gva, mv_gppn_t gppn,
			      int large),
		    void *ctx);
/* Guest-physical page for new guest memory (2 MiB run with guest_2m). */
int mv_mmu_guest_alloc(struct mv_mmu *m, int large, mv_gppn_t *out);

/* The result of one translation. */
struct mv_mmu_xlate {
	mv_gppn_t gppn; /* guest-physical page of the access */
	mv_mpn_t mpn;   /* host frame holding it */
	int large;      /* translated by a 2 MiB TLB entry */
};

/*
 * One guest access at gva in the current process: translate it (TLBs,
 * walks, exits, guest demand paging of an unmapped page) and return the
 * byte in its host frame. NULL when the VM must wait for a frame. xl may
 * be NULL. fetch = instruction fetch (instruction TLB). NULL too for an
 * address at or above 2^48 (4-level paging).
 */
uint8_t *mv_mmu_access(struct mv_mmu *m, uint64_t gva, int write, int fetch,
		       struct mv_mmu_xlate *xl);

/* Empty every TLB and page-walk cache (a cold start; not counted). */
void mv_mmu_flush(struct mv_mmu *m);

const struct mv_mmu_counters *mv_mmu_counters(const struct mv_mmu *m);
/* Zero the event counters (not the gauges: table pages, shadow pages). */
void mv_mmu_reset_counters(struct mv_mmu *m);
const struct mv_mmu_config *mv_mmu_get_config(const struct mv_mmu *m);
struct mv_vm *mv_mmu_vm(const struct mv_mmu *m);
/* Host memory the shadow tables take now, in bytes. */
uint64_t mv_mmu_shadow_bytes(const struct mv_mmu *m);
/*
 * Host frames the model holds (EPT and shadow table pages): up to max
 * written to out; returns the count. The hypervisor's overhead memory for
 * the VM, with the model's own books (mv_mmu_overhead_bytes).
 */
uint64_t mv_mmu_frames(const struct mv_mmu *m, mv_mpn_t *out, uint64_t max);
/* Host memory for translation: table frames plus per-page arrays. */
uint64_t mv_mmu_overhead_bytes(const struct mv_mmu *m);
/* Add the model's books (TLBs, walk caches, shadow pages and their maps,
 * EPT page list) to b, as group "mmu". */
void mv_mmu_books(const struct mv_mmu *m, struct mv_books *b);
/* Translation cycles (L2 hits + walks + exits) from the counters. */
uint64_t mv_mmu_cycles(const struct mv_mmu *m);
/* The same cycles as nanoseconds at the configured clock. */
uint64_t mv_mmu_cycles_ns(const struct mv_mmu *m, uint64_t cycles);

#endif
