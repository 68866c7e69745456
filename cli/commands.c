/* SPDX-License-Identifier: MIT */
/*
 * The command table (Redis style): one row per command drives dispatch,
 * arity checks, `help` and tab completion. Lookup is by exact name, then by
 * unique prefix ("ambiguous command 'b': break, boot, bt").
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_checkpoint.h"
#include "cmd_machine_file.h"
#include "cmd_reverse.h"
#include "cmd_print.h"
#include "user_cmds.h"

static const char *const dump_words[] = {"ram", "sysregs", NULL};
static const char *const info_words[] = {
    "registers", "sysregs", "cpus", "breakpoints", "watchpoints", "program", "display",
    "frame",	 "symbol",  "line", "patches",	   "checkpoints", "record",  NULL};
static const char *const watch_words[] = {"pte", "hyp", "host", "guest", NULL};
static const char *const host_words[] = {"read", "write", "--size", NULL};
static const char *const pt_words[] = {"walk",	"dump",	   "--table", "hyp",   "host",
				       "guest", "--range", "--json",  "--dot", NULL};
static const char *const boot_words[] = {"--until",   "reserve",  "boot-tables", "hyp-init",
					 "pkvm-init", "finalize", "free",	 NULL};
static const char *const expect_words[] = {
    "result",	 "x0",	      "reg",	  "sysreg",	"translates",	"faults",
    "host-read", "console",   "contains", "el",		"hyp",		"host",
    "ok",	 "refused",   "owner",	  "state",	"check",	"clean",
    "diff",	 "pages",     "guest",	  "OWNED",	"SHARED_OWNED", "SHARED_BORROWED",
    "NOPAGE",	 "host-s2",   "hyp-s1",	  "vmemmap",	"==",		"!=",
    "vm",	 "exit",      "value",	  "fault-ipa",	"s2-fault",	"hvc",
    "stop",	 "pc",	      "line",	  "breakpoint", "watchpoint",	"step",
    "done",	 "hyp-fault", "expr",	  NULL};
static const char *const vm_words[] = {
    "create", "list",	   "show",	     "load",	"put",	  "share",	 "unshare",
    "donate", "wrprotect", "young",	     "mkyoung", "relax",  "run",	 "teardown",
    "check",  "read",	   "write",	     "exec",	"resume", "--protected", "--cpu",
    "--prot", "--clear",   "start-teardown", "reclaim", "vcpu",	  "reinit",	 NULL};
static const char *const diff_words[] = {"mark", NULL};
static const char *const save_words[] = {"breakpoints", "machine", NULL};
static const char *const record_words[] = {"full", "stop", NULL};
static const char *const trace_words[] = {"clear", "limit", NULL};
static const char *const set_words[] = {
    "diff-on-stop", "check-after-hvc", "check-tlb", "pagination", "var", "on", "off", "log", NULL};
static const char *const render_words[] = {"--view", "tree", "map",    "timeline", "--table",
					   "hyp",    "host", "--addr", "--cpu",	   "--call",
					   "--size", "-o",   NULL};
static const char *const viz_words[] = {"--view", "tree", "map", "timeline", "close", NULL};

const struct cli_cmd cli_cmds[] = {
    {"help", cmd_help, 0, 1, 0, "help [COMMAND]", "list commands, or explain one",
     "With no argument, lists every command with a one-line summary.\n"
     "Examples:\n  help\n  help x\n  help pt",
     CC_COMMAND, NULL},
    {"boot", cmd_boot, 0, 2, CMD_MACHINE | CMD_RUNS, "boot [--until STEP]",
     "run the host's boot flow (pKVM initialisation)",
     "Runs the host model's boot flow: reserve, boot-tables, hyp-init, pkvm-init,\n"
     "finalize, free. With --until STEP the machine stops when that step starts;\n"
     "`continue` finishes the flow. Prints the hypervisor's console and, at the end,\n"
     "a summary of every CPU.\n"
     "Examples:\n  boot\n  boot --until pkvm-init",
     CC_WORDS, boot_words},
    {"continue", cmd_continue, 0, 0, CMD_MACHINE | CMD_RUNS, "continue",
     "resume the stopped operation until it completes or stops",
     "Resumes the pending host operation (boot flow, hypercall, access) until it\n"
     "completes, hits a breakpoint or the hypervisor faults.\nExample:\n  continue",
     CC_NONE, NULL},
    {"stepi", cmd_stepi, 0, 1, CMD_MACHINE | CMD_RUNS, "stepi [N]",
     "execute N instructions (default 1)",
     "Executes N instructions on the CPU running the pending operation and shows the\n"
     "next instruction.\nExamples:\n  stepi\n  stepi 10",
     CC_NONE, NULL},
    {"nexti", cmd_nexti, 0, 1, CMD_MACHINE | CMD_RUNS, "nexti [N]",
     "execute N instructions, stepping over calls",
     "Like stepi, but a call (BL/BLR) runs until it returns to the next\n"
     "instruction in the same frame (a temporary internal breakpoint), or stops\n"
     "earlier at a breakpoint or watchpoint. Shows the next instruction.\n"
     "Examples:\n  nexti\n  ni 3",
     CC_NONE, NULL},
    {"step", cmd_step, 0, 1, CMD_MACHINE | CMD_JSON | CMD_RUNS, "step [N]",
     "run to the next source line, entering calls",
     "Single-steps until the PC reaches the start of a different source line (DWARF\n"
     "line table, is_stmt rows), entering called functions (past the opening line\n"
     "of a C function). Stops early at a breakpoint, a watchpoint or when the\n"
     "operation completes; gives up after 1,000,000 instructions. Prints the new\n"
     "line (and the function when it changed).\nExamples:\n  step\n  step 3",
     CC_NONE, NULL},
    {"next", cmd_next, 0, 1, CMD_MACHINE | CMD_JSON | CMD_RUNS, "next [N]",
     "run to the next source line, stepping over calls",
     "Like step, but a call (BL/BLR) runs to its return address with a temporary\n"
     "internal breakpoint (same frame: SP not below the caller's).\n"
     "Examples:\n  next\n  next 5",
     CC_NONE, NULL},
    {"finish", cmd_finish, 0, 0, CMD_MACHINE | CMD_JSON | CMD_RUNS, "finish",
     "run until the current function returns; print x0",
     "Steps (over calls) until the function's RET in the same frame, then shows\n"
     "where it returned to and the returned x0 (with the errno name for negative\n"
     "values). An ERET (leaving the hypervisor) also ends it.\nExample:\n  finish",
     CC_NONE, NULL},
    {"until", cmd_until, 0, 1, CMD_MACHINE | CMD_JSON | CMD_RUNS, "until [LOCATION]",
     "run to a location (a one-shot breakpoint), or like next",
     "With LOCATION (SYM, FILE:LINE or ADDR: both its PA and HYP VA), runs until\n"
     "the CPU gets there in the current frame (not in a call it makes), the\n"
     "current function returns to its caller, another breakpoint hits or the\n"
     "operation completes, as gdb's. Without, it is `next`.\n"
     "Examples:\n  until pkvm.c:120\n  until __pkvm_init_finalise",
     CC_SYMBOL, NULL},
    {"advance", cmd_advance, 1, 1, CMD_MACHINE | CMD_JSON | CMD_RUNS, "advance LOCATION",
     "run to a location in any frame, or until the current function returns",
     "Like `until LOCATION`, but LOCATION counts in any frame (a function the\n"
     "current one calls, say), as gdb's advance.\n"
     "Example:\n  advance host_stage2_set_page_state",
     CC_SYMBOL, NULL},
    {"watch", cmd_watch, 1, 4, CMD_MACHINE,
     "watch PA [LEN] | watch pte hyp|host ADDR | "
     "watch pte guest HANDLE IPA",
     "stop when memory (or a page-table entry) changes",
     "watch PA [LEN]  stops after any CPU's store that changes a byte of\n"
     "                [PA, PA+LEN) (LEN 1..4096, default 8); symbols are PAs,\n"
     "                va:ADDR is translated. Shows the old and new values.\n"
     "watch pte TABLE ADDR  watches the 8 bytes of the last-level descriptor the\n"
     "                walker reaches for ADDR in TABLE (hyp: EL2 stage 1, host:\n"
     "                host stage 2, guest HANDLE: a VM's stage 2), and decodes the\n"
     "                old and new entry (kind, output address, permissions, state\n"
     "                or owner annotation). If the entry becomes a table the next\n"
     "                level is not followed: watch it again.\n"
     "Stores through the identity map and every EL2 alias of the PA are seen.\n"
     "`delete N` removes a watchpoint, `info watchpoints` lists them.\n"
     "Examples:\n  watch 0x48000000\n  watch pte host 0x48000000\n"
     "  watch pte hyp va:0x800008000000",
     CC_WORDS, watch_words},
    {"rwatch", cmd_rwatch, 1, 4, CMD_MACHINE,
     "rwatch PA [LEN] | rwatch pte hyp|host ADDR | rwatch pte guest HANDLE IPA",
     "stop when memory (or a page-table entry) is read",
     "Like watch, but stops after any CPU's load of a byte of [PA, PA+LEN) (its\n"
     "destination registers written, a pre/post-index base updated), and shows the\n"
     "value read and the PC of the load with its source line. Loads through the\n"
     "identity map and every EL2 alias are seen; the MMU's own table walks are not\n"
     "loads. `delete N` removes it.\n"
     "Examples:\n  rwatch host_s2_lock 4\n  rwatch pte host 0x48000000",
     CC_WORDS, watch_words},
    {"awatch", cmd_awatch, 1, 4, CMD_MACHINE,
     "awatch PA [LEN] | awatch pte hyp|host ADDR | awatch pte guest HANDLE IPA",
     "stop when memory (or a page-table entry) is read or written",
     "Like watch and rwatch together: stops after any load, and any store (even\n"
     "one that stores the value already there), of a byte of [PA, PA+LEN).\n"
     "Examples:\n  awatch host_s2_lock 4",
     CC_WORDS, watch_words},
    {"info", cmd_info, 1, -1, CMD_MACHINE | CMD_JSON,
     "info registers|sysregs|cpus|breakpoints|watchpoints|program|display|args|locals|patches|"
     "checkpoints|"
     "record "
     "[--json] | "
     "info symbol ADDR | info line [LOCATION]",
     "show machine state",
     "registers    general registers of the current CPU\n"
     "sysregs      every named system register of the current CPU\n"
     "cpus         one line per CPU\n"
     "breakpoints  the breakpoint list (code, hvc, exception, watchpoints)\n"
     "watchpoints  the watchpoints only\n"
     "program      why and where the machine stopped\n"
     "args         the selected frame's arguments (frame/up/down), from DWARF locations\n"
     "locals       its local variables, innermost block first; <optimized out> where the\n"
     "             DWARF gives no location at the PC\n"
     "display      the expressions `display` shows at every stop\n"
     "symbol ADDR  the symbol an address is in: \"handle_host_trap + 12 in section .text\"\n"
     "line [LOC]   the addresses of a source line (LOC: FILE:LINE, SYM, *ADDR; default\n"
     "             the PC)\n"
     "patches      Linux's hypervisor: each alternative, callback, jump label and\n"
     "             relocation the host applied (site, capability or key, decision)\n"
     "checkpoints  the checkpoints (`checkpoint`, `restart N`), * marks the one the\n"
     "             machine's state descends from\n"
     "record       whether `record` runs, and how much history it keeps\n"
     "Examples:\n  info registers\n  info cpus --json",
     CC_WORDS, info_words},
    {"maint", cmd_maint, 2, 3, CMD_MACHINE | CMD_JSON, "maint info line-table [REGEX] [--json]",
     "gdb's maintenance view of the line tables",
     "maint info line-table prints the image's line tables in gdb's shape: per\n"
     "compilation unit, one table per source file (its own and each header whose\n"
     "code it holds), with gdb's END markers, dropped rows and order, so it can be\n"
     "compared with gdb-multiarch's output on the same ELF. REGEX (POSIX extended,\n"
     "unanchored, as gdb's) selects the files. Addresses are link addresses.\n"
     "Example:\n  maint info line-table mem_protect.c",
     CC_NONE, NULL},
    {"x", cmd_x, 1, 1, CMD_MACHINE | CMD_JSON, "x[/FMT] ADDR [--json]", "examine memory",
     "FMT is [COUNT][FORMAT][SIZE] like gdb: FORMAT x (hex), d (signed), u (unsigned),\n"
     "i (instructions), s (C strings); SIZE b, h, w, g (1, 2, 4, 8 bytes). ADDR is a number, a\n"
     "symbol or SYM+OFF, optionally in an address space: pa:ADDR (physical),\n"
     "va:ADDR (EL2 virtual, through TTBR0_EL2 when the MMU is on) or ipa:ADDR (host\n"
     "IPA, through stage 2). Without a prefix the address is an EL2 VA.\n"
     "Examples:\n  x/4xg pa:0x40200000\n  x/8i __pkvm_init_switch_pgd\n  x/2dw va:0x8000",
     CC_SYMBOL, NULL},
    {"disas", cmd_disas, 0, 2, CMD_MACHINE | CMD_JSON, "disas [ADDR [N]]",
     "disassemble (default: around the PC)",
     "Disassembles N instructions (default 10) at ADDR (default: the PC), with\n"
     "symbols.\nExamples:\n  disas\n  disas __pkvm_init_switch_pgd 12",
     CC_SYMBOL, NULL},
    {"bt", cmd_bt, 0, 1, CMD_MACHINE | CMD_JSON, "bt [N] [--json]",
     "backtrace of the current CPU, from the image's call-frame information",
     "Unwinds the stack with the image's DWARF CFI (.debug_frame, as gdb does): each\n"
     "frame's PC, function+offset and file:line (a caller's line is its call's).\n"
     "Code without CFI is unwound through the x29 frame record (marked so). N: at\n"
     "most N frames. `frame N`, `up`, `down` select a frame; `info frame` shows it.\n"
     "Examples:\n  bt\n  bt 3\n  bt --json",
     CC_NONE, NULL},
    {"frame", cmd_frame, 0, 1, CMD_MACHINE | CMD_JSON, "frame [N]",
     "select stack frame N (of bt) and show it",
     "Selects frame N (0: the innermost) until the machine runs again, and shows\n"
     "it and its source line; with no N shows the selected one. `info frame`\n"
     "describes it (CFA, saved registers), `info registers` shows its registers as\n"
     "unwound (<not saved> when the CFI cannot recover one).\n"
     "Examples:\n  frame 1\n  frame",
     CC_NONE, NULL},
    {"up", cmd_up, 0, 1, CMD_MACHINE | CMD_JSON, "up [N]", "select the frame N (1) outer",
     "Selects the caller's frame (N frames up) and shows it.\nExamples:\n  up\n  up 2", CC_NONE,
     NULL},
    {"down", cmd_down, 0, 1, CMD_MACHINE | CMD_JSON, "down [N]", "select the frame N (1) inner",
     "Selects the frame called by this one (N frames down) and shows it.\n"
     "Examples:\n  down\n  down 2",
     CC_NONE, NULL},
    {"list", cmd_list, 0, 1, CMD_MACHINE | CMD_JSON, "list [SYM|ADDR|FILE:LINE]",
     "show source lines (DWARF line table)",
     "Shows the source around the PC, a symbol, an address or FILE:LINE.\n"
     "Examples:\n  list\n  list __pkvm_init_switch_pgd\n  list hyp-init.S:86",
     CC_SYMBOL, NULL},
    {"break", cmd_break, 1, 2, CMD_MACHINE,
     "break SYM|ADDR|FILE:LINE | break hvc NAME | break exception EC", "set a breakpoint",
     "A symbol breakpoint stops at the symbol's PA (MMU off / idmap) and HYP VA.\n"
     "break hvc NAME stops at the EL2 vector, before it runs, when the host or a\n"
     "guest issues that hypercall (a name, tab-completed, or a function id).\n"
     "break exception EC stops at the EL2 vector for every exception of that class\n"
     "(a number or a name: DABT_LOW, IABT_LOW, HVC64, SMC64, SYS64 ...).\n"
     "Examples:\n  break __pkvm_init_switch_pgd\n  break 0x40201000\n  break pgtable.c:120\n"
     "  break hvc host_share_hyp\n  break exception DABT_LOW",
     CC_SYMBOL, NULL},
    {"tbreak", cmd_tbreak, 1, 2, CMD_MACHINE,
     "tbreak SYM|ADDR|FILE:LINE | tbreak hvc NAME | tbreak exception EC",
     "set a temporary breakpoint (deleted when hit)",
     "Like break, but the breakpoint is deleted when it is hit.\nExample:\n  tbreak __pkvm_init",
     CC_SYMBOL, NULL},
    {"delete", cmd_delete, 0, -1, CMD_MACHINE, "delete [ID...] | delete checkpoint N...",
     "delete breakpoints and watchpoints (all with no argument), or checkpoints",
     "Examples:\n  delete 1\n  delete\n  delete checkpoint 2", CC_NONE, NULL},
    {"disable", cmd_disable, 0, -1, CMD_MACHINE, "disable [ID...]", "disable breakpoints",
     "Example:\n  disable 2", CC_NONE, NULL},
    {"enable", cmd_enable, 0, -1, CMD_MACHINE, "enable [ID...]", "enable breakpoints",
     "Example:\n  enable 2", CC_NONE, NULL},
    {"cpu", cmd_cpu, 0, 1, CMD_MACHINE, "cpu [N]", "select the current CPU",
     "Inspecting commands use the current CPU.\nExamples:\n  cpu\n  cpu 1", CC_NONE, NULL},
    {"sysreg", cmd_sysreg, 1, 2, CMD_MACHINE | CMD_JSON, "sysreg NAME [VALUE] [--json]",
     "show a system register with decoded fields",
     "Decodes TCR_EL2, HCR_EL2, SCTLR_EL2, VTCR_EL2, ESR_EL2, VTTBR_EL2 and MAIR_EL2\n"
     "field by field. With VALUE, decodes that value instead of the CPU's.\n"
     "Examples:\n  sysreg TCR_EL2\n  sysreg ESR_EL2 0x96000045",
     CC_SYSREG, NULL},
    {"hvc", cmd_hvc, 1, 7, CMD_MACHINE | CMD_JSON | CMD_RUNS, "hvc NAME|FN [ARG...]",
     "issue a hypercall from the host",
     "NAME is a hypercall from the ABI table (or a function id). Arguments are C\n"
     "numbers or symbols (their PA). Prints x0 (SMCCC status) and x1 (result).\n"
     "Examples:\n  hvc nop\n  hvc __pkvm_init 0 0 0 0 0\n  hvc host_share_hyp 0x41000",
     CC_HVC, NULL},
    {"host", cmd_host, 2, 5, CMD_MACHINE | CMD_JSON | CMD_RUNS,
     "host read|write PA [VALUE] [--size N]", "a host load or store (through the real stage 2)",
     "Runs an EL1 ldr/str of N bytes (1, 2, 4, 8; default 8) at PA. A refused access\n"
     "(stage 2 fault injected back into the host) is reported.\n"
     "Examples:\n  host read 0x40000000\n  host write 0x48000000 0x1234 --size 4\n"
     "  host read __hyp_text_start",
     CC_WORDS, host_words},
    {"pt", cmd_pt, 1, 8, CMD_MACHINE | CMD_JSON,
     "pt walk [--table hyp|host|guest HANDLE] ADDR | pt dump [--table hyp|host|guest HANDLE] "
     "[--range A-B] [--json|--dot] | pt blame hyp|host|guest [HANDLE] ADDR [--json]",
     "walk, dump or blame page tables",
     "walk: translate one address level by level (hyp: EL2 stage 1 from TCR_EL2 /\n"
     "TTBR0_EL2; host: stage 2 from VTCR_EL2 / VTTBR_EL2; guest HANDLE: that VM's\n"
     "stage 2, 40-bit IPA from level 1, from the VTTBR/VTCR the hypervisor recorded).\n"
     "dump: every mapping as merged ranges, as text, JSON or Graphviz DOT.\n"
     "blame: the stores into each entry of ADDR's walk, most recent first: old and\n"
     "new value, CPU, PC with source line, instruction count, hypercall in progress.\n"
     "Examples:\n  pt walk __hyp_text_start\n  pt walk --table host 0x40000000\n"
     "  pt dump --table host --range 0x40000000-0x40400000\n  pt dump --dot > hyp.dot\n"
     "  pt walk --table guest 0x1000 0x48100000\n  pt dump --table guest 0x1000\n"
     "  pt blame host 0x48000000\n  pt blame guest 0x1000 0x2000",
     CC_WORDS, pt_words},
    {"console", cmd_console, 0, 0, CMD_JSON, "console [--json]",
     "what the hypervisor printed so far", "Example:\n  console", CC_NONE, NULL},
    {"trace", cmd_trace, 0, 2, CMD_JSON, "trace [clear | limit [N]] [--json]",
     "hypercalls so far: arguments, results, instruction counts and table diffs",
     "One line per hypercall since the machine was created: #number, CPU,\n"
     "instruction count at entry, name(arguments) = x0 (SMCCC status), x1 (result),\n"
     "instructions it ran; under it, the table diff the call caused (host-s2,\n"
     "hyp-s1, vmemmap). `trace clear` forgets the calls recorded so far (the\n"
     "timeline of `render` too). The trace keeps the last 100,000 calls (older\n"
     "ones are dropped, with a note); `trace limit N` changes the bound.\n"
     "Examples:\n  trace\n  trace --json\n  trace clear\n  trace limit 1000",
     CC_WORDS, trace_words},
    {"owner", cmd_owner, 1, 2, CMD_MACHINE | CMD_JSON, "owner PA|SYM [SIZE] [--json]",
     "who owns a physical page, and what every table says about it",
     "For each page of [PA, PA+SIZE) (SIZE default: one page; consecutive pages the\n"
     "tables describe alike are merged): the owner (host, hyp, guest), the host\n"
     "stage-2 entry and its state, every EL2 VA mapping it with permissions and\n"
     "state, and the vmemmap entry (refcount, host/hyp state). A symbol means its\n"
     "PA; va:ADDR and ipa:ADDR are translated first.\n"
     "Examples:\n  owner __hyp_text_start\n  owner 0x48000000 16K\n"
     "  owner va:0x800000203000 --json",
     CC_SYMBOL, NULL},
    {"map", cmd_map, 0, 0, CMD_MACHINE | CMD_JSON, "map [--json]",
     "the ownership of all memory, as compact ranges",
     "One line per run of pages with the same owner, host state and hyp state (from\n"
     "the host stage 2 and the vmemmap).\nExamples:\n  map\n  map --json",
     CC_NONE, NULL},
    {"diff", cmd_diff, 0, 1, CMD_MACHINE | CMD_JSON, "diff [mark] [--json]",
     "table changes since the last `diff mark`",
     "`diff mark` takes a snapshot of the host stage 2, the EL2 stage 1 and the\n"
     "vmemmap; `diff` shows what changed since, per table and address range\n"
     "(mapped, unmapped, perm, owner, state, remap, attr, refcount, backing), and\n"
     "how many physical pages. `set diff-on-stop on` shows the diff of every\n"
     "stepi/continue/hvc/host/boot.\n"
     "Examples:\n  diff mark\n  hvc host_share_hyp 0x48000\n  diff\n  diff --json",
     CC_WORDS, diff_words},
    {"check", cmd_check, 0, 1, CMD_MACHINE | CMD_JSON, "check [tlb] [--json]",
     "run the ownership invariant checker",
     "Checks every invariant of the ownership rules (owner-unique, share-pair,\n"
     "s2-state, el2-wx, table-refcount, buddy pools, ...) on the machine as it is.\n"
     "Each violation prints its rule, the first page, the tables involved and a\n"
     "message; the command fails when there is any. `set check-after-hvc on`\n"
     "runs it after every hypercall.\n"
     "`check tlb` prints what the live TLB checker found (`set check-tlb on`):\n"
     "break-before-make, TLBI scope, VMID and DSB ordering violations, each with\n"
     "the descriptor, CPU, source line and hypercall, and the entries TLBs may\n"
     "still hold.\nExamples:\n  check\n  check --json\n  check tlb",
     CC_NONE, NULL},
    {"set", cmd_set, 0, -1, CMD_JSON, "set [NAME on|off] | set var EXPR = VALUE",
     "debugger settings; change memory and registers",
     "set var EXPR = VALUE, set $REG = VALUE, set {TYPE} ADDR = VALUE change the\n"
     "machine like a JTAG probe: memory is written physically (no stage 1 or 2 is\n"
     "consulted after the address is translated, no permission applies), translated\n"
     "code over it is dropped, the write log and the incremental checker see it,\n"
     "and `trace` lists it as a debugger write. Registers are the current CPU's\n"
     "(`cpu N` first for another): $x0..$x30, $w0.., $pc, $sp, $lr, $fp, $cpsr and\n"
     "system registers by name.\n"
     "  set var $x1 = 0x48000\n  set {u64} pa:0x48000000 = 0x1234\n"
     "  set var ((struct hyp_page *)hyp_vmemmap)[0x48000].refcount = 1\n"
     "With no argument, lists the settings.\n"
     "  diff-on-stop     show the table diff after stepi, continue, hvc, host, boot\n"
     "  check-after-hvc  run the checker after every hypercall (once booted) and\n"
     "                   fail the command on violations\n"
     "  pagination       page long output at the prompt on a terminal (default on)\n"
     "  check-tlb        on|log|off: check break-before-make and TLB maintenance as\n"
     "                   the hypervisor runs (on: stop at a violation, like a\n"
     "                   watchpoint; log: record); see `check tlb`\n"
     "Examples:\n  set\n  set diff-on-stop on\n  set check-after-hvc off\n  set check-tlb on",
     CC_WORDS, set_words},
    {"render", cmd_render, 2, 14, CMD_MACHINE | CMD_JSON,
     "render --view tree|map|timeline [--table hyp|host] [--addr A] [--cpu N] [--call N] "
     "[--size WxH] -o FILE.png",
     "draw a view of the machine into a PNG",
     "tree      the page-table tree of --table (hyp: EL2 stage 1, host: host stage 2),\n"
     "          with the walk of --addr highlighted (hyp: an EL2 VA; host: an IPA)\n"
     "map       every page of RAM coloured by owner and state (default view);\n"
     "          --addr PA shows that page's details\n"
     "timeline  every hypercall so far; --call N selects one and shows its diff\n"
     "--cpu N picks the CPU whose registers are used; --size WxH the canvas\n"
     "(default 1280x800). Works without a display. From the shell:\n"
     "`hypscope render --view map -o map.png [SCENARIO.hss]`.\n"
     "Examples:\n  render --view map -o map.png\n"
     "  render --view tree --table host --addr 0x48000000 -o s2.png\n"
     "  render --view timeline --call 4 -o calls.png   (#4 of `trace`)",
     CC_WORDS, render_words},
    {"viz", cmd_viz, 0, 2, CMD_MACHINE, "viz [--view tree|map|timeline] | viz close",
     "open the live visualizer window next to the prompt",
     "Opens an SDL window on the machine; it is redrawn after every command that\n"
     "ran the machine, with what changed outlined. In the window: s steps, c\n"
     "continues, 1/2/3 switch views, +/- zoom the map, q closes. Needs a display\n"
     "(otherwise the error is printed and the debugger carries on).\n"
     "Examples:\n  viz\n  viz --view tree\n  viz close",
     CC_WORDS, viz_words},
    {"vm", cmd_vm, 1, 12, CMD_MACHINE | CMD_JSON | CMD_RUNS,
     "vm create|list|show|load|put|share|unshare|donate|wrprotect|young|mkyoung|relax|run|"
     "teardown|start-teardown|reclaim|vcpu|reinit|check ... [--json]",
     "guests: create VMs, map host pages into their stage 2, run the guest program",
     "  vm create [--protected]          a VM with vCPU 0 running the guest program\n"
     "                                   (loaded on the current CPU); prints handle,\n"
     "                                   VMID and stage-2 root\n"
     "  vm list                          the host's VMs: handle, protected, loaded on,\n"
     "                                   number of mappings\n"
     "  vm show HANDLE                   the host's record: gfn -> pfn, and what the\n"
     "                                   guest stage 2 says (perm, state, young/old)\n"
     "  vm load HANDLE [--cpu N]         vcpu_load (vCPU 0) on the current CPU / N\n"
     "  vm put [--cpu N]                 vcpu_put\n"
     "  vm share HANDLE PFN|PA|SYM GFN [NR] [--prot r|rw|rx|rwx]   host_share_guest\n"
     "                                   (default rw; loads the VM first if needed)\n"
     "  vm unshare HANDLE GFN [NR]       host_unshare_guest\n"
     "  vm donate HANDLE PFN|PA|SYM GFN  host_donate_guest (protected VMs)\n"
     "  vm wrprotect HANDLE GFN [NR]     host_wrprotect_guest\n"
     "  vm young HANDLE GFN [NR] [--clear]   host_test_clear_young_guest: 1 = young\n"
     "  vm mkyoung GFN                   host_mkyoung_guest (the loaded VM)\n"
     "  vm relax GFN --prot P            host_relax_perms_guest (the loaded VM)\n"
     "  vm run read|exec IPA | write IPA VALUE | resume   vcpu_run: prints the exit\n"
     "                                   (guest hypercall and the value read, or the\n"
     "                                   stage-2 fault: IPA and decoded ESR_EL2);\n"
     "                                   --fault-in: the host maps each faulting page\n"
     "                                   (a fresh page shared or donated; relax; mkyoung)\n"
     "                                   and resumes, as Linux's user_mem_abort\n"
     "  vm teardown HANDLE               vcpu_put if loaded, then teardown_vm\n"
     "  vm start-teardown HANDLE         vcpu_put if loaded, then start_teardown_vm: the\n"
     "                                   VM is dying and never runs again\n"
     "  vm reclaim HANDLE GFN            reclaim_page: one page of a dying VM back to\n"
     "                                   the host (scrubbed if the guest owned it)\n"
     "  vm check [HANDLE]                host records vs guest stage 2 (fails on mismatch);\n"
     "                                   Linux: torn-down VMs' pages all back with the host\n"
     "  vm vcpu HANDLE IDX               Linux: a further vCPU (__pkvm_init_vcpu)\n"
     "  vm reinit HANDLE                 Linux: __pkvm_init_vm again on the VM's memory\n"
     "On Linux's hypervisor (7.x) the calls are Linux's: __pkvm_reserve_vm,\n"
     "__pkvm_init_vm/_vcpu, __pkvm_vcpu_load, __kvm_vcpu_run, __pkvm_host_share_guest...\n"
     "A plain PFN inside RAM is taken as a PA (0x40400000 = pfn 0x40400); symbols\n"
     "and pa:ADDR are addresses. GFNs are page numbers (ipa:ADDR works too).\n"
     "Hypercall results print with errno names; `expect result` checks them.\n"
     "See docs/guests.md.\n"
     "Examples:\n  vm create\n  vm share 0x1000 0x40400 0x48100 3\n"
     "  vm run write 0x48100000 0x1234\n  vm run read 0x48100000\n"
     "  vm wrprotect 0x1000 0x48101\n  vm young 0x1000 0x48100 --clear\n"
     "  vm show 0x1000\n  vm teardown 0x1000\n"
     "  vm start-teardown 0x1000\n  vm reclaim 0x1000 0x48100",
     CC_WORDS, vm_words},
    {"dump", cmd_dump, 2, 2, CMD_MACHINE | CMD_JSON, "dump ram|sysregs FILE",
     "write physical memory or the CPUs' registers to a file",
     "dump ram FILE      all of RAM as a raw file (zero chunks left as holes), from\n"
     "                   the RAM base\n"
     "dump sysregs FILE  every CPU's registers and system registers as JSON\n"
     "Together they are a machine `hypscope inspect` opens without running it:\n"
     "  hypscope inspect --hyp hyp.elf --ram FILE@0x40000000 --sysregs FILE.json\n"
     "Examples:\n  dump ram /tmp/m.ram\n  dump sysregs /tmp/m.json",
     CC_WORDS, dump_words},
    {"echo", cmd_echo, 0, -1, 0, "echo TEXT...", "print text", "Example:\n  echo booting now",
     CC_NONE, NULL},
    {"expect", cmd_expect, 1, -1, 0, "expect WHAT ...", "check a condition (scenario language)",
     "  expect result == -EINVAL          x1 of the last hypercall\n"
     "  expect x0 == 0                    x0 of the last hypercall\n"
     "  expect reg X1 == 5                a register of the current CPU\n"
     "  expect sysreg TCR_EL2.T0SZ == 16  a register or a decoded field\n"
     "  expect translates hyp VA [to PA]  EL2 stage 1 maps VA (to PA)\n"
     "  expect translates host PA perm rw-   ... with these permissions (rwx)\n"
     "  expect faults hyp VA              EL2 stage 1 does not map VA\n"
     "  expect host-read PA ok|refused    a host load from PA succeeds / is refused\n"
     "  expect host-read PA == 0          ... succeeds and reads this value\n"
     "  expect console contains \"TEXT\"\n"
     "  expect el == 2\n"
     "  expect owner PA == hyp            owner of a page: host, hyp or guest\n"
     "  expect state PA host == SHARED_OWNED   vmemmap state (host or hyp side):\n"
     "                                    OWNED SHARED_OWNED SHARED_BORROWED NOPAGE\n"
     "  expect check clean                the invariant checker finds nothing\n"
     "  expect diff pages == 1            pages changed since `diff mark`\n"
     "  expect diff pages host-s2 == 1    ... in one table (host-s2 hyp-s1 vmemmap)\n"
     "  expect vm exit == s2-fault        how the last `vm run` exited: hvc, s2-fault, other\n"
     "  expect vm value == 0x1234         the value the guest read (last `vm run read`)\n"
     "  expect vm fault-ipa == 0x48101000 the IPA of the last stage-2 fault\n"
     "  expect vm check [HANDLE] clean    host records match the guest stage 2\n"
     "  expect stop == breakpoint         why the machine stopped last: breakpoint,\n"
     "                                    watchpoint, step, done, hyp-fault, idle, limit\n"
     "  expect pc == __pkvm_init+0x10     the PC (symbols compare as link addresses)\n"
     "  expect line == pkvm.c:120         the source line of the PC\n"
     "  expect expr $x1 == 0x48000        any expression of `print` is true\n"
     "Operators: == != < <= > >=. See docs/scenario-language.md.",
     CC_WORDS, expect_words},
    {"print", cmd_print, 0, -1, CMD_MACHINE, "print[/FMT] [EXPR]",
     "evaluate an expression and print its value (gdb's print)",
     "C expressions over registers ($pc, $sp, $x0..$x30, $w0.., $lr, $fp, $cpsr, and\n"
     "system registers by name: $TTBR0_EL2, $hcr_el2), the hypervisor's symbols (HYP\n"
     "VAs) and memory, with C precedence, comparisons, casts, dereference and, from\n"
     "the image's DWARF, the hypervisor's own types: struct members (. ->),\n"
     "subscripts, sizeof. {TYPE} ADDR is the object of TYPE at ADDR; pa:, va: and\n"
     "ipa: give an address space (default: EL2 VA, flat when the MMU is off).\n"
     "EXPR = VALUE assigns (a debugger write, like set var). Each value is kept\n"
     "as $1, $2, ... ($ is the last); $NAME = V makes a convenience variable.\n"
     "FMT: x d u o t (binary) c a (address + symbol) z (zero-padded hex) s.\n"
     "Examples:\n  print $pc\n  p/x $x0 + 0x10\n  p *(struct hyp_page *)hyp_vmemmap\n"
     "  p hyp_vm_table\n  p/x *(u64 *)pa:0x40200000\n  p sizeof(struct hyp_pool)\n"
     "  p $TTBR0_EL2 & 0xfffffffff000",
     CC_SYMBOL, NULL},
    {"ptype", cmd_ptype, 1, -1, CMD_MACHINE, "ptype TYPE|EXPR",
     "show a type with its members (from the image's DWARF)",
     "A struct, union or enum is shown with its members; typedefs are resolved.\n"
     "An expression is not evaluated, only typed.\n"
     "Examples:\n  ptype struct hyp_page\n  ptype u64\n  ptype hyp_vm_table",
     CC_SYMBOL, NULL},
    {"whatis", cmd_whatis, 1, -1, CMD_MACHINE, "whatis TYPE|EXPR",
     "the type of an expression (one level of typedef)",
     "Examples:\n  whatis hyp_vmemmap\n  whatis $pc", CC_SYMBOL, NULL},
    {"display", cmd_display, 0, -1, CMD_MACHINE, "display[/FMT] [EXPR]",
     "print an expression at every stop",
     "The expression is evaluated now and after every command that runs the\n"
     "machine (stepi, step, next, continue, hvc, ...). display/i $pc shows the next\n"
     "instruction. With no argument, shows them all now. `info display` lists\n"
     "them, `undisplay N` removes one.\n"
     "Examples:\n  display $x0\n  display/x $sp\n  display/i $pc",
     CC_SYMBOL, NULL},
    {"undisplay", cmd_undisplay, 0, -1, 0, "undisplay [N...]",
     "stop displaying expressions (all with no argument)", "Example:\n  undisplay 1", CC_NONE,
     NULL},
    {"condition", cmd_condition, 1, -1, CMD_MACHINE, "condition N [EXPR]",
     "stop at breakpoint N only when EXPR is true (none: always)",
     "EXPR is any expression of `print`, evaluated when the breakpoint is reached;\n"
     "when it is false the machine goes on as if there were no breakpoint (the hit\n"
     "is not counted). `break LOC if EXPR` sets it with the breakpoint.\n"
     "Examples:\n  condition 1 $x1 == 0x48000\n  break host_hyp_share_transition if $x0 == "
     "0x48000\n"
     "  condition 1",
     CC_NONE, NULL},
    {"ignore", cmd_ignore, 2, 2, CMD_MACHINE, "ignore N COUNT",
     "pass breakpoint N the next COUNT times it is reached",
     "Each time the breakpoint is reached (and its condition is true) the count goes\n"
     "down instead of stopping.\nExample:\n  ignore 1 3",
     CC_NONE, NULL},
    {"commands", cmd_commands, 0, 1, CMD_MACHINE, "commands [N] ... end",
     "commands to run when breakpoint N stops the machine (default: the last one)",
     "The lines up to `end` run after the stop is shown, as gdb does; a command that\n"
     "runs the machine (continue, step ...) ends the list. An empty list removes them.\n"
     "Example:\n  commands 1\n  p/x $x0\n  bt\n  end",
     CC_NONE, NULL},
    {"save", cmd_save, 2, 2, CMD_MACHINE, "save breakpoints FILE | save machine FILE",
     "write the breakpoints as a script, or the whole machine to a file",
     "save breakpoints FILE writes the breakpoints (conditions, ignore counts,\n"
     "commands) as a script: `source FILE` sets them again, in a new session too.\n"
     "save machine FILE writes the whole machine (RAM, every CPU, the host model)\n"
     "and the session's console and hypercall list: `load machine FILE` or\n"
     "`hypscope --load FILE` continues from it exactly (docs/time-travel.md).\n"
     "Examples:\n  save breakpoints bps.hss\n  source bps.hss\n  save machine booted.hsm",
     CC_WORDS, save_words},
    {"load", cmd_load, 2, 2, 0, "load machine FILE",
     "replace the machine with one saved by `save machine`",
     "The new machine takes the file's options (RAM, CPUs, HYP VA bits); the\n"
     "hypervisor image must be the one it was saved with (--hyp). A file that is\n"
     "truncated, corrupted, of a newer format or from another image is refused and\n"
     "the current machine stays. Breakpoints are kept.\nExample:\n  load machine booted.hsm",
     CC_WORDS, save_words},
    {"define", cmd_define, 1, 1, 0, "define NAME ... end", "a command of your own",
     "The lines up to `end` run when NAME is typed; $arg0..$arg9 are its arguments\n"
     "and $argc their number.\n"
     "Example:\n  define pg\n  p hyp_vmemmap[$arg0]\n  end\n  pg 0x48000",
     CC_NONE, NULL},
    {"source", cmd_source, 1, 1, 0, "source FILE", "run the commands of a file",
     "The file is in the scenario language (any command, `expect`, comments).\n"
     "Example:\n  source bps.hss",
     CC_NONE, NULL},
    {"shell", cmd_shell, 0, -1, 0, "shell [CMD]", "run a shell command (none: a shell)",
     "Example:\n  shell ls *.png", CC_NONE, NULL},
    {"gdbserver", cmd_gdbserver, 1, 1, CMD_MACHINE, "gdbserver [HOST:]PORT",
     "serve this machine to gdb until it detaches (see docs/gdb.md)",
     "Listens on PORT (loopback unless HOST is given) for one gdb: `target remote\n"
     ":PORT` in gdb-multiarch. `monitor CMD` in gdb runs hypscope commands.\n"
     "Example:\n  gdbserver 1234",
     CC_NONE, NULL},
    {"kill", cmd_kill, 0, 0, CMD_MACHINE, "kill", "abandon the pending operation",
     "Abandons the operation the machine is stopped in (e.g. after an emulation\n"
     "error): the machine stays as it is for inspection but runs nothing more;\n"
     "`restart` builds a fresh one.\nExample:\n  kill",
     CC_NONE, NULL},
    {"checkpoint", cmd_checkpoint, 0, 0, CMD_MACHINE, "checkpoint",
     "remember the whole machine now; `restart N` comes back to it",
     "Keeps every CPU's registers and system registers, RAM (only the pages written\n"
     "since the checkpoint before: copy-on-write through the write log), the host\n"
     "model, the console, the trace and what `expect` looks at. Breakpoints and\n"
     "watchpoints are not part of it: they stay as they are. `info checkpoints`\n"
     "lists them, `delete checkpoint N` forgets one (docs/time-travel.md).\n"
     "Example:\n  checkpoint\n  hvc host_share_hyp 0x48000\n  restart 1",
     CC_NONE, NULL},
    {"record", cmd_record, 0, 2, CMD_MACHINE, "record [full|stop|limit SIZE]",
     "record the execution from here, so that reverse-* commands can go back",
     "Keeps a checkpoint where every operation starts running and one every million\n"
     "instructions; going back restores the nearest one and runs forward again to the\n"
     "right instruction count (the machine is deterministic). Old checkpoints inside an\n"
     "operation are thinned out with age (going back there replays longer); past\n"
     "`record limit SIZE` of checkpoints (default 1G, 0: none) the oldest history is\n"
     "dropped, as gdb's insn-number-max does. `record stop` forgets them; `info record`\n"
     "says how much history there is (docs/time-travel.md).\n"
     "Example:\n  record\n  hvc host_share_hyp 0x48000\n  reverse-stepi",
     CC_WORDS, record_words},
    {"reverse-stepi", cmd_reverse_stepi, 0, 1, CMD_MACHINE | CMD_RUNS, "reverse-stepi [N]",
     "go back N instructions (default 1) in the recorded history",
     "The instruction count is the machine's (all CPUs run one at a time), so this goes\n"
     "back through whichever CPU ran the instruction, across exception entries and\n"
     "erets. The console and events are not printed again.\nExamples:\n"
     "  reverse-stepi\n  reverse-stepi 100",
     CC_NONE, NULL},
    {"reverse-nexti", cmd_reverse_nexti, 0, 1, CMD_MACHINE | CMD_RUNS, "reverse-nexti [N]",
     "go back N instructions of this frame, a call being one",
     "Like reverse-stepi, but going back over a call's return goes back to the call\n"
     "instruction: the callee is un-executed without stopping (gdb's reverse-nexti).\n"
     "Only the current CPU's instructions count.\nExamples:\n  reverse-nexti\n"
     "  reverse-nexti 5",
     CC_NONE, NULL},
    {"reverse-step", cmd_reverse_step, 0, 1, CMD_MACHINE | CMD_RUNS, "reverse-step [N]",
     "go back to the start of the previous source line, into a callee at its last line",
     "Runs backwards to where a forward step would have stopped: the start of the\n"
     "current line when in its middle, else of the line before. Going back over a\n"
     "call's return enters the callee at its last line; going back past a function's\n"
     "first line goes to the caller (gdb's reverse-step; docs/time-travel.md).\n"
     "Examples:\n  reverse-step\n  reverse-step 3",
     CC_NONE, NULL},
    {"reverse-next", cmd_reverse_next, 0, 1, CMD_MACHINE | CMD_RUNS, "reverse-next [N]",
     "go back to the start of the previous source line of this frame, over calls",
     "Like reverse-step, but calls made on the way are un-executed without stopping.\n"
     "`next` from where it stops comes back to where it started (gdb's reverse-next).\n"
     "Examples:\n  reverse-next\n  reverse-next 2",
     CC_NONE, NULL},
    {"reverse-finish", cmd_reverse_finish, 0, 0, CMD_MACHINE | CMD_RUNS, "reverse-finish",
     "go back to the call that entered the current function",
     "Stops at the call instruction in the caller, before the function was called\n"
     "(gdb's reverse-finish).\nExample:\n  reverse-finish",
     CC_NONE, NULL},
    {"reverse-continue", cmd_reverse_continue, 0, 0, CMD_MACHINE | CMD_RUNS, "reverse-continue",
     "run backwards to the previous breakpoint or watchpoint hit",
     "Searches the recorded history back from here for the last stop a breakpoint\n"
     "(code, hvc, exception) or watchpoint would have made. A watchpoint stops on the\n"
     "store that changed the bytes, about to run: `watch pte host 0x48000000` then\n"
     "`reverse-continue` shows the store that last changed that entry, with the old\n"
     "and new values. A breakpoint's condition is tested at each hit as a forward run\n"
     "would, and its ignore count passes that many hits, the newest first (gdb's\n"
     "rules). With no hit, it goes to the start of the history.\n"
     "Example:\n  watch pte host 0x48000000\n  reverse-continue",
     CC_NONE, NULL},
    {"restart", cmd_restart, 0, 1, 0, "restart [N]",
     "back to checkpoint N; or a fresh machine with the same options",
     "restart N puts the machine and the session back as they were at checkpoint N\n"
     "(translated code on the pages that change is dropped); the checkpoints after\n"
     "it stay, so you can go forward again with restart M.\n"
     "Without N: replaces the machine with a new one built from the same options\n"
     "(--ram, --cpus, --hyp ...), not booted. Breakpoints, watchpoints and settings\n"
     "are kept and armed on the new machine.\nExamples:\n  restart 1\n  restart\n  boot",
     CC_NONE, NULL},
    {"quit", cmd_quit, 0, 0, 0, "quit", "leave hypscope", "Example:\n  quit", CC_NONE, NULL},
};
const size_t cli_ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]);

int cli_check_table(void)
{
	for (size_t i = 0; i < cli_ncmds; i++) {
		const struct cli_cmd *a = &cli_cmds[i];
		if (!a->name || !*a->name || !a->fn || !a->usage || !a->summary || !a->help) {
			fprintf(stderr, "internal error: command table row %zu is incomplete\n", i);
			return -1;
		}
		if (a->max_args >= 0 && a->max_args < a->min_args) {
			fprintf(stderr, "internal error: command '%s': max arity < min arity\n",
				a->name);
			return -1;
		}
		for (size_t j = i + 1; j < cli_ncmds; j++) {
			if (!strcmp(a->name, cli_cmds[j].name)) {
				fprintf(stderr, "internal error: command '%s' is defined twice\n",
					a->name);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * gdb's own abbreviations win over the unique-prefix rule, as in gdb: `b` is
 * break although boot and bt start with b too, `p` is print, not pt.
 */
static const struct {
	const char *alias, *name;
} gdb_aliases[] = {
    {"b", "break"},
    {"br", "break"},
    {"c", "continue"},
    {"cont", "continue"},
    {"fg", "continue"},
    {"s", "step"},
    {"n", "next"},
    {"si", "stepi"},
    {"ni", "nexti"},
    {"p", "print"},
    {"inspect", "print"},
    {"i", "info"},
    {"maintenance", "maint"},
    {"mt", "maint"},
    {"where", "bt"},
    {"backtrace", "bt"},
    {"d", "delete"},
    {"disassemble", "disas"},
    {"l", "list"},
    {"u", "until"},
    {"q", "quit"},
    {"h", "help"},
    {"tb", "tbreak"},
    {"fin", "finish"},
    {"disp", "display"},
    {"rsi", "reverse-stepi"},
    {"rc", "reverse-continue"},
    {"rni", "reverse-nexti"},
    {"rs", "reverse-step"},
    {"rn", "reverse-next"},
    {"rec", "record"},
};

const char *cli_alias_of(const char *name)
{
	for (size_t i = 0; i < sizeof(gdb_aliases) / sizeof(gdb_aliases[0]); i++)
		if (!strcmp(gdb_aliases[i].alias, name))
			return gdb_aliases[i].name;
	return NULL;
}

static const struct cli_cmd *find_cmd(struct cli *c, const char *name, bool quiet)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].name, name))
			return &cli_cmds[i];
	const char *alias = cli_alias_of(name);
	for (size_t i = 0; alias && i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].name, alias))
			return &cli_cmds[i];
	size_t n = strlen(name), hits = 0;
	const struct cli_cmd *found = NULL;
	const char *names[64];
	for (size_t i = 0; i < cli_ncmds; i++) {
		if (!strncmp(cli_cmds[i].name, name, n)) {
			if (hits < 64)
				names[hits] = cli_cmds[i].name;
			hits++;
			found = &cli_cmds[i];
		}
	}
	/* "ambiguous command 'b': break, boot, bt" (sorted) */
	char list[512] = "";
	size_t shown = hits < 64 ? hits : 64;
	for (size_t i = 1; i < shown; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < shown; i++) {
		if (strlen(list) + strlen(names[i]) + 3 >= sizeof(list))
			break;
		if (*list)
			strcat(list, ", ");
		strcat(list, names[i]);
	}
	if (hits == 1 && n > 0)
		return found;
	if (!quiet) {
		if (hits > 1)
			cli_error(c, "ambiguous command '%s': %s", name, list);
		else
			cli_error(c, "unknown command '%s' (try 'help')", name);
	}
	return NULL;
}

int cli_split(const char *line, char **argv, int *cols, int max, int *errcol, const char **emsg)
{
	int argc = 0;
	const char *p = line;
	*errcol = 0;
	*emsg = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		if (argc == max) {
			*errcol = (int)(p - line) + 1;
			*emsg = "at most 64 words on a line";
			goto fail;
		}
		int col = (int)(p - line) + 1;
		size_t cap = strlen(p) + 1, len = 0;
		char *w = malloc(cap);
		if (!w) {
			*emsg = "out of memory";
			goto fail;
		}
		bool quoted = false;
		const char *open_quote = NULL;
		while (*p && !((*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') && !quoted)) {
			if (*p == '"') {
				quoted = !quoted;
				open_quote = p;
				p++;
				continue;
			}
			if (*p == '\\' && quoted && p[1]) {
				p++;
				char ch = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
				w[len++] = ch;
				p++;
				continue;
			}
			/* x/4xg: the format is its own word */
			if (*p == '/' && argc == 0 && !quoted && len > 0)
				break;
			w[len++] = *p++;
		}
		w[len] = '\0';
		if (quoted) {
			/* Point at the quote that is not closed (the line end is past the text). */
			free(w);
			*errcol = (int)(open_quote - line) + 1;
			*emsg = "expected a closing '\"' for this one";
			goto fail;
		}
		cols[argc] = col;
		argv[argc++] = w;
	}
	return argc;
fail:
	cli_free_args(argv, argc);
	return -1;
}

void cli_free_args(char **argv, int argc)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

/* Commands that make a breakpoint or watchpoint: `... if COND` is theirs. */
static bool makes_breakpoint(const struct cli_cmd *cmd)
{
	return !strcmp(cmd->name, "break") || !strcmp(cmd->name, "tbreak") ||
	       !strcmp(cmd->name, "watch") || !strcmp(cmd->name, "rwatch") ||
	       !strcmp(cmd->name, "awatch");
}

static bool is_builtin(const char *name)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		if (!strcmp(cli_cmds[i].name, name))
			return true;
	return false;
}

static int dispatch(struct cli *c, int argc, char **argv)
{
	if (!is_builtin(argv[0]) && cli_user_cmd_exists(c, argv[0])) {
		int rc = cli_user_cmd_run(c, argc, argv);
		cli_free_args(argv + 1, argc - 1);
		return rc ? -1 : 0;
	}
	if (!strcmp(argv[0], "end")) {
		cli_free_args(argv + 1, argc - 1);
		return cli_error(c, "end: no block to end (it closes commands and define)");
	}
	const struct cli_cmd *cmd = cli_find_cmd(c, argv[0], false);
	if (!cmd) {
		cli_free_args(argv + 1, argc - 1);
		return -1;
	}
	/* Canonical name for the handler. */
	bool json = false;
	int n = 1;
	for (int i = 1; i < argc; i++) {
		if ((cmd->flags & CMD_JSON) && !strcmp(argv[i], "--json")) {
			json = true;
			free(argv[i]);
			continue;
		}
		argv[n++] = argv[i];
	}
	argc = n;
	/* break LOC if COND: the condition is the raw text after the word "if". */
	char cond[2048] = "", made[2048] = "";
	int newest = 0;
	if (makes_breakpoint(cmd)) {
		int k = cli_bpx_if_word(argc, argv);
		if (k) {
			cli_raw_args(c, argc, argv, k + 1 < argc ? k + 1 : k, cond, sizeof(cond));
			if (k + 1 >= argc)
				cond[0] = '\0';
			cli_free_args(argv + k, argc - k);
			argc = k;
			if (!*cond) {
				cli_error(c, "%s: 'if' needs a condition", cmd->name);
				cli_free_args(argv + 1, argc - 1);
				return -1;
			}
		}
		snprintf(made, sizeof(made), "%s", cmd->name);
		for (int i = 1; i < argc; i++)
			snprintf(made + strlen(made), sizeof(made) - strlen(made), " %s", argv[i]);
		newest = cli_bps_newest(&c->bps);
	}
	int nargs = argc - 1;
	/* x/FMT: the format word does not count. */
	if (!strcmp(cmd->name, "x") && nargs > 0 && argv[1][0] == '/')
		nargs--;
	if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args)) {
		cli_error(c, "%s: wrong number of arguments (%d given); usage: %s", cmd->name,
			  nargs, cmd->usage);
		cli_free_args(argv + 1, argc - 1);
		return -1;
	}
	if ((cmd->flags & CMD_MACHINE) && !c->m) {
		cli_error(c, "%s: no machine: %s", cmd->name,
			  *c->machine_err ? c->machine_err : "not created");
		cli_free_args(argv + 1, argc - 1);
		return -1;
	}
	if (c->m && hs_machine_is_dump(c->m) && cli_needs_cpus(cmd)) {
		cli_error(c,
			  "%s: this machine is a memory dump (hypscope inspect): it can be "
			  "inspected (pt, owner, map, check, x, info, render), not run",
			  cmd->name);
		cli_free_args(argv + 1, argc - 1);
		return -1;
	}
	c->json = json;
	struct cli_mm_pre pre;
	cli_mm_before(c, cmd, &pre);
	int rc = cmd->fn(c, argc, argv);
	if (cli_mm_after(c, cmd, &pre))
		rc = -1;
	if (cli_tlb_after(c))
		rc = -1;
	if (makes_breakpoint(cmd) && !rc && cli_bps_newest(&c->bps) > newest)
		cli_bpx_created(c, cli_bps_newest(&c->bps), made, cond);
	if ((cmd->flags & CMD_RUNS) && c->m) {
		c->bpx_ran = true;
		cli_show_displays(c); /* gdb shows them at every stop */
		cli_bpx_run_commands(c);
	}
	c->json = false;
	cli_free_args(argv + 1, argc - 1);
	fflush(stdout);
	return rc ? -1 : 0;
}

bool cli_needs_cpus(const struct cli_cmd *cmd)
{
	/* Commands that run CPUs, or hook their engines, have nothing to act on in a dump. */
	static const char *const hooks[] = {"break",  "tbreak", "watch", "rwatch",
					    "awatch", "hvc",	"host",	 "boot"};
	if (cmd->flags & CMD_RUNS)
		return true;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (!strcmp(cmd->name, hooks[i]))
			return true;
	return false;
}

static int exec_line(struct cli *c, const char *line)
{
	if (cli_collecting(c))
		return cli_collect_line(c, line);
	char *argv[CLI_MAX_ARGS];
	int cols[CLI_MAX_ARGS];
	int errcol;
	const char *emsg;
	size_t len = strnlen(line, CLI_MAX_LINE_LEN + 1);
	if (len > CLI_MAX_LINE_LEN)
		return cli_error(c, "line longer than %d characters", CLI_MAX_LINE_LEN);
	/* CMD ... > FILE */
	if (memchr(line, '>', len)) {
		char *copy = strdup(line);
		bool append = false;
		const char *file = copy ? cli_redirect_split(c, copy, &append) : NULL;
		if (file) {
			int rc = cli_exec_redirected(c, copy, file, append);
			free(copy);
			return rc;
		}
		free(copy);
	}
	int argc = cli_split(line, argv, cols, CLI_MAX_ARGS, &errcol, &emsg);
	if (argc < 0) {
		c->err_col = errcol;
		return cli_error(c, "%s", emsg);
	}
	if (argc == 0)
		return 0;
	char *name = argv[0];
	const int *saved_cols = c->arg_cols;
	char *const *saved_words = c->arg_words;
	int saved_nr = c->nr_arg_words;
	c->arg_cols = cols;
	c->arg_words = argv;
	c->nr_arg_words = argc;
	const char *saved_line = c->cur_line;
	c->cur_line = line;
	int rc = dispatch(c, argc, argv);
	c->cur_line = saved_line;
	c->arg_cols = saved_cols;
	c->arg_words = saved_words;
	c->nr_arg_words = saved_nr;
	free(name);
	return rc;
}

const struct cli_interp cli_commands = {
    .exec_line = exec_line,
    .find_cmd = find_cmd,
    .cmds = cli_cmds,
    .ncmds = sizeof(cli_cmds) / sizeof(cli_cmds[0]),
};

int cmd_help(struct cli *c, int argc, char **argv)
{
	if (argc == 2) {
		const struct cli_cmd *cmd = cli_find_cmd(c, argv[1], false);
		if (!cmd)
			return -1;
		printf("%susage: %s%s\n%s.\n\n%s\n", cli_col(c, COL_BOLD), cmd->usage,
		       cli_col(c, COL_RESET), cmd->summary, cmd->help);
		return 0;
	}
	printf("Commands (any unique prefix works; `help COMMAND` for details):\n");
	for (size_t i = 0; i < cli_ncmds; i++)
		printf("  %s%-9s%s %s\n", cli_col(c, COL_BOLD), cli_cmds[i].name,
		       cli_col(c, COL_RESET), cli_cmds[i].summary);
	printf("Inspecting commands accept --json.\n");
	return 0;
}

int cmd_echo(struct cli *c, int argc, char **argv)
{
	(void)c;
	for (int i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	printf("\n");
	return 0;
}

int cmd_quit(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	c->quit = true;
	return 0;
}
