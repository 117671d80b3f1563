#!/usr/bin/env bash
# Fault injection against the real local stack (Kafka on 127.0.0.1:9092,
# Cassandra on 127.0.0.1:9042, started by the ctest fixture): exactly once
# through crashes and outages.
#
# A generated stream with duplicates, late and malformed records (60,000 lines)
# is cut into 12 chunks that are produced to a fresh one-partition topic one by
# one WHILE a `tally run --trigger 1s` job with a state dir runs. Every run of
# the job ends with SIGKILL at a random point (after a random delay: that is
# the fault, not a synchronisation), some right after the start (during the
# restore), some while a chunk is being produced (paced over ~1.2 s) and read;
# 13 SIGKILLs in all. Besides:
#   - Cassandra is stopped for at least 25 s under a running job, which must
#     report the OUTAGE, stay alive, and go on by itself once it is back;
#   - the broker is restarted under a running job, which must ride it out;
#   - between two runs the state dir is deleted (restored from the changelog),
#     and between two others a state file is corrupted (the job must notice,
#     rebuild from the changelog, and go on).
# Then `tally run --available-now` takes the rest, and the results must be the
# file run's of the same stream, record by record: the Cassandra table (read
# back with cqlsh), the dead-letter topic (read back read_committed with Kafka's
# console consumer: each expected source offset exactly once, nothing else),
# and the summary of the job's durable state.
#
# Waits are bounded polls for an event (a log line, a committed offset, a
# service answering); random delays only place the faults. About 3-4 minutes.
#
# Usage: bash fault_injection_test.sh /path/to/tally
# Environment: FAULTS=0 skips the Cassandra outage and the broker restart (the
# SIGKILLs, the deleted and the corrupted state stay); FT_SEED=N makes the random
# delays those of an earlier run (its seed is printed first).
here=$(cd "$(dirname "$0")" && pwd)  # before lib.sh moves to a temporary directory
stack=$(cd "$here/../.." && pwd)/scripts/local-stack
check_py=$here/fault_injection_check.py
source "$here/../cli/lib.sh"

id="$$_$(date +%s)"
topic="ft_events_$id"
group="ft_$id"
keyspace="ft_$id"
table="$keyspace.daily_counts"
dead_letter_topic="$topic.dead-letters"
changelog_topic="$group-$topic-changelog"
kafka="kafka://127.0.0.1:9092"
cassandra="cassandra://127.0.0.1:9042"
state="$tmp/state"
# A SIGKILLed member stays in the consumer group until its session times out
# (tally's default: 10 s), and a restarted job gets the partition only then:
# with a dozen restarts that is most of the test's time. The broker's smallest
# session timeout keeps each of those waits under 6 s.
group_flags=(--group "$group" --kafka session.timeout.ms=6000)
faults=${FAULTS:-1}
seed=${FT_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
t0=$EPOCHREALTIME

job=""               # pid of the running tally job, if any
job_log=""           # its stderr
producer=""          # pid of a tally produce in the background, if any
runs=0               # tally run jobs started
kills=0              # SIGKILLs sent to them
produced=0           # records produced to the topic so far (= its end offset)
cassandra_down=0     # this test stopped Cassandra and has not started it again
kafka_down=0         # this test is restarting the broker
cleaned=0

# say TEXT: one line of the progress log, with the seconds since the start.
say() { printf 'fault-injection [%6.1fs] %s\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "$*"; }

# show_log FILE [LINES]: the end of a log, indented, on stderr.
show_log() {
  [[ -s $1 ]] || return 0
  echo "---- last ${2:-25} lines of ${1##*/}:" >&2
  tail -n "${2:-25}" "$1" | cut -c1-300 | sed 's/^/  | /' >&2
}

# sleep_ms MIN MAX: sleeps a random time between MIN and MAX milliseconds (the
# injected fault's timing; never a synchronisation).
sleep_ms() {
  local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# grouped N: 60000 -> 60,000 (as tally prints counts).
grouped() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }

job_alive() {
  [[ -n $job ]] && kill -0 "$job" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/$job/stat" 2>/dev/null) != Z ]]
}

# start_job: starts `tally run` in the background; stderr to run-N.log.
start_job() {
  runs=$((runs + 1))
  job_log=$tmp/run-$runs.log
  : >"$job_log"
  "$TALLY" run --source "$kafka/$topic" "${group_flags[@]}" --state-dir "$state" --sink "$cassandra/$table" \
    --trigger 1s >"$tmp/run-$runs.out" 2>"$job_log" &
  job=$!
  say "run $runs started (pid $job)"
}

# kill_job WHEN: SIGKILLs the running job; fails if it had already exited.
kill_job() {
  local rc
  if ! job_alive; then
    wait "$job"
    rc=$?
    fail "run $runs exited by itself (status $rc) before its SIGKILL ($1)"
    show_log "$job_log"
  else
    kill -KILL "$job"
    wait "$job" 2>/dev/null
    kills=$((kills + 1))
    pass
    say "SIGKILL #$kills: run $runs, $1; its last status: $(grep -aE '^tally: [0-9,]+ records' "$job_log" |
      tail -n 1 | cut -c8-130)"
  fi
  job=""
}

# produce_chunk N [bg]: produces chunk N to the topic, at once in the
# foreground, or in the background at 4,000 records/s, i.e. over ~1.2 s, for a
# kill to hit ($producer; finish it with wait_producer).
produce_chunk() {
  local file=$tmp/chunk-$(printf '%02d' "$1") pace=()
  [[ -z ${2:-} ]] || pace=(--rate 4000)
  "$TALLY" produce --from "file:$file" --to "$kafka/$topic" "${pace[@]}" >"$tmp/produce-$1.out" \
    2>"$tmp/produce-$1.err" &
  producer=$!
  producer_chunk=$1
  say "producing chunk $1 ($(wc -l <"$file") records)${2:+ in the background, 4,000/s}"
  [[ -n ${2:-} ]] || wait_producer
}

wait_producer() {
  local n rc
  [[ -n $producer ]] || return 0
  wait "$producer"
  rc=$?
  producer=""
  n=$(wc -l <"$tmp/chunk-$(printf '%02d' "$producer_chunk")")
  expect_eq "$rc" 0 "exit status of tally produce of chunk $producer_chunk"
  expect_contains "$tmp/produce-$producer_chunk.err" "$(grouped "$n") acknowledged, 0 failed"
  produced=$((produced + n))
}

committed_offset() {
  "$stack" kafka-consumer-groups --describe --group "$group" 2>/dev/null | awk -v t="$topic" '$2 == t { print $4 }'
}

# await_committed WHAT: polls (1 s, up to 120 s) until the group's committed
# offset is the topic's end, i.e. the running job has read, written and
# committed everything produced so far.
await_committed() {
  local deadline=$((SECONDS + 120)) got=""
  while ((SECONDS < deadline)); do
    got=$(committed_offset)
    if [[ $got == "$produced" ]]; then
      pass
      say "$1: offset $produced committed"
      return 0
    fi
    job_alive || break
    sleep 1
  done
  fail "$1: the committed offset of group $group is [$got], expected $produced$(job_alive || echo ' (the job exited)')"
  show_log "$job_log"
  return 1
}

# await_log PATTERN WHAT: polls (0.5 s, up to 120 s) until the job's log matches
# the extended regular expression PATTERN (case-insensitive).
await_log() {
  local deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    if grep -qiE -- "$1" "$job_log" 2>/dev/null; then
      pass
      say "$2: $(grep -iE -- "$1" "$job_log" | head -n 1 | cut -c1-200)"
      return 0
    fi
    job_alive || break
    sleep 0.5
  done
  fail "$2: run $runs logged nothing matching /$1/$(job_alive || echo ' (the job exited)')"
  show_log "$job_log"
  return 1
}

# corrupt_state: overwrites 4 KiB in the middle of the largest *.sst of the
# state dir (or of its MANIFEST if it has no table file yet) with random bytes.
corrupt_state() {
  local f size n off
  f=$(find "$state" -type f -name '*.sst' -printf '%s %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
  [[ -n $f ]] || f=$(find "$state" -type f -name 'MANIFEST-*' -printf '%s %p\n' 2>/dev/null | sort -n | tail -n 1 |
    cut -d' ' -f2-)
  if [[ -z $f ]]; then
    fail "no *.sst or MANIFEST-* file under the state dir to corrupt"
    find "$state" -ls >&2 2>/dev/null
    return 1
  fi
  size=$(stat -c %s "$f")
  n=$((size < 4096 ? size : 4096))
  off=$(((size - n) / 2))
  dd if=<(head -c "$n" /dev/urandom) of="$f" bs="$n" count=1 iflag=fullblock seek="$off" oflag=seek_bytes \
    conv=notrunc status=none
  expect_eq "$(stat -c %s "$f")" "$size" "size of the corrupted file"
  say "fault: overwrote $n bytes at offset $off of ${f#"$tmp"/} ($size bytes) with random bytes"
}

# ---- faults on the services ------------------------------------------------------
cassandra_outage() {
  local since found=0
  say "fault: stopping Cassandra"
  cassandra_down=1
  timeout 150 "$stack" stop cassandra >>"$tmp/stack.log" 2>&1
  if "$stack" status cassandra >/dev/null 2>&1; then
    fail "Cassandra still answers after 'local-stack stop cassandra' (not started by local-stack?)"
    tail -n 5 "$tmp/stack.log" >&2
    return 1
  fi
  since=$SECONDS
  say "Cassandra is down"
  produce_chunk "$next_chunk"  # the job reads it and cannot write it
  next_chunk=$((next_chunk + 1))
  # The outage lasts at least 25 s (that wait is the fault); meanwhile the job
  # must say so.
  while ((SECONDS - since < 25 || (found == 0 && SECONDS - since < 60))); do
    if ((found == 0)) && grep -q OUTAGE "$job_log" 2>/dev/null; then
      found=1
      say "run $runs reports: $(grep OUTAGE "$job_log" | head -n 1 | cut -c1-200)"
    fi
    job_alive || break
    sleep 1
  done
  expect_contains "$job_log" "OUTAGE"
  if job_alive; then pass; else
    fail "run $runs exited during the Cassandra outage"
    show_log "$job_log"
  fi
  say "fault: Cassandra was down for $((SECONDS - since)) s; starting it"
  if timeout 240 "$stack" start cassandra >>"$tmp/stack.log" 2>&1; then
    cassandra_down=0
    say "Cassandra is up"
  else
    fail "Cassandra did not start again"
    tail -n 20 "$tmp/stack.log" >&2
    return 1
  fi
  await_committed "run $runs resumed by itself after the Cassandra outage"
}

broker_restart() {
  say "fault: restarting Kafka"
  kafka_down=1
  if timeout 240 "$stack" restart kafka >>"$tmp/stack.log" 2>&1; then
    kafka_down=0
    say "Kafka is up again"
  else
    fail "Kafka did not restart"
    tail -n 20 "$tmp/stack.log" >&2
    return 1
  fi
  if job_alive; then pass; else
    fail "run $runs exited during the broker restart"
    show_log "$job_log"
  fi
  await_committed "run $runs resumed by itself after the broker restart"
}

# ---- cleanup, whatever happens --------------------------------------------------
cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  [[ -n $job ]] && kill -KILL "$job" 2>/dev/null && wait "$job" 2>/dev/null
  [[ -n $producer ]] && kill -KILL "$producer" 2>/dev/null && wait "$producer" 2>/dev/null
  if ((cassandra_down)); then
    echo "fault-injection: cleanup: starting Cassandra again" >&2
    "$stack" start cassandra >>"$tmp/stack.log" 2>&1 || echo "fault-injection: cleanup: Cassandra did not start" >&2
  fi
  if ((kafka_down)); then
    echo "fault-injection: cleanup: starting Kafka again" >&2
    "$stack" start kafka >>"$tmp/stack.log" 2>&1 || echo "fault-injection: cleanup: Kafka did not start" >&2
  fi
  if ((failed > 0 || finished == 0)); then
    # keep what explains the failure: the job logs and the compared files
    local keep="${TMPDIR:-/tmp}/tally-fault-injection-$id"
    mkdir -p "$keep" && cp -p "$tmp"/*.log "$tmp"/*.err "$tmp"/*.txt "$tmp"/*.csv "$tmp"/*.json "$keep"/ 2>/dev/null
    echo "fault-injection: logs and compared files kept in $keep (seed $seed)" >&2
  fi
  "$stack" kafka-topics --delete --topic "$topic|$topic\\.dead-letters|$changelog_topic" >/dev/null 2>&1 || true
  "$stack" kafka-consumer-groups --delete --group "$group" >/dev/null 2>&1 || true
  "$stack" cqlsh -e "DROP KEYSPACE IF EXISTS $keyspace" >/dev/null 2>&1 || true
}
trap '_ft_rc=$?; cleanup; (exit $_ft_rc); _on_exit' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the stream and the answer ---------------------------------------------------
say "seed $seed, faults on the services: $([[ $faults == 0 ]] && echo off || echo on); topic $topic, keyspace $keyspace"
gen=(--events 60000 --learners 400 --days 10 --seed 23 --duplicate-ratio 0.05 --late-ratio 0.01
  --invalid-ratio 0.02 --time-format mixed)
expect_exit 0 "$TALLY" generate "${gen[@]}" --output events.jsonl
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:reference.csv --summary reference.json \
  --dead-letter file:reference-dl.jsonl
expect_eq "$(tail -c 1 events.jsonl | od -An -c | tr -d ' ')" '\n' "last byte of the stream"
split -n l/12 -d events.jsonl chunk-
chunks=$(ls chunk-* | wc -l)
expect_eq "$chunks" 12 "chunks"
expect_eq "$(cat chunk-* | cmp - events.jsonl && echo same)" same "chunks put together"
sorted_rows reference.csv >expected-rows.csv
python3 "$check_py" expected-dead-letters reference-dl.jsonl "$topic" >expected-dl.txt
say "stream: $(wc -l <events.jsonl) records, $(wc -l <expected-rows.csv) rows, $(wc -l <expected-dl.txt) dead letters; $(cat reference.json)"

"$stack" kafka-topics --create --topic "$topic" --partitions 1 --replication-factor 1 >"$tmp/create.log" 2>&1
expect_eq $? 0 "creating topic $topic"

# ---- runs, kills and faults while the chunks arrive ------------------------------
# Chunk files are numbered from 00; next_chunk is the next to produce.
next_chunk=0
chunk_step() { produce_chunk "$next_chunk" "$@"; next_chunk=$((next_chunk + 1)); }
# A run opens its task (restores its state) once the group has assigned it
# the partition; a kill meant to hit it at work waits for that first.
await_task() { await_log 'restor|rebuil' "run $runs has its partition"; }

# A: a kill at a random point after a chunk
start_job; await_task; chunk_step; sleep_ms 500 4000; kill_job "after chunk $((next_chunk - 1))"
# B: a kill while a chunk is being produced (and read)
start_job; await_task; chunk_step bg; sleep_ms 50 1500; kill_job "while producing chunk $((next_chunk - 1))"
wait_producer
# C: a kill right after the start (connecting, restoring)
start_job; sleep_ms 50 500; kill_job "right after its start"
# D: a kill at a random point after a chunk; then the state dir goes
start_job; await_task; chunk_step; sleep_ms 500 4000; kill_job "after chunk $((next_chunk - 1))"
rm -rf "$state"
say "fault: deleted the state dir"
# E: the state comes back from the changelog and the job goes on; then
# Cassandra goes away under it (one chunk produced during the outage)
start_job
await_log 'restor' "run $runs restores the deleted state dir"
chunk_step
await_committed "run $runs works on the restored state"
if [[ $faults != 0 ]]; then
  cassandra_outage
else
  chunk_step; await_committed "run $runs (no Cassandra outage: FAULTS=0)"
fi
sleep_ms 500 4000; kill_job "after the Cassandra outage"
# F: a kill while a chunk is being produced; then a state file is corrupted
start_job; await_task; chunk_step bg; sleep_ms 50 1500; kill_job "while producing chunk $((next_chunk - 1))"
wait_producer
corrupt_state
# G: the job must notice, rebuild from the changelog and go on; then the
# broker restarts under it, just after a chunk
start_job
await_log 'rebuil|restored' "run $runs after the corrupted state file"
chunk_step
await_committed "run $runs works on the rebuilt state"
chunk_step; sleep_ms 0 1500
if [[ $faults != 0 ]]; then
  broker_restart
else
  await_committed "run $runs (no broker restart: FAULTS=0)"
fi
sleep_ms 500 4000; kill_job "after the broker restart"
# H-M: more of the same
start_job; sleep_ms 50 500; kill_job "right after its start"
start_job; await_task; chunk_step bg; sleep_ms 50 1500; kill_job "while producing chunk $((next_chunk - 1))"
wait_producer
start_job; sleep_ms 1000 8000; kill_job "in its first seconds (starting, joining the group, restoring)"
start_job; await_task; chunk_step; sleep_ms 500 4000; kill_job "after chunk $((next_chunk - 1))"
start_job; await_task; chunk_step bg; sleep_ms 50 1500; kill_job "while producing chunk $((next_chunk - 1))"
wait_producer
start_job; await_task; chunk_step; sleep_ms 500 4000; kill_job "after chunk $((next_chunk - 1))"
expect_eq "$next_chunk" 12 "chunks produced"
expect_eq "$produced" "$(wc -l <events.jsonl)" "records produced"
# ...each once, in order: line L of the stream is at offset L - 1
expect_eq "$("$stack" kafka-get-offsets --topic "$topic" 2>/dev/null)" "$topic:0:$produced" "end offset of the topic"
say "all chunks produced: $produced records; $kills SIGKILLs in $runs runs"
if ((kills < 10)); then fail "only $kills SIGKILLs"; fi

# ---- the last run takes the rest -------------------------------------------------
say "final run: --available-now"
runs=$((runs + 1))
expect_exit 0 timeout -k 10 180 "$TALLY" run --source "$kafka/$topic" "${group_flags[@]}" --state-dir "$state" \
  --sink "$cassandra/$table" --trigger 1s --available-now --summary final.json
cp "$err" final-run.log
say "final run: exit $last_rc; $(grep -o 'read [0-9,]* records' final-run.log | tail -n 1)"
((last_rc == 0)) || show_log final-run.log

# ---- the results must be the file run's ------------------------------------------
# (a) the table, row by row
cql_rows() {
  "$stack" cqlsh -e "COPY $1 (user_uuid, created_date, event_count) TO STDOUT WITH HEADER = false" 2>/dev/null |
    tr -d '\r' | grep -E '^[0-9a-f-]{36},' | LC_ALL=C sort
}
cql_rows "$table" >table-rows.csv
check "the Cassandra table equals reference.csv" python3 "$check_py" compare-rows expected-rows.csv table-rows.csv
# (b) the dead-letter topic, read_committed, record by record by source offset
"$stack" kafka-console-consumer --topic "$dead_letter_topic" --from-beginning --timeout-ms 10000 \
  --isolation-level read_committed --property print.headers=true --property print.value=false \
  2>dead-letter-consumer.log | python3 "$check_py" parse-dead-letters >kafka-dl.txt
check "the dead-letter topic holds each expected dead letter once, nothing else" \
  python3 "$check_py" compare-dead-letters expected-dl.txt kafka-dl.txt
# (c) the job's durable totals
expect_file_eq final.json reference.json
say "done: table $(wc -l <table-rows.csv) rows, $(wc -l <kafka-dl.txt) dead letters read back, summary $(cat final.json 2>/dev/null)"

if ((failed > 0)); then
  for ((n = 1; n < runs; n++)); do show_log "$tmp/run-$n.log" 8; done
fi
finish
