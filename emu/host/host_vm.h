/* SPDX-License-Identifier: MIT */
/*
 * The host's side of guests (seed 003): VMs created from host memory, and
 * per VM the gfn->pfn record the host keeps in sync with the guest stage 2,
 * changed only by the results of the hypercalls. A check compares the record
 * with the guest stage 2 read from emulated memory.
 */
#ifndef HS_HOST_VM_H
#define HS_HOST_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "strbuf.h"

/*
 * Where the bundled guest program is mapped in every VM, from the machine's
 * RAM: 128 MiB above its base (gfn 0x48000 with the default RAM), or half way
 * into a smaller RAM. Guest IPAs must lie where Unicorn has regions (the RAM
 * range: the guest runs with its MMU off), and never on the host code page
 * (RAM's first page): the emulator stops a host operation when the PC
 * reaches its return address there, whatever the regime.
 */
uint64_t hs_vm_code_gfn(const struct hs_machine *m);

struct hs_vm_map {
	uint64_t gfn, pfn;
	unsigned prot;
	bool donated;
};

struct hs_vm_info {
	uint64_t handle;
	bool protected_vm;
	uint64_t pa, nr_pages; /* the block donated at init_vm */
	uint64_t code_pfn;
	const struct hs_vm_map *maps;
	size_t nr_maps;
	int loaded_on; /* CPU, or -1 */
	bool dying;    /* start_teardown_vm succeeded: pages come back by reclaim */
};

struct hs_vm_exit {
	int64_t status;	 /* 0, or the hypercall's negative error */
	uint64_t reason; /* HS_EXIT_* */
	uint64_t x2, x3;
};

/*
 * Whether path (NULL: nothing to check) is a usable guest program: an AArch64
 * ELF whose first segment is executable code of at most a page, entered at its
 * first byte. 0 or a negative code with the reason.
 */
int hs_guest_program_check(const char *path, struct hs_error *err);

/* Create a VM (and its vCPU 0, running the bundled guest program). */
int hs_vm_create(struct hs_machine *m, unsigned cpu, bool protected_vm, uint64_t *handle,
		 struct hs_error *err);
/* Hypercall wrappers: *ret is the hypervisor's result; the record follows successes. */
int hs_vm_load(struct hs_machine *m, unsigned cpu, uint64_t handle, int64_t *ret,
	       struct hs_error *err);
int hs_vm_put(struct hs_machine *m, unsigned cpu, int64_t *ret, struct hs_error *err);
int hs_vm_share(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t pfn, uint64_t gfn,
		uint64_t nr, unsigned prot, int64_t *ret, struct hs_error *err);
int hs_vm_unshare(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t gfn, uint64_t nr,
		  int64_t *ret, struct hs_error *err);
int hs_vm_donate(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t pfn, uint64_t gfn,
		 int64_t *ret, struct hs_error *err);
int hs_vm_hvc(struct hs_machine *m, unsigned cpu, int nr, const uint64_t *args, unsigned nargs,
	      int64_t *ret, struct hs_error *err);
/* Run the vCPU loaded on `cpu`: the guest does op (HS_VCPU_OP_*) at ipa. */
int hs_vm_run(struct hs_machine *m, unsigned cpu, uint64_t op, uint64_t ipa, uint64_t value,
	      struct hs_vm_exit *exit, struct hs_error *err);
/*
 * hs_vm_run, with every stage-2 fault handled by the host as Linux's user_mem_abort
 * does (a fresh host page shared or donated, a leaf relaxed or made young) and the
 * guest resumed, up to HS_VM_FAULT_IN_MAX times; each step is described in log. Stops
 * at the first fault the host cannot handle (that exit is returned).
 */
#define HS_VM_FAULT_IN_MAX 8
int hs_vm_run_fault_in(struct hs_machine *m, unsigned cpu, uint64_t op, uint64_t ipa,
		       uint64_t value, struct hs_vm_exit *exit, struct hs_strbuf *log,
		       struct hs_error *err);
/*
 * The dying-guest path: start_teardown_vm (vcpu_put first if a vCPU is loaded),
 * then reclaim_page per gfn (the record forgets the gfn), then teardown_vm.
 */
int hs_vm_start_teardown(struct hs_machine *m, unsigned cpu, uint64_t handle, int64_t *ret,
			 struct hs_error *err);
int hs_vm_reclaim(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t gfn, int64_t *ret,
		  struct hs_error *err);
int hs_vm_teardown(struct hs_machine *m, unsigned cpu, uint64_t handle, int64_t *ret,
		   struct hs_error *err);

/* The host's record of a VM; false when the handle is unknown. */
bool hs_vm_info(const struct hs_machine *m, uint64_t handle, struct hs_vm_info *info);
/* VMs the host created and has not torn down. */
size_t hs_vm_list(const struct hs_machine *m, uint64_t *handles, size_t max);

/* Linux's hypervisor: the host's state of a live VM (NULL: unknown or bundled). */
struct hs_lx_vm;
struct hs_lx_vm *hs_vm_linux(const struct hs_machine *m, uint64_t handle);
/* Linux's hypervisor: VMs torn down, oldest first (their ledgers). */
size_t hs_vm_gone(const struct hs_machine *m, struct hs_lx_vm **out, size_t max);

/* The VM's stage-2 regime registers as the hypervisor recorded them. */
int hs_vm_regs(struct hs_machine *m, uint64_t handle, uint64_t *vttbr, uint64_t *vtcr,
	       struct hs_error *err);
/*
 * Compare the host's record with the guest stage 2 in memory. Returns the
 * number of mismatches (each described in sb), or a negative error.
 */
int hs_vm_check(struct hs_machine *m, uint64_t handle, struct hs_strbuf *sb, struct hs_error *err);

/* Free the host-side records (machine destruction). */
void hs_vm_records_free(struct hs_machine *m);
/* A deep copy of a set of records (NULL for NULL or out of memory), and its release. */
struct hs_vm_records *hs_vm_records_copy(const struct hs_vm_records *r);
void hs_vm_records_release(struct hs_vm_records *r);
/* Records of Linux VMs (their host structures) are in r: copies cannot keep them yet. */
bool hs_vm_records_linux(const struct hs_vm_records *r);
/* The records in a saved machine (checkpoint.h's bytes); decode: NULL and *err when bad. */
struct hs_bytes;
struct hs_bytes_in;
void hs_vm_records_encode(const struct hs_vm_records *r, struct hs_bytes *b);
struct hs_vm_records *hs_vm_records_decode(struct hs_bytes_in *in, struct hs_error *err);

#endif
