/* SPDX-License-Identifier: MIT */
/*
 * The seeded random campaign (issue 14): a hostile host and its guests throw
 * operations with garbage arguments at the hypervisor. The generator is a
 * pure function of the seed and of what the campaign has seen (the live VM
 * handles), so a seed and an operation index replay a failure exactly.
 */
#ifndef HS_CAMPAIGN_H
#define HS_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hypscope/abi.h>

enum cmp_kind {
	CMP_HVC,	 /* a raw hypercall: any function id, garbage arguments */
	CMP_READ,	 /* a host load from a physical address */
	CMP_WRITE,	 /* a host store */
	CMP_SMC,	 /* PSCI (or garbage) through the hypervisor's relay */
	CMP_VM_CREATE,	 /* hs_vm_create (protected or not) */
	CMP_VM_LOAD,	 /* vcpu_load of a live or garbage handle */
	CMP_VM_PUT,	 /* vcpu_put */
	CMP_VM_SHARE,	 /* host_share_guest */
	CMP_VM_UNSHARE,	 /* host_unshare_guest */
	CMP_VM_DONATE,	 /* host_donate_guest */
	CMP_VM_RUN,	 /* vcpu_run: the guest reads, writes or branches */
	CMP_VM_TEARDOWN, /* start_teardown_vm, reclaim every gfn, teardown_vm */
	CMP_VM_RECLAIM,	 /* reclaim_page of one (garbage) gfn */
	CMP_VM_RAW_TEAR, /* teardown_vm straight away (refused while pages are mapped) */
	CMP_GUEST_CODE,	 /* the host fills a page with random instructions, the guest runs them */
	CMP_NR_KINDS,
};

struct cmp_op {
	enum cmp_kind kind;
	unsigned cpu;
	uint64_t fn;	   /* HVC, SMC */
	uint64_t a[6];	   /* HVC: x1..x6; SMC: x1..x3; VM ops: handle, pfn, gfn, nr, prot */
	unsigned nargs;	   /* HVC */
	uint64_t pa;	   /* READ/WRITE; VM_RUN: the IPA */
	uint64_t value;	   /* WRITE, VM_RUN */
	unsigned size;	   /* READ/WRITE: 1, 2, 4, 8 (and garbage: 3, 16) */
	bool protected_vm; /* VM_CREATE */
	uint64_t vm_op;	   /* VM_RUN: HS_VCPU_OP_* or garbage */
	uint32_t code[16]; /* GUEST_CODE: the instructions */
};

/* What the generator may aim at: the machine's layout and the campaign's live state. */
struct cmp_world {
	uint64_t ram_base, ram_size;
	uint64_t host_top;    /* the host model's allocator: pages at and above are its own */
	uint64_t code_pa;     /* the host model's code page */
	uint64_t hyp_pfns[8]; /* pages the hypervisor owns (text, data, pool) */
	unsigned nr_hyp_pfns;
	uint64_t guest_code_gfn; /* where the guest program sits in every VM */
	unsigned nr_cpus;
	uint64_t live[HS_MAX_VMS]; /* live VM handles */
	unsigned nr_live;
	uint64_t loaded_cpus; /* bit n: the host's records have a vCPU loaded on CPU n */
	uint64_t online_cpus; /* bit n: CPU n is up */
	uint64_t hot_pfn[16], hot_gfn[16]; /* the hot sets: pages and gfns used again and again */
};

struct cmp_rng {
	uint64_t s;
};
uint64_t cmp_rand(struct cmp_rng *r);
/* A value in [0, n). */
uint64_t cmp_below(struct cmp_rng *r, uint64_t n);

/* Fill the world's hot sets from the seed (once, after the boot). */
void cmp_world_hot_sets(struct cmp_world *w, struct cmp_rng *r);
/* The next operation. */
void cmp_generate(struct cmp_rng *r, const struct cmp_world *w, struct cmp_op *op);
/* One line naming the operation and its arguments (for failures and --verbose). */
void cmp_describe(const struct cmp_op *op, char *buf, size_t len);
const char *cmp_kind_name(enum cmp_kind k);

#endif
