/* SPDX-License-Identifier: MIT */
/*
 * What Linux's host kernel provides to its nVHE hypervisor object, written for hypscope
 * (not taken from Linux): the object leaves these symbols undefined because vmlinux owns
 * them (arch/arm64/kernel/image-vars.h aliases them into the hypervisor's namespace).
 *
 * - _start: the kernel's EL2 entry (el2_setup's part that matters here): install the hyp
 *   stub at EL2, give EL1 the counters, drop to the host at EL1 (x0 = host entry).
 * - __hyp_stub_vectors: the hyp stub (arch/arm64/kernel/hyp-stub.S's protocol, numbers
 *   from asm/virt.h): HVC_SET_VECTORS (0) sets VBAR_EL2 = x1, HVC_RESET_VECTORS (2) puts
 *   the stub back, anything else returns HVC_STUB_ERR.
 * - nvhe_hyp_panic_handler: where hyp_panic ERETs to at EL1 (handle_exit.c). The host
 *   model stops a CPU arriving there and reports the panic from x0..x7 (esr, spsr,
 *   elr_virt, elr_phys, par, vcpu, far, hpfar: emu/host/linux_panic.c); it never returns.
 * - The static keys the host owns (struct static_key: atomic_t enabled at +0, the entries
 *   or type word at +8): kvm_protected_mode_initialized, kvm_arm_pmu_available,
 *   vgic_v2_cpuif_trap, vgic_v3_cpuif_trap, vgic_v3_has_v2_compat (7.x),
 *   broken_cntvoff_key (7.x). All start disabled, as their DEFINE_STATIC_KEY_FALSE; the
 *   host model writes `enabled` and patches the jump labels from it.
 * - kvm_vgic_global_state: struct vgic_global, ro_after_init in the kernel; one page of
 *   zeros (no GIC in the machine), page-aligned because __pkvm_init maps its page.
 * - The alternative callbacks (kvm_update_va_mask, ...): Linux runs them on the host at
 *   patch time. They need addresses for the object's .altinstructions entries to point
 *   at; hypscope recognises each by name and generates what Linux's callback would
 *   (emu/host/linux_patch.c). Their bodies are a brk that nothing executes.
 */

	.section .head.text, "ax"
	.global _start
_start:
	/* x0 = host entry point, x1 = CPU index; EL2, MMU off (as firmware leaves it). */
	adr	x2, __hyp_stub_vectors
	msr	vbar_el2, x2
	mov	x2, #(1 << 31)		/* HCR_EL2.RW: EL1 is AArch64 */
	msr	hcr_el2, x2
	mov	x2, #0x0830		/* SCTLR_EL2 RES1 bits, MMU and caches off */
	movk	x2, #0x30c5, lsl #16
	msr	sctlr_el2, x2
	mov	x2, #3			/* CNTHCTL_EL2: EL1PCTEN | EL1PCEN */
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

	.balign 2048
	.global __hyp_stub_vectors
__hyp_stub_vectors:
	.rept 8				/* current EL with SP0 and SPx: a stub bug */
	.balign 128
	b	stub_bad
	.endr
	.balign 128
	b	stub_el1_sync		/* lower EL, AArch64, synchronous */
	.rept 7
	.balign 128
	b	stub_bad
	.endr
	.balign 128

stub_el1_sync:
	cmp	x0, #0			/* HVC_SET_VECTORS */
	b.ne	1f
	msr	vbar_el2, x1
	isb
	mov	x0, #0
	eret
1:	cmp	x0, #2			/* HVC_RESET_VECTORS */
	b.ne	2f
	adr	x1, __hyp_stub_vectors
	msr	vbar_el2, x1
	isb
	mov	x0, #0
	eret
2:	mov	x0, #0xca11		/* HVC_STUB_ERR = 0xbadca11 */
	movk	x0, #0xbad, lsl #16
	eret
stub_bad:
	brk	#0x5b

	.text
	.global nvhe_hyp_panic_handler
	.type nvhe_hyp_panic_handler, %function
nvhe_hyp_panic_handler:
	brk	#0x9a1			/* the host model stops here: a hyp panic */
	b	nvhe_hyp_panic_handler
	.size nvhe_hyp_panic_handler, . - nvhe_hyp_panic_handler

	.macro patch_callback name
	.global \name
	.type \name, %function
\name:
	brk	#0xa17			/* never run: hypscope applies it at patch time */
	.size \name, . - \name
	.endm
	patch_callback kvm_update_va_mask
	patch_callback kvm_get_kimage_voffset
	patch_callback kvm_compute_final_ctr_el0
	patch_callback kvm_patch_vector_branch
	patch_callback kvm_compute_ich_hcr_trap_bits
	patch_callback alt_cb_patch_nops
	patch_callback spectre_bhb_patch_clearbhb
	patch_callback spectre_bhb_patch_loop_iter
	patch_callback spectre_bhb_patch_loop_mitigation_enable
	patch_callback spectre_bhb_patch_wa3

	.data
	.macro static_key name
	.balign 8
	.global \name
	.type \name, %object
\name:
	.word 0				/* enabled */
	.word 0
	.quad 0				/* type / entries */
	.size \name, 16
	.endm
	static_key kvm_protected_mode_initialized
	static_key kvm_arm_pmu_available
	static_key vgic_v2_cpuif_trap
	static_key vgic_v3_cpuif_trap
	static_key vgic_v3_has_v2_compat
	static_key broken_cntvoff_key

	.section .rodata, "a"
	.balign 4096
	.global kvm_vgic_global_state
	.type kvm_vgic_global_state, %object
kvm_vgic_global_state:
	.skip 4096
	.size kvm_vgic_global_state, 4096

/*
 * Linux 6.1 only: the kernel owns kvm_arm_vmid_bits (vmid.c) and
 * kvm_arm_hyp_percpu_base[NR_CPUS] (arm.c) and the hypervisor reads them through
 * image-vars.h aliases; from 6.2 on the hypervisor object defines both itself. Weak, so
 * a newer object's own definitions win. In the kernel's BSS, which 6.1's
 * recreate_hyp_mappings maps read-only at EL2 (__hyp_bss_end .. __bss_stop).
 */
	.section .bss.hypscope_host, "aw", %nobits
	.balign 8
	.weak __kvm_nvhe_kvm_arm_hyp_percpu_base
	.type __kvm_nvhe_kvm_arm_hyp_percpu_base, %object
__kvm_nvhe_kvm_arm_hyp_percpu_base:
	.skip 8 * 256			/* NR_CPUS of arm64 defconfig */
	.size __kvm_nvhe_kvm_arm_hyp_percpu_base, 8 * 256
	.weak __kvm_nvhe_kvm_arm_vmid_bits
	.type __kvm_nvhe_kvm_arm_vmid_bits, %object
__kvm_nvhe_kvm_arm_vmid_bits:
	.skip 4
	.size __kvm_nvhe_kvm_arm_vmid_bits, 4
