/* SPDX-License-Identifier: MIT */
#include "hs_version.h"

#include <hypscope/version.h>
#include <unicorn/unicorn.h>

#include "uc_quirks.h"

const char *hs_version(void)
{
	return HYPSCOPE_VERSION;
}

unsigned hs_version_number(void)
{
	return HYPSCOPE_VERSION_NUMBER;
}

void hs_unicorn_version(unsigned *major, unsigned *minor, unsigned *patch)
{
	unsigned maj, min;
	/* Unicorn 2 packs major.minor.patch.extra into one word. */
	unsigned packed = uc_version(&maj, &min);
	*major = maj;
	*minor = min;
	*patch = (packed >> 8) & 0xff;
}

bool hs_fast_stores(void)
{
	return hs_quirk_store_lock_skipped();
}
