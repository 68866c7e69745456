/* SPDX-License-Identifier: MIT */
#include "inspect_snapshot_live.h"

#include <errno.h>
#include <stdlib.h>

#include "inspect_check_state.h"
#include "profile.h"
#include "hyp_state.h"
#include "write_log.h"

struct hs_snap_live {
	struct hs_machine *m;
	struct hs_write_log_reader *log; /* open once the machine is booted */
	struct hs_chk_state *st;
	bool built; /* st holds a snapshot taken since the log opened */
	struct hs_chk_changes ch;
	struct hs_snap_live_stats stats;
};

int hs_snap_live_new(struct hs_machine *m, struct hs_snap_live **out, struct hs_error *err)
{
	struct hs_snap_live *l = calloc(1, sizeof(*l));
	if (!l)
		return hs_err(err, -ENOMEM, "snapshot: out of memory");
	l->m = m;
	hs_chk_changes_init(&l->ch);
	int rc = hs_chk_state_new(m, &l->st, err);
	if (rc) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void hs_snap_live_free(struct hs_snap_live *l)
{
	if (!l)
		return;
	hs_write_log_close(l->log);
	hs_chk_state_free(l->st);
	hs_chk_changes_free(&l->ch);
	free(l);
}

void hs_snap_live_stats(const struct hs_snap_live *l, struct hs_snap_live_stats *st)
{
	*st = l->stats;
}

/* Bring the kept state up to date: in place when the write log allows it, else afresh. */
static int refresh(struct hs_snap_live *l, struct hs_error *err)
{
	struct hs_write_log_pages pg;
	hs_write_log_take(l->log, &pg);
	l->stats.pages += pg.nr;
	if (l->built && !pg.lost && !hs_chk_state_why(l->st) &&
	    !hs_chk_state_update(l->st, pg.pa, pg.nr, &l->ch))
		return 0;
	l->stats.fresh++;
	l->built = false;
	int rc = hs_chk_state_rebuild(l->st, err);
	l->built = rc == 0;
	return rc;
}

/*
 * Does a snapshot now see a protected host (the EL2 stage 1 and the host
 * stage 2, as hs_snapshot_take() finds them through CPU 0)? Only then can the
 * checker's state be updated in place.
 */
static bool protected_host(struct hs_machine *m)
{
	uint64_t sctlr = 0, vtcr = 0, vttbr = 0;
	hs_cpu_sysreg(m, 0, HS_SR_SCTLR_EL2, &sctlr);
	hs_host_s2_regs(m, 0, &vtcr, &vttbr);
	return (sctlr & 1) && (vttbr & 0x0000fffffffff000ULL);
}

int hs_snap_live_take(struct hs_snap_live *l, struct hs_snapshot *out, struct hs_error *err)
{
	l->stats.takes++;
	/*
	 * Before the host is protected, the boot itself writes most of what a
	 * snapshot reads (the whole vmemmap): hooking its stores would cost more
	 * than reading.
	 */
	/* The checker's state tracks the bundled layouts only (hs_check_incr_new too). */
	if (!hs_profile_of(l->m)->check_incremental) {
		l->stats.fresh++;
		return hs_snapshot_take(l->m, 0, out, err);
	}
	if (!l->log && protected_host(l->m) && hs_write_log_open(l->m, &l->log, NULL))
		l->log = NULL;
	if (!l->log) {
		l->stats.fresh++;
		return hs_snapshot_take(l->m, 0, out, err);
	}
	int rc = refresh(l, err);
	if (rc)
		return rc;
	if (hs_snapshot_copy(out, hs_chk_state_snapshot(l->st)))
		return hs_err(err, -ENOMEM, "snapshot: out of memory");
	/* as hs_snapshot_take(m, 0, ...) leaves it: no table pages */
	out->flags = 0;
	out->nr_tables = 0;
	return 0;
}
