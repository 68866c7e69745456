/* SPDX-License-Identifier: MIT */
/*
 * The trace's live snapshots (inspect_snapshot_live.h): a trace started
 * before the boot records, for every hypercall, the diff two fresh snapshots
 * around it give — the test takes those itself, from its own subscriber —
 * while its snapshots cost what was written once the host is protected.
 *
 *  - differential: a boot on two CPUs, then random host operations (shares,
 *    pins, donations both ways, host loads and stores, VMs created, given
 *    pages, run and torn down, CPU 1 switched off and on) and debugger writes
 *    into the vmemmap and a table between them; every entry's diff equals the
 *    fresh one, record for record, and after the boot almost no take is a
 *    fresh snapshot;
 *  - a change behind the write log's back (a raw store into RAM no CPU and no
 *    hs_phys_write made) between two calls is still seen once the log loses
 *    track, so the trace never reports a stale diff silently.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "inspect_trace.h"
#include "testutil.h"
#include "write_log.h"

static struct hs_machine *m;
static struct hs_trace *t;

/* The test's own diffs: fresh snapshots at the same events. */
struct fresh {
	struct hs_snapshot before[HS_MAX_CPUS], after;
	struct hs_diff *d; /* one per completed call, in entry order */
	bool *have;
	size_t nr, cap;
	long open[HS_MAX_CPUS];
};
static struct fresh fr;

static void on_event(const struct hs_event *ev, void *ud)
{
	struct fresh *f = ud;
	unsigned cpu = ev->cpu;
	if (ev->type == HS_EV_HVC_ENTER) {
		if (f->nr == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->d = realloc(f->d, f->cap * sizeof(*f->d));
			f->have = realloc(f->have, f->cap * sizeof(*f->have));
			ck_assert(f->d && f->have);
		}
		hs_diff_init(&f->d[f->nr]);
		f->have[f->nr] = hs_snapshot_take(m, 0, &f->before[cpu], NULL) == 0;
		f->open[cpu] = (long)f->nr++;
	} else if (ev->type == HS_EV_HVC_EXIT && f->open[cpu] >= 0) {
		long i = f->open[cpu];
		f->open[cpu] = -1;
		if (f->have[i] && !hs_snapshot_take(m, 0, &f->after, NULL))
			ck_assert_int_eq(hs_snapshot_diff(&f->before[cpu], &f->after, &f->d[i]), 0);
		else
			f->have[i] = false;
	}
}

static void setup(void)
{
	struct hs_error err = {0};
	memset(&fr, 0, sizeof(fr));
	for (unsigned i = 0; i < HS_MAX_CPUS; i++) {
		hs_snapshot_init(&fr.before[i]);
		fr.open[i] = -1;
	}
	hs_snapshot_init(&fr.after);
	m = hs_test_machine(2, 0);
	ck_assert_msg(hs_trace_start(m, HS_TRACE_F_DIFF, &t, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_machine_subscribe(m, on_event, &fr), 0);
	struct hs_stop stop;
	ck_assert_msg(hs_boot(m, NULL, &stop, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
}

static void teardown(void)
{
	hs_trace_stop(t);
	hs_machine_destroy(m);
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		hs_snapshot_free(&fr.before[i]);
	hs_snapshot_free(&fr.after);
	for (size_t i = 0; i < fr.nr; i++)
		hs_diff_free(&fr.d[i]);
	free(fr.d);
	free(fr.have);
}

static const char *json(const struct hs_diff *d, struct hs_strbuf *sb)
{
	hs_sb_reset(sb);
	hs_diff_json(sb, d);
	return hs_sb_str(sb);
}

/* Every entry's diff is the one fresh snapshots give. */
static void assert_same_diffs(const char *when)
{
	ck_assert_uint_eq(hs_trace_count(t), fr.nr);
	struct hs_strbuf a, b;
	hs_sb_init(&a);
	hs_sb_init(&b);
	for (size_t i = 0; i < fr.nr; i++) {
		const struct hs_trace_entry *e = hs_trace_get(t, i);
		if (!e->completed)
			continue;
		ck_assert_msg(e->has_diff == fr.have[i], "%s: entry %zu (%s): has_diff differs",
			      when, i, e->name);
		ck_assert_msg(!strcmp(json(&e->diff, &a), json(&fr.d[i], &b)),
			      "%s: entry %zu (%s): trace %s\nfresh %s", when, i, e->name,
			      hs_sb_str(&a), hs_sb_str(&b));
	}
	hs_sb_free(&a);
	hs_sb_free(&b);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static struct hs_host_op hvc_on(unsigned cpu, int nr, uint64_t a0)
{
	return hs_test_hvc(m, cpu, nr, a0, 1);
}

START_TEST(trace_diffs_equal_fresh_snapshots)
{
	struct hs_snap_live_stats st0, st;
	hs_trace_snapshot_stats(t, &st0);
	const uint64_t hot = 0x50000; /* host pages hot .. hot + 64 */
	uint64_t donated[16], vm[2];
	unsigned nr_donated = 0, nr_vm = 0;
	bool cpu1_on = true;
	struct hs_error err = {0};
	int64_t ret;
	for (int i = 0; i < 400; i++) {
		uint64_t r = rnd(), pfn = hot + (r >> 8) % 64;
		unsigned cpu = cpu1_on && (r >> 60) % 2 ? 1 : 0;
		switch (r % 12) {
		case 0:
		case 1:
			hvc_on(cpu, HS_HC_host_share_hyp, pfn);
			break;
		case 2:
		case 3:
			hvc_on(cpu, HS_HC_host_unshare_hyp, pfn);
			break;
		case 4:
			hvc_on(cpu, (r >> 20) % 2 ? HS_HC_hyp_pin_shared : HS_HC_hyp_unpin_shared,
			       pfn);
			break;
		case 5:
			if (nr_donated < 16) {
				struct hs_host_op res = hvc_on(cpu, HS_HC_host_donate_hyp, pfn);
				if (res.x0 == HS_SMCCC_SUCCESS && res.x1 == 0)
					donated[nr_donated++] = pfn;
			} else {
				hvc_on(cpu, HS_HC_hyp_donate_host, donated[--nr_donated]);
			}
			break;
		case 6:
			hs_test_host_touch(m, cpu, pfn, (r >> 30) % 2);
			break;
		case 7: { /* the debugger writes a vmemmap entry's refcount, or a host stage-2 entry
			   */
			uint64_t pa = (r >> 40) % 2
					  ? hs_test_vmemmap_entry_pa(m, pfn << HS_PAGE_SHIFT)
					  : hs_test_desc_pa(m, true, pfn << HS_PAGE_SHIFT);
			hs_test_wr64(m, pa, hs_test_rd64(m, pa) ^ ((r >> 40) % 2 ? 1 : 1ULL << 54));
			hvc_on(cpu, HS_HC_nop, 0);
			hs_test_wr64(m, pa, hs_test_rd64(m, pa) ^ ((r >> 40) % 2 ? 1 : 1ULL << 54));
			break;
		}
		case 8:
			if (nr_vm < 2) {
				ck_assert_msg(hs_vm_create(m, 0, false, &vm[nr_vm], &err) == 0,
					      "%s", err.msg);
				nr_vm++;
			} else if ((r >> 20) % 4 == 0) {
				ck_assert_msg(hs_vm_teardown(m, 0, vm[--nr_vm], &ret, &err) == 0,
					      "%s", err.msg);
			}
			break;
		case 9:
			if (nr_vm)
				ck_assert_int_eq(hs_vm_share(m, 0, vm[(r >> 20) % nr_vm], pfn,
							     0x48100 + (r >> 24) % 32, 1,
							     HS_PROT_RW, &ret, &err),
						 0);
			break;
		case 10:
			hs_test_toggle_cpu1(m, &cpu1_on);
			break;
		default:
			hvc_on(cpu, HS_HC_nop, 0);
			break;
		}
		if (i % 50 == 0)
			assert_same_diffs("during the operations");
	}
	assert_same_diffs("at the end");
	hs_trace_snapshot_stats(t, &st);
	ck_assert_uint_gt(st.takes - st0.takes, 200);
	/* VM creations and teardowns change the VM table: those take fresh snapshots */
	ck_assert_msg((st.fresh - st0.fresh) * 10 < st.takes - st0.takes,
		      "%llu of %llu takes after the boot were fresh snapshots",
		      (unsigned long long)(st.fresh - st0.fresh),
		      (unsigned long long)(st.takes - st0.takes));
}
END_TEST

START_TEST(a_change_the_log_cannot_see_is_caught_when_it_loses_track)
{
	hvc_on(0, HS_HC_host_share_hyp, 0x50000);
	/* a raw store no CPU made: only a lost log makes the next take fresh */
	uint64_t pa = hs_test_vmemmap_entry_pa(m, 0x51000ULL << HS_PAGE_SHIFT);
	uint64_t *p = hs_phys_ptr(m, pa, 8);
	ck_assert_ptr_nonnull(p);
	*p ^= 3; /* refcount 3 */
	hs_write_log_mark(m, hs_machine_opts(m)->ram_base, hs_machine_opts(m)->ram_size);
	hvc_on(0, HS_HC_nop, 0);
	*p ^= 3;
	hs_write_log_mark(m, hs_machine_opts(m)->ram_base, hs_machine_opts(m)->ram_size);
	hvc_on(0, HS_HC_nop, 0);
	assert_same_diffs("after changes behind the log");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("trace_live");
	TCase *tc = tcase_create("live");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, trace_diffs_equal_fresh_snapshots);
	tcase_add_test(tc, a_change_the_log_cannot_see_is_caught_when_it_loses_track);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hs_test_run(suite());
}
