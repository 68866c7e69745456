/* SPDX-License-Identifier: MIT */
/*
 * What inspection needs to know of Linux's hypervisor data, read from the image: the
 * vmemmap's `struct hyp_page` (nvhe/memory.h) from DWARF, its base from the hypervisor's
 * own `__hyp_vmemmap`, and the stride of `hyp_memory[]` (struct memblock_region).
 */
#include "linux_inspect.h"

#include <errno.h>
#include <inttypes.h>

#include "hyp_state.h"
#include "image_dwarf.h"
#include "linux_boot.h"

/* A member of struct hyp_page; absent members (6.x has no page states) give bits 0. */
static int hyp_page_field(struct hs_dwarf *dw, const char *member, bool required,
			  struct hs_vmemmap_field *f, struct hs_error *err)
{
	uint64_t off;
	unsigned bits;
	int rc = hs_dwarf_member_bits(dw, "hyp_page", member, &off, &bits, required ? err : NULL);
	if (rc == -ENOENT && !required) {
		*f = (struct hs_vmemmap_field){0, 0};
		return 0;
	}
	if (rc)
		return rc;
	if (off + bits > 64 || bits > 32)
		return hs_err(err, -EINVAL,
			      "struct hyp_page.%s lies at bits %" PRIu64 "+%u: past the 8 bytes "
			      "hypscope decodes",
			      member, off, bits);
	*f = (struct hs_vmemmap_field){(uint16_t)off, (uint8_t)bits};
	return 0;
}

int hs_linux_vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l, struct hs_error *err)
{
	struct hs_dwarf *dw = hs_linux_dwarf(m, err);
	if (!dw)
		return -ENOENT;
	uint64_t size;
	int rc = hs_dwarf_struct_size(dw, "hyp_page", &size, err);
	if (rc)
		return rc;
	if (!size || size > 8)
		return hs_err(err, -EINVAL, "struct hyp_page is %" PRIu64 " bytes (1-8 decoded)",
			      size);
	*l = (struct hs_vmemmap_layout){.entry_size = (unsigned)size};
	/* 7.x names the fields __host_state / __hyp_state_comp; 6.x has neither. */
	if ((rc = hyp_page_field(dw, "refcount", true, &l->refcount, err)) ||
	    (rc = hyp_page_field(dw, "order", true, &l->order, err)) ||
	    (rc = hyp_page_field(dw, "__host_state", false, &l->host_state, err)) ||
	    (rc = hyp_page_field(dw, "__hyp_state_comp", false, &l->hyp_state, err)) ||
	    (rc = hyp_page_field(dw, "host_share_guest_count", false, &l->guest_shares, err)))
		return rc;
	/* memory.h: the hyp state is stored ^ PKVM_PAGE_STATE_VMEMMAP_MASK (BIT(0) | BIT(1)) */
	l->hyp_state_xor = 3;
	/* gfp.h HYP_NO_ORDER: USHRT_MAX (6.x, u16 order) or (u8)~0 (7.x): all ones */
	l->no_order = l->order.bits >= 64 ? ~0ULL : (1ULL << l->order.bits) - 1;
	l->states_in_tables = !l->host_state.bits && !l->hyp_state.bits;
	/* nvhe/mm.c sets __hyp_vmemmap at __pkvm_init; before it the layout's place. */
	l->base_va = hs_read_sym_u64(m, "__hyp_vmemmap");
	if (!l->base_va)
		l->base_va = hs_machine_layout(m)->vmemmap_base;
	return 0;
}

unsigned hs_linux_memblock_size(const struct hs_machine *m)
{
	struct hs_dwarf *dw = hs_linux_dwarf(m, NULL);
	uint64_t size = 0;
	if (!dw || hs_dwarf_struct_size(dw, "memblock_region", &size, NULL) || size < 16 ||
	    size > 64)
		return 16;
	return (unsigned)size;
}

/* The table page holding the PTE a struct hyp_fixmap_slot at slot_pa points at. */
static int slot_table(struct hs_machine *m, struct hs_dwarf *dw, uint64_t slot_pa,
		      uint64_t *table_pa)
{
	uint64_t off, ptep, pa;
	if (hs_dwarf_member_offset(dw, "hyp_fixmap_slot", "ptep", &off, NULL) ||
	    hs_phys_read(m, slot_pa + off, &ptep, sizeof(ptep), NULL) || !ptep ||
	    hs_el2_va_to_pa(m, 0, ptep, &pa, NULL))
		return -ENOENT;
	*table_pa = pa & ~(uint64_t)(HS_PAGE_SIZE - 1);
	return 0;
}

unsigned hs_linux_pinned_tables(struct hs_machine *m, uint64_t *pa, unsigned max)
{
	struct hs_dwarf *dw = hs_linux_dwarf(m, NULL);
	uint64_t slots, start, base;
	unsigned n = 0;
	if (!dw)
		return 0;
	/* mm.c: each CPU's fixmap_slots (per-CPU) keeps its last-level table's refcount up */
	if (!hs_sym_pa(m, "fixmap_slots", &slots, NULL) &&
	    !hs_sym_pa(m, "__per_cpu_start", &start, NULL))
		for (unsigned cpu = 0; n < max && !hs_linux_percpu_pa(m, cpu, &base); cpu++)
			if (!slot_table(m, dw, base + (slots - start), &pa[n]))
				n++;
	/* 7.x mm.c: hyp_fixblock_slot keeps its level-2 table's */
	if (n < max && !hs_sym_pa(m, "hyp_fixblock_slot", &slots, NULL) &&
	    !slot_table(m, dw, slots, &pa[n]))
		n++;
	return n;
}
