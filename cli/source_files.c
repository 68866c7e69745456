/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's source files, for list and for the line shown at a stop or
 * a frame: found where the line table says, under HS_SOURCE_DIR, in an
 * installation's data directory or in the source tree hypscope was built from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "paths.h"
#include "regular_file.h"

/* Source files are read only if they are plain files of a sane size. */
#define CLI_SOURCE_MAX_SIZE (16ULL << 20)

static FILE *open_plain(const char *path)
{
	return hs_open_regular(path, CLI_SOURCE_MAX_SIZE, NULL, NULL);
}

/* Opens one of the image's own source files (file is a name from its line table). */
FILE *cli_open_source(const char *file)
{
	FILE *f = open_plain(file);
	if (f)
		return f;
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	/* An installation carries the hypervisor's sources in its data dir (src/hyp). */
	char installed[1024], src[1100];
	const char *data = cli_installed_data_dir(installed, sizeof(installed));
	if (data)
		snprintf(src, sizeof(src), "%s/src", data);
	const char *roots[] = {getenv("HS_SOURCE_DIR"), data ? src : NULL, HS_SOURCE_DIR};
	const char *subs[] = {"hyp", "hyp/lib", "emu", ""};
	char path[1200];
	for (size_t r = 0; r < 3; r++) {
		if (!roots[r])
			continue;
		snprintf(path, sizeof(path), "%s/%s", roots[r], file);
		if ((f = open_plain(path)))
			return f;
		for (size_t s = 0; s < 4; s++) {
			snprintf(path, sizeof(path), "%s/%s/%s", roots[r], subs[s], base);
			if ((f = open_plain(path)))
				return f;
		}
	}
	return NULL;
}

bool cli_source_line(const char *file, int line, char *buf, size_t len)
{
	FILE *f = cli_open_source(file);
	if (len)
		buf[0] = '\0';
	if (!f)
		return false;
	char tmp[1024];
	int n = 0;
	bool found = false;
	while (fgets(tmp, sizeof(tmp), f)) {
		if (++n == line) {
			tmp[strcspn(tmp, "\n")] = '\0';
			snprintf(buf, len, "%s", tmp);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}
