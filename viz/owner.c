/* SPDX-License-Identifier: MIT */
/*
 * Page ownership as the views need it, computed from the host stage 2 (owner
 * annotations in invalid entries, page states in valid ones, both by the
 * profile's encoding) and refined with the vmemmap by the rules `map` and
 * `owner` follow (emu/inspect/inspect_owner.c). hs_viz_owner_scan() is the
 * single entry point.
 */
#include "viz_internal.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "host_boot.h"
#include "hyp_state.h"
#include "pt_translate.h"

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

struct hs_phys viz_machine_phys(struct hs_machine *m)
{
	struct hs_phys p = {.read = phys_read_cb, .ud = m};
	return p;
}

int viz_regime(struct hs_machine *m, enum hs_viz_table t, unsigned cpu, uint64_t vttbr,
	       uint64_t vtcr, struct hs_pt_regime *r, struct hs_error *err)
{
	char msg[200];
	if (!m)
		return hs_err(err, -EINVAL, "no machine");
	if (cpu >= hs_nr_cpus(m))
		return hs_err(err, -EINVAL, "no CPU %u (the machine has %u)", cpu, hs_nr_cpus(m));
	switch (t) {
	case HS_VIZ_TABLE_HYP_S1: {
		uint64_t tcr = 0, ttbr = 0, mair = 0;
		hs_cpu_sysreg(m, cpu, HS_SR_TCR_EL2, &tcr);
		hs_cpu_sysreg(m, cpu, HS_SR_TTBR0_EL2, &ttbr);
		hs_cpu_sysreg(m, cpu, HS_SR_MAIR_EL2, &mair);
		if (!ttbr)
			return hs_err(err, -ENOENT,
				      "CPU %u has no EL2 stage 1 yet (TTBR0_EL2 = 0): boot further",
				      cpu);
		if (hs_pt_regime_el2(tcr, ttbr, mair, r, msg, sizeof(msg)))
			return hs_err(err, -EINVAL, "EL2 stage 1 of CPU %u: %s", cpu, msg);
		return 0;
	}
	case HS_VIZ_TABLE_HOST_S2:
		/*
		 * The hypervisor's own record of the host's stage 2 stays right
		 * while a guest's VTTBR is loaded; the live register is the
		 * fallback for images without the symbols.
		 */
		vttbr = hs_read_sym_u64(m, "host_vttbr");
		vtcr = hs_read_sym_u64(m, "host_vtcr");
		if (!vttbr || !vtcr) {
			hs_cpu_sysreg(m, cpu, HS_SR_VTTBR_EL2, &vttbr);
			hs_cpu_sysreg(m, cpu, HS_SR_VTCR_EL2, &vtcr);
		}
		if (!vttbr || !vtcr)
			return hs_err(err, -ENOENT,
				      "the host stage 2 does not exist yet (host_vttbr = 0): boot "
				      "through __pkvm_init");
		break;
	case HS_VIZ_TABLE_GUEST_S2:
		break;
	}
	if (hs_machine_regime_s2(m, vtcr, vttbr, r, msg, sizeof(msg)))
		return hs_err(err, -EINVAL, "stage 2 VTTBR %#" PRIx64 " VTCR %#" PRIx64 ": %s",
			      vttbr, vtcr, msg);
	return 0;
}

struct scan {
	uint64_t base_pfn, nr;
	uint8_t *cls;
};

/* The class of a host-side page in host state `state` (HS_PAGE_*); `other` for the rest. */
static uint8_t host_state_class(unsigned state, uint8_t other)
{
	switch (state) {
	case HS_PAGE_OWNED:
		return HS_VIZ_C_HOST_OWNED;
	case HS_PAGE_SHARED_OWNED:
		return HS_VIZ_C_HOST_SHARED;
	case HS_PAGE_SHARED_BORROWED:
		return HS_VIZ_C_HOST_BORROWED;
	default:
		return other;
	}
}

static uint8_t class_of_entry(const struct hs_pt_visit_ctx *c)
{
	if (c->visit == HS_PT_VISIT_MALFORMED)
		return HS_VIZ_C_ANNOT_UNKNOWN;
	if (c->visit == HS_PT_VISIT_LEAF) {
		/* the state in the leaf's SW bits by the profile's encoding */
		return host_state_class(hs_swenc_state(c->regime->swenc, c->desc),
					HS_VIZ_C_ANNOT_UNKNOWN);
	}
	/* Invalid: zero means "host, not mapped yet"; otherwise an annotation. */
	if (c->desc == 0)
		return HS_VIZ_C_HOST_OWNED;
	if (c->kind != HS_PT_K_ANNOTATION)
		return HS_VIZ_C_ANNOT_UNKNOWN;
	/* the walker found an annotation by the profile's encoding: its owner by role */
	const struct hs_pt_swenc *e = c->regime->swenc;
	switch (hs_swenc_canon_owner(e, hs_swenc_owner(e, c->desc))) {
	case HS_OWNER_HYP:
		return HS_VIZ_C_HYP_OWNED;
	case HS_OWNER_GUEST:
		return HS_VIZ_C_GUEST;
	default:
		return HS_VIZ_C_ANNOT_UNKNOWN;
	}
}

static int scan_visit(const struct hs_pt_visit_ctx *c)
{
	struct scan *s = c->arg;
	uint64_t first = c->addr >> HS_PAGE_SHIFT, n = c->size >> HS_PAGE_SHIFT;
	if (first < s->base_pfn) {
		uint64_t skip = s->base_pfn - first;
		if (skip >= n)
			return 0;
		first += skip;
		n -= skip;
	}
	if (first >= s->base_pfn + s->nr)
		return 0;
	if (first + n > s->base_pfn + s->nr)
		n = s->base_pfn + s->nr - first;
	memset(s->cls + (first - s->base_pfn), class_of_entry(c), n);
	return 0;
}

/* A host-side class: the host stage 2 says the host has the page (or no entry). */
static bool host_class(uint8_t k)
{
	return k == HS_VIZ_C_HOST_OWNED || k == HS_VIZ_C_HOST_SHARED || k == HS_VIZ_C_HOST_BORROWED;
}

/*
 * The class of a host-side page from its vmemmap states, by emu/inspect/inspect_owner.c's
 * rules (what `map` and `owner` say): a page the host shares that the hypervisor borrows
 * is hyp borrowed; host NOPAGE with hyp OWNED is the hypervisor's though the host stage 2
 * still maps it (Linux 7.x's hyp text, read-only for the host).
 */
static uint8_t class_of_states(const struct hs_vmemmap_entry *e, uint8_t k)
{
	if (e->hyp_state == HS_PAGE_SHARED_BORROWED && e->host_state == HS_PAGE_SHARED_OWNED)
		return HS_VIZ_C_HYP_BORROWED;
	if (e->host_state == HS_PAGE_NOPAGE)
		return e->hyp_state == HS_PAGE_OWNED ? HS_VIZ_C_HYP_OWNED : k;
	return host_state_class(e->host_state, k);
}

/*
 * Refine the host-side classes with the vmemmap. Where the host stage 2 carries the
 * host's states (the bundled hypervisor; Linux 6.x, whose states are only there), only
 * the pages the host shares need it (with whom); where the host's state lives in the
 * vmemmap only (the profile says so: Linux 7.x), every host-side page does. One EL2
 * translation per vmemmap page, not per entry.
 */
static void refine_with_vmemmap(struct hs_machine *m, uint64_t pa, uint64_t nr_pages, uint8_t *cls)
{
	struct hs_vmemmap_layout l;
	if (hs_machine_vmemmap_layout(m, &l, NULL) || l.states_in_tables)
		return;
	bool all = hs_profile_of(m)->host_state_in_vmemmap_only;
	uint64_t map_va = 1, map_pa = 0; /* the vmemmap page translated last (1: none) */
	const uint8_t *page = NULL;
	for (uint64_t i = 0; i < nr_pages; i++) {
		if (!(cls[i] == HS_VIZ_C_HOST_SHARED || (all && host_class(cls[i]))))
			continue;
		uint64_t pfn = (pa >> HS_PAGE_SHIFT) + i;
		uint64_t va = l.base_va + pfn * l.entry_size, vpage = va & ~(HS_PAGE_SIZE - 1);
		uint64_t raw;
		if ((va + l.entry_size - 1) >> HS_PAGE_SHIFT != va >> HS_PAGE_SHIFT) {
			/* an entry across two vmemmap pages: read it on its own */
			if (hs_read_vmemmap(m, pfn << HS_PAGE_SHIFT, &raw, NULL))
				continue;
		} else {
			if (vpage != map_va) {
				map_va = vpage;
				page = hs_el2_va_to_pa(m, 0, vpage, &map_pa, NULL)
					   ? NULL
					   : hs_phys_ptr(m, map_pa, HS_PAGE_SIZE);
			}
			if (!page)
				continue; /* that vmemmap page is not backed */
			raw = hs_vmemmap_raw(&l, page + (va - vpage));
		}
		struct hs_vmemmap_entry e;
		hs_vmemmap_decode(&l, raw, &e);
		cls[i] = class_of_states(&e, cls[i]);
	}
}

int hs_viz_owner_scan(struct hs_machine *m, uint64_t pa, uint64_t nr_pages, uint8_t *cls,
		      struct hs_error *err)
{
	memset(cls, HS_VIZ_C_NONE, nr_pages);
	struct hs_pt_regime r;
	int rc = viz_regime(m, HS_VIZ_TABLE_HOST_S2, 0, 0, 0, &r, err);
	if (rc)
		return rc;
	struct hs_phys phys = viz_machine_phys(m);
	struct scan s = {.base_pfn = pa >> HS_PAGE_SHIFT, .nr = nr_pages, .cls = cls};
	struct hs_pt_visitor vis = {
	    .cb = scan_visit,
	    .arg = &s,
	    .flags = HS_PT_VISIT_LEAF | HS_PT_VISIT_INVALID | HS_PT_VISIT_MALFORMED,
	};
	rc = hs_pt_walk(&phys, &r, pa, pa + (nr_pages << HS_PAGE_SHIFT), &vis);
	if (rc)
		return hs_err(err, rc < 0 ? rc : -EIO, "walking the host stage 2 failed (%d)", rc);
	/* Pages outside RAM are nobody's, whatever the table says. */
	for (uint64_t i = 0; i < nr_pages; i++)
		if (!hs_phys_is_ram(m, pa + (i << HS_PAGE_SHIFT), HS_PAGE_SIZE))
			cls[i] = HS_VIZ_C_NONE;
	refine_with_vmemmap(m, pa, nr_pages, cls);
	return 0;
}

void hs_viz_page_describe(struct hs_machine *m, uint64_t pa, struct hs_strbuf *sb)
{
	pa &= ~(HS_PAGE_SIZE - 1);
	uint8_t c = HS_VIZ_C_NONE;
	hs_viz_owner_scan(m, pa, 1, &c, NULL);
	hs_sb_printf(sb, "page %#" PRIx64 " (pfn %#" PRIx64 "): %s\n", pa, pa >> HS_PAGE_SHIFT,
		     hs_viz_class_name(c));
	char sym[96];
	if (hs_symbolize(m, pa, sym, sizeof(sym)))
		hs_sb_printf(sb, "  image: %s\n", sym);

	struct hs_phys phys = viz_machine_phys(m);
	struct hs_pt_regime r;
	struct hs_pt_trace t;
	struct hs_strbuf tok;
	hs_sb_init(&tok);
	if (!viz_regime(m, HS_VIZ_TABLE_HOST_S2, 0, 0, 0, &r, NULL) &&
	    hs_pt_translate(&phys, &r, pa, &t) >= 0 && t.nr_steps) {
		const struct hs_pt_trace_step *st = &t.steps[t.nr_steps - 1];
		hs_pt_attrs_token(&tok, &st->attrs);
		hs_sb_printf(sb, "  host S2: L%d[%" PRIu64 "] %#018" PRIx64 "\n    %s\n", st->level,
			     st->index, st->desc, hs_sb_str(&tok));
		if (st->attrs.valid)
			hs_sb_printf(sb, "    state %s\n",
				     hs_swenc_state_name(r.swenc, st->attrs.state));
	} else {
		hs_sb_puts(sb, "  host S2: none\n");
	}
	uint64_t raw;
	struct hs_vmemmap_entry e;
	const struct hs_pt_swenc *sw = hs_machine_swenc(m);
	if (!hs_read_vmemmap(m, pa, &raw, NULL) && !hs_read_vmemmap_entry(m, pa, &e, NULL)) {
		hs_sb_printf(sb, "  vmemmap: %#018" PRIx64 "\n    ref %u host %s hyp %s\n", raw,
			     e.refcount, hs_swenc_state_name(sw, e.host_state),
			     hs_swenc_state_name(sw, e.hyp_state));
		if (e.order != HS_VMEMMAP_NO_ORDER || e.guest_shares)
			hs_sb_printf(sb, "    order %u guest shares %u\n", e.order, e.guest_shares);
	} else {
		hs_sb_puts(sb, "  vmemmap: not mapped\n");
	}
	hs_sb_reset(&tok);
	uint64_t va = hs_layout_hyp_va(hs_machine_layout(m), pa);
	if (!viz_regime(m, HS_VIZ_TABLE_HYP_S1, 0, 0, 0, &r, NULL) &&
	    hs_pt_translate(&phys, &r, va, &t) == 0) {
		hs_pt_attrs_token(&tok, &t.attrs);
		hs_sb_printf(sb, "  EL2 VA %#" PRIx64 "\n    L%d %s\n", va, t.attrs.level,
			     hs_sb_str(&tok));
	} else {
		hs_sb_printf(sb, "  EL2 VA %#" PRIx64 ": not mapped\n", va);
	}
	hs_sb_free(&tok);
}
