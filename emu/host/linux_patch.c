/* SPDX-License-Identifier: MIT */
/*
 * Applying alternatives, jump labels and hyp relocations to Linux's hypervisor image,
 * as arch/arm64/kernel/alternative.c, jump_label.c and arch/arm64/kvm/va_layout.c do.
 * Each site is decided first, then written, and logged with what it was and became.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a64_insn.h"
#include "linux_patch.h"

#define ARM64_CB_BIT 0x8000u
#define ALT_ENTRY_SIZE 12  /* struct alt_instr: s32 orig, s32 alt, u16 cpucap, u8, u8 */
#define JUMP_ENTRY_SIZE 16 /* struct jump_entry: s32 code, s32 target, long key */

void hs_patch_log_free(struct hs_patch_log *log)
{
	free(log->v);
	memset(log, 0, sizeof(*log));
}

static struct hs_patch *log_add(struct hs_patch_log *log, struct hs_error *err)
{
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 256;
		struct hs_patch *v = realloc(log->v, cap * sizeof(*v));
		if (!v) {
			hs_err(err, -ENOMEM, "out of memory");
			return NULL;
		}
		log->v = v;
		log->cap = cap;
	}
	struct hs_patch *p = &log->v[log->n++];
	memset(p, 0, sizeof(*p));
	return p;
}

static void *at(const struct hs_lx_buf *b, uint64_t addr, uint64_t len)
{
	if (addr < b->base || len > b->size || addr - b->base > b->size - len)
		return NULL;
	return b->data + (addr - b->base);
}

static uint32_t rd32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static const char *sym_or_hex(struct hs_lx_patch_ctx *c, uint64_t addr, char *buf, size_t len)
{
	uint64_t off = 0;
	const char *s = c->symname ? c->symname(c->ud, addr, &off) : NULL;
	if (!s)
		snprintf(buf, len, "%#" PRIx64, addr);
	else if (off)
		snprintf(buf, len, "%s+%#" PRIx64, s, off);
	else
		snprintf(buf, len, "%s", s);
	return buf;
}

/* ---- layout (va_layout.c) ----------------------------------------------- */

static unsigned fls64(uint64_t v)
{
	unsigned n = 0;
	while (v) {
		n++;
		v >>= 1;
	}
	return n;
}

void hs_lx_layout_compute(uint64_t memstart, uint64_t ram_size, uint64_t idmap_pa, unsigned va_bits,
			  struct hs_lx_layout *l)
{
	uint64_t msb = (idmap_pa & (1ULL << (va_bits - 1))) ^ (1ULL << (va_bits - 1));
	l->memstart = memstart;
	l->page_offset = -(1ULL << va_bits); /* 0xffff000000000000 for 48 bits */
	/* fls64(phys_to_virt(memstart) ^ (high_memory - 1)) */
	l->tag_lsb = fls64(l->page_offset ^ (l->page_offset + ram_size - 1));
	l->va_mask = (1ULL << l->tag_lsb) - 1;
	l->tag_val = msb >> l->tag_lsb; /* no random tag: deterministic runs */
}

uint64_t hs_lx_pa_to_hyp_va(const struct hs_lx_layout *l, uint64_t pa)
{
	uint64_t linear = pa - l->memstart + l->page_offset;
	return (linear & l->va_mask) | l->tag_val << l->tag_lsb;
}

uint64_t hs_lx_kimg_to_hyp_va(const struct hs_lx_layout *l, uint64_t kimg_va)
{
	return hs_lx_pa_to_hyp_va(l, kimg_va - (uint64_t)l->kimage_voffset);
}

/* ---- callbacks ------------------------------------------------------------ */

static int gen_mov_q(unsigned rd, uint64_t val, uint32_t *out, unsigned nr)
{
	if (nr != 4)
		return -EINVAL;
	for (unsigned i = 0; i < 4; i++)
		out[i] = hs_a64_movw(rd, (uint16_t)(val >> (16 * i)), 16 * i, i != 0);
	return 0;
}

/*
 * What one callback writes at a site of nr instructions (orig: the instructions there,
 * out: starts as orig). 0, or -EINVAL with `what` saying why it cannot be applied.
 */
static int run_callback(struct hs_lx_patch_ctx *c, const char *cb, uint64_t site,
			const uint32_t *orig, uint32_t *out, unsigned nr, char *what, size_t wl)
{
	const struct hs_lx_layout *l = c->layout;
	struct hs_lx_spectre sp;
	hs_lx_spectre_state(c->cpu, &sp);
	if (!strcmp(cb, "alt_cb_patch_nops")) {
		for (unsigned i = 0; i < nr; i++)
			out[i] = HS_A64_NOP;
		snprintf(what, wl, "%u NOPs", nr);
		return 0;
	}
	if (!strcmp(cb, "kvm_update_va_mask")) {
		if (nr != 5)
			return snprintf(what, wl, "kern_hyp_va site of %u instructions, not 5", nr),
			       -EINVAL;
		/* and #va_mask; ror #tag_lsb; add #tag[11:0]; add #tag[23:12]; ror #64-lsb */
		for (unsigned i = 0; i < 5; i++) {
			unsigned rd = hs_a64_rd(orig[i]), rn = hs_a64_rn(orig[i]);
			if (!l->tag_val && i > 0) {
				out[i] = HS_A64_NOP;
				continue;
			}
			switch (i) {
			case 0:
				out[i] = hs_a64_and_low_ones(rd, rn, l->tag_lsb);
				break;
			case 1:
				out[i] = hs_a64_extr(rd, rn, rn, l->tag_lsb);
				break;
			case 2:
				out[i] = hs_a64_add_imm(rd, rn, l->tag_val & 0xfff);
				break;
			case 3:
				out[i] = hs_a64_add_imm(rd, rn, l->tag_val & 0xfff000);
				break;
			default:
				out[i] = hs_a64_extr(rd, rn, rn, 64 - l->tag_lsb);
			}
			if (out[i] == HS_A64_BAD)
				return snprintf(what, wl, "kern_hyp_va: cannot encode step %u", i),
				       -EINVAL;
		}
		snprintf(what, wl, "kern_hyp_va: and #%#" PRIx64 ", ror #%u, tag %#" PRIx64,
			 l->va_mask, l->tag_lsb, l->tag_val << l->tag_lsb);
		return 0;
	}
	if (!strcmp(cb, "kvm_get_kimage_voffset") || !strcmp(cb, "kvm_compute_final_ctr_el0")) {
		bool voff = cb[4] == 'g';
		uint64_t v = voff ? (uint64_t)l->kimage_voffset : c->cpu->ctr;
		if (gen_mov_q(hs_a64_rd(orig[0]), v, out, nr))
			return snprintf(what, wl, "mov_q site of %u instructions, not 4", nr),
			       -EINVAL;
		snprintf(what, wl, "mov_q x%u, #%#" PRIx64 " (%s)", hs_a64_rd(orig[0]), v,
			 voff ? "kimage_voffset" : "CTR_EL0");
		return 0;
	}
	if (!strcmp(cb, "kvm_patch_vector_branch")) {
		if (nr != 4)
			return snprintf(what, wl, "vector branch of %u instructions, not 4", nr),
			       -EINVAL;
		if (!sp.v3a) {
			snprintf(what, wl, "left: no ARM64_SPECTRE_V3A");
			return 0;
		}
		uint64_t addr = hs_lx_kimg_to_hyp_va(l, l->hyp_vector_kva);
		addr |= site & (0xfULL << 7); /* the same vector slot */
		addr += 8;		      /* KVM_VECTOR_PREAMBLE */
		out[0] = hs_a64_movw(0, (uint16_t)addr, 0, false);
		out[1] = hs_a64_movw(0, (uint16_t)(addr >> 16), 16, true);
		out[2] = hs_a64_movw(0, (uint16_t)(addr >> 32), 32, true);
		out[3] = hs_a64_br(0);
		snprintf(what, wl, "br to __kvm_hyp_vector slot at HYP VA %#" PRIx64, addr);
		return 0;
	}
	if (!strcmp(cb, "spectre_bhb_patch_loop_mitigation_enable")) {
		if (sp.bhb_loop)
			out[0] = HS_A64_NOP;
		snprintf(what, wl,
			 sp.bhb_loop ? "NOP: BHB loop mitigation on"
				     : "left: no BHB loop mitigation%s",
			 sp.v2_vulnerable ? " (Spectre-v2 unmitigated: no point)" : "");
		return 0;
	}
	if (!strcmp(cb, "spectre_bhb_patch_loop_iter")) {
		if (!l->bhb_mitigation_config) {
			snprintf(what, wl, "left: CONFIG_MITIGATE_SPECTRE_BRANCH_HISTORY off");
			return 0;
		}
		out[0] = hs_a64_movw(hs_a64_rd(orig[0]), (uint16_t)sp.bhb_k, 0, false);
		snprintf(what, wl, "mov x%u, #%u (max_bhb_k)", hs_a64_rd(orig[0]), sp.bhb_k);
		return 0;
	}
	if (!strcmp(cb, "spectre_bhb_patch_wa3")) {
		if (!l->bhb_mitigation_config || !sp.bhb_fw) {
			snprintf(what, wl, "left: no firmware BHB mitigation (WA3)");
			return 0;
		}
		return snprintf(what, wl, "firmware WA3 mitigation not modelled"), -EINVAL;
	}
	if (!strcmp(cb, "spectre_bhb_patch_clearbhb")) {
		if (nr != 2)
			return snprintf(what, wl, "clearbhb site of %u instructions, not 2", nr),
			       -EINVAL;
		if (!sp.bhb_insn)
			out[0] = out[1] = HS_A64_NOP;
		snprintf(what, wl, sp.bhb_insn ? "left: CLEARBHB in use" : "2 NOPs: no CLEARBHB");
		return 0;
	}
	if (!strcmp(cb, "kvm_compute_ich_hcr_trap_bits")) {
		/* vgic-v3.c (7.x): no Cavium 30115, no broken-SEIS Apple part (VHE only), no
		 * ARM64_HAS_ICH_HCR_EL2_TDIR without a GICv3 CPU interface -> common_trap: TC. */
		uint16_t hcr = 1u << 10; /* ICH_HCR_EL2.TC */
		out[0] = hs_a64_movw(hs_a64_rd(orig[0]), hcr, 0, false);
		snprintf(what, wl, "mov x%u, #%#x (ICH_HCR_EL2.TC: no GICv3 TDIR)",
			 hs_a64_rd(orig[0]), hcr);
		return 0;
	}
	snprintf(what, wl, "unknown alternative callback %s", cb);
	return -ENOENT;
}

/* ---- alternatives ----------------------------------------------------------- */

/* get_alt_insn: move one replacement instruction from alt_pc to pc. */
static int move_insn(uint32_t insn, uint64_t alt_pc, uint64_t pc, uint64_t repl, unsigned alt_len,
		     uint32_t *out)
{
	if (hs_a64_is_branch_imm(insn)) {
		uint64_t target = alt_pc + (uint64_t)hs_a64_branch_offset(insn);
		/* A branch inside the replacement stays as it is. */
		if (!(target >= repl && target <= repl + alt_len))
			insn = hs_a64_set_branch_offset(insn, (int64_t)(target - pc));
	} else if (hs_a64_is_adrp(insn)) {
		uint64_t target = (alt_pc & ~0xfffULL) + (uint64_t)hs_a64_adrp_offset(insn);
		insn = hs_a64_adrp_set_offset(insn, (int64_t)(target - (pc & ~0xfffULL)));
	} else if (hs_a64_uses_literal(insn)) {
		return -EINVAL;
	}
	if (insn == HS_A64_BAD)
		return -ERANGE;
	*out = insn;
	return 0;
}

int hs_lx_apply_alternatives(struct hs_lx_patch_ctx *c, uint64_t begin, uint64_t end,
			     struct hs_error *err)
{
	if (end < begin || (end - begin) % ALT_ENTRY_SIZE)
		return hs_err(err, -EINVAL,
			      "alternatives table [%#" PRIx64 ", %#" PRIx64
			      ") is not a whole number of entries",
			      begin, end);
	for (uint64_t e = begin; e < end; e += ALT_ENTRY_SIZE) {
		const uint8_t *ent = at(c->buf, e, ALT_ENTRY_SIZE);
		if (!ent)
			return hs_err(err, -EINVAL,
				      "alternative entry %#" PRIx64 " outside the image", e);
		int32_t orig_off, alt_off;
		uint16_t cpucap;
		memcpy(&orig_off, ent, 4);
		memcpy(&alt_off, ent + 4, 4);
		memcpy(&cpucap, ent + 8, 2);
		unsigned orig_len = ent[10], alt_len = ent[11];
		uint64_t site = e + (uint64_t)(int64_t)orig_off;
		uint64_t repl = e + 4 + (uint64_t)(int64_t)alt_off;
		unsigned cap = cpucap & ~ARM64_CB_BIT, nr = orig_len / 4;
		bool cb = cpucap & ARM64_CB_BIT;
		char sname[96], cbname[96] = "";
		sym_or_hex(c, site, sname, sizeof(sname));
		const char *capname = cap < HS_LX_MAX_CAPS ? c->caps->name[cap] : NULL;
		if (!capname)
			return hs_err(err, -ENOENT,
				      "alternative at %s (entry %#" PRIx64
				      "): cpucap %u is not in the image's cpucap list",
				      sname, e, cap);
		uint8_t *dst = at(c->buf, site, orig_len);
		if (!dst || orig_len % 4 || !nr || nr > HS_PATCH_MAX_INSNS ||
		    (!cb && alt_len != orig_len) || (cb && alt_len))
			return hs_err(err, -EINVAL,
				      "alternative at %s (entry %#" PRIx64
				      "): malformed (orig_len %u, alt_len %u)",
				      sname, e, orig_len, alt_len);
		char why[200];
		int present = hs_lx_cap_decide(capname, c->cpu, c->layout, why, sizeof(why));
		if (present < 0)
			return hs_err(err, -ENOENT, "alternative at %s: cannot decide %s: %s",
				      sname, capname, why);
		struct hs_patch *p = log_add(c->log, err);
		if (!p)
			return -ENOMEM;
		p->site = site;
		p->kind = cb ? HS_PATCH_CALLBACK : HS_PATCH_ALT;
		p->nr = nr;
		for (unsigned i = 0; i < nr; i++)
			p->before[i] = p->after[i] = rd32(dst + 4 * i);
		if (cb) {
			uint64_t off = 1;
			const char *s = c->symname ? c->symname(c->ud, repl, &off) : NULL;
			if (!s || off)
				return hs_err(err, -ENOENT,
					      "alternative at %s: callback at %#" PRIx64
					      " is no known function",
					      sname, repl);
			/* image-vars.h aliases give the callback a second, prefixed name. */
			if (!strncmp(s, "__kvm_nvhe_", 11))
				s += 11;
			snprintf(cbname, sizeof(cbname), "%s", s);
			snprintf(p->cause, sizeof(p->cause), "%.50s [%.40s]", cbname, capname);
		} else {
			snprintf(p->cause, sizeof(p->cause), "%.95s", capname);
		}
		if (!present) {
			snprintf(p->what, sizeof(p->what), "left: absent (%.110s)", why);
			continue;
		}
		if (cb) {
			int rc = run_callback(c, cbname, site, p->before, p->after, nr, p->what,
					      sizeof(p->what));
			if (rc)
				return hs_err(err, rc, "alternative at %s: %s", sname, p->what);
		} else {
			for (unsigned i = 0; i < nr; i++) {
				const uint8_t *src = at(c->buf, repl + 4 * i, 4);
				int rc = src ? move_insn(rd32(src), repl + 4 * i, site + 4 * i,
							 repl, alt_len, &p->after[i])
					     : -EINVAL;
				if (rc)
					return hs_err(
					    err, -EINVAL,
					    "alternative at %s: replacement instruction %u "
					    "cannot be moved there",
					    sname, i);
			}
			snprintf(p->what, sizeof(p->what), "replaced: present (%.100s)", why);
		}
		for (unsigned i = 0; i < nr; i++)
			p->changed |= p->after[i] != p->before[i];
		memcpy(dst, p->after, 4 * nr);
	}
	return 0;
}

/* ---- jump labels ------------------------------------------------------------ */

int hs_lx_apply_jump_labels(struct hs_lx_patch_ctx *c, uint64_t begin, uint64_t end,
			    uint64_t only_key, struct hs_error *err)
{
	if (end < begin || (end - begin) % JUMP_ENTRY_SIZE)
		return hs_err(err, -EINVAL,
			      "jump table [%#" PRIx64 ", %#" PRIx64
			      ") is not a whole number of entries",
			      begin, end);
	for (uint64_t e = begin; e < end; e += JUMP_ENTRY_SIZE) {
		const uint8_t *ent = at(c->buf, e, JUMP_ENTRY_SIZE);
		if (!ent)
			return hs_err(err, -EINVAL, "jump entry %#" PRIx64 " outside the image", e);
		int32_t code_off, target_off;
		int64_t key_off;
		memcpy(&code_off, ent, 4);
		memcpy(&target_off, ent + 4, 4);
		memcpy(&key_off, ent + 8, 8);
		uint64_t code = e + (uint64_t)(int64_t)code_off;
		uint64_t target = e + 4 + (uint64_t)(int64_t)target_off;
		uint64_t key = e + 8 + (uint64_t)(key_off & ~3LL);
		bool branch = key_off & 1; /* static_branch_likely on a false key, or the reverse */
		if (only_key && key != only_key)
			continue;
		char sname[96], kname[96];
		sym_or_hex(c, code, sname, sizeof(sname));
		sym_or_hex(c, key, kname, sizeof(kname));
		uint8_t *dst = at(c->buf, code, 4);
		const uint8_t *kp = at(c->buf, key, 4);
		if (!dst || !kp)
			return hs_err(err, -EINVAL,
				      "jump label at %s: site or key %s outside the image", sname,
				      kname);
		int32_t enabled;
		memcpy(&enabled, kp, 4);
		bool jump = (enabled > 0) ^ branch;
		struct hs_patch *p = log_add(c->log, err);
		if (!p)
			return -ENOMEM;
		p->site = code;
		p->kind = HS_PATCH_JUMP;
		p->nr = 1;
		p->before[0] = rd32(dst);
		p->after[0] = jump ? hs_a64_b(code, target) : HS_A64_NOP;
		if (p->after[0] == HS_A64_BAD)
			return hs_err(err, -ERANGE, "jump label at %s: target out of range", sname);
		char tname[96];
		snprintf(p->cause, sizeof(p->cause), "%.95s", kname);
		snprintf(p->what, sizeof(p->what), "%s: key %s%s", jump ? "b " : "NOP",
			 enabled > 0 ? "enabled" : "disabled", branch ? ", inverted site" : "");
		if (jump)
			snprintf(p->what, sizeof(p->what), "b %s: key %s%s",
				 sym_or_hex(c, target, tname, sizeof(tname)),
				 enabled > 0 ? "enabled" : "disabled",
				 branch ? ", inverted site" : "");
		p->changed = p->after[0] != p->before[0];
		memcpy(dst, p->after, 4);
	}
	return 0;
}

/* ---- .hyp.reloc ----------------------------------------------------------------- */

int hs_lx_apply_hyp_relocs(struct hs_lx_patch_ctx *c, uint64_t begin, uint64_t end,
			   struct hs_error *err)
{
	if (end < begin || (end - begin) % 4)
		return hs_err(err, -EINVAL,
			      ".hyp.reloc [%#" PRIx64 ", %#" PRIx64
			      ") is not a whole number of entries",
			      begin, end);
	for (uint64_t r = begin; r < end; r += 4) {
		const uint8_t *rp = at(c->buf, r, 4);
		int32_t rel;
		memcpy(&rel, rp, 4);
		uint64_t ptr = r + (uint64_t)(int64_t)rel;
		uint8_t *dst = at(c->buf, ptr, 8);
		if (!dst)
			return hs_err(err, -EINVAL,
				      ".hyp.reloc entry %#" PRIx64
				      " points outside the image (%#" PRIx64 ")",
				      r, ptr);
		uint64_t kimg = rd64(dst), hyp = hs_lx_kimg_to_hyp_va(c->layout, kimg);
		struct hs_patch *p = log_add(c->log, err);
		if (!p)
			return -ENOMEM;
		p->site = ptr;
		p->kind = HS_PATCH_RELOC;
		p->nr = 2;
		memcpy(p->before, &kimg, 8);
		memcpy(p->after, &hyp, 8);
		char tname[96];
		snprintf(p->cause, sizeof(p->cause), "%s",
			 sym_or_hex(c, kimg, tname, sizeof(tname)));
		snprintf(p->what, sizeof(p->what), "%#" PRIx64 " -> HYP VA %#" PRIx64, kimg, hyp);
		p->changed = hyp != kimg;
		memcpy(dst, &hyp, 8);
	}
	return 0;
}
