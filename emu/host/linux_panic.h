/* SPDX-License-Identifier: MIT */
/* Linux's panic path, the host's end: nvhe_hyp_panic_handler's report (linux_panic.c). */
#ifndef HS_LINUX_PANIC_H
#define HS_LINUX_PANIC_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"

/*
 * The __bug_table entry of a BUG()/WARN() brk at pc (a HYP VA, PA or link address):
 * the file and line it names and whether it is a WARN. -ENOENT when none.
 */
int hs_linux_bug_site(struct hs_machine *m, uint64_t pc, char *file, size_t len, unsigned *line,
		      bool *warning);

/* Profile hook (hs_profile.panic_fault): the fault from __hyp_do_panic's x0..x7. */
void hs_linux_panic_fault(struct hs_machine *m, unsigned cpu, struct hs_event_exception *x);

/* What differs between the kernels' handle_exit.c/stacktrace.c for the report. */
struct hs_linux_panic_facts {
	const char *kernel;	       /* "Linux 6.12" */
	const char *stacktrace_config; /* the option pkvm_dump_backtrace names */
	const char *bug_config;	       /* the option that makes the host read __bug_table */
	bool dump_instr;	       /* 7.x: dump_kernel_instr of the faulting instruction */
};

/*
 * For a host panic (x->host_panic): the lines nvhe_hyp_panic_handler prints and the
 * kernel's panic, then the BUG's __bug_table site. For a stop at a BUG/WARN brk itself:
 * "nVHE hyp BUG at: FILE:LINE!". Characters written (0: nothing to say).
 */
int hs_linux_panic_report(struct hs_machine *m, const struct hs_event_exception *x,
			  const struct hs_linux_panic_facts *k, char *buf, size_t len);

#endif
