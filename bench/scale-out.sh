#!/usr/bin/env bash
# Measures what the scale-out cost model needs on this machine and prints its predictions:
#   1. collective latency and bandwidth (bench/collectives.c) at P = 2, 4, 8 ranks over shared
#      memory and over TCP between network-namespace "hosts", unshaped and shaped with tbf to
#      1 and 10 Gbit/s per host link (this machine's TCP does not reach 25 Gbit/s), 8 B … 32 MiB;
#   2. compute per work unit: `clif-mpi bench --threads 1` at -b 1, 2, 4, 8 with
#      --chunk-samples = b (standard configuration), -b 8 in chunks of 1, two threads, VGG-11;
#   3. the collectives of one training step (scale_model.py --schedule) replayed alone, as clif-mpi
#      runs them (ring scheme) and as it did before the gradient buckets (per-tensor scheme);
#      and what a synchronisation point between stretches of compute costs when ranks outnumber
#      cores (collectives --sync-probe);
#   4. real `clif-mpi bench` jobs at P = 1, 2, 4, 8 ranks (oversubscribed) on one host and over
#      namespace hosts, with their step time and communication share;
# then runs bench/scale_model.py on the results (fit, errors at the measured points, predictions).
#
#   bench/scale-out.sh [--quick] [--out DIR]        (as root: namespaces, bridge, tc)
#   python3 bench/scale_model.py DIR                (the model again on saved results)
#
# Full: about 10 min here; --quick: about 4 min (fewer sizes, ranks and jobs, one round). Results go to
# DIR (default a new /tmp/clif-scale-out.XXXXXX): collectives.csv, units.csv, concurrent.csv,
# jobs.csv, replay.csv, sync.csv, logs/. Uses the release build (swift build -c release --product clif-mpi).
# Network: namespaces so-h1…so-h4 and so-head on the bridge so-br0, addresses 10.79.0.0/24
# only (no route out); all of it, qdiscs included, is removed on exit. This kernel has no
# netem, so link latency cannot be added here: the model adds the wire latency of a real
# network as a parameter (--wire-latency-us) on top of the TCP latency measured here.
set -uo pipefail
cd "$(dirname "$0")/.."
QUICK=0; OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    *) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_pml=ob1
HERE=$PWD
bin=$HERE/.build/release/clif-mpi
OUT=${OUT:-$(mktemp -d /tmp/clif-scale-out.XXXXXX)}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
coll=$OUT/collectives
started=$(date +%s)

say() { echo "scale-out [$(date +%T), load $(cut -d' ' -f1 /proc/loadavg)] $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'; }

if [ ! -x "$bin" ]; then
  say "building clif-mpi (release)…"
  swift build -c release --product clif-mpi >&2 || { echo "swift build failed" >&2; exit 1; }
fi
mpicc -O2 -o "$coll" bench/collectives.c || { echo "mpicc failed on bench/collectives.c" >&2; exit 1; }

# ---------------------------------------------------------------- network-namespace hosts
readonly NS=so-h BR=so-br0 HEAD=so-head SUBNET=10.79.0 HOSTS=4
net_made=0
net_down() {
  [ $net_made = 1 ] || return 0
  local ns pids
  for ns in $HEAD $(seq -f "$NS%g" 1 $HOSTS); do
    ip netns list | awk '{print $1}' | grep -qx "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null)          # only processes this script started
    [ -n "$pids" ] && { kill $pids 2>/dev/null; sleep 1; kill -9 $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null; }
    ip netns del "$ns"
  done
  ip link show $BR >/dev/null 2>&1 && ip link del $BR
  net_made=0
  say "namespaces, bridge and qdiscs removed"
}
trap 'net_down' EXIT
trap 'net_down; exit 130' INT
trap 'net_down; exit 143' TERM

net_up() {
  [ "$(id -u)" = 0 ] && command -v ip >/dev/null && command -v tc >/dev/null || return 1
  if ip link show $BR >/dev/null 2>&1 || ip netns list | grep -q "^$NS"; then
    echo "scale-out: $BR or $NS* exist already (another run?); remove them or wait" >&2; return 1
  fi
  net_made=1
  ip link add $BR type bridge && ip link set $BR up || return 1
  local k ns address
  for k in head $(seq 1 $HOSTS); do
    if [ $k = head ]; then ns=$HEAD; address=$SUBNET.254; else ns=$NS$k; address=$SUBNET.$k; fi
    ip netns add "$ns" || return 1
    ip link add "so-v$k" type veth peer name so0 netns "$ns" || return 1
    ip link set "so-v$k" master $BR up
    ip -n "$ns" addr add "$address/24" dev so0
    ip -n "$ns" link set so0 up
    ip -n "$ns" link set lo up
  done
  mkdir -p "$OUT/net/tmp"
  {
    echo '#!/bin/sh'
    echo '# mpirun'"'"'s rsh agent: runs the command in the namespace that holds the address $1.'
    echo 'host=$1; shift'
    echo 'case $host in'
    for k in $(seq 1 $HOSTS); do echo "  $SUBNET.$k) ns=$NS$k ;;"; done
    echo '  *) echo "agent: no namespace host has the address $host" >&2; exit 255 ;;'
    echo 'esac'
    echo "mkdir -p \"$OUT/net/tmp/\$ns\""
    echo "exec ip netns exec \"\$ns\" env TMPDIR=\"$OUT/net/tmp/\$ns\" sh -c \"\$*\""
  } >"$OUT/net/agent.sh"
  chmod +x "$OUT/net/agent.sh"
  say "namespace hosts up: $HOSTS hosts on $BR, $SUBNET.0/24"
}

# tbf at RATE on both ends of every host's veth (what the host sends and what it receives);
# "none" removes the shaping. The bucket holds about 100 us of traffic (at least 64 KiB), so
# messages of a few hundred KiB already meet the rate.
net_shape() {
  local rate=$1 k burst
  case $rate in 1gbit) burst=64kb ;; 10gbit) burst=160kb ;; *) burst=400kb ;; esac
  for k in $(seq 1 $HOSTS); do
    tc qdisc del dev "so-v$k" root 2>/dev/null; tc -n "$NS$k" qdisc del dev so0 root 2>/dev/null
    [ "$rate" = none ] && continue
    tc qdisc add dev "so-v$k" root tbf rate "$rate" burst $burst latency 50ms || return 1
    tc -n "$NS$k" qdisc add dev so0 root tbf rate "$rate" burst $burst latency 50ms || return 1
  done
}

# Whether an idle rank yields its core (mpi_yield_when_idle). This machine is shared and loaded,
# so ranks rarely have a core each: over shared memory a rank that spins while its peer waits
# for a core turns every large message into scheduler time slices (2 MB allreduce: 25 ms
# spinning, 0.5 ms yielding), so shared memory always yields. Over TCP a yielding rank sees its
# data a scheduler tick late (4-8 ms per collective at P = 2), so TCP spins at P <= 2 and
# yields above (4 and 8 spinning ranks on 2 cores take tens of ms per collective).
yield_flag() { if [ "$2" = shm ] || [ "$1" -gt 2 ]; then echo 1; else echo 0; fi; }

# mpirun over the namespace hosts: P ranks, spread round-robin over min(P, 4) hosts.
net_mpirun() {
  local p=$1; shift
  local hosts=$(( p < HOSTS ? p : HOSTS )) k
  : >"$OUT/net/hostfile"
  for k in $(seq 1 $hosts); do echo "$SUBNET.$k slots=$(( (p + hosts - 1) / hosts ))" >>"$OUT/net/hostfile"; done
  timeout 600 ip netns exec $HEAD mpirun --allow-run-as-root --hostfile "$OUT/net/hostfile" -np "$p" \
    --map-by node --bind-to none --mca mpi_yield_when_idle "$(yield_flag "$p" tcp)" \
    --mca plm_rsh_agent "$OUT/net/agent.sh" --mca plm_rsh_no_tree_spawn 1 \
    --mca pml ob1 --mca btl tcp,self \
    --mca btl_tcp_if_include $SUBNET.0/24 --mca oob_tcp_if_include $SUBNET.0/24 "$@"
}
shm_mpirun() {
  local p=$1; shift
  if [ "$p" = 1 ]; then timeout 600 "$@"; return; fi
  local over=(); [ "$p" -gt 2 ] && over=(--oversubscribe)
  timeout 600 mpirun -np "$p" "${over[@]}" --bind-to none --mca mpi_yield_when_idle "$(yield_flag "$p" shm)" \
    --mca btl vader,self "$@"
}

# ---------------------------------------------------------------- 1. collectives
header="label,op,ranks,bytes,elements,reps,median_us,q25_us,min_us,max_us,ring_GBps,load"
echo "$header" >"$OUT/collectives.csv"
echo "$header" >"$OUT/replay.csv"
append() {  # file, log, label: the CSV lines of a collectives run with the load beside them
  local l; l=$(load)
  grep -F "$3," "$2" | grep -v '^label,' | grep "^$3," | sed "s|\$|,$l|" >>"$1"
}
# Shaped rates this machine's TCP can carry (it reaches about 1.5 GB/s unshaped, so 25 Gbit/s
# would not bind): 1 Gbit/s binds everywhere, 10 Gbit/s near the top.
if [ $QUICK = 1 ]; then sizes=(--max 4194304 --factor 8 --budget 0.1); ranks=(2 4); rates=(1gbit)
else sizes=(--min 8 --max 33554432 --factor 4 --budget 0.1); ranks=(2 4 8); rates=(1gbit 10gbit); fi
collectives() {  # transport label, P, launcher
  local label=$1 p=$2 launcher=$3 log="$OUT/logs/coll-$1-$2.txt"
  say "collectives: $label, P=$p"
  if $launcher "$p" "$coll" "${sizes[@]}" --label "$label" >"$log" 2>&1; then append "$OUT/collectives.csv" "$log" "$label"
  else say "collectives $label P=$p failed (see $log)"; fi
}
for p in "${ranks[@]}"; do collectives shm "$p" shm_mpirun; done
have_net=0
if net_up; then have_net=1; else say "no namespace hosts (needs root, ip and tc): TCP rows skipped"; fi
if [ $have_net = 1 ]; then
  for p in "${ranks[@]}"; do collectives tcp "$p" net_mpirun; done
  for rate in "${rates[@]}"; do
    net_shape "$rate" || { say "tc tbf failed: shaped rows skipped"; break; }
    for p in 2 4; do collectives "tcp-${rate%bit}" "$p" net_mpirun; done
  done
  net_shape none
fi

# ---------------------------------------------------------------- 2. compute per work unit
echo "model,input,T,b,chunk,threads,samples_per_s,step_s,cpu_step_s,load" >"$OUT/units.csv"
unit() {  # model input T b chunk threads steps
  local log="$OUT/logs/unit-$1-$4-$5-$6.txt" l
  say "unit: $1 $2 T=$3 b=$4 chunk=$5 threads=$6"
  l=$(load)
  if "$bin" bench --model "$1" --input "$2" -T "$3" -b "$4" --chunk-samples "$5" --threads "$6" \
       --steps "$7" --warmup 1 >"$log" 2>&1; then
    local sps step cpu
    sps=$(sed -n 's/^samples\/s: \([0-9.]*\).*/\1/p' "$log"); step=$(sed -n 's/.*step: \([0-9.]*\) s.*/\1/p' "$log")
    cpu=$(sed -n 's/^ *rank *0 .* CPU *\([0-9.]*\) s$/\1/p' "$log")
    echo "$1,$2,$3,$4,$5,$6,$sps,$step,$(awk -v c="$cpu" -v n="$7" 'BEGIN { printf "%.4f", c / n }'),$l" >>"$OUT/units.csv"
  else say "unit run failed (see $log)"; fi
}
R18="spiking_resnet18 3x32x32 6"; VGG="spiking_vgg11_bn 2x48x48 10"; CNN="spiking_cnn_small 1x28x28 4"
say "fixed-point accumulation of one chunk's partials (C replica), ResNet-18 and VGG-11 sizes"
for count in 11169098 9470794 50186; do
  "$coll" --accumulate $count --reps 9 --label accumulate >"$OUT/logs/accumulate-$count.txt" 2>&1 \
    && append "$OUT/collectives.csv" "$OUT/logs/accumulate-$count.txt" accumulate
done
if [ $QUICK = 1 ]; then
  unit $R18 1 1 1 3; unit $R18 4 4 1 2; unit $R18 4 1 1 2; unit $CNN 64 1 1 3; unit $VGG 2 2 1 2
else
  for b in 1 2 4 8; do unit $R18 $b $b 1 $(( b <= 2 ? 4 : 3 )); done
  unit $R18 8 1 1 3; unit $R18 8 1 2 3
  unit $CNN 8 1 1 5; unit $CNN 64 1 1 5; unit $CNN 64 1 2 5
  unit $VGG 1 1 1 3; unit $VGG 4 4 1 2
fi

# ---------------------------------------------------------------- 3. one step's collectives alone
for m in spiking_resnet18:3x32x32:6 spiking_cnn_small:1x28x28:4; do
  IFS=: read -r model input T <<<"$m"
  for scheme in per-tensor ring; do
    python3 bench/scale_model.py --schedule "$model" --input "$input" -T "$T" --scheme "$scheme" \
      >"$OUT/logs/schedule-$model-$scheme.txt" || say "no schedule for $model"
  done
done
replay() {  # transport label, P, launcher, model, scheme
  local log="$OUT/logs/replay-$1-$2-$4-$5.txt"
  say "replay: $4 $5 scheme, $1, P=$2"
  if $3 "$2" "$coll" --replay "$OUT/logs/schedule-$4-$5.txt" --reps "$6" --label "$1:$4:$5" >"$log" 2>&1; then
    append "$OUT/replay.csv" "$log" "$1:$4:$5"
  else say "replay failed (see $log)"; fi
}
replay_ranks=("${ranks[@]}")
for p in "${replay_ranks[@]}"; do
  replay shm "$p" shm_mpirun spiking_cnn_small ring 21
  replay shm "$p" shm_mpirun spiking_resnet18 per-tensor 7
  replay shm "$p" shm_mpirun spiking_resnet18 ring 7
done
if [ $have_net = 1 ]; then
  for p in 2 4; do
    replay tcp "$p" net_mpirun spiking_cnn_small ring 21
    replay tcp "$p" net_mpirun spiking_resnet18 per-tensor 5
    replay tcp "$p" net_mpirun spiking_resnet18 ring 5
  done
  net_shape 1gbit
  replay tcp-1g 2 net_mpirun spiking_resnet18 per-tensor 5
  replay tcp-1g 2 net_mpirun spiking_resnet18 ring 5
  net_shape none
fi

# ---------------------------------------------------------------- 3b. synchronisation points
# What a synchronisation point between stretches of compute costs when ranks time-slice the
# cores (collectives --sync-probe: the work per stretch in µs), for the oversubscribed jobs.
echo "label,op,ranks,work_us,iterations,reps,median_us,q25_us,min_us,max_us,free_us,load" >"$OUT/sync.csv"
sync_probe() {  # transport label, P, launcher, work in us
  local log="$OUT/logs/sync-$1-$2-$4.txt"
  say "sync probe: $1, P=$2, $4 us of work per stretch"
  if $3 "$2" "$coll" --sync-probe "$4" --reps 7 --label "$1" >"$log" 2>&1; then
    append "$OUT/sync.csv" "$log" "$1"
  else say "sync probe failed (see $log)"; fi
}
if [ $QUICK = 1 ]; then sync_ranks=(4); works=(2000 16000); else sync_ranks=(2 4 8); works=(1000 4000 16000 64000); fi
for p in "${sync_ranks[@]}"; do
  for w in "${works[@]}"; do sync_probe shm "$p" shm_mpirun "$w"; done
done
if [ $have_net = 1 ]; then
  for p in 2 4; do
    [ $QUICK = 1 ] && [ "$p" = 2 ] && continue
    for w in "${works[@]}"; do sync_probe tcp "$p" net_mpirun "$w"; done
  done
fi

# ---------------------------------------------------------------- 4. real training-step jobs
# JOB_ROUNDS rounds (default 3, --quick 1), each running every job once, so that a slow minute of
# this machine lands on all rank counts alike; the model takes the median of each job's rounds
# and holds every P > 1 job to the P = 1 job of its model (the compute calibration).
# The compute of a P-rank job alone is measured in the same rounds: P single-thread processes
# (no MPI between them) at once, each with its share of the batch, as the ranks of a P-rank job
# run: at P = 2 both cores busy (each slower than a lone core: shared caches and memory), above
# that time-slicing the 2 cores; the slowest process's step is the compute the job's model uses.
echo "round,model,input,T,b,processes,step_s_max,step_s_median,load" >"$OUT/concurrent.csv"
concurrent() {  # round model input T b P steps
  local per=$(( $5 / $6 )) k l steps=() log
  say "concurrent compute (round $1): $6 processes of $2 -b $per"
  l=$(load)
  for k in $(seq 1 "$6"); do
    "$bin" bench --model "$2" --input "$3" -T "$4" -b "$per" --threads 1 --steps "$7" --warmup 1 \
      >"$OUT/logs/concurrent-$2-$6-$k-r$1.txt" 2>&1 &
  done
  wait
  for k in $(seq 1 "$6"); do
    log="$OUT/logs/concurrent-$2-$6-$k-r$1.txt"
    steps+=("$(sed -n 's/.*step: \([0-9.]*\) s.*/\1/p' "$log")")
  done
  printf '%s\n' "${steps[@]}" | sort -g | awk -v m="$1,$2,$3,$4,$5,$6" -v l="$l" \
    '{ v[NR] = $1 } END { if (NR) printf "%s,%s,%s,%s\n", m, v[NR], v[int((NR + 1) / 2)], l }' >>"$OUT/concurrent.csv"
}
echo "round,transport,P,model,input,T,b,threads,samples_per_s,step_s,comm_share,comm_s,computing_min_s,computing_median_s,computing_max_s,cpu_median_s,load" >"$OUT/jobs.csv"
job() {  # round transport P launcher model input T b steps
  local log="$OUT/logs/job-$2-$3-$5-$8-r$1.txt" l
  say "job (round $1): $5 b=$8 on $2, P=$3"
  l=$(load)
  if $4 "$3" "$bin" bench --model "$5" --input "$6" -T "$7" -b "$8" --threads 1 --steps "$9" --warmup 1 \
       >"$log" 2>&1; then
    local sps step share comm busy
    sps=$(sed -n 's/^samples\/s: \([0-9.]*\).*/\1/p' "$log"); step=$(sed -n 's/.*step: \([0-9.]*\) s.*/\1/p' "$log")
    share=$(sed -n 's/^communication share: \([0-9.]*\) (\([0-9.]*\) s.*/\1/p' "$log")
    comm=$(sed -n 's/^communication share: \([0-9.]*\) (\([0-9.]*\) s.*/\2/p' "$log")
    busy=$(sed -n 's/.*computing per rank min \([0-9.]*\) s, median \([0-9.]*\) s, max \([0-9.]*\) s.*/\1,\2,\3/p' "$log")
    cpu=$(sed -n 's/^ *rank .* CPU *\([0-9.]*\) s$/\1/p' "$log" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
    echo "$1,$2,$3,$5,$6,$7,$8,1,$sps,$step,$share,$comm,${busy:-,,},${cpu:-},$l" >>"$OUT/jobs.csv"
  else say "job failed (see $log)"; fi
}
if [ $QUICK = 1 ]; then job_ranks=(1 2 4); rounds=${JOB_ROUNDS:-1}; else job_ranks=(1 2 4 8); rounds=${JOB_ROUNDS:-3}; fi
for round in $(seq 1 "$rounds"); do
  for p in "${job_ranks[@]}"; do [ "$p" = 1 ] || concurrent "$round" $CNN 64 "$p" 8; done
  for p in "${job_ranks[@]}"; do job "$round" shm "$p" shm_mpirun $CNN 64 8; done
  for p in "${job_ranks[@]}"; do [ "$p" = 1 ] || concurrent "$round" $R18 8 "$p" 3; done
  for p in "${job_ranks[@]}"; do job "$round" shm "$p" shm_mpirun $R18 8 3; done
  if [ $have_net = 1 ]; then
    for p in 2 4; do job "$round" tcp "$p" net_mpirun $CNN 64 8; done
    [ $QUICK = 1 ] || for p in 2 4; do job "$round" tcp "$p" net_mpirun $R18 8 3; done
  fi
done
net_down

say "measurements done in $(( $(date +%s) - started )) s; results in $OUT"
python3 bench/scale_model.py "$OUT"
# The same predictions for quiet cores: the README's 8.63 samples/s of the standard configuration
# on 2 threads (0.232 s per sample per thread) instead of this run's CPU time.
echo; echo "######## predictions again with --sample-seconds ${QUIET_SAMPLE_SECONDS:-0.232} (quiet cores)"
python3 bench/scale_model.py "$OUT" --sample-seconds "${QUIET_SAMPLE_SECONDS:-0.232}" | sed -n '/^== predictions/,$p'
