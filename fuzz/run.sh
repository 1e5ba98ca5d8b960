#!/usr/bin/env bash
# Fuzzes every parser for a bounded time with libFuzzer + AddressSanitizer.
#
#   fuzz/run.sh [seconds-per-target] [Target ...]     (default: 20 s, every folder in fuzz/Targets)
#
# Builds fuzz/Package.swift into .build-fuzz/ (debug, -sanitize=fuzzer,address), then runs
# each target on its committed seeds (fuzz/corpus/<Target>/) plus a working corpus
# (.build-fuzz/corpus/<Target>/, kept between runs). A crash, an ASan report, an input
# that runs longer than -timeout or an allocation beyond -malloc_limit_mb stops that
# target and leaves the input in .build-fuzz/artifacts/<Target>/ (emptied at each run);
# the script then exits 1.
# Replay one input: .build-fuzz/debug/<Target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
# Swift runtime traps then show as libFuzzer "deadly signal" with a symbolised stack
# (the Swift backtracer itself trips ASan).
export SWIFT_BACKTRACE=enable=no
shift || true
scratch="$PWD/.build-fuzz"
if [ $# -gt 0 ]; then targets=("$@"); else
  mapfile -t targets < <(find fuzz/Targets -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
fi

# The manifest lists fuzz/Targets/ itself, so it must not come from SwiftPM's cache.
nice -n 15 swift build --package-path fuzz --manifest-cache none --scratch-path "$scratch" \
  -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E "error|Compiling|Build complete" | grep -v "^\s*$" | tail -n 3

# Inputs that are slow only because the machine starved the process (libFuzzer's
# -timeout is wall-clock time; a shared or suspended machine can stall a process
# for longer): a timeout whose input replays within the limit is not a finding, and
# the target continues with the time left.
timeout=10
replays_fast() {
  local target=$1 input=$2
  nice -n 15 "$scratch/debug/$target" -runs=1 -timeout="$timeout" "$input" >/dev/null 2>&1
}

summary=()
status=0
for target in "${targets[@]}"; do
  work="$scratch/corpus/$target" artifacts="$scratch/artifacts/$target"
  rm -rf "$artifacts"
  mkdir -p "$work" "$artifacts"
  log="$scratch/$target.log"
  : >"$log"
  echo "== $target: $seconds s"
  runs=0 spent=0 spurious=0 failed=""
  while [ "$spent" -lt "$seconds" ] && [ -z "$failed" ]; do
    begin=$(date +%s)
    nice -n 15 "$scratch/debug/$target" -max_total_time=$((seconds - spent)) -timeout="$timeout" \
       -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$artifacts/" \
       "$work" "fuzz/corpus/$target" >>"$log" 2>&1 || failed=yes
    spent=$((spent + $(date +%s) - begin))
    part=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$' || echo 0)
    runs=$((runs + part))
    if [ -n "$failed" ]; then
      failed=""
      for input in "$artifacts"/*; do
        case "$(basename "$input")" in
          slow-unit-*) rm -f "$input" ;;
          timeout-*) if replays_fast "$target" "$input"; then spurious=$((spurious + 1)); rm -f "$input"; else failed=yes; fi ;;
          *) failed=yes ;;
        esac
      done
      # A failure without any input left behind (e.g. the process was killed) is a failure too.
      if [ -z "$failed" ] && [ "$spurious" -eq 0 ]; then failed=yes; fi
    fi
    echo "--- $((seconds - spent)) s left" >>"$log"
  done
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo "?")
  speed=$((runs / (spent > 0 ? spent : 1)))
  note=""
  [ "$spurious" -gt 0 ] && note="  ($spurious stall(s) of the machine reported as timeouts; their inputs replay fast)"
  if [ -z "$failed" ]; then
    summary+=("$(printf '%-16s ok      %10s runs %7s exec/s  coverage %s%s' "$target" "$runs" "$speed" "$cov" "$note")")
  else
    status=1
    summary+=("$(printf '%-16s FAILED  see %s and %s' "$target" "$log" "$artifacts")")
    grep -E "ERROR|Fatal|error:|SUMMARY|artifact" "$log" | tail -n 8 || true
  fi
done
echo "== fuzz summary ($seconds s per target)"
printf '%s\n' "${summary[@]}"
exit $status
