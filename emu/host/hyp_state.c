/* SPDX-License-Identifier: MIT */
#include "hyp_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pt_translate.h"
#include "pt_walk.h"

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

int hs_el2_va_to_pa(struct hs_machine *m, unsigned cpu, uint64_t va, uint64_t *pa,
		    struct hs_error *err)
{
	uint64_t tcr, ttbr, mair, sctlr;
	hs_cpu_sysreg(m, cpu, HS_SR_SCTLR_EL2, &sctlr);
	if (!(sctlr & 1)) {
		*pa = va;
		return 0;
	}
	hs_cpu_sysreg(m, cpu, HS_SR_TCR_EL2, &tcr);
	hs_cpu_sysreg(m, cpu, HS_SR_TTBR0_EL2, &ttbr);
	hs_cpu_sysreg(m, cpu, HS_SR_MAIR_EL2, &mair);
	struct hs_pt_regime r;
	char msg[200];
	if (hs_pt_regime_el2(tcr, ttbr, mair, &r, msg, sizeof(msg)))
		return hs_err(err, -EINVAL, "EL2 stage 1: %s", msg);
	struct hs_phys phys = {.read = phys_read_cb, .ud = m};
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&phys, &r, va, &t);
	if (rc)
		return hs_err(err, -EFAULT, "EL2 VA %#" PRIx64 " does not translate", va);
	*pa = t.out_pa;
	return 0;
}

int hs_read_pool(struct hs_machine *m, const char *name, struct hs_pool_stats *st,
		 struct hs_error *err)
{
	memset(st, 0, sizeof(*st));
	uint64_t pa;
	int rc = hs_sym_pa(m, name, &pa, err);
	if (rc)
		return rc;
	struct hs_hyp_pool_layout pool;
	if ((rc = hs_phys_read(m, pa, &pool, sizeof(pool), err)))
		return rc;
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t pool_va = hs_layout_hyp_va(l, pa);
	st->range_start = pool.range_start;
	st->range_end = pool.range_end;
	st->max_order = pool.max_order;
	for (unsigned o = 0; o < HS_MAX_ORDER; o++) {
		uint64_t head = pool_va + o * sizeof(struct hs_list_node);
		uint64_t node = pool.free_area[o].next;
		uint64_t n = 0, limit = (st->range_end - st->range_start) >> HS_PAGE_SHIFT;
		while (node && node != head) {
			uint64_t npa = hs_layout_pa(l, node);
			if (npa < st->range_start || npa >= st->range_end || n > limit) {
				st->malformed = 1;
				snprintf(st->why, sizeof(st->why),
					 "%s free list of order %u leaves the pool at %#" PRIx64,
					 name, o, node);
				break;
			}
			struct hs_list_node ln;
			if (hs_phys_read(m, npa, &ln, sizeof(ln), NULL))
				break;
			n++;
			node = ln.next;
		}
		st->free_blocks[o] = n;
		st->free_pages += n << o;
	}
	return 0;
}

uint64_t hs_read_sym_u64(struct hs_machine *m, const char *name)
{
	uint64_t pa, v = 0;
	if (hs_sym_pa(m, name, &pa, NULL) || hs_phys_read(m, pa, &v, sizeof(v), NULL))
		return 0;
	return v;
}

void hs_host_s2_regs(struct hs_machine *m, unsigned cpu, uint64_t *vtcr, uint64_t *vttbr)
{
	*vtcr = *vttbr = 0;
	hs_cpu_sysreg(m, cpu, HS_SR_VTCR_EL2, vtcr);
	hs_cpu_sysreg(m, cpu, HS_SR_VTTBR_EL2, vttbr);
	if (!(*vttbr >> 48))
		return; /* VMID 0: the host's own */
	uint64_t rec_vtcr = hs_read_sym_u64(m, "host_vtcr"),
		 rec_vttbr = hs_read_sym_u64(m, "host_vttbr");
	if (rec_vtcr && rec_vttbr) {
		*vtcr = rec_vtcr;
		*vttbr = rec_vttbr;
	}
}
