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
 * Stop the machine at the next barrier a CPU reaches (reported as
 * HS_STOP_CHECK), as a checker does on a violation. A store hook cannot stop
 * exactly (Unicorn stops only between blocks and would run the block again
 * from its start), a code hook on the barrier can: the barrier has not run,
 * and runs when the machine is resumed. Table updates are followed by
 * barriers, so the stop comes a few instructions after the violation; without
 * one the operation simply completes. Needs the feed on (a checker has it).
 */
void hs_machine_request_stop(struct hs_machine *m);

/* Free the feed (machine destruction). */
void hs_barrier_feed_free(struct hs_machine *m);

#endif
