/* SPDX-License-Identifier: MIT */
/*
 * `expect`: the scenario language's assertions. A failed expectation prints
 * "FILE:LINE: expected ..., got ..."; a malformed one "FILE:LINE:COL: expected ...".
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "profile.h"
#include "cmd_print.h"
#include "inspect_check.h"
#include "inspect_owner.h"
#include "pt_decode.h"

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
static const char *const op_names[] = {"==", "!=", "<", "<=", ">", ">="};

struct ex {
	struct cli *c;
	int argc;
	char **argv;
	const char *want_word; /* the expected value as written (how to show values) */
};

static int syntax(struct ex *e, int i, const char *fmt, const char *what)
{
	struct cli *c = e->c;
	int col = 1;
	if (c->arg_cols && i < e->argc)
		col = c->arg_cols[i];
	else if (c->arg_cols && e->argc > 0)
		col = c->arg_cols[e->argc - 1] + (int)strlen(e->argv[e->argc - 1]);
	c->err_col = col;
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, what ? what : "");
	return cli_error(c, "%s", msg);
}

static const char *word(struct ex *e, int i)
{
	return i < e->argc ? e->argv[i] : "end of line";
}

static int parse_op(struct ex *e, int i, enum op *op)
{
	for (int k = 0; k < 6; k++) {
		if (i < e->argc && !strcmp(e->argv[i], op_names[k])) {
			*op = (enum op)k;
			return 0;
		}
	}
	return syntax(e, i, "expected an operator (==, !=, <, <=, >, >=), got '%s'", word(e, i));
}

static int parse_value(struct ex *e, int i, int64_t *v)
{
	if (i >= e->argc)
		return syntax(e, i, "expected a value%s", "");
	const char *w = e->argv[i];
	e->want_word = w;
	if (cli_parse_num(w, v))
		return 0;
	/* Symbols and address expressions: pa:SYM, SYM+0x10 ... (errors name the word). */
	if (isalpha((unsigned char)w[0]) || w[0] == '_' || w[0] == '.') {
		enum cli_space sp = SP_PA;
		uint64_t u;
		if (!e->c->m)
			return cli_error(e->c, "'%s': symbols need a machine (%s)", w,
					 e->c->machine_err);
		if (cli_eval(e->c, w, &sp, &u))
			return -1;
		*v = (int64_t)u;
		return 0;
	}
	return syntax(e, i, "expected a number, an errno name (-EINVAL) or a symbol, got '%s'", w);
}

static int end_of(struct ex *e, int i)
{
	if (i < e->argc)
		return syntax(e, i, "expected end of line, got '%s'", e->argv[i]);
	return 0;
}

static bool cmp(int64_t a, enum op op, int64_t b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	}
	return false;
}

/*
 * A value of a failed expectation, shown the way the expected one was written:
 * hex for hex (or a symbol), errno names for hypercall results and errno
 * operands (-1 of x1 is -EPERM; -1 of x0 is SMCCC NOT_SUPPORTED).
 */
static void fmt_val(int64_t v, const char *what, const char *word, char *buf, size_t len)
{
	bool hex = word && (strstr(word, "0x") || strstr(word, "0X") ||
			    isalpha((unsigned char)*word) || *word == '_' || *word == '.');
	bool errno_word = word && (word[0] == 'E' || (word[0] == '-' && word[1] == 'E'));
	bool result = !strcmp(what, "result") || !strcmp(what, "x1");
	const char *e = (v < -1 || (v == -1 && (result || errno_word))) ? cli_errno_name(v) : NULL;
	if (e && (result || errno_word || v < -1))
		snprintf(buf, len, "-%s (%" PRId64 ")", e, v);
	else if (v == -1 && !strcmp(what, "x0"))
		snprintf(buf, len, "-1 (NOT_SUPPORTED)");
	else if (hex && !errno_word)
		snprintf(buf, len, "%s%#" PRIx64, v < 0 && v > -4096 ? "-" : "",
			 v < 0 && v > -4096 ? (uint64_t)-v : (uint64_t)v);
	else if (v > -4096 && v < 4096)
		snprintf(buf, len, "%" PRId64, v);
	else
		snprintf(buf, len, "%#" PRIx64, (uint64_t)v);
}

static int check(struct ex *e, const char *what, int64_t got, enum op op, int64_t want)
{
	if (cmp(got, op, want)) {
		if (e->c->interactive && !e->c->src_file)
			printf("ok: %s %s\n", what, op_names[op]);
		return 0;
	}
	char g[64], w[64];
	fmt_val(got, what, e->want_word, g, sizeof(g));
	fmt_val(want, what, e->want_word, w, sizeof(w));
	return cli_error(e->c, "expected %s %s %s, got %s", what, op_names[op], w, g);
}

static bool need_machine(struct ex *e)
{
	if (e->c->m)
		return true;
	cli_error(e->c, "expect: no machine: %s", e->c->machine_err);
	return false;
}

static int reg_value(struct ex *e, int i, int64_t *v)
{
	const char *n = e->argv[i];
	struct hs_cpu_state st;
	hs_cpu_state(e->c->m, hs_current_cpu(e->c->m), &st);
	if (!strcasecmp(n, "pc"))
		*v = (int64_t)st.pc;
	else if (!strcasecmp(n, "sp"))
		*v = (int64_t)st.sp;
	else if (!strcasecmp(n, "lr"))
		*v = (int64_t)st.x[30];
	else if (!strcasecmp(n, "fp"))
		*v = (int64_t)st.x[29];
	else if (!strcasecmp(n, "pstate"))
		*v = (int64_t)st.pstate;
	else if ((n[0] == 'x' || n[0] == 'X') && isdigit((unsigned char)n[1])) {
		char *end;
		long r = strtol(n + 1, &end, 10);
		if (*end || r < 0 || r > 30)
			return syntax(e, i,
				      "expected a register x0..x30, pc, sp, lr, fp or pstate, "
				      "got '%s'",
				      n);
		*v = (int64_t)st.x[r];
	} else {
		return syntax(e, i,
			      "expected a register x0..x30, pc, sp, lr, fp or pstate, got '%s'", n);
	}
	return 0;
}

static int ex_translate(struct ex *e, bool want_ok)
{
	/* translates|faults TABLE ADDR [to PA] */
	const char *kw = want_ok ? "translates" : "faults";
	if (e->argc < 3 || (strcmp(e->argv[2], "hyp") && strcmp(e->argv[2], "host")))
		return syntax(e, 2, "expected a table (hyp or host), got '%s'", word(e, 2));
	if (e->argc < 4)
		return syntax(e, 3, "expected an address%s", "");
	bool hyp = !strcmp(e->argv[2], "hyp");
	int64_t to = 0;
	bool have_to = false;
	int perm = -1; /* HS_PT_PERM_* wanted, -1: not checked */
	for (int i = 4; want_ok && i < e->argc; i += 2) {
		if (!strcmp(e->argv[i], "to") && !have_to) {
			if (parse_value(e, i + 1, &to))
				return -1;
			have_to = true;
		} else if (!strcmp(e->argv[i], "perm") && perm < 0) {
			const char *w = i + 1 < e->argc ? e->argv[i + 1] : "";
			if (strlen(w) != 3 || (w[0] != 'r' && w[0] != '-') ||
			    (w[1] != 'w' && w[1] != '-') || (w[2] != 'x' && w[2] != '-'))
				return syntax(e, i + 1,
					      "expected permissions like rw- or r-x, got '%s'",
					      word(e, i + 1));
			perm = (w[0] == 'r' ? HS_PT_PERM_R : 0) | (w[1] == 'w' ? HS_PT_PERM_W : 0) |
			       (w[2] == 'x' ? HS_PT_PERM_X : 0);
		} else {
			return syntax(e, i, "expected 'to', 'perm' or end of line, got '%s'",
				      e->argv[i]);
		}
	}
	if (!want_ok && end_of(e, 4))
		return -1;
	if (!need_machine(e))
		return -1;
	enum cli_space sp = hyp ? SP_VA : SP_PA;
	uint64_t addr;
	if (cli_eval(e->c, e->argv[3], &sp, &addr))
		return -1;
	struct hs_pt_regime r;
	char err[256];
	if (cli_regime(e->c, e->argv[2], &r, err, sizeof(err)))
		return cli_error(e->c, "expected %s %s %s, but %s", kw, e->argv[2], e->argv[3],
				 err);
	struct hs_phys ph = cli_phys(e->c);
	struct hs_pt_trace t;
	int rc = hs_pt_translate(&ph, &r, addr, &t);
	if (rc < 0)
		return cli_error(e->c, "expect %s: cannot walk %#" PRIx64, kw, addr);
	if (want_ok && rc == 1) {
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		hs_pt_fault_text(&sb, &t.fault);
		cli_error(e->c, "expected %s %#" PRIx64 " to translate, got a fault: %s",
			  e->argv[2], addr, hs_sb_str(&sb));
		hs_sb_free(&sb);
		return -1;
	}
	if (!want_ok && rc == 0)
		return cli_error(e->c, "expected %s %#" PRIx64 " to fault, got PA %#" PRIx64,
				 e->argv[2], addr, t.out_pa);
	if (have_to && t.out_pa != (uint64_t)to)
		return cli_error(
		    e->c, "expected %s %#" PRIx64 " to translate to %#" PRIx64 ", got PA %#" PRIx64,
		    e->argv[2], addr, (uint64_t)to, t.out_pa);
	if (perm >= 0 && t.attrs.perm != (unsigned)perm) {
		char w[4], g[4];
		hs_pt_perm_str((unsigned)perm, w);
		hs_pt_perm_str(t.attrs.perm, g);
		return cli_error(e->c, "expected %s %#" PRIx64 " to translate with perm %s, got %s",
				 e->argv[2], addr, w, g);
	}
	return 0;
}

static int ex_host_read(struct ex *e)
{
	if (e->argc < 3)
		return syntax(e, 2, "expected a physical address%s", "");
	/* expect host-read PA == VALUE: the load succeeds and reads VALUE */
	bool by_value = e->argc > 3 && strchr("=!<>", e->argv[3][0]);
	enum op op = OP_EQ;
	int64_t want = 0;
	if (by_value) {
		if (parse_op(e, 3, &op) || parse_value(e, 4, &want) || end_of(e, 5))
			return -1;
	} else if (e->argc < 4 || (strcmp(e->argv[3], "ok") && strcmp(e->argv[3], "refused"))) {
		return syntax(e, 3, "expected ok, refused or an operator, got '%s'", word(e, 3));
	}
	if ((!by_value && end_of(e, 4)) || !need_machine(e))
		return -1;
	bool want_ok = by_value || !strcmp(e->argv[3], "ok");
	enum cli_space sp = SP_PA;
	uint64_t pa;
	if (cli_eval(e->c, e->argv[2], &sp, &pa))
		return -1;
	struct hs_host_op res;
	struct hs_stop s = {0};
	struct hs_error err = {0};
	int rc = hs_host_access(e->c->m, hs_current_cpu(e->c->m), false, pa, 8, 0, &res, &s, &err);
	if (rc)
		return cli_error(e->c,
				 "expected host-read %#" PRIx64 " %s, but the access could not "
				 "run: %s",
				 pa, e->argv[3], err.msg);
	if (s.reason != HS_STOP_DONE)
		return cli_error(e->c, "expected host-read %#" PRIx64 " %s, got a stop (%s)", pa,
				 e->argv[3], hs_stop_reason_name(s.reason));
	if (by_value && !res.refused) {
		char w[64];
		snprintf(w, sizeof(w), "host-read %#" PRIx64, pa);
		return check(e, w, (int64_t)res.value, op, want);
	}
	if (want_ok == !res.refused)
		return 0;
	if (want_ok)
		return cli_error(
		    e->c, "expected host-read %#" PRIx64 " ok, got refused (ESR_EL1=%#" PRIx64 ")",
		    pa, res.esr_el1);
	return cli_error(e->c,
			 "expected host-read %#" PRIx64 " refused, got ok (value %#" PRIx64 ")", pa,
			 res.value);
}

/* A physical address for owner/state: symbols mean their PA; va:/ipa: are translated. */
static int ex_pa(struct ex *e, int i, uint64_t *pa)
{
	if (i >= e->argc)
		return syntax(e, i, "expected a physical address%s", "");
	enum cli_space sp = SP_PA;
	uint64_t a;
	if (cli_eval(e->c, e->argv[i], &sp, &a))
		return -1;
	if (sp == SP_VA || sp == SP_IPA) {
		char err[256];
		if (cli_to_pa(e->c, sp, a, pa, err, sizeof(err)))
			return cli_error(e->c, "expect: '%s': %s", e->argv[i], err);
		return 0;
	}
	*pa = a;
	if (a >= (1ULL << HS_PA_BITS))
		return syntax(e, i, "expected a physical address below 2^44, got '%s'", e->argv[i]);
	return 0;
}

static int ex_lookup(struct ex *e, uint64_t pa, struct hs_owner_page *pg)
{
	struct hs_owner_ctx ctx;
	struct hs_error err = {0};
	memset(&ctx, 0, sizeof(ctx));
	if (hs_owner_ctx_build(e->c->m, &ctx, &err))
		return cli_error(e->c, "expect: cannot read the tables: %s", err.msg);
	hs_owner_lookup(&ctx, pa, pg);
	hs_owner_ctx_free(&ctx);
	return 0;
}

/* expect owner PA ==|!= host|hyp|guest */
static int ex_owner(struct ex *e)
{
	static const char *const owners[] = {"host", "hyp", "guest"};
	enum op op = OP_EQ;
	if (!need_machine(e))
		return -1;
	uint64_t pa;
	if (ex_pa(e, 2, &pa) || parse_op(e, 3, &op))
		return -1;
	if (op != OP_EQ && op != OP_NE)
		return syntax(e, 3, "expected == or != (owners are not ordered), got '%s'",
			      e->argv[3]);
	int want = -1;
	for (int k = 0; k < 3 && e->argc > 4; k++)
		if (!strcmp(e->argv[4], owners[k]))
			want = k;
	if (want < 0)
		return syntax(e, 4, "expected an owner (host, hyp or guest), got '%s'", word(e, 4));
	if (end_of(e, 5))
		return -1;
	struct hs_owner_page pg;
	if (ex_lookup(e, pa, &pg))
		return -1;
	bool eq = pg.owner == (unsigned)want;
	if (eq == (op == OP_EQ))
		return 0;
	return cli_error(e->c, "expected owner %#" PRIx64 " %s %s, got %s", pa, op_names[op],
			 owners[want],
			 hs_swenc_canon_owner_name(hs_machine_swenc(e->c->m), pg.owner));
}

/* expect state PA host|hyp ==|!= OWNED|SHARED_OWNED|SHARED_BORROWED|NOPAGE */
static int ex_state(struct ex *e)
{
	static const char *const states[] = {"OWNED", "SHARED_OWNED", "SHARED_BORROWED", "NOPAGE"};
	enum op op = OP_EQ;
	if (!need_machine(e))
		return -1;
	uint64_t pa;
	if (ex_pa(e, 2, &pa))
		return -1;
	if (e->argc < 4 || (strcmp(e->argv[3], "host") && strcmp(e->argv[3], "hyp")))
		return syntax(e, 3, "expected host or hyp, got '%s'", word(e, 3));
	bool host = !strcmp(e->argv[3], "host");
	if (parse_op(e, 4, &op))
		return -1;
	if (op != OP_EQ && op != OP_NE)
		return syntax(e, 4, "expected == or != (states are not ordered), got '%s'",
			      e->argv[4]);
	int want = -1;
	for (int k = 0; k < 4 && e->argc > 5; k++)
		if (!strcasecmp(e->argv[5], states[k]))
			want = k;
	if (want < 0)
		return syntax(e, 5,
			      "expected a state (OWNED, SHARED_OWNED, SHARED_BORROWED or NOPAGE), "
			      "got '%s'",
			      word(e, 5));
	if (end_of(e, 6))
		return -1;
	struct hs_owner_page pg;
	if (ex_lookup(e, pa, &pg))
		return -1;
	if (!pg.vm_backed)
		return cli_error(e->c,
				 "expected state %#" PRIx64 " %s %s %s, but the page has no "
				 "vmemmap entry (not memory, or not backed)",
				 pa, e->argv[3], op_names[op], states[want]);
	unsigned got = host ? HS_VM_HOST(pg.vm) : HS_VM_HYP(pg.vm);
	if ((got == (unsigned)want) == (op == OP_EQ))
		return 0;
	return cli_error(e->c, "expected state %#" PRIx64 " %s %s %s, got %s", pa, e->argv[3],
			 op_names[op], states[want],
			 hs_swenc_state_name(hs_machine_swenc(e->c->m), got));
}

/* expect check clean | expect check violates RULE[,RULE...] */
static int ex_check(struct ex *e)
{
	bool violates = e->argc >= 4 && !strcmp(e->argv[2], "violates");
	if (!violates && (e->argc < 3 || strcmp(e->argv[2], "clean")))
		return syntax(e, 2, "expected 'clean' or 'violates RULE', got '%s'", word(e, 2));
	if (end_of(e, violates ? 4 : 3) || !need_machine(e))
		return -1;
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	int n = hs_check(e->c->m, &rep);
	int rc = 0;
	if (violates) {
		/* RULE[,RULE...]: any of them (kernels differ in which rule a corruption breaks) */
		size_t found = 0;
		char rules[200];
		snprintf(rules, sizeof(rules), "%s", e->argv[3]);
		for (char *sv, *r = strtok_r(rules, ",", &sv); r; r = strtok_r(NULL, ",", &sv))
			found += hs_check_count(&rep, r);
		if (!found)
			rc = cli_error(e->c, "expected a violation of %s, got %zu violation%s%s%s",
				       e->argv[3], rep.total, rep.total == 1 ? "" : "s",
				       rep.nr ? ", first: " : "", rep.nr ? rep.v[0].rule : "");
	} else if (n != 0) {
		char first[400] = "";
		if (rep.nr)
			snprintf(first, sizeof(first), "; first: %s at PA %#" PRIx64 ": %s",
				 rep.v[0].rule, rep.v[0].pa, rep.v[0].msg);
		rc = cli_error(e->c, "expected check clean, got %zu violation%s%s", rep.total,
			       rep.total == 1 ? "" : "s", first);
	}
	hs_check_report_free(&rep);
	return rc;
}

/* expect diff pages [host-s2|hyp-s1|vmemmap] OP N */
static int ex_diff(struct ex *e)
{
	if (e->argc < 3 || strcmp(e->argv[2], "pages"))
		return syntax(e, 2, "expected 'pages', got '%s'", word(e, 2));
	int table = -1, i = 3;
	for (int t = 0; t < HS_SNAP_NR_TABLES && e->argc > 3; t++)
		if (!strcmp(e->argv[3], hs_snap_table_name((enum hs_snap_table)t)))
			table = t;
	if (table >= 0)
		i++;
	else if (e->argc > 3 && strchr("=!<>", e->argv[3][0]) == NULL)
		return syntax(
		    e, 3, "expected a table (host-s2, hyp-s1, vmemmap) or an operator, got '%s'",
		    e->argv[3]);
	enum op op = OP_EQ;
	int64_t want;
	if (parse_op(e, i, &op) || parse_value(e, i + 1, &want) || end_of(e, i + 2))
		return -1;
	if (!need_machine(e))
		return -1;
	uint64_t pages;
	char err[256];
	char what[64];
	snprintf(what, sizeof(what), "diff pages%s%s", table >= 0 ? " " : "",
		 table >= 0 ? hs_snap_table_name((enum hs_snap_table)table) : "");
	if (cli_mm_diff_pages(e->c, table, &pages, err, sizeof(err)))
		return cli_error(e->c, "expected %s %s %s, but %s", what, op_names[op],
				 e->argv[i + 1], err);
	return check(e, what, (int64_t)pages, op, want);
}

/*
 * expect vm exit ==|!= hvc|s2-fault|other
 * expect vm value OP N          (the guest read N: last `vm run read`)
 * expect vm fault-ipa OP IPA    (the last stage-2 fault)
 * expect vm check [HANDLE] clean
 */
static int ex_vm(struct ex *e)
{
	struct cli *c = e->c;
	const char *what = word(e, 2);
	enum op op = OP_EQ;
	int64_t want;
	if (!strcmp(what, "check")) {
		int i = 3;
		bool have_h = false;
		int64_t h = 0;
		if (e->argc > 3 && strcmp(e->argv[3], "clean")) {
			if (parse_value(e, 3, &h))
				return -1;
			have_h = true;
			i = 4;
		}
		if (i >= e->argc || strcmp(e->argv[i], "clean"))
			return syntax(e, i, "expected 'clean', got '%s'", word(e, i));
		if (end_of(e, i + 1) || !need_machine(e))
			return -1;
		struct hs_strbuf sb;
		hs_sb_init(&sb);
		int k = cli_vm_check(c, have_h, (uint64_t)h, &sb, NULL);
		int rc = 0;
		if (k > 0) {
			char first[240];
			const char *s = hs_sb_str(&sb), *nl = strchr(s, '\n');
			const char *l2 = nl ? nl + 1 : "";
			const char *nl2 = strchr(l2, '\n');
			snprintf(first, sizeof(first), "%.*s",
				 nl2 ? (int)(nl2 - l2) : (int)strlen(l2), l2);
			rc = cli_error(c, "expected vm check clean, got %d mismatch%s; first: %s",
				       k, k == 1 ? "" : "es", first);
		} else if (k < 0) {
			rc = -1;
		}
		hs_sb_free(&sb);
		return rc;
	}
	if (strcmp(what, "exit") && strcmp(what, "value") && strcmp(what, "fault-ipa"))
		return syntax(e, 2, "expected exit, value, fault-ipa or check, got '%s'", what);
	if (parse_op(e, 3, &op))
		return -1;
	if (!strcmp(what, "exit")) {
		static const char *const exits[] = {"hvc", "s2-fault", "other", "irq"};
		static const uint64_t reasons[] = {HS_EXIT_GUEST_HVC, HS_EXIT_S2_FAULT,
						   HS_EXIT_OTHER, HS_EXIT_IRQ};
		if (op != OP_EQ && op != OP_NE)
			return syntax(e, 3, "expected == or != (exits are not ordered), got '%s'",
				      e->argv[3]);
		int k = -1;
		for (int j = 0; j < 4 && e->argc > 4; j++)
			if (!strcmp(e->argv[4], exits[j]))
				k = j;
		if (k < 0)
			return syntax(e, 4,
				      "expected an exit (hvc, s2-fault, other or irq), got '%s'",
				      word(e, 4));
		if (end_of(e, 5))
			return -1;
		if (!c->have_vm_exit)
			return cli_error(c, "expected vm exit %s %s, but no `vm run` has completed",
					 op_names[op], exits[k]);
		const char *got = c->vm_exit.status ? "error" : cli_vm_exit_name(c->vm_exit.reason);
		bool eq = !c->vm_exit.status && c->vm_exit.reason == reasons[k];
		if (eq == (op == OP_EQ))
			return 0;
		char detail[200] = "";
		if (c->vm_exit.status)
			snprintf(detail, sizeof(detail), " (vcpu_run returned %" PRId64 ")",
				 c->vm_exit.status);
		else if (c->vm_exit.reason == HS_EXIT_S2_FAULT)
			snprintf(detail, sizeof(detail), " at IPA %#" PRIx64, c->vm_exit.x2);
		return cli_error(c, "expected vm exit %s %s, got %s%s", op_names[op], exits[k], got,
				 detail);
	}
	if (parse_value(e, 4, &want) || end_of(e, 5))
		return -1;
	if (!c->have_vm_exit || c->vm_exit.status)
		return cli_error(c, "expected vm %s %s %s, but no `vm run` has completed", what,
				 op_names[op], e->argv[4]);
	char w[40];
	snprintf(w, sizeof(w), "vm %s", what);
	if (!strcmp(what, "value")) {
		if (c->vm_exit.reason != HS_EXIT_GUEST_HVC || c->vm_exit.x2 != HS_GUEST_DONE_READ) {
			char d[64] = "";
			if (c->vm_exit.reason == HS_EXIT_S2_FAULT)
				snprintf(d, sizeof(d), " at IPA %#" PRIx64, c->vm_exit.x2);
			return cli_error(c,
					 "expected vm value %s %s, but the last `vm run` read "
					 "nothing (exit %s%s)",
					 op_names[op], e->argv[4],
					 cli_vm_exit_name(c->vm_exit.reason), d);
		}
		return check(e, w, (int64_t)c->vm_exit.x3, op, want);
	}
	if (c->vm_exit.reason != HS_EXIT_S2_FAULT)
		return cli_error(c,
				 "expected vm fault-ipa %s %s, but the last `vm run` exited "
				 "with %s, not a stage-2 fault",
				 op_names[op], e->argv[4], cli_vm_exit_name(c->vm_exit.reason));
	return check(e, w, (int64_t)c->vm_exit.x2, op, want);
}

/* expect stop ==|!= breakpoint|watchpoint|step|done|hyp-fault|idle|limit|interrupted */
static int ex_stop(struct ex *e)
{
	static const struct {
		const char *name;
		enum hs_stop_reason r;
	} stops[] = {{"breakpoint", HS_STOP_BREAKPOINT},
		     {"watchpoint", HS_STOP_WATCH},
		     {"check", HS_STOP_CHECK},
		     {"step", HS_STOP_STEP},
		     {"done", HS_STOP_DONE},
		     {"hyp-fault", HS_STOP_HYP_FAULT},
		     {"idle", HS_STOP_IDLE},
		     {"limit", HS_STOP_LIMIT},
		     {"interrupted", HS_STOP_INTERRUPTED}};
	enum op op = OP_EQ;
	if (parse_op(e, 2, &op))
		return -1;
	if (op != OP_EQ && op != OP_NE)
		return syntax(e, 2, "expected == or != (stops are not ordered), got '%s'",
			      e->argv[2]);
	int k = -1;
	for (int j = 0; j < (int)(sizeof(stops) / sizeof(stops[0])) && e->argc > 3; j++)
		if (!strcmp(e->argv[3], stops[j].name))
			k = j;
	if (k < 0)
		return syntax(e, 3,
			      "expected a stop (breakpoint, watchpoint, step, done, hyp-fault, "
			      "idle, limit or interrupted), got '%s'",
			      word(e, 3));
	if (end_of(e, 4) || !need_machine(e))
		return -1;
	struct cli *c = e->c;
	enum hs_stop_reason got = cli_stop_reason(c);
	const char *gname = hs_stop_reason_name(got);
	for (size_t j = 0; j < sizeof(stops) / sizeof(stops[0]); j++)
		if (stops[j].r == got)
			gname = stops[j].name;
	if ((got == stops[k].r) == (op == OP_EQ)) {
		/* the line before stopped at the fault this expects: it has not failed */
		if (op == OP_EQ && got == HS_STOP_HYP_FAULT)
			c->hyp_fault_expected = true;
		return 0;
	}
	char where[160] = "";
	char sym[128];
	const struct hs_stop *ls = hs_last_stop(c->m);
	cli_symbolize(c, ls->pc, sym, sizeof(sym));
	snprintf(where, sizeof(where), " (cpu%u at %#" PRIx64 "%s%s%s)", ls->cpu, ls->pc,
		 *sym ? " <" : "", sym, *sym ? ">" : "");
	return cli_error(c, "expected stop %s %s, got %s%s", op_names[op], stops[k].name, gname,
			 where);
}

/* Two code addresses as link addresses when both are in the image (PA or HYP VA alike). */
static void as_link(struct hs_machine *m, uint64_t *got, uint64_t *want)
{
	uint64_t lg, lw;
	if (hs_addr_to_link(m, *got, &lg) && hs_addr_to_link(m, *want, &lw)) {
		*got = lg;
		*want = lw;
	}
}

/*
 * expect blame hyp|host|guest [HANDLE] ADDR pc|hvc|cpu|el|old|new|stores OP VALUE:
 * the last store to the deepest entry on ADDR's walk (cmd_blame.c).
 */
static int ex_blame(struct ex *e)
{
	static const char *const fields[] = {"pc", "hvc", "cpu", "el", "old", "new", "stores"};
	int nf = (int)(sizeof(fields) / sizeof(fields[0]));
	struct cli *c = e->c;
	if (!need_machine(e))
		return -1;
	/* guest HANDLE ADDR FIELD ..., or guest ADDR FIELD ... with one VM */
	bool handle = e->argc > 4 && !strcmp(e->argv[2], "guest");
	for (int k = 0; handle && k < nf; k++)
		handle = strcmp(e->argv[4], fields[k]) != 0;
	struct cli_blame_hit h;
	int i;
	if (cli_blame_lookup(c, e->argc, e->argv, 2, handle, &h, &i))
		return -1;
	int f = -1;
	for (int k = 0; i < e->argc && k < nf; k++)
		if (!strcmp(e->argv[i], fields[k]))
			f = k;
	if (f < 0)
		return syntax(e, i, "expected pc, hvc, cpu, el, old, new or stores, got '%s'",
			      word(e, i));
	enum op op = OP_EQ;
	if (parse_op(e, i + 1, &op))
		return -1;
	if (e->argc < i + 3)
		return syntax(e, i + 2, "expected a value%s", "");
	if (end_of(e, i + 3))
		return -1;
	const char *want_s = e->argv[i + 2];
	char what[96];
	snprintf(what, sizeof(what), "blame %s of L%d entry %#" PRIx64, fields[f], h.level,
		 h.desc_pa);
	if (!strcmp(fields[f], "stores")) {
		int64_t want;
		if (parse_value(e, i + 2, &want))
			return -1;
		return check(e, what, (int64_t)h.stores, op, want);
	}
	if (!h.have)
		return cli_error(c, "expected %s %s %s, got no store recorded", what, op_names[op],
				 want_s);
	if (!strcmp(fields[f], "hvc")) {
		if (op != OP_EQ && op != OP_NE)
			return syntax(e, i + 1, "expected == or != , got '%s'", e->argv[i + 1]);
		const char *got = h.rec.hvc_name ? h.rec.hvc_name : "none";
		if (!strcmp(got, want_s) == (op == OP_EQ))
			return 0;
		return cli_error(c, "expected %s %s %s, got %s", what, op_names[op], want_s, got);
	}
	if (!strcmp(fields[f], "pc")) {
		enum cli_space sp = SP_PA;
		uint64_t want, got = h.rec.pc;
		if (cli_eval(c, want_s, &sp, &want))
			return -1;
		as_link(c->m, &got, &want);
		if (cmp((int64_t)got, op, (int64_t)want))
			return 0;
		char where[200];
		hs_pc_where(c->m, h.rec.pc, where, sizeof(where));
		return cli_error(c, "expected %s %s %s, got %#" PRIx64 " %s", what, op_names[op],
				 want_s, h.rec.pc, where);
	}
	int64_t want;
	if (parse_value(e, i + 2, &want))
		return -1;
	uint64_t got = !strcmp(fields[f], "cpu")   ? h.rec.cpu
		       : !strcmp(fields[f], "el")  ? h.rec.el
		       : !strcmp(fields[f], "old") ? h.rec.old
						   : h.rec.new;
	return check(e, what, (int64_t)got, op, want);
}

/* expect pc ==|!= SYMBOL[+OFF]|ADDR: compared as link addresses when both are in the image. */
static int ex_pc(struct ex *e)
{
	enum op op = OP_EQ;
	if (parse_op(e, 2, &op))
		return -1;
	if (e->argc < 4)
		return syntax(e, 3, "expected a symbol or an address%s", "");
	if (end_of(e, 4) || !need_machine(e))
		return -1;
	struct cli *c = e->c;
	enum cli_space sp = SP_PA;
	uint64_t want;
	if (cli_eval(c, e->argv[3], &sp, &want))
		return -1;
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	uint64_t got = st.pc;
	as_link(c->m, &got, &want);
	if (cmp((int64_t)got, op, (int64_t)want))
		return 0;
	char sym[128];
	cli_symbolize(c, st.pc, sym, sizeof(sym));
	return cli_error(c, "expected pc %s %s, got %#" PRIx64 "%s%s%s", op_names[op], e->argv[3],
			 st.pc, *sym ? " <" : "", sym, *sym ? ">" : "");
}

/* expect line ==|!= FILE:LINE (FILE matched by suffix) */
static int ex_line(struct ex *e)
{
	enum op op = OP_EQ;
	if (parse_op(e, 2, &op))
		return -1;
	if (op != OP_EQ && op != OP_NE)
		return syntax(e, 2, "expected == or != , got '%s'", e->argv[2]);
	const char *w = e->argc > 3 ? e->argv[3] : "";
	const char *colon = strrchr(w, ':');
	int64_t want_line = 0;
	if (!colon || colon == w || !cli_parse_num(colon + 1, &want_line) || want_line <= 0)
		return syntax(e, 3, "expected FILE:LINE (like pkvm.c:120), got '%s'", word(e, 3));
	if (end_of(e, 4) || !need_machine(e))
		return -1;
	struct cli *c = e->c;
	size_t flen = (size_t)(colon - w);
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	uint64_t link;
	const struct hs_line *ln = NULL;
	if (hs_addr_to_link(c->m, st.pc, &link))
		ln = hs_image_line(hs_machine_image(c->m), link);
	bool eq = false;
	if (ln) {
		size_t gl = strlen(ln->file);
		eq = ln->line == want_line && gl >= flen &&
		     !strncmp(ln->file + gl - flen, w, flen) &&
		     (gl == flen || ln->file[gl - flen - 1] == '/');
	}
	if (eq == (op == OP_EQ))
		return 0;
	if (!ln)
		return cli_error(c,
				 "expected line %s %s, got no line information (pc %#" PRIx64 ")",
				 op_names[op], w, st.pc);
	const char *b = strrchr(ln->file, '/');
	return cli_error(c, "expected line %s %s, got %s:%d (pc %#" PRIx64 ")", op_names[op], w,
			 b ? b + 1 : ln->file, ln->line, st.pc);
}

/* expect expr EXPR: any expression of `print` is true (non-zero). */
static int ex_expr(struct ex *e)
{
	if (e->argc < 3)
		return syntax(e, 2, "expected an expression%s", "");
	struct cli *c = e->c;
	char text[2048];
	cli_raw_args(c, e->argc, e->argv, 2, text, sizeof(text));
	struct cli_value v;
	if (cli_expr_eval_line(c, text, c->arg_cols ? c->arg_cols[2] : 0, &v))
		return -1;
	int t = cli_value_true(&v);
	if (t < 0)
		return cli_error(c, "expected expr %s: not a number or pointer", text);
	if (!t)
		return cli_error(c, "expected %s, but it is false", text);
	if (c->interactive && !c->src_file)
		printf("ok: %s\n", text);
	return 0;
}

int cmd_expect(struct cli *c, int argc, char **argv)
{
	struct ex e = {c, argc, argv, NULL};
	const char *what = argv[1];
	enum op op = OP_EQ;
	int64_t want = 0, got = 0;
	if (!strcmp(what, "result") || !strcmp(what, "x0") || !strcmp(what, "x1")) {
		if (parse_op(&e, 2, &op) || parse_value(&e, 3, &want) || end_of(&e, 4))
			return -1;
		if (!c->have_hvc)
			return cli_error(c, "expected %s %s %s, but no hypercall has completed",
					 what, op_names[op], argv[3]);
		got = !strcmp(what, "x0") ? c->last_x0 : c->last_x1;
		return check(&e, what, got, op, want);
	}
	if (!strcmp(what, "reg")) {
		if (argc < 3)
			return syntax(&e, 2, "expected a register name%s", "");
		if (parse_op(&e, 3, &op) || parse_value(&e, 4, &want) || end_of(&e, 5))
			return -1;
		if (!need_machine(&e) || reg_value(&e, 2, &got))
			return -1;
		char w[64];
		snprintf(w, sizeof(w), "reg %s", argv[2]);
		return check(&e, w, got, op, want);
	}
	if (!strcmp(what, "el")) {
		if (parse_op(&e, 2, &op) || parse_value(&e, 3, &want) || end_of(&e, 4))
			return -1;
		if (!need_machine(&e))
			return -1;
		struct hs_cpu_state st;
		hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
		return check(&e, "el", st.el, op, want);
	}
	if (!strcmp(what, "sysreg")) {
		if (argc < 3)
			return syntax(&e, 2, "expected a register (TCR_EL2 or TCR_EL2.T0SZ)%s", "");
		char name[96];
		snprintf(name, sizeof(name), "%s", argv[2]);
		char *dot = strchr(name, '.');
		if (dot)
			*dot++ = '\0';
		int r = hs_sysreg_by_name(name);
		if (r < 0)
			return syntax(&e, 2, "expected a system register name, got '%s'", name);
		const struct cli_field *f = NULL;
		if (dot && !(f = cli_sysreg_field(r, dot))) {
			c->err_col = c->arg_cols ? c->arg_cols[2] + (int)(dot - name) : 0;
			return cli_error(c, "expected a field of %s, got '%s'", name, dot);
		}
		if (parse_op(&e, 3, &op) || parse_value(&e, 4, &want) || end_of(&e, 5))
			return -1;
		if (!need_machine(&e))
			return -1;
		uint64_t v = 0;
		hs_cpu_sysreg(c->m, hs_current_cpu(c->m), r, &v);
		got = (int64_t)(f ? cli_field_get(f, v) : v);
		return check(&e, argv[2], got, op, want);
	}
	if (!strcmp(what, "translates"))
		return ex_translate(&e, true);
	if (!strcmp(what, "faults"))
		return ex_translate(&e, false);
	if (!strcmp(what, "host-read"))
		return ex_host_read(&e);
	if (!strcmp(what, "owner"))
		return ex_owner(&e);
	if (!strcmp(what, "state"))
		return ex_state(&e);
	if (!strcmp(what, "check"))
		return ex_check(&e);
	if (!strcmp(what, "diff"))
		return ex_diff(&e);
	if (!strcmp(what, "expr"))
		return ex_expr(&e);
	if (!strcmp(what, "vm"))
		return ex_vm(&e);
	if (!strcmp(what, "stop"))
		return ex_stop(&e);
	if (!strcmp(what, "pc"))
		return ex_pc(&e);
	if (!strcmp(what, "line"))
		return ex_line(&e);
	if (!strcmp(what, "blame"))
		return ex_blame(&e);
	if (!strcmp(what, "console")) {
		if (argc < 3 || strcmp(argv[2], "contains"))
			return syntax(&e, 2, "expected 'contains', got '%s'", word(&e, 2));
		if (argc < 4)
			return syntax(&e, 3, "expected a quoted text%s", "");
		if (end_of(&e, 4))
			return -1;
		for (size_t i = 0; i < c->nconsole; i++)
			if (strstr(c->console[i], argv[3]))
				return 0;
		return cli_error(
		    c, "expected console contains \"%s\", got %zu line%s without it%s%s", argv[3],
		    c->nconsole, c->nconsole == 1 ? "" : "s", c->nconsole ? "; last: " : "",
		    c->nconsole ? c->console[c->nconsole - 1] : "");
	}
	if (!strcmp(what, "fault")) {
		/* expect fault contains "TEXT": the report of the last stop at a hyp fault */
		if (argc < 4 || strcmp(argv[2], "contains"))
			return syntax(&e, 2, "expected 'contains \"TEXT\"', got '%s'", word(&e, 2));
		if (end_of(&e, 4) || !need_machine(&e))
			return -1;
		const struct hs_stop *ls = hs_last_stop(c->m);
		char rep[2048] = "";
		if (ls && ls->reason == HS_STOP_HYP_FAULT)
			hs_machine_fault_report(c->m, &ls->fault, rep, sizeof(rep));
		if (strstr(rep, argv[3]))
			return 0;
		return cli_error(c, "expected fault contains \"%s\", got %s%s%s", argv[3],
				 !ls || ls->reason != HS_STOP_HYP_FAULT ? "no hyp fault"
				 : *rep					? "\""
									: "no report",
				 rep, *rep ? "\"" : "");
	}
	return syntax(
	    &e, 1,
	    "expected result, x0, reg, sysreg, translates, faults, host-read, console, el, "
	    "owner, state, check, diff, vm, stop, pc, line, blame, fault or expr, got '%s'",
	    what);
}
