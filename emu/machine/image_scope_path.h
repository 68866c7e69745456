/* SPDX-License-Identifier: MIT */
/* The DIE path to an address, for the files of emu/machine that read scopes (libdw types). */
#ifndef HS_IMAGE_SCOPE_PATH_H
#define HS_IMAGE_SCOPE_PATH_H

#include <elfutils/libdw.h>

#define HS_SCOPE_DEPTH 32

/*
 * The DIEs from the unit of link address pc down to the innermost function,
 * inlined function or block containing it, outermost first, into path[] (the
 * unit itself in *cu). Returns the depth (0: no DWARF covers pc).
 */
unsigned hs_dwarf_scope_path(Dwarf *dw, uint64_t pc, Dwarf_Die *cu, Dwarf_Die *path);

#endif
