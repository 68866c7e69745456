/* SPDX-License-Identifier: MIT */
/*
 * Entry from firmware at EL2 with the MMU off, like a kernel booted at EL2:
 * install the hyp stub (which only knows how to change VBAR_EL2) and drop to
 * the host at EL1. The host later points VBAR_EL2 at the idmap init vectors
 * through the stub and issues __kvm_hyp_init.
 */
#include <hypscope/abi.h>
#include <hyp/asm.h>

	.section .head.text, "ax"
	.global _start
_start:
	/* x0 = host entry point, x1 = CPU index */
	adr	x2, __hyp_stub_vectors
	msr	vbar_el2, x2
	mov_q	x2, HCR_RW
	msr	hcr_el2, x2
	mov_q	x2, SCTLR_EL2_MMU_OFF
	msr	sctlr_el2, x2
	mov	x2, #3			/* EL1 may read the counters */
	msr	cnthctl_el2, x2
	msr	cntvoff_el2, xzr
	mrs	x2, midr_el1
	msr	vpidr_el2, x2
	mrs	x2, mpidr_el1
	msr	vmpidr_el2, x2
	msr	vttbr_el2, xzr
	mov	x2, #0x3c5		/* EL1h, DAIF masked */
	msr	spsr_el2, x2
	msr	elr_el2, x0
	isb
	eret

	.align 11
	.global __hyp_stub_vectors
__hyp_stub_vectors:
	ventry	stub_bad		/* current EL, SP0 */
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_bad		/* current EL, SPx */
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_el1_sync		/* lower EL, AArch64 */
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_bad		/* lower EL, AArch32 */
	ventry	stub_bad
	ventry	stub_bad
	ventry	stub_bad

	.align 7
stub_el1_sync:
	cmp	x0, #HS_STUB_SET_VECTORS
	b.ne	1f
	msr	vbar_el2, x1
	isb
	mov	x0, #0
	eret
1:	cmp	x0, #HS_STUB_RESET_VECTORS
	b.ne	2f
	adr	x1, __hyp_stub_vectors
	msr	vbar_el2, x1
	isb
	mov	x0, #0
	eret
2:	mov_q	x0, HS_STUB_ERROR
	eret

stub_bad:
	brk	#0x5b
