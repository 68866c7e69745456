#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The line of an address, against an oracle nobody here wrote (issue 13).

For every instruction of the hypervisor's text (every STRIDE-th one), gdb-multiarch's
`info line *ADDR` on the same hyp.elf and hypscope's must name the same file and
line, and for the functions stepped in the tests (__pkvm_init, handle_host_trap,
host_hyp_share_transition) every instruction must agree. gdb-multiarch is a
dependency (scripts/deps installs it): this test fails, not skips, without it.
Usage: gdb_lines_test.py PATH/TO/hypscope PATH/TO/hyp.elf [STRIDE]
"""
import re
import shutil
import subprocess
import sys

# gdb drops some rows GCC emits for one line with discriminators; hypscope keeps
# them (see emu/machine/elf_image.c). What is left must stay this rare.
MAX_MISMATCH_FRACTION = 0.005
FUNCTIONS = ("__pkvm_init", "handle_host_trap", "host_hyp_share_transition")


def lines(out):
    r = []
    for l in out.splitlines():
        m = re.match(r'Line (\d+) of "([^"]+)"', l)
        if m:
            r.append((int(m.group(1)), m.group(2).split("/")[-1]))
        elif l.startswith("No line number"):
            r.append(None)
    return r


def info_lines(cmd, addrs):
    args = []
    for a in addrs:
        args += ["-ex", "info line *%#x" % a]
    out = subprocess.run(cmd + args, capture_output=True, text=True, timeout=600).stdout
    got = lines(out)
    if len(got) != len(addrs):
        print("FAIL: %s answered %d of %d queries" % (cmd[0], len(got), len(addrs)))
        sys.exit(1)
    return got


def main():
    hyps, elf = sys.argv[1], sys.argv[2]
    stride = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        print("FAIL: gdb-multiarch is not installed (scripts/deps installs it)")
        sys.exit(1)
    syms = {}
    for l in subprocess.run(["nm", "-S", elf], capture_output=True, text=True).stdout.splitlines():
        f = l.split()
        if len(f) == 4:
            syms[f[3]] = (int(f[0], 16), int(f[1], 16))
        elif len(f) == 3:
            syms.setdefault(f[2], (int(f[0], 16), 0))
    lo, hi = syms["__hyp_text_start"][0], syms["__hyp_text_end"][0]
    addrs = set(range(lo, hi, 4 * stride))
    for fn in FUNCTIONS:
        a, size = syms[fn]
        addrs |= set(range(a, a + size, 4))
    addrs = sorted(addrs)
    want = info_lines([gdb, "-batch", "-nx", elf], addrs)
    got = info_lines([hyps, "--batch"], addrs)
    bad = [(a, w, g) for a, w, g in zip(addrs, want, got) if w != g]
    for a, w, g in bad[:20]:
        print("differs at %#x: gdb %s, hypscope %s" % (a, w, g))
    in_fn = [b for b in bad if any(syms[f][0] <= b[0] < syms[f][0] + syms[f][1] for f in FUNCTIONS)]
    print("%d addresses, %d differ (%d in %s)" % (len(addrs), len(bad), len(in_fn), ", ".join(FUNCTIONS)))
    if in_fn or len(bad) > MAX_MISMATCH_FRACTION * len(addrs):
        print("FAIL: hypscope and gdb disagree on the line of an address")
        sys.exit(1)
    print("ok: the lines of %d addresses agree with gdb-multiarch" % (len(addrs) - len(bad)))


if __name__ == "__main__":
    main()
