/* SPDX-License-Identifier: MIT */
/*
 * Opening files a user names (images, scenarios, sources) without trusting
 * them: a FIFO, a device or a directory must not block or be read forever.
 * The file is opened non-blocking, checked with fstat to be a regular file no
 * larger than a stated bound, and only then read.
 */
#ifndef HS_REGULAR_FILE_H
#define HS_REGULAR_FILE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hs_error.h"

/* The largest image the loader reads (hs_image_load). */
#define HS_IMAGE_MAX_SIZE (1ULL << 30)

/*
 * Open path for reading: a regular file of at most max_size bytes. Returns a
 * stream (blocking mode restored) and its size, or NULL with err saying
 * "is a directory", "is not a regular file (a FIFO)", "is larger than ..." or
 * the system's reason.
 */
FILE *hs_open_regular(const char *path, uint64_t max_size, uint64_t *size, struct hs_error *err);

/*
 * Read the whole of such a file into a malloc'd buffer (*buf, *len; one spare
 * NUL byte after the data). Returns 0 or a negative code.
 */
int hs_read_regular(const char *path, uint64_t max_size, void **buf, size_t *len,
		    struct hs_error *err);
#endif
