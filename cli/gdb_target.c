/* SPDX-License-Identifier: MIT */
/* The machine as gdb sees it (see gdb_target.h). */
#include "gdb_target.h"

#include <string.h>

#include <hypscope/abi.h>

#include "debug_write.h"
#include "hyp_state.h"
#include "pt_translate.h"
#include "pt_walk.h"

/*
 * gdb's numbering: x0-x30 (0-30), sp 31, pc 32, cpsr 33 (core); v0-v31
 * 34-65, fpsr 66, fpcr 67 (fpu); then the system registers the emulator
 * names (HS_SYSREG_LIST order) and SP_EL2.
 */
#define GDB_REG_V0 34
#define GDB_REG_FPSR 66
#define GDB_REG_FPCR 67
#define GDB_REG_SYS0 68
#define GDB_REG_SP_EL2 (GDB_REG_SYS0 + HS_SR_COUNT)
#define GDB_NREGS (GDB_REG_SP_EL2 + 1)

unsigned gdb_target_nregs(void)
{
	return GDB_NREGS;
}

unsigned gdb_target_g_nregs(void)
{
	return GDB_REG_SYS0;
}

unsigned gdb_target_reg_size(unsigned regno)
{
	if (regno < GDB_REG_CPSR)
		return 8;
	if (regno == GDB_REG_CPSR || regno == GDB_REG_FPSR || regno == GDB_REG_FPCR)
		return 4;
	if (regno >= GDB_REG_V0 && regno < GDB_REG_FPSR)
		return 16;
	if (regno < GDB_NREGS)
		return 8;
	return 0;
}

/*
 * The vector type of org.gnu.gdb.aarch64.fpu: gdb builds the q/d/s/h/b
 * pseudo registers on v0-v31 and shows them as this union.
 */
static const char fpu_types[] =
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v2u\" type=\"uint64\" count=\"2\"/>"
    "<vector id=\"v2i\" type=\"int64\" count=\"2\"/>"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v4u\" type=\"uint32\" count=\"4\"/>"
    "<vector id=\"v4i\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v8u\" type=\"uint16\" count=\"8\"/>"
    "<vector id=\"v8i\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v16u\" type=\"uint8\" count=\"16\"/>"
    "<vector id=\"v16i\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v1u\" type=\"uint128\" count=\"1\"/>"
    "<vector id=\"v1i\" type=\"int128\" count=\"1\"/>"
    "<union id=\"vnd\"><field name=\"f\" type=\"v2d\"/><field name=\"u\" type=\"v2u\"/>"
    "<field name=\"s\" type=\"v2i\"/></union>"
    "<union id=\"vns\"><field name=\"f\" type=\"v4f\"/><field name=\"u\" type=\"v4u\"/>"
    "<field name=\"s\" type=\"v4i\"/></union>"
    "<union id=\"vnh\"><field name=\"u\" type=\"v8u\"/><field name=\"s\" type=\"v8i\"/></union>"
    "<union id=\"vnb\"><field name=\"u\" type=\"v16u\"/><field name=\"s\" type=\"v16i\"/></union>"
    "<union id=\"vnq\"><field name=\"u\" type=\"v1u\"/><field name=\"s\" type=\"v1i\"/></union>"
    "<union id=\"aarch64v\"><field name=\"d\" type=\"vnd\"/><field name=\"s\" type=\"vns\"/>"
    "<field name=\"h\" type=\"vnh\"/><field name=\"b\" type=\"vnb\"/>"
    "<field name=\"q\" type=\"vnq\"/></union>";

void gdb_target_xml(struct hs_strbuf *sb)
{
	hs_sb_puts(sb, "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
		       "<target><architecture>aarch64</architecture>"
		       "<feature name=\"org.gnu.gdb.aarch64.core\">");
	for (unsigned i = 0; i < 31; i++)
		hs_sb_printf(sb, "<reg name=\"x%u\" bitsize=\"64\" regnum=\"%u\"/>", i, i);
	hs_sb_printf(sb,
		     "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\" regnum=\"%d\"/>"
		     "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"%d\"/>"
		     "<reg name=\"cpsr\" bitsize=\"32\" regnum=\"%d\"/></feature>",
		     GDB_REG_SP, GDB_REG_PC, GDB_REG_CPSR);
	hs_sb_printf(sb, "<feature name=\"org.gnu.gdb.aarch64.fpu\">%s", fpu_types);
	for (unsigned i = 0; i < 32; i++)
		hs_sb_printf(sb,
			     "<reg name=\"v%u\" bitsize=\"128\" type=\"aarch64v\" regnum=\"%u\"/>",
			     i, GDB_REG_V0 + i);
	hs_sb_printf(sb,
		     "<reg name=\"fpsr\" bitsize=\"32\" regnum=\"%d\"/>"
		     "<reg name=\"fpcr\" bitsize=\"32\" regnum=\"%d\"/></feature>",
		     GDB_REG_FPSR, GDB_REG_FPCR);
	/* Not in the 'g' packet: gdb reads these one by one with 'p' when shown. */
	hs_sb_puts(sb, "<feature name=\"org.hypscope.aarch64.sysregs\">");
	for (unsigned r = 0; r < HS_SR_COUNT; r++)
		hs_sb_printf(sb,
			     "<reg name=\"%s\" bitsize=\"64\" type=\"uint64\" group=\"system\" "
			     "regnum=\"%u\"/>",
			     hs_sysreg_desc((enum hs_sysreg)r)->name, GDB_REG_SYS0 + r);
	hs_sb_printf(sb,
		     "<reg name=\"SP_EL2\" bitsize=\"64\" type=\"data_ptr\" group=\"system\" "
		     "regnum=\"%d\"/></feature></target>",
		     GDB_REG_SP_EL2);
}

static void put_le(uint8_t *out, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* Register regno from st (the CPU's core state, read once) or the machine. */
static int read_reg(struct hs_machine *m, unsigned cpu, const struct hs_cpu_state *st,
		    unsigned regno, uint8_t out[16])
{
	unsigned size = gdb_target_reg_size(regno);
	if (!size)
		return -1;
	uint64_t w[2];
	uint64_t v = 0;
	if (regno < 31) {
		v = st->x[regno];
	} else if (regno == GDB_REG_SP) {
		v = st->sp;
	} else if (regno == GDB_REG_PC) {
		v = st->pc;
	} else if (regno == GDB_REG_CPSR) {
		v = st->pstate;
	} else if (regno < GDB_REG_FPSR) {
		if (hs_cpu_reg_read(m, cpu, HS_CPU_REG_V0 + (regno - GDB_REG_V0), w))
			return -1;
		put_le(out, w[0], 8);
		put_le(out + 8, w[1], 8);
		return 16;
	} else if (regno == GDB_REG_FPSR || regno == GDB_REG_FPCR) {
		if (hs_cpu_reg_read(m, cpu,
				    regno == GDB_REG_FPSR ? HS_CPU_REG_FPSR : HS_CPU_REG_FPCR, w))
			return -1;
		v = w[0];
	} else if (regno == GDB_REG_SP_EL2) {
		if (hs_cpu_reg_read(m, cpu, HS_CPU_REG_SP_EL2, w))
			return -1;
		v = w[0];
	} else if (hs_cpu_sysreg(m, cpu, (enum hs_sysreg)(regno - GDB_REG_SYS0), &v)) {
		return -1;
	}
	put_le(out, v, size);
	return (int)size;
}

int gdb_target_read_reg(struct hs_machine *m, unsigned cpu, unsigned regno, uint8_t out[16])
{
	struct hs_cpu_state st;
	if (hs_cpu_state(m, cpu, &st))
		return -1;
	return read_reg(m, cpu, &st, regno, out);
}

int gdb_target_read_g(struct hs_machine *m, unsigned cpu, uint8_t *out, size_t cap)
{
	struct hs_cpu_state st;
	size_t o = 0;
	if (hs_cpu_state(m, cpu, &st))
		return -1;
	for (unsigned r = 0; r < gdb_target_g_nregs(); r++) {
		if (o + 16 > cap)
			return -1;
		int n = read_reg(m, cpu, &st, r, out + o);
		if (n < 0)
			return -1;
		o += (size_t)n;
	}
	return (int)o;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * Writes go through the debugger's write path (debug_write.h), like the
 * REPL's `set var`: the trace records them and the incremental checker and
 * the write log see them.
 */
int gdb_target_write_reg(struct hs_machine *m, unsigned cpu, unsigned regno, const uint8_t *val,
			 size_t len)
{
	if (len != gdb_target_reg_size(regno) || !len)
		return -1;
	uint64_t v[2] = {get_le(val, len), len > 8 ? get_le(val + 8, 8) : 0};
	if (regno < 31)
		return hs_debug_set_xreg(m, cpu, regno, v[0], NULL) ? -1 : 0;
	if (regno == GDB_REG_PC || regno == GDB_REG_SP || regno == GDB_REG_CPSR)
		return hs_debug_set_special(m, cpu,
					    regno == GDB_REG_PC	  ? HS_DBG_REG_PC
					    : regno == GDB_REG_SP ? HS_DBG_REG_SP
								  : HS_DBG_REG_PSTATE,
					    v[0], NULL)
			   ? -1
			   : 0;
	if (regno >= GDB_REG_SYS0 && regno < GDB_REG_SYS0 + HS_SR_COUNT)
		return hs_debug_set_sysreg(m, cpu, (enum hs_sysreg)(regno - GDB_REG_SYS0), v[0],
					   NULL)
			   ? -1
			   : 0;
	unsigned reg;
	if (regno >= GDB_REG_V0 && regno < GDB_REG_FPSR)
		reg = HS_CPU_REG_V0 + (regno - GDB_REG_V0);
	else if (regno == GDB_REG_FPSR)
		reg = HS_CPU_REG_FPSR;
	else if (regno == GDB_REG_FPCR)
		reg = HS_CPU_REG_FPCR;
	else
		return -1; /* SP_EL2: the live SP at EL2h is sp */
	return hs_cpu_reg_write(m, cpu, reg, v) ? -1 : 0;
}

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

/* addr through the EL1&0 regime: stage 1, then stage 2 when HCR_EL2.VM. */
static int el1_translate(struct hs_machine *m, unsigned cpu, uint64_t addr, uint64_t *pa)
{
	uint64_t sctlr, tcr, ttbr, mair, hcr, vtcr, vttbr;
	struct hs_phys ph = {.read = phys_read, .ud = m};
	struct hs_pt_regime s1, s2;
	hs_cpu_sysreg(m, cpu, HS_SR_SCTLR_EL1, &sctlr);
	hs_cpu_sysreg(m, cpu, HS_SR_TCR_EL1, &tcr);
	hs_cpu_sysreg(m, cpu, HS_SR_TTBR0_EL1, &ttbr);
	hs_cpu_sysreg(m, cpu, HS_SR_MAIR_EL1, &mair);
	hs_cpu_sysreg(m, cpu, HS_SR_HCR_EL2, &hcr);
	if (hs_pt_regime_el1(sctlr, tcr, ttbr, mair, &s1, NULL, 0))
		return -1;
	if (!(hcr & 1)) {
		struct hs_pt_trace t;
		if (s1.mmu_off) {
			*pa = addr;
			return 0;
		}
		if (hs_pt_translate(&ph, &s1, addr, &t))
			return -1;
		*pa = t.out_pa;
		return 0;
	}
	/* The live VTTBR: the host's stage 2, or the running guest's. */
	hs_cpu_sysreg(m, cpu, HS_SR_VTCR_EL2, &vtcr);
	hs_cpu_sysreg(m, cpu, HS_SR_VTTBR_EL2, &vttbr);
	struct hs_pt_trace_2d t2;
	if (hs_pt_regime_s2(vtcr, vttbr, &s2, NULL, 0) ||
	    hs_pt_translate_2d(&ph, &s1, &s2, addr, 0, &t2))
		return -1;
	*pa = t2.pa;
	return 0;
}

int gdb_target_translate(struct hs_machine *m, unsigned cpu, bool phys, uint64_t addr, uint64_t *pa)
{
	struct hs_cpu_state st;
	uint64_t sctlr_el2;
	if (phys) {
		*pa = addr;
		return 0;
	}
	if (hs_cpu_state(m, cpu, &st))
		return -1;
	if (st.el == 2)
		return hs_el2_va_to_pa(m, cpu, addr, pa, NULL) ? -1 : 0;
	if (!el1_translate(m, cpu, addr, pa))
		return 0;
	/*
	 * Not mapped at EL1: gdb's symbols are HYP VAs, and `print` or `watch`
	 * of a hypervisor variable while the CPU is in the host should work, so
	 * try the hypervisor's own stage 1 (only when its MMU is on: flat, every
	 * address would "translate").
	 */
	if (hs_cpu_sysreg(m, cpu, HS_SR_SCTLR_EL2, &sctlr_el2) || !(sctlr_el2 & 1))
		return -1;
	return hs_el2_va_to_pa(m, cpu, addr, pa, NULL) ? -1 : 0;
}

void gdb_tlb_flush(struct gdb_tlb *t)
{
	memset(t, 0, sizeof(*t));
}

static int translate_cached(struct hs_machine *m, struct gdb_tlb *t, unsigned cpu, bool phys,
			    uint64_t addr, uint64_t *pa)
{
	const uint64_t off = addr & (HS_PAGE_SIZE - 1), page = addr - off;
	if (phys || !t)
		return gdb_target_translate(m, cpu, phys, addr, pa);
	for (unsigned i = 0; i < GDB_TLB_ENTRIES; i++)
		if (t->e[i].valid && t->e[i].cpu == cpu && t->e[i].va_page == page) {
			*pa = t->e[i].pa_page + off;
			return 0;
		}
	if (gdb_target_translate(m, cpu, phys, addr, pa))
		return -1;
	unsigned i = t->next++ % GDB_TLB_ENTRIES;
	t->e[i].valid = true;
	t->e[i].cpu = cpu;
	t->e[i].va_page = page;
	t->e[i].pa_page = *pa - off;
	return 0;
}

int gdb_target_read_mem(struct hs_machine *m, struct gdb_tlb *tlb, unsigned cpu, bool phys,
			uint64_t addr, void *buf, size_t len, size_t *done)
{
	uint8_t *out = buf;
	*done = 0;
	while (len) {
		size_t chunk = HS_PAGE_SIZE - (addr & (HS_PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint64_t pa;
		if (translate_cached(m, tlb, cpu, phys, addr, &pa) ||
		    hs_phys_read(m, pa, out, chunk, NULL))
			return -1;
		out += chunk;
		addr += chunk;
		len -= chunk;
		*done += chunk;
	}
	return 0;
}

int gdb_target_write_mem(struct hs_machine *m, unsigned cpu, bool phys, uint64_t addr,
			 const void *buf, size_t len)
{
	const uint8_t *in = buf;
	/* Check every page first: a write either happens whole or not at all. */
	uint64_t pas[GDB_TARGET_MAX_WRITE_PAGES];
	size_t npages = 0;
	for (uint64_t a = addr, left = len; left;) {
		size_t chunk = HS_PAGE_SIZE - (a & (HS_PAGE_SIZE - 1));
		if (chunk > left)
			chunk = left;
		if (npages == GDB_TARGET_MAX_WRITE_PAGES ||
		    gdb_target_translate(m, cpu, phys, a, &pas[npages]) ||
		    !hs_phys_is_ram(m, pas[npages], chunk))
			return -1;
		npages++;
		a += chunk;
		left -= chunk;
	}
	for (size_t i = 0; len; i++) {
		size_t chunk = HS_PAGE_SIZE - (addr & (HS_PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		if (hs_debug_write(m, cpu, pas[i], in, chunk, NULL))
			return -1;
		in += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}
