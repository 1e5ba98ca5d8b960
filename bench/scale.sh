#!/usr/bin/env bash
# Scale-out table: samples/s of training steps for 1 and 2 ranks on this host
# (1 or 2 worker threads per rank) and for 2 network-namespace "hosts" over
# TCP, with the share of step time spent waiting in collectives.
#   bench/scale.sh [model] [input CxHxW] [T] [batch]
# Defaults: spiking_cnn_small 1x28x28 T 4 batch 64. Uses the release build.
# The namespace row needs root and iproute2 (hostfiles/netns-hosts.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-spiking_cnn_small}; input=${2:-1x28x28}; T=${3:-4}; batch=${4:-64}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1
bin=$PWD/.build/release/clif-mpi
bench="$bin bench --model $model --input $input -T $T -b $batch --steps ${STEPS:-10} --warmup 2"
row() {  # label, then the command
  local label=$1; shift
  local out; out=$("$@" 2>&1) || { echo "| $label | failed | | |"; echo "$out" >&2; return; }
  local sps comm
  sps=$(echo "$out" | sed -n 's/^samples\/s: \([0-9.]*\).*/\1/p')
  comm=$(echo "$out" | sed -n 's/^communication share: \([0-9.]*\).*/\1/p')
  printf "| %s | %s | %s |\n" "$label" "$sps" "$comm"
}
echo "$model, input $input, T=$T, global batch $batch"
echo
echo "| processes × threads | samples/s | communication share |"
echo "|---|---|---|"
row "1 × 1" $bench --threads 1
row "1 × 2" $bench --threads 2
row "2 × 1 (one host, shared memory)" mpirun -np 2 --bind-to core $bench --threads 1
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
  row "2 × 1 (two namespace hosts, TCP)" hostfiles/netns-hosts.sh run 2 -- $bench --threads 1
fi
