#!/usr/bin/env python3
"""The house's one-way doors, checked from the sources.

Every folder may include headers of its own and of the folders below it, never
above. The build enforces the same for emu/ (each library sees only its own
and lower include directories); this test also covers what the build cannot
see: a header found through another path, and system headers such as
Unicorn's that only the machine may use.

Exits non-zero, listing each offending include as file:line, when a rule is
broken.
"""
import os
import re
import sys

# Folder -> the folders whose headers it may include (itself always).
ALLOWED = {
    "emu/arch": set(),
    "emu/machine": {"emu/arch"},
    "emu/host": {"emu/machine", "emu/arch"},
    "emu/inspect": {"emu/host", "emu/machine", "emu/arch"},
    "viz": {"emu/inspect", "emu/host", "emu/machine", "emu/arch"},
    "cli": {"viz", "emu/inspect", "emu/host", "emu/machine", "emu/arch"},
}
# Headers private to a folder: nobody outside it includes them.
PRIVATE = {"uc_quirks.h": "emu/machine"}
# Headers a folder may include only if it is the machine (Unicorn's API).
UNICORN = re.compile(r"#\s*include\s*<unicorn/")
ABI = re.compile(r"#\s*include\s*<hypscope/")
LOCAL = re.compile(r'#\s*include\s*"([^"]+)"')
# Known exceptions, each with the work that removes it.
EXEMPT = {}


def header_owners(root):
    owners = {}
    for folder in ALLOWED:
        path = os.path.join(root, folder)
        for name in os.listdir(path):
            if name.endswith(".h"):
                owners.setdefault(name, set()).add(folder)
    return owners


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    owners = header_owners(root)
    errors = []
    for folder, allowed in ALLOWED.items():
        path = os.path.join(root, folder)
        for name in sorted(os.listdir(path)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"{folder}/{name}"
            if rel in EXEMPT:
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    if UNICORN.search(line) and folder != "emu/machine":
                        errors.append(f"{rel}:{lineno}: only emu/machine may include Unicorn")
                    if ABI.search(line) and folder == "emu/arch":
                        errors.append(
                            f"{rel}:{lineno}: emu/arch knows no hypervisor: take the "
                            "encoding from the profile (pt_swenc.h), not from abi.h"
                        )
                    m = LOCAL.search(line)
                    if not m:
                        continue
                    inc = os.path.basename(m.group(1))
                    where = owners.get(inc)
                    if not where or folder in where:
                        continue
                    if PRIVATE.get(inc) and PRIVATE[inc] != folder:
                        errors.append(f"{rel}:{lineno}: {inc} is private to {PRIVATE[inc]}")
                    elif not where & allowed:
                        errors.append(
                            f"{rel}:{lineno}: includes {inc} from {', '.join(sorted(where))}, "
                            f"which is above {folder} (it may include: "
                            f"{', '.join(sorted(allowed)) or 'nothing else'})"
                        )
    for e in errors:
        print(e)
    print(f"layering: {len(errors)} include(s) pointing the wrong way")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
