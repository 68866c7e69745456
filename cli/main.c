/* SPDX-License-Identifier: MIT *   hypscope --version | --man | --complete WORD...
 * The modes and options are described once, in options.c.
 */
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

#include "cli.h"
#include "bp_control.h"
#include "complete.h"
#include "gdbserver.h"
#include "cmd_machine_file.h"
#include "options.h"
#include "paths.h"
#include "version.h"
#include "machine.h"

#ifndef HS_DEFAULT_HYP_ELF
#define HS_DEFAULT_HYP_ELF "hyp.elf"
#endif
#ifndef HS_DEFAULT_GUEST_ELF
#define HS_DEFAULT_GUEST_ELF "guest.elf"
#endif

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
	bool batch, no_color, run, render, inspect, version;
	bool gdb_stdio;	      /* gdbserver on stdin/stdout */
	const char *gdb_port; /* gdbserver [HOST:]PORT */
	const char *ram_dump; /* inspect: --ram FILE[@BASE] */
	char **sysregs;	      /* inspect: --sysregs FILE (one per file) */
	int nsysregs;
	bool guest_given; /* --guest or $HYPSCOPE_GUEST, not the built default */
	const char *hyp, *guest, *junit;
	const char *load;			 /* --load FILE */
	const char *bundled_hyp, *bundled_guest; /* the images of this build or installation */
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
		const struct cli_option *opt = cli_option_find(a);
		if (inv->render && (!opt || opt->id == OPT_JUNIT || opt->id == OPT_STDIO)) {
			/* Everything else after `render` is render's (values included). */
			inv->files[inv->nfiles++] = argv[i];
			continue;
		}
		if (!opt) {
			if (!strcmp(a, "render") && !inv->run && !inv->render && inv->nacts == 0) {
				inv->render = true;
			} else if (!strcmp(a, "inspect") && !inv->run && !inv->render &&
				   !inv->inspect && inv->nacts == 0) {
				inv->inspect = true;
			} else if (!strcmp(a, "run") && !inv->run && !inv->render &&
				   inv->nfiles == 0) {
				inv->run = true;
			} else if (inv->run && a[0] != '-') {
				inv->files[inv->nfiles++] = argv[i];
			} else if (!strcmp(a, "gdbserver") && !inv->run && !inv->gdb_port) {
				if (next && !strcmp(next, "--stdio"))
					inv->gdb_stdio = true;
				else if (next && next[0] != '-')
					inv->gdb_port = next;
				else
					return bad("gdbserver needs [HOST:]PORT or --stdio%s", "");
				i++;
			} else {
				return bad("unknown argument '%s'", a);
			}
			continue;
		}
		if (opt->arg) {
			if (!next)
				return bad("option %s needs a value", a);
			if (!eq)
				i++;
		} else if (eq) {
			return bad("option %s takes no value", a);
		}
		uint64_t v;
		switch (opt->id) {
		case OPT_HELP:
			cli_usage(stdout, inv->bundled_hyp, inv->bundled_guest);
			return 0;
		case OPT_MAN:
			cli_print_man(stdout);
			return 0;
		case OPT_COMPLETE:
			return bad("--complete must come first%s", "");
		case OPT_VERSION:
			inv->version = true;
			break;
		case OPT_QUIET:
			c->quiet = true;
			break;
		case OPT_CHECK_TLB:
			c->check_tlb =
			    CLI_TLB_LOG; /* runs fail on violations; stopping adds nothing */
			break;
		case OPT_STDIO:
			if (inv->run)
				return bad("unknown argument '%s'", a);
			inv->gdb_stdio = true;
			break;
		case OPT_BATCH:
			inv->batch = true;
			break;
		case OPT_NO_COLOR:
			inv->no_color = true;
			break;
		case OPT_EVAL:
			inv->acts[inv->nacts++] = (struct action){false, next};
			break;
		case OPT_SOURCE:
			inv->acts[inv->nacts++] = (struct action){true, next};
			break;
		case OPT_HYP:
			inv->hyp = next;
			break;
		case OPT_LOAD:
			inv->load = next;
			break;
		case OPT_GUEST:
			inv->guest = next;
			inv->guest_given = true;
			break;
		case OPT_JUNIT:
			inv->junit = next;
			break;
		case OPT_SYSREGS:
			if (!inv->inspect)
				return bad("--sysregs only goes with inspect%s", "");
			inv->sysregs[inv->nsysregs++] = (char *)next;
			break;
		case OPT_RAM:
			if (inv->inspect) { /* inspect: the memory dump, FILE[@BASE] */
				inv->ram_dump = next;
				break;
			}
			if (!cli_parse_size(next, &c->mopts.ram_size))
				return bad("--ram '%s': give a size like 1G, 512M or 0x40000000",
					   next);
			break;
		case OPT_RAM_BASE:
			if (!cli_parse_size(next, &c->mopts.ram_base))
				return bad("--ram-base '%s': give an address like 0x40000000",
					   next);
			break;
		case OPT_CPUS:
			if (!cli_parse_size(next, &v) || v < 1 || v > HS_MAX_CPUS)
				return bad("--cpus '%s': give 1 to 8", next);
			c->mopts.nr_cpus = (unsigned)v;
			break;
		case OPT_HYP_VA_BITS:
			if (!cli_parse_size(next, &v) || v > 64)
				return bad("--hyp-va-bits '%s': give 39 to 48", next);
			c->mopts.hyp_va_bits = (unsigned)v;
			break;
		case OPT_INSN_LIMIT:
			if (!cli_parse_size(next, &c->mopts.insn_limit) || !c->mopts.insn_limit)
				return bad("--insn-limit '%s': give a positive count", next);
			break;
		}
	}
	if (inv->version) {
		cli_print_version(stdout, inv->hyp);
		return 0;
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
	if (inv->load && (inv->run || inv->render || inv->inspect)) {
		fprintf(stderr, "hypscope: --load: not with run, render or inspect (a scenario can "
				"`load machine FILE`)\n");
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
	/* A machine that is not the one asked for must not take the commands meant for it. */
	if (inv->load && !no_machine && cli_load_machine(c, inv->load))
		return 1;
	c->live = !c->quiet;
	cli_sigint_install(c, !inv->batch);
	int failures = 0;
	for (int i = 0; i < inv->nacts && !c->quit; i++) {
		if (inv->acts[i].is_file) {
			cli_source_file(c, inv->acts[i].arg, &failures, NULL);
		} else {
			cli_sigint_running(c, true);
			if (cli_exec_line(c, inv->acts[i].arg))
				failures++;
			cli_sigint_running(c, false);
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

/* A session ends: its habits (user commands, repeat line) and breakpoint extras go. */
static void session_fini(struct cli *c)
{
	cli_habits_fini(c);
	cli_bpx_clear(c);
}

int main(int argc, char **argv)
{
	if (cli_check_table())
		return 70;
	cli_machine_hook = cli_mm_machine_hook;
	cli_expr_hook = cli_expr_eval_addr;
	cli_fini_hook = session_fini;
	struct cli c;
	cli_init(&c);
	c.interp = &cli_commands;
	struct invocation inv = {0};
	/* The bundled images: beside the build, or in the installation's data dir. */
	char hyp_buf[4096], guest_buf[4096];
	inv.bundled_hyp = cli_data_file("hyp.elf", HS_DEFAULT_HYP_ELF, hyp_buf, sizeof(hyp_buf));
	inv.bundled_guest =
	    cli_data_file("guest.elf", HS_DEFAULT_GUEST_ELF, guest_buf, sizeof(guest_buf));
	inv.hyp = getenv("HYPSCOPE_HYP");
	if (!inv.hyp || !*inv.hyp)
		inv.hyp = inv.bundled_hyp;
	inv.guest = getenv("HYPSCOPE_GUEST");
	inv.guest_given = inv.guest && *inv.guest;
	if (!inv.guest_given)
		inv.guest = inv.bundled_guest;
	if (argc > 1 && !strcmp(argv[1], "--complete")) {
		/* Everything after it is the shell's words, options included. */
		c.mopts.hyp_elf = inv.hyp;
		c.mopts.guest_elf = inv.guest;
		/* The machine gives symbols; without one the rest still completes. */
		cli_machine_create(&c);
		cli_complete_argv(&c, argc - 2, argv + 2, stdout);
		cli_fini(&c);
		return 0;
	}
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
