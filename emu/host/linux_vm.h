/* SPDX-License-Identifier: MIT */
/*
 * The host's side of Linux's pKVM VMs (arch/arm64/kvm/pkvm.c of Linux 7.x), played
 * against Linux's own hypervisor object: the host's struct kvm and struct kvm_vcpu in
 * host memory shared with the hypervisor, laid out from the image's DWARF; the pages
 * Linux would donate for the hyp VM, the vCPU and the stage-2 PGD, sized by Linux's rules
 * (pkvm_get_hyp_vm_size, PAGE_ALIGN(sizeof(struct pkvm_hyp_vcpu)),
 * kvm_pgtable_stage2_pgd_size of the VTCR); the hypercalls in Linux's order; the vCPU's
 * memcache topped up before every map; the guest run through __kvm_vcpu_run with the
 * vCPU's registers in the host's struct kvm_vcpu. host_vm.c keeps the gfn->pfn record
 * and calls this module where Linux's contract differs from the bundled hypervisor's.
 */
#ifndef HS_LINUX_VM_H
#define HS_LINUX_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "host_vm.h"
#include "machine.h"
#include "strbuf.h"

/* The host's state of one Linux VM: what it allocated, shared, donated and got back. */
struct hs_lx_vm;

/* What the host gave the hypervisor for a VM and what came back, in pages. */
struct hs_lx_ledger {
	uint64_t handle;
	bool protected_vm, finalized;
	uint64_t guest_back; /* guest pages given back to the host (reclaimed or unshared) */
	uint64_t shared;     /* struct kvm + struct kvm_vcpu pages shared with the hypervisor */
	uint64_t donated;    /* hyp VM, PGD, hyp vCPUs, memcache pages the hypervisor admitted */
	uint64_t returned;   /* pages the hypervisor pushed back (teardown memcaches) */
	uint64_t memcache;   /* pages left in the host's vCPU memcache (never admitted) */
	uint64_t kvm_pa, hyp_vm_pa, pgd_pa, hyp_vcpu_pa, vcpu_pa;
	uint64_t hyp_vm_pages, pgd_pages, hyp_vcpu_pages, kvm_pages, vcpu_pages;
	uint64_t host_vtcr; /* the VTCR the host computed (kvm->arch.mmu.vtcr) */
};

/*
 * Create a VM as Linux does from KVM_CREATE_VM to the first KVM_RUN: share struct kvm,
 * __pkvm_reserve_vm, share struct kvm_vcpu, __pkvm_init_vm, __pkvm_init_vcpu,
 * __pkvm_vcpu_load on `cpu`. *handle is the reserved handle.
 */
int hs_lx_vm_create(struct hs_machine *m, unsigned cpu, bool protected_vm, uint64_t entry_ipa,
		    struct hs_lx_vm **out, uint64_t *handle, struct hs_error *err);
/* pkvm_create_hyp_vcpu for another host vCPU with index idx; *ret is Linux's result. */
int hs_lx_vm_add_vcpu(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, uint64_t idx,
		      int64_t *ret, struct hs_error *err);
/* __pkvm_init_vm again with the VM's own struct kvm, hyp VM and PGD pages. */
int hs_lx_vm_reinit(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, int64_t *ret,
		    struct hs_error *err);
/* __pkvm_vcpu_load(handle, 0, hcr_el2) / __pkvm_vcpu_put: Linux's return nothing. */
int hs_lx_vm_load(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, struct hs_error *err);
int hs_lx_vm_put(struct hs_machine *m, unsigned cpu, struct hs_error *err);
/* topup_hyp_memcache of the vCPU's memcache to what a stage-2 map may need. */
int hs_lx_vm_topup(struct hs_machine *m, struct hs_lx_vm *vm, struct hs_error *err);
/* __kvm_vcpu_run of the vCPU loaded on `cpu`: the guest program does op at ipa. */
int hs_lx_vm_run(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, uint64_t op, uint64_t ipa,
		 uint64_t value, struct hs_vm_exit *exit, struct hs_error *err);
/*
 * The end of a VM once its pages are back (start_teardown, reclaim/unshare done by the
 * caller): __pkvm_finalize_teardown_vm, the teardown memcaches freed, the vCPU memcache
 * freed, struct kvm_vcpu and struct kvm unshared. *ret is finalize's result.
 */
int hs_lx_vm_finalize(struct hs_machine *m, unsigned cpu, struct hs_lx_vm *vm, int64_t *ret,
		      struct hs_error *err);
/* A Linux hypercall by name: 0 with *ret = x1, or an error naming a missing one. */
int hs_lx_call(struct hs_machine *m, unsigned cpu, const char *name, const uint64_t *args,
	       unsigned nargs, int64_t *ret, struct hs_error *err);
/* Linux's name of a bundled guest hypercall (HS_HC_*), NULL for none. */
const char *hs_lx_guest_call_name(int nr);
/* HS_PROT_* -> enum kvm_pgtable_prot of the image. */
int hs_lx_prot(struct hs_machine *m, unsigned prot, uint64_t *out, struct hs_error *err);
/* The handles of the VMs in the hypervisor's vm_table (initialised ones only). */
size_t hs_lx_vm_table(struct hs_machine *m, uint64_t *handles, size_t max);
/* VTTBR/VTCR of the hyp VM's struct kvm_s2_mmu (vm_table[handle], read through DWARF). */
int hs_lx_vm_regs(struct hs_machine *m, uint64_t handle, uint64_t *vttbr, uint64_t *vtcr,
		  struct hs_error *err);
const struct hs_lx_ledger *hs_lx_vm_ledger(struct hs_machine *m, struct hs_lx_vm *vm);
/* Note a guest page the hypervisor gave back (for the check after teardown). */
void hs_lx_vm_page_back(struct hs_lx_vm *vm, uint64_t pfn);
/*
 * A torn-down VM against the hypervisor's tables: every page donated came back (the
 * ledger), and every page of the VM's (struct kvm, kvm_vcpu, hyp VM, PGD, hyp vCPU,
 * guest pages given back) is the host's alone in the host stage 2. Returns the number
 * of mismatches (described in sb) or a negative error.
 */
int hs_lx_vm_check_gone(struct hs_machine *m, struct hs_lx_vm *vm, struct hs_strbuf *sb,
			struct hs_error *err);
void hs_lx_vm_free(struct hs_lx_vm *vm);
/* A deep copy (checkpoints); NULL when out of memory. */
struct hs_lx_vm *hs_lx_vm_copy(const struct hs_lx_vm *vm);
/* Saved machines: the host's record of one Linux VM; decode: NULL and *err when bad. */
struct hs_bytes;
struct hs_bytes_in;
void hs_lx_vm_encode(const struct hs_lx_vm *vm, struct hs_bytes *b);
struct hs_lx_vm *hs_lx_vm_decode(struct hs_bytes_in *in, struct hs_error *err);

#endif
