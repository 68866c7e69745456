/* SPDX-License-Identifier: MIT */
#include "host_call.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* A function id as text: decimal, 0x-hex or 0-octal, nothing after it. */
static bool parse_fn(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int hs_host_call(struct hs_machine *m, unsigned cpu, const struct hs_host_call *call,
		 struct hs_host_call_result *res, struct hs_stop *stop, struct hs_error *err)
{
	memset(res, 0, sizeof(*res));
	int64_t fn = hs_machine_hypercall_by_name(m, call->call);
	if (fn >= 0)
		res->fn = (uint64_t)fn;
	else if (!parse_fn(call->call, &res->fn))
		return hs_err(err, -ENOENT, "unknown hypercall '%s'", call->call ? call->call : "");
	res->name = hs_machine_hypercall_name(m, res->fn);
	if (call->nargs > HS_HOST_CALL_MAX_ARGS)
		return hs_err(err, -E2BIG, "at most %d arguments, %u given", HS_HOST_CALL_MAX_ARGS,
			      call->nargs);
	int want = res->name ? hs_machine_hypercall_nargs(m, res->fn) : -1;
	if (want >= 0 && call->nargs > (unsigned)want)
		return hs_err(err, -E2BIG, "%s takes %d argument%s, %u given", res->name, want,
			      want == 1 ? "" : "s", call->nargs);
	return hs_host_hvc(m, cpu, res->fn, call->args, call->nargs, &res->op, stop, err);
}
