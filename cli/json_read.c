/* SPDX-License-Identifier: MIT */
/*
 * A small JSON reader for the files hypscope reads back (saved CPU
 * registers): the whole text into a tree, with line:column in every error.
 * Integers are kept as text so 64-bit values survive exactly.
 */
#include "json_read.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

struct parser {
	const char *s, *p;
	char *err;
	size_t errlen;
	int depth;
};

static void where(const struct parser *ps, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *q = ps->s; q < ps->p; q++) {
		if (*q == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static struct json_val *fail(struct parser *ps, const char *fmt, ...)
{
	int line, col;
	where(ps, &line, &col);
	int n = snprintf(ps->err, ps->errlen, "%d:%d: ", line, col);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return NULL;
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static struct json_val *new_val(enum json_type t)
{
	struct json_val *v = calloc(1, sizeof(*v));
	if (v)
		v->type = t;
	return v;
}

static struct json_val *parse_value(struct parser *ps);

/* A string body after its opening quote; escapes other than \" \\ \/ are refused. */
static char *parse_string(struct parser *ps)
{
	const char *start = ps->p;
	size_t n = 0;
	for (const char *q = start; *q != '"'; q++, n++) {
		if (!*q || *q == '\n') {
			fail(ps, "unterminated string");
			return NULL;
		}
		if (*q == '\\') {
			q++;
			if (*q != '"' && *q != '\\' && *q != '/') {
				ps->p = q;
				fail(ps, "unsupported escape '\\%c' in a string", *q ? *q : '0');
				return NULL;
			}
		}
	}
	char *out = malloc(n + 1), *o = out;
	if (!out) {
		fail(ps, "out of memory");
		return NULL;
	}
	while (*ps->p != '"') {
		if (*ps->p == '\\')
			ps->p++;
		*o++ = *ps->p++;
	}
	*o = '\0';
	ps->p++;
	return out;
}

static struct json_val *parse_container(struct parser *ps, bool object)
{
	if (++ps->depth > JSON_MAX_DEPTH)
		return fail(ps, "nested deeper than %d levels", JSON_MAX_DEPTH);
	struct json_val *v = new_val(object ? JSON_OBJECT : JSON_ARRAY);
	if (!v)
		return fail(ps, "out of memory");
	ps->p++;
	skip_ws(ps);
	char close = object ? '}' : ']';
	if (*ps->p == close) {
		ps->p++;
		ps->depth--;
		return v;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(ps);
		if (object) {
			if (*ps->p != '"') {
				json_free(v);
				return fail(ps, "expected a \"key\"");
			}
			ps->p++;
			if (!(key = parse_string(ps))) {
				json_free(v);
				return NULL;
			}
			skip_ws(ps);
			if (*ps->p != ':') {
				free(key);
				json_free(v);
				return fail(ps, "expected ':' after the key");
			}
			ps->p++;
		}
		struct json_val *item = parse_value(ps);
		if (!item) {
			free(key);
			json_free(v);
			return NULL;
		}
		struct json_member *mem = realloc(v->items, (v->n + 1) * sizeof(*mem));
		if (!mem) {
			free(key);
			json_free(item);
			json_free(v);
			return fail(ps, "out of memory");
		}
		v->items = mem;
		v->items[v->n++] = (struct json_member){key, item};
		skip_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			ps->depth--;
			return v;
		}
		json_free(v);
		return fail(ps, "expected ',' or '%c'", close);
	}
}

static struct json_val *parse_value(struct parser *ps)
{
	skip_ws(ps);
	char ch = *ps->p;
	if (ch == '{' || ch == '[')
		return parse_container(ps, ch == '{');
	if (ch == '"') {
		ps->p++;
		char *s = parse_string(ps);
		if (!s)
			return NULL;
		struct json_val *v = new_val(JSON_STRING);
		if (!v) {
			free(s);
			return fail(ps, "out of memory");
		}
		v->str = s;
		return v;
	}
	static const struct {
		const char *word;
		enum json_type type;
		bool value;
	} words[] = {
	    {"true", JSON_BOOL, true}, {"false", JSON_BOOL, false}, {"null", JSON_NULL, 0}};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].word);
		if (!strncmp(ps->p, words[i].word, n)) {
			ps->p += n;
			struct json_val *v = new_val(words[i].type);
			if (!v)
				return fail(ps, "out of memory");
			v->boolean = words[i].value;
			return v;
		}
	}
	if (ch == '-' || isdigit((unsigned char)ch)) {
		const char *start = ps->p;
		ps->p++;
		while (isdigit((unsigned char)*ps->p) || *ps->p == '.' || *ps->p == 'e' ||
		       *ps->p == 'E' || *ps->p == '+' || *ps->p == '-')
			ps->p++;
		struct json_val *v = new_val(JSON_NUMBER);
		if (!v || !(v->str = strndup(start, (size_t)(ps->p - start)))) {
			free(v);
			return fail(ps, "out of memory");
		}
		return v;
	}
	if (!ch)
		return fail(ps, "unexpected end of the text: expected a value");
	return fail(ps, "unexpected '%c': expected a value", ch);
}

struct json_val *json_parse(const char *text, char *err, size_t errlen)
{
	struct parser ps = {.s = text, .p = text, .err = err, .errlen = errlen};
	struct json_val *v = parse_value(&ps);
	if (!v)
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		json_free(v);
		return fail(&ps, "text after the value");
	}
	return v;
}

void json_free(struct json_val *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->items[i].key);
		json_free(v->items[i].val);
	}
	free(v->items);
	free(v->str);
	free(v);
}

const struct json_val *json_get(const struct json_val *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->items[i].key, key))
			return obj->items[i].val;
	return NULL;
}

bool json_u64(const struct json_val *v, uint64_t *out)
{
	if (!v || (v->type != JSON_NUMBER && v->type != JSON_STRING) || !v->str[0] ||
	    v->str[0] == '-' || isspace((unsigned char)v->str[0]))
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v->str, &end, v->type == JSON_NUMBER ? 10 : 0);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}
