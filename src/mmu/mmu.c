/*
 * mmu.c - x86-64 address translation for one VM: guest page tables in guest
 * memory, native / nested (EPT) / shadow walks, TLBs, VM exits.
 *
 * Walks. Every hardware walk reads real 64-bit entries from real page
 * bytes and counts each entry read as one memory reference:
 *
 *   native   guest tables, addressed by guest-physical page (guest-physical
 *            is machine memory here): 4 references cold, 3 with 2 MiB.
 *   nested   guest tables, but every guest-physical address (CR3, each
 *            table page, the final page) is first translated through the
 *            EPT, a 4-level table in host frames: Lg x (Ln + 1) + Ln
 *            references cold, i.e. 24 (4/4), 19 (3/4 or 4/3), 15 (3/3)
 *            (Bhargava et al., "Accelerating two-dimensional page walks for
 *            virtualized systems", ASPLOS 2008, Figure 3).
 *   shadow   the shadow table of the current CR3, in host frames: 4 (or 3
 *            with a 2 MiB shadow leaf, which needs 2 MiB in both
 *            dimensions).
 *
 * Page-walk caches hold non-leaf entries per level. In nested mode the
 * guest-dimension caches hold the host frame of the next guest table, as
 * Intel's combined paging-structure caches do (SDM Vol. 3C, 29.4), and
 * separate caches hold upper EPT entries.
 *
 * The guest kernel. It allocates guest-physical pages with a bump allocator
 * (tables from the bottom of the VM's memory, 2 MiB runs from the top),
 * maps pages on demand when an access finds no guest mapping (a guest page
 * fault), and writes entries with pte_write(). In shadow mode a write into
 * a page-table page that some shadow table was built from is a VM exit
 * (MV_EXIT_PT_WRITE) whose handler emulates the store and zaps the shadow
 * entries derived from the written entry, as KVM's mmu_pte_write did before
 * unsync shadow pages. The hardware sets accessed and dirty bits in guest
 * entries (native, nested); in shadow mode the hypervisor sets them while
 * it fills a shadow entry, and maps a clean page read-only so that the
 * first write exits and sets the dirty bit (KVM, VMware likewise).
 *
 * Host side. The EPT is filled on EPT violations through the VM's own
 * fault path (mv_vm_access / mv_vm_fault): first touch, COW break and
 * swap-in are what they are without an MMU. A 2 MiB EPT or shadow leaf is
 * made only for a 2 MiB guest-physical run whose 512 pages are all private
 * (a large page is not shared or swapped without being split, as on ESX
 * and with Linux THP); its frame field holds the frame of the run's first
 * page, and the frame of a 4 KiB part is read from the pmap, because the
 * host frame pool hands out 4 KiB frames without contiguity. When the pmap
 * changes a page (vm->on_invalidate) the model clears the EPT entry
 * (splitting a 2 MiB leaf) and flushes the VM's translations, as KVM's
 * kvm_flush_remote_tlbs does, or zaps the shadow entries found through a
 * reverse map and flushes those addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/mmu.h"
#include "mmu/tlb.h"

#define NONE32 UINT32_MAX
#define PTE_FLAGS_TABLE (MV_PTE_P | MV_PTE_RW | MV_PTE_US)
#define EPT_RWX (MV_EPT_R | MV_EPT_W | MV_EPT_X)

/* Walk outcomes besides 0 (translated) and MV_EAGAIN (no frame). */
enum { W_GUEST_PF = 1, W_RETRY = 2 };

struct mv_mmu_proc {
	int id;
	uint16_t pcid;
	mv_gppn_t cr3;
	uint32_t sroot; /* shadow root page index (shadow mode) */
	struct mv_mmu_proc *next;
};

/* A shadow table page: a host frame plus what the hypervisor keeps. */
struct spage {
	uint32_t mpn;
	uint8_t level;
	uint16_t pcid;
	uint64_t gva_base;
	mv_gppn_t gt;     /* guest table it shadows; UINT64_MAX: none */
	uint32_t gt_next; /* next shadow page of the same guest table */
	/* non-leaf slot: child page index; leaf slot: guest page */
	uint32_t aux[512];
	/* reverse-map link of a leaf slot: next (page << 9 | slot) + 1 */
	uint32_t rnext[512];
};

struct walk {
	mv_gppn_t gppn; /* guest page of the access (4 KiB) */
	mv_gppn_t base; /* 2 MiB entry: first guest page of the run */
	uint32_t mpn;
	int large;
	int wr;
};

struct mv_mmu {
	struct mv_mmu_config cfg;
	struct mv_vm *vm;
	struct mv_host *host;
	struct mv_mmu_counters ctr;
	uint64_t clock;
	uint64_t tag;   /* VPID and PCID of the current process, key bits */
	uint64_t vmtag; /* VPID alone */
	struct mv_tlb_array tlb[MV_TLB_LEVELS][MV_PG_SIZES];
	struct mv_pwc pwc[3], npwc[3]; /* [0] PML4E, [1] PDPTE, [2] PDE */

	struct mv_mmu_proc *procs, *cur;
	int nprocs;

	/* the guest kernel: the guest layer's, or the bump allocator */
	struct mv_mmu_guest_ops guest;
	mv_gppn_t gnext_small, gnext_large;

	/* nested */
	uint32_t ept_root;
	uint32_t *ept_frames; /* every EPT page, to free them */
	uint64_t nept;
	size_t capept;
	uint8_t *split; /* per 2 MiB run: mapped with 4 KiB only */

	/* native: TLB entries of a page are valid while cached[g] == gen */
	uint32_t *cached;
	uint32_t gen;

	/* shadow */
	struct spage **sp;
	uint32_t nsp, sp_free;
	size_t capsp;
	uint32_t *gt_head; /* per guest page: shadow pages of it, index+1 */
	uint32_t *rmap;    /* per guest page: leaf link + 1 */
	uint8_t *wp;       /* per guest page: write-protected PT page */
};

static const char *const mode_names[MV_MMU_MODES] = {"native", "shadow",
						     "nested"};

const char *mv_mmu_mode_name(enum mv_mmu_mode m)
{
	return (unsigned)m < MV_MMU_MODES ? mode_names[m] : "?";
}

int mv_mmu_mode_parse(const char *s, enum mv_mmu_mode *out)
{
	for (int i = 0; i < MV_MMU_MODES; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum mv_mmu_mode)i;
			return 0;
		}
	return MV_EINVAL;
}

static const char *const exit_names[MV_EXIT_COUNT] = {
	"pt_write",  "shadow_fault", "guest_pf",
	"cr3_write", "invlpg",       "ept_violation",
};

const char *mv_exit_cause_name(enum mv_exit_cause c)
{
	return (unsigned)c < MV_EXIT_COUNT ? exit_names[c] : "?";
}

void mv_mmu_config_default(struct mv_mmu_config *c, enum mv_mmu_mode mode)
{
	memset(c, 0, sizeof *c);
	c->mode = mode;
	c->tagged = 1;
	/*
	 * Skylake-SP (Optimization Reference Manual 248966-045, Table 2-15):
	 * ITLB 4 KiB 128 entries 8-way, 2 MiB 8 entries per thread (fully
	 * associative); DTLB 4 KiB 64 entries 4-way, 2 MiB 32 entries 4-way;
	 * STLB 1536 entries 12-way shared by 4 KiB and 2 MiB pages, modelled
	 * here as one 1536-entry array per page size (an upper bound on the
	 * 2 MiB reach).
	 */
	c->tlb[MV_TLB_L1I][MV_PG_4K] = (struct mv_tlb_geom){16, 8};
	c->tlb[MV_TLB_L1I][MV_PG_2M] = (struct mv_tlb_geom){1, 8};
	c->tlb[MV_TLB_L1D][MV_PG_4K] = (struct mv_tlb_geom){16, 4};
	c->tlb[MV_TLB_L1D][MV_PG_2M] = (struct mv_tlb_geom){8, 4};
	c->tlb[MV_TLB_L2][MV_PG_4K] = (struct mv_tlb_geom){128, 12};
	c->tlb[MV_TLB_L2][MV_PG_2M] = (struct mv_tlb_geom){128, 12};
	/*
	 * Paging-structure caches: Intel does not publish sizes; Barr, Cox
	 * and Rixner ("Translation caching: skip, don't walk", ISCA 2010)
	 * describe a few PML4E and PDPTE entries and a few dozen PDEs. The
	 * EPT caches get the same sizes.
	 */
	c->pwc[0] = c->npwc[0] = 2;
	c->pwc[1] = c->npwc[1] = 4;
	c->pwc[2] = c->npwc[2] = 32;
	/*
	 * Latencies: an STLB hit costs about 9 cycles on Skylake; a walk
	 * reference mostly hits the data caches (between an L2 hit, 12
	 * cycles, and an LLC hit, ~44; the same manual, Table 2-14), so 20
	 * is assumed; a VM exit with a short handler costs on the order of
	 * 1000-2000 cycles on current Intel cores.
	 */
	c->lat_l2_hit = 9;
	c->lat_walk_ref = 20;
	c->lat_exit = 1500;
	c->base_cpi = 1.0;
	c->cpu_mhz = 3000;
}

const char *const mv_mmu_config_keys[] = {
	"l1i-4k", "l1i-2m", "l1d-4k",   "l1d-2m",   "l2-4k",   "l2-2m", "pwc",
	"npwc",   "lat-l2", "lat-walk", "lat-exit", "cpu-mhz", NULL,
};

static int set_u32(const char *key, const char *v, uint32_t min, uint32_t max,
		   uint32_t *out, struct mv_error *err)
{
	uint64_t n;
	if (mv_parse_u64(v, &n) || n < min || n > max)
		return mv_error_set(err, MV_EINVAL, NULL, 0, key,
				    "'%s' is not a whole number from %u to %u",
				    v, min, max);
	*out = (uint32_t)n;
	return 0;
}

int mv_mmu_config_set(struct mv_mmu_config *c, const char *key,
		      const char *value, struct mv_error *err)
{
	for (int k = 0; k < 6; k++) {
		if (strcmp(key, mv_mmu_config_keys[k]))
			continue;
		struct mv_tlb_geom *g = &c->tlb[k / 2 == 0 ? MV_TLB_L1I
						: k / 2 == 1
							? MV_TLB_L1D
							: MV_TLB_L2][k % 2];
		if (!strcmp(value, "0")) {
			*g = (struct mv_tlb_geom){0, 0};
			return 0;
		}
		char *x = strchr(value, 'x');
		uint64_t entries, ways;
		char head[32];
		if (!x || (size_t)(x - value) >= sizeof head)
			goto bad_tlb;
		memcpy(head, value, (size_t)(x - value));
		head[x - value] = '\0';
		if (mv_parse_u64(head, &entries) ||
		    mv_parse_u64(x + 1, &ways) || !entries || !ways ||
		    ways > 64 || entries % ways ||
		    entries / ways > (1u << 20) ||
		    ((entries / ways) & (entries / ways - 1)))
			goto bad_tlb;
		*g = (struct mv_tlb_geom){(uint32_t)(entries / ways),
					  (uint32_t)ways};
		return 0;
	bad_tlb:
		return mv_error_set(err, MV_EINVAL, NULL, 0, key,
				    "'%s' is not ENTRIESxWAYS with a power of "
				    "two sets and at most 64 ways (e.g. "
				    "1536x12), or 0",
				    value);
	}
	if (!strcmp(key, "pwc") || !strcmp(key, "npwc")) {
		uint32_t *dst = key[0] == 'p' ? c->pwc : c->npwc, v[3];
		const char *p = value;
		for (int i = 0; i < 3; i++) {
			char num[16];
			size_t n = strcspn(p, ",");
			if (n == 0 || n >= sizeof num ||
			    (i < 2) != (p[n] == ','))
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, key,
					"'%s' is not three entry counts "
					"PML4E,PDPTE,PDE (e.g. 2,4,32)",
					value);
			memcpy(num, p, n);
			num[n] = '\0';
			int rc = set_u32(key, num, 0, 4096, &v[i], err);
			if (rc)
				return rc;
			p += n + 1;
		}
		memcpy(dst, v, sizeof v);
		return 0;
	}
	if (!strcmp(key, "lat-l2"))
		return set_u32(key, value, 0, 1000000, &c->lat_l2_hit, err);
	if (!strcmp(key, "lat-walk"))
		return set_u32(key, value, 0, 1000000, &c->lat_walk_ref, err);
	if (!strcmp(key, "lat-exit"))
		return set_u32(key, value, 0, 100000000, &c->lat_exit, err);
	if (!strcmp(key, "cpu-mhz"))
		return set_u32(key, value, 1, 100000, &c->cpu_mhz, err);
	return mv_error_set(err, MV_EINVAL, NULL, 0, key,
			    "unknown MMU parameter (l1i-4k, l1i-2m, l1d-4k, "
			    "l1d-2m, l2-4k, l2-2m, pwc, npwc, lat-l2, "
			    "lat-walk, lat-exit, cpu-mhz)");
}

static int geom_ok(struct mv_tlb_geom g)
{
	return g.ways == 0 || g.sets == 0 ||
	       (g.ways <= 64 && g.sets <= (1u << 20) &&
		(g.sets & (g.sets - 1)) == 0);
}

/* ---------------------------------------------------------------- TLBs */

static uint64_t pcid_tag(const struct mv_mmu *m, uint16_t pcid)
{
	return m->vmtag | (m->cfg.tagged ? (uint64_t)pcid << 36 : 0);
}

static void flush_all(struct mv_mmu *m)
{
	for (int l = 0; l < MV_TLB_LEVELS; l++)
		for (int s = 0; s < MV_PG_SIZES; s++)
			mv_tlb_flush_tag(&m->tlb[l][s], 0, 0);
	for (int i = 0; i < 3; i++) {
		mv_pwc_flush_tag(&m->pwc[i], 0, 0);
		mv_pwc_flush_tag(&m->npwc[i], 0, 0);
	}
	m->gen++;
}

/* Everything of the VM: what INVEPT single-context does. */
static void flush_vm(struct mv_mmu *m)
{
	flush_all(m);
	m->ctr.tlb_flushes++;
}

/* Entries of one address space (PCID), TLBs and guest walk caches. */
static void flush_pcid(struct mv_mmu *m, uint16_t pcid)
{
	uint64_t tag = pcid_tag(m, pcid);
	for (int l = 0; l < MV_TLB_LEVELS; l++)
		for (int s = 0; s < MV_PG_SIZES; s++)
			mv_tlb_flush_tag(&m->tlb[l][s], tag, MV_TLB_TAG_MASK);
	for (int i = 0; i < 3; i++)
		mv_pwc_flush_tag(&m->pwc[i], tag, MV_TLB_TAG_MASK);
	m->ctr.tlb_flushes++;
}

/* INVLPG / INVVPID individual address: both page sizes, every level. */
static void flush_page(struct mv_mmu *m, uint64_t gva, uint16_t pcid)
{
	uint64_t tag = pcid_tag(m, pcid);
	for (int l = 0; l < MV_TLB_LEVELS; l++) {
		mv_tlb_flush_page(&m->tlb[l][MV_PG_4K], gva >> 12,
				  mv_tlb_key(gva >> 12, tag));
		mv_tlb_flush_page(&m->tlb[l][MV_PG_2M], gva >> 21,
				  mv_tlb_key(gva >> 21, tag));
	}
}

void mv_mmu_flush(struct mv_mmu *m)
{
	flush_all(m);
}

/* ----------------------------------------------------- guest memory */

static unsigned va_index(uint64_t gva, int level)
{
	return (unsigned)(gva >> (12 + 9 * (level - 1))) & 511;
}

static unsigned pa_index(mv_gppn_t g, int level)
{
	return (unsigned)(g >> (9 * (level - 1))) & 511;
}

/* Entry idx of guest table page t, as the guest kernel or the hypervisor
 * (not the walker) reaches it; write makes the page private first, and
 * its frame BYTES (a new table is a zero descriptor until written). */
static uint64_t *guest_entry(struct mv_mmu *m, mv_gppn_t t, unsigned idx,
			     int write)
{
	uint8_t *pg = mv_vm_access(m->vm, t, write);
	if (pg && write)
		pg = mv_vm_page_bytes(m->vm, t);
	return pg ? (uint64_t *)pg + idx : NULL;
}

int mv_mmu_guest_alloc(struct mv_mmu *m, int large, mv_gppn_t *out)
{
	if (large) {
		if (m->gnext_large < m->gnext_small + MV_LARGE_PAGES)
			return MV_ENOMEM;
		m->gnext_large -= MV_LARGE_PAGES;
		*out = m->gnext_large;
	} else {
		if (m->gnext_small >= m->gnext_large)
			return MV_ENOMEM;
		*out = m->gnext_small++;
	}
	return 0;
}

/* ------------------------------------------------------------- shadow */

static void rmap_add(struct mv_mmu *m, mv_gppn_t g, uint32_t spi, unsigned slot)
{
	struct spage *s = m->sp[spi];
	s->rnext[slot] = m->rmap[g];
	m->rmap[g] = (spi << 9 | slot) + 1;
}

static void rmap_del(struct mv_mmu *m, mv_gppn_t g, uint32_t spi, unsigned slot)
{
	uint32_t *link = &m->rmap[g];
	uint32_t want = (spi << 9 | slot) + 1;
	while (*link) {
		uint32_t l = *link - 1;
		struct spage *s = m->sp[l >> 9];
		if (*link == want) {
			*link = s->rnext[l & 511];
			return;
		}
		link = &s->rnext[l & 511];
	}
}

static uint64_t *sp_entries(const struct mv_mmu *m, const struct spage *s)
{
	return (uint64_t *)mv_host_frame(m->host, s->mpn);
}

static uint32_t sp_alloc(struct mv_mmu *m, int level, uint64_t gva_base,
			 uint16_t pcid, mv_gppn_t gt)
{
	mv_mpn_t mpn = mv_host_frame_alloc(m->host, m->vm->home_node);
	if (mpn == MV_MPN_NONE)
		return NONE32;
	uint32_t i;
	if (m->sp_free != NONE32) {
		i = m->sp_free;
		m->sp_free = m->sp[i]->gt_next;
	} else {
		if (mv_array_room(&m->sp, &m->capsp, m->nsp, sizeof *m->sp,
				  64)) {
			mv_host_frame_put(m->host, mpn);
			return NONE32;
		}
		m->sp[m->nsp] = malloc(sizeof(struct spage));
		if (!m->sp[m->nsp]) {
			mv_host_frame_put(m->host, mpn);
			return NONE32;
		}
		i = m->nsp++;
	}
	struct spage *s = m->sp[i];
	memset(mv_host_frame(m->host, mpn), 0, MV_PAGE_SIZE);
	s->mpn = mpn;
	s->level = (uint8_t)level;
	s->pcid = pcid;
	s->gva_base = gva_base;
	s->gt = gt;
	s->gt_next = NONE32;
	if (gt != UINT64_MAX) {
		s->gt_next = m->gt_head[gt] ? m->gt_head[gt] - 1 : NONE32;
		m->gt_head[gt] = i + 1;
		m->wp[gt] = 1; /* shadowed: guest writes to it now trap */
	}
	if (++m->ctr.shadow_pages > m->ctr.shadow_pages_peak)
		m->ctr.shadow_pages_peak = m->ctr.shadow_pages;
	return i;
}

static void sp_free_tree(struct mv_mmu *m, uint32_t spi);

/* Clear one shadow entry and what hangs under it. */
static void sp_zap(struct mv_mmu *m, uint32_t spi, unsigned slot)
{
	struct spage *s = m->sp[spi];
	uint64_t *e = &sp_entries(m, s)[slot];
	if (!(*e & MV_PTE_P))
		return;
	uint64_t span = 1ull << (12 + 9 * (s->level - 1));
	uint64_t gva = s->gva_base + slot * span;
	if (s->level == 1 || (*e & MV_PTE_PS)) {
		rmap_del(m, s->aux[slot], spi, slot);
		*e = 0;
		flush_page(m, gva, s->pcid);
	} else {
		uint32_t child = s->aux[slot];
		*e = 0;
		sp_free_tree(m, child);
		flush_pcid(m, s->pcid);
	}
}

static void sp_free_tree(struct mv_mmu *m, uint32_t spi)
{
	struct spage *s = m->sp[spi];
	for (unsigned i = 0; i < 512; i++)
		sp_zap(m, spi, i);
	if (s->gt != UINT64_MAX) {
		uint32_t *link = &m->gt_head[s->gt];
		while (*link && *link - 1 != spi)
			link = &m->sp[*link - 1]->gt_next;
		if (*link)
			*link = s->gt_next == NONE32 ? 0 : s->gt_next + 1;
		/* no longer shadowed: the guest may write it freely */
		if (!m->gt_head[s->gt])
			m->wp[s->gt] = 0;
	}
	mv_host_frame_put(m->host, s->mpn);
	m->ctr.shadow_pages--;
	s->level = 0; /* free */
	s->gt = UINT64_MAX;
	s->gt_next = m->sp_free;
	m->sp_free = spi;
}

/* The guest wrote entry idx of table page t: drop what shadows it. */
static void shadow_sync(struct mv_mmu *m, mv_gppn_t t, unsigned idx)
{
	uint32_t l = m->gt_head[t];
	while (l) {
		uint32_t spi = l - 1;
		uint32_t next = m->sp[spi]->gt_next;
		sp_zap(m, spi, idx);
		l = next == NONE32 ? 0 : next + 1;
	}
}

/* ------------------------------------------------- guest kernel */

/*
 * The guest stores value into entry idx of its table page t. In shadow
 * mode a store to a write-protected page is one VM exit; the hypervisor
 * emulates it and updates the shadow.
 */
static int pte_write(struct mv_mmu *m, mv_gppn_t t, unsigned idx,
		     uint64_t value)
{
	m->ctr.pt_writes++;
	uint64_t *e = guest_entry(m, t, idx, 1);
	if (!e)
		return MV_EAGAIN;
	*e = value;
	mv_vm_wrote(m->vm, t);
	if (m->cfg.mode == MV_MMU_SHADOW && m->wp[t]) {
		m->ctr.exits[MV_EXIT_PT_WRITE]++;
		m->ctr.cycles_exit += m->cfg.lat_exit;
		shadow_sync(m, t, idx);
	}
	return 0;
}

static void free_table(struct mv_mmu *m, mv_gppn_t t)
{
	m->ctr.guest_pt_pages--;
	if (m->guest.free_table)
		m->guest.free_table(m->guest.ctx, t);
}

/* A new, empty page-table page: the guest kernel clears a page it got
 * (a reused page holds stale bytes), as Linux's get_zeroed_page. */
static int new_table(struct mv_mmu *m, mv_gppn_t *out)
{
	int rc = m->guest.alloc_table ? m->guest.alloc_table(m->guest.ctx, out)
				      : mv_mmu_guest_alloc(m, 0, out);
	if (rc)
		return rc;
	m->ctr.guest_pt_pages++;
	uint8_t *pg = mv_vm_access(m->vm, *out, 1);
	if (!pg) {
		free_table(m, *out);
		return MV_EAGAIN;
	}
	/* cleared: the zero descriptor; bytes come with the first entry */
	mv_vm_set_desc(m->vm, *out, MV_DESC_ZERO_PAGE);
	return 0;
}

/*
 * The table page that holds the current process's leaf entry for gva
 * (level 1, or 2 with guest_2m), creating the tables missing on the way.
 */
static int leaf_table(struct mv_mmu *m, uint64_t gva, mv_gppn_t *out)
{
	int leaf = m->cfg.guest_2m ? 2 : 1;
	uint64_t align = m->cfg.guest_2m ? 2 * MV_MIB - 1 : MV_PAGE_SIZE - 1;
	if (!m->cur || (gva >> MV_VA_BITS) || (gva & align))
		return MV_EINVAL;
	mv_gppn_t t = m->cur->cr3;
	for (int level = 4; level > leaf; level--) {
		unsigned i = va_index(gva, level);
		uint64_t *e = guest_entry(m, t, i, 0);
		if (!e)
			return MV_EAGAIN;
		uint64_t v = *e;
		if (!(v & MV_PTE_P)) {
			mv_gppn_t n;
			int rc = new_table(m, &n);
			if (rc)
				return rc;
			rc = pte_write(m, t, i, (n << 12) | PTE_FLAGS_TABLE);
			if (rc) {
				free_table(
					m,
					n); /* linked nowhere: give it back */
				return rc;
			}
			t = n;
		} else if (v & MV_PTE_PS) {
			return MV_EINVAL;
		} else {
			t = (v & MV_PTE_ADDR) >> 12;
		}
	}
	*out = t;
	return 0;
}

int mv_mmu_prepare(struct mv_mmu *m, uint64_t gva)
{
	mv_gppn_t t;
	return leaf_table(m, gva, &t);
}

int mv_mmu_map(struct mv_mmu *m, uint64_t gva, mv_gppn_t gppn)
{
	int leaf = m->cfg.guest_2m ? 2 : 1;
	if (gppn >= m->vm->npages ||
	    (m->cfg.guest_2m && (gppn & (MV_LARGE_PAGES - 1))))
		return MV_EINVAL;
	mv_gppn_t t;
	int rc = leaf_table(m, gva, &t);
	if (rc)
		return rc;
	return pte_write(m, t, va_index(gva, leaf),
			 (gppn << 12) | PTE_FLAGS_TABLE |
				 (leaf == 2 ? MV_PTE_PS : 0));
}

/* Process p's leaf entry for gva: its table page and index. */
static int guest_leaf(struct mv_mmu *m, const struct mv_mmu_proc *p,
		      uint64_t gva, mv_gppn_t *t, unsigned *idx, int *lvl)
{
	mv_gppn_t g = p->cr3;
	for (int level = 4; level >= 1; level--) {
		unsigned i = va_index(gva, level);
		uint64_t *e = guest_entry(m, g, i, 0);
		if (!e)
			return MV_EAGAIN; /* no frame for the table page now */
		if (!(*e & MV_PTE_P))
			return MV_EINVAL;
		if (level == 1 || (level == 2 && (*e & MV_PTE_PS))) {
			*t = g;
			*idx = i;
			*lvl = level;
			return 0;
		}
		g = (*e & MV_PTE_ADDR) >> 12;
	}
	return MV_EINVAL;
}

/* A leaf's TLB entries in PCID pcid: a 2 MiB guest page may be held as
 * 512 4 KiB entries (on 4 KiB host pages); INVLPG drops them all. */
static void flush_leaf(struct mv_mmu *m, uint64_t gva, int level, uint16_t pcid)
{
	if (level == 2) {
		gva &= ~(uint64_t)(2 * MV_MIB - 1);
		for (unsigned k = 0; k < MV_LARGE_PAGES; k++)
			flush_page(m, gva + ((uint64_t)k << 12), pcid);
	} else {
		flush_page(m, gva, pcid);
	}
}

/* INVLPG: hardware drops the page; in shadow mode it exits first. */
static void invlpg(struct mv_mmu *m, uint64_t gva, int level)
{
	if (m->cfg.mode == MV_MMU_SHADOW) {
		m->ctr.exits[MV_EXIT_INVLPG]++;
		m->ctr.cycles_exit += m->cfg.lat_exit;
		uint32_t spi = m->cur->sroot;
		for (int level = 4; level >= 1 && spi != NONE32; level--) {
			struct spage *s = m->sp[spi];
			unsigned i = va_index(gva, level);
			uint64_t e = sp_entries(m, s)[i];
			if (!(e & MV_PTE_P))
				break;
			if (level == 1 || (e & MV_PTE_PS)) {
				sp_zap(m, spi, i);
				break;
			}
			spi = s->aux[i];
		}
	}
	flush_leaf(m, gva, level, m->cur->pcid);
	/* INVLPG may drop any paging-structure cache entry (SDM 4.10.4.1) */
	uint64_t tag = pcid_tag(m, m->cur->pcid);
	for (int i = 0; i < 3; i++)
		mv_pwc_flush_tag(&m->pwc[i], tag, MV_TLB_TAG_MASK);
}

int mv_mmu_unmap_proc(struct mv_mmu *m, struct mv_mmu_proc *p, uint64_t gva)
{
	mv_gppn_t t;
	unsigned i;
	int level;
	if (!p || (gva >> MV_VA_BITS))
		return MV_EINVAL;
	int rc = guest_leaf(m, p, gva, &t, &i, &level);
	if (!rc)
		rc = pte_write(m, t, i, 0);
	if (rc)
		return rc;
	if (p == m->cur) {
		invlpg(m, gva, level);
	} else {
		/* INVPCID individual address for the other address space */
		flush_leaf(m, gva, level, p->pcid);
		for (int l = 0; l < 3; l++)
			mv_pwc_flush_tag(&m->pwc[l], pcid_tag(m, p->pcid),
					 MV_TLB_TAG_MASK);
	}
	return 0;
}

int mv_mmu_unmap(struct mv_mmu *m, uint64_t gva)
{
	return mv_mmu_unmap_proc(m, m->cur, gva);
}

/* Page p's bytes if they can be read with no fault, else NULL. */
static const uint8_t *peek_page(const struct mv_mmu *m, mv_gppn_t g)
{
	const struct mv_pme *e = &m->vm->pmap[g];
	if (e->state == MV_PS_PRIVATE || e->state == MV_PS_SHARED)
		return mv_host_frame(m->host, e->mpn);
	return NULL;
}

static int mappings_in(const struct mv_mmu *m, mv_gppn_t t, int level,
		       uint64_t base,
		       int (*fn)(void *, uint64_t, mv_gppn_t, int), void *ctx)
{
	if (t >= m->vm->npages)
		return 0;
	const uint8_t *pg = peek_page(m, t);
	if (!pg)
		return 0; /* untouched or zero: empty; else not readable now */
	for (unsigned i = 0; i < 512; i++) {
		uint64_t v;
		memcpy(&v, pg + 8 * i, 8);
		if (!(v & MV_PTE_P))
			continue;
		uint64_t gva = base | ((uint64_t)i << (12 + 9 * (level - 1)));
		mv_gppn_t next = (v & MV_PTE_ADDR) >> 12;
		int rc = level == 1 || (level == 2 && (v & MV_PTE_PS))
				 ? fn(ctx, gva, next, level == 2)
				 : mappings_in(m, next, level - 1, gva, fn,
					       ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int mv_mmu_mappings(const struct mv_mmu *m, const struct mv_mmu_proc *p,
		    int (*fn)(void *ctx, uint64_t gva, mv_gppn_t gppn,
			      int large),
		    void *ctx)
{
	return mappings_in(m, p->cr3, 4, 0, fn, ctx);
}

/* A guest page fault at gva: the guest kernel maps a page there. */
static int guest_fault(struct mv_mmu *m, uint64_t gva, int write)
{
	mv_gppn_t t;
	unsigned i;
	int level;
	int rc = guest_leaf(m, m->cur, gva, &t, &i, &level);
	if (rc != MV_EINVAL)
		return rc ? rc : MV_EINVAL; /* mapped, yet faulted: a bug */
	m->ctr.guest_faults++;
	if (m->guest.fault)
		return m->guest.fault(m->guest.ctx, gva, write);
	int large = m->cfg.guest_2m;
	mv_gppn_t g;
	rc = mv_mmu_guest_alloc(m, large, &g);
	if (rc)
		return rc;
	uint64_t mask = large ? ~(2 * MV_MIB - 1)
			      : ~(uint64_t)(MV_PAGE_SIZE - 1);
	return mv_mmu_map(m, gva & mask, g);
}

/* ------------------------------------------------------------- EPT */

static uint64_t *ept_entries(const struct mv_mmu *m, uint32_t mpn)
{
	return (uint64_t *)mv_host_frame(m->host, mpn);
}

static uint32_t ept_page(struct mv_mmu *m)
{
	mv_mpn_t mpn = mv_host_frame_alloc(m->host, m->vm->home_node);
	if (mpn == MV_MPN_NONE)
		return NONE32;
	if (mv_array_room(&m->ept_frames, &m->capept, m->nept,
			  sizeof *m->ept_frames, 64)) {
		mv_host_frame_put(m->host, mpn);
		return NONE32;
	}
	m->ept_frames[m->nept++] = mpn;
	m->ctr.ept_pages++;
	memset(mv_host_frame(m->host, mpn), 0, MV_PAGE_SIZE);
	return mpn;
}

/* Give back EPT table page mpn (no entry may point to it any more). */
static void ept_page_free(struct mv_mmu *m, uint32_t mpn)
{
	for (uint64_t i = 0; i < m->nept; i++)
		if (m->ept_frames[i] == mpn) {
			m->ept_frames[i] = m->ept_frames[--m->nept];
			m->ctr.ept_pages--;
			mv_host_frame_put(m->host, mpn);
			return;
		}
}

/* The EPT entry for g at level (4 = PML4E ... 1 = PTE), creating tables
 * above it; NULL when no frame is left. */
static uint64_t *ept_slot(struct mv_mmu *m, mv_gppn_t g, int level)
{
	uint32_t t = m->ept_root;
	for (int l = 4; l > level; l--) {
		uint64_t *e = &ept_entries(m, t)[pa_index(g, l)];
		if (!(*e & MV_EPT_R)) {
			uint32_t n = ept_page(m);
			if (n == NONE32)
				return NULL;
			*e = ((uint64_t)n << 12) | EPT_RWX;
		}
		t = (uint32_t)((*e & MV_PTE_ADDR) >> 12);
	}
	return &ept_entries(m, t)[pa_index(g, level)];
}

/* The EPT leaf mapping g now (NULL if none) and its level. */
static uint64_t *ept_leaf(struct mv_mmu *m, mv_gppn_t g, int *level)
{
	uint32_t t = m->ept_root;
	for (int l = 4; l >= 1; l--) {
		uint64_t *e = &ept_entries(m, t)[pa_index(g, l)];
		if (!(*e & MV_EPT_R))
			return NULL;
		if (l == 1 || (*e & MV_PTE_PS)) {
			*level = l;
			return e;
		}
		t = (uint32_t)((*e & MV_PTE_ADDR) >> 12);
	}
	return NULL;
}

/*
 * Make the 2 MiB run at base resident for a 2 MiB host mapping: 1 if all
 * its pages are private afterwards, 0 if not (the run is then mapped with
 * 4 KiB pages for good), MV_EAGAIN without frames.
 */
static int run_backable(struct mv_mmu *m, mv_gppn_t base, mv_gppn_t g,
			int write)
{
	/* THP or ESX large pages (docs/largepages.md): the host's actual
	 * backing decides, region by region, and changes over the run
	 * (first touch, collapse, split); the access to g is made here */
	if (m->vm->region) {
		if (base + MV_LARGE_PAGES > m->vm->npages)
			return 0;
		uint8_t rg = m->vm->region[base / MV_LARGE_PAGES];
		if (rg == MV_REGION_PRISTINE)
			return mv_vm_thp_fault(m->vm, g, write, 1) != NULL;
		if (rg != MV_REGION_HUGE)
			return 0;
		return mv_vm_access(m->vm, g, write) ? 1 : MV_EAGAIN;
	}
	if (!m->cfg.host_2m || m->split[base / MV_LARGE_PAGES] ||
	    base + MV_LARGE_PAGES > m->vm->npages)
		return 0;
	/* only a run the host can back whole: no page of it ballooned,
	 * shared, compressed or swapped (those stay 4 KiB mappings; a
	 * ballooned page must not come back behind the guest's back) */
	for (mv_gppn_t p = base; p < base + MV_LARGE_PAGES; p++) {
		unsigned st = m->vm->pmap[p].state;
		if (st != MV_PS_PRIVATE && st != MV_PS_UNTOUCHED) {
			m->split[base / MV_LARGE_PAGES] = 1;
			return 0;
		}
	}
	for (mv_gppn_t p = base; p < base + MV_LARGE_PAGES; p++)
		if (!mv_vm_access(m->vm, p, p == g && write))
			return MV_EAGAIN;
	for (mv_gppn_t p = base; p < base + MV_LARGE_PAGES; p++)
		if (m->vm->pmap[p].state != MV_PS_PRIVATE) {
			m->split[base / MV_LARGE_PAGES] = 1;
			return 0;
		}
	return 1;
}

/* EPT violation handler: map g (writable if private) from the pmap. */
static int ept_fix(struct mv_mmu *m, mv_gppn_t g, int write)
{
	mv_gppn_t base = g & ~(mv_gppn_t)(MV_LARGE_PAGES - 1);
	int big = run_backable(m, base, g, write);
	if (big < 0)
		return big;
	if (big) {
		uint64_t *e = ept_slot(m, base, 2);
		if (!e)
			return MV_EAGAIN;
		/* a region collapsed again after a split: its 4 KiB table
		 * (every entry already invalidated) goes */
		if ((*e & MV_EPT_R) && !(*e & MV_PTE_PS))
			ept_page_free(m, (uint32_t)((*e & MV_PTE_ADDR) >> 12));
		*e = ((uint64_t)m->vm->pmap[base].mpn << 12) | EPT_RWX |
		     MV_PTE_PS;
		return 0;
	}
	if (!mv_vm_access(m->vm, g, write))
		return MV_EAGAIN;
	uint64_t *e = ept_slot(m, g, 1);
	if (!e)
		return MV_EAGAIN;
	const struct mv_pme *p = &m->vm->pmap[g];
	*e = ((uint64_t)p->mpn << 12) | MV_EPT_R | MV_EPT_X |
	     (p->state == MV_PS_PRIVATE ? MV_EPT_W : 0);
	return 0;
}

/* The pmap changed g: drop its EPT entry (splitting a 2 MiB leaf). */
static void ept_invalidate(struct mv_mmu *m, mv_gppn_t g)
{
	int level;
	uint64_t *e = ept_leaf(m, g, &level);
	if (!e)
		return; /* never mapped: nothing can be cached */
	if (level == 2) {
		mv_gppn_t base = g & ~(mv_gppn_t)(MV_LARGE_PAGES - 1);
		uint32_t pt = ept_page(m);
		m->split[base / MV_LARGE_PAGES] = 1;
		m->ctr.large_splits++;
		if (pt == NONE32) {
			*e = 0; /* no frame: drop the whole run instead */
		} else {
			uint64_t *pte = ept_entries(m, pt);
			for (unsigned i = 0; i < MV_LARGE_PAGES; i++) {
				const struct mv_pme *p = &m->vm->pmap[base + i];
				if (base + i != g && p->state == MV_PS_PRIVATE)
					pte[i] = ((uint64_t)p->mpn << 12) |
						 EPT_RWX;
			}
			*e = ((uint64_t)pt << 12) | EPT_RWX;
		}
	} else {
		*e = 0;
	}
	m->ctr.invalidations++;
	flush_vm(m);
}

/*
 * Hardware EPT walk of guest-physical page g: 0 and the frame, or the
 * outcome of the EPT violation (W_RETRY, MV_EAGAIN). refs counts the
 * entries read (NULL: a re-check that costs nothing, e.g. permission for
 * an accessed-bit write on a table the walk just read).
 */
static int ept_translate(struct mv_mmu *m, mv_gppn_t g, int write,
			 uint32_t *mpn, int *large, unsigned *refs)
{
	int level = 4;
	uint32_t t = m->ept_root;
	for (int c = 2; c >= 0; c--) {
		int lv = 4 - c; /* cache c holds entries of level lv */
		struct mv_pwce *h = mv_pwc_find(
			&m->npwc[c], (g >> (9 * (lv - 1))) | MV_TLB_VALID,
			++m->clock);
		if (h) {
			m->ctr.npwc_hits++;
			level = lv - 1;
			t = h->h;
			break;
		}
	}
	for (;; level--) {
		uint64_t e = ept_entries(m, t)[pa_index(g, level)];
		if (refs) {
			++*refs;
			m->ctr.walk_refs_nested++;
		}
		if (!(e & MV_EPT_R))
			break;
		int leaf = level == 1 || (e & MV_PTE_PS);
		if (leaf) {
			if (write && !(e & MV_EPT_W))
				break;
			*large = level == 2;
			*mpn = level == 1 ? (uint32_t)((e & MV_PTE_ADDR) >> 12)
					  : m->vm->pmap[g].mpn;
			return 0;
		}
		t = (uint32_t)((e & MV_PTE_ADDR) >> 12);
		mv_pwc_insert(&m->npwc[4 - level],
			      (g >> (9 * (level - 1))) | MV_TLB_VALID, 0, t,
			      ++m->clock);
	}
	m->ctr.exits[MV_EXIT_EPT_VIOLATION]++;
	m->ctr.cycles_exit += m->cfg.lat_exit;
	int rc = ept_fix(m, g, write);
	return rc ? rc : W_RETRY;
}

/* ------------------------------------------------------------ walks */

/* Look the guest-dimension walk caches up: the level to start at. */
static int pwc_start(struct mv_mmu *m, uint64_t gva, uint64_t *g, uint32_t *h)
{
	for (int c = 2; c >= 0; c--) {
		int lv = 4 - c; /* PDE cache first: the shortest walk */
		struct mv_pwce *e = mv_pwc_find(&m->pwc[c],
						(gva >> (12 + 9 * (lv - 1))) |
							m->tag | MV_TLB_VALID,
						++m->clock);
		if (e) {
			m->ctr.pwc_hits++;
			*g = e->g;
			*h = e->h;
			return lv - 1;
		}
	}
	return 4;
}

static void pwc_fill(struct mv_mmu *m, uint64_t gva, int level, uint64_t g,
		     uint32_t h)
{
	mv_pwc_insert(&m->pwc[4 - level],
		      (gva >> (12 + 9 * (level - 1))) | m->tag | MV_TLB_VALID,
		      g, h, ++m->clock);
}

static void walk_done(struct mv_mmu *m, unsigned refs)
{
	m->ctr.walks++;
	m->ctr.walk_refs += refs;
	m->ctr.walk_hist[refs < 32 ? refs : 31]++;
	m->ctr.last_walk_refs = refs;
	m->ctr.cycles_walk += (uint64_t)refs * m->cfg.lat_walk_ref;
}

/* Accessed (and dirty) bits the walker must set in entry v. */
static uint64_t ad_bits(uint64_t v, int leaf, int write)
{
	uint64_t want = MV_PTE_A | (leaf && write ? MV_PTE_D : 0);
	return want & ~v;
}

/*
 * One step of a walk of the guest's own tables, as the native walker or
 * the shadow-fault handler makes it: read entry va_index(gva, level) of
 * table page t, fail on a missing or read-only mapping, set the accessed
 * (and, on a write to a leaf, dirty) bit. *v is the entry as read, *set
 * the bits added, *leaf whether it maps the page.
 */
static int guest_step(struct mv_mmu *m, mv_gppn_t t, uint64_t gva, int level,
		      int write, uint64_t *v, uint64_t *set, int *leaf)
{
	unsigned i = va_index(gva, level);
	uint64_t *e = guest_entry(m, t, i, 0);
	if (!e)
		return MV_EAGAIN;
	*v = *e;
	if (!(*v & MV_PTE_P) || (write && !(*v & MV_PTE_RW)))
		return W_GUEST_PF;
	*leaf = level == 1 || (level == 2 && (*v & MV_PTE_PS));
	*set = ad_bits(*v, *leaf, write);
	if (*set) {
		if (!(e = guest_entry(m, t, i, 1)))
			return MV_EAGAIN;
		*e |= *set;
		mv_vm_wrote(m->vm, t);
	}
	return 0;
}

static int walk_native(struct mv_mmu *m, uint64_t gva, int write,
		       struct walk *w, unsigned *refs)
{
	uint64_t t = m->cur->cr3;
	uint32_t unused;
	int level = pwc_start(m, gva, &t, &unused);
	for (;; level--) {
		uint64_t v, set;
		int leaf;
		++*refs;
		int rc = guest_step(m, t, gva, level, write, &v, &set, &leaf);
		if (rc)
			return rc;
		uint64_t next = (v & MV_PTE_ADDR) >> 12;
		if (leaf) {
			w->large = level == 2;
			w->base = next;
			w->gppn = next + (w->large ? va_index(gva, 1) : 0);
			uint8_t *pg = mv_vm_access(m->vm, w->gppn, write);
			if (!pg)
				return MV_EAGAIN;
			w->mpn = m->vm->pmap[w->gppn].mpn;
			w->wr = ((v & MV_PTE_D) || write) &&
				m->vm->pmap[w->gppn].state == MV_PS_PRIVATE;
			m->cached[w->gppn] = m->gen;
			return 0;
		}
		pwc_fill(m, gva, level, next, 0);
		t = next;
	}
}

static int walk_nested(struct mv_mmu *m, uint64_t gva, int write,
		       struct walk *w, unsigned *refs)
{
	uint64_t tg = m->cur->cr3;
	uint32_t th = NONE32;
	int level = pwc_start(m, gva, &tg, &th);
	int fill = 0; /* level of the entry whose next table is tg */
	int large = 0;
	for (;; level--) {
		int rc;
		if (th == NONE32) {
			rc = ept_translate(m, tg, 0, &th, &large, refs);
			if (rc)
				return rc;
			if (fill)
				pwc_fill(m, gva, fill, tg, th);
		}
		unsigned i = va_index(gva, level);
		uint64_t *e = &ept_entries(m, th)[i];
		uint64_t v = *e;
		++*refs;
		if (!(v & MV_PTE_P) || (write && !(v & MV_PTE_RW)))
			return W_GUEST_PF;
		int leaf = level == 1 || (level == 2 && (v & MV_PTE_PS));
		uint64_t set = ad_bits(v, leaf, write);
		if (set) {
			/* an accessed/dirty update is a write to the table
			 * page: the EPT must allow it */
			uint32_t wh;
			rc = ept_translate(m, tg, 1, &wh, &large, NULL);
			if (rc)
				return rc;
			/* the table page's frame holds bytes from now */
			((uint64_t *)mv_host_frame_write(m->host,
							 wh))[i] |= set;
			mv_vm_content_changed(m->vm, tg);
			mv_vm_wrote(m->vm, tg);
		}
		uint64_t next = (v & MV_PTE_ADDR) >> 12;
		if (leaf) {
			int g2m = level == 2;
			w->gppn = next + (g2m ? va_index(gva, 1) : 0);
			rc = ept_translate(m, w->gppn, write, &w->mpn, &large,
					   refs);
			if (rc)
				return rc;
			/* the TLB entry's size: the smaller of the two */
			w->large = g2m && large;
			w->base = next;
			w->wr = ((v & MV_PTE_D) || write) &&
				m->vm->pmap[w->gppn].state == MV_PS_PRIVATE;
			return 0;
		}
		fill = level;
		tg = next;
		th = NONE32;
	}
}

/*
 * Shadow fault handler (a VM exit): walk the guest tables in software,
 * setting accessed/dirty bits and write-protecting each table page, make
 * the page resident, and fill the shadow path. W_GUEST_PF when the guest
 * has no mapping (the exit reflects a #PF into the guest).
 */
static int shadow_fix(struct mv_mmu *m, uint64_t gva, int write)
{
	struct mv_mmu_proc *p = m->cur;
	mv_gppn_t gt[5] = {0};
	mv_gppn_t t = p->cr3, g = 0;
	int glevel = 1;
	uint64_t gv = 0;
	m->ctr.cycles_exit += m->cfg.lat_exit;
	for (int level = 4; level >= 1; level--) {
		gt[level] = t;
		uint64_t v, set;
		int leaf;
		int rc = guest_step(m, t, gva, level, write, &v, &set, &leaf);
		if (rc == W_GUEST_PF)
			m->ctr.exits[MV_EXIT_GUEST_PF]++;
		if (rc)
			return rc;
		uint64_t next = (v & MV_PTE_ADDR) >> 12;
		if (leaf) {
			glevel = level;
			gv = v | set;
			g = next;
			break;
		}
		t = next;
	}
	m->ctr.exits[MV_EXIT_SHADOW_FAULT]++;
	mv_gppn_t data = g + (glevel == 2 ? va_index(gva, 1) : 0);
	int big = glevel == 2 ? run_backable(m, g, data, write) : 0;
	if (big < 0)
		return big;
	if (!big && !mv_vm_access(m->vm, data, write))
		return MV_EAGAIN;
	int leaf_level = big ? 2 : 1;
	uint32_t spi = p->sroot;
	for (int level = 4;; level--) {
		struct spage *s = m->sp[spi];
		unsigned i = va_index(gva, level);
		uint64_t *e = &sp_entries(m, s)[i];
		if (level == leaf_level) {
			mv_gppn_t leafg = big ? g : data;
			int wr = (gv & MV_PTE_D) && !m->wp[data] &&
				 m->vm->pmap[data].state == MV_PS_PRIVATE;
			sp_zap(m, spi, i);
			*e = ((uint64_t)m->vm->pmap[leafg].mpn << 12) |
			     MV_PTE_P | MV_PTE_US | (wr ? MV_PTE_RW : 0) |
			     (big ? MV_PTE_PS : 0);
			s->aux[i] = (uint32_t)leafg;
			rmap_add(m, leafg, spi, i);
			return W_RETRY;
		}
		if ((*e & MV_PTE_P) && (*e & MV_PTE_PS))
			sp_zap(m, spi,
			       i); /* a 2 MiB leaf gives way to a table */
		if (!(*e & MV_PTE_P)) {
			uint64_t span = 1ull << (12 + 9 * (level - 1));
			mv_gppn_t child_gt = level - 1 >= glevel ? gt[level - 1]
								 : UINT64_MAX;
			uint32_t c = sp_alloc(m, level - 1, gva & ~(span - 1),
					      p->pcid, child_gt);
			if (c == NONE32)
				return MV_EAGAIN;
			s = m->sp[spi]; /* the page array may have moved */
			e = &sp_entries(m, s)[i];
			*e = ((uint64_t)m->sp[c]->mpn << 12) | PTE_FLAGS_TABLE;
			s->aux[i] = c;
		}
		spi = s->aux[i];
	}
}

static int walk_shadow(struct mv_mmu *m, uint64_t gva, int write,
		       struct walk *w, unsigned *refs)
{
	uint64_t spi = m->cur->sroot;
	uint32_t unused;
	int level = pwc_start(m, gva, &spi, &unused);
	for (;; level--) {
		struct spage *s = m->sp[spi];
		unsigned i = va_index(gva, level);
		uint64_t v = sp_entries(m, s)[i];
		++*refs;
		int leaf = level == 1 || (v & MV_PTE_PS);
		if (!(v & MV_PTE_P) || (leaf && write && !(v & MV_PTE_RW)))
			return shadow_fix(m, gva, write);
		if (leaf) {
			w->large = level == 2;
			w->base = s->aux[i];
			w->gppn = w->base + (w->large ? va_index(gva, 1) : 0);
			w->mpn = w->large ? m->vm->pmap[w->gppn].mpn
					  : (uint32_t)((v & MV_PTE_ADDR) >> 12);
			w->wr = (v & MV_PTE_RW) != 0;
			return 0;
		}
		pwc_fill(m, gva, level, s->aux[i], s->mpn);
		spi = s->aux[i];
	}
}

/* ------------------------------------------------------------ access */

static uint8_t *hit(struct mv_mmu *m, const struct mv_tlbe *e, int large,
		    uint64_t gva, int write, struct mv_mmu_xlate *xl)
{
	mv_gppn_t g = e->gppn;
	uint32_t mpn = e->mpn;
	uint8_t *pg;
	if (large) {
		g += va_index(gva, 1);
		if (m->cfg.mode == MV_MMU_NATIVE) {
			/* guest-physical is machine memory: its pages come
			 * into existence as the guest touches them */
			pg = mv_vm_access(m->vm, g, write);
			if (!pg)
				return NULL;
		} else {
			pg = mv_host_frame(m->host, m->vm->pmap[g].mpn);
		}
		mpn = m->vm->pmap[g].mpn;
	} else {
		pg = mv_host_frame(m->host, mpn);
	}
	if (xl) {
		xl->gppn = g;
		xl->mpn = mpn;
		xl->large = large;
	}
	return pg + (gva & (MV_PAGE_SIZE - 1));
}

static void tlb_fill(struct mv_mmu *m, int l1, const struct walk *w,
		     uint64_t gva, int into_l2)
{
	int sz = w->large ? MV_PG_2M : MV_PG_4K;
	uint64_t vpn = w->large ? gva >> 21 : gva >> 12;
	uint64_t key = mv_tlb_key(vpn, m->tag);
	for (int l = into_l2 ? 0 : 1; l < 2; l++) {
		struct mv_tlbe *e = mv_tlb_insert(
			&m->tlb[l ? l1 : MV_TLB_L2][sz], vpn, key, ++m->clock);
		if (e) {
			e->gppn = w->large ? w->base : w->gppn;
			e->mpn = w->mpn;
			e->wr = (uint32_t)w->wr;
		}
	}
}

static uint8_t *access_slow(struct mv_mmu *m, uint64_t gva, int write,
			    int fetch, struct mv_mmu_xlate *xl)
{
	int l1 = fetch ? MV_TLB_L1I : MV_TLB_L1D;
	m->ctr.l1_misses++;
	for (int sz = 0; sz < MV_PG_SIZES; sz++) {
		uint64_t vpn = sz ? gva >> 21 : gva >> 12;
		struct mv_tlbe *e = mv_tlb_find(&m->tlb[MV_TLB_L2][sz], vpn,
						mv_tlb_key(vpn, m->tag));
		if (e && (e->wr || !write)) {
			m->ctr.l2_hits++;
			m->ctr.cycles_l2 += m->cfg.lat_l2_hit;
			e->lru = ++m->clock;
			struct walk w = {.gppn = e->gppn,
					 .base = e->gppn,
					 .mpn = e->mpn,
					 .large = sz,
					 .wr = (int)e->wr};
			tlb_fill(m, l1, &w, gva, 0);
			return hit(m, e, sz, gva, write, xl);
		}
	}
	m->ctr.l2_misses++;
	/* a walk that ends in an exit or a guest fault is retried, as the
	 * faulting instruction is; a few rounds settle any access */
	for (int round = 0; round < 16; round++) {
		struct walk w = {0};
		unsigned refs = 0;
		int rc;
		switch (m->cfg.mode) {
		case MV_MMU_NATIVE:
			rc = walk_native(m, gva, write, &w, &refs);
			break;
		case MV_MMU_NESTED:
			rc = walk_nested(m, gva, write, &w, &refs);
			break;
		default:
			rc = walk_shadow(m, gva, write, &w, &refs);
			break;
		}
		walk_done(m, refs);
		if (rc == 0) {
			tlb_fill(m, l1, &w, gva, 1);
			struct mv_tlbe e = {.gppn = w.large ? w.base : w.gppn,
					    .mpn = w.mpn};
			return hit(m, &e, w.large, gva, write, xl);
		}
		if (rc == W_GUEST_PF) {
			if (guest_fault(m, gva, write))
				return NULL;
		} else if (rc != W_RETRY) {
			return NULL;
		}
	}
	return NULL;
}

uint8_t *mv_mmu_access(struct mv_mmu *m, uint64_t gva, int write, int fetch,
		       struct mv_mmu_xlate *xl)
{
	if (mv_unlikely(gva >> MV_VA_BITS))
		return NULL; /* not canonical lower-half: a #GP, not a page */
	m->ctr.accesses++;
	m->ctr.writes += (unsigned)write;
	m->ctr.fetches += (unsigned)fetch;
	struct mv_tlb_array *l1 = m->tlb[fetch ? MV_TLB_L1I : MV_TLB_L1D];
	uint64_t vpn = gva >> 12;
	struct mv_tlbe *e = mv_tlb_find(&l1[MV_PG_4K], vpn,
					mv_tlb_key(vpn, m->tag));
	if (mv_likely(e && (e->wr || !write))) {
		m->ctr.l1_hits++;
		e->lru = ++m->clock;
		if (xl) {
			xl->gppn = e->gppn;
			xl->mpn = e->mpn;
			xl->large = 0;
		}
		return mv_host_frame(m->host, e->mpn) +
		       (gva & (MV_PAGE_SIZE - 1));
	}
	e = mv_tlb_find(&l1[MV_PG_2M], gva >> 21,
			mv_tlb_key(gva >> 21, m->tag));
	if (e && (e->wr || !write)) {
		m->ctr.l1_hits++;
		e->lru = ++m->clock;
		return hit(m, e, 1, gva, write, xl);
	}
	return access_slow(m, gva, write, fetch, xl);
}

/* ------------------------------------------------- invalidation hook */

static void on_invalidate(void *ctx, struct mv_vm *vm, mv_gppn_t g)
{
	struct mv_mmu *m = ctx;
	(void)vm;
	switch (m->cfg.mode) {
	case MV_MMU_NESTED:
		ept_invalidate(m, g);
		break;
	case MV_MMU_NATIVE:
		if (m->cached[g] == m->gen) {
			m->ctr.invalidations++;
			flush_vm(m);
		}
		break;
	case MV_MMU_SHADOW: {
		mv_gppn_t base = g & ~(mv_gppn_t)(MV_LARGE_PAGES - 1);
		int any = 0;
		while (m->rmap[g]) {
			uint32_t l = m->rmap[g] - 1;
			sp_zap(m, l >> 9, l & 511);
			any = 1;
		}
		if (base != g) {
			/* 2 MiB shadow leaves covering g hang off the base */
			uint32_t *link = &m->rmap[base];
			while (*link) {
				uint32_t l = *link - 1;
				struct spage *s = m->sp[l >> 9];
				if (s->level == 2) {
					sp_zap(m, l >> 9, l & 511);
					m->split[base / MV_LARGE_PAGES] = 1;
					m->ctr.large_splits++;
					any = 1;
					link = &m->rmap[base];
				} else {
					link = &s->rnext[l & 511];
				}
			}
		}
		m->ctr.invalidations += (unsigned)any;
		break;
	}
	default:
		break;
	}
}

/* --------------------------------------------------------- lifecycle */

int mv_mmu_create(struct mv_vm *vm, const struct mv_mmu_config *c,
		  struct mv_mmu **out, struct mv_error *err)
{
	*out = NULL;
	if ((unsigned)c->mode >= MV_MMU_MODES)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "mode",
				    "unknown translation mode %d",
				    (int)c->mode);
	for (int l = 0; l < MV_TLB_LEVELS; l++)
		for (int s = 0; s < MV_PG_SIZES; s++)
			if (!geom_ok(c->tlb[l][s]))
				return mv_error_set(
					err, MV_EINVAL, NULL, 0, "tlb",
					"sets must be a power of two and ways "
					"at most 64");
	for (int i = 0; i < 3; i++)
		if (c->pwc[i] > 4096 || c->npwc[i] > 4096)
			return mv_error_set(err, MV_EINVAL, NULL, 0, "pwc",
					    "at most 4096 entries");
	if (vm->on_invalidate)
		return mv_error_set(err, MV_EINVAL, NULL, 0, "vm",
				    "VM %s already has an MMU model",
				    vm->cfg.name);
	if (vm->npages < 2 * MV_LARGE_PAGES || vm->npages >= (1ull << 32))
		return mv_error_set(err, MV_EINVAL, NULL, 0, "memory",
				    "VM size must be 4 MiB to 16 TiB");
	struct mv_mmu *m = calloc(1, sizeof *m);
	if (!m)
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory");
	m->cfg = *c;
	if (c->mode == MV_MMU_NATIVE)
		m->cfg.host_2m = 0; /* no host dimension */
	m->vm = vm;
	m->host = vm->host;
	m->vmtag = ((uint64_t)(vm->id + 1) & 0x7fff) << 48;
	m->tag = m->vmtag;
	m->gen = 1;
	m->sp_free = NONE32;
	m->ept_root = NONE32;
	m->gnext_large = vm->npages & ~(uint64_t)(MV_LARGE_PAGES - 1);
	int bad = 0;
	for (int l = 0; l < MV_TLB_LEVELS; l++)
		for (int s = 0; s < MV_PG_SIZES; s++)
			bad |= mv_tlb_init(&m->tlb[l][s], c->tlb[l][s].sets,
					   c->tlb[l][s].ways);
	for (int i = 0; i < 3; i++)
		bad |= mv_pwc_init(&m->pwc[i], c->pwc[i]) |
		       mv_pwc_init(&m->npwc[i], c->npwc[i]);
	uint64_t runs = vm->npages / MV_LARGE_PAGES + 1;
	m->split = calloc(runs, 1);
	bad |= !m->split;
	if (c->mode == MV_MMU_NATIVE) {
		m->cached = calloc(vm->npages, sizeof *m->cached);
		bad |= !m->cached;
	} else if (c->mode == MV_MMU_SHADOW) {
		m->gt_head = calloc(vm->npages, sizeof *m->gt_head);
		m->rmap = calloc(vm->npages, sizeof *m->rmap);
		m->wp = calloc(vm->npages, 1);
		bad |= !m->gt_head || !m->rmap || !m->wp;
	} else {
		m->ept_root = ept_page(m);
		bad |= m->ept_root == NONE32;
	}
	vm->on_invalidate = on_invalidate;
	vm->invalidate_ctx = m;
	if (bad) {
		mv_mmu_destroy(m);
		return mv_error_set(err, MV_ENOMEM, NULL, 0, "",
				    "out of memory for the MMU model");
	}
	*out = m;
	return 0;
}

void mv_mmu_destroy(struct mv_mmu *m)
{
	if (!m)
		return;
	if (m->vm->invalidate_ctx == m) {
		m->vm->on_invalidate = NULL;
		m->vm->invalidate_ctx = NULL;
	}
	for (struct mv_mmu_proc *p = m->procs; p;) {
		struct mv_mmu_proc *n = p->next;
		if (p->sroot != NONE32)
			sp_free_tree(m, p->sroot);
		free(p);
		p = n;
	}
	for (uint32_t i = 0; i < m->nsp; i++)
		free(m->sp[i]);
	free(m->sp);
	for (uint64_t i = 0; i < m->nept; i++)
		mv_host_frame_put(m->host, m->ept_frames[i]);
	free(m->ept_frames);
	for (int l = 0; l < MV_TLB_LEVELS; l++)
		for (int s = 0; s < MV_PG_SIZES; s++)
			mv_tlb_free(&m->tlb[l][s]);
	for (int i = 0; i < 3; i++) {
		mv_pwc_free(&m->pwc[i]);
		mv_pwc_free(&m->npwc[i]);
	}
	free(m->split);
	free(m->cached);
	free(m->gt_head);
	free(m->rmap);
	free(m->wp);
	free(m);
}

int mv_mmu_proc_create(struct mv_mmu *m, struct mv_mmu_proc **out)
{
	if (m->nprocs >= 4095)
		return MV_EINVAL; /* PCIDs are 12 bits */
	struct mv_mmu_proc *p = calloc(1, sizeof *p);
	if (!p)
		return MV_ENOMEM;
	int rc = new_table(m, &p->cr3);
	if (rc) {
		free(p);
		return rc;
	}
	p->sroot = NONE32;
	if (m->cfg.mode == MV_MMU_SHADOW) {
		p->sroot = sp_alloc(m, 4, 0, m->nprocs + 1, p->cr3);
		if (p->sroot == NONE32) {
			free_table(m, p->cr3); /* nothing else was done */
			free(p);
			return MV_EAGAIN;
		}
	}
	p->id = m->nprocs++;
	p->pcid = (uint16_t)(p->id + 1);
	p->next = m->procs;
	m->procs = p;
	mv_mmu_switch(m, p);
	*out = p;
	return 0;
}

void mv_mmu_switch(struct mv_mmu *m, struct mv_mmu_proc *p)
{
	if (m->cfg.mode == MV_MMU_SHADOW) {
		/* MOV CR3 exits; the hypervisor loads the shadow root */
		m->ctr.exits[MV_EXIT_CR3]++;
		m->ctr.cycles_exit += m->cfg.lat_exit;
	}
	if (!m->cfg.tagged && m->cur != p)
		flush_vm(m);
	m->cur = p;
	m->tag = pcid_tag(m, p->pcid);
}

void mv_mmu_set_guest(struct mv_mmu *m, const struct mv_mmu_guest_ops *ops)
{
	m->guest = *ops;
}

/* Collect the table pages under table t (level `level`) into out[]. */
static int collect_tables(struct mv_mmu *m, mv_gppn_t t, int level,
			  mv_gppn_t **out, size_t *n, size_t *cap)
{
	if (mv_array_room(out, cap, *n, sizeof **out, 64))
		return MV_ENOMEM;
	(*out)[(*n)++] = t;
	if (level == 1)
		return 0;
	const uint8_t *pg = mv_vm_access(m->vm, t, 0);
	if (!pg)
		return MV_EAGAIN;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t v;
		memcpy(&v, pg + 8 * i, 8);
		if (!(v & MV_PTE_P) || (level == 2 && (v & MV_PTE_PS)))
			continue;
		int rc = collect_tables(m, (v & MV_PTE_ADDR) >> 12, level - 1,
					out, n, cap);
		if (rc)
			return rc;
		/* the child's read may have cost t its frame: read again */
		if (!(pg = mv_vm_access(m->vm, t, 0)))
			return MV_EAGAIN;
	}
	return 0;
}

int mv_mmu_proc_destroy(struct mv_mmu *m, struct mv_mmu_proc *p)
{
	mv_gppn_t *tables = NULL;
	size_t n = 0, cap = 0;
	int rc = collect_tables(m, p->cr3, 4, &tables, &n, &cap);
	if (rc) {
		free(tables);
		return rc;
	}
	if (p->sroot != NONE32)
		sp_free_tree(m, p->sroot);
	flush_pcid(m, p->pcid);
	for (struct mv_mmu_proc **l = &m->procs; *l; l = &(*l)->next)
		if (*l == p) {
			*l = p->next;
			break;
		}
	if (m->cur == p)
		m->cur = NULL;
	for (size_t i = 0; i < n; i++)
		free_table(m, tables[i]);
	free(tables);
	free(p);
	return 0;
}

mv_gppn_t mv_mmu_proc_cr3(const struct mv_mmu_proc *p)
{
	return p->cr3;
}

const struct mv_mmu_counters *mv_mmu_counters(const struct mv_mmu *m)
{
	return &m->ctr;
}

const struct mv_mmu_config *mv_mmu_get_config(const struct mv_mmu *m)
{
	return &m->cfg;
}

void mv_mmu_reset_counters(struct mv_mmu *m)
{
	struct mv_mmu_counters keep = m->ctr;
	memset(&m->ctr, 0, sizeof m->ctr);
	m->ctr.guest_pt_pages = keep.guest_pt_pages;
	m->ctr.ept_pages = keep.ept_pages;
	m->ctr.shadow_pages = keep.shadow_pages;
	m->ctr.shadow_pages_peak = keep.shadow_pages_peak;
}

struct mv_vm *mv_mmu_vm(const struct mv_mmu *m)
{
	return m->vm;
}

uint64_t mv_mmu_shadow_bytes(const struct mv_mmu *m)
{
	return m->ctr.shadow_pages * MV_PAGE_SIZE;
}

uint64_t mv_mmu_frames(const struct mv_mmu *m, mv_mpn_t *out, uint64_t max)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < m->nept; i++, n++)
		if (n < max)
			out[n] = m->ept_frames[i];
	for (uint32_t i = 0; i < m->nsp; i++)
		if (m->sp[i]->level) {
			if (n < max)
				out[n] = m->sp[i]->mpn;
			n++;
		}
	return n;
}

uint64_t mv_mmu_overhead_bytes(const struct mv_mmu *m)
{
	uint64_t per_page = 0; /* bytes of books per guest page */
	if (m->cached)
		per_page += sizeof *m->cached;
	if (m->gt_head)
		per_page += sizeof *m->gt_head + sizeof *m->rmap + 1;
	return (m->nept + m->ctr.shadow_pages) * MV_PAGE_SIZE +
	       (uint64_t)m->nsp * sizeof(struct spage) +
	       m->vm->npages * per_page + m->vm->npages / MV_LARGE_PAGES + 1;
}

uint64_t mv_mmu_cycles(const struct mv_mmu *m)
{
	return m->ctr.cycles_l2 + m->ctr.cycles_walk + m->ctr.cycles_exit;
}

uint64_t mv_mmu_cycles_ns(const struct mv_mmu *m, uint64_t cycles)
{
	return cycles * 1000 / m->cfg.cpu_mhz;
}

void mv_mmu_books(const struct mv_mmu *m, struct mv_books *b)
{
	uint64_t n = m->vm->npages;
	for (int l = 0; l < MV_TLB_LEVELS; l++)
		for (int s = 0; s < MV_PG_SIZES; s++)
			if (m->tlb[l][s].e)
				mv_books_add(b, "mmu", "mmu.tlb",
					     sizeof *m->tlb[l][s].e,
					     (uint64_t)m->tlb[l][s].sets *
						     m->tlb[l][s].ways);
	for (int i = 0; i < 3; i++) {
		mv_books_add(b, "mmu", "mmu.pwc", sizeof *m->pwc[i].e,
			     m->pwc[i].n);
		mv_books_add(b, "mmu", "mmu.pwc", sizeof *m->npwc[i].e,
			     m->npwc[i].n);
	}
	mv_books_add(b, "mmu", "mmu.split", sizeof *m->split,
		     n / MV_LARGE_PAGES + 1);
	if (m->cached)
		mv_books_add(b, "mmu", "mmu.cached", sizeof *m->cached, n);
	if (m->gt_head) {
		mv_books_add(b, "mmu", "mmu.gt-head", sizeof *m->gt_head, n);
		mv_books_add(b, "mmu", "mmu.rmap", sizeof *m->rmap, n);
		mv_books_add(b, "mmu", "mmu.wp", sizeof *m->wp, n);
	}
	mv_books_add(b, "mmu", "mmu.shadow-pages", sizeof(struct spage),
		     m->nsp);
	mv_books_add(b, "mmu", "mmu.shadow-index", sizeof *m->sp, m->capsp);
	mv_books_add(b, "mmu", "mmu.ept-frames", sizeof *m->ept_frames,
		     m->capept);
}
