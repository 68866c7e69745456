/* SPDX-License-Identifier: MIT */
/*
 * Which pages of a private anonymous mapping (the machine's RAM) were
 * written, asked of the kernel: the mapping is registered with userfaultfd in
 * asynchronous write-protect mode (Linux 6.7: UFFD_FEATURE_WP_ASYNC with
 * WP_UNPOPULATED), so a store to a protected page only clears the page's
 * write-protect bit, with no fault delivered to anyone, and PAGEMAP_SCAN
 * (PM_SCAN_WP_MATCHING) returns the pages whose bit is clear and sets it
 * again in one call. That sees every store, by any CPU engine at any
 * exception level and by the emulator itself, at no cost per store; a take
 * costs a walk of the page tables that exist (the pages the machine touched),
 * not of the RAM size.
 *
 * What it does not see: a page emptied with MADV_DONTNEED is "not present"
 * afterwards, and only present (or swapped) pages are asked about, so a
 * caller that drops pages reports them itself (hs_phys_zero does, through
 * hs_write_log_zeroing). Pages mapped to the kernel's zero page read as zero
 * and were zero before (only a drop makes a written page read as zero), so
 * they are not reported either.
 */
#ifndef HS_DIRTY_PAGES_H
#define HS_DIRTY_PAGES_H

#include <stddef.h>
#include <stdint.h>

struct hs_dirty_pages;

/*
 * Start tracking [base, base + size) (page-aligned, private anonymous). 0, or
 * a negative errno with why[] saying what the kernel refused (an older kernel,
 * seccomp, no permission): the caller then tracks stores itself.
 */
int hs_dirty_open(void *base, uint64_t size, struct hs_dirty_pages **out, char *why, size_t n);
void hs_dirty_close(struct hs_dirty_pages *d);

/*
 * Report the pages written since the last take (or the open) as runs
 * fn(ud, offset of the first page, number of pages), in increasing order,
 * and protect them again. 0 or a negative errno (then nothing is known:
 * assume every page changed).
 */
int hs_dirty_take(struct hs_dirty_pages *d, void (*fn)(void *ud, uint64_t off, uint64_t n),
		  void *ud);

#endif
