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
#include "cmd_locals.h"
#include "dwarf_types.h"
#include "image_locals.h"

static int read_va(void *ud, uint64_t va, uint64_t *val)
{
	char err[128];
	return cli_read(ud, SP_VA, va, val, 8, err, sizeof(err));
}

static uint64_t reloc(void *ud, uint64_t link)
{
	return hs_link_to_hyp_va(((struct cli *)ud)->m, link);
}

int cli_frame_vars(struct cli *c, bool params, struct hs_var *out, unsigned max)
{
	struct hs_dwarf *dw = cli_image_dwarf(c);
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

bool cli_var_value(struct cli_dwarf *d, const struct hs_var *v, struct cli_value *out)
{
	const struct cli_type *t = cli_dwarf_type_at(d, v->type_off);
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

int cli_local_value(struct cli *c, struct cli_dwarf *d, const char *name, struct cli_value *out,
		    char *err, size_t len)
{
	struct hs_var vars[CLI_MAX_VARS];
	for (int params = 0; params < 2; params++) {
		int n = cli_frame_vars(c, params, vars, CLI_MAX_VARS);
		for (int i = 0; i < n; i++) {
			if (strcmp(vars[i].name, name))
				continue;
			if (cli_var_value(d, &vars[i], out))
				return 0;
			snprintf(err, len, "%s: <optimized out> at this PC", name);
			return -1;
		}
	}
	return 1;
}
