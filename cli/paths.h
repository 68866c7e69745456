/* SPDX-License-Identifier: MIT */
/*
 * Where the bundled files are. A hypscope run from its build tree uses the
 * images the build made there; an installed one looks beside itself, in the
 * data directory relative to its own executable (../share/hypscope from
 * bin/), so an installation works wherever its prefix is.
 */
#ifndef HS_CLI_PATHS_H
#define HS_CLI_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The bundled file `name` ("hyp.elf"): build_path when this executable is
 * the one in the build tree, else <the executable's directory>/<relative data
 * dir>/name. Writes into buf and returns it.
 */
const char *cli_data_file(const char *name, const char *build_path, char *buf, size_t len);
/* The installed data directory (as above), or NULL when running from the build tree. */
const char *cli_installed_data_dir(char *buf, size_t len);

#endif
