/* SPDX-License-Identifier: MIT */
/*
 * What inspection needs to know of Linux's hypervisor data, read from the image: the
 * vmemmap's `struct hyp_page` (nvhe/memory.h) from DWARF, its base from the hypervisor's
 * own `__hyp_vmemmap`, and the stride of `hyp_memory[]` (struct memblock_region).
 */
#include "linux_inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "hyp_state.h"
#include "events.h"
#include "image_dwarf.h"
#include "sysregs.h"

/*
 * The image's DWARF, opened for one question: inspection stays below the host state
 * (linux_boot.c keeps its own handle), and libdw reads lazily, so this is cheap.
 */
static struct hs_dwarf *open_dwarf(struct hs_machine *m, struct hs_error *err)
{
	struct hs_dwarf *dw = NULL;
	return hs_dwarf_open(hs_machine_image(m), &dw, err) ? NULL : dw;
}

/* A member of struct hyp_page; absent members (6.x has no page states) give bits 0. */
static int hyp_page_field(struct hs_dwarf *dw, const char *member, bool required,
			  struct hs_vmemmap_field *f, struct hs_error *err)
{
	uint64_t off;
	unsigned bits;
	int rc = hs_dwarf_member_bits(dw, "hyp_page", member, &off, &bits, required ? err : NULL);
	if (rc == -ENOENT && !required) {
		*f = (struct hs_vmemmap_field){0, 0};
		return 0;
	}
	if (rc)
		return rc;
	if (off + bits > 64 || bits > 32)
		return hs_err(err, -EINVAL,
			      "struct hyp_page.%s lies at bits %" PRIu64 "+%u: past the 8 bytes "
			      "hypscope decodes",
			      member, off, bits);
	*f = (struct hs_vmemmap_field){(uint16_t)off, (uint8_t)bits};
	return 0;
}

static int vmemmap_layout(struct hs_machine *m, struct hs_dwarf *dw, struct hs_vmemmap_layout *l,
			  struct hs_error *err);

int hs_linux_vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l, struct hs_error *err)
{
	struct hs_dwarf *dw = open_dwarf(m, err);
	if (!dw)
		return -ENOENT;
	int rc = vmemmap_layout(m, dw, l, err);
	hs_dwarf_close(dw);
	return rc;
}

static int vmemmap_layout(struct hs_machine *m, struct hs_dwarf *dw, struct hs_vmemmap_layout *l,
			  struct hs_error *err)
{
	uint64_t size;
	int rc = hs_dwarf_struct_size(dw, "hyp_page", &size, err);
	if (rc)
		return rc;
	if (!size || size > 8)
		return hs_err(err, -EINVAL, "struct hyp_page is %" PRIu64 " bytes (1-8 decoded)",
			      size);
	*l = (struct hs_vmemmap_layout){.entry_size = (unsigned)size};
	/* 7.x names the fields __host_state / __hyp_state_comp; 6.x has neither. */
	if ((rc = hyp_page_field(dw, "refcount", true, &l->refcount, err)) ||
	    (rc = hyp_page_field(dw, "order", true, &l->order, err)) ||
	    (rc = hyp_page_field(dw, "__host_state", false, &l->host_state, err)) ||
	    (rc = hyp_page_field(dw, "__hyp_state_comp", false, &l->hyp_state, err)) ||
	    (rc = hyp_page_field(dw, "host_share_guest_count", false, &l->guest_shares, err)))
		return rc;
	/* memory.h: the hyp state is stored ^ PKVM_PAGE_STATE_VMEMMAP_MASK (BIT(0) | BIT(1)) */
	l->hyp_state_xor = 3;
	/* gfp.h HYP_NO_ORDER: USHRT_MAX (6.x, u16 order) or (u8)~0 (7.x): all ones */
	l->no_order = l->order.bits >= 64 ? ~0ULL : (1ULL << l->order.bits) - 1;
	l->states_in_tables = !l->host_state.bits && !l->hyp_state.bits;
	/* nvhe/mm.c sets __hyp_vmemmap at __pkvm_init; before it the layout's place. */
	l->base_va = hs_read_sym_u64(m, "__hyp_vmemmap");
	if (!l->base_va)
		l->base_va = hs_machine_layout(m)->vmemmap_base;
	return 0;
}

unsigned hs_linux_memblock_size(const struct hs_machine *m)
{
	struct hs_dwarf *dw = NULL;
	uint64_t size = 0;
	if (hs_dwarf_open(hs_machine_image(m), &dw, NULL))
		return 16;
	int rc = hs_dwarf_struct_size(dw, "memblock_region", &size, NULL);
	hs_dwarf_close(dw);
	return rc || size < 16 || size > 64 ? 16 : (unsigned)size;
}

/* The table page holding the PTE a struct hyp_fixmap_slot at slot_pa points at. */
static int slot_table(struct hs_machine *m, struct hs_dwarf *dw, uint64_t slot_pa,
		      uint64_t *table_pa)
{
	uint64_t off, ptep, pa;
	if (hs_dwarf_member_offset(dw, "hyp_fixmap_slot", "ptep", &off, NULL) ||
	    hs_phys_read(m, slot_pa + off, &ptep, sizeof(ptep), NULL) || !ptep ||
	    hs_el2_va_to_pa(m, 0, ptep, &pa, NULL))
		return -ENOENT;
	*table_pa = pa & ~(uint64_t)(HS_PAGE_SIZE - 1);
	return 0;
}

unsigned hs_linux_pinned_tables(struct hs_machine *m, uint64_t *pa, unsigned max)
{
	struct hs_dwarf *dw = open_dwarf(m, NULL);
	uint64_t slots, start, slot_pa;
	unsigned n = 0;
	if (!dw)
		return 0;
	/*
	 * mm.c: each CPU's fixmap_slots (per-CPU) keeps its last-level table's refcount up.
	 * this_cpu_ptr: the template's HYP VA + the CPU's TPIDR_EL2 (set by __kvm_hyp_init).
	 */
	const struct hs_layout *lay = hs_machine_layout(m);
	if (!hs_sym_pa(m, "fixmap_slots", &slots, NULL))
		for (unsigned cpu = 0; cpu < hs_machine_opts(m)->nr_cpus && n < max; cpu++) {
			uint64_t tpidr = 0;
			hs_cpu_sysreg(m, cpu, HS_SR_TPIDR_EL2, &tpidr);
			if (tpidr &&
			    !hs_el2_va_to_pa(m, 0, hs_layout_hyp_va(lay, slots) + tpidr, &slot_pa,
					     NULL) &&
			    !slot_table(m, dw, slot_pa, &pa[n]))
				n++;
		}
	/* 7.x mm.c: hyp_fixblock_slot keeps its level-2 table's */
	if (n < max && !hs_sym_pa(m, "hyp_fixblock_slot", &start, NULL) &&
	    !slot_table(m, dw, start, &pa[n]))
		n++;
	hs_dwarf_close(dw);
	return n;
}

/* A NUL-terminated string of the image at link address `link` (loaded, so read RAM). */
static int read_str(struct hs_machine *m, uint64_t link, char *buf, size_t len)
{
	uint64_t pa = hs_link_to_pa(m, link);
	for (size_t i = 0; i + 1 < len; i++) {
		if (hs_phys_read(m, pa + i, &buf[i], 1, NULL))
			return -EFAULT;
		if (!buf[i])
			return 0;
	}
	buf[len - 1] = 0;
	return 0;
}

/* A 32-bit field of the entry at link address e (members from DWARF). */
static int rd32(struct hs_machine *m, uint64_t e, uint64_t off, uint32_t *v)
{
	return hs_phys_read(m, hs_link_to_pa(m, e + off), v, sizeof(*v), NULL);
}

int hs_linux_bug_site(struct hs_machine *m, uint64_t pc, char *file, size_t len, unsigned *line,
		      bool *warning)
{
	struct hs_dwarf *dw = open_dwarf(m, NULL);
	const struct hs_symbol *b0 = hs_image_symbol(hs_machine_image(m), "__start___bug_table");
	const struct hs_symbol *b1 = hs_image_symbol(hs_machine_image(m), "__stop___bug_table");
	uint64_t link, size, o_addr, o_file, o_line, o_flags;
	if (!dw || !b0 || !b1 || !hs_addr_to_link(m, pc, &link))
		return -ENOENT;
	/* asm-generic/bug.h, GENERIC_BUG_RELATIVE_POINTERS + DEBUG_BUGVERBOSE (arm64) */
	if (hs_dwarf_struct_size(dw, "bug_entry", &size, NULL) || size < 8 ||
	    hs_dwarf_member_offset(dw, "bug_entry", "bug_addr_disp", &o_addr, NULL) ||
	    hs_dwarf_member_offset(dw, "bug_entry", "file_disp", &o_file, NULL) ||
	    hs_dwarf_member_offset(dw, "bug_entry", "line", &o_line, NULL) ||
	    hs_dwarf_member_offset(dw, "bug_entry", "flags", &o_flags, NULL))
		return -ENOENT;
	for (uint64_t e = b0->addr; e + size <= b1->addr; e += size) {
		uint32_t disp, fdisp;
		if (rd32(m, e, o_addr, &disp))
			return -EFAULT;
		if (e + o_addr + (int64_t)(int32_t)disp != link)
			continue;
		uint16_t ln = 0, fl = 0;
		if (rd32(m, e, o_file, &fdisp) ||
		    hs_phys_read(m, hs_link_to_pa(m, e + o_line), &ln, 2, NULL) ||
		    hs_phys_read(m, hs_link_to_pa(m, e + o_flags), &fl, 2, NULL) ||
		    read_str(m, e + o_file + (int64_t)(int32_t)fdisp, file, len))
			return -EFAULT;
		*line = ln;
		*warning = fl & 1; /* BUGFLAG_WARNING */
		return 0;
	}
	return -ENOENT;
}

/* ESR_ELx.EC BRK64 with asm/bug.h BUG_BRK_IMM: BUG() and WARN() */
#define ESR_EC_BRK64 0x3c
#define BUG_BRK_IMM 0x800

int hs_linux_fault_report(struct hs_machine *m, const struct hs_event_exception *x, char *buf,
			  size_t len)
{
	char file[160];
	unsigned line;
	bool warn;
	if (x->ec != ESR_EC_BRK64 || (x->esr & 0xffff) != BUG_BRK_IMM ||
	    hs_linux_bug_site(m, x->pc, file, sizeof(file), &line, &warn))
		return 0;
	/* what Linux's host prints from nvhe_hyp_panic_handler (handle_exit.c) */
	return snprintf(buf, len, "nVHE hyp %s at: %s:%u!", warn ? "WARN" : "BUG", file, line);
}
