/* SPDX-License-Identifier: MIT */
/*
 * The debugger's expression language: C expressions as gdb reads them, over
 * the machine's registers, the hypervisor's symbols and memory, and the types
 * of its DWARF. Pure: everything outside the text of the expression comes
 * through struct cli_expr_ops, so the evaluator is unit-tested without a
 * machine (tests/test_cli_expr.c).
 *
 * Integer arithmetic follows C on a 64-bit LP64 target (int is 4 bytes, long 8),
 * computed on unsigned 64-bit words and truncated to the result type, so no
 * input is undefined behaviour (INT64_MIN / -1 wraps, as the hardware does;
 * division by zero is an error; shifts by >= the width give 0, or -1 for a
 * negative value shifted right).
 *
 * Address spaces: a value can carry `pa:`, `va:` or `ipa:` (a prefix operator);
 * a pointer keeps the space of the value it was made from, and dereferencing
 * reads memory in that space. Without one, memory is the EL2 virtual address
 * space (as for `x`).
 */
#ifndef HS_CLI_EXPR_H
#define HS_CLI_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum cli_tkind {
	CLI_T_VOID,
	CLI_T_INT, /* also char and bool (see flags) */
	CLI_T_ENUM,
	CLI_T_PTR,
	CLI_T_ARRAY,
	CLI_T_STRUCT,
	CLI_T_UNION,
	CLI_T_FUNC,
	CLI_T_TYPEDEF,
};

struct cli_type;

struct cli_member {
	const char *name; /* NULL for an anonymous struct/union member */
	const struct cli_type *type;
	uint64_t offset;   /* bytes from the start of the aggregate */
	unsigned bit_off;  /* bit fields: first bit, counted from bit 0 of the byte at offset */
	unsigned bit_size; /* 0: not a bit field */
};

struct cli_enumerator {
	const char *name;
	int64_t value;
};

struct cli_type {
	enum cli_tkind kind;
	const char *name; /* "u64", "hyp_page" (tag without "struct "), NULL: anonymous */
	uint64_t size;	  /* bytes (0 for void, functions, incomplete types) */
	bool is_signed, is_char, is_bool;
	const struct cli_type *target; /* PTR, ARRAY element, TYPEDEF, FUNC return */
	uint64_t count;		       /* ARRAY elements */
	const struct cli_member *members;
	size_t nmembers;
	const struct cli_enumerator *enums;
	size_t nenums;
};

enum cli_xspace { CLI_XS_DEFAULT, CLI_XS_PA, CLI_XS_VA, CLI_XS_IPA };

enum cli_lval { CLI_LV_NONE, CLI_LV_MEM, CLI_LV_REG };

/* One value: a scalar in v, or an object in memory at addr (aggregates). */
struct cli_value {
	const struct cli_type *type; /* never NULL */
	uint64_t v;		     /* scalars, sign- or zero-extended to 64 bits */
	enum cli_lval lval;
	bool lazy;		    /* CLI_LV_MEM scalar not read yet (v is not valid) */
	uint64_t addr;		    /* CLI_LV_MEM: where the object is */
	enum cli_xspace space;	    /* of addr (lvalue), or of the pointer value v */
	char reg[32];		    /* CLI_LV_REG: register or convenience variable, no '$' */
	unsigned bit_off, bit_size; /* a bit-field lvalue */
};

/* Types made while evaluating (pointer types, ...): live as long as the arena. */
struct cli_type_arena {
	struct cli_type **v;
	size_t n, cap;
};
const struct cli_type *cli_type_pointer_to(struct cli_type_arena *a, const struct cli_type *t);
void cli_type_arena_free(struct cli_type_arena *a);

struct cli_expr_ops {
	void *ud;
	struct cli_type_arena *arena;
	/* $NAME (registers, $1 history, convenience variables): 0, or -1 when unknown. */
	int (*var)(void *ud, const char *name, struct cli_value *out);
	/* Assign $NAME (register write or convenience variable): 0, or -1 with err. */
	int (*var_set)(void *ud, const char *name, const struct cli_value *v, char *err,
		       size_t len);
	/*
	 * A symbol: its address (as the hypervisor's own pointers hold it) and its
	 * DWARF type (NULL: no debug information). 0, or -1 when there is none.
	 */
	int (*sym)(void *ud, const char *name, uint64_t *addr, const struct cli_type **type);
	/*
	 * A local variable or argument of the selected frame (NULL: none): 0 with
	 * its value, 1 when name is no local, -1 with err (e.g. optimized out).
	 */
	int (*local)(void *ud, const char *name, struct cli_value *out, char *err, size_t len);
	int (*read)(void *ud, enum cli_xspace sp, uint64_t addr, void *buf, size_t len, char *err,
		    size_t elen);
	int (*write)(void *ud, enum cli_xspace sp, uint64_t addr, const void *buf, size_t len,
		     char *err, size_t elen);
	/* A named type: tag "struct", "union", "enum" or NULL (typedefs, base types). */
	const struct cli_type *(*type)(void *ud, const char *tag, const char *name);
	/* "sym+off" for an address, false when it is in no symbol (NULL: never). */
	bool (*symbolize)(void *ud, uint64_t addr, char *buf, size_t len);
};

/*
 * Evaluate s. On error returns -1 with a message in err and the 1-based column
 * of the offending token in *col (may be NULL). Assignment (`=`) writes
 * through ops; `&&`, `||` and `?:` evaluate (and read) only the side they take.
 */
int cli_expr_eval(const struct cli_expr_ops *ops, const char *s, struct cli_value *out, char *err,
		  size_t len, int *col);
/* The type of s without evaluating it (nothing is read or written). */
int cli_expr_eval_type(const struct cli_expr_ops *ops, const char *s, struct cli_value *out,
		       char *err, size_t len);
/* Parse a type name ("struct hyp_page *", "u64", "unsigned long"); NULL and err if none. */
const struct cli_type *cli_expr_parse_type(const struct cli_expr_ops *ops, const char *s, char *err,
					   size_t len);

/* The value as an integer (scalars; false for aggregates). */
bool cli_value_int(const struct cli_value *v, int64_t *out);
/* Truth of a condition (0 or non-zero); -1 when it is not a scalar. */
int cli_value_true(const struct cli_value *v);

/*
 * Print a value as gdb does: fmt 0 (natural), 'x', 'd', 'u', 'o', 't', 'c',
 * 'a' (address with symbol), 'z' (zero-padded hex), 's'. Aggregates are read
 * from memory. 0, or -1 with err.
 */
int cli_value_format(const struct cli_expr_ops *ops, const struct cli_value *v, char fmt,
		     struct hs_strbuf *sb, char *err, size_t len);
/* A type's name as C writes it ("struct hyp_page *", "u8 [16]"). */
void cli_type_name(const struct cli_type *t, struct hs_strbuf *sb);
/* ptype: the type with one level of struct/union/enum body expanded. */
void cli_type_print(const struct cli_type *t, struct hs_strbuf *sb);
/* Built-in types (expr_types.c); the no-debug-info ones are gdb's pseudo types. */
extern const struct cli_type cli_t_void, cli_t_bool, cli_t_char, cli_t_int, cli_t_uint, cli_t_long,
    cli_t_ulong, cli_t_nodebug_data, cli_t_nodebug_text;
/* Strip typedefs. */
const struct cli_type *cli_type_resolve(const struct cli_type *t);
/* A built-in type by name ("u64", "int", "unsigned long", "uint32_t"); NULL if none. */
const struct cli_type *cli_type_builtin(const char *name);

#endif
