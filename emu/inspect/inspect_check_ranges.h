/* SPDX-License-Identifier: MIT */
/*
 * Sorted range arrays for the incremental checker: windows of addresses that
 * changed, and splicing what was read again over a window into an array kept
 * from before, so that the array is what reading everything would give.
 */
#ifndef HS_INSPECT_CHECK_RANGES_H
#define HS_INSPECT_CHECK_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs_chk_window {
	uint64_t start, end;
};

struct hs_chk_windows {
	struct hs_chk_window *w;
	size_t nr, cap;
};

/* Append [start, end) (nothing when empty). 0 or -ENOMEM. */
int hs_chk_windows_add(struct hs_chk_windows *w, uint64_t start, uint64_t end);
/* Sort, and merge windows that overlap or touch. */
void hs_chk_windows_normalise(struct hs_chk_windows *w);
/* Does [a, b) meet a window (normalised windows)? */
bool hs_chk_windows_meet(const struct hs_chk_windows *w, uint64_t a, uint64_t b);

/*
 * A growable array of ranges sorted by address: elements of `size` bytes
 * that begin with uint64_t start, end (struct hs_snap_pt_range and struct
 * hs_snap_vm_range do).
 */
struct hs_chk_array {
	void **v;
	size_t *nr, *cap;
	size_t size;
};

struct hs_chk_splice_ops {
	/* The piece [at, end) of range r into out; non-zero: r cannot be cut there. */
	int (*cut)(void *ctx, const void *r, uint64_t at, uint64_t end, void *out);
	/* Extend l by r (r starting where l ends) when one read of both would have. */
	bool (*merge)(void *l, const void *r);
	void *ctx;
};

struct hs_chk_scratch {
	unsigned char *buf;
	size_t nr, cap; /* elements, bytes */
};

/*
 * hs_chk_splice() - put the ranges nw[0..nn), read over exactly [ws, we), in
 * place of that part of the array: the ranges its edges cut keep their
 * outside pieces, and the seams merge again as one read of everything would
 * merge them. hull (may be NULL): the span of every range taken out or put
 * in. Return: 0, 1 when a range could not be cut, -ENOMEM.
 */
int hs_chk_splice(const struct hs_chk_array *a, uint64_t ws, uint64_t we, const void *nw, size_t nn,
		  const struct hs_chk_splice_ops *ops, struct hs_chk_scratch *sc,
		  struct hs_chk_window *hull);

#endif
