/* SPDX-License-Identifier: MIT */
/*
 * hypscope: invocation like gdb.
 *   hypscope [OPTIONS]                         interactive (readline)
 *   hypscope [OPTIONS] --batch -ex CMD ...     run commands, exit non-zero on a failure
 *   hypscope [OPTIONS] -x FILE                 source FILE, then stay interactive
 *   hypscope [OPTIONS] run FILE... [--junit OUT.xml]   replay scenarios
 *   hypscope [OPTIONS] render --view V -o OUT.png [FILE.hss]   boot (or run FILE), draw
 *   hypscope [OPTIONS] gdbserver [HOST:]PORT | --stdio [-ex CMD ...]   serve gdb
 *   hypscope inspect --hyp IMAGE --ram FILE[@BASE] --sysregs FILE.json [-ex CMD ...]
 *                                              inspect a memory dump without running it
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "cli.h"
#include "gdbserver.h"
#include "machine.h"

#ifndef HS_VERSION
#define HS_VERSION "unknown"
#endif
#ifndef HS_UNICORN_VERSION
#define HS_UNICORN_VERSION "?"
#endif
#ifndef HS_DEFAULT_HYP_ELF
#define HS_DEFAULT_HYP_ELF "hyp.elf"
#endif
#ifndef HS_DEFAULT_GUEST_ELF
#define HS_DEFAULT_GUEST_ELF "guest.elf"
#endif

static void usage(FILE *o)
{
	fprintf(
	    o,
	    "usage: hypscope [OPTIONS]                      interactive debugger\n"
	    "       hypscope [OPTIONS] --batch -ex CMD ...  run commands and exit\n"
	    "       hypscope [OPTIONS] -x FILE              source FILE, then interactive\n"
	    "       hypscope [OPTIONS] run FILE.hss... [--junit OUT.xml]\n"
	    "       hypscope inspect --hyp IMAGE --ram FILE[@BASE] --sysregs FILE.json...\n"
	    "                [--batch -ex CMD ...]  inspect a dump (`dump ram`, `dump sysregs`)\n"
	    "       hypscope [OPTIONS] render --view tree|map|timeline [--table hyp|host]\n"
	    "                [--addr A] [--cpu N] -o FILE.png [SCENARIO.hss]\n"
	    "                boot the machine (or run SCENARIO), then draw a view\n"
	    "       hypscope [OPTIONS] gdbserver [HOST:]PORT [-ex CMD ...]\n"
	    "       hypscope [OPTIONS] --stdio [-ex CMD ...]\n"
	    "                run the -ex commands, then serve the machine to gdb on a\n"
	    "                port (loopback unless HOST is given; 0 picks a free one) or\n"
	    "                on stdin/stdout (gdb: target remote | hypscope --stdio)\n"
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
	    "  -q, --quiet       no boot chatter on stdout (console lines, boot steps, the\n"
	    "                    summary): only what the commands print, for pipes\n"
	    "  --version         print the version and exit\n"
	    "  --check-tlb       check TLB maintenance live (like `set check-tlb log`); runs "
	    "fail on violations\n"
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

/* What the command line asks for; parse_args fills it. */
struct invocation {
	bool batch, no_color, run, render, inspect;
	bool gdb_stdio;	      /* gdbserver on stdin/stdout */
	const char *gdb_port; /* gdbserver [HOST:]PORT */
	const char *ram_dump; /* inspect: --ram FILE[@BASE] */
	char **sysregs;	      /* inspect: --sysregs FILE (one per file) */
	int nsysregs;
	bool guest_given; /* --guest or $HYPSCOPE_GUEST, not the built default */
	const char *hyp, *guest, *junit;
	struct action *acts;
	char **files;
	int nacts, nfiles;
	struct hs_dump dump; /* inspect: what the files hold */
	char *dump_path;
};

/* Parses argv into inv and c->mopts. Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct invocation *inv, struct cli *c)
{
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
			inv->batch = true;
		} else if (!strcmp(a, "--check-tlb")) {
			c->check_tlb =
			    CLI_TLB_LOG; /* runs fail on violations; stopping adds nothing */
		} else if (!strcmp(a, "--no-color")) {
			inv->no_color = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet") || !strcmp(a, "-quiet") ||
			   !strcmp(a, "--silent")) {
			c->quiet = true;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-version")) {
			int major, minor;
			cs_version(&major, &minor);
			printf("hypscope %s\n"
			       "An EL2 hypervisor emulator and debugger: Unicorn %s, Capstone "
			       "%d.%d.\n",
			       HS_VERSION, HS_UNICORN_VERSION, major, minor);
			return 0;
		} else if (!strcmp(a, "-ex") || !strcmp(a, "--ex") || !strcmp(a, "--eval") ||
			   !strcmp(a, "--eval-command")) {
			TAKE();
			inv->acts[inv->nacts++] = (struct action){false, next};
		} else if (!strcmp(a, "-x") || !strcmp(a, "--command")) {
			TAKE();
			inv->acts[inv->nacts++] = (struct action){true, next};
		} else if (!strcmp(a, "--hyp")) {
			TAKE();
			inv->hyp = next;
		} else if (!strcmp(a, "--guest")) {
			TAKE();
			inv->guest = next;
			inv->guest_given = true;
		} else if (!strcmp(a, "--ram") && inv->inspect) {
			TAKE();
			inv->ram_dump = next;
		} else if (!strcmp(a, "--sysregs")) {
			TAKE();
			if (!inv->inspect)
				return bad("--sysregs only goes with inspect%s", "");
			inv->sysregs[inv->nsysregs++] = (char *)next;
		} else if (!strcmp(a, "--ram")) {
			TAKE();
			if (!cli_parse_size(next, &c->mopts.ram_size))
				return bad("--ram '%s': give a size like 1G, 512M or 0x40000000",
					   next);
		} else if (!strcmp(a, "--ram-base")) {
			TAKE();
			if (!cli_parse_size(next, &c->mopts.ram_base))
				return bad("--ram-base '%s': give an address like 0x40000000",
					   next);
		} else if (!strcmp(a, "--cpus")) {
			TAKE();
			uint64_t v;
			if (!cli_parse_size(next, &v) || v < 1 || v > HS_MAX_CPUS)
				return bad("--cpus '%s': give 1 to 8", next);
			c->mopts.nr_cpus = (unsigned)v;
		} else if (!strcmp(a, "--hyp-va-bits")) {
			TAKE();
			uint64_t v;
			if (!cli_parse_size(next, &v) || v > 64)
				return bad("--hyp-va-bits '%s': give 39 to 48", next);
			c->mopts.hyp_va_bits = (unsigned)v;
		} else if (inv->render && strcmp(a, "--hyp") && strcmp(a, "--guest") &&
			   strcmp(a, "--ram") && strcmp(a, "--ram-base") && strcmp(a, "--cpus") &&
			   strcmp(a, "--hyp-va-bits")) {
			/* Everything else after `render` is render's (values included). */
			inv->files[inv->nfiles++] = argv[i];
		} else if (!strcmp(a, "--stdio") && !inv->run && !inv->render) {
			inv->gdb_stdio = true;
		} else if (!strcmp(a, "gdbserver") && !inv->run && !inv->render && !inv->gdb_port) {
			if (next && !strcmp(next, "--stdio"))
				inv->gdb_stdio = true;
			else if (next && next[0] != '-')
				inv->gdb_port = next;
			else
				return bad("gdbserver needs [HOST:]PORT or --stdio%s", "");
			i++;
		} else if (!strcmp(a, "--junit")) {
			TAKE();
			inv->junit = next;
		} else if (!strcmp(a, "render") && !inv->run && !inv->render && inv->nacts == 0) {
			inv->render = true;
		} else if (!strcmp(a, "inspect") && !inv->run && !inv->render && !inv->inspect &&
			   inv->nacts == 0) {
			inv->inspect = true;
		} else if (!strcmp(a, "run") && !inv->run && !inv->render && inv->nfiles == 0) {
			inv->run = true;
		} else if (inv->run && a[0] != '-') {
			inv->files[inv->nfiles++] = argv[i];
		} else {
			return bad("unknown argument '%s'", a);
		}
#undef TAKE
	}
	if (inv->inspect && !inv->ram_dump)
		return bad("inspect: give the memory dump with --ram FILE[@BASE]%s", "");
	if (inv->run && !inv->nfiles)
		return bad("run: no scenario files given%s", "");
	if (inv->junit && !inv->run)
		return bad("--junit only goes with run%s", "");
	return -1;
}

/* Runs what inv asks for on c; returns the exit status. */
static int invoke(struct invocation *inv, struct cli *c)
{
	c->mopts.hyp_elf = inv->hyp;
	c->mopts.guest_elf = inv->guest;
	c->color = !inv->no_color && isatty(1) && !getenv("NO_COLOR");
	struct hs_error err = {0};
	if (inv->inspect && cli_dump_load(inv->ram_dump, inv->sysregs, inv->nsysregs, &inv->dump,
					  &c->mopts, &inv->dump_path, err.msg, sizeof(err.msg))) {
		fprintf(stderr, "hypscope: inspect: %s\n", err.msg);
		return 2;
	}
	if (hs_machine_opts_check(&c->mopts, &err)) {
		fprintf(stderr, "hypscope: %s\n", err.msg);
		return 2;
	}
	/* A guest program that cannot be used is said now, not at the first `vm create`. */
	if (inv->guest_given && hs_guest_program_check(inv->guest, &err)) {
		fprintf(stderr, "hypscope: --guest: %s\n", err.msg);
		return 2;
	}
	if (inv->run)
		return cli_run_scenarios(c, inv->files, inv->nfiles, inv->junit);
	if (inv->render) {
		if (cli_machine_create(c)) {
			fprintf(stderr, "hypscope: render: no machine: %s\n", c->machine_err);
			return 1;
		}
		return cli_render_main(c, inv->nfiles, inv->files);
	}
	bool no_machine = cli_machine_create(c) != 0;
	if (no_machine)
		fprintf(stderr, "hypscope: %s: no machine: %s\n", inv->batch ? "error" : "warning",
			c->machine_err);
	c->live = !c->quiet;
	int failures = 0;
	for (int i = 0; i < inv->nacts && !c->quit; i++) {
		if (inv->acts[i].is_file) {
			cli_source_file(c, inv->acts[i].arg, &failures, NULL);
		} else if (cli_exec_line(c, inv->acts[i].arg)) {
			failures++;
		}
	}
	if (inv->gdb_port || inv->gdb_stdio) {
		/* The -ex commands prepared the machine; now gdb drives it. */
		if (no_machine)
			return 1;
		return (inv->gdb_stdio ? cli_gdbserver_stdio(c)
				       : cli_gdbserver_listen(c, inv->gdb_port, false))
			   ? 1
			   : 0;
	}
	if (!inv->batch && !c->quit)
		cli_repl(c);
	/* A batch run that never had a machine did not do what it was asked. */
	return failures || (inv->batch && no_machine) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (cli_check_table())
		return 70;
	cli_machine_hook = cli_mm_machine_hook;
	cli_expr_hook = cli_expr_eval_addr;
	cli_fini_hook = cli_habits_fini;
	struct cli c;
	cli_init(&c);
	struct invocation inv = {0};
	inv.hyp = getenv("HYPSCOPE_HYP");
	if (!inv.hyp || !*inv.hyp)
		inv.hyp = HS_DEFAULT_HYP_ELF;
	inv.guest = getenv("HYPSCOPE_GUEST");
	inv.guest_given = inv.guest && *inv.guest;
	if (!inv.guest_given)
		inv.guest = HS_DEFAULT_GUEST_ELF;
	inv.acts = calloc((size_t)argc + 1, sizeof(*inv.acts));
	inv.files = calloc((size_t)argc + 1, sizeof(*inv.files));
	inv.sysregs = calloc((size_t)argc + 1, sizeof(*inv.sysregs));
	int st = 70;
	if (inv.acts && inv.files && inv.sysregs) {
		st = parse_args(argc, argv, &inv, &c);
		if (st < 0)
			st = invoke(&inv, &c);
	}
	cli_fini(&c);
	free(inv.acts);
	free(inv.files);
	free(inv.sysregs);
	free(inv.dump_path);
	return st;
}
