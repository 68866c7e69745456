/* SPDX-License-Identifier: MIT */
#include "a64_insn.h"

static int64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m = 1ULL << (bits - 1);
	v &= (1ULL << bits) - 1;
	return (int64_t)((v ^ m) - m);
}

static bool fits(int64_t v, unsigned bits)
{
	return v >= -(1LL << (bits - 1)) && v < (1LL << (bits - 1));
}

uint32_t hs_a64_b(uint64_t pc, uint64_t target)
{
	int64_t off = (int64_t)(target - pc);
	if ((off & 3) || !fits(off >> 2, 26))
		return HS_A64_BAD;
	return 0x14000000u | ((uint32_t)(off >> 2) & 0x03ffffffu);
}

uint32_t hs_a64_br(unsigned rn)
{
	return 0xd61f0000u | (rn & 31) << 5;
}

uint32_t hs_a64_movw(unsigned rd, uint16_t imm, unsigned shift, bool keep)
{
	if (shift % 16 || shift > 48)
		return HS_A64_BAD;
	return (keep ? 0xf2800000u : 0xd2800000u) | (shift / 16) << 21 | (uint32_t)imm << 5 |
	       (rd & 31);
}

uint32_t hs_a64_and_low_ones(unsigned rd, unsigned rn, unsigned ones)
{
	if (ones < 1 || ones > 63)
		return HS_A64_BAD;
	/* N = 1 (64-bit element), immr = 0, imms = ones - 1. */
	return 0x92400000u | (ones - 1) << 10 | (rn & 31) << 5 | (rd & 31);
}

uint32_t hs_a64_add_imm(unsigned rd, unsigned rn, uint64_t imm)
{
	unsigned sh = 0;
	if (imm & ~0xfffULL) {
		if (imm & 0xfff || imm & ~0xfff000ULL)
			return HS_A64_BAD;
		imm >>= 12;
		sh = 1;
	}
	return 0x91000000u | sh << 22 | (uint32_t)imm << 10 | (rn & 31) << 5 | (rd & 31);
}

uint32_t hs_a64_extr(unsigned rd, unsigned rn, unsigned rm, unsigned lsb)
{
	if (lsb > 63)
		return HS_A64_BAD;
	return 0x93c00000u | (rm & 31) << 16 | lsb << 10 | (rn & 31) << 5 | (rd & 31);
}

enum form { NOT_BRANCH, IMM26, IMM19, IMM14 };

static enum form branch_form(uint32_t insn)
{
	if ((insn & 0x7c000000u) == 0x14000000u) /* B, BL */
		return IMM26;
	if ((insn & 0xff000010u) == 0x54000000u) /* B.cond */
		return IMM19;
	if ((insn & 0x7e000000u) == 0x34000000u) /* CBZ, CBNZ */
		return IMM19;
	if ((insn & 0x7e000000u) == 0x36000000u) /* TBZ, TBNZ */
		return IMM14;
	return NOT_BRANCH;
}

bool hs_a64_is_branch_imm(uint32_t insn)
{
	return branch_form(insn) != NOT_BRANCH;
}

int64_t hs_a64_branch_offset(uint32_t insn)
{
	switch (branch_form(insn)) {
	case IMM26:
		return sext(insn & 0x03ffffffu, 26) * 4;
	case IMM19:
		return sext((insn >> 5) & 0x7ffffu, 19) * 4;
	case IMM14:
		return sext((insn >> 5) & 0x3fffu, 14) * 4;
	default:
		return 0;
	}
}

uint32_t hs_a64_set_branch_offset(uint32_t insn, int64_t offset)
{
	if (offset & 3)
		return HS_A64_BAD;
	int64_t w = offset / 4;
	switch (branch_form(insn)) {
	case IMM26:
		return fits(w, 26) ? (insn & ~0x03ffffffu) | ((uint32_t)w & 0x03ffffffu)
				   : HS_A64_BAD;
	case IMM19:
		return fits(w, 19) ? (insn & ~(0x7ffffu << 5)) | ((uint32_t)w & 0x7ffffu) << 5
				   : HS_A64_BAD;
	case IMM14:
		return fits(w, 14) ? (insn & ~(0x3fffu << 5)) | ((uint32_t)w & 0x3fffu) << 5
				   : HS_A64_BAD;
	default:
		return HS_A64_BAD;
	}
}

bool hs_a64_is_adrp(uint32_t insn)
{
	return (insn & 0x9f000000u) == 0x90000000u;
}

int64_t hs_a64_adrp_offset(uint32_t insn)
{
	uint64_t imm = ((insn >> 5) & 0x7ffffu) << 2 | ((insn >> 29) & 3);
	return sext(imm, 21) * 4096;
}

uint32_t hs_a64_adrp_set_offset(uint32_t insn, int64_t offset)
{
	if (offset & 0xfff || !fits(offset / 4096, 21))
		return HS_A64_BAD;
	uint32_t imm = (uint32_t)(offset / 4096) & 0x1fffffu;
	return (insn & ~(0x7ffffu << 5 | 3u << 29)) | (imm >> 2) << 5 | (imm & 3) << 29;
}

bool hs_a64_uses_literal(uint32_t insn)
{
	return (insn & 0x9f000000u) == 0x10000000u || /* ADR */
	       (insn & 0x3b000000u) == 0x18000000u;   /* LDR/LDRSW/PRFM (literal), incl. SIMD */
}
