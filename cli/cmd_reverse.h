/* SPDX-License-Identifier: MIT */
/* Record and reverse execution in the debugger (cmd_reverse.c). */
#ifndef HS_CMD_REVERSE_H
#define HS_CMD_REVERSE_H

#include "cli.h"

int cmd_record(struct cli *c, int argc, char **argv);
int cmd_reverse_stepi(struct cli *c, int argc, char **argv);
int cmd_reverse_continue(struct cli *c, int argc, char **argv);
/* cmd_reverse_step.c */
int cmd_reverse_nexti(struct cli *c, int argc, char **argv);
int cmd_reverse_step(struct cli *c, int argc, char **argv);
int cmd_reverse_next(struct cli *c, int argc, char **argv);
int cmd_reverse_finish(struct cli *c, int argc, char **argv);
/* `info record` */
int cli_info_record(struct cli *c, struct hs_strbuf *sb);

#endif
