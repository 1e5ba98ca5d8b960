#!/usr/bin/env bash
# The paper's conversion table (docs/conversion.md) on data available here: trains
# CLIF and LIF on a dataset (2 MPI ranks), then evaluates each checkpoint with
# LIF neurons, soft reset and hard reset to 0 … −0.1, and prints a markdown row
# per trained neuron.
#   bench/conversion-table.sh [digits|fashion_mnist]      (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:-digits}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1
case "$dataset" in
  digits)        flags="-dataset digits -model spiking_cnn_small -b 64 -epochs 10 -T_max 10" ;;
  fashion_mnist) flags="-dataset fashion_mnist -model spiking_cnn_small -T 4 -b 64 -epochs 4 -T_max 4 --no-augment" ;;
  *) echo "usage: $0 digits|fashion_mnist" >&2; exit 2 ;;
esac
resets="none,0,-0.02,-0.04,-0.06,-0.08,-0.1"
out=$(mktemp -d)
echo "| $dataset, evaluated with LIF | soft | hard 0 | −0.02 | −0.04 | −0.06 | −0.08 | −0.1 |"
echo "|---|---|---|---|---|---|---|---|"
for neuron in CLIF LIF; do
  mpirun -np 2 .build/release/clif-mpi train $flags -neuron "$neuron" -out_dir "$out/$neuron" > "$out/$neuron.log" 2>&1
  best=$(grep -o 'max_test_acc=[0-9.]*, steps' "$out/$neuron.log" | tail -1 | sed 's/max_test_acc=//; s/, steps//')
  checkpoint=$(ls "$out/$neuron"/*/checkpoint_max.safetensors)
  row=$(mpirun -np 2 .build/release/clif-mpi infer -resume "$checkpoint" -neuron LIF --v-reset "$resets" -out_dir "$out/infer" \
        | grep '^| LIF |' | awk -F'|' '{ gsub(/ /, "", $4); printf " %s |", $4 }')
  awk -v n="$neuron" -v b="$best" -v r="$row" 'BEGIN { printf "| %s-trained (%.2f %%) |%s\n", n, 100 * b, r }'
done
rm -rf "$out"
