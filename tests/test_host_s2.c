/* SPDX-License-Identifier: MIT */
/*
 * Host stage 2 and page ownership (issue 5): one test per row of the
 * transition table of docs/pkvm-reference.md, allowed and refused, each
 * checking both sides afterwards from emulated memory (host stage 2, EL2
 * stage 1, vmemmap through the inspection engine) and the invariant checker;
 * the fault handler's policy (lazy identity map, MMIO RW/XN device, refusal
 * by an abort the host survives); argument validation; and a stress test of
 * 100,000 random host operations against a reference model.
 *
 * Stress size: 100,000 operations in every build (about 2 s in RelWithDebInfo,
 * about 10 s in the HS_SANITIZE build, where Unicorn itself is not
 * instrumented); HS_STRESS_OPS in the environment overrides it.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "hyp_state.h"
#include "inspect_check.h"
#include "inspect_owner.h"
#include "inspect_snapshot.h"
#include "pt_decode.h"
#include "testutil.h"

#define STRESS_DEFAULT_OPS 100000

static struct hs_machine *m;

static void setup(void)
{
	m = hs_test_booted(1, 0);
}

static void teardown(void)
{
	hs_machine_destroy(m);
	m = NULL;
}

static int64_t hvc(int nr, uint64_t a0, uint64_t a1)
{
	uint64_t args[2] = {a0, a1};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, 0, HS_HC_FN(nr), args, 2, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(res.x0, HS_SMCCC_SUCCESS);
	return res.x1;
}

static struct hs_host_op host_access(bool write, uint64_t pa, uint64_t value)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_access(m, 0, write, pa, write ? 8 : 4, value, &res, &stop, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert(!hs_machine_dead(m));
	return res;
}

static uint64_t sym(const char *name)
{
	uint64_t pa = 0;
	ck_assert_int_eq(hs_sym_pa(m, name, &pa, NULL), 0);
	return pa;
}

static uint64_t ram_base(void)
{
	return hs_machine_opts(m)->ram_base;
}

static uint64_t ram_end(void)
{
	return hs_machine_opts(m)->ram_base + hs_machine_opts(m)->ram_size;
}

static uint64_t linear_va(uint64_t pa)
{
	return hs_layout_hyp_va(hs_machine_layout(m), pa);
}

/* What the tables say about one page, read from emulated memory. */
struct side {
	unsigned owner;	    /* host stage-2 annotation owner, else host */
	unsigned s2_kind;   /* HS_SNAP_EMPTY / LEAF / ANNOT */
	unsigned s2_state;  /* LEAF: SW state */
	unsigned host, hyp; /* vmemmap states */
	unsigned refcount;  /* vmemmap refcount (pin count of a shared page) */
	unsigned nr_el2;    /* EL2 VAs mapping the page */
	bool el2_linear;    /* one of them is its linear-map VA */
	unsigned el2_perm, el2_state;
};

static struct side look(uint64_t pa)
{
	struct hs_owner_ctx ctx;
	struct hs_error err = {0};
	memset(&ctx, 0, sizeof(ctx));
	ck_assert_msg(hs_owner_ctx_build(m, &ctx, &err) == 0, "%s", err.msg);
	struct hs_owner_page p;
	hs_owner_lookup(&ctx, pa, &p);
	struct side s = {0};
	s.owner = p.owner;
	s.s2_kind = p.s2_present ? p.s2.kind : HS_SNAP_EMPTY;
	s.s2_state = p.s2.state;
	ck_assert(p.vm_backed);
	s.host = HS_VM_HOST(p.vm);
	s.hyp = HS_VM_HYP(p.vm);
	s.refcount = HS_VM_RC(p.vm);
	s.nr_el2 = p.nr_el2;
	for (unsigned i = 0; i < p.nr_el2 && i < HS_OWNER_MAX_VAS; i++) {
		if (p.el2[i].va == linear_va(pa)) {
			s.el2_linear = true;
			s.el2_perm = p.el2[i].leaf.perm;
			s.el2_state = p.el2[i].leaf.state;
		}
	}
	hs_owner_ctx_free(&ctx);
	return s;
}

static void assert_host_owned(uint64_t pa)
{
	struct side s = look(pa);
	ck_assert_uint_eq(s.owner, HS_OWNER_HOST);
	ck_assert_uint_ne(s.s2_kind, HS_SNAP_ANNOT);
	ck_assert_uint_eq(s.host, HS_PAGE_OWNED);
	ck_assert_uint_eq(s.hyp, HS_PAGE_NOPAGE);
	ck_assert_uint_eq(s.nr_el2, 0);
	if (s.s2_kind == HS_SNAP_LEAF)
		ck_assert_uint_eq(s.s2_state, HS_PAGE_OWNED);
}

static void assert_shared(uint64_t pa, unsigned pins)
{
	struct side s = look(pa);
	ck_assert_uint_eq(s.owner, HS_OWNER_HOST);
	ck_assert_uint_eq(s.s2_kind, HS_SNAP_LEAF);
	ck_assert_uint_eq(s.s2_state, HS_PAGE_SHARED_OWNED);
	ck_assert_uint_eq(s.host, HS_PAGE_SHARED_OWNED);
	ck_assert_uint_eq(s.hyp, HS_PAGE_SHARED_BORROWED);
	ck_assert_uint_eq(s.refcount, pins);
	if (pins) {
		ck_assert_uint_eq(s.nr_el2, 1);
		ck_assert(s.el2_linear);
		ck_assert_uint_eq(s.el2_perm, HS_PT_PERM_R | HS_PT_PERM_W);
		ck_assert_uint_eq(s.el2_state, HS_PAGE_SHARED_BORROWED);
	} else {
		ck_assert_uint_eq(s.nr_el2, 0);
	}
}

static void assert_hyp_donated(uint64_t pa)
{
	struct side s = look(pa);
	ck_assert_uint_eq(s.owner, HS_OWNER_HYP);
	ck_assert_uint_eq(s.s2_kind, HS_SNAP_ANNOT);
	ck_assert_uint_eq(s.host, HS_PAGE_NOPAGE);
	ck_assert_uint_eq(s.hyp, HS_PAGE_OWNED);
	ck_assert(s.el2_linear);
	ck_assert_uint_eq(s.el2_perm, HS_PT_PERM_R | HS_PT_PERM_W);
	ck_assert_uint_eq(s.el2_state, HS_PAGE_OWNED);
}

/* Snapshots around refused calls: nothing at all may change. */
static struct hs_snapshot before;

static void snap_before(void)
{
	struct hs_error err = {0};
	hs_snapshot_init(&before);
	ck_assert_msg(hs_snapshot_take(m, 0, &before, &err) == 0, "%s", err.msg);
}

static void assert_unchanged(const char *what)
{
	struct hs_snapshot after;
	struct hs_diff d;
	struct hs_error err = {0};
	hs_snapshot_init(&after);
	hs_diff_init(&d);
	ck_assert_msg(hs_snapshot_take(m, 0, &after, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_snapshot_diff(&before, &after, &d), 0);
	if (d.nr) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		hs_diff_text(&sb, &d);
		ck_abort_msg("%s changed the tables:\n%s", what, hs_sb_str(&sb));
	}
	hs_diff_free(&d);
	hs_snapshot_free(&after);
	hs_snapshot_free(&before);
}

#define PA_A 0x50000000UL /* host memory, well away from the hypervisor's */
#define PA_B 0x50200000UL

/* ---- host_share_hyp / pin / unshare ------------------------------------ */

START_TEST(share_then_pin_maps_at_el2)
{
	uint64_t pfn = PA_A >> HS_PAGE_SHIFT;
	/* the host writes the page, then shares it */
	ck_assert(!host_access(true, PA_A, 0x1122334455667788ULL).refused);
	assert_host_owned(PA_A);
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn, 0), 0);
	assert_shared(PA_A, 0); /* not mapped at EL2 until pinned */
	hs_test_assert_clean(m, "after share");
	ck_assert_int_eq(hvc(HS_HC_hyp_pin_shared, pfn, 0), 0);
	assert_shared(PA_A, 1);
	/* the EL2 stage 1 of the live CPU translates the linear VA to the page */
	uint64_t pa = 0;
	ck_assert_int_eq(hs_el2_va_to_pa(m, 0, linear_va(PA_A), &pa, NULL), 0);
	ck_assert_uint_eq(pa, PA_A);
	ck_assert_int_eq(hvc(HS_HC_hyp_pin_shared, pfn, 0), 0);
	assert_shared(PA_A, 2);
	hs_test_assert_clean(m, "after two pins");
	/* the host keeps using its shared page */
	struct hs_host_op r = host_access(false, PA_A, 0);
	ck_assert(!r.refused);
	ck_assert_uint_eq(r.value, 0x55667788);
	ck_assert_int_eq(hvc(HS_HC_hyp_unpin_shared, pfn, 0), 0);
	assert_shared(PA_A, 1);
	ck_assert_int_eq(hvc(HS_HC_hyp_unpin_shared, pfn, 0), 0);
	assert_shared(PA_A, 0);
	ck_assert_int_ne(hs_el2_va_to_pa(m, 0, linear_va(PA_A), &pa, NULL), 0);
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), 0);
	assert_host_owned(PA_A);
	hs_test_assert_clean(m, "after unpin + unshare");
}
END_TEST

START_TEST(unshare_while_pinned_is_ebusy)
{
	uint64_t pfn = PA_A >> HS_PAGE_SHIFT;
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn, 0), 0);
	ck_assert_int_eq(hvc(HS_HC_hyp_pin_shared, pfn, 0), 0);
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), -HS_EBUSY);
	assert_unchanged("unshare while pinned");
	assert_shared(PA_A, 1);
	hs_test_assert_clean(m, "after -EBUSY");
	ck_assert_int_eq(hvc(HS_HC_hyp_unpin_shared, pfn, 0), 0);
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), 0);
	assert_host_owned(PA_A);
}
END_TEST

START_TEST(share_twice_is_eperm)
{
	uint64_t pfn = PA_A >> HS_PAGE_SHIFT;
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn, 0), 0);
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn, 0), -HS_EPERM);
	assert_unchanged("second share");
	assert_shared(PA_A, 0);
	hs_test_assert_clean(m, "after share twice");
}
END_TEST

START_TEST(share_hyp_page_is_eperm)
{
	const char *syms[] = {"__hyp_text_start", "__hyp_data_start", "hpool"};
	for (unsigned i = 0; i < 3; i++) {
		uint64_t pa = sym(syms[i]) & ~(HS_PAGE_SIZE - 1);
		struct side s0 = look(pa);
		ck_assert_uint_eq(s0.owner, HS_OWNER_HYP);
		snap_before();
		ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT, 0), -HS_EPERM);
		ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pa >> HS_PAGE_SHIFT, 0), -HS_EPERM);
		/* the hypervisor's own pages are not "borrowed": no pins either */
		ck_assert_int_eq(hvc(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT, 0), -HS_EPERM);
		ck_assert_int_eq(hvc(HS_HC_hyp_unpin_shared, pa >> HS_PAGE_SHIFT, 0), -HS_EPERM);
		assert_unchanged(syms[i]);
		struct side s = look(pa);
		ck_assert_uint_eq(s.owner, HS_OWNER_HYP);
		ck_assert_uint_eq(s.host, HS_PAGE_NOPAGE);
		ck_assert_uint_eq(s.hyp, HS_PAGE_OWNED);
	}
	hs_test_assert_clean(m, "after sharing hyp pages");
}
END_TEST

START_TEST(unshare_pin_unpin_of_unshared_page_is_eperm)
{
	uint64_t pfn = PA_A >> HS_PAGE_SHIFT;
	ck_assert(!host_access(false, PA_A, 0).refused); /* faulted in: a valid host leaf */
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_hyp_pin_shared, pfn, 0), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_hyp_unpin_shared, pfn, 0), -HS_EPERM);
	assert_unchanged("unshare/pin/unpin of a host page");
	assert_host_owned(PA_A);
	/* shared but not pinned: unpin is refused too */
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn, 0), 0);
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_hyp_unpin_shared, pfn, 0), -HS_EPERM);
	assert_unchanged("unpin of an unpinned page");
	assert_shared(PA_A, 0);
	/* unshare twice */
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), 0);
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), -HS_EPERM);
	assert_unchanged("second unshare");
	hs_test_assert_clean(m, "after refused calls");
}
END_TEST

/* ---- host stage-2 faults ------------------------------------------------- */

START_TEST(host_fault_maps_largest_block_rwx)
{
	/* nothing faulted in at PA_B yet */
	struct side s = look(PA_B);
	ck_assert_uint_eq(s.s2_kind, HS_SNAP_EMPTY);
	ck_assert(!host_access(false, PA_B, 0).refused);
	struct hs_snapshot snap;
	struct hs_error err = {0};
	hs_snapshot_init(&snap);
	ck_assert_int_eq(hs_snapshot_take(m, 0, &snap, &err), 0);
	const struct hs_snap_pt_range *r = hs_snap_pt_find(&snap, HS_SNAP_HOST_S2, PA_B);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->kind, HS_SNAP_LEAF);
	ck_assert_uint_eq(r->oa + (PA_B - r->start), PA_B); /* identity */
	ck_assert_uint_eq(r->perm, HS_PT_PERM_R | HS_PT_PERM_W | HS_PT_PERM_X);
	ck_assert(!r->device);
	ck_assert(r->block);
	/* a block, never over the hypervisor's annotated pages */
	ck_assert_uint_ge(r->end - r->start, 2UL << 20);
	ck_assert_uint_ge(r->start, ram_base());
	ck_assert_uint_le(r->end, ram_end());
	hs_snapshot_free(&snap);
	hs_test_assert_clean(m, "after a host fault");
}
END_TEST

START_TEST(host_read_of_hyp_page_is_refused_and_host_keeps_running)
{
	uint64_t text = sym("__hyp_text_start");
	snap_before();
	struct hs_host_op r = host_access(false, text, 0);
	ck_assert(r.refused);
	ck_assert_uint_eq(r.esr_el1 >> 26, 0x25); /* data abort, same level */
	ck_assert_uint_eq(r.far_el1, text);
	r = host_access(true, text, 0xdead);
	ck_assert(r.refused);
	assert_unchanged("refused host accesses");
	struct side s = look(text & ~(HS_PAGE_SIZE - 1));
	ck_assert_uint_eq(s.owner, HS_OWNER_HYP);
	/* the host carries on: its own memory and hypercalls work */
	ck_assert(!host_access(true, PA_A, 42).refused);
	ck_assert_uint_eq(host_access(false, PA_A, 0).value, 42);
	ck_assert_int_eq(hvc(HS_HC_nop, 0, 0), 0);
	hs_test_assert_clean(m, "after refused accesses");
}
END_TEST

START_TEST(host_mmio_access_gets_rw_xn_device_identity_map)
{
	struct hs_host_op r = host_access(false, HS_UART_BASE + HS_UART_FR, 0);
	ck_assert(!r.refused);
	struct hs_snapshot snap;
	struct hs_error err = {0};
	hs_snapshot_init(&snap);
	ck_assert_int_eq(hs_snapshot_take(m, 0, &snap, &err), 0);
	const struct hs_snap_pt_range *rg = hs_snap_pt_find(&snap, HS_SNAP_HOST_S2, HS_UART_BASE);
	ck_assert_ptr_nonnull(rg);
	ck_assert_uint_eq(rg->kind, HS_SNAP_LEAF);
	ck_assert_uint_eq(rg->oa + (HS_UART_BASE - rg->start), HS_UART_BASE); /* identity */
	ck_assert_uint_eq(rg->perm, HS_PT_PERM_R | HS_PT_PERM_W);	      /* XN */
	ck_assert(rg->device);
	/* the largest block of the MMIO gap below RAM, never reaching into RAM */
	ck_assert_uint_le(rg->end, ram_base());
	ck_assert_uint_ge(rg->end - rg->start, 2UL << 20);
	hs_snapshot_free(&snap);
	/* writes work too (a character on the console) */
	ck_assert(!host_access(true, HS_UART_BASE + HS_UART_DR, '\n').refused);
	hs_test_assert_clean(m, "after MMIO accesses");
}
END_TEST

/* ---- argument validation ------------------------------------------------- */

START_TEST(garbage_pfns_are_einval)
{
	uint64_t end_pfn = ram_end() >> HS_PAGE_SHIFT;
	const uint64_t bad[] = {0,
				1,
				HS_UART_BASE >> HS_PAGE_SHIFT,
				(ram_base() >> HS_PAGE_SHIFT) - 1,
				end_pfn,
				end_pfn + 1,
				1UL << (HS_PA_BITS - HS_PAGE_SHIFT),
				(1UL << (HS_PA_BITS - HS_PAGE_SHIFT)) - 1,
				1UL << 40,
				1UL << 52,
				~0UL,
				~0UL >> HS_PAGE_SHIFT,
				0x8000000000000000UL};
	const int one[] = {HS_HC_host_share_hyp, HS_HC_host_unshare_hyp, HS_HC_hyp_pin_shared,
			   HS_HC_hyp_unpin_shared};
	snap_before();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (unsigned j = 0; j < 4; j++)
			ck_assert_msg(hvc(one[j], bad[i], 0) == -HS_EINVAL, "call %d pfn %#" PRIx64,
				      one[j], bad[i]);
		ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, bad[i], 1), -HS_EINVAL);
		ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, bad[i], 1), -HS_EINVAL);
	}
	/* ranges: empty, straddling the end of RAM or its start, overflowing */
	uint64_t good = PA_A >> HS_PAGE_SHIFT;
	const uint64_t ranges[][2] = {
	    {good, 0},
	    {end_pfn - 2, 4},
	    {(ram_base() >> HS_PAGE_SHIFT) - 1, 2},
	    {good, ~0UL},
	    {good, (1UL << (HS_PA_BITS - HS_PAGE_SHIFT))},
	    {~0UL - 1, 4},
	    {(1UL << (HS_PA_BITS - HS_PAGE_SHIFT)) - 2, 4},
	};
	for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, ranges[i][0], ranges[i][1]),
				 -HS_EINVAL);
		ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, ranges[i][0], ranges[i][1]),
				 -HS_EINVAL);
	}
	assert_unchanged("garbage arguments");
	hs_test_assert_clean(m, "after garbage arguments");
}
END_TEST

/* ---- donations ----------------------------------------------------------- */

START_TEST(donate_host_to_hyp_and_back)
{
	uint64_t pfn = PA_A >> HS_PAGE_SHIFT;
	ck_assert(!host_access(true, PA_A, 7).refused); /* mapped as a block in the host stage 2 */
	ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, pfn, 4), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_hyp_donated(PA_A + i * HS_PAGE_SIZE);
	assert_host_owned(PA_A + 4 * HS_PAGE_SIZE); /* the neighbour stays the host's */
	hs_test_assert_clean(m, "after host_donate_hyp");
	/* the host lost it */
	ck_assert(host_access(false, PA_A + HS_PAGE_SIZE, 0).refused);
	ck_assert(!host_access(false, PA_A + 4 * HS_PAGE_SIZE, 0).refused);
	/* donated pages cannot be shared, donated again, pinned or unshared */
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn, 0), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_host_unshare_hyp, pfn, 0), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_hyp_pin_shared, pfn, 0), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, pfn + 3, 2), -HS_EPERM);
	assert_unchanged("refused calls on donated pages");
	/* give back the middle two pages, then the rest */
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn + 1, 2), 0);
	assert_hyp_donated(PA_A);
	assert_host_owned(PA_A + HS_PAGE_SIZE);
	assert_host_owned(PA_A + 2 * HS_PAGE_SIZE);
	assert_hyp_donated(PA_A + 3 * HS_PAGE_SIZE);
	hs_test_assert_clean(m, "after a partial hyp_donate_host");
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn + 1, 1), -HS_EPERM); /* already back */
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn, 2), -HS_EPERM);     /* half back */
	assert_unchanged("refused hyp_donate_host");
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn, 1), 0);
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn + 3, 1), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_host_owned(PA_A + i * HS_PAGE_SIZE);
	/* the host has its page back, contents intact */
	struct hs_host_op r = host_access(false, PA_A, 0);
	ck_assert(!r.refused);
	ck_assert_uint_eq(r.value, 7);
	hs_test_assert_clean(m, "after hyp_donate_host");
}
END_TEST

START_TEST(donate_is_all_or_nothing)
{
	uint64_t pfn = PA_A >> HS_PAGE_SHIFT;
	/* the last page of the range is shared: the whole donation is refused */
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, pfn + 7, 0), 0);
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, pfn, 8), -HS_EPERM);
	assert_unchanged("donation of a range with a shared page");
	for (unsigned i = 0; i < 7; i++)
		assert_host_owned(PA_A + i * HS_PAGE_SIZE);
	assert_shared(PA_A + 7 * HS_PAGE_SIZE, 0);
	/* the hypervisor's own pages can never be donated to the host */
	uint64_t text = sym("__hyp_text_start") >> HS_PAGE_SHIFT;
	uint64_t pool = sym("hpool") >> HS_PAGE_SHIFT;
	snap_before();
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, text, 1), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pool, 1), -HS_EPERM);
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn, 1), -HS_EPERM);     /* host's */
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, pfn + 7, 1), -HS_EPERM); /* shared */
	ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, text, 1), -HS_EPERM);
	assert_unchanged("refused donations");
	/* a 2 MiB-aligned 2 MiB donation (a block at EL2) and back page by page */
	uint64_t big = PA_B >> HS_PAGE_SHIFT;
	ck_assert_int_eq(hvc(HS_HC_host_donate_hyp, big, 512), 0);
	assert_hyp_donated(PA_B);
	assert_hyp_donated(PA_B + 511 * HS_PAGE_SIZE);
	hs_test_assert_clean(m, "after a 2 MiB donation");
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, big + 100, 1), 0);
	assert_host_owned(PA_B + 100 * HS_PAGE_SIZE);
	assert_hyp_donated(PA_B + 99 * HS_PAGE_SIZE);
	assert_hyp_donated(PA_B + 101 * HS_PAGE_SIZE);
	hs_test_assert_clean(m, "after splitting the donation");
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, big, 100), 0);
	ck_assert_int_eq(hvc(HS_HC_hyp_donate_host, big + 101, 411), 0);
	assert_host_owned(PA_B);
	assert_host_owned(PA_B + 511 * HS_PAGE_SIZE);
	hs_test_assert_clean(m, "after returning the 2 MiB");
}
END_TEST

START_TEST(donation_hypercalls_are_late_only)
{
	/* before protection is finalised the late calls are not available */
	struct hs_machine *m2 = hs_test_machine(1, 0);
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_boot(m2, "finalize", &stop, &err), 0);
	uint64_t args[2] = {PA_A >> HS_PAGE_SHIFT, 1};
	struct hs_host_op res;
	ck_assert_int_eq(
	    hs_host_hvc(m2, 0, HS_HC_FN(HS_HC_host_donate_hyp), args, 2, &res, &stop, &err), 0);
	ck_assert_int_eq(res.x0, HS_SMCCC_NOT_SUPPORTED);
	hs_machine_destroy(m2);
}
END_TEST

/* ---- stress -------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

enum { M_HOST, M_SHARED, M_HYP };

START_TEST(stress_random_host_operations)
{
	const char *env = getenv("HS_STRESS_OPS");
	uint64_t n = env ? strtoull(env, NULL, 0) : STRESS_DEFAULT_OPS;
	uint64_t base = ram_base(), npages = (ram_end() - base) >> HS_PAGE_SHIFT;
	uint64_t base_pfn = base >> HS_PAGE_SHIFT;
	/* Reference model of every page of RAM, from the ownership map after boot. */
	uint8_t *state = calloc(npages, 1);
	uint16_t *pins = calloc(npages, sizeof(uint16_t));
	ck_assert(state && pins);
	struct hs_owner_map map = {0};
	struct hs_error err = {0};
	ck_assert_int_eq(hs_owner_map_build(m, &map, &err), 0);
	struct {
		uint64_t pfn, nr;
	} hyp[32];
	unsigned nr_hyp = 0;
	for (size_t i = 0; i < map.nr; i++) {
		const struct hs_owner_range *r = &map.r[i];
		ck_assert(r->owner == HS_OWNER_HOST || r->owner == HS_OWNER_HYP);
		ck_assert_uint_eq(r->host_state,
				  r->owner == HS_OWNER_HYP ? HS_PAGE_NOPAGE : HS_PAGE_OWNED);
		for (uint64_t pa = r->start; pa < r->end; pa += HS_PAGE_SIZE)
			state[(pa - base) >> HS_PAGE_SHIFT] =
			    r->owner == HS_OWNER_HYP ? M_HYP : M_HOST;
		if (r->owner == HS_OWNER_HYP && nr_hyp < 32) {
			hyp[nr_hyp].pfn = r->start >> HS_PAGE_SHIFT;
			hyp[nr_hyp++].nr = (r->end - r->start) >> HS_PAGE_SHIFT;
		}
	}
	hs_owner_map_free(&map);
	ck_assert_uint_gt(nr_hyp, 0);
	/*
	 * A hot set so that states actually move: a quarter hyp pages (first,
	 * last and random pages of each hyp range), the rest host pages in
	 * 16 MiB of RAM, some of them next to each other.
	 */
	enum { HOT = 256 };
	uint64_t hot[HOT];
	rng_state = 0x0123456789abcdefULL;
	for (unsigned i = 0; i < HOT; i++) {
		if (i % 4 == 0) {
			unsigned k = (i / 4) % nr_hyp;
			uint64_t off = (i / 4) < nr_hyp	      ? 0
				       : (i / 4) < 2 * nr_hyp ? hyp[k].nr - 1
							      : rnd() % hyp[k].nr;
			hot[i] = hyp[k].pfn + off;
		} else {
			hot[i] = base_pfn + 0x4000 + (i < 128 ? i : rnd() % 4096);
		}
	}
	const uint64_t garbage[] = {0,
				    1,
				    ~0UL,
				    1UL << 40,
				    1UL << 32,
				    base_pfn - 1,
				    base_pfn + npages,
				    HS_UART_BASE >> HS_PAGE_SHIFT,
				    0x8000000000000000UL};
	/* The host's code page (its stubs and vectors) is the one page it must not scribble on. */
	const uint64_t host_code_end = base + HS_PAGE_SIZE;

	rng_state = 0x5eed5eed12345678ULL;
	uint64_t counts[8] = {0}, refused = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = rnd();
		unsigned op = r % 6; /* share, unshare, pin, unpin, read, write */
		unsigned how = (r >> 8) % 100;
		uint64_t pfn;
		if (how < 70)
			pfn = hot[(r >> 16) % HOT];
		else if (how < 90)
			pfn = base_pfn + (r >> 16) % npages;
		else
			pfn = op >= 4	 ? base_pfn + (r >> 16) % npages
			      : how < 95 ? garbage[(r >> 16) % (sizeof(garbage) / 8)]
					 : rnd();
		bool in_ram = pfn >= base_pfn && pfn - base_pfn < npages;
		uint64_t idx = in_ram ? pfn - base_pfn : 0;
		counts[op]++;
		if (op < 4) {
			static const int nrs[4] = {HS_HC_host_share_hyp, HS_HC_host_unshare_hyp,
						   HS_HC_hyp_pin_shared, HS_HC_hyp_unpin_shared};
			int64_t want;
			if (!in_ram) {
				want = -HS_EINVAL;
			} else if (op == 0) {
				want = state[idx] == M_HOST ? 0 : -HS_EPERM;
				if (!want)
					state[idx] = M_SHARED;
			} else if (op == 1) {
				want = state[idx] != M_SHARED ? -HS_EPERM
				       : pins[idx]	      ? -HS_EBUSY
							      : 0;
				if (!want)
					state[idx] = M_HOST;
			} else if (op == 2) {
				want = state[idx] == M_SHARED ? 0 : -HS_EPERM;
				if (!want)
					pins[idx]++;
			} else {
				want = state[idx] == M_SHARED && pins[idx] ? 0 : -HS_EPERM;
				if (!want)
					pins[idx]--;
			}
			int64_t got = hvc(nrs[op], pfn, 0);
			ck_assert_msg(got == want,
				      "op %" PRIu64 ": call %d pfn %#" PRIx64 " returned %" PRId64
				      ", model says %" PRId64,
				      i, nrs[op], pfn, got, want);
		} else {
			uint64_t pa = (pfn << HS_PAGE_SHIFT) | ((r >> 40) & 0xff8);
			bool write = op == 5;
			if (write && pa < host_code_end)
				write = false;
			if ((r >> 50) % 64 == 0) { /* now and then: the UART */
				pa = HS_UART_BASE + HS_UART_FR;
				write = false;
				idx = ~0UL;
			}
			struct hs_host_op res = host_access(write, pa, r);
			bool want_refused = idx != ~0UL && state[idx] == M_HYP;
			ck_assert_msg(res.refused == want_refused,
				      "op %" PRIu64 ": host %s of %#" PRIx64 " %s", i,
				      write ? "write" : "read", pa,
				      res.refused ? "refused" : "allowed");
			refused += res.refused;
		}
		if ((i + 1) % 10000 == 0)
			hs_test_assert_clean(m, "during the stress test");
	}
	ck_assert(!hs_machine_dead(m));
	hs_test_assert_clean(m, "after the stress test");
	/* exactly one owner per page, and it is the model's */
	ck_assert_int_eq(hs_owner_map_build(m, &map, &err), 0);
	uint64_t covered = 0;
	for (size_t i = 0; i < map.nr; i++) {
		const struct hs_owner_range *rg = &map.r[i];
		for (uint64_t pa = rg->start; pa < rg->end; pa += HS_PAGE_SIZE) {
			uint8_t s = state[(pa - base) >> HS_PAGE_SHIFT];
			unsigned want_owner = s == M_HYP ? HS_OWNER_HYP : HS_OWNER_HOST;
			unsigned want_host = s == M_HYP	     ? HS_PAGE_NOPAGE
					     : s == M_SHARED ? HS_PAGE_SHARED_OWNED
							     : HS_PAGE_OWNED;
			ck_assert_uint_eq(rg->owner, want_owner);
			ck_assert_uint_eq(rg->host_state, want_host);
			covered++;
		}
	}
	ck_assert_uint_eq(covered, npages);
	hs_owner_map_free(&map);
	fprintf(stderr,
		"stress: %" PRIu64 " ops (share %" PRIu64 ", unshare %" PRIu64 ", pin %" PRIu64
		", unpin %" PRIu64 ", read %" PRIu64 ", write %" PRIu64 "), %" PRIu64
		" accesses refused\n",
		n, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], refused);
	free(state);
	free(pins);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("host_s2");
	TCase *tc = tcase_create("transitions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, share_then_pin_maps_at_el2);
	tcase_add_test(tc, unshare_while_pinned_is_ebusy);
	tcase_add_test(tc, share_twice_is_eperm);
	tcase_add_test(tc, share_hyp_page_is_eperm);
	tcase_add_test(tc, unshare_pin_unpin_of_unshared_page_is_eperm);
	tcase_add_test(tc, donate_host_to_hyp_and_back);
	tcase_add_test(tc, donate_is_all_or_nothing);
	tcase_add_test(tc, garbage_pfns_are_einval);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("faults");
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, host_fault_maps_largest_block_rwx);
	tcase_add_test(tf, host_read_of_hyp_page_is_refused_and_host_keeps_running);
	tcase_add_test(tf, host_mmio_access_gets_rw_xn_device_identity_map);
	suite_add_tcase(s, tf);
	TCase *tl = tcase_create("phases");
	tcase_add_test(tl, donation_hypercalls_are_late_only);
	suite_add_tcase(s, tl);
	TCase *ts = tcase_create("stress");
	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_set_timeout(ts, 300);
	tcase_add_test(ts, stress_random_host_operations);
	suite_add_tcase(s, ts);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
