/* SPDX-License-Identifier: MIT */
/*
 * gdb's breakpoint control on top of the breakpoints and watchpoints the
 * session has (whoever stores them): a condition (`break X if EXPR`,
 * `condition N EXPR`), an ignore count (`ignore N COUNT`), commands run at
 * each stop (`commands N ... end`) and `save breakpoints FILE`. Everything is
 * keyed by the breakpoint's number and decided after the machine stopped: a
 * stop whose condition is false (or that is ignored) is resumed at once.
 */
#ifndef HS_CLI_BP_CONTROL_H
#define HS_CLI_BP_CONTROL_H

#include <stdbool.h>

#include "strbuf.h"

struct cli;

/* What a breakpoint carries besides its location (one per numbered breakpoint). */
struct cli_bpx {
	int id;
	char *line; /* the command that made it, for `save breakpoints` */
	char *cond; /* NULL: always stop */
	unsigned ignore;
	char **cmds; /* `commands` lines */
	size_t ncmds;
};

/*
 * A user breakpoint id stopped the machine: false when the stop is to be
 * resumed (its condition is false, or its ignore count is not used up).
 * A condition that cannot be evaluated stops, with the error printed.
 */
bool cli_bpx_should_stop(struct cli *c, int id);
/* Its two halves, for reverse-continue, which meets hits in another order. */
/* Is breakpoint id's condition true now (no condition: true)? */
bool cli_bpx_condition_holds(struct cli *c, int id);
/* A hit whose condition held: false when its ignore count passes it (one used up). */
bool cli_bpx_take_hit(struct cli *c, int id);
/* After a command that ran the machine: the commands of the breakpoint that stopped it. */
void cli_bpx_run_commands(struct cli *c);
/* `info breakpoints`: the lines under breakpoint id (condition, ignore count, commands). */
void cli_bpx_info(struct cli *c, int id, struct hs_strbuf *sb);
/* Remember the command line that created breakpoint id (without its `if COND`). */
void cli_bpx_created(struct cli *c, int id, const char *line, const char *cond);
/* Forget everything (machine recreated: the breakpoints are gone). */
void cli_bpx_clear(struct cli *c);
/* The lines of a `commands` block (the collector calls it at `end`). */
void cli_bpx_set_commands(struct cli *c, int id, char **lines, size_t n);

/*
 * `break ... if COND`: the index of the word "if" in argv (0: none). The
 * condition is the raw text after it.
 */
int cli_bpx_if_word(int argc, char **argv);

int cmd_condition(struct cli *c, int argc, char **argv);
int cmd_ignore(struct cli *c, int argc, char **argv);
int cmd_commands(struct cli *c, int argc, char **argv);
int cmd_save(struct cli *c, int argc, char **argv);

#endif
