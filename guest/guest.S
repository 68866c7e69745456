/* SPDX-License-Identifier: MIT */
/*
 * The bundled guest: a few instructions at EL1 with its MMU off, so every
 * access goes through nothing but the VM's stage 2. Each vcpu_run hands it
 * an operation in x0 (HS_VCPU_OP_*), an IPA in x1 and a value in x2; it
 * performs it with a real load or store and reports back with `hvc #0`,
 * x0 = HS_GUEST_DONE_*, x2 = the value read. A stage-2 fault exits to the
 * hypervisor at the access; the next run retries it.
 */
#include <hypscope/abi.h>

	.section .text, "ax"
	.global _guest_start
_guest_start:
	cmp	x0, #HS_VCPU_OP_READ
	b.eq	1f
	cmp	x0, #HS_VCPU_OP_WRITE
	b.eq	2f
	cmp	x0, #HS_VCPU_OP_EXEC
	b.eq	3f
	mov	x0, #HS_GUEST_DONE_IDLE
	hvc	#0
	b	_guest_start
1:	ldr	x2, [x1]
	mov	x0, #HS_GUEST_DONE_READ
	hvc	#0
	b	_guest_start
2:	str	x2, [x1]
	mov	x0, #HS_GUEST_DONE_WRITE
	hvc	#0
	b	_guest_start
3:	blr	x1
	mov	x0, #HS_GUEST_DONE_EXEC
	hvc	#0
	b	_guest_start
