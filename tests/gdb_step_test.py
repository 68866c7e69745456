#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Source stepping against gdb-multiarch, an oracle nobody here wrote.

gdb does its own stepping (vCont;s, Z0) against `hypscope gdbserver`; the REPL
does its own (cli/cmd_step.c). From each start point (a breakpoint on a
hypercall handler or a helper, reached by a hypercall), both run the same
sequence of step, next and finish; after each command both report frame 0 as
they present it (function, file basename, line) and the PC. Any difference
fails: on an optimised hypervisor this is about inlined functions, which gdb
presents as frames of their own (at an inlined block's first instruction gdb
shows the caller at the call site first). Fails, never skips, without gdb.

usage: gdb_step_test.py HYPSCOPE ELF   (hyp.elf, or a Linux linux-*.elf)
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402

HYPSCOPE, ELF = sys.argv[1], sys.argv[2]
LINUX = "linux" in os.path.basename(ELF)
MARK = "@@step@@"

S, N, F = "step", "next", "finish"
# (breakpoint, hypercall that reaches it, commands)
if LINUX:
    STARTS = [
        ("__pkvm_host_share_hyp", "__pkvm_host_share_hyp 0x48000",
         [N, N, S, N, N, F, N, N, N]),
        ("__pkvm_host_share_hyp", "__pkvm_host_share_hyp 0x48000",
         [S, S, S, S, S, S, S, S, S, S, S, S]),
        ("__pkvm_host_unshare_hyp", "__pkvm_host_unshare_hyp 0x48000",
         [N, N, N, N, S, S, S, F, N, N]),
        ("handle___pkvm_host_share_hyp", "__pkvm_host_share_hyp 0x48000",
         [N, N, S, S, N, S, N, N]),
        ("check_range_allowed_memory", "__pkvm_host_share_hyp 0x48000",
         [N, S, N, S, S, N, F, N, N]),
    ]
else:
    STARTS = [
        ("host_stage2_set_page_state", "host_share_hyp 0x48000",
         [N, N, S, S, N, F, N, N]),
        ("handle_host_trap", "host_share_hyp 0x48000",
         [N, S, N, N, S, S, S, N, F]),
        ("__pkvm_host_share_hyp", "host_share_hyp 0x48000",
         [S, S, S, S, S, S, S, S, N, N]),
    ]

GDB_F0 = re.compile(r"^#0\s+(?:0x([0-9a-f]+) in )?(\S+) \(.*?\)(?: at (\S+):(\d+))?", re.M)
HS_F0 = re.compile(r"^\*?#0\s+0x([0-9a-f]+) in (\S+?)(?:\+0x[0-9a-f]+)?(?: at (\S+):(\d+))?"
                   r"(?: \[|$)", re.M)
PC = re.compile(r"^\$\d+ = (0x[0-9a-f]+)", re.M)


def parse(block, f0):
    """(function, file, line, pc) from one command's report, or None."""
    m = f0.search(block)
    p = PC.search(block)
    if not m or not p:
        return None
    _, fn, f, ln = m.groups()
    f = os.path.basename(f) if f else None
    # Linux's ELF symbols carry the __kvm_nvhe_ prefix its DWARF names have not.
    fn = fn[len("__kvm_nvhe_"):] if fn.startswith("__kvm_nvhe_") else fn
    # Assembly has no DWARF function: gdb and hypscope name it by different ELF
    # symbols (gdb the enclosing global one, hypscope the nearest label), which is
    # not what stepping is about; its file, line and PC still have to agree.
    if f and f.endswith(".S"):
        fn = "(asm)"
    return (fn, f, int(ln) if ln else None, p.group(1))


def gdb_run(bp, hvc, cmds):
    srv, port = H.start_server(HYPSCOPE, "--hyp", ELF, "-ex", "boot")
    try:
        seq = ["set width 0", "set print frame-arguments none", "set print address on",
               "break " + bp, "monitor hvc " + hvc, "continue", "delete"]
        for c in ["frame"] + cmds:
            if c != "frame":
                seq.append(c)
            seq += ["echo " + MARK + "\\n", "frame", "p/x $pc"]
        seq.append("detach")
        out = H.gdb(ELF, port, seq, timeout=300)
    finally:
        H.stop_server(srv)
    return [parse(b, GDB_F0) for b in out.split(MARK)[1:]], out


def repl_run(bp, hvc, cmds):
    args = ["-q", "--hyp", ELF, "-ex", "boot", "-ex", "break " + bp, "-ex", "hvc " + hvc,
            "-ex", "delete"]
    for c in ["frame"] + cmds:
        if c != "frame":
            args += ["-ex", c]
        args += ["-ex", "echo " + MARK, "-ex", "bt 1", "-ex", "p/x $pc"]
    out = H.repl(HYPSCOPE, *args)
    return [parse(b, HS_F0) for b in out.split(MARK)[1:]], out


def show(r):
    if not r:
        return "(no frame)"
    fn, f, ln, pc = r
    return "%s %s:%s %s" % (fn, f, ln, pc)


def main():
    if not H.GDB:
        print("FAIL gdb-multiarch is not installed (scripts/deps installs it)")
        return 1
    points = agree = 0
    for bp, hvc, cmds in STARTS:
        g, gout = gdb_run(bp, hvc, cmds)
        r, rout = repl_run(bp, hvc, cmds)
        print("== break %s, hvc %s (%s)" % (bp, hvc, os.path.basename(ELF)))
        print("   %-8s %-52s %s" % ("command", "gdb-multiarch", "hypscope"))
        labels = ["(start)"] + cmds
        for i, lab in enumerate(labels):
            gi = g[i] if i < len(g) else None
            ri = r[i] if i < len(r) else None
            same = gi is not None and gi == ri
            points += 1
            agree += same
            print("%s %-8s %-52s %s" % ("  " if same else "!!", lab, show(gi),
                                        "=" if same else show(ri)))
            if not same:
                H.failures.append("break %s: %s #%d" % (bp, lab, i))
        if len(g) != len(labels):
            print("---- gdb output ----\n" + gout[-3000:])
        if len(r) != len(labels):
            print("---- hypscope output ----\n" + rout[-3000:])
    print("%d of %d points agree" % (agree, points))
    return H.finish()


if __name__ == "__main__":
    sys.exit(main())
