/* SPDX-License-Identifier: MIT */
/* Run control: boot, continue, stepi, hvc, host read/write, cpu. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bp_control.h"
#include "code_breakpoints.h"
#include "cli.h"
#include "profile.h"
#include "debug.h"
#include "host_call.h"
#include "pt_decode.h"
#include "step_inline.h"

void cli_cpu_summary(struct cli *c)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_puts(&sb, "[");
	for (unsigned i = 0; i < hs_nr_cpus(c->m); i++) {
		struct hs_cpu_state st;
		uint64_t sctlr = 0, vbar = 0, ttbr = 0, vttbr = 0, hcr = 0;
		hs_cpu_state(c->m, i, &st);
		hs_cpu_sysreg(c->m, i, HS_SR_SCTLR_EL2, &sctlr);
		hs_cpu_sysreg(c->m, i, HS_SR_VBAR_EL2, &vbar);
		hs_cpu_sysreg(c->m, i, HS_SR_TTBR0_EL2, &ttbr);
		hs_cpu_sysreg(c->m, i, HS_SR_VTTBR_EL2, &vttbr);
		hs_cpu_sysreg(c->m, i, HS_SR_HCR_EL2, &hcr);
		char sym[128];
		cli_symbolize(c, st.pc, sym, sizeof(sym));
		if (!*sym && st.el == 1)
			snprintf(sym, sizeof(sym), "host");
		if (c->json) {
			hs_sb_printf(&sb,
				     "%s{\"cpu\":%u,\"online\":%s,\"el\":%u,\"pc\":\"0x%" PRIx64
				     "\",\"symbol\":",
				     i ? "," : "", i, st.online ? "true" : "false", st.el, st.pc);
			hs_sb_json_str(&sb, sym);
			hs_sb_printf(&sb,
				     ",\"sctlr_el2_m\":%u,\"vbar_el2\":\"0x%" PRIx64
				     "\",\"ttbr0_el2\":\"0x%" PRIx64 "\",\"vttbr_el2\":\"0x%" PRIx64
				     "\",\"hcr_el2_vm\":%u,\"icount\":%" PRIu64 "}",
				     (unsigned)(sctlr & 1), vbar, ttbr, vttbr, (unsigned)(hcr & 1),
				     st.icount);
		} else {
			hs_sb_printf(&sb,
				     "%scpu%u%s%s EL%u pc=%#" PRIx64
				     "%s%s%s SCTLR_EL2.M=%u VBAR_EL2=%#" PRIx64
				     " TTBR0_EL2=%#" PRIx64 " VTTBR_EL2=%#" PRIx64
				     " HCR_EL2.VM=%u\n",
				     cli_col(c, COL_BOLD), i, cli_col(c, COL_RESET),
				     i == hs_current_cpu(c->m) ? "*" : " ", st.el, st.pc,
				     *sym ? " <" : "", sym, *sym ? ">" : "", (unsigned)(sctlr & 1),
				     vbar, ttbr, vttbr, (unsigned)(hcr & 1));
		}
	}
	if (c->json)
		hs_sb_puts(&sb, "]");
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
}

void cli_where(struct cli *c, uint64_t pc, char *buf, size_t len)
{
	char sym[128];
	cli_symbolize(c, pc, sym, sizeof(sym));
	const struct hs_image *img = hs_machine_image(c->m);
	uint64_t link;
	const struct hs_line *ln = NULL;
	if (hs_addr_to_link(c->m, pc, &link))
		ln = hs_image_line(img, link);
	const char *file = ln ? strrchr(ln->file, '/') : NULL;
	file = file ? file + 1 : ln ? ln->file : NULL;
	if (*sym && ln)
		snprintf(buf, len, "%#" PRIx64 " in %s at %s:%d", pc, sym, file, ln->line);
	else if (*sym)
		snprintf(buf, len, "%#" PRIx64 " in %s", pc, sym);
	else
		snprintf(buf, len, "%#" PRIx64, pc);
}

void cli_report_stop(struct cli *c, const struct hs_stop *s)
{
	char w[320];
	cli_where(c, s->pc, w, sizeof(w));
	if (c->json) {
		printf("{\"reason\":\"%s\",\"cpu\":%u,\"pc\":\"0x%" PRIx64
		       "\",\"breakpoint\":%d}\n",
		       hs_stop_reason_name(s->reason), s->cpu, s->pc,
		       (s->reason == HS_STOP_BREAKPOINT || s->reason == HS_STOP_WATCH) ? c->hit_id
										       : 0);
		return;
	}
	switch (s->reason) {
	case HS_STOP_BREAKPOINT:
		if (c->hit_silent)
			break;
		if (c->hit_id > 0 && c->hit_kind != CLI_BP_CODE) {
			printf("%s%sBreakpoint %d%s, %s\n", cli_col(c, COL_YELLOW),
			       c->hit_temp ? "Temporary " : "", c->hit_id, cli_col(c, COL_RESET),
			       c->hit_what);
		} else if (c->hit_id > 0) {
			printf("%s%sBreakpoint %d%s, cpu%u, %s\n", cli_col(c, COL_YELLOW),
			       c->hit_temp ? "Temporary " : "", c->hit_id, cli_col(c, COL_RESET),
			       s->cpu, w);
		} else {
			printf("%sstopped at a breakpoint%s, cpu%u, %s\n", cli_col(c, COL_YELLOW),
			       cli_col(c, COL_RESET), s->cpu, w);
		}
		cli_disas(c, SP_DEFAULT, s->pc, 1, true);
		break;
	case HS_STOP_WATCH:
		printf("%s%s %d%s: %s\n", cli_col(c, COL_YELLOW),
		       c->hit_access == HS_WATCH_READ	  ? "Read watchpoint"
		       : c->hit_access == HS_WATCH_ACCESS ? "Access watchpoint"
							  : "Watchpoint",
		       c->hit_id, cli_col(c, COL_RESET), c->hit_what);
		{
			struct hs_cpu_state st;
			hs_cpu_state(c->m, s->cpu, &st);
			const struct hs_watch_hit *hit = hs_watch_last_hit(c->m);
			const char *did = hit && hit->read ? "loaded" : "stored";
			if (st.el != 2) {
				printf("  %s on cpu%u by EL%u (the %s) at %#" PRIx64
				       "; next: %#" PRIx64 "\n",
				       did, s->cpu, st.el, st.el == 1 ? "host or a guest" : "CPU",
				       hit ? hit->pc : s->pc, s->pc);
				break;
			}
			if (hit && hit->pc) {
				char by[320];
				cli_where(c, hit->pc, by, sizeof(by));
				printf("  %s on cpu%u by %s\n", did, s->cpu, by);
			} else if (hit) {
				printf("  %s on cpu%u by an instruction of the block before "
				       "(its PC is not known)\n",
				       did, s->cpu);
			}
			printf("  the %s has retired; next: %s\n",
			       hit && hit->read ? "load" : "store", w);
			cli_disas(c, SP_DEFAULT, s->pc, 1, true);
			break;
		}
	case HS_STOP_STEP:
		cli_disas(c, SP_DEFAULT, s->pc, 1, true);
		break;
	case HS_STOP_DONE:
		printf("done (cpu%u, %" PRIu64 " instructions so far)\n", s->cpu,
		       hs_machine_icount(c->m));
		break;
	case HS_STOP_IDLE:
		printf("the machine is idle (no operation pending)\n");
		break;
	case HS_STOP_HYP_FAULT:
		printf("%sthe hypervisor faulted at EL2%s on cpu%u: %s ESR_EL2=%#" PRIx64
		       " FAR_EL2=%#" PRIx64 " at %s\n",
		       cli_col(c, COL_RED), cli_col(c, COL_RESET), s->cpu, s->fault.ec_name,
		       s->fault.esr, s->fault.far, w);
		char rep[2048];
		if (hs_machine_fault_report(c->m, &s->fault, rep, sizeof(rep)) > 0)
			printf("%s%s%s\n", cli_col(c, COL_RED), rep, cli_col(c, COL_RESET));
		printf(s->fault.host_panic ? "the host panicked: only inspection is possible now "
					     "(restart builds a fresh machine)\n"
					   : "only inspection is possible now\n");
		break;
	case HS_STOP_CHECK:
		printf("%sstopped by the TLB checker%s on cpu%u at the first barrier after the "
		       "violation; next: %s\n",
		       cli_col(c, COL_RED), cli_col(c, COL_RESET), s->cpu, w);
		cli_disas(c, SP_DEFAULT, s->pc, 1, true);
		break;
	case HS_STOP_INTERRUPTED:
		printf("%sInterrupted%s on cpu%u at %s (continue resumes)\n",
		       cli_col(c, COL_YELLOW), cli_col(c, COL_RESET), s->cpu, w);
		cli_disas(c, SP_DEFAULT, s->pc, 1, true);
		break;
	case HS_STOP_LIMIT:
		printf("%sinstruction limit reached%s on cpu%u at %s: is the hypervisor looping?\n",
		       cli_col(c, COL_RED), cli_col(c, COL_RESET), s->cpu, w);
		break;
	default:
		printf("stopped (%s) on cpu%u at %s\n", hs_stop_reason_name(s->reason), s->cpu, w);
		break;
	}
}

void cli_pte_text(const struct hs_pt_regime *r, int level, uint64_t desc, char *buf, size_t len)
{
	struct hs_pt_attrs a;
	hs_pt_decode(r, level, desc, 0, &a);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	switch (a.kind) {
	case HS_PT_K_INVALID:
		if (desc)
			hs_sb_printf(&sb, "invalid (%#" PRIx64 ")", desc);
		else
			hs_sb_puts(&sb, "invalid");
		break;
	case HS_PT_K_ANNOTATION:
		hs_sb_puts(&sb, "invalid, ");
		hs_pt_attrs_token(&sb, &a);
		break;
	case HS_PT_K_TABLE:
		hs_sb_printf(&sb, "table -> %#" PRIx64, a.oa);
		break;
	case HS_PT_K_BLOCK:
	case HS_PT_K_PAGE:
		hs_sb_printf(&sb, "%s %#" PRIx64 " ", a.kind == HS_PT_K_BLOCK ? "block" : "page",
			     a.oa);
		hs_pt_attrs_token(&sb, &a);
		if (r->stage == HS_PT_S2 || a.state)
			hs_sb_printf(&sb, " %s", hs_swenc_state_name(r->swenc, a.state));
		break;
	default:
		hs_sb_printf(&sb, "reserved encoding %#" PRIx64, desc);
		break;
	}
	snprintf(buf, len, "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
}

/* "PA 0x... (8 bytes) changed: old -> new" or the decoded page-table entry. */
static void watch_text(struct cli *c, const struct cli_bp *bp, char *buf, size_t len)
{
	const struct hs_watch_hit *hit = hs_watch_last_hit(c->m);
	if (!hit) {
		snprintf(buf, len, "%s changed", bp->spec);
		return;
	}
	char by[160];
	snprintf(by, sizeof(by), "%u-byte %s PA %#" PRIx64 " (via %#" PRIx64 ")", hit->size,
		 hit->read ? "load from" : "store to", hit->pa, hit->va);
	if (bp->pte.on) {
		/* The whole entry after the store, and before it (the stored bytes replaced). */
		const struct cli_watch_pte *p = &bp->pte;
		uint64_t now = 0, before;
		hs_phys_read(c->m, p->hit_pa, &now, 8, NULL);
		before = now;
		for (unsigned i = 0; i < hit->size; i++) {
			uint64_t off = hit->pa + i - p->hit_pa;
			if (off >= 8)
				continue;
			uint64_t byte = (hit->old_value >> (8 * i)) & 0xff;
			before = (before & ~(0xffULL << (8 * off))) | (byte << (8 * off));
		}
		char o[160], n[160], follow[160] = "";
		cli_pte_text(&p->regime, p->hit_level, before, o, sizeof(o));
		cli_pte_text(&p->regime, p->hit_level, now, n, sizeof(n));
		if (!bp->enabled)
			snprintf(
			    follow, sizeof(follow),
			    "\n  the walk cannot be watched any more: the watchpoint is disabled");
		else if (p->hit_pa != bp->pa || p->hit_level != p->level)
			snprintf(follow, sizeof(follow),
				 "\n  the walk now ends at level %d, entry at PA %#" PRIx64
				 ": watching it",
				 p->level, bp->pa);
		if (hit->read || before == now) {
			snprintf(buf, len,
				 "%s entry for %#" PRIx64 " at PA %#" PRIx64 " %s: %s\n"
				 "  level %d, %#" PRIx64 " (%s)%s",
				 p->table, p->addr, p->hit_pa,
				 hit->read ? "read" : "written, unchanged", n, p->hit_level, now,
				 by, follow);
			return;
		}
		snprintf(buf, len,
			 "%s entry for %#" PRIx64 " at PA %#" PRIx64 " changed: %s -> %s\n"
			 "  level %d, %#" PRIx64 " -> %#" PRIx64 " (%s)%s",
			 p->table, p->addr, p->hit_pa, o, n, p->hit_level, before, now, by, follow);
		return;
	}
	if (hit->read || hit->old_value == hit->new_value) {
		snprintf(buf, len,
			 "PA %#" PRIx64 " (%" PRIu64 " byte%s) %s: value %#" PRIx64 " (%s)", bp->pa,
			 bp->len, bp->len == 1 ? "" : "s",
			 hit->read ? "read" : "written, unchanged", hit->new_value, by);
		return;
	}
	snprintf(buf, len,
		 "PA %#" PRIx64 " (%" PRIu64 " byte%s) changed: %#" PRIx64 " -> %#" PRIx64 " (%s)",
		 bp->pa, bp->len, bp->len == 1 ? "" : "s", hit->old_value, hit->new_value, by);
}

static void vector_text(struct cli *c, const struct hs_stop *s, const struct cli_bp *bp, char *buf,
			size_t len)
{
	uint64_t esr = 0, far = 0;
	hs_cpu_sysreg(c->m, s->cpu, HS_SR_ESR_EL2, &esr);
	hs_cpu_sysreg(c->m, s->cpu, HS_SR_FAR_EL2, &far);
	unsigned ec = (unsigned)(esr >> 26) & 0x3f;
	if (bp->kind == CLI_BP_HVC) {
		const char *name = hs_machine_hypercall_name(c->m, bp->value);
		snprintf(buf, len, "hypercall %s at the EL2 vector %#" PRIx64 " (cpu%u)",
			 name ? name : "?", s->pc, s->cpu);
	} else {
		snprintf(buf, len,
			 "exception %s (EC %#x) at the EL2 vector %#" PRIx64
			 " (cpu%u): ESR_EL2=%#" PRIx64 " FAR_EL2=%#" PRIx64,
			 hs_ec_name(ec), ec, s->pc, s->cpu, esr, far);
	}
}

/* Is code breakpoint b armed at pc (through any alias the machine gave it)? */
static bool code_bp_at(struct cli *c, const struct cli_bp *b, uint64_t pc)
{
	struct hs_break_info bi;
	if (hs_break_info(c->m, b->break_id, &bi))
		return false;
	for (unsigned k = 0; k < bi.naddrs && k < 2; k++)
		if (bi.addrs[k] == pc)
			return true;
	return false;
}

struct cli_bp *cli_bps_judge(struct cli *c, const struct hs_stop *s, struct cli_bp *bp)
{
	if (bp->kind != CLI_BP_CODE)
		return cli_bpx_should_stop(c, bp->id) ? bp : NULL;
	struct cli_bp *first = NULL;
	for (size_t i = 0; i < c->bps.n; i++) {
		struct cli_bp *b = &c->bps.v[i];
		if (b->id <= 0 || b->kind != CLI_BP_CODE || !b->enabled ||
		    !code_bp_at(c, b, s->pc) || !cli_bpx_should_stop(c, b->id))
			continue;
		if (first)
			b->hits++; /* the one reported counts its hit below */
		else
			first = b;
	}
	if (first)
		c->bps.hit_id = first->id;
	return first;
}

int cli_after_run(struct cli *c, struct hs_stop *s)
{
	c->hit_id = 0;
	c->hit_temp = false;
	c->hit_silent = false;
	c->hit_what[0] = '\0';
	c->have_user_stop = false;
	struct cli_bp *bp = cli_bps_classify(&c->bps, s);
	int judged = c->judged_id;
	c->judged_id = 0;
	if (bp && judged) {
		/* The run's command judged the stop already (stepi): that breakpoint is the hit. */
		bp = cli_bp_find(&c->bps, judged);
		c->bps.hit_id = judged;
	} else if (bp && bp->id > 0 && s->stepped) {
		/* A step landed on it: one its condition or ignore count passes is just a step. */
		bp = cli_bps_judge(c, s, bp);
		if (!bp) {
			s->reason = HS_STOP_STEP;
			s->bp_id = 0;
			s->stepped = false;
			c->bps.hit_id = 0;
			cli_stop_as_step(c);
		}
	} else {
		/* Conditions and ignore counts (bp_control.c): resume the stops they pass. */
		struct cli_bp *hit;
		while (bp && bp->id > 0 && !c->run_single && !(hit = cli_bps_judge(c, s, bp))) {
			struct hs_error err = {0};
			cli_before_run(c);
			if (hs_continue(c->m, s, &err)) {
				cli_error(c, "resuming after breakpoint %d: %s", bp->id, err.msg);
				return 1;
			}
			bp = cli_bps_classify(&c->bps, s);
		}
		if (bp && bp->id > 0 && !c->run_single)
			bp = hit;
	}
	if (bp) {
		bp->hits++;
		c->hit_id = bp->id;
		c->hit_temp = bp->temp;
		c->hit_silent = bp->silent;
		c->hit_kind = bp->kind;
		c->hit_access = bp->kind == CLI_BP_WATCH ? bp->access : HS_WATCH_WRITE;
		if (bp->kind == CLI_BP_WATCH)
			watch_text(c, bp, c->hit_what, sizeof(c->hit_what));
		else if (bp->kind != CLI_BP_CODE)
			vector_text(c, s, bp, c->hit_what, sizeof(c->hit_what));
		if (bp->temp && bp->id > 0)
			cli_bp_delete(&c->bps, bp->id);
	}
	c->line_hyp_fault = s->reason == HS_STOP_HYP_FAULT;
	return s->reason == HS_STOP_HYP_FAULT || s->reason == HS_STOP_LIMIT ||
	       s->reason == HS_STOP_ERROR;
}

void cli_before_run(struct cli *c)
{
	/* The machine steps over a breakpoint at the PC it resumes at. */
	c->bps.hit_id = 0;
	step_inline_forget(c);
}

int cli_continue_live(struct cli *c, struct hs_stop *s, struct hs_error *err)
{
	cli_before_run(c);
	bool live = c->live;
	c->live = true;
	int rc = hs_continue(c->m, s, err);
	c->live = live;
	return rc;
}

int cmd_boot(struct cli *c, int argc, char **argv)
{
	const char *until = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--until") && i + 1 < argc)
			until = argv[++i];
		else if (!strcmp(argv[i], "--until"))
			return cli_error(c,
					 "boot: --until needs a step name (reserve, boot-tables, "
					 "hyp-init, pkvm-init, finalize, free)");
		else
			return cli_error(
			    c, "boot: unexpected argument '%s'; usage: boot [--until STEP]",
			    argv[i]);
	}
	struct hs_stop s = {0};
	struct hs_error err = {0};
	cli_before_run(c);
	bool live = c->live;
	c->live = !c->json;
	int rc = hs_profile_of(c->m)->boot(c->m, until, &s, &err);
	c->live = live;
	if (rc)
		return cli_error(c, "boot: %s", err.msg);
	int bad = cli_after_run(c, &s);
	int next = hs_boot_next_step(c->m);
	if ((s.reason == HS_STOP_DONE || s.reason == HS_STOP_IDLE) && next != HS_BOOT_DONE) {
		if (!c->json)
			printf("%sboot stopped before step %s%s (`boot` or `continue` resumes)\n",
			       cli_col(c, COL_YELLOW), hs_profile_of(c->m)->boot_step_name(next),
			       cli_col(c, COL_RESET));
		cli_cpu_summary(c);
	} else if ((s.reason == HS_STOP_DONE || s.reason == HS_STOP_IDLE) && !c->quiet) {
		if (!c->json)
			printf("%sboot complete%s: %zu console lines, %" PRIu64 " instructions\n",
			       cli_col(c, COL_GREEN), cli_col(c, COL_RESET), c->nconsole,
			       hs_machine_icount(c->m));
		cli_cpu_summary(c);
	} else if (s.reason != HS_STOP_DONE && s.reason != HS_STOP_IDLE) {
		cli_report_stop(c, &s);
	}
	return bad ? -1 : 0;
}

int cmd_continue(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int next = hs_boot_next_step(c->m);
	if (!hs_op_pending(c->m) && next != HS_BOOT_DONE && next != HS_BOOT_FIRMWARE) {
		/* Stopped between boot steps (boot --until): resume the boot flow. */
		char name[] = "boot";
		char *bargv[] = {name, NULL};
		return cmd_boot(c, 1, bargv);
	}
	if (!hs_op_pending(c->m))
		return cli_error(c, "continue: the machine is idle: nothing to continue (start "
				    "something with boot, hvc or host)");
	struct hs_stop s = {0};
	struct hs_error err = {0};
	if (cli_continue_live(c, &s, &err))
		return cli_error(c, "continue: %s", err.msg);
	int bad = cli_after_run(c, &s);
	cli_report_stop(c, &s);
	if (next != HS_BOOT_DONE && hs_machine_booted(c->m) && !c->json) {
		printf("%sboot complete%s: %zu console lines\n", cli_col(c, COL_GREEN),
		       cli_col(c, COL_RESET), c->nconsole);
		cli_cpu_summary(c);
	}
	if (!hs_op_pending(c->m) && c->have_hvc && c->ntrace && c->trace[c->ntrace - 1].done &&
	    s.reason == HS_STOP_DONE && !c->json)
		printf("last hypercall: %s x0=%" PRId64 " x1=%" PRId64 "\n",
		       c->trace[c->ntrace - 1].name, c->last_x0, c->last_x1);
	return bad ? -1 : 0;
}

int cmd_stepi(struct cli *c, int argc, char **argv)
{
	uint64_t n = 1;
	if (argc > 1) {
		int64_t v;
		if (!cli_parse_num(argv[1], &v) || v <= 0)
			return cli_error(c, "stepi: '%s' is not a positive count", argv[1]);
		n = (uint64_t)v;
	}
	int next_step = hs_boot_next_step(c->m);
	if (!hs_op_pending(c->m) && next_step != HS_BOOT_DONE && next_step != HS_BOOT_FIRMWARE) {
		/* Paused between boot steps (boot --until): into the next one's first instructions.
		 */
		char name[] = "boot";
		char *bargv[] = {name, NULL};
		hs_machine_step_next_run(c->m, n);
		c->run_single = true;
		int rc = cmd_boot(c, 1, bargv);
		c->run_single = false;
		hs_machine_step_next_run(c->m, 0);
		return rc;
	}
	if (!hs_op_pending(c->m))
		return cli_error(c, "stepi: the machine is idle: nothing to step (start something "
				    "with hvc, host or vm run, or stop at a breakpoint)");
	struct hs_stop s = {0};
	struct hs_error err = {0};
	uint64_t end = hs_machine_icount(c->m) + n;
	bool live = c->live;
	c->live = true;
	int rc;
	for (;;) {
		cli_before_run(c);
		rc = hs_stepi(c->m, n, &s, &err);
		if (rc || s.reason != HS_STOP_BREAKPOINT || s.stepped)
			break;
		/* On the way: a breakpoint its condition or ignore count passes does not end it. */
		struct cli_bp *bp = cli_bps_classify(&c->bps, &s);
		uint64_t now = hs_machine_icount(c->m);
		struct cli_bp *hit = bp && bp->id > 0 ? cli_bps_judge(c, &s, bp) : NULL;
		if (hit)
			c->judged_id = hit->id;
		if (!bp || bp->id <= 0 || now >= end || hit)
			break;
		n = end - now;
	}
	c->live = live;
	if (rc)
		return cli_error(c, "stepi: %s", err.msg);
	c->run_single = true;
	int bad = cli_after_run(c, &s);
	c->run_single = false;
	step_inline_no_skip(c);
	if (!c->quiet_steps || s.reason != HS_STOP_STEP)
		cli_report_stop(c, &s);
	return bad ? -1 : 0;
}

static void print_ret(struct cli *c, const char *label, int64_t v)
{
	/* x0 -1 is SMCCC NOT_SUPPORTED; x1 -1 is the handler's -EPERM. */
	const char *e = (v < -1 || (v == -1 && strcmp(label, "x0"))) ? cli_errno_name(v) : NULL;
	printf("%s=%" PRId64, label, v);
	if (e)
		printf(" (-%s)", e);
	else if (v == -1 && !strcmp(label, "x0"))
		printf(" (NOT_SUPPORTED)");
	else if (v > 9)
		printf(" (%#" PRIx64 ")", (uint64_t)v);
	(void)c;
}

int cmd_hvc(struct cli *c, int argc, char **argv)
{
	struct hs_host_call call = {.call = argv[1], .nargs = (unsigned)(argc - 2)};
	for (int i = 0; i < argc - 2 && i < HS_HOST_CALL_MAX_ARGS; i++) {
		enum cli_space sp = SP_PA;
		if (cli_eval(c, argv[2 + i], &sp, &call.args[i]))
			return -1; /* the message names the argument's column */
	}
	struct hs_host_call_result res;
	struct hs_stop s = {0};
	struct hs_error err = {0};
	c->have_hvc = false;
	cli_before_run(c);
	bool live = c->live;
	c->live = true;
	int rc = hs_host_call(c->m, hs_current_cpu(c->m), &call, &res, &s, &err);
	c->live = live;
	if (rc == -ENOENT)
		return cli_error(c,
				 "hvc: unknown hypercall '%s' (tab completes the names; "
				 "a function id works too)",
				 argv[1]);
	if (rc == -E2BIG)
		return cli_error(c, "hvc: %s", err.msg);
	if (rc)
		return cli_error(c, "hvc %s: %s", argv[1], err.msg);
	int bad = cli_after_run(c, &s);
	if (s.reason != HS_STOP_DONE) {
		cli_report_stop(c, &s);
		return bad ? -1 : 0;
	}
	uint64_t insns = c->ntrace ? c->trace[c->ntrace - 1].insns : 0;
	if (c->json) {
		printf("{\"hvc\":\"%s\",\"fn\":\"0x%" PRIx64 "\",\"x0\":\"0x%" PRIx64
		       "\",\"x1\":\"0x%" PRIx64 "\",\"insns\":%" PRIu64 "}\n",
		       res.name ? res.name : "unknown", res.fn, (uint64_t)res.op.x0,
		       (uint64_t)res.op.x1, insns);
		return 0;
	}
	printf("%s%s%s: ", cli_col(c, COL_BOLD), res.name ? res.name : argv[1],
	       cli_col(c, COL_RESET));
	print_ret(c, "x0", res.op.x0);
	printf(" ");
	print_ret(c, "x1", res.op.x1);
	printf(" [%" PRIu64 " insns]\n", insns);
	return 0;
}

int cmd_host(struct cli *c, int argc, char **argv)
{
	bool write;
	if (!strcmp(argv[1], "read"))
		write = false;
	else if (!strcmp(argv[1], "write"))
		write = true;
	else
		return cli_error(c, "host: '%s': give read or write", argv[1]);
	unsigned size = 8;
	const char *pos[3];
	int npos = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--size")) {
			int64_t v;
			if (i + 1 >= argc || !cli_parse_num(argv[i + 1], &v) ||
			    (v != 1 && v != 2 && v != 4 && v != 8))
				return cli_error(c, "host: --size %s: give 1, 2, 4 or 8",
						 i + 1 < argc ? argv[i + 1] : "(missing)");
			size = (unsigned)v;
			i++;
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			return cli_error(c, "host: unexpected argument '%s'", argv[i]);
		}
	}
	if (npos != (write ? 2 : 1))
		return cli_error(c,
				 "host %s: usage: host read PA [--size N] | host write PA VALUE "
				 "[--size N]",
				 argv[1]);
	uint64_t pa, value = 0;
	enum cli_space sp = SP_PA;
	if (cli_eval(c, pos[0], &sp, &pa))
		return -1;
	if (write && cli_eval(c, pos[1], NULL, &value))
		return -1;
	struct hs_host_op res;
	struct hs_stop s = {0};
	struct hs_error err = {0};
	cli_before_run(c);
	c->have_access = false;
	int rc = hs_host_access(c->m, hs_current_cpu(c->m), write, pa, size, value, &res, &s, &err);
	if (rc)
		return cli_error(c, "host %s %#" PRIx64 ": %s", argv[1], pa, err.msg);
	int bad = cli_after_run(c, &s);
	if (s.reason != HS_STOP_DONE) {
		cli_report_stop(c, &s);
		return bad ? -1 : 0;
	}
	if (c->json) {
		printf("{\"op\":\"%s\",\"pa\":\"0x%" PRIx64
		       "\",\"size\":%u,\"refused\":%s,\"value\":\"0x%" PRIx64
		       "\",\"esr_el1\":\"0x%" PRIx64 "\"}\n",
		       argv[1], pa, size, res.refused ? "true" : "false", res.value, res.esr_el1);
		return 0;
	}
	if (res.refused)
		printf("%shost %s %#" PRIx64
		       ": refused%s (the host took an abort, ESR_EL1=%#" PRIx64 " %s)\n",
		       cli_col(c, COL_RED), argv[1], pa, cli_col(c, COL_RESET), res.esr_el1,
		       hs_ec_name((unsigned)(res.esr_el1 >> 26) & 0x3f));
	else if (write)
		printf("host write %#" PRIx64 " <- %#" PRIx64 " (%u bytes): ok\n", pa, value, size);
	else
		printf("host read %#" PRIx64 " (%u bytes): %#" PRIx64 "\n", pa, size, res.value);
	return 0;
}

int cmd_cpu(struct cli *c, int argc, char **argv)
{
	if (argc == 1) {
		printf("current CPU: %u of %u\n", hs_current_cpu(c->m), hs_nr_cpus(c->m));
		return 0;
	}
	int64_t v;
	if (!cli_parse_num(argv[1], &v) || v < 0)
		return cli_error(c, "cpu: '%s' is not a CPU number", argv[1]);
	if (hs_op_pending(c->m))
		printf("note: an operation is pending on cpu%u; continue/stepi will switch back\n",
		       hs_current_cpu(c->m));
	struct hs_error err = {0};
	if (hs_select_cpu(c->m, (unsigned)v, &err))
		return cli_error(c, "cpu: %s", err.msg);
	printf("current CPU: %u\n", (unsigned)v);
	return 0;
}
