/* SPDX-License-Identifier: MIT */
/*
 * The host's part of the protected-mode boot flow (seed 000), as a chain of
 * resumable host operations: a breakpoint inside the hypervisor stops the
 * chain and `continue` picks it up.
 */
#ifndef HS_HOST_BOOT_H
#define HS_HOST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include <hypscope/abi.h>

#include "machine.h"
#include "strbuf.h"

enum hs_boot_step {
	HS_BOOT_FIRMWARE,  /* CPUs enter the hyp stub at EL2 and drop to the host */
	HS_BOOT_RESERVE,   /* step 1: memblock reservation of the pool */
	HS_BOOT_TABLES,	   /* step 2: throw-away EL2 stage 1, init params */
	HS_BOOT_HYP_INIT,  /* step 2/3: vectors to the idmap, __kvm_hyp_init per CPU */
	HS_BOOT_PKVM_INIT, /* steps 3-5: __pkvm_init (switch pgd, finalise) */
	HS_BOOT_FINALIZE,  /* __pkvm_prot_finalize per CPU */
	HS_BOOT_FREE,	   /* step 6: free the throw-away tables */
	HS_BOOT_DONE,
	HS_BOOT_NR_STEPS
};

const char *hs_boot_step_name(int step);
/* Accepts names ("pkvm-init") or numbers; -1 when unknown. */
int hs_boot_step_by_name(const char *name);
/* The step the boot will run next (HS_BOOT_DONE when booted). */
int hs_boot_next_step(const struct hs_machine *m);

/*
 * Run the boot flow to the end, or stop before step `until` (NULL: to the
 * end). Returns 0 with *stop describing why it returned; a later call
 * resumes. Errors (a hypercall failing) come back as a negative code.
 */
int hs_boot(struct hs_machine *m, const char *until, struct hs_stop *stop, struct hs_error *err);
/* The continuation the bundled boot flow gives its operations (saved machines name it). */
struct hs_host_op;
typedef int (*hs_boot_done_fn)(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err);
hs_boot_done_fn hs_boot_continuation(void);
/* The same for any flow with these steps: `advance` runs C steps and starts operations. */
int hs_boot_run(struct hs_machine *m, const char *until,
		int (*advance)(struct hs_machine *m, struct hs_error *err), struct hs_stop *stop,
		struct hs_error *err);

struct hs_boot_info {
	bool booted, finalized;
	uint64_t pool_pa, pool_size;
	unsigned hyp_va_bits;
	uint64_t linear_start, linear_end; /* HYP VA range of the linear map of RAM */
	uint64_t idmap_pa;
	bool idmap_upper_half;
	uint64_t boot_pgd_pa; /* the host's throw-away table */
	unsigned boot_table_pages;
	bool boot_tables_freed;
	uint64_t hyp_pgd_pa; /* the hypervisor's own table (0 before __pkvm_init) */
	uint64_t params_pa[HS_MAX_CPUS];
	uint64_t percpu_pa, percpu_size;
};
void hs_boot_info(const struct hs_machine *m, struct hs_boot_info *info);
/* A human summary of the boot (pool, VA layout, tables, buddy, CPUs). */
void hs_boot_summary(struct hs_machine *m, struct hs_strbuf *sb);

#endif
