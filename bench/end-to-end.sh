#!/usr/bin/env bash
# End to end: `clif-mpi train` on files in the real formats against the original recipe in PyTorch
# (bench/pytorch_baseline.py --data-dir: torchvision/spikingjelly datasets, the original's
# DataLoader and train loop), both timed as whole processes, and `clif-mpi bench --dataset` on the
# same files beside `train` (the bench-vs-train agreement).
#   1. spiking_resnet18 CLIF, T 6, b 32 on CIFAR-10 python pickles (3x32x32; the standard configuration)
#   2. spiking_vgg11_bn CLIF, T 10, b 32 on CIFAR10-DVS AEDAT 2.0 recordings (2x48x48 frames)
# The files hold random images/events (bench/make_bench_data.py, the real sizes for CIFAR-10, a
# small CIFAR10-DVS), written once under $DATA. Every process runs N1 and N2 optimiser steps
# (`train --max-steps`, `pytorch_baseline.py --max-steps`); a step costs
# (wall time at N2 − wall time at N1) / (N2 − N1), so loading, start-up, the first step's
# allocations and the final checkpoint cancel. Runs alternate clif-mpi / PyTorch / bench within
# each repetition; each figure is the median over REPS repetitions with the range (min–max);
# ratios are taken within a repetition, then the median. Peak RSS: /usr/bin/time's maximum
# resident set size of the N2 run (the largest single process of its tree). The 1-minute load
# average is printed beside every run (/proc/loadavg), as are OPENBLAS_* variables when set.
# Untimed first runs build the DVS frame caches (clif-mpi's .frames files, the PyTorch side's
# frames_number_T_split_by_number/ as spikingjelly writes it) and fill the page cache.
#
#   PYTHON=/path/to/venv/bin/python bench/end-to-end.sh          # venv from tools/requirements-oracle.txt
# Knobs (environment): REPS (3), N1 (2), N2 (5), THREADS (2: clif-mpi --threads and
# torch.set_num_threads), BATCH (32), J (0: PyTorch DataLoader workers, the original's -j default),
# CONFIGS ("resnet18 vgg11"), DATA (/tmp/clif-e2e-data), NO_TORCH=1 to time clif-mpi alone,
# CLIF_MPI (the binary; default .build/release/clif-mpi, built when missing).
# N2 steps must fit in one epoch: DVS_PER_CLASS (20) recordings per class give 180 training samples.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
REPS=${REPS:-3}; N1=${N1:-2}; N2=${N2:-5}; THREADS=${THREADS:-2}; BATCH=${BATCH:-32}; J=${J:-0}
CONFIGS=${CONFIGS:-"resnet18 vgg11"}; DATA=${DATA:-/tmp/clif-e2e-data}; DVS_PER_CLASS=${DVS_PER_CLASS:-20}
bin=${CLIF_MPI:-$PWD/.build/release/clif-mpi}
log=$(mktemp -d /tmp/clif-e2e.XXXXXX)

fail() { echo "end-to-end: $*" >&2; exit 1; }
[ "$N2" -gt "$N1" ] && [ "$N1" -ge 1 ] && [ "$REPS" -ge 1 ] || fail "need REPS ≥ 1 and N2 > N1 ≥ 1 (got REPS=$REPS N1=$N1 N2=$N2)"
[ $((DVS_PER_CLASS * 9 / 10 * 10)) -ge $((N2 * BATCH)) ] || [[ " $CONFIGS " != *" vgg11 "* ]] \
  || fail "N2=$N2 batches of $BATCH do not fit in one epoch of $((DVS_PER_CLASS * 9)) CIFAR10-DVS training samples; raise DVS_PER_CLASS"
[ -x /usr/bin/time ] || fail "/usr/bin/time (GNU time) is missing: apt-get install time"
if [ ! -x "$bin" ]; then
  echo "building clif-mpi (release)…" >&2
  swift build -c release --product clif-mpi >&2 || fail "swift build failed"
fi
have_torch=1
if [ "${NO_TORCH:-0}" = 1 ] || ! "$PYTHON" -c 'import torch, spikingjelly, numpy, PIL' 2>/dev/null; then
  have_torch=0
  [ "${NO_TORCH:-0}" = 1 ] || echo "NOTE: $PYTHON cannot import torch/spikingjelly/numpy/PIL (make a venv from" \
    "tools/requirements-oracle.txt and set PYTHON=/path/to/venv/bin/python): PyTorch rows are skipped." >&2
fi
datapy=$PYTHON; [ $have_torch = 1 ] || datapy=python3
"$datapy" bench/make_bench_data.py "$DATA" --dvs-per-class "$DVS_PER_CLASS" >&2 || fail "bench/make_bench_data.py failed"

load() { cut -d' ' -f1 /proc/loadavg; }
openblas=$(env | grep '^OPENBLAS_' | tr '\n' ' ')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//');" \
     "OpenBLAS variables: ${openblas:-none set}; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "REPS=$REPS N1=$N1 N2=$N2 THREADS=$THREADS BATCH=$BATCH J=$J; logs in $log"

# timed NAME COMMAND…: runs it under /usr/bin/time; appends "NAME wall-s maxRSS-kB user-s system-s load-before"
# to $log/times.
timed() {
  local name=$1; shift
  local before; before=$(load)
  if /usr/bin/time -f '%e %M %U %S' -o "$log/$name.time" "$@" >"$log/$name.out" 2>&1; then
    echo "$name $(cat "$log/$name.time") $before" >>"$log/times"
    echo "  $name: $(cut -d' ' -f1 "$log/$name.time") s, peak RSS $(( $(cut -d' ' -f2 "$log/$name.time") / 1024 )) MB, load $before" >&2
  else
    echo "  $name FAILED (see $log/$name.out): $(tail -1 "$log/$name.out")" >&2
  fi
}
field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$log/times"; }
calc() { awk "BEGIN { print $1 }"; }
# rate PREFIX REP: samples/s of one step from the runs PREFIX-N1-REP and PREFIX-N2-REP (empty if either failed).
rate() {
  local a b; a=$(field "$1-$N1-$2" 2); b=$(field "$1-$N2-$2" 2)
  [ -n "$a" ] && [ -n "$b" ] || return 0
  if awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a) }'; then calc "$BATCH * ($N2 - $N1) / ($b - $a)"
  else echo "  $1 repetition $2: $N2 steps took no longer than $N1 ($b s, $a s): noise exceeds the steps, left out; raise N2" >&2
  fi
}
# cpu PREFIX REP: user + system seconds of one step, the same way.
cpu() {
  local a b; a=$(awk -v n="$1-$N1-$2" '$1 == n { print $4 + $5 }' "$log/times"); b=$(awk -v n="$1-$N2-$2" '$1 == n { print $4 + $5 }' "$log/times")
  [ -n "$a" ] && [ -n "$b" ] && calc "($b - $a) / ($N2 - $N1)"
}
# stats VALUES…: "median (min–max)".
stats() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3g (%.3g–%.3g)", m, v[1], v[NR] }'
}

rows=()
for cfg in $CONFIGS; do
  case $cfg in
    resnet18) model=spiking_resnet18; T=6; dataset=cifar10; dir=$DATA; shape=3x32x32 ;;
    vgg11) model=spiking_vgg11_bn; T=10; dataset=DVSCIFAR10; dir=$DATA/DVSCIFAR10; shape=2x48x48 ;;
    *) fail "CONFIGS: unknown configuration $cfg (resnet18, vgg11)" ;;
  esac
  name="$model CLIF $shape T=$T b=$BATCH ($dataset files)"
  echo "… $name" >&2
  clif=("$bin" train -dataset "$dataset" -data_dir "$dir" -model "$model" -neuron_model CLIF -T "$T" -b "$BATCH"
        --threads "$THREADS")
  torch=("$PYTHON" bench/pytorch_baseline.py --data-dir "$dir" --dataset "$dataset" --model "$model" --neuron CLIF
         -T "$T" -b "$BATCH" --threads "$THREADS" -j "$J")
  # Untimed: caches, page cache.
  timed "$cfg-clif-warm" "${clif[@]}" --max-steps 1 -out_dir "$log/runs/$cfg-warm"
  if [ $have_torch = 1 ]; then
    timed "$cfg-torch-prepare" "${torch[@]}" --prepare
    timed "$cfg-torch-warm" "${torch[@]}" --max-steps 1
  fi
  for rep in $(seq "$REPS"); do
    for n in "$N1" "$N2"; do
      timed "$cfg-clif-$n-$rep" "${clif[@]}" --max-steps "$n" -out_dir "$log/runs/$cfg-$n-$rep"
      [ $have_torch = 1 ] && timed "$cfg-torch-$n-$rep" "${torch[@]}" --max-steps "$n"
    done
    timed "$cfg-bench-$rep" "$bin" bench --dataset "$dataset" -data_dir "$dir" --model "$model" --neuron CLIF -T "$T" \
      -b "$BATCH" --steps $((N2 - N1)) --warmup 1 --threads "$THREADS"
    rm -rf "$log/runs"
  done
  # Per repetition: samples/s and CPU seconds per step from the difference of the two step counts; ratios.
  clif_sps=(); torch_sps=(); ratio=(); bench_sps=(); agree=(); clif_rss=(); torch_rss=(); rss_ratio=(); loads=()
  clif_cpu=(); torch_cpu=(); bench_cpu=(); agree_cpu=()
  for rep in $(seq "$REPS"); do
    cs=$(rate "$cfg-clif" "$rep"); ps=$(rate "$cfg-torch" "$rep")
    bs=$(sed -n 's/^samples\/s: \([0-9.]*\).*/\1/p' "$log/$cfg-bench-$rep.out" 2>/dev/null)
    bc=$(sed -n 's/^  rank   0 .* CPU *\([0-9.]*\) s$/\1/p' "$log/$cfg-bench-$rep.out" 2>/dev/null)
    cr=$(field "$cfg-clif-$N2-$rep" 3); pr=$(field "$cfg-torch-$N2-$rep" 3)
    loads+=($(awk -v p="^$cfg-.*-$rep\$" '$1 ~ p { print $6 }' "$log/times"))
    [ -n "$cs" ] && clif_sps+=("$cs") && clif_cpu+=("$(cpu "$cfg-clif" "$rep")")
    [ -n "$ps" ] && torch_sps+=("$ps") && torch_cpu+=("$(cpu "$cfg-torch" "$rep")")
    [ -n "$cs" ] && [ -n "$ps" ] && ratio+=("$(calc "$cs / $ps")")
    [ -n "$bs" ] && bench_sps+=("$bs")
    [ -n "$bs" ] && [ -n "$cs" ] && agree+=("$(calc "$bs / $cs")")
    [ -n "$bc" ] && bench_cpu+=("$(calc "$bc / ($N2 - $N1)")")
    [ -n "$bc" ] && [ -n "$cs" ] && agree_cpu+=("$(calc "$(cpu "$cfg-clif" "$rep") / ($bc / ($N2 - $N1))")")
    [ -n "$cr" ] && clif_rss+=("$(calc "$cr / 1024")")
    [ -n "$pr" ] && torch_rss+=("$(calc "$pr / 1024")")
    [ -n "$cr" ] && [ -n "$pr" ] && rss_ratio+=("$(calc "$cr / $pr")")
  done
  fr=$(awk '/^firing rates/{f=1;next} /^peak RSS/{f=0} f{s+=$2;n++} END{if(n) printf "%.3f", s/n}' "$log/$cfg-bench-$REPS.out" 2>/dev/null)
  rows+=("$name|clif-mpi train (whole process)|$(stats "${clif_sps[@]}")|$(stats "${clif_cpu[@]}")|$(stats "${clif_rss[@]}")")
  if [ $have_torch = 1 ]; then
    rows+=("|PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') original recipe, -j $J (whole process)|$(stats "${torch_sps[@]}")|$(stats "${torch_cpu[@]}")|$(stats "${torch_rss[@]}")")
    rows+=("|**clif-mpi train ÷ PyTorch**|**$(stats "${ratio[@]}")**||$(stats "${rss_ratio[@]}")")
  fi
  rows+=("|clif-mpi bench --dataset, same files (mean firing rate $fr)|$(stats "${bench_sps[@]}")|$(stats "${bench_cpu[@]}")|")
  rows+=("|**bench ÷ train** (samples/s; CPU: train ÷ bench)|**$(stats "${agree[@]}")**|$(stats "${agree_cpu[@]}")|")
  rows+=("|1-min load average at the start of the runs|$(stats "${loads[@]}")||")
done

echo
echo "| configuration | run | samples/s (ratio) | CPU s per step, user + system | peak RSS MB, N2 run (ratio) |"
echo "|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
echo
echo "Each cell: median (min–max) over $REPS repetition(s); per step = (wall time at $N2 steps − at $N1) / $((N2 - N1));" \
     "ratios per repetition, then the median. bench: $((N2 - N1)) timed steps after 1 warm-up, mean firing rate of the" \
     "neuron layers in its last step; its CPU is rank 0's over the timed steps (start-up excluded). CPU seconds count every thread of the process (and of DataLoader workers with -j > 0)," \
     "so they stay meaningful on a loaded machine where wall times do not. Every run: $log/times (name, wall s, peak RSS kB," \
     "user s, system s, load before). Load after: $(cut -d' ' -f1-3 /proc/loadavg)."
