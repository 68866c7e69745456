/* SPDX-License-Identifier: MIT */
/* Saved machines in the debugger (cmd_machine_file.c). */
#ifndef HS_CMD_MACHINE_FILE_H
#define HS_CMD_MACHINE_FILE_H

#include "cli.h"

/* `save machine FILE` */
int cli_save_machine(struct cli *c, const char *path);
/* `load machine FILE`, `hypscope --load FILE`: the machine and the session from the file. */
int cli_load_machine(struct cli *c, const char *path);
int cmd_load(struct cli *c, int argc, char **argv);

#endif
