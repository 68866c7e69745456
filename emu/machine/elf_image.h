/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor image: loadable segments, symbols, DWARF line tables and the
 * absolute relocations the host must patch to HYP VAs (like Linux's
 * kvm_apply_hyp_relocations). All addresses are link addresses; the machine
 * adds the load bias.
 */
#ifndef HS_ELF_IMAGE_H
#define HS_ELF_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "hs_error.h"

/* The longest build id kept (ld's sha1 gives 20 bytes, md5 16, uuid 16). */
#define HS_BUILD_ID_MAX 64

struct hs_segment {
	uint64_t paddr, memsz, filesz;
	uint64_t offset; /* in the file */
	uint32_t flags;	 /* PF_R/W/X */
};

struct hs_symbol {
	const char *name;
	uint64_t addr;
	uint64_t size;
	int is_func;
};

struct hs_line {
	uint64_t addr;
	const char *file; /* interned in the image */
	int line;
	int is_stmt;
	size_t order; /* the row's place in the line programs, to keep it at one address */
};

struct hs_image {
	char *path;
	uint8_t *file;
	size_t file_size;
	uint64_t entry;
	uint64_t link_base, link_end; /* lowest and end of loadable memory */
	struct hs_segment *segs;
	size_t nsegs;
	struct hs_symbol *syms; /* sorted by address */
	size_t nsyms;
	struct hs_symbol **syms_by_name; /* sorted by name */
	struct hs_line *lines;		 /* sorted by address */
	size_t nlines;
	char **files; /* interned source file names */
	size_t nfiles;
	uint64_t *abs_relocs; /* link addresses of 64-bit absolute pointers */
	size_t nabs_relocs;
	/* The GNU build-id note (ld --build-id) as lower-case hex; "" when the image has none. */
	char build_id[2 * HS_BUILD_ID_MAX + 1];
};

/*
 * Load an AArch64 ELF executable. A malformed, truncated or foreign file gives
 * an error naming what is wrong; nothing is half-loaded.
 */
int hs_image_load(const char *path, struct hs_image **out, struct hs_error *err);
/* Same, from memory (the buffer is copied). `name` is used in messages. */
int hs_image_load_mem(const void *buf, size_t len, const char *name, struct hs_image **out,
		      struct hs_error *err);
void hs_image_free(struct hs_image *img);

/* The symbol containing (or the last one before) addr, with the offset; NULL if none. */
const struct hs_symbol *hs_image_symbolize(const struct hs_image *img, uint64_t addr,
					   uint64_t *offset);
/*
 * A symbol by exact name; NULL if none. Linux's hypervisor object prefixes every symbol
 * with `__kvm_nvhe_`: a name not found as given is looked up with that prefix too, so
 * people can type Linux's names (`__pkvm_init`). Of local symbols sharing a name (a static
 * function of several units) it is the lowest address, gdb's first location.
 */
const struct hs_symbol *hs_image_symbol(const struct hs_image *img, const char *name);
/*
 * Every symbol called name (as hs_image_symbol finds it: local
 * symbols of several units may share it), at most max into out. Returns the count.
 */
size_t hs_image_symbols_named(const struct hs_image *img, const char *name,
			      const struct hs_symbol **out, size_t max);
/* A symbol's name in the sources and the DWARF: Linux's without its `__kvm_nvhe_` prefix. */
const char *hs_image_source_name(const char *sym);
/* The contents of a section by name (loaded or not); NULL if none or empty. */
const void *hs_image_section(const struct hs_image *img, const char *name, size_t *len);
/* "Linux 7.2.13-1" from the image's .hypscope.kernel note; "" without one. */
void hs_image_kernel(const struct hs_image *img, char *buf, size_t len);
/* The line-table row covering addr; NULL if none. */
const struct hs_line *hs_image_line(const struct hs_image *img, uint64_t addr);
/*
 * The image's own source file that name designates (the whole path or its last
 * components, as the line table has it); NULL when the image has no such file.
 */
const char *hs_image_source_file(const struct hs_image *img, const char *name);
/* Whether name is path, or path's last components ("mm.c", "hyp/mm.c"). */
bool hs_image_names_file(const char *path, const char *name);
/* The first is_stmt address of file:line (file matched by suffix); 0 when none. */
uint64_t hs_image_line_addr(const struct hs_image *img, const char *file, int line);
/*
 * gdb's rule for a breakpoint on a line: file:line, or when that line has no
 * code the next line of the same file that has; *got is the line used.
 * 0 when no line at or after it has code.
 */
uint64_t hs_image_line_addr_next(const struct hs_image *img, const char *file, int line, int *got);

#endif
