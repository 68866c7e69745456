/* SPDX-License-Identifier: MIT */
/*
 * `hypscope --version`: what a bug report needs, read at run time: the
 * project version, the Unicorn and Capstone libraries actually loaded (which
 * may differ from the headers it was built with) and the build id of the
 * hypervisor image it would run.
 */
#ifndef HS_CLI_VERSION_H
#define HS_CLI_VERSION_H

#include <stdio.h>

/* Print the version block; a hypervisor image that cannot be read is reported, not fatal. */
void cli_print_version(FILE *o, const char *hyp_elf);

#endif
