/* SPDX-License-Identifier: MIT */
/*
 * gdb habits around the command table: blocks of lines ending with `end`
 * (`commands N`, `define NAME`), user-defined commands with $arg0..$argN and
 * $argc, `source FILE`, `shell CMD`, `> FILE` / `>> FILE` after a command,
 * and pagination of long output on a terminal.
 */
#ifndef HS_CLI_USER_CMDS_H
#define HS_CLI_USER_CMDS_H

#include <stdbool.h>
#include <stddef.h>

struct cli;

enum cli_collect_kind {
	CLI_COLLECT_NONE,
	CLI_COLLECT_COMMANDS, /* commands N ... end */
	CLI_COLLECT_DEFINE,   /* define NAME ... end */
};

/* What a collected block becomes at its `end` (the lines are the callee's to keep). */
typedef void (*cli_collect_done_fn)(struct cli *c, int id, char **lines, size_t n);
/*
 * Start collecting lines until `end` (nested blocks counted); done receives them
 * (breakpoint commands, a user-defined command: the collector knows neither).
 * Returns 0.
 */
int cli_collect_start(struct cli *c, enum cli_collect_kind kind, int id, const char *name,
		      cli_collect_done_fn done);
/* True while a block is being collected (the REPL then prompts with ">"). */
bool cli_collecting(const struct cli *c);
/* Give the collector a line (cli_exec_line does, while collecting). */
int cli_collect_line(struct cli *c, const char *line);

/* A user-defined command by name, run with its arguments; -2 when there is none. */
int cli_user_cmd_run(struct cli *c, int argc, char **argv);
bool cli_user_cmd_exists(const struct cli *c, const char *name);
void cli_user_cmds_free(struct cli *c);

/*
 * `CMD ... > FILE` / `>> FILE`: split the redirection off the line (not for
 * commands whose arguments are expressions, where > compares). Returns the
 * file name (in buf) and sets *append, or NULL when the line has none.
 */
const char *cli_redirect_split(struct cli *c, char *line, bool *append);
/* Run line with stdout sent to file; -1 with a message when it cannot be opened. */
int cli_exec_redirected(struct cli *c, const char *line, const char *file, bool append);
/* In the REPL on a terminal: run line, paging its output when longer than the screen. */
int cli_exec_paged(struct cli *c, const char *line);

/*
 * One line typed at the prompt: an empty line repeats the last stepping or
 * examining command (x continues after what it showed); long output is paged.
 */
int cli_repl_line(struct cli *c, const char *line);

int cmd_define(struct cli *c, int argc, char **argv);
int cmd_source(struct cli *c, int argc, char **argv);
int cmd_shell(struct cli *c, int argc, char **argv);

#endif
