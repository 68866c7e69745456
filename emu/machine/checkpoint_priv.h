/* SPDX-License-Identifier: MIT */
/* Checkpoints inside: shared by checkpoint.c and the files that save and replay them. */
#ifndef HS_CHECKPOINT_PRIV_H
#define HS_CHECKPOINT_PRIV_H

#include "checkpoint.h"
#include "machine_priv.h"

struct ck_cpu {
	uc_context *ctx; /* registers, PSTATE, hflags, system registers */
	uint64_t icount;
	bool online, powered_off, power_on_pending;
	uint64_t power_on_entry, power_on_ctx;
	struct hs_event_exception fault;
};

struct ckpt {
	unsigned id;
	bool automatic;
	bool deleted; /* forgotten, kept while a later one needs its pages */
	struct ckpt *parent;
	struct ckpt *prev, *next; /* the store's list, oldest first (unlinked in O(1)) */
	unsigned nchildren;
	unsigned mark; /* scratch for the common-ancestor search */
	/* RAM: copies of the pages written since the parent (sorted by address) */
	bool full; /* every page that held anything: pages it lacks were zero */
	uint64_t *pa;
	uint8_t *data;
	size_t npages;
	struct ck_cpu cpu[HS_MAX_CPUS];
	/* the machine */
	uint64_t icount, pc;
	unsigned cur;
	struct hs_machine_op op;
	struct hs_stop last_stop;
	bool dead, killed;
	char uart_line[512];
	size_t uart_len;
	void *part_state[HS_CKPT_MAX_PARTS];
};

struct ck_part_reg {
	const struct hs_ckpt_part *p;
	void *ud;
};

struct hs_ckpt_store {
	struct hs_write_log_reader *rd; /* pages written since the base was taken or restored */
	struct ckpt *head, *tail;	/* every checkpoint, oldest first */
	struct ckpt *base;		/* the machine's state is this one plus rd's pages */
	unsigned user_ids, auto_ids, gen;
	struct ck_part_reg parts[HS_CKPT_MAX_PARTS];
	unsigned nparts;
	size_t last_restored_pages; /* pages the last restore rewrote */
};

/* The memory the newest checkpoint uses (hs_checkpoint_stats counts them all, in O(n)). */
uint64_t hs_checkpoint_newest_bytes(const struct hs_machine *m);

#endif
