/* SPDX-License-Identifier: MIT */
/*
 * The visualizer, headless: each view is rendered for a booted machine into
 * the offscreen canvas and real pixels are checked against what the machine
 * holds (hyp-owned pages painted in the hyp colour, the trampoline's walk
 * outlined level by level, a share changing exactly one cell). With
 * HS_VIZ_DOCS_DIR set, the documentation images are written there too.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "inspect_trace.h"
#include "testutil.h"
#include "viz.h"
#include "viz_internal.h"

static void headless(void)
{
	/* No display in CI: the live-window test needs SDL's dummy driver. */
	setenv("SDL_VIDEODRIVER", "dummy", 1);
}

static uint64_t sym(struct hs_machine *m, const char *name)
{
	uint64_t pa = 0;
	struct hs_error err = {0};
	ck_assert_msg(hs_sym_pa(m, name, &pa, &err) == 0, "%s: %s", name, err.msg);
	return pa;
}

static struct hs_viz *viz_for(struct hs_machine *m, struct hs_viz_opts *o)
{
	struct hs_error err = {0};
	struct hs_viz *v = hs_viz_create(m, o, &err);
	ck_assert_msg(v != NULL, "viz: %s", err.msg);
	ck_assert_msg(hs_viz_refresh(v, &err) == 0, "refresh: %s", err.msg);
	hs_viz_draw(v);
	return v;
}

/* Every pixel of a cell's interior has the colour, apart from a centre "mixed" dot. */
static void assert_cell_color(struct hs_viz *v, const struct hs_viz_rect *r, uint32_t color)
{
	ck_assert_int_gt(r->w, 0);
	uint32_t px = hs_viz_pixel(v, r->x, r->y);
	ck_assert_msg(px == color, "cell (%d,%d) is %08x, want %08x", r->x, r->y, px, color);
	px = hs_viz_pixel(v, r->x + r->w - 1, r->y + r->h - 1);
	ck_assert_msg(px == color, "cell corner (%d,%d) is %08x, want %08x", r->x + r->w - 1,
		      r->y + r->h - 1, px, color);
}

START_TEST(map_hyp_text_is_hyp_colour)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t text = sym(m, "__hyp_text_start");
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_MAP;
	/* One page per cell around the image: the cell is exactly that page. */
	o.map_start_pa = text & ~((1ULL << 20) - 1);
	o.map_pages_per_cell = 1;
	struct hs_viz *v = viz_for(m, &o);
	ck_assert_int_eq(hs_viz_map_page_class(v, text), HS_VIZ_C_HYP_OWNED);
	struct hs_viz_rect r;
	ck_assert_int_eq(hs_viz_map_cell_rect(v, text, &r), 0);
	ck_assert_int_ge(r.w, 4);
	assert_cell_color(v, &r, hs_viz_class_color(HS_VIZ_C_HYP_OWNED));
	/* Cells are laid out in address order, row by row. */
	struct hs_viz_rect next;
	ck_assert_int_eq(hs_viz_map_cell_rect(v, text + HS_PAGE_SIZE, &next), 0);
	ck_assert(next.y > r.y || next.x > r.x);
	/* The first MiB of RAM belongs to the host. */
	const struct hs_machine_opts *mo = hs_machine_opts(m);
	hs_viz_destroy(v);
	o.map_start_pa = mo->ram_base;
	v = viz_for(m, &o);
	ck_assert_int_eq(hs_viz_map_page_class(v, mo->ram_base), HS_VIZ_C_HOST_OWNED);
	ck_assert_int_eq(hs_viz_map_cell_rect(v, mo->ram_base, &r), 0);
	assert_cell_color(v, &r, hs_viz_class_color(HS_VIZ_C_HOST_OWNED));
	hs_viz_destroy(v);

	/* Whole RAM, aggregated: the cell shows its majority class. */
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_MAP;
	v = viz_for(m, &o);
	ck_assert_int_eq(hs_viz_map_cell_rect(v, text, &r), 0);
	enum hs_viz_class c = hs_viz_map_cell_class(v, text);
	ck_assert(c == HS_VIZ_C_HYP_OWNED || c == HS_VIZ_C_MIXED);
	ck_assert_uint_eq(hs_viz_pixel(v, r.x, r.y), hs_viz_class_color(c));
	/* A cell wholly inside the hypervisor image (text, rodata, data) is hyp owned. */
	uint64_t span = hs_viz_map_pages_per_cell(v) * HS_PAGE_SIZE;
	uint64_t inside = (text + span - 1) / span * span;
	ck_assert_uint_le(inside + span, sym(m, "__hyp_image_end"));
	ck_assert_int_eq(hs_viz_map_cell_class(v, inside), HS_VIZ_C_HYP_OWNED);
	ck_assert_int_eq(hs_viz_map_cell_rect(v, inside, &r), 0);
	assert_cell_color(v, &r, hs_viz_class_color(HS_VIZ_C_HYP_OWNED));
	hs_viz_destroy(v);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(tree_highlights_trampoline_walk)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	/* The trampoline page: identity mapped in the hypervisor's stage 1. */
	uint64_t idmap = sym(m, "__hyp_idmap_text_start");
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_TREE;
	o.table = HS_VIZ_TABLE_HYP_S1;
	o.has_addr = true;
	o.addr = idmap;
	struct hs_viz *v = viz_for(m, &o);
	ck_assert_uint_gt(hs_viz_tree_rows(v), 4);
	struct hs_viz_rect hl[8];
	int levels[8];
	int n = hs_viz_tree_highlights(v, hl, 8, levels);
	/* 48-bit VA, 4 KiB pages: levels 0..3, each outlined in its column. */
	ck_assert_int_eq(n, 4);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(levels[i], i);
		if (i)
			ck_assert_int_gt(hl[i].x, hl[i - 1].x);
		/* The outline sits just outside the row, on every side. */
		uint32_t hi = 0xffffff00u;
		ck_assert_uint_eq(hs_viz_pixel(v, hl[i].x - 1, hl[i].y + hl[i].h / 2), hi);
		ck_assert_uint_eq(hs_viz_pixel(v, hl[i].x + hl[i].w, hl[i].y + hl[i].h / 2), hi);
		ck_assert_uint_eq(hs_viz_pixel(v, hl[i].x + hl[i].w / 2, hl[i].y - 1), hi);
		ck_assert_uint_eq(hs_viz_pixel(v, hl[i].x + hl[i].w / 2, hl[i].y + hl[i].h), hi);
	}
	/* The leaf is the executable, read-only idmap text: the R-X colour. */
	ck_assert_uint_eq(hs_viz_pixel(v, hl[3].x + hl[3].w - 8, hl[3].y + hl[3].h / 2),
			  0xffe9c46au);
	/* An address the table does not map: the walk says which fault, once. */
	o.addr = 0x0000700000000000ULL;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_viz_set_opts(v, &o, &err), 0);
	hs_viz_draw(v);
	ck_assert_int_gt(v->tree.nwalk_text, 0);
	const char *last = v->tree.walk_text[v->tree.nwalk_text - 1];
	ck_assert_msg(strstr(last, "translation fault at level") && !strstr(last, "fault fault"),
		      "walk text: %s", last);
	/* Without an address, nothing is outlined. */
	o.has_addr = false;
	ck_assert_int_eq(hs_viz_set_opts(v, &o, &err), 0);
	hs_viz_draw(v);
	ck_assert_int_eq(hs_viz_tree_highlights(v, hl, 8, levels), 0);
	hs_viz_destroy(v);
	hs_machine_destroy(m);
}
END_TEST

/* Every pixel of the grid that differs lies inside `cell`; returns how many differ. */
static long diff_outside(struct hs_viz *v, const uint32_t *before, int pitch,
			 const struct hs_viz_rect *grid, const struct hs_viz_rect *cell)
{
	long inside = 0;
	for (int y = grid->y; y < grid->y + grid->h; y++)
		for (int x = grid->x; x < grid->x + grid->w; x++) {
			if (hs_viz_pixel(v, x, y) == before[(size_t)y * (size_t)pitch + (size_t)x])
				continue;
			ck_assert_msg(x >= cell->x && x < cell->x + cell->w && y >= cell->y &&
					  y < cell->y + cell->h,
				      "pixel (%d,%d) outside the shared page's cell changed", x, y);
			inside++;
		}
	return inside;
}

static void check_share_changes_one_cell(struct hs_machine *m, struct hs_viz_opts *o, uint64_t pa)
{
	struct hs_viz *v = viz_for(m, o);
	SDL_Surface *s = hs_viz_surface(v);
	int pitch = s->pitch / 4;
	size_t bytes = (size_t)s->pitch * (size_t)s->h;
	uint32_t *before = malloc(bytes);
	ck_assert_ptr_nonnull(before);
	memcpy(before, s->pixels, bytes);
	struct hs_viz_rect grid, cell;
	hs_viz_map_grid_rect(v, &grid);
	ck_assert_int_eq(hs_viz_map_cell_rect(v, pa, &cell), 0);
	ck_assert_int_eq(hs_viz_map_page_class(v, pa), HS_VIZ_C_HOST_OWNED);

	uint64_t pfn = pa >> HS_PAGE_SHIFT;
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err) == 0,
	    "hvc: %s", err.msg);
	ck_assert_int_eq(res.x0, 0);
	ck_assert_int_eq(res.x1, 0);
	ck_assert_int_eq(hs_viz_refresh(v, &err), 0);
	hs_viz_draw(v);
	ck_assert_int_eq(hs_viz_map_page_class(v, pa), HS_VIZ_C_HYP_BORROWED);
	ck_assert_int_gt(diff_outside(v, before, pitch, &grid, &cell), 0);
	free(before);
	hs_viz_destroy(v);
}

START_TEST(map_share_changes_exactly_one_cell)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	const struct hs_machine_opts *mo = hs_machine_opts(m);
	uint64_t pa = mo->ram_base + 0x10000000;
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_MAP;
	o.map_start_pa = pa - 64 * HS_PAGE_SIZE;
	o.map_pages_per_cell = 1;
	check_share_changes_one_cell(m, &o, pa);
	/* The page now shows the hyp-borrowed colour in a fresh rendering. */
	struct hs_viz *v = viz_for(m, &o);
	struct hs_viz_rect r;
	ck_assert_int_eq(hs_viz_map_cell_rect(v, pa, &r), 0);
	assert_cell_color(v, &r, hs_viz_class_color(HS_VIZ_C_HYP_BORROWED));
	hs_viz_destroy(v);

	/* Whole RAM, several pages per cell: only the aggregated cell is marked. */
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_MAP;
	check_share_changes_one_cell(m, &o, pa + HS_PAGE_SIZE * 4096);
	hs_machine_destroy(m);
}
END_TEST

static void *diff_begin(struct hs_machine *m, const struct hs_viz_call *c, void *ud)
{
	(void)m;
	(void)ud;
	return (void *)(uintptr_t)(c->args[0] + 1);
}

static void diff_end(struct hs_machine *m, const struct hs_viz_call *c, void *snap,
		     struct hs_strbuf *out, void *ud)
{
	(void)m;
	(void)c;
	(*(int *)ud)++;
	if (out)
		hs_sb_printf(out, "snap %lu", (unsigned long)(uintptr_t)snap);
}

START_TEST(timeline_marks_by_result)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_viz_recorder *rec = hs_viz_recorder_attach(m);
	ck_assert_ptr_nonnull(rec);
	int ends = 0;
	hs_viz_recorder_set_diff_hook(rec, diff_begin, diff_end, &ends);
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x08000000) >> HS_PAGE_SHIFT;
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	for (int i = 0; i < 2; i++) /* the second share of the same page fails */
		ck_assert_int_eq(
		    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err),
		    0);
	ck_assert_int_eq(hs_viz_recorder_count(rec), 2);
	ck_assert_int_eq(ends, 2);
	const struct hs_viz_call *ok = hs_viz_recorder_get(rec, 0),
				 *bad = hs_viz_recorder_get(rec, 1);
	ck_assert(hs_viz_call_ok(ok));
	ck_assert(!hs_viz_call_ok(bad));
	ck_assert_str_eq(ok->name, "host_share_hyp");
	ck_assert_int_eq(ok->page_class_before, HS_VIZ_C_HOST_OWNED);
	ck_assert_int_eq(ok->page_class_after, HS_VIZ_C_HYP_BORROWED);
	ck_assert_ptr_nonnull(ok->diff);
	char want[64];
	snprintf(want, sizeof(want), "snap %lu", (unsigned long)(pfn + 1));
	ck_assert_str_eq(ok->diff, want);

	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_TIMELINE;
	o.recorder = rec;
	o.selected_call = 1;
	struct hs_viz *v = viz_for(m, &o);
	struct hs_viz_rect r0, r1;
	ck_assert_int_eq(hs_viz_timeline_mark_rect(v, 0, &r0), 0);
	ck_assert_int_eq(hs_viz_timeline_mark_rect(v, 1, &r1), 0);
	ck_assert_int_gt(r1.x, r0.x);
	ck_assert_uint_eq(hs_viz_pixel(v, r0.x + r0.w / 2, r0.y + r0.h - 1), 0xff2dc653u);
	ck_assert_uint_eq(hs_viz_pixel(v, r1.x + r1.w / 2, r1.y + r1.h - 1), 0xffe5383bu);
	/* Clicking the first mark selects it. */
	hs_viz_click(v, r0.x + 1, r0.y + r0.h - 2);
	ck_assert_int_eq(hs_viz_get_opts(v)->selected_call, 0);
	hs_viz_destroy(v);
	hs_viz_recorder_detach(rec);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(tree_outlines_entries_with_pending_tlb_maintenance)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	uint64_t idmap = sym(m, "__hyp_idmap_text_start");
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_TREE;
	o.table = HS_VIZ_TABLE_HYP_S1;
	o.has_addr = true;
	o.addr = idmap;
	struct hs_viz *v = viz_for(m, &o);
	struct hs_viz_rect hl[8];
	int levels[8];
	ck_assert_int_eq(hs_viz_tree_highlights(v, hl, 8, levels), 4);
	uint32_t pending = 0xffff8c00u;
	ck_assert_uint_ne(hs_viz_pixel(v, hl[3].x + 2, hl[3].y + hl[3].h / 2), pending);
	/* the leaf's descriptor as the TLB checker would list it */
	o.tlb_pending[0] = hs_test_desc_pa(m, false, idmap);
	o.nr_tlb_pending = 1;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_viz_set_opts(v, &o, &err), 0);
	hs_viz_draw(v);
	ck_assert_uint_eq(hs_viz_pixel(v, hl[3].x + 2, hl[3].y + hl[3].h / 2), pending);
	ck_assert_uint_ne(hs_viz_pixel(v, hl[2].x + 2, hl[2].y + hl[2].h / 2), pending);
	hs_viz_destroy(v);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(tree_run_expands_on_click)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	const struct hs_machine_opts *mo = hs_machine_opts(m);
	/* The top of RAM is the hypervisor's pool: long runs of hyp annotations. */
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_TREE;
	o.table = HS_VIZ_TABLE_HOST_S2;
	o.has_addr = true;
	o.addr = mo->ram_base + mo->ram_size - HS_PAGE_SIZE;
	struct hs_viz *v = viz_for(m, &o);
	size_t rows = hs_viz_tree_rows(v);
	struct hs_viz_rect hl[8];
	int n = hs_viz_tree_highlights(v, hl, 8, NULL);
	ck_assert_int_ge(n, 2);
	struct hs_viz_rect leaf = hl[n - 1];
	hs_viz_click(v, leaf.x + 4, leaf.y + leaf.h / 2);
	ck_assert_uint_gt(hs_viz_tree_rows(v), rows);
	/* The run's first entry stays under the pointer: a second click collapses it. */
	hs_viz_click(v, leaf.x + 4, leaf.y + leaf.h / 2);
	ck_assert_uint_eq(hs_viz_tree_rows(v), rows);
	hs_viz_destroy(v);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(render_png_files)
{
	headless();
	struct hs_machine *m = hs_test_machine(2, 0);
	struct hs_viz_recorder *rec = hs_viz_recorder_attach(m);
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_boot(m, NULL, &stop, &err) == 0, "boot: %s", err.msg);
	const struct hs_machine_opts *mo = hs_machine_opts(m);
	uint64_t pfn = (mo->ram_base + 0x10000000) >> HS_PAGE_SHIFT;
	struct hs_host_op res;
	for (int i = 0; i < 2; i++)
		hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err);
	hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_unshare_hyp), &pfn, 1, &res, &stop, &err);
	pfn += 8;
	hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err);

	const char *docs = getenv("HS_VIZ_DOCS_DIR");
	char dir[256], path[300];
	snprintf(dir, sizeof(dir), "%s", docs && *docs ? docs : "/tmp");
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_TREE;
	o.table = HS_VIZ_TABLE_HYP_S1;
	o.has_addr = true;
	o.addr = sym(m, "__hyp_idmap_text_start");
	snprintf(path, sizeof(path), "%s/%s", dir, docs ? "viz-tree.png" : "hs-viz-test-tree.png");
	ck_assert_msg(hs_viz_render(m, &o, path, &err) == 0, "%s", err.msg);
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	unsigned char sig[8];
	ck_assert_int_eq(fread(sig, 1, 8, f), 8);
	fclose(f);
	ck_assert(memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0);
	if (!docs)
		remove(path);

	o.table = HS_VIZ_TABLE_HOST_S2;
	o.addr = pfn << HS_PAGE_SHIFT;
	snprintf(path, sizeof(path), "%s/%s", dir, docs ? "viz-tree-s2.png" : "hs-viz-test-s2.png");
	ck_assert_msg(hs_viz_render(m, &o, path, &err) == 0, "%s", err.msg);
	if (!docs)
		remove(path);

	o.view = HS_VIZ_VIEW_MAP;
	o.has_hover = true;
	o.hover_pa = sym(m, "__hyp_text_start");
	snprintf(path, sizeof(path), "%s/%s", dir, docs ? "viz-map.png" : "hs-viz-test-map.png");
	ck_assert_msg(hs_viz_render(m, &o, path, &err) == 0, "%s", err.msg);
	if (!docs)
		remove(path);

	/* Zoomed on the top of RAM: the hypervisor's pool, page by page. */
	o.has_hover = false;
	o.map_start_pa = mo->ram_base + mo->ram_size - 0xc40000;
	o.map_pages_per_cell = 1;
	snprintf(path, sizeof(path), "%s/%s", dir,
		 docs ? "viz-map-zoom.png" : "hs-viz-test-zoom.png");
	ck_assert_msg(hs_viz_render(m, &o, path, &err) == 0, "%s", err.msg);
	if (!docs)
		remove(path);

	/* Zoomed on the top of RAM: the hypervisor's pool, page by page. */
	o.has_hover = false;
	o.map_start_pa = mo->ram_base + mo->ram_size - 0xc40000;
	o.map_pages_per_cell = 1;
	snprintf(path, sizeof(path), "%s/%s", dir,
		 docs ? "viz-map-zoom.png" : "hs-viz-test-zoom.png");
	ck_assert_msg(hs_viz_render(m, &o, path, &err) == 0, "%s", err.msg);
	if (!docs)
		remove(path);

	o.view = HS_VIZ_VIEW_TIMELINE;
	o.recorder = rec;
	o.selected_call = (int)hs_viz_recorder_count(rec) - 3;
	snprintf(path, sizeof(path), "%s/%s", dir,
		 docs ? "viz-timeline.png" : "hs-viz-test-tl.png");
	ck_assert_msg(hs_viz_render(m, &o, path, &err) == 0, "%s", err.msg);
	if (!docs)
		remove(path);

	/* A table that does not exist yet is a message, not a crash. */
	o.view = HS_VIZ_VIEW_TREE;
	o.table = HS_VIZ_TABLE_GUEST_S2;
	o.vttbr = 0x1234;
	o.vtcr = 0;
	snprintf(path, sizeof(path), "%s/hs-viz-test-bad.png", "/tmp");
	ck_assert_int_eq(hs_viz_render(m, &o, path, &err), 0);
	remove(path);
	hs_viz_recorder_detach(rec);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(png_encoder)
{
	uint32_t px[6] = {0xffff0000u, 0xff00ff00u, 0xff0000ffu, 0x80ffffffu, 0, 0xff123456u};
	uint8_t *z;
	size_t len;
	ck_assert_int_eq(hs_viz_png_encode(px, 3, 2, 3, &z, &len), 0);
	/* zlib header; a final fixed-Huffman block; Adler-32 of the raw scanlines. */
	ck_assert_uint_eq(z[0], 0x78);
	ck_assert_uint_eq((z[0] * 256u + z[1]) % 31u, 0);
	ck_assert_uint_eq(z[2] & 7, 3); /* BFINAL = 1, BTYPE = 01 */
	uint8_t raw[26] = {0, 0xff, 0,	  0,	0xff, 0, 0xff, 0, 0xff, 0,    0,    0xff, 0xff,
			   0, 0xff, 0xff, 0xff, 0x80, 0, 0,    0, 0,	0x12, 0x34, 0x56, 0xff};
	uint32_t a = 1, b = 0;
	for (int i = 0; i < 26; i++) {
		a = (a + raw[i]) % 65521;
		b = (b + a) % 65521;
	}
	uint32_t adler = (uint32_t)z[len - 4] << 24 | (uint32_t)z[len - 3] << 16 |
			 (uint32_t)z[len - 2] << 8 | z[len - 1];
	ck_assert_uint_eq(adler, (b << 16) | a);
	free(z);
	/* The well-known CRC of the IEND chunk type. */
	ck_assert_uint_eq(hs_viz_crc32(0, "IEND", 4), 0xae426082u);
	ck_assert_int_eq(hs_viz_png_encode(px, 0, 2, 3, &z, &len), -EINVAL);
}
END_TEST

START_TEST(live_window_keys)
{
	headless();
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_viz_live *lv = hs_viz_live_open(m, NULL, &err);
	ck_assert_msg(lv != NULL, "live: %s", err.msg);
	struct hs_viz *v = hs_viz_live_viz(lv);
	ck_assert_int_eq(hs_viz_live_poll(lv), 0);
	SDL_Event e = {0};
	e.type = SDL_KEYDOWN;
	e.key.keysym.sym = SDLK_2;
	SDL_PushEvent(&e);
	e.key.keysym.sym = SDLK_s;
	SDL_PushEvent(&e);
	ck_assert_int_eq(hs_viz_live_poll(lv), 's');
	ck_assert_int_eq(hs_viz_get_opts(v)->view, HS_VIZ_VIEW_MAP);
	/* The map was drawn on switching: the hyp text page has its class. */
	ck_assert_int_eq(hs_viz_map_page_class(v, sym(m, "__hyp_text_start")), HS_VIZ_C_HYP_OWNED);
	e.key.keysym.sym = SDLK_c;
	SDL_PushEvent(&e);
	ck_assert_int_eq(hs_viz_live_poll(lv), 'c');
	hs_viz_live_redraw(lv, NULL);
	e.type = SDL_QUIT;
	SDL_PushEvent(&e);
	ck_assert_int_eq(hs_viz_live_poll(lv), 'q');
	hs_viz_live_close(lv);
	hs_machine_destroy(m);
}
END_TEST

/*
 * The live window opened late in a session shows every call the session's
 * recorder saw since the machine was made, numbered as `trace` numbers them.
 */
START_TEST(live_window_shows_the_sessions_calls)
{
	headless();
	struct hs_machine *m = hs_test_machine(1, 0);
	struct hs_viz_recorder *rec = hs_viz_recorder_attach(m);
	struct hs_trace *tr = NULL;
	struct hs_error err = {0};
	ck_assert(!hs_trace_start(m, 0, &tr, &err));
	struct hs_stop st;
	ck_assert_msg(!hs_boot(m, NULL, &st, &err), "%s", err.msg);
	uint64_t pfn = 0x48000;
	struct hs_host_op res;
	ck_assert(!hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &st, &err));
	struct hs_viz_live *lv = hs_viz_live_open(m, rec, &err);
	ck_assert_msg(lv != NULL, "live: %s", err.msg);
	const struct hs_viz_opts *o = hs_viz_get_opts(hs_viz_live_viz(lv));
	ck_assert_ptr_eq(o->recorder, rec);
	ck_assert_uint_eq(hs_viz_recorder_count(rec), hs_trace_count(tr));
	ck_assert_uint_ge(hs_trace_count(tr), 5); /* the boot's calls and the share */
	for (size_t i = 0; i < hs_trace_count(tr); i++)
		ck_assert_str_eq(hs_viz_recorder_get(rec, i)->name, hs_trace_get(tr, i)->name);
	hs_viz_live_close(lv);
	/* Closing the window leaves the session's recorder recording. */
	ck_assert(!hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_unshare_hyp), &pfn, 1, &res, &st, &err));
	ck_assert_uint_eq(hs_viz_recorder_count(rec), hs_trace_count(tr));
	hs_trace_stop(tr);
	hs_viz_recorder_detach(rec);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viz");
	TCase *tc = tcase_create("render");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, png_encoder);
	tcase_add_test(tc, map_hyp_text_is_hyp_colour);
	tcase_add_test(tc, tree_highlights_trampoline_walk);
	tcase_add_test(tc, map_share_changes_exactly_one_cell);
	tcase_add_test(tc, timeline_marks_by_result);
	tcase_add_test(tc, tree_run_expands_on_click);
	tcase_add_test(tc, tree_outlines_entries_with_pending_tlb_maintenance);
	tcase_add_test(tc, render_png_files);
	tcase_add_test(tc, live_window_keys);
	tcase_add_test(tc, live_window_shows_the_sessions_calls);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
