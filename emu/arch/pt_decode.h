/* SPDX-License-Identifier: MIT */
/*
 * Descriptor and attribute decoding: every field of a stage 1 (EL2 or EL1&0)
 * or stage 2 descriptor, MAIR memory types, stage 2 MemAttr, SW bits and page
 * state, owner annotations of invalid stage 2 entries (as the regime's
 * software encoding, pt_swenc.h, describes them), and short
 * TF-A-style attribute tokens ("MEM-RW-XN", "S2 RWX NORMAL", "OWNER hyp").
 */
#ifndef HS_PT_DECODE_H
#define HS_PT_DECODE_H

#include "pt_walk.h"
#include "strbuf.h"

/* Permission bits used by filters and translate (effective, after hierarchy). */
#define HS_PT_PERM_R (1u << 0)
#define HS_PT_PERM_W (1u << 1)
#define HS_PT_PERM_X (1u << 2)

struct hs_pt_attrs {
	enum hs_pt_stage stage;
	const struct hs_pt_swenc *swenc; /* the regime's software encoding (may be NULL) */
	enum hs_pt_kind kind;
	bool valid; /* bit 0 */
	int level;
	uint64_t raw;
	uint64_t oa;   /* output address (leaf base) or next-level table address */
	uint64_t size; /* bytes mapped by one leaf at this level */

	/* Leaves, both stages */
	unsigned sh;	  /* [9:8]: 0 non-shareable, 2 outer, 3 inner (1 reserved) */
	bool af;	  /* [10] access flag */
	bool contig;	  /* [52] contiguous hint */
	bool dbm;	  /* [51] dirty bit modifier */
	unsigned sw;	  /* [58:55] software bits */
	unsigned state;	  /* page state in the software bits (swenc) */
	bool device;	  /* memory type is Device */
	char memtype[40]; /* "Normal WB RA WA", "Device-nGnRE" ... */
	/* Effective permissions for the regime's own level (EL2, EL1 or stage 2 access). */
	unsigned perm; /* HS_PT_PERM_* */

	/* Stage 1 leaves */
	unsigned attr_idx; /* AttrIndx [4:2] */
	uint8_t mair_attr; /* MAIR byte selected by AttrIndx */
	unsigned ap;	   /* AP[2:1], bits [7:6] */
	bool ns;	   /* [5] (or inherited NSTable) */
	bool ng;	   /* [11] not global (EL1&0 only) */
	bool xn;	   /* [54] XN (EL2) / UXN (EL1&0), incl. XNTable */
	bool pxn;	   /* [53] PXN (EL1&0), incl. PXNTable */
	bool gp;	   /* [50] BTI guarded page */
	unsigned el0_perm; /* EL1&0 only: HS_PT_PERM_* at EL0 */

	/* Stage 2 leaves */
	unsigned memattr; /* MemAttr [5:2] */
	unsigned s2ap;	  /* S2AP [7:6]: bit 0 read, bit 1 write */
	unsigned xnx;	  /* XN[1:0] = bits [54:53] (FEAT_XNX) */

	/* Table descriptors (stage 1): the raw hierarchical bits of this entry */
	unsigned hier; /* HS_PT_HIER_* */

	/* Non-zero invalid stage 2 entries */
	bool annotated;
	unsigned owner;	 /* owner id (swenc) */
	uint64_t meta;	 /* metadata field (swenc) */
	bool guest;	 /* owned by a guest: handle and gfn below are meaningful */
	uint16_t handle; /* guest: VM handle */
	uint64_t gfn;	 /* guest: gfn */

	/* Reserved encodings */
	enum hs_pt_malformed why;
};

/*
 * hs_pt_decode() - decode a descriptor at a level of a regime.
 * @hier: HS_PT_HIER_* inherited from the table descriptors above (0 if none);
 *        folded into the effective permissions of leaves.
 */
void hs_pt_decode(const struct hs_pt_regime *r, int level, uint64_t desc, unsigned hier,
		  struct hs_pt_attrs *out);
/* Same, from a walker visit context. */
void hs_pt_decode_ctx(const struct hs_pt_visit_ctx *ctx, struct hs_pt_attrs *out);

/* Memory type of a MAIR attribute byte, e.g. "Normal WB RA WA" or "Device-nGnRE". */
void hs_pt_mair_str(uint8_t attr, char *buf, size_t len);
/* Memory type of a stage 2 MemAttr[3:0] (HCR_EL2.FWB = 0). */
void hs_pt_s2_memattr_str(unsigned memattr, char *buf, size_t len);
/* "rwx" style permission string (3 chars + NUL) for HS_PT_PERM_* bits. */
const char *hs_pt_perm_str(unsigned perm, char buf[4]);

/*
 * Short attribute token: "MEM-RW-XN", "DEV-RW-XN", "MEM-RO-EXEC" (stage 1),
 * "S2 RWX NORMAL", "S2 RW- DEVICE" (stage 2), "OWNER hyp",
 * "OWNER guest h=0x1000 gfn=0x80" (annotations), "INVALID", "TABLE", "RESERVED".
 */
void hs_pt_attrs_token(struct hs_strbuf *sb, const struct hs_pt_attrs *a);
/* A longer one-line description: token + memory type, SH, AF, state, SW bits ... */
void hs_pt_attrs_describe(struct hs_strbuf *sb, const struct hs_pt_attrs *a);
/* Append the attributes as a JSON object. */
void hs_pt_attrs_json(struct hs_strbuf *sb, const struct hs_pt_attrs *a);
/* One line describing a regime: stage, granule, IA/PA bits, start level, root, VMID. */
void hs_pt_regime_describe(struct hs_strbuf *sb, const struct hs_pt_regime *r);

#endif
