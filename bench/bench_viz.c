/* SPDX-License-Identifier: MIT */
/*
 * Visualizer benchmark, headless: the ownership map of a 16 GiB machine
 * (4 Mi pages, synthetic classes) and the tree of a stage 2 with 100,000
 * page leaves whose attributes alternate (so no run collapses: 100,000+
 * rows). Prints the one-off costs (data -> layout, first paint) and the
 * per-frame cost (blit of the cached layer + overlays), which must stay
 * under 16 ms.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hypscope/abi.h>

#include "viz.h"

#define PG 4096ULL
#define MAP_BYTES (16ULL << 30)
#define MAP_BASE 0x40000000ULL
#define NR_LEAVES 100000ULL
#define NR_L3 ((NR_LEAVES + 511) / 512)
#define TBL_BASE 0x1000000000ULL /* table RAM, away from what it maps */
#define TBL_PAGES (2 + NR_L3)
#define FRAMES 200

struct ram {
	uint8_t *mem;
	uint64_t size;
};

static int ram_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	struct ram *r = ud;
	if (pa < TBL_BASE || pa - TBL_BASE + len > r->size)
		return -1;
	memcpy(buf, r->mem + (pa - TBL_BASE), len);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct frames {
	double avg, max;
};

static struct frames time_frames(struct hs_viz *v, int scroll_every)
{
	struct frames f = {0, 0};
	for (int i = 0; i < FRAMES; i++) {
		if (scroll_every && i % scroll_every == 0)
			hs_viz_scroll(v, 0, 7);
		hs_viz_hover(v, 300 + i % 200, 200 + i % 300);
		double t0 = now_ms();
		hs_viz_draw(v);
		double d = now_ms() - t0;
		f.avg += d / FRAMES;
		if (d > f.max)
			f.max = d;
	}
	return f;
}

static int bench_map(void)
{
	uint64_t n = MAP_BYTES / PG;
	uint8_t *cls = malloc(n);
	if (!cls)
		return 1;
	/* Host memory with a hypervisor carve-out, guests, and scattered shares. */
	uint64_t seed = 1;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t c = HS_VIZ_C_HOST_OWNED;
		if (i >= n - n / 64)
			c = HS_VIZ_C_HYP_OWNED;
		else if ((i / 65536) % 7 == 3)
			c = HS_VIZ_C_GUEST;
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((seed >> 33) % 97 == 0)
			c = (seed >> 40) & 1 ? HS_VIZ_C_HYP_BORROWED : HS_VIZ_C_HOST_SHARED;
		cls[i] = c;
	}
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_MAP;
	struct hs_error err = {0};
	struct hs_viz *v = hs_viz_create(NULL, &o, &err);
	if (!v) {
		fprintf(stderr, "viz: %s\n", err.msg);
		return 1;
	}
	double t0 = now_ms();
	if (hs_viz_set_map_classes(v, MAP_BASE, n, cls, &err)) {
		fprintf(stderr, "map: %s\n", err.msg);
		return 1;
	}
	double t1 = now_ms();
	hs_viz_draw(v);
	double t2 = now_ms();
	struct frames f = time_frames(v, 0);
	double t3 = now_ms();
	hs_viz_zoom(v, +1);
	hs_viz_draw(v);
	double t4 = now_ms();
	printf("ownership map, 16 GiB (%llu pages, %llu pages/cell):\n", (unsigned long long)n,
	       (unsigned long long)hs_viz_map_pages_per_cell(v));
	printf("  data change (classes -> cells): %.1f ms\n", t1 - t0);
	printf("  first paint of the layer:        %.1f ms\n", t2 - t1);
	printf("  frame (blit + hover overlay):    %.2f ms avg, %.2f ms max over %d frames\n",
	       f.avg, f.max, FRAMES);
	printf("  zoom step (re-aggregate + paint): %.1f ms\n", t4 - t3);
	hs_viz_destroy(v);
	free(cls);
	return f.max < 16.0 ? 0 : 2;
}

static int bench_tree(void)
{
	struct ram ram = {.size = TBL_PAGES * PG};
	ram.mem = calloc(1, ram.size);
	if (!ram.mem)
		return 1;
	uint64_t *t = (uint64_t *)ram.mem;
	/* Pages: 0 root (level 1), 1 level 2, 2.. level 3; IPA 0.. mapped with pages. */
	t[0] = (TBL_BASE + PG) | 3;
	for (uint64_t j = 0; j < NR_L3; j++) {
		t[512 + j] = (TBL_BASE + (2 + j) * PG) | 3;
		for (uint64_t k = 0; k < 512 && j * 512 + k < NR_LEAVES; k++) {
			uint64_t ipa = (j * 512 + k) * PG;
			uint64_t prot = k & 1 ? (1ULL << 6) : (3ULL << 6);
			t[(2 + j) * 512 + k] = (MAP_BASE + ipa) | (0xfULL << 2) | prot |
					       (3ULL << 8) | (1ULL << 10) | 3;
		}
	}
	struct hs_phys phys = {.read = ram_read, .ud = &ram};
	struct hs_pt_regime r;
	char msg[160];
	/* VTCR_EL2: T0SZ 25 (39-bit IPA), SL0 1 (level 1), 4K, PS 40 bits */
	if (hs_pt_regime_s2(25 | (1ULL << 6) | (2ULL << 16), TBL_BASE, &r, msg, sizeof(msg))) {
		fprintf(stderr, "regime: %s\n", msg);
		return 1;
	}
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_TREE;
	o.has_addr = true;
	o.addr = (NR_LEAVES / 2) * PG;
	struct hs_error err = {0};
	struct hs_viz *v = hs_viz_create(NULL, &o, &err);
	if (!v) {
		fprintf(stderr, "viz: %s\n", err.msg);
		return 1;
	}
	double t0 = now_ms();
	if (hs_viz_set_tree_regime(v, &phys, &r, &err)) {
		fprintf(stderr, "tree: %s\n", err.msg);
		return 1;
	}
	double t1 = now_ms();
	hs_viz_draw(v);
	double t2 = now_ms();
	struct frames f = time_frames(v, 0);
	struct frames fs = time_frames(v, 1);
	printf("tree, %llu leaves -> %zu rows:\n", (unsigned long long)hs_viz_tree_leaves(v),
	       hs_viz_tree_rows(v));
	printf("  data change (walk + collapse + layout + walk highlight): %.1f ms\n", t1 - t0);
	printf("  first paint of the layer:                               %.1f ms\n", t2 - t1);
	printf("  frame (blit + walk outline):   %.2f ms avg, %.2f ms max over %d frames\n", f.avg,
	       f.max, FRAMES);
	printf("  frame while scrolling (repaint visible rows + blit): %.2f ms avg, %.2f ms max\n",
	       fs.avg, fs.max);
	hs_viz_destroy(v);
	free(ram.mem);
	return f.max < 16.0 && fs.max < 16.0 ? 0 : 2;
}

int main(void)
{
	int rc = bench_map();
	int rc2 = bench_tree();
	if (rc || rc2)
		printf("FAIL: a frame took 16 ms or more\n");
	return rc ? rc : rc2;
}
