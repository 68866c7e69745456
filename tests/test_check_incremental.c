/* SPDX-License-Identifier: MIT */
/*
 * The incremental checker (inspect_check_incr.h) and the write log behind it
 * (write_log.h).
 *
 *  - the log: a hypercall's stores reach it as the pages EL2 wrote (table
 *    page, vmemmap page), host and guest stores as theirs, the emulator's own
 *    writes through hs_phys_write; too many pages make it lose track;
 *  - differential: a few thousand random host and guest operations on two
 *    CPUs (share/unshare/pin/unpin, donations both ways, host loads and
 *    stores, VMs created, shared with, donated to, run, torn down, CPU 1
 *    switched off and on) over a machine with violations planted in it: after
 *    every operation the incremental report equals hs_check()'s entry for
 *    entry, and the snapshot it keeps equals a fresh one field for field;
 *  - mutations: one word of a table, the vmemmap, a free list or a free page
 *    changed where only the log can tell, then one check: it must be an
 *    incremental one and report what the full checker reports. A control
 *    case changes memory behind the log's back and shows the incremental
 *    check then misses it, so these tests do depend on the log;
 *  - the trace checks after every hypercall with it.
 *
 * Size: HS_DIFF_OPS in the environment overrides the 3,000 operations.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "profile.h"
#include "host_boot.h"
#include "host_vm.h"
#include "hyp_state.h"
#include "inspect_check_incr.h"
#include "inspect_trace.h"
#include "pt_translate.h"
#include "testutil.h"
#include "write_log.h"

#define DIFF_OPS_DEFAULT 3000

static struct hs_machine *m;
static struct hs_check_incr *ci;
static struct hs_check_report inc, ful;

static void start(unsigned cpus)
{
	struct hs_error err = {0};
	m = hs_test_booted(cpus, 0);
	ck_assert_msg(hs_check_incr_new(m, &ci, &err) == 0, "%s", err.msg);
	hs_check_report_init(&inc);
	hs_check_report_init(&ful);
}

static void setup(void)
{
	start(1);
}

static void teardown(void)
{
	hs_check_incr_free(ci);
	hs_check_report_free(&inc);
	hs_check_report_free(&ful);
	hs_machine_destroy(m);
	m = NULL;
}

/* ---- helpers --------------------------------------------------------------- */

static const char *text(const struct hs_check_report *r)
{
	static char buf[2][16384];
	static int which;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_text(r, &sb);
	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return buf[which];
}

static bool same_violation(const struct hs_violation *a, const struct hs_violation *b)
{
	return !strcmp(a->rule, b->rule) && a->pa == b->pa && a->pages == b->pages &&
	       a->tables == b->tables && !strcmp(a->msg, b->msg) && a->vm == b->vm &&
	       a->gfn == b->gfn;
}

static bool same_reports(const struct hs_check_report *a, const struct hs_check_report *b)
{
	if (a->nr != b->nr || a->total != b->total || a->pages_checked != b->pages_checked ||
	    a->tables_checked != b->tables_checked ||
	    a->free_blocks_checked != b->free_blocks_checked)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (!same_violation(&a->v[i], &b->v[i]))
			return false;
	return true;
}

static bool last_full(void)
{
	struct hs_check_incr_stats st;
	hs_check_incr_stats(ci, &st);
	return st.last_full;
}

static const char *last_why(void)
{
	struct hs_check_incr_stats st;
	hs_check_incr_stats(ci, &st);
	return st.last_full && st.last_why ? st.last_why : "-";
}

/* The incremental check, then the full one: the same return value and report. */
static int check_both(const char *when)
{
	int a = hs_check_incr(ci, &inc);
	int b = hs_check(m, &ful);
	ck_assert_msg(a == b && same_reports(&inc, &ful),
		      "%s (%s check, %s): incremental %d, full %d\nincremental:\n%sfull:\n%s", when,
		      last_full() ? "full" : "incremental", last_why(), a, b, text(&inc),
		      text(&ful));
	return a;
}

static bool same_range(const struct hs_snap_pt_range *a, const struct hs_snap_pt_range *b)
{
	return a->start == b->start && a->end == b->end && a->oa == b->oa && a->attr == b->attr &&
	       a->meta == b->meta && a->kind == b->kind && a->state == b->state &&
	       a->owner == b->owner && a->perm == b->perm && a->level == b->level &&
	       a->device == b->device && a->block == b->block;
}

static const char *ranges_differ(const struct hs_snap_pt_range *a, size_t na,
				 const struct hs_snap_pt_range *b, size_t nb)
{
	static char why[200];
	if (na != nb) {
		snprintf(why, sizeof(why), "%zu ranges, fresh %zu", na, nb);
		return why;
	}
	for (size_t i = 0; i < na; i++)
		if (!same_range(&a[i], &b[i])) {
			snprintf(why, sizeof(why),
				 "range %zu: %#" PRIx64 "-%#" PRIx64 " level %d block %d kind %d, "
				 "fresh %#" PRIx64 "-%#" PRIx64 " level %d block %d kind %d",
				 i, a[i].start, a[i].end, a[i].level, a[i].block, a[i].kind,
				 b[i].start, b[i].end, b[i].level, b[i].block, b[i].kind);
			return why;
		}
	return NULL;
}

/* What the incremental checker keeps must be what a snapshot taken now holds. */
static void same_snapshot(const char *when)
{
	const struct hs_snapshot *a = hs_check_incr_snapshot(ci);
	struct hs_snapshot b;
	hs_snapshot_init(&b);
	struct hs_error err = {0};
	ck_assert_msg(hs_snapshot_take(m, HS_SNAP_F_TABLES, &b, &err) == 0, "%s", err.msg);
	const char *why = NULL;
	for (int t = 0; !why && t < 2; t++)
		why = ranges_differ(a->pt[t], a->nr_pt[t], b.pt[t], b.nr_pt[t]);
	if (!why &&
	    (a->nr_vm != b.nr_vm || a->nr_tables != b.nr_tables || a->nr_guests != b.nr_guests ||
	     a->nr_mem != b.nr_mem || a->nr_malformed != b.nr_malformed))
		why = "counts differ";
	for (size_t i = 0; !why && i < a->nr_vm; i++)
		if (a->vm[i].start != b.vm[i].start || a->vm[i].end != b.vm[i].end ||
		    a->vm[i].val != b.vm[i].val || a->vm[i].backed != b.vm[i].backed)
			why = "vmemmap runs differ";
	for (size_t i = 0; !why && i < a->nr_tables; i++)
		if (a->tables[i].pa != b.tables[i].pa || a->tables[i].live != b.tables[i].live ||
		    a->tables[i].level != b.tables[i].level ||
		    a->tables[i].table != b.tables[i].table ||
		    a->tables[i].guest != b.tables[i].guest)
			why = "table pages differ";
	for (size_t i = 0; !why && i < a->nr_guests; i++) {
		const struct hs_snap_guest *x = &a->guests[i], *y = &b.guests[i];
		if (x->handle != y->handle || x->vm_pa != y->vm_pa || x->ok != y->ok ||
		    x->vmid != y->vmid || strcmp(x->error, y->error))
			why = "guests differ";
		else
			why = ranges_differ(x->pt, x->nr_pt, y->pt, y->nr_pt);
	}
	hs_snapshot_free(&b);
	ck_assert_msg(!why, "%s: the kept snapshot is not a fresh one: %s", when, why);
}

/* A store behind the log's back, for the mutation tests to mark or not. */
static void poke64(uint64_t pa, uint64_t v)
{
	uint64_t *p = hs_phys_ptr(m, pa, 8);
	ck_assert_ptr_nonnull(p);
	*p = v;
}

static uint64_t sym(const char *name)
{
	uint64_t pa = 0;
	ck_assert_int_eq(hs_sym_pa(m, name, &pa, NULL), 0);
	return pa;
}

static struct hs_host_op hvc_on(unsigned cpu, int nr, uint64_t a0, uint64_t a1)
{
	return hs_test_hvc(m, cpu, nr, a0, a1);
}

static int64_t hvc(int nr, uint64_t a0, uint64_t a1)
{
	struct hs_host_op r = hvc_on(0, nr, a0, a1);
	ck_assert_int_eq(r.x0, HS_SMCCC_SUCCESS);
	return r.x1;
}

static struct hs_host_op host_access(unsigned cpu, bool write, uint64_t pa, uint64_t value)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_access(m, cpu, write, pa, 8, value, &res, &stop, &err) == 0, "%s",
		      err.msg);
	return res;
}

static bool logged(const struct hs_write_log_pages *p, uint64_t pa)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->pa[i] == (pa & ~(HS_PAGE_SIZE - 1)))
			return true;
	return false;
}

static uint64_t ram_base(void)
{
	return hs_machine_opts(m)->ram_base;
}

/* ---- the write log ------------------------------------------------------------- */

START_TEST(log_has_the_pages_a_hypercall_wrote)
{
	struct hs_write_log_reader *r;
	struct hs_write_log_pages p;
	struct hs_error err = {0};
	ck_assert_msg(hs_write_log_open(m, &r, &err) == 0, "%s", err.msg);
	uint64_t pa = ram_base() + 0x10000000;
	host_access(0, false, pa, 0); /* fault it in: a host stage-2 leaf */
	hvc(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT, 0);
	hvc(HS_HC_host_unshare_hyp, pa >> HS_PAGE_SHIFT, 0);
	hs_write_log_take(r, &p);
	/* code translated before the hook existed reports to it as well */
	hvc(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT, 0);
	hs_write_log_take(r, &p);
	ck_assert_msg(!p.lost, "%s", p.lost);
	ck_assert_msg(logged(&p, hs_test_desc_pa(m, true, pa)),
		      "the host stage-2 leaf's table page");
	ck_assert_msg(logged(&p, hs_test_vmemmap_entry_pa(m, pa)), "the page's vmemmap entry");
	ck_assert(!logged(&p, pa)); /* sharing does not touch the page itself */
	for (size_t i = 1; i < p.nr; i++)
		ck_assert_uint_lt(p.pa[i - 1], p.pa[i]);
	/* a null hypercall writes only the hypervisor's stack and host context */
	hvc(HS_HC_nop, 0, 0);
	hs_write_log_take(r, &p);
	ck_assert(!p.lost);
	ck_assert_uint_gt(p.nr, 0);
	ck_assert(!logged(&p, hs_test_desc_pa(m, true, pa)) &&
		  !logged(&p, hs_test_vmemmap_entry_pa(m, pa)));
	/* the host's own store, through its stage 2 */
	host_access(0, true, pa, 42);
	hs_write_log_take(r, &p);
	ck_assert_msg(!p.lost, "%s", p.lost);
	ck_assert(logged(&p, pa));
	/* the emulator's */
	uint64_t v = 7;
	ck_assert_int_eq(hs_phys_write(m, pa + 8, &v, 8, NULL), 0);
	hs_write_log_mark(m, pa + 3 * HS_PAGE_SIZE, 1);
	hs_write_log_take(r, &p);
	ck_assert_uint_eq(p.nr, 2);
	ck_assert(logged(&p, pa) && logged(&p, pa + 3 * HS_PAGE_SIZE));
	/* nothing since */
	hs_write_log_take(r, &p);
	ck_assert_uint_eq(p.nr, 0);
	hs_write_log_close(r);
}
END_TEST

START_TEST(log_loses_track_of_too_many_pages)
{
	struct hs_write_log_reader *r;
	struct hs_write_log_pages p;
	ck_assert_int_eq(hs_write_log_open(m, &r, NULL), 0);
	hs_write_log_mark(m, ram_base(), (HS_WRITE_LOG_MAX_PAGES + 1ULL) * HS_PAGE_SIZE);
	hs_write_log_take(r, &p);
	ck_assert_ptr_nonnull(p.lost);
	hs_write_log_take(r, &p);
	ck_assert_ptr_null(p.lost); /* a take starts over */
	hs_write_log_close(r);
	/* and the checker falls back to a full check */
	check_both("first");
	hs_write_log_mark(m, ram_base(), (HS_WRITE_LOG_MAX_PAGES + 1ULL) * HS_PAGE_SIZE);
	check_both("after losing track");
	ck_assert(last_full());
}
END_TEST

START_TEST(guest_stores_are_logged_through_the_guest_stage2)
{
	struct hs_write_log_reader *r;
	struct hs_write_log_pages p;
	struct hs_error err = {0};
	uint64_t h, pfn = (ram_base() + 0x400000) >> HS_PAGE_SHIFT, gfn = 0x48100;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_share(m, 0, h, pfn, gfn, 2, HS_PROT_RW, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(hs_vm_load(m, 0, h, &ret, &err), 0);
	ck_assert_int_eq(hs_write_log_open(m, &r, NULL), 0);
	struct hs_vm_exit x;
	ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_WRITE, (gfn + 1) << HS_PAGE_SHIFT, 5, &x, &err) ==
			  0,
		      "%s", err.msg);
	ck_assert_int_eq(x.status, 0);
	hs_write_log_take(r, &p);
	ck_assert_msg(!p.lost, "%s", p.lost);
	ck_assert(logged(&p, (pfn + 1) << HS_PAGE_SHIFT)); /* the gfn's page, not the gfn */
	hs_write_log_close(r);
}
END_TEST

/* ---- differential ------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

struct diff_vm {
	uint64_t h;
	bool prot;
	uint64_t next_gfn;
};

struct diff {
	uint64_t base_pfn, npages, hot0; /* RAM; the hot host pages: hot0 .. hot0 + 1024 (A, B) */
	uint64_t planted[2];		 /* host pages carrying planted violations: never touched */
	uint64_t donated[64];		 /* pages the host gave to hyp, to take back */
	unsigned nr_donated;
	struct diff_vm vm[4];
	unsigned nr_vm;
	bool cpu1_on;
	uint64_t checks, incremental;
};

static bool planted(const struct diff *d, uint64_t pfn)
{
	return pfn == d->planted[0] || pfn == d->planted[1];
}

/*
 * The hot pages are two 2 MiB regions A and B, mapped page by page in the
 * host stage 2, between two regions mapped as blocks, with a broken leaf at
 * the end of A: ranges then run from a block into pages (and from pages into
 * a block), so changes cut ranges whose pieces differ in level and blockness.
 * Violations stay planted while the operations go on around them.
 */
static void plant(struct diff *d)
{
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t text = sym("__hyp_text_start") & ~(HS_PAGE_SIZE - 1);
	for (int k = -1; k <= 2; k++)
		host_access(0, false, (d->hot0 + k * 512) << HS_PAGE_SHIFT, 0);
	hvc(HS_HC_host_share_hyp, d->hot0 + 100, 0); /* A and B in pages */
	hvc(HS_HC_host_share_hyp, d->hot0 + 600, 0);
	/* a host page counts a guest share nobody has: share-pair, guest-share-count */
	d->planted[0] = d->hot0 + 1024 + 3;
	uint64_t e = hs_test_vmemmap_entry_pa(m, d->planted[0] << HS_PAGE_SHIFT);
	hs_test_wr64(m, e, hs_test_rd64(m, e) + (1ULL << 32));
	/* 16 hot pages do the same: one violation over the run, cut by every change there */
	for (uint64_t pfn = d->hot0 + 200; pfn < d->hot0 + 216; pfn++) {
		e = hs_test_vmemmap_entry_pa(m, pfn << HS_PAGE_SHIFT);
		hs_test_wr64(m, e, hs_test_rd64(m, e) + (1ULL << 32));
	}
	/* the last page leaf of A maps the next page: s2-identity */
	d->planted[1] = d->hot0 + 511;
	e = hs_test_desc_pa(m, true, d->planted[1] << HS_PAGE_SHIFT);
	hs_test_wr64(m, e, hs_test_rd64(m, e) + HS_PAGE_SIZE);
	/*
	 * an EL2 leaf of hyp text claims SHARED_OWNED: el2-state (W+X would do
	 * too, but the hypervisor could no longer run its code under WXN)
	 */
	e = hs_test_desc_pa(m, false, hs_layout_hyp_va(l, text));
	hs_test_wr64(m, e,
		     (hs_test_rd64(m, e) & ~HS_PTE_STATE_MASK) |
			 ((uint64_t)HS_PAGE_SHARED_OWNED << HS_PTE_STATE_SHIFT));
	/* the text's annotation names a guest: annot-owner, owner-unique, guest-annot */
	hs_test_wr64(m, hs_test_desc_pa(m, true, text),
		     hs_annotation(HS_OWNER_GUEST, HS_VM_HANDLE_OFFSET));
}

static uint64_t pick_pfn(struct diff *d, uint64_t r)
{
	uint64_t pfn;
	do {
		unsigned how = r % 100;
		r = rnd();
		if (how < 80)
			pfn = d->hot0 + r % 1024;
		else
			pfn = d->base_pfn + r % d->npages;
	} while (planted(d, pfn));
	return pfn;
}

static void vm_op(struct diff *d, uint64_t r)
{
	struct hs_error err = {0};
	int64_t ret;
	unsigned what = (r >> 8) % 6;
	if (!d->nr_vm || (what == 0 && d->nr_vm < 4)) {
		struct diff_vm *v = &d->vm[d->nr_vm];
		v->prot = r & 1;
		v->next_gfn = 0x48100;
		ck_assert_msg(hs_vm_create(m, 0, v->prot, &v->h, &err) == 0, "%s", err.msg);
		d->nr_vm++;
		return;
	}
	struct diff_vm *v = &d->vm[(r >> 16) % d->nr_vm];
	uint64_t pfn = pick_pfn(d, r >> 24);
	switch (what) {
	case 0:
	case 1: /* give it a page */
		if (v->prot)
			ck_assert_int_eq(hs_vm_donate(m, 0, v->h, pfn, v->next_gfn, &ret, &err), 0);
		else
			ck_assert_int_eq(hs_vm_share(m, 0, v->h, pfn, v->next_gfn, 1 + r % 2,
						     HS_PROT_RW, &ret, &err),
					 0);
		v->next_gfn += 2;
		break;
	case 2: /* take one back */
		if (!v->prot && v->next_gfn > 0x48100)
			ck_assert_int_eq(
			    hs_vm_unshare(m, 0, v->h, 0x48100 + (r >> 32) % (v->next_gfn - 0x48100),
					  1, &ret, &err),
			    0);
		break;
	case 3: { /* run it: the guest stores to a page it has */
		struct hs_vm_exit x;
		if (v->next_gfn == 0x48100 || hs_vm_load(m, 0, v->h, &ret, &err) || ret)
			break;
		uint64_t gfn = 0x48100 + (r >> 32) % (v->next_gfn - 0x48100);
		ck_assert_msg(
		    hs_vm_run(m, 0, HS_VCPU_OP_WRITE, gfn << HS_PAGE_SHIFT, r, &x, &err) == 0, "%s",
		    err.msg);
		ck_assert_int_eq(hs_vm_put(m, 0, &ret, &err), 0);
		break;
	}
	default: /* tear it down */
		if ((r >> 40) % 4)
			break;
		ck_assert_msg(hs_vm_teardown(m, 0, v->h, &ret, &err) == 0, "%s", err.msg);
		*v = d->vm[--d->nr_vm];
		break;
	}
}

static void cpu1_op(struct diff *d)
{
	hs_test_toggle_cpu1(m, &d->cpu1_on);
}

static void host_op(struct diff *d, uint64_t r)
{
	static const int share_ops[4] = {HS_HC_host_share_hyp, HS_HC_host_unshare_hyp,
					 HS_HC_hyp_pin_shared, HS_HC_hyp_unpin_shared};
	unsigned cpu = d->cpu1_on && (r >> 60) % 2 ? 1 : 0;
	unsigned op = (r >> 4) % 10;
	uint64_t pfn = pick_pfn(d, r >> 12);
	if (op < 4) {
		hvc_on(cpu, share_ops[op], (r >> 56) % 16 ? pfn : rnd(), 0);
	} else if (op < 6) {
		host_access(cpu, op == 5, (pfn << HS_PAGE_SHIFT) | ((r >> 40) & 0xff8), r);
	} else if (op == 6 && d->nr_donated < 64) {
		struct hs_host_op res = hvc_on(cpu, HS_HC_host_donate_hyp, pfn, 1);
		if (res.x0 == HS_SMCCC_SUCCESS && res.x1 == 0)
			d->donated[d->nr_donated++] = pfn;
	} else if (op == 7 && d->nr_donated) {
		unsigned k = (unsigned)((r >> 20) % d->nr_donated);
		hvc_on(cpu, HS_HC_hyp_donate_host, d->donated[k], 1);
		d->donated[k] = d->donated[--d->nr_donated];
	} else {
		hvc_on(cpu, HS_HC_nop, 0, 0);
	}
}

START_TEST(differential_random_operations)
{
	const char *env = getenv("HS_DIFF_OPS");
	uint64_t n = env ? strtoull(env, NULL, 0) : DIFF_OPS_DEFAULT;
	struct diff d = {.cpu1_on = true};
	d.base_pfn = ram_base() >> HS_PAGE_SHIFT;
	d.npages = hs_machine_opts(m)->ram_size >> HS_PAGE_SHIFT;
	d.hot0 = d.base_pfn + 0x10000; /* 2 MiB aligned, with a 2 MiB region either side */
	check_both("after boot");
	plant(&d);
	ck_assert_int_gt(check_both("after planting"), 4);
	ck_assert_msg(!last_full(), "planting: %s", last_why());
	same_snapshot("after planting");
	rng_state = 0x1ec2e3e47a1ULL;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = rnd();
		unsigned kind = r % 100;
		if (kind < 78)
			host_op(&d, rnd());
		else if (kind < 97)
			vm_op(&d, rnd());
		else
			cpu1_op(&d);
		char when[64];
		snprintf(when, sizeof(when), "operation %" PRIu64 " (kind %u)", i, kind);
		check_both(when);
		d.checks++;
		d.incremental += !last_full();
		if (!last_full())
			same_snapshot(when);
	}
	struct hs_check_incr_stats st;
	hs_check_incr_stats(ci, &st);
	fprintf(stderr,
		"differential: %" PRIu64 " operations, %" PRIu64 " incremental checks, %" PRIu64
		" pages logged, %zu violations at the end\n",
		n, d.incremental, st.pages, inc.total);
	/* VM creation and teardown change the VM table: those (and a few more) run in full */
	ck_assert_uint_gt(d.incremental, d.checks * 3 / 4);
}
END_TEST

/* ---- mutations -------------------------------------------------------------------- */

/* The check after a mutation the log saw: incremental, equal to the full one, rule fired. */
static void assert_seen(const char *rule, uint64_t pa)
{
	check_both(rule);
	ck_assert_msg(!last_full(), "%s: the check ran in full (%s)", rule, last_why());
	bool found = false;
	for (size_t i = 0; i < inc.nr; i++)
		found |= !strcmp(inc.v[i].rule, rule) && (pa == ~0ULL || inc.v[i].pa == pa);
	ck_assert_msg(found, "%s at %#" PRIx64 " not reported:\n%s", rule, pa, text(&inc));
}

/* Put the word back (the log sees it): clean again, still incrementally. */
static void repair(uint64_t pa, uint64_t v)
{
	poke64(pa, v);
	hs_write_log_mark(m, pa, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
	ck_assert(!last_full());
}

static void baseline(void)
{
	ck_assert_int_eq(check_both("baseline"), 0);
	hvc(HS_HC_nop, 0, 0);
	ck_assert_int_eq(check_both("after a null hypercall"), 0);
	ck_assert(!last_full());
}

START_TEST(mutation_host_s2_leaf)
{
	uint64_t pa = ram_base() + 0x10000000;
	host_access(0, false, pa, 0);
	hvc(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT, 0); /* a page leaf, SHARED_OWNED */
	baseline();
	uint64_t d = hs_test_desc_pa(m, true, pa), pte = hs_test_rd64(m, d);
	poke64(d, (pte & ~HS_PTE_STATE_MASK) | ((uint64_t)HS_PAGE_OWNED << HS_PTE_STATE_SHIFT));
	hs_write_log_mark(m, d, 8);
	assert_seen("s2-state", pa);
	poke64(d, pte + HS_PAGE_SIZE);
	hs_write_log_mark(m, d, 8);
	assert_seen("s2-identity", pa);
	repair(d, pte);
}
END_TEST

START_TEST(mutation_annotation)
{
	uint64_t text = sym("__hyp_text_start") & ~(HS_PAGE_SIZE - 1);
	baseline();
	uint64_t d = hs_test_desc_pa(m, true, text), e = hs_test_rd64(m, d);
	poke64(d, hs_annotation(HS_OWNER_GUEST, HS_VM_HANDLE_OFFSET));
	hs_write_log_mark(m, d, 8);
	assert_seen("annot-owner", text);
	assert_seen("owner-unique", text);
	poke64(d, 0); /* no annotation: the host's */
	hs_write_log_mark(m, d, 8);
	assert_seen("host-nopage-annot", text);
	poke64(d, e);
	hs_write_log_mark(m, d, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
}
END_TEST

START_TEST(mutation_vmemmap_state)
{
	uint64_t pa = ram_base() + 0x10000000;
	host_access(0, false, pa, 0);
	baseline();
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa), raw = hs_test_rd64(m, e);
	poke64(e, (raw & ~(0xfULL << 24)) | ((uint64_t)HS_PAGE_NOPAGE << 24));
	hs_write_log_mark(m, e, 8);
	assert_seen("s2-maps-nopage", pa);
	assert_seen("host-nopage-annot", pa);
	poke64(e, raw);
	hs_write_log_mark(m, e, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
}
END_TEST

START_TEST(mutation_table_refcount)
{
	uint64_t ttbr;
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr);
	uint64_t root = ttbr & 0x0000fffffffff000ULL;
	baseline();
	uint64_t e = hs_test_vmemmap_entry_pa(m, root), raw = hs_test_rd64(m, e);
	poke64(e, raw + 1);
	hs_write_log_mark(m, e, 8);
	assert_seen("table-refcount", root);
}
END_TEST

START_TEST(mutation_el2_pte)
{
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t text = sym("__hyp_text_start") & ~(HS_PAGE_SIZE - 1);
	baseline();
	uint64_t d = hs_test_desc_pa(m, false, hs_layout_hyp_va(l, text)), pte = hs_test_rd64(m, d);
	poke64(d, pte & ~(1ULL << 7)); /* writable, still executable */
	hs_write_log_mark(m, d, 8);
	assert_seen("el2-wx", text);
	poke64(d, 0); /* unmapped: the range splits around it */
	hs_write_log_mark(m, d, 8);
	check_both("unmapped");
	ck_assert(!last_full());
	poke64(d, pte);
	hs_write_log_mark(m, d, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
}
END_TEST

/* A page pinned twice loses its EL2 mapping; a pin count alone changes too. */
START_TEST(mutation_pinned_page_unmapped_at_el2)
{
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t pa = ram_base() + 0x10000000;
	hvc(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT, 0);
	hvc(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT, 0);
	hvc(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT, 0);
	baseline();
	uint64_t d = hs_test_desc_pa(m, false, hs_layout_hyp_va(l, pa)), pte = hs_test_rd64(m, d);
	poke64(d, 0);
	hs_write_log_mark(m, d, 8);
	assert_seen("el2-pinned-mapped", pa);
	repair(d, pte);
}
END_TEST

/* The UART's host stage-2 leaf made Normal and executable. */
START_TEST(mutation_uart_leaf_normal_executable)
{
	host_access(0, false, HS_UART_BASE + 0x18, 0);
	baseline();
	uint64_t d = hs_test_desc_pa(m, true, HS_UART_BASE), pte = hs_test_rd64(m, d);
	poke64(d, (pte & ~(3ULL << 53) & ~(0xfULL << 2)) | (0xfULL << 2));
	hs_write_log_mark(m, d, 8);
	assert_seen("s2-mmio", ~0ULL);
	repair(d, pte);
}
END_TEST

/* The EL2 stage-1 ranges over a page whose vmemmap entry changed are checked again. */
START_TEST(mutation_vmemmap_of_a_page_mapped_at_el2)
{
	uint64_t rodata = sym("__hyp_rodata_start") & ~(HS_PAGE_SIZE - 1);
	baseline();
	uint64_t e = hs_test_vmemmap_entry_pa(m, rodata), raw = hs_test_rd64(m, e);
	/* the hyp state is stored complemented (abi.h) */
	poke64(e, (raw & ~(0xfULL << 28)) | ((uint64_t)(~HS_PAGE_SHARED_OWNED & 3) << 28));
	hs_write_log_mark(m, e, 8);
	assert_seen("el2-state", rodata);
	poke64(e, (raw & ~(0xfULL << 28)) | ((uint64_t)(~HS_PAGE_NOPAGE & 3) << 28));
	hs_write_log_mark(m, e, 8);
	assert_seen("el2-maps-unowned", rodata);
}
END_TEST

/* A pool's rules run again when only the vmemmap over its range changed. */
START_TEST(mutation_vmemmap_of_an_allocated_pool_page)
{
	struct hs_hyp_pool_layout pool;
	ck_assert_int_eq(hs_phys_read(m, sym("hpool"), &pool, sizeof(pool), NULL), 0);
	uint64_t pa = pool.range_start, e = 0;
	for (; pa < pool.range_end; pa += HS_PAGE_SIZE) {
		e = hs_test_vmemmap_entry_pa(m, pa);
		if (hs_hyp_page_refcount(hs_test_rd64(m, e)))
			break; /* allocated */
	}
	ck_assert_uint_lt(pa, pool.range_end);
	baseline();
	poke64(e, hs_test_rd64(m, e) & ~0xffffULL); /* refcount 0, on no free list */
	hs_write_log_mark(m, e, 8);
	assert_seen("pool-unlisted", pa);
}
END_TEST

static uint64_t free_list_head(const char *pool_name, unsigned *order)
{
	uint64_t pool_pa = sym(pool_name);
	struct hs_hyp_pool_layout pool;
	ck_assert_int_eq(hs_phys_read(m, pool_pa, &pool, sizeof(pool), NULL), 0);
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t pool_va = hs_layout_hyp_va(l, pool_pa);
	for (unsigned o = 0; o < HS_MAX_ORDER; o++)
		if (pool.free_area[o].next != pool_va + o * sizeof(struct hs_list_node)) {
			*order = o;
			return hs_layout_pa(l, pool.free_area[o].next);
		}
	ck_abort_msg("%s has no free block", pool_name);
	return 0;
}

START_TEST(mutation_free_list_pointer)
{
	unsigned o;
	uint64_t node = free_list_head("hpool", &o);
	baseline();
	uint64_t next = hs_test_rd64(m, node);
	poke64(node, 0xdead0000ULL);
	hs_write_log_mark(m, node, 8);
	assert_seen("pool-list", node);
	poke64(node, next);
	hs_write_log_mark(m, node, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
}
END_TEST

START_TEST(mutation_free_page_contents)
{
	unsigned o;
	uint64_t node = free_list_head("host_s2_pool", &o);
	uint64_t tail = node + (o ? HS_PAGE_SIZE : 0) + 0x800;
	baseline();
	poke64(tail, 0x1234);
	hs_write_log_mark(m, tail, 8);
	assert_seen("pool-zero", tail & ~(HS_PAGE_SIZE - 1));
	poke64(tail, 0);
	hs_write_log_mark(m, tail, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
}
END_TEST

START_TEST(mutation_guest_leaf)
{
	struct hs_error err = {0};
	uint64_t h, pfn = (ram_base() + 0x400000) >> HS_PAGE_SHIFT, gfn = 0x48100, vttbr, vtcr;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_share(m, 0, h, pfn, gfn, 3, HS_PROT_RW, &ret, &err), 0);
	baseline();
	ck_assert_int_eq(hs_vm_regs(m, h, &vttbr, &vtcr, NULL), 0);
	struct hs_pt_regime r;
	char msg[200];
	ck_assert_int_eq(hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)), 0);
	uint64_t d = hs_test_regime_desc_pa(m, &r, (gfn + 1) << HS_PAGE_SHIFT),
		 pte = hs_test_rd64(m, d);
	poke64(d, (pte & ~HS_PTE_STATE_MASK) | ((uint64_t)HS_PAGE_OWNED << HS_PTE_STATE_SHIFT));
	hs_write_log_mark(m, d, 8);
	assert_seen("guest-owned", (pfn + 1) << HS_PAGE_SHIFT);
	assert_seen("guest-share-count", (pfn + 1) << HS_PAGE_SHIFT);
	poke64(d, pte);
	hs_write_log_mark(m, d, 8);
	ck_assert_int_eq(check_both("repaired"), 0);
}
END_TEST

/* The vmemmap of a page donated to a guest (no shares, no annotation change): guest rules again. */
START_TEST(mutation_vmemmap_of_a_donated_page)
{
	struct hs_error err = {0};
	uint64_t h, pfn = (ram_base() + 0x400000) >> HS_PAGE_SHIFT;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, true, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_donate(m, 0, h, pfn, 0x48100, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	baseline();
	uint64_t e = hs_test_vmemmap_entry_pa(m, pfn << HS_PAGE_SHIFT), raw = hs_test_rd64(m, e);
	/* hyp OWNED (stored complemented, abi.h) */
	poke64(e, (raw & ~(0xfULL << 28)) | ((uint64_t)(~HS_PAGE_OWNED & 3) << 28));
	hs_write_log_mark(m, e, 8);
	assert_seen("guest-owned", pfn << HS_PAGE_SHIFT);
}
END_TEST

/* An EL2 leaf moved onto a page a guest maps: the guest rules run again on a stage-1 change. */
START_TEST(mutation_el2_maps_a_guest_page)
{
	struct hs_error err = {0};
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t h, pfn = (ram_base() + 0x400000) >> HS_PAGE_SHIFT;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_share(m, 0, h, pfn, 0x48100, 1, HS_PROT_RW, &ret, &err), 0);
	baseline();
	uint64_t rodata = sym("__hyp_rodata_start") & ~(HS_PAGE_SIZE - 1);
	uint64_t d = hs_test_desc_pa(m, false, hs_layout_hyp_va(l, rodata)),
		 pte = hs_test_rd64(m, d);
	poke64(d, (pte & ~0x0000fffffffff000ULL) | (pfn << HS_PAGE_SHIFT)); /* still OWNED */
	hs_write_log_mark(m, d, 8);
	assert_seen("guest-el2-owned", pfn << HS_PAGE_SHIFT);
}
END_TEST

/*
 * A hypercall writes the vmemmap page that also holds the corrupted entry of
 * another page: the log names the page, and the whole page is compared.
 */
START_TEST(mutation_on_a_page_a_hypercall_writes)
{
	uint64_t pa = ram_base() + 0x10000000;
	host_access(0, false, pa, 0);
	baseline();
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa + HS_PAGE_SIZE), raw = hs_test_rd64(m, e);
	poke64(e, raw + (1ULL << 32));			   /* a guest share nobody has */
	hvc(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT, 0); /* writes pa's entry, next door */
	assert_seen("share-pair", pa + HS_PAGE_SIZE);
}
END_TEST

/*
 * Control: memory changed behind the log's back is missed until it is marked,
 * when hooks feed the log (test_check_incremental_hooks); the kernel's
 * tracking sees any store into RAM, the emulator's unmarked ones too.
 */
START_TEST(control_unlogged_change_is_missed)
{
	uint64_t pa = ram_base() + 0x10000000;
	host_access(0, false, pa, 0);
	baseline();
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa), raw = hs_test_rd64(m, e);
	poke64(e, (raw & ~(0xfULL << 24)) | ((uint64_t)HS_PAGE_NOPAGE << 24));
	struct hs_write_log_stats st;
	hs_write_log_stats(m, &st);
	if (st.kernel) {
		assert_seen("s2-maps-nopage", pa);
		return;
	}
	int a = hs_check_incr(ci, &inc), b = hs_check(m, &ful);
	ck_assert(!last_full());
	ck_assert_int_eq(a, 0);
	ck_assert_int_gt(b, 0);
	hs_write_log_mark(m, e, 8);
	assert_seen("s2-maps-nopage", pa);
}
END_TEST

/* ---- the trace ------------------------------------------------------------------- */

START_TEST(trace_checks_every_call_incrementally)
{
	struct hs_trace *t;
	struct hs_error err = {0};
	ck_assert_msg(hs_trace_start(m, HS_TRACE_F_CHECK, &t, &err) == 0, "%s", err.msg);
	uint64_t pa = ram_base() + 0x10000000, pfn = pa >> HS_PAGE_SHIFT;
	const int calls[] = {HS_HC_host_share_hyp, HS_HC_hyp_pin_shared, HS_HC_nop,
			     HS_HC_hyp_unpin_shared, HS_HC_host_unshare_hyp};
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa + HS_PAGE_SIZE), raw = hs_test_rd64(m, e);
	for (unsigned i = 0; i < 5; i++) {
		if (i == 2)
			hs_test_wr64(
			    m, e, raw + (1ULL << 32)); /* seen by the log: reported after the nop */
		hvc(calls[i], pfn, 0);
		const struct hs_trace_entry *te = hs_trace_get(t, i);
		ck_assert(te && te->checked);
		int n = hs_check(m, &ful);
		ck_assert_uint_eq(te->nr_violations, (size_t)n);
		for (size_t k = 0; k < te->nr_stored; k++)
			ck_assert(same_violation(&te->violations[k], &ful.v[k]));
	}
	ck_assert_uint_gt(hs_trace_get(t, 2)->nr_violations, 0);
	hs_trace_stop(t);
}
END_TEST

START_TEST(checks_during_the_boot_are_full_and_agree)
{
	struct hs_machine *fresh = hs_test_machine(1, 0);
	struct hs_check_incr *c2;
	struct hs_error err = {0};
	struct hs_stop stop;
	ck_assert_int_eq(hs_check_incr_new(fresh, &c2, &err), 0);
	ck_assert_int_lt(hs_check_incr(c2, &inc), 0);
	ck_assert_uint_eq(hs_check_count(&inc, "check-error"), 1);
	/* step by step: the host model writes memory itself until the boot is done */
	for (int step = HS_BOOT_RESERVE; step <= HS_BOOT_DONE; step++) {
		const char *until = step < HS_BOOT_DONE ? hs_boot_step_name(step) : NULL;
		ck_assert_msg(hs_boot(fresh, until, &stop, &err) == 0, "%s", err.msg);
		int a = hs_check_incr(c2, &inc), b = hs_check(fresh, &ful);
		ck_assert_msg(a == b && same_reports(&inc, &ful), "before %s: %d / %d\n%s%s",
			      until ? until : "the end", a, b, text(&inc), text(&ful));
		struct hs_check_incr_stats st;
		hs_check_incr_stats(c2, &st);
		ck_assert(st.last_full); /* no baseline before the boot is done */
	}
	for (int i = 0; i < 2; i++) {
		struct hs_host_op res;
		ck_assert_int_eq(
		    hs_host_hvc(fresh, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
		ck_assert_int_eq(hs_check_incr(c2, &inc), 0);
		struct hs_check_incr_stats st;
		hs_check_incr_stats(c2, &st);
		ck_assert_msg(!st.last_full, "check %d after the boot: %s", i, st.last_why);
	}
	hs_check_incr_free(c2);
	hs_machine_destroy(fresh);
}
END_TEST

static void setup2(void)
{
	start(2);
}

int main(void)
{
	Suite *s = suite_create("check_incremental");
	TCase *tc = tcase_create("log");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_has_the_pages_a_hypercall_wrote);
	tcase_add_test(tc, log_loses_track_of_too_many_pages);
	tcase_add_test(tc, guest_stores_are_logged_through_the_guest_stage2);
	suite_add_tcase(s, tc);
	tc = tcase_create("differential");
	tcase_add_checked_fixture(tc, setup2, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, differential_random_operations);
	suite_add_tcase(s, tc);
	tc = tcase_create("mutations");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mutation_host_s2_leaf);
	tcase_add_test(tc, mutation_annotation);
	tcase_add_test(tc, mutation_vmemmap_state);
	tcase_add_test(tc, mutation_table_refcount);
	tcase_add_test(tc, mutation_el2_pte);
	tcase_add_test(tc, mutation_pinned_page_unmapped_at_el2);
	tcase_add_test(tc, mutation_uart_leaf_normal_executable);
	tcase_add_test(tc, mutation_vmemmap_of_a_page_mapped_at_el2);
	tcase_add_test(tc, mutation_vmemmap_of_an_allocated_pool_page);
	tcase_add_test(tc, mutation_free_list_pointer);
	tcase_add_test(tc, mutation_free_page_contents);
	tcase_add_test(tc, mutation_guest_leaf);
	tcase_add_test(tc, mutation_vmemmap_of_a_donated_page);
	tcase_add_test(tc, mutation_el2_maps_a_guest_page);
	tcase_add_test(tc, mutation_on_a_page_a_hypercall_writes);
	tcase_add_test(tc, control_unlogged_change_is_missed);
	tcase_add_test(tc, trace_checks_every_call_incrementally);
	tcase_add_test(tc, checks_during_the_boot_are_full_and_agree);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
