/* SPDX-License-Identifier: MIT */
/*
 * The machine as gdb sees it: the target description (AArch64 core and FP
 * registers plus the system registers a hypervisor developer reads), gdb's
 * register numbers mapped onto a CPU, and memory in the CPU's current
 * translation regime (or physical).
 */
#ifndef HS_GDB_TARGET_H
#define HS_GDB_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "strbuf.h"

/* gdb register numbers of the core feature (org.gnu.gdb.aarch64.core). */
#define GDB_REG_X29 29
#define GDB_REG_SP 31
#define GDB_REG_PC 32
#define GDB_REG_CPSR 33

/* Number of registers in the description; the 'g' packet holds the core and FP ones. */
unsigned gdb_target_nregs(void);
/* Bytes of register regno (0 when there is none). */
unsigned gdb_target_reg_size(unsigned regno);
/* Registers in the 'g' packet (0 .. n-1). */
unsigned gdb_target_g_nregs(void);
/* The XML target description (target.xml). */
void gdb_target_xml(struct hs_strbuf *sb);

/* Read register regno of cpu into out (little-endian, up to 16 bytes); its size or -1. */
int gdb_target_read_reg(struct hs_machine *m, unsigned cpu, unsigned regno, uint8_t out[16]);
/* The registers of the 'g' packet, in order, into out (cap bytes); their size or -1. */
int gdb_target_read_g(struct hs_machine *m, unsigned cpu, uint8_t *out, size_t cap);
/* Write it (as a debugger write, like `set var`; SP_EL2 is read-only); 0 or -1. */
int gdb_target_write_reg(struct hs_machine *m, unsigned cpu, unsigned regno, const uint8_t *val,
			 size_t len);

/*
 * Translate addr as cpu sees it now (phys: addr is a PA): EL2 stage 1
 * (or flat with SCTLR_EL2.M = 0) at EL2; EL1 stage 1 then stage 2 (when
 * HCR_EL2.VM) at EL1, and when that does not map addr, the hypervisor's
 * stage 1 (SCTLR_EL2.M = 1), so its variables can be read from a host
 * stop. 0 with *pa, or -1.
 */
int gdb_target_translate(struct hs_machine *m, unsigned cpu, bool phys, uint64_t addr,
			 uint64_t *pa);
/*
 * Translations reused between two packets that change nothing: gdb reads
 * the same few pages many times per stop (the PC's, the stack's), and a
 * walk costs more than the packet. The server drops them all
 * (gdb_tlb_flush) before anything that could change a translation runs:
 * a resume, a write, a monitor command.
 */
#define GDB_TLB_ENTRIES 8
struct gdb_tlb {
	struct {
		bool valid;
		unsigned cpu;
		uint64_t va_page, pa_page;
	} e[GDB_TLB_ENTRIES];
	unsigned next; /* the entry replaced next (round robin) */
};
void gdb_tlb_flush(struct gdb_tlb *t);

/* A write covers at most this many pages (packets are bounded far below). */
#define GDB_TARGET_MAX_WRITE_PAGES 8
/*
 * Read/write len bytes page by page; *done says how many succeeded before a
 * fault. tlb (may be NULL) holds translations from earlier reads.
 */
int gdb_target_read_mem(struct hs_machine *m, struct gdb_tlb *tlb, unsigned cpu, bool phys,
			uint64_t addr, void *buf, size_t len, size_t *done);
int gdb_target_write_mem(struct hs_machine *m, unsigned cpu, bool phys, uint64_t addr,
			 const void *buf, size_t len);

#endif
