/* SPDX-License-Identifier: MIT */
/* Internal state of the machine, shared by emu/ files only. */
#ifndef HS_MACHINE_PRIV_H
#define HS_MACHINE_PRIV_H

#include <stdatomic.h>

#include <hypscope/abi.h>

#include "dbg_priv.h"
#include "debug.h"
#include "machine.h"
#include "uc_quirks.h"

#define HS_MAX_SUBSCRIBERS 16
/*
 * Instructions one run may take before it is called a loop: more than any
 * operation needs (the longest, __pkvm_init, grows with RAM: ~14 per page),
 * little enough that a loop stops in about a second.
 */
#define HS_DEFAULT_INSN_LIMIT(ram_size) (64000000ULL + 16 * ((ram_size) >> 12))
#define HS_COUNTER_HZ 100000000ULL /* counters tick once per instruction */

struct hs_write_log;
struct hs_barrier_feed;
struct hs_store_traps;
struct hs_ckpt_store;

#define HS_CPU_MAX_STOP_HOOKS 32

struct hs_cpu {
	struct hs_machine *m;
	unsigned idx;
	uc_engine *uc;
	void *qcpu;		/* QEMU's CPU object inside the engine (uc_quirks.h) */
	struct hs_pmu_hook pmu; /* what the PMU hook finds through qcpu (uc_pmu.c) */
	bool fast_stores;	/* stores to code-free pages skip the code check */
	uint64_t icount;
	uint64_t block_start, block_end; /* last translated block entered */
	uint64_t run_icount_limit;
	uint64_t icount_stop; /* non-zero: stop before a block takes icount past it (replay.c) */
	/*
	 * The lowest count at which a block must take the slow path for one of the
	 * two above (hs_cpu_run computes it): one compare per block instead of three.
	 */
	uint64_t block_check_at;
	uc_hook h_intr, h_block, h_unmapped, h_msr, h_mrs, h_sys;
	struct hs_cpu_dbg dbg; /* breakpoints, stepping, watchpoints (dbg_priv.h) */
	/*
	 * Where a run stops (the host operation's return address), through a
	 * code hook per address rather than uc_emu_start's `until`: Unicorn
	 * discards the translated code at `until` after every run.
	 */
	uint64_t run_until;
	uint64_t stop_hook_addr[HS_CPU_MAX_STOP_HOOKS];
	unsigned nr_stop_hooks;
	const struct hs_dump_cpu *saved; /* a dump's CPU: registers read from here, no engine */
	bool online;
	bool powered_off;      /* PSCI CPU_OFF / SYSTEM_OFF stopped it */
	bool power_on_pending; /* PSCI CPU_ON accepted, not started yet */
	uint64_t power_on_entry, power_on_ctx;
	enum hs_stop_reason stop;
	struct hs_event_exception fault;
};

struct hs_subscriber {
	hs_event_fn fn;
	void *ud;
};

/*
 * What the CPU loop (cpu.c) calls on the debugger (code_breakpoints.c,
 * watchpoints.c). machine.c fills it in at creation: the loop sits below the
 * debugger files that arm and read it, so it reaches them only through here.
 */
struct hs_cpu_debugger {
	/* Before a run from the PC: execute `count` instructions (0: freely), step over a
	 * breakpoint. */
	int (*run_begin)(struct hs_cpu *c, uint64_t count, struct hs_error *err);
	/* After the engine returned with a stop: is it final (true), or must the run go on? */
	bool (*run_settle)(struct hs_cpu *c, struct hs_error *err);
	/*
	 * At the start of a translated block at pc: stop here if asked to. Called
	 * only while a watch hit is pending (c->dbg.pending.on) or an interrupt is
	 * requested (m->interrupt): all it tests (cpu.c tests them inline).
	 */
	void (*block)(struct hs_cpu *c, uint64_t pc);
	/* An exception was taken: an access caught by a watchpoint may have faulted. */
	void (*exception)(struct hs_cpu *c);
};

struct hs_machine {
	struct hs_machine_opts opts;
	struct hs_cpu_debugger debugger;
	char *hyp_elf_path;
	uint8_t *ram;
	void *shadow; /* one reservation all shadow regions point at */
	size_t shadow_size;
	struct hs_image *img;
	int64_t load_bias; /* PA = link address + load_bias */
	struct hs_layout layout;
	struct hs_quirks quirks;
	struct hs_cpu cpus[HS_MAX_CPUS];
	unsigned nr_cpus, cur;
	struct hs_subscriber subs[HS_MAX_SUBSCRIBERS];
	unsigned nsubs;
	char uart_line[512];
	size_t uart_len;
	struct hs_machine_client client;
	struct hs_machine_op op;
	struct hs_stop last_stop;
	bool dead;
	bool killed;		       /* hs_machine_kill: dead by request, not by a fault */
	struct hs_dbg dbg;	       /* debug.c */
	struct hs_write_log *wlog;     /* write_log.c: NULL until a reader opens it */
	struct hs_dump *dump;	       /* dump.c: the machine was opened from files */
	struct hs_barrier_feed *bfeed; /* barrier_hooks.c: NULL until a user asks */
	struct hs_store_traps *traps;  /* store_trap.c: watched pages, pending stores */
	unsigned traps_pending;	       /* store_trap.c: stores trapped, not delivered yet */
	struct hs_ckpt_store *ckpt;    /* checkpoint.c: NULL until the first one */
	void (*ckpt_free)(struct hs_machine *m); /* set with ckpt: frees it */
	/*
	 * Runs that stop at a machine instruction count (replay.c): icount_stop
	 * is the count (0: none), the hooks are record's (NULL when off).
	 */
	uint64_t icount_stop;
	unsigned op_gen; /* operations begun so far */
	struct hs_run_hooks {
		void *ud;
		/* Before each CPU run of an operation (may take a checkpoint, set icount_stop). */
		int (*before)(struct hs_machine *m, struct hs_error *err);
		/* icount_stop reached in a continue: true to go on (a checkpoint was taken). */
		bool (*reached)(struct hs_machine *m, struct hs_error *err);
		void (*fini)(struct hs_machine *m); /* machine destruction: free ud */
	} run_hooks;
	atomic_bool interrupt; /* hs_machine_interrupt(): stop at the next block */
};

/* Emit an event to every subscriber. */
void hs_emit(struct hs_machine *m, struct hs_event *ev);

/* cpu.c */
int hs_cpu_init(struct hs_machine *m, struct hs_cpu *c, unsigned idx, struct hs_error *err);
void hs_cpu_fini(struct hs_cpu *c);
/* Run from the current PC until `until` (0: none) or a stop. */
enum hs_stop_reason hs_cpu_run(struct hs_cpu *c, uint64_t until, uint64_t count,
			       struct hs_error *err);
uint64_t hs_cpu_reg(struct hs_cpu *c, int uc_reg);
void hs_cpu_set_reg(struct hs_cpu *c, int uc_reg, uint64_t v);
/* Several registers in one engine call (uc_reg_*_batch): a host operation sets up to eight. */
void hs_cpu_regs(struct hs_cpu *c, const int *uc_regs, uint64_t *v, unsigned n);
void hs_cpu_set_regs(struct hs_cpu *c, const int *uc_regs, const uint64_t *v, unsigned n);
uint64_t hs_cpu_sr(struct hs_cpu *c, enum hs_sysreg r);
void hs_cpu_set_sr(struct hs_cpu *c, enum hs_sysreg r, uint64_t v);
unsigned hs_cpu_el(struct hs_cpu *c);
/* A hook stops the CPU before pc: take back the block's instructions from pc on. */
void hs_cpu_cut_block(struct hs_cpu *c, uint64_t pc);
/* Enter EL2 at `target` with PSTATE `spsr` from wherever the CPU is (reset, power on). */
void hs_cpu_enter_el2(struct hs_cpu *c, uint64_t target, uint64_t spsr);

/*
 * A UC_HOOK_MEM_WRITE hook over [begin, end] (1, 0: everything) that every
 * store reaches, fast stores or not; and its removal.
 */
uc_err hs_cpu_hook_stores(struct hs_cpu *c, uc_hook *h, void *cb, void *ud, uint64_t begin,
			  uint64_t end);
void hs_cpu_unhook_stores(struct hs_cpu *c, uc_hook h);

/* dump.c: RAM and CPUs of a machine opened from a dump. */
int hs_dump_open(struct hs_machine *m, const struct hs_dump *d, struct hs_error *err);
void hs_dump_close(struct hs_machine *m);
/* A dump CPU's register by Unicorn register id (PC, SP, X0..X30, PSTATE). */
uint64_t hs_dump_reg(const struct hs_dump_cpu *d, int uc_reg);

/* machine.c: map the memory of one engine (RAM, UART, shadows). */
int hs_machine_map_engine(struct hs_machine *m, uc_engine *uc, struct hs_error *err);

#endif
