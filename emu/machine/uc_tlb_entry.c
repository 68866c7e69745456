/* SPDX-License-Identifier: MIT */
/*
 * One entry of QEMU's fast TLB tables, where uc_calibrate_tlb.c found them:
 * the fast-store fill wrapper (uc_fast_stores.c) marks the entry it just
 * filled dirty here, instead of QEMU's tlb_set_dirty scanning 108 entries.
 */
#include <string.h>

#include "uc_qemu_tlb.h"
#include "uc_quirks.h"

static bool mask_shaped(uintptr_t mask)
{
	uintptr_t n = (mask >> TLB_ENTRY_BITS) + 1;
	return !(mask & ((1u << TLB_ENTRY_BITS) - 1)) && n >= 16 && n <= (1u << 22) &&
	       !(n & (n - 1));
}

uintptr_t hs_quirk_tlb_entry_at(const void *cpu, size_t off, uint64_t va, unsigned page_bits)
{
	struct tlb_fast f;
	memcpy(&f, (const uint8_t *)cpu + off, sizeof(f));
	if (!mask_shaped(f.mask) || !f.table || f.table % 8)
		return 0;
	return f.table + (((va >> page_bits) & (f.mask >> TLB_ENTRY_BITS)) << TLB_ENTRY_BITS);
}

bool hs_quirk_tlb_mark_dirty(const struct hs_quirks *q, void *cpu, uint64_t vaddr, int mmu_idx)
{
	if (!q || !q->tlb_fast_off || mmu_idx < 0)
		return false;
	uint64_t page = vaddr & TLB_PAGE_MASK(q->tlb_page_bits);
	uintptr_t at =
	    hs_quirk_tlb_entry_at(cpu, q->tlb_fast_off + (size_t)mmu_idx * sizeof(struct tlb_fast),
				  page, q->tlb_page_bits);
	struct tlb_entry *e = (struct tlb_entry *)at;
	if (!e || e->addr_write != (page | q->tlb_notdirty))
		return false;
	e->addr_write = page;
	return true;
}
