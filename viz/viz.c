/* SPDX-License-Identifier: MIT */
/*
 * The view engine (an offscreen canvas and the three views), the headless
 * renderer and the live window. Data is gathered by hs_viz_refresh() (or
 * lazily when a stale view is drawn), laid out and painted into a cached
 * layer; a frame blits that layer and draws the overlays (walk highlight,
 * hovered cell, selected call).
 */
#include "viz_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VIZ_W 1280
#define VIZ_H 800
#define VIZ_FONT_PT 12

void hs_viz_opts_default(struct hs_viz_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->view = HS_VIZ_VIEW_TREE;
	o->table = HS_VIZ_TABLE_HOST_S2;
	o->selected_call = -1;
}

/* ---- engine ---------------------------------------------------------------- */

struct hs_viz *hs_viz_create(struct hs_machine *m, const struct hs_viz_opts *opts,
			     struct hs_error *err)
{
	struct hs_viz *v = calloc(1, sizeof(*v));
	if (!v) {
		hs_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	v->m = m;
	if (opts)
		v->o = *opts;
	else
		hs_viz_opts_default(&v->o);
	if ((unsigned)v->o.view >= HS_VIZ_VIEW_COUNT) {
		hs_err(err, -EINVAL, "unknown view %d (tree, map or timeline)", (int)v->o.view);
		free(v);
		return NULL;
	}
	v->w = v->o.width > 0 ? v->o.width : VIZ_W;
	v->h = v->o.height > 0 ? v->o.height : VIZ_H;
	if (v->w < 320 || v->h < 200 || v->w > 16384 || v->h > 16384) {
		hs_err(err, -EINVAL, "canvas %dx%d: use 320x200 to 16384x16384", v->w, v->h);
		free(v);
		return NULL;
	}
	v->canvas = SDL_CreateRGBSurfaceWithFormat(0, v->w, v->h, 32, SDL_PIXELFORMAT_ARGB8888);
	v->layer = SDL_CreateRGBSurfaceWithFormat(0, v->w, v->h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!v->canvas || !v->layer) {
		hs_err(err, -ENOMEM, "canvas %dx%d: %s", v->w, v->h, SDL_GetError());
		hs_viz_destroy(v);
		return NULL;
	}
	/* The layer is copied as is: no blending on the blit. */
	SDL_SetSurfaceBlendMode(v->layer, SDL_BLENDMODE_NONE);
	if (viz_font_open(&v->font, VIZ_FONT_PT, err)) {
		hs_viz_destroy(v);
		return NULL;
	}
	v->tree_stale = v->map_stale = true;
	v->layer_dirty = true;
	return v;
}

void hs_viz_destroy(struct hs_viz *v)
{
	if (!v)
		return;
	viz_tree_free(&v->tree);
	free(v->map.cls);
	free(v->map.prev_cls);
	free(v->map.cell_cls);
	free(v->map.cell_flags);
	viz_font_close(&v->font);
	if (v->canvas)
		SDL_FreeSurface(v->canvas);
	if (v->layer)
		SDL_FreeSurface(v->layer);
	free(v);
}

const struct hs_viz_opts *hs_viz_get_opts(const struct hs_viz *v)
{
	return &v->o;
}

static void tree_follow_addr(struct hs_viz *v)
{
	if (v->o.has_addr && (!v->scrolled || v->scrolled_addr != v->o.addr)) {
		viz_tree_scroll_to_walk(v);
		v->scrolled = true;
		v->scrolled_addr = v->o.addr;
	}
}

static int refresh_view(struct hs_viz *v, enum hs_viz_view view, struct hs_error *err)
{
	int rc = 0;
	if (view == HS_VIZ_VIEW_TREE && v->m) {
		rc = viz_tree_refresh(v, err);
		v->tree_ready = !rc;
		v->tree_stale = false;
		tree_follow_addr(v);
	} else if (view == HS_VIZ_VIEW_MAP && v->m) {
		rc = viz_map_refresh(v, err);
		v->map_ready = !rc;
		v->map_stale = false;
		if (v->map.hover_valid)
			viz_map_hover_pa(v, v->map.hover_pa);
	}
	v->layer_dirty = true;
	return rc;
}

int hs_viz_refresh(struct hs_viz *v, struct hs_error *err)
{
	/* Only the view on screen; the others catch up when shown. */
	v->tree_stale = v->map_stale = true;
	return refresh_view(v, v->o.view, err);
}

int hs_viz_set_opts(struct hs_viz *v, const struct hs_viz_opts *opts, struct hs_error *err)
{
	if ((unsigned)opts->view >= HS_VIZ_VIEW_COUNT)
		return hs_err(err, -EINVAL, "unknown view %d", (int)opts->view);
	struct hs_viz_opts old = v->o;
	v->o = *opts;
	v->o.width = v->w;
	v->o.height = v->h;
	if (old.table != opts->table || old.cpu != opts->cpu || old.vttbr != opts->vttbr ||
	    old.vtcr != opts->vtcr) {
		v->tree_stale = true;
		v->tree.have_prev = false; /* another table: nothing to diff against */
		v->tree.scroll = 0;
		v->scrolled = false;
	} else if (v->tree_ready && (old.has_addr != opts->has_addr || old.addr != opts->addr)) {
		viz_tree_update_walk(v);
		tree_follow_addr(v);
	}
	if (v->map_ready && (old.map_start_pa != opts->map_start_pa ||
			     old.map_pages_per_cell != opts->map_pages_per_cell ||
			     old.map_cell_px != opts->map_cell_px))
		viz_map_layout(v);
	if (opts->has_hover && v->map_ready)
		viz_map_hover_pa(v, opts->hover_pa);
	v->layer_dirty = true;
	return 0;
}

void hs_viz_draw(struct hs_viz *v)
{
	if (v->o.view == HS_VIZ_VIEW_TREE && v->tree_stale && v->m)
		refresh_view(v, HS_VIZ_VIEW_TREE, NULL);
	if (v->o.view == HS_VIZ_VIEW_MAP && v->map_stale && v->m)
		refresh_view(v, HS_VIZ_VIEW_MAP, NULL);
	if (v->layer_dirty) {
		switch (v->o.view) {
		case HS_VIZ_VIEW_TREE:
			viz_tree_paint(v);
			break;
		case HS_VIZ_VIEW_MAP:
			viz_map_paint(v);
			break;
		default:
			viz_timeline_paint(v);
			break;
		}
		v->layer_dirty = false;
	}
	SDL_BlitSurface(v->layer, NULL, v->canvas, NULL);
	switch (v->o.view) {
	case HS_VIZ_VIEW_TREE:
		viz_tree_overlay(v);
		break;
	case HS_VIZ_VIEW_MAP:
		viz_map_overlay(v);
		break;
	default:
		viz_timeline_overlay(v);
		break;
	}
}

struct SDL_Surface *hs_viz_surface(struct hs_viz *v)
{
	return v->canvas;
}

uint32_t hs_viz_pixel(struct hs_viz *v, int x, int y)
{
	if (x < 0 || y < 0 || x >= v->w || y >= v->h)
		return 0;
	const uint32_t *px = v->canvas->pixels;
	return px[(size_t)y * (size_t)(v->canvas->pitch / 4) + (size_t)x];
}

int hs_viz_write_png(struct hs_viz *v, const char *path, struct hs_error *err)
{
	return hs_viz_png_write(path, v->canvas->pixels, v->w, v->h, (size_t)v->canvas->pitch / 4,
				err);
}

int hs_viz_tree_highlights(struct hs_viz *v, struct hs_viz_rect *out, int max, int *levels)
{
	int n = 0;
	for (int i = 0; i < v->tree.nwalk && n < max; i++) {
		const struct tree_row *r = &v->tree.rows[v->tree.walk_rows[i]];
		struct hs_viz_rect rc;
		viz_tree_rect(v, r, &rc);
		if (rc.h <= 0)
			continue;
		if (levels)
			levels[n] = r->level;
		out[n++] = rc;
	}
	return n;
}

size_t hs_viz_tree_rows(const struct hs_viz *v)
{
	return v->tree.nrows;
}

uint64_t hs_viz_tree_leaves(const struct hs_viz *v)
{
	return v->tree.nleaves;
}

int hs_viz_set_tree_regime(struct hs_viz *v, const struct hs_phys *phys,
			   const struct hs_pt_regime *regime, struct hs_error *err)
{
	struct viz_tree *t = &v->tree;
	t->phys = *phys;
	t->regime = *regime;
	t->have_regime = true;
	t->error[0] = 0;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_pt_regime_describe(&sb, regime);
	viz_copy(t->title, sizeof(t->title), hs_sb_str(&sb));
	hs_sb_free(&sb);
	int rc = viz_tree_build(t, err);
	if (rc)
		return rc;
	viz_tree_update_walk(v);
	tree_follow_addr(v);
	v->tree_ready = true;
	v->tree_stale = false;
	v->layer_dirty = true;
	return 0;
}

/* ---- input ------------------------------------------------------------------ */

void hs_viz_scroll(struct hs_viz *v, int dx, int dy)
{
	switch (v->o.view) {
	case HS_VIZ_VIEW_TREE: {
		int max = v->tree.height - viz_tree_rows_visible(v);
		int s = v->tree.scroll + dy;
		v->tree.scroll = s > max ? (max > 0 ? max : 0) : (s < 0 ? 0 : s);
		break;
	}
	case HS_VIZ_VIEW_MAP: {
		struct viz_map *mp = &v->map;
		if (!mp->ncells)
			return;
		int64_t step = (int64_t)dy * mp->cols * (int64_t)mp->ppc;
		int64_t start = (int64_t)mp->start_pfn + step;
		int64_t lo = (int64_t)(mp->base_pa >> HS_PAGE_SHIFT),
			hi = lo + (int64_t)mp->nr_pages - 1;
		start = start < lo ? lo : start > hi ? hi : start;
		v->o.map_start_pa = (uint64_t)start << HS_PAGE_SHIFT;
		viz_map_layout(v);
		break;
	}
	default: {
		size_t n = hs_viz_recorder_count(v->o.recorder);
		int sel = v->o.selected_call + dx + dy;
		if (n)
			v->o.selected_call = sel < 0 ? 0 : (size_t)sel >= n ? (int)n - 1 : sel;
		break;
	}
	}
	v->layer_dirty = true;
}

void hs_viz_zoom(struct hs_viz *v, int dir)
{
	if (v->o.view != HS_VIZ_VIEW_MAP || !v->map.ncells)
		return;
	uint64_t ppc = v->map.ppc;
	unsigned cell = (unsigned)v->map.cell_px;
	if (dir > 0) {
		if (ppc > 1)
			ppc /= 2;
		else if (cell < 32)
			cell += 2;
	} else {
		if (ppc == 1 && cell > 8)
			cell -= 2;
		else if (ppc < v->map.nr_pages)
			ppc *= 2;
	}
	v->o.map_pages_per_cell = ppc;
	v->o.map_cell_px = cell;
	viz_map_layout(v);
}

void hs_viz_hover(struct hs_viz *v, int x, int y)
{
	if (v->o.view == HS_VIZ_VIEW_MAP)
		viz_map_set_hover_xy(v, x, y);
}

void hs_viz_click(struct hs_viz *v, int x, int y)
{
	if (v->o.view == HS_VIZ_VIEW_TREE) {
		int i = viz_tree_row_at(v, x, y);
		if (i < 0)
			return;
		struct tree_row *r = &v->tree.rows[i];
		/* Keep the run's first entry under the pointer across the relayout. */
		int line = r->y - v->tree.scroll, level = r->level;
		uint64_t head = r->run_head;
		viz_tree_toggle_expand(&v->tree, r);
		/* Rebuild from the same memory without flagging the split as a change. */
		v->tree.have_prev = false;
		if (!viz_tree_build(&v->tree, NULL)) {
			viz_tree_update_walk(v);
			int j = viz_tree_find_row(&v->tree, level, head);
			if (j >= 0) {
				v->tree.scroll = 0;
				hs_viz_scroll(v, 0, v->tree.rows[j].y - line);
			}
		}
		v->layer_dirty = true;
	} else if (v->o.view == HS_VIZ_VIEW_TIMELINE) {
		int i = viz_timeline_call_at(v, x, y);
		if (i >= 0) {
			v->o.selected_call = i;
			v->layer_dirty = true;
		}
	} else {
		viz_map_set_hover_xy(v, x, y);
	}
}

/* ---- headless ------------------------------------------------------------------ */

int hs_viz_render(struct hs_machine *m, const struct hs_viz_opts *opts, const char *png_path,
		  struct hs_error *err)
{
	struct hs_viz_opts o;
	if (opts)
		o = *opts;
	else
		hs_viz_opts_default(&o);
	struct hs_viz *v = hs_viz_create(m, &o, err);
	if (!v)
		return err ? err->code : -EINVAL;
	int rc = hs_viz_refresh(v, err);
	if (!rc) {
		if (o.view == HS_VIZ_VIEW_MAP && o.has_hover)
			viz_map_hover_pa(v, o.hover_pa);
		hs_viz_draw(v);
		rc = hs_viz_write_png(v, png_path, err);
	}
	hs_viz_destroy(v);
	return rc;
}

/* ---- live window ------------------------------------------------------------------ */

struct hs_viz_live {
	SDL_Window *win;
	struct hs_viz *v;
	struct hs_viz_recorder *rec;
	bool own_rec; /* attached by the window (detached at close) */
};

static void live_present(struct hs_viz_live *lv)
{
	hs_viz_draw(lv->v);
	SDL_Surface *ws = SDL_GetWindowSurface(lv->win);
	if (ws) {
		SDL_BlitSurface(lv->v->canvas, NULL, ws, NULL);
		SDL_UpdateWindowSurface(lv->win);
	}
}

struct hs_viz_live *hs_viz_live_open(struct hs_machine *m, struct hs_viz_recorder *rec,
				     struct hs_error *err)
{
	const char *drv = getenv("SDL_VIDEODRIVER");
	if ((!drv || !*drv) && !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY")) {
		hs_err(err, -ENODEV,
		       "no display for the visualizer window (DISPLAY is not set); use `render` "
		       "to write PNG files instead");
		return NULL;
	}
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
		hs_err(err, -ENODEV, "SDL video: %s", SDL_GetError());
		return NULL;
	}
	struct hs_viz_live *lv = calloc(1, sizeof(*lv));
	if (!lv) {
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
		hs_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	lv->own_rec = rec == NULL;
	lv->rec = rec ? rec : hs_viz_recorder_attach(m);
	o.recorder = lv->rec;
	lv->v = hs_viz_create(m, &o, err);
	if (lv->v)
		lv->win = SDL_CreateWindow("hypscope", SDL_WINDOWPOS_UNDEFINED,
					   SDL_WINDOWPOS_UNDEFINED, lv->v->w, lv->v->h, 0);
	if (!lv->v || !lv->win) {
		if (lv->v)
			hs_err(err, -ENODEV, "SDL window: %s", SDL_GetError());
		hs_viz_live_close(lv);
		return NULL;
	}
	hs_viz_refresh(lv->v, NULL);
	live_present(lv);
	return lv;
}

void hs_viz_live_redraw(struct hs_viz_live *lv, const struct hs_viz_opts *opts)
{
	if (!lv)
		return;
	if (opts) {
		struct hs_viz_opts o = *opts;
		if (!o.recorder)
			o.recorder = lv->rec;
		hs_viz_set_opts(lv->v, &o, NULL);
	}
	hs_viz_refresh(lv->v, NULL);
	live_present(lv);
}

int hs_viz_live_poll(struct hs_viz_live *lv)
{
	if (!lv)
		return 'q';
	SDL_Event e;
	bool dirty = false;
	int cmd = 0;
	struct hs_viz *v = lv->v;
	/*
	 * SDL ends a round of polling at a sentinel it queues when pumping;
	 * returning early on a command leaves that sentinel behind, so a
	 * second round picks up what arrived after it.
	 */
	for (int round = 0; round < 2 && !cmd; round++)
		while (!cmd && SDL_PollEvent(&e)) {
			switch (e.type) {
			case SDL_QUIT:
				cmd = 'q';
				break;
			case SDL_WINDOWEVENT:
				if (e.window.event == SDL_WINDOWEVENT_CLOSE)
					cmd = 'q';
				else if (e.window.event == SDL_WINDOWEVENT_EXPOSED)
					dirty = true;
				break;
			case SDL_KEYDOWN:
				switch (e.key.keysym.sym) {
				case SDLK_s:
					cmd = 's';
					break;
				case SDLK_c:
					cmd = 'c';
					break;
				case SDLK_q:
				case SDLK_ESCAPE:
					cmd = 'q';
					break;
				case SDLK_1:
				case SDLK_2:
				case SDLK_3:
					v->o.view = (enum hs_viz_view)(e.key.keysym.sym - SDLK_1);
					v->layer_dirty = true;
					break;
				case SDLK_PLUS:
				case SDLK_EQUALS:
				case SDLK_KP_PLUS:
					hs_viz_zoom(v, +1);
					break;
				case SDLK_MINUS:
				case SDLK_KP_MINUS:
					hs_viz_zoom(v, -1);
					break;
				case SDLK_UP:
					hs_viz_scroll(v, 0, -1);
					break;
				case SDLK_DOWN:
					hs_viz_scroll(v, 0, 1);
					break;
				case SDLK_PAGEUP:
					hs_viz_scroll(v, 0, -20);
					break;
				case SDLK_PAGEDOWN:
					hs_viz_scroll(v, 0, 20);
					break;
				case SDLK_LEFT:
					hs_viz_scroll(v, -1, 0);
					break;
				case SDLK_RIGHT:
					hs_viz_scroll(v, 1, 0);
					break;
				default:
					break;
				}
				dirty = true;
				break;
			case SDL_MOUSEMOTION:
				hs_viz_hover(v, e.motion.x, e.motion.y);
				dirty = true;
				break;
			case SDL_MOUSEBUTTONDOWN:
				hs_viz_click(v, e.button.x, e.button.y);
				dirty = true;
				break;
			case SDL_MOUSEWHEEL:
				hs_viz_scroll(v, 0, -3 * e.wheel.y);
				dirty = true;
				break;
			default:
				break;
			}
		}
	if (dirty && cmd != 'q')
		live_present(lv);
	return cmd;
}

void hs_viz_live_close(struct hs_viz_live *lv)
{
	if (!lv)
		return;
	if (lv->win)
		SDL_DestroyWindow(lv->win);
	hs_viz_destroy(lv->v);
	if (lv->own_rec)
		hs_viz_recorder_detach(lv->rec);
	free(lv);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

struct hs_viz *hs_viz_live_viz(struct hs_viz_live *lv)
{
	return lv ? lv->v : NULL;
}
