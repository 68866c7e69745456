/* SPDX-License-Identifier: MIT */
/*
 * The write log: which physical pages were stored to, by any CPU at any
 * exception level, since a reader last asked. The incremental checker is
 * its reader: after a hypercall it re-reads only the pages the log names.
 *
 * While only rare readers are open (hs_write_log_open_rare: checkpoints),
 * the kernel tracks the written pages where it can
 * (dirty_pages.h: RAM registered with userfaultfd in asynchronous
 * write-protect mode, read and reset with PAGEMAP_SCAN, Linux 6.7): no hook,
 * no translation, nothing lost, every store seen (any CPU at any EL, the
 * emulator's own). A take scans the kernel's page tables once and merges the
 * pages into every open reader, each of which keeps its own "since my last
 * take". Where the kernel refuses (older kernel, seccomp, a dump's file RAM)
 * or HS_WRITE_LOG_HOOKS is set (tests of this fallback), and while a reader
 * that takes after every call is open (a scan per call would cost more), the
 * readers are fed by hooks instead:
 *
 * every CPU engine carries a UC_HOOK_MEM_WRITE hook.
 * Unicorn reports the virtual address, so the log translates it the way the
 * CPU did: at EL2 through the EL2 stage 1 (TTBR0_EL2, or flat with
 * SCTLR_EL2.M clear), at EL1/EL0 through the EL1&0 stage 1 and, with
 * HCR_EL2.VM set, the current stage 2 (the host's or a guest's), with the
 * emulator's own walker (pt_translate.c). Host and guest stores are logged
 * too: the host stage 2 forbids them on hyp memory only if the hypervisor got
 * it right, and the checker must see exactly what a bug would have changed.
 *
 * Translations are cached per CPU and per page like a TLB, and dropped like
 * one: on the TLB maintenance the CPUs execute (by VA for VAE2/VALE2) and on
 * writes of the registers that define the regime. A store the log cannot
 * place (no translation: it faulted, or went through a stale TLB entry the
 * hypervisor failed to invalidate) makes the log "lose track", and so does a
 * burst of more than HS_WRITE_LOG_MAX_PAGES pages (on both paths); a reader
 * then has to assume every page changed.
 *
 * Stores the emulator itself makes into RAM (hs_phys_write: the debugger,
 * the host model, tests) are marked with hs_write_log_mark (the hooks do
 * not see them; the kernel does, and a mark is merged with its pages).
 */
#ifndef HS_WRITE_LOG_H
#define HS_WRITE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"

#define HS_WRITE_LOG_MAX_PAGES (1u << 16) /* per reader between two takes */

struct hs_write_log_reader;

/*
 * Start logging for a new reader that takes after every call (the trace, the
 * incremental checker): the hooks feed the readers while one is open.
 */
int hs_write_log_open(struct hs_machine *m, struct hs_write_log_reader **out, struct hs_error *err);
/*
 * The same for a reader that takes once in a while (checkpoints: at each
 * operation and every 10^6 instructions): while every open reader is one,
 * the kernel tracks the pages (a take costs a scan of its page tables, which
 * grows with the pages the machine touched, ~0.13 ms on a booted 16 GiB one).
 */
int hs_write_log_open_rare(struct hs_machine *m, struct hs_write_log_reader **out,
			   struct hs_error *err);
/* Stop; the tracking stops with the last reader. */
void hs_write_log_close(struct hs_write_log_reader *r);

struct hs_write_log_pages {
	const uint64_t *pa; /* page addresses, sorted, each once */
	size_t nr;
	const char *lost; /* non-NULL: the log lost track (why); assume every page changed */
};
/*
 * The pages written since the reader's last take (or its open), and start
 * over. out->pa stays valid until the next take or the close.
 */
void hs_write_log_take(struct hs_write_log_reader *r, struct hs_write_log_pages *out);

/* Record a store into [pa, pa + len) that no CPU made (RAM only; cheap when no reader). */
void hs_write_log_mark(struct hs_machine *m, uint64_t pa, uint64_t len);
/*
 * [pa, pa + len) is about to be dropped (MADV_DONTNEED: hs_phys_zero): mark
 * the pages of it that may hold anything, which neither the hooks nor the
 * kernel would see change.
 */
void hs_write_log_zeroing(struct hs_machine *m, uint64_t pa, uint64_t len);

/*
 * The store tap: an HS_EV_TABLE_STORE event for every CPU store that lands in
 * a watched page (the TLB checker and PTE provenance watch the table pages
 * they track), with the bytes before and after, the storing PC and the
 * instruction count. Where the engines have page-granular store traps
 * (store_trap.h: Unicorn 2.0.1 and 2.1.1 with the interposition bound) only
 * the watched pages leave the fast path, the event comes once the store
 * retired, before the next machine event, and its VA is 0 (traps see
 * physical pages); otherwise the tap turns the write log's hooks on (every
 * store slow) and the event comes from the hook, before the store lands. A
 * store wider than 8 bytes is reported in 8-byte pieces with traps, for its
 * first 8 bytes with the hook.
 */
int hs_write_log_tap_get(struct hs_machine *m, struct hs_error *err);
void hs_write_log_tap_put(struct hs_machine *m);
/*
 * Watch (or stop watching) the RAM page holding pa; -EINVAL when it is not RAM.
 * Counted: a page stays watched until every user that watched it stops.
 */
int hs_write_log_tap_watch(struct hs_machine *m, uint64_t pa, bool on);

/*
 * Drop every cached translation: the CPUs' regimes changed behind the log's
 * back (a checkpoint was restored).
 */
void hs_write_log_forget_translations(struct hs_machine *m);

struct hs_write_log_stats {
	uint64_t stores;       /* stores the hooks saw */
	uint64_t translations; /* of which needed a page-table walk */
	uint64_t flushes;      /* translation caches dropped (TLBI, regime writes) */
	uint64_t scans;	       /* the kernel's page tables scanned (takes, opens) */
	bool kernel;	       /* the kernel tracks the written pages now */
	bool hooked;	       /* the hooks are on the engines now */
	const char *why_hooks; /* readers open without the kernel: why (else NULL) */
};
void hs_write_log_stats(const struct hs_machine *m, struct hs_write_log_stats *st);

/* Free the log (machine destruction). */
void hs_write_log_free(struct hs_machine *m);

#endif
