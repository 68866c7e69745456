/* SPDX-License-Identifier: MIT */
/*
 * The one ABI shared by the hypervisor (hyp/, AArch64, freestanding) and the
 * emulator (emu/, host C). Everything the two sides must agree on lives here:
 * hypercall numbers and names, return codes, owner ids, page states, the
 * encoding of owner annotations in invalid host stage-2 entries, the vmemmap
 * page metadata, the per-CPU init parameters and the machine's memory map.
 *
 * The emulator decodes hypervisor data with these definitions, so the two
 * cannot drift apart. This header must stay valid C11 and valid assembly
 * (only macros outside the __ASSEMBLER__ guard).
 */
#ifndef HYPSCOPE_ABI_H
#define HYPSCOPE_ABI_H

/* ------------------------------------------------------------------------ */
/* Machine memory map (physical addresses)                                   */
/* ------------------------------------------------------------------------ */

/* PL011-compatible UART: only DR (0x00) and FR (0x18) are meaningful. */
#define HS_UART_BASE 0x09000000UL
#define HS_UART_SIZE 0x1000UL
#define HS_UART_DR 0x00
#define HS_UART_FR 0x18
#define HS_UART_FR_TXFF (1u << 5)

/* Default RAM: 1 GiB at 1 GiB, like QEMU's virt board. */
#define HS_RAM_BASE_DEFAULT 0x40000000UL
#define HS_RAM_SIZE_DEFAULT 0x40000000UL

/* Physical address size the machine implements (Cortex-A72: 44 bits). */
#define HS_PA_BITS 44

/* The hypervisor image is linked at this physical address. */
#define HS_HYP_LOAD_OFFSET 0x00200000UL

/* ------------------------------------------------------------------------ */
/* Page geometry                                                             */
/* ------------------------------------------------------------------------ */
#define HS_PAGE_SHIFT 12
#define HS_PAGE_SIZE (1UL << HS_PAGE_SHIFT)

/* ------------------------------------------------------------------------ */
/* Hypercalls (SMCCC fast calls, SMC64, vendor-specific hypervisor service) */
/* ------------------------------------------------------------------------ */
/*
 * x0 = HS_HC_FN(n), arguments in x1..x6.
 * On return x0 = HS_SMCCC_SUCCESS when the call was dispatched (the handler's
 * result, 0 or a negative errno, is in x1) or HS_SMCCC_NOT_SUPPORTED when the
 * function id is unknown or not allowed at this point of the boot.
 */
#define HS_HC_FN_BASE 0xC6000000UL
#define HS_HC_FN(n) (HS_HC_FN_BASE + (n))
#define HS_SMCCC_SUCCESS 0
#define HS_SMCCC_NOT_SUPPORTED (-1)

/*
 * X(number, name, nargs, phase)
 *   phase: HS_HC_EARLY  only before __pkvm_prot_finalize has run on any CPU
 *          HS_HC_ANY    always
 *          HS_HC_LATE   only after protection is finalised
 * The names are what the debugger accepts (`hvc NAME`) and prints.
 */
#define HS_HC_EARLY 1
#define HS_HC_ANY 2
#define HS_HC_LATE 3

#define HS_HYPERCALLS(X)                                    \
	X(0, nop, 0, HS_HC_ANY)                             \
	X(1, __kvm_hyp_init, 1, HS_HC_EARLY)                \
	X(2, __pkvm_init, 5, HS_HC_EARLY)                   \
	X(3, __pkvm_create_private_mapping, 3, HS_HC_EARLY) \
	X(4, __pkvm_cpu_set_vector, 1, HS_HC_EARLY)         \
	X(5, __pkvm_prot_finalize, 0, HS_HC_ANY)            \
	X(6, __kvm_flush_vm_context, 0, HS_HC_ANY)          \
	X(7, __kvm_tlb_flush_vmid, 1, HS_HC_ANY)            \
	X(8, host_share_hyp, 1, HS_HC_LATE)                 \
	X(9, host_unshare_hyp, 1, HS_HC_LATE)               \
	X(10, host_share_guest, 4, HS_HC_LATE)              \
	X(11, host_unshare_guest, 3, HS_HC_LATE)            \
	X(12, host_relax_perms_guest, 2, HS_HC_LATE)        \
	X(13, host_wrprotect_guest, 3, HS_HC_LATE)          \
	X(14, host_test_clear_young_guest, 4, HS_HC_LATE)   \
	X(15, host_mkyoung_guest, 1, HS_HC_LATE)            \
	X(16, host_donate_guest, 2, HS_HC_LATE)             \
	X(17, init_vm, 3, HS_HC_LATE)                       \
	X(18, init_vcpu, 3, HS_HC_LATE)                     \
	X(19, vcpu_load, 2, HS_HC_LATE)                     \
	X(20, vcpu_put, 0, HS_HC_LATE)                      \
	X(21, teardown_vm, 1, HS_HC_LATE)                   \
	X(22, reclaim_page, 2, HS_HC_LATE)                  \
	X(23, vcpu_run, 3, HS_HC_LATE)                      \
	X(24, hyp_pin_shared, 1, HS_HC_LATE)                \
	X(25, hyp_unpin_shared, 1, HS_HC_LATE)              \
	X(26, host_donate_hyp, 2, HS_HC_LATE)               \
	X(27, hyp_donate_host, 2, HS_HC_LATE)               \
	X(28, start_teardown_vm, 1, HS_HC_LATE)

#define HS_HC_ENUM_ENTRY(num, name, nargs, phase) HS_HC_##name = (num),
#define HS_HC_COUNT 29
/*
 * host_donate_hyp(pfn, nr_pages) / hyp_donate_host(pfn, nr_pages) are test and
 * debug entry points to the hypervisor's internal donations (which the VM code
 * calls directly); hyp_donate_host only returns pages donated through
 * host_donate_hyp. See docs/ownership.md.
 */

/*
 * Hyp-stub calls (before KVM's vectors are installed), Linux-style:
 * x0 = stub function, x1 = argument. Return 0 in x0 on success.
 */
#define HS_STUB_SET_VECTORS 0x0UL
#define HS_STUB_RESET_VECTORS 0x1UL
#define HS_STUB_ERROR 0xbadca11UL

/*
 * PSCI (SMC Calling Convention, standard service): the host's calls are
 * trapped by the hypervisor (HCR_EL2.TSC) and relayed to the emulated EL3
 * firmware; CPU_ON is redirected to the hypervisor's own entry point.
 */
#define HS_PSCI_VERSION 0x84000000UL
#define HS_PSCI_CPU_OFF 0x84000002UL
#define HS_PSCI_CPU_ON 0xC4000003UL
#define HS_PSCI_AFFINITY_INFO 0xC4000004UL
#define HS_PSCI_SYSTEM_OFF 0x84000008UL
#define HS_PSCI_RET_SUCCESS 0
#define HS_PSCI_RET_NOT_SUPPORTED (-1)
#define HS_PSCI_RET_INVALID_PARAMS (-2)
#define HS_PSCI_RET_DENIED (-3)
#define HS_PSCI_RET_ALREADY_ON (-4)
#define HS_PSCI_RET_ON_PENDING (-5)
#define HS_PSCI_RET_INTERNAL_FAILURE (-6)
#define HS_PSCI_RET_INVALID_ADDRESS (-9)
#define HS_PSCI_AFFINITY_ON 0
#define HS_PSCI_AFFINITY_OFF 1
#define HS_PSCI_AFFINITY_ON_PENDING 2

/* Errors (negative values in x1), the Linux errno numbers. */
#define HS_EPERM 1
#define HS_ENOENT 2
#define HS_EAGAIN 11
#define HS_ENOMEM 12
#define HS_EFAULT 14
#define HS_EBUSY 16
#define HS_EEXIST 17
#define HS_EINVAL 22
#define HS_ERANGE 34
#define HS_E2BIG 7
#define HS_ENOTSUPP 524

/* Protections for mapping hypercalls. */
#define HS_PROT_R 0x1UL
#define HS_PROT_W 0x2UL
#define HS_PROT_X 0x4UL
#define HS_PROT_DEVICE 0x8UL
#define HS_PROT_RW (HS_PROT_R | HS_PROT_W)
#define HS_PROT_RX (HS_PROT_R | HS_PROT_X)
#define HS_PROT_RWX (HS_PROT_R | HS_PROT_W | HS_PROT_X)

/* ------------------------------------------------------------------------ */
/* Ownership                                                                 */
/* ------------------------------------------------------------------------ */
#define HS_OWNER_HOST 0
#define HS_OWNER_HYP 1
#define HS_OWNER_GUEST 2

/* Page states (pKVM's enum pkvm_page_state). */
#define HS_PAGE_OWNED 0
#define HS_PAGE_SHARED_OWNED 1
#define HS_PAGE_SHARED_BORROWED 2
#define HS_PAGE_NOPAGE 3

/*
 * Owner annotation in an *invalid* host stage-2 entry (bit 0 clear):
 *
 *   63    60 59                                    4 3     1 0
 *  +--------+---------------------------------------+-------+---+
 *  |  type  |              metadata                 | owner | 0 |
 *  +--------+---------------------------------------+-------+---+
 *
 *  type  1 = ownership annotation (0 with owner 0 = plain empty entry, which
 *          means "owned by the host": a zeroed table gives everything to it)
 *  owner HS_OWNER_*
 *  metadata, for HS_OWNER_GUEST: VM handle in [15:0], gfn in [55:16] of the
 *          metadata field (bits [19:4] and [59:20] of the entry).
 *
 * Annotations are always written on last-level (page) entries.
 */
#define HS_ANNOT_TYPE_SHIFT 60
#define HS_ANNOT_TYPE_MASK (0xfUL << HS_ANNOT_TYPE_SHIFT)
#define HS_ANNOT_TYPE_OWNER 1UL
#define HS_ANNOT_META_SHIFT 4
#define HS_ANNOT_META_MASK (0xffffffffffffffUL << HS_ANNOT_META_SHIFT)
#define HS_ANNOT_OWNER_SHIFT 1
#define HS_ANNOT_OWNER_MASK (0x7UL << HS_ANNOT_OWNER_SHIFT)
#define HS_ANNOT_META_HANDLE_MASK 0xffffUL
#define HS_ANNOT_META_GFN_SHIFT 16

/* Page state of valid stage-2 / EL2 stage-1 leaves: software bits [56:55]. */
#define HS_PTE_STATE_SHIFT 55
#define HS_PTE_STATE_MASK (0x3UL << HS_PTE_STATE_SHIFT)

/*
 * struct hs_hyp_page: one per page of memory in the hypervisor's vmemmap,
 * indexed by absolute PFN. 8 bytes:
 *   [15:0]  refcount
 *   [23:16] order (buddy), HS_NO_ORDER when not a free-block head
 *   [27:24] host state (HS_PAGE_*)
 *   [31:28] hyp state, stored complemented (~state, low two bits) so that a zeroed
 *           vmemmap means host OWNED / hyp NOPAGE
 *   [63:32] host->guest share count
 */
#define HS_NO_ORDER 0xff
#define HS_HYP_PAGE_SIZE 8

/* ------------------------------------------------------------------------ */
/* Per-CPU init parameters (read by EL2 with the MMU off)                    */
/* ------------------------------------------------------------------------ */
#define HS_PARAMS_MAIR 0x00
#define HS_PARAMS_TCR 0x08
#define HS_PARAMS_TPIDR 0x10
#define HS_PARAMS_STACK_HYP_VA 0x18
#define HS_PARAMS_STACK_PA 0x20
#define HS_PARAMS_PGD_PA 0x28
#define HS_PARAMS_HCR 0x30
#define HS_PARAMS_VTTBR 0x38
#define HS_PARAMS_VTCR 0x40
#define HS_PARAMS_SIZE 0x48

/* Per-CPU stack: HS_STACK_SIZE mapped above an unmapped guard of the same size. */
#define HS_STACK_SIZE HS_PAGE_SIZE

/* Memory regions the host tells the hypervisor about (Linux's hyp_memory). */
#define HS_MAX_MEMBLOCK_REGIONS 8

/*
 * The hypervisor's buddy allocator (struct hyp_pool), read by the emulator's
 * checker. Free pages hold a list node {next, prev} (HYP VAs) in their first
 * 16 bytes and are otherwise zero. List heads live in free_area[order].
 */
#define HS_MAX_ORDER 11

/* Maximum CPUs the ABI supports. */
#define HS_MAX_CPUS 8

/* Maximum VMs. */
#define HS_MAX_VMS 128
#define HS_VM_HANDLE_OFFSET 0x1000

/* ------------------------------------------------------------------------ */
/* Guests                                                                    */
/* ------------------------------------------------------------------------ */
/*
 * init_vm(pa, nr_pages, flags): the host donates nr_pages contiguous pages
 * at pa (16 KiB aligned): page 0 holds the VM, page 1 its vCPUs, pages 2-3
 * the concatenated stage-2 root, the rest the VM's own table pool. Returns the
 * handle (HS_VM_HANDLE_OFFSET + index; VMID = index + 1).
 */
#define HS_VM_F_PROTECTED 0x1UL
/*
 * Set by start_teardown_vm (never by the host at init_vm): the VM runs no
 * more, and the host takes its pages back one by one with reclaim_page(handle,
 * gfn) before teardown_vm frees the rest, as Linux does for a dying guest.
 */
#define HS_VM_F_DYING 0x2UL
#define HS_VM_MIN_PAGES 8
#define HS_VM_MAX_PAGES 512
#define HS_VM_ALIGN (4 * HS_PAGE_SIZE)
#define HS_MAX_VCPUS 4
#define HS_GUEST_IPA_BITS 40
#define HS_GUEST_S2_START_LEVEL 1

/*
 * vcpu_run(op, ipa, value): what the bundled guest program does next. Any op
 * but RESUME restarts the program (abandoning an access that faulted);
 * RESUME continues where the guest stopped (retrying a faulted access).
 */
#define HS_VCPU_OP_RESUME 0
#define HS_VCPU_OP_READ 1  /* ldr x2, [ipa]  */
#define HS_VCPU_OP_WRITE 2 /* str value, [ipa] */
#define HS_VCPU_OP_EXEC 3  /* blr ipa (returns with x0 = HS_GUEST_DONE_EXEC) */

/* vcpu_run's result in x1, with details in x2 and x3. */
#define HS_EXIT_GUEST_HVC 1 /* the guest called the hypervisor: x2 = guest x0, x3 = guest x2 */
#define HS_EXIT_S2_FAULT 2  /* stage-2 abort: x2 = IPA, x3 = ESR_EL2 */
#define HS_EXIT_OTHER 3	    /* anything else: x3 = ESR_EL2 */
/*
 * An interrupt took the CPU back from the guest (the emulator's tick when a
 * guest exhausts its instruction budget, as a timer would on hardware):
 * `vcpu_run` with HS_VCPU_OP_RESUME goes on where it stopped.
 */
#define HS_EXIT_IRQ 4

/* Guest x0 at its hypercall: what it did. */
#define HS_GUEST_DONE_IDLE 0x10
#define HS_GUEST_DONE_READ 0x11
#define HS_GUEST_DONE_WRITE 0x12
#define HS_GUEST_DONE_EXEC 0x13

/*
 * The start of a VM's page (read by the emulator): the VM table is an array
 * of HS_MAX_VMS HYP VAs (0 = free) at the address held by the hypervisor's
 * symbol hyp_vm_table.
 */
#define HS_VM_LAYOUT_HANDLE 0x00
#define HS_VM_LAYOUT_VTTBR 0x08
#define HS_VM_LAYOUT_VTCR 0x10
#define HS_VM_LAYOUT_FLAGS 0x18
#define HS_VM_LAYOUT_PA 0x20
#define HS_VM_LAYOUT_NR_PAGES 0x28

#ifndef __ASSEMBLER__
#include <stdint.h>

struct hs_vm_layout {
	uint64_t handle;
	uint64_t vttbr;
	uint64_t vtcr;
	uint64_t flags;
	uint64_t pa; /* the donated block */
	uint64_t nr_pages;
};

enum hs_hypercall { HS_HYPERCALLS(HS_HC_ENUM_ENTRY) };

struct hs_init_params {
	uint64_t mair_el2;
	uint64_t tcr_el2;
	uint64_t tpidr_el2;
	uint64_t stack_hyp_va;
	uint64_t stack_pa;
	uint64_t pgd_pa;
	uint64_t hcr_el2;
	uint64_t vttbr;
	uint64_t vtcr;
};

struct hs_list_node {
	uint64_t next; /* HYP VA */
	uint64_t prev; /* HYP VA */
};

struct hs_hyp_pool_layout {
	struct hs_list_node free_area[HS_MAX_ORDER];
	uint64_t range_start; /* PA, first page managed */
	uint64_t range_end;   /* PA, end (exclusive) */
	uint32_t max_order;
	uint32_t lock;
};

struct hs_memblock_region {
	uint64_t base;
	uint64_t size;
};

/* Decoded view of one vmemmap entry; see the layout above. */
static inline uint16_t hs_hyp_page_refcount(uint64_t raw)
{
	return (uint16_t)(raw & 0xffff);
}
static inline uint8_t hs_hyp_page_order(uint64_t raw)
{
	return (uint8_t)((raw >> 16) & 0xff);
}
static inline unsigned hs_hyp_page_host_state(uint64_t raw)
{
	return (unsigned)((raw >> 24) & 0xf);
}
static inline unsigned hs_hyp_page_hyp_state(uint64_t raw)
{
	/* stored complemented in the low two bits: zero decodes as NOPAGE */
	return (unsigned)(~(raw >> 28) & 0x3);
}
static inline uint32_t hs_hyp_page_guest_shares(uint64_t raw)
{
	return (uint32_t)(raw >> 32);
}

static inline uint64_t hs_annotation(unsigned owner, uint64_t meta)
{
	if (owner == HS_OWNER_HOST && meta == 0)
		return 0;
	return (HS_ANNOT_TYPE_OWNER << HS_ANNOT_TYPE_SHIFT) |
	       ((meta << HS_ANNOT_META_SHIFT) & HS_ANNOT_META_MASK) |
	       (((uint64_t)owner << HS_ANNOT_OWNER_SHIFT) & HS_ANNOT_OWNER_MASK);
}
static inline unsigned hs_annotation_owner(uint64_t pte)
{
	return (unsigned)((pte & HS_ANNOT_OWNER_MASK) >> HS_ANNOT_OWNER_SHIFT);
}
static inline uint64_t hs_annotation_meta(uint64_t pte)
{
	return (pte & HS_ANNOT_META_MASK) >> HS_ANNOT_META_SHIFT;
}

/* ------------------------------------------------------------------------ */
/* Added by the hyp memory-management library (hyp/pgtable.c, page_alloc.c) */
/* ------------------------------------------------------------------------ */
/*
 * hyp_warn(): a broken invariant the hypervisor survives (refcount under- or
 * overflow, ...) executes BRK with this immediate at EL2. The emulator can
 * report it and resume at the next instruction.
 */
#define HS_BRK_WARN_IMM 0x801
/*
 * struct hs_hyp_pool_layout.max_order is inclusive: blocks of order
 * 0..max_order can exist (max_order <= HS_MAX_ORDER - 1), as in Linux.
 */
/*
 * Pool sizing: the worst-case number of table pages to map nr_pages pages
 * with 4 KiB pages and 512 entries per table, over 4 levels. The host sizes
 * the pool with these and the hypervisor divides it with the same numbers.
 */
static inline uint64_t hs_max_table_pages(uint64_t nr_pages)
{
	uint64_t total = 0;
	for (int i = 0; i < 4; i++) {
		nr_pages = (nr_pages + 511) / 512;
		total += nr_pages;
	}
	return total;
}

/* Pages of vmemmap (struct hs_hyp_page, by absolute pfn) covering one region. */
static inline uint64_t hs_vmemmap_pages_region(uint64_t base, uint64_t size)
{
	uint64_t start = (base >> HS_PAGE_SHIFT) * HS_HYP_PAGE_SIZE;
	uint64_t end = ((base + size) >> HS_PAGE_SHIFT) * HS_HYP_PAGE_SIZE;
	start &= ~(HS_PAGE_SIZE - 1);
	end = (end + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	return (end - start) >> HS_PAGE_SHIFT;
}

#define HS_PRIVATE_RANGE_PAGES ((1UL << 30) >> HS_PAGE_SHIFT)
#define HS_MMIO_RANGE_PAGES ((1UL << 30) >> HS_PAGE_SHIFT)
#define HS_HOST_S2_ROOT_PAGES 16

struct hs_pool_sizes {
	uint64_t vmemmap, vm_table, hyp_s1, host_s2, total;
};

static inline void hs_pool_sizes(const struct hs_memblock_region *r, unsigned n,
				 struct hs_pool_sizes *out)
{
	uint64_t mem = 0, vmemmap = 0;
	for (unsigned i = 0; i < n; i++) {
		mem += hs_max_table_pages(r[i].size >> HS_PAGE_SHIFT);
		vmemmap += hs_vmemmap_pages_region(r[i].base, r[i].size);
	}
	out->vmemmap = vmemmap;
	out->vm_table = (HS_MAX_VMS * 8 + HS_PAGE_SIZE - 1) / HS_PAGE_SIZE;
	out->hyp_s1 = mem + hs_max_table_pages(HS_PRIVATE_RANGE_PAGES);
	out->host_s2 = mem + HS_HOST_S2_ROOT_PAGES + hs_max_table_pages(HS_MMIO_RANGE_PAGES);
	out->total = out->vmemmap + out->vm_table + out->hyp_s1 + out->host_s2;
}
#endif /* __ASSEMBLER__ */

#endif /* HYPSCOPE_ABI_H */
