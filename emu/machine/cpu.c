/* SPDX-License-Identifier: MIT */
/*
 * One CPU: a Unicorn engine over the machine's memory, with the hooks that
 * turn QEMU's raw exception reports into architectural exception entry, count
 * instructions deterministically, virtualise the counters and report system
 * register writes and TLB maintenance as events.
 */
#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "machine_priv.h"
#include "store_trap.h"

/* QEMU's EXCP_* numbers as seen by UC_HOOK_INTR. */
enum {
	EXCP_UDEF = 1,
	EXCP_SWI = 2,
	EXCP_PREFETCH_ABORT = 3,
	EXCP_DATA_ABORT = 4,
	EXCP_BKPT = 7,
	EXCP_HVC = 11,
	EXCP_HYP_TRAP = 12,
	EXCP_SMC = 13,
};

#define ESR_EC_SHIFT 26
/* Ignored: CPU engines have no exits (hs_quirk_no_exits); stops are hooks and uc_emu_stop. */
#define NO_UNTIL 1ULL

/* X0-X28 and the PC straight from QEMU's CPU state (calibrated): what uc_reg_read reads. */
static bool direct_reg(const struct hs_cpu *c, int uc_reg, uint64_t *v)
{
	if (uc_reg >= UC_ARM64_REG_X0 && uc_reg <= UC_ARM64_REG_X28)
		*v = hs_quirk_xreg(&c->m->quirks, c->qcpu, (unsigned)(uc_reg - UC_ARM64_REG_X0));
	else if (uc_reg == UC_ARM64_REG_PC)
		*v = hs_quirk_pc(&c->m->quirks, c->qcpu);
	else
		return false;
	return true;
}

uint64_t hs_cpu_reg(struct hs_cpu *c, int uc_reg)
{
	if (!c->uc)
		return c->saved ? hs_dump_reg(c->saved, uc_reg) : 0;
	uint64_t v = 0;
	if (!direct_reg(c, uc_reg, &v))
		uc_reg_read(c->uc, uc_reg, &v);
	return v;
}

/* X0-X28 straight into QEMU's CPU state: all uc_reg_write does for them (the PC is not). */
static bool direct_set_reg(struct hs_cpu *c, int uc_reg, uint64_t v)
{
	if (uc_reg < UC_ARM64_REG_X0 || uc_reg > UC_ARM64_REG_X28)
		return false;
	hs_quirk_set_xreg(&c->m->quirks, c->qcpu, (unsigned)(uc_reg - UC_ARM64_REG_X0), v);
	return true;
}

void hs_cpu_set_reg(struct hs_cpu *c, int uc_reg, uint64_t v)
{
	if (!c->uc)
		return; /* a dump's CPU never changes */
	if (!direct_set_reg(c, uc_reg, v))
		uc_reg_write(c->uc, uc_reg, &v);
}

#define HS_CPU_MAX_BATCH 8

void hs_cpu_regs(struct hs_cpu *c, const int *uc_regs, uint64_t *v, unsigned n)
{
	void *vals[HS_CPU_MAX_BATCH];
	int regs[HS_CPU_MAX_BATCH];
	if (!c->uc || n > HS_CPU_MAX_BATCH) {
		for (unsigned i = 0; i < n; i++)
			v[i] = hs_cpu_reg(c, uc_regs[i]);
		return;
	}
	unsigned left = 0;
	for (unsigned i = 0; i < n; i++) {
		if (direct_reg(c, uc_regs[i], &v[i]))
			continue;
		regs[left] = uc_regs[i];
		v[i] = 0; /* a 32-bit register (PSTATE) fills the low half */
		vals[left++] = &v[i];
	}
	if (left)
		uc_reg_read_batch(c->uc, regs, vals, (int)left);
}

void hs_cpu_set_regs(struct hs_cpu *c, const int *uc_regs, const uint64_t *v, unsigned n)
{
	void *vals[HS_CPU_MAX_BATCH];
	int regs[HS_CPU_MAX_BATCH];
	uint64_t copy[HS_CPU_MAX_BATCH];
	if (!c->uc || n > HS_CPU_MAX_BATCH) {
		for (unsigned i = 0; i < n; i++)
			hs_cpu_set_reg(c, uc_regs[i], v[i]);
		return;
	}
	unsigned left = 0;
	for (unsigned i = 0; i < n; i++) {
		if (direct_set_reg(c, uc_regs[i], v[i]))
			continue;
		regs[left] = uc_regs[i];
		copy[left] = v[i];
		vals[left] = &copy[left];
		left++;
	}
	if (left)
		uc_reg_write_batch(c->uc, regs, vals, (int)left);
}

/*
 * The generic timer's counters run on instructions, so every run is
 * deterministic: CNTFRQ_EL0, CNTPCT_EL0 and CNTVCT_EL0 (op0 3, op1 3, CRn 14,
 * CRm 0, op2 0/1/2) as the CPU's code reads them (on_mrs) and as the debugger
 * shows them. Unicorn's own registers would read the host's clock.
 */
static bool virtual_counter(struct hs_cpu *c, unsigned op0, unsigned op1, unsigned crn,
			    unsigned crm, unsigned op2, uint64_t *v)
{
	if (op0 != 3 || op1 != 3 || crn != 14 || crm != 0)
		return false;
	switch (op2) {
	case 0:
		*v = HS_COUNTER_HZ;
		return true;
	case 1:
		*v = c->icount;
		return true;
	case 2:
		*v = c->icount - hs_cpu_sr(c, HS_SR_CNTVOFF_EL2);
		return true;
	default:
		return false;
	}
}

uint64_t hs_cpu_sr(struct hs_cpu *c, enum hs_sysreg r)
{
	if (!c->uc)
		return c->saved ? c->saved->sr[r] : 0;
	const struct hs_sysreg_desc *d = hs_sysreg_desc(r);
	uint64_t v;
	if (virtual_counter(c, d->op0, d->op1, d->crn, d->crm, d->op2, &v))
		return v;
	return hs_quirk_cp_read(c->uc, d->op0, d->op1, d->crn, d->crm, d->op2);
}

void hs_cpu_set_sr(struct hs_cpu *c, enum hs_sysreg r, uint64_t v)
{
	if (!c->uc)
		return;
	const struct hs_sysreg_desc *d = hs_sysreg_desc(r);
	hs_quirk_cp_write(c->uc, d->op0, d->op1, d->crn, d->crm, d->op2, v);
}

unsigned hs_cpu_el(struct hs_cpu *c)
{
	if (!c->uc)
		return (unsigned)(hs_cpu_reg(c, UC_ARM64_REG_PSTATE) >> 2) & 3;
	return hs_quirk_el(&c->m->quirks, c->qcpu);
}

static void stop_cpu(struct hs_cpu *c, enum hs_stop_reason r)
{
	if (c->stop == HS_STOP_NONE)
		c->stop = r;
	uc_emu_stop(c->uc);
}

void hs_cpu_cut_block(struct hs_cpu *c, uint64_t pc)
{
	/* The block hook counted the whole block; the instructions from pc on did not run. */
	if (pc >= c->block_start && pc < c->block_end) {
		c->icount -= (c->block_end - pc) / 4;
		c->block_end = pc;
	}
}

void hs_cpu_enter_el2(struct hs_cpu *c, uint64_t target, uint64_t spsr)
{
	uint32_t pstate = 0, to = (uint32_t)spsr;
	uc_reg_read(c->uc, UC_ARM64_REG_PSTATE, &pstate);
	/* A raw PSTATE write banks no SP: save the current one, load the target's. */
	static const int sp_el[] = {UC_ARM64_REG_SP_EL0, UC_ARM64_REG_SP_EL1, UC_ARM64_REG_SP_EL2,
				    UC_ARM64_REG_SP_EL3};
	unsigned from_sp = (pstate & 1) ? (pstate >> 2) & 3 : 0,
		 to_sp = (to & 1) ? (to >> 2) & 3 : 0;
	hs_cpu_set_reg(c, sp_el[from_sp], hs_cpu_reg(c, UC_ARM64_REG_SP));
	uc_reg_write(c->uc, UC_ARM64_REG_PSTATE, &to);
	hs_cpu_set_reg(c, UC_ARM64_REG_SP, hs_cpu_reg(c, sp_el[to_sp]));
	hs_cpu_set_reg(c, UC_ARM64_REG_PC, target);
	hs_quirk_rebuild_hflags(&c->m->quirks, c->qcpu);
}

/* PC and the EL from QEMU's CPU state: the exception path runs this per hypercall. */
static void read_pc_el(struct hs_cpu *c, uint64_t *pc, unsigned *el)
{
	*pc = hs_quirk_pc(&c->m->quirks, c->qcpu);
	*el = hs_quirk_el(&c->m->quirks, c->qcpu);
}

static void emit_exception(struct hs_cpu *c, enum hs_event_type type,
			   const struct hs_event_exception *x)
{
	struct hs_event ev = {.type = type, .cpu = c->idx, .icount = hs_machine_icount(c->m)};
	ev.exc = *x;
	hs_emit(c->m, &ev);
}

/*
 * An external abort Unicorn reports as an unmapped access (EL1 reached a PA
 * with nothing there): QEMU raised no exception, so enter the EL1 vectors
 * by hand, as the hardware would; the EL does not change.
 */
static bool take_to_el1(struct hs_cpu *c, uint32_t esr, uint64_t far, uint64_t return_pc,
			uint64_t fault_pc)
{
	uint32_t pstate = 0;
	uc_reg_read(c->uc, UC_ARM64_REG_PSTATE, &pstate);
	unsigned from = (pstate >> 2) & 3;
	if (from > 1)
		return false;
	hs_cpu_set_sr(c, HS_SR_ESR_EL1, esr);
	hs_cpu_set_sr(c, HS_SR_FAR_EL1, far);
	hs_cpu_set_sr(c, HS_SR_SPSR_EL1, pstate);
	hs_cpu_set_reg(c, UC_ARM64_REG_ELR_EL1, return_pc);
	if (!(pstate & 1)) {
		/* EL0t or EL1t -> EL1h: the raw PSTATE write below does not switch SP. */
		hs_cpu_set_reg(c, UC_ARM64_REG_SP_EL0, hs_cpu_reg(c, UC_ARM64_REG_SP));
		hs_cpu_set_reg(c, UC_ARM64_REG_SP, hs_cpu_reg(c, UC_ARM64_REG_SP_EL1));
	}
	/* current EL with SP0 +0, with SPx +0x200; from EL0 (AArch64) +0x400 */
	uint64_t target = hs_cpu_sr(c, HS_SR_VBAR_EL1) + (from == 0	 ? 0x400
							  : (pstate & 1) ? 0x200
									 : 0);
	uint32_t el1h = 0x3c5 | (pstate & 0xf0000000u);
	uc_reg_write(c->uc, UC_ARM64_REG_PSTATE, &el1h);
	hs_quirk_rebuild_hflags(&c->m->quirks, c->qcpu);
	hs_cpu_set_reg(c, UC_ARM64_REG_PC, target);
	struct hs_event_exception x = {.from_el = from,
				       .to_el = 1,
				       .ec = esr >> ESR_EC_SHIFT,
				       .ec_name = hs_ec_name(esr >> ESR_EC_SHIFT),
				       .esr = esr,
				       .far = far,
				       .pc = fault_pc,
				       .vector = target};
	emit_exception(c, HS_EV_EXCEPTION, &x);
	return true;
}

/* The hypervisor faulted at EL2: report it and stop; only inspection remains. */
static void hyp_fault(struct hs_cpu *c, uint32_t esr, uint64_t far, uint64_t pc)
{
	struct hs_event_exception x = {
	    .from_el = 2,
	    .to_el = 2,
	    .ec = esr >> ESR_EC_SHIFT,
	    .ec_name = hs_ec_name(esr >> ESR_EC_SHIFT),
	    .esr = esr,
	    .far = far,
	    .hpfar = 0,
	    .pc = pc,
	    .vector = 0,
	};
	c->fault = x;
	emit_exception(c, HS_EV_HYP_FAULT, &x);
	stop_cpu(c, HS_STOP_HYP_FAULT);
}

/*
 * The CPU arrived at the host's panic handler (hs_machine_client.hyp_panic_pa):
 * the hypervisor's own panic path has run and handed the host its report in
 * registers. Stop there, the machine dead, with the fault as the client reads it.
 */
static void host_panic(struct hs_cpu *c)
{
	struct hs_event_exception x = {.from_el = 2, .to_el = 1, .host_panic = true};
	if (c->m->client.host_panic)
		c->m->client.host_panic(c->m, c->idx, &x);
	x.host_panic = true;
	if (!x.ec_name)
		x.ec_name = hs_ec_name(x.ec);
	c->fault = x;
	emit_exception(c, HS_EV_HYP_FAULT, &x);
	stop_cpu(c, HS_STOP_HYP_FAULT);
}

/* An exception the host model never takes (from EL0, or none QEMU delivers): an error stop. */
static void unexpected_exception(struct hs_cpu *c, unsigned el, uint32_t esr, uint64_t pc)
{
	struct hs_event_exception x = {.from_el = el,
				       .to_el = el,
				       .ec = esr >> ESR_EC_SHIFT,
				       .ec_name = hs_ec_name(esr >> ESR_EC_SHIFT),
				       .esr = esr,
				       .pc = pc};
	c->fault = x;
	emit_exception(c, HS_EV_EXCEPTION, &x);
	stop_cpu(c, HS_STOP_ERROR);
}

static bool in_host_vectors(struct hs_cpu *c, uint64_t pc)
{
	const struct hs_machine_client *cl = &c->m->client;
	return cl->el1_vectors_len && pc >= cl->el1_vectors_pa &&
	       pc - cl->el1_vectors_pa < cl->el1_vectors_len;
}

/*
 * QEMU's synchronous exceptions: the architectural entry is QEMU's own
 * (hs_quirk_deliver_exception), to whichever EL QEMU routed it. `pc` is the
 * PC the hook saw, `fault_pc` the instruction that took it.
 */
static void deliver(struct hs_cpu *c, unsigned from_el, uint64_t fault_pc, bool abort)
{
	hs_quirk_deliver_exception(c->qcpu);
	/* QEMU may have edited the syndrome it delivered (e.g. for FP traps): read it now. */
	uint32_t esr = hs_quirk_syndrome(&c->m->quirks, c->qcpu);
	uint64_t vector;
	unsigned to_el;
	read_pc_el(c, &vector, &to_el);
	uint64_t far = 0;
	if (abort)
		far = hs_cpu_reg(c, to_el == 2 ? UC_ARM64_REG_FAR_EL2 : UC_ARM64_REG_FAR_EL1);
	/* With a panic handler, the hypervisor's vectors take it (Linux: hyp_panic). */
	if (from_el == 2 && !c->m->client.hyp_panic_pa) {
		hyp_fault(c, esr, far, fault_pc);
		return;
	}
	struct hs_event_exception x = {
	    .from_el = from_el,
	    .to_el = to_el,
	    .ec = esr >> ESR_EC_SHIFT,
	    .ec_name = hs_ec_name(esr >> ESR_EC_SHIFT),
	    .esr = esr,
	    .far = far,
	    /* Only an abort writes it (an HVC leaves the last one): a CP_REG lookup less per HVC.
	     */
	    .hpfar = to_el == 2 && abort ? hs_cpu_sr(c, HS_SR_HPFAR_EL2) : 0,
	    .pc = fault_pc,
	    .vector = vector,
	};
	emit_exception(c, HS_EV_EXCEPTION, &x);
	/* Exception and hypercall breakpoints stop at the vector, before it runs. */
	/* x0 is read only for a hypercall breakpoint: one register call less per HVC. */
	uint64_t x0 = hs_dbg_wants_x0(c->m, x.ec) ? hs_cpu_reg(c, UC_ARM64_REG_X0) : 0;
	if (to_el == 2 && hs_dbg_should_break(c->m, x.ec, x0))
		stop_cpu(c, HS_STOP_BREAKPOINT);
}

static void on_intr(uc_engine *uc, uint32_t intno, void *ud)
{
	struct hs_cpu *c = ud;
	(void)uc;
	uint64_t pc;
	unsigned el;
	read_pc_el(c, &pc, &el);

	c->m->debugger.exception(c);
	/* Instructions after the one that trapped in this block did not run. */
	hs_cpu_cut_block(c, pc);
	/*
	 * The hypervisor's panic path ERETed to the host's panic handler. On hardware
	 * the kernel's text is in the host stage 2 (the kernel runs it); the host
	 * model's is not, so its fetch may fault at stage 2 first: either is arrival.
	 */
	if (el == 1 && c->m->client.hyp_panic_pa && pc == c->m->client.hyp_panic_pa &&
	    (intno == EXCP_BKPT || intno == EXCP_PREFETCH_ABORT)) {
		host_panic(c);
		return;
	}
	switch (intno) {
	case EXCP_SMC:
		/* Not trapped to EL2: the call reaches the emulated EL3 firmware. */
		if (c->m->client.smc)
			c->m->client.smc(c->m, c->idx);
		return;
	case EXCP_BKPT:
		if (el == 1 && in_host_vectors(c, pc)) {
			/* The hypervisor injected an exception into the host. */
			c->m->op.refused = true;
			c->m->op.esr_el1 = hs_cpu_sr(c, HS_SR_ESR_EL1);
			c->m->op.far_el1 = hs_cpu_sr(c, HS_SR_FAR_EL1);
			stop_cpu(c, HS_STOP_DONE);
			return;
		}
		break;
	default:
		break;
	}
	/*
	 * EL0 runs only when a guest put itself there (an eret): QEMU routes its
	 * exceptions (to its EL1, or to EL2 for stage-2 faults and traps) like
	 * EL1's.
	 */
	switch (intno) {
	case EXCP_HVC:
	case EXCP_SWI:
		/* PC is already the preferred return address (the next instruction). */
		deliver(c, el, pc - 4, false);
		return;
	case EXCP_UDEF:
	case EXCP_BKPT:
	case EXCP_HYP_TRAP: /* e.g. SMC with HCR_EL2.TSC: ELR is the SMC itself */
		deliver(c, el, pc, false);
		return;
	case EXCP_PREFETCH_ABORT:
	case EXCP_DATA_ABORT:
		/*
		 * Out of budget: stop before taking it (the access runs again on
		 * `continue`); a fault loop through EL2 stops here, with the
		 * hypervisor holding nothing.
		 */
		if (el < 2 && c->icount >= c->run_icount_limit) {
			stop_cpu(c, HS_STOP_LIMIT);
			return;
		}
		deliver(c, el, pc, true);
		return;
	default:
		/* Not a synchronous exception QEMU's entry code knows: do not hand it over. */
		if (el == 2)
			hyp_fault(c, hs_quirk_syndrome(&c->m->quirks, c->qcpu), 0, pc);
		else
			unexpected_exception(c, el, hs_quirk_syndrome(&c->m->quirks, c->qcpu), pc);
		return;
	}
}

/*
 * Unicorn refuses a virtual address outside every region before translating
 * it. At EL2 that is exactly an address nothing maps: report the translation
 * fault the hardware would raise (level 0) as a hypervisor fault.
 */
static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
			void *ud)
{
	struct hs_cpu *c = ud;
	(void)uc;
	(void)size;
	(void)value;
	uint64_t pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	unsigned el = hs_cpu_el(c);
	/*
	 * A fetch from a region Unicorn will not execute (device space below RAM,
	 * the UART) looks the same from here: Unicorn checks the VA's region, so a
	 * guest whose stage 2 maps such an IPA cannot be run there.
	 */
	bool fetch = type == UC_MEM_FETCH_UNMAPPED || type == UC_MEM_FETCH_PROT;
	unsigned ec = (fetch ? 0x20 : 0x24) + (el >= 1);
	/*
	 * EL2: the translation fault at level 0 its table would give. EL1 (host or
	 * guest): a physical address with nothing there, a synchronous external
	 * abort taken to EL1 (hs_cpu_run delivers it).
	 */
	uint32_t fsc = el == 2 ? 0x04 : 0x10;
	uint32_t esr = (ec << ESR_EC_SHIFT) | (1u << 25) | fsc; /* IL */
	if (type == UC_MEM_WRITE_UNMAPPED)
		esr |= 1u << 6; /* WnR */
	if (el == 2) {
		hyp_fault(c, esr, address, fetch ? address : pc);
		return false;
	}
	struct hs_event_exception x = {.from_el = el,
				       .to_el = el,
				       .ec = ec,
				       .ec_name = hs_ec_name(ec),
				       .esr = esr,
				       .far = address,
				       .pc = pc};
	c->fault = x;
	emit_exception(c, HS_EV_EXCEPTION, &x);
	stop_cpu(c, HS_STOP_ERROR);
	return false;
}

/* Past the limit, the hypervisor gets this much longer to leave EL2 before the stop. */
#define LIMIT_GRACE_INSNS 1000000ULL

/* on_block, when something rare is due: the whole sequence, in its order. */
static __attribute__((noinline)) void block_slow(uc_engine *uc, struct hs_cpu *c, uint64_t address,
						 uint32_t size)
{
	struct hs_machine *m = c->m;
	/* A store trapped in the previous block has landed: deliver it before this one runs. */
	if (m->traps_pending)
		hs_store_traps_settle(m);
	c->icount += size / 4;
	c->block_start = address;
	c->block_end = address + size;
	/* Everything the debugger's block check looks at: a watch hit pending, Ctrl-C. */
	if (c->dbg.pending.on || atomic_load_explicit(&m->interrupt, memory_order_relaxed))
		m->debugger.block(c, address);
	/* Replay and record (replay.c): stop before the block that would pass the count. */
	if (c->icount_stop && c->icount > c->icount_stop && c->stop == HS_STOP_NONE) {
		hs_cpu_cut_block(c, address);
		c->dbg.resume_pc = address;
		c->dbg.resume_pc_valid = true;
		c->stop = HS_STOP_STEP;
		uc_emu_stop(uc);
		return;
	}
	/*
	 * Stop below EL2 when possible: a loop that goes
	 * through the host (a fault injected again and again) then stops where the hypervisor holds
	 * no lock, and the operation can be abandoned.
	 */
	if (c->icount >= c->run_icount_limit &&
	    (hs_cpu_el(c) < 2 || c->icount >= c->run_icount_limit + LIMIT_GRACE_INSNS))
		stop_cpu(c, HS_STOP_LIMIT);
}

/*
 * Every translated block (~38 in a null hypercall): count it. The rare cases
 * (a trapped store to deliver, the debugger's check, a count to stop at, the
 * limit) are tested first and handled out of line, so that this stays a leaf.
 */
static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct hs_cpu *c = ud;
	const struct hs_machine *m = c->m;
	uint64_t icount = c->icount + size / 4;
	if (icount >= c->block_check_at || m->traps_pending || c->dbg.pending.on ||
	    atomic_load_explicit(&m->interrupt, memory_order_relaxed)) {
		block_slow(uc, c, address, size);
		return;
	}
	c->icount = icount;
	c->block_start = address;
	c->block_end = address + size;
}

/*
 * Arm the run's instruction limit, and with it block_slow's two count
 * conditions as one threshold: the limit (reached at run_icount_limit) and a
 * replay's stop (passed beyond icount_stop, which machine.c sets before the run).
 */
static void set_run_limit(struct hs_cpu *c, uint64_t limit)
{
	c->run_icount_limit = c->icount + limit;
	uint64_t stop_at =
	    c->icount_stop && c->icount_stop < UINT64_MAX ? c->icount_stop + 1 : UINT64_MAX;
	c->block_check_at = c->run_icount_limit < stop_at ? c->run_icount_limit : stop_at;
}

/*
 * The tick a timer would give: an IRQ taken to EL2 (HCR_EL2.IMO routes it
 * there while a guest runs; ESR is not written for an interrupt).
 */
static void take_irq_to_el2(struct hs_cpu *c)
{
	uint32_t pstate = 0;
	uc_reg_read(c->uc, UC_ARM64_REG_PSTATE, &pstate);
	uint64_t pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
	hs_cpu_set_sr(c, HS_SR_ELR_EL2, pc);
	hs_cpu_set_sr(c, HS_SR_SPSR_EL2, pstate);
	uint64_t target = hs_cpu_sr(c, HS_SR_VBAR_EL2) + 0x480;
	struct hs_event_exception x = {
	    .from_el = (pstate >> 2) & 3, .to_el = 2, .ec_name = "IRQ", .pc = pc, .vector = target};
	hs_cpu_enter_el2(c, target, 0x3c9);
	emit_exception(c, HS_EV_EXCEPTION, &x);
}

#define HCR_IMO (1ULL << 4)

/* A guest (EL1 or EL0 with interrupts routed to EL2) used its budget: preempt it. */
static bool preempt_guest(struct hs_cpu *c)
{
	if (hs_cpu_el(c) > 1 || !(hs_cpu_sr(c, HS_SR_HCR_EL2) & HCR_IMO))
		return false;
	take_irq_to_el2(c);
	return true;
}

/*
 * The run's stop address was reached at EL1: stop before it executes, as
 * `until` would. The block hook counted the whole block; take back the part
 * from here on.
 */
static void on_stop_addr(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct hs_cpu *c = ud;
	(void)size;
	if (!c->run_until || address != c->run_until || hs_cpu_el(c) != 1)
		return;
	hs_cpu_cut_block(c, address);
	uc_emu_stop(uc);
}

/*
 * Arm the stop at `until`: one single-address code hook per distinct address,
 * kept for the machine's life (the host's return addresses are a handful).
 */
static int arm_stop_hook(struct hs_cpu *c, uint64_t until, struct hs_error *err)
{
	c->run_until = until;
	if (!until)
		return 0;
	for (unsigned i = 0; i < c->nr_stop_hooks; i++)
		if (c->stop_hook_addr[i] == until)
			return 0;
	if (c->nr_stop_hooks == HS_CPU_MAX_STOP_HOOKS)
		return hs_err(err, -ENOSPC, "cpu%u: more than %d distinct stop addresses", c->idx,
			      HS_CPU_MAX_STOP_HOOKS);
	uc_hook h;
	uc_err e = uc_hook_add(c->uc, &h, UC_HOOK_CODE, (void *)on_stop_addr, c, until, until);
	if (e)
		return hs_err(err, -EIO, "cpu%u: stop hook at %#" PRIx64 ": %s", c->idx, until,
			      uc_strerror(e));
	/* Code translated before the hook existed would not call it. */
	uc_ctl_remove_cache(c->uc, until, until + 4);
	c->stop_hook_addr[c->nr_stop_hooks++] = until;
	return 0;
}

static uint32_t on_msr(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *ud)
{
	struct hs_cpu *c = ud;
	(void)uc;
	(void)reg;
	int r = hs_sysreg_by_encoding(cp->op0, cp->op1, cp->crn, cp->crm, cp->op2);
	if (r < 0)
		return 0;
	const struct hs_sysreg_desc *d = hs_sysreg_desc(r);
	if (d->flags & HS_SYSREG_WATCHED) {
		struct hs_event ev = {
		    .type = HS_EV_SYSREG_WRITE, .cpu = c->idx, .icount = hs_machine_icount(c->m)};
		ev.sysreg = (struct hs_event_sysreg){.reg = r,
						     .name = d->name,
						     .value = cp->val,
						     .old = hs_cpu_sr(c, r),
						     .pc = hs_cpu_reg(c, UC_ARM64_REG_PC)};
		hs_emit(c->m, &ev);
	}
	return 0;
}

static uint32_t on_mrs(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *ud)
{
	struct hs_cpu *c = ud;
	uint64_t v;
	if (virtual_counter(c, cp->op0, cp->op1, cp->crn, cp->crm, cp->op2, &v)) {
		uc_reg_write(uc, reg, &v);
		return 1;
	}
	if (cp->op0 == 3 && cp->op1 == 0 && cp->crn == 0 && cp->crm == 0 && cp->op2 == 5) {
		/* Every engine believes it is CPU 0: give each its own affinity. */
		v = hs_cpu_el(c) == 2 ? (0x80000000ULL | c->idx) : hs_cpu_sr(c, HS_SR_VMPIDR_EL2);
		uc_reg_write(uc, reg, &v);
		return 1;
	}
	return 0;
}

static const char *tlbi_name(const uc_arm64_cp_reg *cp)
{
	static const struct {
		uint8_t op1, crm, op2;
		const char *name;
	} ops[] = {
	    {4, 7, 0, "ALLE2"},	       {4, 3, 0, "ALLE2IS"},	{4, 7, 1, "VAE2"},
	    {4, 3, 1, "VAE2IS"},       {4, 7, 5, "VALE2"},	{4, 3, 5, "VALE2IS"},
	    {4, 7, 4, "ALLE1"},	       {4, 3, 4, "ALLE1IS"},	{4, 7, 6, "VMALLS12E1"},
	    {4, 3, 6, "VMALLS12E1IS"}, {4, 4, 1, "IPAS2E1"},	{4, 0, 1, "IPAS2E1IS"},
	    {4, 4, 5, "IPAS2LE1"},     {4, 0, 5, "IPAS2LE1IS"}, {0, 7, 0, "VMALLE1"},
	    {0, 3, 0, "VMALLE1IS"},    {0, 7, 1, "VAE1"},	{0, 3, 1, "VAE1IS"},
	    {0, 7, 3, "VAAE1"},	       {0, 3, 3, "VAAE1IS"},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op1 == cp->op1 && ops[i].crm == cp->crm && ops[i].op2 == cp->op2)
			return ops[i].name;
	return "TLBI?";
}

static uint32_t on_sys(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *ud)
{
	struct hs_cpu *c = ud;
	(void)uc;
	(void)reg;
	if (cp->op0 == 1 && cp->crn == 8) {
		struct hs_event ev = {
		    .type = HS_EV_TLBI, .cpu = c->idx, .icount = hs_machine_icount(c->m)};
		ev.tlbi = (struct hs_event_tlbi){.op = tlbi_name(cp),
						 .operand = cp->val,
						 .pc = hs_cpu_reg(c, UC_ARM64_REG_PC),
						 .el = hs_cpu_el(c),
						 .vttbr = hs_cpu_sr(c, HS_SR_VTTBR_EL2)};
		hs_emit(c->m, &ev);
		/*
		 * Engines share no TLB: replay the inner-shareable (broadcast)
		 * forms on every other CPU, which is stopped while this one runs.
		 */
		const char *op = ev.tlbi.op;
		size_t n = strlen(op);
		if (n > 2 && !strcmp(op + n - 2, "IS")) {
			for (unsigned i = 0; i < c->m->nr_cpus; i++) {
				struct hs_cpu *o = &c->m->cpus[i];
				if (o != c && o->uc)
					hs_quirk_cp_write(o->uc, cp->op0, cp->op1, cp->crn, cp->crm,
							  cp->op2, cp->val);
			}
		}
	}
	return 0;
}

int hs_cpu_init(struct hs_machine *m, struct hs_cpu *c, unsigned idx, struct hs_error *err)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->idx = idx;
	uc_err e = hs_quirk_open(&c->uc);
	if (e)
		return hs_err(err, -EIO, "cpu%u: unicorn: %s", idx, uc_strerror(e));
	int model = UC_CPU_ARM64_A72;
	if ((e = uc_ctl_set_cpu_model(c->uc, model)))
		return hs_err(err, -EIO, "cpu%u: cannot select Cortex-A72: %s", idx,
			      uc_strerror(e));
	if ((e = hs_quirk_no_exits(c->uc)))
		return hs_err(err, -EIO, "cpu%u: cannot clear the engine's exits: %s", idx,
			      uc_strerror(e));
	int rc = hs_machine_map_engine(m, c->uc, err);
	if (!rc)
		rc = hs_quirk_check_tlb_page(c->uc, err);
	if (rc)
		return rc;
	c->qcpu = hs_quirk_engine_cpu(c->uc);
	if (!c->qcpu)
		return hs_err(err, -EIO, "cpu%u: libunicorn gives no CPU object", idx);
	c->pmu.q = &m->quirks;
	if (m->quirks.pmu_hook_head_off && !hs_quirk_pmu_attach(c->qcpu, &c->pmu))
		return hs_err(err, -EIO,
			      "cpu%u: QEMU's PMU hook entry is not where calibration found it",
			      idx);
	struct hs_quirk_traps traps;
	hs_store_traps_for_cpu(m, idx, &traps);
	c->fast_stores = hs_quirk_fast_stores_attach(c->uc, c->qcpu, m->ram, m->opts.ram_base,
						     m->opts.ram_size, &traps, &m->quirks);
	if ((e = uc_hook_add(c->uc, &c->h_intr, UC_HOOK_INTR, (void *)on_intr, c, 1, 0)) ||
	    (e = uc_hook_add(c->uc, &c->h_block, UC_HOOK_BLOCK, (void *)on_block, c, 1, 0)) ||
	    (e = uc_hook_add(c->uc, &c->h_unmapped, UC_HOOK_MEM_UNMAPPED | UC_HOOK_MEM_FETCH_PROT,
			     (void *)on_unmapped, c, 1, 0)) ||
	    (e = uc_hook_add(c->uc, &c->h_msr, UC_HOOK_INSN, (void *)on_msr, c, 1, 0,
			     UC_ARM64_INS_MSR)) ||
	    (e = uc_hook_add(c->uc, &c->h_mrs, UC_HOOK_INSN, (void *)on_mrs, c, 1, 0,
			     UC_ARM64_INS_MRS)) ||
	    (e = uc_hook_add(c->uc, &c->h_sys, UC_HOOK_INSN, (void *)on_sys, c, 1, 0,
			     UC_ARM64_INS_SYS)))
		return hs_err(err, -EIO, "cpu%u: installing hooks: %s", idx, uc_strerror(e));
	/* Non-secure, EL2 enabled (HCE), lower ELs AArch64 (RW). */
	hs_cpu_set_sr(c, HS_SR_SCR_EL3, 0x531);
	hs_cpu_set_sr(c, HS_SR_HCR_EL2, 1ULL << 31);
	return 0;
}

uc_err hs_cpu_hook_stores(struct hs_cpu *c, uc_hook *h, void *cb, void *ud, uint64_t begin,
			  uint64_t end)
{
	uc_err e = uc_hook_add(c->uc, h, UC_HOOK_MEM_WRITE, cb, ud, begin, end);
	if (!e)
		hs_quirk_store_hooks(c->uc, true);
	return e;
}

void hs_cpu_unhook_stores(struct hs_cpu *c, uc_hook h)
{
	if (uc_hook_del(c->uc, h) == UC_ERR_OK)
		hs_quirk_store_hooks(c->uc, false);
}

void hs_cpu_fini(struct hs_cpu *c)
{
	if (c->uc) {
		hs_quirk_fast_stores_detach(c->uc);
		uc_close(c->uc);
	}
	c->uc = NULL;
}

enum hs_stop_reason hs_cpu_run(struct hs_cpu *c, uint64_t until, uint64_t count,
			       struct hs_error *err)
{
	c->stop = HS_STOP_NONE;
	uint64_t limit = c->m->opts.insn_limit ? c->m->opts.insn_limit
					       : HS_DEFAULT_INSN_LIMIT(c->m->opts.ram_size);
	set_run_limit(c, limit);
	uint64_t last_icount = c->icount;
	unsigned idle_returns = 0, aborts = 0;
	uint64_t abort_icount = 0;
	if (arm_stop_hook(c, until, err) || c->m->debugger.run_begin(c, count, err))
		return HS_STOP_ERROR;
	for (;;) {
		uint64_t pc = hs_cpu_reg(c, UC_ARM64_REG_PC);
		c->block_start = c->block_end = 0;
		/*
		 * Stop addresses are code hooks (arm_stop_hook), never `until`; steps
		 * are counted by stepping.c, never by Unicorn (see there).
		 */
		uc_err e = uc_emu_start(c->uc, pc, NO_UNTIL, 0, 0);
		hs_store_traps_settle(c->m);
		if (e && c->stop == HS_STOP_HYP_FAULT)
			return c->stop;
		/*
		 * EL1 reached a PA with nothing there: the external abort goes to its
		 * vectors. When the vector cannot be fetched either (nothing ran since
		 * the last abort), a guest is taken back by its tick, as a timer would
		 * on hardware; anything else stops with the error below.
		 */
		if (e && c->stop == HS_STOP_ERROR && c->fault.from_el <= 1) {
			bool again = aborts && c->icount == abort_icount;
			aborts++;
			abort_icount = c->icount;
			if (again && preempt_guest(c)) {
				c->stop = HS_STOP_NONE;
				continue;
			}
			if (!again &&
			    take_to_el1(c, c->fault.esr, c->fault.far, c->fault.pc, c->fault.pc)) {
				c->stop = HS_STOP_NONE;
				continue;
			}
		}
		if (!e && c->stop == HS_STOP_LIMIT && !count && preempt_guest(c)) {
			c->stop = HS_STOP_NONE;
			set_run_limit(c, limit);
			continue;
		}
		if (e && c->stop == HS_STOP_ERROR) {
			hs_err(err, -EIO,
			       "cpu%u: EL%u access to %#" PRIx64 " at %#" PRIx64
			       ": no memory or device there",
			       c->idx, c->fault.from_el, c->fault.far, c->fault.pc);
			return HS_STOP_ERROR;
		}
		if (e) {
			hs_err(err, -EIO, "cpu%u: emulation failed at %#" PRIx64 " (EL%u): %s",
			       c->idx, hs_cpu_reg(c, UC_ARM64_REG_PC), hs_cpu_el(c),
			       uc_strerror(e));
			return HS_STOP_ERROR;
		}
		if (c->stop == HS_STOP_ERROR) {
			/* an exception the emulator does not hand to QEMU (unexpected_exception) */
			hs_err(err, -EIO,
			       "cpu%u: EL%u took an exception the emulator cannot deliver (EC %#x, "
			       "%s) at %#" PRIx64,
			       c->idx, c->fault.from_el, c->fault.ec,
			       c->fault.ec_name ? c->fault.ec_name : "?", c->fault.pc);
			return HS_STOP_ERROR;
		}
		if (c->stop != HS_STOP_NONE && c->m->debugger.run_settle(c, err))
			return c->stop;
		if (until && hs_cpu_reg(c, UC_ARM64_REG_PC) == until)
			return HS_STOP_DONE;
		/* A WFI returns like reaching `until`: keep going, but never spin idle. */
		if (c->icount == last_icount && ++idle_returns > 1000) {
			hs_err(err, -EIO, "cpu%u: makes no progress at %#" PRIx64 " (EL%u)", c->idx,
			       hs_cpu_reg(c, UC_ARM64_REG_PC), hs_cpu_el(c));
			return HS_STOP_ERROR;
		}
		last_icount = c->icount;
	}
}
