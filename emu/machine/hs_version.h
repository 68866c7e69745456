/* SPDX-License-Identifier: MIT */
/*
 * Versions at run time: of this library (which may differ from the
 * <hypscope/version.h> a program was compiled with) and of the Unicorn it
 * runs on.
 */
#ifndef HS_HS_VERSION_H
#define HS_HS_VERSION_H

#include <stdbool.h>

/* The version this library was built as: "0.1.0" (HYPSCOPE_VERSION). */
const char *hs_version(void);
/* The same as 0x00MMmmpp (HYPSCOPE_VERSION_NUMBER), for comparisons. */
unsigned hs_version_number(void);
/* The Unicorn library loaded at run time (uc_version). */
void hs_unicorn_version(unsigned *major, unsigned *minor, unsigned *patch);
/*
 * True when stores take the fast path: with Unicorn 2.0.1 the machine
 * replaces libunicorn's per-store page-collection lock, which needs the
 * dynamic linker to bind libunicorn's calls to the machine's definitions
 * (docs/api.md, "Linking"). False means stores run at Unicorn's own speed;
 * results are the same either way.
 */
bool hs_fast_stores(void);

#endif
