/* SPDX-License-Identifier: MIT */
/*
 * One page's vmemmap entry through the machine's profile: its layout (Linux: struct
 * hyp_page from DWARF) and, where the vmemmap holds no page states (Linux 6.x), the
 * states from the tables. Above hyp_state.c and the profiles (it calls both).
 */
#include "hyp_state.h"

#include <errno.h>

#include "profile.h"
#include "pt_translate.h"
#include "pt_walk.h"
#include "sysregs.h"

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

int hs_read_vmemmap(struct hs_machine *m, uint64_t pa, uint64_t *raw, struct hs_error *err)
{
	struct hs_vmemmap_layout l;
	uint8_t b[8];
	int rc = hs_machine_vmemmap_layout(m, &l, err);
	if (rc)
		return rc;
	uint64_t va = l.base_va + (pa >> HS_PAGE_SHIFT) * l.entry_size, vpa;
	if ((rc = hs_el2_va_to_pa(m, 0, va, &vpa, err)) ||
	    (rc = hs_phys_read(m, vpa, b, l.entry_size, err)))
		return rc;
	*raw = hs_vmemmap_raw(&l, b);
	return 0;
}

/* The SW state of the leaf mapping addr in a regime; NOPAGE when none maps it. */
static unsigned leaf_state(struct hs_machine *m, const struct hs_pt_regime *r, uint64_t addr,
			   bool annot_nopage, unsigned none)
{
	struct hs_phys phys = {.read = phys_read_cb, .ud = m};
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&phys, r, addr, &t);
	if (rc == 0)
		return t.attrs.state;
	if (annot_nopage && t.nr_steps && t.steps[t.nr_steps - 1].desc)
		return HS_PAGE_NOPAGE; /* an annotation: the host gave the page away */
	return none;
}

int hs_read_vmemmap_entry(struct hs_machine *m, uint64_t pa, struct hs_vmemmap_entry *e,
			  struct hs_error *err)
{
	struct hs_vmemmap_layout l;
	uint64_t raw;
	int rc = hs_machine_vmemmap_layout(m, &l, err);
	if (!rc)
		rc = hs_read_vmemmap(m, pa, &raw, err);
	if (rc)
		return rc;
	hs_vmemmap_decode(&l, raw, e);
	if (!l.states_in_tables)
		return 0;
	/* mem_protect.c host_get_page_state / hyp_get_page_state (6.x): from the tables */
	uint64_t vtcr, vttbr, tcr, ttbr, mair;
	struct hs_pt_regime r;
	char msg[160];
	hs_host_s2_regs(m, 0, &vtcr, &vttbr);
	if (!hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)))
		e->host_state = (uint8_t)leaf_state(m, &r, pa, true, HS_PAGE_OWNED);
	hs_cpu_sysreg(m, 0, HS_SR_TCR_EL2, &tcr);
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr);
	hs_cpu_sysreg(m, 0, HS_SR_MAIR_EL2, &mair);
	if (!hs_pt_regime_el2(tcr, ttbr, mair, &r, msg, sizeof(msg)))
		e->hyp_state = (uint8_t)leaf_state(
		    m, &r, hs_layout_hyp_va(hs_machine_layout(m), pa), false, HS_PAGE_NOPAGE);
	return 0;
}
