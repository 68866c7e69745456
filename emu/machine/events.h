/* SPDX-License-Identifier: MIT */
/*
 * Typed events the machine emits. The CLI, the trace, the visualizer and the
 * tests subscribe; nothing in emu/ prints.
 */
#ifndef HS_EVENTS_H
#define HS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

enum hs_event_type {
	HS_EV_CONSOLE,	    /* one line written by the hypervisor on the UART */
	HS_EV_EXCEPTION,    /* an exception the emulator delivered (to EL2, or to EL1) */
	HS_EV_SYSREG_WRITE, /* MSR to one of the watched EL2 registers */
	HS_EV_TLBI,	    /* TLB maintenance instruction */
	HS_EV_HVC_ENTER,    /* the host issued a hypercall */
	HS_EV_HVC_EXIT,	    /* the hypercall returned to the host */
	HS_EV_HYP_FAULT,    /* the hypervisor took an exception at EL2: machine stopped */
	HS_EV_BOOT_STEP,    /* the host model reached a step of the boot flow */
	HS_EV_HOST_ACCESS,  /* a host load/store completed or was refused */
	HS_EV_BARRIER,	    /* DSB/DMB/ISB in the hypervisor's code (barrier_hooks.h, when on) */
	HS_EV_TABLE_STORE,  /* a CPU store to a page the store tap watches (write_log.h) */
	HS_EV_DEBUG_WRITE,  /* the debugger changed memory or a register (debug_write.h) */
	HS_EV_COUNT
};

struct hs_event_exception {
	unsigned from_el, to_el;
	unsigned ec;	     /* ESR.EC */
	const char *ec_name; /* "HVC64", "DABT_LOW", ... */
	uint64_t esr, far, hpfar;
	uint64_t pc;	 /* address of the instruction that took it */
	uint64_t vector; /* where execution continues, 0 when stopped */
	/* The hypervisor's panic path reached the host's panic handler (hs_machine_client). */
	bool host_panic;
};

struct hs_event_sysreg {
	int reg; /* enum hs_sysreg */
	const char *name;
	uint64_t value;
	uint64_t old;
	uint64_t pc;
};

struct hs_event_tlbi {
	const char *op; /* "ALLE2", "VAE2IS", ... */
	uint64_t operand;
	uint64_t pc;
	unsigned el;
	uint64_t vttbr; /* VTTBR_EL2 live on the CPU: its VMID scopes EL1&0 and stage-2 ops */
};

enum hs_barrier_kind { HS_BARRIER_DSB, HS_BARRIER_DMB, HS_BARRIER_ISB };

struct hs_event_barrier {
	unsigned kind;	 /* enum hs_barrier_kind */
	unsigned option; /* CRm: 0xf SY, 0xe ST, 0xb ISH, 0xa ISHST, 0x7 NSH, 0x3 OSH ... */
	uint64_t pc;
};

struct hs_event_store {
	uint64_t va, pa; /* the address the CPU used, and where it landed */
	unsigned size;	 /* bytes (1..8) */
	unsigned el;
	uint64_t old, val; /* the bytes at pa before and after, little-endian */
	uint64_t pc;	   /* the storing instruction */
};

struct hs_event_hvc {
	uint64_t fn;
	int nr;		  /* hypercall number, -1 when not one of ours */
	const char *name; /* from the ABI table, or "stub" / "unknown" */
	uint64_t args[6];
	int64_t x0, x1; /* on exit */
	uint64_t insns; /* on exit: instructions the call executed */
};

struct hs_event_boot {
	int step;
	const char *name;
	const char *detail;
};

struct hs_event_access {
	uint64_t pa;
	int is_write;
	uint64_t value;
	int refused;  /* the host received an abort */
	uint64_t esr; /* ESR_EL1 the host saw, when refused */
};

struct hs_event_debug_write {
	const char *reg;     /* a register's name, or NULL for memory */
	uint64_t pa;	     /* memory: first byte written (physical) */
	unsigned len;	     /* bytes */
	uint64_t old, value; /* the first 8 bytes (or the register) before and after */
};

struct hs_event {
	enum hs_event_type type;
	unsigned cpu;
	uint64_t icount; /* machine-wide instruction count when it happened */
	union {
		const char *console;
		struct hs_event_exception exc;
		struct hs_event_sysreg sysreg;
		struct hs_event_tlbi tlbi;
		struct hs_event_hvc hvc;
		struct hs_event_boot boot;
		struct hs_event_access access;
		struct hs_event_barrier barrier;
		struct hs_event_store store;
		struct hs_event_debug_write dbgw;
	};
};

typedef void (*hs_event_fn)(const struct hs_event *ev, void *ud);

const char *hs_event_type_name(enum hs_event_type t);
/* The name of an exception class (ESR_ELx.EC), e.g. "DABT_LOW". */
const char *hs_ec_name(unsigned ec);

#endif
