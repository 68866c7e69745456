/* SPDX-License-Identifier: MIT */
/*
 * Calibration for uc_pmu.c, never by hard-coded offsets:
 * - where QEMU keeps PMCNTENSET_EL0 (env->cp15.c9_pmcnten) inside
 *   CPUARMState: a CP_REG write of PMCNTENSET_EL0 is QEMU's raw write of
 *   that field, so three different values written and read back through the
 *   API must each appear there, and at no other place for all three;
 * - where the CPU object points at its pre-EL-change hook entry
 *   (ARMCPU.pre_el_change_hooks, a list of {hook, opaque, next, prev}): the
 *   first pointer in the object to an entry whose hook is uc_pmu.c's (libunicorn
 *   registered it through its GOT), with no opaque yet and pointing back at it. hs_quirk_pmu_attach
 *   puts the CPU's context in that opaque, which QEMU passes to the hook.
 * hs_quirks_calibrate then proves both with an HVC on its scratch engine.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uc_quirks.h"

/* PMCNTENSET_EL0: op0 3, op1 3, CRn 9, CRm 12, op2 1 */
#define PMCNTENSET(uc, v) hs_quirk_cp_write(uc, 3, 3, 9, 12, 1, v)
#define PMCNTENSET_READ(uc) hs_quirk_cp_read(uc, 3, 3, 9, 12, 1)
#define MAX_CANDIDATES 64
#define NR_MARKS 3
#define HOOK_SCAN (64u << 10) /* from the state on: QEMU 5's ARMCPU ends well before */

static uint64_t word(const uint8_t *env, size_t off)
{
	uint64_t v;
	memcpy(&v, env + off, 8);
	return v;
}

static int find_pmcnten(struct hs_quirks *q, uc_engine *uc, void *cpu, size_t env_size,
			struct hs_error *err)
{
	/* The cycle counter and some event counters (an A72 has six): each a valid value. */
	static const uint64_t marks[NR_MARKS] = {0x80000015u, 0x2au, 0};
	const uint8_t *env = (const uint8_t *)cpu + q->env_off;
	size_t cand[MAX_CANDIDATES], n = 0;
	for (int i = 0; i < NR_MARKS; i++) {
		PMCNTENSET(uc, marks[i]);
		if (PMCNTENSET_READ(uc) != marks[i]) {
			PMCNTENSET(uc, 0);
			return hs_err(err, -EIO,
				      "PMCNTENSET_EL0 does not read back what was written");
		}
		size_t kept = 0;
		if (i == 0) {
			for (size_t off = 0; off + 8 <= env_size && kept < MAX_CANDIDATES; off += 8)
				if (word(env, off) == marks[0])
					cand[kept++] = off;
		} else {
			for (size_t k = 0; k < n; k++)
				if (word(env, cand[k]) == marks[i])
					cand[kept++] = cand[k];
		}
		n = kept;
	}
	if (n != 1)
		return hs_err(err, -EIO,
			      "cannot find QEMU's PMCNTENSET_EL0 in its CPU state (%zu places "
			      "follow it)",
			      n);
	q->pmcnten_off = cand[0];
	return 0;
}

/* len bytes at addr, if this process has them mapped (a candidate pointer may be anything). */
static bool peek(uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)addr, len};
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static int find_hook_entry(struct hs_quirks *q, void *cpu, struct hs_error *err)
{
	uint8_t *win = malloc(HOOK_SCAN);
	if (!win)
		return hs_err(err, -ENOMEM, "out of memory");
	size_t got = 0;
	/* The window may run past the object's end: take what is mapped, a page at a time. */
	while (got < HOOK_SCAN && peek((uintptr_t)cpu + q->env_off + got, win + got, 4096))
		got += 4096;
	/*
	 * The list head points at an entry {hook, opaque, next, prev} whose prev
	 * points back at the head. The window may run past the object into other
	 * memory (another engine's CPU): the first match is inside this one.
	 */
	size_t found = 0;
	for (size_t off = 0; off + 8 <= got && !found; off += 8) {
		uintptr_t p, e[4];
		memcpy(&p, win + off, 8);
		if (p < 4096 || p % 8 || !peek(p, e, sizeof(e)))
			continue;
		uintptr_t head = (uintptr_t)cpu + q->env_off + off;
		if (e[0] == (uintptr_t)hs_quirk_pmu_hook_fn() && e[1] == 0 && e[3] == head)
			found = q->env_off + off;
	}
	free(win);
	if (!found)
		return hs_err(err, -EIO, "cannot find QEMU's PMU hook entry in its CPU object");
	q->pmu_hook_head_off = found;
	return 0;
}

int hs_quirks_find_pmu(struct hs_quirks *q, uc_engine *uc, void *cpu, size_t env_size,
		       struct hs_error *err)
{
	if (!hs_quirk_pmu_hook_bound())
		return 0; /* libunicorn's own hook runs: nothing to find */
	int rc = find_pmcnten(q, uc, cpu, env_size, err);
	if (!rc)
		rc = find_hook_entry(q, cpu, err);
	if (rc)
		return rc;
	/* The next definition after the machine's own (uc_pmu.c): libunicorn's. */
	q->pmu_pre_el_change =
	    (void (*)(void *, void *))dlsym(RTLD_NEXT, "pmu_pre_el_change_aarch64");
	if (!q->pmu_pre_el_change)
		return hs_err(err, -EIO, "libunicorn has no pmu_pre_el_change_aarch64");
	return 0;
}

/* The hook entry's opaque (after its hook pointer), 0 when not calibrated. */
static void **opaque_of(const struct hs_quirks *q, void *cpu)
{
	if (!q->pmu_hook_head_off)
		return NULL;
	uintptr_t head = (uintptr_t)cpu + q->pmu_hook_head_off, entry, e[4];
	memcpy(&entry, (const void *)head, 8);
	if (!entry || !peek(entry, e, sizeof(e)))
		return NULL;
	return e[0] == (uintptr_t)hs_quirk_pmu_hook_fn() && e[3] == head ? (void **)(entry + 8)
									 : NULL;
}

bool hs_quirk_pmu_attach(void *cpu, struct hs_pmu_hook *h)
{
	void **opaque = h && h->q ? opaque_of(h->q, cpu) : NULL;
	if (!opaque)
		return false;
	*opaque = h;
	return true;
}

void hs_quirk_pmu_detach(const struct hs_quirks *q, void *cpu)
{
	void **opaque = opaque_of(q, cpu);
	if (opaque)
		*opaque = NULL;
}
