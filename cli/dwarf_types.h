/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's own types and the types of its globals, from the image's
 * DWARF (libdw), as struct cli_type for the expression evaluator: `ptype
 * struct hyp_page`, `p *(struct hyp_page *)ADDR`, `p hyp_vm_table`.
 * Types are converted on first use and cached for the handle's life.
 */
#ifndef HS_CLI_DWARF_TYPES_H
#define HS_CLI_DWARF_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "expr.h"

struct cli_dwarf;

/*
 * Index the DWARF of an ELF image held in memory (the buffer must outlive the
 * handle). 0, or -1 with a message (no debug information is an error too).
 */
int cli_dwarf_open(const void *elf, size_t len, struct cli_dwarf **out, char *err, size_t elen);
void cli_dwarf_close(struct cli_dwarf *d);
/* A named type: tag "struct"/"union"/"enum", or NULL for typedefs and base types. */
const struct cli_type *cli_dwarf_type(struct cli_dwarf *d, const char *tag, const char *name);
/* The type of a global variable or function; NULL when the DWARF has none. */
const struct cli_type *cli_dwarf_var_type(struct cli_dwarf *d, const char *name);
/* The type whose DIE is at offset die_off of .debug_info (a local's); NULL if none. */
const struct cli_type *cli_dwarf_type_at(struct cli_dwarf *d, uint64_t die_off);
/* The name of the ELF section holding a link address (".text"); NULL if none. */
const char *cli_dwarf_section(struct cli_dwarf *d, uint64_t link);

#endif
