/* SPDX-License-Identifier: MIT */
/* The system registers the emulator names, reads, writes and watches. */
#ifndef HS_SYSREGS_H
#define HS_SYSREGS_H

#include <stdbool.h>
#include <stdint.h>

/* X(ID, name, op0, op1, crn, crm, op2, flags) */
#define HS_SYSREG_WATCHED 1 /* a write produces a sysreg-write event */
#define HS_SYSREG_LIST(X)                                           \
	X(SCTLR_EL2, "SCTLR_EL2", 3, 4, 1, 0, 0, HS_SYSREG_WATCHED) \
	X(HCR_EL2, "HCR_EL2", 3, 4, 1, 1, 0, HS_SYSREG_WATCHED)     \
	X(MDCR_EL2, "MDCR_EL2", 3, 4, 1, 1, 1, 0)                   \
	X(CPTR_EL2, "CPTR_EL2", 3, 4, 1, 1, 2, 0)                   \
	X(TTBR0_EL2, "TTBR0_EL2", 3, 4, 2, 0, 0, HS_SYSREG_WATCHED) \
	X(TCR_EL2, "TCR_EL2", 3, 4, 2, 0, 2, HS_SYSREG_WATCHED)     \
	X(VTTBR_EL2, "VTTBR_EL2", 3, 4, 2, 1, 0, HS_SYSREG_WATCHED) \
	X(VTCR_EL2, "VTCR_EL2", 3, 4, 2, 1, 2, HS_SYSREG_WATCHED)   \
	X(SPSR_EL2, "SPSR_EL2", 3, 4, 4, 0, 0, 0)                   \
	X(ELR_EL2, "ELR_EL2", 3, 4, 4, 0, 1, 0)                     \
	X(SP_EL1, "SP_EL1", 3, 4, 4, 1, 0, 0)                       \
	X(ESR_EL2, "ESR_EL2", 3, 4, 5, 2, 0, 0)                     \
	X(FAR_EL2, "FAR_EL2", 3, 4, 6, 0, 0, 0)                     \
	X(HPFAR_EL2, "HPFAR_EL2", 3, 4, 6, 0, 4, 0)                 \
	X(MAIR_EL2, "MAIR_EL2", 3, 4, 10, 2, 0, HS_SYSREG_WATCHED)  \
	X(VBAR_EL2, "VBAR_EL2", 3, 4, 12, 0, 0, HS_SYSREG_WATCHED)  \
	X(TPIDR_EL2, "TPIDR_EL2", 3, 4, 13, 0, 2, 0)                \
	X(CNTHCTL_EL2, "CNTHCTL_EL2", 3, 4, 14, 1, 0, 0)            \
	X(CNTVOFF_EL2, "CNTVOFF_EL2", 3, 4, 14, 0, 3, 0)            \
	X(VMPIDR_EL2, "VMPIDR_EL2", 3, 4, 0, 0, 5, 0)               \
	X(SCR_EL3, "SCR_EL3", 3, 6, 1, 1, 0, 0)                     \
	X(SPSR_EL3, "SPSR_EL3", 3, 6, 4, 0, 0, 0)                   \
	X(ELR_EL3, "ELR_EL3", 3, 6, 4, 0, 1, 0)                     \
	X(SCTLR_EL1, "SCTLR_EL1", 3, 0, 1, 0, 0, 0)                 \
	X(TTBR0_EL1, "TTBR0_EL1", 3, 0, 2, 0, 0, 0)                 \
	X(TTBR1_EL1, "TTBR1_EL1", 3, 0, 2, 0, 1, 0)                 \
	X(TCR_EL1, "TCR_EL1", 3, 0, 2, 0, 2, 0)                     \
	X(SPSR_EL1, "SPSR_EL1", 3, 0, 4, 0, 0, 0)                   \
	X(ELR_EL1, "ELR_EL1", 3, 0, 4, 0, 1, 0)                     \
	X(SP_EL0, "SP_EL0", 3, 0, 4, 1, 0, 0)                       \
	X(ESR_EL1, "ESR_EL1", 3, 0, 5, 2, 0, 0)                     \
	X(FAR_EL1, "FAR_EL1", 3, 0, 6, 0, 0, 0)                     \
	X(MAIR_EL1, "MAIR_EL1", 3, 0, 10, 2, 0, 0)                  \
	X(VBAR_EL1, "VBAR_EL1", 3, 0, 12, 0, 0, 0)                  \
	X(TPIDR_EL1, "TPIDR_EL1", 3, 0, 13, 0, 4, 0)                \
	X(MPIDR_EL1, "MPIDR_EL1", 3, 0, 0, 0, 5, 0)                 \
	X(ID_AA64MMFR0_EL1, "ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0, 0)   \
	X(CNTFRQ_EL0, "CNTFRQ_EL0", 3, 3, 14, 0, 0, 0)              \
	X(CNTPCT_EL0, "CNTPCT_EL0", 3, 3, 14, 0, 1, 0)              \
	X(CNTVCT_EL0, "CNTVCT_EL0", 3, 3, 14, 0, 2, 0)

#define HS_SYSREG_ENUM(id, name, op0, op1, crn, crm, op2, flags) HS_SR_##id,
enum hs_sysreg { HS_SYSREG_LIST(HS_SYSREG_ENUM) HS_SR_COUNT };

struct hs_sysreg_desc {
	const char *name;
	uint8_t op0, op1, crn, crm, op2;
	unsigned flags;
};

const struct hs_sysreg_desc *hs_sysreg_desc(enum hs_sysreg r);
/* Look a register up by name (case-insensitive); -1 when unknown. */
int hs_sysreg_by_name(const char *name);
/* Look a register up by encoding; -1 when not in the table. */
int hs_sysreg_by_encoding(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2);

#endif
