/* SPDX-License-Identifier: MIT */
/*
 * Exception entry as the architecture defines it, now that QEMU's own entry
 * code delivers every exception (issue 15): what EL2 sees after a host HVC or
 * abort, what the host keeps, and an EL2 fault the hypervisor takes itself.
 */
#include <check.h>
#include <hypscope/abi.h>
#include <unicorn/unicorn.h>

#include "host.h"
#include "debug.h"
#include "host_boot.h"
#include "testutil.h"

static uint64_t sysreg(struct hs_machine *m, enum hs_sysreg r)
{
	uint64_t v = 0;
	ck_assert_int_eq(hs_cpu_sysreg(m, 0, r, &v), 0);
	return v;
}

static void null_hvc(struct hs_machine *m)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(res.x0, 0);
}

START_TEST(host_hvc_sets_esr_elr_spsr_and_leaves_elr_el1_alone)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	uc_engine *uc = hs_cpu_engine(m, 0);
	uint64_t mine = 0xfeedf00dULL;
	ck_assert_int_eq(uc_reg_write(uc, UC_ARM64_REG_ELR_EL1, &mine), UC_ERR_OK);
	null_hvc(m);
	uint64_t hvc_pa = hs_machine_opts(m)->ram_base + HS_HOST_OFF_HVC;
	ck_assert_uint_eq(sysreg(m, HS_SR_ESR_EL2), 0x5A000000u); /* EC 0x16, IL, imm 0 */
	ck_assert_uint_eq(sysreg(m, HS_SR_ELR_EL2), hvc_pa + 4);  /* preferred return */
	ck_assert_uint_eq(sysreg(m, HS_SR_SPSR_EL2) & 0xf, 0x5);  /* taken from EL1h */
	uint64_t elr_el1 = 0;
	uc_reg_read(uc, UC_ARM64_REG_ELR_EL1, &elr_el1);
	ck_assert_uint_eq(elr_el1, mine);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(far_el2_after_an_hvc_keeps_the_last_abort_address)
{
	/* FAR_EL2 is UNKNOWN after an HVC: QEMU leaves it as the last abort set it. */
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t text;
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, &err), 0);
	ck_assert_int_eq(hs_host_access(m, 0, false, text + 0x18, 8, 0, &res, &stop, &err), 0);
	ck_assert(res.refused);
	/* The stage-2 abort: the host's MMU is off, so its VA is the IPA. */
	ck_assert_uint_eq(sysreg(m, HS_SR_FAR_EL2), text + 0x18);
	ck_assert_uint_eq(sysreg(m, HS_SR_ESR_EL2) >> 26, 0x24); /* DABT_LOW */
	null_hvc(m);
	ck_assert_uint_eq(sysreg(m, HS_SR_ESR_EL2) >> 26, 0x16);
	ck_assert_uint_eq(sysreg(m, HS_SR_FAR_EL2), text + 0x18);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(hypercall_breakpoint_stops_at_the_vector_with_the_entry_done)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_break_on_ec(m, 0x16, true, &err), 0);
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_BREAKPOINT);
	struct hs_cpu_state st;
	ck_assert_int_eq(hs_cpu_state(m, 0, &st), 0);
	ck_assert_uint_eq(st.el, 2);
	ck_assert_uint_eq(st.pc, sysreg(m, HS_SR_VBAR_EL2) + 0x400);
	ck_assert_uint_eq(stop.pc, st.pc);
	ck_assert_uint_eq(sysreg(m, HS_SR_ESR_EL2), 0x5A000000u);
	ck_assert_int_eq(hs_break_on_ec(m, 0x16, false, &err), 0);
	ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x0, 0);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(el2_permission_fault_is_delivered_and_reported)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_stop stop;
	uint64_t handler;
	ck_assert_int_eq(hs_sym_pa(m, "handle_host_trap", &handler, &err), 0);
	/* The trap handler stores into its own text, which EL2's stage 1 maps read-only. */
	uint32_t code[2] = {0x10000001u /* adr x1, . */, 0xf9000020u /* str x0, [x1] */};
	ck_assert_int_eq(hs_phys_write(m, handler, code, sizeof(code), &err), 0);
	struct hs_host_op res;
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_HYP_FAULT);
	ck_assert_uint_eq(stop.fault.ec, 0x25);			/* DABT_CUR */
	ck_assert_uint_eq(stop.fault.esr & (1u << 6), 1u << 6); /* WnR */
	/* The architectural entry happened: EL2's registers say what the event says. */
	ck_assert_uint_eq(sysreg(m, HS_SR_ESR_EL2), stop.fault.esr);
	ck_assert_uint_eq(sysreg(m, HS_SR_FAR_EL2), stop.fault.far);
	ck_assert_uint_eq(sysreg(m, HS_SR_ELR_EL2), stop.fault.pc);
	ck_assert_uint_eq(stop.pc, stop.fault.pc); /* the stop names the faulting instruction */
	ck_assert_uint_eq(stop.fault.far, stop.fault.pc - 4); /* the adr's own address */
	struct hs_cpu_state st;
	ck_assert_int_eq(hs_cpu_state(m, 0, &st), 0);
	ck_assert_uint_eq(st.pc, sysreg(m, HS_SR_VBAR_EL2) + 0x200); /* current EL, SPx */
	ck_assert(hs_machine_dead(m));
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exceptions");
	TCase *tc = tcase_create("native");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, host_hvc_sets_esr_elr_spsr_and_leaves_elr_el1_alone);
	tcase_add_test(tc, far_el2_after_an_hvc_keeps_the_last_abort_address);
	tcase_add_test(tc, hypercall_breakpoint_stops_at_the_vector_with_the_entry_done);
	tcase_add_test(tc, el2_permission_fault_is_delivered_and_reported);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
