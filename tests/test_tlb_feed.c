/* SPDX-License-Identifier: MIT */
/*
 * The event feed the TLB checker reads: barriers from the hooks on the
 * addresses a Capstone scan found, table stores from the store tap with their
 * old and new values and the storing PC, TLB maintenance with the live VTTBR.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hypscope/abi.h>

#include "barrier_hooks.h"
#include "host.h"
#include "testutil.h"
#include "write_log.h"

#define MAX_EV 4096

struct rec {
	struct hs_event ev[MAX_EV];
	size_t nr;
};

static void on_event(const struct hs_event *ev, void *ud)
{
	struct rec *r = ud;
	if (r->nr < MAX_EV &&
	    (ev->type == HS_EV_BARRIER || ev->type == HS_EV_TABLE_STORE || ev->type == HS_EV_TLBI))
		r->ev[r->nr++] = *ev;
}

static const char *sym_of(struct hs_machine *m, uint64_t pc)
{
	static char buf[128];
	if (!hs_symbolize(m, pc, buf, sizeof(buf)))
		snprintf(buf, sizeof(buf), "?");
	return buf;
}

static void share(struct hs_machine *m, uint64_t fn, uint64_t pfn)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	uint64_t args[1] = {pfn};
	ck_assert_msg(hs_host_hvc(m, 0, fn, args, 1, &res, &stop, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(res.x0, HS_SMCCC_SUCCESS);
	ck_assert_int_eq(res.x1, 0);
}

START_TEST(feed_reports_the_break_before_make_of_a_share)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	static struct rec r;
	r.nr = 0;
	ck_assert_msg(hs_barrier_feed_get(m, &err) == 0, "%s", err.msg);
	ck_assert_uint_gt(hs_barrier_feed_count(m), 10);
	ck_assert_msg(hs_write_log_tap_get(m, &err) == 0, "%s", err.msg);
	hs_machine_subscribe(m, on_event, &r);
	uint64_t pfn = (hs_machine_opts(m)->ram_base >> HS_PAGE_SHIFT) + 0x10000;
	/* the host faults a block in, then a share splits it (break, TLBI, DSB, make) */
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert(hs_host_access(m, 0, false, pfn << HS_PAGE_SHIFT, 8, 0, &res, &stop, &err) == 0);
	uint64_t desc = hs_test_desc_pa(m, true, pfn << HS_PAGE_SHIFT);
	ck_assert_int_eq(hs_write_log_tap_watch(m, desc, true), 0);
	r.nr = 0;
	share(m, HS_HC_FN(HS_HC_host_share_hyp), pfn);
	/* break: the block entry is zeroed, the store made visible, invalidated by IPA, completed
	 */
	uint64_t block = 0;
	int step = 0;
	for (size_t i = 0; i < r.nr && step < 5; i++) {
		const struct hs_event *e = &r.ev[i];
		switch (step) {
		case 0:
			if (e->type == HS_EV_TABLE_STORE && e->store.pa == desc && !e->store.val) {
				block = e->store.old;
				ck_assert_str_eq(sym_of(m, e->store.pc), "pgt_break_pte+0xc");
				ck_assert_uint_eq(e->store.size, 8);
				step++;
			}
			break;
		case 1:
			if (e->type == HS_EV_BARRIER && e->barrier.kind == HS_BARRIER_DSB &&
			    e->barrier.option == 0xa /* ishst */)
				step++;
			break;
		case 2:
			if (e->type == HS_EV_TLBI && !strcmp(e->tlbi.op, "IPAS2E1IS")) {
				ck_assert_uint_eq(e->tlbi.operand, (pfn & ~511ULL));
				ck_assert_uint_eq(e->tlbi.vttbr >> 48, 0); /* the host's VMID */
				step++;
			}
			break;
		case 3:
			if (e->type == HS_EV_BARRIER && e->barrier.kind == HS_BARRIER_DSB &&
			    e->barrier.option == 0xb /* ish */)
				step++;
			break;
		case 4:
			if (e->type == HS_EV_TABLE_STORE && e->store.pa == desc && !e->store.old &&
			    (e->store.val & 3) == 3)
				step++;
			break;
		}
	}
	ck_assert_msg(step == 5, "break-before-make seen up to step %d of 5", step);
	ck_assert_uint_eq(block & 3, 1); /* it was a block */
	/* off: no barriers, no stores */
	hs_write_log_tap_put(m);
	hs_barrier_feed_put(m);
	r.nr = 0;
	share(m, HS_HC_FN(HS_HC_host_unshare_hyp), pfn);
	for (size_t i = 0; i < r.nr; i++)
		ck_assert_int_eq(r.ev[i].type, HS_EV_TLBI);
	hs_machine_unsubscribe(m, on_event, &r);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlb_feed");
	TCase *tc = tcase_create("feed");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, feed_reports_the_break_before_make_of_a_share);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
