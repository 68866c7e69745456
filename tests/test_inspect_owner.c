/* SPDX-License-Identifier: MIT */
/* Ownership queries and the ownership map on a real boot. */
#include <check.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "inspect_owner.h"
#include "pt_decode.h"
#include "testutil.h"

static struct hs_machine *m;
static struct hs_owner_ctx ctx;

static void setup(void)
{
	m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	ck_assert_msg(hs_owner_ctx_build(m, &ctx, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	hs_owner_ctx_free(&ctx);
	hs_machine_destroy(m);
}

static uint64_t sym(const char *name)
{
	uint64_t pa = 0;
	struct hs_error err = {0};
	ck_assert_msg(hs_sym_pa(m, name, &pa, &err) == 0, "%s", err.msg);
	return pa;
}

static bool has_va(const struct hs_owner_page *p, uint64_t va, unsigned perm)
{
	for (unsigned i = 0; i < p->nr_el2 && i < HS_OWNER_MAX_VAS; i++)
		if (p->el2[i].va == va && p->el2[i].leaf.perm == perm)
			return true;
	return false;
}

START_TEST(trampoline_mapped_at_its_idmap_address)
{
	uint64_t tramp = sym("__pkvm_init_switch_pgd"), idmap = sym("__hyp_idmap_text_start");
	ck_assert_uint_eq(tramp & ~(HS_PAGE_SIZE - 1), idmap & ~(HS_PAGE_SIZE - 1));
	struct hs_owner_page p;
	hs_owner_lookup(&ctx, tramp, &p);
	ck_assert_msg(has_va(&p, tramp & ~(HS_PAGE_SIZE - 1), HS_PT_PERM_R | HS_PT_PERM_X),
		      "the idmap page is not mapped RX at VA == PA");
	ck_assert_uint_eq(p.owner, HS_OWNER_HYP);
	/*
	 * Every VA reported for the page translates back to it: the identity
	 * alias, and the linear alias when the hypervisor maps one (today it
	 * maps the idmap page only at its identity address, as Linux does).
	 */
	const struct hs_layout *l = hs_machine_layout(m);
	for (unsigned i = 0; i < p.nr_el2; i++)
		ck_assert(p.el2[i].va == p.pa || p.el2[i].va == hs_layout_hyp_va(l, p.pa));
}
END_TEST

START_TEST(hyp_text_mapped_in_the_linear_map)
{
	uint64_t text = sym("__hyp_text_start");
	const struct hs_layout *l = hs_machine_layout(m);
	struct hs_owner_page p;
	hs_owner_lookup(&ctx, text, &p);
	ck_assert_uint_ge(p.nr_el2, 1);
	ck_assert_msg(has_va(&p, hs_layout_hyp_va(l, text & ~(HS_PAGE_SIZE - 1)),
			     HS_PT_PERM_R | HS_PT_PERM_X),
		      "hyp text not mapped RX at its linear VA");
}
END_TEST

START_TEST(hyp_pages_annotated_hyp_in_host_s2)
{
	struct hs_owner_page p;
	hs_owner_lookup(&ctx, sym("__hyp_text_start"), &p);
	ck_assert_uint_eq(p.owner, HS_OWNER_HYP);
	ck_assert(p.s2_present);
	ck_assert_uint_eq(p.s2.kind, HS_SNAP_ANNOT);
	ck_assert_uint_eq(p.s2.owner, HS_OWNER_HYP);
	ck_assert(p.vm_backed);
	ck_assert_uint_eq(HS_VM_HOST(p.vm), HS_PAGE_NOPAGE);
	ck_assert_uint_eq(HS_VM_HYP(p.vm), HS_PAGE_OWNED);

	/* the whole pool, per the ownership map */
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	struct hs_owner_map map;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_owner_map_build(m, &map, &err), 0);
	for (uint64_t pa = bi.pool_pa; pa < bi.pool_pa + bi.pool_size;) {
		const struct hs_owner_range *r = hs_owner_map_find(&map, pa);
		ck_assert_ptr_nonnull(r);
		ck_assert_msg(r->owner == HS_OWNER_HYP, "pool page %#lx owned by %u",
			      (unsigned long)pa, r->owner);
		ck_assert_uint_eq(r->host_state, HS_PAGE_NOPAGE);
		ck_assert_uint_eq(r->hyp_state, HS_PAGE_OWNED);
		pa = r->end;
	}
	hs_owner_map_free(&map);
}
END_TEST

START_TEST(owner_map_is_compact_and_covers_memory)
{
	struct hs_owner_map map;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_owner_map_build(m, &map, &err), 0);
	ck_assert_uint_eq(map.pages, HS_RAM_SIZE_DEFAULT >> HS_PAGE_SHIFT);
	uint64_t pages = 0;
	for (size_t i = 0; i < map.nr; i++) {
		pages += (map.r[i].end - map.r[i].start) >> HS_PAGE_SHIFT;
		if (i) {
			ck_assert_uint_eq(map.r[i - 1].end, map.r[i].start);
			ck_assert(map.r[i - 1].owner != map.r[i].owner ||
				  map.r[i - 1].host_state != map.r[i].host_state ||
				  map.r[i - 1].hyp_state != map.r[i].hyp_state);
		}
	}
	ck_assert_uint_eq(pages, map.pages);
	ck_assert_uint_le(map.nr, 16);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_owner_map_json(&map, &sb);
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "\"owner\":\"hyp\""));
	hs_sb_free(&sb);
	hs_owner_map_free(&map);
}
END_TEST

START_TEST(host_page_empty_until_faulted_in)
{
	uint64_t pa = 0x60000000;
	struct hs_owner_page p;
	hs_owner_lookup(&ctx, pa, &p);
	ck_assert(!p.s2_present);
	ck_assert_uint_eq(p.owner, HS_OWNER_HOST);
	ck_assert_uint_eq(p.nr_el2, 0);

	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	hs_owner_ctx_free(&ctx);
	ck_assert_int_eq(hs_owner_ctx_build(m, &ctx, &err), 0);
	hs_owner_lookup(&ctx, pa, &p);
	ck_assert(p.s2_present);
	ck_assert_uint_eq(p.s2.kind, HS_SNAP_LEAF);
	ck_assert_uint_eq(p.s2.oa + (pa - p.s2.start), pa);
	ck_assert_uint_eq(p.s2.state, HS_PAGE_OWNED);
}
END_TEST

START_TEST(text_and_json_describe_a_range)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	uint64_t idmap = sym("__hyp_idmap_text_start") & ~(HS_PAGE_SIZE - 1);
	hs_owner_text(&ctx, idmap, 2 * HS_PAGE_SIZE, &sb);
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "owner:    hyp"));
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "annotation OWNER hyp"));
	hs_sb_reset(&sb);
	hs_owner_json(&ctx, idmap, 0, &sb);
	const char *j = hs_sb_str(&sb);
	ck_assert_msg(j[0] == '[' && strstr(j, "\"owner\":\"hyp\"") &&
			  strstr(j, "\"kind\":\"annotation\""),
		      "%s", j);
	hs_sb_free(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect_owner");
	TCase *tc = tcase_create("booted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, trampoline_mapped_at_its_idmap_address);
	tcase_add_test(tc, hyp_text_mapped_in_the_linear_map);
	tcase_add_test(tc, hyp_pages_annotated_hyp_in_host_s2);
	tcase_add_test(tc, owner_map_is_compact_and_covers_memory);
	tcase_add_test(tc, host_page_empty_until_faulted_in);
	tcase_add_test(tc, text_and_json_describe_a_range);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
