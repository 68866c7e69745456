/* SPDX-License-Identifier: MIT */
/*
 * hypscope's debugger: one session (struct cli) around one machine, a
 * Redis-style command table that drives dispatch, arity checks, help and
 * completion, and the helpers every command shares (argument parsing,
 * address spaces, output in colour / plain / JSON).
 */
#ifndef HS_CLI_H
#define HS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "append_snap.h"
#include "breakpoints.h"
#include "image_cfi.h"
#include "image_linetable.h"
#include "host.h"
#include "machine.h"
#include "pt_translate.h"
#include "strbuf.h"

#include "host_boot.h"
#include "host_vm.h"
#include "inspect_snapshot.h"
#include "pte_blame.h"

struct hs_trace;
struct hs_viz_recorder;
struct hs_viz_live;

/* One recorded hypercall (from HS_EV_HVC_ENTER / HS_EV_HVC_EXIT). */
struct cli_hvc_rec {
	unsigned cpu;
	uint64_t fn;
	int nr;
	const char *name; /* static (ABI table) */
	uint64_t args[6];
	bool done;
	int64_t x0, x1;
	uint64_t icount_enter, insns;
};

struct hs_check_incr;
struct hs_tlb_check;
struct hs_blame;

/* One debugger write (set var ...), listed by `trace` among the hypercalls. */
struct cli_dbg_write {
	unsigned cpu;
	uint64_t icount;
	char reg[24]; /* "" for memory */
	uint64_t pa;
	unsigned len;
	uint64_t old, value;
};
struct cli_expr_state;

struct cli_interp;
struct cli {
	const struct cli_interp *interp; /* the command interpreter (see cli_exec_line) */
	struct hs_machine_opts mopts;
	struct hs_machine *m; /* NULL when it could not be created */
	char machine_err[512];
	bool color; /* colours on stdout */
	bool json;  /* the current command was given --json */
	bool live;  /* print console lines and boot steps as they happen */
	bool interactive;
	bool quit; /* `quit` was given */
	/* Where the current command comes from (for messages). */
	const char *src_file;
	int src_line;
	int err_col;		/* > 0: the next error is a syntax error at this column */
	const int *arg_cols;	/* columns of the current command's words (NULL if unknown) */
	char *const *arg_words; /* those words (an argument's error finds its column by them) */
	int nr_arg_words;
	const char *cur_line;	     /* the text of the current command (NULL if unknown) */
	struct cli_expr_state *expr; /* print/display/value history (cmd_print.c) */
	/* Frees c->expr's machine-bound part (all = false) or everything; set with it. */
	void (*expr_free)(struct cli *c, bool all);
	/* Breakpoint conditions, ignore counts, commands (bp_control.c). */
	struct cli_bpx *bpx;
	size_t nbpx, capbpx;
	int bpx_pending; /* the breakpoint whose commands run after this command */
	int bpx_depth;	 /* commands running commands */
	bool bpx_ran;	 /* the last command ran the machine */
	/* Blocks ending with `end`, and user-defined commands (user_cmds.c). */
	int collect; /* enum cli_collect_kind */
	int collect_id, collect_depth;
	void (*collect_done)(struct cli *c, int id, char **lines, size_t n);
	char collect_name[64];
	char **collect_lines;
	size_t ncollect, capcollect;
	struct cli_user_cmd *ucmds;
	size_t nucmds;
	int user_depth;
	/* Habits */
	bool pagination;   /* page long output on a terminal (`set pagination off`) */
	bool quiet;	   /* -q: no boot chatter (console lines, steps, summary) on stdout */
	bool quiet_steps;  /* `stepi` does not report a plain step (gdb shows its own) */
	bool run_single;   /* the run was stepi: a breakpoint stop is never resumed */
	char *repeat_line; /* what an empty line at the prompt runs again */
	bool repeat_is_x;
	/* What an empty line repeats after `x`: the next address. */
	bool x_valid;
	char x_fmt[24];
	int x_space; /* enum cli_space */
	uint64_t x_next;
	/* Recorded from events. */
	char **console;
	size_t nconsole, capconsole;
	size_t console_dropped; /* oldest lines no longer kept (CLI_CONSOLE_KEEP) */
	struct cli_hvc_rec *trace;
	size_t ntrace, captrace;
	size_t trace_dropped;	    /* oldest records no longer kept (CLI_HVC_KEEP) */
	struct cli_dbg_write *dbgw; /* debugger writes (HS_EV_DEBUG_WRITE), for `trace` */
	size_t ndbgw, capdbgw;
	/* What the checkpoints of trace and dbgw share (cmd_checkpoint.c); indexes are
	 * absolute (trace_dropped + i), so a change to a record says so first. */
	struct hs_append_track trace_snaps, dbgw_snaps;
	bool have_hvc;
	int64_t last_x0, last_x1;
	bool have_access;
	bool last_refused;
	uint64_t last_value, last_esr;
	/* The last `vm run` (expect vm ...). */
	bool have_vm_exit;
	struct hs_vm_exit vm_exit;
	uint64_t vm_exit_op, vm_exit_ipa;
	/* Breakpoints. */
	struct cli_bps bps;
	/* What the last stop hit (filled by cli_after_run, printed by cli_report_stop). */
	int hit_id;
	bool hit_temp;
	bool hit_silent; /* a gdb client's own breakpoint: gdb reports that stop itself */
	int judged_id;	 /* set by stepi: the breakpoint its stop is, judged already */
	/*
	 * Scenarios: the current line's command failed by stopping at a hypervisor fault
	 * (cli_after_run), and an `expect stop == hyp-fault` accepted the previous line's
	 * (cli_source_file then does not count that line as failed).
	 */
	bool line_hyp_fault, hyp_fault_expected;
	enum cli_bp_kind hit_kind;
	enum hs_watch_kind hit_access; /* a watchpoint's: watch, rwatch or awatch */
	char hit_what[1024];
	/* The frame `frame`/`up`/`down` selected (cmd_frame.c): valid while icount and CPU match.
	 */
	unsigned frame_sel;
	uint64_t frame_icount;
	unsigned frame_cpu;
	/*
	 * Inlined frames `step` went down into without running (step_inline.c): gdb's
	 * step_into_inline_frame. Valid while icount and CPU match.
	 */
	unsigned inline_into;
	unsigned inline_free; /* of those, the ones entered without running (reverse-step undoes) */
	bool inline_none;     /* a stepi/nexti stop: gdb skips no inlined frame there */
	uint64_t inline_icount;
	unsigned inline_cpu;
	struct hs_cfi *cfi; /* the image's call-frame information, opened on first use */
	bool cfi_tried;
	struct hs_dwarf *frame_dw; /* its DWARF, for inlined functions and tail calls */
	bool frame_dw_tried;
	struct hs_linetable *lines; /* its line tables as gdb builds them (cmd_lines.c) */
	bool lines_tried;
	/* step/next/finish/until end with "step" (expect stop): valid while icount matches. */
	bool have_user_stop;
	enum hs_stop_reason user_stop;
	uint64_t user_stop_icount;
	/* Inspection engine and visualizer (cmd_mm.c; attached at machine creation). */
	struct hs_trace *itrace;	  /* hypercall trace with per-call diffs */
	struct hs_viz_recorder *recorder; /* hypercalls for `render --view timeline` */
	struct hs_viz_live *viz;	  /* the live window (`viz`), or NULL */
	struct hs_snapshot mark;	  /* `diff mark` */
	bool have_mark;
	/* `set` */
	bool diff_on_stop;		  /* show the diff after stepi/continue/hvc/host/boot */
	bool check_after_hvc;		  /* run the checker after every completed hypercall */
	struct hs_check_incr *incr_check; /* its incremental state, made on first use */
	int check_tlb;			  /* enum cli_tlb_mode: the live TLB checker (cmd_tlb.c) */
	struct hs_tlb_check *tlb;	  /* while on and a machine exists */
	size_t tlb_shown;		  /* violations already printed */
	struct hs_blame *blame;		  /* PTE provenance, always on (cmd_blame.c) */
};

/* The session's hypercall list and debugger writes start over (cleared, replaced). */
static inline void cli_session_lists_forget(struct cli *c)
{
	hs_append_forget(&c->trace_snaps);
	hs_append_forget(&c->dbgw_snaps);
}

/* ---- PTE provenance (cmd_blame.c) ------------------------------------------- */
/* Machine created / about to be destroyed: start or stop recording with it. */
void cli_blame_attach(struct cli *c);
void cli_blame_detach(struct cli *c);
/* `pt blame hyp|host|guest [HANDLE] ADDR` */
int cmd_pt_blame(struct cli *c, int argc, char **argv);
/* `expect blame`: the deepest entry on the walk of TABLE [HANDLE] ADDR (argv[i]...) */
struct cli_blame_hit {
	int level;
	uint64_t desc_pa;
	bool have; /* a store is recorded: rec is the last one */
	struct hs_blame_rec rec;
	uint64_t stores; /* recorded since its page became a table page */
};
int cli_blame_lookup(struct cli *c, int argc, char **argv, int i, bool handle_given,
		     struct cli_blame_hit *out, int *next);
/* Under `owner`: the last writer of the host stage-2 and EL2 stage-1 entries of pa. */
void cli_blame_owner(struct cli *c, uint64_t pa, struct hs_strbuf *sb);
/* The regime of `pt VERB` for table hyp, host or guest (guest_s: the handle, or NULL; cmd_blame.c).
 */
int cli_pt_regime(struct cli *c, const char *verb, const char *table, const char *guest_s,
		  struct hs_pt_regime *r);

/* ---- the live TLB checker (cmd_tlb.c) --------------------------------------- */
enum cli_tlb_mode { CLI_TLB_OFF, CLI_TLB_ON /* stop at violations */, CLI_TLB_LOG };
/* Machine created / about to be destroyed: start or stop the checker with it. */
void cli_tlb_attach(struct cli *c);
void cli_tlb_detach(struct cli *c);
/* `set check-tlb on|off|log` */
int cli_tlb_set(struct cli *c, const char *value);
/* `check tlb [--json]` */
int cmd_check_tlb(struct cli *c);
/* After every command: print the violations found since; non-zero when there are new ones. */
int cli_tlb_after(struct cli *c);
/* Under a trace entry: the violations found during that hypercall. */
struct hs_trace_entry;
void cli_tlb_trace(struct cli *c, const struct hs_trace_entry *e, struct hs_strbuf *sb);
/* The tree view outlines the entries TLBs may still hold and shows each entry's last writer. */
struct hs_viz_opts;
void cli_tlb_viz_opts(struct cli *c, struct hs_viz_opts *o);

/* ---- session ------------------------------------------------------------- */
/* Create the machine from c->mopts (on failure c->m stays NULL and the message is kept). */
int cli_machine_create(struct cli *c);
/* Make m (created from c->mopts) the session's machine, replacing the old one. */
void cli_machine_adopt(struct cli *c, struct hs_machine *m);
/*
 * cli_dump_load() - read `hypscope inspect`'s inputs: RAM from FILE[@BASE]
 * and the CPUs from --sysregs files (`dump sysregs` files, or one CPU's
 * `info sysregs --json`), filling d and the machine options (ram_base,
 * ram_size, nr_cpus, dump). *path_out is the RAM file's path, the caller's
 * to free. Return: 0, or -EINVAL with a message naming the file and the
 * line:column of a JSON mistake.
 */
struct hs_dump;
int cli_dump_load(const char *ram_spec, char *const *sysreg_files, int nr_files, struct hs_dump *d,
		  struct hs_machine_opts *o, char **path_out, char *err, size_t len);
void cli_machine_destroy(struct cli *c);
void cli_init(struct cli *c);
void cli_fini(struct cli *c);

/*
 * Called after a machine is created (create = true: attach recorders) and
 * before it is destroyed (false). NULL by default; main() installs
 * cli_mm_machine_hook. A pointer so that util.c links without the visualizer.
 */
extern void (*cli_machine_hook)(struct cli *c, bool create);
/* Called by cli_fini (NULL by default; main() installs cli_habits_fini). */
extern void (*cli_fini_hook)(struct cli *c);
void cli_habits_fini(struct cli *c);
/*
 * Evaluates an address or value that uses registers or C operators with the
 * expression evaluator (cli_eval calls it; NULL: only the simple forms).
 * main() installs cli_expr_eval_addr.
 */
extern int (*cli_expr_hook)(struct cli *c, const char *s, bool spaced, uint64_t *out);
int cli_expr_eval_addr(struct cli *c, const char *s, bool spaced, uint64_t *out);

/* ---- command table ------------------------------------------------------- */
#define CMD_MACHINE (1u << 0) /* needs a machine */
#define CMD_JSON (1u << 1)    /* accepts --json (stripped before the arity check) */
#define CMD_RUNS (1u << 2)    /* runs the machine (diff-on-stop, check-after-hvc) */

enum cli_complete {
	CC_NONE,
	CC_COMMAND, /* command names */
	CC_SYMBOL,  /* hypervisor symbols */
	CC_HVC,	    /* hypercall names, then symbols */
	CC_SYSREG,  /* system register names */
	CC_WORDS,   /* the command's own words (see words), then their arguments */
};

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	int min_args, max_args; /* after the name; max -1 = no limit */
	unsigned flags;
	const char *usage;
	const char *summary;
	const char *help; /* longer text with examples */
	enum cli_complete complete;
	const char *const *words; /* CC_WORDS */
};

extern const struct cli_cmd cli_cmds[];
extern const size_t cli_ncmds;

/* Check the table (no duplicate names, sane arity); 0 or -1 with a message. */
int cli_check_table(void);
/* The command a gdb abbreviation stands for ("b" -> "break"), or NULL. */
const char *cli_alias_of(const char *name);

/* Split a line into words ("..." quoting, x/FMT split into "x" "/FMT"); cols are 1-based. */
#define CLI_MAX_ARGS 64
int cli_split(const char *line, char **argv, int *cols, int max, int *errcol, const char **emsg);
void cli_free_args(char **argv, int argc);
/*
 * The command interpreter as the commands see it. Commands that run other
 * command lines (source, define, breakpoint commands, the gdb server's
 * monitor, the scenario runner) reach the interpreter through the session,
 * never by name: the interpreter (commands.c) sits above every command, and
 * whoever builds a session (main.c; a scenario copies its prototype's)
 * registers it with `c->interp = &cli_commands`.
 */
struct cli_interp {
	/* Run one line; 0 on success, non-zero on failure (message already printed). */
	int (*exec_line)(struct cli *c, const char *line);
	/* A command by exact name, then gdb abbreviation, then unique prefix; unless
	 * quiet, prints the "ambiguous"/"unknown" error. */
	const struct cli_cmd *(*find_cmd)(struct cli *c, const char *name, bool quiet);
	const struct cli_cmd *cmds; /* the command table */
	size_t ncmds;
};
extern const struct cli_interp cli_commands;

static inline int cli_exec_line(struct cli *c, const char *line)
{
	return c->interp->exec_line(c, line);
}

static inline const struct cli_cmd *cli_find_cmd(struct cli *c, const char *name, bool quiet)
{
	return c->interp->find_cmd(c, name, quiet);
}
/* Source a script file (scenario language): 0 when every line succeeded; counts failures. */
int cli_source_file(struct cli *c, const char *path, int *nfail, struct hs_strbuf *failures);

/* ---- output -------------------------------------------------------------- */
enum cli_color { COL_RESET, COL_BOLD, COL_RED, COL_GREEN, COL_YELLOW, COL_BLUE, COL_CYAN, COL_DIM };
const char *cli_col(const struct cli *c, enum cli_color col);
/* Report an error ("FILE:LINE: msg" in scripts); always returns -1. */
int cli_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Collect failure messages while a scenario runs (NULL outside). */
extern struct hs_strbuf *cli_failure_log;
void cli_print_sb(struct cli *c, struct hs_strbuf *sb);

/* Console lines kept (`console`, `expect console`); older ones are dropped. */
#define CLI_CONSOLE_KEEP 10000
/* Hypercall records kept for the commands (the trace proper is bounded by hs_trace_set_limit). */
#define CLI_HVC_KEEP 100000
/* The longest command line (REPL, -ex, scenario and -x files); longer is an error. */
#define CLI_MAX_LINE_LEN 4096
/* The largest scenario or -x file read. */
#define CLI_MAX_SCRIPT_SIZE (16ULL << 20)

/* ---- values -------------------------------------------------------------- */
enum cli_space { SP_DEFAULT, SP_PA, SP_VA, SP_IPA };
/* Parse a number (C syntax, optional sign) or errno name (-EINVAL); true on success. */
bool cli_parse_num(const char *s, int64_t *out);
/* Source line numbers `list` and `break FILE:LINE` accept. */
#define CLI_MAX_LINE_NUMBER 10000000
/* A line number, 1..CLI_MAX_LINE_NUMBER; true on success. */
bool cli_parse_line_number(const char *s, int *line);
/* Sizes like 4096, 0x1000, 64M, 1G. */
bool cli_parse_size(const char *s, uint64_t *out);
/*
 * Evaluate an address / value expression: numbers, errno names, symbols
 * (PA, or HYP VA when space is SP_VA), "pa:"/"va:"/"ipa:" prefix, "a+b"/"a-b".
 * *space gets the prefix given (SP_DEFAULT when none). Errors name the word.
 */
int cli_eval(struct cli *c, const char *s, enum cli_space *space, uint64_t *out);
const char *cli_errno_name(int64_t v); /* "EINVAL" for -22 ... or NULL */
/* The machine image's DWARF, opened once per machine (NULL when it has none). */
struct hs_dwarf *cli_image_dwarf(struct cli *c);

/* ---- memory -------------------------------------------------------------- */
/* The EL2 stage 1 or host stage 2 regime of the current CPU. */
int cli_regime(struct cli *c, const char *table, struct hs_pt_regime *r, char *err, size_t len);
struct hs_phys cli_phys(struct cli *c);
/* Translate addr in a space to a PA (SP_VA goes through TTBR0_EL2 if SCTLR_EL2.M). */
int cli_to_pa(struct cli *c, enum cli_space sp, uint64_t addr, uint64_t *pa, char *err, size_t len);
/* Read len bytes in a space (page by page). */
int cli_read(struct cli *c, enum cli_space sp, uint64_t addr, void *buf, size_t len, char *err,
	     size_t elen);
void cli_symbolize(struct cli *c, uint64_t addr, char *buf, size_t len); /* "" when none */

/* ---- sysreg fields ------------------------------------------------------- */
struct cli_field {
	const char *name;
	uint8_t hi, lo;
	const char *meaning;
	const char *const *values; /* names by value, NULL-terminated list (may be short) */
};
const struct cli_field *cli_sysreg_fields(int reg, size_t *n);
const struct cli_field *cli_sysreg_field(int reg, const char *name);
static inline uint64_t cli_field_get(const struct cli_field *f, uint64_t v)
{
	unsigned w = f->hi - f->lo + 1;
	return (v >> f->lo) & (w >= 64 ? ~0ULL : ((1ULL << w) - 1));
}
/* Print the decoded fields of a register value (text or JSON object into sb). */
void cli_sysreg_decode(struct cli *c, int reg, uint64_t v, struct hs_strbuf *sb, bool json);

/* ---- commands (handlers in cmd_*.c) --------------------------------------- */
int cmd_help(struct cli *c, int argc, char **argv);
int cmd_boot(struct cli *c, int argc, char **argv);
int cmd_continue(struct cli *c, int argc, char **argv);
int cmd_stepi(struct cli *c, int argc, char **argv);
int cmd_info(struct cli *c, int argc, char **argv);
int cmd_x(struct cli *c, int argc, char **argv);
int cmd_disas(struct cli *c, int argc, char **argv);
int cmd_bt(struct cli *c, int argc, char **argv);
int cmd_frame(struct cli *c, int argc, char **argv);
int cmd_maint(struct cli *c, int argc, char **argv);
/* The image's line tables as gdb builds them, built on first use; NULL without DWARF. */
const struct hs_linetable *cli_linetable(struct cli *c);
int cmd_up(struct cli *c, int argc, char **argv);
int cmd_down(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_break(struct cli *c, int argc, char **argv);
int cmd_tbreak(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_enable(struct cli *c, int argc, char **argv);
int cmd_disable(struct cli *c, int argc, char **argv);
int cmd_cpu(struct cli *c, int argc, char **argv);
int cmd_sysreg(struct cli *c, int argc, char **argv);
int cmd_hvc(struct cli *c, int argc, char **argv);
int cmd_host(struct cli *c, int argc, char **argv);
int cmd_pt(struct cli *c, int argc, char **argv);
int cmd_console(struct cli *c, int argc, char **argv);
int cmd_trace(struct cli *c, int argc, char **argv);
int cmd_echo(struct cli *c, int argc, char **argv);
int cmd_dump(struct cli *c, int argc, char **argv);
/* True for commands a dump (no CPUs) cannot serve. */
bool cli_needs_cpus(const struct cli_cmd *cmd);
int cmd_expect(struct cli *c, int argc, char **argv);
int cmd_quit(struct cli *c, int argc, char **argv);
/* Expressions (cmd_print.c). */
int cmd_print(struct cli *c, int argc, char **argv);
int cmd_ptype(struct cli *c, int argc, char **argv);
int cmd_whatis(struct cli *c, int argc, char **argv);
int cmd_display(struct cli *c, int argc, char **argv);
int cmd_undisplay(struct cli *c, int argc, char **argv);
int cmd_gdbserver(struct cli *c, int argc, char **argv); /* gdbserver.c */
int cmd_kill(struct cli *c, int argc, char **argv);
int cmd_restart(struct cli *c, int argc, char **argv);
/* Inspection engine and visualizer (cmd_mm.c). */
int cmd_owner(struct cli *c, int argc, char **argv);
int cmd_map(struct cli *c, int argc, char **argv);
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_set(struct cli *c, int argc, char **argv);
int cmd_render(struct cli *c, int argc, char **argv);
int cmd_viz(struct cli *c, int argc, char **argv);
/* Guests (cmd_vm.c). */
int cmd_vm(struct cli *c, int argc, char **argv);
/* The guest stage 2 of a VM (VTTBR/VTCR as the hypervisor recorded them). */
int cli_vm_regime(struct cli *c, uint64_t handle, struct hs_pt_regime *r, char *err, size_t len);
/* "hvc", "s2-fault", "other" for HS_EXIT_*. */
const char *cli_vm_exit_name(uint64_t reason);
/* Decode a stage-2 abort's ESR_EL2: "data abort, write, permission fault at level 3". */
void cli_vm_esr_text(uint64_t esr, char *buf, size_t len);
/* Compare the host's records with the guest stage 2 (one VM, or all): mismatches or -1. */
int cli_vm_check(struct cli *c, bool have_handle, uint64_t handle, struct hs_strbuf *sb,
		 size_t *nvms);

/* cmd_mm.c: the machine hook, and what dispatch runs around every command. */
void cli_mm_machine_hook(struct cli *c, bool create);
struct cli_mm_pre {
	bool have_snap;
	struct hs_snapshot snap; /* before a run command (diff-on-stop) */
	uint64_t icount;
	size_t ntrace;	   /* hs_trace entries before */
	bool last_pending; /* the last entry was still in flight */
};
void cli_mm_before(struct cli *c, const struct cli_cmd *cmd, struct cli_mm_pre *pre);
/* Returns non-zero when check-after-hvc found violations. */
int cli_mm_after(struct cli *c, const struct cli_cmd *cmd, struct cli_mm_pre *pre);
/* The live window: poll keys ('s' steps, 'c' continues, 'q' closes); true if it did something. */
bool cli_mm_poll_viz(struct cli *c);
/*
 * Pages changed since `diff mark`: in one table (0..HS_SNAP_NR_TABLES-1), or
 * (table -1) distinct physical pages over all tables, allocator bookkeeping
 * (vmemmap refcount/order only) left out. 0, or -1 with the reason in err.
 */
int cli_mm_diff_pages(struct cli *c, int table, uint64_t *pages, char *err, size_t len);
/* `hypscope render ...`: boot or run a scenario, then render; returns the exit status. */
int cli_render_main(struct cli *c, int argc, char **argv);

/*
 * Why the machine stopped last as the user sees it: a step/next/finish/until
 * that ended where it should is a "step", not the internal breakpoint it used.
 */
enum hs_stop_reason cli_stop_reason(struct cli *c);
/* Run control needs a stopped operation to resume: 0, or -1 with the reason printed. */
int cli_need_pending(struct cli *c, const char *cmd);
/* The command ended as a step does (`expect stop == step`), whatever the machine's stop. */
void cli_stop_as_step(struct cli *c);
/* Shared by run-control commands: print where the machine stopped. */
void cli_report_stop(struct cli *c, const struct hs_stop *s);
/* Before running the current CPU: step over a breakpoint at its PC. */
void cli_before_run(struct cli *c);
/* Resume the machine (hs_continue) with the console shown as it runs. */
int cli_continue_live(struct cli *c, struct hs_stop *s, struct hs_error *err);
/*
 * A stop at a breakpoint whose condition is false (or that is ignored) is
 * resumed at once (hs_continue) and *s replaced by the next stop, except
 * after stepi (c->run_single).
 */
/* After a run: which breakpoint/watchpoint hit (counted, temporary ones deleted); non-zero for bad
 * stops. */
int cli_after_run(struct cli *c, struct hs_stop *s);
/*
 * A stop at user breakpoint bp: does it stop, by gdb's rules? Every enabled
 * code breakpoint at the stop's PC is hit there: each whose condition holds
 * and whose ignore count is used up counts (the others' hits are counted
 * here); the first of them is returned (and made the hit), NULL: none stops.
 */
struct cli_bp *cli_bps_judge(struct cli *c, const struct hs_stop *s, struct cli_bp *bp);
/* "0x... in sym at file:line" */
void cli_where(struct cli *c, uint64_t pc, char *buf, size_t len);
/* The text of a source line ("" when the file cannot be read); false if none. */
bool cli_source_line(const char *file, int line, char *buf, size_t len);
/* Opens one of the image's source files (a name from its line table); NULL if not found. */
FILE *cli_open_source(const char *file);
/* Decode a page-table entry value for a watchpoint message ("block 0x48000000 S2 RWX NORMAL"). */
void cli_pte_text(const struct hs_pt_regime *r, int level, uint64_t desc, char *buf, size_t len);
/* A code location (SYM, FILE:LINE, ADDR) as the CPU may run it: PA and HYP VA (1 or 2). */
int cli_resolve_location(struct cli *c, const char *cmd, const char *spec, uint64_t *addrs,
			 unsigned *n);
/* Source-level run control (cmd_step.c). */
int cmd_step(struct cli *c, int argc, char **argv);
int cmd_next(struct cli *c, int argc, char **argv);
int cmd_finish(struct cli *c, int argc, char **argv);
int cmd_until(struct cli *c, int argc, char **argv); /* cmd_until.c */
int cmd_advance(struct cli *c, int argc, char **argv);
int cmd_watch(struct cli *c, int argc, char **argv);
int cmd_rwatch(struct cli *c, int argc, char **argv);
int cmd_awatch(struct cli *c, int argc, char **argv);
int cmd_nexti(struct cli *c, int argc, char **argv);
/* Per-CPU summary (EL, PC, SCTLR_EL2.M, VBAR_EL2, TTBR0_EL2, VTTBR_EL2, HCR_EL2.VM). */
void cli_cpu_summary(struct cli *c);
/* Disassemble n instructions at addr (space sp) into stdout. */
int cli_disas(struct cli *c, enum cli_space sp, uint64_t addr, unsigned n, bool mark_pc);
/* How the current CPU at EL0/EL1 reads its own PC (SP_IPA or SP_PA); false when its stage 1 is on.
 */
bool cli_el1_pc_space(struct cli *c, enum cli_space *sp);

/* REPL (repl.c). */
int cli_repl(struct cli *c);
/* Scenario runner (scenario.c): run files, optional JUnit; returns the exit status. */
int cli_run_scenarios(struct cli *proto, char **files, int nfiles, const char *junit);

/* sigint.c: Ctrl-C interrupts a running command (see there). */
void cli_sigint_install(struct cli *c, bool interactive);
/* Around each command: on while it runs. */
void cli_sigint_running(struct cli *c, bool on);
/* True once for each Ctrl-C that came while no command ran (the REPL's prompt). */
bool cli_sigint_take_prompt(void);

#endif
