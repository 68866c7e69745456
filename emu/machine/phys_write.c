/* SPDX-License-Identifier: MIT */
/*
 * Stores behind the CPUs' backs (the host model, the debugger, a loader):
 * they settle pending CPU stores first, reach the write log, and drop the
 * translated code they overwrite. And the host model's zeroing of memory it
 * hands out, which only tells the write log (as a memset would not).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine_priv.h"
#include "store_trap.h"
#include "write_log.h"

int hs_phys_write(struct hs_machine *m, uint64_t pa, const void *buf, size_t len,
		  struct hs_error *err)
{
	void *p = hs_phys_ptr(m, pa, len);
	if (!p)
		return hs_err(err, -EFAULT, "[%#" PRIx64 ", +%#zx) is not RAM", pa, len);
	hs_store_traps_settle(m); /* a CPU store still pending reads its new bytes first */
	memcpy(p, buf, len);
	hs_write_log_mark(m, pa, len); /* no CPU hook saw this store */
	/*
	 * Stores behind the CPUs' backs must not leave stale translated code.
	 * Translated blocks are indexed by virtual address, so a patch of the
	 * hypervisor image (which runs at HYP VAs) drops all translated code.
	 */
	bool code = false;
	for (size_t i = 0; i < m->img->nsegs; i++) {
		const struct hs_segment *seg = &m->img->segs[i];
		uint64_t s0 = hs_link_to_pa(m, seg->paddr), s1 = s0 + seg->memsz;
		if ((seg->flags & 1 /* PF_X */) && pa < s1 && pa + len > s0)
			code = true;
	}
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		if (!m->cpus[i].uc)
			continue;
		if (code)
			hs_quirk_flush_code(m->cpus[i].uc);
		else
			uc_ctl_remove_cache(m->cpus[i].uc, pa, pa + len);
	}
	return 0;
}

void hs_machine_flush_code(struct hs_machine *m)
{
	for (unsigned i = 0; i < m->nr_cpus; i++)
		hs_quirk_flush_code(m->cpus[i].uc);
}

int hs_phys_zero(struct hs_machine *m, uint64_t pa, size_t len, struct hs_error *err)
{
	uint8_t *p = hs_phys_ptr(m, pa, len);
	if (!p)
		return hs_err(err, -EFAULT, "[%#" PRIx64 ", +%#zx) is not RAM", pa, len);
	/*
	 * RAM is a private anonymous mapping (hs_machine_create): MADV_DONTNEED
	 * drops its pages and they read as zero again. A dump's RAM is a file's
	 * (the call would bring its contents back), so it gets the memset.
	 */
	/* What the range held is gone without a store anyone sees: the log's readers are told. */
	hs_write_log_zeroing(m, pa, len);
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1),
		  hi = ((uintptr_t)p + len) & ~(page - 1);
	if (m->dump || hi <= lo || madvise((void *)lo, hi - lo, MADV_DONTNEED)) {
		memset(p, 0, len);
		return 0;
	}
	memset(p, 0, lo - (uintptr_t)p);
	memset((void *)hi, 0, (uintptr_t)p + len - hi);
	/*
	 * What the host hands out is read soon (the hypervisor checks its whole
	 * pool is zero): map the kernel's zero page over the range in one call
	 * rather than one fault per page. Still no resident memory; an older
	 * kernel without it just takes the faults.
	 */
	(void)madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
	return 0;
}
