/* SPDX-License-Identifier: MIT */
#include "complete.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

/* ---- candidate lists ------------------------------------------------------ */

static bool grow(void *vp, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? 2 * *cap : 256;
	void **v = vp;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

void cli_cands_add(struct cli_cands *cs, const char *s)
{
	if (grow(&cs->v, &cs->cap, cs->n, sizeof(*cs->v)))
		cs->v[cs->n++] = s;
}

void cli_cands_add_copy(struct cli_cands *cs, const char *s)
{
	if (!grow(&cs->owned, &cs->capowned, cs->nowned, sizeof(*cs->owned)))
		return;
	char *d = strdup(s);
	if (!d)
		return;
	cs->owned[cs->nowned++] = d;
	cli_cands_add(cs, d);
}

void cli_cands_reset(struct cli_cands *cs)
{
	cs->n = 0;
	for (size_t i = 0; i < cs->nowned; i++)
		free(cs->owned[i]);
	cs->nowned = 0;
}

void cli_cands_free(struct cli_cands *cs)
{
	cli_cands_reset(cs);
	free(cs->v);
	free(cs->owned);
	*cs = (struct cli_cands){0};
}

/* ---- debugger command lines ----------------------------------------------- */

static void add_symbols(struct cli *c, struct cli_cands *cs)
{
	if (!c || !c->m)
		return;
	const struct hs_image *img = hs_machine_image(c->m);
	for (size_t i = 0; i < img->nsyms; i++)
		if (img->syms[i].name && *img->syms[i].name)
			cli_cands_add(cs, img->syms[i].name);
}

static void add_hypercalls(struct cli_cands *cs)
{
	for (unsigned n = 0; n < HS_HC_COUNT; n++) {
		const char *name = hs_hypercall_name(HS_HC_FN(n));
		if (name)
			cli_cands_add(cs, name);
	}
}

static void add_sysregs(struct cli_cands *cs, bool fields)
{
	for (int r = 0; r < HS_SR_COUNT; r++) {
		const char *name = hs_sysreg_desc(r)->name;
		cli_cands_add(cs, name);
		size_t nf;
		const struct cli_field *f = cli_sysreg_fields(r, &nf);
		for (size_t i = 0; fields && i < nf; i++) {
			char buf[96];
			snprintf(buf, sizeof(buf), "%s.%s", name, f[i].name);
			cli_cands_add_copy(cs, buf);
		}
	}
}

static void add_words(struct cli_cands *cs, const char *const *w)
{
	for (; w && *w; w++)
		cli_cands_add(cs, *w);
}

static void add_commands(struct cli_cands *cs)
{
	for (size_t i = 0; i < cli_ncmds; i++)
		cli_cands_add(cs, cli_cmds[i].name);
}

static void complete_break(struct cli *c, const char *const *words, int n, struct cli_cands *cs)
{
	const char *prev = words[n - 1];
	if (n == 2 && !strcmp(prev, "hvc")) {
		add_hypercalls(cs);
	} else if (n == 2 && !strcmp(prev, "exception")) {
		static const char *const ecs[] = {"DABT_LOW", "IABT_LOW", "HVC64",    "SMC64",
						  "SYS64",    "DABT_CUR", "IABT_CUR", NULL};
		add_words(cs, ecs);
	} else if (n == 1) {
		cli_cands_add(cs, "hvc");
		cli_cands_add(cs, "exception");
		add_symbols(c, cs);
	}
}

static void complete_vm(struct cli *c, const char *const *words, int n, struct cli_cands *cs)
{
	static const char *const runs[] = {"read", "write", "exec", "resume", NULL};
	static const char *const prots[] = {"r", "rw", "rx", "rwx", NULL};
	const char *prev = words[n - 1];
	if (n == 1) {
		static const char *const subs[] = {
		    "create", "list",		"show",	   "load",    "put",	"share", "unshare",
		    "donate", "wrprotect",	"young",   "mkyoung", "relax",	"run",	 "teardown",
		    "check",  "start-teardown", "reclaim", "vcpu",    "reinit", NULL};
		add_words(cs, subs);
	} else if (!strcmp(prev, "--prot")) {
		add_words(cs, prots);
	} else if (!strcmp(words[1], "run") && n == 2) {
		add_words(cs, runs);
	} else if (n == 2 && c && c->m && strcmp(words[1], "mkyoung") &&
		   strcmp(words[1], "relax") && strcmp(words[1], "create") &&
		   strcmp(words[1], "list") && strcmp(words[1], "put")) {
		/* HANDLE: the host's VMs */
		uint64_t hs[HS_MAX_VMS];
		size_t nv = hs_vm_list(c->m, hs, HS_MAX_VMS);
		for (size_t i = 0; i < nv; i++) {
			char b[24];
			snprintf(b, sizeof(b), "%#" PRIx64, hs[i]);
			cli_cands_add_copy(cs, b);
		}
	} else if (!strcmp(words[1], "create")) {
		cli_cands_add(cs, "--protected");
	} else if (!strcmp(words[1], "young")) {
		cli_cands_add(cs, "--clear");
	} else if (!strcmp(words[1], "run")) {
		cli_cands_add(cs, "--fault-in");
	} else if (!strcmp(words[1], "share") || !strcmp(words[1], "relax")) {
		cli_cands_add(cs, "--prot");
		if (!strcmp(words[1], "share"))
			add_symbols(c, cs);
	} else if (!strcmp(words[1], "donate")) {
		add_symbols(c, cs);
	}
}

static void complete_words(struct cli *c, const struct cli_cmd *cmd, const char *const *words,
			   int n, struct cli_cands *cs)
{
	const char *prev = words[n - 1];
	if (!strcmp(prev, "--table")) {
		cli_cands_add(cs, "hyp");
		cli_cands_add(cs, "host");
		cli_cands_add(cs, "guest");
	} else if (!strcmp(cmd->name, "expect") && !strcmp(prev, "sysreg")) {
		add_sysregs(cs, true);
	} else if (!strcmp(prev, "--view")) {
		cli_cands_add(cs, "tree");
		cli_cands_add(cs, "map");
		cli_cands_add(cs, "timeline");
	} else if (!strcmp(cmd->name, "set")) {
		if (n == 1)
			cli_cands_add(cs, "diff-on-stop"), cli_cands_add(cs, "check-after-hvc");
		else if (n == 2)
			cli_cands_add(cs, "on"), cli_cands_add(cs, "off");
	} else if (!strcmp(cmd->name, "vm")) {
		complete_vm(c, words, n, cs);
	} else if (!strcmp(cmd->name, "viz")) {
		add_words(cs, cmd->words);
	} else if (!strcmp(cmd->name, "info") || !strcmp(cmd->name, "boot") ||
		   !strcmp(cmd->name, "diff") || !strcmp(cmd->name, "trace")) {
		if (n == 1 || !strcmp(prev, "--until"))
			add_words(cs, cmd->words);
	} else {
		add_words(cs, cmd->words);
		add_symbols(c, cs);
	}
}

void cli_complete_line(struct cli *c, const char *const *words, int n, struct cli_cands *cs)
{
	if (n == 0) {
		add_commands(cs);
		return;
	}
	const struct cli_cmd *cmd = cli_find_cmd(c, words[0], true);
	if (!cmd)
		return;
	if (!strcmp(cmd->name, "break") || !strcmp(cmd->name, "tbreak")) {
		complete_break(c, words, n, cs);
		return;
	}
	switch (cmd->complete) {
	case CC_COMMAND:
		add_commands(cs);
		break;
	case CC_SYMBOL:
		add_symbols(c, cs);
		break;
	case CC_HVC:
		if (n == 1)
			add_hypercalls(cs);
		else
			add_symbols(c, cs);
		break;
	case CC_SYSREG:
		if (n == 1)
			add_sysregs(cs, false);
		break;
	case CC_WORDS:
		complete_words(c, cmd, words, n, cs);
		break;
	case CC_NONE:
		break;
	}
	if (cmd->flags & CMD_JSON)
		cli_cands_add(cs, "--json");
}

/* ---- the shell's command line --------------------------------------------- */

static void print_matching(FILE *o, const struct cli_cands *cs, const char *prefix, const char *cur)
{
	size_t len = strlen(cur);
	for (size_t i = 0; i < cs->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(cs->v[i], cs->v[j]);
		if (!dup && !strncmp(cs->v[i], cur, len))
			fprintf(o, "%s%s\n", prefix, cs->v[i]);
	}
}

static void add_option_names(struct cli_cands *cs)
{
	for (size_t i = 0; i < cli_noptions; i++) {
		char names[128];
		snprintf(names, sizeof(names), "%s", cli_options[i].names);
		for (char *save = NULL, *t = strtok_r(names, ", ", &save); t;
		     t = strtok_r(NULL, ", ", &save))
			if (strcmp(t, "--complete") && strcmp(t, "--man"))
				cli_cands_add_copy(cs, t);
	}
}

/*
 * The value of -ex is a whole command line in one shell word: complete its
 * last word and print each candidate with the words before it.
 */
static void complete_command_value(struct cli *c, const char *value, FILE *o)
{
	char *copy = strdup(value);
	if (!copy)
		return;
	const char *words[CLI_MAX_ARGS];
	int n = 0;
	char *last = strrchr(copy, ' ');
	const char *cur = last ? last + 1 : copy;
	size_t head_len = (size_t)(cur - copy);
	if (last) {
		*last = '\0';
		for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t && n < CLI_MAX_ARGS;
		     t = strtok_r(NULL, " \t", &save))
			words[n++] = t;
		char *fmt = n ? strchr(copy, '/') : NULL; /* x/4gx is the command x */
		if (fmt && fmt < copy + strlen(words[0]))
			*fmt = '\0';
	}
	char head[1024];
	snprintf(head, sizeof(head), "%.*s", (int)head_len, value);
	struct cli_cands cs = {0};
	cli_complete_line(c, words, n, &cs);
	print_matching(o, &cs, head, cur);
	cli_cands_free(&cs);
	free(copy);
}

void cli_complete_argv(struct cli *c, int n, char **words, FILE *o)
{
	const char *cur = n > 0 ? words[n - 1] : "";
	const struct cli_option *prev = n > 1 ? cli_option_find(words[n - 2]) : NULL;
	if (prev && prev->arg) {
		if (prev->value == OPTV_FILE)
			fprintf(o, ":file\n");
		else if (prev->value == OPTV_COMMAND)
			complete_command_value(c, cur, o);
		return;
	}
	/* The mode: the first word that is neither an option nor an option's value. */
	int mode_at = -1;
	for (int i = 0; i + 1 < n; i++) {
		const struct cli_option *opt = cli_option_find(words[i]);
		if (opt) {
			i += opt->arg ? 1 : 0;
			continue;
		}
		mode_at = i;
		break;
	}
	struct cli_cands cs = {0};
	if (mode_at >= 0 && !strcmp(words[mode_at], "render")) {
		/* Render's own arguments are the `render` command's. */
		const char *prevw = words[n - 2];
		bool value_of = mode_at < n - 2 && prevw[0] == '-';
		if (!strcmp(prevw, "-o") || !strcmp(prevw, "--output")) {
			fprintf(o, ":file\n");
		} else if (cur[0] == '-' || !strcmp(prevw, "--view") || !strcmp(prevw, "--table") ||
			   !strcmp(prevw, "--addr")) {
			const char *line[CLI_MAX_ARGS] = {"render"};
			int k = 1;
			for (int i = mode_at + 1; i < n - 1 && k < CLI_MAX_ARGS; i++)
				line[k++] = words[i];
			cli_complete_line(c, line, k, &cs);
			print_matching(o, &cs, "", cur);
		} else if (!value_of) {
			fprintf(o, ":file .hss\n");
		}
	} else if (mode_at >= 0 && !strcmp(words[mode_at], "run")) {
		if (cur[0] == '-') {
			cli_cands_add(&cs, "--junit");
			print_matching(o, &cs, "", cur);
		} else {
			fprintf(o, ":file .hss\n");
		}
	} else if (mode_at < 0) {
		add_option_names(&cs);
		for (size_t i = 0; i < cli_nmodes; i++)
			if (cli_modes[i].word)
				cli_cands_add(&cs, cli_modes[i].word);
		print_matching(o, &cs, "", cur);
	}
	cli_cands_free(&cs);
}
