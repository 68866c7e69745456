/* SPDX-License-Identifier: MIT */
/*
 * Calibration of QEMU's fast TLB tables, which the fast-store fill wrapper
 * of Unicorn 2.0.1 needs (uc_fast_stores.c): after a TLB fill it clears
 * TLB_NOTDIRTY on the one entry just filled. QEMU's tlb_set_dirty does the
 * same for every MMU mode's entry and victim entries (12 + 96 per call, 6.6 %
 * of a 16 GiB boot), where only the new entry needs it.
 *
 * Found by behaviour, never by a hard-coded offset: fill two pages in two MMU
 * modes of a scratch CPU, then find, in the CPU object before CPUARMState,
 * the array of QEMU's CPUTLBDescFast {mask, table} whose entries for those
 * modes hold the two pages (CPUTLBEntry: addr_read, addr_write, ...), with a
 * flag in addr_write; QEMU's own tlb_set_dirty must then clear exactly that
 * flag (TLB_NOTDIRTY) of exactly that entry. Only 2.0.1 fills through the
 * wrapper; elsewhere nothing is looked for.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uc_qemu_tlb.h"
#include "uc_quirks.h"

#if HS_UC_2_0

#define MIN_PAGE_BITS 10
#define MAX_PAGE_BITS 16
#define FILL_BITS 12 /* the scratch fills are 4 KiB pages, 4 KiB aligned */

/* Two pages of the scratch engine's RAM (it maps PA 0-0x4000; no code on 0x3000). */
static const struct {
	uint64_t va, pa;
	int mmu_idx;
} fills[] = {{0x7654321000ULL, 0x3000, 1}, {0x1234567000ULL, 0x3000, 2}};

/* A copy of an entry anywhere in this process; false where memory is not readable. */
static bool read_entry(uintptr_t at, struct tlb_entry *out)
{
	struct iovec local = {out, sizeof(*out)}, remote = {(void *)at, sizeof(*out)};
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof(*out);
}

/*
 * The filled entry for fill i if the array starts at base and TLB pages have
 * page_bits: addr_read the page, a flag on addr_write.
 */
static uintptr_t filled(const void *cpu, size_t base, unsigned page_bits, size_t i,
			struct tlb_entry *e)
{
	uintptr_t at = hs_quirk_tlb_entry_at(cpu, base + fills[i].mmu_idx * sizeof(struct tlb_fast),
					     fills[i].va, page_bits);
	if (!at || !read_entry(at, e))
		return 0;
	if (e->addr_read != fills[i].va ||
	    (e->addr_write & TLB_PAGE_MASK(page_bits)) != fills[i].va ||
	    !(e->addr_write & ~TLB_PAGE_MASK(page_bits)))
		return 0;
	return at;
}

int hs_quirks_find_tlb(struct hs_quirks *q, void *cpu, struct hs_error *err)
{
	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
		tlb_set_page_with_attrs_aarch64(cpu, fills[i].va, fills[i].pa,
						(struct qemu_memtxattrs){0}, 3 /* read, write */,
						fills[i].mmu_idx, 1u << FILL_BITS);
	size_t base = 0;
	unsigned bits = 0;
	struct tlb_entry e0, e1;
	uintptr_t at0 = 0;
	for (size_t off = 8; off + 4 * sizeof(struct tlb_fast) <= q->env_off && !base; off += 8) {
		size_t b = off - fills[0].mmu_idx * sizeof(struct tlb_fast);
		if (off < fills[0].mmu_idx * sizeof(struct tlb_fast))
			continue;
		for (unsigned pb = MIN_PAGE_BITS; pb <= MAX_PAGE_BITS && !base; pb++)
			if ((at0 = filled(cpu, b, pb, 0, &e0)) && filled(cpu, b, pb, 1, &e1))
				base = b, bits = pb;
	}
	int rc = 0;
	if (!base) {
		rc = hs_err(err, -EIO, "cannot find QEMU's fast TLB tables in the CPU object");
		goto out;
	}
	/* QEMU's own tlb_set_dirty must clear one flag bit of that entry and nothing else. */
	uint64_t flag = e0.addr_write & ~TLB_PAGE_MASK(bits);
	struct tlb_entry after;
	tlb_set_dirty_aarch64(cpu, fills[0].va);
	if (!read_entry(at0, &after) || after.addr_write != fills[0].va || (flag & (flag - 1)) ||
	    after.addr_read != e0.addr_read || after.addend != e0.addend) {
		rc = hs_err(err, -EIO,
			    "QEMU's tlb_set_dirty does not clear one flag of the TLB entry found");
		goto out;
	}
	q->tlb_fast_off = base;
	q->tlb_page_bits = bits;
	q->tlb_notdirty = flag;
	/* And the wrapper's own marking does what QEMU's did, on the other entry. */
	uintptr_t at1 = filled(cpu, base, bits, 1, &e1);
	if (!at1 || !hs_quirk_tlb_mark_dirty(q, cpu, fills[1].va, fills[1].mmu_idx) ||
	    !read_entry(at1, &after) || after.addr_write != fills[1].va) {
		q->tlb_fast_off = 0;
		rc = hs_err(err, -EIO, "marking the TLB entry found dirty does not take");
	}
out:
	tlb_flush_aarch64(cpu);
	return rc;
}

#else

int hs_quirks_find_tlb(struct hs_quirks *q, void *cpu, struct hs_error *err)
{
	/* 2.1.x marks entries dirty itself: the wrapper does not exist. */
	(void)cpu;
	(void)err;
	q->tlb_fast_off = 0;
	q->tlb_page_bits = 0;
	q->tlb_notdirty = 0;
	return 0;
}

#endif
