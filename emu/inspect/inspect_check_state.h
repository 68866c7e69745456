/* SPDX-License-Identifier: MIT */
/*
 * The incremental checker's decoded state: a snapshot (with table pages)
 * kept equal to what hs_snapshot_take() would return now, by re-reading only
 * the pages the write log names:
 *
 *   - a written table page (host stage 2, EL2 stage 1, a guest's stage 2) is
 *     compared with the copy kept of it; the entries that differ are walked
 *     again (with the snapshot's own walker, window by window) and the ranges
 *     spliced in, tables that appeared or vanished under them included;
 *   - a written page that backs the vmemmap (or a change of the EL2 stage 1
 *     over the vmemmap) has its entries decoded again and spliced in;
 *   - the small things (the translation registers of CPU 0, the memory
 *     regions, the VM table and each VM's header) are re-read every time and
 *     compared: when one differs, only a fresh snapshot will do.
 *
 * Any case it cannot handle exactly (malformed tables, a table reached twice,
 * a changed register) makes the update fail with a reason; the caller then
 * takes a fresh snapshot. Nothing here evaluates rules.
 */
#ifndef HS_INSPECT_CHECK_STATE_H
#define HS_INSPECT_CHECK_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inspect_check_ranges.h"
#include "inspect_snapshot.h"

/* What an update changed, for the rules to re-evaluate. */
struct hs_chk_changes {
	struct hs_chk_windows s2; /* IPA (= PA) windows of host stage-2 entries that changed */
	struct hs_chk_windows s1; /* VA windows holding every EL2 stage-1 range replaced */
	struct hs_chk_windows vm; /* PA windows whose vmemmap entries changed */
	bool tables;		  /* table pages came, went, or changed their live entries */
	bool guests;		  /* some guest stage 2 changed */
	bool shares;		  /* a vmemmap entry that changed counts guest shares (or did) */
	bool guest_annots;	  /* a host stage-2 GUEST annotation changed (came, went, moved) */
};

void hs_chk_changes_init(struct hs_chk_changes *ch);
void hs_chk_changes_free(struct hs_chk_changes *ch);
bool hs_chk_changes_none(const struct hs_chk_changes *ch);

struct hs_chk_state;

int hs_chk_state_new(struct hs_machine *m, struct hs_chk_state **out, struct hs_error *err);
void hs_chk_state_free(struct hs_chk_state *st);

/*
 * Take a fresh snapshot (with table pages) and index it. Return: 0, or
 * hs_snapshot_take()'s error (err filled). Later updates are possible only
 * when hs_chk_state_why() is NULL afterwards (a booted machine whose tables
 * the indexes describe exactly).
 */
int hs_chk_state_rebuild(struct hs_chk_state *st, struct hs_error *err);

/*
 * Bring the snapshot up to date with the pages written since the last
 * rebuild or update (page addresses, sorted). Return: 0 with ch filled
 * (reset first), or 1 when only a rebuild can: hs_chk_state_why() says why.
 */
int hs_chk_state_update(struct hs_chk_state *st, const uint64_t *pages, size_t nr,
			struct hs_chk_changes *ch);

/* Why the last rebuild or update left the state unusable for updates (NULL: usable). */
const char *hs_chk_state_why(const struct hs_chk_state *st);
const struct hs_snapshot *hs_chk_state_snapshot(const struct hs_chk_state *st);

#endif
