/* SPDX-License-Identifier: MIT */
/*
 * A machine with its host: the one place that composes the two, so that
 * machine/ never calls up into host/ except through the client hooks the
 * host registers.
 */
#include "host.h"
#include "host_checkpoint.h"
#include "machine.h"

int hs_machine_create(const struct hs_machine_opts *o, struct hs_machine **out,
		      struct hs_error *err)
{
	struct hs_machine *m;
	int rc = hs_machine_create_bare(o, &m, err);
	if (rc)
		return rc;
	if ((rc = hs_host_init(m, err)) ||
	    (!hs_machine_is_dump(m) && (rc = hs_host_checkpoint_register(m, err)))) {
		hs_machine_destroy(m);
		return rc;
	}
	*out = m;
	return 0;
}
