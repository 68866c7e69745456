/* SPDX-License-Identifier: MIT */
/*
 * Pieces every host boot flow shares (host_boot.c for the bundled hypervisor,
 * linux_boot.c for Linux's): the host's memblock allocator, writing a hypervisor
 * symbol, and the host's throw-away EL2 stage-1 table.
 */
#ifndef HS_BOOT_UTIL_H
#define HS_BOOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"

struct hs_machine;

/* Stage-1 EL2 descriptor bits the host uses for its throw-away table. */
#define S1_VALID 0x1ULL
#define S1_TABLE 0x3ULL
#define S1_PAGE 0x3ULL
#define S1_ATTR_NORMAL (0ULL << 2)
#define S1_ATTR_DEVICE (1ULL << 2)
#define S1_AP_RW (1ULL << 6)
#define S1_AP_RO (3ULL << 6)
#define S1_SH_IS (3ULL << 8)
#define S1_AF (1ULL << 10)
#define S1_XN (1ULL << 54)
#define S1_OA_MASK 0x0000fffffffff000ULL

/* Host memory for guests after boot, from the top of the same allocator (memblock). */
int hs_vm_host_alloc(struct hs_machine *m, uint64_t size, uint64_t align, uint64_t *pa,
		     struct hs_error *err);

/* memblock: top-down, aligned, never below the image; the memory is zeroed. */
int hs_memblock_alloc(struct hs_machine *m, uint64_t size, uint64_t align, uint64_t *pa,
		      struct hs_error *err);
/* Store len bytes at the hypervisor symbol `name` (before the hypervisor protects itself). */
int hs_write_sym(struct hs_machine *m, const char *name, const void *val, size_t len,
		 struct hs_error *err);
/* A zeroed page for the throw-away table (remembered so it can be freed). */
int hs_boot_table_page(struct hs_machine *m, uint64_t *pa, struct hs_error *err);
/* Map one 4 KiB page va -> pa in the throw-away table with these attributes. */
int hs_boot_map_page(struct hs_machine *m, uint64_t va, uint64_t pa, uint64_t attrs,
		     struct hs_error *err);
int hs_boot_map_range(struct hs_machine *m, uint64_t va, uint64_t pa, uint64_t size, uint64_t attrs,
		      struct hs_error *err);
/* A symbol's link address; 0 when the image has none. */
uint64_t hs_link_sym(struct hs_machine *m, const char *name);
struct hs_host_op;
/* Start `hvc #0` on cpu with x0 = fn and x1.. = args; `done` continues the flow. */
int hs_boot_start_hvc(struct hs_machine *m, unsigned cpu, uint64_t fn, const uint64_t *args,
		      unsigned nargs,
		      int (*done)(struct hs_machine *, struct hs_host_op *, struct hs_error *),
		      struct hs_error *err);
/* The current boot step is complete: on to the next one's first operation. */
void hs_boot_step_done(struct hs_machine *m);
/* Emit the boot-step event for `step` (enum in host_boot.h) with a detail line. */
void hs_boot_emit_step(struct hs_machine *m, int step, const char *detail);

#endif
