/* SPDX-License-Identifier: MIT */
/*
 * Saved machines: the whole machine in one file (docs/time-travel.md has the
 * format), from which a new process continues exactly as this one would
 * have. The file names the hypervisor image it ran (a hash of the ELF file and
 * its GNU build id), the RAM and CPU options, every CPU's registers (by name,
 * for other tools, and as Unicorn's own context, for an exact continuation),
 * the non-zero RAM pages and the parts above the machine (host model,
 * session). The payload is one zstd frame; the header and the payload carry
 * FNV-1a 64 hashes, so a truncated or damaged file is refused, never
 * half-loaded.
 */
#ifndef HS_MACHINE_FILE_H
#define HS_MACHINE_FILE_H

#include <stdint.h>

#include "machine.h"

#define HS_MACHINE_FILE_VERSION 2

/* What a file's header says (hs_machine_file_peek). */
struct hs_machine_file_info {
	uint32_t version;
	uint64_t ram_base, ram_size;
	unsigned nr_cpus, hyp_va_bits;
	uint64_t icount;    /* machine instructions when it was saved */
	uint64_t pages;	    /* non-zero RAM pages it holds */
	uint64_t bytes;	    /* file size */
	char build_id[136]; /* the image's GNU build id ("" when none) */
};

/* Write the machine to path (through a temporary file renamed at the end). */
int hs_machine_save(struct hs_machine *m, const char *path, struct hs_machine_file_info *info,
		    struct hs_error *err);
/*
 * Read and check a file's header: a file that is not a saved machine, of a
 * newer format version, or whose header is damaged is refused.
 */
int hs_machine_file_peek(const char *path, struct hs_machine_file_info *info, struct hs_error *err);
/*
 * Load a saved machine into m, a machine just created (not run) with the
 * file's options (hs_machine_file_peek gives them) and the same hypervisor
 * image. The file is checked whole before anything is changed: a truncated,
 * damaged, foreign or oversized file is refused and leaves m as it was
 * (only a part refusing its own section can leave m half-loaded: destroy it).
 */
int hs_machine_load(struct hs_machine *m, const char *path, struct hs_error *err);
/*
 * Only the parts' sections (the layers above the machine registered since:
 * a debugger attaches its session after the machine is loaded).
 */
int hs_machine_load_parts(struct hs_machine *m, const char *path, struct hs_error *err);

#endif
