/* SPDX-License-Identifier: MIT */
/*
 * Booting Linux's nVHE hypervisor in protected mode, playing Linux's host:
 *
 * firmware     every CPU enters the host kernel's EL2 entry (the hyp stub) and drops to
 *              EL1; then the kernel's early boot: kvm_compute_layout, alternatives,
 *              jump labels, kvm_apply_hyp_relocations (linux_patch.c);
 * reserve      kvm_hyp_reserve: hyp_memory[] and the pool with Linux's sizing;
 * boot-tables  init_hyp_mode: per-CPU stacks and regions, the boot EL2 stage 1 (idmap,
 *              text, rodata, bss, stacks, per-CPU, pool), cpu_prepare_hyp_mode's init
 *              params, kvm_hyp_init_symbols, the PSCI relay config, the CPU map;
 * hyp-init     the boot CPU: HVC_SET_VECTORS to __kvm_hyp_init, __kvm_hyp_init(params);
 * pkvm-init    __pkvm_init(pool, size, nr_cpus, per_cpu_base, hyp_va_bits), the boot
 *              CPU's __pkvm_cpu_set_vector; then every other CPU the way
 *              kvm_arch_enable_virtualization_cpu brings it up (reset the stub's
 *              vectors, set them, __kvm_hyp_init with params that now hold the
 *              hypervisor's own table, __pkvm_cpu_set_vector);
 * finalize     finalize_pkvm: kvm_protected_mode_initialized on (its jump labels
 *              patched while the host may still write the hypervisor's text), then
 *              __pkvm_prot_finalize on every CPU;
 * free         free_hyp_pgds.
 */
#include "linux_boot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot_util.h"
#include "checkpoint.h"
#include "host.h"
#include "host_boot.h"
#include "image_dwarf.h"
#include "machine_priv.h"
#include "write_log.h"

#define LX_MAX_HC 96
#define SMCCC_FN_BASE 0xC6000000ULL /* fast, SMC64, vendor-specific hypervisor service */
#define HVC_SET_VECTORS 0
#define HVC_RESET_VECTORS 2
/* asm/kvm_arm.h: HCR_HOST_NVHE_FLAGS (RW | API | APK | ATA) | TSC for protected mode */
#define HCR_HOST_NVHE_PROTECTED_FLAGS \
	((1ULL << 31) | (1ULL << 41) | (1ULL << 40) | (1ULL << 56) | (1ULL << 19))
/* arch/arm64/mm/proc.S MAIR_EL1_SET: Normal (0), Normal tagged as Normal (1), Normal-NC
 * (2), Device-nGnRnE (3), Device-nGnRE (4) — the host's MAIR_EL1, copied to EL2. */
#define LX_MAIR 0x000000040044ffffULL

struct lx_hc {
	char name[64];
	int64_t id;
};

struct hs_linux {
	struct hs_dwarf *dw;
	struct hs_lx_caps caps;
	struct hs_lx_cpu cpu;
	struct hs_lx_layout layout;
	struct hs_lx_spectre spectre;
	struct hs_patch_log log;
	struct lx_hc hc[LX_MAX_HC];
	unsigned nhc;
	uint64_t io_map_base; /* the host's private VA allocator, downwards from the idmap */
	uint64_t percpu_pa[HS_MAX_CPUS], percpu_size;
	uint64_t params_pa[HS_MAX_CPUS];
};

bool hs_linux_image(const struct hs_machine *m)
{
	return hs_image_symbol(m->img, "__kvm_nvhe___pkvm_init") &&
	       hs_image_symbol(m->img, "__kvm_nvhe___kvm_hyp_init");
}

static struct hs_linux *lx_of(const struct hs_machine *m)
{
	return hs_host_of(m)->lx;
}

static void add_hc(void *ud, const char *name, int64_t value);

/*
 * The Linux host state, made on first use from the image: its cpucap list (the
 * .hypscope.cpucaps note), its DWARF, its hypercall table (enum __kvm_host_smccc_func).
 * NULL with *err filled when the image lacks one of them.
 */
static struct hs_linux *lx_get(const struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	if (h->lx)
		return h->lx;
	struct hs_linux *lx = calloc(1, sizeof(*lx));
	if (!lx) {
		hs_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	size_t len = 0;
	const char *caps = hs_image_section(m->img, ".hypscope.cpucaps", &len);
	int rc = 0;
	if (!caps)
		rc = hs_err(err, -EINVAL,
			    "%s has no .hypscope.cpucaps note: link it with scripts/linux-hyp, "
			    "which records the build's cpucaps",
			    m->img->path);
	if (!rc)
		rc = hs_lx_caps_parse(caps, len, &lx->caps, err);
	if (!rc)
		rc = hs_dwarf_open(m->img, &lx->dw, err);
	/* kvm_asm.h: __kvm_hyp_init is a #define (0) outside the enum, so not in DWARF. */
	add_hc(lx, "__KVM_HOST_SMCCC_FUNC___kvm_hyp_init", 0);
	if (!rc && (rc = hs_dwarf_enum_each(lx->dw, "__kvm_host_smccc_func", add_hc, lx, err)) > 0)
		rc = 0;
	if (rc) {
		hs_dwarf_close(lx->dw);
		hs_lx_caps_free(&lx->caps);
		free(lx);
		return NULL;
	}
	return h->lx = lx;
}

void hs_linux_free(struct hs_machine *m)
{
	struct hs_linux *lx = lx_of(m);
	if (!lx)
		return;
	hs_dwarf_close(lx->dw);
	hs_lx_caps_free(&lx->caps);
	hs_patch_log_free(&lx->log);
	free(lx);
	hs_host_of(m)->lx = NULL;
}

const struct hs_patch_log *hs_linux_patches(const struct hs_machine *m)
{
	struct hs_linux *lx = lx_of(m);
	return lx && lx->log.n ? &lx->log : NULL;
}

static void add_hc(void *ud, const char *name, int64_t value)
{
	struct hs_linux *lx = ud;
	const char *prefix = "__KVM_HOST_SMCCC_FUNC_";
	/* Calls are __KVM_HOST_SMCCC_FUNC___name; markers (..._FUNC_PKVM_ONLY ...) are not. */
	if (lx->nhc == LX_MAX_HC || strncmp(name, prefix, strlen(prefix)) ||
	    strncmp(name + strlen(prefix), "__", 2))
		return;
	snprintf(lx->hc[lx->nhc].name, sizeof(lx->hc[0].name), "%s", name + strlen(prefix));
	lx->hc[lx->nhc++].id = value;
}

const char *hs_linux_hypercall_name(const struct hs_machine *m, uint64_t fn)
{
	struct hs_linux *lx = lx_get(m, NULL);
	for (unsigned i = 0; lx && i < lx->nhc; i++)
		if ((SMCCC_FN_BASE | (uint64_t)lx->hc[i].id) == fn)
			return lx->hc[i].name;
	return NULL;
}

int64_t hs_linux_hypercall_by_name(const struct hs_machine *m, const char *name)
{
	struct hs_linux *lx = lx_get(m, NULL);
	for (unsigned i = 0; lx && i < lx->nhc; i++)
		if (!strcmp(lx->hc[i].name, name))
			return (int64_t)(SMCCC_FN_BASE | (uint64_t)lx->hc[i].id);
	return -1;
}

int hs_linux_hypercall_nargs(const struct hs_machine *m, uint64_t fn)
{
	const char *name = hs_linux_hypercall_name(m, fn);
	const char *pn[8];
	if (!name)
		return -1;
	if (!strcmp(name, "__kvm_hyp_init"))
		return 1; /* the init vectors take the params' PA in x1 */
	/* The C function the handler calls has the same name (hyp-main.c's handle___X). */
	int n = hs_dwarf_func_params(lx_of(m)->dw, name, pn, 8, NULL);
	return n < 0 ? -1 : n;
}

struct hs_dwarf *hs_linux_dwarf(const struct hs_machine *m, struct hs_error *err)
{
	struct hs_linux *lx = lx_get(m, err);
	return lx ? lx->dw : NULL;
}

const struct hs_lx_layout *hs_linux_layout(const struct hs_machine *m)
{
	return &lx_of(m)->layout;
}

const struct hs_lx_cpu *hs_linux_cpu(const struct hs_machine *m)
{
	return &lx_of(m)->cpu;
}

void hs_linux_kernel_name(const struct hs_machine *m, char *buf, size_t len)
{
	hs_image_kernel(m->img, buf, len);
	if (!*buf)
		snprintf(buf, len, "Linux");
}

int hs_linux_boot(struct hs_machine *m, const char *until, struct hs_stop *stop,
		  struct hs_error *err)
{
	return hs_boot_run(m, until, hs_linux_boot_advance, stop, err);
}

static int hc_fn(struct hs_linux *lx, const char *name, uint64_t *fn, struct hs_error *err)
{
	for (unsigned i = 0; i < lx->nhc; i++)
		if (!strcmp(lx->hc[i].name, name)) {
			*fn = SMCCC_FN_BASE | (uint64_t)lx->hc[i].id;
			return 0;
		}
	return hs_err(err, -ENOENT, "enum __kvm_host_smccc_func has no %s", name);
}

/* ---- the emulated CPU, as the host's cpufeature code reads it ---------------- */

static void read_cpu(struct hs_machine *m, struct hs_lx_cpu *c)
{
	uc_engine *uc = m->cpus[0].uc;
	/* ID registers the CPU model does not know read as zero, as unallocated ID space does. */
	c->midr = hs_quirk_cp_read(uc, 3, 0, 0, 0, 0);
	c->ctr = hs_quirk_cp_read(uc, 3, 3, 0, 0, 1);
	c->pfr0 = hs_quirk_cp_read(uc, 3, 0, 0, 4, 0);
	c->pfr1 = hs_quirk_cp_read(uc, 3, 0, 0, 4, 1);
	c->pfr2 = hs_quirk_cp_read(uc, 3, 0, 0, 4, 2);
	c->isar0 = hs_quirk_cp_read(uc, 3, 0, 0, 6, 0);
	c->isar1 = hs_quirk_cp_read(uc, 3, 0, 0, 6, 1);
	c->isar2 = hs_quirk_cp_read(uc, 3, 0, 0, 6, 2);
	c->mmfr0 = hs_quirk_cp_read(uc, 3, 0, 0, 7, 0);
	c->mmfr1 = hs_quirk_cp_read(uc, 3, 0, 0, 7, 1);
	c->mmfr2 = hs_quirk_cp_read(uc, 3, 0, 0, 7, 2);
	c->mmfr3 = hs_quirk_cp_read(uc, 3, 0, 0, 7, 3);
	c->dfr0 = hs_quirk_cp_read(uc, 3, 0, 0, 5, 0);
	/* The firmware (firmware.c) answers PSCI only: no SMCCC 1.1, no ARCH_WORKAROUNDs. */
	c->smccc_1_1 = false;
}

/* ---- patching (the kernel's early boot) ---------------------------------- */

static const char *symname(void *ud, uint64_t addr, uint64_t *off)
{
	const struct hs_machine *m = ud;
	const struct hs_symbol *s = hs_image_symbolize(m->img, addr, off);
	return s ? s->name : NULL;
}

static int need_sym(struct hs_machine *m, const char *name, uint64_t *addr, struct hs_error *err)
{
	*addr = hs_link_sym(m, name);
	return *addr ? 0 : hs_err(err, -ENOENT, "the image has no symbol %s", name);
}

/*
 * Store patched code. While every CPU is in the host at EL1 with its MMU and stage 2 off,
 * each engine translates a PA to itself, and Unicorn invalidates translated blocks by
 * physical page: dropping just these bytes' blocks is exact, also for blocks translated
 * at their HYP VAs. (hs_phys_write's global flush for code would reset each engine's
 * whole translation buffer: a 1 GiB memset per CPU.) Otherwise, the global flush.
 */
static int write_code(struct hs_machine *m, uint64_t pa, const void *buf, size_t len,
		      struct hs_error *err)
{
	for (unsigned i = 0; i < m->nr_cpus; i++) {
		struct hs_cpu *c = &m->cpus[i];
		if (hs_cpu_el(c) != 1 || (hs_cpu_sr(c, HS_SR_SCTLR_EL1) & 1) ||
		    (hs_cpu_sr(c, HS_SR_HCR_EL2) & 1))
			return hs_phys_write(m, pa, buf, len, err);
	}
	void *dst = hs_phys_ptr(m, pa, len);
	if (!dst)
		return hs_err(err, -EFAULT, "[%#" PRIx64 ", +%#zx) is not RAM", pa, len);
	memcpy(dst, buf, len);
	hs_write_log_mark(m, pa, len);
	for (unsigned i = 0; i < m->nr_cpus; i++)
		uc_ctl_remove_cache(m->cpus[i].uc, pa, pa + len);
	return 0;
}

/* Patch a copy of the loaded image, then write it back: all sites or none. */
static int patch_image(struct hs_machine *m, uint64_t only_key, struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	const struct hs_image *img = m->img;
	uint64_t base = img->link_base, size = img->link_end - img->link_base;
	uint8_t *copy = malloc(size);
	if (!copy)
		return hs_err(err, -ENOMEM, "out of memory");
	int rc = hs_phys_read(m, hs_link_to_pa(m, base), copy, size, err);
	struct hs_lx_buf buf = {copy, base, size};
	struct hs_lx_patch_ctx c = {&buf, &lx->caps, &lx->cpu, &lx->layout, symname, m, &lx->log};
	uint64_t a0, a1, j0, j1, r0, r1;
	if (!rc && !(rc = need_sym(m, "__start___jump_table", &j0, err)) &&
	    !(rc = need_sym(m, "__stop___jump_table", &j1, err))) {
		if (only_key)
			rc = hs_lx_apply_jump_labels(&c, j0, j1, only_key, err);
		else if (!(rc = need_sym(m, "__alt_instructions", &a0, err)) &&
			 !(rc = need_sym(m, "__alt_instructions_end", &a1, err)) &&
			 !(rc = need_sym(m, "__hyp_reloc_begin", &r0, err)) &&
			 !(rc = need_sym(m, "__hyp_reloc_end", &r1, err)) &&
			 !(rc = hs_lx_apply_alternatives(&c, a0, a1, err)) &&
			 !(rc = hs_lx_apply_jump_labels(&c, j0, j1, 0, err)))
			rc = hs_lx_apply_hyp_relocs(&c, r0, r1, err);
	}
	if (!rc)
		rc = write_code(m, hs_link_to_pa(m, base), copy, size, err);
	free(copy);
	return rc;
}

/*
 * What the kernel's early boot derives from the CPU and the machine: its CPU view, the
 * Spectre decisions, kvm_compute_layout. A loaded machine derives it again (saved
 * machines carry none of it).
 */
static int derive_layout(struct hs_machine *m, struct hs_linux *lx, struct hs_error *err)
{
	const struct hs_layout *hl = &m->layout;
	read_cpu(m, &lx->cpu);
	hs_lx_spectre_state(&lx->cpu, &lx->spectre);
	struct hs_lx_layout *l = &lx->layout;
	hs_lx_layout_compute(hl->memstart, m->opts.ram_base + m->opts.ram_size - hl->memstart,
			     hl->idmap_pa, hl->va_bits, l);
	l->kimage_voffset = -m->load_bias; /* kernel image VA (link address) - PA */
	l->protected_mode = true;
	l->bhb_mitigation_config = true; /* defconfig: CONFIG_MITIGATE_SPECTRE_BRANCH_HISTORY=y */
	int rc = need_sym(m, "__kvm_nvhe___kvm_hyp_vector", &l->hyp_vector_kva, err);
	if (rc)
		return rc;
	/* The machine's shadow regions follow its own layout: it must be Linux's. */
	uint64_t probe = m->opts.ram_base + m->opts.ram_size - HS_PAGE_SIZE;
	if (hs_lx_pa_to_hyp_va(l, probe) != hs_layout_hyp_va(hl, probe))
		return hs_err(err, -EINVAL,
			      "Linux's kern_hyp_va (%#" PRIx64
			      ") and the machine's layout (%#" PRIx64 ") disagree for %#" PRIx64,
			      hs_lx_pa_to_hyp_va(l, probe), hs_layout_hyp_va(hl, probe), probe);
	return 0;
}

static int step_firmware_done(struct hs_machine *m, struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	const struct hs_lx_layout *l = &lx->layout;
	int rc = derive_layout(m, lx, err);
	if (rc)
		return rc;
	if ((rc = patch_image(m, 0, err)))
		return hs_err_prefix(err, "patching Linux's hypervisor");
	/* init_hyp_physvirt_offset */
	uint64_t text;
	if ((rc = need_sym(m, "__hyp_text_start", &text, err)))
		return rc;
	int64_t physvirt = (int64_t)hs_link_to_pa(m, text) - (int64_t)hs_lx_kimg_to_hyp_va(l, text);
	if ((rc = hs_write_sym(m, "__kvm_nvhe_hyp_physvirt_offset", &physvirt, 8, err)))
		return rc;
	size_t n[4] = {0}, changed = 0;
	for (size_t i = 0; i < lx->log.n; i++) {
		n[lx->log.v[i].kind]++;
		changed += lx->log.v[i].changed;
	}
	char detail[200];
	snprintf(detail, sizeof(detail),
		 "every CPU is in the host at EL1; patched %zu alternatives, %zu callbacks, %zu "
		 "jump labels, %zu relocations (%zu sites changed)",
		 n[HS_PATCH_ALT], n[HS_PATCH_CALLBACK], n[HS_PATCH_JUMP], n[HS_PATCH_RELOC],
		 changed);
	hs_boot_emit_step(m, HS_BOOT_FIRMWARE, detail);
	return 0;
}

/* ---- kvm_hyp_reserve ------------------------------------------------------- */

/*
 * kvm_pkvm.h __hyp_pgtable_max_pages: KVM_PGTABLE_FIRST_LEVEL (-1) .. LAST_LEVEL (3);
 * 6.1: KVM_PGTABLE_MAX_LEVELS (4), from level 0.
 */
static uint64_t pgtable_levels_max_pages(uint64_t nr_pages, int first)
{
	uint64_t total = 0;
	for (int level = first; level <= 3; level++) {
		nr_pages = (nr_pages + 511) / 512;
		total += nr_pages;
	}
	return total;
}

static uint64_t pgtable_max_pages(uint64_t nr_pages)
{
	return pgtable_levels_max_pages(nr_pages, -1);
}

/*
 * 6.1's kvm_hyp_reserve (pkvm.c): 4-level tables, no VM table, no FF-A proxy, and a
 * vmemmap for the pool's own pages only (a fixed point: those pages are in the pool).
 */
static uint64_t reserve_pages_6_1(uint64_t pages, uint64_t hyp_page, char *detail, size_t len)
{
	uint64_t total = pgtable_levels_max_pages(pages, 0);
	uint64_t gib = pgtable_levels_max_pages((1ULL << 30) >> HS_PAGE_SHIFT, 0);
	uint64_t s1 = total + gib, s2 = total + 16 + gib, mem = s1 + s2, nr = 0, prev;
	do {
		prev = nr;
		nr = ((mem + prev) * hyp_page + 4095) / 4096;
		nr += pgtable_levels_max_pages(nr, 0);
	} while (nr != prev);
	snprintf(detail, len, "s1 %" PRIu64 " + host s2 %" PRIu64 " + vmemmap %" PRIu64, s1, s2,
		 nr);
	return mem + nr;
}

static int struct_size(struct hs_linux *lx, const char *name, uint64_t *size, struct hs_error *err)
{
	return hs_dwarf_struct_size(lx->dw, name, size, err);
}

static int step_reserve(struct hs_machine *m, struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	struct hs_host *h = hs_host_of(m);
	uint64_t region_size, off_base, off_size, hyp_page, ffa[4];
	int rc;
	if ((rc = struct_size(lx, "memblock_region", &region_size, err)) ||
	    (rc = hs_dwarf_member_offset(lx->dw, "memblock_region", "base", &off_base, err)) ||
	    (rc = hs_dwarf_member_offset(lx->dw, "memblock_region", "size", &off_size, err)) ||
	    (rc = struct_size(lx, "hyp_page", &hyp_page, err)))
		return rc;
	/* 6.1 has no FF-A proxy (ffa.c came in 6.2): its own sizing */
	bool v6_1 = struct_size(lx, "ffa_mem_region", &ffa[0], NULL) != 0;
	if (!v6_1 && ((rc = struct_size(lx, "ffa_mem_region", &ffa[0], err)) ||
		      (rc = struct_size(lx, "ffa_mem_region_attributes", &ffa[1], err)) ||
		      (rc = struct_size(lx, "ffa_composite_mem_region", &ffa[2], err)) ||
		      (rc = struct_size(lx, "ffa_mem_region_addr_range", &ffa[3], err))))
		return rc;
	/* register_memblock_regions: one memblock region, the whole of RAM. */
	uint8_t region[64] = {0};
	if (region_size > sizeof(region))
		return hs_err(err, -EINVAL, "struct memblock_region is %" PRIu64 " bytes",
			      region_size);
	uint64_t base = m->opts.ram_base, size = m->opts.ram_size;
	uint32_t nr = 1;
	memcpy(region + off_base, &base, 8);
	memcpy(region + off_size, &size, 8);
	if ((rc = hs_write_sym(m, "__kvm_nvhe_hyp_memory", region, region_size, err)) ||
	    (rc = hs_write_sym(m, "__kvm_nvhe_hyp_memblock_nr", &nr, 4, err)))
		return rc;
	uint64_t pages = size >> HS_PAGE_SHIFT, total = pgtable_max_pages(pages);
	uint64_t gib = pgtable_max_pages((1ULL << 30) >> HS_PAGE_SHIFT);
	uint64_t s1 = total + gib;		     /* hyp_s1_pgtable_pages */
	uint64_t s2 = total + 16 + gib;		     /* host_s2_pgtable_pages */
	uint64_t vm_table = (255 * 8 + 4095) / 4096; /* KVM_MAX_PVMS pointers */
	uint64_t vs = (base >> HS_PAGE_SHIFT) * hyp_page, ve = vs + pages * hyp_page;
	uint64_t vmemmap = (((ve + 4095) & ~4095ULL) - (vs & ~4095ULL)) >> HS_PAGE_SHIFT;
	/* hyp_ffa_proxy_pages: 2 mailbox pages + one fragmented descriptor of SG_MAX_SEGMENTS */
	uint64_t desc = ffa[0] + ffa[1] + ffa[2] + 2048 * ffa[3];
	uint64_t ffa_pages = 2 + (desc + 4095) / 4096;
	uint64_t want = (s1 + s2 + vm_table + vmemmap + ffa_pages) << HS_PAGE_SHIFT;
	char sizing[160];
	snprintf(sizing, sizeof(sizing),
		 "s1 %" PRIu64 " + host s2 %" PRIu64 " + vm table %" PRIu64 " + vmemmap %" PRIu64
		 " + ffa %" PRIu64,
		 s1, s2, vm_table, vmemmap, ffa_pages);
	if (v6_1)
		want = reserve_pages_6_1(pages, hyp_page, sizing, sizeof(sizing)) << HS_PAGE_SHIFT;
	const uint64_t pmd = 2ULL << 20;
	h->pool_size = (want + pmd - 1) & ~(pmd - 1);
	if ((rc = hs_memblock_alloc(m, h->pool_size, pmd, &h->pool_pa, err)))
		return hs_err_prefix(err, "reserving the hypervisor pool");
	char detail[240];
	snprintf(detail, sizeof(detail),
		 "pool %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " pages: %s, 2 MiB aligned)",
		 h->pool_pa, h->pool_pa + h->pool_size, h->pool_size >> HS_PAGE_SHIFT, sizing);
	hs_boot_emit_step(m, HS_BOOT_RESERVE, detail);
	return 0;
}

/* ---- init_hyp_mode ------------------------------------------------------------ */

#define PAGE_HYP (S1_ATTR_NORMAL | S1_SH_IS | S1_AP_RW | S1_XN)
#define PAGE_HYP_RO (S1_ATTR_NORMAL | S1_SH_IS | S1_AP_RO | S1_XN)
#define PAGE_HYP_EXEC (S1_ATTR_NORMAL | S1_SH_IS | S1_AP_RO)

/* create_hyp_mappings of a kernel range [start, end) (link addresses), page-rounded. */
static int map_kernel(struct hs_machine *m, const char *start, const char *end, uint64_t prot,
		      struct hs_error *err)
{
	uint64_t s, e;
	int rc;
	if ((rc = need_sym(m, start, &s, err)) || (rc = need_sym(m, end, &e, err)))
		return rc;
	s &= ~(HS_PAGE_SIZE - 1);
	e = (e + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	for (uint64_t a = s; a < e; a += HS_PAGE_SIZE)
		if ((rc = hs_boot_map_page(m, hs_lx_kimg_to_hyp_va(&lx_of(m)->layout, a),
					   hs_link_to_pa(m, a), prot, err)))
			return rc;
	return 0;
}

static int map_linear(struct hs_machine *m, uint64_t pa, uint64_t size, uint64_t prot,
		      struct hs_error *err)
{
	for (uint64_t off = 0; off < size; off += HS_PAGE_SIZE) {
		int rc = hs_boot_map_page(m, hs_lx_pa_to_hyp_va(&lx_of(m)->layout, pa + off),
					  pa + off, prot, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int member(struct hs_linux *lx, const char *s, const char *mb, uint64_t *off,
		  struct hs_error *err)
{
	return hs_dwarf_member_offset(lx->dw, s, mb, off, err);
}

static int put64(struct hs_machine *m, uint64_t pa, uint64_t v, struct hs_error *err)
{
	return hs_phys_write(m, pa, &v, 8, err);
}

/* cpu_prepare_hyp_mode */
static int prepare_params(struct hs_machine *m, unsigned cpu, uint64_t stack_va, uint64_t stack_pa,
			  uint64_t tpidr, struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	static const char *const f[] = {"mair_el2",	"tcr_el2",  "tpidr_el2",
					"stack_hyp_va", "stack_pa", "pgd_pa",
					"hcr_el2",	"vttbr",    "vtcr"};
	unsigned va_bits = m->opts.hyp_va_bits;
	uint64_t ips = lx->cpu.mmfr0 & 0xf; /* TCR_EL1.IPS as the host set it: PARange */
	/* tcr_el1 & TCR_EL2_MASK (TG0 4K, SH0 inner, ORGN0/IRGN0 WBWA) | RES1 | T0SZ | PS */
	uint64_t tcr = (3ULL << 12) | (1ULL << 10) | (1ULL << 8) | (1ULL << 31) | (1ULL << 23) |
		       (64 - va_bits) | ips << 16;
	uint64_t v[] = {LX_MAIR,
			tcr,
			tpidr,
			stack_va,
			stack_pa,
			hs_host_of(m)->boot_pgd_pa,
			HCR_HOST_NVHE_PROTECTED_FLAGS,
			0,
			0};
	for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t off;
		int rc = member(lx, "kvm_nvhe_init_params", f[i], &off, err);
		if (rc || (rc = put64(m, lx->params_pa[cpu] + off, v[i], err)))
			return rc;
	}
	return 0;
}

static uint64_t field(uint64_t v, unsigned shift)
{
	return (v >> shift) & 0xf;
}

/* kvm_hyp_init_symbols */
static int init_symbols(struct hs_machine *m, struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	const struct hs_lx_cpu *c = &lx->cpu;
	/* get_hyp_id_aa64pfr0_el1: CSV2 = Spectre-v2 unaffected, CSV3 = Meltdown unaffected
	 * (the A72 is not affected by Meltdown: proton-pack's safe list has all Cortex-A7x). */
	bool v2_unaffected = field(c->pfr0, 56) != 0;
	uint64_t pfr0 = (c->pfr0 & ~(0xfULL << 56) & ~(0xfULL << 60)) |
			(uint64_t)v2_unaffected << 56 | 1ULL << 60;
	struct {
		const char *sym;
		uint64_t v;
	} ids[] = {
	    {"id_aa64pfr0_el1_sys_val", pfr0},	    {"id_aa64pfr1_el1_sys_val", c->pfr1},
	    {"id_aa64pfr2_el1_sys_val", c->pfr2},   {"id_aa64isar0_el1_sys_val", c->isar0},
	    {"id_aa64isar1_el1_sys_val", c->isar1}, {"id_aa64isar2_el1_sys_val", c->isar2},
	    {"id_aa64mmfr0_el1_sys_val", c->mmfr0}, {"id_aa64mmfr1_el1_sys_val", c->mmfr1},
	    {"id_aa64mmfr2_el1_sys_val", c->mmfr2}, {"id_aa64smfr0_el1_sys_val", 0},
	};
	int rc;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (!hs_image_symbol(m->img, ids[i].sym))
			continue; /* not every version has every one */
		if ((rc = hs_write_sym(m, ids[i].sym, &ids[i].v, 8, err)))
			return rc;
	}
	/* __icache_flags: 0 for a PIPT I-cache (CTR_EL0.L1Ip = 3); kvm_arm_vmid_bits from
	 * ID_AA64MMFR1_EL1.VMIDBits (2 -> 16 bits, else 8). */
	uint64_t icache = ((c->ctr >> 14) & 3) == 3 ? 0 : 1;
	uint32_t vmid_bits = field(c->mmfr1, 4) == 2 ? 16 : 8;
	/* (6.1's hypervisor reads no __icache_flags) */
	if ((hs_image_symbol(m->img, "__kvm_nvhe___icache_flags") &&
	     (rc = hs_write_sym(m, "__kvm_nvhe___icache_flags", &icache, 8, err))) ||
	    (rc = hs_write_sym(m, "__kvm_nvhe_kvm_arm_vmid_bits", &vmid_bits, 4, err)))
		return rc;
	/* init_cpu_logical_map: MPIDR hwid of each CPU (Aff0 = the index here). */
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		uint64_t pa, hwid = cpu;
		if ((rc = hs_sym_pa(m, "__kvm_nvhe_hyp_cpu_logical_map", &pa, err)) ||
		    (rc = put64(m, pa + 8 * cpu, hwid, err)))
			return rc;
	}
	/* init_psci_relay: PSCI 1.0 (firmware.c), SMCCC 1.0 (no SMCCC_VERSION). */
	uint64_t pa, off;
	uint32_t version = 0x10000, smccc = 0x10000;
	if ((rc = hs_sym_pa(m, "__kvm_nvhe_kvm_host_psci_config", &pa, err)) ||
	    (rc = member(lx, "kvm_host_psci_config", "version", &off, err)) ||
	    (rc = hs_phys_write(m, pa + off, &version, 4, err)))
		return rc;
	/* 6.1's config has no smccc_version (the relay did not check it yet) */
	if (!member(lx, "kvm_host_psci_config", "smccc_version", &off, NULL) &&
	    (rc = hs_phys_write(m, pa + off, &smccc, 4, err)))
		return rc;
	return 0;
}

static int step_tables(struct hs_machine *m, struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	struct hs_host *h = hs_host_of(m);
	const struct hs_lx_layout *l = &lx->layout;
	int rc;
	/* kvm_mmu_init: the boot table, the idmap page identity-mapped, io_map_base there. */
	if ((rc = hs_boot_table_page(m, &h->boot_pgd_pa, err)))
		return rc;
	uint64_t i0, i1;
	if ((rc = need_sym(m, "__hyp_idmap_text_start", &i0, err)) ||
	    (rc = need_sym(m, "__hyp_idmap_text_end", &i1, err)))
		return rc;
	uint64_t idmap = hs_link_to_pa(m, i0) & ~(HS_PAGE_SIZE - 1);
	uint64_t idmap_end = (hs_link_to_pa(m, i1) + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1);
	for (uint64_t a = idmap; a < idmap_end; a += HS_PAGE_SIZE)
		if ((rc = hs_boot_map_page(m, a, a, PAGE_HYP_EXEC, err)))
			return rc;
	lx->io_map_base = idmap;
	/* Stacks and per-CPU regions. */
	uint64_t pc0, pc1, pcb;
	if ((rc = need_sym(m, "__kvm_nvhe___per_cpu_start", &pc0, err)) ||
	    (rc = need_sym(m, "__kvm_nvhe___per_cpu_end", &pc1, err)) ||
	    (rc = hs_sym_pa(m, "__kvm_nvhe_kvm_arm_hyp_percpu_base", &pcb, err)))
		return rc;
	lx->percpu_size = pc1 - pc0;
	uint64_t order_size = HS_PAGE_SIZE;
	while (order_size < lx->percpu_size)
		order_size *= 2;
	uint64_t params_off = hs_link_sym(m, "__kvm_nvhe_kvm_init_params") - pc0;
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		if ((rc = hs_memblock_alloc(m, HS_PAGE_SIZE, HS_PAGE_SIZE, &h->stack_pa[cpu],
					    err)) ||
		    (rc = hs_memblock_alloc(m, order_size, order_size, &lx->percpu_pa[cpu], err)))
			return rc;
		memcpy(hs_phys_ptr(m, lx->percpu_pa[cpu], lx->percpu_size),
		       hs_phys_ptr(m, hs_link_to_pa(m, pc0), lx->percpu_size), lx->percpu_size);
		/* kvm_arm_hyp_percpu_base[cpu] = the region's kernel linear VA */
		if ((rc = put64(m, pcb + 8 * cpu, lx->percpu_pa[cpu] - l->memstart + l->page_offset,
				err)))
			return rc;
		lx->params_pa[cpu] = h->params_pa[cpu] = lx->percpu_pa[cpu] + params_off;
	}
	h->percpu_pa = lx->percpu_pa[0];
	h->percpu_size = lx->percpu_size;
	/* 7.x: the host sets hyp_nr_cpus (6.x passes it to __pkvm_init, which sets it). */
	const char *pn[6];
	int np = hs_dwarf_func_params(lx->dw, "__pkvm_init", pn, 6, err);
	bool nr_arg = false;
	for (int i = 0; i < np; i++)
		nr_arg |= pn[i] && !strcmp(pn[i], "nr_cpus");
	if (np < 0)
		return np;
	uint64_t nr_cpus = m->nr_cpus;
	if (!nr_arg && (rc = hs_write_sym(m, "__kvm_nvhe_hyp_nr_cpus", &nr_cpus, 8, err)))
		return rc;
	/* The hyp code, its rodata, the kernel's rodata, hyp bss RW, the rest of bss RO. */
	if ((rc = map_kernel(m, "__hyp_text_start", "__hyp_text_end", PAGE_HYP_EXEC, err)) ||
	    (rc = map_kernel(m, "__hyp_rodata_start", "__hyp_rodata_end", PAGE_HYP_RO, err)) ||
	    (rc = map_kernel(m, "__start_rodata", "__end_rodata", PAGE_HYP_RO, err)) ||
	    (rc = map_kernel(m, "__hyp_bss_start", "__hyp_bss_end", PAGE_HYP, err)) ||
	    (rc = map_kernel(m, "__hyp_bss_end", "__bss_stop", PAGE_HYP_RO, err)))
		return rc;
	if (hs_link_sym(m, "__hyp_data_end") > hs_link_sym(m, "__hyp_data_start") &&
	    (rc = map_kernel(m, "__hyp_data_start", "__hyp_data_end", PAGE_HYP, err)))
		return rc;
	/* create_hyp_stack: two pages below io_map_base, the upper one mapped. */
	uint64_t tpl = hs_link_to_pa(m, pc0);
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		uint64_t sbase = (lx->io_map_base - 2 * HS_PAGE_SIZE) & ~(2 * HS_PAGE_SIZE - 1);
		lx->io_map_base = sbase;
		if ((rc = hs_boot_map_page(m, sbase + HS_PAGE_SIZE, h->stack_pa[cpu], PAGE_HYP,
					   err)) ||
		    (rc = map_linear(m, lx->percpu_pa[cpu],
				     (lx->percpu_size + HS_PAGE_SIZE - 1) & ~(HS_PAGE_SIZE - 1),
				     PAGE_HYP, err)) ||
		    (rc = prepare_params(m, cpu, sbase + 2 * HS_PAGE_SIZE, h->stack_pa[cpu],
					 lx->percpu_pa[cpu] - tpl, err)))
			return rc;
	}
	if ((rc = init_symbols(m, err)))
		return rc;
	/* kvm_hyp_init_protection: the pool, mapped for __pkvm_init to divide. */
	if ((rc = map_linear(m, h->pool_pa, h->pool_size, PAGE_HYP, err)))
		return rc;
	char detail[200];
	snprintf(detail, sizeof(detail),
		 "boot EL2 stage 1 at %#" PRIx64 " (%u pages); idmap page %#" PRIx64
		 "; kern_hyp_va: and #%#" PRIx64 ", tag %#" PRIx64,
		 h->boot_pgd_pa, h->nr_boot_table_pages, idmap, l->va_mask,
		 l->tag_val << l->tag_lsb);
	hs_boot_emit_step(m, HS_BOOT_TABLES, detail);
	return 0;
}

/* ---- hypercalls ----------------------------------------------------------------- */

static int linux_op_done(struct hs_machine *m, struct hs_host_op *op, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	const char *name = hs_linux_hypercall_name(m, op->fn);
	/* Stub calls and __kvm_hyp_init (the init vectors) return 0 in x0; calls through
	 * handle_host_hcall return SMCCC_RET_SUCCESS in x0 and their result in x1. */
	bool x1_result = name && strcmp(name, "__kvm_hyp_init");
	if (op->kind == HS_HOP_HVC && (op->x0 != 0 || (x1_result && op->x1 != 0)))
		return hs_err(err, -EIO,
			      "boot step %s: %s on cpu%u failed: x0=%#" PRIx64 " x1=%" PRId64,
			      hs_boot_step_name(h->boot_step),
			      name			  ? name
			      : op->fn == HVC_SET_VECTORS ? "HVC_SET_VECTORS"
							  : "HVC_RESET_VECTORS",
			      op->cpu, (uint64_t)op->x0, op->x1);
	h->boot_cpu_done++;
	return hs_linux_boot_advance(m, err);
}

static int hvc(struct hs_machine *m, unsigned cpu, uint64_t fn, const uint64_t *args,
	       unsigned nargs, struct hs_error *err)
{
	return hs_boot_start_hvc(m, cpu, fn, args, nargs, linux_op_done, err);
}

static int named_hvc(struct hs_machine *m, unsigned cpu, const char *name, const uint64_t *args,
		     unsigned nargs, struct hs_error *err)
{
	uint64_t fn = 0;
	int rc = hc_fn(lx_of(m), name, &fn, err);
	return rc ? rc : hvc(m, cpu, fn, args, nargs, err);
}

/*
 * One CPU's bring-up, call number `k` of it: [reset the stub's vectors,] set the vectors
 * to the idmap, __kvm_hyp_init, __pkvm_cpu_set_vector. Returns 1 when it has no call k.
 */
static int cpu_init_call(struct hs_machine *m, unsigned cpu, unsigned k, bool reset,
			 struct hs_error *err)
{
	struct hs_linux *lx = lx_of(m);
	if (!reset)
		k++;
	uint64_t a[1];
	switch (k) {
	case 0:
		a[0] = 0;
		return hvc(m, cpu, HVC_RESET_VECTORS, a, 1, err);
	case 1: {
		int rc = hs_sym_pa(m, "__kvm_nvhe___kvm_hyp_init", &a[0], err);
		return rc ? rc : hvc(m, cpu, HVC_SET_VECTORS, a, 1, err);
	}
	case 2:
		a[0] = lx->params_pa[cpu];
		return named_hvc(m, cpu, "__kvm_hyp_init", a, 1, err);
	default:
		return 1;
	}
}

static int set_vector_call(struct hs_machine *m, unsigned cpu, struct hs_error *err)
{
	uint64_t a[1] = {lx_of(m)->spectre.hyp_vector_slot};
	return named_hvc(m, cpu, "__pkvm_cpu_set_vector", a, 1, err);
}

/* finalize_pkvm: flip the host's static key while the hypervisor's text is writable. */
static int enable_protected_key(struct hs_machine *m, struct hs_error *err)
{
	uint64_t key;
	int rc = need_sym(m, "kvm_protected_mode_initialized", &key, err);
	uint32_t one = 1;
	if (rc || (rc = hs_phys_write(m, hs_link_to_pa(m, key), &one, 4, err)))
		return rc;
	return patch_image(m, key, err);
}

int hs_linux_boot_advance(struct hs_machine *m, struct hs_error *err)
{
	struct hs_host *h = hs_host_of(m);
	int rc;
	if (!lx_get(m, err))
		return err ? err->code : -EINVAL;
	for (;;) {
		if (h->boot_step == h->boot_until || h->boot_step == HS_BOOT_DONE)
			return 0;
		unsigned sub = h->boot_cpu_done;
		rc = 0;
		switch (h->boot_step) {
		case HS_BOOT_FIRMWARE:
			if (sub < m->nr_cpus) {
				struct hs_host_op op = {
				    .kind = HS_HOP_RESET, .cpu = sub, .done = linux_op_done};
				return hs_host_start_op(m, &op, err);
			}
			rc = step_firmware_done(m, err);
			break;
		case HS_BOOT_RESERVE:
			rc = step_reserve(m, err);
			break;
		case HS_BOOT_TABLES:
			rc = step_tables(m, err);
			break;
		case HS_BOOT_HYP_INIT:
			if ((rc = cpu_init_call(m, 0, sub, false, err)) <= 0)
				return rc;
			hs_boot_emit_step(m, HS_BOOT_HYP_INIT,
					  "cpu0 runs EL2 with its MMU on (the host's boot table)");
			rc = 0;
			break;
		case HS_BOOT_PKVM_INIT: {
			if (sub == 0) {
				uint64_t pcb;
				if ((rc = need_sym(m, "__kvm_nvhe_kvm_arm_hyp_percpu_base", &pcb,
						   err)))
					return rc;
				/* 6.x: (phys, size, nr_cpus, per_cpu_base, hyp_va_bits); 7.x drops
				 * nr_cpus: the arguments follow the parameters DWARF names. */
				const char *pn[6];
				int np =
				    hs_dwarf_func_params(lx_of(m)->dw, "__pkvm_init", pn, 6, err);
				if (np < 0)
					return np;
				uint64_t a[6];
				for (int i = 0; i < np; i++) {
					const char *p = pn[i] ? pn[i] : "?";
					a[i] = !strcmp(p, "phys")      ? h->pool_pa
					       : !strcmp(p, "size")    ? h->pool_size
					       : !strcmp(p, "nr_cpus") ? m->nr_cpus
					       : !strcmp(p, "per_cpu_base")
						   ? hs_lx_kimg_to_hyp_va(&lx_of(m)->layout, pcb)
					       : !strcmp(p, "hyp_va_bits") ? m->opts.hyp_va_bits
									   : UINT64_MAX;
					if (a[i] == UINT64_MAX)
						return hs_err(
						    err, -EINVAL,
						    "__pkvm_init has a parameter '%s' the "
						    "host does not know",
						    p);
				}
				return named_hvc(m, 0, "__pkvm_init", a, (unsigned)np, err);
			}
			if (sub == 1)
				return set_vector_call(m, 0, err);
			/* Secondary CPUs: 4 calls each (reset, set vectors, init, set vector). */
			unsigned k = sub - 2, cpu = 1 + k / 4;
			if (cpu < m->nr_cpus) {
				if (k % 4 == 3)
					return set_vector_call(m, cpu, err);
				return cpu_init_call(m, cpu, k % 4, true, err);
			}
			hs_boot_emit_step(
			    m, HS_BOOT_PKVM_INIT,
			    "the hypervisor runs on its own page table, on every CPU");
			break;
		}
		case HS_BOOT_FINALIZE:
			if (sub == 0 && (rc = enable_protected_key(m, err)))
				return rc;
			if (sub < m->nr_cpus)
				return named_hvc(m, sub, "__pkvm_prot_finalize", NULL, 0, err);
			h->finalized = true;
			hs_boot_emit_step(m, HS_BOOT_FINALIZE, "host stage 2 on, on every CPU");
			break;
		case HS_BOOT_FREE:
			h->boot_tables_freed = true;
			hs_boot_emit_step(m, HS_BOOT_FREE,
					  "free_hyp_pgds: the boot EL2 tables freed");
			break;
		default:
			return hs_err(err, -EINVAL, "bad boot step %d", h->boot_step);
		}
		if (rc)
			return rc;
		hs_boot_step_done(m);
	}
}

/* ---- info patches --------------------------------------------------------------- */

static const char *const kind_names[] = {"alternative", "callback", "jump label", "relocation"};

void hs_linux_patches_print(const struct hs_machine *m, bool all, struct hs_strbuf *sb)
{
	const struct hs_patch_log *log = hs_linux_patches(m);
	if (!log) {
		hs_sb_printf(sb, "no patches: %s\n",
			     hs_linux_image(m) ? "the boot has not run its firmware step yet"
					       : "not Linux's hypervisor");
		return;
	}
	size_t n[4] = {0}, ch[4] = {0};
	for (size_t i = 0; i < log->n; i++) {
		const struct hs_patch *p = &log->v[i];
		n[p->kind]++;
		ch[p->kind] += p->changed;
		if (!all)
			continue;
		char site[128];
		if (!hs_symbolize(m, hs_link_to_pa(m, p->site), site, sizeof(site)))
			snprintf(site, sizeof(site), "%#" PRIx64, p->site);
		hs_sb_printf(sb, "%-11s %#" PRIx64 " %-40s %-44s %s\n", kind_names[p->kind],
			     p->site, site, p->cause, p->what);
	}
	for (int k = 0; k < 4; k++)
		hs_sb_printf(sb, "%-12s %4zu sites, %4zu changed\n", kind_names[k], n[k], ch[k]);
}

/* ---- checkpoints (host_checkpoint.c) ------------------------------------------------- */

/* What the boot flow changes in the Linux host state; the rest is made from the image. */
struct hs_linux_state {
	bool made; /* the Linux host state existed */
	struct hs_lx_cpu cpu;
	struct hs_lx_layout layout;
	struct hs_lx_spectre spectre;
	struct hs_patch *log;
	size_t nlog;
	uint64_t io_map_base;
	uint64_t percpu_pa[HS_MAX_CPUS], percpu_size;
	uint64_t params_pa[HS_MAX_CPUS];
};

struct hs_linux_state *hs_linux_state_save(const struct hs_linux *lx)
{
	struct hs_linux_state *s = calloc(1, sizeof(*s));
	if (!s || !lx)
		return s;
	s->made = true;
	s->cpu = lx->cpu;
	s->layout = lx->layout;
	s->spectre = lx->spectre;
	s->io_map_base = lx->io_map_base;
	memcpy(s->percpu_pa, lx->percpu_pa, sizeof(s->percpu_pa));
	s->percpu_size = lx->percpu_size;
	memcpy(s->params_pa, lx->params_pa, sizeof(s->params_pa));
	if (lx->log.n) {
		s->log = malloc(lx->log.n * sizeof(*s->log));
		if (!s->log) {
			free(s);
			return NULL;
		}
		memcpy(s->log, lx->log.v, lx->log.n * sizeof(*s->log));
		s->nlog = lx->log.n;
	}
	return s;
}

int hs_linux_state_restore(struct hs_linux *lx, const struct hs_linux_state *s)
{
	if (!lx)
		return 0; /* nothing was made from the image since: nothing to put back */
	struct hs_patch *log = NULL;
	if (s->nlog && !(log = malloc(s->nlog * sizeof(*log))))
		return -ENOMEM;
	if (s->nlog)
		memcpy(log, s->log, s->nlog * sizeof(*log));
	free(lx->log.v);
	lx->log = (struct hs_patch_log){.v = log, .n = s->nlog, .cap = s->nlog};
	/* Before the state existed, the boot had changed none of it. */
	struct hs_linux_state none = {0};
	const struct hs_linux_state *from = s->made ? s : &none;
	lx->cpu = from->cpu;
	lx->layout = from->layout;
	lx->spectre = from->spectre;
	lx->io_map_base = from->io_map_base;
	memcpy(lx->percpu_pa, from->percpu_pa, sizeof(lx->percpu_pa));
	lx->percpu_size = from->percpu_size;
	memcpy(lx->params_pa, from->params_pa, sizeof(lx->params_pa));
	return 0;
}

void hs_linux_state_free(struct hs_linux_state *s)
{
	if (s)
		free(s->log);
	free(s);
}

/* ---- saved machines (host_checkpoint.c) ---------------------------------------------- */

/*
 * In the file: whether the state was made and the firmware step ran (its CPU view, Spectre
 * decisions and layout are derived again on load, from the CPU and the machine), the
 * host's allocator and per-CPU areas, and the patch log (what `info patches` shows).
 */
struct lx_file_head {
	uint32_t made, derived, patch_size;
	uint32_t nr_cpus;
	uint64_t nlog;
};

struct lx_file_addrs {
	uint64_t io_map_base;
	uint64_t percpu_pa[HS_MAX_CPUS], percpu_size;
	uint64_t params_pa[HS_MAX_CPUS];
};

int hs_linux_state_encode(const struct hs_linux *lx, struct hs_bytes *b)
{
	struct lx_file_head head = {.made = lx != NULL,
				    .derived = lx && lx->layout.hyp_vector_kva,
				    .patch_size = sizeof(struct hs_patch),
				    .nr_cpus = HS_MAX_CPUS,
				    .nlog = lx ? lx->log.n : 0};
	hs_bytes_put(b, &head, sizeof(head));
	if (!lx)
		return b->oom ? -ENOMEM : 0;
	struct lx_file_addrs a = {.io_map_base = lx->io_map_base, .percpu_size = lx->percpu_size};
	memcpy(a.percpu_pa, lx->percpu_pa, sizeof(a.percpu_pa));
	memcpy(a.params_pa, lx->params_pa, sizeof(a.params_pa));
	hs_bytes_put(b, &a, sizeof(a));
	hs_bytes_put(b, lx->log.v, lx->log.n * sizeof(*lx->log.v));
	return b->oom ? -ENOMEM : 0;
}

static bool in_ram(const struct hs_machine *m, uint64_t pa, uint64_t len)
{
	uint64_t base = m->opts.ram_base, end = base + m->opts.ram_size;
	return pa >= base && pa <= end && len <= end - pa;
}

/* A patch record names a site of this image, a known kind, at most the instructions kept. */
static bool patch_ok(const struct hs_machine *m, const struct hs_patch *p)
{
	return p->kind <= HS_PATCH_RELOC && p->nr <= HS_PATCH_MAX_INSNS &&
	       p->site >= m->img->link_base && p->site < m->img->link_end &&
	       memchr(p->cause, 0, sizeof(p->cause)) && memchr(p->what, 0, sizeof(p->what));
}

struct hs_linux_state *hs_linux_state_decode(struct hs_machine *m, struct hs_bytes_in *in,
					     struct hs_error *err)
{
	struct lx_file_head head;
	hs_bytes_get(in, &head, sizeof(head));
	struct hs_linux_state *s = calloc(1, sizeof(*s));
	struct hs_linux *lx = NULL;
	if (!s) {
		hs_err(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (!head.made)
		goto check;
	if (head.patch_size != sizeof(struct hs_patch) || head.nr_cpus != HS_MAX_CPUS) {
		hs_err(err, -EINVAL, "the Linux host's record is of another hypscope build");
		goto bad;
	}
	if (!hs_linux_image(m)) {
		hs_err(err, -EINVAL,
		       "the file holds Linux's host state, and %s is not Linux's hypervisor",
		       m->img->path);
		goto bad;
	}
	struct lx_file_addrs a;
	hs_bytes_get(in, &a, sizeof(a));
	if (in->short_read || head.nlog > (in->len - in->off) / sizeof(struct hs_patch))
		goto corrupt;
	bool ok = !a.io_map_base || a.io_map_base < (1ULL << m->layout.va_bits);
	ok = ok && (!a.percpu_size || a.percpu_size <= m->opts.ram_size);
	for (unsigned i = 0; ok && i < HS_MAX_CPUS; i++)
		ok = (!a.percpu_pa[i] || in_ram(m, a.percpu_pa[i], a.percpu_size)) &&
		     (!a.params_pa[i] || in_ram(m, a.params_pa[i], HS_PAGE_SIZE));
	if (!ok)
		goto corrupt;
	s->made = true;
	s->io_map_base = a.io_map_base;
	memcpy(s->percpu_pa, a.percpu_pa, sizeof(s->percpu_pa));
	s->percpu_size = a.percpu_size;
	memcpy(s->params_pa, a.params_pa, sizeof(s->params_pa));
	if (head.nlog) {
		if (!(s->log = malloc(head.nlog * sizeof(*s->log)))) {
			hs_err(err, -ENOMEM, "out of memory");
			goto bad;
		}
		hs_bytes_get(in, s->log, head.nlog * sizeof(*s->log));
		s->nlog = head.nlog;
		for (size_t i = 0; i < s->nlog; i++)
			if (!patch_ok(m, &s->log[i]))
				goto corrupt;
	}
	/* What the image and the machine give is made again, not read from the file. */
	if (!(lx = lx_get(m, err)))
		goto bad;
	if (head.derived) {
		struct hs_linux fresh = *lx;
		if (derive_layout(m, &fresh, err))
			goto bad;
		s->cpu = fresh.cpu;
		s->spectre = fresh.spectre;
		s->layout = fresh.layout;
	}
check:
	if (in->short_read)
		goto corrupt;
	return s;
corrupt:
	hs_err(err, -EINVAL, "the Linux host's record is corrupt");
bad:
	hs_linux_state_free(s);
	return NULL;
}

int hs_linux_state_apply(struct hs_machine *m, const struct hs_linux_state *s, struct hs_error *err)
{
	struct hs_linux *lx = s->made ? lx_get(m, err) : lx_of(m);
	if (s->made && !lx)
		return err && err->code ? err->code : -EINVAL;
	return hs_linux_state_restore(lx, s) ? hs_err(err, -ENOMEM, "out of memory") : 0;
}

hs_linux_done_fn hs_linux_continuation(void)
{
	return linux_op_done;
}
