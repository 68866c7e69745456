/* SPDX-License-Identifier: MIT */
/*
 * Never wedged: an operation that reaches an address with nothing there, or
 * loops until the instruction limit, ends as the architecture would have it
 * (an external abort delivered, a guest interrupted by its tick, a clean
 * "limit" stop) and the next host operation runs. Before, every later
 * hvc/host/vm call said "stopped inside another host operation".
 */
#include <check.h>
#include <errno.h>
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
 * A guest whose stage 2 maps a page at an IPA below RAM (gfn 3) and branches
 * there: Unicorn will not execute device space, so the fetch is an external
 * abort taken to the guest's vectors (not mapped: a stage-2 fault exit), and
 * when those cannot be fetched either its tick takes it back. Before, the run stopped with
 * UC_ERR_FETCH_PROT and the operation stayed pending inside the guest (found by hs_campaign --seed
 * 13).
 */
START_TEST(guest_fetch_from_mapped_ipa_below_ram_exits)
{
	uint64_t h = vm_new();
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x400000) >> 12;
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_share(m, 0, h, pfn, 3, 1, HS_PROT_RWX, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	for (int i = 0; i < 2; i++) {
		struct hs_vm_exit x;
		uint64_t op = i ? HS_VCPU_OP_RESUME : HS_VCPU_OP_EXEC;
		ck_assert_msg(hs_vm_run(m, 0, op, 0x37a0, 0, &x, &err) == 0, "run %d: %s", i,
			      err.msg);
		ck_assert_int_eq(x.status, 0);
		/* the abort's vector faults in stage 2, or the tick takes the guest back */
		ck_assert_msg(x.reason == HS_EXIT_S2_FAULT || x.reason == HS_EXIT_IRQ,
			      "run %d: exit %lu", i, (unsigned long)x.reason);
		ck_assert(!hs_op_pending(m));
	}
	assert_usable("a guest fetch below RAM");
}
END_TEST

/*
 * A guest that erets to EL0 (SPSR_EL1 = 0: EL0t at ELR_EL1 = 0) and faults
 * there: its exceptions are QEMU's to route, like EL1's, so the fetch at IPA
 * 0 is a stage-2 fault exit. Before, any exception from EL0 stopped the run
 * with an error and no message, the operation pending inside the guest
 * (hs_campaign --seed 5, guest code).
 */
START_TEST(guest_at_el0_faults_like_at_el1)
{
	uint64_t h = vm_new();
	uint64_t pa = hs_machine_opts(m)->ram_base + 0x400000, gfn = 0x48768;
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(
	    hs_host_access(m, 0, true, pa, 4, 0xd69f03e0 /* eret */, &res, &stop, &err), 0);
	int64_t ret;
	ck_assert_int_eq(hs_vm_share(m, 0, h, pa >> 12, gfn, 1, HS_PROT_RWX, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	for (int i = 0; i < 2; i++) {
		struct hs_vm_exit x;
		ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_EXEC, gfn << 12, 0, &x, &err) == 0,
			      "run %d: %s", i, err.msg);
		ck_assert_int_eq(x.status, 0);
		ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
		ck_assert_uint_eq(x.x2, 0); /* the IPA */
	}
	assert_usable("a guest at EL0");
}
END_TEST

/*
 * The host model runs every operation from its code page: giving it away
 * (to the hypervisor, to a guest, as a VM's donated block) would leave the
 * host unable to run another instruction. The host model
 * refuses with a message and the hypervisor is never asked. Before, the call
 * looped through the host's fault handler to the instruction limit, and so
 * did every later one (hs_campaign --seed 2, 4, 5).
 */
START_TEST(host_code_page_is_never_given_away)
{
	uint64_t code_pfn = hs_machine_opts(m)->ram_base >> 12;
	uint64_t icount = hs_machine_icount(m);
	struct {
		int nr;
		uint64_t a[3];
	} calls[] = {
	    {HS_HC_host_donate_hyp, {code_pfn, 1}},
	    {HS_HC_host_donate_hyp, {code_pfn, 3}}, /* a range that starts with it */
	    {HS_HC_host_donate_guest, {code_pfn, 0x48100}},
	    {HS_HC_init_vm, {code_pfn << 12, 0x20, 0}},
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct hs_host_op res;
		struct hs_stop stop;
		struct hs_error err = {0};
		int rc = hs_host_hvc(m, 0, HS_HC_FN(calls[i].nr), calls[i].a, 3, &res, &stop, &err);
		ck_assert_int_eq(rc, -EPERM);
		ck_assert_msg(strstr(err.msg, "the host's own code page"), "%s", err.msg);
	}
	ck_assert_uint_eq(hs_machine_icount(m), icount); /* nothing ran */
	/* Its neighbour is the host's to give: donated and given back. */
	uint64_t args[2] = {code_pfn + 1, 1};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_donate_hyp), args, 2, &res, &stop, &err), 0);
	ck_assert_int_eq(res.x1, 0);
	ck_assert_int_eq(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_hyp_donate_host), args, 2, &res, &stop, &err), 0);
	ck_assert_int_eq(res.x1, 0);
	assert_usable("attempts on the host's code page");
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
	tcase_add_test(tc, guest_fetch_from_mapped_ipa_below_ram_exits);
	tcase_add_test(tc, host_code_page_is_never_given_away);
	tcase_add_test(tc, guest_at_el0_faults_like_at_el1);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
