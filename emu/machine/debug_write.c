/* SPDX-License-Identifier: MIT */
#include "debug_write.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "machine_priv.h"

static void emit(struct hs_machine *m, unsigned cpu, const char *reg, uint64_t pa, unsigned len,
		 uint64_t old, uint64_t value)
{
	struct hs_event ev = {
	    .type = HS_EV_DEBUG_WRITE,
	    .cpu = cpu,
	    .icount = hs_machine_icount(m),
	    .dbgw = {.reg = reg, .pa = pa, .len = len, .old = old, .value = value}};
	hs_emit(m, &ev);
}

int hs_debug_write(struct hs_machine *m, unsigned cpu, uint64_t pa, const void *buf, size_t len,
		   struct hs_error *err)
{
	if (!len)
		return 0;
	if (!hs_phys_is_ram(m, pa, len))
		return hs_err(err, -EFAULT, "[%#" PRIx64 ", +%#zx) is not RAM", pa, len);
	uint64_t old = 0, value = 0;
	size_t n = len < 8 ? len : 8;
	hs_phys_read(m, pa, &old, n, NULL);
	memcpy(&value, buf, n);
	/* hs_phys_write marks the write log and drops translated code on the range. */
	int rc = hs_phys_write(m, pa, buf, len, err);
	if (rc)
		return rc;
	emit(m, cpu, NULL, pa, (unsigned)len, old, value);
	return 0;
}

static int check_cpu(struct hs_machine *m, unsigned cpu, struct hs_error *err)
{
	if (cpu >= m->nr_cpus || !m->cpus[cpu].uc)
		return hs_err(err, -EINVAL, "no cpu%u", cpu);
	return 0;
}

int hs_debug_set_xreg(struct hs_machine *m, unsigned cpu, unsigned n, uint64_t v,
		      struct hs_error *err)
{
	if (check_cpu(m, cpu, err))
		return -EINVAL;
	if (n > 30)
		return hs_err(err, -EINVAL, "x%u does not exist (x0..x30)", n);
	static const char *const names[31] = {
	    "x0",  "x1",  "x2",	 "x3",	"x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10",
	    "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
	    "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30"};
	struct hs_cpu_state st;
	hs_cpu_state(m, cpu, &st);
	hs_cpu_set_xreg(m, cpu, n, v);
	emit(m, cpu, names[n], 0, 8, st.x[n], v);
	return 0;
}

int hs_debug_set_special(struct hs_machine *m, unsigned cpu, enum hs_debug_reg r, uint64_t v,
			 struct hs_error *err)
{
	if (check_cpu(m, cpu, err))
		return -EINVAL;
	struct hs_cpu *c = &m->cpus[cpu];
	switch (r) {
	case HS_DBG_REG_X29:
		return hs_debug_set_xreg(m, cpu, 29, v, err);
	case HS_DBG_REG_X30:
		return hs_debug_set_xreg(m, cpu, 30, v, err);
	case HS_DBG_REG_PC: {
		uint64_t old = hs_cpu_reg(c, UC_ARM64_REG_PC);
		if (v & 3)
			return hs_err(err, -EINVAL, "pc %#" PRIx64 " is not 4-byte aligned", v);
		hs_cpu_set_reg(c, UC_ARM64_REG_PC, v);
		emit(m, cpu, "pc", 0, 8, old, v);
		return 0;
	}
	case HS_DBG_REG_SP: {
		uint64_t old = hs_cpu_reg(c, UC_ARM64_REG_SP);
		hs_cpu_set_reg(c, UC_ARM64_REG_SP, v);
		emit(m, cpu, "sp", 0, 8, old, v);
		return 0;
	}
	case HS_DBG_REG_PSTATE: {
		uint64_t old = hs_cpu_reg(c, UC_ARM64_REG_PSTATE);
		if (((v >> 2) & 3) != ((old >> 2) & 3) || ((v ^ old) & 1))
			return hs_err(err, -EINVAL,
				      "changing the exception level or SPSel through PSTATE is "
				      "not supported (only NZCV and DAIF)");
		hs_cpu_set_reg(c, UC_ARM64_REG_PSTATE, v & 0xffffffffu);
		emit(m, cpu, "pstate", 0, 4, old, v);
		return 0;
	}
	default:
		return hs_err(err, -EINVAL, "not a register");
	}
}

int hs_debug_set_sysreg(struct hs_machine *m, unsigned cpu, enum hs_sysreg r, uint64_t v,
			struct hs_error *err)
{
	if (check_cpu(m, cpu, err))
		return -EINVAL;
	const struct hs_sysreg_desc *d = hs_sysreg_desc(r);
	if (!d)
		return hs_err(err, -EINVAL, "unknown system register");
	struct hs_cpu *c = &m->cpus[cpu];
	uint64_t old = hs_cpu_sr(c, r);
	/* Subscribers that cache a regime hear of it before the write, as for an MSR. */
	struct hs_event ev = {.type = HS_EV_SYSREG_WRITE,
			      .cpu = cpu,
			      .icount = hs_machine_icount(m),
			      .sysreg = {.reg = (int)r,
					 .name = d->name,
					 .value = v,
					 .old = old,
					 .pc = hs_cpu_reg(c, UC_ARM64_REG_PC)}};
	hs_emit(m, &ev);
	hs_cpu_set_sr(c, r, v);
	emit(m, cpu, d->name, 0, 8, old, v);
	return 0;
}
