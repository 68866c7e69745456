/* SPDX-License-Identifier: MIT */
/* Inlined functions and tail calls from an image's DWARF (see image_scopes.h). */
#include "image_scopes.h"

#include "image_scope_path.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdbool.h>
#include <string.h>

/* A DIE's name, following DW_AT_abstract_origin / DW_AT_specification. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = NULL;
	if (dwarf_attr_integrate(die, DW_AT_name, &a))
		n = dwarf_formstring(&a);
	return n ? n : "??";
}

static const char *file_name(Dwarf_Die *cu, Dwarf_Word idx)
{
	Dwarf_Files *files;
	size_t n;
	if (dwarf_getsrcfiles(cu, &files, &n) || idx >= n)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

/* The DIEs from cu down to the innermost function or block containing pc, outermost first. */
static unsigned path_to(Dwarf_Die *parent, uint64_t pc, Dwarf_Die *path, unsigned depth)
{
	Dwarf_Die child;
	if (depth == HS_SCOPE_DEPTH || dwarf_child(parent, &child))
		return depth;
	do {
		int tag = dwarf_tag(&child);
		if ((tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
		     tag == DW_TAG_lexical_block) &&
		    dwarf_haspc(&child, pc) == 1) {
			path[depth] = child;
			return path_to(&path[depth], pc, path, depth + 1);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return depth;
}

unsigned hs_dwarf_scope_path(Dwarf *dw, uint64_t pc, Dwarf_Die *cu, Dwarf_Die *path)
{
	return dwarf_addrdie(dw, pc, cu) ? path_to(cu, pc, path, 0) : 0;
}

/*
 * The inlined block's entry as gdb 13 takes it: its low PC, else the start of
 * its first non-empty range (GCC lists an empty one at DW_AT_entry_pc, which
 * gdb 13 ignores).
 */
static bool block_entry(Dwarf_Die *die, Dwarf_Addr *entry)
{
	Dwarf_Addr base, lo, hi;
	if (dwarf_hasattr(die, DW_AT_low_pc) && !dwarf_lowpc(die, entry))
		return true;
	for (ptrdiff_t off = 0; (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0;)
		if (lo < hi) {
			*entry = lo;
			return true;
		}
	return false;
}

unsigned hs_dwarf_inline_chain(struct hs_dwarf *d, uint64_t link, struct hs_scope_fn *out,
			       unsigned max)
{
	Dwarf *dw = hs_dwarf_libdw(d);
	Dwarf_Die cu, path[HS_SCOPE_DEPTH];
	if (!max || !dwarf_addrdie(dw, link, &cu))
		return 0;
	unsigned depth = path_to(&cu, link, path, 0), k = 0;
	for (unsigned i = depth; i-- > 0 && k < max;) {
		int tag = dwarf_tag(&path[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		out[k] = (struct hs_scope_fn){.name = die_name(&path[i])};
		Dwarf_Addr entry;
		if (block_entry(&path[i], &entry))
			out[k].entry = entry;
		out[k].begins = out[k].entry == link || dwarf_haspc(&path[i], link - 1) != 1;
		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Attribute a;
			Dwarf_Word w;
			if (dwarf_attr(&path[i], DW_AT_call_file, &a) && !dwarf_formudata(&a, &w))
				out[k].call_file = file_name(&cu, w);
			if (dwarf_attr(&path[i], DW_AT_call_line, &a) && !dwarf_formudata(&a, &w))
				out[k].call_line = (int)w;
		}
		k++;
	}
	return k;
}

/* A call site (a tail call only, if tail_only). */
static bool is_call_site(Dwarf_Die *die, bool tail_only)
{
	bool flag = false;
	Dwarf_Attribute a;
	int tag = dwarf_tag(die);
	if (tag != DW_TAG_call_site && tag != DW_TAG_GNU_call_site)
		return false;
	if (!tail_only)
		return true;
	if (tag == DW_TAG_call_site && dwarf_attr(die, DW_AT_call_tail_call, &a))
		dwarf_formflag(&a, &flag);
	else if (tag == DW_TAG_GNU_call_site && dwarf_attr(die, DW_AT_GNU_tail_call, &a))
		dwarf_formflag(&a, &flag);
	return flag;
}

/* The call sites in die's subtree (they sit in lexical blocks and inlined bodies too). */
static void calls_in(Dwarf_Die *die, bool tail_only, uint64_t *after, unsigned max, unsigned *n)
{
	Dwarf_Die child;
	if (dwarf_child(die, &child))
		return;
	do {
		if (is_call_site(&child, tail_only) && *n < max) {
			Dwarf_Attribute a;
			Dwarf_Addr pc;
			/* DWARF 5's return PC; GNU call sites give it as their low PC. */
			if ((dwarf_attr(&child, DW_AT_call_return_pc, &a) &&
			     !dwarf_formaddr(&a, &pc)) ||
			    !dwarf_lowpc(&child, &pc))
				after[(*n)++] = pc;
		}
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine)
			calls_in(&child, tail_only, after, max, n);
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* The call sites of the function containing fn. */
static unsigned fn_calls(struct hs_dwarf *d, uint64_t fn, bool tail_only, uint64_t *after,
			 unsigned max)
{
	Dwarf *dw = hs_dwarf_libdw(d);
	Dwarf_Die cu, path[HS_SCOPE_DEPTH];
	if (!dwarf_addrdie(dw, fn, &cu))
		return 0;
	unsigned depth = path_to(&cu, fn, path, 0), k = 0;
	for (unsigned i = 0; i < depth; i++)
		if (dwarf_tag(&path[i]) == DW_TAG_subprogram) {
			calls_in(&path[i], tail_only, after, max, &k);
			break;
		}
	return k;
}

unsigned hs_dwarf_tail_calls(struct hs_dwarf *d, uint64_t fn, uint64_t *after, unsigned max)
{
	return fn_calls(d, fn, true, after, max);
}

bool hs_dwarf_is_call_site(struct hs_dwarf *d, uint64_t after)
{
	uint64_t sites[256];
	unsigned n = fn_calls(d, after - 4, false, sites, 256);
	for (unsigned i = 0; i < n; i++)
		if (sites[i] == after)
			return true;
	return false;
}

struct site_search {
	const char *name;
	struct hs_inline_site *out;
	unsigned max, n;
};

static void sites_in(Dwarf_Die *die, struct site_search *s)
{
	Dwarf_Die child;
	if (dwarf_child(die, &child))
		return;
	do {
		int tag = dwarf_tag(&child);
		Dwarf_Addr entry;
		if (tag == DW_TAG_inlined_subroutine && s->n < s->max &&
		    !strcmp(die_name(&child), s->name) && block_entry(&child, &entry)) {
			Dwarf_Attribute a;
			Dwarf_Die origin;
			int line = 0;
			const char *file = NULL;
			if (dwarf_attr(&child, DW_AT_abstract_origin, &a) &&
			    dwarf_formref_die(&a, &origin)) {
				file = dwarf_decl_file(&origin);
				dwarf_decl_line(&origin, &line);
			}
			s->out[s->n++] = (struct hs_inline_site){entry, file, line};
		}
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
		    tag == DW_TAG_lexical_block)
			sites_in(&child, s);
	} while (dwarf_siblingof(&child, &child) == 0);
}

unsigned hs_dwarf_inline_sites(struct hs_dwarf *d, const char *name, struct hs_inline_site *out,
			       unsigned max)
{
	Dwarf *dw = hs_dwarf_libdw(d);
	struct site_search s = {name, out, max, 0};
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dw, off + hsize, &cu))
			sites_in(&cu, &s);
		off = next;
	}
	return s.n;
}
