/* SPDX-License-Identifier: MIT */
/*
 * PSCI relay: the host's PSCI SMCs trap to EL2 (HCR_EL2.TSC). Most calls are
 * forwarded to the firmware as they are; CPU_ON is redirected so the CPU
 * starts in the hypervisor (kvm_hyp_cpu_entry, in the idmap page), goes
 * through HYP init directly onto the hypervisor's own tables, and only then
 * enters the host at the entry point the host asked for (seed 001).
 */
#include <hyp/hyp.h>

struct psci_boot_args {
	u64 pc;
	u64 r0;
};

static DEFINE_PER_CPU(struct psci_boot_args, psci_boot_args);
extern char kvm_hyp_cpu_entry[];
void kvm_host_psci_cpu_entry(void) __attribute__((noreturn));

static u64 psci_forward(u64 fn, u64 a1, u64 a2, u64 a3)
{
	register u64 x0 asm("x0") = fn;
	register u64 x1 asm("x1") = a1;
	register u64 x2 asm("x2") = a2;
	register u64 x3 asm("x3") = a3;
	asm volatile("smc #0"
		     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
		     :
		     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
		       "x16", "x17", "memory");
	return x0;
}

/* The CPU index for an MPIDR, or -1 (only Aff0 is used on this machine). */
static int mpidr_to_cpu(u64 mpidr)
{
	if (mpidr & ~0xffUL & ~BIT(31))
		return -1;
	u64 idx = mpidr & 0xff;
	return idx < hyp_nr_cpus ? (int)idx : -1;
}

static s64 psci_cpu_on(u64 mpidr, u64 pc, u64 r0)
{
	int cpu = mpidr_to_cpu(mpidr);
	if (cpu < 0)
		return HS_PSCI_RET_INVALID_PARAMS;
	/* The host may only start a CPU in its own memory. */
	if (!addr_is_memory(pc) || (pc & 3))
		return HS_PSCI_RET_INVALID_ADDRESS;
	struct psci_boot_args *args = per_cpu_ptr(&psci_boot_args, cpu);
	args->pc = pc;
	args->r0 = r0;
	struct hs_init_params *params = per_cpu_ptr(&kvm_init_params, cpu);
	u64 entry = hyp_virt_to_phys(kvm_hyp_cpu_entry);
	return (s64)psci_forward(HS_PSCI_CPU_ON, mpidr, entry, hyp_virt_to_phys(params));
}

bool handle_host_psci(struct hyp_cpu_ctxt *ctxt)
{
	u64 fn = ctxt->regs[0];
	switch (fn) {
	case HS_PSCI_CPU_ON:
		ctxt->regs[0] = (u64)psci_cpu_on(ctxt->regs[1], ctxt->regs[2], ctxt->regs[3]);
		return true;
	case HS_PSCI_CPU_OFF:
		hyp_printf("hyp: cpu%lu: going offline\n", read_sysreg(mpidr_el1) & 0xff);
		ctxt->regs[0] = psci_forward(fn, 0, 0, 0); /* returns only on failure */
		return true;
	case HS_PSCI_VERSION:
	case HS_PSCI_AFFINITY_INFO:
	case HS_PSCI_SYSTEM_OFF:
		ctxt->regs[0] = psci_forward(fn, ctxt->regs[1], ctxt->regs[2], ctxt->regs[3]);
		return true;
	default:
		return false;
	}
}

/* A CPU PSCI powered on, past HYP init (MMU on, runtime vectors, stack). */
void kvm_host_psci_cpu_entry(void)
{
	struct psci_boot_args *args = this_cpu_ptr(&psci_boot_args);
	struct hyp_cpu_ctxt *ctxt = this_cpu_ptr(&host_ctxt);
	for (unsigned i = 0; i < 31; i++)
		ctxt->regs[i] = 0;
	ctxt->regs[0] = args->r0;
	write_sysreg(args->pc, elr_el2);
	write_sysreg(0x3c5, spsr_el2); /* EL1h, DAIF masked */
	hyp_printf("hyp: cpu%lu: online through the trampoline page, TTBR0_EL2 %#lx, host stage 2 "
		   "%s\n",
		   read_sysreg(mpidr_el1) & 0xff, read_sysreg(ttbr0_el2),
		   (read_sysreg(hcr_el2) & 1) ? "on" : "off");
	__host_enter(ctxt);
}
