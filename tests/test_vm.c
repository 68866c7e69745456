/* SPDX-License-Identifier: MIT */
/* Guests: VMs with their own stage 2, driven by the host through hypercalls (issue 6). */
#include <check.h>
#include <errno.h>
#include <hypscope/abi.h>
#include <unicorn/unicorn.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "hyp_state.h"
#include "code_breakpoints.h"
#include "inspect_check.h"
#include "inspect_snapshot.h"
#include "testutil.h"
#include "uc_quirks.h"

#define GFN 0x48100ULL
#define IPA(g) ((uint64_t)(g) << 12)

static struct hs_machine *m;
static uint64_t host_pfn0; /* three host pages the tests share */

static void setup(void)
{
	m = hs_test_booted(2, 0);
	host_pfn0 = (hs_machine_opts(m)->ram_base + 0x400000) >> 12;
}

static void teardown(void)
{
	hs_machine_destroy(m);
}

static uint64_t vm_new(bool protected_vm)
{
	uint64_t h;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_create(m, 0, protected_vm, &h, &err) == 0, "%s", err.msg);
	return h;
}

static int64_t share(uint64_t h, uint64_t pfn, uint64_t gfn, uint64_t nr, unsigned prot)
{
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_share(m, 0, h, pfn, gfn, nr, prot, &ret, &err) == 0, "%s", err.msg);
	return ret;
}

static int64_t hvc(int nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t ret;
	struct hs_error err = {0};
	uint64_t a[4] = {a0, a1, a2, a3};
	ck_assert_msg(hs_vm_hvc(m, 0, nr, a, 4, &ret, &err) == 0, "%s", err.msg);
	return ret;
}

static struct hs_vm_exit run(uint64_t op, uint64_t ipa, uint64_t value)
{
	struct hs_vm_exit x;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_run(m, 0, op, ipa, value, &x, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(x.status, 0);
	return x;
}

static uint64_t phys64(uint64_t pa)
{
	uint64_t v = 0;
	ck_assert_int_eq(hs_phys_read(m, pa, &v, 8, NULL), 0);
	return v;
}

static unsigned host_state(uint64_t pfn, uint32_t *shares)
{
	uint64_t raw;
	ck_assert_int_eq(hs_read_vmemmap(m, pfn << 12, &raw, NULL), 0);
	if (shares)
		*shares = hs_hyp_page_guest_shares(raw);
	return hs_hyp_page_host_state(raw);
}

static void assert_record_matches(uint64_t h)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	int n = hs_vm_check(m, h, &sb, NULL);
	ck_assert_msg(n == 0, "host record vs stage 2: %d mismatches\n%s", n, hs_sb_str(&sb));
	hs_sb_free(&sb);
}

START_TEST(guest_reads_and_writes_three_shared_pages)
{
	uint64_t h = vm_new(false);
	ck_assert_int_eq(share(h, host_pfn0, GFN, 3, HS_PROT_RW), 0);
	for (int i = 0; i < 3; i++) {
		struct hs_vm_exit x = run(HS_VCPU_OP_WRITE, IPA(GFN + i), 0x1000 + i);
		ck_assert_uint_eq(x.reason, HS_EXIT_GUEST_HVC);
		ck_assert_uint_eq(x.x2, HS_GUEST_DONE_WRITE);
		/* The store went through the guest stage 2 to the host's page. */
		ck_assert_uint_eq(phys64((host_pfn0 + i) << 12), 0x1000 + i);
		uint32_t shares;
		ck_assert_uint_eq(host_state(host_pfn0 + i, &shares), HS_PAGE_SHARED_OWNED);
		ck_assert_uint_eq(shares, 1);
	}
	/* The host writes with a real EL1 store; the guest reads it. */
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_host_access(m, 0, true, host_pfn0 << 12, 8, 0x5a5a, &res, &stop, &err),
			 0);
	ck_assert(!res.refused);
	struct hs_vm_exit x = run(HS_VCPU_OP_READ, IPA(GFN), 0);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_READ);
	ck_assert_uint_eq(x.x3, 0x5a5a);
	assert_record_matches(h);
	hs_test_assert_clean(m, "checker");
}
END_TEST

START_TEST(wrprotect_makes_the_guest_write_fault)
{
	uint64_t h = vm_new(false);
	ck_assert_int_eq(share(h, host_pfn0, GFN, 3, HS_PROT_RW), 0);
	ck_assert_int_eq(hvc(HS_HC_host_wrprotect_guest, h, GFN + 1, 1, 0), 0);
	struct hs_vm_exit x = run(HS_VCPU_OP_WRITE, IPA(GFN + 1), 7);
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
	ck_assert_uint_eq(x.x2, IPA(GFN + 1));
	ck_assert_uint_eq((x.x3 >> 26) & 0x3f, 0x24); /* data abort from the guest */
	ck_assert_uint_eq(x.x3 & (1u << 6), 1u << 6); /* a write */
	ck_assert_uint_eq(x.x3 & 0x3c, 0xc);	      /* permission fault */
	ck_assert_uint_eq(phys64((host_pfn0 + 1) << 12), 0);
	/* Reads still work, and the neighbours are writable. */
	x = run(HS_VCPU_OP_READ, IPA(GFN + 1), 0);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_READ);
	x = run(HS_VCPU_OP_WRITE, IPA(GFN + 2), 9);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_WRITE);
	/* Starting the write again: still refused. */
	x = run(HS_VCPU_OP_WRITE, IPA(GFN + 1), 7);
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
	/* Relaxing the permissions lets the write through. */
	ck_assert_int_eq(hvc(HS_HC_host_relax_perms_guest, GFN + 1, HS_PROT_RW, 0, 0), 0);
	x = run(HS_VCPU_OP_RESUME, 0, 0);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_WRITE);
	ck_assert_uint_eq(phys64((host_pfn0 + 1) << 12), 7);
}
END_TEST

START_TEST(test_clear_young_reports_and_clears_the_access_flag)
{
	uint64_t h = vm_new(false);
	ck_assert_int_eq(share(h, host_pfn0, GFN, 1, HS_PROT_RW), 0);
	run(HS_VCPU_OP_READ, IPA(GFN), 0);
	ck_assert_int_eq(hvc(HS_HC_host_test_clear_young_guest, h, GFN, 1, 1), 1);
	ck_assert_int_eq(hvc(HS_HC_host_test_clear_young_guest, h, GFN, 1, 0), 0);
	ck_assert_int_eq(hvc(HS_HC_host_mkyoung_guest, GFN, 0, 0, 0), 0);
	ck_assert_int_eq(hvc(HS_HC_host_test_clear_young_guest, h, GFN, 1, 0), 1);
}
END_TEST

START_TEST(unshare_makes_the_guest_access_fault)
{
	uint64_t h = vm_new(false);
	ck_assert_int_eq(share(h, host_pfn0, GFN, 3, HS_PROT_RW), 0);
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_unshare(m, 0, h, GFN + 2, 1, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	struct hs_vm_exit x = run(HS_VCPU_OP_READ, IPA(GFN + 2), 0);
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
	ck_assert_uint_eq(x.x2, IPA(GFN + 2));
	uint32_t shares;
	ck_assert_uint_eq(host_state(host_pfn0 + 2, &shares), HS_PAGE_OWNED);
	ck_assert_uint_eq(shares, 0);
	assert_record_matches(h);
	hs_test_assert_clean(m, "checker");
}
END_TEST

START_TEST(teardown_gives_every_page_back_to_the_host)
{
	struct hs_pool_stats before, after;
	ck_assert_int_eq(hs_read_pool(m, "host_s2_pool", &before, NULL), 0);
	uint64_t h = vm_new(false);
	struct hs_vm_info info;
	ck_assert(hs_vm_info(m, h, &info));
	ck_assert_int_eq(share(h, host_pfn0, GFN, 3, HS_PROT_RW), 0);
	run(HS_VCPU_OP_WRITE, IPA(GFN), 1);
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_teardown(m, 0, h, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	for (int i = 0; i < 3; i++) {
		uint32_t shares;
		ck_assert_uint_eq(host_state(host_pfn0 + i, &shares), HS_PAGE_OWNED);
		ck_assert_uint_eq(shares, 0);
	}
	for (uint64_t p = 0; p < info.nr_pages; p++)
		ck_assert_uint_eq(host_state((info.pa >> 12) + p, NULL), HS_PAGE_OWNED);
	/* The host can use the VM's memory again, and it comes back zeroed. */
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_access(m, 0, false, info.pa, 8, 0, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	ck_assert_uint_eq(res.value, 0);
	ck_assert_int_eq(hs_read_pool(m, "host_s2_pool", &after, NULL), 0);
	hs_test_assert_clean(m, "checker");
	(void)before;
}
END_TEST

START_TEST(donation_to_a_protected_vm_hides_the_page_from_the_host)
{
	uint64_t h = vm_new(true);
	uint64_t pfn = host_pfn0 + 5;
	int64_t ret;
	struct hs_error err = {0};
	/* Share-style calls are refused for protected VMs. */
	ck_assert_int_eq(share(h, host_pfn0, GFN, 1, HS_PROT_RW), -HS_EPERM);
	ck_assert_int_eq(hs_vm_donate(m, 0, h, pfn, GFN, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	struct hs_vm_exit x = run(HS_VCPU_OP_WRITE, IPA(GFN), 0x77);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_WRITE);
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_access(m, 0, false, pfn << 12, 8, 0, &res, &stop, &err), 0);
	ck_assert(res.refused);
	ck_assert_uint_eq(host_state(pfn, NULL), HS_PAGE_NOPAGE);
	assert_record_matches(h);
	hs_test_assert_clean(m, "checker");
	/* Teardown scrubs it and gives it back. */
	ck_assert_int_eq(hs_vm_teardown(m, 0, h, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(hs_host_access(m, 0, false, pfn << 12, 8, 0, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	ck_assert_uint_eq(res.value, 0);
	hs_test_assert_clean(m, "checker");
}
END_TEST

START_TEST(refused_calls_return_their_error_and_change_nothing)
{
	uint64_t h = vm_new(false);
	ck_assert_int_eq(share(h, host_pfn0, GFN, 1, HS_PROT_RW), 0);
	uint64_t text;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, NULL), 0);
	ck_assert_int_eq(share(h, text >> 12, GFN + 1, 1, HS_PROT_R), -HS_EPERM); /* hyp page */
	ck_assert_int_eq(share(h, host_pfn0 + 1, GFN, 1, HS_PROT_R), -HS_EAGAIN); /* gfn mapped */
	ck_assert_int_eq(share(h, host_pfn0 + 1, GFN + 1, 1, HS_PROT_R | HS_PROT_DEVICE),
			 -HS_EINVAL);
	ck_assert_int_eq(share(h, host_pfn0 + 1, 1ULL << 30, 1, HS_PROT_R), -HS_EINVAL);
	ck_assert_int_eq(share(h, ~0ULL >> 12, GFN + 1, 1, HS_PROT_R), -HS_EINVAL);
	/* A page shared with the hypervisor cannot also go to a guest. */
	ck_assert_int_eq(hvc(HS_HC_host_share_hyp, host_pfn0 + 2, 0, 0, 0), 0);
	ck_assert_int_eq(share(h, host_pfn0 + 2, GFN + 2, 1, HS_PROT_R), -HS_EPERM);
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_unshare(m, 0, h, GFN + 3, 1, &ret, &err), 0);
	ck_assert_int_eq(ret, -HS_ENOENT);
	ck_assert_int_eq(hvc(HS_HC_host_unshare_guest, 0x9999, GFN, 1, 0), -HS_EINVAL);
	ck_assert_int_eq(hvc(HS_HC_host_wrprotect_guest, 0x1000 + 77, GFN, 1, 0), -HS_EINVAL);
	ck_assert_int_eq(hvc(HS_HC_host_donate_guest, host_pfn0 + 3, GFN + 3, 0, 0), -HS_EPERM);
	/* Teardown while a vCPU is loaded is refused. */
	ck_assert_int_eq(hvc(HS_HC_teardown_vm, h, 0, 0, 0), -HS_EBUSY);
	ck_assert_int_eq(hvc(HS_HC_init_vm, 0x1234, 16, 0, 0), -HS_EINVAL);
	uint32_t shares;
	ck_assert_uint_eq(host_state(host_pfn0 + 1, &shares), HS_PAGE_OWNED);
	ck_assert_uint_eq(shares, 0);
	assert_record_matches(h);
	hs_test_assert_clean(m, "checker");
}
END_TEST

START_TEST(two_vms_have_different_vmids_and_share_no_pages)
{
	uint64_t a = vm_new(false), b = vm_new(false);
	uint64_t va, vb, tcr;
	ck_assert_int_eq(hs_vm_regs(m, a, &va, &tcr, NULL), 0);
	ck_assert_int_eq(hs_vm_regs(m, b, &vb, &tcr, NULL), 0);
	ck_assert_uint_eq(va >> 48, 1);
	ck_assert_uint_eq(vb >> 48, 2);
	ck_assert_int_eq(share(a, host_pfn0, GFN, 1, HS_PROT_RW), 0);
	ck_assert_int_eq(share(b, host_pfn0 + 1, GFN, 1, HS_PROT_RW), 0);
	ck_assert_int_eq(hs_phys_write(m, host_pfn0 << 12, &(uint64_t){0xaaaa}, 8, NULL), 0);
	ck_assert_int_eq(hs_phys_write(m, (host_pfn0 + 1) << 12, &(uint64_t){0xbbbb}, 8, NULL), 0);
	int64_t ret;
	struct hs_error err = {0};
	/* The same IPA reads each VM's own page. */
	ck_assert_int_eq(hs_vm_load(m, 1, a, &ret, &err), 0);
	struct hs_vm_exit x;
	ck_assert_int_eq(hs_vm_run(m, 1, HS_VCPU_OP_READ, IPA(GFN), 0, &x, &err), 0);
	ck_assert_uint_eq(x.x3, 0xaaaa);
	x = run(HS_VCPU_OP_READ, IPA(GFN), 0); /* CPU 0 has b loaded */
	ck_assert_uint_eq(x.x3, 0xbbbb);
	struct hs_vm_info ia, ib;
	ck_assert(hs_vm_info(m, a, &ia) && hs_vm_info(m, b, &ib));
	for (size_t i = 0; i < ia.nr_maps; i++)
		for (size_t j = 0; j < ib.nr_maps; j++)
			ck_assert_uint_ne(ia.maps[i].pfn, ib.maps[j].pfn);
	assert_record_matches(a);
	assert_record_matches(b);
}
END_TEST

START_TEST(guest_undefined_instruction_goes_to_its_vectors_and_exits)
{
	uint64_t h = vm_new(false);
	ck_assert_int_eq(share(h, host_pfn0, GFN, 1, HS_PROT_RWX), 0);
	/* A zeroed page is UDF #0: the guest takes it at its own (unmapped) vectors. */
	struct hs_vm_exit x = run(HS_VCPU_OP_EXEC, IPA(GFN), 0);
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
	ck_assert_uint_eq(x.x2, 0x200);		      /* VBAR_EL1 0 + current EL, SPx */
	ck_assert_uint_eq((x.x3 >> 26) & 0x3f, 0x20); /* instruction abort from the guest */
	/* The machine is fine: the next operation runs. */
	x = run(HS_VCPU_OP_READ, IPA(GFN), 0);
	ck_assert_uint_eq(x.x2, HS_GUEST_DONE_READ);
	/* And the host can touch device space with nothing there (reads as zero). */
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_host_access(m, 0, false, 0x1000, 8, 0, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	ck_assert_uint_eq(res.value, 0);
}
END_TEST

/*
 * Stopped inside host_share_guest while the guest's VTTBR is loaded (the
 * hypervisor switches to it around changes to the guest's table): a snapshot
 * still shows the host's stage 2, not the guest's, and the checker is clean.
 */
START_TEST(snapshot_mid_guest_table_change_shows_the_host_stage2)
{
	uint64_t h = vm_new(false);
	struct hs_snapshot before, during;
	struct hs_diff d;
	struct hs_error err = {0};
	struct hs_vm_info info;
	ck_assert(hs_vm_info(m, h, &info));
	ck_assert_int_eq(info.loaded_on, 0); /* host_share_guest acts on the loaded VM */
	hs_snapshot_init(&before);
	hs_snapshot_init(&during);
	hs_diff_init(&d);
	ck_assert_msg(hs_snapshot_take(m, 0, &before, &err) == 0, "%s", err.msg);

	uint64_t pa, link;
	ck_assert_int_eq(hs_sym_pa(m, "pgt_map", &pa, NULL), 0);
	ck_assert(hs_addr_to_link(m, pa, &link));
	uint64_t va = hs_link_to_hyp_va(m, link);
	int bp = hs_break_add(m, va, &err);
	ck_assert_msg(bp > 0, "%s", err.msg);
	uint64_t args[4] = {host_pfn0, GFN, 1, HS_PROT_RW};
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_guest), args, 4, &res, &stop, &err), 0);
	ck_assert_msg(stop.reason == HS_STOP_BREAKPOINT, "not stopped at %#lx (x1 %ld)",
		      (unsigned long)va, (long)res.x1);
	ck_assert_int_eq(stop.bp_id, bp);
	ck_assert_int_eq(hs_break_delete(m, bp, &err), 0);

	uint64_t live = 0;
	ck_assert_int_eq(hs_cpu_sysreg(m, 0, HS_SR_VTTBR_EL2, &live), 0);
	ck_assert_msg(live >> 48, "expected the guest's VMID in VTTBR_EL2, got %#lx",
		      (unsigned long)live);
	ck_assert_msg(hs_snapshot_take(m, 0, &during, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_snapshot_diff(&before, &during, &d), 0);
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_HOST_S2, ~0u), 0);
	hs_test_assert_clean(m, "checker");

	ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x1, 0);
	hs_diff_free(&d);
	hs_snapshot_free(&before);
	hs_snapshot_free(&during);
}
END_TEST

START_TEST(hundred_vms_leave_the_allocators_as_they_were)
{
	struct hs_pool_stats h0, s0, h1, s1;
	ck_assert_int_eq(hs_read_pool(m, "hpool", &h0, NULL), 0);
	ck_assert_int_eq(hs_read_pool(m, "host_s2_pool", &s0, NULL), 0);
	for (int i = 0; i < 100; i++) {
		uint64_t h = vm_new(i % 2);
		int64_t ret;
		struct hs_error err = {0};
		ck_assert_int_eq(hs_vm_teardown(m, 0, h, &ret, &err), 0);
		ck_assert_int_eq(ret, 0);
	}
	ck_assert_int_eq(hs_read_pool(m, "hpool", &h1, NULL), 0);
	ck_assert_int_eq(hs_read_pool(m, "host_s2_pool", &s1, NULL), 0);
	ck_assert_uint_eq(h1.free_pages, h0.free_pages);
	/*
	 * The host stage 2 may keep a few more table pages: donations split the
	 * host's lazily faulted blocks, whose other pages stay mapped.
	 */
	ck_assert_uint_le(s0.free_pages - s1.free_pages, 8);
	for (unsigned o = 0; o < HS_MAX_ORDER; o++)
		ck_assert_uint_eq(h1.free_blocks[o], h0.free_blocks[o]);
	hs_test_assert_clean(m, "checker");
}
END_TEST

/*
 * Donated memory is not trusted: a host that fills the pages it is about to
 * donate for a VM (struct, vCPUs, stage-2 root, table pool) with forged
 * descriptors — a block giving the guest the hypervisor's text, tables
 * pointing outside RAM — gains nothing. The guest's read faults at stage 2,
 * teardown runs without an EL2 fault, and the checker finds nothing.
 */
START_TEST(forged_entries_in_donated_pages_are_never_used)
{
	uint64_t first = vm_new(false);
	struct hs_vm_info a;
	ck_assert(hs_vm_info(m, first, &a));
	/* The host allocates top-down: the next VM's block lies just below VM A's code page. */
	uint64_t next = ((a.code_pfn << 12) - (a.nr_pages << 12)) & ~(uint64_t)(HS_VM_ALIGN - 1);
	uint64_t text;
	ck_assert_int_eq(hs_sym_pa(m, "__hyp_text_start", &text, NULL), 0);
	const uint64_t block_to_text = (text & ~((1ULL << 30) - 1)) | (1u << 10) | (3u << 6) |
				       (0xfu << 2) | 1; /* L1 block, AF, RW, Normal */
	const uint64_t table_outside_ram = 0xfffffff000ULL | 3;
	for (uint64_t off = 0; off < (a.nr_pages << 12); off += 8) {
		unsigned idx = (unsigned)((off & 0x1fff) >> 3); /* index in a 2-page root */
		uint64_t v = idx == (text >> 30) ? block_to_text : table_outside_ram;
		ck_assert_int_eq(hs_phys_write(m, next + off, &v, 8, NULL), 0);
	}
	uint64_t h = vm_new(false);
	struct hs_vm_info b;
	ck_assert(hs_vm_info(m, h, &b));
	ck_assert_uint_eq(b.pa, next); /* the forged block is the one donated */
	hs_test_assert_clean(m, "after init_vm on forged pages");
	struct hs_vm_exit x = run(HS_VCPU_OP_READ, text, 0);
	ck_assert_uint_eq(x.reason, HS_EXIT_S2_FAULT);
	ck_assert_uint_eq(x.x2, text);
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_teardown(m, 0, h, &ret, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ret, 0);
	ck_assert_msg(hs_vm_teardown(m, 0, first, &ret, &err) == 0, "%s", err.msg);
	hs_test_assert_clean(m, "after teardown");
}
END_TEST

/*
 * The host's allocator hands out a page the host already gave away (here a
 * VM the host made with a raw init_vm holds the page where the next VM's
 * guest program goes). The host model writes the program through its own
 * stage 2, so the store is refused and the hypervisor's page is untouched.
 * Before, it was written behind the hypervisor's back (hs_campaign --seed 16
 * --cpus 1: the guest program landed in another VM's stage-2 root).
 */
START_TEST(guest_program_is_never_written_into_a_page_the_host_gave_away)
{
	uint64_t first = vm_new(false);
	struct hs_vm_info a;
	ck_assert(hs_vm_info(m, first, &a));
	uint64_t next = ((a.code_pfn << 12) - (a.nr_pages << 12)) & ~(uint64_t)(HS_VM_ALIGN - 1);
	uint64_t code = next - HS_PAGE_SIZE; /* where the next VM's program would go */
	uint64_t block = next - (a.nr_pages << 12);
	int64_t raw = hvc(HS_HC_init_vm, block, a.nr_pages, 0, 0);
	ck_assert_int_ge(raw, HS_VM_HANDLE_OFFSET);
	uint8_t before[HS_PAGE_SIZE], after[HS_PAGE_SIZE];
	ck_assert_int_eq(hs_phys_read(m, code, before, sizeof(before), NULL), 0);
	uint64_t h;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_create(m, 0, false, &h, &err), -EPERM);
	ck_assert_msg(strstr(err.msg, "cannot write the guest program"), "%s", err.msg);
	ck_assert_int_eq(hs_phys_read(m, code, after, sizeof(after), NULL), 0);
	ck_assert_msg(!memcmp(before, after, sizeof(before)),
		      "the host wrote into a page it gave away");
	hs_test_assert_clean(m, "after the refused vm create");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm");
	TCase *tc = tcase_create("vm");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, guest_reads_and_writes_three_shared_pages);
	tcase_add_test(tc, wrprotect_makes_the_guest_write_fault);
	tcase_add_test(tc, test_clear_young_reports_and_clears_the_access_flag);
	tcase_add_test(tc, unshare_makes_the_guest_access_fault);
	tcase_add_test(tc, teardown_gives_every_page_back_to_the_host);
	tcase_add_test(tc, donation_to_a_protected_vm_hides_the_page_from_the_host);
	tcase_add_test(tc, refused_calls_return_their_error_and_change_nothing);
	tcase_add_test(tc, two_vms_have_different_vmids_and_share_no_pages);
	tcase_add_test(tc, guest_undefined_instruction_goes_to_its_vectors_and_exits);
	tcase_add_test(tc, hundred_vms_leave_the_allocators_as_they_were);
	tcase_add_test(tc, snapshot_mid_guest_table_change_shows_the_host_stage2);
	tcase_add_test(tc, forged_entries_in_donated_pages_are_never_used);
	tcase_add_test(tc, guest_program_is_never_written_into_a_page_the_host_gave_away);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
