/* SPDX-License-Identifier: MIT */
/*
 * The way out of any state (issue 13): `kill` abandons the pending operation
 * and keeps the machine for inspection; `restart` builds a fresh machine with
 * the same options and keeps the breakpoints, watchpoints and settings.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_checkpoint.h"

int cmd_kill(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct hs_error err = {0};
	if (hs_machine_kill(c->m, &err))
		return cli_error(c, "kill: %s", err.msg);
	printf("the pending operation is abandoned; the machine can be inspected (restart "
	       "builds a fresh one)\n");
	return 0;
}

int cmd_restart(struct cli *c, int argc, char **argv)
{
	if (argc > 1)
		return cli_restart_checkpoint(c, argv[1]);
	/* Take the breakpoint list out of the old machine's way, then give it to the new one. */
	struct cli_bps keep = c->bps;
	cli_bps_init(&c->bps, NULL);
	if (cli_machine_create(c)) {
		c->bps = keep;
		c->bps.m = NULL;
		return cli_error(c, "restart: no machine: %s", c->machine_err);
	}
	cli_bps_fini(&c->bps);
	c->bps = keep;
	char msg[1024];
	int failed = cli_bps_rebind(&c->bps, c->m, msg, sizeof(msg));
	printf("a fresh machine (same options); breakpoints and watchpoints kept: %zu\n", c->bps.n);
	if (failed)
		return cli_error(c, "restart: could not arm %s", msg);
	return 0;
}
