#!/usr/bin/env bash
# A network partition, against the real local stack: two processes of one
# group, reading a 6-partition topic written with no keys (each runs a
# router and a counter), each in a network namespace of its own that this test makes (`ip
# netns`, a veth pair each), reach Kafka and Cassandra only through the veth:
# in the namespace a forwarder (tcp_forward.py) listens on 127.0.0.1:9092 and
# 127.0.0.1:9042 (the broker advertises 127.0.0.1:9092) and forwards to a
# forwarder on the host end of the veth, listening on that address only,
# which connects to the servers on the host's 127.0.0.1. One namespace is cut
# off (its veth down) once its process has committed part of a chunk that is
# still arriving, for longer than the session timeout; the other process
# takes its partitions and the rest of the stream; then the link comes back.
# The cut-off process must rejoin or exit cleanly (the test says which), and
# the table ends equal to the file run row by row, the job's state holds each
# record once, the dead-letter topic each invalid record once. Needs root and
# iproute2 (scripts/install-deps). Namespaces, veths and forwarders are
# removed on exit, whatever happens. See scenario_lib.sh for the stream and
# the checks. Usage: bash network_partition_test.sh /path/to/tally
here=$(cd "$(dirname "$0")" && pwd)  # before lib.sh moves to a temporary directory
stack=$here/../../scripts/local-stack
source "$here/../cli/lib.sh"
prefix=multi_net
keyed=0
source "$here/scenario_lib.sh"

# Per process NAME: namespace ns_NAME, veth host end vh_NAME (address
# net_NAME.1) and namespace end (net_NAME.2), in a /30 of 10.213.0.0/16 picked
# from this script's pid (two runs at once do not collide).
declare -A ns_of=() vh_of=() net_of=()
subnet=$((($$ % 120) * 2))
netns_cleanup() {
  local name
  for name in "${!ns_of[@]}"; do
    ip netns del "${ns_of[$name]}" 2>/dev/null
    ip link del "${vh_of[$name]}" 2>/dev/null
  done
}
cleanup_hooks+=(netns_cleanup)

# ready FILE: a forwarder printed "ready" to FILE.
ready() { grep -qx ready "$1"; }

# make_host NAME: the namespace, its veth and its two forwarders.
make_host() {
  local name=$1 ns="${prefix}_${1}_$$" vh="mvh$1$$" vn="mvn$1$$" net
  net="10.213.$((subnet + ${#ns_of[@]}))"
  ns_of[$name]=$ns
  vh_of[$name]=$vh
  net_of[$name]=$net
  check "ip netns add $ns" ip netns add "$ns"
  check "ip link add $vh" ip link add "$vh" type veth peer name "$vn"
  check "$vn into $ns" ip link set "$vn" netns "$ns"
  check "address of $vh" ip addr add "$net.1/30" dev "$vh"
  check "$vh up" ip link set "$vh" up
  check "address of $vn" ip netns exec "$ns" ip addr add "$net.2/30" dev "$vn"
  check "$vn up" ip netns exec "$ns" ip link set "$vn" up
  check "lo up in $ns" ip netns exec "$ns" ip link set lo up
  python3 "$here/tcp_forward.py" "$net.1:29092=127.0.0.1:9092" "$net.1:29042=127.0.0.1:9042" \
    >"forward-host-$name.out" 2>"forward-host-$name.err" &
  pid_of[forward-host-$name]=$!
  ip netns exec "$ns" python3 "$here/tcp_forward.py" "127.0.0.1:9092=$net.1:29092" "127.0.0.1:9042=$net.1:29042" \
    >"forward-ns-$name.out" 2>"forward-ns-$name.err" &
  pid_of[forward-ns-$name]=$!
  await "the host forwarder of $name listens" 20 ready "forward-host-$name.out"
  await "the forwarder in $ns listens" 20 ready "forward-ns-$name.out"
}

# start_member_in NAME: start_member inside NAME's namespace.
start_member_in() {
  member_prefix=(ip netns exec "${ns_of[$1]}")
  start_member "$1"
  member_prefix=()
}

if ! command -v ip >/dev/null; then
  fail "no 'ip' command: run scripts/install-deps (iproute2)"
  finish
fi

scenario_stream 23
scenario_topic
make_host a
make_host b
produce_chunk 1

start_member_in a
start_member_in b
await "two processes share the partitions" 90 spread a b
await "the group commits chunk 1" 60 group_done

save_offsets
produce_chunk_slowly 2
await "b commits some of chunk 2" 60 committed_past b
# b's namespace is cut off: its connections hang (no reset), as in a real
# partition.
check "cut b off" ip link set "${vh_of[b]}" down
await "the group drops the cut-off b" 60 not_member b
await "a takes every partition" 60 holds_all a
await_producer
produce_chunk 3
await "a processes the whole stream" 90 group_done

# The link comes back: b must rejoin, or exit cleanly.
check "reconnect b" ip link set "${vh_of[b]}" up
await_return b
stop_member a TERM 0

scenario_end
finish
