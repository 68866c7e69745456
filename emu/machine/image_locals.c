/* SPDX-License-Identifier: MIT */
/* Arguments and locals of a frame from DWARF locations (see image_locals.h). */
#include "image_locals.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "image_scope_path.h"

#define EVAL_STACK 16

/* The frame base of the function `fn` at look: GCC gives DW_OP_call_frame_cfa. */
static bool frame_base(Dwarf_Die *fn, const struct hs_var_frame *fr, uint64_t *out)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	if (!dwarf_attr_integrate(fn, DW_AT_frame_base, &a) ||
	    dwarf_getlocation_addr(&a, fr->look, &ops, &n, 1) != 1 || n != 1)
		return false;
	if (ops[0].atom == DW_OP_call_frame_cfa && fr->have_cfa) {
		*out = fr->cfa;
		return true;
	}
	unsigned r = ops[0].atom - DW_OP_breg0;
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31 &&
	    (fr->regs.known & (1u << r))) {
		*out = fr->regs.r[r] + (uint64_t)(int64_t)ops[0].number;
		return true;
	}
	return false;
}

static bool reg_value(const struct hs_var_frame *fr, unsigned r, uint64_t *v)
{
	if (r >= HS_CFI_NR_REGS || !(fr->regs.known & (1u << r)))
		return false;
	*v = fr->regs.r[r];
	return true;
}

/*
 * Evaluate one location expression into *v. Anything not understood leaves the
 * variable optimized out rather than guessing.
 */
static void eval(Dwarf_Die *fn, const struct hs_var_frame *fr, const Dwarf_Op *ops, size_t n,
		 struct hs_var *v)
{
	uint64_t st[EVAL_STACK];
	unsigned sp = 0;
	v->where = HS_VAR_OPTIMIZED;
	if (n == 1 && ((ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) ||
		       ops[0].atom == DW_OP_regx)) {
		unsigned r = ops[0].atom == DW_OP_regx ? (unsigned)ops[0].number
						       : (unsigned)(ops[0].atom - DW_OP_reg0);
		if (reg_value(fr, r, &v->value)) {
			v->where = HS_VAR_REG;
			v->reg = r;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const Dwarf_Op *o = &ops[i];
		uint64_t x;
		if (sp == EVAL_STACK)
			return;
		if (o->atom >= DW_OP_lit0 && o->atom <= DW_OP_lit31) {
			st[sp++] = o->atom - DW_OP_lit0;
			continue;
		}
		if (o->atom >= DW_OP_breg0 && o->atom <= DW_OP_breg31) {
			if (!reg_value(fr, o->atom - DW_OP_breg0, &x))
				return;
			st[sp++] = x + (uint64_t)(int64_t)o->number;
			continue;
		}
		switch (o->atom) {
		case DW_OP_addr:
			st[sp++] = fr->reloc ? fr->reloc(fr->ud, o->number) : o->number;
			break;
		case DW_OP_const1u:
		case DW_OP_const2u:
		case DW_OP_const4u:
		case DW_OP_const8u:
		case DW_OP_constu:
			st[sp++] = o->number;
			break;
		case DW_OP_const1s:
		case DW_OP_const2s:
		case DW_OP_const4s:
		case DW_OP_const8s:
		case DW_OP_consts:
			st[sp++] = (uint64_t)(int64_t)o->number;
			break;
		case DW_OP_fbreg:
			if (!frame_base(fn, fr, &x))
				return;
			st[sp++] = x + (uint64_t)(int64_t)o->number;
			break;
		case DW_OP_call_frame_cfa:
			if (!fr->have_cfa)
				return;
			st[sp++] = fr->cfa;
			break;
		case DW_OP_plus_uconst:
			if (!sp)
				return;
			st[sp - 1] += o->number;
			break;
		case DW_OP_plus:
		case DW_OP_minus:
		case DW_OP_and:
		case DW_OP_or:
		case DW_OP_mul:
			if (sp < 2)
				return;
			sp--;
			st[sp - 1] = o->atom == DW_OP_plus    ? st[sp - 1] + st[sp]
				     : o->atom == DW_OP_minus ? st[sp - 1] - st[sp]
				     : o->atom == DW_OP_and   ? st[sp - 1] & st[sp]
				     : o->atom == DW_OP_or    ? st[sp - 1] | st[sp]
							      : st[sp - 1] * st[sp];
			break;
		case DW_OP_deref:
			if (!sp || !fr->read || fr->read(fr->ud, st[sp - 1], &st[sp - 1]))
				return;
			break;
		case DW_OP_stack_value:
			if (!sp || i + 1 != n)
				return;
			v->where = HS_VAR_VALUE;
			v->value = st[sp - 1];
			return;
		default: /* DW_OP_entry_value, DW_OP_piece, ...: not known here */
			return;
		}
	}
	if (sp) {
		v->where = HS_VAR_MEM;
		v->addr = st[sp - 1];
	}
}

static void locate(Dwarf_Die *fn, Dwarf_Die *die, const struct hs_var_frame *fr, struct hs_var *v)
{
	Dwarf_Attribute a;
	v->where = HS_VAR_OPTIMIZED;
	if (dwarf_attr(die, DW_AT_location, &a)) {
		Dwarf_Op *ops;
		size_t n;
		if (dwarf_getlocation_addr(&a, fr->look, &ops, &n, 1) == 1 && n)
			eval(fn, fr, ops, n, v);
		return;
	}
	Dwarf_Sword sv;
	if (dwarf_attr_integrate(die, DW_AT_const_value, &a) && !dwarf_formsdata(&a, &sv)) {
		v->where = HS_VAR_VALUE;
		v->value = (uint64_t)sv;
	}
}

static bool describe(Dwarf_Die *fn, Dwarf_Die *die, const struct hs_var_frame *fr, struct hs_var *v)
{
	Dwarf_Attribute a;
	Dwarf_Die type;
	const char *name = dwarf_attr_integrate(die, DW_AT_name, &a) ? dwarf_formstring(&a) : NULL;
	if (!name)
		return false;
	*v = (struct hs_var){.name = name, .is_param = dwarf_tag(die) == DW_TAG_formal_parameter};
	if (dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, &type))
		v->type_off = dwarf_dieoffset(&type);
	locate(fn, die, fr, v);
	return true;
}

/* The variables (or parameters) directly in scope `s` (not in its nested blocks). */
static unsigned vars_in(Dwarf_Die *fn, Dwarf_Die *s, const struct hs_var_frame *fr, bool params,
			struct hs_var *out, unsigned max)
{
	Dwarf_Die child;
	unsigned k = 0;
	if (dwarf_child(s, &child))
		return 0;
	do {
		int tag = dwarf_tag(&child);
		bool want = params ? tag == DW_TAG_formal_parameter : tag == DW_TAG_variable;
		if (want && k < max && describe(fn, &child, fr, &out[k]))
			k++;
	} while (dwarf_siblingof(&child, &child) == 0);
	return k;
}

int hs_dwarf_frame_vars(struct hs_dwarf *d, const struct hs_var_frame *fr, bool params,
			struct hs_var *out, unsigned max)
{
	Dwarf_Die cu, path[HS_SCOPE_DEPTH];
	unsigned depth = hs_dwarf_scope_path(hs_dwarf_libdw(d), fr->look, &cu, path);
	/* The function scope inline_depth levels out from the innermost one. */
	int fn = -1;
	for (unsigned i = depth, seen = 0; i-- > 0;) {
		int tag = dwarf_tag(&path[i]);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		if (seen++ == fr->inline_depth) {
			fn = (int)i;
			break;
		}
	}
	if (fn < 0)
		return -1;
	/* The subprogram holding it has the frame base. */
	Dwarf_Die *sub = &path[fn];
	for (int i = fn; i >= 0; i--)
		if (dwarf_tag(&path[i]) == DW_TAG_subprogram) {
			sub = &path[i];
			break;
		}
	if (params)
		return (int)vars_in(sub, &path[fn], fr, true, out, max);
	/* Innermost block first, up to the function, stopping at a nested inlined function. */
	unsigned last = (unsigned)fn;
	for (unsigned i = (unsigned)fn + 1;
	     i < depth && dwarf_tag(&path[i]) == DW_TAG_lexical_block; i++)
		last = i;
	unsigned k = 0;
	for (unsigned i = last + 1; i-- > (unsigned)fn;)
		k += vars_in(sub, &path[i], fr, false, out + k, max - k);
	return (int)k;
}
