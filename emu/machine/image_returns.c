/* SPDX-License-Identifier: MIT */
/* Function results from an image's DWARF (see image_returns.h). */
#include "image_returns.h"
#include "image_scope_path.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, type);
}

/* Spell the type as C does (typedef and tag names kept, qualifiers dropped). */
static void spell(Dwarf_Die *t, char *buf, size_t len, unsigned depth)
{
	const char *name = dwarf_diename(t);
	Dwarf_Die inner;
	switch (dwarf_tag(t)) {
	case DW_TAG_pointer_type:
		if (depth > 8 || !type_of(t, &inner)) {
			snprintf(buf, len, "void *");
			return;
		}
		spell(&inner, buf, len, depth + 1);
		if (strlen(buf) + 2 < len)
			strcat(buf, buf[strlen(buf) - 1] == '*' ? "*" : " *");
		return;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
		if (depth > 8 || !type_of(t, &inner)) {
			snprintf(buf, len, "void");
			return;
		}
		spell(&inner, buf, len, depth + 1);
		return;
	case DW_TAG_structure_type:
		snprintf(buf, len, "struct %s", name ? name : "{...}");
		return;
	case DW_TAG_union_type:
		snprintf(buf, len, "union %s", name ? name : "{...}");
		return;
	case DW_TAG_enumeration_type:
		snprintf(buf, len, "enum %s", name ? name : "{...}");
		return;
	default:
		snprintf(buf, len, "%s", name ? name : "?");
	}
}

/* Through typedefs and qualifiers to the type that says how the value is kept. */
static void strip(Dwarf_Die *t)
{
	for (unsigned i = 0; i < 16; i++) {
		int tag = dwarf_tag(t);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type)
			return;
		Dwarf_Die inner;
		if (!type_of(t, &inner))
			return;
		*t = inner;
	}
}

int hs_dwarf_fn_result(struct hs_dwarf *d, uint64_t link, struct hs_fn_result *out)
{
	memset(out, 0, sizeof(*out));
	Dwarf *dw = hs_dwarf_libdw(d);
	/* The function (not an inlined one) is the outermost subprogram on the scope path. */
	Dwarf_Die cu, path[HS_SCOPE_DEPTH], t;
	unsigned depth = dw ? hs_dwarf_scope_path(dw, link, &cu, path) : 0, i = 0;
	while (i < depth && dwarf_tag(&path[i]) != DW_TAG_subprogram)
		i++;
	if (i == depth)
		return -ENOENT;
	Dwarf_Die fn = path[i];
	if (!type_of(&fn, &t)) {
		out->is_void = true;
		snprintf(out->type, sizeof(out->type), "void");
		return 0;
	}
	spell(&t, out->type, sizeof(out->type), 0);
	strip(&t);
	Dwarf_Word size = 0;
	Dwarf_Attribute a;
	int tag = dwarf_tag(&t);
	if (tag == DW_TAG_pointer_type) {
		out->is_pointer = true;
		out->size = 8;
		return 0;
	}
	if (tag != DW_TAG_base_type && tag != DW_TAG_enumeration_type)
		return 0; /* an aggregate: its bytes are not just x0 */
	if (dwarf_attr(&t, DW_AT_byte_size, &a) && !dwarf_formudata(&a, &size) && size <= 8)
		out->size = (unsigned)size;
	Dwarf_Word enc = 0;
	if (tag == DW_TAG_base_type && dwarf_attr(&t, DW_AT_encoding, &a) &&
	    !dwarf_formudata(&a, &enc)) {
		out->is_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
		out->is_bool = enc == DW_ATE_boolean;
	}
	if (tag == DW_TAG_enumeration_type)
		out->is_signed = true; /* GCC's enums with negative values; print as signed */
	return 0;
}
