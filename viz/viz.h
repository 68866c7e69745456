/* SPDX-License-Identifier: MIT */
/*
 * viz/: SDL2 views of the machine, rendered to PNG (headless) or shown live.
 *
 *  - tree:     the page-table tree of one regime (EL2 stage 1, host stage 2,
 *              or a guest stage 2 given by VTTBR/VTCR), one column per level,
 *              runs of identical entries collapsed, the walk of one address
 *              highlighted level by level;
 *  - map:      every page of RAM coloured by owner and state;
 *  - timeline: the hypercalls a recorder saw, coloured by result.
 *
 * Everything draws into an offscreen ARGB surface with SDL's software
 * renderer, so the headless path, the tests and the live window produce the
 * same pixels. Data (walks, ownership scans) is gathered and laid out once per
 * refresh; a frame only blits the cached layer and draws small overlays.
 */
#ifndef HS_VIZ_H
#define HS_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"
#include "machine.h"
#include "pt_walk.h"
#include "strbuf.h"

struct SDL_Surface;

enum hs_viz_view { HS_VIZ_VIEW_TREE, HS_VIZ_VIEW_MAP, HS_VIZ_VIEW_TIMELINE, HS_VIZ_VIEW_COUNT };

enum hs_viz_table {
	HS_VIZ_TABLE_HYP_S1,   /* TTBR0_EL2/TCR_EL2/MAIR_EL2 of opts.cpu */
	HS_VIZ_TABLE_HOST_S2,  /* the hypervisor's host_vttbr/host_vtcr (VTTBR_EL2 fallback) */
	HS_VIZ_TABLE_GUEST_S2, /* opts.vttbr / opts.vtcr */
};

/* Page classes of the ownership map (also the legend order). */
enum hs_viz_class {
	HS_VIZ_C_NONE,		/* not RAM, or not covered by the host stage 2 */
	HS_VIZ_C_HOST_OWNED,	/* host owns it exclusively */
	HS_VIZ_C_HOST_SHARED,	/* host owns it and shares it (with a guest) */
	HS_VIZ_C_HOST_BORROWED, /* host borrows it from its owner */
	HS_VIZ_C_HYP_OWNED,	/* annotated hyp in the host stage 2 */
	HS_VIZ_C_HYP_BORROWED,	/* host page shared with the hypervisor */
	HS_VIZ_C_GUEST,		/* annotated guest */
	HS_VIZ_C_ANNOT_UNKNOWN, /* invalid non-zero entry the ABI does not describe, malformed */
	HS_VIZ_C_MIXED,		/* aggregated cell without a majority */
	HS_VIZ_C_COUNT
};
const char *hs_viz_class_name(enum hs_viz_class c);
/* The class colour as 0xAARRGGBB (what the map paints in a cell's interior). */
uint32_t hs_viz_class_color(enum hs_viz_class c);

struct hs_viz_recorder;

#define HS_VIZ_MAX_TLB_PENDING 32

struct hs_blame;
struct hs_viz_opts {
	enum hs_viz_view view;
	int width, height; /* canvas; 0: 1280 x 800 */
	unsigned cpu;	   /* registers of this CPU (EL2 stage 1) */
	/* tree */
	enum hs_viz_table table;
	uint64_t vttbr, vtcr; /* HS_VIZ_TABLE_GUEST_S2 */
	bool has_addr;	      /* highlight the walk of addr (and scroll to it) */
	uint64_t addr;
	/* PTE provenance (pte_blame.h): each entry's last writer, in its row and the walk; NULL:
	 * none */
	const struct hs_blame *blame;
	/* descriptors (PAs) whose old value TLBs may still hold (the TLB checker): outlined */
	uint64_t tlb_pending[HS_VIZ_MAX_TLB_PENDING];
	unsigned nr_tlb_pending;
	/* map */
	uint64_t map_start_pa;	     /* first page shown (0: RAM base) */
	uint64_t map_pages_per_cell; /* 0: fit all of RAM */
	unsigned map_cell_px;	     /* 0: automatic */
	bool has_hover;		     /* draw the hover panel of this page (for docs) */
	uint64_t hover_pa;
	/* timeline */
	struct hs_viz_recorder *recorder; /* NULL: empty timeline */
	int selected_call;		  /* -1: none; else index into the recorder */
};
void hs_viz_opts_default(struct hs_viz_opts *o);

/* ---- headless ------------------------------------------------------------ */
/* Render one view of the machine to a PNG file. */
int hs_viz_render(struct hs_machine *m, const struct hs_viz_opts *opts, const char *png_path,
		  struct hs_error *err);

/* ---- live window --------------------------------------------------------- */
struct hs_viz_live;
/*
 * Open a window on the machine. Its timeline shows the calls of `rec` (a
 * session's recorder, attached when the machine was made, so the window shows
 * every call with the numbers `trace` and `render --call` use); rec NULL
 * attaches a recorder of its own, from now on, detached at close. Fails with a
 * message when there is no display.
 */
struct hs_viz_live *hs_viz_live_open(struct hs_machine *m, struct hs_viz_recorder *rec,
				     struct hs_error *err);
/*
 * Re-read the machine and redraw; entries/pages that changed since the
 * previous redraw are outlined. opts NULL keeps the current options (view,
 * table, zoom ...); the user's key presses change them too.
 */
void hs_viz_live_redraw(struct hs_viz_live *lv, const struct hs_viz_opts *opts);
/*
 * Handle pending window events without blocking. View switching (1/2/3),
 * zoom (+/-), scrolling, hover and clicks are handled here. Returns a command
 * for the caller: 's' step, 'c' continue, 'q' the window was closed (or q
 * pressed), 0 nothing.
 */
int hs_viz_live_poll(struct hs_viz_live *lv);
void hs_viz_live_close(struct hs_viz_live *lv);
/* The window's view engine (options, hit rectangles), e.g. for tests. */
struct hs_viz *hs_viz_live_viz(struct hs_viz_live *lv);

/* ---- hypercall recorder -------------------------------------------------- */
struct hs_viz_call {
	unsigned cpu;
	int nr;		  /* hypercall number, -1 when not one of ours */
	char name[40];	  /* "host_share_hyp", "stub", ... */
	uint64_t fn;	  /* x0 at entry */
	uint64_t args[6]; /* x1..x6 */
	bool done;	  /* HVC_EXIT seen */
	int64_t x0, x1;	  /* results */
	uint64_t icount_enter, icount_exit, insns;
	/* Built in: class of the page named by args[0] (as a pfn) before and after, or -1. */
	int page_class_before, page_class_after;
	char *diff; /* text from the diff hook (malloc'd), or NULL */
};
/* Success: the call was dispatched (x0 = 0) and the handler returned >= 0. */
bool hs_viz_call_ok(const struct hs_viz_call *c);

struct hs_viz_recorder *hs_viz_recorder_attach(struct hs_machine *m);
/* Unsubscribe and free (the calls with it). */
void hs_viz_recorder_detach(struct hs_viz_recorder *r);
size_t hs_viz_recorder_count(const struct hs_viz_recorder *r);
const struct hs_viz_call *hs_viz_recorder_get(const struct hs_viz_recorder *r, size_t i);
void hs_viz_recorder_clear(struct hs_viz_recorder *r);

/*
 * Table-diff hook for the inspection engine: begin() runs at HVC_ENTER and
 * returns an opaque snapshot; end() runs at HVC_EXIT and appends a
 * human-readable diff to out (shown in the timeline's detail panel) and
 * frees the snapshot. Both may read machine memory; neither may run it.
 */
typedef void *(*hs_viz_diff_begin_fn)(struct hs_machine *m, const struct hs_viz_call *c, void *ud);
/* Called at the call's exit; with out == NULL (call never finished) it only releases snap. */
typedef void (*hs_viz_diff_end_fn)(struct hs_machine *m, const struct hs_viz_call *c, void *snap,
				   struct hs_strbuf *out, void *ud);
void hs_viz_recorder_set_diff_hook(struct hs_viz_recorder *r, hs_viz_diff_begin_fn begin,
				   hs_viz_diff_end_fn end, void *ud);

/* ---- the view engine (tests, bench, docs) ------------------------------- */
/*
 * An offscreen canvas with the three views. m may be NULL when the data is
 * injected (hs_viz_set_tree_regime, hs_viz_set_map_classes).
 */
struct hs_viz;
struct hs_viz *hs_viz_create(struct hs_machine *m, const struct hs_viz_opts *opts,
			     struct hs_error *err);
void hs_viz_destroy(struct hs_viz *v);
/* Change options (view, table, addr, zoom ...); re-lays out what they affect. */
int hs_viz_set_opts(struct hs_viz *v, const struct hs_viz_opts *opts, struct hs_error *err);
const struct hs_viz_opts *hs_viz_get_opts(const struct hs_viz *v);
/*
 * Re-read the machine (walk the table, scan ownership) and lay the views out
 * again. What differs from the previous refresh is remembered as "changed".
 */
int hs_viz_refresh(struct hs_viz *v, struct hs_error *err);
/* Draw one frame of the current view into the canvas. */
void hs_viz_draw(struct hs_viz *v);
struct SDL_Surface *hs_viz_surface(struct hs_viz *v);
/* 0xAARRGGBB of a canvas pixel (0 outside). */
uint32_t hs_viz_pixel(struct hs_viz *v, int x, int y);
int hs_viz_write_png(struct hs_viz *v, const char *path, struct hs_error *err);

struct hs_viz_rect {
	int x, y, w, h;
};
/* Map view: the cell holding page pa. Returns 0, or -1 when not on screen. */
int hs_viz_map_cell_rect(struct hs_viz *v, uint64_t pa, struct hs_viz_rect *r);
/* Map view: pages aggregated in one cell at the current zoom. */
uint64_t hs_viz_map_pages_per_cell(const struct hs_viz *v);
/* Map view: the rectangle the grid of cells occupies. */
void hs_viz_map_grid_rect(struct hs_viz *v, struct hs_viz_rect *r);
/* Map view: the class a page was given (HS_VIZ_C_NONE outside the scan). */
enum hs_viz_class hs_viz_map_page_class(struct hs_viz *v, uint64_t pa);
/* Map view: the class painted in the cell holding pa (majority or mixed). */
enum hs_viz_class hs_viz_map_cell_class(struct hs_viz *v, uint64_t pa);
/*
 * Tree view: rectangles of the rows the highlighted walk goes through, one per
 * level, root first (visible rows only). Returns how many were written.
 */
int hs_viz_tree_highlights(struct hs_viz *v, struct hs_viz_rect *out, int max, int *levels);
/* Tree view: number of rows after collapsing, and of leaf entries seen. */
size_t hs_viz_tree_rows(const struct hs_viz *v);
uint64_t hs_viz_tree_leaves(const struct hs_viz *v);
/* Timeline: the mark of call i. Returns 0, or -1 when not on screen. */
int hs_viz_timeline_mark_rect(struct hs_viz *v, size_t i, struct hs_viz_rect *r);

/* Injected data (bench and tests without a machine). */
int hs_viz_set_tree_regime(struct hs_viz *v, const struct hs_phys *phys,
			   const struct hs_pt_regime *regime, struct hs_error *err);
int hs_viz_set_map_classes(struct hs_viz *v, uint64_t base_pa, uint64_t nr_pages,
			   const uint8_t *cls, struct hs_error *err);

/* Input as the live window sees it (exposed so tests can drive it headless). */
void hs_viz_scroll(struct hs_viz *v, int dx, int dy);
void hs_viz_zoom(struct hs_viz *v, int dir); /* +1 in, -1 out */
void hs_viz_hover(struct hs_viz *v, int x, int y);
void hs_viz_click(struct hs_viz *v, int x, int y);

/*
 * Ownership of pages [pa, pa + nr_pages * 4K): one enum hs_viz_class per
 * page. The one place that knows how: host stage 2 annotations and page
 * states, refined by the vmemmap. To be replaced by emu/inspect_owner.
 */
int hs_viz_owner_scan(struct hs_machine *m, uint64_t pa, uint64_t nr_pages, uint8_t *cls,
		      struct hs_error *err);
/* A multi-line description of one page (host stage 2 entry, vmemmap, EL2 mapping). */
void hs_viz_page_describe(struct hs_machine *m, uint64_t pa, struct hs_strbuf *sb);

#endif
