/* SPDX-License-Identifier: MIT */
/*
 * One hypercall as a user asks for it: by the profile's name or by function
 * id, with its arguments, checked against the profile's table, run, and
 * answered in one result. A front end (the REPL's `hvc`, a scenario line, the
 * random campaign) makes this one call and prints what it returns, instead of
 * resolving, checking and running in several trips into emu/.
 */
#ifndef HS_HOST_CALL_H
#define HS_HOST_CALL_H

#include <stdint.h>

#include "host.h"

#define HS_HOST_CALL_MAX_ARGS 6

struct hs_host_call {
	const char *call; /* a hypercall name of the image's profile, or a function id */
	uint64_t args[HS_HOST_CALL_MAX_ARGS];
	unsigned nargs;
};

struct hs_host_call_result {
	uint64_t fn;	      /* the function id called */
	const char *name;     /* its name in the profile, or NULL (an id the profile lacks) */
	struct hs_host_op op; /* x0/x1 once it completed */
};

/*
 * Resolve, check and run one hypercall on `cpu`. Returns 0 when it ran (as
 * hs_host_hvc: *stop says whether it completed or the machine stopped inside
 * it); -ENOENT when `call` is neither a name nor a number, -E2BIG when more
 * arguments are given than the hypercall takes (err names both), nothing run.
 */
int hs_host_call(struct hs_machine *m, unsigned cpu, const struct hs_host_call *call,
		 struct hs_host_call_result *res, struct hs_stop *stop, struct hs_error *err);

#endif
