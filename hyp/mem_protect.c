/* SPDX-License-Identifier: MIT */
/*
 * The host's stage 2: an identity map populated lazily on faults, in which
 * invalid entries record who owns a page (seed 004), plus the page-state
 * transitions between the host and the hypervisor.
 */
#include <hyp/hyp.h>
#include <hyp/string.h>

#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_EC_IABT_LOW 0x20
#define ESR_EC_IABT_CUR 0x21
#define ESR_EC_DABT_CUR 0x25
#define ESR_FSC_TYPE 0x3c
#define ESR_FSC_PERM 0x0c

struct hyp_pgtable host_s2_pgt;
u64 host_vtcr, host_vttbr;
static struct hyp_pool host_s2_pool;
static struct hyp_mm_ops host_s2_mm_ops;
static u32 host_s2_lock;

static void *host_s2_zalloc_page(void *arg)
{
	(void)arg;
	return hyp_alloc_pages(&host_s2_pool, 0);
}

static void *host_s2_zalloc_pages_exact(size_t size, void *arg)
{
	(void)arg;
	u8 order = 0;
	while ((HS_PAGE_SIZE << order) < size)
		order++;
	void *p = hyp_alloc_pages(&host_s2_pool, order);
	if (p && order)
		hyp_split_page(hyp_virt_to_page(p));
	return p;
}

static void host_s2_get_page(void *addr)
{
	hyp_get_page(&host_s2_pool, addr);
}

static void host_s2_put_page(void *addr)
{
	hyp_put_page(&host_s2_pool, addr);
}

static void *host_s2_phys_to_virt(u64 phys)
{
	return hyp_phys_to_virt(phys);
}

static u64 host_s2_virt_to_phys(void *addr)
{
	return hyp_virt_to_phys(addr);
}

int kvm_host_prepare_stage2(void *pgt_pool_base, u64 nr_pages)
{
	int ret = hyp_pool_init(&host_s2_pool, hyp_virt_to_phys(pgt_pool_base) >> HS_PAGE_SHIFT,
				(u32)nr_pages, 0);
	if (ret)
		return ret;
	host_s2_mm_ops = (struct hyp_mm_ops){
	    .zalloc_page = host_s2_zalloc_page,
	    .zalloc_pages_exact = host_s2_zalloc_pages_exact,
	    .get_page = host_s2_get_page,
	    .put_page = host_s2_put_page,
	    .page_count = hyp_page_count,
	    .phys_to_virt = host_s2_phys_to_virt,
	    .virt_to_phys = host_s2_virt_to_phys,
	};
	s8 sl = pgt_s2_default_start_level(HS_PA_BITS);
	ret = pgt_init_s2(&host_s2_pgt, HS_PA_BITS, sl, &host_s2_mm_ops);
	if (ret)
		return ret;
	host_vtcr = pgt_vtcr(HS_PA_BITS, sl);
	host_vttbr = host_s2_pgt.pgd_pa; /* VMID 0 */
	return 0;
}

bool addr_is_memory(u64 phys)
{
	for (u32 i = 0; i < hyp_memblock_nr; i++)
		if (phys >= hyp_memory[i].base && phys - hyp_memory[i].base < hyp_memory[i].size)
			return true;
	return false;
}

/* The memory region or the MMIO gap between regions that holds addr. */
static bool find_range(u64 addr, u64 *start, u64 *end)
{
	u64 lo = 0, hi = BIT(HS_PA_BITS);
	for (u32 i = 0; i < hyp_memblock_nr; i++) {
		const struct hs_memblock_region *r = &hyp_memory[i];
		if (addr >= r->base && addr - r->base < r->size) {
			*start = r->base;
			*end = r->base + r->size;
			return true;
		}
		if (r->base + r->size <= addr && r->base + r->size > lo)
			lo = r->base + r->size;
		if (r->base > addr && r->base < hi)
			hi = r->base;
	}
	*start = lo;
	*end = hi;
	return false;
}

static void host_stage2_unmap_dev_all(void)
{
	u64 addr = 0;
	while (addr < BIT(HS_PA_BITS)) {
		u64 start, end;
		bool mem = find_range(addr, &start, &end);
		if (!mem)
			pgt_unmap(&host_s2_pgt, start, end - start);
		addr = end;
	}
}

/*
 * Run one change of the host stage 2. Running out of table pages is not an
 * error the host can do anything about: MMIO mappings are cheap to recreate
 * (the next access faults them back in), so drop them all and retry once.
 */
typedef int (*host_s2_op_fn)(u64 addr, u64 size, u64 arg);

static int host_stage2_try(host_s2_op_fn fn, u64 addr, u64 size, u64 arg)
{
	int ret = fn(addr, size, arg);
	if (ret == -HS_ENOMEM) {
		host_stage2_unmap_dev_all();
		ret = fn(addr, size, arg);
	}
	return ret;
}

static int host_s2_op_map(u64 addr, u64 size, u64 prot)
{
	return pgt_map(&host_s2_pgt, addr, size, addr, (unsigned)prot);
}

static int host_s2_op_set_owner(u64 addr, u64 size, u64 annotation)
{
	return pgt_set_owner(&host_s2_pgt, addr, size, annotation);
}

static int host_s2_op_set_state(u64 addr, u64 size, u64 state)
{
	return pgt_set_state(&host_s2_pgt, addr, size, (unsigned)state);
}

/*
 * Map the largest block around addr that stays inside its memory region or
 * MMIO gap and holds no mapping or annotation: RWX normal memory, or RW
 * non-executable device memory for MMIO. Identity, page state OWNED.
 * Return: 0 (mapped, or already mapped by another CPU), -EPERM when the page
 * is annotated (owned by hyp or a guest), -ENOMEM, -EINVAL.
 */
static int host_stage2_idmap(u64 addr)
{
	u64 start, end, bstart, bsize;
	bool mem = find_range(addr, &start, &end);
	unsigned prot = mem ? HS_PROT_RWX : (HS_PROT_RW | HS_PROT_DEVICE);
	int ret = pgt_find_largest_block(&host_s2_pgt, addr, start, end, &bstart, &bsize);
	if (ret == -HS_EAGAIN)
		return 0; /* another CPU mapped it first */
	if (ret)
		return ret;
	return host_stage2_try(host_s2_op_map, bstart, bsize, prot);
}

/*
 * Refuse the access: deliver a synchronous abort to the host's own vectors,
 * as if its own MMU had faulted (same-level EC when taken from EL1, the
 * lower-EL one from EL0), with the fault address in FAR_EL1.
 */
static void inject_host_exception(u64 esr)
{
	u64 spsr = read_sysreg(spsr_el2);
	unsigned mode = spsr & 0xf;
	unsigned ec = ESR_EC(esr);
	if (mode != 0) /* from EL1: report a same-level abort */
		ec = ec == ESR_EC_IABT_LOW ? ESR_EC_IABT_CUR : ESR_EC_DABT_CUR;
	u64 offset = mode == 0x5 ? 0x200 : mode == 0x4 ? 0x0 : 0x400;
	write_sysreg((esr & ~(0x3fUL << 26)) | ((u64)ec << 26), esr_el1);
	write_sysreg(read_sysreg(far_el2), far_el1);
	write_sysreg(read_sysreg(elr_el2), elr_el1);
	write_sysreg(spsr, spsr_el1);
	write_sysreg(read_sysreg(vbar_el1) + offset, elr_el2);
	write_sysreg(0x3c5, spsr_el2); /* EL1h, DAIF masked */
}

void handle_host_mem_abort(struct hyp_cpu_ctxt *ctxt)
{
	(void)ctxt;
	u64 esr = read_sysreg(esr_el2);
	u64 far = read_sysreg(far_el2);
	u64 hpfar = read_sysreg(hpfar_el2);
	u64 addr = ((hpfar & GENMASK(43, 4)) << 8) | (far & (HS_PAGE_SIZE - 1));
	int ret;
	/*
	 * A permission fault hits a valid mapping the host may not use that way
	 * (e.g. an instruction fetch from MMIO, mapped XN): mapping it again
	 * would loop forever. Only translation faults are resolved.
	 */
	if ((esr & ESR_FSC_TYPE) == ESR_FSC_PERM) {
		ret = -HS_EPERM;
	} else {
		hyp_spin_lock(&host_s2_lock);
		ret = host_stage2_idmap(addr);
		hyp_spin_unlock(&host_s2_lock);
	}
	if (ret) {
		hyp_printf("hyp: host access to %#lx refused (%d)\n", addr, ret);
		inject_host_exception(esr);
	}
}

int host_stage2_set_owner(u64 addr, u64 size, unsigned owner, u64 meta)
{
	return pgt_set_owner(&host_s2_pgt, addr, size, hs_annotation(owner, meta));
}

static int fix_host_ownership_walker(const struct pgt_visit_ctx *ctx)
{
	if (!pte_valid(ctx->old))
		return 0;
	u64 size = pgt_granule(ctx->level);
	u64 phys = pte_to_phys(ctx->old);
	if (!addr_is_memory(phys))
		return 0; /* MMIO the hypervisor mapped privately */
	unsigned state = pte_state(ctx->old);
	for (u64 off = 0; off < size; off += HS_PAGE_SIZE) {
		struct hyp_page *p = hyp_phys_to_page(phys + off);
		if (state == HS_PAGE_OWNED) {
			hyp_page_set_host_state(p, HS_PAGE_NOPAGE);
			hyp_page_set_hyp_state(p, HS_PAGE_OWNED);
		} else if (state == HS_PAGE_SHARED_BORROWED) {
			hyp_page_set_host_state(p, HS_PAGE_SHARED_OWNED);
			hyp_page_set_hyp_state(p, HS_PAGE_SHARED_BORROWED);
		}
	}
	if (state == HS_PAGE_OWNED)
		return host_stage2_set_owner(phys, size, HS_OWNER_HYP, 0);
	return 0;
}

/* Every page the hypervisor maps as its own becomes hyp-owned in the host stage 2. */
int fix_host_ownership(void)
{
	struct pgt_walker w = {.cb = fix_host_ownership_walker, .flags = PGT_WALK_LEAF};
	return pgt_walk(&pkvm_pgtable, 0, BIT(pkvm_pgtable.ia_bits), &w);
}

/*
 * [pfn, pfn + nr_pages) must lie inside one memory region: a range that is
 * empty, overflows the PA range, is (partly) MMIO or straddles a region end
 * is -EINVAL. Sets the physical range.
 */
static int check_range(u64 pfn, u64 nr_pages, u64 *phys, u64 *size)
{
	const u64 max_pfn = BIT(HS_PA_BITS - HS_PAGE_SHIFT);
	u64 start, end;
	if (!nr_pages || pfn >= max_pfn || nr_pages > max_pfn - pfn)
		return -HS_EINVAL;
	*phys = pfn << HS_PAGE_SHIFT;
	*size = nr_pages << HS_PAGE_SHIFT;
	if (!find_range(*phys, &start, &end) || *size > end - *phys)
		return -HS_EINVAL;
	return 0;
}

static int check_pfn(u64 pfn, u64 *phys)
{
	u64 size;
	return check_range(pfn, 1, phys, &size);
}

/*
 * The host stage-2 entry where a walk for phys stops (a page, a block, an
 * annotation or an empty entry) and its level: a read-only descent, much
 * cheaper than a pgt_walk() with a visitor. phys must be inside the IPA
 * space (check_range() guarantees it).
 */
static u64 *host_s2_ptep(u64 phys, s8 *level)
{
	const struct hyp_pgtable *pgt = &host_s2_pgt;
	s8 lvl = pgt->start_level;
	unsigned shift = pgt_level_shift(lvl);
	/* the root index covers every concatenated root page */
	u64 *ptep = &pgt->pgd[(phys >> shift) & (BIT(pgt->ia_bits - shift) - 1)];
	for (;;) {
		u64 pte = READ_ONCE(*ptep);
		if (!pte_is_table(pte, lvl)) {
			*level = lvl;
			return ptep;
		}
		u64 *table = hyp_phys_to_virt(pte_to_phys(pte));
		lvl++;
		ptep = &table[(phys >> pgt_level_shift(lvl)) & (PGT_PTRS_PER_TABLE - 1)];
	}
}

/*
 * Record a host page state in its host stage-2 entry (page-granular: a block
 * around it is split). The page must be the host's (not annotated).
 */
static int host_stage2_set_page_state(u64 phys, unsigned state)
{
	s8 level;
	u64 *ptep = host_s2_ptep(phys, &level);
	u64 pte = READ_ONCE(*ptep);
	if (pte_valid(pte) && level == PGT_MAX_LEVELS - 1) {
		/*
		 * Fast path, a page entry: only the software bits change, which
		 * the MMU ignores, so no break-before-make and no TLB maintenance.
		 */
		WRITE_ONCE(*ptep, (pte & ~HS_PTE_STATE_MASK) | ((u64)state << HS_PTE_STATE_SHIFT));
		return 0;
	}
	if (pte_valid(pte)) /* a block: split it so only this page changes */
		return host_stage2_try(host_s2_op_set_state, phys, HS_PAGE_SIZE, state);
	if (pte)
		return -HS_EPERM; /* annotated: not the host's */
	return host_stage2_try(host_s2_op_map, phys, HS_PAGE_SIZE,
			       HS_PROT_RWX | PGT_PROT_STATE(state));
}

/*
 * A share transition between the host and the hypervisor: both sides must be
 * in their `from` states and the page not pinned; the host's side is
 * recorded in its stage-2 entry first, then both states change.
 */
static int host_hyp_share_transition(u64 pfn, unsigned host_from, unsigned hyp_from,
				     unsigned host_to, unsigned hyp_to)
{
	u64 phys;
	int ret = check_pfn(pfn, &phys);
	if (ret)
		return ret;
	hyp_spin_lock(&host_s2_lock);
	struct hyp_page *p = hyp_phys_to_page(phys);
	if (hyp_page_host_state(p) != host_from || hyp_page_hyp_state(p) != hyp_from)
		ret = -HS_EPERM;
	else if (p->refcount)
		ret = -HS_EBUSY; /* the hypervisor still has it pinned */
	else
		ret = host_stage2_set_page_state(phys, host_to);
	if (!ret) {
		hyp_page_set_host_state(p, host_to);
		hyp_page_set_hyp_state(p, hyp_to);
	}
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

/* host OWNED / hyp NOPAGE -> host SHARED_OWNED / hyp SHARED_BORROWED */
int __pkvm_host_share_hyp(u64 pfn)
{
	return host_hyp_share_transition(pfn, HS_PAGE_OWNED, HS_PAGE_NOPAGE, HS_PAGE_SHARED_OWNED,
					 HS_PAGE_SHARED_BORROWED);
}

/* host SHARED_OWNED / hyp SHARED_BORROWED, not pinned -> host OWNED / hyp NOPAGE */
int __pkvm_host_unshare_hyp(u64 pfn)
{
	return host_hyp_share_transition(pfn, HS_PAGE_SHARED_OWNED, HS_PAGE_SHARED_BORROWED,
					 HS_PAGE_OWNED, HS_PAGE_NOPAGE);
}

/*
 * The hypervisor takes a reference on a page the host shares with it; the
 * first one maps it at EL2 (linear map, RW, SHARED_BORROWED), the last unpin
 * unmaps it. The refcount of a shared page is its pin count.
 */
int __pkvm_hyp_pin_shared(u64 pfn)
{
	u64 phys;
	int ret = check_pfn(pfn, &phys);
	if (ret)
		return ret;
	hyp_spin_lock(&host_s2_lock);
	struct hyp_page *p = hyp_phys_to_page(phys);
	if (hyp_page_hyp_state(p) != HS_PAGE_SHARED_BORROWED ||
	    hyp_page_host_state(p) != HS_PAGE_SHARED_OWNED) {
		ret = -HS_EPERM;
	} else if (p->refcount == 0xffff) {
		ret = -HS_EBUSY;
	} else {
		if (!p->refcount)
			ret = pgt_map(&pkvm_pgtable, (u64)(uintptr_t)hyp_phys_to_virt(phys),
				      HS_PAGE_SIZE, phys,
				      HS_PROT_RW | PGT_PROT_STATE(HS_PAGE_SHARED_BORROWED));
		if (!ret)
			hyp_page_ref_inc(p);
	}
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

int __pkvm_hyp_unpin_shared(u64 pfn)
{
	u64 phys;
	int ret = check_pfn(pfn, &phys);
	if (ret)
		return ret;
	hyp_spin_lock(&host_s2_lock);
	struct hyp_page *p = hyp_phys_to_page(phys);
	if (hyp_page_hyp_state(p) != HS_PAGE_SHARED_BORROWED || !p->refcount) {
		ret = -HS_EPERM;
	} else if (p->refcount == 1) {
		/* A page-level leaf: unmapping it needs no table page, so it cannot fail. */
		ret =
		    pgt_unmap(&pkvm_pgtable, (u64)(uintptr_t)hyp_phys_to_virt(phys), HS_PAGE_SIZE);
		if (!ret)
			hyp_page_ref_dec_and_test(p);
	} else {
		hyp_page_ref_dec_and_test(p);
	}
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

/*
 * Donations between the host and the hypervisor (internal: used by the VM
 * code for its metadata pages). Everything is checked before anything
 * changes; a failure half-way (out of table pages) is rolled back, so a
 * multi-page donation happens for all pages or none.
 */
static int host_donate_hyp_locked(u64 phys, u64 size)
{
	u64 va = (u64)(uintptr_t)hyp_phys_to_virt(phys);
	for (u64 off = 0; off < size; off += HS_PAGE_SIZE) {
		const struct hyp_page *p = hyp_phys_to_page(phys + off);
		if (hyp_page_host_state(p) != HS_PAGE_OWNED ||
		    hyp_page_hyp_state(p) != HS_PAGE_NOPAGE || p->guest_shares)
			return -HS_EPERM;
	}
	int ret = host_stage2_try(host_s2_op_set_owner, phys, size, hs_annotation(HS_OWNER_HYP, 0));
	if (ret)
		goto undo_host;
	ret = pgt_map(&pkvm_pgtable, va, size, phys, HS_PROT_RW | PGT_PROT_STATE(HS_PAGE_OWNED));
	if (ret)
		goto undo_hyp;
	for (u64 off = 0; off < size; off += HS_PAGE_SIZE) {
		struct hyp_page *p = hyp_phys_to_page(phys + off);
		hyp_page_set_host_state(p, HS_PAGE_NOPAGE);
		hyp_page_set_hyp_state(p, HS_PAGE_OWNED);
	}
	return 0;
undo_hyp:
	/* hyp NOPAGE pages are not mapped at EL2: the range was empty before. */
	pgt_unmap(&pkvm_pgtable, va, size);
undo_host:
	/* Host-owned again: empty entries, the host faults its mappings back in. */
	host_stage2_try(host_s2_op_set_owner, phys, size, 0);
	return ret;
}

static int hyp_donate_host_locked(u64 phys, u64 size)
{
	u64 va = (u64)(uintptr_t)hyp_phys_to_virt(phys);
	for (u64 off = 0; off < size; off += HS_PAGE_SIZE) {
		const struct hyp_page *p = hyp_phys_to_page(phys + off);
		u64 pte;
		if (hyp_page_hyp_state(p) != HS_PAGE_OWNED ||
		    hyp_page_host_state(p) != HS_PAGE_NOPAGE || p->refcount)
			return -HS_EPERM;
		if (pgt_get_leaf(&host_s2_pgt, phys + off, &pte, NULL) ||
		    pte != hs_annotation(HS_OWNER_HYP, 0))
			return -HS_EPERM;
	}
	int ret = pgt_unmap(&pkvm_pgtable, va, size);
	if (ret) {
		pgt_map(&pkvm_pgtable, va, size, phys, HS_PROT_RW | PGT_PROT_STATE(HS_PAGE_OWNED));
		return ret;
	}
	/* Annotations are page entries: clearing them needs no table page. */
	ret = host_stage2_try(host_s2_op_set_owner, phys, size, 0);
	if (ret) {
		host_stage2_try(host_s2_op_set_owner, phys, size, hs_annotation(HS_OWNER_HYP, 0));
		pgt_map(&pkvm_pgtable, va, size, phys, HS_PROT_RW | PGT_PROT_STATE(HS_PAGE_OWNED));
		return ret;
	}
	for (u64 off = 0; off < size; off += HS_PAGE_SIZE) {
		struct hyp_page *p = hyp_phys_to_page(phys + off);
		hyp_page_set_host_state(p, HS_PAGE_OWNED);
		hyp_page_set_hyp_state(p, HS_PAGE_NOPAGE);
	}
	return 0;
}

/* Run a locked donation on a checked range of pages. */
static int donate_range(u64 pfn, u64 nr_pages, int (*locked)(u64 phys, u64 size))
{
	u64 phys, size;
	int ret = check_range(pfn, nr_pages, &phys, &size);
	if (ret)
		return ret;
	hyp_spin_lock(&host_s2_lock);
	ret = locked(phys, size);
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

/* host OWNED / hyp NOPAGE -> host NOPAGE (annotated HYP) / hyp OWNED, mapped at EL2 */
int __pkvm_host_donate_hyp(u64 pfn, u64 nr_pages)
{
	return donate_range(pfn, nr_pages, host_donate_hyp_locked);
}

/* hyp OWNED / host NOPAGE (annotated HYP), not referenced -> host OWNED / hyp NOPAGE */
int __pkvm_hyp_donate_host(u64 pfn, u64 nr_pages)
{
	return donate_range(pfn, nr_pages, hyp_donate_host_locked);
}

/*
 * Test/debug entry points (hypercalls host_donate_hyp / hyp_donate_host).
 * The internal donation trusts its caller; the host does not deserve that
 * trust, since hyp_donate_host on the hypervisor's own text or pool would
 * hand it over. So the debug hypercall only gives back pages that came in
 * through the debug host_donate_hyp, recorded here (-EPERM otherwise).
 */
#define DEBUG_DONATIONS 32
static struct {
	u64 pfn, nr;
} debug_donations[DEBUG_DONATIONS];
static u32 debug_donations_lock;

static int debug_free_slot(void)
{
	for (int i = 0; i < DEBUG_DONATIONS; i++)
		if (!debug_donations[i].nr)
			return i;
	return -1;
}

int __pkvm_debug_host_donate_hyp(u64 pfn, u64 nr_pages)
{
	hyp_spin_lock(&debug_donations_lock);
	int slot = debug_free_slot();
	int ret = slot < 0 ? -HS_ENOMEM : __pkvm_host_donate_hyp(pfn, nr_pages);
	if (!ret) {
		debug_donations[slot].pfn = pfn;
		debug_donations[slot].nr = nr_pages;
	}
	hyp_spin_unlock(&debug_donations_lock);
	return ret;
}

int __pkvm_debug_hyp_donate_host(u64 pfn, u64 nr_pages)
{
	u64 phys, size;
	int ret = check_range(pfn, nr_pages, &phys, &size);
	if (ret)
		return ret;
	hyp_spin_lock(&debug_donations_lock);
	int i, slot = -1;
	for (i = 0; i < DEBUG_DONATIONS; i++) {
		u64 rpfn = debug_donations[i].pfn, rnr = debug_donations[i].nr;
		if (rnr && pfn >= rpfn && nr_pages <= rnr && pfn - rpfn <= rnr - nr_pages)
			break;
	}
	if (i == DEBUG_DONATIONS) {
		ret = -HS_EPERM; /* not something the host donated */
		goto out;
	}
	u64 rpfn = debug_donations[i].pfn, rend = rpfn + debug_donations[i].nr;
	u64 end = pfn + nr_pages;
	if (pfn > rpfn && end < rend && (slot = debug_free_slot()) < 0) {
		ret = -HS_ENOMEM; /* cannot record the remaining two pieces */
		goto out;
	}
	ret = __pkvm_hyp_donate_host(pfn, nr_pages);
	if (ret)
		goto out;
	if (pfn > rpfn) {
		debug_donations[i].nr = pfn - rpfn;
		if (end < rend) {
			debug_donations[slot].pfn = end;
			debug_donations[slot].nr = rend - end;
		}
	} else if (end < rend) {
		debug_donations[i].pfn = end;
		debug_donations[i].nr = rend - end;
	} else {
		debug_donations[i].nr = 0;
	}
out:
	hyp_spin_unlock(&debug_donations_lock);
	return ret;
}

/* ---- guests ---------------------------------------------------------------- */
/*
 * Guest stage-2 maintenance by IPA acts on the VMID in VTTBR_EL2, and host
 * stage-2 maintenance on VMID 0: the guest's VTTBR is live only around
 * changes to its own table.
 */
static void guest_vttbr(u64 vttbr)
{
	write_sysreg(vttbr, vttbr_el2);
	isb();
}

/* The PA a valid guest leaf maps for ipa. */
static u64 guest_leaf_pa(u64 pte, s8 level, u64 ipa)
{
	return pte_to_phys(pte) + (ipa & (pgt_granule(level) - 1) & ~(HS_PAGE_SIZE - 1));
}

/* Unmap one guest page, with the guest's VMID live for the TLB maintenance. */
static int guest_unmap_page(struct hyp_pgtable *g, u64 gvttbr, u64 ipa)
{
#ifdef HS_DEFECT_GUEST_TLBI_VMID0 /* injected defect: the host's VMID stays live */
	(void)gvttbr;
	return pgt_unmap(g, ipa, HS_PAGE_SIZE);
#else
	guest_vttbr(gvttbr);
	int ret = pgt_unmap(g, ipa, HS_PAGE_SIZE);
	guest_vttbr(host_vttbr);
	return ret;
#endif
}

/* Zero a page hyp does not map, through a temporary mapping. */
static int scrub_page(u64 pa)
{
	void *va = hyp_phys_to_virt(pa);
	int ret = pgt_map(&pkvm_pgtable, (u64)(uintptr_t)va, HS_PAGE_SIZE, pa, HS_PROT_RW);
	if (ret)
		return ret;
	memzero_pages(va, HS_PAGE_SIZE);
	pgt_unmap(&pkvm_pgtable, (u64)(uintptr_t)va, HS_PAGE_SIZE);
	return 0;
}

/*
 * Hand one page a guest no longer maps back to the host, under host_s2_lock:
 * a shared page loses one guest share (host OWNED again at zero); a page the
 * guest owned (already scrubbed) loses its GUEST annotation.
 */
static int guest_page_return(u64 pa, unsigned state)
{
	struct hyp_page *p = hyp_phys_to_page(pa);
	if (state == HS_PAGE_SHARED_BORROWED) {
		if (p->guest_shares && --p->guest_shares == 0) {
			host_stage2_set_page_state(pa, HS_PAGE_OWNED);
			hyp_page_set_host_state(p, HS_PAGE_OWNED);
		}
		return 0;
	}
	if (state != HS_PAGE_OWNED)
		return 0;
	int ret = host_stage2_try(host_s2_op_set_owner, pa, HS_PAGE_SIZE, 0);
	if (!ret)
		hyp_page_set_host_state(p, HS_PAGE_OWNED);
	return ret;
}

/* host OWNED or SHARED_OWNED (guests) / guest NOPAGE -> SHARED_OWNED, count+1 / SHARED_BORROWED */
int host_share_guest_pages(u64 pfn, u64 nr, struct hyp_pgtable *g, u64 gvttbr, u64 gfn,
			   unsigned prot)
{
	u64 phys, size;
	int ret = check_range(pfn, nr, &phys, &size);
	if (ret)
		return ret;
	hyp_spin_lock(&host_s2_lock);
	for (u64 i = 0; i < nr; i++) {
		const struct hyp_page *p = hyp_phys_to_page(phys + (i << HS_PAGE_SHIFT));
		unsigned hs = hyp_page_host_state(p);
		u64 pte;
		s8 level;
		bool shared_with_guests = hs == HS_PAGE_SHARED_OWNED && p->guest_shares;
		if ((hs != HS_PAGE_OWNED && !shared_with_guests) ||
		    hyp_page_hyp_state(p) != HS_PAGE_NOPAGE || p->guest_shares == 0xffffffffu) {
			ret = -HS_EPERM;
			goto out;
		}
		if (!pgt_get_leaf(g, (gfn + i) << HS_PAGE_SHIFT, &pte, &level) && pte_valid(pte)) {
			ret = -HS_EAGAIN; /* a racing vCPU mapped it already */
			goto out;
		}
	}
	guest_vttbr(gvttbr);
	ret = pgt_map(g, gfn << HS_PAGE_SHIFT, size, phys,
		      prot | PGT_PROT_STATE(HS_PAGE_SHARED_BORROWED));
	if (ret)
		pgt_unmap(g, gfn << HS_PAGE_SHIFT, size);
	guest_vttbr(host_vttbr);
	if (ret)
		goto out;
	for (u64 i = 0; i < nr; i++) {
		u64 pa = phys + (i << HS_PAGE_SHIFT);
		struct hyp_page *p = hyp_phys_to_page(pa);
		if (hyp_page_host_state(p) == HS_PAGE_OWNED) {
			/* page-granular entry; cannot fail short of table pages */
			host_stage2_set_page_state(pa, HS_PAGE_SHARED_OWNED);
			hyp_page_set_host_state(p, HS_PAGE_SHARED_OWNED);
		}
		p->guest_shares++;
	}
out:
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

/* SHARED_OWNED / SHARED_BORROWED -> count-1 (OWNED at 0) / NOPAGE */
int host_unshare_guest_pages(struct hyp_pgtable *g, u64 gvttbr, u64 gfn, u64 nr)
{
	int ret = 0;
	hyp_spin_lock(&host_s2_lock);
	for (u64 i = 0; i < nr; i++) {
		u64 ipa = (gfn + i) << HS_PAGE_SHIFT, pte;
		s8 level;
		if (pgt_get_leaf(g, ipa, &pte, &level) || !pte_valid(pte)) {
			ret = -HS_ENOENT;
			goto out;
		}
		const struct hyp_page *p = hyp_phys_to_page(guest_leaf_pa(pte, level, ipa));
		if (pte_state(pte) != HS_PAGE_SHARED_BORROWED ||
		    hyp_page_host_state(p) != HS_PAGE_SHARED_OWNED || !p->guest_shares) {
			ret = -HS_EPERM;
			goto out;
		}
	}
	/* Checked: now page by page (a block splits; only table pages can run out). */
	for (u64 i = 0; i < nr; i++) {
		u64 ipa = (gfn + i) << HS_PAGE_SHIFT, pte;
		s8 level;
		pgt_get_leaf(g, ipa, &pte, &level);
		u64 pa = guest_leaf_pa(pte, level, ipa);
		ret = guest_unmap_page(g, gvttbr, ipa);
		if (ret)
			goto out;
		guest_page_return(pa, HS_PAGE_SHARED_BORROWED);
	}
out:
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

/* host OWNED / guest NOPAGE -> host NOPAGE, annotated GUEST(handle, gfn) / guest OWNED */
int host_donate_guest_page(u64 pfn, struct hyp_pgtable *g, u64 gvttbr, u64 gfn, u64 handle)
{
	u64 phys, pte;
	s8 level;
	int ret = check_pfn(pfn, &phys);
	if (ret)
		return ret;
	hyp_spin_lock(&host_s2_lock);
	const struct hyp_page *p = hyp_phys_to_page(phys);
	if (hyp_page_host_state(p) != HS_PAGE_OWNED || hyp_page_hyp_state(p) != HS_PAGE_NOPAGE ||
	    p->guest_shares) {
		ret = -HS_EPERM;
		goto out;
	}
	if (!pgt_get_leaf(g, gfn << HS_PAGE_SHIFT, &pte, &level) && pte_valid(pte)) {
		ret = -HS_EAGAIN;
		goto out;
	}
	guest_vttbr(gvttbr);
	ret = pgt_map(g, gfn << HS_PAGE_SHIFT, HS_PAGE_SIZE, phys,
		      HS_PROT_RWX | PGT_PROT_STATE(HS_PAGE_OWNED));
	guest_vttbr(host_vttbr);
	if (ret)
		goto out;
	u64 meta = (handle & HS_ANNOT_META_HANDLE_MASK) | (gfn << HS_ANNOT_META_GFN_SHIFT);
	ret = host_stage2_try(host_s2_op_set_owner, phys, HS_PAGE_SIZE,
			      hs_annotation(HS_OWNER_GUEST, meta));
	if (ret) {
		guest_unmap_page(g, gvttbr, gfn << HS_PAGE_SHIFT);
		goto out;
	}
	hyp_page_set_host_state(hyp_phys_to_page(phys), HS_PAGE_NOPAGE);
out:
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

struct reclaim_data {
	int ret;
};

static int guest_reclaim_walker(const struct pgt_visit_ctx *ctx)
{
	struct reclaim_data *d = ctx->arg;
	if (!pte_valid(ctx->old))
		return 0;
	u64 size = pgt_granule(ctx->level), base = pte_to_phys(ctx->old);
	unsigned state = pte_state(ctx->old);
	for (u64 off = 0; off < size; off += HS_PAGE_SIZE) {
		int ret = state == HS_PAGE_OWNED ? scrub_page(base + off) : 0;
		if (!ret)
			ret = guest_page_return(base + off, state);
		if (ret)
			d->ret = ret;
	}
	return 0;
}

/*
 * A dying guest's page at gfn goes back to the host: scrubbed first (a dying
 * guest never runs again, so it cannot dirty it), then unmapped from the
 * guest stage 2, then returned. Each step that can fail comes before the
 * ones that change ownership, so a refusal leaves every table consistent.
 */
int guest_reclaim_page(struct hyp_pgtable *g, u64 gvttbr, u64 gfn)
{
	u64 ipa = gfn << HS_PAGE_SHIFT, pte;
	s8 level;
	int ret = -HS_ENOENT;
	hyp_spin_lock(&host_s2_lock);
	if (pgt_get_leaf(g, ipa, &pte, &level) || !pte_valid(pte))
		goto out;
	u64 pa = guest_leaf_pa(pte, level, ipa);
	unsigned state = pte_state(pte);
	if (state == HS_PAGE_OWNED && (ret = scrub_page(pa)))
		goto out;
	ret = guest_unmap_page(g, gvttbr, ipa);
	if (!ret)
		ret = guest_page_return(pa, state);
out:
	hyp_spin_unlock(&host_s2_lock);
	return ret;
}

/* Teardown: every page a guest had goes back to the host (before its table goes). */
int guest_reclaim_all(struct hyp_pgtable *g)
{
	struct reclaim_data d = {0};
	struct pgt_walker w = {.cb = guest_reclaim_walker, .arg = &d, .flags = PGT_WALK_LEAF};
	hyp_spin_lock(&host_s2_lock);
	int ret = pgt_walk(g, 0, BIT(g->ia_bits), &w);
	hyp_spin_unlock(&host_s2_lock);
	return ret ? ret : d.ret;
}
