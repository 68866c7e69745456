// SPDX-License-Identifier: MIT
/*
 * Freestanding string functions. GCC recognises byte loops as memset/memcpy
 * idioms and would turn them back into calls to themselves, so that
 * optimisation is disabled for this file's functions.
 */
#include <hyp/string.h>

#define NO_LIBCALL_IDIOMS __attribute__((optimize("no-tree-loop-distribute-patterns")))

/* Word accesses to memory of any type: tell the compiler they may alias. */
typedef u64 __attribute__((may_alias)) u64_alias;

NO_LIBCALL_IDIOMS void *memset(void *s, int c, size_t n)
{
	u8 *p = s;
	u64 pattern = 0x0101010101010101UL * (u8)c;

	/*
	 * Pages are zeroed often (the allocators at boot): 64 bytes per
	 * iteration where aligned, which the compiler turns into STP pairs.
	 */
	if (n >= 64 && !((uintptr_t)p & 7)) {
		for (; n >= 64; n -= 64, p += 64) {
			u64_alias *w = (u64_alias *)p;
			w[0] = pattern;
			w[1] = pattern;
			w[2] = pattern;
			w[3] = pattern;
			w[4] = pattern;
			w[5] = pattern;
			w[6] = pattern;
			w[7] = pattern;
		}
	}
	/* Word stores for the aligned middle: pages are zeroed often. */
	while (n && ((uintptr_t)p & 7)) {
		*p++ = (u8)c;
		n--;
	}
	for (; n >= 8; n -= 8, p += 8)
		*(u64_alias *)p = pattern;
	while (n--)
		*p++ = (u8)c;
	return s;
}

NO_LIBCALL_IDIOMS void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (!(((uintptr_t)d | (uintptr_t)s) & 7)) {
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(u64_alias *)d = *(const u64_alias *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

NO_LIBCALL_IDIOMS int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
	}
	return 0;
}

NO_LIBCALL_IDIOMS size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

/* Zero the 64-byte blocks of [w, w + n) that are not zero yet. */
NO_LIBCALL_IDIOMS static void memzero_blocks(u64_alias *w, size_t n)
{
	for (; n >= 64; n -= 64, w += 8) {
		if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
			memset((void *)w, 0, 64);
	}
	if (n)
		memset((void *)w, 0, n);
}

/*
 * 1 KiB is checked by one straight run of loads: under emulation a
 * loop's cost is its translated blocks as much as its instructions (100 MiB
 * of pool at 16 GiB were two blocks per 64 bytes).
 */
#define ZERO_CHECK_BYTES 1024

NO_LIBCALL_IDIOMS void memzero_pages(void *s, size_t n)
{
	u64_alias *w = s;
	for (; n >= ZERO_CHECK_BYTES; n -= ZERO_CHECK_BYTES, w += ZERO_CHECK_BYTES / 8) {
		u64 acc = 0;
#pragma GCC unroll 128
		for (int i = 0; i < ZERO_CHECK_BYTES / 8; i++)
			acc |= w[i];
		if (acc)
			memzero_blocks(w, ZERO_CHECK_BYTES);
	}
	memzero_blocks(w, n);
}
