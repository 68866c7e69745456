/* SPDX-License-Identifier: MIT */
/*
 * Debugger support in the machine: stop when the hypervisor is entered for
 * an exception class or a given hypercall, and watchpoints on physical
 * memory that stop on the store that changes a watched byte (or on any load
 * or access of one).
 */
#ifndef HS_DEBUG_H
#define HS_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"

/* Stop at the EL2 vector when an exception of class `ec` (ESR.EC) is taken to EL2. */
int hs_break_on_ec(struct hs_machine *m, unsigned ec, bool on, struct hs_error *err);
/* Stop at the EL2 vector when the host or a guest issues HVC with x0 == fn. */
int hs_break_on_hvc(struct hs_machine *m, uint64_t fn, bool on, struct hs_error *err);

/*
 * Watch [pa, pa + len) (at most 4 KiB, RAM only): any CPU's store that changes
 * a watched byte, through the identity map (host, EL2 with the MMU off or
 * the idmap) or the hypervisor's mappings of it, stops the machine with
 * HS_STOP_WATCH after the storing instruction has retired: its PC is past
 * it, its registers (e.g. a pre-index base, an STXR status) and memory are
 * updated, and resuming does not repeat it. Unhit, a watchpoint costs only
 * memory hooks on the watched range (no per-instruction hook). Returns the
 * watchpoint id (> 0).
 */
int hs_watch_add(struct hs_machine *m, uint64_t pa, uint64_t len, struct hs_error *err);

/* What a watchpoint stops on (gdb's watch, rwatch, awatch; the remote Z2, Z3, Z4). */
enum hs_watch_kind {
	HS_WATCH_WRITE = 1,  /* a store that changes a watched byte */
	HS_WATCH_READ = 2,   /* any load of a watched byte */
	HS_WATCH_ACCESS = 3, /* any load or store of a watched byte, changing it or not */
};
/*
 * hs_watch_add for any kind. A read stops after the loading instruction has
 * retired too (its destination registers written, its base updated); the
 * value read is in the hit's old_value and new_value. Code that already ran
 * needs no retranslation: loads in it call the hooks as well.
 */
int hs_watch_add_kind(struct hs_machine *m, uint64_t pa, uint64_t len, enum hs_watch_kind kind,
		      struct hs_error *err);
int hs_watch_del(struct hs_machine *m, int id, struct hs_error *err);

struct hs_watch_hit {
	int id;
	unsigned cpu;
	uint64_t pa;		       /* first byte written */
	uint64_t va;		       /* the address the CPU used */
	unsigned size;		       /* bytes stored */
	uint64_t old_value, new_value; /* the stored bytes before and after */
	uint64_t pc;		       /* the accessing instruction (the CPU is now past it) */
	bool read;		       /* a load (old_value == new_value: the value read) */
};
/* The watchpoint that stopped the machine last (NULL if none). */
const struct hs_watch_hit *hs_watch_last_hit(const struct hs_machine *m);

#endif
