/* SPDX-License-Identifier: MIT */
/*
 * PTE provenance in the CLI: `pt blame`, `expect blame` and the last writers
 * under `owner`, from the session's hs_blame (pte_blame.h), which records
 * from the machine's creation on.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "profile.h"
#include "pt_translate.h"
#include "pte_blame.h"

void cli_blame_attach(struct cli *c)
{
	/* A machine opened from files has no CPUs to watch. */
	if (!c->m || c->blame || hs_machine_is_dump(c->m))
		return;
	struct hs_error err = {0};
	if (hs_blame_new(c->m, &c->blame, &err)) {
		c->blame = NULL;
		fprintf(stderr, "hypscope: warning: no PTE provenance: %s\n", err.msg);
	}
}

void cli_blame_detach(struct cli *c)
{
	hs_blame_free(c->blame);
	c->blame = NULL;
}

int cli_pt_regime(struct cli *c, const char *verb, const char *table, const char *guest_s,
		  struct hs_pt_regime *r)
{
	char err[256];
	if (!strcmp(table, "guest")) {
		/* guest HANDLE; the handle may be left out when there is one VM. */
		uint64_t h, hs[HS_MAX_VMS];
		size_t n = hs_vm_list(c->m, hs, HS_MAX_VMS);
		if (guest_s) {
			enum cli_space sp = SP_PA;
			if (cli_eval(c, guest_s, &sp, &h))
				return -1;
		} else if (n == 1) {
			h = hs[0];
		} else {
			return cli_error(c, "pt %s: guest needs a VM handle (%zu VMs; `vm list`)",
					 verb, n);
		}
		if (cli_vm_regime(c, h, r, err, sizeof(err)))
			return cli_error(c, "pt %s: %s", verb, err);
	} else if (cli_regime(c, table, r, err, sizeof(err))) {
		return cli_error(c, "pt %s: %s", verb, err);
	}
	return 0;
}

static bool is_table(const char *s)
{
	return !strcmp(s, "hyp") || !strcmp(s, "host") || !strcmp(s, "guest");
}

/*
 * TABLE [HANDLE] ADDR at argv[i]: walk ADDR. The handle is there when the
 * table is guest and `handle_given` says so. *next: the word after ADDR.
 */
static int walk_of(struct cli *c, const char *verb, int argc, char **argv, int i, bool handle_given,
		   struct hs_pt_trace *t, struct hs_pt_regime *r, int *next)
{
	if (i >= argc || !is_table(argv[i]))
		return cli_error(c, "%s: give hyp, host or guest [HANDLE], then an address", verb);
	const char *table = argv[i++], *guest = NULL;
	if (!strcmp(table, "guest") && handle_given)
		guest = argv[i++];
	if (i >= argc)
		return cli_error(c, "%s: missing address after '%s'", verb, argv[i - 1]);
	const char *addr_s = argv[i++];
	if (cli_pt_regime(c, "blame", table, guest, r))
		return -1;
	uint64_t addr;
	bool hyp = !strcmp(table, "hyp");
	enum cli_space sp = hyp ? SP_VA : SP_PA;
	if (cli_eval(c, addr_s, &sp, &addr))
		return -1;
	/* hyp pa:ADDR: the page's entry in the hypervisor's linear map */
	if (hyp && sp == SP_PA)
		addr = hs_layout_hyp_va(hs_machine_layout(c->m), addr);
	struct hs_phys ph = cli_phys(c);
	if (hs_pt_translate(&ph, r, addr, t) < 0)
		return cli_error(c, "%s: cannot walk %#" PRIx64, verb, addr);
	*next = i;
	return 0;
}

static bool have_blame(struct cli *c, const char *verb)
{
	if (c->blame)
		return true;
	cli_error(c, "%s: no PTE provenance on this machine%s", verb,
		  hs_machine_is_dump(c->m) ? " (opened from files: no CPU stores were seen)" : "");
	return false;
}

static void since_text(struct cli *c, uint64_t desc_pa, struct hs_strbuf *sb)
{
	struct hs_blame_epoch ep;
	if (!hs_blame_epoch(c->blame, desc_pa, &ep)) {
		hs_sb_puts(sb, "    no store recorded: not a table page the index follows\n");
		return;
	}
	hs_sb_printf(sb,
		     "    no store recorded since its page became a table page (icount %" PRIu64
		     ", cpu%u, %s%s)\n",
		     ep.icount, ep.cpu, ep.hvc_name ? "during " : "outside any hypercall",
		     ep.hvc_name ? ep.hvc_name : "");
}

static void level_text(struct cli *c, const struct hs_pt_trace_step *st, struct hs_strbuf *sb)
{
	hs_sb_printf(
	    sb, "L%d entry %#" PRIx64 " (table %#" PRIx64 "[%" PRIu64 "]) = %#" PRIx64 "  %s\n",
	    st->level, st->desc_pa, st->table_addr, st->index, st->desc, st->meaning);
	struct hs_blame_rec rec[HS_BLAME_DEPTH];
	uint64_t total;
	size_t n = hs_blame_history(c->blame, st->desc_pa, rec, HS_BLAME_DEPTH, &total);
	for (size_t i = 0; i < n; i++) {
		hs_sb_puts(sb, "    ");
		hs_blame_rec_text(sb, c->m, &rec[i]);
		hs_sb_putc(sb, '\n');
	}
	if (total > n)
		hs_sb_printf(sb, "    ... %" PRIu64 " earlier store%s not kept\n", total - n,
			     total - n == 1 ? "" : "s");
	if (!n)
		since_text(c, st->desc_pa, sb);
}

static void level_json(struct cli *c, const struct hs_pt_trace_step *st, struct hs_strbuf *sb)
{
	struct hs_blame_rec rec[HS_BLAME_DEPTH];
	uint64_t total;
	size_t n = hs_blame_history(c->blame, st->desc_pa, rec, HS_BLAME_DEPTH, &total);
	hs_sb_printf(sb,
		     "{\"level\":%d,\"entry\":%" PRIu64 ",\"value\":%" PRIu64 ",\"stores\":%" PRIu64
		     ",\"history\":[",
		     st->level, st->desc_pa, st->desc, total);
	for (size_t i = 0; i < n; i++) {
		if (i)
			hs_sb_putc(sb, ',');
		hs_blame_rec_json(sb, c->m, &rec[i]);
	}
	hs_sb_puts(sb, "],\"since\":");
	struct hs_blame_epoch ep;
	if (hs_blame_epoch(c->blame, st->desc_pa, &ep)) {
		hs_sb_printf(sb, "{\"icount\":%" PRIu64 ",\"cpu\":%u,\"hypercall\":", ep.icount,
			     ep.cpu);
		if (ep.hvc_name)
			hs_sb_json_str(sb, ep.hvc_name);
		else
			hs_sb_puts(sb, "null");
		hs_sb_putc(sb, '}');
	} else {
		hs_sb_puts(sb, "null");
	}
	hs_sb_putc(sb, '}');
}

int cmd_pt_blame(struct cli *c, int argc, char **argv)
{
	const char *usage = "pt blame hyp|host|guest [HANDLE] ADDR";
	if (!have_blame(c, "pt blame"))
		return -1;
	/* guest HANDLE ADDR, or guest ADDR with one VM */
	bool handle = argc >= 5 && !strcmp(argv[2], "guest");
	struct hs_pt_trace t;
	struct hs_pt_regime r;
	int next;
	if (walk_of(c, "pt blame", argc, argv, 2, handle, &t, &r, &next))
		return -1;
	if (next < argc)
		return cli_error(c, "pt blame: unexpected argument '%s'; usage: %s", argv[next],
				 usage);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	if (c->json) {
		hs_sb_printf(&sb, "{\"address\":%" PRIu64 ",\"levels\":[", t.in_addr);
		for (unsigned i = 0; i < t.nr_steps; i++) {
			if (i)
				hs_sb_putc(&sb, ',');
			level_json(c, &t.steps[i], &sb);
		}
		hs_sb_puts(&sb, "]}\n");
	} else {
		hs_sb_printf(&sb, "%#" PRIx64 ": %u level%s walked, most recent store first\n",
			     t.in_addr, t.nr_steps, t.nr_steps == 1 ? "" : "s");
		for (unsigned i = 0; i < t.nr_steps; i++)
			level_text(c, &t.steps[i], &sb);
	}
	cli_print_sb(c, &sb);
	hs_sb_free(&sb);
	return 0;
}

/* ---- expect blame ----------------------------------------------------------------- */

int cli_blame_lookup(struct cli *c, int argc, char **argv, int i, bool handle_given,
		     struct cli_blame_hit *out, int *next)
{
	if (!have_blame(c, "expect blame"))
		return -1;
	struct hs_pt_trace t;
	struct hs_pt_regime r;
	if (walk_of(c, "expect blame", argc, argv, i, handle_given, &t, &r, next))
		return -1;
	if (!t.nr_steps)
		return cli_error(c, "expect blame: the walk of %#" PRIx64 " read no entry",
				 t.in_addr);
	/* The deepest entry read: the one that decides the translation (or the fault). */
	const struct hs_pt_trace_step *st = &t.steps[t.nr_steps - 1];
	memset(out, 0, sizeof(*out));
	out->level = st->level;
	out->desc_pa = st->desc_pa;
	out->have = hs_blame_history(c->blame, st->desc_pa, &out->rec, 1, &out->stores) > 0;
	return 0;
}

/* ---- owner ------------------------------------------------------------------------ */

static void owner_line(struct cli *c, const char *name, const char *table, uint64_t addr,
		       struct hs_strbuf *sb)
{
	struct hs_pt_regime r;
	char err[256];
	struct hs_pt_trace t;
	struct hs_phys ph = cli_phys(c);
	if (cli_regime(c, table, &r, err, sizeof(err)) || hs_pt_translate(&ph, &r, addr, &t) < 0 ||
	    !t.nr_steps)
		return;
	const struct hs_pt_trace_step *st = &t.steps[t.nr_steps - 1];
	struct hs_blame_rec rec;
	hs_sb_printf(sb, "  %-9s L%d entry %#" PRIx64 ": ", name, st->level, st->desc_pa);
	if (hs_blame_last(c->blame, st->desc_pa, &rec))
		hs_blame_rec_text(sb, c->m, &rec);
	else
		hs_sb_puts(sb, "no store recorded");
	hs_sb_putc(sb, '\n');
}

void cli_blame_owner(struct cli *c, uint64_t pa, struct hs_strbuf *sb)
{
	if (!c->blame || !hs_machine_booted(c->m))
		return;
	hs_sb_puts(sb, "  last written (pt blame for the whole walk):\n");
	owner_line(c, "host s2", "host", pa, sb);
	owner_line(c, "hyp s1", "hyp", hs_layout_hyp_va(hs_machine_layout(c->m), pa), sb);
}
