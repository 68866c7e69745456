/* SPDX-License-Identifier: MIT */
#include "version.h"

#include <capstone/capstone.h>
#include <hypscope/version.h>

#include "elf_image.h"
#include "hs_version.h"

#ifndef HS_GIT_VERSION
#define HS_GIT_VERSION ""
#endif
#ifndef HS_UNICORN_BUILT_VERSION /* the build defines it; builds of cli/ code elsewhere (fuzz/) \
				    may not */
#define HS_UNICORN_BUILT_VERSION "?"
#endif

void cli_print_version(FILE *o, const char *hyp_elf)
{
	/* The commit the build was configured from, when it came from git. */
	if (*HS_GIT_VERSION)
		fprintf(o, "hypscope %s (git %s)\n", HYPSCOPE_VERSION, HS_GIT_VERSION);
	else
		fprintf(o, "hypscope %s\n", HYPSCOPE_VERSION);
	unsigned uc_major, uc_minor, uc_patch;
	hs_unicorn_version(&uc_major, &uc_minor, &uc_patch);
	fprintf(o, "unicorn %u.%u.%u (built with %s)\n", uc_major, uc_minor, uc_patch,
		HS_UNICORN_BUILT_VERSION);
	int cs_major, cs_minor;
	cs_version(&cs_major, &cs_minor);
	fprintf(o, "capstone %d.%d (built with %d.%d)\n", cs_major, cs_minor, CS_API_MAJOR,
		CS_API_MINOR);
	struct hs_image *img;
	struct hs_error err = {0};
	if (hs_image_load(hyp_elf, &img, &err)) {
		fprintf(o, "hypervisor %s: unreadable: %s\n", hyp_elf, err.msg);
		return;
	}
	fprintf(o, "hypervisor %s build-id %s\n", hyp_elf, *img->build_id ? img->build_id : "none");
	hs_image_free(img);
}
