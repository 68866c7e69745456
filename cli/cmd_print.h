/* SPDX-License-Identifier: MIT */
/* The expression evaluator bound to a session (cmd_print.c). */
#ifndef HS_CLI_CMD_PRINT_H
#define HS_CLI_CMD_PRINT_H

#include "debug_write.h"
#include "expr.h"

struct cli;

/* The evaluator's view of the session's machine (current CPU). */
void cli_expr_ops_of(struct cli *c, struct cli_expr_ops *ops);
/* Evaluate text; errors are reported (with the column base_col + offset when > 0). */
/* A register `$NAME` reads (x0-x30, w0-w30, pc, sp, fp, lr, pstate, cpsr, system registers). */
bool cli_is_register_name(const char *name);
int cli_expr_eval_line(struct cli *c, const char *text, int base_col, struct cli_value *out);
/*
 * The text of argument i to the end of the line as typed (spacing and quotes
 * kept, a trailing comment dropped), for commands that take an expression.
 */
const char *cli_raw_args(struct cli *c, int argc, char **argv, int i, char *buf, size_t len);
/* The machine is going: drop the DWARF, types and every value holding one. */
void cli_expr_machine_gone(struct cli *c);
void cli_expr_free(struct cli *c);
/* Print the `display` expressions (after a stop). */
void cli_show_displays(struct cli *c);
int cli_info_display(struct cli *c, struct hs_strbuf *sb);
int cli_info_symbol(struct cli *c, const char *text, int col, struct hs_strbuf *sb);
/* `info args`, `info locals` of the selected frame. */
int cli_info_args(struct cli *c, struct hs_strbuf *sb);
int cli_info_locals(struct cli *c, struct hs_strbuf *sb);
int cli_info_line(struct cli *c, int argc, char **argv, struct hs_strbuf *sb);

#endif
