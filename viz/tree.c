/* SPDX-License-Identifier: MIT */
/*
 * The page-table tree view. The walker's visits become rows in depth-first
 * order; consecutive identical entries of one table (same kind, same
 * attributes, any output address) merge into one row unless the user
 * expanded that run. Layout is an icicle: one column per level, a table entry
 * is a block as tall as its subtree, a leaf row is one line, so the y of every
 * row follows from a single pass and drawing needs only the visible rows.
 */
#include "viz_internal.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pt_decode.h"
#include "pt_translate.h"
#include "pte_blame.h"

#define TREE_MARGIN 8
#define TREE_GAP 14
#define TREE_TOP 44 /* title + column headers */

/* ---- model ---------------------------------------------------------------- */

struct build {
	struct viz_tree *t;
	int32_t stack[HS_PT_MAX_LEVELS + 1];
	int depth;
	int err;
};

static uint32_t leaf_color(const struct hs_pt_attrs *a)
{
	if (a->device)
		return 0xffb5838du;
	switch (a->perm & (HS_PT_PERM_R | HS_PT_PERM_W | HS_PT_PERM_X)) {
	case HS_PT_PERM_R:
		return 0xff90be6du;
	case HS_PT_PERM_R | HS_PT_PERM_W:
		return 0xff2a9d8fu;
	case HS_PT_PERM_R | HS_PT_PERM_X:
		return 0xffe9c46au;
	case HS_PT_PERM_R | HS_PT_PERM_W | HS_PT_PERM_X:
		return 0xffe63946u;
	default:
		return 0xff6c757du;
	}
}

static uint32_t row_color(const struct tree_row *r, const struct hs_pt_attrs *a)
{
	if (r->flags & ROW_MALFORMED)
		return 0xffff006eu;
	switch ((enum hs_pt_kind)r->kind) {
	case HS_PT_K_TABLE:
		return 0xff457b9du;
	case HS_PT_K_BLOCK:
	case HS_PT_K_PAGE:
		return leaf_color(a);
	case HS_PT_K_ANNOTATION:
		if (a->swenc && a->swenc->hyp_owner >= 0 &&
		    a->owner == (unsigned)a->swenc->hyp_owner)
			return hs_viz_class_color(HS_VIZ_C_HYP_OWNED);
		if (a->guest)
			return hs_viz_class_color(HS_VIZ_C_GUEST);
		return hs_viz_class_color(HS_VIZ_C_ANNOT_UNKNOWN);
	case HS_PT_K_RESERVED:
		return 0xffff006eu;
	default:
		return r->desc ? hs_viz_class_color(HS_VIZ_C_ANNOT_UNKNOWN) : 0xff343a40u;
	}
}

static bool is_expanded(const struct viz_tree *t, uint64_t head)
{
	size_t lo = 0, hi = t->nexpanded;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->expanded[mid] == head)
			return true;
		if (t->expanded[mid] < head)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* "Identical" ignores the output address (and a guest annotation's gfn). */
static uint64_t entry_key(const struct hs_pt_visit_ctx *c)
{
	if (c->kind == HS_PT_K_BLOCK || c->kind == HS_PT_K_PAGE)
		return c->desc & ~(((1ULL << 48) - 1) & ~((1ULL << c->regime->granule_shift) - 1));
	if (c->kind == HS_PT_K_ANNOTATION)
		return c->desc & ~(0xffffffffffULL << 20);
	return c->desc;
}

static int push_row(struct viz_tree *t, struct tree_row **out)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct tree_row *n = realloc(t->rows, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->rows = n;
		t->cap = cap;
	}
	*out = &t->rows[t->nrows++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int build_visit(const struct hs_pt_visit_ctx *c)
{
	struct build *b = c->arg;
	struct viz_tree *t = b->t;
	if (c->visit == HS_PT_VISIT_TABLE_POST) {
		if (b->depth > 0)
			b->depth--;
		return 0;
	}
	int32_t parent = b->depth ? b->stack[b->depth - 1] : -1;
	uint64_t table_base = parent >= 0 ? t->rows[parent].oa : c->regime->root_pa;
	uint32_t index = (uint32_t)((c->desc_pa - table_base) / 8);
	bool malformed = c->visit == HS_PT_VISIT_MALFORMED;
	bool leaf = c->visit == HS_PT_VISIT_LEAF;
	if (leaf)
		t->nleaves++;
	uint64_t key = entry_key(c);

	if (c->visit != HS_PT_VISIT_TABLE_PRE && !malformed && t->nrows) {
		struct tree_row *p = &t->rows[t->nrows - 1];
		if (p->parent == parent && p->kind == c->kind && !(p->flags & ROW_MALFORMED) &&
		    p->key == key && p->index + p->count == index && p->level == c->level) {
			if (!is_expanded(t, p->run_head)) {
				p->count += (uint32_t)c->nr_entries;
				p->span += c->size;
				return 0;
			}
			/* Expanded run: a row per entry, all remembering the run. */
			uint64_t head = p->run_head;
			struct tree_row *r;
			if (push_row(t, &r))
				return -ENOMEM;
			*r = t->rows[t->nrows - 2];
			r->ia = c->addr;
			r->span = c->size;
			r->desc_pa = c->desc_pa;
			r->desc = c->desc;
			r->oa = leaf ? hs_pt_desc_oa(c->regime, c->desc) : 0;
			r->count = (uint32_t)c->nr_entries;
			r->index = index;
			r->run_head = head;
			r->flags &= (uint8_t)~ROW_CHANGED;
			return 0;
		}
	}
	struct tree_row *r;
	if (push_row(t, &r))
		return -ENOMEM;
	r->ia = c->addr;
	r->span = c->size;
	r->desc_pa = c->desc_pa;
	r->desc = c->desc;
	r->key = key;
	r->run_head = c->desc_pa;
	r->count = (uint32_t)c->nr_entries;
	r->index = index;
	r->parent = parent;
	r->level = (int8_t)c->level;
	r->kind = (uint8_t)c->kind;
	if (malformed)
		r->flags |= ROW_MALFORMED;
	struct hs_pt_attrs a;
	hs_pt_decode_ctx(c, &a);
	r->perm = (uint8_t)a.perm;
	r->state = (uint8_t)a.state;
	r->owner = (uint8_t)a.owner;
	r->device = a.device;
	if (c->visit == HS_PT_VISIT_TABLE_PRE || malformed)
		r->oa = c->table_pa;
	else if (leaf)
		r->oa = a.oa;
	r->color = row_color(r, &a);
	if (c->visit == HS_PT_VISIT_TABLE_PRE) {
		if (b->depth <= HS_PT_MAX_LEVELS)
			b->stack[b->depth++] = (int32_t)(t->nrows - 1);
	}
	return 0;
}

static int prev_cmp(const void *a, const void *b)
{
	const struct tree_prev *x = a, *y = b;
	return x->desc_pa < y->desc_pa ? -1 : x->desc_pa > y->desc_pa;
}

static const struct tree_prev *prev_find(const struct viz_tree *t, uint64_t desc_pa)
{
	struct tree_prev k = {.desc_pa = desc_pa};
	return bsearch(&k, t->prev, t->nprev, sizeof(k), prev_cmp);
}

/* Remember this build's descriptors so that the next one can flag changes. */
static void save_prev(struct viz_tree *t)
{
	free(t->prev);
	t->prev = malloc((t->nrows ? t->nrows : 1) * sizeof(*t->prev));
	t->nprev = 0;
	t->have_prev = t->prev != NULL;
	if (!t->prev)
		return;
	for (size_t i = 0; i < t->nrows; i++) {
		t->prev[i].desc_pa = t->rows[i].desc_pa;
		t->prev[i].desc = t->rows[i].desc;
		t->prev[i].count = t->rows[i].count;
	}
	t->nprev = t->nrows;
	qsort(t->prev, t->nprev, sizeof(*t->prev), prev_cmp);
}

int viz_tree_build(struct viz_tree *t, struct hs_error *err)
{
	t->nrows = 0;
	t->nleaves = 0;
	t->height = 0;
	if (!t->have_regime)
		return 0;
	struct build b = {.t = t};
	struct hs_pt_visitor vis = {.cb = build_visit, .arg = &b, .flags = HS_PT_VISIT_ALL};
	int rc = hs_pt_walk(&t->phys, &t->regime, 0, hs_pt_ia_end(&t->regime), &vis);
	if (rc)
		return hs_err(err, rc < 0 ? rc : -EIO, "walking the table failed (%d)", rc);
	/* Layout: a table row starts where its first child starts; leaves take a line. */
	int32_t y = 0;
	for (size_t i = 0; i < t->nrows; i++) {
		struct tree_row *r = &t->rows[i];
		r->y = y;
		if (r->kind != HS_PT_K_TABLE || (r->flags & ROW_MALFORMED))
			y++;
	}
	/* Subtree ends, children before parents: the rows are in pre-order. */
	for (size_t i = t->nrows; i-- > 0;) {
		struct tree_row *r = &t->rows[i];
		if (r->kind != HS_PT_K_TABLE || (r->flags & ROW_MALFORMED))
			r->y_end = r->y + 1;
		else if (r->y_end < r->y + 1)
			r->y_end = r->y + 1;
		if (r->parent >= 0 && t->rows[r->parent].y_end < r->y_end)
			t->rows[r->parent].y_end = r->y_end;
	}
	t->height = y;
	if (t->have_prev) {
		for (size_t i = 0; i < t->nrows; i++) {
			struct tree_row *r = &t->rows[i];
			const struct tree_prev *p = prev_find(t, r->desc_pa);
			if (!p || p->desc != r->desc || p->count != r->count)
				r->flags |= ROW_CHANGED;
		}
	}
	save_prev(t);
	return 0;
}

void viz_tree_free(struct viz_tree *t)
{
	free(t->rows);
	free(t->prev);
	free(t->expanded);
	memset(t, 0, sizeof(*t));
}

int viz_tree_find_row(const struct viz_tree *t, int level, uint64_t desc_pa)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const struct tree_row *r = &t->rows[i];
		if (r->level == level && desc_pa >= r->desc_pa &&
		    desc_pa < r->desc_pa + 8ULL * r->count)
			return (int)i;
	}
	return -1;
}

void viz_tree_toggle_expand(struct viz_tree *t, const struct tree_row *r)
{
	uint64_t head = r->run_head;
	if (is_expanded(t, head)) {
		size_t j = 0;
		for (size_t i = 0; i < t->nexpanded; i++)
			if (t->expanded[i] != head)
				t->expanded[j++] = t->expanded[i];
		t->nexpanded = j;
		return;
	}
	if (r->count < 2 || r->kind == HS_PT_K_TABLE)
		return;
	uint64_t *n = realloc(t->expanded, (t->nexpanded + 1) * sizeof(*n));
	if (!n)
		return;
	t->expanded = n;
	size_t i = t->nexpanded++;
	while (i > 0 && n[i - 1] > head) {
		n[i] = n[i - 1];
		i--;
	}
	n[i] = head;
}

/* ---- data from the machine ------------------------------------------------ */

void viz_tree_update_walk(struct hs_viz *v)
{
	struct viz_tree *t = &v->tree;
	t->walk_valid = false;
	t->nwalk = 0;
	t->nwalk_text = 0;
	for (size_t i = 0; i < t->nrows; i++)
		t->rows[i].flags &= (uint8_t)~ROW_HILITE;
	if (!v->o.has_addr || !t->have_regime)
		return;
	struct hs_pt_trace tr;
	if (hs_pt_translate(&t->phys, &t->regime, v->o.addr, &tr) < 0)
		return;
	t->walk_valid = true;
	for (unsigned s = 0; s < tr.nr_steps && s < HS_PT_MAX_STEPS; s++) {
		int row = viz_tree_find_row(t, tr.steps[s].level, tr.steps[s].desc_pa);
		if (row >= 0) {
			t->walk_rows[t->nwalk++] = row;
			t->rows[row].flags |= ROW_HILITE;
		}
		char *line = t->walk_text[t->nwalk_text++];
		int k = snprintf(line, sizeof(t->walk_text[0]),
				 "L%d [%" PRIu64 "] %#" PRIx64 ": %s", tr.steps[s].level,
				 tr.steps[s].index, tr.steps[s].desc, tr.steps[s].meaning);
		struct hs_blame_rec rec;
		if (v->o.blame && k > 0 && (size_t)k < sizeof(t->walk_text[0]) &&
		    hs_blame_last(v->o.blame, tr.steps[s].desc_pa, &rec)) {
			char where[160];
			hs_pc_where(v->m, rec.pc, where, sizeof(where));
			snprintf(line + k, sizeof(t->walk_text[0]) - (size_t)k,
				 "  | last written by cpu%u at %s, %s", rec.cpu, where,
				 rec.hvc_name ? rec.hvc_name : "no hypercall");
		}
	}
	if (tr.ok)
		snprintf(t->walk_text[t->nwalk_text++], sizeof(t->walk_text[0]),
			 "%#" PRIx64 " -> PA %#" PRIx64, v->o.addr, tr.out_pa);
	else
		snprintf(t->walk_text[t->nwalk_text++], sizeof(t->walk_text[0]),
			 "%#" PRIx64 ": %s at level %d", v->o.addr, hs_pt_fault_name(tr.fault.type),
			 tr.fault.level);
}

int viz_tree_refresh(struct hs_viz *v, struct hs_error *err)
{
	struct viz_tree *t = &v->tree;
	t->error[0] = 0;
	if (v->m) {
		struct hs_error e = {0};
		if (viz_regime(v->m, v->o.table, v->o.cpu, v->o.vttbr, v->o.vtcr, &t->regime, &e)) {
			t->have_regime = false;
			viz_copy(t->error, sizeof(t->error), e.msg);
		} else {
			t->have_regime = true;
			t->phys = viz_machine_phys(v->m);
		}
	}
	int rc = viz_tree_build(t, err);
	if (rc)
		return rc;
	if (t->have_regime) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		hs_pt_regime_describe(&sb, &t->regime);
		viz_copy(t->title, sizeof(t->title), hs_sb_str(&sb));
		hs_sb_free(&sb);
	} else {
		snprintf(t->title, sizeof(t->title), "no table");
	}
	viz_tree_update_walk(v);
	return 0;
}

void viz_tree_scroll_to_walk(struct hs_viz *v)
{
	struct viz_tree *t = &v->tree;
	if (!t->nwalk)
		return;
	const struct tree_row *leaf = &t->rows[t->walk_rows[t->nwalk - 1]];
	int vis = viz_tree_rows_visible(v);
	int s = leaf->y - vis / 3;
	if (s > t->height - vis)
		s = t->height - vis;
	t->scroll = s < 0 ? 0 : s;
}

/* ---- layout and painting ---------------------------------------------------- */

static int row_h(const struct hs_viz *v)
{
	return v->font.ch + 3;
}

int viz_tree_rows_visible(const struct hs_viz *v)
{
	int area =
	    v->h - TREE_TOP - 8 - (v->tree.nwalk_text ? (v->tree.nwalk_text + 1) * v->font.ch : 0);
	return area / row_h(v) > 1 ? area / row_h(v) : 1;
}

static int nr_cols(const struct viz_tree *t)
{
	return t->have_regime ? HS_PT_MAX_LEVELS - t->regime.start_level : HS_PT_MAX_LEVELS;
}

static int col_w(const struct hs_viz *v)
{
	int n = nr_cols(&v->tree);
	return (v->w - 2 * TREE_MARGIN - (n - 1) * TREE_GAP) / n;
}

void viz_tree_rect(const struct hs_viz *v, const struct tree_row *r, struct hs_viz_rect *out)
{
	const struct viz_tree *t = &v->tree;
	int col = r->level - (t->have_regime ? t->regime.start_level : 0);
	int vis = viz_tree_rows_visible(v);
	int y0 = r->y - t->scroll, y1 = r->y_end - t->scroll;
	if (y0 < 0)
		y0 = 0;
	if (y1 > vis)
		y1 = vis;
	out->x = TREE_MARGIN + col * (col_w(v) + TREE_GAP);
	out->w = col_w(v);
	out->y = TREE_TOP + y0 * row_h(v);
	out->h = (y1 - y0) * row_h(v) - 1;
}

/* First row with y >= s (rows are sorted by y). */
static size_t first_row_at(const struct viz_tree *t, int s)
{
	size_t lo = 0, hi = t->nrows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->rows[mid].y < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void row_label(const struct viz_tree *t, const struct tree_row *r, char *buf, size_t len)
{
	char what[64];
	switch ((enum hs_pt_kind)r->kind) {
	case HS_PT_K_TABLE:
		snprintf(what, sizeof(what), "TABLE %#" PRIx64, r->oa);
		break;
	case HS_PT_K_BLOCK:
	case HS_PT_K_PAGE: {
		char p[4];
		snprintf(what, sizeof(what), "%s %s%s%s %#" PRIx64,
			 r->kind == HS_PT_K_BLOCK ? "BLK" : "PG", hs_pt_perm_str(r->perm, p),
			 r->device ? " DEV" : "",
			 t->regime.stage == HS_PT_S2 && r->state ? (r->state == 1 ? " SO" : " SB")
								 : "",
			 r->oa);
		break;
	}
	case HS_PT_K_ANNOTATION:
		snprintf(what, sizeof(what), "OWNER %s",
			 hs_swenc_owner_name(t->regime.swenc, r->owner));
		break;
	case HS_PT_K_RESERVED:
		snprintf(what, sizeof(what), "RESERVED");
		break;
	default:
		snprintf(what, sizeof(what), r->desc ? "INVALID %#" PRIx64 : "-", r->desc);
		break;
	}
	if (r->flags & ROW_MALFORMED)
		snprintf(what, sizeof(what), "MALFORMED -> %#" PRIx64, r->oa);
	if (r->count > 1)
		snprintf(buf, len, "[%u+%u] %#" PRIx64 " %s", r->index, r->count, r->ia, what);
	else
		snprintf(buf, len, "[%u] %#" PRIx64 " %s", r->index, r->ia, what);
}

/* Append the last writer of the row's entries (the most recent store to any of them). */
static void row_writer(const struct hs_viz *v, const struct tree_row *r, char *buf, size_t len)
{
	struct hs_blame_rec last = {0}, x;
	bool have = false;
	for (uint32_t i = 0; v->o.blame && i < (r->count ? r->count : 1); i++)
		if (hs_blame_last(v->o.blame, r->desc_pa + 8ULL * i, &x) &&
		    (!have || x.icount > last.icount))
			last = x, have = true;
	size_t n = strlen(buf);
	if (!have || n + 8 >= len)
		return;
	char sym[96];
	if (!hs_symbolize(v->m, last.pc, sym, sizeof(sym)))
		snprintf(sym, sizeof(sym), "%#" PRIx64, last.pc);
	snprintf(buf + n, len - n, "  <- %s%s%s", sym, last.hvc_name ? " " : "",
		 last.hvc_name ? last.hvc_name : "");
}

/* Does the row hold a descriptor whose break the TLBs have not seen completed yet? */
static bool tlb_pending(const struct hs_viz_opts *o, const struct tree_row *r)
{
	for (unsigned i = 0; i < o->nr_tlb_pending && i < HS_VIZ_MAX_TLB_PENDING; i++)
		if (o->tlb_pending[i] >= r->desc_pa &&
		    o->tlb_pending[i] < r->desc_pa + 8 * (uint64_t)(r->count ? r->count : 1))
			return true;
	return false;
}

void viz_tree_paint(struct hs_viz *v)
{
	SDL_Surface *s = v->layer;
	const struct viz_tree *t = &v->tree;
	viz_fill(s, 0, 0, v->w, v->h, VIZ_BG);
	char buf[600];
	snprintf(buf, sizeof(buf), "Page-table tree: %s  (%zu rows, %" PRIu64 " leaves)",
		 t->have_regime ? t->title : t->error, t->nrows, t->nleaves);
	viz_text(s, &v->font, TREE_MARGIN, 4, VIZ_FG, buf, (v->w - 16) / v->font.cw);
	int cw = col_w(v), rh = row_h(v), vis = viz_tree_rows_visible(v);
	int maxc = cw / v->font.cw - 1;
	for (int c = 0; c < nr_cols(t); c++) {
		int level = c + (t->have_regime ? t->regime.start_level : 0);
		uint64_t sz = t->have_regime ? hs_pt_level_size(&t->regime, level) : 0;
		const char *u = "B";
		if (sz >= (1ULL << 30)) {
			sz >>= 30;
			u = "G";
		} else if (sz >= (1ULL << 20)) {
			sz >>= 20;
			u = "M";
		} else if (sz >= (1ULL << 10)) {
			sz >>= 10;
			u = "K";
		}
		snprintf(buf, sizeof(buf), "Level %d (%" PRIu64 "%s / entry)", level, sz, u);
		viz_text(s, &v->font, TREE_MARGIN + c * (cw + TREE_GAP), 8 + v->font.ch + 4,
			 VIZ_DIM, buf, maxc);
	}
	if (!t->nrows)
		return;
	/* Visible rows: the ancestors of the first one, then every row up to the bottom. */
	size_t first = first_row_at(t, t->scroll);
	int32_t anc[HS_PT_MAX_LEVELS + 1];
	int nanc = 0;
	if (first < t->nrows)
		for (int32_t p = t->rows[first].parent; p >= 0 && nanc <= HS_PT_MAX_LEVELS;
		     p = t->rows[p].parent)
			anc[nanc++] = p;
	for (int k = -nanc; first < t->nrows || k < 0; k++) {
		const struct tree_row *r;
		if (k < 0) {
			r = &t->rows[anc[nanc + k]];
		} else {
			r = &t->rows[first++];
			if (r->y >= t->scroll + vis)
				break;
		}
		struct hs_viz_rect rc;
		viz_tree_rect(v, r, &rc);
		if (rc.h <= 0)
			continue;
		viz_fill(s, rc.x, rc.y, rc.w, rc.h, r->color);
		if (r->flags & ROW_CHANGED)
			viz_outline(s, rc.x, rc.y, rc.w, rc.h, 2, VIZ_CHANGED);
		if (tlb_pending(&v->o, r))
			viz_outline(s, rc.x + 2, rc.y + 2, rc.w - 4, rc.h - 4, 2, VIZ_TLB_PENDING);
		if (r->count > 1) /* a collapsed run: a notch on the right edge */
			viz_fill(s, rc.x + rc.w - 4, rc.y, 4, rc.h, 0xffffffffu);
		row_label(t, r, buf, sizeof(buf));
		row_writer(v, r, buf, sizeof(buf));
		viz_text(s, &v->font, rc.x + 3, rc.y + 1, viz_text_on(r->color), buf, maxc);
		if (r->kind == HS_PT_K_TABLE && !(r->flags & ROW_MALFORMED)) {
			/* A bracket in the gap: this entry's subtree is what lies to its right. */
			int bx = rc.x + rc.w + TREE_GAP / 2 - 1;
			viz_fill(s, rc.x + rc.w, rc.y + rh / 2, TREE_GAP / 2, 1, VIZ_DIM);
			viz_fill(s, bx, rc.y + 2, 1, rc.h - 4, VIZ_DIM);
		}
	}
	/* Walk trace under the rows. */
	int ty = TREE_TOP + vis * rh + 6;
	for (int i = 0; i < t->nwalk_text; i++)
		viz_text(s, &v->font, TREE_MARGIN, ty + i * v->font.ch, VIZ_HILITE, t->walk_text[i],
			 (v->w - 16) / v->font.cw);
}

void viz_tree_overlay(struct hs_viz *v)
{
	const struct viz_tree *t = &v->tree;
	for (int i = 0; i < t->nwalk; i++) {
		struct hs_viz_rect rc;
		viz_tree_rect(v, &t->rows[t->walk_rows[i]], &rc);
		if (rc.h > 0)
			viz_outline(v->canvas, rc.x - 2, rc.y - 2, rc.w + 4, rc.h + 4, 2,
				    VIZ_HILITE);
	}
}

int viz_tree_row_at(struct hs_viz *v, int x, int y)
{
	const struct viz_tree *t = &v->tree;
	if (y < TREE_TOP || !t->nrows)
		return -1;
	int line = (y - TREE_TOP) / row_h(v) + t->scroll;
	int col = (x - TREE_MARGIN) / (col_w(v) + TREE_GAP);
	int level = col + (t->have_regime ? t->regime.start_level : 0);
	/* The row covering `line` in that column: search back from the first row at line. */
	size_t i = first_row_at(t, line + 1);
	while (i-- > 0) {
		const struct tree_row *r = &t->rows[i];
		/* The first row at or above that level decides: earlier ones end earlier. */
		if (r->level <= level)
			return r->level == level && r->y_end > line ? (int)i : -1;
	}
	return -1;
}
