/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the command interpreter on a booted machine. An input is
 * up to 16 command lines (fuzz_cli) or one expression for `print` (fuzz_expr,
 * -DHS_FUZZ_EXPR). Every line must end in output or an error message: no
 * crash, leak, undefined behaviour or hang (the instruction limit is lowered
 * so a loop costs little). The machine is booted once and made afresh every
 * 64 inputs, or when an input left it dead (an EL2 fault after a debugger
 * write is a legitimate outcome); commands that write files, run
 * a shell, open windows or quit are skipped, and so are lines with '>'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct cli c;
static unsigned runs;
static bool have_machine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The commands print a lot; the fuzzer's own report goes to stderr. */
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	cli_machine_hook = cli_mm_machine_hook; /* as main() does: mark, trace, checker */
	cli_init(&c);
	c.interp = &cli_commands;
	return 0;
}

static void fresh_machine(void)
{
	cli_fini(&c);
	cli_init(&c);
	c.interp = &cli_commands;
	c.mopts.hyp_elf = HS_HYP_ELF;
	c.mopts.guest_elf = HS_GUEST_ELF;
	c.mopts.insn_limit = 20000000;	 /* boot needs ~6.5 M in all */
	c.mopts.ram_size = 256ULL << 20; /* checks and diffs cost with RAM */
	have_machine = cli_machine_create(&c) == 0 && cli_exec_line(&c, "boot") == 0;
	if (!have_machine)
		fprintf(stderr, "fuzz: no booted machine: %s\n", c.machine_err);
}

#ifndef HS_FUZZ_EXPR
/* Commands with effects outside the machine: files, windows, the process. */
static bool skipped(const char *line)
{
	static const char *const outside[] = {"render", "viz", "quit", "shell", "source", "save"};
	char word[32];
	if (sscanf(line, " %31[^ \t]", word) != 1)
		return false;
	const struct cli_cmd *cmd = cli_find_cmd(&c, word, true);
	for (size_t i = 0; cmd && i < sizeof(outside) / sizeof(outside[0]); i++)
		if (!strcmp(cmd->name, outside[i]))
			return true;
	return strchr(line, '>') != NULL; /* `CMD > FILE` writes a file */
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	if (!have_machine || runs++ % 64 == 0 || hs_machine_dead(c.m))
		fresh_machine();
	if (!have_machine)
		abort(); /* the harness itself is broken: say so */
	char *buf = malloc(size + 8);
	if (!buf)
		return 0;
#ifdef HS_FUZZ_EXPR
	/* Straight to `print`: the whole input is its argument (no `> FILE` redirection). */
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *argv[] = {(char *)"print", buf, NULL};
	cmd_print(&c, 2, argv);
#else
	memcpy(buf, data, size);
	buf[size] = '\0';
	char *save = NULL;
	unsigned n = 0;
	for (char *line = strtok_r(buf, "\n", &save); line && n < 16;
	     line = strtok_r(NULL, "\n", &save), n++)
		if (!skipped(line))
			cli_exec_line(&c, line);
	c.quit = false;
#endif
	free(buf);
	return 0;
}
