/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "events.h"
#include "machine_priv.h"
#include "store_trap.h"

const char *hs_event_type_name(enum hs_event_type t)
{
	static const char *const names[HS_EV_COUNT] = {
	    [HS_EV_CONSOLE] = "console",	 [HS_EV_EXCEPTION] = "exception",
	    [HS_EV_SYSREG_WRITE] = "sysreg",	 [HS_EV_TLBI] = "tlbi",
	    [HS_EV_HVC_ENTER] = "hvc-enter",	 [HS_EV_HVC_EXIT] = "hvc-exit",
	    [HS_EV_HYP_FAULT] = "hyp-fault",	 [HS_EV_BOOT_STEP] = "boot-step",
	    [HS_EV_HOST_ACCESS] = "host-access", [HS_EV_BARRIER] = "barrier",
	    [HS_EV_TABLE_STORE] = "table-store", [HS_EV_DEBUG_WRITE] = "debug-write",
	};
	return (unsigned)t < HS_EV_COUNT ? names[t] : "?";
}

const char *hs_ec_name(unsigned ec)
{
	switch (ec) {
	case 0x00:
		return "UNKNOWN";
	case 0x01:
		return "WFx";
	case 0x0e:
		return "ILLEGAL_STATE";
	case 0x11:
		return "SVC32";
	case 0x12:
		return "HVC32";
	case 0x15:
		return "SVC64";
	case 0x16:
		return "HVC64";
	case 0x17:
		return "SMC64";
	case 0x18:
		return "SYS64";
	case 0x20:
		return "IABT_LOW";
	case 0x21:
		return "IABT_CUR";
	case 0x22:
		return "PC_ALIGN";
	case 0x24:
		return "DABT_LOW";
	case 0x25:
		return "DABT_CUR";
	case 0x26:
		return "SP_ALIGN";
	case 0x2f:
		return "SERROR";
	case 0x30:
		return "BREAKPT_LOW";
	case 0x31:
		return "BREAKPT_CUR";
	case 0x32:
		return "SOFTSTP_LOW";
	case 0x33:
		return "SOFTSTP_CUR";
	case 0x34:
		return "WATCHPT_LOW";
	case 0x35:
		return "WATCHPT_CUR";
	case 0x3c:
		return "BRK64";
	default:
		return "EC?";
	}
}

void hs_emit(struct hs_machine *m, struct hs_event *ev)
{
	hs_store_traps_settle(m); /* the stores before this event come first */
	for (unsigned i = 0; i < m->nsubs; i++)
		m->subs[i].fn(ev, m->subs[i].ud);
}

int hs_machine_subscribe(struct hs_machine *m, hs_event_fn fn, void *ud)
{
	if (m->nsubs == HS_MAX_SUBSCRIBERS)
		return -ENOSPC;
	m->subs[m->nsubs++] = (struct hs_subscriber){fn, ud};
	return 0;
}

void hs_machine_unsubscribe(struct hs_machine *m, hs_event_fn fn, void *ud)
{
	for (unsigned i = 0; i < m->nsubs; i++) {
		if (m->subs[i].fn == fn && m->subs[i].ud == ud) {
			memmove(&m->subs[i], &m->subs[i + 1],
				(m->nsubs - i - 1) * sizeof(m->subs[0]));
			m->nsubs--;
			return;
		}
	}
}
