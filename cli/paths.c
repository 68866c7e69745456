/* SPDX-License-Identifier: MIT */
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Both set by cli/CMakeLists.txt; these defaults only keep the file compilable alone. */
#ifndef HS_BUILD_DIR
#define HS_BUILD_DIR ""
#endif
#ifndef HS_REL_DATADIR
#define HS_REL_DATADIR "../share/hypscope"
#endif

/* The directory of this executable ("" when /proc cannot tell). */
static void exe_dir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	buf[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(buf, len, "%s", exe);
}

/* dir is canonical (from /proc/self/exe): compare with the canonical build directory. */
static bool in_build_tree(const char *dir)
{
	char build[PATH_MAX];
	if (!*HS_BUILD_DIR || !realpath(HS_BUILD_DIR, build))
		return false;
	size_t n = strlen(build);
	return !strncmp(dir, build, n) && (dir[n] == '/' || dir[n] == '\0');
}

const char *cli_installed_data_dir(char *buf, size_t len)
{
	char dir[PATH_MAX];
	exe_dir(dir, sizeof(dir));
	if (!*dir || in_build_tree(dir))
		return NULL;
	snprintf(buf, len, "%s/%s", dir, HS_REL_DATADIR);
	return buf;
}

const char *cli_data_file(const char *name, const char *build_path, char *buf, size_t len)
{
	char dir[PATH_MAX], file[PATH_MAX + 256], canon[PATH_MAX];
	if (cli_installed_data_dir(dir, sizeof(dir))) {
		snprintf(file, sizeof(file), "%s/%s", dir, name);
		/* Messages read better without "bin/../": canonical when it exists. */
		snprintf(buf, len, "%s", realpath(file, canon) ? canon : file);
	} else
		snprintf(buf, len, "%s", build_path);
	return buf;
}
