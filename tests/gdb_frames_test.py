#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Backtraces against an oracle nobody here wrote (issue 13): gdb-multiarch.

gdb attaches to `hypscope gdbserver` with the same hyp.elf, and at every stop
below runs its own `bt` (its unwinder on the image's CFI, inlined functions
and tail-call frames from the DWARF) and then `monitor bt` (hypscope's). Both
must give the same frames: function, and PC and file:line wherever gdb shows
them. The stops: function entries (the caller is still in x30), points inside
prologues and bodies reached by stepi, an assembly function without CFI, the
boot, a share hypercall and a host fault. Fails, never skips, without gdb.
usage: gdb_frames_test.py HYPSCOPE HYP_ELF
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdb_remote_test import start_server  # noqa: E402  (the same server, port 0)

HYPSCOPE, HYP_ELF = sys.argv[1], sys.argv[2]
GDB = shutil.which("gdb-multiarch")
GDB_FRAME = re.compile(r"#(\d+)\s+(?:0x([0-9a-f]+) in )?(\S+) \(.*?\)(?: at (\S+):(\d+))?")
HS_FRAME = re.compile(r"\*?#(\d+)\s+0x([0-9a-f]+) in (\S+?)(?:\+0x[0-9a-f]+)?(?: at (\S+):(\d+))?(?: \[|$)")

# (gdb commands that lead to the stop, number of `stepi 3` samples after it)
STOPS = [
    (["break __pkvm_init_switch_pgd", "monitor boot", "continue"], 2),
    (["delete", "break __pkvm_init_finalise", "continue"], 2),
    (["delete", "break hyp_printf", "continue"], 3),
    (["delete", "continue"], 0),
    (["break host_stage2_set_page_state", "monitor hvc host_share_hyp 0x48000", "continue"], 8),
    (["delete", "break handle_host_trap", "monitor hvc host_share_hyp 0x48001", "continue"], 12),
    (["delete", "continue", "break handle_host_mem_abort", "monitor host read 0x50000000",
      "continue"], 10),
]


def frames(block, pattern):
    out = []
    for line in block.splitlines():
        m = pattern.match(line.strip())
        if m:
            n, pc, fn, f, ln = m.groups()
            out.append((int(n), int(pc, 16) if pc else None, fn,
                        os.path.basename(f) if f else None, int(ln) if ln else None))
    return out


def main():
    if not GDB:
        sys.exit("FAIL: gdb-multiarch is not installed (scripts/deps installs it)")
    server, port = start_server()
    cmds = ["set pagination off", "set confirm off", "set width 0",
            "set print frame-arguments none", "file " + HYP_ELF,
            "target remote 127.0.0.1:%d" % port]
    k = 0
    for lead, samples in STOPS:
        cmds += lead
        for s in range(samples + 1):
            if s:
                cmds.append("stepi 3")
            cmds += ["echo @@GDB %d\\n" % k, "bt", "echo @@HS\\n", "monitor bt",
                     "echo @@END\\n"]
            k += 1
    cmds.append("kill")
    argv = [GDB, "-nx", "-batch"]
    for c in cmds:
        argv += ["-ex", c]
    gdb = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = gdb.communicate(timeout=int(os.environ.get("GDB_FRAMES_TIMEOUT", "300")))
    except subprocess.TimeoutExpired:
        gdb.kill()
        out = gdb.communicate()[0] + "\n[gdb timed out]"
    finally:
        server.kill()
    blocks = re.findall(r"@@GDB (\d+)\n(.*?)@@HS\n(.*?)@@END", out, re.S)
    if len(blocks) != k:
        print(out[-3000:])
        sys.exit("FAIL: %d of %d stops reached" % (len(blocks), k))
    bad = 0
    compared = 0
    for n, g, h in blocks:
        want, got = frames(g, GDB_FRAME), frames(h, HS_FRAME)
        ok = len(want) == len(got) and len(want) > 0
        for w, x in zip(want, got):
            ok = ok and w[2] == x[2]  # function
            if w[1] is not None:
                ok = ok and w[1] == x[1]  # PC, where gdb shows it
            if w[4] is not None:
                ok = ok and (w[3], w[4]) == (x[3], x[4])  # file:line
        compared += len(want)
        if not ok:
            bad += 1
            print("stop %s differs:\n--- gdb\n%s--- hypscope\n%s" % (n, g, h))
    print("%d stops, %d frames compared, %d stops differ" % (len(blocks), compared, bad))
    if bad:
        sys.exit("FAIL: hypscope's bt and gdb's disagree")
    print("ok: hypscope's frames are gdb's")


if __name__ == "__main__":
    main()
