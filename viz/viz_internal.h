/* SPDX-License-Identifier: MIT */
/* viz/ internals: the canvas, the font atlas and the per-view models. */
#ifndef HS_VIZ_INTERNAL_H
#define HS_VIZ_INTERNAL_H

#include <string.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include <hypscope/abi.h>

#include "pt_translate.h"
#include "viz.h"

/* ---- PNG (png.c) ---- */
uint32_t hs_viz_crc32(uint32_t crc, const void *data, size_t len);
int hs_viz_png_encode(const uint32_t *argb, int w, int h, size_t pitch_px, uint8_t **out,
		      size_t *out_len);
int hs_viz_png_write(const char *path, const uint32_t *argb, int w, int h, size_t pitch_px,
		     struct hs_error *err);

/* Bounded copy that always terminates (truncation is fine for on-screen text). */
static inline void viz_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- drawing (draw.c): straight onto ARGB8888 surfaces ---- */
struct viz_font {
	TTF_Font *ttf;
	SDL_Surface *atlas; /* white glyphs 32..126 with alpha, one row */
	int cw, ch;	    /* monospace cell */
};
int viz_font_open(struct viz_font *f, int ptsize, struct hs_error *err);
void viz_font_close(struct viz_font *f);
/* Draw ASCII text clipped to max_chars (<= 0: no limit); returns the width drawn. */
int viz_text(SDL_Surface *s, const struct viz_font *f, int x, int y, uint32_t argb, const char *txt,
	     int max_chars);
void viz_fill(SDL_Surface *s, int x, int y, int w, int h, uint32_t argb);
void viz_outline(SDL_Surface *s, int x, int y, int w, int h, int t, uint32_t argb);
/* Black or white, whichever reads better on bg. */
uint32_t viz_text_on(uint32_t bg);

#define VIZ_BG 0xff1b1e23u
#define VIZ_FG 0xffe6e6e6u
#define VIZ_DIM 0xff8a8f98u
#define VIZ_HILITE 0xffffff00u
#define VIZ_CHANGED 0xffff2bd6u
#define VIZ_TLB_PENDING 0xffff8c00u /* an entry TLBs may still hold the old value of */
#define VIZ_PANEL 0xff272b33u

/* ---- machine access (owner.c) ---- */
struct hs_phys viz_machine_phys(struct hs_machine *m);
/* The regime of one of the tables the views know about. */
int viz_regime(struct hs_machine *m, enum hs_viz_table t, unsigned cpu, uint64_t vttbr,
	       uint64_t vtcr, struct hs_pt_regime *r, struct hs_error *err);

/* ---- tree model (tree.c) ---- */
#define ROW_CHANGED (1u << 0)
#define ROW_MALFORMED (1u << 1)
#define ROW_HILITE (1u << 2)

struct tree_row {
	uint64_t ia;	   /* first input address */
	uint64_t span;	   /* input bytes covered by the row */
	uint64_t desc_pa;  /* first descriptor */
	uint64_t desc;	   /* first raw descriptor */
	uint64_t oa;	   /* output (leaf) or next table (table) of the first entry */
	uint64_t key;	   /* what "identical" compares */
	uint64_t run_head; /* desc_pa of the first entry of the run it belongs to */
	uint32_t count;	   /* entries in the row */
	uint32_t index;	   /* index of the first entry in its table */
	int32_t parent;	   /* row of the table entry above, -1 at the root */
	int32_t y, y_end;  /* layout rows [y, y_end) */
	int8_t level;
	uint8_t kind; /* enum hs_pt_kind */
	uint8_t flags;
	uint8_t perm;
	uint8_t state;
	uint8_t owner;
	uint8_t device;
	uint32_t color;
};

struct viz_tree {
	bool have_regime;
	struct hs_pt_regime regime;
	struct hs_phys phys;
	char title[200];
	char error[240];
	struct tree_row *rows;
	size_t nrows, cap;
	uint64_t nleaves;
	int32_t height; /* rows of layout */
	/* expanded runs: run_head desc_pa, sorted */
	uint64_t *expanded;
	size_t nexpanded;
	/* the walk of opts.addr */
	bool walk_valid;
	int walk_rows[HS_PT_MAX_STEPS];
	int nwalk;
	char walk_text[6][320];
	int nwalk_text;
	/* previous refresh: (desc_pa, desc, count) sorted, to flag changes */
	struct tree_prev {
		uint64_t desc_pa, desc;
		uint32_t count;
	} * prev;
	size_t nprev;
	bool have_prev;
	int scroll; /* first layout row shown */
};

int viz_tree_build(struct viz_tree *t, struct hs_error *err);
void viz_tree_free(struct viz_tree *t);
int viz_tree_find_row(const struct viz_tree *t, int level, uint64_t desc_pa);
void viz_tree_toggle_expand(struct viz_tree *t, const struct tree_row *r);

/* ---- the engine ---- */
struct viz_map {
	uint64_t base_pa, nr_pages; /* what the scan covered */
	uint8_t *cls;		    /* per page */
	uint8_t *prev_cls;	    /* previous refresh (same geometry), or NULL */
	uint64_t counts[HS_VIZ_C_COUNT];
	char error[240];
	/* layout for the current zoom */
	uint64_t start_pfn, ppc;
	int cell_px, gap, cols, rows;
	int x0, y0;
	uint8_t *cell_cls;
	uint8_t *cell_flags; /* 1 uniform-not, 2 changed */
	size_t ncells;
	bool hover_valid;
	uint64_t hover_pa;
	char hover_text[2048];
};

struct hs_viz_recorder;

struct hs_viz {
	struct hs_machine *m;
	struct hs_viz_opts o;
	int w, h;
	SDL_Surface *canvas; /* what a frame produces */
	SDL_Surface *layer;  /* the cached picture of the current view */
	bool layer_dirty;
	struct viz_font font;
	struct viz_tree tree;
	struct viz_map map;
	bool tree_ready, map_ready; /* data gathered at least once */
	bool tree_stale, map_stale; /* the machine may have moved since */
	bool scrolled;		    /* the tree was scrolled to opts.addr */
	uint64_t scrolled_addr;
	/* timeline */
	int tl_first;  /* first call shown */
	int tl_mark_w; /* pixels per mark */
	int tl_x0, tl_y0, tl_h;
	int tl_shown;
};

/* per-view code */
void viz_tree_paint(struct hs_viz *v);			      /* layer */
void viz_tree_overlay(struct hs_viz *v);		      /* canvas */
int viz_tree_refresh(struct hs_viz *v, struct hs_error *err); /* from the machine */
void viz_tree_scroll_to_walk(struct hs_viz *v);
void viz_tree_update_walk(struct hs_viz *v);
int viz_tree_row_at(struct hs_viz *v, int x, int y);
void viz_tree_rect(const struct hs_viz *v, const struct tree_row *r, struct hs_viz_rect *out);
int viz_tree_rows_visible(const struct hs_viz *v);

int viz_map_refresh(struct hs_viz *v, struct hs_error *err);
void viz_map_layout(struct hs_viz *v);
void viz_map_paint(struct hs_viz *v);
void viz_map_overlay(struct hs_viz *v);
int viz_map_set_hover_xy(struct hs_viz *v, int x, int y);
void viz_map_hover_pa(struct hs_viz *v, uint64_t pa);

void viz_timeline_paint(struct hs_viz *v);
void viz_timeline_overlay(struct hs_viz *v);
int viz_timeline_call_at(struct hs_viz *v, int x, int y);

#endif
