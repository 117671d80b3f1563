#!/usr/bin/env bash
# Scale out on a topic written with NO keys (as the seed's producer writes),
# against the real local stack: three processes of one group repartition and
# count a 6-partition topic while the stream is produced to it; one is killed
# with SIGKILL mid-run, a fresh one joins with an empty state dir, one is
# stopped with SIGTERM (exit 0). Once the group has committed the input to
# its end, the rest stop with SIGTERM and a last --available-now run with an
# empty state dir catches up. Then the Cassandra table equals the file run of
# the same stream row by row, the job's state holds each record once (the
# catch-up run's summary), and the dead-letter topic holds each invalid
# record once. See scenario_lib.sh for the stream and the checks.
# Usage: bash scale_out_unkeyed_test.sh /path/to/tally
here=$(cd "$(dirname "$0")" && pwd)  # before lib.sh moves to a temporary directory
stack=$here/../../scripts/local-stack
source "$here/../cli/lib.sh"
prefix=multi_unkeyed
keyed=0
source "$here/scenario_lib.sh"

# some_committed: the group has committed an input offset past 0.
some_committed() { offsets | awk '$2 ~ /^[0-9]+$/ && $2 + 0 > 0 { f = 1 } END { exit !f }'; }

scenario_stream 23
scenario_topic
produce_chunk 1
start_member a
start_member b
start_member c
await "the group commits some of the input" 90 some_committed
produce_chunk_slowly 2
kill -KILL "${pid_of[b]}"
wait "${pid_of[b]}" 2>/dev/null
unset "pid_of[b]"
start_member d
await_producer
produce_chunk 3
stop_member a TERM 0
await "the group commits the input to its end" 120 group_done
stop_member c TERM 0
stop_member d TERM 0

scenario_catch_up
scenario_check_table "after the catch-up run"
scenario_check_dead_letters
finish
