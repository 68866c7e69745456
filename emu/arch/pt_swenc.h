/* SPDX-License-Identifier: MIT */
/*
 * What a hypervisor keeps in the bits the architecture leaves to software:
 * owner annotations in invalid stage-2 descriptors and page states in the
 * software bits of valid leaves. The architecture defines neither, so the
 * walker and the decoders take the layout as data from the hypervisor's
 * profile (emu/host/profile.h); a regime without one decodes every invalid
 * descriptor as plain invalid and no page state.
 */
#ifndef HS_PT_SWENC_H
#define HS_PT_SWENC_H

#include <stdint.h>

struct hs_pt_swenc {
	const char *name; /* whose encoding: "hypscope", "linux-6.12" ... */
	/* A non-zero invalid stage-2 descriptor d is an annotation when (d & annot_mask) ==
	 * annot_match. */
	uint64_t annot_mask, annot_match;
	unsigned owner_shift, owner_bits;	/* owner id field of an annotation */
	unsigned meta_shift, meta_bits;		/* metadata field (0 bits: none) */
	int host_owner, hyp_owner, guest_owner; /* owner ids; -1 when the hypervisor has none */
	uint64_t guest_handle_mask;		/* guest annotations: VM handle = meta & mask */
	unsigned guest_gfn_shift;		/* ... and gfn = meta >> shift */
	unsigned state_shift, state_bits;	/* page state in valid leaves (0 bits: none) */
	const char *const *owner_names;		/* indexed by owner id */
	unsigned nr_owner_names;
	const char *const *state_names; /* indexed by page state */
	unsigned nr_state_names;
};

/*
 * Owner ids as inspection stores them, the same whatever the hypervisor (they equal
 * abi.h's HS_OWNER_*): host, hyp and guest by role, and any other owner the hypervisor
 * has (Linux 6.x's FFA) as HS_SWENC_OTHER + its own id.
 */
#define HS_SWENC_HOST 0
#define HS_SWENC_HYP 1
#define HS_SWENC_GUEST 2
#define HS_SWENC_OTHER 3
/* The role-based id of the hypervisor's owner id `raw`. */
unsigned hs_swenc_canon_owner(const struct hs_pt_swenc *e, unsigned raw);
/* The name the hypervisor gives a role-based owner id. */
const char *hs_swenc_canon_owner_name(const struct hs_pt_swenc *e, unsigned canon);
/*
 * An annotation's metadata as inspection stores it: for a guest owner, the VM handle in
 * [15:0] and the gfn from bit 16 (abi.h's layout) whatever the hypervisor's; else as is.
 */
uint64_t hs_swenc_canon_meta(const struct hs_pt_swenc *e, unsigned canon, uint64_t meta);

/* Name of an owner id ("host", "hyp", "guest"; "owner5" past the known ones). */
const char *hs_swenc_owner_name(const struct hs_pt_swenc *e, unsigned owner);
/* Name of a page state ("OWNED", "SHARED_OWNED" ...; "state3" past the known ones). */
const char *hs_swenc_state_name(const struct hs_pt_swenc *e, unsigned state);
/* Parse an owner name or number; -1 when unknown or out of the field's range. */
int hs_swenc_owner_parse(const struct hs_pt_swenc *e, const char *s);
/* Parse a page-state name (any case) or number; -1 when unknown. */
int hs_swenc_state_parse(const struct hs_pt_swenc *e, const char *s);

/* The fields of a descriptor under an encoding (e may be NULL: nothing decoded). */
int hs_swenc_is_annotation(const struct hs_pt_swenc *e, uint64_t desc);
unsigned hs_swenc_owner(const struct hs_pt_swenc *e, uint64_t desc);
uint64_t hs_swenc_meta(const struct hs_pt_swenc *e, uint64_t desc);
unsigned hs_swenc_state(const struct hs_pt_swenc *e, uint64_t desc);
/* Bit position of the gfn of a guest annotation inside the descriptor (0: none). */
unsigned hs_swenc_gfn_bit(const struct hs_pt_swenc *e);

#endif
