/* SPDX-License-Identifier: MIT */
#include "store_trap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine_priv.h"

#define MAX_STORE 64 /* DC ZVA's block: the widest store QEMU checks at once */

struct pending {
	bool on;
	unsigned el, len;
	uint64_t pa, pc, icount;
	uint8_t old[MAX_STORE];
};

#define SITE_BITS 6 /* store sites remembered per CPU, direct-mapped by host address */

/*
 * What a host return address inside translated code stands for: the storing
 * instruction and the EL its block runs at (a block is translated for one
 * EL: QEMU's block flags hold the MMU index). It stays true until the
 * engine's code buffer is emptied, the only time that address can be reused
 * (hs_quirk_code_epoch); QEMU's unwinding (cpu_restore_state) costs ~700 host
 * instructions a store, a remembered site ~20.
 */
struct site {
	uintptr_t host_pc;
	uint64_t epoch; /* hs_quirk_code_epoch() when learnt; 0: empty */
	uint64_t pc;
	unsigned el;
};

struct trap_cpu {
	struct hs_store_traps *t;
	unsigned idx;
	/* The store being trapped: its host return address, and its PC and EL once known. */
	uintptr_t host_pc;
	bool pc_known;
	uint64_t pc;
	unsigned el;
	struct site site[1u << SITE_BITS];
};

struct hs_store_traps {
	struct hs_machine *m;
	uint64_t base, npages;
	uint64_t *any; /* a bit per RAM page some user watches: what the engines test */
	uint64_t *map[HS_TRAP_NR_USERS];
	uint64_t count[HS_TRAP_NR_USERS];
	struct hs_store_trap_ops ops[HS_TRAP_NR_USERS];
	struct pending pend[HS_MAX_CPUS];
	unsigned nr_pending;
	struct trap_cpu cpu[HS_MAX_CPUS];
	struct hs_store_trap_stats st;
	unsigned nr_before, nr_leave; /* users with a `before`, a `leave` callback */
};

static bool test(const uint64_t *map, uint64_t pg)
{
	return map[pg / 64] >> (pg % 64) & 1;
}

static bool page_of(const struct hs_store_traps *t, uint64_t pa, uint64_t *pg)
{
	if (!t || pa < t->base || (pa - t->base) >> HS_PAGE_SHIFT >= t->npages)
		return false;
	*pg = (pa - t->base) >> HS_PAGE_SHIFT;
	return true;
}

/* Each user watching the page gets the store, in aligned pieces of at most 8 bytes. */
static void deliver(struct hs_store_traps *t, unsigned cpu, const struct pending *p, bool after)
{
	uint64_t pg;
	if (!page_of(t, p->pa, &pg))
		return;
	bool any = false; /* most stores have no `before` user: nothing to build */
	for (int u = 0; u < HS_TRAP_NR_USERS && !any; u++)
		any = (after ? t->ops[u].after : t->ops[u].before) && test(t->map[u], pg);
	if (!any)
		return;
	const uint8_t *now = t->m->ram + (p->pa - t->base);
	for (unsigned off = 0; off < p->len;) {
		uint64_t pa = p->pa + off;
		unsigned n = 8 - (unsigned)(pa & 7);
		n = n > p->len - off ? p->len - off : n;
		struct hs_trapped_store s = {
		    .cpu = cpu, .el = p->el, .pa = pa, .size = n, .pc = p->pc, .icount = p->icount};
		if (n == 8) { /* nearly every table store: a whole descriptor */
			memcpy(&s.old, p->old + off, 8);
			if (after)
				memcpy(&s.val, now + off, 8);
		} else {
			memcpy(&s.old, p->old + off, n);
			if (after)
				memcpy(&s.val, now + off, n);
		}
		for (int u = 0; u < HS_TRAP_NR_USERS; u++) {
			const struct hs_store_trap_ops *o = &t->ops[u];
			void (*fn)(void *, const struct hs_trapped_store *) =
			    after ? o->after : o->before;
			if (fn && test(t->map[u], pg))
				fn(o->ud, &s);
		}
		off += n;
	}
}

void hs_store_traps_settle(struct hs_machine *m)
{
	struct hs_store_traps *t = m->traps;
	if (!m->traps_pending || !t || !t->nr_pending)
		return;
	for (unsigned i = 0; i < m->nr_cpus && t->nr_pending; i++) {
		if (!t->pend[i].on)
			continue;
		/* Off first: the users' events come back here through hs_emit. */
		struct pending p = t->pend[i];
		t->pend[i].on = false;
		t->nr_pending--;
		m->traps_pending = t->nr_pending;
		deliver(t, i, &p, true);
	}
}

/*
 * The CPU state a trap needs, read here rather than through cpu.c and
 * machine.c, which call this file (tests/check_cycles.py).
 */
static uint64_t icount_now(const struct hs_machine *m)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		n += m->cpus[i].icount;
	return n;
}

static unsigned el_now(uc_engine *uc)
{
	uint32_t pstate = 0;
	uc_reg_read(uc, UC_ARM64_REG_PSTATE, &pstate);
	return (pstate >> 2) & 3;
}

/* Does a user watching page pg want stores delivered (before or after)? */
static bool delivered(const struct hs_store_traps *t, uint64_t pg)
{
	for (int u = 0; u < HS_TRAP_NR_USERS; u++)
		if ((t->ops[u].before || t->ops[u].after) && test(t->map[u], pg))
			return true;
	return false;
}

/* Does a user watching page pg stop at this store (see `leave` in store_trap.h)? */
static bool leaves(struct hs_store_traps *t, const struct hs_trapped_store *s, uint64_t pg)
{
	bool leave = false;
	for (int u = 0; u < HS_TRAP_NR_USERS; u++) {
		const struct hs_store_trap_ops *o = &t->ops[u];
		if (o->leave && test(t->map[u], pg) && o->leave(o->ud, s))
			leave = true;
	}
	return leave;
}

/* The PC and EL of the store being trapped on tc's CPU: remembered by host address, or unwound. */
static void resolve(struct hs_store_traps *t, struct trap_cpu *tc)
{
	if (tc->pc_known)
		return;
	uc_engine *uc = t->m->cpus[tc->idx].uc;
	uint64_t epoch = hs_quirk_code_epoch();
	struct site *s =
	    &tc->site[((uint64_t)tc->host_pc * 0x9E3779B97F4A7C15ULL) >> (64 - SITE_BITS)];
	tc->pc_known = true;
	if (epoch && s->epoch == epoch && s->host_pc == tc->host_pc) {
		tc->pc = s->pc;
		tc->el = s->el;
		return;
	}
	tc->pc = hs_quirk_store_pc(uc, tc->host_pc);
	tc->el = el_now(uc);
	t->st.unwound++;
	if (epoch && tc->pc)
		*s = (struct site){
		    .host_pc = tc->host_pc, .epoch = epoch, .pc = tc->pc, .el = tc->el};
}

uint64_t hs_store_trap_pc(struct hs_machine *m, unsigned cpu)
{
	struct hs_store_traps *t = m->traps;
	if (!t || cpu >= m->nr_cpus)
		return 0;
	resolve(t, &t->cpu[cpu]);
	return t->cpu[cpu].pc;
}

static bool on_trap(void *ud, uint64_t ram_off, unsigned len, uintptr_t host_pc)
{
	struct trap_cpu *tc = ud;
	struct hs_store_traps *t = tc->t;
	struct hs_machine *m = t->m;
	struct hs_cpu *c = &m->cpus[tc->idx];
	hs_store_traps_settle(m);
	if (ram_off >= m->opts.ram_size || !len)
		return false;
	uint64_t in_page = HS_PAGE_SIZE - (ram_off & (HS_PAGE_SIZE - 1)),
		 pg = ram_off >> HS_PAGE_SHIFT;
	unsigned n = len > MAX_STORE ? MAX_STORE : len;
	n = n > in_page ? (unsigned)in_page : n;
	tc->host_pc = host_pc;
	tc->pc_known = false;
	struct hs_trapped_store whole = {.cpu = tc->idx, .pa = t->base + ram_off, .size = n};
	t->st.traps++;
	if (t->nr_leave && m->quirks.next_tb_off && leaves(t, &whole, pg))
		return true;
	if (!delivered(t, pg))
		return false; /* a page only `leave` users watch: nothing more to do */
	struct pending *p = &t->pend[tc->idx];
	resolve(t, tc);
	/* Field by field: the old bytes past len are never read (no zeroing per store). */
	p->on = false;
	p->pa = whole.pa;
	p->el = tc->el;
	p->len = n;
	p->pc = tc->pc;
	if (n == 8)
		memcpy(p->old, m->ram + ram_off, 8);
	else
		memcpy(p->old, m->ram + ram_off, n);
	p->icount = icount_now(m);
	if (!p->pc)
		t->st.unknown_pc++;
	/* The block hook counted the whole block: the instructions after the store did not run. */
	else if (p->pc >= c->block_start && p->pc < c->block_end)
		p->icount -= (c->block_end - p->pc - 4) / 4;
	/* Pending only after `before`: an event it causes must not settle this store yet. */
	if (t->nr_before)
		deliver(t, tc->idx, p, false);
	p->on = true;
	m->traps_pending = ++t->nr_pending;
	return false;
}

void hs_store_trap_set_user(struct hs_machine *m, enum hs_trap_user u,
			    const struct hs_store_trap_ops *ops)
{
	struct hs_store_traps *t = m->traps;
	if (!t || (unsigned)u >= HS_TRAP_NR_USERS)
		return;
	hs_store_traps_settle(m);
	t->nr_before -= t->ops[u].before != NULL;
	t->nr_leave -= t->ops[u].leave != NULL;
	if (ops) {
		t->ops[u] = *ops;
		t->nr_before += ops->before != NULL;
		t->nr_leave += ops->leave != NULL;
		return;
	}
	memset(&t->ops[u], 0, sizeof(t->ops[u]));
	/* Up to the last page watched: the maps are 256 KiB each at 64 GiB, mostly untouched. */
	uint64_t left = t->count[u];
	for (uint64_t w = 0; left && w < (t->npages + 63) / 64; w++) {
		if (!t->map[u][w])
			continue;
		left -= (uint64_t)__builtin_popcountll(t->map[u][w]);
		t->map[u][w] = 0;
		uint64_t others = 0;
		for (int v = 0; v < HS_TRAP_NR_USERS; v++)
			others |= t->map[v][w];
		t->any[w] = others;
	}
	t->count[u] = 0;
}

int hs_store_trap_watch(struct hs_machine *m, enum hs_trap_user u, uint64_t pa, bool on)
{
	struct hs_store_traps *t = m->traps;
	uint64_t pg;
	if ((unsigned)u >= HS_TRAP_NR_USERS || !page_of(t, pa, &pg))
		return -EINVAL;
	uint64_t bit = 1ULL << (pg % 64), *w = &t->map[u][pg / 64];
	if (!!(*w & bit) == on)
		return 0;
	*w ^= bit;
	t->count[u] += on ? 1 : (uint64_t)-1;
	bool was = t->any[pg / 64] & bit, now = on;
	for (int v = 0; v < HS_TRAP_NR_USERS && !now; v++)
		now = test(t->map[v], pg);
	if (now)
		t->any[pg / 64] |= bit;
	else
		t->any[pg / 64] &= ~bit;
	/*
	 * TLB entries filled before may let stores past the check: make them
	 * not dirty again. A page no longer watched keeps checked entries until
	 * they are refilled, which is slower but right.
	 */
	if (now && !was)
		for (unsigned i = 0; i < m->nr_cpus; i++)
			if (m->cpus[i].uc)
				hs_quirk_trap_page(m->cpus[i].uc, pg << HS_PAGE_SHIFT);
	return 0;
}

bool hs_store_trap_watched(const struct hs_machine *m, enum hs_trap_user u, uint64_t pa)
{
	uint64_t pg;
	return (unsigned)u < HS_TRAP_NR_USERS && page_of(m->traps, pa, &pg) &&
	       test(m->traps->map[u], pg);
}

uint64_t hs_store_trap_count(const struct hs_machine *m, enum hs_trap_user u)
{
	return m->traps && (unsigned)u < HS_TRAP_NR_USERS ? m->traps->count[u] : 0;
}

bool hs_store_traps_exact(const struct hs_machine *m)
{
	if (!m->traps || !m->nr_cpus)
		return false;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (!m->cpus[i].uc || !m->cpus[i].fast_stores)
			return false;
	return true;
}

bool hs_store_traps_can_leave(const struct hs_machine *m)
{
	return m->quirks.next_tb_off && hs_store_traps_exact(m);
}

void hs_store_trap_stats(const struct hs_machine *m, struct hs_store_trap_stats *st)
{
	if (m->traps)
		*st = m->traps->st;
	else
		memset(st, 0, sizeof(*st));
}

int hs_store_traps_init(struct hs_machine *m, struct hs_error *err)
{
	struct hs_store_traps *t = calloc(1, sizeof(*t));
	if (!t)
		return hs_err(err, -ENOMEM, "store traps: out of memory");
	t->m = m;
	t->base = m->opts.ram_base;
	t->npages = m->opts.ram_size >> HS_PAGE_SHIFT;
	size_t words = (t->npages + 63) / 64;
	/* calloc'd maps of untouched pages cost no memory until a page is watched */
	bool ok = (t->any = calloc(words, sizeof(uint64_t))) != NULL;
	for (int u = 0; u < HS_TRAP_NR_USERS && ok; u++)
		ok = (t->map[u] = calloc(words, sizeof(uint64_t))) != NULL;
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		t->cpu[i] = (struct trap_cpu){.t = t, .idx = i};
	m->traps = t;
	if (!ok) {
		hs_store_traps_free(m);
		return hs_err(err, -ENOMEM, "store traps: out of memory");
	}
	return 0;
}

void hs_store_traps_free(struct hs_machine *m)
{
	struct hs_store_traps *t = m->traps;
	if (!t)
		return;
	free(t->any);
	for (int u = 0; u < HS_TRAP_NR_USERS; u++)
		free(t->map[u]);
	free(t);
	m->traps = NULL;
}

void hs_store_traps_for_cpu(struct hs_machine *m, unsigned idx, struct hs_quirk_traps *out)
{
	struct hs_store_traps *t = m->traps;
	*out = (struct hs_quirk_traps){0};
	if (t && idx < HS_MAX_CPUS)
		*out = (struct hs_quirk_traps){.watched = t->any,
					       .next_tb_off = m->quirks.next_tb_off,
					       .trap = on_trap,
					       .ud = &t->cpu[idx]};
}
