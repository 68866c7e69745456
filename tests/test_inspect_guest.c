/* SPDX-License-Identifier: MIT */
/*
 * Guests in the inspection engine: every VM's stage 2 in the snapshot (found
 * through the hypervisor's VM table) and in the diff, guest mappings and
 * GUEST annotations in the ownership queries and map, the guest rules of the
 * checker — clean through share/donate/unshare/teardown, and mutation tests
 * that corrupt guest state the way a hypervisor bug would.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "profile.h"
#include "host_vm.h"
#include "hyp_state.h"
#include "inspect_check.h"
#include "inspect_owner.h"
#include "inspect_snapshot.h"
#include "inspect_trace.h"
#include "pt_translate.h"
#include "sysregs.h"
#include "testutil.h"

#define GFN 0x48100ULL
#define IPA(g) ((uint64_t)(g) << HS_PAGE_SHIFT)

static struct hs_machine *m;
static struct hs_check_report rep;
static uint64_t pfn0; /* host pages the tests give to guests */

static void setup(void)
{
	m = hs_test_booted(2, 0);
	hs_check_report_init(&rep);
	pfn0 = (hs_machine_opts(m)->ram_base + 0x400000) >> HS_PAGE_SHIFT;
}

static void teardown(void)
{
	hs_check_report_free(&rep);
	hs_machine_destroy(m);
}

/* ---- helpers -------------------------------------------------------------- */

static uint64_t vm_new(bool protected_vm)
{
	uint64_t h;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_create(m, 0, protected_vm, &h, &err) == 0, "%s", err.msg);
	return h;
}

static void share(uint64_t h, uint64_t pfn, uint64_t gfn, uint64_t nr, unsigned prot)
{
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_share(m, 0, h, pfn, gfn, nr, prot, &ret, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ret, 0);
}

static void unshare(uint64_t h, uint64_t gfn, uint64_t nr)
{
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_unshare(m, 0, h, gfn, nr, &ret, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ret, 0);
}

static void donate(uint64_t h, uint64_t pfn, uint64_t gfn)
{
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_donate(m, 0, h, pfn, gfn, &ret, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ret, 0);
}

static void vm_teardown(uint64_t h)
{
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_teardown(m, 0, h, &ret, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ret, 0);
}

static int64_t hvc(int nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	int64_t ret;
	struct hs_error err = {0};
	uint64_t a[3] = {a0, a1, a2};
	ck_assert_msg(hs_vm_hvc(m, 0, nr, a, 3, &ret, &err) == 0, "%s", err.msg);
	return ret;
}

static const char *report_text(void)
{
	static char buf[8192];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_text(&rep, &sb);
	snprintf(buf, sizeof(buf), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return buf;
}

static void assert_clean(const char *when)
{
	int n = hs_check(m, &rep);
	ck_assert_msg(n == 0, "%s: %d violations\n%s", when, n, report_text());
}

/* rule fired at pa (~0 = anywhere), tagged with VM vm (0 = any). */
static void assert_fires(const char *rule, uint64_t pa, uint64_t vm)
{
	int n = hs_check(m, &rep);
	ck_assert_msg(n > 0, "no violation after corrupting (want %s)", rule);
	bool found = false;
	for (size_t i = 0; i < rep.nr; i++)
		if (!strcmp(rep.v[i].rule, rule) && (pa == ~0ULL || rep.v[i].pa == pa) &&
		    (!vm || rep.v[i].vm == vm))
			found = true;
	ck_assert_msg(found, "rule %s did not fire at %#lx (vm %#lx):\n%s", rule, (unsigned long)pa,
		      (unsigned long)vm, report_text());
}

static void assert_silent(const char *rule)
{
	hs_check(m, &rep);
	ck_assert_msg(hs_check_count(&rep, rule) == 0, "rule %s fired:\n%s", rule, report_text());
}

/* PA of the last descriptor translating ipa in VM h's stage 2 (h = 0: the host's). */
static uint64_t s2_desc_pa(uint64_t h, uint64_t ipa)
{
	uint64_t vttbr, vtcr;
	if (h) {
		ck_assert_int_eq(hs_vm_regs(m, h, &vttbr, &vtcr, NULL), 0);
	} else {
		hs_cpu_sysreg(m, 0, HS_SR_VTCR_EL2, &vtcr);
		hs_cpu_sysreg(m, 0, HS_SR_VTTBR_EL2, &vttbr);
	}
	struct hs_pt_regime r;
	char msg[200];
	ck_assert_int_eq(hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)), 0);
	return hs_test_regime_desc_pa(m, &r, ipa);
}

static void take(struct hs_snapshot *s, unsigned flags)
{
	struct hs_error err = {0};
	ck_assert_msg(hs_snapshot_take(m, flags, s, &err) == 0, "%s", err.msg);
}

/* The guest range of VM h holding ipa, from a snapshot. */
static const struct hs_snap_pt_range *guest_range(const struct hs_snapshot *s, uint64_t h,
						  uint64_t ipa)
{
	const struct hs_snap_guest *g = hs_snap_guest_find(s, h);
	ck_assert_ptr_nonnull(g);
	return hs_snap_guest_pt_find(g, ipa);
}

/* ---- snapshot and diff ------------------------------------------------------ */

START_TEST(snapshot_has_every_vm_stage2_from_the_hyp_table)
{
	struct hs_snapshot s;
	hs_snapshot_init(&s);
	take(&s, 0);
	ck_assert(s.have_guests);
	ck_assert_uint_eq(s.nr_guests, 0);

	uint64_t a = vm_new(false), b = vm_new(true);
	share(a, pfn0, GFN, 3, HS_PROT_RW);
	donate(b, pfn0 + 8, GFN);
	take(&s, HS_SNAP_F_TABLES);
	ck_assert_uint_eq(s.nr_guests, 2);
	ck_assert_uint_eq(s.guests[0].handle, a);
	ck_assert_uint_eq(s.guests[1].handle, b);
	for (int i = 0; i < 2; i++) {
		const struct hs_snap_guest *g = &s.guests[i];
		uint64_t vttbr, vtcr;
		ck_assert_msg(g->ok, "%s", g->error);
		ck_assert_int_eq(hs_vm_regs(m, g->handle, &vttbr, &vtcr, NULL), 0);
		ck_assert_uint_eq(g->abi.vttbr, vttbr);
		ck_assert_uint_eq(g->vmid, i + 1);
		ck_assert_uint_eq(g->abi.handle, g->handle);
		ck_assert_uint_eq(g->r.ia_bits, HS_GUEST_IPA_BITS);
	}
	/* VM a: the guest program RX at hs_vm_code_gfn(), 3 shared pages RW at GFN. */
	const struct hs_snap_pt_range *r = guest_range(&s, a, IPA(GFN));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->kind, HS_SNAP_LEAF);
	ck_assert_uint_eq(r->start, IPA(GFN));
	ck_assert_uint_eq(r->end, IPA(GFN + 3));
	ck_assert_uint_eq(r->oa, pfn0 << HS_PAGE_SHIFT);
	ck_assert_uint_eq(r->state, HS_PAGE_SHARED_BORROWED);
	ck_assert_uint_eq(r->perm, HS_PT_PERM_R | HS_PT_PERM_W);
	r = guest_range(&s, a, IPA(hs_vm_code_gfn(m)));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->perm, HS_PT_PERM_R | HS_PT_PERM_X);
	/* VM b: its own pages. */
	r = guest_range(&s, b, IPA(GFN));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, HS_PAGE_OWNED);
	ck_assert_uint_eq(r->oa, (pfn0 + 8) << HS_PAGE_SHIFT);
	ck_assert_ptr_null(guest_range(&s, b, IPA(GFN + 1)));
	/* Table pages of both VMs are recorded, tagged with their VM. */
	unsigned tables[2] = {0, 0};
	for (size_t i = 0; i < s.nr_tables; i++)
		if (s.tables[i].table == HS_SNAP_GUEST_S2)
			tables[s.tables[i].guest]++;
	ck_assert_uint_ge(tables[0], 3); /* 2 concatenated root pages + a level-2 table + ... */
	ck_assert_uint_ge(tables[1], 3);
	/* Retaking reuses the buffers. */
	take(&s, 0);
	ck_assert_uint_eq(s.nr_guests, 2);
	hs_snapshot_free(&s);
}
END_TEST

static const struct hs_diff_rec *find_rec(const struct hs_diff *d, uint64_t vm, unsigned chg)
{
	for (size_t i = 0; i < d->nr; i++)
		if (d->recs[i].table == HS_SNAP_GUEST_S2 && d->recs[i].vm == vm &&
		    (d->recs[i].changes & chg))
			return &d->recs[i];
	return NULL;
}

START_TEST(diff_reports_changes_per_vm)
{
	uint64_t a = vm_new(false), b = vm_new(false);
	share(b, pfn0 + 7, GFN, 1, HS_PROT_R);
	struct hs_snapshot s0, s1;
	struct hs_diff d;
	hs_snapshot_init(&s0);
	hs_snapshot_init(&s1);
	hs_diff_init(&d);
	take(&s0, 0);

	share(a, pfn0, GFN, 3, HS_PROT_RW);
	take(&s1, 0);
	ck_assert_int_eq(hs_snapshot_diff(&s0, &s1, &d), 0);
	const struct hs_diff_rec *r = find_rec(&d, a, HS_CHG_MAPPED);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->start, IPA(GFN));
	ck_assert_uint_eq(r->end, IPA(GFN + 3));
	ck_assert_uint_eq(r->new_pt.oa, pfn0 << HS_PAGE_SHIFT);
	ck_assert_uint_eq(r->new_pt.state, HS_PAGE_SHARED_BORROWED);
	ck_assert_ptr_null(find_rec(&d, b, ~0u)); /* the other VM did not change */
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_GUEST_S2, HS_CHG_MAPPED), 3);
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_VMEMMAP, HS_CHG_STATE), 3);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_diff_text(&sb, &d);
	ck_assert_msg(strstr(hs_sb_str(&sb), "guest-s2 vm 0x1000 IPA"), "%s", hs_sb_str(&sb));
	hs_sb_reset(&sb);
	hs_diff_json(&sb, &d);
	ck_assert_msg(strstr(hs_sb_str(&sb), "\"table\":\"guest-s2\""), "%s", hs_sb_str(&sb));
	ck_assert_msg(strstr(hs_sb_str(&sb), "\"vm\":\"0x1000\",\"changes\":\"mapped\""), "%s",
		      hs_sb_str(&sb));

	/* write-protect one page: a perm change of VM a only */
	ck_assert_int_eq(hvc(HS_HC_host_wrprotect_guest, a, GFN + 1, 1), 0);
	take(&s0, 0);
	ck_assert_int_eq(hs_snapshot_diff(&s1, &s0, &d), 0);
	r = find_rec(&d, a, HS_CHG_PERM);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->start, IPA(GFN + 1));
	ck_assert_uint_eq(r->end, IPA(GFN + 2));
	ck_assert_uint_eq(r->new_pt.perm, HS_PT_PERM_R);
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_GUEST_S2, ~0u), 1);

	/* unshare two: unmapped in VM a; the host side goes back to OWNED */
	unshare(a, GFN, 2);
	take(&s1, 0);
	ck_assert_int_eq(hs_snapshot_diff(&s0, &s1, &d), 0);
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_GUEST_S2, HS_CHG_UNMAPPED), 2);
	ck_assert_ptr_null(find_rec(&d, b, ~0u));

	/* teardown of VM b: its mapping vanishes with it */
	vm_teardown(b);
	take(&s0, 0);
	ck_assert_int_eq(hs_snapshot_diff(&s1, &s0, &d), 0);
	r = find_rec(&d, b, HS_CHG_UNMAPPED);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(find_rec(&d, a, ~0u));
	ck_assert_uint_eq(s0.nr_guests, 1);

	hs_sb_free(&sb);
	hs_diff_free(&d);
	hs_snapshot_free(&s0);
	hs_snapshot_free(&s1);
}
END_TEST

/* ---- checker: clean runs ------------------------------------------------------ */

START_TEST(clean_through_share_donate_unshare_teardown)
{
	assert_clean("after boot");
	uint64_t a = vm_new(false);
	assert_clean("after creating a VM");
	share(a, pfn0, GFN, 3, HS_PROT_RW);
	assert_clean("after sharing 3 pages");
	uint64_t b = vm_new(true);
	donate(b, pfn0 + 8, GFN);
	assert_clean("after donating a page to a protected VM");
	/* the same page shared with two VMs: count 2 */
	uint64_t c = vm_new(false);
	share(c, pfn0 + 1, GFN + 7, 1, HS_PROT_R);
	assert_clean("after sharing a page with a second VM");
	unshare(a, GFN, 3);
	assert_clean("after unsharing");
	vm_teardown(b);
	assert_clean("after tearing down the protected VM");
	vm_teardown(a);
	vm_teardown(c);
	assert_clean("after tearing down every VM");
	ck_assert_uint_gt(rep.tables_checked, 3);
}
END_TEST

START_TEST(clean_with_ten_vms)
{
	for (int i = 0; i < 10; i++) {
		uint64_t h = vm_new(i & 1);
		if (i & 1)
			donate(h, pfn0 + 16 + i, GFN);
		else
			share(h, pfn0, GFN, 4, HS_PROT_RW); /* the same 4 pages to 5 VMs */
	}
	assert_clean("with 10 VMs");
	struct hs_snapshot s;
	hs_snapshot_init(&s);
	take(&s, 0);
	ck_assert_uint_eq(s.nr_guests, 10);
	hs_snapshot_free(&s);
	uint64_t raw = hs_test_rd64(m, hs_test_vmemmap_entry_pa(m, pfn0 << HS_PAGE_SHIFT));
	ck_assert_uint_eq(hs_hyp_page_guest_shares(raw), 5);
}
END_TEST

/* ---- checker: mutations -------------------------------------------------------- */

START_TEST(mutation_guest_leaf_state_bits)
{
	uint64_t a = vm_new(false);
	share(a, pfn0, GFN, 3, HS_PROT_RW);
	assert_clean("before");
	uint64_t d = s2_desc_pa(a, IPA(GFN + 1)), pte = hs_test_rd64(m, d);
	ck_assert_uint_eq((pte & HS_PTE_STATE_MASK) >> HS_PTE_STATE_SHIFT, HS_PAGE_SHARED_BORROWED);
	uint64_t pa = (pfn0 + 1) << HS_PAGE_SHIFT;
	/* SHARED_BORROWED -> OWNED: the guest claims the host's page */
	hs_test_wr64(m, d,
		     (pte & ~HS_PTE_STATE_MASK) | ((uint64_t)HS_PAGE_OWNED << HS_PTE_STATE_SHIFT));
	assert_fires("guest-owned", pa, a);
	assert_fires("guest-share-count", pa, 0); /* 1 share, 0 borrowed mappings */
	for (size_t i = 0; i < rep.nr; i++)
		if (!strcmp(rep.v[i].rule, "guest-owned"))
			ck_assert_uint_eq(rep.v[i].gfn, GFN + 1);
	if (getenv("HS_TEST_VERBOSE"))
		fprintf(stderr, "%s", report_text());
	/* -> NOPAGE: not a state a guest leaf can hold */
	hs_test_wr64(m, d,
		     (pte & ~HS_PTE_STATE_MASK) | ((uint64_t)HS_PAGE_NOPAGE << HS_PTE_STATE_SHIFT));
	assert_fires("guest-state", pa, a);
	/* restored: clean again */
	hs_test_wr64(m, d, pte);
	assert_clean("after restoring");
}
END_TEST

START_TEST(mutation_guest_share_count)
{
	uint64_t a = vm_new(false);
	share(a, pfn0, GFN, 3, HS_PROT_RW);
	uint64_t pa = (pfn0 + 2) << HS_PAGE_SHIFT, e = hs_test_vmemmap_entry_pa(m, pa),
		 raw = hs_test_rd64(m, e);
	ck_assert_uint_eq(hs_hyp_page_guest_shares(raw), 1);
	/* one share too many: only the count rule */
	hs_test_wr64(m, e, raw + (1ULL << 32));
	assert_fires("guest-share-count", pa, 0);
	ck_assert_int_eq(hs_check(m, &rep), 1);
	ck_assert_uint_eq(rep.v[0].pages, 1);
	/* zero: the borrowed leaf has no share behind it */
	hs_test_wr64(m, e, raw & 0xffffffffULL);
	assert_fires("guest-borrowed", pa, a);
	assert_fires("guest-share-count", pa, 0);
	assert_fires("share-pair", pa, 0); /* SHARED_OWNED without a borrower */
	hs_test_wr64(m, e, raw);
	assert_clean("after restoring");
}
END_TEST

START_TEST(mutation_guest_annotation_gfn)
{
	uint64_t b = vm_new(true);
	uint64_t pa = (pfn0 + 8) << HS_PAGE_SHIFT;
	donate(b, pfn0 + 8, GFN);
	assert_clean("before");
	uint64_t d = s2_desc_pa(0, pa), e = hs_test_rd64(m, d);
	ck_assert(!(e & 1));
	ck_assert_uint_eq(hs_annotation_owner(e), HS_OWNER_GUEST);
	uint64_t meta = hs_annotation_meta(e);
	ck_assert_uint_eq(meta & HS_ANNOT_META_HANDLE_MASK, b);
	ck_assert_uint_eq(meta >> HS_ANNOT_META_GFN_SHIFT, GFN);
	hs_test_wr64(m, d,
		     hs_annotation(HS_OWNER_GUEST, (meta & HS_ANNOT_META_HANDLE_MASK) |
						       ((GFN + 5) << HS_ANNOT_META_GFN_SHIFT)));
	assert_fires("guest-owned", pa, b);
	assert_fires("guest-annot", pa, b);
	assert_silent("owner-unique"); /* still one owner: the guest */
	/* a handle no VM has */
	hs_test_wr64(m, d,
		     hs_annotation(HS_OWNER_GUEST, 0x1077 | (GFN << HS_ANNOT_META_GFN_SHIFT)));
	assert_fires("guest-annot", pa, 0x1077);
	assert_fires("guest-owned", pa, b);
	hs_test_wr64(m, d, e);
	assert_clean("after restoring");
}
END_TEST

START_TEST(mutation_duplicate_vmid_and_table_refcount)
{
	uint64_t a = vm_new(false), b = vm_new(false);
	share(a, pfn0, GFN, 1, HS_PROT_RW);
	struct hs_snapshot s;
	hs_snapshot_init(&s);
	take(&s, HS_SNAP_F_TABLES);
	const struct hs_snap_guest *gb = hs_snap_guest_find(&s, b);
	ck_assert_ptr_nonnull(gb);
	uint64_t vttbr_pa = gb->vm_pa + HS_VM_LAYOUT_VTTBR, vttbr = hs_test_rd64(m, vttbr_pa);
	/* a leaf table page of VM a */
	uint64_t tpa = 0;
	for (size_t i = 0; i < s.nr_tables; i++)
		if (s.tables[i].table == HS_SNAP_GUEST_S2 &&
		    s.guests[s.tables[i].guest].handle == a && s.tables[i].level == 3)
			tpa = s.tables[i].pa;
	ck_assert_uint_ne(tpa, 0);
	hs_snapshot_free(&s);

	hs_test_wr64(m, vttbr_pa,
		     (vttbr & ((1ULL << 48) - 1)) | (1ULL << 48)); /* VM b gets VMID 1 too */
	assert_fires("vmid-unique", ~0ULL, b);
	hs_test_wr64(m, vttbr_pa, vttbr);
	assert_clean("after restoring the VMID");

	uint64_t e = hs_test_vmemmap_entry_pa(m, tpa), raw = hs_test_rd64(m, e);
	hs_test_wr64(m, e, raw + 1);
	assert_fires("table-refcount", tpa, a);
	hs_test_wr64(m, e, raw);
	assert_clean("after restoring the refcount");
}
END_TEST

START_TEST(mutation_guest_maps_hyp_page)
{
	/* A guest leaf pointed at the hypervisor's text: mapped by EL2 as OWNED too. */
	uint64_t a = vm_new(false);
	share(a, pfn0, GFN, 1, HS_PROT_RW);
	uint64_t text;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, NULL), 0);
	text &= ~(HS_PAGE_SIZE - 1);
	uint64_t d = s2_desc_pa(a, IPA(GFN)), pte = hs_test_rd64(m, d);
	hs_test_wr64(m, d, (pte & ~0x0000fffffffff000ULL) | text);
	assert_fires("guest-el2-owned", text, 0);
	assert_fires("guest-borrowed", text, a);
	assert_fires("guest-share-count", pfn0 << HS_PAGE_SHIFT, 0);
	/* and a leaf outside memory */
	hs_test_wr64(m, d, (pte & ~0x0000fffffffff000ULL) | HS_UART_BASE);
	assert_fires("guest-maps-memory", HS_UART_BASE, a);
	hs_test_wr64(m, d, pte);
	assert_clean("after restoring");
}
END_TEST

/* ---- ownership ----------------------------------------------------------------- */

START_TEST(owner_reports_guest_mappings_and_annotations)
{
	uint64_t a = vm_new(false), b = vm_new(false), p = vm_new(true);
	share(a, pfn0, GFN, 3, HS_PROT_RW);
	share(b, pfn0 + 1, GFN + 0x10, 1, HS_PROT_R); /* page 1: two VMs */
	donate(p, pfn0 + 8, GFN + 4);
	struct hs_owner_ctx ctx;
	struct hs_error err = {0};
	ck_assert_msg(hs_owner_ctx_build(m, &ctx, &err) == 0, "%s", err.msg);
	struct hs_owner_page pg;

	hs_owner_lookup(&ctx, (pfn0 + 1) << HS_PAGE_SHIFT, &pg);
	ck_assert_uint_eq(pg.owner, HS_OWNER_HOST);
	ck_assert_uint_eq(pg.nr_guest, 2);
	ck_assert_uint_eq(pg.guest[0].handle, a);
	ck_assert_uint_eq(pg.guest[0].gfn, GFN + 1);
	ck_assert_uint_eq(pg.guest[0].vmid, 1);
	ck_assert_uint_eq(pg.guest[0].leaf.perm, HS_PT_PERM_R | HS_PT_PERM_W);
	ck_assert_uint_eq(pg.guest[0].leaf.state, HS_PAGE_SHARED_BORROWED);
	ck_assert_uint_eq(pg.guest[1].handle, b);
	ck_assert_uint_eq(pg.guest[1].gfn, GFN + 0x10);
	ck_assert_uint_eq(pg.guest[1].leaf.perm, HS_PT_PERM_R);
	ck_assert_uint_eq(HS_VM_SHARES(pg.vm), 2);

	hs_owner_lookup(&ctx, (pfn0 + 8) << HS_PAGE_SHIFT, &pg);
	ck_assert_uint_eq(pg.owner, HS_OWNER_GUEST);
	ck_assert_uint_eq(pg.guest_handle, p);
	ck_assert_uint_eq(pg.guest_gfn, GFN + 4);
	ck_assert_uint_eq(pg.nr_guest, 1);
	ck_assert_uint_eq(pg.guest[0].handle, p);
	ck_assert_uint_eq(pg.guest[0].gfn, GFN + 4);
	ck_assert_uint_eq(pg.guest[0].leaf.state, HS_PAGE_OWNED);

	hs_owner_lookup(&ctx, (pfn0 + 5) << HS_PAGE_SHIFT, &pg);
	ck_assert_uint_eq(pg.nr_guest, 0);

	/* text: pages 0 and 2 differ from page 1 (two VMs), so three entries for 0..2 */
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_owner_text(&ctx, pfn0 << HS_PAGE_SHIFT, 3 * HS_PAGE_SIZE, &sb);
	const char *t = hs_sb_str(&sb);
	ck_assert_msg(strstr(t, "guest s2: VM 0x1000 (VMID 1) gfn 0x48101 rw- MEM "
				"state=SHARED_BORROWED"),
		      "%s", t);
	ck_assert_msg(strstr(t, "guest s2: VM 0x1001 (VMID 2) gfn 0x48110 r-- MEM"), "%s", t);
	ck_assert_msg(strstr(t, "shared with 2 guest mappings"), "%s", t);
	hs_sb_reset(&sb);
	hs_owner_text(&ctx, pfn0 << HS_PAGE_SHIFT, HS_PAGE_SIZE, &sb);
	ck_assert_msg(strstr(hs_sb_str(&sb), "(1 page)"), "%s", hs_sb_str(&sb));
	hs_sb_reset(&sb);
	hs_owner_text(&ctx, (pfn0 + 8) << HS_PAGE_SHIFT, 0, &sb);
	ck_assert_msg(strstr(hs_sb_str(&sb), "owner:    guest (VM 0x1002, gfn 0x48104)"), "%s",
		      hs_sb_str(&sb));
	hs_sb_reset(&sb);
	hs_owner_json(&ctx, (pfn0 + 1) << HS_PAGE_SHIFT, 0, &sb);
	ck_assert_msg(strstr(hs_sb_str(&sb), "\"guest_s2\":[{\"vm\":\"0x1000\",\"vmid\":1,"
					     "\"gfn\":\"0x48101\",\"leaf\":{\"kind\":\"leaf\""),
		      "%s", hs_sb_str(&sb));
	ck_assert_msg(strstr(hs_sb_str(&sb), "\"guest_s2_count\":2"), "%s", hs_sb_str(&sb));
	hs_sb_reset(&sb);
	hs_owner_json(&ctx, (pfn0 + 8) << HS_PAGE_SHIFT, 0, &sb);
	ck_assert_msg(strstr(hs_sb_str(&sb), "\"owner\":\"guest\",\"handle\":\"0x1002\","
					     "\"gfn\":\"0x48104\""),
		      "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	hs_owner_ctx_free(&ctx);

	/* the map: donated vs shared-with-guests */
	struct hs_owner_map map;
	ck_assert_int_eq(hs_owner_map_build(m, &map, &err), 0);
	const struct hs_owner_range *r = hs_owner_map_find(&map, pfn0 << HS_PAGE_SHIFT);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(hs_owner_range_class(r), "shared-guest");
	ck_assert_uint_eq(r->guest_maps, 1);
	ck_assert_uint_eq(r->guest_shares, 1);
	ck_assert_uint_eq(r->end, (pfn0 + 1) << HS_PAGE_SHIFT); /* page 1 has 2 */
	r = hs_owner_map_find(&map, (pfn0 + 1) << HS_PAGE_SHIFT);
	ck_assert_uint_eq(r->guest_maps, 2);
	ck_assert_uint_eq(r->guest_shares, 2);
	ck_assert_uint_eq(r->host_state, HS_PAGE_SHARED_OWNED);
	r = hs_owner_map_find(&map, (pfn0 + 8) << HS_PAGE_SHIFT);
	ck_assert_str_eq(hs_owner_range_class(r), "guest");
	ck_assert_uint_eq(r->owner, HS_OWNER_GUEST);
	ck_assert_uint_eq(r->handle, p);
	ck_assert_uint_eq(r->guest_maps, 1);
	ck_assert_uint_eq(r->start, (pfn0 + 8) << HS_PAGE_SHIFT);
	ck_assert_uint_eq(r->end, (pfn0 + 9) << HS_PAGE_SHIFT);
	r = hs_owner_map_find(&map, (pfn0 + 5) << HS_PAGE_SHIFT);
	ck_assert_str_eq(hs_owner_range_class(r), "host");
	hs_sb_init(&sb);
	hs_owner_map_json(&map, &sb);
	ck_assert_msg(strstr(hs_sb_str(&sb), "\"class\":\"shared-guest\""), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	hs_owner_map_free(&map);
}
END_TEST

START_TEST(trace_shows_guest_changes_and_stays_clean)
{
	uint64_t a = vm_new(false);
	struct hs_trace *t;
	struct hs_error err = {0};
	ck_assert_msg(hs_trace_start(m, HS_TRACE_F_DIFF | HS_TRACE_F_CHECK, &t, &err) == 0, "%s",
		      err.msg);
	share(a, pfn0, GFN, 2, HS_PROT_RW);
	struct hs_vm_exit x;
	ck_assert_int_eq(hs_vm_run(m, 0, HS_VCPU_OP_WRITE, IPA(GFN), 5, &x, &err), 0);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_WRITE);
	unshare(a, GFN, 2);
	bool saw_share = false, saw_unshare = false;
	for (size_t i = 0; i < hs_trace_count(t); i++) {
		const struct hs_trace_entry *e = hs_trace_get(t, i);
		ck_assert_msg(e->checked && e->nr_violations == 0, "%s: %zu violations (%s)",
			      e->name, e->nr_violations, e->nr_stored ? e->violations[0].msg : "");
		if (e->nr == HS_HC_host_share_guest)
			saw_share = hs_diff_pages(&e->diff, HS_SNAP_GUEST_S2, HS_CHG_MAPPED) == 2;
		if (e->nr == HS_HC_host_unshare_guest)
			saw_unshare =
			    hs_diff_pages(&e->diff, HS_SNAP_GUEST_S2, HS_CHG_UNMAPPED) == 2;
	}
	ck_assert(saw_share);
	ck_assert(saw_unshare);
	hs_trace_stop(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect_guest");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, snapshot_has_every_vm_stage2_from_the_hyp_table);
	tcase_add_test(tc, diff_reports_changes_per_vm);
	tcase_add_test(tc, owner_reports_guest_mappings_and_annotations);
	tcase_add_test(tc, clean_through_share_donate_unshare_teardown);
	tcase_add_test(tc, clean_with_ten_vms);
	tcase_add_test(tc, trace_shows_guest_changes_and_stays_clean);
	tcase_add_test(tc, mutation_guest_leaf_state_bits);
	tcase_add_test(tc, mutation_guest_share_count);
	tcase_add_test(tc, mutation_guest_annotation_gfn);
	tcase_add_test(tc, mutation_duplicate_vmid_and_table_refcount);
	tcase_add_test(tc, mutation_guest_maps_hyp_page);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
