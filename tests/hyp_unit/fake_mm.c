// SPDX-License-Identifier: MIT
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fake_mm.h"

struct hs_fake_arch_state hs_fake_arch;

static struct fake_mm fake;

static u64 fake_pfn_idx(void *addr)
{
	u8 *p = addr;

	ck_assert_msg(p >= fake.buf && p < fake.buf + fake.nr_pages * HS_PAGE_SIZE,
		      "address %p outside the fake memory", addr);
	return (u64)(p - fake.buf) >> HS_PAGE_SHIFT;
}

u64 fake_virt_to_phys(void *addr)
{
	return FAKE_PHYS_BASE + (u64)((u8 *)addr - fake.buf);
}

void *fake_phys_to_virt(u64 phys)
{
	ck_assert_msg(phys >= FAKE_PHYS_BASE &&
			  phys < FAKE_PHYS_BASE + fake.nr_pages * HS_PAGE_SIZE,
		      "phys 0x%llx outside the fake memory", (unsigned long long)phys);
	return fake.buf + (phys - FAKE_PHYS_BASE);
}

/* First run of @nr free pages aligned to @nr pages (natural alignment). */
static void *fake_alloc(u64 nr)
{
	u64 i, j;

	if (fake.live_pages + nr > fake.alloc_limit)
		return NULL;
	for (i = 0; i + nr <= fake.nr_pages; i += nr) {
		for (j = 0; j < nr && !fake.refcount[i + j]; j++)
			;
		if (j < nr)
			continue;
		for (j = 0; j < nr; j++)
			fake.refcount[i + j] = 1;
		fake.live_pages += nr;
		memset(fake.buf + i * HS_PAGE_SIZE, 0, nr * HS_PAGE_SIZE);
		return fake.buf + i * HS_PAGE_SIZE;
	}
	return NULL;
}

static void *fake_zalloc_page(void *arg)
{
	ck_assert_ptr_eq(arg, &fake);
	return fake_alloc(1);
}

static void *fake_zalloc_pages_exact(size_t size, void *arg)
{
	ck_assert_ptr_eq(arg, &fake);
	ck_assert(size && !(size & (size - 1)) && size >= HS_PAGE_SIZE);
	return fake_alloc(size / HS_PAGE_SIZE);
}

static void fake_get_page(void *addr)
{
	u64 i = fake_pfn_idx(addr);

	ck_assert_msg(fake.refcount[i] > 0, "get_page on a free page");
	fake.refcount[i]++;
}

static void fake_put_page(void *addr)
{
	u64 i = fake_pfn_idx(addr);

	ck_assert_msg(fake.refcount[i] > 0, "put_page on a free page");
	if (--fake.refcount[i])
		return;
	/* Poison: a use after free shows up as garbage descriptors. */
	memset(fake.buf + i * HS_PAGE_SIZE, 0xa5, HS_PAGE_SIZE);
	fake.live_pages--;
}

int fake_page_count(void *addr)
{
	return fake.refcount[fake_pfn_idx(addr)];
}

struct fake_mm *fake_mm_init(u64 nr_pages)
{
	memset(&hs_fake_arch, 0, sizeof(hs_fake_arch));
	memset(&fake, 0, sizeof(fake));
	fake.nr_pages = nr_pages;
	fake.alloc_limit = nr_pages;
	/* 64 KiB alignment: naturally aligned runs of up to 16 pages. */
	fake.buf = aligned_alloc(0x10000, nr_pages * HS_PAGE_SIZE);
	ck_assert_ptr_nonnull(fake.buf);
	memset(fake.buf, 0xa5, nr_pages * HS_PAGE_SIZE);
	fake.refcount = calloc(nr_pages, sizeof(*fake.refcount));
	ck_assert_ptr_nonnull(fake.refcount);
	fake.ops = (struct hyp_mm_ops){
	    .zalloc_page = fake_zalloc_page,
	    .zalloc_pages_exact = fake_zalloc_pages_exact,
	    .get_page = fake_get_page,
	    .put_page = fake_put_page,
	    .page_count = fake_page_count,
	    .phys_to_virt = fake_phys_to_virt,
	    .virt_to_phys = fake_virt_to_phys,
	    .arg = &fake,
	};
	return &fake;
}

void fake_mm_fini(void)
{
	free(fake.buf);
	free(fake.refcount);
	memset(&fake, 0, sizeof(fake));
}
