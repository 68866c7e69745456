#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gdb-multiarch as a user drives it against `hypscope gdbserver`, in orders
nobody planned (issue 18): breakpoints on code that already ran, deleted and
put back, temporary ones; watch, rwatch and awatch on a hypervisor variable
from a host stop; several CPUs as threads, a breakpoint every CPU reaches,
stepi between boot steps; `monitor restart` to a checkpoint; Ctrl-C during a
run that never ends (twice), then kill; detach and re-attach seeing the same
machine; and, on a raw connection, hostile packets and a 0x03 right behind a
resume in the middle of a boot whose resumed run must execute exactly what an
uninterrupted boot does.

usage: gdb_frontend_test.py HYPSCOPE HYP_ELF      (~40 s; fails without gdb-multiarch)
"""
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdb_harness as H  # noqa: E402
from gdb_harness import check  # noqa: E402

HYPSCOPE, HYP_ELF = sys.argv[1], sys.argv[2]


def icount(out):
    m = re.findall(r"instructions executed: (\d+)", out)
    return int(m[-1]) if m else None


def breakpoints_and_threads():
    srv, port = H.start_server(HYPSCOPE, "--cpus", "4", "-ex", "boot")
    try:
        out = H.gdb(HYP_ELF, port, [
            "info threads",
            "thread 3",
            "monitor info cpus",
            "p/x $pc",
            "thread 1",
            # Code that ran during boot; then deleted, then put back.
            "break handle_host_trap",
            "monitor hvc nop",
            "continue",
            "delete",
            "continue",
            "echo MARK-deleted\\n",
            "monitor hvc nop",
            "continue",
            "echo MARK-readded\\n",
            "break handle_host_trap",
            "monitor hvc nop",
            "continue",
            "delete",
            "continue",
            # A temporary breakpoint stops once, over two hypercalls.
            "tbreak handle_host_trap",
            "monitor hvc nop",
            "monitor hvc nop",
            "continue",
            "continue",
            "echo MARK-tbreak-second\\n",
            "continue",
            "info breakpoints",
            # A hypervisor variable, watched from a stop in the host (EL1).
            "watch host_s2_lock",
            "monitor hvc host_share_hyp 0x48000",
            "continue",
            "delete",
            "continue",
            # Read and access watchpoints (Z3, Z4): the lock's load-exclusive reads it.
            "rwatch host_s2_lock",
            "monitor hvc host_share_hyp 0x48001",
            "continue",
            "delete",
            "continue",
            "awatch host_s2_lock",
            "monitor hvc host_share_hyp 0x48002",
            "continue",
            "continue",
            "delete",
            "continue",
            "monitor info breakpoints",
            "detach",
        ])
        rows = set(re.findall(r'^[* ] +(\d) +Thread \d "(cpu\d) EL1"', out, re.M))
        check(rows == {("1", "cpu0"), ("2", "cpu1"), ("3", "cpu2"), ("4", "cpu3")},
              "info threads: four CPUs, thread N is cpuN-1", out)
        check(re.search(r"\* cpu2\s", out) is not None,
              "gdb's `thread 3` selects cpu2 for monitor commands", out)
        hits = re.findall(r"Breakpoint (\d+), handle_host_trap", out)
        check(hits[:2] == ["1", "2"], "a breakpoint on code that ran, and re-added after "
              "delete, both stop (hits %s)" % hits, out)
        between = out.split("MARK-deleted")[-1].split("MARK-readded")[0] if \
            "MARK-readded" in out else ""
        check("MARK-readded" in out and "handle_host_trap (" not in between,
              "a deleted breakpoint no longer stops", out)
        check(re.search(r"Temporary breakpoint 3, handle_host_trap", out) is not None,
              "tbreak stops", out)
        after_t = out.split("MARK-tbreak-second")[-1]
        check("MARK-tbreak-second" in out and "Temporary breakpoint 3," not in after_t and
              "No breakpoints or watchpoints" in after_t.split("watch host_s2_lock")[0],
              "a temporary breakpoint stops once and is gone", out)
        check(re.search(r"Hardware watchpoint 4: host_s2_lock", out) and
              re.search(r"Old value = \d+\s+New value = \d+", out),
              "watch on a hypervisor variable from a host stop fires with old/new values",
              out)
        check(re.search(r"Hardware read watchpoint 5: host_s2_lock\s+Value = 0\s", out),
              "rwatch stops on the lock's load with the value read", out)
        check(re.search(r"Hardware access \(read/write\) watchpoint 6: host_s2_lock\s+"
                        r"Value = 0\s", out) and
              re.search(r"Hardware access \(read/write\) watchpoint 6: host_s2_lock\s+"
                        r"Old value = 0\s+New value = 1\s", out),
              "awatch stops on the load, then on the store", out)
        check(re.search(r"gdb Z", out.split("monitor info breakpoints")[-1]) is None,
              "nothing of gdb's left in the debugger's list after delete", out)
        check("[Inferior 1 (Remote target) detached]" in out, "detach", out)

        # Every CPU reaches do_prot_finalize in `boot`'s finalize step: one thread each.
        srv2, port2 = H.start_server(HYPSCOPE, "--cpus", "4", "-ex", "boot --until finalize")
        try:
            out = H.gdb(HYP_ELF, port2, ["stepi", "monitor info program",
                                         "break do_prot_finalize", "continue", "continue",
                                         "continue", "continue", "info threads", "detach"])
            check(re.search(r"last stop: step on cpu0", out) and "idle" not in out,
                  "stepi between boot steps runs the next step's first instruction, as the "
                  "REPL's", out)
            threads = re.findall(r"Thread (\d) \"cpu\d EL2\" hit Breakpoint 1, "
                                 r"do_prot_finalize", out)
            check(sorted(threads) == ["1", "2", "3", "4"],
                  "a breakpoint every CPU reaches stops once in each thread (%s)" % threads,
                  out)
        finally:
            H.stop_server(srv2)

        # Re-attach twice: the machine is where the first session left it.
        a = H.gdb(HYP_ELF, port, ["monitor info program", "p/x $pc", "detach"])
        b = H.gdb(HYP_ELF, port, ["monitor info program", "p/x $pc", "detach"])
        check(icount(a) is not None and icount(a) == icount(b),
              "re-attach sees the same machine (%s, %s instructions)" % (icount(a), icount(b)),
              a + b)
        check(srv.poll() is None, "server alive after four sessions")
    finally:
        H.stop_server(srv)


def checkpoint_restart():
    """`monitor restart N` under gdb: the machine goes back; gdb, told to forget its
    register cache, sees the checkpoint's registers, and its breakpoints still work."""
    srv, port = H.start_server(HYPSCOPE, "-ex", "boot")
    try:
        out = H.gdb(HYP_ELF, port, [
            "monitor checkpoint", "monitor info program", "break handle_host_trap",
            "monitor hvc nop", "continue", "monitor restart 1",
            "maintenance flush register-cache", "p/x $pc", "monitor info program",
            "monitor hvc nop", "continue", "delete", "continue", "detach"])
        counts = [int(n) for n in re.findall(r"instructions executed: (\d+)", out)]
        check(len(counts) == 2 and counts[0] == counts[1],
              "monitor restart 1 puts the machine back at the checkpoint (%s)" % counts, out)
        check(re.search(r"^\$1 = 0x40000004$", out, re.M) is not None,
              "after flushing its register cache gdb sees the checkpoint's pc", out)
        check(len(re.findall(r"Breakpoint \d+, handle_host_trap \(", out)) == 2,
              "gdb's breakpoint stops before and after the restart", out)
    finally:
        H.stop_server(srv)


def breakpoint_through_an_alias():
    """A breakpoint gdb set at one alias of an instruction (the PA of handle_host_trap,
    which runs at its HYP VA) stops gdb visibly, with a word saying so: gdb resumes a
    swbreak stop at a PC where it has no breakpoint without telling its user."""
    syms = subprocess.run(["nm", HYP_ELF], capture_output=True, text=True).stdout
    pa = re.search(r"^([0-9a-f]+) T handle_host_trap$", syms, re.M)
    check(pa is not None, "the image's symbol table names handle_host_trap (its PA)")
    if not pa:
        return
    low = pa.group(1)[-4:]
    srv, port = H.start_server(HYPSCOPE, "-ex", "boot")
    try:
        out = H.gdb(HYP_ELF, port, [
            "break *0x%s" % pa.group(1), "monitor hvc nop", "continue", "p/x $pc",
            "monitor info program", "delete", "continue", "detach"])
        check("hit at its alias 0x8000" in out and "SIGTRAP" in out,
              "a breakpoint at the PA stops gdb at the HYP VA alias, and says so", out)
        check(re.search(r"^\$1 = 0x8000[0-9a-f]*%s$" % low, out, re.M) is not None,
              "gdb sees the stop at handle_host_trap's HYP VA", out)
    finally:
        H.stop_server(srv)


def interrupts_and_kill():
    # The host's hypercall stub made a `b .`: `hvc nop` spins at EL1 until Ctrl-C.
    srv, port = H.start_server(HYPSCOPE, "--insn-limit", "20000000000", "-ex", "boot",
                               "-ex", "host write 0x40000000 0x14000000 --size 4")
    try:
        out = H.gdb(HYP_ELF, port, [
            "monitor hvc nop", "continue", "monitor info program", "continue",
            "monitor info program", "kill"], interrupt_after=(3, 6), timeout=180)
        stops = re.findall(r"Program received signal SIGINT", out)
        check(len(stops) == 2, "Ctrl-C interrupts a spinning run, twice (%d)" % len(stops), out)
        counts = [int(n) for n in re.findall(r"instructions executed: (\d+)", out)]
        check(len(counts) == 2 and counts[1] > counts[0],
              "continue after Ctrl-C resumes the run (%s)" % counts, out)
        check("[Inferior 1 (Remote target) killed]" in out, "kill", out)
        try:
            rc = srv.wait(timeout=30)
        except Exception:
            rc = None
        check(rc == 0, "the server ends, status 0, after kill (%s)" % rc)
    finally:
        H.stop_server(srv)


def hostile_packets_and_raw_interrupt():
    boot_count = icount(H.repl(HYPSCOPE, "-ex", "boot", "-ex", "info program"))
    srv, port = H.start_server(HYPSCOPE)
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        r = H.Raw(s)
        r.send(b"+")
        check(r.packet(b"qSupported").startswith(b"PacketSize="), "raw client served")
        bad = [
            (b"m40000000", b"E01"),                # no length
            (b"mzz,8", b"E01"),                    # not hex
            (b"M40000000,4:zzzzzzzz", b"E01"),     # bad data
            (b"M40000000,4:00", b"E01"),           # short data
            (b"Z0,40000000", b"E01"),              # no kind
            (b"Z9,40000000,4", b"E01"),            # no such type
            (b"Z2,40000000,0", b"E01"),            # zero-length watch
            (b"Hg99", b"E01"),                     # no such thread
            (b"T9", b"E01"),
            (b"p9999", b"E01"),                    # no such register
            (b"qThreadExtraInfo,9", b"E01"),
            (b"vCont;x", b"E01"),                  # unknown action
            (b"vFlashErase:0,1", b""),             # unknown packet
            (b"qXfer:features:read:nope.xml:0,100", b"E00"),
            (b"qRcmd,zz", b"E01"),
        ]
        for pkt, want in bad:
            got = r.packet(pkt)
            check(got == want, "%r answered %r (got %r)" % (pkt, want, got))
        r.send(b"$" + b"m" * 20000 + b"#00")       # oversize, bad checksum too
        r.send(b"noise outside packets\x01\x02")
        got = r.packet(b"m40000000,ffffffff")   # huge length: bounded reply
        check(got is not None and 0 < len(got) <= 16384, "huge m length: a bounded reply")
        check(r.packet(b"?") is not None and r.packet(b"?").startswith(b"T"),
              "still answering after hostile input")
        # Ctrl-C in the middle of a boot: the resumed boot is the uninterrupted one.
        r.output = b""
        check(r.packet(b"QStartNoAckMode") == b"OK", "no-ack mode")
        r.packet(b"qRcmd," + b"boot".hex().encode())
        # The 0x03 right behind the resume, in one write: it must not be lost in the
        # server's input buffer, and the run stops at its first chance.
        r.send(H.frame(b"vCont;c") + b"\x03")
        stop = r.reply(timeout=120)
        check(stop is not None and stop.startswith(b"T02"),
              "0x03 during boot stops it with SIGINT (%r)" % stop)
        stop = r.packet(b"vCont;c", timeout=300)
        check(b"boot complete" in r.output, "vCont;c finishes the interrupted boot",
              r.output.decode(errors="replace"))
        r.output = b""
        r.packet(b"qRcmd," + b"info program".hex().encode())
        n = icount(r.output.decode(errors="replace"))
        check(n is not None and n == boot_count,
              "interrupted and resumed boot executed what an uninterrupted one does "
              "(%s vs %s instructions)" % (n, boot_count), r.output.decode(errors="replace"))
        check(r.packet(b"D") == b"OK", "raw client detaches")
        s.close()
    finally:
        H.stop_server(srv)


def main():
    if not H.GDB:
        print("FAIL gdb-multiarch is not installed (scripts/deps installs it)")
        return 1
    breakpoints_and_threads()
    checkpoint_restart()
    breakpoint_through_an_alias()
    interrupts_and_kill()
    hostile_packets_and_raw_interrupt()
    return H.finish()


if __name__ == "__main__":
    sys.exit(main())
