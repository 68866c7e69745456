/* SPDX-License-Identifier: MIT */
/*
 * The campaign's generator: operations with garbage arguments, aimed often
 * enough at the pages and gfns that matter (hot sets, the hypervisor's own
 * pages, the host's code page, live VMs) that states are reached in depth.
 */
#include "campaign.h"

#include <hypscope/abi.h>
#include <inttypes.h>
#include <stdio.h>

#define PAGE_SHIFT 12

uint64_t cmp_rand(struct cmp_rng *r)
{
	/* splitmix64: every seed, 0 included, gives a full-period stream */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t cmp_below(struct cmp_rng *r, uint64_t n)
{
	return n ? cmp_rand(r) % n : 0;
}

static bool chance(struct cmp_rng *r, unsigned percent)
{
	return cmp_below(r, 100) < percent;
}

/* A RAM page the host may use (below its own allocator's pages). */
static uint64_t ram_pfn(struct cmp_rng *r, const struct cmp_world *w)
{
	uint64_t first = (w->ram_base >> PAGE_SHIFT) + 1, last = w->host_top >> PAGE_SHIFT;
	return first + cmp_below(r, last > first ? last - first : 1);
}

/* Values a careless or hostile caller passes. */
static uint64_t garbage(struct cmp_rng *r, const struct cmp_world *w)
{
	switch (cmp_below(r, 12)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return 1ULL << cmp_below(r, 64);
	case 3:
		return cmp_rand(r);
	case 4:
		return cmp_below(r, 16);
	case 5:
		return (uint64_t) - (int64_t)(1 + cmp_below(r, 64));
	case 6:
		return 0x8000000000000000ULL;
	case 7:
		return w->ram_base + w->ram_size + cmp_below(r, 4) * 0x1000;
	case 8:
		return (w->ram_base + w->ram_size) >> PAGE_SHIFT;
	case 9:
		return HS_VM_HANDLE_OFFSET + cmp_below(r, 10);
	case 10:
		return 0x09000000 >> PAGE_SHIFT; /* the UART's page */
	default:
		return ram_pfn(r, w) << PAGE_SHIFT;
	}
}

static uint64_t pfn(struct cmp_rng *r, const struct cmp_world *w)
{
	unsigned p = (unsigned)cmp_below(r, 100);
	if (p < 50)
		return w->hot_pfn[cmp_below(r, 16)];
	if (p < 62 && w->nr_hyp_pfns)
		return w->hyp_pfns[cmp_below(r, w->nr_hyp_pfns)];
	if (p < 72)
		return ram_pfn(r, w);
	if (p < 75)
		return w->code_pa >> PAGE_SHIFT; /* the host's own code page */
	return garbage(r, w);
}

static uint64_t gfn(struct cmp_rng *r, const struct cmp_world *w)
{
	unsigned p = (unsigned)cmp_below(r, 100);
	if (p < 60)
		return w->hot_gfn[cmp_below(r, 16)];
	if (p < 70)
		return w->guest_code_gfn;
	if (p < 75)
		return w->ram_base >> PAGE_SHIFT; /* where the host's code page is */
	return garbage(r, w);
}

static uint64_t count(struct cmp_rng *r, const struct cmp_world *w)
{
	unsigned p = (unsigned)cmp_below(r, 100);
	if (p < 60)
		return 1;
	if (p < 85)
		return 2 + cmp_below(r, 7);
	if (p < 90)
		return 0;
	return garbage(r, w);
}

static uint64_t prot(struct cmp_rng *r, const struct cmp_world *w)
{
	return chance(r, 85) ? cmp_below(r, 8) : garbage(r, w);
}

static uint64_t handle(struct cmp_rng *r, const struct cmp_world *w)
{
	if (w->nr_live && chance(r, 80))
		return w->live[cmp_below(r, w->nr_live)];
	return chance(r, 50) ? HS_VM_HANDLE_OFFSET + cmp_below(r, 12) : garbage(r, w);
}

static bool is_live(const struct cmp_world *w, uint64_t v)
{
	for (unsigned i = 0; i < w->nr_live; i++)
		if (w->live[i] == v)
			return true;
	return false;
}

/* Hypercalls that change what the host records of its VMs: the wrappers make them. */
static bool changes_records(unsigned nr)
{
	switch (nr) {
	case HS_HC_host_share_guest:
	case HS_HC_host_unshare_guest:
	case HS_HC_host_donate_guest:
	case HS_HC_vcpu_load:
	case HS_HC_vcpu_put:
	case HS_HC_teardown_vm:
	case HS_HC_reclaim_page:
	case HS_HC_start_teardown_vm:
		return true;
	default:
		return false;
	}
}

/* One argument of hypercall nr in position i, of the kind it takes (or garbage). */
static uint64_t hvc_arg(struct cmp_rng *r, const struct cmp_world *w, unsigned nr, unsigned i)
{
	if (chance(r, 20))
		return garbage(r, w);
	switch (nr) {
	case HS_HC_host_share_hyp:
	case HS_HC_host_unshare_hyp:
	case HS_HC_hyp_pin_shared:
	case HS_HC_hyp_unpin_shared:
		return pfn(r, w);
	case HS_HC_host_donate_hyp:
	case HS_HC_hyp_donate_host:
		return i == 0 ? pfn(r, w) : count(r, w);
	case HS_HC_init_vm:
		return i == 0	? pfn(r, w) << PAGE_SHIFT
		       : i == 1 ? 64 + cmp_below(r, 64)
				: cmp_below(r, 4);
	case HS_HC_init_vcpu:
		return i == 0 ? handle(r, w) : i == 1 ? cmp_below(r, 4) : gfn(r, w) << PAGE_SHIFT;
	case HS_HC_host_relax_perms_guest:
		return i == 0 ? gfn(r, w) : prot(r, w);
	case HS_HC_host_wrprotect_guest:
	case HS_HC_host_test_clear_young_guest:
		return i == 0 ? handle(r, w) : i == 1 ? gfn(r, w) : count(r, w);
	case HS_HC_host_mkyoung_guest:
		return gfn(r, w);
	case HS_HC___kvm_tlb_flush_vmid:
		return handle(r, w);
	default:
		return garbage(r, w);
	}
}

static bool loaded(const struct cmp_world *w, unsigned cpu)
{
	return cpu < 64 && (w->loaded_cpus >> cpu & 1);
}

static void gen_hvc(struct cmp_rng *r, const struct cmp_world *w, struct cmp_op *op)
{
	unsigned nr = (unsigned)cmp_below(r, HS_HC_COUNT + 3); /* a few unknown ids too */
	/* The boot's own calls are mostly refused now; keep them rare. */
	if (nr >= 1 && nr <= 4 && chance(r, 75))
		nr = HS_HC_host_share_hyp + (unsigned)cmp_below(r, 2);
	op->fn = chance(r, 3) ? garbage(r, w) : HS_HC_FN(nr);
	op->nargs = (unsigned)cmp_below(r, 7);
	if (op->nargs < 4)
		op->nargs = 4;
	/* Those that act on the vCPU a CPU has loaded: a CPU without one, or another call. */
	if (changes_records(nr) && loaded(w, op->cpu)) {
		for (unsigned cpu = 0; cpu < w->nr_cpus; cpu++)
			if (!loaded(w, cpu))
				op->cpu = cpu;
		if (loaded(w, op->cpu))
			nr = HS_HC_host_share_hyp;
		op->fn = HS_HC_FN(nr);
	}
	for (unsigned i = 0; i < op->nargs; i++) {
		op->a[i] = hvc_arg(r, w, nr, i);
		if (changes_records(nr) && is_live(w, op->a[i]))
			op->a[i] =
			    HS_VM_HANDLE_OFFSET + HS_MAX_VMS; /* no VM: the records stay true */
	}
}

static void gen_vm(struct cmp_rng *r, const struct cmp_world *w, struct cmp_op *op)
{
	op->a[0] = handle(r, w);
	op->a[1] = pfn(r, w);
	op->a[2] = gfn(r, w);
	op->a[3] = count(r, w);
	op->a[4] = prot(r, w);
}

static const unsigned weights[CMP_NR_KINDS] = {
    [CMP_HVC] = 30,	  [CMP_READ] = 8,	 [CMP_WRITE] = 6,      [CMP_SMC] = 2,
    [CMP_VM_CREATE] = 2,  [CMP_VM_LOAD] = 6,	 [CMP_VM_PUT] = 3,     [CMP_VM_SHARE] = 10,
    [CMP_VM_UNSHARE] = 6, [CMP_VM_DONATE] = 6,	 [CMP_VM_RUN] = 14,    [CMP_VM_TEARDOWN] = 1,
    [CMP_VM_RECLAIM] = 2, [CMP_VM_RAW_TEAR] = 1, [CMP_GUEST_CODE] = 4,
};

/*
 * Instructions a hostile guest runs: hypercalls and SMCs with whatever is in
 * x0-x3, system-register accesses anywhere in the system space, exception
 * returns, waits, loads and stores through garbage pointers, and noise.
 */
static uint32_t guest_insn(struct cmp_rng *r)
{
	uint32_t v = (uint32_t)cmp_rand(r);
	switch (cmp_below(r, 12)) {
	case 0:
	case 1:
		return 0xd4000002u; /* hvc #0 */
	case 2:
		return 0xd4000003u; /* smc #0 */
	case 3:
		return 0xd4000001u; /* svc #0 */
	case 4:
	case 5:
		return 0xd5000000u | (v & 0x3fffff); /* msr/mrs/sys anywhere */
	case 6:
	case 7: /* movz xN, #imm, lsl #16*hw: garbage in x0-x3 */
		return 0xd2800000u | (v & 0x7fffe0) | (uint32_t)cmp_below(r, 4);
	case 8:
		return cmp_below(r, 2) ? 0xd69f03e0u : 0xd503207fu; /* eret, wfi */
	case 9:
		return cmp_below(r, 2) ? 0xf9400001u : 0xf9000001u; /* ldr/str x1, [x0] */
	default:
		return v;
	}
}

void cmp_world_hot_sets(struct cmp_world *w, struct cmp_rng *r)
{
	/* A cluster of neighbours (ranges cover several) and scattered pages. */
	uint64_t base = ram_pfn(r, w) & ~7ULL;
	for (unsigned i = 0; i < 16; i++)
		w->hot_pfn[i] = i < 8 ? base + i : ram_pfn(r, w);
	uint64_t gbase = w->guest_code_gfn + 1 + cmp_below(r, 0x1000);
	for (unsigned i = 0; i < 16; i++)
		w->hot_gfn[i] = i < 12 ? gbase + i
				       : (w->ram_base >> PAGE_SHIFT) + 1 +
					     cmp_below(r, w->ram_size >> PAGE_SHIFT);
}

void cmp_generate(struct cmp_rng *r, const struct cmp_world *w, struct cmp_op *op)
{
	*op = (struct cmp_op){0};
	unsigned total = 0;
	for (unsigned k = 0; k < CMP_NR_KINDS; k++)
		total += weights[k];
	unsigned pick = (unsigned)cmp_below(r, total), k = 0;
	while (pick >= weights[k])
		pick -= weights[k++];
	op->kind = (enum cmp_kind)k;
	op->cpu = (unsigned)cmp_below(r, w->nr_cpus);
	if (!(w->online_cpus >> op->cpu & 1) && chance(r, 90))
		op->cpu = 0; /* mostly a CPU that is up; sometimes the "offline" refusal */
	if (chance(r, 2))
		op->cpu = (unsigned)garbage(r, w); /* no such CPU */
	static const unsigned sizes[] = {1, 2, 4, 8, 8, 8, 3, 16};
	switch (op->kind) {
	case CMP_HVC:
		gen_hvc(r, w, op);
		break;
	case CMP_READ:
	case CMP_WRITE:
		op->pa = (pfn(r, w) << PAGE_SHIFT) + cmp_below(r, 0x1000);
		if (chance(r, 10))
			op->pa = garbage(r, w);
		op->size = sizes[cmp_below(r, 8)];
		if (chance(r, 80) && op->size <= 8)
			op->pa &=
			    ~(uint64_t)(op->size - 1); /* mostly aligned: the host model wants it */
		op->value = cmp_rand(r);
		/*
		 * The host's own code page is its to patch (the debugger's Ctrl-C example
		 * does), but a host that overwrites its stubs attacks only itself.
		 */
		if (op->kind == CMP_WRITE && (op->pa >> PAGE_SHIFT) == (w->code_pa >> PAGE_SHIFT))
			op->pa += 0x1000;
		break;
	case CMP_SMC: {
		static const uint64_t fns[] = {
		    HS_PSCI_VERSION,	   HS_PSCI_CPU_ON, HS_PSCI_CPU_ON, HS_PSCI_CPU_OFF,
		    HS_PSCI_AFFINITY_INFO, 0x84000001UL,   0xC4000005UL,   0x8400000aUL};
		op->fn = chance(r, 10) ? garbage(r, w) : fns[cmp_below(r, 8)];
		op->a[0] = chance(r, 70) ? cmp_below(r, w->nr_cpus + 1) : garbage(r, w);
		op->a[1] = chance(r, 50) ? w->code_pa + 0x80 : garbage(r, w);
		op->a[2] = garbage(r, w);
		if (op->fn == HS_PSCI_CPU_OFF && op->cpu == 0)
			op->cpu = 1; /* CPU 0 stays up: every later operation needs one CPU */
		if (op->fn == HS_PSCI_CPU_ON && chance(r, 80)) {
			/* from a CPU that is up, to a real one: offline CPUs come back */
			op->cpu = 0;
			op->a[0] = 1 + cmp_below(r, w->nr_cpus > 1 ? w->nr_cpus - 1 : 1);
			op->a[1] = w->code_pa + 0x80;
		}
		break;
	}
	case CMP_VM_CREATE:
		op->protected_vm = chance(r, 50);
		break;
	case CMP_GUEST_CODE:
		gen_vm(r, w, op);
		op->a[1] = w->hot_pfn[cmp_below(r, 16)];
		op->a[2] = w->hot_gfn[cmp_below(r, 16)];
		for (unsigned i = 0; i < 16; i++)
			op->code[i] = guest_insn(r);
		break;
	case CMP_VM_RUN: {
		op->vm_op = chance(r, 90) ? cmp_below(r, 4) : garbage(r, w);
		op->pa = chance(r, 80) ? (gfn(r, w) << PAGE_SHIFT) + 8 * cmp_below(r, 512)
				       : garbage(r, w);
		op->value = cmp_rand(r);
		break;
	}
	default:
		gen_vm(r, w, op);
		break;
	}
}

static const char *const kind_names[CMP_NR_KINDS] = {
    [CMP_HVC] = "hvc",
    [CMP_READ] = "host read",
    [CMP_WRITE] = "host write",
    [CMP_SMC] = "smc",
    [CMP_VM_CREATE] = "vm create",
    [CMP_VM_LOAD] = "vm load",
    [CMP_VM_PUT] = "vm put",
    [CMP_VM_SHARE] = "vm share",
    [CMP_VM_UNSHARE] = "vm unshare",
    [CMP_VM_DONATE] = "vm donate",
    [CMP_VM_RUN] = "vm run",
    [CMP_VM_TEARDOWN] = "vm teardown",
    [CMP_VM_RECLAIM] = "vm reclaim",
    [CMP_VM_RAW_TEAR] = "vm teardown (no reclaim)",
    [CMP_GUEST_CODE] = "guest code",
};

const char *cmp_kind_name(enum cmp_kind k)
{
	return k < CMP_NR_KINDS ? kind_names[k] : "?";
}

void cmp_describe(const struct cmp_op *op, char *buf, size_t len)
{
	const char *name = cmp_kind_name(op->kind);
	switch (op->kind) {
	case CMP_HVC:
		snprintf(buf, len,
			 "cpu %u: hvc fn %#" PRIx64 " (%u args) %#" PRIx64 " %#" PRIx64 " %#" PRIx64
			 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64,
			 op->cpu, op->fn, op->nargs, op->a[0], op->a[1], op->a[2], op->a[3],
			 op->a[4], op->a[5]);
		break;
	case CMP_READ:
	case CMP_WRITE:
		snprintf(buf, len, "cpu %u: %s pa %#" PRIx64 " size %u value %#" PRIx64, op->cpu,
			 name, op->pa, op->size, op->value);
		break;
	case CMP_SMC:
		snprintf(buf, len, "cpu %u: smc %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " %#" PRIx64,
			 op->cpu, op->fn, op->a[0], op->a[1], op->a[2]);
		break;
	case CMP_VM_CREATE:
		snprintf(buf, len, "cpu %u: vm create%s", op->cpu,
			 op->protected_vm ? " --protected" : "");
		break;
	case CMP_VM_RUN:
		snprintf(buf, len,
			 "cpu %u: vm run op %#" PRIx64 " ipa %#" PRIx64 " value %#" PRIx64, op->cpu,
			 op->vm_op, op->pa, op->value);
		break;
	case CMP_GUEST_CODE: {
		int n = snprintf(buf, len,
				 "cpu %u: guest code handle %#" PRIx64 " pfn %#" PRIx64
				 " gfn %#" PRIx64 ":",
				 op->cpu, op->a[0], op->a[1], op->a[2]);
		for (unsigned i = 0; i < 16 && n > 0 && (size_t)n < len; i++)
			n += snprintf(buf + n, len - (size_t)n, " %08x", op->code[i]);
		break;
	}
	default:
		snprintf(buf, len,
			 "cpu %u: %s handle %#" PRIx64 " pfn %#" PRIx64 " gfn %#" PRIx64
			 " nr %#" PRIx64 " prot %#" PRIx64,
			 op->cpu, name, op->a[0], op->a[1], op->a[2], op->a[3], op->a[4]);
		break;
	}
}
