/* SPDX-License-Identifier: MIT */
/* Choosing a hypervisor's profile from its image: the profiles hypscope knows. */
#include "profile.h"

static const struct hs_profile *const known[] = {&hs_profile_hypscope, &hs_profile_linux7,
						 &hs_profile_linux6_1, &hs_profile_linux6, NULL};

const struct hs_profile *const *hs_profiles(void)
{
	return known;
}

const struct hs_profile *hs_profile_for_image(const struct hs_image *img)
{
	for (unsigned i = 0; known[i]; i++)
		if (known[i]->matches(img))
			return known[i];
	return NULL;
}
