/* SPDX-License-Identifier: MIT */
/*
 * CFI unwinding (see image_cfi.h). libdw turns the CFI program at a PC into
 * one DWARF expression per rule (the CFA; each register: undefined, same
 * value, saved at an address, or a value); this file evaluates those
 * expressions over the frame's registers and memory.
 */
#include "image_cfi.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

struct hs_cfi {
	Dwarf_CFI *cfi; /* owned by the Dwarf (.debug_frame), or by us (.eh_frame) */
	bool elf_cfi;
};

int hs_cfi_open(struct hs_dwarf *dw, struct hs_cfi **out, struct hs_error *err)
{
	*out = NULL;
	struct hs_cfi *c = calloc(1, sizeof(*c));
	if (!c)
		return hs_err(err, -ENOMEM, "out of memory");
	Dwarf *d = hs_dwarf_libdw(dw);
	c->cfi = dwarf_getcfi(d);
	if (!c->cfi) {
		c->cfi = dwarf_getcfi_elf(dwarf_getelf(d));
		c->elf_cfi = c->cfi != NULL;
	}
	if (!c->cfi) {
		free(c);
		return hs_err(err, -ENOENT, "the image has no call-frame information");
	}
	*out = c;
	return 0;
}

void hs_cfi_close(struct hs_cfi *c)
{
	if (!c)
		return;
	if (c->elf_cfi)
		dwarf_cfi_end(c->cfi);
	free(c);
}

struct eval {
	const struct hs_unwind_regs *regs;
	uint64_t cfa;
	bool have_cfa;
	hs_unwind_read_fn read;
	void *ud;
	struct hs_error *err;
};

static int reg_value(struct eval *e, uint64_t n, uint64_t *v)
{
	if (n >= HS_CFI_NR_REGS || !(e->regs->known & (1u << n)))
		return hs_err(e->err, -ENODATA,
			      "the rule needs register %" PRIu64 ", not known here", n);
	*v = e->regs->r[n];
	return 0;
}

#define EVAL_STACK 16

/*
 * Evaluate ops; *is_value: the result is a value (DW_OP_stack_value, or a
 * register operation), not the address the value is saved at.
 */
static int evaluate(struct eval *e, const Dwarf_Op *ops, size_t n, uint64_t *out, bool *is_value)
{
	uint64_t st[EVAL_STACK];
	size_t sp = 0;
	*is_value = false;
	for (size_t i = 0; i < n; i++) {
		const Dwarf_Op *op = &ops[i];
		uint64_t v = 0;
		int rc = 0;
		unsigned atom = op->atom;
		if (sp == EVAL_STACK)
			return hs_err(e->err, -E2BIG, "CFI expression too deep");
		if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) {
			st[sp++] = atom - DW_OP_lit0;
			continue;
		}
		if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
			if ((rc = reg_value(e, atom - DW_OP_breg0, &v)))
				return rc;
			st[sp++] = v + op->number;
			continue;
		}
		if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31) {
			if ((rc = reg_value(e, atom - DW_OP_reg0, &v)))
				return rc;
			*out = v;
			*is_value = true;
			return 0;
		}
		switch (atom) {
		case DW_OP_call_frame_cfa:
			if (!e->have_cfa)
				return hs_err(e->err, -ENODATA, "the CFA is not known");
			st[sp++] = e->cfa;
			break;
		case DW_OP_bregx:
			if ((rc = reg_value(e, op->number, &v)))
				return rc;
			st[sp++] = v + op->number2;
			break;
		case DW_OP_regx:
			if ((rc = reg_value(e, op->number, &v)))
				return rc;
			*out = v;
			*is_value = true;
			return 0;
		case DW_OP_const1u:
		case DW_OP_const1s:
		case DW_OP_const2u:
		case DW_OP_const2s:
		case DW_OP_const4u:
		case DW_OP_const4s:
		case DW_OP_const8u:
		case DW_OP_const8s:
		case DW_OP_constu:
		case DW_OP_consts:
			st[sp++] = op->number;
			break;
		case DW_OP_plus_uconst:
			if (!sp)
				return hs_err(e->err, -EINVAL, "CFI expression: stack empty");
			st[sp - 1] += op->number;
			break;
		case DW_OP_plus:
		case DW_OP_minus:
			if (sp < 2)
				return hs_err(e->err, -EINVAL, "CFI expression: stack empty");
			sp--;
			st[sp - 1] = atom == DW_OP_plus ? st[sp - 1] + st[sp] : st[sp - 1] - st[sp];
			break;
		case DW_OP_deref:
			if (!sp)
				return hs_err(e->err, -EINVAL, "CFI expression: stack empty");
			if (e->read(e->ud, st[sp - 1], &v))
				return hs_err(e->err, -EFAULT, "cannot read the frame at %#" PRIx64,
					      st[sp - 1]);
			st[sp - 1] = v;
			break;
		case DW_OP_stack_value:
			*is_value = true;
			break;
		default:
			return hs_err(e->err, -ENOTSUP,
				      "CFI expression: operation %#x not supported", atom);
		}
	}
	if (!sp)
		return hs_err(e->err, -EINVAL, "CFI expression: no result");
	*out = st[sp - 1];
	return 0;
}

int hs_cfi_caller(struct hs_cfi *cfi, uint64_t link, const struct hs_unwind_regs *in,
		  hs_unwind_read_fn read, void *ud, struct hs_unwind_regs *out,
		  struct hs_unwind_info *info, struct hs_error *err)
{
	Dwarf_Frame *frame = NULL;
	if (dwarf_cfi_addrframe(cfi->cfi, link, &frame) || !frame)
		return hs_err(err, -ENOENT, "no CFI for %#" PRIx64, link);
	struct hs_unwind_info inf = {0};
	struct eval e = {.regs = in, .read = read, .ud = ud, .err = err};
	Dwarf_Addr start = 0, end = 0;
	int ra = dwarf_frame_info(frame, &start, &end, NULL);
	inf.fn_start = start;
	inf.fn_end = end;
	Dwarf_Op *ops;
	size_t nops;
	bool is_value;
	int rc = 0;
	if (dwarf_frame_cfa(frame, &ops, &nops) || !nops) {
		rc = hs_err(err, -ENODATA, "no CFA rule at %#" PRIx64, link);
		goto out;
	}
	if ((rc = evaluate(&e, ops, nops, &e.cfa, &is_value)))
		goto out;
	e.have_cfa = true;
	inf.cfa = e.cfa;
	struct hs_unwind_regs o = {0};
	bool ra_failed = false;
	for (int n = 0; n < HS_CFI_NR_REGS; n++) {
		Dwarf_Op mem[3];
		if (dwarf_frame_register(frame, n, mem, &ops, &nops))
			continue; /* not described: unknown */
		if (!nops) {
			if (!ops && (in->known & (1u << n))) { /* same value */
				o.r[n] = in->r[n];
				o.known |= 1u << n;
			}
			continue; /* else undefined */
		}
		uint64_t v;
		struct hs_error why = {0};
		e.err = n == ra ? err : &why; /* only the return address's failure is reported */
		if (evaluate(&e, ops, nops, &v, &is_value)) {
			ra_failed |= n == ra;
			continue; /* this register only stays unknown */
		}
		if (!is_value) {
			inf.saved_at[n] = v;
			if (read(ud, v, &v)) {
				if (n == ra) {
					hs_err(err, -EFAULT,
					       "cannot read the return address saved at %#" PRIx64,
					       inf.saved_at[n]);
					ra_failed = true;
				}
				continue;
			}
		}
		o.r[n] = v;
		o.known |= 1u << n;
	}
	/* The caller's SP is the CFA: the SP at the call (AArch64's convention). */
	o.r[HS_CFI_SP] = e.cfa;
	o.known |= 1u << HS_CFI_SP;
	if (ra < 0 || ra >= HS_CFI_NR_REGS || !(o.known & (1u << ra))) {
		Dwarf_Op mem[3];
		/* Undefined return address: the outermost frame. */
		if (ra >= 0 && !dwarf_frame_register(frame, ra, mem, &ops, &nops) && !nops && ops)
			rc = 1;
		else if (ra_failed)
			rc = err && err->code ? err->code : -ENODATA;
		else
			rc = hs_err(err, -ENODATA,
				    "the return address at %#" PRIx64 " is not known", link);
		goto out;
	}
	o.pc = o.r[ra];
	*out = o;
out:
	if (info)
		*info = inf;
	free(frame);
	return rc;
}
