/* SPDX-License-Identifier: MIT */
/* Shared declarations of the hypervisor proper. */
#ifndef HYP_HYP_H
#define HYP_HYP_H

#include <hyp/arch.h>
#include <hyp/page_alloc.h>
#include <hyp/pgtable.h>
#include <hyp/types.h>
#include <hypscope/abi.h>

/* The host's registers, saved on every trap (host_entry.S). */
struct hyp_cpu_ctxt {
	u64 regs[31];
};

/* Per-CPU variables live in .hyp.percpu; TPIDR_EL2 = this CPU's copy - template. */
#define DEFINE_PER_CPU(type, name) __attribute__((section(".hyp.percpu"))) type name
#define this_cpu_ptr(ptr) ((__typeof__(ptr))((char *)(ptr) + read_sysreg(tpidr_el2)))
#define per_cpu_ptr(ptr, cpu) ((__typeof__(ptr))((char *)(ptr) + hyp_percpu_offset(cpu)))

extern struct hyp_cpu_ctxt host_ctxt;	      /* per CPU */
extern struct hs_init_params kvm_init_params; /* per CPU */
extern char __hyp_percpu_start[], __hyp_percpu_end[];
extern char __hyp_idmap_text_start[], __hyp_idmap_text_end[];
extern char __hyp_text_start[], __hyp_text_end[];
extern char __hyp_rodata_start[], __hyp_rodata_end[];
extern char __hyp_data_start[], __hyp_bss_end[];
extern char __kvm_hyp_host_vector[];

void __host_enter(struct hyp_cpu_ctxt *ctxt) __attribute__((noreturn));
void __pkvm_init_switch_pgd(u64 pgd, u64 sp, void (*fn)(void));

/* Set by the host before __pkvm_init (Linux writes kvm_nvhe_sym()s the same way). */
extern struct hs_memblock_region hyp_memory[HS_MAX_MEMBLOCK_REGIONS];
extern u32 hyp_memblock_nr;
extern u64 hyp_uart_va;

/* Console (console.c). */
void hyp_puts(const char *s);
int hyp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hyp_panic(const char *msg) __attribute__((noreturn));

/* mem_protect.c: guests */
int host_share_guest_pages(u64 pfn, u64 nr, struct hyp_pgtable *g, u64 gvttbr, u64 gfn,
			   unsigned prot);
int host_unshare_guest_pages(struct hyp_pgtable *g, u64 gvttbr, u64 gfn, u64 nr);
int host_donate_guest_page(u64 pfn, struct hyp_pgtable *g, u64 gvttbr, u64 gfn, u64 handle);
int guest_reclaim_all(struct hyp_pgtable *g);
int guest_reclaim_page(struct hyp_pgtable *g, u64 gvttbr, u64 gfn);

/* pkvm.c: VMs */
s64 __pkvm_init_vm(u64 pa, u64 nr_pages, u64 flags);
s64 __pkvm_init_vcpu(u64 handle, u64 idx, u64 entry_ipa);
s64 __pkvm_vcpu_load(u64 handle, u64 idx);
s64 __pkvm_vcpu_put(void);
void __pkvm_vcpu_run(struct hyp_cpu_ctxt *host);
s64 __pkvm_host_share_guest(u64 pfn, u64 gfn, u64 nr, u64 prot);
s64 __pkvm_host_unshare_guest(u64 handle, u64 gfn, u64 nr);
s64 __pkvm_host_donate_guest(u64 pfn, u64 gfn);
s64 __pkvm_host_relax_perms_guest(u64 gfn, u64 prot);
s64 __pkvm_host_wrprotect_guest(u64 handle, u64 gfn, u64 nr);
s64 __pkvm_host_test_clear_young_guest(u64 handle, u64 gfn, u64 nr, u64 mkold);
s64 __pkvm_host_mkyoung_guest(u64 gfn);
s64 __pkvm_teardown_vm(u64 handle);
s64 __pkvm_start_teardown_vm(u64 handle);
s64 __pkvm_reclaim_page(u64 handle, u64 gfn);

/* psci.c */
bool handle_host_psci(struct hyp_cpu_ctxt *ctxt);

/* setup.c */
extern u32 hyp_nr_cpus;
extern bool hyp_protected;
s64 hyp_percpu_offset(unsigned cpu);
int __pkvm_init(u64 phys, u64 size, u64 nr_cpus, u64 per_cpu_base, u64 hyp_va_bits);

/* mm.c: the hypervisor's own stage 1 */
extern struct hyp_pgtable pkvm_pgtable;
extern struct hyp_pool hpool;
extern u64 hyp_io_map_base, hyp_io_map_end;
int pkvm_create_mappings(void *from, void *to, unsigned prot);
int pkvm_create_mappings_locked(void *from, void *to, unsigned prot);
int __pkvm_create_private_mapping(u64 phys, u64 size, unsigned prot, u64 *haddr);
int pkvm_alloc_private_va_range(u64 size, u64 align, u64 *haddr);
int hyp_back_vmemmap(u64 phys, u64 size, u64 back_pa);
void pkvm_compute_io_map_base(u32 va_bits);

/* mem_protect.c: the host's stage 2 and page ownership */
extern struct hyp_pgtable host_s2_pgt;
extern u64 host_vtcr, host_vttbr;
int kvm_host_prepare_stage2(void *pgt_pool_base, u64 nr_pages);
void handle_host_mem_abort(struct hyp_cpu_ctxt *ctxt);
int host_stage2_set_owner(u64 addr, u64 size, unsigned owner, u64 meta);
bool addr_is_memory(u64 phys);
int __pkvm_host_share_hyp(u64 pfn);
int __pkvm_host_unshare_hyp(u64 pfn);
int __pkvm_hyp_pin_shared(u64 pfn);
int __pkvm_hyp_unpin_shared(u64 pfn);
int __pkvm_host_donate_hyp(u64 pfn, u64 nr_pages);
int __pkvm_hyp_donate_host(u64 pfn, u64 nr_pages);
/* Test/debug hypercalls: only give back what the debug donation took. */
int __pkvm_debug_host_donate_hyp(u64 pfn, u64 nr_pages);
int __pkvm_debug_hyp_donate_host(u64 pfn, u64 nr_pages);
int fix_host_ownership(void);

#endif
