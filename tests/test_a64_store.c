/* SPDX-License-Identifier: MIT */
/* A64 store and load decoding (emu/arch/a64_store.c), table-driven from encodings of the Arm ARM.
 */
#include <check.h>
#include <stdint.h>

#include "a64_store.h"
#include "testutil.h"

/* One instruction: does the decoder take it, and if so the fields it must give. */
struct access_case {
	uint32_t insn;
	const char *text;
	bool decoded;
	unsigned rn;
	int64_t offset;
	int rm;
	unsigned width;
};

static void check_case(const struct access_case *k, bool load)
{
	struct hs_a64_store s;
	bool got = load ? hs_a64_decode_load(k->insn, &s) : hs_a64_decode_store(k->insn, &s);
	ck_assert_msg(got == k->decoded, "%s: %s %d", k->text, load ? "load" : "store", got);
	if (!got)
		return;
	ck_assert_msg(s.rn == k->rn, "%s: rn %u", k->text, s.rn);
	ck_assert_msg(s.offset == k->offset, "%s: offset %lld", k->text, (long long)s.offset);
	ck_assert_msg(s.rm == k->rm, "%s: rm %d", k->text, s.rm);
	ck_assert_msg(s.width == k->width, "%s: width %u", k->text, s.width);
}

static const struct access_case cases[] = {
    {0xa9bc7bfd, "stp x29, x30, [sp, #-0x40]!", true, 31, -0x40, -1, 16},
    {0xa8c17bfd, "ldp x29, x30, [sp], #0x10", false, 0, 0, 0, 0},
    {0xa9017bfd, "stp x29, x30, [sp, #0x10]", true, 31, 0x10, -1, 16},
    {0x29010fe2, "stp w2, w3, [sp, #8]", true, 31, 8, -1, 8},
    {0xf9000020, "str x0, [x1]", true, 1, 0, -1, 8},
    {0xf9000420, "str x0, [x1, #8]", true, 1, 8, -1, 8},
    {0xb8004420, "str w0, [x1], #4", true, 1, 0, -1, 4},
    {0xf81f8c20, "str x0, [x1, #-8]!", true, 1, -8, -1, 8},
    {0xf81f8020, "stur x0, [x1, #-8]", true, 1, -8, -1, 8},
    {0x39000020, "strb w0, [x1]", true, 1, 0, -1, 1},
    {0x79000420, "strh w0, [x1, #2]", true, 1, 2, -1, 2},
    {0xf8216800, "str x0, [x0, x1]", true, 0, 0, 1, 8},
    {0x88037c22, "stxr w3, w2, [x1]", true, 1, 0, -1, 4},
    {0xc89ffc22, "stlr x2, [x1]", true, 1, 0, -1, 8},
    {0x885ffc22, "ldaxr w2, [x1]", false, 0, 0, 0, 0},
    {0x3d800020, "str q0, [x1]", true, 1, 0, -1, 16},
    {0xad000fe2, "stp q2, q3, [sp]", true, 31, 0, -1, 32},
    {0xf9400020, "ldr x0, [x1]", false, 0, 0, 0, 0},
    {0xd503201f, "nop", false, 0, 0, 0, 0},
    {0xd4000002, "hvc #0", false, 0, 0, 0, 0},
};

START_TEST(decodes_each_store_form)
{
	check_case(&cases[_i], false);
}
END_TEST

/* Loads (for read watchpoints): the same fields; stores and PRFM are not loads. */
static const struct access_case load_cases[] = {
    {0xf9400020, "ldr x0, [x1]", true, 1, 0, -1, 8},
    {0xb9400820, "ldr w0, [x1, #8]", true, 1, 8, -1, 4},
    {0xf8408420, "ldr x0, [x1], #8", true, 1, 0, -1, 8},
    {0xf85f0c20, "ldr x0, [x1, #-16]!", true, 1, -16, -1, 8},
    {0xf85f8020, "ldur x0, [x1, #-8]", true, 1, -8, -1, 8},
    {0x39400c20, "ldrb w0, [x1, #3]", true, 1, 3, -1, 1},
    {0x39800020, "ldrsb x0, [x1]", true, 1, 0, -1, 1},
    {0x79c00420, "ldrsh w0, [x1, #2]", true, 1, 2, -1, 2},
    {0xb9800420, "ldrsw x0, [x1, #4]", true, 1, 4, -1, 4},
    {0xf8616800, "ldr x0, [x0, x1]", true, 0, 0, 1, 8},
    {0xa8c17bfd, "ldp x29, x30, [sp], #16", true, 31, 0, -1, 16},
    {0xa9410861, "ldp x1, x2, [x3, #16]", true, 3, 16, -1, 16},
    {0x69400861, "ldpsw x1, x2, [x3]", true, 3, 0, -1, 8},
    {0x885ffc22, "ldaxr w2, [x1]", true, 1, 0, -1, 4},
    {0xc85f7c22, "ldxr x2, [x1]", true, 1, 0, -1, 8},
    {0xc8dffc22, "ldar x2, [x1]", true, 1, 0, -1, 8},
    {0x3dc00020, "ldr q0, [x1]", true, 1, 0, -1, 16},
    {0xad400fe2, "ldp q2, q3, [sp]", true, 31, 0, -1, 32},
    {0xfd400420, "ldr d0, [x1, #8]", true, 1, 8, -1, 8},
    {0xf9800020, "prfm pldl1keep, [x1]", false, 0, 0, 0, 0},
    {0xf9000020, "str x0, [x1]", false, 0, 0, 0, 0},
    {0xa9bc7bfd, "stp x29, x30, [sp, #-64]!", false, 0, 0, 0, 0},
    {0x88037c22, "stxr w3, w2, [x1]", false, 0, 0, 0, 0},
    {0xd503201f, "nop", false, 0, 0, 0, 0},
};

START_TEST(decodes_each_load_form)
{
	check_case(&load_cases[_i], true);
}
END_TEST

START_TEST(register_offsets_extend_and_shift)
{
	struct hs_a64_store s;
	/* str x0, [x1, w2, sxtw #3] */
	ck_assert(hs_a64_decode_store(0xf822d820, &s));
	ck_assert_int_eq(s.rm, 2);
	ck_assert_uint_eq(hs_a64_store_address(&s, 0x1000, 0xffffffffULL), 0x1000 - 8);
	/* str x0, [x1, w2, uxtw] */
	ck_assert(hs_a64_decode_store(0xf8224820, &s));
	ck_assert_uint_eq(hs_a64_store_address(&s, 0x1000, 0x100000010ULL), 0x1010);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("a64_store");
	TCase *tc = tcase_create("a64_store");
	tcase_add_loop_test(tc, decodes_each_store_form, 0,
			    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, decodes_each_load_form, 0,
			    (int)(sizeof(load_cases) / sizeof(load_cases[0])));
	tcase_add_test(tc, register_offsets_extend_and_shift);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
