/* SPDX-License-Identifier: MIT */
#include "step_lines.h"

#include "step_inline.h"

#include <inttypes.h>
#include <string.h>

void step_locate(struct cli *c, uint64_t pc, struct step_loc *l)
{
	memset(l, 0, sizeof(*l));
	const struct hs_image *img = hs_machine_image(c->m);
	if (!hs_addr_to_link(c->m, pc, &l->link))
		return;
	l->image = true;
	l->ln = hs_image_line(img, l->link);
	if (l->ln && l->ln->line <= 0)
		l->ln = NULL;
	uint64_t off;
	l->fn = hs_image_symbolize(img, l->link, &off);
	l->row_start = l->ln && l->ln->addr == l->link;
}

bool step_insn_at(struct cli *c, uint64_t pc, uint32_t *insn)
{
	uint64_t link;
	if (hs_addr_to_link(c->m, pc, &link))
		return hs_phys_read(c->m, hs_link_to_pa(c->m, link), insn, 4, NULL) == 0;
	char err[128];
	return cli_read(c, SP_VA, pc, insn, 4, err, sizeof(err)) == 0;
}

bool step_is_call(uint32_t i)
{
	return (i & 0xfc000000u) == 0x94000000u /* BL */ ||
	       (i & 0xfffffc1fu) == 0xd63f0000u /* BLR */;
}

bool step_is_ret(uint32_t i)
{
	return (i & 0xfffffc1fu) == 0xd65f0000u;
}

bool step_is_eret(uint32_t i)
{
	return i == 0xd69f03e0u;
}

bool step_fn_entry(const struct step_loc *now, const struct step_loc *from)
{
	return now->ln && now->fn && now->fn != from->fn && now->link == now->fn->addr;
}

bool step_call_returned(uint64_t call_pc, uint64_t call_sp, uint64_t pc, uint64_t sp)
{
	return pc == call_pc + 4 && sp >= call_sp;
}

void step_show_location(struct cli *c, uint64_t pc, bool with_frame)
{
	struct step_loc l;
	step_locate(c, pc, &l);
	if (c->json) {
		char sym[128];
		cli_symbolize(c, pc, sym, sizeof(sym));
		printf("{\"pc\":\"0x%" PRIx64 "\",\"symbol\":", pc);
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		hs_sb_json_str(&sb, sym);
		if (l.ln) {
			hs_sb_puts(&sb, ",\"file\":");
			hs_sb_json_str(&sb, l.ln->file);
			hs_sb_printf(&sb, ",\"line\":%d", l.ln->line);
		}
		printf("%s}\n", hs_sb_str(&sb));
		hs_sb_free(&sb);
		return;
	}
	if (!l.ln) {
		char w[320];
		cli_where(c, pc, w, sizeof(w));
		printf("%s\n", w);
		cli_disas(c, SP_DEFAULT, pc, 1, true);
		return;
	}
	if (with_frame || !l.row_start) {
		char w[320];
		cli_where(c, pc, w, sizeof(w));
		printf("%s\n", w);
	}
	char text[1024];
	cli_source_line(l.ln->file, l.ln->line, text, sizeof(text));
	printf("%s%d%s\t%s\n", cli_col(c, COL_GREEN), l.ln->line, cli_col(c, COL_RESET), text);
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
		printf("%#" PRIx64 " in %s at %s:%d\n", st.pc, sym, step_base_name(f.file), f.line);
	}
	char text[1024];
	cli_source_line(f.file, f.line, text, sizeof(text));
	printf("%s%d%s\t%s\n", cli_col(c, COL_GREEN), f.line, cli_col(c, COL_RESET), text);
}
