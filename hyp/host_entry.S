/* SPDX-License-Identifier: MIT */
/*
 * Runtime vectors: the host traps (HVC, stage-2 aborts, trapped SMC) land in
 * __host_trap, which saves the host's x0..x30 in this CPU's host context and
 * calls handle_host_trap(ctxt). __host_enter(ctxt) loads x0..x30 from a
 * context and returns to the lower EL (the host's, or a guest's).
 */
#include <hypscope/abi.h>
#include <hyp/asm.h>

	/* Unwind information for debuggers only (never loaded). */
	.cfi_sections .debug_frame

	.section .hyp.vectors, "ax"
	.align 11
	.global __kvm_hyp_host_vector
__kvm_hyp_host_vector:
	ventry	hyp_bad_vector		/* current EL, SP0 */
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector		/* current EL, SPx: a hypervisor bug */
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector
	ventry	__host_trap		/* lower EL, AArch64 sync */
	ventry	__host_irq		/* lower EL, AArch64 IRQ (HCR_EL2.IMO: guests only) */
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector		/* lower EL, AArch32 */
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector
	ventry	hyp_bad_vector

	.text
	.align 3
__host_trap:
	/*
	 * The outermost EL2 frame: the host's x30 is not a return address.
	 * Saying so stops gdb's backtrace here (frames above are prologues).
	 */
	.cfi_startproc
	.cfi_undefined x30
	stp	x0, x1, [sp, #-16]!
	/* A trap while a guest runs is a guest exit, not a host call. */
	adr_this_cpu x0, guest_running, x1
	ldr	x0, [x0]
	cbnz	x0, __guest_exit
	adr_this_cpu x0, host_ctxt, x1
	save_lower_el_regs
	mov	x29, #0			/* end of the EL2 frame-record chain */
	mov	x19, x0
	bl	handle_host_trap
	mov	x0, x19
	b	__host_enter
	.cfi_endproc

	.global __host_enter
	.type __host_enter, %function
__host_enter:
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0, #0]
	eret
	.size __host_enter, . - __host_enter

/* An interrupt ends a guest's run (a guest exit); the host never routes one here. */
__host_irq:
	stp	x0, x1, [sp, #-16]!
	adr_this_cpu x0, guest_running, x1
	ldr	x0, [x0]
	cbnz	x0, __guest_exit_irq
	ldp	x0, x1, [sp], #16
	eret

hyp_bad_vector:
	brk	#0x800
