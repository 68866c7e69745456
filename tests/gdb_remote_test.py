#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drive the real gdb-multiarch, in batch mode, against `hypscope gdbserver`
on a loopback port the server picks free (port 0, read from its stderr).

Fails (never skips) when gdb-multiarch is missing. Every gdb run and the
server are bounded in time; the server is killed at the end.

usage: gdb_remote_test.py HYPSCOPE HYP_ELF
"""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402
from gdb_harness import GDB, check, raw_packet  # noqa: E402

HYPSCOPE, HYP_ELF = sys.argv[1], sys.argv[2]


def start_server(*args):
    return H.start_server(HYPSCOPE, *args)


def gdb(port, cmds, **kw):
    return H.gdb(HYP_ELF, port, cmds, **kw)


def repl(*cmds):
    argv = ["--cpus", "2"]
    for c in cmds:
        argv += ["-ex", c]
    return H.repl(HYPSCOPE, *argv)


def main():
    if not GDB:
        print("FAIL gdb-multiarch is not installed (scripts/deps installs it)")
        return 1
    # The PTE the share will change, from the REPL on an identical machine.
    walk = repl("boot", "pt walk --table host 0x48000000")
    descs = re.findall(r"desc @(0x[0-9a-f]+)", walk)
    check(bool(descs), "REPL walks the host stage 2 for 0x48000000", walk)
    pte = descs[-1] if descs else "0"
    # Where handle_host_trap's code is in physical memory.
    code_walk = repl("boot", "pt walk handle_host_trap")
    code_pa = re.search(r"=> PA (0x[0-9a-f]+)", code_walk)
    check(code_pa is not None, "REPL walks handle_host_trap", code_walk)
    code_pa = int(code_pa.group(1), 16) if code_pa else 0

    srv, port = start_server("--cpus", "2", "-ex", "boot")
    try:
        # One client at a time: a second is told so.
        a = socket.create_connection(("127.0.0.1", port), timeout=10)
        a.sendall(b"+")
        check(raw_packet(a, b"qSupported").startswith(b"PacketSize="), "first client served")
        b = socket.create_connection(("127.0.0.1", port), timeout=10)
        b.sendall(b"+")
        r = raw_packet(b, b"qSupported") or b""
        check(r.startswith(b"E.") and b"another gdb" in r, "second client refused: %r" % r)
        b.close()
        # Malformed, unknown and out-of-memory requests get error answers, and the server lives.
        check(raw_packet(a, b"m1,") == b"E01", "malformed m answered E01")
        check(raw_packet(a, b"Zzz") == b"E01", "malformed Z answered E01")
        check(raw_packet(a, b"vMustReplyEmpty") == b"", "unknown packet answered empty")
        check(raw_packet(a, b"m10,8") == b"E14", "memory outside RAM answered E14")
        a.sendall(b"$g#00")  # bad checksum: NAK
        check(a.recv(1) == b"-", "bad checksum NAKed")
        check(raw_packet(a, b"D") == b"OK", "raw client detaches")
        a.close()

        out = gdb(port, [
            "info registers",
            "p/x $TTBR0_EL2",
            "monitor sysreg TTBR0_EL2",
            "info threads",
            "x/4gx 0x40000000",
            "monitor x/4xg pa:0x40000000",
            "break handle_host_trap",
            "monitor hvc nop",
            "continue",
            "bt",
            "eval \"echo SP=%#lx\\n\", $sp",
            "x/4gx $sp",
            "eval \"monitor x/4xg va:%#lx\", $sp",
            "x/2gx handle_host_trap",
            "monitor phys on",
            "x/2gx %#x" % code_pa,
            "monitor phys off",
            "set var $x1 = 0x1234",
            "p/x $x1",
            "set var $TPIDR_EL1 = 0x5a5a",
            "monitor sysreg TPIDR_EL1",
            "monitor info registers",
            "finish",
            "delete",
            "continue",
            "monitor check",
            "monitor phys on",
            "watch *(unsigned long *)%s" % pte,
            "monitor hvc host_share_hyp 0x48000",
            "continue",
            "monitor phys off",
            "delete",
            "continue",
            "detach",
        ])
        check("x0 " in out and "pc " in out and "cpsr" in out, "info registers", out)
        m = re.search(r"\$1 = (0x[0-9a-f]+)", out)
        check(m and re.search(r"TTBR0_EL2 = 0x0*%s " % m.group(1)[2:], out), "p/x $TTBR0_EL2 matches the REPL", out)
        check('"cpu0 EL1"' in out and '"cpu1 EL1"' in out, "info threads: one thread per CPU",
              out)
        el1 = re.findall(r"^0x40000000:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", out, re.M)
        check(len(el1) >= 2 and el1[0] == el1[1] and el1[0][0] != "0x0000000000000000",
              "x/4gx at EL1 (stage 1 off, stage 2) equals the REPL's physical read", out)
        check("hit Breakpoint 1, handle_host_trap" in out, "continue stops at handle_host_trap",
              out)
        check(re.search(r"#1 .* in __host_trap", out) and "#2" not in out, "bt ends at __host_trap",
              out)
        sp = re.search(r"SP=(0x[0-9a-f]+)", out)
        check(sp is not None, "eval prints sp", out)
        if sp:
            gdb_words = re.findall(r"%s:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)" % sp.group(1), out)
            check(len(gdb_words) >= 1, "x/4gx $sp in the EL2 regime", out)
            rep = re.search(r"%s:?\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)" %
                            ("0x%016x" % int(sp.group(1), 16)), out)
            if gdb_words and rep:
                check(int(gdb_words[0][0], 16) == int(rep.group(1), 16) and
                      int(gdb_words[0][1], 16) == int(rep.group(2), 16),
                      "x/4gx $sp equals the REPL's x va:", out)
        code = re.search(r"<handle_host_trap>:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", out)
        phys = re.search(r"%#x:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)" % code_pa, out)
        check(code and phys and code.groups() == phys.groups(),
              "x/2gx physical equals the same bytes through EL2 stage 1", out)
        check("$2 = 0x1234" in out, "set var $x1", out)
        check(re.search(r"TPIDR_EL1 = 0x0*5a5a ", out), "set var a system register", out)
        check(re.search(r"x1\s+(=\s*)?0x0*1234", out) is not None,
              "the REPL sees the register gdb wrote", out)
        check(re.search(r"__host_trap \(\) at .*host_entry\.S", out), "finish", out)
        check("0 violations" in out, "monitor check", out)
        check(re.search(r"Hardware watchpoint 2: \*\(unsigned long \*\)", out) and
              "Old value" in out and "New value" in out, "watch on a PTE stops with the new value",
              out)
        check("[Inferior 1 (Remote target) detached]" in out, "detach", out)

        # Re-attach; Ctrl-C while continue waits for an operation.
        # Nothing is pending or queued: continue waits for an operation until Ctrl-C.
        out = gdb(port, ["info threads", "continue", "info threads", "detach"],
                  interrupt_after=4)
        check('"cpu0 EL1"' in out, "re-attach after detach", out)
        check("SIGINT" in out, "Ctrl-C stops a continue", out)
        check("detached" in out, "detach again", out)
        check(srv.poll() is None, "server still running after two sessions")
    finally:
        H.stop_server(srv)

    # gdb starts hypscope on a pipe; the boot flow under gdb, step by step.
    out = gdb("| %s --stdio" % HYPSCOPE, [
        "monitor boot --until pkvm-init",
        "continue",
        "monitor info program",
        "continue",
        "monitor check",
        "kill",
    ])
    check("boot stopped before step pkvm-init" in out, "--stdio: monitor boot --until pkvm-init",
          out)
    check("boot complete" in out, "--stdio: continue resumes the boot flow", out)
    check("0 violations" in out, "--stdio: monitor check after the boot", out)
    # Its stderr is gdb's: sanitizer reports (ASan build) would show here.
    check(not re.search(r"Sanitizer|runtime error:", out), "--stdio: server exits clean", out)
    return H.finish()


if __name__ == "__main__":
    sys.exit(main())
