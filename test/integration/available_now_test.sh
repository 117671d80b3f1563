#!/usr/bin/env bash
# --available-now, and the end of a Kafka run, against the real local broker
# (127.0.0.1:9092, auto-creating topics with one partition):
#   1. a member that joins a group whose one partition another member holds
#      (a live consumer that never commits, then stopped with SIGSTOP: a stale
#      member) must not end with 0 records read; it ends once it has read the
#      partition, and its csv then equals the file run's csv row by row (open
#      days included);
#   2. a partition the group has committed to its end counts as done: a run
#      that only waits on another member which processes and commits it ends;
#   3. a SIGTERM during start-up stops the run the documented way (exit 0),
#      and the next run of the group still reads every record;
#   4. dead letters that can never be produced end the run instead of redoing
#      it forever: a letter above the producer's message.max.bytes is cut and
#      keeps the original's size and SHA-256 in headers; a dead-letter topic
#      that neither exists nor can be created fails the start, exit 1.
# Every tally and consumer started here is bounded by `timeout` and killed on
# exit. (`timeout --foreground` for the runs the test signals: without it,
# timeout sends a SIGTERM it gets to the child twice, and tally takes a second
# SIGTERM for "stop now".) Usage: bash available_now_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
pids=()
topics=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -CONT "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null
  done
  for t in "${topics[@]}"; do "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1 || true; done
}
trap 'cleanup; _on_exit' EXIT


# holds GROUP CLIENT: the member with client id CLIENT holds the partition
# (kafka-consumer-groups --members: GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS).
holds() {
  "$stack" kafka-consumer-groups --describe --group "$1" --members 2>/dev/null |
    awk -v c="$2" '$4 == c && $5 == 1 { found = 1 } END { exit !found }'
}
# joined GROUP CLIENT PID: the member CLIENT is in the group without a
# partition, or process PID has ended (so that a run which wrongly ends at
# once is reported by the check after this one, not as a timeout).
joined() {
  kill -0 "$3" 2>/dev/null || return 0
  "$stack" kafka-consumer-groups --describe --group "$1" --members 2>/dev/null |
    awk -v c="$2" '$4 == c && $5 == 0 { found = 1 } END { exit !found }'
}
# committed GROUP TOPIC: the group's committed offset of partition 0.
committed() {
  "$stack" kafka-consumer-groups --describe --group "$1" 2>/dev/null | awk -v t="$2" '$2 == t && $3 == 0 { print $4 }'
}
# holder GROUP TOPIC: a Java consumer in GROUP that takes the topic's
# partition (client ids starting with "aaa" sort before tally's, so the range
# assignor gives it the one partition) and never commits.
# Sets $holder to the pid of its JVM (the tool's wrapper script is its parent:
# a signal for the consumer must reach the JVM itself).
start_holder() {
  timeout 300 "$stack" kafka-console-consumer --topic "$2" --group "$1" --from-beginning \
    --consumer-property client.id=aaa-holder --consumer-property enable.auto.commit=false \
    --consumer-property session.timeout.ms=6000 >/dev/null 2>&1 &
  pids+=("$!")
  holder=""
  await "the holder's JVM starts" 60 find_holder "$1"
  pids+=("$holder")
}
find_holder() { holder=$(pgrep -f -- "java .*ConsoleConsumer.*--group $1( |\$)" | head -n 1); [[ -n $holder ]]; }

expect_exit 0 "$TALLY" generate --events 20000 --learners 200 --days 10 --seed 8 --duplicate-ratio 0.05 \
  --late-ratio 0.01 --invalid-ratio 0.02 --output events.jsonl
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:reference.csv --summary reference.json \
  --dead-letter file:reference-dl.jsonl
sorted_rows reference.csv >reference-rows.csv

# ---- 1. the partition is held by another member, then by a stale one -------
topic="kafka_held_$id"
group="kafka_held_$id"
topics+=("$topic" "$topic.dead-letters" "$group-$topic-changelog")
expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic"
start_holder "$group" "$topic"
await "the holder takes the partition" 60 holds "$group" aaa-holder
timeout --foreground 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now --state-dir state-held \
  --sink csv:held.csv --summary held.json --trigger 1s >held.out 2>held.err &
run=$!
pids+=("$run")
# The run joins; the holder keeps the partition (an empty assignment here).
await "the run joins the group beside the holder" 60 joined "$group" tally "$run"
if kill -0 "$run" 2>/dev/null; then pass; else
  fail "the run ended while another member held the partition: $(tail -c 600 held.err)"
fi
# The holder goes stale (alive for the group until its session times out).
kill -STOP "$holder"
wait "$run"
expect_eq $? 0 "exit status of the run that waited for the partition"
expect_contains held.err "read 20,000 records"
expect_file_eq held.json reference.json
sorted_rows held.csv >held-rows.csv
expect_file_eq held-rows.csv reference-rows.csv
kill -KILL "$holder" 2>/dev/null

# ---- 2. done by the group's commit: another member processed it ------------
topic="kafka_group_$id"
group="kafka_group_$id"
topics+=("$topic" "$topic.dead-letters" "$group-$topic-changelog")
expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic"
start_holder "$group" "$topic"
await "the holder takes the partition" 60 holds "$group" aaa-holder
timeout --foreground 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now --state-dir state-waiter \
  --sink csv:waiter.csv --trigger 1s >waiter.out 2>waiter.err &
waiter=$!
pids+=("$waiter")
await "the run joins the group beside the holder" 60 joined "$group" tally "$waiter"
# A long-running tally joins too, with a client id that sorts before the
# waiting run's: when the holder leaves, it takes the partition, processes
# and commits it. The waiting run is done by the group's commit, not by
# reading.
timeout --foreground 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state-worker --sink csv:worker.csv \
  --trigger 1s --kafka client.id=aaa-worker >worker.out 2>worker.err &
worker=$!
pids+=("$worker")
await "the worker joins the group" 60 joined "$group" aaa-worker "$worker"
kill -TERM "$holder"
wait "$waiter"
expect_eq $? 0 "exit status of the run done by the group's commit"
expect_contains waiter.err "read 0 records"
expect_eq "$(committed "$group" "$topic")" 20000 "offset committed when the waiting run ended"
kill -TERM "$worker"
wait "$worker"
expect_contains worker.err "read 20,000 records"

# ---- 3. SIGTERM during start-up -----------------------------------------------
topic="kafka_term_$id"
group="kafka_term_$id"
topics+=("$topic" "$topic.dead-letters" "$group-$topic-changelog" "kafka_csv_$id-$topic-changelog")
expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic"
# (First, in a group of its own, the plain case: the csv of a Kafka run holds
# the table as it stands, open days included, as the file run's csv does.)
expect_exit 0 timeout 120 "$TALLY" run --source "$kafka/$topic" --group "kafka_csv_$id" --available-now \
  --state-dir state-csv --sink csv:plain.csv --trigger 1s
sorted_rows plain.csv >plain-rows.csv
expect_file_eq plain-rows.csv reference-rows.csv
timeout --foreground 60 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now --state-dir state-term \
  --sink csv:term.csv --trigger 1s >term.out 2>term.err &
term=$!
pids+=("$term")
# Past the signal handler, before anything is read: the state dir is made
# first thing in opening the job (awaited closely: the opening takes longer).
for _ in $(seq 1 1500); do [[ -d state-term ]] && break; sleep 0.02; done
check "SIGTERM reaches the run while it starts" kill -TERM "$term"
wait "$term"
expect_eq $? 0 "exit status of a run stopped during start-up"
expect_exit 0 timeout 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now \
  --state-dir state-term --sink csv:after-term.csv --summary after-term.json --trigger 1s
expect_contains "$err" "the job's state holds 20,000 records"
expect_file_eq after-term.json reference.json

# ---- 4. dead letters that can never be produced ------------------------------
# A record just below --max-record-bytes (1 MiB) but above the producer's
# message.max.bytes (1,000,000): not JSON, so its dead letter is the whole
# record, which no redo can send.
topic="kafka_big_$id"
group="kafka_big_$id"
topics+=("$topic" "$topic.dead-letters" "$group-$topic-changelog")
head -n 100 events.jsonl >big.jsonl
python3 -c 'print("x" * 1040000)' >>big.jsonl
tail -n 100 events.jsonl >>big.jsonl
sha=$(sed -n 101p big.jsonl | tr -d '\n' | sha256sum | cut -d' ' -f1)
expect_exit 0 "$TALLY" run --source file:big.jsonl --sink csv:big-reference.csv --dead-letter file:big-reference-dl.jsonl
letters=$(wc -l <big-reference-dl.jsonl)
expect_exit 0 "$TALLY" produce --from file:big.jsonl --to "$kafka/$topic" --kafka message.max.bytes=2000000
expect_exit 0 timeout 60 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now --state-dir state-big \
  --sink csv:big.csv --trigger 1s
expect_contains "$err" "read 201 records"
"$stack" kafka-console-consumer --topic "$topic.dead-letters" --from-beginning --isolation-level read_committed \
  --max-messages "$letters" --timeout-ms 30000 --property print.headers=true --property print.value=true \
  2>/dev/null | python3 -c '
import sys
for line in sys.stdin:
    headers, _, value = line.rstrip("\n").partition("\t")
    h = dict(p.partition(":")[::2] for p in headers.split(","))
    if h.get("tally.source.offset") != "100":
        continue
    print(h.get("tally.error.reason"), h.get("tally.source.offset"), h.get("tally.record.size"),
          h.get("tally.record.sha256"), len(value) < 1000000, value == "x" * len(value))
' >big-letter.txt
expect_eq "$(cat big-letter.txt)" "not_json 100 1040000 $sha True True" "the cut dead letter"

# A dead-letter topic that does not exist and that the broker will not make
# (its name collides with an existing topic's: '.' and '_' are the same to
# Kafka's metrics): the start fails, naming it.
topic="kafka_nodl_$id"
topics+=("$topic" "kafka.dl.$id" "kafka_nodl_$id-$topic-changelog")
"$stack" kafka-topics --create --topic "kafka.dl.$id" --partitions 1 >/dev/null 2>&1
expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic"
expect_exit 1 timeout 60 "$TALLY" run --source "$kafka/$topic" --group "kafka_nodl_$id" --available-now \
  --state-dir state-nodl --sink csv:nodl.csv --dead-letter "$kafka/kafka_dl_$id"
expect_contains "$err" "dead-letter topic 'kafka_dl_$id' does not exist and cannot be created"
expect_missing nodl.csv

finish
