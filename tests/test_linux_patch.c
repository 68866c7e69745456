/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the patching Linux's host does to its hypervisor before the first
 * entry (emu/host/linux_patch.c, linux_caps.c) and of the A64 encoders it uses, on
 * synthetic images in a buffer: no kernel object needed. Golden encodings are what
 * GNU as assembles for the same instructions.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "a64_insn.h"
#include "linux_patch.h"

#define BASE 0x40200000ULL
#define SIZE 0x4000ULL
#define A72_MIDR 0x410fd083ULL

static uint8_t img[SIZE];
static struct hs_lx_buf buf = {img, BASE, SIZE};

static uint32_t rd32(uint64_t a)
{
	uint32_t v;
	memcpy(&v, img + (a - BASE), 4);
	return v;
}
static void wr32(uint64_t a, uint32_t v)
{
	memcpy(img + (a - BASE), &v, 4);
}
static void wr64(uint64_t a, uint64_t v)
{
	memcpy(img + (a - BASE), &v, 8);
}
static uint64_t rd64(uint64_t a)
{
	uint64_t v;
	memcpy(&v, img + (a - BASE), 8);
	return v;
}

/* One .altinstructions entry at e: orig and alt are absolute link addresses. */
static void alt_entry(uint64_t e, uint64_t orig, uint64_t alt, uint16_t cap, uint8_t olen,
		      uint8_t alen)
{
	int32_t o = (int32_t)(orig - e), a = (int32_t)(alt - (e + 4));
	memcpy(img + (e - BASE), &o, 4);
	memcpy(img + (e - BASE) + 4, &a, 4);
	memcpy(img + (e - BASE) + 8, &cap, 2);
	img[e - BASE + 10] = olen;
	img[e - BASE + 11] = alen;
}

static const char *fake_sym(void *ud, uint64_t addr, uint64_t *off)
{
	(void)ud;
	*off = 0;
	if (addr == BASE + 0x3000)
		return "kvm_update_va_mask";
	if (addr == BASE + 0x3010)
		return "__kvm_nvhe_alt_cb_patch_nops"; /* the image-vars.h alias */
	if (addr == BASE + 0x3020)
		return "kvm_get_kimage_voffset";
	if (addr == BASE + 0x3030)
		return "mystery_callback";
	*off = addr - BASE;
	return "image";
}

static struct hs_lx_caps caps;
static struct hs_lx_cpu a72;
static struct hs_lx_layout layout;
static struct hs_patch_log plog;
static struct hs_lx_patch_ctx ctx;

static void setup(void)
{
	memset(img, 0, sizeof(img));
	const char text[] = "0 ARM64_ALWAYS_BOOT\n1 ARM64_ALWAYS_SYSTEM\n"
			    "2 ARM64_HAS_LSE_ATOMICS\n3 ARM64_WORKAROUND_SPECULATIVE_AT\n"
			    "4 ARM64_HAS_NO_SUCH_THING\n";
	struct hs_error err;
	ck_assert_int_eq(hs_lx_caps_parse(text, sizeof(text) - 1, &caps, &err), 0);
	/* QEMU's Cortex-A72: v8.0, no LSE, PARange 44 bits, AArch32 at EL0-EL3. */
	a72 = (struct hs_lx_cpu){.midr = A72_MIDR,
				 .ctr = 0x8444c004,
				 .pfr0 = 0x2222,
				 .isar0 = 0x11120,
				 .mmfr0 = 0x1124,
				 .dfr0 = 0x10305106};
	hs_lx_layout_compute(0x40000000, 1ULL << 30, 0x40202000, 48, &layout);
	layout.kimage_voffset = 0;
	layout.protected_mode = true;
	layout.bhb_mitigation_config = true;
	memset(&plog, 0, sizeof(plog));
	ctx = (struct hs_lx_patch_ctx){&buf, &caps, &a72, &layout, fake_sym, NULL, &plog};
}

static void teardown(void)
{
	hs_lx_caps_free(&caps);
	hs_patch_log_free(&plog);
}

START_TEST(encoders_match_the_assembler)
{
	ck_assert_uint_eq(hs_a64_and_low_ones(0, 0, 30), 0x92407400u);
	ck_assert_uint_eq(hs_a64_extr(0, 0, 0, 30), 0x93c07800u);
	ck_assert_uint_eq(hs_a64_add_imm(0, 0, 0x20000), 0x91408000u);
	ck_assert_uint_eq(hs_a64_add_imm(0, 0, 5), 0x91001400u);
	ck_assert_uint_eq(hs_a64_extr(0, 0, 0, 34), 0x93c08800u);
	ck_assert_uint_eq(hs_a64_movw(3, 0x1234, 0, false), 0xd2824683u);
	ck_assert_uint_eq(hs_a64_movw(3, 0x5678, 16, true), 0xf2aacf03u);
	ck_assert_uint_eq(hs_a64_movw(3, 0x9abc, 48, true), 0xf2f35783u);
	ck_assert_uint_eq(hs_a64_br(0), 0xd61f0000u);
	ck_assert_uint_eq(hs_a64_b(0x24, 0x124), 0x14000040u);
	/* ADD cannot take an immediate with bits in both halves. */
	ck_assert_uint_eq(hs_a64_add_imm(0, 0, 0x1001), HS_A64_BAD);
	ck_assert_uint_eq(hs_a64_b(0, 1ULL << 28), HS_A64_BAD);
}
END_TEST

START_TEST(branch_and_adrp_offsets_round_trip)
{
	ck_assert(hs_a64_is_branch_imm(0xb4ffffc1u)); /* cbz x1, .-8 */
	ck_assert_int_eq(hs_a64_branch_offset(0xb4ffffc1u), -8);
	ck_assert_int_eq(hs_a64_branch_offset(0x36180082u), 16); /* tbz w2, #3, .+16 */
	ck_assert_uint_eq(hs_a64_set_branch_offset(0x36180082u, 16), 0x36180082u);
	ck_assert_uint_eq(hs_a64_set_branch_offset(0x36180082u, 1 << 20), HS_A64_BAD);
	uint32_t adrp = hs_a64_adrp_set_offset(0x90000000u, -0x5000);
	ck_assert(hs_a64_is_adrp(adrp));
	ck_assert_int_eq(hs_a64_adrp_offset(adrp), -0x5000);
	ck_assert(hs_a64_uses_literal(0x58000040u)); /* ldr x0, .+8 */
	ck_assert(hs_a64_uses_literal(0x10000001u)); /* adr x1, . */
	ck_assert(!hs_a64_uses_literal(0x91001400u));
}
END_TEST

START_TEST(layout_follows_ram_size_and_idmap_half)
{
	struct hs_lx_layout l;
	hs_lx_layout_compute(0x40000000, 1ULL << 30, 0x40202000, 48, &l);
	ck_assert_uint_eq(l.tag_lsb, 30);
	ck_assert_uint_eq(l.tag_val << l.tag_lsb, 1ULL << 47);
	ck_assert_uint_eq(hs_lx_pa_to_hyp_va(&l, 0x40001000), 0x800000001000ULL);
	hs_lx_layout_compute(0x40000000, 16ULL << 30, 0x40202000, 48, &l);
	ck_assert_uint_eq(l.tag_lsb, 34);
	/* An idmap page in the upper half puts the linear map in the lower: no tag. */
	hs_lx_layout_compute(0x800000000000ULL, 1ULL << 30, 0x800000202000ULL, 48, &l);
	ck_assert_uint_eq(l.tag_val, 0);
}
END_TEST

START_TEST(capabilities_of_a_cortex_a72)
{
	char why[200];
	ck_assert_int_eq(hs_lx_cap_decide("ARM64_ALWAYS_SYSTEM", &a72, &layout, why, sizeof(why)),
			 1);
	ck_assert_int_eq(hs_lx_cap_decide("ARM64_HAS_LSE_ATOMICS", &a72, &layout, why, sizeof(why)),
			 0);
	ck_assert_ptr_nonnull(strstr(why, "Atomic=0"));
	/* Erratum 1319367 lists every Cortex-A72. */
	ck_assert_int_eq(
	    hs_lx_cap_decide("ARM64_WORKAROUND_SPECULATIVE_AT", &a72, &layout, why, sizeof(why)),
	    1);
	ck_assert_int_eq(
	    hs_lx_cap_decide("ARM64_WORKAROUND_834220", &a72, &layout, why, sizeof(why)), 0);
	ck_assert_int_eq(hs_lx_cap_decide("ARM64_HAS_32BIT_EL1", &a72, &layout, why, sizeof(why)),
			 1);
	ck_assert_int_eq(hs_lx_cap_decide("ARM64_HAS_PMUV3", &a72, &layout, why, sizeof(why)), 1);
	ck_assert_int_eq(
	    hs_lx_cap_decide("ARM64_KVM_PROTECTED_MODE", &a72, &layout, why, sizeof(why)), 1);
	ck_assert_int_eq(
	    hs_lx_cap_decide("ARM64_HAS_NO_SUCH_THING", &a72, &layout, why, sizeof(why)), -ENOENT);
	/* An A57 r1p2 has erratum 834220. */
	struct hs_lx_cpu a57 = a72;
	a57.midr = 0x411fd072;
	ck_assert_int_eq(
	    hs_lx_cap_decide("ARM64_WORKAROUND_834220", &a57, &layout, why, sizeof(why)), 1);
}
END_TEST

START_TEST(spectre_state_of_a_cortex_a72_without_smccc_1_1)
{
	struct hs_lx_spectre s;
	hs_lx_spectre_state(&a72, &s);
	ck_assert(s.v2_vulnerable);
	ck_assert(s.v3a);
	ck_assert_uint_eq(s.bhb_k, 8);
	ck_assert(!s.bhb_loop); /* no point mitigating BHB alone */
	ck_assert_uint_eq(s.hyp_vector_slot, 2);
}
END_TEST

START_TEST(feature_alternative_replaces_and_retargets_branches)
{
	struct hs_error err;
	uint64_t site = BASE + 0x100, repl = BASE + 0x2000;
	wr32(site, HS_A64_NOP);
	wr32(site + 4, HS_A64_NOP);
	wr32(repl, 0x91001400u);			  /* add x0, x0, #5 */
	wr32(repl + 4, hs_a64_b(repl + 4, BASE + 0x800)); /* b outside the replacement */
	alt_entry(BASE + 0x1000, site, repl, 3 /* SPECULATIVE_AT: present */, 8, 8);
	alt_entry(BASE + 0x100c, site + 0x40, repl, 2 /* LSE: absent */, 8, 8);
	wr32(site + 0x40, 0xd503201fu);
	ck_assert_int_eq(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x1018, &err), 0);
	ck_assert_uint_eq(rd32(site), 0x91001400u);
	ck_assert_uint_eq(rd32(site + 4), hs_a64_b(site + 4, BASE + 0x800));
	ck_assert_uint_eq(rd32(site + 0x40), HS_A64_NOP); /* left */
	ck_assert_uint_eq(plog.n, 2);
	ck_assert(plog.v[0].changed);
	ck_assert(!plog.v[1].changed);
	ck_assert_ptr_nonnull(strstr(plog.v[1].what, "absent"));
}
END_TEST

START_TEST(kern_hyp_va_callback_writes_the_mask_rotate_tag_sequence)
{
	struct hs_error err;
	uint64_t site = BASE + 0x200;
	/* kern_hyp_va x0: and #1; ror #1; add #0; add #0, lsl 12; ror #63 */
	uint32_t orig[5] = {0x92400000u, 0x93c00400u, 0x91000000u, 0x91400000u, 0x93c0fc00u};
	for (int i = 0; i < 5; i++)
		wr32(site + 4 * i, orig[i]);
	alt_entry(BASE + 0x1000, site, BASE + 0x3000, 0x8000 | 1, 20, 0);
	ck_assert_int_eq(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x100c, &err), 0);
	uint32_t want[5] = {0x92407400u, 0x93c07800u, HS_A64_BAD, 0x91408000u, 0x93c08800u};
	want[2] = 0x91000000u; /* tag_val & 0xfff = 0: add x0, x0, #0 */
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(rd32(site + 4 * i), want[i]);
	ck_assert_int_eq(plog.v[0].kind, HS_PATCH_CALLBACK);
}
END_TEST

START_TEST(kimage_voffset_and_nops_callbacks)
{
	struct hs_error err;
	layout.kimage_voffset = (int64_t)0xffff7fffc0000000ULL;
	uint64_t s1 = BASE + 0x300, s2 = BASE + 0x320;
	for (int i = 0; i < 4; i++)
		wr32(s1 + 4 * i, hs_a64_movw(5, 0, 16 * i, i));
	wr32(s2, 0x14000010u);
	alt_entry(BASE + 0x1000, s1, BASE + 0x3020, 0x8000 | 1, 16, 0);
	alt_entry(BASE + 0x100c, s2, BASE + 0x3010, 0x8000 | 1, 4, 0);
	ck_assert_int_eq(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x1018, &err), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(
		    rd32(s1 + 4 * i),
		    hs_a64_movw(5, (uint16_t)((uint64_t)layout.kimage_voffset >> (16 * i)), 16 * i,
				i));
	ck_assert_uint_eq(rd32(s2), HS_A64_NOP);
}
END_TEST

START_TEST(undecidable_sites_are_errors_naming_them)
{
	struct hs_error err;
	alt_entry(BASE + 0x1000, BASE + 0x100, BASE + 0x2000, 4 /* no rule */, 4, 4);
	ck_assert_int_eq(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x100c, &err),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "ARM64_HAS_NO_SUCH_THING"));
	ck_assert_ptr_nonnull(strstr(err.msg, "image+0x100"));
	alt_entry(BASE + 0x1000, BASE + 0x100, BASE + 0x2000, 77 /* not in the list */, 4, 4);
	ck_assert_int_eq(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x100c, &err),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "cpucap 77"));
	alt_entry(BASE + 0x1000, BASE + 0x100, BASE + 0x3030, 0x8000 | 1, 4, 0);
	ck_assert_int_ne(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x100c, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "mystery_callback"));
	/* A table that is not a whole number of entries. */
	ck_assert_int_eq(hs_lx_apply_alternatives(&ctx, BASE + 0x1000, BASE + 0x1005, &err),
			 -EINVAL);
}
END_TEST

/* A jump entry at e for a site, its target and a key (flags in the low bits). */
static void jump_entry(uint64_t e, uint64_t code, uint64_t target, uint64_t key, int flags)
{
	int32_t c = (int32_t)(code - e), t = (int32_t)(target - (e + 4));
	int64_t k = (int64_t)(key - (e + 8)) | flags;
	memcpy(img + (e - BASE), &c, 4);
	memcpy(img + (e - BASE) + 4, &t, 4);
	memcpy(img + (e - BASE) + 8, &k, 8);
}

START_TEST(jump_labels_follow_the_key_and_the_branch_bit)
{
	struct hs_error err;
	uint64_t key = BASE + 0x3800, site = BASE + 0x400, target = BASE + 0x480;
	jump_entry(BASE + 0x1100, site, target, key, 0);     /* static_branch_unlikely */
	jump_entry(BASE + 0x1110, site + 4, target, key, 1); /* static_branch_likely */
	wr32(site, HS_A64_NOP);
	wr32(site + 4, hs_a64_b(site + 4, target));
	ck_assert_int_eq(hs_lx_apply_jump_labels(&ctx, BASE + 0x1100, BASE + 0x1120, 0, &err), 0);
	ck_assert_uint_eq(rd32(site), HS_A64_NOP);
	ck_assert_uint_eq(rd32(site + 4), hs_a64_b(site + 4, target));
	wr32(key, 1); /* the host enables the key */
	ck_assert_int_eq(hs_lx_apply_jump_labels(&ctx, BASE + 0x1100, BASE + 0x1120, key, &err), 0);
	ck_assert_uint_eq(rd32(site), hs_a64_b(site, target));
	ck_assert_uint_eq(rd32(site + 4), HS_A64_NOP);
	ck_assert_uint_eq(plog.n, 4);
}
END_TEST

START_TEST(hyp_relocations_become_hyp_vas)
{
	struct hs_error err;
	uint64_t ptr = BASE + 0x500, rel = BASE + 0x1200;
	wr64(ptr, BASE + 0x1000); /* a kernel-image pointer */
	int32_t off = (int32_t)(ptr - rel);
	memcpy(img + (rel - BASE), &off, 4);
	ck_assert_int_eq(hs_lx_apply_hyp_relocs(&ctx, rel, rel + 4, &err), 0);
	ck_assert_uint_eq(rd64(ptr), 0x800000201000ULL + 0x0000);
	/* An entry pointing outside the image is refused. */
	off = 0x7ffffff0;
	memcpy(img + (rel - BASE), &off, 4);
	ck_assert_int_eq(hs_lx_apply_hyp_relocs(&ctx, rel, rel + 4, &err), -EINVAL);
}
END_TEST

static Suite *linux_patch_suite(void)
{
	Suite *s = suite_create("linux_patch");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, encoders_match_the_assembler);
	tcase_add_test(tc, branch_and_adrp_offsets_round_trip);
	tcase_add_test(tc, layout_follows_ram_size_and_idmap_half);
	tcase_add_test(tc, capabilities_of_a_cortex_a72);
	tcase_add_test(tc, spectre_state_of_a_cortex_a72_without_smccc_1_1);
	tcase_add_test(tc, feature_alternative_replaces_and_retargets_branches);
	tcase_add_test(tc, kern_hyp_va_callback_writes_the_mask_rotate_tag_sequence);
	tcase_add_test(tc, kimage_voffset_and_nops_callbacks);
	tcase_add_test(tc, undecidable_sites_are_errors_naming_them);
	tcase_add_test(tc, jump_labels_follow_the_key_and_the_branch_bit);
	tcase_add_test(tc, hyp_relocations_become_hyp_vas);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(linux_patch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
