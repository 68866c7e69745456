/* SPDX-License-Identifier: MIT */
/*
 * The line table as gdb sees it: `maint info line-table [REGEX]` in gdb's
 * shape and `info line` with gdb's answers (emu/machine/image_linetable.c
 * builds gdb's tables; tests/gdb_lines_test.py compares both with
 * gdb-multiarch on the same ELF).
 */
#include <ctype.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_print.h"
#include "cmd_frame.h"
#include "image_linetable.h"
#include "image_scopes.h"

const struct hs_linetable *cli_linetable(struct cli *c)
{
	if (!c->lines_tried && c->m) {
		c->lines_tried = true;
		hs_linetable_build(hs_machine_image(c->m), &c->lines, NULL);
	}
	return c->lines;
}

static void row_text(struct hs_strbuf *sb, size_t i, const struct hs_lt_row *r)
{
	char idx[24], line[24], addr[24];
	snprintf(idx, sizeof(idx), "%zu", i);
	if (r->line)
		snprintf(line, sizeof(line), "%d", r->line);
	else
		snprintf(line, sizeof(line), "END");
	snprintf(addr, sizeof(addr), "0x%016" PRIx64, r->addr);
	hs_sb_printf(sb, "%-6s %-6s %-18s %-7s %-12s \n", idx, line, addr, r->is_stmt ? "Y" : "",
		     r->prologue_end ? "Y" : "");
}

static void tab_json(struct hs_strbuf *sb, const struct hs_lt_unit *u, const struct hs_lt_symtab *t)
{
	hs_sb_puts(sb, "{\"unit\":");
	hs_sb_json_str(sb, u->name);
	hs_sb_puts(sb, ",\"file\":");
	hs_sb_json_str(sb, t->file);
	hs_sb_puts(sb, ",\"rows\":[");
	for (size_t i = 0; i < t->nrows; i++) {
		const struct hs_lt_row *r = &t->rows[i];
		hs_sb_printf(sb,
			     "%s{\"line\":%d,\"addr\":\"%#" PRIx64 "\",\"is_stmt\":%s,"
			     "\"prologue_end\":%s}",
			     i ? "," : "", r->line, r->addr, r->is_stmt ? "true" : "false",
			     r->prologue_end ? "true" : "false");
	}
	hs_sb_puts(sb, "]}");
}

/* maint info line-table [REGEX]: every table (or those whose file matches REGEX). */
static int maint_line_table(struct cli *c, const char *pattern, struct hs_strbuf *sb)
{
	regex_t re;
	if (pattern && regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return cli_error(c, "maint info line-table: '%s' is not a regular expression",
				 pattern);
	const struct hs_linetable *lt = cli_linetable(c);
	const struct hs_image *img = hs_machine_image(c->m);
	bool first = true;
	if (c->json)
		hs_sb_puts(sb, "[");
	for (size_t u = 0; lt && u < lt->nunits; u++) {
		const struct hs_lt_unit *unit = &lt->units[u];
		for (size_t i = 0; i < unit->ntabs; i++) {
			const struct hs_lt_symtab *t = &unit->tabs[i];
			if (!t->nrows || (pattern && regexec(&re, t->file, 0, NULL, 0)))
				continue;
			if (c->json) {
				hs_sb_puts(sb, first ? "" : ",");
				tab_json(sb, unit, t);
				first = false;
				continue;
			}
			hs_sb_printf(sb,
				     "objfile: %s\ncompunit_symtab: %s\nsymtab: %s\nlinetable:\n",
				     img->path, unit->name, t->file);
			hs_sb_puts(sb, "INDEX  LINE   ADDRESS            IS-STMT PROLOGUE-END \n");
			for (size_t k = 0; k < t->nrows; k++)
				row_text(sb, k, &t->rows[k]);
			hs_sb_puts(sb, "\n");
		}
	}
	if (c->json)
		hs_sb_puts(sb, "]\n");
	if (pattern)
		regfree(&re);
	return 0;
}

int cmd_maint(struct cli *c, int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "info") || strcmp(argv[2], "line-table"))
		return cli_error(c, "maint: only `maint info line-table [REGEX]` is known");
	if (argc > 4)
		return cli_error(c, "maint info line-table: one REGEX at most ('%s')", argv[4]);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	int rc = maint_line_table(c, argc > 3 ? argv[3] : NULL, &sb);
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return rc;
}

/* An address as gdb's print_address shows it: "0x40204ec4 <f+4>". */
static void address_text(struct cli *c, uint64_t link, char *buf, size_t len)
{
	uint64_t va = hs_link_to_hyp_va(c->m, link);
	char sym[160];
	cli_symbolize(c, va, sym, sizeof(sym));
	if (*sym)
		snprintf(buf, len, "%#" PRIx64 " <%s>", va, sym);
	else
		snprintf(buf, len, "%#" PRIx64, va);
}

/*
 * gdb's find_line_symtab: the first statement row of FILE:LINE in a table of
 * that file, else the row of the smallest later line that has one.
 */
static bool line_row(const struct hs_linetable *lt, const char *file, int line, uint64_t *addr)
{
	int best = 0;
	for (size_t u = 0; lt && u < lt->nunits; u++)
		for (size_t i = 0; i < lt->units[u].ntabs; i++) {
			const struct hs_lt_symtab *t = &lt->units[u].tabs[i];
			if (!hs_image_names_file(t->file, file))
				continue;
			for (size_t k = 0; k < t->nrows; k++) {
				const struct hs_lt_row *r = &t->rows[k];
				if (!r->is_stmt)
					continue;
				if (r->line == line) {
					*addr = r->addr;
					return true;
				}
				if (r->line > line && (!best || r->line < best)) {
					best = r->line;
					*addr = r->addr;
				}
			}
		}
	return best != 0;
}

/* The file's name in the tables (gdb prints the symtab's), NULL if none names it. */
static const char *table_file(const struct hs_linetable *lt, const char *file)
{
	for (size_t u = 0; lt && u < lt->nunits; u++)
		for (size_t i = 0; i < lt->units[u].ntabs; i++)
			if (hs_image_names_file(lt->units[u].tabs[i].file, file))
				return lt->units[u].tabs[i].file;
	return NULL;
}

static void print_sal(struct cli *c, int line, const char *file, const struct hs_lt_sal *sal,
		      struct hs_strbuf *sb)
{
	char s0[200], s1[200];
	address_text(c, sal->start, s0, sizeof(s0));
	address_text(c, sal->end, s1, sizeof(s1));
	hs_sb_printf(sb, "Line %d of \"%s\" starts at address %s and ends at %s.\n", line, file, s0,
		     s1);
}

static int info_file_line(struct cli *c, const char *spec, const char *colon, struct hs_strbuf *sb)
{
	const struct hs_linetable *lt = cli_linetable(c);
	char file[256];
	snprintf(file, sizeof(file), "%.*s", (int)(colon - spec), spec);
	int line = atoi(colon + 1);
	const char *name = table_file(lt, file);
	if (!name)
		return cli_error(c, "info line: no source file named %s", file);
	uint64_t a;
	struct hs_lt_sal sal;
	if (!line_row(lt, file, line, &a) || !hs_linetable_find(lt, a, &sal)) {
		hs_sb_printf(sb, "Line number %d is out of range for \"%s\".\n", line, name);
		return 0;
	}
	char s0[200];
	address_text(c, sal.start, s0, sizeof(s0));
	if (sal.line != line) {
		hs_sb_printf(sb, "Line %d of \"%s\" is at address %s but contains no code.\n", line,
			     name, s0);
		return 0;
	}
	print_sal(c, line, sal.file, &sal, sb);
	return 0;
}

/*
 * info line FUNC, as gdb: the line at the entry of each function symbol of
 * that name, then at each place a DWARF function of exactly that name was
 * inlined (the inlined block's start). gdb finds Linux's `__kvm_nvhe_` names
 * only as ELF symbols: the DWARF calls the functions without the prefix.
 */
static int info_function(struct cli *c, const char *name, struct hs_strbuf *sb)
{
	const struct hs_linetable *lt = cli_linetable(c);
	const struct hs_symbol *syms[64];
	size_t nsyms = hs_image_symbols_named(hs_machine_image(c->m), name, syms, 64);
	struct hs_lt_sal sal;
	for (size_t i = 0; i < nsyms; i++) {
		if (hs_linetable_find(lt, syms[i]->addr, &sal))
			print_sal(c, sal.line, sal.file, &sal, sb);
		else
			hs_sb_printf(sb,
				     "No line number information available for address %#" PRIx64
				     " <%s>\n",
				     hs_link_to_hyp_va(c->m, syms[i]->addr), syms[i]->name);
	}
	struct hs_dwarf *dw = cli_image_dwarf(c);
	struct hs_inline_site sites[64];
	unsigned n = dw ? hs_dwarf_inline_sites(dw, name, sites, 64) : 0;
	for (unsigned i = 0; i < n; i++)
		if (hs_linetable_find(lt, sites[i].entry, &sal))
			print_sal(c, sal.line, sal.file, &sal, sb);
	return 0;
}

int cli_info_line(struct cli *c, int argc, char **argv, struct hs_strbuf *sb)
{
	uint64_t link, a;
	if (argc < 3) {
		struct hs_cpu_state cs;
		hs_cpu_state(c->m, hs_current_cpu(c->m), &cs);
		a = cs.pc;
	} else {
		const char *spec = argv[2];
		const char *colon = strrchr(spec, ':');
		if (spec[0] != '*' && colon && isdigit((unsigned char)colon[1]) &&
		    strncmp(spec, "pa:", 3) && strncmp(spec, "va:", 3))
			return info_file_line(c, spec, colon, sb);
		if (spec[0] != '*' && hs_image_symbol(hs_machine_image(c->m), spec))
			return info_function(c, spec, sb);
		struct cli_value v;
		const char *e = spec[0] == '*' ? spec + 1 : spec;
		if (cli_expr_eval_line(c, e, c->arg_cols ? c->arg_cols[2] : 0, &v))
			return -1;
		int64_t iv;
		if (cli_value_int(&v, &iv))
			a = (uint64_t)iv;
		else if (v.lval == CLI_LV_MEM)
			a = v.addr;
		else
			return cli_error(c, "info line: '%s' is not an address", spec);
	}
	struct hs_lt_sal sal;
	if (!hs_addr_to_link(c->m, a, &link) || !hs_linetable_find(cli_linetable(c), link, &sal)) {
		char s[200];
		snprintf(s, sizeof(s), "%#" PRIx64, a);
		if (hs_addr_to_link(c->m, a, &link))
			address_text(c, link, s, sizeof(s));
		hs_sb_printf(sb, "No line number information available for address %s%s\n", s,
			     argc < 3 ? " (the PC)" : "");
		return 0;
	}
	print_sal(c, sal.line, sal.file, &sal, sb);
	return 0;
}
