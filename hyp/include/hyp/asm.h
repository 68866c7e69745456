/* SPDX-License-Identifier: MIT */
/* Assembly helpers. */
#ifndef HYP_ASM_H
#define HYP_ASM_H

/* SCTLR_EL2: RES1 bits plus the ones we set when the MMU goes on. */
#define SCTLR_EL2_RES1 ((3 << 28) | (3 << 22) | (1 << 18) | (1 << 16) | (1 << 11) | (3 << 4))
#define SCTLR_ELx_M (1 << 0)
#define SCTLR_ELx_A (1 << 1)
#define SCTLR_ELx_C (1 << 2)
#define SCTLR_ELx_SA (1 << 3)
#define SCTLR_ELx_I (1 << 12)
#define SCTLR_ELx_WXN (1 << 19)
#define SCTLR_EL2_MMU_ON \
	(SCTLR_EL2_RES1 | SCTLR_ELx_M | SCTLR_ELx_C | SCTLR_ELx_SA | SCTLR_ELx_I | SCTLR_ELx_WXN)
#define SCTLR_EL2_MMU_OFF SCTLR_EL2_RES1

#define HCR_RW (1 << 31)

/* Size of struct hyp_cpu_ctxt: x0..x30. */
#define HYP_CTXT_SIZE (31 * 8)

#ifdef __ASSEMBLER__
/* Load a 64-bit constant without a literal pool (works with the MMU off). */
.macro mov_q reg, val
	movz	\reg, #:abs_g3:\val
	movk	\reg, #:abs_g2_nc:\val
	movk	\reg, #:abs_g1_nc:\val
	movk	\reg, #:abs_g0_nc:\val
.endm

/* One 128-byte vector slot branching to \label. */
.macro ventry label
	.align 7
	b	\label
.endm

/* dst = this CPU's copy of per-CPU symbol \sym. */
.macro adr_this_cpu dst, sym, tmp
	adrp	\dst, \sym
	add	\dst, \dst, :lo12:\sym
	mrs	\tmp, tpidr_el2
	add	\dst, \dst, \tmp
.endm
#endif

#endif
