#!/usr/bin/env bash
# The rooms of src/ (its top-level modules) and their arrows (`crate::X` outside #[cfg(test)]):
# fails on any cycle and on any arrow that does not go down the order below.
# Usage: scripts/layers.sh [--graph] [SRC_DIR]
set -euo pipefail
default_src="$(dirname "$0")/../src"
exec python3 - "$default_src" "$@" <<'EOF'
import os, re, sys

# Top to bottom; a room may use only rooms on lower lines (main and lib sit above all).
ORDER = """
session
plan
cli
generate
record
tracer
kernel
render
watch
verdict
strace stack seccomp procfs source channel
msg
sys
event
decode
syscalls signal text
"""

args = [a for a in sys.argv[2:] if a != "--graph"]
show = "--graph" in sys.argv[2:]
root = args[0] if args else sys.argv[1]
level = {}
for i, line in enumerate(l for l in ORDER.splitlines() if l.strip()):
    for r in line.split():
        level[r] = i


def without_tests(text):
    """The text without comments and #[cfg(test)] items (a module's braces matched)."""
    text = re.sub(r"(?m)^\s*//.*$", "", text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        j = m.end()
        # The item ends at its `;` or at the brace closing its first `{`.
        depth = 0
        while j < len(text):
            c = text[j]
            if c == ";" and depth == 0:
                j += 1
                break
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    j += 1
                    break
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def group_names(text, start):
    """The top-level names of a `use crate::{...}` group opening at `start`."""
    depth, j, names, cur = 0, start, [], ""
    while j < len(text):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1:
            if c == ",":
                names.append(cur)
                cur = ""
            else:
                cur += c
        j += 1
    names.append(cur)
    return [m.group(1) for n in names if (m := re.match(r"\s*(\w+)", n))]


edges = {}
for d, _, files in os.walk(root):
    for f in files:
        if not f.endswith(".rs"):
            continue
        path = os.path.join(d, f)
        parts = os.path.relpath(path, root).split(os.sep)
        room = parts[0][:-3] if len(parts) == 1 else parts[0]
        if room in ("main", "lib"):
            continue
        text = without_tests(open(path, encoding="utf-8").read())
        used = set(re.findall(r"\bcrate::(\w+)", text))
        for m in re.finditer(r"\bcrate::\{", text):
            used.update(group_names(text, m.end() - 1))
        edges.setdefault(room, set()).update(used - {room})

bad = []
for a in sorted(edges):
    for b in sorted(edges[a]):
        for r in (a, b):
            if r not in level:
                bad.append(f"{r}: not in the order of scripts/layers.sh")
        if a in level and b in level and level[b] <= level[a]:
            bad.append(f"{a} -> {b}: against the order")

# Cycles: a depth-first search over the arrows.
state, stack = {}, []


def visit(r):
    state[r] = 1
    stack.append(r)
    for n in sorted(edges.get(r, ())):
        if state.get(n) == 1:
            bad.append("cycle: " + " -> ".join(stack[stack.index(n) :] + [n]))
        elif n not in state:
            visit(n)
    stack.pop()
    state[r] = 2


for r in sorted(edges):
    if r not in state:
        visit(r)

if show:
    for a in sorted(edges, key=lambda r: (level.get(r, -1), r)):
        print(a, "->", " ".join(sorted(edges[a])))
for b in sorted(set(bad)):
    print("layers:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
