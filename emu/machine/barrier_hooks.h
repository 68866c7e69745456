/* SPDX-License-Identifier: MIT */
/*
 * The barrier feed: HS_EV_BARRIER for every DSB, DMB and ISB the hypervisor
 * executes, on any CPU, without a hook on every instruction.
 *
 * The hypervisor image's executable segments are disassembled once (Capstone)
 * and each barrier gets a single-address code hook at every address the CPUs
 * run it from: its PA (the idmap page, code before the MMU is on) and its HYP
 * VA. Only those instructions call back, so the feed costs nothing elsewhere.
 * The hooks go in with the first user and out with the last; code translated
 * before they went in is dropped from Unicorn's cache so it calls them too.
 */
#ifndef HS_BARRIER_HOOKS_H
#define HS_BARRIER_HOOKS_H

#include "machine.h"

/* Start the feed for one more user (the hooks go in with the first one). */
int hs_barrier_feed_get(struct hs_machine *m, struct hs_error *err);
/* One user less; the hooks go with the last. */
void hs_barrier_feed_put(struct hs_machine *m);
/* Barrier instructions found in the image (0 before the first get). */
size_t hs_barrier_feed_count(const struct hs_machine *m);
/* "dsb ish", "isb", "dmb ishst" ...: the barrier's assembler spelling. */
const char *hs_barrier_name(unsigned kind, unsigned option, char *buf, size_t len);

/*
 * Stop the CPU that is running now at the end of its current block, as a
 * checker does on a violation (reported as HS_STOP_CHECK). Safe to call from
 * an event subscriber; does nothing when no CPU runs.
 */
void hs_machine_request_stop(struct hs_machine *m);

/* Free the feed (machine destruction). */
void hs_barrier_feed_free(struct hs_machine *m);

#endif
