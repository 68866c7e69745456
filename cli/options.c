/* SPDX-License-Identifier: MIT */
/*
 * The invocation modes and options of `hypscope` (see options.h). main.c
 * parses them by looking each argument up here (cli_option_find) and acting
 * on its id, so an option exists exactly when this table lists it.
 */
#include "options.h"

#include <stdbool.h>
#include <string.h>

const struct cli_mode cli_modes[] = {
    {NULL, "[OPTIONS]", "interactive debugger (GNU readline, tab completion)"},
    {NULL, "[OPTIONS] --batch -ex CMD ...", "run commands and exit (non-zero if one failed)"},
    {NULL, "[OPTIONS] -x FILE", "source FILE, then stay interactive"},
    {"run", "[OPTIONS] run FILE.hss... [--junit OUT.xml]",
     "replay scenario scripts, optionally writing a JUnit report"},
    {"render",
     "[OPTIONS] render --view tree|map|timeline [--table hyp|host] [--addr A] [--cpu N] "
     "-o FILE.png [SCENARIO.hss]",
     "boot the machine (or run SCENARIO), then draw a view"},
    {"inspect", "inspect --hyp IMAGE --ram FILE[@BASE] --sysregs FILE.json [--batch -ex CMD ...]",
     "inspect a dump (`dump ram`, `dump sysregs`) without running it"},
    {"gdbserver", "[OPTIONS] gdbserver [HOST:]PORT [-ex CMD ...]",
     "run the -ex commands, then serve the machine to gdb on a port (loopback unless HOST "
     "is given; 0 picks a free one)"},
    {NULL, "[OPTIONS] --stdio [-ex CMD ...]",
     "the same on stdin/stdout (gdb: target remote | hypscope --stdio)"},
};
const size_t cli_nmodes = sizeof(cli_modes) / sizeof(cli_modes[0]);

const struct cli_option cli_options[] = {
    {OPT_HYP, "--hyp", "FILE", OPTV_FILE,
     "hypervisor image (default $HYPSCOPE_HYP, else the bundled one)"},
    {OPT_GUEST, "--guest", "FILE", OPTV_FILE,
     "guest program for `vm create` (default $HYPSCOPE_GUEST, else the bundled one)"},
    {OPT_RAM, "--ram", "SIZE", OPTV_WORD,
     "RAM size, e.g. 1G, 512M, 16G (default 1G); with inspect: the memory dump,\n"
     "FILE[@BASE]"},
    {OPT_SYSREGS, "--sysregs", "FILE.json", OPTV_FILE,
     "with inspect: the system registers (`dump sysregs`), one file per option"},
    {OPT_RAM_BASE, "--ram-base", "ADDR", OPTV_WORD, "physical base of RAM (default 0x40000000)"},
    {OPT_CPUS, "--cpus", "N", OPTV_WORD, "number of CPUs, 1 to 8 (default 1)"},
    {OPT_HYP_VA_BITS, "--hyp-va-bits", "N", OPTV_WORD, "EL2 VA size, 39..48 (default 48)"},
    {OPT_INSN_LIMIT, "--insn-limit", "N", OPTV_WORD,
     "instructions one run may take before it is called a loop"},
    {OPT_LOAD, "--load", "FILE", OPTV_FILE,
     "start from a machine `save machine` wrote (its RAM and CPU options)"},
    {OPT_EVAL, "-ex, --ex, --eval, --eval-command", "CMD", OPTV_COMMAND,
     "run CMD (repeatable, in order)"},
    {OPT_SOURCE, "-x, --command", "FILE", OPTV_FILE,
     "source a script (same language as scenarios)"},
    {OPT_BATCH, "--batch, -batch", NULL, OPTV_NONE,
     "exit after -ex / -x instead of starting the REPL"},
    {OPT_JUNIT, "--junit", "OUT.xml", OPTV_FILE, "with run: write a JUnit XML report"},
    {OPT_NO_COLOR, "--no-color", NULL, OPTV_NONE,
     "no colours even on a terminal (NO_COLOR works too)"},
    {OPT_CHECK_TLB, "--check-tlb", NULL, OPTV_NONE,
     "check TLB maintenance live (like `set check-tlb log`); runs fail on violations"},
    {OPT_STDIO, "--stdio", NULL, OPTV_NONE, "serve gdb on stdin/stdout (see gdbserver)"},
    {OPT_QUIET, "-q, --quiet, -quiet, --silent", NULL, OPTV_NONE,
     "no boot chatter on stdout (console lines, boot steps, the summary): only\n"
     "what the commands print, for pipes"},
    {OPT_VERSION, "--version, -version", NULL, OPTV_NONE,
     "print the version, the Unicorn and Capstone libraries in use and the\n"
     "hypervisor image's build id"},
    {OPT_MAN, "--man", NULL, OPTV_NONE,
     "print the manual page as roff (the build installs it as hypscope.1)"},
    {OPT_COMPLETE, "--complete", "WORD...", OPTV_WORD,
     "print completions for a command line (the shell completion calls it)"},
    {OPT_HELP, "-h, --help", NULL, OPTV_NONE, "this text"},
};
const size_t cli_noptions = sizeof(cli_options) / sizeof(cli_options[0]);

const struct cli_option *cli_option_find(const char *arg)
{
	size_t len = strlen(arg);
	for (size_t i = 0; i < cli_noptions; i++) {
		for (const char *p = cli_options[i].names; p && *p;) {
			const char *end = strchr(p, ',');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			if (n == len && !strncmp(p, arg, n))
				return &cli_options[i];
			p = end ? end + 2 : NULL;
		}
	}
	return NULL;
}

void cli_usage(FILE *o, const char *hyp_elf, const char *guest_elf)
{
	for (size_t i = 0; i < cli_nmodes; i++)
		fprintf(o, "%s hypscope %s\n          %s\n",
			i ? "      " : "usage:", cli_modes[i].synopsis, cli_modes[i].summary);
	fprintf(o, "\noptions:\n");
	for (size_t i = 0; i < cli_noptions; i++) {
		const struct cli_option *opt = &cli_options[i];
		char head[64];
		snprintf(head, sizeof(head), "%s%s%s", opt->names, opt->arg ? " " : "",
			 opt->arg ? opt->arg : "");
		const char *h = opt->help;
		bool first = true;
		while (*h) {
			const char *nl = strchr(h, '\n');
			int n = nl ? (int)(nl - h) : (int)strlen(h);
			if (first && strlen(head) < 18)
				fprintf(o, "  %-18s%.*s\n", head, n, h);
			else if (first)
				fprintf(o, "  %s\n  %-18s%.*s\n", head, "", n, h);
			else
				fprintf(o, "  %-18s%.*s\n", "", n, h);
			first = false;
			h = nl ? nl + 1 : h + n;
		}
	}
	fprintf(o, "\nbundled images of this binary:\n  hypervisor  %s\n  guest       %s\n",
		hyp_elf, guest_elf);
	fprintf(o,
		"\nType `help` inside hypscope for its commands; `man hypscope` for all of it.\n");
}
