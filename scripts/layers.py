#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""layers.py - check the #include "..." graph of src/ against the layers of docs/design.md.

Fails (exit 1) on
  (a) a cycle between modules (foo.c + foo.h + foo_int.h are one module, named dir/foo),
  (b) an include that points up the layer order (the ALLOWED table below),
  (c) store/ or media/ including http/ or api/ (also in the table; named apart because
      design.md names it apart).
Cycles inside a folder of ALLOWED_CYCLE_DIRS are reported but do not fail. Standard library only.

Usage: scripts/layers.py [SRC_DIR]   (default: src/ beside this script's folder)
"""
import os
import re
import sys

# Which folders each folder may include from, from design.md "Layers": arrows point down
# only; core and tams include nothing of ours above them; store and media never include
# http or api; http is libmicrohttpd glue that knows no media and no domain (style.md rule
# 1) but runs the auth gate; api uses tams, store, media, events, auth, http, and the jobs
# runner to kick a job; the jobs (deletion, collection) drive the store and media; events
# reads the outbox and runs its delivery as jobs; main wires everything.
ALLOWED = {
    "core": {"core"},
    "tams": {"core", "tams"},
    "auth": {"core", "tams", "auth"},
    "store": {"core", "tams", "store"},
    "media": {"core", "tams", "media"},
    "http": {"core", "auth", "http"},
    "jobs": {"core", "tams", "store", "media", "jobs"},
    "events": {"core", "tams", "store", "media", "jobs", "events"},
    "api": {"core", "tams", "store", "media", "events", "jobs", "auth", "http", "api"},
    "client": {"core", "tams", "client"},
    "main": {"core", "tams", "store", "media", "events", "jobs", "auth", "http", "api"},
}

# Modules held to less than their folder: "a runner that knows no job kinds".
ALLOWED_MODULE = {
    "jobs/runner": {"core"},
}

# design.md: "store and media never include http or api".
NEVER = {("store", "http"), ("store", "api"), ("media", "http"), ("media", "api")}

# Folders whose internal cycles are reported but do not fail. Remove an entry once its
# folder has none.
ALLOWED_CYCLE_DIRS = set()

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
    graph = read_graph(src)
    failures, notes = [], []

    for comp in cycles(graph):
        links = [where(graph, a, b) for a in sorted(comp) for b in sorted(graph[a])
                 if b in comp and b != a]
        text = "cycle: " + " <-> ".join(sorted(comp)) + "\n    " + "\n    ".join(links)
        if {layer_of(m) for m in comp} <= ALLOWED_CYCLE_DIRS:
            notes.append("allowed (ALLOWED_CYCLE_DIRS) " + text)
        else:
            failures.append(text)

    for mod in sorted(graph):
        layer = layer_of(mod)
        allowed = ALLOWED_MODULE.get(mod, ALLOWED.get(layer))
        if allowed is None:
            failures.append(f"unknown layer '{layer}' ({mod}): add it to ALLOWED in {__file__}")
            continue
        for dep in sorted(graph[mod]):
            dep_layer = layer_of(dep)
            if dep == mod or dep_layer in allowed:
                continue
            kind = "forbidden include" if (layer, dep_layer) in NEVER else "upward include"
            failures.append(f"{kind}: {mod} -> {dep}: {where(graph, mod, dep)}")

    cyclic_dirs = {layer_of(m) for c in cycles(graph) for m in c}
    for d in sorted(ALLOWED_CYCLE_DIRS - cyclic_dirs):
        notes.append(f"stale allow-list entry: {d}/ has no cycle now; remove it")

    for n in notes:
        print("layers: note: " + n)
    for f in failures:
        print("layers: " + f)
    print(f"layers: {len(graph)} modules, {sum(len(e) for e in graph.values())} module links, "
          f"{len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
