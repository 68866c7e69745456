/* SPDX-License-Identifier: MIT */
/*
 * The expression evaluator (see expr.h): a recursive-descent parser with one
 * function per C precedence level that evaluates as it parses. A `skip` depth
 * turns evaluation off in the branch of &&, || and ?: that is not taken, so
 * nothing there reads memory, writes or divides.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "expr.h"

/* The built-in types expr.c itself produces (expr_types.c). */
#define t_void cli_t_void
#define t_bool cli_t_bool
#define t_int cli_t_int
#define t_uint cli_t_uint
#define t_long cli_t_long
#define t_ulong cli_t_ulong
#define t_nodebug_data cli_t_nodebug_data

/* ---- values ----------------------------------------------------------------- */

static bool is_scalar(const struct cli_type *t)
{
	t = cli_type_resolve(t);
	return t->kind == CLI_T_INT || t->kind == CLI_T_ENUM || t->kind == CLI_T_PTR;
}

static bool is_integer(const struct cli_type *t)
{
	t = cli_type_resolve(t);
	return t->kind == CLI_T_INT || t->kind == CLI_T_ENUM;
}

/* Truncate to the type's width and extend back to 64 bits. */
static uint64_t fit(const struct cli_type *t, uint64_t v)
{
	t = cli_type_resolve(t);
	uint64_t size = t->kind == CLI_T_PTR ? 8 : t->size;
	if (t->is_bool)
		return v != 0;
	if (size == 0 || size >= 8)
		return v;
	unsigned bits = (unsigned)size * 8;
	uint64_t mask = (1ULL << bits) - 1;
	v &= mask;
	if (t->is_signed && (v >> (bits - 1)) & 1)
		v |= ~mask;
	return v;
}

bool cli_value_int(const struct cli_value *v, int64_t *out)
{
	if (!is_scalar(v->type) || v->lazy)
		return false;
	*out = (int64_t)v->v;
	return true;
}

int cli_value_true(const struct cli_value *v)
{
	if (!is_scalar(v->type) || v->lazy)
		return -1;
	return v->v != 0;
}

/* ---- the parser ------------------------------------------------------------ */

enum tok {
	T_END,
	T_NUM,
	T_IDENT,
	T_VAR, /* $name */
	T_OP,  /* text in op[] */
	T_BAD,
};

struct P {
	const struct cli_expr_ops *ops;
	const char *s, *p;
	/* current token */
	enum tok t;
	const char *tstart;
	char text[128];
	uint64_t num;
	bool num_unsigned, num_long, num_hex;
	int skip; /* > 0: parse only */
	char *err;
	size_t errlen;
	int errcol;
	bool failed;
};

__attribute__((format(printf, 3, 4))) static int fail_at(struct P *P, const char *at,
							 const char *fmt, ...)
{
	if (P->failed)
		return -1;
	P->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(P->err, P->errlen, fmt, ap);
	va_end(ap);
	P->errcol = (int)((at ? at : P->p) - P->s) + 1;
	return -1;
}
#define FAIL(...) fail_at(P, P->tstart, __VA_ARGS__)

static const char *const ops2[] = {"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", NULL};

static void next(struct P *P)
{
	const char *p = P->p;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	P->tstart = p;
	P->text[0] = '\0';
	if (!*p) {
		P->t = T_END;
		P->p = p;
		return;
	}
	if (isdigit((unsigned char)*p)) {
		const char *q = p;
		int base = 10;
		if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X') && isxdigit((unsigned char)q[2]))
			base = 16, q += 2;
		else if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B') &&
			 (q[2] == '0' || q[2] == '1'))
			base = 2, q += 2;
		else if (q[0] == '0')
			base = 8;
		uint64_t v = 0;
		bool over = false;
		for (;; q++) {
			int d;
			if (isdigit((unsigned char)*q))
				d = *q - '0';
			else if (isxdigit((unsigned char)*q))
				d = 10 + tolower((unsigned char)*q) - 'a';
			else
				break;
			if (d >= base)
				break;
			if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
				over = true;
			v = v * (uint64_t)base + (uint64_t)d;
		}
		P->num_unsigned = P->num_long = false;
		P->num_hex = base != 10;
		while (*q == 'u' || *q == 'U' || *q == 'l' || *q == 'L') {
			if (*q == 'u' || *q == 'U')
				P->num_unsigned = true;
			else
				P->num_long = true;
			q++;
		}
		P->p = q;
		if (isalnum((unsigned char)*q) || *q == '_') {
			P->t = T_BAD;
			fail_at(P, p, "invalid number '%.*s'", (int)strcspn(p, " \t()+-*/"), p);
			return;
		}
		if (over) {
			P->t = T_BAD;
			fail_at(P, p, "numeric constant '%.*s' is too large", (int)(q - p), p);
			return;
		}
		P->t = T_NUM;
		P->num = v;
		return;
	}
	if (*p == '\'') {
		/* 'c', '\n', '\0', '\x41' */
		const char *q = p + 1;
		uint64_t v;
		if (*q == '\\') {
			q++;
			switch (*q) {
			case 'n':
				v = '\n';
				q++;
				break;
			case 't':
				v = '\t';
				q++;
				break;
			case 'r':
				v = '\r';
				q++;
				break;
			case 'x': {
				char *end;
				v = strtoull(q + 1, &end, 16) & 0xff;
				q = end;
				break;
			}
			default:
				if (*q >= '0' && *q <= '7') {
					char *end;
					v = strtoull(q, &end, 8) & 0xff;
					q = end;
				} else {
					v = (unsigned char)*q;
					if (*q)
						q++;
				}
			}
		} else {
			v = (unsigned char)*q;
			if (*q)
				q++;
		}
		if (*q != '\'') {
			P->t = T_BAD;
			fail_at(P, p, "unterminated character constant");
			return;
		}
		P->p = q + 1;
		P->t = T_NUM;
		P->num = v;
		P->num_unsigned = P->num_long = P->num_hex = false;
		return;
	}
	if (isalpha((unsigned char)*p) || *p == '_' || *p == '$') {
		const char *q = p + (*p == '$');
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		size_t n = (size_t)(q - p);
		if (n >= sizeof(P->text)) {
			P->t = T_BAD;
			fail_at(P, p, "name too long");
			return;
		}
		memcpy(P->text, p, n);
		P->text[n] = '\0';
		P->p = q;
		P->t = *p == '$' ? T_VAR : T_IDENT;
		return;
	}
	for (int i = 0; ops2[i]; i++) {
		if (!strncmp(p, ops2[i], 2)) {
			memcpy(P->text, p, 2);
			P->text[2] = '\0';
			P->p = p + 2;
			P->t = T_OP;
			return;
		}
	}
	if (strchr("+-*/%&|^~!<>=?:()[].,{}@", *p)) {
		P->text[0] = *p;
		P->text[1] = '\0';
		P->p = p + 1;
		P->t = T_OP;
		return;
	}
	P->t = T_BAD;
	fail_at(P, p, "unexpected character '%c'", isprint((unsigned char)*p) ? *p : '?');
}

static bool is_op(const struct P *P, const char *op)
{
	return P->t == T_OP && !strcmp(P->text, op);
}

static int expect_op(struct P *P, const char *op)
{
	if (!is_op(P, op)) {
		if (P->t == T_END)
			return FAIL("expected '%s' at the end of the expression", op);
		return FAIL("expected '%s' before '%.*s'", op, (int)strcspn(P->tstart, " \t"),
			    P->tstart);
	}
	next(P);
	return 0;
}

static struct cli_value scalar(const struct cli_type *t, uint64_t v)
{
	return (struct cli_value){.type = t, .v = fit(t, v)};
}

/* Read a lazy scalar lvalue from memory. */
static int load(struct P *P, struct cli_value *v, const char *at)
{
	if (!v->lazy)
		return 0;
	v->lazy = false;
	if (P->skip)
		return 0;
	const struct cli_type *t = cli_type_resolve(v->type);
	uint64_t size = t->kind == CLI_T_PTR ? 8 : t->size;
	uint8_t buf[16] = {0};
	size_t n = v->bit_size ? (v->bit_off + v->bit_size + 7) / 8 : (size_t)size;
	if (n == 0 || n > 8)
		return fail_at(P, at, "cannot read a %zu-byte scalar", n);
	char err[256];
	if (!P->ops->read || P->ops->read(P->ops->ud, v->space, v->addr, buf, n, err, sizeof(err)))
		return fail_at(P, at, "cannot access memory at address %#" PRIx64 ": %s", v->addr,
			       P->ops->read ? err : "no memory");
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)buf[i] << (8 * i);
	if (v->bit_size) {
		w >>= v->bit_off;
		if (v->bit_size < 64)
			w &= (1ULL << v->bit_size) - 1;
		if (t->is_signed && v->bit_size < 64 && (w >> (v->bit_size - 1)) & 1)
			w |= ~((1ULL << v->bit_size) - 1);
		v->v = w;
	} else {
		v->v = fit(t, w);
	}
	return 0;
}

/*
 * An rvalue: scalars loaded, arrays decay to a pointer to the first
 * element, functions to a pointer to the function.
 */
static int rvalue(struct P *P, struct cli_value *v, const char *at)
{
	const struct cli_type *t = cli_type_resolve(v->type);
	if (t->kind == CLI_T_ARRAY && v->lval == CLI_LV_MEM) {
		const struct cli_type *pt = cli_type_pointer_to(P->ops->arena, t->target);
		if (!pt)
			return fail_at(P, at, "out of memory");
		*v = (struct cli_value){.type = pt, .v = v->addr, .space = v->space};
		return 0;
	}
	if (t->kind == CLI_T_FUNC && v->lval == CLI_LV_MEM) {
		const struct cli_type *pt = cli_type_pointer_to(P->ops->arena, v->type);
		if (!pt)
			return fail_at(P, at, "out of memory");
		*v = (struct cli_value){.type = pt, .v = v->addr, .space = v->space};
		return 0;
	}
	if (v->type == &t_nodebug_data)
		return fail_at(P, at, "'%s' has unknown type; cast it to its declared type",
			       v->reg[0] ? v->reg : "symbol");
	if (!is_scalar(v->type))
		return fail_at(P, at, "a %s is not a number here",
			       t->kind == CLI_T_STRUCT	? "struct"
			       : t->kind == CLI_T_UNION ? "union"
							: "value of this type");
	return load(P, v, at);
}

/* The type arithmetic on a and b is done in (C's usual arithmetic conversions). */
static const struct cli_type *arith_type(const struct cli_type *a, const struct cli_type *b)
{
	a = cli_type_resolve(a);
	b = cli_type_resolve(b);
	uint64_t sa = a->size < 4 ? 4 : a->size, sb = b->size < 4 ? 4 : b->size;
	bool ua = a->size >= 4 && !a->is_signed && a->kind != CLI_T_ENUM;
	bool ub = b->size >= 4 && !b->is_signed && b->kind != CLI_T_ENUM;
	uint64_t s = sa > sb ? sa : sb;
	bool u = (sa == s && ua) || (sb == s && ub);
	if (s >= 8)
		return u ? &t_ulong : &t_long;
	return u ? &t_uint : &t_int;
}

static const struct cli_type *promote(const struct cli_type *a)
{
	return arith_type(a, &t_int);
}

static int parse_assign(struct P *P, struct cli_value *out);
static int parse_unary(struct P *P, struct cli_value *out);

/* ---- type names -------------------------------------------------------------- */

static bool type_word(const char *w)
{
	static const char *const words[] = {"unsigned", "signed", "int",   "long",  "short",
					    "char",	"void",	  "_Bool", "const", "volatile",
					    "struct",	"union",  "enum",  NULL};
	for (int i = 0; words[i]; i++)
		if (!strcmp(words[i], w))
			return true;
	return false;
}

static const struct cli_type *named_type(struct P *P, const char *tag, const char *name)
{
	if (!tag) {
		const struct cli_type *t = cli_type_builtin(name);
		if (t)
			return t;
	}
	return P->ops->type ? P->ops->type(P->ops->ud, tag, name) : NULL;
}

/* Does the current token start a type name? (Used after '(' and by sizeof.) */
static bool starts_type(struct P *P)
{
	if (P->t != T_IDENT)
		return false;
	if (type_word(P->text))
		return true;
	if (!named_type(P, NULL, P->text))
		return false;
	/* A typedef name followed by ')' or '*': a cast, not an expression. */
	const char *q = P->p;
	while (*q == ' ' || *q == '\t')
		q++;
	return *q == ')' || *q == '*';
}

/* type-name: specifiers, then '*'s. Leaves the token after it. */
static const struct cli_type *parse_type(struct P *P)
{
	char words[128] = "";
	const char *tag = NULL;
	char tagname[128] = "";
	const char *start = P->tstart;
	while (P->t == T_IDENT) {
		if (!strcmp(P->text, "const") || !strcmp(P->text, "volatile")) {
			next(P);
			continue;
		}
		if (!strcmp(P->text, "struct") || !strcmp(P->text, "union") ||
		    !strcmp(P->text, "enum")) {
			tag = !strcmp(P->text, "struct")  ? "struct"
			      : !strcmp(P->text, "union") ? "union"
							  : "enum";
			next(P);
			if (P->t != T_IDENT) {
				FAIL("expected a name after '%s'", tag);
				return NULL;
			}
			snprintf(tagname, sizeof(tagname), "%s", P->text);
			next(P);
			break;
		}
		if (*words && !type_word(P->text))
			break; /* "u64 x": the name ends the type */
		if (strlen(words) + strlen(P->text) + 2 >= sizeof(words)) {
			FAIL("type name too long");
			return NULL;
		}
		if (*words)
			strcat(words, " ");
		strcat(words, P->text);
		bool single = !type_word(P->text);
		next(P);
		if (single)
			break; /* a typedef name stands alone */
	}
	const struct cli_type *t = NULL;
	if (tag) {
		t = named_type(P, tag, tagname);
		if (!t) {
			fail_at(P, start, "no %s %s in the hypervisor's debug information", tag,
				tagname);
			return NULL;
		}
	} else if (*words) {
		t = named_type(P, NULL, words);
		if (!t) {
			fail_at(P, start, "no type named '%s'", words);
			return NULL;
		}
	} else {
		FAIL("expected a type name");
		return NULL;
	}
	while (is_op(P, "*")) {
		t = cli_type_pointer_to(P->ops->arena, t);
		if (!t) {
			FAIL("out of memory");
			return NULL;
		}
		next(P);
	}
	while (P->t == T_IDENT && (!strcmp(P->text, "const") || !strcmp(P->text, "volatile")))
		next(P);
	return t;
}

const struct cli_type *cli_expr_parse_type(const struct cli_expr_ops *ops, const char *s, char *err,
					   size_t len)
{
	struct P P = {.ops = ops, .s = s, .p = s, .err = err, .errlen = len};
	next(&P);
	const struct cli_type *t = parse_type(&P);
	if (t && P.t != T_END) {
		fail_at(&P, P.tstart, "junk after the type name: '%s'", P.tstart);
		return NULL;
	}
	return P.failed ? NULL : t;
}

/* ---- casts and conversions ---------------------------------------------------- */

static int cast(struct P *P, const struct cli_type *to, struct cli_value *v, const char *at)
{
	const struct cli_type *rt = cli_type_resolve(to);
	/* An object without debug information is reinterpreted, as gdb does. */
	if (v->type == &t_nodebug_data && v->lval == CLI_LV_MEM) {
		v->type = to;
		v->lazy = is_scalar(to);
		return 0;
	}
	if (rt->kind == CLI_T_VOID) {
		*v = (struct cli_value){.type = to};
		return 0;
	}
	if (!is_scalar(to))
		return fail_at(P, at, "cannot cast to a %s",
			       rt->kind == CLI_T_STRUCT	 ? "struct"
			       : rt->kind == CLI_T_ARRAY ? "array"
							 : "non-scalar type");
	if (rvalue(P, v, at))
		return -1;
	enum cli_xspace sp = v->space;
	*v = scalar(to, v->v);
	v->space = sp;
	return 0;
}

/* ---- primary and postfix ------------------------------------------------------ */

static int errno_value(const char *name, int64_t *v)
{
	return cli_parse_num(name, v) ? 0 : -1;
}

static int parse_primary(struct P *P, struct cli_value *out)
{
	const char *at = P->tstart;
	if (P->t == T_NUM) {
		uint64_t v = P->num;
		const struct cli_type *t;
		if (!P->num_unsigned && !P->num_long && v <= INT32_MAX)
			t = &t_int;
		else if (!P->num_unsigned && !P->num_long && P->num_hex && v <= UINT32_MAX)
			t = &t_uint;
		else if (!P->num_unsigned && v <= INT64_MAX)
			t = P->num_long || v > UINT32_MAX || !P->num_hex ? &t_long : &t_uint;
		else if (P->num_unsigned && !P->num_long && v <= UINT32_MAX)
			t = &t_uint;
		else
			t = &t_ulong;
		*out = scalar(t, v);
		next(P);
		return 0;
	}
	if (P->t == T_VAR) {
		const char *name = P->text + 1;
		char nm[128];
		snprintf(nm, sizeof(nm), "%s", name);
		next(P);
		if (!*nm)
			return fail_at(P, at, "'$' needs a register or variable name");
		struct cli_value v = {0};
		if (!P->ops->var || P->ops->var(P->ops->ud, nm, &v)) {
			/* gdb: an unset convenience variable is void; assigning creates it. */
			v = (struct cli_value){.type = &t_void};
		}
		if (!v.type)
			v.type = &t_void;
		if (v.lval == CLI_LV_NONE) {
			v.lval = CLI_LV_REG;
			snprintf(v.reg, sizeof(v.reg), "%.31s", nm);
		}
		*out = v;
		return 0;
	}
	if (P->t == T_IDENT) {
		char name[128];
		snprintf(name, sizeof(name), "%s", P->text);
		next(P);
		if (!strcmp(name, "sizeof"))
			return FAIL("sizeof needs parentheses here");
		uint64_t addr;
		const struct cli_type *t = NULL;
		if (P->ops->local) { /* the selected frame's variables hide globals, as in C */
			char lerr[160];
			int lr = P->ops->local(P->ops->ud, name, out, lerr, sizeof(lerr));
			if (lr < 0)
				return fail_at(P, at, "%s", lerr);
			if (!lr)
				return 0;
		}
		if (P->ops->sym && !P->ops->sym(P->ops->ud, name, &addr, &t)) {
			if (!t)
				t = &t_nodebug_data;
			*out = (struct cli_value){.type = t, .lval = CLI_LV_MEM, .addr = addr};
			if (t == &t_nodebug_data)
				snprintf(out->reg, sizeof(out->reg), "%.31s", name);
			out->lazy = is_scalar(t);
			return 0;
		}
		int64_t e;
		if (!errno_value(name, &e)) {
			*out = scalar(&t_long, (uint64_t)e);
			return 0;
		}
		return fail_at(P, at, "no symbol \"%s\" in the hypervisor image", name);
	}
	if (is_op(P, "(")) {
		next(P);
		if (parse_assign(P, out))
			return -1;
		return expect_op(P, ")");
	}
	if (P->t == T_END)
		return FAIL("expected an expression at the end");
	if (P->t == T_BAD)
		return -1;
	return FAIL("expected an expression before '%s'", P->text);
}

static const struct cli_member *find_member(const struct cli_type *t, const char *name,
					    uint64_t *off)
{
	t = cli_type_resolve(t);
	for (size_t i = 0; i < t->nmembers; i++) {
		const struct cli_member *m = &t->members[i];
		if (m->name && !strcmp(m->name, name)) {
			*off += m->offset;
			return m;
		}
		if (!m->name) { /* anonymous struct/union: look inside */
			uint64_t o = *off + m->offset;
			const struct cli_member *r = find_member(m->type, name, &o);
			if (r) {
				*off = o;
				return r;
			}
		}
	}
	return NULL;
}

static int member(struct P *P, struct cli_value *v, const char *name, const char *at)
{
	const struct cli_type *t = cli_type_resolve(v->type);
	if (t->kind != CLI_T_STRUCT && t->kind != CLI_T_UNION)
		return fail_at(P, at, "'.%s': the left side is not a struct or union", name);
	if (v->lval != CLI_LV_MEM)
		return fail_at(P, at, "'.%s': the struct is not in memory", name);
	uint64_t off = 0;
	const struct cli_member *m = find_member(t, name, &off);
	if (!m) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		cli_type_name(v->type, &sb);
		fail_at(P, at, "there is no member named %s in %s", name, hs_sb_str(&sb));
		hs_sb_free(&sb);
		return -1;
	}
	struct cli_value r = {.type = m->type,
			      .lval = CLI_LV_MEM,
			      .addr = v->addr + off,
			      .space = v->space,
			      .bit_off = m->bit_off,
			      .bit_size = m->bit_size};
	r.lazy = is_scalar(m->type);
	*v = r;
	return 0;
}

static int deref(struct P *P, struct cli_value *v, const char *at)
{
	if (rvalue(P, v, at))
		return -1;
	const struct cli_type *t = cli_type_resolve(v->type);
	if (t->kind != CLI_T_PTR) {
		if (is_integer(v->type))
			return fail_at(P, at,
				       "attempt to take contents of a non-pointer value "
				       "(cast it first: *(u64 *)ADDR)");
		return fail_at(P, at, "attempt to take contents of a non-pointer value");
	}
	const struct cli_type *tt = cli_type_resolve(t->target);
	if (tt->kind == CLI_T_VOID)
		return fail_at(P, at, "attempt to take contents of a void pointer (cast it first)");
	struct cli_value r = {
	    .type = t->target, .lval = CLI_LV_MEM, .addr = v->v, .space = v->space};
	r.lazy = is_scalar(t->target);
	*v = r;
	return 0;
}

static int parse_postfix(struct P *P, struct cli_value *out)
{
	if (parse_primary(P, out))
		return -1;
	for (;;) {
		const char *at = P->tstart;
		if (is_op(P, ".") || is_op(P, "->")) {
			bool arrow = P->text[0] == '-';
			next(P);
			if (P->t != T_IDENT)
				return FAIL("expected a member name after '%s'",
					    arrow ? "->" : ".");
			char name[128];
			snprintf(name, sizeof(name), "%s", P->text);
			next(P);
			if (arrow && deref(P, out, at))
				return -1;
			if (member(P, out, name, at))
				return -1;
		} else if (is_op(P, "[")) {
			next(P);
			struct cli_value idx;
			if (parse_assign(P, &idx) || expect_op(P, "]"))
				return -1;
			if (rvalue(P, out, at) || rvalue(P, &idx, at))
				return -1;
			const struct cli_type *t = cli_type_resolve(out->type);
			if (t->kind != CLI_T_PTR || !is_integer(idx.type))
				return fail_at(P, at, "cannot subscript something of this type");
			uint64_t esz = cli_type_resolve(t->target)->size;
			struct cli_value p = *out;
			p.v = out->v + idx.v * esz;
			*out = p;
			if (deref(P, out, at))
				return -1;
		} else {
			return 0;
		}
	}
}

/* ---- unary --------------------------------------------------------------------- */

static int sizeof_type(const struct cli_type *t, struct cli_value *out)
{
	*out = scalar(&t_ulong, cli_type_resolve(t)->size);
	return 0;
}

static int parse_unary(struct P *P, struct cli_value *out)
{
	const char *at = P->tstart;
	if (P->t == T_IDENT && !strcmp(P->text, "sizeof")) {
		next(P);
		if (is_op(P, "(")) {
			const char *save_p = P->p;
			struct P save = *P;
			next(P);
			if (starts_type(P)) {
				const struct cli_type *t = parse_type(P);
				if (!t || expect_op(P, ")"))
					return -1;
				return sizeof_type(t, out);
			}
			*P = save;
			P->p = save_p;
		}
		struct cli_value v;
		P->skip++;
		int rc = parse_unary(P, &v);
		P->skip--;
		if (rc)
			return -1;
		return sizeof_type(v.type, out);
	}
	if (P->t == T_IDENT &&
	    (!strcmp(P->text, "pa") || !strcmp(P->text, "va") || !strcmp(P->text, "ipa"))) {
		const char *q = P->p;
		if (*q == ':') {
			enum cli_xspace sp = !strcmp(P->text, "pa")   ? CLI_XS_PA
					     : !strcmp(P->text, "va") ? CLI_XS_VA
								      : CLI_XS_IPA;
			P->p = q + 1;
			next(P);
			if (parse_unary(P, out) || rvalue(P, out, at))
				return -1;
			out->space = sp;
			return 0;
		}
	}
	if (P->t != T_OP)
		return parse_postfix(P, out);
	if (is_op(P, "(")) {
		/* A cast? */
		struct P save = *P;
		next(P);
		if (starts_type(P)) {
			const struct cli_type *t = parse_type(P);
			if (!t || expect_op(P, ")"))
				return -1;
			if (parse_unary(P, out))
				return -1;
			return cast(P, t, out, at);
		}
		*P = save;
		return parse_postfix(P, out);
	}
	if (is_op(P, "{")) {
		/* gdb's {TYPE} ADDR: the object of that type at ADDR */
		next(P);
		const struct cli_type *t = parse_type(P);
		if (!t || expect_op(P, "}"))
			return -1;
		if (parse_unary(P, out) || rvalue(P, out, at))
			return -1;
		if (!is_integer(out->type) && cli_type_resolve(out->type)->kind != CLI_T_PTR)
			return fail_at(P, at, "{TYPE} needs an address");
		*out = (struct cli_value){
		    .type = t, .lval = CLI_LV_MEM, .addr = out->v, .space = out->space};
		out->lazy = is_scalar(t);
		return 0;
	}
	char op = P->text[0];
	if (P->text[1] || !strchr("-+!~*&", op))
		return parse_postfix(P, out);
	next(P);
	if (parse_unary(P, out))
		return -1;
	switch (op) {
	case '*':
		return deref(P, out, at);
	case '&': {
		if (out->lval != CLI_LV_MEM)
			return fail_at(P, at,
				       "attempt to take the address of a value not in memory");
		if (out->bit_size)
			return fail_at(P, at, "attempt to take the address of a bit field");
		const struct cli_type *pt = cli_type_pointer_to(P->ops->arena, out->type);
		if (!pt)
			return fail_at(P, at, "out of memory");
		*out = (struct cli_value){.type = pt, .v = out->addr, .space = out->space};
		return 0;
	}
	default:
		break;
	}
	if (rvalue(P, out, at))
		return -1;
	if (op == '!') {
		*out = scalar(&t_int, out->v == 0);
		return 0;
	}
	if (!is_integer(out->type))
		return fail_at(P, at, "unary '%c' needs an integer", op);
	const struct cli_type *t = promote(out->type);
	uint64_t v = out->v;
	if (op == '-')
		v = 0 - v; /* unsigned: no overflow */
	else if (op == '~')
		v = ~v;
	*out = scalar(t, v);
	return 0;
}

/* ---- binary operators ---------------------------------------------------------- */

static int arith(struct P *P, const char *op, struct cli_value *a, struct cli_value *b,
		 const char *at)
{
	const struct cli_type *ta = cli_type_resolve(a->type), *tb = cli_type_resolve(b->type);
	bool pa = ta->kind == CLI_T_PTR, pb = tb->kind == CLI_T_PTR;
	/* Pointer arithmetic scales by the pointed-to size. */
	if ((pa || pb) && (!strcmp(op, "+") || !strcmp(op, "-"))) {
		if (pa && pb && op[0] == '-') {
			uint64_t esz = cli_type_resolve(ta->target)->size;
			if (!esz)
				esz = 1;
			int64_t d = (int64_t)(a->v - b->v);
			/* INT64_MIN / -1 cannot happen: esz > 0 */
			*a = scalar(&t_long, (uint64_t)(d / (int64_t)esz));
			return 0;
		}
		if (pa && pb)
			return fail_at(P, at, "cannot add two pointers");
		struct cli_value *p = pa ? a : b, *n = pa ? b : a;
		if (!is_integer(n->type))
			return fail_at(P, at, "pointer arithmetic needs an integer");
		if (pb && op[0] == '-')
			return fail_at(P, at, "cannot subtract a pointer from an integer");
		uint64_t esz = cli_type_resolve(cli_type_resolve(p->type)->target)->size;
		if (!esz)
			esz = 1;
		uint64_t d = n->v * esz;
		struct cli_value r = *p;
		r.v = op[0] == '+' ? p->v + d : p->v - d;
		*a = r;
		return 0;
	}
	bool cmp = !strcmp(op, "==") || !strcmp(op, "!=") || !strcmp(op, "<") ||
		   !strcmp(op, "<=") || !strcmp(op, ">") || !strcmp(op, ">=");
	if (!(is_integer(a->type) || (cmp && pa)) || !(is_integer(b->type) || (cmp && pb)))
		return fail_at(P, at, "'%s' needs integers", op);
	const struct cli_type *t = pa || pb ? &t_ulong : arith_type(a->type, b->type);
	uint64_t x = fit(t, a->v), y = fit(t, b->v), r = 0;
	bool sg = cli_type_resolve(t)->is_signed;
	unsigned bits = (unsigned)cli_type_resolve(t)->size * 8;
	if (cmp) {
		int c = sg ? ((int64_t)x < (int64_t)y ? -1 : (int64_t)x > (int64_t)y)
			   : (x < y ? -1 : x > y);
		bool res = !strcmp(op, "==")   ? c == 0
			   : !strcmp(op, "!=") ? c != 0
			   : !strcmp(op, "<")  ? c < 0
			   : !strcmp(op, "<=") ? c <= 0
			   : !strcmp(op, ">")  ? c > 0
					       : c >= 0;
		*a = scalar(&t_int, res);
		return 0;
	}
	switch (op[0]) {
	case '+':
		r = x + y;
		break;
	case '-':
		r = x - y;
		break;
	case '*':
		r = x * y; /* unsigned multiply: the low bits are C's signed result too */
		break;
	case '/':
	case '%':
		if (fit(t, y) == 0) {
			if (P->skip)
				break;
			return fail_at(P, at, "division by zero");
		}
		if (sg) {
			int64_t sx = (int64_t)x, sy = (int64_t)y;
			if (sy == -1) /* INT64_MIN / -1 overflows in C: wrap as the hardware does */
				r = op[0] == '/' ? 0 - x : 0;
			else
				r = (uint64_t)(op[0] == '/' ? sx / sy : sx % sy);
		} else {
			r = op[0] == '/' ? x / y : x % y;
		}
		break;
	case '&':
		r = x & y;
		break;
	case '|':
		r = x | y;
		break;
	case '^':
		r = x ^ y;
		break;
	case '<':
	case '>': {
		/* The result has the (promoted) type of the left operand. */
		t = promote(a->type);
		sg = cli_type_resolve(t)->is_signed;
		bits = (unsigned)cli_type_resolve(t)->size * 8;
		x = fit(t, a->v);
		bool neg_count = cli_type_resolve(b->type)->is_signed && (int64_t)b->v < 0;
		if (neg_count || b->v >= bits)
			r = op[0] == '>' && sg && (int64_t)x < 0 ? UINT64_MAX : 0;
		else if (op[0] == '<')
			r = x << b->v;
		else if (sg && (int64_t)x < 0)
			r = ~(~x >> b->v);
		else
			r = x >> b->v;
		break;
	}
	default:
		return fail_at(P, at, "unknown operator '%s'", op);
	}
	(void)bits;
	*a = scalar(t, r);
	return 0;
}

/* Binary levels from loosest to tightest (C precedence); each is left-associative. */
static const char *const levels[][6] = {
    {"|", NULL},
    {"^", NULL},
    {"&", NULL},
    {"==", "!=", NULL},
    {"<", "<=", ">", ">=", NULL},
    {"<<", ">>", NULL},
    {"+", "-", NULL},
    {"*", "/", "%", NULL},
};
#define NLEVELS ((int)(sizeof(levels) / sizeof(levels[0])))

static int parse_level(struct P *P, int lv, struct cli_value *out)
{
	if (lv == NLEVELS)
		return parse_unary(P, out);
	const char *aat = P->tstart;
	if (parse_level(P, lv + 1, out))
		return -1;
	for (;;) {
		const char *hit = NULL;
		for (int i = 0; P->t == T_OP && levels[lv][i]; i++)
			if (!strcmp(P->text, levels[lv][i]))
				hit = levels[lv][i];
		if (!hit)
			return 0;
		const char *at = P->tstart;
		next(P);
		const char *bat = P->tstart;
		struct cli_value b;
		if (parse_level(P, lv + 1, &b))
			return -1;
		if (P->skip) {
			*out = scalar(&t_int, 0);
			continue;
		}
		if (rvalue(P, out, aat) || rvalue(P, &b, bat) || arith(P, hit, out, &b, at))
			return -1;
	}
}

/*
 * && (is_or false) and || (true): the right side is evaluated only when the
 * left does not decide the result; the result is an int 0 or 1.
 */
static int parse_logic(struct P *P, bool is_or, struct cli_value *out)
{
	const char *op = is_or ? "||" : "&&";
	if (is_or ? parse_logic(P, false, out) : parse_level(P, 0, out))
		return -1;
	while (is_op(P, op)) {
		const char *at = P->tstart;
		next(P);
		bool left = !is_or;
		if (!P->skip) {
			if (rvalue(P, out, at))
				return -1;
			left = out->v != 0;
		}
		bool decided = left == is_or; /* 1 || x, 0 && x */
		struct cli_value b;
		const char *bat = P->tstart;
		P->skip += decided;
		int rc = is_or ? parse_logic(P, false, &b) : parse_level(P, 0, &b);
		P->skip -= decided;
		if (rc)
			return -1;
		bool r = left;
		if (!decided && !P->skip) {
			if (rvalue(P, &b, bat))
				return -1;
			r = b.v != 0;
		}
		*out = scalar(&t_int, r);
	}
	return 0;
}

static int parse_cond(struct P *P, struct cli_value *out)
{
	if (parse_logic(P, true, out))
		return -1;
	if (!is_op(P, "?"))
		return 0;
	const char *at = P->tstart;
	next(P);
	bool t = true;
	if (!P->skip) {
		if (rvalue(P, out, at))
			return -1;
		t = out->v != 0;
	}
	struct cli_value a, b;
	P->skip += !t;
	int rc = parse_assign(P, &a);
	P->skip -= !t;
	if (rc || expect_op(P, ":"))
		return -1;
	P->skip += t;
	rc = parse_cond(P, &b);
	P->skip -= t;
	if (rc)
		return -1;
	*out = t ? a : b;
	return 0;
}

static int assign(struct P *P, struct cli_value *lhs, struct cli_value *rhs, const char *at)
{
	if (P->skip)
		return 0;
	if (lhs->lval == CLI_LV_REG) {
		if (rvalue(P, rhs, at))
			return -1;
		struct cli_value v = *rhs;
		/* A register keeps its own type; a convenience variable takes the value's. */
		if (lhs->type && cli_type_resolve(lhs->type)->kind != CLI_T_VOID)
			v = scalar(lhs->type, rhs->v);
		char err[256] = "";
		if (!P->ops->var_set || P->ops->var_set(P->ops->ud, lhs->reg, &v, err, sizeof(err)))
			return fail_at(P, at, "cannot set $%s: %s", lhs->reg,
				       *err ? err : "read-only");
		v.lval = CLI_LV_REG;
		snprintf(v.reg, sizeof(v.reg), "%s", lhs->reg);
		*lhs = v;
		return 0;
	}
	if (lhs->lval != CLI_LV_MEM)
		return fail_at(P, at, "left operand of assignment is not an lvalue");
	if (!is_scalar(lhs->type))
		return fail_at(P, at, "can only assign to a scalar (integer, enum or pointer)");
	if (rvalue(P, rhs, at))
		return -1;
	const struct cli_type *t = cli_type_resolve(lhs->type);
	size_t size = t->kind == CLI_T_PTR ? 8 : (size_t)t->size;
	uint8_t buf[16] = {0};
	size_t n = size;
	uint64_t w = rhs->v;
	char err[256];
	if (lhs->bit_size) {
		n = (lhs->bit_off + lhs->bit_size + 7) / 8;
		if (n > 8)
			return fail_at(P, at, "bit field too wide");
		if (!P->ops->read ||
		    P->ops->read(P->ops->ud, lhs->space, lhs->addr, buf, n, err, sizeof(err)))
			return fail_at(P, at, "cannot access memory at address %#" PRIx64,
				       lhs->addr);
		uint64_t old = 0;
		for (size_t i = 0; i < n; i++)
			old |= (uint64_t)buf[i] << (8 * i);
		uint64_t mask = (lhs->bit_size >= 64 ? ~0ULL : (1ULL << lhs->bit_size) - 1)
				<< lhs->bit_off;
		w = (old & ~mask) | ((rhs->v << lhs->bit_off) & mask);
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(w >> (8 * i));
	if (!P->ops->write ||
	    P->ops->write(P->ops->ud, lhs->space, lhs->addr, buf, n, err, sizeof(err)))
		return fail_at(P, at, "cannot write memory at address %#" PRIx64 ": %s", lhs->addr,
			       P->ops->write ? err : "read-only");
	lhs->lazy = true;
	return load(P, lhs, at);
}

static int parse_assign(struct P *P, struct cli_value *out)
{
	if (parse_cond(P, out))
		return -1;
	if (!is_op(P, "="))
		return 0;
	const char *at = P->tstart;
	next(P);
	struct cli_value rhs;
	if (parse_assign(P, &rhs))
		return -1;
	return assign(P, out, &rhs, at);
}

/* type_only: parse and type, read and write nothing (ptype, whatis, sizeof). */
static int eval(const struct cli_expr_ops *ops, const char *s, struct cli_value *out, char *err,
		size_t len, int *col, bool type_only)
{
	struct P P = {.ops = ops, .s = s, .p = s, .err = err, .errlen = len, .skip = type_only};
	if (len)
		err[0] = '\0';
	next(&P);
	if (!P.failed && P.t == T_END)
		fail_at(&P, P.tstart, "expected an expression");
	if (!P.failed && !parse_assign(&P, out) && P.t != T_END)
		fail_at(&P, P.tstart, "junk at the end of the expression: '%s'", P.tstart);
	if (!type_only && !P.failed && out->type == &t_nodebug_data)
		rvalue(&P, out, s); /* gdb: "'x' has unknown type; cast it to its declared type" */
	if (!type_only && !P.failed && out->lazy)
		load(&P, out, s);
	if (P.failed && col)
		*col = P.errcol;
	return P.failed ? -1 : 0;
}

int cli_expr_eval(const struct cli_expr_ops *ops, const char *s, struct cli_value *out, char *err,
		  size_t len, int *col)
{
	return eval(ops, s, out, err, len, col, false);
}

int cli_expr_eval_type(const struct cli_expr_ops *ops, const char *s, struct cli_value *out,
		       char *err, size_t len)
{
	return eval(ops, s, out, err, len, NULL, true);
}
