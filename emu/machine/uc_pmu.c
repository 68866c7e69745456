/* SPDX-License-Identifier: MIT */
/*
 * QEMU's PMU at every exception entry and return. QEMU calls its
 * pre-EL-change hooks there, and the PMU's (pmu_pre_el_change ->
 * pmu_op_start) brings every counter up to date: it reads the host clock and
 * tests each of the cycle counter and the A72's six event counters for
 * "enabled" (pmu_counter_enabled: the EL, security state, MDCR, filters):
 * ~950 host instructions per EL change, a quarter of a null hypercall from
 * the host's loop. With PMCNTENSET_EL0 = 0 no counter is enabled, and all it
 * does is record a baseline per counter: the host clock for the cycle
 * counter and CPU_CYCLES events, 0 for SW_INCR, while INST_RETIRED is not
 * supported without icount, which Unicorn lacks (its post-EL-change half,
 * pmu_op_finish, is compiled out in Unicorn 2.0.1 and 2.1.x). So nothing
 * deterministic depends on it: what a skipped baseline changes is where a
 * cycle counter enabled later starts counting from, a host-clock value in
 * QEMU too (QEMU 5.0's PMCNTENSET write does not take a new baseline either).
 *
 * libunicorn takes the hook's address through its GOT when it registers it
 * (arm_cpu_realizefn), so the executable's definition (exported:
 * emu/machine/CMakeLists.txt) is the one on every CPU's hook list. Its
 * context comes through the CPU object: hs_quirk_pmu_attach puts the CPU's
 * struct hs_pmu_hook in the hook entry's opaque (uc_calibrate_pmu.c), which
 * QEMU passes to the hook. An entry without one (a scratch engine) runs
 * libunicorn's own hook.
 */
#include <dlfcn.h>
#include <string.h>

#include "uc_quirks.h"

void pmu_pre_el_change_aarch64(void *cpu, void *opaque);

void pmu_pre_el_change_aarch64(void *cpu, void *opaque)
{
	struct hs_pmu_hook *h = opaque;
	if (h) {
		uint64_t enabled;
		memcpy(&enabled, (const uint8_t *)cpu + h->q->env_off + h->q->pmcnten_off, 8);
		if (!enabled) {
			h->skipped++;
			return;
		}
		h->q->pmu_pre_el_change(cpu, NULL);
		return;
	}
	void (*own)(void *, void *) =
	    (void (*)(void *, void *))dlsym(RTLD_NEXT, "pmu_pre_el_change_aarch64");
	if (own)
		own(cpu, opaque);
}

/*
 * This file's own definition, by a name nobody can interpose: in a shared
 * library (libhypscope.so, -fPIC) taking &pmu_pre_el_change_aarch64 goes
 * through the GOT and yields whichever definition won.
 */
extern void hs_quirk_own_pmu_hook(void *cpu, void *opaque)
    __attribute__((alias("pmu_pre_el_change_aarch64"), visibility("hidden")));

void (*hs_quirk_pmu_hook_fn(void))(void *, void *)
{
	return hs_quirk_own_pmu_hook;
}

bool hs_quirk_pmu_hook_bound(void)
{
	return dlsym(RTLD_DEFAULT, "pmu_pre_el_change_aarch64") == (void *)hs_quirk_own_pmu_hook;
}
