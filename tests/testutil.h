/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Check test programs. */
#ifndef HS_TESTUTIL_H
#define HS_TESTUTIL_H

#include "machine.h"

/* The hypervisor image the build produced (HS_HYP_ELF from ctest). */
const char *hs_test_hyp_elf(void);
/* A fresh machine with default options (and `cpus`, `ram` when non-zero); aborts the test on error.
 */
struct hs_machine *hs_test_machine(unsigned cpus, uint64_t ram);
/* A machine booted to a protected host; aborts the test on error. */
struct hs_machine *hs_test_booted(unsigned cpus, uint64_t ram);

/* Run a suite with the usual runner; returns the process exit status. */
struct Suite;
int hs_test_run(struct Suite *s);

#endif
