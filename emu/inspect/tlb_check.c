/* SPDX-License-Identifier: MIT */
#include "tlb_check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "barrier_hooks.h"
#include "hyp_state.h"
#include "inspect_snapshot.h"
#include "write_log.h"

struct hs_tlb_check {
	struct hs_machine *m;
	struct hs_tlb_model *model;
	bool index_only; /* hs_tlb_index_new */
	struct hs_tlb_index_opts index;
	bool stop;
	bool tap, feed, subscribed;
	uint64_t hcr[HS_TLB_MAX_CPUS];
	struct hs_tlb_check_entry *v;
	size_t nr, cap;
	struct hs_snapshot snap; /* scratch: guests' regimes */
	/* stage-2 regimes learned, by VTTBR: a guest's root comes and goes with every call */
	struct {
		uint64_t vttbr;
		struct hs_pt_regime r;
	} known[16];
	unsigned next_known;
};

/* ---- what the model asks -------------------------------------------------- */

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

static uint64_t sr(struct hs_machine *m, unsigned cpu, enum hs_sysreg r)
{
	uint64_t v = 0;
	hs_cpu_sysreg(m, cpu, r, &v);
	return v;
}

static bool same_root(uint64_t a, uint64_t b)
{
	return (a & 0xfffffffffffffffeULL) == (b & 0xfffffffffffffffeULL);
}

static int root_regime(void *ud, unsigned cpu, enum hs_tlb_regime regime, uint64_t ttbr,
		       struct hs_pt_regime *out)
{
	struct hs_tlb_check *c = ud;
	struct hs_machine *m = c->m;
	char msg[128];
	if (regime == HS_TLB_EL2)
		return hs_pt_regime_el2(sr(m, cpu, HS_SR_TCR_EL2), ttbr, sr(m, cpu, HS_SR_MAIR_EL2),
					out, msg, sizeof(msg))
			   ? -1
			   : 0;
	uint64_t vtcr, vttbr;
	hs_host_s2_regs(m, cpu, &vtcr, &vttbr);
	if (vttbr && same_root(vttbr, ttbr))
		return hs_pt_regime_s2(vtcr, ttbr, out, msg, sizeof(msg)) ? -1 : 0;
	for (unsigned i = 0; i < sizeof(c->known) / sizeof(c->known[0]); i++) {
		if (c->known[i].vttbr && same_root(c->known[i].vttbr, ttbr)) {
			*out = c->known[i].r;
			return 0;
		}
	}
	/* A guest's: its VTCR is in its VM struct, found through the hypervisor's VM table. */
	struct hs_error err = {0};
	if (!hs_snapshot_take(m, HS_SNAP_F_GUESTS, &c->snap, &err)) {
		for (size_t i = 0; i < c->snap.nr_guests; i++) {
			const struct hs_snap_guest *g = &c->snap.guests[i];
			if (g->ok && same_root(g->abi.vttbr, ttbr)) {
				*out = g->r;
				unsigned k =
				    c->next_known++ % (sizeof(c->known) / sizeof(c->known[0]));
				c->known[k].vttbr = ttbr;
				c->known[k].r = g->r;
				return 0;
			}
		}
	}
	return hs_pt_regime_s2(sr(m, cpu, HS_SR_VTCR_EL2), ttbr, out, msg, sizeof(msg)) ? -1 : 0;
}

static void watch(void *ud, uint64_t page_pa, bool on)
{
	struct hs_tlb_check *c = ud;
	hs_write_log_tap_watch(c->m, page_pa, on);
	if (c->index.on_watch)
		c->index.on_watch(c->index.ud, page_pa, on);
}

/* Index only: the stage-2 roots that exist, the host's and every VM's, stay indexed. */
static void keep_s2_roots(struct hs_tlb_check *c)
{
	uint64_t keep[1 + HS_MAX_VMS], vtcr, vttbr;
	size_t n = 0;
	hs_host_s2_regs(c->m, 0, &vtcr, &vttbr);
	if (vttbr)
		keep[n++] = vttbr;
	struct hs_error err = {0};
	if (!hs_snapshot_take(c->m, HS_SNAP_F_GUESTS, &c->snap, &err))
		for (size_t i = 0; i < c->snap.nr_guests && n < 1 + HS_MAX_VMS; i++)
			if (c->snap.guests[i].ok)
				keep[n++] = c->snap.guests[i].abi.vttbr;
	hs_tlb_model_keep_s2(c->model, keep, n);
}

static void violation(void *ud, const struct hs_tlb_violation *v)
{
	struct hs_tlb_check *c = ud;
	if (c->nr == c->cap) {
		size_t n = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->v, n * sizeof(*c->v));
		if (!p)
			return;
		c->v = p;
		c->cap = n;
	}
	struct hs_tlb_check_entry *e = &c->v[c->nr++];
	memset(e, 0, sizeof(*e));
	e->v = *v;
	hs_pc_where(c->m, v->pc, e->where, sizeof(e->where));
	if (v->at_pc)
		hs_pc_where(c->m, v->at_pc, e->at, sizeof(e->at));
	else
		snprintf(e->at, sizeof(e->at), "hypercall return");
	if (c->stop)
		hs_machine_request_stop(c->m);
}

/* ---- events ------------------------------------------------------------------ */

static bool s2_on(const struct hs_tlb_check *c, unsigned cpu)
{
	return cpu < HS_TLB_MAX_CPUS && (c->hcr[cpu] & 1);
}

/* What both modes do: table stores, and the roots CPUs load (their regimes may change). */
static void index_event(struct hs_tlb_check *c, const struct hs_event *ev)
{
	struct hs_tlb_model *md = c->model;
	unsigned cpu = ev->cpu;
	if (ev->type == HS_EV_TABLE_STORE) {
		hs_tlb_model_store(md, cpu, ev->store.pa, ev->store.size, ev->store.old,
				   ev->store.val, ev->store.pc, ev->icount);
		return;
	}
	if (ev->type != HS_EV_SYSREG_WRITE)
		return;
	if (ev->sysreg.reg == HS_SR_TTBR0_EL2)
		hs_tlb_model_load(md, cpu, HS_TLB_EL2, ev->sysreg.value);
	else if (ev->sysreg.reg == HS_SR_VTTBR_EL2)
		hs_tlb_model_load(md, cpu, HS_TLB_S2, ev->sysreg.value);
	else if (ev->sysreg.reg == HS_SR_TCR_EL2 || ev->sysreg.reg == HS_SR_VTCR_EL2 ||
		 ev->sysreg.reg == HS_SR_SCTLR_EL2)
		hs_tlb_model_retry_roots(md, cpu);
}

/* Index only: table stores, root loads and the VMs that come and go. */
static void on_index_event(const struct hs_event *ev, void *ud)
{
	struct hs_tlb_check *c = ud;
	index_event(c, ev);
	if (ev->type == HS_EV_HVC_EXIT && ev->hvc.name &&
	    (strstr(ev->hvc.name, "_vm") || strstr(ev->hvc.name, "finalize"))) {
		memset(c->known, 0, sizeof(c->known));
		keep_s2_roots(c);
	}
}

static void on_event(const struct hs_event *ev, void *ud)
{
	struct hs_tlb_check *c = ud;
	struct hs_tlb_model *md = c->model;
	unsigned cpu = ev->cpu;
	index_event(c, ev);
	switch (ev->type) {
	case HS_EV_TLBI: {
		struct hs_tlbi_scope s;
		hs_tlbi_decode(ev->tlbi.op, ev->tlbi.operand, ev->tlbi.vttbr, &s);
		hs_tlb_model_tlbi(md, cpu, &s, ev->tlbi.pc, ev->icount);
		break;
	}
	case HS_EV_BARRIER:
		if (ev->barrier.kind == HS_BARRIER_DSB)
			hs_tlb_model_dsb(md, cpu, ev->barrier.option, ev->barrier.pc);
		break;
	case HS_EV_SYSREG_WRITE:
		if (ev->sysreg.reg == HS_SR_HCR_EL2 && cpu < HS_TLB_MAX_CPUS)
			c->hcr[cpu] = ev->sysreg.value;
		break;
	case HS_EV_HVC_ENTER:
		/* the host ran at EL1 up to here, with this CPU's stage 2 */
		hs_tlb_model_lower_el_runs(md, cpu, s2_on(c, cpu));
		hs_tlb_model_hvc_enter(md, cpu, ev->hvc.name);
		break;
	case HS_EV_HVC_EXIT:
		hs_tlb_model_hvc_exit(md, cpu, ev->icount);
		/* VMs came or went: a VTTBR may now stand for another VM's geometry */
		if (ev->hvc.name && strstr(ev->hvc.name, "_vm"))
			memset(c->known, 0, sizeof(c->known));
		hs_tlb_model_lower_el_runs(md, cpu, s2_on(c, cpu));
		break;
	case HS_EV_EXCEPTION:
		if (ev->exc.from_el < 2)
			hs_tlb_model_lower_el_runs(md, cpu, s2_on(c, cpu));
		break;
	case HS_EV_HOST_ACCESS:
		hs_tlb_model_lower_el_runs(md, cpu, s2_on(c, cpu));
		break;
	default:
		break;
	}
}

/* ---- life ----------------------------------------------------------------------- */

void hs_tlb_check_free(struct hs_tlb_check *c)
{
	if (!c)
		return;
	if (c->subscribed)
		hs_machine_unsubscribe(c->m, c->index_only ? on_index_event : on_event, c);
	hs_tlb_model_free(c->model);
	if (c->tap)
		hs_write_log_tap_put(c->m);
	if (c->feed)
		hs_barrier_feed_put(c->m);
	hs_snapshot_free(&c->snap);
	free(c->v);
	free(c);
}

/* What the machine holds now: every CPU's roots, the host's and every VM's stage 2. */
static void seed(struct hs_tlb_check *c)
{
	struct hs_machine *m = c->m;
	unsigned n = hs_nr_cpus(m);
	uint32_t online = 0;
	for (unsigned i = 0; i < n && i < HS_TLB_MAX_CPUS; i++) {
		struct hs_cpu_state st;
		if (!hs_cpu_state(m, i, &st) && st.online)
			online |= 1u << i;
		c->hcr[i] = sr(m, i, HS_SR_HCR_EL2);
		hs_tlb_model_load(c->model, i, HS_TLB_EL2, sr(m, i, HS_SR_TTBR0_EL2));
		hs_tlb_model_load(c->model, i, HS_TLB_S2, sr(m, i, HS_SR_VTTBR_EL2));
		hs_tlb_model_lower_el_runs(c->model, i, s2_on(c, i));
	}
	if (c->index_only) {
		keep_s2_roots(c);
		return;
	}
	/* Their history is unknown: assume every CPU may hold the host's and the guests' entries.
	 */
	uint64_t vtcr, vttbr;
	hs_host_s2_regs(m, 0, &vtcr, &vttbr);
	if (vttbr && (c->hcr[0] & 1))
		hs_tlb_model_assume_cached(c->model, 0, HS_TLB_S2, vttbr, online);
	struct hs_error err = {0};
	if (!hs_snapshot_take(m, HS_SNAP_F_GUESTS, &c->snap, &err))
		for (size_t i = 0; i < c->snap.nr_guests; i++)
			if (c->snap.guests[i].ok)
				hs_tlb_model_assume_cached(c->model, 0, HS_TLB_S2,
							   c->snap.guests[i].abi.vttbr, online);
}

static int check_new(struct hs_machine *m, const struct hs_tlb_index_opts *index,
		     struct hs_tlb_check **out, struct hs_error *err)
{
	*out = NULL;
	if (hs_nr_cpus(m) > HS_TLB_MAX_CPUS)
		return hs_err(err, -EINVAL, "the TLB checker models at most %d CPUs",
			      HS_TLB_MAX_CPUS);
	struct hs_tlb_check *c = calloc(1, sizeof(*c));
	if (!c)
		return hs_err(err, -ENOMEM, "TLB checker: out of memory");
	c->m = m;
	c->index_only = index != NULL;
	if (index)
		c->index = *index;
	hs_snapshot_init(&c->snap);
	int rc = hs_write_log_tap_get(m, err);
	if (rc)
		goto fail;
	c->tap = true;
	if (!c->index_only && (rc = hs_barrier_feed_get(m, err)))
		goto fail;
	c->feed = !c->index_only;
	struct hs_phys phys = {.read = phys_read, .ud = m};
	struct hs_tlb_model_ops ops = {.root_regime = root_regime,
				       .watch = watch,
				       .violation = violation,
				       .ud = c,
				       .index_only = c->index_only};
	c->model = hs_tlb_model_new(&phys, hs_nr_cpus(m), &ops);
	if (!c->model) {
		rc = hs_err(err, -ENOMEM, "TLB checker: out of memory");
		goto fail;
	}
	seed(c);
	if ((rc = hs_machine_subscribe(m, c->index_only ? on_index_event : on_event, c))) {
		rc = hs_err(err, rc, "TLB checker: no free event subscription");
		goto fail;
	}
	c->subscribed = true;
	*out = c;
	return 0;
fail:
	hs_tlb_check_free(c);
	return rc;
}

int hs_tlb_check_new(struct hs_machine *m, struct hs_tlb_check **out, struct hs_error *err)
{
	return check_new(m, NULL, out, err);
}

int hs_tlb_index_new(struct hs_machine *m, const struct hs_tlb_index_opts *o,
		     struct hs_tlb_check **out, struct hs_error *err)
{
	static const struct hs_tlb_index_opts none = {0};
	return check_new(m, o ? o : &none, out, err);
}

void hs_tlb_check_set_stop(struct hs_tlb_check *c, bool stop)
{
	c->stop = stop;
}

size_t hs_tlb_check_count(const struct hs_tlb_check *c)
{
	return c->nr;
}

const struct hs_tlb_check_entry *hs_tlb_check_get(const struct hs_tlb_check *c, size_t i)
{
	return i < c->nr ? &c->v[i] : NULL;
}

size_t hs_tlb_check_count_rule(const struct hs_tlb_check *c, const char *rule)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nr; i++)
		n += !strcmp(hs_tlb_rule_name(c->v[i].v.rule), rule);
	return n;
}

void hs_tlb_check_clear(struct hs_tlb_check *c)
{
	c->nr = 0;
}

const struct hs_tlb_model *hs_tlb_check_model(const struct hs_tlb_check *c)
{
	return c->model;
}

/* ---- reports ------------------------------------------------------------------ */

static const char *regime_name(enum hs_tlb_regime r)
{
	return r == HS_TLB_EL2 ? "hyp-s1" : "s2";
}

void hs_tlb_check_entry_text(struct hs_strbuf *sb, const struct hs_tlb_check_entry *e)
{
	const struct hs_tlb_violation *v = &e->v;
	hs_sb_printf(sb, "%s: %s\n", hs_tlb_rule_name(v->rule), v->detail);
	hs_sb_printf(sb, "  entry %#" PRIx64 " (%s", v->desc_pa, regime_name(v->regime));
	if (v->regime == HS_TLB_S2)
		hs_sb_printf(sb, " vmid %u", v->vmid);
	hs_sb_printf(sb,
		     ", table %#" PRIx64 ", level %d, address %#" PRIx64 "): %#" PRIx64
		     " -> %#" PRIx64 "\n",
		     v->table_pa, v->level, v->ia, v->old, v->new);
	hs_sb_printf(sb, "  cpu%u, store at %s; found at %s; hypercall %s\n", v->cpu, e->where,
		     e->at, v->hvc[0] ? v->hvc : "(none)");
	hs_sb_printf(sb, "  rule: %s\n", hs_tlb_rule_ref(v->rule));
}

void hs_tlb_check_entry_json(struct hs_strbuf *sb, const struct hs_tlb_check_entry *e)
{
	const struct hs_tlb_violation *v = &e->v;
	hs_sb_puts(sb, "{\"rule\":");
	hs_sb_json_str(sb, hs_tlb_rule_name(v->rule));
	hs_sb_puts(sb, ",\"detail\":");
	hs_sb_json_str(sb, v->detail);
	hs_sb_printf(sb,
		     ",\"regime\":\"%s\",\"vmid\":%u,\"root\":\"0x%" PRIx64
		     "\",\"table\":\"0x%" PRIx64 "\",\"entry\":\"0x%" PRIx64
		     "\",\"level\":%d,\"address\":\"0x%" PRIx64 "\",\"old\":\"0x%" PRIx64
		     "\",\"new\":\"0x%" PRIx64 "\",\"cpu\":%u,\"pc\":\"0x%" PRIx64
		     "\",\"found_pc\":\"0x%" PRIx64 "\",\"icount\":%" PRIu64 ",\"where\":",
		     regime_name(v->regime), v->vmid, v->root_pa, v->table_pa, v->desc_pa, v->level,
		     v->ia, v->old, v->new, v->cpu, v->pc, v->at_pc, v->icount);
	hs_sb_json_str(sb, e->where);
	hs_sb_puts(sb, ",\"found\":");
	hs_sb_json_str(sb, e->at);
	hs_sb_puts(sb, ",\"hypercall\":");
	hs_sb_json_str(sb, v->hvc);
	hs_sb_puts(sb, ",\"reference\":");
	hs_sb_json_str(sb, hs_tlb_rule_ref(v->rule));
	hs_sb_putc(sb, '}');
}

#define MAX_SHOWN_PENDING 64

void hs_tlb_check_text(struct hs_strbuf *sb, const struct hs_tlb_check *c, size_t from)
{
	for (size_t i = from; i < c->nr; i++)
		hs_tlb_check_entry_text(sb, &c->v[i]);
	struct hs_tlb_pending_info p[MAX_SHOWN_PENDING];
	size_t n = hs_tlb_model_pending(c->model, p, MAX_SHOWN_PENDING);
	for (size_t i = 0; i < n && i < MAX_SHOWN_PENDING; i++)
		hs_sb_printf(sb,
			     "pending: entry %#" PRIx64 " (%s, level %d, address %#" PRIx64
			     ") %#" PRIx64 " may still be cached on cpus %#x (changed by cpu%u)\n",
			     p[i].desc_pa, regime_name(p[i].regime), p[i].level, p[i].ia,
			     p[i].stale, p[i].cpus, p[i].cpu);
	struct hs_tlb_model_stats st;
	hs_tlb_model_stats(c->model, &st);
	hs_sb_printf(sb,
		     "tlb check: %zu violation%s; %zu pending; %zu roots, %zu table pages; "
		     "%" PRIu64 " table stores, %" PRIu64 " TLBIs, %" PRIu64 " DSBs seen\n",
		     c->nr - (from < c->nr ? from : c->nr), c->nr - from == 1 ? "" : "s", n,
		     st.roots, st.tables, st.stores, st.tlbis, st.dsbs);
}

void hs_tlb_check_json(struct hs_strbuf *sb, const struct hs_tlb_check *c, size_t from)
{
	hs_sb_puts(sb, "{\"violations\":[");
	for (size_t i = from; i < c->nr; i++) {
		if (i > from)
			hs_sb_putc(sb, ',');
		hs_tlb_check_entry_json(sb, &c->v[i]);
	}
	struct hs_tlb_pending_info p[MAX_SHOWN_PENDING];
	size_t n = hs_tlb_model_pending(c->model, p, MAX_SHOWN_PENDING);
	hs_sb_puts(sb, "],\"pending\":[");
	for (size_t i = 0; i < n && i < MAX_SHOWN_PENDING; i++)
		hs_sb_printf(sb,
			     "%s{\"entry\":\"0x%" PRIx64
			     "\",\"regime\":\"%s\",\"level\":%d,\"address\":\"0x%" PRIx64
			     "\",\"stale\":\"0x%" PRIx64 "\",\"cpus\":%u}",
			     i ? "," : "", p[i].desc_pa, regime_name(p[i].regime), p[i].level,
			     p[i].ia, p[i].stale, p[i].cpus);
	struct hs_tlb_model_stats st;
	hs_tlb_model_stats(c->model, &st);
	hs_sb_printf(sb,
		     "],\"roots\":%zu,\"tables\":%zu,\"stores\":%" PRIu64 ",\"tlbis\":%" PRIu64
		     ",\"dsbs\":%" PRIu64 "}",
		     st.roots, st.tables, st.stores, st.tlbis, st.dsbs);
}
