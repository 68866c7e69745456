/* SPDX-License-Identifier: MIT */
/*
 * The live TLB checker in the debugger: `set check-tlb on` stops the machine
 * at a violation (like a watchpoint), `set check-tlb log` only records, `check
 * tlb` prints what was found and what is still pending, `trace` lists each
 * hypercall's violations under it. Scenario runs fail on a violation, like
 * check-after-hvc.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inspect_trace.h"
#include "tlb_check.h"
#include "viz.h"

void cli_tlb_attach(struct cli *c)
{
	c->tlb_shown = 0;
	if (!c->m || c->check_tlb == CLI_TLB_OFF || c->tlb)
		return;
	struct hs_error err = {0};
	if (hs_tlb_check_new(c->m, &c->tlb, &err)) {
		cli_error(c, "check-tlb: %s", err.msg);
		c->tlb = NULL;
		return;
	}
	hs_tlb_check_set_stop(c->tlb, c->check_tlb == CLI_TLB_ON);
}

void cli_tlb_detach(struct cli *c)
{
	hs_tlb_check_free(c->tlb);
	c->tlb = NULL;
	c->tlb_shown = 0;
}

int cli_tlb_set(struct cli *c, const char *value)
{
	int mode;
	if (!strcmp(value, "on") || !strcmp(value, "1") || !strcmp(value, "true"))
		mode = CLI_TLB_ON;
	else if (!strcmp(value, "log"))
		mode = CLI_TLB_LOG;
	else if (!strcmp(value, "off") || !strcmp(value, "0") || !strcmp(value, "false"))
		mode = CLI_TLB_OFF;
	else
		return cli_error(c, "set check-tlb: '%s': give on, log or off", value);
	c->check_tlb = mode;
	if (mode == CLI_TLB_OFF)
		cli_tlb_detach(c);
	else if (c->tlb)
		hs_tlb_check_set_stop(c->tlb, mode == CLI_TLB_ON);
	else
		cli_tlb_attach(c);
	if (mode != CLI_TLB_OFF && !c->tlb)
		return -1;
	if (!c->json)
		printf(
		    "check-tlb is %s%s\n", value,
		    mode == CLI_TLB_OFF ? ""
		    : c->m && hs_machine_icount(c->m)
			? " (judging what happens from now on; the tables as they are now are its "
			  "starting point)"
			: "");
	return 0;
}

static void print_new(struct cli *c)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	size_t n = hs_tlb_check_count(c->tlb);
	for (size_t i = c->tlb_shown; i < n; i++)
		hs_tlb_check_entry_text(&sb, hs_tlb_check_get(c->tlb, i));
	fputs(cli_col(c, COL_RED), stdout);
	cli_print_sb(c, &sb);
	fputs(cli_col(c, COL_RESET), stdout);
	hs_sb_free(&sb);
}

int cli_tlb_after(struct cli *c)
{
	if (!c->tlb)
		return 0;
	size_t n = hs_tlb_check_count(c->tlb);
	if (n <= c->tlb_shown)
		return 0;
	size_t fresh = n - c->tlb_shown;
	if (!c->json)
		print_new(c);
	c->tlb_shown = n;
	return cli_error(c, "check-tlb: %zu TLB maintenance violation%s", fresh,
			 fresh == 1 ? "" : "s");
}

int cmd_check_tlb(struct cli *c)
{
	if (!c->tlb)
		return cli_error(c,
				 "check tlb: the TLB checker is off; `set check-tlb on` (or log, "
				 "or --check-tlb) starts it, and it judges what runs from then on");
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_tlb_check_json(&sb, c->tlb, 0);
	else
		hs_tlb_check_text(&sb, c->tlb, 0);
	cli_print_sb(c, &sb);
	if (c->json)
		putchar('\n');
	hs_sb_free(&sb);
	size_t n = hs_tlb_check_count(c->tlb);
	c->tlb_shown = n;
	if (n)
		return cli_error(c, "check tlb: %zu violation%s", n, n == 1 ? "" : "s");
	return 0;
}

void cli_tlb_trace(struct cli *c, const struct hs_trace_entry *e, struct hs_strbuf *sb)
{
	if (!c->tlb)
		return;
	uint64_t end = e->completed ? e->icount_enter + e->insns : UINT64_MAX;
	for (size_t i = 0; i < hs_tlb_check_count(c->tlb); i++) {
		const struct hs_tlb_check_entry *t = hs_tlb_check_get(c->tlb, i);
		if (t->v.cpu != e->cpu || t->v.icount < e->icount_enter || t->v.icount > end)
			continue;
		hs_sb_printf(sb, "       %stlb: %s at %s: %s%s\n", cli_col(c, COL_RED),
			     hs_tlb_rule_name(t->v.rule), t->where, t->v.detail,
			     cli_col(c, COL_RESET));
	}
}

void cli_tlb_viz_opts(struct cli *c, struct hs_viz_opts *o)
{
	o->blame = c->blame; /* the tree shows each entry's last writer too */
	o->nr_tlb_pending = 0;
	if (!c->tlb)
		return;
	struct hs_tlb_pending_info p[HS_VIZ_MAX_TLB_PENDING];
	size_t n = hs_tlb_model_pending(hs_tlb_check_model(c->tlb), p, HS_VIZ_MAX_TLB_PENDING);
	for (size_t i = 0; i < n && i < HS_VIZ_MAX_TLB_PENDING; i++)
		o->tlb_pending[o->nr_tlb_pending++] = p[i].desc_pa;
}
