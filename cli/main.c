/* SPDX-License-Identifier: MIT */
/*
 * hypscope: invocation like gdb.
 *   hypscope [OPTIONS]                         interactive (readline)
 *   hypscope [OPTIONS] --batch -ex CMD ...     run commands, exit non-zero on a failure
 *   hypscope [OPTIONS] -x FILE                 source FILE, then stay interactive
 *   hypscope [OPTIONS] run FILE... [--junit OUT.xml]   replay scenarios
 *   hypscope [OPTIONS] render --view V -o OUT.png [FILE.hss]   boot (or run FILE), draw
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef HS_DEFAULT_HYP_ELF
#define HS_DEFAULT_HYP_ELF "hyp.elf"
#endif
#ifndef HS_DEFAULT_GUEST_ELF
#define HS_DEFAULT_GUEST_ELF "guest.elf"
#endif

static void usage(FILE *o)
{
	fprintf(o,
		"usage: hypscope [OPTIONS]                      interactive debugger\n"
		"       hypscope [OPTIONS] --batch -ex CMD ...  run commands and exit\n"
		"       hypscope [OPTIONS] -x FILE              source FILE, then interactive\n"
		"       hypscope [OPTIONS] run FILE.hss... [--junit OUT.xml]\n"
		"       hypscope [OPTIONS] render --view tree|map|timeline [--table hyp|host]\n"
		"                [--addr A] [--cpu N] -o FILE.png [SCENARIO.hss]\n"
		"                boot the machine (or run SCENARIO), then draw a view\n"
		"\n"
		"options:\n"
		"  --hyp FILE        hypervisor image (default $HYPSCOPE_HYP, else the built one:\n"
		"                    %s)\n"
		"  --guest FILE      guest program for `vm create` (default $HYPSCOPE_GUEST, else\n"
		"                    the built one: %s)\n"
		"  --ram SIZE        RAM size, e.g. 1G, 512M, 16G (default 1G)\n"
		"  --ram-base ADDR   physical base of RAM (default 0x40000000)\n"
		"  --cpus N          number of CPUs (default 1)\n"
		"  --hyp-va-bits N   EL2 VA size, 39..48 (default 48)\n"
		"  -ex, --eval CMD   run CMD (repeatable, in order)\n"
		"  -x FILE           source a script (same language as scenarios)\n"
		"  --batch           exit after -ex / -x instead of starting the REPL\n"
		"  --no-color        no colours even on a terminal (NO_COLOR works too)\n"
		"  -h, --help        this text\n",
		HS_DEFAULT_HYP_ELF, HS_DEFAULT_GUEST_ELF);
}

struct action {
	bool is_file;
	const char *arg;
};

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "hypscope: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (cli_check_table())
		return 70;
	cli_machine_hook = cli_mm_machine_hook;
	struct cli c;
	cli_init(&c);
	const char *hyp = getenv("HYPSCOPE_HYP");
	if (!hyp || !*hyp)
		hyp = HS_DEFAULT_HYP_ELF;
	const char *guest = getenv("HYPSCOPE_GUEST");
	if (!guest || !*guest)
		guest = HS_DEFAULT_GUEST_ELF;
	bool batch = false, no_color = false, run = false, render = false;
	const char *junit = NULL;
	struct action *acts = calloc((size_t)argc + 1, sizeof(*acts));
	char **files = calloc((size_t)argc + 1, sizeof(*files));
	int nacts = 0, nfiles = 0;
	if (!acts || !files)
		return 70;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		/* Options taking a value accept --opt=value too. */
		char optbuf[64];
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		if (eq && (size_t)(eq - a) < sizeof(optbuf)) {
			snprintf(optbuf, sizeof(optbuf), "%.*s", (int)(eq - a), a);
			a = optbuf;
			next = eq + 1;
		}
#define TAKE()                                                    \
	do {                                                      \
		if (!next)                                        \
			return bad("option %s needs a value", a); \
		if (!eq)                                          \
			i++;                                      \
	} while (0)
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--batch") || !strcmp(a, "-batch")) {
			batch = true;
		} else if (!strcmp(a, "--no-color")) {
			no_color = true;
		} else if (!strcmp(a, "-ex") || !strcmp(a, "--ex") || !strcmp(a, "--eval") ||
			   !strcmp(a, "--eval-command")) {
			TAKE();
			acts[nacts++] = (struct action){false, next};
		} else if (!strcmp(a, "-x") || !strcmp(a, "--command")) {
			TAKE();
			acts[nacts++] = (struct action){true, next};
		} else if (!strcmp(a, "--hyp")) {
			TAKE();
			hyp = next;
		} else if (!strcmp(a, "--guest")) {
			TAKE();
			guest = next;
		} else if (!strcmp(a, "--ram")) {
			TAKE();
			if (!cli_parse_size(next, &c.mopts.ram_size))
				return bad("--ram '%s': give a size like 1G, 512M or 0x40000000",
					   next);
		} else if (!strcmp(a, "--ram-base")) {
			TAKE();
			if (!cli_parse_size(next, &c.mopts.ram_base))
				return bad("--ram-base '%s': give an address like 0x40000000",
					   next);
		} else if (!strcmp(a, "--cpus")) {
			TAKE();
			uint64_t v;
			if (!cli_parse_size(next, &v) || v < 1 || v > HS_MAX_CPUS)
				return bad("--cpus '%s': give 1 to 8", next);
			c.mopts.nr_cpus = (unsigned)v;
		} else if (!strcmp(a, "--hyp-va-bits")) {
			TAKE();
			uint64_t v;
			if (!cli_parse_size(next, &v) || v > 64)
				return bad("--hyp-va-bits '%s': give 39 to 48", next);
			c.mopts.hyp_va_bits = (unsigned)v;
		} else if (render && strcmp(a, "--hyp") && strcmp(a, "--guest") &&
			   strcmp(a, "--ram") && strcmp(a, "--ram-base") && strcmp(a, "--cpus") &&
			   strcmp(a, "--hyp-va-bits")) {
			/* Everything else after `render` is render's (values included). */
			files[nfiles++] = argv[i];
		} else if (!strcmp(a, "--junit")) {
			TAKE();
			junit = next;
		} else if (!strcmp(a, "render") && !run && !render && nacts == 0) {
			render = true;
		} else if (!strcmp(a, "run") && !run && !render && nfiles == 0) {
			run = true;
		} else if (run && a[0] != '-') {
			files[nfiles++] = argv[i];
		} else {
			return bad("unknown argument '%s'", a);
		}
#undef TAKE
	}
	c.mopts.hyp_elf = hyp;
	c.mopts.guest_elf = guest;
	c.color = !no_color && isatty(1) && !getenv("NO_COLOR");
	struct hs_error err = {0};
	if (hs_machine_opts_check(&c.mopts, &err)) {
		fprintf(stderr, "hypscope: %s\n", err.msg);
		return 2;
	}
	if (run) {
		if (!nfiles)
			return bad("run: no scenario files given%s", "");
		int st = cli_run_scenarios(&c, files, nfiles, junit);
		free(acts);
		free(files);
		return st;
	}
	if (junit)
		return bad("--junit only goes with run%s", "");
	if (render) {
		if (cli_machine_create(&c)) {
			fprintf(stderr, "hypscope: render: no machine: %s\n", c.machine_err);
			return 1;
		}
		int st = cli_render_main(&c, nfiles, files);
		cli_fini(&c);
		free(acts);
		free(files);
		return st;
	}
	if (cli_machine_create(&c))
		fprintf(stderr, "hypscope: warning: no machine: %s\n", c.machine_err);
	c.live = true;
	int failures = 0;
	for (int i = 0; i < nacts && !c.quit; i++) {
		if (acts[i].is_file) {
			cli_source_file(&c, acts[i].arg, &failures, NULL);
		} else if (cli_exec_line(&c, acts[i].arg)) {
			failures++;
		}
	}
	if (!batch && !c.quit)
		cli_repl(&c);
	cli_fini(&c);
	free(acts);
	free(files);
	return failures ? 1 : 0;
}
