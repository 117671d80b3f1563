#!/usr/bin/env bash
# --state-memory on a Kafka job, against the real local broker (127.0.0.1:9092,
# auto-creating topics with one partition): a job reads half a stream under a
# 16MiB budget and stops (--available-now); more records arrive, among them
# copies of the stream's first events; the job starts again on the same state
# dir with the same budget, so its restore (about 570,000 live dedup entries
# loaded from the local store) goes through the spilling dedup store and
# spills its oldest entries. Its table must equal the file run's of the whole
# stream row by row: a copy the restored state missed would count twice. Then
# a start on a new state dir restores from the changelog alone, under the
# same budget, and finds copies from both halves duplicates. Usage:
# bash state_memory_kafka_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
topic="spill_kafka_$id"
group="spill_kafka_$id"
cleanup() {
  local t
  for t in "$topic" "$topic.dead-letters" "$group-$topic-changelog" "$group-$topic-settings"; do
    "$stack" kafka-topics --delete --topic "$t" >/dev/null 2>&1 || true
  done
}
trap 'cleanup; _on_exit' EXIT

# 1.2M events over 7 days (all live under the default lateness, 7d): the
# dedup state is about 27 MiB at 24 bytes an entry, against a 16MiB budget.
expect_exit 0 "$TALLY" generate --events 1200000 --learners 20000 --days 7 --lateness 7d --invalid-ratio 0 \
  --late-ratio 0 --seed 11 --output events.jsonl
head -n 600000 events.jsonl >first.jsonl
# The second half, and copies of the first 5,000 records: duplicates that only
# the restored (and by then mostly spilled) state knows.
{ tail -n +600001 events.jsonl; head -n 5000 events.jsonl; } >second.jsonl
cat first.jsonl second.jsonl >whole.jsonl
expect_exit 0 "$TALLY" run --source file:whole.jsonl --sink csv:reference.csv
expect_contains "$err" "read 1,205,000 records"
# "1,140,000 counted, 65,000 duplicates": the copies among them.
verdicts=$(grep -o '[0-9,]* counted, [0-9,]* duplicates' "$err")
counted=${verdicts%% counted*}
duplicates=$(sed 's/.* counted, \([0-9,]*\) duplicates/\1/; s/,//g' <<<"$verdicts")
sorted_rows reference.csv >reference-rows.csv

run() {  # run CSV: the job, up to the end of what the topic holds now
  timeout 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now --state-dir state \
    --state-memory 16MiB --sink "csv:$1" --trigger 1s
}
expect_exit 0 "$TALLY" produce --from file:first.jsonl --to "$kafka/$topic"
expect_exit 0 run first.csv
expect_contains "$err" "read 600,000 records"

expect_exit 0 "$TALLY" produce --from file:second.jsonl --to "$kafka/$topic"
expect_exit 0 run second.csv
expect_contains "$err" "partition 0: local state is current"
expect_contains "$err" "read 605,000 records"
expect_contains "$err" "the job's state holds 1,205,000 records: $verdicts"
# A Kafka run's csv holds the rows it changed: the table is the first run's
# rows, each replaced by the second run's where it has one.
python3 - first.csv second.csv >table-rows.csv <<'PY'
import csv, sys
rows = {}
for name in sys.argv[1:]:
    with open(name) as f:
        for row in list(csv.reader(f))[1:]:
            rows[(row[0], row[1])] = row
for key in sorted(rows):
    print(",".join(rows[key]))
PY
LC_ALL=C sort table-rows.csv >table-sorted.csv
expect_file_eq table-sorted.csv reference-rows.csv

# A start on a new state dir restores from the changelog alone, again into
# the budget; copies of records from both halves are all duplicates.
{ head -n 2500 events.jsonl; sed -n 600001,602500p events.jsonl; } >third.jsonl
expect_exit 0 "$TALLY" produce --from file:third.jsonl --to "$kafka/$topic"
expect_exit 0 timeout 120 "$TALLY" run --source "$kafka/$topic" --group "$group" --available-now \
  --state-dir state-anew --state-memory 16MiB --sink csv:third.csv --trigger 1s
expect_contains "$err" "partition 0: restored "
expect_contains "$err" "read 5,000 records"
# 1234567 -> 1,234,567
grouped=$(sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$((duplicates + 5000))")
expect_contains "$err" "the job's state holds 1,210,000 records: $counted counted, $grouped duplicates"

finish
