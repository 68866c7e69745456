/* SPDX-License-Identifier: MIT */
/* Errors are values: every emu/ call that can fail fills one of these. */
#ifndef HS_ERROR_H
#define HS_ERROR_H

#include <stddef.h>

struct hs_error {
	int code;      /* negative errno-style code, 0 when no error */
	char msg[512]; /* a sentence a person can act on */
};

/* Record an error (err may be NULL) and return code, for `return hs_err(...)`. */
int hs_err(struct hs_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix an existing message with more context ("loading hyp.elf: ..."). */
int hs_err_prefix(struct hs_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
