/* SPDX-License-Identifier: MIT */
/*
 * QEMU's TLB functions libunicorn exports (with the _aarch64 suffix), as the
 * quirk layer calls or interposes them (uc_fast_stores.c, uc_calibrate_tlb.c).
 */
#ifndef HS_UC_QEMU_TLB_H
#define HS_UC_QEMU_TLB_H

#include <stddef.h>
#include <stdint.h>

/*
 * QEMU 5.0's layout (include/exec/cpu-defs.h) of the fast TLB tables, proved
 * by uc_calibrate_tlb.c on the running libunicorn, never assumed.
 */
struct tlb_fast {
	uintptr_t mask; /* (entries - 1) << CPU_TLB_ENTRY_BITS */
	uintptr_t table;
};
struct tlb_entry {
	uint64_t addr_read, addr_write, addr_code;
	uintptr_t addend;
};
#define TLB_ENTRY_BITS 5 /* log2(sizeof(struct tlb_entry)) */
#define TLB_PAGE_MASK(bits) (~(uint64_t)((1u << (bits)) - 1))

/*
 * Where the entry for va would be in the fast table at off in the CPU object
 * (TLB pages of page_bits); 0 if off holds no such table.
 */
uintptr_t hs_quirk_tlb_entry_at(const void *cpu, size_t off, uint64_t va, unsigned page_bits);

/* QEMU's MemTxAttrs: 32 bits of bit-fields (all zero: non-secure), passed by value. */
struct qemu_memtxattrs {
	uint32_t bits;
};

void tlb_set_page_with_attrs_aarch64(void *cpu, uint64_t vaddr, uint64_t paddr,
				     struct qemu_memtxattrs attrs, int prot, int mmu_idx,
				     uint64_t size);
void tlb_set_dirty_aarch64(void *cpu, uint64_t vaddr);
void tlb_flush_aarch64(void *cpu);

#endif
