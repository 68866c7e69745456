/* SPDX-License-Identifier: MIT */
/*
 * Host operations: starting each one as real EL1 instructions on the host
 * code page (hypercalls, SMCs, loads and stores, resets and power-ons),
 * collecting its result when the CPU is back, and the calls that run one to
 * completion. The boot flows and the VM records are built on these; the host
 * model itself (host.c) is set up above them.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "firmware.h"
#include "host.h"
#include "machine_priv.h"
#include "profile.h"

static int size_slot(unsigned size)
{
	switch (size) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 2;
	case 8:
		return 3;
	default:
		return -1;
	}
}

/*
 * An operation that ended in a loop (instruction limit) or at an address with
 * nothing there is not resumable: continuing repeats it. When its CPU is back
 * in the host (EL1), the host gives it up as a kernel would give up a
 * request, and returns to idle; the hypervisor holds nothing then.
 */
static bool abandon_stuck_op(struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	enum hs_stop_reason why = hs_last_stop(m)->reason;
	if (why != HS_STOP_LIMIT && why != HS_STOP_ERROR)
		return !hs_err(err, -EBUSY,
			       "the machine is stopped inside another host operation "
			       "(continue it first)");
	struct hs_cpu *c = &m->cpus[hs_machine_op(m)->cpu];
	if (hs_cpu_el(c) != 1)
		return !hs_err(err, -EBUSY,
			       "cpu%u is looping at EL%u: the machine can only be inspected now",
			       c->idx, hs_cpu_el(c));
	uint32_t el1h = 0x3c5;
	uc_reg_write(c->uc, UC_ARM64_REG_PSTATE, &el1h);
	hs_cpu_set_reg(c, UC_ARM64_REG_PC, h->code_pa + HS_HOST_OFF_IDLE);
	memset(&h->op, 0, sizeof(h->op));
	hs_machine_op_abandon(m);
	return true;
}

int hs_host_start_op(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	if (hs_machine_is_dump(m))
		return hs_err(err, -EPERM,
			      "this machine is a memory dump (hypscope inspect): the host "
			      "cannot run operations on it");
	/* after a hypervisor fault or a host panic the machine is dead: say that first */
	if (hs_machine_dead(m))
		return hs_machine_dead_error(m, err);
	if (hs_op_pending(m) && !abandon_stuck_op(m, err))
		return err ? err->code : -EBUSY;
	if (m->dead)
		return hs_machine_dead_error(m, err);
	if (op->cpu >= m->nr_cpus)
		return hs_err(err, -EINVAL, "no CPU %u", op->cpu);
	struct hs_cpu *c = &m->cpus[op->cpu];
	bool powering = op->kind == HS_HOP_RESET || op->kind == HS_HOP_POWER_ON;
	if (!powering && !c->online && h->booted)
		return hs_err(err, -EINVAL, "CPU %u is offline (bring it up with PSCI CPU_ON)",
			      op->cpu);
	if (!powering && hs_cpu_el(c) != 1)
		return hs_err(err, -EINVAL, "CPU %u is not in the host (EL%u)", op->cpu,
			      hs_cpu_el(c));
	op->refused = false;
	op->start_icount = hs_machine_icount(m);
	uint64_t base = h->code_pa;
	switch (op->kind) {
	case HS_HOP_RESET: {
		uint64_t entry;
		int rc = hs_sym_pa(m, "_start", &entry, err);
		if (rc)
			return rc;
		/* Firmware: enter the hypervisor's stub at EL2 with the MMU off, x0 = host entry.
		 */
		op->ret_pc = base + HS_HOST_OFF_IDLE;
		hs_cpu_set_reg(c, UC_ARM64_REG_X0, op->ret_pc);
		hs_cpu_set_reg(c, UC_ARM64_REG_X1, op->cpu);
		hs_cpu_enter_el2(c, entry, 0x3c9);
		break;
	}
	case HS_HOP_POWER_ON:
		op->ret_pc =
		    h->cpu_entry[op->cpu] ? h->cpu_entry[op->cpu] : base + HS_HOST_OFF_IDLE;
		hs_firmware_power_on(c);
		break;
	case HS_HOP_HVC_LOOP:
		if (!op->args[0])
			return hs_err(err, -EINVAL, "a hypercall loop needs a count of at least 1");
		hs_cpu_set_reg(c, UC_ARM64_REG_X19, op->args[0]);
		hs_cpu_set_reg(c, UC_ARM64_REG_X20, op->fn);
		hs_cpu_set_reg(c, UC_ARM64_REG_PC, base + HS_HOST_OFF_LOOP);
		op->ret_pc = base + HS_HOST_OFF_LOOP + 16;
		break;
	case HS_HOP_SMC:
		hs_cpu_set_reg(c, UC_ARM64_REG_X0, op->fn);
		for (int i = 0; i < 3; i++)
			hs_cpu_set_reg(c, UC_ARM64_REG_X1 + i, op->args[i]);
		hs_cpu_set_reg(c, UC_ARM64_REG_PC, base + HS_HOST_OFF_SMC);
		op->ret_pc = base + HS_HOST_OFF_SMC + 4;
		if (op->fn == HS_PSCI_CPU_ON && (op->args[0] & 0xff) < m->nr_cpus)
			h->cpu_entry[op->args[0] & 0xff] = op->args[1];
		break;
	case HS_HOP_HVC: {
		/* One engine call for x0-x6 and the PC: this runs once per hypercall. */
		static const int regs[8] = {UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2,
					    UC_ARM64_REG_X3, UC_ARM64_REG_X4, UC_ARM64_REG_X5,
					    UC_ARM64_REG_X6, UC_ARM64_REG_PC};
		uint64_t v[8] = {op->fn, 0, 0, 0, 0, 0, 0, base + HS_HOST_OFF_HVC};
		memcpy(&v[1], op->args, 6 * sizeof(v[0]));
		hs_cpu_set_regs(c, regs, v, 8);
		op->ret_pc = base + HS_HOST_OFF_HVC + 4;
		struct hs_event ev = {
		    .type = HS_EV_HVC_ENTER, .cpu = op->cpu, .icount = op->start_icount};
		const char *name = hs_machine_hypercall_name(m, op->fn);
		ev.hvc = (struct hs_event_hvc){
		    .fn = op->fn,
		    .nr = name ? (int)(op->fn - HS_HC_FN_BASE) : -1,
		    .name = name ? name : (op->fn < 0x100 ? "stub" : "unknown")};
		memcpy(ev.hvc.args, op->args, sizeof(ev.hvc.args));
		hs_emit(m, &ev);
		break;
	}
	case HS_HOP_READ:
	case HS_HOP_WRITE: {
		int slot = size_slot(op->size);
		if (slot < 0)
			return hs_err(err, -EINVAL, "access size %u: give 1, 2, 4 or 8", op->size);
		if (op->pa & (op->size - 1))
			return hs_err(err, -EINVAL,
				      "address %#" PRIx64 " is not aligned to %u bytes", op->pa,
				      op->size);
		uint64_t at = base + (op->kind == HS_HOP_READ ? HS_HOST_OFF_LDR : HS_HOST_OFF_STR) +
			      (uint64_t)slot * 8;
		hs_cpu_set_reg(c, UC_ARM64_REG_X0, op->pa);
		hs_cpu_set_reg(c, UC_ARM64_REG_X1, op->value);
		hs_cpu_set_reg(c, UC_ARM64_REG_PC, at);
		op->ret_pc = at + 4;
		break;
	}
	default:
		return hs_err(err, -EINVAL, "unknown host operation");
	}
	h->op = *op;
	hs_machine_op_begin(m, op->cpu, op->ret_pc);
	return 0;
}

int hs_host_complete_op(struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	struct hs_host_op *op = &h->op;
	struct hs_cpu *c = &m->cpus[op->cpu];
	const struct hs_machine_op *run = hs_machine_op(m);
	op->refused = run->refused;
	op->esr_el1 = run->esr_el1;
	op->far_el1 = run->far_el1;
	uint64_t insns = hs_machine_icount(m) - op->start_icount;
	if (op->refused) {
		/* The host took an abort: its handler "returns" to idle. */
		uint32_t el1h = 0x3c5;
		uc_reg_write(c->uc, UC_ARM64_REG_PSTATE, &el1h);
		hs_cpu_set_reg(c, UC_ARM64_REG_PC, h->code_pa + HS_HOST_OFF_IDLE);
	}
	switch (op->kind) {
	case HS_HOP_SMC:
		op->cpu_off = c->powered_off;
		op->x0 = op->cpu_off ? 0 : (int64_t)hs_cpu_reg(c, UC_ARM64_REG_X0);
		h->smc_result = *op;
		break;
	case HS_HOP_HVC_LOOP:
		op->x0 = (int64_t)hs_cpu_reg(c, UC_ARM64_REG_X0);
		op->x1 = (int64_t)hs_cpu_reg(c, UC_ARM64_REG_X1);
		break;
	case HS_HOP_POWER_ON:
	case HS_HOP_RESET:
		/* The host kernel's early setup at EL1: MMU off, its own vectors. */
		c->online = true;
		hs_cpu_set_sr(c, HS_SR_SCTLR_EL1, 0x30d00800);
		hs_cpu_set_sr(c, HS_SR_VBAR_EL1, h->code_pa + HS_HOST_OFF_VECTORS);
		hs_cpu_set_reg(c, UC_ARM64_REG_SP, h->code_pa + HS_PAGE_SIZE);
		break;
	case HS_HOP_HVC: {
		static const int regs[2] = {UC_ARM64_REG_X0, UC_ARM64_REG_X1};
		uint64_t v[2];
		hs_cpu_regs(c, regs, v, 2);
		op->x0 = (int64_t)v[0];
		op->x1 = (int64_t)v[1];
		struct hs_event ev = {
		    .type = HS_EV_HVC_EXIT, .cpu = op->cpu, .icount = hs_machine_icount(m)};
		const char *name = hs_machine_hypercall_name(m, op->fn);
		ev.hvc = (struct hs_event_hvc){.fn = op->fn,
					       .nr = name ? (int)(op->fn - HS_HC_FN_BASE) : -1,
					       .name = name ? name
							    : (op->fn < 0x100 ? "stub" : "unknown"),
					       .x0 = op->x0,
					       .x1 = op->x1,
					       .insns = insns};
		memcpy(ev.hvc.args, op->args, sizeof(ev.hvc.args));
		hs_emit(m, &ev);
		break;
	}
	case HS_HOP_READ:
	case HS_HOP_WRITE: {
		if (op->kind == HS_HOP_READ && !op->refused)
			op->value = hs_cpu_reg(c, UC_ARM64_REG_X1);
		struct hs_event ev = {
		    .type = HS_EV_HOST_ACCESS, .cpu = op->cpu, .icount = hs_machine_icount(m)};
		ev.access = (struct hs_event_access){.pa = op->pa,
						     .is_write = op->kind == HS_HOP_WRITE,
						     .value = op->value,
						     .refused = op->refused,
						     .esr = op->esr_el1};
		hs_emit(m, &ev);
		break;
	}
	default:
		break;
	}
	if (op->done) {
		struct hs_host_op copy = *op;
		int rc = op->done(m, &copy, err);
		if (rc)
			return rc;
	}
	/* A CPU that PSCI CPU_ON accepted starts once the caller's operation is done. */
	if (!hs_op_pending(m)) {
		for (unsigned i = 0; i < m->nr_cpus; i++) {
			if (m->cpus[i].power_on_pending) {
				struct hs_host_op on = {.kind = HS_HOP_POWER_ON, .cpu = i};
				return hs_host_start_op(m, &on, err);
			}
		}
	}
	return 0;
}

static int run_op(struct hs_machine *m, struct hs_host_op *op, struct hs_host_op *result,
		  struct hs_stop *stop, struct hs_error *err)
{
	int rc = hs_host_start_op(m, op, err);
	if (rc)
		return rc;
	struct hs_stop s;
	rc = hs_continue(m, &s, err);
	if (stop)
		*stop = s;
	if (result)
		*result = hs_host_of(m)->op;
	return rc;
}

int hs_host_smc(struct hs_machine *m, unsigned cpu, uint64_t fn, uint64_t a1, uint64_t a2,
		uint64_t a3, struct hs_host_op *result, struct hs_stop *stop, struct hs_error *err)
{
	struct hs_host_op op = {.kind = HS_HOP_SMC, .cpu = cpu, .fn = fn, .args = {a1, a2, a3}};
	int rc = hs_host_start_op(m, &op, err);
	if (rc)
		return rc;
	struct hs_host_op first;
	struct hs_stop s;
	/* Run the SMC, and any CPU it powers on, to completion. */
	rc = hs_continue(m, &s, err);
	first = hs_host_of(m)->op;
	if (stop)
		*stop = s;
	if (result)
		*result = hs_host_of(m)->smc_result;
	(void)first;
	return rc;
}

int hs_host_hvc_loop(struct hs_machine *m, unsigned cpu, uint64_t fn, uint64_t count,
		     struct hs_host_op *result, struct hs_stop *stop, struct hs_error *err)
{
	struct hs_host_op op = {.kind = HS_HOP_HVC_LOOP, .cpu = cpu, .fn = fn, .args = {count}};
	return run_op(m, &op, result, stop, err);
}

const struct hs_host_op *hs_host_last_op(const struct hs_machine *m)
{
	return &hs_host_of(m)->op;
}

uint64_t hs_host_entry(const struct hs_machine *m)
{
	return hs_host_of(m)->code_pa + HS_HOST_OFF_IDLE;
}

/*
 * Would donating [pa, pa + size) take the host's code page? Only a range
 * the hypervisor could accept counts: inside RAM (one memory region), not
 * empty, not wrapping. Anything else it refuses itself, with its own error.
 */
static bool covers_code_page(const struct hs_machine *m, uint64_t pa, uint64_t size)
{
	const struct hs_host *h = hs_host_of(m);
	uint64_t ram = m->opts.ram_base, ram_end = ram + m->opts.ram_size;
	if (!size || pa < ram || pa >= ram_end || size > ram_end - pa)
		return false;
	return h->code_pa - pa < size || pa - h->code_pa < HS_PAGE_SIZE;
}

/*
 * The host model runs every operation from its code page, its vectors
 * included: a host that gave the page away could never run another
 * instruction, and every later operation would loop through its own fault
 * handler. Like a kernel that never frees its own text, the host model
 * refuses; the hypervisor is not asked. (Stores to the page stay allowed: the
 * host still owns it, and a user patching its stubs can patch them back.)
 */
static int refuse_code_page(struct hs_machine *m, const char *what, uint64_t pa, uint64_t size,
			    struct hs_error *err)
{
	const struct hs_host *h = hs_host_of(m);
	if (!covers_code_page(m, pa, size))
		return 0;
	return hs_err(err, -EPERM,
		      "%s %#" PRIx64 "-%#" PRIx64 " covers the host's own code page %#" PRIx64
		      " (its hypercall, load and store stubs and its vectors): the host model "
		      "refuses, it could not run another instruction",
		      what, pa, pa + size - 1, h->code_pa);
}

int hs_host_hvc(struct hs_machine *m, unsigned cpu, uint64_t fn, const uint64_t *args,
		unsigned nargs, struct hs_host_op *result, struct hs_stop *stop,
		struct hs_error *err)
{
	if (nargs > 6)
		return hs_err(err, -EINVAL, "at most 6 hypercall arguments (got %u)", nargs);
	struct hs_host_op op = {.kind = HS_HOP_HVC, .cpu = cpu, .fn = fn};
	for (unsigned i = 0; i < nargs; i++)
		op.args[i] = args[i];
	const struct hs_profile *p = hs_host_of(m)->profile;
	uint64_t pa, size;
	if (p && p->hypercall_gives && p->hypercall_gives(m, fn, op.args, &pa, &size)) {
		const char *name = hs_machine_hypercall_name(m, fn);
		int rc = refuse_code_page(m, name ? name : "this hypercall", pa, size, err);
		if (rc)
			return rc;
	}
	return run_op(m, &op, result, stop, err);
}

int hs_host_access(struct hs_machine *m, unsigned cpu, bool write, uint64_t pa, unsigned size,
		   uint64_t value, struct hs_host_op *result, struct hs_stop *stop,
		   struct hs_error *err)
{
	struct hs_host_op op = {.kind = write ? HS_HOP_WRITE : HS_HOP_READ,
				.cpu = cpu,
				.pa = pa,
				.size = size,
				.value = value};
	return run_op(m, &op, result, stop, err);
}
