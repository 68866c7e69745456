/* SPDX-License-Identifier: MIT */
#include "host_vm.h"
#include "profile.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "boot_util.h"
#include "host.h"
#include "linux_boot.h"
#include "linux_vm.h"
#include "machine_priv.h"
#include "pt_translate.h"
#include "pt_walk.h"

#define VM_PAGES 16

struct hs_vm_rec {
	struct hs_vm_info info;
	struct hs_vm_map *maps;
	size_t cap;
	struct hs_lx_vm *lx; /* Linux's hypervisor: the host's struct kvm and what it gave */
};

struct hs_vm_records {
	struct hs_vm_rec vms[HS_MAX_VMS];
	struct hs_lx_vm **gone; /* Linux VMs torn down: what the host gave and got back */
	size_t nr_gone;
	uint8_t *guest_code;
	size_t guest_code_len;
};

static struct hs_vm_records *records(struct hs_machine *m)
{
	if (!hs_host_of(m)->vms)
		hs_host_of(m)->vms = calloc(1, sizeof(struct hs_vm_records));
	return hs_host_of(m)->vms;
}

void hs_vm_records_free(struct hs_machine *m)
{
	hs_vm_records_release(hs_host_of(m)->vms);
	hs_host_of(m)->vms = NULL;
}

static struct hs_vm_rec *find(struct hs_machine *m, uint64_t handle)
{
	struct hs_vm_records *r = records(m);
	if (!r || handle < HS_VM_HANDLE_OFFSET || handle >= HS_VM_HANDLE_OFFSET + HS_MAX_VMS)
		return NULL;
	struct hs_vm_rec *v = &r->vms[handle - HS_VM_HANDLE_OFFSET];
	return v->info.handle == handle ? v : NULL;
}

static struct hs_vm_rec *loaded_on(struct hs_machine *m, unsigned cpu)
{
	struct hs_vm_records *r = records(m);
	for (int i = 0; r && i < HS_MAX_VMS; i++)
		if (r->vms[i].info.handle && r->vms[i].info.loaded_on == (int)cpu)
			return &r->vms[i];
	return NULL;
}

/*
 * A guest hypercall on Linux's hypervisor: the same arguments under Linux's name, with
 * enum kvm_pgtable_prot for permissions, and the vCPU's memcache topped up first for the
 * calls that may allocate stage-2 tables (user_mem_abort's topup_hyp_memcache).
 */
static int linux_hvc(struct hs_machine *m, unsigned cpu, int nr, const uint64_t *args,
		     unsigned nargs, int64_t *ret, struct hs_error *err)
{
	const char *name = hs_lx_guest_call_name(nr);
	if (!name)
		return hs_err(err, -ENOSYS, "%s has no counterpart in Linux's hypervisor",
			      hs_hypercall_name(HS_HC_FN(nr)));
	uint64_t a[6] = {0};
	if (nargs > 6)
		return hs_err(err, -EINVAL, "at most 6 hypercall arguments (got %u)", nargs);
	if (nargs)
		memcpy(a, args, nargs * sizeof(*a));
	int rc = 0;
	if (nr == HS_HC_host_share_guest)
		rc = hs_lx_prot(m, (unsigned)a[3], &a[3], err);
	else if (nr == HS_HC_host_relax_perms_guest)
		rc = hs_lx_prot(m, (unsigned)a[1], &a[1], err);
	if (rc)
		return rc;
	struct hs_vm_rec *v = loaded_on(m, cpu);
	if ((nr == HS_HC_host_share_guest || nr == HS_HC_host_donate_guest) && v && v->lx &&
	    hs_machine_hypercall_by_name(m, name) >= 0 && (rc = hs_lx_vm_topup(m, v->lx, err)))
		return rc;
	return hs_lx_call(m, cpu, name, a, nargs, ret, err);
}

int hs_vm_hvc(struct hs_machine *m, unsigned cpu, int nr, const uint64_t *args, unsigned nargs,
	      int64_t *ret, struct hs_error *err)
{
	if (hs_linux_image(m))
		return linux_hvc(m, cpu, nr, args, nargs, ret, err);
	struct hs_host_op res;
	struct hs_stop stop;
	int rc = hs_host_hvc(m, cpu, HS_HC_FN(nr), args, nargs, &res, &stop, err);
	if (rc)
		return rc;
	if (stop.reason != HS_STOP_DONE)
		return hs_err(err, -EINTR, "the machine stopped inside %s (%s)",
			      hs_hypercall_name(HS_HC_FN(nr)), hs_stop_reason_name(stop.reason));
	if (res.x0 != HS_SMCCC_SUCCESS)
		return hs_err(err, -ENOSYS, "%s is not available now (SMCCC %" PRId64 ")",
			      hs_hypercall_name(HS_HC_FN(nr)), res.x0);
	*ret = res.x1;
	return 0;
}

/*
 * The guest program: one page of code entered at its first byte (guest/guest.S
 * is linked at 0), so the first loadable segment must be executable, hold the
 * entry point at its start and fit one page.
 */
static int load_guest_program(const char *path, uint8_t **code, size_t *len, struct hs_error *err)
{
	struct hs_image *img;
	int rc = hs_image_load(path, &img, err);
	if (rc)
		return rc;
	const struct hs_segment *s = &img->segs[0];
	if (s->filesz > HS_PAGE_SIZE || s->memsz > HS_PAGE_SIZE)
		rc = hs_err(err, -E2BIG, "%s: the guest program must fit one page", path);
	else if (!(s->flags & PF_X) || img->entry != s->paddr)
		rc = hs_err(err, -EINVAL,
			    "%s: the guest program must start at the first byte of its first "
			    "segment, an executable one",
			    path);
	else if (!(*code = calloc(1, HS_PAGE_SIZE)))
		rc = hs_err(err, -ENOMEM, "out of memory");
	if (!rc) {
		memcpy(*code, img->file + s->offset, s->filesz);
		*len = s->filesz;
	}
	hs_image_free(img);
	return rc;
}

/*
 * A copy of a guest program as load_guest_program keeps it: a whole zeroed page
 * holding len bytes, since a VM's creation writes the page (not len bytes) into RAM.
 */
static uint8_t *guest_code_dup(const uint8_t *code, size_t len)
{
	uint8_t *p = len <= HS_PAGE_SIZE ? calloc(1, HS_PAGE_SIZE) : NULL;
	if (p)
		memcpy(p, code, len);
	return p;
}

int hs_guest_program_check(const char *path, struct hs_error *err)
{
	if (!path)
		return 0;
	uint8_t *code = NULL;
	size_t len;
	int rc = load_guest_program(path, &code, &len, err);
	free(code);
	return rc;
}

static int load_guest_code(struct hs_machine *m, struct hs_vm_records *r, struct hs_error *err)
{
	if (r->guest_code)
		return 0;
	const char *path = m->opts.guest_elf ? m->opts.guest_elf : getenv("HS_GUEST_ELF");
	if (!path)
		return hs_err(err, -ENOENT, "no guest program (set HS_GUEST_ELF or --guest)");
	return load_guest_program(path, &r->guest_code, &r->guest_code_len, err);
}

static void record_add(struct hs_vm_rec *v, uint64_t gfn, uint64_t pfn, unsigned prot, bool donated)
{
	if (v->info.nr_maps == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct hs_vm_map *n = realloc(v->maps, cap * sizeof(*n));
		if (!n)
			return;
		v->maps = n;
		v->cap = cap;
	}
	v->maps[v->info.nr_maps++] = (struct hs_vm_map){gfn, pfn, prot, donated};
	v->info.maps = v->maps;
}

static void record_del(struct hs_vm_rec *v, uint64_t gfn)
{
	for (size_t i = 0; i < v->info.nr_maps; i++) {
		if (v->maps[i].gfn == gfn) {
			v->maps[i] = v->maps[--v->info.nr_maps];
			return;
		}
	}
}

static int ensure_loaded(struct hs_machine *m, unsigned cpu, uint64_t handle, struct hs_error *err);

uint64_t hs_vm_code_gfn(const struct hs_machine *m)
{
	const struct hs_machine_opts *o = hs_machine_opts(m);
	const uint64_t want = 128ULL << 20;
	uint64_t off = o->ram_size >= 2 * want ? want : (o->ram_size / 2) & ~(HS_PAGE_SIZE - 1);
	return (o->ram_base + off) >> HS_PAGE_SHIFT;
}

int hs_vm_create(struct hs_machine *m, unsigned cpu, bool protected_vm, uint64_t *handle,
		 struct hs_error *err)
{
	struct hs_vm_records *r = records(m);
	if (!r)
		return hs_err(err, -ENOMEM, "out of memory");
	int rc = load_guest_code(m, r, err);
	if (rc)
		return rc;
	uint64_t pa = 0, code = 0;
	if ((rc = hs_vm_host_alloc(m, VM_PAGES * HS_PAGE_SIZE, HS_VM_ALIGN, &pa, err)) ||
	    (rc = hs_vm_host_alloc(m, HS_PAGE_SIZE, HS_PAGE_SIZE, &code, err)))
		return rc;
	/*
	 * The host fills the page with the guest program before giving it away,
	 * through its own stage 2: a store first, so that a page the host no
	 * longer owns (its allocator handed out a page it had donated) is refused
	 * as the host's stores would be, instead of being written behind the
	 * hypervisor's back. The store reached the page, so the host may write
	 * all of it.
	 */
	struct hs_host_op probe;
	struct hs_stop stop;
	if ((rc = hs_host_access(m, cpu, true, code, 8, 0, &probe, &stop, err)))
		return rc;
	if (stop.reason != HS_STOP_DONE)
		return hs_err(err, -EINTR,
			      "the machine stopped while the host wrote the guest program (%s)",
			      hs_stop_reason_name(stop.reason));
	if (probe.refused)
		return hs_err(err, -EPERM,
			      "the host cannot write the guest program at %#" PRIx64
			      ": its stage 2 refused the store (ESR_EL1 %#" PRIx64
			      "), the page is no longer the host's",
			      code, probe.esr_el1);
	if ((rc = hs_phys_write(m, code, r->guest_code, HS_PAGE_SIZE, err)))
		return rc;
	int64_t ret;
	uint64_t gfn = hs_vm_code_gfn(m);
	struct hs_lx_vm *lx = NULL;
	if (hs_linux_image(m)) {
		if ((rc = hs_lx_vm_create(m, cpu, protected_vm, gfn << HS_PAGE_SHIFT, &lx, handle,
					  err)))
			return rc;
		if (*handle < HS_VM_HANDLE_OFFSET || *handle >= HS_VM_HANDLE_OFFSET + HS_MAX_VMS) {
			hs_lx_vm_free(lx);
			return hs_err(err, -ENOSPC,
				      "handle %#" PRIx64 ": the host model keeps %d VMs", *handle,
				      HS_MAX_VMS);
		}
		const struct hs_lx_ledger *l = hs_lx_vm_ledger(m, lx);
		pa = l->hyp_vm_pa;
		ret = (int64_t)*handle;
	} else {
		uint64_t a[3] = {pa, VM_PAGES, protected_vm ? HS_VM_F_PROTECTED : 0};
		if ((rc = hs_vm_hvc(m, cpu, HS_HC_init_vm, a, 3, &ret, err)))
			return rc;
		if (ret < 0)
			return hs_err(err, (int)ret, "init_vm refused: %" PRId64, ret);
	}
	struct hs_vm_rec *v = &r->vms[ret - HS_VM_HANDLE_OFFSET];
	free(v->maps);
	hs_lx_vm_free(v->lx);
	memset(v, 0, sizeof(*v));
	v->lx = lx;
	v->info =
	    (struct hs_vm_info){.handle = (uint64_t)ret,
				.protected_vm = protected_vm,
				.pa = pa,
				.nr_pages = lx ? hs_lx_vm_ledger(m, lx)->hyp_vm_pages : VM_PAGES,
				.code_pfn = code >> HS_PAGE_SHIFT,
				.loaded_on = -1};
	*handle = (uint64_t)ret;
	uint64_t b[3] = {*handle, 0, gfn << HS_PAGE_SHIFT};
	if (!lx && (rc = hs_vm_hvc(m, cpu, HS_HC_init_vcpu, b, 3, &ret, err)))
		return rc;
	if (!lx && ret)
		return hs_err(err, (int)ret, "init_vcpu refused: %" PRId64, ret);
	if ((rc = ensure_loaded(m, cpu, *handle, err)))
		return rc;
	/* 6.12's hypervisor cannot map guest pages: its guest faults at the program. */
	if (lx && hs_machine_hypercall_by_name(m, "__pkvm_host_share_guest") < 0)
		return 0;
	if (protected_vm)
		rc = hs_vm_donate(m, cpu, *handle, code >> HS_PAGE_SHIFT, gfn, &ret, err);
	else
		rc = hs_vm_share(m, cpu, *handle, code >> HS_PAGE_SHIFT, gfn, 1, HS_PROT_RX, &ret,
				 err);
	if (!rc && ret)
		rc = hs_err(err, (int)ret, "mapping the guest program refused: %" PRId64, ret);
	return rc;
}

int hs_vm_load(struct hs_machine *m, unsigned cpu, uint64_t handle, int64_t *ret,
	       struct hs_error *err)
{
	uint64_t a[2] = {handle, 0};
	struct hs_vm_rec *v = find(m, handle);
	int rc;
	if (hs_linux_image(m)) {
		/* __pkvm_vcpu_load returns nothing: Linux's host takes the vCPU as loaded. */
		if (!v)
			return hs_err(err, -ENOENT, "no VM %#" PRIx64 " in the host's records",
				      handle);
		*ret = 0;
		rc = hs_lx_vm_load(m, cpu, v->lx, err);
	} else {
		rc = hs_vm_hvc(m, cpu, HS_HC_vcpu_load, a, 2, ret, err);
	}
	if (!rc && !*ret && v)
		v->info.loaded_on = (int)cpu;
	return rc;
}

int hs_vm_put(struct hs_machine *m, unsigned cpu, int64_t *ret, struct hs_error *err)
{
	int rc = hs_vm_hvc(m, cpu, HS_HC_vcpu_put, NULL, 0, ret, err);
	if (!rc && hs_linux_image(m))
		*ret = 0; /* __pkvm_vcpu_put returns nothing either */
	struct hs_vm_records *r = records(m);
	if (!rc && !*ret && r)
		for (int i = 0; i < HS_MAX_VMS; i++)
			if (r->vms[i].info.loaded_on == (int)cpu)
				r->vms[i].info.loaded_on = -1;
	return rc;
}

/* Calls acting on "the loaded vCPU's VM": load this VM on `cpu` first if needed. */
static int ensure_loaded(struct hs_machine *m, unsigned cpu, uint64_t handle, struct hs_error *err)
{
	struct hs_vm_rec *v = find(m, handle);
	int64_t ret;
	if (!v)
		return hs_err(err, -ENOENT, "no VM %#" PRIx64 " in the host's records", handle);
	if (v->info.loaded_on == (int)cpu)
		return 0;
	struct hs_vm_records *r = records(m);
	for (int i = 0; i < HS_MAX_VMS; i++) {
		if (r->vms[i].info.handle && r->vms[i].info.loaded_on == (int)cpu) {
			int rc = hs_vm_put(m, cpu, &ret, err);
			if (rc)
				return rc;
		}
	}
	int rc = hs_vm_load(m, cpu, handle, &ret, err);
	if (!rc && ret)
		rc = hs_err(err, (int)ret, "vcpu_load refused: %" PRId64, ret);
	return rc;
}

int hs_vm_share(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t pfn, uint64_t gfn,
		uint64_t nr, unsigned prot, int64_t *ret, struct hs_error *err)
{
	int rc = ensure_loaded(m, cpu, handle, err);
	if (rc)
		return rc;
	uint64_t a[4] = {pfn, gfn, nr, prot};
	rc = hs_vm_hvc(m, cpu, HS_HC_host_share_guest, a, 4, ret, err);
	struct hs_vm_rec *v = find(m, handle);
	if (!rc && !*ret)
		for (uint64_t i = 0; i < nr; i++)
			record_add(v, gfn + i, pfn + i, prot, false);
	return rc;
}

int hs_vm_unshare(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t gfn, uint64_t nr,
		  int64_t *ret, struct hs_error *err)
{
	uint64_t a[3] = {handle, gfn, nr};
	int rc = hs_vm_hvc(m, cpu, HS_HC_host_unshare_guest, a, 3, ret, err);
	struct hs_vm_rec *v = find(m, handle);
	if (!rc && !*ret && v)
		for (uint64_t i = 0; i < nr; i++)
			record_del(v, gfn + i);
	return rc;
}

int hs_vm_donate(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t pfn, uint64_t gfn,
		 int64_t *ret, struct hs_error *err)
{
	int rc = ensure_loaded(m, cpu, handle, err);
	if (rc)
		return rc;
	uint64_t a[2] = {pfn, gfn};
	rc = hs_vm_hvc(m, cpu, HS_HC_host_donate_guest, a, 2, ret, err);
	if (!rc && !*ret)
		record_add(find(m, handle), gfn, pfn, HS_PROT_RWX, true);
	return rc;
}

int hs_vm_run(struct hs_machine *m, unsigned cpu, uint64_t op, uint64_t ipa, uint64_t value,
	      struct hs_vm_exit *exit, struct hs_error *err)
{
	if (hs_linux_image(m)) {
		struct hs_vm_rec *v = loaded_on(m, cpu);
		/*
		 * 6.12's flush_hyp_vcpu takes the host's vcpu->arch.hw_mmu: a normal VM runs on
		 * a stage 2 the host builds at EL1 (kvm->arch.mmu), which this host model does
		 * not build; 7.x's hypervisor builds it (__pkvm_host_share_guest).
		 */
		if (hs_machine_hypercall_by_name(m, "__pkvm_host_share_guest") < 0)
			return hs_lx_call(m, cpu, "__pkvm_host_share_guest", NULL, 0, NULL, err);
		if (v)
			return hs_lx_vm_run(m, cpu, v->lx, op, ipa, value, exit, err);
		/*
		 * Linux's host runs only a vCPU it has: __kvm_vcpu_run takes the host's
		 * struct kvm_vcpu (6.12's hypervisor dereferences it before any check).
		 */
		return hs_err(err, -EINVAL,
			      "no vCPU loaded on cpu%u in the host's records (`vm load HANDLE`)",
			      cpu);
	}
	struct hs_host_op res;
	struct hs_stop stop;
	uint64_t a[3] = {op, ipa, value};
	int rc = hs_host_hvc(m, cpu, HS_HC_FN(HS_HC_vcpu_run), a, 3, &res, &stop, err);
	if (rc)
		return rc;
	if (stop.reason != HS_STOP_DONE)
		return hs_err(err, -EINTR, "the machine stopped inside vcpu_run (%s)",
			      hs_stop_reason_name(stop.reason));
	struct hs_cpu *c = &m->cpus[cpu];
	exit->status = res.x0 == HS_SMCCC_SUCCESS ? 0 : res.x0;
	exit->reason = (uint64_t)res.x1;
	exit->x2 = hs_cpu_reg(c, UC_ARM64_REG_X2);
	exit->x3 = hs_cpu_reg(c, UC_ARM64_REG_X3);
	if ((int64_t)exit->reason < 0)
		exit->status = (int64_t)exit->reason;
	return 0;
}

static const struct hs_vm_map *record_of(const struct hs_vm_rec *v, uint64_t gfn)
{
	for (size_t i = 0; i < v->info.nr_maps; i++)
		if (v->maps[i].gfn == gfn)
			return &v->maps[i];
	return NULL;
}

/*
 * One stage-2 fault handled as Linux's user_mem_abort would: a translation fault gets a
 * fresh host page (the VMM's anonymous memory) shared rw (rwx for a fetch) with a normal
 * VM or donated to a protected one; a permission fault has the leaf relaxed by the
 * access's need; an access-flag fault is made young. 1 when nothing can be done.
 */
static int fault_in(struct hs_machine *m, unsigned cpu, struct hs_vm_rec *v,
		    const struct hs_vm_exit *x, struct hs_strbuf *log, struct hs_error *err)
{
	uint64_t gfn = x->x2 >> HS_PAGE_SHIFT, esr = x->x3;
	unsigned type = ((unsigned)esr & 0x3f) >> 2;
	bool exec = ((esr >> 26) & 0x3f) == 0x20, write = !exec && ((esr >> 6) & 1);
	const struct hs_vm_map *rec = record_of(v, gfn);
	const struct hs_machine_opts *o = hs_machine_opts(m);
	uint64_t ram0 = o->ram_base >> HS_PAGE_SHIFT, ram_pages = o->ram_size >> HS_PAGE_SHIFT;
	int64_t ret = 0;
	int rc;
	const char *what;
	/* The VMM's memory: the RAM range (Unicorn has regions there), not the host code page. */
	if (gfn <= ram0 || gfn - ram0 >= ram_pages)
		return 1;
	if (type == 1 && !rec) {
		uint64_t pa;
		unsigned prot = HS_PROT_RW | (exec ? HS_PROT_X : 0);
		if ((rc = hs_vm_host_alloc(m, HS_PAGE_SIZE, HS_PAGE_SIZE, &pa, err)))
			return rc;
		memset(hs_phys_ptr(m, pa, HS_PAGE_SIZE), 0, HS_PAGE_SIZE);
		rc = v->info.protected_vm
			 ? hs_vm_donate(m, cpu, v->info.handle, pa >> HS_PAGE_SHIFT, gfn, &ret, err)
			 : hs_vm_share(m, cpu, v->info.handle, pa >> HS_PAGE_SHIFT, gfn, 1, prot,
				       &ret, err);
		what = v->info.protected_vm ? "donated" : exec ? "shared rwx" : "shared rw-";
		hs_sb_printf(
		    log, "  fault-in: gfn %#" PRIx64 " <- host page %#" PRIx64 " %s: %" PRId64 "\n",
		    gfn, pa, what, ret);
	} else if (type == 3 && rec && !v->info.protected_vm) {
		uint64_t a[2] = {gfn, rec->prot | (write ? HS_PROT_W : 0) | (exec ? HS_PROT_X : 0)};
		rc = hs_vm_hvc(m, cpu, HS_HC_host_relax_perms_guest, a, 2, &ret, err);
		hs_sb_printf(log,
			     "  fault-in: gfn %#" PRIx64 " permissions relaxed for the %s: %" PRId64
			     "\n",
			     gfn,
			     exec    ? "fetch"
			     : write ? "write"
				     : "read",
			     ret);
	} else if (type == 2 && rec && !v->info.protected_vm) {
		uint64_t a[1] = {gfn};
		rc = hs_vm_hvc(m, cpu, HS_HC_host_mkyoung_guest, a, 1, &ret, err);
		hs_sb_printf(log, "  fault-in: gfn %#" PRIx64 " made young: %" PRId64 "\n", gfn,
			     ret);
	} else {
		return 1;
	}
	return rc ? rc : ret ? 1 : 0;
}

int hs_vm_run_fault_in(struct hs_machine *m, unsigned cpu, uint64_t op, uint64_t ipa,
		       uint64_t value, struct hs_vm_exit *exit, struct hs_strbuf *log,
		       struct hs_error *err)
{
	int rc = hs_vm_run(m, cpu, op, ipa, value, exit, err);
	struct hs_vm_rec *v = loaded_on(m, cpu);
	for (unsigned round = 0; !rc && v && round < HS_VM_FAULT_IN_MAX && !exit->status &&
				 exit->reason == HS_EXIT_S2_FAULT;
	     round++) {
		int k = fault_in(m, cpu, v, exit, log, err);
		if (k)
			return k < 0 ? k : 0;
		rc = hs_vm_run(m, cpu, HS_VCPU_OP_RESUME, 0, 0, exit, err);
	}
	return rc;
}

/*
 * Teardown calls take a VM no CPU runs: put its vCPU first if one is loaded,
 * then call hypercall nr(handle). *vp is the host's record (NULL if unknown).
 */
static int call_unloaded(struct hs_machine *m, unsigned cpu, uint64_t handle, int nr, int64_t *ret,
			 struct hs_vm_rec **vp, struct hs_error *err)
{
	struct hs_vm_rec *v = *vp = find(m, handle);
	if (v && v->info.loaded_on >= 0) {
		int64_t r;
		int rc = hs_vm_put(m, (unsigned)v->info.loaded_on, &r, err);
		if (rc)
			return rc;
	}
	uint64_t a[1] = {handle};
	return hs_vm_hvc(m, cpu, nr, a, 1, ret, err);
}

int hs_vm_start_teardown(struct hs_machine *m, unsigned cpu, uint64_t handle, int64_t *ret,
			 struct hs_error *err)
{
	struct hs_vm_rec *v;
	int rc = call_unloaded(m, cpu, handle, HS_HC_start_teardown_vm, ret, &v, err);
	if (!rc && !*ret && v)
		v->info.dying = true;
	return rc;
}

int hs_vm_reclaim(struct hs_machine *m, unsigned cpu, uint64_t handle, uint64_t gfn, int64_t *ret,
		  struct hs_error *err)
{
	uint64_t a[3] = {handle, gfn, 1};
	struct hs_vm_rec *v = find(m, handle);
	/* pkvm_pgtable_stage2_destroy_range: a normal VM's pages are unshared, not reclaimed. */
	bool unshare = hs_linux_image(m) && v && !v->info.protected_vm;
	int rc = hs_vm_hvc(m, cpu, unshare ? HS_HC_host_unshare_guest : HS_HC_reclaim_page, a,
			   unshare ? 3 : 2, ret, err);
	if (!rc && !*ret && v) {
		for (size_t i = 0; v->lx && i < v->info.nr_maps; i++)
			if (v->maps[i].gfn == gfn)
				hs_lx_vm_page_back(v->lx, v->maps[i].pfn);
		record_del(v, gfn);
	}
	return rc;
}

/*
 * Linux's order (kvm_destroy_vm): the stage 2 destroyed range by range
 * (pkvm_pgtable_stage2_destroy_range: __pkvm_start_teardown_vm once, then every recorded
 * page reclaimed or unshared), then pkvm_destroy_hyp_vm's __pkvm_finalize_teardown_vm.
 */
static int linux_teardown(struct hs_machine *m, unsigned cpu, struct hs_vm_rec *v, int64_t *ret,
			  struct hs_error *err)
{
	int rc;
	/* 6.12 has no dying VMs (and no guest mappings): __pkvm_teardown_vm at once. */
	bool dying = hs_machine_hypercall_by_name(m, "__pkvm_start_teardown_vm") >= 0;
	if (dying && !v->info.dying) {
		if ((rc = hs_vm_start_teardown(m, cpu, v->info.handle, ret, err)) || *ret)
			return rc;
	}
	while (v->info.nr_maps) {
		if ((rc = hs_vm_reclaim(m, cpu, v->info.handle, v->maps[0].gfn, ret, err)))
			return rc;
		if (*ret)
			return hs_err(err, (int)*ret,
				      "giving gfn %#" PRIx64 " back refused: %" PRId64,
				      v->maps[0].gfn, *ret);
	}
	if ((rc = hs_lx_vm_finalize(m, cpu, v->lx, ret, err)) || *ret)
		return rc;
	struct hs_vm_records *r = records(m);
	struct hs_lx_vm **g = realloc(r->gone, (r->nr_gone + 1) * sizeof(*g));
	if (g) {
		r->gone = g;
		g[r->nr_gone++] = v->lx;
	} else {
		hs_lx_vm_free(v->lx);
	}
	free(v->maps);
	memset(v, 0, sizeof(*v));
	return 0;
}

int hs_vm_teardown(struct hs_machine *m, unsigned cpu, uint64_t handle, int64_t *ret,
		   struct hs_error *err)
{
	struct hs_vm_rec *v;
	if (hs_linux_image(m)) {
		if (!(v = find(m, handle)) || !v->lx)
			return hs_err(err, -ENOENT, "no VM %#" PRIx64 " in the host's records",
				      handle);
		return linux_teardown(m, cpu, v, ret, err);
	}
	int rc = call_unloaded(m, cpu, handle, HS_HC_teardown_vm, ret, &v, err);
	if (!rc && !*ret && v) {
		free(v->maps);
		memset(v, 0, sizeof(*v));
	}
	return rc;
}

bool hs_vm_info(const struct hs_machine *m, uint64_t handle, struct hs_vm_info *info)
{
	struct hs_vm_rec *v = find((struct hs_machine *)m, handle);
	if (!v)
		return false;
	*info = v->info;
	return true;
}

size_t hs_vm_gone(const struct hs_machine *m, struct hs_lx_vm **out, size_t max)
{
	const struct hs_vm_records *r = hs_host_of(m)->vms;
	size_t n = 0;
	for (; r && n < r->nr_gone && n < max; n++)
		out[n] = r->gone[n];
	return n;
}

struct hs_lx_vm *hs_vm_linux(const struct hs_machine *m, uint64_t handle)
{
	struct hs_vm_rec *v = find((struct hs_machine *)m, handle);
	return v ? v->lx : NULL;
}

size_t hs_vm_list(const struct hs_machine *m, uint64_t *handles, size_t max)
{
	const struct hs_vm_records *r = hs_host_of(m)->vms;
	size_t n = 0;
	for (int i = 0; r && i < HS_MAX_VMS && n < max; i++)
		if (r->vms[i].info.handle)
			handles[n++] = r->vms[i].info.handle;
	return n;
}

int hs_vm_regs(struct hs_machine *m, uint64_t handle, uint64_t *vttbr, uint64_t *vtcr,
	       struct hs_error *err)
{
	if (hs_linux_image(m))
		return hs_lx_vm_regs(m, handle, vttbr, vtcr, err);
	uint64_t sym, table_va;
	int rc = hs_sym_pa(m, "hyp_vm_table", &sym, err);
	if (rc || (rc = hs_phys_read(m, sym, &table_va, 8, err)))
		return rc;
	if (!table_va || handle < HS_VM_HANDLE_OFFSET || handle >= HS_VM_HANDLE_OFFSET + HS_MAX_VMS)
		return hs_err(err, -ENOENT, "no VM %#" PRIx64, handle);
	uint64_t vm_va;
	uint64_t slot = hs_layout_pa(&m->layout, table_va) + (handle - HS_VM_HANDLE_OFFSET) * 8;
	if ((rc = hs_phys_read(m, slot, &vm_va, 8, err)))
		return rc;
	if (!vm_va)
		return hs_err(err, -ENOENT, "no VM %#" PRIx64 " in the hypervisor's VM table",
			      handle);
	struct hs_vm_layout vm;
	if ((rc = hs_phys_read(m, hs_layout_pa(&m->layout, vm_va), &vm, sizeof(vm), err)))
		return rc;
	*vttbr = vm.vttbr;
	*vtcr = vm.vtcr;
	return 0;
}

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

struct check_walk {
	struct hs_vm_rec *v;
	struct hs_strbuf *sb;
	bool *seen; /* per record entry: the stage 2 maps it */
	int mismatches;
};

static int check_leaf(const struct hs_pt_visit_ctx *ctx)
{
	struct check_walk *w = ctx->arg;
	uint64_t oa = hs_pt_desc_oa(ctx->regime, ctx->desc);
	for (uint64_t off = 0; off < ctx->size; off += HS_PAGE_SIZE) {
		uint64_t gfn = (ctx->addr + off) >> HS_PAGE_SHIFT,
			 pfn = (oa + off) >> HS_PAGE_SHIFT;
		bool found = false;
		for (size_t i = 0; i < w->v->info.nr_maps; i++) {
			if (w->v->maps[i].gfn != gfn)
				continue;
			found = true;
			w->seen[i] = true;
			if (w->v->maps[i].pfn != pfn) {
				w->mismatches++;
				hs_sb_printf(w->sb,
					     "gfn %#" PRIx64 ": host records pfn %#" PRIx64
					     ", stage 2 maps pfn %#" PRIx64 "\n",
					     gfn, w->v->maps[i].pfn, pfn);
			}
		}
		if (!found) {
			w->mismatches++;
			hs_sb_printf(w->sb,
				     "gfn %#" PRIx64 " -> pfn %#" PRIx64
				     ": mapped in the guest stage 2, not in the host's record\n",
				     gfn, pfn);
		}
	}
	return 0;
}

int hs_vm_check(struct hs_machine *m, uint64_t handle, struct hs_strbuf *sb, struct hs_error *err)
{
	struct hs_vm_rec *v = find(m, handle);
	if (!v)
		return hs_err(err, -ENOENT, "no VM %#" PRIx64 " in the host's records", handle);
	uint64_t vttbr, vtcr;
	int rc = hs_vm_regs(m, handle, &vttbr, &vtcr, err);
	if (rc)
		return rc;
	struct hs_pt_regime r;
	char msg[160];
	if (hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)))
		return hs_err(err, -EINVAL, "VM %#" PRIx64 ": %s", handle, msg);
	struct hs_phys phys = {.read = phys_read, .ud = m};
	bool *seen = calloc(v->info.nr_maps ? v->info.nr_maps : 1, sizeof(*seen));
	if (!seen)
		return hs_err(err, -ENOMEM, "out of memory");
	struct check_walk w = {.v = v, .sb = sb, .seen = seen};
	/* Leaves, valid or not young: an access-flag fault still maps the page. */
	struct hs_pt_visitor vis = {.cb = check_leaf, .arg = &w, .flags = HS_PT_VISIT_LEAF};
	if ((rc = hs_pt_walk(&phys, &r, 0, 1ULL << r.ia_bits, &vis)) < 0) {
		free(seen);
		return hs_err(err, rc, "walking VM %#" PRIx64 "'s stage 2 failed", handle);
	}
	/* And every recorded gfn must be mapped. */
	for (size_t i = 0; i < v->info.nr_maps; i++) {
		if (seen[i])
			continue;
		w.mismatches++;
		hs_sb_printf(sb,
			     "gfn %#" PRIx64 ": recorded -> pfn %#" PRIx64
			     ", but the stage 2 does not map it\n",
			     v->maps[i].gfn, v->maps[i].pfn);
	}
	free(seen);
	return w.mismatches;
}

struct hs_vm_records *hs_vm_records_copy(const struct hs_vm_records *r)
{
	if (!r)
		return NULL;
	struct hs_vm_records *n = malloc(sizeof(*n));
	if (!n)
		return NULL;
	*n = *r;
	n->guest_code = NULL;
	n->gone = NULL;
	n->nr_gone = 0;
	for (int i = 0; i < HS_MAX_VMS; i++) {
		n->vms[i].maps = NULL;
		n->vms[i].info.maps = NULL;
		n->vms[i].lx = NULL;
	}
	bool ok = true;
	/* Linux's VMs: what the host gave each, the live ones and the torn-down ones. */
	for (int i = 0; i < HS_MAX_VMS && ok; i++)
		if (r->vms[i].lx)
			ok = (n->vms[i].lx = hs_lx_vm_copy(r->vms[i].lx)) != NULL;
	if (ok && r->nr_gone) {
		n->gone = calloc(r->nr_gone, sizeof(*n->gone));
		ok = n->gone != NULL;
		for (size_t i = 0; ok && i < r->nr_gone; i++, n->nr_gone++)
			ok = (n->gone[i] = hs_lx_vm_copy(r->gone[i])) != NULL;
	}
	if (ok && r->guest_code_len)
		ok = (n->guest_code = guest_code_dup(r->guest_code, r->guest_code_len)) != NULL;
	for (int i = 0; i < HS_MAX_VMS && ok; i++) {
		if (!r->vms[i].maps || !r->vms[i].cap)
			continue;
		n->vms[i].maps = malloc(r->vms[i].cap * sizeof(*n->vms[i].maps));
		ok = n->vms[i].maps != NULL;
		if (ok)
			memcpy(n->vms[i].maps, r->vms[i].maps,
			       r->vms[i].cap * sizeof(*n->vms[i].maps));
		n->vms[i].info.maps = n->vms[i].maps;
	}
	if (!ok) {
		hs_vm_records_release(n);
		return NULL;
	}
	return n;
}

void hs_vm_records_release(struct hs_vm_records *r)
{
	if (!r)
		return;
	for (int i = 0; i < HS_MAX_VMS; i++) {
		free(r->vms[i].maps);
		hs_lx_vm_free(r->vms[i].lx);
	}
	for (size_t i = 0; i < r->nr_gone; i++)
		hs_lx_vm_free(r->gone[i]);
	free(r->gone);
	free(r->guest_code);
	free(r);
}

bool hs_vm_records_linux(const struct hs_vm_records *r)
{
	for (int i = 0; r && i < HS_MAX_VMS; i++)
		if (r->vms[i].lx)
			return true;
	return r && r->nr_gone;
}

/*
 * Saved machines: per VM slot its record (hs_vm_info without the pointer)
 * and its mappings, then the guest program the host loaded (if any).
 */
void hs_vm_records_encode(const struct hs_vm_records *r, struct hs_bytes *b)
{
	uint32_t sizes[3] = {HS_MAX_VMS, sizeof(struct hs_vm_info), sizeof(struct hs_vm_map)};
	hs_bytes_put(b, sizes, sizeof(sizes));
	for (int i = 0; i < HS_MAX_VMS; i++) {
		struct hs_vm_info info = r->vms[i].info;
		info.maps = NULL;
		hs_bytes_put(b, &info, sizeof(info));
		hs_bytes_put(b, r->vms[i].maps, info.nr_maps * sizeof(struct hs_vm_map));
	}
	uint64_t len = r->guest_code_len;
	hs_bytes_put(b, &len, sizeof(len));
	hs_bytes_put(b, r->guest_code, r->guest_code_len);
	/* Linux's hypervisor: the host's struct kvm and what it gave, per slot and torn down. */
	for (int i = 0; i < HS_MAX_VMS; i++) {
		uint8_t has = r->vms[i].lx != NULL;
		hs_bytes_put(b, &has, 1);
		if (has)
			hs_lx_vm_encode(r->vms[i].lx, b);
	}
	uint64_t gone = r->nr_gone;
	hs_bytes_put(b, &gone, sizeof(gone));
	for (size_t i = 0; i < r->nr_gone; i++)
		hs_lx_vm_encode(r->gone[i], b);
}

struct hs_vm_records *hs_vm_records_decode(struct hs_bytes_in *in, struct hs_error *err)
{
	uint32_t sizes[3];
	hs_bytes_get(in, sizes, sizeof(sizes));
	if (sizes[0] != HS_MAX_VMS || sizes[1] != sizeof(struct hs_vm_info) ||
	    sizes[2] != sizeof(struct hs_vm_map)) {
		hs_err(err, -EINVAL, "the host's VM records are of another hypscope build");
		return NULL;
	}
	struct hs_vm_records *r = calloc(1, sizeof(*r));
	if (!r) {
		hs_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	for (int i = 0; i < HS_MAX_VMS && !in->short_read; i++) {
		struct hs_vm_rec *v = &r->vms[i];
		hs_bytes_get(in, &v->info, sizeof(v->info));
		v->info.maps = NULL;
		size_t n = v->info.nr_maps;
		if (n > (in->len - in->off) / sizeof(struct hs_vm_map)) {
			in->short_read = true;
			break;
		}
		if (n) {
			v->maps = malloc(n * sizeof(*v->maps));
			if (!v->maps)
				break;
			hs_bytes_get(in, v->maps, n * sizeof(*v->maps));
			v->cap = n;
			v->info.maps = v->maps;
		}
	}
	uint64_t len = 0;
	hs_bytes_get(in, &len, sizeof(len));
	if (!in->short_read && len) {
		if (len > in->len - in->off || len > HS_PAGE_SIZE ||
		    !(r->guest_code = guest_code_dup(in->p + in->off, len))) {
			in->short_read = true;
		} else {
			in->off += len;
			r->guest_code_len = len;
		}
	}
	for (int i = 0; i < HS_MAX_VMS && !in->short_read; i++) {
		uint8_t has = 0;
		hs_bytes_get(in, &has, 1);
		if (has > 1)
			in->short_read = true;
		else if (has && !(r->vms[i].lx = hs_lx_vm_decode(in, err)))
			goto bad;
	}
	uint64_t gone = 0;
	hs_bytes_get(in, &gone, sizeof(gone));
	/* Each record takes more than 8 bytes: a count past that is corrupt. */
	if (!in->short_read && gone) {
		if (gone > (in->len - in->off) / 8 || !(r->gone = calloc(gone, sizeof(*r->gone))))
			in->short_read = true;
		for (; !in->short_read && r->nr_gone < gone; r->nr_gone++)
			if (!(r->gone[r->nr_gone] = hs_lx_vm_decode(in, err)))
				goto bad;
	}
	if (in->short_read) {
		hs_err(err, -EINVAL, "the host's VM records are cut short");
		goto bad;
	}
	return r;
bad:
	hs_vm_records_release(r);
	return NULL;
}
