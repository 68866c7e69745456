/* SPDX-License-Identifier: MIT */
/* The bundled hypervisor's hypercall table (hypscope/abi.h): names and argument counts. */
#include <string.h>
#include <strings.h>

#include "host.h"

#define HS_HC_NAME_ENTRY(num, name, nargs, phase) [num] = #name,
static const char *const hc_names[HS_HC_COUNT] = {HS_HYPERCALLS(HS_HC_NAME_ENTRY)};
#define HS_HC_NARGS_ENTRY(num, name, nargs, phase) [num] = nargs,
static const int hc_nargs[HS_HC_COUNT] = {HS_HYPERCALLS(HS_HC_NARGS_ENTRY)};

const char *hs_hypercall_name(uint64_t fn)
{
	if (fn >= HS_HC_FN_BASE && fn < HS_HC_FN_BASE + HS_HC_COUNT)
		return hc_names[fn - HS_HC_FN_BASE];
	return NULL;
}

int64_t hs_hypercall_by_name(const char *name)
{
	for (int i = 0; i < HS_HC_COUNT; i++)
		if (hc_names[i] && !strcasecmp(hc_names[i], name))
			return (int64_t)HS_HC_FN(i);
	return -1;
}

int hs_hypercall_nargs(int nr)
{
	return nr >= 0 && nr < HS_HC_COUNT ? hc_nargs[nr] : -1;
}
