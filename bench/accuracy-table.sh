#!/usr/bin/env bash
# Trains CLIF, LIF and PLIF on a dataset with 2 MPI ranks and prints a
# markdown table row per neuron: best test accuracy, wall time, command.
#   bench/accuracy-table.sh digits          (10 epochs, ~30 s each)
#   bench/accuracy-table.sh fashion_mnist   (spiking_cnn_small, T 4, 4 epochs, ~9 min each)
# Uses the release build (`make build`).
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:-digits}
ranks=${RANKS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1
case "$dataset" in
  digits)        flags="-dataset digits -model spiking_cnn_small -b 64 -epochs 10 -T_max 10" ;;
  fashion_mnist) flags="-dataset fashion_mnist -model spiking_cnn_small -T 4 -b 64 -epochs 4 -T_max 4 --no-augment" ;;
  *) echo "usage: $0 digits|fashion_mnist" >&2; exit 2 ;;
esac
out=$(mktemp -d)
echo "| dataset | neuron | max test acc | wall time | command |"
echo "|---|---|---|---|---|"
for neuron in ${NEURONS:-CLIF LIF PLIF}; do
  command="mpirun -np $ranks clif-mpi train $flags -neuron $neuron"
  start=$(date +%s.%N)
  mpirun -np "$ranks" .build/release/clif-mpi train $flags -neuron "$neuron" -out_dir "$out" > "$out/$neuron.log" 2>&1
  end=$(date +%s.%N)
  acc=$(grep -o 'max_test_acc=[0-9.]*, steps' "$out/$neuron.log" | tail -1 | sed 's/max_test_acc=//; s/, steps//')
  awk -v d="$dataset" -v n="$neuron" -v a="$acc" -v s="$start" -v e="$end" -v c="$command" \
    'BEGIN { printf "| %s | %s | %.2f %% | %.0f s | `%s` |\n", d, n, 100 * a, e - s, c }'
done
rm -rf "$out"
