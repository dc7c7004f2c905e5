#!/usr/bin/env bash
# Runs every integration test (test/integration/test_*.sh and test_*.py) with
# a time limit each, and prints one summary line: "N passed, N failed".
# Usage: test/run_integration.sh [NAME-FILTER]
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
export BTL_BIN="$PWD/$BUILD/bin"
export BTL_ROOT="$PWD"
PY=/usr/bin/python3
limit="${BTL_TEST_TIMEOUT:-900}"
filter="${1:-}"
pass=0; fail=0; failed=()
for t in test/integration/test_*.sh test/integration/test_*.py; do
  [ -e "$t" ] || continue
  [ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
  name=$(basename "$t")
  start=$(date +%s)
  case "$t" in
    *.py) runner=("$PY" "$t") ;;
    *)    runner=(bash "$t") ;;
  esac
  log=$(mktemp)
  if timeout --kill-after=10 "$limit" "${runner[@]}" >"$log" 2>&1; then
    pass=$((pass+1)); echo "PASS $name ($(( $(date +%s) - start ))s)"
  else
    rc=$?
    fail=$((fail+1))
    # The reason first (a test prints "FAIL: why" last, after the logs of
    # its processes), so that it survives any truncation of the output.
    why=$(grep -aE '^(FAIL|FAILED): ' "$log" | tail -n 1 | cut -c1-600)
    echo "FAIL $name (exit $rc, $(( $(date +%s) - start ))s): ${why:-see the lines below}"
    grep -aE '^(FAIL|FAILED): |Traceback|Error' "$log" | head -n 10 | sed 's/^/    /'
    failed+=("$name: ${why:-exit $rc}")
    echo "    --- last lines:"
    tail -n 40 "$log" | sed 's/^/    /'
  fi
  rm -f "$log"
done
for f in "${failed[@]+"${failed[@]}"}"; do echo "failed: $f"; done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
