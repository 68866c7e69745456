/* SPDX-License-Identifier: MIT */
/*
 * The interactive loop: GNU readline with tab completion from the command
 * table (command names, each command's own words) plus hypervisor symbols,
 * hypercall names, table names and system register names. History lives in
 * $HYPSCOPE_HISTORY or ~/.hypscope_history.
 */
#include <readline/history.h>
#include <readline/readline.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "user_cmds.h"

/* Readline's callbacks take no user data: the session being completed. */
static struct cli *repl_session;

struct cands {
	const char **v;
	size_t n, cap;
};
static struct cands cands;
static char *cand_owned[256]; /* strings built for this completion (sysreg fields) */
static size_t ncand_owned;

static void cand_add(const char *s)
{
	if (cands.n == cands.cap) {
		size_t cap = cands.cap ? 2 * cands.cap : 256;
		const char **v = realloc(cands.v, cap * sizeof(*v));
		if (!v)
			return;
		cands.v = v;
		cands.cap = cap;
	}
	cands.v[cands.n++] = s;
}

static void cand_reset(void)
{
	cands.n = 0;
	for (size_t i = 0; i < ncand_owned; i++)
		free(cand_owned[i]);
	ncand_owned = 0;
}

static void add_symbols(void)
{
	if (!repl_session || !repl_session->m)
		return;
	const struct hs_image *img = hs_machine_image(repl_session->m);
	for (size_t i = 0; i < img->nsyms; i++)
		if (img->syms[i].name && *img->syms[i].name)
			cand_add(img->syms[i].name);
}

static void add_hypercalls(void)
{
	for (unsigned n = 0; n < HS_HC_COUNT; n++) {
		const char *name = hs_hypercall_name(HS_HC_FN(n));
		if (name)
			cand_add(name);
	}
}

static void add_sysregs(bool fields)
{
	for (int r = 0; r < HS_SR_COUNT; r++) {
		const char *name = hs_sysreg_desc(r)->name;
		cand_add(name);
		size_t nf;
		const struct cli_field *f = cli_sysreg_fields(r, &nf);
		for (size_t i = 0; fields && i < nf && ncand_owned < 256; i++) {
			char buf[96];
			snprintf(buf, sizeof(buf), "%s.%s", name, f[i].name);
			char *s = strdup(buf);
			if (!s)
				continue;
			cand_owned[ncand_owned++] = s;
			cand_add(s);
		}
	}
}

static void add_words(const char *const *w)
{
	for (; w && *w; w++)
		cand_add(*w);
}

static char *generator(const char *text, int state)
{
	static size_t idx, len;
	if (!state) {
		idx = 0;
		len = strlen(text);
	}
	while (idx < cands.n) {
		const char *s = cands.v[idx++];
		if (!strncmp(s, text, len))
			return strdup(s);
	}
	return NULL;
}

/* Split the line before `start` into words (no quoting: good enough for completion). */
static int words_before(int start, char words[8][128])
{
	int n = 0;
	const char *p = rl_line_buffer, *end = rl_line_buffer + start;
	while (p < end && n < 8) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end)
			break;
		const char *w = p;
		while (p < end && *p != ' ' && *p != '\t' && !(n == 0 && *p == '/'))
			p++;
		snprintf(words[n], 128, "%.*s", (int)(p - w), w);
		n++;
		if (n == 1)
			while (p < end && *p != ' ' && *p != '\t')
				p++; /* skip x/FMT */
	}
	return n;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1; /* never fall back to file names */
	cand_reset();
	char words[8][128];
	int n = words_before(start, words);
	if (n == 0) {
		for (size_t i = 0; i < cli_ncmds; i++)
			cand_add(cli_cmds[i].name);
		return rl_completion_matches(text, generator);
	}
	const struct cli_cmd *cmd = cli_find_cmd(repl_session, words[0], true);
	if (!cmd)
		return NULL;
	const char *prev = words[n - 1];
	if (!strcmp(cmd->name, "break") || !strcmp(cmd->name, "tbreak")) {
		if (n == 2 && !strcmp(prev, "hvc")) {
			add_hypercalls();
		} else if (n == 2 && !strcmp(prev, "exception")) {
			static const char *const ecs[] = {"DABT_LOW", "IABT_LOW", "HVC64",
							  "SMC64",    "SYS64",	  "DABT_CUR",
							  "IABT_CUR", NULL};
			add_words(ecs);
		} else if (n == 1) {
			cand_add("hvc");
			cand_add("exception");
			add_symbols();
		}
		return rl_completion_matches(text, generator);
	}
	switch (cmd->complete) {
	case CC_COMMAND:
		for (size_t i = 0; i < cli_ncmds; i++)
			cand_add(cli_cmds[i].name);
		break;
	case CC_SYMBOL:
		add_symbols();
		break;
	case CC_HVC:
		if (n == 1)
			add_hypercalls();
		else
			add_symbols();
		break;
	case CC_SYSREG:
		if (n == 1)
			add_sysregs(false);
		break;
	case CC_WORDS:
		if (!strcmp(prev, "--table")) {
			cand_add("hyp");
			cand_add("host");
			cand_add("guest");
		} else if (!strcmp(cmd->name, "expect") && !strcmp(prev, "sysreg")) {
			add_sysregs(true);
		} else if (!strcmp(prev, "--view")) {
			cand_add("tree");
			cand_add("map");
			cand_add("timeline");
		} else if (!strcmp(cmd->name, "set")) {
			if (n == 1)
				cand_add("diff-on-stop"), cand_add("check-after-hvc");
			else if (n == 2)
				cand_add("on"), cand_add("off");
		} else if (!strcmp(cmd->name, "vm")) {
			static const char *const runs[] = {"read", "write", "exec", "resume", NULL};
			static const char *const prots[] = {"r", "rw", "rx", "rwx", NULL};
			if (n == 1) {
				static const char *const subs[] = {
				    "create",	      "list",	 "show",   "load",	"put",
				    "share",	      "unshare", "donate", "wrprotect", "young",
				    "mkyoung",	      "relax",	 "run",	   "teardown",	"check",
				    "start-teardown", "reclaim", NULL};
				add_words(subs);
			} else if (!strcmp(prev, "--prot")) {
				add_words(prots);
			} else if (!strcmp(words[1], "run") && n == 2) {
				add_words(runs);
			} else if (n == 2 && repl_session->m && strcmp(words[1], "mkyoung") &&
				   strcmp(words[1], "relax") && strcmp(words[1], "create") &&
				   strcmp(words[1], "list") && strcmp(words[1], "put")) {
				/* HANDLE: the host's VMs */
				uint64_t hs[HS_MAX_VMS];
				size_t nv = hs_vm_list(repl_session->m, hs, HS_MAX_VMS);
				for (size_t i = 0; i < nv && ncand_owned < 256; i++) {
					char b[24];
					snprintf(b, sizeof(b), "%#" PRIx64, hs[i]);
					char *d = strdup(b);
					if (!d)
						break;
					cand_owned[ncand_owned++] = d;
					cand_add(d);
				}
			} else if (!strcmp(words[1], "create")) {
				cand_add("--protected");
			} else if (!strcmp(words[1], "young")) {
				cand_add("--clear");
			} else if (!strcmp(words[1], "share") || !strcmp(words[1], "relax")) {
				cand_add("--prot");
				if (!strcmp(words[1], "share"))
					add_symbols();
			} else if (!strcmp(words[1], "donate")) {
				add_symbols();
			}
		} else if (!strcmp(cmd->name, "viz")) {
			add_words(cmd->words);
		} else if (!strcmp(cmd->name, "info") || !strcmp(cmd->name, "boot") ||
			   !strcmp(cmd->name, "diff") || !strcmp(cmd->name, "trace")) {
			if (n == 1 || !strcmp(prev, "--until"))
				add_words(cmd->words);
		} else {
			add_words(cmd->words);
			add_symbols();
		}
		break;
	case CC_NONE:
		break;
	}
	if (cmd->flags & CMD_JSON)
		cand_add("--json");
	return rl_completion_matches(text, generator);
}

static char *history_path(void)
{
	const char *env = getenv("HYPSCOPE_HISTORY");
	if (env && *env)
		return strdup(env);
	const char *home = getenv("HOME");
	if (!home)
		return NULL;
	size_t len = strlen(home) + 32;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/.hypscope_history", home);
	return p;
}

/*
 * While readline waits for a key: poll the live visualizer window, so 's'
 * and 'c' pressed there step and continue; then redraw the prompt.
 */
static int repl_event(void)
{
	if (!repl_session || !repl_session->viz)
		return 0;
	if (cli_mm_poll_viz(repl_session)) {
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}

int cli_repl(struct cli *c)
{
	repl_session = c;
	c->interactive = true;
	c->live = true;
	rl_readline_name = "hypscope";
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = " \t";
	rl_event_hook = repl_event;
	rl_set_keyboard_input_timeout(50000); /* poll the window every 50 ms */
	char *hist = history_path();
	using_history();
	stifle_history(2000);
	if (hist)
		read_history(hist);
	int failures = 0;
	while (!c->quit) {
		char *line = readline(cli_collecting(c) ? ">" : "(hypscope) ");
		if (!line) {
			printf("\n");
			break;
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p)
			add_history(line);
		/* An empty line repeats a stepping or examining command, as in gdb. */
		if (cli_repl_line(c, line))
			failures++;
		free(line);
	}
	if (hist) {
		write_history(hist);
		free(hist);
	}
	cand_reset();
	free(cands.v);
	cands.v = NULL;
	cands.cap = 0;
	rl_event_hook = NULL;
	repl_session = NULL;
	(void)failures;
	return 0;
}
