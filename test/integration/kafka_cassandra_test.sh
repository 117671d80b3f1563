#!/usr/bin/env bash
# End to end against the real local stack (Kafka on 127.0.0.1:9092, Cassandra on
# 127.0.0.1:9042, started by the ctest fixture): a generated stream with
# duplicates, late and malformed records goes to a fresh topic through
# `tally produce`; `tally run --available-now` takes it into a fresh Cassandra
# table; the table (read back with cqlsh), the summary and the dead-letter topic
# (read back with Kafka's own console consumer) must equal what the file run of
# the same stream gives, record by record. Then: offsets were committed (a
# second run finds nothing new), SIGTERM stops a running job cleanly, and every
# bad endpoint fails with one clear line.
# Usage: bash kafka_cassandra_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
topic="it_events_$id"
keyspace="it_$id"
kafka="kafka://127.0.0.1:9092"
cassandra="cassandra://127.0.0.1:9042"

# cql_rows TABLE: the table's rows as sorted csv "user,date,count", via cqlsh.
cql_rows() {
  "$stack" cqlsh -e "COPY $1 (user_uuid, created_date, event_count) TO STDOUT WITH HEADER = false" 2>/dev/null |
    tr -d '\r' | grep -E '^[0-9a-f-]{36},' | LC_ALL=C sort
}

# dead_letter_pairs TOPIC EXPECTED_COUNT: "offset reason" of every record in the
# topic, sorted, read with Kafka's console consumer (read_committed).
dead_letter_pairs() {
  "$stack" kafka-console-consumer --topic "$1" --from-beginning --max-messages "$2" --timeout-ms 30000 \
    --isolation-level read_committed --property print.headers=true --property print.value=false 2>/dev/null |
    python3 -c '
import sys
for line in sys.stdin:
    h = {}
    for part in line.rstrip("\n").split(",", 4):
        k, _, v = part.partition(":")
        h[k] = v
    print(h.get("tally.source.offset"), h.get("tally.error.reason"), h.get("tally.source.topic"), h.get("tally.source.partition"))
' | LC_ALL=C sort -n
}

# ---- the pipeline, end to end ----------------------------------------------
gen=(--events 30000 --learners 300 --days 10 --seed 11 --duplicate-ratio 0.05 --late-ratio 0.01
  --invalid-ratio 0.02 --time-format mixed)
expect_exit 0 "$TALLY" generate "${gen[@]}" --output events.jsonl
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:reference.csv --summary reference.json \
  --dead-letter file:reference-dl.jsonl

expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic"
expect_contains "$err" "30,000 acknowledged, 0 failed"

expect_exit 0 "$TALLY" run --source "$kafka/$topic" --group "it_$id" --available-now --state-dir state-it \
  --sink "$cassandra/$keyspace.daily_counts" --summary kafka.json --trigger 1s
expect_file_eq kafka.json reference.json
expect_contains "$err" "to $kafka/$topic.dead-letters"

sorted_rows reference.csv >expected-rows.csv
cql_rows "$keyspace.daily_counts" >table-rows.csv
expect_file_eq table-rows.csv expected-rows.csv

# Fencing: every row's write timestamp is its count, so an older count (a
# replay, a zombie) can never overwrite a newer one.
fenced=$("$stack" cqlsh -e "SELECT event_count, WRITETIME(event_count) FROM $keyspace.daily_counts" 2>/dev/null |
  awk -F'|' 'NF == 2 && $1 ~ /[0-9]/ { n++; if ($1 + 0 != $2 + 0) bad++ } END { print n + 0, bad + 0 }')
expect_eq "$fenced" "$(wc -l <expected-rows.csv) 0" "rows, and rows whose write timestamp is not their count"

# One dead letter per invalid or late line, at offset = line - 1 (one partition).
python3 - reference-dl.jsonl "$topic" >expected-dl.txt <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in sorted(rows, key=lambda r: r["line"]):
    print(r["line"] - 1, r["reason"], sys.argv[2], 0)
PY
dead_letter_pairs "$topic.dead-letters" "$(wc -l <expected-dl.txt)" >kafka-dl.txt
expect_file_eq kafka-dl.txt expected-dl.txt

# The offsets were committed: the same group finds nothing new, and its state
# still holds the stream's totals, each record once.
expect_exit 0 "$TALLY" run --source "$kafka/$topic" --group "it_$id" --available-now --state-dir state-it \
  --sink "$cassandra/$keyspace.daily_counts" --summary again.json
expect_contains "$err" "read 0 records"
expect_contains "$err" "local state is current"
expect_file_eq again.json reference.json
# ...and the table is untouched by the empty run.
cql_rows "$keyspace.daily_counts" >table-rows-again.csv
expect_file_eq table-rows-again.csv expected-rows.csv

# ---- SIGTERM: finish the trigger, commit, exit 0 -------------------------------
expect_exit 0 "$TALLY" produce --to "$kafka/${topic}_live" --events 5000 --seed 5
"$TALLY" run --source "$kafka/${topic}_live" --group "live_$id" --sink "$cassandra/$keyspace.live" \
  --state-dir state-live --trigger 1s >live.out 2>live.err &
pid=$!
# Await the commit of all 5,000 offsets (the job is then idle, not done).
committed=""
for _ in $(seq 1 120); do
  committed=$("$stack" kafka-consumer-groups --describe --group "live_$id" 2>/dev/null |
    awk -v t="${topic}_live" '$2 == t { print $4 }')
  [[ $committed == 5000 ]] && break
  sleep 0.5
done
expect_eq "$committed" 5000 "offset committed by the running job"
kill -TERM "$pid"
wait "$pid"
expect_eq $? 0 "exit status after SIGTERM"
expect_contains live.err "read 5,000 records from $kafka/${topic}_live"

# ---- bad endpoints: one clear line, non-zero exit -------------------------------
expect_exit 1 "$TALLY" run --source "kafka://127.0.0.1:1/$topic" --sink console --startup-wait 0s
expect_contains "$err" "cannot reach Kafka at 127.0.0.1:1"
expect_exit 1 "$TALLY" run --source "$kafka/no_such_topic_$id" --sink console
expect_contains "$err" "topic 'no_such_topic_$id' does not exist on 127.0.0.1:9092"
# A start waits --startup-wait for a server that may be restarting: with 3 s,
# it says so, retries, and then gives up.
expect_exit 1 "$TALLY" run --source "$kafka/$topic" --available-now --sink "cassandra://127.0.0.1:1/$keyspace.t" \
  --startup-wait 3s
expect_contains "$err" "waiting for a server (retrying in 1s, for up to 3s in all)"
expect_contains "$err" "127.0.0.1:1"
"$stack" cqlsh -e "CREATE TABLE $keyspace.wrong_shape (user_uuid uuid PRIMARY KEY, n int)" >/dev/null
expect_exit 1 "$TALLY" run --source "$kafka/$topic" --available-now --sink "$cassandra/$keyspace.wrong_shape"
expect_contains "$err" "the table exists with another shape"
expect_exit 2 "$TALLY" run --source "$kafka/$topic" --kafka no.such.property=1
expect_contains "$err" "no.such.property"
expect_exit 2 "$TALLY" run --source "kafka://127.0.0.1:9092" --sink console
expect_contains "$err" "no topic"
# A state dir of another job, or one that cannot be made: refused before
# anything is written (the table named here must not appear).
expect_exit 1 "$TALLY" run --source "$kafka/$topic" --group "other_$id" --available-now --state-dir state-it \
  --sink "$cassandra/$keyspace.never"
expect_contains "$err" "state dir state-it holds the state of topic '$topic', group 'it_$id'"
expect_contains "$err" "--state-dir"
touch a-file
expect_exit 1 "$TALLY" run --source "$kafka/$topic" --available-now --state-dir a-file/state \
  --sink "$cassandra/$keyspace.never"
expect_contains "$err" "state dir a-file/state"
expect_eq "$("$stack" cqlsh -e "SELECT table_name FROM system_schema.tables WHERE keyspace_name = '$keyspace' AND table_name = 'never'" 2>/dev/null | grep -c never)" 0 "tables made by refused runs"
expect_exit 2 "$TALLY" run --source file:events.jsonl --state-dir state-file --sink console
expect_contains "$err" "--state-dir applies to a Kafka source"
expect_exit 1 "$TALLY" produce --to "kafka://127.0.0.1:1/$topic" --events 10
expect_contains "$err" "cannot reach Kafka at 127.0.0.1:1"

"$stack" cqlsh -e "DROP KEYSPACE IF EXISTS $keyspace" >/dev/null 2>&1 || true
for t in "$topic" "$topic.dead-letters" "it_$id-$topic-changelog" "it_$id-$topic-settings" "${topic}_live" \
  "${topic}_live.dead-letters" "live_$id-${topic}_live-changelog" "live_$id-${topic}_live-settings" \
  "tally-$topic-changelog" "tally-$topic-settings"; do
  "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1 || true
done
finish
