/* SPDX-License-Identifier: MIT */
/*
 * The idmap page: the only hypervisor code that runs with the MMU off or
 * through the identity mapping. It holds the init vectors (__kvm_hyp_init)
 * and the trampoline that switches page tables (__pkvm_init_switch_pgd).
 * Both the host's boot table and the hypervisor's own table map this page at
 * the same VA (its PA), which is what makes the switch and CPU hotplug safe.
 */
#include <hypscope/abi.h>
#include <hyp/asm.h>

	.section .hyp.idmap.text, "ax"
	.align 11
	.global __kvm_hyp_init
__kvm_hyp_init:
	ventry	init_bad		/* current EL, SP0 */
	ventry	init_bad
	ventry	init_bad
	ventry	init_bad
	ventry	init_bad		/* current EL, SPx */
	ventry	init_bad
	ventry	init_bad
	ventry	init_bad
	ventry	__do_hyp_init		/* lower EL, AArch64 sync: the init HVC */
	ventry	init_bad
	ventry	init_bad
	ventry	init_bad
	ventry	init_bad		/* lower EL, AArch32 */
	ventry	init_bad
	ventry	init_bad
	ventry	init_bad

	.align 7
/*
 * Program EL2 from the init params at x1 (a PA: the MMU is off) and turn the
 * MMU on; leaves the stack top (HYP VA) in x3. Shared by the init HVC and by
 * CPUs that PSCI powers on later.
 */
.macro init_el2_from_params
	ldr	x2, [x1, #HS_PARAMS_MAIR]
	msr	mair_el2, x2
	ldr	x2, [x1, #HS_PARAMS_HCR]
	msr	hcr_el2, x2
	ldr	x2, [x1, #HS_PARAMS_VTTBR]
	msr	vttbr_el2, x2
	ldr	x2, [x1, #HS_PARAMS_VTCR]
	msr	vtcr_el2, x2
	ldr	x2, [x1, #HS_PARAMS_TPIDR]
	msr	tpidr_el2, x2
	ldr	x2, [x1, #HS_PARAMS_PGD_PA]
	msr	ttbr0_el2, x2
	ldr	x2, [x1, #HS_PARAMS_TCR]
	msr	tcr_el2, x2
	/* The params are only reachable with the MMU off: take the stack now. */
	ldr	x3, [x1, #HS_PARAMS_STACK_HYP_VA]
	isb
	/* Nothing the firmware or a previous life cached may survive. */
	tlbi	alle2
	tlbi	alle1
	dsb	sy
	isb
	mov_q	x2, SCTLR_EL2_MMU_ON
	msr	sctlr_el2, x2
	isb
	/* Now running through the identity mapping of this page. */
	mov	sp, x3
	ldr	x2, =__kvm_hyp_host_vector	/* a HYP VA: patched by the host */
	msr	vbar_el2, x2
	isb
.endm

/* x0 = HS_HC_FN(__kvm_hyp_init), x1 = PA of this CPU's struct hs_init_params */
__do_hyp_init:
	mov_q	x2, HS_HC_FN(1)
	cmp	x0, x2
	b.ne	init_not_supported
	init_el2_from_params
	mov	x0, #HS_SMCCC_SUCCESS
	mov	x1, #0
	eret

/*
 * Entry of a CPU powered on through PSCI CPU_ON (relayed by the hypervisor):
 * EL2, MMU off, x0 = PA of its init params, which already point at the
 * hypervisor's own table (seed 001: the boot mapping is kept for this).
 */
	.global kvm_hyp_cpu_entry
	.type kvm_hyp_cpu_entry, %function
kvm_hyp_cpu_entry:
	mov	x1, x0
	init_el2_from_params
	mov	x29, #0
	ldr	x2, =kvm_host_psci_cpu_entry
	br	x2
	.size kvm_hyp_cpu_entry, . - kvm_hyp_cpu_entry

init_not_supported:
	mov	x0, #HS_SMCCC_NOT_SUPPORTED
	eret

init_bad:
	brk	#0x1b

/*
 * void __pkvm_init_switch_pgd(phys_addr_t pgd, unsigned long sp, void (*fn)(void))
 * Called at its idmap address. Turn the MMU off, install the new table, flush
 * the TLB, turn the MMU back on and continue at fn (a HYP VA) on the new stack.
 */
	.global __pkvm_init_switch_pgd
	.type __pkvm_init_switch_pgd, %function
__pkvm_init_switch_pgd:
	mrs	x3, sctlr_el2
	bic	x4, x3, #SCTLR_ELx_M
	msr	sctlr_el2, x4
	isb
	tlbi	alle2
	dsb	ish
	msr	ttbr0_el2, x0
	isb
	msr	sctlr_el2, x3
	isb
	mov	sp, x1
	mov	x29, #0
	br	x2
	.size __pkvm_init_switch_pgd, . - __pkvm_init_switch_pgd

	.ltorg
