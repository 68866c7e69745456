/* SPDX-License-Identifier: MIT */
/* gdb remote protocol framing and request parsing (see gdb_packet.h). */
#include "gdb_packet.h"

#include <string.h>

enum { RX_IDLE, RX_BODY, RX_CSUM1, RX_CSUM2 };

void gdb_rx_init(struct gdb_rx *rx)
{
	memset(rx, 0, offsetof(struct gdb_rx, buf));
	rx->buf[0] = '\0';
}

int gdb_hex_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static void rx_start(struct gdb_rx *rx)
{
	rx->state = RX_BODY;
	rx->sum = 0;
	rx->raw_len = rx->len = 0;
	rx->escape = rx->repeat = rx->overflow = rx->bad = rx->have_raw = false;
}

static void rx_store(struct gdb_rx *rx, uint8_t b, size_t n)
{
	if (rx->len + n > GDB_PKT_DECODED_MAX) {
		rx->overflow = true;
		return;
	}
	memset(rx->buf + rx->len, b, n);
	rx->len += n;
}

/* One raw byte of a packet body (not '$' or '#'). */
static void rx_body_byte(struct gdb_rx *rx, uint8_t b)
{
	rx->sum = (uint8_t)(rx->sum + b);
	if (++rx->raw_len > GDB_PKT_MAX)
		rx->overflow = true;
	if (rx->escape) {
		rx->escape = false;
		rx_store(rx, b ^ 0x20, 1);
		rx->last_raw = b;
		rx->have_raw = true;
	} else if (rx->repeat) {
		/*
		 * "X*n": n - 29 more copies of the raw byte X (gdb expands runs
		 * before it unescapes, so X repeats literally even after '}').
		 * The count is printable: 3..97 copies.
		 */
		rx->repeat = false;
		if (b < 32 || b > 126 || !rx->have_raw)
			rx->bad = true;
		else
			rx_store(rx, rx->last_raw, (size_t)b - 29);
	} else if (b == '}') {
		rx->escape = true;
	} else if (b == '*') {
		rx->repeat = true;
	} else {
		rx_store(rx, b, 1);
		rx->last_raw = b;
		rx->have_raw = true;
	}
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte)
{
	switch (rx->state) {
	case RX_IDLE:
		if (byte == '$') {
			rx_start(rx);
			return GDB_RX_NONE;
		}
		if (byte == '+')
			return GDB_RX_ACK;
		if (byte == '-')
			return GDB_RX_NAK;
		if (byte == 0x03)
			return GDB_RX_INTERRUPT;
		rx->discarded++;
		return GDB_RX_NONE;
	case RX_BODY:
		if (byte == '$') {
			/* A new packet starts inside this one: gdb resent; drop the partial one. */
			rx->discarded += rx->raw_len + 1;
			rx_start(rx);
		} else if (byte == '#') {
			if (rx->escape || rx->repeat)
				rx->bad = true;
			rx->state = RX_CSUM1;
		} else {
			rx_body_byte(rx, byte);
		}
		return GDB_RX_NONE;
	case RX_CSUM1:
		rx->csum_hi = byte;
		rx->state = RX_CSUM2;
		return GDB_RX_NONE;
	default: {
		rx->state = RX_IDLE;
		int hi = gdb_hex_digit(rx->csum_hi), lo = gdb_hex_digit(byte);
		rx->buf[rx->overflow ? 0 : rx->len] = '\0';
		if (rx->overflow)
			rx->len = 0;
		if (hi < 0 || lo < 0)
			return GDB_RX_MALFORMED;
		if ((uint8_t)(hi << 4 | lo) != rx->sum)
			return GDB_RX_BAD_CHECKSUM;
		if (rx->overflow)
			return GDB_RX_OVERSIZE;
		if (rx->bad)
			return GDB_RX_MALFORMED;
		return GDB_RX_PACKET;
	}
	}
}

uint8_t gdb_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static bool needs_escape(uint8_t b)
{
	return b == '$' || b == '#' || b == '}' || b == '*';
}

size_t gdb_frame(const void *body, size_t len, bool rle, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = body;
	size_t o = 0;
	if (cap < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < len;) {
		uint8_t b = p[i];
		size_t run = 1;
		while (rle && !needs_escape(b) && i + run < len && p[i + run] == b)
			run++;
		if (o + 2 + 3 > cap)
			return 0;
		if (needs_escape(b)) {
			out[o++] = '}';
			out[o++] = (char)(b ^ 0x20);
			i++;
			continue;
		}
		out[o++] = (char)b;
		size_t extra = run - 1;
		i += run;
		while (extra >= 3) {
			/* Count characters '#' (6 + 29) and '$' (7 + 29) are not allowed. */
			size_t n = extra > 97 ? 97 : extra;
			if (n == 6 || n == 7)
				n = 5;
			if (o + 2 + 3 > cap)
				return 0;
			out[o++] = '*';
			out[o++] = (char)(n + 29);
			extra -= n;
		}
		/* One or two leftover copies are cheaper plain. */
		for (; extra > 0; extra--) {
			if (o + 1 + 3 > cap)
				return 0;
			out[o++] = (char)b;
		}
	}
	if (o + 3 > cap)
		return 0;
	uint8_t s = gdb_checksum(out + 1, o - 1);
	out[o++] = '#';
	out[o++] = hex[s >> 4];
	out[o++] = hex[s & 15];
	return o;
}

void gdb_hex_encode(const void *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * len] = '\0';
}

bool gdb_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *n)
{
	if (hexlen % 2 || hexlen / 2 > cap)
		return false;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = gdb_hex_digit((unsigned char)hex[2 * i]);
		int lo = gdb_hex_digit((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = hexlen / 2;
	return true;
}

void gdb_hex_le(uint64_t v, unsigned size, char *out)
{
	uint8_t b[8];
	for (unsigned i = 0; i < size && i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	gdb_hex_encode(b, size < 8 ? size : 8, out);
}

/* ---- request parsing ----------------------------------------------------- */

/* A cursor over the body: every parse step checks the end. */
struct cur {
	const char *p, *end;
};

static bool at_end(const struct cur *c)
{
	return c->p >= c->end;
}

static bool eat(struct cur *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* 1..16 hex digits. */
static bool hex_u64(struct cur *c, uint64_t *v)
{
	uint64_t x = 0;
	unsigned n = 0;
	while (!at_end(c) && gdb_hex_digit((unsigned char)*c->p) >= 0) {
		if (++n > 16)
			return false;
		x = x << 4 | (uint64_t)gdb_hex_digit((unsigned char)*c->p);
		c->p++;
	}
	*v = x;
	return n > 0;
}

/* A thread id: hex, "0" (any) or "-1" (all). */
static bool thread_id(struct cur *c, int64_t *t)
{
	if (eat(c, '-')) {
		if (!eat(c, '1'))
			return false;
		*t = GDB_THREAD_ALL;
		return true;
	}
	uint64_t v;
	if (!hex_u64(c, &v) || v > 0x7fffffff)
		return false;
	*t = (int64_t)v;
	return true;
}

static void malformed(struct gdb_req *r, const char *why)
{
	r->kind = GDB_REQ_MALFORMED;
	r->why = why;
}

/* "ADDR,LEN" */
static bool addr_len(struct cur *c, struct gdb_req *r)
{
	return hex_u64(c, &r->addr) && eat(c, ',') && hex_u64(c, &r->len);
}

static void parse_mem(struct cur *c, struct gdb_req *r, bool binary, uint8_t *scratch, size_t cap)
{
	if (!addr_len(c, r) || !eat(c, ':'))
		return malformed(r, "expected ADDR,LEN:DATA");
	size_t n = (size_t)(c->end - c->p);
	if (binary) {
		if (n != r->len || n > cap)
			return malformed(r, "the data's length is not LEN");
		memcpy(scratch, c->p, n);
	} else if (!gdb_hex_decode(c->p, n, scratch, cap, &n) || n != r->len) {
		return malformed(r, "the data is not LEN bytes of hex");
	}
	r->kind = GDB_REQ_WRITE_MEM;
	r->data = scratch;
	r->data_len = n;
}

static void parse_vcont(struct cur *c, struct gdb_req *r)
{
	if (eat(c, '?')) {
		r->kind = at_end(c) ? GDB_REQ_VCONT_QUERY : GDB_REQ_UNKNOWN;
		return;
	}
	r->kind = GDB_REQ_VCONT;
	while (eat(c, ';')) {
		if (r->nactions == GDB_VCONT_MAX)
			return malformed(r, "too many vCont actions");
		struct gdb_vcont_action *a = &r->actions[r->nactions++];
		if (at_end(c))
			return malformed(r, "empty vCont action");
		char act = *c->p++;
		uint64_t sig;
		switch (act) {
		case 'c':
		case 's':
		case 't':
			break;
		case 'C':
		case 'S':
			if (!hex_u64(c, &sig) || sig > 0xff)
				return malformed(r, "bad vCont signal");
			act = act == 'C' ? 'c' : 's';
			break;
		default:
			return malformed(r, "unsupported vCont action");
		}
		a->action = act;
		a->thread = GDB_THREAD_ALL;
		if (eat(c, ':') && !thread_id(c, &a->thread))
			return malformed(r, "bad vCont thread id");
	}
	if (!at_end(c) || r->nactions == 0)
		malformed(r, "expected vCont;ACTION[:THREAD]...");
}

/* qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH */
static void parse_xfer(struct cur *c, struct gdb_req *r)
{
	const char *colon = memchr(c->p, ':', (size_t)(c->end - c->p));
	if (!colon || (size_t)(colon - c->p) >= GDB_XFER_OBJECT_MAX)
		return malformed(r, "bad qXfer object");
	memcpy(r->xfer_object, c->p, (size_t)(colon - c->p));
	r->xfer_object[colon - c->p] = '\0';
	c->p = colon + 1;
	static const char rd[] = "read:";
	if ((size_t)(c->end - c->p) < sizeof(rd) - 1 || memcmp(c->p, rd, sizeof(rd) - 1)) {
		r->kind = GDB_REQ_UNKNOWN; /* qXfer writes are not offered */
		return;
	}
	c->p += sizeof(rd) - 1;
	colon = memchr(c->p, ':', (size_t)(c->end - c->p));
	if (!colon || (size_t)(colon - c->p) >= GDB_XFER_ANNEX_MAX)
		return malformed(r, "bad qXfer annex");
	memcpy(r->xfer_annex, c->p, (size_t)(colon - c->p));
	r->xfer_annex[colon - c->p] = '\0';
	c->p = colon + 1;
	if (!hex_u64(c, &r->xfer_offset) || !eat(c, ',') || !hex_u64(c, &r->xfer_len) || !at_end(c))
		return malformed(r, "expected qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH");
	r->xfer = true;
}

static void parse_query(struct cur *c, struct gdb_req *r, bool set)
{
	r->kind = GDB_REQ_QUERY;
	r->is_set = set;
	size_t n = 0;
	while (!at_end(c) && *c->p != ':' && *c->p != ',' && *c->p != ';') {
		if (n + 1 >= GDB_NAME_MAX) {
			r->kind = GDB_REQ_UNKNOWN;
			return;
		}
		r->name[n++] = *c->p++;
	}
	r->name[n] = '\0';
	/* "qSupported:..." "qRcmd,..." "qThreadExtraInfo,..." "Qqemu.PhyMemMode:1" */
	if (!at_end(c))
		c->p++;
	r->args = c->p;
	r->args_len = (size_t)(c->end - c->p);
	if (!set && !strcmp(r->name, "Xfer"))
		parse_xfer(c, r);
	else if (!set && !strcmp(r->name, "ThreadExtraInfo") &&
		 (!thread_id(c, &r->thread) || !at_end(c)))
		malformed(r, "expected qThreadExtraInfo,THREAD");
}

void gdb_parse_request(const uint8_t *body, size_t len, struct gdb_req *r, uint8_t *scratch,
		       size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->kind = GDB_REQ_UNKNOWN;
	if (len == 0)
		return;
	struct cur c = {(const char *)body + 1, (const char *)body + len};
	size_t n;
	uint64_t v;
	switch (body[0]) {
	case '?':
		r->kind = at_end(&c) ? GDB_REQ_HALT_REASON : GDB_REQ_UNKNOWN;
		return;
	case 'g':
		r->kind = at_end(&c) ? GDB_REQ_READ_REGS : GDB_REQ_UNKNOWN;
		return;
	case 'G':
		if (!gdb_hex_decode(c.p, (size_t)(c.end - c.p), scratch, cap, &n))
			return malformed(r, "expected hex register data");
		r->kind = GDB_REQ_WRITE_REGS;
		r->data = scratch;
		r->data_len = n;
		return;
	case 'p':
		if (!hex_u64(&c, &v) || !at_end(&c) || v > 0xffff)
			return malformed(r, "expected pREGNO");
		r->kind = GDB_REQ_READ_REG;
		r->regno = (unsigned)v;
		return;
	case 'P':
		if (!hex_u64(&c, &v) || v > 0xffff || !eat(&c, '=') ||
		    !gdb_hex_decode(c.p, (size_t)(c.end - c.p), scratch, cap, &n) || n == 0)
			return malformed(r, "expected PREGNO=VALUE");
		r->kind = GDB_REQ_WRITE_REG;
		r->regno = (unsigned)v;
		r->data = scratch;
		r->data_len = n;
		return;
	case 'm':
		if (!addr_len(&c, r) || !at_end(&c))
			return malformed(r, "expected mADDR,LEN");
		r->kind = GDB_REQ_READ_MEM;
		return;
	case 'M':
		return parse_mem(&c, r, false, scratch, cap);
	case 'X':
		return parse_mem(&c, r, true, scratch, cap);
	case 'Z':
	case 'z':
		if (!hex_u64(&c, &v) || v > 4 || !eat(&c, ',') || !hex_u64(&c, &r->addr) ||
		    !eat(&c, ',') || !hex_u64(&c, &r->bp_len))
			return malformed(r, "expected Ztype,addr,kind");
		/* Conditions and commands (";X...") are not offered in qSupported. */
		if (!at_end(&c))
			return malformed(r, "breakpoint conditions are not supported");
		r->kind = body[0] == 'Z' ? GDB_REQ_INSERT_BP : GDB_REQ_REMOVE_BP;
		r->bp_type = (int)v;
		return;
	case 'c':
	case 's':
		if (!at_end(&c)) {
			if (!hex_u64(&c, &r->addr) || !at_end(&c))
				return malformed(r, "expected c[ADDR] or s[ADDR]");
			r->have_addr = true;
		}
		r->kind = body[0] == 'c' ? GDB_REQ_CONTINUE : GDB_REQ_STEP;
		return;
	case 'H':
		if (at_end(&c) || (*c.p != 'g' && *c.p != 'c'))
			return malformed(r, "expected Hg or Hc");
		r->thread_op = *c.p++;
		if (!thread_id(&c, &r->thread) || !at_end(&c))
			return malformed(r, "bad thread id");
		r->kind = GDB_REQ_SET_THREAD;
		return;
	case 'T':
		if (!thread_id(&c, &r->thread) || !at_end(&c))
			return malformed(r, "bad thread id");
		r->kind = GDB_REQ_THREAD_ALIVE;
		return;
	case 'D':
		r->kind = GDB_REQ_DETACH; /* "D" or "D;PID": one process either way */
		return;
	case 'k':
		r->kind = at_end(&c) ? GDB_REQ_KILL : GDB_REQ_UNKNOWN;
		return;
	case 'v': {
		size_t rest = (size_t)(c.end - c.p);
		if (rest >= 4 && !memcmp(c.p, "Cont", 4)) {
			c.p += 4;
			return parse_vcont(&c, r);
		}
		if (rest >= 4 && !memcmp(c.p, "Kill", 4))
			r->kind = GDB_REQ_KILL;
		return;
	}
	case 'q':
		return parse_query(&c, r, false);
	case 'Q':
		return parse_query(&c, r, true);
	default:
		return;
	}
}
