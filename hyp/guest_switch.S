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
	b	__host_enter		/* x0: the guest's registers */
	.size __guest_enter, . - __guest_enter

/*
 * From __host_trap (a trap: __guest_enter returns 1) or __host_irq (an
 * interrupt: returns 2): x0 = the guest's register block; the guest's x0/x1
 * are on the stack.
 */
.macro guest_exit why
	save_lower_el_regs
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
	mov	x0, #\why
	ret
.endm

	.global __guest_exit
__guest_exit:
	guest_exit 1

	.global __guest_exit_irq
__guest_exit_irq:
	guest_exit 2
