/* SPDX-License-Identifier: MIT */
/*
 * The emulator's own architectural page-table walker (AArch64 VMSAv8-64),
 * written from the Arm architecture rules, independent of hyp/. It reads
 * translation tables through an injected physical-memory callback and never
 * writes anything. One generic walker runs visitors (leaf / table pre / table
 * post / invalid / malformed), in the style of Linux's kvm_pgtable_walk();
 * dump, translate, ownership checks and the visualizer are built on it.
 *
 * Supported: EL2 stage 1 (single VA range, TTBR0_EL2), stage 2 (VTTBR_EL2,
 * concatenated roots), EL1&0 stage 1 through TTBR0_EL1; 4 KiB, 16 KiB and
 * 64 KiB granules; PA sizes up to 48 bits (52 with 64 KiB + FEAT_LPA).
 */
#ifndef HS_PT_WALK_H
#define HS_PT_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pt_swenc.h"

/* Physical memory seen by the walker. read() returns 0, or -1 if [pa, pa+len) is not RAM. */
struct hs_phys {
	int (*read)(void *ud, uint64_t pa, void *buf, size_t len);
	void *ud;
};

enum hs_pt_stage {
	HS_PT_S1_EL2, /* EL2 stage 1 (nVHE: one VA range, TTBR0_EL2) */
	HS_PT_S2,     /* stage 2 (IPA -> PA), VTTBR_EL2 */
	HS_PT_S1_EL1, /* EL1&0 stage 1 through TTBR0_EL1 (guest / host kernel) */
};

#define HS_PT_MAX_LEVELS 4 /* levels 0..3 */

/* One translation regime, decoded from control registers (or filled by hand in tests). */
struct hs_pt_regime {
	enum hs_pt_stage stage;
	uint64_t root_pa;	/* base of the (first) root table */
	unsigned ia_bits;	/* input address size: 64 - TxSZ */
	int start_level;	/* 0..3 */
	unsigned granule_shift; /* 12, 14 or 16 */
	unsigned nr_concat;	/* concatenated root tables (stage 2), 1 otherwise */
	uint64_t mair;		/* MAIR_ELx (stage 1) */
	unsigned pa_bits;	/* output address size (TCR.PS / VTCR.PS / TCR_EL1.IPS) */
	uint16_t vmid;		/* stage 2: VTTBR_EL2.VMID (0 = host) */
	uint16_t asid;		/* EL1 stage 1: TTBR0_EL1.ASID */
	bool ha;		/* hardware Access flag update: no Access flag faults */
	bool hpd;		/* hierarchical permissions disabled (TCR.HPD) */
	bool mmu_off;		/* EL1 stage 1 with SCTLR_EL1.M = 0: flat VA == IPA */
	bool walks_disabled;	/* EL1 stage 1 with TCR_EL1.EPD0 = 1: every VA faults */
	/* The hypervisor's software encodings (NULL: none decoded); set by whoever knows the
	 * profile. */
	const struct hs_pt_swenc *swenc;
};

/*
 * Constructors: decode the control registers, fill *out and return 0, or
 * return -EINVAL with a message in err (if err != NULL) for a reserved or
 * inconsistent encoding (bad granule, T0SZ out of range, SL0/T0SZ mismatch,
 * reserved PS, misaligned base address ...).
 */
int hs_pt_regime_el2(uint64_t tcr_el2, uint64_t ttbr0_el2, uint64_t mair_el2,
		     struct hs_pt_regime *out, char *err, size_t errlen);
/* Stage 2 from VTCR_EL2 / VTTBR_EL2: T0SZ + SL0 -> start level and concatenated roots. */
int hs_pt_regime_s2(uint64_t vtcr_el2, uint64_t vttbr_el2, struct hs_pt_regime *out, char *err,
		    size_t errlen);
/*
 * Guest/host EL1&0 stage 1 from SCTLR_EL1 (M bit), TCR_EL1 (T0SZ, TG0, IPS,
 * EPD0, HA, HPD0) and TTBR0_EL1. With M = 0 the regime is flat (mmu_off).
 */
int hs_pt_regime_el1(uint64_t sctlr_el1, uint64_t tcr_el1, uint64_t ttbr0_el1, uint64_t mair_el1,
		     struct hs_pt_regime *out, char *err, size_t errlen);

/* True if the regime's geometry is usable (granule, levels, IA/PA sizes agree). */
bool hs_pt_regime_valid(const struct hs_pt_regime *r);

/* Geometry helpers. */
unsigned hs_pt_level_shift(const struct hs_pt_regime *r, int level); /* bits below an entry */
uint64_t hs_pt_level_size(const struct hs_pt_regime *r, int level);  /* bytes per entry */
uint64_t hs_pt_root_entries(const struct hs_pt_regime *r);	     /* incl. concatenation */
uint64_t hs_pt_ia_end(const struct hs_pt_regime *r);		     /* 1 << ia_bits */
/* Output-address field of a table/block/page descriptor (granule and PA size aware). */
uint64_t hs_pt_desc_oa(const struct hs_pt_regime *r, uint64_t desc);
const char *hs_pt_stage_name(enum hs_pt_stage stage);

/* What one descriptor is. */
enum hs_pt_kind {
	HS_PT_K_INVALID,    /* bit 0 clear: zero, or non-zero without a known annotation */
	HS_PT_K_ANNOTATION, /* stage 2 invalid entry carrying an owner annotation (abi.h) */
	HS_PT_K_TABLE,	    /* pointer to a next-level table */
	HS_PT_K_BLOCK,	    /* valid leaf above the last level */
	HS_PT_K_PAGE,	    /* valid leaf at level 3 */
	HS_PT_K_RESERVED,   /* reserved encoding (block at level 0, 0b01 at level 3 ...) */
};
const char *hs_pt_kind_name(enum hs_pt_kind kind);

/* Why an entry was reported MALFORMED (and not followed). */
enum hs_pt_malformed {
	HS_PT_MAL_NONE,
	HS_PT_MAL_UNREADABLE, /* table (or root) outside RAM: the read failed */
	HS_PT_MAL_LOOP,	      /* table entry points at an ancestor table (or itself) */
	HS_PT_MAL_SHARED,     /* table already visited elsewhere in this walk */
	HS_PT_MAL_RESERVED,   /* reserved descriptor encoding for this level/granule */
	HS_PT_MAL_OA_RANGE,   /* output/next-table address above pa_bits */
};
const char *hs_pt_malformed_name(enum hs_pt_malformed why);

/* Visitor flags (which visits a walker wants). */
#define HS_PT_VISIT_LEAF (1u << 0)	/* valid block or page */
#define HS_PT_VISIT_TABLE_PRE (1u << 1) /* table entry, before its children */
#define HS_PT_VISIT_TABLE_POST (1u << 2)
#define HS_PT_VISIT_INVALID (1u << 3)	/* invalid entries (zero runs coalesced, annotations) */
#define HS_PT_VISIT_MALFORMED (1u << 4) /* reported, never followed */
#define HS_PT_VISIT_ALL 0x1fu

/* Hierarchical attributes accumulated from table descriptors (stage 1 only). */
#define HS_PT_HIER_NO_WRITE (1u << 0) /* APTable[1] */
#define HS_PT_HIER_NO_EL0 (1u << 1)   /* APTable[0] */
#define HS_PT_HIER_XN (1u << 2)	      /* XNTable / UXNTable */
#define HS_PT_HIER_PXN (1u << 3)      /* PXNTable */
#define HS_PT_HIER_NS (1u << 4)	      /* NSTable */

/* The const context a visitor callback receives. */
struct hs_pt_visit_ctx {
	const struct hs_pt_regime *regime;
	unsigned visit;		  /* the one HS_PT_VISIT_* flag of this call */
	int level;		  /* level of the entry */
	uint64_t addr;		  /* first input address the entry (or run) covers */
	uint64_t size;		  /* bytes of input address space covered */
	uint64_t nr_entries;	  /* entries covered (> 1 only for coalesced zero runs) */
	uint64_t desc_pa;	  /* PA of the (first) descriptor */
	uint64_t desc;		  /* raw descriptor */
	enum hs_pt_kind kind;	  /* decoded kind */
	uint64_t table_pa;	  /* TABLE_*, MALFORMED: the next-level table address */
	unsigned hier;		  /* HS_PT_HIER_* inherited from ancestors (not incl. this entry) */
	enum hs_pt_malformed why; /* MALFORMED only */
	void *arg;		  /* visitor's arg */
};

/* Return 0 to continue; any other value stops the walk and is returned by hs_pt_walk(). */
typedef int (*hs_pt_visitor_fn)(const struct hs_pt_visit_ctx *ctx);

struct hs_pt_visitor {
	hs_pt_visitor_fn cb;
	void *arg;
	unsigned flags; /* HS_PT_VISIT_* */
};

/*
 * hs_pt_walk() - visit every entry of the regime's tables overlapping the
 * input range [start, end) (end clamped to 1 << ia_bits).
 *
 * Each table page is read once, with one read() call. Runs of zero entries
 * are coalesced into one INVALID visit; non-zero invalid entries are visited
 * one by one. Tables outside RAM, loops (an entry pointing at an ancestor),
 * tables reached twice, reserved encodings and addresses above pa_bits are
 * reported as MALFORMED and never followed, so the walk always terminates.
 * A regime with mmu_off has no tables: nothing is visited.
 *
 * Return: 0, -EINVAL for a bad regime, -ENOMEM, or the first non-zero value
 * returned by the visitor.
 */
int hs_pt_walk(const struct hs_phys *phys, const struct hs_pt_regime *regime, uint64_t start,
	       uint64_t end, const struct hs_pt_visitor *visitor);

/* Classify a descriptor at a level (no memory access). why is set for RESERVED. */
enum hs_pt_kind hs_pt_classify(const struct hs_pt_regime *r, int level, uint64_t desc,
			       enum hs_pt_malformed *why);

#endif
