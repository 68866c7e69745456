/* SPDX-License-Identifier: MIT */
/*
 * The machine: RAM, a UART, N CPUs (one Unicorn engine each), the hypervisor
 * image and the host model. Everything hangs off one handle; there is no
 * global mutable state. Every call that can fail returns 0 or a negative code
 * and fills a struct hs_error.
 */
#ifndef HS_MACHINE_H
#define HS_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hypscope/abi.h>

#include "elf_image.h"
#include "events.h"
#include "hs_error.h"
#include "layout.h"
#include "sysregs.h"

struct hs_machine;
struct uc_struct; /* Unicorn's engine (uc_engine), for emu/ and tests only */

/*
 * A machine read from files instead of run: physical memory from a raw dump
 * and each CPU's registers as they were (see `dump ram`, `dump sysregs`).
 * Such a machine has no CPUs to run: inspection works on it as on a live one,
 * and every run or host operation is refused.
 */
struct hs_dump_cpu {
	bool online;
	uint64_t pc, sp, pstate;
	uint64_t icount; /* instructions it had executed */
	uint64_t x[31];
	uint64_t sr[HS_SR_COUNT]; /* indexed by enum hs_sysreg */
};
struct hs_dump {
	const char *ram_path; /* raw physical memory from ram_base; its size is the RAM size */
	unsigned nr_cpus;
	unsigned current; /* the selected CPU when it was taken */
	struct hs_dump_cpu cpu[HS_MAX_CPUS];
};

struct hs_machine_opts {
	uint64_t ram_base;	    /* physical base of RAM (default 0x40000000) */
	uint64_t ram_size;	    /* bytes of RAM (default 1 GiB) */
	unsigned nr_cpus;	    /* CPUs (default 1, at most HS_MAX_CPUS) */
	unsigned hyp_va_bits;	    /* EL2 VA size (default 48) */
	const char *hyp_elf;	    /* path of the hypervisor image */
	const char *guest_elf;	    /* path of the bundled guest program (NULL: $HS_GUEST_ELF) */
	uint64_t insn_limit;	    /* per run: instructions before giving up (0: default) */
	const struct hs_dump *dump; /* open a dump instead of running (ram_size from the file) */
};

void hs_machine_opts_default(struct hs_machine_opts *o);
/* Check options before building anything; a message names the bad one. */
int hs_machine_opts_check(const struct hs_machine_opts *o, struct hs_error *err);

/*
 * hs_machine_create() - a machine with its host model (emu/host/system.c
 * composes the two). hs_machine_create_bare() builds only the machine: RAM,
 * UART, the loaded image and the CPUs, with no software around the
 * hypervisor until a client registers itself.
 */
int hs_machine_create(const struct hs_machine_opts *o, struct hs_machine **out,
		      struct hs_error *err);
int hs_machine_create_bare(const struct hs_machine_opts *o, struct hs_machine **out,
			   struct hs_error *err);
void hs_machine_destroy(struct hs_machine *m);

/* ---- the client: the software around the hypervisor ----------------------- */
/*
 * The host model registers itself as the machine's client, and the machine
 * calls up only through these hooks: machine/ never includes host/.
 */
struct hs_machine_client {
	void *data; /* the client's state, hs_machine_client_data() */
	/*
	 * The pending operation's CPU reached its return address, or took an
	 * exception the hypervisor injected (hs_machine_op()->refused): finish
	 * it; the client may begin the next operation (a boot flow chains them).
	 */
	int (*complete_op)(struct hs_machine *m, struct hs_error *err);
	/* An SMC that reached EL3 on `cpu` (not trapped to EL2): the firmware's call. */
	void (*smc)(struct hs_machine *m, unsigned cpu);
	/* The machine is being destroyed: free the client's state. */
	void (*destroy)(struct hs_machine *m);
	/* The client's EL1 vectors: a `brk` there means an injected exception. */
	uint64_t el1_vectors_pa, el1_vectors_len;
	/*
	 * The host's panic handler (0: none). With one, the hypervisor takes its own
	 * EL2 exceptions (its vectors run, as on hardware) and a panic ends with an
	 * ERET to this PA at EL1 (Linux: hyp_panic -> __hyp_do_panic ->
	 * nvhe_hyp_panic_handler). A CPU arriving there (its fetch of the page, or
	 * the brk the client put there) stops the machine as a hypervisor fault;
	 * host_panic fills the fault from the registers the hypervisor passed.
	 * Without one, an EL2 exception stops the machine at the faulting instruction.
	 */
	uint64_t hyp_panic_pa;
	void (*host_panic)(struct hs_machine *m, unsigned cpu, struct hs_event_exception *x);
};
void hs_machine_set_client(struct hs_machine *m, const struct hs_machine_client *client);
void *hs_machine_client_data(const struct hs_machine *m);

/* The operation the run loop drives: one CPU, run until it reaches ret_pc at EL1. */
struct hs_machine_op {
	bool pending;
	unsigned cpu;
	uint64_t ret_pc;
	bool refused; /* the hypervisor injected an exception into EL1 */
	uint64_t esr_el1, far_el1;
};
/* Begin an operation on `cpu` (its registers and PC already set by the client). */
void hs_machine_op_begin(struct hs_machine *m, unsigned cpu, uint64_t ret_pc);
/* Drop the pending operation without completing it (its client gave it up). */
void hs_machine_op_abandon(struct hs_machine *m);
const struct hs_machine_op *hs_machine_op(const struct hs_machine *m);

const struct hs_machine_opts *hs_machine_opts(const struct hs_machine *m);
/* True for a machine opened from a dump: it can be inspected, never run. */
bool hs_machine_is_dump(const struct hs_machine *m);
const struct hs_image *hs_machine_image(const struct hs_machine *m);
const struct hs_layout *hs_machine_layout(const struct hs_machine *m);

/* Events: up to 16 subscribers, called synchronously in subscription order. */
int hs_machine_subscribe(struct hs_machine *m, hs_event_fn fn, void *ud);
void hs_machine_unsubscribe(struct hs_machine *m, hs_event_fn fn, void *ud);

/* ---- physical memory ---------------------------------------------------- */
bool hs_phys_is_ram(const struct hs_machine *m, uint64_t pa, uint64_t len);
int hs_phys_read(struct hs_machine *m, uint64_t pa, void *buf, size_t len, struct hs_error *err);
int hs_phys_write(struct hs_machine *m, uint64_t pa, const void *buf, size_t len,
		  struct hs_error *err);
/* Direct pointer into RAM (NULL when [pa, pa+len) is not RAM). */
void *hs_phys_ptr(struct hs_machine *m, uint64_t pa, size_t len);
/*
 * Zero [pa, pa+len) behind the CPUs' backs, as a memset through hs_phys_ptr
 * would (no write log, no code check: for memory the host model hands out),
 * but whole host pages are given back to the kernel, so a range nobody wrote
 * costs neither page faults nor resident memory. -EFAULT when not RAM.
 */
int hs_phys_zero(struct hs_machine *m, uint64_t pa, size_t len, struct hs_error *err);

/* ---- symbols (hypervisor image, relocated) ---------------------------- */
/* PA of a hypervisor symbol as loaded; 0 and an error when unknown. */
int hs_sym_pa(const struct hs_machine *m, const char *name, uint64_t *pa, struct hs_error *err);
/*
 * Describe an address the CPU sees (EL2 VA, idmap PA or PA) as "sym+off";
 * returns false when it is not in the image.
 */
bool hs_symbolize(const struct hs_machine *m, uint64_t addr, char *buf, size_t len);
/* "pgt_set_pte+0x8 (pgtable.c:120)": symbol and source line of a PC; "-" for 0. */
void hs_pc_where(const struct hs_machine *m, uint64_t pc, char *buf, size_t len);
/* Convert an EL2 address (HYP VA or idmap/PA) to the image's link address. */
bool hs_addr_to_link(const struct hs_machine *m, uint64_t addr, uint64_t *link);
/* Link address to PA and to HYP VA. */
uint64_t hs_link_to_pa(const struct hs_machine *m, uint64_t link);
uint64_t hs_link_to_hyp_va(const struct hs_machine *m, uint64_t link);

/* ---- CPUs ---------------------------------------------------------------- */
unsigned hs_nr_cpus(const struct hs_machine *m);
unsigned hs_current_cpu(const struct hs_machine *m);
int hs_select_cpu(struct hs_machine *m, unsigned cpu, struct hs_error *err);

struct hs_cpu_state {
	bool online;
	unsigned el;
	bool sp_el_x; /* SPx (h) rather than SP0 (t) */
	uint64_t pc, sp;
	uint64_t x[31];
	uint64_t pstate;
	uint64_t icount;
};
int hs_cpu_state(struct hs_machine *m, unsigned cpu, struct hs_cpu_state *st);
int hs_cpu_sysreg(struct hs_machine *m, unsigned cpu, enum hs_sysreg r, uint64_t *val);
int hs_cpu_set_xreg(struct hs_machine *m, unsigned cpu, unsigned n, uint64_t val);
int hs_cpu_set_pc(struct hs_machine *m, unsigned cpu, uint64_t pc);
struct uc_struct *hs_cpu_engine(struct hs_machine *m, unsigned cpu);
/* Registers beyond x0-x30 and pc, for debuggers: v0-v31 are HS_CPU_REG_V0 + n (128 bits). */
enum hs_cpu_reg {
	HS_CPU_REG_SP, /* the SP of the current exception level */
	HS_CPU_REG_NZCV,
	HS_CPU_REG_FPSR,
	HS_CPU_REG_FPCR,
	HS_CPU_REG_SP_EL2, /* the banked SP_EL2 (the live SP at EL2h) */
	HS_CPU_REG_V0,
};
/*
 * Read one (v[0] low, v[1] high), or write FP/SIMD state (FPSR, FPCR, v0-v31;
 * SP and flags are written through debug_write.h); 0, or -EINVAL.
 */
int hs_cpu_reg_read(struct hs_machine *m, unsigned cpu, unsigned reg, uint64_t v[2]);
int hs_cpu_reg_write(struct hs_machine *m, unsigned cpu, unsigned reg, const uint64_t v[2]);
/* Drop every CPU's translated code (a code hook added late is then seen; slow: 15 ms+). */
void hs_machine_flush_code(struct hs_machine *m);

/* Total instructions executed by all CPUs (deterministic). */
uint64_t hs_machine_icount(const struct hs_machine *m);

/* ---- run control --------------------------------------------------------- */
enum hs_stop_reason {
	HS_STOP_NONE,	     /* still running */
	HS_STOP_DONE,	     /* the requested host operation completed */
	HS_STOP_IDLE,	     /* nothing left to run */
	HS_STOP_BREAKPOINT,  /* a breakpoint was hit (PC is at it) */
	HS_STOP_STEP,	     /* single-step count reached */
	HS_STOP_WATCH,	     /* a watchpoint fired */
	HS_STOP_CHECK,	     /* a live checker found a violation (set check-tlb on) */
	HS_STOP_HYP_FAULT,   /* the hypervisor took an exception at EL2 */
	HS_STOP_LIMIT,	     /* instruction limit reached: the hypervisor is looping? */
	HS_STOP_ERROR,	     /* the emulator failed; see the error */
	HS_STOP_INTERRUPTED, /* hs_machine_interrupt() asked the run to stop */
};
const char *hs_stop_reason_name(enum hs_stop_reason r);

struct hs_stop {
	enum hs_stop_reason reason;
	unsigned cpu;
	uint64_t pc;
	int bp_id; /* breakpoint or watchpoint id */
	/*
	 * A breakpoint stop where a step count (or a replay) ended: the CPU
	 * arrived at the breakpoint's instruction by stepping, as gdb reports a
	 * step that lands on one. A debugger whose condition rejects the hit
	 * makes it a step, never resumes from it.
	 */
	bool stepped;
	struct hs_event_exception fault; /* for HS_STOP_HYP_FAULT */
};

/* The last stop of the machine (what `info program` shows). */
const struct hs_stop *hs_last_stop(const struct hs_machine *m);
/* True when the machine is stopped in the middle of a host operation. */
bool hs_op_pending(const struct hs_machine *m);
/* True after a hypervisor fault: only inspection is possible. */
bool hs_machine_dead(const struct hs_machine *m);
/*
 * Abandon the pending operation (gdb's `kill`): the machine keeps its state
 * for inspection and runs nothing more (hs_machine_dead() and
 * hs_machine_killed() are true; a fresh machine replaces it). -EINVAL when
 * no operation is pending.
 */
int hs_machine_kill(struct hs_machine *m, struct hs_error *err);
bool hs_machine_killed(const struct hs_machine *m);
/* The error for a run asked of a dead machine (a fault at EL2, or killed). */
int hs_machine_dead_error(const struct hs_machine *m, struct hs_error *err);

/* Run the pending host operation (and any that follow, e.g. the boot flow) to completion or stop.
 */
int hs_continue(struct hs_machine *m, struct hs_stop *stop, struct hs_error *err);
/* Execute n instructions on the current CPU (within the pending operation). */
int hs_stepi(struct hs_machine *m, uint64_t n, struct hs_stop *stop, struct hs_error *err);
/*
 * Make the next run of an operation (one that starts later, e.g. the next
 * boot step, or the pending one) execute at most n instructions, as
 * hs_stepi would: stepi into a boot step that has not started. 0 cancels.
 */
void hs_machine_step_next_run(struct hs_machine *m, uint64_t n);
/*
 * Ask the run in progress (or the next one) to stop before its next
 * translated block below EL2 (in the hypervisor the request waits for the
 * CPU to return to EL1): the run returns HS_STOP_INTERRUPTED with the
 * operation still pending, so hs_continue() resumes it exactly. The one call
 * that is safe from another thread or a signal handler (a debugger's Ctrl-C).
 */
void hs_machine_interrupt(struct hs_machine *m);
/* Drop a request no run has consumed yet (the run it was meant for ended by itself). */
void hs_machine_interrupt_cancel(struct hs_machine *m);

#endif
