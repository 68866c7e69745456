/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of the decoded memory-management state and their diff.
 *
 * A snapshot holds, as sorted arrays of merged ranges:
 *   - the host stage 2 (valid leaves with permissions and SW page state,
 *     owner annotations, malformed entries; empty entries are gaps),
 *   - the EL2 stage 1 (valid leaves),
 *   - the vmemmap (decoded struct hs_hyp_page, run-length encoded over the
 *     memory regions),
 *   - the stage 2 of every live VM, found through the hypervisor's own VM
 *     table (symbol `hyp_vm_table`, read through the EL2 stage 1), one range
 *     array per VM,
 * plus, optionally, every table page with its number of live entries (for
 * the checker). Taking one costs one walk of each table and one linear read
 * of the vmemmap window; the diff compares range arrays, never pages.
 */
#ifndef HS_INSPECT_SNAPSHOT_H
#define HS_INSPECT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hypscope/abi.h>

#include "machine.h"
#include "pt_walk.h"
#include "strbuf.h"
#include "vmemmap_layout.h"

enum hs_snap_table {
	HS_SNAP_HOST_S2,
	HS_SNAP_HYP_S1,
	HS_SNAP_VMEMMAP,
	HS_SNAP_GUEST_S2, /* every VM's stage 2 (records carry the VM handle) */
	HS_SNAP_NR_TABLES
};
/* "host-s2", "hyp-s1", "vmemmap", "guest-s2" */
const char *hs_snap_table_name(enum hs_snap_table t);

enum hs_snap_kind {
	HS_SNAP_EMPTY, /* zero entry (gaps; never stored) */
	HS_SNAP_LEAF,  /* valid block or page */
	HS_SNAP_ANNOT, /* stage 2 owner annotation */
	HS_SNAP_BAD,   /* malformed entry, or a non-zero invalid stage 2 entry that is no annotation
			*/
};

/* One merged range of a page table. */
struct hs_snap_pt_range {
	uint64_t start, end; /* input addresses (IPA or VA), end exclusive */
	uint64_t oa;	     /* LEAF: output address of start (contiguous to end) */
	uint64_t attr;	     /* LEAF: descriptor without OA, SW state, bits [1:0]; BAD: raw */
	uint64_t meta;	     /* ANNOT: metadata of the first page (guest gfn advances per page) */
	uint8_t kind;	     /* enum hs_snap_kind */
	uint8_t state;	     /* LEAF: HS_PAGE_* from SW bits [56:55] */
	uint8_t owner;	     /* ANNOT: HS_OWNER_* */
	uint8_t perm;	     /* LEAF: effective HS_PT_PERM_* */
	int8_t level;	     /* level of the first entry (not compared by the diff) */
	uint8_t device;	     /* LEAF: Device memory type */
	uint8_t block;	     /* some entry of the range is above the last level */
};

/* Decoded struct hs_hyp_page: normalised so equal pages compare equal as integers. */
#define HS_VM_RC(v) ((unsigned)((v)&0xffff))
#define HS_VM_ORDER(v) ((unsigned)(((v) >> 16) & 0xff))
#define HS_VM_HOST(v) ((unsigned)(((v) >> 24) & 0xf))
#define HS_VM_HYP(v) ((unsigned)(((v) >> 28) & 0xf))
#define HS_VM_SHARES(v) ((uint32_t)((v) >> 32))
uint64_t hs_vm_normalise(const struct hs_vmemmap_layout *l, uint64_t raw);

/* A run of pages whose vmemmap entries decode identically. */
struct hs_snap_vm_range {
	uint64_t start, end; /* PA */
	uint64_t val;	     /* normalised entry (HS_VM_* accessors) */
	bool backed;	     /* the vmemmap page holding these entries is mapped at EL2 */
};

/* A table page met during a walk. */
struct hs_snap_table_page {
	uint64_t pa;
	uint32_t live;	/* stage 1: valid entries; stage 2: non-zero entries */
	int8_t level;	/* level of its entries */
	uint8_t table;	/* enum hs_snap_table (HOST_S2, HYP_S1 or GUEST_S2) */
	uint16_t guest; /* GUEST_S2: index in hs_snapshot.guests */
};

/*
 * One live VM as the hypervisor's VM table records it, and its stage 2.
 * A slot whose VM could not be read or walked is kept with ok == false and
 * the reason in error (the checker reports it), never dropped silently.
 */
struct hs_snap_guest {
	uint64_t handle;	 /* HS_VM_HANDLE_OFFSET + slot (what the slot stands for) */
	unsigned slot;		 /* index in the VM table */
	uint64_t vm_va, vm_pa;	 /* the struct's HYP VA (from the table) and PA */
	struct hs_vm_layout abi; /* the start of the struct as read (handle, VTTBR, VTCR, ...) */
	uint16_t vmid;		 /* VTTBR_EL2[63:48] */
	bool ok;		 /* read and walked */
	char error[120];
	struct hs_pt_regime r;
	struct hs_snap_pt_range *pt; /* sorted by IPA */
	size_t nr_pt, cap_pt;
	unsigned nr_malformed;
};

#define HS_SNAP_F_TABLES (1u << 0) /* also record table pages */
/*
 * Only the guests (the VM table and each VM's stage 2; have_guests): no EL2 stage-1,
 * host stage-2 or vmemmap ranges. What the TLB checker needs, without reading the
 * vmemmap (32 MiB at 16 GiB) and walking two whole tables.
 */
#define HS_SNAP_F_GUESTS (1u << 1)

struct hs_snap_array {
	void *v;
	size_t nr, cap;
};

struct hs_snapshot {
	unsigned flags;
	uint64_t icount; /* machine instruction count when taken */
	bool have_s1, have_s2, have_vm;
	struct hs_pt_regime s1, s2;
	uint64_t vmemmap_base;		 /* HYP VA of pfn 0's entry (vmm.base_va) */
	struct hs_vmemmap_layout vmm;	 /* the hypervisor's vmemmap entry (its profile's) */
	const struct hs_pt_swenc *swenc; /* owner and state names (the profile's) */
	struct hs_memblock_region mem[HS_MAX_MEMBLOCK_REGIONS];
	unsigned nr_mem;
	/* sorted by start, non-overlapping */
	struct hs_snap_pt_range *pt[2]; /* [HS_SNAP_HOST_S2], [HS_SNAP_HYP_S1] */
	size_t nr_pt[2], cap_pt[2];
	struct hs_snap_vm_range *vm;
	size_t nr_vm, cap_vm;
	struct hs_snap_table_page *tables;
	size_t nr_tables, cap_tables;
	unsigned nr_malformed; /* walker MALFORMED visits */
	/* guests: sorted by handle; buffers kept over cap_guests for reuse */
	bool have_guests; /* the VM table was found and read (0 VMs is fine) */
	struct hs_snap_guest *guests;
	size_t nr_guests, cap_guests;
};

/* Zero a snapshot before first use (hs_snapshot_take() reuses its buffers). */
void hs_snapshot_init(struct hs_snapshot *s);
void hs_snapshot_free(struct hs_snapshot *s);
/*
 * Make dst (initialised) equal to src, reusing dst's buffers. Costs the
 * number of ranges, never memory. Return: 0 or -ENOMEM (dst then unusable
 * until taken or copied again).
 */
int hs_snapshot_copy(struct hs_snapshot *dst, const struct hs_snapshot *src);

/*
 * hs_snapshot_take() - capture the machine's tables through CPU 0's
 * TTBR0_EL2/TCR_EL2/MAIR_EL2 (when SCTLR_EL2.M is set) and VTTBR_EL2/VTCR_EL2
 * (when VTTBR is set), the vmemmap through that EL2 stage 1, and the memory
 * regions from `hyp_memory` (the machine's RAM before __pkvm_init).
 * Reuses s's buffers; only reads memory, so it may run in an event callback.
 * Return: 0, or a negative code with err filled.
 */
int hs_snapshot_take(struct hs_machine *m, unsigned flags, struct hs_snapshot *s,
		     struct hs_error *err);

/*
 * Lower-level builders for synthetic tables (benchmarks, tests): walk one
 * regime through phys into s (table = HS_SNAP_HOST_S2 or HS_SNAP_HYP_S1).
 */
int hs_snapshot_walk(struct hs_snapshot *s, enum hs_snap_table table, const struct hs_phys *phys,
		     const struct hs_pt_regime *r, struct hs_error *err);

/*
 * Pieces of a snapshot, for the incremental checker, which keeps one up to
 * date by re-reading only what changed and splicing it in.
 *
 * hs_snapshot_walk_part() - the ranges of [start, end) of one regime, merged
 * as hs_snapshot_take() merges them, into the growable array *v (*nr reset).
 * Entries overlapping the window are visited whole (so give windows aligned
 * to entries), the tables above it only on the path down. observe, when not
 * NULL, sees every visit first (a non-zero return stops the walk); no table
 * records are kept.
 */
typedef int (*hs_snap_visit_fn)(const struct hs_pt_visit_ctx *c, void *arg);
int hs_snapshot_walk_part(const struct hs_phys *phys, const struct hs_pt_regime *r,
			  enum hs_snap_table table, uint64_t start, uint64_t end,
			  struct hs_snap_pt_range **v, size_t *nr, size_t *cap,
			  hs_snap_visit_fn observe, void *arg, struct hs_error *err);
/*
 * The vmemmap entries of the pages [base, base + size) read through the EL2
 * stage-1 ranges of s, run-length encoded as hs_snapshot_take() does, into
 * *v (*nr reset). Return: 0 or -ENOMEM.
 */
int hs_snapshot_read_vmemmap_part(struct hs_machine *m, const struct hs_snapshot *s, uint64_t base,
				  uint64_t size, struct hs_snap_vm_range **v, size_t *nr,
				  size_t *cap);
/* Make room for need elements of elem bytes in *v (capacity *cap, doubled). 0 or -ENOMEM. */
int hs_snap_grow(void **v, size_t *cap, size_t need, size_t elem);
/* Does hs_snapshot_take() merge range b into range a (b starting where a ends)? */
bool hs_snap_pt_mergeable(const struct hs_snap_pt_range *a, const struct hs_snap_pt_range *b);
/* The part [at, end) of r: output address and guest gfn advanced. */
struct hs_snap_pt_range hs_snap_pt_clip(const struct hs_snap_pt_range *r, uint64_t at,
					uint64_t end);

/* The VM with this handle in the snapshot, or NULL. */
const struct hs_snap_guest *hs_snap_guest_find(const struct hs_snapshot *s, uint64_t handle);
/* The range of guest g's stage 2 holding ipa, or NULL. */
const struct hs_snap_pt_range *hs_snap_guest_pt_find(const struct hs_snap_guest *g, uint64_t ipa);

/*
 * PA coverage by guest leaves: sorted, non-overlapping segments with the
 * number of guest leaves (over all VMs) mapping them, keeping only leaves
 * whose SW state is in state_mask (bit (1 << HS_PAGE_*); ~0u for all).
 * Segments with count 0 are left out. *out is malloc'd (free it).
 * Return: 0 or -ENOMEM.
 */
struct hs_snap_cover {
	uint64_t start, end;
	uint32_t count;
};
int hs_snap_guest_cover(const struct hs_snapshot *s, unsigned state_mask,
			struct hs_snap_cover **out, size_t *nr);

/*
 * Binary search in n elements of `stride` bytes sorted by address, each with
 * an exclusive uint64_t end at byte offset end_off: the index of the first
 * element ending above addr, i.e. the one holding addr or else the next one
 * (n when none).
 */
size_t hs_snap_lower(const void *v, size_t n, size_t stride, size_t end_off, uint64_t addr);
static inline size_t hs_snap_pt_lower(const struct hs_snap_pt_range *v, size_t n, uint64_t addr)
{
	return hs_snap_lower(v, n, sizeof(*v), offsetof(struct hs_snap_pt_range, end), addr);
}
static inline size_t hs_snap_vm_lower(const struct hs_snapshot *s, uint64_t pa)
{
	return hs_snap_lower(s->vm, s->nr_vm, sizeof(*s->vm),
			     offsetof(struct hs_snap_vm_range, end), pa);
}

/* Binary searches: the range holding addr, or NULL (a gap). */
const struct hs_snap_pt_range *hs_snap_pt_find(const struct hs_snapshot *s,
					       enum hs_snap_table table, uint64_t addr);
const struct hs_snap_vm_range *hs_snap_vm_find(const struct hs_snapshot *s, uint64_t pa);
/* The region index holding pa, or -1. */
int hs_snap_mem_region(const struct hs_snapshot *s, uint64_t pa);

/* ---- diff ---------------------------------------------------------------- */
#define HS_CHG_MAPPED (1u << 0)	  /* empty -> valid leaf */
#define HS_CHG_UNMAPPED (1u << 1) /* valid leaf -> empty */
#define HS_CHG_PERM (1u << 2)	  /* effective permissions */
#define HS_CHG_OWNER (1u << 3)	  /* annotation appeared/vanished/changed owner or metadata */
#define HS_CHG_STATE (1u << 4)	  /* SW page state (tables) or host/hyp state (vmemmap) */
#define HS_CHG_REMAP (1u << 5)	  /* output address changed */
#define HS_CHG_ATTR (1u << 6)	  /* other descriptor attributes (memory type, AF, ...) */
#define HS_CHG_REFCOUNT (1u << 7) /* vmemmap refcount, order or guest-share count */
#define HS_CHG_BACKING (1u << 8)  /* vmemmap page became (un)backed */
#define HS_CHG_BAD (1u << 9)	  /* a malformed entry appeared, vanished or changed */

struct hs_diff_rec {
	enum hs_snap_table table;
	uint64_t vm;	  /* GUEST_S2: the VM's handle (start/end are IPAs); 0 otherwise */
	unsigned changes; /* HS_CHG_* */
	uint64_t start, end;
	/* tables: the ranges before/after, clipped to [start, end) (kind EMPTY for gaps) */
	struct hs_snap_pt_range old_pt, new_pt;
	/* vmemmap: entries before/after */
	struct hs_snap_vm_range old_vm, new_vm;
};

struct hs_diff {
	struct hs_diff_rec *recs;
	size_t nr, cap;
	unsigned changes;		 /* union of all records' changes */
	const struct hs_pt_swenc *swenc; /* names of owners and states (b's) */
};

/*
 * hs_snapshot_diff() - what changed from a to b, per table (each VM's stage 2
 * is its own table, matched by handle; a VM that appeared or vanished diffs
 * against an empty stage 2), as records over
 * maximal address ranges (adjacent pieces with the same changes and the same
 * before/after attributes merge). Cost is linear in the number of ranges.
 * d is reset first (its buffer is reused). Return: 0 or -ENOMEM.
 */
int hs_snapshot_diff(const struct hs_snapshot *a, const struct hs_snapshot *b, struct hs_diff *d);
void hs_diff_init(struct hs_diff *d);
void hs_diff_free(struct hs_diff *d);
/* Number of pages (4 KiB) covered by records of `table` having any of `changes`. */
uint64_t hs_diff_pages(const struct hs_diff *d, enum hs_snap_table table, unsigned changes);

/* "mapped,state" style list of HS_CHG_* names. */
void hs_chg_str(struct hs_strbuf *sb, unsigned changes);
/* Text: one line per record; JSON: an array of objects. */
void hs_diff_text(struct hs_strbuf *sb, const struct hs_diff *d);
void hs_diff_json(struct hs_strbuf *sb, const struct hs_diff *d);
/* One range of a table as text / a JSON object (no newline). */
void hs_snap_pt_range_text(struct hs_strbuf *sb, const struct hs_pt_swenc *e,
			   enum hs_snap_table table, const struct hs_snap_pt_range *r);
void hs_snap_pt_range_json(struct hs_strbuf *sb, const struct hs_pt_swenc *e,
			   enum hs_snap_table table, const struct hs_snap_pt_range *r);
void hs_snap_vm_text(struct hs_strbuf *sb, const struct hs_pt_swenc *e, uint64_t val, bool backed);
void hs_snap_vm_json(struct hs_strbuf *sb, const struct hs_pt_swenc *e, uint64_t val, bool backed);

#endif
