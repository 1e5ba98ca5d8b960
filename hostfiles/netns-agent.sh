#!/bin/sh
# Open MPI's rsh agent for the hosts of netns-hosts.sh: mpirun calls it as
# `netns-agent.sh HOST COMMAND…` where it would call ssh. HOST is an address
# from the hostfile (or a namespace name); the command runs in the network
# namespace holding that address, with the host's own temporary folder.
set -eu
[ $# -ge 2 ] || { echo "netns-agent: usage: $0 HOST COMMAND…" >&2; exit 2; }
host=$1
shift
state=${CLIF_NETNS_STATE:-/run/clif-netns}

namespace=""
if ip netns list | awk '{print $1}' | grep -qx "$host"; then
    namespace=$host
else
    for ns in $(ip netns list | awk '{print $1}' | grep -E '^clifhost[0-9]+$'); do
        if ip -n "$ns" -4 -o addr show | awk '{print $4}' | grep -q "^$host/"; then
            namespace=$ns
            break
        fi
    done
fi
[ -n "$namespace" ] || {
    echo "netns-agent: no namespace has the address or name '$host'; create the hosts with: netns-hosts.sh up N" >&2
    exit 255
}
mkdir -p "$state/tmp/$namespace"
exec ip netns exec "$namespace" env TMPDIR="$state/tmp/$namespace" sh -c "$*"
