#!/usr/bin/env python3
"""make check-layering, second half: no function longer than 100 lines and
no main() longer than 60 (the README's rule of thumb for a sign to split).

Function extents come from universal-ctags (its `end:` field), so this
counts the lines from a function's signature to its closing brace, blank
lines and comments included.  Lambdas count as part of the function that
holds them.  Exit status 1 with one line per offender.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_FUNCTION = 100
MAX_MAIN = 60


def main():
    files = []
    for top in ("src", "include/btl"):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".cpp", ".hpp"))]
    out = subprocess.run(
        ["ctags", "--output-format=json", "--languages=C++", "--c++-kinds=f", "--fields=+ne", "-o", "-"] + files,
        check=True, capture_output=True, text=True).stdout
    errors = []
    count = 0
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("_type") != "tag" or "end" not in tag or tag["name"].startswith("__anon"):
            continue
        count += 1
        n = tag["end"] - tag["line"] + 1
        limit = MAX_MAIN if tag["name"] == "main" else MAX_FUNCTION
        if n > limit:
            where = os.path.relpath(tag["path"], ROOT)
            scope = tag.get("scope", "")
            name = (scope.split("::")[-1] + "::" if scope and tag.get("scopeKind") in ("class", "struct") else "") + tag["name"]
            errors.append(f"{where}:{tag['line']}: {name} is {n} lines (limit {limit})")
    for e in errors:
        print("check-function-size: " + e)
    if errors:
        print(f"check-function-size: {len(errors)} function(s) too long")
        return 1
    print(f"check-function-size: {count} functions, none over {MAX_FUNCTION} lines, no main over {MAX_MAIN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
