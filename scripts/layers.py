#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""layers.py - check the #include "..." graph of src/ against docs/internals/layout.md.

The layers and what each may include are the tables of docs/internals/layout.md (between its
"layers:" markers, and the table of modules held to less than their layer), read here, so the
page is the rule. Fails (exit 1) on
  (a) a cycle between modules (foo.c + foo.h + foo_int.h are one module, named dir/foo),
  (b) an include the table does not allow (a layer includes itself and its row),
  (c) a folder of src/ the table does not name.
Standard library only.

Usage: scripts/layers.py [SRC_DIR [LAYOUT_MD]]   (defaults: src/ and docs/internals/layout.md
beside this script's folder)
"""
import os
import re
import sys

ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


def read_layout(path):
    """(allowed, allowed_module): {layer: {layers it may include}}, {module: {layers}}."""
    allowed, allowed_module, in_layers = {}, {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if "<!-- layers:" in line:
                in_layers = "layers: begin" in line
                continue
            m = ROW.match(line.strip())
            if not m:
                continue
            targets = set(re.findall(r"`([^`]+)`", m.group(2).split("|")[-1]))
            if in_layers:
                allowed[m.group(1)] = targets | {m.group(1)}
            elif "/" in m.group(1):
                allowed_module[m.group(1)] = targets
    if not allowed:
        sys.exit(f"layers: no layer table in {path}")
    return allowed, allowed_module


# Every .c includes core/common.h first (style.md rule 2) and common.h pulls in alloc.h,
# err.h and banned.h: that prelude is not a dependency between modules.
PRELUDE = "core/common"

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(rel):
    """src-relative path -> module name: dir/stem, with a _int suffix folded into its module."""
    stem, _ = os.path.splitext(rel)
    if stem.endswith("_int"):
        stem = stem[: -len("_int")]
    return stem


def layer_of(module):
    return module.split("/")[0] if "/" in module else module


def read_graph(src):
    """{module: {included module: [(file, line, text)]}} for every .c/.h under src."""
    graph = {}
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            mod = module_of(rel)
            edges = graph.setdefault(mod, {})
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                target = m.group(1)
                if not os.path.exists(os.path.join(src, target)):
                    continue  # not ours (or a test-only header)
                line = text.count("\n", 0, m.start()) + 1
                if module_of(target) != PRELUDE:
                    edges.setdefault(module_of(target), []).append((rel, line, target))
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt == node:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, {})))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.add(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def where(graph, a, b):
    rel, line, target = graph[a][b][0]
    return f"{rel}:{line} includes {target}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "src")
    layout = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "docs", "internals",
                                                                "layout.md")
    allowed_layer, allowed_module = read_layout(layout)
    graph = read_graph(src)
    failures = []

    for comp in cycles(graph):
        links = [where(graph, a, b) for a in sorted(comp) for b in sorted(graph[a])
                 if b in comp and b != a]
        failures.append("cycle: " + " <-> ".join(sorted(comp)) + "\n    " + "\n    ".join(links))

    for mod in sorted(graph):
        layer = layer_of(mod)
        allowed = allowed_module.get(mod, allowed_layer.get(layer))
        if allowed is None:
            failures.append(f"layer '{layer}' ({mod}) is not in the table of {layout}")
            continue
        for dep in sorted(graph[mod]):
            if dep != mod and layer_of(dep) not in allowed:
                failures.append(f"include the table does not allow: {mod} -> {dep}: "
                                f"{where(graph, mod, dep)}")

    for f in failures:
        print("layers: " + f)
    print(f"layers: {len(graph)} modules, {sum(len(e) for e in graph.values())} module links, "
          f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
