/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "barrier_hooks.h"
#include "machine_priv.h"
#include "store_trap.h"
#include "write_log.h"

#define GiB (1ULL << 30)

void hs_machine_opts_default(struct hs_machine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ram_base = HS_RAM_BASE_DEFAULT;
	o->ram_size = HS_RAM_SIZE_DEFAULT;
	o->nr_cpus = 1;
	o->hyp_va_bits = 48;
}

int hs_machine_opts_check(const struct hs_machine_opts *o, struct hs_error *err)
{
	const uint64_t min_ram = 64ULL << 20, max_ram = 64 * GiB;
	if (o->ram_size < min_ram || o->ram_size > max_ram || (o->ram_size & (2 * 1024 * 1024 - 1)))
		return hs_err(
		    err, -EINVAL,
		    "memory size %#" PRIx64
		    " is not supported: give a multiple of 2 MiB between 64 MiB and 64 GiB",
		    o->ram_size);
	if (o->ram_base & (GiB - 1) || !o->ram_base)
		return hs_err(err, -EINVAL,
			      "RAM base %#" PRIx64 " must be a non-zero multiple of 1 GiB",
			      o->ram_base);
	if (o->ram_base + o->ram_size > (1ULL << HS_PA_BITS) ||
	    o->ram_base + o->ram_size < o->ram_base)
		return hs_err(err, -EINVAL,
			      "RAM [%#" PRIx64 ", +%#" PRIx64 ") is beyond the %d-bit "
			      "physical address space",
			      o->ram_base, o->ram_size, HS_PA_BITS);
	if (o->ram_base < HS_UART_BASE + HS_UART_SIZE)
		return hs_err(err, -EINVAL, "RAM would overlap the UART at %#lx", HS_UART_BASE);
	if (o->nr_cpus < 1 || o->nr_cpus > HS_MAX_CPUS)
		return hs_err(err, -EINVAL, "%u CPUs: give between 1 and %d", o->nr_cpus,
			      HS_MAX_CPUS);
	if (o->hyp_va_bits < 39 || o->hyp_va_bits > 48)
		return hs_err(err, -EINVAL, "hyp_va_bits %u: give between 39 and 48",
			      o->hyp_va_bits);
	if (!o->hyp_elf || !*o->hyp_elf)
		return hs_err(err, -EINVAL, "no hypervisor image given");
	return 0;
}

/* Copy the image's segments to their load addresses and patch absolute pointers to HYP VAs. */
static int load_image(struct hs_machine *m, struct hs_error *err)
{
	const struct hs_image *img = m->img;
	for (size_t i = 0; i < img->nsegs; i++) {
		const struct hs_segment *s = &img->segs[i];
		uint64_t pa = s->paddr + (uint64_t)m->load_bias;
		uint8_t *dst = hs_phys_ptr(m, pa, s->memsz);
		if (!dst)
			return hs_err(err, -EINVAL,
				      "segment at %#" PRIx64 " (+%#" PRIx64 ") does not fit in RAM",
				      pa, s->memsz);
		memcpy(dst, img->file + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	/* Like Linux's kvm_apply_hyp_relocations: pointers in the image become HYP VAs. */
	for (size_t i = 0; i < img->nabs_relocs; i++) {
		uint64_t pa = hs_link_to_pa(m, img->abs_relocs[i]);
		uint64_t *p = hs_phys_ptr(m, pa, 8);
		if (!p)
			return hs_err(err, -EINVAL, "relocation at %#" PRIx64 " outside the image",
				      img->abs_relocs[i]);
		uint64_t v;
		memcpy(&v, p, 8);
		if (v >= img->link_base && v < img->link_end + HS_PAGE_SIZE) {
			v = hs_link_to_hyp_va(m, v);
			memcpy(p, &v, 8);
		}
	}
	return 0;
}

int hs_machine_create_bare(const struct hs_machine_opts *o, struct hs_machine **out,
			   struct hs_error *err)
{
	*out = NULL;
	int rc = hs_machine_opts_check(o, err);
	if (rc)
		return rc;
	struct hs_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return hs_err(err, -ENOMEM, "out of memory");
	m->opts = *o;
	m->hyp_elf_path = strdup(o->hyp_elf);
	m->opts.hyp_elf = m->hyp_elf_path;
	m->nr_cpus = o->nr_cpus;
	m->debugger = hs_dbg_cpu_debugger;
	if (!m->hyp_elf_path) {
		rc = hs_err(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!o->dump && (rc = hs_quirks_calibrate(&m->quirks, err)))
		goto fail;
	if ((rc = hs_image_load(o->hyp_elf, &m->img, err)))
		goto fail;
	/* The image is linked at any address; it is loaded at ram_base + HS_HYP_LOAD_OFFSET. */
	uint64_t load_pa = o->ram_base + HS_HYP_LOAD_OFFSET;
	m->load_bias = (int64_t)(load_pa - (m->img->link_base & ~(HS_PAGE_SIZE - 1)));
	if (m->img->link_end - m->img->link_base > o->ram_size / 4) {
		rc =
		    hs_err(err, -EINVAL, "hypervisor image too large for %#" PRIx64 " bytes of RAM",
			   o->ram_size);
		goto fail;
	}
	const struct hs_symbol *idmap = hs_image_symbol(m->img, "__hyp_idmap_text_start");
	if (!idmap) {
		rc = hs_err(err, -EINVAL,
			    "%s: no __hyp_idmap_text_start symbol: not a hypscope "
			    "hypervisor image",
			    o->hyp_elf);
		goto fail;
	}
	if ((rc = hs_layout_compute(o->ram_base, o->ram_size, hs_link_to_pa(m, idmap->addr),
				    o->hyp_va_bits, &m->layout, err)))
		goto fail;

	if (o->dump) {
		/* The image and the CPUs are as the dump has them: nothing is loaded or run. */
		if ((rc = hs_dump_open(m, o->dump, err)))
			goto fail;
		*out = m;
		return 0;
	}
	m->ram = mmap(NULL, o->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	m->shadow_size = GiB;
	m->shadow = mmap(NULL, m->shadow_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED || m->shadow == MAP_FAILED) {
		m->ram = m->ram == MAP_FAILED ? NULL : m->ram;
		m->shadow = m->shadow == MAP_FAILED ? NULL : m->shadow;
		rc = hs_err(err, -ENOMEM, "cannot reserve %#" PRIx64 " bytes of RAM", o->ram_size);
		goto fail;
	}
	if ((rc = load_image(m, err)) || (rc = hs_store_traps_init(m, err)))
		goto fail;
	for (unsigned i = 0; i < m->nr_cpus; i++)
		if ((rc = hs_cpu_init(m, &m->cpus[i], i, err)))
			goto fail;
	*out = m;
	return 0;
fail:
	hs_machine_destroy(m);
	return rc;
}

void hs_machine_destroy(struct hs_machine *m)
{
	if (!m)
		return;
	if (m->client.destroy)
		m->client.destroy(m);
	if (m->run_hooks.fini)
		m->run_hooks.fini(m);
	if (m->ckpt_free)
		m->ckpt_free(m); /* checkpoint.c: holds a write-log reader */
	hs_write_log_free(m);	 /* its hooks live on the engines */
	hs_barrier_feed_free(m);
	for (unsigned i = 0; i < HS_MAX_CPUS; i++)
		hs_cpu_fini(&m->cpus[i]);
	hs_dbg_fini(m);
	hs_store_traps_free(m);
	if (m->dump)
		hs_dump_close(m);
	else if (m->ram)
		munmap(m->ram, m->opts.ram_size);
	if (m->shadow)
		munmap(m->shadow, m->shadow_size);
	hs_image_free(m->img);
	free(m->hyp_elf_path);
	free(m);
}

const char *hs_stop_reason_name(enum hs_stop_reason r)
{
	static const char *const names[] = {
	    [HS_STOP_NONE] = "running",
	    [HS_STOP_DONE] = "done",
	    [HS_STOP_IDLE] = "idle",
	    [HS_STOP_BREAKPOINT] = "breakpoint",
	    [HS_STOP_STEP] = "step",
	    [HS_STOP_WATCH] = "watchpoint",
	    [HS_STOP_CHECK] = "check",
	    [HS_STOP_HYP_FAULT] = "hypervisor fault",
	    [HS_STOP_LIMIT] = "instruction limit",
	    [HS_STOP_ERROR] = "error",
	    [HS_STOP_INTERRUPTED] = "interrupted",
	};
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const struct hs_stop *hs_last_stop(const struct hs_machine *m)
{
	return &m->last_stop;
}

bool hs_machine_is_dump(const struct hs_machine *m)
{
	return m->dump != NULL;
}

bool hs_op_pending(const struct hs_machine *m)
{
	return m->op.pending;
}

void hs_machine_set_client(struct hs_machine *m, const struct hs_machine_client *client)
{
	m->client = *client;
}

void *hs_machine_client_data(const struct hs_machine *m)
{
	return m->client.data;
}

void hs_machine_op_begin(struct hs_machine *m, unsigned cpu, uint64_t ret_pc)
{
	m->op = (struct hs_machine_op){.pending = true, .cpu = cpu, .ret_pc = ret_pc};
	m->op_gen++;
}

void hs_machine_op_abandon(struct hs_machine *m)
{
	m->op.pending = false;
}

const struct hs_machine_op *hs_machine_op(const struct hs_machine *m)
{
	return &m->op;
}

bool hs_machine_dead(const struct hs_machine *m)
{
	return m->dead;
}

int hs_machine_kill(struct hs_machine *m, struct hs_error *err)
{
	if (!m->op.pending)
		return hs_err(err, -EINVAL, "no operation is pending: nothing to kill");
	m->op.pending = false;
	m->dead = m->killed = true;
	return 0;
}

bool hs_machine_killed(const struct hs_machine *m)
{
	return m->killed;
}

int hs_machine_dead_error(const struct hs_machine *m, struct hs_error *err)
{
	if (m->killed)
		return hs_err(err, -EIO,
			      "the pending operation was killed: the machine can only be "
			      "inspected now (restart builds a fresh one)");
	if (m->last_stop.reason == HS_STOP_HYP_FAULT && m->last_stop.fault.host_panic)
		return hs_err(err, -EIO,
			      "the host panicked (the hypervisor's panic reached the host's "
			      "panic handler on cpu%u): the machine can only be inspected now "
			      "(restart builds a fresh one)",
			      m->last_stop.cpu);
	return hs_err(err, -EIO,
		      "the hypervisor faulted at EL2 earlier: the machine can "
		      "only be inspected now");
}

static int finish_stop(struct hs_machine *m, struct hs_cpu *c, enum hs_stop_reason r,
		       struct hs_stop *stop)
{
	struct hs_stop s = {.reason = r, .cpu = c->idx, .pc = hs_cpu_reg(c, UC_ARM64_REG_PC)};
	if (r == HS_STOP_BREAKPOINT) {
		s.bp_id = hs_dbg_stop_bp(c);
		s.stepped = c->dbg.hit_stepped;
	} else if (r == HS_STOP_WATCH && m->dbg.hit_valid)
		s.bp_id = m->dbg.hit.id;
	if (r == HS_STOP_HYP_FAULT) {
		/* The CPU sits at the EL2 vector; the stop names the instruction that faulted. */
		s.pc = c->fault.pc;
		s.fault = c->fault;
		m->dead = true;
	}
	m->last_stop = s;
	hs_dbg_note_stopped(c);
	if (stop)
		*stop = s;
	return 0;
}

/*
 * A run ended by its count: at a breakpoint it reached (it executed
 * something), the breakpoint is what stopped it, as gdb reports.
 */
static enum hs_stop_reason step_end(struct hs_machine *m, struct hs_cpu *c, uint64_t start)
{
	return hs_machine_icount(m) > start && hs_dbg_step_landed(c) ? HS_STOP_BREAKPOINT
								     : HS_STOP_STEP;
}

/*
 * The run loop: run the pending host operation's CPU until the host code
 * reaches its return address, then let the operation's continuation queue
 * the next one (the boot flow is a chain of them).
 */
static int run_ops(struct hs_machine *m, uint64_t count, struct hs_stop *stop, struct hs_error *err)
{
	if (m->dump)
		return hs_err(err, -EPERM,
			      "this machine is a memory dump (hypscope inspect): it can be "
			      "inspected, not run");
	if (m->dead)
		return hs_machine_dead_error(m, err);
	if (!m->op.pending) {
		struct hs_cpu *c = &m->cpus[m->cur];
		return finish_stop(m, c, HS_STOP_IDLE, stop);
	}
	if (!count && m->dbg.step_next_run) {
		count = m->dbg.step_next_run;
		m->dbg.step_next_run = 0;
	}
	uint64_t start = hs_machine_icount(m);
	for (;;) {
		struct hs_machine_op *op = &m->op;
		struct hs_cpu *c = &m->cpus[op->cpu];
		m->cur = op->cpu;
		if (m->run_hooks.before && m->run_hooks.before(m, err)) {
			finish_stop(m, c, HS_STOP_ERROR, stop);
			return err ? err->code : -EIO;
		}
		/* Only this CPU runs: the machine's count becomes its own. */
		uint64_t now = hs_machine_icount(m);
		if (!count && m->icount_stop && m->icount_stop <= now)
			return finish_stop(m, c, step_end(m, c, start), stop);
		c->icount_stop = !count && m->icount_stop ? c->icount + (m->icount_stop - now) : 0;
		enum hs_stop_reason r = hs_cpu_run(c, op->ret_pc, count, err);
		c->icount_stop = 0;
		if (r == HS_STOP_ERROR) {
			finish_stop(m, c, r, stop);
			return err ? err->code : -EIO;
		}
		if (r == HS_STOP_STEP && hs_cpu_reg(c, UC_ARM64_REG_PC) == op->ret_pc &&
		    hs_cpu_el(c) == 1)
			r = HS_STOP_DONE;
		if (r == HS_STOP_STEP && !count && m->run_hooks.reached &&
		    m->run_hooks.reached(m, err))
			continue;
		if (r == HS_STOP_STEP)
			r = step_end(m, c, start);
		if (r != HS_STOP_DONE)
			return finish_stop(m, c, r, stop);
		op->pending = false;
		int rc = m->client.complete_op ? m->client.complete_op(m, err) : 0;
		if (rc) {
			finish_stop(m, c, HS_STOP_ERROR, stop);
			return rc;
		}
		if (!m->op.pending || count)
			return finish_stop(m, c, HS_STOP_DONE, stop);
	}
}

void hs_machine_interrupt(struct hs_machine *m)
{
	atomic_store_explicit(&m->interrupt, true, memory_order_relaxed);
}

void hs_machine_interrupt_cancel(struct hs_machine *m)
{
	atomic_store(&m->interrupt, false);
}

int hs_continue(struct hs_machine *m, struct hs_stop *stop, struct hs_error *err)
{
	return run_ops(m, 0, stop, err);
}

void hs_machine_step_next_run(struct hs_machine *m, uint64_t n)
{
	m->dbg.step_next_run = n;
}

int hs_stepi(struct hs_machine *m, uint64_t n, struct hs_stop *stop, struct hs_error *err)
{
	if (!n)
		n = 1;
	return run_ops(m, n, stop, err);
}
