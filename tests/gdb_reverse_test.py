#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gdb's own reverse commands against `hypscope gdbserver` (issue 19): the
server announces ReverseStep+/ReverseContinue+, so gdb-multiarch sends `bs`
and `bc`; hypscope answers them with its record (`monitor record`).

Then gdb's reverse-next, reverse-finish and reverse-step, each checked against
gdb's forward next, stepi and finish; and gdb's reverse-next over a call with
a breakpoint in the callee (it stops there) against hypscope's own.

A share runs with a breakpoint at handle_host_trap; gdb then continues to the
end of the call, `reverse-continue` comes back to the breakpoint, `reverse-stepi` goes one
instruction further back (the vector code before the handler), `stepi`
forward lands on the breakpoint's instruction again.

usage: gdb_reverse_test.py HYPSCOPE HYP_ELF
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402
from gdb_harness import GDB, check  # noqa: E402

HYPSCOPE, HYP_ELF = sys.argv[1], sys.argv[2]


def main():
    if not GDB:
        print("FAIL gdb-multiarch is not installed (scripts/deps installs it)")
        return 1
    srv, port = H.start_server(HYPSCOPE, "-ex", "boot", "-ex", "record")
    try:
        out = H.gdb(HYP_ELF, port, [
            "break handle_host_trap",
            "monitor hvc host_share_hyp 0x48000",
            "continue",
            "p/x $pc",
            "continue",
            "reverse-continue",
            "p/x $pc",
            "reverse-stepi",
            "p/x $pc",
            "stepi",
            "p/x $pc",
            "monitor info record",
            "detach",
        ])
        pcs = re.findall(r"^\$\d+ = (0x[0-9a-f]+)", out, re.M)
        check(len(pcs) == 4, "four pcs printed", out)
        if len(pcs) == 4:
            check(pcs[1] == pcs[0], "reverse-continue comes back to the breakpoint", out)
            check(pcs[2] != pcs[1], "reverse-stepi goes one instruction back", out)
            check(pcs[3] == pcs[1], "stepi forward lands on the breakpoint again", out)
        check("Target does not support" not in out and "not supported" not in out.lower(),
              "gdb sends bs/bc (ReverseStep+/ReverseContinue+)", out)
        check("Recording from" in out, "monitor info record", out)
    finally:
        H.stop_server(srv)
    steps()
    breakpoint_in_callee()
    landing_on_breakpoint()
    return H.finish()


def steps():
    """gdb's reverse-next, reverse-step and reverse-finish (bs, and bc with
    gdb's own breakpoints), compared with gdb's forward next, stepi and finish."""
    srv, port = H.start_server(HYPSCOPE, "-ex", "boot", "-ex", "record")
    try:
        out = H.gdb(HYP_ELF, port, [
            "break __pkvm_host_share_hyp",
            "monitor hvc host_share_hyp 0x48000",
            "continue",
            "delete",
            "next", "next",
            "p/x $pc", "p/x $sp",          # A
            "next",
            "p/x $pc", "p/x $sp",          # B
            "reverse-next",
            "p/x $pc", "p/x $sp",          # A again
            "next",
            "p/x $pc", "p/x $sp",          # B again
            "break find_range",
            "continue",
            "delete",
            "p/x $pc", "p/x $sp",          # C: find_range's entry
            "reverse-finish",
            "p/x $pc", "p/x $sp",          # D: the caller's bl
            "x/i $pc",
            "stepi",
            "p/x $pc", "p/x $sp",          # C again
            "finish",
            "p/x $pc",                      # E: after the bl
            "reverse-step",
            "p/x $pc",                      # F: find_range's last line
            "bt 1",
            "detach",
        ])
        v = re.findall(r"^\$\d+ = (0x[0-9a-f]+)", out, re.M)
        check(len(v) == 16, "sixteen values printed", out)
        if len(v) == 16:
            a, b, a2, b2, c, d, c2 = [tuple(v[i:i + 2]) for i in range(0, 14, 2)]
            e, f = int(v[14], 16), int(v[15], 16)
            check(a != b, "next moves", out)
            check(a2 == a, "reverse-next comes back to the line before (pc and sp)", out)
            check(b2 == b, "next from there lands where next did", out)
            check(c2 == c and d != c, "reverse-finish stops one instruction before the entry",
                  out)
            check(e == int(d[0], 16) + 4, "finish returns after that bl", out)
            check(f != e and f != int(c[0], 16), "reverse-step moves back", out)
        check(re.search(r"=> 0x[0-9a-f]+ <host_hyp_share_transition\+\d+>:\s+bl\s.*find_range",
                        out) is not None, "reverse-finish stops on the caller's bl", out)
        check(re.search(r"#0 .*find_range", out) is not None,
              "reverse-step enters find_range backwards, at its last line", out)
        check("Target does not support" not in out, "gdb's reverse commands run", out)
    finally:
        H.stop_server(srv)


BP_IN_CALLEE = ["break mem_protect.c:355", "monitor hvc host_share_hyp 0x48000", "continue",
                "delete", "break host_stage2_set_page_state", "reverse-next", "p/x $pc",
                "p/x $sp"]


def breakpoint_in_callee():
    """gdb's reverse-next over a call with a breakpoint in the callee, put there after the
    call ran, stops at it; hypscope's own reverse-next from the same place agrees."""
    srv, port = H.start_server(HYPSCOPE, "-ex", "boot", "-ex", "record")
    try:
        out = H.gdb(HYP_ELF, port, BP_IN_CALLEE + ["detach"])
    finally:
        H.stop_server(srv)
    want = re.findall(r"^\$\d+ = (0x[0-9a-f]+)", out, re.M)
    check(len(want) == 2 and re.search(r"Breakpoint \d+, .*host_stage2_set_page_state", out)
          is not None, "gdb's reverse-next stops at the breakpoint in the callee", out)
    cli = [c.replace("monitor ", "").replace("continue", "echo") for c in BP_IN_CALLEE]
    p = subprocess.run([HYPSCOPE, "-q", "--batch", "--hyp", HYP_ELF, "-ex", "boot", "-ex",
                        "record"] + [a for c in cli for a in ("-ex", c)],
                       capture_output=True, text=True, timeout=300)
    got = re.findall(r"^\$\d+ = (0x[0-9a-f]+)", p.stdout, re.M)
    check(got == want and "Breakpoint 2, cpu0" in p.stdout,
          "hypscope's reverse-next stops at the same place (pc, sp)",
          p.stdout + p.stderr + f"\ngdb: {want}")


LANDING = [
    "break handle_host_trap",
    "monitor hvc host_share_hyp 0x48000",
    "continue",
    "reverse-stepi",
    "echo @@forward\\n",
    "stepi",
    "echo @@past\\n",
    "stepi",
    "echo @@back\\n",
    "reverse-stepi",
    "echo @@end\\n",
]


def landings(out):
    """What each of the three landings said: did it report breakpoint 1?"""
    parts = re.split(r"^@@(\w+)$", out, flags=re.M)
    said = dict(zip(parts[1::2], parts[2::2]))
    return [bool(re.search(r"^Breakpoint 1, ", said.get(k, ""), re.M))
            for k in ("forward", "past", "back")]


def landing_on_breakpoint():
    """A stepi, and a reverse-stepi, that lands on a breakpoint's instruction is
    reported as that breakpoint by gdb (its own decision, from the stop's PC); one
    that lands elsewhere is not. hypscope's REPL must say the same at the same steps."""
    srv, port = H.start_server(HYPSCOPE, "-ex", "boot", "-ex", "record")
    try:
        out = H.gdb(HYP_ELF, port, LANDING + ["detach"])
    finally:
        H.stop_server(srv)
    want = landings(out)
    check(want == [True, False, True], "gdb reports both landings as breakpoint 1", out)
    # The REPL's echo ends its line itself.
    cli = [c.replace("monitor ", "").replace("continue", "echo").replace("\\n", "")
           for c in LANDING]
    p = subprocess.run([HYPSCOPE, "-q", "--batch", "--hyp", HYP_ELF, "-ex", "boot", "-ex",
                        "record"] + [a for c in cli for a in ("-ex", c)],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, NO_COLOR="1"))
    got = landings(p.stdout)
    check(got == want, "hypscope's REPL reports the same landings as gdb",
          p.stdout + p.stderr + f"\ngdb: {want}, hypscope: {got}")


if __name__ == "__main__":
    sys.exit(main())
