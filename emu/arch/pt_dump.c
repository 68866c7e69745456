/* SPDX-License-Identifier: MIT */
/* Merged-range dumps of translation tables: text, JSON and Graphviz DOT. */
#include "pt_dump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BIT(n) (1ULL << (n))
#define GENMASK(h, l) (((~0ULL) >> (63 - (h))) & ~((1ULL << (l)) - 1))

/* Guest annotations count gfns in 4 KiB pages. */
#define GFN_SHIFT 12

/* The bits of a guest annotation that hold its gfn (the rest must match to merge). */
static uint64_t annot_gfn_mask(const struct hs_pt_regime *r)
{
	const struct hs_pt_swenc *e = r->swenc;
	unsigned lo = hs_swenc_gfn_bit(e);
	if (!lo || e->meta_shift + e->meta_bits <= lo)
		return 0;
	return GENMASK(e->meta_shift + e->meta_bits - 1, lo);
}

void hs_pt_filter_init(struct hs_pt_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->owner = -1;
	f->state = -1;
}

/* ------------------------------------------------------------------------ */
/* Merging                                                                   */
/* ------------------------------------------------------------------------ */

struct merger {
	const struct hs_pt_regime *r;
	struct hs_pt_filter f; /* va_end resolved */
	hs_pt_range_fn cb;
	void *arg;
	bool have;
	struct hs_pt_range cur;
	uint64_t key;  /* leaves: attribute bits; invalid: raw; annotations: raw minus gfn */
	unsigned hier; /* leaves: inherited table attributes */
	uint64_t next; /* leaves: next expected OA; guest annotations: next gfn */
	uint64_t oa_field;
	uint64_t nr_ranges;
};

static void merger_init(struct merger *m, const struct hs_pt_regime *r,
			const struct hs_pt_filter *f, hs_pt_range_fn cb, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->r = r;
	if (f)
		m->f = *f;
	else
		hs_pt_filter_init(&m->f);
	if (!m->f.va_end || m->f.va_end > hs_pt_ia_end(r))
		m->f.va_end = hs_pt_ia_end(r);
	m->cb = cb;
	m->arg = arg;
	m->oa_field = GENMASK(47, r->granule_shift) | 2; /* OA and the block/page bit */
	if (r->granule_shift == 16 && r->pa_bits == 52)
		m->oa_field |= GENMASK(15, 12);
}

static int range_owner(const struct hs_pt_regime *r, const struct hs_pt_range *g)
{
	if (g->kind == HS_PT_K_ANNOTATION)
		return (int)g->attrs.owner;
	/* The host's stage 2 maps what the host owns; an empty entry is the host's too. */
	if (r->stage == HS_PT_S2 && r->vmid == 0 && r->swenc && r->swenc->host_owner >= 0 &&
	    (g->leaf || (g->kind == HS_PT_K_INVALID && g->attrs.raw == 0)))
		return r->swenc->host_owner;
	return -1;
}

static bool keep(const struct hs_pt_filter *f, const struct hs_pt_range *g)
{
	if ((f->flags & HS_PT_F_NO_INVALID) && g->kind == HS_PT_K_INVALID && !g->malformed)
		return false;
	if ((f->flags & HS_PT_F_NO_ANNOT) && g->kind == HS_PT_K_ANNOTATION)
		return false;
	if ((f->flags & HS_PT_F_NO_MALFORMED) && g->malformed)
		return false;
	if (f->perm_mask && (!g->leaf || (g->attrs.perm & f->perm_mask) != f->perm_want))
		return false;
	if (f->owner >= 0 && g->owner != f->owner)
		return false;
	if (f->state >= 0 && (!g->leaf || (int)g->attrs.state != f->state))
		return false;
	return true;
}

static int merger_flush(struct merger *m)
{
	if (!m->have)
		return 0;
	m->have = false;
	struct hs_pt_range g = m->cur;
	uint64_t s = g.va_start > m->f.va_start ? g.va_start : m->f.va_start;
	uint64_t e = g.va_end < m->f.va_end ? g.va_end : m->f.va_end;
	if (s >= e)
		return 0;
	if (g.leaf)
		g.pa_start += s - g.va_start;
	if (g.kind == HS_PT_K_ANNOTATION && g.attrs.guest)
		g.attrs.gfn += (s - g.va_start) >> GFN_SHIFT;
	g.va_start = s;
	g.va_end = e;
	g.owner = range_owner(m->r, &g);
	if (!keep(&m->f, &g))
		return 0;
	m->nr_ranges++;
	return m->cb(&g, m->arg);
}

static int merger_feed(struct merger *m, const struct hs_pt_visit_ctx *ctx)
{
	bool leaf = ctx->visit == HS_PT_VISIT_LEAF;
	bool mal = ctx->visit == HS_PT_VISIT_MALFORMED;
	struct hs_pt_range *c = &m->cur;

	if (m->have && !mal && !c->malformed && c->va_end == ctx->addr && leaf == c->leaf) {
		bool ext = false;
		if (leaf) {
			ext = (ctx->desc & ~m->oa_field) == m->key && ctx->hier == m->hier &&
			      hs_pt_desc_oa(m->r, ctx->desc) == m->next;
			if (ext)
				m->next += ctx->size;
		} else if (ctx->kind == c->kind && ctx->kind == HS_PT_K_INVALID) {
			ext = ctx->desc == m->key;
		} else if (ctx->kind == c->kind && c->attrs.guest) {
			uint64_t gfn_mask = annot_gfn_mask(m->r);
			unsigned gfn_bit = hs_swenc_gfn_bit(m->r->swenc);
			ext = (ctx->desc & ~gfn_mask) == m->key &&
			      ((ctx->desc & gfn_mask) >> gfn_bit) == m->next;
			if (ext)
				m->next += ctx->size >> GFN_SHIFT;
		} else if (ctx->kind == c->kind) {
			ext = ctx->desc == m->key;
		}
		if (ext) {
			c->va_end += ctx->size;
			c->nr_entries += ctx->nr_entries;
			if (ctx->level < c->level_min)
				c->level_min = ctx->level;
			if (ctx->level > c->level_max)
				c->level_max = ctx->level;
			return 0;
		}
	}
	int ret = merger_flush(m);
	if (ret)
		return ret;
	memset(c, 0, sizeof(*c));
	c->va_start = ctx->addr;
	c->va_end = ctx->addr + ctx->size;
	c->level_min = c->level_max = ctx->level;
	c->kind = ctx->kind;
	c->leaf = leaf;
	c->malformed = mal;
	c->why = ctx->why;
	c->nr_entries = ctx->nr_entries;
	c->desc_pa = ctx->desc_pa;
	hs_pt_decode_ctx(ctx, &c->attrs);
	if (mal && ctx->kind == HS_PT_K_TABLE)
		c->attrs.oa = ctx->table_pa;
	m->hier = ctx->hier;
	if (leaf) {
		c->pa_start = c->attrs.oa;
		m->key = ctx->desc & ~m->oa_field;
		m->next = hs_pt_desc_oa(m->r, ctx->desc) + ctx->size;
	} else if (ctx->kind == HS_PT_K_ANNOTATION && c->attrs.guest) {
		m->key = ctx->desc & ~annot_gfn_mask(m->r);
		m->next = c->attrs.gfn + (ctx->size >> GFN_SHIFT);
	} else {
		m->key = ctx->desc;
	}
	m->have = true;
	return 0;
}

static int ranges_walker(const struct hs_pt_visit_ctx *ctx)
{
	return merger_feed(ctx->arg, ctx);
}

int hs_pt_dump_ranges(const struct hs_phys *phys, const struct hs_pt_regime *r,
		      const struct hs_pt_filter *filter, hs_pt_range_fn cb, void *arg)
{
	if (!phys || !r || !cb)
		return -EINVAL;
	struct merger m;
	merger_init(&m, r, filter, cb, arg);
	struct hs_pt_visitor v = {
	    .cb = ranges_walker,
	    .arg = &m,
	    .flags = HS_PT_VISIT_LEAF | HS_PT_VISIT_INVALID | HS_PT_VISIT_MALFORMED,
	};
	int ret = hs_pt_walk(phys, r, m.f.va_start, m.f.va_end, &v);
	if (ret)
		return ret;
	return merger_flush(&m);
}

/* ------------------------------------------------------------------------ */
/* Text and JSON                                                             */
/* ------------------------------------------------------------------------ */

static const char *unit_name(const struct hs_pt_range *g)
{
	if (g->kind == HS_PT_K_PAGE || g->kind == HS_PT_K_ANNOTATION)
		return g->nr_entries == 1 ? "page" : "pages";
	if (g->kind == HS_PT_K_BLOCK && g->level_min == g->level_max)
		return g->nr_entries == 1 ? "block" : "blocks";
	return g->nr_entries == 1 ? "entry" : "entries";
}

void hs_pt_range_text(struct hs_strbuf *sb, const struct hs_pt_range *g)
{
	if (g->level_min == g->level_max)
		hs_sb_printf(sb, "%*s[LV%d] ", 2 * g->level_min, "", g->level_min);
	else
		hs_sb_printf(sb, "%*s[LV%d-%d] ", 2 * g->level_min, "", g->level_min, g->level_max);
	hs_sb_printf(sb, "0x%016llx - 0x%016llx ", (unsigned long long)g->va_start,
		     (unsigned long long)(g->va_end - 1));
	if (g->malformed) {
		hs_sb_printf(sb, "MALFORMED %s: desc @0x%llx = 0x%016llx",
			     hs_pt_malformed_name(g->why), (unsigned long long)g->desc_pa,
			     (unsigned long long)g->attrs.raw);
		if (g->kind == HS_PT_K_TABLE || g->why == HS_PT_MAL_OA_RANGE)
			hs_sb_printf(sb, " -> 0x%llx", (unsigned long long)g->attrs.oa);
		return;
	}
	if (g->leaf) {
		hs_sb_printf(sb, "\u2192 PA 0x%016llx ", (unsigned long long)g->pa_start);
		hs_pt_attrs_describe(sb, &g->attrs);
	} else {
		hs_pt_attrs_describe(sb, &g->attrs);
	}
	hs_sb_printf(sb, " (%llu %s)", (unsigned long long)g->nr_entries, unit_name(g));
}

void hs_pt_range_json(struct hs_strbuf *sb, const struct hs_pt_range *g)
{
	hs_sb_printf(sb,
		     "{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"size\":\"0x%llx\",\"kind\":\"%s\","
		     "\"levels\":[%d,%d],\"entries\":%llu,\"desc_pa\":\"0x%llx\"",
		     (unsigned long long)g->va_start, (unsigned long long)g->va_end,
		     (unsigned long long)(g->va_end - g->va_start),
		     g->malformed ? "malformed" : hs_pt_kind_name(g->kind), g->level_min,
		     g->level_max, (unsigned long long)g->nr_entries,
		     (unsigned long long)g->desc_pa);
	if (g->leaf)
		hs_sb_printf(sb, ",\"pa\":\"0x%llx\"", (unsigned long long)g->pa_start);
	if (g->malformed) {
		hs_sb_puts(sb, ",\"why\":");
		hs_sb_json_str(sb, hs_pt_malformed_name(g->why));
	}
	if (g->owner >= 0)
		hs_sb_printf(sb, ",\"owner\":\"%s\"",
			     hs_swenc_owner_name(g->attrs.swenc, (unsigned)g->owner));
	hs_sb_puts(sb, ",\"attrs\":");
	hs_pt_attrs_json(sb, &g->attrs);
	hs_sb_putc(sb, '}');
}

struct text_state {
	struct hs_strbuf *sb;
	uint64_t leaves, leaf_entries, invalid, annotated, malformed;
	bool json_first;
};

static void count(struct text_state *s, const struct hs_pt_range *g)
{
	if (g->malformed)
		s->malformed++;
	else if (g->leaf) {
		s->leaves++;
		s->leaf_entries += g->nr_entries;
	} else if (g->kind == HS_PT_K_ANNOTATION)
		s->annotated++;
	else
		s->invalid++;
}

static int text_range(const struct hs_pt_range *g, void *arg)
{
	struct text_state *s = arg;
	count(s, g);
	hs_pt_range_text(s->sb, g);
	hs_sb_putc(s->sb, '\n');
	return 0;
}

int hs_pt_dump_text(const struct hs_phys *phys, const struct hs_pt_regime *r,
		    const struct hs_pt_filter *filter, struct hs_strbuf *sb)
{
	struct text_state s = {.sb = sb};
	if (!r || !sb)
		return -EINVAL;
	hs_pt_regime_describe(sb, r);
	hs_sb_putc(sb, '\n');
	int ret = hs_pt_dump_ranges(phys, r, filter, text_range, &s);
	if (ret)
		return ret;
	hs_sb_printf(sb,
		     "%llu ranges: %llu mapped (%llu entries), %llu invalid, %llu annotated, "
		     "%llu malformed\n",
		     (unsigned long long)(s.leaves + s.invalid + s.annotated + s.malformed),
		     (unsigned long long)s.leaves, (unsigned long long)s.leaf_entries,
		     (unsigned long long)s.invalid, (unsigned long long)s.annotated,
		     (unsigned long long)s.malformed);
	return 0;
}

static int json_range(const struct hs_pt_range *g, void *arg)
{
	struct text_state *s = arg;
	count(s, g);
	if (!s->json_first)
		hs_sb_putc(s->sb, ',');
	s->json_first = false;
	hs_pt_range_json(s->sb, g);
	return 0;
}

int hs_pt_dump_json(const struct hs_phys *phys, const struct hs_pt_regime *r,
		    const struct hs_pt_filter *filter, struct hs_strbuf *sb)
{
	struct text_state s = {.sb = sb, .json_first = true};
	if (!r || !sb)
		return -EINVAL;
	hs_sb_printf(sb,
		     "{\"regime\":{\"stage\":\"%s\",\"granule\":%u,\"ia_bits\":%u,\"pa_bits\":%u,"
		     "\"start_level\":%d,\"nr_concat\":%u,\"root\":\"0x%llx\",\"vmid\":%u,"
		     "\"mmu_off\":%s},\"ranges\":[",
		     hs_pt_stage_name(r->stage), 1u << r->granule_shift, r->ia_bits, r->pa_bits,
		     r->start_level, r->nr_concat, (unsigned long long)r->root_pa, r->vmid,
		     r->mmu_off ? "true" : "false");
	int ret = hs_pt_dump_ranges(phys, r, filter, json_range, &s);
	if (ret)
		return ret;
	hs_sb_printf(sb,
		     "],\"summary\":{\"mapped\":%llu,\"mapped_entries\":%llu,\"invalid\":%llu,"
		     "\"annotated\":%llu,\"malformed\":%llu}}",
		     (unsigned long long)s.leaves, (unsigned long long)s.leaf_entries,
		     (unsigned long long)s.invalid, (unsigned long long)s.annotated,
		     (unsigned long long)s.malformed);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* DOT                                                                       */
/* ------------------------------------------------------------------------ */

struct dot_table {
	uint64_t pa;
	int level;
	struct merger m;
	struct hs_strbuf lines;
	unsigned nlines, omitted;
};

struct dot_state {
	const struct hs_pt_regime *r;
	const struct hs_pt_filter *filter;
	struct hs_strbuf *sb;
	struct dot_table tab[HS_PT_MAX_LEVELS + 1];
	int depth;
	unsigned nbad;
};

/* Append s escaped for a DOT double-quoted label, one label line ("\l"). */
static void dot_escape(struct hs_strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			hs_sb_putc(sb, '\\');
		hs_sb_putc(sb, *s);
	}
	hs_sb_puts(sb, "\\l");
}

static int dot_line(const struct hs_pt_range *g, void *arg)
{
	struct dot_table *t = arg;
	if (t->nlines >= HS_PT_DOT_MAX_LINES) {
		t->omitted++;
		return 0;
	}
	struct hs_strbuf l;
	hs_sb_init(&l);
	hs_sb_printf(&l, "0x%llx-0x%llx ", (unsigned long long)g->va_start,
		     (unsigned long long)(g->va_end - 1));
	if (g->malformed)
		hs_sb_printf(&l, "MALFORMED %s", hs_pt_malformed_name(g->why));
	else if (g->leaf)
		hs_sb_printf(&l, "-> 0x%llx ", (unsigned long long)g->pa_start);
	if (!g->malformed)
		hs_pt_attrs_token(&l, &g->attrs);
	if (g->nr_entries > 1)
		hs_sb_printf(&l, " x%llu", (unsigned long long)g->nr_entries);
	dot_escape(&t->lines, hs_sb_str(&l));
	hs_sb_free(&l);
	t->nlines++;
	return 0;
}

static void dot_push(struct dot_state *d, uint64_t pa, int level)
{
	struct dot_table *t = &d->tab[d->depth++];
	t->pa = pa;
	t->level = level;
	t->nlines = t->omitted = 0;
	hs_sb_reset(&t->lines);
	merger_init(&t->m, d->r, d->filter, dot_line, t);
	hs_sb_printf(d->sb, "  t%llx [label=\"L%d table\\nPA 0x%llx\"];\n", (unsigned long long)pa,
		     level, (unsigned long long)pa);
}

static int dot_pop(struct dot_state *d)
{
	struct dot_table *t = &d->tab[--d->depth];
	int ret = merger_flush(&t->m);
	if (ret)
		return ret;
	if (t->omitted)
		hs_sb_printf(&t->lines, "... %u more ranges\\l", t->omitted);
	if (t->nlines) {
		hs_sb_printf(d->sb,
			     "  t%llx_l [shape=note,fontname=monospace,label=\"%s\"];\n"
			     "  t%llx -> t%llx_l [style=dotted];\n",
			     (unsigned long long)t->pa, hs_sb_str(&t->lines),
			     (unsigned long long)t->pa, (unsigned long long)t->pa);
	}
	return 0;
}

static int dot_walker(const struct hs_pt_visit_ctx *ctx)
{
	struct dot_state *d = ctx->arg;
	struct dot_table *cur = &d->tab[d->depth - 1];
	uint64_t idx = (ctx->desc_pa - cur->pa) / 8;

	switch (ctx->visit) {
	case HS_PT_VISIT_TABLE_PRE:
		dot_push(d, ctx->table_pa, ctx->level + 1);
		hs_sb_printf(d->sb, "  t%llx -> t%llx [label=\"[%llu] 0x%llx\"];\n",
			     (unsigned long long)cur->pa, (unsigned long long)ctx->table_pa,
			     (unsigned long long)idx, (unsigned long long)ctx->addr);
		return 0;
	case HS_PT_VISIT_TABLE_POST:
		return dot_pop(d);
	case HS_PT_VISIT_MALFORMED:
		if (ctx->kind != HS_PT_K_TABLE)
			return merger_feed(&cur->m, ctx);
		if (ctx->why == HS_PT_MAL_LOOP || ctx->why == HS_PT_MAL_SHARED) {
			hs_sb_printf(
			    d->sb,
			    "  t%llx -> t%llx [color=red,style=dashed,label=\"[%llu] %s\"];\n",
			    (unsigned long long)cur->pa, (unsigned long long)ctx->table_pa,
			    (unsigned long long)idx,
			    ctx->why == HS_PT_MAL_LOOP ? "LOOP" : "SHARED");
			return 0;
		}
		hs_sb_printf(d->sb,
			     "  bad%u [color=red,label=\"MALFORMED\\n%s\\n0x%llx\"];\n"
			     "  t%llx -> bad%u [color=red,label=\"[%llu]\"];\n",
			     d->nbad, hs_pt_malformed_name(ctx->why),
			     (unsigned long long)ctx->table_pa, (unsigned long long)cur->pa,
			     d->nbad, (unsigned long long)idx);
		d->nbad++;
		return 0;
	default:
		return merger_feed(&cur->m, ctx);
	}
}

int hs_pt_dump_dot(const struct hs_phys *phys, const struct hs_pt_regime *r,
		   const struct hs_pt_filter *filter, struct hs_strbuf *sb)
{
	if (!phys || !r || !sb)
		return -EINVAL;
	struct dot_state d = {.r = r, .filter = filter, .sb = sb};
	struct hs_pt_filter f;
	if (filter)
		f = *filter;
	else
		hs_pt_filter_init(&f);
	for (int i = 0; i <= HS_PT_MAX_LEVELS; i++)
		hs_sb_init(&d.tab[i].lines);
	hs_sb_puts(sb, "digraph pagetable {\n  rankdir=LR;\n  node [shape=box];\n  label=\"");
	struct hs_strbuf title;
	hs_sb_init(&title);
	hs_pt_regime_describe(&title, r);
	for (const char *p = hs_sb_str(&title); *p; p++) {
		if (*p == '"' || *p == '\\')
			hs_sb_putc(sb, '\\');
		hs_sb_putc(sb, *p);
	}
	hs_sb_free(&title);
	hs_sb_puts(sb, "\";\n");
	int ret = 0;
	if (!r->mmu_off) {
		struct hs_pt_visitor v = {.cb = dot_walker, .arg = &d, .flags = HS_PT_VISIT_ALL};
		dot_push(&d, r->root_pa, r->start_level);
		ret = hs_pt_walk(phys, r, f.va_start, f.va_end ? f.va_end : hs_pt_ia_end(r), &v);
		/* An unreadable root arrives as a MALFORMED visit and is a line of the root. */
		while (d.depth > 0) {
			int r2 = dot_pop(&d);
			if (!ret)
				ret = r2;
		}
	}
	for (int i = 0; i <= HS_PT_MAX_LEVELS; i++)
		hs_sb_free(&d.tab[i].lines);
	hs_sb_puts(sb, "}\n");
	return ret;
}
