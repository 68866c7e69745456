/* SPDX-License-Identifier: MIT */
#include "barrier_hooks.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine_priv.h"

struct barrier {
	uint64_t addr; /* an address a CPU runs it from (PA or HYP VA) */
	uint8_t kind, option;
};

struct feed_cpu {
	struct hs_barrier_feed *f;
	unsigned idx;
	uc_hook *hooks; /* one per barrier address */
};

struct hs_barrier_feed {
	struct hs_machine *m;
	struct barrier *b; /* sorted by addr */
	size_t nr;
	unsigned users;
	bool stop_requested; /* stop at the next barrier any CPU reaches */
	struct feed_cpu cpu[HS_MAX_CPUS];
};

const char *hs_barrier_name(unsigned kind, unsigned option, char *buf, size_t len)
{
	static const char *const opts[16] = {
	    [1] = "oshld", [2] = "oshst",  [3] = "osh",	 [5] = "nshld", [6] = "nshst", [7] = "nsh",
	    [9] = "ishld", [10] = "ishst", [11] = "ish", [13] = "ld",	[14] = "st",   [15] = "sy"};
	const char *k = kind == HS_BARRIER_DSB ? "dsb" : kind == HS_BARRIER_DMB ? "dmb" : "isb";
	if (kind == HS_BARRIER_ISB || !opts[option & 15])
		snprintf(buf, len, kind == HS_BARRIER_ISB ? "%s" : "%s #%u", k, option & 15);
	else
		snprintf(buf, len, "%s %s", k, opts[option & 15]);
	return buf;
}

static int cmp_barrier(const void *a, const void *b)
{
	uint64_t x = ((const struct barrier *)a)->addr, y = ((const struct barrier *)b)->addr;
	return x < y ? -1 : x > y;
}

static int add(struct hs_barrier_feed *f, size_t *cap, uint64_t addr, unsigned kind,
	       unsigned option)
{
	if (f->nr == *cap) {
		size_t n = *cap ? *cap * 2 : 256;
		void *p = realloc(f->b, n * sizeof(*f->b));
		if (!p)
			return -ENOMEM;
		f->b = p;
		*cap = n;
	}
	f->b[f->nr++] = (struct barrier){.addr = addr, .kind = kind, .option = option};
	return 0;
}

/* Disassemble the executable segments once; every barrier at its PA and its HYP VA. */
static int scan(struct hs_barrier_feed *f, struct hs_error *err)
{
	struct hs_machine *m = f->m;
	const struct hs_image *img = m->img;
	csh cs;
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK)
		return hs_err(err, -EIO, "barrier feed: cannot open Capstone");
	cs_insn *insn = cs_malloc(cs);
	size_t cap = 0;
	int rc = 0;
	for (size_t s = 0; s < img->nsegs && !rc; s++) {
		const struct hs_segment *seg = &img->segs[s];
		if (!(seg->flags & PF_X))
			continue;
		const uint8_t *code = img->file + seg->offset;
		size_t size = seg->filesz;
		uint64_t addr = seg->paddr;
		while (size >= 4 && !rc) {
			if (!cs_disasm_iter(cs, &code, &size, &addr, insn)) {
				/* data in the text (a literal): step over the word */
				code += 4, size -= 4, addr += 4;
				continue;
			}
			unsigned kind;
			if (insn->id == ARM64_INS_DSB)
				kind = HS_BARRIER_DSB;
			else if (insn->id == ARM64_INS_DMB)
				kind = HS_BARRIER_DMB;
			else if (insn->id == ARM64_INS_ISB)
				kind = HS_BARRIER_ISB;
			else
				continue;
			uint32_t word;
			memcpy(&word, insn->bytes, 4);
			unsigned option = (word >> 8) & 15; /* CRm */
			uint64_t pa = hs_link_to_pa(m, insn->address);
			rc = add(f, &cap, pa, kind, option);
			uint64_t va = hs_link_to_hyp_va(m, insn->address);
			if (!rc && va != pa)
				rc = add(f, &cap, va, kind, option);
		}
	}
	cs_free(insn, 1);
	cs_close(&cs);
	if (rc)
		return hs_err(err, rc, "barrier feed: out of memory");
	qsort(f->b, f->nr, sizeof(*f->b), cmp_barrier);
	return 0;
}

static const struct barrier *find(const struct hs_barrier_feed *f, uint64_t addr)
{
	size_t lo = 0, hi = f->nr;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->b[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nr && f->b[lo].addr == addr ? &f->b[lo] : NULL;
}

static void on_barrier(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct feed_cpu *fc = ud;
	struct hs_barrier_feed *f = fc->f;
	(void)size;
	const struct barrier *b = find(f, address);
	if (!b || !f->users)
		return;
	if (f->stop_requested) {
		/* Exact from a code hook: the barrier has not run; it reports when resumed. */
		struct hs_cpu *c = &f->m->cpus[fc->idx];
		f->stop_requested = false;
		hs_cpu_cut_block(c, address);
		if (c->stop == HS_STOP_NONE)
			c->stop = HS_STOP_CHECK;
		uc_emu_stop(uc);
		return;
	}
	struct hs_event ev = {
	    .type = HS_EV_BARRIER, .cpu = fc->idx, .icount = hs_machine_icount(f->m)};
	ev.barrier = (struct hs_event_barrier){.kind = b->kind, .option = b->option, .pc = address};
	hs_emit(f->m, &ev);
}

static void unhook(struct hs_barrier_feed *f)
{
	for (unsigned i = 0; i < f->m->nr_cpus; i++) {
		struct feed_cpu *fc = &f->cpu[i];
		if (!fc->hooks)
			continue;
		for (size_t k = 0; k < f->nr; k++)
			if (fc->hooks[k])
				uc_hook_del(f->m->cpus[i].uc, fc->hooks[k]);
		free(fc->hooks);
		fc->hooks = NULL;
	}
}

static int hook(struct hs_barrier_feed *f, struct hs_error *err)
{
	struct hs_machine *m = f->m;
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct feed_cpu *fc = &f->cpu[i];
		uc_engine *uc = m->cpus[i].uc;
		fc->f = f;
		fc->idx = i;
		fc->hooks = calloc(f->nr ? f->nr : 1, sizeof(*fc->hooks));
		if (!fc->hooks) {
			unhook(f);
			return hs_err(err, -ENOMEM, "barrier feed: out of memory");
		}
		for (size_t k = 0; k < f->nr; k++) {
			uint64_t a = f->b[k].addr;
			uc_err e = uc_hook_add(uc, &fc->hooks[k], UC_HOOK_CODE, (void *)on_barrier,
					       fc, a, a);
			if (e) {
				unhook(f);
				return hs_err(err, -EIO, "barrier feed: hook at %#" PRIx64 ": %s",
					      a, uc_strerror(e));
			}
			/* Code translated before the hook existed would not call it. */
			uc_ctl_remove_cache(uc, a, a + 4);
		}
	}
	return 0;
}

int hs_barrier_feed_get(struct hs_machine *m, struct hs_error *err)
{
	if (!m->bfeed) {
		struct hs_barrier_feed *f = calloc(1, sizeof(*f));
		if (!f)
			return hs_err(err, -ENOMEM, "barrier feed: out of memory");
		f->m = m;
		int rc = scan(f, err);
		if (rc) {
			free(f->b);
			free(f);
			return rc;
		}
		m->bfeed = f;
	}
	struct hs_barrier_feed *f = m->bfeed;
	if (!f->users) {
		int rc = hook(f, err);
		if (rc)
			return rc;
	}
	f->users++;
	return 0;
}

void hs_barrier_feed_put(struct hs_machine *m)
{
	struct hs_barrier_feed *f = m->bfeed;
	if (!f || !f->users)
		return;
	if (!--f->users)
		unhook(f);
}

size_t hs_barrier_feed_count(const struct hs_machine *m)
{
	return m->bfeed ? m->bfeed->nr : 0;
}

void hs_machine_request_stop(struct hs_machine *m)
{
	if (m->bfeed && m->bfeed->users)
		m->bfeed->stop_requested = true;
}

void hs_barrier_feed_free(struct hs_machine *m)
{
	struct hs_barrier_feed *f = m->bfeed;
	if (!f)
		return;
	if (f->users)
		unhook(f);
	free(f->b);
	free(f);
	m->bfeed = NULL;
}
