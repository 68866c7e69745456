/* SPDX-License-Identifier: MIT */
#include "pt_swenc.h"

#include <stdlib.h>
#include <strings.h>

static uint64_t field_mask(unsigned bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

const char *hs_swenc_owner_name(const struct hs_pt_swenc *e, unsigned owner)
{
	static const char *const generic[16] = {
	    "owner0", "owner1", "owner2",  "owner3",  "owner4",	 "owner5",  "owner6",  "owner7",
	    "owner8", "owner9", "owner10", "owner11", "owner12", "owner13", "owner14", "owner15"};
	if (e && owner < e->nr_owner_names && e->owner_names[owner])
		return e->owner_names[owner];
	return owner < 16 ? generic[owner] : "owner?";
}

const char *hs_swenc_state_name(const struct hs_pt_swenc *e, unsigned state)
{
	static const char *const generic[4] = {"state0", "state1", "state2", "state3"};
	if (e && state < e->nr_state_names && e->state_names[state])
		return e->state_names[state];
	return state < 4 ? generic[state] : "state?";
}

static int parse_num(const char *s, uint64_t max)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *end || *s == '-' || v > max || v > 0x7fffffff)
		return -1;
	return (int)v;
}

int hs_swenc_owner_parse(const struct hs_pt_swenc *e, const char *s)
{
	for (unsigned i = 0; e && i < e->nr_owner_names; i++)
		if (e->owner_names[i] && !strcasecmp(s, e->owner_names[i]))
			return (int)i;
	return parse_num(s, e ? field_mask(e->owner_bits) : 0);
}

int hs_swenc_state_parse(const struct hs_pt_swenc *e, const char *s)
{
	for (unsigned i = 0; e && i < e->nr_state_names; i++)
		if (e->state_names[i] && !strcasecmp(s, e->state_names[i]))
			return (int)i;
	return parse_num(s, e ? field_mask(e->state_bits) : 0);
}

int hs_swenc_is_annotation(const struct hs_pt_swenc *e, uint64_t desc)
{
	return e && e->owner_bits && !(desc & 1) && desc &&
	       (desc & e->annot_mask) == e->annot_match;
}

unsigned hs_swenc_owner(const struct hs_pt_swenc *e, uint64_t desc)
{
	return e ? (unsigned)((desc >> e->owner_shift) & field_mask(e->owner_bits)) : 0;
}

uint64_t hs_swenc_meta(const struct hs_pt_swenc *e, uint64_t desc)
{
	return e && e->meta_bits ? (desc >> e->meta_shift) & field_mask(e->meta_bits) : 0;
}

unsigned hs_swenc_state(const struct hs_pt_swenc *e, uint64_t desc)
{
	return e && e->state_bits ? (unsigned)((desc >> e->state_shift) & field_mask(e->state_bits))
				  : 0;
}

unsigned hs_swenc_gfn_bit(const struct hs_pt_swenc *e)
{
	return e && e->meta_bits ? e->meta_shift + e->guest_gfn_shift : 0;
}

unsigned hs_swenc_canon_owner(const struct hs_pt_swenc *e, unsigned raw)
{
	if (!e)
		return raw;
	if (e->host_owner >= 0 && raw == (unsigned)e->host_owner)
		return HS_SWENC_HOST;
	if (e->hyp_owner >= 0 && raw == (unsigned)e->hyp_owner)
		return HS_SWENC_HYP;
	if (e->guest_owner >= 0 && raw == (unsigned)e->guest_owner)
		return HS_SWENC_GUEST;
	return HS_SWENC_OTHER + raw;
}

const char *hs_swenc_canon_owner_name(const struct hs_pt_swenc *e, unsigned canon)
{
	int raw = -1;
	if (!e)
		return hs_swenc_owner_name(NULL, canon);
	switch (canon) {
	case HS_SWENC_HOST:
		raw = e->host_owner;
		break;
	case HS_SWENC_HYP:
		raw = e->hyp_owner;
		break;
	case HS_SWENC_GUEST:
		raw = e->guest_owner;
		if (raw < 0)
			return "guest";
		break;
	default:
		raw = (int)(canon - HS_SWENC_OTHER);
	}
	return hs_swenc_owner_name(e, raw < 0 ? canon : (unsigned)raw);
}

uint64_t hs_swenc_canon_meta(const struct hs_pt_swenc *e, unsigned canon, uint64_t meta)
{
	if (!e || canon != HS_SWENC_GUEST || !e->guest_handle_mask)
		return meta;
	return (meta & e->guest_handle_mask & 0xffff) | (meta >> e->guest_gfn_shift) << 16;
}
