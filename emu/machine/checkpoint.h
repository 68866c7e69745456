/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints: the whole machine at one instant, kept in memory so that
 * hs_checkpoint_restore() puts it back exactly (gdb's `checkpoint` and
 * `restart N`).
 *
 * RAM is kept by page through the write log: the first checkpoint copies the
 * pages that hold anything (a page the process never touched is zero), and
 * every later one copies only the pages written since the checkpoint before
 * it. Checkpoints form a tree (restoring an old one and running on starts a
 * new branch); a page's content at checkpoint k is the copy in the nearest
 * of k and its ancestors that holds one. Restoring writes only the pages
 * that differ between the current state and the target, drops the
 * translated code on exactly those pages, and tells the write log's other
 * readers (the incremental checker) they changed.
 *
 * Every CPU: its Unicorn context (registers, PSTATE, the cached hflags, every
 * system register), its instruction count and power state; the machine's
 * pending operation, last stop and UART line. Software above the machine (the
 * host model, the debugger's history) registers a part (struct
 * hs_ckpt_part) whose state is saved and restored with it. Breakpoints and
 * watchpoints are not part of a checkpoint: they stay as they are.
 */
#ifndef HS_CHECKPOINT_H
#define HS_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* A growing byte buffer (a part's state in a saved machine) and a bounded reader of one. */
struct hs_bytes {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};
void hs_bytes_put(struct hs_bytes *b, const void *p, size_t n);
void hs_bytes_free(struct hs_bytes *b);
struct hs_bytes_in {
	const uint8_t *p;
	size_t len, off;
	bool short_read; /* a get went past the end: the data is corrupt */
};
/* Copy n bytes out (zeroes past the end, and short_read set). */
void hs_bytes_get(struct hs_bytes_in *in, void *out, size_t n);

/* State of a layer above the machine, saved and restored with every checkpoint. */
struct hs_ckpt_part {
	const char *name; /* also its section's name in a saved machine (at most 15 chars) */
	/* A copy of the state (NULL with *err filled on failure). */
	void *(*save)(void *ud, struct hs_error *err);
	/* Put a copy back (the copy stays owned by the checkpoint). */
	int (*restore)(void *ud, const void *state, struct hs_error *err);
	void (*free)(void *state);
	/*
	 * Saved machines (machine_file.h): the live state as bytes, and back
	 * from bytes that may be hostile (refuse with a message, change nothing).
	 * NULL: the part is not saved in files.
	 */
	int (*encode)(void *ud, struct hs_bytes *out, struct hs_error *err);
	int (*decode)(void *ud, const uint8_t *p, size_t len, struct hs_error *err);
};
/* Register (or drop) a part; at most HS_CKPT_MAX_PARTS. */
#define HS_CKPT_MAX_PARTS 8
int hs_checkpoint_add_part(struct hs_machine *m, const struct hs_ckpt_part *p, void *ud,
			   struct hs_error *err);
void hs_checkpoint_remove_part(struct hs_machine *m, const struct hs_ckpt_part *p, void *ud);

struct hs_checkpoint_info {
	unsigned id;	   /* 1, 2, ... as `info checkpoints` numbers them */
	bool automatic;	   /* kept by `record`, not asked for by the user */
	uint64_t icount;   /* machine instructions when it was taken */
	unsigned cpu;	   /* the selected CPU then */
	uint64_t pc;	   /* its PC */
	uint64_t pages;	   /* RAM pages this checkpoint holds a copy of */
	unsigned parent;   /* the checkpoint it was taken after (0: none) */
	bool current_base; /* the machine's state descends from it */
};

/*
 * Take a checkpoint (automatic: for record, not listed as the user's); its id
 * in *id. Refused on a dump, a dead machine.
 */
int hs_checkpoint_take(struct hs_machine *m, bool automatic, unsigned *id, struct hs_error *err);
/* Put the machine back as it was at checkpoint id. */
int hs_checkpoint_restore(struct hs_machine *m, unsigned id, struct hs_error *err);
/* Forget checkpoint id (its pages live on in the checkpoints after it). */
int hs_checkpoint_delete(struct hs_machine *m, unsigned id, struct hs_error *err);
/*
 * Thin record's history: forget automatic checkpoint id, its RAM merged into
 * its only child (whose copies win), so that every other checkpoint restores
 * exactly as before and a replay to a count in between starts from the one
 * before it. -EBUSY when it is the machine's base or has not exactly one child.
 */
int hs_checkpoint_fold(struct hs_machine *m, unsigned id, struct hs_error *err);
/* Forget every automatic checkpoint (record stop). */
void hs_checkpoint_delete_automatic(struct hs_machine *m);
/* Checkpoints in id order into out[0..max); returns how many exist. */
size_t hs_checkpoint_list(const struct hs_machine *m, bool automatic,
			  struct hs_checkpoint_info *out, size_t max);
/* The info of one checkpoint; false when there is none with that id. */
bool hs_checkpoint_get(const struct hs_machine *m, unsigned id, struct hs_checkpoint_info *out);

struct hs_checkpoint_stats {
	size_t checkpoints; /* live, hidden (deleted but still needed) included */
	uint64_t pages;	    /* RAM pages copied, all checkpoints */
	uint64_t bytes;	    /* memory they use, contexts and parts included */
};
void hs_checkpoint_stats(const struct hs_machine *m, struct hs_checkpoint_stats *st);

/* Free every checkpoint (machine destruction). */
void hs_checkpoint_free_all(struct hs_machine *m);

#endif
