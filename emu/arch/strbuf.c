/* SPDX-License-Identifier: MIT */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hs_sb_init(struct hs_strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void hs_sb_free(struct hs_strbuf *sb)
{
	free(sb->data);
	hs_sb_init(sb);
}

void hs_sb_reset(struct hs_strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

static int sb_reserve(struct hs_strbuf *sb, size_t extra)
{
	if (sb->oom)
		return -1;
	if (sb->len + extra + 1 <= sb->cap)
		return 0;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	char *d = realloc(sb->data, cap);
	if (!d) {
		sb->oom = 1;
		return -1;
	}
	sb->data = d;
	sb->cap = cap;
	return 0;
}

void hs_sb_vprintf(struct hs_strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || sb_reserve(sb, (size_t)n))
		return;
	vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	sb->len += (size_t)n;
}

void hs_sb_printf(struct hs_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hs_sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void hs_sb_puts(struct hs_strbuf *sb, const char *s)
{
	size_t n = strlen(s);
	if (sb_reserve(sb, n))
		return;
	memcpy(sb->data + sb->len, s, n + 1);
	sb->len += n;
}

void hs_sb_putc(struct hs_strbuf *sb, char c)
{
	if (sb_reserve(sb, 1))
		return;
	sb->data[sb->len++] = c;
	sb->data[sb->len] = '\0';
}

void hs_sb_json_str(struct hs_strbuf *sb, const char *s)
{
	hs_sb_putc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			hs_sb_printf(sb, "\\%c", c);
		else if (c == '\n')
			hs_sb_puts(sb, "\\n");
		else if (c < 0x20)
			hs_sb_printf(sb, "\\u%04x", c);
		else
			hs_sb_putc(sb, (char)c);
	}
	hs_sb_putc(sb, '"');
}

const char *hs_sb_str(const struct hs_strbuf *sb)
{
	return sb->data ? sb->data : "";
}
