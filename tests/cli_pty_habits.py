#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gdb habits at the hypscope prompt, through a pseudo-terminal (issue #13).

An empty line repeats stepi (and x continues after what it showed), `commands`
prompts with '>' until `end`, `define` makes a command, `> FILE` sends one
command's output to a file, long output is paged on a 24-line terminal (q stops it), and `shell`
runs a command. Usage: cli_pty_habits.py PATH/TO/hypscope
"""
import os
import fcntl
import re
import struct
import sys
import termios
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_pty_test import PROMPT, Repl, check  # noqa: E402


def main():
    exe = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="hypscope_habits_")
    env = dict(os.environ)
    env.update({"TERM": "dumb", "NO_COLOR": "1", "HYPSCOPE_HISTORY": os.path.join(tmp, "hist"),
                "INPUTRC": "/dev/null", "SDL_VIDEODRIVER": "dummy"})
    r = Repl([exe], env)
    # A 24-line terminal (a bare pty reports 0 rows: no paging).
    fcntl.ioctl(r.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    r.read_until(re.escape(PROMPT))

    out = r.cmd("boot --until pkvm-init", timeout=300)
    out = r.cmd("break __pkvm_init")
    out = r.cmd("c", timeout=300)
    check("Breakpoint 1," in out, "'c' continues to the breakpoint", out)
    out = r.cmd("si")
    m1 = re.search(r"=> (0x[0-9a-f]+)", out)
    out = r.cmd("")
    m2 = re.search(r"=> (0x[0-9a-f]+)", out)
    check(m1 and m2 and int(m2.group(1), 16) == int(m1.group(1), 16) + 4,
          "an empty line repeats si (the PC moves on)", out)
    out = r.cmd("x/2xg $sp")
    a1 = re.search(r"^(0x[0-9a-f]+)", out.strip(), re.M)
    out = r.cmd("")
    a2 = re.search(r"^(0x[0-9a-f]+)", out.strip(), re.M)
    check(a1 and a2 and int(a2.group(1), 16) == int(a1.group(1), 16) + 16,
          "an empty line after x shows the next 16 bytes", out)

    # A block: commands prompts with '>' until end.
    r.send("commands 1\n")
    r.read_until(rb"\n>")
    r.send("p/x $x0\n")
    r.read_until(rb"\n>")
    out = r.cmd("end")
    out = r.cmd("info breakpoints")
    check("        p/x $x0" in out, "commands ... end attaches the lines", out)

    # define, then use it with an argument.
    r.send("define twice\n")
    r.read_until(rb"\n>")
    r.send("p $arg0 * 2\n")
    r.read_until(rb"\n>")
    r.cmd("end")
    out = r.cmd("twice 21")
    check(re.search(r"\$\d+ = 42", out) is not None, "a defined command runs with $arg0", out)

    # > FILE, then shell reads it back.
    path = os.path.join(tmp, "regs.txt")
    out = r.cmd("info registers > %s" % path)
    check(out.split("\n", 1)[-1].strip() == "", "> FILE: nothing on the terminal", out)
    with open(path) as f:
        text = f.read()
    check("pc " in text and "x0 " in text, "> FILE: the registers are in the file", text)
    out = r.cmd("shell grep -c pc %s" % path)
    check(re.search(r"^1\s*$", out.strip(), re.M) is not None, "shell runs a command", out)

    # Paging: more lines than the (24-line) screen stop at the prompt; q ends it.
    r.send("help\n")
    r.read_until(rb"--Type <RET> for more, q to quit, c to continue without paging--")
    r.send("q\n")
    out = r.read_until(re.escape(PROMPT)).decode(errors="replace")
    check("Quit" in out, "long output is paged and q quits", out)
    out = r.cmd("set pagination off")
    out = r.cmd("help")
    check("--Type <RET>" not in out and "quit" in out, "set pagination off prints it all", out)

    r.send("quit\n")
    _, status = os.waitpid(r.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "quit exits 0")
    print("all habit checks passed")


if __name__ == "__main__":
    main()
