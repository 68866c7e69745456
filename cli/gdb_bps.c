/* SPDX-License-Identifier: MIT */
/* gdb's breakpoints and watchpoints on the debugger's (see gdb_bps.h). */
#include "gdb_bps.h"

#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "gdb_target.h"

static struct gdb_bp *free_slot(struct gdb_bps *b)
{
	for (unsigned i = 0; i < GDB_MAX_BPS; i++)
		if (!b->v[i].used)
			return &b->v[i];
	return NULL;
}

static int insert_code(struct gdb_bp *slot, struct cli *c, const struct gdb_req *q)
{
	/* A hypervisor address runs at its PA (MMU off, idmap) and at its HYP VA. */
	uint64_t addrs[2] = {q->addr, 0}, link;
	unsigned n = 1;
	if (hs_addr_to_link(c->m, q->addr, &link)) {
		uint64_t pa = hs_link_to_pa(c->m, link), va = hs_link_to_hyp_va(c->m, link);
		addrs[n] = pa == q->addr ? va : pa;
		if (addrs[n] != q->addr)
			n++;
	}
	char spec[64], msg[256];
	snprintf(spec, sizeof(spec), "gdb Z%d %#" PRIx64, q->bp_type, q->addr);
	/* The machine drops the translated code of the page, by PA: no flush needed. */
	int id = cli_bp_add(&c->bps, spec, addrs, n, false, msg, sizeof(msg));
	if (id <= 0)
		return -1;
	cli_bp_find(&c->bps, id)->silent = true;
	*slot = (struct gdb_bp){.used = true,
				.type = (enum gdb_bp_type)q->bp_type,
				.addr = q->addr,
				.len = q->bp_len,
				.cli_id = id};
	return 0;
}

static int insert_watch(struct gdb_bps *b, struct gdb_bp *slot, struct cli *c, unsigned cpu,
			bool phys, const struct gdb_req *q)
{
	uint64_t pa, pa_last;
	if (q->bp_type > GDB_BP_ACCESS)
		return 1;
	if (q->bp_len == 0 || q->bp_len > HS_PAGE_SIZE ||
	    gdb_target_translate(c->m, cpu, phys, q->addr, &pa) ||
	    gdb_target_translate(c->m, cpu, phys, q->addr + q->bp_len - 1, &pa_last) ||
	    pa_last - pa != q->bp_len - 1)
		return -1;
	for (unsigned i = 0; i < GDB_MAX_BPS; i++) {
		struct gdb_bp *w = &b->v[i];
		if (w->used && w->type == (enum gdb_bp_type)q->bp_type && w->addr == q->addr &&
		    w->len == q->bp_len && w->pa == pa) {
			w->want = true; /* still armed from before */
			return 0;
		}
	}
	*slot = (struct gdb_bp){.used = true,
				.want = true,
				.type = (enum gdb_bp_type)q->bp_type,
				.addr = q->addr,
				.len = q->bp_len,
				.pa = pa};
	return 0;
}

int gdb_bps_insert(struct gdb_bps *b, struct cli *c, unsigned cpu, bool phys,
		   const struct gdb_req *q)
{
	struct gdb_bp *slot = free_slot(b);
	if (!slot)
		return -1;
	if (q->bp_type == GDB_BP_SW || q->bp_type == GDB_BP_HW)
		return insert_code(slot, c, q);
	return insert_watch(b, slot, c, cpu, phys, q);
}

void gdb_bps_remove(struct gdb_bps *b, struct cli *c, const struct gdb_req *q)
{
	for (unsigned i = 0; i < GDB_MAX_BPS; i++) {
		struct gdb_bp *w = &b->v[i];
		if (!w->used || w->type != (enum gdb_bp_type)q->bp_type || w->addr != q->addr)
			continue;
		if (w->type >= GDB_BP_WRITE) {
			if (!w->want)
				continue; /* removed already, not disarmed yet */
			w->want = false;  /* disarmed at the next resume */
			return;
		}
		cli_bp_delete(&c->bps, w->cli_id);
		w->used = false;
		return;
	}
}

void gdb_bps_sync(struct gdb_bps *b, struct cli *c, struct hs_strbuf *msgs)
{
	for (unsigned i = 0; i < GDB_MAX_BPS; i++) {
		struct gdb_bp *w = &b->v[i];
		if (!w->used || w->type < GDB_BP_WRITE)
			continue;
		if (!w->want) {
			if (w->cli_id)
				cli_bp_delete(&c->bps, w->cli_id);
			*w = (struct gdb_bp){0};
		} else if (!w->cli_id) {
			char spec[64], msg[256];
			snprintf(spec, sizeof(spec), "gdb Z%d %#" PRIx64, w->type, w->addr);
			/* Z2, Z3, Z4 are the machine's write, read and access kinds. */
			static const enum hs_watch_kind kind[] = {[GDB_BP_WRITE] = HS_WATCH_WRITE,
								  [GDB_BP_READ] = HS_WATCH_READ,
								  [GDB_BP_ACCESS] =
								      HS_WATCH_ACCESS};
			int id = cli_bp_add_watch_kind(&c->bps, spec, w->pa, w->len, kind[w->type],
						       NULL, msg, sizeof(msg));
			if (id > 0) {
				w->cli_id = id;
			} else {
				hs_sb_printf(msgs, "hypscope: watchpoint at %#" PRIx64 ": %s\n",
					     w->addr, msg);
				*w = (struct gdb_bp){0};
			}
		}
	}
}

void gdb_bps_clear(struct gdb_bps *b, struct cli *c)
{
	for (unsigned i = 0; i < GDB_MAX_BPS; i++) {
		if (b->v[i].used && b->v[i].cli_id)
			cli_bp_delete(&c->bps, b->v[i].cli_id);
		b->v[i] = (struct gdb_bp){0};
	}
}

const struct gdb_bp *gdb_bps_by_cli_id(const struct gdb_bps *b, int id)
{
	for (unsigned i = 0; i < GDB_MAX_BPS && id != 0; i++)
		if (b->v[i].used && b->v[i].cli_id == id)
			return &b->v[i];
	return NULL;
}
