/* SPDX-License-Identifier: MIT */
/*
 * Calibration of CPUState.cflags_next_tb, which the store traps need to stop
 * exactly at a store (uc_fast_stores.c): QEMU reads it when it looks up the
 * next translated block, and 1 there makes that block a single instruction
 * (what QEMU's own watchpoints and self-modifying-code check do before
 * re-running a store), then puts it back to -1 (none).
 *
 * Found by behaviour, never by a hard-coded offset: among the CPU object's
 * 32-bit words before CPUARMState that hold -1, the one whose 1 makes the
 * next block a single instruction of a run of NOPs and reads -1 again
 * afterwards. A candidate that breaks the scratch engine (the exception
 * index is also -1) costs a fresh engine. Not found: traps cannot stop
 * exactly, and write watchpoints use hooks (hs_quirks.next_tb_off = 0).
 */
#include <string.h>

#include "uc_quirks.h"

#define CODE 0x1000
#define NR_NOPS 8
#define A64_NOP 0xd503201fu

struct probe {
	uc_engine *uc;
	void *cpu;
	uint32_t first; /* size of the first block the run entered, 0: none */
};

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct probe *p = ud;
	(void)uc;
	(void)address;
	if (!p->first)
		p->first = size ? size : 1;
}

static bool probe_open(struct probe *p)
{
	uc_hook h;
	uint32_t code[NR_NOPS];
	for (int i = 0; i < NR_NOPS; i++)
		code[i] = A64_NOP;
	*p = (struct probe){0};
	if (hs_quirk_open(&p->uc))
		return false;
	if (uc_ctl_set_cpu_model(p->uc, UC_CPU_ARM64_A72) ||
	    uc_mem_map(p->uc, 0, 0x4000, UC_PROT_ALL) ||
	    uc_mem_write(p->uc, CODE, code, sizeof(code)) ||
	    uc_hook_add(p->uc, &h, UC_HOOK_BLOCK, (void *)on_block, p, 1, 0) ||
	    !(p->cpu = hs_quirk_engine_cpu(p->uc))) {
		uc_close(p->uc);
		p->uc = NULL;
		return false;
	}
	return true;
}

/* The size of the first block of a run over the NOPs; 0 when the run failed. */
static uint32_t first_block(struct probe *p)
{
	p->first = 0;
	if (uc_emu_start(p->uc, CODE, CODE + 4 * NR_NOPS, 0, 0))
		return 0;
	return p->first;
}

static uint32_t word(const void *cpu, size_t off)
{
	uint32_t v;
	memcpy(&v, (const uint8_t *)cpu + off, 4);
	return v;
}

static void set_word(void *cpu, size_t off, uint32_t v)
{
	memcpy((uint8_t *)cpu + off, &v, 4);
}

size_t hs_quirks_find_next_tb(const struct hs_quirks *q)
{
	struct probe p;
	if (!q->env_off || !probe_open(&p))
		return 0;
	size_t found = 0;
	/* A run of NOPs is one block; a candidate must cut it to one instruction. */
	if (first_block(&p) != 4 * NR_NOPS)
		goto out;
	for (size_t off = 4; off + 4 <= q->env_off && !found; off += 4) {
		if (word(p.cpu, off) != UINT32_MAX)
			continue;
		set_word(p.cpu, off, 1);
		uint32_t n = first_block(&p);
		if (n == 4 && word(p.cpu, off) == UINT32_MAX && first_block(&p) == 4 * NR_NOPS) {
			found = off;
			break;
		}
		if (n && word(p.cpu, off) == 1 && first_block(&p) == 4 * NR_NOPS) {
			set_word(p.cpu, off, UINT32_MAX);
			continue;
		}
		/* Not it, and the engine may be broken: the next candidate gets a fresh one. */
		uc_close(p.uc);
		if (!probe_open(&p))
			return 0;
	}
out:
	uc_close(p.uc);
	return found;
}
