/* SPDX-License-Identifier: MIT */
/*
 * What a function returns, from the image's DWARF: nothing (void), or a value
 * of a named type in x0, so `finish` shows what gdb shows instead of printing
 * x0 after a function that returns nothing.
 */
#ifndef HS_IMAGE_RETURNS_H
#define HS_IMAGE_RETURNS_H

#include <stdbool.h>
#include <stdint.h>

#include "image_dwarf.h"

struct hs_fn_result {
	bool is_void;
	char type[96];	/* as C spells it: "int", "u64", "struct hyp_page *" */
	unsigned size;	/* of the value in bytes; 0: not a scalar (a struct, an array) */
	bool is_signed; /* a signed integer (or an enum with negative values) */
	bool is_pointer;
	bool is_bool;
};

/*
 * The result of the function (not an inlined one) containing link address
 * link. Returns 0, or -ENOENT when no DWARF describes a function there.
 */
int hs_dwarf_fn_result(struct hs_dwarf *dw, uint64_t link, struct hs_fn_result *out);

#endif
