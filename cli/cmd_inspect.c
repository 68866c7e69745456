/* SPDX-License-Identifier: MIT */
/* Inspection: info, x, disas, bt, list, sysreg, console, breakpoints. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_checkpoint.h"
#include "cmd_frame.h"
#include "cmd_reverse.h"
#include "linux_boot.h"
#include "paths.h"
#include "profile.h"
#include "regular_file.h"
#include "cmd_print.h"

/* ---- disassembly ----------------------------------------------------------- */

int cmd_disas(struct cli *c, int argc, char **argv)
{
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	uint64_t addr = st.pc;
	enum cli_space sp = SP_VA;
	unsigned n = 10;
	if (argc > 1 && cli_eval(c, argv[1], &sp, &addr))
		return -1;
	if (argc == 1 && st.el < 2) {
		/*
		 * The PC is in the host (or a guest) at EL1: read it as that CPU does,
		 * through the EL1&0 regime. With the EL1 MMU off (the host model and
		 * the bundled guest) the PC is an IPA, translated by the current stage 2.
		 */
		if (!cli_el1_pc_space(c, &sp))
			return cli_error(
			    c,
			    "disas: cpu%u is at EL%u with its stage 1 on, which hypscope "
			    "does not walk: give an address (pa:ADDR, ipa:ADDR)",
			    hs_current_cpu(c->m), st.el);
		if (!c->json)
			printf("cpu%u is at EL%u: the PC as %s\n", hs_current_cpu(c->m), st.el,
			       sp == SP_IPA ? "an IPA through the host stage 2" : "a PA");
	}
	if (argc > 2) {
		int64_t v;
		if (!cli_parse_num(argv[2], &v) || v <= 0 || v > 100000)
			return cli_error(c, "disas: '%s' is not an instruction count", argv[2]);
		n = (unsigned)v;
	}
	return cli_disas(c, sp == SP_DEFAULT ? SP_VA : sp, addr, n, true);
}

/* ---- x/FMT ------------------------------------------------------------------ */

/* x/s: COUNT C strings from addr, each up to its NUL (200 characters shown, like gdb). */
static int x_strings(struct cli *c, enum cli_space sp, uint64_t addr, unsigned count)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_puts(&sb, "[");
	int rc = 0;
	for (unsigned i = 0; i < count; i++) {
		char sym[128], err[256];
		cli_symbolize(c, addr, sym, sizeof(sym));
		struct hs_strbuf str;
		hs_sb_init(&str);
		uint64_t a = addr;
		bool more = false;
		for (;;) {
			uint8_t ch;
			if (cli_read(c, sp, a, &ch, 1, err, sizeof(err))) {
				if (a == addr) {
					rc =
					    cli_error(c, "x: cannot read %#" PRIx64 ": %s", a, err);
					hs_sb_free(&str);
					goto out;
				}
				break;
			}
			a++;
			if (!ch)
				break;
			if (a - addr > 200) {
				more = true;
				/* skip to the end of the string for the next address */
				continue;
			}
			hs_sb_putc(&str, (char)ch);
			if (a - addr > 1u << 20)
				break;
		}
		if (c->json) {
			hs_sb_printf(&sb, "%s{\"addr\":\"%#" PRIx64 "\",\"string\":", i ? "," : "",
				     addr);
			hs_sb_json_str(&sb, hs_sb_str(&str));
			hs_sb_puts(&sb, "}");
		} else {
			hs_sb_printf(&sb, "%#" PRIx64 "%s%s%s%s:\t\"", addr, cli_col(c, COL_DIM),
				     *sym ? " <" : "", sym, *sym ? ">" : "");
			hs_sb_puts(&sb, cli_col(c, COL_RESET));
			for (const char *p = hs_sb_str(&str); *p; p++) {
				unsigned char ch = (unsigned char)*p;
				if (ch == '\n')
					hs_sb_puts(&sb, "\\n");
				else if (ch == '"' || ch == '\\')
					hs_sb_printf(&sb, "\\%c", ch);
				else if (ch >= 0x20 && ch < 0x7f)
					hs_sb_putc(&sb, (char)ch);
				else
					hs_sb_printf(&sb, "\\%03o", ch);
			}
			hs_sb_printf(&sb, "\"%s\n", more ? "..." : "");
		}
		hs_sb_free(&str);
		addr = a;
		c->x_next = a;
	}
	if (c->json)
		hs_sb_puts(&sb, "]");
	cli_print_sb(c, &sb);
out:
	hs_sb_free(&sb);
	return rc;
}

int cmd_x(struct cli *c, int argc, char **argv)
{
	unsigned count = 1, size = 4;
	char fmt = 'x';
	const char *addr_s = argv[1];
	if (argv[1][0] == '/') {
		const char *p = argv[1] + 1;
		if (isdigit((unsigned char)*p)) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);
			if (v == 0 || v > 65536)
				return cli_error(c, "x: count '%.*s' must be between 1 and 65536",
						 (int)(end - p), p);
			count = (unsigned)v;
			p = end;
		}
		for (; *p; p++) {
			switch (*p) {
			case 'x':
			case 'd':
			case 'u':
			case 'i':
			case 's':
				fmt = *p;
				break;
			case 'b':
				size = 1;
				break;
			case 'h':
				size = 2;
				break;
			case 'w':
				size = 4;
				break;
			case 'g':
				size = 8;
				break;
			default:
				return cli_error(
				    c,
				    "x: format letter '%c' in '%s': give a count, x/d/u/i/s "
				    "and b/h/w/g",
				    *p, argv[1]);
			}
		}
		if (argc < 3)
			return cli_error(c, "x: missing address; usage: x/FMT ADDR");
		addr_s = argv[2];
	}
	enum cli_space sp = SP_VA;
	uint64_t addr;
	if (cli_eval(c, addr_s, &sp, &addr))
		return -1;
	if (sp == SP_DEFAULT)
		sp = SP_VA;
	/* For an empty line: the next x starts where this one ends. */
	c->x_valid = true;
	c->x_space = sp;
	c->x_next = addr + (uint64_t)count * (fmt == 'i' ? 4 : size);
	snprintf(c->x_fmt, sizeof(c->x_fmt), "%s", argv[1][0] == '/' ? argv[1] : "");
	if (fmt == 'i')
		return cli_disas(c, sp, addr, count, true);
	if (fmt == 's')
		return x_strings(c, sp, addr, count);
	size_t len = (size_t)count * size;
	uint8_t *buf = malloc(len);
	char err[256];
	if (!buf)
		return cli_error(c, "out of memory");
	if (cli_read(c, sp, addr, buf, len, err, sizeof(err))) {
		free(buf);
		return cli_error(c, "x: cannot read %s: %s", addr_s, err);
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_printf(&sb, "{\"addr\":\"0x%" PRIx64 "\",\"size\":%u,\"values\":[", addr,
			     size);
	unsigned per_line = size == 8 ? 2 : size == 4 ? 4 : 8;
	for (unsigned i = 0; i < count; i++) {
		uint64_t v = 0;
		memcpy(&v, buf + (size_t)i * size, size);
		int64_t sv = size == 8	 ? (int64_t)v
			     : size == 4 ? (int32_t)v
			     : size == 2 ? (int16_t)v
					 : (int8_t)v;
		if (c->json) {
			if (fmt == 'd')
				hs_sb_printf(&sb, "%s\"0x%" PRIx64 "\"", i ? "," : "",
					     (uint64_t)sv);
			else
				hs_sb_printf(&sb, "%s\"0x%" PRIx64 "\"", i ? "," : "", v);
			continue;
		}
		if (i % per_line == 0) {
			char sym[128];
			uint64_t a = addr + (uint64_t)i * size;
			cli_symbolize(c, a, sym, sizeof(sym));
			hs_sb_printf(&sb, "%s%#" PRIx64 "%s%s%s%s:", i ? "\n" : "", a,
				     cli_col(c, COL_DIM), *sym ? " <" : "", sym, *sym ? ">" : "");
			hs_sb_puts(&sb, cli_col(c, COL_RESET));
		}
		if (fmt == 'x')
			hs_sb_printf(&sb, "\t0x%0*" PRIx64, (int)size * 2, v);
		else if (fmt == 'd')
			hs_sb_printf(&sb, "\t%" PRId64, sv);
		else
			hs_sb_printf(&sb, "\t%" PRIu64, v);
	}
	hs_sb_puts(&sb, c->json ? "]}" : "");
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	free(buf);
	return 0;
}

/* ---- list --------------------------------------------------------------------- */

int cmd_list(struct cli *c, int argc, char **argv)
{
	const struct hs_image *img = hs_machine_image(c->m);
	const char *file = NULL;
	int line = 0;
	char fbuf[512];
	if (argc > 1 && strchr(argv[1], ':') && strncmp(argv[1], "pa:", 3) &&
	    strncmp(argv[1], "va:", 3) && strncmp(argv[1], "ipa:", 4)) {
		const char *colon = strrchr(argv[1], ':');
		snprintf(fbuf, sizeof(fbuf), "%.*s", (int)(colon - argv[1]), argv[1]);
		if (!cli_parse_line_number(colon + 1, &line))
			return cli_error(c, "list: '%s' is not a line number (1 to %d)", colon + 1,
					 CLI_MAX_LINE_NUMBER);
		/* Only the image's own sources: `list` is no way to read any file. */
		file = hs_image_source_file(img, fbuf);
		if (!file)
			return cli_error(
			    c, "list: '%s' is not a source file of the hypervisor image", fbuf);
	} else {
		uint64_t addr;
		struct hs_cpu_state st;
		hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
		addr = st.pc;
		enum cli_space sp = SP_VA;
		if (argc > 1 && cli_eval(c, argv[1], &sp, &addr))
			return -1;
		uint64_t link;
		if (!hs_addr_to_link(c->m, addr, &link) && argc == 1 && st.el < 2)
			return cli_error(c,
					 "list: cpu%u is in the host at EL%u (pc %#" PRIx64
					 "): the host model's code has no source; give a location "
					 "in the hypervisor (list SYM, list FILE:LINE)",
					 hs_current_cpu(c->m), st.el, addr);
		if (!hs_addr_to_link(c->m, addr, &link))
			return cli_error(c, "list: %#" PRIx64 " is not in the hypervisor image",
					 addr);
		const struct hs_line *ln = hs_image_line(img, link);
		if (!ln)
			return cli_error(c, "list: no line information for %#" PRIx64, addr);
		file = ln->file;
		line = ln->line;
	}
	FILE *f = cli_open_source(file);
	if (!f)
		return cli_error(c, "list: cannot open source file '%s' (set HS_SOURCE_DIR)", file);
	int from = line > 5 ? line - 5 : 1, to = line + 5, n = 0;
	char buf[1024];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json) {
		hs_sb_puts(&sb, "{\"file\":");
		hs_sb_json_str(&sb, file);
		hs_sb_printf(&sb, ",\"line\":%d,\"lines\":[", line);
	}
	bool first = true;
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (n < from)
			continue;
		if (n > to)
			break;
		buf[strcspn(buf, "\n")] = '\0';
		if (c->json) {
			hs_sb_printf(&sb, "%s{\"n\":%d,\"text\":", first ? "" : ",", n);
			hs_sb_json_str(&sb, buf);
			hs_sb_puts(&sb, "}");
		} else {
			hs_sb_printf(&sb, "%s%s%5d  %s%s\n", n == line ? cli_col(c, COL_GREEN) : "",
				     n == line ? "=>" : "  ", n, buf,
				     n == line ? cli_col(c, COL_RESET) : "");
		}
		first = false;
	}
	fclose(f);
	if (c->json)
		hs_sb_puts(&sb, "]}");
	else
		printf("%s%s:%d%s\n", cli_col(c, COL_DIM), file, line, cli_col(c, COL_RESET));
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

/* ---- breakpoints ---------------------------------------------------------------- */

int cli_resolve_location(struct cli *c, const char *cmd, const char *spec, uint64_t *addrs,
			 unsigned *nout)
{
	const struct hs_image *img = hs_machine_image(c->m);
	unsigned n = 0;
	const struct hs_symbol *sym = hs_image_symbol(img, spec);
	const char *colon = strrchr(spec, ':');
	if (sym) {
		addrs[n++] = hs_link_to_pa(c->m, sym->addr);
		addrs[n++] = hs_link_to_hyp_va(c->m, sym->addr);
	} else if (colon && strncmp(spec, "pa:", 3) && strncmp(spec, "va:", 3)) {
		char file[512];
		snprintf(file, sizeof(file), "%.*s", (int)(colon - spec), spec);
		int line;
		if (!cli_parse_line_number(colon + 1, &line))
			return cli_error(c, "%s: '%s' is not a line number (1 to %d)", cmd,
					 colon + 1, CLI_MAX_LINE_NUMBER);
		int got = 0;
		uint64_t link = hs_image_line_addr_next(img, file, line, &got);
		if (!link)
			return cli_error(c, "%s: no code for %s:%d or after it", cmd, file, line);
		addrs[n++] = hs_link_to_pa(c->m, link);
		addrs[n++] = hs_link_to_hyp_va(c->m, link);
	} else {
		enum cli_space sp = SP_DEFAULT;
		uint64_t a;
		/* gdb's `break *ADDR`: the address itself, not what it points at. */
		if (cli_eval(c, spec[0] == '*' ? spec + 1 : spec, &sp, &a))
			return -1;
		addrs[n++] = a;
	}
	if (addrs[0] & 3)
		return cli_error(c, "%s: %#" PRIx64 " is not 4-byte aligned", cmd, addrs[0]);
	*nout = n;
	return 0;
}

static int add_break(struct cli *c, const char *spec, bool temp)
{
	uint64_t addrs[2];
	unsigned n = 0;
	if (cli_resolve_location(c, temp ? "tbreak" : "break", spec, addrs, &n))
		return -1;
	char msg[256];
	int id = cli_bp_add(&c->bps, spec, addrs, n, temp, msg, sizeof(msg));
	if (id < 0)
		return cli_error(c, "break: %s", msg);
	char sym2[128];
	cli_symbolize(c, addrs[0], sym2, sizeof(sym2));
	printf("%sreakpoint %d at %#" PRIx64, temp ? "Temporary b" : "B", id, addrs[0]);
	if (n > 1 && addrs[1] != addrs[0])
		printf(" (HYP VA %#" PRIx64 ")", addrs[1]);
	if (*sym2)
		printf(" <%s>", sym2);
	printf("\n");
	return 0;
}

/* Exception classes by name (ESR_ELx.EC). */
static int ec_parse(const char *s)
{
	int64_t v;
	if (cli_parse_num(s, &v))
		return v >= 0 && v <= 0x3f ? (int)v : -1;
	for (unsigned ec = 0; ec <= 0x3f; ec++)
		if (!strcasecmp(hs_ec_name(ec), s))
			return (int)ec;
	return -1;
}

static int add_vector_break(struct cli *c, int argc, char **argv, bool temp)
{
	const char *cmd = temp ? "tbreak" : "break";
	char spec[160];
	char msg[256];
	int id;
	if (argc != 3)
		return cli_error(c, "%s %s: usage: %s hvc NAME | %s exception EC", cmd, argv[1],
				 cmd, cmd);
	if (!strcmp(argv[1], "hvc")) {
		int64_t fn = hs_machine_hypercall_by_name(c->m, argv[2]);
		if (fn < 0) {
			int64_t v;
			if (!cli_parse_num(argv[2], &v) || v < 0)
				return cli_error(c, "%s hvc: unknown hypercall '%s'", cmd, argv[2]);
			fn = v;
		}
		const char *name = hs_machine_hypercall_name(c->m, (uint64_t)fn);
		snprintf(spec, sizeof(spec), "hvc %s", name ? name : argv[2]);
		id = cli_bp_add_vector(&c->bps, spec, CLI_BP_HVC, (uint64_t)fn, temp, msg,
				       sizeof(msg));
		if (id < 0)
			return cli_error(c, "%s: %s", cmd, msg);
		printf("%sreakpoint %d: hypercall %s (%#" PRIx64 "), at the EL2 vector\n",
		       temp ? "Temporary b" : "B", id, name ? name : argv[2], (uint64_t)fn);
		return 0;
	}
	int ec = ec_parse(argv[2]);
	if (ec < 0)
		return cli_error(c,
				 "%s exception: '%s' is not an exception class (a number 0..0x3f "
				 "or a name: DABT_LOW, IABT_LOW, HVC64, SMC64, SYS64 ...)",
				 cmd, argv[2]);
	snprintf(spec, sizeof(spec), "exception %s (EC %#x)", hs_ec_name((unsigned)ec), ec);
	id = cli_bp_add_vector(&c->bps, spec, CLI_BP_EC, (uint64_t)ec, temp, msg, sizeof(msg));
	if (id < 0)
		return cli_error(c, "%s: %s", cmd, msg);
	printf("%sreakpoint %d: exception %s (EC %#x), at the EL2 vector\n",
	       temp ? "Temporary b" : "B", id, hs_ec_name((unsigned)ec), ec);
	return 0;
}

int cmd_break(struct cli *c, int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "hvc") || !strcmp(argv[1], "exception")))
		return add_vector_break(c, argc, argv, false);
	if (argc != 2)
		return cli_error(c, "break: usage: break SYM|ADDR|FILE:LINE | break hvc NAME | "
				    "break exception EC");
	return add_break(c, argv[1], false);
}

int cmd_tbreak(struct cli *c, int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "hvc") || !strcmp(argv[1], "exception")))
		return add_vector_break(c, argc, argv, true);
	if (argc != 2)
		return cli_error(c, "tbreak: usage: tbreak SYM|ADDR|FILE:LINE | tbreak hvc NAME | "
				    "tbreak exception EC");
	return add_break(c, argv[1], true);
}

static int each_bp(struct cli *c, int argc, char **argv, int op)
{
	static const char *const names[] = {"delete", "disable", "enable"};
	if (argc == 1) {
		while (op == 0 && c->bps.n)
			cli_bp_delete(&c->bps, c->bps.v[0].id);
		for (size_t i = 0; op && i < c->bps.n; i++)
			if (c->bps.v[i].id > 0)
				cli_bp_enable(&c->bps, c->bps.v[i].id, op == 2);
		return 0;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		int64_t id;
		uint64_t u;
		/* $bpnum (saved breakpoints say `disable $bpnum`) */
		if (argv[i][0] == '$' && !cli_eval(c, argv[i], NULL, &u))
			id = (int64_t)u;
		else if (!cli_parse_num(argv[i], &id))
			id = 0;
		if (id <= 0) {
			rc =
			    cli_error(c, "%s: '%s' is not a breakpoint number", names[op], argv[i]);
			continue;
		}
		int r = op == 0 ? cli_bp_delete(&c->bps, (int)id)
				: cli_bp_enable(&c->bps, (int)id, op == 2);
		if (r)
			rc = cli_error(c, "%s: no breakpoint %s", names[op], argv[i]);
	}
	return rc;
}

int cmd_delete(struct cli *c, int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "checkpoint"))
		return cli_delete_checkpoints(c, argc, argv);
	return each_bp(c, argc, argv, 0);
}

int cmd_disable(struct cli *c, int argc, char **argv)
{
	return each_bp(c, argc, argv, 1);
}

int cmd_enable(struct cli *c, int argc, char **argv)
{
	return each_bp(c, argc, argv, 2);
}

/* ---- info --------------------------------------------------------------------------- */

/* A frame selected with frame/up/down: its registers as unwound ("<not saved>": unknown). */
static int frame_registers(struct cli *c, struct hs_strbuf *sb, const struct cli_frame *f)
{
	uint32_t k = f->regs.known;
	if (c->json) {
		hs_sb_printf(sb, "{\"cpu\":%u,\"frame\":%u,\"pc\":\"0x%" PRIx64 "\",\"x\":[",
			     hs_current_cpu(c->m), c->frame_sel, f->regs.pc);
		for (int i = 0; i < 32; i++) {
			hs_sb_puts(sb, i ? "," : "");
			if (k & (1u << i))
				hs_sb_printf(sb, "\"0x%" PRIx64 "\"", f->regs.r[i]);
			else
				hs_sb_puts(sb, "null");
		}
		hs_sb_puts(sb, "]}");
		return 0;
	}
	hs_sb_printf(sb, "frame %u (registers as unwound; sp last):\n", c->frame_sel);
	for (int i = 0; i < 32; i++) {
		char name[8];
		snprintf(name, sizeof(name), i == 31 ? "sp" : "x%d", i);
		if (k & (1u << i))
			hs_sb_printf(sb, "%s%-3s%s 0x%016" PRIx64 "%s", cli_col(c, COL_BOLD), name,
				     cli_col(c, COL_RESET), f->regs.r[i],
				     i % 4 == 3 ? "\n" : "   ");
		else
			hs_sb_printf(sb, "%s%-3s%s <not saved>       %s", cli_col(c, COL_BOLD),
				     name, cli_col(c, COL_RESET), i % 4 == 3 ? "\n" : "   ");
	}
	char sym[128];
	cli_symbolize(c, f->regs.pc, sym, sizeof(sym));
	hs_sb_printf(sb, "%spc %s 0x%016" PRIx64 " %s\n", cli_col(c, COL_BOLD),
		     cli_col(c, COL_RESET), f->regs.pc, sym);
	return 0;
}

static int info_registers(struct cli *c, struct hs_strbuf *sb)
{
	unsigned cpu = hs_current_cpu(c->m);
	struct hs_cpu_state st;
	struct cli_frame fr;
	if (cli_frame_selected(c, &fr))
		return frame_registers(c, sb, &fr);
	hs_cpu_state(c->m, cpu, &st);
	if (c->json) {
		hs_sb_printf(sb,
			     "{\"cpu\":%u,\"el\":%u,\"pc\":\"0x%" PRIx64 "\",\"sp\":\"0x%" PRIx64
			     "\",\"pstate\":\"0x%" PRIx64 "\",\"x\":[",
			     cpu, st.el, st.pc, st.sp, st.pstate);
		for (int i = 0; i < 31; i++)
			hs_sb_printf(sb, "%s\"0x%" PRIx64 "\"", i ? "," : "", st.x[i]);
		hs_sb_puts(sb, "]}");
		return 0;
	}
	for (int i = 0; i < 31; i++)
		hs_sb_printf(sb, "%sx%-2d%s 0x%016" PRIx64 "%s", cli_col(c, COL_BOLD), i,
			     cli_col(c, COL_RESET), st.x[i], i % 4 == 3 ? "\n" : "   ");
	char sym[128];
	cli_symbolize(c, st.pc, sym, sizeof(sym));
	hs_sb_printf(sb, "\n%ssp %s 0x%016" PRIx64 "   %spc %s 0x%016" PRIx64 " %s\n",
		     cli_col(c, COL_BOLD), cli_col(c, COL_RESET), st.sp, cli_col(c, COL_BOLD),
		     cli_col(c, COL_RESET), st.pc, sym);
	hs_sb_printf(sb, "pstate %#" PRIx64 " (EL%u%c, DAIF=%" PRIx64 ")  cpu%u\n", st.pstate,
		     st.el, st.sp_el_x ? 'h' : 't', (st.pstate >> 6) & 0xf, cpu);
	return 0;
}

/*
 * info registers REG...: gdb's layout, a line per register (name, hex, and the
 * natural value: decimal for a number, the symbol for a code address), for
 * any register `print $REG` knows (x0-x30, w0-w30, sp, pc, fp, lr, pstate,
 * and system registers by name), in the selected frame.
 */
static int info_registers_named(struct cli *c, int argc, char **argv, struct hs_strbuf *sb)
{
	if (c->json)
		hs_sb_puts(sb, "{");
	for (int i = 2; i < argc; i++) {
		const char *name = argv[i][0] == '$' ? argv[i] + 1 : argv[i];
		char expr[80];
		snprintf(expr, sizeof(expr), "$%s", name);
		struct cli_value v;
		if (!*name || strlen(name) > 64 ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(name) ||
		    !cli_is_register_name(name) || cli_expr_eval_line(c, expr, 0, &v) ||
		    v.lval != CLI_LV_REG)
			return cli_error(c, "info registers: invalid register '%s'", argv[i]);
		if (c->json) {
			hs_sb_printf(sb, "%s\"%s\":\"0x%" PRIx64 "\"", i > 2 ? "," : "", name, v.v);
			continue;
		}
		char natural[160];
		if (!strcmp(name, "pc") || !strcmp(name, "lr")) {
			char sym[128];
			cli_symbolize(c, v.v, sym, sizeof(sym));
			snprintf(natural, sizeof(natural), "%#" PRIx64 "%s%s%s", v.v,
				 *sym ? " <" : "", sym, *sym ? ">" : "");
		} else if (!strcmp(name, "sp") || !strcmp(name, "fp")) {
			snprintf(natural, sizeof(natural), "%#" PRIx64, v.v);
		} else if (name[0] == 'w' || !strcmp(name, "pstate") || !strcmp(name, "cpsr")) {
			snprintf(natural, sizeof(natural), "%" PRId64, (int64_t)v.v);
		} else if (name[0] == 'x') {
			snprintf(natural, sizeof(natural), "%" PRId64, (int64_t)v.v);
		} else {
			snprintf(natural, sizeof(natural), "%" PRIu64, v.v);
		}
		hs_sb_printf(sb, "%-15s0x%-18" PRIx64 "%s\n", name, v.v, natural);
	}
	if (c->json)
		hs_sb_puts(sb, "}");
	return 0;
}

static int info_sysregs(struct cli *c, struct hs_strbuf *sb)
{
	unsigned cpu = hs_current_cpu(c->m);
	if (c->json)
		hs_sb_puts(sb, "{");
	for (int r = 0; r < HS_SR_COUNT; r++) {
		uint64_t v = 0;
		hs_cpu_sysreg(c->m, cpu, r, &v);
		const char *name = hs_sysreg_desc(r)->name;
		if (c->json)
			hs_sb_printf(sb, "%s\"%s\":\"0x%" PRIx64 "\"", r ? "," : "", name, v);
		else
			hs_sb_printf(sb, "%-17s 0x%016" PRIx64 "%s", name, v, r % 2 ? "\n" : "   ");
	}
	hs_sb_puts(sb, c->json ? "}" : "\n");
	return 0;
}

static const char *bp_type(const struct cli_bp *bp)
{
	switch (bp->kind) {
	case CLI_BP_HVC:
		return bp->temp ? "thvc" : "hvc";
	case CLI_BP_EC:
		return bp->temp ? "texc" : "exc";
	case CLI_BP_WATCH:
		return bp->access == HS_WATCH_READ     ? "rwatch"
		       : bp->access == HS_WATCH_ACCESS ? "awatch"
						       : "watch";
	default:
		return bp->temp ? "tbreak" : "break";
	}
}

static int list_bps(struct cli *c, struct hs_strbuf *sb, bool watch_only)
{
	size_t shown = 0;
	for (size_t i = 0; i < c->bps.n; i++)
		if (c->bps.v[i].id > 0 && (!watch_only || c->bps.v[i].kind == CLI_BP_WATCH))
			shown++;
	if (c->json)
		hs_sb_puts(sb, "[");
	else if (!shown)
		hs_sb_puts(sb, watch_only ? "No watchpoints.\n" : "No breakpoints.\n");
	else
		hs_sb_puts(sb, "Num  Type   Enb  Address             Hits  What\n");
	bool first = true;
	for (size_t i = 0; i < c->bps.n; i++) {
		struct cli_bp *bp = &c->bps.v[i];
		if (bp->id < 0 || (watch_only && bp->kind != CLI_BP_WATCH))
			continue;
		uint64_t addr = bp->kind == CLI_BP_WATCH  ? bp->pa
				: bp->kind == CLI_BP_CODE ? bp->addrs[0]
							  : bp->value;
		if (c->json) {
			hs_sb_printf(sb,
				     "%s{\"id\":%d,\"type\":\"%s\",\"temporary\":%s,\"enabled\":%s,"
				     "\"hits\":%u,\"addrs\":[",
				     first ? "" : ",", bp->id, bp_type(bp),
				     bp->temp ? "true" : "false", bp->enabled ? "true" : "false",
				     bp->hits);
			for (unsigned k = 0; k < bp->naddrs; k++)
				hs_sb_printf(sb, "%s\"0x%" PRIx64 "\"", k ? "," : "", bp->addrs[k]);
			hs_sb_puts(sb, "]");
			if (bp->kind == CLI_BP_WATCH)
				hs_sb_printf(sb, ",\"pa\":\"0x%" PRIx64 "\",\"len\":%" PRIu64,
					     bp->pa, bp->len);
			else if (bp->kind != CLI_BP_CODE)
				hs_sb_printf(sb, ",\"value\":\"0x%" PRIx64 "\"", bp->value);
			for (unsigned k = 0;
			     bp->kind == CLI_BP_WATCH && bp->pte.on && k < bp->pte.nr; k++)
				hs_sb_printf(sb, "%s{\"level\":%d,\"pa\":\"0x%" PRIx64 "\"}%s",
					     k ? "," : ",\"walk\":[", bp->pte.levels[k],
					     bp->pte.desc_pa[k], k + 1 == bp->pte.nr ? "]" : "");
			hs_sb_puts(sb, ",\"what\":");
			hs_sb_json_str(sb, bp->spec);
			hs_sb_puts(sb, "}");
		} else {
			hs_sb_printf(sb, "%-4d %-6s %-4s %#-18" PRIx64 "  %-4u  %s", bp->id,
				     bp_type(bp), bp->enabled ? "y" : "n", addr, bp->hits,
				     bp->spec);
			if (bp->kind == CLI_BP_CODE && bp->naddrs > 1)
				hs_sb_printf(sb, " (also %#" PRIx64 ")", bp->addrs[1]);
			if (bp->kind == CLI_BP_WATCH && bp->pte.on)
				hs_sb_printf(sb, " (level %d entry at PA %#" PRIx64 "%s)",
					     bp->pte.level, bp->pa,
					     bp->pte.nr > 1 ? ", and the table entries above it"
							    : "");
			else if (bp->kind == CLI_BP_WATCH)
				hs_sb_printf(sb, " (%" PRIu64 " bytes at PA %#" PRIx64 ")", bp->len,
					     bp->pa);
			else if (bp->kind != CLI_BP_CODE)
				hs_sb_puts(sb, " (at the EL2 vector)");
			hs_sb_puts(sb, "\n");
			cli_bpx_info(c, bp->id, sb);
		}
		first = false;
	}
	if (c->json)
		hs_sb_puts(sb, "]");
	return 0;
}

static int info_breakpoints(struct cli *c, struct hs_strbuf *sb)
{
	return list_bps(c, sb, false);
}

static int info_watchpoints(struct cli *c, struct hs_strbuf *sb)
{
	return list_bps(c, sb, true);
}

static int info_cpus(struct cli *c, struct hs_strbuf *sb)
{
	if (c->json)
		hs_sb_puts(sb, "[");
	for (unsigned i = 0; i < hs_nr_cpus(c->m); i++) {
		struct hs_cpu_state st;
		hs_cpu_state(c->m, i, &st);
		char sym[128];
		cli_symbolize(c, st.pc, sym, sizeof(sym));
		if (!*sym && st.el == 1)
			snprintf(sym, sizeof(sym), "<host>");
		if (c->json) {
			hs_sb_printf(sb,
				     "%s{\"cpu\":%u,\"current\":%s,\"online\":%s,\"el\":%u,\"pc\":"
				     "\"0x%" PRIx64 "\",\"symbol\":",
				     i ? "," : "", i, i == hs_current_cpu(c->m) ? "true" : "false",
				     st.online ? "true" : "false", st.el, st.pc);
			hs_sb_json_str(sb, sym);
			hs_sb_printf(sb, ",\"icount\":%" PRIu64 "}", st.icount);
		} else {
			hs_sb_printf(
			    sb,
			    "%c cpu%u  %-7s EL%u  pc 0x%016" PRIx64 " %-32s %" PRIu64 " insns\n",
			    i == hs_current_cpu(c->m) ? '*' : ' ', i,
			    st.online ? "online" : "offline", st.el, st.pc, sym, st.icount);
		}
	}
	if (c->json)
		hs_sb_puts(sb, "]");
	return 0;
}

static int info_program(struct cli *c, struct hs_strbuf *sb)
{
	const struct hs_stop *s = hs_last_stop(c->m);
	/* After step/next/finish/until the machine's stop is their internal breakpoint. */
	enum hs_stop_reason why = cli_stop_reason(c);
	char sym[128];
	cli_symbolize(c, s->pc, sym, sizeof(sym));
	if (c->json) {
		hs_sb_printf(sb,
			     "{\"reason\":\"%s\",\"cpu\":%u,\"pc\":\"0x%" PRIx64 "\",\"symbol\":",
			     hs_stop_reason_name(why), s->cpu, s->pc);
		hs_sb_json_str(sb, sym);
		hs_sb_printf(sb, ",\"pending\":%s,\"dead\":%s,\"icount\":%" PRIu64 "}",
			     hs_op_pending(c->m) ? "true" : "false",
			     hs_machine_dead(c->m) ? "true" : "false", hs_machine_icount(c->m));
		return 0;
	}
	hs_sb_printf(sb, "last stop: %s on cpu%u at %#" PRIx64 " %s\n", hs_stop_reason_name(why),
		     s->cpu, s->pc, sym);
	hs_sb_printf(sb, "operation pending: %s\n",
		     !hs_op_pending(c->m)    ? "no"
		     : hs_machine_dead(c->m) ? "yes, never to finish (the machine is dead)"
					     : "yes (continue / stepi)");
	if (hs_machine_killed(c->m))
		hs_sb_printf(sb, "killed: inspection only (restart builds a fresh machine)\n");
	else if (hs_machine_dead(c->m))
		hs_sb_printf(sb, "%s (%s ESR=%#" PRIx64 " FAR=%#" PRIx64 "): inspection only%s\n",
			     s->fault.host_panic ? "the hypervisor panicked and the host with it"
						 : "the hypervisor faulted",
			     s->fault.ec_name ? s->fault.ec_name : "?", s->fault.esr, s->fault.far,
			     s->fault.host_panic ? " (restart builds a fresh machine)" : "");
	hs_sb_printf(sb, "instructions executed: %" PRIu64 "\n", hs_machine_icount(c->m));
	hs_sb_printf(sb, "hypercalls: %zu, console lines: %zu\n", c->ntrace + c->trace_dropped,
		     c->nconsole);
	return 0;
}

/* Linux's hypervisor: every alternative, callback, jump label and relocation decision. */
static int info_patches(struct cli *c, struct hs_strbuf *sb)
{
	hs_linux_patches_print(c->m, true, sb);
	return 0;
}

int cmd_info(struct cli *c, int argc, char **argv)
{
	(void)argc;
	static const struct {
		const char *name;
		int (*fn)(struct cli *, struct hs_strbuf *);
	} subs[] = {{"registers", info_registers},
		    {"sysregs", info_sysregs},
		    {"cpus", info_cpus},
		    {"breakpoints", info_breakpoints},
		    {"watchpoints", info_watchpoints},
		    {"program", info_program},
		    {"display", cli_info_display},
		    {"frame", cli_info_frame},
		    {"args", cli_info_args},
		    {"locals", cli_info_locals},
		    {"symbol", NULL},
		    {"line", NULL},
		    {"patches", info_patches},
		    {"checkpoints", cli_info_checkpoints},
		    {"record", cli_info_record}};
	/* gdb's own abbreviations win over the unique-prefix rule (`i r`, `i b`, `i f`). */
	static const struct {
		const char *alias, *name;
	} aliases[] = {{"r", "registers"}, {"b", "breakpoints"},   {"br", "breakpoints"},
		       {"f", "frame"},	   {"wat", "watchpoints"}, {"reg", "registers"}};
	const char *want = argv[1];
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(aliases[i].alias, want))
			want = aliases[i].name;
	size_t n = strlen(want), hit = 0, hits = 0;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (!strcmp(subs[i].name, want)) {
			hit = i;
			hits = 1;
			break;
		}
		if (!strncmp(subs[i].name, want, n)) {
			hit = i;
			hits++;
		}
	}
	if (hits != 1)
		return cli_error(
		    c,
		    "info: %s '%s': give registers, sysregs, cpus, breakpoints, "
		    "watchpoints, program, display, frame, args, locals, symbol, line, patches, "
		    "checkpoints or record",
		    hits ? "ambiguous" : "unknown", argv[1]);
	const char *sub = subs[hit].name;
	bool takes_arg =
	    !strcmp(sub, "symbol") || !strcmp(sub, "line") || !strcmp(sub, "registers");
	if (!strcmp(sub, "symbol") && argc < 3)
		return cli_error(c, "info symbol: give an address; usage: info symbol ADDR");
	if (!takes_arg && argc > 2)
		return cli_error(c, "info %s: takes no argument ('%s')", sub, argv[2]);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	int rc;
	if (!strcmp(sub, "symbol")) {
		char text[1024] = "";
		for (int i = 2; i < argc; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
				 i > 2 ? " " : "", argv[i]);
		rc = cli_info_symbol(c, text, c->arg_cols && !c->json ? c->arg_cols[2] : 0, &sb);
	} else if (!strcmp(sub, "line")) {
		rc = cli_info_line(c, argc, argv, &sb);
	} else if (!strcmp(sub, "registers") && argc > 2) {
		rc = info_registers_named(c, argc, argv, &sb);
	} else {
		rc = subs[hit].fn(c, &sb);
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return rc;
}

/* ---- sysreg ------------------------------------------------------------------------- */

int cmd_sysreg(struct cli *c, int argc, char **argv)
{
	int r = hs_sysreg_by_name(argv[1]);
	if (r < 0)
		return cli_error(c, "sysreg: unknown register '%s' (see info sysregs)", argv[1]);
	uint64_t v = 0;
	if (argc > 2) {
		if (cli_eval(c, argv[2], NULL, &v))
			return -1;
	} else {
		hs_cpu_sysreg(c->m, hs_current_cpu(c->m), r, &v);
	}
	const char *name = hs_sysreg_desc(r)->name;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	size_t nf;
	cli_sysreg_fields(r, &nf);
	if (c->json) {
		hs_sb_printf(&sb,
			     "{\"name\":\"%s\",\"cpu\":%u,\"value\":\"0x%" PRIx64 "\",\"fields\":",
			     name, hs_current_cpu(c->m), v);
		if (nf)
			cli_sysreg_decode(c, r, v, &sb, true);
		else
			hs_sb_puts(&sb, "{}");
		hs_sb_puts(&sb, "}");
	} else {
		hs_sb_printf(&sb, "%s%s%s = 0x%016" PRIx64 " (cpu%u)\n", cli_col(c, COL_BOLD), name,
			     cli_col(c, COL_RESET), v, hs_current_cpu(c->m));
		if (nf)
			cli_sysreg_decode(c, r, v, &sb, false);
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

/* ---- console ------------------------------------------------------------------ */

int cmd_console(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json)
		hs_sb_puts(&sb, "[");
	else if (c->console_dropped)
		hs_sb_printf(&sb, "(%zu earlier lines not kept: the last %d are)\n",
			     c->console_dropped, CLI_CONSOLE_KEEP);
	for (size_t i = 0; i < c->nconsole; i++) {
		if (c->json) {
			if (i)
				hs_sb_puts(&sb, ",");
			hs_sb_json_str(&sb, c->console[i]);
		} else {
			hs_sb_printf(&sb, "%s\n", c->console[i]);
		}
	}
	if (c->json)
		hs_sb_puts(&sb, "]");
	else if (!c->nconsole)
		hs_sb_puts(&sb, "(the hypervisor has printed nothing yet)\n");
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}
