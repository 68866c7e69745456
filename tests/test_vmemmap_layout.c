/* SPDX-License-Identifier: MIT */
/*
 * Decoding a vmemmap entry by layout (emu/arch/vmemmap_layout.h) and owners by role
 * (pt_swenc.h), with the three layouts hypscope meets: the bundled hypervisor's
 * (abi.h, also profile_hypscope.c's), Linux 6.x's 4-byte struct hyp_page (no page
 * states) and Linux 7.x's bit fields (hyp state stored ^ 3). Pure functions: no
 * machine. A layout read wrong names the wrong owner or state everywhere (map, owner,
 * check, viz), so each field is pinned here against an entry built by hand.
 */
#include <check.h>
#include <hypscope/abi.h>
#include <stdlib.h>

#include "pt_swenc.h"
#include "vmemmap_layout.h"

static const struct hs_vmemmap_layout bundled = {
    .entry_size = 8,
    .refcount = {0, 16},
    .order = {16, 8},
    .host_state = {24, 4},
    .hyp_state = {28, 2},
    .guest_shares = {32, 32},
    .hyp_state_xor = 3,
    .no_order = HS_NO_ORDER,
};

/* struct hyp_page { unsigned short refcount; unsigned short order; } (6.x memory.h) */
static const struct hs_vmemmap_layout linux6 = {
    .entry_size = 4,
    .refcount = {0, 16},
    .order = {16, 16},
    .no_order = 0xffff,
    .states_in_tables = true,
};

/* { u16 refcount; u8 order; __host_state:4; __hyp_state_comp:4; u32 host_share_guest_count } */
static const struct hs_vmemmap_layout linux7 = {
    .entry_size = 8,
    .refcount = {0, 16},
    .order = {16, 8},
    .host_state = {24, 4},
    .hyp_state = {28, 4},
    .guest_shares = {32, 32},
    .hyp_state_xor = 3,
    .no_order = 0xff,
};

START_TEST(bundled_matches_abi_accessors)
{
	/* refcount 0x1234, order 7, host SHARED_OWNED, hyp SHARED_BORROWED, 5 guest shares */
	uint64_t raw = 0x1234 | 7ULL << 16 | (uint64_t)HS_PAGE_SHARED_OWNED << 24 |
		       (uint64_t)(~HS_PAGE_SHARED_BORROWED & 3) << 28 | 5ULL << 32;
	struct hs_vmemmap_entry e;
	hs_vmemmap_decode(&bundled, raw, &e);
	ck_assert_uint_eq(e.refcount, hs_hyp_page_refcount(raw));
	ck_assert_uint_eq(e.order, hs_hyp_page_order(raw));
	ck_assert_uint_eq(e.host_state, hs_hyp_page_host_state(raw));
	ck_assert_uint_eq(e.hyp_state, hs_hyp_page_hyp_state(raw));
	ck_assert_uint_eq(e.hyp_state, HS_PAGE_SHARED_BORROWED);
	ck_assert_uint_eq(e.guest_shares, 5);
	/* a zeroed entry: host OWNED, hyp NOPAGE (the complement) */
	hs_vmemmap_decode(&bundled, 0, &e);
	ck_assert_uint_eq(e.host_state, HS_PAGE_OWNED);
	ck_assert_uint_eq(e.hyp_state, HS_PAGE_NOPAGE);
	hs_vmemmap_decode(&bundled, (uint64_t)HS_NO_ORDER << 16, &e);
	ck_assert_uint_eq(e.order, HS_VMEMMAP_NO_ORDER);
}
END_TEST

START_TEST(linux6_has_no_states_and_a_16_bit_order)
{
	/* two 4-byte entries in a row: the raw reader takes only entry_size bytes */
	const uint8_t mem[8] = {0x03, 0x00, 0xff, 0xff, 0x01, 0x00, 0x02, 0x00};
	struct hs_vmemmap_entry e;
	hs_vmemmap_decode(&linux6, hs_vmemmap_raw(&linux6, mem), &e);
	ck_assert_uint_eq(e.refcount, 3);
	ck_assert_uint_eq(e.order, HS_VMEMMAP_NO_ORDER); /* HYP_NO_ORDER = USHRT_MAX */
	ck_assert_uint_eq(e.host_state, HS_VMEMMAP_NO_STATE);
	ck_assert_uint_eq(e.hyp_state, HS_VMEMMAP_NO_STATE);
	hs_vmemmap_decode(&linux6, hs_vmemmap_raw(&linux6, mem + 4), &e);
	ck_assert_uint_eq(e.refcount, 1);
	ck_assert_uint_eq(e.order, 2);
	ck_assert_uint_eq(e.guest_shares, 0);
}
END_TEST

START_TEST(linux7_hyp_state_is_stored_complemented)
{
	/* __hyp_state_comp = 0: PKVM_NOPAGE; = 3: OWNED; __host_state = 1: SHARED_OWNED */
	struct hs_vmemmap_entry e;
	hs_vmemmap_decode(&linux7, 0, &e);
	ck_assert_uint_eq(e.hyp_state, 3 /* PKVM_NOPAGE */);
	hs_vmemmap_decode(&linux7, 3ULL << 28 | 1ULL << 24 | 0xffULL << 16 | 2, &e);
	ck_assert_uint_eq(e.hyp_state, 0 /* PKVM_PAGE_OWNED */);
	ck_assert_uint_eq(e.host_state, 1);
	ck_assert_uint_eq(e.order, HS_VMEMMAP_NO_ORDER);
	ck_assert_uint_eq(e.refcount, 2);
}
END_TEST

START_TEST(owners_by_role_whatever_the_ids)
{
	/* Linux 6.x: HOST 0, HYP 1, FFA 2 in bits [9:2]; no guest owner */
	static const char *const names6[] = {"host", "hyp", "ffa"};
	const struct hs_pt_swenc e6 = {.annot_mask = 1ULL << 10,
				       .owner_shift = 2,
				       .owner_bits = 8,
				       .host_owner = 0,
				       .hyp_owner = 1,
				       .guest_owner = -1,
				       .owner_names = names6,
				       .nr_owner_names = 3};
	uint64_t hyp_annot = 1ULL << 2, ffa_annot = 2ULL << 2;
	ck_assert(hs_swenc_is_annotation(&e6, hyp_annot));
	ck_assert_uint_eq(hs_swenc_canon_owner(&e6, hs_swenc_owner(&e6, hyp_annot)), HS_OWNER_HYP);
	/* 6.x's owner 2 is FFA, not a guest (the bundled layout's 2) */
	unsigned ffa = hs_swenc_canon_owner(&e6, hs_swenc_owner(&e6, ffa_annot));
	ck_assert_uint_ne(ffa, HS_OWNER_GUEST);
	ck_assert_str_eq(hs_swenc_canon_owner_name(&e6, ffa), "ffa");
	ck_assert_str_eq(hs_swenc_canon_owner_name(&e6, HS_OWNER_HYP), "hyp");
	ck_assert(!hs_swenc_is_annotation(&e6, hyp_annot | 1ULL << 10)); /* BBM lock */
	/* a guest annotation's metadata by role: handle [15:0], gfn from bit 16 */
	static const char *const names7[] = {"host", "hyp", "guest"};
	const struct hs_pt_swenc e7 = {.owner_shift = 1,
				       .owner_bits = 3,
				       .host_owner = 0,
				       .hyp_owner = 1,
				       .guest_owner = 2,
				       .guest_handle_mask = 0xffff,
				       .guest_gfn_shift = 16,
				       .owner_names = names7,
				       .nr_owner_names = 3};
	uint64_t meta = hs_swenc_canon_meta(&e7, HS_OWNER_GUEST, 0x48100ULL << 16 | 0x1000);
	ck_assert_uint_eq(meta & HS_ANNOT_META_HANDLE_MASK, 0x1000);
	ck_assert_uint_eq(meta >> HS_ANNOT_META_GFN_SHIFT, 0x48100);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmemmap_layout");
	TCase *tc = tcase_create("decode");
	tcase_add_test(tc, bundled_matches_abi_accessors);
	tcase_add_test(tc, linux6_has_no_states_and_a_16_bit_order);
	tcase_add_test(tc, linux7_hyp_state_is_stored_complemented);
	tcase_add_test(tc, owners_by_role_whatever_the_ids);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
