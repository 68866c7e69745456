/* SPDX-License-Identifier: MIT */
/* Breakpoint conditions, ignore counts, commands and `save breakpoints` (see bp_control.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_machine_file.h"
#include "cmd_print.h"
#include "user_cmds.h"

static struct cli_bpx *find(struct cli *c, int id)
{
	for (size_t i = 0; i < c->nbpx; i++)
		if (c->bpx[i].id == id)
			return &c->bpx[i];
	return NULL;
}

static struct cli_bpx *get(struct cli *c, int id)
{
	struct cli_bpx *x = find(c, id);
	if (x)
		return x;
	if (c->nbpx == c->capbpx) {
		size_t cap = c->capbpx ? 2 * c->capbpx : 16;
		struct cli_bpx *v = realloc(c->bpx, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->bpx = v;
		c->capbpx = cap;
	}
	x = &c->bpx[c->nbpx++];
	*x = (struct cli_bpx){.id = id};
	return x;
}

static void free_cmds(struct cli_bpx *x)
{
	for (size_t i = 0; i < x->ncmds; i++)
		free(x->cmds[i]);
	free(x->cmds);
	x->cmds = NULL;
	x->ncmds = 0;
}

void cli_bpx_clear(struct cli *c)
{
	for (size_t i = 0; i < c->nbpx; i++) {
		free(c->bpx[i].line);
		free(c->bpx[i].cond);
		free_cmds(&c->bpx[i]);
	}
	free(c->bpx);
	c->bpx = NULL;
	c->nbpx = c->capbpx = 0;
	c->bpx_pending = 0;
}

static bool exists(struct cli *c, int id)
{
	return id > 0 && cli_bp_find(&c->bps, id) != NULL;
}

bool cli_bpx_condition_holds(struct cli *c, int id)
{
	struct cli_bpx *x = find(c, id);
	if (!x || !x->cond)
		return true;
	struct cli_value v;
	if (cli_expr_eval_line(c, x->cond, 0, &v)) {
		cli_error(c, "error in testing the condition of breakpoint %d (%s): stopped", id,
			  x->cond);
		return true;
	}
	int t = cli_value_true(&v);
	if (t < 0) {
		cli_error(c, "the condition of breakpoint %d (%s) is not a number: stopped", id,
			  x->cond);
		return true;
	}
	return t != 0;
}

bool cli_bpx_take_hit(struct cli *c, int id)
{
	struct cli_bpx *x = find(c, id);
	if (!x)
		return true;
	if (x->ignore) {
		x->ignore--;
		return false;
	}
	if (x->ncmds)
		c->bpx_pending = id;
	return true;
}

bool cli_bpx_should_stop(struct cli *c, int id)
{
	return cli_bpx_condition_holds(c, id) && cli_bpx_take_hit(c, id);
}

void cli_bpx_run_commands(struct cli *c)
{
	int id = c->bpx_pending;
	c->bpx_pending = 0;
	struct cli_bpx *x = id ? find(c, id) : NULL;
	if (!x || !x->ncmds || c->bpx_depth >= 8)
		return;
	/* A copy: the commands may delete or redefine the breakpoint. */
	size_t n = x->ncmds;
	char **lines = calloc(n, sizeof(*lines));
	if (!lines)
		return;
	for (size_t i = 0; i < n; i++)
		lines[i] = strdup(x->cmds[i]);
	c->bpx_depth++;
	for (size_t i = 0; i < n && !c->quit; i++) {
		if (!lines[i])
			continue;
		if (!strcmp(lines[i], "silent"))
			continue; /* gdb's: accepted, the stop is printed anyway */
		cli_exec_line(c, lines[i]);
		/* A command that ran the machine ends the list (gdb does the same). */
		if (c->bpx_ran)
			break;
	}
	c->bpx_depth--;
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

void cli_bpx_info(struct cli *c, int id, struct hs_strbuf *sb)
{
	struct cli_bpx *x = find(c, id);
	if (!x)
		return;
	if (x->cond)
		hs_sb_printf(sb, "\tstop only if %s\n", x->cond);
	if (x->ignore)
		hs_sb_printf(sb, "\tWill ignore next %u crossings of breakpoint.\n", x->ignore);
	for (size_t i = 0; i < x->ncmds; i++)
		hs_sb_printf(sb, "        %s\n", x->cmds[i]);
}

void cli_bpx_created(struct cli *c, int id, const char *line, const char *cond)
{
	struct cli_bpx *x = get(c, id);
	if (!x)
		return;
	free(x->line);
	x->line = strdup(line);
	free(x->cond);
	x->cond = cond && *cond ? strdup(cond) : NULL;
}

void cli_bpx_set_commands(struct cli *c, int id, char **lines, size_t n)
{
	struct cli_bpx *x = get(c, id);
	if (!x) {
		for (size_t i = 0; i < n; i++)
			free(lines[i]);
		free(lines);
		return;
	}
	free_cmds(x);
	x->cmds = lines;
	x->ncmds = n;
}

int cli_bpx_if_word(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "if"))
			return i;
	return 0;
}

static int parse_id(struct cli *c, const char *cmd, const char *w, int *id)
{
	int64_t v;
	if (!cli_parse_num(w, &v)) {
		uint64_t u;
		if (w[0] != '$' || cli_eval(c, w, NULL, &u))
			return cli_error(c, "%s: '%s' is not a breakpoint number", cmd, w);
		v = (int64_t)u;
	}
	if (!exists(c, (int)v))
		return cli_error(c, "%s: no breakpoint number %s", cmd, w);
	*id = (int)v;
	return 0;
}

int cmd_condition(struct cli *c, int argc, char **argv)
{
	int id;
	if (parse_id(c, "condition", argv[1], &id))
		return -1;
	struct cli_bpx *x = get(c, id);
	if (!x)
		return cli_error(c, "out of memory");
	free(x->cond);
	x->cond = NULL;
	if (argc == 2) {
		printf("Breakpoint %d now unconditional.\n", id);
		return 0;
	}
	char text[2048];
	cli_raw_args(c, argc, argv, 2, text, sizeof(text));
	/* Check that it parses (not its value: registers change). */
	struct cli_expr_ops ops;
	cli_expr_ops_of(c, &ops);
	struct cli_value v;
	char err[512];
	if (cli_expr_eval_type(&ops, text, &v, err, sizeof(err)))
		return cli_error(c, "condition %d: %s", id, err);
	x->cond = strdup(text);
	return 0;
}

int cmd_ignore(struct cli *c, int argc, char **argv)
{
	(void)argc;
	int id;
	int64_t n;
	if (parse_id(c, "ignore", argv[1], &id))
		return -1;
	if (!cli_parse_num(argv[2], &n) || n < 0 || n > UINT32_MAX)
		return cli_error(c, "ignore: '%s' is not a count", argv[2]);
	struct cli_bpx *x = get(c, id);
	if (!x)
		return cli_error(c, "out of memory");
	x->ignore = (unsigned)n;
	if (!n)
		printf("Will stop next time breakpoint %d is reached.\n", id);
	else if (n == 1)
		printf("Will ignore next crossing of breakpoint %d.\n", id);
	else
		printf("Will ignore next %u crossings of breakpoint %d.\n", x->ignore, id);
	return 0;
}

int cmd_commands(struct cli *c, int argc, char **argv)
{
	int id = cli_bps_newest(&c->bps);
	if (argc > 1 && parse_id(c, "commands", argv[1], &id))
		return -1;
	if (!id)
		return cli_error(c, "commands: no breakpoints yet");
	if (c->interactive && !c->src_file)
		printf("Type commands for breakpoint(s) %d, one per line.\n"
		       "End with a line saying just \"end\".\n",
		       id);
	return cli_collect_start(c, CLI_COLLECT_COMMANDS, id, NULL, cli_bpx_set_commands);
}

int cmd_save(struct cli *c, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[1], "machine"))
		return cli_save_machine(c, argv[2]);
	if (strcmp(argv[1], "breakpoints"))
		return cli_error(c, "save: give breakpoints FILE or machine FILE ('%s')", argv[1]);
	FILE *f = fopen(argv[2], "w");
	if (!f)
		return cli_error(c, "save breakpoints: cannot write %s: %s", argv[2],
				 strerror(errno));
	unsigned n = 0;
	for (size_t i = 0; i < c->bps.n; i++) {
		const struct cli_bp *bp = &c->bps.v[i];
		struct cli_bpx *x = find(c, bp->id);
		if (bp->id <= 0 || !x || !x->line)
			continue;
		fprintf(f, "%s%s%s\n", x->line, x->cond ? " if " : "", x->cond ? x->cond : "");
		if (x->ignore)
			fprintf(f, "ignore $bpnum %u\n", x->ignore);
		if (x->ncmds) {
			fprintf(f, "commands\n");
			for (size_t k = 0; k < x->ncmds; k++)
				fprintf(f, "  %s\n", x->cmds[k]);
			fprintf(f, "end\n");
		}
		if (!bp->enabled)
			fprintf(f, "disable $bpnum\n");
		n++;
	}
	if (fclose(f))
		return cli_error(c, "save breakpoints: writing %s failed", argv[2]);
	printf("Saved to file '%s' (%u breakpoint%s).\n", argv[2], n, n == 1 ? "" : "s");
	return 0;
}
