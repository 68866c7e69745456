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

struct hs_machine;
struct cli_bps;

struct cli_bp_hook {
	struct cli_bps *bps;
	int id;
	unsigned cpu;
	uc_hook h;
};

#define CLI_BP_MAX_ADDRS 2

struct cli_bp {
	int id;
	bool enabled, temp;
	char *spec; /* what the user typed */
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
	int hit_id; /* id of the breakpoint that stopped the machine last, 0 if none */
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
int cli_bp_delete(struct cli_bps *b, int id);
int cli_bp_enable(struct cli_bps *b, int id, bool on);
struct cli_bp *cli_bp_find(struct cli_bps *b, int id);
/* Before resuming CPU cpu at pc: step over a breakpoint there. */
void cli_bps_resume(struct cli_bps *b, unsigned cpu, uint64_t pc);
/* After a stop: the breakpoint hit (NULL if none); temporary ones are deleted by the caller. */
struct cli_bp *cli_bps_hit(struct cli_bps *b);

#endif
