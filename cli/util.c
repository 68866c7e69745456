/* SPDX-License-Identifier: MIT */
/* Session, output, values and memory helpers shared by every command. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "profile.h"
#include "hyp_state.h"
#include "image_cfi.h"
#include "image_dwarf.h"
#include "image_linetable.h"
#include "inspect_check_incr.h"

struct hs_strbuf *cli_failure_log;
void (*cli_machine_hook)(struct cli *c, bool create);
int (*cli_expr_hook)(struct cli *c, const char *s, bool spaced, uint64_t *out);
void (*cli_fini_hook)(struct cli *c);

/* ---- events --------------------------------------------------------------- */

static void on_event(const struct hs_event *ev, void *ud)
{
	struct cli *c = ud;
	switch (ev->type) {
	case HS_EV_CONSOLE:
		if (c->nconsole == CLI_CONSOLE_KEEP) {
			/* A bounded history: the oldest half goes (a looping hypervisor prints). */
			size_t drop = CLI_CONSOLE_KEEP / 2;
			for (size_t i = 0; i < drop; i++)
				free(c->console[i]);
			memmove(c->console, c->console + drop,
				(c->nconsole - drop) * sizeof(*c->console));
			c->nconsole -= drop;
			c->console_dropped += drop;
		}
		if (c->nconsole == c->capconsole) {
			size_t cap = c->capconsole ? 2 * c->capconsole : 64;
			char **v = realloc(c->console, cap * sizeof(*v));
			if (!v)
				return;
			c->console = v;
			c->capconsole = cap;
		}
		c->console[c->nconsole++] = strdup(ev->console ? ev->console : "");
		if (c->live && !c->json && !c->quiet)
			printf("%s[hyp cpu%u]%s %s\n", cli_col(c, COL_CYAN), ev->cpu,
			       cli_col(c, COL_RESET), ev->console);
		break;
	case HS_EV_HVC_ENTER:
		if (c->ntrace == CLI_HVC_KEEP) {
			/* the last calls are what the commands read; the oldest eighth goes */
			size_t drop = CLI_HVC_KEEP / 8;
			memmove(c->trace, c->trace + drop, (c->ntrace - drop) * sizeof(*c->trace));
			c->ntrace -= drop;
			c->trace_dropped += drop;
		}
		if (c->ntrace == c->captrace) {
			size_t cap = c->captrace ? 2 * c->captrace : 64;
			struct cli_hvc_rec *v = realloc(c->trace, cap * sizeof(*v));
			if (!v)
				return;
			c->trace = v;
			c->captrace = cap;
		}
		c->trace[c->ntrace++] = (struct cli_hvc_rec){.cpu = ev->cpu,
							     .fn = ev->hvc.fn,
							     .nr = ev->hvc.nr,
							     .name = ev->hvc.name,
							     .icount_enter = ev->icount};
		memcpy(c->trace[c->ntrace - 1].args, ev->hvc.args, sizeof(ev->hvc.args));
		break;
	case HS_EV_HVC_EXIT:
		for (size_t i = c->ntrace; i-- > 0;) {
			struct cli_hvc_rec *r = &c->trace[i];
			if (!r->done && r->cpu == ev->cpu && r->fn == ev->hvc.fn) {
				hs_append_dirty(&c->trace_snaps, c->trace_dropped + i);
				r->done = true;
				r->x0 = ev->hvc.x0;
				r->x1 = ev->hvc.x1;
				r->insns = ev->hvc.insns;
				break;
			}
		}
		c->have_hvc = true;
		c->last_x0 = ev->hvc.x0;
		c->last_x1 = ev->hvc.x1;
		break;
	case HS_EV_DEBUG_WRITE:
		if (c->ndbgw == c->capdbgw) {
			size_t cap = c->capdbgw ? 2 * c->capdbgw : 16;
			struct cli_dbg_write *v = realloc(c->dbgw, cap * sizeof(*v));
			if (!v)
				return;
			c->dbgw = v;
			c->capdbgw = cap;
		}
		c->dbgw[c->ndbgw] = (struct cli_dbg_write){.cpu = ev->cpu,
							   .icount = ev->icount,
							   .pa = ev->dbgw.pa,
							   .len = ev->dbgw.len,
							   .old = ev->dbgw.old,
							   .value = ev->dbgw.value};
		snprintf(c->dbgw[c->ndbgw].reg, sizeof(c->dbgw[0].reg), "%s",
			 ev->dbgw.reg ? ev->dbgw.reg : "");
		c->ndbgw++;
		break;
	case HS_EV_HOST_ACCESS:
		c->have_access = true;
		c->last_refused = ev->access.refused;
		c->last_value = ev->access.value;
		c->last_esr = ev->access.esr;
		break;
	case HS_EV_BOOT_STEP:
		if (c->live && !c->json && !c->quiet)
			printf("%sboot: %s%s%s%s\n", cli_col(c, COL_DIM), ev->boot.name,
			       ev->boot.detail && *ev->boot.detail ? " — " : "",
			       ev->boot.detail ? ev->boot.detail : "", cli_col(c, COL_RESET));
		break;
	case HS_EV_HYP_FAULT:
		if (!c->json)
			printf("%shypervisor fault on cpu%u: %s ESR=%#" PRIx64 " FAR=%#" PRIx64
			       " at %#" PRIx64 "%s\n",
			       cli_col(c, COL_RED), ev->cpu, ev->exc.ec_name, ev->exc.esr,
			       ev->exc.far, ev->exc.pc, cli_col(c, COL_RESET));
		break;
	default:
		break;
	}
}

void cli_init(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	hs_machine_opts_default(&c->mopts);
	c->pagination = true;
	cli_bps_init(&c->bps, NULL);
}

int cli_machine_create(struct cli *c)
{
	struct hs_error err = {0};
	cli_machine_destroy(c);
	c->machine_err[0] = '\0';
	struct hs_machine *m;
	int rc = hs_machine_create(&c->mopts, &m, &err);
	if (rc) {
		snprintf(c->machine_err, sizeof(c->machine_err), "%s", err.msg);
		c->m = NULL;
		return rc;
	}
	cli_machine_adopt(c, m);
	return 0;
}

void cli_machine_adopt(struct cli *c, struct hs_machine *m)
{
	cli_machine_destroy(c);
	c->machine_err[0] = '\0';
	c->m = m;
	hs_machine_subscribe(c->m, on_event, c);
	cli_bps_init(&c->bps, c->m);
	if (cli_machine_hook)
		cli_machine_hook(c, true);
}

void cli_machine_destroy(struct cli *c)
{
	cli_bps_fini(&c->bps);
	if (c->expr_free)
		c->expr_free(c, false);
	if (c->m && cli_machine_hook)
		cli_machine_hook(c, false);
	hs_check_incr_free(c->incr_check);
	c->incr_check = NULL;
	hs_cfi_close(c->cfi); /* it reads the machine's image */
	c->cfi = NULL;
	c->cfi_tried = false;
	hs_dwarf_close(c->frame_dw);
	c->frame_dw = NULL;
	c->frame_dw_tried = false;
	hs_linetable_free(c->lines);
	c->lines = NULL;
	c->lines_tried = false;
	if (c->m)
		hs_machine_destroy(c->m);
	c->m = NULL;
	for (size_t i = 0; i < c->nconsole; i++)
		free(c->console[i]);
	free(c->console);
	free(c->trace);
	free(c->dbgw);
	c->dbgw = NULL;
	c->ndbgw = c->capdbgw = 0;
	c->console = NULL;
	c->trace = NULL;
	c->nconsole = c->capconsole = c->ntrace = c->captrace = 0;
	c->console_dropped = c->trace_dropped = 0;
	cli_session_lists_forget(c);
	c->have_hvc = c->have_access = false;
	c->have_vm_exit = false;
	cli_bps_init(&c->bps, NULL);
}

void cli_fini(struct cli *c)
{
	cli_machine_destroy(c);
	if (c->expr_free)
		c->expr_free(c, true);
	if (cli_fini_hook)
		cli_fini_hook(c);
}

/* ---- output --------------------------------------------------------------- */

const char *cli_col(const struct cli *c, enum cli_color col)
{
	static const char *const esc[] = {
	    [COL_RESET] = "\033[0m",  [COL_BOLD] = "\033[1m",	 [COL_RED] = "\033[31m",
	    [COL_GREEN] = "\033[32m", [COL_YELLOW] = "\033[33m", [COL_BLUE] = "\033[34m",
	    [COL_CYAN] = "\033[36m",  [COL_DIM] = "\033[2m",
	};
	return c->color ? esc[col] : "";
}

int cli_error(struct cli *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Garbage input must not reach the terminal raw. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
			*p = '?';
	fflush(stdout);
	bool tty = c->color && isatty(2);
	char where[512] = "";
	if (c->src_file && c->err_col > 0)
		snprintf(where, sizeof(where), "%s:%d:%d: ", c->src_file, c->src_line, c->err_col);
	else if (c->src_file)
		snprintf(where, sizeof(where), "%s:%d: ", c->src_file, c->src_line);
	else if (c->err_col > 0)
		snprintf(where, sizeof(where), "error: column %d: ", c->err_col);
	else
		snprintf(where, sizeof(where), "error: ");
	c->err_col = 0;
	fprintf(stderr, "%s%s%s%s\n", tty ? "\033[31m" : "", where, msg, tty ? "\033[0m" : "");
	if (cli_failure_log)
		hs_sb_printf(cli_failure_log, "%s%s\n", where, msg);
	return -1;
}

void cli_print_sb(struct cli *c, struct hs_strbuf *sb)
{
	(void)c;
	const char *s = hs_sb_str(sb);
	fputs(s, stdout);
	if (sb->len && s[sb->len - 1] != '\n')
		putchar('\n');
}

/* ---- values --------------------------------------------------------------- */

static const struct {
	const char *name;
	int64_t v;
} errnos[] = {
    {"EPERM", HS_EPERM},   {"ENOENT", HS_ENOENT}, {"E2BIG", HS_E2BIG},	     {"EAGAIN", HS_EAGAIN},
    {"ENOMEM", HS_ENOMEM}, {"EFAULT", HS_EFAULT}, {"EBUSY", HS_EBUSY},	     {"EEXIST", HS_EEXIST},
    {"EINVAL", HS_EINVAL}, {"ERANGE", HS_ERANGE}, {"ENOTSUPP", HS_ENOTSUPP},
};

const char *cli_errno_name(int64_t v)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (v == -errnos[i].v)
			return errnos[i].name;
	return NULL;
}

bool cli_parse_num(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	bool neg = false;
	const char *p = s;
	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	if (*p == 'E' && isupper((unsigned char)p[1])) {
		for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
			if (!strcmp(p, errnos[i].name)) {
				*out = neg ? -errnos[i].v : errnos[i].v;
				return true;
			}
		}
		if (!strcmp(p, "SMCCC_NOT_SUPPORTED") || !strcmp(p, "NOT_SUPPORTED"))
			goto not_supported;
		return false;
	}
	if (!strcmp(p, "NOT_SUPPORTED") || !strcmp(p, "SMCCC_NOT_SUPPORTED")) {
	not_supported:
		*out = neg ? 1 : HS_SMCCC_NOT_SUPPORTED;
		return true;
	}
	if (!strcmp(p, "SUCCESS") || !strcmp(p, "SMCCC_SUCCESS")) {
		*out = 0;
		return true;
	}
	if (!isdigit((unsigned char)*p))
		return false;
	char *end;
	errno = 0;
	uint64_t v = strtoull(p, &end, 0);
	if (*end || errno)
		return false;
	if (!neg) {
		*out = (int64_t)v; /* up to 2^64 - 1: addresses are unsigned */
		return true;
	}
	/* A negative number must be one: down to -2^63, and -0x8000000000000000 itself. */
	if (v > (uint64_t)INT64_MAX + 1)
		return false;
	*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return true;
}

bool cli_parse_line_number(const char *s, int *line)
{
	int64_t v;
	if (!cli_parse_num(s, &v) || v < 1 || v > CLI_MAX_LINE_NUMBER)
		return false;
	*line = (int)v;
	return true;
}

bool cli_parse_size(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 0);
	if (errno)
		return false;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return false;
	}
	if (*end) {
		end++;
		if (toupper((unsigned char)*end) == 'I')
			end++;
		if (toupper((unsigned char)*end) == 'B')
			end++;
		if (*end)
			return false;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static bool is_sym_char(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '.' || ch == '$';
}

/* One term: number, errno name or symbol. */
static int eval_term(struct cli *c, const char *s, size_t n, enum cli_space sp, uint64_t *out)
{
	char buf[256];
	if (n == 0 || n >= sizeof(buf))
		return cli_error(c, "bad address or value '%.*s'", (int)n, s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	int64_t v;
	if (cli_parse_num(buf, &v)) {
		*out = (uint64_t)v;
		return 0;
	}
	if (!c->m)
		return cli_error(c, "'%s': symbols need a machine (%s)", buf, c->machine_err);
	const struct hs_symbol *sym = hs_image_symbol(hs_machine_image(c->m), buf);
	if (!sym) {
		for (size_t i = 0; i < n; i++)
			if (!is_sym_char((unsigned char)buf[i]))
				return cli_error(c, "'%s' is neither a number nor a symbol", buf);
		return cli_error(c, "no symbol '%s' in the hypervisor image", buf);
	}
	*out = sp == SP_VA ? hs_link_to_hyp_va(c->m, sym->addr) : hs_link_to_pa(c->m, sym->addr);
	return 0;
}

/* The column of word s of the current command line (0: not one of its words). */
static int word_col(const struct cli *c, const char *s)
{
	for (int i = 0; c->arg_cols && c->arg_words && i < c->nr_arg_words; i++)
		if (c->arg_words[i] == s)
			return c->arg_cols[i];
	return 0;
}

static int eval_word(struct cli *c, const char *s, enum cli_space *space, uint64_t *out);

/*
 * An argument's value. Its error names the word's column (file:line:column in a
 * script), so a command need not say again which argument was wrong.
 */
int cli_eval(struct cli *c, const char *s, enum cli_space *space, uint64_t *out)
{
	int col = c->err_col ? 0 : word_col(c, s);
	if (col)
		c->err_col = col;
	int rc = eval_word(c, s, space, out);
	if (col && c->err_col == col)
		c->err_col = 0; /* no error printed it */
	return rc;
}

static int eval_word(struct cli *c, const char *s, enum cli_space *space, uint64_t *out)
{
	enum cli_space sp = SP_DEFAULT;
	if (!strncmp(s, "pa:", 3)) {
		sp = SP_PA;
		s += 3;
	} else if (!strncmp(s, "va:", 3)) {
		sp = SP_VA;
		s += 3;
	} else if (!strncmp(s, "ipa:", 4)) {
		sp = SP_IPA;
		s += 4;
	}
	/* Registers and C operators: the expression evaluator (print's language). */
	if (cli_expr_hook && strpbrk(s, "$*()&|^~<>[]/%{}= '")) {
		if (space)
			*space = sp;
		return cli_expr_hook(c, s, sp != SP_DEFAULT, out);
	}
	enum cli_space esp = sp;
	if (esp == SP_DEFAULT && space && *space == SP_VA)
		esp = SP_VA; /* the caller's default space */
	if (space)
		*space = sp;
	/* a[+-]b[+-]c ...; a leading '-' belongs to the first term (errno names). */
	if (!*s)
		return cli_error(c, "missing address or value");
	uint64_t acc = 0;
	const char *p = s;
	int sign = 1;
	for (;;) {
		const char *t = p;
		if (p == s && (*p == '-' || *p == '+'))
			p++;
		while (*p && *p != '+' && *p != '-')
			p++;
		uint64_t v;
		if (eval_term(c, t, (size_t)(p - t), esp, &v))
			return -1;
		acc += sign > 0 ? v : -v;
		if (!*p)
			break;
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	*out = acc;
	return 0;
}

enum hs_stop_reason cli_stop_reason(struct cli *c)
{
	if (c->have_user_stop && c->user_stop_icount == hs_machine_icount(c->m))
		return c->user_stop;
	return hs_last_stop(c->m)->reason;
}

int cli_need_pending(struct cli *c, const char *cmd)
{
	if (hs_machine_dead(c->m))
		return cli_error(c, "%s: the hypervisor faulted: only inspection is possible", cmd);
	if (!hs_op_pending(c->m))
		return cli_error(c,
				 "%s: the machine is idle: nothing to step (stop somewhere first: "
				 "break SYM, then boot, hvc or continue)",
				 cmd);
	return 0;
}

void cli_stop_as_step(struct cli *c)
{
	c->have_user_stop = true;
	c->user_stop = HS_STOP_STEP;
	c->user_stop_icount = hs_machine_icount(c->m);
}

/* ---- memory --------------------------------------------------------------- */

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	struct cli *c = ud;
	return hs_phys_read(c->m, pa, buf, len, NULL) ? -1 : 0;
}

struct hs_dwarf *cli_image_dwarf(struct cli *c)
{
	if (!c->frame_dw_tried && c->m) {
		c->frame_dw_tried = true;
		hs_dwarf_open(hs_machine_image(c->m), &c->frame_dw, NULL);
	}
	return c->frame_dw;
}

struct hs_phys cli_phys(struct cli *c)
{
	return (struct hs_phys){.read = phys_read, .ud = c};
}

int cli_regime(struct cli *c, const char *table, struct hs_pt_regime *r, char *err, size_t len)
{
	unsigned cpu = hs_current_cpu(c->m);
	uint64_t a = 0, b = 0, d = 0;
	if (!table || !strcmp(table, "hyp")) {
		hs_cpu_sysreg(c->m, cpu, HS_SR_TCR_EL2, &a);
		hs_cpu_sysreg(c->m, cpu, HS_SR_TTBR0_EL2, &b);
		hs_cpu_sysreg(c->m, cpu, HS_SR_MAIR_EL2, &d);
		if (!b) {
			snprintf(err, len,
				 "TTBR0_EL2 is 0 on cpu%u: the hypervisor has no page tables "
				 "yet (boot first)",
				 cpu);
			return -EINVAL;
		}
		return hs_pt_regime_el2(a, b, d, r, err, len);
	}
	if (!strcmp(table, "host")) {
		hs_host_s2_regs(c->m, cpu, &a, &b);
		if (!b) {
			snprintf(err, len,
				 "VTTBR_EL2 is 0 on cpu%u: the host has no stage 2 yet "
				 "(boot first)",
				 cpu);
			return -EINVAL;
		}
		return hs_machine_regime_s2(c->m, a, b, r, err, len);
	}
	if (!strcmp(table, "guest")) {
		snprintf(err, len, "guest tables are not available yet (no VM has been created)");
		return -ENOENT;
	}
	snprintf(err, len, "unknown table '%s': give hyp, host or guest N", table);
	return -EINVAL;
}

int cli_to_pa(struct cli *c, enum cli_space sp, uint64_t addr, uint64_t *pa, char *err, size_t len)
{
	unsigned cpu = hs_current_cpu(c->m);
	if (sp == SP_PA) {
		*pa = addr;
		return 0;
	}
	struct hs_pt_regime r;
	if (sp == SP_VA || sp == SP_DEFAULT) {
		uint64_t sctlr = 0, link;
		hs_cpu_sysreg(c->m, cpu, HS_SR_SCTLR_EL2, &sctlr);
		if (!(sctlr & 1)) {
			/*
			 * EL2 MMU off: VA == PA. A HYP VA of the image (a symbol, a
			 * pointer the hypervisor will use) means where the image is.
			 */
			*pa = addr;
			if (!hs_phys_is_ram(c->m, addr, 1) && hs_addr_to_link(c->m, addr, &link))
				*pa = hs_link_to_pa(c->m, link);
			return 0;
		}
		if (cli_regime(c, "hyp", &r, err, len))
			return -EINVAL;
	} else {
		if (cli_regime(c, "host", &r, err, len))
			return -EINVAL;
	}
	struct hs_phys ph = cli_phys(c);
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&ph, &r, addr, &t);
	if (rc < 0) {
		snprintf(err, len, "cannot translate %#" PRIx64, addr);
		return rc;
	}
	if (rc == 1) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		hs_pt_fault_text(&sb, &t.fault);
		struct hs_cpu_state st;
		hs_cpu_state(c->m, cpu, &st);
		char hint[160] = "";
		if (sp != SP_IPA && st.el < 2)
			snprintf(hint, sizeof(hint),
				 " (an EL2 VA; cpu%u is at EL%u: ipa:ADDR reads as it sees memory)",
				 cpu, st.el);
		snprintf(err, len, "%s %#" PRIx64 " does not translate: %s%s",
			 sp == SP_IPA ? "IPA" : "EL2 VA", addr, hs_sb_str(&sb), hint);
		hs_sb_free(&sb);
		return -EFAULT;
	}
	*pa = t.out_pa;
	return 0;
}

int cli_read(struct cli *c, enum cli_space sp, uint64_t addr, void *buf, size_t len, char *err,
	     size_t elen)
{
	uint8_t *out = buf;
	while (len) {
		size_t chunk = HS_PAGE_SIZE - (addr & (HS_PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint64_t pa;
		int rc = cli_to_pa(c, sp, addr, &pa, err, elen);
		if (rc)
			return rc;
		struct hs_error e = {0};
		if (hs_phys_read(c->m, pa, out, chunk, &e)) {
			snprintf(err, elen, "%s", e.msg);
			return -EFAULT;
		}
		out += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

void cli_symbolize(struct cli *c, uint64_t addr, char *buf, size_t len)
{
	buf[0] = '\0';
	if (c->m && !hs_symbolize(c->m, addr, buf, len))
		buf[0] = '\0';
}
