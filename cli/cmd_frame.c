/* SPDX-License-Identifier: MIT */
/*
 * Frames: bt, frame N, up, down, info frame. The stack of the current CPU is
 * unwound with the image's call-frame information (emu/machine/image_cfi.h,
 * the .debug_frame gdb reads too); code without CFI falls back to the AArch64
 * frame record that x29 points at. A caller frame's PC is its return address;
 * its function and line are those of the call (the return address minus 4),
 * as gdb shows them. The selected frame lasts until the machine runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_frame.h"
#include "step_inline.h"
#include "image_scopes.h"

struct frame_read {
	struct cli *c;
};

static int read_va(void *ud, uint64_t va, uint64_t *val)
{
	struct frame_read *r = ud;
	char err[128];
	return cli_read(r->c, SP_VA, va, val, 8, err, sizeof(err));
}

static struct hs_cfi *cfi_of(struct cli *c)
{
	struct hs_dwarf *dw = cli_image_dwarf(c);
	if (!c->cfi_tried && dw) {
		c->cfi_tried = true;
		hs_cfi_open(dw, &c->cfi, NULL);
	}
	return c->cfi;
}

static bool insn_at_link(struct cli *c, uint64_t link, uint32_t *insn)
{
	return hs_phys_read(c->m, hs_link_to_pa(c->m, link), insn, 4, NULL) == 0;
}

/*
 * How far the function's prologue got before link (code without CFI): *pushed
 * when `stp x29, x30, [sp, #-N]!` ran (N in *push), *fp_set when `mov x29, sp`
 * did too. Functions that never push are frameless: x30 is their return address.
 */
static void prologue_state(struct cli *c, uint64_t link, bool *pushed, uint64_t *push, bool *fp_set)
{
	uint64_t off;
	const struct hs_symbol *fn = hs_image_symbolize(hs_machine_image(c->m), link, &off);
	*pushed = *fp_set = false;
	*push = 0;
	for (uint64_t a = fn ? fn->addr : link; a < link && a < link + 64 * 4; a += 4) {
		uint32_t i;
		if (!insn_at_link(c, a, &i))
			break;
		if ((i & 0xffc07fffu) == 0xa9807bfdu) { /* stp x29, x30, [sp, #imm]! */
			*pushed = true;
			*push = (uint64_t)(-(((int64_t)((i >> 15) & 0x7f) ^ 0x40) - 0x40) * 8);
		} else if (i == 0x910003fdu && *pushed) { /* mov x29, sp */
			*fp_set = true;
		}
	}
}

/* The caller of a frame without CFI: by its prologue (innermost frame), else the x29 record. */
static bool frame_record(struct cli *c, const struct cli_frame *f, bool innermost, uint64_t link,
			 struct cli_frame *up)
{
	uint64_t fp = f->regs.r[HS_CFI_FP], sp = f->regs.r[HS_CFI_SP], rec[2];
	struct frame_read r = {c};
	memset(up, 0, sizeof(*up));
	bool pushed = true, fp_set = true;
	uint64_t push = 0;
	if (innermost)
		prologue_state(c, link, &pushed, &push, &fp_set);
	if (!pushed) {
		/* Nothing pushed yet (or never): the return address is still in x30. */
		up->regs = f->regs;
		up->regs.known &= (1u << HS_CFI_FP) | (1u << HS_CFI_SP) | (0x3ffu << 19);
		up->regs.pc = f->regs.r[HS_CFI_LR];
		up->how = "no frame";
		return up->regs.pc != 0;
	}
	uint64_t at = fp_set ? fp : sp;
	if (!(f->regs.known & (1u << (fp_set ? HS_CFI_FP : HS_CFI_SP))) || !at || (at & 7))
		return false;
	if (read_va(&r, at, &rec[0]) || read_va(&r, at + 8, &rec[1]) || !rec[1])
		return false;
	up->regs.r[HS_CFI_FP] = rec[0];
	up->regs.r[HS_CFI_SP] = fp_set ? fp + 16 : sp + push;
	up->regs.known = (1u << HS_CFI_FP) | (1u << HS_CFI_SP);
	up->regs.pc = rec[1];
	up->how = "frame record";
	return true;
}

/* The frames on the stack: registers of each, by CFI or frame records. */
static unsigned unwind_stack(struct cli *c, struct cli_frame *f, unsigned max, char *why,
			     size_t len)
{
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	memset(&f[0], 0, sizeof(f[0]));
	for (unsigned i = 0; i < 31; i++)
		f[0].regs.r[i] = st.x[i];
	f[0].regs.r[HS_CFI_SP] = st.sp;
	f[0].regs.known = 0xffffffffu;
	f[0].regs.pc = st.pc;
	f[0].how = "registers";
	why[0] = '\0';
	struct hs_cfi *cfi = cfi_of(c);
	struct frame_read r = {c};
	unsigned n = 1;
	while (n < max) {
		struct cli_frame *cur = &f[n - 1], *up = &f[n];
		uint64_t link;
		if (!hs_addr_to_link(c->m, cur->regs.pc, &link)) {
			snprintf(why, len, "%#" PRIx64 " is not in the hypervisor image",
				 cur->regs.pc);
			break;
		}
		struct hs_error err = {0};
		memset(up, 0, sizeof(*up));
		int rc = cfi ? hs_cfi_caller(cfi, n > 1 ? link - 1 : link, &cur->regs, read_va, &r,
					     &up->regs, &cur->info, &err)
			     : -ENOENT;
		if (rc == 1)
			break; /* the outermost frame, says the CFI */
		if (!rc) {
			cur->have_info = true;
			up->how = "cfi";
		} else if (rc != -ENOENT || !frame_record(c, cur, n == 1, link, up)) {
			snprintf(why, len, "%s",
				 rc == -ENOENT ? "no CFI and no frame record" : err.msg);
			break;
		}
		if (!up->regs.pc) {
			why[0] = '\0';
			break;
		}
		uint64_t up_link;
		if (up->how && strcmp(up->how, "cfi") &&
		    !hs_addr_to_link(c->m, up->regs.pc, &up_link)) {
			/*
			 * EL2 runs only the hypervisor's code: a return address outside it
			 * read from a frame record (x29 as the lower EL left it, at the
			 * exception entry of code without CFI) is no frame.
			 */
			snprintf(why, len,
				 "the frame record gives %#" PRIx64
				 ", not in the hypervisor image (the exception entry from a "
				 "lower EL?)",
				 up->regs.pc);
			break;
		}
		uint64_t sp0 = cur->regs.r[HS_CFI_SP], sp1 = up->regs.r[HS_CFI_SP];
		if (sp1 < sp0 || (sp1 == sp0 && up->regs.pc == cur->regs.pc)) {
			snprintf(why, len, "previous frame inner to this frame (corrupt stack?)");
			break;
		}
		n++;
	}
	if (n == max)
		snprintf(why, len, "more than %u frames", max);
	return n;
}

/* The target of the B or BL at link (0: not a direct branch). */
static uint64_t branch_target(struct cli *c, uint64_t link, bool with_link)
{
	uint32_t i;
	if (!insn_at_link(c, link, &i) ||
	    (i & 0xfc000000u) != (with_link ? 0x94000000u : 0x14000000u))
		return 0;
	int64_t imm = (int64_t)((i & 0x03ffffffu) ^ 0x02000000u) - 0x02000000;
	return link + (uint64_t)(imm * 4);
}

#define CLI_MAX_TAIL 4

/*
 * The functions that took the call from `from` (a function's entry) to the
 * function at entry `to` by tail calls, like gdb's call-site chains: each
 * one's link address after its tail call, innermost first, into after[].
 * Only a unique chain (of up to CLI_MAX_TAIL) counts. Returns its length.
 */
static unsigned tail_chain(struct cli *c, struct hs_dwarf *dw, uint64_t from, uint64_t to,
			   uint64_t *after)
{
	uint64_t path[CLI_MAX_TAIL], found[CLI_MAX_TAIL];
	unsigned nfound = 0, paths = 0;
	/* Depth-first over tail calls; a path is [from ... last], last tail-calls `to`. */
	struct {
		uint64_t fn;
		uint64_t sites[8];
		unsigned n, next;
	} st[CLI_MAX_TAIL];
	unsigned depth = 0;
	st[0].fn = from;
	st[0].n = hs_dwarf_tail_calls(dw, from, st[0].sites, 8);
	st[0].next = 0;
	while (paths < 2) {
		if (st[depth].next == st[depth].n) {
			if (!depth)
				break;
			depth--;
			continue;
		}
		uint64_t site = st[depth].sites[st[depth].next++];
		uint64_t target = branch_target(c, site - 4, false);
		path[depth] = site;
		if (target == to) {
			paths++;
			nfound = depth + 1;
			memcpy(found, path, sizeof(path));
		} else if (target && depth + 1 < CLI_MAX_TAIL) {
			depth++;
			st[depth].fn = target;
			st[depth].n = hs_dwarf_tail_calls(dw, target, st[depth].sites, 8);
			st[depth].next = 0;
		}
	}
	if (paths != 1)
		return 0;
	for (unsigned i = 0; i < nfound; i++)
		after[i] = found[nfound - 1 - i];
	return nfound;
}

/* The file and line the line table gives for link ("": none). */
static void line_of(struct cli *c, uint64_t link, const char **file, int *line)
{
	const struct hs_line *ln = hs_image_line(hs_machine_image(c->m), link);
	*file = ln && ln->line > 0 ? ln->file : NULL;
	*line = ln && ln->line > 0 ? ln->line : 0;
}

/* Where frame out (the depth-th function at look of physical frame f) finds its variables. */
static void set_scope(struct cli_frame *out, const struct cli_frame *f, uint64_t look,
		      unsigned depth)
{
	out->look = look;
	out->inline_depth = depth;
	out->in_image = true;
	out->phys_cfa = f->info.cfa;
	out->have_phys_cfa = f->have_info;
}

/* Add frame f as bt shows it: its inlined functions first, the function they are in last. */
static unsigned add_inlined(struct cli *c, struct hs_dwarf *dw, const struct cli_frame *f,
			    uint64_t look, struct cli_frame *out, unsigned room)
{
	struct hs_scope_fn chain[8];
	unsigned n = dw ? hs_dwarf_inline_chain(dw, look, chain, 8) : 0, k = 0;
	if (!room)
		return 0;
	out[k] = *f;
	line_of(c, look, &out[k].file, &out[k].line);
	if (n <= 1) {
		set_scope(&out[0], f, look, 0);
		return 1;
	}
	for (; k < n && k < room; k++) {
		if (k)
			out[k] = *f;
		out[k].fn = chain[k].name;
		out[k].inlined = k + 1 < n;
		if (k) {
			out[k].file = chain[k - 1].call_file;
			out[k].line = chain[k - 1].call_line;
			out[k].how = "inlined";
			out[k].have_info = f->have_info;
		} else {
			line_of(c, look, &out[k].file, &out[k].line);
			out[k].have_info = false;
		}
	}
	/* The CFA and saved registers belong to the physical (outermost) one. */
	out[k - 1].info = f->info;
	out[k - 1].have_info = f->have_info;
	for (unsigned i = 0; i < k; i++)
		set_scope(&out[i], f, look, i);
	return k;
}

unsigned cli_unwind(struct cli *c, struct cli_frame *f, unsigned max, char *why, size_t len)
{
	struct cli_frame phys[CLI_MAX_FRAMES];
	unsigned np = unwind_stack(c, phys, CLI_MAX_FRAMES, why, len), n = 0;
	struct hs_dwarf *dw = cli_image_dwarf(c);
	const struct hs_image *img = hs_machine_image(c->m);
	for (unsigned p = 0; p < np && n < max; p++) {
		uint64_t pc = phys[p].regs.pc, link = 0;
		bool in_image = hs_addr_to_link(c->m, pc, &link);
		uint64_t look = p && in_image ? link - 4 : link;
		if (p && in_image && dw) {
			/* Functions between this caller and its callee that tail-called. */
			uint64_t cl, off, after[CLI_MAX_TAIL];
			const struct hs_symbol *callee = NULL;
			if (hs_addr_to_link(c->m, phys[p - 1].regs.pc, &cl))
				callee = hs_image_symbolize(img, p > 1 ? cl - 4 : cl, &off);
			/* gdb's rule: only from a call the DWARF describes. */
			uint64_t target =
			    hs_dwarf_is_call_site(dw, link) ? branch_target(c, link - 4, true) : 0;
			unsigned nt = callee && target && target != callee->addr
					  ? tail_chain(c, dw, target, callee->addr, after)
					  : 0;
			for (unsigned t = 0; t < nt && n < max; t++) {
				struct cli_frame tf = {.how = "tail call"};
				tf.regs.pc =
				    pc - link + after[t]; /* the same alias as the caller's */
				n += add_inlined(c, dw, &tf, after[t] - 4, &f[n], max - n);
			}
		}
		if (!in_image) {
			if (n < max)
				f[n++] = phys[p];
			continue;
		}
		unsigned k = add_inlined(c, dw, &phys[p], look, &f[n], max - n);
		/*
		 * At a stop where inlined blocks begin, gdb starts frame 0 at the
		 * function they are inlined into, at their call site (step_inline.c).
		 */
		unsigned hide = p ? 0 : step_inline_hidden(c);
		if (hide && hide < k) {
			memmove(&f[n], &f[n + hide], (k - hide) * sizeof(f[0]));
			k -= hide;
		}
		n += k;
	}
	return n;
}

/* "0x... in fn+off at file:line"; a caller frame's line is its call's. */
/* The function of frame i: "name+0xoff" (the PC's offset), or the inlined function's name. */
static void frame_function(struct cli *c, const struct cli_frame *f, unsigned i, char *sym,
			   size_t len, bool with_offset)
{
	uint64_t pc = f->regs.pc;
	if (f->fn && (f->inlined || !with_offset)) {
		snprintf(sym, len, "%s", f->fn);
		return;
	}
	/* A caller's function is the call's (its return address may be past the end). */
	cli_symbolize(c, i ? pc - 4 : pc, sym, len);
	char *plus = strrchr(sym, '+');
	if (!with_offset) {
		if (plus)
			*plus = '\0';
		return;
	}
	if (!i || !*sym)
		return;
	uint64_t off = plus ? strtoull(plus + 1, NULL, 0) : 0;
	if (!plus)
		plus = sym + strlen(sym);
	snprintf(plus, len - (size_t)(plus - sym), "+%#" PRIx64, off + 4);
}

static void frame_text(struct cli *c, const struct cli_frame *f, unsigned i, char *buf, size_t len)
{
	char sym[128];
	frame_function(c, f, i, sym, sizeof(sym), true);
	const char *file = f->file ? strrchr(f->file, '/') : NULL;
	file = file ? file + 1 : f->file;
	int w = snprintf(buf, len, "0x%016" PRIx64 " in %s", f->regs.pc, *sym ? sym : "??");
	if (f->line && w > 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, " at %s:%d", file, f->line);
}

static void frame_json(struct cli *c, struct hs_strbuf *sb, const struct cli_frame *f, unsigned i)
{
	char sym[128];
	frame_function(c, f, i, sym, sizeof(sym), false);
	hs_sb_printf(sb, "{\"frame\":%u,\"pc\":\"0x%" PRIx64 "\",\"function\":", i, f->regs.pc);
	hs_sb_json_str(sb, sym);
	if (f->line) {
		hs_sb_puts(sb, ",\"file\":");
		hs_sb_json_str(sb, f->file);
		hs_sb_printf(sb, ",\"line\":%d", f->line);
	}
	if (f->regs.known & (1u << HS_CFI_SP))
		hs_sb_printf(sb, ",\"sp\":\"0x%" PRIx64 "\"", f->regs.r[HS_CFI_SP]);
	if (f->have_info)
		hs_sb_printf(sb, ",\"cfa\":\"0x%" PRIx64 "\"", f->info.cfa);
	hs_sb_printf(sb, ",\"unwound_by\":\"%s\"}", f->how);
}

static unsigned selected(struct cli *c)
{
	if (c->frame_icount != hs_machine_icount(c->m) || c->frame_cpu != hs_current_cpu(c->m))
		c->frame_sel = 0;
	return c->frame_sel;
}

bool cli_frame_selected(struct cli *c, struct cli_frame *out)
{
	unsigned sel = selected(c);
	if (!sel)
		return false;
	struct cli_frame f[CLI_MAX_FRAMES];
	char why[256];
	unsigned n = cli_unwind(c, f, CLI_MAX_FRAMES, why, sizeof(why));
	if (sel >= n)
		return false;
	*out = f[sel];
	return true;
}

int cmd_bt(struct cli *c, int argc, char **argv)
{
	unsigned limit = CLI_MAX_FRAMES;
	if (argc > 1) {
		int64_t v;
		if (!cli_parse_num(argv[1], &v) || v <= 0)
			return cli_error(c, "bt: '%s' is not a positive number of frames", argv[1]);
		limit = v < CLI_MAX_FRAMES ? (unsigned)v : CLI_MAX_FRAMES;
	}
	struct cli_frame f[CLI_MAX_FRAMES];
	char why[256];
	unsigned n = cli_unwind(c, f, CLI_MAX_FRAMES, why, sizeof(why));
	unsigned shown = n < limit ? n : limit;
	unsigned sel = selected(c);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_puts(&sb, "[");
	for (unsigned i = 0; i < shown; i++) {
		if (c->json) {
			hs_sb_puts(&sb, i ? "," : "");
			frame_json(c, &sb, &f[i], i);
			continue;
		}
		char w[320];
		frame_text(c, &f[i], i, w, sizeof(w));
		const char *how = f[i].how;
		bool note = !strcmp(how, "frame record") || !strcmp(how, "no frame") ||
			    !strcmp(how, "tail call");
		hs_sb_printf(&sb, "%s#%-2u %s%s%s%s\n", i == sel && sel ? "*" : "", i, w,
			     note ? " [" : "", note ? how : "", note ? "]" : "");
	}
	if (c->json) {
		hs_sb_puts(&sb, "]");
	} else if (shown < n) {
		hs_sb_puts(&sb, "(More stack frames follow...)\n");
	} else if (*why) {
		hs_sb_printf(&sb, "Backtrace stopped: %s\n", why);
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

/* Select frame `want` and print it like gdb: "#N  0x... in fn at file:line", then the line. */
static int select_frame(struct cli *c, const char *cmd, long want)
{
	struct cli_frame f[CLI_MAX_FRAMES];
	char why[256];
	unsigned n = cli_unwind(c, f, CLI_MAX_FRAMES, why, sizeof(why));
	if (want < 0)
		return cli_error(c, "%s: Bottom (innermost) frame selected; you cannot go down.",
				 cmd);
	if ((unsigned long)want >= n && !strcmp(cmd, "frame"))
		return cli_error(c, "frame: No frame at level %ld (%u frames).", want, n);
	if ((unsigned long)want >= n)
		return cli_error(c, "%s: Initial frame selected; you cannot go up (%u frames%s%s).",
				 cmd, n, *why ? ": " : "", why);
	c->frame_sel = (unsigned)want;
	c->frame_icount = hs_machine_icount(c->m);
	c->frame_cpu = hs_current_cpu(c->m);
	char w[320];
	frame_text(c, &f[want], (unsigned)want, w, sizeof(w));
	if (c->json) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		frame_json(c, &sb, &f[want], (unsigned)want);
		cli_print_sb(c, &sb);
		hs_sb_free(&sb);
		return 0;
	}
	printf("#%-2ld %s\n", want, w);
	if (f[want].line) {
		char text[1024];
		cli_source_line(f[want].file, f[want].line, text, sizeof(text));
		printf("%s%d%s\t%s\n", cli_col(c, COL_GREEN), f[want].line, cli_col(c, COL_RESET),
		       text);
	}
	return 0;
}

static int parse_frames(struct cli *c, const char *cmd, int argc, char **argv, long dflt, long *v)
{
	*v = dflt;
	if (argc > 1) {
		int64_t n;
		if (!cli_parse_num(argv[1], &n) || n < 0 || n > 100000)
			return cli_error(c, "%s: '%s' is not a frame count", cmd, argv[1]);
		*v = (long)n;
	}
	return 0;
}

int cmd_frame(struct cli *c, int argc, char **argv)
{
	long n;
	if (parse_frames(c, "frame", argc, argv, (long)selected(c), &n))
		return -1;
	return select_frame(c, "frame", n);
}

int cmd_up(struct cli *c, int argc, char **argv)
{
	long n;
	if (parse_frames(c, "up", argc, argv, 1, &n))
		return -1;
	return select_frame(c, "up", (long)selected(c) + n);
}

int cmd_down(struct cli *c, int argc, char **argv)
{
	long n;
	if (parse_frames(c, "down", argc, argv, 1, &n))
		return -1;
	return select_frame(c, "down", (long)selected(c) - n);
}

static const char *const reg_names[HS_CFI_NR_REGS] = {
    "x0",  "x1",  "x2",	 "x3",	"x4",  "x5",  "x6",  "x7",  "x8",  "x9",  "x10",
    "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
    "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp"};

int cli_info_frame(struct cli *c, struct hs_strbuf *sb)
{
	struct cli_frame f[CLI_MAX_FRAMES];
	char why[256];
	unsigned n = cli_unwind(c, f, CLI_MAX_FRAMES, why, sizeof(why));
	unsigned i = selected(c);
	if (i >= n)
		i = 0;
	const struct cli_frame *fr = &f[i];
	char w[320];
	frame_text(c, fr, i, w, sizeof(w));
	if (c->json) {
		frame_json(c, sb, fr, i);
		return 0;
	}
	if (fr->have_info)
		hs_sb_printf(sb, "Stack level %u, frame at 0x%" PRIx64 ":\n", i, fr->info.cfa);
	else
		hs_sb_printf(sb, "Stack level %u, frame at an unknown CFA:\n", i);
	hs_sb_printf(sb, " pc = %s", w);
	if (i + 1 < n)
		hs_sb_printf(sb, "; saved pc = 0x%" PRIx64, f[i + 1].regs.pc);
	hs_sb_puts(sb, "\n");
	if (i + 1 < n && f[i + 1].have_info)
		hs_sb_printf(sb, " called by frame at 0x%" PRIx64, f[i + 1].info.cfa);
	else if (i + 1 < n)
		hs_sb_printf(sb, " called by frame %u", i + 1);
	if (i > 0 && f[i - 1].have_info)
		hs_sb_printf(sb, "%scaller of frame at 0x%" PRIx64, i + 1 < n ? ", " : " ",
			     f[i - 1].info.cfa);
	if (i + 1 < n || i > 0)
		hs_sb_puts(sb, "\n");
	if (i + 1 == n && *why)
		hs_sb_printf(sb, " outermost: %s\n", why);
	else if (i + 1 == n)
		hs_sb_puts(sb, " outermost frame (the CFI says the return address is undefined)\n");
	hs_sb_printf(sb, " found by: %s\n", fr->how);
	if (fr->have_info) {
		hs_sb_printf(sb, " Previous frame's sp is 0x%" PRIx64 "\n", fr->info.cfa);
		bool any = false;
		for (unsigned r = 0; r < HS_CFI_NR_REGS; r++) {
			if (!fr->info.saved_at[r])
				continue;
			hs_sb_printf(sb, "%s%s at 0x%" PRIx64, any ? ", " : " Saved registers:\n  ",
				     reg_names[r], fr->info.saved_at[r]);
			any = true;
		}
		if (any)
			hs_sb_puts(sb, "\n");
	}
	hs_sb_puts(sb, " Registers known in this frame:");
	for (unsigned r = 0; r < HS_CFI_NR_REGS; r++)
		if (fr->regs.known & (1u << r))
			hs_sb_printf(sb, " %s", reg_names[r]);
	hs_sb_puts(sb, " pc\n");
	return 0;
}
