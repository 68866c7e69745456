/* SPDX-License-Identifier: MIT */
#include "debug.h"

#include <errno.h>
#include <string.h>

#include "machine_priv.h"

int hs_break_on_ec(struct hs_machine *m, unsigned ec, bool on, struct hs_error *err)
{
	if (ec > 0x3f)
		return hs_err(err, -EINVAL, "exception class %#x does not exist (0..0x3f)", ec);
	if (on)
		m->dbg.break_ec |= 1ULL << ec;
	else
		m->dbg.break_ec &= ~(1ULL << ec);
	return 0;
}

int hs_break_on_hvc(struct hs_machine *m, uint64_t fn, bool on, struct hs_error *err)
{
	for (unsigned i = 0; i < m->dbg.nr_break_hvc; i++) {
		if (m->dbg.break_hvc[i] != fn)
			continue;
		if (!on)
			m->dbg.break_hvc[i] = m->dbg.break_hvc[--m->dbg.nr_break_hvc];
		return 0;
	}
	if (!on)
		return 0;
	if (m->dbg.nr_break_hvc == HS_DBG_MAX_HVC_BREAKS)
		return hs_err(err, -ENOSPC, "at most %d hypercall breakpoints",
			      HS_DBG_MAX_HVC_BREAKS);
	m->dbg.break_hvc[m->dbg.nr_break_hvc++] = fn;
	return 0;
}

bool hs_dbg_wants_x0(const struct hs_machine *m, unsigned ec)
{
	return ec == 0x16 && m->dbg.nr_break_hvc;
}

bool hs_dbg_should_break(struct hs_machine *m, unsigned ec, uint64_t x0)
{
	if (m->dbg.break_ec & (1ULL << (ec & 0x3f)))
		return true;
	if (ec == 0x16)
		for (unsigned i = 0; i < m->dbg.nr_break_hvc; i++)
			if (m->dbg.break_hvc[i] == x0)
				return true;
	return false;
}

bool hs_dbg_may_stop(const struct hs_machine *m)
{
	const struct hs_dbg *d = &m->dbg;
	if (d->break_ec || d->nr_break_hvc)
		return true;
	for (unsigned i = 0; i < d->nr_bps; i++)
		if (d->bps[i]->enabled && d->bps[i]->nr_va)
			return true;
	for (unsigned i = 0; i < HS_DBG_MAX_WATCH; i++)
		if (d->watch[i].id)
			return true;
	return false;
}
