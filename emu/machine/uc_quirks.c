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

/*
 * This file's own definition, by a name nobody can interpose: in a shared
 * library (libhypscope.so, -fPIC) taking &page_collection_lock_aarch64 goes
 * through the GOT and yields whichever definition won, so it cannot tell.
 */
extern struct page_collection *hs_quirk_own_page_lock(struct uc_struct *uc, uint64_t start,
						      uint64_t end)
    __attribute__((alias("page_collection_lock_aarch64"), visibility("hidden")));
#endif

#if HS_UC_2_0
/*
 * 2.0.1 has no UC_CTL_TCG_BUFFER_SIZE (2.1.0 added it). libunicorn takes
 * tcg_exec_init's address through its GOT (uc->tcg_exec_init), so the
 * executable's definition (exported: emu/CMakeLists.txt) is the one called:
 * it passes QEMU the size instead of 0 (= the 1 GiB default).
 */
void tcg_exec_init_aarch64(uc_engine *uc, unsigned long tb_size);

void tcg_exec_init_aarch64(uc_engine *uc, unsigned long tb_size)
{
	(void)tb_size;
	void (*init)(uc_engine *, unsigned long) = dlsym(RTLD_NEXT, "tcg_exec_init_aarch64");
	init(uc, HS_UC_CODE_BUFFER_SIZE);
}
#endif

/*
 * TLB pages. QEMU's AArch64 machines prefer 4 KiB target pages (no AArch64
 * granule is smaller), but Unicorn fixes the size when it initialises the
 * engine, before the CPU could ask, at QEMU's minimum, 1 KiB, unless
 * uc_ctl_set_page_size chose: every TLB fill (a page-table walk) then covers
 * a quarter of a page, the cost of a 16 GiB boot's 100 MiB pool proof. The
 * ctl refuses AArch64 engines before 2.1.2 (unicorn commit 9682fc42) and
 * sets log2(size) + 1 bits (fixed by fbf34af8, also 2.1.2), so there the
 * engine is shown as an Arm one for that one call: uc_ctl_get_arch proves
 * that the word changed is the one the ctl checks. hs_quirk_check_tlb_page
 * proves the result once the engine is initialised.
 */
#define HS_UC_PAGE_CTL_FIXED \
	(UC_API_MAJOR > 2 || UC_API_MINOR > 1 || (UC_API_MINOR == 1 && UC_API_PATCH >= 2))

static uc_err set_tlb_page(uc_engine *uc)
{
#if HS_UC_PAGE_CTL_FIXED
	return uc_ctl_set_page_size(uc, HS_UC_TLB_PAGE_SIZE);
#else
	int *arch = (int *)(void *)uc; /* the first member of struct uc_struct */
	int got = 0;
	if (*arch != UC_ARCH_ARM64)
		return UC_ERR_ARCH;
	*arch = UC_ARCH_ARM;
	uc_err e = uc_ctl(uc, HS_UC_CTL_READ(UC_CTL_UC_ARCH, 1), &got);
	if (!e && got != UC_ARCH_ARM)
		e = UC_ERR_ARCH;
	if (!e)
		e = uc_ctl_set_page_size(uc, HS_UC_TLB_PAGE_SIZE / 2);
	*arch = UC_ARCH_ARM64;
	return e;
#endif
}

uc_err hs_quirk_open(uc_engine **uc)
{
	uc_err e = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, uc);
#if !HS_UC_2_0
	if (!e)
		e = uc_ctl_set_tcg_buffer_size(*uc, HS_UC_CODE_BUFFER_SIZE);
#endif
	if (!e)
		e = set_tlb_page(*uc);
	if (e && *uc) {
		uc_close(*uc);
		*uc = NULL;
	}
	return e;
}

uc_err hs_quirk_no_exits(uc_engine *uc)
{
	/* An empty tree: resume_all_vcpus invalidates each exit - 1, here none. */
	return uc_ctl_exits_enable(uc);
}

int hs_quirk_check_tlb_page(uc_engine *uc, struct hs_error *err)
{
	uint32_t size = 0;
	uc_err e = uc_ctl(uc, HS_UC_CTL_READ(UC_CTL_UC_PAGE_SIZE, 1), &size);
	if (e)
		return hs_err(err, -EIO, "unicorn: reading the TLB page size: %s", uc_strerror(e));
	if (size != HS_UC_TLB_PAGE_SIZE)
		return hs_err(err, -EIO, "unicorn: TLB pages are %u bytes, not the %u asked for",
			      size, HS_UC_TLB_PAGE_SIZE);
	return 0;
}

void hs_quirk_flush_code(uc_engine *uc)
{
#if HS_UC_2_0
	uc_ctl_flush_tlb(uc);
#else
	uc_ctl_flush_tb(uc);
#endif
}

bool hs_quirk_store_lock_skipped(void)
{
#ifdef HS_UC_SKIP_PAGE_LOCK
	/* Only if the dynamic linker bound Unicorn's calls to the functions above. */
	return dlsym(RTLD_DEFAULT, "page_collection_lock_aarch64") ==
	       (void *)hs_quirk_own_page_lock;
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

/*
 * QEMU's own functions, exported by every Debian libunicorn (2.0.1, 2.1.1,
 * 2.1.4). The CPU object is QEMU's CPUState (an ARMCPU); env is its
 * CPUARMState. Declared with opaque pointers: hypscope never looks inside
 * except at the offsets hs_quirks_calibrate found.
 */
void *qemu_get_cpu_aarch64(uc_engine *uc, int index);
void arm_cpu_do_interrupt_aarch64(void *cs);
void arm_rebuild_hflags_aarch64(void *env);

void *hs_quirk_engine_cpu(uc_engine *uc)
{
	/* Unicorn never assigns the one CPU an index: it stays UNASSIGNED_CPU_INDEX (-1). */
	void *cpu = qemu_get_cpu_aarch64(uc, -1);
	return cpu ? cpu : qemu_get_cpu_aarch64(uc, 0);
}

uint32_t hs_quirk_syndrome(const struct hs_quirks *q, void *cpu)
{
	uint32_t v;
	memcpy(&v, (const uint8_t *)cpu + q->env_off + q->exc_off, 4);
	return v;
}

/*
 * No Unicorn version delivers synchronous exceptions (cpu_handle_exception
 * only calls the INTR hooks; unicorn issues #838, #825). QEMU's
 * arm_cpu_do_interrupt does, and reads everything it needs from the CPU
 * (exception_index, env->exception) while the hook runs.
 */
void hs_quirk_deliver_exception(void *cpu)
{
	arm_cpu_do_interrupt_aarch64(cpu);
}

void hs_quirk_rebuild_hflags(const struct hs_quirks *q, void *cpu)
{
	arm_rebuild_hflags_aarch64((uint8_t *)cpu + q->env_off);
}

void hs_quirk_tlbi_all(uc_engine *uc)
{
	hs_quirk_cp_write(uc, 1, 4, 8, 7, 0, 0); /* TLBI ALLE2 */
	hs_quirk_cp_write(uc, 1, 4, 8, 7, 4, 0); /* TLBI ALLE1 */
}

/*
 * libunicorn's own (2.0.1 and 2.1.1 export it): invalidate the blocks on a
 * range of RAM offsets (ram_addr_t).
 */
struct uc_struct;
void tb_invalidate_phys_range_aarch64(struct uc_struct *uc, uint64_t start, uint64_t end);

void hs_quirk_drop_code(uc_engine *uc, uint64_t ram_off, uint64_t len)
{
	if (!len)
		return;
	/* A uc_engine is libunicorn's struct uc_struct. */
	tb_invalidate_phys_range_aarch64((struct uc_struct *)uc, ram_off, ram_off + len);
}
