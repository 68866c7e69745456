/* SPDX-License-Identifier: MIT */
/*
 * Decode an A64 store or load: which registers form its address and how many bytes
 * it writes or reads (the Arm ARM's load/store encodings: unsigned immediate,
 * unscaled/pre/post-indexed immediate, register offset, pair, exclusive and
 * ordered). A pure function; the machine uses it to find which instruction
 * of a translated block made a store it saw.
 */
#ifndef HS_A64_STORE_H
#define HS_A64_STORE_H

#include <stdbool.h>
#include <stdint.h>

struct hs_a64_store {
	unsigned rn;	    /* base register (31: SP) */
	int64_t offset;	    /* added to the base before the access (0 for post-index) */
	int rm;		    /* index register (31: XZR), -1 if none */
	unsigned rm_extend; /* option field: 2 UXTW, 3 LSL, 6 SXTW, 7 SXTX */
	unsigned rm_shift;  /* left shift of the extended index */
	unsigned width;	    /* bytes written, from the address (a pair: both) */
};

/* True when insn is a store of a general or SIMD register; fills *out. */
bool hs_a64_decode_store(uint32_t insn, struct hs_a64_store *out);
/* The same for a load (width: the bytes read); PRFM is not a load. */
bool hs_a64_decode_load(uint32_t insn, struct hs_a64_store *out);

/* The address the store writes, given its base and index register values. */
uint64_t hs_a64_store_address(const struct hs_a64_store *s, uint64_t base, uint64_t index);

#endif
