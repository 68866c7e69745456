/* SPDX-License-Identifier: MIT */
/* Inlined frames as gdb presents them while stepping (see step_inline.h). */
#include "step_inline.h"

#include <inttypes.h>
#include <string.h>

#include "step_lines.h"

static void set_location(struct cli *c, uint64_t pc, struct step_frame *f)
{
	f->file = NULL;
	f->line = 0;
	if (f->shown) {
		f->file = f->chain[f->shown - 1].call_file;
		f->line = f->chain[f->shown - 1].call_line;
		return;
	}
	struct step_loc l;
	step_locate(c, pc, &l);
	if (l.ln) {
		f->file = l.ln->file;
		f->line = l.ln->line;
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

static const char *base(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;
	return s ? s + 1 : p;
}

bool step_same_place(const char *fa, int la, const char *fb, int lb)
{
	/* The line table and DW_AT_call_file spell a file with different directories. */
	if (la != lb || !fa != !fb)
		return false;
	return !fa || !strcmp(base(fa), base(fb));
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

void step_inline_show(struct cli *c, bool with_frame)
{
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	struct step_frame f;
	step_frame_now(c, &f);
	/* Frame 0 is the line table's: the plain display. */
	if (!f.shown || c->json || !f.file) {
		step_show_location(c, st.pc, with_frame);
		return;
	}
	if (with_frame) {
		/* The real function by its symbol and offset, as cli_where names it. */
		char sym[128];
		if (f.shown + 1 == f.n)
			cli_symbolize(c, st.pc, sym, sizeof(sym));
		else
			snprintf(sym, sizeof(sym), "%s", f.chain[f.shown].name);
		printf("%#" PRIx64 " in %s at %s:%d\n", st.pc, sym, base(f.file), f.line);
	}
	char text[1024];
	cli_source_line(f.file, f.line, text, sizeof(text));
	printf("%s%d%s\t%s\n", cli_col(c, COL_GREEN), f.line, cli_col(c, COL_RESET), text);
}
