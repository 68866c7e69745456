/* SPDX-License-Identifier: MIT */
/*
 * hs_campaign: the seeded random campaign of issue 14. A hostile host and its
 * guests run N operations with garbage arguments on several CPUs; after every
 * one the campaign checks that
 *   - the call ended as an API call should: completed (DONE), or refused
 *     with an error message; never an EL2 fault, an instruction-limit stop or
 *     an emulator error;
 *   - the hypervisor answered SMCCC SUCCESS with 0 or a known negative errno
 *     (or the value the call returns), or NOT_SUPPORTED;
 *   - the machine is usable: not dead, no operation left pending (a wedge),
 *     and every --canary operations a null hypercall and a host read of its
 *     own code still work;
 *   - the invariant checker (the incremental one; a full hs_check every
 *     --full operations must give the same count) finds nothing, and the
 *     host's record of every VM matches its stage 2.
 * The first failure prints the seed, the operation index and the operation,
 * with the command that replays it, and exits 1. A crash prints the same from
 * the signal handler.
 *
 *   hs_campaign [--seed S] [--ops N] [--cpus C] [--full K] [--canary K]
 *               [--verbose] [--hyp hyp.elf] [--guest guest.elf]
 */
#include <errno.h>
#include <hypscope/abi.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "inspect_check.h"
#include "inspect_check_incr.h"
#include "machine.h"

struct options {
	uint64_t seed, ops;
	unsigned cpus, full_every, canary_every;
	bool verbose;
	const char *hyp;
};

struct tally {
	uint64_t ops, completed, refused_calls, api_errors, hyp_errors, full_checks;
	uint64_t per_kind[CMP_NR_KINDS];
};

struct campaign {
	struct options o;
	struct hs_machine *m;
	struct hs_check_incr *ci;
	struct hs_check_report rep;
	struct cmp_rng rng;
	struct cmp_world w;
	struct tally t;
	uint64_t code_word; /* the host's first instruction, for the canary */
};

/* For the crash handler: which operation was running (the one global of this program). */
static volatile sig_atomic_t crash_ready;
static char crash_line[640];

static void on_crash(int sig)
{
	if (crash_ready) {
		ssize_t n = write(2, crash_line, strlen(crash_line));
		(void)n;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hs_campaign [--seed S] [--ops N] [--cpus C] [--full K] [--canary K] "
		"[--verbose] [--hyp hyp.elf]\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){.seed = 1,
			      .ops = 2000,
			      .cpus = 2,
			      .full_every = 500,
			      .canary_every = 50,
			      .hyp = getenv("HS_HYP_ELF")};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (i + 1 >= argc) {
			usage();
			return -1;
		}
		const char *v = argv[++i];
		char *end;
		unsigned long long n = strtoull(v, &end, 0);
		bool num = *v && !*end;
		if (!strcmp(a, "--hyp"))
			o->hyp = v;
		else if (!strcmp(a, "--guest"))
			setenv("HS_GUEST_ELF", v, 1);
		else if (num && !strcmp(a, "--seed"))
			o->seed = n;
		else if (num && !strcmp(a, "--ops"))
			o->ops = n;
		else if (num && n >= 1 && n <= HS_MAX_CPUS && !strcmp(a, "--cpus"))
			o->cpus = (unsigned)n;
		else if (num && !strcmp(a, "--full"))
			o->full_every = (unsigned)n;
		else if (num && !strcmp(a, "--canary"))
			o->canary_every = (unsigned)n;
		else {
			fprintf(stderr, "hs_campaign: bad option %s %s\n", a, v);
			usage();
			return -1;
		}
	}
	if (!o->hyp)
		o->hyp = "hyp/hyp.elf";
	if (!getenv("HS_GUEST_ELF")) {
		/* the build tree's guest, next to its hyp/ */
		char guest[4096];
		const char *slash = strrchr(o->hyp, '/');
		int dir = slash ? (int)(slash - o->hyp) : 0;
		snprintf(guest, sizeof(guest), "%.*s%sguest/guest.elf", dir, o->hyp,
			 dir ? "/../" : "../");
		setenv("HS_GUEST_ELF", guest, 1);
	}
	return 0;
}

static void fail(struct campaign *c, uint64_t i, const struct cmp_op *op, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(struct campaign *c, uint64_t i, const struct cmp_op *op, const char *fmt, ...)
{
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	char desc[400] = "";
	if (op)
		cmp_describe(op, desc, sizeof(desc));
	fprintf(stderr,
		"hs_campaign: FAIL seed %" PRIu64 " op %" PRIu64 " (%s): %s\n"
		"  replay: hs_campaign --seed %" PRIu64 " --ops %" PRIu64 " --cpus %u --verbose\n",
		c->o.seed, i, desc, what, c->o.seed, i + 1, c->o.cpus);
	exit(1);
}

/* The live VMs the host records, for the generator. */
static void refresh_world(struct campaign *c)
{
	c->w.nr_live = (unsigned)hs_vm_list(c->m, c->w.live, HS_MAX_VMS);
	c->w.loaded_cpus = c->w.online_cpus = 0;
	for (unsigned cpu = 0; cpu < c->o.cpus; cpu++) {
		struct hs_cpu_state st;
		if (!hs_cpu_state(c->m, cpu, &st) && st.online)
			c->w.online_cpus |= 1ULL << cpu;
	}
	for (unsigned v = 0; v < c->w.nr_live; v++) {
		struct hs_vm_info info;
		if (hs_vm_info(c->m, c->w.live[v], &info) && info.loaded_on >= 0 &&
		    info.loaded_on < 64)
			c->w.loaded_cpus |= 1ULL << info.loaded_on;
	}
	c->w.host_top = hs_host_of(c->m)->alloc_top;
}

static int setup(struct campaign *c)
{
	struct hs_machine_opts mo;
	hs_machine_opts_default(&mo);
	mo.hyp_elf = c->o.hyp;
	mo.nr_cpus = c->o.cpus;
	mo.insn_limit = 20000000; /* a loop stops in well under a second */
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&mo, &c->m, &err) || hs_boot(c->m, NULL, &stop, &err) ||
	    stop.reason != HS_STOP_DONE) {
		fprintf(stderr, "hs_campaign: cannot boot %s: %s\n", c->o.hyp,
			err.msg[0] ? err.msg : hs_stop_reason_name(stop.reason));
		return -1;
	}
	/* Every CPU up: CPU_ON from CPU 0 for the others. */
	for (unsigned cpu = 1; cpu < c->o.cpus; cpu++) {
		struct hs_host_op res;
		if (hs_host_smc(c->m, 0, HS_PSCI_CPU_ON, cpu, hs_host_entry(c->m), 0, &res, &stop,
				&err)) {
			fprintf(stderr, "hs_campaign: CPU_ON %u: %s\n", cpu, err.msg);
			return -1;
		}
	}
	if (hs_check_incr_new(c->m, &c->ci, &err)) {
		fprintf(stderr, "hs_campaign: %s\n", err.msg);
		return -1;
	}
	hs_check_report_init(&c->rep);
	c->w.ram_base = mo.ram_base;
	c->w.ram_size = mo.ram_size;
	c->w.code_pa = hs_host_of(c->m)->code_pa;
	c->w.guest_code_gfn = hs_vm_code_gfn(c->m);
	c->w.nr_cpus = c->o.cpus;
	const char *syms[] = {"__hyp_text_start", "hpool", "hyp_vm_table"};
	for (unsigned i = 0; i < 3; i++) {
		uint64_t pa;
		if (!hs_sym_pa(c->m, syms[i], &pa, NULL))
			c->w.hyp_pfns[c->w.nr_hyp_pfns++] = pa >> 12;
	}
	const struct hs_host *h = hs_host_of(c->m);
	c->w.hyp_pfns[c->w.nr_hyp_pfns++] = h->pool_pa >> 12;
	c->w.hyp_pfns[c->w.nr_hyp_pfns++] = (h->pool_pa + h->pool_size / 2) >> 12;
	c->w.hyp_pfns[c->w.nr_hyp_pfns++] = h->stack_pa[0] >> 12;
	refresh_world(c);
	cmp_world_hot_sets(&c->w, &c->rng);
	uint32_t word = 0;
	if (hs_phys_read(c->m, c->w.code_pa, &word, sizeof(word), &err))
		return -1;
	c->code_word = word;
	return 0;
}

static bool known_errno(int64_t v)
{
	static const int64_t e[] = {HS_EPERM, HS_ENOENT, HS_EAGAIN, HS_ENOMEM, HS_EFAULT,
				    HS_EBUSY, HS_EEXIST, HS_EINVAL, HS_ERANGE, HS_ENOTSUPP};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
		if (v == -e[i])
			return true;
	return false;
}

/* What the hypervisor answered a raw hypercall with. */
static void judge_hvc(struct campaign *c, uint64_t i, const struct cmp_op *op,
		      const struct hs_host_op *res)
{
	if (res->x0 == HS_SMCCC_NOT_SUPPORTED) {
		c->t.refused_calls++;
		return;
	}
	if (res->x0 != HS_SMCCC_SUCCESS)
		fail(c, i, op, "x0 = %#" PRIx64 " is neither SMCCC SUCCESS nor NOT_SUPPORTED",
		     (uint64_t)res->x0);
	int64_t r = res->x1;
	uint64_t nr = op->fn - HS_HC_FN_BASE;
	bool value = (nr == HS_HC_init_vm && r >= HS_VM_HANDLE_OFFSET &&
		      r < HS_VM_HANDLE_OFFSET + HS_MAX_VMS) ||
		     (nr == HS_HC_host_test_clear_young_guest && (r == 0 || r == 1)) ||
		     (nr == HS_HC_vcpu_run && r >= HS_EXIT_GUEST_HVC && r <= HS_EXIT_IRQ);
	if (r && !value && !known_errno(r))
		fail(c, i, op, "the hypervisor answered %" PRId64 ": neither success nor an errno",
		     r);
	if (r < 0)
		c->t.hyp_errors++;
}

/* A host operation (hs_host_*): it completed, or it was refused with a message. */
static void judge_stop(struct campaign *c, uint64_t i, const struct cmp_op *op, int rc,
		       const struct hs_stop *stop, const struct hs_error *err)
{
	if (rc) {
		if (!err->msg[0])
			fail(c, i, op, "error %d without a message", rc);
		if (c->o.verbose)
			fprintf(stderr, "  error: %s\n", err->msg);
		c->t.api_errors++;
		return;
	}
	if (stop->reason == HS_STOP_HYP_FAULT)
		fail(c, i, op, "the hypervisor took an exception at EL2 (pc %#" PRIx64 ")",
		     stop->pc);
	if (stop->reason != HS_STOP_DONE)
		fail(c, i, op, "the operation stopped: %s (cpu %u, pc %#" PRIx64 ")",
		     hs_stop_reason_name(stop->reason), stop->cpu, stop->pc);
	c->t.completed++;
}

/* A VM wrapper (hs_vm_*): 0 with the hypervisor's answer, or an error with a message. */
static void judge_vm(struct campaign *c, uint64_t i, const struct cmp_op *op, int rc, int64_t ret,
		     const struct hs_error *err)
{
	if (rc) {
		if (!err->msg[0])
			fail(c, i, op, "error %d without a message", rc);
		if (rc == -EINTR) /* the wrappers' "the machine stopped inside" */
			fail(c, i, op, "%s", err->msg);
		if (c->o.verbose)
			fprintf(stderr, "  error: %s\n", err->msg);
		c->t.api_errors++;
		return;
	}
	if (ret && !known_errno(ret))
		fail(c, i, op, "the hypervisor answered %" PRId64 ": neither 0 nor an errno", ret);
	if (ret)
		c->t.hyp_errors++;
	c->t.completed++;
}

static void run_vm_teardown(struct campaign *c, uint64_t i, const struct cmp_op *op)
{
	struct hs_error err = {0};
	int64_t ret = 0;
	uint64_t h = op->a[0];
	int rc = hs_vm_start_teardown(c->m, op->cpu, h, &ret, &err);
	judge_vm(c, i, op, rc, ret, &err);
	struct hs_vm_info info;
	if (rc || ret || !hs_vm_info(c->m, h, &info))
		return;
	uint64_t gfns[512];
	size_t n = info.nr_maps < 512 ? info.nr_maps : 512;
	for (size_t k = 0; k < n; k++)
		gfns[k] = info.maps[k].gfn;
	for (size_t k = 0; k < n; k++) {
		err = (struct hs_error){0};
		rc = hs_vm_reclaim(c->m, op->cpu, h, gfns[k], &ret, &err);
		judge_vm(c, i, op, rc, ret, &err);
	}
	err = (struct hs_error){0};
	rc = hs_vm_teardown(c->m, op->cpu, h, &ret, &err);
	judge_vm(c, i, op, rc, ret, &err);
}

/*
 * The host writes the instructions into a page of its own, shares it with
 * the VM (read, write, execute) and the guest branches into it.
 */
static void run_guest_code(struct campaign *c, uint64_t i, const struct cmp_op *op)
{
	uint64_t pa = op->a[1] << 12;
	for (unsigned k = 0; k < 16; k += 2) {
		struct hs_host_op res;
		struct hs_stop stop;
		struct hs_error err = {0};
		uint64_t v = op->code[k] | (uint64_t)op->code[k + 1] << 32;
		int rc = hs_host_access(c->m, op->cpu, true, pa + 4 * k, 8, v, &res, &stop, &err);
		judge_stop(c, i, op, rc, &stop, &err);
		if (rc || res.refused)
			return; /* not the host's page now */
	}
	int64_t ret = 0;
	struct hs_error err = {0};
	int rc =
	    hs_vm_share(c->m, op->cpu, op->a[0], op->a[1], op->a[2], 1, HS_PROT_RWX, &ret, &err);
	judge_vm(c, i, op, rc, ret, &err);
	struct hs_vm_exit exit = {0};
	err = (struct hs_error){0};
	rc = hs_vm_run(c->m, op->cpu, HS_VCPU_OP_EXEC, op->a[2] << 12, 0, &exit, &err);
	judge_vm(c, i, op, rc, 0, &err);
	if (!rc && exit.status == 0 &&
	    (exit.reason < HS_EXIT_GUEST_HVC || exit.reason > HS_EXIT_IRQ))
		fail(c, i, op, "vcpu_run exit reason %#" PRIx64 " is not an exit", exit.reason);
}

static void run_op(struct campaign *c, uint64_t i, const struct cmp_op *op)
{
	struct hs_error err = {0};
	struct hs_host_op res = {0};
	struct hs_stop stop = {0};
	int64_t ret = 0;
	int rc;
	const uint64_t *a = op->a;
	switch (op->kind) {
	case CMP_HVC:
		rc = hs_host_hvc(c->m, op->cpu, op->fn, a, op->nargs, &res, &stop, &err);
		judge_stop(c, i, op, rc, &stop, &err);
		if (!rc)
			judge_hvc(c, i, op, &res);
		return;
	case CMP_READ:
	case CMP_WRITE:
		rc = hs_host_access(c->m, op->cpu, op->kind == CMP_WRITE, op->pa, op->size,
				    op->value, &res, &stop, &err);
		judge_stop(c, i, op, rc, &stop, &err);
		return;
	case CMP_SMC:
		rc = hs_host_smc(c->m, op->cpu, op->fn, a[0], a[1], a[2], &res, &stop, &err);
		judge_stop(c, i, op, rc, &stop, &err);
		return;
	case CMP_VM_CREATE: {
		uint64_t h;
		rc = hs_vm_create(c->m, op->cpu, op->protected_vm, &h, &err);
		judge_vm(c, i, op, rc, 0, &err);
		return;
	}
	case CMP_VM_LOAD:
		rc = hs_vm_load(c->m, op->cpu, a[0], &ret, &err);
		break;
	case CMP_VM_PUT:
		rc = hs_vm_put(c->m, op->cpu, &ret, &err);
		break;
	case CMP_VM_SHARE:
		rc = hs_vm_share(c->m, op->cpu, a[0], a[1], a[2], a[3], (unsigned)a[4], &ret, &err);
		break;
	case CMP_VM_UNSHARE:
		rc = hs_vm_unshare(c->m, op->cpu, a[0], a[2], a[3], &ret, &err);
		break;
	case CMP_VM_DONATE:
		rc = hs_vm_donate(c->m, op->cpu, a[0], a[1], a[2], &ret, &err);
		break;
	case CMP_VM_RUN: {
		struct hs_vm_exit exit = {0};
		rc = hs_vm_run(c->m, op->cpu, op->vm_op, op->pa, op->value, &exit, &err);
		if (!rc && exit.status == 0 &&
		    (exit.reason < HS_EXIT_GUEST_HVC || exit.reason > HS_EXIT_IRQ))
			fail(c, i, op, "vcpu_run exit reason %#" PRIx64 " is not an exit",
			     exit.reason);
		ret = rc ? 0 : (exit.status == HS_SMCCC_NOT_SUPPORTED ? 0 : exit.status);
		break;
	}
	case CMP_VM_TEARDOWN:
		run_vm_teardown(c, i, op);
		return;
	case CMP_GUEST_CODE:
		run_guest_code(c, i, op);
		return;
	case CMP_VM_RECLAIM:
		rc = hs_vm_reclaim(c->m, op->cpu, a[0], a[2], &ret, &err);
		break;
	case CMP_VM_RAW_TEAR:
		rc = hs_vm_teardown(c->m, op->cpu, a[0], &ret, &err);
		break;
	default:
		return;
	}
	judge_vm(c, i, op, rc, ret, &err);
}

static const char *report_text(struct campaign *c)
{
	static char buf[4096];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_text(&c->rep, &sb);
	snprintf(buf, sizeof(buf), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return buf;
}

/* The machine after an operation: usable, consistent, its records true. */
static void check_machine(struct campaign *c, uint64_t i, const struct cmp_op *op)
{
	if (hs_machine_dead(c->m))
		fail(c, i, op, "the machine is dead (last stop: %s)",
		     hs_stop_reason_name(hs_last_stop(c->m)->reason));
	if (hs_op_pending(c->m))
		fail(c, i, op, "wedged: a host operation is still pending");
	int n = hs_check_incr(c->ci, &c->rep);
	if (n)
		fail(c, i, op, "the checker found %d violations:\n%s", n, report_text(c));
	if (c->o.full_every && (i + 1) % c->o.full_every == 0) {
		struct hs_check_report full;
		hs_check_report_init(&full);
		int nf = hs_check(c->m, &full);
		hs_check_report_free(&full);
		c->t.full_checks++;
		if (nf)
			fail(c, i, op,
			     "the full checker found %d violations the incremental one "
			     "did not",
			     nf);
	}
	refresh_world(c);
	for (unsigned v = 0; v < c->w.nr_live; v++) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		struct hs_error err = {0};
		int mis = hs_vm_check(c->m, c->w.live[v], &sb, &err);
		if (mis)
			fail(c, i, op,
			     "VM %#" PRIx64 ": the host's record and the stage 2 differ "
			     "(%d): %s%s",
			     c->w.live[v], mis, err.msg, hs_sb_str(&sb));
		hs_sb_free(&sb);
	}
	if (c->o.canary_every && (i + 1) % c->o.canary_every == 0) {
		struct hs_host_op res;
		struct hs_stop stop;
		struct hs_error err = {0};
		if (hs_host_hvc(c->m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) ||
		    stop.reason != HS_STOP_DONE || res.x0 != HS_SMCCC_SUCCESS)
			fail(c, i, op, "canary: a null hypercall on CPU 0 failed: %s",
			     err.msg[0] ? err.msg : hs_stop_reason_name(stop.reason));
		if (hs_host_access(c->m, 0, false, c->w.code_pa, 4, 0, &res, &stop, &err) ||
		    stop.reason != HS_STOP_DONE || res.refused || res.value != c->code_word)
			fail(c, i, op, "canary: the host cannot read its own code page: %s",
			     err.msg[0]	   ? err.msg
			     : res.refused ? "refused"
					   : "wrong value");
	}
}

int main(int argc, char **argv)
{
	struct campaign c = {0};
	if (parse(argc, argv, &c.o))
		return 2;
	c.rng.s = c.o.seed;
	if (setup(&c))
		return 1;
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);
	signal(SIGFPE, on_crash);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < c.o.ops; i++) {
		struct cmp_op op;
		cmp_generate(&c.rng, &c.w, &op);
		char desc[400];
		cmp_describe(&op, desc, sizeof(desc));
		crash_ready = 0;
		snprintf(crash_line, sizeof(crash_line),
			 "hs_campaign: CRASH seed %" PRIu64 " op %" PRIu64 " (%s)\n"
			 "  replay: hs_campaign --seed %" PRIu64 " --ops %" PRIu64 " --cpus %u\n",
			 c.o.seed, i, desc, c.o.seed, i + 1, c.o.cpus);
		crash_ready = 1;
		if (c.o.verbose)
			fprintf(stderr, "%" PRIu64 ": %s\n", i, desc);
		run_op(&c, i, &op);
		c.t.per_kind[op.kind]++;
		c.t.ops++;
		check_machine(&c, i, &op);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("hs_campaign: seed %" PRIu64 ", %u CPUs: %" PRIu64
	       " operations in %.2f s (%.0f ops/s)"
	       "\n  0 crashes, 0 EL2 faults, 0 violations, 0 wedges; %" PRIu64 " completed, "
	       "%" PRIu64 " refused with an errno by the hypervisor, %" PRIu64
	       " refused by the API with a message, %" PRIu64 " not supported; %" PRIu64
	       " full checks agreed\n  by kind:",
	       c.o.seed, c.o.cpus, c.t.ops, s, s > 0 ? (double)c.t.ops / s : 0.0, c.t.completed,
	       c.t.hyp_errors, c.t.api_errors, c.t.refused_calls, c.t.full_checks);
	for (unsigned k = 0; k < CMP_NR_KINDS; k++)
		printf(" %s %" PRIu64 "%s", cmp_kind_name((enum cmp_kind)k), c.t.per_kind[k],
		       k + 1 < CMP_NR_KINDS ? "," : "\n");
	crash_ready = 0;
	hs_check_report_free(&c.rep);
	hs_check_incr_free(c.ci);
	hs_machine_destroy(c.m);
	return 0;
}
