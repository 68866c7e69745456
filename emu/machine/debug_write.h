/* SPDX-License-Identifier: MIT */
/*
 * Debugger writes: memory and registers changed by the person at the prompt
 * (`set var`, `set $x0 = ...`, `set {u64} pa:ADDR = V`), like a JTAG probe:
 * memory is written physically, bypassing every stage of translation. Each
 * write is emitted as an HS_EV_DEBUG_WRITE event (the trace records it), is
 * marked in the write log (so the incremental checker re-reads the page) and
 * drops the translated code it overwrites. A system-register write is also
 * emitted as HS_EV_SYSREG_WRITE, so everything that caches a translation
 * regime (the write log's TLB) forgets it.
 */
#ifndef HS_DEBUG_WRITE_H
#define HS_DEBUG_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* Write [pa, pa + len) (RAM only), on behalf of the user at CPU cpu's prompt. */
int hs_debug_write(struct hs_machine *m, unsigned cpu, uint64_t pa, const void *buf, size_t len,
		   struct hs_error *err);

enum hs_debug_reg {
	HS_DBG_REG_NONE,
	HS_DBG_REG_PC,
	HS_DBG_REG_SP, /* the SP of the current exception level and SPSel */
	HS_DBG_REG_X29,
	HS_DBG_REG_X30,
	HS_DBG_REG_PSTATE, /* NZCV, DAIF, EL and SPSel as PSTATE holds them */
};

int hs_debug_set_xreg(struct hs_machine *m, unsigned cpu, unsigned n, uint64_t v,
		      struct hs_error *err);
int hs_debug_set_special(struct hs_machine *m, unsigned cpu, enum hs_debug_reg r, uint64_t v,
			 struct hs_error *err);
int hs_debug_set_sysreg(struct hs_machine *m, unsigned cpu, enum hs_sysreg r, uint64_t v,
			struct hs_error *err);

#endif
