/* SPDX-License-Identifier: MIT */
/*
 * A hypervisor profile: everything hypscope knows about one hypervisor that
 * the architecture does not say — how its host boots it, its hypercall table,
 * what it keeps in the software bits of its descriptors. The image picks its
 * profile (hs_profile_for_image); cli/, viz/ and scenarios ask the machine's
 * profile instead of naming a hypervisor.
 */
#ifndef HS_PROFILE_H
#define HS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"
#include "hs_error.h"
#include "pool_layout.h"
#include "pt_swenc.h"
#include "pt_walk.h"
#include "vmemmap_layout.h"

struct hs_machine;
struct hs_stop;
struct hs_event_exception;

/* A checker rule (emu/inspect/inspect_check.h) a hypervisor's design does not follow. */
struct hs_check_waiver {
	const char *rule;
	const char *why;
};

struct hs_profile {
	const char *name;    /* "hypscope" */
	const char *summary; /* one line for `info profile` */
	/* Does this image belong to the profile? (symbols, sections) */
	bool (*matches)(const struct hs_image *img);
	/* Owner annotations and page states in descriptors. */
	const struct hs_pt_swenc *swenc;

	/*
	 * Hypercalls: function id <-> name, and how many arguments one takes. The
	 * machine is given because a profile may read its table from the image
	 * (Linux's enum __kvm_host_smccc_func, from DWARF).
	 */
	const char *(*hypercall_name)(const struct hs_machine *m, uint64_t fn); /* NULL: unknown */
	int64_t (*hypercall_by_name)(const struct hs_machine *m, const char *name); /* -1 */
	int (*hypercall_nargs)(const struct hs_machine *m, uint64_t fn);	    /* -1 */
	/*
	 * The host memory hypercall fn(args) gives away (donations: the host loses
	 * access): true with [*pa, *pa + *size), false when it gives none. The host
	 * model refuses a call that would give away its own code page (NULL: no
	 * hypercall is known to).
	 */
	bool (*hypercall_gives)(const struct hs_machine *m, uint64_t fn, const uint64_t *args,
				uint64_t *pa, uint64_t *size);

	/* The host's boot flow, as steps a user can stop before (`boot --until`). */
	int (*boot)(struct hs_machine *m, const char *until, struct hs_stop *stop,
		    struct hs_error *err);
	const char *(*boot_step_name)(int step);
	int (*boot_step_by_name)(const char *name); /* -1 when unknown */
	int (*boot_next_step)(const struct hs_machine *m);
	int nr_boot_steps;
	/*
	 * The vmemmap as the machine has it now: the entry layout (Linux: struct hyp_page
	 * from the image's DWARF) and its base HYP VA. Non-zero with err filled when the
	 * image does not say.
	 */
	int (*vmemmap_layout)(struct hs_machine *m, struct hs_vmemmap_layout *l,
			      struct hs_error *err);
	/* sizeof the hypervisor's struct memblock_region (the stride of hyp_memory[]). */
	unsigned (*memblock_size)(const struct hs_machine *m);

	/* Do emu/inspect's checker rules hold for this hypervisor? (false: `check` refuses) */
	bool checker;
	/*
	 * The checker's rules that do not hold for this hypervisor, each with why (NULL-
	 * terminated; NULL: all hold): `check` does not report them, `info profile` and
	 * docs/linux-pkvm.md list them.
	 */
	const struct hs_check_waiver *check_waivers;
	/* The buddy pools (hpool, host_s2_pool) are checked (the pool-* rules). */
	bool check_pools;
	/*
	 * struct hyp_pool as the image lays it out (NULL: the bundled hypervisor's,
	 * hs_pool_layout_bundled). Non-zero with err filled when the image does not say.
	 */
	int (*pool_layout)(struct hs_machine *m, struct hs_pool_layout *l, struct hs_error *err);
	/*
	 * The incremental checker and the live snapshot (set check-after-hvc) know its
	 * layouts: the bundled hypervisor's only, today; others check in full.
	 */
	bool check_incremental;
	/*
	 * EL2 stage-1 table pages holding one extra reference each, beyond 1 + their valid
	 * entries (Linux: the fixmap slots' tables), into pa[] up to max; NULL: none.
	 */
	unsigned (*pinned_tables)(struct hs_machine *m, uint64_t *pa, unsigned max);
	/*
	 * The host stage 2 maps the hypervisor's text read-only (host state NOPAGE, hyp
	 * OWNED) so the host can read it on a panic (Linux 7.x setup.c fix_host_ownership).
	 */
	bool host_reads_hyp_text;
	/*
	 * The host's page state lives in the vmemmap only: host stage-2 leaves carry no SW
	 * state (Linux 7.x __host_set_page_state_range), so `s2-state` wants them all 0.
	 */
	bool host_state_in_vmemmap_only;
	/*
	 * What the hypervisor's own host would report for an exception it took at EL2
	 * (Linux: the __bug_table site of a BUG()/WARN() brk): characters written to buf
	 * (0: nothing to add). NULL: none.
	 */
	int (*fault_report)(struct hs_machine *m, const struct hs_event_exception *x, char *buf,
			    size_t len);
	/*
	 * The host's panic handler, a symbol of the image (NULL: none, an EL2 exception
	 * stops the machine where it was taken). With one, the hypervisor's own vectors
	 * take its EL2 exceptions and its panic path ends there at EL1 (Linux:
	 * nvhe_hyp_panic_handler); panic_fault reads the fault from the registers the
	 * hypervisor passes (hs_machine_client.host_panic).
	 */
	const char *panic_handler;
	void (*panic_fault)(struct hs_machine *m, unsigned cpu, struct hs_event_exception *x);
	/* Has the boot flow run to its end (the host protected)? */
	bool (*booted)(const struct hs_machine *m);
};

/* The bundled hypervisor (hyp/), the first profile. */
extern const struct hs_profile hs_profile_hypscope;
/* Linux's own nVHE hypervisor object linked by scripts/linux-hyp: 6.x and 7.x. */
extern const struct hs_profile hs_profile_linux6, hs_profile_linux6_1, hs_profile_linux7;
extern const struct hs_pt_swenc hs_hypscope_swenc;

/* The profile whose matches() accepts the image; NULL when none does. */
const struct hs_profile *hs_profile_for_image(const struct hs_image *img);
/* Every known profile, NULL-terminated (for messages and `info profile`). */
const struct hs_profile *const *hs_profiles(void);
/* The profile of a machine's hypervisor (set when its host was created). */
const struct hs_profile *hs_profile_of(const struct hs_machine *m);

/* Hypercall name/number/arguments through the machine's profile. */
const char *hs_machine_hypercall_name(const struct hs_machine *m, uint64_t fn);
int64_t hs_machine_hypercall_by_name(const struct hs_machine *m, const char *name);
int hs_machine_hypercall_nargs(const struct hs_machine *m, uint64_t fn);
/* The boot flow of the machine's hypervisor has run to its end. */
bool hs_machine_booted(const struct hs_machine *m);

/* The machine's struct hyp_pool layout through its profile (see hs_profile.pool_layout). */
int hs_machine_pool_layout(struct hs_machine *m, struct hs_pool_layout *l, struct hs_error *err);
/* The software encoding of the machine's hypervisor (owner/state names, annotations). */
const struct hs_pt_swenc *hs_machine_swenc(const struct hs_machine *m);
/* The machine's vmemmap layout through its profile (see hs_profile.vmemmap_layout). */
int hs_machine_vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l,
			      struct hs_error *err);
/* hs_profile.fault_report of the machine's profile ("" when it has nothing to say). */
int hs_machine_fault_report(struct hs_machine *m, const struct hs_event_exception *x, char *buf,
			    size_t len);
/* Why the machine's profile waives checker rule `rule`, or NULL when the rule holds. */
const char *hs_machine_check_waived(const struct hs_machine *m, const char *rule);

/* hs_pt_regime_s2() that also knows the software encoding of the machine's hypervisor. */
int hs_machine_regime_s2(const struct hs_machine *m, uint64_t vtcr, uint64_t vttbr,
			 struct hs_pt_regime *r, char *err, size_t errlen);

#endif
