/* SPDX-License-Identifier: MIT */
/*
 * The host's part of the boot flow, modelled on what Linux does for nVHE
 * protected mode: reserve the pool early (step 1), build a throw-away EL2
 * stage 1 and the per-CPU init parameters (step 2), point each CPU's vectors
 * at the idmap page and issue __kvm_hyp_init, then __pkvm_init, then
 * __pkvm_prot_finalize on every CPU, and finally forget the throw-away table
 * (step 6): from then on EL2 mappings change only through hypercalls.
 */
#include "host_boot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hyp_state.h"
#include "boot_util.h"
#include "host.h"
#include "machine_priv.h"

#define MAIR_EL2_VALUE 0x04ffULL		     /* idx0 Normal WB RA WA, idx1 Device-nGnRE */
#define HCR_HOST_FLAGS ((1ULL << 31) | (1ULL << 19)) /* RW, TSC */

static const char *const step_names[HS_BOOT_NR_STEPS] = {
    [HS_BOOT_FIRMWARE] = "firmware",   [HS_BOOT_RESERVE] = "reserve",
    [HS_BOOT_TABLES] = "boot-tables",  [HS_BOOT_HYP_INIT] = "hyp-init",
    [HS_BOOT_PKVM_INIT] = "pkvm-init", [HS_BOOT_FINALIZE] = "finalize",
    [HS_BOOT_FREE] = "free",	       [HS_BOOT_DONE] = "done",
};

const char *hs_boot_step_name(int step)
{
	return step >= 0 && step < HS_BOOT_NR_STEPS ? step_names[step] : "?";
}

int hs_boot_step_by_name(const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);
	if (*name && !*end)
		return n >= 0 && n < HS_BOOT_NR_STEPS ? (int)n : -1;
	for (int i = 0; i < HS_BOOT_NR_STEPS; i++)
		if (!strcasecmp(step_names[i], name))
			return i;
	return -1;
}

int hs_boot_next_step(const struct hs_machine *m)
{
	return hs_host_of(m)->boot_step;
}

void hs_boot_emit_step(struct hs_machine *m, int step, const char *detail)
{
	struct hs_event ev = {
	    .type = HS_EV_BOOT_STEP, .cpu = m->cur, .icount = hs_machine_icount(m)};
	ev.boot = (struct hs_event_boot){.step = step, .name = step_names[step], .detail = detail};
	hs_emit(m, &ev);
}

static int map_section(struct hs_machine *m, const char *start, const char *end, uint64_t attrs,
		       struct hs_error *err)
{
	uint64_t s = hs_link_sym(m, start), e = hs_link_sym(m, end);
	if (!s || !e || e < s)
		return hs_err(err, -EINVAL, "image has no %s/%s", start, end);
	s &= ~(HS_PAGE_SIZE - 1);
	e = (e + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	return hs_boot_map_range(m, hs_link_to_hyp_va(m, s), hs_link_to_pa(m, s), e - s, attrs,
				 err);
}

static uint64_t tcr_el2(unsigned va_bits)
{
	/* T0SZ, IRGN0/ORGN0 WBWA, SH0 inner, TG0 4K, PS 44 bits, RES1 [31] [23]. */
	return (uint64_t)(64 - va_bits) | (1ULL << 8) | (1ULL << 10) | (3ULL << 12) | (4ULL << 16) |
	       (1ULL << 31) | (1ULL << 23);
}

/* ---- steps -------------------------------------------------------------- */

static int step_reserve(struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	struct hs_memblock_region regions[1] = {{m->opts.ram_base, m->opts.ram_size}};
	uint32_t nr = 1;
	struct hs_pool_sizes sz;
	hs_pool_sizes(regions, nr, &sz);
	const uint64_t two_mib = 2ULL << 20;
	h->pool_size = ((sz.total << HS_PAGE_SHIFT) + two_mib - 1) & ~(two_mib - 1);
	int rc = hs_memblock_alloc(m, h->pool_size, two_mib, &h->pool_pa, err);
	if (rc)
		return hs_err_prefix(err, "reserving the hypervisor pool");
	/* Tell the hypervisor about memory, as Linux fills kvm_nvhe_sym(hyp_memory). */
	if ((rc = hs_write_sym(m, "hyp_memory", regions, sizeof(regions), err)) ||
	    (rc = hs_write_sym(m, "hyp_memblock_nr", &nr, sizeof(nr), err)))
		return rc;
	char detail[160];
	snprintf(detail, sizeof(detail), "pool %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " pages)",
		 h->pool_pa, h->pool_pa + h->pool_size, h->pool_size >> HS_PAGE_SHIFT);
	hs_boot_emit_step(m, HS_BOOT_RESERVE, detail);
	return 0;
}

static int step_tables(struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	const struct hs_layout *l = &m->layout;
	int rc;
	/* Per-CPU copies of the hypervisor's per-CPU section, and one stack page each. */
	uint64_t pc0 = hs_link_sym(m, "__hyp_percpu_start"),
		 pc1 = hs_link_sym(m, "__hyp_percpu_end");
	uint64_t params_off = hs_link_sym(m, "kvm_init_params") - pc0;
	h->percpu_size = (pc1 - pc0 + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	if (!pc0 || !h->percpu_size)
		return hs_err(err, -EINVAL, "the image has no per-CPU section");
	if ((rc = hs_memblock_alloc(m, h->percpu_size * m->nr_cpus, HS_PAGE_SIZE, &h->percpu_pa,
				    err)))
		return rc;
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		memcpy(hs_phys_ptr(m, h->percpu_pa + cpu * h->percpu_size, h->percpu_size),
		       hs_phys_ptr(m, hs_link_to_pa(m, pc0), h->percpu_size), h->percpu_size);
		if ((rc =
			 hs_memblock_alloc(m, HS_STACK_SIZE, HS_PAGE_SIZE, &h->stack_pa[cpu], err)))
			return rc;
	}
	/* The throw-away table. */
	if ((rc = hs_boot_table_page(m, &h->boot_pgd_pa, err)))
		return rc;
	uint64_t idmap = l->idmap_pa;
	uint64_t normal = S1_ATTR_NORMAL | S1_SH_IS;
	if ((rc = hs_boot_map_page(m, idmap, idmap, normal | S1_AP_RO, err)) ||
	    (rc = map_section(m, "__hyp_text_start", "__hyp_text_end", normal | S1_AP_RO, err)) ||
	    (rc = map_section(m, "__hyp_rodata_start", "__hyp_rodata_end",
			      normal | S1_AP_RO | S1_XN, err)) ||
	    (rc = map_section(m, "__hyp_data_start", "__hyp_bss_end", normal | S1_AP_RW | S1_XN,
			      err)) ||
	    (rc = hs_boot_map_range(m, hs_layout_hyp_va(l, h->pool_pa), h->pool_pa, h->pool_size,
				    normal | S1_AP_RW | S1_XN, err)) ||
	    (rc = hs_boot_map_range(m, hs_layout_hyp_va(l, h->percpu_pa), h->percpu_pa,
				    h->percpu_size * m->nr_cpus, normal | S1_AP_RW | S1_XN, err)))
		return rc;
	/* Private range: the UART first, then each stack above a guard page. */
	uint64_t priv = l->io_map_base;
	uint64_t uart_va = priv;
	if ((rc = hs_boot_map_page(m, uart_va, HS_UART_BASE, S1_ATTR_DEVICE | S1_AP_RW | S1_XN,
				   err)))
		return rc;
	priv += HS_PAGE_SIZE;
	if ((rc = hs_write_sym(m, "hyp_uart_va", &uart_va, 8, err)))
		return rc;
	int64_t physvirt = l->physvirt_offset;
	if ((rc = hs_write_sym(m, "hyp_physvirt_offset", &physvirt, 8, err)))
		return rc;
	uint64_t percpu_template_va = hs_link_to_hyp_va(m, pc0);
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		priv = (priv + 2 * HS_STACK_SIZE - 1) & ~(2 * HS_STACK_SIZE - 1);
		uint64_t stack_va = priv + HS_STACK_SIZE;
		if ((rc = hs_boot_map_page(m, stack_va, h->stack_pa[cpu], normal | S1_AP_RW | S1_XN,
					   err)))
			return rc;
		priv += 2 * HS_STACK_SIZE;
		struct hs_init_params p = {
		    .mair_el2 = MAIR_EL2_VALUE,
		    .tcr_el2 = tcr_el2(m->opts.hyp_va_bits),
		    .tpidr_el2 = hs_layout_hyp_va(l, h->percpu_pa + cpu * h->percpu_size) -
				 percpu_template_va,
		    .stack_hyp_va = stack_va + HS_STACK_SIZE,
		    .stack_pa = h->stack_pa[cpu],
		    .pgd_pa = h->boot_pgd_pa,
		    .hcr_el2 = HCR_HOST_FLAGS,
		};
		h->params_pa[cpu] = h->percpu_pa + cpu * h->percpu_size + params_off;
		if ((rc = hs_phys_write(m, h->params_pa[cpu], &p, sizeof(p), err)))
			return rc;
	}
	char detail[200];
	snprintf(detail, sizeof(detail),
		 "throw-away EL2 stage 1 at %#" PRIx64 " (%u pages); idmap page %#" PRIx64
		 "; linear map at %#" PRIx64,
		 h->boot_pgd_pa, h->nr_boot_table_pages, idmap,
		 hs_layout_hyp_va(l, m->opts.ram_base));
	hs_boot_emit_step(m, HS_BOOT_TABLES, detail);
	return 0;
}

static int boot_advance(struct hs_machine *m, struct hs_error *err);

static int boot_op_done(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	if (op->kind == HS_HOP_HVC) {
		const char *name = hs_hypercall_name(op->fn);
		if (op->x0 != HS_SMCCC_SUCCESS || (name && op->x1 != 0))
			return hs_err(err, -EIO,
				      "boot step %s: %s on cpu%u failed: x0=%" PRId64
				      " x1=%" PRId64,
				      step_names[h->boot_step], name ? name : "stub call", op->cpu,
				      op->x0, op->x1);
	}
	h->boot_cpu_done++;
	return boot_advance(m, err);
}

static int start_hvc(struct hs_machine *m, unsigned cpu, uint64_t fn, const uint64_t *args,
		     unsigned nargs, struct hs_error *err)
{
	return hs_boot_start_hvc(m, cpu, fn, args, nargs, boot_op_done, err);
}

/* Run C steps and start the next hypercall; return with nothing pending at the end. */
static int boot_advance(struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	for (;;) {
		if (h->boot_step == h->boot_until || h->boot_step == HS_BOOT_DONE)
			return 0;
		int rc = 0;
		unsigned sub = h->boot_cpu_done;
		switch (h->boot_step) {
		case HS_BOOT_FIRMWARE:
			if (sub < m->nr_cpus) {
				struct hs_host_op op = {
				    .kind = HS_HOP_RESET, .cpu = sub, .done = boot_op_done};
				return hs_host_start_op(m, &op, err);
			}
			hs_boot_emit_step(m, HS_BOOT_FIRMWARE, "every CPU is in the host at EL1");
			break;
		case HS_BOOT_RESERVE:
			rc = step_reserve(m, err);
			break;
		case HS_BOOT_TABLES:
			rc = step_tables(m, err);
			break;
		case HS_BOOT_HYP_INIT:
			/* Two calls per CPU: the stub's SET_VECTORS, then __kvm_hyp_init. */
			if (sub < 2 * m->nr_cpus) {
				unsigned cpu = sub / 2;
				if (sub % 2 == 0) {
					uint64_t vec;
					if ((rc = hs_sym_pa(m, "__kvm_hyp_init", &vec, err)))
						return rc;
					uint64_t a[1] = {vec};
					return start_hvc(m, cpu, HS_STUB_SET_VECTORS, a, 1, err);
				}
				uint64_t a[1] = {h->params_pa[cpu]};
				return start_hvc(m, cpu, HS_HC_FN(HS_HC___kvm_hyp_init), a, 1, err);
			}
			hs_boot_emit_step(m, HS_BOOT_HYP_INIT,
					  "every CPU runs EL2 with its MMU on (boot table)");
			break;
		case HS_BOOT_PKVM_INIT:
			if (sub == 0) {
				uint64_t a[5] = {h->pool_pa, h->pool_size, m->nr_cpus, h->percpu_pa,
						 m->opts.hyp_va_bits};
				return start_hvc(m, 0, HS_HC_FN(HS_HC___pkvm_init), a, 5, err);
			}
			hs_boot_emit_step(m, HS_BOOT_PKVM_INIT,
					  "the hypervisor runs on its own page table");
			break;
		case HS_BOOT_FINALIZE:
			if (sub < m->nr_cpus)
				return start_hvc(m, sub, HS_HC_FN(HS_HC___pkvm_prot_finalize), NULL,
						 0, err);
			h->finalized = true;
			hs_boot_emit_step(m, HS_BOOT_FINALIZE, "host stage 2 on, on every CPU");
			break;
		case HS_BOOT_FREE:
			/* Linux frees the pages; nothing of the host points at them any more. */
			h->boot_tables_freed = true;
			hs_boot_emit_step(m, HS_BOOT_FREE, "throw-away EL2 tables freed");
			break;
		default:
			return hs_err(err, -EINVAL, "bad boot step %d", h->boot_step);
		}
		if (rc)
			return rc;
		hs_boot_step_done(m);
	}
}

int hs_boot_run(struct hs_machine *m, const char *until,
		int (*advance)(struct hs_machine *m, struct hs_error *err), struct hs_stop *stop,
		struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	int target = HS_BOOT_DONE;
	if (until) {
		target = hs_boot_step_by_name(until);
		if (target < 0)
			return hs_err(
			    err, -EINVAL,
			    "unknown boot step '%s' (steps: firmware, reserve, boot-tables, "
			    "hyp-init, pkvm-init, finalize, free, done)",
			    until);
	}
	if (h->booted)
		return hs_err(err, -EALREADY, "the machine has already booted");
	if (hs_op_pending(m))
		return hs_err(err, -EBUSY, "the machine is stopped inside the boot: use continue");
	if (target < h->boot_step)
		return hs_err(err, -EINVAL, "the boot is already past step '%s'", until);
	h->boot_until = target;
	int rc = advance(m, err);
	if (rc)
		return rc;
	return hs_continue(m, stop, err);
}

hs_boot_done_fn hs_boot_continuation(void)
{
	return boot_op_done;
}

int hs_boot(struct hs_machine *m, const char *until, struct hs_stop *stop, struct hs_error *err)
{
	return hs_boot_run(m, until, boot_advance, stop, err);
}

void hs_boot_info(const struct hs_machine *m, struct hs_boot_info *info)
{
	const struct hs_host *h = hs_host_of(m);
	const struct hs_layout *l = &m->layout;
	memset(info, 0, sizeof(*info));
	info->booted = h->booted;
	info->finalized = h->finalized;
	info->pool_pa = h->pool_pa;
	info->pool_size = h->pool_size;
	info->hyp_va_bits = l->va_bits;
	info->linear_start = hs_layout_hyp_va(l, m->opts.ram_base);
	info->linear_end = hs_layout_hyp_va(l, m->opts.ram_base + m->opts.ram_size);
	info->idmap_pa = l->idmap_pa;
	info->idmap_upper_half = l->idmap_upper_half;
	info->boot_pgd_pa = h->boot_pgd_pa;
	info->boot_table_pages = h->nr_boot_table_pages;
	info->boot_tables_freed = h->boot_tables_freed;
	info->percpu_pa = h->percpu_pa;
	info->percpu_size = h->percpu_size;
	memcpy(info->params_pa, h->params_pa, sizeof(info->params_pa));
	if (h->boot_step > HS_BOOT_PKVM_INIT ||
	    (h->boot_step == HS_BOOT_PKVM_INIT && h->boot_cpu_done)) {
		struct hs_init_params p;
		if (!hs_phys_read((struct hs_machine *)m, h->params_pa[0], &p, sizeof(p), NULL))
			info->hyp_pgd_pa = p.pgd_pa;
	}
}

void hs_boot_summary(struct hs_machine *m, struct hs_strbuf *sb)
{
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	hs_sb_printf(sb, "boot: %s (next step: %s)\n", bi.booted ? "complete" : "in progress",
		     hs_boot_step_name(hs_host_of(m)->boot_step));
	if (!bi.pool_size)
		return;
	hs_sb_printf(
	    sb, "  pool:        %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " pages, %" PRIu64 " MiB)\n",
	    bi.pool_pa, bi.pool_pa + bi.pool_size, bi.pool_size >> HS_PAGE_SHIFT,
	    bi.pool_size >> 20);
	hs_sb_printf(sb,
		     "  HYP VA:      %u bits; idmap page %#" PRIx64 " in the %s half; linear map "
		     "%#" PRIx64 "-%#" PRIx64 "\n",
		     bi.hyp_va_bits, bi.idmap_pa, bi.idmap_upper_half ? "upper" : "lower",
		     bi.linear_start, bi.linear_end);
	hs_sb_printf(sb, "  private:     %#" PRIx64 " (vmemmap %#" PRIx64 ")\n",
		     m->layout.io_map_base, m->layout.vmemmap_base);
	hs_sb_printf(sb, "  boot table:  %#" PRIx64 " (%u pages)%s\n", bi.boot_pgd_pa,
		     bi.boot_table_pages, bi.boot_tables_freed ? ", freed" : "");
	if (bi.hyp_pgd_pa) {
		struct hs_pool_stats ps, s2;
		struct hs_error err;
		hs_sb_printf(sb, "  hyp table:   %#" PRIx64 "\n", bi.hyp_pgd_pa);
		if (!hs_read_pool(m, "hpool", &ps, &err) && ps.range_end)
			hs_sb_printf(
			    sb,
			    "  buddy:       hpool %" PRIu64 " of %" PRIu64 " pages free (%" PRIu64
			    " used by EL2 tables)\n",
			    ps.free_pages, (ps.range_end - ps.range_start) >> HS_PAGE_SHIFT,
			    ((ps.range_end - ps.range_start) >> HS_PAGE_SHIFT) - ps.free_pages);
		if (!hs_read_pool(m, "host_s2_pool", &s2, &err) && s2.range_end)
			hs_sb_printf(
			    sb,
			    "               host_s2_pool %" PRIu64 " of %" PRIu64 " pages free\n",
			    s2.free_pages, (s2.range_end - s2.range_start) >> HS_PAGE_SHIFT);
	}
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		struct hs_cpu *c = &m->cpus[cpu];
		uint64_t ttbr = hs_cpu_sr(c, HS_SR_TTBR0_EL2),
			 sctlr = hs_cpu_sr(c, HS_SR_SCTLR_EL2);
		uint64_t hcr = hs_cpu_sr(c, HS_SR_HCR_EL2), vttbr = hs_cpu_sr(c, HS_SR_VTTBR_EL2);
		const char *table = !(sctlr & 1)			   ? "MMU off"
				    : (ttbr & S1_OA_MASK) == bi.hyp_pgd_pa ? "hyp's own table"
				    : (ttbr & S1_OA_MASK) == bi.boot_pgd_pa
					? "throw-away boot table"
					: "unknown table";
		hs_sb_printf(sb,
			     "  cpu%u:        %s, EL%u, TTBR0_EL2 %#" PRIx64
			     " (%s), VBAR_EL2 %#" PRIx64 ", stage 2 %s (VTTBR %#" PRIx64 ")\n",
			     cpu, c->online ? "online" : "offline", hs_cpu_el(c), ttbr, table,
			     hs_cpu_sr(c, HS_SR_VBAR_EL2), (hcr & 1) ? "on" : "off", vttbr);
	}
}
