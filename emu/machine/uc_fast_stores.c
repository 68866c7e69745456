/* SPDX-License-Identifier: MIT */
/*
 * Fast guest stores on Unicorn 2.0.1, and page-granular store traps on 2.0.1
 * and 2.1.x.
 *
 * QEMU sends a store to a page through the self-modifying-code check
 * (notdirty_write: a region lookup by VA, tb_invalidate_phys_page_fast,
 * page_find) only while the page's TLB entry carries TLB_NOTDIRTY, and clears
 * the flag once the page holds no translated code. Unicorn 2.0.1 keeps no
 * dirty bitmap (cpu_physical_memory_is_clean() is always true), so every
 * store to RAM takes that path forever: ~40 % of a null hypercall. Unicorn
 * 2.1.0 fixed it itself (commit d0103576): the first store through a new TLB
 * entry takes the check, which then clears the flag (tlb_set_dirty).
 *
 * libunicorn calls the functions below through its PLT, so defining them in
 * the executable (exported: emu/machine/CMakeLists.txt) interposes them:
 * - tlb_set_page_with_attrs (2.0.1): after QEMU filled a TLB entry, clear
 *   TLB_NOTDIRTY when the page holds no translated code and is not watched:
 *   on the entry just filled, where calibration found QEMU's fast tables
 *   (uc_calibrate_tlb.c), else with tlb_set_dirty (which scans every MMU
 *   mode's entry and victim entries: 108 per fill);
 * - tlb_protect_code (2.0.1; a page receives its first translated block):
 *   remember the page, and put TLB_NOTDIRTY back on every entry that maps it
 *   (tlb_reset_dirty, what QEMU's dirty bitmap would have done), so stores
 *   to it are checked again and drop the stale translations;
 * - tlb_unprotect_code (2.0.1; the page's last block was invalidated): forget it;
 * - tb_invalidate_phys_page_fast (both): the self-modifying-code check of
 *   one store, with its RAM address, length and host return address. On a
 *   watched page it is the store trap: the caller's function runs, before
 *   the store lands. If it asks to, the CPU leaves the translated block
 *   there, as QEMU's own watchpoints and self-modifying-code check do:
 *   cpu_restore_state puts the PC back to the storing instruction and
 *   cpu_loop_exit_noexc longjmps to the CPU loop, which honours a pending
 *   uc_emu_stop before the next block (the page collection the check was
 *   handed is released first, as QEMU's own exit does);
 * - tlb_set_dirty (2.1.x): the check is about to clear TLB_NOTDIRTY after
 *   the store it just ran; not for a watched page, so that the next store
 *   traps too;
 * - tcg_region_reset_all (both; every tb_flush empties the code buffer
 *   there): counted (hs_quirk_code_epoch), because only then does a host
 *   address inside translated code start to name another guest instruction,
 *   so a trap's PC may be remembered by its host return address until then.
 * Pages that held code and are reused (donated, reclaimed, loaded with a new
 * guest program) are therefore exactly as safe as before, and only watched
 * pages pay for the traps: a memory hook would send every load and store of
 * newly translated code through the slow path (Unicorn's TCG backend tests
 * HOOK_EXISTS when it translates).
 *
 * The interposed functions get no user data, so the engines are found in a
 * process-wide table (the one piece of global state in emu/, guarded by a
 * mutex): each attached engine's CPU object, RAM, a bitmap of the RAM pages
 * that hold its translated code and the caller's traps. An engine not in the
 * table (the calibration's scratch engine, or a full table) keeps the slow,
 * safe path and has no traps.
 */
#include "uc_quirks.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "uc_qemu_tlb.h"

/*
 * Code translated before a memory write hook existed tests the TLB inline and
 * calls the store helper (and so the hook) only when the entry is not a plain
 * writable one: refill every entry, without the fast-store mark.
 */
static void flush_tlb(uc_engine *uc)
{
	tlb_flush_aarch64(hs_quirk_engine_cpu(uc));
}

#define PAGE_SHIFT 12
#define PAGE_WRITE 0x2 /* QEMU's PAGE_WRITE */
#define MAX_ENGINES 64

void tlb_protect_code_aarch64(uc_engine *uc, uint64_t ram_addr);
void tlb_unprotect_code_aarch64(uc_engine *uc, uint64_t ram_addr);
void tb_invalidate_phys_page_fast_aarch64(uc_engine *uc, void *pages, uint64_t start, int len,
					  uintptr_t retaddr);
/* libunicorn's own, called directly. */
void tlb_reset_dirty_aarch64(void *cpu, uintptr_t host_start, uintptr_t length);
uint64_t qemu_ram_addr_from_host_aarch64(uc_engine *uc, void *host);
bool cpu_restore_state_aarch64(void *cpu, uintptr_t host_pc, bool will_exit);
void cpu_loop_exit_noexc_aarch64(void *cpu) __attribute__((noreturn));

struct engine {
	uc_engine *uc;
	void *cpu;
	uint8_t *ram;	   /* host memory of the guest's RAM */
	uint64_t ram_base; /* its guest physical address */
	uint64_t npages;
	uint64_t ram_addr;  /* QEMU's ram_addr_t of ram[0] in this engine */
	uint64_t *code;	    /* a bit per RAM page: holds translated code (2.0.1) */
	int store_hooks;    /* memory write hooks: every store must reach them */
	bool keep_notdirty; /* 2.1: the check that just ran was a trap */
	struct hs_quirk_traps traps;
	struct hs_quirks q; /* where the fill marks its entry dirty (2.0.1) */
};

static struct {
	pthread_mutex_t lock;
	struct engine *e[MAX_ENGINES];
	/*
	 * libunicorn's definitions of the functions called for every checked
	 * store, looked up once: dlsym per store cost more than the check itself
	 * while a memory hook sends every store through it.
	 */
	void *_Atomic real_check, *_Atomic real_set_dirty, *_Atomic real_fill, *_Atomic real_reset;
	/* code buffers emptied (tcg_region_reset_all), in any engine */
	_Atomic uint64_t code_resets;
	_Atomic int reset_bound; /* 0: not asked yet, 1: the reset below is libunicorn's, -1: not */
	struct engine *last;	 /* the last one found: the running engine, nearly always */
} engines = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct engine *find_locked(const void *cpu, const uc_engine *uc)
{
	struct engine *l = engines.last;
	if (l && (cpu ? l->cpu == cpu : l->uc == uc))
		return l;
	for (int i = 0; i < MAX_ENGINES; i++) {
		struct engine *e = engines.e[i];
		if (e && (cpu ? e->cpu == cpu : e->uc == uc))
			return engines.last = e;
	}
	return NULL;
}

static bool bit(const uint64_t *map, uint64_t pfn)
{
	return map && (map[pfn / 64] >> (pfn % 64) & 1);
}

static void *real(const char *name)
{
	/* The next definition after the executable's: libunicorn's. */
	return dlsym(RTLD_NEXT, name);
}

static void *real_once(void *_Atomic *slot, const char *name)
{
	void *f = atomic_load_explicit(slot, memory_order_acquire);
	if (!f) {
		f = real(name);
		atomic_store_explicit(slot, f, memory_order_release);
	}
	return f;
}

/*
 * The page collection notdirty_write locked for the check; its own unlock is
 * skipped when the CPU leaves the block. 2.0.1 hands NULL (uc_quirks.c
 * replaced the lock), and so may a library that dropped the collection.
 */
static void release_pages(void *pages)
{
	if (!pages)
		return;
	/* The unlock libunicorn binds to (uc_quirks.c's on 2.0.1): the one matching its lock. */
	void (*unlock)(void *) = dlsym(RTLD_DEFAULT, "page_collection_unlock_aarch64");
	if (unlock)
		unlock(pages);
}

void tb_invalidate_phys_page_fast_aarch64(uc_engine *uc, void *pages, uint64_t start, int len,
					  uintptr_t retaddr)
{
	void (*check)(uc_engine *, void *, uint64_t, int, uintptr_t) =
	    real_once(&engines.real_check, "tb_invalidate_phys_page_fast_aarch64");
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(NULL, uc);
	uint64_t pfn = (start - (e ? e->ram_addr : 0)) >> PAGE_SHIFT;
	bool ours = e && start >= e->ram_addr && pfn < e->npages;
	/*
	 * On 2.0.1 the engine knows which pages hold translated code (a superset:
	 * a flush leaves the bits set); QEMU's check of a page without any does
	 * nothing, and a watched table page holds none.
	 */
	if (!(HS_UC_2_0 && ours && !bit(e->code, pfn))) {
		/* First: if the store hits translated code, QEMU may leave for the next block. */
		pthread_mutex_unlock(&engines.lock);
		check(uc, pages, start, len, retaddr);
		pthread_mutex_lock(&engines.lock);
	}
	struct hs_quirk_traps t = {0};
	if (e)
		e->keep_notdirty = false;
	if (ours && bit(e->traps.watched, pfn)) {
		t = e->traps;
		e->keep_notdirty = true;
	}
	uint64_t off = e ? start - e->ram_addr : 0;
	void *cpu = e ? e->cpu : NULL;
	pthread_mutex_unlock(&engines.lock);
	/* Outside the lock: the trap may watch more pages. */
	if (!t.trap || !t.trap(t.ud, off, len > 0 ? (unsigned)len : 0, retaddr) || !retaddr ||
	    !t.next_tb_off)
		return;
	/* The store runs again alone: cflags_next_tb = 1 | curr_cflags() (0 in Unicorn). */
	uint32_t one = 1;
	memcpy((uint8_t *)cpu + t.next_tb_off, &one, sizeof(one));
	pthread_mutex_lock(&engines.lock);
	e->keep_notdirty = false; /* no tlb_set_dirty follows: the store does not happen */
	pthread_mutex_unlock(&engines.lock);
	release_pages(pages);
	cpu_restore_state_aarch64(cpu, retaddr, true);
	cpu_loop_exit_noexc_aarch64(cpu);
}

bool hs_quirk_store_traps(uc_engine *uc)
{
	pthread_mutex_lock(&engines.lock);
	bool on = find_locked(NULL, uc) != NULL;
	pthread_mutex_unlock(&engines.lock);
	return on;
}

void hs_quirk_trap_page(uc_engine *uc, uint64_t ram_off)
{
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(NULL, uc);
	if (e && (ram_off >> PAGE_SHIFT) < e->npages)
		tlb_reset_dirty_aarch64(e->cpu, (uintptr_t)(e->ram + (ram_off & ~0xfffULL)),
					1u << PAGE_SHIFT);
	pthread_mutex_unlock(&engines.lock);
}

uint64_t hs_quirk_store_pc(uc_engine *uc, uintptr_t host_pc)
{
	uint64_t pc = 0;
	if (!host_pc || !cpu_restore_state_aarch64(hs_quirk_engine_cpu(uc), host_pc, false))
		return 0;
	uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
	return pc;
}

void tcg_region_reset_all_aarch64(void *tcg_ctx);

void tcg_region_reset_all_aarch64(void *tcg_ctx)
{
	void (*reset)(void *) = real_once(&engines.real_reset, "tcg_region_reset_all_aarch64");
	reset(tcg_ctx);
	atomic_fetch_add_explicit(&engines.code_resets, 1, memory_order_release);
}

/* Our definition itself: taking the exported name's address goes through the GOT. */
extern void hs_quirk_own_reset(void *tcg_ctx)
    __attribute__((alias("tcg_region_reset_all_aarch64"), visibility("hidden")));

uint64_t hs_quirk_code_epoch(void)
{
	int bound = atomic_load_explicit(&engines.reset_bound, memory_order_acquire);
	if (!bound) {
		bound = dlsym(RTLD_DEFAULT, "tcg_region_reset_all_aarch64") ==
				(void *)hs_quirk_own_reset
			    ? 1
			    : -1;
		atomic_store_explicit(&engines.reset_bound, bound, memory_order_release);
	}
	return bound < 0 ? 0 : atomic_load_explicit(&engines.code_resets, memory_order_acquire) + 1;
}

#if HS_UC_2_0

void tlb_set_page_with_attrs_aarch64(void *cpu, uint64_t vaddr, uint64_t paddr,
				     struct qemu_memtxattrs attrs, int prot, int mmu_idx,
				     uint64_t size)
{
	void (*fill)(void *, uint64_t, uint64_t, struct qemu_memtxattrs, int, int, uint64_t) =
	    real_once(&engines.real_fill, "tlb_set_page_with_attrs_aarch64");
	fill(cpu, vaddr, paddr, attrs, prot, mmu_idx, size);
	if (!(prot & PAGE_WRITE))
		return;
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(cpu, NULL);
	uint64_t pfn = (paddr - (e ? e->ram_base : 0)) >> PAGE_SHIFT;
	if (e && !e->store_hooks && paddr >= e->ram_base && pfn < e->npages && !bit(e->code, pfn) &&
	    !bit(e->traps.watched, pfn) && !hs_quirk_tlb_mark_dirty(&e->q, cpu, vaddr, mmu_idx))
		tlb_set_dirty_aarch64(cpu, vaddr);
	pthread_mutex_unlock(&engines.lock);
}

void tlb_protect_code_aarch64(uc_engine *uc, uint64_t ram_addr)
{
	void (*protect)(uc_engine *, uint64_t) = real("tlb_protect_code_aarch64");
	protect(uc, ram_addr);
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(NULL, uc);
	uint64_t pfn = (ram_addr - (e ? e->ram_addr : 0)) >> PAGE_SHIFT;
	if (e && ram_addr >= e->ram_addr && pfn < e->npages) {
		e->code[pfn / 64] |= 1ULL << (pfn % 64);
		tlb_reset_dirty_aarch64(e->cpu, (uintptr_t)(e->ram + (pfn << PAGE_SHIFT)),
					1u << PAGE_SHIFT);
	}
	pthread_mutex_unlock(&engines.lock);
}

void tlb_unprotect_code_aarch64(uc_engine *uc, uint64_t ram_addr)
{
	void (*unprotect)(uc_engine *, uint64_t) = real("tlb_unprotect_code_aarch64");
	unprotect(uc, ram_addr);
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(NULL, uc);
	uint64_t pfn = (ram_addr - (e ? e->ram_addr : 0)) >> PAGE_SHIFT;
	if (e && ram_addr >= e->ram_addr && pfn < e->npages)
		e->code[pfn / 64] &= ~(1ULL << (pfn % 64));
	pthread_mutex_unlock(&engines.lock);
}

static const char *const interposed[] = {"tlb_set_page_with_attrs_aarch64",
					 "tlb_protect_code_aarch64", "tlb_unprotect_code_aarch64",
					 "tb_invalidate_phys_page_fast_aarch64"};
static void *const ours[] = {(void *)tlb_set_page_with_attrs_aarch64,
			     (void *)tlb_protect_code_aarch64, (void *)tlb_unprotect_code_aarch64,
			     (void *)tb_invalidate_phys_page_fast_aarch64};

#else

/* The store check that just ran trapped: leave TLB_NOTDIRTY on the entry. */
void tlb_set_dirty_aarch64(void *cpu, uint64_t vaddr)
{
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(cpu, NULL);
	bool keep = e && e->keep_notdirty;
	if (e)
		e->keep_notdirty = false;
	pthread_mutex_unlock(&engines.lock);
	if (keep)
		return;
	void (*set)(void *, uint64_t) = real_once(&engines.real_set_dirty, "tlb_set_dirty_aarch64");
	set(cpu, vaddr);
}

static const char *const interposed[] = {"tb_invalidate_phys_page_fast_aarch64",
					 "tlb_set_dirty_aarch64"};
static void *const ours[] = {(void *)tb_invalidate_phys_page_fast_aarch64,
			     (void *)tlb_set_dirty_aarch64};

#endif

bool hs_quirk_fast_stores_attach(uc_engine *uc, void *cpu, void *ram, uint64_t ram_base,
				 uint64_t ram_size, const struct hs_quirk_traps *traps,
				 const struct hs_quirks *q)
{
	/* Only if the dynamic linker bound libunicorn's calls to the functions above. */
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (dlsym(RTLD_DEFAULT, interposed[i]) != ours[i])
			return false;
	struct engine *e = calloc(1, sizeof(*e));
	uint64_t npages = ram_size >> PAGE_SHIFT;
	uint64_t ram_addr = qemu_ram_addr_from_host_aarch64(uc, ram);
	/* The RAM must be one QEMU RAM block, so ram_addr runs along with the host address. */
	bool one_block = qemu_ram_addr_from_host_aarch64(uc, (uint8_t *)ram + ram_size - 1) ==
			 ram_addr + ram_size - 1;
	if (!e || !one_block || !(e->code = calloc((npages + 63) / 64, 8))) {
		if (e)
			free(e->code);
		free(e);
		return false;
	}
	*e = (struct engine){.uc = uc,
			     .cpu = cpu,
			     .ram = ram,
			     .ram_base = ram_base,
			     .npages = npages,
			     .ram_addr = ram_addr,
			     .code = e->code};
	if (traps)
		e->traps = *traps;
	if (q)
		e->q = *q;
	pthread_mutex_lock(&engines.lock);
	bool placed = false;
	for (int i = 0; i < MAX_ENGINES && !placed; i++)
		if (!engines.e[i])
			engines.e[i] = e, placed = true;
	pthread_mutex_unlock(&engines.lock);
	if (!placed) {
		free(e->code);
		free(e);
	}
	return placed;
}

void hs_quirk_store_hooks(uc_engine *uc, bool added)
{
	pthread_mutex_lock(&engines.lock);
	struct engine *e = find_locked(NULL, uc);
	if (e)
		e->store_hooks += added ? 1 : -1;
	pthread_mutex_unlock(&engines.lock);
	if (added)
		flush_tlb(uc);
}

void hs_quirk_fast_stores_detach(uc_engine *uc)
{
	pthread_mutex_lock(&engines.lock);
	for (int i = 0; i < MAX_ENGINES; i++) {
		struct engine *e = engines.e[i];
		if (e && e->uc == uc) {
			engines.e[i] = NULL;
			if (engines.last == e)
				engines.last = NULL;
			free(e->code);
			free(e);
		}
	}
	pthread_mutex_unlock(&engines.lock);
}
