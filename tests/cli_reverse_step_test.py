#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""reverse-next, reverse-step, reverse-nexti and reverse-finish against the
forward run (issue 19), on one CPU and on the second of two.

From a breakpoint in a share: N forward `next`s (or `step`s, `nexti`s), each
stop's registers kept; then N-1 reverse ones must give the same stops in the
opposite order (registers and PC identical), and N-1 forward ones again the
same stops as the first time. `reverse-finish` from inside a callee that
`step` entered stops at the caller's BL with the caller's registers, and
`finish` forward returns to the same place as before.
Usage: cli_reverse_step_test.py PATH/TO/hypscope
"""
import re
import subprocess
import sys

FAILS = []


def check(ok, what, out=""):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS.append(what)
        if out:
            print(out[-3000:])


def run(hyps, cmds, cpus):
    args = [hyps, "-q", "--batch", "--cpus", str(cpus)]
    for c in cmds:
        args += ["-ex", c]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    return r.stdout + r.stderr


def states(out):
    """The `info registers` after each @@ marker, and frame 0 as `bt 1` presents it
    (a `step` down into an inlined function changes only that, as in gdb)."""
    parts = out.split("@@\n")[1:]
    res = []
    for p in parts:
        m = re.search(r"(x0 .*?pstate [^\n]*)", p, re.S)
        f = re.search(r"^\*?#0 [^\n]*", p, re.M)
        res.append(m.group(1) + "\n" + (f.group(0) if f else "") if m else None)
    return res


def start(cpu):
    pre = ["boot", "record"]
    if cpu:
        pre += ["cpu %d" % cpu]
    return pre + ["break __pkvm_host_share_hyp", "hvc host_share_hyp 0x48000", "delete"]


def mark():
    return ["echo @@", "info registers", "bt 1"]


def chain(hyps, cpus, cpu, fwd, rev, n):
    cmds = start(cpu) + mark()
    for _ in range(n):
        cmds += [fwd] + mark()
    for _ in range(n - 1):
        cmds += [rev] + mark()
    for _ in range(n - 1):
        cmds += [fwd] + mark()
    out = run(hyps, cmds, cpus)
    st = states(out)
    where = "%s/%s on cpu%d of %d" % (fwd, rev, cpu, cpus)
    if len(st) != 1 + 3 * n - 2 or None in st:
        check(False, where + ": every stop printed its registers", out)
        return
    check("error" not in out.lower(), where + ": no errors", out)
    check(("cpu%d" % cpu) in st[0], where + ": the call runs on cpu%d" % cpu, st[0])
    f = st[1:n + 1]
    r = st[n + 1:2 * n]
    f2 = st[2 * n:]
    check(len(set(f)) == n, where + ": the forward stops differ from each other", out)
    for i in range(n - 1):
        check(r[i] == f[n - 2 - i], "%s: reverse %d is forward stop %d" % (where, i + 1, n - 1 - i),
              "reverse:\n%s\nforward:\n%s" % (r[i], f[n - 2 - i]))
    for i in range(n - 1):
        check(f2[i] == f[i + 1], "%s: forward again %d is forward stop %d" % (where, i + 1, i + 2),
              "again:\n%s\nfirst:\n%s" % (f2[i], f[i + 1]))


def finish(hyps, cpus, cpu):
    """Into find_range (called from host_hyp_share_transition), back out to its bl."""
    where = "reverse-finish on cpu%d of %d" % (cpu, cpus)
    # step goes down into check_pfn and check_range (inlined) at each call site, as gdb's
    # does, before the call to find_range.
    cmds = start(cpu) + ["next", "next", "next"] + ["step"] * 10 + ["echo @@", "info registers",
                         "reverse-finish", "echo @@", "info registers", "x/i $pc", "step",
                         "echo @@", "info registers", "finish", "echo @@", "info registers",
                         "reverse-nexti", "echo @@", "info registers"]
    out = run(hyps, cmds, cpus)
    st = states(out)
    if len(st) != 5 or None in st:
        check(False, where + ": every stop printed its registers", out)
        return
    callee, back, callee2, fin, back2 = st
    check("find_range" in callee, where + ": step entered find_range", out)
    check(re.search(r"=> 0x[0-9a-f]+ host_hyp_share_transition\+0x[0-9a-f]+\s+[0-9a-f]{8}\s+bl\s",
                    out) is not None, where + ": it stops on the caller's bl", out)
    check(callee2 == callee, where + ": step from the bl enters find_range as before", out)
    pc = lambda s: int(re.search(r"pc  (0x[0-9a-f]+)", s).group(1), 16)
    check(pc(fin) == pc(back) + 4, where + ": finish returns after the bl", out)
    check(back2 == back, where + ": reverse-nexti from there is the bl again", out)
    check("Run back to call of #0" in out, where + ": gdb's banner", out)


def main():
    hyps = sys.argv[1]
    for cpus, cpu in ((1, 0), (2, 1)):
        chain(hyps, cpus, cpu, "next", "reverse-next", 6)
        chain(hyps, cpus, cpu, "step", "reverse-step", 8)
        chain(hyps, cpus, cpu, "nexti", "reverse-nexti", 12)
        finish(hyps, cpus, cpu)
    # reverse-continue to a `watch pte` hit names the watchpoint and the change, as forward.
    out = run(hyps, ["boot", "record", "hvc host_share_hyp 0x48000", "watch pte host 0x48000000",
                     "reverse-continue"], 1)
    check(re.search(r"Watchpoint 1: host stage-2 entry for 0x48000000 at PA 0x[0-9a-f]+ changed: "
                    r"invalid -> page 0x48000000", out) is not None,
          "reverse-continue names the pte watchpoint it stopped at", out)
    # Bad input: a clear error, the machine where it was.
    out = run(hyps, ["boot", "reverse-next", "record", "reverse-step x", "reverse-finish",
                     "echo @@", "info registers"], 1)
    check("reverse-next: not recording" in out, "reverse-next without record says so", out)
    check("'x' is not a positive count" in out, "a bad count is refused", out)
    check("not in the hypervisor image" in out, "reverse-finish in the host says why", out)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
