/* SPDX-License-Identifier: MIT */
/*
 * World switch to a guest and back. __guest_enter(regs, save) saves the
 * hypervisor's callee-saved registers and SP in `save`, marks this CPU as
 * running `regs` and ERETs into the guest (ELR_EL2/SPSR_EL2 already set).
 * A trap from the guest lands in __host_trap, which sees guest_running and
 * branches to __guest_exit: the guest's registers go to `regs` and
 * __guest_enter returns 1 to its caller.
 */
#include <hypscope/abi.h>
#include <hyp/asm.h>

	.text
	.global __guest_enter
	.type __guest_enter, %function
__guest_enter:
	stp	x19, x20, [x1, #0]
	stp	x21, x22, [x1, #16]
	stp	x23, x24, [x1, #32]
	stp	x25, x26, [x1, #48]
	stp	x27, x28, [x1, #64]
	stp	x29, x30, [x1, #80]
	mov	x2, sp
	str	x2, [x1, #96]
	adr_this_cpu x2, guest_save, x3
	str	x1, [x2]
	adr_this_cpu x2, guest_running, x3
	str	x0, [x2]
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
	.size __guest_enter, . - __guest_enter

/* From __host_trap: x0 = the guest's register block; the guest's x0/x1 are on the stack. */
	.global __guest_exit
__guest_exit:
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
	adr_this_cpu x1, guest_running, x2
	str	xzr, [x1]
	adr_this_cpu x1, guest_save, x2
	ldr	x1, [x1]
	ldp	x19, x20, [x1, #0]
	ldp	x21, x22, [x1, #16]
	ldp	x23, x24, [x1, #32]
	ldp	x25, x26, [x1, #48]
	ldp	x27, x28, [x1, #64]
	ldp	x29, x30, [x1, #80]
	ldr	x2, [x1, #96]
	mov	sp, x2
	mov	x0, #1
	ret
