/* SPDX-License-Identifier: MIT */
/*
 * The emulated EL3 firmware (PSCI), part of the software around the
 * hypervisor: the host model hands it the SMCs the machine reports.
 */
#ifndef HS_FIRMWARE_H
#define HS_FIRMWARE_H

struct hs_cpu;

/* An SMC that reached EL3 on CPU c: PSCI VERSION, CPU_ON, CPU_OFF, AFFINITY_INFO, SYSTEM_OFF. */
void hs_firmware_smc(struct hs_cpu *c);
/* Power on a CPU that CPU_ON accepted: it enters the hypervisor's entry point at EL2. */
void hs_firmware_power_on(struct hs_cpu *c);

#endif
