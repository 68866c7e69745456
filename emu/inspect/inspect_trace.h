/* SPDX-License-Identifier: MIT */
/*
 * Hypercall trace: subscribes to the machine's events and records, for each
 * hypercall (HS_EV_HVC_ENTER -> HS_EV_HVC_EXIT), its name, arguments, x0/x1,
 * instruction count and the table diff it caused (snapshot at enter, diff at
 * exit), optionally with the checker's violations after it: the same report
 * as hs_check(), from the incremental checker (inspect_check_incr.h), which
 * looks only at what the call wrote. The snapshots come from a live
 * snapshot (inspect_snapshot_live.h): once the machine is booted, each costs
 * what was written since the last one, not the size of RAM. The callbacks
 * only read memory (and open the write log once); they never run the
 * machine. Stop the trace before destroying the machine.
 */
#ifndef HS_INSPECT_TRACE_H
#define HS_INSPECT_TRACE_H

#include "inspect_check.h"
#include "inspect_snapshot.h"
#include "inspect_snapshot_live.h"

#define HS_TRACE_F_DIFF (1u << 0)  /* snapshot + diff around every hypercall */
#define HS_TRACE_F_CHECK (1u << 1) /* run the checker after every hypercall (incrementally) */

struct hs_trace_entry {
	unsigned seq; /* 0, 1, ... */
	unsigned cpu;
	uint64_t fn;
	int nr;		  /* hypercall number, -1 when not ours */
	const char *name; /* static string from the ABI table */
	uint64_t args[6];
	unsigned nargs;
	int64_t x0, x1;
	uint64_t insns;	       /* instructions the call executed */
	uint64_t icount_enter; /* machine instruction count at entry */
	bool completed;	       /* an exit was seen */
	bool has_diff;	       /* the snapshot at entry succeeded */
	struct hs_diff diff;
	bool checked;
	size_t nr_violations;		 /* total found after the call */
	struct hs_violation *violations; /* stored ones (up to HS_TRACE_MAX_VIOLATIONS) */
	size_t nr_stored;
};
#define HS_TRACE_MAX_VIOLATIONS 64

struct hs_trace;

/* Start recording on m (flags: HS_TRACE_F_*). */
int hs_trace_start(struct hs_machine *m, unsigned flags, struct hs_trace **out,
		   struct hs_error *err);
/* Stop recording (unsubscribe) and free everything. */
void hs_trace_stop(struct hs_trace *t);
/* Drop the recorded entries, keep recording. */
void hs_trace_clear(struct hs_trace *t);

/*
 * The trace is bounded: it keeps the last hs_trace_limit() calls (default
 * HS_TRACE_DEFAULT_LIMIT) and drops older ones, a few at a time. Indices
 * and seq numbers are those of the whole run: hs_trace_count() calls were
 * seen, entries hs_trace_first() .. hs_trace_count() - 1 are kept, and
 * hs_trace_get() of a dropped one is NULL.
 */
#define HS_TRACE_DEFAULT_LIMIT 100000
#define HS_TRACE_MAX_LIMIT 100000000u
size_t hs_trace_count(const struct hs_trace *t);
size_t hs_trace_first(const struct hs_trace *t);
const struct hs_trace_entry *hs_trace_get(const struct hs_trace *t, size_t i);
/* Keep at most limit calls (1 .. HS_TRACE_MAX_LIMIT); drops the oldest beyond it now. */
int hs_trace_set_limit(struct hs_trace *t, size_t limit, struct hs_error *err);
size_t hs_trace_limit(const struct hs_trace *t);
/* "(trace truncated: N earlier hypercalls dropped ...)" when some were, else nothing. */
void hs_trace_note(const struct hs_trace *t, struct hs_strbuf *sb);
/* Errors met while recording (snapshot failures), 0 if none; message in *msg. */
int hs_trace_last_error(const struct hs_trace *t, const char **msg);

/* How the trace's snapshots were taken (zeros without HS_TRACE_F_DIFF). */
void hs_trace_snapshot_stats(const struct hs_trace *t, struct hs_snap_live_stats *st);
/*
 * The trace is part of every checkpoint of its machine (hs_trace_start
 * registers it): restoring one puts the entries back as they were then.
 */
int hs_trace_checkpoint_add(struct hs_trace *t, struct hs_error *err);
void hs_trace_checkpoint_remove(struct hs_trace *t);

/* One entry / all entries as text (diff indented under each call) or JSON. */
void hs_trace_entry_text(const struct hs_trace_entry *e, struct hs_strbuf *sb);
void hs_trace_entry_json(const struct hs_trace_entry *e, struct hs_strbuf *sb);
void hs_trace_text(const struct hs_trace *t, struct hs_strbuf *sb);
void hs_trace_json(const struct hs_trace *t, struct hs_strbuf *sb);

#endif
