/* SPDX-License-Identifier: MIT */
/*
 * The debugger's list of breakpoints and watchpoints: what the user typed,
 * ids, hit counts, temporary and internal ones. The machine does the work
 * (emu/machine/code_breakpoints.h for code, debug.h for hypercall, exception
 * and watchpoints); this file never touches a Unicorn hook.
 */
#ifndef HS_CLI_BREAKPOINTS_H
#define HS_CLI_BREAKPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hypscope/abi.h>

#include "pt_translate.h"
#include "pt_walk.h"

#include "debug.h"
#include "machine.h"

#define CLI_BP_MAX_ADDRS 2

enum cli_bp_kind {
	CLI_BP_CODE,  /* an address (hs_break_add) */
	CLI_BP_HVC,   /* a hypercall, at the EL2 vector (hs_break_on_hvc) */
	CLI_BP_EC,    /* an exception class, at the EL2 vector (hs_break_on_ec) */
	CLI_BP_WATCH, /* a watchpoint on physical memory (hs_watch_add) */
};

/*
 * A watchpoint on the page-table entry that translates an address (`watch pte`).
 * It follows the walk, as gdb's watch of `*p->q` follows its pointers: every
 * descriptor on addr's walk is watched, from the root to the one that decides,
 * and after each hit the walk is taken again (a table linked below the old
 * leaf, or a table replaced by a block, moves the watch with it).
 */
struct cli_watch_pte {
	bool on;
	char table[32]; /* "host stage-2", "hyp stage-1", "guest 0x1000 stage-2" */
	uint64_t addr;	/* the input address whose walk is watched */
	int level;	/* of the entry that decides (the walk's last) */
	struct hs_pt_regime regime;
	/* The walk as armed, from the root down: [nr - 1] is bp->pa. */
	unsigned nr;
	int levels[HS_PT_MAX_STEPS];
	uint64_t desc_pa[HS_PT_MAX_STEPS];
	int watch_ids[HS_PT_MAX_STEPS]; /* the machine's watchpoints on them, while armed */
	/* The entry the last hit stored to (cli_bps_classify): level and PA. */
	int hit_level;
	uint64_t hit_pa;
};

struct cli_bp {
	int id; /* < 0: internal (next/finish/until), not listed */
	enum cli_bp_kind kind;
	bool enabled, temp;
	char *spec;		   /* what the user typed */
	uint64_t value;		   /* CLI_BP_HVC: function id; CLI_BP_EC: exception class */
	uint64_t pa, len;	   /* CLI_BP_WATCH */
	int watch_id;		   /* CLI_BP_WATCH: the machine's id while enabled, else 0 */
	enum hs_watch_kind access; /* CLI_BP_WATCH: watch, rwatch or awatch */
	struct cli_watch_pte pte;
	uint64_t addrs[CLI_BP_MAX_ADDRS]; /* CLI_BP_CODE: as shown (PA, HYP VA) */
	unsigned naddrs;
	int break_id; /* CLI_BP_CODE: the machine's breakpoint id */
	unsigned hits;
	/*
	 * Put there by a gdb client (Z0/Z1, gdb_bps.c): gdb prints its stops in
	 * its own words and numbering, so the REPL's report would be noise.
	 */
	bool silent;
};

struct cli_bps {
	struct hs_machine *m;
	struct cli_bp *v;
	size_t n, cap;
	int next_id;
	int next_internal; /* internal breakpoints count down from -1 */
	int hit_id;	   /* id of the breakpoint that stopped the machine last, 0 if none */
};

void cli_bps_init(struct cli_bps *b, struct hs_machine *m);
void cli_bps_fini(struct cli_bps *b);
/* Add a breakpoint at addrs; returns its id (> 0) or a negative code with msg. */
int cli_bp_add(struct cli_bps *b, const char *spec, const uint64_t *addrs, unsigned naddrs,
	       bool temp, char *msg, size_t len);
/* Internal breakpoint (not listed): 0 and its (negative) id in *id, or an error. */
int cli_bp_add_internal(struct cli_bps *b, uint64_t addr, int *id, char *msg, size_t len);
/* Delete every internal breakpoint. */
void cli_bps_drop_internal(struct cli_bps *b);
/* A hypercall (function id fn) or exception-class (ec) breakpoint at the EL2 vector. */
int cli_bp_add_vector(struct cli_bps *b, const char *spec, enum cli_bp_kind kind, uint64_t value,
		      bool temp, char *msg, size_t len);
/* A watchpoint on [pa, pa+len); pte (may be NULL) says how to decode the values. */
int cli_bp_add_watch(struct cli_bps *b, const char *spec, uint64_t pa, uint64_t len,
		     const struct cli_watch_pte *pte, char *msg, size_t len_msg);
/* The same for a read (rwatch) or access (awatch) watchpoint too. */
int cli_bp_add_watch_kind(struct cli_bps *b, const char *spec, uint64_t pa, uint64_t len,
			  enum hs_watch_kind kind, const struct cli_watch_pte *pte, char *msg,
			  size_t len_msg);
/*
 * After a stop: work out which breakpoint or watchpoint caused it (sets
 * hit_id; a stop at the EL2 vector is matched with the hypercall in x0 or
 * the class in ESR_EL2). Returns the breakpoint or NULL.
 */
struct cli_bp *cli_bps_classify(struct cli_bps *b, const struct hs_stop *s);
/*
 * The machine went elsewhere in time (restart N, reverse-stepi/step/next):
 * page-table watchpoints take their walk again, as the tables are there.
 */
void cli_bps_follow_walks(struct cli_bps *b);
/*
 * The user watchpoint a watch stop is of (0: none), changing nothing (classify
 * re-arms a pte watchpoint on the walk as the store left it).
 */
int cli_bps_watch_id(const struct cli_bps *b, const struct hs_stop *s);
/*
 * The machine was replaced (restart): arm every enabled breakpoint and
 * watchpoint on m again; internal ones are dropped. Returns how many could
 * not be armed (they are disabled, and said so in msg).
 */
int cli_bps_rebind(struct cli_bps *b, struct hs_machine *m, char *msg, size_t len);
int cli_bp_delete(struct cli_bps *b, int id);
int cli_bp_enable(struct cli_bps *b, int id, bool on);
struct cli_bp *cli_bp_find(struct cli_bps *b, int id);
/* The highest breakpoint number in use (gdb's $bpnum, the default of `commands`), or 0. */
int cli_bps_newest(const struct cli_bps *b);
/* After a stop: the breakpoint hit (NULL if none); temporary ones are deleted by the caller. */
struct cli_bp *cli_bps_hit(struct cli_bps *b);

#endif
