/* SPDX-License-Identifier: MIT */
/*
 * Calibration of the quirk layer against the libunicorn the process runs
 * with, and the self-test that proves it: where QEMU's CPU state and the
 * exception it is reporting live, then a known HVC delivered natively and
 * compared with what the architecture says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uc_quirks.h"

#define SCAN_MAX (1u << 20) /* QEMU's ARM CPU object is well below this */
#define NR_MARKS 8
#define MARK(i) (0x68797073636f7000ULL + (i)) /* "hypscop" + i in X0..X7 */

/* Scratch program (physical addresses, every MMU off). */
enum {
	CODE_BRK_A = 0x1000, /* brk #0x1234 */
	CODE_BRK_B = 0x1010, /* brk #0x4321 */
	CODE_HVC = 0x1100,   /* hvc #0x42 */
	VBAR_EL2 = 0x2000,
	VEC_LOWER_A64 = VBAR_EL2 + 0x400, /* mrs x1, CurrentEL */
};
#define A64_BRK(imm) (0xd4200000u | ((uint32_t)(imm) << 5))
#define A64_HVC(imm) (0xd4000002u | ((uint32_t)(imm) << 5))
#define A64_MRS_X1_CURRENTEL 0xd5384241u
#define ESR_BRK(imm) (0xF2000000u | (imm))   /* EC 0x3c, IL */
#define ESR_HVC64(imm) (0x5A000000u | (imm)) /* EC 0x16, IL */
#define PSTATE_EL1H_MASKED 0x3c5u
#define PSTATE_EL2H_MASKED 0x3c9u

/* Copy up to len bytes of this process at addr; stops where memory stops being readable. */
static size_t read_own_memory(uintptr_t addr, uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		uintptr_t a = addr + done;
		size_t n = 4096 - (a & 4095);
		if (n > len - done)
			n = len - done;
		struct iovec local = {buf + done, n}, remote = {(void *)a, n};
		if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)n)
			break;
		done += n;
	}
	return done;
}

static size_t find_marks(const uint8_t *b, size_t len)
{
	uint64_t want[NR_MARKS];
	for (int i = 0; i < NR_MARKS; i++)
		want[i] = MARK(i);
	/* Step 4: a context's header need not keep its copy of the CPU state 8-aligned. */
	for (size_t i = 0; i + sizeof(want) <= len; i += 4)
		if (!memcmp(b + i, want, sizeof(want)))
			return i;
	return SIZE_MAX;
}

static size_t find_u32(const uint8_t *b, size_t len, uint32_t v)
{
	for (size_t i = 0; i + 4 <= len; i += 4)
		if (!memcmp(b + i, &v, 4))
			return i;
	return SIZE_MAX;
}

struct scratch {
	uc_engine *uc;
	void *cpu;
	const struct hs_quirks *q;
	uc_context *ctx;
	size_t ctx_size;
	bool deliver;	/* the INTR hook delivers the exception natively */
	uint32_t intno; /* what the hook saw */
	uint32_t syndrome;
	bool syndrome_ok; /* q->exc_off is known: the hook read the syndrome */
};

static void scratch_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	struct scratch *s = ud;
	s->intno = intno;
	if (s->syndrome_ok)
		s->syndrome = hs_quirk_syndrome(s->q, s->cpu);
	if (s->deliver)
		hs_quirk_deliver_exception(s->cpu);
	uc_emu_stop(uc);
}

static uint64_t reg(struct scratch *s, int r)
{
	uint64_t v = 0;
	uc_reg_read(s->uc, r, &v);
	return v;
}

/*
 * env: the context blob is a header, then a copy of CPUARMState from its
 * start; the CPU object holds a pointer to that start (CPUState.env_ptr). The
 * pointer whose target lines the blob up with live memory, marks included, is
 * env. Every candidate lines up the same bytes (the marks fix the shift);
 * they differ only in where the window starts, between the blob's start and
 * the marks. A second one can only start inside the header, where the bytes
 * it covers happen to equal the CPU object's just before the state: with
 * 2.1.4, the header's last 16 bytes against QEMU's negative-offset state (a
 * pointer to it sits next to env_ptr), in 16 of 38 machine creations of one
 * process. The state starts where the header ends: the deepest candidate.
 */
static int find_env(struct scratch *s, struct hs_quirks *q, uint8_t *mem, struct hs_error *err)
{
	for (int i = 0; i < NR_MARKS; i++) {
		uint64_t v = MARK(i);
		uc_reg_write(s->uc, UC_ARM64_REG_X0 + i, &v);
	}
	uc_context_save(s->uc, s->ctx);
	const uint8_t *blob = (const uint8_t *)s->ctx;
	size_t got = read_own_memory((uintptr_t)s->cpu, mem, SCAN_MAX);
	size_t b = find_marks(blob, s->ctx_size), k = find_marks(mem, got);
	if (b == SIZE_MAX || k == SIZE_MAX)
		return hs_err(err, -EIO, "cannot find the general registers in %s",
			      b == SIZE_MAX ? "a saved context" : "the CPU object");
	uintptr_t marks_at = (uintptr_t)s->cpu + k;
	size_t found = SIZE_MAX;
	for (size_t i = 0; i + 8 <= k; i += 8) {
		uint64_t v;
		memcpy(&v, mem + i, 8);
		if (v < (uintptr_t)s->cpu || v > marks_at || marks_at - v > b)
			continue;
		size_t env = v - (uintptr_t)s->cpu, head = b - (marks_at - v);
		/* 4 KiB of the state: well inside both (2.1's header is shorter than its size). */
		size_t n = 4096;
		if (head + n > s->ctx_size || env + n > got || memcmp(blob + head, mem + env, n))
			continue;
		if (found == SIZE_MAX || env > found)
			found = env;
	}
	if (found == SIZE_MAX)
		return hs_err(err, -EIO, "cannot find QEMU's CPU state in the CPU object");
	q->env_off = found;
	q->xregs_off = k - found;
	return 0;
}

/*
 * The PC and PSTATE inside the state: the one 8-byte word that follows two
 * PCs written through the API, the one 32-bit word whose M[4:0] follows five
 * PSTATE writes (QEMU keeps NZCV and DAIF elsewhere, so only the mode bits are
 * compared). The self-test then checks them against uc_reg_read.
 */
#define NR_PCS 2
#define NR_MODES 5
static void set_pstate(struct scratch *s, uint32_t pstate);

/* Mode bits written at env + off show in uc_reg_read(PSTATE): off is env->pstate. */
static bool reads_back_as_pstate(struct scratch *s, const struct hs_quirks *q, size_t off)
{
	uint8_t *w = (uint8_t *)s->cpu + q->env_off + off;
	uint32_t keep, v, got = 0;
	memcpy(&keep, w, 4);
	bool ok = true;
	for (uint32_t mode = 4; mode <= 8 && ok; mode += 4) {
		v = (keep & ~0x1fu) | mode;
		memcpy(w, &v, 4);
		uc_reg_read(s->uc, UC_ARM64_REG_PSTATE, &got);
		ok = (got & 0x1f) == mode;
	}
	memcpy(w, &keep, 4);
	return ok;
}

static int find_pc_pstate(struct scratch *s, struct hs_quirks *q, uint8_t *mem,
			  struct hs_error *err)
{
	static const uint32_t modes[NR_MODES] = {0x3c5, 0x3c9, 0x3c4, 0x3c8, 0x3cd};
	size_t pc = SIZE_MAX, pstate = SIZE_MAX, n_pc = 0, n_pstate = 0;
	uint8_t *seen =
	    calloc(s->ctx_size, 1); /* per offset: still a candidate (bit 0 PC, 1 PSTATE) */
	if (!seen)
		return hs_err(err, -ENOMEM, "out of memory");
	memset(seen, 3, s->ctx_size);
	uint32_t saved = 0;
	uc_reg_read(s->uc, UC_ARM64_REG_PSTATE, &saved);
	for (int i = 0; i < NR_PCS + NR_MODES; i++) {
		uint64_t v = i < NR_PCS ? MARK(16 + i) : modes[i - NR_PCS];
		uc_reg_write(s->uc, i < NR_PCS ? UC_ARM64_REG_PC : UC_ARM64_REG_PSTATE, &v);
		size_t got = read_own_memory((uintptr_t)s->cpu + q->env_off, mem, s->ctx_size);
		for (size_t off = 0; off < s->ctx_size; off += 4) {
			uint64_t w = 0;
			if (off + 8 <= got)
				memcpy(&w, mem + off, 8);
			if (i < NR_PCS && (off % 8 || off + 8 > got || w != v))
				seen[off] &= ~1;
			if (i >= NR_PCS && (off + 8 > got || ((uint32_t)w & 0x1f) != (v & 0x1f)))
				seen[off] &= ~2;
		}
	}
	for (size_t off = 0; off < s->ctx_size; off += 4) {
		if (seen[off] & 1)
			pc = off, n_pc++;
		/* A copy follows the writes too; only the state itself is what the API reads back.
		 */
		if ((seen[off] & 2) && reads_back_as_pstate(s, q, off))
			pstate = off, n_pstate++;
	}
	set_pstate(s, saved);
	free(seen);
	if (n_pc != 1 || n_pstate != 1)
		return hs_err(err, -EIO, "cannot find QEMU's %s in its CPU state (%zu places)",
			      n_pc != 1 ? "PC" : "PSTATE", n_pc != 1 ? n_pc : n_pstate);
	q->pc_off = pc;
	q->pstate_off = pstate;
	return 0;
}

/* env->exception.syndrome: run two BRKs and find both syndromes at the same place. */
static int find_syndrome(struct scratch *s, struct hs_quirks *q, uint8_t *mem, struct hs_error *err)
{
	const struct {
		uint64_t pc;
		uint32_t esr;
	} brks[] = {{CODE_BRK_A, ESR_BRK(0x1234)}, {CODE_BRK_B, ESR_BRK(0x4321)}};
	size_t off = SIZE_MAX;
	for (size_t i = 0; i < 2; i++) {
		uc_emu_start(s->uc, brks[i].pc, brks[i].pc + 4, 0, 1);
		size_t got = read_own_memory((uintptr_t)s->cpu + q->env_off, mem, s->ctx_size);
		size_t at = find_u32(mem, got, brks[i].esr);
		if (s->intno != 7 || at == SIZE_MAX || (off != SIZE_MAX && at != off))
			return hs_err(err, -EIO,
				      "cannot find QEMU's exception syndrome in its CPU state");
		off = at;
	}
	q->exc_off = off;
	return 0;
}

#define EXPECT(what, got, want)                                                                    \
	do {                                                                                       \
		if ((uint64_t)(got) != (uint64_t)(want))                                           \
			return hs_err(err, -EIO,                                                   \
				      "%s is %#" PRIx64 ", the architecture says %#" PRIx64, what, \
				      (uint64_t)(got), (uint64_t)(want));                          \
	} while (0)

static uint64_t cp(struct scratch *s, int op0, int op1, int crn, int crm, int op2)
{
	return hs_quirk_cp_read(s->uc, op0, op1, crn, crm, op2);
}

/* Where the translated code believes it runs: CurrentEL is read from the cached flags. */
static unsigned translated_el(struct scratch *s)
{
	uc_emu_start(s->uc, VEC_LOWER_A64, VEC_LOWER_A64 + 4, 0, 1);
	return (unsigned)(reg(s, UC_ARM64_REG_X1) >> 2) & 3;
}

static void set_pstate(struct scratch *s, uint32_t pstate)
{
	uc_reg_write(s->uc, UC_ARM64_REG_PSTATE, &pstate);
	hs_quirk_rebuild_hflags(s->q, s->cpu);
}

/* An HVC from EL1h, delivered by QEMU, must look exactly as the Arm ARM says. */
static int self_test(struct scratch *s, struct hs_error *err)
{
	hs_quirk_cp_write(s->uc, 3, 6, 1, 1, 0, 0x531);	     /* SCR_EL3: NS, HCE, RW */
	hs_quirk_cp_write(s->uc, 3, 4, 1, 1, 0, 1ULL << 31); /* HCR_EL2.RW */
	hs_quirk_cp_write(s->uc, 3, 4, 12, 0, 0, VBAR_EL2);
	set_pstate(s, PSTATE_EL1H_MASKED);
	s->deliver = true;
	s->syndrome_ok = true;
	/* uc_pmu.c's hook, given its context through QEMU's entry, sees the HVC's EL change. */
	struct hs_pmu_hook pmu = {.q = s->q};
	bool pmu_on = s->q->pmu_hook_head_off != 0;
	if (pmu_on && !hs_quirk_pmu_attach(s->cpu, &pmu))
		return hs_err(err, -EIO, "cannot attach to QEMU's PMU hook entry");
	/* Always count 1: going back to count 0 would flush (and in 2.0.1 zero) the code buffer. */
	uc_emu_start(s->uc, CODE_HVC, CODE_HVC + 4, 0, 1);
	s->deliver = false;
	hs_quirk_pmu_detach(s->q, s->cpu);
	EXPECT("PMU updates skipped at an HVC with no counter on", pmu.skipped, pmu_on ? 1 : 0);
	EXPECT("the interrupt number of an HVC", s->intno, 11);
	EXPECT("the syndrome QEMU reports for HVC #0x42", s->syndrome, ESR_HVC64(0x42));
	EXPECT("ESR_EL2 after HVC #0x42", cp(s, 3, 4, 5, 2, 0), ESR_HVC64(0x42));
	EXPECT("ELR_EL2 after an HVC", reg(s, UC_ARM64_REG_ELR_EL2), CODE_HVC + 4);
	EXPECT("SPSR_EL2 after an HVC from EL1h", cp(s, 3, 4, 4, 0, 0), PSTATE_EL1H_MASKED);
	EXPECT("the PC after an HVC from EL1 (VBAR_EL2 + 0x400)", reg(s, UC_ARM64_REG_PC),
	       VEC_LOWER_A64);
	EXPECT("PSTATE after an HVC", reg(s, UC_ARM64_REG_PSTATE) & 0x3cf, PSTATE_EL2H_MASKED);
	EXPECT("the PC read from QEMU's CPU state", hs_quirk_pc(s->q, s->cpu),
	       reg(s, UC_ARM64_REG_PC));
	EXPECT("the EL read from QEMU's CPU state", hs_quirk_el(s->q, s->cpu), 2);
	uint64_t x28 = MARK(20);
	uc_reg_write(s->uc, UC_ARM64_REG_X28, &x28);
	EXPECT("X28 read from QEMU's CPU state", hs_quirk_xreg(s->q, s->cpu, 28), x28);
	hs_quirk_set_xreg(s->q, s->cpu, 3, MARK(21));
	EXPECT("X3 written into QEMU's CPU state, read back", reg(s, UC_ARM64_REG_X3), MARK(21));
	EXPECT("CurrentEL>>2 at the EL2 vector", translated_el(s), 2);
	set_pstate(s, PSTATE_EL1H_MASKED);
	EXPECT("CurrentEL>>2 after a PSTATE write to EL1h", translated_el(s), 1);
	EXPECT("the EL read from QEMU's CPU state at EL1", hs_quirk_el(s->q, s->cpu), 1);
	set_pstate(s, PSTATE_EL2H_MASKED);
	EXPECT("CurrentEL>>2 after a PSTATE write to EL2h", translated_el(s), 2);
	return 0;
}

static int scratch_open(struct scratch *s, struct hs_error *err)
{
	uc_err e = hs_quirk_open(&s->uc);
	if (e)
		return hs_err(err, -EIO, "unicorn: %s", uc_strerror(e));
	static const struct {
		uint64_t pa;
		uint32_t insn;
	} code[] = {{CODE_BRK_A, A64_BRK(0x1234)},
		    {CODE_BRK_B, A64_BRK(0x4321)},
		    {CODE_HVC, A64_HVC(0x42)},
		    {VEC_LOWER_A64, A64_MRS_X1_CURRENTEL}};
	uc_hook h;
	if ((e = uc_ctl_set_cpu_model(s->uc, UC_CPU_ARM64_A72)) ||
	    (e = uc_mem_map(s->uc, 0, 0x4000, UC_PROT_ALL)) ||
	    (e = uc_context_alloc(s->uc, &s->ctx)) ||
	    (e = uc_hook_add(s->uc, &h, UC_HOOK_INTR, (void *)scratch_intr, s, 1, 0)))
		return hs_err(err, -EIO, "unicorn calibration: %s", uc_strerror(e));
	for (size_t i = 0; i < sizeof(code) / sizeof(code[0]); i++)
		if ((e = uc_mem_write(s->uc, code[i].pa, &code[i].insn, 4)))
			return hs_err(err, -EIO, "unicorn calibration: %s", uc_strerror(e));
	s->ctx_size = uc_context_size(s->uc);
	s->cpu = hs_quirk_engine_cpu(s->uc);
	if (!s->cpu)
		return hs_err(err, -EIO, "libunicorn gives no CPU object for an engine");
	return 0;
}

int hs_quirks_calibrate(struct hs_quirks *q, struct hs_error *err)
{
	memset(q, 0, sizeof(*q));
	struct scratch s = {.q = q};
	uint8_t *mem = malloc(SCAN_MAX);
	int rc = mem ? scratch_open(&s, err) : hs_err(err, -ENOMEM, "out of memory");
	if (!rc)
		rc = find_env(&s, q, mem, err);
	if (!rc)
		rc = find_syndrome(&s, q, mem, err);
	if (!rc)
		rc = find_pc_pstate(&s, q, mem, err);
	if (!rc)
		rc = hs_quirks_find_pmu(q, s.uc, s.cpu, s.ctx_size, err);
	if (!rc)
		rc = self_test(&s, err);
	if (!rc)
		rc = hs_quirks_find_tlb(q, s.cpu, err);
	if (!rc)
		q->next_tb_off = hs_quirks_find_next_tb(q);
	if (rc) {
		/* Say which library failed: the message is for whoever installed it. */
		unsigned major, minor;
		uc_version(&major, &minor);
		hs_err_prefix(err,
			      "libunicorn %u.%u (hypscope built against %d.%d.%d) fails the "
			      "exception self-test, refusing to run rather than run wrong",
			      major, minor, UC_API_MAJOR, UC_API_MINOR, UC_API_PATCH);
	}
	free(mem);
	if (s.ctx)
		uc_context_free(s.ctx);
	if (s.uc)
		uc_close(s.uc);
	return rc;
}
