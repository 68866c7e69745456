/* SPDX-License-Identifier: MIT */
/* Several CPUs, PSCI relayed by the hypervisor, CPU hotplug onto its tables (issue 4). */
#include <check.h>
#include <hypscope/abi.h>
#include <unicorn/unicorn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "host.h"
#include "host_boot.h"
#include "testutil.h"

static struct hs_host_op smc(struct hs_machine *m, unsigned cpu, uint64_t fn, uint64_t a1,
			     uint64_t a2, uint64_t a3)
{
	struct hs_host_op r;
	struct hs_stop stop;
	struct hs_error err = {0};
	int rc = hs_host_smc(m, cpu, fn, a1, a2, a3, &r, &stop, &err);
	ck_assert_msg(rc == 0, "smc: %s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	return r;
}

START_TEST(four_cpus_boot_onto_the_hypervisor_table)
{
	struct hs_machine *m = hs_test_booted(4, 0);
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	for (unsigned cpu = 0; cpu < 4; cpu++) {
		struct hs_cpu_state st;
		uint64_t ttbr, hcr;
		hs_cpu_state(m, cpu, &st);
		hs_cpu_sysreg(m, cpu, HS_SR_TTBR0_EL2, &ttbr);
		hs_cpu_sysreg(m, cpu, HS_SR_HCR_EL2, &hcr);
		ck_assert(st.online);
		ck_assert_uint_eq(st.el, 1);
		ck_assert_uint_eq(ttbr, bi.hyp_pgd_pa);
		ck_assert(hcr & 1);
	}
	hs_machine_destroy(m);
}
END_TEST

START_TEST(cpu3_off_then_on_after_finalisation_runs_hyp_init_again)
{
	struct hs_machine *m = hs_test_booted(4, 0);
	struct hs_host_op r = smc(m, 3, HS_PSCI_CPU_OFF, 0, 0, 0);
	ck_assert(r.cpu_off);
	struct hs_cpu_state st;
	hs_cpu_state(m, 3, &st);
	ck_assert(!st.online);
	r = smc(m, 0, HS_PSCI_AFFINITY_INFO, 3, 0, 0);
	ck_assert_int_eq(r.x0, HS_PSCI_AFFINITY_OFF);
	/* An offline CPU cannot run host operations. */
	struct hs_error err = {0};
	struct hs_stop stop;
	struct hs_host_op res;
	ck_assert_int_ne(hs_host_hvc(m, 3, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);

	/* Wipe CPU 3's EL2 state as a real power cycle would. */
	uc_engine *uc = hs_cpu_engine(m, 3);
	uc_arm64_cp_reg ttbr = {.op0 = 3, .op1 = 4, .crn = 2, .crm = 0, .op2 = 0, .val = 0};
	uc_reg_write(uc, UC_ARM64_REG_CP_REG, &ttbr);

	r = smc(m, 0, HS_PSCI_CPU_ON, 3, hs_host_entry(m), 0x1234);
	ck_assert_int_eq(r.x0, HS_PSCI_RET_SUCCESS);
	hs_cpu_state(m, 3, &st);
	ck_assert(st.online);
	ck_assert_uint_eq(st.el, 1);
	ck_assert_uint_eq(st.pc, hs_host_entry(m));
	ck_assert_uint_eq(st.x[0], 0x1234); /* the host's context id */
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	uint64_t v;
	hs_cpu_sysreg(m, 3, HS_SR_TTBR0_EL2, &v);
	ck_assert_uint_eq(v, bi.hyp_pgd_pa); /* straight onto the hypervisor's table */
	hs_cpu_sysreg(m, 3, HS_SR_HCR_EL2, &v);
	ck_assert(v & 1); /* host stage 2 on: protection was finalised before */

	/* A hypercall on CPU 3 works, and its host accesses go through stage 2. */
	ck_assert_int_eq(hs_host_hvc(m, 3, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(res.x0, HS_SMCCC_SUCCESS);
	uint64_t text;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, &err), 0);
	ck_assert_int_eq(hs_host_access(m, 3, false, text, 8, 0, &res, &stop, &err), 0);
	ck_assert(res.refused);
	uint64_t own = hs_machine_opts(m)->ram_base + 0x20000;
	ck_assert_int_eq(hs_host_access(m, 3, true, own, 8, 7, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(psci_errors_come_back_as_psci_codes)
{
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_host_op r = smc(m, 0, HS_PSCI_CPU_ON, 7, hs_host_entry(m), 0);
	ck_assert_int_eq(r.x0, HS_PSCI_RET_INVALID_PARAMS); /* no CPU 7 */
	r = smc(m, 0, HS_PSCI_CPU_ON, 0xdead00, hs_host_entry(m), 0);
	ck_assert_int_eq(r.x0, HS_PSCI_RET_INVALID_PARAMS);
	r = smc(m, 0, HS_PSCI_CPU_ON, 1, hs_host_entry(m), 0);
	ck_assert_int_eq(r.x0, HS_PSCI_RET_ALREADY_ON);
	smc(m, 1, HS_PSCI_CPU_OFF, 0, 0, 0);
	r = smc(m, 0, HS_PSCI_CPU_ON, 1, 0x10, 0); /* entry outside memory */
	ck_assert_int_eq(r.x0, HS_PSCI_RET_INVALID_ADDRESS);
	r = smc(m, 0, HS_PSCI_CPU_ON, 1, hs_host_entry(m) + 2, 0); /* misaligned */
	ck_assert_int_eq(r.x0, HS_PSCI_RET_INVALID_ADDRESS);
	r = smc(m, 0, HS_PSCI_VERSION, 0, 0, 0);
	ck_assert_int_eq(r.x0, 0x10000);
	r = smc(m, 0, 0x84000099, 0, 0, 0); /* unknown function */
	ck_assert_int_eq(r.x0, HS_PSCI_RET_NOT_SUPPORTED);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(tlbi_broadcast_by_one_cpu_is_seen_by_another)
{
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_error err = {0};
	struct hs_stop stop;
	struct hs_host_op res;
	uint64_t pa = hs_machine_opts(m)->ram_base + 0x300000;
	/* CPU 1 uses the page: its TLB now caches the host stage-2 translation. */
	ck_assert_int_eq(hs_host_access(m, 1, false, pa, 8, 0, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	/* CPU 0 gives the page to the hypervisor: unmapped, annotated, TLBI ...IS. */
	uint64_t a[2] = {pa >> 12, 1};
	ck_assert_int_eq(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_donate_hyp), a, 2, &res, &stop, &err), 0);
	ck_assert_int_eq(res.x0, HS_SMCCC_SUCCESS);
	ck_assert_int_eq(res.x1, 0);
	/* CPU 1 must not keep using its stale translation. */
	ck_assert_int_eq(hs_host_access(m, 1, false, pa, 8, 0, &res, &stop, &err), 0);
	ck_assert(res.refused);
	hs_machine_destroy(m);
}
END_TEST

/* Everything a run emits, reduced to a string: two runs must match exactly. */
struct recorder {
	char *buf;
	size_t len, cap;
};

static void record(const struct hs_event *ev, void *ud)
{
	struct recorder *r = ud;
	char line[256];
	int n = snprintf(line, sizeof(line), "%d %u %llu", ev->type, ev->cpu,
			 (unsigned long long)ev->icount);
	if (ev->type == HS_EV_HVC_EXIT)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %lld %lld %llu",
			      ev->hvc.name, (long long)ev->hvc.x0, (long long)ev->hvc.x1,
			      (unsigned long long)ev->hvc.insns);
	if (ev->type == HS_EV_CONSOLE)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", ev->console);
	if (r->len + (size_t)n + 2 > r->cap) {
		r->cap = (r->cap + (size_t)n + 2) * 2;
		r->buf = realloc(r->buf, r->cap);
	}
	memcpy(r->buf + r->len, line, (size_t)n);
	r->len += (size_t)n;
	r->buf[r->len++] = '\n';
	r->buf[r->len] = '\0';
}

static char *run_scenario(void)
{
	struct recorder rec = {0};
	struct hs_machine *m = hs_test_machine(4, 0);
	hs_machine_subscribe(m, record, &rec);
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_boot(m, NULL, &stop, &err), 0);
	smc(m, 2, HS_PSCI_CPU_OFF, 0, 0, 0);
	smc(m, 1, HS_PSCI_CPU_ON, 2, hs_host_entry(m), 5);
	struct hs_host_op res;
	for (unsigned cpu = 0; cpu < 4; cpu++)
		hs_host_hvc(m, cpu, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err);
	hs_machine_destroy(m);
	return rec.buf;
}

START_TEST(same_scenario_twice_gives_identical_traces)
{
	char *a = run_scenario(), *b = run_scenario();
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("psci");
	TCase *tc = tcase_create("psci");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, four_cpus_boot_onto_the_hypervisor_table);
	tcase_add_test(tc, cpu3_off_then_on_after_finalisation_runs_hyp_init_again);
	tcase_add_test(tc, psci_errors_come_back_as_psci_codes);
	tcase_add_test(tc, same_scenario_twice_gives_identical_traces);
	tcase_add_test(tc, tlbi_broadcast_by_one_cpu_is_seen_by_another);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
