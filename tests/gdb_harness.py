# SPDX-License-Identifier: MIT
"""What the gdb front-end tests share: a `hypscope gdbserver` on a free loopback
port, gdb-multiarch in batch mode against it, a raw remote-protocol client, the
REPL on an identical machine, and check() that records failures.

Every gdb run and the server are bounded in time. gdb-multiarch missing is a
failure, never a skip (scripts/deps installs it).
"""
import os
import re
import shutil
import signal
import subprocess
import time

GDB = shutil.which("gdb-multiarch")
ENV = dict(os.environ, NO_COLOR="1")
failures = []


def check(cond, what, out=""):
    if cond:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        failures.append(what)
        if out:
            print("---- output ----\n" + out[-4000:] + "\n----------------")


def unrle(body):
    """A packet body with the server's escapes (}) and run-length encoding (X*N) undone."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == ord("}") and i + 1 < len(body):
            out.append(body[i + 1] ^ 0x20)
            i += 2
        elif c == ord("*") and out and i + 1 < len(body):
            out += bytes([out[-1]]) * (body[i + 1] - 29)
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def start_server(hypscope, *args):
    p = subprocess.Popen([hypscope, *args, "gdbserver", "127.0.0.1:0"], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    line = ""
    while time.time() < deadline:
        line = p.stderr.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            return p, int(m.group(1))
        if not line and p.poll() is not None:
            break
    p.kill()
    raise SystemExit("hypscope gdbserver did not start: " + line)


def stop_server(p, what="server"):
    """End the server (if it still runs) and check that it reported no sanitizer error."""
    if p.poll() is None:
        p.kill()
    p.wait(timeout=30)
    err = p.stderr.read()
    check(not re.search(r"Sanitizer|runtime error:", err), "%s exits clean" % what, err)


def gdb(image, port, cmds, timeout=120, interrupt_after=()):
    """gdb-multiarch in batch mode; port is a TCP port or a `target remote` argument.
    interrupt_after: seconds (from the start) at which gdb gets a SIGINT (Ctrl-C)."""
    target = "127.0.0.1:%d" % port if isinstance(port, int) else port
    argv = [GDB, "-nx", "-batch", "-ex", "set pagination off", "-ex", "set confirm off",
            "-ex", "file " + image, "-ex", "target remote " + target]
    for c in cmds:
        argv += ["-ex", c]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if isinstance(interrupt_after, (int, float)):
        interrupt_after = (interrupt_after,)
    t0 = time.time()
    for at in interrupt_after:
        time.sleep(max(0, t0 + at - time.time()))
        p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        out += "\n[gdb timed out]"
    return out


def repl(hypscope, *args):
    """The REPL in batch mode: args are options, then -ex commands."""
    return subprocess.run([hypscope, "--batch", *args], capture_output=True, text=True,
                          timeout=300, env=ENV).stdout


def frame(body):
    return b"$" + body + b"#%02x" % (sum(body) % 256)


class Raw:
    """A remote-protocol client that reads replies, skipping 'O' console output."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.output = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(rb"\$([^#]*)#..", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                body = m.group(1)
                if body.startswith(b"O") and body != b"OK":
                    self.output += bytes.fromhex(unrle(body[1:]).decode())
                    continue
                return body
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        return None

    def packet(self, body, timeout=10):
        self.send(frame(body))
        return self.reply(timeout)


def raw_packet(sock, body):
    """One request and its reply on a fresh reader (acks are skipped by the regex)."""
    return Raw(sock).packet(body)


def finish():
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all gdb checks passed")
    return 0


def report_differences(bad, ok):
    """Print the first differences with gdb and exit failing if any, else print ok."""
    for b in bad[:30]:
        print("differs:", b)
    if bad:
        raise SystemExit("FAIL: %d differences with gdb-multiarch" % len(bad))
    print("ok: " + ok)
