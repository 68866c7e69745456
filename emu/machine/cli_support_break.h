/* SPDX-License-Identifier: MIT */
/*
 * Support for the debugger's breakpoints (owned by cli/). A breakpoint is a
 * Unicorn UC_HOOK_CODE hook the CLI adds on hs_cpu_engine(); its callback
 * calls hs_cli_break_stop() so that the run loop returns HS_STOP_BREAKPOINT
 * (a bare uc_emu_stop() without a recorded reason is resumed by hs_cpu_run).
 */
#ifndef HS_CLI_SUPPORT_BREAK_H
#define HS_CLI_SUPPORT_BREAK_H

#include <stdint.h>

struct hs_machine;

/*
 * hs_cli_break_stop() - from a code hook at `pc` on CPU `cpu`: record
 * HS_STOP_BREAKPOINT, fix the instruction count (the block hook counted the
 * whole block) and stop the engine before the instruction at pc executes.
 * Return: 0, or -EINVAL for a bad CPU.
 */
int hs_cli_break_stop(struct hs_machine *m, unsigned cpu, uint64_t pc);

#endif
