/* SPDX-License-Identifier: MIT */
/*
 * Whole-table dumps: the regime's entries as merged ranges (adjacent entries
 * with identical attributes and contiguous output addresses, or identical
 * annotations, or runs of invalid entries), filterable by input range,
 * permission, owner and page state; written as TF-A xlat_tables-style text,
 * JSON, or a Graphviz DOT tree of the table pages.
 */
#ifndef HS_PT_DUMP_H
#define HS_PT_DUMP_H

#include "pt_decode.h"
#include "strbuf.h"

/* Filter flags */
#define HS_PT_F_NO_INVALID (1u << 0)   /* drop plain invalid ranges (annotations are kept) */
#define HS_PT_F_NO_ANNOT (1u << 1)     /* drop annotated ranges */
#define HS_PT_F_NO_MALFORMED (1u << 2) /* drop malformed entries */

struct hs_pt_filter {
	uint64_t va_start, va_end; /* input range [start, end); end 0 = up to 1 << ia_bits */
	unsigned flags;		   /* HS_PT_F_* */
	unsigned perm_mask;	   /* keep only leaves with (perm & perm_mask) == perm_want */
	unsigned perm_want;
	int owner; /* -1 any; else annotation owner (stage 2 with VMID 0: valid and empty = host) */
	int state; /* -1 any; else valid leaves whose SW bits [56:55] hold that HS_PAGE_* state */
};

/* A filter that keeps everything. */
void hs_pt_filter_init(struct hs_pt_filter *f);

struct hs_pt_range {
	uint64_t va_start, va_end; /* input addresses, end exclusive (clipped to the filter) */
	uint64_t pa_start;	   /* leaves: output address of va_start, contiguous to the end */
	int level_min, level_max;  /* levels of the merged entries */
	enum hs_pt_kind kind;	   /* page and block leaves merge: kind of the first entry */
	bool leaf;		   /* valid block/page */
	bool malformed;
	enum hs_pt_malformed why; /* malformed only */
	uint64_t nr_entries;	  /* descriptors merged */
	uint64_t desc_pa;	  /* first descriptor */
	struct hs_pt_attrs attrs; /* decoded first entry (annotations: gfn of va_start) */
	int owner;		  /* effective owner (see the filter), -1 if none */
};

typedef int (*hs_pt_range_fn)(const struct hs_pt_range *range, void *arg);

/*
 * hs_pt_dump_ranges() - walk the regime and call cb once per merged range
 * that passes the filter (NULL = everything), in input-address order.
 * Return: 0, a negative errno from the walk, or cb's first non-zero value.
 */
int hs_pt_dump_ranges(const struct hs_phys *phys, const struct hs_pt_regime *regime,
		      const struct hs_pt_filter *filter, hs_pt_range_fn cb, void *arg);

/* One range as a text line (no newline): "[LV3] 0x... - 0x... → PA 0x... MEM-RW-XN ...". */
void hs_pt_range_text(struct hs_strbuf *sb, const struct hs_pt_range *range);
/* One range as a JSON object. */
void hs_pt_range_json(struct hs_strbuf *sb, const struct hs_pt_range *range);

/* Whole dumps appended to sb. Return 0 or a negative errno. */
int hs_pt_dump_text(const struct hs_phys *phys, const struct hs_pt_regime *regime,
		    const struct hs_pt_filter *filter, struct hs_strbuf *sb);
int hs_pt_dump_json(const struct hs_phys *phys, const struct hs_pt_regime *regime,
		    const struct hs_pt_filter *filter, struct hs_strbuf *sb);
/*
 * Graphviz tree: one node per table page, one edge per table entry, each
 * table's leaves collapsed into merged ranges in one node (at most
 * HS_PT_DOT_MAX_LINES lines). Loops and shared tables are red dashed edges.
 */
#define HS_PT_DOT_MAX_LINES 16
int hs_pt_dump_dot(const struct hs_phys *phys, const struct hs_pt_regime *regime,
		   const struct hs_pt_filter *filter, struct hs_strbuf *sb);

#endif
