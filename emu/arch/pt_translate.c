/* SPDX-License-Identifier: MIT */
/* Translation with a per-level trace and architectural fault reporting. */
#include "pt_translate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BIT(n) (1ULL << (n))

const char *hs_pt_fault_name(enum hs_pt_fault_type type)
{
	switch (type) {
	case HS_PT_FAULT_NONE:
		return "none";
	case HS_PT_FAULT_TRANSLATION:
		return "translation fault";
	case HS_PT_FAULT_ADDR_SIZE:
		return "address size fault";
	case HS_PT_FAULT_ACCESS_FLAG:
		return "access flag fault";
	case HS_PT_FAULT_PERMISSION:
		return "permission fault";
	case HS_PT_FAULT_EXTERNAL:
		return "synchronous external abort on table walk";
	}
	return "?";
}

static void set_fault(struct hs_pt_trace *t, enum hs_pt_fault_type type, int level, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
static void set_fault(struct hs_pt_trace *t, enum hs_pt_fault_type type, int level, const char *fmt,
		      ...)
{
	va_list ap;
	t->ok = false;
	t->fault.type = type;
	t->fault.stage = t->stage;
	t->fault.level = level;
	t->fault.addr = t->in_addr;
	va_start(ap, fmt);
	vsnprintf(t->fault.reason, sizeof(t->fault.reason), fmt, ap);
	va_end(ap);
}

/*
 * Descriptor fetch: 0 = read, -1 = not RAM (external abort), 1 = the fetch
 * itself faulted at stage 2 (2-D walks; the fault is already recorded).
 */
typedef int (*fetch_fn)(void *arg, const struct hs_phys *phys, int level, uint64_t addr,
			uint64_t *pa, uint64_t *desc);

static int fetch_phys(void *arg, const struct hs_phys *phys, int level, uint64_t addr, uint64_t *pa,
		      uint64_t *desc)
{
	(void)arg;
	(void)level;
	*pa = addr;
	return phys->read(phys->ud, addr, desc, sizeof(*desc)) ? -1 : 0;
}

static const char *in_name(enum hs_pt_stage stage)
{
	return stage == HS_PT_S2 ? "IPA" : "VA";
}

static void step_meaning(struct hs_pt_trace_step *s)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (s->attrs.kind == HS_PT_K_BLOCK || s->attrs.kind == HS_PT_K_PAGE)
		hs_sb_printf(&sb, "%s 0x%llx ", hs_pt_kind_name(s->attrs.kind),
			     (unsigned long long)s->attrs.oa);
	hs_pt_attrs_describe(&sb, &s->attrs);
	snprintf(s->meaning, sizeof(s->meaning), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
}

static int translate_core(const struct hs_phys *phys, const struct hs_pt_regime *r, uint64_t in,
			  unsigned access, fetch_fn fetch, void *farg, struct hs_pt_trace *t)
{
	memset(t, 0, sizeof(*t));
	t->regime = r;
	t->stage = r->stage;
	t->in_addr = in;
	t->access = access;
	if (!hs_pt_regime_valid(r))
		return -EINVAL;
	uint64_t pa_limit = BIT(r->pa_bits);

	if (r->mmu_off) {
		if (in >= pa_limit) {
			set_fault(t, HS_PT_FAULT_ADDR_SIZE, 0,
				  "MMU off: VA 0x%llx above the %u-bit PA size",
				  (unsigned long long)in, r->pa_bits);
			return 1;
		}
		t->ok = true;
		t->out_pa = in;
		t->attrs.stage = r->stage;
		t->attrs.kind = HS_PT_K_BLOCK;
		t->attrs.valid = true;
		t->attrs.oa = in;
		t->attrs.perm = HS_PT_PERM_R | HS_PT_PERM_W | HS_PT_PERM_X;
		t->attrs.af = true;
		snprintf(t->attrs.memtype, sizeof(t->attrs.memtype), "flat (MMU off)");
		return 0;
	}
	if (r->walks_disabled) {
		set_fault(t, HS_PT_FAULT_TRANSLATION, 0, "TCR_EL1.EPD0 = 1: TTBR0 walks disabled");
		return 1;
	}
	if (in >= hs_pt_ia_end(r)) {
		set_fault(t, HS_PT_FAULT_TRANSLATION, 0, "%s 0x%llx above the %u-bit input range",
			  in_name(r->stage), (unsigned long long)in, r->ia_bits);
		return 1;
	}
	if (r->root_pa >= pa_limit) {
		set_fault(t, HS_PT_FAULT_ADDR_SIZE, 0, "root table 0x%llx above the %u-bit PA size",
			  (unsigned long long)r->root_pa, r->pa_bits);
		return 1;
	}

	uint64_t table = r->root_pa;
	uint64_t entries = hs_pt_root_entries(r);
	unsigned hier = 0;
	for (int level = r->start_level; level < HS_PT_MAX_LEVELS; level++) {
		struct hs_pt_trace_step *s = &t->steps[t->nr_steps++];
		unsigned shift = hs_pt_level_shift(r, level);
		s->level = level;
		s->table_addr = table;
		s->index = (in >> shift) & (entries - 1);
		s->desc_addr = table + s->index * 8;
		int fr = fetch(farg, phys, level, s->desc_addr, &s->desc_pa, &s->desc);
		if (fr > 0) {
			snprintf(s->meaning, sizeof(s->meaning), "table fetch faulted at stage 2");
			t->ok = false;
			return 1;
		}
		if (fr < 0) {
			snprintf(s->meaning, sizeof(s->meaning), "descriptor not in RAM");
			set_fault(t, HS_PT_FAULT_EXTERNAL, level,
				  "level %d descriptor at PA 0x%llx is not RAM", level,
				  (unsigned long long)s->desc_pa);
			return 1;
		}
		s->read_ok = true;
		hs_pt_decode(r, level, s->desc, hier, &s->attrs);
		step_meaning(s);
		t->attrs = s->attrs;
		switch (s->attrs.kind) {
		case HS_PT_K_INVALID:
			set_fault(t, HS_PT_FAULT_TRANSLATION, level,
				  "level %d entry %llu at 0x%llx is invalid (0x%llx)", level,
				  (unsigned long long)s->index, (unsigned long long)s->desc_addr,
				  (unsigned long long)s->desc);
			return 1;
		case HS_PT_K_ANNOTATION:
			if (s->attrs.guest)
				set_fault(t, HS_PT_FAULT_TRANSLATION, level,
					  "level %d entry is invalid: page annotated as owned by "
					  "guest handle 0x%x gfn 0x%llx",
					  level, s->attrs.handle, (unsigned long long)s->attrs.gfn);
			else
				set_fault(
				    t, HS_PT_FAULT_TRANSLATION, level,
				    "level %d entry is invalid: page annotated as owned by %s",
				    level, hs_swenc_owner_name(s->attrs.swenc, s->attrs.owner));
			return 1;
		case HS_PT_K_RESERVED:
			set_fault(t, HS_PT_FAULT_TRANSLATION, level,
				  "level %d entry 0x%llx: reserved encoding (%s at level %d)",
				  level, (unsigned long long)s->desc,
				  (s->desc & 2) ? "0b11 treated as invalid" : "block not allowed",
				  level);
			return 1;
		case HS_PT_K_TABLE:
			if (s->attrs.oa >= pa_limit) {
				set_fault(t, HS_PT_FAULT_ADDR_SIZE, level,
					  "level %d table address 0x%llx above the %u-bit PA size",
					  level, (unsigned long long)s->attrs.oa, r->pa_bits);
				return 1;
			}
			if (r->stage != HS_PT_S2)
				hier |= r->hpd ? (s->attrs.hier & HS_PT_HIER_NS) : s->attrs.hier;
			table = s->attrs.oa;
			entries = 1ULL << (r->granule_shift - 3);
			continue;
		case HS_PT_K_BLOCK:
		case HS_PT_K_PAGE:
			break;
		}
		/* Leaf. */
		t->hier = hier;
		if (s->attrs.oa >= pa_limit) {
			set_fault(t, HS_PT_FAULT_ADDR_SIZE, level,
				  "level %d output address 0x%llx above the %u-bit PA size", level,
				  (unsigned long long)s->attrs.oa, r->pa_bits);
			return 1;
		}
		t->out_pa = s->attrs.oa | (in & (s->attrs.size - 1));
		if (!s->attrs.af && !r->ha) {
			set_fault(t, HS_PT_FAULT_ACCESS_FLAG, level,
				  "level %d %s has AF = 0 (no hardware AF update)", level,
				  hs_pt_kind_name(s->attrs.kind));
			return 1;
		}
		if (access & ~s->attrs.perm) {
			char want[4], have[4];
			set_fault(t, HS_PT_FAULT_PERMISSION, level,
				  "level %d %s: access %s not permitted (allows %s)", level,
				  hs_pt_kind_name(s->attrs.kind), hs_pt_perm_str(access, want),
				  hs_pt_perm_str(s->attrs.perm, have));
			return 1;
		}
		t->ok = true;
		return 0;
	}
	return -EINVAL; /* not reached: level 3 never yields a table */
}

int hs_pt_translate_access(const struct hs_phys *phys, const struct hs_pt_regime *r,
			   uint64_t in_addr, unsigned access, struct hs_pt_trace *out)
{
	if (!phys || !r || !out)
		return -EINVAL;
	return translate_core(phys, r, in_addr, access, fetch_phys, NULL, out);
}

int hs_pt_translate(const struct hs_phys *phys, const struct hs_pt_regime *r, uint64_t in_addr,
		    struct hs_pt_trace *out)
{
	return hs_pt_translate_access(phys, r, in_addr, 0, out);
}

/* ------------------------------------------------------------------------ */
/* Two-dimensional walk                                                      */
/* ------------------------------------------------------------------------ */

struct fetch2d {
	const struct hs_pt_regime *s2;
	struct hs_pt_trace_2d *out;
};

static int fetch_via_s2(void *arg, const struct hs_phys *phys, int level, uint64_t ipa,
			uint64_t *pa, uint64_t *desc)
{
	struct fetch2d *f = arg;
	struct hs_pt_trace_2d *o = f->out;
	struct hs_pt_trace *t = &o->s2_fetch[o->nr_fetch++];
	int ret = translate_core(phys, f->s2, ipa, HS_PT_ACC_R, fetch_phys, NULL, t);
	if (ret) {
		o->fault = t->fault;
		o->fault.s1ptw = true;
		o->fault.s1_level = level;
		/* Room for the prefix and the whole inner reason; truncated on copy. */
		char tmp[sizeof(o->fault.reason) + 96];
		snprintf(tmp, sizeof(tmp), "stage 1 level %d table fetch at IPA 0x%llx: %s", level,
			 (unsigned long long)ipa, t->fault.reason);
		memcpy(o->fault.reason, tmp, sizeof(o->fault.reason) - 1);
		o->fault.reason[sizeof(o->fault.reason) - 1] = '\0';
		*pa = 0;
		return 1;
	}
	*pa = t->out_pa;
	return phys->read(phys->ud, t->out_pa, desc, sizeof(*desc)) ? -1 : 0;
}

int hs_pt_translate_2d(const struct hs_phys *phys, const struct hs_pt_regime *s1,
		       const struct hs_pt_regime *s2, uint64_t va, unsigned access,
		       struct hs_pt_trace_2d *out)
{
	if (!phys || !s1 || !s2 || !out || s2->stage != HS_PT_S2 || !hs_pt_regime_valid(s2))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->va = va;
	struct fetch2d f = {.s2 = s2, .out = out};
	int ret = translate_core(phys, s1, va, access, fetch_via_s2, &f, &out->s1);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		if (out->fault.s1ptw)
			out->s1.fault = out->fault;
		else
			out->fault = out->s1.fault;
		return 1;
	}
	out->ipa = out->s1.out_pa;
	ret = translate_core(phys, s2, out->ipa, access, fetch_phys, NULL, &out->s2);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		out->fault = out->s2.fault;
		return 1;
	}
	out->pa = out->s2.out_pa;
	out->ok = true;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Formatters                                                                */
/* ------------------------------------------------------------------------ */

void hs_pt_fault_text(struct hs_strbuf *sb, const struct hs_pt_fault *f)
{
	hs_sb_printf(sb, "%s %s, level %d", hs_pt_stage_name(f->stage), hs_pt_fault_name(f->type),
		     f->level);
	if (f->s1ptw)
		hs_sb_printf(sb, " (on stage 1 level %d table walk)", f->s1_level);
	hs_sb_printf(sb, ": %s", f->reason);
}

void hs_pt_trace_text(struct hs_strbuf *sb, const struct hs_pt_trace *t)
{
	hs_sb_printf(sb, "%s 0x%016llx", in_name(t->stage), (unsigned long long)t->in_addr);
	if (t->regime) {
		hs_sb_puts(sb, " (");
		hs_pt_regime_describe(sb, t->regime);
		hs_sb_puts(sb, ")");
	}
	hs_sb_putc(sb, '\n');
	for (unsigned i = 0; i < t->nr_steps; i++) {
		const struct hs_pt_trace_step *s = &t->steps[i];
		hs_sb_printf(sb, "  [LV%d] table 0x%llx [%llu] desc @0x%llx", s->level,
			     (unsigned long long)s->table_addr, (unsigned long long)s->index,
			     (unsigned long long)s->desc_addr);
		if (s->desc_pa != s->desc_addr)
			hs_sb_printf(sb, " (PA 0x%llx)", (unsigned long long)s->desc_pa);
		if (s->read_ok)
			hs_sb_printf(sb, " = 0x%016llx", (unsigned long long)s->desc);
		hs_sb_printf(sb, "  %s\n", s->meaning);
	}
	if (t->ok) {
		struct hs_strbuf d;
		hs_sb_init(&d);
		hs_pt_attrs_describe(&d, &t->attrs);
		hs_sb_printf(sb, "  => PA 0x%016llx %s\n", (unsigned long long)t->out_pa,
			     hs_sb_str(&d));
		hs_sb_free(&d);
	} else {
		hs_sb_puts(sb, "  => ");
		hs_pt_fault_text(sb, &t->fault);
		hs_sb_putc(sb, '\n');
	}
}

static void fault_json(struct hs_strbuf *sb, const struct hs_pt_fault *f)
{
	hs_sb_printf(sb, "{\"type\":\"%s\",\"stage\":\"%s\",\"level\":%d,\"s1ptw\":%s",
		     hs_pt_fault_name(f->type), hs_pt_stage_name(f->stage), f->level,
		     f->s1ptw ? "true" : "false");
	if (f->s1ptw)
		hs_sb_printf(sb, ",\"s1_level\":%d", f->s1_level);
	hs_sb_printf(sb, ",\"addr\":\"0x%llx\",\"reason\":", (unsigned long long)f->addr);
	hs_sb_json_str(sb, f->reason);
	hs_sb_putc(sb, '}');
}

void hs_pt_trace_json(struct hs_strbuf *sb, const struct hs_pt_trace *t)
{
	hs_sb_printf(sb, "{\"stage\":\"%s\",\"in\":\"0x%llx\",\"steps\":[",
		     hs_pt_stage_name(t->stage), (unsigned long long)t->in_addr);
	for (unsigned i = 0; i < t->nr_steps; i++) {
		const struct hs_pt_trace_step *s = &t->steps[i];
		hs_sb_printf(
		    sb,
		    "%s{\"level\":%d,\"table\":\"0x%llx\",\"index\":%llu,"
		    "\"desc_addr\":\"0x%llx\",\"desc_pa\":\"0x%llx\",\"desc\":\"0x%016llx\","
		    "\"kind\":\"%s\",\"meaning\":",
		    i ? "," : "", s->level, (unsigned long long)s->table_addr,
		    (unsigned long long)s->index, (unsigned long long)s->desc_addr,
		    (unsigned long long)s->desc_pa, (unsigned long long)s->desc,
		    s->read_ok ? hs_pt_kind_name(s->attrs.kind) : "unreadable");
		hs_sb_json_str(sb, s->meaning);
		hs_sb_putc(sb, '}');
	}
	hs_sb_printf(sb, "],\"ok\":%s", t->ok ? "true" : "false");
	if (t->ok) {
		hs_sb_printf(sb, ",\"pa\":\"0x%llx\",\"attrs\":", (unsigned long long)t->out_pa);
		hs_pt_attrs_json(sb, &t->attrs);
	} else {
		hs_sb_puts(sb, ",\"fault\":");
		fault_json(sb, &t->fault);
	}
	hs_sb_putc(sb, '}');
}

void hs_pt_trace_2d_text(struct hs_strbuf *sb, const struct hs_pt_trace_2d *t)
{
	hs_sb_printf(sb, "guest VA 0x%016llx\n", (unsigned long long)t->va);
	hs_sb_puts(sb, "stage 1:\n");
	hs_pt_trace_text(sb, &t->s1);
	for (unsigned i = 0; i < t->nr_fetch; i++) {
		hs_sb_printf(sb, "stage 2 for stage 1 table fetch %u:\n", i);
		hs_pt_trace_text(sb, &t->s2_fetch[i]);
	}
	if (t->s1.ok) {
		hs_sb_puts(sb, "stage 2 of the output IPA:\n");
		hs_pt_trace_text(sb, &t->s2);
	}
	if (t->ok) {
		hs_sb_printf(sb, "=> VA 0x%llx -> IPA 0x%llx -> PA 0x%llx\n",
			     (unsigned long long)t->va, (unsigned long long)t->ipa,
			     (unsigned long long)t->pa);
	} else {
		hs_sb_puts(sb, "=> ");
		hs_pt_fault_text(sb, &t->fault);
		hs_sb_putc(sb, '\n');
	}
}

void hs_pt_trace_2d_json(struct hs_strbuf *sb, const struct hs_pt_trace_2d *t)
{
	hs_sb_printf(sb, "{\"va\":\"0x%llx\",\"s1\":", (unsigned long long)t->va);
	hs_pt_trace_json(sb, &t->s1);
	hs_sb_puts(sb, ",\"s2_fetch\":[");
	for (unsigned i = 0; i < t->nr_fetch; i++) {
		if (i)
			hs_sb_putc(sb, ',');
		hs_pt_trace_json(sb, &t->s2_fetch[i]);
	}
	hs_sb_putc(sb, ']');
	if (t->s1.ok) {
		hs_sb_puts(sb, ",\"s2\":");
		hs_pt_trace_json(sb, &t->s2);
	}
	hs_sb_printf(sb, ",\"ok\":%s", t->ok ? "true" : "false");
	if (t->ok)
		hs_sb_printf(sb, ",\"ipa\":\"0x%llx\",\"pa\":\"0x%llx\"",
			     (unsigned long long)t->ipa, (unsigned long long)t->pa);
	else {
		hs_sb_puts(sb, ",\"fault\":");
		fault_json(sb, &t->fault);
	}
	hs_sb_putc(sb, '}');
}
