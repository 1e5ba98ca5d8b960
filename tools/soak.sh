#!/usr/bin/env bash
# Soak: a training run under mpirun interrupted again and again at random steps, each time
# resumed from the checkpoint it left, until it finishes; its final checkpoints must equal an
# uninterrupted run's byte for byte. The faults, in turn:
#   term  SIGTERM to mpirun, which passes it to the ranks: they finish the step, write
#         checkpoint_latest and stop (mpirun itself exits with 1);
#   kill  SIGKILL to one rank: the job dies; the last epoch's checkpoint is what is left;
#   disk  the run's disk (a tmpfs) filled up to a few KiB: the next checkpoint write fails with
#         ENOSPC, the previous checkpoint stays, the job stops with an error; the filler is
#         removed before the resume.
#
#   tools/soak.sh [--faults N] [--minutes M] [--epochs E] [--ranks P] [--seed S] [--binary PATH]
#
# Each cycle trains from scratch through N faults (default 3, one of each kind), then is left to
# finish and compared; cycles repeat until M minutes have passed (default 0: one cycle).
# Digits, spiking_cnn_small, CLIF, -b 64, T 4, E epochs (default 6), P ranks (default 3,
# oversubscribed). The binary defaults to the release
# build if present, else the debug one. Needs root (tmpfs) and mpirun. Exit status 0 when the
# checkpoints are identical, 1 when they differ or a resume fails in an unexpected way.
set -uo pipefail
cd "$(dirname "$0")/.."
FAULTS=3; MINUTES=0; EPOCHS=6; RANKS=3; SEED=$$; BIN=""
while [ $# -gt 0 ]; do
  case $1 in
    --faults) FAULTS=$2; shift ;;
    --minutes) MINUTES=$2; shift ;;
    --epochs) EPOCHS=$2; shift ;;
    --ranks) RANKS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --binary) BIN=$2; shift ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$BIN" ]; then
  BIN=$PWD/.build/release/clif-mpi; [ -x "$BIN" ] || BIN=$PWD/.build/debug/clif-mpi
fi
say() { echo "soak [$(date +%T)] $*"; }
die() { say "FAILED: $*"; exit 1; }
[ -x "$BIN" ] || die "no clif-mpi binary at $BIN (swift build first)"
[ "$(id -u)" = 0 ] || die "needs root to mount the tmpfs that fills up"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1
RANDOM=$SEED

work=$(mktemp -d /tmp/clif-soak.XXXXXX)
disk=$work/disk
mkdir -p "$disk" "$work/reference"
mount -t tmpfs -o size=4m tmpfs "$disk" || die "cannot mount a tmpfs on $disk"
cleanup() { umount "$disk" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

args=(train -dataset digits -model spiking_cnn_small -neuron CLIF -b 64 -T 4 -epochs "$EPOCHS" -T_max "$EPOCHS")
job() {  # out_dir, extra arguments…: one mpirun job (exec: in the background, $! is mpirun itself)
  local out=$1; shift
  exec mpirun -np "$RANKS" --oversubscribe --bind-to none "$BIN" "${args[@]}" -out_dir "$out" "$@"
}
checkpoint() { find "$1" -name "checkpoint_$2.safetensors" 2>/dev/null | head -1; }

say "binary $BIN, $RANKS ranks, $EPOCHS epochs, seed $SEED, at least $FAULTS faults$([ "$MINUTES" != 0 ] && echo ", cycles for $MINUTES min")"
started=$(date +%s)
# The same -out_dir for both runs (checkpoints record the arguments): the reference runs on the
# tmpfs too and is moved aside.
(job "$disk") >"$work/log-reference" 2>&1 || die "the uninterrupted run failed (see below)
$(tail -20 "$work/log-reference")"
reference_seconds=$(( $(date +%s) - started ))
mv "$disk"/* "$work/reference/" || die "cannot move the uninterrupted run aside"
say "uninterrupted run: ${reference_seconds} s"

kinds=(term kill disk)
faults=0; runs=0; cycles=0; declare -A count=([term]=0 [kill]=0 [disk]=0 [none]=0)
soak_start=$(date +%s)
# One cycle trains from scratch to the end through faults and is compared with the reference;
# cycles repeat until --minutes have passed (one at least).
while true; do
  cycles=$((cycles + 1)); cycle_faults=0
  rm -rf "${disk:?}"/*
  while true; do
    runs=$((runs + 1))
    latest=$(checkpoint "$disk" latest)
    log=$work/log-$runs
    job "$disk" ${latest:+-resume "$latest"} >"$log" 2>&1 &
    pid=$!
    kind=none
    # Faults while fewer than --faults this cycle, then the run is left to finish.
    if [ "$cycle_faults" -lt "$FAULTS" ]; then
      kind=${kinds[faults % 3]}
      # A random moment within the first 40 % of an uninterrupted run's length (a resumed run has less left).
      sleep "$(awk -v r=$RANDOM -v t="$reference_seconds" 'BEGIN { printf "%.1f", 0.5 + (r % 100) / 100 * 0.4 * (t > 2 ? t : 2) }')"
      if kill -0 "$pid" 2>/dev/null; then
        case $kind in
          term) kill -TERM "$pid" ;;
          kill)
            ranks=($(pgrep -P "$pid"))
            if [ ${#ranks[@]} -gt 0 ]; then kill -KILL "${ranks[RANDOM % ${#ranks[@]}]}"; else kind=none; fi ;;
          disk)
            free=$(df -k --output=avail "$disk" | tail -1)
            [ "$free" -gt 8 ] && fallocate -l $(( (free - 8) * 1024 )) "$disk/filler" ;;
        esac
      else
        kind=none   # the job ended before the fault
      fi
    fi
    wait "$pid"; status=$?
    rm -f "$disk/filler"
    if [ "$kind" != none ]; then faults=$((faults + 1)); cycle_faults=$((cycle_faults + 1)); fi
    count[$kind]=$((count[$kind] + 1))
    say "cycle $cycles, run $runs: fault $kind, exit status $status, $([ -n "$latest" ] && echo "resumed from the last checkpoint" || echo "from the start")"
    if [ "$status" = 0 ] && grep -q "max_test_acc=" "$log"; then break; fi
    # A fault may only stop the run in the ways listed above; anything else is a finding.
    case $kind in
      none) die "run $runs ended with status $status without a fault:
$(tail -20 "$log")" ;;
      term) # Once training has begun, the ranks must stop in order with a checkpoint.
            grep -q "checkpoint_latest resumes there" "$log" || ! grep -q "^train epoch" "$log" \
              || die "run $runs: SIGTERM stopped it without a checkpoint:
$(tail -20 "$log")" ;;
      disk) grep -q "No space left on device" "$log" \
              || die "run $runs: the full disk stopped it without saying so:
$(tail -20 "$log")" ;;
    esac
    [ "$runs" -gt $((cycles * (FAULTS + 50))) ] && die "no end after $runs runs"
  done
  for which in latest max; do
    a=$(checkpoint "$work/reference" "$which"); b=$(checkpoint "$disk" "$which")
    [ -n "$a" ] && [ -n "$b" ] || die "checkpoint_$which missing (reference '$a', soaked '$b')"
    cmp -s "$a" "$b" || die "cycle $cycles: checkpoint_$which differs from the uninterrupted run's"
  done
  say "cycle $cycles: checkpoint_latest and checkpoint_max equal the uninterrupted run's"
  [ $(( $(date +%s) - soak_start )) -lt $((MINUTES * 60)) ] || break
done
soak_seconds=$(( $(date +%s) - soak_start ))
say "identical in every cycle: $cycles cycle(s), $runs runs, $faults faults (term ${count[term]}, kill ${count[kill]}, disk ${count[disk]}) in $soak_seconds s"
