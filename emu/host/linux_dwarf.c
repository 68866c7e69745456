/* SPDX-License-Identifier: MIT */
/*
 * The DWARF facts inspection needs of Linux's hypervisor, read once (linux_dwarf.h).
 * Kept in the host's struct, reached through the machine's client data only: this
 * file calls nothing of the host's, so it stays below the profiles and boot flows.
 */
#include "linux_dwarf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "host.h"
#include "image_dwarf.h"

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

/* struct hyp_page (nvhe/memory.h) as a vmemmap layout; the base is the machine's. */
static int read_hyp_page(struct hs_dwarf *dw, struct hs_vmemmap_layout *l, struct hs_error *err)
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
	return 0;
}

static void read_bug_entry(struct hs_dwarf *dw, struct hs_lx_bug_entry *b)
{
	b->ok = !hs_dwarf_struct_size(dw, "bug_entry", &b->size, NULL) && b->size >= 8 &&
		!hs_dwarf_member_offset(dw, "bug_entry", "bug_addr_disp", &b->addr_disp, NULL) &&
		!hs_dwarf_member_offset(dw, "bug_entry", "file_disp", &b->file_disp, NULL) &&
		!hs_dwarf_member_offset(dw, "bug_entry", "line", &b->line, NULL) &&
		!hs_dwarf_member_offset(dw, "bug_entry", "flags", &b->flags, NULL);
}

/* One member of struct hyp_pool: its offset and size, within the struct. */
static int pool_member(struct hs_dwarf *dw, uint64_t ssize, const char *name, unsigned *off,
		       uint64_t *size, struct hs_error *err)
{
	uint64_t o, sz;
	int rc = hs_dwarf_member_path(dw, "hyp_pool", name, &o, &sz, err);
	if (rc)
		return rc;
	if (o + sz > ssize)
		return hs_err(err, -EINVAL,
			      "struct hyp_pool.%s at %" PRIu64 "+%" PRIu64
			      " is past the struct (%" PRIu64 " bytes)",
			      name, o, sz, ssize);
	*off = (unsigned)o;
	*size = sz;
	return 0;
}

/* struct hyp_pool (nvhe/gfp.h): lock, free_area[NR_PAGE_ORDERS], range, max_order. */
static int read_hyp_pool(struct hs_dwarf *dw, struct hs_pool_layout *l, struct hs_error *err)
{
	uint64_t ssize, fa, rs, re, mo, node;
	int rc = hs_dwarf_struct_size(dw, "hyp_pool", &ssize, err);
	if (rc)
		return rc;
	if (ssize > 4096)
		return hs_err(err, -EINVAL, "struct hyp_pool is %" PRIu64 " bytes", ssize);
	*l = (struct hs_pool_layout){.size = (unsigned)ssize};
	if ((rc = pool_member(dw, ssize, "free_area", &l->free_area, &fa, err)) ||
	    (rc = pool_member(dw, ssize, "range_start", &l->range_start, &rs, err)) ||
	    (rc = pool_member(dw, ssize, "range_end", &l->range_end, &re, err)) ||
	    (rc = pool_member(dw, ssize, "max_order", &l->max_order, &mo, err)) ||
	    (rc = hs_dwarf_struct_size(dw, "list_head", &node, err)))
		return rc;
	if (node != sizeof(struct hs_list_node) || fa % node || !fa || fa / node > HS_MAX_ORDER ||
	    rs != 8 || re != 8 || !(mo == 1 || mo == 2 || mo == 4))
		return hs_err(err, -EINVAL,
			      "struct hyp_pool: free_area %" PRIu64 " bytes of %" PRIu64
			      "-byte list heads (up to %u), range %" PRIu64 "/%" PRIu64
			      " bytes, max_order %" PRIu64 ": not the layout hypscope decodes",
			      fa, node, HS_MAX_ORDER, rs, re, mo);
	l->nr_orders = (unsigned)(fa / node);
	l->max_order_len = (unsigned)mo;
	return 0;
}

static void read_all(struct hs_dwarf *dw, struct hs_lx_dwarf *d)
{
	d->vmemmap_rc = read_hyp_page(dw, &d->vmemmap, &d->vmemmap_err);
	uint64_t size = 0;
	d->memblock_size =
	    hs_dwarf_struct_size(dw, "memblock_region", &size, NULL) || size < 16 || size > 64
		? 16
		: (unsigned)size;
	d->fixmap_ok =
	    !hs_dwarf_member_offset(dw, "hyp_fixmap_slot", "ptep", &d->fixmap_ptep, NULL);
	read_bug_entry(dw, &d->bug);
	d->pool_rc = read_hyp_pool(dw, &d->pool, &d->pool_err);
}

const struct hs_lx_dwarf *hs_lx_dwarf(struct hs_machine *m)
{
	struct hs_host *h = hs_machine_client_data(m);
	if (!h)
		return NULL;
	if (h->lx_dwarf)
		return h->lx_dwarf;
	struct hs_dwarf *dw = NULL;
	if (hs_dwarf_open(hs_machine_image(m), &dw, NULL))
		return NULL;
	struct hs_lx_dwarf *d = calloc(1, sizeof(*d));
	if (d)
		read_all(dw, d);
	hs_dwarf_close(dw);
	return h->lx_dwarf = d;
}

void hs_lx_dwarf_free(struct hs_lx_dwarf *d)
{
	free(d);
}
