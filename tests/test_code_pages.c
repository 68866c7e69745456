/* SPDX-License-Identifier: MIT */
/*
 * Stores to pages that hold translated code (issue 15). Stores to code-free
 * pages skip QEMU's self-modifying-code check; a page that held code and is
 * written again (shared back, donated, scrubbed, reused) must run what is in
 * it now, never the old translation.
 */
#include <check.h>
#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "testutil.h"

#define GFN 0x48100ULL
#define IPA(g) ((uint64_t)(g) << 12)

static struct hs_vm_exit guest_calls(struct hs_machine *m, uint64_t ipa)
{
	struct hs_vm_exit x;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_EXEC, ipa, 0, &x, &err) == 0, "%s", err.msg);
	return x;
}

static void assert_returned(struct hs_vm_exit x, unsigned imm)
{
	ck_assert_uint_eq(x.reason, HS_EXIT_GUEST_HVC);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_EXEC);
	ck_assert_uint_eq(x.x3, imm);
}

static uint64_t vm_new(struct hs_machine *m, bool protected_vm)
{
	uint64_t h;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_create(m, 0, protected_vm, &h, &err) == 0, "%s", err.msg);
	return h;
}

START_TEST(host_rewrites_a_shared_page_the_guest_ran)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x400000) >> 12;
	struct hs_error err = {0};
	int64_t ret;
	/* The host writes first: its TLB entry for the page is filled while it holds no code. */
	hs_test_host_writes_function(m, pfn << 12, 0x11);
	uint64_t h = vm_new(m, false);
	ck_assert_int_eq(hs_vm_share(m, 0, h, pfn, GFN, 1, HS_PROT_RWX, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	assert_returned(guest_calls(m, IPA(GFN)), 0x11);
	/* The page now holds translated code: the host's next stores must reach it. */
	hs_test_host_writes_function(m, pfn << 12, 0x22);
	assert_returned(guest_calls(m, IPA(GFN)), 0x22);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(donated_code_page_is_scrubbed_and_runs_as_zeroes_in_the_next_vm)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x405000) >> 12;
	struct hs_error err = {0};
	int64_t ret;
	hs_test_host_writes_function(m, pfn << 12, 0x33);
	uint64_t a = vm_new(m, true);
	ck_assert_int_eq(hs_vm_donate(m, 0, a, pfn, GFN, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	assert_returned(guest_calls(m, IPA(GFN)), 0x33);
	/* Teardown scrubs the page with EL2 stores through another VA, then returns it. */
	ck_assert_int_eq(hs_vm_teardown(m, 0, a, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	uint64_t b = vm_new(m, false);
	ck_assert_int_eq(hs_vm_share(m, 0, b, pfn, GFN, 1, HS_PROT_RWX, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	/* Same IPA, same PA, same code flags: only a dropped translation runs the zeroes. */
	struct hs_vm_exit x = guest_calls(m, IPA(GFN));
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT); /* UDF #0, then its unmapped vectors */
	ck_assert_uint_eq((x.x3 >> 26) & 0x3f, 0x20);
	/* And a new function written there by the host runs. */
	hs_test_host_writes_function(m, pfn << 12, 0x44);
	assert_returned(guest_calls(m, IPA(GFN)), 0x44);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("code_pages");
	TCase *tc = tcase_create("reuse");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, host_rewrites_a_shared_page_the_guest_ran);
	tcase_add_test(tc, donated_code_page_is_scrubbed_and_runs_as_zeroes_in_the_next_vm);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
