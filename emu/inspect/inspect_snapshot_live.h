/* SPDX-License-Identifier: MIT */
/*
 * A snapshot kept current: what hs_snapshot_take(m, 0, ...) would return at
 * any moment, at the cost of what was written since the last one rather than
 * of the machine's RAM (a snapshot reads the whole vmemmap, 16 Mi entries
 * with 64 GiB).
 *
 * Until CPU 0 runs the host under its stage 2 with the EL2 MMU on, every
 * take is a fresh snapshot: nothing is hooked, so the boot's own stores stay
 * on Unicorn's fast path. From the first take after that, a write-log reader is open
 * (every CPU store is hooked) and the incremental checker's decoded state
 * (inspect_check_state.h) is brought up to date with the pages it names;
 * whenever that state cannot be updated exactly (the log lost track, CPU 0's
 * translation registers, the memory regions or the VM table changed, a
 * malformed table), the take is a fresh snapshot again.
 */
#ifndef HS_INSPECT_SNAPSHOT_LIVE_H
#define HS_INSPECT_SNAPSHOT_LIVE_H

#include "inspect_snapshot.h"

struct hs_snap_live;

int hs_snap_live_new(struct hs_machine *m, struct hs_snap_live **out, struct hs_error *err);
/* Closes the write-log reader (before hs_machine_destroy). */
void hs_snap_live_free(struct hs_snap_live *l);

/*
 * hs_snap_live_take() - out (initialised; its buffers are reused) becomes
 * the machine's snapshot now, equal to hs_snapshot_take(m, 0, out, err).
 * Only reads memory and opens the write log, so it may run in an event
 * callback outside a CPU run (the hypercall events).
 * Return: 0, or hs_snapshot_take()'s error with err filled.
 */
int hs_snap_live_take(struct hs_snap_live *l, struct hs_snapshot *out, struct hs_error *err);

struct hs_snap_live_stats {
	uint64_t takes, fresh; /* takes, of which fresh snapshots */
	uint64_t pages;	       /* pages the write log named, over all updates */
};
void hs_snap_live_stats(const struct hs_snap_live *l, struct hs_snap_live_stats *st);

#endif
