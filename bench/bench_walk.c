/* SPDX-License-Identifier: MIT */
/*
 * Walker benchmark: a fully populated stage 2 covering 4 GiB of IPA space
 * with 4 KiB pages (1,048,576 leaves; 40-bit IPA, level 1 start, two
 * concatenated roots) in a host buffer, then a full walk and merged dumps.
 * Prints the best of several runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pt_dump.h"
#include "pt_walk.h"

#define PG 4096ULL
#define RAM_BASE 0x100000000ULL /* table RAM above the 4 GiB being mapped */
#define NR_LEAVES (1ULL << 20)
#define NR_L3 (NR_LEAVES / 512)
#define RAM_PAGES (2 + 4 + NR_L3)
#define RUNS 5

struct ram {
	uint8_t *mem;
	uint64_t size;
};

static int ram_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	struct ram *r = ud;
	if (pa < RAM_BASE || pa - RAM_BASE + len > r->size)
		return -1;
	memcpy(buf, r->mem + (pa - RAM_BASE), len);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Identity map [0, 4 GiB) with pages; every stride-th page gets different attributes. */
static void build(struct ram *ram, unsigned stride)
{
	uint64_t *t = (uint64_t *)ram->mem;
	memset(ram->mem, 0, ram->size);
	/* pages: 0-1 root (concatenated), 2-5 level 2, 6.. level 3 */
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t l2 = 2 + i;
		t[i] = (RAM_BASE + l2 * PG) | 3;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t l3 = 6 + i * 512 + j;
			t[l2 * 512 + j] = (RAM_BASE + l3 * PG) | 3;
			for (uint64_t k = 0; k < 512; k++) {
				uint64_t ipa = ((i * 512 + j) * 512 + k) * PG;
				uint64_t prot = (stride && ((ipa / PG) % stride) == 0)
						    ? (1ULL << 6)
						    : (3ULL << 6);
				t[l3 * 512 + k] =
				    ipa | (0xfULL << 2) | prot | (3ULL << 8) | (1ULL << 10) | 3;
			}
		}
	}
}

static int count_leaf(const struct hs_pt_visit_ctx *ctx)
{
	(*(uint64_t *)ctx->arg)++;
	return 0;
}

static int count_range(const struct hs_pt_range *r, void *arg)
{
	(void)r;
	(*(uint64_t *)arg)++;
	return 0;
}

int main(void)
{
	struct ram ram = {.size = RAM_PAGES * PG};
	ram.mem = malloc(ram.size);
	if (!ram.mem)
		return 1;
	struct hs_phys phys = {.read = ram_read, .ud = &ram};
	struct hs_pt_regime r;
	char err[160];
	/* VTCR_EL2: T0SZ 24 (40-bit IPA), SL0 1 (level 1), 4K, PS 40 bits */
	if (hs_pt_regime_s2(24 | (1ULL << 6) | (2ULL << 16), RAM_BASE, &r, err, sizeof(err))) {
		fprintf(stderr, "regime: %s\n", err);
		return 1;
	}

	for (unsigned variant = 0; variant < 2; variant++) {
		unsigned stride = variant ? 2 : 0;
		build(&ram, stride);
		printf("%s\n", variant ? "alternating attributes (every other page read-only):"
				       : "identical attributes:");
		double best_walk = 1e9, best_all = 1e9, best_dump = 1e9;
		uint64_t leaves = 0, ranges = 0;
		for (int run = 0; run < RUNS; run++) {
			struct hs_pt_visitor v = {
			    .cb = count_leaf, .arg = &leaves, .flags = HS_PT_VISIT_LEAF};
			leaves = 0;
			double t0 = now_ms();
			if (hs_pt_walk(&phys, &r, 0, UINT64_MAX, &v))
				return 1;
			double t1 = now_ms();
			if (t1 - t0 < best_walk)
				best_walk = t1 - t0;

			uint64_t visits = 0;
			v.arg = &visits;
			v.flags = HS_PT_VISIT_ALL;
			t0 = now_ms();
			if (hs_pt_walk(&phys, &r, 0, UINT64_MAX, &v))
				return 1;
			t1 = now_ms();
			if (t1 - t0 < best_all)
				best_all = t1 - t0;

			ranges = 0;
			t0 = now_ms();
			if (hs_pt_dump_ranges(&phys, &r, NULL, count_range, &ranges))
				return 1;
			t1 = now_ms();
			if (t1 - t0 < best_dump)
				best_dump = t1 - t0;
		}
		printf("  walk %llu leaves: %.1f ms\n", (unsigned long long)leaves, best_walk);
		printf("  walk %llu leaves, all visits (tables, invalid): %.1f ms\n",
		       (unsigned long long)leaves, best_all);
		printf("  merged dump of %llu leaves -> %llu ranges: %.1f ms\n",
		       (unsigned long long)leaves, (unsigned long long)ranges, best_dump);
		if (variant == 0) {
			struct hs_strbuf sb;
			hs_sb_init(&sb);
			double t0 = now_ms();
			hs_pt_dump_text(&phys, &r, NULL, &sb);
			double t1 = now_ms();
			printf("  text dump: %.1f ms, %zu bytes\n", t1 - t0, sb.len);
			hs_sb_free(&sb);
		}
	}
	free(ram.mem);
	return 0;
}
