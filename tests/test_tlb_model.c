/* SPDX-License-Identifier: MIT */
/*
 * The architecture's TLB rules as pure functions (arch/tlb_rules.h) and the
 * TLB model (inspect/tlb_model.h) on fake memory, without Unicorn: TLBI
 * decoding, descriptor changes that need break-before-make, and the model's
 * verdicts on sequences of stores, TLBIs and DSBs over two CPUs.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tlb_model.h"
#include "tlb_rules.h"

/* ---- rules ---------------------------------------------------------------- */

START_TEST(tlbi_operands_decode)
{
	struct hs_tlbi_scope s;
	hs_tlbi_decode("IPAS2E1IS", (2ULL << 44) | (1ULL << 46) | 0x48100, 0x0001000012345000ULL,
		       &s);
	ck_assert(s.known && s.broadcast && s.by_addr && !s.last_level);
	ck_assert_uint_eq(s.regimes, 1u << HS_TLB_S2);
	ck_assert_uint_eq(s.addr, 0x48100000ULL);
	ck_assert_uint_eq(s.vmid, 1);
	ck_assert_int_eq(s.ttl_level, 2); /* TTL 0b0110: 4 KiB granule, level 2 */
	hs_tlbi_decode("VALE2", 0x800020003ULL, 0, &s);
	ck_assert(s.known && !s.broadcast && s.last_level);
	ck_assert_uint_eq(s.addr, 0x800020003000ULL);
	ck_assert_int_eq(s.ttl_level, -1);
	hs_tlbi_decode("VMALLS12E1IS", 0, 5ULL << 48, &s);
	ck_assert(!s.by_addr && !s.all_vmids && s.vmid == 5);
	ck_assert_uint_eq(s.regimes, (1u << HS_TLB_S2) | (1u << HS_TLB_EL10));
	hs_tlbi_decode("ALLE1", 0, 5ULL << 48, &s);
	ck_assert(s.all_vmids && !s.broadcast);
	hs_tlbi_decode("TLBI?", 0, 0, &s);
	ck_assert(!s.known);
}
END_TEST

START_TEST(dsb_options_complete_what_they_should)
{
	ck_assert(hs_dsb_completes_tlbi(0xb, true));  /* ish */
	ck_assert(hs_dsb_completes_tlbi(0xf, true));  /* sy */
	ck_assert(!hs_dsb_completes_tlbi(0xa, true)); /* ishst waits for stores only */
	ck_assert(!hs_dsb_completes_tlbi(0x7, true)); /* nsh: not the other PEs */
	ck_assert(hs_dsb_completes_tlbi(0x7, false)); /* ... but a local TLBI */
	ck_assert(hs_dsb_orders_stores(0xa, true));   /* ishst */
	ck_assert(!hs_dsb_orders_stores(0x9, true));  /* ishld */
	ck_assert(!hs_dsb_orders_stores(0x6, true));  /* nshst: not for other walkers */
}
END_TEST

static const struct {
	enum hs_pt_stage stage;
	int level;
	uint64_t old, new;
	enum hs_desc_change want;
	const char *why;
} changes[] = {
    {HS_PT_S2, 3, 0, 0x40000000007ffULL, HS_DC_MAKE, ""},
    {HS_PT_S2, 3, 0x40000000007ffULL, 0, HS_DC_BREAK, ""},
    {HS_PT_S2, 3, 0x40000000007ffULL, 0x40001000007ffULL, HS_DC_NEEDS_BBM, "output address"},
    {HS_PT_S2, 2, 0x400007fdULL, 0x7fa0d003ULL, HS_DC_NEEDS_BBM, "block size"},
    {HS_PT_S2, 3, 0x40000000007ffULL, 0x40000000007f7ULL, HS_DC_NEEDS_BBM, "memory type"},
    {HS_PT_S2, 3, 0x40000000007ffULL, 0x40000000006ffULL, HS_DC_NEEDS_BBM, "shareability"},
    {HS_PT_S2, 3, 0x40000000007ffULL, 0x40000000007ffULL | (1ULL << 52), HS_DC_NEEDS_BBM,
     "contiguous"},
    {HS_PT_S2, 3, 0x40000000007ffULL, 0x400000000077fULL, HS_DC_RESTRICT, ""}, /* W lost */
    {HS_PT_S2, 3, 0x400000000077fULL, 0x40000000007ffULL, HS_DC_RELAX, ""},    /* W gained */
    {HS_PT_S2, 3, 0x40000000007ffULL, 0x40000000007ffULL | (1ULL << 55), HS_DC_SAME, ""},
    {HS_PT_S1_EL2, 3, 0x60003743ULL, 0x600037c3ULL, HS_DC_RESTRICT, ""}, /* AP[2]: RO */
    {HS_PT_S1_EL2, 3, 0x60003743ULL, 0x60003743ULL | (1ULL << 54), HS_DC_RESTRICT, ""},
    {HS_PT_S1_EL2, 3, 0x60003743ULL, 0x60003343ULL, HS_DC_RELAX, ""}, /* AF cleared */
    {HS_PT_S1_EL2, 2, 0x7fa06003ULL, 0x7fa07003ULL, HS_DC_NEEDS_BBM, "table address"},
    {HS_PT_S2, 3, 0x2ULL, 0x4ULL, HS_DC_INVALID, ""},		 /* annotations */
    {HS_PT_S2, 3, 0x60000001ULL, 0x60000003ULL, HS_DC_MAKE, ""}, /* 0b01 at level 3 faults */
};

START_TEST(descriptor_changes_are_judged_by_r_whzws)
{
	const char *why;
	enum hs_desc_change c = hs_desc_change(changes[_i].stage, changes[_i].level,
					       changes[_i].old, changes[_i].new, &why);
	ck_assert_msg(c == changes[_i].want, "case %d: %s, want %s", _i, hs_desc_change_name(c),
		      hs_desc_change_name(changes[_i].want));
	ck_assert_str_eq(why, changes[_i].why);
}
END_TEST

/* ---- the model on fake memory ------------------------------------------------ */

#define BASE 0x80000000ULL
#define NPAGES 16
static uint64_t mem[NPAGES * 512];
static struct hs_tlb_violation seen[16];
static unsigned nr_seen;

static int fake_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	(void)ud;
	if (pa < BASE || pa + len > BASE + sizeof(mem))
		return -1;
	memcpy(buf, (char *)mem + (pa - BASE), len);
	return 0;
}

/* A 3-level stage 2 (start level 1, 39-bit IPA) and an EL2 stage 1, roots at pages 0 and 4. */
static int fake_regime(void *ud, unsigned cpu, enum hs_tlb_regime regime, uint64_t ttbr,
		       struct hs_pt_regime *out)
{
	(void)ud;
	(void)cpu;
	memset(out, 0, sizeof(*out));
	out->stage = regime == HS_TLB_S2 ? HS_PT_S2 : HS_PT_S1_EL2;
	out->root_pa = ttbr & 0xfffffffff000ULL;
	out->ia_bits = 39;
	out->start_level = 1;
	out->granule_shift = 12;
	out->nr_concat = 1;
	out->pa_bits = 40;
	return 0;
}

static void on_violation(void *ud, const struct hs_tlb_violation *v)
{
	(void)ud;
	if (nr_seen < 16)
		seen[nr_seen++] = *v;
}

static struct hs_tlb_model *md;

/* root (page 0) -> L2 (page 1) -> L3 (page 2) mapping IPA 0 .. with a few pages */
static void build(void)
{
	memset(mem, 0, sizeof(mem));
	nr_seen = 0;
	mem[0] = (BASE + 0x1000) | 3;
	mem[512] = (BASE + 0x2000) | 3;
	for (int i = 0; i < 8; i++)
		mem[1024 + i] = (0x40000000ULL + i * 0x1000) | 0x7ff; /* S2 RW normal pages */
	struct hs_phys phys = {.read = fake_read};
	struct hs_tlb_model_ops ops = {.root_regime = fake_regime, .violation = on_violation};
	md = hs_tlb_model_new(&phys, 2, &ops);
	ck_assert_ptr_nonnull(md);
	hs_tlb_model_load(md, 0, HS_TLB_S2, BASE | (3ULL << 48));
	hs_tlb_model_load(md, 1, HS_TLB_S2, BASE | (3ULL << 48));
	hs_tlb_model_lower_el_runs(md, 0, true);
	hs_tlb_model_lower_el_runs(md, 1, true);
	hs_tlb_model_hvc_enter(md, 0, "unmap");
}

static void done(void)
{
	hs_tlb_model_free(md);
	md = NULL;
}

/* CPU 0 stores val at the L3 entry of IPA page i (the hook sees it before it lands). */
static void store(int i, uint64_t val, uint64_t pc)
{
	uint64_t pa = BASE + 0x2000 + i * 8;
	hs_tlb_model_store(md, 0, pa, 8, mem[1024 + i], val, pc, 0);
	mem[1024 + i] = val;
}

static void tlbi(unsigned cpu, const char *op, uint64_t operand)
{
	struct hs_tlbi_scope s;
	hs_tlbi_decode(op, operand, 3ULL << 48, &s);
	hs_tlb_model_tlbi(md, cpu, &s, 0x100, 0);
}

static void dsb(unsigned cpu, unsigned opt)
{
	hs_tlb_model_dsb(md, cpu, opt, 0x200);
}

static void exit_hvc(void)
{
	hs_tlb_model_hvc_exit(md, 0, 0);
}

START_TEST(full_break_sequence_is_clean)
{
	build();
	struct hs_tlb_model_stats st;
	hs_tlb_model_stats(md, &st);
	ck_assert_uint_eq(st.tables, 3);
	store(2, 0, 0x10);
	dsb(0, 0xa);
	tlbi(0, "IPAS2E1IS", 2);
	dsb(0, 0xb);
	tlbi(0, "VMALLE1IS", 0);
	dsb(0, 0xb);
	store(2, 0x40005000ULL | 0x7ff, 0x20); /* a new page: fine after the break */
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 0);
	done();
}
END_TEST

START_TEST(combined_entries_need_the_stage1_invalidation)
{
	build();
	store(2, 0, 0x10);
	dsb(0, 0xa);
	tlbi(0, "IPAS2E1IS", 2);
	dsb(0, 0xb);
	exit_hvc(); /* no VMALLE1: combined stage 1+2 entries may still hold it */
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_UNMAP_NO_TLBI);
	ck_assert_uint_eq(seen[0].pc, 0x10);
	ck_assert_str_eq(seen[0].hvc, "unmap");
	done();
}
END_TEST

START_TEST(stage1_invalidation_before_the_stage2_one_completes_does_not_count)
{
	build();
	store(2, 0, 0x10);
	dsb(0, 0xa);
	tlbi(0, "IPAS2E1IS", 2);
	tlbi(0, "VMALLE1IS", 0); /* before the DSB: a walk may rebuild from the stale S2 entry */
	dsb(0, 0xb);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_UNMAP_NO_TLBI);
	done();
}
END_TEST

START_TEST(local_tlbi_leaves_the_other_cpu_stale)
{
	build();
	store(2, 0, 0x10);
	dsb(0, 0xa);
	tlbi(0, "VMALLS12E1", 0); /* local */
	dsb(0, 0x7);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_UNMAP_NO_TLBI);
	done();
}
END_TEST

START_TEST(dsb_st_does_not_complete_the_tlbi)
{
	build();
	store(2, 0, 0x10);
	dsb(0, 0xa);
	tlbi(0, "VMALLS12E1IS", 0);
	dsb(0, 0xa);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_NO_DSB);
	done();
}
END_TEST

START_TEST(tlbi_before_the_store_is_visible)
{
	build();
	store(2, 0, 0x10);
	tlbi(0, "VMALLS12E1IS", 0);
	dsb(0, 0xb);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_TLBI_BEFORE_DSB);
	ck_assert_uint_eq(seen[0].at_pc, 0x100);
	done();
}
END_TEST

START_TEST(tlbi_with_another_vmid_is_named)
{
	build();
	store(2, 0, 0x10);
	dsb(0, 0xa);
	struct hs_tlbi_scope s;
	hs_tlbi_decode("IPAS2E1IS", 2, 0, &s); /* VMID 0 loaded, the table is VMID 3's */
	hs_tlb_model_tlbi(md, 0, &s, 0x100, 0);
	dsb(0, 0xb);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_WRONG_VMID);
	ck_assert_uint_eq(seen[0].vmid, 3);
	done();
}
END_TEST

START_TEST(tlbi_for_another_regime_is_named)
{
	build();
	store(2, 0, 0x10);
	dsb(0, 0xa);
	tlbi(0, "VAE2IS", 2); /* the address of the stage-2 entry, as an EL2 VA */
	dsb(0, 0xb);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_WRONG_REGIME);
	done();
}
END_TEST

START_TEST(stage2_leaf_over_a_live_table_page)
{
	build();
	store(10, (BASE + 0x2000) | 0x7ff, 0x40); /* the level-3 table page itself, as data */
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_TABLE_MAPPED);
	ck_assert_uint_eq(seen[0].pc, 0x40);
	done();
}
END_TEST

START_TEST(remap_over_an_incomplete_break_is_bbm)
{
	build();
	store(2, 0, 0x10);
	store(2, 0x40009000ULL | 0x7ff, 0x20); /* new output address, old one still cached */
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_BBM);
	ck_assert_uint_eq(seen[0].pc, 0x20);
	done();
}
END_TEST

START_TEST(unmapped_page_mapped_elsewhere_before_the_tlbi)
{
	build();
	store(2, 0, 0x10);
	store(10, 0x40002000ULL | 0x7ff, 0x30); /* page 2's frame at an unmapped IPA */
	ck_assert_uint_eq(nr_seen, 1);
	ck_assert_int_eq(seen[0].rule, HS_TLB_R_UNMAP_NO_TLBI);
	ck_assert_uint_eq(seen[0].at_pc, 0x30);
	done();
}
END_TEST

START_TEST(tables_of_a_regime_nobody_ran_need_no_maintenance)
{
	build();
	hs_tlb_model_free(md);
	struct hs_phys phys = {.read = fake_read};
	struct hs_tlb_model_ops ops = {.root_regime = fake_regime, .violation = on_violation};
	md = hs_tlb_model_new(&phys, 2, &ops);
	hs_tlb_model_load(md, 0, HS_TLB_S2, BASE | (3ULL << 48)); /* loaded at EL2 only */
	store(2, 0, 0x10);
	exit_hvc();
	ck_assert_uint_eq(nr_seen, 0);
	done();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlb_model");
	TCase *r = tcase_create("rules");
	tcase_add_test(r, tlbi_operands_decode);
	tcase_add_test(r, dsb_options_complete_what_they_should);
	tcase_add_loop_test(r, descriptor_changes_are_judged_by_r_whzws, 0,
			    sizeof(changes) / sizeof(changes[0]));
	suite_add_tcase(s, r);
	TCase *t = tcase_create("model");
	tcase_add_test(t, full_break_sequence_is_clean);
	tcase_add_test(t, combined_entries_need_the_stage1_invalidation);
	tcase_add_test(t, stage1_invalidation_before_the_stage2_one_completes_does_not_count);
	tcase_add_test(t, local_tlbi_leaves_the_other_cpu_stale);
	tcase_add_test(t, dsb_st_does_not_complete_the_tlbi);
	tcase_add_test(t, tlbi_before_the_store_is_visible);
	tcase_add_test(t, tlbi_with_another_vmid_is_named);
	tcase_add_test(t, tlbi_for_another_regime_is_named);
	tcase_add_test(t, stage2_leaf_over_a_live_table_page);
	tcase_add_test(t, remap_over_an_incomplete_break_is_bbm);
	tcase_add_test(t, unmapped_page_mapped_elsewhere_before_the_tlbi);
	tcase_add_test(t, tables_of_a_regime_nobody_ran_need_no_maintenance);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
