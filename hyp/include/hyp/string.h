/* SPDX-License-Identifier: MIT */
/*
 * The few C library string functions the hyp needs. GCC may emit calls to
 * memset/memcpy for struct copies and initialisers, so hyp/lib/string.c
 * provides them under their standard names.
 */
#ifndef HYP_STRING_H
#define HYP_STRING_H

#include <hyp/types.h>

#ifdef HS_HOST_TEST
/*
 * Host unit tests also link the C library: rename ours so both coexist and
 * the hyp code under test really runs the hyp implementation.
 */
#define memset hyp_memset
#define memcpy hyp_memcpy
#define memcmp hyp_memcmp
#define strlen hyp_strlen
#endif

/**
 * memzero_pages() - make @n bytes at @s (8-byte aligned) zero, writing only
 * the 64-byte blocks that are not zero already. Under emulation a load costs
 * a fraction of a store, and most memory the allocators clear is still zero.
 */
void memzero_pages(void *s, size_t n);

/** memset() - fill @n bytes at @s with the byte @c; returns @s. */
void *memset(void *s, int c, size_t n);
/** memcpy() - copy @n bytes from @src to @dst (no overlap); returns @dst. */
void *memcpy(void *dst, const void *src, size_t n);
/** memcmp() - compare @n bytes; <0, 0 or >0 like the C library. */
int memcmp(const void *a, const void *b, size_t n);
/** strlen() - length of the NUL-terminated string @s. */
size_t strlen(const char *s);

#endif /* HYP_STRING_H */
