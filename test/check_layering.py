#!/usr/bin/env python3
"""make check-layering: the layers of the README's folder table, enforced.

Each folder of src/ (and its mirror in include/btl/) is one layer.  A file
may include headers from its own folder and from the folders its layer may
use (ALLOWED below, straight from the README's table); anything else is an
upward (or sideways) include and fails the check, naming the file and the
include.  Besides that:
  - no .cpp sits directly in src/, no header directly in include/btl/;
  - the ui reaches the engine only through its snapshot headers
    (engine/engine_types.hpp, engine/status_json.hpp): views hold copies,
    never engine objects;
  - modules form no include cycle (a module is a header plus its sources:
    same stem, or a stem it starts, as engine/torrent_status.cpp).
Exit status 0 when clean, 1 with one line per violation otherwise.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BELOW_ENGINE = {"net", "disk", "dht", "ext", "core", "base"}
ALLOWED = {
    "base": set(),
    "core": {"base"},
    "net": {"core", "base"},
    "disk": {"core", "base"},
    "dht": {"core", "base"},
    "ext": {"core", "base"},
    "tracker": {"net", "core", "base"},
    "engine": set(BELOW_ENGINE),
    "launcher": {"rpc", "engine"} | BELOW_ENGINE,
    "rpc": {"engine"} | BELOW_ENGINE,
    "ui": {"launcher", "rpc", "engine"} | BELOW_ENGINE,
    "bin": None,  # the mains wire everything
}
UI_ENGINE_HEADERS = {"engine/engine_types.hpp", "engine/status_json.hpp"}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"btl/([^"]+)"', re.M)


def layer_of(rel):
    """'src/core/wire.cpp' -> 'core'; 'include/btl/core/wire.hpp' -> 'core'."""
    parts = rel.split("/")
    if parts[0] == "src":
        return parts[1] if len(parts) > 2 else None
    if parts[:2] == ["include", "btl"]:
        return parts[2] if len(parts) > 3 else None
    return None


def source_files():
    for top in ("src", "include/btl"):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for n in sorted(names):
                if n.endswith((".cpp", ".hpp")):
                    yield os.path.relpath(os.path.join(dirpath, n), ROOT)


def main():
    errors = []
    includes = {}
    for rel in source_files():
        with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        incs = INCLUDE_RE.findall(text)
        includes[rel] = incs
        layer = layer_of(rel)
        if layer is None:
            errors.append(f"{rel}: not inside a layer folder (src/LAYER/ or include/btl/LAYER/)")
            continue
        if layer not in ALLOWED:
            errors.append(f"{rel}: unknown layer folder '{layer}' (add it to the README's table and test/check_layering.py)")
            continue
        allowed = ALLOWED[layer]
        for inc in incs:
            target = inc.split("/")[0] if "/" in inc else None
            if target is None:
                errors.append(f'{rel}: includes "btl/{inc}", which is not inside a layer folder')
                continue
            if not os.path.exists(os.path.join(ROOT, "include", "btl", inc)):
                errors.append(f'{rel}: includes "btl/{inc}", which does not exist')
                continue
            if allowed is None or target == layer:
                continue
            if target not in allowed:
                errors.append(f'{rel}: includes "btl/{inc}": layer {layer} may not use {target} '
                              f'(allowed: {", ".join(sorted(allowed)) or "nothing"})')
            elif layer == "ui" and target == "engine" and inc not in UI_ENGINE_HEADERS:
                errors.append(f'{rel}: includes "btl/{inc}": the ui reads engine snapshots only '
                              f'({", ".join(sorted(UI_ENGINE_HEADERS))})')

    # Module graph: header module -> header modules it includes (from the
    # header and from the sources that belong to it).
    def module_of(rel):
        """A header is its own module; a source belongs to the header of its
        stem (src/core/wire.cpp -> core/wire.hpp), else to the header in its
        folder whose name starts its own (engine/torrent_status.cpp ->
        engine/torrent.hpp), else to the first header of its folder it
        includes."""
        if rel.startswith("include/btl/"):
            return rel[len("include/btl/"):]
        if not rel.startswith("src/") or layer_of(rel) == "bin":
            return None
        stem = rel[len("src/"):-len(".cpp")]
        if os.path.exists(os.path.join(ROOT, "include", "btl", stem + ".hpp")):
            return stem + ".hpp"
        folder, base = stem.rsplit("/", 1)
        same = [i for i in includes.get(rel, []) if i.rsplit("/", 1)[0] == folder]
        for i in same:
            if base.startswith(i.rsplit("/", 1)[1][:-len(".hpp")]):
                return i
        return same[0] if same else stem + ".hpp"

    graph = {}
    for rel, incs in includes.items():
        m = module_of(rel)
        if m is None:
            continue
        graph.setdefault(m, set()).update(i for i in incs if i != m)

    # Strongly connected components (Tarjan, iterative enough for our size).
    index, low, on_stack, stack, comps = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    for comp in comps:
        errors.append("include cycle between modules: " + " <-> ".join(comp))

    for e in errors:
        print("check-layering: " + e)
    if errors:
        print(f"check-layering: {len(errors)} violation(s)")
        return 1
    print(f"check-layering: {len(includes)} files, layers respected, no include cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
