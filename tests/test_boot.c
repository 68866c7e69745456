/* SPDX-License-Identifier: MIT */
/* The protected-mode boot flow, observed from outside (issues 2 and 3). */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <hypscope/abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_image.h"
#include "host.h"
#include "host_boot.h"
#include "hyp_state.h"
#include "pt_translate.h"
#include "pt_walk.h"
#include "testutil.h"
#include "uc_quirks.h"

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

/* Translate an EL2 VA through the table rooted at `ttbr` with cpu0's TCR/MAIR. */
static int el2_translate(struct hs_machine *m, uint64_t ttbr, uint64_t va, uint64_t *pa)
{
	uint64_t tcr, mair;
	hs_cpu_sysreg(m, 0, HS_SR_TCR_EL2, &tcr);
	hs_cpu_sysreg(m, 0, HS_SR_MAIR_EL2, &mair);
	struct hs_pt_regime r;
	char msg[128];
	ck_assert_int_eq(hs_pt_regime_el2(tcr, ttbr, mair, &r, msg, sizeof(msg)), 0);
	struct hs_phys phys = {.read = phys_read, .ud = m};
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&phys, &r, va, &t);
	*pa = t.out_pa;
	return rc;
}

static struct hs_host_op hvc(struct hs_machine *m, unsigned cpu, int nr, const uint64_t *a,
			     unsigned n)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	int rc = hs_host_hvc(m, cpu, HS_HC_FN(nr), a, n, &res, &stop, &err);
	ck_assert_msg(rc == 0, "hvc: %s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	return res;
}

START_TEST(boot_reaches_protected_host_on_every_cpu)
{
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	ck_assert(bi.booted && bi.finalized && bi.boot_tables_freed);
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		struct hs_cpu_state st;
		uint64_t sctlr, ttbr, hcr, vttbr;
		hs_cpu_state(m, cpu, &st);
		hs_cpu_sysreg(m, cpu, HS_SR_SCTLR_EL2, &sctlr);
		hs_cpu_sysreg(m, cpu, HS_SR_TTBR0_EL2, &ttbr);
		hs_cpu_sysreg(m, cpu, HS_SR_HCR_EL2, &hcr);
		hs_cpu_sysreg(m, cpu, HS_SR_VTTBR_EL2, &vttbr);
		ck_assert_uint_eq(st.el, 1); /* back in the host */
		ck_assert(sctlr & 1);	     /* EL2 MMU on */
		ck_assert(hcr & 1);	     /* host stage 2 on */
		ck_assert_uint_ne(vttbr, 0);
		/* TTBR0_EL2 points into the pool: the hypervisor's own table. */
		ck_assert_uint_eq(ttbr, bi.hyp_pgd_pa);
		ck_assert(ttbr >= bi.pool_pa && ttbr < bi.pool_pa + bi.pool_size);
	}
	hs_machine_destroy(m);
}
END_TEST

START_TEST(trampoline_page_same_va_same_pa_in_both_tables)
{
	struct hs_machine *m = hs_test_machine(1, 0);
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_boot(m, "pkvm-init", &stop, &err), 0);
	uint64_t trampoline, boot_ttbr, pa_boot, pa_run;
	ck_assert_int_eq(hs_sym_pa(m, "__pkvm_init_switch_pgd", &trampoline, &err), 0);
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &boot_ttbr);
	ck_assert_int_eq(el2_translate(m, boot_ttbr, trampoline, &pa_boot), 0);
	ck_assert_int_eq(hs_boot(m, NULL, &stop, &err), 0);
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	ck_assert_uint_ne(bi.hyp_pgd_pa, boot_ttbr);
	ck_assert_int_eq(el2_translate(m, bi.hyp_pgd_pa, trampoline, &pa_run), 0);
	ck_assert_uint_eq(pa_boot, trampoline); /* identity in the boot table */
	ck_assert_uint_eq(pa_run, pa_boot);	/* same VA, same page in the runtime table */
	hs_machine_destroy(m);
}
END_TEST

START_TEST(host_cannot_reach_hyp_pages_and_keeps_running)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t text;
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, &err), 0);
	ck_assert_int_eq(hs_host_access(m, 0, false, text, 8, 0, &res, &stop, &err), 0);
	ck_assert(res.refused);
	ck_assert_uint_eq(res.esr_el1 >> 26, 0x25); /* a data abort taken at EL1 */
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	ck_assert_int_eq(hs_host_access(m, 0, true, bi.pool_pa, 8, 1, &res, &stop, &err), 0);
	ck_assert(res.refused);
	/* The host is fine: its own memory still works. */
	uint64_t own = hs_machine_opts(m)->ram_base + 0x10000;
	ck_assert_int_eq(hs_host_access(m, 0, true, own, 8, 0x1234, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	ck_assert_int_eq(hs_host_access(m, 0, false, own, 8, 0, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	ck_assert_uint_eq(res.value, 0x1234);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(pkvm_init_bad_arguments_einval_nothing_changed)
{
	struct hs_machine *m = hs_test_machine(1, 0);
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_boot(m, "pkvm-init", &stop, &err), 0);
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	const struct hs_machine_opts *o = hs_machine_opts(m);
	uint64_t ram_end = o->ram_base + o->ram_size;
	uint64_t cases[][5] = {
	    {bi.pool_pa + 1, bi.pool_size, 1, bi.percpu_pa, 48},  /* misaligned */
	    {bi.pool_pa, bi.pool_size - 1, 1, bi.percpu_pa, 48},  /* misaligned size */
	    {bi.pool_pa, 0, 1, bi.percpu_pa, 48},		  /* empty */
	    {ram_end, bi.pool_size, 1, bi.percpu_pa, 48},	  /* not memory */
	    {bi.pool_pa, ~0ULL & ~0xfffULL, 1, bi.percpu_pa, 48}, /* overflows */
	    {bi.pool_pa, bi.pool_size, 0, bi.percpu_pa, 48},	  /* no CPUs */
	    {bi.pool_pa, bi.pool_size, 1000, bi.percpu_pa, 48},	  /* absurd CPUs */
	    {bi.pool_pa, bi.pool_size, 1, bi.percpu_pa + 8, 48},  /* per-CPU misaligned */
	    {bi.pool_pa, bi.pool_size, 1, bi.percpu_pa, 52},	  /* VA bits */
	    {bi.pool_pa, 0x1000, 1, bi.percpu_pa, 48},		  /* pool too small */
	};
	uint8_t *before = malloc(bi.pool_size);
	ck_assert_int_eq(hs_phys_read(m, bi.pool_pa, before, bi.pool_size, &err), 0);
	uint64_t ttbr0;
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hs_host_op r = hvc(m, 0, HS_HC___pkvm_init, cases[i], 5);
		ck_assert_int_eq(r.x0, HS_SMCCC_SUCCESS);
		ck_assert_msg(r.x1 == -HS_EINVAL || r.x1 == -HS_ENOMEM, "case %zu: %lld", i,
			      (long long)r.x1);
	}
	uint8_t *after = malloc(bi.pool_size);
	ck_assert_int_eq(hs_phys_read(m, bi.pool_pa, after, bi.pool_size, &err), 0);
	ck_assert(memcmp(before, after, bi.pool_size) == 0);
	uint64_t ttbr1;
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr1);
	ck_assert_uint_eq(ttbr0, ttbr1);
	/* And the real boot still works afterwards. */
	ck_assert_int_eq(hs_boot(m, NULL, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	free(before);
	free(after);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(early_hypercalls_refused_after_finalisation)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t a[5] = {0};
	struct hs_host_op r = hvc(m, 0, HS_HC___pkvm_init, a, 5);
	ck_assert_int_eq(r.x0, HS_SMCCC_NOT_SUPPORTED);
	r = hvc(m, 0, HS_HC___pkvm_create_private_mapping, a, 3);
	ck_assert_int_eq(r.x0, HS_SMCCC_NOT_SUPPORTED);
	r = hvc(m, 0, HS_HC___pkvm_prot_finalize, NULL, 0);
	ck_assert_int_eq(r.x0, HS_SMCCC_SUCCESS);
	ck_assert_int_eq(r.x1, -HS_EPERM); /* second call on this CPU */
	r = hvc(m, 0, HS_HC_nop, NULL, 0);
	ck_assert_int_eq(r.x0, HS_SMCCC_SUCCESS);
	ck_assert_int_eq(r.x1, 0);
	/* An unknown function id. */
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_host_hvc(m, 0, 0xC60000FFULL, NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(res.x0, HS_SMCCC_NOT_SUPPORTED);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(idmap_in_upper_half_uses_lower_half_linear_map)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	o.ram_base = 0x8000000000ULL; /* 512 GiB: bit 39 set */
	o.hyp_va_bits = 40;
	struct hs_machine *m = NULL;
	struct hs_error err = {0};
	ck_assert_msg(hs_machine_create(&o, &m, &err) == 0, "%s", err.msg);
	const struct hs_layout *l = hs_machine_layout(m);
	ck_assert(l->idmap_upper_half);
	ck_assert_uint_eq(l->linear_base, 0);
	struct hs_stop stop;
	ck_assert_msg(hs_boot(m, NULL, &stop, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	uint64_t text, va_pa;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, &err), 0);
	struct hs_boot_info bi;
	hs_boot_info(m, &bi);
	ck_assert_int_eq(el2_translate(m, bi.hyp_pgd_pa, hs_layout_hyp_va(l, text), &va_pa), 0);
	ck_assert_uint_eq(va_pa, text);
	ck_assert_uint_lt(hs_layout_hyp_va(l, text), 1ULL << 39); /* lower half */
	struct hs_host_op res;
	ck_assert_int_eq(hs_host_access(m, 0, false, text, 8, 0, &res, &stop, &err), 0);
	ck_assert(res.refused);
	hs_machine_destroy(m);
}
END_TEST

static int fault_events;
static void count_faults(const struct hs_event *ev, void *ud)
{
	(void)ud;
	if (ev->type == HS_EV_HYP_FAULT)
		fault_events++;
}

/*
 * Against Unicorn 2.0.1 the per-store page-collection lock must really be
 * replaced (exported and bound by the dynamic linker), and a guest store must
 * still invalidate translated code it overwrites: in one run, call a
 * function, store a new instruction over it, call it again. (Verified to
 * fail when tb_invalidate_phys_page_fast is disabled the same way.)
 */
START_TEST(store_path_skips_page_lock_and_still_sees_code_writes)
{
#if UC_API_MAJOR == 2 && UC_API_MINOR == 0 && UC_API_PATCH == 1
	ck_assert_msg(hs_quirk_store_lock_skipped(),
		      "Unicorn 2.0.1: the page-lock replacement is not in effect");
#endif
	uc_engine *uc;
	static uint8_t ram[0x10000] __attribute__((aligned(4096)));
	ck_assert_int_eq(hs_quirk_open(&uc), UC_ERR_OK);
	ck_assert_int_eq(uc_mem_map_ptr(uc, 0, sizeof(ram), UC_PROT_ALL, ram), UC_ERR_OK);
	/* Stores to pages without translated code are fast; this one is not. */
	ck_assert(hs_quirk_fast_stores_attach(uc, hs_quirk_engine_cpu(uc), ram, 0, sizeof(ram),
					      NULL, NULL));
	const uint32_t callee[] = {
	    0xd2800101, /* 0x2000: movz x1, #8 */
	    0xd65f03c0, /*         ret */
	};
	const uint32_t caller[] = {
	    0xd2840000, /* 0x1000: movz x0, #0x2000 */
	    0x940003ff, /*         bl 0x2000 */
	    0xaa0103e3, /*         mov x3, x1 */
	    0xb9000002, /*         str w2, [x0]: a new first instruction */
	    0x940003fc, /*         bl 0x2000 */
	};
	ck_assert_int_eq(uc_mem_write(uc, 0x2000, callee, sizeof(callee)), UC_ERR_OK);
	ck_assert_int_eq(uc_mem_write(uc, 0x1000, caller, sizeof(caller)), UC_ERR_OK);
	uint64_t x1 = 0, x3 = 0, x2 = 0xd2800121; /* movz x1, #9 */
	uc_reg_write(uc, UC_ARM64_REG_X2, &x2);
	ck_assert_int_eq(uc_emu_start(uc, 0x1000, 0x1000 + sizeof(caller), 0, 0), UC_ERR_OK);
	uc_reg_read(uc, UC_ARM64_REG_X1, &x1);
	uc_reg_read(uc, UC_ARM64_REG_X3, &x3);
	ck_assert_uint_eq(x3, 8);
	ck_assert_uint_eq(x1, 9);
	hs_quirk_fast_stores_detach(uc);
	uc_close(uc);
}
END_TEST

/*
 * Engines have 4 KiB TLB pages (Unicorn's default is 1 KiB; uc_quirks.c), stay
 * AArch64 engines after the size is chosen, refuse 1 KiB-aligned maps and run
 * AArch64 code.
 */
START_TEST(engines_have_4k_tlb_pages_and_stay_aarch64)
{
	uc_engine *uc;
	struct hs_error err = {0};
	int arch = 0;
	ck_assert_int_eq(hs_quirk_open(&uc), UC_ERR_OK);
	ck_assert_int_eq(uc_ctl(uc, HS_UC_CTL_READ(UC_CTL_UC_ARCH, 1), &arch), UC_ERR_OK);
	ck_assert_int_eq(arch, UC_ARCH_ARM64);
	ck_assert_int_eq(uc_mem_map(uc, 0x400, 0x400, UC_PROT_ALL), UC_ERR_ARG);
	ck_assert_int_eq(uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL), UC_ERR_OK);
	ck_assert_int_eq(hs_quirk_check_tlb_page(uc, &err), 0);
	const uint32_t code[] = {0xd2800101 /* movz x1, #8 */, 0x8b010021 /* add x1, x1, x1 */};
	ck_assert_int_eq(uc_mem_write(uc, 0x1000, code, sizeof(code)), UC_ERR_OK);
	uint64_t x1 = 0;
	ck_assert_int_eq(uc_emu_start(uc, 0x1000, 0x1000 + sizeof(code), 0, 0), UC_ERR_OK);
	uc_reg_read(uc, UC_ARM64_REG_X1, &x1);
	ck_assert_uint_eq(x1, 16);
	uc_close(uc);
}
END_TEST

static void deliver_natively(uc_engine *uc, uint32_t intno, void *cpu)
{
	(void)uc;
	(void)intno;
	hs_quirk_deliver_exception(cpu);
}

/* The PMU cycle counter's stored value (PMCCNTR_EL0's raw read: c15_ccnt). */
static uint64_t pmccntr(uc_engine *uc)
{
	return hs_quirk_cp_read(uc, 3, 3, 9, 13, 0);
}

/*
 * uc_pmu.c skips QEMU's PMU hook at EL changes only while no counter is
 * enabled: with the cycle counter on (PMCR_EL0.E, PMCNTENSET_EL0 bit 31) an
 * HVC from EL1 and its ERET must still bring it up to date, and with it off
 * it stays where it is (as in QEMU) and both EL changes skip the update.
 */
START_TEST(pmu_cycle_counter_still_counts_when_enabled)
{
	struct hs_quirks q;
	struct hs_error err = {0};
	ck_assert_msg(hs_quirks_calibrate(&q, &err) == 0, "%s", err.msg);
	ck_assert_msg(hs_quirk_pmu_hook_bound(), "the PMU hook replacement is not bound");
	ck_assert(q.pmcnten_off && q.pmu_hook_head_off && q.pmu_pre_el_change);
	uc_engine *uc;
	static uint8_t ram[0x4000] __attribute__((aligned(4096)));
	ck_assert_int_eq(hs_quirk_open(&uc), UC_ERR_OK);
	ck_assert_int_eq(uc_ctl_set_cpu_model(uc, UC_CPU_ARM64_A72), UC_ERR_OK);
	ck_assert_int_eq(uc_mem_map_ptr(uc, 0, sizeof(ram), UC_PROT_ALL, ram), UC_ERR_OK);
	void *cpu = hs_quirk_engine_cpu(uc);
	struct hs_pmu_hook pmu = {.q = &q};
	ck_assert(hs_quirk_pmu_attach(cpu, &pmu));
	uc_hook h;
	ck_assert_int_eq(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)deliver_natively, cpu, 1, 0),
			 UC_ERR_OK);
	const uint32_t hvc = 0xd4000002, nop = 0xd503201f, eret = 0xd69f03e0;
	ck_assert_int_eq(uc_mem_write(uc, 0x1000, &hvc, 4), UC_ERR_OK);
	ck_assert_int_eq(uc_mem_write(uc, 0x1004, &nop, 4), UC_ERR_OK);
	ck_assert_int_eq(uc_mem_write(uc, 0x2400, &eret, 4), UC_ERR_OK);
	hs_quirk_cp_write(uc, 3, 6, 1, 1, 0, 0x531);	  /* SCR_EL3: NS, HCE, RW */
	hs_quirk_cp_write(uc, 3, 4, 1, 1, 0, 1ULL << 31); /* HCR_EL2.RW */
	hs_quirk_cp_write(uc, 3, 4, 12, 0, 0, 0x2000);	  /* VBAR_EL2 */
	hs_quirk_cp_write(uc, 3, 3, 9, 12, 0, 1);	  /* PMCR_EL0.E */
	uint32_t el1h = 0x3c5;
	uint64_t before[2], after[2], skipped[2];
	for (int on = 0; on < 2; on++) {
		pmu.skipped = 0;
		hs_quirk_cp_write(uc, 3, 3, 9, 12, 1, on ? 1ULL << 31 : 0); /* PMCNTENSET_EL0 */
		uc_reg_write(uc, UC_ARM64_REG_PSTATE, &el1h);
		hs_quirk_rebuild_hflags(&q, cpu);
		before[on] = pmccntr(uc);
		/* The host clock drives the counter: let it move. */
		usleep(1000);
		ck_assert_int_eq(uc_emu_start(uc, 0x1000, 0x1008, 0, 0), UC_ERR_OK);
		after[on] = pmccntr(uc);
		skipped[on] = pmu.skipped;
	}
	ck_assert_uint_eq(after[0], before[0]);
	ck_assert_uint_gt(after[1], before[1]);
	ck_assert_uint_eq(skipped[0], 2); /* the HVC and its ERET */
	ck_assert_uint_eq(skipped[1], 0);
	uc_close(uc);
}
END_TEST

START_TEST(data_abort_inside_el2_is_a_decoded_event)
{
	struct hs_machine *m = hs_test_machine(1, 0);
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_boot(m, "pkvm-init", &stop, &err), 0);
	/* Make the trap handler load from EL2 VA 0x10, which nothing maps. */
	uint64_t handler;
	ck_assert_int_eq(hs_sym_pa(m, "handle_host_trap", &handler, &err), 0);
	uint32_t code[2] = {0xd2800201u /* mov x1, #0x10 */, 0xf9400020u /* ldr x0, [x1] */};
	ck_assert_int_eq(hs_phys_write(m, handler, code, sizeof(code), &err), 0);
	fault_events = 0;
	hs_machine_subscribe(m, count_faults, NULL);
	int rc = hs_boot(m, NULL, &stop, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_HYP_FAULT);
	ck_assert_int_eq(fault_events, 1);
	ck_assert_uint_eq(stop.fault.ec, 0x25); /* DABT_CUR */
	ck_assert_str_eq(stop.fault.ec_name, "DABT_CUR");
	ck_assert_uint_eq(stop.fault.far, 0x10);
	char sym[64];
	ck_assert(hs_symbolize(m, stop.fault.pc, sym, sizeof(sym)));
	/* Unicorn reports unmapped VAs with the PC of the block, not the instruction. */
	ck_assert(!strncmp(sym, "handle_host_trap", 16));
	ck_assert(hs_machine_dead(m));
	/* Only inspection remains; running is refused with a message. */
	struct hs_host_op res;
	ck_assert_int_ne(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	hs_machine_destroy(m);
}
END_TEST

static int create_with(const char *path, struct hs_error *err)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = path;
	struct hs_machine *m = NULL;
	int rc = hs_machine_create(&o, &m, err);
	hs_machine_destroy(m);
	return rc;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(buf, 1, len, f);
	fclose(f);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	unsigned char *buf = malloc((size_t)n);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

START_TEST(bad_elf_inputs_give_clear_errors)
{
	struct hs_error err = {0};
	ck_assert_int_ne(create_with("/nonexistent/hyp.elf", &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
	/* Read the real image and damage it in several ways. */
	size_t len;
	unsigned char *img = read_file(hs_test_hyp_elf(), &len);
	long n = (long)len;
	char path[] = "/tmp/hs-bad-elf-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	static const struct {
		size_t len;
		const char *expect;
	} truncations[] = {{0, "bad magic"},
			   {10, "bad magic"},
			   {40, "truncated"},
			   {200, "beyond"},
			   {0x11000, "beyond"}};
	for (size_t i = 0; i < sizeof(truncations) / sizeof(truncations[0]); i++) {
		write_file(path, img, truncations[i].len);
		ck_assert_int_ne(create_with(path, &err), 0);
		ck_assert_msg(strstr(err.msg, truncations[i].expect), "len %zu: %s",
			      truncations[i].len, err.msg);
	}
	unsigned char *bad = malloc((size_t)n);
	memcpy(bad, img, (size_t)n);
	bad[18] = 62; /* e_machine = x86-64 */
	write_file(path, bad, (size_t)n);
	ck_assert_int_ne(create_with(path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "not an AArch64"));
	memcpy(bad, img, (size_t)n);
	bad[4] = 1; /* 32-bit class */
	write_file(path, bad, (size_t)n);
	ck_assert_int_ne(create_with(path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "64-bit"));
	/* Random garbage after a valid header. */
	memcpy(bad, img, (size_t)n);
	srand(7);
	for (long i = 64; i < n; i++)
		bad[i] = (unsigned char)rand();
	write_file(path, bad, (size_t)n);
	ck_assert_int_ne(create_with(path, &err), 0);
	unlink(path);
	free(bad);
	free(img);
}
END_TEST

/* The build id as the program headers give it (PT_NOTE), independently of elf_image.c. */
static void build_id_from_phdrs(const unsigned char *f, size_t n, char *hex)
{
	const Elf64_Ehdr *eh = (const void *)f;
	hex[0] = '\0';
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(f + eh->e_phoff + i * sizeof(*ph));
		if (ph->p_type != PT_NOTE || ph->p_offset + ph->p_filesz > n)
			continue;
		const Elf64_Nhdr *nh = (const void *)(f + ph->p_offset);
		const unsigned char *desc =
		    (const unsigned char *)(nh + 1) + ((nh->n_namesz + 3) & ~3u);
		if (nh->n_type == NT_GNU_BUILD_ID)
			for (unsigned k = 0; k < nh->n_descsz; k++)
				sprintf(hex + 2 * k, "%02x", desc[k]);
	}
}

START_TEST(image_build_id_is_read_from_its_gnu_note)
{
	size_t n;
	unsigned char *f = read_file(hs_test_hyp_elf(), &n);
	char want[2 * HS_BUILD_ID_MAX + 1];
	build_id_from_phdrs(f, n, want);
	ck_assert_uint_eq(strlen(want), 40); /* ld --build-id=sha1 in hyp/CMakeLists.txt */
	struct hs_image *img;
	struct hs_error err = {0};
	ck_assert_msg(hs_image_load_mem(f, n, "hyp.elf", &img, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(img->build_id, want);
	hs_image_free(img);
	/* A build-id note with no bytes is malformed: refused, named. */
	const Elf64_Ehdr *eh = (const void *)f;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr *ph = (void *)(f + eh->e_phoff + i * sizeof(*ph));
		if (ph->p_type == PT_NOTE)
			((Elf64_Nhdr *)(f + ph->p_offset))->n_descsz = 0;
	}
	ck_assert_int_ne(hs_image_load_mem(f, n, "hyp.elf", &img, &err), 0);
	ck_assert_msg(strstr(err.msg, "build-id note of 0 bytes"), "%s", err.msg);
	free(f);
	/* An image linked without one (the guest: --build-id=none) loads with none. */
	const char *guest = getenv("HS_GUEST_ELF");
	ck_assert_ptr_nonnull(guest);
	ck_assert_msg(hs_image_load(guest, &img, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(img->build_id, "");
	hs_image_free(img);
}
END_TEST

START_TEST(absurd_machine_options_are_refused)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	struct hs_error err = {0};
	struct hs_machine *m = NULL;
	o.ram_size = 12345;
	ck_assert_int_ne(hs_machine_create(&o, &m, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "memory size"));
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	o.nr_cpus = 99;
	ck_assert_int_ne(hs_machine_create(&o, &m, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "CPUs"));
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	o.ram_base = 0xfff00000000000ULL;
	ck_assert_int_ne(hs_machine_create(&o, &m, &err), 0);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(same_boot_twice_gives_identical_instruction_counts)
{
	uint64_t counts[2];
	for (int i = 0; i < 2; i++) {
		struct hs_machine *m = hs_test_booted(2, 0);
		counts[i] = hs_machine_icount(m);
		hs_machine_destroy(m);
	}
	ck_assert_uint_eq(counts[0], counts[1]);
	ck_assert_uint_gt(counts[0], 1000);
}
END_TEST

/*
 * The host model zeroes what it hands out (the pool) by giving whole pages
 * back to the kernel: bytes written before read as zero, the partial pages at
 * either end are cleared byte-exactly, and the bytes around stay.
 */
START_TEST(host_zeroing_clears_written_ram_exactly)
{
	struct hs_machine *m = hs_test_machine(1, 0);
	struct hs_error err = {0};
	const struct hs_machine_opts *o = hs_machine_opts(m);
	uint64_t base = o->ram_base + o->ram_size - 16 * 4096, len = 3 * 4096 + 20;
	uint8_t junk[4 * 4096 + 64], back[sizeof(junk)];
	memset(junk, 0xc3, sizeof(junk));
	ck_assert_int_eq(hs_phys_write(m, base, junk, sizeof(junk), &err), 0);
	ck_assert_int_eq(hs_phys_zero(m, base + 3, len, &err), 0);
	ck_assert_int_eq(hs_phys_read(m, base, back, sizeof(back), &err), 0);
	for (size_t i = 0; i < sizeof(back); i++)
		ck_assert_uint_eq(back[i], i >= 3 && i < 3 + len ? 0 : 0xc3);
	/* Past the end of RAM: refused, nothing changed. */
	ck_assert_int_ne(hs_phys_zero(m, base, 17 * 4096, &err), 0);
	ck_assert_int_eq(hs_phys_read(m, base, back, 3, &err), 0);
	ck_assert_uint_eq(back[0], 0xc3);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("boot");
	TCase *tc = tcase_create("boot");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, boot_reaches_protected_host_on_every_cpu);
	tcase_add_test(tc, trampoline_page_same_va_same_pa_in_both_tables);
	tcase_add_test(tc, host_cannot_reach_hyp_pages_and_keeps_running);
	tcase_add_test(tc, pkvm_init_bad_arguments_einval_nothing_changed);
	tcase_add_test(tc, early_hypercalls_refused_after_finalisation);
	tcase_add_test(tc, idmap_in_upper_half_uses_lower_half_linear_map);
	tcase_add_test(tc, data_abort_inside_el2_is_a_decoded_event);
	tcase_add_test(tc, store_path_skips_page_lock_and_still_sees_code_writes);
	tcase_add_test(tc, engines_have_4k_tlb_pages_and_stay_aarch64);
	tcase_add_test(tc, pmu_cycle_counter_still_counts_when_enabled);
	tcase_add_test(tc, bad_elf_inputs_give_clear_errors);
	tcase_add_test(tc, image_build_id_is_read_from_its_gnu_note);
	tcase_add_test(tc, absurd_machine_options_are_refused);
	tcase_add_test(tc, same_boot_twice_gives_identical_instruction_counts);
	tcase_add_test(tc, host_zeroing_clears_written_ram_exactly);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
