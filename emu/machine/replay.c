/* SPDX-License-Identifier: MIT */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_priv.h"
#include "debug.h"
#include "machine_priv.h"

struct rec_ckpt {
	unsigned id;
	uint64_t seq; /* of record's checkpoints: 0 for the history's start, then 1, 2, ... */
};

struct hs_record {
	bool replaying;	     /* a replay runs: record takes no checkpoints */
	uint64_t first;	     /* the count where recording started */
	uint64_t last_ckpt;  /* the count of record's last checkpoint */
	unsigned op_gen;     /* the operation it was taken in */
	unsigned head;	     /* id of record's newest checkpoint: the recorded timeline's end */
	struct rec_ckpt *ck; /* record's interval checkpoints still kept, oldest first */
	size_t nr, cap;
	uint64_t seq;	  /* of the next one */
	uint64_t folded;  /* thinned out so far */
	uint64_t dropped; /* the oldest, dropped by the memory bound */
	uint64_t bytes;	  /* what every checkpoint uses, estimated from above (bound) */
	struct hs_record_limits lim;
};

static struct hs_record *rec_of(const struct hs_machine *m)
{
	return m->run_hooks.ud;
}

/* ---- record ---------------------------------------------------------------- */

/*
 * Thinning (hs_record_info.folded). Only the checkpoints taken inside an
 * operation, every HS_RECORD_INTERVAL instructions, can go: a replay runs
 * forward inside an operation, but an operation's start is an input from
 * outside (the host model set it up) that no replay repeats, so its
 * checkpoint stays. The newest `dense` checkpoints stay as taken; an older
 * interval checkpoint of sequence number s at age a (checkpoints taken since)
 * only while s is a multiple of 2^(j+1), j = floor(log2(a / dense)): about
 * dense / 2 of them per doubling of the history, and each rule only ever
 * drops more as a checkpoint ages. A dropped one is folded into the one after
 * it (hs_checkpoint_fold), so going back into its interval replays from the
 * one before: as exact, only longer.
 */
static bool keep_at_age(uint64_t seq, uint64_t age, unsigned dense)
{
	if (!seq || age < dense)
		return true;
	unsigned j = 0;
	while (j < 62 && age / dense >= 2ULL << j)
		j++;
	return seq % (2ULL << j) == 0;
}

static void thin(struct hs_machine *m, struct hs_record *r)
{
	uint64_t newest = r->seq - 1;
	size_t n = 0;
	for (size_t i = 0; i < r->nr; i++) {
		const struct rec_ckpt *k = &r->ck[i];
		int rc = 0;
		if (!keep_at_age(k->seq, newest - k->seq, r->lim.dense) &&
		    (rc = hs_checkpoint_fold(m, k->id, NULL)) != -EBUSY) {
			if (!rc)
				r->folded++;
			continue; /* folded, or gone (-ENOENT) */
		}
		r->ck[n++] = *k; /* kept, or a branch point or the base: stays */
	}
	r->nr = n;
}

/*
 * The memory bound (gdb's record full insn-number-max, in bytes): past it the
 * oldest history goes, its first checkpoint folded into the next, which
 * becomes the start ("No more reverse-execution history" there). The sum is
 * estimated from the checkpoints taken (folds only make it smaller) and
 * counted exactly, in O(checkpoints), only when the estimate passes the
 * bound; the oldest then go until an eighth of the bound is free.
 */
static void bound(struct hs_machine *m, struct hs_record *r)
{
	r->bytes += hs_checkpoint_newest_bytes(m);
	if (!r->lim.max_bytes || r->bytes <= r->lim.max_bytes)
		return;
	struct hs_checkpoint_stats st;
	hs_checkpoint_stats(m, &st);
	uint64_t keep = r->lim.max_bytes - r->lim.max_bytes / 8;
	struct hs_checkpoint_info old[2]; /* automatic ids grow with time: the oldest first */
	while (st.bytes > keep && hs_checkpoint_list(m, true, old, 2) > 2 &&
	       !hs_checkpoint_fold(m, old[0].id, NULL)) {
		for (size_t i = 0; i < r->nr; i++)
			if (r->ck[i].id == old[0].id)
				memmove(&r->ck[i], &r->ck[i + 1], (--r->nr - i) * sizeof(*r->ck));
		hs_checkpoint_list(m, true, old, 1);
		r->first = old[0].icount;
		r->dropped++;
		hs_checkpoint_stats(m, &st);
	}
	r->bytes = st.bytes;
}

static int record_take(struct hs_machine *m, struct hs_record *r, bool interval,
		       struct hs_error *err)
{
	if (r->nr == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		void *p = realloc(r->ck, cap * sizeof(*r->ck));
		if (!p)
			return hs_err(err, -ENOMEM, "record: out of memory");
		r->ck = p;
		r->cap = cap;
	}
	int rc = hs_checkpoint_take(m, true, &r->head, err);
	if (rc)
		return rc;
	r->last_ckpt = hs_machine_icount(m);
	r->op_gen = m->op_gen;
	/* Only the interval ones can be thinned: the list stays short whatever the operations. */
	if (interval)
		r->ck[r->nr++] = (struct rec_ckpt){.id = r->head, .seq = r->seq};
	r->seq++;
	thin(m, r);
	bound(m, r);
	return 0;
}

/* A checkpoint where every operation starts running, and one every interval. */
static int record_before(struct hs_machine *m, struct hs_error *err)
{
	struct hs_record *r = rec_of(m);
	if (r->replaying)
		return 0;
	uint64_t now = hs_machine_icount(m);
	int rc = 0;
	if (r->op_gen != m->op_gen || now >= r->last_ckpt + HS_RECORD_INTERVAL)
		rc = record_take(m, r, r->op_gen == m->op_gen, err);
	m->icount_stop = r->last_ckpt + HS_RECORD_INTERVAL;
	return rc;
}

/* The interval is up (the run stopped at the block boundary before it): checkpoint, go on. */
static bool record_reached(struct hs_machine *m, struct hs_error *err)
{
	struct hs_record *r = rec_of(m);
	if (r->replaying)
		return false;
	if (record_take(m, r, true, err))
		return false;
	m->icount_stop = r->last_ckpt + HS_RECORD_INTERVAL;
	return true;
}

static void record_fini(struct hs_machine *m)
{
	struct hs_record *r = rec_of(m);
	if (r)
		free(r->ck);
	free(r);
	m->run_hooks = (struct hs_run_hooks){0};
}

int hs_record_start(struct hs_machine *m, struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM, "a memory dump has no execution to record");
	if (rec_of(m))
		return hs_err(err, -EBUSY, "already recording (record stop ends it)");
	struct hs_record *r = calloc(1, sizeof(*r));
	if (!r)
		return hs_err(err, -ENOMEM, "out of memory");
	r->lim =
	    (struct hs_record_limits){.dense = HS_RECORD_DENSE, .max_bytes = HS_RECORD_MAX_BYTES};
	struct hs_checkpoint_stats st; /* the user's checkpoints count against the bound too */
	hs_checkpoint_stats(m, &st);
	r->bytes = st.bytes;
	int rc = record_take(m, r, false, err);
	if (rc) {
		free(r);
		return rc;
	}
	r->first = r->last_ckpt;
	m->run_hooks = (struct hs_run_hooks){
	    .ud = r, .before = record_before, .reached = record_reached, .fini = record_fini};
	return 0;
}

void hs_record_stop(struct hs_machine *m)
{
	record_fini(m);
	m->icount_stop = 0;
	hs_checkpoint_delete_automatic(m);
}

void hs_record_info(const struct hs_machine *m, struct hs_record_info *info)
{
	const struct hs_record *r = rec_of(m);
	*info = (struct hs_record_info){.active = r != NULL,
					.first_icount = r ? r->first : 0,
					.now = hs_machine_icount(m),
					.checkpoints = hs_checkpoint_list(m, true, NULL, 0),
					.folded = r ? r->folded : 0,
					.dropped = r ? r->dropped : 0,
					.limits = r ? r->lim : (struct hs_record_limits){0}};
}

int hs_record_set_limits(struct hs_machine *m, const struct hs_record_limits *lim,
			 struct hs_error *err)
{
	struct hs_record *r = rec_of(m);
	if (!r)
		return hs_err(err, -EINVAL, "not recording (record starts it)");
	if (!lim->dense)
		return hs_err(err, -EINVAL, "record: keep at least one recent checkpoint as taken");
	r->lim = *lim;
	return 0;
}

/* ---- replay ---------------------------------------------------------------- */

static bool is_ancestor(const struct ckpt *a, const struct ckpt *k)
{
	for (; k; k = k->parent)
		if (k == a)
			return true;
	return false;
}

/*
 * The newest checkpoint the present state's history runs through. After
 * going back, the machine's state descends from an older checkpoint (the
 * base) but is a replay of the recorded timeline: its end is record's newest
 * checkpoint, as long as the base is still on that timeline.
 */
static struct ckpt *timeline_end(struct hs_machine *m)
{
	struct ckpt *base = m->ckpt ? m->ckpt->base : NULL;
	const struct hs_record *r = rec_of(m);
	struct ckpt *head = NULL;
	for (struct ckpt *k = r && base ? m->ckpt->head : NULL; k; k = k->next)
		if (k->id == r->head && !k->deleted)
			head = k;
	return head && is_ancestor(base, head) ? head : base;
}

/* The latest checkpoint of the current history taken at or before target. */
static struct ckpt *history_at(struct hs_machine *m, uint64_t target)
{
	for (struct ckpt *k = timeline_end(m); k; k = k->parent)
		if (k->icount <= target)
			return k;
	return NULL;
}

static void replaying(struct hs_machine *m, bool on)
{
	struct hs_record *r = rec_of(m);
	if (r)
		r->replaying = on;
	m->icount_stop = 0;
}

/*
 * Run forward to the machine count `target` from where the machine is, by
 * single steps (by_insn: every instruction goes through the stepping hook)
 * or whole blocks while far; each breakpoint or watchpoint stop on the way
 * goes to on_hit (may be NULL).
 */
static int run_to_by(struct hs_machine *m, uint64_t target, bool by_insn,
		     void (*on_hit)(struct hs_machine *m, const struct hs_stop *s, void *ud),
		     void *ud, struct hs_error *err)
{
	for (;;) {
		uint64_t now = hs_machine_icount(m);
		if (now == target)
			return 0;
		if (now > target)
			return hs_err(err, -EIO, "replay overshot: at %" PRIu64 ", wanted %" PRIu64,
				      now, target);
		if (!m->op.pending)
			return hs_err(err, -ERANGE,
				      "the recorded history ends at %" PRIu64
				      " instructions (the machine went idle there)",
				      now);
		struct hs_stop s;
		int rc;
		/* Whole blocks while far; the last few instructions one by one. */
		m->icount_stop = target;
		if (!by_insn && target - now > 64)
			rc = hs_continue(m, &s, err);
		else
			rc = hs_stepi(m, target - now, &s, err);
		m->icount_stop = 0;
		if (rc)
			return rc;
		switch (s.reason) {
		case HS_STOP_BREAKPOINT:
		case HS_STOP_WATCH:
			if (on_hit)
				on_hit(m, &s, ud);
			break;
		case HS_STOP_STEP:
		case HS_STOP_DONE:
			break;
		default:
			return hs_err(err, -EIO, "the replay stopped: %s at %#" PRIx64,
				      hs_stop_reason_name(s.reason), s.pc);
		}
	}
}

static int run_to(struct hs_machine *m, uint64_t target,
		  void (*on_hit)(struct hs_machine *m, const struct hs_stop *s, void *ud), void *ud,
		  struct hs_error *err)
{
	return run_to_by(m, target, false, on_hit, ud, err);
}

static int restore_for(struct hs_machine *m, uint64_t target, struct hs_error *err)
{
	struct ckpt *k = history_at(m, target);
	if (!k)
		return hs_err(err, -ERANGE,
			      "%" PRIu64 " instructions is before the recorded history (record, "
			      "or a checkpoint, keeps it)",
			      target);
	return hs_checkpoint_restore(m, k->id, err);
}

int hs_replay_to(struct hs_machine *m, uint64_t target, struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM, "a memory dump has no history");
	replaying(m, true);
	int rc = restore_for(m, target, err);
	if (!rc)
		rc = run_to(m, target, NULL, NULL, err);
	replaying(m, false);
	if (rc)
		return rc;
	/* Arrived at a breakpoint's instruction (going back, too): it is what stopped there. */
	uint64_t pc = hs_cpu_reg(&m->cpus[m->cur], UC_ARM64_REG_PC);
	const struct hs_bp *bp = m->op.pending ? hs_dbg_bp_at(m, pc) : NULL;
	m->last_stop = (struct hs_stop){.reason = bp ? HS_STOP_BREAKPOINT : HS_STOP_STEP,
					.cpu = m->cur,
					.pc = pc,
					.bp_id = bp ? bp->id : 0,
					.stepped = bp != NULL};
	return 0;
}

/* ---- the last stop before the present ------------------------------------- */

struct scan {
	uint64_t present;
	/*
	 * Where the segment being replayed ends: a stop there belongs to the
	 * newer segment (its start), and the present's stop is not in the past.
	 */
	uint64_t end;
	const struct hs_replay_filter *f;
	struct hs_replay_hit *v; /* the hits of the segment being replayed, in order */
	size_t n, cap;
	bool oom;
};

static void note_hit(struct hs_machine *m, const struct hs_stop *s, void *ud)
{
	struct scan *sc = ud;
	uint64_t now = hs_machine_icount(m);
	if (now >= sc->end || sc->oom || (sc->f && now <= sc->f->after))
		return;
	int tag = 0;
	/* The machine is as the stop left it: a condition reads it as a forward stop would. */
	if (sc->f && sc->f->holds && !sc->f->holds(sc->f->ud, m, s, &tag))
		return;
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 16;
		void *p = realloc(sc->v, cap * sizeof(*sc->v));
		if (!p) {
			sc->oom = true;
			return;
		}
		sc->v = p;
		sc->cap = cap;
	}
	struct hs_replay_hit *h = &sc->v[sc->n++];
	*h = (struct hs_replay_hit){.icount = now, .stop = *s, .tag = tag};
	const struct hs_watch_hit *w = s->reason == HS_STOP_WATCH ? hs_watch_last_hit(m) : NULL;
	if (w) {
		h->have_watch = true;
		h->watch = *w;
	}
}

/* A checkpoint taken at a breakpoint's address: the run from it steps over it, but it was hit. */
static void hit_at_start(struct hs_machine *m, struct scan *sc)
{
	struct hs_cpu *c = &m->cpus[m->cur];
	uint64_t pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	const struct hs_bp *bp = m->op.pending ? hs_dbg_bp_at(m, pc) : NULL;
	if (!bp)
		return;
	struct hs_stop s = {.reason = HS_STOP_BREAKPOINT, .cpu = m->cur, .pc = pc, .bp_id = bp->id};
	note_hit(m, &s, sc);
}

/* The newest hit of the segment the filter takes (ignore counts pass the others). */
static bool pick(struct scan *sc, struct hs_replay_hit *hit)
{
	for (size_t i = sc->n; i-- > 0;)
		if (!sc->f || !sc->f->take || sc->f->take(sc->f->ud, &sc->v[i])) {
			*hit = sc->v[i];
			return true;
		}
	return false;
}

int hs_replay_last_hit(struct hs_machine *m, const struct hs_replay_filter *f,
		       struct hs_replay_hit *hit, bool *found, struct hs_error *err)
{
	*found = false;
	if (m->dump)
		return hs_err(err, -EPERM, "a memory dump has no history");
	struct scan sc = {.present = hs_machine_icount(m), .f = f};
	/* Nothing can stop a run: no hit to find, and the scan's replays would be wasted. */
	if (!sc.present || !hs_dbg_may_stop(m))
		return 0;
	replaying(m, true);
	int rc = 0;
	/* Segment by segment, the newest first: the last hit of the first segment that has one. */
	uint64_t end = sc.present;
	struct ckpt *k = history_at(m, sc.present - 1);
	while (k && !*found && !rc && (!f || end > f->after)) {
		uint64_t start = k->icount;
		struct ckpt *older = k->parent;
		if ((rc = hs_checkpoint_restore(m, k->id, err)))
			break;
		sc.n = 0;
		sc.end = end;
		hit_at_start(m, &sc);
		rc = run_to(m, end, note_hit, &sc, err);
		if (rc == -ERANGE) /* the segment ends where its operation ended */
			rc = 0;
		if (!rc && sc.oom)
			rc = hs_err(err, -ENOMEM, "out of memory for the hits of the history");
		if (!rc)
			*found = pick(&sc, hit);
		end = start;
		while (older && older->icount >= start)
			older =
			    older->parent; /* several at one count: the oldest starts the next */
		k = older;
	}
	free(sc.v);
	/* Back to the present. */
	int rc2 = rc ? 0 : restore_for(m, sc.present, err);
	if (!rc2 && !rc)
		rc2 = run_to(m, sc.present, NULL, NULL, err);
	replaying(m, false);
	if (rc || rc2) {
		*found = false;
		return rc ? rc : rc2;
	}
	return 0;
}

int hs_replay_goto_hit(struct hs_machine *m, const struct hs_replay_hit *hit, struct hs_error *err)
{
	/* The stop as it was: a watchpoint's store has just retired (reverse-stepi: before it). */
	int rc = hs_replay_to(m, hit->icount, err);
	if (rc)
		return rc;
	m->last_stop = hit->stop;
	m->last_stop.pc = hs_cpu_reg(&m->cpus[m->cur], UC_ARM64_REG_PC);
	if (hit->have_watch) {
		m->dbg.hit = hit->watch;
		m->dbg.hit_valid = true;
	}
	return 0;
}

/* ---- the instructions of a stretch of history ------------------------------ */

#define SPAN_MAX (64ULL << 20) /* instructions: 1.5 GiB of entries */

struct span_build {
	struct hs_replay_span *span;
	uint64_t now; /* the machine's count when the last run started */
	size_t cap;
	bool oom;
};

static void span_insn(void *ud, unsigned cpu, uint64_t pc, uint64_t sp)
{
	struct span_build *b = ud;
	struct hs_replay_span *sp_ = b->span;
	if (b->oom)
		return;
	if (sp_->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4096;
		void *p = realloc(sp_->insns, cap * sizeof(*sp_->insns));
		if (!p) {
			b->oom = true;
			return;
		}
		sp_->insns = p;
		b->cap = cap;
	}
	sp_->insns[sp_->n++] = (struct hs_replay_insn){.pc = pc, .sp = sp, .cpu = cpu};
}

/* A run stopped before an instruction the hook had seen (a breakpoint): it did not run yet. */
static void span_trim(struct hs_machine *m, const struct hs_stop *s, void *ud)
{
	(void)s;
	struct span_build *b = ud;
	uint64_t ran = hs_machine_icount(m) - b->span->start;
	if (b->span->n > ran)
		b->span->n = ran;
}

int hs_replay_span(struct hs_machine *m, uint64_t from, struct hs_replay_span *span,
		   struct hs_error *err)
{
	*span = (struct hs_replay_span){0};
	if (m->dump)
		return hs_err(err, -EPERM, "a memory dump has no history");
	uint64_t present = hs_machine_icount(m);
	if (from > present)
		from = present;
	struct ckpt *k = history_at(m, from);
	if (!k)
		return hs_err(err, -ERANGE,
			      "%" PRIu64 " instructions is before the recorded history", from);
	if (present - k->icount > SPAN_MAX)
		return hs_err(err, -E2BIG,
			      "%" PRIu64 " instructions since the nearest checkpoint: too many to "
			      "replay one by one (record keeps one every %llu)",
			      present - k->icount, HS_RECORD_INTERVAL);
	/* The present's stop, as the user saw it, is the same after the replay. */
	struct hs_stop last = m->last_stop;
	struct hs_watch_hit hit = m->dbg.hit;
	bool hit_valid = m->dbg.hit_valid;
	replaying(m, true);
	int rc = hs_checkpoint_restore(m, k->id, err);
	struct span_build b = {.span = span};
	span->start = hs_machine_icount(m);
	if (!rc) {
		m->dbg.insn_seen = span_insn;
		m->dbg.insn_seen_ud = &b;
		rc = run_to_by(m, present, true, span_trim, &b, err);
		m->dbg.insn_seen = NULL;
		m->dbg.insn_seen_ud = NULL;
	}
	replaying(m, false);
	m->last_stop = last;
	m->dbg.hit = hit;
	m->dbg.hit_valid = hit_valid;
	span_trim(m, NULL, &b);
	if (!rc && b.oom)
		rc = hs_err(err, -ENOMEM, "out of memory for %" PRIu64 " instructions of history",
			    present - span->start);
	if (!rc && span->n != present - span->start)
		rc = hs_err(err, -EIO, "the replay saw %zu instructions of %" PRIu64, span->n,
			    present - span->start);
	if (rc)
		hs_replay_span_free(span);
	return rc;
}

void hs_replay_span_free(struct hs_replay_span *span)
{
	free(span->insns);
	*span = (struct hs_replay_span){0};
}

uint64_t hs_replay_history_start(const struct hs_machine *m)
{
	const struct hs_record *r = rec_of(m);
	return r ? r->first : 0;
}
