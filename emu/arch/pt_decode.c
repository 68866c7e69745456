/* SPDX-License-Identifier: MIT */
/* Descriptor and attribute decoding, from the Arm ARM descriptor formats. */
#include "pt_decode.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BIT(n) (1ULL << (n))

/* ------------------------------------------------------------------------ */
/* Memory types                                                              */
/* ------------------------------------------------------------------------ */

/* One MAIR nibble of a Normal memory type (Outer or Inner). */
static void mair_nibble(unsigned n, char *buf, size_t len)
{
	const char *type;
	bool hints = true;
	if (n == 0x4) {
		type = "NC";
		hints = false;
	} else if ((n & 0xc) == 0x0) {
		type = "WT-T"; /* write-through transient */
	} else if ((n & 0xc) == 0x4) {
		type = "WB-T"; /* write-back transient */
	} else if ((n & 0xc) == 0x8) {
		type = "WT";
	} else {
		type = "WB";
	}
	snprintf(buf, len, "%s%s%s", type, hints && (n & 2) ? " RA" : "",
		 hints && (n & 1) ? " WA" : "");
}

void hs_pt_mair_str(uint8_t attr, char *buf, size_t len)
{
	static const char *const dev[4] = {"nGnRnE", "nGnRE", "nGRE", "GRE"};
	unsigned hi = attr >> 4, lo = attr & 0xf;
	if (hi == 0) {
		if ((lo & 3) == 0)
			snprintf(buf, len, "Device-%s", dev[lo >> 2]);
		else if ((lo & 3) == 1)
			snprintf(buf, len, "Device-%s XS=0", dev[lo >> 2]);
		else
			snprintf(buf, len, "reserved (0x%02x)", attr);
		return;
	}
	if (attr == 0x40) {
		snprintf(buf, len, "Normal NC XS=0");
		return;
	}
	if (attr == 0xa0) {
		snprintf(buf, len, "Normal WT XS=0");
		return;
	}
	if (attr == 0xf0) {
		snprintf(buf, len, "Normal Tagged WB RA WA");
		return;
	}
	if (lo == 0) {
		snprintf(buf, len, "reserved (0x%02x)", attr);
		return;
	}
	char in[16], out[16];
	mair_nibble(lo, in, sizeof(in));
	mair_nibble(hi, out, sizeof(out));
	if (hi == lo)
		snprintf(buf, len, "Normal %s", in);
	else
		snprintf(buf, len, "Normal i:%s o:%s", in, out);
}

void hs_pt_s2_memattr_str(unsigned memattr, char *buf, size_t len)
{
	static const char *const dev[4] = {"nGnRnE", "nGnRE", "nGRE", "GRE"};
	static const char *const cache[4] = {"reserved", "NC", "WT", "WB"};
	unsigned outer = (memattr >> 2) & 3, inner = memattr & 3;
	if (outer == 0) {
		snprintf(buf, len, "Device-%s", dev[inner]);
		return;
	}
	if (inner == 0)
		snprintf(buf, len, "reserved (MemAttr 0x%x)", memattr & 0xf);
	else if (inner == outer)
		snprintf(buf, len, "Normal %s", cache[inner]);
	else
		snprintf(buf, len, "Normal i:%s o:%s", cache[inner], cache[outer]);
}

const char *hs_pt_perm_str(unsigned perm, char buf[4])
{
	buf[0] = perm & HS_PT_PERM_R ? 'r' : '-';
	buf[1] = perm & HS_PT_PERM_W ? 'w' : '-';
	buf[2] = perm & HS_PT_PERM_X ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Descriptors                                                               */
/* ------------------------------------------------------------------------ */

static void decode_s1_leaf(const struct hs_pt_regime *r, uint64_t d, unsigned hier,
			   struct hs_pt_attrs *a)
{
	a->attr_idx = (d >> 2) & 7;
	a->mair_attr = (uint8_t)(r->mair >> (8 * a->attr_idx));
	hs_pt_mair_str(a->mair_attr, a->memtype, sizeof(a->memtype));
	a->device = (a->mair_attr >> 4) == 0;
	a->ns = (d & BIT(5)) || (hier & HS_PT_HIER_NS);
	a->ap = (d >> 6) & 3;
	a->gp = d & BIT(50);
	bool no_write = (a->ap & 2) || (hier & HS_PT_HIER_NO_WRITE);
	if (r->stage == HS_PT_S1_EL2) {
		/* One privilege level: AP[2] selects RW/RO, AP[1] is RES1. */
		a->xn = (d & BIT(54)) || (hier & HS_PT_HIER_XN);
		a->perm = HS_PT_PERM_R | (no_write ? 0 : HS_PT_PERM_W) | (a->xn ? 0 : HS_PT_PERM_X);
		return;
	}
	/* EL1&0: AP[1] grants EL0 access; PXN/UXN per level. */
	a->ng = d & BIT(11);
	a->xn = (d & BIT(54)) || (hier & HS_PT_HIER_XN);
	a->pxn = (d & BIT(53)) || (hier & HS_PT_HIER_PXN);
	bool el0 = (a->ap & 1) && !(hier & HS_PT_HIER_NO_EL0);
	bool el0_w = el0 && !no_write;
	/* A region writable at EL0 is never executable at EL1. */
	bool el1_x = !a->pxn && !el0_w;
	a->perm = HS_PT_PERM_R | (no_write ? 0 : HS_PT_PERM_W) | (el1_x ? HS_PT_PERM_X : 0);
	a->el0_perm =
	    (el0 ? HS_PT_PERM_R : 0) | (el0_w ? HS_PT_PERM_W : 0) | (a->xn ? 0 : HS_PT_PERM_X);
}

static void decode_s2_leaf(uint64_t d, struct hs_pt_attrs *a)
{
	a->memattr = (d >> 2) & 0xf;
	hs_pt_s2_memattr_str(a->memattr, a->memtype, sizeof(a->memtype));
	a->device = ((a->memattr >> 2) & 3) == 0;
	a->s2ap = (d >> 6) & 3;
	a->xnx = (d >> 53) & 3;
	a->xn = d & BIT(54);
	a->perm = (a->s2ap & 1 ? HS_PT_PERM_R : 0) | (a->s2ap & 2 ? HS_PT_PERM_W : 0) |
		  (a->xn ? 0 : HS_PT_PERM_X);
}

void hs_pt_decode(const struct hs_pt_regime *r, int level, uint64_t d, unsigned hier,
		  struct hs_pt_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->stage = r->stage;
	a->swenc = r->swenc;
	a->level = level;
	a->raw = d;
	a->valid = d & 1;
	a->kind = hs_pt_classify(r, level, d, &a->why);
	a->size = hs_pt_level_size(r, level);
	switch (a->kind) {
	case HS_PT_K_INVALID:
		return;
	case HS_PT_K_ANNOTATION:
		a->annotated = true;
		a->owner = hs_swenc_owner(r->swenc, d);
		a->meta = hs_swenc_meta(r->swenc, d);
		if (r->swenc->guest_owner >= 0 && a->owner == (unsigned)r->swenc->guest_owner) {
			a->guest = true;
			a->handle = (uint16_t)(a->meta & r->swenc->guest_handle_mask);
			a->gfn = a->meta >> r->swenc->guest_gfn_shift;
		}
		return;
	case HS_PT_K_RESERVED:
		return;
	case HS_PT_K_TABLE:
		a->oa = hs_pt_desc_oa(r, d);
		if (r->stage != HS_PT_S2) {
			a->hier = 0;
			if (d & BIT(63))
				a->hier |= HS_PT_HIER_NS;
			if (d & BIT(62))
				a->hier |= HS_PT_HIER_NO_WRITE;
			if (d & BIT(61))
				a->hier |= HS_PT_HIER_NO_EL0;
			if (d & BIT(60))
				a->hier |= HS_PT_HIER_XN;
			if (d & BIT(59))
				a->hier |= HS_PT_HIER_PXN;
		}
		return;
	case HS_PT_K_BLOCK:
	case HS_PT_K_PAGE:
		break;
	}
	a->oa = hs_pt_desc_oa(r, d) & ~(a->size - 1);
	a->sh = (d >> 8) & 3;
	a->af = d & BIT(10);
	a->dbm = d & BIT(51);
	a->contig = d & BIT(52);
	a->sw = (unsigned)(d >> 55) & 0xf;
	a->state = hs_swenc_state(r->swenc, d);
	if (r->stage == HS_PT_S2)
		decode_s2_leaf(d, a);
	else
		decode_s1_leaf(r, d, r->hpd ? (hier & HS_PT_HIER_NS) : hier, a);
}

void hs_pt_decode_ctx(const struct hs_pt_visit_ctx *ctx, struct hs_pt_attrs *out)
{
	hs_pt_decode(ctx->regime, ctx->level, ctx->desc, ctx->hier, out);
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

void hs_pt_attrs_token(struct hs_strbuf *sb, const struct hs_pt_attrs *a)
{
	char p[4];
	switch (a->kind) {
	case HS_PT_K_INVALID:
		hs_sb_puts(sb, "INVALID");
		return;
	case HS_PT_K_ANNOTATION:
		hs_sb_printf(sb, "OWNER %s", hs_swenc_owner_name(a->swenc, a->owner));
		if (a->guest)
			hs_sb_printf(sb, " h=0x%x gfn=0x%llx", a->handle,
				     (unsigned long long)a->gfn);
		else if (a->meta)
			hs_sb_printf(sb, " meta=0x%llx", (unsigned long long)a->meta);
		return;
	case HS_PT_K_TABLE:
		hs_sb_puts(sb, "TABLE");
		return;
	case HS_PT_K_RESERVED:
		hs_sb_puts(sb, "RESERVED");
		return;
	case HS_PT_K_BLOCK:
	case HS_PT_K_PAGE:
		break;
	}
	if (a->stage == HS_PT_S2) {
		hs_pt_perm_str(a->perm, p);
		for (int i = 0; i < 3; i++)
			p[i] = (char)toupper((unsigned char)p[i]);
		hs_sb_printf(sb, "S2 %s %s", p, a->device ? "DEVICE" : "NORMAL");
		return;
	}
	hs_sb_printf(sb, "%s-%s-%s", a->device ? "DEV" : "MEM",
		     a->perm & HS_PT_PERM_W ? "RW" : "RO", a->perm & HS_PT_PERM_X ? "EXEC" : "XN");
	if (a->stage == HS_PT_S1_EL1 && a->el0_perm)
		hs_sb_printf(sb, "-EL0:%s", hs_pt_perm_str(a->el0_perm, p));
	if (a->ns)
		hs_sb_puts(sb, "-NS");
}

static const char *sh_name(unsigned sh)
{
	static const char *const n[4] = {"NSH", "SH?", "OSH", "ISH"};
	return n[sh & 3];
}

void hs_pt_attrs_describe(struct hs_strbuf *sb, const struct hs_pt_attrs *a)
{
	hs_pt_attrs_token(sb, a);
	if (a->kind == HS_PT_K_INVALID && a->raw)
		hs_sb_printf(sb, " (raw 0x%016llx)", (unsigned long long)a->raw);
	if (a->kind == HS_PT_K_RESERVED)
		hs_sb_printf(sb, " (%s)", hs_pt_malformed_name(a->why));
	if (a->kind == HS_PT_K_TABLE)
		hs_sb_printf(sb, " -> 0x%llx", (unsigned long long)a->oa);
	if (a->kind != HS_PT_K_BLOCK && a->kind != HS_PT_K_PAGE)
		return;
	hs_sb_printf(sb, " %s %s%s%s%s", a->memtype, sh_name(a->sh), a->af ? " AF" : " !AF",
		     a->ng ? " nG" : "", a->contig ? " CONT" : "");
	if (a->stage != HS_PT_S2)
		hs_sb_printf(sb, " AttrIndx=%u", a->attr_idx);
	if (a->sw)
		hs_sb_printf(sb, " state=%s sw=0x%x", hs_swenc_state_name(a->swenc, a->state),
			     a->sw);
}

void hs_pt_attrs_json(struct hs_strbuf *sb, const struct hs_pt_attrs *a)
{
	char p[4];
	struct hs_strbuf tok;
	hs_sb_init(&tok);
	hs_pt_attrs_token(&tok, a);
	hs_sb_printf(sb, "{\"kind\":\"%s\",\"level\":%d,\"raw\":\"0x%016llx\",\"token\":",
		     hs_pt_kind_name(a->kind), a->level, (unsigned long long)a->raw);
	hs_sb_json_str(sb, hs_sb_str(&tok));
	hs_sb_free(&tok);
	if (a->kind == HS_PT_K_TABLE)
		hs_sb_printf(sb, ",\"next\":\"0x%llx\"", (unsigned long long)a->oa);
	if (a->kind == HS_PT_K_ANNOTATION) {
		hs_sb_printf(sb, ",\"owner\":\"%s\",\"owner_id\":%u,\"meta\":\"0x%llx\"",
			     hs_swenc_owner_name(a->swenc, a->owner), a->owner,
			     (unsigned long long)a->meta);
		if (a->guest)
			hs_sb_printf(sb, ",\"handle\":%u,\"gfn\":\"0x%llx\"", a->handle,
				     (unsigned long long)a->gfn);
	}
	if (a->kind == HS_PT_K_BLOCK || a->kind == HS_PT_K_PAGE) {
		hs_sb_printf(sb, ",\"oa\":\"0x%llx\",\"perm\":\"%s\",\"memtype\":",
			     (unsigned long long)a->oa, hs_pt_perm_str(a->perm, p));
		hs_sb_json_str(sb, a->memtype);
		hs_sb_printf(sb,
			     ",\"device\":%s,\"sh\":%u,\"af\":%s,\"contig\":%s,\"sw\":%u,"
			     "\"state\":\"%s\"",
			     a->device ? "true" : "false", a->sh, a->af ? "true" : "false",
			     a->contig ? "true" : "false", a->sw,
			     hs_swenc_state_name(a->swenc, a->state));
		if (a->stage == HS_PT_S2)
			hs_sb_printf(sb, ",\"memattr\":%u,\"s2ap\":%u,\"xn\":%u", a->memattr,
				     a->s2ap, a->xnx);
		else
			hs_sb_printf(sb, ",\"attr_idx\":%u,\"mair\":\"0x%02x\",\"ap\":%u,\"xn\":%s",
				     a->attr_idx, a->mair_attr, a->ap, a->xn ? "true" : "false");
		if (a->stage == HS_PT_S1_EL1)
			hs_sb_printf(sb, ",\"pxn\":%s,\"ng\":%s,\"el0_perm\":\"%s\"",
				     a->pxn ? "true" : "false", a->ng ? "true" : "false",
				     hs_pt_perm_str(a->el0_perm, p));
	}
	hs_sb_putc(sb, '}');
}

void hs_pt_regime_describe(struct hs_strbuf *sb, const struct hs_pt_regime *r)
{
	if (r->mmu_off) {
		hs_sb_printf(sb, "%s: MMU off (flat)", hs_pt_stage_name(r->stage));
		return;
	}
	hs_sb_printf(sb, "%s: %u KiB granule, %u-bit input, %u-bit output, start level %d",
		     hs_pt_stage_name(r->stage), 1u << (r->granule_shift - 10), r->ia_bits,
		     r->pa_bits, r->start_level);
	if (r->nr_concat > 1)
		hs_sb_printf(sb, " (%u concatenated tables)", r->nr_concat);
	hs_sb_printf(sb, ", root 0x%llx", (unsigned long long)r->root_pa);
	if (r->stage == HS_PT_S2)
		hs_sb_printf(sb, ", VMID %u", r->vmid);
	if (r->stage == HS_PT_S1_EL1)
		hs_sb_printf(sb, ", ASID %u", r->asid);
	if (r->walks_disabled)
		hs_sb_puts(sb, ", walks disabled (EPD0)");
}
