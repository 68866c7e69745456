/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own stage-1 table: linear mappings of its sections and
 * memory, the private VA range (UART, stacks) and the vmemmap windows.
 */
#include <hyp/hyp.h>

struct hyp_pgtable pkvm_pgtable;
struct hyp_pool hpool;
u64 hyp_io_map_base, hyp_io_map_end;
static u64 io_map_cur;
static u32 pkvm_pgd_lock;

void pkvm_compute_io_map_base(u32 va_bits)
{
	/* The quarter of the idmap's half that does not hold the idmap page (seed 002). */
	u64 idmap = hyp_virt_to_phys(__hyp_idmap_text_start);
	u64 top = BIT(va_bits - 1), quarter = BIT(va_bits - 2);
	hyp_io_map_base = (idmap & top) | ((idmap & quarter) ^ quarter);
	hyp_io_map_end = hyp_io_map_base | BIT(va_bits - 3); /* the vmemmap starts here */
	io_map_cur = hyp_io_map_base;
}

int pkvm_alloc_private_va_range(u64 size, u64 align, u64 *haddr)
{
	u64 cur = ALIGN(io_map_cur, align);
	if (!size || cur < io_map_cur || cur + size < cur || cur + size > hyp_io_map_end)
		return -HS_ENOMEM;
	*haddr = cur;
	io_map_cur = cur + size;
	return 0;
}

int __pkvm_create_private_mapping(u64 phys, u64 size, unsigned prot, u64 *haddr)
{
	u64 offset = phys & (HS_PAGE_SIZE - 1), addr;
	if (!size || size > (1UL << 30) || phys + size < phys || (phys + size) >> HS_PA_BITS ||
	    (prot & ~PGT_PROT_ACCESS))
		return -HS_EINVAL;
	size = ALIGN(size + offset, HS_PAGE_SIZE);
	hyp_spin_lock(&pkvm_pgd_lock);
	u64 saved = io_map_cur;
	int ret = pkvm_alloc_private_va_range(size, HS_PAGE_SIZE, &addr);
	if (!ret) {
		ret = pgt_map(&pkvm_pgtable, addr, size, phys - offset, prot);
		if (ret)
			io_map_cur = saved;
	}
	hyp_spin_unlock(&pkvm_pgd_lock);
	if (!ret)
		*haddr = addr + offset;
	return ret;
}

int pkvm_create_mappings_locked(void *from, void *to, unsigned prot)
{
	u64 start = ALIGN_DOWN((u64)(uintptr_t)from, HS_PAGE_SIZE);
	u64 end = ALIGN((u64)(uintptr_t)to, HS_PAGE_SIZE);
	return pgt_map(&pkvm_pgtable, start, end - start, hyp_virt_to_phys((void *)start), prot);
}

int pkvm_create_mappings(void *from, void *to, unsigned prot)
{
	hyp_spin_lock(&pkvm_pgd_lock);
	int ret = pkvm_create_mappings_locked(from, to, prot);
	hyp_spin_unlock(&pkvm_pgd_lock);
	return ret;
}

int hyp_back_vmemmap(u64 phys, u64 size, u64 back_pa)
{
	u64 start = (u64)(uintptr_t)hyp_phys_to_page(phys);
	u64 end = (u64)(uintptr_t)hyp_phys_to_page(phys + size);
	start = ALIGN_DOWN(start, HS_PAGE_SIZE);
	end = ALIGN(end, HS_PAGE_SIZE);
	return pgt_map(&pkvm_pgtable, start, end - start, back_pa, HS_PROT_RW);
}
