/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of host stage 2, EL2 stage 1 and vmemmap as merged ranges, and
 * a range-array diff. Descriptors are decoded here with a few bit tests
 * (not hs_pt_decode(), which formats strings) so a walk of a million leaves
 * stays cheap.
 */
#include "inspect_snapshot.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_state.h"
#include "linux_boot.h"
#include "linux_vm.h"
#include "pt_decode.h"
#include "sysregs.h"

#define OA_BITS 0x0000fffffffff000ULL

/* The snapshot stores owners by role (hs_swenc_canon_owner) and compares with abi.h's. */
_Static_assert(HS_SWENC_HOST == HS_OWNER_HOST && HS_SWENC_HYP == HS_OWNER_HYP &&
		   HS_SWENC_GUEST == HS_OWNER_GUEST,
	       "owners by role are abi.h's owner ids");

const char *hs_snap_table_name(enum hs_snap_table t)
{
	switch (t) {
	case HS_SNAP_HOST_S2:
		return "host-s2";
	case HS_SNAP_HYP_S1:
		return "hyp-s1";
	case HS_SNAP_VMEMMAP:
		return "vmemmap";
	case HS_SNAP_GUEST_S2:
		return "guest-s2";
	default:
		return "?";
	}
}

uint64_t hs_vm_normalise(const struct hs_vmemmap_layout *l, uint64_t raw)
{
	struct hs_vmemmap_entry e;
	hs_vmemmap_decode(l, raw, &e);
	return (uint64_t)(e.refcount & 0xffff) | (uint64_t)e.order << 16 |
	       (uint64_t)(e.host_state & 0xf) << 24 | (uint64_t)(e.hyp_state & 0xf) << 28 |
	       (uint64_t)e.guest_shares << 32;
}

void hs_snapshot_init(struct hs_snapshot *s)
{
	memset(s, 0, sizeof(*s));
}

void hs_snapshot_free(struct hs_snapshot *s)
{
	free(s->pt[0]);
	free(s->pt[1]);
	free(s->vm);
	free(s->tables);
	for (size_t i = 0; i < s->cap_guests; i++)
		free(s->guests[i].pt);
	free(s->guests);
	hs_snapshot_init(s);
}

int hs_snap_grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*v, n * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

/* dst[0, n) = src[0, n) in dst's growable buffer. 0 or -ENOMEM. */
static int copy_array(void **dst, size_t *cap, const void *src, size_t n, size_t elem)
{
	if (hs_snap_grow(dst, cap, n, elem))
		return -ENOMEM;
	if (n)
		memcpy(*dst, src, n * elem);
	return 0;
}

int hs_snapshot_copy(struct hs_snapshot *dst, const struct hs_snapshot *src)
{
	if (copy_array((void **)&dst->pt[0], &dst->cap_pt[0], src->pt[0], src->nr_pt[0],
		       sizeof(*src->pt[0])) ||
	    copy_array((void **)&dst->pt[1], &dst->cap_pt[1], src->pt[1], src->nr_pt[1],
		       sizeof(*src->pt[1])) ||
	    copy_array((void **)&dst->vm, &dst->cap_vm, src->vm, src->nr_vm, sizeof(*src->vm)) ||
	    copy_array((void **)&dst->tables, &dst->cap_tables, src->tables, src->nr_tables,
		       sizeof(*src->tables)))
		return -ENOMEM;
	if (src->nr_guests > dst->cap_guests) {
		struct hs_snap_guest *p = realloc(dst->guests, src->nr_guests * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + dst->cap_guests, 0, (src->nr_guests - dst->cap_guests) * sizeof(*p));
		dst->guests = p;
		dst->cap_guests = src->nr_guests;
	}
	for (size_t i = 0; i < src->nr_guests; i++) {
		struct hs_snap_guest *g = &dst->guests[i];
		struct hs_snap_pt_range *pt = g->pt;
		size_t cap = g->cap_pt;
		*g = src->guests[i];
		g->pt = pt;
		g->cap_pt = cap;
		if (copy_array((void **)&g->pt, &g->cap_pt, src->guests[i].pt, g->nr_pt,
			       sizeof(*g->pt)))
			return -ENOMEM;
	}
	dst->flags = src->flags;
	dst->icount = src->icount;
	dst->have_s1 = src->have_s1;
	dst->have_s2 = src->have_s2;
	dst->have_vm = src->have_vm;
	dst->s1 = src->s1;
	dst->s2 = src->s2;
	dst->vmemmap_base = src->vmemmap_base;
	dst->vmm = src->vmm;
	dst->swenc = src->swenc;
	memcpy(dst->mem, src->mem, sizeof(dst->mem));
	dst->nr_mem = src->nr_mem;
	memcpy(dst->nr_pt, src->nr_pt, sizeof(dst->nr_pt));
	dst->nr_vm = src->nr_vm;
	dst->nr_tables = src->nr_tables;
	dst->nr_malformed = src->nr_malformed;
	dst->have_guests = src->have_guests;
	dst->nr_guests = src->nr_guests;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Walk                                                                      */
/* ------------------------------------------------------------------------ */

struct snap_walk {
	struct hs_snapshot *s;
	enum hs_snap_table table;
	uint16_t guest;		     /* GUEST_S2: index in s->guests */
	struct hs_snap_pt_range **v; /* the range array filled */
	size_t *nr, *cap;
	unsigned *nr_malformed;
	const struct hs_pt_regime *r;
	long cur[HS_PT_MAX_LEVELS + 1]; /* table record being visited at each level */
	long root_first;		/* record index of the first root page */
	hs_snap_visit_fn observe;	/* hs_snapshot_walk_part(): sees every visit first */
	void *observe_arg;
	int oom;
};

static unsigned leaf_perm(const struct hs_pt_regime *r, uint64_t desc, unsigned hier)
{
	unsigned p = 0;
	if (r->stage == HS_PT_S2) {
		if (desc & (1ULL << 6))
			p |= HS_PT_PERM_R;
		if (desc & (1ULL << 7))
			p |= HS_PT_PERM_W;
		if (!((desc >> 53) & 3))
			p |= HS_PT_PERM_X;
		return p;
	}
	p = HS_PT_PERM_R;
	if (!(desc & (1ULL << 7)) && !(hier & HS_PT_HIER_NO_WRITE))
		p |= HS_PT_PERM_W;
	if (!(desc & (1ULL << 54)) && !(hier & HS_PT_HIER_XN))
		p |= HS_PT_PERM_X;
	return p;
}

static bool leaf_device(const struct hs_pt_regime *r, uint64_t desc)
{
	if (r->stage == HS_PT_S2)
		return ((desc >> 4) & 3) == 0; /* MemAttr[3:2] == 0: Device */
	unsigned idx = (desc >> 2) & 7;
	uint8_t attr = (uint8_t)(r->mair >> (8 * idx));
	return (attr & 0xf0) == 0;
}

bool hs_snap_pt_mergeable(const struct hs_snap_pt_range *l, const struct hs_snap_pt_range *nr)
{
	if (l->end != nr->start || l->kind != nr->kind)
		return false;
	uint64_t off = nr->start - l->start;
	if (nr->kind == HS_SNAP_LEAF)
		return l->oa + off == nr->oa && l->attr == nr->attr && l->state == nr->state &&
		       l->perm == nr->perm;
	if (nr->kind == HS_SNAP_ANNOT && l->owner == nr->owner) {
		uint64_t want = l->meta;
		if (l->owner == HS_OWNER_GUEST)
			want += (off >> HS_PAGE_SHIFT) << HS_ANNOT_META_GFN_SHIFT;
		return want == nr->meta;
	}
	return false; /* malformed entries stay one range each */
}

static int push_range(struct snap_walk *w, const struct hs_snap_pt_range *nr)
{
	size_t *n = w->nr;
	struct hs_snap_pt_range *v = *w->v;
	if (*n) {
		struct hs_snap_pt_range *l = &v[*n - 1];
		if (hs_snap_pt_mergeable(l, nr)) {
			l->end = nr->end;
			l->block |= nr->block;
			return 0;
		}
	}
	if (hs_snap_grow((void **)w->v, w->cap, *n + 1, sizeof(*v))) {
		w->oom = 1;
		return -ENOMEM;
	}
	(*w->v)[(*n)++] = *nr;
	return 0;
}

static long table_rec(struct snap_walk *w, const struct hs_pt_visit_ctx *c)
{
	if (!(w->s->flags & HS_SNAP_F_TABLES))
		return -1;
	if (c->level == w->r->start_level) {
		uint64_t gs = 1ULL << w->r->granule_shift;
		uint64_t idx = (c->desc_pa - w->r->root_pa) / gs;
		return w->root_first + (long)idx;
	}
	return w->cur[c->level];
}

static int add_table(struct snap_walk *w, uint64_t pa, int level)
{
	struct hs_snapshot *s = w->s;
	if (hs_snap_grow((void **)&s->tables, &s->cap_tables, s->nr_tables + 1,
			 sizeof(*s->tables))) {
		w->oom = 1;
		return -ENOMEM;
	}
	s->tables[s->nr_tables++] = (struct hs_snap_table_page){.pa = pa,
								.live = 0,
								.level = (int8_t)level,
								.table = (uint8_t)w->table,
								.guest = w->guest};
	return 0;
}

static int snap_walker(const struct hs_pt_visit_ctx *c)
{
	struct snap_walk *w = c->arg;
	const struct hs_pt_regime *r = w->r;
	if (w->observe) {
		int rc = w->observe(c, w->observe_arg);
		if (rc)
			return rc;
	}
	long t = table_rec(w, c);
	if (t >= 0 && c->desc) {
		bool live = r->stage == HS_PT_S2 ? true : (c->desc & 1);
		if (live)
			w->s->tables[t].live += 1;
	}
	struct hs_snap_pt_range nr = {
	    .start = c->addr, .end = c->addr + c->size, .level = (int8_t)c->level};
	switch (c->visit) {
	case HS_PT_VISIT_TABLE_PRE:
		if (w->s->flags & HS_SNAP_F_TABLES) {
			if (add_table(w, c->table_pa, c->level + 1))
				return -ENOMEM;
			w->cur[c->level + 1] = (long)w->s->nr_tables - 1;
		}
		return 0;
	case HS_PT_VISIT_LEAF:
		nr.kind = HS_SNAP_LEAF;
		nr.oa = hs_pt_desc_oa(r, c->desc);
		nr.attr = c->desc & ~(OA_BITS | HS_PTE_STATE_MASK | 3ULL);
		nr.state = (uint8_t)((c->desc & HS_PTE_STATE_MASK) >> HS_PTE_STATE_SHIFT);
		nr.perm = (uint8_t)leaf_perm(r, c->desc, c->hier);
		nr.device = leaf_device(r, c->desc);
		nr.block = c->level < 3;
		return push_range(w, &nr);
	case HS_PT_VISIT_INVALID:
		if (!c->desc || r->stage != HS_PT_S2)
			return 0; /* stage 1 ignores invalid entries whatever they hold */
		if (c->kind == HS_PT_K_ANNOTATION) {
			nr.kind = HS_SNAP_ANNOT;
			/* stored by role (host, hyp, guest), whatever the hypervisor's ids */
			unsigned owner =
			    hs_swenc_canon_owner(r->swenc, hs_swenc_owner(r->swenc, c->desc));
			nr.owner = (uint8_t)owner;
			nr.meta =
			    hs_swenc_canon_meta(r->swenc, owner, hs_swenc_meta(r->swenc, c->desc));
			nr.block = c->level < 3;
		} else {
			nr.kind = HS_SNAP_BAD;
			nr.attr = c->desc;
		}
		return push_range(w, &nr);
	case HS_PT_VISIT_MALFORMED:
		(*w->nr_malformed)++;
		nr.kind = HS_SNAP_BAD;
		nr.attr = c->desc;
		return push_range(w, &nr);
	}
	return 0;
}

/* Walk [start, end) of the regime into w's range array (reset first). */
static int walk_regime(struct snap_walk *wp, const struct hs_phys *phys, uint64_t start,
		       uint64_t end, struct hs_error *err)
{
	struct snap_walk w = *wp;
	struct hs_snapshot *s = w.s;
	const struct hs_pt_regime *r = w.r;
	for (int i = 0; i <= HS_PT_MAX_LEVELS; i++)
		w.cur[i] = -1;
	*w.nr = 0;
	if (s->flags & HS_SNAP_F_TABLES) {
		w.root_first = (long)s->nr_tables;
		for (unsigned i = 0; i < r->nr_concat; i++)
			if (add_table(&w, r->root_pa + ((uint64_t)i << r->granule_shift),
				      r->start_level))
				return hs_err(err, -ENOMEM, "snapshot: out of memory");
	}
	struct hs_pt_visitor v = {.cb = snap_walker,
				  .arg = &w,
				  .flags = HS_PT_VISIT_LEAF | HS_PT_VISIT_INVALID |
					   HS_PT_VISIT_MALFORMED | HS_PT_VISIT_TABLE_PRE};
	int rc = hs_pt_walk(phys, r, start, end, &v);
	if (rc || w.oom)
		return hs_err(err, w.oom ? -ENOMEM : rc, "snapshot: walking the %s failed (%d)",
			      hs_snap_table_name(w.table), rc);
	return 0;
}

int hs_snapshot_walk_part(const struct hs_phys *phys, const struct hs_pt_regime *r,
			  enum hs_snap_table table, uint64_t start, uint64_t end,
			  struct hs_snap_pt_range **v, size_t *nr, size_t *cap,
			  hs_snap_visit_fn observe, void *arg, struct hs_error *err)
{
	struct hs_snapshot none; /* no table records: the caller keeps its own */
	hs_snapshot_init(&none);
	unsigned malformed = 0;
	struct snap_walk w = {.s = &none,
			      .table = table,
			      .v = v,
			      .nr = nr,
			      .cap = cap,
			      .nr_malformed = &malformed,
			      .r = r,
			      .observe = observe,
			      .observe_arg = arg};
	return walk_regime(&w, phys, start, end, err);
}

int hs_snapshot_walk(struct hs_snapshot *s, enum hs_snap_table table, const struct hs_phys *phys,
		     const struct hs_pt_regime *r, struct hs_error *err)
{
	if (table != HS_SNAP_HOST_S2 && table != HS_SNAP_HYP_S1)
		return hs_err(err, -EINVAL, "snapshot: %s is not a walkable table",
			      hs_snap_table_name(table));
	struct snap_walk w = {.s = s,
			      .table = table,
			      .v = &s->pt[table],
			      .nr = &s->nr_pt[table],
			      .cap = &s->cap_pt[table],
			      .nr_malformed = &s->nr_malformed,
			      .r = r};
	int rc = walk_regime(&w, phys, 0, hs_pt_ia_end(r), err);
	if (rc)
		return rc;
	if (table == HS_SNAP_HOST_S2) {
		s->have_s2 = true;
		s->s2 = *r;
	} else {
		s->have_s1 = true;
		s->s1 = *r;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                   */
/* ------------------------------------------------------------------------ */

size_t hs_snap_lower(const void *v, size_t n, size_t stride, size_t end_off, uint64_t addr)
{
	const char *base = v;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t end;
		memcpy(&end, base + mid * stride + end_off, sizeof(end));
		if (end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct hs_snap_pt_range *hs_snap_pt_find(const struct hs_snapshot *s,
					       enum hs_snap_table table, uint64_t addr)
{
	const struct hs_snap_pt_range *v = s->pt[table];
	size_t i = hs_snap_pt_lower(v, s->nr_pt[table], addr);
	return i < s->nr_pt[table] && v[i].start <= addr ? &v[i] : NULL;
}

const struct hs_snap_vm_range *hs_snap_vm_find(const struct hs_snapshot *s, uint64_t pa)
{
	size_t i = hs_snap_vm_lower(s, pa);
	return i < s->nr_vm && s->vm[i].start <= pa ? &s->vm[i] : NULL;
}

const struct hs_snap_guest *hs_snap_guest_find(const struct hs_snapshot *s, uint64_t handle)
{
	size_t lo = 0, hi = s->nr_guests;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->guests[mid].handle < handle)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nr_guests && s->guests[lo].handle == handle)
		return &s->guests[lo];
	return NULL;
}

const struct hs_snap_pt_range *hs_snap_guest_pt_find(const struct hs_snap_guest *g, uint64_t ipa)
{
	size_t i = hs_snap_pt_lower(g->pt, g->nr_pt, ipa);
	return i < g->nr_pt && g->pt[i].start <= ipa ? &g->pt[i] : NULL;
}

struct cover_ev {
	uint64_t pa;
	int delta;
};

static int cmp_ev(const void *a, const void *b)
{
	const struct cover_ev *x = a, *y = b;
	if (x->pa != y->pa)
		return x->pa < y->pa ? -1 : 1;
	return x->delta - y->delta;
}

int hs_snap_guest_cover(const struct hs_snapshot *s, unsigned state_mask,
			struct hs_snap_cover **out, size_t *nr)
{
	size_t n = 0, k = 0;
	*out = NULL;
	*nr = 0;
	for (size_t g = 0; g < s->nr_guests; g++)
		n += s->guests[g].nr_pt;
	if (!n)
		return 0;
	struct cover_ev *ev = malloc(2 * n * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	for (size_t g = 0; g < s->nr_guests; g++) {
		const struct hs_snap_guest *gu = &s->guests[g];
		for (size_t i = 0; i < gu->nr_pt; i++) {
			const struct hs_snap_pt_range *r = &gu->pt[i];
			if (r->kind != HS_SNAP_LEAF || r->state > 31 ||
			    !(state_mask & (1u << r->state)))
				continue;
			uint64_t len = r->end - r->start;
			ev[k++] = (struct cover_ev){r->oa, +1};
			ev[k++] = (struct cover_ev){r->oa + len, -1};
		}
	}
	qsort(ev, k, sizeof(*ev), cmp_ev);
	struct hs_snap_cover *c = NULL;
	size_t nc = 0, cap = 0;
	int64_t depth = 0;
	for (size_t i = 0; i < k;) {
		uint64_t pa = ev[i].pa;
		while (i < k && ev[i].pa == pa)
			depth += ev[i++].delta;
		if (i >= k || depth <= 0)
			continue;
		uint64_t end = ev[i].pa;
		if (nc && c[nc - 1].end == pa && c[nc - 1].count == (uint32_t)depth) {
			c[nc - 1].end = end;
			continue;
		}
		if (hs_snap_grow((void **)&c, &cap, nc + 1, sizeof(*c))) {
			free(c);
			free(ev);
			return -ENOMEM;
		}
		c[nc++] = (struct hs_snap_cover){pa, end, (uint32_t)depth};
	}
	free(ev);
	*out = c;
	*nr = nc;
	return 0;
}

int hs_snap_mem_region(const struct hs_snapshot *s, uint64_t pa)
{
	for (unsigned i = 0; i < s->nr_mem; i++)
		if (pa >= s->mem[i].base && pa - s->mem[i].base < s->mem[i].size)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Capture                                                                   */
/* ------------------------------------------------------------------------ */

static int phys_read_cb(void *ud, uint64_t pa, void *buf, size_t len)
{
	void *p = hs_phys_ptr(ud, pa, len);
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

/* A growable array of vmemmap runs (the snapshot's, or a caller's). */
struct vm_out {
	struct hs_snap_vm_range **v;
	size_t *nr, *cap;
};

static int push_vm(struct vm_out *o, uint64_t pa, uint64_t val, bool backed)
{
	if (*o->nr) {
		struct hs_snap_vm_range *l = &(*o->v)[*o->nr - 1];
		if (l->end == pa && l->val == val && l->backed == backed) {
			l->end = pa + HS_PAGE_SIZE;
			return 0;
		}
	}
	if (hs_snap_grow((void **)o->v, o->cap, *o->nr + 1, sizeof(**o->v)))
		return -ENOMEM;
	(*o->v)[(*o->nr)++] = (struct hs_snap_vm_range){
	    .start = pa, .end = pa + HS_PAGE_SIZE, .val = val, .backed = backed};
	return 0;
}

/* Append a run of unbacked pages [pa, end). */
static int push_vm_unbacked(struct vm_out *o, uint64_t pa, uint64_t end)
{
	if (pa >= end)
		return 0;
	if (push_vm(o, pa, 0, false))
		return -ENOMEM;
	(*o->v)[*o->nr - 1].end = end;
	return 0;
}

/* Runs shorter than this are measured entry by entry; longer ones with memcmp. */
#define SHORT_RUN 16
/* The most entries one memcmp of a run compares (its second operand stays cached). */
#define RUN_STEP_MAX 4096

/*
 * How many of the n raw entries (each l->entry_size bytes) from e equal the first (n > 0):
 * the length of a run of identical raw entries. Most of a vmemmap is long runs of one
 * value (a 16 GiB machine's is 32 MiB, read three times in a traced boot), so once a run
 * is SHORT_RUN long the entries after it are compared with its start by memcmp (libc's is
 * vectorised), in steps that double while they match and halve on a mismatch; the step
 * never exceeds what is known equal. 8-byte entries (the bundled layout, Linux 7.x) start
 * as words.
 */
static uint64_t same_raw(const struct hs_vmemmap_layout *l, const uint8_t *e, uint64_t n)
{
	const size_t esz = l->entry_size;
	uint64_t i = 1;
	if (esz == 8) {
		const uint64_t *w = (const uint64_t *)(const void *)e;
		while (i < n && i < SHORT_RUN && w[i] == w[0])
			i++;
	} else {
		while (i < n && i < SHORT_RUN && !memcmp(e + i * esz, e, esz))
			i++;
	}
	if (i < SHORT_RUN)
		return i;
	for (uint64_t k = i; i < n;) {
		uint64_t m = k < n - i ? k : n - i;
		if (!memcmp(e + i * esz, e, m * esz)) {
			i += m;
			if (2 * k <= i && k < RUN_STEP_MAX)
				k *= 2;
		} else if (m == 1) {
			break;
		} else {
			k = m / 2;
		}
	}
	return i;
}

/*
 * Append the backed entries e[0, n) of the pages from pa on. Equal raw entries
 * decode equally, so a run of them costs one decode and one comparison per
 * entry (a snapshot of 64 GiB reads 16 Mi entries).
 */
static int push_vm_entries(struct vm_out *o, const struct hs_vmemmap_layout *l, uint64_t pa,
			   const uint8_t *e, uint64_t n)
{
	for (uint64_t i = 0; i < n;) {
		const uint8_t *at = e + i * l->entry_size;
		uint64_t k = same_raw(l, at, n - i);
		uint64_t p = pa + (i << HS_PAGE_SHIFT);
		if (push_vm(o, p, hs_vm_normalise(l, hs_vmemmap_raw(l, at)), true))
			return -ENOMEM;
		(*o->v)[*o->nr - 1].end = p + (k << HS_PAGE_SHIFT);
		i += k;
	}
	return 0;
}

/*
 * Read the vmemmap entries of [base, base + size) through the EL2 stage 1
 * ranges already in s: translate the window chunk by chunk (one leaf range
 * at a time) and decode the backing memory in place.
 */
static int read_vmemmap_region(struct hs_machine *m, const struct hs_snapshot *s, uint64_t base,
			       uint64_t size, struct vm_out *o)
{
	const struct hs_vmemmap_layout *l = &s->vmm;
	const uint64_t esz = l->entry_size;
	if (!esz)
		return push_vm_unbacked(o, base, base + size); /* no layout: nothing to read */
	uint64_t pfn = base >> HS_PAGE_SHIFT, pfn_end = (base + size) >> HS_PAGE_SHIFT;
	while (pfn < pfn_end) {
		uint64_t va = l->base_va + pfn * esz;
		const struct hs_snap_pt_range *r = hs_snap_pt_find(s, HS_SNAP_HYP_S1, va);
		if (!r || r->kind != HS_SNAP_LEAF || r->end - va < esz) {
			/* unbacked up to the first entry starting on the next page */
			uint64_t next_va = (va | (HS_PAGE_SIZE - 1)) + 1;
			uint64_t n = (next_va - va + esz - 1) / esz;
			if (n > pfn_end - pfn)
				n = pfn_end - pfn;
			if (push_vm_unbacked(o, pfn << HS_PAGE_SHIFT, (pfn + n) << HS_PAGE_SHIFT))
				return -ENOMEM;
			pfn += n;
			continue;
		}
		uint64_t n = (r->end - va) / esz;
		if (n > pfn_end - pfn)
			n = pfn_end - pfn;
		uint64_t pa = r->oa + (va - r->start);
		const uint8_t *e = hs_phys_ptr(m, pa, n * esz);
		if (!e) {
			if (push_vm_unbacked(o, pfn << HS_PAGE_SHIFT, (pfn + n) << HS_PAGE_SHIFT))
				return -ENOMEM;
		} else if (push_vm_entries(o, l, pfn << HS_PAGE_SHIFT, e, n)) {
			return -ENOMEM;
		}
		pfn += n;
	}
	return 0;
}

int hs_snapshot_read_vmemmap_part(struct hs_machine *m, const struct hs_snapshot *s, uint64_t base,
				  uint64_t size, struct hs_snap_vm_range **v, size_t *nr,
				  size_t *cap)
{
	struct vm_out o = {.v = v, .nr = nr, .cap = cap};
	*nr = 0;
	return read_vmemmap_region(m, s, base, size, &o);
}

static void read_regions(struct hs_machine *m, struct hs_snapshot *s)
{
	uint64_t pa_mem, pa_nr;
	uint32_t nr = 0;
	/* hyp_memory[] of the hypervisor's struct memblock_region: base, size first */
	unsigned stride = hs_profile_of(m)->memblock_size(m);
	s->nr_mem = 0;
	if (!hs_sym_pa(m, "hyp_memory", &pa_mem, NULL) &&
	    !hs_sym_pa(m, "hyp_memblock_nr", &pa_nr, NULL) &&
	    !hs_phys_read(m, pa_nr, &nr, sizeof(nr), NULL) && nr > 0 &&
	    nr <= HS_MAX_MEMBLOCK_REGIONS) {
		unsigned i = 0;
		for (; i < nr; i++)
			if (hs_phys_read(m, pa_mem + (uint64_t)i * stride, &s->mem[i],
					 sizeof(s->mem[i]), NULL))
				break;
		if (i == nr) {
			s->nr_mem = nr;
			return;
		}
	}
	const struct hs_machine_opts *o = hs_machine_opts(m);
	s->mem[0].base = o->ram_base;
	s->mem[0].size = o->ram_size;
	s->nr_mem = 1;
}

/*
 * The state a table gives a page at addr, and where that answer ends: a valid leaf's SW
 * bits; an annotation (the host's, of a page it no longer owns) or, at EL2, no mapping:
 * NOPAGE; no entry in the host stage 2: OWNED (the host's default).
 */
static unsigned table_state(const struct hs_snap_pt_range *v, size_t n, uint64_t addr,
			    unsigned none, uint64_t *end)
{
	size_t i = hs_snap_pt_lower(v, n, addr);
	if (i == n) {
		*end = UINT64_MAX;
		return none;
	}
	if (v[i].start > addr) {
		*end = v[i].start;
		return none;
	}
	*end = v[i].end;
	return v[i].kind == HS_SNAP_LEAF ? v[i].state : HS_PAGE_NOPAGE;
}

static int cmp_range_start(const void *a, const void *b)
{
	uint64_t x = ((const struct hs_snap_pt_range *)a)->start,
		 y = ((const struct hs_snap_pt_range *)b)->start;
	return x < y ? -1 : x > y;
}

/* The EL2 leaves outside the linear map (stacks, private mappings), keyed by PA. */
static struct hs_snap_pt_range *private_maps(const struct hs_snapshot *s,
					     const struct hs_layout *lay, size_t *nr)
{
	const struct hs_snap_pt_range *v = s->pt[HS_SNAP_HYP_S1];
	struct hs_snap_pt_range *p = malloc((s->nr_pt[HS_SNAP_HYP_S1] + 1) * sizeof(*p));
	*nr = 0;
	if (!p)
		return NULL;
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++)
		if (v[i].kind == HS_SNAP_LEAF && v[i].start != hs_layout_hyp_va(lay, v[i].oa)) {
			p[*nr] = v[i];
			p[*nr].start = v[i].oa;
			p[(*nr)++].end = v[i].oa + (v[i].end - v[i].start);
		}
	qsort(p, *nr, sizeof(*p), cmp_range_start);
	/* overlapping aliases: the first one's state stands */
	for (size_t i = 1; i < *nr; i++)
		if (p[i].start < p[i - 1].end)
			p[i].start = p[i - 1].end > p[i].end ? p[i].end : p[i - 1].end;
	return p;
}

/*
 * A hypervisor whose vmemmap holds no page states (Linux 6.x) reads them from its tables
 * (mem_protect.c host_get_page_state: the host stage-2 entry; hyp_get_page_state: the
 * EL2 linear map's): give s->vm's backed runs the states those functions would return.
 */
static int states_from_tables(struct hs_machine *m, struct hs_snapshot *s)
{
	const struct hs_layout *lay = hs_machine_layout(m);
	size_t nr_priv;
	struct hs_snap_pt_range *priv = private_maps(s, lay, &nr_priv);
	struct hs_snap_vm_range *old = s->vm;
	size_t nr_old = s->nr_vm;
	if (!priv)
		return -ENOMEM;
	s->vm = NULL;
	s->nr_vm = s->cap_vm = 0;
	struct vm_out o = {.v = &s->vm, .nr = &s->nr_vm, .cap = &s->cap_vm};
	int rc = 0;
	for (size_t k = 0; k < nr_old && !rc; k++) {
		if (!old[k].backed) {
			rc = push_vm_unbacked(&o, old[k].start, old[k].end);
			continue;
		}
		for (uint64_t pa = old[k].start; pa < old[k].end && !rc;) {
			uint64_t va = hs_layout_hyp_va(lay, pa), e_host, e_hyp, e_priv;
			unsigned host =
			    table_state(s->pt[HS_SNAP_HOST_S2], s->nr_pt[HS_SNAP_HOST_S2], pa,
					HS_PAGE_OWNED, &e_host);
			unsigned hyp = table_state(s->pt[HS_SNAP_HYP_S1], s->nr_pt[HS_SNAP_HYP_S1],
						   va, HS_PAGE_NOPAGE, &e_hyp);
			uint64_t end = old[k].end;
			if (e_host < end)
				end = e_host;
			if (e_hyp - va < end - pa)
				end = pa + (e_hyp - va);
			/* not in the linear map: a private mapping may still give it to hyp */
			unsigned alias = table_state(priv, nr_priv, pa, HS_PAGE_NOPAGE, &e_priv);
			if (e_priv < end)
				end = e_priv;
			if (hyp == HS_PAGE_NOPAGE)
				hyp = alias;
			uint64_t val = (old[k].val & ~(0xffULL << 24)) | (uint64_t)host << 24 |
				       (uint64_t)hyp << 28;
			rc = push_vm(&o, pa, val, true);
			if (!rc)
				s->vm[s->nr_vm - 1].end = end;
			pa = end;
		}
	}
	free(old);
	free(priv);
	return rc;
}

/* An EL2 VA -> PA through the EL2 stage-1 ranges of s (not the host's layout). */
/*
 * A snapshot of the guests only (HS_SNAP_F_GUESTS) has no EL2 stage-1 ranges: it
 * translates the few HYP VAs it reads (the VM table, each VM) one page walk at a time.
 */
struct s1_lookup {
	const struct hs_phys *phys;
	struct hs_pt_regime r;
};

static bool el2_va_pa(const struct hs_snapshot *s, const struct s1_lookup *lk, uint64_t va,
		      uint64_t *pa)
{
	if (lk) {
		struct hs_snap_pt_range *v = NULL;
		size_t nr = 0, cap = 0;
		struct hs_error err = {0};
		uint64_t page = va & ~(uint64_t)(HS_PAGE_SIZE - 1);
		bool ok =
		    !hs_snapshot_walk_part(lk->phys, &lk->r, HS_SNAP_HYP_S1, page,
					   page + HS_PAGE_SIZE, &v, &nr, &cap, NULL, NULL, &err);
		ok =
		    ok && nr == 1 && v[0].kind == HS_SNAP_LEAF && v[0].start <= va && va < v[0].end;
		if (ok)
			*pa = v[0].oa + (va - v[0].start);
		free(v);
		return ok;
	}
	const struct hs_snap_pt_range *r = hs_snap_pt_find(s, HS_SNAP_HYP_S1, va);
	if (!r || r->kind != HS_SNAP_LEAF)
		return false;
	*pa = r->oa + (va - r->start);
	return true;
}

static struct hs_snap_guest *guest_slot(struct hs_snapshot *s)
{
	if (s->nr_guests == s->cap_guests) {
		size_t n = s->cap_guests ? s->cap_guests * 2 : 8;
		struct hs_snap_guest *p = realloc(s->guests, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + s->cap_guests, 0, (n - s->cap_guests) * sizeof(*p));
		s->guests = p;
		s->cap_guests = n;
	}
	struct hs_snap_guest *g = &s->guests[s->nr_guests++];
	struct hs_snap_pt_range *pt = g->pt;
	size_t cap = g->cap_pt;
	memset(g, 0, sizeof(*g));
	g->pt = pt;
	g->cap_pt = cap;
	return g;
}

/*
 * Every live VM from the hypervisor's VM table: `hyp_vm_table` holds the HYP
 * VA of an array of HS_MAX_VMS HYP VAs (0 = free slot). Addresses go through
 * the EL2 stage 1 just walked, so nothing here trusts the host's records.
 */
static int walk_guest(struct hs_machine *m, struct hs_snapshot *s, const struct hs_phys *phys,
		      struct hs_snap_guest *g, struct hs_error *err);
static int read_linux_guests(struct hs_machine *m, struct hs_snapshot *s,
			     const struct hs_phys *phys, struct hs_error *err);

static int read_guests(struct hs_machine *m, struct hs_snapshot *s, const struct hs_phys *phys,
		       const struct s1_lookup *lk, struct hs_error *err)
{
	if (hs_linux_image(m))
		return read_linux_guests(m, s, phys, err);
	uint64_t sym, table_va = 0, table_pa;
	if (hs_sym_pa(m, "hyp_vm_table", &sym, NULL) ||
	    hs_phys_read(m, sym, &table_va, sizeof(table_va), NULL))
		return 0; /* an image without guests */
	s->have_guests = true;
	if (!table_va)
		return 0; /* no VM created yet */
	uint64_t slots[HS_MAX_VMS];
	if (!el2_va_pa(s, lk, table_va, &table_pa) ||
	    hs_phys_read(m, table_pa, slots, sizeof(slots), NULL)) {
		struct hs_snap_guest *g = guest_slot(s);
		if (!g)
			return hs_err(err, -ENOMEM, "snapshot: out of memory");
		g->handle = 0;
		g->slot = ~0u;
		g->vm_va = table_va;
		snprintf(g->error, sizeof(g->error),
			 "the VM table at HYP VA %#" PRIx64 " is not mapped at EL2", table_va);
		return 0;
	}
	for (unsigned i = 0; i < HS_MAX_VMS; i++) {
		if (!slots[i])
			continue;
		struct hs_snap_guest *g = guest_slot(s);
		if (!g)
			return hs_err(err, -ENOMEM, "snapshot: out of memory");
		g->handle = HS_VM_HANDLE_OFFSET + i;
		g->slot = i;
		g->vm_va = slots[i];
		if (!el2_va_pa(s, lk, slots[i], &g->vm_pa) ||
		    hs_phys_read(m, g->vm_pa, &g->abi, sizeof(g->abi), NULL)) {
			snprintf(g->error, sizeof(g->error),
				 "VM table slot %u: HYP VA %#" PRIx64 " is not mapped at EL2", i,
				 slots[i]);
			continue;
		}
		int rc = walk_guest(m, s, phys, g, err);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Linux's VMs (7.x, 6.12): vm_table[] of the hyp's struct pkvm_hyp_vm, read with the
 * image's DWARF (linux_vm.c); slots __pkvm_reserve_vm only reserved are skipped.
 */
static int read_linux_guests(struct hs_machine *m, struct hs_snapshot *s,
			     const struct hs_phys *phys, struct hs_error *err)
{
	uint64_t sym;
	if (hs_sym_pa(m, "__kvm_nvhe_vm_table", &sym, NULL))
		return 0;
	s->have_guests = true;
	uint64_t handles[HS_MAX_VMS];
	size_t n = hs_lx_vm_table(m, handles, HS_MAX_VMS);
	for (size_t i = 0; i < n; i++) {
		uint64_t vttbr, vtcr;
		if (hs_lx_vm_regs(m, handles[i], &vttbr, &vtcr, NULL))
			continue;
		struct hs_snap_guest *g = guest_slot(s);
		if (!g)
			return hs_err(err, -ENOMEM, "snapshot: out of memory");
		g->handle = handles[i];
		g->slot = (unsigned)(handles[i] - HS_VM_HANDLE_OFFSET);
		g->abi.handle = g->handle;
		g->abi.vttbr = vttbr;
		g->abi.vtcr = vtcr;
		int rc = walk_guest(m, s, phys, g, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* One VM's stage 2, from the VTTBR/VTCR its hypervisor keeps. */
static int walk_guest(struct hs_machine *m, struct hs_snapshot *s, const struct hs_phys *phys,
		      struct hs_snap_guest *g, struct hs_error *err)
{
	{
		g->vmid = (uint16_t)(g->abi.vttbr >> 48);
		char msg[100];
		if (hs_machine_regime_s2(m, g->abi.vtcr, g->abi.vttbr, &g->r, msg, sizeof(msg))) {
			snprintf(g->error, sizeof(g->error), "VM %#" PRIx64 ": stage 2: %s",
				 g->handle, msg);
			return 0;
		}
		struct snap_walk w = {.s = s,
				      .table = HS_SNAP_GUEST_S2,
				      .guest = (uint16_t)(g - s->guests),
				      .v = &g->pt,
				      .nr = &g->nr_pt,
				      .cap = &g->cap_pt,
				      .nr_malformed = &g->nr_malformed,
				      .r = &g->r};
		struct hs_error we = {0};
		int rc = walk_regime(&w, phys, 0, hs_pt_ia_end(&g->r), &we);
		if (rc == -ENOMEM)
			return hs_err(err, rc, "snapshot: out of memory");
		if (rc) {
			snprintf(g->error, sizeof(g->error), "VM %#" PRIx64 ": %.90s", g->handle,
				 we.msg);
			return 0;
		}
		g->ok = true;
	}
	return 0;
}

int hs_snapshot_take(struct hs_machine *m, unsigned flags, struct hs_snapshot *s,
		     struct hs_error *err)
{
	s->flags = flags;
	s->icount = hs_machine_icount(m);
	s->have_s1 = s->have_s2 = s->have_vm = s->have_guests = false;
	s->nr_pt[0] = s->nr_pt[1] = s->nr_vm = s->nr_tables = s->nr_guests = 0;
	s->nr_malformed = 0;
	s->swenc = hs_machine_swenc(m);
	if (hs_machine_vmemmap_layout(m, &s->vmm, err))
		return hs_err_prefix(err, "snapshot: vmemmap: ");
	s->vmemmap_base = s->vmm.base_va;
	read_regions(m, s);

	struct hs_phys phys = {.read = phys_read_cb, .ud = m};
	char msg[200];
	uint64_t sctlr = 0, tcr = 0, ttbr = 0, mair = 0, vtcr = 0, vttbr = 0;
	hs_cpu_sysreg(m, 0, HS_SR_SCTLR_EL2, &sctlr);
	hs_cpu_sysreg(m, 0, HS_SR_TCR_EL2, &tcr);
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr);
	hs_cpu_sysreg(m, 0, HS_SR_MAIR_EL2, &mair);
	hs_host_s2_regs(m, 0, &vtcr, &vttbr); /* right even inside a guest's world switch */
	int rc;
	if (sctlr & 1) {
		struct hs_pt_regime r;
		if (hs_pt_regime_el2(tcr, ttbr, mair, &r, msg, sizeof(msg)))
			return hs_err(err, -EINVAL, "snapshot: EL2 stage 1: %s", msg);
		if (flags & HS_SNAP_F_GUESTS) {
			struct s1_lookup lk = {.phys = &phys, .r = r};
			return read_guests(m, s, &phys, &lk, err);
		}
		if ((rc = hs_snapshot_walk(s, HS_SNAP_HYP_S1, &phys, &r, err)))
			return rc;
	}
	if (flags & HS_SNAP_F_GUESTS)
		return 0;
	if (vttbr & OA_BITS) {
		struct hs_pt_regime r;
		if (hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)))
			return hs_err(err, -EINVAL, "snapshot: host stage 2: %s", msg);
		if ((rc = hs_snapshot_walk(s, HS_SNAP_HOST_S2, &phys, &r, err)))
			return rc;
	}
	if (s->have_s1) {
		struct vm_out o = {.v = &s->vm, .nr = &s->nr_vm, .cap = &s->cap_vm};
		for (unsigned i = 0; i < s->nr_mem; i++)
			if (read_vmemmap_region(m, s, s->mem[i].base, s->mem[i].size, &o))
				return hs_err(err, -ENOMEM, "snapshot: out of memory");
		if (s->vmm.states_in_tables && states_from_tables(m, s))
			return hs_err(err, -ENOMEM, "snapshot: out of memory");
		s->have_vm = true;
		if ((rc = read_guests(m, s, &phys, NULL, err)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Diff                                                                      */
/* ------------------------------------------------------------------------ */

void hs_diff_init(struct hs_diff *d)
{
	memset(d, 0, sizeof(*d));
}

void hs_diff_free(struct hs_diff *d)
{
	free(d->recs);
	hs_diff_init(d);
}

struct hs_snap_pt_range hs_snap_pt_clip(const struct hs_snap_pt_range *r, uint64_t at, uint64_t end)
{
	struct hs_snap_pt_range c = *r;
	uint64_t off = at - r->start;
	c.start = at;
	c.end = end;
	if (c.kind == HS_SNAP_LEAF)
		c.oa += off;
	if (c.kind == HS_SNAP_ANNOT && c.owner == HS_OWNER_GUEST)
		c.meta += (off >> HS_PAGE_SHIFT) << HS_ANNOT_META_GFN_SHIFT;
	return c;
}

static unsigned pt_changes(const struct hs_snap_pt_range *a, const struct hs_snap_pt_range *b)
{
	if (a->kind == HS_SNAP_EMPTY && b->kind == HS_SNAP_EMPTY)
		return 0;
	if (a->kind == HS_SNAP_BAD || b->kind == HS_SNAP_BAD)
		return (a->kind == b->kind && a->attr == b->attr) ? 0 : HS_CHG_BAD;
	if (a->kind == HS_SNAP_ANNOT || b->kind == HS_SNAP_ANNOT) {
		if (a->kind == b->kind && a->owner == b->owner && a->meta == b->meta)
			return 0;
		unsigned c = HS_CHG_OWNER;
		if (a->kind == HS_SNAP_LEAF)
			c |= HS_CHG_UNMAPPED;
		if (b->kind == HS_SNAP_LEAF)
			c |= HS_CHG_MAPPED;
		return c;
	}
	if (a->kind == HS_SNAP_EMPTY)
		return HS_CHG_MAPPED;
	if (b->kind == HS_SNAP_EMPTY)
		return HS_CHG_UNMAPPED;
	unsigned c = 0;
	if (a->oa != b->oa)
		c |= HS_CHG_REMAP;
	if (a->perm != b->perm)
		c |= HS_CHG_PERM;
	if (a->state != b->state)
		c |= HS_CHG_STATE;
	if (a->attr != b->attr || a->device != b->device)
		c |= HS_CHG_ATTR;
	if ((c & HS_CHG_PERM) && !(c & ~HS_CHG_PERM & ~HS_CHG_ATTR))
		c &= ~HS_CHG_ATTR; /* the permission bits live in attr: report them once */
	return c;
}

/* Attributes equal, ignoring position (for merging adjacent records). */
static bool pt_same(const struct hs_snap_pt_range *a, const struct hs_snap_pt_range *b)
{
	return a->kind == b->kind && a->attr == b->attr && a->state == b->state &&
	       a->owner == b->owner && a->perm == b->perm && a->device == b->device;
}

static int push_rec(struct hs_diff *d, const struct hs_diff_rec *r)
{
	if (d->nr) {
		struct hs_diff_rec *l = &d->recs[d->nr - 1];
		if (l->table == r->table && l->vm == r->vm && l->changes == r->changes &&
		    l->end == r->start) {
			bool same;
			if (r->table == HS_SNAP_VMEMMAP)
				same = l->old_vm.val == r->old_vm.val &&
				       l->new_vm.val == r->new_vm.val &&
				       l->old_vm.backed == r->old_vm.backed &&
				       l->new_vm.backed == r->new_vm.backed;
			else
				same = pt_same(&l->old_pt, &r->old_pt) &&
				       pt_same(&l->new_pt, &r->new_pt);
			if (same) {
				l->end = r->end;
				l->old_pt.end = l->new_pt.end = r->end;
				l->old_vm.end = l->new_vm.end = r->end;
				return 0;
			}
		}
	}
	if (hs_snap_grow((void **)&d->recs, &d->cap, d->nr + 1, sizeof(*d->recs)))
		return -ENOMEM;
	d->recs[d->nr++] = *r;
	d->changes |= r->changes;
	return 0;
}

/*
 * Walk two sorted arrays of ranges together, segment by segment: each call
 * yields the next [start, end) over which neither array changes, with the
 * element of each covering it (NULL where that array has a gap). Both range
 * types begin with `uint64_t start, end`.
 */
struct sweep {
	const void *a, *b;
	size_t na, nb, size, i, j;
	uint64_t pos;
};

_Static_assert(offsetof(struct hs_snap_pt_range, end) == sizeof(uint64_t), "range layout");
_Static_assert(offsetof(struct hs_snap_vm_range, end) == sizeof(uint64_t), "range layout");

static const uint64_t *sweep_at(const void *base, size_t size, size_t k)
{
	return (const uint64_t *)((const char *)base + k * size); /* [0] start, [1] end */
}

static bool sweep_next(struct sweep *w, const void **ea, const void **eb, uint64_t *start,
		       uint64_t *end)
{
	while (w->i < w->na && sweep_at(w->a, w->size, w->i)[1] <= w->pos)
		w->i++;
	while (w->j < w->nb && sweep_at(w->b, w->size, w->j)[1] <= w->pos)
		w->j++;
	if (w->i >= w->na && w->j >= w->nb)
		return false;
	const uint64_t *a = w->i < w->na ? sweep_at(w->a, w->size, w->i) : NULL;
	const uint64_t *b = w->j < w->nb ? sweep_at(w->b, w->size, w->j) : NULL;
	uint64_t as = a ? a[0] : UINT64_MAX, bs = b ? b[0] : UINT64_MAX;
	if (w->pos < as && w->pos < bs)
		w->pos = as < bs ? as : bs; /* both empty here */
	bool ina = a && a[0] <= w->pos, inb = b && b[0] <= w->pos;
	uint64_t e = ina ? a[1] : as, e2 = inb ? b[1] : bs;
	*start = w->pos;
	*end = w->pos = e < e2 ? e : e2;
	*ea = ina ? (const void *)a : NULL;
	*eb = inb ? (const void *)b : NULL;
	return true;
}

/* Same range, same meaning (everything the diff compares, and the position). */
static bool pt_equal(const struct hs_snap_pt_range *a, const struct hs_snap_pt_range *b)
{
	return a->start == b->start && a->end == b->end && a->oa == b->oa && a->meta == b->meta &&
	       a->owner == b->owner && a->block == b->block && pt_same(a, b);
}

static int diff_ranges(const struct hs_snap_pt_range *a, size_t na,
		       const struct hs_snap_pt_range *b, size_t nb, enum hs_snap_table t,
		       uint64_t vm, struct hs_diff *d)
{
	/*
	 * One change among a million ranges: skip the identical head and tail
	 * with a plain comparison (~1 ns a range) and merge only the middle.
	 */
	size_t head = 0, tail = 0;
	while (head < na && head < nb && pt_equal(&a[head], &b[head]))
		head++;
	while (tail < na - head && tail < nb - head &&
	       pt_equal(&a[na - 1 - tail], &b[nb - 1 - tail]))
		tail++;
	uint64_t pos = head ? a[head - 1].end : 0;
	if (head) { /* an empty table is NULL: no offset, even 0, may be added to it */
		a += head;
		b += head;
	}
	na -= head + tail;
	nb -= head + tail;
	static const struct hs_snap_pt_range empty;
	struct sweep w = {.a = a, .b = b, .na = na, .nb = nb, .size = sizeof(*a), .pos = pos};
	const void *ea, *eb;
	uint64_t start, end;
	while (sweep_next(&w, &ea, &eb, &start, &end)) {
		struct hs_snap_pt_range ca = ea ? hs_snap_pt_clip(ea, start, end) : empty;
		struct hs_snap_pt_range cb = eb ? hs_snap_pt_clip(eb, start, end) : empty;
		if (!ea)
			ca.start = start, ca.end = end;
		if (!eb)
			cb.start = start, cb.end = end;
		unsigned c = pt_changes(&ca, &cb);
		if (c) {
			struct hs_diff_rec r = {.table = t,
						.vm = vm,
						.changes = c,
						.start = start,
						.end = end,
						.old_pt = ca,
						.new_pt = cb};
			if (push_rec(d, &r))
				return -ENOMEM;
		}
	}
	return 0;
}

static int diff_vm(const struct hs_snapshot *sa, const struct hs_snapshot *sb, struct hs_diff *d)
{
	static const struct hs_snap_vm_range none;
	struct sweep w = {
	    .a = sa->vm, .b = sb->vm, .na = sa->nr_vm, .nb = sb->nr_vm, .size = sizeof(*sa->vm)};
	const void *ea, *eb;
	uint64_t start, end;
	while (sweep_next(&w, &ea, &eb, &start, &end)) {
		struct hs_snap_vm_range ca = ea ? *(const struct hs_snap_vm_range *)ea : none;
		struct hs_snap_vm_range cb = eb ? *(const struct hs_snap_vm_range *)eb : none;
		ca.start = cb.start = start;
		ca.end = cb.end = end;
		unsigned c = 0;
		if (ca.backed != cb.backed)
			c |= HS_CHG_BACKING;
		if (HS_VM_HOST(ca.val) != HS_VM_HOST(cb.val) ||
		    HS_VM_HYP(ca.val) != HS_VM_HYP(cb.val))
			c |= HS_CHG_STATE;
		if (HS_VM_RC(ca.val) != HS_VM_RC(cb.val) ||
		    HS_VM_ORDER(ca.val) != HS_VM_ORDER(cb.val) ||
		    HS_VM_SHARES(ca.val) != HS_VM_SHARES(cb.val))
			c |= HS_CHG_REFCOUNT;
		if (c) {
			struct hs_diff_rec r = {.table = HS_SNAP_VMEMMAP,
						.changes = c,
						.start = start,
						.end = end,
						.old_vm = ca,
						.new_vm = cb};
			if (push_rec(d, &r))
				return -ENOMEM;
		}
	}
	return 0;
}

static int diff_pt(const struct hs_snapshot *sa, const struct hs_snapshot *sb, enum hs_snap_table t,
		   struct hs_diff *d)
{
	return diff_ranges(sa->pt[t], sa->nr_pt[t], sb->pt[t], sb->nr_pt[t], t, 0, d);
}

/* Each VM's stage 2 against the same handle's in the other snapshot. */
static int diff_guests(const struct hs_snapshot *sa, const struct hs_snapshot *sb,
		       struct hs_diff *d)
{
	size_t i = 0, j = 0;
	while (i < sa->nr_guests || j < sb->nr_guests) {
		const struct hs_snap_guest *ga = i < sa->nr_guests ? &sa->guests[i] : NULL;
		const struct hs_snap_guest *gb = j < sb->nr_guests ? &sb->guests[j] : NULL;
		uint64_t h;
		if (ga && (!gb || ga->handle <= gb->handle))
			h = ga->handle;
		else
			h = gb->handle;
		if (ga && ga->handle != h)
			ga = NULL;
		if (gb && gb->handle != h)
			gb = NULL;
		int rc = diff_ranges(ga ? ga->pt : NULL, ga ? ga->nr_pt : 0, gb ? gb->pt : NULL,
				     gb ? gb->nr_pt : 0, HS_SNAP_GUEST_S2, h, d);
		if (rc)
			return rc;
		i += ga != NULL;
		j += gb != NULL;
	}
	return 0;
}

int hs_snapshot_diff(const struct hs_snapshot *a, const struct hs_snapshot *b, struct hs_diff *d)
{
	d->nr = 0;
	d->changes = 0;
	d->swenc = b->swenc;
	if (diff_pt(a, b, HS_SNAP_HOST_S2, d) || diff_pt(a, b, HS_SNAP_HYP_S1, d) ||
	    diff_vm(a, b, d) || diff_guests(a, b, d))
		return -ENOMEM;
	return 0;
}

uint64_t hs_diff_pages(const struct hs_diff *d, enum hs_snap_table table, unsigned changes)
{
	uint64_t n = 0;
	for (size_t i = 0; i < d->nr; i++)
		if (d->recs[i].table == table && (d->recs[i].changes & changes))
			n += (d->recs[i].end - d->recs[i].start) >> HS_PAGE_SHIFT;
	return n;
}

/* ------------------------------------------------------------------------ */
/* Formatting                                                                */
/* ------------------------------------------------------------------------ */

static const char *const chg_names[] = {"mapped", "unmapped", "perm",	  "owner",   "state",
					"remap",  "attr",     "refcount", "backing", "bad"};

void hs_chg_str(struct hs_strbuf *sb, unsigned changes)
{
	bool first = true;
	for (unsigned i = 0; i < sizeof(chg_names) / sizeof(chg_names[0]); i++)
		if (changes & (1u << i)) {
			hs_sb_printf(sb, "%s%s", first ? "" : ",", chg_names[i]);
			first = false;
		}
	if (first)
		hs_sb_puts(sb, "none");
}

static const char *perm_s(unsigned p, char buf[4])
{
	return hs_pt_perm_str(p, buf);
}

/*
 * The descriptor fields an "attr" change is about, which the range text does
 * not show: " (SH non-shareable -> inner shareable)". Bit positions from the
 * Arm ARM's stage 1 (EL2) and stage 2 block and page descriptors.
 */
static void attr_delta(struct hs_strbuf *sb, enum hs_snap_table table, uint64_t a, uint64_t b)
{
	static const char *const sh[] = {"non-shareable", "reserved", "outer shareable",
					 "inner shareable"};
	bool s2 = table != HS_SNAP_HYP_S1;
	struct {
		const char *name;
		unsigned lo, width;
	} fields[] = {
	    {s2 ? "MemAttr" : "AttrIndx", 2, s2 ? 4 : 3},
	    {"NS", 5, s2 ? 0 : 1},
	    {"SH", 8, 2},
	    {"AF", 10, 1},
	    {"nG", 11, s2 ? 0 : 1},
	    {"DBM", 51, 1},
	    {"Contiguous", 52, 1},
	};
	bool any = false;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i].width)
			continue;
		uint64_t mask = (1ULL << fields[i].width) - 1;
		uint64_t x = (a >> fields[i].lo) & mask, y = (b >> fields[i].lo) & mask;
		if (x == y)
			continue;
		hs_sb_puts(sb, any ? ", " : " (");
		if (!strcmp(fields[i].name, "SH"))
			hs_sb_printf(sb, "SH %s -> %s", sh[x], sh[y]);
		else
			hs_sb_printf(sb, "%s %#" PRIx64 " -> %#" PRIx64, fields[i].name, x, y);
		any = true;
	}
	if (any)
		hs_sb_putc(sb, ')');
}

void hs_snap_pt_range_text(struct hs_strbuf *sb, const struct hs_pt_swenc *e,
			   enum hs_snap_table table, const struct hs_snap_pt_range *r)
{
	char pb[4];
	switch (r->kind) {
	case HS_SNAP_EMPTY:
		hs_sb_puts(sb,
			   table == HS_SNAP_HOST_S2 ? "empty (host, not faulted in)" : "unmapped");
		break;
	case HS_SNAP_LEAF:
		hs_sb_printf(sb, "%s PA %#" PRIx64 " %s%s state=%s%s", r->block ? "block" : "page",
			     r->oa, perm_s(r->perm, pb), r->device ? " DEV" : " MEM",
			     hs_swenc_state_name(e, r->state), r->level >= 0 ? "" : "");
		break;
	case HS_SNAP_ANNOT:
		hs_sb_printf(sb, "OWNER %s", hs_swenc_canon_owner_name(e, r->owner));
		if (r->owner == HS_OWNER_GUEST)
			hs_sb_printf(sb, " handle=%#" PRIx64 " gfn=%#" PRIx64,
				     r->meta & HS_ANNOT_META_HANDLE_MASK,
				     r->meta >> HS_ANNOT_META_GFN_SHIFT);
		else if (r->meta)
			hs_sb_printf(sb, " meta=%#" PRIx64, r->meta);
		if (r->block)
			hs_sb_puts(sb, " (block-level!)");
		break;
	case HS_SNAP_BAD:
		hs_sb_printf(sb, "MALFORMED desc=%#" PRIx64, r->attr);
		break;
	}
}

static const char *kind_name(unsigned k)
{
	static const char *const n[] = {"empty", "leaf", "annotation", "malformed"};
	return k < 4 ? n[k] : "?";
}

void hs_snap_pt_range_json(struct hs_strbuf *sb, const struct hs_pt_swenc *e,
			   enum hs_snap_table table, const struct hs_snap_pt_range *r)
{
	char pb[4];
	(void)table;
	hs_sb_printf(sb, "{\"kind\":\"%s\"", kind_name(r->kind));
	if (r->kind == HS_SNAP_LEAF)
		hs_sb_printf(
		    sb,
		    ",\"pa\":\"%#" PRIx64 "\",\"perm\":\"%s\",\"device\":%s,\"state\":\"%s\","
		    "\"block\":%s,\"attr\":\"%#" PRIx64 "\"",
		    r->oa, perm_s(r->perm, pb), r->device ? "true" : "false",
		    hs_swenc_state_name(e, r->state), r->block ? "true" : "false", r->attr);
	else if (r->kind == HS_SNAP_ANNOT) {
		hs_sb_printf(sb, ",\"owner\":\"%s\",\"meta\":\"%#" PRIx64 "\"",
			     hs_swenc_canon_owner_name(e, r->owner), r->meta);
		if (r->owner == HS_OWNER_GUEST)
			hs_sb_printf(sb, ",\"handle\":\"%#" PRIx64 "\",\"gfn\":\"%#" PRIx64 "\"",
				     r->meta & HS_ANNOT_META_HANDLE_MASK,
				     r->meta >> HS_ANNOT_META_GFN_SHIFT);
	} else if (r->kind == HS_SNAP_BAD)
		hs_sb_printf(sb, ",\"desc\":\"%#" PRIx64 "\"", r->attr);
	hs_sb_putc(sb, '}');
}

void hs_snap_vm_text(struct hs_strbuf *sb, const struct hs_pt_swenc *e, uint64_t v, bool backed)
{
	if (!backed) {
		hs_sb_puts(sb, "not backed");
		return;
	}
	hs_sb_printf(sb, "rc=%u order=", HS_VM_RC(v));
	if (HS_VM_ORDER(v) == HS_NO_ORDER)
		hs_sb_puts(sb, "-");
	else
		hs_sb_printf(sb, "%u", HS_VM_ORDER(v));
	hs_sb_printf(sb, " host=%s hyp=%s", hs_swenc_state_name(e, HS_VM_HOST(v)),
		     hs_swenc_state_name(e, HS_VM_HYP(v)));
	if (HS_VM_SHARES(v))
		hs_sb_printf(sb, " guest-shares=%u", HS_VM_SHARES(v));
}

void hs_snap_vm_json(struct hs_strbuf *sb, const struct hs_pt_swenc *e, uint64_t v, bool backed)
{
	if (!backed) {
		hs_sb_puts(sb, "{\"backed\":false}");
		return;
	}
	hs_sb_printf(sb,
		     "{\"backed\":true,\"refcount\":%u,\"order\":%d,\"host_state\":\"%s\","
		     "\"hyp_state\":\"%s\",\"guest_shares\":%u}",
		     HS_VM_RC(v), HS_VM_ORDER(v) == HS_NO_ORDER ? -1 : (int)HS_VM_ORDER(v),
		     hs_swenc_state_name(e, HS_VM_HOST(v)), hs_swenc_state_name(e, HS_VM_HYP(v)),
		     HS_VM_SHARES(v));
}

void hs_diff_text(struct hs_strbuf *sb, const struct hs_diff *d)
{
	if (!d->nr) {
		hs_sb_puts(sb, "no change\n");
		return;
	}
	for (size_t i = 0; i < d->nr; i++) {
		const struct hs_diff_rec *r = &d->recs[i];
		hs_sb_printf(sb, "%-8s ", hs_snap_table_name(r->table));
		if (r->table == HS_SNAP_GUEST_S2)
			hs_sb_printf(sb, "vm %#" PRIx64 " IPA ", r->vm);
		hs_sb_printf(sb, "%#014" PRIx64 "-%#014" PRIx64 " (%" PRIu64 " pages) ", r->start,
			     r->end - 1, (r->end - r->start) >> HS_PAGE_SHIFT);
		hs_chg_str(sb, r->changes);
		hs_sb_puts(sb, ": ");
		if (r->table == HS_SNAP_VMEMMAP) {
			hs_snap_vm_text(sb, d->swenc, r->old_vm.val, r->old_vm.backed);
			hs_sb_puts(sb, " -> ");
			hs_snap_vm_text(sb, d->swenc, r->new_vm.val, r->new_vm.backed);
		} else {
			hs_snap_pt_range_text(sb, d->swenc, r->table, &r->old_pt);
			hs_sb_puts(sb, " -> ");
			hs_snap_pt_range_text(sb, d->swenc, r->table, &r->new_pt);
			if ((r->changes & HS_CHG_ATTR) && r->old_pt.kind == HS_SNAP_LEAF &&
			    r->new_pt.kind == HS_SNAP_LEAF)
				attr_delta(sb, r->table, r->old_pt.attr, r->new_pt.attr);
		}
		hs_sb_putc(sb, '\n');
	}
}

void hs_diff_json(struct hs_strbuf *sb, const struct hs_diff *d)
{
	hs_sb_putc(sb, '[');
	for (size_t i = 0; i < d->nr; i++) {
		const struct hs_diff_rec *r = &d->recs[i];
		hs_sb_printf(
		    sb, "%s{\"table\":\"%s\",\"start\":\"%#" PRIx64 "\",\"end\":\"%#" PRIx64 "\",",
		    i ? "," : "", hs_snap_table_name(r->table), r->start, r->end);
		if (r->table == HS_SNAP_GUEST_S2)
			hs_sb_printf(sb, "\"vm\":\"%#" PRIx64 "\",", r->vm);
		hs_sb_puts(sb, "\"changes\":\"");
		hs_chg_str(sb, r->changes);
		hs_sb_puts(sb, "\",\"old\":");
		if (r->table == HS_SNAP_VMEMMAP)
			hs_snap_vm_json(sb, d->swenc, r->old_vm.val, r->old_vm.backed);
		else
			hs_snap_pt_range_json(sb, d->swenc, r->table, &r->old_pt);
		hs_sb_puts(sb, ",\"new\":");
		if (r->table == HS_SNAP_VMEMMAP)
			hs_snap_vm_json(sb, d->swenc, r->new_vm.val, r->new_vm.backed);
		else
			hs_snap_pt_range_json(sb, d->swenc, r->table, &r->new_pt);
		hs_sb_putc(sb, '}');
	}
	hs_sb_putc(sb, ']');
}
