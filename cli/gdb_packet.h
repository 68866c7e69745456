/* SPDX-License-Identifier: MIT */
/*
 * gdb's remote serial protocol, the part that needs no machine: framing
 * ("$body#xx"), checksums, escapes ("}" + byte ^ 0x20) and run-length
 * encoding ("X*n"), acknowledgements, and a strict parser that turns a
 * packet body into a request with bounded sizes. Pure functions over
 * caller-owned buffers (fuzzed by fuzz/fuzz_gdb_packet.c, unit-tested by
 * tests/test_gdb_packet.c).
 */
#ifndef HS_GDB_PACKET_H
#define HS_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest packet body accepted (raw bytes between '$' and '#'); qSupported PacketSize. */
#define GDB_PKT_MAX 16384
/* The largest decoded body (run-length expansion included). */
#define GDB_PKT_DECODED_MAX GDB_PKT_MAX

/* ---- receiving ----------------------------------------------------------- */
enum gdb_rx_event {
	GDB_RX_NONE,	     /* byte consumed, nothing complete yet */
	GDB_RX_PACKET,	     /* a packet with a good checksum: rx->buf, rx->len */
	GDB_RX_ACK,	     /* '+' */
	GDB_RX_NAK,	     /* '-': resend the last packet */
	GDB_RX_INTERRUPT,    /* 0x03 outside a packet (Ctrl-C) */
	GDB_RX_BAD_CHECKSUM, /* a complete packet whose checksum does not match */
	GDB_RX_OVERSIZE,     /* a complete packet longer than GDB_PKT_MAX (checksum good) */
	GDB_RX_MALFORMED,    /* bad escape or repeat, non-hex checksum (checksum unknown) */
};

struct gdb_rx {
	int state;
	uint8_t sum;	  /* running checksum of the raw body */
	uint8_t csum_hi;  /* first checksum digit */
	size_t raw_len;	  /* raw body bytes seen */
	size_t len;	  /* decoded bytes in buf */
	bool escape;	  /* the previous raw byte was '}' */
	bool repeat;	  /* the previous raw byte was '*' */
	bool overflow;	  /* too long: keep counting, report GDB_RX_OVERSIZE */
	bool bad;	  /* a bad escape or repeat: report GDB_RX_MALFORMED */
	bool have_raw;	  /* last_raw is valid */
	uint8_t last_raw; /* the last raw data byte (what '*' repeats) */
	size_t discarded; /* bytes outside packets ignored so far (line noise) */
	uint8_t buf[GDB_PKT_DECODED_MAX + 1]; /* decoded body, NUL-terminated */
};

void gdb_rx_init(struct gdb_rx *rx);
/*
 * gdb_rx_feed() - feed one received byte. Returns what it completed; after
 * GDB_RX_PACKET the body is rx->buf[0..rx->len) (also NUL-terminated; binary
 * bodies may contain NULs) until the next call. A '$' inside a packet starts
 * a new one (the partial one is dropped, as gdb does).
 */
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, uint8_t byte);

/* ---- sending ------------------------------------------------------------- */
/*
 * gdb_frame() - frame body as "$...#xx" into out, escaping '$', '#', '}'
 * and '*', run-length encoding runs of 4 or more identical bytes when rle.
 * Return: bytes written, or 0 when out (cap bytes) is too small; 2 * len + 4
 * is always enough.
 */
size_t gdb_frame(const void *body, size_t len, bool rle, char *out, size_t cap);
uint8_t gdb_checksum(const void *data, size_t len);

/* ---- hex ------------------------------------------------------------------ */
int gdb_hex_digit(int ch); /* 0..15 or -1 */
/* Bytes to lowercase hex (out gets 2 * len chars and a NUL). */
void gdb_hex_encode(const void *data, size_t len, char *out);
/* Exactly 2 * n hex digits to n bytes; false on an odd length or a non-hex char. */
bool gdb_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *n);
/* A target-order (little-endian) register value of `size` bytes as hex. */
void gdb_hex_le(uint64_t v, unsigned size, char *out);

/* ---- requests ------------------------------------------------------------ */
enum gdb_req_kind {
	GDB_REQ_UNKNOWN,   /* not a packet we know: answer "" */
	GDB_REQ_MALFORMED, /* known but its arguments are bad: answer E01 */
	GDB_REQ_HALT_REASON,
	GDB_REQ_READ_REGS,
	GDB_REQ_WRITE_REGS,
	GDB_REQ_READ_REG,
	GDB_REQ_WRITE_REG,
	GDB_REQ_READ_MEM,
	GDB_REQ_WRITE_MEM, /* M (hex) and X (binary): data decoded */
	GDB_REQ_INSERT_BP, /* Z type,addr,kind */
	GDB_REQ_REMOVE_BP, /* z */
	GDB_REQ_CONTINUE,  /* c [addr] */
	GDB_REQ_STEP,	   /* s [addr] */
	GDB_REQ_VCONT,
	GDB_REQ_VCONT_QUERY,
	GDB_REQ_SET_THREAD, /* Hg / Hc */
	GDB_REQ_THREAD_ALIVE,
	GDB_REQ_DETACH,
	GDB_REQ_KILL, /* k, vKill */
	GDB_REQ_QUERY /* q... and Q...: name and args */
};

#define GDB_THREAD_ALL (-1)
#define GDB_THREAD_ANY 0
#define GDB_VCONT_MAX 8
#define GDB_NAME_MAX 48
#define GDB_XFER_OBJECT_MAX 32
#define GDB_XFER_ANNEX_MAX 64

struct gdb_vcont_action {
	char action;	/* 'c', 's', 't' (C/S come as c/s with the signal ignored) */
	int64_t thread; /* GDB_THREAD_ALL when none given */
};

struct gdb_req {
	enum gdb_req_kind kind;
	const char *why; /* GDB_REQ_MALFORMED: what is wrong (static) */
	uint64_t addr, len;
	bool have_addr; /* c/s ADDR */
	unsigned regno;
	int bp_type;	 /* Z/z: 0..4 */
	uint64_t bp_len; /* Z/z: kind (breakpoint) or length (watchpoint) */
	char thread_op;	 /* H: 'g' or 'c' */
	int64_t thread;	 /* H, T, qThreadExtraInfo */
	/* G, P, M, X: the decoded bytes (in the caller's scratch buffer). */
	const uint8_t *data;
	size_t data_len;
	struct gdb_vcont_action actions[GDB_VCONT_MAX];
	unsigned nactions;
	/* q/Q: "qSupported" -> name "Supported", is_set false; args after ':' or ','. */
	bool is_set;
	char name[GDB_NAME_MAX];
	const char *args;
	size_t args_len;
	/* qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH */
	bool xfer;
	char xfer_object[GDB_XFER_OBJECT_MAX], xfer_annex[GDB_XFER_ANNEX_MAX];
	uint64_t xfer_offset, xfer_len;
};

/*
 * gdb_parse_request() - parse one packet body (as gdb_rx delivered it).
 * Decoded payloads (G, P, M, X, qRcmd) go into scratch (cap bytes; at least
 * GDB_PKT_DECODED_MAX / 2 + 1 is enough for any packet). Never fails:
 * unknown packets come back as GDB_REQ_UNKNOWN, bad arguments as
 * GDB_REQ_MALFORMED with req->why.
 */
void gdb_parse_request(const uint8_t *body, size_t len, struct gdb_req *req, uint8_t *scratch,
		       size_t cap);

#endif
