/* SPDX-License-Identifier: MIT */
/*
 * The gdb remote-protocol server (see gdbserver.h). How the machine runs
 * under gdb: gdb's continue resumes the pending host operation through the
 * REPL's own `continue`, or, when the machine is idle, runs the next
 * operation `monitor` queued (hvc, host, boot, vm ...); with nothing queued
 * it waits for Ctrl-C. Every run goes through the REPL's commands, so a stop
 * gdb sees is the stop the REPL reports, and the REPL's report reaches gdb's
 * console as 'O' output.
 */
#include "gdbserver.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "debug.h"
#include "gdb_bps.h"
#include "gdb_packet.h"
#include "gdb_target.h"
#include "host_boot.h"

#define GDB_MAX_QUEUE 16
#define GDB_CAPTURE_MAX (4u << 20) /* command output sent back at most */
#define GDB_INBUF 4096

struct gdb_server {
	struct cli *c;
	int in_fd, out_fd, listen_fd;
	bool noack, phys;
	bool swallow_step; /* a watch stop was reported: gdb steps over it next */
	unsigned g_cpu;	   /* the thread of g/p/m packets */
	struct gdb_rx rx;
	uint8_t inbuf[GDB_INBUF];
	size_t inpos, inlen;
	char *last; /* the last framed reply (resent on '-') */
	size_t last_len;
	struct gdb_bps bps;
	struct gdb_tlb tlb; /* translations of m packets since anything last changed */
	char *queue[GDB_MAX_QUEUE];
	unsigned nqueue;
	int cap_fd; /* memfd receiving a command's stdout and stderr */
	uint8_t scratch[GDB_PKT_DECODED_MAX];
	char frame[2 * GDB_PKT_DECODED_MAX + 8];
	/* Ctrl-C while the machine runs: the watcher thread reads the client. */
	atomic_bool interrupted;
	int wake[2];
};

enum { SERVE_DETACH, SERVE_KILL };

/* ---- I/O ---------------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_reply(struct gdb_server *s, const void *body, size_t len)
{
	if (len > GDB_PKT_DECODED_MAX)
		len = GDB_PKT_DECODED_MAX; /* never happens: replies are bounded below */
	size_t n = gdb_frame(body, len, true, s->frame, sizeof(s->frame));
	free(s->last);
	s->last = malloc(n);
	s->last_len = s->last ? n : 0;
	if (s->last)
		memcpy(s->last, s->frame, n);
	return write_all(s->out_fd, s->frame, n);
}

static int send_str(struct gdb_server *s, const char *str)
{
	return send_reply(s, str, strlen(str));
}

/* Console output for gdb ('O' packets, hex, in chunks). */
static void send_output(struct gdb_server *s, const char *text, size_t len)
{
	static char pkt[1 + 2 * 2048 + 1];
	while (len) {
		size_t chunk = len > 2048 ? 2048 : len;
		pkt[0] = 'O';
		gdb_hex_encode(text, chunk, pkt + 1);
		send_reply(s, pkt, 1 + 2 * chunk);
		text += chunk;
		len -= chunk;
	}
}

static void send_outputf(struct gdb_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void send_outputf(struct gdb_server *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		send_output(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Next byte from the client (-1 at end of file or error). */
static int next_byte(struct gdb_server *s)
{
	if (s->inpos == s->inlen) {
		ssize_t n;
		do
			n = read(s->in_fd, s->inbuf, sizeof(s->inbuf));
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		s->inpos = 0;
		s->inlen = (size_t)n;
	}
	return s->inbuf[s->inpos++];
}

/* ---- running the REPL's commands ----------------------------------------- */

/* Run one command line with its stdout and stderr captured into out. */
static int run_captured(struct gdb_server *s, const char *line, struct hs_strbuf *out)
{
	fflush(stdout);
	fflush(stderr);
	int o1 = dup(1), o2 = dup(2);
	if (o1 < 0 || o2 < 0 || ftruncate(s->cap_fd, 0) || lseek(s->cap_fd, 0, SEEK_SET)) {
		if (o1 >= 0)
			close(o1);
		if (o2 >= 0)
			close(o2);
		hs_sb_puts(out, "hypscope: cannot capture the command's output\n");
		return -1;
	}
	dup2(s->cap_fd, 1);
	dup2(s->cap_fd, 2);
	int rc = cli_exec_line(s->c, line);
	fflush(stdout);
	fflush(stderr);
	dup2(o1, 1);
	dup2(o2, 2);
	close(o1);
	close(o2);
	off_t size = lseek(s->cap_fd, 0, SEEK_CUR);
	if (size > (off_t)GDB_CAPTURE_MAX)
		size = GDB_CAPTURE_MAX;
	char *buf = size > 0 ? malloc((size_t)size + 1) : NULL;
	if (buf) {
		ssize_t n = pread(s->cap_fd, buf, (size_t)size, 0);
		buf[n > 0 ? n : 0] = '\0';
		hs_sb_puts(out, buf);
		free(buf);
	}
	if (size == (off_t)GDB_CAPTURE_MAX)
		hs_sb_puts(out, "\n[hypscope: output cut at 4 MiB]\n");
	return rc;
}

static void *watch_interrupt(void *ud)
{
	struct gdb_server *s = ud;
	struct pollfd p[2] = {{.fd = s->in_fd, .events = POLLIN},
			      {.fd = s->wake[0], .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		/* Keep what the serve loop has not read yet at the front. */
		if (s->inpos) {
			memmove(s->inbuf, s->inbuf + s->inpos, s->inlen - s->inpos);
			s->inlen -= s->inpos;
			s->inpos = 0;
		}
		if (s->inlen == sizeof(s->inbuf))
			break; /* gdb does not send this much while the target runs */
		ssize_t n = read(s->in_fd, s->inbuf + s->inlen, sizeof(s->inbuf) - s->inlen);
		if (n <= 0) {
			/* The client went away: stop the run, the serve loop sees the end. */
			atomic_store(&s->interrupted, true);
			hs_machine_interrupt(s->c->m);
			break;
		}
		/* Ctrl-C (0x03 between packets) stops the machine; other bytes wait. */
		size_t w = s->inlen;
		for (ssize_t i = 0; i < n; i++) {
			uint8_t b = s->inbuf[s->inlen + (size_t)i];
			if (b == 0x03) {
				atomic_store(&s->interrupted, true);
				hs_machine_interrupt(s->c->m);
			} else {
				s->inbuf[w++] = b;
			}
		}
		s->inlen = w;
	}
	return NULL;
}

/*
 * A Ctrl-C gdb sent right behind its resume packet may already be in the
 * input buffer, where the watcher thread (which reads the socket) would
 * never see it: gdb sends nothing else while the target runs, so every 0x03
 * still unread is an interrupt of the run about to start.
 */
static void take_buffered_interrupt(struct gdb_server *s)
{
	size_t w = s->inpos;
	for (size_t i = s->inpos; i < s->inlen; i++) {
		if (s->inbuf[i] == 0x03) {
			atomic_store(&s->interrupted, true);
			hs_machine_interrupt(s->c->m);
		} else {
			s->inbuf[w++] = s->inbuf[i];
		}
	}
	s->inlen = w;
}

/*
 * Run a command that runs the machine, with Ctrl-C watched unless it is one
 * step (nothing to interrupt, no thread to start); its output goes to out.
 */
static int run_machine(struct gdb_server *s, const char *line, bool step, struct hs_strbuf *out)
{
	pthread_t t;
	atomic_store(&s->interrupted, false);
	if (!step)
		take_buffered_interrupt(s);
	bool watching = !step && pipe(s->wake) == 0;
	if (watching && pthread_create(&t, NULL, watch_interrupt, s)) {
		close(s->wake[0]);
		close(s->wake[1]);
		watching = false;
	}
	int rc = run_captured(s, line, out);
	if (watching) {
		char b = 0;
		if (write(s->wake[1], &b, 1) != 1)
			pthread_cancel(t);
		pthread_join(t, NULL);
		close(s->wake[0]);
		close(s->wake[1]);
	}
	/* A Ctrl-C that came after the run ended must not stop the next one. */
	hs_machine_interrupt_cancel(s->c->m);
	return rc;
}

/* ---- stops ---------------------------------------------------------------- */

static unsigned stop_signal(enum hs_stop_reason r)
{
	switch (r) {
	case HS_STOP_INTERRUPTED:
		return 2; /* SIGINT */
	case HS_STOP_HYP_FAULT:
		return 11; /* SIGSEGV */
	case HS_STOP_LIMIT:
		return 24; /* SIGXCPU */
	case HS_STOP_ERROR:
		return 6; /* SIGABRT */
	default:
		return 5; /* SIGTRAP */
	}
}

static void expedite(struct gdb_server *s, struct hs_strbuf *r, unsigned cpu, unsigned regno)
{
	uint8_t v[16];
	char hex[33];
	int n = gdb_target_read_reg(s->c->m, cpu, regno, v);
	if (n > 0) {
		gdb_hex_encode(v, (size_t)n, hex);
		hs_sb_printf(r, "%x:%s;", regno, hex);
	}
}

/* The stop reply for the machine's last stop (also the answer to '?'). */
static void stop_reply(struct gdb_server *s)
{
	struct cli *c = s->c;
	const struct hs_stop *st = hs_last_stop(c->m);
	unsigned cpu = st->cpu < hs_nr_cpus(c->m) ? st->cpu : 0;
	struct hs_strbuf r;
	hs_sb_init(&r);
	hs_sb_printf(&r, "T%02xthread:%x;", stop_signal(st->reason), cpu + 1);
	const struct gdb_bp *bp = gdb_bps_by_cli_id(&s->bps, c->hit_id);
	if (st->reason == HS_STOP_WATCH && bp && bp->type >= 2) {
		const struct hs_watch_hit *hit = hs_watch_last_hit(c->m);
		uint64_t a = bp->addr;
		if (hit && hit->pa >= bp->pa && hit->pa < bp->pa + bp->len)
			a += hit->pa - bp->pa;
		static const char *const kind[] = {"", "", "watch", "rwatch", "awatch"};
		hs_sb_printf(&r, "%s:%" PRIx64 ";", kind[bp->type], a);
		s->swallow_step = true;
	} else if (st->reason == HS_STOP_BREAKPOINT && bp && bp->type < 2 && st->pc == bp->addr) {
		hs_sb_puts(&r, bp->type == 0 ? "swbreak:;" : "hwbreak:;");
	} else if (st->reason == HS_STOP_BREAKPOINT && bp && bp->type < 2) {
		/*
		 * Hit through another alias of the instruction (the idmap's PA for a
		 * HYP VA gdb asked for): gdb ignores a swbreak stop at a PC where it
		 * has no breakpoint and resumes silently, so report a plain SIGTRAP
		 * and say which breakpoint it was.
		 */
		send_outputf(s,
			     "hypscope: breakpoint at %#" PRIx64 " hit at its alias %#" PRIx64
			     " (the same instruction, reached through another mapping)\n",
			     bp->addr, st->pc);
	}
	expedite(s, &r, cpu, GDB_REG_X29);
	expedite(s, &r, cpu, GDB_REG_SP);
	expedite(s, &r, cpu, GDB_REG_PC);
	s->g_cpu = cpu;
	send_reply(s, hs_sb_str(&r), r.len);
	hs_sb_free(&r);
}

/* Wait for Ctrl-C with nothing to run; false when the client went away. */
static bool wait_for_interrupt(struct gdb_server *s)
{
	send_outputf(s, "hypscope: the machine is idle and nothing is queued: waiting (Ctrl-C "
			"stops; queue an operation with monitor, e.g. `monitor hvc nop`)\n");
	for (;;) {
		int b = next_byte(s);
		if (b < 0)
			return false;
		if (b == 0x03)
			return true;
	}
}

static bool machine_idle(struct cli *c)
{
	int next = hs_boot_next_step(c->m);
	return !hs_op_pending(c->m) && (next == HS_BOOT_DONE || next == HS_BOOT_FIRMWARE);
}

/*
 * gdb's reverse-stepi / reverse-continue (bs, bc): the REPL's commands, over
 * hypscope's record (`monitor record` starts it); the stop is reported as a
 * forward one. The commands' text goes to gdb's console.
 */
static void reverse(struct gdb_server *s, bool step)
{
	struct hs_strbuf out;
	hs_sb_init(&out);
	gdb_bps_sync(&s->bps, s->c, &out);
	s->swallow_step = false;
	run_machine(s, step ? "reverse-stepi" : "reverse-continue", true, &out);
	send_output(s, hs_sb_str(&out), out.len);
	hs_sb_free(&out);
	stop_reply(s);
}

/* Returns false when the client went away while waiting. */
static bool resume(struct gdb_server *s, bool step)
{
	struct cli *c = s->c;
	if (step && s->swallow_step) {
		/*
		 * gdb steps over a watchpoint it was told of (AArch64 watchpoints
		 * stop before the access); the machine already stopped after the
		 * store, as the REPL does, so this step is answered in place.
		 */
		s->swallow_step = false;
		stop_reply(s);
		return true;
	}
	s->swallow_step = false;
	struct hs_strbuf out;
	hs_sb_init(&out);
	gdb_bps_sync(&s->bps, c, &out);
	send_output(s, hs_sb_str(&out), out.len);
	hs_sb_reset(&out);
	char *queued = NULL;
	const char *line;
	/* Paused between boot steps is not idle: stepi runs the next step's first instructions. */
	if (step && machine_idle(c)) {
		send_outputf(s,
			     "hypscope: the machine is idle: nothing to step (`monitor` queues an "
			     "operation, `continue` runs it)\n");
		stop_reply(s);
		hs_sb_free(&out);
		return true;
	}
	if (step) {
		line = "stepi";
	} else if (!machine_idle(c)) {
		line = "continue";
	} else if (s->nqueue) {
		queued = s->queue[0];
		memmove(s->queue, s->queue + 1, --s->nqueue * sizeof(s->queue[0]));
		line = queued;
		send_outputf(s, "hypscope: running `%s`\n", line);
	} else {
		bool ok = wait_for_interrupt(s);
		hs_sb_free(&out);
		if (!ok)
			return false;
		/* Report the interrupt where the machine is. */
		char t[32];
		int n = snprintf(t, sizeof(t), "T02thread:%x;", s->g_cpu + 1);
		send_reply(s, t, (size_t)n);
		return true;
	}
	uint64_t before = hs_machine_icount(c->m);
	/* gdb shows a plain step its own way: no disassembly from the REPL. */
	s->c->quiet_steps = step;
	run_machine(s, line, step, &out);
	s->c->quiet_steps = false;
	free(queued);
	send_output(s, hs_sb_str(&out), out.len);
	hs_sb_free(&out);
	if (hs_machine_icount(c->m) == before && !step && !atomic_load(&s->interrupted))
		send_outputf(s, "hypscope: nothing ran\n");
	stop_reply(s);
	return true;
}

/* What a session leaves behind when gdb detaches: nothing of gdb's. */
static void session_end(struct gdb_server *s)
{
	gdb_bps_clear(&s->bps, s->c);
	for (unsigned i = 0; i < s->nqueue; i++)
		free(s->queue[i]);
	s->nqueue = 0;
	s->noack = s->phys = s->swallow_step = false;
	free(s->last);
	s->last = NULL;
	s->last_len = 0;
}

/* ---- monitor -------------------------------------------------------------- */

/* Does this command line run the machine (so it is queued for `continue`)? */
static bool runs_machine(struct cli *c, const char *line)
{
	char word[32], sub[32] = "";
	if (sscanf(line, "%31s %31s", word, sub) < 1)
		return false;
	const struct cli_cmd *cmd = cli_find_cmd(c, word, true);
	if (!cmd || !(cmd->flags & CMD_RUNS))
		return false;
	/* `vm` inspects with these (the others issue hypercalls). */
	if (!strcmp(cmd->name, "vm") &&
	    (!strcmp(sub, "list") || !strcmp(sub, "show") || !strcmp(sub, "check")))
		return false;
	return true;
}

static void monitor(struct gdb_server *s, const struct gdb_req *q)
{
	size_t n;
	char line[1024];
	if (!gdb_hex_decode(q->args, q->args_len, (uint8_t *)line, sizeof(line) - 1, &n)) {
		send_str(s, "E01");
		return;
	}
	line[n] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	char w1[16] = "", w2[16] = "";
	sscanf(line, "%15s %15s", w1, w2);
	if (!strcmp(w1, "phys")) {
		if (strcmp(w2, "on") && strcmp(w2, "off") && *w2) {
			send_outputf(s, "usage: monitor phys on|off\n");
			send_str(s, "E01");
			return;
		}
		if (*w2)
			s->phys = !strcmp(w2, "on");
		send_outputf(s, "memory accesses are %s\n",
			     s->phys ? "physical" : "in the CPU's current translation regime");
		send_str(s, "OK");
		return;
	}
	if (!strcmp(w1, "help") && !*w2)
		send_outputf(s, "gdbserver: `monitor phys on|off` switches gdb's memory accesses "
				"between physical and the CPU's current regime; commands that run "
				"the machine (hvc, host, boot, vm ...) are queued and run by "
				"`continue`.\n");
	if (s->c->m && runs_machine(s->c, line)) {
		if (s->nqueue == GDB_MAX_QUEUE) {
			send_outputf(s, "hypscope: %u operations are queued already\n",
				     GDB_MAX_QUEUE);
			send_str(s, "E01");
			return;
		}
		s->queue[s->nqueue] = strdup(line);
		if (!s->queue[s->nqueue]) {
			send_str(s, "E01");
			return;
		}
		s->nqueue++;
		send_outputf(s, "hypscope: queued `%s` (%u queued): `continue` runs it\n", line,
			     s->nqueue);
		send_str(s, "OK");
		return;
	}
	struct hs_strbuf out;
	hs_sb_init(&out);
	int rc = run_captured(s, line, &out);
	send_output(s, hs_sb_str(&out), out.len);
	hs_sb_free(&out);
	send_str(s, rc ? "E01" : "OK");
}

/* ---- queries -------------------------------------------------------------- */

static void thread_name(struct gdb_server *s, unsigned cpu, char *buf, size_t len)
{
	struct hs_cpu_state st;
	hs_cpu_state(s->c->m, cpu, &st);
	if (st.online)
		snprintf(buf, len, "cpu%u EL%u", cpu, st.el);
	else
		snprintf(buf, len, "cpu%u off", cpu);
}

/* A slice of a document for qXfer: "m" + data, or "l" + the last part. */
static void xfer_reply(struct gdb_server *s, const char *doc, size_t len, const struct gdb_req *q)
{
	size_t max = (GDB_PKT_MAX - 16) / 2; /* worst case every byte escaped */
	size_t want = q->xfer_len < max ? (size_t)q->xfer_len : max;
	if (q->xfer_offset >= len) {
		send_str(s, "l");
		return;
	}
	size_t off = (size_t)q->xfer_offset, n = len - off < want ? len - off : want;
	char *r = malloc(n + 1);
	if (!r) {
		send_str(s, "E01");
		return;
	}
	r[0] = off + n < len ? 'm' : 'l';
	memcpy(r + 1, doc + off, n);
	send_reply(s, r, n + 1);
	free(r);
}

static void xfer(struct gdb_server *s, const struct gdb_req *q)
{
	struct hs_strbuf doc;
	hs_sb_init(&doc);
	if (!strcmp(q->xfer_object, "features") && !strcmp(q->xfer_annex, "target.xml")) {
		gdb_target_xml(&doc);
	} else if (!strcmp(q->xfer_object, "threads") && !*q->xfer_annex) {
		hs_sb_puts(&doc, "<?xml version=\"1.0\"?><threads>");
		for (unsigned i = 0; i < hs_nr_cpus(s->c->m); i++) {
			char name[32];
			thread_name(s, i, name, sizeof(name));
			hs_sb_printf(&doc, "<thread id=\"%x\" core=\"%u\" name=\"%s\"/>", i + 1, i,
				     name);
		}
		hs_sb_puts(&doc, "</threads>");
	} else if (!strcmp(q->xfer_object, "exec-file")) {
		char path[PATH_MAX];
		const char *elf = hs_machine_opts(s->c->m)->hyp_elf;
		hs_sb_puts(&doc, realpath(elf, path) ? path : elf);
	} else {
		hs_sb_free(&doc);
		send_str(s, "E00");
		return;
	}
	xfer_reply(s, hs_sb_str(&doc), doc.len, q);
	hs_sb_free(&doc);
}

static void query(struct gdb_server *s, const struct gdb_req *q)
{
	struct hs_machine *m = s->c->m;
	char buf[512];
	if (q->is_set) {
		if (!strcmp(q->name, "StartNoAckMode")) {
			send_str(s, "OK");
			s->noack = true;
		} else if (!strcmp(q->name, "qemu.PhyMemMode")) {
			/* QEMU's switch for physical memory accesses, for tools written for QEMU.
			 */
			if (q->args_len != 1 || (q->args[0] != '0' && q->args[0] != '1')) {
				send_str(s, "E01");
				return;
			}
			s->phys = q->args[0] == '1';
			send_str(s, "OK");
		} else {
			send_str(s, "");
		}
		return;
	}
	if (q->xfer)
		return xfer(s, q);
	if (!strcmp(q->name, "Supported")) {
		snprintf(buf, sizeof(buf),
			 "PacketSize=%x;qXfer:features:read+;qXfer:threads:read+;"
			 "qXfer:exec-file:read+;QStartNoAckMode+;swbreak+;hwbreak+;"
			 "vContSupported+;ReverseStep+;ReverseContinue+",
			 GDB_PKT_MAX);
		send_str(s, buf);
	} else if (!strcmp(q->name, "Attached")) {
		send_str(s, "1"); /* gdb detaches (not kills) when it quits */
	} else if (!strcmp(q->name, "C")) {
		snprintf(buf, sizeof(buf), "QC%x", s->g_cpu + 1);
		send_str(s, buf);
	} else if (!strcmp(q->name, "fThreadInfo")) {
		size_t o = (size_t)snprintf(buf, sizeof(buf), "m");
		for (unsigned i = 0; i < hs_nr_cpus(m); i++)
			o +=
			    (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%x", i ? "," : "", i + 1);
		send_str(s, buf);
	} else if (!strcmp(q->name, "sThreadInfo")) {
		send_str(s, "l");
	} else if (!strcmp(q->name, "ThreadExtraInfo")) {
		char name[32];
		if (q->thread < 1 || q->thread > (int64_t)hs_nr_cpus(m)) {
			send_str(s, "E01");
			return;
		}
		thread_name(s, (unsigned)q->thread - 1, name, sizeof(name));
		gdb_hex_encode(name, strlen(name), buf);
		send_str(s, buf);
	} else if (!strcmp(q->name, "Offsets")) {
		/* gdb relocates the image's symbols to where the hypervisor runs: its HYP VAs. */
		uint64_t base = hs_machine_image(m)->link_base;
		uint64_t off = hs_link_to_hyp_va(m, base) - base;
		snprintf(buf, sizeof(buf), "Text=%" PRIx64 ";Data=%" PRIx64 ";Bss=%" PRIx64, off,
			 off, off);
		send_str(s, buf);
	} else if (!strcmp(q->name, "Rcmd")) {
		monitor(s, q);
	} else if (!strcmp(q->name, "Symbol")) {
		send_str(s, "OK");
	} else if (!strcmp(q->name, "qemu.PhyMemMode")) {
		send_str(s, s->phys ? "1" : "0");
	} else {
		send_str(s, "");
	}
}

/* ---- packets -------------------------------------------------------------- */

static void read_regs(struct gdb_server *s)
{
	static uint8_t regs[1024];
	static char hex[2 * sizeof(regs) + 1];
	int n = gdb_target_read_g(s->c->m, s->g_cpu, regs, sizeof(regs));
	if (n < 0) {
		send_str(s, "E01");
		return;
	}
	gdb_hex_encode(regs, (size_t)n, hex);
	send_reply(s, hex, 2 * (size_t)n);
}

static void write_regs(struct gdb_server *s, const struct gdb_req *q)
{
	size_t o = 0;
	for (unsigned r = 0; r < gdb_target_g_nregs(); r++)
		o += gdb_target_reg_size(r);
	if (q->data_len != o) {
		send_str(s, "E01");
		return;
	}
	o = 0;
	for (unsigned r = 0; r < gdb_target_g_nregs(); r++) {
		unsigned n = gdb_target_reg_size(r);
		uint8_t cur[16];
		/* Only what changed: cpsr and the rest are partly read-only. */
		if (gdb_target_read_reg(s->c->m, s->g_cpu, r, cur) != (int)n ||
		    (memcmp(cur, q->data + o, n) &&
		     gdb_target_write_reg(s->c->m, s->g_cpu, r, q->data + o, n))) {
			send_str(s, "E01");
			return;
		}
		o += n;
	}
	send_str(s, "OK");
}

static void read_mem(struct gdb_server *s, const struct gdb_req *q)
{
	static uint8_t data[GDB_PKT_MAX / 2];
	static char hex[GDB_PKT_MAX + 1];
	size_t len = q->len < sizeof(data) ? (size_t)q->len : sizeof(data);
	size_t done = 0;
	if (q->addr + len < q->addr)
		len = (size_t)(0 - q->addr);
	gdb_target_read_mem(s->c->m, &s->tlb, s->g_cpu, s->phys, q->addr, data, len, &done);
	if (!done && len) {
		send_str(s, "E14"); /* EFAULT */
		return;
	}
	gdb_hex_encode(data, done, hex);
	send_reply(s, hex, 2 * done);
}

/* One packet; returns -1 to go on, or SERVE_DETACH / SERVE_KILL. */
static int handle(struct gdb_server *s, const uint8_t *body, size_t len)
{
	struct gdb_req q;
	struct cli *c = s->c;
	gdb_parse_request(body, len, &q, s->scratch, sizeof(s->scratch));
	if (len == 2 && body[0] == 'b' && (body[1] == 's' || body[1] == 'c')) {
		gdb_tlb_flush(&s->tlb);
		reverse(s, body[1] == 's');
		return -1;
	}
	/* Only reads leave the translations as they were (see struct gdb_tlb). */
	if (q.kind != GDB_REQ_READ_MEM && q.kind != GDB_REQ_READ_REG && q.kind != GDB_REQ_READ_REGS)
		gdb_tlb_flush(&s->tlb);
	uint8_t v[16];
	char hex[64];
	switch (q.kind) {
	case GDB_REQ_UNKNOWN:
		send_str(s, "");
		break;
	case GDB_REQ_MALFORMED:
		send_str(s, "E01");
		break;
	case GDB_REQ_HALT_REASON:
		stop_reply(s);
		break;
	case GDB_REQ_READ_REGS:
		read_regs(s);
		break;
	case GDB_REQ_WRITE_REGS:
		write_regs(s, &q);
		break;
	case GDB_REQ_READ_REG: {
		int n = gdb_target_read_reg(c->m, s->g_cpu, q.regno, v);
		if (n < 0) {
			send_str(s, "E01");
			break;
		}
		gdb_hex_encode(v, (size_t)n, hex);
		send_str(s, hex);
		break;
	}
	case GDB_REQ_WRITE_REG:
		send_str(s, gdb_target_write_reg(c->m, s->g_cpu, q.regno, q.data, q.data_len)
				? "E01"
				: "OK");
		break;
	case GDB_REQ_READ_MEM:
		read_mem(s, &q);
		break;
	case GDB_REQ_WRITE_MEM:
		send_str(s, !q.data_len || !gdb_target_write_mem(c->m, s->g_cpu, s->phys, q.addr,
								 q.data, q.data_len)
				? "OK"
				: "E14");
		break;
	case GDB_REQ_INSERT_BP: {
		int rc = gdb_bps_insert(&s->bps, c, s->g_cpu, s->phys, &q);
		send_str(s, rc > 0 ? "" : rc < 0 ? "E01" : "OK");
		break;
	}
	case GDB_REQ_REMOVE_BP:
		gdb_bps_remove(&s->bps, c, &q);
		send_str(s, "OK");
		break;
	case GDB_REQ_CONTINUE:
	case GDB_REQ_STEP:
		if (q.have_addr)
			hs_cpu_set_pc(c->m, s->g_cpu, q.addr);
		if (!resume(s, q.kind == GDB_REQ_STEP))
			return SERVE_DETACH;
		break;
	case GDB_REQ_VCONT: {
		bool step = false, stop_only = true;
		for (unsigned i = 0; i < q.nactions; i++) {
			if (q.actions[i].action == 's')
				step = true;
			if (q.actions[i].action != 't')
				stop_only = false;
		}
		if (stop_only) {
			stop_reply(s); /* all-stop: everything is stopped already */
			break;
		}
		if (!resume(s, step))
			return SERVE_DETACH;
		break;
	}
	case GDB_REQ_VCONT_QUERY:
		send_str(s, "vCont;c;C;s;S;t");
		break;
	case GDB_REQ_SET_THREAD:
		if (q.thread > (int64_t)hs_nr_cpus(c->m)) {
			send_str(s, "E01");
			break;
		}
		if (q.thread_op == 'g' && q.thread > 0) {
			s->g_cpu = (unsigned)q.thread - 1;
			hs_select_cpu(c->m, s->g_cpu,
				      NULL); /* monitor commands follow gdb's thread */
		}
		send_str(s, "OK");
		break;
	case GDB_REQ_THREAD_ALIVE:
		send_str(s, q.thread >= 1 && q.thread <= (int64_t)hs_nr_cpus(c->m) ? "OK" : "E01");
		break;
	case GDB_REQ_DETACH:
		session_end(s);
		send_str(s, "OK");
		return SERVE_DETACH;
	case GDB_REQ_KILL:
		session_end(s);
		if (len > 1)
			send_str(s, "OK"); /* vKill wants an answer, k does not */
		return SERVE_KILL;
	case GDB_REQ_QUERY:
		query(s, &q);
		break;
	}
	return -1;
}

/* Tell a second client that the server is busy, and hang up. */
static void refuse(int listen_fd)
{
	int fd = accept(listen_fd, NULL, NULL);
	if (fd < 0)
		return;
	fprintf(stderr, "hypscope: gdbserver: refused a second client (one at a time)\n");
	/* Answer its first packet (qSupported) so gdb prints the reason. */
	struct gdb_rx *rx = malloc(sizeof(*rx));
	if (rx) {
		gdb_rx_init(rx);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		bool got = false;
		uint8_t b[256];
		while (!got && poll(&p, 1, 1000) > 0) {
			ssize_t n = read(fd, b, sizeof(b));
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n && !got; i++)
				got = gdb_rx_feed(rx, b[i]) == GDB_RX_PACKET;
		}
		free(rx);
		static const char msg[] =
		    "E.hypscope: another gdb is attached to this machine (one client at a time)";
		char out[2 * sizeof(msg) + 8];
		size_t n = gdb_frame(msg, sizeof(msg) - 1, false, out + 1, sizeof(out) - 1);
		out[0] = '+';
		if (got && n)
			write_all(fd, out, n + 1);
	}
	close(fd);
}

static int serve(struct gdb_server *s)
{
	gdb_rx_init(&s->rx);
	s->inpos = s->inlen = 0;
	s->g_cpu = hs_current_cpu(s->c->m);
	for (;;) {
		if (s->inpos == s->inlen && s->listen_fd >= 0) {
			struct pollfd p[2] = {{.fd = s->in_fd, .events = POLLIN},
					      {.fd = s->listen_fd, .events = POLLIN}};
			if (poll(p, 2, -1) < 0 && errno != EINTR)
				return SERVE_DETACH;
			if (p[1].revents & POLLIN)
				refuse(s->listen_fd);
			if (!p[0].revents)
				continue;
		}
		int b = next_byte(s);
		if (b < 0) {
			session_end(s);
			return SERVE_DETACH;
		}
		switch (gdb_rx_feed(&s->rx, (uint8_t)b)) {
		case GDB_RX_PACKET: {
			if (!s->noack)
				write_all(s->out_fd, "+", 1);
			int r = handle(s, s->rx.buf, s->rx.len);
			if (r >= 0)
				return r;
			break;
		}
		case GDB_RX_BAD_CHECKSUM:
		case GDB_RX_MALFORMED:
			if (s->noack)
				send_str(s, "E01");
			else
				write_all(s->out_fd, "-", 1);
			break;
		case GDB_RX_OVERSIZE:
			if (!s->noack)
				write_all(s->out_fd, "+", 1);
			send_str(s, "E01");
			break;
		case GDB_RX_NAK:
			if (s->last)
				write_all(s->out_fd, s->last, s->last_len);
			break;
		default:
			break; /* acks; a Ctrl-C while stopped changes nothing */
		}
	}
}

static struct gdb_server *server_new(struct cli *c)
{
	if (!c->m) {
		fprintf(stderr, "hypscope: gdbserver: no machine: %s\n",
			*c->machine_err ? c->machine_err : "not created");
		return NULL;
	}
	struct gdb_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = c;
	s->listen_fd = s->in_fd = s->out_fd = -1;
	s->cap_fd = memfd_create("hypscope-gdb-output", 0);
	if (s->cap_fd < 0) {
		fprintf(stderr, "hypscope: gdbserver: memfd_create: %s\n", strerror(errno));
		free(s);
		return NULL;
	}
	return s;
}

static void server_free(struct gdb_server *s)
{
	session_end(s);
	close(s->cap_fd);
	free(s);
}

int cli_gdbserver_stdio(struct cli *c)
{
	struct gdb_server *s = server_new(c);
	if (!s)
		return -1;
	/* stdout is the protocol now: keep it, and send stray prints to stderr. */
	fflush(stdout);
	s->in_fd = 0;
	s->out_fd = dup(1);
	dup2(2, 1);
	serve(s);
	close(s->out_fd);
	server_free(s);
	return 0;
}

static int listen_on(const char *hostport, char *shown, size_t len)
{
	char host[256] = "127.0.0.1";
	const char *port = hostport;
	const char *colon = strrchr(hostport, ':');
	if (colon) {
		size_t n = (size_t)(colon - hostport);
		if (n >= sizeof(host)) {
			fprintf(stderr, "hypscope: gdbserver: host name too long\n");
			return -1;
		}
		if (n) {
			memcpy(host, hostport, n);
			host[n] = '\0';
		}
		/* [::1]:1234 */
		if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = '\0';
		}
		port = colon + 1;
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (!*port || *end || pn < 0 || pn > 65535) {
		fprintf(stderr,
			"hypscope: gdbserver: '%s': give [HOST:]PORT, e.g. 1234 or "
			"127.0.0.1:1234\n",
			hostport);
		return -1;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	int e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		fprintf(stderr, "hypscope: gdbserver: %s: %s\n", host, gai_strerror(e));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 2)) {
		fprintf(stderr, "hypscope: gdbserver: cannot listen on %s:%s: %s\n", host, port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned actual = (unsigned)pn;
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
		actual = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(shown, len, ai->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, actual);
	freeaddrinfo(ai);
	return fd;
}

int cli_gdbserver_listen(struct cli *c, const char *hostport, bool once)
{
	char shown[300];
	struct gdb_server *s = server_new(c);
	if (!s)
		return -1;
	s->listen_fd = listen_on(hostport, shown, sizeof(shown));
	if (s->listen_fd < 0) {
		server_free(s);
		return -1;
	}
	fprintf(stderr, "hypscope: gdbserver listening on %s (in gdb: target remote %s)\n", shown,
		shown);
	int r = SERVE_DETACH;
	do {
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hypscope: gdbserver: accept: %s\n", strerror(errno));
			break;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fprintf(stderr, "hypscope: gdbserver: client attached\n");
		s->in_fd = s->out_fd = fd;
		r = serve(s);
		close(fd);
		s->in_fd = s->out_fd = -1;
		fprintf(stderr, "hypscope: gdbserver: client %s\n",
			r == SERVE_KILL ? "killed the session" : "detached");
	} while (!once && r != SERVE_KILL);
	close(s->listen_fd);
	server_free(s);
	return 0;
}

int cmd_gdbserver(struct cli *c, int argc, char **argv)
{
	(void)argc;
	fflush(stdout);
	printf("serving this machine to gdb until it detaches (gdb: target remote %s)\n",
	       strchr(argv[1], ':') ? argv[1] : "localhost:PORT");
	fflush(stdout);
	return cli_gdbserver_listen(c, argv[1], true) ? cli_error(c, "gdbserver: cannot serve") : 0;
}
