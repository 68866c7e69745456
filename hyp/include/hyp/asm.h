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

/*
 * After a trap from a lower EL whose vector pushed x0/x1 on the stack and
 * pointed x0 at a struct hyp_cpu_ctxt: store x0..x30 there. Clobbers x2, x3.
 */
.macro save_lower_el_regs
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	stp	x20, x21, [x0, #160]
	stp	x22, x23, [x0, #176]
	stp	x24, x25, [x0, #192]
	stp	x26, x27, [x0, #208]
	stp	x28, x29, [x0, #224]
	str	x30, [x0, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0, #0]
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
