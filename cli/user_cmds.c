/* SPDX-License-Identifier: MIT */
/* Blocks, user-defined commands, source, shell, redirection and paging (see user_cmds.h). */
#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_print.h"
#include "user_cmds.h"

struct cli_user_cmd {
	char name[64];
	char **lines;
	size_t n;
};

/* ---- blocks ending with `end` ------------------------------------------------------- */

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

int cli_collect_start(struct cli *c, enum cli_collect_kind kind, int id, const char *name,
		      cli_collect_done_fn done)
{
	c->collect_done = done;
	free_lines(c->collect_lines, c->ncollect);
	c->collect_lines = NULL;
	c->ncollect = c->capcollect = 0;
	c->collect = kind;
	c->collect_id = id;
	c->collect_depth = 0;
	snprintf(c->collect_name, sizeof(c->collect_name), "%s", name ? name : "");
	return 0;
}

bool cli_collecting(const struct cli *c)
{
	return c->collect != CLI_COLLECT_NONE;
}

static void define_done(struct cli *c, int id, char **lines, size_t n)
{
	(void)id;
	struct cli_user_cmd *u = NULL;
	for (size_t i = 0; i < c->nucmds; i++)
		if (!strcmp(c->ucmds[i].name, c->collect_name))
			u = &c->ucmds[i];
	if (!u) {
		struct cli_user_cmd *v = realloc(c->ucmds, (c->nucmds + 1) * sizeof(*v));
		if (!v) {
			free_lines(lines, n);
			cli_error(c, "define: out of memory");
			return;
		}
		c->ucmds = v;
		u = &c->ucmds[c->nucmds++];
		*u = (struct cli_user_cmd){0};
		snprintf(u->name, sizeof(u->name), "%s", c->collect_name);
	} else {
		free_lines(u->lines, u->n);
	}
	u->lines = lines;
	u->n = n;
}

int cli_collect_line(struct cli *c, const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	size_t len = strcspn(line, "\r\n");
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	char first[32];
	size_t w = strcspn(line, " \t\r\n");
	snprintf(first, sizeof(first), "%.*s", (int)(w < 31 ? w : 31), line);
	if (!strcmp(first, "end") && len == 3) {
		if (c->collect_depth == 0) {
			enum cli_collect_kind kind = c->collect;
			char **lines = c->collect_lines;
			size_t n = c->ncollect;
			c->collect = CLI_COLLECT_NONE;
			c->collect_lines = NULL;
			c->ncollect = c->capcollect = 0;
			(void)kind;
			c->collect_done(c, c->collect_id, lines, n);
			return 0;
		}
		c->collect_depth--;
	} else if (!strcmp(first, "commands") || !strcmp(first, "define") || !strcmp(first, "if") ||
		   !strcmp(first, "while") || !strcmp(first, "document")) {
		c->collect_depth++;
	}
	if (!len || line[0] == '#')
		return 0;
	if (c->ncollect == c->capcollect) {
		size_t cap = c->capcollect ? 2 * c->capcollect : 8;
		char **v = realloc(c->collect_lines, cap * sizeof(*v));
		if (!v)
			return cli_error(c, "out of memory");
		c->collect_lines = v;
		c->capcollect = cap;
	}
	char *copy = strndup(line, len);
	if (!copy)
		return cli_error(c, "out of memory");
	c->collect_lines[c->ncollect++] = copy;
	return 0;
}

/* ---- define --------------------------------------------------------------------------- */

int cmd_define(struct cli *c, int argc, char **argv)
{
	(void)argc;
	const char *name = argv[1];
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return cli_error(c, "define: '%s' is not a command name", name);
	for (size_t i = 0; i < c->interp->ncmds; i++)
		if (!strcmp(c->interp->cmds[i].name, name))
			return cli_error(c, "define: '%s' is a built-in command", name);
	if (strlen(name) >= sizeof(c->collect_name))
		return cli_error(c, "define: name too long");
	if (c->interactive && !c->src_file)
		printf("Type commands for definition of \"%s\".\n"
		       "End with a line saying just \"end\".\n",
		       name);
	return cli_collect_start(c, CLI_COLLECT_DEFINE, 0, name, define_done);
}

bool cli_user_cmd_exists(const struct cli *c, const char *name)
{
	for (size_t i = 0; i < c->nucmds; i++)
		if (!strcmp(c->ucmds[i].name, name))
			return true;
	return false;
}

/* $argc and $arg0..$arg9 replaced by the arguments, as gdb does. */
static char *substitute(const char *line, int argc, char **argv)
{
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	for (const char *p = line; *p;) {
		if (!strncmp(p, "$argc", 5) && !isalnum((unsigned char)p[5])) {
			hs_sb_printf(&sb, "%d", argc - 1);
			p += 5;
		} else if (!strncmp(p, "$arg", 4) && isdigit((unsigned char)p[4]) &&
			   !isalnum((unsigned char)p[5])) {
			int k = p[4] - '0';
			if (k + 1 < argc)
				hs_sb_puts(&sb, argv[k + 1]);
			p += 5;
		} else {
			hs_sb_putc(&sb, *p++);
		}
	}
	char *s = strdup(hs_sb_str(&sb));
	hs_sb_free(&sb);
	return s;
}

int cli_user_cmd_run(struct cli *c, int argc, char **argv)
{
	struct cli_user_cmd *u = NULL;
	for (size_t i = 0; i < c->nucmds; i++)
		if (!strcmp(c->ucmds[i].name, argv[0]))
			u = &c->ucmds[i];
	if (!u)
		return -2;
	if (c->user_depth >= 16)
		return cli_error(
		    c, "%s: user commands nested too deep (a definition calls itself?)", argv[0]);
	/* A copy: the command may redefine itself. */
	size_t n = u->n;
	char **lines = calloc(n ? n : 1, sizeof(*lines));
	if (!lines)
		return cli_error(c, "out of memory");
	for (size_t i = 0; i < n; i++)
		lines[i] = substitute(u->lines[i], argc, argv);
	c->user_depth++;
	int rc = 0;
	for (size_t i = 0; i < n && !c->quit && !rc; i++)
		rc = lines[i] ? cli_exec_line(c, lines[i]) : -1;
	c->user_depth--;
	free_lines(lines, n);
	return rc ? -1 : 0;
}

void cli_user_cmds_free(struct cli *c)
{
	for (size_t i = 0; i < c->nucmds; i++)
		free_lines(c->ucmds[i].lines, c->ucmds[i].n);
	free(c->ucmds);
	c->ucmds = NULL;
	c->nucmds = 0;
	free_lines(c->collect_lines, c->ncollect);
	c->collect_lines = NULL;
	c->ncollect = c->capcollect = 0;
	c->collect = CLI_COLLECT_NONE;
}

/* ---- source, shell -------------------------------------------------------------------- */

int cmd_source(struct cli *c, int argc, char **argv)
{
	(void)argc;
	int nfail = 0;
	cli_source_file(c, argv[1], &nfail, NULL);
	return nfail ? -1 : 0;
}

int cmd_shell(struct cli *c, int argc, char **argv)
{
	char text[4096];
	if (argc < 2)
		snprintf(text, sizeof(text), "%s", getenv("SHELL") ? getenv("SHELL") : "/bin/sh");
	else
		cli_raw_args(c, argc, argv, 1, text, sizeof(text));
	fflush(stdout);
	fflush(stderr);
	int st = system(text);
	if (st == -1)
		return cli_error(c, "shell: cannot run /bin/sh: %s", strerror(errno));
	return 0;
}

/* The command a line starts with (NULL: none, or not a built-in). */
static const struct cli_cmd *first_cmd(struct cli *c, const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	char first[64];
	size_t w = strcspn(line, " \t/\r\n");
	snprintf(first, sizeof(first), "%.*s", (int)(w < 63 ? w : 63), line);
	return *first ? cli_find_cmd(c, first, true) : NULL;
}

/* ---- > FILE ------------------------------------------------------------------------------ */

/* Commands whose arguments are expressions: there, > is a comparison. */
static bool takes_expression(struct cli *c, const char *line)
{
	const struct cli_cmd *cmd = first_cmd(c, line);
	static const char *const expr_cmds[] = {"print",     "display", "set",	  "expect",
						"condition", "ptype",	"whatis", "break",
						"tbreak",    "until",	"x",	  NULL};
	for (int i = 0; cmd && expr_cmds[i]; i++)
		if (!strcmp(cmd->name, expr_cmds[i]))
			return true;
	return false;
}

const char *cli_redirect_split(struct cli *c, char *line, bool *append)
{
	while (*line == ' ' || *line == '\t')
		line++;
	if (takes_expression(c, line))
		return NULL;
	bool quoted = false;
	char *gt = NULL;
	for (char *p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>' && p > line && (p[-1] == ' ' || p[-1] == '\t'))
			gt = p;
		if (gt == p && p[1] == '>')
			p++;
	}
	if (!gt)
		return NULL;
	*append = gt[1] == '>';
	char *file = gt + (*append ? 2 : 1);
	while (*file == ' ' || *file == '\t')
		file++;
	size_t n = strcspn(file, " \t\r\n");
	if (!n || file[n + strspn(file + n, " \t\r\n")] != '\0')
		return NULL; /* not "> ONE-WORD" at the end of the line */
	file[n] = '\0';
	*gt = '\0';
	return file;
}

int cli_exec_redirected(struct cli *c, const char *line, const char *file, bool append)
{
	fflush(stdout);
	int fd = open(file, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
	if (fd < 0)
		return cli_error(c, "cannot write %s: %s", file, strerror(errno));
	int saved = dup(1);
	if (saved < 0 || dup2(fd, 1) < 0) {
		close(fd);
		if (saved >= 0)
			close(saved);
		return cli_error(c, "cannot redirect to %s: %s", file, strerror(errno));
	}
	close(fd);
	bool color = c->color;
	c->color = false; /* a file gets plain text */
	int rc = cli_exec_line(c, line);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	c->color = color;
	return rc;
}

/* ---- paging ------------------------------------------------------------------------------- */

static bool pageable(struct cli *c, const char *line)
{
	const struct cli_cmd *cmd = first_cmd(c, line);
	/* Running commands print as they go (console lines); shell and blocks read the tty. */
	if (!cmd)
		return false;
	return !(cmd->flags & CMD_RUNS) && strcmp(cmd->name, "shell") &&
	       strcmp(cmd->name, "commands") && strcmp(cmd->name, "define") &&
	       strcmp(cmd->name, "quit") && strcmp(cmd->name, "viz");
}

int cli_exec_paged(struct cli *c, const char *line)
{
	if (!c->pagination || !isatty(0) || !isatty(1) || cli_collecting(c) || !pageable(c, line))
		return cli_exec_line(c, line);
	FILE *tmp = tmpfile();
	if (!tmp)
		return cli_exec_line(c, line);
	fflush(stdout);
	int saved = dup(1);
	if (saved < 0 || dup2(fileno(tmp), 1) < 0) {
		if (saved >= 0)
			close(saved);
		fclose(tmp);
		return cli_exec_line(c, line);
	}
	int rc = cli_exec_line(c, line);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	/* A terminal that reports no height (0 rows) is not paged, as in gdb. */
	struct winsize ws;
	unsigned rows = ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 2 ? ws.ws_row : 0;
	bool paging = rows != 0;
	char *buf = NULL;
	size_t cap = 0;
	unsigned shown = 0;
	while (getline(&buf, &cap, tmp) >= 0) {
		if (paging && shown == rows - 1) {
			printf("--Type <RET> for more, q to quit, c to continue without paging--");
			fflush(stdout);
			char ans[64];
			if (!fgets(ans, sizeof(ans), stdin) || ans[0] == 'q' || ans[0] == 'Q') {
				printf("Quit\n");
				break;
			}
			if (ans[0] == 'c' || ans[0] == 'C')
				paging = false;
			shown = 0;
		}
		fputs(buf, stdout);
		shown++;
	}
	free(buf);
	fclose(tmp);
	fflush(stdout);
	return rc;
}

void cli_habits_fini(struct cli *c)
{
	free(c->repeat_line);
	c->repeat_line = NULL;
	cli_user_cmds_free(c);
}

/* gdb repeats these on an empty line. */
static bool repeatable(struct cli *c, const char *line)
{
	const struct cli_cmd *cmd = first_cmd(c, line);
	static const char *const names[] = {"step",   "next",  "stepi", "nexti", "continue",
					    "finish", "until", "x",	"disas", NULL};
	for (int i = 0; cmd && names[i]; i++)
		if (!strcmp(cmd->name, names[i]))
			return true;
	return false;
}

int cli_repl_line(struct cli *c, const char *line)
{
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (cli_collecting(c))
		return cli_collect_line(c, line);
	if (!*p) {
		if (!c->repeat_line)
			return 0;
		char again[256];
		const char *run = c->repeat_line;
		if (c->repeat_is_x && c->x_valid) {
			static const char *const sp[] = {"", "pa:", "va:", "ipa:"};
			snprintf(again, sizeof(again), "x%s %s%#" PRIx64, c->x_fmt,
				 sp[c->x_space & 3], c->x_next);
			run = again;
		}
		return cli_exec_paged(c, run);
	}
	free(c->repeat_line);
	c->repeat_line = NULL;
	c->repeat_is_x = false;
	if (repeatable(c, p)) {
		c->repeat_line = strdup(p);
		c->repeat_is_x = p[0] == 'x' && (p[1] == '/' || p[1] == ' ' || !p[1]);
	}
	return cli_exec_paged(c, line);
}
