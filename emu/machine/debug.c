/* SPDX-License-Identifier: MIT */
#include "debug.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "machine_priv.h"
#include "pt_walk.h"

int hs_break_on_ec(struct hs_machine *m, unsigned ec, bool on, struct hs_error *err)
{
	if (ec > 0x3f)
		return hs_err(err, -EINVAL, "exception class %#x does not exist (0..0x3f)", ec);
	if (on)
		m->dbg.break_ec |= 1ULL << ec;
	else
		m->dbg.break_ec &= ~(1ULL << ec);
	return 0;
}

int hs_break_on_hvc(struct hs_machine *m, uint64_t fn, bool on, struct hs_error *err)
{
	for (unsigned i = 0; i < m->dbg.nr_break_hvc; i++) {
		if (m->dbg.break_hvc[i] != fn)
			continue;
		if (!on)
			m->dbg.break_hvc[i] = m->dbg.break_hvc[--m->dbg.nr_break_hvc];
		return 0;
	}
	if (!on)
		return 0;
	if (m->dbg.nr_break_hvc == HS_DBG_MAX_HVC_BREAKS)
		return hs_err(err, -ENOSPC, "at most %d hypercall breakpoints",
			      HS_DBG_MAX_HVC_BREAKS);
	m->dbg.break_hvc[m->dbg.nr_break_hvc++] = fn;
	return 0;
}

bool hs_dbg_should_break(struct hs_machine *m, unsigned ec, uint64_t x0)
{
	if (m->dbg.break_ec & (1ULL << (ec & 0x3f)))
		return true;
	if (ec == 0x16)
		for (unsigned i = 0; i < m->dbg.nr_break_hvc; i++)
			if (m->dbg.break_hvc[i] == x0)
				return true;
	return false;
}

static void on_write(uc_engine *uc, uc_mem_type type, uint64_t va, int size, int64_t value,
		     void *ud)
{
	struct hs_cpu *c = ud;
	struct hs_machine *m = c->m;
	(void)type;
	(void)uc;
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		struct hs_dbg_watch *w = &m->dbg.watch[i];
		if (!w->id)
			continue;
		/* Which alias of the watched bytes did the CPU use? */
		uint64_t pa = UINT64_MAX;
		for (unsigned k = 0; k < w->nr_va; k++)
			if (va >= w->va[k] && va < w->va[k] + w->len)
				pa = w->pa + (va - w->va[k]);
		if (pa == UINT64_MAX && (uint64_t)(va + (uint64_t)size) > w->va[0] &&
		    va < w->va[0] + w->len)
			pa = va; /* an unaligned store straddling the start */
		if (pa == UINT64_MAX || pa + (uint64_t)size <= w->pa || pa >= w->pa + w->len)
			continue;
		uint64_t old = 0, new = (uint64_t)value;
		if (hs_phys_read(m, pa, &old, (size_t)size, NULL))
			continue;
		if (size < 8)
			new &= (1ULL << (8 * size)) - 1;
		if (old == new)
			continue; /* a store that changes nothing is not a change */
		m->dbg.hit = (struct hs_watch_hit){.id = w->id,
						   .cpu = c->idx,
						   .pa = pa,
						   .va = va,
						   .size = (unsigned)size,
						   .old_value = old,
						   .new_value = new};
		m->dbg.hit_valid = true;
		if (c->stop == HS_STOP_NONE)
			c->stop = HS_STOP_WATCH;
		uc_emu_stop(c->uc);
		return;
	}
}

/*
 * Unicorn honours uc_emu_stop() only between translated blocks, and reports a
 * memory hook with the PC of the block: a stop from the write hook would
 * leave the CPU in the middle of a block with the wrong PC. An (empty) code
 * hook on every instruction makes Unicorn check for the stop after each one,
 * so the machine stops right after the store. It costs speed only while a
 * watchpoint exists, like a debugger's software watchpoints.
 */
static void on_each_insn(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	(void)uc;
	(void)address;
	(void)size;
	(void)ud;
}

/* One write hook per CPU over the watched PAs and their EL2 aliases. */
static int rehook(struct hs_machine *m, struct hs_error *err)
{
	bool any = false;
	for (unsigned w = 0; w < HS_DBG_MAX_WATCH; w++)
		any |= m->dbg.watch[w].id != 0;
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		for (unsigned k = 0; k < c->nr_watch_hooks; k++)
			hs_cpu_unhook_stores(c, c->watch_hooks[k]);
		c->nr_watch_hooks = 0;
		bool had = c->insn_hook != 0;
		if (any && !had) {
			uc_err e = uc_hook_add(c->uc, &c->insn_hook, UC_HOOK_CODE,
					       (void *)on_each_insn, c, 1, 0);
			if (e)
				return hs_err(err, -EIO, "watchpoint hook: %s", uc_strerror(e));
		} else if (!any && had) {
			uc_hook_del(c->uc, c->insn_hook);
			c->insn_hook = 0;
		}
		if (any != had)
			hs_quirk_flush_code(c->uc); /* retranslate with (or without) the hook */
		for (unsigned w = 0; w < HS_DBG_MAX_WATCH; w++) {
			struct hs_dbg_watch *wp = &m->dbg.watch[w];
			if (!wp->id)
				continue;
			for (unsigned k = 0; k < wp->nr_va; k++) {
				uc_hook h;
				if (c->nr_watch_hooks == HS_DBG_MAX_WATCH * 4)
					return hs_err(err, -ENOSPC, "too many watched aliases");
				uc_err e = hs_cpu_hook_stores(c, &h, (void *)on_write, c, wp->va[k],
							      wp->va[k] + wp->len - 1);
				if (e)
					return hs_err(err, -EIO, "watchpoint hook: %s",
						      uc_strerror(e));
				c->watch_hooks[c->nr_watch_hooks++] = h;
			}
		}
	}
	return 0;
}

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

struct alias_search {
	struct hs_dbg_watch *w;
};

static int alias_visit(const struct hs_pt_visit_ctx *ctx)
{
	struct alias_search *a = ctx->arg;
	struct hs_dbg_watch *w = a->w;
	uint64_t oa = hs_pt_desc_oa(ctx->regime, ctx->desc);
	if (w->pa < oa || w->pa >= oa + ctx->size || w->nr_va == HS_DBG_MAX_ALIASES)
		return 0;
	uint64_t va = ctx->addr + (w->pa - oa);
	for (unsigned k = 0; k < w->nr_va; k++)
		if (w->va[k] == va)
			return 0;
	w->va[w->nr_va++] = va;
	return 0;
}

/* The addresses a CPU may store to the watched bytes with: identity and every EL2 alias. */
static void find_aliases(struct hs_machine *m, struct hs_dbg_watch *w)
{
	w->nr_va = 0;
	w->va[w->nr_va++] = w->pa;
	uint64_t tcr, ttbr, mair, sctlr;
	hs_cpu_sysreg(m, 0, HS_SR_SCTLR_EL2, &sctlr);
	hs_cpu_sysreg(m, 0, HS_SR_TCR_EL2, &tcr);
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr);
	hs_cpu_sysreg(m, 0, HS_SR_MAIR_EL2, &mair);
	struct hs_pt_regime r;
	char msg[128];
	if (!(sctlr & 1) || hs_pt_regime_el2(tcr, ttbr, mair, &r, msg, sizeof(msg)))
		return;
	struct hs_phys phys = {.read = phys_read_cb, .ud = m};
	struct alias_search a = {.w = w};
	struct hs_pt_visitor v = {.cb = alias_visit, .arg = &a, .flags = HS_PT_VISIT_LEAF};
	hs_pt_walk(&phys, &r, 0, 1ULL << r.ia_bits, &v);
}

int hs_watch_add(struct hs_machine *m, uint64_t pa, uint64_t len, struct hs_error *err)
{
	if (!len || len > HS_PAGE_SIZE)
		return hs_err(err, -EINVAL, "watch length %#" PRIx64 ": give 1 to 4096 bytes", len);
	if (!hs_phys_is_ram(m, pa, len))
		return hs_err(err, -EINVAL, "[%#" PRIx64 ", +%#" PRIx64 ") is not RAM", pa, len);
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		struct hs_dbg_watch *w = &m->dbg.watch[i];
		if (w->id)
			continue;
		*w = (struct hs_dbg_watch){.id = ++m->dbg.next_watch_id, .pa = pa, .len = len};
		find_aliases(m, w);
		int rc = rehook(m, err);
		if (rc) {
			w->id = 0;
			rehook(m, NULL);
			return rc;
		}
		return w->id;
	}
	return hs_err(err, -ENOSPC, "at most %d watchpoints", HS_DBG_MAX_WATCH);
}

int hs_watch_del(struct hs_machine *m, int id, struct hs_error *err)
{
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		if (m->dbg.watch[i].id == id && id) {
			m->dbg.watch[i].id = 0;
			return rehook(m, err);
		}
	}
	return hs_err(err, -ENOENT, "no watchpoint %d", id);
}

const struct hs_watch_hit *hs_watch_last_hit(const struct hs_machine *m)
{
	return m->dbg.hit_valid ? &m->dbg.hit : NULL;
}
