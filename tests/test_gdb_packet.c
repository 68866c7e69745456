/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the gdb remote-protocol packet layer (cli/gdb_packet.c):
 * framing, checksums, escapes, run-length encoding, acknowledgements, and the
 * strict request parser on good, malformed and oversized input.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_packet.h"
#include "testutil.h"

static struct gdb_rx *rx;
static uint8_t scratch[GDB_PKT_DECODED_MAX];

static void setup(void)
{
	rx = malloc(sizeof(*rx));
	ck_assert_ptr_nonnull(rx);
	gdb_rx_init(rx);
}

static void teardown(void)
{
	free(rx);
}

/* Feed bytes; return the last event that was not NONE (and how many there were). */
static enum gdb_rx_event feed(const void *data, size_t len, int *nevents)
{
	const uint8_t *p = data;
	enum gdb_rx_event last = GDB_RX_NONE;
	int n = 0;
	for (size_t i = 0; i < len; i++) {
		enum gdb_rx_event e = gdb_rx_feed(rx, p[i]);
		if (e != GDB_RX_NONE) {
			last = e;
			n++;
		}
	}
	if (nevents)
		*nevents = n;
	return last;
}

static enum gdb_rx_event feed_str(const char *s)
{
	return feed(s, strlen(s), NULL);
}

/* Frame a raw body (escapes and repeats as given) with its checksum and feed it. */
static enum gdb_rx_event feed_body(const char *b)
{
	char pkt[64];
	snprintf(pkt, sizeof(pkt), "$%s#%02x", b, gdb_checksum(b, strlen(b)));
	return feed_str(pkt);
}

/* Frame body with our encoder, then feed it back. */
static void roundtrip(const void *body, size_t len, bool rle)
{
	size_t cap = 2 * len + 4;
	char *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	size_t n = gdb_frame(body, len, rle, out, cap);
	ck_assert_uint_gt(n, 0);
	int events;
	ck_assert_int_eq(feed(out, n, &events), GDB_RX_PACKET);
	ck_assert_int_eq(events, 1);
	ck_assert_uint_eq(rx->len, len);
	ck_assert_int_eq(memcmp(rx->buf, body, len), 0);
	free(out);
}

START_TEST(test_good_packet_and_checksum)
{
	/* "$g#67": 'g' is 0x67. */
	ck_assert_int_eq(feed_str("$g#67"), GDB_RX_PACKET);
	ck_assert_uint_eq(rx->len, 1);
	ck_assert_str_eq((char *)rx->buf, "g");
	ck_assert_int_eq(feed_str("$qSupported:multiprocess+#c6"), GDB_RX_PACKET);
	ck_assert_str_eq((char *)rx->buf, "qSupported:multiprocess+");
}
END_TEST

START_TEST(test_bad_checksum_is_reported)
{
	ck_assert_int_eq(feed_str("$g#68"), GDB_RX_BAD_CHECKSUM);
	/* The next good packet still parses. */
	ck_assert_int_eq(feed_str("$g#67"), GDB_RX_PACKET);
}
END_TEST

START_TEST(test_non_hex_checksum_is_malformed)
{
	ck_assert_int_eq(feed_str("$g#zz"), GDB_RX_MALFORMED);
	ck_assert_int_eq(feed_str("$g#6"), GDB_RX_NONE); /* incomplete: waits */
	ck_assert_int_eq(feed_str("7"), GDB_RX_PACKET);
}
END_TEST

START_TEST(test_acks_interrupt_and_noise)
{
	ck_assert_int_eq(feed_str("+"), GDB_RX_ACK);
	ck_assert_int_eq(feed_str("-"), GDB_RX_NAK);
	ck_assert_int_eq(feed("\x03", 1, NULL), GDB_RX_INTERRUPT);
	ck_assert_int_eq(feed_str("garbage"), GDB_RX_NONE);
	ck_assert_uint_eq(rx->discarded, 7);
	/* 0x03 inside a packet is data, not an interrupt. */
	uint8_t body[] = {'X', '0', ',', '1', ':', 0x03};
	roundtrip(body, sizeof(body), false);
}
END_TEST

START_TEST(test_dollar_restarts_packet)
{
	ck_assert_int_eq(feed_str("$qSupp$g#67"), GDB_RX_PACKET);
	ck_assert_str_eq((char *)rx->buf, "g");
}
END_TEST

START_TEST(test_escapes_roundtrip)
{
	uint8_t body[] = {'X', '$', '#', '}', '*', 0, 0xff, 0x7d, 0x03};
	roundtrip(body, sizeof(body), false);
	roundtrip(body, sizeof(body), true);
	/* "}]" is an escaped '}' (0x5d ^ 0x20). */
	ck_assert_int_eq(feed_body("a}]b"), GDB_RX_PACKET);
	ck_assert_str_eq((char *)rx->buf, "a}b");
	/* A repeat after an escape repeats the raw byte, as gdb (which expands first) reads it. */
	ck_assert_int_eq(feed_body("}]* "), GDB_RX_PACKET);
	ck_assert_str_eq((char *)rx->buf, "}]]]");
}
END_TEST

START_TEST(test_escape_at_end_is_malformed)
{
	ck_assert_int_eq(feed_body("ab}"), GDB_RX_MALFORMED);
}
END_TEST

START_TEST(test_rle_decodes_and_encodes)
{
	/* "0* " is "0" and 3 more. */
	ck_assert_int_eq(feed_body("10* 2"), GDB_RX_PACKET);
	ck_assert_str_eq((char *)rx->buf, "100002");
	/* Runs of every length up to 300 survive the encoder (which skips '#' and '$'). */
	char body[300];
	for (size_t n = 1; n <= sizeof(body); n++) {
		memset(body, '0', n);
		roundtrip(body, n, true);
	}
	/* Encoding compresses: 512 zero bytes of hex are much shorter than 1024. */
	char hex[1024], out[2 * 1024 + 4];
	memset(hex, '0', sizeof(hex));
	size_t n = gdb_frame(hex, sizeof(hex), true, out, sizeof(out));
	ck_assert_uint_lt(n, 40);
	for (size_t i = 1; i + 3 < n; i++)
		ck_assert(out[i] != '#' && out[i] != '$');
}
END_TEST

START_TEST(test_rle_without_previous_char_is_malformed)
{
	ck_assert_int_eq(feed_body("* "), GDB_RX_MALFORMED);
	ck_assert_int_eq(feed_body("a*\x01"), GDB_RX_MALFORMED);
}
END_TEST

START_TEST(test_oversized_packet_is_reported_and_recovered)
{
	size_t n = GDB_PKT_MAX + 10;
	char *big = malloc(n + 8);
	ck_assert_ptr_nonnull(big);
	big[0] = '$';
	memset(big + 1, 'a', n);
	uint8_t s = gdb_checksum(big + 1, n);
	snprintf(big + 1 + n, 8, "#%02x", s);
	ck_assert_int_eq(feed(big, n + 4, NULL), GDB_RX_OVERSIZE);
	ck_assert_uint_eq(rx->len, 0);
	free(big);
	/* Run-length expansion past the bound is oversize too. */
	char pkt[GDB_PKT_MAX];
	size_t o = 0;
	pkt[o++] = '$';
	pkt[o++] = 'a';
	while (o < 2 * (GDB_PKT_DECODED_MAX / 97) + 10) {
		pkt[o++] = '*';
		pkt[o++] = (char)(97 + 29);
	}
	uint8_t s2 = gdb_checksum(pkt + 1, o - 1);
	o += (size_t)snprintf(pkt + o, 8, "#%02x", s2);
	ck_assert_int_eq(feed(pkt, o, NULL), GDB_RX_OVERSIZE);
	ck_assert_int_eq(feed_str("$g#67"), GDB_RX_PACKET);
}
END_TEST

START_TEST(test_frame_too_small_buffer)
{
	char out[8];
	ck_assert_uint_eq(gdb_frame("abcdefgh", 8, false, out, sizeof(out)), 0);
	ck_assert_uint_eq(gdb_frame("", 0, false, out, sizeof(out)), 4);
	ck_assert_int_eq(memcmp(out, "$#00", 4), 0);
}
END_TEST

static void parse(const char *s, struct gdb_req *r)
{
	gdb_parse_request((const uint8_t *)s, strlen(s), r, scratch, sizeof(scratch));
}

START_TEST(test_parse_memory_packets)
{
	struct gdb_req r;
	parse("m800000203000,200", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_READ_MEM);
	ck_assert_uint_eq(r.addr, 0x800000203000ULL);
	ck_assert_uint_eq(r.len, 0x200);
	parse("M40000000,4:01020304", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_WRITE_MEM);
	ck_assert_uint_eq(r.data_len, 4);
	ck_assert_uint_eq(r.data[3], 4);
	const char x[] = "X10,3:a\0b";
	gdb_parse_request((const uint8_t *)x, sizeof(x) - 1, &r, scratch, sizeof(scratch));
	ck_assert_int_eq(r.kind, GDB_REQ_WRITE_MEM);
	ck_assert_uint_eq(r.data_len, 3);
	ck_assert_uint_eq(r.data[1], 0);
}
END_TEST

/* Table-driven: every one of these is answered E01 (malformed), never crashes. */
START_TEST(test_parse_malformed)
{
	static const char *const bad[] = {
	    "m",
	    "m1",
	    "m1,",
	    "m,1",
	    "mx,1",
	    "m1,1x",
	    "m11111111111111111,1",
	    "M1,2:01",
	    "M1,1:0g",
	    "M1,1:012",
	    "X1,2:a",
	    "p",
	    "pzz",
	    "P1",
	    "P1=",
	    "P1=0",
	    "Z5,1,4",
	    "Z0,1",
	    "Z0,1,4;X1,0",
	    "z0",
	    "Hx1",
	    "Hg",
	    "Hgz",
	    "Tq",
	    "vCont;x",
	    "vCont;",
	    "vCont;c:zz",
	    "vCont;Czz",
	    "vCont",
	    "cx",
	    "s1x",
	    "qXfer:features",
	    "qXfer:features:read:target.xml:0",
	    "qXfer:features:read:target.xml:x,1",
	    "qThreadExtraInfo,zz",
	    "G0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gdb_req r;
		parse(bad[i], &r);
		ck_assert_msg(r.kind == GDB_REQ_MALFORMED, "'%s' parsed as %d", bad[i], r.kind);
		ck_assert_ptr_nonnull(r.why);
	}
}
END_TEST

START_TEST(test_parse_unknown_is_empty_answer)
{
	static const char *const unknown[] = {
	    "", "!", "A", "bc", "gx", "?x", "kx", "vMustReplyEmpty", "qXfer:features:write:x:0,1"};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		struct gdb_req r;
		parse(unknown[i], &r);
		ck_assert_msg(r.kind == GDB_REQ_UNKNOWN, "'%s' parsed as %d", unknown[i], r.kind);
	}
}
END_TEST

START_TEST(test_parse_breakpoints_and_threads)
{
	struct gdb_req r;
	parse("Z0,800000204abc,4", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_INSERT_BP);
	ck_assert_int_eq(r.bp_type, 0);
	ck_assert_uint_eq(r.addr, 0x800000204abcULL);
	ck_assert_uint_eq(r.bp_len, 4);
	parse("z2,7f601000,8", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_REMOVE_BP);
	ck_assert_int_eq(r.bp_type, 2);
	parse("Hg-1", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_SET_THREAD);
	ck_assert_int_eq(r.thread_op, 'g');
	ck_assert_int_eq(r.thread, GDB_THREAD_ALL);
	parse("Hc3", &r);
	ck_assert_int_eq(r.thread, 3);
	parse("vCont;s:2;c", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_VCONT);
	ck_assert_uint_eq(r.nactions, 2);
	ck_assert_int_eq(r.actions[0].action, 's');
	ck_assert_int_eq(r.actions[0].thread, 2);
	ck_assert_int_eq(r.actions[1].action, 'c');
	ck_assert_int_eq(r.actions[1].thread, GDB_THREAD_ALL);
	parse("vCont;C05:1", &r);
	ck_assert_int_eq(r.actions[0].action, 'c');
	parse("vCont?", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_VCONT_QUERY);
}
END_TEST

START_TEST(test_parse_queries)
{
	struct gdb_req r;
	parse("qSupported:multiprocess+;swbreak+", &r);
	ck_assert_int_eq(r.kind, GDB_REQ_QUERY);
	ck_assert_str_eq(r.name, "Supported");
	ck_assert_uint_eq(r.args_len, strlen("multiprocess+;swbreak+"));
	parse("qXfer:features:read:target.xml:1f,ffb", &r);
	ck_assert(r.xfer);
	ck_assert_str_eq(r.xfer_object, "features");
	ck_assert_str_eq(r.xfer_annex, "target.xml");
	ck_assert_uint_eq(r.xfer_offset, 0x1f);
	ck_assert_uint_eq(r.xfer_len, 0xffb);
	parse("Qqemu.PhyMemMode:1", &r);
	ck_assert(r.is_set);
	ck_assert_str_eq(r.name, "qemu.PhyMemMode");
	ck_assert_uint_eq(r.args_len, 1);
	parse("qThreadExtraInfo,2", &r);
	ck_assert_int_eq(r.thread, 2);
	/* A name longer than the bound is unknown, not truncated into a known one. */
	char longname[GDB_NAME_MAX + 8];
	memset(longname, 'S', sizeof(longname));
	longname[0] = 'q';
	longname[sizeof(longname) - 1] = '\0';
	parse(longname, &r);
	ck_assert_int_eq(r.kind, GDB_REQ_UNKNOWN);
}
END_TEST

START_TEST(test_hex_helpers)
{
	char out[17];
	gdb_hex_le(0x1122334455667788ULL, 8, out);
	ck_assert_str_eq(out, "8877665544332211");
	gdb_hex_le(0xabcd, 4, out);
	ck_assert_str_eq(out, "cdab0000");
	uint8_t b[4];
	size_t n;
	ck_assert(gdb_hex_decode("DEADbeef", 8, b, sizeof(b), &n));
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(b[0], 0xde);
	ck_assert(!gdb_hex_decode("DEADbeef00", 10, b, sizeof(b), &n)); /* over cap */
}
END_TEST

/* Random bytes never crash the receiver or the parser, and it stays in sync afterwards. */
START_TEST(test_random_bytes_then_good_packet)
{
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		uint8_t junk[512];
		for (size_t i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (uint8_t)(seed >> 16);
		}
		for (size_t i = 0; i < sizeof(junk); i++) {
			if (gdb_rx_feed(rx, junk[i]) == GDB_RX_PACKET) {
				struct gdb_req r;
				gdb_parse_request(rx->buf, rx->len, &r, scratch, sizeof(scratch));
			}
		}
		/* A packet may be open: "#00" closes it, then a good one parses. */
		feed_str("#00");
		ck_assert_int_eq(feed_str("$g#67"), GDB_RX_PACKET);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("gdb_packet");
	TCase *tc = tcase_create("packet");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_packet_and_checksum);
	tcase_add_test(tc, test_bad_checksum_is_reported);
	tcase_add_test(tc, test_non_hex_checksum_is_malformed);
	tcase_add_test(tc, test_acks_interrupt_and_noise);
	tcase_add_test(tc, test_dollar_restarts_packet);
	tcase_add_test(tc, test_escapes_roundtrip);
	tcase_add_test(tc, test_escape_at_end_is_malformed);
	tcase_add_test(tc, test_rle_decodes_and_encodes);
	tcase_add_test(tc, test_rle_without_previous_char_is_malformed);
	tcase_add_test(tc, test_oversized_packet_is_reported_and_recovered);
	tcase_add_test(tc, test_frame_too_small_buffer);
	tcase_add_test(tc, test_parse_memory_packets);
	tcase_add_test(tc, test_parse_malformed);
	tcase_add_test(tc, test_parse_unknown_is_empty_answer);
	tcase_add_test(tc, test_parse_breakpoints_and_threads);
	tcase_add_test(tc, test_parse_queries);
	tcase_add_test(tc, test_hex_helpers);
	tcase_add_test(tc, test_random_bytes_then_good_packet);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hs_test_run(suite());
}
