#!/usr/bin/env bash
# Runs libFuzzer targets built by `make fuzz`, each for FUZZ_SECONDS on a
# fresh copy of its corpus (test/fuzz/corpus/NAME plus the regression inputs
# in test/data/fuzz/NAME), one after the other.  Crashes, leaks, timeouts and
# broken invariants are saved under $BUILD/artifacts/NAME/; the script exits
# non-zero if any target failed.
# Usage: BUILD=build/fuzz FUZZ_SECONDS=60 test/fuzz/run_fuzz.sh [NAME...]
set -u
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build/fuzz}"
secs="${FUZZ_SECONDS:-60}"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in test/fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); names+=("${n#fuzz_}"); done
fi
fail=0; failed=()
for name in "${names[@]}"; do
  bin="$BUILD/fuzz/fuzz_$name"
  if [ ! -x "$bin" ]; then echo "FAIL $name: $bin not built"; fail=1; failed+=("$name"); continue; fi
  corpus="$BUILD/corpus/$name"
  artifacts="$BUILD/artifacts/$name"
  rm -rf "$corpus" && mkdir -p "$corpus" "$artifacts"
  cp test/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
  [ -d test/data/fuzz/"$name" ] && cp test/data/fuzz/"$name"/* "$corpus"/ 2>/dev/null
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f test/fuzz/"$name".dict ] && args+=(-dict=test/fuzz/"$name".dict)
  log="$BUILD/fuzz_$name.log"
  start=$(date +%s)
  if "$bin" "${args[@]}" "$corpus" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "PASS $name (${execs:-?} runs in $(( $(date +%s) - start ))s, corpus $(ls "$corpus" | wc -l) files)"
  else
    fail=1; failed+=("$name")
    echo "FAIL $name — see $log; inputs in $artifacts/:"
    ls "$artifacts"
    grep -m1 -A12 -E 'ERROR: |runtime error|invariant failed' "$log" | sed 's/^/    /'
  fi
done
[ "$fail" -eq 0 ] && echo "fuzz: ${#names[@]} targets, no failures" || echo "fuzz: failed: ${failed[*]}"
exit "$fail"
