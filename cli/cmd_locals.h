/* SPDX-License-Identifier: MIT */
/* The selected frame's arguments and locals from DWARF (cmd_locals.c). */
#ifndef HS_CLI_CMD_LOCALS_H
#define HS_CLI_CMD_LOCALS_H

#include <stdbool.h>
#include <stddef.h>

#include "dwarf_types.h"
#include "expr.h"
#include "image_locals.h"

#define CLI_MAX_VARS 128

struct cli;

/* The selected frame's variables (params or locals); -1 when its function has no DWARF. */
int cli_frame_vars(struct cli *c, bool params, struct hs_var *out, unsigned max);
/* The value of variable v with its DWARF type; false when it cannot be shown (optimized out). */
bool cli_var_value(struct cli_dwarf *d, const struct hs_var *v, struct cli_value *out);
/*
 * A variable of the selected frame by name: 0 with its value, 1 when there is
 * none of that name, -1 with err when it is optimized out.
 */
int cli_local_value(struct cli *c, struct cli_dwarf *d, const char *name, struct cli_value *out,
		    char *err, size_t len);

#endif
