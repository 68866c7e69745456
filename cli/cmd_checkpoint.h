/* SPDX-License-Identifier: MIT */
/* Checkpoints in the debugger (cmd_checkpoint.c). */
#ifndef HS_CMD_CHECKPOINT_H
#define HS_CMD_CHECKPOINT_H

#include "cli.h"

/* The session's history becomes part of the machine's checkpoints (machine creation). */
int cli_checkpoint_attach(struct cli *c);
/* Restore checkpoint id with the session's part; the TLB checker starts over. */
int cli_checkpoint_restore(struct cli *c, unsigned id, struct hs_error *err);
/* `info checkpoints` */
int cli_info_checkpoints(struct cli *c, struct hs_strbuf *sb);
/* `restart N` */
int cli_restart_checkpoint(struct cli *c, const char *arg);
/* `delete checkpoint N...` (argv[1] is "checkpoint") */
int cli_delete_checkpoints(struct cli *c, int argc, char **argv);
int cmd_checkpoint(struct cli *c, int argc, char **argv);

#endif
