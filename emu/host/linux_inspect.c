/* SPDX-License-Identifier: MIT */
/*
 * What inspection needs to know of Linux's hypervisor data, read from the image: the
 * vmemmap's `struct hyp_page` (nvhe/memory.h) from DWARF, its base from the hypervisor's
 * own `__hyp_vmemmap`, `struct hyp_pool` (nvhe/gfp.h), the stride of `hyp_memory[]`
 * (struct memblock_region) and the fixmap slots' tables. The DWARF facts are read once
 * per machine (linux_dwarf.c).
 */
#include "linux_inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "hyp_state.h"
#include "events.h"
#include "linux_dwarf.h"
#include "sysregs.h"

/* The cached outcome of reading one struct: 0, or its error again. */
static int cached(const struct hs_lx_dwarf *d, int rc, const struct hs_error *e, const char *what,
		  struct hs_error *err)
{
	if (!d)
		return hs_err(err, -ENOENT, "the image has no DWARF: struct %s is not known", what);
	if (rc && err)
		*err = *e;
	return rc;
}

int hs_linux_vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l, struct hs_error *err)
{
	const struct hs_lx_dwarf *d = hs_lx_dwarf(m);
	int rc = cached(d, d ? d->vmemmap_rc : 0, d ? &d->vmemmap_err : NULL, "hyp_page", err);
	if (rc)
		return rc;
	*l = d->vmemmap;
	/* nvhe/mm.c sets __hyp_vmemmap at __pkvm_init; before it the layout's place. */
	l->base_va = hs_read_sym_u64(m, "__hyp_vmemmap");
	if (!l->base_va)
		l->base_va = hs_machine_layout(m)->vmemmap_base;
	return 0;
}

int hs_linux_pool_layout(struct hs_machine *m, struct hs_pool_layout *l, struct hs_error *err)
{
	const struct hs_lx_dwarf *d = hs_lx_dwarf(m);
	int rc = cached(d, d ? d->pool_rc : 0, d ? &d->pool_err : NULL, "hyp_pool", err);
	if (!rc)
		*l = d->pool;
	return rc;
}

unsigned hs_linux_memblock_size(const struct hs_machine *m)
{
	/* the cache lives with the host; reading it changes nothing a caller sees */
	const struct hs_lx_dwarf *d = hs_lx_dwarf((struct hs_machine *)m);
	return d ? d->memblock_size : 16;
}

/* The table page holding the PTE a struct hyp_fixmap_slot at slot_pa points at. */
static int slot_table(struct hs_machine *m, const struct hs_lx_dwarf *d, uint64_t slot_pa,
		      uint64_t *table_pa)
{
	uint64_t ptep, pa;
	if (!d->fixmap_ok || hs_phys_read(m, slot_pa + d->fixmap_ptep, &ptep, sizeof(ptep), NULL) ||
	    !ptep || hs_el2_va_to_pa(m, 0, ptep, &pa, NULL))
		return -ENOENT;
	*table_pa = pa & ~(uint64_t)(HS_PAGE_SIZE - 1);
	return 0;
}

unsigned hs_linux_pinned_tables(struct hs_machine *m, uint64_t *pa, unsigned max)
{
	const struct hs_lx_dwarf *dw = hs_lx_dwarf(m);
	uint64_t slots, start, slot_pa;
	unsigned n = 0;
	if (!dw)
		return 0;
	/*
	 * mm.c: each CPU's fixmap_slots (per-CPU) keeps its last-level table's refcount up.
	 * this_cpu_ptr: the template's HYP VA + the CPU's TPIDR_EL2 (set by __kvm_hyp_init).
	 */
	const struct hs_layout *lay = hs_machine_layout(m);
	if (!hs_sym_pa(m, "fixmap_slots", &slots, NULL))
		for (unsigned cpu = 0; cpu < hs_machine_opts(m)->nr_cpus && n < max; cpu++) {
			uint64_t tpidr = 0;
			hs_cpu_sysreg(m, cpu, HS_SR_TPIDR_EL2, &tpidr);
			if (tpidr &&
			    !hs_el2_va_to_pa(m, 0, hs_layout_hyp_va(lay, slots) + tpidr, &slot_pa,
					     NULL) &&
			    !slot_table(m, dw, slot_pa, &pa[n]))
				n++;
		}
	/* 7.x mm.c: hyp_fixblock_slot keeps its level-2 table's */
	if (n < max && !hs_sym_pa(m, "hyp_fixblock_slot", &start, NULL) &&
	    !slot_table(m, dw, start, &pa[n]))
		n++;
	return n;
}
