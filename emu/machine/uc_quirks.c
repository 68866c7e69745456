/* SPDX-License-Identifier: MIT */
#include "uc_quirks.h"

#include <dlfcn.h>

#include <errno.h>
#include <string.h>

#ifdef HS_UC_SKIP_PAGE_LOCK
/*
 * Stores: Unicorn 2.0.1 keeps no dirty bitmap, so every guest store to RAM
 * takes QEMU's self-modifying-code check (notdirty_write), which first builds
 * a "page collection" (a malloc'd GTree of page locks) and frees it again:
 * ~70 ns per store, most of a hypercall's cost. Unicorn's page locks are
 * no-ops (one thread per engine), and for AArch64 targets (no
 * TARGET_HAS_PRECISE_SMC) the collection is only ever handed back to
 * page_collection_unlock: upstream dropped it (unicorn PR #1838, May 2023).
 * libunicorn 2.0.1 calls both functions through its PLT, so defining them in
 * the executable (exported: see emu/CMakeLists.txt) replaces them. The check
 * for translated code on the written page (tb_invalidate_phys_page_fast)
 * still runs on every store. Built only against Unicorn 2.0.1.
 */
struct page_collection;
struct uc_struct;
struct page_collection *page_collection_lock_aarch64(struct uc_struct *uc, uint64_t start,
						     uint64_t end);
void page_collection_unlock_aarch64(struct page_collection *set);

struct page_collection *page_collection_lock_aarch64(struct uc_struct *uc, uint64_t start,
						     uint64_t end)
{
	(void)uc;
	(void)start;
	(void)end;
	return NULL;
}

void page_collection_unlock_aarch64(struct page_collection *set)
{
	(void)set;
}
#endif

bool hs_quirk_store_lock_skipped(void)
{
#ifdef HS_UC_SKIP_PAGE_LOCK
	/* Only if the dynamic linker bound Unicorn's calls to the functions above. */
	return dlsym(RTLD_DEFAULT, "page_collection_lock_aarch64") ==
	       (void *)page_collection_lock_aarch64;
#else
	return false;
#endif
}

uint64_t hs_quirk_cp_read(uc_engine *uc, int op0, int op1, int crn, int crm, int op2)
{
	uc_arm64_cp_reg r = {.crn = (uint32_t)crn,
			     .crm = (uint32_t)crm,
			     .op0 = (uint32_t)op0,
			     .op1 = (uint32_t)op1,
			     .op2 = (uint32_t)op2};
	if (uc_reg_read(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK)
		return 0;
	return r.val;
}

void hs_quirk_cp_write(uc_engine *uc, int op0, int op1, int crn, int crm, int op2, uint64_t v)
{
	uc_arm64_cp_reg r = {.crn = (uint32_t)crn,
			     .crm = (uint32_t)crm,
			     .op0 = (uint32_t)op0,
			     .op1 = (uint32_t)op1,
			     .op2 = (uint32_t)op2,
			     .val = v};
	uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r);
}

static void stop_hook(uc_engine *uc, uint32_t intno, void *ud)
{
	(void)intno;
	(void)ud;
	uc_emu_stop(uc);
}

int hs_quirks_calibrate(struct hs_quirks *q, struct hs_error *err)
{
	uc_engine *uc;
	uc_err e = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc);
	if (e)
		return hs_err(err, -EIO, "unicorn: %s", uc_strerror(e));
	int rc = 0;
	uc_context *ctx = NULL;
	uc_hook h;
	uint32_t brk = 0xd4200000u | (0x1234u << 5); /* brk #0x1234: syndrome 0xF2001234 */
	if ((e = uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL)) ||
	    (e = uc_mem_write(uc, 0x1000, &brk, 4)) || (e = uc_context_alloc(uc, &ctx)) ||
	    (e = uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)stop_hook, NULL, 1, 0))) {
		rc = hs_err(err, -EIO, "unicorn calibration: %s", uc_strerror(e));
		goto out;
	}
	uc_emu_start(uc, 0x1000, 0x1004, 0, 1);
	uc_context_save(uc, ctx);
	q->ctx_size = uc_context_size(uc);
	q->exc_off = 0;
	const uint8_t *b = (const uint8_t *)ctx;
	for (size_t i = 0; i + 24 <= q->ctx_size; i += 4) {
		uint32_t w;
		memcpy(&w, b + i, 4);
		if (w == 0xF2001234u) {
			q->exc_off = i;
			break;
		}
	}
	if (!q->exc_off)
		rc = hs_err(err, -EIO,
			    "cannot find QEMU's exception syndrome in a Unicorn context: is this "
			    "Unicorn 2.0.1?");
out:
	if (ctx)
		uc_context_free(ctx);
	uc_close(uc);
	return rc;
}

void hs_quirk_read_exception(const struct hs_quirks *q, uc_engine *uc, uc_context *ctx,
			     struct hs_qemu_exception *out)
{
	uc_context_save(uc, ctx);
	const uint8_t *blob = (const uint8_t *)ctx;
	memcpy(&out->syndrome, blob + q->exc_off, 4);
	memcpy(&out->vaddress, blob + q->exc_off + 8, 8);
	memcpy(&out->target_el, blob + q->exc_off + 16, 4);
}

void hs_quirk_eret_to(uc_engine *uc, int stale_el, uint64_t target, uint64_t spsr, uint64_t stub)
{
	static const int elr[] = {UC_ARM64_REG_ELR_EL0, UC_ARM64_REG_ELR_EL1, UC_ARM64_REG_ELR_EL2,
				  UC_ARM64_REG_ELR_EL3};
	uint32_t el3h = 0x3cd;
	uc_reg_write(uc, UC_ARM64_REG_PSTATE, &el3h);
	hs_quirk_cp_write(uc, 3, 6, 4, 0, 0, spsr); /* SPSR_EL3 */
	uc_reg_write(uc, elr[stale_el & 3], &target);
	uc_reg_write(uc, UC_ARM64_REG_PC, &stub);
}

void hs_quirk_tlbi_all(uc_engine *uc)
{
	hs_quirk_cp_write(uc, 1, 4, 8, 7, 0, 0); /* TLBI ALLE2 */
	hs_quirk_cp_write(uc, 1, 4, 8, 7, 4, 0); /* TLBI ALLE1 */
}
