/* SPDX-License-Identifier: MIT */
/*
 * PAGEMAP_SCAN (linux/fs.h since 6.7), spelled out for older headers (Debian
 * 12's have none): the kernel's ABI, used by ram_scan.c (which pages hold
 * anything) and dirty_pages.c (which were written).
 */
#ifndef HS_PAGEMAP_SCAN_H
#define HS_PAGEMAP_SCAN_H

#include <stdint.h>
#include <sys/ioctl.h>

struct pm_page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PM_SCAN_IOCTL _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_WP_MATCHING (1u << 0)	/* write-protect the pages it returns */
#define PM_SCAN_CHECK_WPASYNC (1u << 1) /* fail unless asynchronous write-protect is on */
#define PM_IS_WRITTEN (1u << 1)
#define PM_IS_PRESENT (1u << 3)
#define PM_IS_SWAPPED (1u << 4)
#define PM_IS_PFNZERO (1u << 5)

#endif
