/* SPDX-License-Identifier: MIT */
/*
 * The checker's report: where the rules record a violation, and how a report
 * is counted and printed (text and JSON). Apart from the rules so that a rule
 * file (inspect_check.c, the pool walker) records without calling back into
 * another rule file.
 */
#include "inspect_check_priv.h"
#include "profile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hs_check_report_init(struct hs_check_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void hs_check_report_free(struct hs_check_report *rep)
{
	free(rep->v);
	hs_check_report_init(rep);
}

void hs_chk_report(struct hs_check_report *rep, const char *rule, uint64_t pa, uint64_t pages,
		   unsigned tables, const char *fmt, ...)
{
	for (const struct hs_check_waiver *w = rep->waivers; w && w->rule; w++)
		if (!strcmp(w->rule, rule)) {
			rep->waived++;
			return;
		}
	rep->total++;
	if (rep->nr >= HS_CHECK_MAX_STORED)
		return;
	if (rep->nr == rep->cap) {
		size_t n = rep->cap ? rep->cap * 2 : 32;
		void *p = realloc(rep->v, n * sizeof(*rep->v));
		if (!p)
			return;
		rep->v = p;
		rep->cap = n;
	}
	struct hs_violation *v = &rep->v[rep->nr++];
	v->vm = v->gfn = 0;
	v->rule = rule;
	v->pa = pa;
	v->pages = pages;
	v->tables = tables;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
}

size_t hs_check_count(const struct hs_check_report *rep, const char *rule)
{
	size_t n = 0;
	for (size_t i = 0; i < rep->nr; i++)
		if (!strcmp(rep->v[i].rule, rule))
			n++;
	return n;
}

void hs_check_tables_str(unsigned tables, struct hs_strbuf *sb)
{
	static const char *const names[] = {"host-s2", "hyp-s1",       "vmemmap",
					    "hpool",   "host_s2_pool", "guest-s2"};
	bool first = true;
	for (unsigned i = 0; i < 6; i++)
		if (tables & (1u << i)) {
			hs_sb_printf(sb, "%s%s", first ? "" : ",", names[i]);
			first = false;
		}
	if (first)
		hs_sb_puts(sb, "-");
}

void hs_check_text(const struct hs_check_report *rep, struct hs_strbuf *sb)
{
	for (size_t i = 0; i < rep->nr; i++) {
		const struct hs_violation *v = &rep->v[i];
		hs_sb_printf(sb, "%-18s PA %#012" PRIx64, v->rule, v->pa);
		if (v->pages > 1)
			hs_sb_printf(sb, " (+%" PRIu64 " pages)", v->pages - 1);
		hs_sb_puts(sb, " [");
		hs_check_tables_str(v->tables, sb);
		hs_sb_printf(sb, "] %s\n", v->msg);
	}
	if (rep->total > rep->nr)
		hs_sb_printf(sb, "... %zu more not stored\n", rep->total - rep->nr);
	hs_sb_printf(sb,
		     "%zu violation%s (%" PRIu64 " pages, %" PRIu64 " table pages, %" PRIu64
		     " free blocks checked)\n",
		     rep->total, rep->total == 1 ? "" : "s", rep->pages_checked,
		     rep->tables_checked, rep->free_blocks_checked);
	if (rep->waived)
		hs_sb_printf(
		    sb, "%zu more of rules this hypervisor's profile waives (docs/linux-pkvm.md)\n",
		    rep->waived);
}

void hs_check_json(const struct hs_check_report *rep, struct hs_strbuf *sb)
{
	hs_sb_printf(sb,
		     "{\"violations\":%zu,\"pages_checked\":%" PRIu64 ",\"tables_checked\":%" PRIu64
		     ",\"free_blocks_checked\":%" PRIu64 ",\"list\":[",
		     rep->total, rep->pages_checked, rep->tables_checked, rep->free_blocks_checked);
	for (size_t i = 0; i < rep->nr; i++) {
		const struct hs_violation *v = &rep->v[i];
		hs_sb_printf(sb,
			     "%s{\"rule\":\"%s\",\"pa\":\"%#" PRIx64 "\",\"pages\":%" PRIu64
			     ",\"tables\":\"",
			     i ? "," : "", v->rule, v->pa, v->pages);
		hs_check_tables_str(v->tables, sb);
		hs_sb_puts(sb, "\",\"message\":");
		hs_sb_json_str(sb, v->msg);
		hs_sb_putc(sb, '}');
	}
	hs_sb_puts(sb, "]}");
}
