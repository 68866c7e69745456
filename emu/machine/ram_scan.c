/* SPDX-License-Identifier: MIT */
/*
 * A booted machine has few pages written but many resident: every page the
 * hypervisor only read (its pool, the vmemmap windows) is mapped to the
 * kernel's shared zero page. Comparing each of those with zeros made the
 * first checkpoint of a 16 GiB machine cost 60-95 ms, and mincore alone
 * costs 10 ms per 16 GiB, used or not.
 *
 * Linux 6.7's PAGEMAP_SCAN answers both at once: it walks only the page
 * tables that exist and returns runs of pages present or swapped, with the
 * zero page's marked, so the cost follows the pages the machine touched, not
 * the RAM size. Without it (older kernels): mincore, then the page map's
 * entries of the resident pages: RAM is a private anonymous mapping, never
 * forked or merged, so a present page that is not mapped exclusively is the
 * zero page (and where the kernel shows frame numbers, its frame must be the
 * zero page's). Either way only the remaining pages are compared with zeros.
 */
#include "ram_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "machine_priv.h"
#include "pagemap_scan.h"

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_PFN ((1ULL << 55) - 1)

int hs_page_list_push(struct hs_page_list *v, uint64_t pa)
{
	if (v->nr == v->cap) {
		size_t n = v->cap ? 2 * v->cap : 256;
		void *p = realloc(v->pa, n * sizeof(*v->pa));
		if (!p)
			return -ENOMEM;
		v->pa = p;
		v->cap = n;
	}
	v->pa[v->nr++] = pa;
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[HS_PAGE_SIZE];
	const uint64_t *w = (const uint64_t *)p;
	return !w[0] && !memcmp(p, zero, HS_PAGE_SIZE);
}

static bool pagemap_read(int fd, const void *addr, uint64_t n, uint64_t *ent)
{
	off_t off = (off_t)((uintptr_t)addr / HS_PAGE_SIZE * 8);
	return fd >= 0 && pread(fd, ent, n * 8, off) == (ssize_t)(n * 8);
}

/* The zero page's frame number as this process sees it (0: frames are hidden). */
static uint64_t zero_pfn(int fd)
{
	void *p = mmap(NULL, HS_PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	uint64_t ent = 0;
	volatile const uint8_t *b = p;
	(void)*b; /* a read fault maps the zero page */
	if (!pagemap_read(fd, p, 1, &ent) || !(ent & PM_PRESENT))
		ent = 0;
	munmap(p, HS_PAGE_SIZE);
	return ent & PM_PFN;
}

/* The page map entry says: this page is the shared zero page. */
static bool is_zero_page(uint64_t ent, uint64_t zpfn)
{
	if (!(ent & PM_PRESENT) || (ent & (PM_EXCLUSIVE | PM_FILE | PM_SWAPPED)))
		return false;
	return !(ent & PM_PFN) || !zpfn || (ent & PM_PFN) == zpfn;
}

/* Swapped pages are not resident either: with swap on, the page map names them. */
static void add_swapped(const uint8_t *ram, int fd, unsigned char *vec, uint64_t npages)
{
	struct sysinfo si;
	if (sysinfo(&si) || !si.totalswap)
		return;
	uint64_t ent[512];
	for (uint64_t i = 0; i < npages; i += 512) {
		uint64_t n = npages - i < 512 ? npages - i : 512;
		if (!pagemap_read(fd, ram + (i << HS_PAGE_SHIFT), n, ent)) {
			memset(vec + i, 1, npages - i); /* cannot tell: look at every page */
			break;
		}
		for (uint64_t k = 0; k < n; k++)
			if (ent[k] & (PM_PRESENT | PM_SWAPPED))
				vec[i + k] |= 1;
	}
}

/* The next page at or after i that mincore marked (whole words of unmarked ones skipped). */
static uint64_t next_marked(const unsigned char *vec, uint64_t i, uint64_t npages)
{
	while (i < npages && (i & 7))
		if (vec[i] & 1)
			return i;
		else
			i++;
	while (i + 8 <= npages) {
		uint64_t w;
		memcpy(&w, vec + i, 8);
		if (w & 0x0101010101010101ULL)
			break;
		i += 8;
	}
	while (i < npages && !(vec[i] & 1))
		i++;
	return i;
}

/* Push the page at RAM index i unless nonzero says it must hold something and it does not. */
static int keep(struct hs_machine *m, bool nonzero, uint64_t i, struct hs_page_list *out)
{
	if (nonzero && page_is_zero(m->ram + (i << HS_PAGE_SHIFT)))
		return 0;
	return hs_page_list_push(out, m->opts.ram_base + (i << HS_PAGE_SHIFT));
}

/* With PAGEMAP_SCAN: 0, -ENOMEM, or -ENOTTY when the kernel cannot (then nothing is kept). */
static int scan_regions(struct hs_machine *m, int fd, uint64_t lo, uint64_t npages, bool nonzero,
			struct hs_page_list *out)
{
	uint64_t base = (uintptr_t)m->ram, at = base + (lo << HS_PAGE_SHIFT),
		 end = at + (npages << HS_PAGE_SHIFT);
	struct pm_page_region r[128];
	while (at < end) {
		struct pm_scan_arg a = {.size = sizeof(a),
					.start = at,
					.end = end,
					.vec = (uintptr_t)r,
					.vec_len = sizeof(r) / sizeof(r[0]),
					.category_anyof_mask = PM_IS_PRESENT | PM_IS_SWAPPED,
					.return_mask =
					    PM_IS_PRESENT | PM_IS_SWAPPED | PM_IS_PFNZERO};
		long n = fd < 0 ? -1 : ioctl(fd, PM_SCAN_IOCTL, &a);
		if (n < 0 || a.walk_end <= at || a.walk_end > end) {
			out->nr = 0;
			return -ENOTTY;
		}
		for (long k = 0; k < n; k++) {
			if (r[k].categories & PM_IS_PFNZERO)
				continue; /* the zero page: reads as zero, holds nothing */
			for (uint64_t p = r[k].start; p < r[k].end; p += HS_PAGE_SIZE) {
				int rc = keep(m, nonzero, (p - base) >> HS_PAGE_SHIFT, out);
				if (rc)
					return rc;
			}
		}
		at = a.walk_end;
	}
	return 0;
}

int hs_ram_scan_range(struct hs_machine *m, uint64_t first, uint64_t len, bool nonzero,
		      uint64_t **pa, size_t *nr)
{
	*pa = NULL;
	*nr = 0;
	uint64_t lo = (first - m->opts.ram_base) >> HS_PAGE_SHIFT,
		 hi = (first - m->opts.ram_base + len + HS_PAGE_SIZE - 1) >> HS_PAGE_SHIFT;
	if (first < m->opts.ram_base || hi > m->opts.ram_size >> HS_PAGE_SHIFT || hi <= lo)
		return 0;
	uint64_t npages = hi - lo;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	struct hs_page_list out = {0};
	int rc = scan_regions(m, fd, lo, npages, nonzero, &out);
	if (rc != -ENOTTY) {
		if (fd >= 0)
			close(fd);
		if (rc) {
			free(out.pa);
			return rc;
		}
		*pa = out.pa;
		*nr = out.nr;
		return 0;
	}
	const uint8_t *ram = m->ram + (lo << HS_PAGE_SHIFT);
	unsigned char *vec = malloc(npages);
	if (!vec) {
		if (fd >= 0)
			close(fd);
		free(out.pa);
		return -ENOMEM;
	}
	if (mincore((void *)ram, npages << HS_PAGE_SHIFT, vec))
		memset(vec, 1, npages); /* cannot tell: look at every page */
	else
		add_swapped(ram, fd, vec, npages);
	uint64_t zpfn = nonzero ? zero_pfn(fd) : 0;
	rc = 0;
	uint64_t ent[512];
	uint64_t ent_at = 0, ent_n = 0; /* ent[] holds the entries of pages ent_at.. */
	for (uint64_t i = next_marked(vec, 0, npages); i < npages && !rc;
	     i = next_marked(vec, i + 1, npages)) {
		const uint8_t *page = ram + (i << HS_PAGE_SHIFT);
		if (nonzero) {
			if (i < ent_at || i >= ent_at + ent_n) {
				ent_at = i;
				ent_n = npages - i < 512 ? npages - i : 512;
				if (!pagemap_read(fd, page, ent_n, ent))
					ent_n = 0;
			}
			if (ent_n && is_zero_page(ent[i - ent_at], zpfn))
				continue;
		}
		rc = keep(m, nonzero, lo + i, &out);
	}
	if (fd >= 0)
		close(fd);
	free(vec);
	if (rc) {
		free(out.pa);
		return rc;
	}
	*pa = out.pa;
	*nr = out.nr;
	return 0;
}

int hs_ram_scan(struct hs_machine *m, bool nonzero, uint64_t **pa, size_t *nr)
{
	return hs_ram_scan_range(m, m->opts.ram_base, m->opts.ram_size, nonzero, pa, nr);
}
