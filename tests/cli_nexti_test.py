#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nexti as a gdb user meets it (issue 13), against objdump's view of hyp.elf.

At the first BL of __pkvm_init that the boot runs (found by
aarch64-linux-gnu-objdump, not by hypscope): `ni` lands on the next instruction with the call done (the callee's
instructions ran), `si` enters the callee, `ni` over a call whose callee has a
breakpoint stops there, `ni 2` counts (from gdb's `break *ADDR`), and `ni` off a non-call is `si`.
Usage: cli_nexti_test.py PATH/TO/hypscope PATH/TO/hyp.elf
"""
import re
import shutil
import subprocess
import sys


def calls(elf, fn):
    objdump = shutil.which("aarch64-linux-gnu-objdump") or shutil.which("llvm-objdump")
    if not objdump:
        print("FAIL: no aarch64 objdump (gcc-aarch64-linux-gnu's binutils)")
        sys.exit(1)
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", elf], capture_output=True,
                         text=True, check=True).stdout
    start = None
    for line in out.splitlines():
        m = re.match(r"([0-9a-f]+) <(\S+)>:", line)
        if m:
            start = int(m.group(1), 16) if m.group(2) == fn else None
            continue
        m = re.match(r"\s+([0-9a-f]+):\s+bl\s+[0-9a-f]+ <(\S+)>", line)
        if start is not None and m:
            yield int(m.group(1), 16) - start, m.group(2), int(m.group(1), 16)


def run(hyps, *cmds):
    args = [hyps, "-q", "--batch"]
    for c in cmds:
        args += ["-ex", c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    return r.stdout + r.stderr


def expect(out, pattern, what):
    if not re.search(pattern, out, re.S):
        print("FAIL: %s: no /%s/ in:\n%s" % (what, pattern, out))
        sys.exit(1)


def main():
    hyps, elf = sys.argv[1], sys.argv[2]
    # The first BL the boot runs (the ones before it are on error paths).
    for off, callee, addr in calls(elf, "__pkvm_init"):
        at = "__pkvm_init+%#x" % off
        if "Breakpoint 1," in run(hyps, "break " + at, "boot"):
            break
    else:
        print("FAIL: the boot runs no bl of __pkvm_init")
        sys.exit(1)
    nxt = r"=> 0x[0-9a-f]+ __pkvm_init\+%#x " % (off + 4)
    base = ["break " + at, "boot"]
    out = run(hyps, *base, "info program", "ni", "info program")
    expect(out, r"instructions executed: (\d+).*" + nxt, "ni over the call")
    before, after = map(int, re.findall(r"instructions executed: (\d+)", out))
    if after - before < 3:
        print("FAIL: ni ran %d instructions: the call did not run" % (after - before))
        sys.exit(1)
    expect(run(hyps, *base, "si"), r"=> 0x[0-9a-f]+ %s " % re.escape(callee), "si enters")
    expect(run(hyps, *base, "break " + callee, "nexti"),
           r"Breakpoint 2, cpu0, 0x[0-9a-f]+ in %s" % re.escape(callee),
           "ni stops at a breakpoint in the callee")
    # gdb's `break *ADDR` (the link address objdump prints: also hit at the HYP VA).
    expect(run(hyps, "break *%#x" % addr, "boot", "ni 2"),
           r"=> 0x[0-9a-f]+ __pkvm_init\+%#x " % (off + 8), "break *ADDR, then ni 2")
    expect(run(hyps, "break __pkvm_init", "boot", "ni"), r"=> 0x[0-9a-f]+ __pkvm_init\+0x4 ",
           "ni off a non-call")
    print("ok: nexti at %s (bl %s)" % (at, callee))


if __name__ == "__main__":
    main()
