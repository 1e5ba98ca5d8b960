#!/usr/bin/env bash
# The closing lines of `make test`: the unit suite's counts from its XCTest
# log, with every skipped test named and its reason, so a skip in CI is seen.
# Usage: tools/test-summary.sh <log of `swift test`>
set -euo pipefail
log=${1:?usage: test-summary.sh <swift test log>}
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$log" | tail -1)
[ -n "$summary" ] || { echo "test-summary: no XCTest summary in $log" >&2; exit 1; }
executed=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$summary")
skipped=$(grep -oE "with [0-9]+ tests? skipped" <<<"$summary" | grep -oE "[0-9]+" || echo 0)
echo "skipped unit tests: $skipped"
grep -E ": Test skipped - " "$log" | sed -E 's/^.*: ([A-Za-z0-9_]+\.[A-Za-z0-9_]+) : Test skipped - /  \1: /' || true
echo "unit: $((executed - skipped - failed)) passed, $failed failed, $skipped skipped"
