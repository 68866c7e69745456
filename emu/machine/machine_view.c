/* SPDX-License-Identifier: MIT */
/*
 * What every part of the machine reads of it: its options, image and layout,
 * physical memory, the addresses of the image, and the instruction count.
 * Nothing here calls out of this file, so the CPU loop and the debugger files
 * below machine.c can all use it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "machine_priv.h"

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

uint64_t hs_machine_icount(const struct hs_machine *m)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		n += m->cpus[i].icount;
	return n;
}
