/* SPDX-License-Identifier: MIT */
/*
 * Drawing primitives on ARGB8888 surfaces. Text goes through a glyph atlas
 * rendered once per font: a frame blits glyph rectangles instead of asking
 * FreeType to rasterise strings, which keeps a full repaint in milliseconds.
 */
#include "viz_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VIZ_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

int viz_font_open(struct viz_font *f, int ptsize, struct hs_error *err)
{
	memset(f, 0, sizeof(*f));
	if (!TTF_WasInit() && TTF_Init() != 0)
		return hs_err(err, -EIO, "SDL_ttf: %s", TTF_GetError());
	const char *path = getenv("HS_VIZ_FONT");
	if (!path || !*path)
		path = VIZ_FONT_DEFAULT;
	f->ttf = TTF_OpenFont(path, ptsize);
	if (!f->ttf)
		return hs_err(err, -ENOENT,
			      "cannot open font %s (%s): apt-get install fonts-dejavu-core, or set "
			      "HS_VIZ_FONT to a monospace TTF",
			      path, TTF_GetError());
	int adv = 0;
	TTF_GlyphMetrics(f->ttf, 'M', NULL, NULL, NULL, NULL, &adv);
	f->cw = adv > 0 ? adv : ptsize * 6 / 10;
	/* Glyph surfaces can reach one row below the font height (the underscore). */
	f->ch = TTF_FontHeight(f->ttf) + 1;
	f->atlas =
	    SDL_CreateRGBSurfaceWithFormat(0, f->cw * 95, f->ch, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!f->atlas) {
		viz_font_close(f);
		return hs_err(err, -ENOMEM, "font atlas: %s", SDL_GetError());
	}
	SDL_FillRect(f->atlas, NULL, 0);
	SDL_Color white = {255, 255, 255, 255};
	for (int c = 32; c < 127; c++) {
		SDL_Surface *g = TTF_RenderGlyph_Blended(f->ttf, (Uint16)c, white);
		if (!g)
			continue;
		SDL_SetSurfaceBlendMode(g, SDL_BLENDMODE_NONE);
		SDL_Rect dst = {(c - 32) * f->cw, 0, f->cw, f->ch};
		SDL_Rect src = {0, 0, g->w < f->cw ? g->w : f->cw, g->h < f->ch ? g->h : f->ch};
		SDL_BlitSurface(g, &src, f->atlas, &dst);
		SDL_FreeSurface(g);
	}
	SDL_SetSurfaceBlendMode(f->atlas, SDL_BLENDMODE_BLEND);
	return 0;
}

void viz_font_close(struct viz_font *f)
{
	if (f->atlas)
		SDL_FreeSurface(f->atlas);
	if (f->ttf)
		TTF_CloseFont(f->ttf);
	memset(f, 0, sizeof(*f));
}

int viz_text(SDL_Surface *s, const struct viz_font *f, int x, int y, uint32_t argb, const char *txt,
	     int max_chars)
{
	if (!f->atlas || !txt)
		return 0;
	SDL_SetSurfaceColorMod(f->atlas, (argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff);
	int n = 0;
	for (const char *p = txt; *p && (max_chars <= 0 || n < max_chars); p++, n++) {
		unsigned c = (unsigned char)*p;
		if (c == ' ')
			continue;
		if (c < 32 || c > 126)
			c = '?';
		SDL_Rect src = {(int)(c - 32) * f->cw, 0, f->cw, f->ch};
		SDL_Rect dst = {x + n * f->cw, y, f->cw, f->ch};
		SDL_BlitSurface(f->atlas, &src, s, &dst);
	}
	return n * f->cw;
}

void viz_fill(SDL_Surface *s, int x, int y, int w, int h, uint32_t argb)
{
	if (w <= 0 || h <= 0)
		return;
	SDL_Rect r = {x, y, w, h};
	SDL_FillRect(s, &r, argb);
}

void viz_outline(SDL_Surface *s, int x, int y, int w, int h, int t, uint32_t argb)
{
	if (w < 2 * t || h < 2 * t) {
		viz_fill(s, x, y, w, h, argb);
		return;
	}
	viz_fill(s, x, y, w, t, argb);
	viz_fill(s, x, y + h - t, w, t, argb);
	viz_fill(s, x, y + t, t, h - 2 * t, argb);
	viz_fill(s, x + w - t, y + t, t, h - 2 * t, argb);
}

uint32_t viz_text_on(uint32_t bg)
{
	unsigned r = (bg >> 16) & 0xff, g = (bg >> 8) & 0xff, b = bg & 0xff;
	/* Rec. 601 luma: good enough to choose between black and white. */
	return (r * 299 + g * 587 + b * 114) / 1000 > 140 ? 0xff000000u : 0xffffffffu;
}
