#!/usr/bin/env python3
"""Inspection needs no CPU: a booted machine, written out with `dump ram` and
`dump sysregs`, opened again by `hypscope inspect`, answers every inspection
command exactly as the live machine did; a dump refuses to run; bad inputs are
refused with a message naming the file (and line:column for JSON).

usage: inspect_roundtrip.py HYPSCOPE HYP_ELF
"""
import os
import subprocess
import sys
import tempfile

COMMANDS = [
    "pt dump",
    "pt dump --table host",
    "pt dump --table host --json",
    "pt walk --table host 0x48000000",
    "pt walk __hyp_text_start",
    "owner 0x48000000",
    "owner 0x40200000",
    "map",
    "map --json",
    "check",
    "x/4xg pa:0x40200000",
    "x/4i handle_host_trap",
    "info cpus",
    "cpu 1",
    "pt dump --table host",
]
SETUP = ["boot", "hvc host_share_hyp 0x48000", "hvc host_donate_hyp 0x48100 2"]
MARK = "=== {} ==="


def run(argv, check_rc=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if check_rc is not None and p.returncode != check_rc:
        sys.exit(f"FAIL: {' '.join(argv)} exited {p.returncode}, wanted {check_rc}\n"
                 f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def sections(out):
    """The output of each marked command, without what only a live session knows:
    `owner`'s last writers come from PTE provenance, recorded as CPUs ran (a dump
    has none)."""
    parts, cur, blame = {}, None, False
    for line in out.splitlines():
        if line.startswith("=== ") and line.endswith(" ==="):
            cur = line[4:-4]
            parts[cur] = []
            blame = False
        elif line.startswith("  last written"):
            blame = True  # the rest of owner's output
        elif cur is not None and not blame:
            parts[cur].append(line)
    return parts


def batch(cmds):
    args = []
    for i, c in enumerate(cmds):
        args += ["-ex", f"echo {MARK.format(f'{i}: {c}')}", "-ex", c]
    return args


def main():
    hypscope, hyp = sys.argv[1], sys.argv[2]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        ram, regs = os.path.join(d, "m.ram"), os.path.join(d, "m.json")
        live_cmds = SETUP + [f"dump ram {ram}", f"dump sysregs {regs}"]
        live = run([hypscope, "--hyp", hyp, "--cpus", "2", "--batch"]
                   + sum((["-ex", c] for c in live_cmds), []) + batch(COMMANDS), 0)
        dump = run([hypscope, "inspect", "--hyp", hyp, "--ram", f"{ram}@0x40000000",
                    "--sysregs", regs, "--batch"] + batch(COMMANDS), 0)
        a, b = sections(live.stdout), sections(dump.stdout)
        for key in a:
            if a[key] != b.get(key):
                failures += 1
                print(f"FAIL: `{key}` differs between the live machine and its dump")
                print("  live:", "\n        ".join(a[key][:8]))
                print("  dump:", "\n        ".join(b.get(key, ["(missing)"])[:8]))
            elif not a[key]:
                failures += 1
                print(f"FAIL: `{key}` printed nothing")
        if len(a) != len(COMMANDS):
            failures += 1
            print(f"FAIL: {len(a)} of {len(COMMANDS)} commands ran on the live machine")

        # A dump is inspected, never run: each refusal says why, the session goes on.
        for cmd in ["continue", "stepi", "hvc nop", "host read 0x48000000", "break handle_host_trap"]:
            p = run([hypscope, "inspect", "--hyp", hyp, "--ram", ram, "--sysregs", regs,
                     "--batch", "-ex", cmd, "-ex", "echo still-here"], 1)
            if "memory dump" not in p.stdout + p.stderr or "still-here" not in p.stdout:
                failures += 1
                print(f"FAIL: `{cmd}` on a dump: {p.stdout}{p.stderr}")

        # Hostile inputs: a clear message naming the file, exit status 2.
        bad_json = os.path.join(d, "bad.json")
        with open(bad_json, "w") as f:
            f.write('{"TCR_EL2": 1,\n "TTBR0_EL2": }\n')
        short = os.path.join(d, "short.ram")
        with open(short, "wb") as f:
            f.write(b"\0" * 4096)
        cases = [
            (["--ram", ram, "--sysregs", bad_json], "bad.json:2:15"),
            (["--ram", ram], "--sysregs"),
            (["--ram", os.path.join(d, "none.ram"), "--sysregs", regs], "none.ram"),
            (["--ram", d, "--sysregs", regs], "not a regular file"),
            (["--ram", short, "--sysregs", regs], "memory size"),
            (["--ram", f"{ram}@0x123", "--sysregs", regs], "RAM base"),
            (["--ram", ram, "--sysregs", d], "not a regular file"),
        ]
        for args, want in cases:
            p = run([hypscope, "inspect", "--hyp", hyp] + args + ["--batch", "-ex", "map"])
            if p.returncode == 0 or want not in p.stderr:
                failures += 1
                print(f"FAIL: inspect {' '.join(args)}: exit {p.returncode}, "
                      f"wanted a message with '{want}', got: {p.stderr.strip()}")
    print(f"{len(COMMANDS) + 12 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
