/* SPDX-License-Identifier: MIT */
/*
 * Rules checked by a sweep over short lists on every check, the incremental
 * one included: the pages the hypervisor has pinned (a handful), and the
 * host stage-2 leaves outside memory (MMIO: a few ranges). Both compare one
 * table with another the page rules do not read together.
 */
#include <hypscope/abi.h>
#include <inttypes.h>

#include "inspect_check_priv.h"
#include "pt_decode.h"

#define S2 HS_CHK_T_HOST_S2
#define S1 HS_CHK_T_HYP_S1
#define VM HS_CHK_T_VMEMMAP

/* Does some EL2 stage-1 leaf map the page at pa? */
static bool el2_maps(const struct hs_snapshot *s, uint64_t pa)
{
	const struct hs_snap_pt_range *r = s->pt[HS_SNAP_HYP_S1];
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++)
		if (r[i].kind == HS_SNAP_LEAF && pa - r[i].oa < r[i].end - r[i].start)
			return true;
	return false;
}

/*
 * docs/ownership.md: a shared page is mapped at EL2 "only while pinned", and
 * the first pin maps it: a pin count above 0 with no EL2 mapping means the
 * hypervisor counts a pin it cannot use (a later unpin would unmap nothing).
 */
static void check_pins(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	for (size_t i = 0; i < s->nr_vm; i++) {
		const struct hs_snap_vm_range *v = &s->vm[i];
		if (!v->backed || HS_VM_HYP(v->val) != HS_PAGE_SHARED_BORROWED || !HS_VM_RC(v->val))
			continue;
		uint64_t run = 0;
		for (uint64_t pa = v->start; pa <= v->end; pa += HS_PAGE_SIZE) {
			bool missing = pa < v->end && !el2_maps(s, pa);
			if (missing) {
				run++;
				continue;
			}
			if (run) {
				uint64_t first = pa - run * HS_PAGE_SIZE;
				hs_chk_report(rep, "el2-pinned-mapped", first, run, S1 | VM,
					      "pinned %u times by hyp (SHARED_BORROWED) but not "
					      "mapped at EL2",
					      HS_VM_RC(v->val));
			}
			run = 0;
		}
	}
}

/*
 * ownership.md "Host stage-2 faults": the gaps between memory regions are
 * mapped for the host as device memory, read-write and execute-never. A
 * Normal or executable leaf there would let the host cache device space or
 * run code from it.
 */
static void check_mmio(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	const struct hs_snap_pt_range *r = s->pt[HS_SNAP_HOST_S2];
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HOST_S2]; i++) {
		if (r[i].kind != HS_SNAP_LEAF || hs_snap_mem_region(s, r[i].start) >= 0)
			continue;
		if (r[i].device && !(r[i].perm & HS_PT_PERM_X))
			continue;
		hs_chk_report(rep, "s2-mmio", r[i].start, (r[i].end - r[i].start) >> HS_PAGE_SHIFT,
			      S2, "host stage 2 maps MMIO %#" PRIx64 "-%#" PRIx64 " as %s%s memory",
			      r[i].start, r[i].end - 1, r[i].device ? "Device" : "Normal",
			      r[i].perm & HS_PT_PERM_X ? ", executable" : "");
	}
}

void hs_chk_sweep(const struct hs_snapshot *s, struct hs_check_report *rep)
{
	check_pins(s, rep);
	check_mmio(s, rep);
}
