/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the machine's debugger services (breakpoints.c,
 * stepping.c, watchpoints.c, debug.c) and the calls cpu.c makes around a run.
 */
#ifndef HS_DBG_PRIV_H
#define HS_DBG_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include <hypscope/abi.h>

#include "debug.h"
#include "hs_error.h"

struct hs_cpu;
struct hs_machine;

#define HS_DBG_MAX_HVC_BREAKS 16
#define HS_DBG_MAX_WATCH 32 /* a `watch pte` takes one per entry on its walk (up to 5) */
#define HS_DBG_MAX_ALIASES 4
#define HS_BP_MAX_ALIASES 2

struct hs_bp;

/* What a code hook of a breakpoint knows: its breakpoint and its CPU. */
struct hs_bp_hook {
	struct hs_bp *bp;
	struct hs_cpu *cpu;
	uc_hook h[HS_BP_MAX_ALIASES];
	uint64_t skipped; /* the cpu's skip_gen this hook let the instruction run for */
};

struct hs_bp {
	int id;
	bool enabled;
	uint64_t addr;
	uint64_t va[HS_BP_MAX_ALIASES]; /* the addresses the CPUs may fetch it at */
	uint64_t pa[HS_BP_MAX_ALIASES]; /* their RAM address (UINT64_MAX: unknown) */
	unsigned nr_va;
	unsigned hits;
	struct hs_bp_hook hooks[HS_MAX_CPUS];
};

struct hs_dbg_watch {
	int id; /* 0: free */
	enum hs_watch_kind kind;
	bool trapped; /* on store traps, not hooks (watchpoints.c) */
	uint64_t pa, len;
	uint64_t va[HS_DBG_MAX_ALIASES]; /* the PA itself, then the EL2 VAs mapping it */
	unsigned nr_va;
};

/* An access to watched bytes, caught before its instruction retired. */
struct hs_watch_pending {
	bool on;
	bool late;    /* the access's PC is unknown: stop at the next block (hs_watch_block) */
	bool faulted; /* the CPU took an exception after the hook: the access did not happen */
	/*
	 * Caught by a store trap (store_trap.h), not a hook: the CPU left its
	 * block before the store, which runs again alone; hit.pa, hit.size and
	 * before[] cover the instruction's whole store (up to 64 bytes), the hit
	 * is its first piece that changed watched bytes once it ran.
	 */
	bool trapped;
	struct hs_watch_hit hit;
	uint8_t before[64]; /* the stored bytes before the store */
	/* A load: x0..x30 and SP before it (the stop may come after it wrote one). */
	uint64_t regs[32];
};

/* Per CPU. */
struct hs_cpu_dbg {
	int hit_bp;	  /* the breakpoint that stopped this CPU last (0: none) */
	bool hit_stepped; /* ... reached by a step, not hit while running (hs_stop.stepped) */
	/*
	 * Resuming from a breakpoint: the first call of each breakpoint hook at
	 * skip_pc (several breakpoints may share it) is not a hit. skip_gen
	 * numbers the resumptions (hs_dbg_skip_at).
	 */
	bool skip_armed;
	uint64_t skip_pc, skip_gen;
	/*
	 * Where this CPU last stopped for the user (gdb's stop_pc): a run that
	 * resumes there steps over a breakpoint at it; a run that starts anywhere
	 * else (a new host operation, a PC the user set) hits one at its first
	 * instruction.
	 */
	bool stopped_valid;
	uint64_t stopped_pc;
	/* stepping.c: a code hook on every instruction, only while single-stepping. */
	uc_hook step_hook;
	uint64_t step_count, step_done;
	/* watchpoints.c */
	uc_hook watch_hooks[HS_DBG_MAX_WATCH * HS_DBG_MAX_ALIASES];
	unsigned nr_watch_hooks;
	uc_hook read_hooks[HS_DBG_MAX_WATCH * HS_DBG_MAX_ALIASES];
	unsigned nr_read_hooks;
	uc_hook sync_hooks[2]; /* make loads/stores in code keep the PC exact */
	bool replaying;	       /* re-executing a watched access: not a new hit */
	struct hs_watch_pending pending;
	/* A stop from the block hook: the PC Unicorn leaves is stale, this is the one. */
	bool resume_pc_valid;
	uint64_t resume_pc;
};

/* The next run executes the instruction at pc once, whatever breakpoints are there. */
static inline void hs_dbg_skip_at(struct hs_cpu_dbg *d, uint64_t pc)
{
	d->skip_armed = true;
	d->skip_pc = pc;
	d->skip_gen++;
}

/* Per machine. */
struct hs_dbg {
	uint64_t break_ec; /* bit per ESR.EC */
	uint64_t break_hvc[HS_DBG_MAX_HVC_BREAKS];
	unsigned nr_break_hvc;
	struct hs_dbg_watch watch[HS_DBG_MAX_WATCH];
	int next_watch_id;
	bool watch_traps; /* watchpoints.c owns the HS_TRAP_WATCH store traps now */
	struct hs_watch_hit hit;
	bool hit_valid;
	uint64_t step_next_run; /* hs_machine_step_next_run: the next run's count */
	struct hs_bp **bps;
	unsigned nr_bps, cap_bps;
	int next_bp_id;
	/*
	 * replay.c (reverse-step and its kin): told of every instruction a
	 * stepped run is about to execute, with its CPU and SP.
	 */
	void (*insn_seen)(void *ud, unsigned cpu, uint64_t pc, uint64_t sp);
	void *insn_seen_ud;
};

/* debug.c: should an exception of class ec (x0 for HVC) stop at the EL2 vector? */
bool hs_dbg_should_break(struct hs_machine *m, unsigned ec, uint64_t x0);
/*
 * Could a run stop for the debugger (an enabled breakpoint, a watchpoint, an
 * exception or hypercall breakpoint)? A scan of the history for hits is
 * pointless when not.
 */
bool hs_dbg_may_stop(const struct hs_machine *m);
/* Does hs_dbg_should_break look at x0 for class ec (a hypercall breakpoint exists)? */
bool hs_dbg_wants_x0(const struct hs_machine *m, unsigned ec);

/*
 * cpu.c, before a run of CPU c from its PC: execute `count` instructions
 * (0: run freely) and step over a breakpoint at the PC.
 */
int hs_dbg_run_begin(struct hs_cpu *c, uint64_t count, struct hs_error *err);
/* After uc_emu_start returned: the run's stop is final (true) or it must go on. */
bool hs_dbg_run_settle(struct hs_cpu *c, struct hs_error *err);
/* machine.c, when CPU c stopped: the breakpoint (0: none) that did it. */
int hs_dbg_stop_bp(struct hs_cpu *c);
/* The enabled breakpoint with an alias at pc, or NULL. */
struct hs_bp *hs_dbg_bp_at(const struct hs_machine *m, uint64_t pc);
/*
 * A run that executed instructions ended for a step count (or a replay's
 * count) where a breakpoint is: the breakpoint is hit, as gdb reports a
 * step that lands on one. Makes the CPU's stop HS_STOP_BREAKPOINT; false
 * when there is no breakpoint there.
 */
bool hs_dbg_step_landed(struct hs_cpu *c);
/* The CPU stopped (for the user) where it is now: resuming here steps over a breakpoint. */
void hs_dbg_note_stopped(struct hs_cpu *c);
void hs_dbg_fini(struct hs_machine *m);
/* The hooks above, as the CPU loop calls them (machine_priv.h: struct hs_cpu_debugger). */
extern const struct hs_cpu_debugger hs_dbg_cpu_debugger;

/* stepping.c */
int hs_step_arm(struct hs_cpu *c, uint64_t count, struct hs_error *err);
/* Drop all of one engine's translated code that lies in RAM (retranslated on demand). */
void hs_step_drop_all_code(struct hs_cpu *c);

/* watchpoints.c: complete a store caught by a watchpoint (see there). */
bool hs_watch_settle(struct hs_cpu *c, struct hs_error *err);
/* cpu.c's block hook, at the start of the block at pc: stop here if asked to. */
void hs_dbg_block(struct hs_cpu *c, uint64_t pc);
void hs_watch_block(struct hs_cpu *c, uint64_t pc);
/* cpu.c's exception hook: an access caught by a watchpoint may have faulted. */
void hs_watch_exception(struct hs_cpu *c);

#endif
