/* SPDX-License-Identifier: MIT */
/* Record and reverse execution in the debugger (cmd_reverse.c). */
#ifndef HS_CMD_REVERSE_H
#define HS_CMD_REVERSE_H

#include "cli.h"

int cmd_record(struct cli *c, int argc, char **argv);
int cmd_reverse_stepi(struct cli *c, int argc, char **argv);
int cmd_reverse_continue(struct cli *c, int argc, char **argv);
/*
 * Go back to the last breakpoint or watchpoint hit after machine count `after`
 * (0: anywhere in the history) that counts by gdb's rules (conditions, ignore
 * counts), and report it as a stop: *stopped. Nothing found: the machine stays.
 */
int cli_reverse_to_hit(struct cli *c, uint64_t after, bool *stopped, struct hs_error *err);
/* cmd_reverse_step.c */
int cmd_reverse_nexti(struct cli *c, int argc, char **argv);
int cmd_reverse_step(struct cli *c, int argc, char **argv);
int cmd_reverse_next(struct cli *c, int argc, char **argv);
int cmd_reverse_finish(struct cli *c, int argc, char **argv);
/* `info record` */
int cli_info_record(struct cli *c, struct hs_strbuf *sb);

#endif
