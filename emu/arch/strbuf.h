/* SPDX-License-Identifier: MIT */
/* A growable string buffer: emu/ formats text into these, never to stdout. */
#ifndef HS_STRBUF_H
#define HS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct hs_strbuf {
	char *data; /* always NUL-terminated when cap > 0 */
	size_t len;
	size_t cap;
	int oom; /* set once an allocation failed; further appends are dropped */
};

void hs_sb_init(struct hs_strbuf *sb);
void hs_sb_free(struct hs_strbuf *sb);
void hs_sb_reset(struct hs_strbuf *sb);
void hs_sb_printf(struct hs_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hs_sb_vprintf(struct hs_strbuf *sb, const char *fmt, va_list ap);
void hs_sb_puts(struct hs_strbuf *sb, const char *s);
void hs_sb_putc(struct hs_strbuf *sb, char c);
/* Append s as a JSON string literal, quotes included. */
void hs_sb_json_str(struct hs_strbuf *sb, const char *s);
/* Return the contents (never NULL) and keep ownership in sb. */
const char *hs_sb_str(const struct hs_strbuf *sb);

#endif
