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
#include "complete.h"
#include "user_cmds.h"

/* Readline's callbacks take no user data: the session being completed. */
static struct cli *repl_session;

/* This completion's candidates (readline's generator takes no user data either). */
static struct cli_cands cands;

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
	cli_cands_reset(&cands);
	char words[8][128];
	int n = words_before(start, words);
	const char *argv[8];
	for (int i = 0; i < n; i++)
		argv[i] = words[i];
	cli_complete_line(repl_session, argv, n, &cands);
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
	if (cli_sigint_take_prompt()) {
		/* Ctrl-C at the prompt: abandon the line, a fresh prompt below. */
		rl_replace_line("", 0);
		printf("\n");
		rl_on_new_line();
		rl_redisplay();
	}
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
	rl_signal_event_hook = repl_event;
	rl_catch_signals = 0;		      /* sigint.c handles SIGINT */
	rl_set_keyboard_input_timeout(50000); /* poll the window every 50 ms */
	char *hist = history_path();
	using_history();
	stifle_history(2000);
	if (hist && read_history(hist))
		write_history(hist); /* create it: append_history below needs the file */
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
		if (*p && hist)
			append_history(1, hist); /* as we go: a crash loses nothing */
		/* An empty line repeats a stepping or examining command, as in gdb. */
		cli_sigint_running(c, true);
		if (cli_repl_line(c, line))
			failures++;
		cli_sigint_running(c, false);
		free(line);
	}
	if (hist) {
		history_truncate_file(hist, 2000);
		free(hist);
	}
	cli_cands_free(&cands);
	rl_event_hook = NULL;
	rl_signal_event_hook = NULL;
	repl_session = NULL;
	(void)failures;
	return 0;
}
