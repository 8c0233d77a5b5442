/*
 * tlb.h - set-associative TLB arrays and page-walk caches (mmu layer only).
 *
 * A TLB array holds sets x ways entries with true LRU inside a set (a
 * per-entry stamp from a per-model clock). An entry's key is the virtual
 * page number (of its page size) with the address-space tag above it:
 *
 *   bits  0..35  virtual page number (48-bit addresses, 4 KiB pages)
 *   bits 36..47  PCID (12 bits, as CR3 holds it)
 *   bits 48..62  VPID (15 bits here; 16 in VMX)
 *   bit  63      valid
 *
 * so a lookup is one compare per way and a flush by tag is a mask compare.
 * Page-walk caches are small fully-associative arrays keyed the same way by
 * the address prefix a paging-structure entry covers (Intel SDM Vol. 3A,
 * 4.10.3 "paging-structure caches"); their value is the next table.
 */
#ifndef MV_MMU_TLB_H
#define MV_MMU_TLB_H

#include <stdint.h>

#define MV_TLB_VALID (1ull << 63)
#define MV_TLB_VPN_BITS 36
#define MV_TLB_TAG_MASK (~((1ull << MV_TLB_VPN_BITS) - 1))

struct mv_tlbe {
	uint64_t key;
	uint64_t gppn; /* guest-physical page (4 KiB) or 2 MiB run base */
	uint64_t lru;
	uint32_t mpn; /* host frame of a 4 KiB entry */
	uint32_t wr;  /* a write may use it (writable and dirty) */
};

struct mv_tlb_array {
	struct mv_tlbe *e;
	uint32_t sets, ways, mask;
};

struct mv_pwce {
	uint64_t key;
	uint64_t g; /* next table: guest-physical page or shadow page index */
	uint64_t lru;
	uint32_t h; /* next table's host frame (nested, shadow) */
};

struct mv_pwc {
	struct mv_pwce *e;
	uint32_t n;
};

static inline uint64_t mv_tlb_key(uint64_t vpn, uint64_t tag)
{
	return (vpn & ((1ull << MV_TLB_VPN_BITS) - 1)) | tag | MV_TLB_VALID;
}

/* The entry for key in a, or NULL. */
static inline struct mv_tlbe *mv_tlb_find(const struct mv_tlb_array *a,
					  uint64_t vpn, uint64_t key)
{
	struct mv_tlbe *s = a->e + (uint64_t)(vpn & a->mask) * a->ways;
	for (uint32_t w = 0; w < a->ways; w++)
		if (s[w].key == key)
			return &s[w];
	return NULL;
}

int mv_tlb_init(struct mv_tlb_array *a, uint32_t sets, uint32_t ways);
void mv_tlb_free(struct mv_tlb_array *a);
/* Insert (or refresh) key; evicts the set's least recently used entry. */
struct mv_tlbe *mv_tlb_insert(struct mv_tlb_array *a, uint64_t vpn,
			      uint64_t key, uint64_t now);
/* Drop entries whose tag bits (under mask) equal tag; all if mask = 0. */
void mv_tlb_flush_tag(struct mv_tlb_array *a, uint64_t tag, uint64_t mask);
/* Drop the entry for (vpn, key) if present. */
void mv_tlb_flush_page(struct mv_tlb_array *a, uint64_t vpn, uint64_t key);

int mv_pwc_init(struct mv_pwc *c, uint32_t n);
void mv_pwc_free(struct mv_pwc *c);
struct mv_pwce *mv_pwc_find(struct mv_pwc *c, uint64_t key, uint64_t now);
void mv_pwc_insert(struct mv_pwc *c, uint64_t key, uint64_t g, uint32_t h,
		   uint64_t now);
void mv_pwc_flush_tag(struct mv_pwc *c, uint64_t tag, uint64_t mask);

#endif
