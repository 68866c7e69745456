/* SPDX-License-Identifier: MIT */
/*
 * `save machine FILE`, `load machine FILE` and `hypscope --load FILE`
 * (issue 19): the whole machine and the session's history in one file
 * (emu/machine/machine_file.h; docs/time-travel.md has the format).
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "cmd_machine_file.h"
#include "machine_file.h"

int cli_save_machine(struct cli *c, const char *path)
{
	struct hs_machine_file_info info;
	struct hs_error err = {0};
	if (hs_machine_save(c->m, path, &info, &err))
		return cli_error(c, "save machine: %s", err.msg);
	printf("saved the machine to %s: %" PRIu64 " instructions, %" PRIu64 " RAM pages, %" PRIu64
	       " bytes\n",
	       path, info.icount, info.pages, info.bytes);
	return 0;
}

int cli_load_machine(struct cli *c, const char *path)
{
	struct hs_machine_file_info info;
	struct hs_error err = {0};
	if (hs_machine_file_peek(path, &info, &err))
		return cli_error(c, "load machine: %s", err.msg);
	/* A new machine with the file's options; the old one stays until the file is in. */
	struct hs_machine_opts o = c->mopts;
	o.ram_base = info.ram_base;
	o.ram_size = info.ram_size;
	o.nr_cpus = info.nr_cpus;
	o.hyp_va_bits = info.hyp_va_bits;
	o.dump = NULL;
	struct hs_machine *m;
	if (hs_machine_create(&o, &m, &err))
		return cli_error(c, "load machine: %s", err.msg);
	if (hs_machine_load(m, path, &err)) {
		hs_machine_destroy(m);
		return cli_error(c, "load machine: %s", err.msg);
	}
	/* Breakpoints go over to the new machine, as `restart` does. */
	struct cli_bps keep = c->bps;
	cli_bps_init(&c->bps, NULL);
	c->mopts = o;
	cli_machine_adopt(c, m);
	cli_bps_fini(&c->bps);
	c->bps = keep;
	char msg[1024];
	int failed = cli_bps_rebind(&c->bps, c->m, msg, sizeof(msg));
	/* The session's own section needs the session attached to the machine. */
	if (hs_machine_load_parts(c->m, path, &err))
		return cli_error(c, "load machine: %s", err.msg);
	printf("loaded %s: %u CPUs, RAM %#" PRIx64 "+%#" PRIx64 ", %" PRIu64
	       " instructions, %" PRIu64 " RAM pages\n",
	       path, info.nr_cpus, info.ram_base, info.ram_size, info.icount, info.pages);
	if (failed)
		return cli_error(c, "load machine: could not arm %s", msg);
	return 0;
}

int cmd_load(struct cli *c, int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "machine"))
		return cli_error(c, "load: give machine FILE ('%s')", argv[1]);
	return cli_load_machine(c, argv[2]);
}
