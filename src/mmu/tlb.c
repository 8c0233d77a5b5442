/*
 * tlb.c - set-associative TLB arrays and page-walk caches.
 *
 * Replacement is true LRU within a set (stamps from the model's clock),
 * which is what simulators of TLBs usually assume; real cores use pseudo-LRU
 * trees whose miss rates are close to LRU's for these associativities.
 */
#include <stdlib.h>
#include <string.h>

#include "mmu/tlb.h"

int mv_tlb_init(struct mv_tlb_array *a, uint32_t sets, uint32_t ways)
{
	memset(a, 0, sizeof *a);
	if (!ways || !sets)
		return 0;
	a->e = calloc((size_t)sets * ways, sizeof *a->e);
	if (!a->e)
		return -1;
	a->sets = sets;
	a->ways = ways;
	a->mask = sets - 1;
	return 0;
}

void mv_tlb_free(struct mv_tlb_array *a)
{
	free(a->e);
	memset(a, 0, sizeof *a);
}

struct mv_tlbe *mv_tlb_insert(struct mv_tlb_array *a, uint64_t vpn,
			      uint64_t key, uint64_t now)
{
	if (!a->ways)
		return NULL;
	struct mv_tlbe *s = a->e + (uint64_t)(vpn & a->mask) * a->ways;
	struct mv_tlbe *victim = &s[0];
	for (uint32_t w = 0; w < a->ways; w++) {
		if (s[w].key == key) {
			victim = &s[w];
			break;
		}
		if (s[w].key == 0) {
			if (victim->key != 0)
				victim = &s[w];
		} else if (victim->key != 0 && s[w].lru < victim->lru) {
			victim = &s[w];
		}
	}
	victim->key = key;
	victim->lru = now;
	return victim;
}

void mv_tlb_flush_tag(struct mv_tlb_array *a, uint64_t tag, uint64_t mask)
{
	uint64_t n = (uint64_t)a->sets * a->ways;
	for (uint64_t i = 0; i < n; i++)
		if (a->e[i].key && (a->e[i].key & mask) == (tag & mask))
			a->e[i].key = 0;
}

void mv_tlb_flush_page(struct mv_tlb_array *a, uint64_t vpn, uint64_t key)
{
	if (!a->ways)
		return;
	struct mv_tlbe *e = mv_tlb_find(a, vpn, key);
	if (e)
		e->key = 0;
}

int mv_pwc_init(struct mv_pwc *c, uint32_t n)
{
	memset(c, 0, sizeof *c);
	if (!n)
		return 0;
	c->e = calloc(n, sizeof *c->e);
	if (!c->e)
		return -1;
	c->n = n;
	return 0;
}

void mv_pwc_free(struct mv_pwc *c)
{
	free(c->e);
	memset(c, 0, sizeof *c);
}

struct mv_pwce *mv_pwc_find(struct mv_pwc *c, uint64_t key, uint64_t now)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].key == key) {
			c->e[i].lru = now;
			return &c->e[i];
		}
	return NULL;
}

void mv_pwc_insert(struct mv_pwc *c, uint64_t key, uint64_t g, uint32_t h,
		   uint64_t now)
{
	if (!c->n)
		return;
	struct mv_pwce *victim = &c->e[0];
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->e[i].key == key) {
			victim = &c->e[i];
			break;
		}
		if (c->e[i].key == 0) {
			if (victim->key != 0)
				victim = &c->e[i];
		} else if (victim->key != 0 && c->e[i].lru < victim->lru) {
			victim = &c->e[i];
		}
	}
	victim->key = key;
	victim->g = g;
	victim->h = h;
	victim->lru = now;
}

void mv_pwc_flush_tag(struct mv_pwc *c, uint64_t tag, uint64_t mask)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].key && (c->e[i].key & mask) == (tag & mask))
			c->e[i].key = 0;
}
