/* SPDX-License-Identifier: MIT */
/* The bundled hypervisor's profile: its ABI is include/hypscope/abi.h. */
#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "profile.h"

static const char *const owner_names[] = {
    [HS_OWNER_HOST] = "host", [HS_OWNER_HYP] = "hyp", [HS_OWNER_GUEST] = "guest"};
static const char *const state_names[] = {
    [HS_PAGE_OWNED] = "OWNED",
    [HS_PAGE_SHARED_OWNED] = "SHARED_OWNED",
    [HS_PAGE_SHARED_BORROWED] = "SHARED_BORROWED",
    [HS_PAGE_NOPAGE] = "NOPAGE",
};

/* abi.h "Owner annotations": type [63:60] = 1, metadata [59:4], owner [3:1]. */
const struct hs_pt_swenc hs_hypscope_swenc = {
    .name = "hypscope",
    .annot_mask = HS_ANNOT_TYPE_MASK,
    .annot_match = HS_ANNOT_TYPE_OWNER << HS_ANNOT_TYPE_SHIFT,
    .owner_shift = HS_ANNOT_OWNER_SHIFT,
    .owner_bits = 3,
    .meta_shift = HS_ANNOT_META_SHIFT,
    .meta_bits = 56,
    .host_owner = HS_OWNER_HOST,
    .hyp_owner = HS_OWNER_HYP,
    .guest_owner = HS_OWNER_GUEST,
    .guest_handle_mask = HS_ANNOT_META_HANDLE_MASK,
    .guest_gfn_shift = HS_ANNOT_META_GFN_SHIFT,
    .state_shift = HS_PTE_STATE_SHIFT,
    .state_bits = 2,
    .owner_names = owner_names,
    .nr_owner_names = sizeof(owner_names) / sizeof(owner_names[0]),
    .state_names = state_names,
    .nr_state_names = sizeof(state_names) / sizeof(state_names[0]),
};

/* hyp/ marks its idmap page and its ABI symbols; Linux's object names them __kvm_nvhe_*. */
static bool matches(const struct hs_image *img)
{
	return hs_image_symbol(img, "__hyp_idmap_text_start") &&
	       hs_image_symbol(img, "__pkvm_init") &&
	       !hs_image_symbol(img, "__kvm_nvhe___pkvm_init");
}

static const char *name_of(const struct hs_machine *m, uint64_t fn)
{
	(void)m;
	return hs_hypercall_name(fn);
}

static int64_t by_name(const struct hs_machine *m, const char *name)
{
	(void)m;
	return hs_hypercall_by_name(name);
}

static int nargs(const struct hs_machine *m, uint64_t fn)
{
	(void)m;
	const char *name = hs_hypercall_name(fn);
	return name ? hs_hypercall_nargs((int)(fn - HS_HC_FN_BASE)) : -1;
}

/* The donations (hyp/mem_protect.c, hyp/pkvm.c): pages the host can no longer reach. */
static bool gives(const struct hs_machine *m, uint64_t fn, const uint64_t *a, uint64_t *pa,
		  uint64_t *size)
{
	(void)m;
	switch (fn - HS_HC_FN_BASE) {
	case HS_HC_host_donate_hyp: /* (pfn, nr) */
		*pa = a[0] << HS_PAGE_SHIFT;
		*size = a[1] << HS_PAGE_SHIFT;
		return a[0] < (1ULL << 52) && a[1] < (1ULL << 52);
	case HS_HC_host_donate_guest: /* (pfn, gfn) */
		*pa = a[0] << HS_PAGE_SHIFT;
		*size = HS_PAGE_SIZE;
		return a[0] < (1ULL << 52);
	case HS_HC_init_vm: /* (pa, nr_pages, flags) */
		*pa = a[0];
		*size = a[1] << HS_PAGE_SHIFT;
		return a[1] < (1ULL << 52);
	default:
		return false;
	}
}

/* abi.h "struct hs_hyp_page": 8 bytes; the hyp state stored complemented. */
static int vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l, struct hs_error *err)
{
	(void)err;
	*l = (struct hs_vmemmap_layout){
	    .base_va = hs_machine_layout(m)->vmemmap_base,
	    .entry_size = HS_HYP_PAGE_SIZE,
	    .refcount = {0, 16},
	    .order = {16, 8},
	    .host_state = {24, 4},
	    .hyp_state = {28, 2},
	    .guest_shares = {32, 32},
	    .hyp_state_xor = 3,
	    .no_order = HS_NO_ORDER,
	};
	return 0;
}

static unsigned memblock_size(const struct hs_machine *m)
{
	(void)m;
	return sizeof(struct hs_memblock_region);
}

static bool booted(const struct hs_machine *m)
{
	return hs_boot_next_step(m) == HS_BOOT_DONE;
}

const struct hs_profile hs_profile_hypscope = {
    .name = "hypscope",
    .summary = "the bundled hypervisor (hyp/), ABI in include/hypscope/abi.h",
    .matches = matches,
    .swenc = &hs_hypscope_swenc,
    .hypercall_name = name_of,
    .hypercall_by_name = by_name,
    .hypercall_nargs = nargs,
    .hypercall_gives = gives,
    .boot = hs_boot,
    .boot_step_name = hs_boot_step_name,
    .boot_step_by_name = hs_boot_step_by_name,
    .boot_next_step = hs_boot_next_step,
    .nr_boot_steps = HS_BOOT_NR_STEPS,
    .booted = booted,
    .vmemmap_layout = vmemmap_layout,
    .memblock_size = memblock_size,
    .checker = true,
    .check_pools = true,
    .check_incremental = true,
};
