/* SPDX-License-Identifier: MIT */
/* A small JSON reader: the whole text into a tree (see json_read.c). */
#ifndef HS_CLI_JSON_READ_H
#define HS_CLI_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_member;

struct json_val {
	enum json_type type;
	bool boolean;
	char *str;		   /* STRING: its text; NUMBER: the literal as written */
	struct json_member *items; /* ARRAY and OBJECT (key NULL in arrays) */
	size_t n;
};

struct json_member {
	char *key;
	struct json_val *val;
};

/* Parse text; NULL with "LINE:COL: what was expected" in err on a mistake. */
struct json_val *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json_val *v);
/* A member of an object; NULL when absent or not an object. */
const struct json_val *json_get(const struct json_val *obj, const char *key);
/* A non-negative integer written as a number or as a string ("0x40000000"). */
bool json_u64(const struct json_val *v, uint64_t *out);

#endif
