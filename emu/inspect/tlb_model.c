/* SPDX-License-Identifier: MIT */
#include "tlb_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ULL
#define ENTRIES 512
#define NO_ID 0

enum pend_kind { PEND_UNMAP, PEND_RESTRICT, PEND_UNLINK };
enum miss_kind { MISS_NONE, MISS_VMID, MISS_REGIME };

struct root {
	enum hs_tlb_regime regime; /* EL2 or S2 */
	uint64_t pa;
	uint16_t vmid;
	struct hs_pt_regime r;
	bool indexed;
	uint32_t loaded, cached; /* CPU masks */
};

struct table {
	uint64_t pa;
	uint64_t ia;
	uint64_t parent; /* table page holding the entry that points here (0 for roots) */
	struct root *root;
	int8_t level;
	uint32_t detached_by; /* id of the pending unlink above it, or NO_ID */
};

struct pending {
	uint32_t id;
	enum pend_kind kind;
	struct root *root;
	uint64_t table_pa, desc_pa, ia, child_pa;
	int level;
	uint64_t stale, cur;
	unsigned cpu;
	uint64_t pc, icount;
	char hvc[32];
	uint32_t stale_mask[2]; /* [0] the regime's own entries, [1] combined stage 1+2 ones */
	uint32_t issued[HS_TLB_MAX_CPUS]
		       [2];		   /* per issuing CPU: CPUs its TLBIs reach, until a DSB */
	bool visible_local, visible_bcast; /* a DSB of the storing CPU ordered the store */
	bool tlbi_seen, reported;
	enum miss_kind miss;
	uint16_t miss_vmid;
	uint64_t miss_pc;
	char miss_op[16];
};

struct full_inval {
	unsigned regimes;
	bool all_vmids;
	uint16_t vmid;
	uint32_t reach;
};

#define MAX_FULL 8

struct cpu_state {
	struct root *loaded[HS_TLB_NR_REGIMES];
	uint64_t loaded_ttbr[HS_TLB_NR_REGIMES];
	char hvc[32];
	struct full_inval full[MAX_FULL];
	unsigned nr_full;
	bool full_overflow;
};

struct hs_tlb_model {
	struct hs_phys phys;
	unsigned nr_cpus;
	uint32_t all_cpus;
	struct hs_tlb_model_ops ops;
	struct root **roots;
	size_t nr_roots, cap_roots;
	struct table *t; /* sorted by pa */
	size_t nr_t, cap_t;
	struct pending *p;
	size_t nr_p, cap_p;
	uint32_t next_id;
	struct cpu_state cpu[HS_TLB_MAX_CPUS];
	struct hs_tlb_model_stats st;
};

/* ---- rules ------------------------------------------------------------------ */

static const struct {
	const char *name, *ref;
} rules[HS_TLB_NR_RULES] = {
    [HS_TLB_R_BBM] = {"bbm", "Arm ARM D8.16.1 R_WHZWS/R_RDDMVT: break-before-make"},
    [HS_TLB_R_TLBI_BEFORE_DSB] = {"tlbi-before-dsb",
				  "Arm ARM D8.16.1 R_RDDMVT step 2, D8.2 (walks observe stores "
				  "after a DSB)"},
    [HS_TLB_R_UNMAP_NO_TLBI] = {"unmap-no-tlbi", "Arm ARM D8.17 R_GPPYH: invalidate after a "
						 "change, before the page is reused"},
    [HS_TLB_R_PERM_NO_TLBI] = {"perm-no-tlbi", "Arm ARM D8.17 R_GPPYH: permission reductions "
					       "are not visible until invalidated"},
    [HS_TLB_R_TABLE_NO_TLBI] = {"table-free-no-tlbi",
				"Arm ARM D8.17: walk caches hold table entries (intermediate "
				"caching) until invalidated by a non-last-level TLBI"},
    [HS_TLB_R_WRONG_VMID] = {"tlbi-wrong-vmid", "Arm ARM C5.5 TLBI IPAS2E1/VMALLS12E1/VMALLE1: "
						"act on the VMID in VTTBR_EL2"},
    [HS_TLB_R_WRONG_REGIME] = {"tlbi-wrong-regime",
			       "Arm ARM C5.5: each TLBI acts on one translation regime"},
    [HS_TLB_R_NO_DSB] = {"tlbi-no-dsb", "Arm ARM D8.17 / B2.3.12: a TLBI completes only at a DSB "
					"of the issuing PE over its domain"},
    [HS_TLB_R_TABLE_MAPPED] = {"table-mapped", "a table page reachable from a live root must "
					       "not be given out (R_WHZWS/D8.17 assume tables "
					       "change only through descriptor writes)"},
};

const char *hs_tlb_rule_name(enum hs_tlb_rule r)
{
	return (unsigned)r < HS_TLB_NR_RULES ? rules[r].name : "?";
}

const char *hs_tlb_rule_ref(enum hs_tlb_rule r)
{
	return (unsigned)r < HS_TLB_NR_RULES ? rules[r].ref : "";
}

int hs_tlb_rule_parse(const char *name)
{
	for (int i = 0; i < HS_TLB_NR_RULES; i++)
		if (!strcmp(rules[i].name, name))
			return i;
	return -1;
}

/* ---- tables ------------------------------------------------------------------ */

static size_t table_slot(const struct hs_tlb_model *m, uint64_t pa)
{
	size_t lo = 0, hi = m->nr_t;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->t[mid].pa < pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct table *table_find(struct hs_tlb_model *m, uint64_t pa)
{
	size_t k = table_slot(m, pa);
	return k < m->nr_t && m->t[k].pa == pa ? &m->t[k] : NULL;
}

bool hs_tlb_model_tracks(const struct hs_tlb_model *m, uint64_t page_pa)
{
	size_t k = table_slot(m, page_pa & ~(PAGE - 1));
	return k < m->nr_t && m->t[k].pa == (page_pa & ~(PAGE - 1));
}

static struct table *table_add(struct hs_tlb_model *m, const struct table *t)
{
	if (m->nr_t == m->cap_t) {
		size_t n = m->cap_t ? m->cap_t * 2 : 256;
		void *p = realloc(m->t, n * sizeof(*m->t));
		if (!p)
			return NULL;
		m->t = p;
		m->cap_t = n;
	}
	size_t k = table_slot(m, t->pa);
	memmove(&m->t[k + 1], &m->t[k], (m->nr_t - k) * sizeof(*m->t));
	m->t[k] = *t;
	m->nr_t++;
	if (m->ops.watch)
		m->ops.watch(m->ops.ud, t->pa, true);
	return &m->t[k];
}

/* Index the table at pa and everything below it (stops at pages already known). */
static void index_table(struct hs_tlb_model *m, struct root *r, uint64_t pa, uint64_t parent,
			int level, uint64_t ia, int depth)
{
	if (depth > 4 || level > 3 || table_find(m, pa))
		return;
	uint64_t e[ENTRIES];
	if (m->phys.read(m->phys.ud, pa, e, sizeof(e)))
		return;
	struct table t = {.pa = pa, .ia = ia, .parent = parent, .root = r, .level = (int8_t)level};
	if (!table_add(m, &t))
		return;
	if (level == 3)
		return;
	for (unsigned i = 0; i < ENTRIES; i++)
		if (hs_desc_is_table(level, e[i]))
			index_table(m, r, hs_desc_oa(e[i]), pa, level + 1,
				    ia + i * hs_level_size(level), depth + 1);
}

/* Is table t at or below the table page top? */
static bool below(struct hs_tlb_model *m, const struct table *t, uint64_t top)
{
	for (int d = 0; t && d < 6; d++) {
		if (t->pa == top)
			return true;
		t = t->parent ? table_find(m, t->parent) : NULL;
	}
	return false;
}

static void remove_marked(struct hs_tlb_model *m,
			  bool (*marked)(struct hs_tlb_model *, const struct table *, const void *),
			  const void *arg)
{
	bool *gone = calloc(m->nr_t ? m->nr_t : 1, sizeof(*gone));
	if (!gone)
		return;
	for (size_t i = 0; i < m->nr_t; i++)
		gone[i] = marked(m, &m->t[i], arg);
	size_t j = 0;
	for (size_t i = 0; i < m->nr_t; i++) {
		if (gone[i]) {
			if (m->ops.watch)
				m->ops.watch(m->ops.ud, m->t[i].pa, false);
			continue;
		}
		m->t[j++] = m->t[i];
	}
	m->nr_t = j;
	free(gone);
}

static bool in_subtree(struct hs_tlb_model *m, const struct table *t, const void *arg)
{
	return below(m, t, *(const uint64_t *)arg);
}

static void remove_subtree(struct hs_tlb_model *m, uint64_t top)
{
	if (table_find(m, top))
		remove_marked(m, in_subtree, &top);
}

static bool of_root(struct hs_tlb_model *m, const struct table *t, const void *arg)
{
	(void)m;
	return t->root == arg;
}

/* ---- roots ------------------------------------------------------------------- */

static uint64_t ttbr_baddr(uint64_t ttbr)
{
	return ttbr & 0x0000fffffffffffeULL;
}

static struct root *root_find(struct hs_tlb_model *m, enum hs_tlb_regime regime, uint64_t ttbr)
{
	uint64_t pa = ttbr_baddr(ttbr);
	uint16_t vmid = regime == HS_TLB_S2 ? (uint16_t)(ttbr >> 48) : 0;
	for (size_t i = 0; i < m->nr_roots; i++) {
		struct root *r = m->roots[i];
		if (r->regime == regime && r->pa == pa && r->vmid == vmid)
			return r;
	}
	return NULL;
}

static void root_index(struct hs_tlb_model *m, unsigned cpu, struct root *r, uint64_t ttbr)
{
	if (r->indexed || !m->ops.root_regime ||
	    m->ops.root_regime(m->ops.ud, cpu, r->regime, ttbr, &r->r))
		return;
	r->indexed = true;
	uint64_t span = hs_level_size(r->r.start_level) * ENTRIES;
	unsigned nr = r->r.nr_concat ? r->r.nr_concat : 1;
	for (unsigned k = 0; k < nr; k++)
		index_table(m, r, r->pa + k * PAGE, 0, r->r.start_level, k * span, 0);
}

static struct root *root_get(struct hs_tlb_model *m, unsigned cpu, enum hs_tlb_regime regime,
			     uint64_t ttbr)
{
	if (!ttbr_baddr(ttbr))
		return NULL;
	struct root *r = root_find(m, regime, ttbr);
	if (!r) {
		if (m->nr_roots == m->cap_roots) {
			size_t n = m->cap_roots ? m->cap_roots * 2 : 16;
			void *p = realloc(m->roots, n * sizeof(*m->roots));
			if (!p)
				return NULL;
			m->roots = p;
			m->cap_roots = n;
		}
		r = calloc(1, sizeof(*r));
		if (!r)
			return NULL;
		r->regime = regime;
		r->pa = ttbr_baddr(ttbr);
		r->vmid = regime == HS_TLB_S2 ? (uint16_t)(ttbr >> 48) : 0;
		m->roots[m->nr_roots++] = r;
	}
	root_index(m, cpu, r, ttbr);
	return r;
}

static void pending_drop(struct hs_tlb_model *m, size_t i);

/* No CPU uses it and no TLB may hold it: forget it and its tables. */
static void root_drop_if_dead(struct hs_tlb_model *m, struct root *r)
{
	if (!r || r->loaded || r->cached)
		return;
	for (size_t i = m->nr_p; i-- > 0;)
		if (m->p[i].root == r)
			pending_drop(m, i);
	remove_marked(m, of_root, r);
	for (size_t i = 0; i < m->nr_roots; i++) {
		if (m->roots[i] != r)
			continue;
		m->roots[i] = m->roots[--m->nr_roots];
		break;
	}
	free(r);
}

void hs_tlb_model_load(struct hs_tlb_model *m, unsigned cpu, enum hs_tlb_regime regime,
		       uint64_t ttbr)
{
	if (cpu >= m->nr_cpus || regime == HS_TLB_EL10)
		return;
	struct cpu_state *c = &m->cpu[cpu];
	struct root *old = c->loaded[regime];
	struct root *r = root_get(m, cpu, regime, ttbr);
	c->loaded_ttbr[regime] = ttbr;
	if (old == r)
		return;
	if (old)
		old->loaded &= ~(1u << cpu);
	c->loaded[regime] = r;
	if (r) {
		r->loaded |= 1u << cpu;
		/* The current regime (EL2) may be walked speculatively from now on. */
		if (regime == HS_TLB_EL2 && !m->ops.index_only)
			r->cached |= 1u << cpu;
	}
	root_drop_if_dead(m, old);
}

void hs_tlb_model_assume_cached(struct hs_tlb_model *m, unsigned cpu, enum hs_tlb_regime regime,
				uint64_t ttbr, uint32_t mask)
{
	struct root *r = root_get(m, cpu, regime, ttbr);
	if (r)
		r->cached |= mask & m->all_cpus;
}

void hs_tlb_model_keep_s2(struct hs_tlb_model *m, const uint64_t *keep, size_t nr)
{
	for (size_t i = m->nr_roots; i-- > 0;) {
		struct root *r = m->roots[i];
		if (r->regime != HS_TLB_S2)
			continue;
		bool kept = false;
		for (size_t k = 0; k < nr && !kept; k++)
			kept = ttbr_baddr(keep[k]) == r->pa && (uint16_t)(keep[k] >> 48) == r->vmid;
		r->cached = kept ? m->all_cpus : 0;
		root_drop_if_dead(m, r);
	}
	for (size_t k = 0; k < nr; k++)
		hs_tlb_model_assume_cached(m, 0, HS_TLB_S2, keep[k], m->all_cpus);
}

void hs_tlb_model_lower_el_runs(struct hs_tlb_model *m, unsigned cpu, bool s2_on)
{
	if (cpu >= m->nr_cpus || !s2_on || m->ops.index_only)
		return;
	struct root *r = m->cpu[cpu].loaded[HS_TLB_S2];
	if (r)
		r->cached |= 1u << cpu;
}

void hs_tlb_model_retry_roots(struct hs_tlb_model *m, unsigned cpu)
{
	if (cpu >= m->nr_cpus)
		return;
	for (int g = 0; g < HS_TLB_NR_REGIMES; g++) {
		struct root *r = m->cpu[cpu].loaded[g];
		if (r && !r->indexed)
			root_index(m, cpu, r, m->cpu[cpu].loaded_ttbr[g]);
	}
}

/* ---- pending locations --------------------------------------------------------- */

static struct pending *pending_find(struct hs_tlb_model *m, uint64_t desc_pa)
{
	for (size_t i = 0; i < m->nr_p; i++)
		if (m->p[i].desc_pa == desc_pa)
			return &m->p[i];
	return NULL;
}

static void undetach(struct hs_tlb_model *m, uint32_t id)
{
	for (size_t i = 0; i < m->nr_t; i++)
		if (m->t[i].detached_by == id)
			m->t[i].detached_by = NO_ID;
}

static void pending_drop(struct hs_tlb_model *m, size_t i)
{
	struct pending *p = &m->p[i];
	if (p->kind == PEND_UNLINK) {
		undetach(m, p->id);
		/* its walk caches are gone (or it was reported): the subtree is no table any more
		 */
		uint64_t child = p->child_pa;
		const struct table *t = table_find(m, child);
		if (t && t->parent == p->table_pa)
			remove_subtree(m, child);
	}
	m->p[i] = m->p[--m->nr_p];
}

static struct pending *pending_new(struct hs_tlb_model *m, const struct table *t, uint64_t desc_pa,
				   unsigned cpu)
{
	if (m->nr_p == m->cap_p) {
		size_t n = m->cap_p ? m->cap_p * 2 : 16;
		void *q = realloc(m->p, n * sizeof(*m->p));
		if (!q)
			return NULL;
		m->p = q;
		m->cap_p = n;
	}
	struct pending *p = &m->p[m->nr_p++];
	memset(p, 0, sizeof(*p));
	p->id = ++m->next_id ? m->next_id : ++m->next_id;
	p->root = t->root;
	p->table_pa = t->pa;
	p->desc_pa = desc_pa;
	p->level = t->level;
	p->ia = t->ia + ((desc_pa & (PAGE - 1)) / 8) * hs_level_size(t->level);
	p->cpu = cpu;
	snprintf(p->hvc, sizeof(p->hvc), "%s", m->cpu[cpu].hvc);
	uint32_t cached = t->root->cached;
	p->stale_mask[0] = cached;
	p->stale_mask[1] = t->root->regime == HS_TLB_S2 ? cached : 0;
	return p;
}

static void report(struct hs_tlb_model *m, enum hs_tlb_rule rule, const struct pending *p,
		   uint64_t old, uint64_t new, uint64_t at_pc, uint64_t icount, const char *fmt,
		   const char *arg)
{
	struct hs_tlb_violation v = {
	    .rule = rule,
	    .regime = p->root->regime,
	    .vmid = p->root->vmid,
	    .root_pa = p->root->pa,
	    .table_pa = p->table_pa,
	    .desc_pa = p->desc_pa,
	    .ia = p->ia,
	    .level = p->level,
	    .old = old,
	    .new = new,
	    .cpu = p->cpu,
	    .pc = p->pc,
	    .at_pc = at_pc,
	    .icount = icount,
	};
	snprintf(v.hvc, sizeof(v.hvc), "%s", p->hvc);
	snprintf(v.detail, sizeof(v.detail), fmt, arg);
	m->st.violations++;
	if (m->ops.violation)
		m->ops.violation(m->ops.ud, &v);
}

static enum hs_pt_stage stage_of(const struct root *r)
{
	return r->regime == HS_TLB_S2 ? HS_PT_S2 : HS_PT_S1_EL2;
}

static enum hs_tlb_rule kind_rule(enum pend_kind k)
{
	return k == PEND_UNLINK	    ? HS_TLB_R_TABLE_NO_TLBI
	       : k == PEND_RESTRICT ? HS_TLB_R_PERM_NO_TLBI
				    : HS_TLB_R_UNMAP_NO_TLBI;
}

/* The rule a pending location breaks when it is found still pending. */
static enum hs_tlb_rule pending_rule(const struct pending *p)
{
	if (p->miss == MISS_VMID)
		return HS_TLB_R_WRONG_VMID;
	if (p->miss == MISS_REGIME)
		return HS_TLB_R_WRONG_REGIME;
	for (unsigned c = 0; c < HS_TLB_MAX_CPUS; c++)
		if (p->issued[c][0] || p->issued[c][1])
			return HS_TLB_R_NO_DSB;
	return kind_rule(p->kind);
}

static const char *pending_why(const struct pending *p, char *buf, size_t len)
{
	const char *what = p->kind == PEND_UNLINK     ? "table entry unlinked"
			   : p->kind == PEND_RESTRICT ? "permissions reduced"
						      : "entry unmapped";
	if (p->miss != MISS_NONE)
		snprintf(buf, len, "%s; TLBI %s at %#" PRIx64 " ran with VMID %u, not %u", what,
			 p->miss_op, p->miss_pc, p->miss_vmid, p->root->vmid);
	else if (pending_rule(p) == HS_TLB_R_NO_DSB)
		snprintf(buf, len, "%s; its TLBI was issued but no DSB completed it", what);
	else if (p->tlbi_seen)
		snprintf(buf, len, "%s; TLBIs ran but did not reach every CPU that may hold it",
			 what);
	else
		snprintf(buf, len, "%s; no TLBI covered it", what);
	return buf;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A new leaf or table at [oa, oa + len): does it reuse a page a stale entry still maps? */
static void check_reuse(struct hs_tlb_model *m, const struct pending *self, uint64_t oa,
			uint64_t len, uint64_t desc_pa, uint64_t pc, uint64_t icount)
{
	char where[64], buf[256];
	snprintf(where, sizeof(where), "%#" PRIx64, desc_pa);
	for (size_t i = 0; i < m->nr_p; i++) {
		struct pending *q = &m->p[i];
		if (q == self || q->reported)
			continue;
		bool hit;
		if (q->kind == PEND_UNLINK)
			hit = overlaps(oa, len, q->child_pa, PAGE);
		else
			hit = hs_desc_valid(q->stale) &&
			      overlaps(oa, len, hs_desc_oa(q->stale), hs_level_size(q->level));
		if (!hit)
			continue;
		q->reported = true;
		char why[128];
		pending_why(q, why, sizeof(why));
		snprintf(buf, sizeof(buf), "%s; then its page was mapped again by the entry at %s",
			 why, where);
		report(m, pending_rule(q), q, q->stale, q->cur, pc, icount, "%s", buf);
	}
}

/* A stage-2 leaf over a table page some live root still reaches. */
static void check_table_mapped(struct hs_tlb_model *m, const struct table *t, uint64_t desc_pa,
			       uint64_t old, uint64_t new, unsigned cpu, uint64_t pc,
			       uint64_t icount)
{
	uint64_t oa = hs_desc_oa(new), len = hs_level_size(t->level);
	for (size_t i = table_slot(m, oa); i < m->nr_t && m->t[i].pa < oa + len; i++) {
		const struct table *x = &m->t[i];
		if (!x->root->cached && !x->root->loaded)
			continue;
		struct pending fake = {.root = t->root,
				       .table_pa = t->pa,
				       .desc_pa = desc_pa,
				       .level = t->level,
				       .cpu = cpu,
				       .pc = pc};
		fake.ia = t->ia + ((desc_pa & (PAGE - 1)) / 8) * hs_level_size(t->level);
		snprintf(fake.hvc, sizeof(fake.hvc), "%s", m->cpu[cpu].hvc);
		char buf[64];
		snprintf(buf, sizeof(buf), "%#" PRIx64, x->pa);
		report(m, HS_TLB_R_TABLE_MAPPED, &fake, old, new, pc, icount,
		       "a stage-2 leaf maps the live table page %s", buf);
		return;
	}
}

/* ---- events -------------------------------------------------------------------- */

void hs_desc_merge_store(uint64_t word, uint64_t pa, unsigned size, uint64_t old_bytes,
			 uint64_t val, uint64_t *old, uint64_t *new)
{
	/*
	 * The bytes of the store, merged into the descriptor (most stores are the
	 * whole word); memory may hold the bytes before or after it (a hook reports
	 * before the store lands, a store trap after).
	 */
	if (size == 8 && !(pa & 7)) { /* nearly every table store */
		*old = old_bytes;
		*new = val;
		return;
	}
	unsigned off = (unsigned)(pa & 7), n = size > 8 - off ? 8 - off : size;
	uint64_t mask = n == 8 ? ~0ULL : ((1ULL << (8 * n)) - 1) << (8 * off);
	*old = (word & ~mask) | ((old_bytes << (8 * off)) & mask);
	*new = (word & ~mask) | ((val << (8 * off)) & mask);
}

void hs_tlb_model_store(struct hs_tlb_model *m, unsigned cpu, uint64_t pa, unsigned size,
			uint64_t old_bytes, uint64_t val, uint64_t pc, uint64_t icount)
{
	if (cpu >= m->nr_cpus)
		return;
	struct table *t = table_find(m, pa & ~(PAGE - 1));
	if (!t)
		return;
	m->st.stores++;
	uint64_t desc_pa = pa & ~7ULL, word = 0, old, new;
	/* A whole aligned descriptor (nearly every store) needs nothing of memory. */
	if (!(size == 8 && pa == desc_pa) && m->phys.read(m->phys.ud, desc_pa, &word, 8))
		return;
	hs_desc_merge_store(word, pa, size, old_bytes, val, &old, &new);
	if (new == old)
		return;
	struct root *r = t->root;
	int level = t->level;
	/* The index alone follows only tables linked and unlinked: most stores are to leaves. */
	if (m->ops.index_only && (level >= 3 || ((old & 3) != 3 && (new & 3) != 3)))
		return;
	uint64_t ia = t->ia + ((desc_pa & (PAGE - 1)) / 8) * hs_level_size(level);
	struct table tc = *t; /* the array moves when tables come and go */
	bool live = r->cached != 0 && !m->ops.index_only;

	/* A store into a table page whose walk caches may still point at it. */
	if (tc.detached_by != NO_ID) {
		for (size_t i = 0; i < m->nr_p; i++) {
			struct pending *q = &m->p[i];
			if (q->id != tc.detached_by || q->reported)
				continue;
			q->reported = true;
			char why[128], buf[200];
			pending_why(q, why, sizeof(why));
			snprintf(buf, sizeof(buf),
				 "%s; then the table page %#" PRIx64 " was written", why, tc.pa);
			report(m, pending_rule(q), q, q->stale, q->cur, pc, icount, "%s", buf);
		}
	}

	const char *why = "";
	/* The index alone only follows tables linked and unlinked. */
	enum hs_desc_change chg =
	    live ? hs_desc_change(stage_of(r), level, old, new, &why) : HS_DC_SAME;
	bool old_table = hs_desc_is_table(level, old) && hs_desc_valid(old);
	bool new_table = hs_desc_is_table(level, new) && hs_desc_valid(new);
	bool same_table = old_table && new_table && hs_desc_oa(old) == hs_desc_oa(new);
	struct pending *p = pending_find(m, desc_pa);

	/* Keep the index right: tables linked and unlinked. */
	if (old_table && !same_table && !(live && chg == HS_DC_BREAK))
		remove_subtree(m, hs_desc_oa(old));
	if (new_table && !same_table)
		index_table(m, r, hs_desc_oa(new), tc.pa, level + 1, ia, 0);
	if (!live) {
		if (p)
			p->cur = new;
		return;
	}

	switch (chg) {
	case HS_DC_BREAK:
	case HS_DC_RESTRICT:
		if (p) {
			p->cur = new;
			break;
		}
		p = pending_new(m, &tc, desc_pa, cpu);
		if (!p)
			break;
		p->kind = chg == HS_DC_RESTRICT ? PEND_RESTRICT
			  : old_table		? PEND_UNLINK
						: PEND_UNMAP;
		p->stale = old;
		p->cur = new;
		p->pc = pc;
		p->icount = icount;
		if (p->kind == PEND_UNLINK) {
			p->child_pa = hs_desc_oa(old);
			for (size_t i = 0; i < m->nr_t; i++)
				if (below(m, &m->t[i], p->child_pa))
					m->t[i].detached_by = p->id;
		}
		break;
	case HS_DC_NEEDS_BBM: {
		struct pending *q = p ? p : pending_new(m, &tc, desc_pa, cpu);
		if (!q)
			break;
		if (!p) {
			q->kind = PEND_UNMAP;
			q->stale = old;
		}
		q->cur = new;
		q->pc = pc;
		q->icount = icount;
		snprintf(q->hvc, sizeof(q->hvc), "%s", m->cpu[cpu].hvc);
		q->reported = true; /* reported here; the TLBI that follows may still clean it */
		report(m, HS_TLB_R_BBM, q, old, new, pc, icount,
		       "valid to valid change of the %s without break-before-make", why);
		break;
	}
	case HS_DC_MAKE:
	case HS_DC_RELAX:
	case HS_DC_SAME:
	case HS_DC_INVALID:
		if (p) {
			p->cur = new;
			const char *why2;
			if (chg != HS_DC_INVALID && !p->reported &&
			    hs_desc_change(stage_of(r), level, p->stale, new, &why2) ==
				HS_DC_NEEDS_BBM) {
				p->reported = true;
				struct pending q = *p;
				q.pc = pc;
				snprintf(q.hvc, sizeof(q.hvc), "%s", m->cpu[cpu].hvc);
				report(m, HS_TLB_R_BBM, &q, p->stale, new, pc, icount,
				       "the break of this entry was not completed (TLBI + DSB) "
				       "before the new %s was written",
				       why2);
			}
		}
		if (chg == HS_DC_MAKE || chg == HS_DC_RELAX) {
			uint64_t len = new_table ? PAGE : hs_level_size(level);
			check_reuse(m, p, hs_desc_oa(new), len, desc_pa, pc, icount);
			if (r->regime == HS_TLB_S2 && !new_table)
				check_table_mapped(m, &tc, desc_pa, old, new, cpu, pc, icount);
		}
		break;
	}
}

static bool vmid_ok(const struct hs_tlbi_scope *s, const struct root *r)
{
	return s->all_vmids || s->vmid == r->vmid;
}

/* Does the TLBI remove the location's own entries (EL2, or stage-2-only)? */
static bool covers_own(const struct hs_tlbi_scope *s, const struct pending *p)
{
	const struct root *r = p->root;
	if (r->regime == HS_TLB_EL2 ? !(s->regimes & (1u << HS_TLB_EL2))
				    : !(s->regimes & (1u << HS_TLB_S2)) || !vmid_ok(s, r))
		return false;
	if (!s->by_addr)
		return true;
	if (s->last_level && p->kind == PEND_UNLINK)
		return false; /* last-level forms leave walk caches alone */
	if (s->ttl_level >= 0 && s->ttl_level != p->level)
		return false;
	return s->addr >= p->ia && s->addr - p->ia < hs_level_size(p->level);
}

/* Does it remove the entries that combine stage 1 with this stage-2 entry? */
static bool covers_combined(const struct hs_tlbi_scope *s, const struct pending *p)
{
	return p->root->regime == HS_TLB_S2 && (s->regimes & (1u << HS_TLB_EL10)) &&
	       vmid_ok(s, p->root) && !s->by_addr;
}

static void note_miss(struct pending *p, const struct hs_tlbi_scope *s, const char *op, uint64_t pc)
{
	if (p->miss != MISS_NONE)
		return;
	const struct root *r = p->root;
	bool addr_hit = s->by_addr && s->addr >= p->ia && s->addr - p->ia < hs_level_size(p->level);
	bool s2_op = s->regimes & ((1u << HS_TLB_S2) | (1u << HS_TLB_EL10));
	if (r->regime == HS_TLB_S2 && s2_op && !vmid_ok(s, r) && (addr_hit || !s->by_addr))
		p->miss = MISS_VMID;
	else if (addr_hit && (r->regime == HS_TLB_EL2) != !!(s->regimes & (1u << HS_TLB_EL2)))
		p->miss = MISS_REGIME;
	else
		return;
	p->miss_vmid = s->vmid;
	p->miss_pc = pc;
	snprintf(p->miss_op, sizeof(p->miss_op), "%s", op);
}

static const char *scope_name(const struct hs_tlbi_scope *s)
{
	if (s->regimes & (1u << HS_TLB_EL2))
		return s->by_addr ? "VAE2" : "ALLE2";
	if (s->regimes & (1u << HS_TLB_S2))
		return s->by_addr ? "IPAS2E1" : s->all_vmids ? "ALLE1" : "VMALLS12E1";
	return s->by_addr ? "VAE1" : "VMALLE1";
}

void hs_tlb_model_tlbi(struct hs_tlb_model *m, unsigned cpu, const struct hs_tlbi_scope *s,
		       uint64_t pc, uint64_t icount)
{
	if (cpu >= m->nr_cpus || !s->known)
		return;
	m->st.tlbis++;
	uint32_t reach = s->broadcast ? m->all_cpus : 1u << cpu;
	for (size_t i = 0; i < m->nr_p; i++) {
		struct pending *p = &m->p[i];
		bool own = covers_own(s, p), comb = covers_combined(s, p);
		if (!own && !comb) {
			note_miss(p, s, scope_name(s), pc);
			continue;
		}
		if (p->cpu == cpu && !p->reported &&
		    !(s->broadcast ? p->visible_bcast : p->visible_local)) {
			p->reported = true;
			report(m, HS_TLB_R_TLBI_BEFORE_DSB, p, p->stale, p->cur, pc, icount,
			       "%s ran before a DSB made the store visible to table walks",
			       scope_name(s));
		}
		p->tlbi_seen = true;
		if (own)
			p->issued[cpu][0] |= reach & p->stale_mask[0];
		/* combined entries go only once no stale stage-2 entry can rebuild them */
		if (comb)
			p->issued[cpu][1] |=
			    reach & p->stale_mask[1] & (own ? ~0u : ~p->stale_mask[0]);
	}
	if (!s->by_addr) {
		struct cpu_state *c = &m->cpu[cpu];
		if (c->nr_full < MAX_FULL)
			c->full[c->nr_full++] = (struct full_inval){.regimes = s->regimes,
								    .all_vmids = s->all_vmids,
								    .vmid = s->vmid,
								    .reach = reach};
		else
			c->full_overflow = true;
	}
}

/* A completed invalidation of everything a root's regime (and VMID) holds. */
static void uncache_roots(struct hs_tlb_model *m, const struct full_inval *f, uint32_t credit)
{
	for (size_t i = 0; i < m->nr_roots; i++) {
		struct root *r = m->roots[i];
		bool hit = r->regime == HS_TLB_EL2 ? (f->regimes & (1u << HS_TLB_EL2))
						   : (f->regimes & (1u << HS_TLB_S2)) &&
							 (f->all_vmids || f->vmid == r->vmid);
		if (!hit)
			continue;
		/* the EL2 regime in use is cached again at once */
		uint32_t keep = r->regime == HS_TLB_EL2 ? r->loaded : 0;
		r->cached &= ~(credit & ~keep);
	}
}

void hs_tlb_model_dsb(struct hs_tlb_model *m, unsigned cpu, unsigned option, uint64_t pc)
{
	(void)pc;
	if (cpu >= m->nr_cpus)
		return;
	m->st.dsbs++;
	uint32_t self = 1u << cpu;
	bool all = hs_dsb_completes_tlbi(option, true),
	     local = hs_dsb_completes_tlbi(option, false);
	for (size_t i = m->nr_p; i-- > 0;) {
		struct pending *p = &m->p[i];
		if (p->cpu == cpu) {
			p->visible_local |= hs_dsb_orders_stores(option, false);
			p->visible_bcast |= hs_dsb_orders_stores(option, true);
		}
		for (int ph = 0; ph < 2; ph++) {
			uint32_t credit = all	  ? p->issued[cpu][ph]
					  : local ? p->issued[cpu][ph] & self
						  : 0;
			p->stale_mask[ph] &= ~credit;
			p->issued[cpu][ph] &= ~credit;
		}
		if (!p->stale_mask[0] && !p->stale_mask[1])
			pending_drop(m, i);
	}
	struct cpu_state *c = &m->cpu[cpu];
	if (!all && !local)
		return;
	for (unsigned k = 0; k < c->nr_full; k++)
		uncache_roots(m, &c->full[k], all ? c->full[k].reach : c->full[k].reach & self);
	c->nr_full = 0;
	c->full_overflow = false;
	for (size_t i = m->nr_roots; i-- > 0;)
		root_drop_if_dead(m, m->roots[i]);
}

void hs_tlb_model_hvc_enter(struct hs_tlb_model *m, unsigned cpu, const char *name)
{
	if (cpu < m->nr_cpus)
		snprintf(m->cpu[cpu].hvc, sizeof(m->cpu[cpu].hvc), "%s", name ? name : "");
}

void hs_tlb_model_hvc_exit(struct hs_tlb_model *m, unsigned cpu, uint64_t icount)
{
	if (cpu >= m->nr_cpus)
		return;
	/* Back to the host: whatever this call left pending is a stale translation it can use. */
	for (size_t i = m->nr_p; i-- > 0;) {
		struct pending *p = &m->p[i];
		if (p->cpu != cpu)
			continue;
		if (!p->reported) {
			char why[160];
			report(m, pending_rule(p), p, p->stale, p->cur, 0, icount,
			       "%s when the hypercall returned", pending_why(p, why, sizeof(why)));
		}
		pending_drop(m, i);
	}
	m->cpu[cpu].hvc[0] = '\0';
}

/* ---- life and queries ------------------------------------------------------------ */

struct hs_tlb_model *hs_tlb_model_new(const struct hs_phys *phys, unsigned nr_cpus,
				      const struct hs_tlb_model_ops *ops)
{
	if (!nr_cpus || nr_cpus > HS_TLB_MAX_CPUS)
		return NULL;
	struct hs_tlb_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->phys = *phys;
	m->nr_cpus = nr_cpus;
	m->all_cpus = nr_cpus == 32 ? ~0u : (1u << nr_cpus) - 1;
	if (ops)
		m->ops = *ops;
	return m;
}

void hs_tlb_model_free(struct hs_tlb_model *m)
{
	if (!m)
		return;
	/* whoever watches the pages for the model stops (a page may have other watchers) */
	for (size_t i = 0; m->ops.watch && i < m->nr_t; i++)
		m->ops.watch(m->ops.ud, m->t[i].pa, false);
	for (size_t i = 0; i < m->nr_roots; i++)
		free(m->roots[i]);
	free(m->roots);
	free(m->t);
	free(m->p);
	free(m);
}

size_t hs_tlb_model_pending(const struct hs_tlb_model *m, struct hs_tlb_pending_info *out,
			    size_t max)
{
	for (size_t i = 0; i < m->nr_p && i < max; i++) {
		const struct pending *p = &m->p[i];
		out[i] = (struct hs_tlb_pending_info){.regime = p->root->regime,
						      .vmid = p->root->vmid,
						      .table_pa = p->table_pa,
						      .desc_pa = p->desc_pa,
						      .ia = p->ia,
						      .level = p->level,
						      .stale = p->stale,
						      .cur = p->cur,
						      .cpus = p->stale_mask[0] | p->stale_mask[1],
						      .cpu = p->cpu,
						      .pc = p->pc};
	}
	return m->nr_p;
}

void hs_tlb_model_stats(const struct hs_tlb_model *m, struct hs_tlb_model_stats *st)
{
	*st = m->st;
	st->roots = m->nr_roots;
	st->tables = m->nr_t;
	st->pending = m->nr_p;
}
