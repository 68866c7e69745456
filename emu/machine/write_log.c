/* SPDX-License-Identifier: MIT */
#include "write_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dirty_pages.h"
#include "machine_priv.h"
#include "pt_translate.h"
#include "ram_scan.h"
#include "store_trap.h"

#define MAX_READERS 4
#define TC_BITS 8
#define TC_SIZE (1u << TC_BITS) /* translation cache entries per CPU and regime (direct-mapped) */
#define PAGE_MASK (~(HS_PAGE_SIZE - 1))
#define TLBI_VA_MASK ((1ULL << 44) - 1) /* TLBI VAE2 operand: VA[55:12] in bits [43:0] */

enum { R_EL1, R_EL2 }; /* the EL1&0 regime (through stage 2) and the EL2 one */

struct tc_entry {
	uint64_t va_page, pa_page;
	uint32_t gen; /* valid while it equals the cache's generation */
};

/* The regime registers of one CPU as last read (reading them costs a few CP reads). */
struct regime {
	bool loaded;
	bool flat; /* no translation at all: PA = VA */
	bool s2;   /* EL1&0: HCR_EL2.VM, stage 2 after stage 1 */
	struct hs_pt_regime s1r, s2r;
};

struct wlog_cpu {
	struct hs_write_log *log;
	unsigned idx;
	uc_hook hook;
	/* the page of the last store, valid while nothing was taken since */
	uint64_t last_key;
	uint32_t last_take;
	uint64_t last_pa; /* where that page is */
	bool last_tapped; /* and whether the tap watches it */
	struct tc_entry tc[2][TC_SIZE];
	uint32_t gen[2];
	struct regime reg[2];
};

struct hs_write_log_reader {
	struct hs_write_log *log;
	uint64_t *set; /* open addressing: page number + 1; 0 = free */
	size_t set_cap;
	uint64_t *list, *out; /* pages in arrival order; the last take's, sorted */
	size_t nr, cap_list, cap_out;
	const char *lost;
	bool rare; /* takes once in a while (checkpoints), not at every call */
};

struct hs_write_log {
	struct hs_machine *m;
	struct hs_write_log_reader *readers[MAX_READERS];
	unsigned nr_readers;
	unsigned nr_frequent; /* readers that take at every call (the trace, the checker) */
	uint32_t take_gen;
	struct wlog_cpu cpu[HS_MAX_CPUS];
	struct hs_pt_trace t;	   /* scratch for walks (the hook's stack stays small) */
	struct hs_pt_trace_2d t2d; /* scratch for EL1&0 + stage-2 walks */
	struct hs_write_log_stats stats;
	struct hs_dirty_pages *kern; /* the kernel tracks written pages (dirty_pages.h) */
	char kern_why[160];	     /* or why not: the hooks do */
	bool hooked;		     /* the hooks are on the engines */
	unsigned tap_users;
	bool tap_hooked;    /* no store traps on this machine: the tap is fed by the hooks */
	uint8_t *tap_refs;  /* per RAM page: how many tap users watch it */
	uint64_t tap_pages; /* entries in tap_refs */
};

/* ---- the readers' page sets -------------------------------------------- */

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (cap - 1);
}

static void lose(struct hs_write_log_reader *r, const char *why)
{
	if (!r->lost)
		r->lost = why;
}

static int set_grow(struct hs_write_log_reader *r)
{
	size_t ncap = r->set_cap ? r->set_cap * 2 : 1024;
	uint64_t *n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < r->nr; i++) {
		size_t k = slot_of(r->list[i] + 1, ncap);
		while (n[k])
			k = (k + 1) & (ncap - 1);
		n[k] = r->list[i] + 1;
	}
	free(r->set);
	r->set = n;
	r->set_cap = ncap;
	return 0;
}

static void reader_add(struct hs_write_log_reader *r, uint64_t page)
{
	if (r->lost)
		return;
	uint64_t key = page + 1;
	size_t k = slot_of(key, r->set_cap);
	for (; r->set[k]; k = (k + 1) & (r->set_cap - 1))
		if (r->set[k] == key)
			return;
	if (r->nr >= HS_WRITE_LOG_MAX_PAGES) {
		lose(r, "more pages written than the log keeps");
		return;
	}
	if (r->nr == r->cap_list) {
		size_t n = r->cap_list * 2;
		void *p = realloc(r->list, n * sizeof(*r->list));
		if (!p) {
			lose(r, "out of memory");
			return;
		}
		r->list = p;
		r->cap_list = n;
	}
	r->list[r->nr++] = page;
	if (r->nr * 2 > r->set_cap) {
		if (set_grow(r))
			lose(r, "out of memory");
		return; /* set_grow placed it */
	}
	r->set[k] = key;
}

static void add_page(struct hs_write_log *log, uint64_t pa)
{
	if (!hs_phys_is_ram(log->m, pa & PAGE_MASK, HS_PAGE_SIZE))
		return; /* devices and holes hold no state the checker reads */
	for (unsigned i = 0; i < log->nr_readers; i++)
		reader_add(log->readers[i], pa >> HS_PAGE_SHIFT);
}

static void lose_all(struct hs_write_log *log, const char *why)
{
	for (unsigned i = 0; i < log->nr_readers; i++)
		lose(log->readers[i], why);
}

/* ---- translation -------------------------------------------------------- */

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

static void flush(struct wlog_cpu *wc, unsigned which)
{
	wc->gen[which]++;
	wc->reg[which].loaded = false;
	wc->last_key = 0; /* the same VA may now be another page */
	wc->log->stats.flushes++;
}

static bool load_regime(struct wlog_cpu *wc, unsigned which)
{
	struct hs_cpu *c = &wc->log->m->cpus[wc->idx];
	struct regime *g = &wc->reg[which];
	char msg[128];
	memset(g, 0, sizeof(*g));
	if (which == R_EL2) {
		g->flat = !(hs_cpu_sr(c, HS_SR_SCTLR_EL2) & 1);
		if (!g->flat &&
		    hs_pt_regime_el2(hs_cpu_sr(c, HS_SR_TCR_EL2), hs_cpu_sr(c, HS_SR_TTBR0_EL2),
				     hs_cpu_sr(c, HS_SR_MAIR_EL2), &g->s1r, msg, sizeof(msg)))
			return false;
	} else {
		if (hs_pt_regime_el1(hs_cpu_sr(c, HS_SR_SCTLR_EL1), hs_cpu_sr(c, HS_SR_TCR_EL1),
				     hs_cpu_sr(c, HS_SR_TTBR0_EL1), hs_cpu_sr(c, HS_SR_MAIR_EL1),
				     &g->s1r, msg, sizeof(msg)))
			return false;
		g->s2 = hs_cpu_sr(c, HS_SR_HCR_EL2) & 1;
		if (g->s2 &&
		    hs_pt_regime_s2(hs_cpu_sr(c, HS_SR_VTCR_EL2), hs_cpu_sr(c, HS_SR_VTTBR_EL2),
				    &g->s2r, msg, sizeof(msg)))
			return false;
		g->flat = g->s1r.mmu_off && !g->s2;
	}
	g->loaded = true;
	return true;
}

/* VA -> PA of the page, as the CPU's current regime translates it. */
static bool walk(struct wlog_cpu *wc, unsigned which, uint64_t va, uint64_t *pa)
{
	struct hs_write_log *log = wc->log;
	struct regime *g = &wc->reg[which];
	if (!g->loaded && !load_regime(wc, which))
		return false;
	if (g->flat) {
		*pa = va;
		return true;
	}
	log->stats.translations++;
	struct hs_phys phys = {.read = phys_read, .ud = log->m};
	if (which == R_EL1 && g->s2) {
		if (hs_pt_translate_2d(&phys, &g->s1r, &g->s2r, va, 0, &log->t2d))
			return false;
		*pa = log->t2d.pa;
		return true;
	}
	if (hs_pt_translate(&phys, &g->s1r, va, &log->t))
		return false;
	*pa = log->t.out_pa;
	return true;
}

/* Slot of a VA page: hashed, since the regions an EL2 call touches sit at equal low bits. */
static struct tc_entry *tc_slot(struct wlog_cpu *wc, unsigned which, uint64_t vp)
{
	uint64_t h = (vp >> HS_PAGE_SHIFT) * 0x9E3779B97F4A7C15ULL;
	return &wc->tc[which][h >> (64 - TC_BITS)];
}

static bool translate(struct wlog_cpu *wc, unsigned which, uint64_t va, uint64_t *pa)
{
	uint64_t vp = va & PAGE_MASK;
	struct tc_entry *e = tc_slot(wc, which, vp);
	if (e->gen == wc->gen[which] && e->va_page == vp) {
		*pa = e->pa_page | (va & ~PAGE_MASK);
		return true;
	}
	uint64_t out;
	if (!walk(wc, which, vp, &out))
		return false;
	*e = (struct tc_entry){.va_page = vp, .pa_page = out & PAGE_MASK, .gen = wc->gen[which]};
	*pa = (out & PAGE_MASK) | (va & ~PAGE_MASK);
	return true;
}

/* ---- the hook ----------------------------------------------------------- */

static bool tap_watches(const struct hs_write_log *log, uint64_t pa)
{
	return log->tap_hooked && hs_store_trap_watched(log->m, HS_TRAP_TABLES, pa);
}

static void emit_store(struct hs_machine *m, const struct hs_trapped_store *s, uint64_t va)
{
	struct hs_event ev = {.type = HS_EV_TABLE_STORE, .cpu = s->cpu, .icount = s->icount};
	ev.store = (struct hs_event_store){.va = va,
					   .pa = s->pa,
					   .size = s->size,
					   .el = s->el,
					   .old = s->old,
					   .val = s->val,
					   .pc = s->pc};
	hs_emit(m, &ev);
}

/* The store traps' delivery, once the store retired. */
static void tap_after(void *ud, const struct hs_trapped_store *s)
{
	struct hs_write_log *log = ud;
	emit_store(log->m, s, 0);
}

/* Without traps: from the hook, before the store lands (memory still holds the old bytes). */
static void tap(struct wlog_cpu *wc, uint64_t va, uint64_t pa, int size, int64_t value)
{
	struct hs_machine *m = wc->log->m;
	unsigned n = size > 0 && size <= 8 ? (unsigned)size : 8;
	n = n > HS_PAGE_SIZE - (pa & ~PAGE_MASK) ? (unsigned)(HS_PAGE_SIZE - (pa & ~PAGE_MASK)) : n;
	struct hs_cpu *c = &m->cpus[wc->idx];
	struct hs_trapped_store s = {.cpu = wc->idx,
				     .el = hs_cpu_el(c),
				     .pa = pa,
				     .size = n,
				     .pc = hs_cpu_reg(c, UC_ARM64_REG_PC),
				     .icount = hs_machine_icount(m)};
	hs_phys_read(m, pa, &s.old, n, NULL);
	uint64_t mask = n == 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
	s.val = (uint64_t)value & mask;
	emit_store(m, &s, va);
}

static bool record(struct wlog_cpu *wc, unsigned which, uint64_t va, uint64_t *pa)
{
	/* With the kernel tracking pages, the hooks are there for the tap only. */
	bool log_it = !wc->log->kern;
	if (HS_UC_MEM_HOOKS_SEE_PA) {
		/* Unicorn 2.1 reports the physical address: nothing to translate. */
		*pa = va;
		if (log_it)
			add_page(wc->log, *pa);
		return true;
	}
	if (translate(wc, which, va, pa)) {
		if (log_it)
			add_page(wc->log, *pa);
		return true;
	}
	if (log_it)
		lose_all(wc->log, "a store the log could not translate (it faulted, or went "
				  "through a stale TLB entry)");
	return false;
}

static void on_store(uc_engine *uc, uc_mem_type type, uint64_t va, int size, int64_t value,
		     void *ud)
{
	struct wlog_cpu *wc = ud;
	struct hs_write_log *log = wc->log;
	(void)type;
	(void)value;
	log->stats.stores++;
	uint32_t pstate = 0;
	uc_reg_read(uc, UC_ARM64_REG_PSTATE, &pstate);
	unsigned which = ((pstate >> 2) & 3) == 2 ? R_EL2 : R_EL1;
	uint64_t last = va + (uint64_t)(size > 0 ? size - 1 : 0);
	/* Runs of stores to one page (a stack frame, a struct) cost one lookup. */
	uint64_t key = (va & PAGE_MASK) | which;
	bool one_page = (last & PAGE_MASK) == (va & PAGE_MASK);
	if (one_page && key == wc->last_key && wc->last_take == log->take_gen) {
		if (wc->last_tapped)
			tap(wc, va, wc->last_pa | (va & ~PAGE_MASK), size, value);
		return;
	}
	uint64_t pa, pa_last;
	bool placed = record(wc, which, va, &pa);
	if (!one_page)
		record(wc, which, last, &pa_last);
	wc->last_key = one_page && placed ? key : 0;
	wc->last_take = log->take_gen;
	wc->last_pa = pa & PAGE_MASK;
	wc->last_tapped = placed && tap_watches(log, pa);
	if (wc->last_tapped)
		tap(wc, va, pa, size, value);
}

/* ---- cache maintenance from the machine's events ------------------------ */

static bool is_el2_tlbi(const char *op)
{
	return !strncmp(op, "ALLE2", 5) || !strncmp(op, "VAE2", 4) || !strncmp(op, "VALE2", 5);
}

static void on_event(const struct hs_event *ev, void *ud)
{
	struct hs_write_log *log = ud;
	struct hs_machine *m = log->m;
	if (ev->type == HS_EV_TLBI) {
		/* Engines share no TLB, but the IS forms reach every CPU: drop on all. */
		const char *op = ev->tlbi.op;
		bool by_va = op[0] == 'V' && op[1] == 'A';
		uint64_t vp = (ev->tlbi.operand & TLBI_VA_MASK) << HS_PAGE_SHIFT;
		for (unsigned i = 0; i < m->nr_cpus; i++) {
			struct wlog_cpu *wc = &log->cpu[i];
			if (!strcmp(op, "TLBI?")) {
				flush(wc,
				      R_EL1); /* an operation the emulator does not name: both */
				flush(wc, R_EL2);
				continue;
			}
			if (!is_el2_tlbi(op)) {
				flush(wc, R_EL1); /* EL1&0 or stage-2 maintenance */
				continue;
			}
			if (!by_va) {
				flush(wc, R_EL2);
				continue;
			}
			struct tc_entry *e = tc_slot(wc, R_EL2, vp);
			if (e->va_page == vp)
				e->gen = wc->gen[R_EL2] - 1;
			wc->last_key = 0;
		}
		return;
	}
	if (ev->type != HS_EV_SYSREG_WRITE || ev->cpu >= m->nr_cpus)
		return;
	/* The event comes before the write: the next store reloads the regime. */
	switch (ev->sysreg.reg) {
	case HS_SR_SCTLR_EL2:
	case HS_SR_TCR_EL2:
	case HS_SR_TTBR0_EL2:
	case HS_SR_MAIR_EL2:
		flush(&log->cpu[ev->cpu], R_EL2);
		break;
	case HS_SR_HCR_EL2:
	case HS_SR_VTTBR_EL2:
	case HS_SR_VTCR_EL2:
		flush(&log->cpu[ev->cpu], R_EL1);
		break;
	default:
		return;
	}
	log->cpu[ev->cpu].last_key = 0;
}

/* ---- readers ------------------------------------------------------------ */

static struct wlog_cpu *cpu_reset(struct hs_write_log *log, unsigned i)
{
	struct wlog_cpu *wc = &log->cpu[i];
	memset(wc, 0, sizeof(*wc));
	wc->log = log;
	wc->idx = i;
	wc->gen[R_EL1] = wc->gen[R_EL2] = 1;
	return wc;
}

static int hook_all(struct hs_write_log *log, struct hs_error *err)
{
	struct hs_machine *m = log->m;
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct wlog_cpu *wc = cpu_reset(log, i);
		/*
		 * Memory hooks are looked up when a store executes, not when it is
		 * translated, so code translated before this hook reports to it too
		 * once no TLB entry lets stores past the store helper
		 * (hs_cpu_hook_stores; tests/test_check_incremental.c checks a
		 * hypercall's stores).
		 */
		uc_err e = hs_cpu_hook_stores(&m->cpus[i], &wc->hook, (void *)on_store, wc, 1, 0);
		if (e) {
			while (i-- > 0)
				hs_cpu_unhook_stores(&m->cpus[i], log->cpu[i].hook);
			return hs_err(err, -EIO, "write log: cannot hook stores: %s",
				      uc_strerror(e));
		}
	}
	int rc = hs_machine_subscribe(m, on_event, log);
	if (rc) {
		for (unsigned i = 0; i < m->nr_cpus; i++)
			hs_cpu_unhook_stores(&m->cpus[i], log->cpu[i].hook);
		return hs_err(err, rc, "write log: no free event subscription");
	}
	return 0;
}

static void unhook_all(struct hs_write_log *log)
{
	struct hs_machine *m = log->m;
	hs_machine_unsubscribe(m, on_event, log);
	for (unsigned i = 0; i < m->nr_cpus; i++)
		hs_cpu_unhook_stores(&m->cpus[i], log->cpu[i].hook);
}

/*
 * The hooks are wanted by readers when the kernel does not track pages, and
 * by the tap on engines without store traps.
 */
static int update_hooks(struct hs_write_log *log, struct hs_error *err)
{
	bool want = (log->nr_readers && !log->kern) || log->tap_hooked;
	if (want == log->hooked)
		return 0;
	if (want) {
		int rc = hook_all(log, err);
		if (rc)
			return rc;
	} else {
		unhook_all(log);
	}
	log->hooked = want;
	return 0;
}

/* The kernel's pages written since the last scan, to every reader. */
static void add_run(void *ud, uint64_t off, uint64_t n)
{
	struct hs_write_log *log = ud;
	uint64_t first = log->m->opts.ram_base + off;
	if (n >= HS_WRITE_LOG_MAX_PAGES) {
		lose_all(log, "more pages written than the log keeps");
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		for (unsigned k = 0; k < log->nr_readers; k++)
			reader_add(log->readers[k], (first >> HS_PAGE_SHIFT) + i);
}

static void kern_scan(struct hs_write_log *log)
{
	log->stats.scans++;
	if (hs_dirty_take(log->kern, add_run, log))
		lose_all(log, "the kernel could not say which pages were written");
}

/* The kernel tracks the pages unless it cannot, or HS_WRITE_LOG_HOOKS says not to ask it. */
static void kern_open(struct hs_write_log *log)
{
	struct hs_machine *m = log->m;
	const char *force = getenv("HS_WRITE_LOG_HOOKS");
	if (log->nr_frequent)
		snprintf(log->kern_why, sizeof(log->kern_why),
			 "a reader that takes at every call is open: a scan of the kernel's page "
			 "tables per call would cost more than the hooks");
	else if (m->dump)
		snprintf(log->kern_why, sizeof(log->kern_why), "RAM is a file's (a dump)");
	else if (force && *force && strcmp(force, "0"))
		snprintf(log->kern_why, sizeof(log->kern_why), "HS_WRITE_LOG_HOOKS is set");
	else if (!hs_dirty_open(m->ram, m->opts.ram_size, &log->kern, log->kern_why,
				sizeof(log->kern_why)))
		log->kern_why[0] = 0;
}

/*
 * Who feeds the readers. A take by the kernel's path scans the page tables
 * that exist, which on a booted machine grows with RAM (the boot read the
 * whole vmemmap and pool: ~0.03 ms at 1 GiB, ~0.13 ms at 16 GiB): cheap for
 * a checkpoint every 10^6 instructions, not for a reader that takes after
 * every hypercall (~1 us each). So the kernel tracks only while every open
 * reader is rare; a frequent one brings the hooks back, and its close the
 * kernel again, without a gap (the new way starts before the old one stops).
 */
static int retrack(struct hs_write_log *log, struct hs_error *err)
{
	bool want_kern = log->nr_readers && !log->nr_frequent;
	if (want_kern && !log->kern)
		kern_open(log);
	else if (!want_kern && log->kern) {
		kern_scan(log);
		hs_dirty_close(log->kern);
		log->kern = NULL;
		if (log->nr_readers)
			kern_open(log); /* only for its reason (kern_why) */
	}
	return update_hooks(log, err);
}

static void reader_free(struct hs_write_log_reader *r)
{
	free(r->set);
	free(r->list);
	free(r->out);
	free(r);
}

static int log_alloc(struct hs_machine *m, struct hs_error *err)
{
	if (!m->wlog) {
		m->wlog = calloc(1, sizeof(*m->wlog));
		if (!m->wlog)
			return hs_err(err, -ENOMEM, "write log: out of memory");
		m->wlog->m = m;
		for (unsigned i = 0; i < HS_MAX_CPUS; i++)
			cpu_reset(m->wlog, i);
	}
	return 0;
}

static int open_reader(struct hs_machine *m, bool rare, struct hs_write_log_reader **out,
		       struct hs_error *err)
{
	int arc = log_alloc(m, err);
	if (arc)
		return arc;
	struct hs_write_log *log = m->wlog;
	if (log->nr_readers == MAX_READERS)
		return hs_err(err, -ENOSPC, "write log: at most %d readers", MAX_READERS);
	struct hs_write_log_reader *r = calloc(1, sizeof(*r));
	if (r) {
		r->log = log;
		r->cap_list = 256;
		r->list = malloc(r->cap_list * sizeof(*r->list));
	}
	if (!r || !r->list || set_grow(r)) {
		if (r)
			reader_free(r);
		return hs_err(err, -ENOMEM, "write log: out of memory");
	}
	if (log->kern)
		kern_scan(log); /* what was written before this reader opened is not its */
	r->rare = rare;
	log->readers[log->nr_readers++] = r;
	log->nr_frequent += !rare;
	int rc = retrack(log, err);
	if (rc) {
		hs_write_log_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int hs_write_log_open(struct hs_machine *m, struct hs_write_log_reader **out, struct hs_error *err)
{
	return open_reader(m, false, out, err);
}

int hs_write_log_open_rare(struct hs_machine *m, struct hs_write_log_reader **out,
			   struct hs_error *err)
{
	return open_reader(m, true, out, err);
}

void hs_write_log_close(struct hs_write_log_reader *r)
{
	if (!r)
		return;
	struct hs_write_log *log = r->log;
	for (unsigned i = 0; i < log->nr_readers; i++) {
		if (log->readers[i] != r)
			continue;
		log->readers[i] = log->readers[--log->nr_readers];
		log->nr_frequent -= !r->rare;
		break;
	}
	retrack(log, NULL);
	reader_free(r);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void hs_write_log_take(struct hs_write_log_reader *r, struct hs_write_log_pages *out)
{
	struct hs_write_log *log = r->log;
	if (log->kern)
		kern_scan(log);
	/* hand over the list, sorted; it becomes the next take's spare buffer */
	for (size_t i = 0; i < r->nr; i++) {
		size_t k = slot_of(r->list[i] + 1, r->set_cap);
		while (r->set[k] != r->list[i] + 1)
			k = (k + 1) & (r->set_cap - 1);
		r->set[k] = 0; /* every key goes: no probe chain is left broken */
		r->list[i] <<= HS_PAGE_SHIFT;
	}
	qsort(r->list, r->nr, sizeof(*r->list), cmp_u64);
	uint64_t *spare = r->out;
	size_t spare_cap = r->cap_out;
	r->out = r->list;
	r->cap_out = r->cap_list;
	out->pa = r->out;
	out->nr = r->nr;
	out->lost = r->lost;
	if (!spare) {
		spare_cap = 256;
		spare = malloc(spare_cap * sizeof(*spare));
	}
	r->list = spare;
	r->cap_list = spare ? spare_cap : 0;
	r->nr = 0;
	r->lost = spare ? NULL : "out of memory";
	log->take_gen++;
	/*
	 * A guest may switch its own stage 1 on with an MSR at EL1 that no event
	 * reports: EL1&0 translations live until the next take at most.
	 */
	for (unsigned i = 0; i < log->m->nr_cpus; i++)
		flush(&log->cpu[i], R_EL1);
}

void hs_write_log_mark(struct hs_machine *m, uint64_t pa, uint64_t len)
{
	struct hs_write_log *log = m->wlog;
	if (!log || !log->nr_readers || !len)
		return;
	uint64_t first = pa & PAGE_MASK, last = (pa + len - 1) & PAGE_MASK;
	if ((last - first) >> HS_PAGE_SHIFT >= HS_WRITE_LOG_MAX_PAGES) {
		lose_all(log, "more pages written than the log keeps");
		return;
	}
	for (uint64_t p = first; p <= last; p += HS_PAGE_SIZE)
		add_page(log, p);
}

void hs_write_log_zeroing(struct hs_machine *m, uint64_t pa, uint64_t len)
{
	struct hs_write_log *log = m->wlog;
	if (!log || !log->nr_readers || !len)
		return;
	uint64_t *pages;
	size_t nr;
	if (hs_ram_scan_range(m, pa, len, false, &pages, &nr)) {
		lose_all(log, "out of memory");
		return;
	}
	for (size_t i = 0; i < nr; i++)
		hs_write_log_mark(m, pages[i], HS_PAGE_SIZE);
	free(pages);
}

int hs_write_log_tap_get(struct hs_machine *m, struct hs_error *err)
{
	int rc = log_alloc(m, err);
	if (rc)
		return rc;
	struct hs_write_log *log = m->wlog;
	if (!log->tap_refs) {
		log->tap_pages = hs_machine_opts(m)->ram_size >> HS_PAGE_SHIFT;
		log->tap_refs = calloc(log->tap_pages, 1);
		if (!log->tap_refs)
			return hs_err(err, -ENOMEM, "store tap: out of memory");
	}
	if (!log->tap_users) {
		/* Page-granular traps where the engines have them, else every store's hook. */
		log->tap_hooked = !hs_store_traps_exact(m);
		if ((rc = update_hooks(log, err))) {
			log->tap_hooked = false;
			return rc;
		}
		struct hs_store_trap_ops ops = {.after = tap_after, .ud = log};
		hs_store_trap_set_user(m, HS_TRAP_TABLES, log->tap_hooked ? NULL : &ops);
	}
	log->tap_users++;
	return 0;
}

void hs_write_log_tap_put(struct hs_machine *m)
{
	struct hs_write_log *log = m->wlog;
	if (!log || !log->tap_users)
		return;
	if (--log->tap_users)
		return;
	hs_store_trap_set_user(m, HS_TRAP_TABLES, NULL);
	/*
	 * Dropped, not cleared: a byte per RAM page (16 MiB at 64 GiB) whose memset
	 * faulted in every page of it at teardown; the next tap_get callocs afresh.
	 */
	free(log->tap_refs);
	log->tap_refs = NULL;
	log->tap_pages = 0;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		log->cpu[i].last_key = 0;
	log->tap_hooked = false;
	update_hooks(log, NULL);
}

int hs_write_log_tap_watch(struct hs_machine *m, uint64_t pa, bool on)
{
	struct hs_write_log *log = m->wlog;
	uint64_t base = hs_machine_opts(m)->ram_base;
	if (!log || !log->tap_users || pa < base || (pa - base) >> HS_PAGE_SHIFT >= log->tap_pages)
		return -EINVAL;
	/* Each user (two TLB models: the checker's, provenance's) watches its own tables. */
	uint8_t *ref = &log->tap_refs[(pa - base) >> HS_PAGE_SHIFT];
	if (on ? (*ref)++ : (!*ref || --(*ref)))
		return 0;
	int rc = hs_store_trap_watch(m, HS_TRAP_TABLES, pa, on);
	/* the hooks' one-page shortcut remembers whether the last page was watched */
	for (unsigned i = 0; !rc && i < m->nr_cpus; i++)
		log->cpu[i].last_key = 0;
	return rc;
}

void hs_write_log_forget_translations(struct hs_machine *m)
{
	struct hs_write_log *log = m->wlog;
	for (unsigned i = 0; log && i < m->nr_cpus; i++) {
		flush(&log->cpu[i], R_EL1);
		flush(&log->cpu[i], R_EL2);
	}
}

void hs_write_log_stats(const struct hs_machine *m, struct hs_write_log_stats *st)
{
	if (m->wlog) {
		*st = m->wlog->stats;
		st->kernel = m->wlog->kern != NULL;
		st->hooked = m->wlog->hooked;
		st->why_hooks = m->wlog->kern || !m->wlog->nr_readers ? NULL : m->wlog->kern_why;
	} else {
		memset(st, 0, sizeof(*st));
	}
}

void hs_write_log_free(struct hs_machine *m)
{
	struct hs_write_log *log = m->wlog;
	if (!log)
		return;
	/* readers left open: their owner is gone with the machine */
	if (log->hooked)
		unhook_all(log);
	hs_dirty_close(log->kern);
	if (log->tap_users)
		hs_store_trap_set_user(m, HS_TRAP_TABLES, NULL);
	for (unsigned i = 0; i < log->nr_readers; i++)
		reader_free(log->readers[i]);
	free(log->tap_refs);
	free(log);
	m->wlog = NULL;
}
