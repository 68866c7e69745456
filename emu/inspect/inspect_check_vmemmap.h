/* SPDX-License-Identifier: MIT */
/*
 * The vmemmap as the incremental checker keeps it: which physical pages back
 * the vmemmap window (through the EL2 stage 1), and re-reading only the
 * entries that changed into the snapshot's run-length encoded runs.
 *
 * A written page that backs the vmemmap is compared with a copy kept of it
 * (for the pages written lately; the first write reads all 512 entries), so
 * a hypercall that moves two refcounts costs two entries. A change of the
 * EL2 stage 1 over the window re-reads the entries it covers.
 */
#ifndef HS_INSPECT_CHECK_VMEMMAP_H
#define HS_INSPECT_CHECK_VMEMMAP_H

#include "inspect_check_ranges.h"
#include "inspect_snapshot.h"

#define HS_CHK_VCOPY_BITS 6

struct hs_chk_vmemmap {
	struct hs_chk_backing {
		uint64_t pa, end, va; /* [pa, end) holds the entries at HYP VA va */
	} * back;
	size_t nr_back, cap_back;
	struct {
		uint64_t pa;
		uint64_t *copy; /* NULL: free slot */
	} copy[1u << HS_CHK_VCOPY_BITS];
	struct hs_chk_windows todo; /* pages (PA) whose entries to read again */
	struct hs_snap_vm_range *runs;
	size_t nr_runs, cap_runs;
	struct hs_chk_scratch sc;
};

/* Which pages back the vmemmap, from s's EL2 stage 1 (after a rebuild or a stage-1 change). */
int hs_chk_vmemmap_index(struct hs_chk_vmemmap *v, const struct hs_snapshot *s);
/* The page at pa was written: note the entries that changed, if it backs the vmemmap. */
int hs_chk_vmemmap_written(struct hs_chk_vmemmap *v, struct hs_machine *m,
			   const struct hs_snapshot *s, uint64_t pa);
/* The EL2 stage 1 changed over [va, va_end): note the entries there. */
int hs_chk_vmemmap_remapped(struct hs_chk_vmemmap *v, const struct hs_snapshot *s, uint64_t va,
			    uint64_t va_end);
/*
 * Read the noted entries again into s's runs. changed: the PA windows whose
 * entries changed; *shares set when some of them count guest shares (before
 * or after: the guest rules read those).
 */
int hs_chk_vmemmap_update(struct hs_chk_vmemmap *v, struct hs_machine *m, struct hs_snapshot *s,
			  struct hs_chk_windows *changed, bool *shares);
void hs_chk_vmemmap_free(struct hs_chk_vmemmap *v);

#endif
