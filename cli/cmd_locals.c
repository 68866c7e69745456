/* SPDX-License-Identifier: MIT */
/*
 * The selected frame's arguments and locals (emu/machine/image_locals.c reads
 * their DWARF locations): `info args`, `info locals`, and their names in
 * expressions (`print phys`), as gdb shows them; a value the DWARF does not
 * give at the PC is <optimized out>, never a guess.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "cmd_frame.h"
#include "cmd_print.h"
#include "dwarf_types.h"
#include "image_locals.h"

#define CLI_MAX_VARS 128

static int read_va(void *ud, uint64_t va, uint64_t *val)
{
	char err[128];
	return cli_read(ud, SP_VA, va, val, 8, err, sizeof(err));
}

static uint64_t reloc(void *ud, uint64_t link)
{
	return hs_link_to_hyp_va(((struct cli *)ud)->m, link);
}

/* The selected frame's variables (params or locals); -1 when its function has no DWARF. */
static int frame_vars(struct cli *c, bool params, struct hs_var *out, unsigned max)
{
	struct hs_dwarf *dw = cli_frame_dwarf(c);
	struct cli_frame f[CLI_MAX_FRAMES], sel;
	char why[256];
	if (!dw || !c->m)
		return -1;
	if (!cli_frame_selected(c, &sel)) {
		if (!cli_unwind(c, f, 1, why, sizeof(why)))
			return -1;
		sel = f[0];
	}
	if (!sel.in_image)
		return -1;
	struct hs_var_frame fr = {.look = sel.look,
				  .inline_depth = sel.inline_depth,
				  .regs = sel.regs,
				  .cfa = sel.phys_cfa,
				  .have_cfa = sel.have_phys_cfa,
				  .read = read_va,
				  .reloc = reloc,
				  .ud = c};
	return hs_dwarf_frame_vars(dw, &fr, params, out, max);
}

/* The value of variable v with its DWARF type; false when it cannot be shown (optimized out). */
static bool var_value(struct cli *c, const struct hs_var *v, struct cli_value *out)
{
	const struct cli_type *t = cli_dwarf_type_at(cli_expr_dwarf(c), v->type_off);
	if (!t || v->where == HS_VAR_OPTIMIZED)
		return false;
	const struct cli_type *r = cli_type_resolve(t);
	bool scalar = r->kind == CLI_T_INT || r->kind == CLI_T_ENUM || r->kind == CLI_T_PTR;
	if (v->where == HS_VAR_MEM) {
		*out = (struct cli_value){
		    .type = t, .lval = CLI_LV_MEM, .addr = v->addr, .lazy = scalar};
		return true;
	}
	if (!scalar || !r->size || r->size > 8)
		return false; /* an aggregate in registers: not shown rather than shown wrong */
	uint64_t x = v->value;
	if (r->size < 8) {
		unsigned bits = (unsigned)r->size * 8;
		x &= (1ull << bits) - 1;
		if (r->is_signed && (x >> (bits - 1)))
			x |= ~0ull << bits;
	}
	*out = (struct cli_value){.type = t, .v = x};
	return true;
}

int cli_local_value(void *ud, const char *name, struct cli_value *out, char *err, size_t len)
{
	struct cli *c = ud;
	struct hs_var vars[CLI_MAX_VARS];
	for (int params = 0; params < 2; params++) {
		int n = frame_vars(c, params, vars, CLI_MAX_VARS);
		for (int i = 0; i < n; i++) {
			if (strcmp(vars[i].name, name))
				continue;
			if (var_value(c, &vars[i], out))
				return 0;
			snprintf(err, len, "%s: <optimized out> at this PC", name);
			return -1;
		}
	}
	return 1;
}

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
	int n = frame_vars(c, params, vars, CLI_MAX_VARS);
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
		bool shown = var_value(c, &vars[i], &v);
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
