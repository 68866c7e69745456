/* SPDX-License-Identifier: MIT */
/*
 * The write log's two ways of knowing which pages were written (write_log.h):
 * the kernel's (userfaultfd write-protect + PAGEMAP_SCAN) and the hooks'.
 * ctest runs this program twice, the second time with HS_WRITE_LOG_HOOKS=1
 * (test_write_log_hooks): a store by each kind of writer (the hypervisor at
 * EL2, the host at EL1, a guest, the emulator itself, the host model's
 * zeroing) must reach a checkpoint and a record replay on both.
 */
#include <check.h>
#include <hypscope/abi.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "host.h"
#include "host_vm.h"
#include "replay.h"
#include "testutil.h"
#include "write_log.h"

#define RAM (256ULL << 20)
#define PFN 0x48000ULL /* host pages: shared with the hypervisor, written by the host */
#define GFN 0x48100ULL

static bool hooks_forced(void)
{
	const char *e = getenv("HS_WRITE_LOG_HOOKS");
	return e && *e && strcmp(e, "0");
}

/* The path this run is about: the kernel's unless the fallback is forced. */
static void assert_path(struct hs_machine *m)
{
	struct hs_write_log_stats st;
	hs_write_log_stats(m, &st);
	if (hooks_forced()) {
		ck_assert_msg(!st.kernel && st.hooked, "the hooks should feed the log");
		ck_assert_ptr_nonnull(st.why_hooks);
	} else {
		ck_assert_msg(st.kernel && !st.hooked, "the kernel should track the pages: %s",
			      st.why_hooks ? st.why_hooks : "?");
	}
}

/* A VM with GFN mapped to host page PFN + 0x20, loaded on CPU 0. */
static uint64_t vm_with_page(struct hs_machine *m)
{
	struct hs_error err = {0};
	uint64_t h;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_share(m, 0, h, PFN + 0x20, GFN, 1, HS_PROT_RW, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(hs_vm_load(m, 0, h, &ret, &err), 0);
	return h;
}

static void guest_writes(struct hs_machine *m, uint64_t val)
{
	struct hs_vm_exit x;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_WRITE, (GFN << 12) + 16, val, &x, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(x.status, 0);
}

enum writer { EL2, HOST, GUEST, EMULATOR, ZEROING, NR_WRITERS };
static const char *const writer_name[] = {"EL2", "host EL1", "guest", "emulator", "zeroing"};

/* Make writer w store; return the PA of a word it changed. */
static uint64_t write_by(struct hs_machine *m, enum writer w)
{
	struct hs_error err = {0};
	uint64_t pa, v = 0x5a5a5a5a12345678ULL;
	switch (w) {
	case EL2: /* the share writes the host stage-2 leaf (and its table page) */
		pa = hs_test_desc_pa(m, true, PFN << 12);
		ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_host_share_hyp, PFN, 0).x1, 0);
		return pa;
	case HOST: /* stores the pfn into its own page, through its stage 2 */
		hs_test_host_touch(m, 0, PFN + 1, true);
		return (PFN + 1) << 12;
	case GUEST:
		guest_writes(m, 0x77);
		return ((PFN + 0x20) << 12) + 16;
	case EMULATOR:
		pa = ((PFN + 2) << 12) + 8;
		ck_assert_int_eq(hs_phys_write(m, pa, &v, 8, &err), 0);
		return pa;
	case ZEROING: /* a page that held something, emptied as the host model hands it out */
		pa = (PFN + 3) << 12;
		ck_assert_int_eq(hs_phys_zero(m, pa, HS_PAGE_SIZE, &err), 0);
		return pa;
	default:
		ck_abort();
	}
	return 0;
}

START_TEST(each_writer_reaches_a_checkpoint)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	uint64_t v = 0x1111;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_phys_write(m, (PFN + 3) << 12, &v, 8, &err), 0);
	vm_with_page(m);
	guest_writes(m, 0x66);
	hs_test_checkpoint(m);
	assert_path(m);
	for (enum writer w = 0; w < NR_WRITERS; w++) {
		uint64_t h0 = hs_test_ram_hash(m);
		unsigned before = hs_test_checkpoint(m);
		uint64_t pa = write_by(m, w);
		uint64_t now = hs_test_rd64(m, pa), h1 = hs_test_ram_hash(m);
		unsigned after = hs_test_checkpoint(m);
		struct hs_checkpoint_info info;
		ck_assert(hs_checkpoint_get(m, after, &info));
		ck_assert_msg(info.pages > 0, "%s: the checkpoint after it has no page",
			      writer_name[w]);
		hs_test_restart(m, before);
		ck_assert_msg(hs_test_rd64(m, pa) != now, "%s: its store survived the restore",
			      writer_name[w]);
		ck_assert_msg(hs_test_ram_hash(m) == h0, "%s: RAM differs from the checkpoint's",
			      writer_name[w]);
		hs_test_restart(m, after);
		ck_assert_msg(hs_test_rd64(m, pa) == now, "%s: its store did not come back",
			      writer_name[w]);
		ck_assert_uint_eq(hs_test_ram_hash(m), h1);
	}
	assert_path(m);
	hs_test_assert_clean(m, "after the restarts");
	hs_machine_destroy(m);
}
END_TEST

START_TEST(each_cpu_writer_reaches_a_replay)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	vm_with_page(m);
	guest_writes(m, 0x66);
	struct hs_error err = {0};
	ck_assert_msg(hs_record_start(m, &err) == 0, "%s", err.msg);
	assert_path(m);
	const enum writer order[] = {EL2, HOST, GUEST};
	uint64_t t[4], h[4], pa[3], val[3];
	t[0] = hs_machine_icount(m);
	h[0] = hs_test_ram_hash(m);
	for (unsigned i = 0; i < 3; i++) {
		pa[i] = write_by(m, order[i]);
		val[i] = hs_test_rd64(m, pa[i]);
		/* some instructions after it in the same operation's wake: the next op's start */
		ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_nop, 0, 0).x1, 0);
		t[i + 1] = hs_machine_icount(m);
		h[i + 1] = hs_test_ram_hash(m);
	}
	for (int i = 3; i >= 0; i--) {
		ck_assert_msg(hs_replay_to(m, t[i], &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(hs_machine_icount(m), t[i]);
		ck_assert_msg(hs_test_ram_hash(m) == h[i], "replay to point %d: RAM differs", i);
		for (unsigned k = 0; k < 3; k++)
			ck_assert_msg((hs_test_rd64(m, pa[k]) == val[k]) == (k < (unsigned)i),
				      "replay to point %d: %s's store", i, writer_name[order[k]]);
	}
	/* and forward again, past every store, from the start of the history */
	ck_assert_msg(hs_replay_to(m, t[3], &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(hs_test_ram_hash(m), h[3]);
	assert_path(m);
	hs_machine_destroy(m);
}
END_TEST

/* Several readers, each with its own "since my last take", across a change of who feeds them. */
START_TEST(readers_keep_their_own_takes)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	struct hs_write_log_reader *a, *b;
	struct hs_write_log_pages p;
	/* faulted in first: a store that faults is one the hooks cannot place (they lose track) */
	for (uint64_t i = 4; i <= 6; i++)
		hs_test_host_touch(m, 0, PFN + i, false);
	ck_assert_int_eq(hs_write_log_open_rare(m, &a, NULL), 0);
	assert_path(m);
	hs_test_host_touch(m, 0, PFN + 4, true);
	ck_assert_int_eq(hs_write_log_open_rare(m, &b, NULL), 0);
	hs_test_host_touch(m, 0, PFN + 5, true);
	hs_write_log_take(a, &p);
	ck_assert(!p.lost);
	bool four = false, five = false;
	for (size_t i = 0; i < p.nr; i++) {
		four |= p.pa[i] == (PFN + 4) << 12;
		five |= p.pa[i] == (PFN + 5) << 12;
	}
	ck_assert(four && five);
	/* a reader that takes at every call brings the hooks; its close the kernel again */
	struct hs_write_log_reader *c;
	struct hs_write_log_stats st;
	ck_assert_int_eq(hs_write_log_open(m, &c, NULL), 0);
	hs_write_log_stats(m, &st);
	ck_assert(!st.kernel && st.hooked);
	hs_test_host_touch(m, 0, PFN + 6, true);
	hs_write_log_close(c);
	assert_path(m);
	hs_write_log_take(b, &p); /* opened after the first store: the second and third */
	four = five = false;
	bool six = false;
	for (size_t i = 0; i < p.nr; i++) {
		four |= p.pa[i] == (PFN + 4) << 12;
		five |= p.pa[i] == (PFN + 5) << 12;
		six |= p.pa[i] == (PFN + 6) << 12;
	}
	ck_assert(!four && five && six);
	hs_write_log_take(a, &p); /* a took before the third */
	six = false;
	for (size_t i = 0; i < p.nr; i++)
		six |= p.pa[i] == (PFN + 6) << 12;
	ck_assert(six);
	hs_write_log_close(a);
	hs_write_log_take(b, &p);
	ck_assert_uint_eq(p.nr, 0);
	hs_write_log_close(b);
	hs_write_log_stats(m, &st);
	ck_assert(!st.kernel && !st.hooked); /* nothing tracks with no reader */
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("write_log");
	TCase *tc = tcase_create("write_log");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, each_writer_reaches_a_checkpoint);
	tcase_add_test(tc, each_cpu_writer_reaches_a_replay);
	tcase_add_test(tc, readers_keep_their_own_takes);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
