/* SPDX-License-Identifier: MIT */
/*
 * Watchpoints on physical memory (see debug.h).
 *
 * Write watchpoints use the page-granular store traps (store_trap.h): no
 * hook, so code runs on Unicorn's fast path, and only stores to the watched
 * pages trap. A trapped store that touches the watched bytes makes the CPU
 * leave its translated block before the store lands, with the PC at the
 * store and nothing of it done, and run it again alone in a block of one
 * instruction (as QEMU does for its own watchpoints); the block hook of the
 * next block sees it retired and stops there if it changed the watched
 * bytes. The run is not stopped for a store that changed nothing, and code
 * is neither dropped nor retranslated: an unhit store to the watched bytes
 * costs the trap, the exit from the block and the one-instruction block.
 * Other stores to a watched page cost the trap only.
 *
 * Read and access watchpoints, and write watchpoints where the traps cannot
 * stop exactly (hs_store_traps_can_leave), use memory-read and memory-write hooks over
 * the watched bytes and their aliases only: a load does not pass through
 * QEMU's self-modifying-code check, so there is nothing to trap it with.
 *
 * Unicorn calls a write hook before the store, and a stop requested there
 * takes effect right after that store's micro-op, in the middle of its
 * instruction: an `stp x29, x30, [sp, #-0x70]!` has written memory but not
 * SP, an `stxr` has written memory but neither its status register nor the
 * exclusive monitor. So a hit is completed here: the store's bytes are put
 * back, and the instruction is executed again, alone, with the stepping hook
 * (stepping.c). The machine then stops with the instruction retired.
 * A load is caught the same way, before it is made; the stop may come after
 * it wrote its destination (even its own base: `ldr x1, [x1]`), so the
 * general registers are put back as the hook saw them before it is executed
 * again.
 *
 * That needs the PC of the store. Unicorn writes the PC before a load or
 * store only in code translated while a memory hook's range covers the
 * instruction's address: two hooks that are never called (they cover code,
 * which nothing stores to: RAM for code running at PAs, and the image's
 * executable segments at their HYP VAs) make it do so while a watchpoint
 * exists. Code translated before keeps running as it was (retranslating it
 * would make every load take Unicorn's slow path: +50 % on a hypercall);
 * there the store is found by decoding the block's instructions with the
 * registers as they are at the store (Unicorn writes them back before every
 * memory access). If no single instruction matches, the machine stops at the
 * next block instead, after the store, with the store's PC unknown.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "a64_store.h"
#include "code_breakpoints.h"
#include "machine_priv.h"
#include "pt_translate.h"
#include "pt_walk.h"
#include "store_trap.h"

#define RUN_NO_UNTIL 1ULL /* ignored: CPU engines have no exits (hs_quirk_no_exits) */

/* Is the watchpoint on store traps rather than hooks? */
static bool on_traps(const struct hs_machine *m, const struct hs_dbg_watch *w)
{
	return w->kind == HS_WATCH_WRITE && hs_store_traps_can_leave(m);
}

static bool any_hooked_watch(const struct hs_machine *m)
{
	for (unsigned w = 0; w < HS_DBG_MAX_WATCH; w++)
		if (m->dbg.watch[w].id && !on_traps(m, &m->dbg.watch[w]))
			return true;
	return false;
}

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

/* The instruction word at a PC of the CPU's current regime. */
static bool fetch(struct hs_cpu *c, uint64_t va, uint32_t *insn)
{
	struct hs_machine *m = c->m;
	uint64_t link, pa = va;
	if (hs_addr_to_link(m, va, &link)) {
		pa = hs_link_to_pa(m, link);
	} else if (hs_cpu_el(c) == 1 && (hs_cpu_sr(c, HS_SR_HCR_EL2) & 1)) {
		/* The host or a guest (stage 1 off): its IPA through the live stage 2. */
		struct hs_pt_regime r;
		struct hs_pt_trace t;
		char msg[128];
		struct hs_phys phys = {.read = phys_read_cb, .ud = m};
		if (hs_pt_regime_s2(hs_cpu_sr(c, HS_SR_VTCR_EL2), hs_cpu_sr(c, HS_SR_VTTBR_EL2), &r,
				    msg, sizeof(msg)) ||
		    hs_pt_translate(&phys, &r, va, &t))
			return false;
		pa = t.out_pa;
	}
	return hs_phys_read(m, pa, insn, 4, NULL) == 0;
}

/* A data address of the CPU's current regime as a PA (EL2 stage 1, or the host's/guest's IPA). */
static bool current_pa(struct hs_cpu *c, uint64_t va, uint64_t *pa)
{
	struct hs_pt_regime r;
	struct hs_pt_trace t;
	char msg[128];
	struct hs_phys phys = {.read = phys_read_cb, .ud = c->m};
	int rc;
	if (hs_cpu_el(c) == 2) {
		if (!(hs_cpu_sr(c, HS_SR_SCTLR_EL2) & 1)) {
			*pa = va;
			return true;
		}
		rc = hs_pt_regime_el2(hs_cpu_sr(c, HS_SR_TCR_EL2), hs_cpu_sr(c, HS_SR_TTBR0_EL2),
				      hs_cpu_sr(c, HS_SR_MAIR_EL2), &r, msg, sizeof(msg));
	} else if (hs_cpu_sr(c, HS_SR_HCR_EL2) & 1) {
		rc = hs_pt_regime_s2(hs_cpu_sr(c, HS_SR_VTCR_EL2), hs_cpu_sr(c, HS_SR_VTTBR_EL2),
				     &r, msg, sizeof(msg));
	} else {
		*pa = va;
		return true;
	}
	if (rc || hs_pt_translate(&phys, &r, va, &t))
		return false;
	*pa = t.out_pa;
	return true;
}

static uint64_t xreg(struct hs_cpu *c, unsigned n)
{
	if (n == 31)
		return 0;
	return hs_cpu_reg(c, n < 29    ? UC_ARM64_REG_X0 + (int)n
			     : n == 29 ? UC_ARM64_REG_X29
				       : UC_ARM64_REG_X30);
}

/*
 * Is the instruction at pc a store (a load, for read) that accesses [va, va + size) with the
 * registers as they are?
 */
static bool accesses_there(struct hs_cpu *c, uint64_t pc, uint64_t va, int size, bool read)
{
	uint32_t insn;
	struct hs_a64_store s;
	if (!fetch(c, pc, &insn) ||
	    !(read ? hs_a64_decode_load(insn, &s) : hs_a64_decode_store(insn, &s)))
		return false;
	uint64_t base = s.rn == 31 ? hs_cpu_reg(c, UC_ARM64_REG_SP) : xreg(c, s.rn);
	uint64_t index = s.rm < 0 ? 0 : xreg(c, (unsigned)s.rm);
	uint64_t ea = hs_a64_store_address(&s, base, index);
	if (HS_UC_MEM_HOOKS_SEE_PA && !current_pa(c, ea, &ea))
		return false; /* the hook reported a PA (Unicorn 2.1) */
	return va + (uint64_t)size > ea && va < ea + s.width;
}

/* The PC of the access being made (see the top of the file); false if unsure. */
static bool access_pc(struct hs_cpu *c, uint64_t va, int size, bool read, uint64_t *pc)
{
	uint64_t p = hs_cpu_reg(c, UC_ARM64_REG_PC);
	bool in_block = p >= c->block_start && p < c->block_end;
	if (in_block && accesses_there(c, p, va, size, read)) {
		*pc = p;
		return true;
	}
	unsigned n = 0;
	for (uint64_t a = c->block_start; a < c->block_end && n < 2; a += 4)
		if (accesses_there(c, a, va, size, read)) {
			*pc = a;
			n++;
		}
	return n == 1;
}

/* A load (read) or store of size bytes at va, before it is made; value: the stored one. */
static void on_access(struct hs_cpu *c, bool read, uint64_t va, int size, uint64_t value)
{
	struct hs_machine *m = c->m;
	if (c->dbg.replaying || c->dbg.pending.on || size <= 0 || size > 8)
		return;
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		struct hs_dbg_watch *w = &m->dbg.watch[i];
		if (!w->id || !(w->kind & (read ? HS_WATCH_READ : HS_WATCH_WRITE)))
			continue;
		/* Which alias of the watched bytes did the CPU use? */
		uint64_t pa = UINT64_MAX;
		for (unsigned k = 0; k < w->nr_va; k++)
			if (va + (uint64_t)size > w->va[k] && va < w->va[k] + w->len)
				pa = w->pa + (va - w->va[k]);
		if (pa == UINT64_MAX || !hs_phys_is_ram(m, pa, (size_t)size))
			continue;
		uint64_t old = 0, new = read ? 0 : value;
		hs_phys_read(m, pa, &old, (size_t)size, NULL);
		if (read)
			new = old;
		else if (size < 8)
			new &= (1ULL << (8 * size)) - 1;
		if (old == new && w->kind == HS_WATCH_WRITE)
			continue; /* a store that changes nothing is not a change */
		struct hs_watch_pending *p = &c->dbg.pending;
		uint64_t pc = 0;
		bool late = !access_pc(c, va, size, read, &pc);
		/* A store-exclusive compares memory first: a read to Unicorn, not a load. */
		if (read && late && access_pc(c, va, size, false, &pc))
			return;
		p->on = true;
		p->faulted = false;
		p->late = late;
		p->hit = (struct hs_watch_hit){.id = w->id,
					       .cpu = c->idx,
					       .pa = pa,
					       .va = va,
					       .size = (unsigned)size,
					       .old_value = old,
					       .new_value = new,
					       .pc = pc,
					       .read = read};
		memcpy(p->before, &old, (size_t)size);
		for (unsigned r = 0; read && r < 31; r++)
			p->regs[r] = xreg(c, r);
		p->regs[31] = hs_cpu_reg(c, UC_ARM64_REG_SP);
		if (p->late)
			return; /* let the block finish: hs_watch_block() stops at the next one */
		if (c->stop == HS_STOP_NONE)
			c->stop = HS_STOP_WATCH;
		if (c->stop != HS_STOP_WATCH)
			p->on = false;
		/*
		 * Not the PC: written from a hook it makes Unicorn carry on from there
		 * and drop the stop (hs_watch_settle sets it).
		 */
		uc_emu_stop(c->uc);
		return;
	}
}

static void on_write(uc_engine *uc, uc_mem_type type, uint64_t va, int size, int64_t value,
		     void *ud)
{
	(void)uc;
	(void)type;
	on_access(ud, false, va, size, (uint64_t)value);
}

static void on_read(uc_engine *uc, uc_mem_type type, uint64_t va, int size, int64_t value, void *ud)
{
	(void)uc;
	(void)type;
	(void)value;
	on_access(ud, true, va, size, 0);
}

/* Never called: its range makes Unicorn keep the PC exact at loads and stores there. */
static void on_code_store(uc_engine *uc, uc_mem_type type, uint64_t va, int size, int64_t value,
			  void *ud)
{
	(void)uc;
	(void)type;
	(void)va;
	(void)size;
	(void)value;
	(void)ud;
}

static void unhook_cpu(struct hs_cpu *c)
{
	for (unsigned k = 0; k < c->dbg.nr_watch_hooks; k++)
		hs_cpu_unhook_stores(c, c->dbg.watch_hooks[k]);
	c->dbg.nr_watch_hooks = 0;
	for (unsigned k = 0; k < c->dbg.nr_read_hooks; k++)
		uc_hook_del(c->uc, c->dbg.read_hooks[k]);
	c->dbg.nr_read_hooks = 0;
	for (unsigned k = 0; k < 2; k++)
		if (c->dbg.sync_hooks[k])
			hs_cpu_unhook_stores(c, c->dbg.sync_hooks[k]);
	memset(c->dbg.sync_hooks, 0, sizeof(c->dbg.sync_hooks));
}

/* The executable part of the image at its HYP VAs. */
static void image_code_va(struct hs_machine *m, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < m->img->nsegs; i++) {
		const struct hs_segment *s = &m->img->segs[i];
		if (!(s->flags & 1 /* PF_X */) || !s->memsz)
			continue;
		uint64_t a = hs_link_to_hyp_va(m, s->paddr);
		if (a < *lo)
			*lo = a;
		if (a + s->memsz - 1 > *hi)
			*hi = a + s->memsz - 1;
	}
}

static int hook_cpu(struct hs_cpu *c, struct hs_error *err)
{
	struct hs_machine *m = c->m;
	uc_err e = UC_ERR_OK;
	uint64_t lo, hi;
	image_code_va(m, &lo, &hi);
	uint64_t ram0 = m->opts.ram_base, ram1 = ram0 + m->opts.ram_size - 1;
	if ((e = hs_cpu_hook_stores(c, &c->dbg.sync_hooks[0], (void *)on_code_store, c, ram0,
				    ram1)))
		goto fail;
	if (lo <= hi &&
	    (e = hs_cpu_hook_stores(c, &c->dbg.sync_hooks[1], (void *)on_code_store, c, lo, hi)))
		goto fail;
	for (unsigned w = 0; w < HS_DBG_MAX_WATCH; w++) {
		struct hs_dbg_watch *wp = &m->dbg.watch[w];
		if (on_traps(m, wp))
			continue;
		for (unsigned k = 0; wp->id && k < wp->nr_va; k++) {
			uint64_t lo_va = wp->va[k], hi_va = wp->va[k] + wp->len - 1;
			if (wp->kind & HS_WATCH_WRITE) {
				uc_hook *h = &c->dbg.watch_hooks[c->dbg.nr_watch_hooks];
				if ((e = hs_cpu_hook_stores(c, h, (void *)on_write, c, lo_va,
							    hi_va)))
					goto fail;
				c->dbg.nr_watch_hooks++;
			}
			if (wp->kind & HS_WATCH_READ) {
				uc_hook *h = &c->dbg.read_hooks[c->dbg.nr_read_hooks];
				if ((e = uc_hook_add(c->uc, h, UC_HOOK_MEM_READ, (void *)on_read, c,
						     lo_va, hi_va)))
					goto fail;
				c->dbg.nr_read_hooks++;
			}
		}
	}
	return 0;
fail:
	return hs_err(err, -EIO, "cpu%u: watchpoint hook: %s", c->idx, uc_strerror(e));
}

/*
 * The store instruction at pc, with the registers as they are before it:
 * *va and *pa its address, *width its bytes (false if it cannot be decoded).
 */
static bool decode_store_at(struct hs_cpu *c, uint64_t pc, uint64_t *va, uint64_t *pa,
			    unsigned *width)
{
	uint32_t insn;
	struct hs_a64_store s;
	if (!fetch(c, pc, &insn) || !hs_a64_decode_store(insn, &s))
		return false;
	uint64_t base = s.rn == 31 ? hs_cpu_reg(c, UC_ARM64_REG_SP) : xreg(c, s.rn);
	uint64_t index = s.rm < 0 ? 0 : xreg(c, (unsigned)s.rm);
	*va = hs_a64_store_address(&s, base, index);
	*width = s.width;
	return current_pa(c, *va, pa);
}

/* The trapped watchpoint whose bytes [pa, pa + n) touch; NULL if none. */
static const struct hs_dbg_watch *trapped_watch(const struct hs_machine *m, uint64_t pa, unsigned n)
{
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		const struct hs_dbg_watch *w = &m->dbg.watch[i];
		if (w->trapped && pa < w->pa + w->len && w->pa < pa + n)
			return w;
	}
	return NULL;
}

/*
 * A trapped store has run: the hit is its first aligned piece of at most 8
 * bytes that changed watched bytes. False when none did (a write watchpoint
 * does not stop for a store of the same value).
 */
static bool trapped_hit(struct hs_machine *m, const struct hs_watch_pending *p,
			struct hs_watch_hit *hit)
{
	const uint8_t *mem = hs_phys_ptr(m, p->hit.pa, p->hit.size);
	for (unsigned off = 0; mem && off < p->hit.size;) {
		uint64_t pa = p->hit.pa + off;
		unsigned n = 8 - (unsigned)(pa & 7);
		n = n > p->hit.size - off ? p->hit.size - off : n;
		const struct hs_dbg_watch *w = trapped_watch(m, pa, n);
		if (w && memcmp(mem + off, p->before + off, n)) {
			hit->id = w->id;
			hit->pa = pa;
			hit->size = n;
			hit->old_value = hit->new_value = 0;
			memcpy(&hit->old_value, p->before + off, n);
			memcpy(&hit->new_value, mem + off, n);
			hit->va += off;
			return true;
		}
		off += n;
	}
	return false;
}

/*
 * The CPU leaves its block at the store at pc, which runs again alone; the
 * instructions after it in this block did not run. Its breakpoint, and its
 * step, were taken already.
 */
static bool leave_at(struct hs_cpu *c, uint64_t pc)
{
	hs_cpu_cut_block(c, pc);
	hs_dbg_skip_at(&c->dbg, pc);
	if (c->dbg.step_done)
		c->dbg.step_done--;
	return true;
}

/*
 * A store trapped on a watched page (store_trap.h `leave`): if it touches a
 * watchpoint's bytes, leave the block and run it again alone; the block hook
 * of the block after it (hs_watch_block) stops if it changed them.
 */
static bool on_trapped_store(void *ud, const struct hs_trapped_store *s)
{
	struct hs_machine *m = ud;
	struct hs_cpu *c = &m->cpus[s->cpu];
	struct hs_watch_pending *p = &c->dbg.pending;
	if (p->on && p->trapped && !p->late) {
		/*
		 * The store left before: in its own one-instruction block it lands. In
		 * a longer one (the run stopped between, and the one-instruction block
		 * was not run) it leaves again.
		 */
		uint64_t pc = hs_store_trap_pc(m, s->cpu);
		if (pc != p->hit.pc || (c->block_start == pc && c->block_end == pc + 4))
			return false;
		return leave_at(c, pc);
	}
	if (c->dbg.replaying || p->on || c->stop != HS_STOP_NONE ||
	    !trapped_watch(m, s->pa, s->size))
		return false;
	uint64_t pc = hs_store_trap_pc(m, s->cpu);
	*p = (struct hs_watch_pending){
	    .on = true,
	    .trapped = true,
	    .late = !pc,
	    .hit = {.cpu = s->cpu, .pa = s->pa, .va = s->pa, .size = s->size, .pc = pc}};
	/*
	 * The whole instruction's store when it can be decoded: QEMU splits a
	 * pair into two stores, and the trapped one may be either.
	 */
	uint64_t va, pa;
	unsigned width;
	if (pc && decode_store_at(c, pc, &va, &pa, &width) && pa <= s->pa &&
	    s->pa + s->size <= pa + width && width <= sizeof(p->before) &&
	    hs_phys_is_ram(m, pa, width))
		p->hit.va = va, p->hit.pa = pa, p->hit.size = width;
	hs_phys_read(m, p->hit.pa, p->before, p->hit.size, NULL);
	if (p->late)
		return false; /* the store happens: hs_watch_block() looks at the next block */
	return leave_at(c, pc);
}

/* The store traps of the write watchpoints: their pages, and only while one exists. */
static void retrap(struct hs_machine *m)
{
	bool any = false;
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		struct hs_dbg_watch *w = &m->dbg.watch[i];
		w->trapped = w->id && on_traps(m, w);
		any |= w->trapped;
	}
	if (m->dbg.watch_traps)
		hs_store_trap_set_user(m, HS_TRAP_WATCH, NULL);
	m->dbg.watch_traps = any;
	if (!any)
		return;
	struct hs_store_trap_ops ops = {.leave = on_trapped_store, .ud = m};
	hs_store_trap_set_user(m, HS_TRAP_WATCH, &ops);
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		const struct hs_dbg_watch *w = &m->dbg.watch[i];
		if (!w->trapped)
			continue;
		for (uint64_t pg = w->pa & ~(uint64_t)(HS_PAGE_SIZE - 1); pg < w->pa + w->len;
		     pg += HS_PAGE_SIZE)
			hs_store_trap_watch(m, HS_TRAP_WATCH, pg, true);
	}
}

/* The hooks and traps of every CPU for the current set of watchpoints. */
static int rehook(struct hs_machine *m, struct hs_error *err)
{
	retrap(m);
	bool any = any_hooked_watch(m);
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		bool had = c->dbg.sync_hooks[0] != 0;
		unhook_cpu(c);
		int rc = any ? hook_cpu(c, err) : 0;
		if (rc) {
			unhook_cpu(c);
			return rc;
		}
		/*
		 * Code translated while the hooks existed takes Unicorn's slow path for
		 * every load: once the last watchpoint goes, translate it again.
		 */
		if (!any && had)
			hs_step_drop_all_code(c);
	}
	return 0;
}

static int alias_visit(const struct hs_pt_visit_ctx *ctx)
{
	struct hs_dbg_watch *w = ctx->arg;
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
	/* The linear map, even before the hypervisor has built it (a watchpoint set before boot).
	 */
	uint64_t lin = hs_layout_hyp_va(&m->layout, w->pa);
	if (lin != w->pa)
		w->va[w->nr_va++] = lin;
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
	struct hs_pt_visitor v = {.cb = alias_visit, .arg = w, .flags = HS_PT_VISIT_LEAF};
	hs_pt_walk(&phys, &r, 0, 1ULL << r.ia_bits, &v);
}

int hs_watch_add(struct hs_machine *m, uint64_t pa, uint64_t len, struct hs_error *err)
{
	return hs_watch_add_kind(m, pa, len, HS_WATCH_WRITE, err);
}

int hs_watch_add_kind(struct hs_machine *m, uint64_t pa, uint64_t len, enum hs_watch_kind kind,
		      struct hs_error *err)
{
	if (kind != HS_WATCH_WRITE && kind != HS_WATCH_READ && kind != HS_WATCH_ACCESS)
		return hs_err(err, -EINVAL, "watch kind %d: give write, read or access", kind);
	if (!len || len > HS_PAGE_SIZE)
		return hs_err(err, -EINVAL, "watch length %#" PRIx64 ": give 1 to 4096 bytes", len);
	if (!hs_phys_is_ram(m, pa, len))
		return hs_err(err, -EINVAL, "[%#" PRIx64 ", +%#" PRIx64 ") is not RAM", pa, len);
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++) {
		struct hs_dbg_watch *w = &m->dbg.watch[i];
		if (w->id)
			continue;
		*w = (struct hs_dbg_watch){
		    .id = ++m->dbg.next_watch_id, .kind = kind, .pa = pa, .len = len};
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

/* Execute the one instruction at the PC again, alone (its store or load undone first). */
static bool replay(struct hs_cpu *c, struct hs_error *err)
{
	uint64_t count = c->dbg.step_count, done = c->dbg.step_done;
	uint64_t pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	c->dbg.replaying = true;
	c->stop = HS_STOP_NONE;
	/* A breakpoint on the store itself was passed already. */
	hs_dbg_skip_at(&c->dbg, pc);
	int rc = hs_step_arm(c, 1, err);
	uc_err e = UC_ERR_OK;
	if (!rc)
		e = uc_emu_start(c->uc, pc, RUN_NO_UNTIL, 0, 0);
	c->dbg.replaying = false;
	c->dbg.skip_armed = false;
	c->dbg.step_count = count;
	c->dbg.step_done = done;
	if (rc)
		return false;
	if (e && c->stop != HS_STOP_HYP_FAULT) {
		hs_err(err, -EIO, "cpu%u: re-executing the access at %#" PRIx64 ": %s", c->idx,
		       c->dbg.pending.hit.pc, uc_strerror(e));
		return false;
	}
	return true;
}

void hs_watch_block(struct hs_cpu *c, uint64_t pc)
{
	struct hs_watch_pending *p = &c->dbg.pending;
	if (!p->on || c->stop != HS_STOP_NONE)
		return;
	if (p->trapped) {
		/* Not yet: the store's own one-instruction block is about to run. */
		if (!p->late && pc == p->hit.pc)
			return;
		/* The store has retired (its other users, provenance, have it already). */
		p->on = false;
		struct hs_watch_hit hit = p->hit;
		if (!trapped_hit(c->m, p, &hit))
			return; /* the watched bytes did not change: no stop */
		c->m->dbg.hit = hit;
		c->m->dbg.hit_valid = true;
	} else if (!p->late) {
		return;
	}
	/* The block that stored has retired: stop before this one. */
	hs_cpu_cut_block(c, pc);
	c->dbg.resume_pc = pc;
	c->dbg.resume_pc_valid = true;
	c->stop = HS_STOP_WATCH;
	uc_emu_stop(c->uc);
}

void hs_watch_exception(struct hs_cpu *c)
{
	if (c->dbg.pending.on)
		c->dbg.pending.faulted = true;
}

/*
 * Did the access happen? The hook runs before the address is translated, so
 * the access may have faulted instead (the CPU took the abort). A store that
 * changed the bytes did happen.
 */
static bool access_happened(const struct hs_watch_pending *p, const uint8_t *mem)
{
	if (!mem)
		return false;
	if (!p->hit.read && memcmp(mem, p->before, p->hit.size))
		return true;
	return !p->faulted;
}

bool hs_watch_settle(struct hs_cpu *c, struct hs_error *err)
{
	struct hs_machine *m = c->m;
	struct hs_watch_pending *p = &c->dbg.pending;
	if (!p->on)
		return true;

	p->on = false;
	struct hs_watch_hit hit = p->hit;
	uint8_t *mem = hs_phys_ptr(m, hit.pa, hit.size);
	if (!access_happened(p, mem)) {
		/* The access faulted: not a hit, run on. */
		c->stop = HS_STOP_NONE;
		return false;
	}
	/* (The PC of a late stop was set by hs_dbg_run_settle.) */
	if (p->late) {
		if (!hit.read)
			memcpy(&hit.new_value, mem, hit.size);
		m->dbg.hit = hit;
		m->dbg.hit_valid = true;
		return true;
	}
	/* Stopped right after the access's micro-op: its instruction has not retired. */
	uint64_t pc = hit.pc;
	hs_cpu_set_reg(c, UC_ARM64_REG_PC, pc);
	hs_cpu_cut_block(c, pc);
	if (hit.read) {
		for (unsigned r = 0; r < 29; r++)
			hs_cpu_set_reg(c, UC_ARM64_REG_X0 + (int)r, p->regs[r]);
		hs_cpu_set_reg(c, UC_ARM64_REG_X29, p->regs[29]);
		hs_cpu_set_reg(c, UC_ARM64_REG_X30, p->regs[30]);
		hs_cpu_set_reg(c, UC_ARM64_REG_SP, p->regs[31]);
	} else {
		memcpy(mem, p->before, hit.size);
	}
	if (!replay(c, err)) {
		c->stop = HS_STOP_ERROR;
		return true;
	}
	if (c->stop == HS_STOP_HYP_FAULT || c->stop == HS_STOP_ERROR)
		return true;
	if (!hit.read) {
		hit.new_value = 0;
		memcpy(&hit.new_value, mem, hit.size);
	}
	m->dbg.hit = hit;
	m->dbg.hit_valid = true;
	c->stop = HS_STOP_WATCH;
	return true;
}
