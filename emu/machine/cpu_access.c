/* SPDX-License-Identifier: MIT */
/* The CPUs by index, for the layers above: selection, state and registers. */
#include <errno.h>
#include <string.h>

#include "machine_priv.h"

int hs_select_cpu(struct hs_machine *m, unsigned cpu, struct hs_error *err)
{
	if (cpu >= m->nr_cpus)
		return hs_err(err, -EINVAL, "no CPU %u (the machine has %u)", cpu, m->nr_cpus);
	m->cur = cpu;
	return 0;
}

int hs_cpu_state(struct hs_machine *m, unsigned cpu, struct hs_cpu_state *st)
{
	if (cpu >= m->nr_cpus)
		return -EINVAL;
	struct hs_cpu *c = &m->cpus[cpu];
	memset(st, 0, sizeof(*st));
	st->online = c->online;
	st->pstate = hs_cpu_reg(c, UC_ARM64_REG_PSTATE);
	uint32_t pstate = (uint32_t)st->pstate;
	st->el = (pstate >> 2) & 3;
	st->sp_el_x = pstate & 1;
	st->pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	st->sp = hs_cpu_reg(c, UC_ARM64_REG_SP);
	for (int i = 0; i < 29; i++)
		st->x[i] = hs_cpu_reg(c, UC_ARM64_REG_X0 + i);
	st->x[29] = hs_cpu_reg(c, UC_ARM64_REG_X29);
	st->x[30] = hs_cpu_reg(c, UC_ARM64_REG_X30);
	st->icount = c->icount;
	return 0;
}

int hs_cpu_sysreg(struct hs_machine *m, unsigned cpu, enum hs_sysreg r, uint64_t *val)
{
	if (cpu >= m->nr_cpus || !hs_sysreg_desc(r))
		return -EINVAL;
	*val = hs_cpu_sr(&m->cpus[cpu], r);
	return 0;
}

int hs_cpu_set_xreg(struct hs_machine *m, unsigned cpu, unsigned n, uint64_t val)
{
	if (cpu >= m->nr_cpus || n > 30)
		return -EINVAL;
	int id = n < 29 ? UC_ARM64_REG_X0 + (int)n : n == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
	hs_cpu_set_reg(&m->cpus[cpu], id, val);
	return 0;
}

static int extra_reg_id(unsigned reg)
{
	switch (reg) {
	case HS_CPU_REG_SP:
		return UC_ARM64_REG_SP;
	case HS_CPU_REG_NZCV:
		return UC_ARM64_REG_NZCV;
	case HS_CPU_REG_FPSR:
		return UC_ARM64_REG_FPSR;
	case HS_CPU_REG_FPCR:
		return UC_ARM64_REG_FPCR;
	case HS_CPU_REG_SP_EL2:
		return UC_ARM64_REG_SP_EL2;
	default:
		return reg >= HS_CPU_REG_V0 && reg < HS_CPU_REG_V0 + 32
			   ? UC_ARM64_REG_Q0 + (int)(reg - HS_CPU_REG_V0)
			   : -1;
	}
}

int hs_cpu_reg_read(struct hs_machine *m, unsigned cpu, unsigned reg, uint64_t v[2])
{
	int id = extra_reg_id(reg);
	if (cpu >= m->nr_cpus || id < 0)
		return -EINVAL;
	uc_engine *uc = m->cpus[cpu].uc;
	v[0] = v[1] = 0;
	if (reg >= HS_CPU_REG_V0)
		return uc_reg_read(uc, id, v) ? -EINVAL : 0;
	if (reg == HS_CPU_REG_NZCV || reg == HS_CPU_REG_FPSR || reg == HS_CPU_REG_FPCR) {
		uint32_t w = 0;
		int rc = uc_reg_read(uc, id, &w) ? -EINVAL : 0;
		v[0] = w;
		return rc;
	}
	if (reg == HS_CPU_REG_SP_EL2 && hs_cpu_el(&m->cpus[cpu]) == 2) {
		/* QEMU banks the live SP only on an exception level change. */
		uint32_t pstate = 0;
		uc_reg_read(uc, UC_ARM64_REG_PSTATE, &pstate);
		if (pstate & 1)
			id = UC_ARM64_REG_SP;
	}
	return uc_reg_read(uc, id, v) ? -EINVAL : 0;
}

int hs_cpu_reg_write(struct hs_machine *m, unsigned cpu, unsigned reg, const uint64_t v[2])
{
	int id = extra_reg_id(reg);
	/* SP and the flags are debugger writes (debug_write.h), which record them. */
	if (cpu >= m->nr_cpus || id < 0 || reg < HS_CPU_REG_FPSR || reg == HS_CPU_REG_SP_EL2)
		return -EINVAL;
	uc_engine *uc = m->cpus[cpu].uc;
	if (reg >= HS_CPU_REG_V0)
		return uc_reg_write(uc, id, v) ? -EINVAL : 0;
	uint32_t w = (uint32_t)v[0];
	return uc_reg_write(uc, id, &w) ? -EINVAL : 0;
}

int hs_cpu_set_pc(struct hs_machine *m, unsigned cpu, uint64_t pc)
{
	if (cpu >= m->nr_cpus)
		return -EINVAL;
	hs_cpu_set_reg(&m->cpus[cpu], UC_ARM64_REG_PC, pc);
	return 0;
}

uc_engine *hs_cpu_engine(struct hs_machine *m, unsigned cpu)
{
	return cpu < m->nr_cpus ? m->cpus[cpu].uc : NULL;
}
