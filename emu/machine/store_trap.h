/* SPDX-License-Identifier: MIT */
/*
 * Page-granular store traps: the CPU stores that land in watched RAM pages,
 * reported with the exact storing PC, the instruction count and the bytes
 * before and after, while every other store stays on Unicorn's fast path.
 * No memory hook is involved (a UC_HOOK_MEM_WRITE hook sends every load and
 * store of code translated while it exists through the slow path): the
 * interposed TLB functions of uc_fast_stores.c keep the watched pages' TLB
 * entries "not dirty", so QEMU's self-modifying-code check runs for each
 * store to them, and that check is the trap.
 *
 * Users: the page-table store tap (write_log.h: table pages, for the TLB
 * checker and PTE provenance) and write watchpoints. Each user watches its
 * own pages (a page may be watched by several) and gets the stores to its
 * pages only. A trapped store is delivered in two steps:
 * - before: at the trap, before the bytes land (memory still holds the old
 *   ones); `val` is not known yet. A user may hs_machine_request_stop here.
 * - after: once the store retired, with old and new bytes. The trap keeps
 *   one store per CPU pending and delivers it at the next trap, at the start
 *   of the next translated block, before any machine event (so a TLBI or
 *   DSB event always follows the stores before it), before the emulator
 *   writes RAM itself, and when the CPU's run returns
 *   (hs_store_traps_settle). A user that watches more pages because of a
 *   store (a table linked) therefore misses stores to them made later in
 *   the same block only.
 * A user that must stop exactly at a store (a write watchpoint) gives
 * `leave` instead: called first, at the trap, for the whole store; true
 * makes the CPU leave the translated block before the store lands, with the
 * PC at the storing instruction and nothing of it done (the user then stops
 * the machine there and runs the instruction again, alone). A store left so
 * is delivered to nobody: it happens when the instruction runs again. The
 * stores to a page only `leave` users watch cost the trap and that call:
 * no PC recovery, nothing pending.
 * A store wider than 8 bytes (STP, DC ZVA: up to 64) is delivered as its
 * aligned 8-byte pieces; the pieces whose bytes did not change are delivered
 * too (a store of the same value is a store).
 *
 * Traps need the interposition bound on every engine (hs_store_traps_exact);
 * without it, nothing traps and a user falls back to a memory hook (the
 * write log's tap does).
 */
#ifndef HS_STORE_TRAP_H
#define HS_STORE_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "hs_error.h"

struct hs_machine;

enum hs_trap_user {
	HS_TRAP_TABLES, /* page-table pages: the store tap (write_log.h) */
	HS_TRAP_WATCH,	/* write watchpoints */
	HS_TRAP_NR_USERS
};

struct hs_trapped_store {
	unsigned cpu;
	unsigned el;	 /* of the storing code */
	uint64_t pa;	 /* where it lands (the VA is not known: traps see physical pages) */
	unsigned size;	 /* bytes, 1..8 */
	uint64_t old;	 /* bytes at pa before, little-endian */
	uint64_t val;	 /* and after (0 in `before`) */
	uint64_t pc;	 /* the storing instruction; 0 when unknown */
	uint64_t icount; /* machine instruction count at the store (the store included) */
};

struct hs_store_trap_ops {
	/* May be NULL. s->size is the whole store (up to 64), s->pc, old, val and icount are 0. */
	bool (*leave)(void *ud, const struct hs_trapped_store *s);
	void (*before)(void *ud, const struct hs_trapped_store *s); /* may be NULL */
	void (*after)(void *ud, const struct hs_trapped_store *s);  /* may be NULL */
	void *ud;
};

/* Set (ops) or clear (NULL) a user's callbacks; clearing also unwatches its pages. */
void hs_store_trap_set_user(struct hs_machine *m, enum hs_trap_user u,
			    const struct hs_store_trap_ops *ops);
/* Watch (on) or stop watching the RAM page holding pa for user u; -EINVAL when not RAM. */
int hs_store_trap_watch(struct hs_machine *m, enum hs_trap_user u, uint64_t pa, bool on);
/* Does user u watch the page holding pa? */
bool hs_store_trap_watched(const struct hs_machine *m, enum hs_trap_user u, uint64_t pa);
/* Pages user u watches. */
uint64_t hs_store_trap_count(const struct hs_machine *m, enum hs_trap_user u);
/* From `leave`: the PC of the store being trapped on that CPU (0 when unknown). */
uint64_t hs_store_trap_pc(struct hs_machine *m, unsigned cpu);
/* Do stores trap on every CPU? False: users need a memory hook instead. */
bool hs_store_traps_exact(const struct hs_machine *m);
/* Can a trap stop exactly (`leave`)? False: a user that must stop exactly needs a hook. */
bool hs_store_traps_can_leave(const struct hs_machine *m);
/* Deliver the pending stores of every CPU (cheap when none). */
void hs_store_traps_settle(struct hs_machine *m);

struct hs_store_trap_stats {
	uint64_t traps;	     /* stores trapped */
	uint64_t unknown_pc; /* of which the PC could not be recovered */
	uint64_t unwound;    /* PCs found by QEMU's unwinding; the others' sites were remembered */
};
void hs_store_trap_stats(const struct hs_machine *m, struct hs_store_trap_stats *st);

/* machine.c: set up before the CPUs attach, free after they are gone. */
int hs_store_traps_init(struct hs_machine *m, struct hs_error *err);
void hs_store_traps_free(struct hs_machine *m);
/* cpu.c: the engine's trap callbacks (struct hs_quirk_traps) for CPU idx. */
struct hs_quirk_traps;
void hs_store_traps_for_cpu(struct hs_machine *m, unsigned idx, struct hs_quirk_traps *out);

#endif
