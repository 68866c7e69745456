/* SPDX-License-Identifier: MIT */
#include "layout.h"

#include <errno.h>

int hs_layout_compute(uint64_t ram_base, uint64_t ram_size, uint64_t idmap_pa, unsigned va_bits,
		      struct hs_layout *l, struct hs_error *err)
{
	if (va_bits < 36 || va_bits > 48)
		return hs_err(err, -EINVAL, "hyp_va_bits %u out of range (36..48)", va_bits);
	uint64_t top = 1ULL << (va_bits - 1), quarter = 1ULL << (va_bits - 2);
	if (idmap_pa >> va_bits)
		return hs_err(err, -EINVAL,
			      "the idmap page at %#lx is beyond the %u-bit HYP VA space",
			      (unsigned long)idmap_pa, va_bits);
	/* Linux aligns memstart_addr down to ARM64_MEMSTART_ALIGN (1 GiB with 4K pages). */
	l->memstart = ram_base & ~((1ULL << 30) - 1);
	uint64_t span = ram_base + ram_size - l->memstart;
	if (span > quarter)
		return hs_err(err, -EINVAL,
			      "RAM (%#lx bytes from %#lx) does not fit the linear half of a %u-bit "
			      "HYP VA space",
			      (unsigned long)ram_size, (unsigned long)ram_base, va_bits);
	l->va_bits = va_bits;
	l->idmap_pa = idmap_pa;
	l->idmap_upper_half = (idmap_pa & top) != 0;
	/* The linear map uses the half the idmap page is not in. */
	l->linear_base = (idmap_pa & top) ^ top;
	l->linear_size = top;
	l->physvirt_offset = (int64_t)l->memstart - (int64_t)l->linear_base;
	/* Private range: the other quarter of the idmap's half. */
	l->io_map_base = (idmap_pa & top) | ((idmap_pa & quarter) ^ quarter);
	l->vmemmap_base = l->io_map_base | (1ULL << (va_bits - 3));
	return 0;
}
