/* SPDX-License-Identifier: MIT */
/* What every host boot flow does the same way: memblock, symbols, the boot EL2 table. */
#include "boot_util.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "host.h"
#include "host_boot.h"
#include "machine_priv.h"

/* memblock: top-down, aligned, never below the image. */
int hs_memblock_alloc(struct hs_machine *m, uint64_t size, uint64_t align, uint64_t *pa,
		      struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	uint64_t top = (h->alloc_top - size) & ~(align - 1);
	if (size > h->alloc_top || top < h->alloc_floor)
		return hs_err(err, -ENOMEM, "memblock: cannot allocate %#" PRIx64 " bytes", size);
	h->alloc_top = top;
	*pa = top;
	/* The pool is 100 MiB at 16 GiB and usually never written yet: no memset of zeros. */
	return hs_phys_zero(m, top, size, err);
}

int hs_write_sym(struct hs_machine *m, const char *name, const void *val, size_t len,
		 struct hs_error *err)
{
	uint64_t pa;
	int rc = hs_sym_pa(m, name, &pa, err);
	return rc ? rc : hs_phys_write(m, pa, val, len, err);
}

int hs_boot_table_page(struct hs_machine *m, uint64_t *pa, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	if (h->nr_boot_table_pages == sizeof(h->boot_table_pages) / sizeof(h->boot_table_pages[0]))
		return hs_err(err, -ENOMEM, "throw-away table: too many pages");
	int rc = hs_memblock_alloc(m, HS_PAGE_SIZE, HS_PAGE_SIZE, pa, err);
	if (!rc)
		h->boot_table_pages[h->nr_boot_table_pages++] = *pa;
	return rc;
}

int hs_boot_map_page(struct hs_machine *m, uint64_t va, uint64_t pa, uint64_t attrs,
		     struct hs_error *err)
{
	unsigned va_bits = m->opts.hyp_va_bits;
	int start_level = va_bits > 39 ? 0 : 1;
	uint64_t table = hs_host_of(m)->boot_pgd_pa;
	for (int level = start_level; level < 3; level++) {
		unsigned shift = 39 - 9 * level;
		uint64_t idx = (va >> shift) & 511;
		uint64_t *e = hs_phys_ptr(m, table + idx * 8, 8);
		if (!(*e & S1_VALID)) {
			uint64_t next = 0;
			int rc = hs_boot_table_page(m, &next, err);
			if (rc)
				return rc;
			*e = next | S1_TABLE;
		}
		table = *e & S1_OA_MASK;
	}
	uint64_t *pte = hs_phys_ptr(m, table + ((va >> 12) & 511) * 8, 8);
	*pte = (pa & S1_OA_MASK) | attrs | S1_PAGE | S1_AF;
	return 0;
}

int hs_boot_map_range(struct hs_machine *m, uint64_t va, uint64_t pa, uint64_t size, uint64_t attrs,
		      struct hs_error *err)
{
	for (uint64_t off = 0; off < size; off += HS_PAGE_SIZE) {
		int rc = hs_boot_map_page(m, va + off, pa + off, attrs, err);
		if (rc)
			return rc;
	}
	return 0;
}

uint64_t hs_link_sym(struct hs_machine *m, const char *name)
{
	const struct hs_symbol *s = hs_image_symbol(m->img, name);
	return s ? s->addr : 0;
}

int hs_boot_start_hvc(struct hs_machine *m, unsigned cpu, uint64_t fn, const uint64_t *args,
		      unsigned nargs,
		      int (*done)(struct hs_machine *, struct hs_host_op *, struct hs_error *),
		      struct hs_error *err)
{
	struct hs_host_op op = {.kind = HS_HOP_HVC, .cpu = cpu, .fn = fn, .done = done};
	for (unsigned i = 0; i < nargs && i < sizeof(op.args) / sizeof(op.args[0]); i++)
		op.args[i] = args[i];
	return hs_host_start_op(m, &op, err);
}

void hs_boot_step_done(struct hs_machine *m)
{
	struct hs_host *h = hs_host_of(m);
	h->boot_step++;
	h->boot_cpu_done = 0;
	if (h->boot_step == HS_BOOT_DONE)
		h->booted = true;
}

/* A page of host memory (memblock is the host's allocator after boot too). */
int hs_vm_host_alloc(struct hs_machine *m, uint64_t size, uint64_t align, uint64_t *pa,
		     struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	uint64_t top = (h->alloc_top - size) & ~(align - 1);
	if (size > h->alloc_top || top < h->alloc_floor)
		return hs_err(err, -ENOMEM, "the host is out of memory for guests");
	h->alloc_top = top;
	*pa = top;
	return 0;
}
