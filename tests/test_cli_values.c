/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the debugger's value parsing and register-field decoding
 * (cli/util.c, cli/sysreg_fields.c), compiled in directly: no machine needed.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../cli/breakpoints.c"
#include "../cli/sysreg_fields.c"
#include "../cli/util.c"

static const struct {
	const char *in;
	bool ok;
	int64_t want;
} nums[] = {
    {"0", true, 0},
    {"42", true, 42},
    {"0x1000", true, 0x1000},
    {"-22", true, -22},
    {"-EINVAL", true, -22},
    {"-EPERM", true, -1},
    {"-ENOMEM", true, -12},
    {"EBUSY", true, 16},
    {"NOT_SUPPORTED", true, -1},
    {"SUCCESS", true, 0},
    {"", false, 0},
    {"0x", false, 0},
    {"12abc", false, 0},
    {"-EWHATEVER", false, 0},
    {"banana", false, 0},
    /* The edges of 64 bits: the most negative number, unsigned addresses, and negatives
       that do not exist (they must not wrap to small positives). */
    {"-0x8000000000000000", true, INT64_MIN},
    {"-9223372036854775808", true, INT64_MIN},
    {"0xffffffffffffffff", true, -1},
    {"-9223372036854775809", false, 0},
    {"-18446744073709551615", false, 0},
    {"-0xffffffffffffffff", false, 0},
};

START_TEST(parse_num_table)
{
	int64_t v = 0;
	bool ok = cli_parse_num(nums[_i].in, &v);
	ck_assert_msg(ok == nums[_i].ok, "'%s': ok %d", nums[_i].in, ok);
	if (ok)
		ck_assert_int_eq(v, nums[_i].want);
}
END_TEST

static const struct {
	const char *in;
	bool ok;
	uint64_t want;
} sizes[] = {
    {"1G", true, 1ULL << 30},
    {"16G", true, 16ULL << 30},
    {"512M", true, 512ULL << 20},
    {"64MiB", true, 64ULL << 20},
    {"4096", true, 4096},
    {"0x40000000", true, 0x40000000},
    {"1Q", false, 0},
    {"G", false, 0},
    {"-1G", false, 0},
};

START_TEST(parse_size_table)
{
	uint64_t v = 0;
	bool ok = cli_parse_size(sizes[_i].in, &v);
	ck_assert_msg(ok == sizes[_i].ok, "'%s': ok %d", sizes[_i].in, ok);
	if (ok)
		ck_assert_uint_eq(v, sizes[_i].want);
}
END_TEST

START_TEST(eval_numbers_spaces_and_offsets)
{
	struct cli c;
	cli_init(&c);
	enum cli_space sp = SP_DEFAULT;
	uint64_t v = 0;
	ck_assert_int_eq(cli_eval(&c, "pa:0x1000+0x10", &sp, &v), 0);
	ck_assert_int_eq(sp, SP_PA);
	ck_assert_uint_eq(v, 0x1010);
	ck_assert_int_eq(cli_eval(&c, "va:0x2000-8", &sp, &v), 0);
	ck_assert_int_eq(sp, SP_VA);
	ck_assert_uint_eq(v, 0x1ff8);
	ck_assert_int_eq(cli_eval(&c, "-EINVAL", NULL, &v), 0);
	ck_assert_int_eq((int64_t)v, -22);
	/* A symbol without a machine is an error, not a crash. */
	ck_assert_int_ne(cli_eval(&c, "__hyp_text_start", NULL, &v), 0);
	ck_assert_int_ne(cli_eval(&c, "", NULL, &v), 0);
	cli_fini(&c);
}
END_TEST

START_TEST(tcr_fields_decode)
{
	const struct cli_field *f = cli_sysreg_field(HS_SR_TCR_EL2, "t0sz");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(cli_field_get(f, 0x80843510), 16);
	f = cli_sysreg_field(HS_SR_TCR_EL2, "PS");
	ck_assert_uint_eq(cli_field_get(f, 0x80843510), 4);
	ck_assert_ptr_null(cli_sysreg_field(HS_SR_TCR_EL2, "NOPE"));
	f = cli_sysreg_field(HS_SR_VTTBR_EL2, "VMID");
	ck_assert_uint_eq(cli_field_get(f, 0x0005000012345000ULL), 5);
	f = cli_sysreg_field(HS_SR_ESR_EL2, "EC");
	ck_assert_uint_eq(cli_field_get(f, 0x96000045), 0x25);
}
END_TEST

START_TEST(every_decoded_field_fits_its_register)
{
	for (int r = 0; r < HS_SR_COUNT; r++) {
		size_t n;
		const struct cli_field *f = cli_sysreg_fields(r, &n);
		for (size_t i = 0; i < n; i++) {
			ck_assert_msg(f[i].hi >= f[i].lo && f[i].hi < 64, "%s.%s",
				      hs_sysreg_desc(r)->name, f[i].name);
			ck_assert_ptr_nonnull(f[i].meaning);
		}
	}
}
END_TEST

START_TEST(errno_names_round_trip)
{
	ck_assert_str_eq(cli_errno_name(-22), "EINVAL");
	ck_assert_str_eq(cli_errno_name(-16), "EBUSY");
	ck_assert_ptr_null(cli_errno_name(5));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli values");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, parse_num_table, 0, sizeof(nums) / sizeof(nums[0]));
	tcase_add_loop_test(tc, parse_size_table, 0, sizeof(sizes) / sizeof(sizes[0]));
	tcase_add_test(tc, eval_numbers_spaces_and_offsets);
	tcase_add_test(tc, tcr_fields_decode);
	tcase_add_test(tc, every_decoded_field_fits_its_register);
	tcase_add_test(tc, errno_names_round_trip);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
