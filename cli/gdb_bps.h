/* SPDX-License-Identifier: MIT */
/*
 * gdb's breakpoints and watchpoints (Z/z packets) on the debugger's own
 * (cli/breakpoints.h): what gdb inserted, by Z type and address, and the
 * debugger's id for each, so a stop can be named in the stop reply and a
 * detach leaves nothing of gdb's behind.
 */
#ifndef HS_GDB_BPS_H
#define HS_GDB_BPS_H

#include <stdbool.h>
#include <stdint.h>

#include "gdb_packet.h"
#include "strbuf.h"

struct cli;

#define GDB_MAX_BPS 64

/* Z packet types. */
enum gdb_bp_type {
	GDB_BP_SW,
	GDB_BP_HW,
	GDB_BP_WRITE, /* watch */
	GDB_BP_READ,  /* rwatch */
	GDB_BP_ACCESS /* awatch */
};

struct gdb_bp {
	bool used;
	/*
	 * Watchpoints: what gdb wants, applied at the next resume. gdb removes
	 * and reinserts every watchpoint at every stop; nothing runs in between,
	 * so the machine cannot tell the difference, and a watchpoint gdb
	 * reinserts unchanged keeps its state.
	 */
	bool want;
	enum gdb_bp_type type;
	uint64_t addr, len;
	uint64_t pa; /* watchpoints: the PA watched */
	int cli_id;  /* the debugger's id (0: a watchpoint not armed yet) */
};

struct gdb_bps {
	struct gdb_bp v[GDB_MAX_BPS];
};

/*
 * gdb_bps_insert() - what a Z packet asks, for the thread of cpu (phys: gdb's
 * addresses are physical). Code breakpoints also cover the instruction's
 * other alias (PA or HYP VA); watchpoints watch the PA the address has now.
 * Return: 0 (answer OK), 1 when the type is not supported (answer ""), -1 on
 * an error (E01).
 */
int gdb_bps_insert(struct gdb_bps *b, struct cli *c, unsigned cpu, bool phys,
		   const struct gdb_req *q);
/* A z packet: remove what gdb inserted at q->addr with q->bp_type (nothing if none). */
void gdb_bps_remove(struct gdb_bps *b, struct cli *c, const struct gdb_req *q);
/* Before a run: arm the watchpoints gdb inserted, drop those it removed; failures go to msgs. */
void gdb_bps_sync(struct gdb_bps *b, struct cli *c, struct hs_strbuf *msgs);
/* Delete everything gdb inserted (detach, kill, a client gone). */
void gdb_bps_clear(struct gdb_bps *b, struct cli *c);
/* What gdb inserted that has the debugger's id (NULL if nothing). */
const struct gdb_bp *gdb_bps_by_cli_id(const struct gdb_bps *b, int id);

#endif
