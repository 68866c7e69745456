/* SPDX-License-Identifier: MIT */
#include "regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a plain file";
}

static void size_text(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ULL << 30) && !(n & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(n >> 30));
	else if (n >= (1ULL << 20) && !(n & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

FILE *hs_open_regular(const char *path, uint64_t max_size, uint64_t *size, struct hs_error *err)
{
	struct hs_error local;
	if (!err)
		err = &local;
	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		hs_err(err, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		hs_err(err, -errno, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			hs_err(err, -EISDIR, "%s: is a directory", path);
		else
			hs_err(err, -EINVAL, "%s: is not a regular file (%s)", path,
			       kind_of(st.st_mode));
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > max_size) {
		char lim[32];
		size_text(max_size, lim, sizeof(lim));
		hs_err(err, -EFBIG, "%s: is larger than %s (%lld bytes)", path, lim,
		       (long long)st.st_size);
		close(fd);
		return NULL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		hs_err(err, -errno, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (size)
		*size = (uint64_t)st.st_size;
	return f;
}

int hs_read_regular(const char *path, uint64_t max_size, void **buf, size_t *len,
		    struct hs_error *err)
{
	struct hs_error local;
	if (!err)
		err = &local;
	*buf = NULL;
	*len = 0;
	uint64_t sz;
	FILE *f = hs_open_regular(path, max_size, &sz, err);
	if (!f)
		return err->code;
	char *b = malloc((size_t)sz + 1);
	if (!b) {
		fclose(f);
		return hs_err(err, -ENOMEM, "%s: out of memory for %llu bytes", path,
			      (unsigned long long)sz);
	}
	/* The file may shrink while it is read; it cannot grow past what was allocated. */
	size_t n = fread(b, 1, (size_t)sz, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(b);
		return hs_err(err, -EIO, "%s: read error", path);
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
