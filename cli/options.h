/* SPDX-License-Identifier: MIT */
/*
 * The command line's own tables: the invocation modes and the options. Like
 * the command table (cli.h) they are the one description that `--help`, the
 * man page (`--man`) and shell completion (`--complete`) are all printed
 * from, so none of them can drift from the others.
 */
#ifndef HS_CLI_OPTIONS_H
#define HS_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

/* What an option's value is, for completion. */
enum cli_opt_value {
	OPTV_NONE,    /* a flag */
	OPTV_FILE,    /* a file name */
	OPTV_COMMAND, /* a debugger command line */
	OPTV_WORD,    /* anything else (a size, a number) */
};

enum cli_opt_id {
	OPT_HYP,
	OPT_GUEST,
	OPT_RAM,
	OPT_RAM_BASE,
	OPT_CPUS,
	OPT_HYP_VA_BITS,
	OPT_INSN_LIMIT,
	OPT_LOAD,
	OPT_EVAL,
	OPT_SOURCE,
	OPT_BATCH,
	OPT_JUNIT,
	OPT_NO_COLOR,
	OPT_QUIET,
	OPT_CHECK_TLB,
	OPT_STDIO,
	OPT_SYSREGS,
	OPT_VERSION,
	OPT_MAN,
	OPT_COMPLETE,
	OPT_HELP,
};

struct cli_option {
	enum cli_opt_id id; /* what main.c does with it */
	const char *names;  /* every spelling, ", " between them: "-ex, --eval" */
	const char *arg;    /* the value's placeholder ("FILE"), or NULL for a flag */
	enum cli_opt_value value;
	const char *help; /* may span lines ("\n"); no trailing newline */
};

struct cli_mode {
	const char *word;     /* the mode's word after the options ("run"), or NULL */
	const char *synopsis; /* after "hypscope " */
	const char *summary;
};

extern const struct cli_option cli_options[];
extern const size_t cli_noptions;
extern const struct cli_mode cli_modes[];
extern const size_t cli_nmodes;

/* The option spelled `arg` exactly (one of its names), or NULL. */
const struct cli_option *cli_option_find(const char *arg);
/* `hypscope --help`: modes, options, and the images this binary would load. */
void cli_usage(FILE *o, const char *hyp_elf, const char *guest_elf);
/* `hypscope --man`: the manual page (roff), from the modes, options and commands. */
void cli_print_man(FILE *o);

#endif
