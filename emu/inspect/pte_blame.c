/* SPDX-License-Identifier: MIT */
#include "pte_blame.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "tlb_check.h"

#define PAGE 4096ULL

struct rec {
	uint64_t old, new, pc, icount;
	const char *hvc_name;
	int16_t hvc_nr;
	uint8_t cpu, el;
};

struct hist {
	uint64_t desc_pa;
	uint64_t total; /* stores since its page became a table */
	uint8_t head;	/* next slot to write */
	uint8_t n;	/* kept */
	struct rec r[HS_BLAME_DEPTH];
};

struct epoch {
	uint64_t page;
	struct hs_blame_epoch e;
};

struct hs_blame {
	struct hs_machine *m;
	struct hs_tlb_check *index; /* the table pages (index only) */
	bool subscribed;
	/* descriptors: open addressing, desc_pa + 1 -> index into h; 0 = free */
	uint64_t *keys;
	uint32_t *slot;
	size_t cap;
	struct hist *h;
	size_t nr_h;
	/* the table pages now, sorted by page, with the time each became one */
	struct epoch *ep;
	size_t nr_ep, cap_ep;
	/* the hypercall in progress per CPU */
	int hvc_nr[HS_MAX_CPUS];
	const char *hvc_name[HS_MAX_CPUS];
	unsigned last_cpu; /* of the event being handled (for the epoch of a page it links) */
	uint64_t last_icount;
	uint64_t stores, dropped;
	bool reindexing;     /* hs_blame_reindex: pages come back, their history stays */
	bool in_checkpoints; /* registered as a checkpoint part */
};

/* ---- descriptors ------------------------------------------------------------ */

static size_t hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 29) & (cap - 1);
}

static struct hist *hist_find(const struct hs_blame *b, uint64_t desc_pa)
{
	if (!b->cap)
		return NULL;
	for (size_t k = hash(desc_pa + 1, b->cap); b->keys[k]; k = (k + 1) & (b->cap - 1))
		if (b->keys[k] == desc_pa + 1)
			return &b->h[b->slot[k]];
	return NULL;
}

static int grow(struct hs_blame *b)
{
	size_t ncap = b->cap ? b->cap * 2 : 1024;
	uint64_t *keys = calloc(ncap, sizeof(*keys));
	uint32_t *slot = calloc(ncap, sizeof(*slot));
	struct hist *h = realloc(b->h, ncap / 2 * sizeof(*h));
	if (!keys || !slot || !h) {
		free(keys);
		free(slot);
		if (h)
			b->h = h;
		return -ENOMEM;
	}
	b->h = h;
	for (size_t i = 0; i < b->nr_h; i++) {
		size_t k = hash(h[i].desc_pa + 1, ncap);
		while (keys[k])
			k = (k + 1) & (ncap - 1);
		keys[k] = h[i].desc_pa + 1;
		slot[k] = (uint32_t)i;
	}
	free(b->keys);
	free(b->slot);
	b->keys = keys;
	b->slot = slot;
	b->cap = ncap;
	return 0;
}

static struct hist *hist_get(struct hs_blame *b, uint64_t desc_pa)
{
	struct hist *x = hist_find(b, desc_pa);
	if (x)
		return x;
	if (b->nr_h >= HS_BLAME_MAX_DESCS)
		return NULL;
	if ((b->nr_h + 1) * 2 > b->cap && grow(b))
		return NULL;
	size_t k = hash(desc_pa + 1, b->cap);
	while (b->keys[k])
		k = (k + 1) & (b->cap - 1);
	b->keys[k] = desc_pa + 1;
	b->slot[k] = (uint32_t)b->nr_h;
	x = &b->h[b->nr_h++];
	memset(x, 0, sizeof(*x));
	x->desc_pa = desc_pa;
	return x;
}

/* ---- table pages -------------------------------------------------------------- */

static size_t epoch_slot(const struct hs_blame *b, uint64_t page)
{
	size_t lo = 0, hi = b->nr_ep;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->ep[mid].page < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index took (on) or dropped a table page. */
static void on_watch(void *ud, uint64_t page, bool on)
{
	struct hs_blame *b = ud;
	size_t k = epoch_slot(b, page);
	bool have = k < b->nr_ep && b->ep[k].page == page;
	if (!on) {
		if (have)
			memmove(&b->ep[k], &b->ep[k + 1], (--b->nr_ep - k) * sizeof(*b->ep));
		return;
	}
	if (have)
		return;
	if (b->nr_ep == b->cap_ep) {
		size_t n = b->cap_ep ? b->cap_ep * 2 : 256;
		void *p = realloc(b->ep, n * sizeof(*b->ep));
		if (!p)
			return;
		b->ep = p;
		b->cap_ep = n;
	}
	memmove(&b->ep[k + 1], &b->ep[k], (b->nr_ep - k) * sizeof(*b->ep));
	b->nr_ep++;
	unsigned cpu = b->last_cpu < HS_MAX_CPUS ? b->last_cpu : 0;
	b->ep[k] = (struct epoch){
	    .page = page,
	    .e = {.icount = hs_machine_icount(b->m), .cpu = cpu, .hvc_name = b->hvc_name[cpu]}};
	/* A new life: what its descriptors held as an earlier table is not their history. */
	for (uint64_t d = page; d < page + PAGE && !b->reindexing; d += 8) {
		struct hist *x = hist_find(b, d);
		if (x)
			x->n = x->head = 0, x->total = 0;
	}
}

/* ---- events ------------------------------------------------------------------- */

static void on_store(struct hs_blame *b, const struct hs_event *ev)
{
	const struct hs_event_store *s = &ev->store;
	uint64_t desc_pa = s->pa & ~7ULL, word = 0, old, new;
	/* A whole aligned descriptor (nearly every store) needs nothing of memory. */
	if (!(s->size == 8 && s->pa == desc_pa) && hs_phys_read(b->m, desc_pa, &word, 8, NULL))
		return;
	hs_desc_merge_store(word, s->pa, s->size, s->old, s->val, &old, &new);
	b->stores++;
	struct hist *x = hist_get(b, desc_pa);
	if (!x) {
		b->dropped++;
		return;
	}
	unsigned cpu = ev->cpu < HS_MAX_CPUS ? ev->cpu : 0;
	x->r[x->head] = (struct rec){.old = old,
				     .new = new,
				     .pc = s->pc,
				     .icount = ev->icount,
				     .hvc_name = b->hvc_name[cpu],
				     .hvc_nr = (int16_t)b->hvc_nr[cpu],
				     .cpu = (uint8_t)ev->cpu,
				     .el = (uint8_t)s->el};
	x->head = (uint8_t)((x->head + 1) % HS_BLAME_DEPTH);
	if (x->n < HS_BLAME_DEPTH)
		x->n++;
	x->total++;
}

static void on_event(const struct hs_event *ev, void *ud)
{
	struct hs_blame *b = ud;
	b->last_cpu = ev->cpu;
	b->last_icount = ev->icount;
	unsigned cpu = ev->cpu;
	switch (ev->type) {
	case HS_EV_TABLE_STORE:
		on_store(b, ev);
		break;
	case HS_EV_HVC_ENTER:
		if (cpu < HS_MAX_CPUS) {
			b->hvc_nr[cpu] = ev->hvc.nr;
			b->hvc_name[cpu] = ev->hvc.name;
		}
		break;
	case HS_EV_HVC_EXIT:
		if (cpu < HS_MAX_CPUS) {
			b->hvc_nr[cpu] = -1;
			b->hvc_name[cpu] = NULL;
		}
		break;
	default:
		break;
	}
}

/* ---- life ----------------------------------------------------------------------- */

/*
 * Provenance is part of every checkpoint: restoring one (restart N, and every
 * replay reverse execution makes) forgets the stores of the run undone and
 * indexes the restored tables, and the hypercall each CPU was in comes back
 * with the CPUs. A replay running forward records the same stores again, so
 * the histories are always those of the machine as it is.
 */
struct blame_ck {
	int hvc_nr[HS_MAX_CPUS];
	const char *hvc_name[HS_MAX_CPUS];
};

static void *ck_save(void *ud, struct hs_error *err)
{
	const struct hs_blame *b = ud;
	struct blame_ck *k = malloc(sizeof(*k));
	if (!k) {
		hs_err(err, -ENOMEM, "blame: out of memory");
		return NULL;
	}
	memcpy(k->hvc_nr, b->hvc_nr, sizeof(k->hvc_nr));
	memcpy(k->hvc_name, b->hvc_name, sizeof(k->hvc_name));
	return k;
}

static int ck_restore(void *ud, const void *state, struct hs_error *err)
{
	struct hs_blame *b = ud;
	const struct blame_ck *k = state;
	for (unsigned i = 0; i < HS_MAX_CPUS; i++) {
		/* A checkpoint from before provenance existed: no call known in flight. */
		b->hvc_nr[i] = k ? k->hvc_nr[i] : -1;
		b->hvc_name[i] = k ? k->hvc_name[i] : NULL;
	}
	return hs_blame_reindex(b, err);
}

static const struct hs_ckpt_part blame_part = {
    .name = "blame", .save = ck_save, .restore = ck_restore, .free = free};

int hs_blame_new(struct hs_machine *m, struct hs_blame **out, struct hs_error *err)
{
	*out = NULL;
	struct hs_blame *b = calloc(1, sizeof(*b));
	if (!b)
		return hs_err(err, -ENOMEM, "blame: out of memory");
	b->m = m;
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		b->hvc_nr[i] = -1;
	/* First: a store's record comes before the index takes the table it links. */
	int rc = hs_machine_subscribe(m, on_event, b);
	if (rc) {
		free(b);
		return hs_err(err, rc, "blame: no free event subscription");
	}
	b->subscribed = true;
	struct hs_tlb_index_opts o = {.on_watch = on_watch, .ud = b};
	if ((rc = hs_tlb_index_new(m, &o, &b->index, err))) {
		hs_blame_free(b);
		return rc;
	}
	if (!hs_machine_is_dump(m)) {
		if ((rc = hs_checkpoint_add_part(m, &blame_part, b, err))) {
			hs_blame_free(b);
			return rc;
		}
		b->in_checkpoints = true;
	}
	*out = b;
	return 0;
}

/* Forget the stores made after instruction count `now` (a run that was undone). */
static void drop_after(struct hs_blame *b, uint64_t now)
{
	for (size_t i = 0; i < b->nr_h; i++) {
		struct hist *x = &b->h[i];
		struct rec keep[HS_BLAME_DEPTH];
		unsigned n = 0;
		for (unsigned k = 0; k < x->n; k++) {
			const struct rec *r =
			    &x->r[(x->head + HS_BLAME_DEPTH - x->n + k) % HS_BLAME_DEPTH];
			if (r->icount <= now)
				keep[n++] = *r;
		}
		x->total -= x->n - n;
		memcpy(x->r, keep, n * sizeof(keep[0]));
		x->n = (uint8_t)n;
		x->head = (uint8_t)(n % HS_BLAME_DEPTH);
	}
}

int hs_blame_reindex(struct hs_blame *b, struct hs_error *err)
{
	drop_after(b, hs_machine_icount(b->m));
	hs_tlb_check_free(b->index);
	b->index = NULL;
	b->reindexing = true;
	struct hs_tlb_index_opts o = {.on_watch = on_watch, .ud = b};
	int rc = hs_tlb_index_new(b->m, &o, &b->index, err);
	b->reindexing = false;
	return rc;
}

void hs_blame_free(struct hs_blame *b)
{
	if (!b)
		return;
	if (b->in_checkpoints)
		hs_checkpoint_remove_part(b->m, &blame_part, b);
	hs_tlb_check_free(b->index);
	if (b->subscribed)
		hs_machine_unsubscribe(b->m, on_event, b);
	free(b->keys);
	free(b->slot);
	free(b->h);
	free(b->ep);
	free(b);
}

/* ---- queries -------------------------------------------------------------------- */

static void to_public(const struct hist *x, const struct rec *r, struct hs_blame_rec *out)
{
	*out = (struct hs_blame_rec){.desc_pa = x->desc_pa,
				     .old = r->old,
				     .new = r->new,
				     .pc = r->pc,
				     .icount = r->icount,
				     .cpu = r->cpu,
				     .el = r->el,
				     .hvc_nr = r->hvc_nr,
				     .hvc_name = r->hvc_name};
}

size_t hs_blame_history(const struct hs_blame *b, uint64_t desc_pa, struct hs_blame_rec *out,
			size_t max, uint64_t *total)
{
	const struct hist *x = hist_find(b, desc_pa & ~7ULL);
	if (total)
		*total = x ? x->total : 0;
	if (!x)
		return 0;
	for (size_t i = 0; i < x->n && i < max; i++) {
		unsigned k = (x->head + HS_BLAME_DEPTH - 1 - (unsigned)i) % HS_BLAME_DEPTH;
		to_public(x, &x->r[k], &out[i]);
	}
	return x->n;
}

bool hs_blame_last(const struct hs_blame *b, uint64_t desc_pa, struct hs_blame_rec *out)
{
	return hs_blame_history(b, desc_pa, out, 1, NULL) > 0;
}

bool hs_blame_epoch(const struct hs_blame *b, uint64_t pa, struct hs_blame_epoch *out)
{
	uint64_t page = pa & ~(PAGE - 1);
	size_t k = epoch_slot(b, page);
	if (k >= b->nr_ep || b->ep[k].page != page)
		return false;
	*out = b->ep[k].e;
	return true;
}

void hs_blame_stats(const struct hs_blame *b, struct hs_blame_stats *st)
{
	*st = (struct hs_blame_stats){
	    .tables = b->nr_ep, .descs = b->nr_h, .stores = b->stores, .dropped = b->dropped};
}

/* ---- output ----------------------------------------------------------------------- */

void hs_blame_rec_text(struct hs_strbuf *sb, struct hs_machine *m, const struct hs_blame_rec *r)
{
	char where[200];
	hs_pc_where(m, r->pc, where, sizeof(where));
	hs_sb_printf(sb, "icount %" PRIu64 " cpu%u EL%u ", r->icount, r->cpu, r->el);
	if (r->hvc_name)
		hs_sb_printf(sb, "hvc %s", r->hvc_name);
	else
		hs_sb_puts(sb, "(no hypercall)");
	if (r->hvc_name && r->hvc_nr >= 0)
		hs_sb_printf(sb, " (#%d)", r->hvc_nr);
	hs_sb_printf(sb, " at %s: %#" PRIx64 " -> %#" PRIx64, where, r->old, r->new);
}

void hs_blame_rec_json(struct hs_strbuf *sb, struct hs_machine *m, const struct hs_blame_rec *r)
{
	char where[200];
	hs_pc_where(m, r->pc, where, sizeof(where));
	hs_sb_printf(sb,
		     "{\"entry\":%" PRIu64 ",\"old\":%" PRIu64 ",\"new\":%" PRIu64
		     ",\"cpu\":%u,\"el\":%u,\"pc\":%" PRIu64 ",\"icount\":%" PRIu64 ",\"where\":",
		     r->desc_pa, r->old, r->new, r->cpu, r->el, r->pc, r->icount);
	hs_sb_json_str(sb, where);
	hs_sb_printf(sb, ",\"hvc_nr\":%d,\"hypercall\":", r->hvc_name ? r->hvc_nr : -1);
	if (r->hvc_name)
		hs_sb_json_str(sb, r->hvc_name);
	else
		hs_sb_puts(sb, "null");
	hs_sb_putc(sb, '}');
}
