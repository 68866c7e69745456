/* SPDX-License-Identifier: MIT */
/*
 * Code breakpoints (see code_breakpoints.h): one single-address Unicorn code hook
 * per alias and CPU. Unicorn decides at translation time which instructions
 * call code hooks, so arming or disarming one drops the translated code of
 * its page on every CPU, by physical page (hs_code_invalidate), which covers
 * every virtual address the page was translated at. Nothing else is flushed.
 */
#include "code_breakpoints.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "machine_priv.h"

void hs_code_invalidate(struct hs_machine *m, uint64_t pa, uint64_t len)
{
	uint64_t base = m->opts.ram_base, end = base + m->opts.ram_size;
	if (pa >= end || pa + len <= base)
		return;
	if (pa < base) {
		len -= base - pa;
		pa = base;
	}
	if (pa + len > end)
		len = end - pa;
	/* Whole pages: a block may start anywhere on the page and end in the next one. */
	uint64_t p0 = pa & ~(uint64_t)(HS_PAGE_SIZE - 1);
	uint64_t p1 = (pa + len + HS_PAGE_SIZE - 1) & ~(uint64_t)(HS_PAGE_SIZE - 1);
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (m->cpus[i].uc)
			hs_quirk_drop_code(m->cpus[i].uc, p0 - base, p1 - p0);
}

static struct hs_bp *find(const struct hs_machine *m, int id)
{
	for (unsigned i = 0; i < m->dbg.nr_bps; i++)
		if (m->dbg.bps[i]->id == id)
			return m->dbg.bps[i];
	return NULL;
}

static void on_break(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct hs_bp_hook *hk = ud;
	struct hs_cpu *c = hk->cpu;
	(void)size;
	if (c->dbg.skip_armed && address == c->dbg.skip_pc && hk->skipped != c->dbg.skip_gen) {
		/* The instruction the run resumes at: it executes (each breakpoint there lets it).
		 */
		hk->skipped = c->dbg.skip_gen;
		return;
	}
	/* A single step ends here anyway; the run loop reports the breakpoint (hs_dbg_step_landed).
	 */
	if (c->dbg.step_count && c->dbg.step_done >= c->dbg.step_count)
		return;
	if (c->stop != HS_STOP_NONE)
		return;
	hk->bp->hits++;
	c->dbg.hit_bp = hk->bp->id;
	hs_cpu_cut_block(c, address);
	c->stop = HS_STOP_BREAKPOINT;
	uc_emu_stop(uc);
}

/* Drop the translated code at each alias, so that the hooks take effect (or go). */
static void invalidate(struct hs_machine *m, const struct hs_bp *bp)
{
	for (unsigned k = 0; k < bp->nr_va; k++) {
		if (bp->pa[k] != UINT64_MAX) {
			hs_code_invalidate(m, bp->pa[k], 4);
			continue;
		}
		/* Not RAM we know (e.g. a guest address): the current regime's view. */
		for (unsigned i = 0; i < m->nr_cpus; i++)
			uc_ctl_remove_cache(m->cpus[i].uc, bp->va[k], bp->va[k] + 4);
	}
}

static void disarm(struct hs_machine *m, struct hs_bp *bp)
{
	for (unsigned i = 0; i < m->nr_cpus; i++)
		for (unsigned k = 0; k < bp->nr_va; k++)
			if (bp->hooks[i].h[k]) {
				uc_hook_del(m->cpus[i].uc, bp->hooks[i].h[k]);
				bp->hooks[i].h[k] = 0;
			}
	invalidate(m, bp);
}

static int arm(struct hs_machine *m, struct hs_bp *bp, struct hs_error *err)
{
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_bp_hook *hk = &bp->hooks[i];
		hk->bp = bp;
		hk->cpu = &m->cpus[i];
		for (unsigned k = 0; k < bp->nr_va; k++) {
			uint64_t a = bp->va[k];
			uc_err e = uc_hook_add(m->cpus[i].uc, &hk->h[k], UC_HOOK_CODE,
					       (void *)on_break, hk, a, a);
			if (e) {
				hk->h[k] = 0;
				disarm(m, bp);
				return hs_err(err, -EIO,
					      "cpu%u: cannot add a code hook at %#" PRIx64 ": %s",
					      i, a, uc_strerror(e));
			}
		}
	}
	invalidate(m, bp);
	return 0;
}

/* The addresses the same instruction is fetched at, and their RAM addresses. */
static void aliases(struct hs_machine *m, struct hs_bp *bp)
{
	uint64_t link;
	bp->nr_va = 0;
	if (hs_addr_to_link(m, bp->addr, &link)) {
		/* In the image: its PA (MMU off, idmap) and its HYP VA. */
		uint64_t pa = hs_link_to_pa(m, link);
		bp->va[bp->nr_va] = pa;
		bp->pa[bp->nr_va++] = pa;
		uint64_t va = hs_link_to_hyp_va(m, link);
		if (va != pa) {
			bp->va[bp->nr_va] = va;
			bp->pa[bp->nr_va++] = pa;
		}
		return;
	}
	bp->va[0] = bp->addr;
	bp->pa[0] = hs_phys_is_ram(m, bp->addr, 4) ? bp->addr : UINT64_MAX;
	bp->nr_va = 1;
}

int hs_break_add(struct hs_machine *m, uint64_t addr, struct hs_error *err)
{
	if (addr & 3)
		return hs_err(err, -EINVAL, "%#" PRIx64 " is not 4-byte aligned: no instruction",
			      addr);
	struct hs_dbg *d = &m->dbg;
	if (d->nr_bps == d->cap_bps) {
		unsigned cap = d->cap_bps ? 2 * d->cap_bps : 16;
		struct hs_bp **v = realloc(d->bps, cap * sizeof(*v));
		if (!v)
			return hs_err(err, -ENOMEM, "out of memory");
		d->bps = v;
		d->cap_bps = cap;
	}
	struct hs_bp *bp = calloc(1, sizeof(*bp));
	if (!bp)
		return hs_err(err, -ENOMEM, "out of memory");
	bp->id = ++d->next_bp_id;
	bp->addr = addr;
	bp->enabled = true;
	aliases(m, bp);
	int rc = arm(m, bp, err);
	if (rc) {
		free(bp);
		return rc;
	}
	d->bps[d->nr_bps++] = bp;
	return bp->id;
}

int hs_break_delete(struct hs_machine *m, int id, struct hs_error *err)
{
	struct hs_dbg *d = &m->dbg;
	for (unsigned i = 0; i < d->nr_bps; i++) {
		struct hs_bp *bp = d->bps[i];
		if (bp->id != id)
			continue;
		if (bp->enabled)
			disarm(m, bp);
		free(bp);
		memmove(&d->bps[i], &d->bps[i + 1], (d->nr_bps - i - 1) * sizeof(d->bps[0]));
		d->nr_bps--;
		for (unsigned c = 0; c < m->nr_cpus; c++)
			if (m->cpus[c].dbg.hit_bp == id)
				m->cpus[c].dbg.hit_bp = 0;
		return 0;
	}
	return hs_err(err, -ENOENT, "no breakpoint %d", id);
}

int hs_break_enable(struct hs_machine *m, int id, bool on, struct hs_error *err)
{
	struct hs_bp *bp = find(m, id);
	if (!bp)
		return hs_err(err, -ENOENT, "no breakpoint %d", id);
	if (bp->enabled == on)
		return 0;
	if (on) {
		int rc = arm(m, bp, err);
		if (rc)
			return rc;
	} else {
		disarm(m, bp);
	}
	bp->enabled = on;
	return 0;
}

int hs_break_info(const struct hs_machine *m, int id, struct hs_break_info *out)
{
	const struct hs_bp *bp = find(m, id);
	if (!bp)
		return -ENOENT;
	*out = (struct hs_break_info){.id = bp->id,
				      .enabled = bp->enabled,
				      .addr = bp->addr,
				      .hits = bp->hits,
				      .naddrs = bp->nr_va};
	memcpy(out->addrs, bp->va, bp->nr_va * sizeof(bp->va[0]));
	return 0;
}

/* ---- around a run (cpu.c) --------------------------------------------------- */

void hs_dbg_note_stopped(struct hs_cpu *c)
{
	c->dbg.stopped_pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	c->dbg.stopped_valid = true;
}

int hs_dbg_run_begin(struct hs_cpu *c, uint64_t count, struct hs_error *err)
{
	struct hs_machine *m = c->m;
	uint64_t pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	c->dbg.hit_bp = 0;
	c->dbg.hit_stepped = false;
	c->dbg.skip_armed = false;
	c->dbg.pending.on = false;
	c->dbg.resume_pc_valid = false;
	bool resuming = c->dbg.stopped_valid && c->dbg.stopped_pc == pc;
	c->dbg.stopped_valid = false;
	if (resuming && hs_dbg_bp_at(m, pc))
		hs_dbg_skip_at(&c->dbg, pc);
	return hs_step_arm(c, count, err);
}

struct hs_bp *hs_dbg_bp_at(const struct hs_machine *m, uint64_t pc)
{
	for (unsigned i = 0; i < m->dbg.nr_bps; i++) {
		struct hs_bp *bp = m->dbg.bps[i];
		for (unsigned k = 0; bp->enabled && k < bp->nr_va; k++)
			if (bp->va[k] == pc)
				return bp;
	}
	return NULL;
}

bool hs_dbg_step_landed(struct hs_cpu *c)
{
	struct hs_bp *bp = hs_dbg_bp_at(c->m, hs_cpu_reg(c, UC_ARM64_REG_PC));
	if (!bp)
		return false;
	bp->hits++;
	c->dbg.hit_bp = bp->id;
	c->dbg.hit_stepped = true;
	c->stop = HS_STOP_BREAKPOINT;
	return true;
}

void hs_dbg_block(struct hs_cpu *c, uint64_t pc)
{
	hs_watch_block(c, pc);
	/*
	 * A relaxed load per block: the block hook runs anyway, so Ctrl-C costs
	 * nothing. Only below EL2 (the host or a guest), like the limit: the
	 * request waits for the next block at EL1; a hypervisor looping at EL2
	 * meets the limit.
	 */
	if (!atomic_load_explicit(&c->m->interrupt, memory_order_relaxed) ||
	    c->stop != HS_STOP_NONE || hs_cpu_el(c) >= 2 ||
	    !atomic_exchange(&c->m->interrupt, false))
		return;
	hs_cpu_cut_block(c, pc);
	c->dbg.resume_pc = pc;
	c->dbg.resume_pc_valid = true;
	c->stop = HS_STOP_INTERRUPTED;
	uc_emu_stop(c->uc);
}

bool hs_dbg_run_settle(struct hs_cpu *c, struct hs_error *err)
{
	c->dbg.skip_armed = false;
	if (c->dbg.resume_pc_valid) {
		/* Stopped from the block hook: Unicorn's PC may be an older block's. */
		c->dbg.resume_pc_valid = false;
		hs_cpu_set_reg(c, UC_ARM64_REG_PC, c->dbg.resume_pc);
	}
	if (c->stop == HS_STOP_WATCH)
		return hs_watch_settle(c, err);
	return true;
}

int hs_dbg_stop_bp(struct hs_cpu *c)
{
	return c->stop == HS_STOP_BREAKPOINT ? c->dbg.hit_bp : 0;
}

void hs_dbg_fini(struct hs_machine *m)
{
	for (unsigned i = 0; i < m->dbg.nr_bps; i++)
		free(m->dbg.bps[i]);
	free(m->dbg.bps);
	m->dbg.bps = NULL;
	m->dbg.nr_bps = m->dbg.cap_bps = 0;
}

const struct hs_cpu_debugger hs_dbg_cpu_debugger = {
    .run_begin = hs_dbg_run_begin,
    .run_settle = hs_dbg_run_settle,
    .block = hs_dbg_block,
    .exception = hs_watch_exception,
};
