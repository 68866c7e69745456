/* SPDX-License-Identifier: MIT */
/*
 * Types from an image's DWARF: struct sizes, member offsets and enumerator values, so a
 * host model can lay out what a hypervisor reads (Linux's struct kvm_nvhe_init_params,
 * struct hyp_page, enum __kvm_host_smccc_func) from the image itself rather than from
 * numbers copied out of one kernel version.
 */
#ifndef HS_IMAGE_DWARF_H
#define HS_IMAGE_DWARF_H

#include <stdint.h>

#include "elf_image.h"
#include "hs_error.h"

struct hs_dwarf;

/* Open the image's DWARF; -ENOENT (with a message) when it has none. */
int hs_dwarf_open(const struct hs_image *img, struct hs_dwarf **out, struct hs_error *err);
void hs_dwarf_close(struct hs_dwarf *dw);
/* sizeof(struct name) from its first complete definition. */
int hs_dwarf_struct_size(struct hs_dwarf *dw, const char *name, uint64_t *size,
			 struct hs_error *err);
/* offsetof(struct sname, member), for a direct member. */
int hs_dwarf_member_offset(struct hs_dwarf *dw, const char *sname, const char *member,
			   uint64_t *off, struct hs_error *err);
/*
 * offsetof(struct sname, path) for a member path "a.b.c" (through nested and anonymous
 * structs and unions, as C names them), and the member's size when size is not NULL.
 */
int hs_dwarf_member_path(struct hs_dwarf *dw, const char *sname, const char *path, uint64_t *off,
			 uint64_t *size, struct hs_error *err);
/*
 * Where member lies in struct sname, in bits from the struct's start, and its width:
 * a bit field's own, else its type's size.
 */
int hs_dwarf_member_bits(struct hs_dwarf *dw, const char *sname, const char *member,
			 uint64_t *bit_off, unsigned *bits, struct hs_error *err);
/* The value of an enumerator of `enum ename`. */
int hs_dwarf_enum_value(struct hs_dwarf *dw, const char *ename, const char *enumerator,
			int64_t *val, struct hs_error *err);
/*
 * Every enumerator of `enum ename`: calls fn(ud, name, value) for each; returns how many,
 * or a negative code.
 */
int hs_dwarf_enum_each(struct hs_dwarf *dw, const char *ename,
		       void (*fn)(void *ud, const char *name, int64_t value), void *ud,
		       struct hs_error *err);

/*
 * The parameter names of function `name` (its first definition with parameters), in
 * order: up to max of them into names[] (pointers into the DWARF, valid while dw is
 * open). Returns the count or a negative code.
 */
int hs_dwarf_func_params(struct hs_dwarf *dw, const char *name, const char **names, unsigned max,
			 struct hs_error *err);

/* The libdw handle (image_scopes.c reads the same DWARF). */
struct Dwarf *hs_dwarf_libdw(struct hs_dwarf *dw);

#endif
