/* SPDX-License-Identifier: MIT */
/*
 * Page-granular store traps (store_trap.h): stores to watched pages are
 * reported with old and new bytes, the exact PC and instruction count, and
 * stores elsewhere are not, whatever the TLB held before a page was watched.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "store_trap.h"
#include "testutil.h"

#define MAX_SEEN 64

struct seen {
	struct hs_trapped_store s[MAX_SEEN];
	size_t nr;
	uint64_t mem_before[MAX_SEEN]; /* memory at the `before` call */
	size_t nr_before;
	struct hs_machine *m;
};

static void before(void *ud, const struct hs_trapped_store *s)
{
	struct seen *w = ud;
	uint64_t v = 0;
	hs_phys_read(w->m, s->pa & ~7ULL, &v, 8, NULL);
	if (w->nr_before < MAX_SEEN)
		w->mem_before[w->nr_before++] = v;
}

static void after(void *ud, const struct hs_trapped_store *s)
{
	struct seen *w = ud;
	if (w->nr < MAX_SEEN)
		w->s[w->nr++] = *s;
}

/* A store by the host through its stub for `size` bytes (host.c: one slot per size). */
static void host_store_sized(struct hs_machine *m, uint64_t pa, unsigned size, uint64_t v)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_access(m, 0, true, pa, size, v, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert(!res.refused);
}

static void host_store(struct hs_machine *m, uint64_t pa, uint64_t v)
{
	host_store_sized(m, pa, 8, v);
}

/* A booted machine with the watch user set; *pa: a host page far from everything. */
static struct hs_machine *watched_machine(struct seen *w, uint64_t *pa)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	*pa = hs_machine_opts(m)->ram_base + 0x10000000;
	memset(w, 0, sizeof(*w));
	w->m = m;
	ck_assert_msg(hs_store_traps_exact(m), "no store traps on this Unicorn build");
	struct hs_store_trap_ops ops = {.before = before, .after = after, .ud = w};
	hs_store_trap_set_user(m, HS_TRAP_WATCH, &ops);
	return m;
}

START_TEST(store_to_a_watched_page_is_reported_once_with_old_new_and_pc)
{
	struct seen w;
	uint64_t pa;
	struct hs_machine *m = watched_machine(&w, &pa);
	host_store(m, pa, 0x1111); /* the host's stage 2 maps it now */
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, pa, true), 0);
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 1);
	uint64_t before_icount = hs_machine_icount(m);
	host_store(m, pa + 8, 0x2222);
	ck_assert_uint_eq(w.nr, 1);
	ck_assert_uint_eq(w.nr_before, 1);
	ck_assert_uint_eq(w.mem_before[0], 0); /* `before` ran before the bytes landed */
	ck_assert_uint_eq(w.s[0].pa, pa + 8);
	ck_assert_uint_eq(w.s[0].size, 8);
	ck_assert_uint_eq(w.s[0].old, 0);
	ck_assert_uint_eq(w.s[0].val, 0x2222);
	ck_assert_uint_eq(w.s[0].el, 1);
	/* the host model's store stub, in its code page */
	char sym[64];
	ck_assert(hs_symbolize(m, w.s[0].pc, sym, sizeof(sym)) || w.s[0].pc);
	ck_assert_uint_eq(w.s[0].pc >> 21, hs_machine_opts(m)->ram_base >> 21);
	ck_assert_uint_gt(w.s[0].icount, before_icount);
	ck_assert_uint_le(w.s[0].icount, hs_machine_icount(m));
	hs_machine_destroy(m);
}
END_TEST

START_TEST(stores_elsewhere_do_not_trap)
{
	struct seen w;
	uint64_t pa;
	struct hs_machine *m = watched_machine(&w, &pa);
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, pa, true), 0);
	struct hs_store_trap_stats st0, st1;
	hs_store_trap_stats(m, &st0);
	host_store(m, pa + HS_PAGE_SIZE, 1);
	host_store(m, pa - 8, 2);
	/* a null hypercall stores to the hypervisor's stack and host context */
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) == 0);
	hs_store_trap_stats(m, &st1);
	ck_assert_uint_eq(st1.traps, st0.traps);
	ck_assert_uint_eq(w.nr, 0);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(a_page_watched_after_its_stores_went_fast_traps_from_then_on)
{
	struct seen w;
	uint64_t pa;
	struct hs_machine *m = watched_machine(&w, &pa);
	/* stores through a dirty TLB entry: the fast path */
	for (int i = 0; i < 4; i++)
		host_store(m, pa, (uint64_t)i);
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, pa, true), 0);
	host_store(m, pa, 0xabc);
	ck_assert_uint_eq(w.nr, 1);
	ck_assert_uint_eq(w.s[0].old, 3);
	ck_assert_uint_eq(w.s[0].val, 0xabc);
	/* unwatched: no more reports */
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, pa, false), 0);
	host_store(m, pa, 0xdef);
	ck_assert_uint_eq(w.nr, 1);
	/* a user cleared forgets its pages */
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, pa, true), 0);
	hs_store_trap_set_user(m, HS_TRAP_WATCH, NULL);
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 0);
	ck_assert(!hs_store_trap_watched(m, HS_TRAP_WATCH, pa));
	host_store(m, pa, 0x123);
	ck_assert_uint_eq(w.nr, 1);
	hs_machine_destroy(m);
}
END_TEST

static uint64_t unwound(struct hs_machine *m)
{
	struct hs_store_trap_stats st;
	hs_store_trap_stats(m, &st);
	return st.unwound;
}

/*
 * A trap's PC is remembered by the store's host address in translated code
 * until the code buffer is emptied, which reuses those addresses. After a
 * flush the first block translated lands where the first one did: the host
 * store stub for 4 bytes, rewritten to the 8-byte store, then starts with
 * the same host code as the 8-byte stub's block did, at another guest PC.
 */
START_TEST(a_store_pc_stays_exact_when_flushed_code_reuses_its_host_address)
{
	struct seen w;
	uint64_t pa;
	struct hs_machine *m = watched_machine(&w, &pa);
	host_store(m, pa, 1);
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, pa, true), 0);
	uint64_t stubs = hs_machine_opts(m)->ram_base + HS_HOST_OFF_STR;
	hs_machine_flush_code(m);
	host_store(m, pa, 2); /* slot 3: str x1, [x0] */
	uint64_t u = unwound(m);
	host_store(m, pa, 3);
	ck_assert_uint_eq(unwound(m), u); /* the second time, remembered */
	ck_assert_uint_eq(w.nr, 2);
	ck_assert_uint_eq(w.s[0].pc, stubs + 3 * 8);
	ck_assert_uint_eq(w.s[1].pc, stubs + 3 * 8);

	const uint32_t str_x1_x0 = 0xf9000001u;
	struct hs_error err = {0};
	ck_assert_msg(hs_phys_write(m, stubs + 2 * 8, &str_x1_x0, 4, &err) == 0, "%s", err.msg);
	hs_machine_flush_code(m);
	host_store_sized(m, pa, 4, 0x44); /* slot 2, now the same 8-byte store */
	ck_assert_uint_eq(w.nr, 3);
	ck_assert_uint_eq(w.s[2].pc, stubs + 2 * 8);
	ck_assert_uint_eq(w.s[2].el, 1);
	ck_assert_uint_eq(w.s[2].val, 0x44);
	ck_assert_uint_eq(unwound(m), u + 1);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(watching_outside_ram_is_refused)
{
	struct seen w;
	uint64_t pa;
	struct hs_machine *m = watched_machine(&w, &pa);
	ck_assert_int_eq(hs_store_trap_watch(m, HS_TRAP_WATCH, 0x1000, true), -EINVAL);
	ck_assert_int_eq(
	    hs_store_trap_watch(m, HS_TRAP_NR_USERS, hs_machine_opts(m)->ram_base, true), -EINVAL);
	ck_assert_int_eq(
	    hs_store_trap_watch(m, HS_TRAP_WATCH,
				hs_machine_opts(m)->ram_base + hs_machine_opts(m)->ram_size, true),
	    -EINVAL);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_trap");
	TCase *tc = tcase_create("traps");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, store_to_a_watched_page_is_reported_once_with_old_new_and_pc);
	tcase_add_test(tc, stores_elsewhere_do_not_trap);
	tcase_add_test(tc, a_page_watched_after_its_stores_went_fast_traps_from_then_on);
	tcase_add_test(tc, a_store_pc_stays_exact_when_flushed_code_reuses_its_host_address);
	tcase_add_test(tc, watching_outside_ram_is_refused);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
