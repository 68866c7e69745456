/* SPDX-License-Identifier: MIT */
/*
 * Every workaround for Unicorn 2.0.1 (Debian 12) lives behind these names.
 * See docs/architecture.md, "Unicorn 2.0.1 quirks". When the package moves to
 * 2.1+, most of this file can go.
 */
#ifndef HS_UC_QUIRKS_H
#define HS_UC_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "hs_error.h"

struct hs_quirks {
	/* Offset of env->exception {u32 syndrome; u32 fsr; u64 vaddress; u32 target_el} in a saved
	 * context. */
	size_t exc_off;
	size_t ctx_size;
};

/* Find the offsets once per process start (never hard-coded). */
int hs_quirks_calibrate(struct hs_quirks *q, struct hs_error *err);

/* The syndrome QEMU computed for the exception being reported in the INTR hook. */
struct hs_qemu_exception {
	uint32_t syndrome;
	uint64_t vaddress;
	uint32_t target_el;
};
void hs_quirk_read_exception(const struct hs_quirks *q, uc_engine *uc, uc_context *ctx,
			     struct hs_qemu_exception *out);

/* CP_REG access (the only way to reach most EL2/EL3 registers). */
uint64_t hs_quirk_cp_read(uc_engine *uc, int op0, int op1, int crn, int crm, int op2);
void hs_quirk_cp_write(uc_engine *uc, int op0, int op1, int crn, int crm, int op2, uint64_t v);

/*
 * ERET recipe: hflags are only rebuilt by an exception return. Set raw PSTATE
 * to EL3h, SPSR_EL3 = spsr, ELR of the *stale* EL = target and jump to an
 * `eret` stub executable in the stale regime.
 */
void hs_quirk_eret_to(uc_engine *uc, int stale_el, uint64_t target, uint64_t spsr, uint64_t stub);

/*
 * True when guest stores skip Unicorn 2.0.1's per-store page-collection lock
 * (see uc_quirks.c): ~70 -> ~30 ns per store.
 */
bool hs_quirk_store_lock_skipped(void);

/* TLB invalidation through CP_REG (works at any EL; CP_REG writes of TTBR/TCR do not flush). */
void hs_quirk_tlbi_all(uc_engine *uc);

#endif
