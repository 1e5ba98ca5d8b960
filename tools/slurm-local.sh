#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for testing batch scripts.
#
#   slurm-local.sh up DIR            start munged, slurmctld and slurmd with
#                                    everything (config, keys, state, logs) in DIR
#   slurm-local.sh run DIR -- CMD…   `up`, run CMD with SLURM_CONF set, then
#                                    `down`; exits with CMD's status
#   slurm-local.sh down DIR          stop the daemons of DIR and remove DIR
#                                    (idempotent)
#
# The node is this machine under its short host name, with the CPUs
# `slurmd -C` finds, in one partition `local`. Nothing outside DIR is written
# or read but a lock file in /run: /etc/slurm and /etc/munge stay as they are,
# the daemons listen on 127.0.0.1 at ports SLURM_LOCAL_PORT and +1 (default:
# the first free pair from 16817 on, away from the usual 6817/6818 of a real
# Slurm, so several clusters can run side by side), and munged on a socket in
# DIR. No cgroups: processes are tracked by parent PID (proctrack/linuxproc)
# and bound with task/affinity, so it also runs in containers. A requeued job
# may start again after 10 s (Slurm's default is 120) and is scheduled within
# 2 s of that. Needs root and Debian's slurmctld, slurmd, slurm-client and
# munge.
set -Eeuo pipefail

readonly LOCK=/run/clif-slurm-local.lock
readonly START_SECONDS=30

say() { echo "slurm-local: $*" >&2; }
die() { echo "slurm-local: error: $*" >&2; exit 2; }

usage() {
    sed -n '3,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need_tools() {
    [[ $EUID -eq 0 ]] || die "needs root (the daemons run as root here); run it with sudo or as root"
    local tool
    for tool in munged slurmctld slurmd sbatch sinfo scontrol; do
        command -v "$tool" >/dev/null \
            || die "'$tool' not found; install Slurm and MUNGE: apt-get install slurmctld slurmd slurm-client munge"
    done
}

# One `up` or `down` at a time, so that two clusters never pick the same ports.
take_lock() {
    exec 9>"$LOCK"
    flock -w 120 9 || die "another slurm-local.sh has held $LOCK for 2 minutes; wait for it or stop it with: $0 down DIR"
}

# True if nothing listens on 127.0.0.1:PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The controller's port: SLURM_LOCAL_PORT, or the first pair free from 16817 on.
choose_port() {
    if [[ -n ${SLURM_LOCAL_PORT:-} ]]; then
        echo "$SLURM_LOCAL_PORT"
        return
    fi
    local port
    for ((port = 16817; port < 16917; port += 2)); do
        port_free "$port" && port_free $((port + 1)) && { echo "$port"; return; }
    done
    die "no free pair of ports in 16817…16916 on 127.0.0.1; set SLURM_LOCAL_PORT"
}

write_config() {
    local dir=$1 port=$2 node cpus sockets cores threads memory
    node=$(hostname -s)
    # slurmd refuses a node whose layout differs from what it finds, so
    # describe the node as slurmd -C sees it.
    local found
    found=$(slurmd -C | head -1)
    cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$found")
    sockets=$(sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$found")
    cores=$(sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$found")
    threads=$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$found")
    memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$found")
    [[ -n $cpus && -n $sockets && -n $cores && -n $threads ]] \
        || die "cannot read this machine's CPU layout from 'slurmd -C': $found"
    mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
    chmod 700 "$dir/munge"
    cat >"$dir/slurm.conf" <<EOF
# Written by tools/slurm-local.sh: a one-node cluster, everything under $dir.
ClusterName=clif-local
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it may start again.
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
# Job ids of their own: two clusters on one machine would otherwise both run a
# job 1, and slurmstepd's PMIx folders (/tmp/spmix_appdir_<uid>_<job>.<step>) collide.
FirstJobId=$(( (port / 2 % 60 + 1) * 1000000 ))
# Schedule every 2 s, not 60: a requeued job starts soon after it may.
SchedulerParameters=sched_interval=2
SlurmdTimeout=60
KillWait=10
InactiveLimit=0
MinJobAge=60
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=${memory:-1} State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    # A fresh MUNGE key for this cluster only.
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    chmod 400 "$dir/munge/munge.key"
}

# Runs a daemon with none of this script's descriptors: only /dev/null and
# LOG. A caller that reads our output to its end, or waits until every holder
# of a descriptor it passed has gone (as Foundation's Process does), must not
# wait for the daemons too.
start_daemon() {
    local log=$1 fd
    shift
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            (( fd > 2 )) && { eval "exec $fd>&-"; } 2>/dev/null
        done
        exec "$@" </dev/null >>"$log" 2>&1
    )
}

up() {
    local dir=$1
    [[ -e $dir/slurm.conf ]] && die "$dir already holds a cluster; stop it first with: $0 down $dir"
    local port
    port=$(choose_port)
    write_config "$dir" "$port"
    say "munged (socket $dir/munge/munge.socket)"
    start_daemon "$dir/log/munged.log" munged --force --key-file="$dir/munge/munge.key" \
        --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
        || die "munged did not start; its log: $(tail -5 "$dir/log/munged.log" 2>/dev/null)"
    say "slurmctld on 127.0.0.1:$port"
    start_daemon "$dir/log/slurmctld.log" slurmctld -f "$dir/slurm.conf" -i \
        || die "slurmctld did not start; its log: $(tail -5 "$dir/log/slurmctld.log" 2>/dev/null)"
    say "slurmd for node $(hostname -s)"
    start_daemon "$dir/log/slurmd.log" slurmd -f "$dir/slurm.conf" \
        || die "slurmd did not start; its log: $(tail -5 "$dir/log/slurmd.log" 2>/dev/null)"
    export SLURM_CONF=$dir/slurm.conf
    local waited=0 state=""
    while (( waited < START_SECONDS * 2 )); do
        state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
        [[ $state == idle ]] && break
        sleep 0.5
        waited=$((waited + 1))
    done
    [[ $state == idle ]] || die "the node is '${state:-unknown}', not idle, after ${START_SECONDS} s; logs in $dir/log:
$(tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" 2>/dev/null)"
    say "node $(hostname -s) idle; use it with: export SLURM_CONF=$dir/slurm.conf"
}

# Stops the daemons whose PID files are given, together: TERM, then KILL
# after 10 s.
stop_daemons() {
    local file pid pids=() waited=0
    for file; do
        [[ -s $file ]] || continue
        pid=$(<"$file")
        if kill -0 "$pid" 2>/dev/null; then
            say "stopping $(basename "$file" .pid) (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$file"
    done
    while (( waited < 100 )); do
        local alive=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
        pids=("${alive[@]}")
        (( ${#pids[@]} > 0 )) || return 0
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
}

down() {
    local dir=$1
    [[ -d $dir ]] || return 0
    # Jobs first, while slurmd can still end their steps.
    if [[ -e $dir/slurm.conf && -s $dir/slurmctld.pid ]]; then
        SLURM_CONF=$dir/slurm.conf scancel --full --quiet --user=root 2>/dev/null || true
    fi
    # MUNGE last: the Slurm daemons sign their last messages with it.
    stop_daemons "$dir/slurmd.pid" "$dir/slurmctld.pid"
    stop_daemons "$dir/munge/munged.pid"
    # A slurmstepd that outlived slurmd (a job step still ending): ours keep
    # DIR's slurmd.log open.
    local pid fd
    for pid in $(pgrep -x slurmstepd || true); do
        for fd in /proc/"$pid"/fd/*; do
            if [[ $(readlink "$fd" 2>/dev/null) == "$dir"/* ]]; then
                say "stopping slurmstepd (pid $pid)"
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
        done
    done
    rm -rf "$dir"
}

run() {
    local dir=$1
    shift
    [[ ${1:-} == -- ]] && shift
    (( $# > 0 )) || die "run needs a command: $0 run DIR -- COMMAND [ARGS…]"
    trap 'status=$?; trap - EXIT; down "$dir"; exit $status' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    up "$dir"
    local status=0
    SLURM_CONF=$dir/slurm.conf "$@" 9>&- &
    wait $! || status=$?
    say "command exited with status $status"
    return "$status"
}

main() {
    local verb=${1:-} dir=${2:-}
    shift 2 || usage
    [[ -n $dir ]] || usage
    [[ $dir == /* ]] || dir=$PWD/$dir
    case $verb in
        up)   need_tools; take_lock
              trap 'say "failed (status $?): $BASH_COMMAND; stop what was started with: $0 down $dir"' ERR
              up "$dir" ;;
        down) take_lock; down "$dir" ;;
        run)  need_tools; take_lock; run "$dir" "$@" ;;
        *)    usage ;;
    esac
}

main "$@"
