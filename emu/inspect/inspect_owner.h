/* SPDX-License-Identifier: MIT */
/*
 * Ownership of physical memory: for a page, who owns it and what each table
 * says about it (host stage 2 entry, every EL2 stage 1 VA mapping it,
 * vmemmap entry); and the whole-memory ownership map as compact ranges.
 * Built from one snapshot (one walk of each table, one read of the vmemmap
 * window) plus a reverse PA -> VA index of the EL2 stage 1.
 */
#ifndef HS_INSPECT_OWNER_H
#define HS_INSPECT_OWNER_H

#include "inspect_snapshot.h"

#define HS_OWNER_MAX_VAS 8
#define HS_STATE_UNKNOWN 0xf /* vmemmap entry not backed */

struct hs_owner_el2_map {
	uint64_t va;
	struct hs_snap_pt_range leaf; /* the merged EL2 range holding va (unclipped) */
};

#define HS_OWNER_MAX_GUEST_MAPS 8

/* One guest stage-2 mapping of a page. */
struct hs_owner_guest_map {
	uint64_t handle; /* the VM */
	uint16_t vmid;
	uint64_t gfn; /* the guest frame mapping the page */
	struct hs_snap_pt_range
	    leaf; /* the merged guest range holding it (unclipped): perm, state */
};

/* Everything the tables say about one physical page. */
struct hs_owner_page {
	uint64_t pa;
	int region;		    /* memory region index, -1 when not memory (MMIO, hole) */
	unsigned owner;		    /* HS_OWNER_*: the annotation's owner, else host */
	uint64_t owner_meta;	    /* annotation metadata (guest handle/gfn) */
	bool s2_present;	    /* host stage 2 has a non-empty entry for the page */
	struct hs_snap_pt_range s2; /* that entry's merged range (unclipped) */
	unsigned nr_el2;	    /* EL2 VAs mapping the page (all, even beyond the array) */
	struct hs_owner_el2_map el2[HS_OWNER_MAX_VAS];
	bool vm_backed;
	uint64_t vm; /* normalised vmemmap entry (HS_VM_* accessors) */
	/* owner GUEST: the annotation decoded */
	uint64_t guest_handle, guest_gfn;
	/* every guest stage-2 leaf mapping the page (all VMs; count even beyond the array) */
	unsigned nr_guest;
	struct hs_owner_guest_map guest[HS_OWNER_MAX_GUEST_MAPS];
};

struct hs_owner_rev {
	uint64_t oa; /* output address of the leaf range */
	size_t idx;  /* index in snap.pt[HS_SNAP_HYP_S1] */
};

struct hs_owner_grev {
	uint64_t oa; /* output address of the guest leaf range */
	uint32_t g;  /* index in snap.guests */
	size_t idx;  /* index in snap.guests[g].pt */
};

struct hs_owner_ctx {
	struct hs_snapshot snap;
	struct hs_owner_rev *rev; /* EL2 leaf ranges sorted by output address */
	uint64_t *rev_max;	  /* prefix maximum of output end addresses over rev */
	size_t nr_rev;
	struct hs_owner_grev *grev; /* guest leaf ranges (all VMs) sorted by output address */
	uint64_t *grev_max;
	size_t nr_grev;
};

/* Take a snapshot of m and index it. ctx must be zeroed (or freed) first. */
int hs_owner_ctx_build(struct hs_machine *m, struct hs_owner_ctx *ctx, struct hs_error *err);
/* Index an existing snapshot (moved into ctx: do not free it separately). */
int hs_owner_ctx_from_snapshot(struct hs_owner_ctx *ctx, struct hs_snapshot *snap,
			       struct hs_error *err);
void hs_owner_ctx_free(struct hs_owner_ctx *ctx);

/* Fill *out for the page holding pa. */
void hs_owner_lookup(const struct hs_owner_ctx *ctx, uint64_t pa, struct hs_owner_page *out);
/*
 * Every EL2 VA mapping pa: calls cb(va, leaf, arg) for each; returns how many.
 * (cb may be NULL to count.)
 */
unsigned hs_owner_el2_vas(const struct hs_owner_ctx *ctx, uint64_t pa,
			  void (*cb)(uint64_t va, const struct hs_snap_pt_range *leaf, void *arg),
			  void *arg);

/* Every guest stage-2 leaf mapping pa: cb(map, arg) for each; returns how many. */
unsigned hs_owner_guest_maps(const struct hs_owner_ctx *ctx, uint64_t pa,
			     void (*cb)(const struct hs_owner_guest_map *map, void *arg),
			     void *arg);

/*
 * Describe [pa, pa + size) page by page, consecutive pages that the tables
 * describe alike merged into one entry. Text: a block per entry; JSON: an
 * array of objects. size 0 means one page.
 */
void hs_owner_text(const struct hs_owner_ctx *ctx, uint64_t pa, uint64_t size,
		   struct hs_strbuf *sb);
void hs_owner_json(const struct hs_owner_ctx *ctx, uint64_t pa, uint64_t size,
		   struct hs_strbuf *sb);
/* Convenience: build a context, describe, free. json selects the format. */
int hs_owner_describe(struct hs_machine *m, uint64_t pa, uint64_t size, bool json,
		      struct hs_strbuf *sb, struct hs_error *err);

/* ---- the whole-memory ownership map --------------------------------------- */
struct hs_owner_range {
	uint64_t start, end; /* PA */
	uint8_t owner;	     /* HS_OWNER_* */
	uint8_t host_state;  /* HS_PAGE_*, or HS_STATE_UNKNOWN */
	uint8_t hyp_state;
	uint8_t region;	 /* memory region index */
	uint16_t handle; /* guest owner: VM handle */
	/*
	 * Guests: guest_maps = guest stage-2 leaves mapping each page of the range
	 * (all VMs, any state); guest_shares = the vmemmap's host->guest share count.
	 * A page shared with guests has owner HOST, host SHARED_OWNED, guest_maps > 0;
	 * a page donated to a guest has owner GUEST (handle) and host NOPAGE.
	 */
	uint16_t guest_maps;
	uint32_t guest_shares;
};

struct hs_owner_map {
	struct hs_owner_range *r;
	size_t nr, cap;
	uint64_t pages;			 /* pages of memory covered */
	const struct hs_pt_swenc *swenc; /* owner and state names */
};

/*
 * hs_owner_map_build() - one range per run of consecutive memory pages with
 * identical (owner, VM handle, host state, hyp state, guest mappings, guest
 * shares). The visualizer's accessor.
 * Return: 0, or a negative code with err filled. Free with hs_owner_map_free().
 */
int hs_owner_map_build(struct hs_machine *m, struct hs_owner_map *map, struct hs_error *err);
/* The same from an existing snapshot. */
int hs_owner_map_from_snapshot(const struct hs_snapshot *s, struct hs_owner_map *map);
void hs_owner_map_free(struct hs_owner_map *map);
/* "host", "hyp", "guest" (donated), "shared-guest" (host's, mapped by guests): the map's classes.
 */
const char *hs_owner_range_class(const struct hs_owner_range *r);
/* The range holding pa, or NULL. */
const struct hs_owner_range *hs_owner_map_find(const struct hs_owner_map *map, uint64_t pa);
void hs_owner_map_text(const struct hs_owner_map *map, struct hs_strbuf *sb);
void hs_owner_map_json(const struct hs_owner_map *map, struct hs_strbuf *sb);

#endif
