/* SPDX-License-Identifier: MIT */
/*
 * The QEMU anchor for bench/bench_hvc: the same null hypercall as hypscope's
 * host EL1 loop (hvc #0 from EL1, straight back with eret), bare metal under
 * qemu-system-aarch64 -M virt,virtualization=on (entered at EL2, MMUs off).
 * The loop count is a 64-bit word QEMU's generic loader puts at COUNT_PA;
 * afterwards EL2 powers the machine off through PSCI (SMC, QEMU's firmware).
 */
#define COUNT_PA 0x40100000
#define PSCI_SYSTEM_OFF 0x84000008

	.section .text, "ax"
	.global _start
_start:
	adr	x0, el2_vectors
	msr	vbar_el2, x0
	mov	x0, #(1 << 31)		/* HCR_EL2.RW: EL1 is AArch64 */
	msr	hcr_el2, x0
	mov	x0, #0x3c5		/* EL1h, DAIF masked */
	msr	spsr_el2, x0
	adr	x0, el1_loop
	msr	elr_el2, x0
	isb
	eret

el1_loop:
	ldr	x1, =COUNT_PA
	ldr	x19, [x1]
	cbz	x19, 2f
1:	hvc	#0
	subs	x19, x19, #1
	b.ne	1b
2:	hvc	#1			/* done: ask EL2 to power off */
	b	.

	.balign	0x800
el2_vectors:
	.balign	0x80
	b	.			/* current EL, SP0 */
	.balign	0x200
	b	.			/* current EL, SPx: an EL2 fault hangs, visibly */
	.balign	0x400
	.org	el2_vectors + 0x400	/* lower EL, AArch64, synchronous */
	mrs	x9, esr_el2
	and	x9, x9, #0xffff
	cbnz	x9, power_off
	eret
power_off:
	ldr	x0, =PSCI_SYSTEM_OFF
	smc	#0
	b	.
	.ltorg
