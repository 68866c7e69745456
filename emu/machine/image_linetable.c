/* SPDX-License-Identifier: MIT */
/* gdb's line tables from an image's DWARF (see image_linetable.h). */
#include "image_linetable.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct range {
	uint64_t lo, hi;
};

/* A unit being built: its files in the order gdb creates them, their rows. */
struct build_unit {
	struct hs_lt_unit u;
	size_t cap_tabs;
	size_t *cap_rows;
	struct range *ranges;
	size_t nranges;
};

struct builder {
	struct hs_linetable *lt;
	size_t cap_units, cap_strings;
	struct range **ranges; /* per unit, kept after the build for lookups */
	size_t *nranges;
};

static const char *keep_string(struct hs_linetable *lt, size_t *cap, const char *s)
{
	for (size_t i = 0; i < lt->nstrings; i++)
		if (!strcmp(lt->strings[i], s))
			return lt->strings[i];
	if (lt->nstrings == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **ns = realloc(lt->strings, nc * sizeof(*ns));
		if (!ns)
			return NULL;
		lt->strings = ns;
		*cap = nc;
	}
	char *copy = strdup(s);
	if (copy)
		lt->strings[lt->nstrings++] = copy;
	return copy;
}

/* The unit's table for file (interned), created on first use. */
static int tab_of(struct build_unit *b, const char *file)
{
	for (size_t i = 0; i < b->u.ntabs; i++)
		if (b->u.tabs[i].file == file)
			return (int)i;
	if (b->u.ntabs == b->cap_tabs) {
		size_t nc = b->cap_tabs ? b->cap_tabs * 2 : 8;
		struct hs_lt_symtab *nt = realloc(b->u.tabs, nc * sizeof(*nt));
		size_t *ncap = realloc(b->cap_rows, nc * sizeof(*ncap));
		if (nt)
			b->u.tabs = nt;
		if (ncap)
			b->cap_rows = ncap;
		if (!nt || !ncap)
			return -1;
		b->cap_tabs = nc;
	}
	b->u.tabs[b->u.ntabs] = (struct hs_lt_symtab){.file = file};
	b->cap_rows[b->u.ntabs] = 0;
	return (int)b->u.ntabs++;
}

/*
 * buildsym's record_line: an END marker first drops the rows already at its
 * address (a line left with no code) and is itself dropped when it would end
 * nothing.
 */
static int record(struct build_unit *b, int tab, int line, uint64_t pc, bool stmt, bool pe)
{
	struct hs_lt_symtab *t = &b->u.tabs[tab];
	if (line == 0) {
		bool have = false;
		int last_line = 0;
		while (t->nrows) {
			const struct hs_lt_row *last = &t->rows[t->nrows - 1];
			have = true;
			last_line = last->line;
			if (last->addr != pc)
				break;
			t->nrows--;
		}
		if (!have || last_line == 0)
			return 0;
	}
	if (t->nrows == b->cap_rows[tab]) {
		size_t nc = t->nrows ? t->nrows * 2 : 16;
		struct hs_lt_row *nr = realloc(t->rows, nc * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		t->rows = nr;
		b->cap_rows[tab] = nc;
	}
	t->rows[t->nrows++] = (struct hs_lt_row){pc, line, stmt, pe};
	return 0;
}

/* gdb's order at one address: END first, the program's order otherwise (stable). */
static void sort_rows(struct hs_lt_row *r, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct hs_lt_row x = r[i];
		size_t j = i;
		while (j > 0 && (r[j - 1].addr > x.addr ||
				 (r[j - 1].addr == x.addr && x.line == 0 && r[j - 1].line != 0))) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

/*
 * One sequence's state in gdb 13's lnp_state_machine. The builder's current
 * file starts as file 1 at each sequence; each DW_LNS_set_file (seen here as
 * a row in another file than the previous one) makes the file it leaves the
 * "last" one, which an END marker then goes to (set debug dwarf-line 1 in gdb
 * shows it).
 */
struct seq_state {
	int cur_tab;  /* the builder's current file */
	int last_tab; /* m_last_subfile; -1: none */
	int last_line;
	uint64_t last_addr;
	bool stmt_at_addr;
	bool nonzero_discr; /* the line has had a non-zero discriminator */
};

static bool row_is(Dwarf_Lines *lines, size_t i, bool want_end, Dwarf_Addr at)
{
	Dwarf_Line *l = dwarf_onesrcline(lines, i);
	Dwarf_Addr a;
	bool end = false, stmt = false;
	if (!l || dwarf_lineaddr(l, &a) || a != at)
		return false;
	dwarf_lineendsequence(l, &end);
	dwarf_linebeginstatement(l, &stmt);
	return want_end ? end : !end && !stmt;
}

/*
 * libdw sorts a unit's rows by address, an end of sequence before the rows at
 * its address; but the non-statement rows right after an end at its address
 * are the ended sequence's last rows (the next sequence starts with a
 * statement). gdb sees them in the program's order: before the end.
 */
static size_t program_order(Dwarf_Lines *lines, size_t n, size_t *order)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr a;
		if (!l || dwarf_lineaddr(l, &a) || !row_is(lines, i, true, a)) {
			order[k++] = i;
			continue;
		}
		size_t j = i + 1;
		while (j < n && row_is(lines, j, false, a))
			order[k++] = j++;
		order[k++] = i;
		i = j - 1;
	}
	return k;
}

static int decode_unit(struct builder *bd, struct build_unit *b, Dwarf_Lines *lines, size_t n,
		       int file1)
{
	const struct seq_state fresh = {.cur_tab = file1, .last_tab = -1};
	struct seq_state s = fresh;
	int prev_line = -1;
	size_t *order = malloc((n ? n : 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	n = program_order(lines, n, order);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, order[i]);
		Dwarf_Addr a;
		int ln;
		bool stmt = false, end = false, pe = false;
		unsigned disc = 0;
		if (!l || dwarf_lineaddr(l, &a) || dwarf_lineno(l, &ln))
			continue;
		dwarf_lineendsequence(l, &end);
		dwarf_linebeginstatement(l, &stmt);
		dwarf_lineprologueend(l, &pe);
		dwarf_linediscriminator(l, &disc);
		const char *src = dwarf_linesrc(l, NULL, NULL);
		const char *f = src ? keep_string(bd->lt, &bd->cap_strings, src) : NULL;
		int tab = f ? tab_of(b, f) : -1;
		if (tab < 0) {
			rc = -ENOMEM;
			break;
		}
		if (tab != s.cur_tab && !end) { /* a DW_LNS_set_file */
			s.last_tab = s.cur_tab;
			s.cur_tab = tab;
			s.nonzero_discr = disc != 0;
		} else if (ln != prev_line) { /* a discriminator sticks to its line */
			s.nonzero_discr = disc != 0;
		} else {
			s.nonzero_discr |= disc != 0;
		}
		prev_line = ln;

		bool file_changed = s.last_tab != s.cur_tab;
		bool ignore =
		    (file_changed && !end && s.last_addr == a && !stmt && s.stmt_at_addr) ||
		    (!end && ln == 0);
		if (((file_changed && !ignore) || end) && s.last_tab >= 0)
			rc = record(b, s.last_tab, 0, a, true, false);
		if (!rc && !end && !ignore) {
			if (file_changed || ln != s.last_line || !s.nonzero_discr)
				rc = record(b, s.cur_tab, ln, a, stmt, pe);
			s.last_tab = s.cur_tab;
			s.last_line = ln;
		}
		if (s.last_addr != a) {
			s.stmt_at_addr = false;
			s.last_addr = a;
		}
		s.stmt_at_addr |= stmt;
		if (end) { /* gdb's state machine starts afresh for each sequence */
			s = fresh;
			prev_line = -1;
		}
	}
	free(order);
	return rc;
}

/* The unit's own file first, then the others in the file table's order (gdb's filetabs). */
static void order_tabs(struct hs_lt_unit *u, const char *primary)
{
	for (size_t p = 0; p < u->ntabs; p++)
		if (primary && !strcmp(u->tabs[p].file, primary)) {
			struct hs_lt_symtab t = u->tabs[p];
			memmove(&u->tabs[1], &u->tabs[0], p * sizeof(t));
			u->tabs[0] = t;
			return;
		}
}

/* The unit's file as the line program names it: DW_AT_name against DW_AT_comp_dir. */
static void unit_file(Dwarf_Die *cu, char *buf, size_t len)
{
	const char *name = dwarf_diename(cu);
	Dwarf_Attribute a;
	const char *dir = dwarf_attr(cu, DW_AT_comp_dir, &a) ? dwarf_formstring(&a) : NULL;
	if (!name)
		buf[0] = 0;
	else if (name[0] == '/' || !dir)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s/%s", dir, name);
}

static int unit_ranges(Dwarf_Die *cu, struct build_unit *b)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	size_t cap = 0;
	b->u.low = UINT64_MAX;
	while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
		if (b->nranges == cap) {
			cap = cap ? cap * 2 : 8;
			struct range *nr = realloc(b->ranges, cap * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			b->ranges = nr;
		}
		b->ranges[b->nranges++] = (struct range){lo, hi};
		if (lo < b->u.low)
			b->u.low = lo;
		if (hi > b->u.high)
			b->u.high = hi;
	}
	return 0;
}

/* The ranges of every unit, after the units (freed with the table). */
struct hs_linetable_priv {
	struct hs_linetable lt;
	struct range **ranges;
	size_t *nranges;
};

static int add_unit(struct builder *bd, Dwarf_Die *cu, Dwarf_Lines *lines, size_t n)
{
	struct build_unit b = {0};
	int rc = unit_ranges(cu, &b);
	/* File 1, where each sequence starts (gdb 13 reads DWARF 5's index as is). */
	Dwarf_Files *files;
	size_t nfiles;
	int file1 = -1;
	if (dwarf_getsrcfiles(cu, &files, &nfiles))
		nfiles = 0;
	/* gdb makes a file's table for each entry of the file table, in its order. */
	for (size_t i = 0; i < nfiles && !rc; i++) {
		const char *f = dwarf_filesrc(files, i, NULL, NULL);
		const char *k = f ? keep_string(bd->lt, &bd->cap_strings, f) : NULL;
		int t = k ? tab_of(&b, k) : -1;
		if (f && t < 0)
			rc = -ENOMEM;
		if (i == 1)
			file1 = t;
	}

	if (!rc)
		rc = decode_unit(bd, &b, lines, n, file1);
	const char *name = dwarf_diename(cu);
	b.u.name = name ? keep_string(bd->lt, &bd->cap_strings, name) : "";
	if (!rc && !b.u.name)
		rc = -ENOMEM;
	if (!rc && bd->lt->nunits == bd->cap_units) {
		size_t nc = bd->cap_units ? bd->cap_units * 2 : 32;
		struct hs_lt_unit *nu = realloc(bd->lt->units, nc * sizeof(*nu));
		struct range **nr = realloc(bd->ranges, nc * sizeof(*nr));
		size_t *nn = realloc(bd->nranges, nc * sizeof(*nn));
		if (nu)
			bd->lt->units = nu;
		if (nr)
			bd->ranges = nr;
		if (nn)
			bd->nranges = nn;
		if (!nu || !nr || !nn)
			rc = -ENOMEM;
		else
			bd->cap_units = nc;
	}
	if (rc) {
		for (size_t i = 0; i < b.u.ntabs; i++)
			free(b.u.tabs[i].rows);
		free(b.u.tabs);
		free(b.cap_rows);
		free(b.ranges);
		return rc;
	}
	free(b.cap_rows);
	for (size_t i = 0; i < b.u.ntabs; i++)
		sort_rows(b.u.tabs[i].rows, b.u.tabs[i].nrows);
	char primary[1024];
	unit_file(cu, primary, sizeof(primary));
	if (b.u.ntabs)
		order_tabs(&b.u, primary);
	bd->ranges[bd->lt->nunits] = b.ranges;
	bd->nranges[bd->lt->nunits] = b.nranges;
	bd->lt->units[bd->lt->nunits++] = b.u;
	return 0;
}

int hs_linetable_build(const struct hs_image *img, struct hs_linetable **out, struct hs_error *err)
{
	*out = NULL;
	struct hs_linetable_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return hs_err(err, -ENOMEM, "out of memory");
	struct builder bd = {.lt = &p->lt};
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)img->file, img->file_size);
	Dwarf *dw = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	int rc = 0;
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (dw && !rc && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		Dwarf_Lines *lines;
		size_t n;
		if (dwarf_offdie(dw, off + hsize, &cu) && !dwarf_getsrclines(&cu, &lines, &n))
			rc = add_unit(&bd, &cu, lines, n);
		off = next;
	}
	if (dw)
		dwarf_end(dw);
	if (elf)
		elf_end(elf);
	p->ranges = bd.ranges;
	p->nranges = bd.nranges;
	if (rc) {
		hs_linetable_free(&p->lt);
		return hs_err(err, rc, "out of memory reading the line tables");
	}
	*out = &p->lt;
	return 0;
}

void hs_linetable_free(struct hs_linetable *lt)
{
	if (!lt)
		return;
	struct hs_linetable_priv *p = (struct hs_linetable_priv *)lt;
	for (size_t u = 0; u < lt->nunits; u++) {
		for (size_t i = 0; i < lt->units[u].ntabs; i++)
			free(lt->units[u].tabs[i].rows);
		free(lt->units[u].tabs);
		free(p->ranges[u]);
	}
	free(lt->units);
	free(p->ranges);
	free(p->nranges);
	for (size_t i = 0; i < lt->nstrings; i++)
		free(lt->strings[i]);
	free(lt->strings);
	free(p);
}

/* The first unit whose address ranges hold addr (gdb's find_pc_compunit_symtab). */
static const struct hs_lt_unit *unit_at(const struct hs_linetable *lt, uint64_t addr)
{
	const struct hs_linetable_priv *p = (const struct hs_linetable_priv *)lt;
	for (size_t u = 0; u < lt->nunits; u++)
		for (size_t r = 0; r < p->nranges[u]; r++)
			if (addr >= p->ranges[u][r].lo && addr < p->ranges[u][r].hi)
				return &lt->units[u];
	return NULL;
}

/* The first row after addr (upper bound). */
static size_t upper(const struct hs_lt_symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nrows;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->rows[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool hs_linetable_find(const struct hs_linetable *lt, uint64_t addr, struct hs_lt_sal *sal)
{
	*sal = (struct hs_lt_sal){.start = addr};
	const struct hs_lt_unit *u = lt ? unit_at(lt, addr) : NULL;
	if (!u)
		return false;
	const struct hs_lt_row *best = NULL, *alt = NULL;
	const struct hs_lt_symtab *best_tab = NULL;
	uint64_t best_end = 0;
	for (size_t i = 0; i < u->ntabs; i++) {
		const struct hs_lt_symtab *t = &u->tabs[i];
		if (!t->nrows)
			continue;
		const struct hs_lt_row *first = t->rows, *last = t->rows + t->nrows;
		if (first->addr > addr && (!alt || first->addr < alt->addr))
			alt = first;
		const struct hs_lt_row *item = t->rows + upper(t, addr);
		const struct hs_lt_row *prev = item != first ? item - 1 : NULL;
		/* An END (line 0) never becomes the best row. */
		if (prev && prev->line && (!best || prev->addr > best->addr)) {
			best = prev;
			best_tab = t;
			/* A non-statement row: a statement at the same address wins. */
			if (!best->is_stmt) {
				const struct hs_lt_row *tmp = best;
				while (tmp > first && (tmp - 1)->addr == tmp->addr &&
				       (tmp - 1)->line != 0 && !tmp->is_stmt)
					--tmp;
				if (tmp->is_stmt)
					best = tmp;
			}
			if (best_end <= best->addr)
				best_end = 0;
		}
		if (best && item != last && item->addr > best->addr &&
		    (best_end == 0 || best_end > item->addr))
			best_end = item->addr;
	}
	if (!best || best->line == 0)
		return false;
	sal->file = best_tab->file;
	sal->line = best->line;
	sal->is_stmt = best->is_stmt;
	sal->start = best->addr;
	if (best_end && (!alt || best_end < alt->addr))
		sal->end = best_end;
	else if (alt)
		sal->end = alt->addr;
	else
		sal->end = u->high;
	return true;
}
