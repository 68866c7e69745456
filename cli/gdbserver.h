/* SPDX-License-Identifier: MIT */
/*
 * A gdb remote-protocol server over the session's machine: gdb (or an IDE
 * through gdb) attaches over a loopback TCP port or stdin/stdout, reads
 * and writes registers and memory in the CPU's current regime, sets
 * breakpoints and watchpoints through the debugger's own, resumes the
 * pending host operation, and reaches every hypscope command with
 * `monitor`. One client at a time. See docs/gdb.md.
 */
#ifndef HS_GDBSERVER_H
#define HS_GDBSERVER_H

#include <stdbool.h>

struct cli;

/*
 * Listen on [HOST:]PORT (HOST defaults to 127.0.0.1; PORT 0 picks a free
 * one, printed on stderr) and serve one client at a time. With once, return
 * when the first client detaches or kills; otherwise wait for the next
 * client after a detach and return after a kill. 0, or -1 with a message.
 */
int cli_gdbserver_listen(struct cli *c, const char *hostport, bool once);
/* Serve one client on stdin/stdout (`target remote | hypscope --stdio`). */
int cli_gdbserver_stdio(struct cli *c);

#endif
