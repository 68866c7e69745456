/* SPDX-License-Identifier: MIT */
/*
 * A64 instruction encoders and decoders for code patching: the few forms a host
 * writes into a hypervisor before it runs (NOP, B, MOVZ/MOVK, AND/ADD immediates,
 * EXTR, BR) and the PC-relative forms a moved instruction must be fixed for.
 * Written from the Arm ARM's encoding tables; pure functions.
 */
#ifndef HS_A64_INSN_H
#define HS_A64_INSN_H

#include <stdbool.h>
#include <stdint.h>

#define HS_A64_NOP 0xd503201fu
#define HS_A64_BAD 0u /* what an encoder returns for an impossible request (UDF #0) */

static inline unsigned hs_a64_rd(uint32_t insn)
{
	return insn & 31;
}
static inline unsigned hs_a64_rn(uint32_t insn)
{
	return (insn >> 5) & 31;
}

/* B (no link) from pc to target; HS_A64_BAD when out of the +-128 MiB range or unaligned. */
uint32_t hs_a64_b(uint64_t pc, uint64_t target);
/* BR xn. */
uint32_t hs_a64_br(unsigned rn);
/* MOVZ (keep = false) or MOVK xd, #imm16, LSL #shift (0, 16, 32, 48). */
uint32_t hs_a64_movw(unsigned rd, uint16_t imm, unsigned shift, bool keep);
/* AND xd, xn, #mask for a mask of the low `ones` bits (1..63). */
uint32_t hs_a64_and_low_ones(unsigned rd, unsigned rn, unsigned ones);
/* ADD xd, xn, #imm: imm fits 12 bits, or 12 bits shifted by 12; else HS_A64_BAD. */
uint32_t hs_a64_add_imm(unsigned rd, unsigned rn, uint64_t imm);
/* EXTR xd, xn, xm, #lsb (ROR when xn == xm). */
uint32_t hs_a64_extr(unsigned rd, unsigned rn, unsigned rm, unsigned lsb);

/* B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ: an immediate branch. */
bool hs_a64_is_branch_imm(uint32_t insn);
int64_t hs_a64_branch_offset(uint32_t insn);
/* The same branch with a new offset; HS_A64_BAD when it does not fit the form. */
uint32_t hs_a64_set_branch_offset(uint32_t insn, int64_t offset);
bool hs_a64_is_adrp(uint32_t insn);
int64_t hs_a64_adrp_offset(uint32_t insn);
uint32_t hs_a64_adrp_set_offset(uint32_t insn, int64_t offset);
/* ADR, LDR/LDRSW/PRFM (literal): PC-relative forms a patcher cannot move. */
bool hs_a64_uses_literal(uint32_t insn);

#endif
