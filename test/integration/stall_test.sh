#!/usr/bin/env bash
# A stalled process (a zombie), against the real local stack: two processes
# of one group share a 6-partition topic written with no keys (so each
# process runs a router and a counter; stall_keyed_test.sh runs the same on a
# topic keyed by learner, with --input-keyed-by-user); one is stopped with SIGSTOP, once
# it has committed part of a chunk that is still arriving (so it holds
# records read and not committed), for longer than its session timeout; the
# other takes its partitions and the rest of the stream; then the stalled one
# gets SIGCONT. It must either rejoin the group or exit cleanly (status 0 or
# 1, not a crash; the test says which it did), and whatever it still writes
# or commits must corrupt nothing: the Cassandra table ends equal to the file
# run row by row (a late write that lowered a count would show there), the
# job's state holds each record once, the dead-letter topic each invalid
# record once. See scenario_lib.sh for the stream and the checks.
# Usage: bash stall_test.sh /path/to/tally
here=$(cd "$(dirname "$0")" && pwd)  # before lib.sh moves to a temporary directory
stack=$here/../../scripts/local-stack
source "$here/../cli/lib.sh"
prefix=multi_stall
keyed=${keyed:-0}
source "$here/scenario_lib.sh"

scenario_stream 22
scenario_topic
produce_chunk 1

start_member a
start_member b
await "two processes share the partitions" 90 spread a b
await "the group commits chunk 1" 60 group_done

save_offsets
produce_chunk_slowly 2
await "b commits some of chunk 2" 60 committed_past b
kill -STOP "${pid_of[b]}"
await "the group drops the stalled b" 60 not_member b
await "a takes every partition" 60 holds_all a
await_producer
produce_chunk 3
await "a processes the whole stream" 90 group_done

# b comes back: it must rejoin, or exit cleanly.
kill -CONT "${pid_of[b]}"
await_return b
stop_member a TERM 0

scenario_end
finish
