/* SPDX-License-Identifier: MIT */
/*
 * Ctrl-C (SIGINT). While a command runs, it asks the machine to stop at the
 * next instruction boundary (hs_machine_interrupt): the command ends with an
 * "Interrupted" stop and `continue` resumes. At the REPL prompt it only
 * abandons the line being typed (repl.c draws a fresh prompt), as gdb and
 * readline do. In batch mode between commands it ends the process as usual.
 * A signal handler needs process-wide state: it is this file's, and only it.
 */
#include <signal.h>
#include <string.h>

#include "cli.h"

static struct cli *volatile sig_cli;
static volatile sig_atomic_t sig_running, sig_prompt, sig_interactive;

static void on_sigint(int sig)
{
	struct cli *c = sig_cli;
	if (sig_running && c && c->m) {
		hs_machine_interrupt(c->m);
		return;
	}
	if (sig_interactive) {
		sig_prompt = 1;
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_sigint_install(struct cli *c, bool interactive)
{
	sig_cli = c;
	sig_interactive = interactive;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: readline's wait for a key returns */
	sigaction(SIGINT, &sa, NULL);
}

void cli_sigint_running(struct cli *c, bool on)
{
	sig_running = on;
	/* A Ctrl-C that came after the run stopped must not stop the next one. */
	if (!on && c->m)
		hs_machine_interrupt_cancel(c->m);
}

bool cli_sigint_take_prompt(void)
{
	if (!sig_prompt)
		return false;
	sig_prompt = 0;
	return true;
}
