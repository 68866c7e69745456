/* SPDX-License-Identifier: MIT */
/*
 * gdb's checkpoints (issue 19): `checkpoint`, `info checkpoints`,
 * `restart N`, `delete checkpoint N`. The machine keeps its own state
 * (emu/machine/checkpoint.h); the session adds what it recorded from events
 * (console lines, the hypercall list, debugger writes, the last results
 * `expect` looks at), so after `restart N` the session is as it was too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "append_snap.h"
#include "checkpoint.h"
#include "cli.h"
#include "cmd_checkpoint.h"
#include "profile.h"

struct cli_state {
	char **console;
	size_t nconsole, console_dropped;
	/* A checkpoint's hypercall list and debugger writes, shared with the ones before. */
	struct hs_append_snap *trace_snap, *dbgw_snap;
	/* A saved machine's, as read from the file. */
	struct cli_hvc_rec *trace;
	size_t ntrace;
	struct cli_dbg_write *dbgw;
	size_t ndbgw;
	bool have_hvc, have_access, last_refused, have_vm_exit, have_user_stop;
	int64_t last_x0, last_x1;
	uint64_t last_value, last_esr;
	struct hs_vm_exit vm_exit;
	uint64_t vm_exit_op, vm_exit_ipa;
	enum hs_stop_reason user_stop;
	uint64_t user_stop_icount;
};

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static char **dup_lines(char *const *v, size_t n, bool *ok)
{
	char **d = n ? calloc(n, sizeof(*d)) : NULL;
	if (n && !d)
		*ok = false;
	for (size_t i = 0; d && i < n && *ok; i++)
		if (!(d[i] = strdup(v[i])))
			*ok = false;
	return d;
}

static void state_free(void *p)
{
	struct cli_state *s = p;
	free_lines(s->console, s->nconsole);
	hs_append_put(s->trace_snap);
	hs_append_put(s->dbgw_snap);
	free(s->trace);
	free(s->dbgw);
	free(s);
}

static const struct hs_append_ops hvc_rec_ops = {.size = sizeof(struct cli_hvc_rec)};
static const struct hs_append_ops dbg_write_ops = {.size = sizeof(struct cli_dbg_write)};

static void *cli_save(void *ud, struct hs_error *err)
{
	struct cli *c = ud; /* not const: its tracks follow what the checkpoints share */
	struct cli_state *s = calloc(1, sizeof(*s));
	bool ok = s != NULL;
	if (ok) {
		s->console = dup_lines(c->console, c->nconsole, &ok);
		s->nconsole = c->nconsole;
		s->console_dropped = c->console_dropped;
		ok = ok && (s->trace_snap = hs_append_take(&c->trace_snaps, c->trace,
							   c->trace_dropped, c->ntrace));
		ok = ok && (s->dbgw_snap = hs_append_take(&c->dbgw_snaps, c->dbgw, 0, c->ndbgw));
		s->have_hvc = c->have_hvc;
		s->have_access = c->have_access;
		s->last_refused = c->last_refused;
		s->have_vm_exit = c->have_vm_exit;
		s->have_user_stop = c->have_user_stop;
		s->last_x0 = c->last_x0;
		s->last_x1 = c->last_x1;
		s->last_value = c->last_value;
		s->last_esr = c->last_esr;
		s->vm_exit = c->vm_exit;
		s->vm_exit_op = c->vm_exit_op;
		s->vm_exit_ipa = c->vm_exit_ipa;
		s->user_stop = c->user_stop;
		s->user_stop_icount = c->user_stop_icount;
	}
	if (!ok) {
		if (s)
			state_free(s);
		hs_err(err, -12, "out of memory for the session's checkpoint");
		return NULL;
	}
	return s;
}

/* Install the lists (owned from here on) and the last results of s. */
static void apply_state(struct cli *c, const struct cli_state *s, char **console,
			struct cli_hvc_rec *trace, size_t trace_first, size_t ntrace,
			struct cli_dbg_write *dbgw, size_t ndbgw)
{
	free_lines(c->console, c->nconsole);
	free(c->trace);
	free(c->dbgw);
	c->console = console;
	c->nconsole = c->capconsole = s->nconsole;
	c->console_dropped = s->console_dropped;
	c->trace = trace;
	c->ntrace = c->captrace = ntrace;
	c->trace_dropped = trace_first;
	c->dbgw = dbgw;
	c->ndbgw = c->capdbgw = ndbgw;
	c->have_hvc = s->have_hvc;
	c->have_access = s->have_access;
	c->last_refused = s->last_refused;
	c->have_vm_exit = s->have_vm_exit;
	c->have_user_stop = s->have_user_stop;
	c->last_x0 = s->last_x0;
	c->last_x1 = s->last_x1;
	c->last_value = s->last_value;
	c->last_esr = s->last_esr;
	c->vm_exit = s->vm_exit;
	c->vm_exit_op = s->vm_exit_op;
	c->vm_exit_ipa = s->vm_exit_ipa;
	c->user_stop = s->user_stop;
	c->user_stop_icount = s->user_stop_icount;
}

static int cli_restore(void *ud, const void *p, struct hs_error *err)
{
	struct cli *c = ud;
	const struct cli_state *s = p;
	bool ok = true;
	char **console = dup_lines(s->console, s->nconsole, &ok);
	size_t trace_first = 0, ntrace = 0, dbgw_first = 0, ndbgw = 0;
	struct cli_hvc_rec *trace =
	    ok ? hs_append_restore(&c->trace_snaps, s->trace_snap, &trace_first, &ntrace) : NULL;
	struct cli_dbg_write *dbgw =
	    trace ? hs_append_restore(&c->dbgw_snaps, s->dbgw_snap, &dbgw_first, &ndbgw) : NULL;
	if (!ok || !trace || !dbgw) {
		free_lines(console, s->nconsole);
		free(trace);
		free(dbgw);
		cli_session_lists_forget(c);
		return hs_err(err, -12, "out of memory restoring the session");
	}
	apply_state(c, s, console, trace, trace_first, ntrace, dbgw, ndbgw);
	return 0;
}

/*
 * Saved machines: the console lines, the hypercall list and the debugger's
 * writes, and the last results `expect` looks at, so that a session loaded
 * from the file checks what the original one would.
 */
struct hvc_rec_file {
	uint32_t cpu, done;
	uint64_t fn;
	int64_t nr;
	uint64_t args[6];
	int64_t x0, x1;
	uint64_t icount_enter, insns;
};
struct last_file {
	uint32_t have_hvc, have_access, last_refused, have_vm_exit, have_user_stop, user_stop;
	int64_t last_x0, last_x1;
	uint64_t last_value, last_esr, vm_exit_op, vm_exit_ipa, user_stop_icount;
	struct hs_vm_exit vm_exit;
};

static void put_u64(struct hs_bytes *b, uint64_t v)
{
	hs_bytes_put(b, &v, sizeof(v));
}

static int cli_encode(void *ud, struct hs_bytes *b, struct hs_error *err)
{
	(void)err;
	const struct cli *c = ud;
	put_u64(b, c->nconsole);
	put_u64(b, c->console_dropped);
	for (size_t i = 0; i < c->nconsole; i++) {
		size_t n = strlen(c->console[i]);
		put_u64(b, n);
		hs_bytes_put(b, c->console[i], n);
	}
	put_u64(b, c->ntrace);
	for (size_t i = 0; i < c->ntrace; i++) {
		const struct cli_hvc_rec *r = &c->trace[i];
		struct hvc_rec_file f = {.cpu = r->cpu,
					 .done = r->done,
					 .fn = r->fn,
					 .nr = r->nr,
					 .x0 = r->x0,
					 .x1 = r->x1,
					 .icount_enter = r->icount_enter,
					 .insns = r->insns};
		memcpy(f.args, r->args, sizeof(f.args));
		hs_bytes_put(b, &f, sizeof(f));
	}
	put_u64(b, c->ndbgw);
	hs_bytes_put(b, c->dbgw, c->ndbgw * sizeof(*c->dbgw));
	struct last_file l = {.have_hvc = c->have_hvc,
			      .have_access = c->have_access,
			      .last_refused = c->last_refused,
			      .have_vm_exit = c->have_vm_exit,
			      .have_user_stop = c->have_user_stop,
			      .user_stop = c->user_stop,
			      .last_x0 = c->last_x0,
			      .last_x1 = c->last_x1,
			      .last_value = c->last_value,
			      .last_esr = c->last_esr,
			      .vm_exit_op = c->vm_exit_op,
			      .vm_exit_ipa = c->vm_exit_ipa,
			      .user_stop_icount = c->user_stop_icount,
			      .vm_exit = c->vm_exit};
	hs_bytes_put(b, &l, sizeof(l));
	return 0;
}

static uint64_t get_u64(struct hs_bytes_in *in)
{
	uint64_t v;
	hs_bytes_get(in, &v, sizeof(v));
	return v;
}

static int cli_decode(void *ud, const uint8_t *p, size_t len, struct hs_error *err)
{
	struct cli *c = ud;
	struct hs_bytes_in in = {.p = p, .len = len};
	struct cli_state *s = calloc(1, sizeof(*s));
	if (!s)
		return hs_err(err, -12, "out of memory");
	uint64_t n = get_u64(&in);
	s->console_dropped = get_u64(&in);
	if (n > CLI_CONSOLE_KEEP || !(s->console = calloc(n ? n : 1, sizeof(*s->console))))
		in.short_read = true;
	for (uint64_t i = 0; i < n && !in.short_read; i++, s->nconsole++) {
		uint64_t k = get_u64(&in);
		if (k > len - in.off || !(s->console[i] = calloc(1, k + 1)))
			in.short_read = true;
		else
			hs_bytes_get(&in, s->console[i], k);
	}
	n = in.short_read ? 0 : get_u64(&in);
	if (n > (len - in.off) / sizeof(struct hvc_rec_file) ||
	    !(s->trace = calloc(n ? n : 1, sizeof(*s->trace))))
		in.short_read = true;
	for (uint64_t i = 0; i < n && !in.short_read; i++, s->ntrace++) {
		struct hvc_rec_file f;
		hs_bytes_get(&in, &f, sizeof(f));
		s->trace[i] = (struct cli_hvc_rec){.cpu = f.cpu,
						   .fn = f.fn,
						   .nr = (int)f.nr,
						   .name = hs_machine_hypercall_name(c->m, f.fn),
						   .done = f.done,
						   .x0 = f.x0,
						   .x1 = f.x1,
						   .icount_enter = f.icount_enter,
						   .insns = f.insns};
		memcpy(s->trace[i].args, f.args, sizeof(f.args));
	}
	n = in.short_read ? 0 : get_u64(&in);
	if (n > (len - in.off) / sizeof(*s->dbgw) ||
	    !(s->dbgw = calloc(n ? n : 1, sizeof(*s->dbgw))))
		in.short_read = true;
	else
		hs_bytes_get(&in, s->dbgw, n * sizeof(*s->dbgw));
	s->ndbgw = in.short_read ? 0 : n;
	struct last_file l;
	hs_bytes_get(&in, &l, sizeof(l));
	int rc = 0;
	if (in.short_read || in.off != len) {
		rc = hs_err(err, -22, "the session's record is corrupt");
	} else {
		s->have_hvc = l.have_hvc;
		s->have_access = l.have_access;
		s->last_refused = l.last_refused;
		s->have_vm_exit = l.have_vm_exit;
		s->have_user_stop = l.have_user_stop;
		s->user_stop = l.user_stop <= HS_STOP_INTERRUPTED ? l.user_stop : HS_STOP_NONE;
		s->last_x0 = l.last_x0;
		s->last_x1 = l.last_x1;
		s->last_value = l.last_value;
		s->last_esr = l.last_esr;
		s->vm_exit_op = l.vm_exit_op;
		s->vm_exit_ipa = l.vm_exit_ipa;
		s->user_stop_icount = l.user_stop_icount;
		s->vm_exit = l.vm_exit;
		apply_state(c, s, s->console, s->trace, 0, s->ntrace, s->dbgw, s->ndbgw);
		s->console = NULL;
		s->trace = NULL;
		s->dbgw = NULL;
		cli_session_lists_forget(c);
	}
	state_free(s);
	return rc;
}

static const struct hs_ckpt_part cli_part = {
    .name = "session",
    .save = cli_save,
    .restore = cli_restore,
    .free = state_free,
    .encode = cli_encode,
    .decode = cli_decode,
};

int cli_checkpoint_attach(struct cli *c)
{
	struct hs_error err = {0};
	if (hs_machine_is_dump(c->m))
		return 0;
	c->trace_snaps.ops = &hvc_rec_ops;
	c->dbgw_snaps.ops = &dbg_write_ops;
	return hs_checkpoint_add_part(c->m, &cli_part, c, &err);
}

int cli_checkpoint_restore(struct cli *c, unsigned id, struct hs_error *err)
{
	int rc = hs_checkpoint_restore(c->m, id, err);
	if (rc)
		return rc;
	/* PTE provenance is a checkpoint part of its own (pte_blame.c): restored with the rest. */
	cli_bps_follow_walks(&c->bps);
	/* The TLB checker's model of what each TLB holds starts over from here. */
	if (c->tlb) {
		cli_tlb_detach(c);
		cli_tlb_attach(c);
	}
	return 0;
}

/* ---- commands -------------------------------------------------------------- */

int cmd_checkpoint(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	unsigned id;
	struct hs_error err = {0};
	if (hs_checkpoint_take(c->m, false, &id, &err))
		return cli_error(c, "checkpoint: %s", err.msg);
	struct hs_checkpoint_info info;
	hs_checkpoint_get(c->m, id, &info);
	char sym[256];
	cli_symbolize(c, info.pc, sym, sizeof(sym));
	printf("checkpoint %u: cpu%u pc %#" PRIx64 "%s%s%s, %" PRIu64 " instructions, %" PRIu64
	       " pages copied\n",
	       id, info.cpu, info.pc, *sym ? " <" : "", sym, *sym ? ">" : "", info.icount,
	       info.pages);
	return 0;
}

int cli_info_checkpoints(struct cli *c, struct hs_strbuf *sb)
{
	size_t n = hs_checkpoint_list(c->m, false, NULL, 0);
	struct hs_checkpoint_info *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return cli_error(c, "info checkpoints: out of memory");
	hs_checkpoint_list(c->m, false, v, n);
	if (c->json) {
		hs_sb_puts(sb, "[");
		for (size_t i = 0; i < n; i++)
			hs_sb_printf(sb,
				     "%s{\"id\":%u,\"cpu\":%u,\"pc\":\"%#" PRIx64
				     "\",\"icount\":%" PRIu64 ",\"pages\":%" PRIu64
				     ",\"parent\":%u,\"current\":%s}",
				     i ? "," : "", v[i].id, v[i].cpu, v[i].pc, v[i].icount,
				     v[i].pages, v[i].parent, v[i].current_base ? "true" : "false");
		hs_sb_puts(sb, "]\n");
	} else if (!n) {
		hs_sb_puts(sb, "No checkpoints.\n");
	}
	for (size_t i = 0; i < n && !c->json; i++) {
		char sym[256];
		cli_symbolize(c, v[i].pc, sym, sizeof(sym));
		hs_sb_printf(
		    sb, "%c %u  cpu%u pc %#" PRIx64 "%s%s%s  icount %" PRIu64 "  %" PRIu64 " pages",
		    v[i].current_base ? '*' : ' ', v[i].id, v[i].cpu, v[i].pc, *sym ? " <" : "",
		    sym, *sym ? ">" : "", v[i].icount, v[i].pages);
		if (v[i].parent)
			hs_sb_printf(sb, "  after %u", v[i].parent);
		hs_sb_puts(sb, "\n");
	}
	struct hs_checkpoint_stats st;
	hs_checkpoint_stats(c->m, &st);
	if (n && !c->json)
		hs_sb_printf(sb, "(%" PRIu64 " pages, %.1f MiB kept in all)\n", st.pages,
			     (double)st.bytes / (1 << 20));
	free(v);
	return 0;
}

static bool parse_id(const char *s, unsigned *id)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (!*s || *end || v == 0 || v > 0x7fffffff)
		return false;
	*id = (unsigned)v;
	return true;
}

int cli_restart_checkpoint(struct cli *c, const char *arg)
{
	unsigned id;
	if (!parse_id(arg, &id))
		return cli_error(c, "restart: '%s' is not a checkpoint number (info checkpoints)",
				 arg);
	if (!c->m)
		return cli_error(c, "restart: no machine: %s", c->machine_err);
	struct hs_error err = {0};
	if (cli_checkpoint_restore(c, id, &err))
		return cli_error(c, "restart: %s", err.msg);
	struct hs_checkpoint_info info;
	hs_checkpoint_get(c->m, id, &info);
	char sym[256];
	cli_symbolize(c, info.pc, sym, sizeof(sym));
	printf("back at checkpoint %u: cpu%u pc %#" PRIx64 "%s%s%s, %" PRIu64 " instructions\n", id,
	       info.cpu, info.pc, *sym ? " <" : "", sym, *sym ? ">" : "", info.icount);
	return 0;
}

int cli_delete_checkpoints(struct cli *c, int argc, char **argv)
{
	if (argc < 3)
		return cli_error(c, "delete checkpoint: give its number (info checkpoints)");
	for (int i = 2; i < argc; i++) {
		unsigned id;
		struct hs_error err = {0};
		if (!parse_id(argv[i], &id))
			return cli_error(c, "delete checkpoint: '%s' is not a checkpoint number",
					 argv[i]);
		if (hs_checkpoint_delete(c->m, id, &err))
			return cli_error(c, "delete checkpoint: %s", err.msg);
	}
	return 0;
}
