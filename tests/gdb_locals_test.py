#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Arguments and locals against an oracle nobody here wrote (issue 13).

gdb-multiarch attaches to `hypscope gdbserver` with the same hyp.elf. At each
stop below (breakpoints in __pkvm_init, handle_host_hcall,
host_stage2_set_page_state, points reached by stepi, and every frame of the
stack via `frame N`), gdb's `info args`/`info locals` and hypscope's (`monitor
frame N`, `monitor info args`, ...) are compared name by name:
- a variable both show with a value: the values must be the same;
- hypscope must never show a value where gdb says <optimized out>;
- hypscope may say <optimized out> where gdb has a value (gdb resolves
  DW_OP_entry_value from the caller's call sites, hypscope does not): counted
  and reported, not a failure.
Fails, never skips, without gdb.
usage: gdb_locals_test.py HYPSCOPE HYP_ELF
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402
from gdb_harness import GDB, report_differences  # noqa: E402
from gdb_remote_test import start_server  # noqa: E402  (the same server, port 0)

HYPSCOPE, HYP_ELF = sys.argv[1], sys.argv[2]
OPT = "<optimized out>"

# (gdb commands that lead to the stop, `stepi 5` samples after it, frames to look at)
STOPS = [
    (["break __pkvm_init", "monitor boot", "continue"], 3, 2),
    (["delete", "break handle_host_hcall", "continue"], 0, 1),
    (["delete", "continue"], 0, 0),
    (["break host_stage2_set_page_state", "monitor hvc host_share_hyp 0x48000", "continue"], 8, 3),
    (["delete", "break handle_host_hcall", "monitor hvc host_share_hyp 0x48001", "continue"], 6, 2),
]


def variables(block):
    """(name, value) in the order shown."""
    out = []
    for line in block.splitlines():
        m = re.match(r"^([A-Za-z_]\w*) = (.*)$", line.strip())
        if m:
            out.append((m.group(1), m.group(2).strip()))
    return out


def main():
    if not GDB:
        sys.exit("FAIL: gdb-multiarch is not installed (scripts/deps installs it)")
    server, port = start_server()
    cmds = ["set width 0"]
    k = 0
    for lead, samples, nframes in STOPS:
        cmds += lead
        for s in range(samples + 1):
            if s:
                cmds.append("stepi 5")
            for f in range(nframes + 1):
                cmds += ["frame %d" % f, "echo @@GDB %d.%d\\n" % (k, f), "info args", "info locals",
                         "echo @@HS\\n", "monitor frame %d" % f, "monitor info args",
                         "monitor info locals", "echo @@END\\n"]
            k += 1
    cmds.append("kill")
    try:
        out = H.gdb(HYP_ELF, port, cmds, timeout=int(os.environ.get("GDB_LOCALS_TIMEOUT", "300")))
    finally:
        server.kill()
    if os.environ.get("GDB_LOCALS_DUMP"):
        print(out)
    blocks = re.findall(r"@@GDB ([\d.]+)\n(.*?)@@HS\n(.*?)@@END", out, re.S)
    if not blocks:
        print(out[-3000:])
        sys.exit("FAIL: no stop reached")
    bad, same, both_opt, hs_opt, frames_seen, names_differ = [], 0, 0, 0, 0, []
    for n, g, h in blocks:
        want, got = variables(g), variables(h)
        if not want:
            continue
        frames_seen += 1
        if [w[0] for w in want] != [x[0] for x in got]:
            # gdb lists the variables of blocks hypscope does not (see the docs)
            names_differ.append(n)
            got_by = {}
            for name, x in got:
                got_by.setdefault(name, x)
            # gdb appends the variables it inherits from the abstract instance
            # (inlined and nested-block ones again, optimized out): the first
            # of each name is the frame's own.
            seen, pairs = set(), []
            for name, w in want:
                if name not in seen:
                    seen.add(name)
                    pairs.append((name, w, got_by.get(name)))
        else:
            pairs = [(w[0], w[1], x[1]) for w, x in zip(want, got)]
        for name, w, x in pairs:
            if x is None:
                continue
            if w == OPT and x == OPT:
                both_opt += 1
            elif x == OPT:
                hs_opt += 1
            elif w == OPT:
                bad.append("stop %s: %s: gdb <optimized out>, hypscope %s" % (n, name, x))
            elif w != x:
                bad.append("stop %s: %s: gdb %s, hypscope %s" % (n, name, w, x))
            else:
                same += 1
    print("%d frames with variables: %d values agree, %d optimized out in both, "
          "%d only hypscope has optimized out (gdb: entry values)" %
          (frames_seen, same, both_opt, hs_opt))
    print("%d frames list other variables than gdb's: %s" % (len(names_differ), " ".join(names_differ)))
    if not same:
        bad.append("no value compared")
    report_differences(bad, "hypscope's args and locals agree with gdb-multiarch's")


if __name__ == "__main__":
    main()
