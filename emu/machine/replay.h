/* SPDX-License-Identifier: MIT */
/*
 * Record and reverse execution (gdb's `record`, `reverse-stepi`,
 * `reverse-continue` ...). The machine is deterministic, so going back to
 * instruction T is: restore the latest checkpoint of the current history
 * taken at or before T, and run forward until the machine has executed T
 * instructions (whole blocks while far, then single steps). `record` keeps
 * the checkpoints that makes cheap: one when an operation starts running (a
 * host operation is an input from outside the machine: replay never has to
 * repeat one) and one every HS_RECORD_INTERVAL instructions.
 *
 * The timeline is the machine's instruction count (all CPUs: one runs at a
 * time), so "back one instruction" is back one instruction of whichever CPU
 * ran it.
 */
#ifndef HS_REPLAY_H
#define HS_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "debug.h"
#include "machine.h"

#define HS_RECORD_INTERVAL 1000000ULL /* instructions between record's checkpoints */
/*
 * How much history record keeps. The newest `dense` checkpoints stay as
 * taken; older ones taken inside an operation (every HS_RECORD_INTERVAL) are
 * thinned out with age, about dense / 2 per doubling of the history (a replay
 * into a thinned interval starts from the checkpoint before it: as exact,
 * longer); those at an operation's start always stay (its input is not
 * replayed). Past max_bytes of checkpoints (0: no bound) the oldest history
 * is dropped, as gdb's record full does at insn-number-max.
 */
struct hs_record_limits {
	unsigned dense;
	uint64_t max_bytes;
};
#define HS_RECORD_DENSE 64
#define HS_RECORD_MAX_BYTES (1ULL << 30)
/* While recording; -EINVAL when not, or dense is 0. */
int hs_record_set_limits(struct hs_machine *m, const struct hs_record_limits *lim,
			 struct hs_error *err);

/* Start recording (a checkpoint now); -EBUSY if it already is. */
int hs_record_start(struct hs_machine *m, struct hs_error *err);
/* Stop recording and forget record's checkpoints. */
void hs_record_stop(struct hs_machine *m);
struct hs_record_info {
	bool active;
	uint64_t first_icount; /* where the recorded history starts */
	uint64_t now;	       /* the machine's count */
	size_t checkpoints;    /* record's own */
	uint64_t folded;       /* thinned out (their intervals replay from the one before) */
	uint64_t dropped;      /* the oldest, dropped by the memory bound (first_icount moved) */
	struct hs_record_limits limits;
};
void hs_record_info(const struct hs_machine *m, struct hs_record_info *info);

/*
 * Put the machine where it was after `target` instructions of the current
 * history (hs_machine_icount() == target), breakpoints and watchpoints not
 * stopping it on the way. -ERANGE when target is not in the recorded history
 * (before its start, or in the future).
 */
int hs_replay_to(struct hs_machine *m, uint64_t target, struct hs_error *err);

/* One stop a scan of the history met (a breakpoint or a watchpoint). */
struct hs_replay_hit {
	uint64_t icount; /* the machine's count at the stop */
	struct hs_stop stop;
	bool have_watch;
	struct hs_watch_hit watch;
	int tag; /* the filter's (its breakpoint, say) */
};
/*
 * Which stops count going backwards (gdb's conditions and ignore counts). NULL
 * or a NULL member: every stop counts.
 */
struct hs_replay_filter {
	/*
	 * At a stop during the scan, the machine as the stop left it (a condition
	 * reads it as a forward stop would): does it count? *tag is kept in the hit.
	 */
	bool (*holds)(void *ud, struct hs_machine *m, const struct hs_stop *s, int *tag);
	/*
	 * The stops that count, newest first: is this the one to go to? (false:
	 * passed, as an ignore count passes a hit).
	 */
	bool (*take)(void *ud, const struct hs_replay_hit *hit);
	void *ud;
	/*
	 * Hits at or before this count do not count, and the scan stops there
	 * (reverse-next: only the stretch it un-executes); 0: the whole history.
	 */
	uint64_t after;
};
/*
 * The last stop (breakpoint, watchpoint) before the present the filter takes,
 * searching the recorded history backwards; false when there is none. The
 * machine is left where it was.
 */
int hs_replay_last_hit(struct hs_machine *m, const struct hs_replay_filter *f,
		       struct hs_replay_hit *hit, bool *found, struct hs_error *err);

/*
 * Go to a hit hs_replay_last_hit found, the machine as that stop left it (a
 * breakpoint before its instruction, a watchpoint with its store just
 * retired), with hs_last_stop() and hs_watch_last_hit() saying so.
 */
int hs_replay_goto_hit(struct hs_machine *m, const struct hs_replay_hit *hit, struct hs_error *err);

/* One instruction of the history, as it was about to run. */
struct hs_replay_insn {
	uint64_t pc, sp; /* sp: the SP the instruction saw (SP_ELx of its EL) */
	unsigned cpu;
};
/* The instructions from `start` (the machine's count before insns[0]) to the present. */
struct hs_replay_span {
	uint64_t start;
	size_t n;
	struct hs_replay_insn *insns;
};
/*
 * Every instruction of the current history from the latest checkpoint at or
 * before `from` up to the present, replayed one by one (reverse-step and its
 * kin decide from them where to go); the machine is back at the present after
 * it, exactly. -ERANGE when `from` is before the recorded history.
 */
int hs_replay_span(struct hs_machine *m, uint64_t from, struct hs_replay_span *span,
		   struct hs_error *err);
void hs_replay_span_free(struct hs_replay_span *span);
/* Where record's history starts (0 when not recording). */
uint64_t hs_replay_history_start(const struct hs_machine *m);

#endif
