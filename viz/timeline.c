/* SPDX-License-Identifier: MIT */
/*
 * The hypercall recorder (an event subscriber) and the timeline view: one
 * mark per call in call order, green when it succeeded, red when it failed,
 * grey while it has not returned; the height says how many instructions it
 * ran (log scale). The selected call's details sit under the marks.
 */
#include "viz_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

struct hs_viz_recorder {
	struct hs_machine *m;
	struct hs_viz_call *calls;
	size_t n, cap;
	long open[HS_MAX_CPUS]; /* index of the call in flight per CPU, -1 */
	void *snap[HS_MAX_CPUS];
	hs_viz_diff_begin_fn begin;
	hs_viz_diff_end_fn end;
	void *ud;
};

bool hs_viz_call_ok(const struct hs_viz_call *c)
{
	return c->done && c->x0 == HS_SMCCC_SUCCESS && c->x1 >= 0;
}

/* The class of the page a call names in x1, when x1 looks like a RAM pfn. */
static int arg_page_class(struct hs_machine *m, const struct hs_viz_call *c)
{
	uint64_t pa = c->args[0] << HS_PAGE_SHIFT;
	if (c->nr < 0 || (c->args[0] >> (64 - HS_PAGE_SHIFT)) ||
	    !hs_phys_is_ram(m, pa, HS_PAGE_SIZE))
		return -1;
	uint8_t k;
	if (hs_viz_owner_scan(m, pa, 1, &k, NULL))
		return -1;
	return k;
}

static void on_event(const struct hs_event *ev, void *ud)
{
	struct hs_viz_recorder *r = ud;
	unsigned cpu = ev->cpu < HS_MAX_CPUS ? ev->cpu : 0;
	if (ev->type == HS_EV_HVC_ENTER) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct hs_viz_call *nc = realloc(r->calls, cap * sizeof(*nc));
			if (!nc)
				return; /* drop the call: the recorder is best effort */
			r->calls = nc;
			r->cap = cap;
		}
		struct hs_viz_call *c = &r->calls[r->n];
		memset(c, 0, sizeof(*c));
		c->cpu = ev->cpu;
		c->nr = ev->hvc.nr;
		viz_copy(c->name, sizeof(c->name), ev->hvc.name ? ev->hvc.name : "?");
		c->fn = ev->hvc.fn;
		memcpy(c->args, ev->hvc.args, sizeof(c->args));
		c->icount_enter = ev->icount;
		c->page_class_before = arg_page_class(r->m, c);
		c->page_class_after = -1;
		r->open[cpu] = (long)r->n++;
		r->snap[cpu] = r->begin ? r->begin(r->m, c, r->ud) : NULL;
	} else if (ev->type == HS_EV_HVC_EXIT) {
		if (r->open[cpu] < 0)
			return;
		struct hs_viz_call *c = &r->calls[r->open[cpu]];
		r->open[cpu] = -1;
		c->done = true;
		c->x0 = ev->hvc.x0;
		c->x1 = ev->hvc.x1;
		c->insns = ev->hvc.insns;
		c->icount_exit = ev->icount;
		if (c->page_class_before >= 0)
			c->page_class_after = arg_page_class(r->m, c);
		if (r->end) {
			struct hs_strbuf sb;
			hs_sb_init(&sb);
			r->end(r->m, c, r->snap[cpu], &sb, r->ud);
			if (sb.len)
				c->diff = strdup(hs_sb_str(&sb));
			hs_sb_free(&sb);
		}
		r->snap[cpu] = NULL;
	}
}

struct hs_viz_recorder *hs_viz_recorder_attach(struct hs_machine *m)
{
	struct hs_viz_recorder *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->m = m;
	for (int i = 0; i < HS_MAX_CPUS; i++)
		r->open[i] = -1;
	if (hs_machine_subscribe(m, on_event, r)) {
		free(r);
		return NULL;
	}
	return r;
}

void hs_viz_recorder_clear(struct hs_viz_recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->calls[i].diff);
	r->n = 0;
	for (int i = 0; i < HS_MAX_CPUS; i++) {
		/* A call still open holds the diff hook's "before" state: release it. */
		if (r->snap[i] && r->end)
			r->end(r->m, NULL, r->snap[i], NULL, r->ud);
		r->snap[i] = NULL;
		r->open[i] = -1;
	}
}

void hs_viz_recorder_detach(struct hs_viz_recorder *r)
{
	if (!r)
		return;
	hs_machine_unsubscribe(r->m, on_event, r);
	hs_viz_recorder_clear(r);
	free(r->calls);
	free(r);
}

size_t hs_viz_recorder_count(const struct hs_viz_recorder *r)
{
	return r ? r->n : 0;
}

const struct hs_viz_call *hs_viz_recorder_get(const struct hs_viz_recorder *r, size_t i)
{
	return r && i < r->n ? &r->calls[i] : NULL;
}

void hs_viz_recorder_set_diff_hook(struct hs_viz_recorder *r, hs_viz_diff_begin_fn begin,
				   hs_viz_diff_end_fn end, void *ud)
{
	r->begin = begin;
	r->end = end;
	r->ud = ud;
}

/* ---- the view ---------------------------------------------------------------- */

#define TL_TOP 52
#define TL_MARKS_H 220

static uint32_t call_color(const struct hs_viz_call *c)
{
	if (!c->done)
		return 0xffadb5bdu;
	return hs_viz_call_ok(c) ? 0xff2dc653u : 0xffe5383bu;
}

static void layout(struct hs_viz *v)
{
	size_t n = hs_viz_recorder_count(v->o.recorder);
	int area = v->w - 16;
	int mw = n ? area / (int)n : 24;
	if (mw > 28)
		mw = 28;
	if (mw < 3)
		mw = 3;
	v->tl_mark_w = mw;
	v->tl_x0 = 8;
	v->tl_y0 = TL_TOP;
	v->tl_h = TL_MARKS_H;
	v->tl_shown = area / mw;
	/* Too many to show: keep the selection (or the newest calls) in view. */
	int first = v->tl_first;
	if ((size_t)v->tl_shown >= n)
		first = 0;
	else if (v->o.selected_call >= 0 &&
		 (v->o.selected_call < first || v->o.selected_call >= first + v->tl_shown))
		first = v->o.selected_call - v->tl_shown / 2;
	else if (first < 0 || (size_t)(first + v->tl_shown) > n)
		first = (int)n - v->tl_shown;
	v->tl_first = first < 0 ? 0 : first;
}

int hs_viz_timeline_mark_rect(struct hs_viz *v, size_t i, struct hs_viz_rect *r)
{
	const struct hs_viz_call *c = hs_viz_recorder_get(v->o.recorder, i);
	if (!c || (int)i < v->tl_first || (int)i >= v->tl_first + v->tl_shown)
		return -1;
	double frac = 0.2;
	if (c->insns)
		frac = 0.2 + 0.8 * fmin(1.0, log2((double)c->insns + 1) / 24.0);
	int h = (int)(frac * v->tl_h);
	r->x = v->tl_x0 + ((int)i - v->tl_first) * v->tl_mark_w;
	r->w = v->tl_mark_w > 4 ? v->tl_mark_w - 1 : v->tl_mark_w;
	r->y = v->tl_y0 + v->tl_h - h;
	r->h = h;
	return 0;
}

int viz_timeline_call_at(struct hs_viz *v, int x, int y)
{
	if (y < v->tl_y0 || y >= v->tl_y0 + v->tl_h || x < v->tl_x0)
		return -1;
	int i = v->tl_first + (x - v->tl_x0) / v->tl_mark_w;
	return (size_t)i < hs_viz_recorder_count(v->o.recorder) ? i : -1;
}

static const char *errno_name(int64_t e)
{
	switch (-e) {
	case HS_EPERM:
		return "EPERM";
	case HS_ENOENT:
		return "ENOENT";
	case HS_EAGAIN:
		return "EAGAIN";
	case HS_ENOMEM:
		return "ENOMEM";
	case HS_EFAULT:
		return "EFAULT";
	case HS_EBUSY:
		return "EBUSY";
	case HS_EEXIST:
		return "EEXIST";
	case HS_EINVAL:
		return "EINVAL";
	case HS_ERANGE:
		return "ERANGE";
	case HS_E2BIG:
		return "E2BIG";
	case HS_ENOTSUPP:
		return "ENOTSUPP";
	default:
		return "";
	}
}

static void details(struct hs_viz *v, const struct hs_viz_call *c, size_t idx, int y)
{
	SDL_Surface *s = v->layer;
	char buf[300];
	int x = 16, lh = v->font.ch + 1, maxc = (v->w - 32) / v->font.cw;
	snprintf(buf, sizeof(buf), "#%zu  %s (fn %#" PRIx64 ", nr %d) on CPU %u", idx, c->name,
		 c->fn, c->nr, c->cpu);
	viz_text(s, &v->font, x, y, VIZ_FG, buf, maxc);
	y += lh;
	snprintf(buf, sizeof(buf),
		 "args x1..x6: %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64
		 " %#" PRIx64,
		 c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
	viz_text(s, &v->font, x, y, VIZ_FG, buf, maxc);
	y += lh;
	if (c->done)
		snprintf(buf, sizeof(buf),
			 "result: x0 = %" PRId64 "%s, x1 = %" PRId64 " %s  -> %s;  %" PRIu64
			 " instructions (icount %" PRIu64 "..%" PRIu64 ")",
			 c->x0, c->x0 == HS_SMCCC_NOT_SUPPORTED ? " (NOT_SUPPORTED)" : "", c->x1,
			 c->x1 < 0 ? errno_name(c->x1) : "", hs_viz_call_ok(c) ? "ok" : "error",
			 c->insns, c->icount_enter, c->icount_exit);
	else
		snprintf(buf, sizeof(buf), "in flight since icount %" PRIu64, c->icount_enter);
	viz_text(s, &v->font, x, y, call_color(c), buf, maxc);
	y += lh;
	if (c->page_class_before >= 0) {
		snprintf(buf, sizeof(buf), "page %#" PRIx64 ": %s -> %s",
			 c->args[0] << HS_PAGE_SHIFT, hs_viz_class_name(c->page_class_before),
			 c->page_class_after >= 0 ? hs_viz_class_name(c->page_class_after) : "?");
		viz_text(s, &v->font, x, y, VIZ_FG, buf, maxc);
		y += lh;
	}
	y += lh / 2;
	if (!c->diff) {
		viz_text(s, &v->font, x, y, VIZ_DIM,
			 "table diff: none recorded (hs_viz_recorder_set_diff_hook connects the "
			 "inspection engine)",
			 maxc);
		return;
	}
	viz_text(s, &v->font, x, y, VIZ_DIM, "table diff:", maxc);
	y += lh;
	for (const char *p = c->diff; *p && y + lh < v->h;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		viz_text(s, &v->font, x + 16, y, VIZ_FG, p, n < maxc - 2 ? n : maxc - 2);
		y += lh;
		p += n + (nl ? 1 : 0);
	}
}

void viz_timeline_paint(struct hs_viz *v)
{
	SDL_Surface *s = v->layer;
	layout(v);
	viz_fill(s, 0, 0, v->w, v->h, VIZ_BG);
	size_t n = hs_viz_recorder_count(v->o.recorder);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += !hs_viz_call_ok(hs_viz_recorder_get(v->o.recorder, i));
	char buf[200];
	snprintf(buf, sizeof(buf), "Hypercall timeline: %zu calls, %zu failed or pending%s", n, bad,
		 v->o.recorder ? "" : "  (no recorder attached)");
	viz_text(s, &v->font, 8, 6, VIZ_FG, buf, 0);
	viz_fill(s, 12, 8 + v->font.ch + 6, 10, 10, 0xff2dc653u);
	viz_text(s, &v->font, 26, 8 + v->font.ch + 2, VIZ_DIM, "ok", 0);
	viz_fill(s, 62, 8 + v->font.ch + 6, 10, 10, 0xffe5383bu);
	viz_text(s, &v->font, 76, 8 + v->font.ch + 2, VIZ_DIM, "error", 0);
	viz_fill(s, 130, 8 + v->font.ch + 6, 10, 10, 0xffadb5bdu);
	viz_text(s, &v->font, 144, 8 + v->font.ch + 2, VIZ_DIM,
		 "pending    height: log2(instructions)", 0);
	viz_fill(s, v->tl_x0, v->tl_y0 + v->tl_h + 1, v->w - 16, 1, VIZ_DIM);
	for (size_t i = (size_t)v->tl_first; i < n && (int)i < v->tl_first + v->tl_shown; i++) {
		struct hs_viz_rect r;
		if (hs_viz_timeline_mark_rect(v, i, &r))
			continue;
		viz_fill(s, r.x, r.y, r.w, r.h, call_color(hs_viz_recorder_get(v->o.recorder, i)));
	}
	/* Index ticks, and names when the marks are wide enough to carry them. */
	int every = (8 * v->font.cw) / v->tl_mark_w + 1;
	for (int i = v->tl_first; (size_t)i < n && i < v->tl_first + v->tl_shown; i++) {
		if ((i - v->tl_first) % every)
			continue;
		int x = v->tl_x0 + (i - v->tl_first) * v->tl_mark_w;
		snprintf(buf, sizeof(buf), "%d", i);
		viz_fill(s, x, v->tl_y0 + v->tl_h + 2, 1, 4, VIZ_DIM);
		viz_text(s, &v->font, x, v->tl_y0 + v->tl_h + 6, VIZ_DIM, buf, 0);
	}
	int y = v->tl_y0 + v->tl_h + 8 + v->font.ch + 8;
	/* A compact list: the selection's neighbours (or the newest calls). */
	int sel = v->o.selected_call;
	int lines = 8;
	int from = sel >= 0 ? sel - lines / 2 : (int)n - lines;
	if (from < 0)
		from = 0;
	for (int i = from; (size_t)i < n && i < from + lines; i++) {
		const struct hs_viz_call *c = hs_viz_recorder_get(v->o.recorder, (size_t)i);
		snprintf(buf, sizeof(buf), "%c %4d cpu%u %-30s x0=%" PRId64 " x1=%" PRId64 " %s",
			 i == sel ? '>' : ' ', i, c->cpu, c->name, c->x0, c->x1,
			 c->done ? (hs_viz_call_ok(c) ? "ok" : "error") : "pending");
		viz_text(s, &v->font, 16, y, i == sel ? VIZ_HILITE : call_color(c), buf, 0);
		y += v->font.ch;
	}
	y += 8;
	viz_fill(s, 8, y, v->w - 16, v->h - y - 8, VIZ_PANEL);
	const struct hs_viz_call *c =
	    sel >= 0 ? hs_viz_recorder_get(v->o.recorder, (size_t)sel) : NULL;
	if (c)
		details(v, c, (size_t)sel, y + 6);
	else
		viz_text(s, &v->font, 16, y + 6, VIZ_DIM,
			 "click a mark (or left/right) to select a call", 0);
}

void viz_timeline_overlay(struct hs_viz *v)
{
	struct hs_viz_rect r;
	if (v->o.selected_call >= 0 &&
	    !hs_viz_timeline_mark_rect(v, (size_t)v->o.selected_call, &r))
		viz_outline(v->canvas, r.x - 2, v->tl_y0 - 4, r.w + 4, v->tl_h + 6, 2, VIZ_HILITE);
}
