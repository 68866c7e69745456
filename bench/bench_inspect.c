/* SPDX-License-Identifier: MIT */
/*
 * Inspection benchmark.
 *  1. A booted 1 GiB machine: snapshot, ownership map, checker, diff of one
 *     changed page, against the cost of one `nop` hypercall.
 *  2. Guests: the same with 0, 1 and 10 live VMs (each shares 3 pages or,
 *     protected, owns a donated page; plus the guest program page): snapshot,
 *     checker, ownership map. Needs the guest program (argv[2] or
 *     $HS_GUEST_ELF); skipped without it.
 *  3. A synthetic host stage 2 covering 4 GiB with 4 KiB pages (1,048,576
 *     leaves) in a host buffer: snapshot walk, ownership map, diff of one
 *     changed page; with identical attributes and with every other page
 *     read-only (the worst case: no two neighbours merge).
 *  4. The checker after every hypercall (a trace with HS_TRACE_F_CHECK, which
 *     uses the incremental checker) on a booted 1 GiB machine: a null
 *     hypercall and a host_share_hyp + host_unshare_hyp pair, each as one
 *     host operation, alone and with the check; best of RUNS repetitions of
 *     CALLS calls; then the same with 10 VMs (with the guest program). The
 *     check's cost (with minus alone, the write log's store hook included)
 *     must stay below the hypercall's own.
 * Usage: bench_inspect [hyp.elf [guest.elf]]   (default: $HS_HYP_ELF, then hyp/hyp.elf)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "inspect_check.h"
#include "inspect_owner.h"
#include "inspect_snapshot.h"
#include "inspect_trace.h"

#define PG 4096ULL
#define RUNS 7
#include "bench_best.h"

/* A booted 1 GiB machine whose host has touched 0x50000000 (NULL after a message). */
static struct hs_machine *boot_1g(const char *elf, const char *guest_elf)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = elf;
	o.guest_elf = guest_elf;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err)) {
		fprintf(stderr, "boot: %s\n", err.msg);
		return NULL;
	}
	struct hs_host_op res;
	hs_host_access(m, 0, false, 0x50000000, 8, 0, &res, &stop, &err);
	return m;
}

static int booted(const char *elf)
{
	struct hs_machine *m = boot_1g(elf, NULL);
	if (!m)
		return 1;
	struct hs_error err = {0};
	struct hs_stop stop;
	struct hs_host_op res;

	struct hs_snapshot a, b;
	hs_snapshot_init(&a);
	hs_snapshot_init(&b);
	struct hs_owner_map map = {0};
	struct hs_owner_ctx ctx;
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	double t_snap, t_snap_tables, t_map, t_ctx, t_check, t_diff, t_hvc;
	BEST(t_snap, hs_snapshot_take(m, 0, &a, &err));
	BEST(t_snap_tables, hs_snapshot_take(m, HS_SNAP_F_TABLES, &a, &err));
	BEST(t_map, hs_owner_map_free(&map); hs_owner_map_build(m, &map, &err));
	BEST(t_ctx, hs_owner_ctx_build(m, &ctx, &err); hs_owner_ctx_free(&ctx));
	int nviol = 0;
	BEST(t_check, nviol = hs_check(m, &rep));

	hs_snapshot_take(m, 0, &a, &err);
	uint64_t pfn = 0x50000;
	hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err);
	hs_snapshot_take(m, 0, &b, &err);
	struct hs_diff d;
	hs_diff_init(&d);
	BEST(t_diff, hs_snapshot_diff(&a, &b, &d));
	hs_snapshot_take(m, HS_SNAP_F_TABLES, &b, &err);

	const int N = 200;
	t_hvc = 1e9;
	for (int run = 0; run < 3; run++) {
		double t0 = now_ms();
		for (int i = 0; i < N; i++)
			hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err);
		double t = (now_ms() - t0) / N;
		if (t < t_hvc)
			t_hvc = t;
	}
	printf("booted 1 GiB machine (%zu host-s2 ranges, %zu hyp-s1 ranges, %zu vmemmap runs, "
	       "%zu table pages):\n",
	       a.nr_pt[HS_SNAP_HOST_S2], a.nr_pt[HS_SNAP_HYP_S1], a.nr_vm, b.nr_tables);
	printf("  snapshot (walk s2 + s1 + vmemmap read):    %8.3f ms\n", t_snap);
	printf("  snapshot incl. table pages:                %8.3f ms\n", t_snap_tables);
	printf("  ownership map (snapshot + merge, %zu ranges): %6.3f ms\n", map.nr, t_map);
	printf("  ownership context (snapshot + PA->VA index):%7.3f ms\n", t_ctx);
	printf("  checker (%d violations):                   %8.3f ms\n", nviol, t_check);
	printf("  diff, one page changed (%zu records):        %8.4f ms\n", d.nr, t_diff);
	printf(
	    "  one `nop` hypercall (hs_host_hvc):         %8.3f ms  -> checker = %.1f hypercalls\n",
	    t_hvc, t_check / t_hvc);
	hs_diff_free(&d);
	hs_owner_map_free(&map);
	hs_check_report_free(&rep);
	hs_snapshot_free(&a);
	hs_snapshot_free(&b);
	hs_machine_destroy(m);
	return 0;
}

/* ---- guests ------------------------------------------------------------------ */
static void measure_guests(struct hs_machine *m, unsigned nvms)
{
	struct hs_snapshot a;
	hs_snapshot_init(&a);
	struct hs_owner_map map = {0};
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	struct hs_error err = {0};
	double t_snap, t_snap_tables, t_map, t_check;
	int nviol = 0;
	BEST(t_snap, hs_snapshot_take(m, 0, &a, &err));
	BEST(t_snap_tables, hs_snapshot_take(m, HS_SNAP_F_TABLES, &a, &err));
	BEST(t_map, hs_owner_map_free(&map); hs_owner_map_build(m, &map, &err));
	BEST(t_check, nviol = hs_check(m, &rep));
	size_t ranges = 0, gtables = 0;
	for (size_t i = 0; i < a.nr_guests; i++)
		ranges += a.guests[i].nr_pt;
	for (size_t i = 0; i < a.nr_tables; i++)
		gtables += a.tables[i].table == HS_SNAP_GUEST_S2;
	printf("  %2u VM%s (%zu guest ranges, %2zu guest table pages): snapshot %6.3f ms, "
	       "incl. tables %6.3f ms, map %6.3f ms, checker %6.3f ms (%d violations)\n",
	       nvms, nvms == 1 ? " " : "s", ranges, gtables, t_snap, t_snap_tables, t_map, t_check,
	       nviol);
	hs_owner_map_free(&map);
	hs_check_report_free(&rep);
	hs_snapshot_free(&a);
}

/* VMs [from, to): even ones share 3 host pages, odd ones (protected) own a donated page. */
static int add_vms(struct hs_machine *m, unsigned from, unsigned to)
{
	struct hs_error err = {0};
	for (unsigned i = from; i < to; i++) {
		uint64_t h, pfn = (0x60000000ULL >> 12) + 4 * i;
		int64_t ret;
		bool prot = i & 1;
		if (hs_vm_create(m, 0, prot, &h, &err) ||
		    (prot ? hs_vm_donate(m, 0, h, pfn, 0x48100, &ret, &err)
			  : hs_vm_share(m, 0, h, pfn, 0x48100, 3, HS_PROT_RW, &ret, &err))) {
			fprintf(stderr, "VM %u: %s\n", i, err.msg);
			return 1;
		}
	}
	return 0;
}

static int guests(const char *elf, const char *guest_elf)
{
	if (!guest_elf) {
		printf("guests: skipped (no guest program: pass it as the 2nd argument or set "
		       "HS_GUEST_ELF)\n");
		return 0;
	}
	struct hs_machine *m = boot_1g(elf, guest_elf);
	if (!m)
		return 1;
	printf("guests, booted 1 GiB machine:\n");
	measure_guests(m, 0);
	int rc = add_vms(m, 0, 1);
	if (!rc)
		measure_guests(m, 1);
	if (!rc && !(rc = add_vms(m, 1, 10)))
		measure_guests(m, 10);
	hs_machine_destroy(m);
	return rc;
}

/* ---- synthetic 4 GiB host stage 2 ------------------------------------------ */
#define TBASE 0x100000000ULL /* table RAM above the 4 GiB being mapped */
#define NR_LEAVES (1ULL << 20)
#define NR_L3 (NR_LEAVES / 512)
#define TPAGES (2 + 4 + NR_L3)

struct ram {
	uint8_t *mem;
	uint64_t size;
};

static int ram_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	struct ram *r = ud;
	if (pa < TBASE || pa - TBASE + len > r->size)
		return -1;
	memcpy(buf, r->mem + (pa - TBASE), len);
	return 0;
}

static uint64_t *leaf(struct ram *ram, uint64_t ipa)
{
	uint64_t n = ipa / PG;
	return (uint64_t *)ram->mem + (6 + n / 512) * 512 + n % 512;
}

static void build(struct ram *ram, unsigned stride)
{
	uint64_t *t = (uint64_t *)ram->mem;
	memset(ram->mem, 0, ram->size);
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t l2 = 2 + i;
		t[i] = (TBASE + l2 * PG) | 3;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t l3 = 6 + i * 512 + j;
			t[l2 * 512 + j] = (TBASE + l3 * PG) | 3;
		}
	}
	for (uint64_t ipa = 0; ipa < NR_LEAVES * PG; ipa += PG) {
		uint64_t prot = (stride && ((ipa / PG) % stride) == 0) ? (1ULL << 6) : (3ULL << 6);
		*leaf(ram, ipa) = ipa | (0xfULL << 2) | prot | (3ULL << 8) | (1ULL << 10) | 3;
	}
}

static int synthetic(void)
{
	struct ram ram = {.size = TPAGES * PG};
	ram.mem = malloc(ram.size);
	if (!ram.mem)
		return 1;
	struct hs_phys phys = {.read = ram_read, .ud = &ram};
	struct hs_pt_regime r;
	char msg[160];
	if (hs_pt_regime_s2(24 | (1ULL << 6) | (2ULL << 16), TBASE, &r, msg, sizeof(msg))) {
		fprintf(stderr, "regime: %s\n", msg);
		return 1;
	}
	for (unsigned variant = 0; variant < 2; variant++) {
		build(&ram, variant ? 2 : 0);
		struct hs_snapshot a, b;
		hs_snapshot_init(&a);
		hs_snapshot_init(&b);
		/* memory = the 4 GiB mapped; vmemmap: one run, host OWNED / hyp NOPAGE */
		struct hs_snap_vm_range vm = {.start = 0,
					      .end = NR_LEAVES * PG,
					      .val = (uint64_t)HS_PAGE_NOPAGE << 28,
					      .backed = true};
		double t_walk, t_walk_tables, t_map, t_diff;
		struct hs_error err = {0};
		a.flags = HS_SNAP_F_TABLES;
		BEST(t_walk_tables, a.nr_tables = 0;
		     hs_snapshot_walk(&a, HS_SNAP_HOST_S2, &phys, &r, &err));
		a.flags = 0;
		BEST(t_walk, hs_snapshot_walk(&a, HS_SNAP_HOST_S2, &phys, &r, &err));
		a.nr_mem = 1;
		a.mem[0].base = 0;
		a.mem[0].size = NR_LEAVES * PG;
		a.vm = malloc(sizeof(vm));
		a.vm[0] = vm;
		a.nr_vm = a.cap_vm = 1;
		struct hs_owner_map map = {0};
		BEST(t_map, hs_owner_map_from_snapshot(&a, &map));

		/* one page changes state (as host_share_hyp would do) */
		uint64_t *e = leaf(&ram, 0x12345000);
		*e |= (uint64_t)HS_PAGE_SHARED_OWNED << HS_PTE_STATE_SHIFT;
		hs_snapshot_walk(&b, HS_SNAP_HOST_S2, &phys, &r, &err);
		b.nr_mem = 1;
		b.mem[0] = a.mem[0];
		b.vm = malloc(sizeof(vm));
		b.vm[0] = vm;
		b.nr_vm = b.cap_vm = 1;
		struct hs_diff d;
		hs_diff_init(&d);
		BEST(t_diff, hs_snapshot_diff(&a, &b, &d));
		printf("synthetic host stage 2, 4 GiB of 4 KiB pages, %s:\n",
		       variant ? "every other page read-only" : "identical attributes");
		printf("  snapshot walk (%llu leaves -> %zu ranges):  %8.1f ms\n",
		       (unsigned long long)NR_LEAVES, a.nr_pt[HS_SNAP_HOST_S2], t_walk);
		printf("  snapshot walk incl. %zu table pages:         %8.1f ms\n", a.nr_tables,
		       t_walk_tables);
		printf("  ownership map (%zu ranges):                  %8.3f ms\n", map.nr, t_map);
		printf("  walk + ownership map:                       %8.1f ms\n", t_walk + t_map);
		printf("  diff, one page changed (%zu records):        %8.3f ms\n", d.nr, t_diff);
		hs_diff_free(&d);
		hs_owner_map_free(&map);
		hs_snapshot_free(&a);
		hs_snapshot_free(&b);
	}
	free(ram.mem);
	return 0;
}

/* ---- the checker after every hypercall ---------------------------------------- */
#define CALLS 10000

/* Best time per call (us) of CALLS calls of fn (pairs count as two), over RUNS repetitions. */
static double per_call(struct hs_machine *m, int fn, int fn2, struct hs_trace *t)
{
	uint64_t pfn = 0x50000;
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	double best = 1e9;
	for (int run = 0; run < RUNS; run++) {
		if (t)
			hs_trace_clear(t);
		double t0 = now_ms();
		for (int i = 0; i < CALLS; i += fn2 >= 0 ? 2 : 1) {
			hs_host_hvc(m, 0, HS_HC_FN(fn), &pfn, 1, &res, &stop, &err);
			if (fn2 >= 0)
				hs_host_hvc(m, 0, HS_HC_FN(fn2), &pfn, 1, &res, &stop, &err);
		}
		double us = (now_ms() - t0) * 1e3 / CALLS;
		if (us < best)
			best = us;
	}
	if (err.code)
		fprintf(stderr, "hypercall: %s\n", err.msg);
	return best;
}

/* The null hypercall and the share+unshare pair, alone and with the trace's checker. */
static int check_every_call(struct hs_machine *m, const char *what)
{
	struct hs_error err = {0};
	struct {
		const char *name;
		int fn, fn2;
		double alone, checked;
	} c[] = {
	    {"null hypercall", HS_HC_nop, -1, 0, 0},
	    {"host_share_hyp + host_unshare_hyp pair", HS_HC_host_share_hyp, HS_HC_host_unshare_hyp,
	     0, 0},
	};
	for (unsigned i = 0; i < 2; i++)
		c[i].alone = per_call(m, c[i].fn, c[i].fn2, NULL);
	struct hs_trace *t;
	if (hs_trace_start(m, HS_TRACE_F_CHECK, &t, &err)) {
		fprintf(stderr, "trace: %s\n", err.msg);
		return 1;
	}
	for (unsigned i = 0; i < 2; i++)
		c[i].checked = per_call(m, c[i].fn, c[i].fn2, t);
	size_t dirty = 0;
	for (size_t i = 0; i < hs_trace_count(t); i++)
		dirty += hs_trace_get(t, i)->nr_violations;
	hs_trace_stop(t);
	printf("  %s:\n", what);
	bool met = true;
	for (unsigned i = 0; i < 2; i++) {
		unsigned k = c[i].fn2 >= 0 ? 2 : 1; /* calls per line */
		printf(
		    "    %s: %.1f us alone, %.1f us with check after every call (check %.1f us)\n",
		    c[i].name, c[i].alone * k, c[i].checked * k, (c[i].checked - c[i].alone) * k);
		met &= c[i].checked - c[i].alone < c[i].alone;
	}
	printf("    per call, the check costs less than the call itself: %s\n", met ? "yes" : "NO");
	if (dirty)
		printf("    (the checks found %zu violations: the machine is not clean)\n", dirty);
	return 0;
}

static int per_call_checking(const char *elf, const char *guest_elf)
{
	struct hs_machine *m = boot_1g(elf, guest_elf);
	if (!m)
		return 1;
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	double t_full;
	BEST(t_full, hs_check(m, &rep));
	hs_check_report_free(&rep);
	printf("checker after every hypercall, booted 1 GiB machine (best of %d x %d calls, each "
	       "call one host operation); full checker (hs_check) %.1f us:\n",
	       RUNS, CALLS, t_full * 1e3);
	int rc = check_every_call(m, "no VM");
	if (!rc && guest_elf && !(rc = add_vms(m, 0, 10)))
		rc = check_every_call(m, "10 VMs");
	hs_machine_destroy(m);
	return rc;
}

int main(int argc, char **argv)
{
	const char *elf = argc > 1 ? argv[1] : getenv("HS_HYP_ELF");
	if (!elf)
		elf = "hyp/hyp.elf";
	if (booted(elf))
		return 1;
	const char *guest_elf = argc > 2 ? argv[2] : getenv("HS_GUEST_ELF");
	if (guests(elf, guest_elf) || synthetic())
		return 1;
	return per_call_checking(elf, guest_elf);
}
