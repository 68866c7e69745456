/* SPDX-License-Identifier: MIT */
/* Breakpoint stops for the debugger (see cli_support_break.h). Owned by cli/. */
#include "cli_support_break.h"

#include <errno.h>

#include "machine_priv.h"

int hs_cli_break_stop(struct hs_machine *m, unsigned cpu, uint64_t pc)
{
	if (!m || cpu >= m->nr_cpus)
		return -EINVAL;
	struct hs_cpu *c = &m->cpus[cpu];
	hs_cpu_cut_block(c, pc);
	if (c->stop == HS_STOP_NONE)
		c->stop = HS_STOP_BREAKPOINT;
	uc_emu_stop(c->uc);
	return 0;
}
