/* SPDX-License-Identifier: MIT */
/*
 * Source-level run control (step, next, finish, until) on the DWARF line
 * table and inlined functions, as gdb steps (step_judge.c, step_inline.c),
 * and watchpoints (watch PA [LEN], watch pte TABLE ADDR).
 *
 * Everything is built on hs_stepi (one instruction at a time) and, to run
 * over a call, an internal breakpoint at the return address plus
 * hs_continue. Addresses the CPU runs at (PA with the MMU off or in the
 * idmap, HYP VA otherwise) are converted to link addresses for the line
 * table. A command stops at a user breakpoint or watchpoint on the way,
 * when the operation completes, or after CLI_STEP_LIMIT single-stepped
 * instructions (and says so).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image_returns.h"
#include "debug.h"
#include "pt_decode.h"
#include "step_inline.h"
#include "step_judge.h"
#include "step_lines.h"

#define CLI_STEP_LIMIT 1000000ULL

static uint64_t cur_pc(struct cli *c, uint64_t *sp)
{
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	if (sp)
		*sp = st.sp;
	return st.pc;
}

enum run_res {
	RUN_OK,	  /* the step (or the call) completed: keep going */
	RUN_STOP, /* something else stopped the machine: report it and end the command */
	RUN_ERR,  /* the emulator failed (message printed) */
};

/* After a run: a user breakpoint/watchpoint or any other stop ends the command. */
static enum run_res judge(struct cli *c, struct hs_stop *s, const int *ids, unsigned n,
			  bool *hit_internal)
{
	cli_after_run(c, s);
	if (hit_internal)
		*hit_internal = false;
	if (s->reason == HS_STOP_STEP)
		return RUN_OK;
	if (s->reason == HS_STOP_BREAKPOINT && c->hit_id < 0) {
		for (unsigned i = 0; i < n; i++)
			if (hit_internal && c->hit_id == ids[i])
				*hit_internal = true;
		return RUN_OK;
	}
	return RUN_STOP;
}

static enum run_res step1(struct cli *c, struct hs_stop *s, const char *cmd)
{
	struct hs_error err = {0};
	cli_before_run(c);
	if (hs_stepi(c->m, 1, s, &err)) {
		cli_error(c, "%s: %s", cmd, err.msg);
		return RUN_ERR;
	}
	return judge(c, s, NULL, 0, NULL);
}

/*
 * Run to one of addrs: an internal breakpoint there and hs_continue. With
 * check_sp, addrs[0] is the return address of a call made with SP sp, and
 * the run ends when that frame is back there (step_call_returned).
 */
static enum run_res run_to(struct cli *c, const uint64_t *addrs, unsigned n, uint64_t sp,
			   bool check_sp, struct hs_stop *s, const char *cmd)
{
	int ids[CLI_BP_MAX_ADDRS] = {0};
	char msg[256];
	for (unsigned i = 0; i < n; i++) {
		if (cli_bp_add_internal(&c->bps, addrs[i], &ids[i], msg, sizeof(msg))) {
			cli_bps_drop_internal(&c->bps);
			cli_error(c, "%s: %s", cmd, msg);
			return RUN_ERR;
		}
	}
	enum run_res r;
	for (;;) {
		struct hs_error err = {0};
		cli_before_run(c);
		bool live = c->live;
		c->live = true;
		int rc = hs_continue(c->m, s, &err);
		c->live = live;
		if (rc) {
			cli_error(c, "%s: %s", cmd, err.msg);
			r = RUN_ERR;
			break;
		}
		bool hit = false;
		r = judge(c, s, ids, n, &hit);
		if (r != RUN_OK || !hit)
			break;
		uint64_t now_sp;
		uint64_t now_pc = cur_pc(c, &now_sp);
		if (!check_sp || step_call_returned(addrs[0] - 4, sp, now_pc, now_sp))
			break;
		/* A deeper (recursive) frame reached the address: keep going. */
	}
	cli_bps_drop_internal(&c->bps);
	return r;
}

/* Where a stop is, frame 0 as gdb presents it (inlined calls beginning here skipped). */
static void show_location(struct cli *c, bool with_frame)
{
	step_inline_show(c, with_frame);
}

static void end_with_step(struct cli *c)
{
	cli_stop_as_step(c);
}

static int parse_count(struct cli *c, const char *cmd, int argc, char **argv, uint64_t *n)
{
	*n = 1;
	if (argc > 1) {
		int64_t v;
		if (!cli_parse_num(argv[1], &v) || v <= 0)
			return cli_error(c, "%s: '%s' is not a positive count", cmd, argv[1]);
		*n = (uint64_t)v;
	}
	return 0;
}

/*
 * One source line from step info si: step (or run over calls, when over)
 * until step_judge stops. Returns 0 (stopped at a line), 1 (stopped for
 * another reason: reported), -1 (error or runaway).
 */
static int line_step_from(struct cli *c, struct step_info *si, bool over, const char *cmd)
{
	struct step_loc start;
	step_locate(c, cur_pc(c, NULL), &start);
	uint64_t stepped = 0;
	for (;;) {
		if (stepped >= CLI_STEP_LIMIT) {
			char w[320];
			cli_where(c, cur_pc(c, NULL), w, sizeof(w));
			cli_error(c,
				  "%s: gave up after %llu instructions without reaching a new "
				  "source line (now at %s); use stepi or continue",
				  cmd, CLI_STEP_LIMIT, w);
			return -1;
		}
		struct hs_stop s = {0};
		enum run_res r;
		uint32_t insn = 0;
		uint64_t sp;
		uint64_t pc = cur_pc(c, &sp);
		if (over && step_insn_at(c, pc, &insn) && step_is_call(insn)) {
			uint64_t ret = pc + 4;
			r = run_to(c, &ret, 1, sp, true, &s, cmd);
		} else {
			r = step1(c, &s, cmd);
		}
		stepped++;
		if (r == RUN_ERR)
			return -1;
		if (r == RUN_STOP) {
			cli_report_stop(c, &s);
			return 1;
		}
		enum step_verdict v = step_judge(c, si, over, &start, cur_pc(c, NULL));
		if (v == STEP_ON)
			continue;
		if (v == STEP_INTO_INLINE)
			step_inline_enter(c, true);
		return 0;
	}
}

/* One source line (step or next) from frame 0 as the CLI presents it. */
static int line_step(struct cli *c, bool over, const char *cmd)
{
	struct step_info si = {0};
	step_frame_now(c, &si.frame);
	/* step at a skipped inlined call goes down into it without running, as gdb's. */
	if (!over && si.frame.shown) {
		step_inline_enter(c, false);
		return 0;
	}
	struct step_loc l;
	step_locate(c, cur_pc(c, NULL), &l);
	si.file = si.frame.file;
	si.line = si.frame.line;
	si.row = l.ln;
	return line_step_from(c, &si, over, cmd);
}

/* The function frame 0 shows: an inlined one's name, else the symbol's. */
static void frame0_name(struct cli *c, char *buf, size_t len)
{
	struct step_frame f;
	step_frame_now(c, &f);
	if (f.n) {
		snprintf(buf, len, "%s", f.chain[f.shown].name);
		return;
	}
	struct step_loc l;
	step_locate(c, cur_pc(c, NULL), &l);
	snprintf(buf, len, "%s", l.fn ? l.fn->name : "");
}

static int source_step(struct cli *c, int argc, char **argv, bool over)
{
	const char *cmd = argv[0];
	uint64_t n;
	if (parse_count(c, cmd, argc, argv, &n) || cli_need_pending(c, cmd))
		return -1;
	struct step_loc l;
	step_locate(c, cur_pc(c, NULL), &l);
	if (!l.image)
		return cli_error(c,
				 "%s: the PC %#" PRIx64 " is not in the hypervisor image (no "
				 "line information); use stepi",
				 cmd, cur_pc(c, NULL));
	char fn0[128];
	frame0_name(c, fn0, sizeof(fn0));
	for (uint64_t i = 0; i < n; i++) {
		int rc = line_step(c, over, cmd);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return hs_machine_dead(c->m) ? -1 : 0;
		if (!hs_op_pending(c->m))
			break;
	}
	char fn1[128];
	frame0_name(c, fn1, sizeof(fn1));
	step_inline_show(c, strcmp(fn0, fn1) != 0);
	end_with_step(c);
	return 0;
}

int cmd_step(struct cli *c, int argc, char **argv)
{
	return source_step(c, argc, argv, false);
}

int cmd_next(struct cli *c, int argc, char **argv)
{
	return source_step(c, argc, argv, true);
}

/*
 * What the function returned, as its DWARF type says (gdb prints nothing for a
 * void function); without DWARF, x0 in hex and decimal.
 */
static void print_result(const struct hs_fn_result *r, uint64_t x0)
{
	if (r && r->is_void)
		return;
	if (!r || (!r->size && !r->is_pointer)) {
		const char *e = (int64_t)x0 < -1 ? cli_errno_name((int64_t)x0) : NULL;
		printf("Value returned: x0 = %#" PRIx64 " (%" PRId64 "%s%s)%s%s\n", x0, (int64_t)x0,
		       e ? ", -" : "", e ? e : "", r ? ": " : "", r ? r->type : "");
		return;
	}
	if (r->is_pointer) {
		printf("Value returned: x0 = %#" PRIx64 " (%s)\n", x0, r->type);
		return;
	}
	unsigned bits = r->size * 8;
	uint64_t v = bits < 64 ? x0 & ((1ULL << bits) - 1) : x0;
	if (r->is_bool) {
		printf("Value returned: x0 = %s (%s)\n", v ? "true" : "false", r->type);
		return;
	}
	if (r->is_signed) {
		int64_t sv = bits < 64 && (v >> (bits - 1)) & 1
				 ? (int64_t)(v | ~((1ULL << bits) - 1))
				 : (int64_t)v;
		const char *e = sv < -1 ? cli_errno_name(sv) : NULL;
		printf("Value returned: x0 = %" PRId64 " (%s%s%s)\n", sv, r->type, e ? ", -" : "",
		       e ? e : "");
		return;
	}
	printf("Value returned: x0 = %#" PRIx64 " (%s, %" PRIu64 ")\n", v, r->type, v);
}

/*
 * finish out of an inlined function, as gdb's: a `next` in the calling frame
 * from no line, so it stops at the first statement outside the inlined block
 * (even in the middle of a line); there is no return value to show.
 */
static int finish_inlined(struct cli *c, const struct step_frame *f0)
{
	struct step_info si = {0};
	step_frame_caller(f0, &si.frame);
	if (!c->json)
		printf("Run till exit from #0  %#" PRIx64 " in %s at %s:%d\n", cur_pc(c, NULL),
		       f0->chain[f0->shown].name, f0->file ? step_base_name(f0->file) : "??",
		       f0->line);
	int rc = line_step_from(c, &si, true, "finish");
	if (rc)
		return rc < 0 || hs_machine_dead(c->m) ? -1 : 0;
	step_inline_show(c, true);
	end_with_step(c);
	return 0;
}

int cmd_finish(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *cmd = "finish";
	if (cli_need_pending(c, cmd))
		return -1;
	struct step_frame f0;
	step_frame_now(c, &f0);
	if (step_frame_inlined(&f0))
		return finish_inlined(c, &f0);
	uint64_t sp0;
	uint64_t pc = cur_pc(c, &sp0);
	char w[320], fname[128];
	cli_where(c, pc, w, sizeof(w));
	struct step_loc l;
	step_locate(c, pc, &l);
	snprintf(fname, sizeof(fname), "%s", l.fn ? l.fn->name : "??");
	struct hs_fn_result result;
	struct hs_dwarf *dw = l.image ? cli_image_dwarf(c) : NULL;
	bool have_result = dw && !hs_dwarf_fn_result(dw, l.link, &result);
	if (!c->json)
		printf("Run till exit from #0  %s\n", w);
	uint64_t stepped = 0;
	bool eret = false;
	for (;;) {
		if (stepped >= CLI_STEP_LIMIT) {
			cli_where(c, cur_pc(c, NULL), w, sizeof(w));
			return cli_error(c,
					 "finish: gave up after %llu instructions: %s did not "
					 "return (now at %s); use continue",
					 CLI_STEP_LIMIT, fname, w);
		}
		struct hs_stop s = {0};
		enum run_res r;
		uint32_t insn = 0;
		uint64_t sp;
		pc = cur_pc(c, &sp);
		bool have = step_insn_at(c, pc, &insn);
		if (have && step_is_call(insn)) {
			uint64_t ret = pc + 4;
			r = run_to(c, &ret, 1, sp, true, &s, cmd);
		} else {
			r = step1(c, &s, cmd);
		}
		stepped++;
		if (r == RUN_ERR)
			return -1;
		if (r == RUN_STOP) {
			cli_report_stop(c, &s);
			return hs_machine_dead(c->m) ? -1 : 0;
		}
		if (have && step_is_ret(insn) && sp >= sp0) /* this frame returns */
			break;
		if (have && step_is_eret(insn)) {
			eret = true;
			break;
		}
	}
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	if (c->json) {
		printf("{\"function\":\"%s\",\"pc\":\"0x%" PRIx64 "\",\"x0\":\"0x%" PRIx64
		       "\",\"eret\":%s",
		       fname, st.pc, st.x[0], eret ? "true" : "false");
		if (have_result)
			printf(",\"returns\":\"%s\"", result.type);
		printf("}\n");
		end_with_step(c);
		return 0;
	}
	if (eret) {
		printf("%s returned from the exception (ERET) to EL%u at %#" PRIx64 "\n", fname,
		       st.el, st.pc);
	} else {
		show_location(c, true);
	}
	print_result(have_result ? &result : NULL, st.x[0]);
	end_with_step(c);
	return 0;
}

int cmd_nexti(struct cli *c, int argc, char **argv)
{
	const char *cmd = "nexti";
	uint64_t n;
	if (parse_count(c, cmd, argc, argv, &n) || cli_need_pending(c, cmd))
		return -1;
	for (uint64_t i = 0; i < n && hs_op_pending(c->m); i++) {
		struct hs_stop s = {0};
		uint32_t insn = 0;
		uint64_t sp;
		uint64_t pc = cur_pc(c, &sp);
		enum run_res r;
		if (step_insn_at(c, pc, &insn) && step_is_call(insn)) {
			uint64_t ret = pc + 4;
			r = run_to(c, &ret, 1, sp, true, &s, cmd);
		} else {
			c->run_single = true;
			r = step1(c, &s, cmd);
			c->run_single = false;
		}
		if (r == RUN_ERR)
			return -1;
		if (r == RUN_STOP) {
			cli_report_stop(c, &s);
			return hs_machine_dead(c->m) ? -1 : 0;
		}
	}
	if (hs_op_pending(c->m))
		cli_disas(c, SP_DEFAULT, cur_pc(c, NULL), 1, true);
	else
		printf("done (%" PRIu64 " instructions so far)\n", hs_machine_icount(c->m));
	step_inline_no_skip(c);
	end_with_step(c);
	return 0;
}

/* ---- watch ------------------------------------------------------------------------ */

static const char *const watch_names[] = {"", "watch", "rwatch", "awatch"};
static const char *const watch_titles[] = {"", "Watchpoint", "Read watchpoint",
					   "Access watchpoint"};

static int watch_pte(struct cli *c, int argc, char **argv, enum hs_watch_kind kind)
{
	/* watch pte hyp|host ADDR | watch pte guest HANDLE ADDR */
	if (argc < 4)
		return cli_error(c, "watch pte: usage: watch pte hyp|host ADDR | watch pte guest "
				    "HANDLE IPA");
	const char *table = argv[2];
	struct cli_watch_pte p;
	memset(&p, 0, sizeof(p));
	p.on = true;
	char err[256];
	int ai = 3;
	if (!strcmp(table, "hyp") || !strcmp(table, "host")) {
		if (argc != 4)
			return cli_error(c, "watch pte %s: usage: watch pte %s ADDR", table, table);
		if (cli_regime(c, table, &p.regime, err, sizeof(err)))
			return cli_error(c, "watch pte %s: %s", table, err);
		snprintf(p.table, sizeof(p.table), "%s",
			 !strcmp(table, "hyp") ? "hyp stage-1" : "host stage-2");
	} else if (!strcmp(table, "guest")) {
		if (argc != 5)
			return cli_error(c, "watch pte guest: usage: watch pte guest HANDLE IPA");
		uint64_t h;
		if (cli_eval(c, argv[3], NULL, &h))
			return -1;
		if (cli_vm_regime(c, h, &p.regime, err, sizeof(err)))
			return cli_error(c, "watch pte guest %s: %s", argv[3], err);
		snprintf(p.table, sizeof(p.table), "guest %#" PRIx64 " stage-2", h);
		ai = 4;
	} else {
		return cli_error(c, "watch pte: '%s': give hyp, host or guest HANDLE", table);
	}
	enum cli_space sp = !strcmp(table, "hyp") ? SP_VA : SP_PA;
	uint64_t addr;
	if (cli_eval(c, argv[ai], &sp, &addr))
		return -1;
	p.addr = addr;
	struct hs_phys ph = cli_phys(c);
	struct hs_pt_trace t;
	if (hs_pt_translate(&ph, &p.regime, addr, &t) < 0 || !t.nr_steps)
		return cli_error(c, "watch pte: cannot walk %s for %#" PRIx64, p.table, addr);
	const struct hs_pt_trace_step *st = &t.steps[t.nr_steps - 1];
	if (!st->read_ok)
		return cli_error(c, "watch pte: the %s entry for %#" PRIx64 " cannot be read",
				 p.table, addr);
	p.level = st->level;
	char spec[160], msg[256], now[200];
	snprintf(spec, sizeof(spec), "pte %s %#" PRIx64, p.table, addr);
	int id = cli_bp_add_watch_kind(&c->bps, spec, st->desc_pa, 8, kind, &p, msg, sizeof(msg));
	if (id < 0)
		return cli_error(c, "%s: %s", watch_names[kind], msg);
	cli_pte_text(&p.regime, p.level, st->desc, now, sizeof(now));
	printf("%s %d: %s entry for %#" PRIx64 " at PA %#" PRIx64 " (level %d, now %s)",
	       watch_titles[kind], id, p.table, addr, st->desc_pa, p.level, now);
	if (t.nr_steps > 1)
		printf(", and the %u table entr%s above it", t.nr_steps - 1,
		       t.nr_steps == 2 ? "y" : "ies");
	printf("\n");
	return 0;
}

static int watch(struct cli *c, int argc, char **argv, enum hs_watch_kind kind)
{
	const char *cmd = watch_names[kind];
	if (!strcmp(argv[1], "pte"))
		return watch_pte(c, argc, argv, kind);
	if (argc > 3)
		return cli_error(c, "%s: usage: %s PA [LEN] | %s pte TABLE ADDR", cmd, cmd, cmd);
	enum cli_space sp = SP_PA;
	uint64_t a, pa, len = 8;
	if (cli_eval(c, argv[1], &sp, &a))
		return -1;
	if (sp == SP_VA || sp == SP_IPA) {
		char err[256];
		if (cli_to_pa(c, sp, a, &pa, err, sizeof(err)))
			return cli_error(c, "%s: '%s': %s", cmd, argv[1], err);
	} else {
		pa = a;
	}
	if (argc == 3 && (!cli_parse_size(argv[2], &len) || !len || len > 4096))
		return cli_error(c, "%s: '%s' is not a length from 1 to 4096 bytes", cmd, argv[2]);
	char spec[96], msg[256];
	snprintf(spec, sizeof(spec), "%s%s%s", argv[1], argc == 3 ? " " : "",
		 argc == 3 ? argv[2] : "");
	int id = cli_bp_add_watch_kind(&c->bps, spec, pa, len, kind, NULL, msg, sizeof(msg));
	if (id < 0)
		return cli_error(c, "%s: %s", cmd, msg);
	printf("%s %d: PA %#" PRIx64 " (%" PRIu64 " byte%s)\n", watch_titles[kind], id, pa, len,
	       len == 1 ? "" : "s");
	return 0;
}

int cmd_watch(struct cli *c, int argc, char **argv)
{
	return watch(c, argc, argv, HS_WATCH_WRITE);
}

int cmd_rwatch(struct cli *c, int argc, char **argv)
{
	return watch(c, argc, argv, HS_WATCH_READ);
}

int cmd_awatch(struct cli *c, int argc, char **argv)
{
	return watch(c, argc, argv, HS_WATCH_ACCESS);
}
