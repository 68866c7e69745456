/* SPDX-License-Identifier: MIT */
/*
 * Single-stepping: a code hook on every instruction, present only while a
 * CPU is being stepped, counts the instructions and stops before the one
 * after the last.
 *
 * Unicorn 2.0.1 could count for us (uc_emu_start's `count`), but its
 * counting hook misses code translated before it existed, and the first
 * uncounted run after a counted one flushes all translated code (tb_flush:
 * 0.15-3.7 s and up to 1 GB of RSS per CPU once the code buffer was used).
 * Here entering and leaving step mode drop this engine's translated code by
 * physical range instead, which costs only the retranslation of the code
 * that runs next.
 */
#include <errno.h>

#include "machine_priv.h"

static void on_step(uc_engine *uc, uint64_t address, uint32_t size, void *ud)
{
	struct hs_cpu *c = ud;
	(void)size;
	if (c->dbg.step_done < c->dbg.step_count) {
		c->dbg.step_done++;
		if (c->m->dbg.insn_seen) {
			uint64_t sp = 0;
			uc_reg_read(uc, UC_ARM64_REG_SP, &sp);
			c->m->dbg.insn_seen(c->m->dbg.insn_seen_ud, c->idx, address, sp);
		}
		return;
	}
	/* The instruction after the last one stepped: stop before it. */
	hs_cpu_cut_block(c, address);
	if (c->stop == HS_STOP_NONE)
		c->stop = HS_STOP_STEP;
	uc_emu_stop(uc);
}

void hs_step_drop_all_code(struct hs_cpu *c)
{
	hs_quirk_drop_code(c->uc, 0, c->m->opts.ram_size);
}

int hs_step_arm(struct hs_cpu *c, uint64_t count, struct hs_error *err)
{
	c->dbg.step_count = count;
	c->dbg.step_done = 0;
	if (count && !c->dbg.step_hook) {
		uc_err e =
		    uc_hook_add(c->uc, &c->dbg.step_hook, UC_HOOK_CODE, (void *)on_step, c, 1, 0);
		if (e) {
			c->dbg.step_hook = 0;
			return hs_err(err, -EIO, "cpu%u: cannot add the stepping hook: %s", c->idx,
				      uc_strerror(e));
		}
		/* Code translated without the hook would run whole blocks. */
		hs_step_drop_all_code(c);
	} else if (!count && c->dbg.step_hook) {
		uc_hook_del(c->uc, c->dbg.step_hook);
		c->dbg.step_hook = 0;
		/* Code translated with it would call it on every instruction. */
		hs_step_drop_all_code(c);
	}
	return 0;
}
