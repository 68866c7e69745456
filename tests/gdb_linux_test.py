#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gdb-multiarch on Linux's own pKVM hypervisor (docs/linux-pkvm.md) through
`hypscope --hyp build/linux/linux-N.elf gdbserver` (issue 18): Linux's symbols
and source (DWARF names without the __kvm_nvhe_ prefix), a breakpoint on a
hypercall handler that stops when the host issues it, `bt` through Linux's
frames, the handler's argument read from host_ctxt with Linux's types (it
must be the PFN the host passed), ESR_EL2 says HVC64, stepi/next/finish, a
watch on host_ctxt's x1 that fires when the handler writes its result, and
the hypercall's result as the REPL reports it.

usage: gdb_linux_test.py HYPSCOPE LINUX_HYP_ELF      (~15 s; fails without gdb-multiarch)
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402
from gdb_harness import check  # noqa: E402

HYPSCOPE, IMAGE = sys.argv[1], sys.argv[2]
PFN = 0x48001


def main():
    if not H.GDB:
        print("FAIL gdb-multiarch is not installed (scripts/deps installs it)")
        return 1
    srv, port = H.start_server(HYPSCOPE, "--hyp", IMAGE, "--cpus", "2", "-ex", "boot")
    try:
        out = H.gdb(IMAGE, port, [
            "info threads",
            "break handle___pkvm_host_share_hyp",
            "monitor hvc __pkvm_host_share_hyp %#x" % PFN,
            "continue",
            "bt",
            "p/x host_ctxt->regs.regs[1]",
            "p/x ($ESR_EL2 >> 26) & 0x3f",
            "p/x $pc",
            "stepi",
            "p/x $pc",
            "next",
            "watch -l host_ctxt->regs.regs[1]",
            "continue",
            "delete",
            "finish",
            "continue",
            "detach",
        ], timeout=300)
        check('"cpu0 EL1"' in out and '"cpu1 EL1"' in out, "two CPUs as threads", out)
        check(re.search(r"Breakpoint 1 at 0x[0-9a-f]+: file .*/nvhe/hyp-main\.c, line \d+", out),
              "break on a Linux handler resolves in Linux's source", out)
        check(re.search(r"Breakpoint 1, handle___pkvm_host_share_hyp \(host_ctxt=0x[0-9a-f]+\)"
                        r" at .*hyp-main\.c:\d+", out),
              "the host's hypercall stops there", out)
        check(re.search(r"#1 .* in handle_host_hcall \(", out) and
              re.search(r"#\d .*handle_trap \(", out), "bt: Linux's frames up to handle_trap",
              out)
        check("$1 = %#x" % PFN in out, "host_ctxt->regs.regs[1] is the PFN the host passed "
              "(EL2 memory, Linux's types)", out)
        check("$2 = 0x16" in out, "ESR_EL2 says HVC64", out)
        pcs = re.findall(r"^\$[34] = (0x[0-9a-f]+)", out, re.M)
        check(len(pcs) == 2 and int(pcs[1], 16) == int(pcs[0], 16) + 4, "stepi moves 4 bytes",
              out)
        check(re.search(r"Hardware watchpoint \d+: -location host_ctxt->regs.regs\[1\]\s+"
                        r"Old value = %d\s+New value = 0" % PFN, out),
              "watch -l on host_ctxt's x1: the handler writes its result (0)", out)
        check(re.search(r"^handle_trap \(host_ctxt=0x[0-9a-f]+\) at .*hyp-main\.c:\d+", out,
                        re.M), "finish returns to the caller", out)
        check("last hypercall: __pkvm_host_share_hyp x0=0 x1=0" in out,
              "continue completes the hypercall, as the REPL reports it", out)
        check("[Inferior 1 (Remote target) detached]" in out, "detach", out)
    finally:
        H.stop_server(srv)
    return H.finish()


if __name__ == "__main__":
    sys.exit(main())
