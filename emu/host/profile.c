/* SPDX-License-Identifier: MIT */
/* A machine's profile, and the calls through it that every layer makes. */
#include "profile.h"

#include "host.h"

#include <string.h>

const struct hs_profile *hs_profile_of(const struct hs_machine *m)
{
	return hs_host_of(m)->profile;
}

const char *hs_machine_hypercall_name(const struct hs_machine *m, uint64_t fn)
{
	return hs_profile_of(m)->hypercall_name(m, fn);
}

int64_t hs_machine_hypercall_by_name(const struct hs_machine *m, const char *name)
{
	return hs_profile_of(m)->hypercall_by_name(m, name);
}

int hs_machine_hypercall_nargs(const struct hs_machine *m, uint64_t fn)
{
	return hs_profile_of(m)->hypercall_nargs(m, fn);
}

bool hs_machine_booted(const struct hs_machine *m)
{
	return hs_profile_of(m)->booted(m);
}

int hs_machine_regime_s2(const struct hs_machine *m, uint64_t vtcr, uint64_t vttbr,
			 struct hs_pt_regime *r, char *err, size_t errlen)
{
	int rc = hs_pt_regime_s2(vtcr, vttbr, r, err, errlen);
	if (!rc)
		r->swenc = hs_profile_of(m)->swenc;
	return rc;
}

const struct hs_pt_swenc *hs_machine_swenc(const struct hs_machine *m)
{
	return hs_profile_of(m)->swenc;
}

int hs_machine_vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l,
			      struct hs_error *err)
{
	return hs_profile_of(m)->vmemmap_layout(m, l, err);
}

int hs_machine_pool_layout(struct hs_machine *m, struct hs_pool_layout *l, struct hs_error *err)
{
	const struct hs_profile *p = hs_profile_of(m);
	if (!p->pool_layout) {
		*l = hs_pool_layout_bundled;
		return 0;
	}
	return p->pool_layout(m, l, err);
}

int hs_machine_fault_report(struct hs_machine *m, const struct hs_event_exception *x, char *buf,
			    size_t len)
{
	const struct hs_profile *p = hs_profile_of(m);
	if (len)
		buf[0] = 0;
	return p->fault_report ? p->fault_report(m, x, buf, len) : 0;
}

const char *hs_machine_check_waived(const struct hs_machine *m, const char *rule)
{
	const struct hs_check_waiver *w = hs_profile_of(m)->check_waivers;
	for (; w && w->rule; w++)
		if (!strcmp(w->rule, rule))
			return w->why;
	return NULL;
}
