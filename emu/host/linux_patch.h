/* SPDX-License-Identifier: MIT */
/*
 * Patching Linux's nVHE hypervisor image as Linux's host does before the first entry
 * to EL2 (arch/arm64/kernel/alternative.c, jump_label.c, arch/arm64/kvm/va_layout.c):
 *
 * - alternatives: each .altinstructions entry names a CPU capability by number (the
 *   image's .hypscope.cpucaps note says which); a capability is decided from the
 *   emulated CPU's ID registers and MIDR as Linux's cpufeature/errata tables would;
 *   present -> the replacement is copied (branches and ADRP fixed for the new place),
 *   or, for a callback entry, hypscope generates what Linux's callback writes;
 * - jump labels: each __jump_table site becomes `b target` or NOP from the value of its
 *   static key (read from the image, where the host model keeps it);
 * - .hyp.reloc: every listed kernel-image pointer becomes a HYP VA.
 *
 * Pure functions over an image buffer at link addresses; every decision is logged. A
 * site that cannot be decided (an unknown capability or callback, a malformed entry) is
 * an error naming it, and nothing is half-written: callers patch a copy or discard.
 */
#ifndef HS_LINUX_PATCH_H
#define HS_LINUX_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hs_error.h"

/* The image bytes [base, base + size) as linked (link address = "kernel image VA"). */
struct hs_lx_buf {
	uint8_t *data;
	uint64_t base, size;
};

#define HS_LX_MAX_CAPS 256
/* cpucap number -> name, from the image's .hypscope.cpucaps note ("N NAME\n" lines). */
struct hs_lx_caps {
	char *name[HS_LX_MAX_CAPS];
	unsigned n;
};
int hs_lx_caps_parse(const char *text, size_t len, struct hs_lx_caps *caps, struct hs_error *err);
void hs_lx_caps_free(struct hs_lx_caps *caps);

/* The emulated CPU as Linux's cpufeature code reads it (one CPU type: sanitised = own). */
struct hs_lx_cpu {
	uint64_t midr, ctr;
	uint64_t pfr0, pfr1, pfr2, isar0, isar1, isar2, mmfr0, mmfr1, mmfr2, mmfr3, dfr0;
	bool smccc_1_1; /* firmware implements SMCCC 1.1 (SMCCC_ARCH_FEATURES, workarounds) */
};

/* The Spectre decisions proton-pack.c would make for this CPU and firmware. */
struct hs_lx_spectre {
	bool v2_vulnerable; /* affected and no firmware mitigation */
	bool v3a;	    /* ARM64_SPECTRE_V3A: the vectors need the indirect, idmapped slot */
	unsigned bhb_k;	    /* max_bhb_k: the branchy loop's iteration count */
	bool bhb_loop, bhb_insn, bhb_fw; /* system_bhb_mitigations bits */
	unsigned hyp_vector_slot;	 /* bp_hardening_data.slot: enum arm64_hyp_spectre_vector */
};
void hs_lx_spectre_state(const struct hs_lx_cpu *cpu, struct hs_lx_spectre *s);

/* What the host's layout (va_layout.c kvm_compute_layout) fixed, and its boot mode. */
struct hs_lx_layout {
	uint64_t va_mask, tag_val; /* tag_val already shifted right by tag_lsb */
	unsigned tag_lsb;
	int64_t kimage_voffset;	    /* kernel image VA - PA */
	uint64_t memstart;	    /* PHYS_OFFSET */
	uint64_t page_offset;	    /* PAGE_OFFSET: start of the kernel's linear map */
	uint64_t hyp_vector_kva;    /* kernel image VA of __kvm_hyp_vector */
	bool protected_mode;	    /* kvm-arm.mode=protected */
	bool bhb_mitigation_config; /* CONFIG_MITIGATE_SPECTRE_BRANCH_HISTORY */
};
/*
 * kvm_compute_layout for RAM [memstart, memstart + ram_size), the idmap page at
 * idmap_pa and va_bits of kernel VA, with the random tag Linux draws under KASLR taken
 * as 0 (so runs are deterministic).
 */
void hs_lx_layout_compute(uint64_t memstart, uint64_t ram_size, uint64_t idmap_pa, unsigned va_bits,
			  struct hs_lx_layout *l);
/* kern_hyp_va(lm_alias(kimg_va)): what kvm_apply_hyp_relocations stores. */
uint64_t hs_lx_kimg_to_hyp_va(const struct hs_lx_layout *l, uint64_t kimg_va);
/* kern_hyp_va of a linear-map VA for physical address pa. */
uint64_t hs_lx_pa_to_hyp_va(const struct hs_lx_layout *l, uint64_t pa);

/*
 * Whether a capability is present: 1 or 0 with `why` saying on what evidence (an ID
 * field, the MIDR against an erratum's list, the boot mode); -ENOENT when hypscope has
 * no rule for it (the caller reports the site).
 */
int hs_lx_cap_decide(const char *name, const struct hs_lx_cpu *cpu, const struct hs_lx_layout *l,
		     char *why, size_t why_len);

enum hs_patch_kind { HS_PATCH_ALT, HS_PATCH_CALLBACK, HS_PATCH_JUMP, HS_PATCH_RELOC };
#define HS_PATCH_MAX_INSNS 64
struct hs_patch {
	uint64_t site; /* link address */
	enum hs_patch_kind kind;
	unsigned nr; /* instructions (relocs: 2 words) */
	bool changed;
	char cause[96]; /* capability, callback, key */
	char what[128]; /* the decision in words */
	uint32_t before[HS_PATCH_MAX_INSNS], after[HS_PATCH_MAX_INSNS];
};
struct hs_patch_log {
	struct hs_patch *v;
	size_t n, cap;
};
void hs_patch_log_free(struct hs_patch_log *log);

/* Symbol name for a link address (the containing symbol and offset), NULL if none. */
typedef const char *(*hs_lx_symname_fn)(void *ud, uint64_t addr, uint64_t *off);

struct hs_lx_patch_ctx {
	struct hs_lx_buf *buf;
	const struct hs_lx_caps *caps;
	const struct hs_lx_cpu *cpu;
	const struct hs_lx_layout *layout;
	hs_lx_symname_fn symname;
	void *ud;
	struct hs_patch_log *log;
};

/* Apply the .altinstructions entries in [begin, end) (link addresses). */
int hs_lx_apply_alternatives(struct hs_lx_patch_ctx *c, uint64_t begin, uint64_t end,
			     struct hs_error *err);
/* Set every __jump_table site in [begin, end) from its key; only_key: just that key. */
int hs_lx_apply_jump_labels(struct hs_lx_patch_ctx *c, uint64_t begin, uint64_t end,
			    uint64_t only_key, struct hs_error *err);
/* Convert the kernel-image pointers .hyp.reloc [begin, end) lists into HYP VAs. */
int hs_lx_apply_hyp_relocs(struct hs_lx_patch_ctx *c, uint64_t begin, uint64_t end,
			   struct hs_error *err);

#endif
