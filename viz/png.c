/* SPDX-License-Identifier: MIT */
/*
 * A minimal PNG writer: 8-bit RGBA, one IDAT made of stored (uncompressed)
 * deflate blocks. SDL2 cannot write PNG and SDL2_image is not a project
 * dependency; images of a few MB are fine for docs and CI artifacts, and a
 * byte-exact, dependency-free encoder keeps the rendered output deterministic.
 */
#include "viz_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* zlib stream: header, stored blocks of at most 65535 bytes, Adler-32. */
	size_t nblocks = (raw_len + 65534) / 65535;
	size_t z_len = 2 + raw_len + nblocks * 5 + 4;
	uint8_t *z = malloc(z_len);
	if (!z) {
		free(raw);
		return -ENOMEM;
	}
	uint8_t *p = z;
	*p++ = 0x78; /* CM=8, CINFO=7 (32K window) */
	*p++ = 0x01; /* FCHECK so that the header is a multiple of 31, no dict, fastest */
	uint32_t a = 1, b = 0;
	for (size_t off = 0; off < raw_len;) {
		size_t n = raw_len - off > 65535 ? 65535 : raw_len - off;
		*p++ = off + n == raw_len ? 1 : 0; /* BFINAL, BTYPE=00 */
		*p++ = (uint8_t)n;
		*p++ = (uint8_t)(n >> 8);
		*p++ = (uint8_t)~n;
		*p++ = (uint8_t)(~n >> 8);
		memcpy(p, raw + off, n);
		for (size_t i = 0; i < n; i++) {
			a += raw[off + i];
			if (a >= 65521)
				a -= 65521;
			b += a;
			if (b >= 65521)
				b -= 65521;
		}
		p += n;
		off += n;
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
