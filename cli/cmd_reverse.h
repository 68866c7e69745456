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
/*
 * After a replay to a count: a breakpoint at the instruction the machine
 * arrived at is hit there, as gdb reports a reverse step landing on one (its
 * condition and ignore count permitting); then it is reported and true.
 * *s: the stop, for the caller to report otherwise.
 */
bool cli_reverse_landed(struct cli *c, struct hs_stop *s);
/* cmd_reverse_step.c */
int cmd_reverse_nexti(struct cli *c, int argc, char **argv);
int cmd_reverse_step(struct cli *c, int argc, char **argv);
int cmd_reverse_next(struct cli *c, int argc, char **argv);
int cmd_reverse_finish(struct cli *c, int argc, char **argv);
/* `info record` */
int cli_info_record(struct cli *c, struct hs_strbuf *sb);

#endif
