/* SPDX-License-Identifier: MIT */
/*
 * Architectural translation-table walker: regimes from control registers and
 * one generic walk with visitors. Written from the Arm ARM (VMSAv8-64), not
 * from hyp/.
 */
#include "pt_walk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIT(n) (1ULL << (n))
#define GENMASK(h, l) (((~0ULL) >> (63 - (h))) & ~((1ULL << (l)) - 1))

/* ------------------------------------------------------------------------ */
/* Geometry                                                                  */
/* ------------------------------------------------------------------------ */

static unsigned stride(const struct hs_pt_regime *r)
{
	return r->granule_shift - 3;
}

unsigned hs_pt_level_shift(const struct hs_pt_regime *r, int level)
{
	return r->granule_shift + (unsigned)(3 - level) * stride(r);
}

uint64_t hs_pt_level_size(const struct hs_pt_regime *r, int level)
{
	return BIT(hs_pt_level_shift(r, level));
}

uint64_t hs_pt_root_entries(const struct hs_pt_regime *r)
{
	return BIT(r->ia_bits - hs_pt_level_shift(r, r->start_level));
}

uint64_t hs_pt_ia_end(const struct hs_pt_regime *r)
{
	return BIT(r->ia_bits);
}

uint64_t hs_pt_desc_oa(const struct hs_pt_regime *r, uint64_t desc)
{
	uint64_t oa = desc & GENMASK(47, r->granule_shift);
	/* 64 KiB granule with a 52-bit PA (FEAT_LPA): OA[51:48] in desc[15:12]. */
	if (r->granule_shift == 16 && r->pa_bits == 52)
		oa |= ((desc >> 12) & 0xf) << 48;
	return oa;
}

const char *hs_pt_stage_name(enum hs_pt_stage stage)
{
	switch (stage) {
	case HS_PT_S1_EL2:
		return "EL2 stage 1";
	case HS_PT_S2:
		return "stage 2";
	case HS_PT_S1_EL1:
		return "EL1 stage 1";
	}
	return "?";
}

const char *hs_pt_kind_name(enum hs_pt_kind kind)
{
	switch (kind) {
	case HS_PT_K_INVALID:
		return "invalid";
	case HS_PT_K_ANNOTATION:
		return "annotation";
	case HS_PT_K_TABLE:
		return "table";
	case HS_PT_K_BLOCK:
		return "block";
	case HS_PT_K_PAGE:
		return "page";
	case HS_PT_K_RESERVED:
		return "reserved";
	}
	return "?";
}

const char *hs_pt_malformed_name(enum hs_pt_malformed why)
{
	switch (why) {
	case HS_PT_MAL_NONE:
		return "none";
	case HS_PT_MAL_UNREADABLE:
		return "table outside RAM";
	case HS_PT_MAL_LOOP:
		return "table loop (points at an ancestor)";
	case HS_PT_MAL_SHARED:
		return "table reached twice";
	case HS_PT_MAL_RESERVED:
		return "reserved encoding";
	case HS_PT_MAL_OA_RANGE:
		return "address above PA size";
	}
	return "?";
}

/* Can a block descriptor appear at this level for this granule/PA size? */
static bool block_allowed(const struct hs_pt_regime *r, int level)
{
	switch (r->granule_shift) {
	case 12:
		return level == 1 || level == 2; /* level 0 only with FEAT_LPA2 */
	case 14:
		return level == 2; /* level 1 only with FEAT_LPA2 */
	case 16:
		return level == 2 || (level == 1 && r->pa_bits == 52);
	}
	return false;
}

enum hs_pt_kind hs_pt_classify(const struct hs_pt_regime *r, int level, uint64_t desc,
			       enum hs_pt_malformed *why)
{
	if (why)
		*why = HS_PT_MAL_NONE;
	if (!(desc & 1)) {
		if (r->stage == HS_PT_S2 && hs_swenc_is_annotation(r->swenc, desc))
			return HS_PT_K_ANNOTATION;
		return HS_PT_K_INVALID;
	}
	if (level == 3) {
		if (desc & 2)
			return HS_PT_K_PAGE;
	} else if (desc & 2) {
		return HS_PT_K_TABLE;
	} else if (block_allowed(r, level)) {
		return HS_PT_K_BLOCK;
	}
	if (why)
		*why = HS_PT_MAL_RESERVED;
	return HS_PT_K_RESERVED;
}

/* ------------------------------------------------------------------------ */
/* Regimes                                                                   */
/* ------------------------------------------------------------------------ */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const unsigned ps_bits[8] = {32, 36, 40, 42, 44, 48, 52, 0};

/* TG0 of TCR_EL2, VTCR_EL2 and TCR_EL1: 00 = 4K, 01 = 64K, 10 = 16K. */
static int tg0_shift(unsigned tg0)
{
	static const int shifts[4] = {12, 16, 14, -1};
	return shifts[tg0 & 3];
}

static int decode_ps(const char *reg, unsigned ps, unsigned gs, unsigned *pa_bits, char *err,
		     size_t errlen)
{
	if (ps > 6)
		return fail(err, errlen, "%s: PS=%u is reserved", reg, ps);
	if (ps == 6 && gs != 16)
		return fail(err, errlen,
			    "%s: PS=0b110 (52-bit) with a %u KiB granule needs FEAT_LPA2 "
			    "(not modelled)",
			    reg, 1u << (gs - 10));
	*pa_bits = ps_bits[ps];
	return 0;
}

static int check_t0sz(const char *reg, unsigned t0sz, unsigned gs, unsigned pa_bits, char *err,
		      size_t errlen)
{
	unsigned min = (gs == 16 && pa_bits == 52) ? 12 : 16;
	if (t0sz < min || t0sz > 39)
		return fail(err, errlen, "%s: T0SZ=%u out of range %u..39 (%u-bit input)", reg,
			    t0sz, min, 64 - t0sz);
	return 0;
}

/* Start level of a stage 1 walk: the level that resolves the top IA bits. */
static int s1_start_level(unsigned ia_bits, unsigned gs)
{
	unsigned s = gs - 3;
	unsigned levels = (ia_bits - gs + s - 1) / s; /* ceil */
	return 4 - (int)levels;
}

static uint64_t table_base(uint64_t ttbr, const struct hs_pt_regime *r)
{
	uint64_t base = ttbr & GENMASK(47, 1);
	if (r->granule_shift == 16 && r->pa_bits == 52)
		base = (ttbr & GENMASK(47, 6)) | (((ttbr >> 2) & 0xf) << 48);
	return base;
}

static int check_root(const char *reg, struct hs_pt_regime *r, char *err, size_t errlen)
{
	uint64_t bytes = hs_pt_root_entries(r) * 8;
	uint64_t align = bytes < 64 ? 64 : bytes;
	if (r->root_pa & (align - 1))
		return fail(err, errlen,
			    "%s: base 0x%llx not aligned to the %llu-byte root table%s", reg,
			    (unsigned long long)r->root_pa, (unsigned long long)bytes,
			    r->nr_concat > 1 ? " (concatenated)" : "");
	if (r->pa_bits < 64 && r->root_pa >= BIT(r->pa_bits))
		return fail(err, errlen, "%s: base 0x%llx above the %u-bit PA size", reg,
			    (unsigned long long)r->root_pa, r->pa_bits);
	return 0;
}

static void set_concat(struct hs_pt_regime *r)
{
	uint64_t per_page = BIT(stride(r));
	uint64_t n = hs_pt_root_entries(r);
	r->nr_concat = n > per_page ? (unsigned)(n / per_page) : 1;
}

int hs_pt_regime_el2(uint64_t tcr, uint64_t ttbr0, uint64_t mair, struct hs_pt_regime *out,
		     char *err, size_t errlen)
{
	struct hs_pt_regime r = {.stage = HS_PT_S1_EL2, .mair = mair, .nr_concat = 1};
	unsigned t0sz = tcr & 0x3f;
	int gs = tg0_shift((tcr >> 14) & 3);
	if (gs < 0)
		return fail(err, errlen, "TCR_EL2: TG0=0b11 is reserved");
	r.granule_shift = (unsigned)gs;
	if (decode_ps("TCR_EL2", (tcr >> 16) & 7, r.granule_shift, &r.pa_bits, err, errlen))
		return -EINVAL;
	if (check_t0sz("TCR_EL2", t0sz, r.granule_shift, r.pa_bits, err, errlen))
		return -EINVAL;
	r.ia_bits = 64 - t0sz;
	r.start_level = s1_start_level(r.ia_bits, r.granule_shift);
	r.ha = tcr & BIT(21);
	r.hpd = tcr & BIT(24);
	r.root_pa = table_base(ttbr0, &r);
	set_concat(&r);
	if (check_root("TTBR0_EL2", &r, err, errlen))
		return -EINVAL;
	*out = r;
	return 0;
}

int hs_pt_regime_s2(uint64_t vtcr, uint64_t vttbr, struct hs_pt_regime *out, char *err,
		    size_t errlen)
{
	struct hs_pt_regime r = {.stage = HS_PT_S2};
	unsigned t0sz = vtcr & 0x3f;
	unsigned sl0 = (vtcr >> 6) & 3;
	int gs = tg0_shift((vtcr >> 14) & 3);
	if (gs < 0)
		return fail(err, errlen, "VTCR_EL2: TG0=0b11 is reserved");
	r.granule_shift = (unsigned)gs;
	if (decode_ps("VTCR_EL2", (vtcr >> 16) & 7, r.granule_shift, &r.pa_bits, err, errlen))
		return -EINVAL;
	if (check_t0sz("VTCR_EL2", t0sz, r.granule_shift, r.pa_bits, err, errlen))
		return -EINVAL;
	r.ia_bits = 64 - t0sz;
	if (sl0 == 3)
		return fail(err, errlen,
			    "VTCR_EL2: SL0=0b11 with a %u KiB granule is reserved (start level "
			    "%s needs %s, not modelled)",
			    1u << (r.granule_shift - 10), r.granule_shift == 12 ? "3" : "0",
			    r.granule_shift == 12 ? "FEAT_TTST" : "FEAT_LPA2");
	/* 4K: SL0 0/1/2 = level 2/1/0; 16K and 64K: SL0 0/1/2 = level 3/2/1. */
	r.start_level = (r.granule_shift == 12 ? 2 : 3) - (int)sl0;
	/*
	 * Consistency of SL0 with T0SZ: the start level must resolve at least
	 * one bit, and at most a full table plus 4 bits of concatenation (up to
	 * 16 tables).
	 */
	unsigned s = stride(&r);
	unsigned min_ia = (unsigned)(3 - r.start_level) * s + r.granule_shift + 1;
	unsigned max_ia = min_ia + s - 1 + 4;
	if (r.ia_bits < min_ia || r.ia_bits > max_ia)
		return fail(err, errlen,
			    "VTCR_EL2: T0SZ=%u (%u-bit IPA) inconsistent with SL0=%u (start "
			    "level %d takes %u..%u-bit IPAs)",
			    t0sz, r.ia_bits, sl0, r.start_level, min_ia, max_ia);
	r.ha = vtcr & BIT(21);
	r.vmid = (vtcr & BIT(19)) ? (uint16_t)(vttbr >> 48) : (uint16_t)((vttbr >> 48) & 0xff);
	r.root_pa = table_base(vttbr, &r);
	set_concat(&r);
	if (check_root("VTTBR_EL2", &r, err, errlen))
		return -EINVAL;
	*out = r;
	return 0;
}

int hs_pt_regime_el1(uint64_t sctlr, uint64_t tcr, uint64_t ttbr0, uint64_t mair,
		     struct hs_pt_regime *out, char *err, size_t errlen)
{
	struct hs_pt_regime r = {.stage = HS_PT_S1_EL1, .mair = mair, .nr_concat = 1};
	if (!(sctlr & 1)) {
		/* MMU off: flat, VA == IPA, checked against the PA size only. */
		r.mmu_off = true;
		r.granule_shift = 12;
		r.ia_bits = 48;
		r.pa_bits = 48;
		r.start_level = 0;
		*out = r;
		return 0;
	}
	unsigned t0sz = tcr & 0x3f;
	int gs = tg0_shift((tcr >> 14) & 3);
	if (gs < 0)
		return fail(err, errlen, "TCR_EL1: TG0=0b11 is reserved");
	r.granule_shift = (unsigned)gs;
	if (decode_ps("TCR_EL1 (IPS)", (tcr >> 32) & 7, r.granule_shift, &r.pa_bits, err, errlen))
		return -EINVAL;
	if (check_t0sz("TCR_EL1", t0sz, r.granule_shift, r.pa_bits, err, errlen))
		return -EINVAL;
	r.ia_bits = 64 - t0sz;
	r.start_level = s1_start_level(r.ia_bits, r.granule_shift);
	r.walks_disabled = tcr & BIT(7);
	r.ha = tcr & BIT(39);
	r.hpd = tcr & BIT(41);
	r.asid = (uint16_t)(ttbr0 >> 48);
	r.root_pa = table_base(ttbr0, &r);
	set_concat(&r);
	if (check_root("TTBR0_EL1", &r, err, errlen))
		return -EINVAL;
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The walker                                                                */
/* ------------------------------------------------------------------------ */

#define SET_EMPTY UINT64_MAX

struct walk {
	const struct hs_phys *phys;
	const struct hs_pt_regime *r;
	const struct hs_pt_visitor *v;
	uint64_t *buf[HS_PT_MAX_LEVELS]; /* one table page per level below the root */
	uint64_t path[HS_PT_MAX_LEVELS]; /* table PAs from the root to the current table */
	uint64_t path_len[HS_PT_MAX_LEVELS];
	int depth;
	uint64_t *set; /* visited tables: open addressing, SET_EMPTY = free slot */
	size_t set_cap, set_n;
};

static size_t set_hash(uint64_t pa, size_t cap)
{
	return (size_t)((pa >> 9) * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
}

static bool set_has(const struct walk *w, uint64_t pa)
{
	for (size_t i = set_hash(pa, w->set_cap);; i = (i + 1) & (w->set_cap - 1)) {
		if (w->set[i] == pa)
			return true;
		if (w->set[i] == SET_EMPTY)
			return false;
	}
}

static int set_add(struct walk *w, uint64_t pa)
{
	if ((w->set_n + 1) * 2 > w->set_cap) {
		size_t ncap = w->set_cap * 2;
		uint64_t *n = malloc(ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n, 0xff, ncap * sizeof(*n));
		for (size_t i = 0; i < w->set_cap; i++) {
			if (w->set[i] == SET_EMPTY)
				continue;
			size_t j = set_hash(w->set[i], ncap);
			while (n[j] != SET_EMPTY)
				j = (j + 1) & (ncap - 1);
			n[j] = w->set[i];
		}
		free(w->set);
		w->set = n;
		w->set_cap = ncap;
	}
	size_t i = set_hash(pa, w->set_cap);
	while (w->set[i] != SET_EMPTY)
		i = (i + 1) & (w->set_cap - 1);
	w->set[i] = pa;
	w->set_n++;
	return 0;
}

static unsigned table_hier(const struct hs_pt_regime *r, uint64_t desc, unsigned hier)
{
	if (r->stage == HS_PT_S2)
		return hier; /* stage 2 table descriptors carry no attributes */
	if (desc & BIT(63))
		hier |= HS_PT_HIER_NS;
	if (r->hpd)
		return hier;
	if (desc & BIT(62))
		hier |= HS_PT_HIER_NO_WRITE;
	if (desc & BIT(61))
		hier |= HS_PT_HIER_NO_EL0;
	if (desc & BIT(60))
		hier |= HS_PT_HIER_XN;
	if (desc & BIT(59))
		hier |= HS_PT_HIER_PXN;
	return hier;
}

static int visit(const struct walk *w, struct hs_pt_visit_ctx *ctx, unsigned which)
{
	if (!(w->v->flags & which))
		return 0;
	ctx->visit = which;
	return w->v->cb(ctx);
}

static bool on_path(const struct walk *w, uint64_t pa)
{
	for (int i = 0; i < w->depth; i++)
		if (pa >= w->path[i] && pa < w->path[i] + w->path_len[i])
			return true;
	return false;
}

static int walk_table(struct walk *w, const uint64_t *tbl, uint64_t tbl_pa, uint64_t nentries,
		      int level, uint64_t base, uint64_t start, uint64_t end, unsigned hier)
{
	const struct hs_pt_regime *r = w->r;
	unsigned shift = hs_pt_level_shift(r, level);
	uint64_t first = (start - base) >> shift;
	uint64_t last = (end - 1 - base) >> shift;
	uint64_t oa_limit = r->pa_bits < 64 ? BIT(r->pa_bits) : 0;
	int ret;

	if (last >= nentries)
		last = nentries - 1;
	for (uint64_t i = first; i <= last; i++) {
		uint64_t desc = tbl[i];
		struct hs_pt_visit_ctx ctx = {
		    .regime = r,
		    .level = level,
		    .addr = base + (i << shift),
		    .size = 1ULL << shift,
		    .nr_entries = 1,
		    .desc_pa = tbl_pa + i * 8,
		    .desc = desc,
		    .hier = hier,
		    .arg = w->v->arg,
		};
		if (desc == 0) {
			uint64_t j = i + 1;
			while (j <= last && tbl[j] == 0)
				j++;
			ctx.kind = HS_PT_K_INVALID;
			ctx.nr_entries = j - i;
			ctx.size = (j - i) << shift;
			ret = visit(w, &ctx, HS_PT_VISIT_INVALID);
			if (ret)
				return ret;
			i = j - 1;
			continue;
		}
		ctx.kind = hs_pt_classify(r, level, desc, &ctx.why);
		switch (ctx.kind) {
		case HS_PT_K_INVALID:
		case HS_PT_K_ANNOTATION:
			ret = visit(w, &ctx, HS_PT_VISIT_INVALID);
			break;
		case HS_PT_K_RESERVED:
			ret = visit(w, &ctx, HS_PT_VISIT_MALFORMED);
			break;
		case HS_PT_K_BLOCK:
		case HS_PT_K_PAGE:
			ctx.table_pa = hs_pt_desc_oa(r, desc);
			if (oa_limit && ctx.table_pa >= oa_limit) {
				ctx.why = HS_PT_MAL_OA_RANGE;
				ret = visit(w, &ctx, HS_PT_VISIT_MALFORMED);
			} else {
				ctx.table_pa = 0;
				ret = visit(w, &ctx, HS_PT_VISIT_LEAF);
			}
			break;
		case HS_PT_K_TABLE: {
			uint64_t next = hs_pt_desc_oa(r, desc);
			uint64_t bytes = 8ULL << stride(r);
			ctx.table_pa = next;
			if (oa_limit && next >= oa_limit)
				ctx.why = HS_PT_MAL_OA_RANGE;
			else if (on_path(w, next))
				ctx.why = HS_PT_MAL_LOOP;
			else if (set_has(w, next))
				ctx.why = HS_PT_MAL_SHARED;
			else if (w->phys->read(w->phys->ud, next, w->buf[level + 1], bytes))
				ctx.why = HS_PT_MAL_UNREADABLE;
			if (ctx.why != HS_PT_MAL_NONE) {
				ret = visit(w, &ctx, HS_PT_VISIT_MALFORMED);
				break;
			}
			if (set_add(w, next))
				return -ENOMEM;
			ret = visit(w, &ctx, HS_PT_VISIT_TABLE_PRE);
			if (ret)
				return ret;
			uint64_t cstart = ctx.addr > start ? ctx.addr : start;
			uint64_t cend = ctx.addr + ctx.size < end ? ctx.addr + ctx.size : end;
			w->path[w->depth] = next;
			w->path_len[w->depth] = bytes;
			w->depth++;
			ret = walk_table(w, w->buf[level + 1], next, 1ULL << stride(r), level + 1,
					 ctx.addr, cstart, cend, table_hier(r, desc, hier));
			w->depth--;
			if (ret)
				return ret;
			ret = visit(w, &ctx, HS_PT_VISIT_TABLE_POST);
			break;
		}
		default:
			ret = 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

bool hs_pt_regime_valid(const struct hs_pt_regime *r)
{
	if (r->granule_shift != 12 && r->granule_shift != 14 && r->granule_shift != 16)
		return false;
	if (r->start_level < 0 || r->start_level > 3 || r->ia_bits > 52 || r->pa_bits > 52 ||
	    r->pa_bits < 32)
		return false;
	unsigned top = hs_pt_level_shift(r, r->start_level);
	if (r->ia_bits <= top)
		return false;
	/* A full table plus at most 16 concatenated ones (stage 2). */
	unsigned extra = r->stage == HS_PT_S2 ? 4 : 0;
	return r->ia_bits - top <= stride(r) + extra;
}

int hs_pt_walk(const struct hs_phys *phys, const struct hs_pt_regime *r, uint64_t start,
	       uint64_t end, const struct hs_pt_visitor *v)
{
	if (!phys || !r || !v || !v->cb || !hs_pt_regime_valid(r))
		return -EINVAL;
	if (r->mmu_off || r->walks_disabled)
		return 0;
	uint64_t limit = hs_pt_ia_end(r);
	if (end > limit)
		end = limit;
	if (start >= end)
		return 0;

	struct walk w = {.phys = phys, .r = r, .v = v};
	uint64_t nroot = hs_pt_root_entries(r);
	uint64_t page = 8ULL << stride(r);
	uint64_t *root = malloc(nroot * 8);
	int ret = -ENOMEM;
	w.set_cap = 64;
	w.set = malloc(w.set_cap * sizeof(*w.set));
	if (!root || !w.set)
		goto out;
	memset(w.set, 0xff, w.set_cap * sizeof(*w.set));
	for (int l = r->start_level + 1; l < HS_PT_MAX_LEVELS; l++) {
		w.buf[l] = malloc(page);
		if (!w.buf[l])
			goto out;
	}
	if (phys->read(phys->ud, r->root_pa, root, nroot * 8)) {
		struct hs_pt_visit_ctx ctx = {
		    .regime = r,
		    .level = r->start_level,
		    .addr = 0,
		    .size = limit,
		    .nr_entries = nroot,
		    .desc_pa = r->root_pa,
		    .kind = HS_PT_K_TABLE,
		    .table_pa = r->root_pa,
		    .why = HS_PT_MAL_UNREADABLE,
		    .arg = v->arg,
		};
		ret = visit(&w, &ctx, HS_PT_VISIT_MALFORMED);
		goto out;
	}
	ret = set_add(&w, r->root_pa);
	if (ret)
		goto out;
	w.path[0] = r->root_pa;
	w.path_len[0] = nroot * 8;
	w.depth = 1;
	ret = walk_table(&w, root, r->root_pa, nroot, r->start_level, 0, start, end, 0);
out:
	for (int l = 0; l < HS_PT_MAX_LEVELS; l++)
		free(w.buf[l]);
	free(w.set);
	free(root);
	return ret;
}
