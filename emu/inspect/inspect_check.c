/* SPDX-License-Identifier: MIT */
/*
 * Invariant checker. Written from docs/pkvm-reference.md, independently of
 * hyp/. Page rules run over segments (maximal runs where the host stage-2
 * range and the vmemmap run are both constant), so a 1 GiB machine costs
 * a few hundred segment evaluations, not 262,144 page evaluations.
 */
#include "inspect_check_priv.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pt_decode.h"

const struct hs_check_rule hs_check_rules[] = {
    {"check-error", "the state could not be read (no tables, unreadable pool)"},
    {"vmemmap-backed", "every page of memory has a vmemmap entry mapped at EL2"},
    {"vmemmap-state", "host and hyp states are valid HS_PAGE_* values"},
    {"owner-unique", "every page of memory has exactly one owner"},
    {"host-nopage-annot", "host state NOPAGE <=> the host stage-2 entry is an annotation"},
    {"annot-owner", "an annotation names a known owner consistent with the vmemmap "
		    "(HYP: hyp OWNED; GUEST: hyp NOPAGE)"},
    {"annot-level", "annotations are written on last-level (page) entries"},
    {"annot-meta", "a HYP annotation carries no metadata (it is exactly the owner id)"},
    {"s2-malformed", "the host stage 2 holds no malformed or unknown non-zero invalid entry"},
    {"s2-maps-nopage",
     "the host stage 2 never maps (valid leaf) a page whose host state is NOPAGE"},
    {"s2-identity", "host stage-2 leaves are identity (output address == IPA)"},
    {"s2-state", "the SW state of a host stage-2 leaf equals the vmemmap host state"},
    {"share-pair", "a shared page has exactly one SHARED_OWNED side and matching "
		   "SHARED_BORROWED borrowers"},
    {"el2-wx", "no EL2 stage-1 mapping is writable and executable"},
    {"el2-maps-unowned", "the EL2 stage 1 maps only memory hyp owns or borrows (plus MMIO)"},
    {"el2-state", "the SW state of an EL2 stage-1 leaf equals the vmemmap hyp state"},
    {"el2-pinned", "EL2 maps memory it borrows (SHARED_BORROWED) only while the page is pinned "
		   "(pin count > 0)"},
    {"el2-pinned-mapped",
     "a page hyp has pinned (SHARED_BORROWED, pin count > 0) is mapped at EL2"},
    {"s2-mmio", "host stage-2 leaves outside memory map Device memory, execute-never"},
    {"el2-malformed", "the EL2 stage 1 holds no malformed entry"},
    {"table-refcount", "a table page's refcount is 1 + its valid (stage 2: non-zero) entries "
		       "(host stage 2, EL2 stage 1, every guest stage 2)"},
    {"table-owner", "table pages are owned by hyp"},
    {"vm-table", "every VM table slot points at a VM mapped at EL2 whose handle is 0x1000 + slot "
		 "and whose stage 2 can be walked"},
    {"vmid-unique", "live VMs have distinct VMIDs, none 0 (the host's)"},
    {"guest-s2-malformed", "a guest stage 2 holds no malformed or non-zero invalid entry"},
    {"guest-state", "a guest leaf's SW state is OWNED (donated) or SHARED_BORROWED (shared)"},
    {"guest-maps-memory", "guest stage-2 leaves map memory only"},
    {"guest-borrowed", "a guest SHARED_BORROWED leaf => the host page is SHARED_OWNED with a "
		       "guest-share count > 0 (and hyp NOPAGE)"},
    {"guest-share-count",
     "a page's guest-share count = the number of guest SHARED_BORROWED leaves mapping it"},
    {"guest-owned", "a guest OWNED leaf => the host stage-2 entry is a GUEST annotation with "
		    "that VM's handle and that gfn, host NOPAGE, hyp NOPAGE"},
    {"guest-annot", "a GUEST(handle, gfn) annotation => that live VM maps gfn to the page as "
		    "OWNED"},
    {"guest-el2-owned", "no page is mapped by a guest and by EL2 as hyp-owned"},
    {"guest-table-block", "a VM's stage-2 table pages lie in the block donated at init_vm"},
    {"pool-list", "free lists are well-formed doubly linked lists of pool pages"},
    {"pool-range", "free blocks lie inside the pool range, orders <= max_order"},
    {"pool-align", "free blocks are aligned to their order"},
    {"pool-order", "a free block's head has its list's order, its tail pages have none"},
    {"pool-refcount", "free pages have refcount 0"},
    {"pool-zero", "free pages are zero except the list node (first 16 bytes of the head)"},
    {"pool-overlap", "no page is in two free blocks"},
    {"pool-unlisted", "a pool page with refcount 0 is on a free list"},
    {NULL, NULL},
};

/* Tag the violations reported since total was total_before (if stored) with a VM and gfn. */
static void tag(struct hs_check_report *rep, size_t total_before, uint64_t vm, uint64_t gfn)
{
	if (rep->nr != rep->total)
		return; /* some were not stored: indices no longer match */
	for (size_t k = total_before; k < rep->nr; k++) {
		rep->v[k].vm = vm;
		rep->v[k].gfn = gfn;
	}
}

static const char *st(const struct hs_check_report *rep, unsigned s)
{
	return hs_swenc_state_name(rep->swenc, s);
}

static bool owns(unsigned s)
{
	return s == HS_PAGE_OWNED || s == HS_PAGE_SHARED_OWNED;
}

/* ------------------------------------------------------------------------ */
/* Page rules: host stage 2 x vmemmap                                        */
/* ------------------------------------------------------------------------ */

#define S2 HS_CHK_T_HOST_S2
#define S1 HS_CHK_T_HYP_S1
#define VM HS_CHK_T_VMEMMAP

static void check_segment(struct hs_check_report *rep, uint64_t pa, uint64_t end,
			  const struct hs_snap_pt_range *s2, const struct hs_snap_vm_range *vm)
{
	uint64_t n = (end - pa) >> HS_PAGE_SHIFT;
	unsigned kind = s2 ? s2->kind : HS_SNAP_EMPTY;
	if (kind == HS_SNAP_BAD) {
		hs_chk_report(rep, "s2-malformed", pa, n, S2,
			      "host stage-2 entry %#" PRIx64 " is malformed", s2->attr);
		return;
	}
	if (kind == HS_SNAP_ANNOT && s2->block)
		hs_chk_report(rep, "annot-level", pa, n, S2,
			      "owner annotation on a block-level entry");
	if (!vm || !vm->backed) {
		hs_chk_report(rep, "vmemmap-backed", pa, n, VM | S1,
			      "no vmemmap entry is mapped at EL2 for this memory");
		return;
	}
	unsigned host = HS_VM_HOST(vm->val), hyp = HS_VM_HYP(vm->val);
	uint32_t shares = HS_VM_SHARES(vm->val);
	if (host > HS_PAGE_NOPAGE) {
		hs_chk_report(rep, "vmemmap-state", pa, n, VM, "host state %u is not a page state",
			      host);
		return;
	}
	bool annot = kind == HS_SNAP_ANNOT;
	unsigned owners = owns(host) + owns(hyp) + (annot && s2->owner == HS_OWNER_GUEST);
	if (owners != 1)
		hs_chk_report(rep, "owner-unique", pa, n, S2 | VM, "%u owners (host %s, hyp %s%s)",
			      owners, st(rep, host), st(rep, hyp),
			      annot && s2->owner == HS_OWNER_GUEST ? ", guest annotation" : "");
	/* Linux 7.x: the host stage 2 keeps hyp text, read-only, to read it on a panic */
	bool ro_text = kind == HS_SNAP_LEAF && host == HS_PAGE_NOPAGE && hyp == HS_PAGE_OWNED &&
		       pa >= rep->ro_text_start && end <= rep->ro_text_end &&
		       s2->perm == HS_PT_PERM_R;
	if ((host == HS_PAGE_NOPAGE) != annot && !ro_text)
		hs_chk_report(
		    rep, "host-nopage-annot", pa, n, S2 | VM,
		    annot ? "host stage 2 annotates the page (owner %s) but the host state is %s"
			  : "host state is NOPAGE but the host stage-2 entry is %s",
		    annot ? hs_swenc_canon_owner_name(rep->swenc, s2->owner) : st(rep, host),
		    kind == HS_SNAP_LEAF ? "a valid mapping" : "empty");
	if (annot) {
		if (s2->owner == HS_OWNER_HYP && s2->meta)
			hs_chk_report(rep, "annot-meta", pa, n, S2,
				      "HYP annotation carries metadata %#" PRIx64
				      " (the hypervisor writes none)",
				      s2->meta);
		if (s2->owner == HS_OWNER_HYP && hyp != HS_PAGE_OWNED)
			hs_chk_report(rep, "annot-owner", pa, n, S2 | VM,
				      "annotated as owned by hyp but the hyp state is %s",
				      st(rep, hyp));
		else if (s2->owner == HS_OWNER_GUEST && hyp != HS_PAGE_NOPAGE)
			hs_chk_report(rep, "annot-owner", pa, n, S2 | VM,
				      "annotated as owned by a guest but the hyp state is %s",
				      st(rep, hyp));
		else if (s2->owner != HS_OWNER_HYP && s2->owner != HS_OWNER_GUEST)
			hs_chk_report(
			    rep, "annot-owner", pa, n, S2,
			    "annotation names owner %u, which cannot own a page away from the host",
			    s2->owner);
	}
	if (kind == HS_SNAP_LEAF) {
		uint64_t oa = s2->oa + (pa - s2->start);
		if (host == HS_PAGE_NOPAGE && !ro_text)
			hs_chk_report(rep, "s2-maps-nopage", pa, n, S2 | VM,
				      "host stage 2 maps the page but its host state is NOPAGE");
		else if (rep->s2_leaf_stateless && s2->state)
			hs_chk_report(rep, "s2-state", pa, n, S2,
				      "host stage-2 leaf carries SW state %s (the host state lives "
				      "in the vmemmap only: leaves carry none)",
				      st(rep, s2->state));
		else if (s2->state != host && !ro_text && !rep->s2_leaf_stateless)
			hs_chk_report(rep, "s2-state", pa, n, S2 | VM,
				      "host stage-2 leaf says %s, vmemmap host state is %s",
				      st(rep, s2->state), st(rep, host));
		if (oa != pa)
			hs_chk_report(rep, "s2-identity", pa, n, S2,
				      "IPA %#" PRIx64 " maps to PA %#" PRIx64, pa, oa);
	}
	/* sharing */
	if (host == HS_PAGE_SHARED_OWNED && hyp != HS_PAGE_SHARED_BORROWED && !shares)
		hs_chk_report(rep, "share-pair", pa, n, VM,
			      "host SHARED_OWNED but no borrower (hyp %s, guest shares 0)",
			      st(rep, hyp));
	if (hyp == HS_PAGE_SHARED_BORROWED && host != HS_PAGE_SHARED_OWNED)
		hs_chk_report(rep, "share-pair", pa, n, VM, "hyp SHARED_BORROWED but host is %s",
			      st(rep, host));
	if (hyp == HS_PAGE_SHARED_OWNED && host != HS_PAGE_SHARED_BORROWED)
		hs_chk_report(rep, "share-pair", pa, n, VM, "hyp SHARED_OWNED but host is %s",
			      st(rep, host));
	if (host == HS_PAGE_SHARED_BORROWED && hyp != HS_PAGE_SHARED_OWNED)
		hs_chk_report(rep, "share-pair", pa, n, VM, "host SHARED_BORROWED but hyp is %s",
			      st(rep, hyp));
	if (shares && host != HS_PAGE_SHARED_OWNED)
		hs_chk_report(rep, "share-pair", pa, n, VM, "%u guest shares but host is %s",
			      shares, st(rep, host));
}

void hs_chk_pages(const struct hs_snapshot *s, uint64_t from, uint64_t to,
		  struct hs_check_report *rep)
{
	const struct hs_snap_pt_range *a = s->pt[HS_SNAP_HOST_S2];
	size_t na = s->nr_pt[HS_SNAP_HOST_S2];
	uint64_t pos = from, end = to;
	const struct hs_snap_pt_range *f = hs_snap_pt_find(s, HS_SNAP_HOST_S2, pos);
	size_t i = 0;
	while (!f && i < na && a[i].end <= pos)
		i++;
	if (f)
		i = (size_t)(f - a);
	const struct hs_snap_vm_range *v = hs_snap_vm_find(s, pos);
	size_t j = v ? (size_t)(v - s->vm) : s->nr_vm;
	while (pos < end) {
		while (i < na && a[i].end <= pos)
			i++;
		while (j < s->nr_vm && s->vm[j].end <= pos)
			j++;
		uint64_t seg = end;
		const struct hs_snap_pt_range *r2 = NULL;
		const struct hs_snap_vm_range *rv = NULL;
		if (i < na && a[i].start <= pos) {
			r2 = &a[i];
			if (a[i].end < seg)
				seg = a[i].end;
		} else if (i < na && a[i].start < seg) {
			seg = a[i].start;
		}
		if (j < s->nr_vm && s->vm[j].start <= pos) {
			rv = &s->vm[j];
			if (rv->end < seg)
				seg = rv->end;
		} else if (j < s->nr_vm && s->vm[j].start < seg) {
			seg = s->vm[j].start;
		}
		check_segment(rep, pos, seg, r2, rv);
		pos = seg;
	}
}

static void check_pages(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	for (unsigned g = 0; g < s->nr_mem; g++) {
		rep->pages_checked += s->mem[g].size >> HS_PAGE_SHIFT;
		hs_chk_pages(s, s->mem[g].base, s->mem[g].base + s->mem[g].size, rep);
	}
}

/* ------------------------------------------------------------------------ */
/* EL2 stage 1                                                               */
/* ------------------------------------------------------------------------ */

void hs_chk_el2_range(const struct hs_snapshot *s, size_t i, struct hs_check_report *rep)
{
	const struct hs_snap_pt_range *r = &s->pt[HS_SNAP_HYP_S1][i];
	if (r->kind == HS_SNAP_BAD) {
		hs_chk_report(rep, "el2-malformed", r->start, (r->end - r->start) >> HS_PAGE_SHIFT,
			      S1, "EL2 VA %#" PRIx64 ": malformed entry %#" PRIx64, r->start,
			      r->attr);
		return;
	}
	if (r->kind != HS_SNAP_LEAF)
		return;
	{
		uint64_t len = r->end - r->start;
		if ((r->perm & HS_PT_PERM_W) && (r->perm & HS_PT_PERM_X))
			hs_chk_report(rep, "el2-wx", r->oa, len >> HS_PAGE_SHIFT, S1,
				      "EL2 VA %#" PRIx64 "-%#" PRIx64 " is writable and executable",
				      r->start, r->end - 1);
		/* the memory pages under the leaf range, run by run of the vmemmap */
		uint64_t pa = r->oa, end = r->oa + len;
		while (pa < end) {
			if (hs_snap_mem_region(s, pa) < 0) {
				pa += HS_PAGE_SIZE; /* MMIO or a hole: allowed */
				continue;
			}
			const struct hs_snap_vm_range *vm = hs_snap_vm_find(s, pa);
			uint64_t seg = vm && vm->end < end ? vm->end : end;
			if (!vm) {
				pa += HS_PAGE_SIZE;
				continue;
			}
			uint64_t va = r->start + (pa - r->oa), n = (seg - pa) >> HS_PAGE_SHIFT;
			if (vm->backed) {
				unsigned hyp = HS_VM_HYP(vm->val);
				if (hyp == HS_PAGE_NOPAGE)
					hs_chk_report(rep, "el2-maps-unowned", pa, n, S1 | VM,
						      "EL2 VA %#" PRIx64
						      " maps memory hyp neither owns nor "
						      "borrows (host %s)",
						      va, st(rep, HS_VM_HOST(vm->val)));
				else if (r->state != hyp && !(rep->s2_leaf_stateless &&
							      hyp == HS_PAGE_SHARED_BORROWED &&
							      r->state == HS_PAGE_OWNED))
					/* (7.x's hyp_pin_shared_mem maps a borrowed page
					 * PAGE_HYP: its state is in the vmemmap only) */
					hs_chk_report(rep, "el2-state", pa, n, S1 | VM,
						      "EL2 VA %#" PRIx64
						      " leaf says %s, vmemmap hyp state is %s",
						      va, st(rep, r->state), st(rep, hyp));
				else if (hyp == HS_PAGE_SHARED_BORROWED && !HS_VM_RC(vm->val))
					hs_chk_report(rep, "el2-pinned", pa, n, S1 | VM,
						      "EL2 VA %#" PRIx64
						      " maps a borrowed page whose pin count is 0",
						      va);
			}
			pa = seg;
		}
	}
}

static void check_el2(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++)
		hs_chk_el2_range(s, i, rep);
}

/* ------------------------------------------------------------------------ */
/* Table pages                                                               */
/* ------------------------------------------------------------------------ */

void hs_chk_tables(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	for (size_t i = 0; i < s->nr_tables; i++) {
		const struct hs_snap_table_page *t = &s->tables[i];
		unsigned tt = t->table == HS_SNAP_HOST_S2    ? S2
			      : t->table == HS_SNAP_GUEST_S2 ? HS_CHK_T_GUEST_S2
							     : S1;
		size_t before = rep->total;
		uint64_t vmh = t->table == HS_SNAP_GUEST_S2 && t->guest < s->nr_guests
				   ? s->guests[t->guest].handle
				   : 0;
		if (vmh) {
			const struct hs_snap_guest *g = &s->guests[t->guest];
			uint64_t bs = g->abi.pa,
				 be = g->abi.pa + (g->abi.nr_pages << HS_PAGE_SHIFT);
			if (t->pa < bs || t->pa >= be)
				hs_chk_report(rep, "guest-table-block", t->pa, 1, HS_CHK_T_GUEST_S2,
					      "VM %#" PRIx64
					      " level %d table page is outside its block "
					      "%#" PRIx64 "-%#" PRIx64,
					      vmh, t->level, bs, be - 1);
		}
		rep->tables_checked++;
		const struct hs_snap_vm_range *vm = hs_snap_vm_find(s, t->pa);
		if (!vm || !vm->backed)
			continue; /* outside memory: the walker reports unreadable tables */
		unsigned rc = HS_VM_RC(vm->val), want = 1 + t->live;
		for (unsigned k = 0; t->table == HS_SNAP_HYP_S1 && k < rep->nr_pinned; k++)
			want += rep->pinned[k] == t->pa;
		if (rc != want)
			hs_chk_report(
			    rep, "table-refcount", t->pa, 1, tt | VM,
			    "%s level %d table has %u %s entries but refcount %u (want %u)",
			    hs_snap_table_name((enum hs_snap_table)t->table), t->level, t->live,
			    t->table != HS_SNAP_HYP_S1 ? "non-zero" : "valid", rc, want);
		if (HS_VM_HYP(vm->val) != HS_PAGE_OWNED)
			hs_chk_report(rep, "table-owner", t->pa, 1, tt | VM,
				      "%s table page: hyp state %s, host state %s",
				      hs_snap_table_name((enum hs_snap_table)t->table),
				      st(rep, HS_VM_HYP(vm->val)), st(rep, HS_VM_HOST(vm->val)));
		if (vmh)
			tag(rep, before, vmh, 0);
	}
}

/* ------------------------------------------------------------------------ */
/* Guests                                                                    */
/* ------------------------------------------------------------------------ */

#define GS HS_CHK_T_GUEST_S2

/*
 * The piece of [pa, end) from pa on where the host stage-2 range and the
 * vmemmap run are constant: returns its end, *r2 / *vm the ranges (NULL =
 * gap / no vmemmap).
 */
static uint64_t host_seg(const struct hs_snapshot *s, uint64_t pa, uint64_t end,
			 const struct hs_snap_pt_range **r2, const struct hs_snap_vm_range **vm)
{
	const struct hs_snap_pt_range *a = s->pt[HS_SNAP_HOST_S2];
	size_t na = s->nr_pt[HS_SNAP_HOST_S2], lo = hs_snap_pt_lower(a, na, pa);
	*r2 = NULL;
	if (lo < na && a[lo].start <= pa) {
		*r2 = &a[lo];
		if (a[lo].end < end)
			end = a[lo].end;
	} else if (lo < na && a[lo].start < end) {
		end = a[lo].start;
	}
	lo = hs_snap_vm_lower(s, pa);
	*vm = NULL;
	if (lo < s->nr_vm && s->vm[lo].start <= pa) {
		*vm = &s->vm[lo];
		if (s->vm[lo].end < end)
			end = s->vm[lo].end;
	} else if (lo < s->nr_vm && s->vm[lo].start < end) {
		end = s->vm[lo].start;
	}
	return end;
}

static void check_vm_table(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	for (size_t i = 0; i < s->nr_guests; i++) {
		const struct hs_snap_guest *g = &s->guests[i];
		size_t before = rep->total;
		if (g->error[0])
			hs_chk_report(rep, "vm-table", g->vm_pa, 1, GS, "%s", g->error);
		else if (g->abi.handle != g->handle)
			hs_chk_report(rep, "vm-table", g->vm_pa, 1, GS,
				      "VM table slot %u holds a VM whose handle is %#" PRIx64
				      " (want %#" PRIx64 ")",
				      g->slot, g->abi.handle, g->handle);
		tag(rep, before, g->handle, 0);
		if (!g->ok)
			continue;
		before = rep->total;
		if (!g->vmid)
			hs_chk_report(rep, "vmid-unique", g->vm_pa, 1, GS,
				      "VM %#" PRIx64 " runs with VMID 0, the host's", g->handle);
		for (size_t j = 0; j < i; j++)
			if (s->guests[j].ok && s->guests[j].vmid == g->vmid)
				hs_chk_report(rep, "vmid-unique", g->vm_pa, 1, GS,
					      "VMs %#" PRIx64 " and %#" PRIx64 " share VMID %u",
					      s->guests[j].handle, g->handle, g->vmid);
		tag(rep, before, g->handle, 0);
	}
}

/* A guest OWNED leaf range: its pages must be annotated GUEST(handle, gfn), NOPAGE/NOPAGE. */
static void check_guest_owned(const struct hs_snapshot *s, const struct hs_snap_guest *g,
			      const struct hs_snap_pt_range *r, struct hs_check_report *rep)
{
	uint64_t pa = r->oa, end = r->oa + (r->end - r->start);
	while (pa < end) {
		const struct hs_snap_pt_range *r2;
		const struct hs_snap_vm_range *vm;
		uint64_t seg = host_seg(s, pa, end, &r2, &vm);
		uint64_t n = (seg - pa) >> HS_PAGE_SHIFT,
			 gfn = (r->start + (pa - r->oa)) >> HS_PAGE_SHIFT;
		size_t before = rep->total;
		if (!r2 || r2->kind != HS_SNAP_ANNOT || r2->owner != HS_OWNER_GUEST) {
			hs_chk_report(rep, "guest-owned", pa, n, GS | S2,
				      "VM %#" PRIx64 " owns gfn %#" PRIx64
				      " but the host stage-2 entry is %s",
				      g->handle, gfn,
				      !r2			  ? "empty (host-owned)"
				      : r2->kind == HS_SNAP_LEAF  ? "a valid mapping"
				      : r2->kind == HS_SNAP_ANNOT ? "another owner's annotation"
								  : "malformed");
		} else {
			uint64_t meta = r2->meta + (((pa - r2->start) >> HS_PAGE_SHIFT)
						    << HS_ANNOT_META_GFN_SHIFT);
			uint64_t ah = meta & HS_ANNOT_META_HANDLE_MASK,
				 ag = meta >> HS_ANNOT_META_GFN_SHIFT;
			if (ah != (g->handle & HS_ANNOT_META_HANDLE_MASK) || ag != gfn)
				hs_chk_report(rep, "guest-owned", pa, n, GS | S2,
					      "VM %#" PRIx64 " owns gfn %#" PRIx64
					      " but the annotation says GUEST(handle %#" PRIx64
					      ", gfn %#" PRIx64 ")",
					      g->handle, gfn, ah, ag);
		}
		if (vm && vm->backed &&
		    (HS_VM_HOST(vm->val) != HS_PAGE_NOPAGE || HS_VM_HYP(vm->val) != HS_PAGE_NOPAGE))
			hs_chk_report(rep, "guest-owned", pa, n, GS | VM,
				      "VM %#" PRIx64 " owns gfn %#" PRIx64
				      " but host is %s, hyp %s",
				      g->handle, gfn, st(rep, HS_VM_HOST(vm->val)),
				      st(rep, HS_VM_HYP(vm->val)));
		tag(rep, before, g->handle, gfn);
		pa = seg;
	}
}

static void check_guest_borrowed(const struct hs_snapshot *s, const struct hs_snap_guest *g,
				 const struct hs_snap_pt_range *r, struct hs_check_report *rep)
{
	uint64_t pa = r->oa, end = r->oa + (r->end - r->start);
	while (pa < end) {
		const struct hs_snap_pt_range *r2;
		const struct hs_snap_vm_range *vm;
		uint64_t seg = host_seg(s, pa, end, &r2, &vm);
		uint64_t n = (seg - pa) >> HS_PAGE_SHIFT,
			 gfn = (r->start + (pa - r->oa)) >> HS_PAGE_SHIFT;
		size_t before = rep->total;
		if (vm && vm->backed &&
		    (HS_VM_HOST(vm->val) != HS_PAGE_SHARED_OWNED || !HS_VM_SHARES(vm->val) ||
		     HS_VM_HYP(vm->val) != HS_PAGE_NOPAGE))
			hs_chk_report(rep, "guest-borrowed", pa, n, GS | VM,
				      "VM %#" PRIx64 " borrows gfn %#" PRIx64
				      " but host is %s with %u guest shares, hyp %s",
				      g->handle, gfn, st(rep, HS_VM_HOST(vm->val)),
				      HS_VM_SHARES(vm->val), st(rep, HS_VM_HYP(vm->val)));
		tag(rep, before, g->handle, gfn);
		pa = seg;
	}
}

static void check_guest_leaves(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	for (size_t i = 0; i < s->nr_guests; i++) {
		const struct hs_snap_guest *g = &s->guests[i];
		for (size_t k = 0; g->ok && k < g->nr_pt; k++) {
			const struct hs_snap_pt_range *r = &g->pt[k];
			uint64_t n = (r->end - r->start) >> HS_PAGE_SHIFT,
				 gfn = r->start >> HS_PAGE_SHIFT;
			size_t before = rep->total;
			if (r->kind != HS_SNAP_LEAF) {
				hs_chk_report(
				    rep, "guest-s2-malformed", r->start, n, GS,
				    "VM %#" PRIx64 " IPA %#" PRIx64 ": %s entry %#" PRIx64,
				    g->handle, r->start,
				    r->kind == HS_SNAP_ANNOT ? "annotation" : "malformed",
				    r->kind == HS_SNAP_ANNOT ? hs_annotation(r->owner, r->meta)
							     : r->attr);
				tag(rep, before, g->handle, gfn);
				continue;
			}
			uint64_t len = r->end - r->start;
			int reg = hs_snap_mem_region(s, r->oa);
			if (reg < 0 || r->oa + len - s->mem[reg].base > s->mem[reg].size) {
				hs_chk_report(rep, "guest-maps-memory", r->oa, n, GS,
					      "VM %#" PRIx64 " maps gfn %#" PRIx64
					      " to PA %#" PRIx64 ", not (all) memory",
					      g->handle, gfn, r->oa);
				tag(rep, before, g->handle, gfn);
				continue;
			}
			if (r->state == HS_PAGE_OWNED)
				check_guest_owned(s, g, r, rep);
			else if (r->state == HS_PAGE_SHARED_BORROWED)
				check_guest_borrowed(s, g, r, rep);
			else {
				hs_chk_report(rep, "guest-state", r->oa, n, GS,
					      "VM %#" PRIx64 " gfn %#" PRIx64 ": leaf state %s",
					      g->handle, gfn, st(rep, r->state));
				tag(rep, before, g->handle, gfn);
			}
		}
	}
}

/* Guest shares in the vmemmap against the SHARED_BORROWED leaves counted in every VM. */
static void check_share_counts(const struct hs_snapshot *s, const struct hs_snap_cover *c,
			       size_t nc, struct hs_check_report *rep)
{
	size_t j = 0;
	for (size_t i = 0; i < s->nr_vm; i++) {
		const struct hs_snap_vm_range *v = &s->vm[i];
		if (!v->backed)
			continue;
		uint32_t shares = HS_VM_SHARES(v->val);
		uint64_t pa = v->start;
		while (j < nc && c[j].end <= pa)
			j++;
		while (pa < v->end) {
			uint64_t seg = v->end;
			uint32_t count = 0;
			if (j < nc && c[j].start <= pa) {
				count = c[j].count;
				if (c[j].end < seg)
					seg = c[j].end;
			} else if (j < nc && c[j].start < seg) {
				seg = c[j].start;
			}
			if (count != shares)
				hs_chk_report(
				    rep, "guest-share-count", pa, (seg - pa) >> HS_PAGE_SHIFT,
				    GS | VM,
				    "guest-share count %u but %u guest SHARED_BORROWED mapping%s",
				    shares, count, count == 1 ? "" : "s");
			pa = seg;
			while (j < nc && c[j].end <= pa)
				j++;
		}
	}
}

/* Every GUEST annotation names a live VM mapping that gfn to this page as OWNED. */
static void check_guest_annots(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	const struct hs_snap_pt_range *a = s->pt[HS_SNAP_HOST_S2];
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HOST_S2]; i++) {
		if (a[i].kind != HS_SNAP_ANNOT || a[i].owner != HS_OWNER_GUEST)
			continue;
		uint64_t pa = a[i].start;
		while (pa < a[i].end) {
			uint64_t meta = a[i].meta + (((pa - a[i].start) >> HS_PAGE_SHIFT)
						     << HS_ANNOT_META_GFN_SHIFT);
			uint64_t h = meta & HS_ANNOT_META_HANDLE_MASK,
				 gfn = meta >> HS_ANNOT_META_GFN_SHIFT;
			const struct hs_snap_guest *g = hs_snap_guest_find(s, h);
			size_t before = rep->total;
			if (!g || !g->ok) {
				uint64_t n = (a[i].end - pa) >> HS_PAGE_SHIFT;
				hs_chk_report(rep, "guest-annot", pa, n, S2 | GS,
					      "annotated GUEST(handle %#" PRIx64 ", gfn %#" PRIx64
					      ") but no such live VM",
					      h, gfn);
				tag(rep, before, h, gfn);
				break;
			}
			uint64_t ipa = gfn << HS_PAGE_SHIFT;
			const struct hs_snap_pt_range *l = hs_snap_guest_pt_find(g, ipa);
			uint64_t seg = a[i].end;
			if (l && l->end - ipa < seg - pa)
				seg = pa + (l->end - ipa);
			if (!l)
				seg = pa + HS_PAGE_SIZE;
			uint64_t n = (seg - pa) >> HS_PAGE_SHIFT;
			if (!l || l->kind != HS_SNAP_LEAF)
				hs_chk_report(rep, "guest-annot", pa, n, S2 | GS,
					      "annotated GUEST(handle %#" PRIx64 ", gfn %#" PRIx64
					      ") but the VM does not map that gfn",
					      h, gfn);
			else if (l->oa + (ipa - l->start) != pa || l->state != HS_PAGE_OWNED)
				hs_chk_report(rep, "guest-annot", pa, n, S2 | GS,
					      "annotated GUEST(handle %#" PRIx64 ", gfn %#" PRIx64
					      ") but the VM maps that gfn to PA %#" PRIx64 " as %s",
					      h, gfn, l->oa + (ipa - l->start), st(rep, l->state));
			tag(rep, before, h, gfn);
			pa = seg;
		}
	}
}

/* No page both mapped by a guest and mapped at EL2 as hyp-owned. */
static void check_guest_el2(const struct hs_snapshot *s, const struct hs_snap_cover *c, size_t nc,
			    struct hs_check_report *rep)
{
	const struct hs_snap_pt_range *v = s->pt[HS_SNAP_HYP_S1];
	for (size_t i = 0; nc && i < s->nr_pt[HS_SNAP_HYP_S1]; i++) {
		if (v[i].kind != HS_SNAP_LEAF || v[i].state != HS_PAGE_OWNED)
			continue;
		uint64_t pa = v[i].oa, end = v[i].oa + (v[i].end - v[i].start);
		size_t lo = 0, hi = nc;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c[mid].end <= pa)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t j = lo; j < nc && c[j].start < end; j++) {
			uint64_t a = c[j].start > pa ? c[j].start : pa;
			uint64_t b = c[j].end < end ? c[j].end : end;
			hs_chk_report(rep, "guest-el2-owned", a, (b - a) >> HS_PAGE_SHIFT, GS | S1,
				      "mapped by %u guest leaf(s) and at EL2 VA %#" PRIx64
				      " as OWNED",
				      c[j].count, v[i].start + (a - v[i].oa));
		}
	}
}

void hs_chk_guests(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	if (!s->have_guests)
		return; /* no VM table this snapshot could read: nothing to compare with */
	check_vm_table(s, rep);
	check_guest_leaves(s, rep);
	struct hs_snap_cover *c = NULL;
	size_t nc = 0;
	if (hs_snap_guest_cover(s, 1u << HS_PAGE_SHARED_BORROWED, &c, &nc)) {
		hs_chk_report(rep, "check-error", 0, 0, GS, "guests: out of memory");
		return;
	}
	check_share_counts(s, c, nc, rep);
	free(c);
	check_guest_annots(s, rep);
	if (hs_snap_guest_cover(s, ~0u, &c, &nc)) {
		hs_chk_report(rep, "check-error", 0, 0, GS, "guests: out of memory");
		return;
	}
	check_guest_el2(s, c, nc, rep);
	free(c);
}

/* ------------------------------------------------------------------------ */

int hs_chk_booted(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	if (s->have_s1 && s->have_s2 && s->have_vm)
		return 0;
	hs_chk_report(rep, "check-error", 0, 0, 0,
		      "the machine is not booted to a protected host (no %s)",
		      !s->have_s1   ? "EL2 stage 1"
		      : !s->have_s2 ? "host stage 2"
				    : "vmemmap");
	return -EAGAIN;
}

void hs_chk_report_begin(struct hs_machine *m, const struct hs_snapshot *s,
			 struct hs_check_report *rep)
{
	rep->nr = rep->total = rep->waived = 0;
	rep->pages_checked = rep->tables_checked = rep->free_blocks_checked = 0;
	const struct hs_profile *prof = hs_profile_of(m);
	rep->swenc = s->swenc;
	rep->waivers = prof->check_waivers;
	rep->nr_pinned =
	    prof->pinned_tables ? prof->pinned_tables(m, rep->pinned, sizeof(rep->pinned) / 8) : 0;
	rep->ro_text_start = rep->ro_text_end = 0;
	rep->s2_leaf_stateless = prof->host_state_in_vmemmap_only;
	uint64_t a, b;
	if (prof->host_reads_hyp_text && !hs_sym_pa(m, "__hyp_text_start", &a, NULL) &&
	    !hs_sym_pa(m, "__hyp_text_end", &b, NULL)) {
		rep->ro_text_start = a & ~(uint64_t)(HS_PAGE_SIZE - 1);
		rep->ro_text_end = (b + HS_PAGE_SIZE - 1) & ~(uint64_t)(HS_PAGE_SIZE - 1);
	}
}

int hs_check_snapshot(struct hs_machine *m, const struct hs_snapshot *s,
		      struct hs_check_report *rep)
{
	hs_chk_report_begin(m, s, rep);
	int rc = hs_chk_booted(s, rep);
	if (rc)
		return rc;
	check_pages(s, rep);
	check_el2(s, rep);
	hs_chk_sweep(s, rep);
	hs_chk_tables(s, rep);
	hs_chk_guests(s, rep);
	/* one-shot: nothing is known about the pools' pages yet */
	struct hs_chk_pool pools[2];
	hs_chk_pool_init(&pools[0], "hpool", HS_CHK_T_HPOOL);
	hs_chk_pool_init(&pools[1], "host_s2_pool", HS_CHK_T_HOST_S2_POOL);
	for (unsigned i = 0; i < 2 && hs_profile_of(m)->check_pools; i++) {
		hs_chk_pool_run(m, s, &pools[i], rep);
		hs_chk_pool_free(&pools[i]);
	}
	return (int)rep->total;
}

int hs_check(struct hs_machine *m, struct hs_check_report *rep)
{
	struct hs_snapshot s;
	struct hs_error err = {0};
	hs_snapshot_init(&s);
	int rc = hs_snapshot_take(m, HS_SNAP_F_TABLES, &s, &err);
	if (rc) {
		rep->nr = rep->total = 0;
		hs_chk_report(rep, "check-error", 0, 0, 0, "%s", err.msg);
		hs_snapshot_free(&s);
		return rc;
	}
	rc = hs_check_snapshot(m, &s, rep);
	hs_snapshot_free(&s);
	return rc;
}
