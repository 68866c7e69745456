#!/usr/bin/env python3
"""No circles between the files of one folder, measured from the objects.

check_layering.py proves that includes point down between folders; inside a
folder, files may still call each other in a circle (a.c calls b.c, which calls
back into a.c), and then neither can be read, tested or replaced alone. This
check reads the symbols each object defines and the ones it needs (nm), draws
the file-level call graph of every folder, and finds its strongly connected
components.

The circles that exist today are listed in tests/known_cycles.txt, one per
line: a ratchet. The check fails when a circle appears that is not inside a
listed one (a new circle, or a listed one that grew a file), and says so when
a listed circle has shrunk or gone, so the list can be tightened.

usage: check_cycles.py SOURCE_DIR BUILD_DIR KNOWN_CYCLES_FILE
"""
import os
import subprocess
import sys

# Folder (as in the source tree) -> the object directory of its target.
FOLDERS = {
    "emu/arch": "emu/arch/CMakeFiles/hypscope_arch.dir",
    "emu/machine": "emu/machine/CMakeFiles/hypscope_machine.dir",
    "emu/host": "emu/host/CMakeFiles/hypscope_host.dir",
    "emu/inspect": "emu/inspect/CMakeFiles/hypscope_inspect.dir",
    "viz": "viz/CMakeFiles/hypscope_viz.dir",
    "cli": "cli/CMakeFiles/hypscope.dir",
}
DEFINED = set("TDBRCGSV")


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            needed.add(name)
        elif kind in DEFINED:
            defined.add(name)
    return defined, needed


def graph(objdir, srcdir):
    """File -> the files of its folder it calls (objects of deleted sources are skipped)."""
    files = {}
    for dirpath, _, names in os.walk(objdir):
        for n in names:
            if n.endswith(".c.o") and os.path.exists(os.path.join(srcdir, n[: -len(".o")])):
                files[n[: -len(".o")]] = symbols(os.path.join(dirpath, n))
    owner = {}
    for f, (defined, _) in files.items():
        for s in defined:
            owner[s] = f
    edges = {f: set() for f in files}
    for f, (_, needed) in files.items():
        for s in needed:
            g = owner.get(s)
            if g and g != f:
                edges[f].add(g)
    return edges


def components(edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, stack, on, result = {}, {}, [], set(), []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    result.append(comp)
    return result


def read_known(path):
    known = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            folder, _, files = line.partition(":")
            known.append((folder.strip(), set(files.split()), lineno))
    return known


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1])
        return 2
    source, build, known_path = sys.argv[1:4]
    known = read_known(known_path)
    errors, notes, seen = [], [], 0
    for folder, objdir in FOLDERS.items():
        path = os.path.join(build, objdir)
        if not os.path.isdir(path):
            errors.append(f"{folder}: no objects in {path} (build first)")
            continue
        comps = components(graph(path, os.path.join(source, folder)))
        for comp in comps:
            seen += 1
            names = " ".join(sorted(comp))
            home = [k for k in known if k[0] == folder and comp <= k[1]]
            if not home:
                errors.append(
                    f"{folder}: files call each other in a circle: {names} (break it: move "
                    "what both sides need into a file below them, or let the lower file call "
                    "what the upper one registered with it; see docs/architecture.md)"
                )
            elif comp != home[0][1]:
                notes.append(
                    f"{known_path}:{home[0][2]}: the circle in {folder} shrank to {names}: "
                    "tighten the list"
                )
        for k in known:
            if k[0] == folder and not any(c & k[1] for c in comps):
                notes.append(f"{known_path}:{k[2]}: the circle in {folder} is gone: remove the line")
    for n in notes:
        print("note:", n)
    for e in errors:
        print(e)
    print(f"cycles: {seen} circle(s) found, {len(errors)} not in {os.path.basename(known_path)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
