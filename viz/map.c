/* SPDX-License-Identifier: MIT */
/*
 * The physical ownership map: every page of RAM as a grid of cells, several
 * pages per cell when RAM is large (the cell takes the majority class, or
 * "mixed" when no class has one). Classes are scanned once per refresh and
 * aggregated once per zoom change; cells are written straight into the layer's
 * pixels, so a 16 GiB machine costs one pass over 4 Mi bytes per change and a
 * blit per frame.
 */
#include "viz_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_TOP 28
#define MAP_PANEL_W 380
#define CELL_UNIFORM_NOT 1
#define CELL_CHANGED 2
#define CELL_EMPTY 4

static int label_w(const struct hs_viz *v)
{
	return 12 * v->font.cw + 8;
}

static void count_classes(struct viz_map *mp)
{
	memset(mp->counts, 0, sizeof(mp->counts));
	for (uint64_t i = 0; i < mp->nr_pages; i++)
		mp->counts[mp->cls[i] < HS_VIZ_C_COUNT ? mp->cls[i] : HS_VIZ_C_NONE]++;
}

/* Keep the previous classes for the "changed" outline when the geometry matches. */
static int map_new_classes(struct viz_map *mp, uint64_t base_pa, uint64_t nr_pages)
{
	if (mp->cls && mp->base_pa == base_pa && mp->nr_pages == nr_pages) {
		uint8_t *t = mp->prev_cls;
		mp->prev_cls = mp->cls;
		mp->cls = t ? t : malloc(nr_pages);
	} else {
		free(mp->cls);
		free(mp->prev_cls);
		mp->prev_cls = NULL;
		mp->cls = malloc(nr_pages ? nr_pages : 1);
	}
	mp->base_pa = base_pa;
	mp->nr_pages = nr_pages;
	return mp->cls ? 0 : -ENOMEM;
}

int viz_map_refresh(struct hs_viz *v, struct hs_error *err)
{
	struct viz_map *mp = &v->map;
	if (!v->m)
		return 0;
	const struct hs_machine_opts *mo = hs_machine_opts(v->m);
	if (map_new_classes(mp, mo->ram_base, mo->ram_size >> HS_PAGE_SHIFT))
		return hs_err(err, -ENOMEM, "no memory for the ownership map of %" PRIu64 " pages",
			      mo->ram_size >> HS_PAGE_SHIFT);
	struct hs_error e = {0};
	mp->error[0] = 0;
	if (hs_viz_owner_scan(v->m, mp->base_pa, mp->nr_pages, mp->cls, &e))
		viz_copy(mp->error, sizeof(mp->error), e.msg);
	count_classes(mp);
	viz_map_layout(v);
	return 0;
}

int hs_viz_set_map_classes(struct hs_viz *v, uint64_t base_pa, uint64_t nr_pages,
			   const uint8_t *cls, struct hs_error *err)
{
	struct viz_map *mp = &v->map;
	if (map_new_classes(mp, base_pa, nr_pages))
		return hs_err(err, -ENOMEM, "no memory for %" PRIu64 " pages", nr_pages);
	memcpy(mp->cls, cls, nr_pages);
	mp->error[0] = 0;
	count_classes(mp);
	v->map_ready = true;
	viz_map_layout(v);
	v->layer_dirty = true;
	return 0;
}

static uint64_t pow2_floor(uint64_t x)
{
	uint64_t p = 1;
	while (p * 2 <= x)
		p *= 2;
	return p;
}

void viz_map_layout(struct hs_viz *v)
{
	struct viz_map *mp = &v->map;
	int area_w = v->w - label_w(v) - MAP_PANEL_W - 16, area_h = v->h - MAP_TOP - 4;
	if (area_w < 16)
		area_w = 16;
	if (area_h < 16)
		area_h = 16;
	uint64_t base_pfn = mp->base_pa >> HS_PAGE_SHIFT;
	uint64_t start = v->o.map_start_pa >> HS_PAGE_SHIFT;
	if (start < base_pfn || start >= base_pfn + mp->nr_pages)
		start = base_pfn;
	uint64_t left = base_pfn + mp->nr_pages - start;
	uint64_t ppc = v->o.map_pages_per_cell;
	int cell = (int)v->o.map_cell_px;
	if (!ppc) {
		/* The smallest aggregation whose grid fits with cells of >= 3 px. */
		for (ppc = 1;; ppc *= 2) {
			uint64_t n = (left + ppc - 1) / ppc;
			int best = 0;
			for (int c = 16; c >= 3 && !best; c--) {
				uint64_t cols = pow2_floor((uint64_t)area_w / (uint64_t)c);
				if ((n + cols - 1) / cols * (uint64_t)c <= (uint64_t)area_h)
					best = c;
			}
			if (best || ppc >= (1ULL << 40)) {
				if (!cell)
					cell = best ? best : 3;
				break;
			}
		}
	} else if (!cell) {
		uint64_t n = (left + ppc - 1) / ppc;
		/* The user chose the density: cells stay legible and the grid scrolls. */
		for (cell = 16; cell > 8; cell--) {
			uint64_t cols = pow2_floor((uint64_t)area_w / (uint64_t)cell);
			if ((n + cols - 1) / cols * (uint64_t)cell <= (uint64_t)area_h)
				break;
		}
	}
	start -= (start - base_pfn) % ppc;
	left = base_pfn + mp->nr_pages - start;
	mp->start_pfn = start;
	mp->ppc = ppc;
	mp->cell_px = cell;
	mp->gap = cell >= 6 ? 1 : 0;
	mp->cols = (int)pow2_floor((uint64_t)area_w / (uint64_t)cell);
	uint64_t n = (left + ppc - 1) / ppc;
	uint64_t rows = (n + (uint64_t)mp->cols - 1) / (uint64_t)mp->cols;
	mp->rows = (int)(rows < (uint64_t)(area_h / cell) ? rows : (uint64_t)(area_h / cell));
	mp->x0 = label_w(v);
	mp->y0 = MAP_TOP;
	size_t ncells = (size_t)mp->cols * (size_t)mp->rows;
	if (ncells != mp->ncells) {
		free(mp->cell_cls);
		free(mp->cell_flags);
		mp->cell_cls = malloc(ncells ? ncells : 1);
		mp->cell_flags = malloc(ncells ? ncells : 1);
		mp->ncells = mp->cell_cls && mp->cell_flags ? ncells : 0;
	}
	/* Aggregate: majority class per cell, "mixed" without one. */
	for (size_t c = 0; c < mp->ncells; c++) {
		uint64_t p0 = start + c * ppc - base_pfn, p1 = p0 + ppc;
		if (p0 >= mp->nr_pages) {
			mp->cell_cls[c] = HS_VIZ_C_NONE;
			mp->cell_flags[c] = CELL_EMPTY;
			continue;
		}
		if (p1 > mp->nr_pages)
			p1 = mp->nr_pages;
		uint8_t flags = 0, first = mp->cls[p0];
		uint64_t hist[HS_VIZ_C_COUNT] = {0};
		bool uniform = true;
		for (uint64_t p = p0; p < p1; p++) {
			uint8_t k = mp->cls[p] < HS_VIZ_C_COUNT ? mp->cls[p] : HS_VIZ_C_NONE;
			hist[k]++;
			uniform &= k == first;
		}
		if (mp->prev_cls && memcmp(mp->cls + p0, mp->prev_cls + p0, p1 - p0))
			flags |= CELL_CHANGED;
		uint8_t best = first;
		if (!uniform) {
			flags |= CELL_UNIFORM_NOT;
			for (int k = 0; k < HS_VIZ_C_COUNT; k++)
				if (hist[k] > hist[best])
					best = (uint8_t)k;
			if (hist[best] * 2 <= p1 - p0)
				best = HS_VIZ_C_MIXED;
		}
		mp->cell_cls[c] = best;
		mp->cell_flags[c] = flags;
	}
	v->layer_dirty = true;
}

static void cell_xy(const struct viz_map *mp, size_t c, int *x, int *y)
{
	*x = mp->x0 + (int)(c % (size_t)mp->cols) * mp->cell_px;
	*y = mp->y0 + (int)(c / (size_t)mp->cols) * mp->cell_px;
}

static void fmt_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ULL << 30) && !(bytes & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", bytes >> 30);
	else if (bytes >= (1ULL << 20) && !(bytes & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
}

void viz_map_paint(struct hs_viz *v)
{
	SDL_Surface *s = v->layer;
	struct viz_map *mp = &v->map;
	viz_fill(s, 0, 0, v->w, v->h, VIZ_BG);
	char buf[600], a[32], b[32];
	fmt_size(mp->nr_pages << HS_PAGE_SHIFT, a, sizeof(a));
	fmt_size(mp->ppc << HS_PAGE_SHIFT, b, sizeof(b));
	snprintf(buf, sizeof(buf),
		 "Physical ownership: RAM %#" PRIx64 " +%s, %" PRIu64 " pages; %" PRIu64
		 " page%s (%s) per cell%s%s",
		 mp->base_pa, a, mp->nr_pages, mp->ppc, mp->ppc > 1 ? "s" : "", b,
		 mp->error[0] ? "  -- " : "", mp->error);
	viz_text(s, &v->font, 8, 6, mp->error[0] ? 0xffff6060u : VIZ_FG, buf,
		 (v->w - 16) / v->font.cw);
	/* Cells: direct pixel writes, the surface is ours and unlocked. */
	uint32_t *px = s->pixels;
	size_t pitch = (size_t)s->pitch / 4;
	int inner = mp->cell_px - mp->gap;
	for (size_t c = 0; c < mp->ncells; c++) {
		if (mp->cell_flags[c] & CELL_EMPTY)
			continue;
		int x, y;
		cell_xy(mp, c, &x, &y);
		uint32_t col = hs_viz_class_color(mp->cell_cls[c]);
		for (int dy = 0; dy < inner; dy++) {
			uint32_t *row = px + (size_t)(y + dy) * pitch + x;
			for (int dx = 0; dx < inner; dx++)
				row[dx] = col;
		}
		if ((mp->cell_flags[c] & CELL_UNIFORM_NOT) && mp->cell_cls[c] != HS_VIZ_C_MIXED &&
		    inner >= 6) /* majority colour with a "mixed" dot */
			viz_fill(s, x + inner / 3, y + inner / 3, inner - 2 * (inner / 3),
				 inner - 2 * (inner / 3), hs_viz_class_color(HS_VIZ_C_MIXED));
		if (mp->cell_flags[c] & CELL_CHANGED)
			viz_outline(s, x, y, inner, inner, inner >= 6 ? 2 : 1, VIZ_CHANGED);
	}
	/* Row labels: the PA of the row's first page, as often as they fit. */
	int every = (v->font.ch + 2 + mp->cell_px - 1) / mp->cell_px;
	for (int r = 0; r < mp->rows; r += every) {
		uint64_t pa = (mp->start_pfn + (uint64_t)r * (uint64_t)mp->cols * mp->ppc)
			      << HS_PAGE_SHIFT;
		snprintf(buf, sizeof(buf), "%#11" PRIx64, pa);
		viz_text(s, &v->font, 4, mp->y0 + r * mp->cell_px, VIZ_DIM, buf, 12);
	}
	/* Legend. */
	int lx = v->w - MAP_PANEL_W, ly = MAP_TOP;
	viz_fill(s, lx - 6, ly - 4, MAP_PANEL_W, v->h - ly, VIZ_PANEL);
	for (int k = 0; k < HS_VIZ_C_COUNT; k++) {
		viz_fill(s, lx, ly + 2, v->font.ch - 3, v->font.ch - 3, hs_viz_class_color(k));
		if (k == HS_VIZ_C_MIXED)
			snprintf(buf, sizeof(buf), "%-16s (cells)", hs_viz_class_name(k));
		else
			snprintf(buf, sizeof(buf), "%-16s %10" PRIu64 " pages",
				 hs_viz_class_name(k), mp->counts[k]);
		viz_text(s, &v->font, lx + v->font.ch + 2, ly, VIZ_FG, buf, 0);
		ly += v->font.ch + 2;
	}
	viz_text(s, &v->font, lx, ly + 4, VIZ_DIM, "1/2/3 view  +/- zoom  arrows scroll", 0);
}

void viz_map_overlay(struct hs_viz *v)
{
	struct viz_map *mp = &v->map;
	if (!mp->hover_valid)
		return;
	struct hs_viz_rect r;
	if (!hs_viz_map_cell_rect(v, mp->hover_pa, &r))
		viz_outline(v->canvas, r.x - 1, r.y - 1, r.w + 2, r.h + 2, 1, 0xffffffffu);
	int lx = v->w - MAP_PANEL_W, ly = MAP_TOP + (HS_VIZ_C_COUNT + 2) * (v->font.ch + 2);
	const char *p = mp->hover_text;
	while (*p && ly + v->font.ch < v->h) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		int maxc = (MAP_PANEL_W - 12) / v->font.cw;
		viz_text(v->canvas, &v->font, lx, ly, VIZ_FG, p, n < maxc ? n : maxc);
		ly += v->font.ch;
		p += n + (nl ? 1 : 0);
	}
}

static void set_hover(struct hs_viz *v, uint64_t pa)
{
	struct viz_map *mp = &v->map;
	mp->hover_valid = true;
	mp->hover_pa = pa;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	uint64_t pfn = pa >> HS_PAGE_SHIFT;
	uint64_t c0 = (pfn - mp->start_pfn) / mp->ppc * mp->ppc + mp->start_pfn;
	if (mp->ppc > 1) {
		/* A cell of many pages: its mix, then the page under the pointer. */
		uint64_t hist[HS_VIZ_C_COUNT] = {0};
		uint64_t base = mp->base_pa >> HS_PAGE_SHIFT;
		for (uint64_t p = c0; p < c0 + mp->ppc && p - base < mp->nr_pages; p++)
			hist[mp->cls[p - base]]++;
		hs_sb_printf(&sb, "cell %#" PRIx64 "-%#" PRIx64 ":\n", c0 << HS_PAGE_SHIFT,
			     (c0 + mp->ppc) << HS_PAGE_SHIFT);
		for (int k = 0; k < HS_VIZ_C_COUNT; k++)
			if (hist[k])
				hs_sb_printf(&sb, "  %-14s %" PRIu64 "\n", hs_viz_class_name(k),
					     hist[k]);
	}
	if (v->m)
		hs_viz_page_describe(v->m, pa, &sb);
	else
		hs_sb_printf(&sb, "page %#" PRIx64 ": %s\n", pa,
			     hs_viz_class_name(hs_viz_map_page_class(v, pa)));
	viz_copy(mp->hover_text, sizeof(mp->hover_text), hs_sb_str(&sb));
	hs_sb_free(&sb);
}

int viz_map_set_hover_xy(struct hs_viz *v, int x, int y)
{
	struct viz_map *mp = &v->map;
	if (!mp->ncells || x < mp->x0 || y < mp->y0)
		return -1;
	size_t col = (size_t)((x - mp->x0) / mp->cell_px),
	       row = (size_t)((y - mp->y0) / mp->cell_px);
	if (col >= (size_t)mp->cols || row >= (size_t)mp->rows)
		return -1;
	size_t c = row * (size_t)mp->cols + col;
	if (mp->cell_flags[c] & CELL_EMPTY)
		return -1;
	uint64_t pfn = mp->start_pfn + c * mp->ppc;
	if (mp->hover_valid && mp->hover_pa == pfn << HS_PAGE_SHIFT)
		return 0;
	set_hover(v, pfn << HS_PAGE_SHIFT);
	return 1;
}

void viz_map_hover_pa(struct hs_viz *v, uint64_t pa)
{
	set_hover(v, pa & ~(HS_PAGE_SIZE - 1));
}

int hs_viz_map_cell_rect(struct hs_viz *v, uint64_t pa, struct hs_viz_rect *r)
{
	struct viz_map *mp = &v->map;
	uint64_t pfn = pa >> HS_PAGE_SHIFT;
	if (!mp->ncells || pfn < mp->start_pfn)
		return -1;
	uint64_t c = (pfn - mp->start_pfn) / mp->ppc;
	if (c >= mp->ncells || (mp->cell_flags[c] & CELL_EMPTY))
		return -1;
	cell_xy(mp, (size_t)c, &r->x, &r->y);
	r->w = r->h = mp->cell_px - mp->gap;
	return 0;
}

enum hs_viz_class hs_viz_map_page_class(struct hs_viz *v, uint64_t pa)
{
	struct viz_map *mp = &v->map;
	uint64_t i = (pa - mp->base_pa) >> HS_PAGE_SHIFT;
	if (pa < mp->base_pa || i >= mp->nr_pages || !mp->cls)
		return HS_VIZ_C_NONE;
	return mp->cls[i];
}

enum hs_viz_class hs_viz_map_cell_class(struct hs_viz *v, uint64_t pa)
{
	struct viz_map *mp = &v->map;
	uint64_t pfn = pa >> HS_PAGE_SHIFT;
	if (!mp->ncells || pfn < mp->start_pfn)
		return HS_VIZ_C_NONE;
	uint64_t c = (pfn - mp->start_pfn) / mp->ppc;
	return c < mp->ncells ? mp->cell_cls[c] : HS_VIZ_C_NONE;
}

void hs_viz_map_grid_rect(struct hs_viz *v, struct hs_viz_rect *r)
{
	r->x = v->map.x0;
	r->y = v->map.y0;
	r->w = v->map.cols * v->map.cell_px;
	r->h = v->map.rows * v->map.cell_px;
}

uint64_t hs_viz_map_pages_per_cell(const struct hs_viz *v)
{
	return v->map.ppc;
}
