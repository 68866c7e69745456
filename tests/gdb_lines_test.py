#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The line table against an oracle nobody here wrote (issue 13): gdb-multiarch.

On the same ELF, hypscope and `gdb-multiarch -batch` must give
1. the same line tables: `maint info line-table` (gdb's per-unit, per-file
   tables with their END markers and statement flags), every row of every table;
2. the same `info line *ADDR` (file, line, start and end of the row) for every
   instruction of every executable section;
3. the same `info line FUNC` for every function symbol;
4. the same `info line FILE:LINE` for sampled lines of each unit's own file.
Addresses: gdb prints link addresses, hypscope the HYP VA the CPU runs at; one
constant offset must map every hypscope address to gdb's. No tolerance: any
difference fails. Fails, never skips, without gdb-multiarch.
Usage: gdb_lines_test.py HYPSCOPE ELF   (hyp.elf, or build/linux/linux-N.elf)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gdb_harness import report_differences  # noqa: E402

LINE = re.compile(r'Line (\d+) of "([^"]+)" (?:starts at address (0x[0-9a-f]+)(?: <[^>]*>)? and ends at (0x[0-9a-f]+)'
                  r'|is at address (0x[0-9a-f]+).* but contains no code)')
NOLINE = re.compile(r"No line number information available for address (0x[0-9a-f]+)"
                    r"|Line number \d+ is out of range")


def run_script(cmd, lines):
    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        out = subprocess.run(cmd + [path], capture_output=True, text=True, timeout=900)
    finally:
        os.unlink(path)
    return out.stdout + out.stderr


def answers(text):
    """One list of answers per query: the text between the @@ markers."""
    chunks = text.split("@@\n")[1:]
    return [tuple(answers1(c)) for c in chunks]


def answers1(text):
    out = []
    for l in text.splitlines():
        m = LINE.search(l)
        if m:
            line, f, s, e, noc = m.groups()
            out.append(("line", int(line), os.path.normpath(f), int(s or noc, 16),
                        int(e, 16) if e else None))
        elif NOLINE.search(l):
            out.append(("none",))
    return out


def parse_tables(text):
    tabs, unit, key = {}, None, None
    for l in text.splitlines():
        m = re.match(r"compunit_symtab: (\S+)", l)
        if m:
            unit = os.path.basename(m.group(1))
            continue
        m = re.match(r"symtab: (\S+)", l)
        if m:
            key = (unit, os.path.normpath(m.group(1)))
            tabs.setdefault(key, [])
            continue
        m = re.match(r"(\d+)\s+(END|\d+)\s+0x([0-9a-f]+) (Y| ) ", l)
        if m and key:
            tabs[key].append((0 if m.group(2) == "END" else int(m.group(2)),
                              int(m.group(3), 16), m.group(4) == "Y"))
    return {k: v for k, v in tabs.items() if v}


def code_ranges(elf):
    out = subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True).stdout
    r = []
    for l in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*X\S*)", l)
        if m and int(m.group(3), 16):
            a = int(m.group(2), 16)
            r.append((a, a + int(m.group(3), 16)))
    return r


def functions(elf):
    out = subprocess.run(["nm", "-S", elf], capture_output=True, text=True).stdout
    fns = {}
    for l in out.splitlines():
        f = l.split()
        if len(f) == 4 and f[2] in "tT" and int(f[1], 16):
            fns.setdefault(int(f[0], 16), f[3])
    return fns


FUNCS = set()


def compare(what, queries, want, got, offset, bad):
    if len(want) != len(queries) or len(got) != len(queries):
        bad.append("%s: gdb answered %d, hypscope %d of %d" % (what, len(want), len(got), len(queries)))
        return 0
    same = 0
    for q, w, g in zip(queries, want, got):
        g = tuple((a[0], a[1], a[2], a[3] - offset, a[4] - offset if a[4] is not None else None)
                  if a[0] == "line" else a for a in g)
        if q in FUNCS:
            # gdb lists a function's locations in its own order, and for an assembly
            # function declared in C also the declaration ("contains no code"):
            # hypscope answers only for code.
            w = tuple(sorted(a for a in w if a[0] != "line" or a[4] is not None))
            g = tuple(sorted(g))
        if w == g:
            same += 1
        else:
            bad.append("%s %s: gdb %s, hypscope %s" % (what, q, w, g))
    return same


def main():
    hyps, elf = sys.argv[1], sys.argv[2]
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        sys.exit("FAIL: gdb-multiarch is not installed (scripts/deps installs it)")
    gdb_cmd = [gdb, "-batch", "-nx", "-ex", "set width 0", "-ex", "set pagination off", elf, "-x"]
    hs_cmd = [hyps, "--hyp", elf, "--batch"]
    bad = []

    # 1. the tables
    gt = parse_tables(run_script(gdb_cmd, ["maint expand-symtabs", "maint info line-table"]))
    ht = parse_tables(subprocess.run(hs_cmd + ["-ex", "maint info line-table"],
                                     capture_output=True, text=True, timeout=600).stdout)
    rows = sum(len(v) for v in gt.values())
    same_tabs = 0
    for k in sorted(set(gt) | set(ht)):
        if gt.get(k) == ht.get(k):
            same_tabs += 1
        else:
            bad.append("table %s/%s: gdb %d rows, hypscope %d" % (k[0], k[1], len(gt.get(k, [])),
                                                                  len(ht.get(k, []))))
    print("tables: %d of %d agree (%d rows)" % (same_tabs, len(set(gt) | set(ht)), rows))

    # 2.-4. info line
    addrs = [a for lo, hi in code_ranges(elf) for a in range(lo, hi, 4)]
    fns = functions(elf)
    fn_names = [fns[a] for a in sorted(fns)]
    FUNCS.update(fn_names)
    file_lines = []
    for (unit, f), tab in sorted(gt.items()):
        if os.path.basename(f) == unit:
            ls = sorted({r[0] for r in tab if r[0]})
            file_lines += ["%s:%d" % (unit, l) for l in ls[::7]]
            if ls:
                file_lines.append("%s:%d" % (unit, ls[-1] + 1000))
    queries = (["*%#x" % a for a in addrs] + fn_names + file_lines)
    want = answers(run_script(gdb_cmd, [x for q in queries for x in ("echo @@\\n", "info line " + q)]))
    with tempfile.NamedTemporaryFile("w", suffix=".hs", delete=False) as f:
        f.write("".join("echo @@\ninfo line %s\n" % q for q in queries))
        path = f.name
    try:
        got = answers(subprocess.run(hs_cmd + ["-ex", "source " + path], capture_output=True, text=True,
                                     timeout=900).stdout)
    finally:
        os.unlink(path)
    # The one offset between hypscope's HYP VAs and the link addresses.
    offset = next((g[0][3] - w[0][3] for w, g in zip(want, got)
                   if w and g and w[0][0] == "line" and g[0][0] == "line"), 0)
    n = len(addrs)
    same = compare("info line", queries, want, got, offset, bad)
    print("info line: %d of %d agree (%d addresses, %d functions, %d FILE:LINE)" %
          (same, len(queries), n, len(fn_names), len(file_lines)))
    report_differences(bad, "hypscope's line tables and info line agree with gdb-multiarch")


if __name__ == "__main__":
    main()
