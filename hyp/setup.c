/* SPDX-License-Identifier: MIT */
/*
 * __pkvm_init: the hypervisor takes over its memory pool, rebuilds its stage-1
 * table there, switches to it through the idmap trampoline and finalises:
 * buddy allocator, table refcounts, host stage 2 with the hypervisor's pages
 * annotated as its own (seed 000, steps 3 to 5).
 */
#include <hyp/early_alloc.h>
#include <hyp/hyp.h>

DEFINE_PER_CPU(struct hs_init_params, kvm_init_params);

struct hs_memblock_region hyp_memory[HS_MAX_MEMBLOCK_REGIONS];
u32 hyp_memblock_nr;
u32 hyp_nr_cpus;
bool hyp_protected;
void *hyp_vm_table_base;

static bool pkvm_initialised;
static u64 percpu_base_pa, percpu_size;
static struct hs_pool_sizes sizes;
static void *vmemmap_base, *hyp_pgt_base, *host_s2_pgt_base;
static struct hyp_early_alloc pool_early, s1_early;
static struct hyp_mm_ops early_mm_ops, hpool_mm_ops;
static u64 new_uart_va;

s64 hyp_percpu_offset(unsigned cpu)
{
	return (s64)(uintptr_t)hyp_phys_to_virt(percpu_base_pa + cpu * percpu_size) -
	       (s64)(uintptr_t)__hyp_percpu_start;
}

static bool range_is_memory(u64 start, u64 size)
{
	if (start + size < start)
		return false;
	for (u32 i = 0; i < hyp_memblock_nr; i++) {
		const struct hs_memblock_region *r = &hyp_memory[i];
		if (start >= r->base && start + size <= r->base + r->size)
			return true;
	}
	return false;
}

static bool ranges_overlap(u64 a, u64 asz, u64 b, u64 bsz)
{
	return a < b + bsz && b < a + asz;
}

static void *hpool_zalloc_page(void *arg)
{
	(void)arg;
	return hyp_alloc_pages(&hpool, 0);
}

static void hpool_get_page(void *addr)
{
	hyp_get_page(&hpool, addr);
}

static void hpool_put_page(void *addr)
{
	hyp_put_page(&hpool, addr);
}

static void *phys_to_virt_op(u64 phys)
{
	return hyp_phys_to_virt(phys);
}

static u64 virt_to_phys_op(void *addr)
{
	return hyp_virt_to_phys(addr);
}

static int validate(u64 phys, u64 size, u64 nr_cpus, u64 per_cpu_base, u64 va_bits)
{
	u64 image_pa = hyp_virt_to_phys(__hyp_idmap_text_start);
	u64 image_size = (u64)(__hyp_bss_end - __hyp_idmap_text_start);
	u64 tcr_va_bits = 64 - (read_sysreg(tcr_el2) & 0x3f);
	if (!IS_ALIGNED(phys, HS_PAGE_SIZE) || !IS_ALIGNED(size, HS_PAGE_SIZE) || !size)
		return -HS_EINVAL;
	if (!range_is_memory(phys, size))
		return -HS_EINVAL;
	if (!nr_cpus || nr_cpus > HS_MAX_CPUS)
		return -HS_EINVAL;
	if (va_bits != tcr_va_bits)
		return -HS_EINVAL;
	if (!IS_ALIGNED(per_cpu_base, HS_PAGE_SIZE) ||
	    !range_is_memory(per_cpu_base, nr_cpus * percpu_size))
		return -HS_EINVAL;
	if (ranges_overlap(phys, size, image_pa, image_size) ||
	    ranges_overlap(phys, size, per_cpu_base, nr_cpus * percpu_size))
		return -HS_EINVAL;
	if ((size >> HS_PAGE_SHIFT) < sizes.total)
		return -HS_ENOMEM;
	return 0;
}

static int recreate_hyp_mappings(u64 phys, u64 size)
{
	int ret;
	u64 va;
	/* First private mapping: the UART, at the same VA the host gave it. */
	ret = __pkvm_create_private_mapping(HS_UART_BASE, HS_UART_SIZE, HS_PROT_RW | HS_PROT_DEVICE,
					    &new_uart_va);
	if (ret)
		return ret;
	u64 idmap = hyp_virt_to_phys(__hyp_idmap_text_start);
	ret = pgt_map(&pkvm_pgtable, idmap, HS_PAGE_SIZE, idmap, HS_PROT_RX);
	if (ret)
		return ret;
	if ((ret = pkvm_create_mappings(__hyp_text_start, __hyp_text_end, HS_PROT_RX)) ||
	    (ret = pkvm_create_mappings(__hyp_rodata_start, __hyp_rodata_end, HS_PROT_R)) ||
	    (ret = pkvm_create_mappings(__hyp_data_start, __hyp_bss_end, HS_PROT_RW)) ||
	    (ret = pkvm_create_mappings(hyp_phys_to_virt(phys), hyp_phys_to_virt(phys + size),
					HS_PROT_RW)) ||
	    (ret = pkvm_create_mappings(
		 hyp_phys_to_virt(percpu_base_pa),
		 hyp_phys_to_virt(percpu_base_pa + hyp_nr_cpus * percpu_size), HS_PROT_RW)))
		return ret;
	/* Stacks: the top half mapped, the bottom half an unmapped guard. */
	for (unsigned cpu = 0; cpu < hyp_nr_cpus; cpu++) {
		struct hs_init_params *params = per_cpu_ptr(&kvm_init_params, cpu);
		ret = pkvm_alloc_private_va_range(2 * HS_STACK_SIZE, 2 * HS_STACK_SIZE, &va);
		if (ret)
			return ret;
		ret = pgt_map(&pkvm_pgtable, va + HS_STACK_SIZE, HS_STACK_SIZE, params->stack_pa,
			      HS_PROT_RW);
		if (ret)
			return ret;
		params->stack_hyp_va = va + 2 * HS_STACK_SIZE;
	}
	/* The vmemmap windows covering memory, backed by the pool's vmemmap pages. */
	u64 back = hyp_virt_to_phys(vmemmap_base);
	for (u32 i = 0; i < hyp_memblock_nr; i++) {
		const struct hs_memblock_region *r = &hyp_memory[i];
		ret = hyp_back_vmemmap(r->base, r->size, back);
		if (ret)
			return ret;
		back += hs_vmemmap_pages_region(r->base, r->size) << HS_PAGE_SHIFT;
	}
	return 0;
}

static int fix_refcount_walker(const struct pgt_visit_ctx *ctx)
{
	if (!pte_is_table(ctx->old, ctx->level))
		return 0;
	u64 *table = ctx->mm_ops->phys_to_virt(pte_to_phys(ctx->old));
	u16 count = 1;
	for (int i = 0; i < PGT_PTRS_PER_TABLE; i++)
		count += pte_valid(table[i]);
	hyp_virt_to_page(table)->refcount = count;
	return 0;
}

/* Table pages came from the early allocator: give them 1 + valid entries. */
static int fix_hyp_pgtable_refcnt(void)
{
	struct pgt_walker w = {.cb = fix_refcount_walker, .flags = PGT_WALK_TABLE_POST};
	u64 *root = pkvm_pgtable.pgd;
	u16 count = 1;
	for (int i = 0; i < PGT_PTRS_PER_TABLE; i++)
		count += pte_valid(root[i]);
	hyp_virt_to_page(root)->refcount = count;
	return pgt_walk(&pkvm_pgtable, 0, BIT(pkvm_pgtable.ia_bits), &w);
}

static void __pkvm_init_finalise(void)
{
	struct hyp_cpu_ctxt *ctxt = this_cpu_ptr(&host_ctxt);
	int ret;
	hyp_uart_va = new_uart_va;
	hyp_printf("hyp: step 5: switched to the hypervisor's own stage 1 (TTBR0_EL2 %#lx)\n",
		   read_sysreg(ttbr0_el2));
	u64 used = hyp_early_alloc_nr_used_pages(&s1_early);
	ret = hyp_pool_init(&hpool, hyp_virt_to_phys(hyp_pgt_base) >> HS_PAGE_SHIFT,
			    (u32)sizes.hyp_s1, (u32)used);
	if (ret)
		goto out;
	hpool_mm_ops = (struct hyp_mm_ops){
	    .zalloc_page = hpool_zalloc_page,
	    .get_page = hpool_get_page,
	    .put_page = hpool_put_page,
	    .page_count = hyp_page_count,
	    .phys_to_virt = phys_to_virt_op,
	    .virt_to_phys = virt_to_phys_op,
	};
	pkvm_pgtable.mm_ops = &hpool_mm_ops;
	ret = fix_hyp_pgtable_refcnt();
	if (ret)
		goto out;
	ret = kvm_host_prepare_stage2(host_s2_pgt_base, sizes.host_s2);
	if (ret)
		goto out;
	ret = fix_host_ownership();
	if (ret)
		goto out;
	pkvm_initialised = true;
	hyp_printf("hyp: step 6: finalised: %lu stage-1 table pages in use, buddy allocator ready, "
		   "host stage 2 prepared (VMID 0, empty), hypervisor pages annotated\n",
		   used);
out:
	if (ret)
		hyp_printf("hyp: __pkvm_init failed after the switch: %d\n", ret);
	ctxt->regs[0] = HS_SMCCC_SUCCESS;
	ctxt->regs[1] = (u64)(s64)ret;
	__host_enter(ctxt);
}

int __pkvm_init(u64 phys, u64 size, u64 nr_cpus, u64 per_cpu_base, u64 hyp_va_bits)
{
	if (pkvm_initialised)
		return -HS_EPERM;
	percpu_size = ALIGN((u64)(__hyp_percpu_end - __hyp_percpu_start), HS_PAGE_SIZE);
	hs_pool_sizes(hyp_memory, hyp_memblock_nr, &sizes);
	int ret = validate(phys, size, nr_cpus, per_cpu_base, hyp_va_bits);
	if (ret) {
		hyp_printf("hyp: __pkvm_init: bad arguments (%d), nothing changed\n", ret);
		return ret;
	}
	hyp_nr_cpus = (u32)nr_cpus;
	percpu_base_pa = per_cpu_base;
	hyp_printf("hyp: step 3: __pkvm_init: pool %#lx-%#lx (%lu pages), %lu CPUs, %lu-bit VAs\n",
		   phys, phys + size, size >> HS_PAGE_SHIFT, nr_cpus, hyp_va_bits);

	/* Divide the pool with a bump allocator. */
	hyp_early_alloc_init(&pool_early, hyp_phys_to_virt(phys), size);
	vmemmap_base = hyp_early_alloc_contig(&pool_early, sizes.vmemmap);
	hyp_vm_table_base = hyp_early_alloc_contig(&pool_early, sizes.vm_table);
	/*
	 * The two table pools are zeroed page by page when used: s1_early and
	 * hyp_pool_init (free pages are zero) below, kvm_host_prepare_stage2.
	 */
	hyp_pgt_base = hyp_early_alloc_contig_unzeroed(&pool_early, sizes.hyp_s1);
	host_s2_pgt_base = hyp_early_alloc_contig_unzeroed(&pool_early, sizes.host_s2);
	if (!vmemmap_base || !hyp_vm_table_base || !hyp_pgt_base || !host_s2_pgt_base)
		return -HS_ENOMEM;
	hyp_printf("hyp: step 3: pool divided: vmemmap %lu, VM table %lu, EL2 stage-1 %lu, host "
		   "stage-2 %lu pages\n",
		   sizes.vmemmap, sizes.vm_table, sizes.hyp_s1, sizes.host_s2);

	/* Recreate the EL2 stage 1 in the pool, with tables from the stage-1 part. */
	hyp_early_alloc_init(&s1_early, hyp_pgt_base, sizes.hyp_s1 << HS_PAGE_SHIFT);
	hyp_early_alloc_mm_ops(&early_mm_ops, &s1_early, phys_to_virt_op, virt_to_phys_op);
	ret = pgt_init_s1(&pkvm_pgtable, (u32)hyp_va_bits, &early_mm_ops);
	if (ret)
		return ret;
	pkvm_compute_io_map_base((u32)hyp_va_bits);
	/* Only the pointer: the windows behind it are mapped just below. */
	hyp_vmemmap = (struct hyp_page *)(uintptr_t)hyp_io_map_end;
	ret = recreate_hyp_mappings(phys, size);
	if (ret) {
		hyp_printf("hyp: __pkvm_init: recreating mappings failed: %d\n", ret);
		return ret;
	}
	/* Every CPU, including ones brought up later, lands on the new table. */
	for (unsigned cpu = 0; cpu < hyp_nr_cpus; cpu++)
		per_cpu_ptr(&kvm_init_params, cpu)->pgd_pa = pkvm_pgtable.pgd_pa;
	hyp_printf("hyp: step 4: EL2 stage 1 recreated in the pool: root %#lx, %lu table pages, "
		   "private range %#lx, vmemmap %#lx\n",
		   pkvm_pgtable.pgd_pa, hyp_early_alloc_nr_used_pages(&s1_early), hyp_io_map_base,
		   hyp_io_map_end);

	struct hs_init_params *params = this_cpu_ptr(&kvm_init_params);
	void (*fn)(u64, u64, void (*)(void)) =
	    (void *)(uintptr_t)hyp_virt_to_phys((void *)__pkvm_init_switch_pgd);
	hyp_printf("hyp: step 5: switching page tables through the trampoline at %#lx\n",
		   (u64)(uintptr_t)fn);
	fn(params->pgd_pa, params->stack_hyp_va, __pkvm_init_finalise);
	hyp_panic("returned from the trampoline");
}
