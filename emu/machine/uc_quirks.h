/* SPDX-License-Identifier: MIT */
/*
 * Every workaround for the Unicorn versions hypscope supports lives behind
 * these names: 2.0.1 (Debian 12) and 2.1.x (Debian 13, sid), chosen at build
 * time from the headers' version. See docs/architecture.md, "CPUs over
 * Unicorn".
 */
#ifndef HS_UC_QUIRKS_H
#define HS_UC_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "hs_error.h"

/*
 * Where QEMU keeps what the hooks need inside an engine's CPU object, found
 * once per machine by calibration (never hard-coded) and proved by a
 * self-test that delivers a known exception.
 */
struct hs_quirks {
	size_t env_off;	    /* CPUARMState inside the CPU object */
	size_t exc_off;	    /* env->exception.syndrome inside CPUARMState */
	size_t next_tb_off; /* CPUState.cflags_next_tb (uc_calibrate_tb.c); 0: not found */
	/* 2.0.1: CPUTLB's fast tables f[0] in the CPU object (uc_calibrate_tlb.c); 0 on 2.1 */
	size_t tlb_fast_off;
	unsigned tlb_page_bits; /* QEMU's TARGET_PAGE_BITS (12: hs_quirk_open asks for 4 KiB) */
	uint64_t tlb_notdirty;	/* TLB_NOTDIRTY in an entry's addr_write */
	/* inside CPUARMState: env->xregs[0], env->pc, env->pstate (M[3:0] with the EL) */
	size_t xregs_off, pc_off, pstate_off;
	size_t pmcnten_off; /* env->cp15.c9_pmcnten (PMCNTENSET_EL0) inside CPUARMState */
	/* ARMCPU.pre_el_change_hooks in the CPU object (uc_calibrate_pmu.c); 0: not found */
	size_t pmu_hook_head_off;
	/* libunicorn's own pmu_pre_el_change (uc_pmu.c runs it only while a counter is on) */
	void (*pmu_pre_el_change)(void *cpu, void *opaque);
};

/*
 * Calibrate against the linked libunicorn on a scratch engine, then check
 * native exception delivery and hflags rebuilding against the architecture
 * (an HVC from EL1: ESR_EL2, ELR_EL2, SPSR_EL2, the vector, CurrentEL).
 * Fails with a message naming what differs: hypscope must not run wrong.
 */
int hs_quirks_calibrate(struct hs_quirks *q, struct hs_error *err);

/*
 * From hs_quirks_calibrate, once env_off is known: the offset of
 * CPUState.cflags_next_tb in the CPU object, 0 when no word behaves as it
 * (see uc_calibrate_tb.c).
 */
size_t hs_quirks_find_next_tb(const struct hs_quirks *q);

/*
 * From hs_quirks_calibrate, on its scratch CPU: where QEMU's fast TLB tables
 * are and which addr_write bit is TLB_NOTDIRTY, proved against QEMU's own
 * tlb_set_dirty (uc_calibrate_tlb.c). 2.0.1 only (the fast-store fill
 * wrapper); fails with a message when not found. Flushes the CPU's TLB.
 */
int hs_quirks_find_tlb(struct hs_quirks *q, void *cpu, struct hs_error *err);

/*
 * Right after a TLB fill of vaddr in mmu_idx: clear TLB_NOTDIRTY on the entry
 * just filled, at the calibrated place. False (nothing changed) when not
 * calibrated or the entry is not that one page with only that flag.
 */
bool hs_quirk_tlb_mark_dirty(const struct hs_quirks *q, void *cpu, uint64_t vaddr, int mmu_idx);

/*
 * From hs_quirks_calibrate, on its scratch engine: where PMCNTENSET_EL0 lives
 * in CPUARMState (three values written through CP_REG and found at one place
 * only), where the CPU object points at its PMU hook entry, and libunicorn's
 * own pmu_pre_el_change (uc_calibrate_pmu.c). Fails with a message when not
 * found; finds nothing when the hook is not bound (hs_quirk_pmu_hook_bound).
 * Leaves PMCNTENSET_EL0 at 0.
 */
int hs_quirks_find_pmu(struct hs_quirks *q, uc_engine *uc, void *cpu, size_t env_size,
		       struct hs_error *err);

/*
 * True when libunicorn's CPUs call uc_pmu.c's PMU hook (the dynamic linker
 * bound the executable's or libhypscope.so's definition), which skips QEMU's
 * while no PMU counter is enabled. hs_quirk_pmu_hook_fn: that definition.
 */
bool hs_quirk_pmu_hook_bound(void);
void (*hs_quirk_pmu_hook_fn(void))(void *, void *);

/* What uc_pmu.c's hook gets for one CPU, through QEMU's hook entry. */
struct hs_pmu_hook {
	const struct hs_quirks *q; /* calibrated, with pmu_hook_head_off */
	uint64_t skipped;	   /* EL changes whose PMU update was skipped */
};

/*
 * Give the CPU's PMU hook entry its context (h must outlive the engine, or be
 * detached first). False when the entry is not where calibration found it.
 */
bool hs_quirk_pmu_attach(void *cpu, struct hs_pmu_hook *h);
void hs_quirk_pmu_detach(const struct hs_quirks *q, void *cpu);

/*
 * What uc_reg_read would give, read at the calibrated places in QEMU's CPU
 * state (both versions read these straight from env; a uc_reg_read costs
 * ~120 host instructions, a few per exception and per host operation): X0-X28,
 * the PC, and the EL from PSTATE.
 */
static inline uint64_t hs_quirk_env_word(const struct hs_quirks *q, const void *cpu, size_t off)
{
	uint64_t v;
	memcpy(&v, (const unsigned char *)cpu + q->env_off + off, 8);
	return v;
}

static inline uint64_t hs_quirk_xreg(const struct hs_quirks *q, const void *cpu, unsigned n)
{
	return hs_quirk_env_word(q, cpu, q->xregs_off + 8 * (size_t)n);
}

/* The write to match: what uc_reg_write does for X0-X28 in both versions. */
static inline void hs_quirk_set_xreg(const struct hs_quirks *q, void *cpu, unsigned n, uint64_t v)
{
	memcpy((unsigned char *)cpu + q->env_off + q->xregs_off + 8 * (size_t)n, &v, 8);
}

static inline uint64_t hs_quirk_pc(const struct hs_quirks *q, const void *cpu)
{
	return hs_quirk_env_word(q, cpu, q->pc_off);
}

static inline unsigned hs_quirk_el(const struct hs_quirks *q, const void *cpu)
{
	uint32_t pstate;
	memcpy(&pstate, (const unsigned char *)cpu + q->env_off + q->pstate_off, 4);
	return (pstate >> 2) & 3;
}

/* Unicorn's version, as the headers hypscope was built against give it. */
#define HS_UC_2_0 (UC_API_MAJOR == 2 && UC_API_MINOR == 0)

/*
 * What a UC_HOOK_MEM_* callback's address is: the virtual address in 2.0.1;
 * from 2.1.0 the physical one (store_helper reports entry->paddr and bounds
 * hooks by it).
 */
#define HS_UC_MEM_HOOKS_SEE_PA (!HS_UC_2_0)

/*
 * Translated code per engine. Unicorn's default is 1 GiB, and 2.0.1 and
 * 2.1.0-2.1.1 zero the whole buffer at every flush of translated code (a
 * stepi, a patched hypervisor): 1.08 GB of RSS per CPU. hypscope translates
 * a few MiB; a full buffer is flushed and refilled by QEMU.
 */
#define HS_UC_CODE_BUFFER_SIZE (32u << 20)

/*
 * Unicorn's UC_CTL_READ builds its control code as (2 << 30) in int, which
 * overflows (undefined: UBSan stops every machine creation); the same code,
 * built unsigned.
 */
#define HS_UC_CTL_READ(type, nr)                                       \
	((uc_control_type)((unsigned)(type) | ((unsigned)(nr) << 26) | \
			   ((unsigned)UC_CTL_IO_READ << 30)))

/*
 * QEMU's TLB page (TARGET_PAGE_BITS) in hypscope's engines: 4 KiB, as in
 * QEMU's own AArch64 machines (Unicorn's default is 1 KiB: see uc_quirks.c).
 * Everything an engine maps is 4 KiB aligned.
 */
#define HS_UC_TLB_PAGE_SIZE 4096u

/*
 * uc_open for an AArch64 engine with the code buffer sized as above and TLB
 * pages of HS_UC_TLB_PAGE_SIZE. On failure nothing stays open.
 */
uc_err hs_quirk_open(uc_engine **uc);

/*
 * Give an engine an empty set of exits (UC_CTL_UC_USE_EXITS): uc_emu_start's
 * `until` is then ignored, and nothing is invalidated when a run returns.
 * Without it, 2.0.1 and 2.1.x drop the code at `until` - 1 after every run,
 * and looking that address up is a failed page walk per uc_emu_start (~1,600
 * host instructions of a ~12,400 host operation). The CPUs stop with hooks
 * and uc_emu_stop only (cpu.c), so they pass no `until`.
 */
uc_err hs_quirk_no_exits(uc_engine *uc);

/*
 * Once the engine is initialised (it mapped memory): 0 when its TLB pages
 * are HS_UC_TLB_PAGE_SIZE, else an error naming the size found.
 */
int hs_quirk_check_tlb_page(uc_engine *uc, struct hs_error *err);

/*
 * Drop every translated block of an engine: uc_ctl_flush_tlb in 2.0.1,
 * uc_ctl_flush_tb from 2.1.0 (where uc_ctl_flush_tlb flushes only the TLB).
 */
void hs_quirk_flush_code(uc_engine *uc);

/* The engine's QEMU CPU object (valid once the engine has mapped memory). */
void *hs_quirk_engine_cpu(uc_engine *uc);

/* The syndrome QEMU computed for the exception the INTR hook is reporting. */
uint32_t hs_quirk_syndrome(const struct hs_quirks *q, void *cpu);

/*
 * From the INTR hook: QEMU's own architectural exception entry for the
 * exception being reported (ESR/ELR/SPSR/FAR of the target EL, PSTATE, SP
 * banking, hflags, PC = VBAR_ELx + offset). HPFAR_EL2 was set at fault time.
 */
void hs_quirk_deliver_exception(void *cpu);

/*
 * Rebuild QEMU's cached mode flags after a raw PSTATE write: the API does not
 * (2.0.1; 2.1.0 does it only for CP_REG writes, unicorn commit a24e53d7).
 */
void hs_quirk_rebuild_hflags(const struct hs_quirks *q, void *cpu);

/* CP_REG access (the only way to reach most EL2/EL3 registers). */
uint64_t hs_quirk_cp_read(uc_engine *uc, int op0, int op1, int crn, int crm, int op2);
void hs_quirk_cp_write(uc_engine *uc, int op0, int op1, int crn, int crm, int op2, uint64_t v);

/*
 * True when guest stores skip Unicorn 2.0.1's per-store page-collection lock
 * (see uc_quirks.c): ~70 -> ~30 ns per store.
 */
bool hs_quirk_store_lock_skipped(void);

/*
 * Page-granular store traps: a CPU store into a RAM page whose bit is set in
 * `watched` (a bit per page of the engine's RAM, owned by the caller) calls
 * `trap` before the store lands, with the page's RAM offset, the length and
 * the host return address inside the translated code (for
 * hs_quirk_store_pc); stores to other pages stay on Unicorn's fast path,
 * whatever hooks exist. Set a bit, then hs_quirk_trap_page, so that TLB
 * entries made before are checked again. See uc_fast_stores.c.
 */
struct hs_quirk_traps {
	const uint64_t *watched;
	size_t next_tb_off; /* hs_quirks.next_tb_off: 0, no trap can leave its block */
	/*
	 * True: the CPU leaves the translated block before the store lands, as
	 * QEMU does for its own watchpoints: the PC is put back to the storing
	 * instruction, which runs again (whole) when the CPU resumes there, alone
	 * in a block of its own (next_tb_off), so that the block hook of the
	 * block after it sees the store retired.
	 */
	bool (*trap)(void *ud, uint64_t ram_off, unsigned len, uintptr_t host_pc);
	void *ud;
};

/*
 * Attach an engine to the interposed TLB functions: on 2.0.1, stores to RAM
 * pages that hold no translated code skip QEMU's self-modifying-code check
 * (Unicorn 2.1 does that itself); on both, the store traps above. `ram` is
 * the host memory mapped at guest physical `ram_base`. Attach after the
 * engine mapped its memory, detach before uc_close. False: the interposition
 * is not bound for this engine (a library linked without the exports, a full
 * engine table): it keeps the slow, safe path and has no traps, so a user of
 * traps must fall back to a UC_HOOK_MEM_WRITE hook (hs_quirk_store_traps).
 */
bool hs_quirk_fast_stores_attach(uc_engine *uc, void *cpu, void *ram, uint64_t ram_base,
				 uint64_t ram_size, const struct hs_quirk_traps *traps,
				 const struct hs_quirks *q);
void hs_quirk_fast_stores_detach(uc_engine *uc);
/* Whether the engine's store traps work (attached, interposition bound). */
bool hs_quirk_store_traps(uc_engine *uc);
/* The page at ram_off became watched: its TLB entries send stores to the trap again. */
void hs_quirk_trap_page(uc_engine *uc, uint64_t ram_off);
/*
 * From a trap: the guest PC of the store (QEMU's own unwinding of the
 * translated block, as for a fault), 0 when the host address is not inside
 * translated code.
 */
uint64_t hs_quirk_store_pc(uc_engine *uc, uintptr_t host_pc);
/*
 * The code buffers' epoch: changes whenever an engine's translated code is
 * emptied (tb_flush), the only time a host address inside translated code
 * can start to name another guest instruction; until then
 * hs_quirk_store_pc gives the same PC for the same host address. 0: not
 * known (the interposition is not bound), so nothing may be remembered.
 */
uint64_t hs_quirk_code_epoch(void);
/*
 * Call after adding (added) or deleting a UC_HOOK_MEM_WRITE hook: while any
 * exists every store goes through the store helper, which calls the hooks.
 */
void hs_quirk_store_hooks(uc_engine *uc, bool added);
/*
 * Drop the translated code of [ram_off, ram_off + len) of the engine's RAM
 * (ram_off = PA - RAM base: RAM is the first memory the engine maps), at
 * whatever virtual addresses it was translated and whatever regime the CPU
 * is in now. uc_ctl_remove_cache cannot: it translates its address through
 * the CPU's current regime, so with the CPU in the host it misses the
 * hypervisor's HYP VAs (and quietly does nothing).
 */
void hs_quirk_drop_code(uc_engine *uc, uint64_t ram_off, uint64_t len);

/* TLB invalidation through CP_REG (works at any EL; CP_REG writes of TTBR/TCR do not flush). */
void hs_quirk_tlbi_all(uc_engine *uc);

#endif
