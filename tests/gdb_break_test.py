#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where `break FUNC` lands, against gdb-multiarch on the same ELF (issue 13).

For every function symbol of the ELF, gdb's `break FUNC` (its prologue analysis:
GCC 12 emits no prologue_end, so gdb skips to where the function's second line
begins, bounded by the function) and hypscope's must give the same address.
Where gdb sets several locations (a function also inlined elsewhere, or local
symbols of one name in several units) hypscope sets one, and it must be the
lowest of gdb's at an ELF symbol's address (the out-of-line copy). `break *ADDR`
must stay at ADDR. Fails, never skips, without gdb-multiarch.
Usage: gdb_break_test.py HYPSCOPE ELF
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdb_harness import report_differences  # noqa: E402


def functions(elf):
    out = subprocess.run(["nm", elf], capture_output=True, text=True).stdout
    names = {}
    for l in out.splitlines():
        f = l.split()
        if len(f) == 3 and f[1] in "tT" and "$" not in f[2]:  # not mapping symbols
            names.setdefault(f[2], set()).add(int(f[0], 16))
    return names


def gdb_locations(gdb, elf, names):
    with tempfile.NamedTemporaryFile("w", suffix=".gdb") as f:
        f.write("".join("break %s\n" % n for n in names) + "info breakpoints\n")
        f.flush()
        out = subprocess.run([gdb, "-batch", "-nx", "-ex", "set width 0", elf, "-x", f.name],
                             capture_output=True, text=True, timeout=600).stdout
    locs = {}
    for l in out.splitlines():
        m = re.match(r"(\d+)(?:\.\d+)?\s+(?:breakpoint\s+keep\s+)?y\s+(0x[0-9a-f]+)", l)
        if m:
            locs.setdefault(int(m.group(1)), []).append(int(m.group(2), 16))
    return {names[k - 1]: v for k, v in locs.items()}


def hs_locations(hyps, elf, names, extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".hs") as f:
        f.write("".join("echo @@\nbreak %s\n" % n for n in list(names) + list(extra)))
        f.flush()
        out = subprocess.run([hyps, "--hyp", elf, "--batch", "-ex", "source " + f.name],
                             capture_output=True, text=True, timeout=600).stdout
    got = []
    for chunk in out.split("@@\n")[1:]:
        m = re.search(r"Breakpoint \d+ at (0x[0-9a-f]+)", chunk)
        got.append(int(m.group(1), 16) if m else None)
    return got


def main():
    hyps, elf = sys.argv[1], sys.argv[2]
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        sys.exit("FAIL: gdb-multiarch is not installed (scripts/deps installs it)")
    syms = functions(elf)
    names = sorted(syms)
    want = gdb_locations(gdb, elf, names)
    sample = sorted(a for n in names[::9] for a in syms[n])
    got = hs_locations(hyps, elf, names, ["*%#x" % (a + 4) for a in sample])
    bad, single, multi = [], 0, 0
    for n, g in zip(names, got):
        w = want.get(n)
        if not w:
            bad.append("%s: gdb set no breakpoint" % n)
        elif len(w) == 1:
            single += 1
            if g != w[0]:
                bad.append("%s: gdb %#x, hypscope %s" % (n, w[0], g and hex(g)))
        else:
            multi += 1
            first = min(a for a in w if a in syms[n])
            if g != first:
                bad.append("%s: gdb's locations %s, hypscope %s" % (n, [hex(a) for a in w],
                                                                    g and hex(g)))
    for a, g in zip(sample, got[len(names):]):
        if g != a + 4:
            bad.append("break *%#x: hypscope %s" % (a + 4, g and hex(g)))
    print("break FUNC: %d functions at gdb's one location, %d with several (hypscope at the "
          "out-of-line one), %d break *ADDR exact" % (single, multi, len(sample)))
    report_differences(bad, "break FUNC lands where gdb-multiarch's does")


if __name__ == "__main__":
    main()
