/* SPDX-License-Identifier: MIT */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_priv.h"
#include "machine_priv.h"
#include "ram_scan.h"
#include "write_log.h"

#define AUTO_ID_BASE 0x80000000u /* record's checkpoints number apart from the user's */

static const uint8_t zero_page[HS_PAGE_SIZE];

/* ---- the store ------------------------------------------------------------ */

static struct hs_ckpt_store *store_get(struct hs_machine *m, struct hs_error *err)
{
	if (!m->ckpt) {
		m->ckpt = calloc(1, sizeof(*m->ckpt));
		if (!m->ckpt)
			hs_err(err, -ENOMEM, "out of memory");
		else
			m->ckpt_free = hs_checkpoint_free_all;
	}
	return m->ckpt;
}

int hs_checkpoint_add_part(struct hs_machine *m, const struct hs_ckpt_part *p, void *ud,
			   struct hs_error *err)
{
	struct hs_ckpt_store *s = store_get(m, err);
	if (!s)
		return -ENOMEM;
	if (s->nparts == HS_CKPT_MAX_PARTS)
		return hs_err(err, -ENOSPC, "too many checkpoint parts (at most %d)",
			      HS_CKPT_MAX_PARTS);
	s->parts[s->nparts++] = (struct ck_part_reg){p, ud};
	return 0;
}

static void free_part_states(struct hs_ckpt_store *s, struct ckpt *k, unsigned i)
{
	if (k->part_state[i] && s->parts[i].p->free)
		s->parts[i].p->free(k->part_state[i]);
	k->part_state[i] = NULL;
}

void hs_checkpoint_remove_part(struct hs_machine *m, const struct hs_ckpt_part *p, void *ud)
{
	struct hs_ckpt_store *s = m->ckpt;
	if (!s)
		return;
	for (unsigned i = 0; i < s->nparts; i++) {
		if (s->parts[i].p != p || s->parts[i].ud != ud)
			continue;
		for (struct ckpt *k = s->head; k; k = k->next) {
			free_part_states(s, k, i);
			memmove(&k->part_state[i], &k->part_state[i + 1],
				(s->nparts - i - 1) * sizeof(k->part_state[0]));
			k->part_state[s->nparts - 1] = NULL;
		}
		memmove(&s->parts[i], &s->parts[i + 1], (s->nparts - i - 1) * sizeof(s->parts[0]));
		s->nparts--;
		return;
	}
}

static void ckpt_free(struct hs_ckpt_store *s, struct ckpt *k)
{
	for (unsigned i = 0; i < s->nparts; i++)
		free_part_states(s, k, i);
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		if (k->cpu[i].ctx)
			uc_context_free(k->cpu[i].ctx);
	free(k->pa);
	free(k->data);
	free(k);
}

static void unlink_ckpt(struct hs_ckpt_store *s, struct ckpt *k)
{
	*(k->prev ? &k->prev->next : &s->head) = k->next;
	*(k->next ? &k->next->prev : &s->tail) = k->prev;
	k->prev = k->next = NULL;
	if (k->parent)
		k->parent->nchildren--;
}

/* Free deleted checkpoints nothing needs any more: no children, not the base. */
static void prune(struct hs_ckpt_store *s, struct ckpt *k)
{
	while (k && k->deleted && !k->nchildren && k != s->base) {
		struct ckpt *parent = k->parent;
		unlink_ckpt(s, k);
		ckpt_free(s, k);
		k = parent;
	}
}

static struct ckpt *find(const struct hs_ckpt_store *s, unsigned id)
{
	for (struct ckpt *k = s ? s->head : NULL; k; k = k->next)
		if (k->id == id && !k->deleted)
			return k;
	return NULL;
}

/* ---- RAM ------------------------------------------------------------------- */

/* Copy the listed pages (sorted) into the checkpoint. */
static int copy_pages(struct hs_machine *m, struct ckpt *k, const uint64_t *pa, size_t nr)
{
	k->npages = nr;
	if (!nr)
		return 0;
	k->pa = malloc(nr * sizeof(*k->pa));
	k->data = malloc(nr * HS_PAGE_SIZE);
	if (!k->pa || !k->data)
		return -ENOMEM;
	memcpy(k->pa, pa, nr * sizeof(*pa));
	for (size_t i = 0; i < nr; i++)
		memcpy(k->data + i * HS_PAGE_SIZE, m->ram + (pa[i] - m->opts.ram_base),
		       HS_PAGE_SIZE);
	return 0;
}

static const uint8_t *delta_find(const struct ckpt *k, uint64_t pa)
{
	size_t lo = 0, hi = k->npages;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->pa[mid] == pa)
			return k->data + mid * HS_PAGE_SIZE;
		if (k->pa[mid] < pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The page at pa as checkpoint k has it. */
static const uint8_t *page_at(const struct ckpt *k, uint64_t pa)
{
	for (; k; k = k->parent) {
		const uint8_t *p = delta_find(k, pa);
		if (p)
			return p;
		if (k->full)
			break; /* it holds every page that was not zero */
	}
	return zero_page;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- take ------------------------------------------------------------------ */

static int save_cpus(struct hs_machine *m, struct ckpt *k, struct hs_error *err)
{
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		struct ck_cpu *s = &k->cpu[i];
		uc_err e = uc_context_alloc(c->uc, &s->ctx);
		if (!e)
			e = uc_context_save(c->uc, s->ctx);
		if (e)
			return hs_err(err, -EIO, "cpu%u: cannot save its context: %s", i,
				      uc_strerror(e));
		s->icount = c->icount;
		s->online = c->online;
		s->powered_off = c->powered_off;
		s->power_on_pending = c->power_on_pending;
		s->power_on_entry = c->power_on_entry;
		s->power_on_ctx = c->power_on_ctx;
		s->fault = c->fault;
	}
	return 0;
}

static void save_machine_fields(const struct hs_machine *m, struct ckpt *k)
{
	k->icount = hs_machine_icount(m);
	k->cur = m->cur;
	k->pc = hs_cpu_reg((struct hs_cpu *)&m->cpus[m->cur], UC_ARM64_REG_PC);
	k->op = m->op;
	k->last_stop = m->last_stop;
	k->dead = m->dead;
	k->killed = m->killed;
	memcpy(k->uart_line, m->uart_line, sizeof(k->uart_line));
	k->uart_len = m->uart_len;
}

/* The RAM part of a new checkpoint: what changed since the base (everything, the first time). */
static int take_ram(struct hs_machine *m, struct hs_ckpt_store *s, struct ckpt *k,
		    struct hs_error *err)
{
	struct hs_page_list v = {0};
	int rc = 0;
	if (!s->rd) {
		if ((rc = hs_write_log_open_rare(m, &s->rd, err)))
			return rc;
		k->full = true;
	} else {
		struct hs_write_log_pages pg;
		hs_write_log_take(s->rd, &pg);
		if (!pg.lost) {
			rc = copy_pages(m, k, pg.pa, pg.nr);
			return rc ? hs_err(err, rc, "out of memory for the checkpoint's pages") : 0;
		}
		k->full = true; /* the log lost track: keep every page that holds anything */
	}
	struct hs_write_log_pages pg;
	if (!(rc = hs_ram_scan(m, true, &v.pa, &v.nr))) {
		rc = copy_pages(m, k, v.pa, v.nr);
		hs_write_log_take(s->rd, &pg); /* from here on, the log names what changes */
	}
	free(v.pa);
	return rc ? hs_err(err, rc, "out of memory for the checkpoint's pages") : 0;
}

int hs_checkpoint_take(struct hs_machine *m, bool automatic, unsigned *id, struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM,
			      "this machine is a memory dump (hypscope inspect): it has "
			      "nothing to checkpoint");
	struct hs_ckpt_store *s = store_get(m, err);
	if (!s)
		return -ENOMEM;
	struct ckpt *k = calloc(1, sizeof(*k));
	if (!k)
		return hs_err(err, -ENOMEM, "out of memory");
	k->automatic = automatic;
	int rc = take_ram(m, s, k, err);
	if (!rc)
		rc = save_cpus(m, k, err);
	for (unsigned i = 0; i < s->nparts && !rc; i++) {
		k->part_state[i] = s->parts[i].p->save(s->parts[i].ud, err);
		if (!k->part_state[i])
			rc = err && err->code ? err->code : -ENOMEM;
	}
	if (rc) {
		ckpt_free(s, k);
		/* The pages it took from the log are lost to the next one: start over. */
		if (s->rd && s->base) {
			hs_write_log_close(s->rd);
			s->rd = NULL;
		}
		return rc;
	}
	save_machine_fields(m, k);
	k->id = automatic ? AUTO_ID_BASE + ++s->auto_ids : ++s->user_ids;
	k->parent = s->base;
	if (k->parent)
		k->parent->nchildren++;
	/* Appended in O(1): record takes one at every operation, thousands in a session. */
	k->prev = s->tail;
	*(s->tail ? &s->tail->next : &s->head) = k;
	s->tail = k;
	struct ckpt *old = s->base;
	s->base = k;
	prune(s, old);
	if (id)
		*id = k->id;
	return 0;
}

/* ---- restore --------------------------------------------------------------- */

/* Pages that can differ between the current state and k (sorted, each once). */
static int pages_to_restore(struct hs_machine *m, struct hs_ckpt_store *s, struct ckpt *k,
			    struct hs_page_list *v)
{
	struct hs_write_log_pages pg;
	hs_write_log_take(s->rd, &pg);
	int rc = 0;
	if (pg.lost) {
		free(v->pa);
		rc = hs_ram_scan(m, false, &v->pa, &v->nr);
		v->cap = v->nr;
	} else {
		for (size_t i = 0; i < pg.nr && !rc; i++)
			rc = hs_page_list_push(v, pg.pa[i]);
	}
	/* The deltas on both sides of the nearest common ancestor. */
	s->gen++;
	for (struct ckpt *a = k; a; a = a->parent)
		a->mark = s->gen;
	struct ckpt *lca = s->base;
	while (lca && lca->mark != s->gen)
		lca = lca->parent;
	for (struct ckpt *a = s->base; a != lca && !rc; a = a->parent)
		for (size_t i = 0; i < a->npages && !rc; i++)
			rc = hs_page_list_push(v, a->pa[i]);
	for (struct ckpt *a = k; a != lca && !rc; a = a->parent)
		for (size_t i = 0; i < a->npages && !rc; i++)
			rc = hs_page_list_push(v, a->pa[i]);
	if (rc)
		return rc;
	if (v->nr)
		qsort(v->pa, v->nr, sizeof(*v->pa), cmp_u64);
	size_t n = 0;
	for (size_t i = 0; i < v->nr; i++)
		if (!n || v->pa[n - 1] != v->pa[i])
			v->pa[n++] = v->pa[i];
	v->nr = n;
	return 0;
}

static void drop_code_all(struct hs_machine *m, uint64_t off)
{
	for (unsigned i = 0; i < m->nr_cpus; i++)
		hs_quirk_drop_code(m->cpus[i].uc, off, HS_PAGE_SIZE);
}

static size_t restore_ram(struct hs_machine *m, struct ckpt *k, const struct hs_page_list *v)
{
	size_t changed = 0;
	for (size_t i = 0; i < v->nr; i++) {
		uint64_t off = v->pa[i] - m->opts.ram_base;
		const uint8_t *want = page_at(k, v->pa[i]);
		if (!memcmp(m->ram + off, want, HS_PAGE_SIZE))
			continue;
		memcpy(m->ram + off, want, HS_PAGE_SIZE);
		drop_code_all(m, off);
		hs_write_log_mark(m, v->pa[i], HS_PAGE_SIZE);
		changed++;
	}
	return changed;
}

static int restore_cpus(struct hs_machine *m, struct ckpt *k, struct hs_error *err)
{
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		const struct ck_cpu *s = &k->cpu[i];
		uc_err e = uc_context_restore(c->uc, s->ctx);
		if (e)
			return hs_err(err, -EIO, "cpu%u: cannot restore its context: %s", i,
				      uc_strerror(e));
		/* The context holds no TLB and no interrupt lines: rebuild both. */
		hs_quirk_tlbi_all(c->uc);
		hs_cpu_set_sr(c, HS_SR_HCR_EL2, hs_cpu_sr(c, HS_SR_HCR_EL2));
		c->icount = s->icount;
		c->online = s->online;
		c->powered_off = s->powered_off;
		c->power_on_pending = s->power_on_pending;
		c->power_on_entry = s->power_on_entry;
		c->power_on_ctx = s->power_on_ctx;
		c->fault = s->fault;
		c->stop = HS_STOP_NONE;
		c->block_start = c->block_end = 0;
		hs_dbg_note_stopped(c); /* as stopped where it was: resuming steps over */
	}
	return 0;
}

int hs_checkpoint_restore(struct hs_machine *m, unsigned id, struct hs_error *err)
{
	struct hs_ckpt_store *s = m->ckpt;
	struct ckpt *k = find(s, id);
	if (!k)
		return hs_err(err, -ENOENT, "no checkpoint %u (info checkpoints lists them)", id);
	struct hs_page_list v = {0};
	if (pages_to_restore(m, s, k, &v)) {
		free(v.pa);
		return hs_err(err, -ENOMEM, "out of memory restoring checkpoint %u", id);
	}
	s->last_restored_pages = restore_ram(m, k, &v);
	free(v.pa);
	struct hs_write_log_pages pg;
	hs_write_log_take(s->rd, &pg); /* RAM is k's now: nothing written since */
	int rc = restore_cpus(m, k, err);
	if (rc)
		return rc;
	hs_write_log_forget_translations(m);
	m->cur = k->cur;
	m->op = k->op;
	m->last_stop = k->last_stop;
	m->dead = k->dead;
	m->killed = k->killed;
	memcpy(m->uart_line, k->uart_line, sizeof(m->uart_line));
	m->uart_len = k->uart_len;
	for (unsigned i = 0; i < s->nparts; i++)
		if ((rc = s->parts[i].p->restore(s->parts[i].ud, k->part_state[i], err)))
			return rc;
	struct ckpt *old = s->base;
	s->base = k;
	prune(s, old);
	return 0;
}

/* ---- delete, list ----------------------------------------------------------- */

int hs_checkpoint_delete(struct hs_machine *m, unsigned id, struct hs_error *err)
{
	struct ckpt *k = find(m->ckpt, id);
	if (!k)
		return hs_err(err, -ENOENT, "no checkpoint %u (info checkpoints lists them)", id);
	k->deleted = true;
	prune(m->ckpt, k);
	return 0;
}

/*
 * k's RAM delta merged under its only child c's (c's copies are newer), so
 * that c's delta runs from k's parent; c becomes full if k was.
 */
static int merge_into_child(struct ckpt *k, struct ckpt *c)
{
	size_t n = 0, i = 0, j = 0, max = k->npages + c->npages;
	uint64_t *pa = max ? malloc(max * sizeof(*pa)) : NULL;
	uint8_t *data = max ? malloc(max * HS_PAGE_SIZE) : NULL;
	if (max && (!pa || !data)) {
		free(pa);
		free(data);
		return -ENOMEM;
	}
	while (i < k->npages || j < c->npages) {
		bool from_c = j < c->npages && (i >= k->npages || c->pa[j] <= k->pa[i]);
		if (from_c && i < k->npages && k->pa[i] == c->pa[j])
			i++; /* the child's copy wins */
		const struct ckpt *src = from_c ? c : k;
		size_t at = from_c ? j++ : i++;
		pa[n] = src->pa[at];
		memcpy(data + n * HS_PAGE_SIZE, src->data + at * HS_PAGE_SIZE, HS_PAGE_SIZE);
		n++;
	}
	free(c->pa);
	free(c->data);
	c->pa = pa;
	c->data = data;
	c->npages = n;
	c->full |= k->full;
	return 0;
}

int hs_checkpoint_fold(struct hs_machine *m, unsigned id, struct hs_error *err)
{
	struct hs_ckpt_store *s = m->ckpt;
	struct ckpt *k = find(s, id), *c = NULL;
	if (!k || !k->automatic)
		return hs_err(err, -ENOENT, "no automatic checkpoint %u", id);
	for (struct ckpt *x = k->next; x && !c; x = x->next)
		if (x->parent == k)
			c = x; /* children come after their parent in the list */
	if (k == s->base || k->nchildren != 1 || !c)
		return hs_err(err, -EBUSY, "checkpoint %u is not inside one history", id);
	int rc = merge_into_child(k, c);
	if (rc)
		return hs_err(err, rc, "out of memory to fold checkpoint %u", id);
	c->parent = k->parent;
	if (c->parent)
		c->parent->nchildren++;
	unlink_ckpt(s, k); /* the parent loses k: its count is as before */
	ckpt_free(s, k);
	return 0;
}

void hs_checkpoint_delete_automatic(struct hs_machine *m)
{
	struct hs_ckpt_store *s = m->ckpt;
	if (!s)
		return;
	for (struct ckpt *k = s->head; k; k = k->next)
		k->deleted |= k->automatic;
	bool freed = true;
	while (freed) {
		freed = false;
		for (struct ckpt *k = s->head; k; k = k->next)
			if (k->deleted && !k->nchildren && k != s->base) {
				prune(s, k);
				freed = true;
				break;
			}
	}
}

static void fill_info(const struct hs_ckpt_store *s, const struct ckpt *k,
		      struct hs_checkpoint_info *o)
{
	*o = (struct hs_checkpoint_info){.id = k->id,
					 .automatic = k->automatic,
					 .icount = k->icount,
					 .cpu = k->cur,
					 .pc = k->pc,
					 .pages = k->npages,
					 .current_base = k == s->base};
	for (const struct ckpt *p = k->parent; p; p = p->parent)
		if (!p->deleted) {
			o->parent = p->id;
			break;
		}
}

size_t hs_checkpoint_list(const struct hs_machine *m, bool automatic,
			  struct hs_checkpoint_info *out, size_t max)
{
	size_t n = 0;
	const struct hs_ckpt_store *s = m->ckpt;
	for (const struct ckpt *k = s ? s->head : NULL; k; k = k->next) {
		if (k->deleted || k->automatic != automatic)
			continue;
		if (n < max)
			fill_info(s, k, &out[n]);
		n++;
	}
	return n;
}

bool hs_checkpoint_get(const struct hs_machine *m, unsigned id, struct hs_checkpoint_info *out)
{
	const struct ckpt *k = find(m->ckpt, id);
	if (k)
		fill_info(m->ckpt, k, out);
	return k != NULL;
}

static uint64_t ckpt_bytes(const struct hs_machine *m, const struct ckpt *k)
{
	uint64_t b = sizeof(*k) + k->npages * (HS_PAGE_SIZE + sizeof(uint64_t));
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if (k->cpu[i].ctx)
			b += uc_context_size(m->cpus[i].uc);
	return b;
}

uint64_t hs_checkpoint_newest_bytes(const struct hs_machine *m)
{
	return m->ckpt && m->ckpt->tail ? ckpt_bytes(m, m->ckpt->tail) : 0;
}

void hs_checkpoint_stats(const struct hs_machine *m, struct hs_checkpoint_stats *st)
{
	memset(st, 0, sizeof(*st));
	const struct hs_ckpt_store *s = m->ckpt;
	for (const struct ckpt *k = s ? s->head : NULL; k; k = k->next) {
		st->checkpoints++;
		st->pages += k->npages;
		st->bytes += ckpt_bytes(m, k);
	}
}

void hs_checkpoint_free_all(struct hs_machine *m)
{
	struct hs_ckpt_store *s = m->ckpt;
	if (!s)
		return;
	while (s->head) {
		struct ckpt *k = s->head;
		s->head = k->next;
		ckpt_free(s, k);
	}
	s->tail = NULL;
	if (s->rd)
		hs_write_log_close(s->rd);
	free(s);
	m->ckpt = NULL;
}

/* ---- bytes ------------------------------------------------------------------ */

void hs_bytes_put(struct hs_bytes *b, const void *p, size_t n)
{
	if (b->oom || !n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void hs_bytes_free(struct hs_bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void hs_bytes_get(struct hs_bytes_in *in, void *out, size_t n)
{
	if (n > in->len - in->off) {
		memset(out, 0, n);
		in->short_read = true;
		in->off = in->len;
		return;
	}
	memcpy(out, in->p + in->off, n);
	in->off += n;
}
