#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`until LOCATION` and `advance LOCATION` against gdb-multiarch on the same machine.

gdb runs them itself over `hypscope gdbserver` (momentary breakpoints at the
location and at the current frame's return, with gdb's frame ids); the REPL's
own `until`/`advance` from the same stop must end at the same PC. The cases:
a location reached only in a callee (until: the frame returns first; advance:
there), a location in a function the current one tail-called (another frame
for gdb), and one in the current frame. Also two breakpoints on one address:
`continue` must leave it (it once stopped there forever). Fails, never skips,
without gdb-multiarch.
usage: gdb_until_test.py HYPSCOPE HYP_ELF
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402
from gdb_harness import GDB, check  # noqa: E402

HYPSCOPE, HYP_ELF = sys.argv[1], sys.argv[2]
START = ["break __pkvm_host_share_hyp", "monitor hvc host_share_hyp 0x48000", "continue",
         "delete"]
# The same stop in the REPL: its hvc runs to the breakpoint itself.
CLI_START = ["break __pkvm_host_share_hyp", "hvc host_share_hyp 0x48000", "delete"]
CASES = [
    ["until host_stage2_set_page_state"],
    ["advance host_stage2_set_page_state"],
    ["stepi 3", "until mem_protect.c:355"],
    ["break mem_protect.c:350", "continue", "delete", "until mem_protect.c:355"],
    ["break mem_protect.c:350", "continue", "delete", "advance mem_protect.c:355"],
]


def pcs(out):
    return re.findall(r"^\$\d+ = (0x[0-9a-f]+)", out, re.M)


def main():
    if not GDB:
        print("FAIL gdb-multiarch is not installed (scripts/deps installs it)")
        return 1
    for case in CASES:
        srv, port = H.start_server(HYPSCOPE, "-ex", "boot")
        try:
            out = H.gdb(HYP_ELF, port, START + case + ["p/x $pc", "detach"])
        finally:
            H.stop_server(srv)
        want = pcs(out)
        cli = CLI_START + case
        p = subprocess.run([HYPSCOPE, "-q", "--batch", "--hyp", HYP_ELF, "-ex", "boot"]
                           + [a for c in cli + ["p/x $pc"] for a in ("-ex", c)],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, NO_COLOR="1"))
        got = pcs(p.stdout)
        check(len(want) == 1 and got == want, "%s: the REPL stops where gdb does" % " ; ".join(case),
              p.stdout + p.stderr + "\ngdb:\n" + out + f"\ngdb: {want}, hypscope: {got}")
    twice = subprocess.run([HYPSCOPE, "-q", "--batch", "--hyp", HYP_ELF, "-ex", "boot",
                            "-ex", "break host_stage2_set_page_state",
                            "-ex", "break host_stage2_set_page_state",
                            "-ex", "hvc host_share_hyp 0x48000", "-ex", "continue",
                            "-ex", "info breakpoints"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, NO_COLOR="1"))
    check("done (cpu0" in twice.stdout,
          "two breakpoints on one address: continue leaves it", twice.stdout + twice.stderr)
    return H.finish()


if __name__ == "__main__":
    sys.exit(main())
