/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check test programs. */
#ifndef HS_TESTUTIL_H
#define HS_TESTUTIL_H

#include <stdbool.h>

#include "host.h"
#include "machine.h"
#include "pt_walk.h"

/* The hypervisor image the build produced (HS_HYP_ELF from ctest). */
const char *hs_test_hyp_elf(void);
/* A fresh machine with default options (and `cpus`, `ram` when non-zero); aborts the test on error.
 */
struct hs_machine *hs_test_machine(unsigned cpus, uint64_t ram);
/* A machine booted to a protected host; aborts the test on error. */
struct hs_machine *hs_test_booted(unsigned cpus, uint64_t ram);

/* 64-bit physical reads and writes that fail the test on error (writes go through hs_phys_write).
 */
uint64_t hs_test_rd64(struct hs_machine *m, uint64_t pa);
void hs_test_wr64(struct hs_machine *m, uint64_t pa, uint64_t v);
/* PA of the last descriptor translating `in` in regime r. */
uint64_t hs_test_regime_desc_pa(struct hs_machine *m, const struct hs_pt_regime *r, uint64_t in);
/* The same through CPU 0's registers: the host stage 2 (stage2) or the EL2 stage 1. */
uint64_t hs_test_desc_pa(struct hs_machine *m, bool stage2, uint64_t in);
/* PA of the vmemmap entry describing page pa. */
uint64_t hs_test_vmemmap_entry_pa(struct hs_machine *m, uint64_t pa);
/* Fail the test with the checker's report unless hs_check() finds nothing. */
void hs_test_assert_clean(struct hs_machine *m, const char *when);

/* One hypercall by number from the host on cpu; fails the test unless it completed. */
struct hs_host_op hs_test_hvc(struct hs_machine *m, unsigned cpu, int nr, uint64_t a0, uint64_t a1);
/* A host load or store of 8 bytes at pfn's page (refusals are results, not failures). */
void hs_test_host_touch(struct hs_machine *m, unsigned cpu, uint64_t pfn, bool write);
/* The host writes a two-instruction function (x2 = imm; ret) at pa with its own EL1
 * stores, which must not be refused. */
void hs_test_host_writes_function(struct hs_machine *m, uint64_t pa, unsigned imm);
/* Switch CPU 1 off (PSCI CPU_OFF on it) or on (CPU_ON from CPU 0) and flip *on. */
void hs_test_toggle_cpu1(struct hs_machine *m, bool *on);
/* A hash of all of RAM (the non-zero words and where they are). */
uint64_t hs_test_ram_hash(struct hs_machine *m);
/* Take a user checkpoint / restart one; fail the test on error. */
unsigned hs_test_checkpoint(struct hs_machine *m);
void hs_test_restart(struct hs_machine *m, unsigned id);
/* The TLB checker's report as text (a static buffer). */
struct hs_tlb_check;
const char *hs_test_tlb_report(const struct hs_tlb_check *tc);

/* Run a suite with the usual runner; returns the process exit status. */
struct Suite;
int hs_test_run(struct Suite *s);

#endif
