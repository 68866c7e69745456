/* SPDX-License-Identifier: MIT */
/* The expression language's types: built-in C types (LP64), typedef resolution, pointer types. */
#include <stdlib.h>
#include <string.h>

#include "expr.h"

/* ---- built-in types (LP64) ------------------------------------------------ */

#define INT_T(nm, sz, sg)                                                  \
	{                                                                  \
		.kind = CLI_T_INT, .name = nm, .size = sz, .is_signed = sg \
	}
const struct cli_type cli_t_void = {.kind = CLI_T_VOID, .name = "void"};
const struct cli_type cli_t_bool = {.kind = CLI_T_INT, .name = "_Bool", .size = 1, .is_bool = true};
const struct cli_type cli_t_char = {
    .kind = CLI_T_INT, .name = "char", .size = 1, .is_signed = false, .is_char = true};
static const struct cli_type t_schar = {
    .kind = CLI_T_INT, .name = "signed char", .size = 1, .is_signed = true, .is_char = true};
static const struct cli_type t_uchar = {
    .kind = CLI_T_INT, .name = "unsigned char", .size = 1, .is_char = true};
static const struct cli_type t_short = INT_T("short", 2, true);
static const struct cli_type t_ushort = INT_T("unsigned short", 2, false);
const struct cli_type cli_t_int = INT_T("int", 4, true);
const struct cli_type cli_t_uint = INT_T("unsigned int", 4, false);
const struct cli_type cli_t_long = INT_T("long", 8, true);
const struct cli_type cli_t_ulong = INT_T("unsigned long", 8, false);
static const struct cli_type t_u8 = INT_T("u8", 1, false);
static const struct cli_type t_u16 = INT_T("u16", 2, false);
static const struct cli_type t_u32 = INT_T("u32", 4, false);
static const struct cli_type t_u64 = INT_T("u64", 8, false);
static const struct cli_type t_s8 = INT_T("s8", 1, true);
static const struct cli_type t_s16 = INT_T("s16", 2, true);
static const struct cli_type t_s32 = INT_T("s32", 4, true);
static const struct cli_type t_s64 = INT_T("s64", 8, true);
/* Symbols without debug information, named as gdb names them. */
const struct cli_type cli_t_nodebug_data = {.kind = CLI_T_VOID,
					    .name = "<data variable, no debug info>"};
const struct cli_type cli_t_nodebug_text = {
    .kind = CLI_T_FUNC, .name = "<text variable, no debug info>", .target = &cli_t_int};

static const struct {
	const char *name;
	const struct cli_type *t;
} builtins[] = {
    {"void", &cli_t_void},
    {"_Bool", &cli_t_bool},
    {"bool", &cli_t_bool},
    {"char", &cli_t_char},
    {"signed char", &t_schar},
    {"unsigned char", &t_uchar},
    {"short", &t_short},
    {"short int", &t_short},
    {"signed short", &t_short},
    {"unsigned short", &t_ushort},
    {"short unsigned int", &t_ushort},
    {"unsigned short int", &t_ushort},
    {"int", &cli_t_int},
    {"signed", &cli_t_int},
    {"signed int", &cli_t_int},
    {"unsigned", &cli_t_uint},
    {"unsigned int", &cli_t_uint},
    {"long", &cli_t_long},
    {"long int", &cli_t_long},
    {"long long", &cli_t_long},
    {"long long int", &cli_t_long},
    {"signed long", &cli_t_long},
    {"unsigned long", &cli_t_ulong},
    {"long unsigned int", &cli_t_ulong},
    {"unsigned long int", &cli_t_ulong},
    {"unsigned long long", &cli_t_ulong},
    {"long long unsigned int", &cli_t_ulong},
    {"u8", &t_u8},
    {"u16", &t_u16},
    {"u32", &t_u32},
    {"u64", &t_u64},
    {"s8", &t_s8},
    {"s16", &t_s16},
    {"s32", &t_s32},
    {"s64", &t_s64},
    {"uint8_t", &t_u8},
    {"uint16_t", &t_u16},
    {"uint32_t", &t_u32},
    {"uint64_t", &t_u64},
    {"int8_t", &t_s8},
    {"int16_t", &t_s16},
    {"int32_t", &t_s32},
    {"int64_t", &t_s64},
    {"size_t", &cli_t_ulong},
    {"uintptr_t", &cli_t_ulong},
    {"phys_addr_t", &t_u64},
    {"<data variable, no debug info>", &cli_t_nodebug_data},
    {"<text variable, no debug info>", &cli_t_nodebug_text},
};

const struct cli_type *cli_type_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].name, name))
			return builtins[i].t;
	return NULL;
}

const struct cli_type *cli_type_resolve(const struct cli_type *t)
{
	for (int n = 0; t && t->kind == CLI_T_TYPEDEF && t->target && n < 64; n++)
		t = t->target;
	return t ? t : &cli_t_void;
}

const struct cli_type *cli_type_pointer_to(struct cli_type_arena *a, const struct cli_type *t)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i]->kind == CLI_T_PTR && a->v[i]->target == t)
			return a->v[i];
	if (!a)
		return NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 32;
		struct cli_type **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	struct cli_type *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->kind = CLI_T_PTR;
	p->size = 8;
	p->target = t;
	a->v[a->n++] = p;
	return p;
}

void cli_type_arena_free(struct cli_type_arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}
