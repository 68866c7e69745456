/* SPDX-License-Identifier: MIT */
/*
 * The inspection engine and the visualizer in the debugger: owner, map, diff,
 * check, trace, set, render, viz; the machine hook that attaches the
 * hypercall trace and the visualizer's recorder at machine creation; and what
 * dispatch runs around every command (diff-on-stop, check-after-hvc, live
 * window redraw).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_checkpoint.h"
#include "profile.h"
#include "cmd_print.h"
#include "inspect_check.h"
#include "inspect_check_incr.h"
#include "inspect_owner.h"
#include "inspect_trace.h"
#include "viz.h"

/* ---- the visualizer recorder's diff hook ------------------------------------- */

/*
 * The recorder sees the same hypercall events as the trace, right after it
 * (the trace subscribes first), so a call's diff is the trace's entry for it:
 * no snapshot of its own. Without a trace the hook takes its own snapshots.
 */
static void *rec_diff_begin(struct hs_machine *m, const struct hs_viz_call *call, void *ud)
{
	(void)call;
	struct cli *c = ud;
	if (c->itrace)
		return c; /* the trace holds the "before" state */
	struct hs_snapshot *s = malloc(sizeof(*s));
	struct hs_error err = {0};
	if (!s)
		return NULL;
	hs_snapshot_init(s);
	if (hs_snapshot_take(m, 0, s, &err)) {
		hs_snapshot_free(s);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The trace's entry for the call that just completed on call->cpu, or NULL
 * (`trace clear` while it ran). Entries after it are calls other CPUs still
 * have in flight, one each at most.
 */
static const struct hs_trace_entry *traced_call(const struct cli *c, const struct hs_viz_call *call)
{
	size_t n = hs_trace_count(c->itrace);
	for (size_t i = n; i-- > 0 && n - i <= HS_MAX_CPUS;) {
		const struct hs_trace_entry *e = hs_trace_get(c->itrace, i);
		if (e->cpu == call->cpu && e->completed && e->icount_enter == call->icount_enter)
			return e;
	}
	return NULL;
}

static void rec_diff_end(struct hs_machine *m, const struct hs_viz_call *call, void *snap,
			 struct hs_strbuf *out, void *ud)
{
	struct cli *c = ud;
	struct hs_snapshot *before = snap, after;
	struct hs_error err = {0};
	if (!before)
		return;
	if (snap == c) {
		const struct hs_trace_entry *e = out && c->itrace ? traced_call(c, call) : NULL;
		if (e && e->has_diff && e->diff.nr)
			hs_diff_text(out, &e->diff);
		else if (e && e->has_diff)
			hs_sb_puts(out, "no table change\n");
		return;
	}
	if (!out) {
		/* The call never finished (recorder cleared): just release the snapshot. */
		hs_snapshot_free(before);
		free(before);
		return;
	}
	hs_snapshot_init(&after);
	if (!hs_snapshot_take(m, 0, &after, &err)) {
		struct hs_diff d;
		hs_diff_init(&d);
		if (!hs_snapshot_diff(before, &after, &d)) {
			if (d.nr)
				hs_diff_text(out, &d);
			else
				hs_sb_puts(out, "no table change\n");
		}
		hs_diff_free(&d);
	}
	hs_snapshot_free(&after);
	hs_snapshot_free(before);
	free(before);
}

void cli_mm_machine_hook(struct cli *c, bool create)
{
	if (create) {
		struct hs_error err = {0};
		if (hs_trace_start(c->m, HS_TRACE_F_DIFF, &c->itrace, &err)) {
			c->itrace = NULL;
			fprintf(stderr, "hypscope: warning: no hypercall trace: %s\n", err.msg);
		}
		c->recorder = hs_viz_recorder_attach(c->m);
		if (c->recorder)
			hs_viz_recorder_set_diff_hook(c->recorder, rec_diff_begin, rec_diff_end, c);
		hs_snapshot_init(&c->mark);
		c->have_mark = false;
		cli_blame_attach(c);
		cli_tlb_attach(c);
		cli_checkpoint_attach(c);
		return;
	}
	cli_tlb_detach(c);
	cli_blame_detach(c);
	cli_bpx_clear(c); /* the breakpoints go with the machine */
	if (c->viz)
		hs_viz_live_close(c->viz);
	c->viz = NULL;
	if (c->recorder)
		hs_viz_recorder_detach(c->recorder);
	c->recorder = NULL;
	if (c->itrace)
		hs_trace_stop(c->itrace);
	c->itrace = NULL;
	hs_snapshot_free(&c->mark);
	hs_snapshot_init(&c->mark);
	c->have_mark = false;
}

/* ---- around every command ------------------------------------------------------ */

void cli_mm_before(struct cli *c, const struct cli_cmd *cmd, struct cli_mm_pre *pre)
{
	memset(pre, 0, sizeof(*pre));
	if (!c->m)
		return;
	pre->icount = hs_machine_icount(c->m);
	pre->ntrace = c->itrace ? hs_trace_count(c->itrace) : 0;
	if (pre->ntrace) {
		const struct hs_trace_entry *e = hs_trace_get(c->itrace, pre->ntrace - 1);
		pre->last_pending = e && !e->completed;
	}
	if ((cmd->flags & CMD_RUNS) && c->diff_on_stop) {
		struct hs_error err = {0};
		hs_snapshot_init(&pre->snap);
		if (!hs_snapshot_take(c->m, 0, &pre->snap, &err))
			pre->have_snap = true;
		else
			hs_snapshot_free(&pre->snap);
	}
}

/* The last hypercall that completed during the command, or NULL. */
static const struct hs_trace_entry *completed_since(struct cli *c, const struct cli_mm_pre *pre)
{
	if (!c->itrace)
		return NULL;
	size_t n = hs_trace_count(c->itrace);
	size_t from = pre->ntrace - (pre->last_pending && pre->ntrace ? 1 : 0);
	if (n < pre->ntrace)
		return NULL; /* `trace clear` */
	const struct hs_trace_entry *last = NULL;
	for (size_t i = from; i < n; i++) {
		const struct hs_trace_entry *e = hs_trace_get(c->itrace, i);
		if (e && e->completed)
			last = e;
	}
	return last;
}

static void print_diff_on_stop(struct cli *c, const struct hs_snapshot *before)
{
	struct hs_snapshot now;
	struct hs_error err = {0};
	hs_snapshot_init(&now);
	if (hs_snapshot_take(c->m, 0, &now, &err)) {
		cli_error(c, "diff-on-stop: cannot take a snapshot: %s", err.msg);
		hs_snapshot_free(&now);
		return;
	}
	struct hs_diff d;
	hs_diff_init(&d);
	if (!hs_snapshot_diff(before, &now, &d)) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		struct hs_strbuf t;
		hs_sb_init(&t);
		hs_diff_text(&t, &d);
		hs_sb_printf(&sb, "%sdiff:%s%s", cli_col(c, COL_DIM), cli_col(c, COL_RESET),
			     d.nr ? "\n" : " ");
		for (const char *p = hs_sb_str(&t); *p;) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			hs_sb_printf(&sb, "%s%.*s\n", d.nr ? "  " : "", (int)len, p);
			p += len + (nl ? 1 : 0);
		}
		hs_sb_free(&t);
		cli_print_sb(c, &sb);
		hs_sb_free(&sb);
	}
	hs_diff_free(&d);
	hs_snapshot_free(&now);
}

/* Redraw the live window with the entries the TLB checker has pending, if it runs. */
static void redraw_viz(struct cli *c)
{
	if (!c->tlb) {
		hs_viz_live_redraw(c->viz, NULL);
		return;
	}
	struct hs_viz_opts o = *hs_viz_get_opts(hs_viz_live_viz(c->viz));
	cli_tlb_viz_opts(c, &o);
	hs_viz_live_redraw(c->viz, &o);
}

int cli_mm_after(struct cli *c, const struct cli_cmd *cmd, struct cli_mm_pre *pre)
{
	(void)cmd;
	int rc = 0;
	if (!c->m) {
		if (pre->have_snap)
			hs_snapshot_free(&pre->snap);
		return 0;
	}
	bool ran = hs_machine_icount(c->m) != pre->icount;
	if (pre->have_snap) {
		if (ran && !c->json)
			print_diff_on_stop(c, &pre->snap);
		hs_snapshot_free(&pre->snap);
		pre->have_snap = false;
	}
	const struct hs_trace_entry *e = ran ? completed_since(c, pre) : NULL;
	if (!c->check_after_hvc && c->incr_check) {
		/* Switched off: stop hooking every store. */
		hs_check_incr_free(c->incr_check);
		c->incr_check = NULL;
	}
	if (c->check_after_hvc && e && hs_machine_booted(c->m)) {
		struct hs_check_report rep;
		hs_check_report_init(&rep);
		/* The incremental checker: the same report, at a fraction of the cost. */
		struct hs_error err = {0};
		if (!c->incr_check && hs_check_incr_new(c->m, &c->incr_check, &err))
			c->incr_check = NULL;
		int n = c->incr_check ? hs_check_incr(c->incr_check, &rep) : hs_check(c->m, &rep);
		if (n != 0) {
			struct hs_strbuf sb;
			hs_sb_init(&sb);
			hs_check_text(&rep, &sb);
			fputs(cli_col(c, COL_RED), stdout);
			cli_print_sb(c, &sb);
			fputs(cli_col(c, COL_RESET), stdout);
			hs_sb_free(&sb);
			rc = cli_error(c, "check-after-hvc: %zu violation%s after %s", rep.total,
				       rep.total == 1 ? "" : "s", e->name ? e->name : "hypercall");
		}
		hs_check_report_free(&rep);
	}
	if (c->viz && ran)
		redraw_viz(c);
	return rc;
}

bool cli_mm_poll_viz(struct cli *c)
{
	if (!c->viz)
		return false;
	switch (hs_viz_live_poll(c->viz)) {
	case 's':
		printf("\n(viz) stepi\n");
		cli_exec_line(c, "stepi");
		return true;
	case 'c':
		printf("\n(viz) continue\n");
		cli_exec_line(c, "continue");
		return true;
	case 'q':
		hs_viz_live_close(c->viz);
		c->viz = NULL;
		printf("\nviz: window closed\n");
		return true;
	default:
		return false;
	}
}

/* ---- owner / map ---------------------------------------------------------------- */

#define PA_LIMIT (1ULL << HS_PA_BITS)
#define OWNER_MAX_SIZE (64ULL << 30)

/* A physical address: PA by default (symbols: their PA); va:/ipa: translated. */
static int eval_pa(struct cli *c, const char *cmd, const char *s, uint64_t *pa)
{
	enum cli_space sp = SP_PA;
	uint64_t a;
	if (cli_eval(c, s, &sp, &a))
		return -1;
	if (sp == SP_VA || sp == SP_IPA) {
		char err[256];
		if (cli_to_pa(c, sp, a, pa, err, sizeof(err)))
			return cli_error(c, "%s: '%s': %s", cmd, s, err);
		return 0;
	}
	*pa = a;
	return 0;
}

int cmd_owner(struct cli *c, int argc, char **argv)
{
	uint64_t pa, size = 0;
	if (eval_pa(c, "owner", argv[1], &pa))
		return -1;
	if (argc > 2) {
		if (!cli_parse_size(argv[2], &size) || !size)
			return cli_error(
			    c, "owner: size '%s': give a byte count like 4096, 0x2000 or 2M",
			    argv[2]);
		if (size > OWNER_MAX_SIZE)
			return cli_error(c, "owner: size '%s' is too large (at most 64G)", argv[2]);
	}
	if (pa >= PA_LIMIT || size > PA_LIMIT - pa)
		return cli_error(c, "owner: '%s'%s%s is beyond the %d-bit physical address space",
				 argv[1], argc > 2 ? " + " : "", argc > 2 ? argv[2] : "",
				 HS_PA_BITS);
	struct hs_strbuf sb;
	struct hs_error err = {0};
	hs_sb_init(&sb);
	int rc = hs_owner_describe(c->m, pa, size, c->json, &sb, &err);
	if (!rc && !c->json)
		cli_blame_owner(c, pa, &sb);
	if (!rc)
		cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	if (rc)
		return cli_error(c, "owner %s: %s", argv[1], err.msg);
	return 0;
}

int cmd_map(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct hs_owner_map map = {0};
	struct hs_error err = {0};
	if (hs_owner_map_build(c->m, &map, &err))
		return cli_error(c, "map: %s", err.msg);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_owner_map_json(&map, &sb);
	else
		hs_owner_map_text(&map, &sb);
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	hs_owner_map_free(&map);
	return 0;
}

/* ---- diff ------------------------------------------------------------------------ */

/* Diff from the mark to now into d (caller frees). */
static int diff_since_mark(struct cli *c, struct hs_diff *d, char *err, size_t len)
{
	if (!c->have_mark) {
		snprintf(err, len, "no mark: run `diff mark` first");
		return -1;
	}
	struct hs_snapshot now;
	struct hs_error e = {0};
	hs_snapshot_init(&now);
	int rc = hs_snapshot_take(c->m, 0, &now, &e);
	if (rc)
		snprintf(err, len, "cannot take a snapshot: %s", e.msg);
	else if ((rc = hs_snapshot_diff(&c->mark, &now, d)))
		snprintf(err, len, "out of memory");
	hs_snapshot_free(&now);
	return rc ? -1 : 0;
}

struct pa_span {
	uint64_t a, b;
};

static int span_cmp(const void *x, const void *y)
{
	const struct pa_span *p = x, *q = y;
	return p->a < q->a ? -1 : p->a > q->a;
}

/* Distinct physical pages the records touch (vmemmap refcount-only records left out). */
static uint64_t distinct_pages(const struct hs_diff *d)
{
	struct pa_span *v = calloc(d->nr ? d->nr : 1, sizeof(*v));
	size_t n = 0;
	if (!v)
		return 0;
	for (size_t i = 0; i < d->nr; i++) {
		const struct hs_diff_rec *r = &d->recs[i];
		uint64_t len = r->end - r->start;
		if (r->table == HS_SNAP_VMEMMAP) {
			if (!(r->changes & ~(unsigned)HS_CHG_REFCOUNT))
				continue;
			v[n++] = (struct pa_span){r->start, r->end};
		} else if (r->table == HS_SNAP_HOST_S2) {
			v[n++] = (struct pa_span){r->start, r->end}; /* the host's IPA is its PA */
		} else if (r->new_pt.kind == HS_SNAP_LEAF) {
			v[n++] = (struct pa_span){r->new_pt.oa, r->new_pt.oa + len};
		} else if (r->old_pt.kind == HS_SNAP_LEAF) {
			v[n++] = (struct pa_span){r->old_pt.oa, r->old_pt.oa + len};
		}
	}
	qsort(v, n, sizeof(*v), span_cmp);
	uint64_t pages = 0, hi = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = v[i].a >> HS_PAGE_SHIFT;
		uint64_t b = (v[i].b + HS_PAGE_SIZE - 1) >> HS_PAGE_SHIFT;
		if (a < hi)
			a = hi;
		if (b > a) {
			pages += b - a;
			hi = b;
		}
	}
	free(v);
	return pages;
}

int cli_mm_diff_pages(struct cli *c, int table, uint64_t *pages, char *err, size_t len)
{
	struct hs_diff d;
	hs_diff_init(&d);
	int rc = diff_since_mark(c, &d, err, len);
	if (!rc)
		*pages = table < 0 ? distinct_pages(&d)
				   : hs_diff_pages(&d, (enum hs_snap_table)table, ~0u);
	hs_diff_free(&d);
	return rc;
}

int cmd_diff(struct cli *c, int argc, char **argv)
{
	struct hs_error e = {0};
	if (argc > 1 && strcmp(argv[1], "mark"))
		return cli_error(c, "diff: unknown argument '%s'; usage: diff [mark] [--json]",
				 argv[1]);
	if (argc > 1) {
		if (hs_snapshot_take(c->m, 0, &c->mark, &e)) {
			c->have_mark = false;
			return cli_error(c, "diff mark: %s", e.msg);
		}
		c->have_mark = true;
		if (c->json)
			printf("{\"mark\":true,\"icount\":%" PRIu64 "}\n", c->mark.icount);
		else
			printf("mark taken (instruction count %" PRIu64
			       "); `diff` shows what changes from here\n",
			       c->mark.icount);
		return 0;
	}
	struct hs_diff d;
	char err[256];
	hs_diff_init(&d);
	if (diff_since_mark(c, &d, err, sizeof(err))) {
		hs_diff_free(&d);
		return cli_error(c, "diff: %s", err);
	}
	uint64_t per[HS_SNAP_NR_TABLES], total = distinct_pages(&d);
	for (int t = 0; t < HS_SNAP_NR_TABLES; t++)
		per[t] = hs_diff_pages(&d, (enum hs_snap_table)t, ~0u);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json) {
		hs_sb_printf(&sb,
			     "{\"since_icount\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"tables\":{",
			     c->mark.icount, total);
		for (int t = 0; t < HS_SNAP_NR_TABLES; t++)
			hs_sb_printf(&sb, "%s\"%s\":%" PRIu64, t ? "," : "",
				     hs_snap_table_name((enum hs_snap_table)t), per[t]);
		hs_sb_puts(&sb, "},\"changes\":");
		hs_diff_json(&sb, &d);
		hs_sb_puts(&sb, "}");
	} else {
		hs_sb_printf(&sb, "since the mark (instruction count %" PRIu64 "):\n",
			     c->mark.icount);
		hs_diff_text(&sb, &d);
		hs_sb_printf(&sb, "%" PRIu64 " page%s changed (", total, total == 1 ? "" : "s");
		for (int t = 0; t < HS_SNAP_NR_TABLES; t++)
			hs_sb_printf(&sb, "%s%s %" PRIu64, t ? ", " : "",
				     hs_snap_table_name((enum hs_snap_table)t), per[t]);
		hs_sb_puts(&sb, ")\n");
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	hs_diff_free(&d);
	return 0;
}

/* ---- check ----------------------------------------------------------------------- */

int cmd_check(struct cli *c, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "tlb"))
		return cmd_check_tlb(c);
	if (argc > 1)
		return cli_error(c, "check: unknown argument '%s'; usage: check [tlb] [--json]",
				 argv[1]);
	const struct hs_profile *prof = hs_profile_of(c->m);
	if (!prof->checker)
		return cli_error(
		    c,
		    "check: the checker's rules are written for the bundled hypervisor; "
		    "profile %s has none yet (docs/linux-pkvm.md)",
		    prof->name);
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	int n = hs_check(c->m, &rep);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json) {
		hs_check_json(&rep, &sb);
	} else {
		if (rep.total)
			hs_sb_puts(&sb, cli_col(c, COL_RED));
		hs_check_text(&rep, &sb);
		if (rep.total)
			hs_sb_puts(&sb, cli_col(c, COL_RESET));
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	size_t total = rep.total;
	hs_check_report_free(&rep);
	if (n < 0)
		return cli_error(c, "check: the state could not be read (see check-error above)");
	if (total)
		return cli_error(c, "check: %zu violation%s", total, total == 1 ? "" : "s");
	return 0;
}

/* ---- trace ----------------------------------------------------------------------- */

#define TRACE_DIFF_LINES 12 /* diff lines shown under one call */

static void trace_entry_text(struct cli *c, const struct hs_trace_entry *e, struct hs_strbuf *sb)
{
	hs_sb_printf(sb, "#%-3u cpu%u  @%-10" PRIu64 " %s%s%s(", e->seq, e->cpu, e->icount_enter,
		     cli_col(c, COL_BOLD), e->name ? e->name : "?", cli_col(c, COL_RESET));
	for (unsigned k = 0; k < e->nargs && k < 6; k++)
		hs_sb_printf(sb, "%s%#" PRIx64, k ? ", " : "", e->args[k]);
	if (!e->completed) {
		hs_sb_puts(sb, ")  ... (in progress)\n");
		return;
	}
	const char *en = e->x1 < 0 ? cli_errno_name(e->x1) : NULL;
	char x1[64];
	if (en)
		snprintf(x1, sizeof(x1), "%" PRId64 " (-%s)", e->x1, en);
	else if (e->x1 > 4096)
		snprintf(x1, sizeof(x1), "%#" PRIx64, (uint64_t)e->x1);
	else
		snprintf(x1, sizeof(x1), "%" PRId64, e->x1);
	hs_sb_printf(sb, ") = x0 %" PRId64 "%s, x1 %s  [%" PRIu64 " insns]\n", e->x0,
		     e->x0 == HS_SMCCC_NOT_SUPPORTED ? " (NOT_SUPPORTED)" : "", x1, e->insns);
	if (!e->has_diff || !e->diff.nr)
		return;
	struct hs_strbuf d;
	hs_sb_init(&d);
	hs_diff_text(&d, &e->diff);
	const char *p = hs_sb_str(&d);
	size_t lines = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (lines++ == TRACE_DIFF_LINES) {
			hs_sb_printf(
			    sb, "       %s... %zu more change%s (`trace --json` has them all)%s\n",
			    cli_col(c, COL_DIM), e->diff.nr - TRACE_DIFF_LINES,
			    e->diff.nr - TRACE_DIFF_LINES == 1 ? "" : "s", cli_col(c, COL_RESET));
			break;
		}
		hs_sb_printf(sb, "       %s%.*s%s\n", cli_col(c, COL_DIM), (int)len, p,
			     cli_col(c, COL_RESET));
		p += len + (nl ? 1 : 0);
	}
	hs_sb_free(&d);
}

static void dbg_write_text(struct cli *c, const struct cli_dbg_write *w, struct hs_strbuf *sb)
{
	if (*w->reg)
		hs_sb_printf(sb,
			     "%s   debugger write cpu%u icount %" PRIu64 ": $%s %#" PRIx64
			     " -> %#" PRIx64 "%s\n",
			     cli_col(c, COL_YELLOW), w->cpu, w->icount, w->reg, w->old, w->value,
			     cli_col(c, COL_RESET));
	else
		hs_sb_printf(sb,
			     "%s   debugger write cpu%u icount %" PRIu64 ": pa %#" PRIx64
			     " (%u bytes) %#" PRIx64 " -> %#" PRIx64 "%s\n",
			     cli_col(c, COL_YELLOW), w->cpu, w->icount, w->pa, w->len, w->old,
			     w->value, cli_col(c, COL_RESET));
}

/* `trace limit [N]`: how many hypercalls the trace keeps (the oldest are dropped). */
static int trace_limit(struct cli *c, int argc, char **argv)
{
	if (!c->itrace)
		return cli_error(c, "trace limit: no machine, so no trace");
	if (argc > 2) {
		int64_t n;
		struct hs_error err = {0};
		if (!cli_parse_num(argv[2], &n) || n < 1)
			return cli_error(c, "trace limit: '%s' is not a count of 1 or more",
					 argv[2]);
		if (hs_trace_set_limit(c->itrace, (size_t)n, &err))
			return cli_error(c, "trace limit: %s", err.msg);
	}
	if (c->json)
		printf("{\"limit\":%zu,\"dropped\":%zu}\n", hs_trace_limit(c->itrace),
		       hs_trace_first(c->itrace));
	else
		printf("the trace keeps at most %zu hypercalls (%zu dropped so far)\n",
		       hs_trace_limit(c->itrace), hs_trace_first(c->itrace));
	return 0;
}

int cmd_trace(struct cli *c, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "limit"))
		return trace_limit(c, argc, argv);
	if (argc > 1 && (strcmp(argv[1], "clear") || argc > 2))
		return cli_error(c,
				 "trace: unknown argument '%s'; usage: trace [clear | limit [N]] "
				 "[--json]",
				 argv[argc - 1]);
	if (argc > 1) {
		if (c->itrace)
			hs_trace_clear(c->itrace);
		if (c->recorder)
			hs_viz_recorder_clear(c->recorder);
		c->ntrace = 0;
		c->ndbgw = 0;
		cli_session_lists_forget(c);
		if (c->json)
			printf("{\"cleared\":true}\n");
		else
			printf("trace cleared\n");
		return 0;
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	size_t n = c->itrace ? hs_trace_count(c->itrace) : 0;
	if (c->json) {
		if (c->itrace)
			hs_trace_json(c->itrace, &sb);
		else
			hs_sb_puts(&sb, "[]");
	} else if (!n) {
		hs_sb_puts(&sb, "(no hypercalls yet)\n");
	}
	/* Debugger writes go between the hypercalls, by instruction count. */
	size_t w = 0, first = c->itrace ? hs_trace_first(c->itrace) : 0;
	if (!c->json && c->itrace)
		hs_trace_note(c->itrace, &sb);
	for (size_t i = first; !c->json && i <= n; i++) {
		const struct hs_trace_entry *e = i < n ? hs_trace_get(c->itrace, i) : NULL;
		for (; w < c->ndbgw && (!e || c->dbgw[w].icount <= e->icount_enter); w++)
			dbg_write_text(c, &c->dbgw[w], &sb);
		if (e) {
			trace_entry_text(c, e, &sb);
			cli_tlb_trace(c, e, &sb);
		}
	}
	const char *msg = NULL;
	if (!c->json && c->itrace && hs_trace_last_error(c->itrace, &msg) && msg)
		hs_sb_printf(&sb, "note: some diffs are missing: %s\n", msg);
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

/* ---- set ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	size_t off;
	const char *what;
} settings[] = {
    {"diff-on-stop", offsetof(struct cli, diff_on_stop),
     "show the table diff after stepi, continue, hvc, host and boot"},
    {"check-after-hvc", offsetof(struct cli, check_after_hvc),
     "run the invariant checker after every hypercall (once booted); fail on violations"},
    {"pagination", offsetof(struct cli, pagination),
     "page output longer than the terminal at the prompt (--Type <RET> for more--)"},
};

int cmd_set(struct cli *c, int argc, char **argv)
{
	size_t ns = sizeof(settings) / sizeof(settings[0]);
	if (argc == 1) {
		for (size_t i = 0; i < ns; i++) {
			bool v = *(bool *)((char *)c + settings[i].off);
			if (c->json)
				printf("%s\"%s\":%s", i ? "," : "{", settings[i].name,
				       v ? "true" : "false");
			else
				printf("%-16s %-3s  %s\n", settings[i].name, v ? "on" : "off",
				       settings[i].what);
		}
		static const char *const modes[] = {"off", "on", "log"};
		if (c->json)
			printf(",\"check-tlb\":\"%s\"}\n", modes[c->check_tlb]);
		else
			printf("%-16s %-3s  %s\n", "check-tlb", modes[c->check_tlb],
			       "check TLB maintenance live (on: stop at a violation; log: record)");
		return 0;
	}
	if (!strcmp(argv[1], "check-tlb")) {
		if (argc < 3)
			return cli_error(c, "set check-tlb: give on, log or off");
		return cli_tlb_set(c, argv[2]);
	}
	/* set var EXPR = V, set $x0 = V, set {u64} pa:ADDR = V: gdb's assignments. */
	bool var = !strcmp(argv[1], "var") || !strcmp(argv[1], "variable");
	if (var || argv[1][0] == '$' || argv[1][0] == '{' ||
	    strchr(c->cur_line ? c->cur_line : "", '=')) {
		int first = var ? 2 : 1;
		if (first >= argc)
			return cli_error(c,
					 "set var: give an assignment, e.g. set var $x0 = 0x1000");
		char text[2048];
		cli_raw_args(c, argc, argv, first, text, sizeof(text));
		if (!strchr(text, '='))
			return cli_error(c, "set: '%s' is not an assignment (EXPR = VALUE)", text);
		struct cli_value v;
		return cli_expr_eval_line(c, text, c->arg_cols ? c->arg_cols[first] : 0, &v);
	}
	size_t i;
	for (i = 0; i < ns; i++)
		if (!strcmp(argv[1], settings[i].name))
			break;
	if (i == ns)
		return cli_error(c,
				 "set: unknown setting '%s' (diff-on-stop, check-after-hvc, "
				 "pagination, check-tlb)",
				 argv[1]);
	if (argc < 3)
		return cli_error(c, "set %s: give on or off", argv[1]);
	bool v;
	if (!strcmp(argv[2], "on") || !strcmp(argv[2], "1") || !strcmp(argv[2], "true"))
		v = true;
	else if (!strcmp(argv[2], "off") || !strcmp(argv[2], "0") || !strcmp(argv[2], "false"))
		v = false;
	else
		return cli_error(c, "set %s: '%s': give on or off", argv[1], argv[2]);
	*(bool *)((char *)c + settings[i].off) = v;
	if (!c->json)
		printf("%s is %s\n", settings[i].name, v ? "on" : "off");
	return 0;
}

/* ---- render / viz ---------------------------------------------------------------- */

static void headless_if_no_display(void)
{
	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY") && !getenv("SDL_VIDEODRIVER"))
		setenv("SDL_VIDEODRIVER", "dummy", 1);
}

static const char *const view_names[] = {"tree", "map", "timeline"};

static int parse_view(struct cli *c, const char *cmd, const char *s, enum hs_viz_view *v)
{
	for (int i = 0; i < HS_VIZ_VIEW_COUNT; i++) {
		if (!strcmp(s, view_names[i])) {
			*v = (enum hs_viz_view)i;
			return 0;
		}
	}
	return cli_error(c, "%s: unknown view '%s' (tree, map or timeline)", cmd, s);
}

int cmd_render(struct cli *c, int argc, char **argv)
{
	struct hs_viz_opts o;
	hs_viz_opts_default(&o);
	o.view = HS_VIZ_VIEW_MAP;
	const char *out = NULL, *addr = NULL, *table = "hyp";
	int64_t call = -1; /* none selected */
	for (int i = 1; i < argc; i++) {
		char opt[32];
		const char *a = argv[i], *val = NULL;
		const char *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
		if (eq && (size_t)(eq - a) < sizeof(opt)) {
			snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a), a);
			a = opt;
			val = eq + 1;
		}
		bool known = !strcmp(a, "--view") || !strcmp(a, "--table") ||
			     !strcmp(a, "--addr") || !strcmp(a, "--cpu") || !strcmp(a, "--call") ||
			     !strcmp(a, "--size") || !strcmp(a, "-o") || !strcmp(a, "--output");
		if (!known)
			return cli_error(
			    c, "render: unexpected argument '%s'; usage: %s", argv[i],
			    "render --view tree|map|timeline [--table hyp|host] "
			    "[--addr A] [--cpu N] [--call N] [--size WxH] -o FILE.png");
		if (!val) {
			if (i + 1 >= argc)
				return cli_error(c, "render: %s needs a value", a);
			val = argv[++i];
		}
		if (!strcmp(a, "--view")) {
			if (parse_view(c, "render", val, &o.view))
				return -1;
		} else if (!strcmp(a, "--table")) {
			if (strcmp(val, "hyp") && strcmp(val, "host"))
				return cli_error(c, "render: unknown table '%s' (hyp or host)",
						 val);
			table = val;
		} else if (!strcmp(a, "--addr")) {
			addr = val;
		} else if (!strcmp(a, "--cpu")) {
			int64_t v;
			if (!cli_parse_num(val, &v) || v < 0 || v >= (int64_t)hs_nr_cpus(c->m))
				return cli_error(c, "render: --cpu '%s': give 0 to %u", val,
						 hs_nr_cpus(c->m) - 1);
			o.cpu = (unsigned)v;
		} else if (!strcmp(a, "--call")) {
			if (!cli_parse_num(val, &call) || call < 0)
				return cli_error(c,
						 "render: --call '%s': give a call number (#0, #1, "
						 "... as `trace` numbers them)",
						 val);
		} else if (!strcmp(a, "--size")) {
			unsigned w, h;
			char tail;
			if (sscanf(val, "%ux%u%c", &w, &h, &tail) != 2 || w < 320 || h < 200 ||
			    w > 8192 || h > 8192)
				return cli_error(c,
						 "render: --size '%s': give WxH, 320x200 to "
						 "8192x8192",
						 val);
			o.width = (int)w;
			o.height = (int)h;
		} else {
			out = val;
		}
	}
	if (!out)
		return cli_error(c, "render: no output file: give -o FILE.png");
	o.table = !strcmp(table, "host") ? HS_VIZ_TABLE_HOST_S2 : HS_VIZ_TABLE_HYP_S1;
	if (addr) {
		enum cli_space sp =
		    (o.view == HS_VIZ_VIEW_TREE && o.table == HS_VIZ_TABLE_HYP_S1) ? SP_VA : SP_PA;
		uint64_t a;
		if (cli_eval(c, addr, &sp, &a))
			return -1;
		if (o.view == HS_VIZ_VIEW_MAP) {
			o.has_hover = true;
			o.hover_pa = a;
		} else {
			o.has_addr = true;
			o.addr = a;
		}
	}
	o.recorder = c->recorder;
	if (call >= 0) {
		size_t n = c->recorder ? hs_viz_recorder_count(c->recorder) : 0;
		if (!n)
			return cli_error(c, "render: --call %" PRId64 ": no hypercall recorded yet",
					 call);
		if ((uint64_t)call >= n)
			return cli_error(
			    c, "render: --call %" PRId64 ": %zu call%s recorded (#0 to #%zu)", call,
			    n, n == 1 ? "" : "s", n ? n - 1 : 0);
		o.selected_call = (int)call;
	}
	cli_tlb_viz_opts(c, &o);
	headless_if_no_display();
	struct hs_error err = {0};
	if (hs_viz_render(c->m, &o, out, &err))
		return cli_error(c, "render: %s", err.msg);
	/* the map's --addr: the class its page is painted with, in words */
	uint8_t k = HS_VIZ_C_NONE;
	uint64_t page = o.hover_pa & ~(uint64_t)(HS_PAGE_SIZE - 1);
	bool said =
	    o.view == HS_VIZ_VIEW_MAP && o.has_hover && !hs_viz_owner_scan(c->m, page, 1, &k, NULL);
	if (c->json && said)
		printf("{\"file\":\"%s\",\"view\":\"%s\",\"page\":\"%#" PRIx64
		       "\",\"class\":\"%s\"}\n",
		       out, view_names[o.view], page, hs_viz_class_name(k));
	else if (c->json)
		printf("{\"file\":\"%s\",\"view\":\"%s\"}\n", out, view_names[o.view]);
	else
		printf("wrote %s (%s view)\n", out, view_names[o.view]);
	if (!c->json && said)
		printf("  page %#" PRIx64 ": %s\n", page, hs_viz_class_name(k));
	return 0;
}

int cmd_viz(struct cli *c, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "close")) {
		if (!c->viz)
			return cli_error(c, "viz close: no window is open");
		hs_viz_live_close(c->viz);
		c->viz = NULL;
		printf("viz: window closed\n");
		return 0;
	}
	struct hs_viz_opts o;
	bool have_view = false;
	if (argc > 1) {
		const char *v = NULL;
		if (!strcmp(argv[1], "--view") && argc == 2)
			return cli_error(c, "viz: --view needs a view (tree, map or timeline)");
		if (!strcmp(argv[1], "--view") && argc == 3)
			v = argv[2];
		else if (!strncmp(argv[1], "--view=", 7) && argc == 2)
			v = argv[1] + 7;
		else
			return cli_error(c,
					 "viz: unexpected argument '%s'; usage: viz [--view "
					 "tree|map|timeline] | viz close",
					 argv[1]);
		enum hs_viz_view view = HS_VIZ_VIEW_MAP;
		if (parse_view(c, "viz", v, &view))
			return -1;
		have_view = true;
		if (c->viz)
			o = *hs_viz_get_opts(hs_viz_live_viz(c->viz));
		else
			hs_viz_opts_default(&o);
		o.view = view;
	}
	if (!c->viz) {
		struct hs_error err = {0};
		/* The session's recorder: every call since the machine was made, numbered as trace.
		 */
		c->viz = hs_viz_live_open(c->m, c->recorder, &err);
		if (!c->viz)
			return cli_error(
			    c, "viz: cannot open a window: %s (carrying on without it)", err.msg);
		printf("viz: window open — keys: s step, c continue, 1/2/3 tree/map/timeline, "
		       "+/- zoom, q close\n");
		if (have_view)
			o.recorder = hs_viz_get_opts(hs_viz_live_viz(c->viz))->recorder;
	}
	if (have_view) {
		cli_tlb_viz_opts(c, &o);
		hs_viz_live_redraw(c->viz, &o);
	} else {
		redraw_viz(c);
	}
	return 0;
}

/* ---- `hypscope render ...` ---------------------------------------------------------- */

int cli_render_main(struct cli *c, int argc, char **argv)
{
	/* argv: everything after `render`; a word ending in .hss is the scenario. */
	char **rargv = calloc((size_t)argc + 2, sizeof(*rargv));
	const char *scenario = NULL;
	int n = 0;
	if (!rargv)
		return 70;
	rargv[n++] = (char *)"render";
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);
		bool hss =
		    len > 4 && !strcmp(argv[i] + len - 4, ".hss") &&
		    !(i > 0 && (!strcmp(argv[i - 1], "-o") || !strcmp(argv[i - 1], "--output")));
		if (hss && !scenario)
			scenario = argv[i];
		else
			rargv[n++] = argv[i];
	}
	headless_if_no_display();
	int status = 0;
	if (scenario) {
		int nfail = 0;
		c->live = false;
		cli_source_file(c, scenario, &nfail, NULL);
		if (nfail) {
			fprintf(stderr, "hypscope: render: %s had %d failure%s; rendering anyway\n",
				scenario, nfail, nfail == 1 ? "" : "s");
			status = 1;
		}
	} else {
		struct hs_stop s = {0};
		struct hs_error err = {0};
		c->live = false;
		if (hs_profile_of(c->m)->boot(c->m, NULL, &s, &err)) {
			fprintf(stderr, "hypscope: render: boot failed: %s\n", err.msg);
			free(rargv);
			return 1;
		}
		if (s.reason != HS_STOP_DONE && s.reason != HS_STOP_IDLE) {
			fprintf(stderr, "hypscope: render: boot stopped (%s)\n",
				hs_stop_reason_name(s.reason));
			status = 1;
		}
	}
	if (cmd_render(c, n, rargv))
		status = status ? status : 1;
	free(rargv);
	return status;
}
