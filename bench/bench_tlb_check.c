/* SPDX-License-Identifier: MIT */
/*
 * The cost of the live TLB checker (inspect/tlb_check.h).
 *
 *  1. host_share_hyp + host_unshare_hyp pairs per second, one host operation
 *     per call, with the checker off and on (the target: on within
 *     2x of off);
 *  2. a mixed campaign (host shares, pins, donations both ways, host loads
 *     and stores, VMs created, shared with, run, unshared, torn down) in
 *     operations per second, off and on, with the number of violations the
 *     checker found (0 on the bundled hypervisor).
 * Usage: bench_tlb_check [PAIRS] [OPS per round] [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "machine.h"
#include "tlb_check.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, const struct hs_error *err)
{
	fprintf(stderr, "bench_tlb_check: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

static struct hs_machine *boot(const char *elf)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = elf;
	if (!getenv("HS_GUEST_ELF"))
		o.guest_elf = HS_DEFAULT_GUEST_ELF;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err))
		fail("boot", &err);
	return m;
}

static double pairs(struct hs_machine *m, uint64_t n)
{
	const uint64_t pfn = (hs_machine_opts(m)->ram_base >> HS_PAGE_SHIFT) + 0x10000;
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err) ||
		    res.x1)
			fail("host_share_hyp", &err);
		if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_unshare_hyp), &pfn, 1, &res, &stop,
				&err) ||
		    res.x1)
			fail("host_unshare_hyp", &err);
	}
	return n / (now() - t0);
}

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static void hvc(struct hs_machine *m, int nr, uint64_t a0, uint64_t a1)
{
	uint64_t args[2] = {a0, a1};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	if (hs_host_hvc(m, 0, HS_HC_FN(nr), args, 2, &res, &stop, &err))
		fail("hvc", &err);
}

/* The same deterministic mix every time: operations per second. */
static double campaign(struct hs_machine *m, uint64_t n)
{
	uint64_t base = (hs_machine_opts(m)->ram_base >> HS_PAGE_SHIFT) + 0x10000, gfn = 0x48100;
	uint64_t vm = 0;
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	int64_t ret;
	rng = 0x5eed;
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = rnd(), pfn = base + (r >> 8) % 1024;
		switch (r % 10) {
		case 0:
		case 1:
			hvc(m, HS_HC_host_share_hyp, pfn, 0);
			break;
		case 2:
			hvc(m, HS_HC_host_unshare_hyp, pfn, 0);
			break;
		case 3:
			hvc(m, HS_HC_hyp_pin_shared, pfn, 0);
			hvc(m, HS_HC_hyp_unpin_shared, pfn, 0);
			break;
		case 4:
			hvc(m, HS_HC_host_donate_hyp, pfn, 1);
			hvc(m, HS_HC_hyp_donate_host, pfn, 1);
			break;
		case 5:
		case 6:
			if (hs_host_access(m, 0, r & 1, pfn << HS_PAGE_SHIFT, 8, r, &res, &stop,
					   &err))
				fail("host access", &err);
			break;
		default:
			if (!vm) {
				if (hs_vm_create(m, 0, false, &vm, &err))
					fail("vm create", &err);
				gfn = 0x48100;
			} else if (r % 10 == 7) {
				hs_vm_share(m, 0, vm, pfn, gfn++, 1, HS_PROT_RW, &ret, &err);
			} else if (r % 10 == 8 && gfn > 0x48100) {
				hs_vm_unshare(m, 0, vm, 0x48100 + (r >> 32) % (gfn - 0x48100), 1,
					      &ret, &err);
			} else if (gfn > 0x48180) {
				if (hs_vm_teardown(m, 0, vm, &ret, &err))
					fail("teardown", &err);
				vm = 0;
			}
			break;
		}
	}
	return n / (now() - t0);
}

/*
 * The machine is shared with other work: off and on alternate in rounds, so
 * load changes hit both sides alike. The checker starts anew in every round
 * (its set-up is part of the cost).
 */
#define ROUNDS 8

int main(int argc, char **argv)
{
	uint64_t np = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000;
	uint64_t no = argc > 2 ? strtoull(argv[2], NULL, 0) : 5000;
	const char *elf = argc > 3 ? argv[3] : HS_DEFAULT_HYP_ELF;
	struct hs_error err = {0};
	struct hs_tlb_check *tc;
	size_t violations = 0;

	struct hs_machine *m = boot(elf);
	double t_off = 0, t_on = 0, chunk = (double)(np / ROUNDS);
	for (int r = 0; r < ROUNDS; r++) {
		t_off += chunk / pairs(m, np / ROUNDS);
		if (hs_tlb_check_new(m, &tc, &err))
			fail("checker", &err);
		t_on += chunk / pairs(m, np / ROUNDS);
		violations += hs_tlb_check_count(tc);
		hs_tlb_check_free(tc);
	}
	printf("share+unshare pairs, one host operation per call: %.0f/s off, %.0f/s with the "
	       "TLB checker on (%.2fx the time), %zu violations\n",
	       np / t_off, np / t_on, t_on / t_off, violations);
	fflush(stdout);
	hs_machine_destroy(m);

	t_off = t_on = 0;
	uint64_t stores = 0, tlbis = 0, dsbs = 0;
	violations = 0;
	for (int r = 0; r < ROUNDS / 2; r++) {
		m = boot(elf);
		t_off += (double)no / campaign(m, no);
		hs_machine_destroy(m);
		m = boot(elf);
		if (hs_tlb_check_new(m, &tc, &err))
			fail("checker", &err);
		t_on += (double)no / campaign(m, no);
		struct hs_tlb_model_stats st;
		hs_tlb_model_stats(hs_tlb_check_model(tc), &st);
		stores += st.stores, tlbis += st.tlbis, dsbs += st.dsbs;
		violations += hs_tlb_check_count(tc);
		hs_tlb_check_free(tc);
		hs_machine_destroy(m);
	}
	uint64_t total = no * (ROUNDS / 2);
	printf("mixed campaign (%" PRIu64 " operations): %.0f ops/s off, %.0f ops/s with the TLB "
	       "checker on (%.2fx the time); it judged %" PRIu64 " table stores, %" PRIu64
	       " TLBIs, %" PRIu64 " DSBs: %zu violations\n",
	       total, total / t_off, total / t_on, t_on / t_off, stores, tlbis, dsbs, violations);
	return 0;
}
