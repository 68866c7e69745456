/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target over the gdb remote-protocol packet layer: the input is
 * a byte stream from a hostile client. Every packet the receiver completes
 * is parsed as a request, and re-framed by our encoder (with and without
 * run-length encoding) to check that it decodes back to the same body.
 * Built only with clang and -DHS_FUZZ=ON (fuzz/gdb_packet.cmake).
 */
#include <stdlib.h>
#include <string.h>

#include "gdb_packet.h"

static void check_roundtrip(const uint8_t *body, size_t len, bool rle)
{
	static char out[2 * GDB_PKT_DECODED_MAX + 4];
	static struct gdb_rx rx;
	size_t n = gdb_frame(body, len, rle, out, sizeof(out));
	if (!n)
		abort();
	gdb_rx_init(&rx);
	enum gdb_rx_event last = GDB_RX_NONE;
	for (size_t i = 0; i < n; i++)
		last = gdb_rx_feed(&rx, (uint8_t)out[i]);
	/* Bodies longer than the raw bound are legitimately oversize once framed. */
	if (n - 4 > GDB_PKT_MAX)
		return;
	if (last != GDB_RX_PACKET || rx.len != len || memcmp(rx.buf, body, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gdb_rx rx;
	static uint8_t scratch[GDB_PKT_DECODED_MAX];
	static uint8_t body[GDB_PKT_DECODED_MAX + 1];
	struct gdb_req req;
	gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++) {
		if (gdb_rx_feed(&rx, data[i]) != GDB_RX_PACKET)
			continue;
		size_t len = rx.len;
		memcpy(body, rx.buf, len);
		gdb_parse_request(body, len, &req, scratch, sizeof(scratch));
		if (req.kind == GDB_REQ_MALFORMED && !req.why)
			abort();
		check_roundtrip(body, len, false);
		check_roundtrip(body, len, true);
	}
	/* The whole input as one body, as if it had arrived framed. */
	gdb_parse_request(data, size, &req, scratch, sizeof(scratch));
	return 0;
}
