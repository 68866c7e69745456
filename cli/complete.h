/* SPDX-License-Identifier: MIT */
/*
 * Completion, one engine for both front ends: the REPL's tab key (readline)
 * and the shell's (`hypscope --complete WORD...`, called by the bash
 * completion script). Candidates come from the command table, each
 * command's own words, the options table and, with a machine, the
 * hypervisor's symbols.
 */
#ifndef HS_CLI_COMPLETE_H
#define HS_CLI_COMPLETE_H

#include <stddef.h>
#include <stdio.h>

struct cli;

/* A list of candidate words; the ones added by copy are freed by reset/free. */
struct cli_cands {
	const char **v;
	size_t n, cap;
	char **owned;
	size_t nowned, capowned;
};

void cli_cands_add(struct cli_cands *cs, const char *s);      /* s outlives the list */
void cli_cands_add_copy(struct cli_cands *cs, const char *s); /* s is copied */
void cli_cands_reset(struct cli_cands *cs);
void cli_cands_free(struct cli_cands *cs);

/*
 * Candidates for the word that follows words[0..n) of a debugger command
 * line (n == 0: the command names). Unfiltered: the caller matches them
 * against what has been typed.
 */
void cli_complete_line(struct cli *c, const char *const *words, int n, struct cli_cands *out);

/*
 * `hypscope --complete WORD...`: words are the command line after
 * "hypscope", the last one being the word under the cursor (maybe "").
 * Prints the candidates that start with it, one per line; or, where a file
 * name is wanted, the single line ":file" (":file .hss" for scenarios) for
 * the shell to complete file names itself.
 */
void cli_complete_argv(struct cli *c, int n, char **words, FILE *o);

#endif
