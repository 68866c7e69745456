/* SPDX-License-Identifier: MIT */
/*
 * A program driving the hypscope machine through libhypscope: boot the
 * bundled hypervisor, share one host page with it (a real `hvc` from EL1),
 * then walk the host stage 2 over that page with the architectural walker
 * and ask the inspection engine who owns it.
 *
 *   cc boot_share_walk.c $(pkg-config --cflags --libs hypscope) -o boot_share_walk
 *   ./boot_share_walk $(pkg-config --variable=hyp_elf hypscope)
 *
 * Exits 0 when the page ends up shared (SHARED_OWNED in the host's stage 2).
 */
#include <hypscope/hypscope.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Events arrive synchronously while the machine runs: count hypercalls, echo the console. */
struct counts {
	unsigned hvc, console;
};

static void on_event(const struct hs_event *ev, void *ud)
{
	struct counts *n = ud;
	if (ev->type == HS_EV_HVC_ENTER)
		n->hvc++;
	if (ev->type == HS_EV_CONSOLE && n->console++ < 3)
		printf("  [hyp cpu%u] %s\n", ev->cpu, ev->console);
}

/* The walker's visitor: one line per entry on the way to the page. */
static int print_entry(const struct hs_pt_visit_ctx *v)
{
	printf("  level %d  %-10s ipa 0x%010" PRIx64 " +0x%-9" PRIx64 " desc 0x%016" PRIx64 "\n",
	       v->level, hs_pt_kind_name(v->kind), v->addr, v->size, v->desc);
	return 0;
}

static int read_ram(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

static int fail(const char *what, const struct hs_error *err)
{
	fprintf(stderr, "boot_share_walk: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	printf("libhypscope %s (compiled against %s)\n", hs_version(), HYPSCOPE_VERSION);
	struct hs_machine_opts opts;
	hs_machine_opts_default(&opts);
	opts.hyp_elf = argc > 1 ? argv[1] : getenv("HYPSCOPE_HYP");
	if (!opts.hyp_elf) {
		fprintf(stderr, "usage: %s HYP.ELF  (pkg-config --variable=hyp_elf hypscope)\n",
			argv[0]);
		return 2;
	}
	struct hs_error err = {0};
	struct hs_machine *m;
	if (hs_machine_create(&opts, &m, &err))
		return fail("create", &err);
	struct counts n = {0};
	hs_machine_subscribe(m, on_event, &n);

	/* 1. The protected-mode boot, as Linux does it. */
	struct hs_stop stop;
	if (hs_boot(m, NULL, &stop, &err) || stop.reason != HS_STOP_DONE)
		return fail("boot", &err);
	printf("booted: %u hypercalls, %" PRIu64 " instructions\n", n.hvc, hs_machine_icount(m));

	/* 2. The host shares one page of its RAM with the hypervisor. */
	uint64_t pa = opts.ram_base + 0x08000000, pfn = pa >> 12;
	struct hs_host_op res;
	if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err))
		return fail("hvc host_share_hyp", &err);
	printf("host_share_hyp(0x%" PRIx64 ") = %" PRId64 "\n", pfn, res.x1);
	if (res.x1)
		return 1;

	/* 3. Walk the host stage 2 over that page (the hypervisor's VTCR/VTTBR for the host). */
	uint64_t vtcr, vttbr;
	hs_host_s2_regs(m, 0, &vtcr, &vttbr);
	struct hs_pt_regime s2;
	char msg[128];
	/* The machine's regime knows its hypervisor's software bits (page states, owners). */
	if (hs_machine_regime_s2(m, vtcr, vttbr, &s2, msg, sizeof(msg))) {
		fprintf(stderr, "boot_share_walk: host stage 2: %s\n", msg);
		return 1;
	}
	struct hs_phys phys = {.read = read_ram, .ud = m};
	struct hs_pt_visitor visitor = {.cb = print_entry,
					.flags = HS_PT_VISIT_LEAF | HS_PT_VISIT_TABLE_PRE |
						 HS_PT_VISIT_INVALID};
	printf("host stage 2 root 0x%" PRIx64 ", walk of [0x%" PRIx64 ", +0x1000):\n", s2.root_pa,
	       pa);
	if (hs_pt_walk(&phys, &s2, pa, pa + 0x1000, &visitor))
		return 1;

	/* 4. Who owns it now, from the inspection engine. */
	struct hs_strbuf sb = {0};
	if (hs_owner_describe(m, pa, 0x1000, false, &sb, &err))
		return fail("owner", &err);
	printf("%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	struct hs_owner_ctx ctx;
	if (hs_owner_ctx_build(m, &ctx, &err))
		return fail("owner context", &err);
	struct hs_owner_page page;
	hs_owner_lookup(&ctx, pa, &page);
	hs_owner_ctx_free(&ctx);
	bool shared = page.s2_present && page.s2.state == HS_PAGE_SHARED_OWNED;
	printf("walk done: host stage 2 state %s; stores on the fast path: %s\n",
	       page.s2_present ? hs_swenc_state_name(s2.swenc, page.s2.state) : "none",
	       hs_fast_stores() ? "yes" : "no");
	hs_machine_destroy(m);
	return shared ? 0 : 1;
}
