/* SPDX-License-Identifier: MIT */
/*
 * Inspection without a machine: a host stage 2 and an EL2 stage 1 built by
 * hand in a plain buffer standing for RAM, with owner annotations and page
 * states in the bundled hypervisor's encoding, and a vmemmap given as ranges.
 * The snapshot walks them through struct hs_phys; ownership, the ownership
 * map, the diff and the checker's page and EL2 rules run on that snapshot,
 * exactly as they do on a live machine or a dump (no Unicorn, no CPU).
 *
 * The scene, 16 pages of memory at MEM:
 *   0-7    host-owned, identity-mapped in the host stage 2
 *   8-11   hyp-owned: HYP annotations in the host stage 2, mapped at EL2
 *   12     donated to a guest: GUEST(handle 0x1000, gfn 0x80) annotation
 *   13     shared by the host with hyp: SHARED_OWNED / SHARED_BORROWED, pinned
 *   14-15  host-owned
 * Each corruption case breaks one fact and expects the rule that names it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "inspect_check_priv.h"
#include "inspect_owner.h"
#include "inspect_snapshot.h"
#include "profile.h"
#include "pt_walk.h"

#define BIT(n) (1ULL << (n))
#define RAM_BASE 0x40000000ULL
#define RAM_SIZE (8ULL << 20)
#define PG 4096ULL
#define MEM 0x40400000ULL /* the memory region the scene describes */
#define NPAGES 16
#define HYP_VA 0x0000800000000000ULL /* where EL2 maps pages 8-11 and 13 */
#define VTCR_40 (24ULL | (1ULL << 6) | (2ULL << 16) | BIT(19))
#define TCR_EL2_48 (16ULL | (4ULL << 16) | BIT(23) | BIT(31))

static uint8_t *ram;
static uint64_t next_table;
static struct hs_phys P;
static struct hs_pt_regime s2, s1;
static uint64_t vm_val[NPAGES]; /* the vmemmap entry of each page, normalised */

static int ram_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	(void)ud;
	if (pa < RAM_BASE || pa + len > RAM_BASE + RAM_SIZE || pa + len < pa)
		return -1;
	memcpy(buf, ram + (pa - RAM_BASE), len);
	return 0;
}

static uint64_t *slot(uint64_t pa)
{
	ck_assert(pa >= RAM_BASE && pa + 8 <= RAM_BASE + RAM_SIZE);
	return (uint64_t *)(ram + (pa - RAM_BASE));
}

static uint64_t new_table(void)
{
	uint64_t pa = next_table;
	next_table += PG;
	ck_assert_uint_lt(next_table, MEM);
	return pa;
}

/* The level-3 entry for ia in regime r, creating tables on the way. */
static uint64_t *l3(const struct hs_pt_regime *r, uint64_t ia)
{
	uint64_t table = r->root_pa, entries = hs_pt_root_entries(r);
	for (int l = r->start_level;; l++) {
		uint64_t ea = table + ((ia >> hs_pt_level_shift(r, l)) & (entries - 1)) * 8;
		if (l == 3)
			return slot(ea);
		if (!(*slot(ea) & 1))
			*slot(ea) = new_table() | 3;
		table = *slot(ea) & 0x0000fffffffff000ULL;
		entries = 512;
	}
}

static uint64_t page(unsigned i)
{
	return MEM + i * PG;
}

/* Host stage-2 page: Normal WB, RWX, AF, SW state. */
static uint64_t s2_page(uint64_t pa, unsigned state)
{
	return pa | (0xfULL << 2) | (3ULL << 6) | (3ULL << 8) | BIT(10) |
	       ((uint64_t)state << HS_PTE_STATE_SHIFT) | 3;
}

/* EL2 stage-1 page: AttrIndx 0, RW, AF, XN (unless exec), SW state. */
static uint64_t s1_page(uint64_t pa, unsigned state, bool exec)
{
	return pa | (1ULL << 6) | (3ULL << 8) | BIT(10) | (exec ? 0 : BIT(54)) |
	       ((uint64_t)state << HS_PTE_STATE_SHIFT) | 3;
}

static uint64_t vmval(unsigned host, unsigned hyp, unsigned rc)
{
	return rc | ((uint64_t)host << 24) | ((uint64_t)hyp << 28);
}

static void setup(void)
{
	ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	next_table = RAM_BASE + 2 * PG; /* 0-1: the concatenated stage-2 root */
	P.read = ram_read;
	P.ud = NULL;
	char err[160];
	ck_assert_int_eq(hs_pt_regime_s2(VTCR_40, RAM_BASE, &s2, err, sizeof(err)), 0);
	uint64_t s1_root = new_table();
	ck_assert_int_eq(hs_pt_regime_el2(TCR_EL2_48, s1_root, 0xff, &s1, err, sizeof(err)), 0);
	s2.swenc = s1.swenc = &hs_hypscope_swenc;

	for (unsigned i = 0; i < NPAGES; i++) {
		uint64_t pa = page(i);
		if (i >= 8 && i <= 11) {
			*l3(&s2, pa) = hs_annotation(HS_OWNER_HYP, 0);
			*l3(&s1, HYP_VA + (i - 8) * PG) = s1_page(pa, HS_PAGE_OWNED, false);
			vm_val[i] = vmval(HS_PAGE_NOPAGE, HS_PAGE_OWNED, 0);
		} else if (i == 12) {
			*l3(&s2, pa) = hs_annotation(HS_OWNER_GUEST, 0x1000 | (0x80ULL << 16));
			vm_val[i] = vmval(HS_PAGE_NOPAGE, HS_PAGE_NOPAGE, 0);
		} else if (i == 13) {
			*l3(&s2, pa) = s2_page(pa, HS_PAGE_SHARED_OWNED);
			*l3(&s1, HYP_VA + 4 * PG) = s1_page(pa, HS_PAGE_SHARED_BORROWED, false);
			vm_val[i] = vmval(HS_PAGE_SHARED_OWNED, HS_PAGE_SHARED_BORROWED, 1);
		} else {
			*l3(&s2, pa) = s2_page(pa, HS_PAGE_OWNED);
			vm_val[i] = vmval(HS_PAGE_OWNED, HS_PAGE_NOPAGE, 0);
		}
	}
}

static void teardown(void)
{
	free(ram);
	ram = NULL;
}

/* Walk both tables into s and give it the memory region and the vmemmap runs. */
static void snap(struct hs_snapshot *s)
{
	struct hs_error err = {0};
	hs_snapshot_init(s);
	s->flags = HS_SNAP_F_TABLES;
	ck_assert_msg(hs_snapshot_walk(s, HS_SNAP_HOST_S2, &P, &s2, &err) == 0, "%s", err.msg);
	ck_assert_msg(hs_snapshot_walk(s, HS_SNAP_HYP_S1, &P, &s1, &err) == 0, "%s", err.msg);
	s->s2 = s2;
	s->s1 = s1;
	s->have_s1 = s->have_s2 = s->have_vm = true;
	s->nr_mem = 1;
	s->mem[0] = (struct hs_memblock_region){.base = MEM, .size = NPAGES * PG};
	s->vm = calloc(NPAGES, sizeof(*s->vm));
	ck_assert_ptr_nonnull(s->vm);
	s->cap_vm = NPAGES;
	for (unsigned i = 0; i < NPAGES; i++) {
		if (s->nr_vm && s->vm[s->nr_vm - 1].val == vm_val[i]) {
			s->vm[s->nr_vm - 1].end += PG;
			continue;
		}
		s->vm[s->nr_vm++] = (struct hs_snap_vm_range){
		    .start = page(i), .end = page(i) + PG, .val = vm_val[i], .backed = true};
	}
}

/* The page and EL2 rules over the whole scene. */
static void check(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	hs_check_report_init(rep);
	hs_chk_pages(s, MEM, MEM + NPAGES * PG, rep);
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++)
		hs_chk_el2_range(s, i, rep);
}

START_TEST(owner_of_each_kind_of_page)
{
	struct hs_snapshot s;
	snap(&s);
	struct hs_owner_ctx ctx = {0};
	struct hs_error err = {0};
	ck_assert_int_eq(hs_owner_ctx_from_snapshot(&ctx, &s, &err), 0);
	struct hs_owner_page p;
	hs_owner_lookup(&ctx, page(3) + 0x123, &p);
	ck_assert_uint_eq(p.owner, HS_OWNER_HOST);
	ck_assert(p.s2_present);
	ck_assert_uint_eq(p.nr_el2, 0);
	hs_owner_lookup(&ctx, page(9), &p);
	ck_assert_uint_eq(p.owner, HS_OWNER_HYP);
	ck_assert_uint_eq(p.nr_el2, 1);
	ck_assert_uint_eq(p.el2[0].va, HYP_VA + PG);
	hs_owner_lookup(&ctx, page(12), &p);
	ck_assert_uint_eq(p.owner, HS_OWNER_GUEST);
	ck_assert_uint_eq(p.guest_handle, 0x1000);
	ck_assert_uint_eq(p.guest_gfn, 0x80);
	hs_owner_lookup(&ctx, page(13), &p);
	ck_assert_uint_eq(p.owner, HS_OWNER_HOST);
	ck_assert_uint_eq(HS_VM_HOST(p.vm), HS_PAGE_SHARED_OWNED);
	ck_assert_uint_eq(p.nr_el2, 1);
	ck_assert_uint_eq(p.el2[0].leaf.state, HS_PAGE_SHARED_BORROWED);
	/* Outside the described memory: no region, no entry. */
	hs_owner_lookup(&ctx, MEM + NPAGES * PG, &p);
	ck_assert_int_eq(p.region, -1);
	hs_owner_ctx_free(&ctx);
}
END_TEST

START_TEST(ownership_map_runs)
{
	struct hs_snapshot s;
	snap(&s);
	struct hs_owner_map map = {0};
	ck_assert_int_eq(hs_owner_map_from_snapshot(&s, &map), 0);
	/* host 0-7, hyp 8-11, guest 12, host shared 13, host 14-15 */
	ck_assert_uint_eq(map.nr, 5);
	ck_assert_uint_eq(map.pages, NPAGES);
	const struct hs_owner_range *r = hs_owner_map_find(&map, page(10));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->start, page(8));
	ck_assert_uint_eq(r->end, page(12));
	ck_assert_str_eq(hs_owner_range_class(r), "hyp");
	r = hs_owner_map_find(&map, page(12));
	ck_assert_str_eq(hs_owner_range_class(r), "guest");
	ck_assert_uint_eq(r->handle, 0x1000);
	hs_owner_map_free(&map);
	hs_snapshot_free(&s);
}
END_TEST

START_TEST(consistent_scene_is_clean)
{
	struct hs_snapshot s;
	snap(&s);
	struct hs_check_report rep;
	check(&s, &rep);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_text(&rep, &sb);
	ck_assert_msg(rep.total == 0, "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	hs_check_report_free(&rep);
	hs_snapshot_free(&s);
}
END_TEST

/* One corruption, the rule that must name it, and the page it must point at. */
struct corruption {
	const char *what;
	const char *rule;
	unsigned page;
};

static const struct corruption corruptions[] = {
    {"vmemmap says the host owns a page annotated HYP", "host-nopage-annot", 9},
    {"an EL2 mapping is writable and executable", "el2-wx", 8},
    {"a host leaf's SW state disagrees with the vmemmap", "s2-state", 3},
    {"a host leaf maps another page (not identity)", "s2-identity", 5},
    {"a non-zero invalid host entry that is no annotation", "s2-malformed", 14},
    {"EL2 maps a host page hyp neither owns nor borrows", "el2-maps-unowned", 2},
    {"a borrowed page mapped at EL2 is not pinned", "el2-pinned", 13},
    {"the host stage 2 maps a page whose host state is NOPAGE", "s2-maps-nopage", 15},
};

static void corrupt(unsigned k)
{
	switch (k) {
	case 0:
		vm_val[9] = vmval(HS_PAGE_OWNED, HS_PAGE_OWNED, 0);
		break;
	case 1:
		*l3(&s1, HYP_VA) &= ~BIT(54);
		break;
	case 2:
		*l3(&s2, page(3)) = s2_page(page(3), HS_PAGE_SHARED_OWNED);
		break;
	case 3:
		*l3(&s2, page(5)) = s2_page(page(6), HS_PAGE_OWNED);
		break;
	case 4:
		*l3(&s2, page(14)) = 0x4; /* bit 0 clear, not an owner annotation */
		break;
	case 5:
		*l3(&s1, HYP_VA + 8 * PG) = s1_page(page(2), HS_PAGE_OWNED, false);
		break;
	case 6:
		vm_val[13] = vmval(HS_PAGE_SHARED_OWNED, HS_PAGE_SHARED_BORROWED, 0);
		break;
	case 7:
		vm_val[15] = vmval(HS_PAGE_NOPAGE, HS_PAGE_OWNED, 0);
		break;
	}
}

START_TEST(each_corruption_is_named)
{
	const struct corruption *c = &corruptions[_i];
	corrupt((unsigned)_i);
	struct hs_snapshot s;
	snap(&s);
	struct hs_check_report rep;
	check(&s, &rep);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_text(&rep, &sb);
	ck_assert_msg(hs_check_count(&rep, c->rule) >= 1, "%s: no %s violation in:\n%s", c->what,
		      c->rule, hs_sb_str(&sb));
	bool at_page = false;
	for (size_t i = 0; i < rep.nr; i++)
		if (!strcmp(rep.v[i].rule, c->rule) && rep.v[i].pa <= page(c->page) &&
		    page(c->page) < rep.v[i].pa + rep.v[i].pages * PG)
			at_page = true;
	ck_assert_msg(at_page, "%s: %s does not point at page %u:\n%s", c->what, c->rule, c->page,
		      hs_sb_str(&sb));
	hs_sb_free(&sb);
	hs_check_report_free(&rep);
	hs_snapshot_free(&s);
}
END_TEST

START_TEST(diff_names_the_one_changed_entry)
{
	struct hs_snapshot a, b;
	snap(&a);
	/* The host shares page 4 with hyp: its host leaf becomes SHARED_OWNED. */
	*l3(&s2, page(4)) = s2_page(page(4), HS_PAGE_SHARED_OWNED);
	snap(&b);
	struct hs_diff d;
	hs_diff_init(&d);
	ck_assert_int_eq(hs_snapshot_diff(&a, &b, &d), 0);
	ck_assert_uint_eq(d.nr, 1);
	ck_assert_int_eq(d.recs[0].table, HS_SNAP_HOST_S2);
	ck_assert_uint_eq(d.recs[0].start, page(4));
	ck_assert_uint_eq(d.recs[0].end, page(5));
	ck_assert_uint_eq(d.recs[0].old_pt.state, HS_PAGE_OWNED);
	ck_assert_uint_eq(d.recs[0].new_pt.state, HS_PAGE_SHARED_OWNED);
	hs_diff_free(&d);
	hs_snapshot_free(&a);
	hs_snapshot_free(&b);
}
END_TEST

START_TEST(malformed_table_pointer_is_counted_not_followed)
{
	/* The host stage 2's level-1 entry for MEM points outside RAM. */
	uint64_t idx = (MEM >> hs_pt_level_shift(&s2, 1)) & (hs_pt_root_entries(&s2) - 1);
	*slot(s2.root_pa + idx * 8) = 0x7fff0000ULL | 3;
	struct hs_snapshot s;
	snap(&s);
	ck_assert_uint_ge(s.nr_malformed, 1);
	struct hs_owner_map map = {0};
	ck_assert_int_eq(hs_owner_map_from_snapshot(&s, &map), 0);
	hs_owner_map_free(&map);
	hs_snapshot_free(&s);
}
END_TEST

static Suite *plain_suite(void)
{
	Suite *s = suite_create("inspect_plain");
	TCase *tc = tcase_create("scene");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, owner_of_each_kind_of_page);
	tcase_add_test(tc, ownership_map_runs);
	tcase_add_test(tc, consistent_scene_is_clean);
	tcase_add_loop_test(tc, each_corruption_is_named, 0,
			    (int)(sizeof(corruptions) / sizeof(corruptions[0])));
	tcase_add_test(tc, diff_names_the_one_changed_entry);
	tcase_add_test(tc, malformed_table_pointer_is_counted_not_followed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plain_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
