/* SPDX-License-Identifier: MIT */
/* A64 store and load decoding (see a64_store.h), from the encoding tables of the Arm ARM (C4.1.66).
 */
#include "a64_store.h"

#include <string.h>

static int64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = 1ULL << (bits - 1);
	return (int64_t)((v ^ m) - m);
}

/* Register (unsigned immediate, imm9 forms, register offset): size, V, opc. */
static bool single(uint32_t insn, bool load, struct hs_a64_store *s)
{
	unsigned size = insn >> 30, v = (insn >> 26) & 1, opc = (insn >> 22) & 3;
	bool q = v && size == 0 && (opc & 2); /* SIMD 128-bit: opc 10 store, 11 load */
	bool is_store = opc == 0 || (q && opc == 2);
	/* Loads: LDR (opc 01), sign-extending LDRS* (not PRFM: size 11 opc 10), LDR Qt. */
	bool is_load = opc == 1 || (q && opc == 3) ||
		       (!v && ((opc >= 2 && size < 2) || (opc == 2 && size == 2)));
	if (load ? !is_load : !is_store)
		return false;
	unsigned scale = q ? 4 : size;
	s->width = 1u << scale;
	s->rn = (insn >> 5) & 31;
	s->rm = -1;
	if ((insn & 0x3b000000u) == 0x39000000u) { /* unsigned immediate */
		s->offset = (int64_t)(((insn >> 10) & 0xfff) << scale);
		return true;
	}
	if ((insn & 0x3b200000u) == 0x38000000u) { /* imm9: unscaled, post, unprivileged, pre */
		unsigned type = (insn >> 10) & 3;
		s->offset = type == 1 ? 0 : sext((insn >> 12) & 0x1ff, 9);
		return true;
	}
	if ((insn & 0x3b200c00u) == 0x38200800u) { /* register offset */
		s->offset = 0;
		s->rm = (int)((insn >> 16) & 31);
		s->rm_extend = (insn >> 13) & 7;
		s->rm_shift = ((insn >> 12) & 1) ? scale : 0;
		return s->rm_extend == 2 || s->rm_extend == 3 || s->rm_extend == 6 ||
		       s->rm_extend == 7;
	}
	return false;
}

/* Pair: opc V 101 type L imm7 Rt2 Rn Rt. */
static bool pair(uint32_t insn, bool load, struct hs_a64_store *s)
{
	unsigned opc = insn >> 30, v = (insn >> 26) & 1, type = (insn >> 23) & 3;
	if (((insn >> 22) & 1) != load)
		return false; /* L: a load */
	unsigned scale;
	if (v)
		scale = 2 + opc;
	else if (opc == 0 || opc == 2)
		scale = 2 + (opc >> 1);
	else if (opc == 1 && load)
		scale = 2; /* LDPSW */
	else
		return false;
	if (scale > 4)
		return false;
	s->width = 2u << scale;
	s->rn = (insn >> 5) & 31;
	s->rm = -1;
	s->offset = type == 1 ? 0 : sext((insn >> 15) & 0x7f, 7) * (1 << scale);
	return true;
}

/* Exclusive and ordered: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt. */
static bool exclusive(uint32_t insn, bool load, struct hs_a64_store *s)
{
	unsigned size = insn >> 30, o2 = (insn >> 23) & 1, o1 = (insn >> 21) & 1;
	if (((insn >> 22) & 1) != load)
		return false;				  /* L: a load */
	s->width = (o1 && !o2) ? 2u << size : 1u << size; /* the pair forms: two registers */
	s->rn = (insn >> 5) & 31;
	s->rm = -1;
	s->offset = 0;
	return true;
}

static bool decode(uint32_t insn, bool load, struct hs_a64_store *out)
{
	struct hs_a64_store s;
	memset(&s, 0, sizeof(s));
	bool ok = false;
	if ((insn & 0x3b000000u) == 0x39000000u || (insn & 0x3b200000u) == 0x38000000u ||
	    (insn & 0x3b200c00u) == 0x38200800u)
		ok = single(insn, load, &s);
	else if ((insn & 0x3a000000u) == 0x28000000u)
		ok = pair(insn, load, &s);
	else if ((insn & 0x3f000000u) == 0x08000000u)
		ok = exclusive(insn, load, &s);
	if (ok)
		*out = s;
	return ok;
}

bool hs_a64_decode_store(uint32_t insn, struct hs_a64_store *out)
{
	return decode(insn, false, out);
}

bool hs_a64_decode_load(uint32_t insn, struct hs_a64_store *out)
{
	return decode(insn, true, out);
}

uint64_t hs_a64_store_address(const struct hs_a64_store *s, uint64_t base, uint64_t index)
{
	uint64_t off = (uint64_t)s->offset;
	if (s->rm >= 0) {
		switch (s->rm_extend) {
		case 2: /* UXTW */
			index &= 0xffffffffu;
			break;
		case 6: /* SXTW */
			index = (uint64_t)(int64_t)(int32_t)(uint32_t)index;
			break;
		default: /* LSL / SXTX: the whole register */
			break;
		}
		off = index << s->rm_shift;
	}
	return base + off;
}
