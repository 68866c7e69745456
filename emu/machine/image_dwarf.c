/* SPDX-License-Identifier: MIT */
#include "image_dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct hs_dwarf {
	Elf *elf;
	Dwarf *dw;
};

int hs_dwarf_open(const struct hs_image *img, struct hs_dwarf **out, struct hs_error *err)
{
	*out = NULL;
	struct hs_dwarf *d = calloc(1, sizeof(*d));
	if (!d)
		return hs_err(err, -ENOMEM, "out of memory");
	elf_version(EV_CURRENT);
	d->elf = elf_memory((char *)img->file, img->file_size);
	d->dw = d->elf ? dwarf_begin_elf(d->elf, DWARF_C_READ, NULL) : NULL;
	if (!d->dw) {
		hs_dwarf_close(d);
		return hs_err(err, -ENOENT, "%s has no DWARF type information", img->path);
	}
	*out = d;
	return 0;
}

struct Dwarf *hs_dwarf_libdw(struct hs_dwarf *d)
{
	return d->dw;
}

void hs_dwarf_close(struct hs_dwarf *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	if (d->elf)
		elf_end(d->elf);
	free(d);
}

/* The first top-level DIE of any unit that `match` accepts, into *out. */
static bool find_top(struct hs_dwarf *d, bool (*match)(Dwarf_Die *, const void *), const void *arg,
		     Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		bool have = dwarf_offdie(d->dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0;
		off = next;
		for (; have; have = dwarf_siblingof(&die, &die) == 0)
			if (match(&die, arg)) {
				*out = die;
				return true;
			}
	}
	return false;
}

struct type_key {
	int tag;
	const char *name;
};

/* A complete definition (not a declaration) with this tag and name. */
static bool match_type(Dwarf_Die *die, const void *arg)
{
	const struct type_key *k = arg;
	const char *n = dwarf_diename(die);
	return dwarf_tag(die) == k->tag && n && !strcmp(n, k->name) &&
	       !dwarf_hasattr(die, DW_AT_declaration);
}

static bool find_type(struct hs_dwarf *d, int tag, const char *name, Dwarf_Die *out)
{
	struct type_key k = {tag, name};
	return find_top(d, match_type, &k, out);
}

int hs_dwarf_struct_size(struct hs_dwarf *d, const char *name, uint64_t *size, struct hs_error *err)
{
	Dwarf_Die die;
	if (!find_type(d, DW_TAG_structure_type, name, &die))
		return hs_err(err, -ENOENT, "the image's DWARF has no struct %s", name);
	int s = dwarf_bytesize(&die);
	if (s < 0)
		return hs_err(err, -EINVAL, "struct %s has no size in DWARF", name);
	*size = (uint64_t)s;
	return 0;
}

int hs_dwarf_member_offset(struct hs_dwarf *d, const char *sname, const char *member, uint64_t *off,
			   struct hs_error *err)
{
	Dwarf_Die die, m;
	if (!find_type(d, DW_TAG_structure_type, sname, &die))
		return hs_err(err, -ENOENT, "the image's DWARF has no struct %s", sname);
	bool have = dwarf_child(&die, &m) == 0;
	while (have) {
		const char *n = dwarf_diename(&m);
		if (dwarf_tag(&m) == DW_TAG_member && n && !strcmp(n, member)) {
			Dwarf_Attribute a;
			Dwarf_Word w;
			if (!dwarf_attr(&m, DW_AT_data_member_location, &a) ||
			    dwarf_formudata(&a, &w))
				return hs_err(err, -EINVAL, "struct %s.%s has no plain offset",
					      sname, member);
			*off = w;
			return 0;
		}
		have = dwarf_siblingof(&m, &m) == 0;
	}
	return hs_err(err, -ENOENT, "struct %s has no member %s in DWARF", sname, member);
}

/* The member DIE of struct sname called member, into *m. */
static int struct_member(struct hs_dwarf *d, const char *sname, const char *member, Dwarf_Die *m,
			 struct hs_error *err)
{
	Dwarf_Die die;
	if (!find_type(d, DW_TAG_structure_type, sname, &die))
		return hs_err(err, -ENOENT, "the image's DWARF has no struct %s", sname);
	bool have = dwarf_child(&die, m) == 0;
	while (have) {
		const char *n = dwarf_diename(m);
		if (dwarf_tag(m) == DW_TAG_member && n && !strcmp(n, member))
			return 0;
		have = dwarf_siblingof(m, m) == 0;
	}
	return hs_err(err, -ENOENT, "struct %s has no member %s in DWARF", sname, member);
}

int hs_dwarf_member_bits(struct hs_dwarf *d, const char *sname, const char *member,
			 uint64_t *bit_off, unsigned *bits, struct hs_error *err)
{
	Dwarf_Die m, type;
	Dwarf_Attribute a;
	Dwarf_Word w;
	int rc = struct_member(d, sname, member, &m, err);
	if (rc)
		return rc;
	int bs = dwarf_bitsize(&m);
	if (bs > 0) { /* a bit field: DWARF 4+ data_bit_offset from the struct's start */
		if (!dwarf_attr(&m, DW_AT_data_bit_offset, &a) || dwarf_formudata(&a, &w))
			return hs_err(err, -EINVAL, "bit field %s.%s has no data_bit_offset", sname,
				      member);
		*bit_off = w;
		*bits = (unsigned)bs;
		return 0;
	}
	Dwarf_Word size;
	if (!dwarf_attr(&m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &w) ||
	    !dwarf_attr(&m, DW_AT_type, &a) || !dwarf_formref_die(&a, &type) ||
	    dwarf_aggregate_size(&type, &size))
		return hs_err(err, -EINVAL, "struct %s.%s has no plain offset and size", sname,
			      member);
	*bit_off = w * 8;
	*bits = (unsigned)(size * 8);
	return 0;
}

int hs_dwarf_enum_each(struct hs_dwarf *d, const char *ename,
		       void (*fn)(void *ud, const char *name, int64_t value), void *ud,
		       struct hs_error *err)
{
	Dwarf_Die die, e;
	if (!find_type(d, DW_TAG_enumeration_type, ename, &die))
		return hs_err(err, -ENOENT, "the image's DWARF has no enum %s", ename);
	int n = 0;
	bool have = dwarf_child(&die, &e) == 0;
	while (have) {
		Dwarf_Attribute a;
		Dwarf_Sword v;
		const char *nm = dwarf_diename(&e);
		if (dwarf_tag(&e) == DW_TAG_enumerator && nm &&
		    dwarf_attr(&e, DW_AT_const_value, &a) && !dwarf_formsdata(&a, &v)) {
			fn(ud, nm, v);
			n++;
		}
		have = dwarf_siblingof(&e, &e) == 0;
	}
	return n;
}

struct enum_find {
	const char *name;
	int64_t value;
	bool found;
};

static void enum_find_fn(void *ud, const char *name, int64_t value)
{
	struct enum_find *f = ud;
	if (!f->found && !strcmp(name, f->name)) {
		f->value = value;
		f->found = true;
	}
}

int hs_dwarf_enum_value(struct hs_dwarf *d, const char *ename, const char *enumerator, int64_t *val,
			struct hs_error *err)
{
	struct enum_find f = {.name = enumerator};
	int rc = hs_dwarf_enum_each(d, ename, enum_find_fn, &f, err);
	if (rc < 0)
		return rc;
	if (!f.found)
		return hs_err(err, -ENOENT, "enum %s has no %s in DWARF", ename, enumerator);
	*val = f.value;
	return 0;
}

/* A function's definition that has children (its parameters). */
static bool match_func(Dwarf_Die *die, const void *arg)
{
	const char *n = dwarf_diename(die);
	Dwarf_Die p;
	return dwarf_tag(die) == DW_TAG_subprogram && n && !strcmp(n, arg) &&
	       !dwarf_hasattr(die, DW_AT_declaration) && dwarf_child(die, &p) == 0;
}

int hs_dwarf_func_params(struct hs_dwarf *d, const char *name, const char **names, unsigned max,
			 struct hs_error *err)
{
	Dwarf_Die die, p;
	if (!find_top(d, match_func, name, &die) || dwarf_child(&die, &p))
		return hs_err(err, -ENOENT, "the image's DWARF has no function %s", name);
	unsigned k = 0;
	do {
		if (dwarf_tag(&p) == DW_TAG_formal_parameter && k < max)
			names[k++] = dwarf_diename(&p);
	} while (dwarf_siblingof(&p, &p) == 0);
	return (int)k;
}

/* The type a DIE names, through typedefs and qualifiers; false when it has none. */
static bool base_type(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	Dwarf_Die t = *die;
	for (;;) {
		if (!dwarf_attr_integrate(&t, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
			return false;
		int tag = dwarf_tag(&t);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_atomic_type)
			break;
	}
	*out = t;
	return true;
}

static bool member_location(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return (*off = 0), true; /* union members */
	if (dwarf_formudata(&a, &w))
		return false;
	*off = w;
	return true;
}

/*
 * The member `name` of the struct or union `agg` (looking into anonymous members, as C
 * does): its offset and DIE.
 */
static bool find_member(Dwarf_Die *agg, const char *name, size_t len, uint64_t *off, Dwarf_Die *out)
{
	Dwarf_Die m;
	bool have = dwarf_child(agg, &m) == 0;
	for (; have; have = dwarf_siblingof(&m, &m) == 0) {
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		const char *n = dwarf_diename(&m);
		uint64_t here;
		if (!member_location(&m, &here))
			continue;
		if (n && strlen(n) == len && !strncmp(n, name, len)) {
			*off = here;
			*out = m;
			return true;
		}
		Dwarf_Die t;
		uint64_t inner;
		if (!n && base_type(&m, &t) && find_member(&t, name, len, &inner, out)) {
			*off = here + inner;
			return true;
		}
	}
	return false;
}

int hs_dwarf_member_path(struct hs_dwarf *d, const char *sname, const char *path, uint64_t *off,
			 uint64_t *size, struct hs_error *err)
{
	Dwarf_Die agg, m;
	if (!find_type(d, DW_TAG_structure_type, sname, &agg))
		return hs_err(err, -ENOENT, "the image's DWARF has no struct %s", sname);
	uint64_t total = 0;
	for (const char *p = path;;) {
		size_t len = strcspn(p, ".");
		uint64_t here;
		if (!find_member(&agg, p, len, &here, &m))
			return hs_err(err, -ENOENT, "struct %s has no member %s in DWARF", sname,
				      path);
		total += here;
		if (!p[len])
			break;
		if (!base_type(&m, &agg) || (dwarf_tag(&agg) != DW_TAG_structure_type &&
					     dwarf_tag(&agg) != DW_TAG_union_type))
			return hs_err(err, -EINVAL, "struct %s: %.*s is not a struct", sname,
				      (int)(p + len - path), path);
		p += len + 1;
	}
	*off = total;
	if (size) {
		Dwarf_Die t;
		Dwarf_Word s = 0;
		if (!base_type(&m, &t) || dwarf_aggregate_size(&t, &s))
			return hs_err(err, -EINVAL, "struct %s.%s has no size in DWARF", sname,
				      path);
		*size = s;
	}
	return 0;
}
