/* SPDX-License-Identifier: MIT */
/*
 * Printing values and types the way gdb prints them: `print` (natural and
 * /x /d /u /o /t /c /a /z /s), `ptype` and `whatis`.
 */
#include <ctype.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"

/* ---- type names --------------------------------------------------------------- */

static void base_name(const struct cli_type *t, struct hs_strbuf *sb)
{
	switch (t->kind) {
	case CLI_T_STRUCT:
		hs_sb_printf(sb, "struct %s", t->name ? t->name : "{...}");
		return;
	case CLI_T_UNION:
		hs_sb_printf(sb, "union %s", t->name ? t->name : "{...}");
		return;
	case CLI_T_ENUM:
		hs_sb_printf(sb, "enum %s", t->name ? t->name : "{...}");
		return;
	default:
		hs_sb_puts(sb, t->name ? t->name : "?");
	}
}

/* C declarator syntax: the base type, then `inner` wrapped by pointers/arrays/functions. */
static void decl(const struct cli_type *t, const char *inner, struct hs_strbuf *sb, int depth)
{
	char buf[512];
	if (!t || depth > 32) {
		hs_sb_printf(sb, "?%s%s", *inner ? " " : "", inner);
		return;
	}
	switch (t->kind) {
	case CLI_T_PTR: {
		const struct cli_type *tt = t->target;
		bool wrap =
		    tt && (tt->kind == CLI_T_ARRAY || tt->kind == CLI_T_FUNC) && tt->name == NULL;
		snprintf(buf, sizeof(buf), wrap ? "(*%s)" : "*%s", inner);
		decl(tt, buf, sb, depth + 1);
		return;
	}
	case CLI_T_ARRAY:
		snprintf(buf, sizeof(buf), "%s[%" PRIu64 "]", inner, t->count);
		decl(t->target, buf, sb, depth + 1);
		return;
	case CLI_T_FUNC:
		if (!t->name) {
			snprintf(buf, sizeof(buf), "%s(void)", inner);
			decl(t->target, buf, sb, depth + 1);
			return;
		}
		break;
	default:
		break;
	}
	base_name(t, sb);
	if (*inner)
		hs_sb_printf(sb, " %s", inner);
}

void cli_type_name(const struct cli_type *t, struct hs_strbuf *sb)
{
	decl(t, "", sb, 0);
}

static void body(const struct cli_type *t, struct hs_strbuf *sb, int indent, int depth)
{
	if (t->kind == CLI_T_ENUM) {
		hs_sb_puts(sb, " {");
		for (size_t i = 0; i < t->nenums; i++)
			hs_sb_printf(sb, "%s%s", i ? ", " : "", t->enums[i].name);
		hs_sb_puts(sb, "}");
		return;
	}
	hs_sb_puts(sb, " {\n");
	for (size_t i = 0; i < t->nmembers; i++) {
		const struct cli_member *m = &t->members[i];
		hs_sb_printf(sb, "%*s", indent + 4, "");
		const struct cli_type *mt = cli_type_resolve(m->type);
		if (!m->name && (mt->kind == CLI_T_STRUCT || mt->kind == CLI_T_UNION) &&
		    depth < 8) {
			hs_sb_puts(sb, mt->kind == CLI_T_STRUCT ? "struct" : "union");
			body(mt, sb, indent + 4, depth + 1);
			hs_sb_puts(sb, ";\n");
			continue;
		}
		decl(m->type, m->name ? m->name : "", sb, 0);
		if (m->bit_size)
			hs_sb_printf(sb, " : %u", m->bit_size);
		hs_sb_puts(sb, ";\n");
	}
	hs_sb_printf(sb, "%*s}", indent, "");
}

void cli_type_print(const struct cli_type *t, struct hs_strbuf *sb)
{
	/* ptype strips typedefs and shows the body of the struct/union/enum it reaches. */
	const struct cli_type *r = cli_type_resolve(t);
	struct hs_strbuf suffix, tmp;
	hs_sb_init(&suffix);
	hs_sb_init(&tmp);
	for (int n = 0; n < 16 && (r->kind == CLI_T_PTR || r->kind == CLI_T_ARRAY); n++) {
		hs_sb_reset(&tmp);
		if (r->kind == CLI_T_PTR)
			hs_sb_printf(&tmp, "*%s", hs_sb_str(&suffix));
		else
			hs_sb_printf(&tmp, "%s[%" PRIu64 "]", hs_sb_str(&suffix), r->count);
		hs_sb_reset(&suffix);
		hs_sb_puts(&suffix, hs_sb_str(&tmp));
		r = cli_type_resolve(r->target);
	}
	bool body_shown =
	    r->kind == CLI_T_STRUCT || r->kind == CLI_T_UNION || r->kind == CLI_T_ENUM;
	if (body_shown) {
		base_name(r, sb);
		body(r, sb, 0, 0);
		if (suffix.len)
			hs_sb_printf(sb, " %s", hs_sb_str(&suffix));
	}
	hs_sb_free(&suffix);
	hs_sb_free(&tmp);
	if (body_shown)
		return;
	decl(cli_type_resolve(t), "", sb, 0);
}

/* ---- values -------------------------------------------------------------------- */

struct F {
	const struct cli_expr_ops *ops;
	char fmt;
	char *err;
	size_t errlen;
	unsigned elements; /* printed so far (gdb's limit: 200) */
};

static void put_char(struct hs_strbuf *sb, unsigned ch, char quote)
{
	switch (ch) {
	case '\n':
		hs_sb_puts(sb, "\\n");
		return;
	case '\t':
		hs_sb_puts(sb, "\\t");
		return;
	case '\r':
		hs_sb_puts(sb, "\\r");
		return;
	case '\\':
		hs_sb_puts(sb, "\\\\");
		return;
	default:
		break;
	}
	if (ch == (unsigned char)quote)
		hs_sb_printf(sb, "\\%c", quote);
	else if (ch >= 0x20 && ch < 0x7f)
		hs_sb_putc(sb, (char)ch);
	else
		hs_sb_printf(sb, "\\%03o", ch & 0xff);
}

static void sym_suffix(const struct F *F, uint64_t addr, struct hs_strbuf *sb)
{
	char s[160];
	if (F->ops->symbolize && F->ops->symbolize(F->ops->ud, addr, s, sizeof(s)) && *s)
		hs_sb_printf(sb, " <%s>", s);
}

static void int_fmt(const struct F *F, const struct cli_type *t, uint64_t v, char fmt,
		    struct hs_strbuf *sb)
{
	t = cli_type_resolve(t);
	unsigned size = t->kind == CLI_T_PTR ? 8 : (unsigned)(t->size ? t->size : 8);
	uint64_t mask = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	uint64_t u = v & mask;
	switch (fmt) {
	case 'x':
		hs_sb_printf(sb, "0x%" PRIx64, u); /* gdb prints 0 as 0x0 */
		return;
	case 'z':
		hs_sb_printf(sb, "0x%0*" PRIx64, (int)size * 2, u);
		return;
	case 'o':
		hs_sb_printf(sb, u ? "0%" PRIo64 : "%" PRIo64, u);
		return;
	case 't': {
		char bits[65];
		int n = 0;
		for (int i = 63; i >= 0; i--)
			if (n || (u >> i) & 1 || i == 0)
				bits[n++] = (char)('0' + ((u >> i) & 1));
		bits[n] = '\0';
		hs_sb_puts(sb, bits);
		return;
	}
	case 'd': {
		int64_t s = (int64_t)v;
		if (size < 8 && (u >> (size * 8 - 1)) & 1)
			s = (int64_t)(u | ~mask);
		else if (size < 8)
			s = (int64_t)u;
		hs_sb_printf(sb, "%" PRId64, s);
		return;
	}
	case 'u':
		hs_sb_printf(sb, "%" PRIu64, u);
		return;
	case 'c':
		hs_sb_printf(sb, "%" PRId64 " '", (int64_t)(int8_t)(uint8_t)u);
		put_char(sb, (unsigned)(u & 0xff), '\'');
		hs_sb_puts(sb, "'");
		return;
	case 'a':
		hs_sb_printf(sb, "0x%" PRIx64, u);
		sym_suffix(F, u, sb);
		return;
	default:
		break;
	}
	/* natural */
	if (t->kind == CLI_T_PTR) {
		hs_sb_printf(sb, "0x%" PRIx64, u);
		const struct cli_type *tt = cli_type_resolve(t->target);
		if (tt->kind == CLI_T_FUNC || tt->kind == CLI_T_VOID || tt->kind == CLI_T_INT ||
		    tt->kind == CLI_T_STRUCT || tt->kind == CLI_T_ARRAY)
			sym_suffix(F, u, sb);
		return;
	}
	if (t->kind == CLI_T_ENUM) {
		for (size_t i = 0; i < t->nenums; i++) {
			if ((uint64_t)t->enums[i].value == v) {
				hs_sb_puts(sb, t->enums[i].name);
				return;
			}
		}
		hs_sb_printf(sb, "%" PRId64, (int64_t)v);
		return;
	}
	if (t->is_bool) {
		hs_sb_puts(sb, v ? "true" : v == 0 ? "false" : "?");
		return;
	}
	if (t->is_char) {
		hs_sb_printf(sb, "%" PRId64 " '", t->is_signed ? (int64_t)v : (int64_t)u);
		put_char(sb, (unsigned)(u & 0xff), '\'');
		hs_sb_puts(sb, "'");
		return;
	}
	if (t->is_signed)
		hs_sb_printf(sb, "%" PRId64, (int64_t)v);
	else
		hs_sb_printf(sb, "%" PRIu64, u);
}

static int rd(const struct F *F, enum cli_xspace sp, uint64_t addr, void *buf, size_t len)
{
	if (!F->ops->read)
		return -1;
	char e[256];
	if (F->ops->read(F->ops->ud, sp, addr, buf, len, e, sizeof(e))) {
		snprintf(F->err, F->errlen, "cannot access memory at address %#" PRIx64 ": %s",
			 addr, e);
		return -1;
	}
	return 0;
}

/* A C string at addr (at most 200 characters, like gdb's print elements). */
static int put_string(const struct F *F, enum cli_xspace sp, uint64_t addr, uint64_t max,
		      struct hs_strbuf *sb)
{
	hs_sb_putc(sb, '"');
	uint64_t i;
	for (i = 0; i < max && i < 200; i++) {
		uint8_t ch;
		if (rd(F, sp, addr + i, &ch, 1)) {
			hs_sb_puts(sb, "\"");
			hs_sb_printf(sb, " <error: cannot access memory at address %#" PRIx64 ">",
				     addr + i);
			return 0;
		}
		if (!ch)
			break;
		put_char(sb, ch, '"');
	}
	hs_sb_putc(sb, '"');
	if (i == 200 && i < max)
		hs_sb_puts(sb, "...");
	return 0;
}

static int obj(struct F *F, const struct cli_type *t, enum cli_xspace sp, uint64_t addr,
	       unsigned bit_off, unsigned bit_size, struct hs_strbuf *sb, int depth);

static int scalar_at(struct F *F, const struct cli_type *t, enum cli_xspace sp, uint64_t addr,
		     unsigned bit_off, unsigned bit_size, uint64_t *out)
{
	const struct cli_type *r = cli_type_resolve(t);
	size_t n =
	    bit_size ? (bit_off + bit_size + 7) / 8 : (size_t)(r->kind == CLI_T_PTR ? 8 : r->size);
	uint8_t buf[16] = {0};
	if (n == 0 || n > 8) {
		snprintf(F->err, F->errlen, "cannot print a %zu-byte scalar", n);
		return -1;
	}
	if (rd(F, sp, addr, buf, n))
		return -1;
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)buf[i] << (8 * i);
	if (bit_size) {
		w >>= bit_off;
		if (bit_size < 64)
			w &= (1ULL << bit_size) - 1;
		if (r->is_signed && bit_size < 64 && (w >> (bit_size - 1)) & 1)
			w |= ~((1ULL << bit_size) - 1);
	} else if (r->size < 8 && r->kind != CLI_T_PTR) {
		unsigned bits = (unsigned)r->size * 8;
		if (r->is_signed && (w >> (bits - 1)) & 1)
			w |= ~((1ULL << bits) - 1);
	}
	*out = w;
	return 0;
}

static int obj(struct F *F, const struct cli_type *t, enum cli_xspace sp, uint64_t addr,
	       unsigned bit_off, unsigned bit_size, struct hs_strbuf *sb, int depth)
{
	const struct cli_type *r = cli_type_resolve(t);
	if (depth > 16) {
		hs_sb_puts(sb, "{...}");
		return 0;
	}
	switch (r->kind) {
	case CLI_T_STRUCT:
	case CLI_T_UNION:
		hs_sb_putc(sb, '{');
		for (size_t i = 0; i < r->nmembers; i++) {
			const struct cli_member *m = &r->members[i];
			if (i)
				hs_sb_puts(sb, ", ");
			if (m->name)
				hs_sb_printf(sb, "%s = ", m->name);
			if (obj(F, m->type, sp, addr + m->offset, m->bit_off, m->bit_size, sb,
				depth + 1))
				return -1;
		}
		hs_sb_putc(sb, '}');
		return 0;
	case CLI_T_ARRAY: {
		const struct cli_type *et = cli_type_resolve(r->target);
		uint64_t esz = et->size;
		if (et->is_char && esz == 1 && (F->fmt == 0 || F->fmt == 's'))
			return put_string(F, sp, addr, r->count, sb);
		hs_sb_putc(sb, '{');
		uint64_t i = 0;
		while (i < r->count) {
			if (F->elements >= 200) {
				hs_sb_puts(sb, "...");
				break;
			}
			if (i)
				hs_sb_puts(sb, ", ");
			/* Runs of equal scalars: "0 <repeats 16 times>" (gdb's threshold 10). */
			uint64_t run = 1;
			if (esz && esz <= 8 &&
			    (et->kind == CLI_T_INT || et->kind == CLI_T_ENUM ||
			     et->kind == CLI_T_PTR)) {
				uint64_t v0, v1;
				if (scalar_at(F, et, sp, addr + i * esz, 0, 0, &v0))
					return -1;
				while (i + run < r->count &&
				       !scalar_at(F, et, sp, addr + (i + run) * esz, 0, 0, &v1) &&
				       v1 == v0)
					run++;
				if (run < 10)
					run = 1;
			}
			if (obj(F, r->target, sp, addr + i * esz, 0, 0, sb, depth + 1))
				return -1;
			if (run > 1)
				hs_sb_printf(sb, " <repeats %" PRIu64 " times>", run);
			i += run;
			F->elements++;
		}
		hs_sb_putc(sb, '}');
		return 0;
	}
	case CLI_T_FUNC:
		hs_sb_putc(sb, '{');
		cli_type_name(t, sb);
		hs_sb_printf(sb, "} 0x%" PRIx64, addr);
		sym_suffix(F, addr, sb);
		return 0;
	case CLI_T_VOID:
		hs_sb_puts(sb, "void");
		return 0;
	default: {
		uint64_t v;
		if (scalar_at(F, t, sp, addr, bit_off, bit_size, &v))
			return -1;
		if (F->fmt == 's' && r->kind == CLI_T_PTR && cli_type_resolve(r->target)->is_char) {
			hs_sb_printf(sb, "0x%" PRIx64 " ", v);
			return put_string(F, sp, v, 200, sb);
		}
		int_fmt(F, t, v, F->fmt == 's' ? 0 : F->fmt, sb);
		return 0;
	}
	}
}

int cli_value_format(const struct cli_expr_ops *ops, const struct cli_value *v, char fmt,
		     struct hs_strbuf *sb, char *err, size_t len)
{
	struct F F = {.ops = ops, .fmt = fmt, .err = err, .errlen = len};
	const struct cli_type *r = cli_type_resolve(v->type);
	if (v->lval == CLI_LV_MEM &&
	    (v->lazy || !(r->kind == CLI_T_INT || r->kind == CLI_T_ENUM || r->kind == CLI_T_PTR)))
		return obj(&F, v->type, v->space, v->addr, v->bit_off, v->bit_size, sb, 0);
	if (r->kind == CLI_T_VOID) {
		hs_sb_puts(sb, "void");
		return 0;
	}
	if (r->kind == CLI_T_PTR && !fmt) {
		/* gdb prefixes a pointer with its type: (struct hyp_page *) 0x... */
		const struct cli_type *tt = cli_type_resolve(r->target);
		if (tt->is_char && tt->size == 1) {
			hs_sb_printf(sb, "0x%" PRIx64 " ", v->v);
			return put_string(&F, v->space, v->v, 200, sb);
		}
		hs_sb_putc(sb, '(');
		cli_type_name(v->type, sb);
		hs_sb_puts(sb, ") ");
	}
	if (fmt == 's' && r->kind == CLI_T_PTR) {
		hs_sb_printf(sb, "0x%" PRIx64 " ", v->v);
		return put_string(&F, v->space, v->v, 200, sb);
	}
	int_fmt(&F, v->type, v->v, fmt == 's' ? 0 : fmt, sb);
	return 0;
}
