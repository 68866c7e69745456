/* SPDX-License-Identifier: MIT */
/*
 * Never wedged: an operation that reaches an address with nothing there, or
 * loops until the instruction limit, ends as the architecture would have it
 * (an external abort delivered, a guest interrupted by its tick, a clean
 * "limit" stop) and the next host operation runs. Before, every later
 * hvc/host/vm call said "stopped inside another host operation".
 */
#include <check.h>
#include <hypscope/abi.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "testutil.h"

static struct hs_machine *m;

static void setup(void)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	o.insn_limit = 20000000; /* loops stop in a fraction of a second */
	struct hs_error err = {0};
	ck_assert_msg(hs_machine_create(&o, &m, &err) == 0, "%s", err.msg);
	struct hs_stop stop;
	ck_assert_msg(hs_boot(m, NULL, &stop, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	hs_machine_destroy(m);
}

/* The machine still works: a null hypercall and a host read of its own memory. */
static void assert_usable(const char *after)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) == 0,
		      "after %s: %s", after, err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	uint64_t pa = hs_machine_opts(m)->ram_base + 0x400000;
	ck_assert_msg(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, &err) == 0, "after %s: %s",
		      after, err.msg);
	ck_assert(!res.refused);
}

/* Host accesses to physical addresses with nothing there: an external abort, every time. */
START_TEST(host_access_to_nothing_is_an_external_abort)
{
	uint64_t ram_end = hs_machine_opts(m)->ram_base + hs_machine_opts(m)->ram_size;
	const uint64_t pas[] = {ram_end, ram_end + 0x12345678, 1ULL << 47, 0xffff000000000000ULL,
				0xfffffffffffff000ULL};
	for (size_t i = 0; i < sizeof(pas) / sizeof(pas[0]); i++) {
		for (int write = 0; write < 2; write++) {
			struct hs_host_op res;
			struct hs_stop stop;
			struct hs_error err = {0};
			int rc = hs_host_access(m, 0, write, pas[i], 8, 7, &res, &stop, &err);
			ck_assert_msg(rc == 0, "%#lx: %s", (unsigned long)pas[i], err.msg);
			ck_assert_int_eq(stop.reason, HS_STOP_DONE);
			ck_assert_msg(res.refused, "%#lx was not refused", (unsigned long)pas[i]);
			/* A synchronous external abort, or beyond the PA size an address size
			 * fault. */
			unsigned fsc = res.esr_el1 & 0x3f;
			ck_assert_msg(fsc == 0x10 || fsc <= 3, "%#lx: ESR_EL1 %#lx",
				      (unsigned long)pas[i], (unsigned long)res.esr_el1);
			ck_assert_uint_eq((res.esr_el1 >> 6) & 1, (unsigned)write);
		}
	}
	assert_usable("host accesses above RAM");
}
END_TEST

static uint64_t vm_new(void)
{
	uint64_t h;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	return h;
}

/* A guest touching a shared page whose IPA lies above RAM exits; it never stops the machine. */
START_TEST(guest_access_above_ram_exits_to_the_host)
{
	uint64_t h = vm_new();
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x400000) >> 12;
	uint64_t gfn = (hs_machine_opts(m)->ram_base + hs_machine_opts(m)->ram_size) >> 12;
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_share(m, 0, h, pfn, gfn, 1, HS_PROT_R | HS_PROT_W, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	for (uint64_t op = HS_VCPU_OP_READ; op <= HS_VCPU_OP_EXEC; op++) {
		struct hs_vm_exit x;
		ck_assert_msg(hs_vm_run(m, 0, op, gfn << 12, 1, &x, &err) == 0, "op %lu: %s",
			      (unsigned long)op, err.msg);
		ck_assert_int_eq(x.status, 0);
	}
	/* Guest vectors at IPA 0, below RAM: the fetch is a stage-2 fault, not a stop. */
	struct hs_vm_exit x;
	ck_assert_int_eq(hs_vm_run(m, 0, HS_VCPU_OP_EXEC, 0, 0, &x, &err), 0);
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
	assert_usable("guest accesses above and below RAM");
}
END_TEST

/* A guest that loops (it calls its own entry) is interrupted and can be resumed. */
START_TEST(looping_guest_is_interrupted_by_its_tick)
{
	vm_new();
	for (int i = 0; i < 2; i++) {
		struct hs_vm_exit x;
		struct hs_error err = {0};
		uint64_t op = i ? HS_VCPU_OP_RESUME : HS_VCPU_OP_EXEC;
		ck_assert_msg(hs_vm_run(m, 0, op, hs_vm_code_gfn(m) << 12, 0, &x, &err) == 0, "%s",
			      err.msg);
		ck_assert_int_eq(x.status, 0);
		ck_assert_uint_eq(x.reason, HS_EXIT_IRQ);
	}
	assert_usable("a looping guest");
}
END_TEST

/*
 * The host gives away the page its own code runs from: every fetch faults
 * and the abort it is sent cannot be fetched either. The call stops at the
 * limit, cleanly, in the host; the next call is not refused as "inside
 * another operation" (it loops the same way: the host has lost its code).
 */
START_TEST(host_fault_loop_stops_at_the_limit_and_is_abandoned)
{
	uint64_t code_pfn = hs_machine_opts(m)->ram_base >> 12;
	uint64_t args[2] = {code_pfn, 1};
	for (int i = 0; i < 2; i++) {
		struct hs_host_op res;
		struct hs_stop stop;
		struct hs_error err = {0};
		int rc =
		    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_donate_hyp), args, 2, &res, &stop, &err);
		ck_assert_msg(rc == 0, "call %d: %s", i, err.msg);
		ck_assert_int_eq(stop.reason, HS_STOP_LIMIT);
		struct hs_cpu_state st;
		ck_assert_int_eq(hs_cpu_state(m, 0, &st), 0);
		ck_assert_uint_eq(st.el, 1); /* stopped in the host, not inside EL2 */
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("never_wedged");
	TCase *tc = tcase_create("never_wedged");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, host_access_to_nothing_is_an_external_abort);
	tcase_add_test(tc, guest_access_above_ram_exits_to_the_host);
	tcase_add_test(tc, looping_guest_is_interrupted_by_its_tick);
	tcase_add_test(tc, host_fault_loop_stops_at_the_limit_and_is_abandoned);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
