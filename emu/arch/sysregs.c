/* SPDX-License-Identifier: MIT */
#include "sysregs.h"

#include <strings.h>

#define HS_SYSREG_DESC(id, nm, o0, o1, n, m, o2, fl) \
	[HS_SR_##                                    \
	    id] = {.name = nm, .op0 = o0, .op1 = o1, .crn = n, .crm = m, .op2 = o2, .flags = fl},
static const struct hs_sysreg_desc sysregs[HS_SR_COUNT] = {HS_SYSREG_LIST(HS_SYSREG_DESC)};

const struct hs_sysreg_desc *hs_sysreg_desc(enum hs_sysreg r)
{
	return (unsigned)r < HS_SR_COUNT ? &sysregs[r] : 0;
}

int hs_sysreg_by_name(const char *name)
{
	for (int i = 0; i < HS_SR_COUNT; i++)
		if (!strcasecmp(sysregs[i].name, name))
			return i;
	return -1;
}

int hs_sysreg_by_encoding(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2)
{
	for (int i = 0; i < HS_SR_COUNT; i++) {
		const struct hs_sysreg_desc *d = &sysregs[i];
		if (d->op0 == op0 && d->op1 == op1 && d->crn == crn && d->crm == crm &&
		    d->op2 == op2)
			return i;
	}
	return -1;
}
