/* SPDX-License-Identifier: MIT */
/* Inlined frames as gdb presents them while stepping (see step_inline.h). */
#include "step_inline.h"

#include <inttypes.h>
#include <string.h>

static void set_location(struct cli *c, uint64_t pc, struct step_frame *f)
{
	f->file = NULL;
	f->line = 0;
	if (f->shown) {
		f->file = f->chain[f->shown - 1].call_file;
		f->line = f->chain[f->shown - 1].call_line;
		return;
	}
	/* The line table's line, as step_locate finds it (this file stays below step_lines.c). */
	uint64_t link;
	const struct hs_line *ln =
	    hs_addr_to_link(c->m, pc, &link) ? hs_image_line(hs_machine_image(c->m), link) : NULL;
	if (ln && ln->line > 0) {
		f->file = ln->file;
		f->line = ln->line;
	}
}

void step_frame_at(struct cli *c, uint64_t pc, struct step_frame *f)
{
	memset(f, 0, sizeof(*f));
	uint64_t link;
	struct hs_dwarf *dw = hs_addr_to_link(c->m, pc, &link) ? cli_image_dwarf(c) : NULL;
	if (dw)
		f->n = hs_dwarf_inline_chain(dw, link, f->chain, STEP_MAX_INLINE);
	/*
	 * gdb's skip_inline_frames: from the innermost block out, each inlined one
	 * that begins here is skipped, up to the first that does not.
	 */
	while (f->skipped + 1 < f->n && f->chain[f->skipped].begins)
		f->skipped++;
	f->shown = f->skipped;
	set_location(c, pc, f);
}

void step_frame_down(struct cli *c, uint64_t pc, struct step_frame *f, unsigned down)
{
	f->shown = down < f->shown ? f->shown - down : 0;
	set_location(c, pc, f);
}

static bool into_valid(struct cli *c)
{
	return (c->inline_into || c->inline_none) && c->inline_icount == hs_machine_icount(c->m) &&
	       c->inline_cpu == hs_current_cpu(c->m);
}

void step_frame_now(struct cli *c, struct step_frame *f)
{
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	step_frame_at(c, st.pc, f);
	bool valid = into_valid(c);
	unsigned into = valid ? c->inline_into : 0;
	f->shown = into < f->skipped && !(valid && c->inline_none) ? f->skipped - into : 0;
	set_location(c, st.pc, f);
}

bool step_frame_caller(const struct step_frame *f, struct step_frame *out)
{
	if (f->shown + 1 >= f->n)
		return false;
	*out = *f;
	out->shown = f->shown + 1;
	out->file = f->chain[f->shown].call_file;
	out->line = f->chain[f->shown].call_line;
	return true;
}

/* The inline depth of frame 0: 0 for the real function. */
static unsigned depth(const struct step_frame *f)
{
	return f->n ? f->n - 1 - f->shown : 0;
}

bool step_frame_same(const struct step_frame *a, const struct step_frame *b)
{
	if (!a->n || !b->n)
		return !a->n && !b->n;
	return a->chain[a->n - 1].entry == b->chain[b->n - 1].entry && depth(a) == depth(b) &&
	       a->chain[a->shown].entry == b->chain[b->shown].entry;
}

bool step_frame_inside(const struct step_frame *now, const struct step_frame *outer)
{
	if (!now->n || !outer->n || depth(now) <= depth(outer) ||
	    now->chain[now->n - 1].entry != outer->chain[outer->n - 1].entry)
		return false;
	/* The outer frame's block is on now's chain at the outer frame's depth. */
	unsigned at = now->n - 1 - depth(outer);
	return now->chain[at].entry == outer->chain[outer->shown].entry;
}

bool step_frame_inlined(const struct step_frame *f)
{
	return f->shown + 1 < f->n;
}

const char *step_base_name(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

bool step_same_place(const char *fa, int la, const char *fb, int lb)
{
	/* The line table and DW_AT_call_file spell a file with different directories. */
	if (la != lb || !fa != !fb)
		return false;
	return !fa || !strcmp(step_base_name(fa), step_base_name(fb));
}

unsigned step_inline_hidden(struct cli *c)
{
	struct step_frame f;
	step_frame_now(c, &f);
	return f.shown;
}

static void mark(struct cli *c)
{
	c->inline_icount = hs_machine_icount(c->m);
	c->inline_cpu = hs_current_cpu(c->m);
}

void step_inline_enter(struct cli *c, bool ran)
{
	if (!into_valid(c))
		c->inline_into = c->inline_free = 0;
	c->inline_into++;
	c->inline_free = ran ? 0 : c->inline_free + 1;
	c->inline_none = false;
	mark(c);
}

bool step_inline_leave(struct cli *c)
{
	if (!into_valid(c) || !c->inline_free)
		return false;
	c->inline_into--;
	c->inline_free--;
	mark(c);
	return true;
}

void step_inline_forget(struct cli *c)
{
	c->inline_into = c->inline_free = 0;
	c->inline_none = false;
}

void step_inline_no_skip(struct cli *c)
{
	c->inline_into = c->inline_free = 0;
	c->inline_none = true;
	mark(c);
}
