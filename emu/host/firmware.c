/* SPDX-License-Identifier: MIT */
/*
 * The emulated EL3 firmware: PSCI for the hypervisor's SMCs. CPU_ON only
 * marks the target CPU pending; the run loop powers it on once the current
 * host operation has finished, so runs stay deterministic.
 */
#include <hypscope/abi.h>

#include "firmware.h"
#include "host.h"
#include "machine_priv.h"

static int mpidr_to_cpu(struct hs_machine *m, uint64_t mpidr)
{
	if (mpidr & ~0xffULL & ~(1ULL << 31))
		return -1;
	return (mpidr & 0xff) < m->nr_cpus ? (int)(mpidr & 0xff) : -1;
}

void hs_firmware_smc(struct hs_cpu *c)
{
	struct hs_machine *m = c->m;
	uint64_t fn = hs_cpu_reg(c, UC_ARM64_REG_X0);
	uint64_t a1 = hs_cpu_reg(c, UC_ARM64_REG_X1);
	int64_t ret = HS_PSCI_RET_NOT_SUPPORTED;
	switch (fn) {
	case HS_PSCI_VERSION:
		ret = 0x10000; /* PSCI 1.0 */
		break;
	case HS_PSCI_CPU_ON: {
		int t = mpidr_to_cpu(m, a1);
		if (t < 0) {
			ret = HS_PSCI_RET_INVALID_PARAMS;
		} else if (m->cpus[t].online) {
			ret = HS_PSCI_RET_ALREADY_ON;
		} else if (m->cpus[t].power_on_pending) {
			ret = HS_PSCI_RET_ON_PENDING;
		} else {
			m->cpus[t].power_on_pending = true;
			m->cpus[t].power_on_entry = hs_cpu_reg(c, UC_ARM64_REG_X2);
			m->cpus[t].power_on_ctx = hs_cpu_reg(c, UC_ARM64_REG_X3);
			ret = HS_PSCI_RET_SUCCESS;
		}
		break;
	}
	case HS_PSCI_CPU_OFF:
		/* The CPU stops here; the operation that was running on it ends. */
		c->online = false;
		c->powered_off = true;
		c->stop = HS_STOP_DONE;
		uc_emu_stop(c->uc);
		ret = HS_PSCI_RET_SUCCESS;
		break;
	case HS_PSCI_AFFINITY_INFO: {
		int t = mpidr_to_cpu(m, a1);
		if (t < 0)
			ret = HS_PSCI_RET_INVALID_PARAMS;
		else
			ret = m->cpus[t].online		    ? HS_PSCI_AFFINITY_ON
			      : m->cpus[t].power_on_pending ? HS_PSCI_AFFINITY_ON_PENDING
							    : HS_PSCI_AFFINITY_OFF;
		break;
	}
	case HS_PSCI_SYSTEM_OFF:
		for (unsigned i = 0; i < m->nr_cpus; i++)
			m->cpus[i].online = false;
		c->powered_off = true;
		c->stop = HS_STOP_DONE;
		uc_emu_stop(c->uc);
		ret = HS_PSCI_RET_SUCCESS;
		break;
	default:
		break;
	}
	hs_cpu_set_reg(c, UC_ARM64_REG_X0, (uint64_t)ret);
}

/* Reset a CPU the firmware powers on and enter `entry` at EL2 with the MMU off. */
void hs_firmware_power_on(struct hs_cpu *c)
{
	c->power_on_pending = false;
	c->powered_off = false;
	hs_cpu_set_sr(c, HS_SR_SCTLR_EL2, 0x30c50830); /* RES1, MMU off */
	hs_cpu_set_sr(c, HS_SR_HCR_EL2, 1ULL << 31);
	hs_quirk_tlbi_all(c->uc);
	hs_cpu_set_reg(c, UC_ARM64_REG_X0, c->power_on_ctx);
	hs_cpu_enter_el2(c, c->power_on_entry, 0x3c9);
}
