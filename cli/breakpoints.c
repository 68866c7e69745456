/* SPDX-License-Identifier: MIT */
/* Breakpoints as Unicorn code hooks (see breakpoints.h). */
#include "breakpoints.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_support_break.h"
#include "machine.h"

static void on_bp(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct cli_bp_hook *hk = ud;
	struct cli_bps *b = hk->bps;
	(void)uc;
	(void)size;
	if (b->skip_armed) {
		b->skip_armed = false;
		if (hk->cpu == b->skip_cpu && address == b->skip_pc)
			return;
	}
	b->hit_id = hk->id;
	hs_cli_break_stop(b->m, hk->cpu, address);
}

static void unhook(struct cli_bps *b, struct cli_bp *bp)
{
	for (unsigned i = 0; i < bp->nhooks; i++) {
		uc_engine *uc = hs_cpu_engine(b->m, bp->hooks[i].cpu);
		if (uc && bp->hooks[i].h) {
			uc_hook_del(uc, bp->hooks[i].h);
			uint64_t a = bp->addrs[i % bp->naddrs];
			uc_ctl_remove_cache(uc, a, a + 4);
		}
	}
	free(bp->hooks);
	bp->hooks = NULL;
	bp->nhooks = 0;
}

static int hook(struct cli_bps *b, struct cli_bp *bp, char *msg, size_t len)
{
	unsigned ncpu = hs_nr_cpus(b->m);
	bp->hooks = calloc((size_t)ncpu * bp->naddrs, sizeof(*bp->hooks));
	if (!bp->hooks) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	for (unsigned cpu = 0; cpu < ncpu; cpu++) {
		uc_engine *uc = hs_cpu_engine(b->m, cpu);
		for (unsigned i = 0; i < bp->naddrs; i++) {
			struct cli_bp_hook *hk = &bp->hooks[bp->nhooks];
			uint64_t a = bp->addrs[i];
			*hk = (struct cli_bp_hook){.bps = b, .id = bp->id, .cpu = cpu};
			uc_err e = uc_hook_add(uc, &hk->h, UC_HOOK_CODE, (void *)on_bp, hk, a, a);
			if (e) {
				snprintf(msg, len,
					 "cpu%u: cannot add a code hook at %#" PRIx64 ": %s", cpu,
					 a, uc_strerror(e));
				unhook(b, bp);
				return -EIO;
			}
			bp->nhooks++;
			/* Blocks already translated must be retranslated to see the hook. */
			uc_ctl_remove_cache(uc, a, a + 4);
		}
	}
	return 0;
}

void cli_bps_init(struct cli_bps *b, struct hs_machine *m)
{
	memset(b, 0, sizeof(*b));
	b->m = m;
	b->next_id = 1;
}

void cli_bps_fini(struct cli_bps *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->m)
			unhook(b, &b->v[i]);
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

int cli_bp_add(struct cli_bps *b, const char *spec, const uint64_t *addrs, unsigned naddrs,
	       bool temp, char *msg, size_t len)
{
	if (!b->m) {
		snprintf(msg, len, "no machine");
		return -EINVAL;
	}
	if (naddrs == 0 || naddrs > CLI_BP_MAX_ADDRS) {
		snprintf(msg, len, "a breakpoint needs 1 or %d addresses", CLI_BP_MAX_ADDRS);
		return -EINVAL;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 8;
		struct cli_bp *v = realloc(b->v, cap * sizeof(*v));
		if (!v) {
			snprintf(msg, len, "out of memory");
			return -ENOMEM;
		}
		/* Hook user data points at the hook array, not at the bp: reallocation is safe. */
		b->v = v;
		b->cap = cap;
	}
	struct cli_bp *bp = &b->v[b->n];
	memset(bp, 0, sizeof(*bp));
	bp->id = b->next_id;
	bp->temp = temp;
	bp->enabled = true;
	bp->spec = strdup(spec);
	bp->naddrs = naddrs;
	if (naddrs == 2 && addrs[0] == addrs[1])
		bp->naddrs = 1;
	memcpy(bp->addrs, addrs, bp->naddrs * sizeof(addrs[0]));
	int rc = hook(b, bp, msg, len);
	if (rc) {
		free(bp->spec);
		return rc;
	}
	b->n++;
	b->next_id++;
	return bp->id;
}

int cli_bp_delete(struct cli_bps *b, int id)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].id != id)
			continue;
		unhook(b, &b->v[i]);
		free(b->v[i].spec);
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
		char msg[128];
		int rc = hook(b, bp, msg, sizeof(msg));
		if (rc)
			return rc;
	} else {
		unhook(b, bp);
	}
	bp->enabled = on;
	return 0;
}

void cli_bps_resume(struct cli_bps *b, unsigned cpu, uint64_t pc)
{
	b->hit_id = 0;
	b->skip_armed = false;
	for (size_t i = 0; i < b->n; i++) {
		struct cli_bp *bp = &b->v[i];
		if (!bp->enabled)
			continue;
		for (unsigned k = 0; k < bp->naddrs; k++) {
			if (bp->addrs[k] == pc) {
				b->skip_armed = true;
				b->skip_cpu = cpu;
				b->skip_pc = pc;
			}
		}
	}
}

struct cli_bp *cli_bps_hit(struct cli_bps *b)
{
	if (!b->hit_id)
		return NULL;
	return cli_bp_find(b, b->hit_id);
}
