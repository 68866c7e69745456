/* SPDX-License-Identifier: MIT */
/*
 * A minimal PNG writer: 8-bit RGBA, one IDAT holding one fixed-Huffman
 * deflate block. SDL2 cannot write PNG and SDL2_image is not a project
 * dependency; a small dependency-free encoder keeps the rendered output
 * byte-for-byte deterministic.
 */
#include "viz_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/version.h>

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	/* Computed once; the table is a pure function of the polynomial. */
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[n] = c;
	}
	crc_ready = 1;
}

uint32_t hs_viz_crc32(uint32_t crc, const void *data, size_t len)
{
	if (!crc_ready)
		crc_init();
	const uint8_t *p = data;
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char type[4], const uint8_t *data, size_t len)
{
	uint8_t hdr[8];
	put32(hdr, (uint32_t)len);
	memcpy(hdr + 4, type, 4);
	uint32_t crc = hs_viz_crc32(0, type, 4);
	crc = hs_viz_crc32(crc, data, len);
	uint8_t tail[4];
	put32(tail, crc);
	if (fwrite(hdr, 1, 8, f) != 8 || (len && fwrite(data, 1, len, f) != len) ||
	    fwrite(tail, 1, 4, f) != 4)
		return -EIO;
	return 0;
}

/* LSB-first bit writer for deflate. */
struct bits {
	uint8_t *p;
	uint64_t acc;
	unsigned n;
};

static void put_bits(struct bits *b, uint32_t v, unsigned n)
{
	b->acc |= (uint64_t)v << b->n;
	b->n += n;
	while (b->n >= 8) {
		*b->p++ = (uint8_t)b->acc;
		b->acc >>= 8;
		b->n -= 8;
	}
}

/* Huffman codes go out most significant bit first. */
static void put_code(struct bits *b, uint32_t code, unsigned len)
{
	uint32_t r = 0;
	for (unsigned i = 0; i < len; i++)
		r |= ((code >> i) & 1) << (len - 1 - i);
	put_bits(b, r, len);
}

static void put_lit(struct bits *b, unsigned sym)
{
	/* The fixed literal/length code of RFC 1951, 3.2.6. */
	if (sym < 144)
		put_code(b, 0x30 + sym, 8);
	else if (sym < 256)
		put_code(b, 0x190 + sym - 144, 9);
	else if (sym < 280)
		put_code(b, sym - 256, 7);
	else
		put_code(b, 0xc0 + sym - 280, 8);
}

static const uint16_t len_base[29] = {3,  4,  5,  6,   7,   8,	 9,   10,  11, 13,
				      15, 17, 19, 23,  27,  31,	 35,  43,  51, 59,
				      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
				      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {
    1,	 2,   3,   4,	5,   7,	   9,	 13,   17,   25,   33,	 49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,	3,  3,	4,  4,	5,  5,	6,
				       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static void put_match(struct bits *b, unsigned len, unsigned dist)
{
	unsigned i = 28;
	while (len_base[i] > len)
		i--;
	put_lit(b, 257 + i);
	put_bits(b, len - len_base[i], len_extra[i]);
	unsigned d = 29;
	while (dist_base[d] > dist)
		d--;
	put_code(b, d, 5);
	put_bits(b, dist - dist_base[d], dist_extra[d]);
}

static size_t match_len(const uint8_t *raw, size_t pos, size_t dist, size_t end)
{
	size_t n = 0;
	while (n < 258 && pos + n < end && raw[pos + n] == raw[pos + n - dist])
		n++;
	return n;
}

/*
 * One fixed-Huffman deflate block. Matches are only looked for at two
 * distances, the previous pixel and the pixel above: the views are flat
 * colour and text, so that alone shrinks them 20-50x without a hash chain.
 */
static size_t deflate_fixed(const uint8_t *raw, size_t len, size_t line, uint8_t *out)
{
	struct bits b = {.p = out};
	put_bits(&b, 1, 1); /* BFINAL */
	put_bits(&b, 1, 2); /* BTYPE = fixed Huffman */
	for (size_t i = 0; i < len;) {
		size_t best = 0, dist = 0;
		if (i >= 4) {
			best = match_len(raw, i, 4, len);
			dist = 4;
		}
		if (i >= line && line <= 32768) {
			size_t n = match_len(raw, i, line, len);
			if (n > best) {
				best = n;
				dist = line;
			}
		}
		if (best >= 3) {
			put_match(&b, (unsigned)best, (unsigned)dist);
			i += best;
		} else {
			put_lit(&b, raw[i++]);
		}
	}
	put_lit(&b, 256);
	if (b.n)
		put_bits(&b, 0, 8 - b.n);
	return (size_t)(b.p - out);
}

int hs_viz_png_encode(const uint32_t *argb, int w, int h, size_t pitch_px, uint8_t **out,
		      size_t *out_len)
{
	if (w <= 0 || h <= 0)
		return -EINVAL;
	/* Raw scanlines: filter byte 0 then RGBA. */
	size_t line = 1 + (size_t)w * 4, raw_len = line * (size_t)h;
	uint8_t *raw = malloc(raw_len);
	if (!raw)
		return -ENOMEM;
	for (int y = 0; y < h; y++) {
		uint8_t *d = raw + (size_t)y * line;
		const uint32_t *s = argb + (size_t)y * pitch_px;
		*d++ = 0;
		for (int x = 0; x < w; x++) {
			uint32_t p = s[x];
			*d++ = (uint8_t)(p >> 16);
			*d++ = (uint8_t)(p >> 8);
			*d++ = (uint8_t)p;
			*d++ = (uint8_t)(p >> 24);
		}
	}
	/* Worst case: every byte a 9-bit literal. */
	size_t z_cap = 2 + raw_len + raw_len / 8 + 16 + 4;
	uint8_t *z = malloc(z_cap);
	if (!z) {
		free(raw);
		return -ENOMEM;
	}
	uint8_t *p = z;
	*p++ = 0x78; /* CM=8, CINFO=7 (32K window) */
	*p++ = 0x01; /* FCHECK so that the header is a multiple of 31, no dict, fastest */
	p += deflate_fixed(raw, raw_len, line, p);
	uint32_t a = 1, b = 0;
	for (size_t i = 0; i < raw_len; i++) {
		a += raw[i];
		if (a >= 65521)
			a -= 65521;
		b += a;
		if (b >= 65521)
			b -= 65521;
	}
	put32(p, (b << 16) | a);
	p += 4;
	free(raw);
	*out = z;
	*out_len = (size_t)(p - z);
	return 0;
}

int hs_viz_png_write(const char *path, const uint32_t *argb, int w, int h, size_t pitch_px,
		     struct hs_error *err)
{
	uint8_t *z;
	size_t z_len;
	int rc = hs_viz_png_encode(argb, w, h, pitch_px, &z, &z_len);
	if (rc)
		return hs_err(err, rc, "encoding a %dx%d PNG: %s", w, h,
			      rc == -ENOMEM ? "out of memory" : "bad size");
	FILE *f = fopen(path, "wb");
	if (!f) {
		free(z);
		return hs_err(err, -errno, "cannot write %s: %s", path, strerror(errno));
	}
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint8_t ihdr[13];
	put32(ihdr, (uint32_t)w);
	put32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 6;  /* colour type RGBA */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering */
	ihdr[12] = 0; /* no interlace */
	rc = fwrite(sig, 1, 8, f) == 8 ? 0 : -EIO;
	if (!rc)
		rc = write_chunk(f, "IHDR", ihdr, sizeof(ihdr));
	/* Which hypscope drew it (PNG's registered "Software" keyword). */
	static const char software[] = "Software\0hypscope " HYPSCOPE_VERSION;
	if (!rc)
		rc = write_chunk(f, "tEXt", (const uint8_t *)software, sizeof(software) - 1);
	if (!rc)
		rc = write_chunk(f, "IDAT", z, z_len);
	if (!rc)
		rc = write_chunk(f, "IEND", NULL, 0);
	free(z);
	if (fclose(f) && !rc)
		rc = -EIO;
	if (rc)
		return hs_err(err, rc, "writing %s failed (disk full?)", path);
	return 0;
}
