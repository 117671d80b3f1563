#!/usr/bin/env bash
# Standby replicas (--standby-replicas), against the real local stack: on a
# 2-partition topic keyed by learner, process b owns both partitions and
# commits, then a joins and takes one; b is SIGKILLed and a takes b's
# partition over. With --standby-replicas 1, a has kept a warm copy of that
# partition's state from its changelog, so its failover restore starts at a
# non-zero changelog offset (only the tail, or nothing); without it, a has
# never held that partition and restores it from offset 0 (the control, so
# that the assertion can fail). Console sink: Kafka only.
# Usage: bash standby_test.sh /path/to/tally
here=$(cd "$(dirname "$0")" && pwd)  # before lib.sh moves to a temporary directory
stack=$here/../../scripts/local-stack
source "$here/../cli/lib.sh"
prefix=standby
source "$here/scenario_lib.sh"

partitions=2
groups=("${prefix}_warm_$id" "${prefix}_cold_$id")
topics=("$topic" "$topic.dead-letters")
for g in "${groups[@]}"; do topics+=("$g-$topic-changelog" "$g-$topic-settings"); done

expect_exit 0 "$TALLY" generate --events 4000 --learners 200 --days 2 --seed 9 --late-ratio 0 --invalid-ratio 0 \
  --lateness "$lateness" --output events.jsonl
split -n l/2 -d -a 1 --additional-suffix=.jsonl events.jsonl chunk-
mv chunk-1.jsonl chunk-2.jsonl && mv chunk-0.jsonl chunk-1.jsonl
scenario_topic
produce_chunk 1

# partition_of NAME: the input partition member NAME holds (one of them).
partition_of() { offsets | awk -v c="$1" '$3 == c { print $1; exit }'; }

# failover NAME-PREFIX [FLAG...]: b alone, then a beside it, then b killed;
# leaves in $moved the partition that moved to a and in failover.txt a's log
# lines about it after the kill.
failover() {
  local a=$1a b=$1b mark
  shift
  job_flags=(--source "$kafka/$topic" --group "$group" --sink console --trigger 1s --lateness "$lateness"
    --kafka "session.timeout.ms=$session_ms" --kafka heartbeat.interval.ms=1500 --input-keyed-by-user "$@")
  start_member "$b"
  await "$group: $b holds both partitions" 60 holds_all "$b"
  await "$group: $b commits chunk 1" 60 group_done
  start_member "$a"
  await "$group: $a and $b share the partitions" 60 spread "$a" "$b"
  moved=$(partition_of "$b")
  # (Each scenario adds chunk 2 again: the second group reads it twice,
  # duplicates it counts once.)
  produce_chunk 2
  await "$group: the group commits chunk 2" 60 group_done
  if (($# > 0)); then
    await "$a keeps a standby of partition $moved" 30 grep -q "standby partition $moved: restored" "$a.err"
  fi
  mark=$(wc -l <"$a.err")
  kill -KILL "${pid_of[$b]}"
  wait "${pid_of[$b]}" 2>/dev/null
  unset "pid_of[$b]"
  await "$group: $a takes b's partition $moved" 60 holds_all "$a"
  # The partition's task opens before its first record, once assigned.
  await "$group: $a opens partition $moved" 30 \
    bash -c "tail -n +$((mark + 1)) $a.err | grep -E '^tally: partition $moved: (restored|local state)' >failover.txt"
  echo "${0##*/}: $group: $(cat failover.txt)" >&2
  stop_member "$a" TERM 0
}

group=${groups[0]}
failover w --standby-replicas 1
expect_contains wa.err "standby for partitions $moved (1 replica asked, 2 members)"
# Warm: restored from a non-zero offset, or not at all.
check "with a standby, the failover restores only the tail" \
  grep -qE "(offsets [1-9][0-9]* to|current \(checkpoint [1-9][0-9]*\))" failover.txt

group=${groups[1]}
failover c
expect_not_contains ca.err "standby for"
expect_not_contains ca.err "standby partition"
check "without a standby, the failover restores from offset 0" grep -q "offsets 0 to [1-9]" failover.txt

finish
