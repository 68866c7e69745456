/* SPDX-License-Identifier: MIT */
#include "tlb_rules.h"

#include <string.h>

#define OA_MASK 0x0000fffffffff000ULL /* bits [47:12] */
#define S1_ATTRIDX_NS (0xfULL << 2)   /* AttrIndx [4:2] and NS [5]: the memory type and space */
#define S2_MEMATTR (0xfULL << 2)      /* MemAttr [5:2] */
#define SH (3ULL << 8)
#define AF (1ULL << 10)
#define NG (1ULL << 11)
#define CONTIG (1ULL << 52)
#define AP_RO (1ULL << 7)  /* stage 1 AP[2]: read-only */
#define AP_EL0 (1ULL << 6) /* stage 1 AP[1]: EL0 access */
#define S2AP_R (1ULL << 6)
#define S2AP_W (1ULL << 7)
#define XN (1ULL << 54)	 /* stage 1 XN/UXN; stage 2 XN[1] */
#define PXN (1ULL << 53) /* stage 1 PXN; stage 2 XN[0] */
#define DBM (1ULL << 51)
#define GP (1ULL << 50)
#define SW_AND_IGNORED (0xffULL << 55) /* [58:55] software, [63:59] ignored or PBHA in leaves */
#define TABLE_ATTRS (0x1fULL << 59)    /* NSTable, APTable, XNTable, PXNTable */

uint64_t hs_level_size(int level)
{
	return 1ULL << (12 + 9 * (3 - level));
}

uint64_t hs_desc_oa(uint64_t desc)
{
	return desc & OA_MASK;
}

bool hs_desc_valid(uint64_t desc)
{
	return desc & 1;
}

bool hs_desc_is_table(int level, uint64_t desc)
{
	return level < 3 && (desc & 3) == 3;
}

/* Valid and usable: 0b01 at level 3, and a block at level 0 (4 KiB granule), are reserved. */
static bool usable(int level, uint64_t desc)
{
	if (!(desc & 1))
		return false;
	if ((desc & 3) == 1 && (level == 3 || level == 0))
		return false;
	return true;
}

const char *hs_desc_change_name(enum hs_desc_change c)
{
	static const char *const names[] = {
	    [HS_DC_SAME] = "same",	   [HS_DC_MAKE] = "make",
	    [HS_DC_BREAK] = "break",	   [HS_DC_RELAX] = "relax",
	    [HS_DC_RESTRICT] = "restrict", [HS_DC_NEEDS_BBM] = "needs-bbm",
	    [HS_DC_INVALID] = "invalid",
	};
	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}

/* Did a leaf lose an access right (the old entry, still cached, grants more)? */
static bool leaf_restricted(enum hs_pt_stage stage, uint64_t old, uint64_t new)
{
	uint64_t gained = ~old & new, lost = old & ~new;
	if (stage == HS_PT_S2)
		return (lost & (S2AP_R | S2AP_W)) || (gained & (XN | PXN));
	return (gained & (AP_RO | XN | PXN)) || (lost & AP_EL0);
}

static enum hs_desc_change table_change(uint64_t old, uint64_t new, const char **why)
{
	if (hs_desc_oa(old) != hs_desc_oa(new)) {
		*why = "table address";
		return HS_DC_NEEDS_BBM;
	}
	uint64_t d = (old ^ new) & TABLE_ATTRS;
	if (!d)
		return HS_DC_SAME;
	/* Every hierarchical attribute restricts when set (NSTable changes the output space). */
	if (d & (1ULL << 63)) {
		*why = "output address";
		return HS_DC_NEEDS_BBM;
	}
	return (new &d) ? HS_DC_RESTRICT : HS_DC_RELAX;
}

enum hs_desc_change hs_desc_change(enum hs_pt_stage stage, int level, uint64_t old, uint64_t new,
				   const char **why)
{
	static const char *none = "";
	*why = none;
	bool ov = usable(level, old), nv = usable(level, new);
	if (!ov && !nv)
		return old == new ? HS_DC_SAME : HS_DC_INVALID;
	if (!ov)
		return HS_DC_MAKE;
	if (!nv)
		return HS_DC_BREAK;
	bool ot = hs_desc_is_table(level, old), nt = hs_desc_is_table(level, new);
	if (ot != nt) {
		*why = "block size";
		return HS_DC_NEEDS_BBM;
	}
	if (ot)
		return table_change(old, new, why);
	uint64_t diff = old ^ new;
	if (diff & OA_MASK) {
		*why = "output address";
		return HS_DC_NEEDS_BBM;
	}
	if (diff & (stage == HS_PT_S2 ? S2_MEMATTR : S1_ATTRIDX_NS)) {
		*why = stage != HS_PT_S2 && (diff & (1ULL << 5)) ? "output address" : "memory type";
		return HS_DC_NEEDS_BBM;
	}
	if (diff & SH) {
		*why = "shareability";
		return HS_DC_NEEDS_BBM;
	}
	if (diff & CONTIG) {
		*why = "contiguous";
		return HS_DC_NEEDS_BBM;
	}
	/* A global entry over non-global ones (EL1&0 only: EL2 and stage 2 have no nG). */
	if (stage == HS_PT_S1_EL1 && (old & NG) && !(new &NG)) {
		*why = "global";
		return HS_DC_NEEDS_BBM;
	}
	if (leaf_restricted(stage, old, new))
		return HS_DC_RESTRICT;
	/*
	 * What is left: gained permissions, the access flag, DBM, GP, software
	 * and ignored bits. Clearing AF makes the entry fault, but the stale one
	 * grants nothing the old entry did not: harmless, like Linux's mkold.
	 */
	if (diff & ~(SW_AND_IGNORED))
		return HS_DC_RELAX;
	return HS_DC_SAME;
}

/* ---- TLBI ---------------------------------------------------------------- */

struct tlbi_op {
	const char *name;
	unsigned regimes;
	bool by_addr, last_level, all_vmids, ipa;
};

#define R_EL2 (1u << HS_TLB_EL2)
#define R_S2 (1u << HS_TLB_S2)
#define R_EL10 (1u << HS_TLB_EL10)

static const struct tlbi_op tlbi_ops[] = {
    {"ALLE2", R_EL2, false, false, false, false},
    {"VAE2", R_EL2, true, false, false, false},
    {"VALE2", R_EL2, true, true, false, false},
    {"ALLE1", R_S2 | R_EL10, false, false, true, false},
    {"VMALLS12E1", R_S2 | R_EL10, false, false, false, false},
    {"IPAS2E1", R_S2, true, false, false, true},
    {"IPAS2LE1", R_S2, true, true, false, true},
    {"VMALLE1", R_EL10, false, false, false, false},
    {"VAE1", R_EL10, true, false, false, false},
    {"VALE1", R_EL10, true, true, false, false},
    {"VAAE1", R_EL10, true, false, false, false},
    {"VAALE1", R_EL10, true, true, false, false},
};

void hs_tlbi_decode(const char *op, uint64_t operand, uint64_t vttbr, struct hs_tlbi_scope *out)
{
	memset(out, 0, sizeof(*out));
	out->ttl_level = -1;
	size_t n = strlen(op);
	bool broadcast = n > 2 && (!strcmp(op + n - 2, "IS") || !strcmp(op + n - 2, "OS"));
	size_t base = broadcast ? n - 2 : n;
	for (size_t i = 0; i < sizeof(tlbi_ops) / sizeof(tlbi_ops[0]); i++) {
		const struct tlbi_op *t = &tlbi_ops[i];
		if (strlen(t->name) != base || strncmp(t->name, op, base))
			continue;
		out->known = true;
		out->broadcast = broadcast;
		out->regimes = t->regimes;
		out->by_addr = t->by_addr;
		out->last_level = t->last_level;
		out->all_vmids = t->all_vmids;
		out->vmid = (uint16_t)(vttbr >> 48);
		if (t->by_addr) {
			/* VA[55:12] in [43:0]; IPA[51:12] in [39:0] */
			uint64_t mask = t->ipa ? (1ULL << 40) - 1 : (1ULL << 44) - 1;
			out->addr = (operand & mask) << 12;
			unsigned ttl = (operand >> 44) & 0xf;
			if ((ttl >> 2) ==
			    1) /* TTL[3:2] = 0b01: 4 KiB granule, TTL[1:0] the level */
				out->ttl_level = (int)(ttl & 3);
		}
		return;
	}
}

bool hs_dsb_completes_tlbi(unsigned option, bool broadcast)
{
	unsigned domain = (option >> 2) & 3, type = option & 3;
	if (type != 3)
		return false;		  /* LD and ST variants wait for loads or stores only */
	return !broadcast || domain != 1; /* NSH reaches only the issuing PE */
}

bool hs_dsb_orders_stores(unsigned option, bool broadcast)
{
	unsigned domain = (option >> 2) & 3, type = option & 3;
	if (!(type & 2))
		return false; /* LD variants: loads only */
	return !broadcast || domain != 1;
}
