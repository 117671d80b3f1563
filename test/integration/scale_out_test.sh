#!/usr/bin/env bash
# Scale out, against the real local stack: three processes of one group share
# a 6-partition topic while the stream is produced to it in three chunks; one
# is killed with SIGKILL mid-run, a fresh one joins with an empty state dir,
# one is stopped with SIGTERM (exit 0). Once the group has committed every
# partition to its end, the rest stop with SIGTERM and a last --available-now
# run with an empty state dir catches up. Then the Cassandra table equals the
# file run of the same stream row by row, the job's state holds each record
# once (the catch-up run's summary), and the dead-letter topic holds each
# invalid record once. See scenario_lib.sh for the stream and the checks.
# Usage: bash scale_out_test.sh /path/to/tally
here=$(cd "$(dirname "$0")" && pwd)  # before lib.sh moves to a temporary directory
stack=$here/../../scripts/local-stack
source "$here/../cli/lib.sh"
prefix=multi_scale
source "$here/scenario_lib.sh"

scenario_stream 21
scenario_topic
produce_chunk 1

start_member a
start_member b
start_member c
await "three members share the six partitions" 90 spread a b c
# Each has processed and committed its share of chunk 1: b's state is in the
# changelog, for whoever takes its partitions.
await "the group commits chunk 1" 60 group_done

# Chunk 2 arrives while they run; b dies in the middle of it, once it has
# committed some of it (so it has records read and not committed).
save_offsets
produce_chunk_slowly 2
await "b commits some of chunk 2" 60 committed_past b
kill -KILL "${pid_of[b]}"
wait "${pid_of[b]}" 2>/dev/null
unset "pid_of[b]"
await_producer

# A fresh process, no state of its own, takes a share once b's session ends,
# restoring the state of its partitions from the changelog.
start_member d
await "the fresh process d takes partitions from the dead one" 90 spread a c d
produce_chunk 3
await "d restores the state of its partitions" 30 grep -qE "restored [1-9][0-9,]* changelog records" d.err

# a leaves cleanly: it finishes its trigger, commits, exits 0.
stop_member a TERM 0
await "the group commits every partition to its end" 90 group_done
stop_member c TERM 0
stop_member d TERM 0

scenario_end
finish
