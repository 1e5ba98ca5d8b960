#!/usr/bin/env bash
# Several "hosts" on one machine, for testing multi-host MPI runs over TCP.
#
#   netns-hosts.sh up N             create N hosts and write their hostfile
#   netns-hosts.sh run N -- CMD…    run CMD under mpirun, one rank per host,
#                                   then remove the hosts; exits with CMD's status
#   netns-hosts.sh down             remove everything `up` created (idempotent)
#   netns-hosts.sh mpirun-command N print the mpirun command `run` would use
#
# Host k is the network namespace clifhost<k> with address 10.77.0.<k>/24 on a
# veth whose other end sits on the bridge clif-br0. mpirun runs in one more
# namespace, clifhead, at 10.77.0.254/24 on the same bridge: the root namespace
# gets no address, so other MPI jobs on the machine never see these links, and
# with no route out of 10.77.0.0/24 all of Open MPI's traffic stays on it.
# The hostfile names hosts by address (no name lookups); hostfiles/netns-agent.sh
# takes the place of ssh and maps an address to its namespace.
# The namespaces share the file system, so one binary and one -out_dir path serve
# every host. Needs root and iproute2.
set -Eeuo pipefail
trap 'say "failed (status $?): $BASH_COMMAND"' ERR

readonly PREFIX=clifhost          # namespaces clifhost1…N
readonly BRIDGE=clif-br0
readonly SUBNET=10.77.0           # only this /24 is used, only on links created here
readonly HEAD=clifhead            # where mpirun runs
readonly HEAD_ADDRESS=$SUBNET.254
readonly MAX_HOSTS=200
readonly STATE=${CLIF_NETNS_STATE:-/run/clif-netns}
readonly HOSTFILE=$STATE/hostfile
readonly LOCK=/run/clif-netns.lock
readonly HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly AGENT=$HERE/netns-agent.sh

say() { echo "netns-hosts: $*" >&2; }
die() { echo "netns-hosts: error: $*" >&2; exit 2; }

usage() {
    sed -n '3,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need_tools() {
    [[ $EUID -eq 0 ]] || die "needs root (network namespaces, veth and bridges); run it with sudo or as root"
    command -v ip >/dev/null || die "'ip' (iproute2) not found; install it: apt-get install iproute2"
}

hosts_arg() {
    [[ ${1:-} =~ ^[1-9][0-9]*$ ]] && (( $1 <= MAX_HOSTS )) \
        || die "host count must be 1…$MAX_HOSTS, got '${1:-}'"
}

# One of `up`, `run` or `down` at a time: they share the namespace names.
take_lock() {
    exec 9>"$LOCK"
    flock -w 120 9 || die "another netns-hosts.sh has held $LOCK for 2 minutes; wait for it or remove stale hosts with: $0 down"
}

existing_namespaces() {
    ip netns list | awk '{print $1}' | grep -E "^($PREFIX[0-9]+|$HEAD)$" || true
}

# A namespace NAME with ADDRESS/24 on its interface clif0, the peer of the
# veth VETH on the bridge; kept as it is if it exists.
add_namespace() {
    local ns=$1 address=$2 veth=$3
    ip netns list | awk '{print $1}' | grep -qx "$ns" && return 0
    say "namespace $ns: $address/24 on clif0, veth $veth → $BRIDGE"
    ip netns add "$ns" || die "cannot create network namespace $ns (in a container, it needs CAP_SYS_ADMIN)"
    ip link add "$veth" type veth peer name clif0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" addr add "$address/24" dev clif0
    ip -n "$ns" link set clif0 up
    ip -n "$ns" link set lo up
}

up() {
    local n=$1 k ns
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        say "bridge $BRIDGE (no address in the root namespace)"
        ip link add "$BRIDGE" type bridge \
            || die "cannot create network bridge $BRIDGE (in a container, it needs CAP_NET_ADMIN)"
        ip link set "$BRIDGE" up
    fi
    add_namespace "$HEAD" "$HEAD_ADDRESS" clifvh
    mkdir -p "$STATE"
    : >"$HOSTFILE.tmp"
    for ((k = 1; k <= n; k++)); do
        ns=$PREFIX$k
        add_namespace "$ns" "$SUBNET.$k" "clifv$k"
        # Each host gets its own temporary folder: Open MPI keeps its session
        # files there, keyed by a host name all namespaces share.
        mkdir -p "$STATE/tmp/$ns"
        echo "$SUBNET.$k slots=1    # namespace $ns" >>"$HOSTFILE.tmp"
    done
    mv "$HOSTFILE.tmp" "$HOSTFILE"
    say "hostfile $HOSTFILE:"
    sed 's/^/  /' "$HOSTFILE" >&2
}

down() {
    local ns pids
    for ns in $(existing_namespaces); do
        # Processes left in a namespace keep it alive; they can only be ours.
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [[ -n $pids ]]; then
            say "stopping processes left in $ns: $pids"
            kill $pids 2>/dev/null || true
            sleep 1
            kill -9 $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null || true
        fi
        say "removing namespace $ns"
        ip netns del "$ns"   # also removes clif0 and so its veth peer
    done
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        say "removing bridge $BRIDGE"
        ip link del "$BRIDGE"
    fi
    rm -rf "$STATE"
}

# The mpirun command line for N hosts, one argument per line.
mpirun_command() {
    local n=$1
    printf '%s\n' ip netns exec "$HEAD" mpirun --allow-run-as-root \
        --hostfile "$HOSTFILE" -np "$n" --map-by node --bind-to none \
        --mca plm_rsh_agent "$AGENT" --mca plm_rsh_no_tree_spawn 1 \
        --mca pml ob1 --mca btl tcp,self \
        --mca btl_tcp_if_include "$SUBNET.0/24" --mca oob_tcp_if_include "$SUBNET.0/24"
}

run() {
    local n=$1; shift
    [[ ${1:-} == -- ]] && shift
    (( $# > 0 )) || die "run needs a command: $0 run $n -- COMMAND [ARGS…]"
    command -v mpirun >/dev/null || die "'mpirun' not found; install Open MPI: apt-get install openmpi-bin libopenmpi-dev"
    [[ -x $AGENT ]] || die "the rsh agent $AGENT is missing or not executable (chmod +x it)"
    mpirun_pid=""
    trap 'status=$?; trap - EXIT; down; exit $status' EXIT
    trap 'stop_mpirun; exit 130' INT
    trap 'stop_mpirun; exit 143' TERM
    up "$n"
    local -a command
    mapfile -t command < <(mpirun_command "$n")
    command+=("$@")
    say "running: $(shell_words "${command[@]}")"
    export CLIF_NETNS_STATE=$STATE   # for the agent
    # In the background, so that a TERM to this script is handled at once
    # (bash defers traps until a foreground child ends) and passed on.
    "${command[@]}" &
    mpirun_pid=$!
    local status=0
    wait "$mpirun_pid" || status=$?
    mpirun_pid=""
    say "mpirun exited with status $status"
    return "$status"
}

# The arguments as one line a shell reads back the same, quoting only where needed.
shell_words() {
    local word line=""
    for word; do
        [[ $word =~ ^[A-Za-z0-9_./,:=@%+-]+$ ]] || word=$(printf '%q' "$word")
        line+="${line:+ }$word"
    done
    echo "$line"
}

stop_mpirun() {
    [[ -n ${mpirun_pid:-} ]] || return 0
    say "stopping mpirun (pid $mpirun_pid)"
    kill -TERM "$mpirun_pid" 2>/dev/null || true
    wait "$mpirun_pid" 2>/dev/null || true
}

main() {
    local verb=${1:-}
    shift || true
    case $verb in
        up)   need_tools; hosts_arg "${1:-}"; take_lock
              trap 'say "failed (status $?): $BASH_COMMAND; remove what was made with: $0 down"' ERR
              up "$1" ;;
        down) need_tools; take_lock; down ;;
        run)  need_tools; hosts_arg "${1:-}"; take_lock; run "$@" ;;
        mpirun-command) hosts_arg "${1:-}"; mpirun_command "$1" | paste -sd' ' ;;
        *)    usage ;;
    esac
}

main "$@"
