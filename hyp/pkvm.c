/* SPDX-License-Identifier: MIT */
/*
 * VMs: the host donates each VM's memory (its struct, vCPUs, stage-2 root and
 * table pool), shares or donates pages into its stage 2 through hypercalls,
 * and runs its vCPUs here. Teardown scrubs what the guest owned and gives
 * every page back to the host (seed 003's one-to-one stage-2 operations).
 */
#include <hyp/hyp.h>
#include <hyp/string.h>

struct hyp_vcpu {
	struct hyp_cpu_ctxt regs;
	u64 pc, pstate, entry;
	u64 sctlr, vbar, tcr, ttbr0, ttbr1, mair, sp_el1, elr, spsr, esr, far, sp_el0, tpidr;
	struct hyp_vm *vm;
	u32 idx;
	u32 initialised;
	s32 loaded_on; /* CPU index, -1 when not loaded */
};

struct hyp_vm {
	struct hs_vm_layout abi; /* first: the emulator reads it */
	struct hyp_pool pool;	 /* stage-2 table pages (the donated rest) */
	struct hyp_pgtable pgt;
	struct hyp_mm_ops mm_ops;
	u64 *root;
	bool root_taken;
	u32 idx;
	struct hyp_vcpu *vcpus; /* HS_MAX_VCPUS, in the second donated page */
};

/* EL1 state of the host while a guest runs, and the world-switch scratch. */
struct host_el1_state {
	u64 sctlr, vbar, tcr, ttbr0, ttbr1, mair, sp_el1, elr, spsr, esr, far, sp_el0, tpidr;
};

DEFINE_PER_CPU(struct hyp_vcpu *, loaded_vcpu);
DEFINE_PER_CPU(struct hyp_cpu_ctxt *, guest_running);
DEFINE_PER_CPU(u64 *, guest_save);
static DEFINE_PER_CPU(struct host_el1_state, host_el1);
struct guest_save_area {
	u64 r[13]; /* x19-x30, sp */
};
static DEFINE_PER_CPU(struct guest_save_area, guest_save_area);

extern void *hyp_vm_table_base;
u64 *hyp_vm_table; /* HS_MAX_VMS HYP VAs of struct hyp_vm (0 = free) */
static u32 vm_table_lock;

int __guest_enter(struct hyp_cpu_ctxt *regs, u64 *save);

#define HCR_GUEST ((1UL << 31) | (1UL << 19) | (1UL << 4) | 1UL) /* RW, TSC, IMO, VM */
#define GUEST_PROT_OK (HS_PROT_R | HS_PROT_W | HS_PROT_X)

static struct hyp_vm *vm_by_handle(u64 handle)
{
	if (!hyp_vm_table || handle < HS_VM_HANDLE_OFFSET ||
	    handle >= HS_VM_HANDLE_OFFSET + HS_MAX_VMS)
		return NULL;
	return (struct hyp_vm *)(uintptr_t)hyp_vm_table[handle - HS_VM_HANDLE_OFFSET];
}

/* The VM whose pages a table page of the guest stage 2 belongs to. */
static struct hyp_vm *vm_of_page(void *addr)
{
	u64 pa = hyp_virt_to_phys(addr);
	for (unsigned i = 0; hyp_vm_table && i < HS_MAX_VMS; i++) {
		struct hyp_vm *vm = (struct hyp_vm *)(uintptr_t)hyp_vm_table[i];
		if (vm && pa >= vm->abi.pa && pa < vm->abi.pa + (vm->abi.nr_pages << HS_PAGE_SHIFT))
			return vm;
	}
	return NULL;
}

static void *vm_zalloc_page(void *arg)
{
	struct hyp_vm *vm = arg;
	return hyp_alloc_pages(&vm->pool, 0);
}

static void *vm_zalloc_root(size_t size, void *arg)
{
	struct hyp_vm *vm = arg;
	if (vm->root_taken || size > 2 * HS_PAGE_SIZE)
		return NULL;
	vm->root_taken = true;
	hyp_page_ref_inc(hyp_virt_to_page(vm->root));
	hyp_page_ref_inc(hyp_virt_to_page((char *)vm->root + HS_PAGE_SIZE));
	return vm->root;
}

static bool in_pool(struct hyp_vm *vm, void *addr)
{
	u64 pa = hyp_virt_to_phys(addr);
	return pa >= vm->pool.range_start && pa < vm->pool.range_end;
}

static void vm_get_page(void *addr)
{
	struct hyp_vm *vm = vm_of_page(addr);
	if (vm && in_pool(vm, addr))
		hyp_get_page(&vm->pool, addr);
	else
		hyp_page_ref_inc(hyp_virt_to_page(addr));
}

static void vm_put_page(void *addr)
{
	struct hyp_vm *vm = vm_of_page(addr);
	if (vm && in_pool(vm, addr))
		hyp_put_page(&vm->pool, addr);
	else
		hyp_page_ref_dec_and_test(hyp_virt_to_page(addr)); /* the root */
}

static void *vm_phys_to_virt(u64 phys)
{
	return hyp_phys_to_virt(phys);
}

static u64 vm_virt_to_phys(void *addr)
{
	return hyp_virt_to_phys(addr);
}

/* Stage-2 maintenance by IPA acts on the VMID in VTTBR_EL2: switch to the VM's. */
static void guest_s2_enter(struct hyp_vm *vm)
{
	write_sysreg(vm->abi.vttbr, vttbr_el2);
	isb();
}

static void guest_s2_exit(void)
{
	write_sysreg(host_vttbr, vttbr_el2);
	isb();
}

s64 __pkvm_init_vm(u64 pa, u64 nr_pages, u64 flags)
{
	if (!IS_ALIGNED(pa, HS_VM_ALIGN) || nr_pages < HS_VM_MIN_PAGES ||
	    nr_pages > HS_VM_MAX_PAGES || (flags & ~HS_VM_F_PROTECTED))
		return -HS_EINVAL;
	if (!hyp_vm_table)
		hyp_vm_table = hyp_vm_table_base;
	hyp_spin_lock(&vm_table_lock);
	int idx = -1;
	for (unsigned i = 0; i < HS_MAX_VMS; i++) {
		if (!hyp_vm_table[i]) {
			idx = (int)i;
			break;
		}
	}
	s64 ret = -HS_ENOMEM;
	if (idx < 0)
		goto out;
	/* The host gives the pages away: from now on only the hypervisor maps them. */
	ret = __pkvm_host_donate_hyp(pa >> HS_PAGE_SHIFT, nr_pages);
	if (ret)
		goto out;
	struct hyp_vm *vm = hyp_phys_to_virt(pa);
	/*
	 * Nothing the host wrote into these pages before giving them away is
	 * trusted (Linux's map_donated_memory): the VM struct, the vCPUs, the
	 * stage-2 root and the table pool all start zero, so no entry the host
	 * forged is ever walked (teardown) or used by the guest's MMU.
	 */
	memzero_pages(vm, nr_pages << HS_PAGE_SHIFT);
	vm->idx = (u32)idx;
	vm->vcpus = (struct hyp_vcpu *)((char *)vm + HS_PAGE_SIZE);
	vm->root = (u64 *)((char *)vm + 2 * HS_PAGE_SIZE);
	ret = hyp_pool_init(&vm->pool, (pa >> HS_PAGE_SHIFT) + 4, (u32)(nr_pages - 4), 0);
	if (ret)
		goto undo;
	vm->mm_ops = (struct hyp_mm_ops){
	    .zalloc_page = vm_zalloc_page,
	    .zalloc_pages_exact = vm_zalloc_root,
	    .get_page = vm_get_page,
	    .put_page = vm_put_page,
	    .page_count = hyp_page_count,
	    .phys_to_virt = vm_phys_to_virt,
	    .virt_to_phys = vm_virt_to_phys,
	    .arg = vm,
	};
	vm->abi = (struct hs_vm_layout){
	    .handle = HS_VM_HANDLE_OFFSET + (u64)idx,
	    .vtcr = pgt_vtcr(HS_GUEST_IPA_BITS, HS_GUEST_S2_START_LEVEL),
	    .flags = flags,
	    .pa = pa,
	    .nr_pages = nr_pages,
	};
	/* The table must be visible for vm_of_page() while pages are counted. */
	hyp_vm_table[idx] = (u64)(uintptr_t)vm;
	ret = pgt_init_s2(&vm->pgt, HS_GUEST_IPA_BITS, HS_GUEST_S2_START_LEVEL, &vm->mm_ops);
	if (ret) {
		hyp_vm_table[idx] = 0;
		goto undo;
	}
	vm->abi.vttbr = vm->pgt.pgd_pa | ((u64)(idx + 1) << 48);
	for (unsigned i = 0; i < HS_MAX_VCPUS; i++)
		vm->vcpus[i].loaded_on = -1;
	ret = (s64)vm->abi.handle;
	hyp_printf("hyp: VM %#lx created (VMID %d, %s), stage-2 root %#lx\n", (u64)ret, idx + 1,
		   (flags & HS_VM_F_PROTECTED) ? "protected" : "not protected", vm->pgt.pgd_pa);
	goto out;
undo:
	/* What the hypervisor wrote (pointers, its VAs) does not go back to the host. */
	memzero_pages(vm, nr_pages << HS_PAGE_SHIFT);
	__pkvm_hyp_donate_host(pa >> HS_PAGE_SHIFT, nr_pages);
out:
	hyp_spin_unlock(&vm_table_lock);
	return ret;
}

s64 __pkvm_init_vcpu(u64 handle, u64 idx, u64 entry_ipa)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm || idx >= HS_MAX_VCPUS || entry_ipa >= BIT(HS_GUEST_IPA_BITS) || (entry_ipa & 3))
		return -HS_EINVAL;
	struct hyp_vcpu *vcpu = &vm->vcpus[idx];
	if (vcpu->initialised)
		return -HS_EEXIST;
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->idx = (u32)idx;
	vcpu->loaded_on = -1;
	vcpu->pc = entry_ipa;
	vcpu->entry = entry_ipa;
	vcpu->pstate = 0x3c5;	  /* EL1h, DAIF masked */
	vcpu->sctlr = 0x30d00800; /* MMU off: the guest sees only its stage 2 */
	vcpu->initialised = 1;
	return 0;
}

static unsigned this_cpu_index(void)
{
	return (unsigned)(read_sysreg(mpidr_el1) & 0xff);
}

s64 __pkvm_vcpu_load(u64 handle, u64 idx)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm || idx >= HS_MAX_VCPUS || !vm->vcpus[idx].initialised)
		return -HS_EINVAL;
	if (vm->abi.flags & HS_VM_F_DYING)
		return -HS_EPERM; /* a dying VM never runs again */
	struct hyp_vcpu **slot = this_cpu_ptr(&loaded_vcpu);
	if (*slot || vm->vcpus[idx].loaded_on >= 0)
		return -HS_EBUSY;
	vm->vcpus[idx].loaded_on = (s32)this_cpu_index();
	*slot = &vm->vcpus[idx];
	return 0;
}

s64 __pkvm_vcpu_put(void)
{
	struct hyp_vcpu **slot = this_cpu_ptr(&loaded_vcpu);
	if (!*slot)
		return -HS_EINVAL;
	(*slot)->loaded_on = -1;
	*slot = NULL;
	return 0;
}

static struct hyp_vm *loaded_vm(void)
{
	struct hyp_vcpu *vcpu = *this_cpu_ptr(&loaded_vcpu);
	return vcpu ? vcpu->vm : NULL;
}

/* ---- the host's stage-2 hypercalls for its guests -------------------------- */

static bool gfn_range_ok(u64 gfn, u64 nr)
{
	const u64 max = BIT(HS_GUEST_IPA_BITS - HS_PAGE_SHIFT);
	return nr && nr <= 512 && gfn < max && nr <= max - gfn;
}

static bool guest_gfn_mapped(struct hyp_vm *vm, u64 gfn, u64 *pte)
{
	s8 level;
	*pte = 0;
	return !pgt_get_leaf(&vm->pgt, gfn << HS_PAGE_SHIFT, pte, &level) && pte_valid(*pte);
}

s64 __pkvm_host_share_guest(u64 pfn, u64 gfn, u64 nr, u64 prot)
{
	struct hyp_vm *vm = loaded_vm();
	if (!vm)
		return -HS_EINVAL;
	if (vm->abi.flags & HS_VM_F_PROTECTED)
		return -HS_EPERM; /* protected VMs only take donations */
	if (!gfn_range_ok(gfn, nr) || !prot || (prot & ~GUEST_PROT_OK))
		return -HS_EINVAL;
	return host_share_guest_pages(pfn, nr, &vm->pgt, vm->abi.vttbr, gfn, (unsigned)prot);
}

s64 __pkvm_host_unshare_guest(u64 handle, u64 gfn, u64 nr)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm || !gfn_range_ok(gfn, nr))
		return -HS_EINVAL;
	return host_unshare_guest_pages(&vm->pgt, vm->abi.vttbr, gfn, nr);
}

s64 __pkvm_host_donate_guest(u64 pfn, u64 gfn)
{
	struct hyp_vm *vm = loaded_vm();
	if (!vm)
		return -HS_EINVAL;
	if (!(vm->abi.flags & HS_VM_F_PROTECTED))
		return -HS_EPERM;
	if (!gfn_range_ok(gfn, 1))
		return -HS_EINVAL;
	return host_donate_guest_page(pfn, &vm->pgt, vm->abi.vttbr, gfn, vm->abi.handle);
}

s64 __pkvm_host_relax_perms_guest(u64 gfn, u64 prot)
{
	struct hyp_vm *vm = loaded_vm();
	u64 pte;
	if (!vm)
		return -HS_EINVAL;
	if (!gfn_range_ok(gfn, 1) || !prot || (prot & ~GUEST_PROT_OK))
		return -HS_EINVAL;
	if (!guest_gfn_mapped(vm, gfn, &pte))
		return -HS_ENOENT;
	guest_s2_enter(vm);
	int ret = pgt_s2_relax_perms(&vm->pgt, gfn << HS_PAGE_SHIFT, (unsigned)prot);
	guest_s2_exit();
	return ret;
}

s64 __pkvm_host_wrprotect_guest(u64 handle, u64 gfn, u64 nr)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm || !gfn_range_ok(gfn, nr))
		return -HS_EINVAL;
	guest_s2_enter(vm);
	int ret = pgt_s2_wrprotect(&vm->pgt, gfn << HS_PAGE_SHIFT, nr << HS_PAGE_SHIFT);
	guest_s2_exit();
	return ret;
}

s64 __pkvm_host_test_clear_young_guest(u64 handle, u64 gfn, u64 nr, u64 mkold)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	bool young = false;
	if (!vm || !gfn_range_ok(gfn, nr) || mkold > 1)
		return -HS_EINVAL;
	guest_s2_enter(vm);
	int ret = pgt_s2_test_clear_young(&vm->pgt, gfn << HS_PAGE_SHIFT, nr << HS_PAGE_SHIFT,
					  mkold, &young);
	guest_s2_exit();
	return ret ? ret : young;
}

s64 __pkvm_host_mkyoung_guest(u64 gfn)
{
	struct hyp_vm *vm = loaded_vm();
	if (!vm)
		return -HS_EINVAL;
	if (!gfn_range_ok(gfn, 1))
		return -HS_EINVAL;
	guest_s2_enter(vm);
	int ret = pgt_s2_mkyoung(&vm->pgt, gfn << HS_PAGE_SHIFT);
	guest_s2_exit();
	return ret;
}

/* ---- running a vCPU ------------------------------------------------------ */

#define SAVE_EL1(s)                                  \
	do {                                         \
		(s)->sctlr = read_sysreg(sctlr_el1); \
		(s)->vbar = read_sysreg(vbar_el1);   \
		(s)->tcr = read_sysreg(tcr_el1);     \
		(s)->ttbr0 = read_sysreg(ttbr0_el1); \
		(s)->ttbr1 = read_sysreg(ttbr1_el1); \
		(s)->mair = read_sysreg(mair_el1);   \
		(s)->sp_el1 = read_sysreg(sp_el1);   \
		(s)->elr = read_sysreg(elr_el1);     \
		(s)->spsr = read_sysreg(spsr_el1);   \
		(s)->esr = read_sysreg(esr_el1);     \
		(s)->far = read_sysreg(far_el1);     \
		(s)->sp_el0 = read_sysreg(sp_el0);   \
		(s)->tpidr = read_sysreg(tpidr_el1); \
	} while (0)

#define LOAD_EL1(s)                                  \
	do {                                         \
		write_sysreg((s)->sctlr, sctlr_el1); \
		write_sysreg((s)->vbar, vbar_el1);   \
		write_sysreg((s)->tcr, tcr_el1);     \
		write_sysreg((s)->ttbr0, ttbr0_el1); \
		write_sysreg((s)->ttbr1, ttbr1_el1); \
		write_sysreg((s)->mair, mair_el1);   \
		write_sysreg((s)->sp_el1, sp_el1);   \
		write_sysreg((s)->elr, elr_el1);     \
		write_sysreg((s)->spsr, spsr_el1);   \
		write_sysreg((s)->esr, esr_el1);     \
		write_sysreg((s)->far, far_el1);     \
		write_sysreg((s)->sp_el0, sp_el0);   \
		write_sysreg((s)->tpidr, tpidr_el1); \
	} while (0)

void __pkvm_vcpu_run(struct hyp_cpu_ctxt *host)
{
	struct hyp_vcpu *vcpu = *this_cpu_ptr(&loaded_vcpu);
	if (!vcpu) {
		host->regs[1] = (u64)-HS_EINVAL;
		return;
	}
	struct hyp_vm *vm = vcpu->vm;
	struct host_el1_state *h = this_cpu_ptr(&host_el1);
	u64 host_elr2 = read_sysreg(elr_el2), host_spsr2 = read_sysreg(spsr_el2);
	u64 host_hcr = read_sysreg(hcr_el2), host_vtcr_val = read_sysreg(vtcr_el2);

	/*
	 * A new operation for the bundled guest program (guest/guest.S) starts
	 * it afresh, abandoning an access that faulted; RESUME retries it.
	 */
	if (host->regs[1] != HS_VCPU_OP_RESUME) {
		vcpu->regs.regs[0] = host->regs[1];
		vcpu->regs.regs[1] = host->regs[2];
		vcpu->regs.regs[2] = host->regs[3];
		vcpu->pc = vcpu->entry;
		vcpu->pstate = 0x3c5;
	}

	SAVE_EL1(h);
	LOAD_EL1(vcpu);
	write_sysreg(vm->abi.vtcr, vtcr_el2);
	write_sysreg(vm->abi.vttbr, vttbr_el2);
	write_sysreg(HCR_GUEST, hcr_el2);
	write_sysreg(vcpu->pc, elr_el2);
	write_sysreg(vcpu->pstate, spsr_el2);
	isb();

	int why = __guest_enter(&vcpu->regs, this_cpu_ptr(&guest_save_area)->r);

	u64 esr = read_sysreg(esr_el2), far = read_sysreg(far_el2), hpfar = read_sysreg(hpfar_el2);
	vcpu->pc = read_sysreg(elr_el2);
	vcpu->pstate = read_sysreg(spsr_el2);
	SAVE_EL1(vcpu);
	LOAD_EL1(h);
	write_sysreg(host_vtcr_val, vtcr_el2);
	write_sysreg(host_vttbr, vttbr_el2);
	write_sysreg(host_hcr, hcr_el2);
	write_sysreg(host_elr2, elr_el2);
	write_sysreg(host_spsr2, spsr_el2);
	isb();

	unsigned ec = (unsigned)(esr >> 26) & 0x3f;
	if (why == 2) {
		/* Interrupted (ESR is not written for an IRQ): RESUME goes on at vcpu->pc. */
		host->regs[1] = HS_EXIT_IRQ;
		host->regs[2] = vcpu->pc;
		host->regs[3] = 0;
	} else if (ec == 0x16) {
		host->regs[1] = HS_EXIT_GUEST_HVC;
		host->regs[2] = vcpu->regs.regs[0];
		host->regs[3] = vcpu->regs.regs[2];
	} else if (ec == 0x24 || ec == 0x20) {
		/* The access is retried when the host runs the vCPU again. */
		host->regs[1] = HS_EXIT_S2_FAULT;
		host->regs[2] = ((hpfar & GENMASK(43, 4)) << 8) | (far & (HS_PAGE_SIZE - 1));
		host->regs[3] = esr;
	} else {
		host->regs[1] = HS_EXIT_OTHER;
		host->regs[2] = 0;
		host->regs[3] = esr;
	}
}

/* ---- teardown ------------------------------------------------------------- */

static bool vm_has_loaded_vcpu(const struct hyp_vm *vm)
{
	for (unsigned i = 0; i < HS_MAX_VCPUS; i++)
		if (vm->vcpus[i].loaded_on >= 0)
			return true;
	return false;
}

s64 __pkvm_start_teardown_vm(u64 handle)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm)
		return -HS_EINVAL;
	hyp_spin_lock(&vm_table_lock);
	s64 ret = 0;
	if (vm_has_loaded_vcpu(vm))
		ret = -HS_EBUSY;
	else if (vm->abi.flags & HS_VM_F_DYING)
		ret = -HS_EPERM; /* already dying */
	else
		vm->abi.flags |= HS_VM_F_DYING;
	hyp_spin_unlock(&vm_table_lock);
	return ret;
}

s64 __pkvm_reclaim_page(u64 handle, u64 gfn)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm || !gfn_range_ok(gfn, 1))
		return -HS_EINVAL;
	if (!(vm->abi.flags & HS_VM_F_DYING))
		return -HS_EPERM; /* a live guest keeps its pages */
	hyp_spin_lock(&vm_table_lock);
	s64 ret = guest_reclaim_page(&vm->pgt, vm->abi.vttbr, gfn);
	hyp_spin_unlock(&vm_table_lock);
	return ret;
}

s64 __pkvm_teardown_vm(u64 handle)
{
	struct hyp_vm *vm = vm_by_handle(handle);
	if (!vm)
		return -HS_EINVAL;
	if (vm_has_loaded_vcpu(vm))
		return -HS_EBUSY;
	hyp_spin_lock(&vm_table_lock);
	/*
	 * Invalidate the VMID first: until that completes, TLBs and walk caches
	 * may hold the guest's entries, so its pages must not change owner and
	 * its table pages must not go back to the pool (the allocator writes
	 * into them). No vCPU is loaded, so nothing can cache them again.
	 */
	guest_s2_enter(vm);
	asm volatile("tlbi vmalls12e1is" ::: "memory");
	dsb(ish);
	guest_s2_exit();
	/* Every page the guest had goes back to the host, scrubbed if it owned it. */
	int ret = guest_reclaim_all(&vm->pgt);
	if (ret)
		goto out;
	pgt_destroy(&vm->pgt);
	u64 pa = vm->abi.pa, nr = vm->abi.nr_pages;
	unsigned idx = vm->idx;
	/* The donated block leaves as it came: zero, with fresh page metadata. */
	for (u64 off = 0; off < (nr << HS_PAGE_SHIFT); off += HS_PAGE_SIZE) {
		struct hyp_page *p = hyp_phys_to_page(pa + off);
		p->refcount = 0;
		p->order = 0;
	}
	memzero_pages(vm, nr << HS_PAGE_SHIFT);
	hyp_vm_table[idx] = 0;
	ret = __pkvm_hyp_donate_host(pa >> HS_PAGE_SHIFT, nr);
	hyp_printf("hyp: VM %#lx torn down, %lu pages back to the host\n", handle, nr);
out:
	hyp_spin_unlock(&vm_table_lock);
	return ret;
}
