#!/usr/bin/env bash
# Runs every integration test (test/integration/test_*.sh and test_*.py) with
# a time limit each, BTL_TEST_JOBS of them at a time (default 2: most tests
# wait on the network, and each one uses its own temp dir and ephemeral
# ports), and prints one summary line: "N passed, N failed".
#
# Each test's output goes to a log of its own; when a test ends, its result
# line (and on failure the reason and the last lines of its log) is printed
# in one block, so the output of tests running side by side never mixes.
# The longest tests start first (their durations from the last run are kept
# in $BUILD/integration-times.tsv; before a first run, the ones measured here
# in test/integration/durations.tsv), so the run ends with short ones.
# A test whose first lines contain "btl-test: serial" runs alone, after the
# others (for tests that measure rates or CPU and must not share the cores).
#
# Usage: test/run_integration.sh [NAME-FILTER]
#   BTL_TEST_JOBS=N       tests at a time (1 = one after the other)
#   BTL_TEST_TIMEOUT=S    time limit of each test (default 900 s)
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
export BTL_BIN="$PWD/$BUILD/bin"
export BTL_ROOT="$PWD"
PY=/usr/bin/python3
limit="${BTL_TEST_TIMEOUT:-900}"
jobs="${BTL_TEST_JOBS:-2}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "BTL_TEST_JOBS must be a positive number, not '$jobs'" >&2; exit 2; }
filter="${1:-}"
times_file="$BUILD/integration-times.tsv"
work=$(mktemp -d /tmp/btl-integration.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Ctrl-C or SIGTERM: stop the running tests (each in its own group) too.
trap 'for p in $(jobs -p); do kill -TERM -- "-$p" 2>/dev/null; done; exit 130' INT TERM

# ---- the tests, longest first (unknown durations count as long)
declare -A last_time=()
for f in test/integration/durations.tsv "$times_file"; do
  [ -r "$f" ] || continue
  while IFS=$'\t' read -r n s; do
    [[ "$s" =~ ^[0-9]+$ ]] && last_time[$n]=$s
  done <"$f"
done
parallel=() serial=()
while IFS=$'\t' read -r _ t; do
  if head -n 40 "$t" | grep -q 'btl-test: serial'; then serial+=("$t"); else parallel+=("$t"); fi
done < <(
  for t in test/integration/test_*.sh test/integration/test_*.py; do
    [ -e "$t" ] || continue
    [ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
    printf '%s\t%s\n' "${last_time[$(basename "$t")]:-999}" "$t"
  done | sort -t$'\t' -k1,1nr -k2,2)

# ---- one test: runs it, then writes its result block and exit status
run_one() {  # run_one TEST ; writes $work/NAME.{log,block,rc,secs}
  local t=$1 name rc start secs why
  name=$(basename "$t")
  case "$t" in
    *.py) runner=("$PY" "$t") ;;
    *)    runner=(bash "$t") ;;
  esac
  start=$(date +%s)
  timeout --kill-after=10 "$limit" "${runner[@]}" >"$work/$name.log" 2>&1 </dev/null
  rc=$?
  secs=$(( $(date +%s) - start ))
  {
    if [ "$rc" -eq 0 ]; then
      echo "PASS $name (${secs}s)"
    else
      # The reason first (a test prints "FAIL: why" last, after the logs of
      # its processes), so that it survives any truncation of the output.
      why=$(grep -aE '^(FAIL|FAILED): ' "$work/$name.log" | tail -n 1 | cut -c1-600)
      echo "FAIL $name (exit $rc, ${secs}s): ${why:-see the lines below}"
      grep -aE '^(FAIL|FAILED): |Traceback|Error' "$work/$name.log" | head -n 10 | sed 's/^/    /'
      echo "    --- last lines:"
      tail -n 40 "$work/$name.log" | sed 's/^/    /'
      echo "${why:-exit $rc}" >"$work/$name.why"
    fi
  } >"$work/$name.block"
  echo "$secs" >"$work/$name.secs"
  echo "$rc" >"$work/$name.rc"   # written last: the test is done
}

pass=0; fail=0; failed=()
running=()   # test paths in flight
T0=$(date +%s)

collect() {  # prints the blocks of finished tests; keeps the others in `running`
  local t name still=()
  for t in "${running[@]+"${running[@]}"}"; do
    name=$(basename "$t")
    if [ -e "$work/$name.rc" ]; then
      cat "$work/$name.block"
      if [ "$(cat "$work/$name.rc")" = 0 ]; then
        pass=$((pass+1))
      else
        fail=$((fail+1)); failed+=("$name: $(cat "$work/$name.why" 2>/dev/null)")
      fi
      last_time[$name]=$(cat "$work/$name.secs")
      rm -f "$work/$name.log"
    else
      still+=("$t")
    fi
  done
  running=("${still[@]+"${still[@]}"}")
}

run_all() {  # run_all MAX TEST... : at most MAX tests at a time
  local max=$1 t; shift
  for t in "$@"; do
    while [ "${#running[@]}" -ge "$max" ]; do
      wait -n 2>/dev/null || true
      collect
      [ "${#running[@]}" -ge "$max" ] && sleep 0.2
    done
    # setsid: the test and everything it starts form one process group.
    setsid bash -c "$(declare -f run_one); work=$(printf %q "$work") limit=$limit PY=$PY; run_one $(printf %q "$t")" &
    running+=("$t")
  done
  while [ "${#running[@]}" -gt 0 ]; do
    wait -n 2>/dev/null || true
    collect
    [ "${#running[@]}" -gt 0 ] && sleep 0.2
  done
}

run_all "$jobs" "${parallel[@]+"${parallel[@]}"}"
run_all 1 "${serial[@]+"${serial[@]}"}"

# Remember the durations for the next run's order (every existing test, not
# only the filtered ones).
if [ -d "$BUILD" ]; then
  for n in "${!last_time[@]}"; do
    [ -e "test/integration/$n" ] && printf '%s\t%s\n' "$n" "${last_time[$n]}"
  done | sort >"$times_file.tmp" \
    && mv "$times_file.tmp" "$times_file"
fi
for f in "${failed[@]+"${failed[@]}"}"; do echo "failed: $f"; done
el=$(( $(date +%s) - T0 ))
echo "integration: $pass passed, $fail failed in $((el / 60))m$((el % 60))s ($jobs at a time)"
[ "$fail" -eq 0 ]
