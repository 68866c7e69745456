/* SPDX-License-Identifier: MIT */
/*
 * The host trap handler: hypercalls (SMCCC, x0 = function id, arguments in
 * x1.., status in x0, result in x1), stage-2 aborts and trapped SMCs.
 */
#include <hyp/hyp.h>

DEFINE_PER_CPU(struct hyp_cpu_ctxt, host_ctxt);

#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_EC_HVC64 0x16
#define ESR_EC_SMC64 0x17
#define ESR_EC_IABT_LOW 0x20
#define ESR_EC_DABT_LOW 0x24

static int hcall_phase(unsigned nr)
{
#define HS_HC_PHASE_ENTRY(num, name, nargs, phase) [num] = phase,
	static const u8 phases[HS_HC_COUNT] = {HS_HYPERCALLS(HS_HC_PHASE_ENTRY)};
	return nr < HS_HC_COUNT ? phases[nr] : 0;
}

static int do_prot_finalize(void)
{
	struct hs_init_params *params = this_cpu_ptr(&kvm_init_params);
	params->vttbr = host_vttbr;
	params->vtcr = host_vtcr;
	params->hcr_el2 |= 1; /* HCR_EL2.VM: stage 2 on for the host */
	write_sysreg(params->vtcr, vtcr_el2);
	write_sysreg(params->vttbr, vttbr_el2);
	write_sysreg(params->hcr_el2, hcr_el2);
	isb();
	/* Nothing cached under the old regime may survive. */
	asm volatile("tlbi vmalls12e1" ::: "memory");
	dsb(ish);
	isb();
	hyp_protected = true;
	hyp_printf("hyp: cpu%lu: protection finalised: host stage 2 on, VTTBR %#lx\n",
		   read_sysreg(mpidr_el1) & 0xff, params->vttbr);
	return 0;
}

/* Continuation after a CPU moved onto the hypervisor's table: fresh stack. */
static void prot_finalize_switched(void)
{
	struct hyp_cpu_ctxt *ctxt = this_cpu_ptr(&host_ctxt);
	int ret = do_prot_finalize();
	ctxt->regs[0] = HS_SMCCC_SUCCESS;
	ctxt->regs[1] = (u64)(s64)ret;
	__host_enter(ctxt);
}

static int handle_prot_finalize(void)
{
	struct hs_init_params *params = this_cpu_ptr(&kvm_init_params);
	if (params->hcr_el2 & 1)
		return -HS_EPERM; /* already done on this CPU */
	if (!host_vttbr)
		return -HS_EPERM; /* __pkvm_init has not prepared the host stage 2 */
	if ((read_sysreg(ttbr0_el2) & PTE_OA_MASK) != params->pgd_pa) {
		/*
		 * A CPU other than the one that ran __pkvm_init is still on the
		 * host's throw-away table: move it through the trampoline before
		 * the host frees that table.
		 */
		void (*fn)(u64, u64, void (*)(void)) =
		    (void *)(uintptr_t)hyp_virt_to_phys((void *)__pkvm_init_switch_pgd);
		hyp_printf("hyp: cpu%lu: switching to the hypervisor's own stage 1\n",
			   read_sysreg(mpidr_el1) & 0xff);
		fn(params->pgd_pa, params->stack_hyp_va, prot_finalize_switched);
	}
	return do_prot_finalize();
}

static s64 dispatch(unsigned nr, const u64 *a)
{
	switch (nr) {
	case HS_HC_nop:
		return 0;
	case HS_HC___pkvm_init:
		return __pkvm_init(a[0], a[1], a[2], a[3], a[4]);
	case HS_HC___pkvm_create_private_mapping: {
		u64 haddr;
		int ret = __pkvm_create_private_mapping(a[0], a[1], (unsigned)a[2], &haddr);
		return ret ? ret : (s64)haddr;
	}
	case HS_HC___pkvm_prot_finalize:
		return handle_prot_finalize();
	case HS_HC___kvm_flush_vm_context:
		asm volatile("tlbi alle1is" ::: "memory");
		dsb(ish);
		return 0;
	case HS_HC_init_vm:
		return __pkvm_init_vm(a[0], a[1], a[2]);
	case HS_HC_init_vcpu:
		return __pkvm_init_vcpu(a[0], a[1], a[2]);
	case HS_HC_vcpu_load:
		return __pkvm_vcpu_load(a[0], a[1]);
	case HS_HC_vcpu_put:
		return __pkvm_vcpu_put();
	case HS_HC_teardown_vm:
		return __pkvm_teardown_vm(a[0]);
	case HS_HC_start_teardown_vm:
		return __pkvm_start_teardown_vm(a[0]);
	case HS_HC_reclaim_page:
		return __pkvm_reclaim_page(a[0], a[1]);
	case HS_HC_host_share_guest:
		return __pkvm_host_share_guest(a[0], a[1], a[2], a[3]);
	case HS_HC_host_unshare_guest:
		return __pkvm_host_unshare_guest(a[0], a[1], a[2]);
	case HS_HC_host_relax_perms_guest:
		return __pkvm_host_relax_perms_guest(a[0], a[1]);
	case HS_HC_host_wrprotect_guest:
		return __pkvm_host_wrprotect_guest(a[0], a[1], a[2]);
	case HS_HC_host_test_clear_young_guest:
		return __pkvm_host_test_clear_young_guest(a[0], a[1], a[2], a[3]);
	case HS_HC_host_mkyoung_guest:
		return __pkvm_host_mkyoung_guest(a[0]);
	case HS_HC_host_donate_guest:
		return __pkvm_host_donate_guest(a[0], a[1]);
	case HS_HC_host_share_hyp:
		return __pkvm_host_share_hyp(a[0]);
	case HS_HC_host_unshare_hyp:
		return __pkvm_host_unshare_hyp(a[0]);
	case HS_HC_hyp_pin_shared:
		return __pkvm_hyp_pin_shared(a[0]);
	case HS_HC_hyp_unpin_shared:
		return __pkvm_hyp_unpin_shared(a[0]);
	case HS_HC_host_donate_hyp:
		return __pkvm_debug_host_donate_hyp(a[0], a[1]);
	case HS_HC_hyp_donate_host:
		return __pkvm_debug_hyp_donate_host(a[0], a[1]);
	default:
		return -HS_ENOTSUPP;
	}
}

static void handle_host_hcall(struct hyp_cpu_ctxt *ctxt)
{
	u64 fn = ctxt->regs[0];
	unsigned nr = (unsigned)(fn - HS_HC_FN_BASE);
	int phase = fn >= HS_HC_FN_BASE ? hcall_phase(nr) : 0;
	/* Early calls close when protection is finalised; late ones open then. */
	if (!phase || nr == HS_HC___kvm_hyp_init || (phase == HS_HC_EARLY && hyp_protected) ||
	    (phase == HS_HC_LATE && !hyp_protected)) {
		ctxt->regs[0] = (u64)(s64)HS_SMCCC_NOT_SUPPORTED;
		return;
	}
	ctxt->regs[0] = HS_SMCCC_SUCCESS;
	if (nr == HS_HC_vcpu_run) {
		/* Results in x1 (exit reason), x2 and x3. */
		__pkvm_vcpu_run(ctxt);
		return;
	}
	s64 ret = dispatch(nr, &ctxt->regs[1]);
	ctxt->regs[1] = (u64)ret;
}

static void handle_host_smc(struct hyp_cpu_ctxt *ctxt)
{
	/* PSCI is relayed; anything else is not a service this machine offers. */
	if (!handle_host_psci(ctxt))
		ctxt->regs[0] = (u64)(s64)HS_SMCCC_NOT_SUPPORTED;
	/* A trapped SMC returns to itself: skip it. */
	write_sysreg(read_sysreg(elr_el2) + 4, elr_el2);
}

void handle_host_trap(struct hyp_cpu_ctxt *ctxt);
void handle_host_trap(struct hyp_cpu_ctxt *ctxt)
{
	u64 esr = read_sysreg(esr_el2);
	switch (ESR_EC(esr)) {
	case ESR_EC_HVC64:
		handle_host_hcall(ctxt);
		break;
	case ESR_EC_SMC64:
		handle_host_smc(ctxt);
		break;
	case ESR_EC_IABT_LOW:
	case ESR_EC_DABT_LOW:
		handle_host_mem_abort(ctxt);
		break;
	default:
		hyp_panic("unexpected trap from the host");
	}
}
