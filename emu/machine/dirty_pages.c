/* SPDX-License-Identifier: MIT */
#include "dirty_pages.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pagemap_scan.h"

/* Linux 6.7's userfaultfd features, spelled out for older headers (Debian 12's lack them). */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define PAGE 4096u

struct hs_dirty_pages {
	int uffd, pagemap;
	uint64_t base, size;
};

static int refuse(int rc, char *why, size_t n, const char *what)
{
	snprintf(why, n, "%s: %s", what, strerror(-rc));
	return rc;
}

static void ignore(void *ud, uint64_t off, uint64_t n)
{
	(void)ud, (void)off, (void)n;
}

int hs_dirty_open(void *base, uint64_t size, struct hs_dirty_pages **out, char *why, size_t n)
{
	*out = NULL;
	struct hs_dirty_pages *d = calloc(1, sizeof(*d));
	if (!d)
		return refuse(-ENOMEM, why, n, "out of memory");
	*d = (struct hs_dirty_pages){
	    .uffd = -1, .pagemap = -1, .base = (uintptr_t)base, .size = size};
	/* User-mode faults only: needs no privilege, and asynchronous faults never wait anyway. */
	d->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (d->uffd < 0 && errno == EINVAL)
		d->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int rc = 0;
	if (d->uffd < 0)
		rc = refuse(-errno, why, n, "userfaultfd");
	struct uffdio_api api = {.api = UFFD_API,
				 .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED};
	if (!rc && ioctl(d->uffd, UFFDIO_API, &api))
		rc = refuse(-errno, why, n, "userfaultfd without asynchronous write-protect");
	struct uffdio_register reg = {.range = {.start = d->base, .len = size},
				      .mode = UFFDIO_REGISTER_MODE_WP};
	if (!rc && ioctl(d->uffd, UFFDIO_REGISTER, &reg))
		rc = refuse(-errno, why, n, "userfaultfd cannot write-protect RAM");
	if (!rc && (d->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0)
		rc = refuse(-errno, why, n, "/proc/self/pagemap");
	/* What is there now was written before the open: protect it, unreported. */
	if (!rc && (rc = hs_dirty_take(d, ignore, NULL)))
		refuse(rc, why, n, "PAGEMAP_SCAN cannot write-protect");
	if (rc) {
		hs_dirty_close(d);
		return rc;
	}
	*out = d;
	return 0;
}

void hs_dirty_close(struct hs_dirty_pages *d)
{
	if (!d)
		return;
	/* Closing the descriptor unregisters the range; the stale bits are ignored after. */
	if (d->uffd >= 0)
		close(d->uffd);
	if (d->pagemap >= 0)
		close(d->pagemap);
	free(d);
}

int hs_dirty_take(struct hs_dirty_pages *d, void (*fn)(void *ud, uint64_t off, uint64_t n),
		  void *ud)
{
	struct pm_page_region r[256];
	uint64_t at = d->base, end = d->base + d->size;
	while (at < end) {
		/*
		 * Written, present or swapped, and not the zero page. Holes (never
		 * touched, or dropped) are not asked about: protecting them would
		 * fill in page tables for all of RAM, and every take would walk them.
		 */
		struct pm_scan_arg a = {.size = sizeof(a),
					.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
					.start = at,
					.end = end,
					.vec = (uintptr_t)r,
					.vec_len = sizeof(r) / sizeof(r[0]),
					.category_inverted = PM_IS_PFNZERO,
					.category_mask = PM_IS_WRITTEN | PM_IS_PFNZERO,
					.category_anyof_mask = PM_IS_PRESENT | PM_IS_SWAPPED,
					.return_mask = PM_IS_WRITTEN};
		long nr = ioctl(d->pagemap, PM_SCAN_IOCTL, &a);
		if (nr < 0)
			return -errno;
		if (a.walk_end <= at || a.walk_end > end)
			return -EIO;
		for (long k = 0; k < nr; k++)
			fn(ud, r[k].start - d->base, (r[k].end - r[k].start) / PAGE);
		at = a.walk_end;
	}
	return 0;
}
