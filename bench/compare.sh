#!/usr/bin/env bash
# clif-mpi against the original recipe in PyTorch (CPU), training steps on synthetic data:
#   1. spiking_resnet18 CLIF, 3x32x32, T 6, b 32 (the standard configuration)
#   2. spiking_vgg11_bn CLIF, 2x48x48, T 10, b 32 (the DVS-CIFAR10 shape)
# clif-mpi: `clif-mpi bench` (release build). PyTorch: bench/pytorch_baseline.py in fp32 and
# with bf16 autocast, run by $PYTHON (default python3; the oracle venv from
# tools/requirements-oracle.txt has torch). Each row runs with the environment as set and, when
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set, again with both unset (only for that command);
# then a short clif-mpi training run under both settings checks that the losses agree.
# clif-mpi also runs with --event-density 0 (the dense path alone) and with `bench --amp` (bf16
# autocast numerics on fp32 units) unless NO_BF16=1.
# Prints a markdown table; the ratio column is clif-mpi samples/s ÷ that row's samples/s, taking
# clif-mpi's row of the same precision (fp32 for PyTorch fp32 and the dense path, -amp for PyTorch
# bf16 autocast); the firing rate is the mean over neuron layers of the last timed step
# (synthetic data, initial weights); the GEMM column is `clif-mpi bench`'s rate of its GEMM phases
# per worker thread against a plain 1024³ sgemm on the same threads, measured at start.
#
#   PYTHON=venv/bin/python bench/compare.sh
# Knobs (environment): STEPS (timed steps, default 2), WARMUP (1), BF16_STEPS (1), BF16_WARMUP (0),
# THREADS (2), BATCH (32), NO_BF16=1 to skip bf16. PyTorch's CPU bf16 convolutions fall back to
# a slow reference path on CPUs without native bf16 (no AVX512-BF16/AMX), about 15-20x slower
# than fp32 there, hence one untimed-warmup-free step by default.
# Then the end-to-end rows: bench/end-to-end.sh (whole `train` processes on CIFAR-10 / CIFAR10-DVS
# files against the original recipe in PyTorch, and `bench --dataset` against `train`; its own knobs
# REPS, N1, N2, J, DATA, CONFIGS; THREADS and BATCH are shared). NO_E2E=1 skips them.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STEPS=${STEPS:-2}; WARMUP=${WARMUP:-1}; BF16_STEPS=${BF16_STEPS:-1}; BF16_WARMUP=${BF16_WARMUP:-0}
THREADS=${THREADS:-2}; BATCH=${BATCH:-32}
bin=$PWD/.build/release/clif-mpi
log=$(mktemp -d /tmp/clif-compare.XXXXXX)

if [ ! -x "$bin" ]; then
  echo "building clif-mpi (release)…" >&2
  swift build -c release --product clif-mpi >&2 || { echo "swift build failed" >&2; exit 1; }
fi

have_torch=1
if ! "$PYTHON" -c 'import torch, spikingjelly, numpy, safetensors' 2>/dev/null; then
  have_torch=0
  echo "NOTE: $PYTHON cannot import torch/spikingjelly (make a venv from tools/requirements-oracle.txt" \
       "and set PYTHON=/path/to/venv/bin/python): PyTorch rows are skipped." >&2
fi

# OpenBLAS settings to run under: "as set" always; "unset" too when either variable is set.
settings=("as-set")
if [ -n "${OPENBLAS_CORETYPE+x}" ] || [ -n "${OPENBLAS_L2_SIZE+x}" ]; then
  settings+=("unset")
  asset_label="as set (CORETYPE=${OPENBLAS_CORETYPE-unset}, L2_SIZE=${OPENBLAS_L2_SIZE-unset})"
else
  asset_label="not set in the environment"
fi
label() { [ "$1" = unset ] && echo "unset" || echo "$asset_label"; }
runenv() {  # setting, command…
  local s=$1; shift
  if [ "$s" = unset ]; then env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; else "$@"; fi
}

configs=("spiking_resnet18|3x32x32|6" "spiking_vgg11_bn|2x48x48|10")
rows=()
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

for cfg in "${configs[@]}"; do
  IFS='|' read -r model input T <<<"$cfg"
  name="$model CLIF $input T=$T b=$BATCH"
  for s in "${settings[@]}"; do
    # clif-mpi as it runs (event-driven kernels where inputs are sparse), with --event-density 0
    # (im2col + GEMM everywhere: the dense path alone), and with --amp.
    variants=(events dense); [ "${NO_BF16:-0}" = 1 ] || variants+=(amp)
    for variant in "${variants[@]}"; do
      echo "… clif-mpi ($variant) $name ($(label "$s"))" >&2
      out="$log/clif-$model-$variant-$s.txt"
      extra=(); impl="clif-mpi"; precision="fp32"
      [ $variant = dense ] && { extra=(--event-density 0); impl="clif-mpi, dense path only"; }
      [ $variant = amp ] && { extra=(--amp); precision="bf16 autocast (-amp, fp32 units)"; }
      if runenv "$s" "$bin" bench --model "$model" --neuron CLIF -T "$T" -b "$BATCH" --input "$input" \
           --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" "${extra[@]}" >"$out" 2>&1; then
        sps=$(sed -n 's/^samples\/s: \([0-9.]*\).*/\1/p' "$out")
        gf=$(sed -n 's/.*dense-equivalent GFLOP\/s: \([0-9.]*\).*/\1/p' "$out")
        rss=$(sed -n 's/^peak RSS: \([0-9.]*\) MB.*/\1/p' "$out")
        fr=$(awk '/^firing rates/{f=1;next} /^peak RSS/{f=0} f{s+=$2;n++} END{if(n) printf "%.3f", s/n}' "$out")
        gemm=$(sed -n 's/^GEMM phases.* = \([0-9]*\) % of the sgemm peak measured here (\([0-9.]*\) GFLOP\/s per thread.*/\1 % of \2/p' "$out")
        ratio=""
        case $variant in
          events) eval "clif_${s//-/_}_${model}=$sps" ;;
          amp) eval "clifamp_${s//-/_}_${model}=$sps" ;;
          dense)
            eval "c=\${clif_${s//-/_}_${model}}"
            [ -n "$c" ] && [ -n "$sps" ] && ratio=$(awk -v a="$c" -v b="$sps" 'BEGIN{ if (b > 0) printf "%.2f", a / b }') ;;
        esac
        rows+=("$name|$impl|$precision|$(label "$s")|$sps|$gf|$rss|$fr|$gemm|$ratio")
      else
        rows+=("$name|$impl|$precision|$(label "$s")|failed (see $out)|||||")
        case $variant in
          events) eval "clif_${s//-/_}_${model}=" ;;
          amp) eval "clifamp_${s//-/_}_${model}=" ;;
        esac
      fi
    done
    [ $have_torch = 1 ] || continue
    precisions=(fp32); [ "${NO_BF16:-0}" = 1 ] || precisions+=(bf16)
    for p in "${precisions[@]}"; do
      st=$STEPS; wu=$WARMUP; [ "$p" = bf16 ] && { st=$BF16_STEPS; wu=$BF16_WARMUP; }
      out="$log/torch-$model-$p-$s.txt"
      echo "… pytorch $p $name ($(label "$s"), $st step(s) after $wu warm-up)" >&2
      if runenv "$s" "$PYTHON" bench/pytorch_baseline.py --model "$model" --neuron CLIF -T "$T" -b "$BATCH" \
           --input "$input" --precision "$p" --steps "$st" --warmup "$wu" --threads "$THREADS" >"$out" 2>&1; then
        line=$(grep "^pytorch $p:" "$out")
        sps=$(echo "$line" | sed -n 's/.*samples\/s \([0-9.]*\).*/\1/p')
        gf=$(echo "$line" | sed -n 's/.*GFLOP\/s \([0-9.]*\).*/\1/p')
        rss=$(echo "$line" | sed -n 's/.*peak RSS \([0-9.]*\) MB.*/\1/p')
        if [ "$p" = bf16 ]; then eval "c=\${clifamp_${s//-/_}_${model}:-}"; else eval "c=\${clif_${s//-/_}_${model}}"; fi
        ratio=""
        [ -n "$c" ] && [ -n "$sps" ] && ratio=$(awk -v a="$c" -v b="$sps" 'BEGIN{ if (b > 0) printf "%.2f", a / b }')
        rows+=("$name|PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)')|$p autocast|$(label "$s")|$sps|$gf|$rss|||$ratio")
        [ "$p" = fp32 ] && rows[-1]="${rows[-1]/fp32 autocast/fp32}"
      else
        rows+=("$name|PyTorch|$p|$(label "$s")|failed (see $out)|||||")
      fi
    done
  done
done

echo
echo "| configuration | implementation | precision | OpenBLAS setting | samples/s | dense-equiv. GFLOP/s | peak RSS MB | mean firing rate | GEMM phases, % of sgemm peak (GFLOP/s per thread) | clif-mpi ÷ this (samples/s) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
echo
echo "clif-mpi: $STEPS timed step(s) after $WARMUP warm-up; PyTorch fp32 the same, bf16 $BF16_STEPS after $BF16_WARMUP;" \
     "$THREADS thread(s). Load average after: $(cut -d' ' -f1-3 /proc/loadavg). Logs: $log"
[ $have_torch = 1 ] || echo "PyTorch rows skipped: $PYTHON has no torch (see tools/requirements-oracle.txt)."

if [ "${#settings[@]}" -gt 1 ]; then
  # Same short training run under both settings: the losses must agree.
  for s in "${settings[@]}"; do
    runenv "$s" "$bin" train -dataset digits -model spiking_cnn_small -neuron CLIF -T 4 -b 64 -epochs 1 \
      -out_dir "$log/train-$s" 2>&1 | grep -o 'train_loss=[0-9.e+-]*, train_acc=[0-9.e+-]*, test_loss=[0-9.e+-]*' \
      >"$log/train-$s.txt"
  done
  if cmp -s "$log/train-as-set.txt" "$log/train-unset.txt" && [ -s "$log/train-as-set.txt" ]; then
    echo "OpenBLAS settings agree: digits/spiking_cnn_small 1 epoch gives $(cat "$log/train-as-set.txt") under both."
  else
    echo "OpenBLAS settings DIFFER on digits/spiking_cnn_small 1 epoch: as set $(cat "$log/train-as-set.txt");" \
         "unset $(cat "$log/train-unset.txt")"
  fi
else
  echo "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are not set here: \"as set\" and \"unset\" are the same run."
fi

if [ "${NO_E2E:-0}" != 1 ]; then
  echo
  echo "End to end (bench/end-to-end.sh):"
  PYTHON=$PYTHON THREADS=$THREADS BATCH=$BATCH bench/end-to-end.sh
fi
