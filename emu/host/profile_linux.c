/* SPDX-License-Identifier: MIT */
/*
 * Linux's own nVHE hypervisor, as scripts/linux-hyp links it: two profiles, because the
 * host stage-2 annotations changed between the kernels Debian carries (6.x: owner id in
 * an untyped invalid PTE; 7.x: typed annotations). The hypercall table is read from the
 * image (linux_boot.c); the boot flow is linux_boot.c's.
 */
#include <string.h>

#include "host_boot.h"
#include "linux_boot.h"
#include "linux_inspect.h"
#include "linux_panic.h"
#include "profile.h"

/* The Debian version scripts/linux-hyp recorded ("linux-source-6.12 6.12.117-1"), or "". */
static const char *kernel_note(const struct hs_image *img, size_t *len)
{
	const char *v = hs_image_section(img, ".hypscope.kernel", len);
	return v ? v : (*len = 0, "");
}

static bool is_linux(const struct hs_image *img)
{
	return hs_image_symbol(img, "__kvm_nvhe___pkvm_init") &&
	       hs_image_symbol(img, "__kvm_nvhe___kvm_hyp_init");
}

/* Does the .hypscope.kernel note name this Debian package ("linux-source-7.")? */
static bool note_says(const struct hs_image *img, const char *pkg)
{
	size_t len, n = strlen(pkg);
	const char *v = kernel_note(img, &len);
	return len > n && !strncmp(v, pkg, n);
}

static bool note_says_7(const struct hs_image *img)
{
	return note_says(img, "linux-source-7.");
}

/* 6.1 by its note (linux-source-6.1 followed by a space); other 6.x objects are 6.x. */
static bool matches6_1(const struct hs_image *img)
{
	return is_linux(img) && note_says(img, "linux-source-6.1 ");
}

static bool matches6(const struct hs_image *img)
{
	return is_linux(img) && !note_says_7(img) && !matches6_1(img);
}

static bool matches7(const struct hs_image *img)
{
	return is_linux(img) && note_says_7(img);
}

/*
 * enum pkvm_component_id (nvhe/mem_protect.h): 6.x HOST, HYP, FFA; 7.x HOST, HYP, GUEST.
 * Page states in the SW0/SW1 bits (KVM_PGTABLE_PROT_SW0 = bit 55) of valid leaves:
 * OWNED 0, SHARED_OWNED 1, SHARED_BORROWED 2 (6.x: reserved 3; 7.x: the vmemmap's NOPAGE).
 */
static const char *const owners6[] = {"host", "hyp", "ffa"};
static const char *const owners7[] = {"host", "hyp", "guest"};
/* 6.x: SW0|SW1 is __PKVM_PAGE_RESERVED, never written; state 3 is PKVM_NOPAGE, what
 * host_get_page_state/hyp_get_page_state return for a page the table does not give. */
static const char *const states[] = {"OWNED", "SHARED_OWNED", "SHARED_BORROWED", "NOPAGE"};
static const char *const states7[] = {"OWNED", "SHARED_OWNED", "SHARED_BORROWED", "NOPAGE"};

/* 6.x kvm_pgtable.h: KVM_INVALID_PTE_OWNER_MASK = [9:2]; bit 10 is the BBM lock. */
static const struct hs_pt_swenc swenc6 = {
    .name = "linux-6",
    .annot_mask = 1ULL << 10,
    .annot_match = 0,
    .owner_shift = 2,
    .owner_bits = 8,
    .host_owner = 0,
    .hyp_owner = 1,
    .guest_owner = -1,
    .state_shift = 55,
    .state_bits = 2,
    .owner_names = owners6,
    .nr_owner_names = 3,
    .state_names = states,
    .nr_state_names = 4,
};

/* 7.x: type [63:60] = KVM_HOST_INVALID_PTE_TYPE_DONATION (2), owner [3:1], extra [59:4]. */
static const struct hs_pt_swenc swenc7 = {
    .name = "linux-7",
    .annot_mask = 0xfULL << 60,
    .annot_match = 2ULL << 60,
    .owner_shift = 1,
    .owner_bits = 3,
    .meta_shift = 4,
    .meta_bits = 56,
    .host_owner = 0,
    .hyp_owner = 1,
    .guest_owner = 2,
    /* mem_protect.c KVM_HOST_PTE_OWNER_GUEST_HANDLE_MASK [15:0], _GFN_MASK [55:16] */
    .guest_handle_mask = 0xffff,
    .guest_gfn_shift = 16,
    .state_shift = 55,
    .state_bits = 2,
    .owner_names = owners7,
    .nr_owner_names = 3,
    .state_names = states7,
    .nr_state_names = 4,
};

/* The checker's rules Linux's design does not follow (docs/linux-pkvm.md "check"). */
static const struct hs_check_waiver waivers6[] = {
    {"el2-pinned", "6.x's __pkvm_host_share_hyp maps the page at EL2 at once (do_share -> "
		   "hyp_complete_share); hyp_pin_shared_mem only keeps unshare away"},
    {"guest-table-block", "Linux's guest stage-2 tables come from the memcache the host tops "
			  "up (topup_hyp_memcache), not from one block donated at __pkvm_init_vm"},
    {NULL, NULL},
};
/* 6.1 as 6.x, and two rules its design does not keep yet (both changed in 6.2+). */
static const struct hs_check_waiver waivers6_1[] = {
    {"el2-pinned", "6.x's __pkvm_host_share_hyp maps the page at EL2 at once (do_share -> "
		   "hyp_complete_share); hyp_pin_shared_mem only keeps unshare away"},
    {"vmemmap-backed", "6.1's kvm_hyp_reserve sizes the vmemmap for the pool's own pages "
		       "and __pkvm_init backs only those (hyp_back_vmemmap of the pool)"},
    {"table-refcount", "6.1 has no fix_hyp_pgtable_refcnt: EL2 tables from the early "
		       "allocator keep the refcount hyp_pool_init gave them (1)"},
    {"guest-table-block", "Linux's guest stage-2 tables come from the memcache the host tops "
			  "up (topup_hyp_memcache), not from one block donated at __pkvm_init_vm"},
    {NULL, NULL},
};
static const struct hs_check_waiver waivers7[] = {
    {"guest-table-block", "Linux's guest stage-2 tables come from the memcache the host tops "
			  "up (topup_hyp_memcache), not from one block donated at __pkvm_init_vm"},
    {NULL, NULL},
};

/* handle_exit.c and stacktrace.c as each kernel has them (docs/linux-pkvm.md). */
static const struct hs_linux_panic_facts panic6 = {
    .kernel = "Linux 6.x",
    .stacktrace_config = "CONFIG_PROTECTED_NVHE_STACKTRACE",
    .bug_config = "NVHE_EL2_DEBUG",
};
static const struct hs_linux_panic_facts panic7 = {
    .kernel = "Linux 7.x",
    .stacktrace_config = "CONFIG_PKVM_STACKTRACE",
    .bug_config = "PKVM_DISABLE_STAGE2_ON_PANIC",
    .dump_instr = true,
};

static int fault_report6(struct hs_machine *m, const struct hs_event_exception *x, char *buf,
			 size_t len)
{
	return hs_linux_panic_report(m, x, &panic6, buf, len);
}

static int fault_report7(struct hs_machine *m, const struct hs_event_exception *x, char *buf,
			 size_t len)
{
	return hs_linux_panic_report(m, x, &panic7, buf, len);
}

static bool booted(const struct hs_machine *m)
{
	return hs_boot_next_step(m) == HS_BOOT_DONE;
}

#define LINUX_PROFILE(nm, sum, match, enc, waivers, ro_text, report)                            \
	{                                                                                       \
		.name = nm, .summary = sum, .matches = match, .swenc = &enc,                    \
		.hypercall_name = hs_linux_hypercall_name,                                      \
		.hypercall_by_name = hs_linux_hypercall_by_name,                                \
		.hypercall_nargs = hs_linux_hypercall_nargs, .boot = hs_linux_boot,             \
		.boot_step_name = hs_boot_step_name, .boot_step_by_name = hs_boot_step_by_name, \
		.boot_next_step = hs_boot_next_step, .nr_boot_steps = HS_BOOT_NR_STEPS,         \
		.booted = booted, .vmemmap_layout = hs_linux_vmemmap_layout,                    \
		.memblock_size = hs_linux_memblock_size, .checker = true,                       \
		.check_waivers = waivers, .pinned_tables = hs_linux_pinned_tables,              \
		.host_reads_hyp_text = ro_text, .host_state_in_vmemmap_only = ro_text,          \
		.fault_report = report, .panic_handler = "nvhe_hyp_panic_handler",              \
		.panic_fault = hs_linux_panic_fault, .pool_layout = hs_linux_pool_layout,       \
		.check_pools = true,                                                            \
	}

const struct hs_profile hs_profile_linux6 =
    LINUX_PROFILE("linux-6", "Linux 6.x's nVHE hypervisor (kvm_nvhe.o), owner ids in [9:2]",
		  matches6, swenc6, waivers6, false, fault_report6);
const struct hs_profile hs_profile_linux6_1 =
    LINUX_PROFILE("linux-6.1", "Linux 6.1's nVHE hypervisor (kvm_nvhe.o), owner ids in [9:2]",
		  matches6_1, swenc6, waivers6_1, false, fault_report6);
const struct hs_profile hs_profile_linux7 =
    LINUX_PROFILE("linux-7", "Linux 7.x's nVHE hypervisor (kvm_nvhe.o), typed annotations",
		  matches7, swenc7, waivers7, true, fault_report7);
