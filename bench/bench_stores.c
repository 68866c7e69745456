/* SPDX-License-Identifier: MIT */
/*
 * Where the guest stores of a hypercall come from, per function. In Unicorn
 * 2.0.1 every store to RAM takes QEMU's self-modifying-code slow path (tens of
 * nanoseconds; loads take a few), so the number of stores on a path bounds
 * its speed from below. This program counts them for a null hypercall and a
 * host_share_hyp + host_unshare_hyp pair, times a store and a load in a tight
 * loop on a scratch engine, and prints what the stores alone would cost at
 * that rate (an estimate: inside the machine a store measures somewhat less).
 * Usage: bench_stores [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

#include "host.h"
#include "host_boot.h"
#include "machine.h"
#include "uc_quirks.h"

#define MAX_SITES 256

struct site {
	char fn[96];
	unsigned count;
};

struct store_log {
	struct hs_machine *m;
	struct site sites[MAX_SITES];
	unsigned nr_sites, el2_stores, other_stores;
};

static void on_store(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		     void *ud)
{
	struct store_log *l = ud;
	(void)type;
	(void)addr;
	(void)size;
	(void)value;
	uint64_t pc = 0;
	uint32_t pstate = 0;
	uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
	uc_reg_read(uc, UC_ARM64_REG_PSTATE, &pstate);
	if (((pstate >> 2) & 3) != 2) {
		l->other_stores++;
		return;
	}
	l->el2_stores++;
	char name[96] = "?";
	if (hs_symbolize(l->m, pc, name, sizeof(name))) {
		char *plus = strchr(name, '+');
		if (plus)
			*plus = 0;
	}
	for (unsigned i = 0; i < l->nr_sites; i++)
		if (!strcmp(l->sites[i].fn, name)) {
			l->sites[i].count++;
			return;
		}
	if (l->nr_sites < MAX_SITES) {
		snprintf(l->sites[l->nr_sites].fn, sizeof(l->sites[0].fn), "%s", name);
		l->sites[l->nr_sites++].count = 1;
	}
}

static int by_count(const void *a, const void *b)
{
	const struct site *x = a, *y = b;
	return (int)y->count - (int)x->count;
}

static void print_log(const char *what, struct store_log *l)
{
	qsort(l->sites, l->nr_sites, sizeof(l->sites[0]), by_count);
	printf("%s: %u EL2 stores (+%u at EL1)\n", what, l->el2_stores, l->other_stores);
	for (unsigned i = 0; i < l->nr_sites; i++)
		printf("  %5u  %s\n", l->sites[i].count, l->sites[i].fn);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Time a run of N stores or loads at EL1 with the MMU off, on a scratch
 * engine (the machine's engines stay untouched). Returns ns per access.
 */
static double access_cost(bool store, bool fast)
{
	enum { N = 1 << 20, CODE = 0x1000, DATA = 0x9000 };
	uc_engine *uc;
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc))
		return -1;
	static uint8_t ram[0x100000] __attribute__((aligned(4096)));
	uc_mem_map_ptr(uc, 0, sizeof(ram), UC_PROT_ALL, ram);
	if (fast && !hs_quirk_fast_stores_attach(uc, hs_quirk_engine_cpu(uc), ram, 0, sizeof(ram),
						 NULL, NULL)) {
		uc_close(uc);
		return -1;
	}
	/* x1 = DATA; x2 = N; 1: str/ldr x0, [x1]; subs x2, x2, #1; b.ne 1b */
	uint32_t code[] = {
	    0xd2800001 | ((uint32_t)DATA << 5), /* movz x1, #DATA */
	    0xd2a00002 | ((N >> 16) << 5),	/* movz x2, #(N >> 16), lsl #16 */
	    store ? 0xf9000020 : 0xf9400020,	/* str/ldr x0, [x1] */
	    0xf1000442,				/* subs x2, x2, #1 */
	    0x54ffffc1,				/* b.ne -8 */
	};
	uc_mem_write(uc, CODE, code, sizeof(code));
	double t0 = now();
	uc_emu_start(uc, CODE, CODE + sizeof(code), 0, 0);
	double dt = now() - t0;
	hs_quirk_fast_stores_detach(uc);
	uc_close(uc);
	return dt / N * 1e9;
}

static int fail(const char *what, const struct hs_error *err)
{
	fprintf(stderr, "bench_stores: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = argc > 1 ? argv[1] : HS_DEFAULT_HYP_ELF;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err))
		return fail("boot", &err);
	static struct store_log nop_log, pair_log;
	nop_log.m = pair_log.m = m;
	uc_engine *uc = hs_cpu_engine(m, 0);
	uc_hook h;
	struct hs_host_op res;
	const uint64_t pfn = 0x50000000UL >> HS_PAGE_SHIFT;

	/* Warm up so that nothing below is a first-time path. */
	if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err))
		return fail("nop", &err);
	if (uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, (void *)on_store, &nop_log, 1, 0))
		return fail("hook", &(struct hs_error){.msg = "uc_hook_add failed"});
	hs_quirk_store_hooks(uc, true); /* stores must reach the hook, fast or not */
	if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err))
		return fail("nop", &err);
	uc_hook_del(uc, h);
	hs_quirk_store_hooks(uc, false);
	if (uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, (void *)on_store, &pair_log, 1, 0))
		return fail("hook", &(struct hs_error){.msg = "uc_hook_add failed"});
	hs_quirk_store_hooks(uc, true);
	if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err) || res.x1)
		return fail("host_share_hyp", &err);
	if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_unshare_hyp), &pfn, 1, &res, &stop, &err) ||
	    res.x1)
		return fail("host_unshare_hyp", &err);
	uc_hook_del(uc, h);
	hs_quirk_store_hooks(uc, false);
	print_log("null hypercall", &nop_log);
	print_log("host_share_hyp + host_unshare_hyp", &pair_log);

	double st = access_cost(true, false), fst = access_cost(true, true);
	double ld = access_cost(false, false);
	printf("one store to RAM: %.1f ns checked for translated code (Unicorn 2.0.1's "
	       "page-collection lock per store: %s), %.1f ns to a page without code (fast "
	       "stores); one load: %.1f ns\n",
	       st, hs_quirk_store_lock_skipped() ? "skipped" : "taken", fst, ld);
	printf("those stores alone if all were checked: null hypercall %.2f us (%.0f per second), "
	       "share+unshare pair %.2f us (%.0f pairs per second)\n",
	       nop_log.el2_stores * st / 1e3, 1e9 / (nop_log.el2_stores * st),
	       pair_log.el2_stores * st / 1e3, 1e9 / (pair_log.el2_stores * st));
	hs_machine_destroy(m);
	return 0;
}
