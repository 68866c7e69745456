#!/usr/bin/env python3
"""Saved machines of Linux's own hypervisor (issue 19): saved after the boot with a VM
(and once in the middle of the boot flow, stopped inside __pkvm_prot_finalize, so a
Linux boot-flow continuation goes across), `hypscope --load` in a new process gives
the rest of the scenario exactly as the run that never saved: hypercall results, VMs,
tables, checker, trace, patches. The file is refused against hyp.elf or the other
Linux version (saying which image wrote it), and cut short or damaged.

usage: machine_file_linux_test.py HYPSCOPE LINUX_ELF OTHER_ELF...
(VMs on 7.x only: 6.12 has not their hypercalls)
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_file_test import fail, script  # noqa: E402
from machine_file_test import strip_in_flight_diff as strip  # noqa: E402

from machine_file_test import MARK  # noqa: E402
VARIANTS = {
    "booted": (
        ["boot", "hvc __pkvm_host_share_hyp 0x48000", "vm create"],
        ["info cpus", "hvc __pkvm_host_unshare_hyp 0x48000", "hvc __pkvm_host_share_hyp 0x48010",
         "vm create", "vm list", "pt dump --table host", "pt dump", "check", "trace",
         "info patches", "info registers", "x/8xg pa:0x40200000"],
    ),
    "mid-boot": (
        ["break __pkvm_prot_finalize", "boot", "delete"],
        ["continue", "hvc __pkvm_host_share_hyp 0x48000", "vm create", "vm list",
         "pt dump --table host", "check", "trace", "info patches"],
    ),
}


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, NO_COLOR="1"))


def check_variant(hypscope, elf, d, name, before, after):
    saved = os.path.join(d, name + ".hsm")
    base = [hypscope, "--hyp", elf, "-q", "--batch"]
    p = run(base + script(before + [f"save machine {saved}"] + after))
    if p.returncode != 0 or "saved the machine" not in p.stdout:
        fail(f"{name}: the original run failed", p)
    want = p.stdout[p.stdout.find(MARK.format(after[0])):]
    p = run(base + ["--load", saved] + script(after))
    if p.returncode != 0:
        fail(f"{name}: the loaded run failed", p)
    got = p.stdout[p.stdout.find(MARK.format(after[0])):]
    # The call in flight at a save ends without its table diff (the trace keeps no
    # snapshot of the tables at a call's entry): drop diff lines of such a call.
    if name == "mid-boot":
        want, got = (strip(t, "__pkvm_prot_finalize") for t in (want, got))
    if got != want:
        import difflib

        fail(f"{name}: the loaded machine went on differently:\n" + "\n".join(
            difflib.unified_diff(want.splitlines(), got.splitlines(), "original", "loaded",
                                 lineterm="")))
    if "0 violations" not in got[got.find(MARK.format("check")):]:
        fail(f"{name}: no checker result", p)
    return saved


def refused(hypscope, elf, path, expect, what):
    p = run([hypscope, "--hyp", elf, "-q", "--batch", "--load", path])
    text = p.stdout + p.stderr
    if p.returncode == 0 or expect not in text:
        fail(f"{what}: not refused with '{expect}'", p)
    p = run([hypscope, "--hyp", elf, "-q", "--batch", "-ex", f"load machine {path}",
             "-ex", "info cpus"])
    if expect not in p.stdout + p.stderr:
        fail(f"{what}: load machine did not refuse with '{expect}'", p)


def main():
    hypscope, elf, others = sys.argv[1], sys.argv[2], sys.argv[3:]
    # 6.12's hypervisor lacks the VM path's hypercalls (linux_vm_refused_6.12).
    vms = "6.12" not in os.path.basename(elf)
    with tempfile.TemporaryDirectory() as d:
        saved = None
        for name, (before, after) in VARIANTS.items():
            if not vms:
                before, after = ([c for c in cmds if not c.startswith("vm ")]
                                 for cmds in (before, after))
            saved = check_variant(hypscope, elf, d, name, before, after) if name == "booted" \
                else (check_variant(hypscope, elf, d, name, before, after), saved)[1]
        blob = open(saved, "rb").read()
        mine = os.path.basename(elf)
        for other in others:
            refused(hypscope, other, saved, f"saved from another hypervisor image, {mine} (Linux ",
                    f"against {os.path.basename(other)}")
        cases = [("truncated", blob[: len(blob) - 100], "truncated"),
                 ("flipped", bytes(blob[:400]) + bytes([blob[400] ^ 0x40]) + blob[401:],
                  "checksum")]
        for what, data, expect in cases:
            path = os.path.join(d, what + ".hsm")
            open(path, "wb").write(data)
            refused(hypscope, elf, path, expect, what)
    print("ok")


if __name__ == "__main__":
    main()
