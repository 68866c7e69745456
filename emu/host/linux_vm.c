/* SPDX-License-Identifier: MIT */
#include "linux_vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_util.h"
#include "checkpoint.h"
#include "host.h"
#include "hyp_state.h"
#include "image_dwarf.h"
#include "linux_boot.h"
#include "machine_priv.h"
#include "profile.h"
#include "pt_translate.h"

/* kvm_host.h (7.x): kvm->arch.flags bit the hypervisor tests before copying id_regs. */
#define KVM_ARCH_FLAG_ID_REGS_INITIALIZED 7
/* asm/kvm_asm.h: __kvm_vcpu_run's exit codes; bit 31 flags a pending SError. */
#define ARM_EXCEPTION_IRQ 0
#define ARM_EXCEPTION_TRAP 2
#define ARM_EXCEPTION_CODE(x) ((x) & ~(1ULL << 31))
/* hyp/nvhe/pkvm.c: vm_table entries reserved by __pkvm_reserve_vm, not yet a VM. */
#define RESERVED_ENTRY 0xa110ca7edULL
#define LX_MAX_PVMS 255
/* asm/sysreg.h INIT_SCTLR_EL1_MMU_OFF: EOS, TSCXT, EIS, nTLSMD, LSMAOE; little-endian. */
#define INIT_SCTLR_EL1_MMU_OFF \
	((1ULL << 11) | (1ULL << 20) | (1ULL << 22) | (1ULL << 28) | (1ULL << 29))
/* PSR_MODE_EL1h with D, A, I, F masked: how the guest program starts. */
#define GUEST_PSTATE 0x3c5ULL

#define NO_FIELD UINT64_MAX

/* 7.x's VM sequence (__pkvm_reserve_vm first); 6.12's __pkvm_init_vm returns the handle. */
static bool has_reserve(struct hs_machine *m)
{
	return hs_machine_hypercall_by_name(m, "__pkvm_reserve_vm") >= 0;
}

static bool has_call(struct hs_machine *m, const char *name)
{
	return hs_machine_hypercall_by_name(m, name) >= 0;
}

struct hs_lx_vm {
	uint64_t handle;
	bool protected_vm;
	uint64_t entry_ipa;
	uint64_t kvm_pa, kvm_pages;
	uint64_t vcpu_pa, vcpu_pages; /* vCPU 0's struct kvm_vcpu */
	uint64_t hyp_vm_pa, hyp_vm_pages;
	uint64_t pgd_pa, pgd_pages;
	uint64_t hyp_vcpu_pa, hyp_vcpu_pages;
	uint64_t mc_given; /* pages the host put in vCPU 0's memcache */
	uint64_t returned;
	uint64_t extra_donated; /* hyp vCPU pages of further vCPUs */
	uint64_t host_vtcr;
	bool started; /* the guest program has been entered once */
	bool finalized;
	uint64_t *back;	       /* guest pages given back (reclaimed or unshared) */
	uint64_t *extra_vcpus; /* host struct kvm_vcpu of further vCPUs (shared with EL2) */
	size_t nr_extra;
	size_t nr_back;
	struct hs_lx_ledger ledger;
};

/* Where Linux's structures keep what the host model reads and writes (from DWARF). */
struct lx_offs {
	uint64_t kvm_size, vcpu_size, hyp_vm_size, hyp_vcpu_size;
	uint64_t created_vcpus, handle, is_protected, flags, vtcr, id_regs, id_regs_size, ctr;
	uint64_t teardown_mc, s2_teardown_mc;
	uint64_t vcpu_kvm, vcpu_id, vcpu_idx, regs, pc, pstate, sys_regs, fault_esr, fault_far,
	    fault_hpfar;
	uint64_t vcpu_mc, vcpu_hcr;
	uint64_t mc_head, mc_nr;
	uint64_t vm_vmid, vm_pgd_phys, vm_vtcr;
	int64_t sctlr_idx;
};

static int offs_get(struct hs_machine *m, struct lx_offs *o, struct hs_error *err)
{
	struct hs_dwarf *dw = hs_linux_dwarf(m, err);
	if (!dw)
		return -ENOENT;
	/* Fields marked optional are 7.x's (6.12 has no protected VMs, no vCPU memcache). */
	const struct {
		const char *s, *path;
		uint64_t *off, *size;
		bool optional;
	} f[] = {
	    {"kvm", "created_vcpus", &o->created_vcpus, NULL, false},
	    {"kvm", "arch.pkvm.handle", &o->handle, NULL, false},
	    {"kvm", "arch.pkvm.is_protected", &o->is_protected, NULL, true},
	    {"kvm", "arch.pkvm.teardown_mc", &o->teardown_mc, NULL, false},
	    {"kvm", "arch.pkvm.stage2_teardown_mc", &o->s2_teardown_mc, NULL, true},
	    {"kvm", "arch.flags", &o->flags, NULL, false},
	    {"kvm", "arch.mmu.vtcr", &o->vtcr, NULL, false},
	    {"kvm", "arch.id_regs", &o->id_regs, &o->id_regs_size, false},
	    {"kvm", "arch.ctr_el0", &o->ctr, NULL, false},
	    {"kvm_vcpu", "kvm", &o->vcpu_kvm, NULL, false},
	    {"kvm_vcpu", "vcpu_id", &o->vcpu_id, NULL, false},
	    {"kvm_vcpu", "vcpu_idx", &o->vcpu_idx, NULL, false},
	    {"kvm_vcpu", "arch.ctxt.regs.regs", &o->regs, NULL, false},
	    {"kvm_vcpu", "arch.ctxt.regs.pc", &o->pc, NULL, false},
	    {"kvm_vcpu", "arch.ctxt.regs.pstate", &o->pstate, NULL, false},
	    {"kvm_vcpu", "arch.ctxt.sys_regs", &o->sys_regs, NULL, false},
	    {"kvm_vcpu", "arch.fault.esr_el2", &o->fault_esr, NULL, false},
	    {"kvm_vcpu", "arch.fault.far_el2", &o->fault_far, NULL, false},
	    {"kvm_vcpu", "arch.fault.hpfar_el2", &o->fault_hpfar, NULL, false},
	    {"kvm_vcpu", "arch.pkvm_memcache", &o->vcpu_mc, NULL, true},
	    {"kvm_vcpu", "arch.hcr_el2", &o->vcpu_hcr, NULL, false},
	    {"kvm_hyp_memcache", "head", &o->mc_head, NULL, false},
	    {"kvm_hyp_memcache", "nr_pages", &o->mc_nr, NULL, false},
	    {"pkvm_hyp_vm", "kvm.arch.mmu.vmid", &o->vm_vmid, NULL, false},
	    {"pkvm_hyp_vm", "kvm.arch.mmu.pgd_phys", &o->vm_pgd_phys, NULL, false},
	    {"pkvm_hyp_vm", "kvm.arch.mmu.vtcr", &o->vm_vtcr, NULL, false},
	};
	int rc;
	if ((rc = hs_dwarf_struct_size(dw, "kvm", &o->kvm_size, err)) ||
	    (rc = hs_dwarf_struct_size(dw, "kvm_vcpu", &o->vcpu_size, err)) ||
	    (rc = hs_dwarf_struct_size(dw, "pkvm_hyp_vm", &o->hyp_vm_size, err)) ||
	    (rc = hs_dwarf_struct_size(dw, "pkvm_hyp_vcpu", &o->hyp_vcpu_size, err)) ||
	    (rc = hs_dwarf_enum_value(dw, "vcpu_sysreg", "SCTLR_EL1", &o->sctlr_idx, err)))
		return rc;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		rc = hs_dwarf_member_path(dw, f[i].s, f[i].path, f[i].off, f[i].size,
					  f[i].optional ? NULL : err);
		if (rc && f[i].optional)
			*f[i].off = NO_FIELD;
		else if (rc)
			return rc;
	}
	return 0;
}

static uint64_t pages_of(uint64_t size)
{
	return (size + HS_PAGE_SIZE - 1) >> HS_PAGE_SHIFT;
}

/* The kernel's linear-map VA of a host physical address (what kvm_call_hyp passes). */
static uint64_t kva(struct hs_machine *m, uint64_t pa)
{
	const struct hs_lx_layout *l = hs_linux_layout(m);
	return pa - l->memstart + l->page_offset;
}

static int put(struct hs_machine *m, uint64_t pa, uint64_t v, unsigned size, struct hs_error *err)
{
	return hs_phys_write(m, pa, &v, size, err);
}

static uint64_t get(struct hs_machine *m, uint64_t pa)
{
	uint64_t v = 0;
	hs_phys_read(m, pa, &v, 8, NULL);
	return v;
}

const char *hs_lx_guest_call_name(int nr)
{
	switch (nr) {
	case HS_HC_host_share_guest:
		return "__pkvm_host_share_guest";
	case HS_HC_host_unshare_guest:
		return "__pkvm_host_unshare_guest";
	case HS_HC_host_relax_perms_guest:
		return "__pkvm_host_relax_perms_guest";
	case HS_HC_host_wrprotect_guest:
		return "__pkvm_host_wrprotect_guest";
	case HS_HC_host_test_clear_young_guest:
		return "__pkvm_host_test_clear_young_guest";
	case HS_HC_host_mkyoung_guest:
		return "__pkvm_host_mkyoung_guest";
	case HS_HC_host_donate_guest:
		return "__pkvm_host_donate_guest";
	case HS_HC_vcpu_put:
		return "__pkvm_vcpu_put";
	case HS_HC_start_teardown_vm:
		return "__pkvm_start_teardown_vm";
	case HS_HC_reclaim_page:
		return "__pkvm_reclaim_dying_guest_page";
	case HS_HC_teardown_vm:
		return "__pkvm_finalize_teardown_vm";
	default:
		return NULL;
	}
}

int hs_lx_call(struct hs_machine *m, unsigned cpu, const char *name, const uint64_t *args,
	       unsigned nargs, int64_t *ret, struct hs_error *err)
{
	int64_t fn = hs_machine_hypercall_by_name(m, name);
	if (fn < 0) {
		char k[64];
		hs_linux_kernel_name(m, k, sizeof(k));
		return hs_err(err, -ENOSYS,
			      "%s's hypervisor has no %s (its enum __kvm_host_smccc_func lacks it; "
			      "the VM host model follows Linux 7.x's arch/arm64/kvm/pkvm.c)",
			      k, name);
	}
	struct hs_host_op res;
	struct hs_stop stop;
	int rc = hs_host_hvc(m, cpu, (uint64_t)fn, args, nargs, &res, &stop, err);
	if (rc)
		return rc;
	if (stop.reason != HS_STOP_DONE)
		return hs_err(err, -EINTR, "the machine stopped inside %s (%s)", name,
			      hs_stop_reason_name(stop.reason));
	if (res.x0 != HS_SMCCC_SUCCESS)
		return hs_err(err, -ENOSYS, "%s is not available now (SMCCC %" PRId64 ")", name,
			      res.x0);
	*ret = res.x1;
	return 0;
}

/* A call whose refusal is a failure of the host model's own sequence. */
static int must(struct hs_machine *m, unsigned cpu, const char *name, const uint64_t *args,
		unsigned nargs, int64_t *ret, struct hs_error *err)
{
	int64_t r = 0;
	int rc = hs_lx_call(m, cpu, name, args, nargs, &r, err);
	if (!rc && r < 0)
		rc = hs_err(err, (int)r, "%s refused: %" PRId64, name, r);
	if (ret)
		*ret = r;
	return rc;
}

/* kvm_share_hyp / kvm_unshare_hyp of [pa, pa + pages) */
static int share_hyp(struct hs_machine *m, unsigned cpu, uint64_t pa, uint64_t pages, bool share,
		     struct hs_error *err)
{
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t a[1] = {(pa >> HS_PAGE_SHIFT) + i};
		int rc = must(m, cpu, share ? "__pkvm_host_share_hyp" : "__pkvm_host_unshare_hyp",
			      a, 1, NULL, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int alloc_zeroed(struct hs_machine *m, uint64_t pages, uint64_t *pa, struct hs_error *err)
{
	int rc = hs_vm_host_alloc(m, pages * HS_PAGE_SIZE, HS_PAGE_SIZE, pa, err);
	if (!rc)
		memset(hs_phys_ptr(m, *pa, pages * HS_PAGE_SIZE), 0, pages * HS_PAGE_SIZE);
	return rc;
}

/*
 * kvm_init_ipa_range in protected mode: the IPA size is the CPU's PARange (kvm_ipa_limit),
 * and kvm_get_vtcr's fields: T0SZ, SL0 for the levels stage2_pgtable_levels gives, 4 KiB
 * granule, inner-shareable write-back walks, PS = PARange, RES1 bit 31.
 */
static uint64_t host_vtcr(struct hs_machine *m, unsigned *ipa_bits, int *start_level)
{
	static const unsigned pa_bits[] = {32, 36, 40, 42, 44, 48, 52};
	unsigned parange = (unsigned)(hs_linux_cpu(m)->mmfr0 & 0xf);
	if (parange > 6)
		parange = 6;
	unsigned ipa = pa_bits[parange];
	if (ipa > 48)
		ipa = 48; /* 4 KiB pages without LPA2 */
	int levels = (int)(ipa - 8) / 9;
	if (levels < 2)
		levels = 2;
	int sl = 4 - levels;
	*ipa_bits = ipa;
	*start_level = sl;
	return (1ULL << 31) | ((uint64_t)parange << 16) | (0ULL << 14) /* TG0 4K */ |
	       (3ULL << 12) /* SH0 inner */ | (1ULL << 10) | (1ULL << 8) /* WBWA */ |
	       ((uint64_t)(2 - sl) << 6) | (64 - ipa);
}

/* kvm_pgtable_stage2_pgd_size: the concatenated tables at the start level. */
static uint64_t pgd_pages(unsigned ipa_bits, int start_level)
{
	int shift = 12 + 9 * (3 - start_level) + 9;
	return ipa_bits > (unsigned)shift ? 1ULL << (ipa_bits - shift) : 1;
}

/* The host's kvm_vcpu for index idx: zeroed, shared with the hypervisor. */
static int new_host_vcpu(struct hs_machine *m, unsigned cpu, const struct lx_offs *o,
			 const struct hs_lx_vm *vm, uint64_t idx, uint64_t *pa,
			 struct hs_error *err)
{
	uint64_t pages = pages_of(o->vcpu_size);
	int rc;
	if ((rc = alloc_zeroed(m, pages, pa, err)) ||
	    (rc = put(m, *pa + o->vcpu_kvm, kva(m, vm->kvm_pa), 8, err)) ||
	    (rc = put(m, *pa + o->vcpu_id, idx, 4, err)) ||
	    (rc = put(m, *pa + o->vcpu_idx, idx, 4, err)))
		return rc;
	return share_hyp(m, cpu, *pa, pages, true, err);
}

/* The host's part of KVM_CREATE_VM for a pKVM VM: struct kvm, shared; the handle reserved. */
static int init_host_kvm(struct hs_machine *m, unsigned cpu, const struct lx_offs *o,
			 struct hs_lx_vm *vm, struct hs_error *err)
{
	const struct hs_lx_cpu *c = hs_linux_cpu(m);
	vm->kvm_pages = pages_of(o->kvm_size);
	int rc = alloc_zeroed(m, vm->kvm_pages, &vm->kvm_pa, err);
	if (rc || (rc = share_hyp(m, cpu, vm->kvm_pa, vm->kvm_pages, true, err)))
		return rc;
	int64_t handle = 0;
	if (has_reserve(m) && (rc = must(m, cpu, "__pkvm_reserve_vm", NULL, 0, &handle, err)))
		return rc;
	vm->handle = (uint64_t)handle;
	unsigned ipa;
	int sl;
	vm->host_vtcr = host_vtcr(m, &ipa, &sl);
	/* kvm_init_id_regs: the ID registers the host read from this CPU, by IDREG_IDX. */
	const struct {
		unsigned crm, op2;
		uint64_t v;
	} ids[] = {{4, 0, c->pfr0},  {4, 1, c->pfr1},  {4, 2, c->pfr2},	 {5, 0, c->dfr0},
		   {6, 0, c->isar0}, {6, 1, c->isar1}, {6, 2, c->isar2}, {7, 0, c->mmfr0},
		   {7, 1, c->mmfr1}, {7, 2, c->mmfr2}, {7, 3, c->mmfr3}};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		uint64_t idx = ((ids[i].crm - 1) << 3) | ids[i].op2;
		if (8 * (idx + 1) <= o->id_regs_size &&
		    (rc = put(m, vm->kvm_pa + o->id_regs + 8 * idx, ids[i].v, 8, err)))
			return rc;
	}
	uint64_t p = vm->kvm_pa;
	if ((rc = put(m, p + o->handle, vm->handle, 4, err)) ||
	    (o->is_protected != NO_FIELD &&
	     (rc = put(m, p + o->is_protected, vm->protected_vm, 1, err))) ||
	    (rc = put(m, p + o->vtcr, vm->host_vtcr, 8, err)) ||
	    (rc = put(m, p + o->ctr, c->ctr, 8, err)) ||
	    (rc = put(m, p + o->flags, 1ULL << KVM_ARCH_FLAG_ID_REGS_INITIALIZED, 8, err)))
		return rc;
	vm->pgd_pages = pgd_pages(ipa, sl);
	return 0;
}

/* pkvm_create_hyp_vcpu: the hyp vCPU's pages donated by __pkvm_init_vcpu. */
static int create_hyp_vcpu(struct hs_machine *m, unsigned cpu, const struct lx_offs *o,
			   struct hs_lx_vm *vm, uint64_t host_vcpu_pa, uint64_t *hyp_vcpu_pa,
			   int64_t *ret, struct hs_error *err)
{
	uint64_t pages = pages_of(o->hyp_vcpu_size);
	int rc = hs_vm_host_alloc(m, pages * HS_PAGE_SIZE, HS_PAGE_SIZE, hyp_vcpu_pa, err);
	if (rc)
		return rc;
	uint64_t a[3] = {vm->handle, kva(m, host_vcpu_pa), kva(m, *hyp_vcpu_pa)};
	return hs_lx_call(m, cpu, "__pkvm_init_vcpu", a, 3, ret, err);
}

int hs_lx_vm_create(struct hs_machine *m, unsigned cpu, bool protected_vm, uint64_t entry_ipa,
		    struct hs_lx_vm **out, uint64_t *handle, struct hs_error *err)
{
	/* Name the first hypercall of the sequence this kernel lacks. */
	static const char *const needed[] = {"__pkvm_init_vm", "__pkvm_init_vcpu"};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!has_call(m, needed[i]))
			return hs_lx_call(m, cpu, needed[i], NULL, 0, NULL, err);
	struct lx_offs o;
	int rc = offs_get(m, &o, err);
	if (rc)
		return rc;
	if (protected_vm && (o.is_protected == NO_FIELD || !has_reserve(m))) {
		char k[64];
		hs_linux_kernel_name(m, k, sizeof(k));
		return hs_err(
		    err, -EOPNOTSUPP,
		    "%s's hypervisor has no protected VMs (struct kvm_protected_vm has no "
		    "is_protected, and no __pkvm_host_donate_guest)",
		    k);
	}
	struct hs_lx_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return hs_err(err, -ENOMEM, "out of memory");
	vm->protected_vm = protected_vm;
	vm->entry_ipa = entry_ipa;
	int64_t r;
	if ((rc = init_host_kvm(m, cpu, &o, vm, err)))
		goto fail;
	/* kvm_vm_ioctl_create_vcpu: created_vcpus, then the vCPU shared with the hypervisor. */
	vm->vcpu_pages = pages_of(o.vcpu_size);
	if ((rc = put(m, vm->kvm_pa + o.created_vcpus, 1, 4, err)) ||
	    (rc = new_host_vcpu(m, cpu, &o, vm, 0, &vm->vcpu_pa, err)))
		goto fail;
	/* The first KVM_RUN: pkvm_create_hyp_vm, then pkvm_create_hyp_vcpu. */
	vm->hyp_vm_pages = pages_of(o.hyp_vm_size + 8 * 1);
	if ((rc = hs_vm_host_alloc(m, vm->pgd_pages * HS_PAGE_SIZE, HS_PAGE_SIZE, &vm->pgd_pa,
				   err)) ||
	    (rc = hs_vm_host_alloc(m, vm->hyp_vm_pages * HS_PAGE_SIZE, HS_PAGE_SIZE, &vm->hyp_vm_pa,
				   err)))
		goto fail;
	uint64_t a[3] = {kva(m, vm->kvm_pa), kva(m, vm->hyp_vm_pa), kva(m, vm->pgd_pa)};
	if ((rc = must(m, cpu, "__pkvm_init_vm", a, 3, &r, err)))
		goto fail;
	/* 6.12: __pkvm_init_vm returns the handle, which the host keeps in its struct kvm. */
	if (!has_reserve(m) &&
	    ((vm->handle = (uint64_t)r), (rc = put(m, vm->kvm_pa + o.handle, vm->handle, 4, err))))
		goto fail;
	vm->hyp_vcpu_pages = pages_of(o.hyp_vcpu_size);
	if ((rc = create_hyp_vcpu(m, cpu, &o, vm, vm->vcpu_pa, &vm->hyp_vcpu_pa, &r, err)))
		goto fail;
	if (r) {
		rc = hs_err(err, (int)r, "__pkvm_init_vcpu refused: %" PRId64, r);
		goto fail;
	}
	*out = vm;
	*handle = vm->handle;
	return 0;
fail:
	/* What was reserved stays reserved at EL2: the host model's record says so. */
	free(vm);
	return rc;
}

int hs_lx_vm_add_vcpu(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, uint64_t idx,
		      int64_t *ret, struct hs_error *err)
{
	struct lx_offs o;
	uint64_t host_pa, hyp_pa;
	int rc = offs_get(m, &o, err);
	if (rc || (rc = new_host_vcpu(m, cpu, &o, vm, idx, &host_pa, err)) ||
	    (rc = create_hyp_vcpu(m, cpu, &o, vm, host_pa, &hyp_pa, ret, err)))
		return rc;
	/*
	 * Refused (a vCPU made after the VM was initialised at EL2 has an index beyond its
	 * created_vcpus): the hypervisor gave the pages back; the check after teardown looks
	 * at them. The host's vCPU exists either way and stays shared until teardown.
	 */
	for (uint64_t i = 0; i < pages_of(o.hyp_vcpu_size); i++)
		if (*ret)
			hs_lx_vm_page_back(vm, (hyp_pa >> HS_PAGE_SHIFT) + i);
	if (*ret == 0)
		vm->extra_donated += pages_of(o.hyp_vcpu_size);
	uint64_t *n = realloc(vm->extra_vcpus, (vm->nr_extra + 1) * sizeof(*n));
	if (!n)
		return hs_err(err, -ENOMEM, "out of memory");
	vm->extra_vcpus = n;
	n[vm->nr_extra++] = host_pa;
	return 0;
}

int hs_lx_vm_reinit(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, int64_t *ret,
		    struct hs_error *err)
{
	uint64_t a[3] = {kva(m, vm->kvm_pa), kva(m, vm->hyp_vm_pa), kva(m, vm->pgd_pa)};
	return hs_lx_call(m, cpu, "__pkvm_init_vm", a, 3, ret, err);
}

int hs_lx_vm_load(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, struct hs_error *err)
{
	struct lx_offs o;
	int64_t r;
	int rc = offs_get(m, &o, err);
	if (rc)
		return rc;
	uint64_t a[3] = {vm->handle, 0, get(m, vm->vcpu_pa + o.vcpu_hcr)};
	/* 6.12 has no __pkvm_vcpu_load: its __kvm_vcpu_run loads the hyp vCPU itself. */
	if (!has_call(m, "__pkvm_vcpu_load"))
		return 0;
	return hs_lx_call(m, cpu, "__pkvm_vcpu_load", a, 3, &r, err);
}

int hs_lx_vm_put(struct hs_machine *m, unsigned cpu, struct hs_error *err)
{
	int64_t r;
	if (!has_call(m, "__pkvm_vcpu_put"))
		return 0;
	return hs_lx_call(m, cpu, "__pkvm_vcpu_put", NULL, 0, &r, err);
}

int hs_lx_vm_topup(struct hs_machine *m, struct hs_lx_vm *vm, struct hs_error *err)
{
	struct lx_offs o;
	int rc = offs_get(m, &o, err);
	if (rc || o.vcpu_mc == NO_FIELD)
		return rc;
	/* kvm_mmu_cache_min_pages: one table page per level below the root. */
	unsigned ipa;
	int sl;
	host_vtcr(m, &ipa, &sl);
	uint64_t min = (uint64_t)(3 - sl);
	uint64_t mc = vm->vcpu_pa + o.vcpu_mc;
	uint64_t head = get(m, mc + o.mc_head), nr = get(m, mc + o.mc_nr);
	while (nr < min) {
		uint64_t pa;
		if ((rc = alloc_zeroed(m, 1, &pa, err)) || (rc = put(m, pa, head, 8, err)))
			return rc;
		head = pa;
		nr++;
		vm->mc_given++;
	}
	if ((rc = put(m, mc + o.mc_head, head, 8, err)) || (rc = put(m, mc + o.mc_nr, nr, 8, err)))
		return rc;
	return 0;
}

int hs_lx_prot(struct hs_machine *m, unsigned prot, uint64_t *out, struct hs_error *err)
{
	struct hs_dwarf *dw = hs_linux_dwarf(m, err);
	int64_t r, w, x;
	int rc;
	if (!dw)
		return -ENOENT;
	if ((rc = hs_dwarf_enum_value(dw, "kvm_pgtable_prot", "KVM_PGTABLE_PROT_R", &r, err)) ||
	    (rc = hs_dwarf_enum_value(dw, "kvm_pgtable_prot", "KVM_PGTABLE_PROT_W", &w, err)) ||
	    (rc = hs_dwarf_enum_value(dw, "kvm_pgtable_prot", "KVM_PGTABLE_PROT_X", &x, err)))
		return rc;
	*out = ((prot & HS_PROT_R) ? (uint64_t)r : 0) | ((prot & HS_PROT_W) ? (uint64_t)w : 0) |
	       ((prot & HS_PROT_X) ? (uint64_t)x : 0);
	return 0;
}

int hs_lx_vm_run(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, uint64_t op, uint64_t ipa,
		 uint64_t value, struct hs_vm_exit *exit, struct hs_error *err)
{
	struct lx_offs o;
	int rc = offs_get(m, &o, err);
	if (rc)
		return rc;
	uint64_t v = vm->vcpu_pa;
	/* The VMM's KVM_SET_ONE_REG: the guest program's operation, from its entry. */
	if (op != HS_VCPU_OP_RESUME || !vm->started) {
		if ((rc = put(m, v + o.regs, op, 8, err)) ||
		    (rc = put(m, v + o.regs + 8, ipa, 8, err)) ||
		    (rc = put(m, v + o.regs + 16, value, 8, err)) ||
		    (rc = put(m, v + o.pc, vm->entry_ipa, 8, err)) ||
		    (rc = put(m, v + o.pstate, GUEST_PSTATE, 8, err)) ||
		    (rc = put(m, v + o.sys_regs + 8 * (uint64_t)o.sctlr_idx, INIT_SCTLR_EL1_MMU_OFF,
			      8, err)))
			return rc;
		vm->started = true;
	}
	int64_t r;
	uint64_t a[1] = {kva(m, v)};
	if ((rc = hs_lx_call(m, cpu, "__kvm_vcpu_run", a, 1, &r, err)))
		return rc;
	memset(exit, 0, sizeof(*exit));
	if (r < 0) {
		exit->status = r;
		return 0;
	}
	uint64_t esr = get(m, v + o.fault_esr);
	unsigned ec = (unsigned)(esr >> 26) & 0x3f;
	if (ARM_EXCEPTION_CODE((uint64_t)r) == ARM_EXCEPTION_IRQ) {
		exit->reason = HS_EXIT_IRQ;
		exit->x2 = get(m, v + o.pc);
	} else if (ARM_EXCEPTION_CODE((uint64_t)r) != ARM_EXCEPTION_TRAP) {
		exit->reason = HS_EXIT_OTHER;
		exit->x3 = esr;
	} else if (ec == 0x16) { /* HVC64: the guest program reports */
		exit->reason = HS_EXIT_GUEST_HVC;
		exit->x2 = get(m, v + o.regs);
		exit->x3 = get(m, v + o.regs + 16);
	} else if (ec == 0x24 || ec == 0x20) { /* data / instruction abort from the guest */
		/* kvm_vcpu_get_fault_ipa: HPFAR_EL2.FIPA, and the page offset from FAR */
		uint64_t hpfar = get(m, v + o.fault_hpfar), far = get(m, v + o.fault_far);
		exit->reason = HS_EXIT_S2_FAULT;
		exit->x2 = ((hpfar & 0x0000fffffffffff0ULL) << 8) | (far & 0xfff);
		exit->x3 = esr;
	} else {
		exit->reason = HS_EXIT_OTHER;
		exit->x3 = esr;
	}
	return 0;
}

/* free_hyp_memcache of a memcache in host memory: pop every page; their number. */
static uint64_t free_memcache(struct hs_machine *m, const struct lx_offs *o, uint64_t mc)
{
	uint64_t head = get(m, mc + o->mc_head), nr = get(m, mc + o->mc_nr), n = 0;
	for (; nr && n < (1u << 20); nr--, n++)
		head = get(m, head & ~(HS_PAGE_SIZE - 1));
	put(m, mc + o->mc_head, 0, 8, NULL);
	put(m, mc + o->mc_nr, 0, 8, NULL);
	return n;
}

int hs_lx_vm_finalize(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, int64_t *ret,
		      struct hs_error *err)
{
	struct lx_offs o;
	int rc = offs_get(m, &o, err);
	if (rc)
		return rc;
	uint64_t a[1] = {vm->handle};
	/* 6.12: one __pkvm_teardown_vm does it all. */
	const char *call = has_reserve(m) ? "__pkvm_finalize_teardown_vm" : "__pkvm_teardown_vm";
	if ((rc = hs_lx_call(m, cpu, call, a, 1, ret, err)) || *ret)
		return rc;
	/* pkvm_destroy_hyp_vm: the hypervisor pushed every page it held into the memcaches. */
	vm->returned += free_memcache(m, &o, vm->kvm_pa + o.teardown_mc);
	if (o.s2_teardown_mc != NO_FIELD)
		vm->returned += free_memcache(m, &o, vm->kvm_pa + o.s2_teardown_mc);
	/* kvm_arch_vcpu_destroy: pages never admitted; then the vCPU and the VM unshared. */
	if (o.vcpu_mc != NO_FIELD)
		vm->ledger.memcache = free_memcache(m, &o, vm->vcpu_pa + o.vcpu_mc);
	vm->finalized = true;
	if ((rc = share_hyp(m, cpu, vm->vcpu_pa, vm->vcpu_pages, false, err)))
		return rc;
	for (size_t i = 0; i < vm->nr_extra; i++)
		if ((rc = share_hyp(m, cpu, vm->extra_vcpus[i], vm->vcpu_pages, false, err)))
			return rc;
	return share_hyp(m, cpu, vm->kvm_pa, vm->kvm_pages, false, err);
}

size_t hs_lx_vm_table(struct hs_machine *m, uint64_t *handles, size_t max)
{
	uint64_t sym, table;
	size_t n = 0;
	if (hs_sym_pa(m, "__kvm_nvhe_vm_table", &sym, NULL) || !get(m, sym) ||
	    hs_el2_va_to_pa(m, 0, get(m, sym), &table, NULL))
		return 0;
	for (unsigned i = 0; i < LX_MAX_PVMS && n < max; i++) {
		uint64_t vm_va = get(m, table + 8 * i);
		if (vm_va && vm_va != RESERVED_ENTRY)
			handles[n++] = HS_VM_HANDLE_OFFSET + i;
	}
	return n;
}

int hs_lx_vm_regs(struct hs_machine *m, uint64_t handle, uint64_t *vttbr, uint64_t *vtcr,
		  struct hs_error *err)
{
	uint64_t sym, table_va, table, vm_va, vm, off_vmid, off_pgd, off_vtcr;
	int rc;
	if ((rc = hs_sym_pa(m, "__kvm_nvhe_vm_table", &sym, err)))
		return rc;
	table_va = get(m, sym);
	if (!table_va || handle < HS_VM_HANDLE_OFFSET ||
	    handle - HS_VM_HANDLE_OFFSET >= LX_MAX_PVMS)
		return hs_err(err, -ENOENT, "no VM %#" PRIx64, handle);
	if ((rc = hs_el2_va_to_pa(m, 0, table_va, &table, err)))
		return rc;
	vm_va = get(m, table + 8 * (handle - HS_VM_HANDLE_OFFSET));
	if (!vm_va || vm_va == RESERVED_ENTRY)
		return hs_err(err, -ENOENT, "no VM %#" PRIx64 " in the hypervisor's vm_table%s",
			      handle, vm_va ? " (reserved, not initialised)" : "");
	struct hs_dwarf *dw = hs_linux_dwarf(m, err);
	if (!dw)
		return -ENOENT;
	if ((rc = hs_el2_va_to_pa(m, 0, vm_va, &vm, err)) ||
	    (rc = hs_dwarf_member_path(dw, "pkvm_hyp_vm", "kvm.arch.mmu.vmid", &off_vmid, NULL,
				       err)) ||
	    (rc = hs_dwarf_member_path(dw, "pkvm_hyp_vm", "kvm.arch.mmu.pgd_phys", &off_pgd, NULL,
				       err)) ||
	    (rc = hs_dwarf_member_path(dw, "pkvm_hyp_vm", "kvm.arch.mmu.vtcr", &off_vtcr, NULL,
				       err)))
		return rc;
	*vtcr = get(m, vm + off_vtcr);
	*vttbr = (get(m, vm + off_pgd) & 0x0000fffffffffffeULL) |
		 ((get(m, vm + off_vmid) & 0xffff) << 48);
	return 0;
}

const struct hs_lx_ledger *hs_lx_vm_ledger(struct hs_machine *m, struct hs_lx_vm *vm)
{
	struct hs_lx_ledger *l = &vm->ledger;
	struct lx_offs o;
	/* Pages still in the host's vCPU memcache were not given yet. */
	if (!vm->finalized && !offs_get(m, &o, NULL) && o.vcpu_mc != NO_FIELD)
		l->memcache = get(m, vm->vcpu_pa + o.vcpu_mc + o.mc_nr);
	l->handle = vm->handle;
	l->protected_vm = vm->protected_vm;
	l->finalized = vm->finalized;
	l->guest_back = vm->nr_back;
	l->shared = vm->kvm_pages + vm->vcpu_pages;
	l->donated = vm->hyp_vm_pages + vm->pgd_pages + vm->hyp_vcpu_pages + vm->extra_donated +
		     vm->mc_given - l->memcache;
	l->returned = vm->returned;
	l->kvm_pa = vm->kvm_pa;
	l->vcpu_pa = vm->vcpu_pa;
	l->hyp_vm_pa = vm->hyp_vm_pa;
	l->pgd_pa = vm->pgd_pa;
	l->hyp_vcpu_pa = vm->hyp_vcpu_pa;
	l->kvm_pages = vm->kvm_pages;
	l->vcpu_pages = vm->vcpu_pages;
	l->hyp_vm_pages = vm->hyp_vm_pages;
	l->pgd_pages = vm->pgd_pages;
	l->hyp_vcpu_pages = vm->hyp_vcpu_pages;
	l->host_vtcr = vm->host_vtcr;
	return l;
}

struct hs_lx_vm *hs_lx_vm_copy(const struct hs_lx_vm *vm)
{
	struct hs_lx_vm *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	*n = *vm;
	n->back = n->nr_back ? malloc(vm->nr_back * sizeof(*n->back)) : NULL;
	n->extra_vcpus = n->nr_extra ? malloc(vm->nr_extra * sizeof(*n->extra_vcpus)) : NULL;
	if ((vm->nr_back && !n->back) || (vm->nr_extra && !n->extra_vcpus)) {
		hs_lx_vm_free(n);
		return NULL;
	}
	if (vm->nr_back)
		memcpy(n->back, vm->back, vm->nr_back * sizeof(*n->back));
	if (vm->nr_extra)
		memcpy(n->extra_vcpus, vm->extra_vcpus, vm->nr_extra * sizeof(*n->extra_vcpus));
	return n;
}

void hs_lx_vm_free(struct hs_lx_vm *vm)
{
	if (vm) {
		free(vm->back);
		free(vm->extra_vcpus);
	}
	free(vm);
}

/* The struct as it is (this build's layout, its pointers dropped), then its two arrays. */
void hs_lx_vm_encode(const struct hs_lx_vm *vm, struct hs_bytes *b)
{
	struct hs_lx_vm copy = *vm;
	uint32_t size = sizeof(copy);
	copy.back = copy.extra_vcpus = NULL;
	hs_bytes_put(b, &size, sizeof(size));
	hs_bytes_put(b, &copy, sizeof(copy));
	hs_bytes_put(b, vm->back, vm->nr_back * sizeof(*vm->back));
	hs_bytes_put(b, vm->extra_vcpus, vm->nr_extra * sizeof(*vm->extra_vcpus));
}

struct hs_lx_vm *hs_lx_vm_decode(struct hs_bytes_in *in, struct hs_error *err)
{
	uint32_t size = 0;
	hs_bytes_get(in, &size, sizeof(size));
	struct hs_lx_vm *vm = calloc(1, sizeof(*vm));
	if (!vm) {
		hs_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (size != sizeof(*vm)) {
		free(vm);
		hs_err(err, -EINVAL, "the host's Linux VM records are of another hypscope build");
		return NULL;
	}
	hs_bytes_get(in, vm, sizeof(*vm));
	vm->back = vm->extra_vcpus = NULL;
	size_t left = (in->len - in->off) / sizeof(uint64_t);
	bool ok = !in->short_read && vm->nr_back <= left && vm->nr_extra <= left - vm->nr_back;
	if (ok && vm->nr_back)
		ok = (vm->back = malloc(vm->nr_back * sizeof(*vm->back))) != NULL;
	if (ok && vm->nr_extra)
		ok = (vm->extra_vcpus = malloc(vm->nr_extra * sizeof(*vm->extra_vcpus))) != NULL;
	if (!ok) {
		if (!in->short_read && vm->nr_back <= left && vm->nr_extra <= left - vm->nr_back)
			hs_err(err, -ENOMEM, "out of memory");
		else
			hs_err(err, -EINVAL, "the host's Linux VM records are cut short");
		vm->nr_back = vm->nr_extra = 0;
		hs_lx_vm_free(vm);
		return NULL;
	}
	if (vm->nr_back)
		hs_bytes_get(in, vm->back, vm->nr_back * sizeof(*vm->back));
	if (vm->nr_extra)
		hs_bytes_get(in, vm->extra_vcpus, vm->nr_extra * sizeof(*vm->extra_vcpus));
	return vm;
}

void hs_lx_vm_page_back(struct hs_lx_vm *vm, uint64_t pfn)
{
	uint64_t *n = realloc(vm->back, (vm->nr_back + 1) * sizeof(*n));
	if (n) {
		vm->back = n;
		n[vm->nr_back++] = pfn;
	}
}

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

/* Is the page the host's alone in the host stage 2: an OWNED leaf, or not annotated? */
static bool host_owns(struct hs_machine *m, const struct hs_pt_regime *r, uint64_t pa)
{
	struct hs_phys ph = {.read = phys_read, .ud = m};
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&ph, r, pa, &t);
	if (rc == 0)
		return t.attrs.state == 0 && t.out_pa == pa;
	return rc == 1 && t.nr_steps && t.steps[t.nr_steps - 1].desc == 0;
}

static int check_range(struct hs_machine *m, const struct hs_pt_regime *r, const char *what,
		       uint64_t pa, uint64_t pages, struct hs_strbuf *sb)
{
	int bad = 0;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t p = pa + i * HS_PAGE_SIZE;
		if (host_owns(m, r, p))
			continue;
		bad++;
		hs_sb_printf(sb, "%s page %#" PRIx64 ": not the host's alone in the host stage 2\n",
			     what, p);
	}
	return bad;
}

int hs_lx_vm_check_gone(struct hs_machine *m, struct hs_lx_vm *vm, struct hs_strbuf *sb,
			struct hs_error *err)
{
	const struct hs_lx_ledger *l = hs_lx_vm_ledger(m, vm);
	uint64_t vtcr, vttbr;
	struct hs_pt_regime r;
	char msg[160];
	hs_host_s2_regs(m, 0, &vtcr, &vttbr);
	if (hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)))
		return hs_err(err, -EINVAL, "the host stage 2: %s", msg);
	int bad = 0;
	if (l->donated != l->returned) {
		bad++;
		hs_sb_printf(sb,
			     "the host donated %" PRIu64 " pages, the hypervisor gave %" PRIu64
			     " back\n",
			     l->donated, l->returned);
	}
	bad += check_range(m, &r, "struct kvm", l->kvm_pa, l->kvm_pages, sb);
	bad += check_range(m, &r, "struct kvm_vcpu", l->vcpu_pa, l->vcpu_pages, sb);
	bad += check_range(m, &r, "hyp VM", l->hyp_vm_pa, l->hyp_vm_pages, sb);
	bad += check_range(m, &r, "stage-2 PGD", l->pgd_pa, l->pgd_pages, sb);
	bad += check_range(m, &r, "hyp vCPU", l->hyp_vcpu_pa, l->hyp_vcpu_pages, sb);
	for (size_t i = 0; i < vm->nr_back; i++)
		bad += check_range(m, &r, "guest", vm->back[i] << HS_PAGE_SHIFT, 1, sb);
	return bad;
}
