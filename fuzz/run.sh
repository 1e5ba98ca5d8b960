#!/usr/bin/env bash
# Fuzzes every parser for a bounded time with libFuzzer + AddressSanitizer.
#
#   fuzz/run.sh [seconds-per-target] [Target ...]     (default: 20 s, every folder in fuzz/Targets)
#
# Builds fuzz/Package.swift into .build-fuzz/ (debug, -sanitize=fuzzer,address), then runs
# each target on its committed seeds (fuzz/corpus/<Target>/) plus a working corpus
# (.build-fuzz/corpus/<Target>/, kept between runs). A crash, an ASan report, an input
# that runs longer than -timeout or an allocation beyond -malloc_limit_mb stops that
# target and leaves the input in .build-fuzz/artifacts/<Target>/; the script then exits 1.
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

summary=()
status=0
for target in "${targets[@]}"; do
  work="$scratch/corpus/$target" artifacts="$scratch/artifacts/$target"
  mkdir -p "$work" "$artifacts"
  log="$scratch/$target.log"
  echo "== $target: $seconds s"
  if nice -n 15 "$scratch/debug/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$artifacts/" \
       "$work" "fuzz/corpus/$target" >"$log" 2>&1; then
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    speed=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || echo "?")
    summary+=("$(printf '%-16s ok      %10s runs %7s exec/s  coverage %s' "$target" "$runs" "$speed" "$cov")")
  else
    status=1
    summary+=("$(printf '%-16s FAILED  see %s and %s' "$target" "$log" "$artifacts")")
    grep -E "ERROR|Fatal|error:|SUMMARY|artifact" "$log" | head -n 8 || true
  fi
done
echo "== fuzz summary ($seconds s per target)"
printf '%s\n' "${summary[@]}"
exit $status
