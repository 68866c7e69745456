/* SPDX-License-Identifier: MIT */
/*
 * The colour classes every view paints pages with (map cells, tree rows,
 * timeline marks) and their legend names: one table below all the views, so
 * no view calls back into the engine that draws it.
 */
#include "viz.h"

static const struct {
	const char *name;
	uint32_t color;
} classes[HS_VIZ_C_COUNT] = {
    [HS_VIZ_C_NONE] = {"none", 0xff2b2d31u},
    [HS_VIZ_C_HOST_OWNED] = {"host owned", 0xff3a86ffu},
    [HS_VIZ_C_HOST_SHARED] = {"host shared", 0xff8ecae6u},
    [HS_VIZ_C_HOST_BORROWED] = {"host borrowed", 0xff00b4a6u},
    [HS_VIZ_C_HYP_OWNED] = {"hyp owned", 0xffff8c00u},
    [HS_VIZ_C_HYP_BORROWED] = {"hyp borrowed", 0xffffd166u},
    [HS_VIZ_C_GUEST] = {"guest", 0xff9d4eddu},
    [HS_VIZ_C_ANNOT_UNKNOWN] = {"annotated ?", 0xffef233cu},
    [HS_VIZ_C_MIXED] = {"mixed", 0xffd0d0d0u},
};

const char *hs_viz_class_name(enum hs_viz_class c)
{
	return (unsigned)c < HS_VIZ_C_COUNT ? classes[c].name : "?";
}

uint32_t hs_viz_class_color(enum hs_viz_class c)
{
	return (unsigned)c < HS_VIZ_C_COUNT ? classes[c].color : 0xffff00ffu;
}
