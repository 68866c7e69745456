/* SPDX-License-Identifier: MIT */
/*
 * Breakpoints: one Unicorn UC_HOOK_CODE hook per address and CPU, with
 * begin = end = the address (then uc_ctl_remove_cache so translated blocks
 * pick the hook up). A symbol breakpoint covers both addresses the CPU may
 * run it at: its PA (idmap / MMU off) and its HYP VA.
 */
#ifndef HS_CLI_BREAKPOINTS_H
#define HS_CLI_BREAKPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include <hypscope/abi.h>

#include "pt_walk.h"

#include "machine.h"

struct cli_bps;

struct cli_bp_hook {
	struct cli_bps *bps;
	int id;
	unsigned cpu;
	uc_hook h;
};

#define CLI_BP_MAX_ADDRS 2

enum cli_bp_kind {
	CLI_BP_CODE,  /* an address (UC_HOOK_CODE) */
	CLI_BP_HVC,   /* a hypercall, at the EL2 vector (hs_break_on_hvc) */
	CLI_BP_EC,    /* an exception class, at the EL2 vector (hs_break_on_ec) */
	CLI_BP_WATCH, /* a watchpoint on physical memory (hs_watch_add) */
};

/* What a watchpoint on a page-table entry knows to decode old and new values. */
struct cli_watch_pte {
	bool on;
	char table[32]; /* "host stage-2", "hyp stage-1", "guest 0x1000 stage-2" */
	uint64_t addr;	/* the input address whose last-level entry is watched */
	int level;
	struct hs_pt_regime regime;
};

struct cli_bp {
	int id; /* < 0: internal (next/finish/until), not listed */
	enum cli_bp_kind kind;
	bool enabled, temp;
	char *spec;	  /* what the user typed */
	uint64_t value;	  /* CLI_BP_HVC: function id; CLI_BP_EC: exception class */
	uint64_t pa, len; /* CLI_BP_WATCH */
	int watch_id;	  /* CLI_BP_WATCH: the machine's id while enabled, else 0 */
	struct cli_watch_pte pte;
	uint64_t addrs[CLI_BP_MAX_ADDRS];
	unsigned naddrs;
	unsigned hits;
	struct cli_bp_hook *hooks; /* naddrs * nr_cpus while enabled, else NULL */
	unsigned nhooks;
};

struct cli_bps {
	struct hs_machine *m;
	struct cli_bp *v;
	size_t n, cap;
	int next_id;
	int next_internal; /* internal breakpoints count down from -1 */
	int hit_id;	   /* id of the breakpoint that stopped the machine last, 0 if none */
	/* Resuming from a breakpoint: ignore its first hit at (cpu, pc). */
	bool skip_armed;
	unsigned skip_cpu;
	uint64_t skip_pc;
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
/*
 * After a stop: work out which breakpoint or watchpoint caused it (sets
 * hit_id; a stop at the EL2 vector is matched with the hypercall in x0 or
 * the class in ESR_EL2). Returns the breakpoint or NULL.
 */
struct cli_bp *cli_bps_classify(struct cli_bps *b, enum hs_stop_reason reason, unsigned cpu,
				uint64_t pc);
int cli_bp_delete(struct cli_bps *b, int id);
int cli_bp_enable(struct cli_bps *b, int id, bool on);
struct cli_bp *cli_bp_find(struct cli_bps *b, int id);
/* Before resuming CPU cpu at pc: step over a breakpoint there. */
void cli_bps_resume(struct cli_bps *b, unsigned cpu, uint64_t pc);
/* After a stop: the breakpoint hit (NULL if none); temporary ones are deleted by the caller. */
struct cli_bp *cli_bps_hit(struct cli_bps *b);

#endif
