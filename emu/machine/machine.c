/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "barrier_hooks.h"
#include "machine_priv.h"
#include "store_trap.h"
#include "write_log.h"

#define GiB (1ULL << 30)

void hs_machine_opts_default(struct hs_machine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ram_base = HS_RAM_BASE_DEFAULT;
	o->ram_size = HS_RAM_SIZE_DEFAULT;
	o->nr_cpus = 1;
	o->hyp_va_bits = 48;
}

int hs_machine_opts_check(const struct hs_machine_opts *o, struct hs_error *err)
{
	const uint64_t min_ram = 64ULL << 20, max_ram = 64 * GiB;
	if (o->ram_size < min_ram || o->ram_size > max_ram || (o->ram_size & (2 * 1024 * 1024 - 1)))
		return hs_err(
		    err, -EINVAL,
		    "memory size %#" PRIx64
		    " is not supported: give a multiple of 2 MiB between 64 MiB and 64 GiB",
		    o->ram_size);
	if (o->ram_base & (GiB - 1) || !o->ram_base)
		return hs_err(err, -EINVAL,
			      "RAM base %#" PRIx64 " must be a non-zero multiple of 1 GiB",
			      o->ram_base);
	if (o->ram_base + o->ram_size > (1ULL << HS_PA_BITS) ||
	    o->ram_base + o->ram_size < o->ram_base)
		return hs_err(err, -EINVAL,
			      "RAM [%#" PRIx64 ", +%#" PRIx64 ") is beyond the %d-bit "
			      "physical address space",
			      o->ram_base, o->ram_size, HS_PA_BITS);
	if (o->ram_base < HS_UART_BASE + HS_UART_SIZE)
		return hs_err(err, -EINVAL, "RAM would overlap the UART at %#lx", HS_UART_BASE);
	if (o->nr_cpus < 1 || o->nr_cpus > HS_MAX_CPUS)
		return hs_err(err, -EINVAL, "%u CPUs: give between 1 and %d", o->nr_cpus,
			      HS_MAX_CPUS);
	if (o->hyp_va_bits < 39 || o->hyp_va_bits > 48)
		return hs_err(err, -EINVAL, "hyp_va_bits %u: give between 39 and 48",
			      o->hyp_va_bits);
	if (!o->hyp_elf || !*o->hyp_elf)
		return hs_err(err, -EINVAL, "no hypervisor image given");
	return 0;
}

void hs_emit(struct hs_machine *m, struct hs_event *ev)
{
	hs_store_traps_settle(m); /* the stores before this event come first */
	for (unsigned i = 0; i < m->nsubs; i++)
		m->subs[i].fn(ev, m->subs[i].ud);
}

int hs_machine_subscribe(struct hs_machine *m, hs_event_fn fn, void *ud)
{
	if (m->nsubs == HS_MAX_SUBSCRIBERS)
		return -ENOSPC;
	m->subs[m->nsubs++] = (struct hs_subscriber){fn, ud};
	return 0;
}

void hs_machine_unsubscribe(struct hs_machine *m, hs_event_fn fn, void *ud)
{
	for (unsigned i = 0; i < m->nsubs; i++) {
		if (m->subs[i].fn == fn && m->subs[i].ud == ud) {
			memmove(&m->subs[i], &m->subs[i + 1],
				(m->nsubs - i - 1) * sizeof(m->subs[0]));
			m->nsubs--;
			return;
		}
	}
}

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

/* Copy the image's segments to their load addresses and patch absolute pointers to HYP VAs. */
static int load_image(struct hs_machine *m, struct hs_error *err)
{
	const struct hs_image *img = m->img;
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct hs_segment *s = &img->segs[i];
		uint64_t pa = s->paddr + (uint64_t)m->load_bias;
		uint8_t *dst = hs_phys_ptr(m, pa, s->memsz);
		if (!dst)
			return hs_err(err, -EINVAL,
				      "segment at %#" PRIx64 " (+%#" PRIx64 ") does not fit in RAM",
				      pa, s->memsz);
		memcpy(dst, img->file + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	/* Like Linux's kvm_apply_hyp_relocations: pointers in the image become HYP VAs. */
	for (size_t i = 0; i < img->nabs_relocs; i++) {
		uint64_t pa = hs_link_to_pa(m, img->abs_relocs[i]);
		uint64_t *p = hs_phys_ptr(m, pa, 8);
		if (!p)
			return hs_err(err, -EINVAL, "relocation at %#" PRIx64 " outside the image",
				      img->abs_relocs[i]);
		uint64_t v;
		memcpy(&v, p, 8);
		if (v >= img->link_base && v < img->link_end + HS_PAGE_SIZE) {
			v = hs_link_to_hyp_va(m, v);
			memcpy(p, &v, 8);
		}
	}
	return 0;
}

int hs_machine_create_bare(const struct hs_machine_opts *o, struct hs_machine **out,
			   struct hs_error *err)
{
	*out = NULL;
	int rc = hs_machine_opts_check(o, err);
	if (rc)
		return rc;
	struct hs_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return hs_err(err, -ENOMEM, "out of memory");
	m->opts = *o;
	m->hyp_elf_path = strdup(o->hyp_elf);
	m->opts.hyp_elf = m->hyp_elf_path;
	m->nr_cpus = o->nr_cpus;
	if (!m->hyp_elf_path) {
		rc = hs_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!o->dump && (rc = hs_quirks_calibrate(&m->quirks, err)))
		goto fail;
	if ((rc = hs_image_load(o->hyp_elf, &m->img, err)))
		goto fail;
	/* The image is linked at any address; it is loaded at ram_base + HS_HYP_LOAD_OFFSET. */
	uint64_t load_pa = o->ram_base + HS_HYP_LOAD_OFFSET;
	m->load_bias = (int64_t)(load_pa - (m->img->link_base & ~(HS_PAGE_SIZE - 1)));
	if (m->img->link_end - m->img->link_base > o->ram_size / 4) {
		rc =
		    hs_err(err, -EINVAL, "hypervisor image too large for %#" PRIx64 " bytes of RAM",
			   o->ram_size);
		goto fail;
	}
	const struct hs_symbol *idmap = hs_image_symbol(m->img, "__hyp_idmap_text_start");
	if (!idmap) {
		rc = hs_err(err, -EINVAL,
			    "%s: no __hyp_idmap_text_start symbol: not a hypscope "
			    "hypervisor image",
			    o->hyp_elf);
		goto fail;
	}
	if ((rc = hs_layout_compute(o->ram_base, o->ram_size, hs_link_to_pa(m, idmap->addr),
				    o->hyp_va_bits, &m->layout, err)))
		goto fail;

	if (o->dump) {
		/* The image and the CPUs are as the dump has them: nothing is loaded or run. */
		if ((rc = hs_dump_open(m, o->dump, err)))
			goto fail;
		*out = m;
		return 0;
	}
	m->ram = mmap(NULL, o->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	m->shadow_size = GiB;
	m->shadow = mmap(NULL, m->shadow_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED || m->shadow == MAP_FAILED) {
		m->ram = m->ram == MAP_FAILED ? NULL : m->ram;
		m->shadow = m->shadow == MAP_FAILED ? NULL : m->shadow;
		rc = hs_err(err, -ENOMEM, "cannot reserve %#" PRIx64 " bytes of RAM", o->ram_size);
		goto fail;
	}
	if ((rc = load_image(m, err)) || (rc = hs_store_traps_init(m, err)))
		goto fail;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if ((rc = hs_cpu_init(m, &m->cpus[i], i, err)))
			goto fail;
	*out = m;
	return 0;
fail:
	hs_machine_destroy(m);
	return rc;
}

void hs_machine_destroy(struct hs_machine *m)
{
	if (!m)
		return;
	if (m->client.destroy)
		m->client.destroy(m);
	if (m->run_hooks.fini)
		m->run_hooks.fini(m);
	if (m->ckpt_free)
		m->ckpt_free(m); /* checkpoint.c: holds a write-log reader */
	hs_write_log_free(m);	 /* its hooks live on the engines */
	hs_barrier_feed_free(m);
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		hs_cpu_fini(&m->cpus[i]);
	hs_dbg_fini(m);
	hs_store_traps_free(m);
	if (m->dump)
		hs_dump_close(m);
	else if (m->ram)
		munmap(m->ram, m->opts.ram_size);
	if (m->shadow)
		munmap(m->shadow, m->shadow_size);
	hs_image_free(m->img);
	free(m->hyp_elf_path);
	free(m);
}

const struct hs_machine_opts *hs_machine_opts(const struct hs_machine *m)
{
	return &m->opts;
}

const struct hs_image *hs_machine_image(const struct hs_machine *m)
{
	return m->img;
}

const struct hs_layout *hs_machine_layout(const struct hs_machine *m)
{
	return &m->layout;
}

bool hs_phys_is_ram(const struct hs_machine *m, uint64_t pa, uint64_t len)
{
	return pa >= m->opts.ram_base && len <= m->opts.ram_size &&
	       pa - m->opts.ram_base <= m->opts.ram_size - len;
}

void *hs_phys_ptr(struct hs_machine *m, uint64_t pa, size_t len)
{
	if (!hs_phys_is_ram(m, pa, len))
		return NULL;
	return m->ram + (pa - m->opts.ram_base);
}

int hs_phys_read(struct hs_machine *m, uint64_t pa, void *buf, size_t len, struct hs_error *err)
{
	void *p = hs_phys_ptr(m, pa, len);
	if (!p)
		return hs_err(err, -EFAULT, "[%#" PRIx64 ", +%#zx) is not RAM", pa, len);
	memcpy(buf, p, len);
	return 0;
}

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

uint64_t hs_link_to_pa(const struct hs_machine *m, uint64_t link)
{
	return link + (uint64_t)m->load_bias; /* modulo 2^64 */
}

uint64_t hs_link_to_hyp_va(const struct hs_machine *m, uint64_t link)
{
	return hs_layout_hyp_va(&m->layout, hs_link_to_pa(m, link));
}

int hs_sym_pa(const struct hs_machine *m, const char *name, uint64_t *pa, struct hs_error *err)
{
	const struct hs_symbol *s = hs_image_symbol(m->img, name);
	if (!s)
		return hs_err(err, -ENOENT, "no symbol '%s' in the hypervisor image", name);
	*pa = hs_link_to_pa(m, s->addr);
	return 0;
}

bool hs_addr_to_link(const struct hs_machine *m, uint64_t addr, uint64_t *link)
{
	uint64_t pa = addr;
	uint64_t img_pa0 = hs_link_to_pa(m, m->img->link_base);
	uint64_t img_pa1 = hs_link_to_pa(m, m->img->link_end);
	if (!(addr >= img_pa0 && addr < img_pa1))
		pa = hs_layout_pa(&m->layout, addr);
	if (!(pa >= img_pa0 && pa < img_pa1))
		return false;
	*link = pa - (uint64_t)m->load_bias;
	return true;
}

bool hs_symbolize(const struct hs_machine *m, uint64_t addr, char *buf, size_t len)
{
	uint64_t link, off;
	if (!hs_addr_to_link(m, addr, &link))
		return false;
	const struct hs_symbol *s = hs_image_symbolize(m->img, link, &off);
	if (!s)
		return false;
	if (off)
		snprintf(buf, len, "%s+%#" PRIx64, s->name, off);
	else
		snprintf(buf, len, "%s", s->name);
	return true;
}

unsigned hs_nr_cpus(const struct hs_machine *m)
{
	return m->nr_cpus;
}

unsigned hs_current_cpu(const struct hs_machine *m)
{
	return m->cur;
}

int hs_select_cpu(struct hs_machine *m, unsigned cpu, struct hs_error *err)
{
	if (cpu >= m->nr_cpus)
		return hs_err(err, -EINVAL, "no CPU %u (the machine has %u)", cpu, m->nr_cpus);
	m->cur = cpu;
	return 0;
}

int hs_cpu_state(struct hs_machine *m, unsigned cpu, struct hs_cpu_state *st)
{
	if (cpu >= m->nr_cpus)
		return -EINVAL;
	struct hs_cpu *c = &m->cpus[cpu];
	memset(st, 0, sizeof(*st));
	st->online = c->online;
	st->pstate = hs_cpu_reg(c, UC_ARM64_REG_PSTATE);
	uint32_t pstate = (uint32_t)st->pstate;
	st->el = (pstate >> 2) & 3;
	st->sp_el_x = pstate & 1;
	st->pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	st->sp = hs_cpu_reg(c, UC_ARM64_REG_SP);
	for (int i = 0; i < 29; i++)
		st->x[i] = hs_cpu_reg(c, UC_ARM64_REG_X0 + i);
	st->x[29] = hs_cpu_reg(c, UC_ARM64_REG_X29);
	st->x[30] = hs_cpu_reg(c, UC_ARM64_REG_X30);
	st->icount = c->icount;
	return 0;
}

int hs_cpu_sysreg(struct hs_machine *m, unsigned cpu, enum hs_sysreg r, uint64_t *val)
{
	if (cpu >= m->nr_cpus || !hs_sysreg_desc(r))
		return -EINVAL;
	*val = hs_cpu_sr(&m->cpus[cpu], r);
	return 0;
}

int hs_cpu_set_xreg(struct hs_machine *m, unsigned cpu, unsigned n, uint64_t val)
{
	if (cpu >= m->nr_cpus || n > 30)
		return -EINVAL;
	int id = n < 29 ? UC_ARM64_REG_X0 + (int)n : n == 29 ? UC_ARM64_REG_X29 : UC_ARM64_REG_X30;
	hs_cpu_set_reg(&m->cpus[cpu], id, val);
	return 0;
}

static int extra_reg_id(unsigned reg)
{
	switch (reg) {
	case HS_CPU_REG_SP:
		return UC_ARM64_REG_SP;
	case HS_CPU_REG_NZCV:
		return UC_ARM64_REG_NZCV;
	case HS_CPU_REG_FPSR:
		return UC_ARM64_REG_FPSR;
	case HS_CPU_REG_FPCR:
		return UC_ARM64_REG_FPCR;
	case HS_CPU_REG_SP_EL2:
		return UC_ARM64_REG_SP_EL2;
	default:
		return reg >= HS_CPU_REG_V0 && reg < HS_CPU_REG_V0 + 32
			   ? UC_ARM64_REG_Q0 + (int)(reg - HS_CPU_REG_V0)
			   : -1;
	}
}

int hs_cpu_reg_read(struct hs_machine *m, unsigned cpu, unsigned reg, uint64_t v[2])
{
	int id = extra_reg_id(reg);
	if (cpu >= m->nr_cpus || id < 0)
		return -EINVAL;
	uc_engine *uc = m->cpus[cpu].uc;
	v[0] = v[1] = 0;
	if (reg >= HS_CPU_REG_V0)
		return uc_reg_read(uc, id, v) ? -EINVAL : 0;
	if (reg == HS_CPU_REG_NZCV || reg == HS_CPU_REG_FPSR || reg == HS_CPU_REG_FPCR) {
		uint32_t w = 0;
		int rc = uc_reg_read(uc, id, &w) ? -EINVAL : 0;
		v[0] = w;
		return rc;
	}
	if (reg == HS_CPU_REG_SP_EL2 && hs_cpu_el(&m->cpus[cpu]) == 2) {
		/* QEMU banks the live SP only on an exception level change. */
		uint32_t pstate = 0;
		uc_reg_read(uc, UC_ARM64_REG_PSTATE, &pstate);
		if (pstate & 1)
			id = UC_ARM64_REG_SP;
	}
	return uc_reg_read(uc, id, v) ? -EINVAL : 0;
}

int hs_cpu_reg_write(struct hs_machine *m, unsigned cpu, unsigned reg, const uint64_t v[2])
{
	int id = extra_reg_id(reg);
	/* SP and the flags are debugger writes (debug_write.h), which record them. */
	if (cpu >= m->nr_cpus || id < 0 || reg < HS_CPU_REG_FPSR || reg == HS_CPU_REG_SP_EL2)
		return -EINVAL;
	uc_engine *uc = m->cpus[cpu].uc;
	if (reg >= HS_CPU_REG_V0)
		return uc_reg_write(uc, id, v) ? -EINVAL : 0;
	uint32_t w = (uint32_t)v[0];
	return uc_reg_write(uc, id, &w) ? -EINVAL : 0;
}

int hs_cpu_set_pc(struct hs_machine *m, unsigned cpu, uint64_t pc)
{
	if (cpu >= m->nr_cpus)
		return -EINVAL;
	hs_cpu_set_reg(&m->cpus[cpu], UC_ARM64_REG_PC, pc);
	return 0;
}

uc_engine *hs_cpu_engine(struct hs_machine *m, unsigned cpu)
{
	return cpu < m->nr_cpus ? m->cpus[cpu].uc : NULL;
}

void hs_machine_flush_code(struct hs_machine *m)
{
	for (unsigned i = 0; i < m->nr_cpus; i++)
		hs_quirk_flush_code(m->cpus[i].uc);
}

uint64_t hs_machine_icount(const struct hs_machine *m)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		n += m->cpus[i].icount;
	return n;
}

const char *hs_stop_reason_name(enum hs_stop_reason r)
{
	static const char *const names[] = {
	    [HS_STOP_NONE] = "running",
	    [HS_STOP_DONE] = "done",
	    [HS_STOP_IDLE] = "idle",
	    [HS_STOP_BREAKPOINT] = "breakpoint",
	    [HS_STOP_STEP] = "step",
	    [HS_STOP_WATCH] = "watchpoint",
	    [HS_STOP_CHECK] = "check",
	    [HS_STOP_HYP_FAULT] = "hypervisor fault",
	    [HS_STOP_LIMIT] = "instruction limit",
	    [HS_STOP_ERROR] = "error",
	    [HS_STOP_INTERRUPTED] = "interrupted",
	};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const struct hs_stop *hs_last_stop(const struct hs_machine *m)
{
	return &m->last_stop;
}

bool hs_machine_is_dump(const struct hs_machine *m)
{
	return m->dump != NULL;
}

bool hs_op_pending(const struct hs_machine *m)
{
	return m->op.pending;
}

void hs_machine_set_client(struct hs_machine *m, const struct hs_machine_client *client)
{
	m->client = *client;
}

void *hs_machine_client_data(const struct hs_machine *m)
{
	return m->client.data;
}

void hs_machine_op_begin(struct hs_machine *m, unsigned cpu, uint64_t ret_pc)
{
	m->op = (struct hs_machine_op){.pending = true, .cpu = cpu, .ret_pc = ret_pc};
	m->op_gen++;
}

void hs_machine_op_abandon(struct hs_machine *m)
{
	m->op.pending = false;
}

const struct hs_machine_op *hs_machine_op(const struct hs_machine *m)
{
	return &m->op;
}

bool hs_machine_dead(const struct hs_machine *m)
{
	return m->dead;
}

int hs_machine_kill(struct hs_machine *m, struct hs_error *err)
{
	if (!m->op.pending)
		return hs_err(err, -EINVAL, "no operation is pending: nothing to kill");
	m->op.pending = false;
	m->dead = m->killed = true;
	return 0;
}

bool hs_machine_killed(const struct hs_machine *m)
{
	return m->killed;
}

int hs_machine_dead_error(const struct hs_machine *m, struct hs_error *err)
{
	if (m->killed)
		return hs_err(err, -EIO,
			      "the pending operation was killed: the machine can only be "
			      "inspected now (restart builds a fresh one)");
	return hs_err(err, -EIO,
		      "the hypervisor faulted at EL2 earlier: the machine can "
		      "only be inspected now");
}

static int finish_stop(struct hs_machine *m, struct hs_cpu *c, enum hs_stop_reason r,
		       struct hs_stop *stop)
{
	struct hs_stop s = {.reason = r, .cpu = c->idx, .pc = hs_cpu_reg(c, UC_ARM64_REG_PC)};
	if (r == HS_STOP_BREAKPOINT)
		s.bp_id = hs_dbg_stop_bp(c);
	else if (r == HS_STOP_WATCH && m->dbg.hit_valid)
		s.bp_id = m->dbg.hit.id;
	if (r == HS_STOP_HYP_FAULT) {
		/* The CPU sits at the EL2 vector; the stop names the instruction that faulted. */
		s.pc = c->fault.pc;
		s.fault = c->fault;
		m->dead = true;
	}
	m->last_stop = s;
	hs_dbg_note_stopped(c);
	if (stop)
		*stop = s;
	return 0;
}

/*
 * The run loop: run the pending host operation's CPU until the host code
 * reaches its return address, then let the operation's continuation queue
 * the next one (the boot flow is a chain of them).
 */
static int run_ops(struct hs_machine *m, uint64_t count, struct hs_stop *stop, struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM,
			      "this machine is a memory dump (hypscope inspect): it can be "
			      "inspected, not run");
	if (m->dead)
		return hs_machine_dead_error(m, err);
	if (!m->op.pending) {
		struct hs_cpu *c = &m->cpus[m->cur];
		return finish_stop(m, c, HS_STOP_IDLE, stop);
	}
	if (!count && m->dbg.step_next_run) {
		count = m->dbg.step_next_run;
		m->dbg.step_next_run = 0;
	}
	for (;;) {
		struct hs_machine_op *op = &m->op;
		struct hs_cpu *c = &m->cpus[op->cpu];
		m->cur = op->cpu;
		if (m->run_hooks.before && m->run_hooks.before(m, err)) {
			finish_stop(m, c, HS_STOP_ERROR, stop);
			return err ? err->code : -EIO;
		}
		/* Only this CPU runs: the machine's count becomes its own. */
		uint64_t now = hs_machine_icount(m);
		if (!count && m->icount_stop && m->icount_stop <= now)
			return finish_stop(m, c, HS_STOP_STEP, stop);
		c->icount_stop = !count && m->icount_stop ? c->icount + (m->icount_stop - now) : 0;
		enum hs_stop_reason r = hs_cpu_run(c, op->ret_pc, count, err);
		c->icount_stop = 0;
		if (r == HS_STOP_ERROR) {
			finish_stop(m, c, r, stop);
			return err ? err->code : -EIO;
		}
		if (r == HS_STOP_STEP && hs_cpu_reg(c, UC_ARM64_REG_PC) == op->ret_pc &&
		    hs_cpu_el(c) == 1)
			r = HS_STOP_DONE;
		if (r == HS_STOP_STEP && !count && m->run_hooks.reached &&
		    m->run_hooks.reached(m, err))
			continue;
		if (r != HS_STOP_DONE)
			return finish_stop(m, c, r, stop);
		op->pending = false;
		int rc = m->client.complete_op ? m->client.complete_op(m, err) : 0;
		if (rc) {
			finish_stop(m, c, HS_STOP_ERROR, stop);
			return rc;
		}
		if (!m->op.pending || count)
			return finish_stop(m, c, HS_STOP_DONE, stop);
	}
}

void hs_machine_interrupt(struct hs_machine *m)
{
	atomic_store_explicit(&m->interrupt, true, memory_order_relaxed);
}

void hs_machine_interrupt_cancel(struct hs_machine *m)
{
	atomic_store(&m->interrupt, false);
}

int hs_continue(struct hs_machine *m, struct hs_stop *stop, struct hs_error *err)
{
	return run_ops(m, 0, stop, err);
}

void hs_machine_step_next_run(struct hs_machine *m, uint64_t n)
{
	m->dbg.step_next_run = n;
}

int hs_stepi(struct hs_machine *m, uint64_t n, struct hs_stop *stop, struct hs_error *err)
{
	if (!n)
		n = 1;
	return run_ops(m, n, stop, err);
}
