#!/usr/bin/env bash
# Builds the package and its tests with a sanitizer and runs tests under it.
#
#   tools/sanitize.sh address|thread [--quick | TestFilter ...]
#
# Each sanitizer has its own scratch folder (.build-asan, .build-tsan; git-ignored),
# so the normal build is untouched. The tests that start `clif-mpi` (alone or under
# mpirun) find the tool built next to the test bundle, so they run the sanitized
# binary too. A report fails the test: the sanitizer makes the process exit non-zero
# (and XCTest's own process, for the in-process Core tests).
#
# Without arguments: every test. --quick: the subset CI runs (a few minutes):
#   address  the Core tests (parsers, kernels, checkpoints, fixtures) and one
#            single-process and one 2-rank training run of the spawned tool;
#   thread   the threaded kernels one by one on 4 worker threads (ThreadedKernelTests:
#            Parallel itself, the exact reduction's split passes and LocalReducer, the
#            event convolution, BatchNorm, SGD and AdamW), a whole training step on 3
#            workers, and a training run with --threads 3 and the background batch
#            preparation.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-}"
shift || true
case "$kind" in
  address) scratch=.build-asan
           quick=("CoreTests" "TrainCommandTests/testResumeIsByteIdentical"
                  "DeterminismTests/testRanksWithoutSamplesInASmallLastBatch") ;;
  thread)  scratch=.build-tsan
           quick=("ThreadedKernelTests" "KernelReferenceTests/testWorkerCountDoesNotChangeResults"
                  "DeterminismTests/testCheckpointsAreIdenticalForAnyRankCount") ;;
  *) echo "usage: tools/sanitize.sh address|thread [--quick | TestFilter ...]" >&2; exit 2 ;;
esac

# Leak reports would come from Open MPI's and the Swift runtime's process-lifetime
# allocations, not from clif-mpi; every other ASan/TSan report stops the process.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:${ASAN_OPTIONS:-}"
export TSAN_OPTIONS="halt_on_error=1:${TSAN_OPTIONS:-}"
# The Swift backtracer trips the sanitizers on a crash; their own report is enough.
export SWIFT_BACKTRACE=enable=no

start=$(date +%s)
nice -n 15 swift build --build-tests --scratch-path "$scratch" --sanitize="$kind" 2>&1 \
  | grep -E "error:|Build complete" | grep -v "^\s*$" || true
test -x "$scratch/debug/clif-mpi" || { echo "sanitized build failed" >&2; exit 1; }
built=$(date +%s)

filters=()
if [ "${1:-}" = "--quick" ]; then
  for f in "${quick[@]}"; do filters+=(--filter "$f"); done
else
  for f in "$@"; do filters+=(--filter "$f"); done
fi
status=0
nice -n 15 swift test --skip-build --disable-swift-testing --scratch-path "$scratch" "${filters[@]}" \
  >"$scratch/tests.log" 2>&1 || status=$?
grep -E "ThreadSanitizer|AddressSanitizer|SUMMARY:|error:|Executed [0-9]+ tests" "$scratch/tests.log" | tail -n 20
echo "sanitize $kind: build $((built - start)) s, tests $(( $(date +%s) - built )) s, status $status (log: $scratch/tests.log)"
exit $status
