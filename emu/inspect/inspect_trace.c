/* SPDX-License-Identifier: MIT */
#include "inspect_trace.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "append_snap.h"
#include "checkpoint.h"
#include "host.h"
#include "inspect_check_incr.h"

struct hs_trace {
	struct hs_machine *m;
	unsigned flags;
	struct hs_trace_entry *e; /* entries base .. base + nr - 1 */
	size_t nr, cap;
	size_t base;		/* entries dropped from the front (the bound) */
	size_t limit;		/* entries kept at most */
	long open[HS_MAX_CPUS]; /* entry index of the call in flight per CPU, -1 none */
	struct hs_snapshot before[HS_MAX_CPUS], after;
	struct hs_snap_live *live; /* HS_TRACE_F_DIFF: the snapshots, at the cost of what changed */
	struct hs_check_incr *check; /* HS_TRACE_F_CHECK: re-checks what each call changed */
	struct hs_check_report rep;
	int err;
	struct hs_error errmsg;
	struct hs_append_track snaps; /* checkpoints share the entries they have in common */
};

static const struct hs_append_ops entry_ops;

/* The checker after the call: the same report as hs_check(), at the cost of what changed. */
static void record_check(struct hs_trace *t, struct hs_trace_entry *e)
{
	int n = hs_check_incr(t->check, &t->rep);
	e->checked = n >= 0; /* < 0: not booted yet, nothing to check */
	e->nr_violations = n > 0 ? (size_t)n : 0;
	size_t k = t->rep.nr < HS_TRACE_MAX_VIOLATIONS ? t->rep.nr : HS_TRACE_MAX_VIOLATIONS;
	if (!e->checked || !k)
		return;
	e->violations = malloc(k * sizeof(*e->violations));
	if (e->violations) {
		memcpy(e->violations, t->rep.v, k * sizeof(*e->violations));
		e->nr_stored = k;
	}
}

static void entry_free(struct hs_trace_entry *e)
{
	hs_diff_free(&e->diff);
	free(e->violations);
}

/*
 * The bound: forget the n oldest entries (a few at a time, so that a long
 * run moves the array only every limit/8 calls). A call still in flight
 * that is dropped is no longer followed.
 */
static void drop_oldest(struct hs_trace *t, size_t n)
{
	if (n > t->nr)
		n = t->nr;
	for (size_t i = 0; i < n; i++)
		entry_free(&t->e[i]);
	memmove(t->e, t->e + n, (t->nr - n) * sizeof(*t->e));
	t->nr -= n;
	t->base += n;
	for (unsigned c = 0; c < HS_MAX_CPUS; c++)
		if (t->open[c] >= 0 && (size_t)t->open[c] < t->base)
			t->open[c] = -1;
}

static void on_event(const struct hs_event *ev, void *ud)
{
	struct hs_trace *t = ud;
	if (ev->type != HS_EV_HVC_ENTER && ev->type != HS_EV_HVC_EXIT)
		return;
	unsigned cpu = ev->cpu < HS_MAX_CPUS ? ev->cpu : 0;
	if (ev->type == HS_EV_HVC_ENTER) {
		if (t->nr >= t->limit)
			drop_oldest(t, t->nr - t->limit + 1 + t->limit / 8);
		if (t->nr == t->cap) {
			size_t n = t->cap ? t->cap * 2 : 64;
			void *p = realloc(t->e, n * sizeof(*t->e));
			if (!p) {
				t->err = -ENOMEM;
				return;
			}
			t->e = p;
			t->cap = n;
		}
		struct hs_trace_entry *e = &t->e[t->nr];
		memset(e, 0, sizeof(*e));
		e->seq = (unsigned)(t->base + t->nr);
		e->cpu = ev->cpu;
		e->fn = ev->hvc.fn;
		e->nr = ev->hvc.nr;
		e->name = ev->hvc.name ? ev->hvc.name : "unknown";
		memcpy(e->args, ev->hvc.args, sizeof(e->args));
		int nargs = hs_machine_hypercall_nargs(t->m, e->fn);
		e->nargs = nargs >= 0 ? (unsigned)nargs : 6;
		if (e->nargs > 6)
			e->nargs = 6;
		e->icount_enter = ev->icount;
		hs_diff_init(&e->diff);
		t->open[cpu] = (long)(t->base + t->nr++);
		if (t->flags & HS_TRACE_F_DIFF) {
			struct hs_error err = {0};
			int rc = hs_snap_live_take(t->live, &t->before[cpu], &err);
			e->has_diff = rc == 0;
			if (rc) {
				t->err = rc;
				t->errmsg = err;
			}
		}
		return;
	}
	/* exit */
	long idx = t->open[cpu];
	struct hs_trace_entry *e;
	if (idx < 0) {
		return; /* started recording in the middle of this call */
	}
	t->open[cpu] = -1;
	hs_append_dirty(&t->snaps, (size_t)idx);
	e = &t->e[(size_t)idx - t->base];
	e->completed = true;
	e->x0 = ev->hvc.x0;
	e->x1 = ev->hvc.x1;
	e->insns = ev->hvc.insns;
	if (e->has_diff) {
		struct hs_error err = {0};
		int rc = hs_snap_live_take(t->live, &t->after, &err);
		if (rc) {
			t->err = rc;
			t->errmsg = err;
			e->has_diff = false;
		} else if (hs_snapshot_diff(&t->before[cpu], &t->after, &e->diff)) {
			t->err = -ENOMEM;
		}
	}
	if (t->check)
		record_check(t, e);
}

int hs_trace_start(struct hs_machine *m, unsigned flags, struct hs_trace **out,
		   struct hs_error *err)
{
	struct hs_trace *t = calloc(1, sizeof(*t));
	if (!t)
		return hs_err(err, -ENOMEM, "trace: out of memory");
	t->m = m;
	t->flags = flags;
	t->snaps.ops = &entry_ops;
	t->limit = HS_TRACE_DEFAULT_LIMIT;
	for (unsigned i = 0; i < HS_MAX_CPUS; i++) {
		t->open[i] = -1;
		hs_snapshot_init(&t->before[i]);
	}
	hs_snapshot_init(&t->after);
	hs_check_report_init(&t->rep);
	int rc = 0;
	if (flags & HS_TRACE_F_DIFF)
		rc = hs_snap_live_new(m, &t->live, err);
	if (!rc && (flags & HS_TRACE_F_CHECK))
		rc = hs_check_incr_new(m, &t->check, err);
	if (!rc && (rc = hs_machine_subscribe(m, on_event, t)))
		hs_err(err, rc, "trace: cannot subscribe to machine events");
	if (rc) {
		hs_check_incr_free(t->check);
		hs_snap_live_free(t->live);
		free(t);
		return rc;
	}
	if (!hs_machine_is_dump(m) && (rc = hs_trace_checkpoint_add(t, err))) {
		hs_trace_stop(t);
		return rc;
	}
	*out = t;
	return 0;
}

static void drop_entries(struct hs_trace *t)
{
	for (size_t i = 0; i < t->nr; i++)
		entry_free(&t->e[i]);
	t->nr = t->base = 0;
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		t->open[i] = -1;
}

void hs_trace_clear(struct hs_trace *t)
{
	drop_entries(t);
	hs_append_forget(&t->snaps);
}

void hs_trace_stop(struct hs_trace *t)
{
	if (!t)
		return;
	hs_machine_unsubscribe(t->m, on_event, t);
	hs_trace_checkpoint_remove(t);
	hs_trace_clear(t);
	free(t->e);
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		hs_snapshot_free(&t->before[i]);
	hs_snapshot_free(&t->after);
	hs_check_incr_free(t->check);
	hs_snap_live_free(t->live);
	hs_check_report_free(&t->rep);
	free(t);
}

size_t hs_trace_count(const struct hs_trace *t)
{
	return t->base + t->nr;
}

size_t hs_trace_first(const struct hs_trace *t)
{
	return t->base;
}

const struct hs_trace_entry *hs_trace_get(const struct hs_trace *t, size_t i)
{
	return i >= t->base && i - t->base < t->nr ? &t->e[i - t->base] : NULL;
}

int hs_trace_set_limit(struct hs_trace *t, size_t limit, struct hs_error *err)
{
	if (limit < 1 || limit > HS_TRACE_MAX_LIMIT)
		return hs_err(err, -EINVAL, "a trace keeps 1 to %u hypercalls (got %zu)",
			      HS_TRACE_MAX_LIMIT, limit);
	t->limit = limit;
	if (t->nr > limit)
		drop_oldest(t, t->nr - limit);
	return 0;
}

size_t hs_trace_limit(const struct hs_trace *t)
{
	return t->limit;
}

/* The note before the entries when the bound dropped some. */
static void truncated_note(const struct hs_trace *t, struct hs_strbuf *sb)
{
	if (t->base)
		hs_sb_printf(sb,
			     "(trace truncated: %zu earlier hypercall%s dropped; the trace keeps "
			     "at most the last %zu, `trace limit N` changes it)\n",
			     t->base, t->base == 1 ? "" : "s", t->limit);
}

void hs_trace_note(const struct hs_trace *t, struct hs_strbuf *sb)
{
	truncated_note(t, sb);
}

void hs_trace_snapshot_stats(const struct hs_trace *t, struct hs_snap_live_stats *st)
{
	if (t->live)
		hs_snap_live_stats(t->live, st);
	else
		memset(st, 0, sizeof(*st));
}

int hs_trace_last_error(const struct hs_trace *t, const char **msg)
{
	if (msg)
		*msg = t->errmsg.msg;
	return t->err;
}

void hs_trace_entry_text(const struct hs_trace_entry *e, struct hs_strbuf *sb)
{
	hs_sb_printf(sb, "#%u cpu%u %s(", e->seq, e->cpu, e->name);
	for (unsigned i = 0; i < e->nargs; i++)
		hs_sb_printf(sb, "%s%#" PRIx64, i ? ", " : "", e->args[i]);
	if (e->completed)
		hs_sb_printf(sb, ") = x0 %" PRId64 " x1 %" PRId64 " [%" PRIu64 " insns]\n", e->x0,
			     e->x1, e->insns);
	else
		hs_sb_puts(sb, ") ... (in flight)\n");
	if (e->has_diff && e->completed) {
		if (!e->diff.nr) {
			hs_sb_puts(sb, "    no table change\n");
		} else {
			struct hs_strbuf d;
			hs_sb_init(&d);
			hs_diff_text(&d, &e->diff);
			const char *p = hs_sb_str(&d);
			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t len = nl ? (size_t)(nl - p) : strlen(p);
				hs_sb_printf(sb, "    %.*s\n", (int)len, p);
				p += len + (nl ? 1 : 0);
			}
			hs_sb_free(&d);
		}
	}
	if (e->checked) {
		if (!e->nr_violations)
			hs_sb_puts(sb, "    check: clean\n");
		else
			hs_sb_printf(sb, "    check: %zu violation(s)\n", e->nr_violations);
		for (size_t i = 0; i < e->nr_stored; i++)
			hs_sb_printf(sb, "      %s PA %#" PRIx64 ": %s\n", e->violations[i].rule,
				     e->violations[i].pa, e->violations[i].msg);
	}
}

void hs_trace_entry_json(const struct hs_trace_entry *e, struct hs_strbuf *sb)
{
	hs_sb_printf(sb, "{\"seq\":%u,\"cpu\":%u,\"name\":", e->seq, e->cpu);
	hs_sb_json_str(sb, e->name);
	hs_sb_printf(sb, ",\"nr\":%d,\"fn\":\"0x%" PRIx64 "\",\"args\":[", e->nr, e->fn);
	for (unsigned i = 0; i < e->nargs; i++)
		hs_sb_printf(sb, "%s\"0x%" PRIx64 "\"", i ? "," : "", e->args[i]);
	/* x0/x1 as 64-bit hex like every register value (a negative errno is 0xfff...). */
	hs_sb_printf(sb,
		     "],\"completed\":%s,\"x0\":\"0x%" PRIx64 "\",\"x1\":\"0x%" PRIx64
		     "\",\"insns\":%" PRIu64 ",\"icount\":%" PRIu64,
		     e->completed ? "true" : "false", (uint64_t)e->x0, (uint64_t)e->x1, e->insns,
		     e->icount_enter);
	if (e->has_diff && e->completed) {
		hs_sb_puts(sb, ",\"diff\":");
		hs_diff_json(sb, &e->diff);
	}
	if (e->checked) {
		hs_sb_printf(sb, ",\"violations\":%zu,\"violation_list\":[", e->nr_violations);
		for (size_t i = 0; i < e->nr_stored; i++) {
			hs_sb_printf(sb, "%s{\"rule\":\"%s\",\"pa\":\"%#" PRIx64 "\",\"message\":",
				     i ? "," : "", e->violations[i].rule, e->violations[i].pa);
			hs_sb_json_str(sb, e->violations[i].msg);
			hs_sb_putc(sb, '}');
		}
		hs_sb_putc(sb, ']');
	}
	hs_sb_putc(sb, '}');
}

void hs_trace_text(const struct hs_trace *t, struct hs_strbuf *sb)
{
	truncated_note(t, sb);
	for (size_t i = 0; i < t->nr; i++)
		hs_trace_entry_text(&t->e[i], sb);
	hs_sb_printf(sb, "%zu hypercall%s\n", t->nr, t->nr == 1 ? "" : "s");
}

void hs_trace_json(const struct hs_trace *t, struct hs_strbuf *sb)
{
	hs_sb_putc(sb, '[');
	for (size_t i = 0; i < t->nr; i++) {
		if (i)
			hs_sb_putc(sb, ',');
		hs_trace_entry_json(&t->e[i], sb);
	}
	hs_sb_putc(sb, ']');
}

/* ---- checkpoints: the entries as they were (checkpoint.h) ----------------- */

struct trace_state {
	struct hs_append_snap *entries;
	long open[HS_MAX_CPUS];
};

static bool copy_entry(struct hs_trace_entry *to, const struct hs_trace_entry *from)
{
	*to = *from;
	hs_diff_init(&to->diff);
	to->violations = NULL;
	if (from->diff.nr) {
		to->diff.recs = malloc(from->diff.nr * sizeof(*to->diff.recs));
		if (!to->diff.recs)
			return false;
		memcpy(to->diff.recs, from->diff.recs, from->diff.nr * sizeof(*to->diff.recs));
		to->diff.nr = to->diff.cap = from->diff.nr;
		to->diff.changes = from->diff.changes;
		to->diff.swenc = from->diff.swenc;
	}
	if (from->nr_stored) {
		to->violations = malloc(from->nr_stored * sizeof(*to->violations));
		if (!to->violations)
			return false;
		memcpy(to->violations, from->violations, from->nr_stored * sizeof(*to->violations));
	}
	return true;
}

static void free_entries(struct hs_trace_entry *e, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		entry_free(&e[i]);
	free(e);
}

static bool entry_copy(void *to, const void *from)
{
	return copy_entry(to, from);
}

static void entry_release(void *e)
{
	entry_free(e);
}

static const struct hs_append_ops entry_ops = {
    .size = sizeof(struct hs_trace_entry), .copy = entry_copy, .free = entry_release};

static void *trace_save(void *ud, struct hs_error *err)
{
	struct hs_trace *t = ud;
	struct trace_state *s = malloc(sizeof(*s));
	if (s && !(s->entries = hs_append_take(&t->snaps, t->e, t->base, t->nr))) {
		free(s);
		s = NULL;
	}
	if (!s) {
		hs_err(err, -ENOMEM, "out of memory for the trace's checkpoint");
		return NULL;
	}
	memcpy(s->open, t->open, sizeof(s->open));
	return s;
}

static int trace_restore(void *ud, const void *state, struct hs_error *err)
{
	struct hs_trace *t = ud;
	const struct trace_state *s = state;
	size_t first, n;
	struct hs_trace_entry *e = hs_append_restore(&t->snaps, s->entries, &first, &n);
	if (!e)
		return hs_err(err, -ENOMEM, "out of memory restoring the trace");
	drop_entries(t);
	free(t->e);
	t->e = e;
	t->cap = n ? n : 1;
	t->nr = n;
	t->base = first;
	memcpy(t->open, s->open, sizeof(t->open));
	/* The tables a call in flight had at its entry are not kept: it ends without a diff. */
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		if (t->open[i] >= (long)t->base) {
			hs_append_dirty(&t->snaps, (size_t)t->open[i]);
			t->e[(size_t)t->open[i] - t->base].has_diff = false;
		}
	return 0;
}

static void trace_free(void *state)
{
	struct trace_state *s = state;
	hs_append_put(s->entries);
	free(s);
}

/*
 * Saved machines: every entry with its diff and stored violations, names as
 * strings; a call in flight is kept without the tables at its entry (it
 * ends without a diff, as after restoring a checkpoint).
 */
struct entry_file {
	uint32_t seq, cpu;
	uint64_t fn;
	int64_t nr;
	uint64_t args[6];
	uint32_t nargs, flags; /* 1 completed, 2 has_diff, 4 checked */
	int64_t x0, x1;
	uint64_t insns, icount_enter;
	uint64_t ndiff, diff_changes, nr_violations, nr_stored;
};
struct violation_file {
	char rule[48];
	struct hs_violation v; /* .rule is not used */
};

static int trace_encode(void *ud, struct hs_bytes *b, struct hs_error *err)
{
	(void)err;
	const struct hs_trace *t = ud;
	uint64_t head[2 + HS_MAX_CPUS] = {t->nr, HS_MAX_CPUS};
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		head[2 + i] = (uint64_t)t->open[i];
	hs_bytes_put(b, head, sizeof(head));
	for (size_t i = 0; i < t->nr; i++) {
		const struct hs_trace_entry *e = &t->e[i];
		bool in_flight = false;
		for (unsigned k = 0; k < HS_MAX_CPUS; k++)
			in_flight |= t->open[k] == (long)i;
		struct entry_file f = {.seq = e->seq,
				       .cpu = e->cpu,
				       .fn = e->fn,
				       .nr = e->nr,
				       .nargs = e->nargs,
				       .flags = (e->completed ? 1u : 0) |
						(e->has_diff && !in_flight ? 2u : 0) |
						(e->checked ? 4u : 0),
				       .x0 = e->x0,
				       .x1 = e->x1,
				       .insns = e->insns,
				       .icount_enter = e->icount_enter,
				       .ndiff = e->diff.nr,
				       .diff_changes = e->diff.changes,
				       .nr_violations = e->nr_violations,
				       .nr_stored = e->nr_stored};
		memcpy(f.args, e->args, sizeof(f.args));
		hs_bytes_put(b, &f, sizeof(f));
		hs_bytes_put(b, e->diff.recs, e->diff.nr * sizeof(*e->diff.recs));
		for (size_t k = 0; k < e->nr_stored; k++) {
			struct violation_file v = {.v = e->violations[k]};
			snprintf(v.rule, sizeof(v.rule), "%s", e->violations[k].rule);
			v.v.rule = NULL;
			hs_bytes_put(b, &v, sizeof(v));
		}
	}
	return 0;
}

static const char *rule_named(const char *id)
{
	for (const struct hs_check_rule *r = hs_check_rules; r->id; r++)
		if (!strcmp(r->id, id))
			return r->id;
	return NULL;
}

static bool decode_entry(struct hs_trace *t, struct hs_bytes_in *in, struct hs_trace_entry *e)
{
	struct entry_file f;
	hs_bytes_get(in, &f, sizeof(f));
	size_t left = in->len - in->off;
	if (in->short_read || f.nargs > 6 || f.ndiff > left / sizeof(*e->diff.recs) ||
	    f.nr_stored > HS_TRACE_MAX_VIOLATIONS || f.nr_stored > f.nr_violations)
		return false;
	const char *name = hs_machine_hypercall_name(t->m, f.fn);
	*e = (struct hs_trace_entry){.seq = f.seq,
				     .cpu = f.cpu < HS_MAX_CPUS ? f.cpu : 0,
				     .fn = f.fn,
				     .nr = (int)f.nr,
				     /* the host's names for calls outside the table */
				     .name = name	    ? name
					     : f.fn < 0x100 ? "stub"
							    : "unknown",
				     .nargs = f.nargs,
				     .x0 = f.x0,
				     .x1 = f.x1,
				     .insns = f.insns,
				     .icount_enter = f.icount_enter,
				     .completed = f.flags & 1,
				     .has_diff = f.flags & 2,
				     .checked = f.flags & 4,
				     .nr_violations = f.nr_violations};
	memcpy(e->args, f.args, sizeof(e->args));
	hs_diff_init(&e->diff);
	if (f.ndiff) {
		if (!(e->diff.recs = malloc(f.ndiff * sizeof(*e->diff.recs))))
			return false;
		hs_bytes_get(in, e->diff.recs, f.ndiff * sizeof(*e->diff.recs));
		e->diff.nr = e->diff.cap = f.ndiff;
		e->diff.changes = (unsigned)f.diff_changes;
		e->diff.swenc = hs_machine_swenc(t->m); /* names: the loading machine's */
	}
	if (f.nr_stored) {
		if (!(e->violations = calloc(f.nr_stored, sizeof(*e->violations))))
			return false;
		for (size_t k = 0; k < f.nr_stored; k++) {
			struct violation_file v;
			hs_bytes_get(in, &v, sizeof(v));
			v.rule[sizeof(v.rule) - 1] = 0;
			e->violations[k] = v.v;
			e->violations[k].msg[sizeof(v.v.msg) - 1] = 0;
			if (!(e->violations[k].rule = rule_named(v.rule)))
				return false;
		}
		e->nr_stored = f.nr_stored;
	}
	return !in->short_read;
}

static int trace_decode(void *ud, const uint8_t *p, size_t len, struct hs_error *err)
{
	struct hs_trace *t = ud;
	struct hs_bytes_in in = {.p = p, .len = len};
	uint64_t head[2 + HS_MAX_CPUS];
	hs_bytes_get(&in, head, sizeof(head));
	uint64_t n = head[0];
	if (in.short_read || head[1] != HS_MAX_CPUS || n > len / sizeof(struct entry_file))
		return hs_err(err, -EINVAL, "the trace's record is corrupt");
	struct hs_trace_entry *e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return hs_err(err, -ENOMEM, "out of memory loading the trace");
	size_t done = 0;
	bool ok = true;
	for (; done < n && ok; done++)
		ok = decode_entry(t, &in, &e[done]);
	for (unsigned i = 0; i < HS_MAX_CPUS && ok; i++)
		ok = (int64_t)head[2 + i] >= -1 && (int64_t)head[2 + i] < (int64_t)n;
	if (!ok || in.off != len) {
		free_entries(e, done);
		return hs_err(err, -EINVAL, "the trace's record is corrupt");
	}
	hs_trace_clear(t);
	free(t->e);
	t->e = e;
	t->nr = n;
	t->cap = n ? n : 1;
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		t->open[i] = (long)(int64_t)head[2 + i];
	return 0;
}

static const struct hs_ckpt_part trace_part = {
    .name = "trace",
    .save = trace_save,
    .restore = trace_restore,
    .free = trace_free,
    .encode = trace_encode,
    .decode = trace_decode,
};

int hs_trace_checkpoint_add(struct hs_trace *t, struct hs_error *err)
{
	return hs_checkpoint_add_part(t->m, &trace_part, t, err);
}

void hs_trace_checkpoint_remove(struct hs_trace *t)
{
	hs_checkpoint_remove_part(t->m, &trace_part, t);
}
