#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Drive the hypscope REPL through a pseudo-terminal, like a person would.

Types commands, checks tab completion (commands, symbols, hypercall names,
sysreg names), help and prefix errors, then sets a breakpoint on
__pkvm_init_switch_pgd, boots, and single-steps across the TTBR0_EL2 write,
checking that the register changes. A second session steps through
__pkvm_init at source level (next, until, step, finish), breaks on a
hypercall and watches a host stage-2 entry. A third presses Ctrl-C at the
prompt and while the hypervisor spins, and reads the history file while the session
runs. Usage: cli_pty_test.py PATH/TO/hypscope
"""
import os
import pty
import re
import select
import sys
import tempfile
import time

PROMPT = b"(hypscope) "


class Repl:
    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env)
        self.buf = b""
        self.log = b""

    def read_until(self, pattern, timeout=120):
        """Read until the regex (bytes) matches; return the text before and incl. it."""
        rx = re.compile(pattern, re.S)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                out = self.buf[: m.end()]
                self.buf = self.buf[m.end():]
                return out
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(
                    "timeout waiting for %r; got:\n%s" % (pattern, self.buf.decode(errors="replace"))
                )
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(
                        "EOF waiting for %r; got:\n%s" % (pattern, self.buf.decode(errors="replace"))
                    )
                self.buf += data
                self.log += data

    def send(self, s):
        os.write(self.fd, s.encode())

    def cmd(self, line, timeout=120):
        """Type a line, return its output (up to the next prompt)."""
        self.send(line + "\n")
        out = self.read_until(re.escape(PROMPT), timeout)
        return out[: -len(PROMPT)].decode(errors="replace")


def check(cond, what, out=""):
    if not cond:
        print("FAIL: %s\n--- output ---\n%s" % (what, out))
        sys.exit(1)
    print("ok: %s" % what)


def main():
    exe = sys.argv[1]
    hist = tempfile.NamedTemporaryFile(prefix="hypscope_hist_", delete=False)
    hist.close()
    os.unlink(hist.name)
    env = dict(os.environ)
    env.update({"TERM": "dumb", "NO_COLOR": "1", "HYPSCOPE_HISTORY": hist.name,
                "INPUTRC": "/dev/null", "SDL_VIDEODRIVER": "dummy"})
    r = Repl([exe], env)
    r.read_until(re.escape(PROMPT))

    # Completion of a command name from the table, then help.
    r.send("hel\t")
    r.read_until(b"help ")
    out = r.cmd("")
    check("Commands" in out and "stepi" in out and "break" in out, "tab completes 'hel' and help lists commands", out)
    out = r.cmd("help x")
    check("usage: x[/FMT] ADDR" in out and "x/4xg" in out, "help x shows usage and examples", out)

    # Prefix dispatch.
    out = r.cmd("di")
    check(re.search(r"ambiguous command 'di': .*diff.*disable.*disas.*display", out) is not None, "ambiguous prefix names the candidates", out)
    # gdb's own abbreviations win over the prefix rule (b is break, p is print).
    out = r.cmd("b")
    check("break: wrong number of arguments" in out, "'b' is break, as in gdb", out)
    out = r.cmd("he sysreg")
    check("usage: sysreg NAME" in out, "unique prefix 'he' runs help", out)
    out = r.cmd("frobnicate 1 2")
    check("unknown command 'frobnicate'" in out, "unknown command is named", out)
    out = r.cmd("stepi banana")
    check("'banana'" in out, "a bad argument is named", out)

    # Symbol completion for break.
    r.send("break __pkvm_init_swi\t")
    r.read_until(b"__pkvm_init_switch_pgd ")
    out = r.cmd("")
    check("Breakpoint 1 at" in out, "symbol completion and break", out)

    # Hypercall-name completion (then erase the line with C-u).
    r.send("hvc __pkvm_prot_fi\t")
    r.read_until(b"__pkvm_prot_finalize ")
    r.send("\x15")
    # Sysreg-name completion.
    r.send("sysreg VTTB\t")
    r.read_until(b"VTTBR_EL2 ")
    out = r.cmd("")
    check("VTTBR_EL2 = 0x0000000000000000" in out, "sysreg completion (before boot VTTBR_EL2 is 0)", out)

    # Boot to the breakpoint.
    out = r.cmd("boot", timeout=300)
    check("Breakpoint 1, cpu0" in out and "__pkvm_init_switch_pgd" in out, "boot stops at the breakpoint", out)
    out = r.cmd("sysreg TTBR0_EL2")
    before = re.search(r"TTBR0_EL2 = (0x[0-9a-f]+)", out).group(1)

    # mrs, bic, msr sctlr, isb, tlbi, dsb: the next instruction writes TTBR0_EL2.
    out = r.cmd("stepi 6")
    check("msr ttbr0_el2, x0" in out, "stepi 6 reaches the TTBR0_EL2 write", out)
    out = r.cmd("sysreg TTBR0_EL2")
    check(before in out, "TTBR0_EL2 unchanged before the write", out)
    out = r.cmd("stepi")
    check("+0x1c" in out, "stepi executes exactly one instruction", out)
    out = r.cmd("sysreg TTBR0_EL2")
    after = re.search(r"TTBR0_EL2 = (0x[0-9a-f]+)", out).group(1)
    check(after != before and int(after, 16) != 0, "TTBR0_EL2 changed %s -> %s" % (before, after), out)
    out = r.cmd("info breakpoints")
    check(re.search(r"1\s+break\s+y\s+0x[0-9a-f]+\s+1\s+__pkvm_init_switch_pgd", out) is not None,
          "info breakpoints counts the hit", out)

    out = r.cmd("continue", timeout=300)
    check("protection finalised" in out, "continue finishes the boot", out)
    out = r.cmd("expect host-read __hyp_text_start refused")
    check("expected" not in out, "host cannot read the hypervisor's text", out)

    # The inspection engine: completion of the new commands and their words.
    r.send("ren\t")
    r.read_until(b"render ")
    r.send("\x15")
    r.send("set diff-on\t")
    r.read_until(b"diff-on-stop ")
    out = r.cmd("on")
    check("diff-on-stop is on" in out, "set completes its settings; diff-on-stop on", out)
    out = r.cmd("hvc host_share_hyp 0x48000")
    check("x1=0" in out and "diff:" in out and "SHARED_OWNED" in out,
          "hvc shows its table diff with diff-on-stop", out)
    out = r.cmd("owner 0x48000000")
    check("host=SHARED_OWNED hyp=SHARED_BORROWED" in out, "owner decodes the vmemmap entry", out)
    out = r.cmd("expect state 0x48000000 hyp == SHARED_BORROWED")
    check("expected" not in out and "error" not in out, "expect state", out)
    out = r.cmd("trace")
    check(re.search(r"host_share_hyp\(0x48000\) = x0 0, x1 0", out) is not None and "host-s2" in out,
          "trace lists the call and its diff", out)
    out = r.cmd("check")
    check("0 violations" in out, "check is clean", out)
    out = r.cmd("help render")
    check("usage: render --view" in out and "-o map.png" in out, "help render", out)

    # Guests: `vm` completes its subcommands and the host's VM handles.
    out = r.cmd("set diff-on-stop off")
    r.send("vm cre\t")
    r.read_until(b"create ")
    out = r.cmd("")
    check(re.search(r"VM 0x1000 created: VMID 1, not protected, stage-2 root 0x[0-9a-f]+", out) is not None,
          "vm create completes and prints handle, VMID and root", out)
    out = r.cmd("vm share 0x1000 0x40400 0x48100 2")
    check("host_share_guest(" in out and ": 0 (ok)" in out, "vm share", out)
    r.send("vm run wr\t")
    r.read_until(b"write ")
    out = r.cmd("0x48100000 0x42")
    check("guest hypercall: write done" in out, "vm run completes read/write/exec/resume", out)
    out = r.cmd("vm run read 0x48100000")
    check("read done, value 0x42" in out, "the guest reads back its store", out)
    r.send("vm show 0x10\t")
    r.read_until(b"0x1000 ")
    out = r.cmd("")
    check(re.search(r"0x48100 +0x40400 +share +rw- +\| +rw- +SHARED_BORROWED", out) is not None,
          "vm show completes the handle and lists gfn -> pfn", out)
    out = r.cmd("vm unshare 0x1000 0x48200")
    check("-ENOENT (-2)" in out, "refused calls print errno names", out)
    out = r.cmd("expect vm check clean")
    check("expected" not in out and "error" not in out, "expect vm check clean", out)
    out = r.cmd("vm teardown 0x1000")
    check("teardown_vm: 0 (ok)" in out, "vm teardown", out)

    # The live window (SDL's dummy driver here): opens, redraws after a hypercall,
    # closes; without a display it must only print an error.
    out = r.cmd("viz")
    opened = "window open" in out
    check(opened or "cannot open a window" in out, "viz opens a window or says why not", out)
    out = r.cmd("hvc nop")
    check("nop: x0=0" in out, "the REPL carries on with the window open", out)
    if opened:
        out = r.cmd("viz close")
        check("window closed" in out, "viz close", out)

    r.send("quit\n")
    _, status = os.waitpid(r.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "quit exits 0")
    with open(hist.name) as f:
        h = f.read()
    os.unlink(hist.name)
    check("stepi 6" in h and "boot" in h, "history saved to $HYPSCOPE_HISTORY", h)

    run_control(exe, env)
    interrupts(exe, env, hist.name)
    if os.path.exists(hist.name):
        os.unlink(hist.name)
    print("all REPL checks passed")


def interrupts(exe, env, hist):
    """Ctrl-C at the prompt and during a long command; history written as we go (issue 13)."""
    # A loop must outlast the Ctrl-C: raise the per-run instruction limit.
    r = Repl([exe, "--insn-limit", "20000000000"], env)
    r.read_until(re.escape(PROMPT))
    r.send("frobnic")
    time.sleep(0.3)
    r.send("\x03")
    r.read_until(re.escape(PROMPT), timeout=10)
    out = r.cmd("help stepi")
    check("usage: stepi" in out and "frobnic" not in out,
          "Ctrl-C at the prompt abandons the line and gives a new prompt", out)
    with open(hist) as f:
        h = f.read()
    check("help stepi" in h, "history is appended as commands are typed", h)
    # The host's hypercall stub made a `b .` (the host owns its code page):
    # `hvc nop` spins at EL1 until Ctrl-C.
    out = r.cmd("boot", timeout=300)
    out = r.cmd("host write 0x40000000 0x14000000 --size 4")
    check("ok" in out, "the host patches its own hypercall stub", out)
    for what in ("hvc nop", "continue"):
        r.send(what + "\n")
        time.sleep(1.5)
        r.send("\x03")
        out = r.read_until(re.escape(PROMPT), timeout=60).decode(errors="replace")
        check(re.search(r"Interrupted on cpu0 at 0x40000000", out) is not None,
              "Ctrl-C interrupts a spinning %s at an instruction boundary" % what, out)
        out = r.cmd("expect stop == interrupted")
        check("expected" not in out, "expect stop == interrupted", out)
        out = r.cmd("info program")
        icount = int(re.search(r"instructions executed: (\d+)", out).group(1))
        if what == "continue":
            check(icount > first, "continue resumed the run (%d -> %d instructions)" % (first, icount), out)
        first = icount
    r.send("\x03")
    r.read_until(re.escape(PROMPT), timeout=10)
    out = r.cmd("stepi 3")
    check("Interrupted" not in out and "stepi:" not in out,
          "a Ctrl-C at the prompt does not stop the next command", out)
    r.send("quit\n")
    _, status = os.waitpid(r.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "quit exits 0 after Ctrl-C")


def run_control(exe, env):
    """Source-level stepping, hypercall breakpoints and watchpoints, in a fresh session."""
    r = Repl([exe], env)
    r.read_until(re.escape(PROMPT))
    r.send("break hv\t")
    r.read_until(b"hvc ")
    r.send("host_share_h\t")
    r.read_until(b"host_share_hyp ")
    out = r.cmd("")
    check("Breakpoint 1: hypercall host_share_hyp" in out, "break hvc completes the hypercall name", out)
    out = r.cmd("break __pkvm_init")
    check("Breakpoint 2 at" in out, "break __pkvm_init", out)
    out = r.cmd("boot", timeout=300)
    check("Breakpoint 2, cpu0" in out and "setup.c:213" in out, "boot stops at __pkvm_init", out)
    out = r.cmd("next")
    check(re.search(r"^214\s+if \(pkvm_initialised\)", out, re.M) is not None, "next: the first statement (line 214)", out)
    out = r.cmd("until setup.c:225")
    check(re.search(r"^225\s+hyp_printf", out, re.M) is not None, "until setup.c:225", out)
    out = r.cmd("step")
    check("in hyp_printf" in out and "console.c:52" in out, "step enters hyp_printf at its entry, as gdb's", out)
    out = r.cmd("bt")
    check(re.search(r"#1 .* in __pkvm_init", out) is not None, "bt from inside the call", out)
    out = r.cmd("finish")
    check("Run till exit from #0" in out and "__pkvm_init" in out and "Value returned: x0 = " in out,
          "finish returns to __pkvm_init and prints x0", out)
    out = r.cmd("expect stop == step")
    check("expected" not in out, "expect stop == step after finish", out)
    out = r.cmd("next 2")
    check(re.search(r"^\d+\s", out, re.M) is not None, "next 2 prints the line reached", out)
    out = r.cmd("delete 2")
    out = r.cmd("continue", timeout=300)
    check("boot complete" in out, "continue finishes the boot", out)

    # Hypercall breakpoint, then a watchpoint on a host stage-2 entry.
    out = r.cmd("host read 0x48000000")
    out = r.cmd("watch pte host 0x48000000")
    check(re.search(r"Watchpoint 3: host stage-2 entry for 0x48000000 at PA 0x[0-9a-f]+ \(level 2, now block 0x48000000 S2 RWX NORMAL", out) is not None,
          "watch pte host decodes the current entry", out)
    out = r.cmd("info breakpoints")
    check(re.search(r"1\s+hvc\s+y.*host_share_hyp", out) is not None and re.search(r"3\s+watch\s+y", out) is not None,
          "info breakpoints lists the hvc breakpoint and the watchpoint", out)
    out = r.cmd("hvc host_share_hyp 0x48000")
    check("Breakpoint 1, hypercall host_share_hyp at the EL2 vector" in out, "stops at the EL2 vector for host_share_hyp", out)
    out = r.cmd("continue")
    check("Watchpoint 3: host stage-2 entry for 0x48000000" in out and "-> invalid" in out,
          "the watchpoint fires with old -> new decoded", out)
    out = r.cmd("info watchpoints")
    check(re.search(r"3\s+watch\s+y\s+0x[0-9a-f]+\s+1 ", out) is not None, "info watchpoints counts the hit", out)
    out = r.cmd("delete")
    out = r.cmd("continue")
    check("host_share_hyp x0=0 x1=0" in out, "the share completes after delete", out)
    out = r.cmd("expect check clean")
    check("expected" not in out, "tables consistent after the stops", out)
    r.send("quit\n")
    _, status = os.waitpid(r.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "quit exits 0 (second session)")


if __name__ == "__main__":
    main()
