/* SPDX-License-Identifier: MIT */
/*
 * The image's line tables as gdb builds them, so that hypscope answers
 * "which line is this address" exactly as gdb does on the same ELF (gdb is
 * the oracle its users compare with: tests/gdb_lines_test.py).
 *
 * gdb does not keep DWARF's rows as they are. Per compilation unit it keeps
 * one table per source file (a "symtab": the unit's own file, and each header
 * whose inline code it holds), ends a file's run with an END marker where the
 * program switches to another file, drops a non-statement row that switches
 * files at an address that already has a statement, drops the rows an END
 * marker lands on, and sorts each table by address (END first at one address,
 * the program's order otherwise). An address's line is then the last row at or
 * before it in any of the unit's tables (gdb's find_pc_sect_line).
 */
#ifndef HS_IMAGE_LINETABLE_H
#define HS_IMAGE_LINETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "hs_error.h"

struct hs_lt_row {
	uint64_t addr;
	int line; /* 0: END */
	bool is_stmt, prologue_end;
};

/* One source file's rows in one unit (gdb's symtab). */
struct hs_lt_symtab {
	const char *file; /* the path as the line program names it */
	struct hs_lt_row *rows;
	size_t nrows;
};

/* One compilation unit (gdb's compunit_symtab): its files, its own first. */
struct hs_lt_unit {
	const char *name;   /* the unit's file name, as gdb prints it */
	uint64_t low, high; /* lowest and end address of its rows */
	struct hs_lt_symtab *tabs;
	size_t ntabs;
};

struct hs_linetable {
	struct hs_lt_unit *units;
	size_t nunits;
	char **strings; /* owned copies of the names */
	size_t nstrings;
};

/* gdb's symtab_and_line for an address. */
struct hs_lt_sal {
	const char *file; /* NULL: no line information */
	int line;
	bool is_stmt;
	uint64_t start, end; /* the row's address and where the next row begins */
};

/* Build the tables from the image's DWARF (an image without lines gets none). */
int hs_linetable_build(const struct hs_image *img, struct hs_linetable **out, struct hs_error *err);
void hs_linetable_free(struct hs_linetable *lt);

/* gdb's find_pc_line: the line holding link address addr; false when none. */
bool hs_linetable_find(const struct hs_linetable *lt, uint64_t addr, struct hs_lt_sal *sal);

#endif
