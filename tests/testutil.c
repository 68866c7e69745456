/* SPDX-License-Identifier: MIT */
#include "testutil.h"
#include "profile.h"

#include <check.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "host_boot.h"
#include "hyp_state.h"
#include "inspect_check.h"
#include "layout.h"
#include "pt_translate.h"
#include "sysregs.h"
#include "tlb_check.h"

#include <stdio.h>

const char *hs_test_hyp_elf(void)
{
	const char *p = getenv("HS_HYP_ELF");
	return p ? p : "hyp/hyp.elf";
}

struct hs_machine *hs_test_machine(unsigned cpus, uint64_t ram)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	if (cpus)
		o.nr_cpus = cpus;
	if (ram)
		o.ram_size = ram;
	struct hs_machine *m = NULL;
	struct hs_error err = {0};
	int rc = hs_machine_create(&o, &m, &err);
	ck_assert_msg(rc == 0, "machine: %s", err.msg);
	return m;
}

struct hs_machine *hs_test_booted(unsigned cpus, uint64_t ram)
{
	struct hs_machine *m = hs_test_machine(cpus, ram);
	struct hs_error err = {0};
	struct hs_stop stop;
	int rc = hs_boot(m, NULL, &stop, &err);
	ck_assert_msg(rc == 0, "boot: %s", err.msg);
	ck_assert_msg(stop.reason == HS_STOP_DONE, "boot stopped: %s",
		      hs_stop_reason_name(stop.reason));
	return m;
}

int hs_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

uint64_t hs_test_rd64(struct hs_machine *m, uint64_t pa)
{
	uint64_t v = 0;
	ck_assert_int_eq(hs_phys_read(m, pa, &v, 8, NULL), 0);
	return v;
}

void hs_test_wr64(struct hs_machine *m, uint64_t pa, uint64_t v)
{
	struct hs_error err = {0};
	ck_assert_msg(hs_phys_write(m, pa, &v, 8, &err) == 0, "%s", err.msg);
}

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

uint64_t hs_test_regime_desc_pa(struct hs_machine *m, const struct hs_pt_regime *r, uint64_t in)
{
	struct hs_phys phys = {.read = phys_read_cb, .ud = m};
	struct hs_pt_trace t;
	hs_pt_translate(&phys, r, in, &t);
	ck_assert_uint_ge(t.nr_steps, 1);
	return t.steps[t.nr_steps - 1].desc_pa;
}

uint64_t hs_test_desc_pa(struct hs_machine *m, bool stage2, uint64_t in)
{
	uint64_t a = 0, b = 0, c = 0;
	struct hs_pt_regime r;
	char msg[200];
	if (stage2) {
		hs_cpu_sysreg(m, 0, HS_SR_VTCR_EL2, &a);
		hs_cpu_sysreg(m, 0, HS_SR_VTTBR_EL2, &b);
		ck_assert_msg(hs_machine_regime_s2(m, a, b, &r, msg, sizeof(msg)) == 0, "%s", msg);
	} else {
		hs_cpu_sysreg(m, 0, HS_SR_TCR_EL2, &a);
		hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &b);
		hs_cpu_sysreg(m, 0, HS_SR_MAIR_EL2, &c);
		ck_assert_msg(hs_pt_regime_el2(a, b, c, &r, msg, sizeof(msg)) == 0, "%s", msg);
	}
	return hs_test_regime_desc_pa(m, &r, in);
}

uint64_t hs_test_vmemmap_entry_pa(struct hs_machine *m, uint64_t pa)
{
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t va = l->vmemmap_base + (pa >> HS_PAGE_SHIFT) * HS_HYP_PAGE_SIZE, epa;
	ck_assert_int_eq(hs_el2_va_to_pa(m, 0, va, &epa, NULL), 0);
	return epa;
}

void hs_test_assert_clean(struct hs_machine *m, const char *when)
{
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	int n = hs_check(m, &rep);
	if (n) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		hs_check_text(&rep, &sb);
		ck_abort_msg("%s: %d violations\n%s", when, n, hs_sb_str(&sb));
	}
	hs_check_report_free(&rep);
}

struct hs_host_op hs_test_hvc(struct hs_machine *m, unsigned cpu, int nr, uint64_t a0, uint64_t a1)
{
	uint64_t args[2] = {a0, a1};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, cpu, HS_HC_FN(nr), args, 2, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	return res;
}

void hs_test_host_touch(struct hs_machine *m, unsigned cpu, uint64_t pfn, bool write)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(
	    hs_host_access(m, cpu, write, pfn << HS_PAGE_SHIFT, 8, pfn, &res, &stop, &err) == 0,
	    "%s", err.msg);
}

void hs_test_toggle_cpu1(struct hs_machine *m, bool *on)
{
	struct hs_host_op r;
	struct hs_stop stop;
	struct hs_error err = {0};
	if (*on)
		ck_assert_msg(hs_host_smc(m, 1, HS_PSCI_CPU_OFF, 0, 0, 0, &r, &stop, &err) == 0,
			      "%s", err.msg);
	else
		ck_assert_msg(
		    hs_host_smc(m, 0, HS_PSCI_CPU_ON, 1, hs_host_entry(m), 0, &r, &stop, &err) == 0,
		    "%s", err.msg);
	*on = !*on;
}

uint64_t hs_test_ram_hash(struct hs_machine *m)
{
	const struct hs_machine_opts *o = hs_machine_opts(m);
	const uint64_t *p = hs_phys_ptr(m, o->ram_base, o->ram_size);
	uint64_t h = 0xcbf29ce484222325ULL;
	for (uint64_t i = 0; i < o->ram_size / 8; i++)
		if (p[i])
			h = (h ^ p[i] ^ i) * 0x100000001b3ULL;
	return h;
}

unsigned hs_test_checkpoint(struct hs_machine *m)
{
	unsigned id = 0;
	struct hs_error err = {0};
	ck_assert_msg(hs_checkpoint_take(m, false, &id, &err) == 0, "%s", err.msg);
	return id;
}

void hs_test_restart(struct hs_machine *m, unsigned id)
{
	struct hs_error err = {0};
	ck_assert_msg(hs_checkpoint_restore(m, id, &err) == 0, "%s", err.msg);
}

const char *hs_test_tlb_report(const struct hs_tlb_check *tc)
{
	static char buf[32768];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_tlb_check_text(&sb, tc, 0);
	snprintf(buf, sizeof(buf), "%s", sb.data ? sb.data : "");
	hs_sb_free(&sb);
	return buf;
}

void hs_test_host_writes_function(struct hs_machine *m, uint64_t pa, unsigned imm)
{
	const uint32_t code[2] = {0xd2800002u | ((uint32_t)imm << 5) /* movz x2, #imm */,
				  0xd65f03c0u /* ret */};
	for (int i = 0; i < 2; i++) {
		struct hs_host_op res;
		struct hs_stop stop;
		struct hs_error err = {0};
		ck_assert_msg(
		    hs_host_access(m, 0, true, pa + 4 * i, 4, code[i], &res, &stop, &err) == 0,
		    "%s", err.msg);
		ck_assert(!res.refused);
	}
}
