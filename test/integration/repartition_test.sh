#!/usr/bin/env bash
# The repartition step against the real local broker (127.0.0.1:9092): a
# 3-partition topic written with no keys (a learner's events spread over
# every partition) is counted exactly. tally re-keys each valid record by
# learner into GROUP-TOPIC-repartition (sub-topology 0) and counts from there
# (sub-topology 1): the csv equals the file run of the same stream row by
# row, the summary equals the file run's (each record once, invalid ones
# included), and the dead-letter topic holds each invalid record once, with
# its input partition and offset. Then a second --available-now run of the
# group finds nothing new, and the consumed repartition records are deleted;
# a repartition topic with other partition counts or settings is refused; and
# an input that grows while the job runs is counted whole.
# Usage: bash repartition_test.sh /path/to/tally
stack=$(cd "$(dirname "$0")/../.." && pwd)/scripts/local-stack  # before lib.sh moves to a temporary directory
source "$(dirname "$0")/../cli/lib.sh"

id="$$_$(date +%s)"
kafka="kafka://127.0.0.1:9092"
topic="repart_$id"
group="repart_$id"
trap '"$stack" kafka-topics --delete --topic "repart_$id.*" >/dev/null 2>&1; _on_exit' EXIT

# No record late (the interleaving of input partitions decides nothing).
expect_exit 0 "$TALLY" generate --events 6000 --learners 200 --days 3 --seed 31 --duplicate-ratio 0.05 \
  --late-ratio 0 --invalid-ratio 0.02 --output events.jsonl
expect_exit 0 "$TALLY" run --source file:events.jsonl --sink csv:reference.csv --summary reference.json \
  --dead-letter file:reference-dl.jsonl
sorted_rows reference.csv >reference-rows.csv

expect_exit 0 "$stack" kafka-topics --create --topic "$topic" --partitions 3
expect_exit 0 "$TALLY" produce --from file:events.jsonl --to "$kafka/$topic" --key-field ""

expect_exit 0 timeout 180 "$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state --available-now \
  --sink csv:out.csv --summary out.json --trigger 1s
sorted_rows out.csv >out-rows.csv
expect_file_eq out-rows.csv reference-rows.csv
expect_file_eq out.json reference.json
expect_exit 0 "$stack" kafka-topics --describe --topic "$group-$topic-repartition"
expect_contains "$out" "PartitionCount: 3"

# Each invalid record once in the dead letters, with its input partition
# and offset (distinct pairs), read committed.
invalid=$(wc -l <reference-dl.jsonl)
expect_exit 0 timeout 120 "$stack" kafka-console-consumer --topic "$topic.dead-letters" --from-beginning \
  --max-messages "$invalid" --timeout-ms 30000 --property print.headers=true --property print.value=false \
  --consumer-property isolation.level=read_committed
grep -o 'tally.source.partition:[0-9]*,tally.source.offset:[0-9]*' "$out" | sort -u >dl-origins.txt
expect_eq "$(wc -l <dl-origins.txt)" "$invalid" "distinct dead letters"

# The group committed everything: a second run reads nothing new, and its
# state still holds the totals.
expect_exit 0 timeout 180 "$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state --available-now \
  --sink csv:again.csv --summary again.json
expect_file_eq again.json reference.json

# A different --partitions for the same job is refused.
expect_exit 1 timeout 60 "$TALLY" run --source "$kafka/$topic" --group "$group" --state-dir state2 --available-now \
  --sink csv:other.csv --partitions 5
expect_contains "$err" "repartition topic '$group-$topic-repartition' has 3 partitions"

# A repartition topic made by hand with compaction (which would keep one
# event per learner) is refused, naming what to change.
compacted="${group}_compacted"
expect_exit 0 "$stack" kafka-topics --create --topic "$compacted-$topic-repartition" --partitions 3 \
  --config cleanup.policy=compact
expect_exit 1 timeout 60 "$TALLY" run --source "$kafka/$topic" --group "$compacted" --state-dir state3 \
  --available-now --sink csv:compacted.csv
expect_contains "$err" "repartition topic '$compacted-$topic-repartition' has cleanup.policy=compact"
expect_contains "$err" "cleanup.policy=delete,retention.ms=-1"

# The input grows while a repartitioned job runs: the router takes the new
# partition (from its start) at the next metadata refresh, and the records
# written there are counted like the others. The repartition topic keeps the
# job's partition count (2, the input's at the first start).
grown="${topic}_grown"
ggroup="${group}_grown"
# committed_to_end TOPIC N: the group ggroup has committed, at each of the N
# partitions of TOPIC, its end offset (a partition that never held a record
# counts too).
committed_to_end() {
  "$stack" kafka-consumer-groups --describe --group "$ggroup" 2>/dev/null |
    awk -v t="$1" -v n="$2" '$2 == t && (($4 ~ /^[0-9]+$/ && $4 == $5) || ($4 == "-" && $5 == "0")) { k++ }
      END { exit !(k == n) }'
}
head -n 3000 events.jsonl >first.jsonl
tail -n +3001 events.jsonl >rest.jsonl
expect_exit 0 "$stack" kafka-topics --create --topic "$grown" --partitions 2
expect_exit 0 "$TALLY" produce --from file:first.jsonl --to "$kafka/$grown" --key-field ""
"$TALLY" run --source "$kafka/$grown" --group "$ggroup" --state-dir state-grown --sink csv:grown.csv \
  --trigger 1s >grown.out 2>grown.err &
run=$!
await "the job routes and counts the first part" 90 committed_to_end "$ggroup-$grown-repartition" 2
expect_exit 0 "$stack" kafka-topics --alter --topic "$grown" --partitions 3
# Keyed by learner: a third of the learners hash to the new partition.
expect_exit 0 "$TALLY" produce --from file:rest.jsonl --to "$kafka/$grown"
expect_exit 0 "$stack" kafka-get-offsets --topic "$grown" --partitions 2
check "the new partition holds records" grep -Eq ":2:[1-9]" "$out"
await "the job routes the grown input to its end" 90 committed_to_end "$grown" 3
await "the job counts it to its end" 60 committed_to_end "$ggroup-$grown-repartition" 2
kill -TERM "$run"
wait "$run"
expect_eq $? 0 "exit status of the job after SIGTERM"
sorted_rows grown.csv >grown-rows.csv
expect_file_eq grown-rows.csv reference-rows.csv

finish
