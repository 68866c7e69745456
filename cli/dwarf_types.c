/* SPDX-License-Identifier: MIT */
/*
 * DWARF types for the expression evaluator (see dwarf_types.h). The index is
 * built once: every named top-level type, variable and function of every CU,
 * by name (a definition wins over a declaration). DIEs become struct
 * cli_type on first use, cached by DIE offset; a struct is cached before its
 * members are converted, so self-referencing types (lists) terminate.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_types.h"

struct named {
	const char *name;
	int tag; /* DW_TAG_* */
	Dwarf_Off off;
	bool decl;
};

struct conv {
	Dwarf_Off off;
	struct cli_type *t;
};

struct cli_dwarf {
	Elf *elf;
	Dwarf *dw;
	struct named *v;
	size_t n, cap;
	struct conv *cache; /* open addressing, cap a power of two */
	size_t ncache, capcache;
	void **allocs; /* types, member and enumerator arrays */
	size_t nallocs, capallocs;
};

static void *d_alloc(struct cli_dwarf *d, size_t size)
{
	if (d->nallocs == d->capallocs) {
		size_t cap = d->capallocs ? 2 * d->capallocs : 256;
		void **v = realloc(d->allocs, cap * sizeof(*v));
		if (!v)
			return NULL;
		d->allocs = v;
		d->capallocs = cap;
	}
	void *p = calloc(1, size ? size : 1);
	if (p)
		d->allocs[d->nallocs++] = p;
	return p;
}

static void add_named(struct cli_dwarf *d, Dwarf_Die *die, int tag)
{
	const char *name = dwarf_diename(die);
	if (!name)
		return;
	bool decl = dwarf_hasattr(die, DW_AT_declaration);
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].tag == tag && !strcmp(d->v[i].name, name)) {
			if (d->v[i].decl && !decl) {
				d->v[i].off = dwarf_dieoffset(die);
				d->v[i].decl = false;
			}
			return;
		}
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 512;
		struct named *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = (struct named){name, tag, dwarf_dieoffset(die), decl};
}

int cli_dwarf_open(const void *elf, size_t len, struct cli_dwarf **out, char *err, size_t elen)
{
	*out = NULL;
	elf_version(EV_CURRENT);
	struct cli_dwarf *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	d->elf = elf_memory((char *)elf, len);
	d->dw = d->elf ? dwarf_begin_elf(d->elf, DWARF_C_READ, NULL) : NULL;
	if (!d->dw) {
		snprintf(err, elen, "the hypervisor image has no DWARF debug information (%s)",
			 dwarf_errmsg(-1));
		cli_dwarf_close(d);
		return -1;
	}
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(d->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				int tag = dwarf_tag(&child);
				switch (tag) {
				case DW_TAG_structure_type:
				case DW_TAG_union_type:
				case DW_TAG_enumeration_type:
				case DW_TAG_typedef:
				case DW_TAG_base_type:
				case DW_TAG_variable:
				case DW_TAG_subprogram:
					add_named(d, &child, tag);
					break;
				default:
					break;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	*out = d;
	return 0;
}

void cli_dwarf_close(struct cli_dwarf *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nallocs; i++)
		free(d->allocs[i]);
	free(d->allocs);
	free(d->cache);
	free(d->v);
	if (d->dw)
		dwarf_end(d->dw);
	if (d->elf)
		elf_end(d->elf);
	free(d);
}

static struct cli_type *cache_get(struct cli_dwarf *d, Dwarf_Off off)
{
	if (!d->capcache)
		return NULL;
	for (size_t i = (size_t)(off * 11400714819323198485ULL) & (d->capcache - 1);;
	     i = (i + 1) & (d->capcache - 1)) {
		if (!d->cache[i].t)
			return NULL;
		if (d->cache[i].off == off)
			return d->cache[i].t;
	}
}

static void cache_put(struct cli_dwarf *d, Dwarf_Off off, struct cli_type *t)
{
	if (2 * (d->ncache + 1) > d->capcache) {
		size_t cap = d->capcache ? 2 * d->capcache : 1024;
		struct conv *c = calloc(cap, sizeof(*c));
		if (!c)
			return;
		for (size_t i = 0; i < d->capcache; i++) {
			if (!d->cache[i].t)
				continue;
			size_t j = (size_t)(d->cache[i].off * 11400714819323198485ULL) & (cap - 1);
			while (c[j].t)
				j = (j + 1) & (cap - 1);
			c[j] = d->cache[i];
		}
		free(d->cache);
		d->cache = c;
		d->capcache = cap;
	}
	size_t i = (size_t)(off * 11400714819323198485ULL) & (d->capcache - 1);
	while (d->cache[i].t)
		i = (i + 1) & (d->capcache - 1);
	d->cache[i] = (struct conv){off, t};
	d->ncache++;
}

static const struct cli_type *convert(struct cli_dwarf *d, Dwarf_Die *die, int depth);

static const struct cli_type t_void_dw = {.kind = CLI_T_VOID, .name = "void"};

static const struct cli_type *type_of(struct cli_dwarf *d, Dwarf_Die *die, int depth)
{
	Dwarf_Attribute a;
	Dwarf_Die t;
	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return &t_void_dw;
	return convert(d, &t, depth + 1);
}

static uint64_t udata(Dwarf_Die *die, unsigned at, uint64_t dflt)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr(die, at, &a) || dwarf_formudata(&a, &w))
		return dflt;
	return w;
}

static const struct named *find_named(struct cli_dwarf *d, int tag, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].tag == tag && !strcmp(d->v[i].name, name))
			return &d->v[i];
	return NULL;
}

static void members(struct cli_dwarf *d, Dwarf_Die *die, struct cli_type *t, int depth)
{
	Dwarf_Die c;
	size_t n = 0;
	if (dwarf_child(die, &c) == 0)
		do
			n += dwarf_tag(&c) == DW_TAG_member;
		while (dwarf_siblingof(&c, &c) == 0);
	if (!n)
		return;
	struct cli_member *m = d_alloc(d, n * sizeof(*m));
	if (!m)
		return;
	size_t i = 0;
	if (dwarf_child(die, &c) == 0) {
		do {
			if (dwarf_tag(&c) != DW_TAG_member || i >= n)
				continue;
			struct cli_member *mm = &m[i++];
			mm->name = dwarf_diename(&c);
			mm->type = type_of(d, &c, depth);
			uint64_t bits = udata(&c, DW_AT_bit_size, 0);
			if (dwarf_hasattr(&c, DW_AT_data_bit_offset)) {
				uint64_t bo = udata(&c, DW_AT_data_bit_offset, 0);
				mm->offset = bo / 8;
				mm->bit_off = (unsigned)(bo % 8);
			} else {
				mm->offset = udata(&c, DW_AT_data_member_location, 0);
				if (bits && dwarf_hasattr(&c, DW_AT_bit_offset)) {
					/* DWARF 2/3: counted from the storage unit's MSB */
					uint64_t bsz = udata(&c, DW_AT_byte_size,
							     cli_type_resolve(mm->type)->size);
					uint64_t bo =
					    bsz * 8 - udata(&c, DW_AT_bit_offset, 0) - bits;
					mm->offset += bo / 8;
					mm->bit_off = (unsigned)(bo % 8);
				}
			}
			mm->bit_size = (unsigned)bits;
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	t->members = m;
	t->nmembers = i;
}

static void enumerators(struct cli_dwarf *d, Dwarf_Die *die, struct cli_type *t)
{
	Dwarf_Die c;
	size_t n = 0;
	if (dwarf_child(die, &c) == 0)
		do
			n += dwarf_tag(&c) == DW_TAG_enumerator;
		while (dwarf_siblingof(&c, &c) == 0);
	struct cli_enumerator *e = n ? d_alloc(d, n * sizeof(*e)) : NULL;
	size_t i = 0;
	if (e && dwarf_child(die, &c) == 0) {
		do {
			if (dwarf_tag(&c) != DW_TAG_enumerator || i >= n)
				continue;
			Dwarf_Attribute a;
			Dwarf_Sword sv = 0;
			if (dwarf_attr(&c, DW_AT_const_value, &a))
				dwarf_formsdata(&a, &sv);
			e[i++] = (struct cli_enumerator){dwarf_diename(&c), (int64_t)sv};
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	t->enums = e;
	t->nenums = i;
}

/* Array dimensions: subrange k of the DIE, nested outermost first. */
static const struct cli_type *array(struct cli_dwarf *d, Dwarf_Die *die, int depth)
{
	Dwarf_Die c, subs[8];
	int n = 0;
	if (dwarf_child(die, &c) == 0)
		do
			if (dwarf_tag(&c) == DW_TAG_subrange_type && n < 8)
				subs[n++] = c;
		while (dwarf_siblingof(&c, &c) == 0);
	const struct cli_type *t = type_of(d, die, depth);
	for (int k = n - 1; k >= 0; k--) {
		struct cli_type *a = d_alloc(d, sizeof(*a));
		if (!a)
			return t;
		uint64_t count = dwarf_hasattr(&subs[k], DW_AT_count)
				     ? udata(&subs[k], DW_AT_count, 0)
				 : dwarf_hasattr(&subs[k], DW_AT_upper_bound)
				     ? udata(&subs[k], DW_AT_upper_bound, 0) + 1
				     : 0;
		a->kind = CLI_T_ARRAY;
		a->target = t;
		a->count = count;
		a->size = count * cli_type_resolve(t)->size;
		t = a;
	}
	return t;
}

static const struct cli_type *convert(struct cli_dwarf *d, Dwarf_Die *die, int depth)
{
	if (depth > 64)
		return &t_void_dw;
	Dwarf_Off off = dwarf_dieoffset(die);
	struct cli_type *cached = cache_get(d, off);
	if (cached)
		return cached;
	int tag = dwarf_tag(die);
	switch (tag) {
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
		return type_of(d, die, depth);
	case DW_TAG_array_type:
		return array(d, die, depth);
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		if (dwarf_hasattr(die, DW_AT_declaration) && dwarf_diename(die)) {
			/* An incomplete type: use the definition if some CU has it. */
			const struct named *nd = find_named(d, tag, dwarf_diename(die));
			Dwarf_Die def;
			if (nd && !nd->decl && nd->off != off && dwarf_offdie(d->dw, nd->off, &def))
				return convert(d, &def, depth + 1);
		}
		break;
	default:
		break;
	}
	struct cli_type *t = d_alloc(d, sizeof(*t));
	if (!t)
		return &t_void_dw;
	t->name = dwarf_diename(die);
	cache_put(d, off, t);
	switch (tag) {
	case DW_TAG_base_type: {
		t->kind = CLI_T_INT;
		t->size = udata(die, DW_AT_byte_size, 0);
		uint64_t enc = udata(die, DW_AT_encoding, DW_ATE_unsigned);
		t->is_signed = enc == DW_ATE_signed || enc == DW_ATE_signed_char;
		t->is_char = enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char;
		t->is_bool = enc == DW_ATE_boolean;
		break;
	}
	case DW_TAG_pointer_type:
		t->kind = CLI_T_PTR;
		t->size = 8;
		t->name = NULL;
		t->target = type_of(d, die, depth);
		break;
	case DW_TAG_typedef:
		t->kind = CLI_T_TYPEDEF;
		t->target = type_of(d, die, depth);
		t->size = cli_type_resolve(t->target)->size;
		break;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		t->kind = tag == DW_TAG_structure_type ? CLI_T_STRUCT : CLI_T_UNION;
		t->size = udata(die, DW_AT_byte_size, 0);
		members(d, die, t, depth);
		break;
	case DW_TAG_enumeration_type:
		t->kind = CLI_T_ENUM;
		t->size = udata(die, DW_AT_byte_size, 4);
		if (dwarf_hasattr(die, DW_AT_type))
			t->is_signed = cli_type_resolve(type_of(d, die, depth))->is_signed;
		enumerators(d, die, t);
		break;
	case DW_TAG_subroutine_type:
	case DW_TAG_subprogram:
		t->kind = CLI_T_FUNC;
		t->name = NULL;
		t->target = type_of(d, die, depth);
		break;
	default:
		t->kind = CLI_T_VOID;
		t->name = "void";
		break;
	}
	return t;
}

const struct cli_type *cli_dwarf_type(struct cli_dwarf *d, const char *tag, const char *name)
{
	if (!d || !name)
		return NULL;
	int tags[2] = {DW_TAG_typedef, DW_TAG_base_type};
	int nt = 2;
	if (tag) {
		nt = 1;
		tags[0] = !strcmp(tag, "struct")  ? DW_TAG_structure_type
			  : !strcmp(tag, "union") ? DW_TAG_union_type
						  : DW_TAG_enumeration_type;
	}
	for (int k = 0; k < nt; k++) {
		const struct named *nd = find_named(d, tags[k], name);
		Dwarf_Die die;
		if (nd && dwarf_offdie(d->dw, nd->off, &die))
			return convert(d, &die, 0);
	}
	return NULL;
}

const struct cli_type *cli_dwarf_var_type(struct cli_dwarf *d, const char *name)
{
	if (!d || !name)
		return NULL;
	const struct named *nd = find_named(d, DW_TAG_variable, name);
	Dwarf_Die die;
	if (nd && dwarf_offdie(d->dw, nd->off, &die))
		return type_of(d, &die, 0);
	nd = find_named(d, DW_TAG_subprogram, name);
	if (nd && dwarf_offdie(d->dw, nd->off, &die))
		return convert(d, &die, 0);
	return NULL;
}

const char *cli_dwarf_section(struct cli_dwarf *d, uint64_t link)
{
	if (!d || !d->elf)
		return NULL;
	size_t shstrndx;
	if (elf_getshdrstrndx(d->elf, &shstrndx))
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(d->elf, NULL); scn; scn = elf_nextscn(d->elf, scn)) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (link >= sh.sh_addr && link < sh.sh_addr + sh.sh_size)
			return elf_strptr(d->elf, shstrndx, sh.sh_name);
	}
	return NULL;
}

const struct cli_type *cli_dwarf_type_at(struct cli_dwarf *d, uint64_t die_off)
{
	Dwarf_Die die;
	if (!d || !die_off || !dwarf_offdie(d->dw, die_off, &die))
		return NULL;
	return convert(d, &die, 0);
}
