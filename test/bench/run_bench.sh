#!/usr/bin/env bash
# make bench: runs every benchmark script (test/bench/bench_*.sh|py) in turn.
# Each prints its own table of our figures beside the real clients' and the
# ratios.  Exits non-zero only if a scenario could not run.
set -u
cd "$(dirname "$0")/../.."
export BUILD="${BUILD:-build}"
export BTL_BIN="$PWD/$BUILD/bin"
export BTL_ROOT="$PWD"
failed=()
for b in test/bench/bench_*.sh test/bench/bench_*.py; do
  [ -e "$b" ] || continue
  [ -n "${1:-}" ] && [[ "$b" != *"$1"* ]] && continue
  echo "=== $(basename "$b")"
  case "$b" in
    *.py) /usr/bin/python3 "$b" ;;
    *)    bash "$b" ;;
  esac || failed+=("$(basename "$b")")
  echo
done
if [ ${#failed[@]} -gt 0 ]; then echo "bench: could not run: ${failed[*]}"; exit 1; fi
echo "bench: all scenarios ran"
