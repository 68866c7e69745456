/* SPDX-License-Identifier: MIT */
/*
 * print, ptype, whatis, display, undisplay, info display/symbol/line: the
 * expression evaluator (expr.c) bound to the session's machine. Registers are
 * those of the current CPU; symbols are HYP VAs (what the hypervisor's own
 * pointers hold); memory without a space prefix is the EL2 VA space, read
 * through TTBR0_EL2 (or flat with the MMU off, where an address in the image's
 * HYP VA range is read at the PA the image is loaded at).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_frame.h"
#include "cmd_locals.h"
#include "cmd_print.h"
#include "dwarf_types.h"
#include "expr.h"

struct cli_conv {
	char name[32];
	struct cli_value v;
};

struct cli_display {
	int id;
	char fmt[16]; /* "" or "/x", "/4i" ... */
	char *expr;
	bool enabled;
};

struct cli_expr_state {
	struct cli_dwarf *dwarf;
	bool dwarf_tried;
	char dwarf_err[256];
	struct cli_type_arena arena;
	struct cli_value *hist; /* $1, $2, ... */
	size_t nhist, caphist;
	struct cli_conv *conv;
	size_t nconv, capconv;
	struct cli_display *disp;
	size_t ndisp, capdisp;
	int next_disp;
};

static void expr_free(struct cli *c, bool all)
{
	if (all)
		cli_expr_free(c);
	else
		cli_expr_machine_gone(c);
}

static struct cli_expr_state *st_of(struct cli *c)
{
	if (!c->expr) {
		c->expr = calloc(1, sizeof(*c->expr));
		c->expr_free = expr_free;
	}
	return c->expr;
}

void cli_expr_machine_gone(struct cli *c)
{
	struct cli_expr_state *s = c->expr;
	if (!s)
		return;
	/* Types die with the image: forget every value that points at one. */
	cli_dwarf_close(s->dwarf);
	s->dwarf = NULL;
	s->dwarf_tried = false;
	cli_type_arena_free(&s->arena);
	free(s->hist);
	s->hist = NULL;
	s->nhist = s->caphist = 0;
	free(s->conv);
	s->conv = NULL;
	s->nconv = s->capconv = 0;
}

void cli_expr_free(struct cli *c)
{
	cli_expr_machine_gone(c);
	struct cli_expr_state *s = c->expr;
	if (!s)
		return;
	for (size_t i = 0; i < s->ndisp; i++)
		free(s->disp[i].expr);
	free(s->disp);
	free(s);
	c->expr = NULL;
}

static struct cli_dwarf *dwarf_of(struct cli *c)
{
	struct cli_expr_state *s = st_of(c);
	if (!s || !c->m)
		return NULL;
	if (!s->dwarf_tried) {
		s->dwarf_tried = true;
		const struct hs_image *img = hs_machine_image(c->m);
		if (cli_dwarf_open(img->file, img->file_size, &s->dwarf, s->dwarf_err,
				   sizeof(s->dwarf_err)))
			s->dwarf = NULL;
	}
	return s->dwarf;
}

/* ---- the machine behind the evaluator ------------------------------------------ */

static const struct cli_type *u64_type(void)
{
	return cli_type_builtin("long");
}

static bool reg_index(const char *name, unsigned *n)
{
	if ((name[0] != 'x' && name[0] != 'w') || !isdigit((unsigned char)name[1]))
		return false;
	char *end;
	unsigned long v = strtoul(name + 1, &end, 10);
	if (*end || v > 30)
		return false;
	*n = (unsigned)v;
	return true;
}

static int sysreg_by_name(const char *name)
{
	for (int r = 0; r < HS_SR_COUNT; r++)
		if (!strcasecmp(hs_sysreg_desc(r)->name, name))
			return r;
	return -1;
}

bool cli_is_register_name(const char *name)
{
	static const char *const named[] = {"pc", "sp", "fp", "lr", "pstate", "cpsr"};
	unsigned n;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strcmp(name, named[i]))
			return true;
	return reg_index(name, &n) || sysreg_by_name(name) >= 0;
}

static int ev_var(void *ud, const char *name, struct cli_value *out)
{
	struct cli *c = ud;
	struct cli_expr_state *s = st_of(c);
	/* $N, $, $$, $$N: the value history */
	if (s && (isdigit((unsigned char)name[0]) || name[0] == '\0' || name[0] == '$')) {
		size_t idx;
		if (isdigit((unsigned char)name[0])) {
			idx = strtoul(name, NULL, 10);
		} else {
			size_t back =
			    name[0] == '$' ? (name[1] ? strtoul(name + 1, NULL, 10) : 1) : 0;
			idx = s->nhist > back ? s->nhist - back : 0;
		}
		if (idx == 0 || idx > s->nhist)
			return -1;
		*out = s->hist[idx - 1];
		return 0;
	}
	for (size_t i = 0; s && i < s->nconv; i++)
		if (!strcmp(s->conv[i].name, name)) {
			*out = s->conv[i].v;
			out->lval = CLI_LV_REG;
			snprintf(out->reg, sizeof(out->reg), "%s", name);
			return 0;
		}
	if (!strcmp(name, "bpnum")) { /* the newest breakpoint, as gdb's $bpnum */
		*out = (struct cli_value){.type = cli_type_builtin("int"),
					  .v = (uint64_t)cli_bps_newest(&c->bps)};
		return 0;
	}
	if (!c->m)
		return -1;
	unsigned cpu = hs_current_cpu(c->m);
	struct hs_cpu_state cs;
	hs_cpu_state(c->m, cpu, &cs);
	struct cli_frame fr;
	if (cli_frame_selected(c, &fr)) {
		/* frame/up/down: the selected frame's registers, as unwound (0: not saved). */
		cs.pc = fr.regs.pc;
		for (unsigned i = 0; i < 31; i++)
			cs.x[i] = fr.regs.known & (1u << i) ? fr.regs.r[i] : 0;
		cs.sp = fr.regs.known & (1u << HS_CFI_SP) ? fr.regs.r[HS_CFI_SP] : 0;
	}
	const struct cli_type *vp = cli_type_pointer_to(&s->arena, cli_type_builtin("void"));
	unsigned n;
	*out = (struct cli_value){.type = u64_type(), .lval = CLI_LV_REG};
	snprintf(out->reg, sizeof(out->reg), "%s", name);
	if (!strcmp(name, "pc")) {
		out->type = vp;
		out->v = cs.pc;
	} else if (!strcmp(name, "sp")) {
		out->type = vp;
		out->v = cs.sp;
	} else if (!strcmp(name, "fp")) {
		out->type = vp;
		out->v = cs.x[29];
	} else if (!strcmp(name, "lr")) {
		out->type = vp;
		out->v = cs.x[30];
	} else if (!strcmp(name, "cpsr") || !strcmp(name, "pstate")) {
		out->type = cli_type_builtin("int");
		out->v = cs.pstate & 0xffffffffu;
	} else if (!strcmp(name, "el")) {
		out->type = cli_type_builtin("int");
		out->v = cs.el;
		out->lval = CLI_LV_NONE;
	} else if (!strcmp(name, "cpu")) {
		out->type = cli_type_builtin("int");
		out->v = cpu;
		out->lval = CLI_LV_NONE;
	} else if (reg_index(name, &n)) {
		out->v = name[0] == 'w' ? (uint64_t)(int64_t)(int32_t)cs.x[n] : cs.x[n];
		if (name[0] == 'w') {
			out->type = cli_type_builtin("int");
			out->v &= 0xffffffffu;
			out->v = (uint64_t)(int64_t)(int32_t)out->v;
		}
	} else {
		int r = sysreg_by_name(name);
		if (r < 0)
			return -1;
		out->type = cli_type_builtin("unsigned long");
		hs_cpu_sysreg(c->m, cpu, (enum hs_sysreg)r, &out->v);
	}
	return 0;
}

static int ev_var_set(void *ud, const char *name, const struct cli_value *v, char *err, size_t len)
{
	struct cli *c = ud;
	struct cli_expr_state *s = st_of(c);
	unsigned n;
	struct hs_error e = {0};
	if (c->m) {
		unsigned cpu = hs_current_cpu(c->m);
		if (reg_index(name, &n)) {
			uint64_t val = v->v;
			if (name[0] == 'w')
				val &= 0xffffffffu; /* a W write zeroes the upper half */
			return hs_debug_set_xreg(c->m, cpu, n, val, &e)
			       ? snprintf(err, len, "%s", e.msg),
			       -1 : 0;
		}
		int r = sysreg_by_name(name);
		enum hs_debug_reg dr = !strcmp(name, "pc")   ? HS_DBG_REG_PC
				       : !strcmp(name, "sp") ? HS_DBG_REG_SP
				       : !strcmp(name, "fp") ? HS_DBG_REG_X29
				       : !strcmp(name, "lr") ? HS_DBG_REG_X30
				       : !strcmp(name, "cpsr") || !strcmp(name, "pstate")
					   ? HS_DBG_REG_PSTATE
					   : HS_DBG_REG_NONE;
		if (dr == HS_DBG_REG_X29 || dr == HS_DBG_REG_X30)
			return hs_debug_set_xreg(c->m, cpu, dr == HS_DBG_REG_X29 ? 29 : 30, v->v,
						 &e)
			       ? snprintf(err, len, "%s", e.msg),
			       -1 : 0;
		if (dr != HS_DBG_REG_NONE)
			return hs_debug_set_special(c->m, cpu, dr, v->v, &e)
			       ? snprintf(err, len, "%s", e.msg),
			       -1 : 0;
		if (r >= 0)
			return hs_debug_set_sysreg(c->m, cpu, (enum hs_sysreg)r, v->v, &e)
			       ? snprintf(err, len, "%s", e.msg),
			       -1 : 0;
		if (!strcmp(name, "el") || !strcmp(name, "cpu")) {
			snprintf(err, len, "$%s is read-only", name);
			return -1;
		}
	}
	if (!s || isdigit((unsigned char)name[0]) || name[0] == '$') {
		snprintf(err, len, "the value history is read-only");
		return -1;
	}
	/* A convenience variable. */
	for (size_t i = 0; i < s->nconv; i++)
		if (!strcmp(s->conv[i].name, name)) {
			s->conv[i].v = *v;
			return 0;
		}
	if (s->nconv == s->capconv) {
		size_t cap = s->capconv ? 2 * s->capconv : 16;
		struct cli_conv *nv = realloc(s->conv, cap * sizeof(*nv));
		if (!nv) {
			snprintf(err, len, "out of memory");
			return -1;
		}
		s->conv = nv;
		s->capconv = cap;
	}
	snprintf(s->conv[s->nconv].name, sizeof(s->conv[0].name), "%s", name);
	s->conv[s->nconv++].v = *v;
	return 0;
}

static int ev_sym(void *ud, const char *name, uint64_t *addr, const struct cli_type **type)
{
	struct cli *c = ud;
	if (!c->m)
		return -1;
	const struct hs_symbol *sym = hs_image_symbol(hs_machine_image(c->m), name);
	if (!sym)
		return -1;
	*addr = hs_link_to_hyp_va(c->m, sym->addr);
	*type = cli_dwarf_var_type(dwarf_of(c), name);
	if (!*type && sym->is_func)
		*type = cli_type_builtin("<text variable, no debug info>");
	return 0;
}

static enum cli_space space_of(enum cli_xspace sp)
{
	return sp == CLI_XS_PA ? SP_PA : sp == CLI_XS_IPA ? SP_IPA : SP_VA;
}

static int ev_read(void *ud, enum cli_xspace sp, uint64_t addr, void *buf, size_t len, char *err,
		   size_t elen)
{
	struct cli *c = ud;
	if (!c->m) {
		snprintf(err, elen, "no machine");
		return -1;
	}
	return cli_read(c, space_of(sp), addr, buf, len, err, elen) ? -1 : 0;
}

static int ev_write(void *ud, enum cli_xspace sp, uint64_t addr, const void *buf, size_t len,
		    char *err, size_t elen)
{
	struct cli *c = ud;
	if (!c->m) {
		snprintf(err, elen, "no machine");
		return -1;
	}
	/* Translate page by page (as cli_read), then write physically. */
	const uint8_t *in = buf;
	while (len) {
		size_t chunk = HS_PAGE_SIZE - (addr & (HS_PAGE_SIZE - 1));
		chunk = chunk < len ? chunk : len;
		uint64_t pa;
		if (cli_to_pa(c, space_of(sp), addr, &pa, err, elen))
			return -1;
		struct hs_error e = {0};
		if (hs_debug_write(c->m, hs_current_cpu(c->m), pa, in, chunk, &e)) {
			snprintf(err, elen, "%s", e.msg);
			return -1;
		}
		in += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

static const struct cli_type *ev_type(void *ud, const char *tag, const char *name)
{
	return cli_dwarf_type(dwarf_of(ud), tag, name);
}

static bool ev_symbolize(void *ud, uint64_t addr, char *buf, size_t len)
{
	struct cli *c = ud;
	return c->m && hs_symbolize(c->m, addr, buf, len);
}

static int ev_local(void *ud, const char *name, struct cli_value *out, char *err, size_t len)
{
	return cli_local_value(ud, dwarf_of(ud), name, out, err, len);
}

void cli_expr_ops_of(struct cli *c, struct cli_expr_ops *ops)
{
	struct cli_expr_state *s = st_of(c);
	*ops = (struct cli_expr_ops){.ud = c,
				     .arena = s ? &s->arena : NULL,
				     .var = ev_var,
				     .var_set = ev_var_set,
				     .sym = ev_sym,
				     .local = ev_local,
				     .read = ev_read,
				     .write = ev_write,
				     .type = ev_type,
				     .symbolize = ev_symbolize};
}

/* The raw text of argument i to the end of the line (quotes and spacing kept). */
const char *cli_raw_args(struct cli *c, int argc, char **argv, int i, char *buf, size_t len)
{
	if (c->cur_line && c->arg_cols && c->arg_cols[i] > 0 &&
	    (size_t)c->arg_cols[i] <= strlen(c->cur_line) + 1) {
		snprintf(buf, len, "%s", c->cur_line + c->arg_cols[i] - 1);
		/* drop what the splitter drops: a trailing comment, the line end */
		char *hash = strstr(buf, " #");
		if (hash)
			*hash = '\0';
		size_t n = strlen(buf);
		while (n && isspace((unsigned char)buf[n - 1]))
			buf[--n] = '\0';
		return buf;
	}
	buf[0] = '\0';
	for (int k = i; k < argc; k++) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, "%s%s", k > i ? " " : "", argv[k]);
	}
	return buf;
}

int cli_expr_eval_line(struct cli *c, const char *text, int base_col, struct cli_value *out)
{
	struct cli_expr_ops ops;
	cli_expr_ops_of(c, &ops);
	char err[512];
	int col = 0;
	if (cli_expr_eval(&ops, text, out, err, sizeof(err), &col)) {
		if (col > 0 && base_col > 0)
			c->err_col = base_col + col - 1;
		return cli_error(c, "%s", err);
	}
	return 0;
}

/* /FMT of print and display: a letter, perhaps a count (display/4i). */
static int parse_fmt(struct cli *c, const char *cmd, const char *w, char *fmt, unsigned *count)
{
	const char *p = w + 1;
	*count = 1;
	if (isdigit((unsigned char)*p)) {
		*count = (unsigned)strtoul(p, (char **)&p, 10);
		if (!*count || *count > 65536)
			return cli_error(c, "%s: bad count in '%s'", cmd, w);
	}
	*fmt = 0;
	for (; *p; p++) {
		if (strchr("xduotcazsi", *p))
			*fmt = *p;
		else if (!strchr("bhwg", *p))
			return cli_error(
			    c,
			    "%s: format letter '%c' in '%s': give x, d, u, o, t, c, a, "
			    "z, s (or i for display)",
			    cmd, *p, w);
	}
	return 0;
}

static int record(struct cli *c, const struct cli_value *v)
{
	struct cli_expr_state *s = st_of(c);
	if (!s)
		return 0;
	if (s->nhist == s->caphist) {
		size_t cap = s->caphist ? 2 * s->caphist : 32;
		struct cli_value *nv = realloc(s->hist, cap * sizeof(*nv));
		if (!nv)
			return 0;
		s->hist = nv;
		s->caphist = cap;
	}
	s->hist[s->nhist] = *v;
	return (int)++s->nhist;
}

static int print_value(struct cli *c, const struct cli_value *v, char fmt, struct hs_strbuf *sb)
{
	struct cli_expr_ops ops;
	cli_expr_ops_of(c, &ops);
	char err[512];
	if (cli_value_format(&ops, v, fmt, sb, err, sizeof(err)))
		return cli_error(c, "%s", err);
	return 0;
}

int cmd_print(struct cli *c, int argc, char **argv)
{
	int i = 1;
	char fmt = 0;
	unsigned count;
	if (argc > 1 && argv[1][0] == '/') {
		if (parse_fmt(c, "print", argv[1], &fmt, &count))
			return -1;
		if (fmt == 'i')
			return cli_error(c, "print: format 'i' is for x and display");
		i = 2;
	}
	struct cli_value v;
	if (i >= argc) {
		struct cli_expr_state *s = st_of(c);
		if (!s || !s->nhist)
			return cli_error(c, "print: the value history is empty");
		v = s->hist[s->nhist - 1];
	} else {
		char text[2048];
		cli_raw_args(c, argc, argv, i, text, sizeof(text));
		if (cli_expr_eval_line(c, text, c->arg_cols ? c->arg_cols[i] : 0, &v))
			return -1;
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	int rc = print_value(c, &v, fmt, &sb);
	if (!rc) {
		bool is_void = cli_type_resolve(v.type)->kind == CLI_T_VOID && v.lval != CLI_LV_MEM;
		if (is_void)
			printf("$%d = void\n", 0 * record(c, &v) + (int)st_of(c)->nhist);
		else
			printf("$%d = %s\n", record(c, &v), hs_sb_str(&sb));
	}
	hs_sb_free(&sb);
	return rc;
}

static int type_cmd(struct cli *c, int argc, char **argv, bool expand)
{
	char text[2048];
	cli_raw_args(c, argc, argv, 1, text, sizeof(text));
	struct cli_expr_ops ops;
	cli_expr_ops_of(c, &ops);
	char err[512];
	const struct cli_type *t = cli_expr_parse_type(&ops, text, err, sizeof(err));
	bool is_type_name = t != NULL;
	if (!t) {
		struct cli_value v;
		if (cli_expr_eval_type(&ops, text, &v, err, sizeof(err)))
			return cli_error(c, "%s", err);
		t = v.type;
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (expand)
		cli_type_print(t, &sb);
	else if (is_type_name && t->kind == CLI_T_TYPEDEF)
		cli_type_name(t->target, &sb); /* whatis TYPEDEF unrolls one level */
	else
		cli_type_name(t, &sb);
	printf("type = %s\n", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return 0;
}

int cmd_ptype(struct cli *c, int argc, char **argv)
{
	return type_cmd(c, argc, argv, true);
}

int cmd_whatis(struct cli *c, int argc, char **argv)
{
	return type_cmd(c, argc, argv, false);
}

/* ---- display --------------------------------------------------------------------- */

static void show_display(struct cli *c, const struct cli_display *d)
{
	if (!d->enabled)
		return;
	char fmt = 0;
	unsigned count = 1;
	if (*d->fmt && parse_fmt(c, "display", d->fmt, &fmt, &count))
		return;
	if (fmt == 'i' || fmt == 's') {
		/* display/i EXPR: like x/i (gdb prints the x form) */
		struct cli_value v;
		printf("%d: x%s %s\n", d->id, d->fmt, d->expr);
		if (cli_expr_eval_line(c, d->expr, 0, &v))
			return;
		int64_t a;
		if (!cli_value_int(&v, &a)) {
			cli_error(c, "display %d: '%s' is not an address", d->id, d->expr);
			return;
		}
		if (fmt == 'i') {
			cli_disas(c, v.space == CLI_XS_PA ? SP_PA : SP_VA, (uint64_t)a, count,
				  true);
		} else {
			struct hs_strbuf sb;
			hs_sb_init(&sb);
			struct cli_value p = v;
			p.type = cli_type_pointer_to(&st_of(c)->arena, cli_type_builtin("char"));
			if (p.type && !print_value(c, &p, 's', &sb))
				printf("%s\n", hs_sb_str(&sb));
			hs_sb_free(&sb);
		}
		return;
	}
	struct cli_value v;
	if (cli_expr_eval_line(c, d->expr, 0, &v))
		return;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (!print_value(c, &v, fmt, &sb))
		printf("%d: %s%s%s = %s\n", d->id, d->fmt, *d->fmt ? " " : "", d->expr,
		       hs_sb_str(&sb));
	hs_sb_free(&sb);
}

void cli_show_displays(struct cli *c)
{
	struct cli_expr_state *s = c->expr;
	if (!s || !c->m || c->json)
		return;
	for (size_t i = 0; i < s->ndisp; i++)
		show_display(c, &s->disp[i]);
}

int cmd_display(struct cli *c, int argc, char **argv)
{
	struct cli_expr_state *s = st_of(c);
	if (!s)
		return cli_error(c, "out of memory");
	if (argc == 1) {
		cli_show_displays(c);
		return 0;
	}
	int i = 1;
	char fmtw[16] = "";
	if (argv[1][0] == '/') {
		char fmt;
		unsigned count;
		if (parse_fmt(c, "display", argv[1], &fmt, &count))
			return -1;
		snprintf(fmtw, sizeof(fmtw), "%s", argv[1]);
		i = 2;
		if (argc < 3)
			return cli_error(c,
					 "display: missing expression; usage: display[/FMT] EXPR");
	}
	char text[2048];
	cli_raw_args(c, argc, argv, i, text, sizeof(text));
	/* Check it parses and evaluates now, as gdb does. */
	struct cli_value v;
	if (cli_expr_eval_line(c, text, c->arg_cols ? c->arg_cols[i] : 0, &v))
		return -1;
	if (s->ndisp == s->capdisp) {
		size_t cap = s->capdisp ? 2 * s->capdisp : 8;
		struct cli_display *nv = realloc(s->disp, cap * sizeof(*nv));
		if (!nv)
			return cli_error(c, "out of memory");
		s->disp = nv;
		s->capdisp = cap;
	}
	struct cli_display *d = &s->disp[s->ndisp];
	*d = (struct cli_display){.id = ++s->next_disp, .enabled = true, .expr = strdup(text)};
	if (!d->expr)
		return cli_error(c, "out of memory");
	snprintf(d->fmt, sizeof(d->fmt), "%s", fmtw);
	s->ndisp++;
	show_display(c, d);
	return 0;
}

int cmd_undisplay(struct cli *c, int argc, char **argv)
{
	struct cli_expr_state *s = st_of(c);
	if (!s)
		return 0;
	if (argc == 1) {
		for (size_t i = 0; i < s->ndisp; i++)
			free(s->disp[i].expr);
		s->ndisp = 0;
		return 0;
	}
	for (int k = 1; k < argc; k++) {
		int64_t id;
		if (!cli_parse_num(argv[k], &id))
			return cli_error(c, "undisplay: '%s' is not a display number", argv[k]);
		size_t i;
		for (i = 0; i < s->ndisp && s->disp[i].id != id; i++)
			;
		if (i == s->ndisp)
			return cli_error(c, "undisplay: no display number %" PRId64, id);
		free(s->disp[i].expr);
		memmove(&s->disp[i], &s->disp[i + 1], (s->ndisp - i - 1) * sizeof(s->disp[0]));
		s->ndisp--;
	}
	return 0;
}

int cli_info_display(struct cli *c, struct hs_strbuf *sb)
{
	struct cli_expr_state *s = c->expr;
	if (!s || !s->ndisp) {
		hs_sb_puts(sb, "There are no auto-display expressions now.\n");
		return 0;
	}
	hs_sb_puts(sb, "Auto-display expressions now in effect:\nNum Enb Expression\n");
	for (size_t i = 0; i < s->ndisp; i++)
		hs_sb_printf(sb, "%-3d %c   %s%s%s\n", s->disp[i].id,
			     s->disp[i].enabled ? 'y' : 'n', s->disp[i].fmt,
			     *s->disp[i].fmt ? " " : "", s->disp[i].expr);
	return 0;
}

/* ---- info symbol / info line ------------------------------------------------------ */

int cli_info_symbol(struct cli *c, const char *text, int col, struct hs_strbuf *sb)
{
	struct cli_value v;
	if (cli_expr_eval_line(c, text, col, &v))
		return -1;
	int64_t a;
	if (!cli_value_int(&v, &a)) {
		if (v.lval != CLI_LV_MEM)
			return cli_error(c, "info symbol: '%s' is not an address", text);
		a = (int64_t)v.addr;
	}
	uint64_t link, off;
	const struct hs_image *img = hs_machine_image(c->m);
	const struct hs_symbol *sym = NULL;
	if (hs_addr_to_link(c->m, (uint64_t)a, &link))
		sym = hs_image_symbolize(img, link, &off);
	if (!sym || (sym->size && off >= sym->size)) {
		hs_sb_printf(sb, "No symbol matches %s.\n", text);
		return 0;
	}
	const char *sec = cli_dwarf_section(dwarf_of(c), link);
	if (off)
		hs_sb_printf(sb, "%s + %" PRIu64, sym->name, off);
	else
		hs_sb_puts(sb, sym->name);
	hs_sb_printf(sb, " in section %s\n", sec ? sec : "?");
	return 0;
}

int cli_expr_eval_addr(struct cli *c, const char *s, bool spaced, uint64_t *out)
{
	struct cli_value v;
	if (cli_expr_eval_line(c, s, 0, &v))
		return -1;
	int64_t iv;
	if (cli_value_int(&v, &iv)) {
		*out = (uint64_t)iv;
	} else if (v.lval == CLI_LV_MEM) {
		*out = v.addr; /* an array or a struct: its address, as for &obj */
	} else {
		return cli_error(c, "'%s' is not a number or an address", s);
	}
	(void)spaced;
	return 0;
}

/* ---- info args / info locals ------------------------------------------------------- */

static const char *pointer_bare(const struct cli_value *v, const char *text)
{
	const char *close = strstr(text, ") 0x");
	if (cli_type_resolve(v->type)->kind == CLI_T_PTR && text[0] == '(' && close)
		return close + 2;
	return text;
}

static int info_vars(struct cli *c, bool params, struct hs_strbuf *sb)
{
	struct hs_var vars[CLI_MAX_VARS];
	int n = cli_frame_vars(c, params, vars, CLI_MAX_VARS);
	if (n < 0)
		return cli_error(c,
				 "info %s: no symbol table info available (no DWARF function here)",
				 params ? "args" : "locals");
	if (!n)
		hs_sb_puts(sb, params ? "No arguments.\n" : "No locals.\n");
	struct cli_expr_ops ops;
	cli_expr_ops_of(c, &ops);
	for (int i = 0; i < n; i++) {
		struct cli_value v;
		char err[256];
		struct hs_strbuf val;
		hs_sb_init(&val);
		bool shown = cli_var_value(dwarf_of(c), &vars[i], &v);
		if (shown && cli_value_format(&ops, &v, 0, &val, err, sizeof(err)))
			hs_sb_printf(sb, "%s = <error: %s>", vars[i].name, err);
		else if (!shown)
			hs_sb_printf(sb, "%s = <optimized out>", vars[i].name);
		else /* gdb's info locals shows a pointer without print's "(type *) " */
			hs_sb_printf(sb, "%s = %s", vars[i].name, pointer_bare(&v, val.data));
		hs_sb_free(&val);
		hs_sb_puts(sb, "\n");
	}
	return 0;
}

int cli_info_args(struct cli *c, struct hs_strbuf *sb)
{
	return info_vars(c, true, sb);
}

int cli_info_locals(struct cli *c, struct hs_strbuf *sb)
{
	return info_vars(c, false, sb);
}
