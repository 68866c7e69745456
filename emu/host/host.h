/* SPDX-License-Identifier: MIT */
/*
 * The host model: a C program playing Linux's part. Its hypercalls and memory
 * accesses are real EL1 instructions (`hvc`, `ldr`, `str`) executed from a
 * host code page, so they go through the real stage 2 and faults are
 * architectural. Operations are resumable: a breakpoint inside the hypervisor
 * stops the machine in the middle of one, and `continue` finishes it.
 */
#ifndef HS_HOST_H
#define HS_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "hs_error.h"
#include "machine.h"

struct hs_machine;
struct hs_host_op;
struct hs_vm_records;
struct hs_profile;
struct hs_linux;

enum hs_host_op_kind {
	HS_HOP_NONE,
	HS_HOP_RESET,	 /* firmware entry into the hypervisor's stub, at boot */
	HS_HOP_HVC,	 /* hvc #0 with fn and arguments */
	HS_HOP_READ,	 /* ldr from a PA (IPA = PA for the host) */
	HS_HOP_WRITE,	 /* str to a PA */
	HS_HOP_SMC,	 /* smc #0: PSCI, relayed by the hypervisor */
	HS_HOP_POWER_ON, /* a CPU the firmware powers on after PSCI CPU_ON */
	HS_HOP_HVC_LOOP, /* the host loops: x19 times `hvc #0` with x0 = fn (benchmarks) */
};

typedef int (*hs_host_done_fn)(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err);

struct hs_host_op {
	enum hs_host_op_kind kind;
	unsigned cpu;
	uint64_t fn;	  /* HVC: x0 */
	uint64_t args[6]; /* HVC: x1.. */
	uint64_t pa;	  /* READ/WRITE */
	uint64_t value;	  /* WRITE: value; READ: result */
	unsigned size;	  /* READ/WRITE: 1, 2, 4 or 8 */
	uint64_t ret_pc;  /* where the host code stops */
	uint64_t start_icount;
	/* results */
	int64_t x0, x1;
	bool refused;
	bool cpu_off; /* SMC: the CPU went offline (PSCI CPU_OFF / SYSTEM_OFF) */
	uint64_t esr_el1, far_el1;
	hs_host_done_fn done; /* continuation, e.g. the next boot step */
};

/* Host code page layout (offsets from the page). */
#define HS_HOST_OFF_HVC 0x000	  /* hvc #0 ; (ret) */
#define HS_HOST_OFF_LDR 0x010	  /* ldr{b,h,w,x} x1, [x0] at +0x10.. ; ret at +0x30 */
#define HS_HOST_OFF_STR 0x040	  /* str{b,h,w,x} x1, [x0] at +0x40.. ; ret at +0x60 */
#define HS_HOST_OFF_IDLE 0x080	  /* where an idle host CPU sits */
#define HS_HOST_OFF_SMC 0x0e0	  /* smc #0 ; (ret) */
#define HS_HOST_OFF_LOOP 0x100	  /* mov x0,x20; hvc #0; subs x19,x19,#1; b.ne; (ret) */
#define HS_HOST_OFF_VECTORS 0x800 /* VBAR_EL1: brk in every slot */

struct hs_host {
	const struct hs_profile *profile; /* the hypervisor's, chosen from its image */
	uint64_t code_pa;
	struct hs_host_op op; /* the operation in progress, or the last one */
	/* memblock: the host's early allocator, top-down below alloc_top. */
	uint64_t alloc_top, alloc_floor;
	/* Boot flow state (host_boot.c). */
	int boot_step;
	int boot_until;
	bool booted;
	bool finalized;
	bool boot_tables_freed;
	uint64_t pool_pa, pool_size;
	uint64_t params_pa[8];
	uint64_t boot_pgd_pa;
	uint64_t boot_table_pages[4096];
	unsigned nr_boot_table_pages;
	uint64_t stack_pa[8];
	uint64_t percpu_pa, percpu_size;
	unsigned boot_cpu_done;
	uint64_t cpu_entry[8];
	struct hs_host_op smc_result;
	struct hs_vm_records *vms;    /* host_vm.c: the host's records of its VMs */
	struct hs_linux *lx;	      /* linux_boot.c: Linux's host state, for Linux's hypervisor */
	struct hs_lx_dwarf *lx_dwarf; /* linux_dwarf.c: what inspection read of the DWARF */
	/* the last SMC's result (a power-on may follow it) */ /* where each CPU enters the host
								  after PSCI CPU_ON */
};

/*
 * hs_host_init() - lay out the host code page and the host's reset state on
 * every CPU, and register the host as the machine's client.
 */
int hs_host_init(struct hs_machine *m, struct hs_error *err);
/* The host model of a machine hs_host_init() set up. */
static inline struct hs_host *hs_host_of(const struct hs_machine *m)
{
	return hs_machine_client_data(m);
}

/*
 * Queue one hypercall on `cpu` and run it; returns 0 and fills op results when
 * it completed, or 0 with *stop set to a non-DONE reason when the machine
 * stopped inside it.
 */
struct hs_stop;
int hs_host_hvc(struct hs_machine *m, unsigned cpu, uint64_t fn, const uint64_t *args,
		unsigned nargs, struct hs_host_op *result, struct hs_stop *stop,
		struct hs_error *err);
int hs_host_access(struct hs_machine *m, unsigned cpu, bool write, uint64_t pa, unsigned size,
		   uint64_t value, struct hs_host_op *result, struct hs_stop *stop,
		   struct hs_error *err);

/*
 * Issue an SMC from the host on `cpu` (PSCI: x0 = function, x1..x3). A CPU a
 * CPU_ON starts runs through the hypervisor into the host right after.
 */
int hs_host_smc(struct hs_machine *m, unsigned cpu, uint64_t fn, uint64_t a1, uint64_t a2,
		uint64_t a3, struct hs_host_op *result, struct hs_stop *stop, struct hs_error *err);
/*
 * The host issues `count` hypercalls `fn` (no arguments) from an EL1 loop in
 * one run: what a guest kernel hammering the hypervisor looks like, without
 * the emulator's per-operation overhead.
 */
int hs_host_hvc_loop(struct hs_machine *m, unsigned cpu, uint64_t fn, uint64_t count,
		     struct hs_host_op *result, struct hs_stop *stop, struct hs_error *err);
/* The last host operation with its results (also one finished by hs_continue). */
const struct hs_host_op *hs_host_last_op(const struct hs_machine *m);
/* The host's usual entry point for a secondary CPU (its idle loop). */
uint64_t hs_host_entry(const struct hs_machine *m);

/* Internal: start an operation (sets registers and PC); the run loop finishes it. */
int hs_host_start_op(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err);
/* Internal: called by the run loop when the host code reached op->ret_pc (or was refused). */
int hs_host_complete_op(struct hs_machine *m, struct hs_error *err);

/* The hypercall name for a function id, or NULL. */
const char *hs_hypercall_name(uint64_t fn);
/* The function id (HS_HC_FN(n)) for a name; -1 when unknown. */
int64_t hs_hypercall_by_name(const char *name);
int hs_hypercall_nargs(int nr);

#endif
