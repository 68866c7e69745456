#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Figures of `hypscope gdbserver` as gdb-multiarch sees them, on loopback.

  stepi     one `stepi` through gdb (gdb's Python times `stepi N`), and one
            raw vCont;s round trip (our own client, no gdb)       target <= 1 ms
  x/512gx   a whole table page (the host stage-2 root, physical)   target <= 5 ms
  continue  to a breakpoint ~10^7 instructions away (do_prot_finalize
            during `boot` with --ram 2G), through gdb and from the REPL,
            best of several runs                                     target: within 5 %

usage: bench/gdb_bench.py [build/cli/hypscope [build/hyp/hyp.elf]]
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

HYPSCOPE = sys.argv[1] if len(sys.argv) > 1 else "build/cli/hypscope"
HYP_ELF = sys.argv[2] if len(sys.argv) > 2 else "build/hyp/hyp.elf"
GDB = shutil.which("gdb-multiarch")
ENV = dict(os.environ, NO_COLOR="1")
RUNS = 5


def server(*args):
    p = subprocess.Popen([HYPSCOPE, *args, "gdbserver", "127.0.0.1:0"], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while True:
        line = p.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            return p, int(m.group(1))
        if not line:
            raise SystemExit("server did not start")


def gdb(port, cmds, timeout=300):
    argv = [GDB, "-nx", "-batch", "-ex", "set pagination off", "-ex", "file " + HYP_ELF,
            "-ex", "target remote 127.0.0.1:%d" % port, "-ex", "python import time"]
    for c in cmds:
        argv += ["-ex", c]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout).stdout


def timed(cmd, label):
    """gdb commands that time `cmd` with gdb's own clock and print LABEL=seconds."""
    return ["python t0 = time.perf_counter()", cmd,
            "python print('%s=%%.6f' %% (time.perf_counter() - t0))" % label]


def seconds(out, label):
    m = re.search(r"%s=([0-9.]+)" % label, out)
    if not m:
        raise SystemExit("no figure %s in gdb output:\n%s" % (label, out[-3000:]))
    return float(m.group(1))


def rsp(sock, body, buf):
    sock.sendall(b"$" + body + b"#%02x" % (sum(body) % 256))
    while True:
        m = re.search(rb"\$([^#]*)#..", buf[0])
        if m:
            buf[0] = buf[0][m.end():]
            if not m.group(1).startswith(b"O") or m.group(1) == b"OK":
                return m.group(1)
            continue
        buf[0] += sock.recv(65536)


# Stopped at __pkvm_init inside `boot`: the rest of the boot flow (millions of
# instructions) is pending, so every step moves (a short hypercall would end
# within the 2000 steps, and gdb would go on "stepping" an idle machine).
STEP_SERVER = ("-ex", "break __pkvm_init", "-ex", "boot")


def bench_stepi():
    srv, port = server(*STEP_SERVER)
    try:
        n = 2000
        out = gdb(port, timed("stepi 1", "ONE") + timed("stepi %d" % (n + 1), "MANY") +
                  ["monitor info program"])
        if "last stop: step" not in out:
            raise SystemExit("the steps did not all step:\n" + out[-3000:])
        per_gdb = (seconds(out, "MANY") - seconds(out, "ONE")) / n
    finally:
        srv.kill()
    srv, port = server(*STEP_SERVER)
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = [b""]
        rsp(s, b"QStartNoAckMode", buf)
        rsp(s, b"vCont;s", buf)  # the first step pays the REPL's one-off code flush
        t0 = time.perf_counter()
        for _ in range(n):
            rsp(s, b"vCont;s", buf)
        per_raw = (time.perf_counter() - t0) / n
        rsp(s, b"D", buf)
    finally:
        srv.kill()
    print("stepi through gdb:        %8.1f us per step (%d steps; target <= 1000 us)" %
          (per_gdb * 1e6, n))
    print("stepi raw vCont;s:        %8.1f us per round trip (%d; no gdb)" % (per_raw * 1e6, n))


def bench_x512():
    srv, port = server("-ex", "boot")
    try:
        root = re.search(r"VTTBR_EL2 = 0x([0-9a-f]+)", subprocess.run(
            [HYPSCOPE, "--batch", "-ex", "boot", "-ex", "sysreg VTTBR_EL2"], env=ENV,
            capture_output=True, text=True).stdout).group(1)
        root = int(root, 16) & 0x0000fffffffff000
        reps = 50
        cmd = "python [gdb.execute('x/512gx %#x', to_string=True) for _ in range(%d)]" % (root,
                                                                                        reps)
        out = gdb(port, ["monitor phys on"] + timed(cmd, "X512"))
        per = seconds(out, "X512") / reps
        # gdb's memory cache in 4 KiB lines: one m packet per page (flushed at every stop).
        out = gdb(port, ["monitor phys on", "mem 0x40000000 0x80000000 rw cache",
                         "set dcache line-size 4096", "set dcache size 4096"] +
                  timed(cmd, "X512C"))
        per_cached = seconds(out, "X512C") / reps
        # The server's share: the 512 m packets of 8 bytes gdb sends, from our own client.
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = [b""]
        rsp(s, b"QStartNoAckMode", buf)
        rsp(s, b"Qqemu.PhyMemMode:1", buf)
        t0 = time.perf_counter()
        for _ in range(reps):
            for i in range(512):
                rsp(s, b"m%x,8" % (root + 8 * i), buf)
        per_raw = (time.perf_counter() - t0) / reps
        rsp(s, b"D", buf)
    finally:
        srv.kill()
    # gdb's own floor: the same command on the image's bytes with no target at all.
    local = subprocess.run([GDB, "-nx", "-batch", "-ex", "file " + HYP_ELF, "-ex",
                            "python import time", "-ex", "python t0 = time.perf_counter()",
                            "-ex", cmd.replace("%#x" % root, "handle_host_trap"), "-ex",
                            "python print('LOCAL=%f' % (time.perf_counter() - t0))"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    per_local = seconds(local, "LOCAL") / reps
    print("x/512gx of a table page:  %8.2f ms (host stage-2 root %#x, physical; target <= 5 ms)"
          % (per * 1e3, root))
    print("  with gdb's memory cache: %7.2f ms (mem ... cache, dcache line-size 4096)" %
          (per_cached * 1e3))
    print("  512 raw m packets:       %7.2f ms (our Python client, no gdb: a bound on the server)" %
          (per_raw * 1e3))
    print("  gdb alone, no target:    %7.2f ms (x/512gx of the image file: gdb's floor)" %
          (per_local * 1e3))


def repl_continue():
    """The REPL: `break do_prot_finalize` then `boot`, timed from the command to the stop."""
    p = subprocess.Popen([HYPSCOPE, "--ram", "2G"], env=ENV, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=0)
    p.stdin.write("break do_prot_finalize\necho READY\n")
    while "READY" not in p.stdout.readline():
        pass
    t0 = time.perf_counter()
    p.stdin.write("boot\n")
    while "Breakpoint 1, cpu0" not in p.stdout.readline():
        pass
    dt = time.perf_counter() - t0
    p.stdin.write("quit\n")
    p.communicate(timeout=60)
    return dt


def gdb_continue():
    srv, port = server("--ram", "2G")
    try:
        out = gdb(port, ["break do_prot_finalize", "monitor boot"] + timed("continue", "CONT"))
        if "do_prot_finalize" not in out:
            raise SystemExit("gdb did not stop at do_prot_finalize:\n" + out[-3000:])
        return seconds(out, "CONT")
    finally:
        srv.kill()


def bench_continue():
    icount = re.search(r"instructions executed: (\d+)", subprocess.run(
        [HYPSCOPE, "--ram", "2G", "--batch", "-ex", "break do_prot_finalize", "-ex", "boot",
         "-ex", "info program"], env=ENV, capture_output=True, text=True).stdout).group(1)
    r = min(repl_continue() for _ in range(RUNS))
    g = min(gdb_continue() for _ in range(RUNS))
    print("continue, %s insns away: REPL %.1f ms, gdb %.1f ms (%+.1f %%; best of %d)" %
          (icount, r * 1e3, g * 1e3, (g / r - 1) * 100, RUNS))


def main():
    if not GDB:
        raise SystemExit("gdb-multiarch is not installed (scripts/deps)")
    bench_stepi()
    bench_x512()
    bench_continue()


if __name__ == "__main__":
    main()
