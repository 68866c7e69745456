/* SPDX-License-Identifier: MIT */
/* The debugger's breakpoint list over the machine's services (see breakpoints.h). */
#include "breakpoints.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_breakpoints.h"
#include "debug.h"
#include "machine.h"

/* Is another enabled breakpoint of this kind on the same vector condition? */
static bool vector_shared(struct cli_bps *b, const struct cli_bp *bp)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct cli_bp *o = &b->v[i];
		if (o != bp && o->enabled && o->kind == bp->kind && o->value == bp->value)
			return true;
	}
	return false;
}

static int bp_phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

/*
 * The walk of a pte watchpoint's address as the tables are now; false (and
 * the recorded walk kept) when it cannot be taken.
 */
static bool walk_pte(struct cli_bps *b, struct cli_bp *bp)
{
	struct cli_watch_pte *p = &bp->pte;
	struct hs_phys ph = {.read = bp_phys_read, .ud = b->m};
	struct hs_pt_trace t;
	if (hs_pt_translate(&ph, &p->regime, p->addr, &t) < 0 || !t.nr_steps)
		return false;
	unsigned nr = 0;
	for (unsigned i = 0; i < t.nr_steps && t.steps[i].read_ok; i++, nr++) {
		p->levels[nr] = t.steps[i].level;
		p->desc_pa[nr] = t.steps[i].desc_pa;
	}
	if (!nr)
		return false;
	p->nr = nr;
	p->level = p->levels[nr - 1];
	bp->pa = p->desc_pa[nr - 1];
	return true;
}

static void disarm_pte(struct cli_bps *b, struct cli_bp *bp)
{
	for (unsigned i = 0; i < bp->pte.nr; i++) {
		if (b->m && bp->pte.watch_ids[i])
			hs_watch_del(b->m, bp->pte.watch_ids[i], NULL);
		bp->pte.watch_ids[i] = 0;
	}
	bp->watch_id = 0;
}

/* Watch every entry on the walk (all or none). */
static int arm_pte(struct cli_bps *b, struct cli_bp *bp, struct hs_error *err)
{
	walk_pte(b, bp);
	for (unsigned i = 0; i < bp->pte.nr; i++) {
		int rc = hs_watch_add_kind(b->m, bp->pte.desc_pa[i], 8, bp->access, err);
		if (rc <= 0) {
			disarm_pte(b, bp);
			if (rc == -ENOSPC)
				hs_err(err, rc,
				       "a page-table watchpoint takes one machine watchpoint per "
				       "entry "
				       "on its walk (%u here), and the machine has too few left "
				       "(delete "
				       "one)",
				       bp->pte.nr);
			return rc ? rc : -EINVAL;
		}
		bp->pte.watch_ids[i] = rc;
	}
	bp->watch_id = bp->pte.nr ? bp->pte.watch_ids[bp->pte.nr - 1] : 0;
	return 0;
}

static int arm(struct cli_bps *b, struct cli_bp *bp, char *msg, size_t len);

void cli_bps_follow_walks(struct cli_bps *b)
{
	for (size_t i = 0; b->m && i < b->n; i++) {
		struct cli_bp *bp = &b->v[i];
		if (bp->kind != CLI_BP_WATCH || !bp->pte.on || !bp->enabled)
			continue;
		struct cli_bp now = *bp;
		if (!walk_pte(b, &now))
			continue;
		if (now.pte.nr == bp->pte.nr &&
		    !memcmp(now.pte.desc_pa, bp->pte.desc_pa, bp->pte.nr * sizeof(uint64_t)))
			continue;
		char why[256];
		disarm_pte(b, bp);
		if (arm(b, bp, why, sizeof(why)))
			bp->enabled = false;
	}
}

static int arm(struct cli_bps *b, struct cli_bp *bp, char *msg, size_t len)
{
	struct hs_error err = {0};
	int rc = 0;
	switch (bp->kind) {
	case CLI_BP_CODE:
		rc = hs_break_add(b->m, bp->addrs[0], &err);
		if (rc > 0) {
			bp->break_id = rc;
			rc = 0;
		}
		break;
	case CLI_BP_HVC:
		rc = hs_break_on_hvc(b->m, bp->value, true, &err);
		break;
	case CLI_BP_EC:
		rc = hs_break_on_ec(b->m, (unsigned)bp->value, true, &err);
		break;
	case CLI_BP_WATCH:
		if (bp->pte.on) {
			rc = arm_pte(b, bp, &err);
			break;
		}
		rc = hs_watch_add_kind(b->m, bp->pa, bp->len, bp->access, &err);
		if (rc > 0) {
			bp->watch_id = rc;
			rc = 0;
		}
		break;
	}
	if (rc)
		snprintf(msg, len, "%s", err.msg);
	return rc;
}

static void disarm(struct cli_bps *b, struct cli_bp *bp)
{
	switch (bp->kind) {
	case CLI_BP_CODE:
		if (b->m && bp->break_id)
			hs_break_delete(b->m, bp->break_id, NULL);
		bp->break_id = 0;
		break;
	case CLI_BP_HVC:
		if (b->m && !vector_shared(b, bp))
			hs_break_on_hvc(b->m, bp->value, false, NULL);
		break;
	case CLI_BP_EC:
		if (b->m && !vector_shared(b, bp))
			hs_break_on_ec(b->m, (unsigned)bp->value, false, NULL);
		break;
	case CLI_BP_WATCH:
		if (bp->pte.on) {
			disarm_pte(b, bp);
			break;
		}
		if (b->m && bp->watch_id)
			hs_watch_del(b->m, bp->watch_id, NULL);
		bp->watch_id = 0;
		break;
	}
}

void cli_bps_init(struct cli_bps *b, struct hs_machine *m)
{
	memset(b, 0, sizeof(*b));
	b->m = m;
	b->next_id = 1;
	b->next_internal = -1;
}

int cli_bps_rebind(struct cli_bps *b, struct hs_machine *m, char *msg, size_t len)
{
	for (size_t i = b->n; i-- > 0;)
		if (b->v[i].id < 0) {
			free(b->v[i].spec);
			memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof(b->v[0]));
			b->n--;
		}
	b->next_internal = -1;
	b->hit_id = 0;
	b->m = m;
	int failed = 0;
	msg[0] = '\0';
	for (size_t i = 0; i < b->n; i++) {
		struct cli_bp *bp = &b->v[i];
		bp->break_id = bp->watch_id = 0;
		memset(bp->pte.watch_ids, 0, sizeof(bp->pte.watch_ids));
		char why[256];
		if (bp->enabled && arm(b, bp, why, sizeof(why))) {
			bp->enabled = false;
			size_t used = strlen(msg);
			snprintf(msg + used, len - used, "%s%d (%s): %s", failed ? "; " : "",
				 bp->id, bp->spec, why);
			failed++;
		}
	}
	return failed;
}

void cli_bps_fini(struct cli_bps *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->m && b->v[i].enabled) {
			b->v[i].enabled = false;
			disarm(b, &b->v[i]);
		}
		free(b->v[i].spec);
	}
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

struct cli_bp *cli_bp_find(struct cli_bps *b, int id)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].id == id)
			return &b->v[i];
	return NULL;
}

/* A new slot at the end of the list (not yet counted in b->n). */
static struct cli_bp *new_slot(struct cli_bps *b, const char *spec, enum cli_bp_kind kind,
			       bool temp, char *msg, size_t len)
{
	if (!b->m) {
		snprintf(msg, len, "no machine");
		return NULL;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 8;
		struct cli_bp *v = realloc(b->v, cap * sizeof(*v));
		if (!v) {
			snprintf(msg, len, "out of memory");
			return NULL;
		}
		b->v = v;
		b->cap = cap;
	}
	struct cli_bp *bp = &b->v[b->n];
	memset(bp, 0, sizeof(*bp));
	bp->id = b->next_id;
	bp->kind = kind;
	bp->temp = temp;
	bp->enabled = true;
	bp->spec = strdup(spec);
	if (!bp->spec) {
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	return bp;
}

static int commit_slot(struct cli_bps *b, struct cli_bp *bp, char *msg, size_t len)
{
	int rc = arm(b, bp, msg, len);
	if (rc) {
		free(bp->spec);
		return rc < 0 ? rc : -EINVAL;
	}
	b->n++;
	if (bp->id > 0)
		b->next_id++;
	else
		b->next_internal--;
	return bp->id;
}

int cli_bp_add(struct cli_bps *b, const char *spec, const uint64_t *addrs, unsigned naddrs,
	       bool temp, char *msg, size_t len)
{
	if (naddrs == 0 || naddrs > CLI_BP_MAX_ADDRS) {
		snprintf(msg, len, "a breakpoint needs 1 or %d addresses", CLI_BP_MAX_ADDRS);
		return -EINVAL;
	}
	struct cli_bp *bp = new_slot(b, spec, CLI_BP_CODE, temp, msg, len);
	if (!bp)
		return -EINVAL;
	bp->naddrs = naddrs;
	if (naddrs == 2 && addrs[0] == addrs[1])
		bp->naddrs = 1;
	memcpy(bp->addrs, addrs, bp->naddrs * sizeof(addrs[0]));
	return commit_slot(b, bp, msg, len);
}

int cli_bp_add_internal(struct cli_bps *b, uint64_t addr, int *id, char *msg, size_t len)
{
	struct cli_bp *bp = new_slot(b, "(internal)", CLI_BP_CODE, true, msg, len);
	if (!bp)
		return -EINVAL;
	bp->id = b->next_internal;
	bp->naddrs = 1;
	bp->addrs[0] = addr;
	int want = bp->id;
	int rc = arm(b, bp, msg, len);
	if (rc) {
		free(bp->spec);
		return rc < 0 ? rc : -EINVAL;
	}
	b->n++;
	b->next_internal--;
	*id = want;
	return 0;
}

void cli_bps_drop_internal(struct cli_bps *b)
{
	for (size_t i = b->n; i-- > 0;)
		if (b->v[i].id < 0)
			cli_bp_delete(b, b->v[i].id);
	b->next_internal = -1;
}

int cli_bp_add_vector(struct cli_bps *b, const char *spec, enum cli_bp_kind kind, uint64_t value,
		      bool temp, char *msg, size_t len)
{
	struct cli_bp *bp = new_slot(b, spec, kind, temp, msg, len);
	if (!bp)
		return -EINVAL;
	bp->value = value;
	return commit_slot(b, bp, msg, len);
}

int cli_bp_add_watch(struct cli_bps *b, const char *spec, uint64_t pa, uint64_t len,
		     const struct cli_watch_pte *pte, char *msg, size_t len_msg)
{
	return cli_bp_add_watch_kind(b, spec, pa, len, HS_WATCH_WRITE, pte, msg, len_msg);
}

int cli_bp_add_watch_kind(struct cli_bps *b, const char *spec, uint64_t pa, uint64_t len,
			  enum hs_watch_kind kind, const struct cli_watch_pte *pte, char *msg,
			  size_t len_msg)
{
	struct cli_bp *bp = new_slot(b, spec, CLI_BP_WATCH, false, msg, len_msg);
	if (!bp)
		return -EINVAL;
	bp->pa = pa;
	bp->len = len;
	bp->access = kind;
	if (pte)
		bp->pte = *pte;
	return commit_slot(b, bp, msg, len_msg);
}

int cli_bp_delete(struct cli_bps *b, int id)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].id != id)
			continue;
		if (b->v[i].enabled) {
			b->v[i].enabled = false;
			disarm(b, &b->v[i]);
		}
		free(b->v[i].spec);
		if (b->hit_id == id)
			b->hit_id = 0;
		memmove(&b->v[i], &b->v[i + 1], (b->n - i - 1) * sizeof(b->v[0]));
		b->n--;
		return 0;
	}
	return -ENOENT;
}

int cli_bp_enable(struct cli_bps *b, int id, bool on)
{
	struct cli_bp *bp = cli_bp_find(b, id);
	if (!bp)
		return -ENOENT;
	if (bp->enabled == on)
		return 0;
	if (on) {
		char msg[256];
		int rc = arm(b, bp, msg, sizeof(msg));
		if (rc)
			return rc < 0 ? rc : -EINVAL;
		bp->enabled = true;
	} else {
		bp->enabled = false;
		disarm(b, bp);
	}
	return 0;
}

struct cli_bp *cli_bps_hit(struct cli_bps *b)
{
	if (!b->hit_id)
		return NULL;
	return cli_bp_find(b, b->hit_id);
}

/* The watchpoint a watch stop is of, and (*entry >= 0) which entry of a pte walk. */
static struct cli_bp *watch_of(const struct cli_bps *b, const struct hs_stop *s, int *entry)
{
	*entry = -1;
	struct cli_bp *found = NULL;
	for (size_t i = 0; s->bp_id && i < b->n; i++) {
		struct cli_bp *bp = &b->v[i];
		if (bp->kind != CLI_BP_WATCH)
			continue;
		if (bp->watch_id == s->bp_id && !bp->pte.on)
			found = bp;
		for (unsigned k = 0; bp->pte.on && k < bp->pte.nr; k++)
			if (bp->pte.watch_ids[k] == s->bp_id) {
				*entry = (int)k;
				return bp;
			}
	}
	return found;
}

int cli_bps_watch_id(const struct cli_bps *b, const struct hs_stop *s)
{
	int entry;
	const struct cli_bp *bp = s->reason == HS_STOP_WATCH ? watch_of(b, s, &entry) : NULL;
	return bp ? bp->id : 0;
}

struct cli_bp *cli_bps_classify(struct cli_bps *b, const struct hs_stop *s)
{
	b->hit_id = 0;
	if (s->reason == HS_STOP_WATCH) {
		int k;
		struct cli_bp *bp = watch_of(b, s, &k);
		if (bp)
			b->hit_id = bp->id;
		if (bp && k >= 0) {
			bp->pte.hit_level = bp->pte.levels[k];
			bp->pte.hit_pa = bp->pte.desc_pa[k];
			/* Follow the walk as the store left it. */
			char why[256];
			disarm_pte(b, bp);
			if (arm(b, bp, why, sizeof(why)))
				bp->enabled = false;
		}
		return cli_bps_hit(b);
	}
	if (s->reason != HS_STOP_BREAKPOINT)
		return NULL;
	if (s->bp_id) {
		for (size_t i = 0; i < b->n; i++)
			if (b->v[i].kind == CLI_BP_CODE && b->v[i].break_id == s->bp_id)
				b->hit_id = b->v[i].id;
		return cli_bps_hit(b);
	}
	/* Not a code breakpoint: a stop at the EL2 vector. */
	uint64_t esr = 0;
	struct hs_cpu_state st;
	hs_cpu_sysreg(b->m, s->cpu, HS_SR_ESR_EL2, &esr);
	hs_cpu_state(b->m, s->cpu, &st);
	unsigned ec = (unsigned)(esr >> 26) & 0x3f;
	for (size_t i = 0; i < b->n && ec == 0x16; i++)
		if (b->v[i].enabled && b->v[i].kind == CLI_BP_HVC && b->v[i].value == st.x[0])
			b->hit_id = b->v[i].id;
	for (size_t i = 0; i < b->n && !b->hit_id; i++)
		if (b->v[i].enabled && b->v[i].kind == CLI_BP_EC && b->v[i].value == ec)
			b->hit_id = b->v[i].id;
	return cli_bps_hit(b);
}

int cli_bps_newest(const struct cli_bps *b)
{
	int id = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].id > id)
			id = b->v[i].id;
	return id;
}
