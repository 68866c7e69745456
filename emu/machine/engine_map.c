/* SPDX-License-Identifier: MIT */
/*
 * What each CPU's engine maps: RAM, the UART, shadows of the HYP VA ranges
 * Unicorn must be able to translate, and the empty device space below RAM.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "machine_priv.h"

#define GiB (1ULL << 30)

static uint64_t uart_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	(void)uc;
	(void)size;
	(void)ud;
	(void)off;
	return 0; /* FR: never busy; DR: no input */
}

static void uart_flush(struct hs_machine *m, unsigned cpu)
{
	m->uart_line[m->uart_len] = '\0';
	struct hs_event ev = {.type = HS_EV_CONSOLE, .cpu = cpu, .icount = hs_machine_icount(m)};
	ev.console = m->uart_line;
	hs_emit(m, &ev);
	m->uart_len = 0;
}

static void uart_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *ud)
{
	struct hs_machine *m = ud;
	(void)size;
	if (off != HS_UART_DR)
		return;
	unsigned cpu = m->cur;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (m->cpus[i].uc == uc)
			cpu = i;
	char ch = (char)(value & 0xff);
	if (ch == '\r')
		return;
	if (ch == '\n') {
		uart_flush(m, cpu);
		return;
	}
	m->uart_line[m->uart_len++] = ch;
	if (m->uart_len == sizeof(m->uart_line) - 1)
		uart_flush(m, cpu);
}

/*
 * Unicorn checks that a virtual address lies in a mapped region before it
 * translates it. EL2 runs at HYP VAs that are not physical memory, so cover
 * those ranges with "shadow" regions whose contents are never used: they all
 * point at one MAP_NORESERVE reservation. Only gaps between existing regions
 * are filled, so RAM and the UART keep their own.
 */
struct range {
	uint64_t start, end;
};

typedef uc_err (*gap_fn)(struct hs_machine *m, uc_engine *uc, uint64_t start, uint64_t size);

/* Call fn on every part of [start, end) that no Unicorn region covers yet. */
static int for_each_gap(struct hs_machine *m, uc_engine *uc, uint64_t start, uint64_t end,
			gap_fn fn, struct hs_error *err)
{
	start &= ~(HS_PAGE_SIZE - 1);
	end = (end + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	while (start < end) {
		uc_mem_region *regions = NULL;
		uint32_t n = 0;
		if (uc_mem_regions(uc, &regions, &n) != UC_ERR_OK)
			return hs_err(err, -EIO, "cannot list Unicorn's regions");
		uint64_t stop = end;
		bool covered = false;
		for (uint32_t i = 0; i < n; i++) {
			if (start >= regions[i].begin && start <= regions[i].end) {
				start = regions[i].end + 1;
				covered = true;
				break;
			}
			if (regions[i].begin > start && regions[i].begin < stop)
				stop = regions[i].begin;
		}
		uc_free(regions);
		if (covered)
			continue;
		uc_err e = fn(m, uc, start, stop - start);
		if (e)
			return hs_err(err, -EIO, "mapping [%#" PRIx64 ", %#" PRIx64 "): %s", start,
				      stop, uc_strerror(e));
		start = stop;
	}
	return 0;
}

static uc_err map_shadow_gap(struct hs_machine *m, uc_engine *uc, uint64_t start, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += m->shadow_size) {
		uint64_t chunk = size - off < m->shadow_size ? size - off : m->shadow_size;
		uc_err e = uc_mem_map_ptr(uc, start + off, chunk, UC_PROT_ALL, m->shadow);
		if (e)
			return e;
	}
	return UC_ERR_OK;
}

/* Unassigned physical addresses below RAM: reads as zero, writes ignored. */
static uint64_t unassigned_read(uc_engine *uc, uint64_t off, unsigned size, void *ud)
{
	(void)uc;
	(void)off;
	(void)size;
	(void)ud;
	return 0;
}

static void unassigned_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *ud)
{
	(void)uc;
	(void)off;
	(void)size;
	(void)value;
	(void)ud;
}

static uc_err map_unassigned_gap(struct hs_machine *m, uc_engine *uc, uint64_t start, uint64_t size)
{
	return uc_mmio_map(uc, start, size, unassigned_read, m, unassigned_write, m);
}

int hs_machine_map_engine(struct hs_machine *m, uc_engine *uc, struct hs_error *err)
{
	uc_err e = uc_mem_map_ptr(uc, m->opts.ram_base, m->opts.ram_size, UC_PROT_ALL, m->ram);
	if (e)
		return hs_err(err, -EIO, "mapping RAM: %s", uc_strerror(e));
	e = uc_mmio_map(uc, HS_UART_BASE, HS_UART_SIZE, uart_read, m, uart_write, m);
	if (e)
		return hs_err(err, -EIO, "mapping the UART: %s", uc_strerror(e));
	const struct hs_layout *l = &m->layout;
	uint64_t pfn0 = m->opts.ram_base >> HS_PAGE_SHIFT;
	uint64_t pfn1 = (m->opts.ram_base + m->opts.ram_size) >> HS_PAGE_SHIFT;
	struct range want[] = {
	    /* the linear map of RAM */
	    {hs_layout_hyp_va(l, m->opts.ram_base),
	     hs_layout_hyp_va(l, m->opts.ram_base + m->opts.ram_size)},
	    /* private mappings: stacks, vectors, I/O (bump-allocated upwards) */
	    {l->io_map_base, l->io_map_base + GiB},
	    /*
	     * the vmemmap windows that cover memory, for any entry size from 4 bytes
	     * (Linux 6.x's struct hyp_page) to 16: a shadow only lets Unicorn translate
	     * the VA, the hypervisor's own table still decides what is mapped.
	     */
	    {l->vmemmap_base + pfn0 * 4, l->vmemmap_base + pfn1 * 16},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int rc = for_each_gap(m, uc, want[i].start, want[i].end, map_shadow_gap, err);
		if (rc)
			return rc;
	}
	/*
	 * The rest of the space below RAM is device space with nothing in it
	 * (RAZ/WI), so host MMIO accesses and stray guest fetches reach their
	 * stage 2 instead of stopping Unicorn on an address without a region.
	 * (Shadows come first: EL2 must be able to execute from its VAs.)
	 */
	return for_each_gap(m, uc, 0, m->opts.ram_base, map_unassigned_gap, err);
}
