/* SPDX-License-Identifier: MIT */
/*
 * Address translation as the hardware would do it, with a full trace:
 * EL2 stage 1 (VA -> PA), stage 2 (IPA -> PA) and the two-dimensional walk of
 * a guest VA (EL1 stage 1 whose own table fetches go through stage 2).
 * On failure the trace names the fault the MMU would raise.
 */
#ifndef HS_PT_TRANSLATE_H
#define HS_PT_TRANSLATE_H

#include "pt_decode.h"

enum hs_pt_fault_type {
	HS_PT_FAULT_NONE,
	HS_PT_FAULT_TRANSLATION, /* invalid entry, reserved encoding, IA out of range */
	HS_PT_FAULT_ADDR_SIZE,	 /* table/output address above the PA size */
	HS_PT_FAULT_ACCESS_FLAG, /* leaf with AF = 0 and no hardware AF update */
	HS_PT_FAULT_PERMISSION,	 /* only when an access type was asked for */
	HS_PT_FAULT_EXTERNAL,	 /* synchronous external abort on a table walk (not RAM) */
};
const char *hs_pt_fault_name(enum hs_pt_fault_type type);

struct hs_pt_fault {
	enum hs_pt_fault_type type;
	enum hs_pt_stage stage; /* which stage faulted */
	int level;		/* level of the fault */
	bool s1ptw;		/* stage 2 fault on a stage 1 table walk (2-D only) */
	int s1_level;		/* s1ptw: the stage 1 level whose table fetch faulted */
	uint64_t addr;		/* faulting input address of that stage (VA or IPA) */
	char reason[192];	/* human-readable */
};

/* Access type for the permission check (0 = no permission check). */
#define HS_PT_ACC_R HS_PT_PERM_R
#define HS_PT_ACC_W HS_PT_PERM_W
#define HS_PT_ACC_X HS_PT_PERM_X

#define HS_PT_MAX_STEPS 5

struct hs_pt_trace_step {
	int level;
	uint64_t table_addr; /* table base as the regime sees it (PA, or IPA for 2-D stage 1) */
	uint64_t index;	     /* entry index in the table (incl. concatenation at the root) */
	uint64_t desc_addr;  /* descriptor address as the regime sees it */
	uint64_t desc_pa;    /* descriptor's physical address */
	uint64_t desc;	     /* raw descriptor (0 if it could not be read) */
	bool read_ok;
	struct hs_pt_attrs attrs; /* decoded descriptor (kind, fields) */
	char meaning[128];	  /* "table -> 0x...", "page 0x... MEM-RW-XN", "invalid" ... */
};

struct hs_pt_trace {
	const struct hs_pt_regime *regime; /* borrowed, for the formatters */
	enum hs_pt_stage stage;
	uint64_t in_addr;
	unsigned access;
	unsigned nr_steps;
	struct hs_pt_trace_step steps[HS_PT_MAX_STEPS];
	bool ok; /* translated: out_pa and attrs are valid */
	uint64_t out_pa;
	struct hs_pt_attrs attrs; /* of the final leaf (or of the faulting entry) */
	unsigned hier;		  /* hierarchical attributes applied to the leaf */
	struct hs_pt_fault fault;
};

/*
 * hs_pt_translate() - translate one input address through one regime.
 * Fills *out with every level's descriptor and the result or the fault.
 * Return: 0 when translated, 1 when the hardware would fault (see
 * out->fault), -EINVAL for a bad regime or arguments.
 */
int hs_pt_translate(const struct hs_phys *phys, const struct hs_pt_regime *regime, uint64_t in_addr,
		    struct hs_pt_trace *out);
/* Same, also checking that an access of type HS_PT_ACC_* is permitted. */
int hs_pt_translate_access(const struct hs_phys *phys, const struct hs_pt_regime *regime,
			   uint64_t in_addr, unsigned access, struct hs_pt_trace *out);

/* Two-dimensional walk: guest VA -> IPA (stage 1, tables at IPAs) -> PA (stage 2). */
struct hs_pt_trace_2d {
	uint64_t va;
	struct hs_pt_trace s1;			      /* stage 1 walk; desc_addr are IPAs */
	struct hs_pt_trace s2_fetch[HS_PT_MAX_STEPS]; /* stage 2 of each stage 1 table fetch */
	unsigned nr_fetch;
	struct hs_pt_trace s2; /* stage 2 of the final IPA */
	bool ok;
	uint64_t ipa, pa;
	struct hs_pt_fault fault; /* which stage/level faulted */
};

/*
 * hs_pt_translate_2d() - translate a guest VA through its stage 1 (s1: an
 * HS_PT_S1_EL1 regime, possibly mmu_off = flat) and stage 2 (s2).
 * Return: 0 translated, 1 fault (out->fault says which stage and level,
 * s1ptw when a stage 1 table fetch faulted at stage 2), -EINVAL.
 */
int hs_pt_translate_2d(const struct hs_phys *phys, const struct hs_pt_regime *s1,
		       const struct hs_pt_regime *s2, uint64_t va, unsigned access,
		       struct hs_pt_trace_2d *out);

/* Formatters: a multi-line text trace and a JSON object. */
void hs_pt_trace_text(struct hs_strbuf *sb, const struct hs_pt_trace *t);
void hs_pt_trace_json(struct hs_strbuf *sb, const struct hs_pt_trace *t);
void hs_pt_trace_2d_text(struct hs_strbuf *sb, const struct hs_pt_trace_2d *t);
void hs_pt_trace_2d_json(struct hs_strbuf *sb, const struct hs_pt_trace_2d *t);
void hs_pt_fault_text(struct hs_strbuf *sb, const struct hs_pt_fault *f);

#endif
