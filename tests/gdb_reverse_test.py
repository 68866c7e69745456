#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gdb's own reverse commands against `hypscope gdbserver` (issue 19): the
server announces ReverseStep+/ReverseContinue+, so gdb-multiarch sends `bs`
and `bc`; hypscope answers them with its record (`monitor record`).

A share runs with a breakpoint at handle_host_trap; gdb then continues to the
end of the call, `reverse-continue` comes back to the breakpoint, `reverse-stepi` goes one
instruction further back (the vector code before the handler), `stepi`
forward lands on the breakpoint's instruction again.

usage: gdb_reverse_test.py HYPSCOPE HYP_ELF
"""
import os
import re
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
    return H.finish()


if __name__ == "__main__":
    sys.exit(main())
